//! The rules' parameters and the named scenarios.
//!
//! Every field is an integer (per-mille, parts per million, milli-light-years, ticks of a quarter
//! year), so a state evolves identically on every platform. A scenario file is the JSON form of
//! [`Params`]: missing fields take the default scenario's value, unknown fields are refused
//! ([`Params::from_json`]).

use serde::{Deserialize, Serialize};

/// The named scenario presets (see [`Params::scenario`]).
pub const SCENARIOS: &[&str] = &["default", "newman-sagan-1981", "landis-1998", "aurora-2019"];

/// Every tunable of the rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    // ---- ships (DOMAIN.md §7.1: a colony ship makes 0.05 c with 10,000 colonists) ----
    /// Colony ship speed in thousandths of c (50 = 0.05 c).
    pub ship_speed_milli_c: u32,
    /// Furthest jump a colony ship makes, milli-light-years.
    pub ship_range_mly: i64,
    /// Ticks between two launch opportunities of one settlement (counted from its founding).
    pub launch_interval_ticks: u32,
    /// Population a settlement needs before it launches.
    pub launch_min_population: u64,
    /// Fraction of its carrying capacity (per-mille) a settlement must fill before it launches
    /// (0: no such condition; Newman & Sagan: emigration only from crowded worlds).
    pub launch_min_capacity_permille: u16,
    /// Technology level (0..=20) a settlement needs before it launches.
    pub launch_min_tech: u32,
    /// Ships one launch opportunity may send (to the best distinct targets).
    pub ships_per_launch: u32,
    /// Launch opportunities a settlement uses at most (0 = unlimited; Landis: 1).
    pub max_launches: u32,
    /// Per-mille of new settlements that ever launch ships (Landis's P).
    pub colonizer_permille: u16,
    /// Colonists per ship (taken from the launching settlement).
    pub colonists_per_ship: u64,
    /// Per-mille of ships lost in transit.
    pub ship_loss_permille: u16,
    /// Per-mille of systems that can be settled at all (fixed per simulation).
    pub settleable_permille: u16,
    /// Settlement lifetime in ticks (0 = forever; the Aurora effect's T_s).
    pub settlement_lifetime_ticks: u32,
    /// Starting population of the first settlement.
    pub start_population: u64,
    /// Starting technology level of the first settlement (0..=20).
    pub start_tech: u32,

    // ---- growth and economy (DOMAIN.md §7.5 with the fixes of §11.6) ----
    /// Logistic growth rate per tick, per-mille (20 = 2 % a quarter).
    pub growth_permille: u32,
    /// Consumption per 1,000 people per tick in production units, per-mille of one unit
    /// (1000: break-even at technology level 3, whose production multiplier is 1.0).
    pub consumption_permille: u32,
    /// Technology drift per tick in thousandths of a level (plus the same again with a surplus).
    pub tech_drift_milli: u32,

    // ---- trade ----
    /// Furthest trade route, milli-light-years.
    pub trade_range_mly: i64,
    /// Population both ends need before a route opens.
    pub trade_min_population: u64,
    /// Ticks between two route checks of one settlement.
    pub trade_interval_ticks: u32,

    // ---- politics ----
    /// Cohesion (per-mille) lost per light-year of distance from the faction's capital.
    pub cohesion_loss_per_ly: u32,
    /// Cohesion (per-mille) below which a settlement may secede.
    pub split_cohesion_permille: u16,
    /// Chance per tick (ppm) that a settlement below the split cohesion secedes.
    pub split_ppm: u32,
    /// Nearest a seceding settlement can be to its capital, milli-light-years.
    pub split_min_distance_mly: i64,

    // ---- events per settlement per tick (ppm) ----
    pub discovery_ppm: u32,
    pub breakthrough_ppm: u32,
    pub disaster_ppm: u32,
    /// Chance of a conflict with a trade partner of another faction (only with one).
    pub conflict_ppm: u32,
}

impl Default for Params {
    /// The default scenario: ExoMaps' own SFTL expansion over the real systems.
    fn default() -> Self {
        Params {
            ship_speed_milli_c: 50,
            ship_range_mly: 12_000,
            launch_interval_ticks: 40,
            launch_min_population: 50_000_000,
            launch_min_capacity_permille: 0,
            launch_min_tech: 4,
            ships_per_launch: 1,
            max_launches: 0,
            colonizer_permille: 1000,
            colonists_per_ship: 10_000,
            ship_loss_permille: 20,
            settleable_permille: 1000,
            settlement_lifetime_ticks: 0,
            start_population: 10_000_000,
            start_tech: 5,
            growth_permille: 20,
            consumption_permille: 1000,
            tech_drift_milli: 2,
            trade_range_mly: 15_000,
            trade_min_population: 1_000_000,
            trade_interval_ticks: 20,
            cohesion_loss_per_ly: 40,
            split_cohesion_permille: 600,
            split_ppm: 500,
            split_min_distance_mly: 10_000,
            discovery_ppm: 5_000,
            breakthrough_ppm: 1_000,
            disaster_ppm: 500,
            conflict_ppm: 5_000,
        }
    }
}

impl Params {
    /// The preset of a named scenario ([`SCENARIOS`]).
    ///
    /// * `default` — ExoMaps' expansion: 0.05 c colony ships of 10,000 colonists, 12 ly jumps,
    ///   logistic growth to each system's capacity, trade, factions, events.
    /// * `newman-sagan-1981` — diffusion with local logistic growth (Icarus 46:293): slow growth
    ///   (0.5 % a quarter) and emigration only from worlds filled to half their capacity, short
    ///   jumps (7 ly), so only the frontier expands and the front is slow.
    /// * `landis-1998` — percolation (JBIS 51:163): each colony is a colonising one with
    ///   probability P = 0.45 (`colonizer_permille`); a colonising colony sends one ship to every
    ///   free system within range at its first opportunity and never again; below the threshold
    ///   the expansion stops in finite clusters.
    /// * `aurora-2019` — Carroll-Nellenback, Frank, Wright & Scharf (AJ 158:117): slow probes
    ///   (0.01 c), one launch every 100 years, 30 % of systems settleable, settlements that die
    ///   after 1,000 years: a steady state where only part of the volume is settled at once
    ///   (X_eq ≈ 1 − T_l/T_s). Stellar motions are not modelled (the stars are fixed).
    pub fn scenario(name: &str) -> Option<Params> {
        let d = Params::default();
        match name {
            "default" => Some(d),
            "newman-sagan-1981" => Some(Params {
                ship_range_mly: 7_000,
                growth_permille: 5,
                launch_min_capacity_permille: 500,
                launch_min_population: 1_000_000,
                launch_interval_ticks: 80,
                ship_loss_permille: 0,
                ..d
            }),
            "landis-1998" => Some(Params {
                ship_speed_milli_c: 100,
                ship_range_mly: 10_000,
                colonizer_permille: 450,
                ships_per_launch: 1_000,
                max_launches: 1,
                launch_interval_ticks: 20,
                launch_min_population: 100_000,
                colonists_per_ship: 1_000,
                ship_loss_permille: 0,
                growth_permille: 40,
                ..d
            }),
            "aurora-2019" => Some(Params {
                ship_speed_milli_c: 10,
                ship_range_mly: 10_000,
                launch_interval_ticks: 400,
                launch_min_population: 1_000_000,
                settleable_permille: 300,
                settlement_lifetime_ticks: 4_000,
                ship_loss_permille: 0,
                growth_permille: 40,
                ..d
            }),
            _ => None,
        }
    }

    /// Parses a scenario file (JSON): missing fields take the default scenario's values,
    /// unknown fields and out-of-range values are refused with a message naming the field.
    pub fn from_json(text: &str) -> Result<Params, String> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("scenario file: {e}"))?;
        if !v.is_object() {
            return Err("scenario file: expected a JSON object of parameters".into());
        }
        let p: Params = serde_json::from_value(v).map_err(|e| format!("scenario file: {e}"))?;
        p.validate()?;
        Ok(p)
    }

    /// Checks the ranges; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        fn check(ok: bool, msg: &str) -> Result<(), String> {
            if ok { Ok(()) } else { Err(msg.to_string()) }
        }
        // Neighbour lists within a range are kept per world: 30 ly over 11,000 systems in a
        // 100-ly ball is ~300 neighbours each (~50 MB); longer ranges are refused.
        const MAX_RANGE: i64 = 30_000;
        check((1..=999).contains(&self.ship_speed_milli_c), "ship_speed_milli_c must be 1..=999")?;
        check((1..=MAX_RANGE).contains(&self.ship_range_mly), "ship_range_mly must be 1..=30000")?;
        check(self.launch_interval_ticks >= 1, "launch_interval_ticks must be at least 1")?;
        check(self.launch_min_capacity_permille <= 1000, "launch_min_capacity_permille must be 0..=1000")?;
        check(self.launch_min_tech <= 20, "launch_min_tech must be 0..=20")?;
        check((1..=1000).contains(&self.ships_per_launch), "ships_per_launch must be 1..=1000")?;
        check(self.colonizer_permille <= 1000, "colonizer_permille must be 0..=1000")?;
        check((1..=1_000_000_000).contains(&self.colonists_per_ship), "colonists_per_ship must be 1..=1000000000")?;
        check(self.ship_loss_permille <= 1000, "ship_loss_permille must be 0..=1000")?;
        check(self.settleable_permille <= 1000, "settleable_permille must be 0..=1000")?;
        check((1..=1_000_000_000_000).contains(&self.start_population), "start_population must be 1..=1000000000000")?;
        check(self.start_tech <= 20, "start_tech must be 0..=20")?;
        check(self.growth_permille <= 1000, "growth_permille must be 0..=1000")?;
        check(self.consumption_permille <= 100_000, "consumption_permille must be 0..=100000")?;
        check(self.tech_drift_milli <= 1000, "tech_drift_milli must be 0..=1000")?;
        check((0..=MAX_RANGE).contains(&self.trade_range_mly), "trade_range_mly must be 0..=30000")?;
        check(self.trade_interval_ticks >= 1, "trade_interval_ticks must be at least 1")?;
        check(self.cohesion_loss_per_ly <= 1000, "cohesion_loss_per_ly must be 0..=1000")?;
        check(self.split_cohesion_permille <= 1000, "split_cohesion_permille must be 0..=1000")?;
        check((0..=1_000_000).contains(&self.split_min_distance_mly), "split_min_distance_mly must be 0..=1000000")?;
        for (name, v) in [
            ("split_ppm", self.split_ppm),
            ("discovery_ppm", self.discovery_ppm),
            ("breakthrough_ppm", self.breakthrough_ppm),
            ("disaster_ppm", self.disaster_ppm),
            ("conflict_ppm", self.conflict_ppm),
        ] {
            check(v <= 1_000_000, &format!("{name} must be 0..=1000000"))?;
        }
        check(
            self.discovery_ppm as u64
                + self.breakthrough_ppm as u64
                + self.disaster_ppm as u64
                + self.conflict_ppm as u64
                <= 1_000_000,
            "discovery_ppm + breakthrough_ppm + disaster_ppm + conflict_ppm must not exceed 1000000",
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_is_valid_and_distinct() {
        let all: Vec<Params> = SCENARIOS.iter().map(|n| Params::scenario(n).unwrap()).collect();
        for (n, p) in SCENARIOS.iter().zip(&all) {
            p.validate().unwrap_or_else(|e| panic!("{n}: {e}"));
        }
        for i in 0..all.len() {
            for j in i + 1..all.len() {
                assert_ne!(all[i], all[j], "{} = {}", SCENARIOS[i], SCENARIOS[j]);
            }
        }
        assert!(Params::scenario("nope").is_none());
    }

    #[test]
    fn scenario_files_override_defaults_and_refuse_unknown_fields() {
        let p = Params::from_json(r#"{"ship_speed_milli_c": 100, "settleable_permille": 250}"#).unwrap();
        assert_eq!((p.ship_speed_milli_c, p.settleable_permille), (100, 250));
        assert_eq!(p.ship_range_mly, Params::default().ship_range_mly);
        let full = serde_json::to_string(&Params::scenario("aurora-2019").unwrap()).unwrap();
        assert_eq!(Params::from_json(&full).unwrap(), Params::scenario("aurora-2019").unwrap());

        let e = Params::from_json(r#"{"ship_sped": 1}"#).unwrap_err();
        assert!(e.contains("unknown field `ship_sped`"), "{e}");
        let e = Params::from_json(r#"{"ship_speed_milli_c": 1000}"#).unwrap_err();
        assert!(e.contains("ship_speed_milli_c"), "{e}");
        let e = Params::from_json(r#"{"ship_range_mly": -5}"#).unwrap_err();
        assert!(e.contains("ship_range_mly"), "{e}");
        let e = Params::from_json(r#"{"trade_range_mly": 500000}"#).unwrap_err();
        assert!(e.contains("trade_range_mly must be 0..=30000"), "{e}");
        let e = Params::from_json(r#"{"discovery_ppm": 900000, "disaster_ppm": 200000}"#).unwrap_err();
        assert!(e.contains("must not exceed"), "{e}");
        let e = Params::from_json(r#"{"settleable_permille": "all"}"#).unwrap_err();
        assert!(e.contains("settleable_permille") || e.contains("invalid type"), "{e}");
        assert!(Params::from_json("[1,2]").is_err());
    }
}

//! The rules' parameters and the named scenarios.

use serde::{Deserialize, Serialize};

/// The named scenario presets.
pub const SCENARIOS: &[&str] = &["default"];

/// Every tunable of the rules. Integer units so the state stays platform-independent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Colony ship speed in thousandths of c (50 = 0.05 c).
    pub ship_speed_milli_c: u32,
    /// Furthest jump a colony ship makes, milli-light-years.
    pub ship_range_mly: i64,
    /// Ticks between two launches from one settlement.
    pub launch_interval_ticks: u32,
    /// Population a settlement needs before it launches.
    pub launch_min_population: u64,
    /// Colonists per ship.
    pub colonists_per_ship: u64,
    /// Per-mille of systems that can be settled at all.
    pub settleable_permille: u16,
    /// Settlement lifetime in ticks (0 = forever).
    pub settlement_lifetime_ticks: u32,
    /// Starting population of the first settlement.
    pub start_population: u64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            ship_speed_milli_c: 50,
            ship_range_mly: 12_000,
            launch_interval_ticks: 40,
            launch_min_population: 50_000_000,
            colonists_per_ship: 10_000,
            settleable_permille: 1000,
            settlement_lifetime_ticks: 0,
            start_population: 10_000_000,
        }
    }
}

impl Params {
    /// The preset of a named scenario.
    pub fn scenario(name: &str) -> Option<Params> {
        match name {
            "default" => Some(Params::default()),
            _ => None,
        }
    }

    /// Checks the ranges; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.ship_speed_milli_c == 0 || self.ship_speed_milli_c > 999 {
            return Err("ship_speed_milli_c must be 1..=999".into());
        }
        if self.ship_range_mly <= 0 {
            return Err("ship_range_mly must be positive".into());
        }
        if self.settleable_permille > 1000 {
            return Err("settleable_permille must be 0..=1000".into());
        }
        Ok(())
    }
}

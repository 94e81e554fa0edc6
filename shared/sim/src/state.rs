//! The whole state of one simulation. Integers only, ordered maps only: the serialised form and
//! the hash are canonical and identical on every platform.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::world::SysIdx;

/// One settled system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settlement {
    pub system: SysIdx,
    pub population: u64,
    pub faction: u32,
    pub founded_tick: u64,
    /// The tick of its last launch (its founding tick before the first).
    pub last_launch_tick: u64,
    /// The system whose ship founded it (`None` for the first settlement).
    pub parent: Option<SysIdx>,
    /// Technology in thousandths of a level; the level is `tech_milli / 1000` (0..=20).
    pub tech_milli: u32,
    /// Cohesion with its faction, per-mille.
    pub cohesion: u16,
    /// Distance to its faction's capital, milli-light-years.
    pub capital_mly: i64,
    /// This tick's production and consumption (production units).
    pub production: u64,
    pub consumption: u64,
    /// Production − consumption + net imports along its trade routes this tick (signed).
    pub trade_balance: i64,
    /// Launch opportunities used.
    pub launches: u32,
    /// Whether it ever launches ships (Landis's colonising colonies).
    pub colonizer: bool,
    /// Systems it has an open trade route with.
    pub partners: BTreeSet<SysIdx>,
}

impl Settlement {
    /// The technology level 0..=20 (floor of the accumulator).
    pub fn tech_level(&self) -> u32 {
        self.tech_milli / 1000
    }

    /// `max(0, trade_balance)` (DOMAIN.md §7.4's `trade_surplus`).
    pub fn trade_surplus(&self) -> u64 {
        self.trade_balance.max(0) as u64
    }
}

/// A colony ship in flight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ship {
    pub id: u64,
    pub from: SysIdx,
    pub to: SysIdx,
    pub colonists: u64,
    pub faction: u32,
    pub depart_tick: u64,
    pub arrive_tick: u64,
    /// The launching settlement's technology (thousandths of a level).
    pub tech_milli: u32,
}

/// An open trade route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub opened_tick: u64,
    /// Production units carried so far.
    pub carried: u64,
}

/// A political faction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Faction {
    pub id: u32,
    pub name: String,
    pub capital: SysIdx,
    pub parent: Option<u32>,
    pub founded_tick: u64,
}

/// A system whose settlement was abandoned (it can be settled again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ruin {
    pub founded_tick: u64,
    pub abandoned_tick: u64,
}

/// Counts shown in lists and tick summaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub tick: u64,
    pub systems_settled: u64,
    pub total_population: u64,
    pub ships_in_flight: u64,
    pub trade_routes: u64,
    pub factions: u64,
}

/// The whole state. Ordered maps only, so the serialised form and the hash are canonical.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimState {
    /// Ticks completed (0 before the first).
    pub tick: u64,
    /// The randomness seed in force (a fork may change it).
    pub seed: u64,
    /// The seed that fixed which systems are settleable (the first seed; a fork keeps it).
    pub site_seed: u64,
    pub settlements: BTreeMap<SysIdx, Settlement>,
    pub ships: BTreeMap<u64, Ship>,
    /// Open trade routes, (lower, higher) system index. Serialised as a list of pairs.
    #[serde(with = "pair_map")]
    pub routes: BTreeMap<(SysIdx, SysIdx), Route>,
    /// Factions, including those left without settlements.
    pub factions: BTreeMap<u32, Faction>,
    /// Abandoned systems.
    pub ruins: BTreeMap<SysIdx, Ruin>,
    /// Ships that arrived (or were lost) recently, `arrive_tick` = the end: their launcher still
    /// counts their target as taken until light brings the outcome home. Dropped once that news
    /// can have reached anyone within ship range.
    #[serde(default)]
    pub wakes: BTreeMap<u64, Ship>,
    pub next_ship_id: u64,
    pub next_faction_id: u32,
}

mod pair_map {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(m: &BTreeMap<(SysIdx, SysIdx), Route>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(m.iter().map(|((a, b), r)| (a, b, r)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<(SysIdx, SysIdx), Route>, D::Error> {
        let v: Vec<(SysIdx, SysIdx, Route)> = Vec::deserialize(d)?;
        Ok(v.into_iter().map(|(a, b, r)| ((a, b), r)).collect())
    }
}

impl SimState {
    /// An empty state at tick 0.
    pub fn new(seed: u64) -> SimState {
        SimState {
            tick: 0,
            seed,
            site_seed: seed,
            settlements: BTreeMap::new(),
            ships: BTreeMap::new(),
            routes: BTreeMap::new(),
            factions: BTreeMap::new(),
            ruins: BTreeMap::new(),
            wakes: BTreeMap::new(),
            next_ship_id: 1,
            next_faction_id: 1,
        }
    }

    /// Simulated years since the start.
    pub fn simulated_year(&self) -> f64 {
        self.tick as f64 * crate::YEARS_PER_TICK
    }

    /// Counts for lists and tick summaries (`factions`: those holding at least one settlement).
    pub fn summary(&self) -> Summary {
        let live: BTreeSet<u32> = self.settlements.values().map(|s| s.faction).collect();
        Summary {
            tick: self.tick,
            systems_settled: self.settlements.len() as u64,
            total_population: self.settlements.values().map(|s| s.population).sum(),
            ships_in_flight: self.ships.len() as u64,
            trade_routes: self.routes.len() as u64,
            factions: live.len() as u64,
        }
    }

    /// SHA-256 (hex) of the canonical encoding of the whole state (its JSON: every field,
    /// ordered maps, integers only).
    pub fn hash(&self) -> String {
        let bytes = serde_json::to_vec(self).expect("a state always serialises");
        exomaps_domain::hex::sha256_hex(&bytes)
    }
}

//! The whole state of one simulation.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::world::SysIdx;

/// One settled system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settlement {
    pub system: SysIdx,
    pub population: u64,
    pub faction: u32,
    pub founded_tick: u64,
    pub last_launch_tick: u64,
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
}

/// A political faction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Faction {
    pub id: u32,
    pub name: String,
    pub capital: SysIdx,
    pub parent: Option<u32>,
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
    pub settlements: BTreeMap<SysIdx, Settlement>,
    pub ships: BTreeMap<u64, Ship>,
    /// Open trade routes, (lower, higher) system index.
    pub routes: BTreeMap<(SysIdx, SysIdx), u64>,
    pub factions: BTreeMap<u32, Faction>,
    pub next_ship_id: u64,
    pub next_faction_id: u32,
}

impl SimState {
    /// An empty state at tick 0.
    pub fn new(seed: u64) -> SimState {
        SimState {
            tick: 0,
            seed,
            settlements: BTreeMap::new(),
            ships: BTreeMap::new(),
            routes: BTreeMap::new(),
            factions: BTreeMap::new(),
            next_ship_id: 1,
            next_faction_id: 1,
        }
    }

    /// Simulated years since the start.
    pub fn simulated_year(&self) -> f64 {
        self.tick as f64 * crate::YEARS_PER_TICK
    }

    /// Counts for lists and tick summaries.
    pub fn summary(&self) -> Summary {
        Summary {
            tick: self.tick,
            systems_settled: self.settlements.len() as u64,
            total_population: self.settlements.values().map(|s| s.population).sum(),
            ships_in_flight: self.ships.len() as u64,
            trade_routes: self.routes.len() as u64,
            factions: self.factions.len() as u64,
        }
    }

    /// SHA-256 (hex) of the canonical encoding of the whole state.
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.tick.to_le_bytes());
        h.update(self.seed.to_le_bytes());
        for s in self.settlements.values() {
            for v in [s.system as u64, s.population, s.faction as u64, s.founded_tick, s.last_launch_tick] {
                h.update(v.to_le_bytes());
            }
        }
        h.update([0xff]);
        for s in self.ships.values() {
            for v in [s.id, s.from as u64, s.to as u64, s.colonists, s.faction as u64, s.depart_tick, s.arrive_tick] {
                h.update(v.to_le_bytes());
            }
        }
        h.update([0xfe]);
        for ((a, b), t) in &self.routes {
            for v in [*a as u64, *b as u64, *t] {
                h.update(v.to_le_bytes());
            }
        }
        h.update([0xfd]);
        for f in self.factions.values() {
            h.update(f.id.to_le_bytes());
            h.update(f.name.as_bytes());
            h.update([0]);
            h.update(f.capital.to_le_bytes());
            h.update(f.parent.map_or(u64::MAX, |p| p as u64).to_le_bytes());
        }
        h.update(self.next_ship_id.to_le_bytes());
        h.update(self.next_faction_id.to_le_bytes());
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

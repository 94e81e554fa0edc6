//! The world a simulation runs on: the active world build's systems in fixed point.

use serde::{Deserialize, Serialize};

/// Index of a system in [`World::systems`] (sorted by id).
pub type SysIdx = u32;

/// One observed system as the service reads it from the active world build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemInput {
    /// Stable id (the build's `main_id`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// ICRS Cartesian position in parsecs.
    pub pos_pc: [f64; 3],
    /// Spectral class letter of the primary (`O B A F G K M L T Y D`), when known.
    pub spectral_class: Option<char>,
    /// Planets (observed + inferred) whose orbit lies in the habitable zone.
    pub hz_planets: u32,
    /// All planets (observed + inferred).
    pub planets: u32,
    /// Asteroid belts (inferred).
    pub belts: u32,
}

/// One system in the engine's units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorldSystem {
    pub id: String,
    pub name: String,
    /// Position in milli-light-years (integer: identical on every platform).
    pub pos_mly: [i64; 3],
    /// Carrying capacity in people.
    pub capacity: u64,
    /// Habitability 0..=1000 (target choice weight).
    pub habitability: u16,
}

/// The systems of one world build, sorted by id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct World {
    pub systems: Vec<WorldSystem>,
}

const LY_PER_PC: f64 = 3.261_563_777_167_433_6;

impl World {
    /// Builds the engine's world from observed systems (any order; duplicates by id keep the first).
    pub fn build(mut inputs: Vec<SystemInput>) -> World {
        inputs.sort_by(|a, b| a.id.cmp(&b.id));
        inputs.dedup_by(|a, b| a.id == b.id);
        let systems = inputs
            .into_iter()
            .map(|s| {
                let pos_mly = s.pos_pc.map(|c| (c * LY_PER_PC * 1000.0).round() as i64);
                let habitability = (100 + 300 * s.hz_planets.min(3) + 10 * s.planets.min(10)) as u16;
                let capacity = 1_000_000_000u64 * (1 + s.hz_planets as u64) + 10_000_000 * s.belts as u64;
                WorldSystem { id: s.id, name: s.name, pos_mly, capacity, habitability: habitability.min(1000) }
            })
            .collect();
        World { systems }
    }

    /// The index of a system by id.
    pub fn index_of(&self, id: &str) -> Option<SysIdx> {
        self.systems.binary_search_by(|s| s.id.as_str().cmp(id)).ok().map(|i| i as SysIdx)
    }

    /// Distance between two systems in milli-light-years (integer square root).
    pub fn distance_mly(&self, a: SysIdx, b: SysIdx) -> i64 {
        let (p, q) = (&self.systems[a as usize].pos_mly, &self.systems[b as usize].pos_mly);
        let d2: i128 = (0..3).map(|i| ((p[i] - q[i]) as i128).pow(2)).sum();
        isqrt(d2 as u128) as i64
    }
}

/// Integer square root (floor).
pub fn isqrt(n: u128) -> u128 {
    if n < 2 {
        return n;
    }
    let mut x = (n as f64).sqrt() as u128;
    while x * x > n {
        x -= 1;
    }
    while (x + 1) * (x + 1) <= n {
        x += 1;
    }
    x
}

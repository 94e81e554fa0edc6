//! The world a simulation runs on: the active world build's systems in fixed point, and the
//! neighbour lists (within a range) the engine uses instead of all-pairs scans.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

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
    /// Carrying capacity in people (habitable-zone planets, other planets, belts, habitats).
    pub capacity: u64,
    /// Habitability 0..=1000 (target choice weight).
    pub habitability: u16,
    /// Resource richness in per-mille of the standard production (belts and planets raise it).
    #[serde(default = "default_richness")]
    pub richness: u16,
}

fn default_richness() -> u16 {
    1000
}

/// Neighbour lists within one range: for each system, `(other, distance_mly)` sorted by
/// (distance, index). Built with a spatial grid of cell = range (no all-pairs scan).
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbours {
    pub range_mly: i64,
    pub lists: Vec<Vec<(SysIdx, i64)>>,
}

impl Neighbours {
    /// Mean number of neighbours per system.
    pub fn mean_degree(&self) -> f64 {
        if self.lists.is_empty() {
            return 0.0;
        }
        self.lists.iter().map(|l| l.len()).sum::<usize>() as f64 / self.lists.len() as f64
    }
}

/// Per-world cache of neighbour lists by range (derived data: never serialised or compared).
#[derive(Default)]
struct NeighbourCache(Mutex<Vec<Arc<Neighbours>>>);

impl Clone for NeighbourCache {
    fn clone(&self) -> Self {
        NeighbourCache::default()
    }
}
impl PartialEq for NeighbourCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl std::fmt::Debug for NeighbourCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NeighbourCache")
    }
}

/// The systems of one world build, sorted by id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct World {
    pub systems: Vec<WorldSystem>,
    #[serde(skip)]
    cache: NeighbourCache,
}

const LY_PER_PC: f64 = 3.261_563_777_167_433_6;

/// Carrying capacity, habitability and richness of one observed system (DOMAIN.md §7.4 grown
/// toward §7.9: people live on habitable-zone planets, on other worlds and in belt habitats).
fn rate(s: &SystemInput) -> (u64, u16, u16) {
    let class = s.spectral_class.map(|c| c.to_ascii_uppercase());
    let hz = s.hz_planets.min(4) as u64;
    let planets = s.planets.min(12) as u64;
    let belts = s.belts.min(4) as u64;
    let habitats: u64 = match class {
        Some('D' | 'L' | 'T' | 'Y') | None => 20_000_000,
        _ => 50_000_000,
    };
    let capacity = habitats + 2_000_000_000 * hz + 100_000_000 * planets + 200_000_000 * belts;
    let class_bonus: u64 = match class {
        Some('G') => 100,
        Some('K') => 80,
        Some('F') => 50,
        Some('M') => 20,
        _ => 0,
    };
    let habitability = (100 + 250 * hz.min(3) + 15 * planets.min(10) + class_bonus).min(1000) as u16;
    let richness = (700 + 100 * belts.min(3) + 20 * planets.min(10)) as u16;
    (capacity, habitability, richness)
}

impl World {
    /// Builds the engine's world from observed systems (any order; duplicates by id keep the first).
    pub fn build(mut inputs: Vec<SystemInput>) -> World {
        inputs.sort_by(|a, b| a.id.cmp(&b.id));
        inputs.dedup_by(|a, b| a.id == b.id);
        let systems = inputs
            .into_iter()
            .map(|s| {
                let pos_mly = s.pos_pc.map(|c| (c * LY_PER_PC * 1000.0).round() as i64);
                let (capacity, habitability, richness) = rate(&s);
                WorldSystem { id: s.id, name: s.name, pos_mly, capacity, habitability, richness }
            })
            .collect();
        World { systems, cache: NeighbourCache::default() }
    }

    /// The index of a system by id.
    pub fn index_of(&self, id: &str) -> Option<SysIdx> {
        self.systems.binary_search_by(|s| s.id.as_str().cmp(id)).ok().map(|i| i as SysIdx)
    }

    /// Distance between two systems in milli-light-years, rounded UP (so light lags and flight
    /// times computed from it are never shorter than the true ones).
    pub fn distance_mly(&self, a: SysIdx, b: SysIdx) -> i64 {
        let (p, q) = (&self.systems[a as usize].pos_mly, &self.systems[b as usize].pos_mly);
        let d2: i128 = (0..3).map(|i| ((p[i] - q[i]) as i128).pow(2)).sum();
        isqrt_ceil(d2 as u128) as i64
    }

    /// The neighbour lists within `range_mly` (computed once per world and range, then shared).
    pub fn neighbours(&self, range_mly: i64) -> Arc<Neighbours> {
        let mut cache = self.cache.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = cache.iter().find(|n| n.range_mly == range_mly) {
            return n.clone();
        }
        let n = Arc::new(self.compute_neighbours(range_mly));
        if cache.len() >= 8 {
            cache.remove(0);
        }
        cache.push(n.clone());
        n
    }

    fn compute_neighbours(&self, range_mly: i64) -> Neighbours {
        let cell = range_mly.max(1);
        let key = |p: &[i64; 3]| (p[0].div_euclid(cell), p[1].div_euclid(cell), p[2].div_euclid(cell));
        let mut grid: HashMap<(i64, i64, i64), Vec<SysIdx>> = HashMap::new();
        for (i, s) in self.systems.iter().enumerate() {
            grid.entry(key(&s.pos_mly)).or_default().push(i as SysIdx);
        }
        let r2 = (range_mly as i128).pow(2);
        let lists = self
            .systems
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let (cx, cy, cz) = key(&s.pos_mly);
                let mut out = Vec::new();
                for dx in -1..=1 {
                    for dy in -1..=1 {
                        for dz in -1..=1 {
                            let Some(v) = grid.get(&(cx + dx, cy + dy, cz + dz)) else { continue };
                            for &j in v {
                                if j as usize == i {
                                    continue;
                                }
                                let q = &self.systems[j as usize].pos_mly;
                                let d2: i128 = (0..3).map(|k| ((s.pos_mly[k] - q[k]) as i128).pow(2)).sum();
                                if d2 <= r2 {
                                    out.push((j, isqrt_ceil(d2 as u128) as i64));
                                }
                            }
                        }
                    }
                }
                out.sort_unstable_by_key(|&(j, d)| (d, j));
                out
            })
            .collect();
        Neighbours { range_mly, lists }
    }
}

/// Light lag in ticks for a distance: the first whole tick at which light has covered it
/// (ceil(distance_ly / c / years_per_tick)).
pub fn lag_ticks(d_mly: i64) -> u64 {
    // ticks = d_ly * 4 = d_mly * 4 / 1000
    ((d_mly.max(0) as u64) * 4).div_ceil(1000)
}

/// Flight time in ticks at `speed_milli_c` (at least one tick): ceil(distance / speed).
pub fn travel_ticks(d_mly: i64, speed_milli_c: u32) -> u64 {
    ((d_mly.max(0) as u64) * 4).div_ceil(speed_milli_c.max(1) as u64).max(1)
}

/// Integer square root, rounded up.
pub fn isqrt_ceil(n: u128) -> u128 {
    let r = isqrt(n);
    if r * r == n { r } else { r + 1 }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Stream;

    fn sys(id: &str, pos_pc: [f64; 3]) -> SystemInput {
        SystemInput {
            id: id.into(),
            name: id.into(),
            pos_pc,
            spectral_class: Some('G'),
            hz_planets: 1,
            planets: 3,
            belts: 1,
        }
    }

    #[test]
    fn neighbour_lists_equal_a_brute_force_scan() {
        let mut r = Stream::new(1, 0, 0, "field");
        let inputs: Vec<SystemInput> = (0..600)
            .map(|i| {
                let c = [0, 1, 2].map(|_| r.below(60_000) as f64 / 1000.0 - 30.0);
                sys(&format!("S{i:04}"), c)
            })
            .collect();
        let w = World::build(inputs);
        for range in [3_000, 10_000, 25_000] {
            let n = w.neighbours(range);
            for a in 0..w.systems.len() as SysIdx {
                let mut brute: Vec<(SysIdx, i64)> = (0..w.systems.len() as SysIdx)
                    .filter(|&b| b != a)
                    .map(|b| (b, w.distance_mly(a, b)))
                    .filter(|&(_, d)| d <= range)
                    .collect();
                brute.sort_unstable_by_key(|&(j, d)| (d, j));
                assert_eq!(n.lists[a as usize], brute, "range {range}, system {a}");
            }
            assert!(Arc::ptr_eq(&n, &w.neighbours(range)), "cached");
        }
    }

    #[test]
    fn lags_round_up_and_ships_are_slower_than_light() {
        assert_eq!(lag_ticks(0), 0);
        assert_eq!(lag_ticks(1), 1);
        assert_eq!(lag_ticks(4_370), 18); // α Cen: 17.48 ticks → heard at the 18th
        assert_eq!(travel_ticks(4_370, 50), 350); // 87.4 years at 0.05 c
        for d in [1, 999, 4_370, 12_000, 99_999] {
            for v in [1, 50, 150, 999] {
                assert!(travel_ticks(d, v) >= lag_ticks(d));
            }
        }
    }

    #[test]
    fn richer_systems_hold_more_people() {
        let mut a = sys("A", [0.0; 3]);
        let w0 = World::build(vec![a.clone()]);
        a.hz_planets = 2;
        let w1 = World::build(vec![a]);
        assert!(w1.systems[0].capacity > w0.systems[0].capacity);
        assert!(w1.systems[0].habitability > w0.systems[0].habitability);
        assert_eq!(w0.systems[0].pos_mly, [0, 0, 0]);
    }
}

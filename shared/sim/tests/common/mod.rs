//! Shared test helpers: synthetic star fields, the real world from the SIMBAD/exoplanet sources,
//! and runners. Not every test binary uses every helper.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use exomaps_sim::rng::Stream;
use std::collections::BTreeMap;

use exomaps_sim::{Event, EventBody, Params, SimState, SysIdx, SystemInput, World, lag_ticks};

pub const LY_PER_PC: f64 = 3.261_563_777_167_433_6;

/// `n` systems uniform in a ball of `radius_ly` around the origin, plus "Sol" at the origin.
/// Positions are whole milli-light-years (exact through `World::build`).
pub fn uniform_ball(n: usize, radius_ly: f64, seed: u64) -> World {
    let mut r = Stream::new(seed, 0, 0, "field");
    let rad = (radius_ly * 1000.0) as i64;
    let mut inputs = vec![system("Sol", "Sol", [0, 0, 0], 1)];
    while inputs.len() < n {
        let p = [0, 1, 2].map(|_| r.below(2 * rad as u64 + 1) as i64 - rad);
        if (p[0] as i128).pow(2) + (p[1] as i128).pow(2) + (p[2] as i128).pow(2) > (rad as i128).pow(2) {
            continue;
        }
        let i = inputs.len();
        inputs.push(system(&format!("S{i:05}"), &format!("Star {i}"), p, (r.below(3)) as u32));
    }
    World::build(inputs)
}

pub fn system(id: &str, name: &str, pos_mly: [i64; 3], hz: u32) -> SystemInput {
    SystemInput {
        id: id.into(),
        name: name.into(),
        pos_pc: pos_mly.map(|c| c as f64 / 1000.0 / LY_PER_PC),
        spectral_class: Some('K'),
        hz_planets: hz,
        planets: 2 + hz,
        belts: 1,
    }
}

/// The real sources directory (`$EXOMAPS_SOURCES` or `../../../shared/data/sources`), `None`
/// (with a message) when absent; a failure when `CI=true`.
pub fn sources_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("EXOMAPS_SOURCES") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/sources"),
    };
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("source directory {} is missing (CI=true)", dir.display());
    }
    eprintln!("skipping: source directory {} not found (set EXOMAPS_SOURCES)", dir.display());
    None
}

/// The real world within 100 ly: SIMBAD_03 + EXOPLANETS_01x canonicalised by the domain crate,
/// positions from its coordinates, planets observed + inferred (habitable-zone ones counted).
pub fn real_world() -> Option<World> {
    use exomaps_domain::canon::{CanonConfig, canonicalise};
    use exomaps_domain::catalogue::{exoplanets, simbad};
    use exomaps_domain::coords::Icrs;
    use exomaps_domain::inference::{InferenceConfig, StarInput, infer_system};
    let dir = sources_dir()?;
    let s = simbad::parse(&std::fs::read(dir.join("SIMBAD_03.csv")).unwrap()).unwrap();
    let e = exoplanets::parse(&std::fs::read(dir.join("EXOPLANETS_01x.csv")).unwrap()).unwrap();
    let canon = canonicalise(&s.accepted, &e.accepted, &CanonConfig::default());
    let cfg = InferenceConfig { world_seed: 42 };
    let mut inputs = Vec::new();
    for star in &canon.stars {
        let (Some(ra), Some(dec), Some(d)) = (star.ra_deg, star.dec_deg, star.distance_pc) else { continue };
        if star.main_id != "Sol" && (d * LY_PER_PC > 100.0 || d <= 0.0) {
            continue;
        }
        let pos = if star.main_id == "Sol" {
            Icrs { x_pc: 0.0, y_pc: 0.0, z_pc: 0.0 }
        } else {
            Icrs::from_spherical(ra, dec, d)
        };
        let inf = infer_system(&StarInput::from_canon(star), &cfg);
        let hz = &inf.habitable_zone;
        let observed_hz = star
            .planets
            .iter()
            .filter_map(|p| p.semi_major_axis_au)
            .filter(|a| *a >= hz.optimistic_inner_au && *a <= hz.optimistic_outer_au)
            .count() as u32;
        let inferred_hz = inf.planets.iter().filter(|p| p.in_hz).count() as u32;
        inputs.push(SystemInput {
            id: star.main_id.clone(),
            name: star.main_id.clone(),
            pos_pc: [pos.x_pc, pos.y_pc, pos.z_pc],
            spectral_class: star.spectral_class.map(|c| c.letter()),
            hz_planets: observed_hz + inferred_hz,
            planets: (star.planets.len() + inf.planets.len()) as u32,
            belts: inf.belts.len() as u32,
        });
    }
    Some(World::build(inputs))
}

/// Runs `total` ticks in batches of the given sizes (cycled), round-tripping the state through
/// JSON between batches, as the service does through PostgreSQL. Returns the state and events.
pub fn run_batched(
    world: &World,
    params: &Params,
    mut state: SimState,
    total: u64,
    batches: &[u64],
) -> (SimState, Vec<Event>) {
    let mut events = Vec::new();
    let mut done = 0;
    let mut i = 0;
    while done < total {
        let n = batches[i % batches.len()].min(total - done);
        events.extend(exomaps_sim::run(world, params, &mut state, n));
        let json = serde_json::to_string(&state).unwrap();
        state = serde_json::from_str(&json).unwrap();
        done += n;
        i += 1;
    }
    (state, events)
}

/// Every colony founded: (tick, system, parent).
pub fn foundings(events: &[Event]) -> Vec<(u64, SysIdx, SysIdx)> {
    events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::ColonyFounded { system, parent, .. } => Some((e.tick, *system, *parent)),
            _ => None,
        })
        .collect()
}

/// Euclidean distance in light-years from the world's positions (independent of the engine's
/// integer arithmetic).
pub fn dist_ly(w: &World, a: SysIdx, b: SysIdx) -> f64 {
    let (p, q) = (&w.systems[a as usize].pos_mly, &w.systems[b as usize].pos_mly);
    ((0..3).map(|i| ((p[i] - q[i]) as f64).powi(2)).sum::<f64>()).sqrt() / 1000.0
}

/// Checks every causal invariant over one event history; returns how many ships arrived to
/// find their target settled (possible only because the news had not reached their home).
pub fn check_causality(w: &World, p: &Params, events: &[Event]) -> usize {
    let v = p.ship_speed_milli_c as f64 / 1000.0;
    let mut settled: BTreeMap<SysIdx, u64> = BTreeMap::new(); // system → founded tick
    let mut ships: BTreeMap<u64, (SysIdx, SysIdx, u64, u64)> = BTreeMap::new(); // id → (from, to, depart, arrive)
    let mut late_news = 0;
    for e in events {
        let t = e.tick;
        match &e.body {
            EventBody::Started { system, .. } => {
                settled.insert(*system, t);
            }
            EventBody::ShipLaunched { ship, from, to, arrive_tick, .. } => {
                let d = dist_ly(w, *from, *to);
                // No arrival earlier than departure + distance / speed.
                assert!(*arrive_tick as f64 >= t as f64 + d / v * 4.0 - 1e-9, "ship {ship}: {d} ly by {arrive_tick}");
                assert!(d * 1000.0 <= p.ship_range_mly as f64 + 1.0, "ship {ship} beyond range");
                // The target is not one the launcher had heard was settled…
                if let Some(&f) = settled.get(to) {
                    assert!(
                        f + lag_ticks(w.distance_mly(*from, *to)) > t,
                        "ship {ship} sent to {to}, known settled since {f}"
                    );
                }
                // …nor one it had heard a ship was heading for.
                for (id, &(o, dest, dep, _)) in &ships {
                    if dest == *to {
                        assert!(
                            dep + lag_ticks(w.distance_mly(*from, o)) > t,
                            "ship {ship} at {t} sent after ship {id}'s known launch at {dep}"
                        );
                    }
                }
                ships.insert(*ship, (*from, *to, t, *arrive_tick));
            }
            EventBody::ColonyFounded { system, ship, .. } => {
                let (_, to, dep, arr) = ships.remove(ship).expect("a known ship");
                assert_eq!((to, t), (*system, arr), "founded where and when the ship arrives");
                assert!(t > dep);
                assert!(!settled.contains_key(system));
                settled.insert(*system, t);
            }
            EventBody::ShipLost { ship, reason, .. } => {
                let (from, to, dep, arr) = ships.remove(ship).expect("a known ship");
                assert_eq!(t, arr);
                if reason == "target_settled" {
                    let f = settled[&to];
                    assert!(f + lag_ticks(w.distance_mly(from, to)) > dep, "it could not have known");
                    late_news += 1;
                }
            }
            EventBody::TradeRouteOpened { from, to } => {
                let lag = lag_ticks(w.distance_mly(*from, *to));
                assert!(settled[from].max(settled[to]) + lag <= t, "route {from}–{to} before both heard of each other");
                assert!(w.distance_mly(*from, *to) <= p.trade_range_mly);
            }
            EventBody::FactionSplit { capital, systems, .. } => {
                for s in systems {
                    assert!(settled[s] + lag_ticks(w.distance_mly(*capital, *s)) <= t, "{s} joined before news of it");
                }
            }
            EventBody::Abandoned { system, .. } => {
                settled.remove(system);
            }
            _ => {}
        }
    }
    late_news
}

/// A lively variant of the default rules, so 400 ticks exercise every kind of event.
pub fn lively() -> Params {
    Params {
        ship_speed_milli_c: 200,
        launch_min_population: 2_000_000,
        launch_interval_ticks: 8,
        colonists_per_ship: 20_000,
        growth_permille: 60,
        trade_min_population: 100_000,
        trade_interval_ticks: 4,
        split_min_distance_mly: 6_000,
        split_ppm: 20_000,
        cohesion_loss_per_ly: 60,
        conflict_ppm: 60_000,
        disaster_ppm: 3_000,
        ship_loss_permille: 50,
        ..Params::default()
    }
}

//! Physics invariants asserted over real runs: ships never beat distance / speed, settlements
//! act only on news light could have brought, the settlement percolates through a uniform star
//! field above the network threshold and stays a finite cluster below it, and the front is
//! slower than the ships.

mod common;

use std::collections::{BTreeSet, VecDeque};

use common::{check_causality, dist_ly};

use exomaps_sim::{Event, EventBody, Params, SimState, SysIdx, World, init, run, step};

fn lively() -> Params {
    Params {
        ship_speed_milli_c: 150,
        launch_min_population: 1_000_000,
        launch_interval_ticks: 6,
        ships_per_launch: 3,
        colonists_per_ship: 10_000,
        growth_permille: 60,
        trade_min_population: 100_000,
        trade_interval_ticks: 4,
        split_min_distance_mly: 6_000,
        split_ppm: 20_000,
        cohesion_loss_per_ly: 60,
        ship_loss_permille: 30,
        ..Params::default()
    }
}

#[test]
fn ships_and_news_never_beat_light() {
    let w = common::uniform_ball(1500, 40.0, 11);
    let p = lively();
    let mut late = 0;
    let mut lost_to_settled = 0;
    for seed in 1..=3 {
        let (mut s, ev0) = init(&w, &p, seed, w.index_of("Sol").unwrap());
        let events: Vec<Event> = ev0.into_iter().chain(run(&w, &p, &mut s, 700)).collect();
        assert!(s.settlements.len() > 30, "{:?}", s.summary());
        late += check_causality(&w, &p, &events);
        lost_to_settled += events
            .iter()
            .filter(|e| matches!(&e.body, EventBody::ShipLost { reason, .. } if reason == "target_settled"))
            .count();
    }
    // Light lag matters: ships were sent to systems whose colony was founded before launch but
    // whose news had not arrived.
    assert!(late > 0 && late == lost_to_settled, "{late} {lost_to_settled}");
}

#[test]
fn the_default_scenario_keeps_causality_on_the_aurora_and_landis_rules_too() {
    let w = common::uniform_ball(800, 30.0, 5);
    for name in exomaps_sim::SCENARIOS {
        let p = Params { launch_min_population: 200_000, growth_permille: 60, ..Params::scenario(name).unwrap() };
        let (mut s, ev0) = init(&w, &p, 3, w.index_of("Sol").unwrap());
        let events: Vec<Event> = ev0.into_iter().chain(run(&w, &p, &mut s, 1500)).collect();
        check_causality(&w, &p, &events);
        assert!(s.tick == 1500);
    }
}

/// The percolation rules: every settlement keeps launching toward every free neighbour, nothing
/// is lost, nothing dies, so the settlement can reach exactly the network component of its start.
fn percolation(range_mly: i64) -> Params {
    Params {
        ship_speed_milli_c: 500,
        ship_range_mly: range_mly,
        launch_interval_ticks: 4,
        launch_min_population: 20_000,
        launch_min_tech: 0,
        ships_per_launch: 50,
        colonists_per_ship: 1_000,
        ship_loss_permille: 0,
        start_population: 1_000_000,
        growth_permille: 100,
        trade_range_mly: 0,
        split_ppm: 0,
        discovery_ppm: 0,
        breakthrough_ppm: 0,
        disaster_ppm: 0,
        conflict_ppm: 0,
        ..Params::default()
    }
}

/// The range at which the field's measured mean neighbour count is `degree`.
fn range_for_degree(w: &World, degree: f64) -> i64 {
    let (mut lo, mut hi) = (100i64, 50_000i64);
    while hi - lo > 20 {
        let mid = (lo + hi) / 2;
        if w.neighbours(mid).mean_degree() < degree { lo = mid } else { hi = mid }
    }
    hi
}

/// Runs until nothing is in flight for `quiet` ticks; returns (state, ticks).
fn run_to_quiescence(w: &World, p: &Params, seed: u64, start: SysIdx) -> SimState {
    let (mut s, _) = init(w, p, seed, start);
    let mut quiet = 0;
    while quiet < 200 && s.tick < 20_000 {
        step(w, p, &mut s);
        quiet = if s.ships.is_empty() { quiet + 1 } else { 0 };
    }
    s
}

fn component(w: &World, range: i64, start: SysIdx) -> BTreeSet<SysIdx> {
    let nb = w.neighbours(range);
    let mut seen = BTreeSet::from([start]);
    let mut q = VecDeque::from([start]);
    while let Some(a) = q.pop_front() {
        for &(b, _) in &nb.lists[a as usize] {
            if seen.insert(b) {
                q.push_back(b);
            }
        }
    }
    seen
}

#[test]
fn percolation_threshold_on_a_uniform_star_field() {
    // 6,000 systems at the density of 11,000 in a 100-ly ball… ×2.7 (the boundary, where
    // systems have fewer neighbours, is a smaller share of a bigger field).
    let n = 6000;
    for field in [21u64, 22] {
        let w = common::uniform_ball(n, 57.7, field);
        let sol = w.index_of("Sol").unwrap();
        // Above the 3-D threshold (~2.7): spreads through ≥ 90 % of the systems.
        let r4 = range_for_degree(&w, 4.0);
        let s = run_to_quiescence(&w, &percolation(r4), field, sol);
        let settled: BTreeSet<SysIdx> = s.settlements.keys().copied().collect();
        let frac = settled.len() as f64 / n as f64;
        eprintln!("field {field}: mean degree 4.0 at {r4} mly → {:.1} % settled by tick {}", 100.0 * frac, s.tick);
        assert_eq!(settled, component(&w, r4, sol), "the settlement fills exactly its network component");
        assert!(frac >= 0.90, "{frac}");

        // Below it (mean degree 1.5): a finite cluster that stops, even from the best-connected
        // systems of the field.
        let r15 = range_for_degree(&w, 1.5);
        let nb = w.neighbours(r15);
        let mut hubs: Vec<SysIdx> = (0..n as SysIdx).collect();
        hubs.sort_by_key(|&i| (std::cmp::Reverse(component(&w, r15, i).len()), i));
        // The three largest clusters.
        let mut used: BTreeSet<SysIdx> = BTreeSet::new();
        let mut starts = Vec::new();
        for &h in &hubs {
            if starts.len() < 3 && !used.contains(&h) {
                used.extend(component(&w, r15, h));
                starts.push(h);
            }
        }
        for &start in &starts {
            let s = run_to_quiescence(&w, &percolation(r15), field, start);
            let frac = s.settlements.len() as f64 / n as f64;
            eprintln!(
                "field {field}: mean degree 1.5 at {r15} mly, from {start} ({} neighbours) → {} systems, stopped at tick {}",
                nb.lists[start as usize].len(),
                s.settlements.len(),
                s.tick
            );
            assert!(s.ships.is_empty() && s.tick < 20_000, "the expansion stopped");
            assert_eq!(s.settlements.keys().copied().collect::<BTreeSet<_>>(), component(&w, r15, start));
            assert!(s.settlements.len() > 1 && frac < 0.05, "{frac}");
        }
    }
}

#[test]
fn the_front_is_slower_than_the_ships() {
    let w = common::uniform_ball(3000, 60.0, 8);
    let p = Params { launch_min_population: 5_000_000, growth_permille: 40, ..Params::default() };
    let sol = w.index_of("Sol").unwrap();
    let (mut s, _) = init(&w, &p, 1, sol);
    let events = run(&w, &p, &mut s, 4000);
    let v_ly_per_tick = p.ship_speed_milli_c as f64 / 1000.0 / 4.0;
    let founded = common::foundings(&events);
    assert!(founded.len() > 50, "{}", founded.len());
    let mut front = 0.0f64;
    for &(t, sys, _) in &founded {
        let r = dist_ly(&w, sol, sys);
        assert!(r < v_ly_per_tick * t as f64, "{sys} at {r} ly by tick {t}");
        front = front.max(r / (v_ly_per_tick * t as f64));
    }
    // The mean front speed over the run (radius of the farthest colony / time) is a fraction of v.
    let r_max = founded.iter().map(|&(_, sys, _)| dist_ly(&w, sol, sys)).fold(0.0, f64::max);
    let speed = r_max / (s.tick as f64 * v_ly_per_tick);
    eprintln!("front speed {:.3} of ship speed (fastest single colony {:.3})", speed, front);
    assert!(speed < 1.0 && front < 1.0);
}

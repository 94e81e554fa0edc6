//! The default scenario over the real world (SIMBAD_03 + EXOPLANETS_01x within 100 ly, from
//! Sol): colonies at real named stars, trade routes, and a faction split for some seeds.
//! Skips (with a message) without the source files; fails under `CI=true`.

mod common;

use std::collections::BTreeSet;

use exomaps_sim::{Event, EventBody, Params, init, run};

#[test]
fn two_thousand_ticks_from_sol_on_the_real_world() {
    let Some(w) = common::real_world() else { return };
    let sol = w.index_of("Sol").expect("Sol is in the world");
    assert!(w.systems.len() > 1000, "{} systems", w.systems.len());
    let p = Params::default();
    let nearby: BTreeSet<&str> =
        ["Proxima Centauri", "Alpha Centauri A", "Alpha Centauri B", "NAME Barnard's star", "Wolf 359"].into();
    let mut splits = Vec::new();
    for seed in 1..=12u64 {
        let (mut s, ev0) = init(&w, &p, seed, sol);
        let events: Vec<Event> = ev0.into_iter().chain(run(&w, &p, &mut s, 2000)).collect();
        common::check_causality(&w, &p, &events);
        let founded = common::foundings(&events);
        assert!(founded.len() >= 10, "seed {seed}: {:?}", s.summary());
        // Real stars, the nearest first: the first colony is one of Sol's nearest neighbours.
        let first = &w.systems[founded[0].1 as usize];
        assert!(nearby.contains(first.name.as_str()), "seed {seed}: first colony {}", first.name);
        for &(_, sys, _) in &founded {
            let name = &w.systems[sys as usize].name;
            assert!(w.index_of(&w.systems[sys as usize].id) == Some(sys) && !name.is_empty());
        }
        let routes = events.iter().filter(|e| e.kind() == "trade.route.opened").count();
        assert!(routes > 0 && !s.routes.is_empty(), "seed {seed}: no trade");
        for e in &events {
            if let EventBody::FactionSplit { name, capital, systems, .. } = &e.body {
                // Named after its new capital, a real star.
                assert!(
                    name.starts_with(exomaps_sim::engine::display_name(&w.systems[*capital as usize].name)),
                    "{name}"
                );
                assert!(!name.starts_with("NAME ") && !name.starts_with("* "), "{name}");
                assert!(systems.contains(capital));
                splits.push((seed, e.tick, name.clone()));
            }
        }
        eprintln!("seed {seed}: {:?}", s.summary());
    }
    eprintln!("splits: {splits:?}");
    let seeds_with_splits: BTreeSet<u64> = splits.iter().map(|s| s.0).collect();
    assert!(seeds_with_splits.len() >= 3, "faction splits in only {seeds_with_splits:?} of 12 seeds");
}

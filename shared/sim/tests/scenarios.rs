//! The scenarios behave as the models they stand for, and the observer view shows each system
//! as it was distance / c earlier.

mod common;

use std::collections::BTreeMap;

use exomaps_sim::{Event, EventBody, Params, SimState, SysIdx, init, lag_ticks, observer_view, run, step};

#[test]
fn landis_colonies_launch_once_or_never() {
    let w = common::uniform_ball(1500, 35.0, 4);
    let p = Params::scenario("landis-1998").unwrap();
    let (mut s, ev0) = init(&w, &p, 9, w.index_of("Sol").unwrap());
    let events: Vec<Event> = ev0.into_iter().chain(run(&w, &p, &mut s, 1500)).collect();
    common::check_causality(&w, &p, &events);
    let colonies: Vec<bool> = events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::ColonyFounded { colonizer, .. } => Some(*colonizer),
            _ => None,
        })
        .collect();
    assert!(colonies.len() >= 20, "{}", colonies.len());
    let share = colonies.iter().filter(|c| **c).count() as f64 / colonies.len() as f64;
    assert!((0.25..0.65).contains(&share), "colonising share {share} (P = 0.45)");
    // Each launches at one opportunity at most; non-colonising colonies never.
    let mut launch_ticks: BTreeMap<SysIdx, BTreeMap<u64, u32>> = BTreeMap::new();
    for e in &events {
        if let EventBody::ShipLaunched { from, .. } = &e.body {
            *launch_ticks.entry(*from).or_default().entry(e.tick).or_default() += 1;
        }
    }
    for (sys, ticks) in &launch_ticks {
        assert_eq!(ticks.len(), 1, "{sys} launched at {ticks:?}");
        if let Some(st) = s.settlements.get(sys) {
            assert!(st.colonizer && st.launches == 1);
        }
    }
}

#[test]
fn newman_sagan_emigrates_only_from_crowded_worlds() {
    let w = common::uniform_ball(800, 30.0, 2);
    let p = Params { growth_permille: 40, ..Params::scenario("newman-sagan-1981").unwrap() };
    let (mut s, _) = init(&w, &p, 1, w.index_of("Sol").unwrap());
    let mut launches = 0;
    for _ in 0..2500 {
        let evs = step(&w, &p, &mut s);
        let mut per: BTreeMap<SysIdx, u64> = BTreeMap::new();
        for e in &evs {
            if let EventBody::ShipLaunched { from, colonists, .. } = &e.body {
                *per.entry(*from).or_default() += colonists;
            }
        }
        for (from, gone) in per {
            let k = w.systems[from as usize].capacity;
            let before = s.settlements[&from].population + gone;
            assert!(before * 1000 >= k * p.launch_min_capacity_permille as u64, "{from}: {before} of {k}");
            launches += 1;
        }
    }
    assert!(launches > 3, "{launches}");
}

#[test]
fn aurora_settlements_die_and_ruins_are_settled_again() {
    let w = common::uniform_ball(800, 25.0, 6);
    // The Aurora rules, sped up so a test sees several lifetimes.
    let p = Params {
        ship_speed_milli_c: 100,
        launch_interval_ticks: 40,
        settlement_lifetime_ticks: 600,
        launch_min_population: 200_000,
        ..Params::scenario("aurora-2019").unwrap()
    };
    let (mut s, ev0) = init(&w, &p, 2, w.index_of("Sol").unwrap());
    let events: Vec<Event> = ev0.into_iter().chain(run(&w, &p, &mut s, 4000)).collect();
    common::check_causality(&w, &p, &events);
    let mut founded: BTreeMap<SysIdx, u64> = BTreeMap::new();
    let (mut deaths, mut resettled) = (0, 0);
    for e in &events {
        match &e.body {
            EventBody::Started { system, .. } => {
                founded.insert(*system, e.tick);
            }
            EventBody::ColonyFounded { system, .. } => {
                if founded.contains_key(system) {
                    resettled += 1;
                }
                founded.insert(*system, e.tick);
            }
            EventBody::Abandoned { system, reason } if reason == "lifetime" => {
                assert_eq!(e.tick, founded[system] + p.settlement_lifetime_ticks as u64);
                deaths += 1;
            }
            _ => {}
        }
    }
    assert!(deaths > 5 && resettled > 0, "deaths {deaths}, resettled {resettled}");
    // Only a part of the settleable systems is settled at once.
    let settleable = (0..w.systems.len() as SysIdx).filter(|&i| exomaps_sim::settleable(&s, &p, i)).count();
    assert!(s.settlements.len() < settleable, "{} of {settleable}", s.settlements.len());
    assert!((150..=450).contains(&settleable), "30 % of 800: {settleable}");
}

#[test]
fn the_observer_sees_each_system_as_it_was_light_travel_time_ago() {
    let w = common::uniform_ball(500, 25.0, 13);
    let p = Params {
        ship_speed_milli_c: 200,
        launch_min_population: 2_000_000,
        launch_interval_ticks: 8,
        growth_permille: 60,
        settlement_lifetime_ticks: 150,
        ..Params::default()
    };
    let sol = w.index_of("Sol").unwrap();
    let (s0, _) = init(&w, &p, 31, sol);
    let mut states: Vec<SimState> = vec![s0.clone()];
    let mut events = Vec::new();
    let mut s = s0.clone();
    for _ in 0..300 {
        events.extend(step(&w, &p, &mut s));
        states.push(s.clone());
    }
    let ever: std::collections::BTreeSet<SysIdx> =
        states.iter().flat_map(|st| st.settlements.keys().copied()).collect();
    assert!(ever.len() > 10);
    for observer in [sol, *ever.iter().last().unwrap()] {
        for at in [120u64, 300] {
            let view = observer_view(&w, &p, s0.clone(), &events, observer, at);
            let seen: BTreeMap<SysIdx, _> = view.settlements.iter().map(|o| (o.system, o)).collect();
            for &sys in &ever {
                let lag = lag_ticks(w.distance_mly(observer, sys));
                let then = at.checked_sub(lag).map(|t| &states[t as usize]);
                match then.and_then(|st| st.settlements.get(&sys)) {
                    Some(x) => {
                        let o =
                            seen.get(&sys).unwrap_or_else(|| panic!("{sys} missing from {observer}'s view at {at}"));
                        assert_eq!((o.as_of_tick, o.population, o.faction), (at - lag, x.population, x.faction));
                    }
                    None => assert!(!seen.contains_key(&sys), "{sys} seen from {observer} before its light arrived"),
                }
            }
        }
    }
}

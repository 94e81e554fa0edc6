mod common;
use exomaps_sim::*;

#[test]
#[ignore]
fn explore_real() {
    let Some(w) = common::real_world() else { return };
    eprintln!("systems {}", w.systems.len());
    let sol = w.index_of("Sol").unwrap();
    let p = Params::default();
    eprintln!(
        "sol {:?} mean degree ship {:.2} trade {:.2}",
        w.systems[sol as usize],
        w.neighbours(p.ship_range_mly).mean_degree(),
        w.neighbours(p.trade_range_mly).mean_degree()
    );
    for seed in 1..=10 {
        let (mut st, _) = init(&w, &p, seed, sol);
        let t = std::time::Instant::now();
        let ev = run(&w, &p, &mut st, 2000);
        let mut kinds = std::collections::BTreeMap::new();
        for e in &ev {
            *kinds.entry(e.kind()).or_insert(0) += 1;
        }
        eprintln!("seed {seed} {:?} {:?} {:?}", t.elapsed(), st.summary(), kinds);
        let names: Vec<_> =
            common::foundings(&ev).iter().take(8).map(|f| w.systems[f.1 as usize].name.clone()).collect();
        eprintln!("  {names:?} factions {:?}", st.factions.values().map(|f| &f.name).collect::<Vec<_>>());
    }
}

#[test]
#[ignore]
fn explore_synthetic() {
    let w = common::uniform_ball(11_000, 100.0, 1);
    let p = Params::default();
    eprintln!("mean degree {:.2}", w.neighbours(p.ship_range_mly).mean_degree());
    let sol = w.index_of("Sol").unwrap();
    let (mut st, _) = init(&w, &p, 1, sol);
    for k in 0..10 {
        let t = std::time::Instant::now();
        let ev = run(&w, &p, &mut st, 1000);
        eprintln!("{k} {:?} {:?} events {}", t.elapsed(), st.summary(), ev.len());
    }
    eprintln!("json bytes {}", serde_json::to_vec(&st).unwrap().len());
}

#[test]
#[ignore]
fn explore_perc() {
    let w = common::uniform_ball(6000, 57.7, 21);
    let r = 3679;
    let p = Params {
        ship_speed_milli_c: 500,
        ship_range_mly: r,
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
    };
    let (mut s, _) = init(&w, &p, 21, 56);
    let ev = run(&w, &p, &mut s, 700);
    let nb = w.neighbours(r);
    for x in [1571u32, 3220, 3976] {
        eprintln!("{x}: nbrs {:?}", nb.lists[x as usize]);
        for &(y, _) in &nb.lists[x as usize] {
            eprintln!("   {y}: {:?}", s.settlements.get(&y));
        }
    }
    for e in ev.iter().filter(|e| e.kind() != "tick.advanced").take(60) {
        eprintln!("{e:?}");
    }
}

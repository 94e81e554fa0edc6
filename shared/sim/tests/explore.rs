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

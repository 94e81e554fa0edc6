//! Determinism: the golden hash, batching invariance with a serialisation round-trip between
//! batches, replay from events (from the start and from snapshots), forks, and a property test
//! over random seeds and batchings.

mod common;

use exomaps_sim::rng::Stream;
use exomaps_sim::{Event, EventBody, Params, SimState, World, init, replay, run};

fn world() -> World {
    common::uniform_ball(600, 30.0, 7)
}

fn start(world: &World, params: &Params, seed: u64) -> (SimState, Vec<Event>) {
    init(world, params, seed, world.index_of("Sol").unwrap())
}

#[test]
fn golden_hash_after_400_ticks() {
    let (w, p) = (world(), common::lively());
    let (mut s, _) = start(&w, &p, 12345);
    let events = run(&w, &p, &mut s, 400);
    let mut kinds = std::collections::BTreeMap::new();
    for e in &events {
        *kinds.entry(e.kind()).or_insert(0u32) += 1;
    }
    eprintln!("{:?}\n{kinds:?}\n{}", s.summary(), s.hash());
    // The run exercises the whole model, so the hash pins all of it.
    for k in [
        "colony.founded",
        "ship.launched",
        "ship.lost",
        "trade.route.opened",
        "trade.route.closed",
        "faction.split",
        "settlement.discovery",
        "settlement.conflict",
        "settlement.disaster",
    ] {
        assert!(kinds.get(k).is_some_and(|n| *n > 0), "no {k} in the golden run: {kinds:?}");
    }
    assert_eq!(s.hash(), GOLDEN, "the model's behaviour changed: bump MODEL_VERSION and update GOLDEN");
}

const GOLDEN: &str = "4b18ee9565715a787e6ecfdcbabfe1d00851c8d2a76531f5ff317bbf1d9cdc1d";

#[test]
fn batching_does_not_change_the_result() {
    let (w, p) = (world(), common::lively());
    let (s0, _) = start(&w, &p, 99);
    let (one, ev_one) = common::run_batched(&w, &p, s0.clone(), 400, &[400]);
    let (singles, ev_singles) = common::run_batched(&w, &p, s0.clone(), 400, &[1]);
    let (mixed, ev_mixed) = common::run_batched(&w, &p, s0, 400, &[7, 1, 50, 13, 100, 2]);
    assert_eq!(one.hash(), singles.hash());
    assert_eq!(one.hash(), mixed.hash());
    assert_eq!(one, mixed);
    assert_eq!(ev_one, ev_singles);
    assert_eq!(ev_one, ev_mixed);
    assert!(one.settlements.len() > 5, "{:?}", one.summary());
}

#[test]
fn replaying_the_events_reproduces_every_snapshot() {
    let (w, p) = (world(), common::lively());
    let (s0, ev0) = start(&w, &p, 4242);
    // Snapshots every 50 ticks, as the service keeps them.
    let mut snaps = vec![s0.clone()];
    let mut events = Vec::new();
    let mut s = s0.clone();
    for _ in 0..8 {
        events.push(run(&w, &p, &mut s, 50));
        snaps.push(s.clone());
    }
    // From the empty state + sim.started + everything.
    let all: Vec<Event> = ev0.iter().chain(events.iter().flatten()).cloned().collect();
    assert_eq!(replay(&w, &p, SimState::new(4242), &all).hash(), s.hash());
    // From each snapshot (through JSON) to the next one.
    for k in 0..8 {
        let json = serde_json::to_string(&snaps[k]).unwrap();
        let base: SimState = serde_json::from_str(&json).unwrap();
        let events_json = serde_json::to_string(&events[k]).unwrap();
        let evs: Vec<Event> = serde_json::from_str(&events_json).unwrap();
        assert_eq!(replay(&w, &p, base, &evs), snaps[k + 1], "snapshot {k} → {}", k + 1);
    }
}

#[test]
fn a_fork_keeps_the_past_and_its_own_seed_changes_the_future() {
    let (w, p) = (world(), common::lively());
    let (mut s, _) = start(&w, &p, 5);
    run(&w, &p, &mut s, 200);
    let at = s.clone();
    let mut parent = s.clone();
    let parent_events = run(&w, &p, &mut parent, 200);
    let mut fork = at.clone();
    fork.seed = 6;
    let fork_events = run(&w, &p, &mut fork, 200);
    assert_ne!(parent.hash(), fork.hash(), "a new seed changes the future");
    assert_eq!(fork.site_seed, at.site_seed, "which systems are settleable does not change");
    // The fork's own history replays from the fork point.
    let mut base = at.clone();
    base.seed = 6;
    assert_eq!(replay(&w, &p, base, &fork_events), fork);
    assert_eq!(replay(&w, &p, at.clone(), &parent_events), parent);
    // Same seed, other rules after the fork.
    let mut faster = at.clone();
    let p2 = Params { ship_speed_milli_c: 400, ..p.clone() };
    run(&w, &p2, &mut faster, 200);
    assert_ne!(faster.hash(), parent.hash());
}

#[test]
fn events_serialise_as_the_envelope_and_round_trip() {
    let (w, p) = (world(), common::lively());
    let (mut s, ev0) = start(&w, &p, 77);
    let events: Vec<Event> = ev0.into_iter().chain(run(&w, &p, &mut s, 300)).collect();
    let mut seen = std::collections::BTreeSet::new();
    for e in &events {
        let v = serde_json::to_value(&e.body).unwrap();
        assert_eq!(v["event"], e.kind(), "{v}");
        if !matches!(e.body, EventBody::TickAdvanced) {
            assert!(v["payload"].is_object(), "{v}");
        }
        let back: Event = serde_json::from_value(serde_json::to_value(e).unwrap()).unwrap();
        assert_eq!(&back, e);
        seen.insert(e.kind());
    }
    // (tick, seq) is strictly increasing.
    for pair in events.windows(2) {
        assert!((pair[0].tick, pair[0].seq) < (pair[1].tick, pair[1].seq));
    }
    assert!(seen.len() >= 8, "{seen:?}");
    let v =
        serde_json::to_value(events.iter().find(|e| e.kind() == "colony.founded").map(|e| &e.body).unwrap()).unwrap();
    assert!(v["payload"]["system"].is_u64() && v["payload"]["parent"].is_u64(), "{v}");
}

/// Property: for random seeds, batchings and snapshot points, batched = straight and a replay
/// from the snapshot reproduces the end state.
#[test]
fn property_random_seeds_and_batchings() {
    let w = common::uniform_ball(300, 25.0, 3);
    let p = common::lively();
    let mut r = Stream::new(2026, 0, 0, "property");
    for case in 0..12 {
        let seed = r.next_u64();
        let total = r.range(50, 250);
        let batches: Vec<u64> = (0..r.range(1, 5)).map(|_| r.range(1, 60)).collect();
        let (s0, _) = start(&w, &p, seed);
        let (straight, ev) = common::run_batched(&w, &p, s0.clone(), total, &[total]);
        let (batched, ev_b) = common::run_batched(&w, &p, s0.clone(), total, &batches);
        assert_eq!(straight.hash(), batched.hash(), "case {case}: seed {seed}, batches {batches:?}");
        assert_eq!(ev, ev_b);
        let cut = r.range(0, total);
        let (snap, _) = common::run_batched(&w, &p, s0, cut, &[cut.max(1)]);
        let after: Vec<Event> = ev.into_iter().filter(|e| e.tick > cut).collect();
        assert_eq!(replay(&w, &p, snap, &after), straight, "case {case}: replay from tick {cut}");
    }
}

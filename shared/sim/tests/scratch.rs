//! The engine reuses per-thread working tables between steps (sized to the world, reset after
//! each use). Interleaving simulations over different worlds and rules on one thread must give
//! exactly what each gives alone on a fresh thread, and what replaying its events gives.

mod common;

use exomaps_sim::{Params, SimState, World, init, replay, step};

/// The golden run's rules (`common::lively`), with settlements that die too, so systems empty
/// and fill again.
fn lively() -> Params {
    Params { settlement_lifetime_ticks: 150, ..common::lively() }
}

struct Case {
    world: World,
    params: Params,
    seed: u64,
}

fn cases() -> Vec<Case> {
    vec![
        Case { world: common::uniform_ball(600, 30.0, 7), params: lively(), seed: 3 },
        Case { world: common::uniform_ball(150, 20.0, 9), params: lively(), seed: 4 },
        Case {
            world: common::uniform_ball(900, 40.0, 2),
            params: Params { settlement_lifetime_ticks: 0, ..lively() },
            seed: 5,
        },
    ]
}

fn start(c: &Case) -> SimState {
    init(&c.world, &c.params, c.seed, c.world.index_of("Sol").unwrap()).0
}

const TICKS: u64 = 300;

#[test]
fn interleaved_simulations_on_one_thread_equal_each_alone() {
    // Alone, each on a fresh thread (fresh working tables).
    let alone: Vec<String> = (0..3)
        .map(|i| {
            std::thread::spawn(move || {
                let c = &cases()[i];
                let mut s = start(c);
                for _ in 0..TICKS {
                    step(&c.world, &c.params, &mut s);
                }
                s.hash()
            })
            .join()
            .unwrap()
        })
        .collect();
    // Interleaved tick by tick on this thread, keeping the events for a replay.
    let cs = cases();
    let mut states: Vec<SimState> = cs.iter().map(start).collect();
    let firsts = states.clone();
    let mut events = vec![Vec::new(); cs.len()];
    let mut busy = [0usize; 3];
    for _ in 0..TICKS {
        for (i, c) in cs.iter().enumerate() {
            let evs = step(&c.world, &c.params, &mut states[i]);
            busy[i] += evs.len();
            events[i].extend(evs);
        }
    }
    for (i, c) in cs.iter().enumerate() {
        assert!(busy[i] > TICKS as usize + 100, "case {i} did little: {} events", busy[i]);
        assert!(states[i].settlements.len() > 3, "case {i} did not spread: {:?}", states[i].summary());
        assert_eq!(states[i].hash(), alone[i], "case {i}: interleaving changed the result");
        let replayed = replay(&c.world, &c.params, firsts[i].clone(), &events[i]);
        assert_eq!(replayed, states[i], "case {i}: replay differs");
    }
}

//! World Engine benchmark (not a test): `cargo bench -p exomaps-sim` (the bench profile:
//! optimised). std::time (and, for intervals over 0.5 s, the thread's on-CPU time from
//! `/proc/thread-self/schedstat` when there is one, so other processes on a shared machine do
//! not inflate it), medians of 5 runs, one core. Prints a table:
//! * ticks per second of the default scenario from Sol on the real catalogue (when the sources
//!   are present: `$EXOMAPS_SOURCES` or `../../../shared/data/sources`);
//! * 10,000 ticks over a synthetic 11,000-system world (uniform in a 100-ly ball), the goal
//!   being ≤ 1 s; the cost of every 1,000 ticks against the settlements and ships then active;
//! * the same world with one settlement that never launches (the per-tick floor: it must not
//!   grow with the number of systems);
//! * snapshot size (serde_json bytes) per 1,000 settlements;
//! * the settlement front's speed as a fraction of the ship speed.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use exomaps_sim::{Params, SimState, World, init, step};

/// On-CPU time of this thread (Linux `/proc/thread-self/schedstat`), so a loaded machine does
/// not inflate the numbers; wall time elsewhere.
fn cpu_now() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(Duration::from_nanos(s.split_whitespace().next()?.parse().ok()?))
}

/// A stopwatch of on-CPU time when available, else wall time.
struct Watch(Instant, Option<Duration>);

impl Watch {
    fn start() -> Watch {
        Watch(Instant::now(), cpu_now())
    }
    /// On-CPU time for intervals over 0.5 s (the kernel updates it at scheduler ticks, a few
    /// milliseconds apart), wall time for shorter ones.
    fn elapsed(&self) -> Duration {
        let wall = self.0.elapsed();
        match (self.1, cpu_now()) {
            (Some(a), Some(b)) if wall > Duration::from_millis(500) => b - a,
            _ => wall,
        }
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Runs `ticks` from Sol `reps` times; returns the median wall time and the last final state.
fn time_run(w: &World, p: &Params, ticks: u64, reps: usize) -> (Duration, SimState) {
    let sol = w.index_of("Sol").unwrap();
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..reps {
        let (mut s, _) = init(w, p, 1, sol);
        let t = Watch::start();
        for _ in 0..ticks {
            std::hint::black_box(step(w, p, &mut s));
        }
        times.push(t.elapsed());
        last = Some(s);
    }
    (median(times), last.unwrap())
}

fn main() {
    let p = Params::default();
    println!("| measure | value |");
    println!("|---|---|");

    if let Some(w) = common::real_world() {
        w.neighbours(p.ship_range_mly);
        w.neighbours(p.trade_range_mly);
        let (t, s) = time_run(&w, &p, 2000, 5);
        println!(
            "| real catalogue ({} systems), default, 2,000 ticks from Sol | {:.1} ms = {:.0} ticks/s ({} settled, {} ships) |",
            w.systems.len(),
            t.as_secs_f64() * 1e3,
            2000.0 / t.as_secs_f64(),
            s.settlements.len(),
            s.ships.len()
        );
    }

    let w = common::uniform_ball(11_000, 100.0, 1);
    let t = Watch::start();
    let nb = w.neighbours(p.ship_range_mly);
    println!(
        "| synthetic 11,000 systems: neighbour lists within {} ly (grid) | {:.1} ms, mean {:.1} neighbours |",
        p.ship_range_mly / 1000,
        t.elapsed().as_secs_f64() * 1e3,
        nb.mean_degree()
    );
    w.neighbours(p.trade_range_mly);

    // The floor: one settlement, no launches.
    let idle = Params { launch_min_population: u64::MAX, ..p.clone() };
    let (t_idle, _) = time_run(&w, &idle, 10_000, 5);
    let small = common::uniform_ball(1_000, 45.0, 1);
    let (t_small, _) = time_run(&small, &idle, 10_000, 5);
    println!(
        "| 10,000 ticks, one settlement, 11,000 systems / 1,000 systems | {:.1} ms / {:.1} ms |",
        t_idle.as_secs_f64() * 1e3,
        t_small.as_secs_f64() * 1e3
    );

    // The goal: 10,000 ticks over 11,000 systems.
    let (t, s) = time_run(&w, &p, 10_000, 5);
    println!(
        "| synthetic 11,000 systems, default, 10,000 ticks from Sol (median of 5) | {:.2} s = {:.0} ticks/s; end: {} settled, {} ships, {} routes, {} factions |",
        t.as_secs_f64(),
        10_000.0 / t.as_secs_f64(),
        s.settlements.len(),
        s.ships.len(),
        s.routes.len(),
        s.summary().factions
    );
    // Cost per 1,000 ticks against what is active (one run, timed in slices).
    let sol = w.index_of("Sol").unwrap();
    let (mut s, _) = init(&w, &p, 1, sol);
    let mut founded = Vec::new();
    for k in 1..=10 {
        let t = Watch::start();
        for _ in 0..1000 {
            for e in step(&w, &p, &mut s) {
                if let exomaps_sim::EventBody::ColonyFounded { system, .. } = e.body {
                    founded.push((e.tick, system));
                }
            }
        }
        let dt = t.elapsed().as_secs_f64();
        println!(
            "| ticks {}–{}: {} settlements, {} ships at the end | {:.1} µs/tick = {:.2} µs per settlement-tick |",
            (k - 1) * 1000 + 1,
            k * 1000,
            s.settlements.len(),
            s.ships.len(),
            dt * 1e3,
            dt * 1e6 / 1000.0 / s.settlements.len().max(1) as f64
        );
    }
    let bytes = serde_json::to_vec(&s).unwrap().len();
    println!(
        "| snapshot (serde_json) at {} settlements, {} ships, {} routes | {} bytes = {:.0} KB per 1,000 settlements |",
        s.settlements.len(),
        s.ships.len(),
        s.routes.len(),
        bytes,
        bytes as f64 / 1024.0 / s.settlements.len() as f64 * 1000.0
    );
    // Front speed: the farthest colony's distance from Sol over the time it was founded.
    let v = p.ship_speed_milli_c as f64 / 1000.0 / 4.0; // ly per tick
    let mut front_r = 0.0f64;
    let mut best = 0.0f64;
    for &(t, sys) in &founded {
        let r = common::dist_ly(&w, sol, sys);
        front_r = front_r.max(r);
        if t > 2000 {
            best = best.max(front_r / (t as f64 * v));
        }
    }
    println!(
        "| front speed, default scenario (farthest colony {:.1} ly after {} years) | {:.3} of ship speed (max over time {:.3}) |",
        front_r,
        s.tick / 4,
        front_r / (s.tick as f64 * v),
        best
    );
}

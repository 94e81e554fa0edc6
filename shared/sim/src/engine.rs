//! Decide and apply. `step` is the only place randomness is drawn; `apply` is pure bookkeeping,
//! so a state is exactly the fold of its events.

use serde::{Deserialize, Serialize};

use crate::event::{Event, EventBody};
use crate::params::Params;
use crate::rng::Stream;
use crate::state::{Faction, Settlement, Ship, SimState};
use crate::world::{SysIdx, World};

/// Starts a simulation: the first settlement at `start`. Returns the state at tick 0 and the
/// `sim.started` event (tick 0, seq 0), already applied.
pub fn init(world: &World, params: &Params, seed: u64, start: SysIdx) -> (SimState, Vec<Event>) {
    let mut state = SimState::new(seed);
    let ev = Event {
        tick: 0,
        seq: 0,
        body: EventBody::Started {
            system: start,
            population: params.start_population,
            faction: 1,
            faction_name: "United Nations of Earth".into(),
        },
    };
    apply(world, params, &mut state, &ev);
    (state, vec![ev])
}

/// Advances one tick; returns its events (already applied).
pub fn step(world: &World, params: &Params, state: &mut SimState) -> Vec<Event> {
    let tick = state.tick + 1;
    let mut events = vec![Event { tick, seq: 0, body: EventBody::TickAdvanced }];
    apply(world, params, state, &events[0]);
    let mut decided = Vec::new();
    // Arrivals.
    for ship in state.ships.values().filter(|s| s.arrive_tick == tick) {
        if state.settlements.contains_key(&ship.to) {
            decided.push(EventBody::ShipLost { ship: ship.id, to: ship.to });
        } else {
            decided.push(EventBody::ColonyFounded {
                system: ship.to,
                parent: ship.from,
                ship: ship.id,
                population: ship.colonists,
                faction: ship.faction,
            });
        }
    }
    // Launches.
    let mut next_ship = state.next_ship_id;
    let speed = params.ship_speed_milli_c as i64;
    for s in state.settlements.values() {
        if s.population < params.launch_min_population
            || tick < s.last_launch_tick + params.launch_interval_ticks as u64
        {
            continue;
        }
        let mut rng = Stream::new(state.seed, tick, s.system as u64, "launch");
        let mut best: Option<(u64, SysIdx, i64)> = None;
        for (i, _) in world.systems.iter().enumerate() {
            let i = i as SysIdx;
            if state.settlements.contains_key(&i) || state.ships.values().any(|sh| sh.to == i) {
                continue;
            }
            let d = world.distance_mly(s.system, i);
            if d == 0 || d > params.ship_range_mly {
                continue;
            }
            let score = rng.next_u64() % 1000 + (1_000_000_000 / d as u64);
            if best.is_none_or(|b| score > b.0) {
                best = Some((score, i, d));
            }
        }
        if let Some((_, to, d)) = best {
            // ticks = distance_ly / v / years_per_tick = d_mly / speed_milli_c * 4 / 1000 * 1000
            let ticks = ((d * 4) + speed - 1) / speed;
            decided.push(EventBody::ShipLaunched {
                ship: next_ship,
                from: s.system,
                to,
                colonists: params.colonists_per_ship,
                arrive_tick: tick + ticks.max(1) as u64,
            });
            next_ship += 1;
        }
    }
    for (i, body) in decided.into_iter().enumerate() {
        let ev = Event { tick, seq: i as u32 + 1, body };
        apply(world, params, state, &ev);
        events.push(ev);
    }
    events
}

/// Applies one event to the state.
pub fn apply(_world: &World, _params: &Params, state: &mut SimState, ev: &Event) {
    match &ev.body {
        EventBody::TickAdvanced => {
            state.tick = ev.tick;
            for s in state.settlements.values_mut() {
                // Logistic growth, 2 % a quarter toward 1e9, in integers.
                let p = s.population as u128;
                let k = 1_000_000_000u128;
                let growth = p * 2 * k.saturating_sub(p) / (100 * k);
                s.population = (p + growth) as u64;
            }
        }
        EventBody::Started { system, population, faction, faction_name } => {
            state
                .factions
                .insert(*faction, Faction { id: *faction, name: faction_name.clone(), capital: *system, parent: None });
            state.next_faction_id = state.next_faction_id.max(faction + 1);
            state.settlements.insert(
                *system,
                Settlement {
                    system: *system,
                    population: *population,
                    faction: *faction,
                    founded_tick: ev.tick,
                    last_launch_tick: ev.tick,
                },
            );
        }
        EventBody::ShipLaunched { ship, from, to, colonists, arrive_tick } => {
            let faction = state.settlements.get(from).map_or(0, |s| s.faction);
            if let Some(s) = state.settlements.get_mut(from) {
                s.population = s.population.saturating_sub(*colonists);
                s.last_launch_tick = ev.tick;
            }
            state.ships.insert(
                *ship,
                Ship {
                    id: *ship,
                    from: *from,
                    to: *to,
                    colonists: *colonists,
                    faction,
                    depart_tick: ev.tick,
                    arrive_tick: *arrive_tick,
                },
            );
            state.next_ship_id = state.next_ship_id.max(ship + 1);
        }
        EventBody::ColonyFounded { system, ship, population, faction, .. } => {
            state.ships.remove(ship);
            state.settlements.insert(
                *system,
                Settlement {
                    system: *system,
                    population: *population,
                    faction: *faction,
                    founded_tick: ev.tick,
                    last_launch_tick: ev.tick,
                },
            );
        }
        EventBody::ShipLost { ship, .. } => {
            state.ships.remove(ship);
        }
    }
}

/// Folds events (ascending by (tick, seq), all after the snapshot's tick) onto a snapshot.
pub fn replay(world: &World, params: &Params, mut snapshot: SimState, events: &[Event]) -> SimState {
    for ev in events {
        apply(world, params, &mut snapshot, ev);
    }
    snapshot
}

/// Runs `n` ticks; returns every event in order.
pub fn run(world: &World, params: &Params, state: &mut SimState, n: u64) -> Vec<Event> {
    let mut all = Vec::new();
    for _ in 0..n {
        all.extend(step(world, params, state));
    }
    all
}

/// One system as an observer can know it: its state when the light now arriving left it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedSystem {
    pub system: SysIdx,
    /// The tick whose light reaches the observer at the asked tick.
    pub as_of_tick: u64,
    pub population: u64,
    pub faction: u32,
}

/// What an observer at one system can know at a tick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObserverView {
    pub observer: SysIdx,
    pub tick: u64,
    pub settlements: Vec<ObservedSystem>,
}

/// The observer view at `at_tick`: `base` is a snapshot at or before `at_tick − max light lag`
/// (tick 0's state always qualifies) and `events` every event after it up to `at_tick`, ascending.
/// Each settled system appears as it was `distance / c` before `at_tick`.
pub fn observer_view(
    world: &World,
    params: &Params,
    base: SimState,
    events: &[Event],
    observer: SysIdx,
    at_tick: u64,
) -> ObserverView {
    // Light lag in ticks for each system (4 ticks a year; 1 ly = 1000 mly).
    let lag = |s: SysIdx| -> u64 { (world.distance_mly(observer, s) as u64 * 4) / 1000 };
    let mut seen: std::collections::BTreeMap<SysIdx, ObservedSystem> = Default::default();
    let mut state = base;
    let mut i = 0;
    loop {
        for s in state.settlements.values() {
            let l = lag(s.system);
            if state.tick + l <= at_tick {
                seen.insert(
                    s.system,
                    ObservedSystem {
                        system: s.system,
                        as_of_tick: state.tick,
                        population: s.population,
                        faction: s.faction,
                    },
                );
            }
        }
        if state.tick >= at_tick || i >= events.len() {
            break;
        }
        let t = events[i].tick;
        while i < events.len() && events[i].tick == t {
            apply(world, params, &mut state, &events[i]);
            i += 1;
        }
    }
    ObserverView { observer, tick: at_tick, settlements: seen.into_values().collect() }
}

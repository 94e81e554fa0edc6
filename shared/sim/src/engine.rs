//! Decide and apply. `step` is the only place randomness is drawn; `apply` is pure bookkeeping,
//! so a state is exactly the fold of its events.
//!
//! One tick (0.25 year), in this order:
//! 1. `tick.advanced` — economy (production by technology and richness vs consumption, both in
//!    production units), trade along open routes (surplus → deficit), logistic growth toward the
//!    system's capacity (slowed, then reversed, by an uncovered deficit), technology drift
//!    (faster with a surplus), cohesion toward `1000 − loss × ly to the capital + trade bonus`.
//! 2. arrivals (by ship id): lost in transit, `target_settled`, or `colony.founded`;
//! 3. per settlement (ascending system): end of life, one draw for discovery / breakthrough /
//!    disaster / conflict (with a trade partner of another faction), secession;
//! 4. launches at each settlement's launch opportunity, toward targets chosen by distance,
//!    habitability and competition, among systems it does not KNOW to be settled or targeted:
//!    news travels at c, so a colony `d` light-years away is known `d` years after its founding;
//! 5. trade routes open between settlements within range that have heard of each other.
//!
//! Every decision is applied as soon as it is taken (two ships arriving at one system in one
//! tick: the first founds, the second finds it settled).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::event::{Event, EventBody};
use crate::params::Params;
use crate::rng::{self, Stream};
use crate::state::{Faction, Route, Ruin, Settlement, Ship, SimState};
use crate::world::{SysIdx, World, lag_ticks, travel_ticks};

/// Production multiplier per technology level, per-mille (DOMAIN.md §7.5, World Engine table).
const MULT_PERMILLE: [u64; 21] = [
    500, 600, 800, 1000, 1300, 1600, 2000, 2500, 3000, 3600, 4300, 5100, 6000, 7000, 8200, 9500, 11000, 12500, 14500,
    17000, 20000,
];
const TECH_MAX_MILLI: u32 = 20_000;
/// Technology a colony keeps at least (level 3: break-even production), unless its ship had less.
const COLONY_TECH_FLOOR_MILLI: u32 = 3_000;
/// Trade routes one settlement keeps at most.
pub const MAX_PARTNERS: usize = 8;
/// The nearest systems within trade range a settlement considers for a new route.
pub const TRADE_CANDIDATES: usize = 16;
/// A settlement below this population is abandoned.
pub const ABANDON_BELOW: u64 = 100;
/// Cohesion of a new colony and of the members of a new faction, per-mille.
const FRESH_COHESION: u16 = 900;
const FACTION_SUFFIXES: [&str; 8] =
    ["Compact", "Republic", "Union", "Concord", "League", "Free Worlds", "Commonwealth", "Directorate"];
const DISASTERS: [&str; 4] = ["asteroid_impact", "disease_outbreak", "supply_collapse", "equipment_failure"];

/// Whether a system can be settled at all (fixed per simulation by its site seed).
pub fn settleable(state: &SimState, params: &Params, system: SysIdx) -> bool {
    params.settleable_permille >= 1000
        || Stream::new(state.site_seed, 0, system as u64, "settleable")
            .chance_permille(params.settleable_permille as u32)
}

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

struct Tick<'a> {
    world: &'a World,
    params: &'a Params,
    tick: u64,
    /// `rng::tick_key(seed, tick)` (the seed does not change within a step).
    tick_key: u64,
    events: Vec<Event>,
}

impl Tick<'_> {
    fn emit(&mut self, state: &mut SimState, body: EventBody) {
        let ev = Event { tick: self.tick, seq: self.events.len() as u32, body };
        apply(self.world, self.params, state, &ev);
        self.events.push(ev);
    }
}

/// Per-thread working tables sized to the world, reused from tick to tick so that a tick
/// neither allocates nor clears anything per system. They are not state: each is taken out of
/// its thread-local before use and put back only after every entry the tick wrote has been
/// reset to its neutral value (dirty-list clearing), so a table always reads neutral between
/// uses (a panic in between merely drops it; the next use starts afresh).
mod scratch {
    use std::cell::Cell;

    thread_local! {
        pub static BAL: Cell<Vec<i64>> = const { Cell::new(Vec::new()) };
        pub static SLOTS: Cell<Vec<(u32, u32)>> = const { Cell::new(Vec::new()) };
        pub static POP: Cell<Vec<u64>> = const { Cell::new(Vec::new()) };
        pub static HEADS: Cell<Vec<u32>> = const { Cell::new(Vec::new()) };
    }

    /// Takes a table out of `cell`, sized to `n` (entries beyond the old length: `neutral`).
    pub fn take<T: Copy>(cell: &'static std::thread::LocalKey<Cell<Vec<T>>>, n: usize, neutral: T) -> Vec<T> {
        let mut v = cell.take();
        v.resize(n, neutral);
        v
    }
}

/// Dense per-tick copies of what phases 4–5 read about every system (array loads instead of
/// map lookups in the inner loops). Settlements are not created or removed in those phases;
/// a launch changes its settlement's population (`set_pop`). Backed by the thread's scratch
/// tables; `release` resets the entries it wrote and returns them.
struct Dense {
    /// (founding tick of the settlement there, its faction); `NONE`: no settlement.
    slots: Vec<(u32, u32)>,
    /// Population of the settlement there (0: none).
    pop: Vec<u64>,
    /// The systems written (the settled ones).
    written: Vec<SysIdx>,
}

impl Dense {
    const NONE: u32 = u32::MAX;

    fn new(world: &World, state: &SimState) -> Dense {
        let n = world.systems.len();
        let mut slots = scratch::take(&scratch::SLOTS, n, (Dense::NONE, 0));
        let mut pop = scratch::take(&scratch::POP, n, 0);
        let mut written = Vec::with_capacity(state.settlements.len());
        for s in state.settlements.values() {
            slots[s.system as usize] = (s.founded_tick.min(Dense::NONE as u64 - 1) as u32, s.faction);
            pop[s.system as usize] = s.population;
            written.push(s.system);
        }
        Dense { slots, pop, written }
    }

    /// The founding tick of the settlement at `x`, if any.
    #[inline]
    fn founded(&self, x: SysIdx) -> Option<u64> {
        let f = self.slots[x as usize].0;
        (f != Dense::NONE).then_some(f as u64)
    }

    /// Resets the written entries and hands the tables back to the thread.
    fn release(mut self) {
        for &x in &self.written {
            self.slots[x as usize] = (Dense::NONE, 0);
            self.pop[x as usize] = 0;
        }
        scratch::SLOTS.set(self.slots);
        scratch::POP.set(self.pop);
    }
}

/// Whether a settlement believes `x` settled at `tick` (only what light could have told it;
/// `d` = their distance).
fn believed_settled(state: &SimState, dense: &Dense, x: SysIdx, d: i64, tick: u64) -> bool {
    let lag = lag_ticks(d);
    if let Some(f) = dense.founded(x) {
        return f + lag <= tick;
    }
    if let Some(r) = state.ruins.get(&x) {
        return r.founded_tick + lag <= tick && tick < r.abandoned_tick + lag;
    }
    false
}

/// Advances one tick; returns its events (already applied).
pub fn step(world: &World, params: &Params, state: &mut SimState) -> Vec<Event> {
    let tick = state.tick + 1;
    let mut t = Tick { world, params, tick, tick_key: rng::tick_key(state.seed, tick), events: Vec::new() };
    // 1. `tick.advanced` (what `apply` does with it, also picking phase 3–5's settlements).
    let ev = Event { tick, seq: 0, body: EventBody::TickAdvanced };
    let mut picks = Picks::new(params, state.seed, tick);
    advance_tick(world, params, state, tick, Some(&mut picks));
    t.events.push(ev);

    // 2. Arrivals.
    let mut founded: Vec<SysIdx> = Vec::new();
    let arriving: Vec<u64> = state.ships.values().filter(|s| s.arrive_tick <= tick).map(|s| s.id).collect();
    for id in arriving {
        let ship = &state.ships[&id];
        let mut rng = Stream::new(state.seed, tick, id, "arrival");
        let body = if rng.chance_permille(params.ship_loss_permille as u32) {
            EventBody::ShipLost { ship: id, to: ship.to, reason: "lost_in_transit".into() }
        } else if state.settlements.contains_key(&ship.to) {
            EventBody::ShipLost { ship: id, to: ship.to, reason: "target_settled".into() }
        } else {
            EventBody::ColonyFounded {
                system: ship.to,
                parent: ship.from,
                ship: id,
                population: ship.colonists,
                faction: ship.faction,
                colonizer: rng.chance_permille(params.colonizer_permille as u32),
            }
        };
        if let EventBody::ColonyFounded { system, .. } = body {
            founded.push(system);
        }
        t.emit(state, body);
    }

    // 3. Per settlement: end of life, events, secession. The settlements where something can
    //    happen were picked during `tick.advanced`'s growth pass (no settlement changes between
    //    it and here but those the arrivals founded, picked now); the same pure draws are taken
    //    again when acting on them. That pass also picked the launch opportunities (phase 4) and
    //    route checks (phase 5); those phases re-read what they use and skip the abandoned.
    let Picks { mut busy, launchers, checkers, lifetime, .. } = picks;
    if !founded.is_empty() {
        let mut extra = Picks::new(params, state.seed, tick);
        for sys in founded {
            if let Some(s) = state.settlements.get(&sys) {
                extra.pick(world, params, s);
            }
        }
        busy.extend(extra.busy);
        busy.sort_unstable();
    }
    for (sys, hit) in busy {
        let Some((founded_tick, pop)) = state.settlements.get(&sys).map(|s| (s.founded_tick, s.population)) else {
            continue;
        };
        if lifetime > 0 && tick >= founded_tick + lifetime {
            abandon(&mut t, state, sys, "lifetime");
            continue;
        }
        // (Its events draw missed: `settlement_events` would emit nothing.)
        if hit {
            settlement_events(&mut t, state, sys);
        }
        // (Without events here, its population is the one just read: one lookup fewer.)
        let pop = if hit { state.settlements.get(&sys).map(|s| s.population) } else { Some(pop) };
        if pop.is_some_and(|pop| pop < ABANDON_BELOW) {
            abandon(&mut t, state, sys, "depopulated");
            continue;
        }
        maybe_split(&mut t, state, sys);
    }

    // 4. Launches; 5. trade routes.
    let mut dense = None;
    launches(&mut t, state, launchers, &mut dense);
    open_routes(&mut t, state, checkers, &mut dense);
    if let Some(dn) = dense {
        dn.release();
    }

    t.events
}

fn abandon(t: &mut Tick, state: &mut SimState, sys: SysIdx, reason: &str) {
    let partners: Vec<SysIdx> = state.settlements[&sys].partners.iter().copied().collect();
    for p in partners {
        t.emit(state, EventBody::TradeRouteClosed { from: sys, to: p, reason: "abandoned".into() });
    }
    t.emit(state, EventBody::Abandoned { system: sys, reason: reason.into() });
}

fn settlement_events(t: &mut Tick, state: &mut SimState, sys: SysIdx) {
    let p = t.params;
    let mut rng = Stream::new(state.seed, t.tick, sys as u64, "events");
    let r = rng.below(1_000_000);
    let s = &state.settlements[&sys];
    let mut edge = p.discovery_ppm as u64;
    if r < edge {
        let gain = 1000;
        t.emit(state, EventBody::Discovery { system: sys, tech_milli: gain });
        return;
    }
    edge += p.breakthrough_ppm as u64;
    if r < edge {
        t.emit(state, EventBody::TechBreakthrough { system: sys, tech_milli: 2000 });
        return;
    }
    edge += p.disaster_ppm as u64;
    if r < edge {
        let kind = DISASTERS[rng.below(DISASTERS.len() as u64) as usize];
        let permille = rng.range(20, 400);
        let deaths = (s.population as u128 * permille as u128 / 1000) as u64;
        t.emit(state, EventBody::Disaster { system: sys, kind: kind.into(), deaths });
        return;
    }
    edge += p.conflict_ppm as u64;
    if r < edge {
        // With a trade partner of another faction (the first such, by system).
        let other =
            s.partners.iter().copied().find(|o| state.settlements.get(o).is_some_and(|x| x.faction != s.faction));
        if let Some(other) = other {
            let deaths = s.population / 100;
            t.emit(state, EventBody::Conflict { system: sys, other, deaths, cohesion_loss: 50 });
            t.emit(state, EventBody::TradeRouteClosed { from: sys, to: other, reason: "conflict".into() });
        }
    }
}

fn maybe_split(t: &mut Tick, state: &mut SimState, sys: SysIdx) {
    let p = t.params;
    let s = &state.settlements[&sys];
    // (All pure tests: the cheap ones first, the faction lookup last.)
    const SPLIT: u64 = rng::name_key("split");
    if s.cohesion >= p.split_cohesion_permille
        || s.capital_mly < p.split_min_distance_mly
        || !Stream::keyed(t.tick_key, sys as u64, SPLIT).chance_ppm(p.split_ppm)
    {
        return;
    }
    let Some(faction) = state.factions.get(&s.faction) else { return };
    if faction.capital == sys {
        return;
    }
    let old_capital = faction.capital;
    // The members it has heard of that lie nearer to it than to the old capital.
    let members: Vec<SysIdx> = state
        .settlements
        .values()
        .filter(|x| x.faction == s.faction)
        .filter(|x| {
            let d = t.world.distance_mly(sys, x.system);
            x.system == sys
                || (x.founded_tick + lag_ticks(d) <= t.tick && d < t.world.distance_mly(old_capital, x.system))
        })
        .map(|x| x.system)
        .collect();
    let mut rng = Stream::new(state.seed, t.tick, sys as u64, "faction-name");
    let base = format!(
        "{} {}",
        display_name(&t.world.systems[sys as usize].name),
        FACTION_SUFFIXES[rng.below(FACTION_SUFFIXES.len() as u64) as usize]
    );
    let taken = |n: &str| state.factions.values().any(|f| f.name == n);
    let mut name = base.clone();
    let mut k = 2;
    while taken(&name) {
        name = format!("{base} {k}");
        k += 1;
    }
    let body = EventBody::FactionSplit {
        parent: s.faction,
        child: state.next_faction_id,
        name,
        capital: sys,
        systems: members,
    };
    t.emit(state, body);
}

/// A star's name without SIMBAD's catalogue prefixes (`NAME `, `* `, `V* `).
pub fn display_name(name: &str) -> &str {
    let mut n = name.trim();
    for prefix in ["NAME ", "* ", "V* "] {
        if let Some(rest) = n.strip_prefix(prefix) {
            n = rest.trim_start();
        }
    }
    n
}

fn launches(t: &mut Tick, state: &mut SimState, launchers: Vec<SysIdx>, dense: &mut Option<Dense>) {
    let (p, world, tick) = (t.params, t.world, t.tick);
    if launchers.is_empty() {
        return;
    }
    let dn = dense.get_or_insert_with(|| Dense::new(world, state));
    let nb = world.neighbours(p.ship_range_mly);
    // Ships in flight and wakes, by target; built when first needed.
    let mut inbound: Option<Inbound> = None;
    for s in launchers {
        let Some((pop, faction)) = state.settlements.get(&s).map(|x| (x.population, x.faction)) else { continue };
        let max_ships = ((pop - 1) / p.colonists_per_ship.max(1)).saturating_sub(1).min(p.ships_per_launch as u64);
        if max_ships == 0 {
            continue;
        }
        let mut rng = Stream::new(state.seed, tick, s as u64, "launch");
        let mut scored: Vec<(u64, SysIdx, i64)> = Vec::new();
        for &(c, d) in &nb.lists[s as usize] {
            if believed_settled(state, dn, c, d, tick) || !settleable(state, p, c) {
                continue;
            }
            let ib = inbound.get_or_insert_with(|| Inbound::new(world, state));
            // Targeted, as far as it knows: it has heard of the launch, not yet of the outcome.
            let targeted = ib.any(c, |from, dep, end| {
                dep + lag_ticks(world.distance_mly(s, from)) <= tick
                    && (end == u64::MAX || end.saturating_add(lag_ticks(d)) > tick)
            });
            if targeted {
                continue;
            }
            // Competition: settlements of other factions it knows near the target.
            let rivals = nb.lists[c as usize]
                .iter()
                .filter(|&&(x, dx)| {
                    let xi = x as usize;
                    dx <= p.trade_range_mly
                        && x != s
                        && dn.slots[xi].1 != faction
                        && dn.founded(x).is_some_and(|f| f + lag_ticks(world.distance_mly(s, x)) <= tick)
                })
                .count() as u64;
            let hab = world.systems[c as usize].habitability as u64;
            let mut score = (hab + 200) * 1_000_000 / (d.max(0) as u64 + 2_000);
            score = score * 1000 / (1000 + 500 * rivals);
            score = score * rng.range(850, 1150) / 1000;
            scored.push((score, c, d));
        }
        scored.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for &(_, c, d) in scored.iter().take(max_ships as usize) {
            let ship = state.next_ship_id;
            let body = EventBody::ShipLaunched {
                ship,
                from: s,
                to: c,
                colonists: p.colonists_per_ship,
                arrive_tick: tick + travel_ticks(d, p.ship_speed_milli_c),
            };
            t.emit(state, body);
            if let Some(ib) = inbound.as_mut() {
                ib.push(c, s, tick, u64::MAX);
            }
        }
        if let Some(x) = state.settlements.get(&s) {
            dn.pop[s as usize] = x.population;
        }
    }
    if let Some(ib) = inbound {
        ib.release();
    }
}

/// Ships in flight (`end` = `u64::MAX`) and wakes as (origin, departure, end), chained by
/// target through a per-system head table (the thread's scratch; `release` resets it). A
/// target's chain is visited in any order: only `any` is asked.
struct Inbound {
    heads: Vec<u32>,
    /// (target, origin, departure, end, next in the target's chain).
    entries: Vec<(SysIdx, SysIdx, u64, u64, u32)>,
}

impl Inbound {
    const NONE: u32 = u32::MAX;

    fn new(world: &World, state: &SimState) -> Inbound {
        let heads = scratch::take(&scratch::HEADS, world.systems.len(), Inbound::NONE);
        let mut ib = Inbound { heads, entries: Vec::with_capacity(state.ships.len() + state.wakes.len() + 16) };
        for sh in state.ships.values() {
            ib.push(sh.to, sh.from, sh.depart_tick, u64::MAX);
        }
        for sh in state.wakes.values() {
            ib.push(sh.to, sh.from, sh.depart_tick, sh.arrive_tick);
        }
        ib
    }

    fn push(&mut self, to: SysIdx, from: SysIdx, dep: u64, end: u64) {
        let at = self.entries.len() as u32;
        self.entries.push((to, from, dep, end, self.heads[to as usize]));
        self.heads[to as usize] = at;
    }

    /// Whether any ship or wake toward `to` satisfies `f(origin, departure, end)`.
    fn any(&self, to: SysIdx, mut f: impl FnMut(SysIdx, u64, u64) -> bool) -> bool {
        let mut i = self.heads[to as usize];
        while i != Inbound::NONE {
            let (_, from, dep, end, next) = self.entries[i as usize];
            if f(from, dep, end) {
                return true;
            }
            i = next;
        }
        false
    }

    fn release(mut self) {
        for &(to, ..) in &self.entries {
            self.heads[to as usize] = Inbound::NONE;
        }
        scratch::HEADS.set(self.heads);
    }
}

fn open_routes(t: &mut Tick, state: &mut SimState, checkers: Vec<SysIdx>, dense: &mut Option<Dense>) {
    let (p, world, tick) = (t.params, t.world, t.tick);
    if checkers.is_empty() {
        return;
    }
    let dn = dense.get_or_insert_with(|| Dense::new(world, state));
    let nb = world.neighbours(p.trade_range_mly);
    for a in checkers {
        let mut open: Vec<SysIdx> = Vec::new();
        {
            let Some(sa) = state.settlements.get(&a) else { continue };
            let room = MAX_PARTNERS.saturating_sub(sa.partners.len());
            // The nearest candidates only; both ends must have heard of each other.
            for &(b, d) in nb.lists[a as usize].iter().take(TRADE_CANDIDATES) {
                let Some(fb) = dn.founded(b) else { continue };
                if sa.founded_tick.max(fb) + lag_ticks(d) > tick || sa.partners.contains(&b) {
                    continue;
                }
                // (`b` is settled: it has a founding tick; `pop` follows this tick's launches.)
                if dn.pop[b as usize] < p.trade_min_population {
                    continue;
                }
                open.push(b);
                if open.len() >= room {
                    break;
                }
            }
        }
        for b in open {
            if state.settlements[&b].partners.len() < MAX_PARTNERS
                && state.settlements[&a].partners.len() < MAX_PARTNERS
            {
                t.emit(state, EventBody::TradeRouteOpened { from: a, to: b });
            }
        }
    }
}

/// Moves a faction's capital to its most populous remaining settlement (ties: lower system) and
/// recomputes its members' distances to it.
fn relocate_capital(world: &World, state: &mut SimState, faction: u32) {
    let best = state
        .settlements
        .values()
        .filter(|s| s.faction == faction)
        .max_by(|a, b| a.population.cmp(&b.population).then(b.system.cmp(&a.system)))
        .map(|s| s.system);
    if let Some(cap) = best {
        if let Some(f) = state.factions.get_mut(&faction) {
            f.capital = cap;
        }
        for s in state.settlements.values_mut().filter(|s| s.faction == faction) {
            s.capital_mly = world.distance_mly(cap, s.system);
        }
    }
}

fn new_settlement(system: SysIdx, population: u64, faction: u32, tick: u64, parent: Option<SysIdx>) -> Settlement {
    Settlement {
        system,
        population,
        faction,
        founded_tick: tick,
        last_launch_tick: tick,
        parent,
        tech_milli: 0,
        cohesion: FRESH_COHESION,
        capital_mly: 0,
        production: 0,
        consumption: 0,
        trade_balance: 0,
        launches: 0,
        colonizer: true,
        partners: Default::default(),
    }
}

/// Applies `tick.advanced` at `tick`; `picks`: also pick phase 3–5's settlements (`step`).
fn advance_tick(world: &World, params: &Params, state: &mut SimState, tick: u64, picks: Option<&mut Picks>) {
    state.tick = tick;
    let keep = lag_ticks(params.ship_range_mly);
    state.wakes.retain(|_, w| w.arrive_tick + keep >= tick);
    advance(world, params, state, picks);
}

/// The settlements phases 3–5 act on this tick, picked from their state after the advance.
struct Picks {
    /// (system, whether its events draw hit) where something can happen in phase 3.
    busy: Vec<(SysIdx, bool)>,
    launchers: Vec<SysIdx>,
    checkers: Vec<SysIdx>,
    tick: u64,
    tick_key: u64,
    event_ppm: u64,
    lifetime: u64,
    interval: u64,
    trade_interval: u64,
}

impl Picks {
    fn new(params: &Params, seed: u64, tick: u64) -> Picks {
        Picks {
            busy: Vec::new(),
            launchers: Vec::new(),
            checkers: Vec::new(),
            tick,
            tick_key: rng::tick_key(seed, tick),
            event_ppm: params.discovery_ppm as u64
                + params.breakthrough_ppm as u64
                + params.disaster_ppm as u64
                + params.conflict_ppm as u64,
            lifetime: params.settlement_lifetime_ticks as u64,
            interval: params.launch_interval_ticks.max(1) as u64,
            trade_interval: params.trade_interval_ticks.max(1) as u64,
        }
    }

    /// Picks `s` (visited in ascending system order) for what can happen to it this tick.
    #[inline]
    fn pick(&mut self, world: &World, params: &Params, s: &Settlement) {
        const EVENTS: u64 = rng::name_key("events");
        let tick = self.tick;
        if self.lifetime > 0 && tick >= s.founded_tick + self.lifetime {
            self.busy.push((s.system, false));
        } else {
            let hit = Stream::keyed(self.tick_key, s.system as u64, EVENTS).below(1_000_000) < self.event_ppm;
            if hit
                || (s.cohesion < params.split_cohesion_permille
                    && s.capital_mly >= params.split_min_distance_mly.max(1))
            {
                self.busy.push((s.system, hit));
            }
        }
        if tick <= s.founded_tick {
            return;
        }
        let age = tick - s.founded_tick;
        if age.is_multiple_of(self.interval)
            && s.colonizer
            && (params.max_launches == 0 || s.launches < params.max_launches)
            && s.population >= params.launch_min_population
            && s.population > params.colonists_per_ship
            && s.tech_level() >= params.launch_min_tech
            && s.population as u128 * 1000
                >= world.systems[s.system as usize].capacity as u128 * params.launch_min_capacity_permille as u128
        {
            self.launchers.push(s.system);
        }
        if age.is_multiple_of(self.trade_interval)
            && params.trade_range_mly > 0
            && s.population >= params.trade_min_population
            && s.partners.len() < MAX_PARTNERS
        {
            self.checkers.push(s.system);
        }
    }
}

/// The tick's deterministic evolution.
fn advance(world: &World, p: &Params, state: &mut SimState, mut picks: Option<&mut Picks>) {
    // The balances table is the thread's scratch (all zero between uses): only settled systems'
    // entries are written (a route end without a settlement keeps 0, and a zero balance never
    // trades), and the growth pass below resets each one after reading it.
    let trading = !state.routes.is_empty();
    let mut bal: Vec<i64> = Vec::new();
    if trading {
        bal = scratch::take(&scratch::BAL, world.systems.len(), 0);
    }
    // Economy.
    for s in state.settlements.values_mut() {
        // Units: thousandths of DOMAIN.md's production unit (per 1,000 people), so a small
        // colony's economy does not vanish in integer truncation.
        let mult = MULT_PERMILLE[(s.tech_level() as usize).min(20)];
        let rich = world.systems[s.system as usize].richness as u64;
        s.production = s.population * mult / 1000 * rich / 1000;
        s.consumption = s.population * p.consumption_permille as u64 / 1000;
        s.trade_balance = s.production as i64 - s.consumption as i64;
        if trading {
            bal[s.system as usize] = s.trade_balance;
        }
    }
    // Trade: surplus flows to the deficit along each route, in route order (on a dense copy of
    // the balances: one pass over the routes, no map lookups).
    if trading {
        for (&(a, b), route) in state.routes.iter_mut() {
            let (ba, bb) = (bal[a as usize], bal[b as usize]);
            let (from, to, amount) = if ba > 0 && bb < 0 {
                (a, b, ba.min(-bb))
            } else if bb > 0 && ba < 0 {
                (b, a, bb.min(-ba))
            } else {
                continue;
            };
            bal[from as usize] -= amount;
            bal[to as usize] += amount;
            route.carried += amount as u64;
        }
    }
    // Growth, technology, cohesion.
    for s in state.settlements.values_mut() {
        if trading {
            s.trade_balance = std::mem::take(&mut bal[s.system as usize]);
        }
        let k = world.systems[s.system as usize].capacity.max(1);
        let pop = s.population;
        let r = p.growth_permille as u64;
        let supply = if s.consumption == 0 || s.trade_balance >= 0 {
            1000
        } else {
            ((s.consumption as i64 + s.trade_balance).max(0) as u64 * 1000 / s.consumption).min(1000)
        };
        if pop < k {
            let room_ppm = (k - pop) * 1_000_000 / k;
            let growth = pop * r / 1000 * room_ppm / 1_000_000;
            s.population = pop + growth * supply / 1000;
        } else if pop > k {
            s.population = pop - (pop - k) * r / 1000;
        }
        if supply < 1000 {
            // Famine: up to 2 % a tick with nothing to eat.
            s.population -= s.population * (1000 - supply) / 50_000;
        }
        let drift = p.tech_drift_milli;
        let dt = if s.trade_balance > 0 {
            2 * drift
        } else if supply < 500 {
            0
        } else {
            drift
        };
        s.tech_milli = (s.tech_milli + dt).min(TECH_MAX_MILLI);
        let bonus = 25 * s.partners.len().min(8) as i64;
        let loss = p.cohesion_loss_per_ly as i64 * s.capital_mly / 1000;
        let target = (1000 - loss + bonus).clamp(0, 1000);
        let c = s.cohesion as i64;
        let mut delta = (target - c) / 16;
        if delta == 0 {
            delta = (target - c).signum();
        }
        s.cohesion = (c + delta).clamp(0, 1000) as u16;
        if let Some(pk) = picks.as_deref_mut() {
            pk.pick(world, p, s);
        }
    }
    if trading {
        scratch::BAL.set(bal);
    }
}

/// Applies one event to the state.
pub fn apply(world: &World, params: &Params, state: &mut SimState, ev: &Event) {
    match &ev.body {
        EventBody::TickAdvanced => advance_tick(world, params, state, ev.tick, None),
        EventBody::Started { system, population, faction, faction_name } => {
            state.factions.insert(
                *faction,
                Faction {
                    id: *faction,
                    name: faction_name.clone(),
                    capital: *system,
                    parent: None,
                    founded_tick: ev.tick,
                },
            );
            state.next_faction_id = state.next_faction_id.max(faction + 1);
            let mut s = new_settlement(*system, *population, *faction, ev.tick, None);
            s.tech_milli = params.start_tech.min(20) * 1000;
            s.cohesion = 1000;
            state.settlements.insert(*system, s);
        }
        EventBody::ShipLaunched { ship, from, to, colonists, arrive_tick } => {
            let (faction, tech_milli) = state.settlements.get(from).map_or((0, 0), |s| (s.faction, s.tech_milli));
            if let Some(s) = state.settlements.get_mut(from) {
                s.population = s.population.saturating_sub(*colonists);
                if s.last_launch_tick != ev.tick || s.launches == 0 {
                    s.launches += 1;
                }
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
                    tech_milli,
                },
            );
            state.next_ship_id = state.next_ship_id.max(ship + 1);
        }
        EventBody::ColonyFounded { system, parent, ship, population, faction, colonizer } => {
            let tech = end_flight(state, *ship, ev.tick).map_or(0, |s| s.tech_milli);
            state.ruins.remove(system);
            let mut s = new_settlement(*system, *population, *faction, ev.tick, Some(*parent));
            // A colony loses a level, but not below the break-even level its ship's kit holds.
            s.tech_milli = tech.saturating_sub(1000).max(tech.min(COLONY_TECH_FLOOR_MILLI));
            s.colonizer = *colonizer;
            if let Some(f) = state.factions.get(faction) {
                s.capital_mly = world.distance_mly(f.capital, *system);
            }
            state.settlements.insert(*system, s);
        }
        EventBody::ShipLost { ship, .. } => {
            end_flight(state, *ship, ev.tick);
        }
        EventBody::TradeRouteOpened { from, to } => {
            let key = ((*from).min(*to), (*from).max(*to));
            state.routes.insert(key, Route { opened_tick: ev.tick, carried: 0 });
            for (x, y) in [(from, to), (to, from)] {
                if let Some(s) = state.settlements.get_mut(x) {
                    s.partners.insert(*y);
                }
            }
        }
        EventBody::TradeRouteClosed { from, to, .. } => {
            state.routes.remove(&((*from).min(*to), (*from).max(*to)));
            for (x, y) in [(from, to), (to, from)] {
                if let Some(s) = state.settlements.get_mut(x) {
                    s.partners.remove(y);
                }
            }
        }
        EventBody::FactionSplit { parent, child, name, capital, systems } => {
            state.factions.insert(
                *child,
                Faction {
                    id: *child,
                    name: name.clone(),
                    capital: *capital,
                    parent: Some(*parent),
                    founded_tick: ev.tick,
                },
            );
            state.next_faction_id = state.next_faction_id.max(child + 1);
            for sys in systems {
                if let Some(s) = state.settlements.get_mut(sys) {
                    s.faction = *child;
                    s.capital_mly = world.distance_mly(*capital, *sys);
                    s.cohesion = if sys == capital { 1000 } else { FRESH_COHESION };
                }
            }
        }
        EventBody::Discovery { system, tech_milli } | EventBody::TechBreakthrough { system, tech_milli } => {
            if let Some(s) = state.settlements.get_mut(system) {
                s.tech_milli = (s.tech_milli + tech_milli).min(TECH_MAX_MILLI);
            }
        }
        EventBody::Disaster { system, deaths, .. } => {
            if let Some(s) = state.settlements.get_mut(system) {
                s.population = s.population.saturating_sub(*deaths);
            }
        }
        EventBody::Conflict { system, other, deaths, cohesion_loss } => {
            if let Some(s) = state.settlements.get_mut(system) {
                s.population = s.population.saturating_sub(*deaths);
            }
            for x in [system, other] {
                if let Some(s) = state.settlements.get_mut(x) {
                    s.cohesion = s.cohesion.saturating_sub(*cohesion_loss);
                }
            }
        }
        EventBody::Abandoned { system, .. } => {
            let Some(s) = state.settlements.remove(system) else { return };
            for p in &s.partners {
                state.routes.remove(&((*system).min(*p), (*system).max(*p)));
                if let Some(o) = state.settlements.get_mut(p) {
                    o.partners.remove(system);
                }
            }
            state.ruins.insert(*system, Ruin { founded_tick: s.founded_tick, abandoned_tick: ev.tick });
            if state.factions.get(&s.faction).is_some_and(|f| f.capital == *system) {
                relocate_capital(world, state, s.faction);
            }
        }
    }
}

/// Ends a ship's flight: it leaves `ships` for `wakes` (ended at `tick`).
fn end_flight(state: &mut SimState, ship: u64, tick: u64) -> Option<Ship> {
    let mut s = state.ships.remove(&ship)?;
    s.arrive_tick = tick;
    state.wakes.insert(ship, s.clone());
    Some(s)
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
    pub tech_level: u32,
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
/// Each settled system appears as it was `distance / c` before `at_tick` (its latest state
/// whose light has arrived); a system whose abandonment has been seen is absent.
pub fn observer_view(
    world: &World,
    params: &Params,
    base: SimState,
    events: &[Event],
    observer: SysIdx,
    at_tick: u64,
) -> ObserverView {
    let lag = |s: SysIdx| -> u64 { lag_ticks(world.distance_mly(observer, s)) };
    let mut lags: BTreeMap<SysIdx, u64> = BTreeMap::new();
    let mut seen: BTreeMap<SysIdx, ObservedSystem> = BTreeMap::new();
    let mut state = base;
    let mut i = 0;
    loop {
        if state.tick <= at_tick {
            for s in state.settlements.values() {
                let l = *lags.entry(s.system).or_insert_with(|| lag(s.system));
                if state.tick + l <= at_tick {
                    seen.insert(
                        s.system,
                        ObservedSystem {
                            system: s.system,
                            as_of_tick: state.tick,
                            population: s.population,
                            faction: s.faction,
                            tech_level: s.tech_level(),
                        },
                    );
                }
            }
            // Systems seen before whose light now shows them empty.
            seen.retain(|sys, _| state.settlements.contains_key(sys) || state.tick + lags[sys] > at_tick);
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

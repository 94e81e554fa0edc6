//! The World Engine as a service (issue 10): create, advance (a batch of ticks, committed in
//! one transaction guarded by the expected current tick), pause / resume / step (the state
//! machine of DOMAIN.md §7.7), fork, state at any tick (nearest snapshot + replay of the
//! events), the observer view, the SQS tick-message handler and the `sim:<id>` live feed.
//!
//! Invariants: the events are the truth, snapshots are caches (every `snapshot_every` ticks and
//! on pause). A state is always `replay(nearest snapshot ≤ t, events in (snapshot, t])`, which is
//! what a batch computes too, so any batching gives the same state. A commit happens only if the
//! simulation is still at the tick the batch started from (and, for queued batches, in the same
//! run epoch): a duplicated, late or reordered tick message changes nothing.
//!
//! No SQL here (`exomaps_store::sim`), no rules here (`exomaps_sim`).

use crate::context::{HandleError, PipelineContext};
use crate::notify::PostOutcome;
use crate::ports::{FifoMessage, FifoQueue, Queues};
use exomaps_sim::{Event, EventBody, Params, SimState, SystemInput, World};
use exomaps_store::sim::{CommitBatch, EventRow, NewSim, NewSnapshot, RunState, SimRow};
use exomaps_store::{Store, StoreError};
use exomaps_wire::frames::{ServerMessage, SimEventEnvelope, SimLocation, SimSummary};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Most ticks one `step` call advances (DOMAIN.md §7.7).
pub const MAX_STEP: u64 = 1000;
/// WebSocket frame limit (API Gateway), minus room for the message header.
const FRAME_BUDGET: usize = crate::notify::MAX_MESSAGE_BYTES - 2048;

/// Why a simulation operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    /// An invalid state transition (409).
    #[error("{0}")]
    Conflict(String),
    /// A needed port (the tick queue) is not available (503).
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A simulation's world: the engine's `World` plus what the service needs to name systems.
pub struct SimWorld {
    pub world: World,
    /// Position in parsecs by system index (light lag for the observer view).
    pub pos_pc: Vec<[f64; 3]>,
}

impl SimWorld {
    pub fn id_of(&self, idx: u32) -> Option<&str> {
        self.world.systems.get(idx as usize).map(|s| s.id.as_str())
    }

    pub fn name_of(&self, idx: u32) -> Option<&str> {
        self.world.systems.get(idx as usize).map(|s| s.name.as_str())
    }

    /// Light travel time between two systems, in ticks (rounded up).
    pub fn light_lag_ticks(&self, a: u32, b: u32) -> u64 {
        let (p, q) = (self.pos_pc[a as usize], self.pos_pc[b as usize]);
        let d_pc = ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2) + (p[2] - q[2]).powi(2)).sqrt();
        (exomaps_domain::units::pc_to_ly(d_pc) / exomaps_sim::YEARS_PER_TICK).ceil() as u64
    }
}

/// The world of a build, cached per build id in this process (a build is immutable).
pub async fn world_for(store: &Store, world_build_id: i64) -> Result<Arc<SimWorld>, StoreError> {
    static CACHE: OnceLock<Mutex<HashMap<i64, Arc<SimWorld>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(w) = cache.lock().expect("world cache").get(&world_build_id) {
        return Ok(w.clone());
    }
    let rows = store.sim_world_systems(world_build_id).await?;
    let inputs: Vec<SystemInput> = rows
        .into_iter()
        .map(|r| SystemInput {
            name: r.main_id.strip_prefix("NAME ").unwrap_or(&r.main_id).to_string(),
            id: r.main_id,
            pos_pc: [r.x_pc, r.y_pc, r.z_pc],
            spectral_class: r.spectral_class.and_then(|c| c.chars().next()),
            hz_planets: r.hz_planets.max(0) as u32,
            planets: r.planets.max(0) as u32,
            belts: r.belts.max(0) as u32,
        })
        .collect();
    let positions: HashMap<String, [f64; 3]> = inputs.iter().map(|s| (s.id.clone(), s.pos_pc)).collect();
    let world = World::build(inputs);
    let pos_pc = world.systems.iter().map(|s| positions.get(&s.id).copied().unwrap_or([0.0; 3])).collect();
    let w = Arc::new(SimWorld { world, pos_pc });
    cache.lock().expect("world cache").insert(world_build_id, w.clone());
    Ok(w)
}

/// `POST /api/simulation` input (already shape-checked by the handler).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CreateSim {
    pub name: Option<String>,
    pub scenario: Option<String>,
    /// Overrides of the scenario's parameters (`exomaps_sim::Params` fields).
    pub params: Option<Value>,
    pub seed: Option<i64>,
    pub start_system: Option<String>,
    pub target_tick: Option<i64>,
    pub batch_ticks: Option<i32>,
    pub tick_interval_ms: Option<i32>,
    pub snapshot_every: Option<i32>,
}

/// The parameters of a scenario with overrides; 400 on an unknown scenario, an unknown field
/// or a value out of range.
pub fn resolve_params(scenario: &str, overrides: Option<&Value>) -> Result<Params, SimError> {
    let base = Params::scenario(scenario).ok_or_else(|| {
        SimError::BadRequest(format!("unknown scenario {scenario:?} (one of {:?})", exomaps_sim::SCENARIOS))
    })?;
    let params = match overrides {
        None | Some(Value::Null) => base,
        Some(Value::Object(o)) => {
            let mut v = serde_json::to_value(&base).expect("params serialise");
            for (k, x) in o {
                v[k] = x.clone();
            }
            serde_json::from_value(v).map_err(|e| SimError::BadRequest(format!("invalid params: {e}")))?
        }
        Some(_) => return Err(SimError::BadRequest("params must be an object".into())),
    };
    params.validate().map_err(|e| SimError::BadRequest(format!("invalid params: {e}")))?;
    Ok(params)
}

fn params_of(sim: &SimRow) -> Result<Params, SimError> {
    serde_json::from_value(sim.params.0.clone())
        .map_err(|e| SimError::Conflict(format!("stored parameters do not fit this model version: {e}")))
}

fn check_range(name: &str, v: Option<i32>, lo: i32, hi: i32, default: i32) -> Result<i32, SimError> {
    match v {
        None => Ok(default),
        Some(x) if (lo..=hi).contains(&x) => Ok(x),
        Some(x) => Err(SimError::BadRequest(format!("{name} must be {lo}..={hi} (got {x})"))),
    }
}

/// Resolves a system of the build by id or alias to its index.
async fn resolve_system(store: &Store, sim_world: &SimWorld, build: i64, name: &str) -> Result<u32, SimError> {
    let key = exomaps_domain::names::alias_key(name);
    let main_id = store
        .sim_resolve_system(build, name, &key)
        .await?
        .ok_or_else(|| SimError::BadRequest(format!("unknown system {name:?} in the active world build")))?;
    sim_world.world.index_of(&main_id).ok_or_else(|| SimError::BadRequest(format!("system {name:?} is not in scope")))
}

fn to_rows(events: &[Event]) -> Vec<EventRow> {
    events
        .iter()
        .map(|e| EventRow {
            tick: e.tick as i64,
            seq: e.seq as i32,
            kind: e.kind().to_string(),
            location: e.location().map(|l| l as i32),
            payload: sqlx_json(serde_json::to_value(&e.body).expect("event bodies serialise")),
        })
        .collect()
}

fn sqlx_json(v: Value) -> exomaps_store::sim::Json<Value> {
    exomaps_store::sim::Json(v)
}

fn from_rows(rows: &[EventRow]) -> Result<Vec<Event>, SimError> {
    rows.iter()
        .map(|r| {
            let body: EventBody = serde_json::from_value(r.payload.0.clone()).map_err(|e| {
                SimError::Conflict(format!("stored event ({}, {}) does not fit this model: {e}", r.tick, r.seq))
            })?;
            Ok(Event { tick: r.tick as u64, seq: r.seq as u32, body })
        })
        .collect()
}

fn snapshot_of(state: &SimState) -> NewSnapshot {
    NewSnapshot {
        tick: state.tick as i64,
        state: serde_json::to_value(state).expect("states serialise"),
        state_hash: state.hash(),
    }
}

/// Creates a simulation from the active world build (tick 0: the first settlement).
pub async fn create(store: &Store, input: CreateSim, created_by: Option<String>) -> Result<SimRow, SimError> {
    let build = store
        .active_world_build()
        .await?
        .ok_or_else(|| SimError::Conflict("no world build has been published yet".into()))?;
    let scenario = input.scenario.unwrap_or_else(|| "default".into());
    let params = resolve_params(&scenario, input.params.as_ref())?;
    if let Some(n) = &input.name
        && (n.trim().is_empty() || n.len() > 200)
    {
        return Err(SimError::BadRequest("name must be 1–200 characters".into()));
    }
    if input.target_tick.is_some_and(|t| !(1..=1_000_000).contains(&t)) {
        return Err(SimError::BadRequest("target_tick must be 1..=1000000".into()));
    }
    let batch_ticks = check_range("batch_ticks", input.batch_ticks, 1, 1000, 100)?;
    let tick_interval_ms = check_range("tick_interval_ms", input.tick_interval_ms, 0, 60_000, 0)?;
    let snapshot_every = check_range("snapshot_every", input.snapshot_every, 1, 10_000, 10)?;
    let seed = match input.seed {
        Some(s) if s < 0 => return Err(SimError::BadRequest("seed must be ≥ 0".into())),
        Some(s) => s,
        None => (Uuid::new_v4().as_u128() as u64 >> 1) as i64,
    };
    let sim_world = world_for(store, build.world_build_id).await?;
    let start_name = input.start_system.unwrap_or_else(|| "Sol".into());
    let start = resolve_system(store, &sim_world, build.world_build_id, &start_name).await?;
    let (state, events) = exomaps_sim::init(&sim_world.world, &params, seed as u64, start);
    let new = NewSim {
        sim_id: Uuid::new_v4(),
        world_build_id: build.world_build_id,
        name: input.name,
        scenario,
        params: serde_json::to_value(&params).expect("params serialise"),
        seed,
        start_system: sim_world.id_of(start).unwrap_or_default().to_string(),
        target_tick: input.target_tick,
        batch_ticks,
        tick_interval_ms,
        snapshot_every,
        model_version: exomaps_sim::MODEL_VERSION.to_string(),
        parent_id: None,
        fork_tick: None,
        created_by,
    };
    store.insert_simulation(&new, &to_rows(&events), &snapshot_of(&state)).await?;
    Ok(store.simulation(new.sim_id).await?.expect("just inserted"))
}

pub async fn get(store: &Store, sim_id: Uuid) -> Result<SimRow, SimError> {
    store.simulation(sim_id).await?.ok_or_else(|| SimError::NotFound(format!("no simulation {sim_id}")))
}

/// The state of a simulation at `tick` (≤ its current tick): the nearest snapshot at or before
/// it, plus the replay of the events after it. A fork's ticks before its fork tick are its
/// parent's.
pub async fn state_at(store: &Store, sim: &SimRow, tick: i64) -> Result<SimState, SimError> {
    if tick < 0 || tick > sim.current_tick {
        return Err(SimError::BadRequest(format!("tick must be 0..={} (the current tick)", sim.current_tick)));
    }
    if let (Some(parent), Some(at)) = (sim.parent_id, sim.fork_tick)
        && tick < at
    {
        let parent = Box::pin(get(store, parent)).await?;
        return Box::pin(state_at(store, &parent, tick)).await;
    }
    let snap = store
        .sim_snapshot_at_or_before(sim.sim_id, tick)
        .await?
        .ok_or_else(|| SimError::Conflict(format!("simulation {} has no snapshot at or before {tick}", sim.sim_id)))?;
    let base: SimState = serde_json::from_value(snap.state.0)
        .map_err(|e| SimError::Conflict(format!("stored snapshot does not fit this model: {e}")))?;
    if snap.tick == tick {
        return Ok(base);
    }
    let rows = store.sim_events_between(sim.sim_id, snap.tick, tick).await?;
    let world = world_for(store, sim.world_build_id).await?;
    Ok(exomaps_sim::replay(&world.world, &params_of(sim)?, base, &from_rows(&rows)?))
}

/// What one committed batch did.
#[derive(Debug, Clone)]
pub struct Advanced {
    pub sim: SimRow,
    pub from_tick: i64,
    pub ticks: u64,
    pub events: usize,
    pub state_hash: String,
    pub summary: exomaps_sim::Summary,
    pub compute_ms: u64,
    pub commit_ms: u64,
}

/// Computes up to `n` ticks from the simulation's current tick (stopping early at the target
/// tick or when `budget` is spent) and commits them in one transaction guarded by the current
/// tick, the allowed states and the run epoch. None: the guard did not hold (nothing written).
/// After the commit, the batch goes out on `sim:<id>`.
pub async fn advance(
    ctx: &PipelineContext,
    sim: &SimRow,
    n: u64,
    budget: Option<Duration>,
    allowed: &[RunState],
    epoch: Option<i32>,
    source: &str,
) -> Result<Option<Advanced>, SimError> {
    let store = &ctx.store;
    let world = world_for(store, sim.world_build_id).await?;
    let params = params_of(sim)?;
    let started = Instant::now();
    let mut state = state_at(store, sim, sim.current_tick).await?;
    let from = sim.current_tick;
    let mut limit = n;
    if let Some(target) = sim.target_tick {
        limit = limit.min((target - from).max(0) as u64);
    }
    let mut events = Vec::new();
    let mut snapshots = Vec::new();
    let every = sim.snapshot_every.max(1) as u64;
    let mut done = 0;
    while done < limit {
        events.extend(exomaps_sim::step(&world.world, &params, &mut state));
        done += 1;
        if state.tick % every == 0 {
            snapshots.push(snapshot_of(&state));
        }
        if budget.is_some_and(|b| started.elapsed() >= b) {
            break;
        }
    }
    if done == 0 {
        return Ok(None);
    }
    let compute_ms = started.elapsed().as_millis() as u64;
    let to = state.tick as i64;
    let completed = sim.target_tick.is_some_and(|t| to >= t);
    let rows = to_rows(&events);
    let commit_started = Instant::now();
    let committed = store
        .commit_sim_batch(&CommitBatch {
            sim_id: sim.sim_id,
            from_tick: from,
            to_tick: to,
            allowed_states: allowed,
            run_epoch: epoch,
            new_state: completed.then_some(RunState::Completed),
            events: &rows,
            snapshots: &snapshots,
            source,
            compute_ms: compute_ms.min(i32::MAX as u64) as i32,
        })
        .await?;
    let commit_ms = commit_started.elapsed().as_millis() as u64;
    let Some(row) = committed else { return Ok(None) };
    let summary = state.summary();
    publish_batch(ctx, &row, from, to, Some(&summary)).await;
    if completed {
        if !snapshots.iter().any(|s| s.tick == to) {
            store.insert_sim_snapshot(row.sim_id, &row.model_version, &snapshot_of(&state)).await?;
        }
        publish_state(ctx, &row).await;
    }
    Ok(Some(Advanced {
        sim: row,
        from_tick: from,
        ticks: done,
        events: rows.len(),
        state_hash: state.hash(),
        summary,
        compute_ms,
        commit_ms,
    }))
}

/// `POST …/step {"n"}`: advance up to n ticks now (idle or paused only; 409 otherwise), within
/// the batch budget.
pub async fn step(ctx: &PipelineContext, sim_id: Uuid, n: u64) -> Result<Advanced, SimError> {
    if !(1..=MAX_STEP).contains(&n) {
        return Err(SimError::BadRequest(format!("n must be 1..={MAX_STEP}")));
    }
    let sim = get(&ctx.store, sim_id).await?;
    let allowed = [RunState::Idle, RunState::Paused];
    if !allowed.contains(&sim.run_state()) {
        return Err(conflict(&sim, "step"));
    }
    if sim.target_tick.is_some_and(|t| sim.current_tick >= t) {
        return Err(SimError::Conflict("the simulation reached its target tick".into()));
    }
    // Within the batch budget too (a synchronous call): `ticks` tells how far it got.
    match advance(ctx, &sim, n, Some(batch_budget()), &allowed, None, "step").await? {
        Some(a) => Ok(a),
        // Someone else moved it in between: the caller sees the conflict, nothing was written.
        None => Err(SimError::Conflict("the simulation changed while stepping; retry".into())),
    }
}

fn conflict(sim: &SimRow, action: &str) -> SimError {
    SimError::Conflict(format!("cannot {action} a simulation that is {}", sim.state))
}

/// `POST …/pause`: running or idle → paused (a snapshot of the current tick is kept); paused →
/// no-op; completed / failed → 409.
pub async fn pause(ctx: &PipelineContext, sim_id: Uuid) -> Result<SimRow, SimError> {
    let sim = get(&ctx.store, sim_id).await?;
    let row = match sim.run_state() {
        RunState::Paused => return Ok(sim),
        RunState::Completed | RunState::Failed => return Err(conflict(&sim, "pause")),
        RunState::Idle | RunState::Running => ctx
            .store
            .transition_sim(sim_id, &[RunState::Idle, RunState::Running], RunState::Paused, false)
            .await?
            .ok_or_else(|| SimError::Conflict("the simulation changed; retry".into()))?,
    };
    let state = state_at(&ctx.store, &row, row.current_tick).await?;
    ctx.store.insert_sim_snapshot(row.sim_id, &row.model_version, &snapshot_of(&state)).await?;
    publish_state(ctx, &row).await;
    Ok(row)
}

/// `POST …/resume`: idle or paused → running (a new run epoch) and the first tick message;
/// running → no-op; completed / failed → 409. 503 when no tick queue is configured (nothing
/// changes).
pub async fn resume(ctx: &PipelineContext, queues: Option<&dyn Queues>, sim_id: Uuid) -> Result<SimRow, SimError> {
    let sim = get(&ctx.store, sim_id).await?;
    match sim.run_state() {
        RunState::Running => return Ok(sim),
        RunState::Completed | RunState::Failed => return Err(conflict(&sim, "resume")),
        RunState::Idle | RunState::Paused => {}
    }
    let queues = queues.ok_or_else(|| SimError::Unavailable("no simulation tick queue is configured".into()))?;
    let row = ctx
        .store
        .transition_sim(sim_id, &[RunState::Idle, RunState::Paused], RunState::Running, true)
        .await?
        .ok_or_else(|| SimError::Conflict("the simulation changed; retry".into()))?;
    let msg = TickMessage { sim_id, from_tick: row.current_tick, epoch: row.run_epoch };
    if let Err(e) = queues.send_fifo(FifoQueue::SimTick, msg.fifo_message()).await {
        tracing::error!(error = %e, %sim_id, "first tick message not sent");
        // Undo: the simulation is not running without its chain.
        ctx.store.transition_sim(sim_id, &[RunState::Running], sim.run_state(), false).await?;
        return Err(SimError::Unavailable("the simulation tick queue did not accept the message".into()));
    }
    publish_state(ctx, &row).await;
    Ok(row)
}

/// `POST …/fork {"at_tick", "seed"?, "scenario"?, "params"?, "name"?}`: a new simulation whose
/// history up to `at_tick` is the parent's (events copied, state at `at_tick` as its first
/// snapshot), with its own seed or parameters after. It starts idle.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ForkSim {
    pub at_tick: i64,
    pub seed: Option<i64>,
    pub scenario: Option<String>,
    pub params: Option<Value>,
    pub name: Option<String>,
}

pub async fn fork(
    store: &Store,
    parent_id: Uuid,
    input: ForkSim,
    created_by: Option<String>,
) -> Result<SimRow, SimError> {
    let parent = get(store, parent_id).await?;
    if input.at_tick < 0 || input.at_tick > parent.current_tick {
        return Err(SimError::BadRequest(format!("at_tick must be 0..={} (the current tick)", parent.current_tick)));
    }
    let scenario = input.scenario.clone().unwrap_or_else(|| parent.scenario.clone());
    let params = if input.scenario.is_none() && input.params.is_none() {
        params_of(&parent)?
    } else {
        let base = if input.scenario.is_none() { Some(parent.params.0.clone()) } else { None };
        match (base, input.params.as_ref()) {
            (Some(Value::Object(mut b)), Some(Value::Object(o))) => {
                for (k, v) in o {
                    b.insert(k.clone(), v.clone());
                }
                let p: Params = serde_json::from_value(Value::Object(b))
                    .map_err(|e| SimError::BadRequest(format!("invalid params: {e}")))?;
                p.validate().map_err(|e| SimError::BadRequest(format!("invalid params: {e}")))?;
                p
            }
            _ => resolve_params(&scenario, input.params.as_ref())?,
        }
    };
    let seed = match input.seed {
        Some(s) if s < 0 => return Err(SimError::BadRequest("seed must be ≥ 0".into())),
        Some(s) => s,
        None => parent.seed,
    };
    let mut state = state_at(store, &parent, input.at_tick).await?;
    state.seed = seed as u64;
    let new = NewSim {
        sim_id: Uuid::new_v4(),
        world_build_id: parent.world_build_id,
        name: input.name.or_else(|| Some(format!("fork of {} at tick {}", parent.sim_id, input.at_tick))),
        scenario,
        params: serde_json::to_value(&params).expect("params serialise"),
        seed,
        start_system: parent.start_system.clone(),
        target_tick: parent.target_tick.filter(|t| *t > input.at_tick),
        batch_ticks: parent.batch_ticks,
        tick_interval_ms: parent.tick_interval_ms,
        snapshot_every: parent.snapshot_every,
        model_version: exomaps_sim::MODEL_VERSION.to_string(),
        parent_id: Some(parent.sim_id),
        fork_tick: Some(input.at_tick),
        created_by,
    };
    store.insert_simulation(&new, &[], &snapshot_of(&state)).await?;
    Ok(store.simulation(new.sim_id).await?.expect("just inserted"))
}

/// What an observer at one system can know at a tick: each settled system as it was
/// `distance / c` earlier.
#[derive(Debug, Clone, Serialize)]
pub struct ObserverAnswer {
    pub observer: String,
    pub tick: i64,
    pub systems: Vec<ObservedAnswer>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObservedAnswer {
    pub system_id: String,
    pub name: String,
    /// The tick whose light reaches the observer at `tick`.
    pub as_of_tick: i64,
    pub light_lag_ticks: i64,
    pub population: u64,
    pub faction: u32,
}

pub async fn observer(store: &Store, sim: &SimRow, tick: i64, observer: &str) -> Result<ObserverAnswer, SimError> {
    let world = world_for(store, sim.world_build_id).await?;
    let obs = resolve_system(store, &world, sim.world_build_id, observer).await?;
    if tick < 0 || tick > sim.current_tick {
        return Err(SimError::BadRequest(format!("tick must be 0..={} (the current tick)", sim.current_tick)));
    }
    let max_lag = (0..world.world.systems.len() as u32).map(|s| world.light_lag_ticks(obs, s)).max().unwrap_or(0);
    let base_tick = (tick - max_lag as i64 - 1).max(0);
    let base = state_at(store, sim, base_tick).await?;
    let rows = store.sim_events_between(sim.sim_id, base.tick as i64, tick).await?;
    let view = exomaps_sim::observer_view(&world.world, &params_of(sim)?, base, &from_rows(&rows)?, obs, tick as u64);
    let systems = view
        .settlements
        .iter()
        .map(|s| ObservedAnswer {
            system_id: world.id_of(s.system).unwrap_or_default().to_string(),
            name: world.name_of(s.system).unwrap_or_default().to_string(),
            as_of_tick: s.as_of_tick as i64,
            light_lag_ticks: world.light_lag_ticks(obs, s.system) as i64,
            population: s.population,
            faction: s.faction,
        })
        .collect();
    Ok(ObserverAnswer { observer: world.id_of(obs).unwrap_or_default().to_string(), tick, systems })
}

// The `sim:<id>` wire shapes are the frames of `exomaps_wire::frames` (`sim.tick`, `sim.events`,
// `sim.state` and the §8.3 event envelope), the types the API documents.

/// An event's payload when it does not fit in a WebSocket frame: a pointer to the events route.
#[derive(Serialize)]
struct Summarised {
    reason: &'static str,
    summarised: bool,
}

/// The §8.3 envelope of one stored event.
pub fn envelope(world: &SimWorld, sim_id: Uuid, row: &EventRow) -> SimEventEnvelope {
    let location = row.location.map(|l| SimLocation {
        system_index: i64::from(l),
        system_id: world.id_of(l as u32).map(str::to_string),
        name: world.name_of(l as u32).map(str::to_string),
    });
    SimEventEnvelope {
        event: row.kind.clone(),
        sim_id,
        tick: row.tick,
        seq: i64::from(row.seq),
        simulated_year: row.tick as f64 * exomaps_sim::YEARS_PER_TICK,
        location,
        payload: row.payload.0.get("payload").cloned().unwrap_or(Value::Null),
    }
}

/// A state's counts as their frame.
pub fn summary_frame(s: &exomaps_sim::Summary) -> SimSummary {
    SimSummary {
        tick: s.tick,
        systems_settled: s.systems_settled,
        total_population: s.total_population,
        ships_in_flight: s.ships_in_flight,
        trade_routes: s.trade_routes,
        factions: s.factions,
    }
}

// ---------------------------------------------------------------------------------------------
// The tick chain (SQS FIFO: group = simulation id, deduplication id = simulation id + epoch + tick)

/// One message on the simulation tick queue: advance the simulation from `from_tick`, in run
/// epoch `epoch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TickMessage {
    pub sim_id: Uuid,
    pub from_tick: i64,
    pub epoch: i32,
}

impl TickMessage {
    /// As a FIFO message: one group per simulation (batches in order), deduplicated by
    /// (simulation, epoch, tick) — a resend of the same batch within 5 minutes is dropped by SQS.
    pub fn fifo_message(&self) -> FifoMessage {
        FifoMessage {
            body: serde_json::to_string(self).expect("tick messages serialise"),
            group_id: self.sim_id.to_string(),
            dedup_id: format!("{}-{}-{}", self.sim_id, self.epoch, self.from_tick),
        }
    }
}

/// What handling a tick message did.
#[derive(Debug, Clone)]
pub struct TickHandled {
    /// The committed batch, None when the message was stale (nothing written).
    pub advanced: Option<Advanced>,
    /// The next message to send while the simulation is running.
    pub next: Option<TickMessage>,
}

/// The wall-time budget of one queued batch: `EXOMAPS_SIM_BATCH_BUDGET_MS` (default 10 s, so
/// a batch, its commit and its pushes fit a 30 s Lambda).
pub fn batch_budget() -> Duration {
    let ms = std::env::var("EXOMAPS_SIM_BATCH_BUDGET_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000u64);
    Duration::from_millis(ms.clamp(10, 600_000))
}

/// Handles one tick message: a batch sized to `budget` (and the simulation's `batch_ticks`),
/// committed only if the simulation is running, in the message's epoch and at its tick. A
/// message whose batch was already committed (a redelivery after a crash) only re-sends the
/// follow-up; any other stale message changes nothing.
pub async fn handle_tick(ctx: &PipelineContext, body: &str, budget: Duration) -> Result<TickHandled, HandleError> {
    let msg: TickMessage =
        serde_json::from_str(body).map_err(|e| HandleError::Poison(format!("malformed tick message: {e}")))?;
    let sim = match ctx.store.simulation(msg.sim_id).await {
        Ok(Some(s)) => s,
        Ok(None) => return Err(HandleError::Poison(format!("unknown simulation {}", msg.sim_id))),
        Err(e) => return Err(HandleError::Retry(e.to_string())),
    };
    let stale = TickHandled { advanced: None, next: None };
    if sim.run_state() != RunState::Running || sim.run_epoch != msg.epoch {
        return Ok(stale);
    }
    if sim.current_tick != msg.from_tick {
        let batch =
            ctx.store.sim_batch(msg.sim_id, msg.from_tick).await.map_err(|e| HandleError::Retry(e.to_string()))?;
        if let Some(b) = batch
            && b.run_epoch == msg.epoch
            && b.to_tick == sim.current_tick
        {
            // This batch is the latest committed one: its follow-up may never have been sent.
            let next = TickMessage { sim_id: msg.sim_id, from_tick: sim.current_tick, epoch: msg.epoch };
            return Ok(TickHandled { advanced: None, next: Some(next) });
        }
        return Ok(stale);
    }
    let started = Instant::now();
    let n = sim.batch_ticks.max(1) as u64;
    let advanced = match advance(ctx, &sim, n, Some(budget), &[RunState::Running], Some(msg.epoch), "queue").await {
        Ok(a) => a,
        Err(SimError::Store(e)) => return Err(HandleError::Retry(e.to_string())),
        Err(e) => {
            // The stored simulation does not fit this model (e.g. another model version): it
            // fails with the reason, visibly, rather than being retried into the DLQ.
            tracing::error!(sim_id = %msg.sim_id, error = %e, "simulation failed");
            ctx.store.fail_sim(msg.sim_id, &e.to_string()).await.map_err(|e| HandleError::Retry(e.to_string()))?;
            if let Ok(Some(row)) = ctx.store.simulation(msg.sim_id).await {
                publish_state(ctx, &row).await;
            }
            return Ok(stale);
        }
    };
    let Some(advanced) = advanced else { return Ok(stale) };
    // The speed setting: a batch takes at least ticks × tick_interval_ms (FIFO queues have no
    // per-message delay, so the consumer spaces the batches), within the budget.
    let floor = Duration::from_millis(sim.tick_interval_ms.max(0) as u64 * advanced.ticks);
    let wait = floor.min(budget).saturating_sub(started.elapsed());
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }
    let next = (advanced.sim.run_state() == RunState::Running).then_some(TickMessage {
        sim_id: msg.sim_id,
        from_tick: advanced.sim.current_tick,
        epoch: msg.epoch,
    });
    Ok(TickHandled { advanced: Some(advanced), next })
}

// ---------------------------------------------------------------------------------------------
// The live feed: `sim:<id>`

/// Packs event envelopes into messages of at most one WebSocket frame each: `make(events, part)`
/// builds a message around a chunk. An envelope too large for a frame on its own is summarised
/// (its payload replaced by a pointer to the events route), never dropped.
fn pack(
    envelopes: Vec<SimEventEnvelope>,
    make: impl Fn(Vec<SimEventEnvelope>, i64, i64) -> ServerMessage,
) -> Vec<Vec<u8>> {
    let mut chunks: Vec<Vec<SimEventEnvelope>> = vec![Vec::new()];
    let mut size = 0;
    for mut e in envelopes {
        let mut len = serde_json::to_vec(&e).map(|v| v.len()).unwrap_or(0) + 1;
        if len > FRAME_BUDGET {
            let pointer = Summarised {
                reason: "payload larger than a WebSocket frame; read it from GET /api/simulation/{id}/events",
                summarised: true,
            };
            e.payload = serde_json::to_value(pointer).expect("plain JSON");
            len = serde_json::to_vec(&e).map(|v| v.len()).unwrap_or(0) + 1;
        }
        if size + len > FRAME_BUDGET && !chunks.last().expect("one chunk").is_empty() {
            chunks.push(Vec::new());
            size = 0;
        }
        size += len;
        chunks.last_mut().expect("one chunk").push(e);
    }
    let parts = chunks.len() as i64;
    chunks
        .into_iter()
        .zip(1..)
        .map(|(c, part)| serde_json::to_vec(&make(c, part, parts)).expect("messages serialise"))
        .collect()
}

/// After a committed batch `(from, to]`: each subscriber of `sim:<id>` gets the events it has
/// not been sent yet (from its cursor, normally `from`) as `sim.tick` messages, under the feed
/// lock; its cursor moves to `to` only when every part was delivered (else the next batch
/// carries the rest).
pub async fn publish_batch(
    ctx: &PipelineContext,
    sim: &SimRow,
    from: i64,
    to: i64,
    summary: Option<&exomaps_sim::Summary>,
) {
    if let Err(e) = publish_batch_inner(ctx, sim, from, to, summary).await {
        tracing::warn!(sim_id = %sim.sim_id, error = %e, "sim.tick push failed");
    }
}

async fn publish_batch_inner(
    ctx: &PipelineContext,
    sim: &SimRow,
    from: i64,
    to: i64,
    summary: Option<&exomaps_sim::Summary>,
) -> Result<(), SimError> {
    let Some(b) = ctx.notifier.broadcaster() else { return Ok(()) };
    let mut feed = ctx.store.sim_feed(sim.sim_id).await?;
    let subscribers = feed.subscribers().await?;
    if subscribers.is_empty() {
        feed.done().await?;
        return Ok(());
    }
    let world = world_for(&ctx.store, sim.world_build_id).await?;
    for (connection, cursor) in subscribers {
        let after = cursor.unwrap_or(from);
        if after >= to {
            continue;
        }
        let rows = feed.events_between(after, to).await?;
        let envelopes = rows.iter().map(|r| envelope(&world, sim.sim_id, r)).collect();
        let messages = pack(envelopes, |events, part, parts| ServerMessage::SimTick {
            sim_id: sim.sim_id,
            from_tick: after,
            tick: to,
            simulated_year: to as f64 * exomaps_sim::YEARS_PER_TICK,
            state: sim.state.clone(),
            summary: summary.map(summary_frame),
            events,
            part,
            parts,
        });
        let mut delivered = true;
        for m in &messages {
            match b.post(&connection, m).await {
                PostOutcome::Delivered => {}
                PostOutcome::Gone => {
                    feed.drop_connection(&connection).await?;
                    delivered = false;
                    break;
                }
                PostOutcome::Failed(e) => {
                    tracing::warn!(connection, error = %e, "sim.tick push failed; the next batch resends");
                    delivered = false;
                    break;
                }
            }
        }
        if delivered {
            feed.set_cursor(&connection, to).await?;
        }
    }
    feed.done().await?;
    Ok(())
}

/// `{"type":"sim.state"}` to every subscriber.
pub async fn publish_state(ctx: &PipelineContext, sim: &SimRow) {
    let msg = ServerMessage::SimState { sim_id: sim.sim_id, state: sim.state.clone(), current_tick: sim.current_tick };
    ctx.notifier.publish(&format!("sim:{}", sim.sim_id), &msg).await;
}

/// What a subscribe did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Subscribed {
    /// The events of ticks `(after_tick, through_tick]` were replayed.
    pub after_tick: i64,
    pub through_tick: i64,
    pub replayed_events: usize,
    pub messages: usize,
}

/// Subscribes a connection to `sim:<id>`. With `after_tick`, first replays (as `sim.events`
/// messages with `"replay": true`) every event with tick > after_tick up to the current tick,
/// under the feed lock, so live batches follow without a gap or a repeat. Without it the
/// connection gets live batches only. Needs a broadcaster to replay (else the next batch
/// catches the connection up from `after_tick`).
pub async fn subscribe(
    ctx: &PipelineContext,
    connection_id: &str,
    sim: &SimRow,
    after_tick: Option<i64>,
) -> Result<Subscribed, SimError> {
    let mut feed = ctx.store.sim_feed(sim.sim_id).await?;
    let current = feed.current_tick().await?;
    let after = after_tick.unwrap_or(current).clamp(-1, current);
    let Some(b) = ctx.notifier.broadcaster().filter(|_| after < current) else {
        feed.subscribe(connection_id, after).await?;
        feed.done().await?;
        return Ok(Subscribed { after_tick: after, through_tick: after, replayed_events: 0, messages: 0 });
    };
    let world = world_for(&ctx.store, sim.world_build_id).await?;
    let rows = feed.events_between(after, current).await?;
    let envelopes = rows.iter().map(|r| envelope(&world, sim.sim_id, r)).collect();
    let messages = pack(envelopes, |events, part, parts| ServerMessage::SimEvents {
        sim_id: sim.sim_id,
        replay: true,
        after_tick: after,
        through_tick: current,
        events,
        part,
        parts,
    });
    for m in &messages {
        match b.post(connection_id, m).await {
            PostOutcome::Delivered => {}
            PostOutcome::Gone => return Err(SimError::NotFound("the connection is gone".into())),
            PostOutcome::Failed(e) => return Err(SimError::Unavailable(format!("replay not delivered: {e}"))),
        }
    }
    feed.subscribe(connection_id, current).await?;
    feed.done().await?;
    Ok(Subscribed { after_tick: after, through_tick: current, replayed_events: rows.len(), messages: messages.len() })
}

#[cfg(test)]
mod wire_tests {
    use super::*;
    use serde_json::json;

    /// `message` is the JSON it has always been on the wire (and decodes as the frame type).
    fn same_json(message: &ServerMessage, was: Value) {
        let text = message.to_string();
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), was);
        serde_json::from_str::<ServerMessage>(&text).expect("decodes as a frame");
    }

    #[test]
    fn sim_feed_messages_keep_their_wire_form() {
        let sim_id = Uuid::from_u128(7);
        let stored = json!({"ship": 3, "from": 1});
        let envelope = SimEventEnvelope {
            event: "ship.launched".into(),
            sim_id,
            tick: 5,
            seq: 2,
            simulated_year: 12.5,
            location: Some(SimLocation { system_index: 0, system_id: Some("sol".into()), name: Some("Sol".into()) }),
            payload: stored.clone(),
        };
        let was_envelope = json!({
            "event": "ship.launched", "sim_id": sim_id, "tick": 5, "seq": 2, "simulated_year": 12.5,
            "location": {"system_index": 0, "system_id": "sol", "name": "Sol"}, "payload": stored,
        });
        assert_eq!(serde_json::to_value(&envelope).unwrap(), was_envelope);
        let summary = exomaps_sim::Summary {
            tick: 5,
            systems_settled: 2,
            total_population: 900,
            ships_in_flight: 1,
            trade_routes: 0,
            factions: 1,
        };
        let tick = |summary: Option<&exomaps_sim::Summary>| ServerMessage::SimTick {
            sim_id,
            from_tick: 4,
            tick: 5,
            simulated_year: 12.5,
            state: "running".into(),
            summary: summary.map(summary_frame),
            events: vec![serde_json::from_value(was_envelope.clone()).unwrap()],
            part: 1,
            parts: 1,
        };
        same_json(
            &tick(Some(&summary)),
            json!({
                "type": "sim.tick", "sim_id": sim_id, "from_tick": 4, "tick": 5, "simulated_year": 12.5,
                "state": "running", "summary": summary, "events": [was_envelope], "part": 1, "parts": 1,
            }),
        );
        assert!(tick(None).to_string().contains(r#""summary":null"#));
        same_json(
            &ServerMessage::SimState { sim_id, state: "paused".into(), current_tick: 5 },
            json!({"type": "sim.state", "sim_id": sim_id, "state": "paused", "current_tick": 5}),
        );
        same_json(
            &ServerMessage::SimEvents {
                sim_id,
                replay: true,
                after_tick: 1,
                through_tick: 5,
                events: vec![],
                part: 1,
                parts: 1,
            },
            json!({"type": "sim.events", "sim_id": sim_id, "replay": true, "after_tick": 1,
                "through_tick": 5, "events": [], "part": 1, "parts": 1}),
        );
    }

    #[test]
    fn an_event_larger_than_a_frame_is_sent_as_a_pointer_to_the_events_route() {
        let sim_id = Uuid::from_u128(9);
        let big = SimEventEnvelope {
            event: "huge".into(),
            sim_id,
            tick: 1,
            seq: 0,
            simulated_year: 2.5,
            location: None,
            payload: json!({"blob": "x".repeat(FRAME_BUDGET + 10)}),
        };
        let frames = pack(vec![big], |events, part, parts| ServerMessage::SimEvents {
            sim_id,
            replay: true,
            after_tick: 0,
            through_tick: 1,
            events,
            part,
            parts,
        });
        assert_eq!(frames.len(), 1);
        assert!(frames[0].len() < FRAME_BUDGET);
        let v: Value = serde_json::from_slice(&frames[0]).unwrap();
        assert_eq!(v["events"][0]["payload"]["summarised"], true);
    }
}

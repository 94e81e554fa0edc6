//! Simulations (issue 10, DOMAIN.md §2.10, §7.7): create from the active world build, list,
//! read (status, tick, simulated year, counts), a snapshot at any tick (nearest stored snapshot +
//! replay; with `observer`, what an observer at that system can know), events by cursor, and
//! the state machine: pause, resume (the SQS tick chain), step n, fork at a tick.

pub use crate::frames::{SimEventEnvelope, SimLocation, SimSummary};

use crate::error::ApiError;
use crate::request::{ApiRequest, ApiResponse, json_response, ok_json};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use exomaps_pipeline::sim::{self as service, SimError};
use exomaps_store::sim::{RunState, SimRow};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use uuid::Uuid;

impl From<SimError> for ApiError {
    fn from(e: SimError) -> ApiError {
        match e {
            SimError::NotFound(m) => ApiError::not_found(m),
            SimError::BadRequest(m) => ApiError::bad_request(m),
            SimError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            SimError::Unavailable(m) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "queue_unavailable", m),
            SimError::Store(e) => e.into(),
        }
    }
}

fn sim_id(req: &ApiRequest) -> Result<Uuid, ApiError> {
    let raw = req.path_params.get("id").map(String::as_str).unwrap_or("");
    Uuid::parse_str(raw).map_err(|_| ApiError::bad_request(format!("{raw:?} is not a simulation id (UUID)")))
}

/// A JSON body, or `T::default()` when the body is empty.
fn optional_body<T: serde::de::DeserializeOwned + Default>(req: &ApiRequest) -> Result<T, ApiError> {
    if req.body.is_empty() { Ok(T::default()) } else { req.json_body(64 * 1024) }
}

/// One simulation.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct SimulationView {
    pub sim_id: Uuid,
    pub name: Option<String>,
    pub world_build_id: i64,
    pub scenario: String,
    /// The rules in force (`exomaps_sim::Params`).
    #[schema(value_type = Object)]
    pub params: Value,
    pub seed: i64,
    /// main_id of the first settlement's system.
    pub start_system: String,
    pub state: RunState,
    pub current_tick: i64,
    pub simulated_year: f64,
    pub target_tick: Option<i64>,
    pub batch_ticks: i32,
    pub tick_interval_ms: i32,
    pub snapshot_every: i32,
    pub model_version: String,
    pub parent_id: Option<Uuid>,
    pub fork_tick: Option<i64>,
    pub failure_reason: Option<String>,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The WebSocket channel of the simulation: `sim:<sim_id>`.
    pub channel: String,
}

impl From<&SimRow> for SimulationView {
    fn from(r: &SimRow) -> Self {
        SimulationView {
            sim_id: r.sim_id,
            name: r.name.clone(),
            world_build_id: r.world_build_id,
            scenario: r.scenario.clone(),
            params: r.params.0.clone(),
            seed: r.seed,
            start_system: r.start_system.clone(),
            state: r.run_state(),
            current_tick: r.current_tick,
            simulated_year: r.current_tick as f64 * exomaps_sim::YEARS_PER_TICK,
            target_tick: r.target_tick,
            batch_ticks: r.batch_ticks,
            tick_interval_ms: r.tick_interval_ms,
            snapshot_every: r.snapshot_every,
            model_version: r.model_version.clone(),
            parent_id: r.parent_id,
            fork_tick: r.fork_tick,
            failure_reason: r.failure_reason.clone(),
            created_by: r.created_by.clone(),
            created_at: r.created_at,
            updated_at: r.updated_at,
            channel: format!("sim:{}", r.sim_id),
        }
    }
}

/// `POST /api/simulation` body; every field optional.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSimulation {
    pub name: Option<String>,
    /// A named preset (`default`); 400 for an unknown one.
    pub scenario: Option<String>,
    /// Overrides of the scenario's parameters.
    #[schema(value_type = Option<Object>)]
    pub params: Option<Value>,
    /// ≥ 0; random when absent.
    pub seed: Option<i64>,
    /// A system id or alias of the active world build (default `Sol`); 400 when unknown.
    pub start_system: Option<String>,
    /// The run completes at this tick (1..=1000000).
    pub target_tick: Option<i64>,
    /// Most ticks one queued batch advances (1..=1000, default 100).
    pub batch_ticks: Option<i32>,
    /// The speed: wall-clock milliseconds per tick at least (0..=60000, default 0 = as fast as possible).
    pub tick_interval_ms: Option<i32>,
    /// A snapshot every this many ticks (1..=10000, default 10).
    pub snapshot_every: Option<i32>,
}

/// `GET /api/simulation/{id}` answer.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct SimulationDetail {
    pub simulation: SimulationView,
    /// Counts at the current tick.
    pub summary: SimSummary,
    /// SHA-256 of the state at the current tick.
    pub state_hash: String,
    /// Stored events by kind.
    pub event_counts: BTreeMap<String, i64>,
}

/// `GET /api/simulation` answer.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct SimulationList {
    pub simulations: Vec<SimulationView>,
    pub total_count: i64,
    pub limit: i64,
    pub offset: i64,
}

/// `GET /api/simulation/{id}/events` answer.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct SimEventsPage {
    pub sim_id: Uuid,
    pub events: Vec<SimEventEnvelope>,
    /// Pass back as `after_tick` and `after_seq` for the next page; null when this page is the last.
    pub next_after_tick: Option<i64>,
    pub next_after_seq: Option<i64>,
    pub current_tick: i64,
}

/// A system as an observer sees it.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct ObservedSystemView {
    pub system_id: String,
    pub name: String,
    /// The tick whose light reaches the observer at the asked tick.
    pub as_of_tick: i64,
    pub light_lag_ticks: i64,
    pub population: u64,
    pub faction: u32,
}

/// What an observer at one system can know at a tick.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct ObserverSnapshot {
    pub observer: String,
    pub tick: i64,
    pub systems: Vec<ObservedSystemView>,
}

/// `GET /api/simulation/{id}/snapshot` answer: the state at `tick` (the nearest stored
/// snapshot at or before it + the replay of the events after it); with `observer`, the
/// observer's view instead of the whole state.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct SimSnapshot {
    pub sim_id: Uuid,
    pub tick: i64,
    pub simulated_year: f64,
    pub state_hash: String,
    pub summary: SimSummary,
    /// The whole state (`exomaps_sim::SimState`); null with `observer`.
    #[schema(value_type = Option<Object>)]
    pub state: Option<Value>,
    pub observer: Option<ObserverSnapshot>,
    /// System ids by index (what the state's and the events' system indexes refer to); absent with `observer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub systems: Option<Vec<String>>,
    pub model_version: String,
}

/// `POST …/step` body: `{"n": 1..1000}` (`count` is accepted too); default 1.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepBody {
    pub n: Option<i64>,
    pub count: Option<i64>,
}

/// `POST …/step` answer.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct StepResult {
    pub sim_id: Uuid,
    pub ticks_executed: u64,
    pub current_tick: i64,
    pub simulated_year: f64,
    pub events_generated: usize,
    pub state: RunState,
    pub state_hash: String,
    pub summary: SimSummary,
    pub wall_time_ms: u64,
}

/// `POST …/fork` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForkBody {
    /// 0..=current tick of the parent.
    pub at_tick: i64,
    /// The fork's seed after `at_tick` (default: the parent's).
    pub seed: Option<i64>,
    pub scenario: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub params: Option<Value>,
    pub name: Option<String>,
}

fn page_param(req: &ApiRequest, key: &str, default: i64, lo: i64, hi: i64) -> Result<i64, ApiError> {
    let v = req.query_i64(key)?.unwrap_or(default);
    if !(lo..=hi).contains(&v) {
        return Err(ApiError::bad_request(format!("{key} must be {lo}..={hi}")));
    }
    Ok(v)
}

pub async fn create(state: AppState, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let body: CreateSimulation = optional_body(&req)?;
    let input = service::CreateSim {
        name: body.name,
        scenario: body.scenario,
        params: body.params,
        seed: body.seed,
        start_system: body.start_system,
        target_tick: body.target_tick,
        batch_ticks: body.batch_ticks,
        tick_interval_ms: body.tick_interval_ms,
        snapshot_every: body.snapshot_every,
    };
    let created_by = req.caller.user.clone();
    let row = service::create(state.store()?, input, created_by).await?;
    Ok(json_response(StatusCode::CREATED, &SimulationView::from(&row)))
}

pub async fn list(state: AppState, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let limit = page_param(&req, "limit", 50, 1, 200)?;
    let offset = page_param(&req, "offset", 0, 0, i64::MAX)?;
    let (rows, total) = state.store()?.simulations(limit, offset).await?;
    let simulations = rows.iter().map(SimulationView::from).collect();
    Ok(ok_json(&SimulationList { simulations, total_count: total, limit, offset }))
}

pub async fn get(state: AppState, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = sim_id(&req)?;
    let store = state.store()?;
    let row = service::get(store, id).await?;
    let sim_state = service::state_at(store, &row, row.current_tick).await?;
    let event_counts = store.sim_event_counts(id).await?.into_iter().collect();
    Ok(ok_json(&SimulationDetail {
        simulation: SimulationView::from(&row),
        summary: service::summary_frame(&sim_state.summary()),
        state_hash: sim_state.hash(),
        event_counts,
    }))
}

pub async fn snapshot(state: AppState, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = sim_id(&req)?;
    let store = state.store()?;
    let row = service::get(store, id).await?;
    let tick = req.query_i64("tick")?.unwrap_or(row.current_tick);
    let sim_state = service::state_at(store, &row, tick).await?;
    let (state_value, observer, systems) = match req.query.get("observer").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        Some(obs) => {
            if obs.len() > 200 {
                return Err(ApiError::bad_request("observer must be a system id or alias (1–200 characters)"));
            }
            let view = service::observer(store, &row, tick, obs).await?;
            let systems = view
                .systems
                .into_iter()
                .map(|s| ObservedSystemView {
                    system_id: s.system_id,
                    name: s.name,
                    as_of_tick: s.as_of_tick,
                    light_lag_ticks: s.light_lag_ticks,
                    population: s.population,
                    faction: s.faction,
                })
                .collect();
            (None, Some(ObserverSnapshot { observer: view.observer, tick: view.tick, systems }), None)
        }
        None => {
            let world = service::world_for(store, row.world_build_id).await?;
            let ids = world.world.systems.iter().map(|s| s.id.clone()).collect();
            (Some(serde_json::to_value(&sim_state).map_err(|_| ApiError::internal())?), None, Some(ids))
        }
    };
    Ok(ok_json(&SimSnapshot {
        sim_id: id,
        tick,
        simulated_year: sim_state.simulated_year(),
        state_hash: sim_state.hash(),
        summary: service::summary_frame(&sim_state.summary()),
        state: state_value,
        observer,
        systems,
        model_version: row.model_version.clone(),
    }))
}

pub async fn events(state: AppState, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = sim_id(&req)?;
    let store = state.store()?;
    let row = service::get(store, id).await?;
    let after_tick = page_param(&req, "after_tick", -1, -1, i64::MAX)?;
    let after_seq = page_param(&req, "after_seq", i32::MAX as i64, -1, i32::MAX as i64)? as i32;
    let limit = page_param(&req, "limit", 100, 1, 500)?;
    // `kind` (DOMAIN.md §2.10 calls it `type`; both are accepted).
    let kind = req.query.get("kind").or(req.query.get("type")).map(|s| s.trim()).filter(|s| !s.is_empty());
    if kind.is_some_and(|k| k.len() > 64) {
        return Err(ApiError::bad_request("kind is at most 64 characters"));
    }
    let rows = store.sim_events_page(id, after_tick, after_seq, kind, limit).await?;
    let world = service::world_for(store, row.world_build_id).await?;
    let events: Vec<SimEventEnvelope> = rows.iter().map(|r| service::envelope(&world, id, r)).collect();
    let last = rows.last().filter(|_| rows.len() as i64 == limit);
    Ok(ok_json(&SimEventsPage {
        sim_id: id,
        events,
        next_after_tick: last.map(|r| r.tick),
        next_after_seq: last.map(|r| r.seq as i64),
        current_tick: row.current_tick,
    }))
}

pub async fn pause(state: AppState, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = sim_id(&req)?;
    let row = service::pause(&state.pipeline_context()?, id).await?;
    Ok(ok_json(&SimulationView::from(&row)))
}

pub async fn resume(state: AppState, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = sim_id(&req)?;
    let row = service::resume(&state.pipeline_context()?, state.queues_opt(), id).await?;
    Ok(ok_json(&SimulationView::from(&row)))
}

pub async fn step(state: AppState, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = sim_id(&req)?;
    let body: StepBody = optional_body(&req)?;
    let n = match (body.n, body.count, req.query_i64("interval")?) {
        (Some(n), _, _) | (None, Some(n), _) | (None, None, Some(n)) => n,
        (None, None, None) => 1,
    };
    if !(1..=service::MAX_STEP as i64).contains(&n) {
        return Err(ApiError::bad_request(format!("n must be 1..={}", service::MAX_STEP)));
    }
    let started = std::time::Instant::now();
    let a = service::step(&state.pipeline_context()?, id, n as u64).await?;
    Ok(ok_json(&StepResult {
        sim_id: id,
        ticks_executed: a.ticks,
        current_tick: a.sim.current_tick,
        simulated_year: a.sim.current_tick as f64 * exomaps_sim::YEARS_PER_TICK,
        events_generated: a.events,
        state: a.sim.run_state(),
        state_hash: a.state_hash,
        summary: service::summary_frame(&a.summary),
        wall_time_ms: started.elapsed().as_millis() as u64,
    }))
}

pub async fn fork(state: AppState, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = sim_id(&req)?;
    let body: ForkBody = req.json_body(64 * 1024)?;
    let input = service::ForkSim {
        at_tick: body.at_tick,
        seed: body.seed,
        scenario: body.scenario,
        params: body.params,
        name: body.name,
    };
    let row = service::fork(state.store()?, id, input, req.caller.user.clone()).await?;
    Ok(json_response(StatusCode::CREATED, &SimulationView::from(&row)))
}

//! Pipeline runs: start one (`POST /api/runs`), follow it (`GET /api/runs/{run_id}`), list
//! them (`GET /api/runs/manifest`) and read their validation (`GET /api/runs/validation/{run_id}`),
//! DOMAIN.md §2.7–2.8.

use crate::error::ApiError;
use crate::request::{ApiRequest, ApiResponse, json_response, ok_json};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use exomaps_pipeline::chain::{KickMessage, Phase};
use exomaps_pipeline::{Family, SourceSpec, file_path, sources_in};
use exomaps_store::reports::{ManifestRow, PhaseRow, QuarantineRow, SummaryRow};
use exomaps_store::runs::{QueueOutcome, RunRow};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

fn run_id(req: &ApiRequest) -> Result<Uuid, ApiError> {
    let raw = req.path_params.get("run_id").map(String::as_str).unwrap_or("");
    Uuid::parse_str(raw).map_err(|_| ApiError::bad_request(format!("{raw:?} is not a run id (UUID)")))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceInput {
    /// `SIMBAD` or `EXOPLANETS` (needed with `uri`).
    #[schema(value_type = Option<String>)]
    family: Option<Family>,
    /// A file name inside the server's sources folder…
    file: Option<String>,
    /// …or a URI (`file://` inside the sources folder, or `s3://`).
    uri: Option<String>,
}

/// `POST /api/runs` body; every field is optional (default: the server's sources folder).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRun {
    /// 1–200 characters, not only white space.
    #[schema(min_length = 1, max_length = 200, pattern = "[^\\s\\u0085]")]
    run_name: Option<String>,
    /// At most 20; none or empty: every source of the server's sources folder.
    #[schema(max_items = 20)]
    sources: Option<Vec<SourceInput>>,
    /// A whole number (`7.0` is accepted as 7, as JSON Schema's `integer` allows).
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(value_type = Option<i64>, format = Int64)]
    seed: Option<i64>,
}

/// JSON Schema's `integer`: any number with a zero fractional part, within int64.
fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    use serde::de::Error;
    let Some(n) = Option::<serde_json::Number>::deserialize(d)? else { return Ok(None) };
    if let Some(i) = n.as_i64() {
        return Ok(Some(i));
    }
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && (-(2f64.powi(63))..2f64.powi(63)).contains(&f) => Ok(Some(f as i64)),
        _ => Err(D::Error::custom(format!("seed must be a whole number within int64, not {n}"))),
    }
}

/// Resolves the requested sources; `file://` sources must stay inside the sources folder (a
/// caller must not make the pipeline read, and quarantine, arbitrary server files).
fn resolve_sources(state: &AppState, input: Option<Vec<SourceInput>>) -> Result<Vec<SourceSpec>, ApiError> {
    let dir = state.config().sources_dir.clone();
    let no_dir = || ApiError::bad_request("this server has no sources folder (EXOMAPS_SOURCES): give s3:// URIs");
    let Some(input) = input.filter(|v| !v.is_empty()) else {
        let dir = dir.ok_or_else(no_dir)?;
        return sources_in(&dir, None).map_err(ApiError::bad_request);
    };
    let mut specs = Vec::new();
    for s in input {
        let spec = match (s.file, s.uri) {
            (Some(file), None) => {
                let dir = dir.as_ref().ok_or_else(no_dir)?;
                let mut found = sources_in(dir, Some(std::slice::from_ref(&file))).map_err(ApiError::bad_request)?;
                found.remove(0)
            }
            (None, Some(uri)) => {
                let family = s.family.ok_or_else(|| ApiError::bad_request("a source with a uri needs its family"))?;
                SourceSpec { family, uri }
            }
            _ => return Err(ApiError::bad_request("each source gives either \"file\" or \"uri\"")),
        };
        if let Some(path) = file_path(&spec) {
            let dir = dir.as_ref().ok_or_else(no_dir)?;
            let root = std::fs::canonicalize(dir).map_err(|_| no_dir())?;
            let real = std::fs::canonicalize(&path)
                .map_err(|_| ApiError::bad_request(format!("source {} does not exist", spec.uri)))?;
            if !real.starts_with(&root) {
                return Err(ApiError::bad_request(format!("source {} is outside the sources folder", spec.uri)));
            }
        }
        specs.push(spec);
    }
    Ok(specs)
}

/// `POST /api/runs`: validates the request, records the run as queued and sends its kick
/// message. 202 with the run id and the channel to follow.
pub async fn start(state: AppState, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let body: StartRun = if req.body.is_empty() {
        StartRun { run_name: None, sources: None, seed: None }
    } else {
        serde_json::from_slice(&req.body).map_err(|e| ApiError::bad_request(format!("invalid run request: {e}")))?
    };
    let sources = resolve_sources(&state, body.sources)?;
    let run_id = Uuid::new_v4();
    let kick = KickMessage {
        run_name: body.run_name.unwrap_or_else(|| format!("run {}", Utc::now().format("%Y-%m-%d %H:%M:%S"))),
        sources,
        seed: body.seed,
        run_id: Some(run_id),
        shards: None,
    };
    kick.validate().map_err(ApiError::bad_request)?;
    let queues = state.queues()?;
    let cfg = state.config();
    let outcome =
        state.store()?.queue_run_limited(run_id, &kick.run_name, kick.seed, req.caller.user_id, cfg.run_limits).await?;
    let (scope, active, max) = match outcome {
        QueueOutcome::Queued => ("", 0, 0),
        QueueOutcome::UserLimit { active } => ("you have", active, cfg.run_limits.per_user),
        QueueOutcome::GlobalLimit { active } => ("the server has", active, cfg.run_limits.global),
    };
    if !scope.is_empty() {
        let secs = cfg.run_retry_after_secs;
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_runs",
            format!("{scope} {active} pipeline runs queued or running (limit {max}); try again later"),
        )
        .with("active_runs", active)
        .with("limit", max)
        .with("retry_after", secs)
        .with_header(http::header::RETRY_AFTER, http::HeaderValue::from(secs)));
    }
    let message = serde_json::to_string(&kick).map_err(|_| ApiError::internal())?;
    queues.send(Phase::Ingest, message).await.map_err(|e| {
        tracing::error!(error = %e, "kick message not sent");
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "queue_unavailable", "the pipeline queue did not accept the run")
    })?;
    let sources = kick.sources.iter().map(|s| StartedSource { family: s.family, uri: s.uri.clone() }).collect();
    let started = RunStarted { run_id, status: "queued", channel: format!("runs:{run_id}"), sources };
    Ok(json_response(StatusCode::ACCEPTED, &started))
}

/// `POST /api/runs` answer (202).
#[derive(Serialize, utoipa::ToSchema)]
pub struct RunStarted {
    pub run_id: Uuid,
    /// Always `queued`.
    pub status: &'static str,
    /// The WebSocket channel that carries the run's progress: `runs:<run_id>`.
    pub channel: String,
    pub sources: Vec<StartedSource>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct StartedSource {
    #[schema(value_type = String)]
    pub family: Family,
    pub uri: String,
}

/// `GET /api/runs/{run_id}` answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RunDetail {
    pub run: RunRow,
    pub phases: Vec<PhaseRow>,
    pub sources: Vec<ManifestRow>,
    /// The world build the run produced (once transformed).
    pub world_build_id: Option<i64>,
}

/// `GET /api/runs/{run_id}`: status, per-phase progress and per-file manifest.
pub async fn get_run(state: AppState, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = run_id(&req)?;
    let store = state.store()?;
    let run = store.run(id).await?.ok_or_else(|| ApiError::not_found(format!("no run {id}")))?;
    let phases = store.run_phases(id).await?;
    let sources = store.run_manifest(id).await?;
    let build = store.world_build_id_of_run(id).await?;
    Ok(ok_json(&RunDetail { run, phases, sources, world_build_id: build }))
}

/// One run of the manifest with its source files.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ManifestEntry {
    pub run: RunRow,
    pub sources: Vec<ManifestRow>,
}

/// `GET /api/runs/manifest` answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ManifestPage {
    runs: Vec<ManifestEntry>,
    total_returned: usize,
    limit: i64,
    /// Pass as `before` to get the next page (absent on the last page).
    #[serde(skip_serializing_if = "Option::is_none")]
    next_before: Option<DateTime<Utc>>,
}

/// `GET /api/runs/manifest?limit=&before=`: runs newest first with their source files.
pub async fn manifest(state: AppState, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let limit = req.query_i64("limit")?.unwrap_or(50).clamp(1, 200);
    let before = match req.query.get("before").filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(
            DateTime::parse_from_rfc3339(v)
                .map_err(|_| ApiError::bad_request("query parameter 'before' must be an ISO 8601 time"))?
                .with_timezone(&Utc),
        ),
    };
    let store = state.store()?;
    let runs = store.list_runs(limit, before).await?;
    let mut out = Vec::with_capacity(runs.len());
    for run in &runs {
        let sources = store.run_manifest(run.run_id).await?;
        out.push(ManifestEntry { run: run.clone(), sources });
    }
    let next_before = (runs.len() as i64 == limit).then(|| runs.last().map(|r| r.started_at)).flatten();
    Ok(ok_json(&ManifestPage { total_returned: out.len(), runs: out, limit, next_before }))
}

/// `GET /api/runs/validation/{run_id}?source=&code=&limit=&offset=`: per-file gate results and
/// the quarantine records with their reasons and raw rows, paged.
pub async fn validation(state: AppState, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = run_id(&req)?;
    let limit = req.query_i64("limit")?.unwrap_or(100).clamp(1, 1000);
    let offset = req.query_i64("offset")?.unwrap_or(0);
    if offset < 0 {
        return Err(ApiError::bad_request("query parameter 'offset' must be >= 0"));
    }
    let store = state.store()?;
    if store.run(id).await?.is_none() {
        return Err(ApiError::not_found(format!("no run {id}")));
    }
    let summary = store.validation_summary(id).await?;
    let source = req.query.get("source").map(String::as_str).filter(|s| !s.is_empty());
    let code = req.query.get("code").map(String::as_str).filter(|s| !s.is_empty());
    let (rows, total) = store.quarantine_page(id, source, code, limit, offset).await?;
    Ok(ok_json(&Validation {
        run_id: id,
        total_sources: summary.len(),
        validation_summary: summary,
        quarantine: QuarantinePage { returned: rows.len(), rows, total_count: total, limit, offset },
    }))
}

/// `GET /api/runs/validation/{run_id}` answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Validation {
    pub run_id: Uuid,
    pub validation_summary: Vec<SummaryRow>,
    pub total_sources: usize,
    pub quarantine: QuarantinePage,
}

/// A page of quarantine records (rows with their reason codes and raw cells).
#[derive(Serialize, utoipa::ToSchema)]
pub struct QuarantinePage {
    pub rows: Vec<QuarantineRow>,
    pub total_count: i64,
    pub returned: usize,
    pub limit: i64,
    pub offset: i64,
}

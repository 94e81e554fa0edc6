//! `GET /api/world/systems`, `/xyz` and `/full` (DOMAIN.md §2.3–2.5): the systems of the
//! active world build within scope, nearest first, paged with true totals.

use crate::request::{ApiRequest, ApiResponse};
use crate::{ApiError, AppState};
use bytes::Bytes;
use exomaps_store::world::{SystemRow, WorldBuildRow};
use serde::Serialize;
use std::future::Future;

/// Paging of one listing: defaults and upper bounds per route.
struct Paging {
    limit: i64,
    offset: i64,
}

fn paging(req: &ApiRequest, default_limit: i64, max_limit: i64) -> Result<Paging, ApiError> {
    let limit = req.query_i64("limit")?.unwrap_or(default_limit);
    let offset = req.query_i64("offset")?.unwrap_or(0);
    if offset < 0 {
        return Err(ApiError::bad_request("query parameter 'offset' must be >= 0"));
    }
    Ok(Paging { limit: limit.clamp(1, max_limit), offset })
}

#[derive(Serialize)]
struct Envelope<T: Serialize> {
    systems: Vec<T>,
    /// Systems in scope in the active world build (not the page length).
    total_count: i64,
    returned: usize,
    limit: i64,
    offset: i64,
    persona: &'static str,
    world_build_id: Option<i64>,
    scope_ly: Option<f64>,
    source: &'static str,
}

fn source_of(row: &SystemRow) -> &'static str {
    if row.distance_source == "curated" { "curated" } else { "observed" }
}

/// A page of the given build's in-scope systems (empty when nothing has been built yet).
async fn page<T: Serialize>(
    state: &AppState,
    req: &ApiRequest,
    build: Option<&WorldBuildRow>,
    p: Paging,
    map: impl Fn(SystemRow) -> T,
) -> Result<Envelope<T>, ApiError> {
    let (systems, total) = match build {
        Some(b) => {
            let page = state.store()?.systems_in_scope(b.world_build_id, p.limit, p.offset).await?;
            (page.systems.into_iter().map(map).collect::<Vec<_>>(), page.total)
        }
        None => (Vec::new(), 0),
    };
    Ok(Envelope {
        returned: systems.len(),
        systems,
        total_count: total,
        limit: p.limit,
        offset: p.offset,
        persona: req.caller.persona.key(),
        world_build_id: build.map(|b| b.world_build_id),
        scope_ly: build.map(|b| b.scope_ly),
        source: "database",
    })
}

/// Serves the answer under `key` from the world read cache (`crate::cache`), building it with
/// `make` for the active build on a miss. The key gets the caller's persona and redaction (the
/// answers name the persona).
async fn serve_cached<F, Fut>(state: &AppState, req: &ApiRequest, key: String, make: F) -> Result<ApiResponse, ApiError>
where
    F: FnOnce(Option<WorldBuildRow>) -> Fut,
    Fut: Future<Output = Result<Bytes, ApiError>>,
{
    let cache = state.world_cache();
    let generation = state.store_opt().map_or(0, |s| s.activation_generation());
    let fetch = || async {
        match state.store() {
            Ok(store) => store.active_world_build().await.map_err(|e| {
                let unavailable = e.is_unavailable();
                (ApiError::from(e), unavailable)
            }),
            Err(e) => Err((e, true)),
        }
    };
    let on_unavailable = || {
        if !state.db_known_down() {
            state.mark_db_down();
        }
    };
    let build = cache.active_build(generation, state.config().world_cache_check, fetch, on_unavailable).await?;
    let id = build.as_ref().map(|b| b.world_build_id);
    let key = format!("{key}|{}|{}", req.caller.persona.key(), req.redacted);
    let entry = cache.get_or_build(state.config().compress, id, &key, || make(build)).await?;
    Ok(crate::cache::respond(req, &entry))
}

fn to_bytes(v: &impl Serialize) -> Result<Bytes, ApiError> {
    serde_json::to_vec(v).map(Bytes::from).map_err(|_| ApiError::internal())
}

/// `confidence_bound` (the distance uncertainty in pc, `null` when unknown) is redacted —
/// omitted — where the permission row says R (observer_guest, DOMAIN.md §1.3).
fn confidence_bound(req: &ApiRequest, row: &SystemRow) -> Option<Option<f64>> {
    (!req.redacted).then_some(row.uncertainty_pc)
}

#[derive(Serialize)]
struct SystemSummary {
    main_id: String,
    distance_ly: f64,
    source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    confidence_bound: Option<Option<f64>>,
}

pub async fn systems(state: AppState, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (state, req) = (&state, &req);
    let p = paging(req, 500, 5000)?;
    let key = format!("systems|{}|{}", p.limit, p.offset);
    serve_cached(state, req, key, |build| async move {
        let env = page(state, req, build.as_ref(), p, |r| SystemSummary {
            source: source_of(&r),
            confidence_bound: confidence_bound(req, &r),
            main_id: r.main_id,
            distance_ly: r.distance_ly,
        })
        .await?;
        to_bytes(&env)
    })
    .await
}

#[derive(Serialize)]
struct SystemXyz {
    main_id: String,
    x_pc: f64,
    y_pc: f64,
    z_pc: f64,
    distance_ly: f64,
    distance_source: String,
    source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    confidence_bound: Option<Option<f64>>,
}

pub async fn systems_xyz(state: AppState, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (state, req) = (&state, &req);
    let p = paging(req, 2000, 20000)?;
    let key = format!("xyz|{}|{}", p.limit, p.offset);
    serve_cached(state, req, key, |build| async move {
        let env = page(state, req, build.as_ref(), p, |r| SystemXyz {
            source: source_of(&r),
            confidence_bound: confidence_bound(req, &r),
            x_pc: r.x_pc,
            y_pc: r.y_pc,
            z_pc: r.z_pc,
            distance_ly: r.distance_ly,
            main_id: r.main_id,
            distance_source: r.distance_source,
        })
        .await?;
        to_bytes(&env)
    })
    .await
}

#[derive(Serialize)]
struct Companion {
    name: String,
    separation_au: f64,
    bond_type: String,
}

#[derive(Serialize)]
struct SystemFull {
    main_id: String,
    /// ICRS Cartesian, parsecs.
    x: f64,
    y: f64,
    z: f64,
    distance_ly: f64,
    spectral_class: Option<String>,
    spectral_type: Option<String>,
    teff: Option<f64>,
    luminosity: Option<f64>,
    multiplicity: i16,
    planet_count: i64,
    observed_planet_count: i64,
    inferred_planet_count: i64,
    confidence: &'static str,
    companions: Vec<Companion>,
    system_group: Option<String>,
    group_hierarchy: Option<String>,
}

/// The map payload: every system in scope with its class, planet counts (observed and
/// inferred) and group (the SPA itself loads the compact binary asset instead). Served from the
/// world read cache: a strong `ETag` per answer, 304 on `If-None-Match`.
pub async fn systems_full(state: AppState, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (state, req) = (&state, &req);
    let p = paging(req, 20000, 20000)?;
    let key = format!("full|{}|{}", p.limit, p.offset);
    serve_cached(state, req, key, |build| async move {
        let env = page(state, req, build.as_ref(), p, |r| SystemFull {
            confidence: source_of(&r),
            main_id: r.main_id,
            x: r.x_pc,
            y: r.y_pc,
            z: r.z_pc,
            distance_ly: r.distance_ly,
            spectral_class: r.spectral_class,
            spectral_type: r.spectral_type,
            teff: r.teff_k,
            luminosity: r.luminosity_lsun,
            multiplicity: r.multiplicity,
            planet_count: (r.observed_planets + r.inferred_planets) as i64,
            observed_planet_count: r.observed_planets as i64,
            inferred_planet_count: r.inferred_planets as i64,
            companions: Vec::new(),
            system_group: r.system_group,
            group_hierarchy: None,
        })
        .await?;
        to_bytes(&env)
    })
    .await
}

/// `GET /api/world/confidence` (DOMAIN.md §2.6): in-scope systems by distance uncertainty.
/// Catalogue distances carry no σ: their uncertainty is `null` with flag `unknown`, never 0.
pub async fn confidence(state: AppState, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (state, req) = (&state, &req);
    serve_cached(state, req, "confidence".into(), |build| async move {
        let rows = match &build {
            Some(b) => state.store()?.confidence_rows(b.world_build_id).await?,
            None => Vec::new(),
        };
        let unknown = rows.iter().filter(|r| r.uncertainty_pc.is_none()).count();
        to_bytes(&serde_json::json!({
            "confidence_data": rows,
            "total_count": rows.len(),
            "unknown_uncertainty_count": unknown,
            "high_uncertainty_threshold_pc": 2.0,
            "world_build_id": build.as_ref().map(|b| b.world_build_id),
            "persona": req.caller.persona.key(),
        }))
    })
    .await
}

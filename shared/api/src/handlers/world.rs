//! `GET /api/world/systems`, `/xyz` and `/full` (DOMAIN.md §2.3–2.5): the systems of the
//! active world build within scope, nearest first, paged with true totals.

use crate::error::ApiError;
use crate::request::{ApiRequest, ApiResponse};
use crate::state::AppState;
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

/// Where a listing's systems came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DataSource {
    /// The active world build in PostgreSQL.
    Database,
    /// Nothing: no world build has been published yet (the listing is empty).
    None,
}

/// A page of a world listing: the systems and the envelope of DOMAIN.md §2.3–2.5. One type per
/// listing (`SystemsPage`, `SystemsXyzPage`, `SystemsFullPage`), so each is documented.
macro_rules! page_type {
    ($(#[$doc:meta])* $name:ident of $item:ty) => {
        $(#[$doc])*
        #[derive(Serialize, utoipa::ToSchema)]
        pub struct $name {
            pub systems: Vec<$item>,
            /// Systems in scope in the active world build (not the page length).
            pub total_count: i64,
            pub returned: usize,
            pub limit: i64,
            pub offset: i64,
            pub persona: &'static str,
            pub world_build_id: Option<i64>,
            pub scope_ly: Option<f64>,
            pub source: DataSource,
        }

        impl From<Page<$item>> for $name {
            fn from(p: Page<$item>) -> $name {
                $name {
                    returned: p.systems.len(),
                    systems: p.systems,
                    total_count: p.total_count,
                    limit: p.limit,
                    offset: p.offset,
                    persona: p.persona,
                    world_build_id: p.world_build_id,
                    scope_ly: p.scope_ly,
                    source: p.source,
                }
            }
        }
    };
}

page_type!(
    /// `GET /api/world/systems` answer.
    SystemsPage of SystemSummary
);
page_type!(
    /// `GET /api/world/systems/xyz` answer.
    SystemsXyzPage of SystemXyz
);
page_type!(
    /// `GET /api/world/systems/full` answer.
    SystemsFullPage of SystemFull
);

/// One page of systems before it takes its listing's type.
struct Page<T> {
    systems: Vec<T>,
    total_count: i64,
    limit: i64,
    offset: i64,
    persona: &'static str,
    world_build_id: Option<i64>,
    scope_ly: Option<f64>,
    source: DataSource,
}

fn source_of(row: &SystemRow) -> &'static str {
    if row.distance_source == "curated" { "curated" } else { "observed" }
}

/// A page of the given build's in-scope systems (empty when nothing has been built yet).
async fn page<T>(
    state: &AppState,
    req: &ApiRequest,
    build: Option<&WorldBuildRow>,
    p: Paging,
    map: impl Fn(SystemRow) -> T,
) -> Result<Page<T>, ApiError> {
    let (systems, total) = match build {
        Some(b) => {
            let page = state.store()?.systems_in_scope(b.world_build_id, p.limit, p.offset).await?;
            (page.systems.into_iter().map(map).collect::<Vec<_>>(), page.total)
        }
        None => (Vec::new(), 0),
    };
    Ok(Page {
        systems,
        total_count: total,
        limit: p.limit,
        offset: p.offset,
        persona: req.caller.persona.key(),
        world_build_id: build.map(|b| b.world_build_id),
        scope_ly: build.map(|b| b.scope_ly),
        source: if build.is_some() { DataSource::Database } else { DataSource::None },
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

/// One system of `GET /api/world/systems`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SystemSummary {
    pub main_id: String,
    pub distance_ly: f64,
    /// `curated` or `observed`.
    pub source: &'static str,
    /// Distance uncertainty in pc (`null`: unknown); left out for observer_guest.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>, required = false)]
    pub confidence_bound: Option<Option<f64>>,
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
        to_bytes(&SystemsPage::from(env))
    })
    .await
}

/// One system of `GET /api/world/systems/xyz`: ICRS Cartesian position in pc.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SystemXyz {
    pub main_id: String,
    pub x_pc: f64,
    pub y_pc: f64,
    pub z_pc: f64,
    pub distance_ly: f64,
    pub distance_source: String,
    /// `curated` or `observed`.
    pub source: &'static str,
    /// Distance uncertainty in pc (`null`: unknown); left out for observer_guest.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>, required = false)]
    pub confidence_bound: Option<Option<f64>>,
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
        to_bytes(&SystemsXyzPage::from(env))
    })
    .await
}

/// A companion of a system (`bond_type`: `close_binary`, `wide_companion`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Companion {
    pub name: String,
    pub separation_au: f64,
    pub bond_type: String,
}

/// One system of `GET /api/world/systems/full` (DOMAIN.md §2.5).
#[derive(Serialize, utoipa::ToSchema)]
pub struct SystemFull {
    pub main_id: String,
    /// ICRS Cartesian, parsecs.
    pub x: f64,
    pub y: f64,
    pub z: f64,
    pub distance_ly: f64,
    pub spectral_class: Option<String>,
    pub spectral_type: Option<String>,
    pub teff: Option<f64>,
    pub luminosity: Option<f64>,
    pub multiplicity: i16,
    pub planet_count: i64,
    pub observed_planet_count: i64,
    pub inferred_planet_count: i64,
    /// `curated` or `observed`.
    pub confidence: &'static str,
    pub companions: Vec<Companion>,
    pub system_group: Option<String>,
    pub group_hierarchy: Option<String>,
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
        to_bytes(&SystemsFullPage::from(env))
    })
    .await
}

/// Uncertainty (pc) above which a distance counts as highly uncertain (DOMAIN.md §2.6).
pub const HIGH_UNCERTAINTY_PC: f64 = 2.0;

/// One system's distance uncertainty.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ConfidenceEntry {
    pub main_id: String,
    pub distance_ly: f64,
    pub distance_source: String,
    /// 1σ in pc; `null` when the source gives none (never 0).
    pub uncertainty_pc: Option<f64>,
    /// `unknown` when `uncertainty_pc` is null.
    pub uncertainty_flag: String,
}

impl From<exomaps_store::reports::ConfidenceRow> for ConfidenceEntry {
    fn from(r: exomaps_store::reports::ConfidenceRow) -> ConfidenceEntry {
        ConfidenceEntry {
            main_id: r.main_id,
            distance_ly: r.distance_ly,
            distance_source: r.distance_source,
            uncertainty_pc: r.uncertainty_pc,
            uncertainty_flag: r.uncertainty_flag,
        }
    }
}

/// `GET /api/world/confidence` answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ConfidencePage {
    pub confidence_data: Vec<ConfidenceEntry>,
    pub total_count: usize,
    pub unknown_uncertainty_count: usize,
    pub high_uncertainty_threshold_pc: f64,
    pub world_build_id: Option<i64>,
    pub persona: &'static str,
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
        let confidence_data: Vec<ConfidenceEntry> = rows.into_iter().map(ConfidenceEntry::from).collect();
        to_bytes(&ConfidencePage {
            total_count: confidence_data.len(),
            unknown_uncertainty_count: confidence_data.iter().filter(|r| r.uncertainty_pc.is_none()).count(),
            confidence_data,
            high_uncertainty_threshold_pc: HIGH_UNCERTAINTY_PC,
            world_build_id: build.as_ref().map(|b| b.world_build_id),
            persona: req.caller.persona.key(),
        })
    })
    .await
}

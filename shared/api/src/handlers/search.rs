//! `GET /api/search?q=&limit=`: systems of the active world build by any name — proper names,
//! designations in every spelling, catalogue identifiers, names in other languages — ranked
//! exact > prefix > fuzzy, tolerant of case, accents, spacing, punctuation and typos
//! (`barnards star`, `Vgea`). The query is folded with `names::search_key`, the same key the
//! names were indexed with (PostgreSQL `pg_trgm` + `fuzzystrmatch`, migration 0007).

use crate::error::ApiError;
use crate::request::{ApiRequest, ApiResponse, ok_json};
use crate::state::AppState;
use exomaps_domain::names::search_key;
use serde::Serialize;

pub const DEFAULT_LIMIT: i64 = 10;
pub const MAX_LIMIT: i64 = 50;
pub const MAX_QUERY_CHARS: usize = 100;

/// The answer of `GET /api/search`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SearchResults {
    pub query: String,
    pub results: Vec<SearchResult>,
}

/// One system found by name.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SearchResult {
    /// The system's main_id (`GET /api/system/{main_id}`).
    pub main_id: String,
    /// The name to show (proper name or designation), when the system has one.
    pub display_name: Option<String>,
    /// The name that matched the query.
    pub matched: String,
    /// `exact`, `prefix` or `fuzzy`.
    #[serde(rename = "match")]
    pub match_kind: String,
    pub distance_ly: Option<f64>,
}

pub async fn search(state: AppState, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let q = req.query.get("q").map(|s| s.trim()).unwrap_or("");
    if q.is_empty() || q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad_request(format!("give a name to search for: q, 1–{MAX_QUERY_CHARS} characters")));
    }
    let limit = req.query_i64("limit")?.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!("limit must be 1–{MAX_LIMIT}")));
    }
    let key = search_key(q);
    let results = if key.is_empty() { Vec::new() } else { state.store()?.search_names(&key, limit).await? };
    let results = results
        .into_iter()
        .map(|h| SearchResult {
            main_id: h.main_id,
            display_name: h.display_name,
            matched: h.name,
            match_kind: match h.tier {
                0 => "exact",
                1 => "prefix",
                _ => "fuzzy",
            }
            .to_string(),
            distance_ly: h.distance_ly,
        })
        .collect();
    Ok(ok_json(&SearchResults { query: q.to_string(), results }))
}

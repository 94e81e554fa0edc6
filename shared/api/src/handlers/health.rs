//! `GET /api/health` (DOMAIN.md §2.1): 200 when the database answers, 503 envelope when not.

use crate::error::ApiError;
use crate::request::{ApiRequest, ApiResponse, ok_json};
use crate::state::AppState;
use serde::Serialize;
use std::time::Duration;

/// The database as the health check found it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DbStatus {
    pub configured: bool,
    pub connected: bool,
    pub message: &'static str,
    /// The driver's error text: only for admin and ops_engineer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// `GET /api/health` answer (a 503 envelope carries `db_status` when the database is down).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
    pub version: &'static str,
    pub build: String,
    pub persona: &'static str,
    pub routes_count: usize,
    pub db_status: DbStatus,
}

/// `routes_count`: how many routes the table holds (the table passes it).
pub async fn health(state: AppState, req: ApiRequest, routes_count: usize) -> Result<ApiResponse, ApiError> {
    // The permission row redacts the driver's error text for every persona but admin and ops.
    let privileged = !req.redacted;
    let persona = req.caller.persona.key();
    let db_status = match state.store_opt() {
        None => DbStatus { configured: false, connected: false, message: "DB not configured", detail: None },
        // Known down: answer at once; the background probe clears it when the database is back.
        Some(_) if state.db_known_down() => DbStatus {
            configured: true,
            connected: false,
            message: "Database not available",
            detail: privileged.then(|| "known down; probing in the background".to_string()),
        },
        Some(store) => match tokio::time::timeout(Duration::from_secs(5), store.ping()).await {
            Ok(Ok(())) => DbStatus { configured: true, connected: true, message: "Connected", detail: None },
            Ok(Err(e)) => DbStatus {
                configured: true,
                connected: false,
                message: "Database not available",
                detail: privileged.then(|| e.to_string()),
            },
            Err(_) => DbStatus {
                configured: true,
                connected: false,
                message: "Database not available",
                detail: privileged.then(|| "ping timed out after 5 s".to_string()),
            },
        },
    };
    if !db_status.connected {
        let db = serde_json::to_value(&db_status).unwrap_or_default();
        return Err(ApiError::db_unavailable().with("db_status", db).with("persona", persona));
    }
    Ok(ok_json(&Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        build: state.config().build.clone(),
        persona,
        routes_count,
        db_status,
    }))
}

//! `GET /api/admin/users` (admin only): the users and their personas ("User Modes", DOMAIN.md §1.1).

use crate::request::{ApiRequest, ApiResponse, ok_json};
use crate::{ApiError, AppState};
use exomaps_domain::persona::Persona;
use serde_json::json;

pub async fn users(state: AppState, _req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let mut users = state.store()?.list_users().await?;
    for u in &mut users {
        u.personas.sort_by_key(|k| Persona::from_key(k).map_or(usize::MAX, Persona::index));
    }
    Ok(ok_json(&json!({ "users": users, "total_count": users.len() })))
}

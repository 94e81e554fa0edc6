//! `GET /api/admin/users` (admin only): the users and their personas ("User Modes", DOMAIN.md §1.1).

use crate::request::{ApiRequest, ApiResponse, ok_json};
use crate::{ApiError, AppState};
use serde_json::json;

pub async fn users(state: AppState, _req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let users = state.store()?.list_users().await?;
    Ok(ok_json(&json!({ "users": users, "total_count": users.len() })))
}

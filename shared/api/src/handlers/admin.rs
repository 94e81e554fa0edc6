//! `GET /api/admin/users` (admin only): the users and their personas ("User Modes", DOMAIN.md §1.1).

use crate::error::ApiError;
use crate::request::{ApiRequest, ApiResponse, ok_json};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use exomaps_domain::persona::Persona;
use exomaps_store::identity::UserSummary;
use serde::Serialize;
use uuid::Uuid;

/// A user as an administrator sees it (no password hash).
#[derive(Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub user_id: Uuid,
    pub username: String,
    pub default_persona: String,
    /// In the order of DOMAIN.md §1.1.
    pub personas: Vec<String>,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

/// `GET /api/admin/users` answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct UserList {
    pub users: Vec<UserView>,
    pub total_count: usize,
}

impl From<UserSummary> for UserView {
    fn from(u: UserSummary) -> UserView {
        let mut personas = u.personas;
        personas.sort_by_key(|k| Persona::from_key(k).map_or(usize::MAX, Persona::index));
        UserView {
            user_id: u.user_id,
            username: u.username,
            default_persona: u.default_persona,
            personas,
            disabled: u.disabled,
            created_at: u.created_at,
        }
    }
}

pub async fn users(state: AppState, _req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let users: Vec<UserView> = state.store()?.list_users().await?.into_iter().map(UserView::from).collect();
    Ok(ok_json(&UserList { total_count: users.len(), users }))
}

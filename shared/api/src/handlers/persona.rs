//! `GET /api/persona` and `POST /api/persona` (DOMAIN.md §1.3, §2.2). The current persona and
//! the allowed set come from the caller's access token; anonymous callers are observer_guest
//! and may "switch" only to observer_guest. A switch re-issues the access token (in the body
//! for Bearer callers, in the `exomaps_at` cookie for cookie callers) and becomes the persona
//! the session's next refresh keeps.

use super::auth::{mode_of, token_response};
use crate::auth::token::Subject;
use crate::error::ApiError;
use crate::request::{ApiRequest, ApiResponse, ok_json};
use crate::state::AppState;
use exomaps_domain::persona::Persona;
use http::StatusCode;
use serde::{Deserialize, Serialize};

#[derive(Serialize, utoipa::ToSchema)]
pub struct PersonaInfo {
    label: &'static str,
    description: &'static str,
    menus: &'static [&'static str],
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PersonaRef {
    key: &'static str,
    label: &'static str,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PersonaView {
    current_persona_key: &'static str,
    current_persona: PersonaInfo,
    /// The personas this caller may switch to, in the order of DOMAIN.md §1.1.
    available_personas: Vec<PersonaRef>,
    /// The signed-in user, `null` for anonymous callers.
    user: Option<String>,
}

fn view(p: Persona, allowed: &[Persona], user: Option<String>) -> PersonaView {
    PersonaView {
        current_persona_key: p.key(),
        current_persona: PersonaInfo { label: p.label(), description: p.description(), menus: p.menus() },
        available_personas: Persona::ALL
            .into_iter()
            .filter(|q| allowed.contains(q))
            .map(|q| PersonaRef { key: q.key(), label: q.label() })
            .collect(),
        user,
    }
}

pub async fn get_persona(_state: AppState, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let c = &req.caller;
    Ok(ok_json(&view(c.persona, &c.allowed, c.user.clone())))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SwitchBody {
    /// A persona key.
    #[schema(
        pattern = "^(admin|sim_owner|general_user|data_curator|science_analyst|ops_engineer|narrative_curator|observer_guest)$"
    )]
    persona: String,
}

pub async fn set_persona(state: AppState, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let body: SwitchBody = req.json_body(1024)?;
    let caller = &req.caller;
    let Some(p) = Persona::from_key(body.persona.trim()) else {
        return Err(ApiError::bad_request(format!("unknown persona {:?}", body.persona))
            .with_code("unknown_persona")
            .with("known_personas", Persona::ALL.iter().map(|p| p.key()).collect::<Vec<_>>()));
    };
    if !caller.allowed.contains(&p) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("persona {} is not available to this caller", p.key()),
        )
        .with("required_personas", vec![p.key()])
        .with("current_persona", caller.persona.key())
        .with("available_personas", caller.allowed.iter().map(|p| p.key()).collect::<Vec<_>>()));
    }
    let (Some(user_id), Some(username)) = (caller.user_id, caller.user.clone()) else {
        // Anonymous: the only persona allowed is the one it already has; nothing to re-issue.
        return Ok(ok_json(&view(p, &caller.allowed, None)));
    };
    let keys = state.signing_keys().await?;
    if let Some(session) = caller.session {
        state.store()?.set_family_persona(session, user_id, p.key()).await?;
    }
    let subject = Subject { user_id, username, persona: p, personas: caller.allowed.clone(), session: caller.session };
    let issued = token_response(&state.config().auth, &keys, &subject, None, mode_of(caller.via))?;
    // The body is the GET body plus the re-issued token (Bearer callers only).
    let (parts, bytes) = issued.into_parts();
    let tokens: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| ApiError::internal())?;
    let mut out =
        serde_json::to_value(view(p, &caller.allowed, caller.user.clone())).map_err(|_| ApiError::internal())?;
    for key in ["access_token", "token_type", "expires_in"] {
        if let Some(v) = tokens.get(key).filter(|_| tokens.get("access_token").is_some()) {
            out[key] = v.clone();
        }
    }
    let mut res = ok_json(&out);
    for c in parts.headers.get_all(http::header::SET_COOKIE) {
        res.headers_mut().append(http::header::SET_COOKIE, c.clone());
    }
    Ok(res)
}

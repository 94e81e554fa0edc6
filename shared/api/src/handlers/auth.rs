//! `POST /api/auth/login`, `POST /api/auth/refresh`, `POST /api/auth/logout`.
//!
//! Two client modes, chosen by the request: `"mode": "cookie"` (the SPA) puts the access and
//! refresh tokens in HttpOnly cookies and leaves them out of the body; `"mode": "bearer"` (the
//! default, API clients) returns them in the body. A refresh presented by cookie answers in
//! cookies. Refresh tokens are 256-bit random strings, stored only as SHA-256 digests, rotated
//! on every use; presenting a rotated one again revokes the whole session (family).

use crate::auth::token::{self, Subject};
use crate::auth::{self, Via, cookies, password};
use crate::config::AuthConfig;
use crate::error::ApiError;
use crate::request::{ApiRequest, ApiResponse, ok_json};
use crate::secrets::{KeySet, random_token};
use crate::state::AppState;
use exomaps_domain::persona::Persona;
use exomaps_store::Store;
use exomaps_store::identity::RefreshOutcome;
use http::{HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Largest body the auth routes read.
pub const MAX_AUTH_BODY: usize = 8 * 1024;
/// Refresh tokens are 32 random bytes in base64url (43 characters).
const REFRESH_TOKEN_BYTES: usize = 32;
const MAX_REFRESH_TOKEN_CHARS: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Cookie,
    #[default]
    Bearer,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginBody {
    /// 1–128 characters, not only white space (it is trimmed).
    #[schema(min_length = 1, max_length = 128, pattern = "[^\\s\\u0085]")]
    username: String,
    /// At most 1024 bytes (256 characters always fit).
    #[schema(min_length = 1, max_length = 256)]
    password: String,
    #[serde(default)]
    mode: Mode,
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct RefreshBody {
    refresh_token: Option<String>,
    #[serde(default)]
    mode: Option<Mode>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenBody {
    token_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_token: Option<String>,
    expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    refresh_expires_in: i64,
    user: String,
    persona: &'static str,
    personas: Vec<&'static str>,
}

fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn user_key(username: &str) -> String {
    format!("user:{}", username.to_lowercase())
}

fn invalid_credentials() -> ApiError {
    ApiError::unauthorized("invalid_credentials", "Unknown user or wrong password")
}

fn invalid_refresh(mode: Mode) -> ApiError {
    clearing(ApiError::unauthorized("invalid_refresh_token", "The refresh token is not valid; sign in again"), mode)
}

/// In cookie mode, a refused session also deletes the session cookies.
fn clearing(mut e: ApiError, mode: Mode) -> ApiError {
    if mode == Mode::Cookie {
        for c in cookies::clear() {
            e = e.with_header(header::SET_COOKIE, c);
        }
    }
    e
}

/// Counts this attempt per user and per source address; 429 with `Retry-After` over either
/// limit. Counting comes before the password check, so a locked-out attacker learns nothing.
async fn limit_attempts(store: &Store, cfg: &AuthConfig, username: &str, req: &ApiRequest) -> Result<(), ApiError> {
    let source = req.source_ip.map_or_else(|| "source:unknown".to_string(), |ip| format!("source:{ip}"));
    let by_user = store.count_login_attempt(&user_key(username), cfg.login_window_secs).await?;
    let by_source = store.count_login_attempt(&source, cfg.login_window_secs).await?;
    let retry = [(by_user, cfg.login_max_per_user), (by_source, cfg.login_max_per_source)]
        .into_iter()
        .filter(|(c, max)| c.attempts > *max)
        .map(|(c, _)| c.retry_after_secs)
        .max();
    match retry {
        None => Ok(()),
        Some(secs) => {
            tracing::warn!(user = %username, %source, "login attempt limit reached");
            Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                "Too many sign-in attempts; try later",
            )
            .with("retry_after", secs)
            .with_header(header::RETRY_AFTER, HeaderValue::from(secs)))
        }
    }
}

/// The user's personas in canonical order.
pub(crate) async fn personas_of(store: &Store, user_id: Uuid) -> Result<Vec<Persona>, ApiError> {
    let keys = store.user_personas(user_id).await?;
    Ok(Persona::ALL.into_iter().filter(|p| keys.iter().any(|k| k == p.key())).collect())
}

/// `wanted` when the user still has it, else the user's default, else its first persona.
fn pick_persona(wanted: &str, default: &str, personas: &[Persona]) -> Option<Persona> {
    [wanted, default]
        .iter()
        .filter_map(|k| Persona::from_key(k))
        .find(|p| personas.contains(p))
        .or_else(|| personas.first().copied())
}

/// Issues an access token for `subject` and answers in `mode`, with the refresh token if any.
pub(crate) fn token_response(
    cfg: &AuthConfig,
    keys: &KeySet,
    subject: &Subject,
    refresh: Option<String>,
    mode: Mode,
) -> Result<ApiResponse, ApiError> {
    let now = chrono::Utc::now().timestamp();
    let (access, _) = token::issue(cfg, keys, subject, now).map_err(|e| {
        tracing::error!(error = %e, "cannot sign an access token");
        ApiError::internal()
    })?;
    let bearer = mode == Mode::Bearer;
    let body = TokenBody {
        token_type: "Bearer",
        access_token: bearer.then(|| access.clone()),
        expires_in: cfg.access_ttl_secs,
        refresh_token: if bearer { refresh.clone() } else { None },
        refresh_expires_in: cfg.refresh_ttl_secs,
        user: subject.username.clone(),
        persona: subject.persona.key(),
        personas: subject.personas.iter().map(|p| p.key()).collect(),
    };
    let mut res = ok_json(&body);
    if !bearer {
        let h = res.headers_mut();
        h.append(header::SET_COOKIE, cookies::access(&access, cfg.access_ttl_secs));
        if let Some(r) = &refresh {
            h.append(header::SET_COOKIE, cookies::refresh(r, cfg.refresh_ttl_secs));
        }
    }
    Ok(res)
}

pub async fn login(state: AppState, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let body: LoginBody = req.json_body(MAX_AUTH_BODY)?;
    let username = body.username.trim();
    if username.is_empty() || username.chars().count() > 128 {
        return Err(ApiError::bad_request("username must be 1 to 128 characters"));
    }
    if body.password.is_empty() || body.password.len() > password::MAX_PASSWORD_BYTES {
        return Err(ApiError::bad_request(format!("password must be 1 to {} bytes", password::MAX_PASSWORD_BYTES)));
    }
    let store = state.store()?;
    let keys = state.signing_keys().await?;
    let cfg = &state.config().auth;
    limit_attempts(store, cfg, username, &req).await?;

    let user = store.user_by_username(username).await?;
    let ok = password::verify_blocking(body.password, user.as_ref().map(|u| u.password_hash.clone())).await;
    let user = match user {
        Some(u) if ok && !u.disabled => u,
        _ => {
            tracing::info!(user = %username, "sign-in refused");
            return Err(invalid_credentials());
        }
    };
    store.reset_login_attempts(&user_key(username)).await?;
    let personas = personas_of(store, user.user_id).await?;
    let persona = pick_persona(&user.default_persona, &user.default_persona, &personas)
        .ok_or_else(|| ApiError::new(StatusCode::FORBIDDEN, "no_personas", "This user has no persona"))?;

    let family = Uuid::new_v4();
    let refresh = random_token(REFRESH_TOKEN_BYTES);
    let expires = chrono::Utc::now() + chrono::Duration::seconds(cfg.refresh_ttl_secs);
    store.create_refresh_family(family, user.user_id, persona.key(), &digest(&refresh), expires).await?;
    tracing::info!(user = %user.username, persona = persona.key(), "signed in");
    let subject = Subject { user_id: user.user_id, username: user.username, persona, personas, session: Some(family) };
    token_response(cfg, &keys, &subject, Some(refresh), body.mode)
}

/// The refresh token of a request: the body's, else the cookie's.
fn presented_refresh(req: &ApiRequest) -> Result<(Option<String>, Mode), ApiError> {
    let body: RefreshBody = if req.body.is_empty() { RefreshBody::default() } else { req.json_body(MAX_AUTH_BODY)? };
    Ok(match body.refresh_token {
        Some(t) => (Some(t), body.mode.unwrap_or(Mode::Bearer)),
        None => match cookies::get(&req.headers, cookies::REFRESH_COOKIE) {
            Some(t) if !t.is_empty() => (Some(t.to_string()), Mode::Cookie),
            _ => (None, body.mode.unwrap_or(Mode::Bearer)),
        },
    })
}

fn well_formed_refresh(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= MAX_REFRESH_TOKEN_CHARS
        && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub async fn refresh(state: AppState, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (token, mode) = presented_refresh(&req)?;
    let Some(token) = token.filter(|t| well_formed_refresh(t)) else {
        return Err(invalid_refresh(mode));
    };
    let store = state.store()?;
    let keys = state.signing_keys().await?;
    let cfg = &state.config().auth;
    let next = random_token(REFRESH_TOKEN_BYTES);
    let expires = chrono::Utc::now() + chrono::Duration::seconds(cfg.refresh_ttl_secs);
    match store.rotate_refresh_token(&digest(&token), &digest(&next), expires).await? {
        RefreshOutcome::Rotated { user_id, family_id, persona } => {
            let user = match store.user_by_id(user_id).await? {
                Some(u) if !u.disabled => u,
                _ => {
                    store.revoke_refresh_family(family_id, "disabled").await?;
                    return Err(invalid_refresh(mode));
                }
            };
            let personas = personas_of(store, user_id).await?;
            let Some(persona) = pick_persona(&persona, &user.default_persona, &personas) else {
                return Err(invalid_refresh(mode));
            };
            let subject = Subject { user_id, username: user.username, persona, personas, session: Some(family_id) };
            token_response(cfg, &keys, &subject, Some(next), mode)
        }
        RefreshOutcome::Reused { family_id } => {
            tracing::warn!(%family_id, "refresh token reused: session revoked");
            Err(clearing(
                ApiError::unauthorized(
                    "refresh_token_reused",
                    "This refresh token was already used; the session has been ended. Sign in again",
                ),
                mode,
            ))
        }
        outcome => {
            tracing::info!(?outcome, "refresh refused");
            Err(invalid_refresh(mode))
        }
    }
}

/// `POST /api/auth/logout` answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LoggedOut {
    /// Always true: logging out is idempotent.
    pub logged_out: bool,
}

/// Ends the session of the presented refresh token (body or cookie), else of the presented
/// access token; always answers 200 and clears the cookies (idempotent).
pub async fn logout(state: AppState, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (token, _) = presented_refresh(&req)?;
    let store = state.store()?;
    let family = match token.filter(|t| well_formed_refresh(t)) {
        Some(t) => store.refresh_family_of(&digest(&t)).await?,
        None => None,
    };
    let family = match family {
        Some(f) => Some(f),
        None => match auth::authenticate(&state, &req.headers).await {
            Ok(caller) if caller.via.is_some() => caller.session,
            _ => None,
        },
    };
    if let Some(f) = family {
        if store.revoke_refresh_family(f, "logout").await? {
            tracing::info!(family_id = %f, "signed out");
        }
        // Its access tokens stop working here at once (elsewhere within the session check TTL).
        state.forget_session(f);
    }
    let mut res = ok_json(&LoggedOut { logged_out: true });
    for c in cookies::clear() {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(res)
}

/// The mode a caller's credential implies for a re-issued token.
pub(crate) fn mode_of(via: Option<Via>) -> Mode {
    if via == Some(Via::Cookie) { Mode::Cookie } else { Mode::Bearer }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persona_choice_falls_back_to_what_the_user_has() {
        let ps = [Persona::GeneralUser, Persona::ObserverGuest];
        assert_eq!(pick_persona("observer_guest", "general_user", &ps), Some(Persona::ObserverGuest));
        assert_eq!(pick_persona("admin", "general_user", &ps), Some(Persona::GeneralUser));
        assert_eq!(pick_persona("admin", "admin", &ps), Some(Persona::GeneralUser));
        assert_eq!(pick_persona("admin", "admin", &[]), None);
    }

    #[test]
    fn refresh_tokens_are_long_random_and_well_formed() {
        let t = random_token(REFRESH_TOKEN_BYTES);
        assert_eq!(t.len(), 43);
        assert!(well_formed_refresh(&t));
        assert!(!well_formed_refresh("a.b"));
        assert!(!well_formed_refresh(&"a".repeat(MAX_REFRESH_TOKEN_CHARS + 1)));
        assert_eq!(digest(&t).len(), 32);
    }
}

//! Who is calling. A request presents at most one credential: `Authorization: Bearer <jwt>`
//! (API clients) or the `exomaps_at` cookie (the SPA). No credential → anonymous, acting as
//! `observer_guest`. A credential that is presented but refused is a 401 — never a silent
//! downgrade to anonymous.
//!
//! [`authorize_connection`] is the same check for a WebSocket `$connect` (cookie or
//! Authorization header, then the permission row of the stream).

pub mod cookies;
pub mod password;
pub mod seed;
pub mod token;

pub use crate::caller::{Caller, Via};

use crate::access::{Access, permit};
use crate::error::ApiError;
use crate::state::AppState;
use http::{HeaderMap, header};

/// The caller an access token names.
fn caller_of(s: token::Subject, via: Via) -> Caller {
    Caller {
        persona: s.persona,
        allowed: s.personas,
        user: Some(s.username),
        user_id: Some(s.user_id),
        session: s.session,
        via: Some(via),
    }
}

/// The credential in a request, if any.
#[derive(Debug, PartialEq, Eq)]
pub enum Presented<'a> {
    None,
    Bearer(&'a str),
    Cookie(&'a str),
    /// An `Authorization` header that is not a well-formed Bearer credential.
    Unusable,
}

/// `Authorization` wins over the cookie; several `Authorization` headers are refused.
pub fn presented(headers: &HeaderMap) -> Presented<'_> {
    let mut auth = headers.get_all(header::AUTHORIZATION).iter();
    match (auth.next(), auth.next()) {
        (Some(_), Some(_)) => Presented::Unusable,
        (Some(v), None) => {
            let Ok(v) = v.to_str() else { return Presented::Unusable };
            match v.split_once(' ') {
                Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") && !t.trim().is_empty() => {
                    Presented::Bearer(t.trim())
                }
                _ => Presented::Unusable,
            }
        }
        (None, _) => match cookies::get(headers, cookies::ACCESS_COOKIE) {
            Some(t) if !t.is_empty() => Presented::Cookie(t),
            _ => Presented::None,
        },
    }
}

fn invalid_token() -> ApiError {
    ApiError::unauthorized("invalid_token", "The access token is missing, malformed, expired or not valid here")
}

/// Resolves the caller of a request from its credential.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let (token, via) = match presented(headers) {
        Presented::None => return Ok(Caller::anonymous()),
        Presented::Unusable => {
            tracing::info!(reason = "authorization_header", "access token refused");
            return Err(invalid_token());
        }
        Presented::Bearer(t) => (t, Via::Bearer),
        Presented::Cookie(t) => (t, Via::Cookie),
    };
    let keys = match state.signing_keys().await {
        Ok(k) => k,
        Err(e) if e.status == http::StatusCode::SERVICE_UNAVAILABLE && e.code == "auth_not_configured" => {
            tracing::warn!("a token was presented but no signing keys are configured");
            return Err(invalid_token());
        }
        Err(e) => return Err(e),
    };
    match token::verify(&state.config().auth, &keys, token) {
        Ok(v) => {
            // A token of an ended session (logout, refresh reuse, disabled user) is refused.
            if let Some(sid) = v.subject.session
                && !state.session_live(sid).await?
            {
                tracing::info!(reason = "session_ended", "access token refused");
                return Err(invalid_token());
            }
            Ok(caller_of(v.subject, via))
        }
        Err(r) => {
            tracing::info!(reason = r.reason(), "access token refused");
            Err(invalid_token())
        }
    }
}

/// Authorizes a WebSocket `$connect`: the caller from the request's cookie or Authorization
/// header, checked against the permission row of the stream (`access`). Anonymous callers get
/// a 401 when the row denies `observer_guest`; others a 403 naming the required personas.
/// `label` names the resource in the 403 message (e.g. `WS /ws/simulation/{id}/stream`).
pub async fn authorize_connection(
    state: &AppState,
    headers: &HeaderMap,
    access: &Access,
    label: &str,
) -> Result<(Caller, bool), ApiError> {
    let caller = authenticate(state, headers).await?;
    let redacted = permit(access, label, &caller)?;
    Ok((caller, redacted))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn authorization_header_wins_and_must_be_bearer() {
        let mut h = HeaderMap::new();
        assert_eq!(presented(&h), Presented::None);
        h.insert(header::COOKIE, HeaderValue::from_static("exomaps_at=c.c.c"));
        assert_eq!(presented(&h), Presented::Cookie("c.c.c"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("bearer a.b.c"));
        assert_eq!(presented(&h), Presented::Bearer("a.b.c"));
        for bad in ["Basic dXNlcjpwdw==", "Bearer", "Bearer   ", "Token a.b.c"] {
            h.insert(header::AUTHORIZATION, HeaderValue::from_static(bad));
            assert_eq!(presented(&h), Presented::Unusable, "{bad}");
        }
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer a.b.c"));
        h.append(header::AUTHORIZATION, HeaderValue::from_static("Bearer d.e.f"));
        assert_eq!(presented(&h), Presented::Unusable);
    }
}

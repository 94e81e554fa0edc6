//! Access rules: one row of the permission matrix (DOMAIN.md §1.3) — a [`Rule`] per persona —
//! and [`permit`], the one check of a caller against a row (routes and WebSocket streams).

use crate::caller::Caller;
use crate::error::ApiError;
use exomaps_domain::persona::Persona;

/// What one persona gets on one route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// ✔ allowed.
    Allow,
    /// R: allowed with redaction (the handler sees `ApiRequest::redacted`).
    Redact,
    /// ✖ denied: 403 (401 for an anonymous caller).
    Deny,
}

/// How the route treats a presented access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials {
    /// A presented token is verified (refused → 401); none → anonymous `observer_guest`.
    Token,
    /// Credential endpoints (login, refresh, logout): dispatch does not read the access token —
    /// a stale one must not block signing in again. The handler authenticates what it needs.
    Ignored,
}

/// One row of the permission matrix: a rule per persona, columns in the order of
/// DOMAIN.md §1.1 / `Persona::ALL` (adm sim gen cur sci ops nar obs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    pub rules: [Rule; 8],
    pub credentials: Credentials,
}

impl Access {
    /// A row for a route that takes access tokens.
    pub const fn grid(rules: [Rule; 8]) -> Access {
        Access { rules, credentials: Credentials::Token }
    }

    /// A credential endpoint: open to everyone, access tokens not read.
    pub const fn credential_endpoint() -> Access {
        Access { rules: [Rule::Allow; 8], credentials: Credentials::Ignored }
    }

    pub fn rule(&self, p: Persona) -> Rule {
        self.rules[p.index()]
    }

    /// The personas the row lets in (with or without redaction).
    pub fn allowed(&self) -> Vec<Persona> {
        Persona::ALL.into_iter().filter(|p| self.rule(*p) != Rule::Deny).collect()
    }
}

/// Checks a caller against a permission row. `Ok(true)` means allowed with redaction. A denied
/// anonymous caller gets 401 (sign in); a denied signed-in caller gets 403. Both name the
/// personas the row allows.
pub fn permit(access: &Access, label: &str, caller: &Caller) -> Result<bool, ApiError> {
    match access.rule(caller.persona) {
        Rule::Allow => Ok(false),
        Rule::Redact => Ok(true),
        Rule::Deny => {
            let required: Vec<&str> = access.allowed().iter().map(|p| p.key()).collect();
            let err = if caller.is_authenticated() {
                ApiError::new(
                    http::StatusCode::FORBIDDEN,
                    "forbidden",
                    format!("{label} is not available to persona {}", caller.persona.key()),
                )
            } else {
                ApiError::unauthorized("unauthorized", format!("{label} requires signing in"))
            };
            Err(err.with("required_personas", required).with("current_persona", caller.persona.key()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Rule::{Allow as Y, Deny as N, Redact as R};

    #[test]
    fn permission_denied_names_the_required_personas() {
        let row = Access::grid([Y, N, N, Y, R, N, N, N]);
        let anonymous = Caller::anonymous();
        let err = permit(&row, "GET /api/probe", &anonymous).unwrap_err();
        assert_eq!(err.status, http::StatusCode::UNAUTHORIZED, "anonymous callers are asked to sign in");
        assert_eq!(err.details["required_personas"], serde_json::json!(["admin", "data_curator", "science_analyst"]));
        let mut signed_in = Caller { user_id: Some(uuid::Uuid::nil()), ..Caller::anonymous() };
        signed_in.persona = Persona::OpsEngineer;
        let err = permit(&row, "GET /api/probe", &signed_in).unwrap_err();
        assert_eq!(err.status, http::StatusCode::FORBIDDEN);
        assert_eq!(err.code, "forbidden");
        assert_eq!(err.details["current_persona"], "ops_engineer");
        assert!(err.message.contains("GET /api/probe"), "{}", err.message);
        signed_in.persona = Persona::ScienceAnalyst;
        assert!(permit(&row, "x", &signed_in).unwrap(), "R is allowed with redaction");
        signed_in.persona = Persona::Admin;
        assert!(!permit(&row, "x", &signed_in).unwrap());
    }
}

//! The route table: the single declaration of every HTTP route — its function name (one
//! Lambda per route), method, path, allowed personas and handler. The local gateway, the
//! Lambda binaries, the permission checks and the template-consistency test all read it.

use crate::auth::{self, Caller};
use crate::cors;
use crate::error::ApiError;
use crate::handlers;
use crate::request::{ApiRequest, ApiResponse};
use crate::state::AppState;
use exomaps_domain::persona::Persona;
use http::{HeaderValue, Method, header};
use std::future::Future;
use std::pin::Pin;

pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<ApiResponse, ApiError>> + Send>>;
pub type HandlerFn = fn(AppState, ApiRequest) -> HandlerFuture;

/// Largest request body any route accepts, on Lambda and locally alike (413 above it).
pub const MAX_BODY_BYTES: usize = 1 << 20;

pub struct Route {
    /// The function (Lambda) name: `functions/src/bin/<name>.rs`, `infra/template.yaml`.
    pub name: &'static str,
    pub method: Method,
    /// Path with `{param}` segments (the syntax axum and API Gateway share).
    pub path: &'static str,
    /// The route's row of the permission matrix (DOMAIN.md §1.3). Every route states it.
    pub access: Access,
    pub summary: &'static str,
    pub handler: HandlerFn,
}

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

use Rule::{Allow as Y, Deny as N, Redact as R};

macro_rules! h {
    ($f:path) => {
        |state, req| Box::pin($f(state, req))
    };
}

pub static ROUTES: &[Route] = &[
    Route {
        name: "health",
        method: Method::GET,
        path: "/api/health",
        // The database driver's error text only for admin and ops_engineer.
        access: Access::grid([Y, R, R, R, R, Y, R, R]),
        summary: "Service and database health",
        handler: h!(handlers::health::health),
    },
    Route {
        name: "persona-get",
        method: Method::GET,
        path: "/api/persona",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, Y]),
        summary: "The caller's current persona and the personas available",
        handler: h!(handlers::persona::get_persona),
    },
    Route {
        name: "persona-set",
        method: Method::POST,
        path: "/api/persona",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, Y]),
        summary: "Switch to another of the caller's personas (re-issues the access token)",
        handler: h!(handlers::persona::set_persona),
    },
    Route {
        name: "world-systems",
        method: Method::GET,
        path: "/api/world/systems",
        // observer_guest: `confidence_bound` removed.
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, R]),
        summary: "Systems within scope, nearest first",
        handler: h!(handlers::world::systems),
    },
    Route {
        name: "world-systems-xyz",
        method: Method::GET,
        path: "/api/world/systems/xyz",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, R]),
        summary: "Systems within scope with ICRS Cartesian positions (pc)",
        handler: h!(handlers::world::systems_xyz),
    },
    Route {
        name: "world-systems-full",
        method: Method::GET,
        path: "/api/world/systems/full",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, Y]),
        summary: "The map payload: every system within scope with its attributes",
        handler: h!(handlers::world::systems_full),
    },
    Route {
        name: "system-get",
        method: Method::GET,
        path: "/api/system/{id}",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, Y]),
        summary: "One system: star, aliases, observed and inferred bodies, lineage",
        handler: h!(handlers::system::detail),
    },
    Route {
        name: "search",
        method: Method::GET,
        path: "/api/search",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, Y]),
        summary: "Systems by any name, ranked exact > prefix > fuzzy",
        handler: h!(handlers::search::search),
    },
    Route {
        name: "world-confidence",
        method: Method::GET,
        path: "/api/world/confidence",
        access: Access::grid([Y, N, N, Y, Y, N, N, N]),
        summary: "Distance uncertainty of every system in scope",
        handler: h!(handlers::world::confidence),
    },
    Route {
        name: "runs-start",
        method: Method::POST,
        path: "/api/runs",
        access: Access::grid([Y, N, N, Y, N, Y, N, N]),
        summary: "Start a pipeline run (sends its kick message)",
        handler: h!(handlers::runs::start),
    },
    Route {
        name: "runs-manifest",
        method: Method::GET,
        path: "/api/runs/manifest",
        access: Access::grid([Y, N, N, Y, N, Y, N, N]),
        summary: "Pipeline runs, newest first, with their source files",
        handler: h!(handlers::runs::manifest),
    },
    Route {
        name: "runs-get",
        method: Method::GET,
        path: "/api/runs/{run_id}",
        access: Access::grid([Y, N, N, Y, Y, Y, N, N]),
        summary: "A run's status, phase progress and source files",
        handler: h!(handlers::runs::get_run),
    },
    Route {
        name: "runs-validation",
        method: Method::GET,
        path: "/api/runs/validation/{run_id}",
        access: Access::grid([Y, N, N, Y, Y, Y, N, N]),
        summary: "A run's validation summary and quarantine records",
        handler: h!(handlers::runs::validation),
    },
    Route {
        name: "auth-login",
        method: Method::POST,
        path: "/api/auth/login",
        access: Access::credential_endpoint(),
        summary: "Username + password to an access token and a refresh token",
        handler: h!(handlers::auth::login),
    },
    Route {
        name: "auth-refresh",
        method: Method::POST,
        path: "/api/auth/refresh",
        access: Access::credential_endpoint(),
        summary: "Exchange a refresh token for a new pair (rotation; reuse revokes the session)",
        handler: h!(handlers::auth::refresh),
    },
    Route {
        name: "auth-logout",
        method: Method::POST,
        path: "/api/auth/logout",
        access: Access::credential_endpoint(),
        summary: "End the session: revoke its refresh tokens and clear the cookies",
        handler: h!(handlers::auth::logout),
    },
    Route {
        name: "openapi",
        method: Method::GET,
        path: "/api/openapi.json",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, Y]),
        summary: "The OpenAPI document of this API (generated from the route table)",
        handler: h!(crate::openapi::serve),
    },
    Route {
        name: "admin-users",
        method: Method::GET,
        path: "/api/admin/users",
        access: Access::grid([Y, N, N, N, N, N, N, N]),
        summary: "Users and their personas (admin)",
        handler: h!(handlers::admin::users),
    },
    // Simulations (issue 10): reads for every persona, mutations for admin and sim_owner (§1.3).
    Route {
        name: "sim-create",
        method: Method::POST,
        path: "/api/simulation",
        access: Access::grid([Y, Y, N, N, N, N, N, N]),
        summary: "Create a simulation from the active world build (seed, scenario, start system)",
        handler: h!(handlers::sim::create),
    },
    Route {
        name: "sim-list",
        method: Method::GET,
        path: "/api/simulation",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, Y]),
        summary: "Simulations, newest first",
        handler: h!(handlers::sim::list),
    },
    Route {
        name: "sim-get",
        method: Method::GET,
        path: "/api/simulation/{id}",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, Y]),
        summary: "A simulation: state, tick, simulated year, counts",
        handler: h!(handlers::sim::get),
    },
    Route {
        name: "sim-snapshot",
        method: Method::GET,
        path: "/api/simulation/{id}/snapshot",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, Y]),
        summary: "The state at a tick (nearest snapshot + replay), or an observer's light-lagged view",
        handler: h!(handlers::sim::snapshot),
    },
    Route {
        name: "sim-events",
        method: Method::GET,
        path: "/api/simulation/{id}/events",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, Y]),
        summary: "A simulation's events, ascending by (tick, seq), cursor-paginated",
        handler: h!(handlers::sim::events),
    },
    Route {
        name: "sim-pause",
        method: Method::POST,
        path: "/api/simulation/{id}/pause",
        access: Access::grid([Y, Y, N, N, N, N, N, N]),
        summary: "Pause a simulation (stops its tick chain)",
        handler: h!(handlers::sim::pause),
    },
    Route {
        name: "sim-resume",
        method: Method::POST,
        path: "/api/simulation/{id}/resume",
        access: Access::grid([Y, Y, N, N, N, N, N, N]),
        summary: "Run a simulation (batches of ticks through the SQS tick queue)",
        handler: h!(handlers::sim::resume),
    },
    Route {
        name: "sim-step",
        method: Method::POST,
        path: "/api/simulation/{id}/step",
        access: Access::grid([Y, Y, N, N, N, N, N, N]),
        summary: "Advance an idle or paused simulation by n ticks (1..1000)",
        handler: h!(handlers::sim::step),
    },
    Route {
        name: "sim-fork",
        method: Method::POST,
        path: "/api/simulation/{id}/fork",
        access: Access::grid([Y, Y, N, N, N, N, N, N]),
        summary: "Branch a new simulation from a tick (same history, its own seed or parameters after)",
        handler: h!(handlers::sim::fork),
    },
    // Rooms on the map (issue 16): reads and subscribing for everyone; writing for every
    // signed-in persona but observer_guest (author or admin for edits, checked by the handler).
    Route {
        name: "rooms-create",
        method: Method::POST,
        path: "/api/rooms",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, N]),
        summary: "Open a shareable room on the map (/?room=<id>)",
        handler: h!(handlers::rooms::create_room),
    },
    Route {
        name: "rooms-get",
        method: Method::GET,
        path: "/api/rooms/{room_id}",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, Y]),
        summary: "A room and the members present in it",
        handler: h!(handlers::rooms::get_room),
    },
    Route {
        name: "annotations-list",
        method: Method::GET,
        path: "/api/rooms/{room_id}/annotations",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, Y]),
        summary: "A room's annotations, oldest first",
        handler: h!(handlers::rooms::list_annotations),
    },
    Route {
        name: "annotations-create",
        method: Method::POST,
        path: "/api/rooms/{room_id}/annotations",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, N]),
        summary: "Pin a note (≤ 500 characters, optional link) to a system or a point of a room",
        handler: h!(handlers::rooms::create_annotation),
    },
    Route {
        name: "annotations-update",
        method: Method::PATCH,
        path: "/api/rooms/{room_id}/annotations/{annotation_id}",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, N]),
        summary: "Edit an annotation's text or link (its author, or admin)",
        handler: h!(handlers::rooms::update_annotation),
    },
    Route {
        name: "annotations-delete",
        method: Method::DELETE,
        path: "/api/rooms/{room_id}/annotations/{annotation_id}",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, N]),
        summary: "Delete an annotation (its author, or admin)",
        handler: h!(handlers::rooms::delete_annotation),
    },
    Route {
        name: "admin-broadcast",
        method: Method::POST,
        path: "/api/admin/broadcast",
        access: Access::grid([Y, N, N, N, N, Y, N, N]),
        summary: "Send a message to every connected client (a banner on every open map)",
        handler: h!(handlers::rooms::broadcast),
    },
];

/// The route with this function name.
pub fn by_name(name: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|r| r.name == name)
}

/// Runs one route for one request: checks the body size, resolves the caller, enforces the
/// route's permission row, calls the handler, turns errors into the envelope and adds the
/// standard and CORS headers.
pub async fn dispatch(route: &Route, state: &AppState, req: ApiRequest) -> ApiResponse {
    let origin = cors::allowed_origin(&state.config().auth, &req.headers);
    let res = match run(route, state, req).await {
        Ok(res) => res,
        Err(e) => {
            if e.code == "db_unavailable" && !state.db_known_down() {
                // Fail fast from now on, and probe the database in the background.
                state.mark_db_down();
            }
            e.into_response()
        }
    };
    cors::apply(&state.config().auth, with_standard_headers(res), origin)
}

async fn run(route: &Route, state: &AppState, mut req: ApiRequest) -> Result<ApiResponse, ApiError> {
    if req.body.len() > MAX_BODY_BYTES {
        return Err(ApiError::payload_too_large(MAX_BODY_BYTES));
    }
    // Text PostgreSQL cannot store (NUL) is refused here, once, for every route.
    crate::text::check_request(&req)?;
    req.caller = match route.access.credentials {
        Credentials::Token => auth::authenticate(state, &req.headers).await?,
        Credentials::Ignored => Caller::anonymous(),
    };
    req.redacted = permit(&route.access, &format!("{} {}", route.method, route.path), &req.caller)?;
    (route.handler)(state.clone(), req).await
}

/// Security headers on every response, and `no-store` unless the handler chose caching.
pub fn with_standard_headers(mut res: ApiResponse) -> ApiResponse {
    let h = res.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=63072000; includeSubDomains"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"));
    h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    res
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
    use std::collections::HashSet;

    #[test]
    fn names_and_method_paths_are_unique() {
        let mut names = HashSet::new();
        let mut paths = HashSet::new();
        for r in ROUTES {
            assert!(names.insert(r.name), "duplicate function name {}", r.name);
            assert!(paths.insert((r.method.clone(), r.path)), "duplicate route {} {}", r.method, r.path);
            assert!(r.path.starts_with("/api/"), "{}", r.path);
            assert!(!r.access.allowed().is_empty(), "{} allows nobody", r.name);
            assert!(r.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{}", r.name);
        }
    }

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

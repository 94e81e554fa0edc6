//! The route table: the single declaration of every HTTP route — its function name (one
//! Lambda per route), method, path, allowed personas and handler. The local gateway, the
//! Lambda binaries, the permission checks and the template-consistency test all read it.

use crate::auth::{self, Caller};
use crate::error::ApiError;
use crate::handlers;
use crate::request::{ApiRequest, ApiResponse};
use crate::state::AppState;
use exomaps_domain::persona::Persona;
use http::{HeaderValue, Method, StatusCode, header};
use std::future::Future;
use std::pin::Pin;

pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<ApiResponse, ApiError>> + Send>>;
pub type HandlerFn = fn(AppState, ApiRequest) -> HandlerFuture;

pub struct Route {
    /// The function (Lambda) name: `functions/src/bin/<name>.rs`, `infra/template.yaml`.
    pub name: &'static str,
    pub method: Method,
    /// Path with `{param}` segments (the syntax axum and API Gateway share).
    pub path: &'static str,
    /// Personas allowed to call it (DOMAIN.md §1.3).
    pub allowed: &'static [Persona],
    pub summary: &'static str,
    pub handler: HandlerFn,
}

const EVERYONE: &[Persona] = &Persona::ALL;
const PIPELINE_OPERATORS: &[Persona] = &[Persona::Admin, Persona::OpsEngineer, Persona::DataCurator];
const VALIDATION_READERS: &[Persona] =
    &[Persona::Admin, Persona::DataCurator, Persona::OpsEngineer, Persona::ScienceAnalyst];
const CONFIDENCE_READERS: &[Persona] = &[Persona::Admin, Persona::DataCurator, Persona::ScienceAnalyst];

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
        allowed: EVERYONE,
        summary: "Service and database health",
        handler: h!(handlers::health::health),
    },
    Route {
        name: "persona-get",
        method: Method::GET,
        path: "/api/persona",
        allowed: EVERYONE,
        summary: "The caller's current persona and the personas available",
        handler: h!(handlers::persona::get_persona),
    },
    Route {
        name: "world-systems",
        method: Method::GET,
        path: "/api/world/systems",
        allowed: EVERYONE,
        summary: "Systems within scope, nearest first",
        handler: h!(handlers::world::systems),
    },
    Route {
        name: "world-systems-xyz",
        method: Method::GET,
        path: "/api/world/systems/xyz",
        allowed: EVERYONE,
        summary: "Systems within scope with ICRS Cartesian positions (pc)",
        handler: h!(handlers::world::systems_xyz),
    },
    Route {
        name: "world-systems-full",
        method: Method::GET,
        path: "/api/world/systems/full",
        allowed: EVERYONE,
        summary: "The map payload: every system within scope with its attributes",
        handler: h!(handlers::world::systems_full),
    },
    Route {
        name: "world-confidence",
        method: Method::GET,
        path: "/api/world/confidence",
        allowed: CONFIDENCE_READERS,
        summary: "Distance uncertainty of every system in scope",
        handler: h!(handlers::world::confidence),
    },
    Route {
        name: "runs-start",
        method: Method::POST,
        path: "/api/runs",
        allowed: PIPELINE_OPERATORS,
        summary: "Start a pipeline run (sends its kick message)",
        handler: h!(handlers::runs::start),
    },
    Route {
        name: "runs-manifest",
        method: Method::GET,
        path: "/api/runs/manifest",
        allowed: PIPELINE_OPERATORS,
        summary: "Pipeline runs, newest first, with their source files",
        handler: h!(handlers::runs::manifest),
    },
    Route {
        name: "runs-get",
        method: Method::GET,
        path: "/api/runs/{run_id}",
        allowed: VALIDATION_READERS,
        summary: "A run's status, phase progress and source files",
        handler: h!(handlers::runs::get_run),
    },
    Route {
        name: "runs-validation",
        method: Method::GET,
        path: "/api/runs/validation/{run_id}",
        allowed: VALIDATION_READERS,
        summary: "A run's validation summary and quarantine records",
        handler: h!(handlers::runs::validation),
    },
];

/// The route with this function name.
pub fn by_name(name: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|r| r.name == name)
}

/// Runs one route for one request: resolves the caller, enforces the permission table,
/// calls the handler, turns errors into the envelope and adds the standard headers.
pub async fn dispatch(route: &Route, state: &AppState, mut req: ApiRequest) -> ApiResponse {
    req.caller = auth::resolve(&req.headers);
    let res = match permit(route, &req.caller) {
        Err(e) => e.into_response(),
        Ok(()) => match (route.handler)(state.clone(), req).await {
            Ok(res) => res,
            Err(e) => e.into_response(),
        },
    };
    with_standard_headers(res)
}

/// Security headers on every response, and `no-store` unless the handler chose caching.
pub fn with_standard_headers(mut res: ApiResponse) -> ApiResponse {
    let h = res.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    res
}

fn permit(route: &Route, caller: &Caller) -> Result<(), ApiError> {
    if route.allowed.contains(&caller.persona) {
        return Ok(());
    }
    let required: Vec<&str> = route.allowed.iter().map(|p| p.key()).collect();
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        format!("{} {} is not available to persona {}", route.method, route.path, caller.persona.key()),
    )
    .with("required_personas", required)
    .with("current_persona", caller.persona.key()))
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
            assert!(!r.allowed.is_empty(), "{} allows nobody", r.name);
            assert!(r.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{}", r.name);
        }
    }

    #[test]
    fn permission_denied_names_the_required_personas() {
        static ADMIN_ONLY: Route = Route {
            name: "probe",
            method: Method::GET,
            path: "/api/probe",
            allowed: &[Persona::Admin],
            summary: "",
            handler: h!(handlers::health::health),
        };
        let err = permit(&ADMIN_ONLY, &Caller::anonymous()).unwrap_err();
        assert_eq!(err.status, StatusCode::FORBIDDEN);
        assert_eq!(err.details["required_personas"], serde_json::json!(["admin"]));
        assert_eq!(err.details["current_persona"], "observer_guest");
    }
}

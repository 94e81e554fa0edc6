//! The route table: the single declaration of every HTTP route — its function name (one
//! Lambda per route), method, path, allowed personas and handler. The local gateway, the
//! Lambda binaries, the permission checks and the template-consistency test all read it.

pub use crate::access::{Access, Credentials, Rule, permit};
pub use crate::route::{Doc, HandlerFn, HandlerFuture, Link, Query, Route};

use crate::auth::{self, Caller};
use crate::cors;
use crate::error::ApiError;
use crate::handlers::{self, admin, auth as login, health, persona, rooms, runs, search, sim, system, world};
use crate::request::{ApiRequest, ApiResponse};
use crate::route::schema;
use crate::state::AppState;
use http::{HeaderValue, Method, header};

/// Largest request body any route accepts, on Lambda and locally alike (413 above it).
pub const MAX_BODY_BYTES: usize = 1 << 20;

use Rule::{Allow as Y, Deny as N, Redact as R};

macro_rules! h {
    ($f:path) => {
        |state, req| Box::pin($f(state, req))
    };
}

/// `limit` and `offset` of a paged listing.
const PAGING: &[(&str, Query)] = &[("limit", Query::Limit), ("offset", Query::Offset)];

pub static ROUTES: &[Route] = &[
    Route {
        name: "health",
        method: Method::GET,
        path: "/api/health",
        // The database driver's error text only for admin and ops_engineer.
        access: Access::grid([Y, R, R, R, R, Y, R, R]),
        summary: "Service and database health",
        handler: |state, req| Box::pin(handlers::health::health(state, req, ROUTES.len())),
        doc: Doc::json("200", schema::<health::Health>),
    },
    Route {
        name: "persona-get",
        method: Method::GET,
        path: "/api/persona",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, Y]),
        summary: "The caller's current persona and the personas available",
        handler: h!(persona::get_persona),
        doc: Doc::json("200", schema::<persona::PersonaView>),
    },
    Route {
        name: "persona-set",
        method: Method::POST,
        path: "/api/persona",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, Y]),
        summary: "Switch to another of the caller's personas (re-issues the access token)",
        handler: h!(persona::set_persona),
        doc: Doc::json("200", schema::<persona::PersonaView>).body(schema::<persona::SwitchBody>),
    },
    Route {
        name: "world-systems",
        method: Method::GET,
        path: "/api/world/systems",
        // observer_guest: `confidence_bound` removed.
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, R]),
        summary: "Systems within scope, nearest first",
        handler: h!(handlers::world::systems),
        doc: Doc::json("200", schema::<world::SystemsPage>).query(PAGING),
    },
    Route {
        name: "world-systems-xyz",
        method: Method::GET,
        path: "/api/world/systems/xyz",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, R]),
        summary: "Systems within scope with ICRS Cartesian positions (pc)",
        handler: h!(handlers::world::systems_xyz),
        doc: Doc::json("200", schema::<world::SystemsXyzPage>).query(PAGING),
    },
    Route {
        name: "world-systems-full",
        method: Method::GET,
        path: "/api/world/systems/full",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, Y]),
        summary: "The map payload: every system within scope with its attributes",
        handler: h!(handlers::world::systems_full),
        doc: Doc::json("200", schema::<world::SystemsFullPage>).query(PAGING),
    },
    Route {
        name: "system-get",
        method: Method::GET,
        path: "/api/system/{id}",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, Y]),
        summary: "One system: star, aliases, observed and inferred bodies, lineage",
        handler: h!(system::detail),
        doc: Doc::json("200", schema::<system::SystemDetail>),
    },
    Route {
        name: "search",
        method: Method::GET,
        path: "/api/search",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, Y]),
        summary: "Systems by any name, ranked exact > prefix > fuzzy",
        handler: h!(search::search),
        doc: Doc::json("200", schema::<search::SearchResults>).query(&[
            ("q", Query::Name(search::MAX_QUERY_CHARS as i64)),
            ("limit", Query::Range(1, search::MAX_LIMIT)),
        ]),
    },
    Route {
        name: "world-confidence",
        method: Method::GET,
        path: "/api/world/confidence",
        access: Access::grid([Y, N, N, Y, Y, N, N, N]),
        summary: "Distance uncertainty of every system in scope",
        handler: h!(handlers::world::confidence),
        doc: Doc::json("200", schema::<world::ConfidencePage>),
    },
    Route {
        name: "runs-start",
        method: Method::POST,
        path: "/api/runs",
        access: Access::grid([Y, N, N, Y, N, Y, N, N]),
        summary: "Start a pipeline run (sends its kick message)",
        handler: h!(runs::start),
        doc: Doc::json("202", schema::<runs::RunStarted>).body(schema::<runs::StartRun>).links(&[
            Link { name: "GetRun", operation: "runs_get", parameter: "run_id", value: "$response.body#/run_id" },
            Link {
                name: "GetRunValidation",
                operation: "runs_validation",
                parameter: "run_id",
                value: "$response.body#/run_id",
            },
        ]),
    },
    Route {
        name: "runs-manifest",
        method: Method::GET,
        path: "/api/runs/manifest",
        access: Access::grid([Y, N, N, Y, N, Y, N, N]),
        summary: "Pipeline runs, newest first, with their source files",
        handler: h!(runs::manifest),
        doc: Doc::json("200", schema::<runs::ManifestPage>).query(&[("limit", Query::Limit), ("before", Query::Time)]),
    },
    Route {
        name: "runs-get",
        method: Method::GET,
        path: "/api/runs/{run_id}",
        access: Access::grid([Y, N, N, Y, Y, Y, N, N]),
        summary: "A run's status, phase progress and source files",
        handler: h!(runs::get_run),
        doc: Doc::json("200", schema::<runs::RunDetail>).uuids(&["run_id"]),
    },
    Route {
        name: "runs-validation",
        method: Method::GET,
        path: "/api/runs/validation/{run_id}",
        access: Access::grid([Y, N, N, Y, Y, Y, N, N]),
        summary: "A run's validation summary and quarantine records",
        handler: h!(runs::validation),
        doc: Doc::json("200", schema::<runs::Validation>)
            .query(&[
                ("limit", Query::Limit),
                ("offset", Query::Offset),
                ("source", Query::Text),
                ("code", Query::Text),
            ])
            .uuids(&["run_id"]),
    },
    Route {
        name: "auth-login",
        method: Method::POST,
        path: "/api/auth/login",
        access: Access::credential_endpoint(),
        summary: "Username + password to an access token and a refresh token",
        handler: h!(login::login),
        doc: Doc::json("200", schema::<login::TokenBody>).body(schema::<login::LoginBody>),
    },
    Route {
        name: "auth-refresh",
        method: Method::POST,
        path: "/api/auth/refresh",
        access: Access::credential_endpoint(),
        summary: "Exchange a refresh token for a new pair (rotation; reuse revokes the session)",
        handler: h!(login::refresh),
        doc: Doc::json("200", schema::<login::TokenBody>).body(schema::<login::RefreshBody>),
    },
    Route {
        name: "auth-logout",
        method: Method::POST,
        path: "/api/auth/logout",
        access: Access::credential_endpoint(),
        summary: "End the session: revoke its refresh tokens and clear the cookies",
        handler: h!(login::logout),
        doc: Doc::json("200", schema::<login::LoggedOut>),
    },
    Route {
        name: "openapi",
        method: Method::GET,
        path: "/api/openapi.json",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, Y]),
        summary: "The OpenAPI document of this API (generated from the route table)",
        handler: |state, req| Box::pin(crate::openapi::serve(state, req, ROUTES)),
        doc: Doc::any_json(),
    },
    Route {
        name: "admin-users",
        method: Method::GET,
        path: "/api/admin/users",
        access: Access::grid([Y, N, N, N, N, N, N, N]),
        summary: "Users and their personas (admin)",
        handler: h!(handlers::admin::users),
        doc: Doc::json("200", schema::<admin::UserList>),
    },
    // Simulations (issue 10): reads for every persona, mutations for admin and sim_owner (§1.3).
    Route {
        name: "sim-create",
        method: Method::POST,
        path: "/api/simulation",
        access: Access::grid([Y, Y, N, N, N, N, N, N]),
        summary: "Create a simulation from the active world build (seed, scenario, start system)",
        handler: h!(sim::create),
        doc: Doc::json("201", schema::<sim::SimulationView>).body(schema::<sim::CreateSimulation>),
    },
    Route {
        name: "sim-list",
        method: Method::GET,
        path: "/api/simulation",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, Y]),
        summary: "Simulations, newest first",
        handler: h!(sim::list),
        doc: Doc::json("200", schema::<sim::SimulationList>).query(PAGING),
    },
    Route {
        name: "sim-get",
        method: Method::GET,
        path: "/api/simulation/{id}",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, Y]),
        summary: "A simulation: state, tick, simulated year, counts",
        handler: h!(sim::get),
        doc: Doc::json("200", schema::<sim::SimulationDetail>).uuids(&["id"]),
    },
    Route {
        name: "sim-snapshot",
        method: Method::GET,
        path: "/api/simulation/{id}/snapshot",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, Y]),
        summary: "The state at a tick (nearest snapshot + replay), or an observer's light-lagged view",
        handler: h!(sim::snapshot),
        doc: Doc::json("200", schema::<sim::SimSnapshot>)
            .query(&[("tick", Query::Offset), ("observer", Query::Text)])
            .uuids(&["id"]),
    },
    Route {
        name: "sim-events",
        method: Method::GET,
        path: "/api/simulation/{id}/events",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, Y]),
        summary: "A simulation's events, ascending by (tick, seq), cursor-paginated",
        handler: h!(sim::events),
        doc: Doc::json("200", schema::<sim::SimEventsPage>)
            .query(&[
                ("after_tick", Query::Offset),
                ("after_seq", Query::Offset),
                ("limit", Query::Limit),
                ("kind", Query::Text),
            ])
            .uuids(&["id"]),
    },
    Route {
        name: "sim-pause",
        method: Method::POST,
        path: "/api/simulation/{id}/pause",
        access: Access::grid([Y, Y, N, N, N, N, N, N]),
        summary: "Pause a simulation (stops its tick chain)",
        handler: h!(sim::pause),
        doc: Doc::json("200", schema::<sim::SimulationView>).uuids(&["id"]),
    },
    Route {
        name: "sim-resume",
        method: Method::POST,
        path: "/api/simulation/{id}/resume",
        access: Access::grid([Y, Y, N, N, N, N, N, N]),
        summary: "Run a simulation (batches of ticks through the SQS tick queue)",
        handler: h!(sim::resume),
        doc: Doc::json("200", schema::<sim::SimulationView>).uuids(&["id"]),
    },
    Route {
        name: "sim-step",
        method: Method::POST,
        path: "/api/simulation/{id}/step",
        access: Access::grid([Y, Y, N, N, N, N, N, N]),
        summary: "Advance an idle or paused simulation by n ticks (1..1000)",
        handler: h!(sim::step),
        doc: Doc::json("200", schema::<sim::StepResult>)
            .body(schema::<sim::StepBody>)
            .query(&[("interval", Query::Range(1, 1000))])
            .uuids(&["id"]),
    },
    Route {
        name: "sim-fork",
        method: Method::POST,
        path: "/api/simulation/{id}/fork",
        access: Access::grid([Y, Y, N, N, N, N, N, N]),
        summary: "Branch a new simulation from a tick (same history, its own seed or parameters after)",
        handler: h!(sim::fork),
        doc: Doc::json("201", schema::<sim::SimulationView>).body(schema::<sim::ForkBody>).uuids(&["id"]),
    },
    // Rooms on the map (issue 16): reads and subscribing for everyone; writing for every
    // signed-in persona but observer_guest (author or admin for edits, checked by the handler).
    Route {
        name: "rooms-create",
        method: Method::POST,
        path: "/api/rooms",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, N]),
        summary: "Open a shareable room on the map (/?room=<id>)",
        handler: h!(rooms::create_room),
        doc: Doc::json("201", schema::<rooms::Room>).body(schema::<rooms::CreateRoom>),
    },
    Route {
        name: "rooms-get",
        method: Method::GET,
        path: "/api/rooms/{room_id}",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, Y]),
        summary: "A room and the members present in it",
        handler: h!(rooms::get_room),
        doc: Doc::json("200", schema::<rooms::RoomDetail>).uuids(&["room_id"]),
    },
    Route {
        name: "annotations-list",
        method: Method::GET,
        path: "/api/rooms/{room_id}/annotations",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, Y]),
        summary: "A room's annotations, oldest first",
        handler: h!(rooms::list_annotations),
        doc: Doc::json("200", schema::<rooms::AnnotationList>).uuids(&["room_id"]),
    },
    Route {
        name: "annotations-create",
        method: Method::POST,
        path: "/api/rooms/{room_id}/annotations",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, N]),
        summary: "Pin a note (≤ 500 characters, optional link) to a system or a point of a room",
        handler: h!(rooms::create_annotation),
        doc: Doc::json("201", schema::<rooms::Annotation>).body(schema::<rooms::CreateAnnotation>).uuids(&["room_id"]),
    },
    Route {
        name: "annotations-update",
        method: Method::PATCH,
        path: "/api/rooms/{room_id}/annotations/{annotation_id}",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, N]),
        summary: "Edit an annotation's text or link (its author, or admin)",
        handler: h!(rooms::update_annotation),
        doc: Doc::json("200", schema::<rooms::Annotation>)
            .body(schema::<rooms::UpdateAnnotation>)
            .uuids(&["room_id", "annotation_id"]),
    },
    Route {
        name: "annotations-delete",
        method: Method::DELETE,
        path: "/api/rooms/{room_id}/annotations/{annotation_id}",
        access: Access::grid([Y, Y, Y, Y, Y, Y, Y, N]),
        summary: "Delete an annotation (its author, or admin)",
        handler: h!(rooms::delete_annotation),
        doc: Doc::empty("204").uuids(&["room_id", "annotation_id"]),
    },
    Route {
        name: "admin-broadcast",
        method: Method::POST,
        path: "/api/admin/broadcast",
        access: Access::grid([Y, N, N, N, N, Y, N, N]),
        summary: "Send a message to every connected client (a banner on every open map)",
        handler: h!(rooms::broadcast),
        doc: Doc::json("202", schema::<rooms::BroadcastSent>).body(schema::<rooms::BroadcastBody>),
    },
];

/// The route with this function name.
pub fn by_name(name: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|r| r.name == name)
}

/// Runs one route for one request: checks the body size, resolves the caller, enforces the
/// route's permission row, calls the handler, turns errors into the envelope and adds the
/// standard and CORS headers.
///
/// Every request leaves one log line and one metrics record (`crate::telemetry`) and answers
/// with its `x-request-id`.
pub async fn dispatch(route: &Route, state: &AppState, mut req: ApiRequest) -> ApiResponse {
    let started = std::time::Instant::now();
    let request_id = req.request_id.take().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let method = req.method.clone();
    let origin = cors::allowed_origin(&state.config().auth, &req.headers);
    let mut persona = None;
    let mut error = None;
    let res = match run(route, state, req, &mut persona).await {
        Ok(res) => res,
        Err(e) => {
            if e.code == "db_unavailable" && !state.db_known_down() {
                // Fail fast from now on, and probe the database in the background.
                state.mark_db_down();
            }
            error = Some(e.code);
            e.into_response()
        }
    };
    let mut res = cors::apply(&state.config().auth, with_standard_headers(res), origin);
    if let Ok(v) = http::HeaderValue::from_str(&request_id) {
        res.headers_mut().insert("x-request-id", v);
    }
    crate::telemetry::request_finished(&crate::telemetry::RequestRecord {
        kind: "route",
        request_id: &request_id,
        route: route.name,
        method: method.as_str(),
        persona,
        status: res.status().as_u16(),
        latency_ms: started.elapsed().as_secs_f64() * 1e3,
        error,
    });
    res
}

async fn run(
    route: &Route,
    state: &AppState,
    mut req: ApiRequest,
    persona: &mut Option<&'static str>,
) -> Result<ApiResponse, ApiError> {
    if req.body.len() > MAX_BODY_BYTES {
        return Err(ApiError::payload_too_large(MAX_BODY_BYTES));
    }
    // Text PostgreSQL cannot store (NUL) is refused here, once, for every route.
    crate::text::check_request(&req)?;
    req.caller = match route.access.credentials {
        Credentials::Token => auth::authenticate(state, &req.headers).await?,
        Credentials::Ignored => Caller::anonymous(),
    };
    *persona = Some(req.caller.persona.key());
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
    fn every_doc_names_real_path_parameters_and_distinct_query_parameters() {
        for r in ROUTES {
            for id in r.doc.uuids {
                assert!(r.path.contains(&format!("{{{id}}}")), "{}: {id} is not a path parameter", r.name);
            }
            let mut seen = HashSet::new();
            for (q, _) in r.doc.query {
                assert!(seen.insert(*q), "{}: query parameter {q} twice", r.name);
            }
            // A body is documented exactly where the method takes one.
            if r.doc.body.is_some() {
                assert!(matches!(r.method, Method::POST | Method::PATCH | Method::PUT), "{}", r.name);
            }
        }
    }
}

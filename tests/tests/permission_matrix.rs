//! The permission matrix (DOMAIN.md §1.3, extended to every route that exists), walked over
//! the whole route table: every route × every persona, plus anonymous callers.
//!
//! `SPEC` is the matrix as designed, one row per (method, path). The route table must agree
//! with it row for row, and a route without a row fails the test by name — so a new route
//! cannot ship without a deliberate permission entry. Rows for routes that do not exist yet
//! are the design for them (taken from DOMAIN.md §1.3).

use exomaps_api::ROUTES;
use exomaps_api::routes::{Credentials, Route, Rule};
use exomaps_domain::coords::Scope;
use exomaps_domain::persona::Persona;
use exomaps_pipeline::{Family, SourceSpec, run_pipeline};
use exomaps_tests::{fresh_store, req, request, sample_sources, test_state, token_for};
use serde_json::{Value, json};

/// Columns: adm sim gen cur sci ops nar obs. Y allowed, R allowed with redaction, N denied.
const SPEC: &[(&str, &str, &str)] = &[
    ("GET", "/api/health", "Y R R R R Y R R"),
    ("GET", "/api/persona", "Y Y Y Y Y Y Y Y"),
    ("POST", "/api/persona", "Y Y Y Y Y Y Y Y"),
    ("GET", "/api/world/systems", "Y Y Y Y Y Y Y R"),
    ("GET", "/api/world/systems/xyz", "Y Y Y Y Y Y Y R"),
    ("GET", "/api/world/systems/full", "Y Y Y Y Y Y Y Y"),
    ("GET", "/api/system/{id}", "Y Y Y Y Y Y Y Y"),
    ("GET", "/api/system-group/{name}", "Y Y Y Y Y Y Y Y"),
    ("GET", "/api/systems/planets/summary", "Y Y Y Y Y Y Y Y"),
    ("GET", "/api/world/confidence", "Y N N Y Y N N N"),
    ("GET", "/api/runs/manifest", "Y N N Y N Y N N"),
    // Pipeline (issue 3): starting a run is for the operators of the manifest; following one
    // is for whoever may read its validation.
    ("POST", "/api/runs", "Y N N Y N Y N N"),
    ("GET", "/api/runs/{run_id}", "Y N N Y Y Y N N"),
    ("GET", "/api/runs/validation/{run_id}", "Y N N Y Y Y N N"),
    ("GET", "/api/simulation/{id}", "Y Y Y Y Y Y Y Y"),
    ("GET", "/api/simulation/{id}/snapshot", "Y Y Y Y Y Y Y Y"),
    ("GET", "/api/simulation/{id}/events", "Y Y Y Y Y Y Y Y"),
    ("POST", "/api/simulation", "Y Y N N N N N N"),
    ("POST", "/api/simulation/{id}/pause", "Y Y N N N N N N"),
    ("POST", "/api/simulation/{id}/resume", "Y Y N N N N N N"),
    ("POST", "/api/simulation/{id}/step", "Y Y N N N N N N"),
    ("POST", "/api/simulation/{id}/tick", "Y Y N N N N N N"),
    // Simulations (issue 10): the list is a read like the others; a fork creates a simulation.
    ("GET", "/api/simulation", "Y Y Y Y Y Y Y Y"),
    ("POST", "/api/simulation/{id}/fork", "Y Y N N N N N N"),
    ("GET", "/api/engine/health", "Y Y N N N Y N N"),
    // Identity (issue 4): credential endpoints are open; user administration is admin's.
    ("POST", "/api/auth/login", "Y Y Y Y Y Y Y Y"),
    ("POST", "/api/auth/refresh", "Y Y Y Y Y Y Y Y"),
    ("POST", "/api/auth/logout", "Y Y Y Y Y Y Y Y"),
    ("GET", "/api/admin/users", "Y N N N N N N N"),
    // The SPA's types come from the OpenAPI document: public, like the map (issue 6).
    ("GET", "/api/openapi.json", "Y Y Y Y Y Y Y Y"),
    // Name search (issue 12): public, like the map.
    ("GET", "/api/search", "Y Y Y Y Y Y Y Y"),
    // Rooms (issue 16): everyone reads a room and follows it; every persona but observer_guest
    // writes (editing another's annotation is the handler's check: author or admin). Admin
    // broadcasts are for the operators.
    ("POST", "/api/rooms", "Y Y Y Y Y Y Y N"),
    ("GET", "/api/rooms/{room_id}", "Y Y Y Y Y Y Y Y"),
    ("GET", "/api/rooms/{room_id}/annotations", "Y Y Y Y Y Y Y Y"),
    ("POST", "/api/rooms/{room_id}/annotations", "Y Y Y Y Y Y Y N"),
    ("PATCH", "/api/rooms/{room_id}/annotations/{annotation_id}", "Y Y Y Y Y Y Y N"),
    ("DELETE", "/api/rooms/{room_id}/annotations/{annotation_id}", "Y Y Y Y Y Y Y N"),
    ("POST", "/api/admin/broadcast", "Y N N N N Y N N"),
];

fn spec_row(route: &Route) -> Option<[Rule; 8]> {
    let (_, _, row) = SPEC.iter().find(|(m, p, _)| *m == route.method.as_str() && *p == route.path)?;
    let rules: Vec<Rule> = row
        .split_whitespace()
        .map(|c| match c {
            "Y" => Rule::Allow,
            "R" => Rule::Redact,
            "N" => Rule::Deny,
            other => panic!("bad cell {other:?} in SPEC"),
        })
        .collect();
    Some(rules.try_into().expect("8 columns per SPEC row"))
}

#[test]
fn every_route_has_a_permission_row_and_it_matches_the_design() {
    let missing: Vec<String> = ROUTES
        .iter()
        .filter(|r| spec_row(r).is_none())
        .map(|r| format!("{} {} ({})", r.method, r.path, r.name))
        .collect();
    assert!(
        missing.is_empty(),
        "routes without a row in the permission matrix (add one to SPEC deliberately): {missing:?}"
    );
    for r in ROUTES {
        assert_eq!(r.access.rules, spec_row(r).unwrap(), "{}: route table and permission matrix disagree", r.name);
        let credential_endpoint = r.path.starts_with("/api/auth/");
        assert_eq!(
            r.access.credentials == Credentials::Ignored,
            credential_endpoint,
            "{}: only /api/auth/* may ignore access tokens",
            r.name
        );
    }
}

/// A request body that reaches the handler of each POST route.
fn body_for(route: &Route, persona: Persona) -> Option<Value> {
    match route.name {
        "persona-set" => Some(json!({"persona": persona.key()})),
        "auth-login" => Some(json!({"username": format!("nobody-{}", persona.key()), "password": "not-it"})),
        "auth-refresh" | "auth-logout" => Some(json!({"refresh_token": "unknown-token"})),
        "runs-start" => Some(json!({"run_name": "probe"})),
        "sim-create" => Some(json!({"name": format!("matrix {}", persona.key())})),
        "sim-pause" | "sim-resume" => None,
        "sim-step" => Some(json!({"n": 1})),
        "sim-fork" => Some(json!({"at_tick": 0})),
        "rooms-create" => Some(json!({"name": format!("matrix {}", persona.key())})),
        "annotations-create" => Some(json!({"point": {"x_ly": 1.0, "y_ly": 2.0, "z_ly": 3.0}, "text": "matrix"})),
        "annotations-update" => Some(json!({"text": format!("edited by {}", persona.key())})),
        "annotations-delete" => None,
        "admin-broadcast" => Some(json!({"message": "matrix"})),
        _ if route.method == http::Method::GET => None,
        other => panic!("no request body for POST route {other}: add one to body_for"),
    }
}

/// Checks a route's redaction on a 200 body, for routes with R cells.
fn check_redaction(route: &Route, body: &Value, redacted: bool) {
    match route.name {
        "world-systems" | "world-systems-xyz" => {
            let systems = body["systems"].as_array().expect("systems");
            assert!(!systems.is_empty());
            for s in systems {
                assert_eq!(s.get("confidence_bound").is_none(), redacted, "{}: {s}", route.name);
            }
        }
        // Redacted there: the database driver's error text, visible only when the database is
        // down — tests/tests/health.rs checks it for a redacted and an unredacted persona.
        "health" => assert!(body["db_status"].get("detail").is_none()),
        other => panic!("route {other} has R cells but no redaction check: add one to check_redaction"),
    }
}

fn is_permission_error(body: &Value) -> bool {
    matches!(body["error"].as_str(), Some("forbidden" | "unauthorized" | "invalid_token"))
}

#[tokio::test]
async fn every_persona_on_every_route_is_allowed_redacted_or_denied_as_the_table_says() {
    let (store, _) = fresh_store().await;
    let spec = SourceSpec::file(Family::Simbad, sample_sources().join("SIMBAD_sample.csv"));
    let run = run_pipeline(&store, "matrix", &[spec], Scope::default()).await.unwrap();
    let sim = exomaps_pipeline::sim::create(&store, Default::default(), None).await.unwrap();
    let room = store.create_room("matrix", "admin", None).await.unwrap();
    let (state, _) = test_state(store, exomaps_api::config::Config::default());
    // Path parameters name things that exist, so allowed GETs answer 200.
    let concrete = |path: &str| -> String {
        let id = if path.starts_with("/api/simulation/") { sim.sim_id.to_string() } else { "Sol".to_string() };
        let p = path
            .replace("{run_id}", &run.run_id.to_string())
            .replace("{id}", &id)
            .replace("{room_id}", &room.room_id.to_string());
        // Routes whose allowed GET needs a query parameter to answer 200.
        let p = if p == "/api/search" { "/api/search?q=Sol".to_string() } else { p };
        assert!(
            !p.replace("{annotation_id}", "").contains('{'),
            "{path}: give the matrix test a value for this path parameter"
        );
        p
    };
    let router = exomaps_local::gateway::router(state.clone());

    let mut cells = 0;
    for route in ROUTES {
        let required: Vec<&str> = route.access.allowed().iter().map(|p| p.key()).collect();
        // Each persona, signed in with only that persona.
        for persona in Persona::ALL {
            let token = token_for(&state, persona, &[persona]).await;
            let auth = format!("Bearer {token}");
            let mut path = concrete(route.path);
            if path.contains("{annotation_id}") {
                // An annotation of this caller (an allowed persona edits its own; the handler's
                // author-or-admin check is tests/tests/rooms.rs'), else any.
                let author =
                    if route.access.rule(persona) == Rule::Deny { "Bearer none".to_string() } else { auth.clone() };
                let create = format!("/api/rooms/{}/annotations", room.room_id);
                let note = json!({"system_id": "Sol", "text": "mine"});
                let (_, _, made) =
                    request(&router, req("POST", &create, Some(note.clone()), &[("authorization", &author)])).await;
                let id = match made["id"].as_str() {
                    Some(id) => id.to_string(),
                    None => {
                        let admin = format!("Bearer {}", token_for(&state, Persona::Admin, &[Persona::Admin]).await);
                        let (_, _, made) =
                            request(&router, req("POST", &create, Some(note), &[("authorization", &admin)])).await;
                        made["id"].as_str().expect("admin creates an annotation").to_string()
                    }
                };
                path = path.replace("{annotation_id}", &id);
            }
            let (status, _, body) = request(
                &router,
                req(route.method.as_str(), &path, body_for(route, persona), &[("authorization", &auth)]),
            )
            .await;
            let cell = format!("{} × {}", route.name, persona.key());
            match route.access.rule(persona) {
                Rule::Deny => {
                    assert_eq!(status, 403, "{cell}: {body}");
                    assert_eq!(body["error"], "forbidden", "{cell}");
                    assert_eq!(body["required_personas"], json!(required), "{cell}");
                    assert_eq!(body["current_persona"], persona.key(), "{cell}");
                }
                rule => {
                    assert!(status != 403 && !is_permission_error(&body), "{cell} should be allowed: {status} {body}");
                    if route.method == http::Method::GET {
                        assert_eq!(status, 200, "{cell}: {body}");
                    }
                    if route.access.rules.contains(&Rule::Redact) {
                        check_redaction(route, &body, rule == Rule::Redact);
                    }
                }
            }
            cells += 1;
        }
        // Anonymous: observer_guest's column, but a denial asks for sign-in (401).
        let (status, headers, body) =
            request(&router, req(route.method.as_str(), route.path, body_for(route, Persona::ObserverGuest), &[]))
                .await;
        match route.access.rule(Persona::ObserverGuest) {
            Rule::Deny => {
                assert_eq!(status, 401, "{} anonymous: {body}", route.name);
                assert_eq!(body["error"], "unauthorized");
                assert_eq!(body["required_personas"], json!(required));
                assert!(headers.contains_key("www-authenticate"));
            }
            rule => {
                assert!(!is_permission_error(&body), "{} anonymous: {body}", route.name);
                if route.access.rules.contains(&Rule::Redact) && status == 200 {
                    check_redaction(route, &body, rule == Rule::Redact);
                }
            }
        }
    }
    assert_eq!(cells, ROUTES.len() * 8);
    println!(
        "permission matrix: {} routes × 8 personas = {cells} cells, plus {} anonymous calls",
        ROUTES.len(),
        ROUTES.len()
    );
}

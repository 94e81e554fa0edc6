//! The Lambda wiring, proven: every route answers through its Lambda entry point exactly as
//! through the local gateway, and every function binary serves its route when driven by a
//! Lambda Runtime API.

mod common;

use exomaps_api::routes::Route;
use exomaps_api::{AppState, ROUTES, config::Config};
use exomaps_domain::coords::Scope;
use exomaps_domain::persona::Persona;
use exomaps_lambda::{handle, lambda_http};
use exomaps_pipeline::{Family, SourceSpec, run_pipeline};
use exomaps_tests::{fresh_store, gateway, sample_sources};
use serde_json::{Value, json};

/// An API Gateway REST (v1) proxy event: any method, extra headers, an optional text body.
fn event(
    method: &str,
    route_path: &str,
    query: &[(&str, &str)],
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Value {
    let (path, params) = concrete(route_path);
    let q: serde_json::Map<String, Value> = query.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
    let mq: serde_json::Map<String, Value> = query.iter().map(|(k, v)| (k.to_string(), json!([v]))).collect();
    let mut h = serde_json::Map::new();
    let mut mh = serde_json::Map::new();
    for (k, v) in [("Host", "abc123.execute-api.us-east-1.amazonaws.com"), ("Accept", "application/json")]
        .iter()
        .chain(headers)
        .chain(body.map(|_| ("Content-Type", "application/json")).as_slice())
    {
        h.insert(k.to_string(), json!(v));
        mh.insert(k.to_string(), json!([v]));
    }
    json!({
        "resource": route_path,
        "path": path,
        "httpMethod": method,
        "headers": h,
        "multiValueHeaders": mh,
        "queryStringParameters": if q.is_empty() { Value::Null } else { Value::Object(q) },
        "multiValueQueryStringParameters": if mq.is_empty() { Value::Null } else { Value::Object(mq) },
        "pathParameters": if params.is_empty() { Value::Null } else { Value::Object(params) },
        "stageVariables": null,
        "requestContext": {
            "accountId": "123456789012", "resourceId": "r1", "stage": "prod", "requestId": "req-1",
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "test"},
            "resourcePath": route_path, "httpMethod": method, "apiId": "abc123", "path": format!("/prod{path}"),
            "protocol": "HTTP/1.1", "requestTimeEpoch": 1764115200000u64
        },
        "body": body,
        "isBase64Encoded": false
    })
}

/// The route's path with a probe value for each `{param}` (a run that does not exist), and
/// the path parameters API Gateway would pass.
fn concrete(route_path: &str) -> (String, serde_json::Map<String, Value>) {
    let mut params = serde_json::Map::new();
    let segments: Vec<String> = route_path
        .split('/')
        .map(|seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => {
                let value = match name {
                    "run_id" | "room_id" | "annotation_id" => "00000000-0000-4000-8000-000000000000",
                    "id" => "Sol",
                    other => panic!("no probe value for path parameter {other}: add one to concrete()"),
                };
                params.insert(name.to_string(), json!(value));
                value.to_string()
            }
            None => seg.to_string(),
        })
        .collect();
    (segments.join("/"), params)
}

async fn sample_state() -> (AppState, axum::Router, String) {
    let (store, url) = fresh_store().await;
    let spec = SourceSpec::file(Family::Simbad, sample_sources().join("SIMBAD_sample.csv"));
    run_pipeline(&store, "lambda", &[spec], Scope::default()).await.unwrap();
    (exomaps_tests::test_state(store.clone(), Config::default()).0, gateway(store), url)
}

/// A body that gives a deterministic answer on each POST route (no tokens in it).
fn probe_body(route: &Route) -> Option<&'static str> {
    match (route.method.as_str(), route.name) {
        ("GET", _) => None,
        (_, "persona-set") => Some(r#"{"persona": "observer_guest"}"#),
        (_, "auth-login") => Some("{}"),
        (_, "auth-refresh") => Some(r#"{"refresh_token": "unknown"}"#),
        (_, "auth-logout") => Some(r#"{"refresh_token": "unknown"}"#),
        (_, "runs-start") => Some(r#"{"run_name": "probe"}"#),
        // Deterministic answers: an unknown scenario (400), and "Sol" is not a simulation id (400).
        (_, "sim-create") => Some(r#"{"scenario": "no-such-scenario"}"#),
        (_, "sim-pause" | "sim-resume" | "sim-step" | "sim-fork") => Some(r#"{"at_tick": 0}"#),
        // Rooms: an empty name (400) or a room that does not exist (404); broadcast needs a persona.
        (_, "rooms-create") => Some(r#"{"name": ""}"#),
        (_, "annotations-create") => Some(r#"{"point": {"x_ly": 0, "y_ly": 0, "z_ly": 0}, "text": "probe"}"#),
        (_, "annotations-update") => Some(r#"{"text": "probe"}"#),
        (_, "annotations-delete") => None,
        (_, "admin-broadcast") => Some(r#"{"message": "probe"}"#),
        (_, other) => panic!("no probe body for POST route {other}: add one to probe_body"),
    }
}

fn gateway_request(route: &Route, uri: &str, headers: &[(&str, &str)]) -> http::Request<axum::body::Body> {
    let mut b = http::Request::builder().method(route.method.clone()).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let body = probe_body(route).map(|s| axum::body::Body::from(s.to_string())).unwrap_or_default();
    b.body(body).unwrap()
}

fn body_json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)))
}

#[tokio::test]
async fn every_route_answers_through_its_lambda_entry_point_as_through_the_gateway() {
    let (state, router, _) = sample_state().await;
    for route in ROUTES {
        for query in [&[][..], &[("limit", "3")][..]] {
            let event = event(route.method.as_str(), route.path, query, &[], probe_body(route));
            let req = lambda_http::request::from_str(&event.to_string()).expect("a valid proxy event");
            let res = handle(route, &state, req).await;
            let status = res.status();
            let lambda_body = body_json(res.body());

            let path = concrete(route.path).0;
            let uri = if query.is_empty() { path } else { format!("{path}?limit=3") };
            let (gw_status, _, gw_body) = exomaps_tests::request(&router, gateway_request(route, &uri, &[])).await;
            assert_eq!(status, gw_status, "{} {uri}", route.name);
            assert_eq!(lambda_body, gw_body, "{} {uri}: Lambda and gateway disagree", route.name);
            assert_eq!(res.headers()["x-content-type-options"], "nosniff");
            if route.path.starts_with("/api/world/systems") && !query.is_empty() {
                assert_eq!(lambda_body["returned"], 3, "{}: query parameters reach the handler", route.name);
            }
        }
    }
}

#[tokio::test]
async fn each_function_binary_serves_its_route_under_a_lambda_runtime_api() {
    let (store, url) = fresh_store().await;
    let spec = SourceSpec::file(Family::Simbad, sample_sources().join("SIMBAD_sample.csv"));
    run_pipeline(&store, "lambda", &[spec], Scope::default()).await.unwrap();
    // The functions read their signing keys from a secrets file generated now (never a key in
    // the source tree); the gateway used for comparison reads the same file.
    let secrets = std::env::temp_dir().join(format!("exomaps-fn-secrets-{}.json", uuid_like()));
    exomaps_api::secrets::write_secrets_file(&secrets, &exomaps_api::secrets::KeySet::generate(), None).unwrap();
    let mut config = Config::default();
    config.auth.secrets_file = Some(secrets.clone());
    let state = AppState::with_store(config, store);
    let router = exomaps_tests::gateway_for(state.clone());
    let admin = exomaps_tests::token_for(&state, Persona::Admin, &Persona::ALL).await;
    let auth = format!("Bearer {admin}");
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_health")).parent().unwrap().to_path_buf();
    for route in ROUTES {
        let exe = bin_dir.join(route.name);
        assert!(exe.exists(), "no function binary for route {} ({})", route.name, exe.display());
        let ev =
            event(route.method.as_str(), route.path, &[("limit", "2")], &[("Authorization", &auth)], probe_body(route));
        let mut cmd = tokio::process::Command::new(&exe);
        cmd.env("AWS_LAMBDA_FUNCTION_NAME", route.name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("DATABASE_URL", &url)
            .env("EXOMAPS_SECRETS_FILE", &secrets)
            .env("RUST_LOG", "warn");
        let (kind, reply) = common::invoke_once(cmd, ev, route.name).await;
        assert_eq!(kind, "req-1/response", "{}: {reply}", route.name);
        let mut body = body_json(reply["body"].as_str().expect("a text body").as_bytes());
        let uri = format!("{}?limit=2", concrete(route.path).0);
        let (gw_status, _, mut gw_body) =
            exomaps_tests::request(&router, gateway_request(route, &uri, &[("authorization", &auth)])).await;
        assert_eq!(reply["statusCode"], gw_status.as_u16(), "{}: {body}", route.name);
        assert_ne!(body["error"], "invalid_token", "{}: the function verified the admin token", route.name);
        if route.name == "admin-users" {
            assert_eq!(reply["statusCode"], 200, "the admin token, checked with the file's key, lets admin in");
        }
        // A re-issued access token differs per call (iat, jti); everything else must agree.
        for b in [&mut body, &mut gw_body] {
            if let Some(o) = b.as_object_mut() {
                o.remove("access_token");
            }
        }
        assert_eq!(body, gw_body, "{}", route.name);
    }
    std::fs::remove_file(&secrets).ok();
}

fn uuid_like() -> String {
    exomaps_api::secrets::random_token(8)
}

/// The identity routes end to end through their Lambda entry points (proxy events with POST
/// bodies, headers and API Gateway's source address), exactly as API Gateway would call them.
#[tokio::test]
async fn sign_in_persona_switch_refresh_and_logout_through_lambda_entry_points() {
    let (store, _) = fresh_store().await;
    let (_, pw) = exomaps_tests::create_user(&store, "ada", &[Persona::Admin, Persona::GeneralUser]).await;
    let mut config = Config::default();
    config.auth.login_max_per_source = 4;
    let (state, _) = exomaps_tests::test_state(store, config);
    let call = |name: &str, headers: Vec<(String, String)>, body: Option<String>| {
        let route = exomaps_api::routes::by_name(name).unwrap();
        let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let ev = event(route.method.as_str(), route.path, &[], &h, body.as_deref());
        let state = state.clone();
        async move {
            let res = handle(route, &state, lambda_http::request::from_str(&ev.to_string()).unwrap()).await;
            let status = res.status().as_u16();
            let cookies: Vec<String> =
                res.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect();
            let body = if res.body().is_empty() { Value::Null } else { body_json(res.body()) };
            (status, body, cookies)
        }
    };
    let login = json!({"username": "ada", "password": pw}).to_string();
    let (status, tokens, _) = call("auth-login", vec![], Some(login.clone())).await;
    assert_eq!(status, 200, "{tokens}");
    let bearer = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
    let (status, users, _) = call("admin-users", vec![("Authorization".into(), bearer.clone())], None).await;
    assert_eq!(status, 200, "{users}");
    assert_eq!(users["users"][0]["username"], "ada");
    assert_eq!(users["users"][0]["personas"], json!(["admin", "general_user"]));
    assert!(users["users"][0].get("password_hash").is_none());

    let (status, switched, _) = call(
        "persona-set",
        vec![("Authorization".into(), bearer.clone())],
        Some(r#"{"persona": "general_user"}"#.into()),
    )
    .await;
    assert_eq!(status, 200, "{switched}");
    let general = format!("Bearer {}", switched["access_token"].as_str().unwrap());
    let (status, denied, _) = call("admin-users", vec![("Authorization".into(), general)], None).await;
    assert_eq!((status, denied["error"].as_str()), (403, Some("forbidden")), "{denied}");
    assert_eq!(denied["required_personas"], json!(["admin"]));

    let refresh = json!({"refresh_token": tokens["refresh_token"]}).to_string();
    let (status, rotated, _) = call("auth-refresh", vec![], Some(refresh.clone())).await;
    assert_eq!((status, rotated["persona"].as_str()), (200, Some("general_user")), "{rotated}");
    let (status, reused, _) = call("auth-refresh", vec![], Some(refresh)).await;
    assert_eq!((status, reused["error"].as_str()), (401, Some("refresh_token_reused")));
    let (status, out, cookies) = call("auth-logout", vec![], None).await;
    assert_eq!((status, out), (200, json!({"logged_out": true})));
    assert_eq!(cookies.len(), 2, "both session cookies cleared");

    // The limiter sees API Gateway's sourceIp (127.0.0.1 in these events): 4 attempts, then 429.
    for i in 0..3 {
        let (status, _, _) =
            call("auth-login", vec![], Some(json!({"username": format!("x{i}"), "password": "p"}).to_string())).await;
        assert_eq!(status, 401);
    }
    let (status, body, _) = call("auth-login", vec![], Some(login)).await;
    assert_eq!((status, body["error"].as_str()), (429, Some("too_many_attempts")), "{body}");

    // Body limit on the Lambda path: over 1 MiB is a 413 before any handler runs.
    let big = format!(r#"{{"persona": "{}"}}"#, "x".repeat(1 << 20));
    let (status, body, _) = call("persona-set", vec![], Some(big)).await;
    assert_eq!((status, body["error"].as_str()), (413, Some("payload_too_large")));
}

//! The Lambda wiring, proven: every route answers through its Lambda entry point exactly as
//! through the local gateway, and every function binary serves its route when driven by a
//! Lambda Runtime API.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use exomaps_api::lambda::{handle, lambda_http};
use exomaps_api::{AppState, ROUTES, config::Config};
use exomaps_domain::coords::Scope;
use exomaps_pipeline::{Family, SourceSpec, run_pipeline};
use exomaps_tests::{fresh_store, gateway, sample_sources};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, mpsc};

/// An API Gateway REST (v1) proxy event for `METHOD path?query`.
fn rest_event(method: &str, route_path: &str, query: &[(&str, &str)]) -> Value {
    let q: serde_json::Map<String, Value> = query.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
    let mq: serde_json::Map<String, Value> = query.iter().map(|(k, v)| (k.to_string(), json!([v]))).collect();
    json!({
        "resource": route_path,
        "path": route_path,
        "httpMethod": method,
        "headers": {"Host": "abc123.execute-api.us-east-1.amazonaws.com", "Accept": "application/json"},
        "multiValueHeaders": {"Host": ["abc123.execute-api.us-east-1.amazonaws.com"], "Accept": ["application/json"]},
        "queryStringParameters": if q.is_empty() { Value::Null } else { Value::Object(q) },
        "multiValueQueryStringParameters": if mq.is_empty() { Value::Null } else { Value::Object(mq) },
        "pathParameters": null,
        "stageVariables": null,
        "requestContext": {
            "accountId": "123456789012", "resourceId": "r1", "stage": "prod", "requestId": "req-1",
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "test"},
            "resourcePath": route_path, "httpMethod": method, "apiId": "abc123", "path": format!("/prod{route_path}"),
            "protocol": "HTTP/1.1", "requestTimeEpoch": 1764115200000u64
        },
        "body": null,
        "isBase64Encoded": false
    })
}

async fn sample_state() -> (AppState, axum::Router, String) {
    let (store, url) = fresh_store().await;
    let spec = SourceSpec::file(Family::Simbad, sample_sources().join("SIMBAD_sample.csv"));
    run_pipeline(&store, "lambda", &[spec], Scope::default()).await.unwrap();
    (AppState::with_store(Config::default(), store.clone()), gateway(store), url)
}

fn body_json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)))
}

#[tokio::test]
async fn every_route_answers_through_its_lambda_entry_point_as_through_the_gateway() {
    let (state, router, _) = sample_state().await;
    for route in ROUTES {
        for query in [&[][..], &[("limit", "3")][..]] {
            let event = rest_event(route.method.as_str(), route.path, query);
            let req = lambda_http::request::from_str(&event.to_string()).expect("a valid proxy event");
            let res = handle(route, &state, req).await;
            let status = res.status();
            let lambda_body = body_json(res.body());

            let uri = if query.is_empty() { route.path.to_string() } else { format!("{}?limit=3", route.path) };
            let req = http::Request::builder()
                .method(route.method.clone())
                .uri(&uri)
                .body(axum::body::Body::empty())
                .unwrap();
            let (gw_status, _, gw_body) = exomaps_tests::request(&router, req).await;
            assert_eq!(status, gw_status, "{} {uri}", route.name);
            assert_eq!(lambda_body, gw_body, "{} {uri}: Lambda and gateway disagree", route.name);
            assert_eq!(res.headers()["x-content-type-options"], "nosniff");
            if route.path.starts_with("/api/world/systems") && !query.is_empty() {
                assert_eq!(lambda_body["returned"], 3, "{}: query parameters reach the handler", route.name);
            }
        }
    }
}

/// A minimal Lambda Runtime API: hands out one event, collects the function's answer.
#[derive(Clone)]
struct Runtime {
    event: Arc<Mutex<Option<Value>>>,
    answers: mpsc::UnboundedSender<(String, Value)>,
}

async fn next(State(rt): State<Runtime>) -> axum::response::Response {
    let event = rt.event.lock().await.take();
    match event {
        Some(event) => {
            let deadline =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() + 30_000;
            axum::response::Response::builder()
                .header("lambda-runtime-aws-request-id", "req-1")
                .header("lambda-runtime-deadline-ms", deadline.to_string())
                .header("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:123456789012:function:f")
                .header("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(event.to_string()))
                .unwrap()
        }
        // One invocation per process in this test: park the next poll.
        None => std::future::pending().await,
    }
}

async fn answer(
    State(rt): State<Runtime>,
    Path((id, kind)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> http::StatusCode {
    let _ = rt.answers.send((format!("{id}/{kind}"), serde_json::from_slice(&body).unwrap_or(Value::Null)));
    http::StatusCode::ACCEPTED
}

async fn init_error(State(rt): State<Runtime>, body: axum::body::Bytes) -> http::StatusCode {
    let _ = rt.answers.send(("init/error".into(), serde_json::from_slice(&body).unwrap_or(Value::Null)));
    http::StatusCode::ACCEPTED
}

#[tokio::test]
async fn each_function_binary_serves_its_route_under_a_lambda_runtime_api() {
    let (_, router, url) = sample_state().await;
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_health")).parent().unwrap().to_path_buf();
    for route in ROUTES {
        let exe = bin_dir.join(route.name);
        assert!(exe.exists(), "no function binary for route {} ({})", route.name, exe.display());
        let (tx, mut rx) = mpsc::unbounded_channel();
        let rt = Runtime {
            event: Arc::new(Mutex::new(Some(rest_event(route.method.as_str(), route.path, &[("limit", "2")])))),
            answers: tx,
        };
        let app = axum::Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/{kind}", post(answer))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(rt);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let mut child = tokio::process::Command::new(&exe)
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", route.name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("DATABASE_URL", &url)
            .env("RUST_LOG", "warn")
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let (kind, reply) = tokio::select! {
            got = tokio::time::timeout(Duration::from_secs(30), rx.recv()) => got
                .unwrap_or_else(|_| panic!("{}: no answer from the function within 30 s", route.name))
                .unwrap(),
            status = child.wait() => panic!("{}: the function exited before answering: {status:?}", route.name),
        };
        child.kill().await.ok();
        server.abort();
        assert_eq!(kind, "req-1/response", "{}: {reply}", route.name);
        let body = body_json(reply["body"].as_str().expect("a text body").as_bytes());
        let req = http::Request::builder()
            .method(route.method.clone())
            .uri(format!("{}?limit=2", route.path))
            .body(axum::body::Body::empty())
            .unwrap();
        let (gw_status, _, gw_body) = exomaps_tests::request(&router, req).await;
        assert_eq!(reply["statusCode"], gw_status.as_u16(), "{}", route.name);
        assert_eq!(body, gw_body, "{}", route.name);
    }
}

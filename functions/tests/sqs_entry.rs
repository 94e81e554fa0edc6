//! The SQS-triggered functions need the database configuration and nothing of the HTTP API:
//! `phase-dlq` driven by a Lambda Runtime API with nothing but `DATABASE_URL` (no secrets file,
//! no signing keys) consumes a dead letter and fails its run; a phase function with no database
//! or a malformed setting refuses to start, naming what is missing.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use exomaps_pipeline::chain::Phase;
use exomaps_tests::fresh_store;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, mpsc};

/// The settings a developer's shell or `./dev test` may export, which must not reach the child.
const INHERITED: [&str; 5] =
    ["DATABASE_URL", "EXOMAPS_DB_SECRET_ID", "EXOMAPS_JWT_SECRET_ID", "EXOMAPS_SECRETS_FILE", "EXOMAPS_DB_HOST"];

fn function(name: &str) -> tokio::process::Command {
    let dir = std::path::Path::new(env!("CARGO_BIN_EXE_phase-dlq")).parent().unwrap();
    let mut cmd = tokio::process::Command::new(dir.join(name));
    for k in INHERITED {
        cmd.env_remove(k);
    }
    cmd.env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("RUST_LOG", "warn")
        .kill_on_drop(true);
    cmd
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
                .header("content-type", "application/json")
                .body(axum::body::Body::from(event.to_string()))
                .unwrap()
        }
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
async fn the_dead_letter_function_runs_on_a_database_url_alone() {
    let (store, url) = fresh_store().await;
    let run_id = uuid::Uuid::new_v4();
    store.create_run(run_id, "stuck", None).await.unwrap();
    let message = json!({"run_id": run_id, "phase": "infer"}).to_string();
    let event = json!({"Records": [{
        "messageId": "m-1", "receiptHandle": "r-1", "body": message,
        "attributes": {"ApproximateReceiveCount": "5"}, "messageAttributes": {}, "md5OfBody": "",
        "eventSource": "aws:sqs", "awsRegion": "us-east-1",
        "eventSourceARN": format!("arn:aws:sqs:us-east-1:000000000000:{}-dlq", Phase::Transform.queue_name())
    }]});
    let (tx, mut rx) = mpsc::unbounded_channel();
    let rt = Runtime { event: Arc::new(Mutex::new(Some(event))), answers: tx };
    let app = axum::Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/{kind}", post(answer))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(rt);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let mut child = function("phase-dlq")
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("DATABASE_URL", &url)
        .spawn()
        .unwrap();
    let (kind, reply) = tokio::select! {
        got = tokio::time::timeout(Duration::from_secs(30), rx.recv()) => got
            .expect("no answer from phase-dlq within 30 s")
            .unwrap(),
        status = child.wait() => panic!("phase-dlq exited before answering: {status:?}"),
    };
    child.kill().await.ok();
    server.abort();
    assert_eq!(kind, "req-1/response", "{reply}");
    assert_eq!(reply["batchItemFailures"], json!([]), "the dead letter was recorded: {reply}");
    let run = store.run(run_id).await.unwrap().expect("the run");
    let reason = run.failure_reason.unwrap_or_default();
    assert!(reason.contains("transform message dead-lettered"), "{reason}");
    assert!(run.finished_at.is_some(), "the run is over");
}

#[tokio::test]
async fn a_phase_function_without_a_database_or_with_a_bad_setting_does_not_start() {
    for (name, env, expected) in [
        ("phase-ingest", vec![], "no database configured"),
        (
            "sim-tick",
            vec![("DATABASE_URL", "postgres://u@127.0.0.1:1/x"), ("EXOMAPS_SCOPE_LY", "far")],
            "EXOMAPS_SCOPE_LY",
        ),
    ] {
        let mut cmd = function(name);
        cmd.env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9").stderr(std::process::Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = tokio::time::timeout(Duration::from_secs(30), cmd.output()).await.expect("exits").unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name} started: {stderr}");
        assert!(stderr.contains(expected), "{name}: {stderr}");
    }
}

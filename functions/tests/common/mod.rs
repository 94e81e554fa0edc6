//! A minimal Lambda Runtime API for the function-binary tests: hands one event to a function
//! process and collects its answer (or its init error).

use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, mpsc};

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
        // One invocation per process: park the next poll.
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

/// Runs the function `cmd` (its environment set by the caller) against a Runtime API holding
/// `event`; returns what it posted (`req-1/response`, `req-1/error` or `init/error`) and the
/// body. Panics, naming `what`, when it exits or stays silent for 30 s.
pub async fn invoke_once(mut cmd: tokio::process::Command, event: Value, what: &str) -> (String, Value) {
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
    let mut child = cmd.env("AWS_LAMBDA_RUNTIME_API", addr.to_string()).kill_on_drop(true).spawn().unwrap();
    let got = tokio::select! {
        got = tokio::time::timeout(Duration::from_secs(30), rx.recv()) => got
            .unwrap_or_else(|_| panic!("{what}: no answer from the function within 30 s"))
            .unwrap(),
        status = child.wait() => panic!("{what}: the function exited before answering: {status:?}"),
    };
    child.kill().await.ok();
    server.abort();
    got
}

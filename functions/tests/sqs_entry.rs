//! The SQS-triggered functions need the database configuration and nothing of the HTTP API:
//! `phase-dlq` driven by a Lambda Runtime API with nothing but `DATABASE_URL` (no secrets file,
//! no signing keys) consumes a dead letter and fails its run; a phase function with no database
//! or a malformed setting refuses to start, naming what is missing.

mod common;

use exomaps_pipeline::chain::Phase;
use exomaps_tests::fresh_store;
use serde_json::json;
use std::time::Duration;

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
    let mut cmd = function("phase-dlq");
    cmd.env("DATABASE_URL", &url);
    let (kind, reply) = common::invoke_once(cmd, event, "phase-dlq").await;
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

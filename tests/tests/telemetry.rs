//! The operator's view (issue 13): one JSON log line per request through the Lambda entry
//! (`exomaps_lambda::handle`) with request id, route, persona, status and latency, and one
//! per phase message (phase, run id, rows, duration); the same fields through the local gateway.

use exomaps_api::{config::Config, routes};
use exomaps_domain::persona::Persona;
use exomaps_lambda::{self as lambda, lambda_http};
use exomaps_pipeline::chain::{self, KickMessage, Phase};
use exomaps_pipeline::{Family, SourceSpec};
use exomaps_tests::{fresh_store, sample_sources, test_state, token_for};
use serde_json::Value;
use std::sync::{Arc, Mutex};

/// A log sink: the JSON formatter Lambda uses, writing into memory.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Lines {
    /// Installs the Lambda JSON format (as `lambda::init_tracing(true)` does) for this thread.
    fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let sink = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .without_time()
            .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
            .with_writer(move || sink.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    /// The JSON lines of one target.
    fn of(&self, target: &str) -> Vec<Value> {
        let bytes = self.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
            .filter(|v| v["target"] == target)
            .collect()
    }
}

/// An API Gateway REST proxy event for `GET path` with a bearer token.
fn apigw_event(path: &str, token: &str, request_id: &str) -> lambda_http::Request {
    let event = serde_json::json!({
        "resource": path,
        "path": path,
        "httpMethod": "GET",
        "headers": {"Authorization": format!("Bearer {token}"), "Host": "abc.execute-api.eu-west-1.amazonaws.com"},
        "multiValueHeaders": {"Authorization": [format!("Bearer {token}")], "Host": ["abc.execute-api.eu-west-1.amazonaws.com"]},
        "queryStringParameters": null,
        "pathParameters": null,
        "requestContext": {
            "accountId": "123456789012", "resourceId": "r1", "stage": "prod", "requestId": request_id,
            "identity": {"sourceIp": "203.0.113.9"}, "resourcePath": path, "httpMethod": "GET", "apiId": "abc"
        },
        "body": null,
        "isBase64Encoded": false
    });
    lambda_http::request::from_str(&event.to_string()).expect("an API Gateway event")
}

#[tokio::test]
async fn a_request_through_the_lambda_entry_logs_its_id_route_persona_status_and_latency() {
    let (store, _) = fresh_store().await;
    let (state, _) = test_state(store, Config::default());
    let token = token_for(&state, Persona::ScienceAnalyst, &[Persona::ScienceAnalyst]).await;
    let route = routes::by_name("persona-get").unwrap();
    let lines = Lines::default();
    let res = {
        let _guard = lines.capture();
        lambda::handle(route, &state, apigw_event("/api/persona", &token, "req-7f3a")).await
    };
    assert_eq!(res.headers()["x-request-id"], "req-7f3a", "the edge's request id is echoed");
    let logged = lines.of("exomaps::request");
    assert_eq!(logged.len(), 1, "{logged:?}");
    let line = &logged[0];
    assert_eq!(line["request_id"], "req-7f3a");
    assert_eq!(line["route"], "persona-get");
    assert_eq!(line["method"], "GET");
    assert_eq!(line["persona"], "science_analyst");
    assert_eq!(line["status"], res.status().as_u16());
    assert!(line["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{line}");
    assert_eq!(line["level"], "INFO");

    // Refused before authentication: no persona, the error code, and a request id made up.
    let lines = Lines::default();
    let res = {
        let _guard = lines.capture();
        lambda::handle(route, &state, apigw_event("/api/persona", "not-a-token", "req-8b1c")).await
    };
    assert_eq!(res.status(), 401);
    let line = &lines.of("exomaps::request")[0];
    assert_eq!(line["persona"], "-");
    assert_eq!(line["status"], 401);
    assert!(line["error"].as_str().is_some_and(|e| !e.is_empty()), "{line}");
}

#[tokio::test]
async fn the_local_gateway_logs_the_same_fields_and_answers_a_request_id() {
    let (store, _) = fresh_store().await;
    let router = exomaps_tests::gateway(store);
    let lines = Lines::default();
    let (status, headers, _) = {
        let _guard = lines.capture();
        exomaps_tests::get(&router, "/api/health").await
    };
    let line = &lines.of("exomaps::request")[0];
    assert_eq!(line["route"], "health");
    assert_eq!(line["status"], status.as_u16());
    let id = headers["x-request-id"].to_str().unwrap();
    assert_eq!(line["request_id"], id);
    assert!(uuid::Uuid::parse_str(id).is_ok(), "a made-up id is a UUID: {id}");
}

#[tokio::test]
async fn a_phase_message_logs_its_phase_run_rows_and_duration() {
    let (store, _) = fresh_store().await;
    let ctx = exomaps_tests::silent_context(&store);
    let run_id = uuid::Uuid::new_v4();
    let kick = KickMessage {
        run_name: "telemetry".into(),
        sources: vec![SourceSpec::file(Family::Simbad, sample_sources().join("SIMBAD_sample.csv"))],
        seed: Some(1),
        run_id: Some(run_id),
        shards: None,
    };
    let lines = Lines::default();
    let handled = {
        let _guard = lines.capture();
        let handled = chain::handle(&ctx, Phase::Ingest, &serde_json::to_string(&kick).unwrap()).await.unwrap();
        // A poison message is logged too, as a failure.
        assert!(chain::handle(&ctx, Phase::Transform, "{not json").await.is_err());
        handled
    };
    let logged = lines.of("exomaps::phase");
    assert_eq!(logged.len(), 2, "{logged:?}");
    let ingest = &logged[0];
    assert_eq!(ingest["phase"], "ingest");
    assert_eq!(ingest["run_id"], run_id.to_string());
    assert_eq!(ingest["outcome"], "completed");
    let counted = chain::phase_rows(Phase::Ingest, handled.outcome.as_ref().unwrap());
    assert!(counted > 0);
    assert_eq!(ingest["rows"], counted, "the rows of the sources read");
    assert!(ingest["duration_ms"].as_f64().is_some_and(|ms| ms > 0.0));
    let poison = &logged[1];
    assert_eq!(poison["phase"], "transform");
    assert_eq!(poison["outcome"], "poison");
    assert_eq!(poison["level"], "WARN");
    assert!(poison["error"].as_str().unwrap().contains("malformed"), "{poison}");
}

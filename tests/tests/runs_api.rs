//! Starting and following pipeline runs through the API handlers, with the in-process queues.
//! (Handlers are plain async functions: called here with an explicit caller.)

use exomaps_api::auth::Caller;
use exomaps_api::config::Config;
use exomaps_api::handlers::{runs, world};
use exomaps_api::{ApiRequest, AppState};
use exomaps_domain::persona::Persona;
use exomaps_pipeline::queue::LocalQueues;
use exomaps_tests::{fresh_store, real_sources, sample_sources};
use http::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

fn as_curator(mut req: ApiRequest) -> ApiRequest {
    req.caller = Caller {
        persona: Persona::DataCurator,
        allowed: vec![Persona::DataCurator],
        user: Some("cur".into()),
        ..Caller::anonymous()
    };
    req
}

fn body(res: &exomaps_api::ApiResponse) -> Value {
    serde_json::from_slice(res.body()).unwrap()
}

async fn state_with_queues(sources: std::path::PathBuf) -> (AppState, LocalQueues) {
    let (store, _) = fresh_store().await;
    let ctx = exomaps_tests::silent_context(&store);
    let queues = LocalQueues::spawn(ctx, 5, Duration::from_millis(50));
    let config = Config { sources_dir: Some(sources), ..Config::default() };
    (AppState::with_store(config, store).with_queues(Arc::new(queues.clone())), queues)
}

async fn wait_finished(state: &AppState, run_id: &str) -> Value {
    for _ in 0..200 {
        let mut req = as_curator(ApiRequest::new(Method::GET));
        req.path_params.insert("run_id".into(), run_id.into());
        let res = runs::get_run(state.clone(), req).await.unwrap();
        let b = body(&res);
        if b["run"]["finished_at"].is_string() {
            return b;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("run {run_id} did not finish in 10 s");
}

#[tokio::test]
async fn a_run_started_through_the_api_completes_and_reports_its_validation() {
    let Some(dir) = real_sources() else { return };
    let (state, queues) = state_with_queues(dir).await;
    let mut req = as_curator(ApiRequest::new(Method::POST));
    req.body = json!({"run_name": "api run", "sources": [{"file": "SIMBAD_01.csv"}]}).to_string().into();
    let res = runs::start(state.clone(), req).await.unwrap();
    assert_eq!(res.status(), 202);
    let started = body(&res);
    let run_id = started["run_id"].as_str().unwrap().to_string();
    assert_eq!(started["channel"], format!("runs:{run_id}"));

    let done = wait_finished(&state, &run_id).await;
    assert_eq!(done["run"]["status"], "pass", "{done}");
    let phases: Vec<&str> = done["phases"].as_array().unwrap().iter().map(|p| p["phase"].as_str().unwrap()).collect();
    assert_eq!(phases, ["ingest", "canonicalise", "transform", "infer", "publish"]);
    assert!(done["phases"].as_array().unwrap().iter().all(|p| p["status"] == "done"));
    assert_eq!(done["sources"][0]["quarantined_rows"], 3);
    assert!(done["world_build_id"].is_i64());
    assert!(queues.dead_letters().is_empty());

    let mut req = as_curator(ApiRequest::new(Method::GET)).with_query("limit", "2").with_query("offset", "1");
    req.path_params.insert("run_id".into(), run_id.clone());
    let v = body(&runs::validation(state.clone(), req).await.unwrap());
    assert_eq!(v["validation_summary"][0]["total_rows"], 1582);
    assert_eq!(v["validation_summary"][0]["gate_status"], "pass");
    assert_eq!(v["quarantine"]["total_count"], 5);
    assert_eq!(v["quarantine"]["returned"], 2);
    let codes: Vec<&str> =
        v["quarantine"]["rows"].as_array().unwrap().iter().map(|r| r["error_code"].as_str().unwrap()).collect();
    assert_eq!(codes.len(), 2);
    let mut req = as_curator(ApiRequest::new(Method::GET)).with_query("code", "OUT_OF_RANGE");
    req.path_params.insert("run_id".into(), run_id.clone());
    let v = body(&runs::validation(state.clone(), req).await.unwrap());
    assert_eq!(v["quarantine"]["total_count"], 2);
    assert!(v["quarantine"]["rows"].as_array().unwrap().iter().all(|r| r["raw_record"]["main_id"] == "Sholz's Star"));

    let list = body(&runs::manifest(state.clone(), as_curator(ApiRequest::new(Method::GET))).await.unwrap());
    assert_eq!(list["runs"][0]["run"]["run_id"], run_id);
    assert_eq!(list["runs"][0]["sources"][0]["source_name"], "SIMBAD_01.csv");

    let conf = body(&world::confidence(state.clone(), as_curator(ApiRequest::new(Method::GET))).await.unwrap());
    let total = conf["total_count"].as_u64().unwrap();
    assert!(total > 1500, "{total}");
    assert_eq!(
        conf["unknown_uncertainty_count"].as_u64().unwrap(),
        total - 1,
        "catalogue distances have no sigma; Sol's is 0"
    );
}

#[tokio::test]
async fn bad_run_requests_are_refused_with_reasons() {
    let (state, _) = state_with_queues(sample_sources()).await;
    for (payload, needle) in [
        (json!({"sources": [{"file": "../../etc/passwd"}]}), "file name inside"),
        (json!({"sources": [{"family": "SIMBAD", "uri": "file:///etc/passwd"}]}), "outside the sources folder"),
        (json!({"sources": [{"file": "NOTES.csv"}]}), "must start with SIMBAD"),
        (json!({"sources": [{"family": "SIMBAD", "uri": "http://example.com/x.csv"}]}), "file:// or s3://"),
        (json!({"sources": [{"file": "SIMBAD_sample.csv", "uri": "s3://b/k"}]}), "either"),
        (json!({"nonsense": true}), "invalid run request"),
    ] {
        let mut req = as_curator(ApiRequest::new(Method::POST));
        req.body = payload.to_string().into();
        let err = runs::start(state.clone(), req).await.unwrap_err();
        assert_eq!(err.status, 400, "{payload}");
        assert!(err.message.contains(needle), "{payload}: {}", err.message);
    }
    let mut req = as_curator(ApiRequest::new(Method::GET));
    req.path_params.insert("run_id".into(), "not-a-uuid".into());
    assert_eq!(runs::get_run(state.clone(), req).await.unwrap_err().status, 400);
    let mut req = as_curator(ApiRequest::new(Method::GET));
    req.path_params.insert("run_id".into(), uuid::Uuid::new_v4().to_string());
    assert_eq!(runs::validation(state.clone(), req).await.unwrap_err().status, 404);

    // No body: the server's default sources (the sample folder here) — a run that works.
    let res = runs::start(state.clone(), as_curator(ApiRequest::new(Method::POST))).await.unwrap();
    let run_id = body(&res)["run_id"].as_str().unwrap().to_string();
    let done = wait_finished(&state, &run_id).await;
    assert_eq!(done["run"]["status"], "pass", "{done}");
}

#[tokio::test]
async fn poison_messages_end_in_the_dead_letter_list_and_the_queue_goes_on() {
    let (state, queues) = state_with_queues(sample_sources()).await;
    use exomaps_pipeline::chain::Phase;
    use exomaps_pipeline::queue::Queues;
    queues.send(Phase::Transform, "{not json".into()).await.unwrap();
    queues
        .send(Phase::Transform, json!({"run_id": uuid::Uuid::new_v4(), "phase": "transform"}).to_string())
        .await
        .unwrap();
    let res = runs::start(state.clone(), as_curator(ApiRequest::new(Method::POST))).await.unwrap();
    let run_id = body(&res)["run_id"].as_str().unwrap().to_string();
    assert_eq!(wait_finished(&state, &run_id).await["run"]["status"], "pass");
    for _ in 0..100 {
        if queues.dead_letters().len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let dead = queues.dead_letters();
    assert_eq!(dead.len(), 2, "{dead:?}");
    assert!(dead.iter().any(|d| d.reason.contains("malformed phase message")));
    assert!(dead.iter().any(|d| d.reason.contains("unknown run")));
}

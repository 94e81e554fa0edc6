//! The OpenAPI document describes what the handlers really answer: the real
//! `GET /api/system/{id}` answer (a `json!` built from the canonical star) parses as the
//! documented `SystemDetail` the SPA's generated types come from, and the pipeline's pushes
//! parse as the documented `ServerMessage`s.

use exomaps_api::frames::ServerMessage;
use exomaps_api::handlers::system::SystemDetail;
use exomaps_domain::coords::Scope;
use exomaps_pipeline::chain::{KickMessage, PipelineContext};
use exomaps_pipeline::notify::{Broadcast, Notifier, PostOutcome};
use exomaps_pipeline::{Family, SourceSpec};
use exomaps_tests::{fresh_store, gateway, req, request, sample_sources};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Capture(Mutex<Vec<String>>);

impl Broadcast for Capture {
    fn post<'a>(&'a self, _id: &'a str, data: &'a [u8]) -> Pin<Box<dyn Future<Output = PostOutcome> + Send + 'a>> {
        self.0.lock().unwrap().push(String::from_utf8_lossy(data).into_owned());
        Box::pin(async { PostOutcome::Delivered })
    }
}

#[tokio::test]
async fn system_detail_and_pushes_match_the_document() {
    let (store, _) = fresh_store().await;
    let capture = Arc::new(Capture::default());
    store.ws_connect("c1", "admin", None).await.unwrap();
    store.ws_subscribe("c1", "data").await.unwrap();
    let run_id = uuid::Uuid::new_v4();
    store.ws_subscribe("c1", &format!("runs:{run_id}")).await.unwrap();
    let ctx = PipelineContext {
        store: store.clone(),
        scope: Scope::default(),
        notifier: Notifier::new(store.clone(), Some(capture.clone())),
        objects: None,
    };
    let dir = sample_sources();
    let kick = KickMessage {
        run_name: "shapes".into(),
        sources: vec![
            SourceSpec::file(Family::Simbad, dir.join("SIMBAD_sample.csv")),
            SourceSpec::file(Family::Exoplanets, dir.join("EXOPLANETS_sample.csv")),
        ],
        seed: Some(7),
        run_id: Some(run_id),
        shards: None,
    };
    let report = exomaps_pipeline::run_chain(&ctx, &kick).await.unwrap();
    assert_ne!(report.status, "fail", "{report:?}");

    let pushes = capture.0.lock().unwrap().clone();
    assert!(pushes.len() >= 6, "{pushes:?}");
    let mut kinds = Vec::new();
    for p in &pushes {
        let m: ServerMessage = serde_json::from_str(p).unwrap_or_else(|e| panic!("{p} is not a ServerMessage: {e}"));
        kinds.push(match m {
            ServerMessage::RunProgress { .. } => "progress",
            ServerMessage::DataRefreshed { .. } => "refreshed",
            ServerMessage::RunCompleted { .. } => "completed",
            _ => "other",
        });
    }
    assert!(kinds.contains(&"refreshed") && kinds.last() == Some(&"completed"), "{kinds:?}");

    let router = gateway(store.clone());
    let mut proxima_ids = Vec::new();
    for id in ["V* V645 Cen", "Proxima Centauri", "Sol"] {
        let uri = format!("/api/system/{}", id.replace(' ', "%20").replace('*', "%2A"));
        let (status, _, body) = request(&router, req("GET", &uri, None, &[])).await;
        assert_eq!(status, 200, "{id}: {body}");
        let d: SystemDetail = serde_json::from_value(body.clone()).unwrap_or_else(|e| panic!("{id}: {e}\n{body:#}"));
        if id != "Sol" {
            proxima_ids.push(d.system.main_id.clone());
            assert!((d.system.distance_ly.unwrap() - 4.24).abs() < 0.01);
            let names: Vec<&str> = d.planets.observed.iter().map(|p| p.planet_name.as_str()).collect();
            assert!(names.contains(&"Proxima Cen b"), "{names:?}");
            assert!(!d.lineage.is_empty());
        }
    }
    assert_eq!(proxima_ids[0], proxima_ids[1], "the SIMBAD id and the common name are one system");
}

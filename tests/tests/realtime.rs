//! The WebSocket channel on the local gateway: connect, subscribe with permission checks,
//! ping, server pushes through `/@connections/{id}` via the Notifier, and cleanup of
//! connections that vanished.

use exomaps_pipeline::notify::Notifier;
use exomaps_tests::{HttpBroadcaster, fresh_store, gateway};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

async fn next_json<S>(ws: &mut S) -> Value
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let msg =
        tokio::time::timeout(Duration::from_secs(10), ws.next()).await.expect("a frame within 10 s").unwrap().unwrap();
    serde_json::from_str(msg.to_text().unwrap()).unwrap()
}

#[tokio::test]
async fn subscribe_push_and_cleanup() {
    let (store, _) = fresh_store().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = gateway(store.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let (mut a, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws")).await.unwrap();
    let (mut b, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws")).await.unwrap();
    for ws in [&mut a, &mut b] {
        ws.send(Message::text(json!({"action": "subscribe", "channel": "data"}).to_string())).await.unwrap();
        assert_eq!(next_json(ws).await, json!({"type": "subscribed", "channel": "data"}));
    }
    a.send(Message::text(r#"{"action":"ping"}"#)).await.unwrap();
    assert_eq!(next_json(&mut a).await, json!({"type": "pong"}));
    // Anonymous callers are observer_guest: run progress is not theirs to follow.
    a.send(Message::text(r#"{"action":"subscribe","run_id":"7b0c"}"#)).await.unwrap();
    let denied = next_json(&mut a).await;
    assert_eq!((denied["type"].as_str(), denied["error"].as_str()), (Some("error"), Some("forbidden")), "{denied}");
    a.send(Message::text("not json")).await.unwrap();
    assert_eq!(next_json(&mut a).await["error"], "bad_request");
    assert_eq!(store.ws_connection_count().await.unwrap(), 2);

    let notifier = Notifier::new(store.clone(), Some(Arc::new(HttpBroadcaster { port })));
    let msg =
        json!({"type": "data.refreshed", "world_build_id": 7, "tables": ["stars_xyz"], "row_counts": {"stars_xyz": 3}});
    let report = notifier.publish("data", &msg).await;
    assert_eq!((report.delivered, report.gone, report.failed), (2, 0, 0));
    assert_eq!(next_json(&mut a).await, msg);
    assert_eq!(next_json(&mut b).await, msg);

    // b closes: the gateway records the disconnect.
    b.close(None).await.unwrap();
    for _ in 0..50 {
        if store.ws_connection_count().await.unwrap() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(store.ws_connection_count().await.unwrap(), 1);

    // A connection the store still lists but that is gone (e.g. a Lambda missed the
    // $disconnect): the push meets 410 and the Notifier deletes it.
    store.ws_connect("vanished", "general_user", None).await.unwrap();
    store.ws_subscribe("vanished", "data").await.unwrap();
    let report = notifier.publish("data", &json!({"type": "pong"})).await;
    assert_eq!((report.delivered, report.gone), (1, 1));
    assert_eq!(store.ws_subscribers("data").await.unwrap().len(), 1);
    assert_eq!(next_json(&mut a).await, json!({"type": "pong"}));

    // Oversized pushes are refused, not truncated.
    let big = json!({"type": "x", "pad": "a".repeat(40_000)});
    assert_eq!(notifier.publish("data", &big).await.delivered, 0);
}

/// The same protocol with the production broadcaster: the AWS SDK's API Gateway Management
/// client posts to the local gateway's `/@connections` (as it posts to API Gateway in AWS). A
/// data curator follows a run from kick to `data.refreshed`, in order.
#[tokio::test]
async fn a_curator_follows_a_run_through_the_sdk_broadcaster() {
    use exomaps_domain::coords::Scope;
    use exomaps_domain::persona::Persona;
    use exomaps_pipeline::aws::SdkBroadcast;
    use exomaps_pipeline::chain::{KickMessage, Phase, PipelineContext};
    use exomaps_pipeline::queue::{LocalQueues, Queues};
    use exomaps_pipeline::{Family, SourceSpec};
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none() {
        assert!(std::env::var("CI").map_or(true, |v| v != "true"), "CI runs with the emulator's AWS settings");
        eprintln!("skipping: no AWS settings (./dev test provides them)");
        return;
    }
    let (store, _) = fresh_store().await;
    let (state, _) = exomaps_tests::test_state(store.clone(), exomaps_api::config::Config::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = exomaps_tests::gateway_for(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let sdk = exomaps_platform::aws::config().await;
    let broadcaster = exomaps_platform::broadcast::Broadcaster::new(sdk);
    let notifier = Notifier::new(
        store.clone(),
        Some(Arc::new(SdkBroadcast::new(broadcaster, format!("http://127.0.0.1:{port}")))),
    );
    let ctx =
        PipelineContext { store: store.clone(), scope: Scope::default(), notifier: notifier.clone(), objects: None };
    let queues = LocalQueues::spawn(ctx, 5, Duration::from_millis(100));

    let token = exomaps_tests::token_for(&state, Persona::DataCurator, &[Persona::DataCurator]).await;
    let mut request = format!("ws://127.0.0.1:{port}/ws").into_client_request().unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let run_id = uuid::Uuid::new_v4();
    ws.send(Message::text(json!({"action": "subscribe", "run_id": run_id}).to_string())).await.unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "subscribed");

    let kick = KickMessage {
        run_name: "followed".into(),
        sources: vec![SourceSpec::file(Family::Simbad, exomaps_tests::sample_sources().join("SIMBAD_sample.csv"))],
        seed: None,
        run_id: Some(run_id),
        shards: None,
    };
    queues.send(Phase::Ingest, serde_json::to_string(&kick).unwrap()).await.unwrap();
    let mut seen = Vec::new();
    loop {
        let m = next_json(&mut ws).await;
        let label = match m["type"].as_str().unwrap() {
            "run.progress" => format!("{}:{}", m["phase"].as_str().unwrap(), m["status"].as_str().unwrap()),
            other => other.to_string(),
        };
        seen.push(label);
        if m["type"] == "run.completed" {
            assert_eq!(m["status"], "pass");
            break;
        }
    }
    let mut want: Vec<String> =
        Phase::ALL.iter().flat_map(|p| [format!("{}:running", p.as_str()), format!("{}:done", p.as_str())]).collect();
    want.extend(["data.refreshed".to_string(), "run.completed".to_string()]);
    assert_eq!(seen, want, "every phase's progress, then data.refreshed, in order");

    // A connection the store lists but API Gateway no longer has: 410 through the SDK, deleted.
    store.ws_connect("0123456789abcdef", "general_user", None).await.unwrap();
    store.ws_subscribe("0123456789abcdef", &format!("runs:{run_id}")).await.unwrap();
    let report = notifier.publish(&format!("runs:{run_id}"), &json!({"type": "pong"})).await;
    assert_eq!((report.delivered, report.gone, report.failed), (1, 1, 0));
    assert_eq!(store.ws_subscribers(&format!("runs:{run_id}")).await.unwrap().len(), 1);
}

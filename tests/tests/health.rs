//! `GET /api/health` reports the database up, down (503 envelope) and up again — the same
//! gateway state throughout, no restart.

use exomaps_api::AppState;
use exomaps_api::config::Config;
use exomaps_domain::persona::Persona;
use exomaps_local::pg::PrivateCluster;
use exomaps_store::{PoolSettings, Store};
use exomaps_tests::get;
use std::time::Duration;

/// Runs a blocking cluster operation (pg_ctl) off the async runtime.
async fn blocking(mut cluster: PrivateCluster, op: fn(&mut PrivateCluster) -> Result<(), String>) -> PrivateCluster {
    tokio::task::spawn_blocking(move || {
        op(&mut cluster).expect("pg_ctl");
        cluster
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn health_follows_the_database_down_and_back_up() {
    let dir = std::env::temp_dir().join(format!("exomaps-health-{}", uuid::Uuid::new_v4()));
    let mut cluster = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || PrivateCluster::create(&dir)
    })
    .await
    .unwrap()
    .expect("private cluster");
    let settings = PoolSettings { max_connections: 2, acquire_timeout: Duration::from_millis(1500) };
    let store = Store::connect_lazy(&cluster.url("postgres"), &settings).unwrap();
    store.migrate().await.unwrap();
    let (state, _) = exomaps_tests::test_state(store, Config::default());
    let router = exomaps_local::gateway::router(state.clone());

    let (status, _, body) = get(&router, "/api/health").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["db_status"]["connected"], true);
    assert_eq!(body["routes_count"], exomaps_api::ROUTES.len());

    cluster = blocking(cluster, PrivateCluster::stop).await;
    let (status, _, body) = get(&router, "/api/health").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "db_unavailable");
    assert!(body["message"].as_str().unwrap().contains("not available"));
    assert_eq!(body["db_status"]["connected"], false);
    assert!(body["db_status"].get("detail").is_none(), "driver errors are not shown to observer_guest");
    // The health row redacts the driver's text for every persona but admin and ops_engineer.
    for (persona, shown) in [(Persona::Admin, true), (Persona::OpsEngineer, true), (Persona::GeneralUser, false)] {
        let token = exomaps_tests::token_for(&state, persona, &[persona]).await;
        let auth = format!("Bearer {token}");
        let (status, _, body) = exomaps_tests::request(
            &router,
            exomaps_tests::req("GET", "/api/health", None, &[("authorization", &auth)]),
        )
        .await;
        assert_eq!(status, 503);
        assert_eq!(body["db_status"].get("detail").is_some(), shown, "{persona:?}: {body}");
    }
    // Data routes fail the same way, with the envelope and no driver text.
    let (status, _, body) = get(&router, "/api/world/systems/xyz").await;
    assert_eq!((status.as_u16(), body["error"].as_str()), (503, Some("db_unavailable")), "{body}");

    let cluster = blocking(cluster, PrivateCluster::start).await;
    // While known down, requests fail fast; the background probe (every 500 ms) notices the
    // database is back.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let (status, body) = loop {
        let (status, _, body) = get(&router, "/api/health").await;
        if status == 200 || std::time::Instant::now() > deadline {
            break (status, body);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status, 200, "recovered without restarting the gateway: {body}");
    assert_eq!(body["db_status"]["connected"], true);
    drop(cluster);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn health_without_a_database_says_not_configured() {
    let router = exomaps_local::gateway::router(AppState::load(Config::default()).await.unwrap());
    let (status, _, body) = get(&router, "/api/health").await;
    assert_eq!(status, 503);
    assert_eq!(body["db_status"]["configured"], false);
    let (status, headers, body) = get(&router, "/api/nope").await;
    assert_eq!((status.as_u16(), body["error"].as_str()), (404, Some("not_found")));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let req = http::Request::post("/api/health").body(axum::body::Body::empty()).unwrap();
    let (status, _, body) = exomaps_tests::request(&router, req).await;
    assert_eq!((status.as_u16(), body["error"].as_str()), (405, Some("method_not_allowed")));
}

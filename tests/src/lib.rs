//! Test support: fresh databases on the test PostgreSQL, the source folder, and requests
//! through the local gateway's router.
//!
//! The tests need `DATABASE_URL` pointing at a PostgreSQL superuser (the README's test
//! command starts a private cluster and sets it). Each test gets its own database.

use axum::Router;
use exomaps_api::AppState;
use exomaps_api::config::Config;
use exomaps_store::Store;
use http::{HeaderMap, Request, StatusCode};
use std::path::PathBuf;
use tower::ServiceExt;

pub fn admin_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| {
        panic!("DATABASE_URL is not set: run the tests with `./dev test` (it starts a private PostgreSQL)")
    })
}

/// A new, migrated, empty database; returns its store and URL.
pub async fn fresh_store() -> (Store, String) {
    let admin = admin_url();
    let name = format!("exomaps_t_{}", uuid::Uuid::new_v4().simple());
    let pool = sqlx::PgPool::connect(&admin).await.expect("connect to the test PostgreSQL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&pool).await.expect("create database");
    pool.close().await;
    let (base, _) = admin.rsplit_once('/').expect("DATABASE_URL has a database name");
    let url = format!("{base}/{name}");
    let store = Store::connect_lazy(&url, &Default::default()).expect("store");
    store.migrate().await.expect("migrate");
    (store, url)
}

/// The folder with the real source CSVs (`$EXOMAPS_SOURCES`, else `../shared/data/sources`).
/// Outside CI a missing folder skips the calling test (returns None); in CI it is an error.
pub fn real_sources() -> Option<PathBuf> {
    let dir = std::env::var_os("EXOMAPS_SOURCES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/sources"));
    if dir.join("SIMBAD_01.csv").is_file() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("source CSVs not found in {} (set EXOMAPS_SOURCES)", dir.display());
    }
    eprintln!("skipping: source CSVs not found in {}", dir.display());
    None
}

/// The small sample the repository carries.
pub fn sample_sources() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sample/sources")
}

pub fn gateway(store: Store) -> Router {
    exomaps_local::gateway::router(AppState::with_store(Config::default(), store))
}

/// A GET through the gateway router: status, headers and the JSON body (Null when empty).
pub async fn get(router: &Router, uri: &str) -> (StatusCode, HeaderMap, serde_json::Value) {
    request(router, Request::get(uri).body(axum::body::Body::empty()).unwrap()).await
}

pub async fn request(router: &Router, req: Request<axum::body::Body>) -> (StatusCode, HeaderMap, serde_json::Value) {
    let res = router.clone().oneshot(req).await.expect("router is infallible");
    let (parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.expect("body");
    let json = if bytes.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", String::from_utf8_lossy(&bytes)))
    };
    (parts.status, parts.headers, json)
}

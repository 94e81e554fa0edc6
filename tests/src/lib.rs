//! Test support: fresh databases on the test PostgreSQL, the source folder, and requests
//! through the local gateway's router.
//!
//! The tests need `DATABASE_URL` pointing at a PostgreSQL superuser (the README's test
//! command starts a private cluster and sets it). Each test gets its own database.

use axum::Router;
use exomaps_api::AppState;
use exomaps_api::auth::token::{self, Subject};
use exomaps_api::config::Config;
use exomaps_api::secrets::{KeySet, MemorySource};
use exomaps_domain::persona::Persona;
use exomaps_store::Store;
use exomaps_store::identity::NewUser;
use http::{HeaderMap, Request, StatusCode};
use std::path::PathBuf;
use std::sync::Arc;
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

/// The gateway over `store` with a fresh random signing key held in memory.
pub fn gateway(store: Store) -> Router {
    exomaps_local::gateway::router(test_state(store, Config::default()).0)
}

/// State over `store` whose signing keys live in a [`MemorySource`] the test can rotate.
pub fn test_state(store: Store, config: Config) -> (AppState, Arc<MemorySource>) {
    let keys = Arc::new(MemorySource::new(KeySet::generate()));
    (AppState::with_store(config, store).with_secrets(keys.clone()), keys)
}

/// Creates a user with the given personas (the first is the default) and a random password.
pub async fn create_user(store: &Store, username: &str, personas: &[Persona]) -> (uuid::Uuid, String) {
    let password = exomaps_api::secrets::random_token(18);
    let phc = exomaps_api::auth::password::hash(&password).unwrap();
    let keys: Vec<&str> = personas.iter().map(|p| p.key()).collect();
    let id = store
        .upsert_user(&NewUser { username, password_hash: &phc, personas: &keys, default_persona: keys[0] })
        .await
        .expect("create user");
    (id, password)
}

/// A valid access token for a (possibly non-existent) user acting as `persona`.
pub async fn token_for(state: &AppState, persona: Persona, personas: &[Persona]) -> String {
    let keys = state.signing_keys().await.unwrap();
    let subject = Subject {
        user_id: uuid::Uuid::new_v4(),
        username: format!("t_{}", persona.key()),
        persona,
        personas: personas.to_vec(),
        session: None,
    };
    token::issue(&state.config().auth, &keys, &subject, now()).unwrap().0
}

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A request with a JSON body (or none) and extra headers.
pub fn req(
    method: &str,
    uri: &str,
    body: Option<serde_json::Value>,
    headers: &[(&str, &str)],
) -> Request<axum::body::Body> {
    let mut b = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    match body {
        Some(json) => b.header("content-type", "application/json").body(axum::body::Body::from(json.to_string())),
        None => b.body(axum::body::Body::empty()),
    }
    .unwrap()
}

/// The `Set-Cookie` value for cookie `name`, if the response sets it.
pub fn set_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(http::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
}

/// The value part of a `Set-Cookie` header (`name=value; ...` → `value`).
pub fn cookie_value(set_cookie: &str) -> &str {
    set_cookie.split(';').next().and_then(|p| p.split_once('=')).map(|(_, v)| v).unwrap_or("")
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

/// The gateway over an existing state.
pub fn gateway_for(state: AppState) -> Router {
    exomaps_local::gateway::router(state)
}

/// Posts like the API Gateway Management API does: `POST {endpoint}/@connections/{id}`.
pub struct HttpBroadcaster {
    pub port: u16,
}

impl exomaps_pipeline::notify::Broadcast for HttpBroadcaster {
    fn post<'a>(
        &'a self,
        id: &'a str,
        data: &'a [u8],
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = exomaps_pipeline::notify::PostOutcome> + Send + 'a>> {
        Box::pin(async move {
            let (port, id, data) = (self.port, id.to_string(), data.to_vec());
            tokio::task::spawn_blocking(move || {
                use std::io::{Read, Write};
                let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
                write!(
                    s,
                    "POST /@connections/{id} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    data.len()
                )
                .unwrap();
                s.write_all(&data).unwrap();
                let mut out = String::new();
                s.read_to_string(&mut out).unwrap();
                match out.split_whitespace().nth(1) {
                    Some("200") => exomaps_pipeline::notify::PostOutcome::Delivered,
                    Some("410") => exomaps_pipeline::notify::PostOutcome::Gone,
                    other => exomaps_pipeline::notify::PostOutcome::Failed(format!("{other:?}")),
                }
            })
            .await
            .unwrap()
        })
    }
}

/// A pipeline context over `store` with the default scope, no pushes and no published files.
pub fn silent_context(store: &Store) -> exomaps_pipeline::chain::PipelineContext {
    exomaps_pipeline::chain::PipelineContext {
        store: store.clone(),
        scope: exomaps_domain::coords::Scope::default(),
        notifier: exomaps_pipeline::notify::Notifier::silent(store.clone()),
        objects: None,
    }
}

/// Row counts and content checksums of everything a run produced, by table: staging (both CSV
/// families, every column), quarantine (every record with its detail and raw row), summaries,
/// manifest, the world build, its systems, positions and reference results. Two runs with equal
/// fingerprints produced the same rows (run ids and serial ids aside).
pub async fn fingerprint(store: &Store, run_id: uuid::Uuid) -> Vec<(String, i64, String)> {
    let mut out = Vec::new();
    for (name, sql) in [
        (
            "staging",
            "SELECT count(*), md5(string_agg(concat_ws('|', source_name, row_number, sys_id, sys_code, main_id, main_id_raw, ids::text, otype_txt, otypes::text, spectral_type, ra_deg, dec_deg, dist_pc, multiplicity, notes::text), ',' ORDER BY source_name, row_number)) FROM stg_data.stg_simbad_raw WHERE run_id = $1",
        ),
        (
            "exoplanet staging",
            "SELECT count(*), md5(string_agg(concat_ws('|', source_name, row_number, star_name, planet_name, record::text), ',' ORDER BY source_name, row_number)) FROM stg_data.stg_exoplanet_raw WHERE run_id = $1",
        ),
        (
            "quarantine",
            "SELECT count(*), md5(string_agg(concat_ws('|', source_name, row_number, error_code, column_name, error_detail, raw_record::text), ',' ORDER BY source_name, row_number, error_code, column_name, error_detail)) FROM stg_data.validation_quarantine WHERE run_id = $1",
        ),
        (
            "summary",
            "SELECT count(*), md5(string_agg(concat_ws('|', source_name, total_rows, accepted_rows, quarantined_rows, warning_count, fail_count, gate_status, details::text), ',' ORDER BY source_name)) FROM stg_data.validation_summary WHERE run_id = $1",
        ),
        (
            "manifest",
            "SELECT count(*), md5(string_agg(concat_ws('|', source_name, file_checksum_sha256, file_bytes, row_count, accepted_rows, quarantined_rows, gate_status), ',' ORDER BY source_name)) FROM stg_data.source_manifest WHERE run_id = $1",
        ),
        (
            "builds",
            "SELECT count(*), md5(string_agg(status || stars_count || in_scope_count, ',')) FROM dm_galaxy.world_builds WHERE run_id = $1",
        ),
        (
            "systems",
            "SELECT count(*), md5(string_agg(b.main_id || b.canon::text || coalesce(b.inference::text, ''), ',' ORDER BY b.main_id)) FROM dm_galaxy.build_systems b JOIN dm_galaxy.world_builds w USING (world_build_id) WHERE w.run_id = $1",
        ),
        (
            "positions",
            "SELECT count(*), md5(string_agg(s.main_id || x.x_pc || x.y_pc || x.z_pc || x.in_scope, ',' ORDER BY s.main_id)) FROM dm_galaxy.stars_xyz x JOIN dm_galaxy.stars s USING (star_id) JOIN dm_galaxy.world_builds w USING (world_build_id) WHERE w.run_id = $1",
        ),
        (
            "references",
            "SELECT count(*), md5(string_agg(rule_key || status, ',' ORDER BY rule_key)) FROM stg_data.reference_results WHERE run_id = $1",
        ),
    ] {
        let (n, sum): (i64, Option<String>) =
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(run_id).fetch_one(store.pool()).await.unwrap();
        out.push((name.to_string(), n, sum.unwrap_or_default()));
    }
    out
}

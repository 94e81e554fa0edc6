//! Issue 9 regressions, each against a real PostgreSQL through the gateway: text PostgreSQL
//! refuses (NUL) → 400 `invalid_text` at the one boundary; a dead-lettered phase message fails
//! its run; limits on queued/running runs (429 + Retry-After); failing fast while the database
//! is known down (and recovering by the background probe); the world routes served from the
//! read cache (ETag/304, gzip, no connection needed once warm); oversized WebSocket frames closed
//! with 1009; the OpenAPI schema as strict as the server; logout revoking access tokens.

use exomaps_api::AppState;
use exomaps_api::config::Config;
use exomaps_domain::coords::Scope;
use exomaps_domain::persona::Persona;
use exomaps_pipeline::chain::{Phase, PipelineContext};
use exomaps_pipeline::notify::Notifier;
use exomaps_pipeline::queue::{LocalQueues, Queues, SendFuture};
use exomaps_pipeline::{Family, SourceSpec, run_pipeline};
use exomaps_store::{PoolSettings, Store};
use exomaps_tests::{create_user, fresh_store, gateway_for, get, req, request, sample_sources, test_state, token_for};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A queue that accepts kick messages and does nothing with them (runs stay queued).
#[derive(Default)]
struct ParkedQueue(Mutex<Vec<String>>);

impl Queues for ParkedQueue {
    fn send(&self, _phase: Phase, body: String) -> SendFuture<'_> {
        self.0.lock().unwrap().push(body);
        Box::pin(async { Ok(()) })
    }
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn nul_in_any_text_input_is_a_400_naming_the_field() {
    let (store, _) = fresh_store().await;
    let (state, _) = test_state(store.clone(), Config::default());
    let state = state.with_queues(Arc::new(ParkedQueue::default()));
    let router = gateway_for(state.clone());
    let admin = token_for(&state, Persona::Admin, &[Persona::Admin]).await;
    let auth = bearer(&admin);
    let run = uuid::Uuid::new_v4();

    let cases: Vec<(http::Request<axum::body::Body>, &str)> = vec![
        (req("GET", "/api/system/a%00b", None, &[]), "path parameter 'id'"),
        (
            req("POST", "/api/auth/login", Some(json!({"username": "ad\u{0}min", "password": "x"})), &[]),
            "body /username",
        ),
        (req("POST", "/api/runs", Some(json!({"run_name": "a\u{0}"})), &[("authorization", &auth)]), "body /run_name"),
        (
            req(
                "POST",
                "/api/runs",
                Some(json!({"sources": [{"family": "SIMBAD", "uri": "s3://b/\u{0}"}]})),
                &[("authorization", &auth)],
            ),
            "body /sources/0/uri",
        ),
        (
            req("GET", &format!("/api/runs/validation/{run}?source=%00"), None, &[("authorization", &auth)]),
            "query parameter 'source'",
        ),
        (
            req("GET", &format!("/api/runs/validation/{run}?code=x%00"), None, &[("authorization", &auth)]),
            "query parameter 'code'",
        ),
    ];
    for (r, field) in cases {
        let label = format!("{} {}", r.method(), r.uri());
        let (status, _, body) = request(&router, r).await;
        assert_eq!(status, 400, "{label}: {body}");
        assert_eq!(body["error"], "invalid_text", "{label}: {body}");
        assert_eq!(body["field"], field, "{label}");
    }
    assert!(store.list_runs(10, None).await.unwrap().is_empty(), "no run was recorded");

    // A WebSocket subscribe to a channel with a NUL is an error reply, not "internal".
    let caller = exomaps_api::auth::Caller::anonymous();
    exomaps_api::ws::on_connect(&state, "c1", &caller).await.unwrap();
    let reply =
        exomaps_api::ws::on_message(&state, "c1", r#"{"action":"subscribe","channel":"data\u0000"}"#).await.unwrap();
    let reply = serde_json::to_value(reply).unwrap();
    assert_eq!(reply["type"], "error");
    assert_eq!(reply["error"], "invalid_text", "{reply}");
    let reply = exomaps_api::ws::on_message(&state, "c1", r#"{"action":"subscribe","channel":"data"}"#).await.unwrap();
    let reply = serde_json::to_value(reply).unwrap();
    assert_eq!(reply["type"], "subscribed", "{reply}");
}

#[tokio::test]
async fn a_dead_lettered_phase_message_fails_its_run_with_the_reason() {
    let (store, _) = fresh_store().await;
    let ctx = PipelineContext {
        notifier: Notifier::new(store.clone(), None),
        store: store.clone(),
        scope: Scope::default(),
        objects: None,
    };
    let queues = LocalQueues::spawn(ctx, 3, Duration::from_millis(10));
    // The message of the issue: accepted once with 202, it can never be ingested.
    let run_id = uuid::Uuid::new_v4();
    store.queue_run(run_id, "poisoned", None).await.unwrap();
    let kick =
        json!({"run_id": run_id, "run_name": "poisoned", "sources": [{"family": "SIMBAD", "uri": "s3://b/\u{0}"}]});
    queues.send(Phase::Ingest, kick.to_string()).await.unwrap();
    // A later phase's message for a running run whose phase keeps failing the same way.
    let second = uuid::Uuid::new_v4();
    store.create_run(second, "stuck", None).await.unwrap();
    queues.send(Phase::Transform, json!({"run_id": second, "phase": "infer"}).to_string()).await.unwrap();

    let deadline = Instant::now() + Duration::from_secs(10);
    while queues.dead_letters().len() < 2 {
        assert!(Instant::now() < deadline, "messages not dead-lettered: {:?}", queues.dead_letters());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for (id, phase) in [(run_id, "ingest"), (second, "transform")] {
        let run = store.run(id).await.unwrap().unwrap();
        assert_eq!(run.status, "fail", "{run:?}");
        let reason = run.failure_reason.unwrap_or_default();
        assert!(reason.contains(&format!("{phase} message dead-lettered")), "{reason}");
        assert!(run.finished_at.is_some());
    }
}

#[tokio::test]
async fn queued_and_running_runs_are_limited_per_user_and_globally() {
    let (store, _) = fresh_store().await;
    let (state, _) = test_state(store.clone(), Config::default()); // 2 per user, 4 in all
    let state = state.with_queues(Arc::new(ParkedQueue::default()));
    let router = gateway_for(state.clone());
    let start = |token: String| {
        let router = router.clone();
        async move {
            let auth = bearer(&token);
            let body = json!({"sources": [{"family": "SIMBAD", "uri": "s3://bucket/SIMBAD_01.csv"}]});
            request(&router, req("POST", "/api/runs", Some(body), &[("authorization", &auth)])).await
        }
    };
    let users: Vec<String> = {
        let mut v = Vec::new();
        for p in [Persona::Admin, Persona::DataCurator, Persona::OpsEngineer] {
            v.push(token_for(&state, p, &[p]).await);
        }
        v
    };
    for _ in 0..2 {
        assert_eq!(start(users[0].clone()).await.0, 202);
    }
    let (status, headers, body) = start(users[0].clone()).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"], "too_many_runs");
    assert_eq!(body["limit"], 2);
    assert_eq!(headers["retry-after"], "30");
    for _ in 0..2 {
        assert_eq!(start(users[1].clone()).await.0, 202);
    }
    let (status, headers, body) = start(users[2].clone()).await;
    assert_eq!(status, 429, "the global limit: {body}");
    assert_eq!(body["limit"], 4);
    assert!(headers.contains_key("retry-after"));
    assert_eq!(store.list_runs(50, None).await.unwrap().len(), 4, "refused starts record nothing");

    // A finished run frees its slot.
    let first = store.list_runs(50, None).await.unwrap()[0].run_id;
    store.finish_run(first, exomaps_store::runs::RunStatus::Fail, Some("test")).await.unwrap();
    assert_eq!(start(users[2].clone()).await.0, 202);
}

/// A TCP proxy in front of PostgreSQL that can play dead: while down it accepts connections
/// and never answers (what a vanished host looks like), and drops the forwarded ones.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    live: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Proxy {
    async fn start(target: String) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let live: Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let (up2, live2) = (up.clone(), live.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else { return };
                let task = if up2.load(Ordering::SeqCst) {
                    let target = target.clone();
                    tokio::spawn(async move {
                        if let Ok(mut server) = tokio::net::TcpStream::connect(target).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    })
                } else {
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                        drop(client);
                    })
                };
                live2.lock().unwrap().push(task.abort_handle());
            }
        });
        Proxy { port, up, live }
    }

    fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
        if !up {
            for t in self.live.lock().unwrap().drain(..) {
                t.abort();
            }
        }
    }

    /// `url` with its host and port replaced by the proxy's.
    fn url(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").unwrap();
        let (authority, path) = rest.split_once('/').unwrap();
        let user = authority.rsplit_once('@').map_or("", |(u, _)| u);
        let user = if user.is_empty() { String::new() } else { format!("{user}@") };
        format!("{scheme}://{user}127.0.0.1:{}/{path}", self.port)
    }
}

fn host_port(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    let authority = rest.split_once('/').unwrap().0;
    authority.rsplit_once('@').map_or(authority, |(_, h)| h).to_string()
}

/// The sample world in a fresh database, and a gateway state reaching it through a proxy.
async fn proxied_world(config: Config) -> (AppState, Proxy, Store) {
    let (store, url) = fresh_store().await;
    let spec = SourceSpec::file(Family::Simbad, sample_sources().join("SIMBAD_sample.csv"));
    let report = run_pipeline(&store, "sample", &[spec], Scope::default()).await.unwrap();
    assert_eq!(report.status, "pass", "{report:?}");
    let proxy = Proxy::start(host_port(&url)).await;
    let settings = PoolSettings { max_connections: 4, acquire_timeout: Duration::from_millis(1000) };
    let proxied = Store::connect_lazy(&proxy.url(&url), &settings).unwrap();
    let (state, _) = test_state(proxied, config);
    (state, proxy, store)
}

#[tokio::test]
async fn a_known_down_database_fails_fast_and_is_probed_back() {
    let config = Config { db_probe_interval: Duration::from_millis(100), ..Config::default() };
    let (state, proxy, _) = proxied_world(config).await;
    let router = gateway_for(state.clone());
    let (status, _, body) = get(&router, "/api/system/Sol").await;
    assert_eq!(status, 200, "{body}");

    proxy.set_up(false);
    let t = Instant::now();
    let (status, _, body) = get(&router, "/api/system/Sol").await;
    let first = t.elapsed();
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "db_unavailable");
    assert!(first >= Duration::from_millis(900), "the first request finds out the hard way: {first:?}");
    for path in ["/api/system/Sol", "/api/health", "/api/system/Sirius"] {
        let t = Instant::now();
        let (status, headers, body) = get(&router, path).await;
        let took = t.elapsed();
        assert_eq!(status, 503, "{path}: {body}");
        assert!(took < Duration::from_millis(300), "{path} failed fast: {took:?}");
        if path != "/api/health" {
            assert_eq!(headers["retry-after"], "1");
        }
    }

    proxy.set_up(true);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, _, _) = get(&router, "/api/system/Sol").await;
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "the probe never brought the database back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!state.db_known_down());
}

#[tokio::test]
async fn world_routes_are_served_from_the_cache_with_etags_and_gzip() {
    let config = Config { compress: true, world_cache_check: Duration::from_secs(3600), ..Config::default() };
    let (state, proxy, _) = proxied_world(config).await;
    let router = gateway_for(state.clone());
    let full = "/api/world/systems/full";
    let (status, headers, body) = get(&router, full).await;
    assert_eq!(status, 200, "{body}");
    let etag = headers["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with('"') && etag.len() == 34, "a strong validator: {etag}");
    assert!(headers["cache-control"].to_str().unwrap().starts_with("public"), "{headers:?}");
    assert!(headers["vary"].to_str().unwrap().contains("Accept-Encoding"));

    let (status, headers, _) = request(&router, req("GET", full, None, &[("if-none-match", &etag)])).await;
    assert_eq!(status, 304);
    assert_eq!(headers["etag"].to_str().unwrap(), etag);

    let res = tower::ServiceExt::oneshot(router.clone(), req("GET", full, None, &[("accept-encoding", "gzip, br")]))
        .await
        .unwrap();
    assert_eq!(res.headers()["content-encoding"], "gzip");
    let gz = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut exomaps_api::cache::gunzip_reader(&gz), &mut text).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), body, "the gzip copy is the same answer");
    assert!(gz.len() * 3 < text.len(), "compressed: {} of {}", gz.len(), text.len());

    // Once warm, the world routes need no database connection: the database goes away and
    // they still answer, at once.
    let (_, _, page) = get(&router, "/api/world/systems?limit=3").await;
    proxy.set_up(false);
    for (path, want) in [(full, &body), ("/api/world/systems?limit=3", &page)] {
        let t = Instant::now();
        let (status, _, again) = get(&router, path).await;
        assert_eq!(status, 200, "{path}: {again}");
        assert_eq!(&again, want);
        assert!(t.elapsed() < Duration::from_millis(300), "{path}: {:?}", t.elapsed());
    }
    // A different persona's answer was never built: that needs the database.
    let curator = token_for(&state, Persona::DataCurator, &[Persona::DataCurator]).await;
    let (status, _, _) = request(&router, req("GET", full, None, &[("authorization", &bearer(&curator))])).await;
    assert_eq!(status, 503);
}

#[tokio::test]
async fn a_new_build_activated_here_replaces_cached_answers_at_once() {
    let (store, _) = fresh_store().await;
    let config = Config { world_cache_check: Duration::from_secs(3600), ..Config::default() };
    let (state, _) = test_state(store.clone(), config);
    let router = gateway_for(state);
    let (_, _, empty) = get(&router, "/api/world/systems/full").await;
    assert_eq!(empty["world_build_id"], Value::Null);
    let spec = SourceSpec::file(Family::Simbad, sample_sources().join("SIMBAD_sample.csv"));
    run_pipeline(&store, "sample", &[spec], Scope::default()).await.unwrap();
    let (_, _, built) = get(&router, "/api/world/systems/full").await;
    assert!(built["world_build_id"].is_i64(), "{built}");
    assert!(built["total_count"].as_i64().unwrap() > 5);
}

async fn ws_server(state: AppState) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = gateway_for(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

#[tokio::test]
async fn oversized_websocket_messages_are_closed_with_1009() {
    use tokio_tungstenite::tungstenite::Message;
    let (store, _) = fresh_store().await;
    let (state, _) = test_state(store, Config::default());
    let port = ws_server(state).await;
    for size in [33 * 1024, 1024 * 1024] {
        let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws")).await.unwrap();
        ws.send(Message::Text(r#"{"action":"ping"}"#.into())).await.unwrap();
        let pong = ws.next().await.unwrap().unwrap();
        assert!(pong.to_text().unwrap().contains("pong"));
        let big = format!(r#"{{"action":"ping","pad":"{}"}}"#, "x".repeat(size));
        let _ = ws.send(Message::Text(big.into())).await;
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next()).await.expect("an answer");
        match msg {
            Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 1009, "{size}: {frame:?}"),
            other => panic!("{size} bytes: expected a 1009 close frame, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn the_openapi_schema_is_as_strict_as_the_server() {
    let doc: Value = serde_json::from_str(&exomaps_api::openapi::document_json(exomaps_api::ROUTES)).unwrap();
    let param = |path: &str, method: &str, name: &str| -> Value {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{method} {path}: no parameter {name}"))["schema"]
            .clone()
    };
    assert_eq!(param("/api/world/systems", "get", "offset")["minimum"], 0);
    assert_eq!(param("/api/runs/validation/{run_id}", "get", "offset")["minimum"], 0);
    assert_eq!(param("/api/runs/{run_id}", "get", "run_id")["format"], "uuid");
    assert_eq!(param("/api/runs/validation/{run_id}", "get", "run_id")["format"], "uuid");
    assert_eq!(param("/api/runs/manifest", "get", "before")["format"], "date-time");
    assert_eq!(param("/api/system/{id}", "get", "id")["minLength"], 1);
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["LoginBody"]["properties"]["username"]["minLength"], 1);
    assert!(schemas["SwitchBody"]["properties"]["persona"]["pattern"].as_str().unwrap().contains("observer_guest"));
    let seed = &schemas["StartRun"]["properties"]["seed"];
    assert!(seed.to_string().contains("integer"), "{seed}");
    assert_eq!(schemas["StartRun"]["properties"]["run_name"]["minLength"], 1);

    // The server takes what the schema allows: a whole-number float seed, a date-time cursor.
    let (store, _) = fresh_store().await;
    let (state, _) = test_state(store, Config::default());
    let state = state.with_queues(Arc::new(ParkedQueue::default()));
    let router = gateway_for(state.clone());
    let auth = bearer(&token_for(&state, Persona::Admin, &[Persona::Admin]).await);
    let body = json!({"seed": 7.0, "sources": [{"family": "SIMBAD", "uri": "s3://bucket/SIMBAD_01.csv"}]});
    let (status, _, answer) = request(&router, req("POST", "/api/runs", Some(body), &[("authorization", &auth)])).await;
    assert_eq!(status, 202, "{answer}");
    let body = json!({"seed": 7.5, "sources": [{"family": "SIMBAD", "uri": "s3://bucket/SIMBAD_01.csv"}]});
    let (status, _, _) = request(&router, req("POST", "/api/runs", Some(body), &[("authorization", &auth)])).await;
    assert_eq!(status, 400, "a fractional seed is not an integer");
    let uri = "/api/runs/manifest?before=2026-01-02T03:04:05Z";
    let (status, _, answer) = request(&router, req("GET", uri, None, &[("authorization", &auth)])).await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test]
async fn logout_revokes_the_sessions_access_tokens() {
    let (store, _) = fresh_store().await;
    let (_, password) = create_user(&store, "ada", &[Persona::DataCurator]).await;
    let (state, keys) = test_state(store.clone(), Config::default());
    let router = gateway_for(state.clone());
    let login = json!({"username": "ada", "password": password});
    let (status, _, tokens) = request(&router, req("POST", "/api/auth/login", Some(login), &[])).await;
    assert_eq!(status, 200, "{tokens}");
    let access = bearer(tokens["access_token"].as_str().unwrap());
    // A second process (another Lambda) that has already seen the token as live.
    let other = exomaps_api::AppState::with_store(
        Config { session_check_ttl: Duration::from_millis(200), ..Config::default() },
        store.clone(),
    )
    .with_secrets(keys);
    let other_router = gateway_for(other);
    for r in [&router, &other_router] {
        let (status, _, me) = request(r, req("GET", "/api/persona", None, &[("authorization", &access)])).await;
        assert_eq!(status, 200);
        assert_eq!(me["user"], "ada");
    }

    let body = json!({"refresh_token": tokens["refresh_token"]});
    let (status, _, _) = request(&router, req("POST", "/api/auth/logout", Some(body), &[])).await;
    assert_eq!(status, 200);
    let (status, _, body) = request(&router, req("GET", "/api/persona", None, &[("authorization", &access)])).await;
    assert_eq!(status, 401, "refused at once where the logout happened: {body}");
    assert_eq!(body["error"], "invalid_token");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, _, _) = request(&other_router, req("GET", "/api/persona", None, &[("authorization", &access)])).await;
    assert_eq!(status, 401, "and everywhere else within the session check time");
}

#[tokio::test]
async fn on_sqs_the_last_failed_delivery_fails_the_run_before_the_message_goes_to_the_dlq() {
    let (store, _) = fresh_store().await;
    let ctx = PipelineContext {
        notifier: Notifier::new(store.clone(), None),
        store: store.clone(),
        scope: Scope::default(),
        objects: None,
    };
    let run_id = uuid::Uuid::new_v4();
    store.queue_run(run_id, "poisoned", None).await.unwrap();
    let kick =
        json!({"run_id": run_id, "run_name": "poisoned", "sources": [{"family": "SIMBAD", "uri": "s3://b/\u{0}"}]});
    let event = |receives: u32| -> aws_lambda_events::event::sqs::SqsEvent {
        serde_json::from_value(json!({"Records": [{
            "messageId": "m1", "body": kick.to_string(),
            "attributes": {"ApproximateReceiveCount": receives.to_string()},
        }]}))
        .unwrap()
    };
    let queue = ParkedQueue::default();
    let res = exomaps_pipeline::aws::handle_batch(&ctx, &queue, Phase::Ingest, event(1)).await;
    assert_eq!(res.batch_item_failures.len(), 1);
    assert_eq!(store.run(run_id).await.unwrap().unwrap().status, "queued", "SQS will redeliver it");
    let res = exomaps_pipeline::aws::handle_batch(&ctx, &queue, Phase::Ingest, event(5)).await;
    assert_eq!(res.batch_item_failures.len(), 1, "still reported: the redrive moves it to the DLQ");
    let run = store.run(run_id).await.unwrap().unwrap();
    assert_eq!(run.status, "fail");
    assert!(run.failure_reason.unwrap().contains("ingest message dead-lettered"));
}

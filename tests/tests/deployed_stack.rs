//! End-to-end tests against the whole stack deployed from infra/template.yaml into the offline
//! emulator (`infra/offline-deploy`: `sam build` + `sam deploy` into ministack). Every request
//! goes through the emulated AWS services to the deployed Rust Lambdas: the REST API (API
//! Gateway → one function per route), the phase queues (SQS → event source mappings → phase
//! functions → the next queue), the WebSocket API (`$connect`/`$default` functions, pushes
//! through `post_to_connection`), Secrets Manager (the functions' signing keys and database
//! credentials) and the SPA bucket behind CloudFront.
//!
//! Run with `./dev stack-test` (starts PostgreSQL and the emulator, deploys, runs these). The
//! tests are `#[ignore]`d so `./dev test` leaves them out; asked for without a deployed stack
//! they skip with a message, or fail when `CI=true`. The stack is described by the JSON file
//! `infra/offline-deploy` writes (`EXOMAPS_STACK_FILE`, default `target/offline-stack/stack.json`).

use aws_sdk_sqs::types::QueueAttributeName;
use bytes::Bytes;
use exomaps_api::ROUTES;
use exomaps_domain::persona::Persona;
use exomaps_pipeline::chain::KickMessage;
use exomaps_pipeline::{Family, SourceSpec};
use exomaps_store::Store;
use futures_util::{SinkExt, StreamExt};
use http::{HeaderMap, Method, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

struct Stack {
    outputs: HashMap<String, String>,
    database_url: String,
    endpoint: String,
    sources_dir: PathBuf,
    /// The kick message of the sample sources pushed to the stack's sources bucket.
    s3_kick: Option<KickMessage>,
    /// The ingest schedule as the emulator's Scheduler API reports it.
    schedule: Value,
}

impl Stack {
    /// The deployed stack, or None (with a message) when there is none and CI is not set.
    fn load() -> Option<Stack> {
        let path = std::env::var_os("EXOMAPS_STACK_FILE").map(PathBuf::from).unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/offline-stack/stack.json"))
        });
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                if std::env::var("CI").is_ok_and(|v| v == "true") {
                    panic!("no deployed stack ({}: {e}); CI runs these through ./dev stack-test", path.display());
                }
                eprintln!("skipping: no deployed stack at {} ({e}); run ./dev stack-test", path.display());
                return None;
            }
        };
        let doc: Value = serde_json::from_str(&text).expect("stack file is JSON");
        let outputs = doc["outputs"]
            .as_object()
            .expect("outputs")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect();
        let s = |k: &str| doc[k].as_str().unwrap_or_else(|| panic!("stack file has no {k}")).to_string();
        Some(Stack {
            outputs,
            database_url: s("database_url"),
            endpoint: s("endpoint"),
            sources_dir: PathBuf::from(s("sources_dir")),
            s3_kick: doc["s3_kick"].as_str().map(|k| serde_json::from_str(k).expect("s3_kick is a kick message")),
            schedule: doc["schedule"].clone(),
        })
    }

    fn out(&self, key: &str) -> &str {
        self.outputs.get(key).unwrap_or_else(|| panic!("stack output {key} missing"))
    }

    fn store(&self) -> Store {
        Store::connect_lazy(&self.database_url, &Default::default()).expect("stack database")
    }

    async fn sdk(&self) -> aws_config::SdkConfig {
        let creds = aws_sdk_sqs::config::Credentials::new("test", "test", None, None, "deployed-stack-tests");
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(creds)
            .load()
            .await
    }

    async fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk().await)
    }

    async fn s3(&self) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.sdk().await).force_path_style(true).build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    /// A request through the REST API (`path` starts with /api/).
    async fn api(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let url = format!("{}{path}", self.out("ApiUrl"));
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
        http(method, &url, &headers, body.map(|b| b.to_string())).await
    }

    /// A viewer request through the CloudFront distribution (ministack serves distributions on
    /// its own port, by Host header; `X-Forwarded-Proto: https` stands for a TLS viewer).
    async fn site(&self, path: &str, https: bool) -> Reply {
        let host = self.out("SiteUrl").trim_start_matches("https://").to_string();
        let proto = if https { "https" } else { "http" };
        http(Method::GET, &format!("{}{path}", self.endpoint), &[("host", &host), ("x-forwarded-proto", proto)], None)
            .await
    }
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!("{} body is not JSON ({e}): {}", self.status, String::from_utf8_lossy(&self.body))
        })
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Set by `exomaps_api::dispatch` on every response: the request reached our function.
    fn reached_our_function(&self) -> bool {
        self.header("x-content-type-options") == Some("nosniff")
    }
}

async fn http(method: Method, url: &str, headers: &[(&str, &str)], body: Option<String>) -> Reply {
    let client =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut req = http::Request::builder().method(method.clone()).uri(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req.body(Full::new(Bytes::from(body.unwrap_or_default()))).unwrap();
    let res = tokio::time::timeout(Duration::from_secs(60), client.request(req))
        .await
        .unwrap_or_else(|_| panic!("{method} {url}: no answer in 60 s"))
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let (parts, body) = res.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    Reply { status: parts.status, headers: parts.headers, body }
}

fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", &uuid::Uuid::new_v4().simple().to_string()[..10])
}

/// Signs in through the deployed `auth-login` function; returns the access and refresh tokens.
async fn login(stack: &Stack, username: &str, password: &str) -> (String, String) {
    let r = stack
        .api(Method::POST, "/api/auth/login", None, Some(json!({"username": username, "password": password})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "login {username}: {}", String::from_utf8_lossy(&r.body));
    let j = r.json();
    (j["access_token"].as_str().unwrap().to_string(), j["refresh_token"].as_str().unwrap().to_string())
}

#[tokio::test]
#[ignore = "needs the deployed stack: ./dev stack-test"]
async fn every_route_is_a_deployed_function_behind_the_rest_api() {
    let Some(stack) = Stack::load() else { return };
    let health = stack.api(Method::GET, "/api/health", None, None).await;
    assert_eq!(health.status, StatusCode::OK, "{}", String::from_utf8_lossy(&health.body));
    let h = health.json();
    assert_eq!(h["db_status"]["connected"], true, "the function reads its database secret and connects: {h}");
    assert_eq!(h["routes_count"], ROUTES.len());
    assert!(health.header("x-amzn-requestid").is_some(), "answered through API Gateway");

    // Every route of the table reaches its own function: our headers and error envelope, never
    // API Gateway's own "no such route" answer.
    for route in ROUTES {
        let path = route
            .path
            .replace("{id}", "424242")
            .replace("{run_id}", &uuid::Uuid::new_v4().to_string())
            .replace("{room_id}", &uuid::Uuid::new_v4().to_string())
            .replace("{annotation_id}", &uuid::Uuid::new_v4().to_string());
        let body = (route.method == Method::POST).then(|| json!({}));
        let r = stack.api(route.method.clone(), &path, None, body).await;
        assert!(
            r.reached_our_function(),
            "{} {path} ({}): {} not from the function: {}",
            route.method,
            route.name,
            r.status,
            String::from_utf8_lossy(&r.body)
        );
        assert!(
            !r.status.is_server_error(),
            "{} {path}: {} {}",
            route.method,
            r.status,
            String::from_utf8_lossy(&r.body)
        );
        if !r.status.is_success() {
            assert!(r.json()["error"].is_string(), "{} {path}: error envelope", route.method);
        }
    }
    let unknown = stack.api(Method::GET, "/api/no-such-route", None, None).await;
    assert!(!unknown.status.is_success() && !unknown.reached_our_function(), "{}", unknown.status);

    let systems = stack.api(Method::GET, "/api/world/systems?limit=3", None, None).await;
    assert_eq!(systems.status, StatusCode::OK);
    assert_eq!(systems.json()["limit"], 3, "query parameters reach the handler");
    let missing = stack.api(Method::GET, "/api/runs/validation/not-a-uuid", None, None).await;
    assert!(missing.status.is_client_error() && missing.reached_our_function(), "path parameters reach the handler");
}

#[tokio::test]
#[ignore = "needs the deployed stack: ./dev stack-test"]
async fn sign_in_persona_switch_and_a_persona_protected_route() {
    let Some(stack) = Stack::load() else { return };
    let store = stack.store();
    let admin_name = unique("e2e_admin");
    let (_, admin_pw) =
        exomaps_tests::create_user(&store, &admin_name, &[Persona::Admin, Persona::ScienceAnalyst]).await;
    let guest_name = unique("e2e_user");
    let (_, guest_pw) = exomaps_tests::create_user(&store, &guest_name, &[Persona::GeneralUser]).await;

    let anonymous = stack.api(Method::GET, "/api/admin/users", None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    // The signing key comes from the Secrets Manager secret the template generated.
    let (user_token, _) = login(&stack, &guest_name, &guest_pw).await;
    let denied = stack.api(Method::GET, "/api/admin/users", Some(&user_token), None).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert_eq!(denied.json()["required_personas"], json!(["admin"]));
    assert_eq!(denied.json()["current_persona"], "general_user");

    let wrong = stack
        .api(Method::POST, "/api/auth/login", None, Some(json!({"username": admin_name, "password": "wrong"})))
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);

    let (admin_token, refresh) = login(&stack, &admin_name, &admin_pw).await;
    let users = stack.api(Method::GET, "/api/admin/users", Some(&admin_token), None).await;
    assert_eq!(users.status, StatusCode::OK, "{}", String::from_utf8_lossy(&users.body));
    assert!(String::from_utf8_lossy(&users.body).contains(&admin_name));

    // A token signed by one function verifies in another (one key set, one secret).
    let persona = stack.api(Method::GET, "/api/persona", Some(&admin_token), None).await;
    assert_eq!(persona.json()["current_persona_key"], "admin");

    let switched =
        stack.api(Method::POST, "/api/persona", Some(&admin_token), Some(json!({"persona": "science_analyst"}))).await;
    assert_eq!(switched.status, StatusCode::OK, "{}", String::from_utf8_lossy(&switched.body));
    let analyst_token = switched.json()["access_token"].as_str().expect("a re-issued token").to_string();
    let as_analyst = stack.api(Method::GET, "/api/admin/users", Some(&analyst_token), None).await;
    assert_eq!(as_analyst.status, StatusCode::FORBIDDEN);

    let rotated = stack.api(Method::POST, "/api/auth/refresh", None, Some(json!({"refresh_token": refresh}))).await;
    assert_eq!(rotated.status, StatusCode::OK);
    let reused = stack.api(Method::POST, "/api/auth/refresh", None, Some(json!({"refresh_token": refresh}))).await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED, "a reused refresh token is refused");
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn ws_connect(stack: &Stack, token: &str) -> Ws {
    let mut req = stack.out("WebSocketUrl").into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (ws, _) = tokio::time::timeout(Duration::from_secs(30), tokio_tungstenite::connect_async(req))
        .await
        .expect("WebSocket connect within 30 s")
        .expect("WebSocket connect");
    ws
}

/// The next JSON frame satisfying `want` (ministack echoes every route's reply; other frames
/// are skipped), within `within`.
async fn frame(ws: &mut Ws, within: Duration, seen: &mut Vec<Value>, want: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let msg = match tokio::time::timeout(left, ws.next()).await {
            Ok(Some(Ok(m))) => m,
            Ok(other) => panic!("WebSocket ended: {other:?}; frames so far: {seen:?}"),
            Err(_) => panic!("no matching frame in {within:?}; frames so far: {seen:?}"),
        };
        let Message::Text(text) = msg else { continue };
        let Ok(v) = serde_json::from_str::<Value>(&text) else { continue };
        seen.push(v.clone());
        if want(&v) {
            return v;
        }
    }
}

async fn subscribe(ws: &mut Ws, channel: &str, seen: &mut Vec<Value>) {
    ws.send(Message::text(json!({"action": "subscribe", "channel": channel}).to_string())).await.unwrap();
    let reply = frame(ws, Duration::from_secs(30), seen, |v| v["type"] == "subscribed" || v["type"] == "error").await;
    assert_eq!(reply, json!({"type": "subscribed", "channel": channel}));
}

async fn wait_for_run(store: &Store, run_id: uuid::Uuid, within: Duration) -> exomaps_store::runs::RunRow {
    let started = Instant::now();
    loop {
        if let Some(run) = store.run(run_id).await.unwrap()
            && run.finished_at.is_some()
        {
            return run;
        }
        assert!(started.elapsed() < within, "run {run_id} not finished in {within:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
#[ignore = "needs the deployed stack: ./dev stack-test"]
async fn an_sqs_kick_runs_the_phases_to_an_active_world_build_with_websocket_progress() {
    let Some(stack) = Stack::load() else { return };
    let store = stack.store();
    let curator = unique("e2e_curator");
    let (_, pw) = exomaps_tests::create_user(&store, &curator, &[Persona::DataCurator]).await;
    let (token, _) = login(&stack, &curator, &pw).await;

    // A client following the run (and the data channel) before it starts.
    let run_id = uuid::Uuid::new_v4();
    let mut seen = Vec::new();
    let mut ws = ws_connect(&stack, &token).await;
    ws.send(Message::text(r#"{"action":"ping"}"#)).await.unwrap();
    frame(&mut ws, Duration::from_secs(30), &mut seen, |v| v["type"] == "pong").await;
    subscribe(&mut ws, &format!("runs:{run_id}"), &mut seen).await;
    subscribe(&mut ws, "data", &mut seen).await;
    // An anonymous client may not follow runs: the $default function answers with an error.
    ws.send(Message::text(json!({"action": "subscribe", "channel": "admin"}).to_string())).await.unwrap();
    let refused = frame(&mut ws, Duration::from_secs(30), &mut seen, |v| v["type"] == "error").await;
    assert_eq!(refused["error"], "forbidden");

    // The kick: a message on the ingest queue, as an operator or another system would send it.
    // Its sources are s3:// objects in the stack's sources bucket (infra/offline-deploy pushed
    // the samples with `exomaps-local sources push` and kept the kick message it printed).
    let pushed = stack.s3_kick.clone().expect("stack file has the s3_kick of the pushed sources");
    let bucket = stack.out("SourcesBucketName");
    assert!(!pushed.sources.is_empty());
    for s in &pushed.sources {
        assert!(s.uri.starts_with(&format!("s3://{bucket}/")), "{s:?}");
    }
    let sample = stack.sources_dir.join("SIMBAD_sample.csv");
    let kick =
        KickMessage { run_name: "deployed stack, s3 sources".into(), seed: Some(7), run_id: Some(run_id), ..pushed };
    let sqs = stack.sqs().await;
    sqs.send_message()
        .queue_url(stack.out("PhaseIngestQueueUrl"))
        .message_body(serde_json::to_string(&kick).unwrap())
        .send()
        .await
        .expect("send the kick");

    // Progress of every phase, then data.refreshed (on the run's channel and on `data`), then
    // run.completed — posted by the phase functions through post_to_connection.
    let is_run = |v: &Value| v["run_id"] == json!(run_id);
    let completed =
        frame(&mut ws, Duration::from_secs(180), &mut seen, |v| v["type"] == "run.completed" && is_run(v)).await;
    assert_eq!(completed["status"], "pass", "frames: {seen:?}");
    for phase in ["canonicalise", "transform", "infer", "publish"] {
        assert!(
            seen.iter()
                .any(|v| is_run(v) && v["type"] == "run.progress" && v["phase"] == phase && v["status"] == "done"),
            "no done progress for {phase}: {seen:?}"
        );
    }
    let refreshed: Vec<&Value> = seen.iter().filter(|v| v["type"] == "data.refreshed" && is_run(v)).collect();
    assert_eq!(refreshed.len(), 2, "data.refreshed on runs:{run_id} and on data: {seen:?}");
    let build_id = refreshed[0]["world_build_id"].as_i64().expect("world_build_id");

    // The database and the API agree: the run passed and its build is the active one.
    let run = wait_for_run(&store, run_id, Duration::from_secs(30)).await;
    assert_eq!(run.status, "pass", "{run:?}");
    // Read from S3 by the deployed ingest function: the manifest names the objects, with the
    // checksum of the very bytes of the local sample files.
    let manifest = store.run_manifest(run_id).await.unwrap();
    assert_eq!(manifest.len(), kick.sources.len());
    let simbad = manifest.iter().find(|m| m.source_name == "SIMBAD_sample.csv").expect("SIMBAD_sample.csv ingested");
    assert_eq!(simbad.file_uri, format!("s3://{bucket}/samples/SIMBAD_sample.csv"));
    let local: String = {
        use sha2::Digest;
        sha2::Sha256::digest(std::fs::read(&sample).unwrap()).iter().map(|b| format!("{b:02x}")).collect()
    };
    assert_eq!(simbad.file_checksum_sha256, local);
    let build = store.active_world_build().await.unwrap().expect("an active world build");
    assert_eq!((build.run_id, build.world_build_id), (run_id, build_id));
    let systems = stack.api(Method::GET, "/api/world/systems?limit=5", None, None).await.json();
    assert_eq!(systems["world_build_id"], build_id);
    assert!(systems["total_count"].as_i64().unwrap() > 0, "{systems}");
    for q in ["Ingest", "Canonicalise", "Transform", "Infer", "Publish"] {
        let url = stack.out(&format!("Phase{q}QueueUrl"));
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .unwrap();
        let in_flight = attrs.attributes().unwrap()[&QueueAttributeName::ApproximateNumberOfMessagesNotVisible].clone();
        assert!(q == "Transform" || in_flight == "0", "{q} queue still has {in_flight} messages in flight");
    }

    // The publish function wrote the map asset and its pointer to the SPA bucket; CloudFront
    // serves them (OAC), the pointer uncached.
    let asset = refreshed[0]["asset"].as_str().expect("asset path").to_string();
    let bytes = stack.site(&asset, true).await;
    assert_eq!(bytes.status, StatusCode::OK, "{asset}");
    assert!(bytes.body.starts_with(b"EXMP"), "{asset} is an EXMP asset");
    let latest = stack.site("/data/world/latest.json", true).await;
    assert_eq!(latest.status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&latest.body).contains(&asset[1..]), "{}", String::from_utf8_lossy(&latest.body));
    assert_eq!(latest.header("cache-control"), Some("no-cache"));
    // …and the asset's names part (issue 12), which the pointer names too.
    let names = asset.replace(".exmp", ".names");
    assert!(String::from_utf8_lossy(&latest.body).contains(&names[1..]), "{}", String::from_utf8_lossy(&latest.body));
    let names_part = stack.site(&names, true).await;
    assert_eq!(names_part.status, StatusCode::OK, "{names}");
    assert!(names_part.body.starts_with(b"EXMN"), "{names} is an EXMN names part");

    // POST /api/runs (the runs-start function) sends its own kick to the ingest queue.
    let started = stack.api(Method::POST, "/api/runs", Some(&token), Some(json!({"run_name": "via the API"}))).await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", String::from_utf8_lossy(&started.body));
    let second: uuid::Uuid = started.json()["run_id"].as_str().unwrap().parse().unwrap();
    let refreshed_again = frame(&mut ws, Duration::from_secs(180), &mut seen, |v| {
        v["type"] == "data.refreshed" && v["run_id"] == json!(second)
    })
    .await;
    assert!(refreshed_again["world_build_id"].as_i64().unwrap() > build_id, "a newer build");
    assert_eq!(wait_for_run(&store, second, Duration::from_secs(30)).await.status, "pass");
    ws.close(None).await.ok();
}

#[tokio::test]
#[ignore = "needs the deployed stack: ./dev stack-test"]
async fn a_poison_message_is_dead_lettered_and_the_dlq_consumer_fails_its_run() {
    let Some(stack) = Stack::load() else { return };
    let sqs = stack.sqs().await;
    let store = stack.store();
    // A transform message for a run nobody started: poison ("unknown run") on every delivery.
    let run_id = uuid::Uuid::new_v4();
    let body = json!({"run_id": run_id, "phase": "transform"}).to_string();
    sqs.send_message().queue_url(stack.out("PhaseTransformQueueUrl")).message_body(&body).send().await.unwrap();

    // The phase function reports it as a batch item failure on every delivery; after the 5th
    // (maxReceiveCount) SQS moves it to the DLQ (the emulator tier's visibility timeout is 30 s),
    // where the phase-dlq function consumes it and records the run as failed with the phase and
    // the cause.
    let started = Instant::now();
    let run = loop {
        if let Some(run) = store.run(run_id).await.unwrap() {
            break run;
        }
        assert!(started.elapsed() < Duration::from_secs(300), "run {run_id} not failed from the DLQ after 300 s");
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    assert_eq!(run.status, "fail");
    let reason = run.failure_reason.unwrap_or_default();
    assert!(reason.starts_with("transform message dead-lettered: "), "{reason}");
    eprintln!("dead-lettered run failed after {:?}: {reason}", started.elapsed());
    // Moved out of the transform queue by the redrive, then consumed from the DLQ by phase-dlq.
    let queue = exomaps_platform::queue::QueueConsumer::with_url(sqs.clone(), stack.out("PhaseTransformQueueUrl"));
    let dlq =
        exomaps_platform::queue::QueueConsumer::with_url(sqs.clone(), stack.out("PhaseTransformDeadLetterQueueUrl"));
    loop {
        let (q, d) = (queue.depth().await.unwrap(), dlq.depth().await.unwrap());
        if q.visible + q.in_flight == 0 && d.visible + d.in_flight == 0 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(420), "not consumed from the DLQ: queue {q:?}, DLQ {d:?}");
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

#[tokio::test]
#[ignore = "needs the deployed stack: ./dev stack-test"]
async fn the_spa_bucket_serves_files_through_cloudfront() {
    let Some(stack) = Stack::load() else { return };
    let bucket = stack.out("SpaBucketName");

    // Whatever spa/dist holds was uploaded by infra/offline-deploy.
    let dist = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../spa/dist"));
    if dist.join("index.html").is_file() {
        let mut files = vec![dist.clone()];
        let mut checked = 0;
        while let Some(dir) = files.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    files.push(path);
                    continue;
                }
                let key = path.strip_prefix(&dist).unwrap().to_string_lossy().replace('\\', "/");
                let r = stack.site(&format!("/{key}"), true).await;
                assert_eq!(r.status, StatusCode::OK, "/{key}");
                assert_eq!(r.body.as_ref(), std::fs::read(&path).unwrap().as_slice(), "/{key}");
                checked += 1;
            }
        }
        let index = std::fs::read(dist.join("index.html")).unwrap();
        for route in ["/", "/map/some-system"] {
            let r = stack.site(route, true).await;
            assert_eq!((r.status, r.body.as_ref()), (StatusCode::OK, index.as_slice()), "{route} serves index.html");
        }
        eprintln!("{checked} files of spa/dist served through CloudFront");
    } else {
        eprintln!("spa/dist is not built: checking the bucket with a file of this test only");
    }

    // A file put in the bucket is served through the distribution (OAC-signed origin reads).
    let key = format!("probe/{}.txt", uuid::Uuid::new_v4());
    let s3 = stack.s3().await;
    s3.put_object()
        .bucket(bucket)
        .key(&key)
        .content_type("text/plain")
        .body(Bytes::from_static(b"served by the SPA bucket").into())
        .send()
        .await
        .expect("put");
    let r = stack.site(&format!("/{key}"), true).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body.as_ref(), b"served by the SPA bucket");
    assert_eq!(r.header("content-type"), Some("text/plain"));
    let missing = stack.site("/probe/none.txt", true).await;
    assert!(missing.status.is_client_error(), "{}", missing.status);

    // Viewers are sent to HTTPS; /api/* goes to the REST API on the same domain.
    let plain = stack.site(&format!("/{key}"), false).await;
    assert_eq!(plain.status, StatusCode::MOVED_PERMANENTLY);
    let api = stack.site("/api/health", true).await;
    assert_eq!(api.status, StatusCode::OK);
    assert!(api.reached_our_function());
    assert_eq!(api.json()["db_status"]["connected"], true);
}

/// A simulation through the deployed stack: created and resumed through the REST functions,
/// advanced by the `sim-tick` function from the FIFO queue (each batch enqueues the next), and
/// followed on `sim:<id>` with an `after_tick` replay through the `$default` function — every
/// event once, in order.
#[tokio::test]
#[ignore = "needs the deployed stack: ./dev stack-test"]
async fn a_simulation_advances_through_the_fifo_queue_and_streams_its_events() {
    let Some(stack) = Stack::load() else { return };
    let store = stack.store();
    if store.active_world_build().await.unwrap().is_none() {
        let spec = SourceSpec::file(Family::Simbad, stack.sources_dir.join("SIMBAD_sample.csv"));
        exomaps_pipeline::run_pipeline(&store, "sim e2e", &[spec], exomaps_domain::coords::Scope::default())
            .await
            .unwrap();
    }
    let owner = unique("e2e_simowner");
    let (_, pw) = exomaps_tests::create_user(&store, &owner, &[Persona::SimOwner]).await;
    let (token, _) = login(&stack, &owner, &pw).await;

    let target = 60;
    let body = json!({"seed": 3, "batch_ticks": 20, "target_tick": target});
    let created = stack.api(Method::POST, "/api/simulation", Some(&token), Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&created.body));
    let sim_id = created.json()["sim_id"].as_str().unwrap().to_string();
    let channel = format!("sim:{sim_id}");

    let mut seen = Vec::new();
    let mut ws = ws_connect(&stack, &token).await;
    ws.send(Message::text(json!({"action": "subscribe", "channel": channel, "after_tick": -1}).to_string()))
        .await
        .unwrap();
    frame(&mut ws, Duration::from_secs(30), &mut seen, |v| v["type"] == "subscribed").await;

    let resumed = stack.api(Method::POST, &format!("/api/simulation/{sim_id}/resume"), Some(&token), None).await;
    assert_eq!(resumed.status, StatusCode::OK, "{}", String::from_utf8_lossy(&resumed.body));
    assert_eq!(resumed.json()["state"], "running");
    // The batches arrive as sim.tick messages until the target tick.
    frame(&mut ws, Duration::from_secs(180), &mut seen, |v| {
        v["type"] == "sim.tick" && v["tick"] == target && v["part"] == v["parts"]
    })
    .await;

    let detail = stack.api(Method::GET, &format!("/api/simulation/{sim_id}"), None, None).await.json();
    assert_eq!(detail["simulation"]["current_tick"], target, "{detail}");
    assert_eq!(detail["simulation"]["state"], "completed", "{detail}");
    let id: uuid::Uuid = sim_id.parse().unwrap();
    for from in (0..target).step_by(20) {
        let b = store.sim_batch(id, from).await.unwrap().expect("each batch committed by the tick function");
        assert_eq!(b.source, "queue");
    }
    let got: Vec<(i64, i64)> = seen
        .iter()
        .filter(|v| v["type"] == "sim.events" || v["type"] == "sim.tick")
        .flat_map(|v| v["events"].as_array().cloned().unwrap_or_default())
        .map(|e| (e["tick"].as_i64().unwrap(), e["seq"].as_i64().unwrap()))
        .collect();
    let stored: Vec<(i64, i64)> =
        store.sim_events_between(id, -1, i64::MAX).await.unwrap().iter().map(|e| (e.tick, e.seq as i64)).collect();
    assert_eq!(got, stored, "every event once, in order, over the deployed WebSocket API");
    ws.close(None).await.ok();
}

/// A CloudFormation ResponseURL stand-in on this machine (the emulator runs the functions here):
/// every PUT body it receives.
async fn response_url() -> (String, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    use axum::routing::put;
    let got: std::sync::Arc<std::sync::Mutex<Vec<Value>>> = Default::default();
    let sink = got.clone();
    let app = axum::Router::new().route(
        "/cfn/{token}",
        put(move |body: Bytes| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(serde_json::from_slice(&body).unwrap_or(Value::Null));
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    (format!("http://{addr}/cfn/{}", uuid::Uuid::new_v4()), got)
}

/// Invokes the deployed migrate function with a custom-resource request, as CloudFormation does
/// (the emulator's Lambda Invoke API), and returns what it PUT to the ResponseURL.
async fn run_migrate_resource(stack: &Stack, request_type: &str) -> Value {
    let (url, got) = response_url().await;
    let event = json!({
        "RequestType": request_type,
        "ResponseURL": url,
        "StackId": "arn:aws:cloudformation:us-east-1:000000000000:stack/exomaps/deployed-stack-test",
        "RequestId": uuid::Uuid::new_v4().to_string(),
        "ResourceType": "Custom::Migrations",
        "LogicalResourceId": "Migrations",
        "PhysicalResourceId": exomaps_api::migrate::PHYSICAL_ID,
        "ResourceProperties": {},
    });
    let function = stack.out("MigrateFunctionName");
    let invoke = format!("{}/2015-03-31/functions/{function}/invocations", stack.endpoint);
    let r = http(Method::POST, &invoke, &[], Some(event.to_string())).await;
    assert_eq!(r.status, StatusCode::OK, "invoke {function}: {}", String::from_utf8_lossy(&r.body));
    let started = Instant::now();
    loop {
        if let Some(v) = got.lock().unwrap().first() {
            return v.clone();
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the migrate function never answered the ResponseURL");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
#[ignore = "needs the deployed stack: ./dev stack-test"]
async fn migrations_ran_on_deploy_and_a_failed_migration_fails_the_custom_resource() {
    let Some(stack) = Stack::load() else { return };
    let store = stack.store();
    // infra/offline-deploy created the stack's database empty: the Migrations custom resource
    // (the deployed migrate function, run by the emulator's CloudFormation) applied them all.
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(store.pool())
        .await
        .expect("the stack's database was migrated on deploy");
    let all: Vec<i64> = exomaps_store::MIGRATOR.iter().map(|m| m.version).collect();
    assert_eq!(applied, all);

    // A migration that cannot be applied: the latest one's recorded checksum no longer matches
    // (as when a shipped migration was edited). The deployed function answers FAILED with the
    // migration error as the Reason — what CloudFormation shows in the stack events.
    let latest = *all.iter().max().unwrap();
    let checksum: Vec<u8> = sqlx::query_scalar("SELECT checksum FROM _sqlx_migrations WHERE version = $1")
        .bind(latest)
        .fetch_one(store.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE _sqlx_migrations SET checksum = '\\x00'::bytea WHERE version = $1")
        .bind(latest)
        .execute(store.pool())
        .await
        .unwrap();
    let failed = run_migrate_resource(&stack, "Update").await;
    // And through the emulator's CloudFormation: a stack holding a Migrations resource on the
    // same function fails to create, with the migration error as the resource's status reason.
    let broken = probe_stack(&stack, "Migrations").await;
    sqlx::query("UPDATE _sqlx_migrations SET checksum = $2 WHERE version = $1")
        .bind(latest)
        .bind(&checksum)
        .execute(store.pool())
        .await
        .unwrap();
    assert_eq!(failed["Status"], "FAILED", "{failed}");
    let reason = failed["Reason"].as_str().unwrap_or_default();
    assert!(reason.contains("migration failed") && reason.contains(&latest.to_string()), "{reason}");
    assert_eq!(failed["PhysicalResourceId"], exomaps_api::migrate::PHYSICAL_ID);
    assert!(!broken.0.contains("CREATE_COMPLETE"), "a failed migration must fail the stack: {}", broken.0);
    assert!(broken.1.contains("CREATE_FAILED"), "the resource failed: {}", broken.1);
    assert!(
        broken.1.contains("was previously applied but has been modified"),
        "the reason is the migration error: {}",
        broken.1
    );

    // Repaired, the same request succeeds (forward-only and idempotent: nothing to apply).
    let ok = run_migrate_resource(&stack, "Update").await;
    assert_eq!(ok["Status"], "SUCCESS", "{ok}");
    assert_eq!(ok["Data"]["LatestVersion"], json!(latest));
    let repaired = probe_stack(&stack, "Migrations").await;
    assert!(
        repaired.0.contains("CREATE_COMPLETE"),
        "once repaired the resource succeeds: {} {}",
        repaired.0,
        repaired.1
    );
}

#[tokio::test]
#[ignore = "needs the deployed stack: ./dev stack-test"]
async fn the_schedule_exists_with_the_ingest_queue_as_its_target() {
    let Some(stack) = Stack::load() else { return };
    let schedule = &stack.schedule;
    assert_eq!(schedule["Name"], stack.out("IngestScheduleName"), "{schedule}");
    // Off by default (the offline tier does not enable it).
    assert_eq!(schedule["State"], "DISABLED", "{schedule}");
    assert_eq!(schedule["ScheduleExpression"], "rate(1 day)");
    let sqs = stack.sqs().await;
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(stack.out("PhaseIngestQueueUrl"))
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap();
    let ingest_arn = attrs.attributes().unwrap()[&QueueAttributeName::QueueArn].clone();
    assert_eq!(schedule["Target"]["Arn"], ingest_arn.as_str(), "{schedule}");
    // Its input is a kick message the ingest function accepts (here with no sources configured).
    let input = schedule["Target"]["Input"].as_str().expect("an input");
    let v: Value = serde_json::from_str(input).expect("the input is JSON");
    assert_eq!(v["run_name"], "scheduled", "{input}");
    assert!(v["sources"].is_array(), "{input}");
}

#[tokio::test]
#[ignore = "needs the deployed stack: ./dev stack-test"]
async fn the_generated_administrator_signs_in() {
    let Some(stack) = Stack::load() else { return };
    // The deploy's Migrations resource created the administrator of the AdminCredentials secret
    // (generated by Secrets Manager): a newcomer reads it and signs in.
    let secrets = aws_sdk_secretsmanager::Client::new(&stack.sdk().await);
    let text = secrets
        .get_secret_value()
        .secret_id(stack.out("AdminSecretId"))
        .send()
        .await
        .expect("the AdminCredentials secret")
        .secret_string
        .expect("a string secret");
    let creds: Value = serde_json::from_str(&text).unwrap();
    let (username, password) = (creds["username"].as_str().unwrap(), creds["password"].as_str().unwrap());
    assert_eq!(username, "admin");
    assert!(password.len() >= 32 && password.chars().all(|c| c.is_ascii_alphanumeric()), "a generated password");
    let (token, _) = login(&stack, username, password).await;
    let users = stack.api(Method::GET, "/api/admin/users", Some(&token), None).await;
    assert_eq!(users.status, StatusCode::OK, "{}", String::from_utf8_lossy(&users.body));
    let persona = stack.api(Method::GET, "/api/persona", Some(&token), None).await.json();
    assert_eq!(persona["current_persona_key"], "admin", "{persona}");
}

/// Percent-encodes a form value.
fn form(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One call of the emulator's CloudFormation query API (form-encoded; the Action names the service).
async fn cloudformation(stack: &Stack, params: &[(&str, &str)]) -> String {
    let body = params.iter().map(|(k, v)| format!("{k}={}", form(v))).collect::<Vec<_>>().join("&");
    let client =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http::<Full<Bytes>>();
    let req = http::Request::post(format!("{}/", stack.endpoint))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(format!("{body}&Version=2010-05-15"))))
        .unwrap();
    let res = client.request(req).await.expect("CloudFormation API");
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Creates a throwaway stack with one `Custom::Migrations` resource run by the deployed migrate
/// function, waits until CloudFormation settles it, deletes it; returns (DescribeStacks,
/// DescribeStackEvents) as the emulator answered them.
async fn probe_stack(stack: &Stack, logical_id: &str) -> (String, String) {
    let name = format!("migrations-probe-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let token = format!("arn:aws:lambda:us-east-1:000000000000:function:{}", stack.out("MigrateFunctionName"));
    let template = json!({"Resources": {logical_id: {"Type": "Custom::Migrations",
        "Properties": {"ServiceToken": token, "ServiceTimeout": 120}}}})
    .to_string();
    let created =
        cloudformation(stack, &[("Action", "CreateStack"), ("StackName", &name), ("TemplateBody", &template)]).await;
    assert!(created.contains("StackId"), "CreateStack: {created}");
    let started = Instant::now();
    let described = loop {
        let d = cloudformation(stack, &[("Action", "DescribeStacks"), ("StackName", &name)]).await;
        if !d.contains("_IN_PROGRESS") {
            break d;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "probe stack not settled: {d}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let events = cloudformation(stack, &[("Action", "DescribeStackEvents"), ("StackName", &name)]).await;
    // Delete it (a created Migrations resource is asked to delete: it keeps the database) and
    // wait, so no invocation of the function is left running behind the test.
    cloudformation(stack, &[("Action", "DeleteStack"), ("StackName", &name)]).await;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        let d = cloudformation(stack, &[("Action", "DescribeStacks"), ("StackName", &name)]).await;
        if !d.contains("_IN_PROGRESS") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    (described, events)
}

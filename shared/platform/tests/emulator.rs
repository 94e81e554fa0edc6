//! The platform layer against the AWS emulator with the real SDK (no mocks).
//!
//! Needs `AWS_ENDPOINT_URL` (and the region/dummy credentials): `./dev test` starts ministack and
//! sets them; by hand, `set -a; eval "$(localstack/emulator start)"; set +a`. Without it each test
//! is skipped with a message, except under `CI=true`, where that is a failure. Every test makes
//! its own uniquely named resources.

use exomaps_platform::sdk::{secretsmanager, sqs};
use exomaps_platform::{
    Broadcaster, Delivery, ObjectStore, PlatformError, PutOptions, QueueConsumer, QueuePublisher, SecretCache, aws,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn emulator(test: &str) -> Option<aws::Config> {
    match std::env::var("AWS_ENDPOINT_URL") {
        Ok(v) if !v.trim().is_empty() => Some(aws::load().await),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{test}: AWS_ENDPOINT_URL is not set under CI=true (./dev test starts the emulator)")
        }
        _ => {
            // Straight to stderr: libtest captures eprintln! of passing tests, and a skip must show.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: AWS_ENDPOINT_URL is not set (run ./dev test, or localstack/emulator start)"
            );
            None
        }
    }
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

async fn create_secret(config: &aws::Config, value: &str) -> String {
    let name = unique("exomaps-test/secret");
    aws::secrets_client(config).create_secret().name(&name).secret_string(value).send().await.expect("CreateSecret");
    name
}

async fn put_secret(config: &aws::Config, name: &str, value: &str) {
    aws::secrets_client(config)
        .put_secret_value()
        .secret_id(name)
        .secret_string(value)
        .send()
        .await
        .expect("PutSecretValue");
}

#[derive(Debug, Deserialize, PartialEq)]
struct DbSecret {
    username: String,
    password: String,
}

#[tokio::test]
async fn secret_is_cached_for_the_ttl_then_refreshed() {
    let Some(config) = emulator("secret_is_cached_for_the_ttl_then_refreshed").await else { return };
    let name = create_secret(&config, r#"{"username":"exomaps","password":"first"}"#).await;
    let ttl = Duration::from_millis(1500);
    let cache = SecretCache::new(&config, ttl);

    let t0 = Instant::now();
    let first: DbSecret = cache.get_json(&name).await.unwrap();
    assert_eq!(first, DbSecret { username: "exomaps".into(), password: "first".into() });
    assert_eq!(cache.fetch_count(), 1);

    put_secret(&config, &name, r#"{"username":"exomaps","password":"rotated"}"#).await;
    // The rotation is real in Secrets Manager...
    let direct = aws::secrets_client(&config).get_secret_value().secret_id(&name).send().await.unwrap();
    assert!(direct.secret_string().unwrap().contains("rotated"));
    // ...but within the TTL the cache serves the old value without calling.
    let again: DbSecret = cache.get_json(&name).await.unwrap();
    assert!(t0.elapsed() < ttl, "the test itself took longer than the TTL; cannot check caching");
    assert_eq!(again.password, "first");
    assert_eq!(cache.fetch_count(), 1);

    tokio::time::sleep(ttl.saturating_sub(t0.elapsed()) + Duration::from_millis(100)).await;
    let after: DbSecret = cache.get_json(&name).await.unwrap();
    assert_eq!(after.password, "rotated");
    assert_eq!(cache.fetch_count(), 2);
    // And it is cached again.
    assert_eq!(cache.get_string(&name).await.unwrap(), r#"{"username":"exomaps","password":"rotated"}"#);
    assert_eq!(cache.fetch_count(), 2);
}

#[tokio::test]
async fn concurrent_readers_of_a_cold_secret_share_one_fetch() {
    let Some(config) = emulator("concurrent_readers_of_a_cold_secret_share_one_fetch").await else { return };
    let name = create_secret(&config, "signing-key-1").await;
    let cache = Arc::new(SecretCache::new(&config, Duration::from_secs(60)));
    let readers: Vec<_> = (0..32)
        .map(|_| {
            let (cache, name) = (cache.clone(), name.clone());
            tokio::spawn(async move { cache.get_string(&name).await })
        })
        .collect();
    for r in readers {
        assert_eq!(r.await.unwrap().unwrap(), "signing-key-1");
    }
    assert_eq!(cache.fetch_count(), 1, "32 concurrent readers must cause one GetSecretValue");
}

#[tokio::test]
async fn invalidate_forces_the_next_read_to_fetch() {
    let Some(config) = emulator("invalidate_forces_the_next_read_to_fetch").await else { return };
    let name = create_secret(&config, "v1").await;
    let cache = SecretCache::new(&config, Duration::from_secs(600));
    assert_eq!(cache.get_string(&name).await.unwrap(), "v1");
    put_secret(&config, &name, "v2").await;
    assert_eq!(cache.get_string(&name).await.unwrap(), "v1");
    cache.invalidate(&name);
    assert_eq!(cache.get_string(&name).await.unwrap(), "v2");
    assert_eq!(cache.fetch_count(), 2);
}

#[tokio::test]
async fn unknown_secret_and_wrong_json_are_errors() {
    let Some(config) = emulator("unknown_secret_and_wrong_json_are_errors").await else { return };
    let cache = SecretCache::new(&config, Duration::from_secs(60));
    let missing = unique("exomaps-test/missing");
    let err = cache.get_string(&missing).await.unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFoundException"), "{err}");
    assert!(!err.is_transient(), "{err}");
    assert!(err.to_string().contains(&missing), "the error names the secret: {err}");

    let name = create_secret(&config, "not json").await;
    let err = cache.get_json::<DbSecret>(&name).await.unwrap_err();
    assert!(matches!(err, PlatformError::Invalid { .. }), "{err}");
    assert!(!err.to_string().contains("not json"), "the error must not echo the secret value: {err}");
}

/// A TCP forwarder to the emulator that can be cut, so Secrets Manager becomes unreachable
/// for one client while the emulator keeps running.
struct Cuttable {
    url: String,
    tasks: Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Cuttable {
    async fn to(upstream: &str) -> Cuttable {
        let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let tasks: Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>> = Default::default();
        let t = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let conn = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                t.lock().unwrap().push(conn.abort_handle());
            }
        });
        tasks.lock().unwrap().push(accept.abort_handle());
        Cuttable { url, tasks }
    }

    fn cut(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }
}

#[tokio::test]
async fn a_transient_refresh_failure_serves_the_previous_value() {
    let Some(config) = emulator("a_transient_refresh_failure_serves_the_previous_value").await else { return };
    let name = create_secret(&config, "still-good").await;
    let proxy = Cuttable::to(config.endpoint_url().unwrap()).await;
    // The endpoint is set on the service config: an `SdkConfig` endpoint would lose to the
    // AWS_ENDPOINT_URL environment variable (the SDK reads the env service config first).
    let conf = secretsmanager::config::Builder::from(&config).endpoint_url(&proxy.url).build();
    let ttl = Duration::from_millis(300);
    let cache = SecretCache::from_client(secretsmanager::Client::from_conf(conf), ttl);
    assert_eq!(cache.get_string(&name).await.unwrap(), "still-good");

    proxy.cut();
    // Rotated meanwhile: a refresh that got through would see "rotated".
    put_secret(&config, &name, "rotated").await;
    tokio::time::sleep(ttl + Duration::from_millis(50)).await;
    // Expired, Secrets Manager unreachable: the previous value is served...
    assert_eq!(cache.get_string(&name).await.unwrap(), "still-good");
    assert_eq!(cache.fetch_count(), 2, "it did try to refresh");
    // ...without retrying on every read (next attempt after min(ttl, 30 s)).
    assert_eq!(cache.get_string(&name).await.unwrap(), "still-good");
    assert_eq!(cache.fetch_count(), 2);
    // ...but a secret never fetched is an error, and a transient one.
    let err = cache.get_string(&unique("exomaps-test/never-fetched")).await.unwrap_err();
    assert!(err.is_transient(), "connection refused is transient: {err}");
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Kick {
    run_name: String,
    seq: u32,
}

async fn create_queue(client: &sqs::Client, name: &str, attrs: &[(sqs::types::QueueAttributeName, String)]) -> String {
    let mut req = client.create_queue().queue_name(name);
    for (k, v) in attrs {
        req = req.attributes(k.clone(), v);
    }
    req.send().await.expect("CreateQueue").queue_url.unwrap()
}

#[tokio::test]
async fn sqs_send_receive_delete() {
    let Some(config) = emulator("sqs_send_receive_delete").await else { return };
    let client = aws::sqs_client(&config);
    let name = unique("exomaps-test-q");
    let url = create_queue(&client, &name, &[]).await;

    let publisher = QueuePublisher::by_name(client.clone(), &name).await.unwrap();
    assert_eq!(publisher.url(), url, "the URL is resolved by name");
    let id = publisher.send_json(&Kick { run_name: "single".into(), seq: 0 }).await.unwrap();
    assert!(!id.is_empty());
    // 12 messages: more than one SendMessageBatch call (10 per call).
    let batch: Vec<Kick> = (1..=12).map(|seq| Kick { run_name: "batch".into(), seq }).collect();
    let ids = publisher.send_batch_json(&batch).await.unwrap();
    assert_eq!(ids.len(), 12);
    assert!(ids.iter().all(|i| !i.is_empty()), "every message has an id: {ids:?}");

    let consumer = QueueConsumer::by_name(client.clone(), &name).await.unwrap();
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.len() < 13 && Instant::now() < deadline {
        for m in consumer.receive(10, Duration::from_secs(1)).await.unwrap() {
            assert_eq!(m.receive_count, 1);
            seen.push(m.json::<Kick>().unwrap().seq);
            consumer.delete(&m.receipt_handle).await.unwrap();
        }
    }
    seen.sort();
    assert_eq!(seen, (0..=12).collect::<Vec<_>>());
    assert!(consumer.receive(10, Duration::from_millis(0)).await.unwrap().is_empty(), "all deleted");
    let depth = consumer.depth().await.unwrap();
    assert_eq!((depth.visible, depth.in_flight), (0, 0));
}

#[tokio::test]
async fn sqs_oversized_messages_are_refused_and_big_batches_split() {
    let Some(config) = emulator("sqs_oversized_messages_are_refused_and_big_batches_split").await else { return };
    let client = aws::sqs_client(&config);
    let name = unique("exomaps-test-big");
    create_queue(&client, &name, &[]).await;
    let publisher = QueuePublisher::by_name(client.clone(), &name).await.unwrap();
    let err = publisher.send_json(&"x".repeat(300 * 1024)).await.unwrap_err();
    assert!(matches!(err, PlatformError::TooLarge { limit: 262144, .. }), "{err}");
    let consumer = QueueConsumer::by_name(client, &name).await.unwrap();
    assert_eq!(consumer.depth().await.unwrap().visible, 0);

    // 12 messages of 110 KB: ten per call would be 1.1 MB, over the 1 MiB batch limit SQS
    // enforces; the publisher splits by size too (≤ 256 KiB per call).
    let big: Vec<String> = (0..12).map(|i| format!("{i:02}{}", "y".repeat(110 * 1024))).collect();
    let ids = publisher.send_batch_json(&big).await.unwrap();
    assert_eq!(ids.len(), 12);
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.len() < 12 && Instant::now() < deadline {
        for m in consumer.receive(10, Duration::from_secs(1)).await.unwrap() {
            let body: String = m.json().unwrap();
            assert_eq!(body.len(), 2 + 110 * 1024);
            seen.push(body[..2].to_owned());
            consumer.delete(&m.receipt_handle).await.unwrap();
        }
    }
    seen.sort();
    assert_eq!(seen, (0..12).map(|i| format!("{i:02}")).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_message_received_twice_without_delete_ends_in_the_dlq() {
    let Some(config) = emulator("a_message_received_twice_without_delete_ends_in_the_dlq").await else { return };
    use sqs::types::QueueAttributeName as A;
    let client = aws::sqs_client(&config);
    let name = unique("exomaps-test-redrive");
    let dlq_url = create_queue(&client, &format!("{name}-dlq"), &[]).await;
    let dlq_arn = client
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(A::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()
        .remove(&A::QueueArn)
        .unwrap();
    let redrive = format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"2"}}"#);
    create_queue(&client, &name, &[(A::RedrivePolicy, redrive), (A::VisibilityTimeout, "30".into())]).await;

    let publisher = QueuePublisher::by_name(client.clone(), &name).await.unwrap();
    publisher.send_json(&Kick { run_name: "poison".into(), seq: 7 }).await.unwrap();
    let consumer = QueueConsumer::by_name(client.clone(), &name).await.unwrap();
    for attempt in 1..=2 {
        let got = consumer.receive(1, Duration::from_secs(1)).await.unwrap();
        assert_eq!(got.len(), 1, "delivery {attempt}");
        assert_eq!(got[0].receive_count, attempt);
        // The handler "failed": no delete; make it visible again at once instead of waiting 30 s.
        consumer.change_visibility(&got[0].receipt_handle, Duration::ZERO).await.unwrap();
    }
    // The third receive finds it over maxReceiveCount: SQS moves it to the DLQ.
    assert!(consumer.receive(1, Duration::from_secs(1)).await.unwrap().is_empty());
    let dlq = QueueConsumer::with_url(client.clone(), &dlq_url);
    let dead = dlq.receive(10, Duration::from_secs(1)).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].json::<Kick>().unwrap(), Kick { run_name: "poison".into(), seq: 7 });
    assert_eq!(consumer.depth().await.unwrap().visible, 0);
}

/// A valid gzip member holding `data` in stored (uncompressed) deflate blocks.
fn gzip_stored(data: &[u8]) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let chunks: Vec<&[u8]> = data.chunks(65535).collect();
    for (i, c) in chunks.iter().enumerate() {
        out.push(u8::from(i + 1 == chunks.len()));
        let len = c.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(c);
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

#[tokio::test]
async fn s3_put_get_head_keep_bytes_and_encoding() {
    let Some(config) = emulator("s3_put_get_head_keep_bytes_and_encoding").await else { return };
    let client = aws::s3_client(&config);
    let bucket = unique("exomaps-test");
    client.create_bucket().bucket(&bucket).send().await.expect("CreateBucket");
    let store = ObjectStore::new(client.clone(), &bucket);

    // A gzip'd map asset: stored and returned as the same gzip bytes (not decoded on the way).
    let plain: Vec<u8> = (0..200_000u32).flat_map(|i| (i.wrapping_mul(2_654_435_761)).to_le_bytes()).collect();
    let gz = gzip_stored(&plain);
    let key = "map/v1/systems.bin";
    let options = PutOptions::new("application/octet-stream").content_encoding("gzip").cache_control("max-age=60");
    let etag = store.put(key, gz.clone(), &options).await.unwrap();
    assert!(etag.is_some());

    let head = store.head(key).await.unwrap().expect("head of a stored object");
    assert_eq!(head.len, gz.len() as u64);
    assert_eq!(head.content_type.as_deref(), Some("application/octet-stream"));
    assert_eq!(head.content_encoding.as_deref(), Some("gzip"));
    assert_eq!(head.cache_control.as_deref(), Some("max-age=60"));
    assert_eq!(head.etag, etag);

    let got = store.get(key).await.unwrap().expect("get of a stored object");
    assert_eq!(got.body.len(), gz.len());
    assert!(got.body == gz, "the exact gzip bytes come back");
    assert_eq!(got.meta.content_encoding.as_deref(), Some("gzip"));
    assert_eq!(got.meta.content_type.as_deref(), Some("application/octet-stream"));

    // Overwrite with a plain object.
    store.put(key, "{}".as_bytes().to_vec(), &PutOptions::new("application/json")).await.unwrap();
    let head = store.head(key).await.unwrap().unwrap();
    assert_eq!(
        (head.len, head.content_type.as_deref(), head.content_encoding.as_deref()),
        (2, Some("application/json"), None)
    );

    assert!(store.get("no/such/key").await.unwrap().is_none());
    assert!(store.head("no/such/key").await.unwrap().is_none());
    let other = ObjectStore::new(client, unique("exomaps-test-nobucket"));
    assert!(other.get("k").await.is_err(), "a missing bucket is an error, not a missing key");
}

#[tokio::test]
async fn broadcast_to_an_unknown_connection_is_gone() {
    let Some(config) = emulator("broadcast_to_an_unknown_connection_is_gone").await else { return };
    let broadcaster = Broadcaster::new(&config);
    let endpoint = broadcaster.endpoint_for("0a1b2c3d", "prod");
    assert_eq!(endpoint, format!("{}/_aws/execute-api/0a1b2c3d/prod", config.endpoint_url().unwrap()));
    let connection = uuid::Uuid::new_v4().simple().to_string();
    // Exactly 32 KB is allowed through to the service.
    let full = vec![b'x'; exomaps_platform::broadcast::MAX_MESSAGE_BYTES];
    assert_eq!(broadcaster.post(&endpoint, &connection, &full).await.unwrap(), Delivery::Gone);
    assert_eq!(broadcaster.post(&endpoint, &connection, br#"{"type":"ping"}"#).await.unwrap(), Delivery::Gone);
    assert_eq!(broadcaster.disconnect(&endpoint, &connection).await.unwrap(), Delivery::Gone);
    // An API Gateway style id with '=' (AWS connection ids end in '=') is path-encoded correctly.
    assert_eq!(broadcaster.post(&endpoint, "L0SM9cOFvHcCIhw=", b"{}").await.unwrap(), Delivery::Gone);
}

#[tokio::test]
async fn broadcast_refuses_messages_over_32_kb() {
    // No call is made, so no emulator is needed.
    let config = aws::load().await;
    let broadcaster = Broadcaster::new(&config);
    let endpoint = broadcaster.endpoint_for("0a1b2c3d", "prod");
    let too_big = vec![b'x'; 32 * 1024 + 1];
    let err = broadcaster.post(&endpoint, "abc", &too_big).await.unwrap_err();
    assert!(matches!(err, PlatformError::TooLarge { size: 32769, limit: 32768, .. }), "{err}");
    assert!(err.to_string().contains("32768-byte limit"), "{err}");
}

#[tokio::test]
async fn broadcast_to_an_unreachable_endpoint_is_an_error_not_gone() {
    let Some(config) = emulator("broadcast_to_an_unreachable_endpoint_is_an_error_not_gone").await else { return };
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let broadcaster = Broadcaster::new(&config);
    let err = broadcaster.post(&format!("http://127.0.0.1:{port}/prod"), "abc", b"{}").await.unwrap_err();
    assert!(err.is_transient(), "{err}");
}

//! The database credentials secret (Secrets Manager: the emulator here, through the real SDK)
//! is read by one code path, `exomaps_platform::SecretCache::database_url`: the pipeline
//! functions' `PipelineConfig` (no HTTP state) and the HTTP functions' secret source get the same
//! URL, with the RDS Proxy host override applied, and the pipeline's store connects with it.

use exomaps_api::secrets::{KeySet, SecretSource, SecretsManagerSource};
use exomaps_pipeline::config::PipelineConfig;
use exomaps_tests::fresh_store;
use sqlx::postgres::PgConnectOptions;
use std::str::FromStr;
use std::time::Duration;

#[tokio::test]
async fn the_pipeline_and_the_api_read_the_same_database_secret() {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        assert!(std::env::var("CI").map_or(true, |v| v != "true"), "CI must run the emulator (./dev test starts it)");
        eprintln!("skipping: AWS_ENDPOINT_URL is not set (./dev test starts the emulator)");
        return;
    }
    let (_, url) = fresh_store().await;
    let opts = PgConnectOptions::from_str(&url).unwrap();
    let (host, port, user) = (opts.get_host().to_string(), opts.get_port(), opts.get_username().to_string());
    let db = opts.get_database().unwrap_or("postgres").to_string();
    // The RDS shape, naming a host that does not resolve: only the override makes it reachable.
    let secret = serde_json::json!({
        "username": user, "password": "not checked", "host": "cluster.invalid", "port": port, "dbname": db
    });
    let sdk = exomaps_platform::aws::config().await;
    let client = exomaps_platform::aws::secrets_client(sdk);
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let (db_id, jwt_id) = (format!("exomaps/test-db-{suffix}"), format!("exomaps/test-jwt-{suffix}"));
    client.create_secret().name(&db_id).secret_string(secret.to_string()).send().await.expect("db secret");
    client.create_secret().name(&jwt_id).secret_string(KeySet::generate().to_json()).send().await.expect("jwt secret");

    let lookup = |with_host: bool| {
        let (db_id, host) = (db_id.clone(), host.clone());
        move |k: &str| match k {
            "EXOMAPS_DB_SECRET_ID" => Some(db_id.clone()),
            "EXOMAPS_DB_HOST" if with_host => Some(host.clone()),
            _ => None,
        }
    };
    let expected = format!("postgres://{user}:not%20checked@{host}:{port}/{db}");
    let pipeline = PipelineConfig::from_lookup(&lookup(true)).unwrap();
    assert_eq!(pipeline.database_url().await.unwrap().as_deref(), Some(expected.as_str()));
    let store = pipeline.store().await.unwrap().expect("a store");
    store.ping().await.expect("the pipeline's store connects through the overridden host");
    let unrouted = PipelineConfig::from_lookup(&lookup(false)).unwrap();
    assert!(
        unrouted.database_url().await.unwrap().unwrap().contains("@cluster.invalid:"),
        "no override: the secret's host"
    );

    // The HTTP functions' source: the same secret, the same override, the same URL.
    let api = SecretsManagerSource::new(jwt_id.clone(), Some(db_id.clone()), Duration::from_secs(60))
        .with_db_host(Some(host.clone()));
    assert_eq!(api.database_url().await.unwrap().as_deref(), Some(expected.as_str()));

    for id in [&db_id, &jwt_id] {
        client.delete_secret().secret_id(id).force_delete_without_recovery(true).send().await.ok();
    }
}

//! `s3://` sources (issue 14): the same files ingested from the local folder (`file://`) and from
//! a bucket of the emulator (`s3://`, uploaded by `exomaps-local sources push`'s code) produce
//! identical staging rows, quarantine, gate results and checksums; a missing object or bucket
//! fails the run with the reason. Real PostgreSQL (`DATABASE_URL`) and the emulator
//! (`AWS_ENDPOINT_URL`) through the AWS SDK.

use exomaps_domain::coords::Scope;
use exomaps_pipeline::chain::{self, Phase, PipelineContext};
use exomaps_pipeline::notify::Notifier;
use exomaps_platform::ObjectStore;
use exomaps_store::Store;
use exomaps_tests::{fresh_store, sample_sources};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

fn emulator_set() -> bool {
    if std::env::var_os("AWS_ENDPOINT_URL").is_some() {
        return true;
    }
    assert!(std::env::var("CI").map_or(true, |v| v != "true"), "CI must run the emulator");
    eprintln!("skipping: AWS_ENDPOINT_URL is not set (./dev test starts the emulator)");
    false
}

async fn bucket() -> ObjectStore {
    let client = exomaps_platform::aws::s3_client(exomaps_platform::aws::config().await);
    let name = format!("exomaps-sources-{}", &Uuid::new_v4().simple().to_string()[..12]);
    client.create_bucket().bucket(&name).send().await.expect("CreateBucket");
    ObjectStore::new(client, name)
}

/// Runs only the ingest phase for `sources` (a kick message's JSON array), as the ingest queue's
/// function would; returns the run id.
async fn ingest(store: &Store, sources: Value) -> Uuid {
    let ctx = PipelineContext {
        store: store.clone(),
        scope: Scope::default(),
        notifier: Notifier::silent(store.clone()),
        objects: None,
    };
    let run_id = Uuid::new_v4();
    let kick = json!({"run_name": "s3 sources", "sources": sources, "run_id": run_id});
    chain::handle(&ctx, Phase::Ingest, &kick.to_string()).await.expect("the ingest phase handles the kick");
    run_id
}

/// Every row a run's ingest wrote, without the run id, surrogate keys and timestamps.
async fn ingest_rows(store: &Store, run_id: Uuid) -> Value {
    let mut all = serde_json::Map::new();
    for (table, drop, order) in [
        ("stg_data.source_manifest", "{run_id,source_manifest_id,ingested_at,file_uri}", "source_name"),
        ("stg_data.validation_summary", "{run_id,created_at}", "source_name"),
        ("stg_data.validation_quarantine", "{run_id,quarantine_id,created_at}", "source_name, row_number, error_code"),
        ("stg_data.stg_simbad_raw", "{run_id}", "source_name, row_number"),
        ("stg_data.stg_exoplanet_raw", "{run_id}", "source_name, row_number"),
        ("stg_data.stg_hipparcos_raw", "{run_id}", "source_name, row_number"),
        ("stg_data.stg_names_raw", "{run_id}", "source_name, row_number"),
    ] {
        let sql = format!(
            "SELECT COALESCE(jsonb_agg(to_jsonb(t) - '{drop}'::text[] ORDER BY {order}), '[]') FROM {table} t WHERE run_id = $1"
        );
        // Only the constant table names above are formatted in.
        let rows: Value =
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(run_id).fetch_one(store.pool()).await.unwrap();
        all.insert(table.to_string(), rows);
    }
    Value::Object(all)
}

#[tokio::test]
async fn s3_and_file_sources_stage_identical_rows_and_checksums() {
    if !emulator_set() {
        return;
    }
    let (store, _) = fresh_store().await;
    let objects = bucket().await;
    let dir = sample_sources();
    let local = exomaps_pipeline::sources_in(&dir, None).unwrap();
    let families: std::collections::BTreeSet<String> = local.iter().map(|s| format!("{:?}", s.family)).collect();
    assert_eq!(families.len(), 4, "the sample has every family (SIMBAD, EXOPLANETS, HIPPARCOS, NAMES): {families:?}");
    // What `exomaps-local sources push BUCKET incoming/` does.
    let pushed = exomaps_local::sources::push(&objects, &local, "incoming/").await.unwrap();
    assert_eq!(
        pushed.iter().map(|s| s.uri.clone()).collect::<Vec<_>>(),
        local.iter().map(|s| format!("s3://{}/incoming/{}", objects.bucket(), s.source_name())).collect::<Vec<_>>()
    );

    let from_files = ingest(&store, serde_json::to_value(&local).unwrap()).await;
    // The s3 kick as the scheduled message gives it: bare URIs, family from the file name.
    let uris: Vec<&str> = pushed.iter().map(|s| s.uri.as_str()).collect();
    let from_s3 = ingest(&store, json!(uris)).await;
    for run in [from_files, from_s3] {
        let r = store.run(run).await.unwrap().unwrap();
        assert_ne!(r.status, "fail", "{r:?}");
    }

    let (a, b) = (ingest_rows(&store, from_files).await, ingest_rows(&store, from_s3).await);
    assert!(a["stg_data.stg_simbad_raw"].as_array().unwrap().len() > 10, "{a}");
    assert!(!a["stg_data.stg_exoplanet_raw"].as_array().unwrap().is_empty());
    assert!(!a["stg_data.stg_hipparcos_raw"].as_array().unwrap().is_empty(), "{a}");
    assert!(!a["stg_data.stg_names_raw"].as_array().unwrap().is_empty(), "{a}");
    assert!(!a["stg_data.validation_quarantine"].as_array().unwrap().is_empty(), "the sample has dirty rows");
    assert_eq!(a, b, "file:// and s3:// ingests differ");

    // The manifest's checksum and size are those of the file's bytes, for both runs.
    let manifest = store.run_manifest(from_s3).await.unwrap();
    assert_eq!(manifest.len(), local.len());
    for spec in &local {
        let bytes = std::fs::read(dir.join(spec.source_name())).unwrap();
        let sha: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        let row = a["stg_data.source_manifest"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["source_name"] == spec.source_name())
            .unwrap();
        assert_eq!(row["file_checksum_sha256"], sha);
        assert_eq!(row["file_bytes"], bytes.len());
    }
    let uris: Vec<String> =
        sqlx::query_scalar("SELECT file_uri FROM stg_data.source_manifest WHERE run_id = $1 ORDER BY source_name")
            .bind(from_s3)
            .fetch_all(store.pool())
            .await
            .unwrap();
    let mut want: Vec<String> = pushed.iter().map(|s| s.uri.clone()).collect();
    want.sort();
    assert_eq!(uris, want, "the manifest records where the bytes came from");
}

#[tokio::test]
async fn a_missing_object_or_bucket_fails_the_run_with_the_reason() {
    if !emulator_set() {
        return;
    }
    let (store, _) = fresh_store().await;
    let objects = bucket().await;
    let missing = format!("s3://{}/SIMBAD_missing.csv", objects.bucket());
    let run = ingest(&store, json!([{"family": "SIMBAD", "uri": missing}])).await;
    let r = store.run(run).await.unwrap().unwrap();
    assert_eq!(r.status, "fail");
    let reason = r.failure_reason.unwrap_or_default();
    assert!(reason.contains(&missing) && reason.contains("no such object"), "{reason}");

    // Another bucket's failure (here: none by that name) keeps the service's code in the reason,
    // as an AccessDenied would on AWS.
    let nobucket = format!("s3://exomaps-nobucket-{}/SIMBAD_01.csv", &Uuid::new_v4().simple().to_string()[..8]);
    let run = ingest(&store, json!([nobucket])).await;
    let r = store.run(run).await.unwrap().unwrap();
    assert_eq!(r.status, "fail");
    let reason = r.failure_reason.unwrap_or_default();
    assert!(reason.contains("cannot read source") && reason.contains("NoSuchBucket"), "{reason}");
    // The failed source is in the manifest report with its reason.
    let validation: Value = sqlx::query_scalar(
        "SELECT COALESCE(jsonb_agg(to_jsonb(t)), '[]') FROM stg_data.source_manifest t WHERE run_id = $1",
    )
    .bind(run)
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(validation.as_array().map(Vec::len), Some(1), "{validation}");
    assert!(validation[0]["metadata"]["error"].as_str().is_some_and(|e| e.contains("NoSuchBucket")), "{validation}");
    assert_eq!(validation[0]["gate_status"], "fail");
}

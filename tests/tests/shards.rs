//! Sharded ingest (issue 15): a source split into line-aligned shards, each ingested by its own
//! message and joined in PostgreSQL, gives exactly what one pass gives — staging, quarantine
//! (duplicates across shards included, with the line of their first occurrence), summaries,
//! manifest and the world build — in process and over SQS with S3 ranged reads.

use exomaps_pipeline::chain::{self, KickMessage, Phase, ShardMessage, ShardRef};
use exomaps_pipeline::{Family, SourceSpec, run_chain};
use exomaps_store::Store;
use exomaps_tests::{fingerprint, fresh_store, real_sources, sample_sources, silent_context};
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// A row of `header`'s columns: the named cells set, the others blank.
fn row(header: &str, cells: &[(&str, &str)]) -> String {
    let cols: Vec<String> = header.trim_start_matches('\u{feff}').split(',').map(|c| c.trim().to_lowercase()).collect();
    let out: Vec<String> =
        cols.iter().map(|c| cells.iter().find(|(k, _)| k == c).map_or(String::new(), |(_, v)| v.to_string())).collect();
    out.join(",")
}

/// The newest SIMBAD and exoplanet files (real when present, else the samples), with rows that
/// make duplicates across shards: an identity first seen in a quarantined row at the top and
/// repeated (accepted, twice) at the bottom, and the first data rows repeated at the bottom.
fn sources(dir: &Path) -> Vec<SourceSpec> {
    let (simbad, exo) = match real_sources() {
        Some(d) => (d.join("SIMBAD_03.csv"), d.join("EXOPLANETS_01x.csv")),
        None => (sample_sources().join("SIMBAD_sample.csv"), sample_sources().join("EXOPLANETS_sample.csv")),
    };
    let write = |from: &PathBuf, name: &str, top: String, bottom: Vec<String>| {
        let text = std::fs::read_to_string(from).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        let data: Vec<String> = lines[1..3].iter().map(|l| l.to_string()).collect();
        lines.insert(1, &top);
        let mut out = lines.join("\n") + "\n";
        for l in data.iter().chain(&bottom) {
            out += l;
            out += "\n";
        }
        let path = dir.join(name);
        std::fs::write(&path, out).unwrap();
        path
    };
    let text = std::fs::read_to_string(&simbad).unwrap();
    let h = text.lines().next().unwrap().to_string();
    let dup = |ra: &str| {
        row(
            &h,
            &[
                ("sys_id", "900001"),
                ("main_id", "TEST DUP A"),
                ("ids", "TEST DUP A"),
                ("average of ra", ra),
                ("average of dec", "10.5"),
                ("average of dist", "5.5"),
            ],
        )
    };
    let s = write(&simbad, "SIMBAD_09.csv", dup("400.0"), vec![dup("40.0"), dup("41.0")]);
    let text = std::fs::read_to_string(&exo).unwrap();
    let h = text.lines().next().unwrap().to_string();
    let planet =
        |ra: &str| row(&h, &[("star_name", "DUPSTAR"), ("planet_name", "DUPSTAR b"), ("ra", ra), ("dec", "-10.0")]);
    let e = write(&exo, "EXOPLANETS_09.csv", planet(""), vec![planet("12.0")]);
    vec![SourceSpec::file(Family::Simbad, &s), SourceSpec::file(Family::Exoplanets, &e)]
}

/// A folder of its own under the temporary directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let p = std::env::temp_dir().join(format!("exomaps-shards-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The real catalogue is there (the duplicates added are then a small share: the gates pass).
fn dir_has_real_sources() -> bool {
    real_sources().is_some()
}

fn kick(sources: Vec<SourceSpec>, shards: Option<u32>) -> KickMessage {
    KickMessage { run_name: format!("shards {shards:?}"), sources, seed: Some(11), run_id: None, shards }
}

async fn shard_counts(store: &Store, run_id: Uuid) -> Vec<(String, i64, i64)> {
    sqlx::query_as(
        "SELECT source_name, count(*), count(done_at) FROM stg_data.ingest_shards WHERE run_id = $1
         GROUP BY 1 ORDER BY 1",
    )
    .bind(run_id)
    .fetch_all(store.pool())
    .await
    .unwrap()
}

/// The counts of every phase but the run's own ids.
async fn phase_counts(store: &Store, run_id: Uuid) -> Vec<(String, serde_json::Value)> {
    let mut out = Vec::new();
    for p in store.run_phases(run_id).await.unwrap() {
        let mut counts = p.counts.clone();
        if let Some(o) = counts.as_object_mut() {
            o.remove("run_id");
        }
        out.push((p.phase.clone(), counts));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[tokio::test]
async fn one_shard_and_four_give_the_same_world() {
    let dir = Scratch::new();
    let specs = sources(dir.path());

    let (one_store, _) = fresh_store().await;
    let one = run_chain(&silent_context(&one_store), &kick(specs.clone(), None)).await.unwrap();
    if std::env::var_os("EXOMAPS_SOURCES").is_some() || dir_has_real_sources() {
        assert_eq!(one.status, "pass", "{one:?}");
    }
    assert!(shard_counts(&one_store, one.run_id).await.is_empty(), "small files are read whole by default");

    let (four_store, _) = fresh_store().await;
    let ctx = silent_context(&four_store);
    let four = run_chain(&ctx, &kick(specs.clone(), Some(4))).await.unwrap();
    assert_eq!((four.status, &four.failure_reason), (one.status, &one.failure_reason), "{four:?}");
    let shards = shard_counts(&four_store, four.run_id).await;
    assert_eq!(shards.len(), 2, "{shards:?}");
    for (name, n, done) in &shards {
        assert!(*n >= 3 && *n <= 4 && done == n, "{name}: {n} shards, {done} done");
    }

    assert_eq!(fingerprint(&one_store, one.run_id).await, fingerprint(&four_store, four.run_id).await);
    assert_eq!(phase_counts(&one_store, one.run_id).await, phase_counts(&four_store, four.run_id).await);

    // The duplicates across shards were exercised: each repeat names line 2 (the quarantined
    // first occurrence at the top), in whichever shard it landed.
    let details: Vec<(String, String)> = sqlx::query_as(
        "SELECT source_name, error_detail FROM stg_data.validation_quarantine
         WHERE run_id = $1 AND error_code = 'DUPLICATE_IDENTITY' ORDER BY source_name, row_number",
    )
    .bind(four.run_id)
    .fetch_all(four_store.pool())
    .await
    .unwrap();
    let named_line_2 = |src: &str| details.iter().filter(|(s, d)| s == src && d.ends_with("line 2")).count();
    assert_eq!(named_line_2("SIMBAD_09.csv"), 2, "{details:?}");
    assert_eq!(named_line_2("EXOPLANETS_09.csv"), 1, "{details:?}");

    // Redelivered: a shard message and the kick change nothing.
    let before = fingerprint(&four_store, four.run_id).await;
    let shard = ShardMessage {
        run_id: four.run_id,
        phase: Phase::Ingest,
        shard: ShardRef { source: "SIMBAD_09.csv".into(), index: 1 },
    };
    let h = chain::handle(&ctx, Phase::Ingest, &serde_json::to_string(&shard).unwrap()).await.unwrap();
    assert!(h.waiting && h.next.is_none() && h.fanout.is_empty(), "{h:?}");
    let again = KickMessage { run_id: Some(four.run_id), ..kick(specs, Some(4)) };
    let h = chain::handle(&ctx, Phase::Ingest, &serde_json::to_string(&again).unwrap()).await.unwrap();
    assert!(matches!(h.outcome, Some(exomaps_pipeline::outcome::Outcome::Redelivered { .. })), "{h:?}");
    assert_eq!(fingerprint(&four_store, four.run_id).await, before);

    // A shard the plan does not hold fails the run with a reason (a hand-made message).
    let bogus = ShardMessage { shard: ShardRef { source: "SIMBAD_09.csv".into(), index: 99 }, ..shard };
    let (other, _) = fresh_store().await;
    let ctx = silent_context(&other);
    other.create_run(bogus.run_id, "bogus", None).await.unwrap();
    let h = chain::handle(&ctx, Phase::Ingest, &serde_json::to_string(&bogus).unwrap()).await.unwrap();
    assert!(h.outcome.is_none() && !h.waiting, "{h:?}");
    let run = other.run(bogus.run_id).await.unwrap().unwrap();
    assert_eq!(run.status, "fail");
    assert!(run.failure_reason.unwrap_or_default().contains("no shard 99"));
}

#[tokio::test]
async fn a_shard_with_a_missing_column_rejects_the_file_before_fanning_out() {
    let dir = Scratch::new();
    let path = dir.path().join("SIMBAD_bad.csv");
    let mut text = String::from("sys_id,main_id,ids\n");
    for i in 0..100 {
        text += &format!("{i},X {i},X {i}\n");
    }
    std::fs::write(&path, text).unwrap();
    let (store, _) = fresh_store().await;
    let report = run_chain(&silent_context(&store), &kick(vec![SourceSpec::file(Family::Simbad, &path)], Some(4)))
        .await
        .unwrap();
    assert_eq!(report.status, "fail");
    assert!(report.failure_reason.as_deref().unwrap_or("").contains("missing required columns"), "{report:?}");
    assert!(shard_counts(&store, report.run_id).await.is_empty());
}

/// Over the emulator: sources in S3 (shards read with ranged GETs), shard messages through SQS,
/// polled like the phase Lambdas; the build equals one pass over the same objects.
#[tokio::test]
async fn shards_over_sqs_and_s3_give_the_same_world() {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    use exomaps_pipeline::aws::{SqsQueues, poll_once};
    use exomaps_pipeline::queue::Queues;
    use exomaps_platform::queue::QueueConsumer;
    use std::collections::HashMap;
    use std::time::{Duration, Instant};
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        assert!(std::env::var("CI").map_or(true, |v| v != "true"), "CI must run the emulator");
        eprintln!("skipping: AWS_ENDPOINT_URL is not set (./dev test starts the emulator)");
        return;
    }
    let config = exomaps_platform::aws::config().await;
    let s3 = exomaps_platform::aws::s3_client(config);
    let bucket = format!("exomaps-src-{}", Uuid::new_v4().simple());
    s3.create_bucket().bucket(&bucket).send().await.expect("create bucket");
    let dir = Scratch::new();
    let mut specs = Vec::new();
    for spec in sources(dir.path()) {
        let path = exomaps_pipeline::file_path(&spec).unwrap();
        let key = format!("in/{}", path.file_name().unwrap().to_string_lossy());
        let body = std::fs::read(&path).unwrap();
        s3.put_object().bucket(&bucket).key(&key).body(body.into()).send().await.expect("put source");
        specs.push(SourceSpec { family: spec.family, uri: format!("s3://{bucket}/{key}") });
    }

    let (one_store, _) = fresh_store().await;
    let one = run_chain(&silent_context(&one_store), &kick(specs.clone(), Some(1))).await.unwrap();
    assert_eq!(one.status, "pass", "{one:?}");

    let sqs = exomaps_platform::aws::sqs_client(exomaps_platform::aws::config().await);
    let prefix = format!("t{}", Uuid::new_v4().simple());
    let mut urls = HashMap::new();
    for phase in Phase::ALL {
        let url = sqs
            .create_queue()
            .queue_name(format!("{prefix}-{}", phase.as_str()))
            .attributes(A::VisibilityTimeout, "5")
            .send()
            .await
            .expect("create queue")
            .queue_url
            .unwrap();
        urls.insert(phase, url);
    }
    let (store, _) = fresh_store().await;
    let ctx = silent_context(&store);
    let queues = SqsQueues::new(sqs.clone(), urls.clone());
    let run_id = Uuid::new_v4();
    let k = KickMessage { run_id: Some(run_id), ..kick(specs, Some(4)) };
    queues.send(Phase::Ingest, serde_json::to_string(&k).unwrap()).await.unwrap();
    let consumers: Vec<(Phase, QueueConsumer)> =
        Phase::ALL.into_iter().map(|p| (p, QueueConsumer::with_url(sqs.clone(), urls[&p].clone()))).collect();
    let started = Instant::now();
    loop {
        for (phase, consumer) in &consumers {
            poll_once(&ctx, &queues, *phase, consumer, Duration::ZERO).await.unwrap();
        }
        let run = store.run(run_id).await.unwrap();
        if run.as_ref().is_some_and(|r| r.finished_at.is_some()) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(90), "chain not done in 90 s: {run:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let run = store.run(run_id).await.unwrap().unwrap();
    assert_eq!(run.status, "pass", "{run:?}");
    let shards = shard_counts(&store, run_id).await;
    assert!(shards.iter().all(|(_, n, done)| *n >= 3 && done == n), "{shards:?}");
    assert_eq!(fingerprint(&one_store, one.run_id).await, fingerprint(&store, run_id).await);
    assert_eq!(phase_counts(&one_store, one.run_id).await, phase_counts(&store, run_id).await);
}

/// Staging rows are checked against their run per statement (migration 0011), not per row: a
/// COPY naming a run that does not exist fails as the foreign key did, and deleting a run
/// deletes its staged rows.
#[tokio::test]
async fn staged_rows_need_their_run_and_go_with_it() {
    let (store, _) = fresh_store().await;
    let ghost = Uuid::new_v4();
    let insert = "INSERT INTO stg_data.stg_simbad_raw (run_id, source_name, row_number, sys_id, main_id, main_id_raw,
                      ids, otypes, ra_deg, dec_deg, multiplicity)
                  SELECT $1, 'SIMBAD_x.csv', n, n, 'S ' || n, 'S ' || n, '{}', '{}', 1.0, 2.0, 1
                  FROM generate_series(2, 101) AS n";
    let err = sqlx::query(insert).bind(ghost).execute(store.pool()).await.unwrap_err();
    let db = err.as_database_error().expect("a database error");
    assert_eq!(db.code().as_deref(), Some("23503"), "{db}");
    assert!(db.message().contains(&ghost.to_string()), "{db}");

    let run = Uuid::new_v4();
    store.create_run(run, "staged", None).await.unwrap();
    sqlx::query(insert).bind(run).execute(store.pool()).await.unwrap();
    // One statement with rows of an existing run and a missing one fails whole.
    let mixed =
        "INSERT INTO stg_data.stg_exoplanet_raw (run_id, source_name, row_number, star_name, planet_name, record)
                 VALUES ($1, 'EXOPLANETS_x.csv', 2, 'S', 'S b', '{}'), ($2, 'EXOPLANETS_x.csv', 3, 'T', 'T b', '{}')";
    assert!(sqlx::query(mixed).bind(run).bind(ghost).execute(store.pool()).await.is_err());
    let count = |table: &'static str| {
        let store = store.clone();
        async move {
            let sql = format!("SELECT count(*) FROM stg_data.{table} WHERE run_id = $1");
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(run).fetch_one(store.pool()).await.unwrap();
            n
        }
    };
    assert_eq!((count("stg_simbad_raw").await, count("stg_exoplanet_raw").await), (100, 0));
    sqlx::query("DELETE FROM stg_data.ingest_runs WHERE run_id = $1").bind(run).execute(store.pool()).await.unwrap();
    assert_eq!(count("stg_simbad_raw").await, 0);
}

/// SIMBAD staging rows go in by binary COPY: every value comes back exactly as validated —
/// text with tabs, backslashes, quotes, braces, commas and non-ASCII, empty and one-element
/// arrays, NULLs, extreme and negative-zero floats, notes — in file order.
#[tokio::test]
async fn binary_staging_rows_read_back_exactly() {
    use exomaps_domain::catalogue::contract::{GateStatus, NoteCode, RowNote};
    use exomaps_domain::catalogue::simbad::{SimbadBatch, SimbadRecord};
    use exomaps_store::ingest::SourceFileMeta;
    let (store, _) = fresh_store().await;
    let run = Uuid::new_v4();
    store.create_run(run, "binary", None).await.unwrap();
    let plain = |line: u32| SimbadRecord {
        line,
        sys_id: i64::from(line) * 1_000_003,
        sys_code: None,
        main_id: format!("S {line}"),
        main_id_raw: format!("S  {line}"),
        ids: vec![format!("S {line}")],
        otype_txt: None,
        otype_shortname: None,
        otype_longname: None,
        otypes: vec![],
        spectral_type: None,
        ra_deg: 0.0,
        dec_deg: 0.0,
        dist_pc: None,
        multiplicity: 1,
        notes: vec![],
    };
    let tricky = SimbadRecord {
        sys_code: Some("tab\there\\back\"quote".into()),
        main_id: "α Cen {A,B} \\N".into(),
        main_id_raw: "  α  Cen {A,B} \\N\r\n".into(),
        ids: vec!["NAME Rigil \"Kent\"".into(), "a,b".into(), "{}".into(), "NULL".into(), "".into(), "Ω\\".into()],
        otype_txt: Some("**".into()),
        otype_shortname: Some("".into()),
        otype_longname: Some("Double or Multiple Star".into()),
        otypes: vec!["**".into(), "PM*".into()],
        spectral_type: Some("G2V+K1V".into()),
        ra_deg: 219.902_066_275_123_4,
        dec_deg: -60.833_975_9,
        dist_pc: Some(f64::MIN_POSITIVE),
        multiplicity: 2,
        notes: vec![RowNote::new(NoteCode::WhitespaceNormalised, "main_id", "trimmed \"twice\"\t")],
        ..plain(3)
    };
    let accepted = vec![
        SimbadRecord { ra_deg: -0.0, dec_deg: 90.0, dist_pc: Some(1e300), ..plain(2) },
        tricky,
        SimbadRecord { sys_id: i64::MAX, line: i32::MAX as u32, ..plain(4) },
    ];
    let batch = SimbadBatch { total_rows: 3, accepted, quarantined: vec![], duplicate_rows: 0 };
    let meta = SourceFileMeta {
        family: "SIMBAD",
        source_name: "SIMBAD_binary.csv".into(),
        file_uri: "file:///SIMBAD_binary.csv".into(),
        sha256: "0".repeat(64),
        bytes: 1,
        contract_version: exomaps_domain::catalogue::simbad::CONTRACT_VERSION,
    };
    store.write_simbad_ingest(run, &meta, &batch, GateStatus::Pass).await.unwrap();
    let back = store.staged_simbad_records(run, "SIMBAD_binary.csv").await.unwrap();
    assert_eq!(back, batch.accepted);
    assert!(back[0].ra_deg.is_sign_negative(), "-0.0 keeps its sign");
    // A line beyond a row number is refused with a reason, not wrapped.
    let too_far =
        SimbadBatch { total_rows: 1, accepted: vec![plain(u32::MAX)], quarantined: vec![], duplicate_rows: 0 };
    let err = store.write_simbad_ingest(run, &meta, &too_far, GateStatus::Pass).await.unwrap_err();
    assert!(err.to_string().contains("beyond a row number"), "{err}");
}

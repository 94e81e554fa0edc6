//! Fault tolerance of the phase chain: duplicate deliveries, a phase killed mid-way and rerun,
//! and malformed files — nothing lost, nothing doubled, no crash, a clear reason.

use exomaps_domain::catalogue::simbad;
use exomaps_domain::coords::Scope;
use exomaps_pipeline::chain::{self, KickMessage, Phase, PipelineContext};
use exomaps_pipeline::notify::Notifier;
use exomaps_pipeline::{Family, SourceSpec, run_chain};
use exomaps_store::Store;
use exomaps_store::ingest::SourceFileMeta;
use exomaps_tests::{fingerprint, fresh_store, real_sources, sample_sources};
use uuid::Uuid;

fn ctx(store: &Store) -> PipelineContext {
    PipelineContext {
        store: store.clone(),
        scope: Scope::default(),
        notifier: Notifier::silent(store.clone()),
        objects: None,
    }
}

fn kick(dir: &std::path::Path, run_id: Uuid) -> KickMessage {
    KickMessage {
        run_name: "faults".into(),
        sources: vec![SourceSpec::file(Family::Simbad, dir.join("SIMBAD_sample.csv"))],
        seed: Some(7),
        run_id: Some(run_id),
        shards: None,
    }
}

#[tokio::test]
async fn every_message_delivered_twice_changes_nothing() {
    let dir = sample_sources();
    let (once_store, _) = fresh_store().await;
    let once = run_chain(&ctx(&once_store), &kick(&dir, Uuid::new_v4())).await.unwrap();
    assert_eq!(once.status, "pass");

    let (store, _) = fresh_store().await;
    let ctx = ctx(&store);
    let run_id = Uuid::new_v4();
    let body = serde_json::to_string(&kick(&dir, run_id)).unwrap();
    let first = chain::handle(&ctx, Phase::Ingest, &body).await.unwrap();
    let second = chain::handle(&ctx, Phase::Ingest, &body).await.unwrap();
    assert_eq!(first.next, second.next, "a redelivered kick names the same next message");
    let mut next = first.next;
    while let Some(msg) = next {
        let body = serde_json::to_string(&msg).unwrap();
        let a = chain::handle(&ctx, msg.phase, &body).await.unwrap();
        let b = chain::handle(&ctx, msg.phase, &body).await.unwrap();
        assert_eq!(a.next, b.next, "{:?}", msg.phase);
        next = a.next;
    }
    // The same world as a single delivery produced (build ids and run ids aside).
    let strip = |f: Vec<(String, i64, String)>| f.into_iter().filter(|(n, ..)| n != "builds").collect::<Vec<_>>();
    assert_eq!(strip(fingerprint(&store, run_id).await), strip(fingerprint(&once_store, once.run_id).await));
    let run = store.run(run_id).await.unwrap().unwrap();
    assert_eq!(run.status, "pass");
}

#[tokio::test]
async fn a_phase_killed_mid_way_and_rerun_loses_and_doubles_nothing() {
    let Some(dir) = real_sources() else { return };
    let files = ["SIMBAD_01.csv", "SIMBAD_02.csv"];
    let sources: Vec<SourceSpec> = files.iter().map(|f| SourceSpec::file(Family::Simbad, dir.join(f))).collect();
    let clean = {
        let (store, _) = fresh_store().await;
        let k = KickMessage {
            run_name: "clean".into(),
            sources: sources.clone(),
            seed: Some(1),
            run_id: None,
            shards: None,
        };
        let r = run_chain(&ctx(&store), &k).await.unwrap();
        fingerprint(&store, r.run_id).await
    };

    let (store, _) = fresh_store().await;
    let run_id = Uuid::new_v4();
    // The first attempt dies after writing part of the first file: phase left "running".
    store.create_run(run_id, "killed", Some(1)).await.unwrap();
    store.start_phase(run_id, "ingest").await.unwrap();
    let bytes = std::fs::read(dir.join(files[0])).unwrap();
    let mut partial = simbad::parse(&bytes).unwrap();
    partial.accepted.truncate(500);
    let meta = SourceFileMeta {
        family: "SIMBAD",
        source_name: files[0].into(),
        file_uri: sources[0].uri.clone(),
        sha256: "partial".into(),
        bytes: 1,
        contract_version: simbad::CONTRACT_VERSION,
    };
    store
        .write_simbad_ingest(run_id, &meta, &partial, exomaps_domain::catalogue::contract::GateStatus::Pass)
        .await
        .unwrap();
    // SQS redelivers the kick; the chain goes on; transform is also killed once (its phase
    // left running) and redelivered.
    let k = KickMessage { run_name: "killed".into(), sources, seed: Some(1), run_id: Some(run_id), shards: None };
    let c = ctx(&store);
    let ingest = chain::handle(&c, Phase::Ingest, &serde_json::to_string(&k).unwrap()).await.unwrap();
    let canon = ingest.next.unwrap();
    let h = chain::handle(&c, canon.phase, &serde_json::to_string(&canon).unwrap()).await.unwrap();
    store.start_phase(run_id, "transform").await.unwrap();
    let mut next = h.next;
    while let Some(msg) = next {
        next = chain::handle(&c, msg.phase, &serde_json::to_string(&msg).unwrap()).await.unwrap().next;
    }
    let names = |f: &Vec<(String, i64, String)>| f.iter().filter(|(n, ..)| n != "builds").cloned().collect::<Vec<_>>();
    let got = fingerprint(&store, run_id).await;
    assert_eq!(names(&got), names(&clean), "nothing lost or doubled");
    assert_eq!(store.run(run_id).await.unwrap().unwrap().status, "pass");
}

#[tokio::test]
async fn malformed_files_fail_the_run_with_a_reason() {
    let (store, _) = fresh_store().await;
    let dir = std::env::temp_dir().join(format!("exomaps-faults-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = std::fs::read(sample_sources().join("SIMBAD_sample.csv")).unwrap();
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let random: Vec<u8> = (0..64 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let header = "sys_id,sys_code,main_id,ids,otype_txt,otype_shortname,otype_longname,otypes,Average of ra,Average of dec,Average of dist\n";
    let mut giant = header.as_bytes().to_vec();
    giant.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
    giant.push(b'\n');
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("SIMBAD_random.csv", random, "missing required columns"),
        ("SIMBAD_truncated.csv", good[..40].to_vec(), "missing required columns"),
        ("SIMBAD_header.csv", b"name,ra,dec\nSirius,101.3,-16.7\n".to_vec(), "missing required columns"),
        ("SIMBAD_giant.csv", giant, "gate failed"),
        ("SIMBAD_empty.csv", Vec::new(), "empty"),
    ];
    for (name, bytes, reason) in cases {
        let path = dir.join(name);
        std::fs::write(&path, &bytes).unwrap();
        let k = KickMessage {
            run_name: name.into(),
            sources: vec![SourceSpec::file(Family::Simbad, &path)],
            seed: None,
            run_id: None,
            shards: None,
        };
        let report = run_chain(&ctx(&store), &k).await.unwrap();
        assert_eq!(report.status, "fail", "{name}");
        let why = report.failure_reason.unwrap_or_default();
        assert!(why.to_lowercase().contains(reason) && why.contains(name), "{name}: {why}");
        assert!(store.world_build_id_of_run(report.run_id).await.unwrap().is_none(), "{name}: no world build");
    }
    // A file cut in the middle of a row: the partial row is quarantined, the rest stands.
    let cut = good.len() - 25;
    let path = dir.join("SIMBAD_cut.csv");
    std::fs::write(&path, &good[..cut]).unwrap();
    let k = KickMessage {
        run_name: "cut".into(),
        sources: vec![SourceSpec::file(Family::Simbad, &path)],
        seed: None,
        run_id: None,
        shards: None,
    };
    let report = run_chain(&ctx(&store), &k).await.unwrap();
    let (codes,): (Vec<String>,) = sqlx::query_as(
        "SELECT array_agg(DISTINCT error_code ORDER BY error_code) FROM stg_data.validation_quarantine WHERE run_id = $1",
    )
    .bind(report.run_id)
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert!(codes.iter().any(|c| c == "MALFORMED_ROW" || c == "REQUIRED_NULL"), "{codes:?}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// The chain records every phase's end, the same way for each phase: a phase that rejects its
/// input is marked failed with the reason (not left `running`), and the run fails with it.
#[tokio::test]
async fn a_rejected_phase_is_recorded_failed_with_its_reason() {
    let (store, _) = fresh_store().await;
    let ctx = ctx(&store);
    let run_id = Uuid::new_v4();
    store.create_run(run_id, "no build", Some(1)).await.unwrap();
    let msg = chain::PhaseMessage { run_id, phase: Phase::Transform };
    let handled = chain::handle(&ctx, Phase::Transform, &serde_json::to_string(&msg).unwrap()).await.unwrap();
    assert_eq!((handled.outcome, handled.next), (None, None), "the chain stops");
    let run = store.run(run_id).await.unwrap().unwrap();
    assert_eq!(run.status, exomaps_store::runs::RunStatus::Fail);
    assert!(run.failure_reason.as_deref().unwrap().contains("no canonical build"), "{run:?}");
    let phases = store.run_phases(run_id).await.unwrap();
    assert_eq!(phases.len(), 1);
    assert_eq!((phases[0].phase.as_str(), phases[0].status), ("transform", exomaps_store::runs::PhaseStatus::Failed));
    assert_eq!(phases[0].error, run.failure_reason);
    // The next message for the failed run changes nothing.
    let msg = chain::PhaseMessage { run_id, phase: Phase::Infer };
    let later = chain::handle(&ctx, Phase::Infer, &serde_json::to_string(&msg).unwrap()).await.unwrap();
    assert_eq!(later.outcome, None);
    assert_eq!(store.run_phases(run_id).await.unwrap().len(), 1, "infer never started");
}

//! One run over the five source files: exact quarantine per file and reason (DOMAIN.md §4.3),
//! reference checks, placement, planets on the right hosts, and seeded inference.

use exomaps_domain::coords::Scope;
use exomaps_pipeline::chain::{KickMessage, Phase, PipelineContext};
use exomaps_pipeline::notify::Notifier;
use exomaps_pipeline::{Family, SourceSpec, run_chain};
use exomaps_tests::{fresh_store, gateway, get, real_sources};
use serde_json::Value;
use std::collections::BTreeMap;

const FILES: [&str; 5] = ["SIMBAD_01.csv", "SIMBAD_02.csv", "SIMBAD_03.csv", "EXOPLANETS_01.csv", "EXOPLANETS_01x.csv"];

async fn run(store: &exomaps_store::Store, dir: &std::path::Path, seed: i64) -> exomaps_pipeline::RunReport {
    let sources = FILES.iter().map(|f| SourceSpec::file(Family::from_file_name(f).unwrap(), dir.join(f))).collect();
    let ctx = PipelineContext {
        store: store.clone(),
        scope: Scope::default(),
        notifier: Notifier::silent(store.clone()),
        objects: None,
    };
    let kick = KickMessage {
        run_name: format!("five files seed {seed}"),
        sources,
        seed: Some(seed),
        run_id: None,
        shards: None,
    };
    run_chain(&ctx, &kick).await.unwrap()
}

#[tokio::test]
async fn five_files_become_one_world() {
    let Some(dir) = real_sources() else { return };
    let (store, _) = fresh_store().await;
    let report = run(&store, &dir, 42).await;
    assert_eq!(report.status, "pass", "{report:?}");

    // Quarantine records per file and reason.
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT source_name, error_code, count(*) FROM stg_data.validation_quarantine WHERE run_id = $1
         GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .bind(report.run_id)
    .fetch_all(store.pool())
    .await
    .unwrap();
    let mut got: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for (file, code, n) in rows {
        got.entry(file).or_default().insert(code, n);
    }
    let simbad_later =
        BTreeMap::from([("OUT_OF_RANGE".into(), 2), ("RA_LOOKS_LIKE_HOURS".into(), 3), ("REQUIRED_NULL".into(), 2)]);
    let want = BTreeMap::from([
        (
            "EXOPLANETS_01.csv".to_string(),
            BTreeMap::from([("DUPLICATE_IDENTITY".into(), 1), ("REQUIRED_NULL".into(), 35)]),
        ),
        (
            "EXOPLANETS_01x.csv".to_string(),
            BTreeMap::from([("DUPLICATE_IDENTITY".into(), 1), ("REQUIRED_NULL".into(), 29)]),
        ),
        (
            "SIMBAD_01.csv".to_string(),
            BTreeMap::from([
                ("OUT_OF_RANGE".into(), 2),
                ("RA_LOOKS_LIKE_HOURS".into(), 1),
                ("REQUIRED_NULL".into(), 2),
            ]),
        ),
        ("SIMBAD_02.csv".to_string(), simbad_later.clone()),
        ("SIMBAD_03.csv".to_string(), simbad_later),
    ]);
    assert_eq!(got, want);
    let accepted: Vec<(String, i32, i32)> = sqlx::query_as(
        "SELECT source_name, total_rows, accepted_rows FROM stg_data.validation_summary WHERE run_id = $1 ORDER BY 1",
    )
    .bind(report.run_id)
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(
        accepted,
        vec![
            ("EXOPLANETS_01.csv".into(), 6713, 6677),
            ("EXOPLANETS_01x.csv".into(), 6713, 6683),
            ("SIMBAD_01.csv".into(), 1582, 1579),
            ("SIMBAD_02.csv".into(), 1584, 1579),
            ("SIMBAD_03.csv".into(), 1584, 1579),
        ]
    );

    // One file per family: the newest.
    let canon = report.phase(Phase::Canonicalise).unwrap();
    assert_eq!(canon["selected_sources"]["SIMBAD"], "SIMBAD_03.csv");
    assert_eq!(canon["selected_sources"]["EXOPLANETS"], "EXOPLANETS_01x.csv");
    // The six reference distance checks pass.
    let refs: Vec<(String, String)> =
        sqlx::query_as("SELECT rule_key, status FROM stg_data.reference_results WHERE run_id = $1 ORDER BY 1")
            .bind(report.run_id)
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(refs.len(), 6);
    assert!(refs.iter().all(|(_, s)| s == "pass"), "{refs:?}");

    let t = report.phase(Phase::Transform).unwrap();
    assert!(t["in_scope"].as_u64().unwrap() >= 1500, "{t}");

    // Planets on the right hosts, through the API.
    let router = gateway(store.clone());
    for (alias, host, planets) in [
        ("V* V645 Cen", "Proxima Centauri", vec!["Proxima Centauri b", "Proxima Centauri c"]),
        ("Wolf  359", "Wolf 359", vec!["Wolf 359 b", "Wolf 359 c"]),
        ("* eps Eri", "* eps Eri", vec!["eps Eridani b"]),
        ("GJ 876", "", vec!["GJ 876 b", "GJ 876 c", "GJ 876 d", "GJ 876 e"]),
    ] {
        let uri = format!("/api/system/{}", alias.replace(' ', "%20"));
        let (status, _, body) = get(&router, &uri).await;
        assert_eq!(status, 200, "{alias}: {body}");
        if !host.is_empty() {
            assert_eq!(body["system"]["main_id"], host, "{alias}");
        }
        let observed: Vec<&str> = body["planets"]["observed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["planet_name"].as_str().unwrap())
            .collect();
        assert_eq!(observed, planets, "{alias}");
        let lineage = body["lineage"].as_array().unwrap();
        assert!(
            lineage.iter().any(|l| l["file_checksum_sha256"].as_str().is_some_and(|s| s.len() == 64)),
            "{alias}: lineage names a file and its checksum: {lineage:?}"
        );
    }
    let (_, _, sol) = get(&router, "/api/system/Sun").await;
    assert_eq!(sol["system"]["main_id"], "Sol");
    assert_eq!(sol["planets"]["observed"].as_array().unwrap().len(), 8, "Sol's planets are curated");
    assert!(sol["planets"]["inferred"].as_array().unwrap().is_empty(), "nothing is inferred for Sol");
    let (status, _, _) = get(&router, "/api/system/No%20Such%20Star").await;
    assert_eq!(status, 404);
    let (_, _, full) = get(&router, "/api/world/systems/full").await;
    let inferred: i64 =
        full["systems"].as_array().unwrap().iter().map(|s| s["inferred_planet_count"].as_i64().unwrap()).sum();
    assert!(inferred > 1000, "inferred planets on the map: {inferred}");

    // Inference: identical with the same seed, different with another.
    let again = run(&store, &dir, 42).await;
    let other = run(&store, &dir, 43).await;
    let sha = |r: &exomaps_pipeline::RunReport| {
        r.phase(Phase::Infer).unwrap()["inference_sha256"].as_str().unwrap().to_string()
    };
    assert_eq!(sha(&report), sha(&again), "same seed, same inference");
    assert_ne!(sha(&report), sha(&other), "another seed, another inference");
    let asset = |r: &exomaps_pipeline::RunReport| r.phase(Phase::Infer).unwrap()["asset_systems"].clone();
    assert_eq!(asset(&report), t["in_scope"]);
    let _: Value = asset(&other);
}

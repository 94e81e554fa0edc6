//! The first vertical slice against a real PostgreSQL: SIMBAD_01.csv through ingest and
//! transform into the database, and out of the world API with correct positions.

use exomaps_domain::coords::Scope;
use exomaps_pipeline::chain::{self, Phase};
use exomaps_pipeline::{Family, SourceSpec, run_pipeline};
use exomaps_tests::{fresh_store, gateway, get, real_sources};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

const LY_PER_PC: f64 = 3.26156;

/// Published J2000 positions (SIMBAD, degrees) of named stars, with the catalogue distance
/// the source file gives (pc). The expected XYZ is computed here, independently.
const NAMED: &[(&str, f64, f64, f64)] = &[
    ("* alf CMa B", 101.2885, -16.7172, 2.761566667),
    ("* tau Cet", 26.0170, -15.9375, 3.6033),
    ("* 61 Cyg A", 316.7248, 38.7494, 3.4896),
    ("HD 95735", 165.8341, 35.9699, 2.548),
    ("Ross 128", 176.9350, 0.8046, 3.3674),
    ("Wolf 359", 164.1201, 7.0147, 2.0),
];

/// Golden positions from the brief (DOMAIN.md §10.3), pc.
const GOLDEN: &[(&str, [f64; 3], f64)] = &[
    ("V* V645 Cen", [-0.4742, -0.3630, -1.1561], 4.244),
    ("NAME Barnard's star", [-0.0174, -1.8171, 0.1492], 5.947),
    ("* eps Eri", [1.8910, 2.5308, -0.5263], 10.446),
];

/// The canonical main_id of the star a SIMBAD identifier names (through the alias table).
async fn canonical_name(store: &exomaps_store::Store, alias: &str) -> String {
    sqlx::query_scalar(
        "SELECT s.main_id FROM dm_galaxy.star_aliases a JOIN dm_galaxy.stars s USING (star_id) WHERE a.alias_norm = $1",
    )
    .bind(exomaps_domain::names::alias_key(alias))
    .fetch_one(store.pool())
    .await
    .unwrap_or_else(|e| panic!("no star for alias {alias}: {e}"))
}

fn by_name(systems: &[Value]) -> BTreeMap<String, &Value> {
    systems.iter().map(|s| (s["main_id"].as_str().unwrap().to_string(), s)).collect()
}

#[tokio::test]
async fn simbad_01_is_quarantined_placed_and_served() {
    let Some(dir) = real_sources() else { return };
    let (store, _) = fresh_store().await;
    let path = dir.join("SIMBAD_01.csv");
    let spec = SourceSpec::file(Family::Simbad, &path);
    let report = run_pipeline(&store, "slice", &[spec], Scope::default()).await.expect("pipeline");
    assert_eq!(report.status, "pass", "{report:?}");
    let run_id = report.run_id;

    // Quarantine by reason (DOMAIN.md §4.3/§4.4 v2): SOL has blank RA/Dec (2 records),
    // Sholz's Star carries proper motions in RA/Dec (2), HIP116431 gives RA in hours (1).
    let by_code: Vec<(String, i64)> = sqlx::query_as(
        "SELECT error_code, count(*) FROM stg_data.validation_quarantine WHERE run_id = $1
         GROUP BY error_code ORDER BY error_code",
    )
    .bind(run_id)
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(
        by_code,
        vec![("OUT_OF_RANGE".into(), 2), ("RA_LOOKS_LIKE_HOURS".into(), 1), ("REQUIRED_NULL".into(), 2)]
    );
    let rows: Vec<(i32, String, Value)> = sqlx::query_as(
        "SELECT DISTINCT row_number, raw_record->>'main_id', raw_record FROM stg_data.validation_quarantine
         WHERE run_id = $1 ORDER BY row_number",
    )
    .bind(run_id)
    .fetch_all(store.pool())
    .await
    .unwrap();
    let lines: Vec<i32> = rows.iter().map(|r| r.0).collect();
    assert_eq!(lines, vec![2, 1582, 1583], "quarantined file lines (header = line 1)");
    assert_eq!(rows[2].2["average_of_ra"], "-40.3", "the raw row is kept as read");

    // Summary and manifest: counts, gate, and the file's real checksum.
    let (total, accepted, quarantined, gate): (i32, i32, i32, String) = sqlx::query_as(
        "SELECT total_rows, accepted_rows, quarantined_rows, gate_status FROM stg_data.validation_summary
         WHERE run_id = $1",
    )
    .bind(run_id)
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!((total, accepted, quarantined, gate.as_str()), (1582, 1579, 3, "pass"));
    let sha: String = sqlx::query_scalar("SELECT file_checksum_sha256 FROM stg_data.source_manifest WHERE run_id = $1")
        .bind(run_id)
        .fetch_one(store.pool())
        .await
        .unwrap();
    let expected: String = Sha256::digest(std::fs::read(&path).unwrap()).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(sha, expected);

    // Every accepted row is placed: each accepted SIMBAD line is the source of exactly one
    // placed star (its own, or a curated component it was merged into, DOMAIN.md §4.8).
    let placed_lines: Vec<(i64,)> = sqlx::query_as(
        "SELECT (src->>'line')::int8 FROM dm_galaxy.build_systems b
         JOIN dm_galaxy.world_builds w USING (world_build_id)
         JOIN dm_galaxy.stars_xyz x ON x.world_build_id = b.world_build_id AND x.star_id = b.star_id
         CROSS JOIN LATERAL json_array_elements(b.canon->'sources') AS src
         WHERE w.run_id = $1 AND src->>'provenance' = 'simbad' ORDER BY 1",
    )
    .bind(run_id)
    .fetch_all(store.pool())
    .await
    .unwrap();
    let accepted_lines: Vec<(i64,)> =
        sqlx::query_as("SELECT row_number::int8 FROM stg_data.stg_simbad_raw WHERE run_id = $1 ORDER BY 1")
            .bind(run_id)
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(accepted_lines.len(), 1579);
    assert_eq!(placed_lines, accepted_lines, "every accepted line placed exactly once");
    let curated: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM dm_galaxy.build_systems b JOIN dm_galaxy.world_builds w USING (world_build_id)
         WHERE w.run_id = $1 AND b.canon->>'provenance' = 'curated'",
    )
    .bind(run_id)
    .fetch_one(store.pool())
    .await
    .unwrap();
    let merged: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM dm_galaxy.build_systems b JOIN dm_galaxy.world_builds w USING (world_build_id)
         CROSS JOIN LATERAL json_array_elements(b.canon->'sources') AS src
         WHERE w.run_id = $1 AND b.canon->>'provenance' = 'curated' AND src->>'provenance' = 'simbad'",
    )
    .bind(run_id)
    .fetch_one(store.pool())
    .await
    .unwrap();

    // Out of the API: the SIMBAD stars that stand alone, plus every curated system.
    let router = gateway(store.clone());
    let (status, _, body) = get(&router, "/api/world/systems/xyz").await;
    assert_eq!(status, 200, "{body}");
    let expected_total = 1579 - merged + curated;
    assert_eq!(body["total_count"], expected_total, "{merged} rows merged into {curated} curated systems");
    assert_eq!(body["returned"], expected_total);
    let systems = body["systems"].as_array().unwrap();
    let named = by_name(systems);
    let proxima = canonical_name(&store, "V* V645 Cen").await;
    let sol = named["Sol"];
    assert_eq!((sol["x_pc"].as_f64(), sol["distance_ly"].as_f64()), (Some(0.0), Some(0.0)));
    assert_eq!(systems[0]["main_id"], "Sol", "nearest first");
    assert_eq!(systems[1]["main_id"], proxima.as_str());
    for (name, xyz, ly) in GOLDEN {
        let s = named[canonical_name(&store, name).await.as_str()];
        for (axis, want) in ["x_pc", "y_pc", "z_pc"].iter().zip(xyz) {
            let got = s[*axis].as_f64().unwrap();
            assert!((got - want).abs() <= 1e-4, "{name} {axis}: {got} vs {want}");
        }
        let got = s["distance_ly"].as_f64().unwrap();
        assert!((got - ly).abs() <= 1e-3, "{name} distance {got} ly vs {ly}");
    }
    for (name, ra, dec, d) in NAMED {
        let s = named.get(canonical_name(&store, name).await.as_str()).unwrap_or_else(|| panic!("{name} missing"));
        let (ra, dec) = (ra.to_radians(), dec.to_radians());
        let want = [d * dec.cos() * ra.cos(), d * dec.cos() * ra.sin(), d * dec.sin()];
        for (axis, want) in ["x_pc", "y_pc", "z_pc"].iter().zip(want) {
            let got = s[*axis].as_f64().unwrap();
            assert!((got - want).abs() <= 5e-4, "{name} {axis}: {got} vs {want}");
        }
        let got = s["distance_ly"].as_f64().unwrap();
        assert!((got - d * LY_PER_PC).abs() <= 1e-9, "{name} distance {got}");
        assert_eq!(s["source"], "observed");
    }
    // Anonymous callers are observer_guest: confidence_bound is redacted.
    assert!(systems.iter().all(|s| s.get("confidence_bound").is_none()));
    assert_eq!(body["persona"], "observer_guest");

    // A redelivered transform changes nothing (the chain finds the phase done).
    let msg = exomaps_pipeline::chain::PhaseMessage { run_id, phase: Phase::Transform };
    let ctx = exomaps_tests::silent_context(&store);
    let again = chain::handle(&ctx, Phase::Transform, &serde_json::to_string(&msg).unwrap()).await.unwrap();
    let again = again.outcome.unwrap();
    assert!(!again.executed(), "{again:?}");
    assert_eq!(again.to_json().unwrap()["executed"], false);
    let builds: i64 =
        sqlx::query_scalar("SELECT count(*) FROM dm_galaxy.world_builds").fetch_one(store.pool()).await.unwrap();
    assert_eq!(builds, 1);
}

#[tokio::test]
async fn a_second_run_replaces_the_active_build_atomically() {
    let Some(dir) = real_sources() else { return };
    let (store, _) = fresh_store().await;
    let spec = SourceSpec::file(Family::Simbad, dir.join("SIMBAD_01.csv"));
    let first = run_pipeline(&store, "a", std::slice::from_ref(&spec), Scope::default()).await.unwrap();
    // A narrower scope: fewer systems in scope, and the API follows the new build.
    let narrow = Scope { scope_ly: 20.0, margin_ly: 5.0 };
    let second = run_pipeline(&store, "b", &[spec], narrow).await.unwrap();
    assert_ne!(first.run_id, second.run_id);
    let t = second.phase(Phase::Transform).unwrap();
    assert_eq!(t["unplaced"], 0);
    let in_scope = t["in_scope"].as_u64().unwrap() as usize;
    assert!(in_scope > 0 && t["in_margin"].as_u64() > Some(0) && t["beyond"].as_u64() > Some(0), "{t}");
    let statuses: Vec<(String,)> = sqlx::query_as("SELECT status FROM dm_galaxy.world_builds ORDER BY world_build_id")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(statuses, vec![("archived".into(),), ("active".into(),)]);
    let router = gateway(store);
    let (_, _, body) = get(&router, "/api/world/systems?limit=5000").await;
    assert_eq!(body["total_count"].as_i64().unwrap() as usize, in_scope, "in-scope stars (Sol among them)");
    let far =
        body["systems"].as_array().unwrap().iter().map(|s| s["distance_ly"].as_f64().unwrap()).fold(0.0, f64::max);
    assert!(far <= 20.0, "farthest served system {far} ly is beyond the 20 ly scope");
}

#[tokio::test]
async fn a_bad_file_fails_the_run_with_a_reason_and_no_build() {
    let (store, _) = fresh_store().await;
    let dir = std::env::temp_dir().join(format!("exomaps-bad-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("SIMBAD_bad.csv");
    std::fs::write(&bad, "sys_id,main_id,ra\n1,Foo,12\n").unwrap();
    let report =
        run_pipeline(&store, "bad", &[SourceSpec::file(Family::Simbad, &bad)], Scope::default()).await.unwrap();
    assert_eq!(report.status, "fail");
    let reason = report.failure_reason.unwrap();
    assert!(reason.contains("average_of_dec") && reason.contains("SIMBAD_bad.csv"), "{reason}");
    let (status, failure): (String, Option<String>) =
        sqlx::query_as("SELECT status, failure_reason FROM stg_data.ingest_runs WHERE run_id = $1")
            .bind(report.run_id)
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!((status.as_str(), failure.as_deref()), ("fail", Some(reason.as_str())));
    let gate: String = sqlx::query_scalar("SELECT gate_status FROM stg_data.source_manifest WHERE run_id = $1")
        .bind(report.run_id)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(gate, "fail");
    let builds: i64 =
        sqlx::query_scalar("SELECT count(*) FROM dm_galaxy.world_builds").fetch_one(store.pool()).await.unwrap();
    assert_eq!(builds, 0);
    let missing = run_pipeline(
        &store,
        "gone",
        &[SourceSpec::file(Family::Simbad, dir.join("SIMBAD_none.csv"))],
        Scope::default(),
    )
    .await
    .unwrap();
    assert_eq!(missing.status, "fail");
    assert!(missing.failure_reason.unwrap().contains("cannot read source"));
    std::fs::remove_dir_all(dir).unwrap();
}

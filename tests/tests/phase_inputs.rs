//! Issue 15 item 2: transform and infer read typed inputs (`dm_galaxy.build_inputs`,
//! `dm_galaxy.build_planets`), never the canonical records. The typed inputs equal what the
//! canonical stars canonicalise computed give, exactly, and the build's inference and asset
//! digests equal what the former path (Phase 03 over `CanonStar`s) computes in the same test
//! from those stars. Migration 0009's backfill of older builds gives the same inputs.
//!
//! The canonical stars are recomputed here, in memory, from the run's staged rows by the same
//! domain call canonicalise makes: the JSON records in `build_systems.canon` are not an exact
//! reference (serde_json's default float parser may land 1 ULP off for 17-digit values such as
//! a parallax distance), while the typed float8 columns carry the computed values bit for bit.

use exomaps_domain::asset::{self, AssetSystem};
use exomaps_domain::build_input::{InferInput, PlaceInput};
use exomaps_domain::canon::{CanonConfig, CanonStar, Catalogues, canonicalise_with};
use exomaps_domain::coords::Scope;
use exomaps_domain::hex::{hex, sha256_hex};
use exomaps_domain::inference::{InferenceConfig, StarInput, infer_system};
use exomaps_domain::units::LY_PER_PC;
use exomaps_pipeline::chain::{KickMessage, Phase};
use exomaps_pipeline::{Family, SourceSpec, run_chain};
use exomaps_store::Store;
use exomaps_tests::{fresh_store, sample_sources, silent_context};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use uuid::Uuid;

const SEED: i64 = 11;

/// Every sample source: SIMBAD, exoplanets (observed planets), Hipparcos (Hp magnitudes,
/// parallaxes with σ), names (display names).
fn sample_specs() -> Vec<SourceSpec> {
    let dir = sample_sources();
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).collect();
    files.sort();
    files
        .iter()
        .filter_map(|f| Some(SourceSpec::file(Family::from_file_name(&f.file_name()?.to_string_lossy())?, f)))
        .collect()
}

/// The files of a run canonicalise picks, one per family.
struct Picked<'a> {
    simbad: &'a str,
    exoplanets: &'a str,
    hipparcos: Option<&'a str>,
    /// (star names, constellations).
    names: Option<(&'a str, &'a str)>,
}

const SAMPLE: Picked<'static> = Picked {
    simbad: "SIMBAD_sample.csv",
    exoplanets: "EXOPLANETS_sample.csv",
    hipparcos: Some("HIPPARCOS_sample.dat"),
    names: Some(("NAMES_starnames_sample.json", "NAMES_constellations_sample.json")),
};

/// The canonical stars of a run, recomputed from its staged rows as canonicalise computes
/// them, with their star ids, in the build's main_id order.
async fn canonical_stars(store: &Store, run_id: Uuid, build_id: i64, picked: &Picked<'_>) -> Vec<(i64, CanonStar)> {
    let simbad = store.staged_simbad_records(run_id, picked.simbad).await.unwrap();
    let exoplanets = store.staged_exoplanet_records(run_id, picked.exoplanets).await.unwrap();
    let scope = Scope::default();
    let reach_pc = (scope.scope_ly + scope.margin_ly) / LY_PER_PC;
    let hipparcos = match picked.hipparcos {
        Some(f) => store.staged_hipparcos_records(run_id, f, 1000.0 / reach_pc).await.unwrap(),
        None => Vec::new(),
    };
    let (star_names, constellations) = match picked.names {
        Some((n, c)) => {
            (store.staged_names(run_id, n).await.unwrap().0, store.staged_names(run_id, c).await.unwrap().1)
        }
        None => (Vec::new(), Vec::new()),
    };
    assert!(!simbad.is_empty() && !exoplanets.is_empty());
    assert_eq!(hipparcos.is_empty(), picked.hipparcos.is_none());
    let cat = Catalogues { hipparcos: &hipparcos, star_names: &star_names, constellations: &constellations };
    let mut stars: HashMap<String, CanonStar> = canonicalise_with(&simbad, &exoplanets, &cat, &CanonConfig::default())
        .stars
        .into_iter()
        .map(|s| (s.main_id.clone(), s))
        .collect();
    // The build's order (main_id in the database's collation) and star ids.
    let ids: Vec<(i64, String)> = sqlx::query_as(
        "SELECT star_id, main_id FROM dm_galaxy.build_systems WHERE world_build_id = $1 ORDER BY main_id",
    )
    .bind(build_id)
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(ids.len(), stars.len(), "the recomputed stars are the build's");
    ids.into_iter().map(|(id, main_id)| (id, stars.remove(&main_id).expect("a star of the build"))).collect()
}

/// (star_id → (in_scope, in_margin)) of a build's positions.
async fn reach(store: &Store, build_id: i64) -> HashMap<i64, (bool, bool)> {
    let rows: Vec<(i64, bool, bool)> =
        sqlx::query_as("SELECT star_id, in_scope, in_margin FROM dm_galaxy.stars_xyz WHERE world_build_id = $1")
            .bind(build_id)
            .fetch_all(store.pool())
            .await
            .unwrap();
    rows.into_iter().map(|(id, s, m)| (id, (s, m))).collect()
}

/// Phase 03 as it was computed before the typed inputs: from each placed star's canonical
/// record, in main_id order → (inference_sha256, asset_sha256).
fn former_digests(
    canon: &[(i64, CanonStar)],
    reach: &HashMap<i64, (bool, bool)>,
    build_id: i64,
    seed: i64,
) -> (String, String) {
    let cfg = InferenceConfig { world_seed: seed as u64 };
    let mut digest = Sha256::new();
    let mut systems = Vec::new();
    for (star_id, star) in canon {
        let Some(&(in_scope, in_margin)) = reach.get(star_id) else { continue };
        if !(in_scope || in_margin) {
            continue;
        }
        let inference = infer_system(&StarInput::from_canon(star), &cfg);
        let json = serde_json::to_value(&inference).unwrap_or_default();
        digest.update(star.main_id.as_bytes());
        digest.update(json.to_string().as_bytes());
        if in_scope && let Some(a) = AssetSystem::from_canon(star, Some(&inference)) {
            systems.push(a);
        }
    }
    systems.sort_by(|a, b| a.distance_ly.total_cmp(&b.distance_ly).then_with(|| a.main_id.cmp(&b.main_id)));
    let bytes = asset::bundle(&asset::encode(&systems, build_id as u64));
    (hex(&digest.finalize()), sha256_hex(&bytes))
}

/// The typed inputs of a build equal those of its canonical records (exactly: floats compared
/// bit for bit through `PartialEq`). Returns how many placed stars and observed planets it saw.
async fn assert_inputs_match(store: &Store, build_id: i64, canon: &[(i64, CanonStar)]) -> (usize, usize) {
    let reach = reach(store, build_id).await;
    let place: HashMap<i64, PlaceInput> = store.build_place_inputs(build_id).await.unwrap().into_iter().collect();
    assert_eq!(place.len(), canon.len(), "one place input per canonical star");
    for (id, s) in canon {
        assert_eq!(place.get(id), Some(&PlaceInput::from_canon(s)), "{}", s.main_id);
    }
    let placed = store.build_infer_inputs(build_id).await.unwrap();
    let want: Vec<&(i64, CanonStar)> =
        canon.iter().filter(|(id, _)| reach.get(id).is_some_and(|(s, m)| *s || *m)).collect();
    assert_eq!(placed.len(), want.len(), "the placed stars, no others");
    for (p, (id, s)) in placed.iter().zip(want) {
        assert_eq!(p.star_id, *id, "main_id order");
        assert_eq!(p.in_scope, reach[id].0, "{}", s.main_id);
        assert_eq!(p.input, InferInput::from_canon(s), "{}", s.main_id);
    }
    (placed.len(), placed.iter().map(|p| p.input.observed.len()).sum())
}

#[tokio::test]
async fn typed_inputs_give_the_build_the_canonical_records_gave() {
    let (store, _) = fresh_store().await;
    let kick = KickMessage {
        run_name: "typed inputs".into(),
        sources: sample_specs(),
        seed: Some(SEED),
        run_id: None,
        shards: None,
    };
    let report = run_chain(&silent_context(&store), &kick).await.unwrap();
    assert_eq!(report.status, "pass", "{report:?}");
    let build_id = store.world_build_id_of_run(report.run_id).await.unwrap().unwrap();
    let canon = canonical_stars(&store, report.run_id, build_id, &SAMPLE).await;

    let (placed, planets) = assert_inputs_match(&store, build_id, &canon).await;
    assert!(placed > 10, "the sample places its stars: {placed}");
    assert!(planets > 0, "the sample has observed planets on placed hosts");
    let inputs = store.build_infer_inputs(build_id).await.unwrap();
    assert!(inputs.iter().any(|p| p.input.curated), "Sol and the curated companions");
    assert!(inputs.iter().any(|p| p.input.hp_mag.is_some()), "Hipparcos magnitudes");
    assert!(inputs.iter().any(|p| p.input.display_name.is_some()), "display names");
    let place = store.build_place_inputs(build_id).await.unwrap();
    assert!(place.iter().any(|(_, p)| p.distance_uncertainty_pc.is_some()), "a parallax σ reaches transform");

    // Byte-identical to the former path, computed here from the decoded canonical records.
    let infer = report.phase(Phase::Infer).unwrap();
    let (inference_sha, asset_sha) = former_digests(&canon, &reach(&store, build_id).await, build_id, SEED);
    assert_eq!(infer["inference_sha256"], inference_sha.as_str());
    assert_eq!(infer["asset_sha256"], asset_sha.as_str());
    // The stored asset is the one digested, and each stored inference is the digested text.
    let (bytes, sha) = store.build_asset(build_id).await.unwrap().unwrap();
    assert_eq!((sha256_hex(&bytes), sha), (asset_sha.clone(), asset_sha));
    let cfg = InferenceConfig { world_seed: SEED as u64 };
    let sol = canon.iter().find(|(_, s)| s.main_id == "Sol").unwrap();
    let text = serde_json::to_value(infer_system(&StarInput::from_canon(&sol.1), &cfg)).unwrap().to_string();
    // Compared in the database (jsonb numbers are decimal-exact; a serde_json read back is not).
    let same: bool = sqlx::query_scalar(
        "SELECT inference::jsonb = $3::jsonb FROM dm_galaxy.build_systems WHERE world_build_id = $1 AND star_id = $2",
    )
    .bind(build_id)
    .bind(sol.0)
    .bind(&text)
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert!(same, "Sol's stored inference is the serialised one");
}

#[tokio::test]
async fn migration_0009_backfills_a_build_written_before_it() {
    let (store, _) = fresh_store().await;
    let kick = KickMessage {
        run_name: "backfill".into(),
        sources: sample_specs(),
        seed: Some(SEED),
        run_id: None,
        shards: None,
    };
    let report = run_chain(&silent_context(&store), &kick).await.unwrap();
    assert_eq!(report.status, "pass", "{report:?}");
    let build_id = store.world_build_id_of_run(report.run_id).await.unwrap().unwrap();
    let canon = canonical_stars(&store, report.run_id, build_id, &SAMPLE).await;

    // A build as written before 0009: canonical records only. Then the migration's backfill.
    let deleted = sqlx::query("DELETE FROM dm_galaxy.build_inputs WHERE world_build_id = $1")
        .bind(build_id)
        .execute(store.pool())
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(deleted as usize, canon.len());
    let planets: i64 =
        sqlx::query_scalar("SELECT count(*) FROM dm_galaxy.build_planets").fetch_one(store.pool()).await.unwrap();
    assert_eq!(planets, 0, "the planets went with their inputs");
    let migration = include_str!("../../migrations/0009_build_inputs.sql");
    let backfill = &migration[migration.find("INSERT INTO").expect("the migration backfills")..];
    // Since migration 0013 the canonical record is json: the backfill's one jsonb-only function
    // gets its json twin (everything else it uses reads both).
    let backfill = backfill.replace("jsonb_array_elements(b.canon", "json_array_elements(b.canon");
    sqlx::raw_sql(sqlx::AssertSqlSafe(backfill)).execute(store.pool()).await.unwrap();

    let (placed, planets) = assert_inputs_match(&store, build_id, &canon).await;
    assert!(placed > 10 && planets > 0, "{placed} placed, {planets} planets");
}

/// A build's rows are checked per statement (migration 0012), not per row: rows naming a star,
/// build or system that does not exist fail as the foreign keys did, keys are never moved by an
/// update, and deleting a star or a build deletes every row that names it.
#[tokio::test]
async fn build_rows_need_their_build_and_star_and_go_with_them() {
    let (store, _) = fresh_store().await;
    let kick =
        KickMessage { run_name: "refs".into(), sources: sample_specs(), seed: Some(SEED), run_id: None, shards: None };
    let report = run_chain(&silent_context(&store), &kick).await.unwrap();
    assert_eq!(report.status, "pass", "{report:?}");
    let build = store.world_build_id_of_run(report.run_id).await.unwrap().unwrap();
    let pool = store.pool();
    let count = |table: &'static str, filter: &'static str, id: i64| async move {
        let sql = format!("SELECT count(*) FROM dm_galaxy.{table} WHERE {filter} = $1");
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(pool).await.unwrap();
        n
    };
    let star: i64 = sqlx::query_scalar(
        "SELECT star_id FROM dm_galaxy.build_planets WHERE world_build_id = $1 ORDER BY star_id LIMIT 1",
    )
    .bind(build)
    .fetch_one(pool)
    .await
    .unwrap();
    let ghost: i64 =
        sqlx::query_scalar("SELECT max(star_id) + 1000 FROM dm_galaxy.stars").fetch_one(pool).await.unwrap();

    // Inserts naming a missing star, build or system fail whole with 23503.
    let bad = [
        (
            "INSERT INTO dm_galaxy.search_names (world_build_id, star_id, main_id, name, name_key, kind)
          SELECT $1, s, 'x', 'x', 'x', 1 FROM unnest(ARRAY[$2, $3]) AS s",
            build,
            [star, ghost],
        ),
        (
            "INSERT INTO dm_galaxy.search_names (world_build_id, star_id, main_id, name, name_key, kind)
          SELECT $1 + 1000, s, 'x', 'x', 'x', 1 FROM unnest(ARRAY[$2, $3]) AS s",
            build,
            [star, star],
        ),
        (
            "INSERT INTO dm_galaxy.star_aliases (alias_norm, alias, star_id)
          SELECT 'ghost ' || s || $1, 'ghost', s FROM unnest(ARRAY[$2, $3]) AS s",
            build,
            [star, ghost],
        ),
        (
            "INSERT INTO dm_galaxy.build_planets (world_build_id, star_id, ordinal, planet_name)
          SELECT $1, s, 99, 'ghost b' FROM unnest(ARRAY[$2, $3]) AS s",
            build,
            [star, ghost],
        ),
    ];
    for (sql, b, [s1, s2]) in bad {
        let err = sqlx::query(sql).bind(b).bind(s1).bind(s2).execute(pool).await.unwrap_err();
        let db = err.as_database_error().expect("a database error");
        assert_eq!(db.code().as_deref(), Some("23503"), "{sql}: {db}");
    }
    // An alias moved to a missing star fails; to an existing one it moves.
    let moved = "UPDATE dm_galaxy.star_aliases SET star_id = $1 WHERE alias_norm =
                     (SELECT min(alias_norm) FROM dm_galaxy.star_aliases WHERE star_id <> $2)";
    let err = sqlx::query(moved).bind(ghost).bind(star).execute(pool).await.unwrap_err();
    assert_eq!(err.as_database_error().unwrap().code().as_deref(), Some("23503"));
    sqlx::query(moved).bind(star).bind(star).execute(pool).await.unwrap();
    // Keys are not updated; other columns are.
    let err = sqlx::query("UPDATE dm_galaxy.build_systems SET star_id = $2 WHERE world_build_id = $1 AND star_id = $3")
        .bind(build)
        .bind(ghost)
        .bind(star)
        .execute(pool)
        .await
        .unwrap_err();
    assert_eq!(err.as_database_error().unwrap().code().as_deref(), Some("23503"));
    sqlx::query("UPDATE dm_galaxy.build_systems SET observed_planets = observed_planets WHERE world_build_id = $1")
        .bind(build)
        .execute(pool)
        .await
        .unwrap();

    // Deleting a star deletes its rows everywhere.
    let tables = ["search_names", "stars_xyz", "build_systems", "build_inputs", "build_planets", "star_aliases"];
    for t in tables {
        assert!(count(t, "star_id", star).await > 0, "{t} has rows of star {star}");
    }
    sqlx::query("DELETE FROM dm_galaxy.stars WHERE star_id = $1").bind(star).execute(pool).await.unwrap();
    for t in tables {
        assert_eq!(count(t, "star_id", star).await, 0, "{t} kept rows of deleted star {star}");
    }
    // Deleting the build (with its run) deletes every row of the build.
    let build_tables = &tables[..5];
    for t in build_tables {
        assert!(count(t, "world_build_id", build).await > 0, "{t} has rows of build {build}");
    }
    sqlx::query("DELETE FROM stg_data.ingest_runs WHERE run_id = $1").bind(report.run_id).execute(pool).await.unwrap();
    for t in build_tables {
        assert_eq!(count(t, "world_build_id", build).await, 0, "{t} kept rows of deleted build {build}");
    }
}

/// The same over the real source files (skipped without them, as every real-file test): the
/// newest SIMBAD and exoplanet files, thousands of stars and planets.
#[tokio::test]
async fn the_real_neighbourhood_is_the_build_the_canonical_records_gave() {
    let Some(dir) = exomaps_tests::real_sources() else { return };
    let (store, _) = fresh_store().await;
    let files = ["SIMBAD_03.csv", "EXOPLANETS_01x.csv"];
    let sources = files.iter().map(|f| SourceSpec::file(Family::from_file_name(f).unwrap(), dir.join(f))).collect();
    let kick =
        KickMessage { run_name: "typed inputs, real".into(), sources, seed: Some(SEED), run_id: None, shards: None };
    let report = run_chain(&silent_context(&store), &kick).await.unwrap();
    assert_eq!(report.status, "pass", "{report:?}");
    let build_id = store.world_build_id_of_run(report.run_id).await.unwrap().unwrap();
    let picked = Picked { simbad: files[0], exoplanets: files[1], hipparcos: None, names: None };
    let canon = canonical_stars(&store, report.run_id, build_id, &picked).await;
    let (placed, planets) = assert_inputs_match(&store, build_id, &canon).await;
    assert!(placed > 1000 && planets > 100, "{placed} placed, {planets} planets");
    let infer = report.phase(Phase::Infer).unwrap();
    let (inference_sha, asset_sha) = former_digests(&canon, &reach(&store, build_id).await, build_id, SEED);
    assert_eq!(infer["inference_sha256"], inference_sha.as_str());
    assert_eq!(infer["asset_sha256"], asset_sha.as_str());
}

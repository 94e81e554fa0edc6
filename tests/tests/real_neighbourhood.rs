//! The whole neighbourhood through the real pipeline (issue 12): SIMBAD_03, EXOPLANETS_01x,
//! Hipparcos 2 and the star names. Every Hipparcos 2 star with a parallax ≥ 32.6156 mas is in
//! the world build (its own system or merged with a recorded reason); the ten names resolve
//! through `/api/system/{name}` and `/api/search`; the lineage of a Hipparcos-only star names
//! hip2.dat, its line and checksum; the asset's size per system. Skips when the real files or
//! the fetched catalogues are absent (fails under CI=true).

use exomaps_domain::asset;
use exomaps_domain::coords::Scope;
use exomaps_pipeline::{Family, SourceSpec, run_pipeline};
use exomaps_tests::{fresh_store, gateway, get, real_sources};
use std::collections::HashSet;
use std::path::PathBuf;

fn catalogues() -> Option<PathBuf> {
    let dir = std::env::var_os("EXOMAPS_CATALOGUES")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.exomaps/catalogues"));
    if dir.join("hip2.dat").is_file() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("catalogues not found in {} (run data/fetch-catalogues)", dir.display());
    }
    eprintln!("skipping: catalogues not found in {} (run data/fetch-catalogues)", dir.display());
    None
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn gzip_len(bytes: &[u8]) -> usize {
    use std::io::Write;
    let mut child = std::process::Command::new("gzip")
        .arg("-9c")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gzip");
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    child.wait_with_output().unwrap().stdout.len()
}

#[tokio::test]
async fn the_real_neighbourhood() {
    let (Some(src), Some(cat)) = (real_sources(), catalogues()) else { return };
    let (store, _) = fresh_store().await;
    let specs = vec![
        SourceSpec::file(Family::Simbad, src.join("SIMBAD_03.csv")),
        SourceSpec::file(Family::Exoplanets, src.join("EXOPLANETS_01x.csv")),
        SourceSpec::file(Family::Hipparcos, cat.join("hip2.dat")),
        SourceSpec::file(Family::Names, cat.join("starnames.json")),
        SourceSpec::file(Family::Names, cat.join("constellations.json")),
    ];
    let t = std::time::Instant::now();
    let report = run_pipeline(&store, "real", &specs, Scope::default()).await.unwrap();
    eprintln!("pipeline {:.1} s: {:#?}", t.elapsed().as_secs_f64(), report.phases);
    assert!(report.status == "pass" || report.status == "warn", "{report:?}");
    let canon = report.phase(exomaps_pipeline::chain::Phase::Canonicalise).unwrap();
    assert_eq!(canon["reference_status"], "pass", "{canon}");

    // Every Hipparcos 2 star within 100 ly is a source of some system of the build.
    let hip = exomaps_domain::catalogue::hipparcos::parse(&std::fs::read(cat.join("hip2.dat")).unwrap()).unwrap();
    let within: Vec<u32> = hip.accepted.iter().filter(|h| h.plx_mas >= 32.6156).map(|h| h.hip).collect();
    assert_eq!(within.len(), 2464);
    let build = store.active_world_build().await.unwrap().unwrap();
    let stars = store.build_canon(build.world_build_id).await.unwrap();
    let mut placed = HashSet::new();
    let (mut merged, mut new) = (0, 0);
    for (_, s) in &stars {
        for src in s.sources.iter().filter(|x| x.provenance == exomaps_domain::canon::Provenance::Hipparcos) {
            placed.insert(src.object_id.clone());
            if src.matched_by.is_some() {
                merged += 1;
            } else {
                new += 1;
            }
        }
    }
    for h in &within {
        assert!(placed.contains(&format!("HIP {h}")), "HIP {h} is not in the build");
    }
    eprintln!("systems {}, Hipparcos sources merged {merged}, new {new}", stars.len());

    let r = gateway(store.clone());
    for name in [
        "Vega",
        "Altair",
        "Arcturus",
        "Tau Ceti",
        "Epsilon Eridani",
        "61 Cygni",
        "Alpha Centauri",
        "Sirius",
        "Procyon",
        "Gliese 581",
    ] {
        let (status, _, body) = get(&r, &format!("/api/system/{}", enc(name))).await;
        assert_eq!(status, 200, "{name}: {body}");
        let (_, _, found) = get(&r, &format!("/api/search?q={}", enc(name))).await;
        assert_eq!(found["results"][0]["main_id"], body["system"]["main_id"], "{name}: {found}");
    }
    let (_, _, typo) = get(&r, "/api/search?q=Vgea").await;
    let (_, _, vega) = get(&r, "/api/system/Vega").await;
    assert_eq!(typo["results"][0]["main_id"], vega["system"]["main_id"], "{typo}");

    // A Hipparcos-only star's lineage: hip2.dat, its line, its checksum.
    let (_, _, altair) = get(&r, "/api/system/Altair").await;
    assert_eq!(altair["system"]["main_id"], "HIP 97649", "{altair}");
    let l = altair["lineage"].as_array().unwrap().iter().find(|l| l["provenance"] == "hipparcos").unwrap().clone();
    assert_eq!(l["source_name"], "hip2.dat");
    assert_eq!(l["file_checksum_sha256"], "c45d6325bd59dd691764af173a9702e543804a2b6c1d9fea59210e8332e50a4a");
    let line = l["row_number"].as_u64().unwrap() as usize;
    let text = std::fs::read_to_string(cat.join("hip2.dat")).unwrap();
    assert!(text.lines().nth(line - 1).unwrap().starts_with(" 97649"));

    // The map asset: size per system, the map part (first paint) and the names part.
    let (bytes, _) = store.build_asset(build.world_build_id).await.unwrap().unwrap();
    let (map, names) = asset::split_bundle(&bytes).unwrap();
    let decoded = asset::decode(map, Some(names)).unwrap();
    let n = decoded.systems.len();
    let per = |b: usize| b as f64 / n as f64;
    let (gz_map, gz_names) = (gzip_len(map), gzip_len(names));
    eprintln!(
        "asset: {n} systems; map part {} bytes ({:.2}/system), gzip {gz_map} ({:.2}/system); names part {} bytes ({:.2}/system), gzip {gz_names} ({:.2}/system)",
        map.len(),
        per(map.len()),
        per(gz_map),
        names.len(),
        per(names.len()),
        per(gz_names),
    );
    assert!(per(gz_map) <= 12.0, "first-paint part {:.2} bytes per system gzipped", per(gz_map));
    // Bright stars look bright: Sirius, Vega and Arcturus far brighter than Proxima and Barnard's Star.
    let mag = |id: &str| {
        let s = decoded.systems.iter().find(|s| s.main_id == id).unwrap_or_else(|| panic!("{id} on the map"));
        asset::abs_mag_of(s.abs_mag).unwrap_or_else(|| panic!("{id} has a magnitude"))
    };
    for (bright, faint) in
        [("Sirius", "Proxima Centauri"), ("Vega", "Barnard's Star"), ("Arcturus", "Proxima Centauri")]
    {
        let (_, _, b) = get(&r, &format!("/api/system/{}", enc(bright))).await;
        let (_, _, f) = get(&r, &format!("/api/system/{}", enc(faint))).await;
        let (b, f) = (
            b["system"]["main_id"].as_str().unwrap().to_string(),
            f["system"]["main_id"].as_str().unwrap().to_string(),
        );
        assert!(mag(&b) + 8.0 < mag(&f), "{bright} ({b}) {} vs {faint} ({f}) {}", mag(&b), mag(&f));
    }
    assert!(n >= 3500, "{n} systems");
}

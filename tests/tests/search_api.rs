//! Names and search (issue 12) on the sample sources, every family (SIMBAD, EXOPLANETS,
//! HIPPARCOS, NAMES): the ten names through `GET /api/system/{name}` and `GET /api/search`,
//! typos and spelling, bad input, the lineage of a Hipparcos-only star, distance precedence.

use exomaps_domain::coords::Scope;
use exomaps_pipeline::{Family, SourceSpec, run_pipeline};
use exomaps_tests::{fresh_store, gateway, get, sample_sources};
use sha2::{Digest, Sha256};

const FILES: [(Family, &str); 5] = [
    (Family::Simbad, "SIMBAD_sample.csv"),
    (Family::Exoplanets, "EXOPLANETS_sample.csv"),
    (Family::Hipparcos, "HIPPARCOS_sample.dat"),
    (Family::Names, "NAMES_starnames_sample.json"),
    (Family::Names, "NAMES_constellations_sample.json"),
];

async fn router() -> axum::Router {
    let (store, _) = fresh_store().await;
    let specs: Vec<SourceSpec> = FILES.iter().map(|(f, n)| SourceSpec::file(*f, sample_sources().join(n))).collect();
    let report = run_pipeline(&store, "names", &specs, Scope::default()).await.unwrap();
    assert_eq!(report.status, "pass", "{report:?}");
    gateway(store)
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The ten names of the issue, and a name of the same star in a catalogue's spelling.
const TEN: [(&str, &str); 10] = [
    ("Vega", "HIP 91262"),
    ("Altair", "HIP 97649"),
    ("Arcturus", "HIP 69673"),
    ("Tau Ceti", "tau Cet"),
    ("Epsilon Eridani", "eps Eri"),
    ("61 Cygni", "61 Cyg A"),
    ("Alpha Centauri", "Alpha Centauri A"),
    ("Sirius", "HIP 32349"),
    ("Procyon", "HIP 37279"),
    ("Gliese 581", "GJ 581"),
];

#[tokio::test]
async fn the_ten_names_resolve_and_are_found() {
    let r = router().await;
    for (name, same_as) in TEN {
        let (status, _, body) = get(&r, &format!("/api/system/{}", enc(name))).await;
        assert_eq!(status, 200, "{name}: {body}");
        let (status, _, other) = get(&r, &format!("/api/system/{}", enc(same_as))).await;
        assert_eq!(status, 200, "{same_as}: {other}");
        assert_eq!(body["system"]["main_id"], other["system"]["main_id"], "{name} ⇄ {same_as}");

        let (status, _, found) = get(&r, &format!("/api/search?q={}", enc(name))).await;
        assert_eq!(status, 200, "{found}");
        assert_eq!(found["results"][0]["main_id"], body["system"]["main_id"], "search {name}: {found}");
        assert_eq!(found["results"][0]["match"], "exact", "{name}: {found}");
    }
    // Other spellings and languages.
    for (q, name) in [("τ Ceti", "Tau Ceti"), ("ベガ", "Vega"), ("Вега", "Vega"), ("alpha cen", "Alpha Centauri")]
    {
        let (_, _, a) = get(&r, &format!("/api/system/{}", enc(q))).await;
        let (_, _, b) = get(&r, &format!("/api/system/{}", enc(name))).await;
        assert_eq!(a["system"]["main_id"], b["system"]["main_id"], "{q}: {a}");
    }
}

#[tokio::test]
async fn search_ranks_exact_prefix_fuzzy_and_forgives_typos() {
    let r = router().await;
    let (_, _, vega) = get(&r, "/api/system/Vega").await;
    let vega_id = vega["system"]["main_id"].clone();
    let (_, _, typo) = get(&r, "/api/search?q=Vgea").await;
    assert_eq!(typo["results"][0]["main_id"], vega_id, "{typo}");
    assert_eq!(typo["results"][0]["match"], "fuzzy");
    let (_, _, barnard) = get(&r, "/api/search?q=barnards%20star").await;
    assert_eq!(barnard["results"][0]["display_name"], "Barnard's Star", "{barnard}");
    assert_eq!(barnard["results"][0]["match"], "exact");
    let (_, _, prefix) = get(&r, "/api/search?q=Arct&limit=3").await;
    assert_eq!(prefix["results"][0]["display_name"], "Arcturus", "{prefix}");
    assert_eq!(prefix["results"][0]["match"], "prefix");
    assert!(prefix["results"].as_array().unwrap().len() <= 3);
    // One result per system, even when several of its names match.
    let (_, _, many) = get(&r, "/api/search?q=61%20Cyg&limit=50").await;
    let ids: Vec<&str> = many["results"].as_array().unwrap().iter().map(|x| x["main_id"].as_str().unwrap()).collect();
    let unique: std::collections::HashSet<&&str> = ids.iter().collect();
    assert_eq!(ids.len(), unique.len(), "{many}");
    let (_, _, none) = get(&r, "/api/search?q=zzzzzzzzzzzz").await;
    assert_eq!(none["results"], serde_json::json!([]));

    for bad in ["/api/search", "/api/search?q=", "/api/search?q=vega&limit=0", "/api/search?q=vega&limit=x"] {
        let (status, _, body) = get(&r, bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["error"], "bad_request");
    }
    let long = "a".repeat(101);
    let (status, _, _) = get(&r, &format!("/api/search?q={long}")).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn hipparcos_lineage_and_distances_with_their_sources() {
    let r = router().await;
    let (status, _, altair) = get(&r, "/api/system/Altair").await;
    assert_eq!(status, 200, "{altair}");
    assert_eq!(altair["system"]["main_id"], "HIP 97649");
    assert_eq!(altair["system"]["display_name"], "Altair");
    assert_eq!(altair["system"]["distance_source"], "parallax");
    let lineage = altair["lineage"].as_array().unwrap();
    let hip = lineage.iter().find(|l| l["provenance"] == "hipparcos").unwrap();
    assert_eq!(hip["source_name"], "HIPPARCOS_sample.dat");
    let bytes = std::fs::read(sample_sources().join("HIPPARCOS_sample.dat")).unwrap();
    let sha: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hip["file_checksum_sha256"], sha);
    let line = hip["row_number"].as_u64().unwrap() as usize;
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.lines().nth(line - 1).unwrap().starts_with(" 97649"), "line {line}");
    assert!(
        lineage.iter().any(|l| l["provenance"] == "star_names" && l["source_name"] == "NAMES_starnames_sample.json")
    );

    // Tau Ceti: SIMBAD's averaged distance and Hipparcos 2's parallax; the parallax is adopted.
    let (_, _, tau) = get(&r, "/api/system/tau%20Cet").await;
    let d = tau["distances"].as_array().unwrap();
    assert_eq!(d[0]["provenance"], "hipparcos", "{tau}");
    assert!(d[0]["uncertainty_pc"].as_f64().unwrap() > 0.0);
    assert!(d.iter().any(|m| m["provenance"] == "simbad"), "{tau}");
    assert_eq!(tau["system"]["distance_source"], "parallax");
    assert!(tau["aliases"].as_array().unwrap().iter().any(|a| a == "Tau Ceti"));
}

#[tokio::test]
async fn gzipped_sources_are_ingested_with_the_checksum_of_the_stored_bytes() {
    let dir = std::env::temp_dir().join(format!("exomaps-gz-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let plain = std::fs::read(sample_sources().join("SIMBAD_sample.csv")).unwrap();
    let gz =
        std::process::Command::new("gzip").arg("-c").arg(sample_sources().join("SIMBAD_sample.csv")).output().unwrap();
    assert!(gz.status.success());
    std::fs::write(dir.join("SIMBAD_sample.csv.gz"), &gz.stdout).unwrap();
    std::fs::write(dir.join("SIMBAD_bad.csv.gz"), b"not gzip at all").unwrap();
    let (store, _) = fresh_store().await;
    let spec = SourceSpec::file(Family::Simbad, dir.join("SIMBAD_sample.csv.gz"));
    let report = run_pipeline(&store, "gz", &[spec], Scope::default()).await.unwrap();
    assert_eq!(report.status, "pass", "{report:?}");
    let manifest = store.run_manifest(report.run_id).await.unwrap();
    let sha: String = Sha256::digest(&gz.stdout).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(manifest[0].file_checksum_sha256, sha);
    assert_eq!(manifest[0].row_count as usize, plain.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count() - 1);
    // A file that is not gzip fails its run with the reason, recorded in the manifest.
    let bad = SourceSpec::file(Family::Simbad, dir.join("SIMBAD_bad.csv.gz"));
    let report = run_pipeline(&store, "bad-gz", &[bad], Scope::default()).await.unwrap();
    assert_eq!(report.status, "fail");
    assert!(report.failure_reason.unwrap_or_default().contains("gzip"));
    std::fs::remove_dir_all(&dir).ok();
}

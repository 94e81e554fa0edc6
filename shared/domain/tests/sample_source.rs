//! The committed sample `sample/sources/SIMBAD_sample.csv` (SIMBAD_01 layout, written from
//! published values) parses with exactly the quarantine designed into it.

use exomaps_domain::catalogue::contract::{GateConfig, GateStatus, NoteCode, ReasonCode};
use exomaps_domain::catalogue::simbad::{self, SimbadBatch, SimbadRecord};
use exomaps_domain::units::pc_to_ly;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const HEADER: &str = "\u{FEFF}sys_id,sys_code,main_id,ids,otype_txt,otype_shortname,otype_longname,otypes,Average of ra,Average of dec,Average of dist\n";

fn sample_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample/sources/SIMBAD_sample.csv")
}

fn sample() -> (Vec<u8>, SimbadBatch) {
    let bytes = std::fs::read(sample_path()).expect("sample file");
    let batch = simbad::parse(&bytes).expect("sample parses");
    (bytes, batch)
}

fn star<'a>(b: &'a SimbadBatch, main_id: &str) -> &'a SimbadRecord {
    b.accepted.iter().find(|r| r.main_id == main_id).unwrap_or_else(|| panic!("{main_id} not accepted"))
}

#[test]
fn sample_has_the_simbad_01_layout() {
    let (bytes, _) = sample();
    assert!(bytes.starts_with(HEADER.as_bytes()));
    assert!(!bytes.contains(&b'\r'));
    // Same header bytes as the real file, when it is available.
    let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/sources/SIMBAD_01.csv");
    if let Ok(real) = std::fs::read(real) {
        assert!(real.starts_with(HEADER.as_bytes()));
    }
}

#[test]
fn sample_quarantine_is_exactly_as_designed() {
    let (_, b) = sample();
    assert_eq!(b.total_rows, 19);
    assert_eq!(b.accepted.len(), 16);
    let q: Vec<(u32, Vec<(ReasonCode, &str)>)> = b
        .quarantined
        .iter()
        .map(|q| (q.line, q.issues.iter().map(|i| (i.code, i.column.as_str())).collect()))
        .collect();
    assert_eq!(
        q,
        [
            // SOL: no coordinates.
            (2, vec![(ReasonCode::RequiredNull, "average_of_ra"), (ReasonCode::RequiredNull, "average_of_dec")]),
            // Vega appended with RA in hours (18h 36m 56s).
            (19, vec![(ReasonCode::RaLooksLikeHours, "average_of_ra")]),
            // Kapteyn's Star appended with its proper motions (mas/yr) as RA/Dec.
            (20, vec![(ReasonCode::OutOfRange, "average_of_ra"), (ReasonCode::OutOfRange, "average_of_dec")]),
        ]
    );
    assert_eq!(
        b.issue_counts(),
        BTreeMap::from([(ReasonCode::RequiredNull, 2), (ReasonCode::OutOfRange, 2), (ReasonCode::RaLooksLikeHours, 1)])
    );
    assert_eq!(b.duplicate_rows, 0);
    assert_eq!(b.gate(&GateConfig::default()), GateStatus::Pass); // 3/19 < 20%
    assert_eq!(
        b.note_counts(),
        BTreeMap::from([
            (NoteCode::WhitespaceNormalised, 15),
            (NoteCode::SpectralTypeFromOtypes, 1),
            (NoteCode::NonAsciiNormalised, 1)
        ])
    );
}

#[test]
fn sample_rows_are_typed_and_repaired() {
    let (_, b) = sample();
    let proxima = star(&b, "V* V645 Cen");
    assert_eq!((proxima.ra_deg, proxima.dec_deg, proxima.dist_pc), (217.428938, -62.67949189, Some(1.3012)));
    assert_eq!(proxima.sys_code.as_deref(), Some("ALCENT"));
    assert!(proxima.ids.iter().any(|i| i == "GJ 551"));
    let wolf = star(&b, "Wolf 359");
    assert!(wolf.main_id_raw.starts_with("Wolf  359 "));
    assert_eq!(wolf.notes[0].code, NoteCode::WhitespaceNormalised);
    let lacaille = star(&b, "HD 217987");
    assert!(lacaille.ids.iter().any(|i| i == "CD-36 15693"));
    assert!(lacaille.notes.iter().any(|n| n.code == NoteCode::NonAsciiNormalised));
    let luyten = star(&b, "Luyten's Star");
    assert_eq!(luyten.spectral_type.as_deref(), Some("M3.5V"));
    assert!(luyten.otypes.is_empty() && luyten.otype_txt.is_none());
    assert_eq!(luyten.notes[0].code, NoteCode::SpectralTypeFromOtypes);
    let cyg_a = star(&b, "* 61 Cyg A");
    assert!(cyg_a.ids.iter().any(|i| i == "WDS J21069+3845A,B")); // quoted cell with a comma
    assert_eq!(cyg_a.sys_code, star(&b, "* 61 Cyg B").sys_code);

    let multiple: Vec<&str> = b.accepted.iter().filter(|r| r.multiplicity == 2).map(|r| r.main_id.as_str()).collect();
    assert_eq!(multiple, ["V* V645 Cen", "* alf CMa B", "V* BL Cet", "* 61 Cyg A", "* 61 Cyg B", "* alf CMi B"]);
}

#[test]
fn sample_distances_match_published_values() {
    let (_, b) = sample();
    // (main_id, expected ly, tolerance ly) — published parallax distances.
    let expected = [
        ("V* V645 Cen", 4.244, 0.01),
        ("NAME Barnard's star", 5.947, 0.01),
        ("Wolf 359", 7.856, 0.01),
        ("HD 95735", 8.304, 0.01),
        ("* alf CMa B", 8.60, 0.05),
        ("V* HH And", 10.306, 0.01),
        ("* eps Eri", 10.446, 0.01),
        ("HD 217987", 10.724, 0.01),
        ("* 61 Cyg A", 11.404, 0.01),
        ("* 61 Cyg B", 11.404, 0.01),
        ("* alf CMi B", 11.46, 0.05),
        ("* tau Cet", 11.912, 0.01),
    ];
    for (id, ly, tol) in expected {
        let d = pc_to_ly(star(&b, id).dist_pc.unwrap());
        assert!((d - ly).abs() <= tol, "{id}: {d} ly vs {ly}");
    }
    // Rows are ordered by distance, like the real list.
    let dists: Vec<f64> = b.accepted.iter().filter(|r| r.otype_txt.is_some()).map(|r| r.dist_pc.unwrap()).collect();
    assert!(dists.windows(2).all(|w| w[0] <= w[1] + 1e-3), "{dists:?}");
}

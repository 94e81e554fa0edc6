//! The SIMBAD contract against the real source files (`SIMBAD_01..03.csv`).
//!
//! The files live outside the repository: `$EXOMAPS_SOURCES`, or by default
//! `<CARGO_MANIFEST_DIR>/../../../shared/data/sources`. When the directory is missing the tests
//! print a skip message and pass — unless `CI=true`, where a missing directory is a failure.
//! They only read the files; nothing derived from them is written anywhere.

mod common;

use exomaps_domain::catalogue::contract::{GateConfig, GateStatus, NoteCode, ReasonCode};
use exomaps_domain::catalogue::simbad::{self, MULTIPLICITY_OTYPES, SimbadBatch};
use exomaps_domain::names::normalise_id;
use std::collections::{BTreeMap, HashSet};

/// Raw bytes and parsed batch of one file, or `None` when the sources are unavailable.
fn load(name: &str) -> Option<(Vec<u8>, SimbadBatch)> {
    let bytes = common::read(name)?;
    let batch = simbad::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    Some((bytes, batch))
}

/// (line, [(code, column)]) for every quarantined row.
fn quarantine(b: &SimbadBatch) -> Vec<(u32, Vec<(ReasonCode, String)>)> {
    b.quarantined.iter().map(|q| (q.line, q.issues.iter().map(|i| (i.code, i.column.clone())).collect())).collect()
}

fn issue(code: ReasonCode, column: &str) -> (ReasonCode, String) {
    (code, column.to_string())
}

fn raw_cell<'a>(b: &'a SimbadBatch, line: u32, column: &str) -> &'a str {
    let q = b.quarantined.iter().find(|q| q.line == line).expect("quarantined line");
    &q.raw.iter().find(|(c, _)| c == column).expect("column").1
}

/// Independent multiplicity computation straight from the CSV: for every data row (by line),
/// whether its `otypes` cell carries a multiplicity token.
fn multiplicity_by_line(bytes: &[u8]) -> BTreeMap<u32, bool> {
    let text = std::str::from_utf8(bytes).unwrap();
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let otypes = rdr.headers().unwrap().iter().position(|h| h == "otypes").unwrap();
    rdr.records()
        .enumerate()
        .map(|(i, rec)| {
            let rec = rec.unwrap();
            let multiple = rec[otypes].split('|').any(|t| MULTIPLICITY_OTYPES.contains(&t.trim()));
            (i as u32 + 2, multiple) // no multi-line cells in these files: line = index + 2
        })
        .collect()
}

/// Checks every file must satisfy.
fn common_checks(name: &str, bytes: &[u8], b: &SimbadBatch) {
    assert_eq!(b.total_rows, b.accepted.len() + b.quarantined.len(), "{name}");
    assert_eq!(b.duplicate_rows, 0, "{name}");
    assert_eq!(b.gate(&GateConfig::default()), GateStatus::Pass, "{name}");

    // Lines are distinct and cover 2..=total+1.
    let mut lines: Vec<u32> = b.accepted.iter().map(|r| r.line).chain(b.quarantined.iter().map(|q| q.line)).collect();
    lines.sort_unstable();
    assert_eq!(lines, (2..=b.total_rows as u32 + 1).collect::<Vec<_>>(), "{name}");

    // Accepted rows are within the contract.
    let mut keys = HashSet::new();
    for r in &b.accepted {
        assert!((0.0..=360.0).contains(&r.ra_deg) && (-90.0..=90.0).contains(&r.dec_deg), "{r:?}");
        assert!(r.dist_pc.is_none_or(|d| (0.0..=1e6).contains(&d)), "{r:?}");
        assert_eq!(r.main_id, normalise_id(&r.main_id_raw));
        assert!(!r.main_id.is_empty());
        assert!(keys.insert((r.sys_id, r.main_id.clone())), "duplicate {r:?}");
        assert!(r.ids.iter().all(|id| !id.is_empty() && *id == normalise_id(id)));
        assert!(r.ids.iter().all(|id| !id.contains('\u{2212}')));
        assert!(r.otype_txt.is_some(), "all accepted rows carry an object type: {r:?}");
    }

    // Multiplicity agrees with a direct reading of the file.
    let direct = multiplicity_by_line(bytes);
    assert_eq!(direct.len(), b.total_rows);
    assert_eq!(direct.values().filter(|&&m| m).count(), 492, "{name}: rows with a multiplicity token");
    let expected = b.accepted.iter().filter(|r| direct[&r.line]).count();
    let got = b.accepted.iter().filter(|r| r.multiplicity == 2).count();
    assert_eq!(got, expected, "{name}");
    assert_eq!(got, 492, "{name}: no multiple system is quarantined");
    for r in &b.accepted {
        assert_eq!(r.multiplicity == 2, direct[&r.line], "{name} line {}", r.line);
    }

    // Spot checks: Proxima, Wolf 359, Barnard's star.
    let proxima = b.accepted.iter().find(|r| r.main_id == "V* V645 Cen").expect("Proxima");
    assert_eq!((proxima.ra_deg, proxima.dec_deg, proxima.dist_pc), (217.428938, -62.67949189, Some(1.3012)));
    assert_eq!(proxima.line, 3);
    assert!(proxima.ids.iter().any(|id| id == "NAME Proxima Centauri"));
    assert_eq!(proxima.multiplicity, 2);
    let wolf = b.accepted.iter().find(|r| r.main_id == "Wolf 359").expect("Wolf 359");
    assert!(wolf.main_id_raw.starts_with("Wolf  359"));
    assert!(wolf.notes.iter().any(|n| n.code == NoteCode::WhitespaceNormalised && n.column == "main_id"));
    let barnard = b.accepted.iter().find(|r| r.main_id == "NAME Barnard's star").expect("Barnard");
    assert_eq!(barnard.dist_pc, Some(1.8233));
    let eps_eri = b.accepted.iter().find(|r| r.main_id == "* eps Eri").expect("eps Eri");
    assert_eq!((eps_eri.ra_deg, eps_eri.dec_deg, eps_eri.dist_pc), (53.23268735, -9.458258657, Some(3.2028)));

    // SOL (line 2): quarantined with its raw cells kept.
    assert_eq!(raw_cell(b, 2, "sys_id"), "1");
    assert_eq!(raw_cell(b, 2, "main_id"), "SOL");
    assert_eq!(raw_cell(b, 2, "ids"), "The Sun|Sun|Solar System");

    // 1,577 padded/irregular main_ids; the only U+2212 is on a quarantined row; every
    // spectral-type-in-otypes row is quarantined.
    assert_eq!(b.note_counts(), BTreeMap::from([(NoteCode::WhitespaceNormalised, 1577)]), "{name}");
}

#[test]
fn simbad_01() {
    let Some((bytes, b)) = load("SIMBAD_01.csv") else {
        return;
    };
    assert_eq!(b.total_rows, 1582);
    assert_eq!(b.accepted.len(), 1579);
    assert_eq!(
        quarantine(&b),
        [
            (
                2,
                vec![
                    issue(ReasonCode::RequiredNull, "average_of_ra"),
                    issue(ReasonCode::RequiredNull, "average_of_dec")
                ]
            ),
            (1582, vec![issue(ReasonCode::RaLooksLikeHours, "average_of_ra")]),
            (
                1583,
                vec![issue(ReasonCode::OutOfRange, "average_of_ra"), issue(ReasonCode::OutOfRange, "average_of_dec")]
            ),
        ]
    );
    assert_eq!(
        b.issue_counts(),
        BTreeMap::from([(ReasonCode::RequiredNull, 2), (ReasonCode::OutOfRange, 2), (ReasonCode::RaLooksLikeHours, 1)])
    );
    assert_eq!(raw_cell(&b, 1582, "main_id"), "HIP116431");
    assert_eq!(raw_cell(&b, 1583, "main_id"), "Sholz's Star");
    assert!(raw_cell(&b, 1583, "ids").contains('\u{2212}'), "file 01 has the U+2212 on Sholz's Star");
    common_checks("SIMBAD_01", &bytes, &b);
}

fn check_02_03(name: &str) {
    let Some((bytes, b)) = load(name) else { return };
    assert_eq!(b.total_rows, 1584, "{name}");
    assert_eq!(b.accepted.len(), 1579, "{name}");
    let hours = || vec![issue(ReasonCode::RaLooksLikeHours, "average_of_ra")];
    assert_eq!(
        quarantine(&b),
        [
            (
                2,
                vec![
                    issue(ReasonCode::RequiredNull, "average_of_ra"),
                    issue(ReasonCode::RequiredNull, "average_of_dec")
                ]
            ),
            (1582, hours()),
            (
                1583,
                vec![issue(ReasonCode::OutOfRange, "average_of_ra"), issue(ReasonCode::OutOfRange, "average_of_dec")]
            ),
            (1584, hours()),
            (1585, hours()),
        ],
        "{name}"
    );
    assert_eq!(
        b.issue_counts(),
        BTreeMap::from([(ReasonCode::RequiredNull, 2), (ReasonCode::OutOfRange, 2), (ReasonCode::RaLooksLikeHours, 3)]),
        "{name}"
    );
    let names: Vec<&str> = [2, 1582, 1583, 1584, 1585].iter().map(|&l| raw_cell(&b, l, "main_id")).collect();
    assert_eq!(names, ["SOL", "HIP116431", "Sholz's Star", "Bet Gem", "VHS 1256-1257"], "{name}");
    common_checks(name, &bytes, &b);
}

#[test]
fn simbad_02() {
    check_02_03("SIMBAD_02.csv");
}

#[test]
fn simbad_03() {
    check_02_03("SIMBAD_03.csv");
    if let Some((_, b)) = load("SIMBAD_03.csv") {
        // File 03 removed the only non-ASCII character.
        assert!(!raw_cell(&b, 1583, "ids").contains('\u{2212}'));
    }
}

#[test]
fn the_three_files_accept_the_same_rows() {
    let (Some((_, a)), Some((_, b)), Some((_, c))) =
        (load("SIMBAD_01.csv"), load("SIMBAD_02.csv"), load("SIMBAD_03.csv"))
    else {
        return;
    };
    assert_eq!(a.accepted, b.accepted);
    assert_eq!(b.accepted, c.accepted);
}

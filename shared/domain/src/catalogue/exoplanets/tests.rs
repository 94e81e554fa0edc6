//! Unit tests for the exoplanet contract, on small inline CSVs.

use super::*;
use crate::catalogue::contract::{FileError, GateConfig, GateStatus, NoteCode, ReasonCode};
use crate::catalogue::robustness;
use std::collections::HashSet;

/// A reduced header (the contract reads columns by name, so order and extras do not matter).
const HDR: &str = "star_name,ra,dec,star_alternate_names,planet_name,planet_status,mass,mass_sini,radius,orbital_period,semi_major_axis,eccentricity,discovered,updated,star_distance,star_sp_type,star_teff,star_mass\n";
const BOM: &str = "\u{FEFF}";

fn csv(rows: &[&str]) -> String {
    let mut s = String::from(HDR);
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s
}

fn parse_ok(s: &str) -> ExoplanetBatch {
    parse(s.as_bytes()).unwrap_or_else(|e| panic!("parse failed: {e}"))
}

fn codes(q: &QuarantinedRow) -> Vec<(ReasonCode, &str)> {
    q.issues.iter().map(|i| (i.code, i.column.as_str())).collect()
}

const PROXIMA_B: &str = "Proxima Centauri,217.428938,-63.16951366,\"alpha Cen C, GL 551, HIP 70890\",Proxima Centauri b,Confirmed,,0.003,,11.185,0.048,0,2016,43775,1.295,M5.5V,3050,0.12";

#[test]
fn clean_row_is_fully_typed_with_earth_units() {
    let b = parse_ok(&format!("{BOM}{}", csv(&[PROXIMA_B])));
    assert_eq!((b.total_rows, b.accepted.len(), b.quarantined.len()), (1, 1, 0));
    let r = &b.accepted[0];
    assert_eq!(r.line, 2);
    assert_eq!(r.star_name, "Proxima Centauri");
    assert_eq!(r.star_alternate_names, ["alpha Cen C", "GL 551", "HIP 70890"]);
    assert_eq!(r.planet_name, "Proxima Centauri b");
    assert_eq!(r.planet_status.as_deref(), Some("Confirmed"));
    assert_eq!((r.ra_deg, r.dec_deg), (217.428938, -63.16951366));
    assert_eq!((r.mass_mjup, r.mass_sini_mjup), (None, Some(0.003)));
    assert_eq!(r.mass_source, Some(MassSource::MassSini));
    assert!((r.mass_earth.unwrap() - 0.003 * 317.83).abs() < 1e-12);
    assert_eq!(r.radius_earth, None);
    assert_eq!((r.orbital_period_days, r.semi_major_axis_au, r.eccentricity), (Some(11.185), Some(0.048), Some(0.0)));
    assert_eq!(r.discovered, Some(2016));
    assert_eq!(r.updated_serial, Some(43775.0));
    assert_eq!(r.updated.as_deref(), Some("2019-11-06"));
    assert_eq!(r.star_distance_pc, Some(1.295));
    assert_eq!(r.star_sp_type.as_deref(), Some("M5.5V"));
    assert_eq!((r.star_teff_k, r.star_mass_msun), (Some(3050.0), Some(0.12)));
    assert!(r.notes.is_empty());
    assert_eq!(b.gate(&GateConfig::default()), GateStatus::Pass);
}

#[test]
fn true_mass_wins_over_mass_sini_and_radius_converts() {
    let b =
        parse_ok(&csv(&["51 Peg,344.3625,20.7686111,,51 Peg b,Confirmed,0.47,0.46,1.9,4.2308,0.052,,1995,42761,,,,"]));
    let r = &b.accepted[0];
    assert_eq!(r.mass_source, Some(MassSource::TrueMass));
    assert!((r.mass_earth.unwrap() - 0.47 * 317.83).abs() < 1e-9);
    assert!((r.radius_earth.unwrap() - 1.9 * 11.209).abs() < 1e-9);
    assert_eq!(r.updated.as_deref(), Some("2017-01-26"));
    let b = parse_ok(&csv(&["X,1,2,,X b,Candidate,,,,,,,,,,,,"]));
    assert_eq!((b.accepted[0].mass_earth, b.accepted[0].mass_source), (None, None));
    assert_eq!(MassSource::TrueMass.as_str(), "true_mass");
    assert_eq!(MassSource::MassSini.as_str(), "mass_sini");
    assert_eq!(serde_json::to_value(MassSource::MassSini).unwrap(), "mass_sini");
}

#[test]
fn excel_serials() {
    assert_eq!(excel_serial_to_iso(25569.0).as_deref(), Some("1970-01-01"));
    assert_eq!(excel_serial_to_iso(61.0).as_deref(), Some("1900-03-01"));
    assert_eq!(excel_serial_to_iso(38824.0).as_deref(), Some("2006-04-17"));
    assert_eq!(excel_serial_to_iso(43875.0).as_deref(), Some("2020-02-14"));
    assert_eq!(excel_serial_to_iso(43875.99).as_deref(), Some("2020-02-14"));
    assert_eq!(excel_serial_to_iso(43890.0).as_deref(), Some("2020-02-29")); // leap day
    assert_eq!(excel_serial_to_iso(2_958_465.0).as_deref(), Some("9999-12-31"));
    assert_eq!(excel_serial_to_iso(60.0), None);
    assert_eq!(excel_serial_to_iso(2_958_466.0), None);
    assert_eq!(excel_serial_to_iso(f64::NAN), None);
}

#[test]
fn updated_out_of_range_is_quarantined() {
    let b = parse_ok(&csv(&["X,1,2,,X b,,,,,,,,,-5,,,,", "Y,1,2,,Y b,,,,,,,,,1e9,,,,", "Z,1,2,,Z b,,,,,,,,,soon,,,,"]));
    let got: Vec<_> = b.quarantined.iter().map(codes).collect();
    assert_eq!(
        got,
        [
            vec![(ReasonCode::OutOfRange, "updated")],
            vec![(ReasonCode::OutOfRange, "updated")],
            vec![(ReasonCode::InvalidNumeric, "updated")]
        ]
    );
}

#[test]
fn blank_star_name_recovered_from_the_planet_letter() {
    let b = parse_ok(&csv(&[
        ",188.0,-39.5,,2M1207 b,Confirmed,4,,,,,,2004,43000,52.4,,,",
        ",83.8,-5.7,, V* V2384 Ori   a ,Confirmed,,,,,,,,,,,,",
        ",42.3,-5.9,,2MASS J0249-0557 (AB) c,Confirmed,,,,,,,,,,,,",
    ]));
    assert!(b.quarantined.is_empty(), "{:?}", b.quarantined);
    let hosts: Vec<&str> = b.accepted.iter().map(|r| r.star_name.as_str()).collect();
    assert_eq!(hosts, ["2M1207", "V* V2384 Ori", "2MASS J0249-0557 (AB)"]);
    for r in &b.accepted {
        assert_eq!(r.star_name_raw, "");
        assert_eq!(r.notes[0].code, NoteCode::StarNameRecovered);
        assert_eq!(r.notes[0].column, "star_name");
        assert!(r.notes[0].detail.contains("planet letter"), "{}", r.notes[0].detail);
        // Recovery is the star_name note: no whitespace note on top of it.
        assert!(!r.notes.iter().any(|n| n.code == NoteCode::WhitespaceNormalised && n.column == "star_name"));
    }
    // The padded planet name also carries its own whitespace note.
    assert!(b.accepted[1].notes.iter().any(|n| n.code == NoteCode::WhitespaceNormalised && n.column == "planet_name"));
    assert_eq!(b.note_count(NoteCode::StarNameRecovered, "star_name"), 3);
}

#[test]
fn blank_star_name_recovered_from_alternate_names() {
    let b = parse_ok(&csv(&[",10,10,\" GJ  1002 , LHS 1 \",GJ 1002 B,,,,,,,,,,,,,"]));
    let r = &b.accepted[0];
    assert_eq!(r.star_name, "GJ 1002");
    assert_eq!(r.star_alternate_names, ["GJ 1002", "LHS 1"]);
    assert!(r.notes[0].detail.contains("star_alternate_names"));
}

#[test]
fn unrecoverable_blank_star_name_is_required_null() {
    let b = parse_ok(&csv(&[
        ",162.3,-53.3,,Luhman 16 A,Confirmed,33.5,,,,,,,,1.998,,,",
        ",133.8,-7.2,,WISE 0855-0714,Confirmed,6,,,,,,,,2.31,,,",
        ",1,1,,OGLE-2012-BLG-1323,Confirmed,,,,,,,,,,,,",
        " \t ,1,1,,X bb,,,,,,,,,,,,,",
    ]));
    assert!(b.accepted.is_empty());
    for q in &b.quarantined {
        assert_eq!(codes(q), [(ReasonCode::RequiredNull, "star_name")]);
    }
    assert_eq!(b.issue_counts(), BTreeMap::from([(ReasonCode::RequiredNull, 4)]));
    assert_eq!(host_from_planet_name("Luhman 16 A"), None);
    assert_eq!(host_from_planet_name("b"), None);
    assert_eq!(host_from_planet_name(" b"), None);
    assert_eq!(host_from_planet_name("X é"), None);
    assert_eq!(host_from_planet_name("Kepler-264  c ").as_deref(), Some("Kepler-264"));
}

#[test]
fn required_fields() {
    let b = parse_ok(&csv(&["A,,,,,,,,,,,,,,,,,", ",1,2,,,,,,,,,,,,,,,"]));
    assert_eq!(
        codes(&b.quarantined[0]),
        [
            (ReasonCode::RequiredNull, "planet_name"),
            (ReasonCode::RequiredNull, "ra"),
            (ReasonCode::RequiredNull, "dec")
        ]
    );
    assert_eq!(
        codes(&b.quarantined[1]),
        [(ReasonCode::RequiredNull, "planet_name"), (ReasonCode::RequiredNull, "star_name")]
    );
}

#[test]
fn bounds_are_inclusive_and_checked_per_column() {
    let b = parse_ok(&csv(&[
        "A,360,-90,,A b,,100000,,10000,1000000,100000,,,,,,,",
        "B,360.0001,90.5,,B b,,-0.1,,10000.1,-1,100000.1,,,,,,,",
    ]));
    assert_eq!(b.accepted.len(), 1);
    assert_eq!(
        codes(&b.quarantined[0]),
        [
            (ReasonCode::OutOfRange, "ra"),
            (ReasonCode::OutOfRange, "dec"),
            (ReasonCode::OutOfRange, "mass"),
            (ReasonCode::OutOfRange, "radius"),
            (ReasonCode::OutOfRange, "orbital_period"),
            (ReasonCode::OutOfRange, "semi_major_axis"),
        ]
    );
}

#[test]
fn invalid_numbers_anywhere_typed() {
    let b = parse_ok(&csv(&["A,x,1,,A b,,1..2,NaN,,,,inf,2016.5,,far,K0,hot,?"]));
    assert_eq!(
        codes(&b.quarantined[0]),
        [
            (ReasonCode::InvalidNumeric, "ra"),
            (ReasonCode::InvalidNumeric, "mass"),
            (ReasonCode::InvalidNumeric, "mass_sini"),
            (ReasonCode::InvalidNumeric, "eccentricity"),
            (ReasonCode::InvalidNumeric, "star_distance"),
            (ReasonCode::InvalidNumeric, "star_mass"),
            (ReasonCode::InvalidNumeric, "star_teff"),
            (ReasonCode::InvalidNumeric, "discovered"),
        ]
    );
    // Exponent forms (as in the file: 1E-10) parse.
    let b = parse_ok(&csv(&["A,1,1,,A b,,,1.00E-10,,1E-10,,,,,,,,"]));
    assert_eq!(b.accepted[0].orbital_period_days, Some(1e-10));
}

#[test]
fn hidden_duplicate_after_whitespace_normalisation() {
    let b = parse_ok(&csv(&[
        "Kepler-264,1,1,,Kepler-264 b,,,,,,,,,,,,,",
        "Kepler-264,1,1,,Kepler-264 c,,,,,,,,,,,,,",
        "Kepler-264 ,1,1,,Kepler-264  c,,,,,,,,,,,,,",
        "kepler-264,1,1,,Kepler-264 c,,,,,,,,,,,,,",
    ]));
    assert_eq!(b.accepted.len(), 3, "case differs → a different key");
    assert_eq!(b.duplicate_rows, 1);
    let q = &b.quarantined[0];
    assert_eq!(q.line, 4);
    assert_eq!(codes(q), [(ReasonCode::DuplicateIdentity, IDENTITY_COLUMN)]);
    assert!(q.issues[0].detail.contains("line 3"));
    // The raw (double-spaced) row is kept.
    assert!(q.raw.iter().any(|(c, v)| c == "planet_name" && v == "Kepler-264  c"));
}

#[test]
fn duplicate_detection_uses_the_recovered_host() {
    let b = parse_ok(&csv(&["2M1207,1,1,,2M1207 b,,,,,,,,,,,,,", ",1,1,,2M1207 b,,,,,,,,,,,,,"]));
    assert_eq!(b.accepted.len(), 1);
    assert_eq!(codes(&b.quarantined[0]), [(ReasonCode::DuplicateIdentity, IDENTITY_COLUMN)]);
}

#[test]
fn whitespace_notes_on_identifiers() {
    let b = parse_ok(&csv(&[
        "K2-141 ,1,1,,K2-141 b,,,,,,,,,,,,,",
        "\"KIC 10255705 \t\",1,1,,KIC 10255705 b,,,,,,,,,,,,,",
        "Barnard's star,1,1,,Barnard's  b,,,,,,,,,,,,,",
        "Clean,1,1,,Clean b,,,,,,,,,,,,,",
    ]));
    assert_eq!(b.accepted[1].star_name, "KIC 10255705");
    assert_eq!(b.accepted[1].star_name_raw, "KIC 10255705 \t");
    assert_eq!(b.note_count(NoteCode::WhitespaceNormalised, "star_name"), 2);
    assert_eq!(b.note_count(NoteCode::WhitespaceNormalised, "planet_name"), 1);
    assert_eq!(b.note_counts(), BTreeMap::from([(NoteCode::WhitespaceNormalised, 3)]));
    assert!(b.accepted[3].notes.is_empty());
}

#[test]
fn file_level_refusals() {
    assert_eq!(parse(b""), Err(FileError::Empty));
    assert_eq!(parse(BOM.as_bytes()), Err(FileError::Empty));
    assert_eq!(parse(b"\n\n"), Err(FileError::Empty));
    assert_eq!(parse(b"name,ra,dec\n"), Err(FileError::MissingColumns(vec!["star_name".into(), "planet_name".into()])));
    // SIMBAD file given to the exoplanet contract.
    let simbad = "sys_id,main_id,Average of ra,Average of dec,Average of dist\n1,X,1,2,3\n";
    assert_eq!(parse(simbad.as_bytes()), Err(FileError::MissingColumns(REQUIRED_COLUMNS.map(String::from).to_vec())));
    let b = parse(format!("{BOM}{HDR}").as_bytes()).unwrap();
    assert_eq!(b.total_rows, 0);
    assert_eq!(b.gate(&GateConfig::default()), GateStatus::Fail);
}

#[test]
fn only_required_columns_suffice() {
    let b = parse_ok("planet_name,dec,ra,star_name\nX b,-3,4,X\n");
    let r = &b.accepted[0];
    assert_eq!((r.ra_deg, r.dec_deg, r.star_name.as_str()), (4.0, -3.0, "X"));
    assert_eq!((r.mass_earth, r.updated.clone(), r.star_alternate_names.len()), (None, None, 0));
}

#[test]
fn malformed_and_invalid_utf8_rows() {
    let mut bytes = csv(&["A,1,1,,A b,,,,,,,,,,,,,", "too,few"]).into_bytes();
    bytes.extend_from_slice(b"B\xFF,1,1,,B b,,,,,,,,,,,,,\n");
    let b = parse(&bytes).unwrap();
    assert_eq!(b.accepted.len(), 1);
    assert_eq!(codes(&b.quarantined[0]), [(ReasonCode::MalformedRow, "*")]);
    assert_eq!(codes(&b.quarantined[1]), [(ReasonCode::InvalidEncoding, "star_name")]);
    assert_eq!(b.quarantined[1].line, 4);
}

#[test]
fn layout_has_98_unique_normalised_columns() {
    let set: HashSet<&str> = LAYOUT_COLUMNS.iter().copied().collect();
    assert_eq!(set.len(), 98);
    for c in REQUIRED_COLUMNS {
        assert!(set.contains(c));
    }
    for c in LAYOUT_COLUMNS {
        assert_eq!(crate::catalogue::contract::normalise_header(c), c);
    }
    assert_eq!(CONTRACT_VERSION, "exoplanets.v2");
}

// ---------------------------------------------------------------- robustness

fn tally(b: &ExoplanetBatch) -> robustness::Tally<'_> {
    robustness::Tally {
        total_rows: b.total_rows,
        accepted: b.accepted.len(),
        quarantined: &b.quarantined,
        duplicate_rows: b.duplicate_rows,
    }
}

#[test]
fn never_panics_on_random_bytes() {
    const ALPHABET: &[u8] = b",,,,\"\"\n\r\t 0123456789.-eE bAZ\xEF\xBB\xBF\xFF\xC3";
    robustness::never_panics_on_random_bytes(0xE0_0000_0000_0002, ALPHABET, HDR, parse, tally);
}

#[test]
fn never_panics_on_any_truncation() {
    let full = format!("{BOM}{}", csv(&[PROXIMA_B, ",1,1,,2M1207 b,,,,,,,,,,,,,"]));
    robustness::never_panics_on_any_truncation(full.as_bytes(), BOM.len() + HDR.len(), parse, tally);
}

#[test]
fn ten_megabyte_single_line() {
    let big = "x,".repeat(5 * 1024 * 1024);
    assert!(matches!(parse(big.as_bytes()), Err(FileError::MissingColumns(c)) if c.len() == 4));
    let b = parse(format!("{HDR}{big}").as_bytes()).unwrap();
    assert_eq!(codes(&b.quarantined[0]), [(ReasonCode::MalformedRow, "*")]);
    let name = "N".repeat(10 * 1024 * 1024);
    let b = parse(format!("{HDR}{name},1,1,,{name} b,,,,,,,,,,,,,\n").as_bytes()).unwrap();
    assert_eq!(b.accepted[0].star_name.len(), 10 * 1024 * 1024);
}

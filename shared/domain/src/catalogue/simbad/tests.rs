//! Unit tests for the SIMBAD contract, on small inline CSVs.

use super::*;
use crate::catalogue::contract::{FileError, GateConfig, GateStatus, NoteCode, ReasonCode};
use crate::catalogue::robustness;

/// The SIMBAD_0x header, without the BOM.
const HDR: &str = "sys_id,sys_code,main_id,ids,otype_txt,otype_shortname,otype_longname,otypes,Average of ra,Average of dec,Average of dist\n";
const BOM: &str = "\u{FEFF}";

fn csv(rows: &[&str]) -> String {
    let mut s = String::from(HDR);
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s
}

fn parse_ok(s: &str) -> SimbadBatch {
    parse(s.as_bytes()).unwrap_or_else(|e| panic!("parse failed: {e}"))
}

/// A valid catalogue row with the given coordinates.
fn row(sys_id: &str, main_id: &str, ra: &str, dec: &str, dist: &str) -> String {
    format!("{sys_id},,{main_id},GJ 1|LHS 2,PM*,PM*,High proper-motion star,PM*|*,{ra},{dec},{dist}")
}

fn codes(q: &QuarantinedRow) -> Vec<(ReasonCode, &str)> {
    q.issues.iter().map(|i| (i.code, i.column.as_str())).collect()
}

const PROXIMA: &str = "2,ALCENT,V* V645 Cen                 ,PM J14297-6240|* alf Cen C|NAME Proxima Centauri|GJ   551|HIP  70890       ,Fl*    ,Fl*          ,Flare Star                     ,Fl*|V* |** |IR |PM*|*  ,217.428938,-62.67949189,1.3012";

// ---------------------------------------------------------------- accepted rows

#[test]
fn clean_row_is_fully_typed() {
    let b = parse_ok(&csv(&[PROXIMA]));
    assert_eq!(b.total_rows, 1);
    assert!(b.quarantined.is_empty());
    let r = &b.accepted[0];
    assert_eq!(r.line, 2);
    assert_eq!(r.sys_id, 2);
    assert_eq!(r.sys_code.as_deref(), Some("ALCENT"));
    assert_eq!(r.main_id, "V* V645 Cen");
    assert_eq!(r.main_id_raw, "V* V645 Cen                 ");
    assert_eq!(r.ids, ["PM J14297-6240", "* alf Cen C", "NAME Proxima Centauri", "GJ 551", "HIP 70890"]);
    assert_eq!(r.otype_txt.as_deref(), Some("Fl*"));
    assert_eq!(r.otype_shortname.as_deref(), Some("Fl*"));
    assert_eq!(r.otype_longname.as_deref(), Some("Flare Star"));
    assert_eq!(r.otypes, ["Fl*", "V*", "**", "IR", "PM*", "*"]);
    assert_eq!(r.spectral_type, None);
    assert_eq!(r.ra_deg, 217.428938);
    assert_eq!(r.dec_deg, -62.67949189);
    assert_eq!(r.dist_pc, Some(1.3012));
    assert_eq!(r.multiplicity, 2);
    assert_eq!(r.notes.len(), 1);
    assert_eq!(r.notes[0].code, NoteCode::WhitespaceNormalised);
    assert_eq!(r.notes[0].column, "main_id");
    assert_eq!(b.gate(&GateConfig::default()), GateStatus::Pass);
}

#[test]
fn optional_cells_blank_become_none_or_empty() {
    let b = parse_ok(&csv(&["7,  ,Foo,  ,PM*,,  ,,10,20,"]));
    let r = &b.accepted[0];
    assert_eq!(r.sys_code, None);
    assert!(r.ids.is_empty());
    assert_eq!(r.otype_txt.as_deref(), Some("PM*"));
    assert_eq!(r.otype_shortname, None);
    assert_eq!(r.otype_longname, None);
    assert!(r.otypes.is_empty());
    assert_eq!(r.spectral_type, None);
    assert_eq!(r.dist_pc, None);
    assert_eq!(r.multiplicity, 1);
    assert!(r.notes.is_empty());
}

#[test]
fn numbers_accept_surrounding_whitespace_and_exponents() {
    let b = parse_ok(&csv(&[" 42 ,,X,,PM*,,,, 1.5e2 , -3E1 , +7.25 "]));
    let r = &b.accepted[0];
    assert_eq!((r.sys_id, r.ra_deg, r.dec_deg, r.dist_pc), (42, 150.0, -30.0, Some(7.25)));
}

// ---------------------------------------------------------------- header and file errors

#[test]
fn empty_inputs_are_refused() {
    for input in [&b""[..], b"\xEF\xBB\xBF", b"\n", b"\r\n\r\n", b"\xEF\xBB\xBF\n\n", b",,,\n"] {
        assert_eq!(parse(input), Err(FileError::Empty), "input {input:?}");
    }
}

#[test]
fn header_only_is_an_empty_batch_that_fails_the_gate() {
    for input in [HDR.to_string(), format!("{BOM}{HDR}"), HDR.trim_end().to_string()] {
        let b = parse_ok(&input);
        assert_eq!(b.total_rows, 0);
        assert!(b.accepted.is_empty() && b.quarantined.is_empty());
        assert_eq!(b.gate(&GateConfig::default()), GateStatus::Fail);
    }
}

#[test]
fn bom_is_stripped_from_the_header() {
    let with = parse_ok(&format!("{BOM}{}", csv(&[PROXIMA])));
    let without = parse_ok(&csv(&[PROXIMA]));
    assert_eq!(with, without);
    assert_eq!(with.accepted.len(), 1);
    // A quoted first header after the BOM.
    let quoted = format!("{BOM}\"sys_id\",main_id,Average of ra,Average of dec,Average of dist\n1,X,100,10,1\n");
    assert_eq!(parse_ok(&quoted).accepted.len(), 1);
}

#[test]
fn missing_required_columns_are_listed_in_contract_order() {
    let err = parse(b"sys_id,main_id,ra,dec,dist\n1,X,1,2,3\n").unwrap_err();
    assert_eq!(
        err,
        FileError::MissingColumns(vec!["average_of_ra".into(), "average_of_dec".into(), "average_of_dist".into()])
    );
    let err = parse(b"sys_id,main_id,Average of ra,Average of dec\n1,X,1,2\n").unwrap_err();
    assert_eq!(err, FileError::MissingColumns(vec!["average_of_dist".into()]));
    let err = parse(b"hello world\n").unwrap_err();
    assert_eq!(err, FileError::MissingColumns(REQUIRED_COLUMNS.iter().map(|c| c.to_string()).collect()));
    assert!(err.to_string().contains("sys_id"));
}

#[test]
fn columns_in_any_order_extra_columns_ignored_and_header_variants() {
    let s = "Average of Dist,EXTRA,  Main_ID ,Average of dec,average_of_ra,SYS_ID\n3.2,zzz,* eps Eri,-9.458258657,53.23268735,10\n";
    let b = parse_ok(s);
    let r = &b.accepted[0];
    assert_eq!((r.sys_id, r.main_id.as_str()), (10, "* eps Eri"));
    assert_eq!((r.ra_deg, r.dec_deg, r.dist_pc), (53.23268735, -9.458258657, Some(3.2)));
    // No otype_txt column: it reads as blank, so an RA <= 24 looks like hours.
    let b = parse_ok("sys_id,main_id,average_of_ra,average_of_dec,average_of_dist\n1,X,13.4,-51.5,11.1\n");
    assert_eq!(codes(&b.quarantined[0]), [(ReasonCode::RaLooksLikeHours, "average_of_ra")]);
}

#[test]
fn extra_columns_are_kept_in_raw() {
    let s = "sys_id,main_id,extra,Average of ra,Average of dec,Average of dist\n1,X,keep me,,,\n";
    let b = parse_ok(s);
    let q = &b.quarantined[0];
    assert_eq!(
        q.raw,
        [
            ("sys_id".to_string(), "1".to_string()),
            ("main_id".into(), "X".into()),
            ("extra".into(), "keep me".into()),
            ("average_of_ra".into(), "".into()),
            ("average_of_dec".into(), "".into()),
            ("average_of_dist".into(), "".into()),
        ]
    );
}

// ---------------------------------------------------------------- reason codes

#[test]
fn required_null_one_issue_per_column() {
    let b = parse_ok(&csv(&["1,SOL,SOL,The Sun|Sun|Solar System,,,,,,,"]));
    assert_eq!(b.quarantined.len(), 1);
    let q = &b.quarantined[0];
    assert_eq!(q.line, 2);
    assert_eq!(codes(q), [(ReasonCode::RequiredNull, "average_of_ra"), (ReasonCode::RequiredNull, "average_of_dec")]);
    // The raw cells are kept with normalised names, in file order.
    assert_eq!(q.raw.len(), 11);
    assert_eq!(q.raw[2], ("main_id".to_string(), "SOL".to_string()));
    assert_eq!(q.raw[8].0, "average_of_ra");

    let b = parse_ok(&csv(&[" ,,  \t ,,PM*,,,,,,"]));
    assert_eq!(
        codes(&b.quarantined[0]),
        [
            (ReasonCode::RequiredNull, "sys_id"),
            (ReasonCode::RequiredNull, "main_id"),
            (ReasonCode::RequiredNull, "average_of_ra"),
            (ReasonCode::RequiredNull, "average_of_dec"),
        ]
    );
}

#[test]
fn blank_distance_is_allowed() {
    let b = parse_ok(&csv(&[&row("5", "X", "100", "10", "  ")]));
    assert_eq!(b.accepted[0].dist_pc, None);
}

#[test]
fn main_id_of_only_nbsp_is_blank() {
    let b = parse_ok(&csv(&[&row("5", "\u{00A0}\u{00A0}", "100", "10", "1")]));
    assert_eq!(codes(&b.quarantined[0]), [(ReasonCode::RequiredNull, "main_id")]);
}

#[test]
fn invalid_numeric_one_issue_per_column() {
    let b = parse_ok(&csv(&[&row("12a", "X", "abc", "NaN", "inf")]));
    assert_eq!(
        codes(&b.quarantined[0]),
        [
            (ReasonCode::InvalidNumeric, "sys_id"),
            (ReasonCode::InvalidNumeric, "average_of_ra"),
            (ReasonCode::InvalidNumeric, "average_of_dec"),
            (ReasonCode::InvalidNumeric, "average_of_dist"),
        ]
    );
    for bad_id in ["1.5", "1e3", "0x10", "99999999999999999999"] {
        let b = parse_ok(&csv(&[&row(bad_id, "X", "100", "10", "1")]));
        assert_eq!(codes(&b.quarantined[0]), [(ReasonCode::InvalidNumeric, "sys_id")], "{bad_id}");
    }
    for bad in ["1,5", "12h", "1e400", "-inf", "--1", "."] {
        let b = parse_ok(&csv(&[&row("1", "X", "100", "10", &format!("\"{bad}\""))]));
        assert_eq!(codes(&b.quarantined[0]), [(ReasonCode::InvalidNumeric, "average_of_dist")], "{bad}");
    }
}

#[test]
fn out_of_range_bounds_are_inclusive() {
    let ok = [
        row("1", "A", "0", "-90", "0"),
        row("2", "B", "360", "90", "1000000"),
        row("3", "C", "359.9999", "0", "14.9989"),
    ];
    let b = parse_ok(&csv(&ok.iter().map(String::as_str).collect::<Vec<_>>()));
    assert_eq!(b.accepted.len(), 3, "{:?}", b.quarantined);

    let bad = [
        (row("4", "D", "360.0001", "0", "1"), vec![(ReasonCode::OutOfRange, "average_of_ra")]),
        (row("5", "E", "-0.5", "0", "1"), vec![(ReasonCode::OutOfRange, "average_of_ra")]),
        (row("6", "F", "100", "90.01", "1"), vec![(ReasonCode::OutOfRange, "average_of_dec")]),
        (row("7", "G", "100", "-114.8", "1"), vec![(ReasonCode::OutOfRange, "average_of_dec")]),
        (row("8", "H", "100", "0", "-1"), vec![(ReasonCode::OutOfRange, "average_of_dist")]),
        (row("9", "I", "100", "0", "1000000.5"), vec![(ReasonCode::OutOfRange, "average_of_dist")]),
    ];
    for (r, want) in bad {
        let b = parse_ok(&csv(&[&r]));
        assert_eq!(codes(&b.quarantined[0]), want, "{r}");
    }
}

#[test]
fn proper_motions_in_the_coordinate_columns() {
    // Sholz's Star in SIMBAD_01: otype columns blank, RA/Dec are proper motions in mas/yr.
    let b = parse_ok(&csv(&["1582,,Sholz's Star,WISEJ0720-0846,,,,M9.5 | T5.5,-40.3,-114.8,6.8"]));
    assert_eq!(
        codes(&b.quarantined[0]),
        [(ReasonCode::OutOfRange, "average_of_ra"), (ReasonCode::OutOfRange, "average_of_dec")]
    );
}

#[test]
fn ra_looks_like_hours_only_on_rows_with_blank_otype_txt() {
    let b = parse_ok(&csv(&[
        "1581,,HIP116431,HIP65426,,,,A2V,13.41,-51.5044,11.1",
        "1583,,Bet Gem,HD 62509,,,,K0III,7.75526,28.02619,10.34",
        "9,,Edge,,,,,,24,0,1",
        "10,,Zero,,  ,,,,0,0,1",
    ]));
    assert!(b.accepted.is_empty());
    for q in &b.quarantined {
        assert_eq!(codes(q), [(ReasonCode::RaLooksLikeHours, "average_of_ra")]);
    }
    assert_eq!(b.quarantined.iter().map(|q| q.line).collect::<Vec<_>>(), [2, 3, 4, 5]);

    // Same RA with an object type, or RA just above 24 without: accepted.
    let b = parse_ok(&csv(&[
        "1,,Typed,,PM*,,,PM*,13.41,-51.5,11.1",
        "2,,Above,,,,,A2V,24.0001,-51.5,11.1",
        "3,,OnlyShortname,,,BD*,,BD*,3,5,11.1",
    ]));
    assert_eq!(b.quarantined.len(), 1, "{:?}", b.quarantined);
    assert_eq!(b.quarantined[0].line, 4); // shortname does not count: otype_txt is blank
    assert_eq!(b.accepted.len(), 2);
}

#[test]
fn duplicate_identity_after_normalisation_first_kept() {
    let b = parse_ok(&csv(&[
        &row("4", "Wolf  359   ", "164.12", "7.01", "2.41"),
        &row("4", "Wolf 359", "164.12", "7.01", "2.41"),
        &row("5", "Wolf 359", "164.12", "7.01", "2.41"), // other sys_id: not a duplicate
        &row("04", " Wolf\t359", "164.12", "7.01", "2.41"), // same integer sys_id
    ]));
    assert_eq!(b.accepted.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 4]);
    assert_eq!(b.quarantined.iter().map(|q| q.line).collect::<Vec<_>>(), [3, 5]);
    for q in &b.quarantined {
        assert_eq!(codes(q), [(ReasonCode::DuplicateIdentity, IDENTITY_COLUMN)]);
        assert!(q.issues[0].detail.contains("line 2"), "{}", q.issues[0].detail);
    }
    assert_eq!(b.duplicate_rows, 2);
    // 2 of 4 rows are duplicates (> 10%) and 2 of 4 quarantined (> 20%): fail wins.
    assert_eq!(b.gate(&GateConfig::default()), GateStatus::Fail);
    let lax = GateConfig { max_quarantine_rate: 0.6, ..GateConfig::default() };
    assert_eq!(b.gate(&lax), GateStatus::Warn);
}

#[test]
fn duplicate_of_a_quarantined_first_occurrence() {
    let b = parse_ok(&csv(&[&row("4", "X", "164.12", "95", "2.41"), &row("4", "X", "164.12", "7.01", "2.41")]));
    assert!(b.accepted.is_empty());
    assert_eq!(codes(&b.quarantined[0]), [(ReasonCode::OutOfRange, "average_of_dec")]);
    assert_eq!(codes(&b.quarantined[1]), [(ReasonCode::DuplicateIdentity, IDENTITY_COLUMN)]);
    assert_eq!(b.duplicate_rows, 1);
}

#[test]
fn a_row_can_fail_several_checks_including_duplicate() {
    let b = parse_ok(&csv(&[&row("4", "X", "1", "1", "1"), &row("4", "X", "", "-100", "x")]));
    // First row: RA 1 with otype_txt PM* is fine.
    assert_eq!(b.accepted.len(), 1);
    assert_eq!(
        codes(&b.quarantined[0]),
        [
            (ReasonCode::RequiredNull, "average_of_ra"),
            (ReasonCode::OutOfRange, "average_of_dec"),
            (ReasonCode::InvalidNumeric, "average_of_dist"),
            (ReasonCode::DuplicateIdentity, IDENTITY_COLUMN),
        ]
    );
    let counts = b.issue_counts();
    assert_eq!(counts.len(), 4);
    assert!(counts.values().all(|&n| n == 1));
}

#[test]
fn malformed_rows_are_quarantined_without_other_checks() {
    let s = csv(&["1,,X,,PM*,,,,10,10", "2,,Y,,PM*,,,,10,10,1,extra", "3,,Z,,PM*,,,,10,10,1"]);
    let b = parse_ok(&s);
    assert_eq!(b.total_rows, 3);
    assert_eq!(b.accepted.len(), 1);
    assert_eq!(b.accepted[0].line, 4);
    assert_eq!(b.quarantined.len(), 2);
    for q in &b.quarantined {
        assert_eq!(codes(q), [(ReasonCode::MalformedRow, "*")]);
    }
    assert_eq!(b.quarantined[0].issues[0].detail, "expected 11 fields, found 10");
    assert_eq!(b.quarantined[1].raw.len(), 12);
    assert_eq!(b.quarantined[1].raw[11], ("column_12".to_string(), "extra".to_string()));
    assert_eq!(b.quarantined[1].raw[10], ("average_of_dist".to_string(), "1".to_string()));
}

#[test]
fn an_unquoted_comma_in_ids_shifts_the_row() {
    let b = parse_ok(&csv(&["5,,X,WDS J01388-1758A,B|GJ 65,PM*,PM*,x,PM*,24.75,-17.95,2.68"]));
    assert_eq!(codes(&b.quarantined[0]), [(ReasonCode::MalformedRow, "*")]);
}

#[test]
fn invalid_utf8_is_quarantined_per_column() {
    let mut bytes = csv(&[]).into_bytes();
    bytes.extend_from_slice(b"1,,Good,GJ \xFF 1|LHS 2,PM*,,,PM*,10,10,1\n");
    bytes.extend_from_slice(b"2,,\xC3(bad,,PM*,,,PM*,10,10,1\n");
    bytes.extend_from_slice(b"3,,Fine,,PM*,,,PM*,10,10,1\n");
    let b = parse(&bytes).unwrap();
    assert_eq!(b.total_rows, 3);
    assert_eq!(b.accepted.len(), 1);
    assert_eq!(b.accepted[0].sys_id, 3);
    assert_eq!(codes(&b.quarantined[0]), [(ReasonCode::InvalidEncoding, "ids")]);
    assert_eq!(b.quarantined[0].raw[3].1, "GJ \u{FFFD} 1|LHS 2");
    // An unreadable main_id is not additionally reported as blank.
    assert_eq!(codes(&b.quarantined[1]), [(ReasonCode::InvalidEncoding, "main_id")]);
    assert!(b.quarantined[1].raw[2].1.starts_with('\u{FFFD}'));
}

#[test]
fn invalid_utf8_alongside_other_failures() {
    let mut bytes = csv(&[]).into_bytes();
    bytes.extend_from_slice(b"1,,X,,PM*,,,PM*,\xFF,500,1\n");
    let b = parse(&bytes).unwrap();
    assert_eq!(
        codes(&b.quarantined[0]),
        [(ReasonCode::InvalidEncoding, "average_of_ra"), (ReasonCode::OutOfRange, "average_of_dec")]
    );
}

// ---------------------------------------------------------------- quoting, lines

#[test]
fn quoted_fields_with_commas_pipes_quotes_and_newlines() {
    let s = csv(&[
        "8,SIRIUS,\"* alf CMa B\",\"WDS J06451-1643AB,C|GJ 244 B|EGGR 49\",WD*,WD*,\"White Dwarf, DA\",\"WD*|** |*\",101.2871554,-16.7161158,2.6371",
        "9,,\"He said \"\"hi\"\"\",\"a|b\nc\",PM*,,,PM*,10,10,1",
        "10,,After,,PM*,,,PM*,10,10,1",
    ]);
    let b = parse_ok(&s);
    assert!(b.quarantined.is_empty(), "{:?}", b.quarantined);
    let r = &b.accepted[0];
    assert_eq!(r.ids, ["WDS J06451-1643AB,C", "GJ 244 B", "EGGR 49"]);
    assert_eq!(r.otype_longname.as_deref(), Some("White Dwarf, DA"));
    assert_eq!(r.otypes, ["WD*", "**", "*"]);
    assert_eq!(r.multiplicity, 2);
    let r = &b.accepted[1];
    assert_eq!(r.main_id, "He said \"hi\"");
    assert_eq!(r.ids, ["a", "b c"]); // the newline inside the quoted cell collapses to a space
    assert_eq!(r.line, 3);
    assert_eq!(b.accepted[2].line, 5); // the previous record spanned lines 3–4
}

#[test]
fn crlf_line_endings() {
    let s = csv(&[PROXIMA, "1,SOL,SOL,,,,,,,,"]).replace('\n', "\r\n");
    let b = parse_ok(&s);
    assert_eq!(b.total_rows, 2);
    assert_eq!(b.accepted[0].line, 2);
    assert_eq!(b.accepted[0].dist_pc, Some(1.3012));
    assert_eq!(b.quarantined[0].line, 3);
}

#[test]
fn no_trailing_newline_and_blank_lines() {
    let s = format!("{HDR}\n{}\n\n\n{}", row("1", "A", "10", "10", "1"), row("2", "B", "10", "10", "1"));
    let b = parse_ok(&s);
    assert_eq!(b.total_rows, 2);
    assert_eq!(b.accepted.len(), 2);
    // Lines are where the rows really are, blank lines included.
    assert_eq!(b.accepted.iter().map(|r| r.line).collect::<Vec<_>>(), [3, 6]);
    let b = parse_ok(&s.replace('\n', "\r\n"));
    assert_eq!(b.accepted.iter().map(|r| r.line).collect::<Vec<_>>(), [3, 6]);
}

// ---------------------------------------------------------------- notes

#[test]
fn whitespace_note_only_when_main_id_changed() {
    let b = parse_ok(&csv(&[
        &row("1", "Wolf  359", "164.12", "7.01", "2.41"),
        &row("2", "Clean", "164.12", "7.01", "2.41"),
        &row("3", "Tab\there", "164.12", "7.01", "2.41"),
    ]));
    let notes: Vec<Vec<NoteCode>> = b.accepted.iter().map(|r| r.notes.iter().map(|n| n.code).collect()).collect();
    assert_eq!(notes, [vec![NoteCode::WhitespaceNormalised], vec![], vec![NoteCode::WhitespaceNormalised]]);
    assert_eq!(b.accepted[0].main_id, "Wolf 359");
    assert_eq!(b.accepted[0].main_id_raw, "Wolf  359");
    assert_eq!(b.accepted[2].main_id, "Tab here");
}

#[test]
fn spectral_type_repaired_from_otypes() {
    let b = parse_ok(&csv(&[
        "1,,Multi,,,,,  M9.5   |  T5.5 ,111.85,5.22,3.79",
        "2,,Single,,,,,K0III,111.85,5.22,3.79",
        "3,,HasLongname,,,,Double or multiple star,M9.5 | T5.5,111.85,5.22,3.79",
        "4,,NoOtypes,,,,,   ,111.85,5.22,3.79",
    ]));
    assert!(b.quarantined.is_empty());
    let [multi, single, longname, none] = &b.accepted[..] else { panic!() };
    assert_eq!(multi.spectral_type.as_deref(), Some("M9.5 | T5.5"));
    assert!(multi.otypes.is_empty());
    assert_eq!(multi.multiplicity, 1);
    assert_eq!(multi.notes[0].code, NoteCode::SpectralTypeFromOtypes);
    assert_eq!(multi.notes[0].column, "otypes");
    assert_eq!(single.spectral_type.as_deref(), Some("K0III"));
    // An otype column is filled: otypes is read as object types.
    assert_eq!(longname.spectral_type, None);
    assert_eq!(longname.otypes, ["M9.5", "T5.5"]);
    assert!(longname.notes.is_empty());
    assert_eq!(none.spectral_type, None);
    assert!(none.notes.is_empty());
    assert_eq!(b.note_counts(), BTreeMap::from([(NoteCode::SpectralTypeFromOtypes, 2)]));
}

#[test]
fn unicode_minus_in_ids_is_replaced() {
    let b = parse_ok(&csv(&[
        "1582,,Sholz,WISE J072003.20\u{2212}084651.2|2MASS J07200325\u{2212}0846499|GJ 1,PM*,,,PM*,110.01,-8.78,6.8",
    ]));
    let r = &b.accepted[0];
    assert_eq!(r.ids, ["WISE J072003.20-084651.2", "2MASS J07200325-0846499", "GJ 1"]);
    assert_eq!(r.notes.len(), 1);
    assert_eq!(r.notes[0].code, NoteCode::NonAsciiNormalised);
    assert_eq!(r.notes[0].column, "ids");
    assert!(r.notes[0].detail.starts_with("2 "), "{}", r.notes[0].detail);
    // Other non-ASCII text is left alone and gets no note.
    let b = parse_ok(&csv(&["1,,Café  Star,Étoile|NAME Ĉ,PM*,,,PM*,110,-8,6"]));
    assert_eq!(b.accepted[0].ids, ["Étoile", "NAME Ĉ"]);
    assert_eq!(b.accepted[0].main_id, "Café Star");
    assert_eq!(b.note_counts(), BTreeMap::from([(NoteCode::WhitespaceNormalised, 1)]));
}

#[test]
fn all_three_notes_on_one_row_in_order() {
    let b = parse_ok(&csv(&["3,, Odd  One ,X\u{2212}1,,,,M7.5,200,-12.9,12.7"]));
    let codes: Vec<NoteCode> = b.accepted[0].notes.iter().map(|n| n.code).collect();
    assert_eq!(codes, [NoteCode::WhitespaceNormalised, NoteCode::SpectralTypeFromOtypes, NoteCode::NonAsciiNormalised]);
    let counts = b.note_counts();
    assert_eq!(counts.len(), 3);
    assert!(counts.values().all(|&n| n == 1));
}

#[test]
fn multiplicity_tokens() {
    let cases = [
        ("PM*|*  |IR ", 1),
        ("** ", 2),
        ("PM*|SB*", 2),
        ("EB*", 2),
        ("El*|X", 2),
        ("bL*", 2),
        ("WU*", 2),
        ("*", 1),
        ("***", 1),
        ("sb*", 1),
        ("**?", 1),
        ("", 1),
    ];
    for (otypes, want) in cases {
        let b = parse_ok(&csv(&[&format!("1,,X,,PM*,,,\"{otypes}\",100,10,1")]));
        assert_eq!(b.accepted[0].multiplicity, want, "{otypes:?}");
    }
}

// ---------------------------------------------------------------- counts and serialisation

#[test]
fn issue_and_note_counts_over_a_mixed_file() {
    let b = parse_ok(&csv(&[
        "1,SOL,SOL,The Sun|Sun|Solar System,,,,,,,",
        PROXIMA,
        &row("3", "Wolf  359", "164.12", "7.01", "2.41"),
        &row("3", "Wolf 359", "164.12", "7.01", "2.41"),
        "1581,,HIP116431,HIP65426,,,,A2V,13.41,-51.5044,11.1",
        "1582,,Sholz's Star,WISEJ0720-0846,,,,M9.5 | T5.5,-40.3,-114.8,6.8",
    ]));
    assert_eq!(b.total_rows, 6);
    assert_eq!(b.accepted.len(), 2);
    assert_eq!(b.quarantined_rows(), 4);
    assert_eq!(b.duplicate_rows, 1);
    assert_eq!(
        b.issue_counts(),
        BTreeMap::from([
            (ReasonCode::RequiredNull, 2),
            (ReasonCode::OutOfRange, 2),
            (ReasonCode::DuplicateIdentity, 1),
            (ReasonCode::RaLooksLikeHours, 1),
        ])
    );
    assert_eq!(b.note_counts(), BTreeMap::from([(NoteCode::WhitespaceNormalised, 2)]));
    assert_eq!(b.gate(&GateConfig::default()), GateStatus::Fail); // 4/6 quarantined
}

#[test]
fn serialises_codes_as_their_strings() {
    let b = parse_ok(&csv(&["1,SOL,SOL,,,,,,,,", &row("2", "A  B", "10", "10", "")]));
    let v = serde_json::to_value(&b).unwrap();
    assert_eq!(v["quarantined"][0]["issues"][0]["code"], "REQUIRED_NULL");
    assert_eq!(v["quarantined"][0]["issues"][0]["column"], "average_of_ra");
    assert_eq!(v["quarantined"][0]["raw"][0][0], "sys_id");
    assert_eq!(v["accepted"][0]["notes"][0]["code"], "WHITESPACE_NORMALISED");
    assert_eq!(v["accepted"][0]["dist_pc"], serde_json::Value::Null);
    assert_eq!(v["total_rows"], 2);
    for c in ReasonCode::ALL {
        assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
    }
    for c in NoteCode::ALL {
        assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
    }
    for g in [GateStatus::Pass, GateStatus::Warn, GateStatus::Fail] {
        assert_eq!(serde_json::to_value(g).unwrap(), g.as_str());
    }
}

#[test]
fn constants() {
    assert_eq!(CONTRACT_VERSION, "simbad.v2");
    assert_eq!(REQUIRED_COLUMNS, ["sys_id", "main_id", "average_of_ra", "average_of_dec", "average_of_dist"]);
}

// ---------------------------------------------------------------- robustness

fn tally(b: &SimbadBatch) -> robustness::Tally<'_> {
    robustness::Tally {
        total_rows: b.total_rows,
        accepted: b.accepted.len(),
        quarantined: &b.quarantined,
        duplicate_rows: b.duplicate_rows,
    }
}

#[test]
fn never_panics_on_random_bytes() {
    const ALPHABET: &[u8] = b",,,|\"\"\n\r 0123456789.-eE*AbZ\xEF\xBB\xBF\xFF\xC3\xE2\x88\x92";
    robustness::never_panics_on_random_bytes(0x5EED_0000_0000_0001, ALPHABET, HDR, parse, tally);
}

#[test]
fn never_panics_on_any_truncation() {
    let full = format!(
        "{BOM}{}",
        csv(&[
            "1,SOL,SOL,The Sun|Sun|Solar System,,,,,,,",
            PROXIMA,
            "8,SIRIUS,\"* alf CMa B\",\"WDS J06451-1643AB,C|GJ 244 B\",WD*,WD*,White Dwarf,\"WD*|** \",101.2871554,-16.7161158,2.6371",
            "1582,,Sholz's Star,WISE J072003.20\u{2212}084651.2,,,,M9.5 | T5.5,-40.3,-114.8,6.8",
        ])
    );
    let bytes = full.as_bytes();
    robustness::never_panics_on_any_truncation(bytes, BOM.len() + HDR.len(), parse, tally);
    assert_eq!(parse(bytes).unwrap().accepted.len(), 2);
}

#[test]
fn wrong_headers() {
    let cases: [&[u8]; 5] = [
        b"a,b,c\n1,2,3\n",
        b"\xFF\xFEs\x00y\x00s\x00_\x00i\x00d\x00\n\x00", // UTF-16LE
        b"sys_id;main_id;average_of_ra;average_of_dec;average_of_dist\n1;X;1;2;3\n", // wrong separator
        b"\"sys_id,main_id,average_of_ra,average_of_dec,average_of_dist\"\n1,2,3,4,5\n", // one quoted cell
        b"id,name,ra,dec,distance\n1,X,1,2,3\n",
    ];
    for input in cases {
        match parse(input) {
            Err(FileError::MissingColumns(cols)) => assert!(!cols.is_empty()),
            other => panic!("{input:?}: {other:?}"),
        }
    }
    // A doubled BOM still normalises (the header normaliser strips the second one).
    let b = parse(b"\xEF\xBB\xBF\xEF\xBB\xBFsys_id,main_id,average_of_ra,average_of_dec,average_of_dist\n").unwrap();
    assert_eq!(b.total_rows, 0);
}

#[test]
fn over_wide_rows_and_headers_stay_bounded() {
    // A data row with 10,000 cells keeps the header's cells, 32 extras and one joined rest.
    let s = format!("{HDR}{}\n", vec!["1"; 10_000].join(","));
    let b = parse_ok(&s);
    let raw = &b.quarantined[0].raw;
    assert_eq!(raw.len(), 11 + MAX_EXTRA_RAW_CELLS + 1);
    assert_eq!(raw[11 + MAX_EXTRA_RAW_CELLS].0, format!("column_{}+", 11 + MAX_EXTRA_RAW_CELLS + 1));
    assert_eq!(raw.last().unwrap().1.len(), 2 * (10_000 - 11 - MAX_EXTRA_RAW_CELLS) - 1);
    // A header wider than MAX_COLUMNS: missing columns when they are missing…
    let wide = vec!["x"; MAX_COLUMNS + 1].join(",");
    assert!(matches!(parse(wide.as_bytes()), Err(FileError::MissingColumns(c)) if c.len() == 5));
    // …otherwise a refusal of the width.
    let wide = format!("{},{}", HDR.trim_end(), vec!["x"; MAX_COLUMNS].join(","));
    match parse(wide.as_bytes()) {
        Err(FileError::Csv { line: 1, message }) => {
            assert!(message.contains("columns"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn ten_megabyte_single_line() {
    let big = "x,".repeat(5 * 1024 * 1024);
    assert_eq!(big.len(), 10 * 1024 * 1024);
    // As the only line: a header without the required columns.
    assert!(matches!(parse(big.as_bytes()), Err(FileError::MissingColumns(c)) if c.len() == 5));
    // One huge unquoted-garbage line under a valid header: malformed.
    let b = parse(format!("{HDR}{big}").as_bytes()).unwrap();
    assert_eq!(b.total_rows, 1);
    assert_eq!(codes(&b.quarantined[0]), [(ReasonCode::MalformedRow, "*")]);
    // A 10 MB quoted ids cell on an otherwise valid row is simply accepted.
    let ids = format!("{}|GJ 1", "A".repeat(10 * 1024 * 1024));
    let b = parse(format!("{HDR}1,,Big,\"{ids}\",PM*,,,PM*,100,10,1\n").as_bytes()).unwrap();
    assert_eq!(b.accepted[0].ids.len(), 2);
    assert_eq!(b.accepted[0].ids[0].len(), 10 * 1024 * 1024);
    // An unterminated quote swallowing 10 MB up to EOF.
    let b = parse(format!("{HDR}1,,\"{big}").as_bytes()).unwrap();
    assert_eq!(b.total_rows, 1);
    assert_eq!(codes(&b.quarantined[0]), [(ReasonCode::MalformedRow, "*")]);
    // A 10 MB number: invalid, and the issue detail stays short.
    let digits = "9".repeat(10 * 1024 * 1024);
    let b = parse(format!("{HDR}1,,X,,PM*,,,,{digits}x,10,1\n").as_bytes()).unwrap();
    let issue = &b.quarantined[0].issues[0];
    assert_eq!((issue.code, issue.column.as_str()), (ReasonCode::InvalidNumeric, "average_of_ra"));
    assert!(issue.detail.len() < 200);
}

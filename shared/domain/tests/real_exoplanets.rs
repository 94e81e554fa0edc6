//! The exoplanet contract against the real source files (`EXOPLANETS_01.csv`,
//! `EXOPLANETS_01x.csv`). Counts were measured with this parser and verified independently
//! with a separate script (and against DOMAIN.md §4.3: 39 / 33 blank `star_name` before
//! recovery = 35 / 29 quarantined + 4 recovered). Only reads the files.

mod common;

use exomaps_domain::catalogue::contract::{GateConfig, GateStatus, NoteCode, ReasonCode};
use exomaps_domain::catalogue::exoplanets::{self, ExoplanetBatch, IDENTITY_COLUMN, LAYOUT_COLUMNS, MassSource};
use exomaps_domain::names::normalise_id;
use std::collections::{BTreeMap, HashSet};

fn load(name: &str) -> Option<(Vec<u8>, ExoplanetBatch)> {
    let bytes = common::read(name)?;
    let batch = exoplanets::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    Some((bytes, batch))
}

/// Independent reading of the file with the plain CSV reader: (line, star_name, planet_name).
fn direct_names(bytes: &[u8]) -> Vec<(u32, String, String)> {
    let text = std::str::from_utf8(bytes).unwrap();
    let text = text.strip_prefix('\u{FEFF}').unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let h = rdr.headers().unwrap().clone();
    assert_eq!(h.iter().collect::<Vec<_>>(), LAYOUT_COLUMNS, "the exoplanet.eu layout, 98 columns");
    rdr.records()
        .enumerate()
        .map(|(i, r)| {
            let r = r.unwrap();
            (i as u32 + 2, r[0].to_string(), r[4].to_string()) // no multi-line cells: line = index + 2
        })
        .collect()
}

struct Expected {
    accepted: usize,
    star_name_null: usize,
    ws_star: usize,
    ws_planet: usize,
    true_mass: usize,
    mass_sini: usize,
}

fn check(name: &str, want: Expected) {
    let Some((bytes, b)) = load(name) else { return };
    assert_eq!(b.total_rows, 6713, "{name}");
    assert_eq!(b.accepted.len(), want.accepted, "{name}");
    assert_eq!(b.quarantined_rows(), want.star_name_null + 1, "{name}");
    assert_eq!(
        b.issue_counts(),
        BTreeMap::from([(ReasonCode::RequiredNull, want.star_name_null), (ReasonCode::DuplicateIdentity, 1)]),
        "{name}"
    );
    assert!(
        b.quarantined
            .iter()
            .flat_map(|q| &q.issues)
            .all(|i| i.code != ReasonCode::RequiredNull || i.column == "star_name")
    );
    assert_eq!(b.duplicate_rows, 1);
    assert_eq!(b.gate(&GateConfig::default()), GateStatus::Pass);

    // The hidden duplicate: Kepler-264 c on line 6076, first seen on line 6074.
    let dup = b.quarantined.iter().find(|q| q.issues[0].code == ReasonCode::DuplicateIdentity).unwrap();
    assert_eq!(dup.line, 6076);
    assert_eq!(dup.issues[0].column, IDENTITY_COLUMN);
    assert!(dup.issues[0].detail.contains("line 6074"), "{}", dup.issues[0].detail);
    let raw_planet = |line: u32| {
        let direct = direct_names(&bytes);
        direct.iter().find(|(l, _, _)| *l == line).unwrap().2.clone()
    };
    assert_ne!(raw_planet(6074), raw_planet(6076), "the two spellings differ only in whitespace");
    assert_eq!(normalise_id(&raw_planet(6074)), normalise_id(&raw_planet(6076)));

    // Blank star_name: before recovery 39 (01) / 33 (01x) per DOMAIN.md §4.3.
    let direct = direct_names(&bytes);
    let blank: Vec<u32> = direct.iter().filter(|(_, s, _)| s.trim().is_empty()).map(|(l, _, _)| *l).collect();
    assert_eq!(blank.len(), want.star_name_null + 4, "{name}");
    let recovered: Vec<(u32, &str, &str)> = b
        .accepted
        .iter()
        .filter(|r| r.notes.iter().any(|n| n.code == NoteCode::StarNameRecovered))
        .map(|r| (r.line, r.planet_name.as_str(), r.star_name.as_str()))
        .collect();
    assert_eq!(
        recovered,
        [
            (640, "2MASS J0249-0557 (AB) c", "2MASS J0249-0557 (AB)"),
            (674, "2M1207 b", "2M1207"),
            (1668, "V* V2384 Ori a", "V* V2384 Ori"),
            (1669, "V* V2384 Ori b", "V* V2384 Ori"),
        ],
        "{name}"
    );
    let null_lines: Vec<u32> =
        b.quarantined.iter().filter(|q| q.issues[0].code == ReasonCode::RequiredNull).map(|q| q.line).collect();
    let mut expected_null = blank.clone();
    expected_null.retain(|l| !recovered.iter().any(|(r, _, _)| r == l));
    assert_eq!(null_lines, expected_null, "{name}");
    // Luhman 16 A/B and WISE 0855-0714 (lines 5–7) are quarantined in 01, named in 01x.
    let quarantined: HashSet<u32> = null_lines.iter().copied().collect();
    assert_eq!([5, 6, 7].map(|l| quarantined.contains(&l)), [name.ends_with("01.csv"); 3]);

    // Whitespace notes.
    assert_eq!(b.note_count(NoteCode::WhitespaceNormalised, "star_name"), want.ws_star, "{name}");
    assert_eq!(b.note_count(NoteCode::WhitespaceNormalised, "planet_name"), want.ws_planet, "{name}");
    let tab = b.accepted.iter().find(|r| r.star_name == "KIC 10255705").unwrap();
    assert!(tab.star_name_raw.contains('\t'));

    // Lines: every row accounted for once.
    let mut lines: Vec<u32> = b.accepted.iter().map(|r| r.line).chain(b.quarantined.iter().map(|q| q.line)).collect();
    lines.sort_unstable();
    assert_eq!(lines, (2..=6714).collect::<Vec<_>>());

    // Units and dates.
    let count = |s: MassSource| b.accepted.iter().filter(|r| r.mass_source == Some(s)).count();
    assert_eq!((count(MassSource::TrueMass), count(MassSource::MassSini)), (want.true_mass, want.mass_sini), "{name}");
    for r in &b.accepted {
        match r.mass_source {
            Some(MassSource::TrueMass) => assert_eq!(r.mass_earth, r.mass_mjup.map(|m| m * 317.83)),
            Some(MassSource::MassSini) => assert_eq!(r.mass_earth, r.mass_sini_mjup.map(|m| m * 317.83)),
            None => assert!(r.mass_mjup.is_none() && r.mass_sini_mjup.is_none()),
        }
        assert_eq!(r.radius_earth, r.radius_rjup.map(|x| x * 11.209));
        assert!(r.updated.is_some());
        assert!((0.0..=360.0).contains(&r.ra_deg) && (-90.0..=90.0).contains(&r.dec_deg));
    }
    let dates: Vec<&str> = b.accepted.iter().filter_map(|r| r.updated.as_deref()).collect();
    assert_eq!(dates.iter().min(), Some(&"2006-04-17"));
    assert_eq!(dates.iter().max(), Some(&"2020-02-14"));
    let statuses = |s: &str| b.accepted.iter().filter(|r| r.planet_status.as_deref() == Some(s)).count();
    assert_eq!(statuses("Confirmed") + statuses("Candidate"), b.accepted.len());

    let proxima_b = b.accepted.iter().find(|r| r.planet_name == "Proxima Centauri b").unwrap();
    assert_eq!(proxima_b.line, 2);
    assert_eq!(proxima_b.updated.as_deref(), Some("2019-11-06"));
    assert!((proxima_b.mass_earth.unwrap() - 0.953_49).abs() < 1e-9);
    assert_eq!(proxima_b.star_alternate_names, ["alpha Cen C", "GL 551", "HIP 70890"]);
}

#[test]
fn exoplanets_01() {
    check(
        "EXOPLANETS_01.csv",
        Expected { accepted: 6677, star_name_null: 35, ws_star: 14, ws_planet: 9, true_mass: 1172, mass_sini: 897 },
    );
}

#[test]
fn exoplanets_01x() {
    check(
        "EXOPLANETS_01x.csv",
        Expected { accepted: 6683, star_name_null: 29, ws_star: 15, ws_planet: 10, true_mass: 1178, mass_sini: 897 },
    );
}

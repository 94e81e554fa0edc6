//! Hipparcos 2 (`hip2.dat`, van Leeuwen 2007, CDS I/311) and its ingest contract, version 1.
//!
//! Fixed-width lines of 276 characters; the contract reads (1-based byte ranges):
//!
//! | bytes | column | unit |
//! |---|---|---|
//! | 1–6 | `hip` | |
//! | 16–28 | `ra_rad` (ICRS, epoch J1991.25) | rad |
//! | 30–42 | `dec_rad` | rad |
//! | 44–50 | `plx` | mas |
//! | 52–59 | `pm_ra` (μα cos δ) | mas/yr |
//! | 61–68 | `pm_dec` | mas/yr |
//! | 84–89 | `e_plx` | mas |
//! | 130–136 | `hp_mag` | mag |
//! | 153–158 | `b_v` | mag |
//!
//! Per-row rules:
//! * a line shorter than 158 bytes → `MALFORMED_ROW` (no other check);
//! * a line that is not UTF-8 → `INVALID_ENCODING`;
//! * `hip`, `ra_rad`, `dec_rad`, `plx`, `e_plx`, `pm_ra`, `pm_dec` blank → `REQUIRED_NULL`,
//!   not a number → `INVALID_NUMERIC` (`hp_mag`, `b_v` are optional: blank or not a number
//!   reads as none);
//! * `ra_rad` ∉ [0, 2π], `dec_rad` ∉ [−π/2, π/2], `e_plx` < 0 → `OUT_OF_RANGE`;
//! * `plx` ≤ 0 → `NON_POSITIVE_PARALLAX`; `plx` > 1000 mas → `IMPLAUSIBLE_PARALLAX`;
//! * a `hip` seen on an earlier line → `DUPLICATE_IDENTITY`;
//! * σ(plx)/plx > 0.2 → accepted with the note `UNCERTAIN_DISTANCE`.
//!
//! Blank lines are not rows. [`parse`] never panics.

use crate::catalogue::contract::{
    FileError, GateConfig, GateStatus, NoteCode, QuarantinedRow, ReasonCode, RowIssue, RowNote, gate_status,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

pub const CONTRACT_VERSION: &str = "hipparcos.v1";

/// Catalogue epoch of the positions (Julian years).
pub const EPOCH: f64 = 1991.25;
/// The epoch positions are propagated to for matching (J2000.0).
pub const J2000: f64 = 2000.0;
/// σ(plx)/plx above which a distance is marked uncertain.
pub const UNCERTAIN_RELATIVE_ERROR: f64 = 0.2;
/// Largest plausible parallax (mas): Proxima Centauri is 768 mas.
pub const MAX_PARALLAX_MAS: f64 = 1000.0;
/// Shortest line holding every column the contract reads.
pub const MIN_LINE_BYTES: usize = 158;

/// (column name, 0-based start, end exclusive, required).
pub const COLUMNS: [(&str, usize, usize, bool); 9] = [
    ("hip", 0, 6, true),
    ("ra_rad", 15, 28, true),
    ("dec_rad", 29, 42, true),
    ("plx", 43, 50, true),
    ("pm_ra", 51, 59, true),
    ("pm_dec", 60, 68, true),
    ("e_plx", 83, 89, true),
    ("hp_mag", 129, 136, false),
    ("b_v", 152, 158, false),
];

/// One accepted Hipparcos 2 star.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HipparcosRecord {
    /// Line of the star in the file (1-based; the file has no header).
    pub line: u32,
    pub hip: u32,
    /// ICRS, epoch J1991.25, degrees.
    pub ra_deg: f64,
    pub dec_deg: f64,
    pub plx_mas: f64,
    pub e_plx_mas: f64,
    pub pm_ra_mas_yr: f64,
    pub pm_dec_mas_yr: f64,
    pub hp_mag: Option<f64>,
    pub b_v: Option<f64>,
    pub notes: Vec<RowNote>,
}

impl HipparcosRecord {
    /// Distance from the parallax (pc).
    pub fn distance_pc(&self) -> f64 {
        1000.0 / self.plx_mas
    }

    /// σ of the distance (pc), first order: σd = d · σplx / plx.
    pub fn distance_error_pc(&self) -> f64 {
        self.distance_pc() * self.e_plx_mas / self.plx_mas
    }

    pub fn uncertain(&self) -> bool {
        self.e_plx_mas / self.plx_mas > UNCERTAIN_RELATIVE_ERROR
    }

    /// The position at `epoch` (Julian years), propagated linearly with the proper motions.
    pub fn position_at(&self, epoch: f64) -> (f64, f64) {
        let dt = epoch - EPOCH;
        let dec = self.dec_deg + self.pm_dec_mas_yr * dt / 3.6e6;
        let cos = self.dec_deg.to_radians().cos().max(1e-9);
        let ra = (self.ra_deg + self.pm_ra_mas_yr * dt / 3.6e6 / cos).rem_euclid(360.0);
        (ra, dec.clamp(-90.0, 90.0))
    }

    /// The position at J2000.0 (what SIMBAD and the exoplanet catalogue give).
    pub fn position_j2000(&self) -> (f64, f64) {
        self.position_at(J2000)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HipparcosBatch {
    pub total_rows: usize,
    pub accepted: Vec<HipparcosRecord>,
    pub quarantined: Vec<QuarantinedRow>,
    pub duplicate_rows: usize,
}

impl HipparcosBatch {
    pub fn issue_counts(&self) -> BTreeMap<ReasonCode, usize> {
        super::contract::issue_counts(&self.quarantined)
    }

    pub fn note_counts(&self) -> BTreeMap<NoteCode, usize> {
        super::contract::note_counts(self.accepted.iter().map(|r| r.notes.as_slice()))
    }

    pub fn gate(&self, cfg: &GateConfig) -> GateStatus {
        gate_status(cfg, self.total_rows, self.quarantined.len(), self.duplicate_rows)
    }
}

/// Validate one `hip2.dat`. Never panics, whatever the bytes.
pub fn parse(bytes: &[u8]) -> Result<HipparcosBatch, FileError> {
    let mut batch = HipparcosBatch { total_rows: 0, accepted: Vec::new(), quarantined: Vec::new(), duplicate_rows: 0 };
    let mut seen: HashMap<u32, u32> = HashMap::new();
    for (i, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let line = u32::try_from(i + 1).unwrap_or(u32::MAX);
        batch.total_rows += 1;
        match check_line(raw, line, &mut seen) {
            Ok(r) => batch.accepted.push(r),
            Err(issues) => {
                if issues.iter().any(|i| i.code == ReasonCode::DuplicateIdentity) {
                    batch.duplicate_rows += 1;
                }
                batch.quarantined.push(QuarantinedRow { line, issues, raw: raw_cells(raw) });
            }
        }
    }
    if batch.total_rows == 0 {
        return Err(FileError::Empty);
    }
    Ok(batch)
}

/// The cells of a line by column (lossily decoded); a short line is kept whole as `record`.
fn raw_cells(raw: &[u8]) -> Vec<(String, String)> {
    if raw.len() < MIN_LINE_BYTES {
        let keep = &raw[..raw.len().min(1024)];
        return vec![("record".into(), String::from_utf8_lossy(keep).into_owned())];
    }
    COLUMNS
        .iter()
        .map(|(name, a, b, _)| (name.to_string(), String::from_utf8_lossy(&raw[*a..*b]).trim().to_string()))
        .collect()
}

fn check_line(raw: &[u8], line: u32, seen: &mut HashMap<u32, u32>) -> Result<HipparcosRecord, Vec<RowIssue>> {
    if raw.len() < MIN_LINE_BYTES {
        return Err(vec![RowIssue::new(
            ReasonCode::MalformedRow,
            "*",
            format!("{} bytes, at least {MIN_LINE_BYTES} expected", raw.len()),
        )]);
    }
    let Ok(text) = std::str::from_utf8(raw) else {
        return Err(vec![RowIssue::new(ReasonCode::InvalidEncoding, "*", "the line is not valid UTF-8")]);
    };
    let mut issues = Vec::new();
    let mut values = [None; 9];
    for (k, (name, a, b, required)) in COLUMNS.iter().enumerate() {
        let cell = text.get(*a..*b).unwrap_or("").trim();
        if cell.is_empty() {
            if *required {
                issues.push(RowIssue::new(ReasonCode::RequiredNull, *name, "blank"));
            }
            continue;
        }
        match cell.parse::<f64>() {
            Ok(v) if v.is_finite() => values[k] = Some(v),
            _ if *required => {
                issues.push(RowIssue::new(ReasonCode::InvalidNumeric, *name, format!("{cell:?} is not a number")))
            }
            _ => {}
        }
    }
    let [hip, ra, dec, plx, pm_ra, pm_dec, e_plx, hp, bv] = values;
    let hip = hip.and_then(|h| {
        let ok = h.fract() == 0.0 && h >= 1.0 && h <= f64::from(u32::MAX);
        if !ok {
            issues.push(RowIssue::new(ReasonCode::InvalidNumeric, "hip", format!("{h} is not a positive integer")));
        }
        ok.then_some(h as u32)
    });
    if let Some(v) = ra.filter(|v| !(0.0..=std::f64::consts::TAU).contains(v)) {
        issues.push(RowIssue::new(ReasonCode::OutOfRange, "ra_rad", format!("{v} outside [0, 2π]")));
    }
    if let Some(v) = dec.filter(|v| !(-std::f64::consts::FRAC_PI_2..=std::f64::consts::FRAC_PI_2).contains(v)) {
        issues.push(RowIssue::new(ReasonCode::OutOfRange, "dec_rad", format!("{v} outside [−π/2, π/2]")));
    }
    if let Some(v) = e_plx.filter(|v| *v < 0.0) {
        issues.push(RowIssue::new(ReasonCode::OutOfRange, "e_plx", format!("{v} is negative")));
    }
    match plx {
        Some(v) if v <= 0.0 => issues.push(RowIssue::new(
            ReasonCode::NonPositiveParallax,
            "plx",
            format!("{v} mas: no distance can be derived"),
        )),
        Some(v) if v > MAX_PARALLAX_MAS => issues.push(RowIssue::new(
            ReasonCode::ImplausibleParallax,
            "plx",
            format!("{v} mas is larger than any star's (> {MAX_PARALLAX_MAS} mas)"),
        )),
        _ => {}
    }
    if let Some(h) = hip
        && issues.is_empty()
    {
        if let Some(first) = seen.get(&h) {
            issues.push(RowIssue::new(
                ReasonCode::DuplicateIdentity,
                "hip",
                format!("HIP {h} first seen on line {first}"),
            ));
        } else {
            seen.insert(h, line);
        }
    }
    if !issues.is_empty() {
        return Err(issues);
    }
    let (Some(hip), Some(ra), Some(dec), Some(plx), Some(pm_ra), Some(pm_dec), Some(e_plx)) =
        (hip, ra, dec, plx, pm_ra, pm_dec, e_plx)
    else {
        return Err(vec![RowIssue::new(ReasonCode::RequiredNull, "*", "a required value is missing")]);
    };
    let mut r = HipparcosRecord {
        line,
        hip,
        ra_deg: ra.to_degrees(),
        dec_deg: dec.to_degrees(),
        plx_mas: plx,
        e_plx_mas: e_plx,
        pm_ra_mas_yr: pm_ra,
        pm_dec_mas_yr: pm_dec,
        hp_mag: hp,
        b_v: bv,
        notes: Vec::new(),
    };
    if r.uncertain() {
        r.notes.push(RowNote::new(
            NoteCode::UncertainDistance,
            "e_plx",
            format!("σ(plx)/plx = {:.2} > {UNCERTAIN_RELATIVE_ERROR}", e_plx / plx),
        ));
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VEGA: &str = " 91262   1 0 1  4.8735545728  0.6768909262  130.23   200.94   286.23   0.26   0.28   0.36   0.32   0.40  98 -0.14  0    1.8    0  0.0868 0.0021 0.014 2 -0.001 0.005";

    fn line(hip: &str, ra: &str, dec: &str, plx: &str, eplx: &str) -> String {
        let mut l: Vec<u8> = VEGA.as_bytes().to_vec();
        l.resize(276, b' ');
        let mut put = |a: usize, b: usize, v: &str| {
            let cell = format!("{v:>w$}", w = b - a);
            l[a..b].copy_from_slice(&cell.as_bytes()[..b - a]);
        };
        put(0, 6, hip);
        put(15, 28, ra);
        put(29, 42, dec);
        put(43, 50, plx);
        put(83, 89, eplx);
        String::from_utf8(l).unwrap()
    }

    #[test]
    fn vega_reads_as_the_readme_says() {
        let b = parse(format!("{VEGA}\n").as_bytes()).unwrap();
        assert_eq!(b.total_rows, 1);
        let v = &b.accepted[0];
        assert_eq!(v.hip, 91262);
        assert!((v.ra_deg - 279.2347).abs() < 1e-3, "{}", v.ra_deg);
        assert!((v.dec_deg - 38.7837).abs() < 1e-3, "{}", v.dec_deg);
        assert_eq!(v.plx_mas, 130.23);
        assert_eq!(v.e_plx_mas, 0.36);
        assert_eq!((v.pm_ra_mas_yr, v.pm_dec_mas_yr), (200.94, 286.23));
        assert_eq!(v.hp_mag, Some(0.0868));
        assert_eq!(v.b_v, Some(-0.001));
        assert!((v.distance_pc() - 7.679).abs() < 1e-3);
        assert!(v.notes.is_empty());
        // 8.75 years of proper motion: 286.23 mas/yr north → +2.5″ in Dec.
        let (_, dec) = v.position_j2000();
        assert!(((dec - v.dec_deg) * 3600.0 - 2.5045).abs() < 1e-3);
    }

    #[test]
    fn bad_lines_are_quarantined_with_reasons() {
        let text = [
            line("1", "0.1", "0.1", "-1.5", "1.0"),
            line("2", "0.1", "0.1", "1500.0", "1.0"),
            line("3", "7.0", "2.0", "10.0", "1.0"),
            line("4", "0.1", "0.1", "x", "1.0"),
            line("5", "0.1", "0.1", "40.0", "20.0"),
            line("5", "0.1", "0.1", "40.0", "1.0"),
            "short line".to_string(),
            line("", "0.1", "0.1", "4.0", "1.0"),
        ]
        .join("\n");
        let b = parse(text.as_bytes()).unwrap();
        assert_eq!(b.total_rows, 8);
        assert_eq!(b.accepted.len(), 1);
        assert_eq!(b.accepted[0].hip, 5);
        assert_eq!(b.accepted[0].notes[0].code, NoteCode::UncertainDistance);
        let codes: Vec<Vec<&str>> =
            b.quarantined.iter().map(|q| q.issues.iter().map(|i| i.code.as_str()).collect()).collect();
        assert_eq!(
            codes,
            vec![
                vec!["NON_POSITIVE_PARALLAX"],
                vec!["IMPLAUSIBLE_PARALLAX"],
                vec!["OUT_OF_RANGE", "OUT_OF_RANGE"],
                vec!["INVALID_NUMERIC"],
                vec!["DUPLICATE_IDENTITY"],
                vec!["MALFORMED_ROW"],
                vec!["REQUIRED_NULL"],
            ]
        );
        assert_eq!(b.duplicate_rows, 1);
        assert_eq!(b.quarantined[0].line, 1);
        assert!(b.quarantined[0].raw.iter().any(|(k, v)| k == "plx" && v == "-1.5"));
    }

    #[test]
    fn empty_and_garbage_never_panic() {
        assert_eq!(parse(b""), Err(FileError::Empty));
        assert_eq!(parse(b"\n \n"), Err(FileError::Empty));
        let mut junk = vec![0xffu8; 300];
        junk.extend_from_slice(b"\n\xe2\x82");
        let b = parse(&junk).unwrap();
        assert_eq!(b.quarantined.len(), 2);
        assert_eq!(b.quarantined[0].issues[0].code, ReasonCode::InvalidEncoding);
    }
}

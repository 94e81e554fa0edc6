//! The SIMBAD neighbourhood list (`SIMBAD_0x.csv`, DOMAIN.md §4.1–§4.4) and its ingest
//! contract, version 2.
//!
//! [`parse`] turns the raw bytes of one file into a [`SimbadBatch`]: every data row is either
//! accepted as a typed [`SimbadRecord`] (possibly carrying repair notes) or quarantined with
//! every check it failed. A whole file is refused only when it has no header, lacks a
//! required column, or the CSV reader itself gives up ([`FileError`]).
//!
//! Per-row rules (contract v2):
//! * field count ≠ header count → `MALFORMED_ROW` (column `"*"`), no other check;
//! * a cell that is not UTF-8 → `INVALID_ENCODING` (that column is not checked further);
//! * `sys_id`, `main_id`, `average_of_ra`, `average_of_dec` blank → `REQUIRED_NULL`
//!   (`average_of_dist` may be blank);
//! * `sys_id` not an integer, ra/dec/dist not a finite number → `INVALID_NUMERIC`;
//! * ra ∉ [0, 360], dec ∉ [−90, 90], dist ∉ [0, 1e6] (inclusive) → `OUT_OF_RANGE`;
//! * ra valid and ≤ 24 while `otype_txt` is blank (a hand-appended row) →
//!   `RA_LOOKS_LIKE_HOURS` (never auto-converted);
//! * (`sys_id`, normalised `main_id`) seen on an earlier row → `DUPLICATE_IDENTITY`.
//!
//! Missing optional columns read as blank cells.

use crate::catalogue::contract::{
    FileError, GateConfig, GateStatus, NoteCode, ReasonCode, RowIssue, RowNote, gate_status,
};
use crate::catalogue::rows::{self, Cell, non_blank, number, required_null, show, split_list};
use crate::names::normalise_id;
use serde::{Deserialize, Serialize};
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

/// Version tag recorded with every batch validated by this module.
pub const CONTRACT_VERSION: &str = "simbad.v2";

/// Columns (normalised names) a SIMBAD file must have; any missing → the file is refused.
pub const REQUIRED_COLUMNS: [&str; 5] = ["sys_id", "main_id", "average_of_ra", "average_of_dec", "average_of_dist"];

/// Optional columns the parser reads when present.
pub const OPTIONAL_COLUMNS: [&str; 6] = ["sys_code", "ids", "otype_txt", "otype_shortname", "otype_longname", "otypes"];

/// `otypes` tokens that mark a double/multiple system.
pub const MULTIPLICITY_OTYPES: [&str; 6] = ["**", "SB*", "EB*", "El*", "bL*", "WU*"];

/// Inclusive bounds.
pub const RA_RANGE_DEG: (f64, f64) = (0.0, 360.0);
pub const DEC_RANGE_DEG: (f64, f64) = (-90.0, 90.0);
pub const DIST_RANGE_PC: (f64, f64) = (0.0, 1e6);
/// An RA at or below this many degrees on a row with a blank `otype_txt` is taken to be hours.
pub const RA_HOURS_MAX: f64 = 24.0;

pub use crate::catalogue::contract::{MAX_COLUMNS, MAX_EXTRA_RAW_CELLS, QuarantinedRow};

/// U+2212 MINUS SIGN, replaced by ASCII `-` in identifiers.
const UNICODE_MINUS: char = '\u{2212}';

/// Column name used for a duplicate-identity issue (the key spans two columns).
pub const IDENTITY_COLUMN: &str = "sys_id,main_id";

/// One accepted SIMBAD row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimbadRecord {
    /// Line number in the file where the row starts (header = 1, first data row = 2).
    pub line: u32,
    pub sys_id: i64,
    /// Normalised; `None` when blank.
    pub sys_code: Option<String>,
    /// [`normalise_id`] of the raw value.
    pub main_id: String,
    /// Exactly as in the file.
    pub main_id_raw: String,
    /// Split on `|`, each [`normalise_id`]'d (U+2212 → `-`), blanks dropped.
    pub ids: Vec<String>,
    pub otype_txt: Option<String>,
    pub otype_shortname: Option<String>,
    pub otype_longname: Option<String>,
    /// Split on `|`, normalised tokens, blanks dropped; empty when the cell held a spectral
    /// type (see `spectral_type`).
    pub otypes: Vec<String>,
    /// Only when repaired from `otypes` (all three otype columns blank); SIMBAD has no
    /// spectral-type column.
    pub spectral_type: Option<String>,
    pub ra_deg: f64,
    pub dec_deg: f64,
    /// `None` when blank.
    pub dist_pc: Option<f64>,
    /// 2 if any `otypes` token is in [`MULTIPLICITY_OTYPES`], else 1.
    pub multiplicity: u8,
    pub notes: Vec<RowNote>,
}

/// The outcome of validating one SIMBAD file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimbadBatch {
    /// Data rows read (header excluded; blank lines are not rows).
    pub total_rows: usize,
    pub accepted: Vec<SimbadRecord>,
    pub quarantined: Vec<QuarantinedRow>,
    /// Rows quarantined for `DUPLICATE_IDENTITY`.
    pub duplicate_rows: usize,
}

impl SimbadBatch {
    /// Number of issues (quarantine records) per code; codes that never occur are absent.
    pub fn issue_counts(&self) -> BTreeMap<ReasonCode, usize> {
        super::contract::issue_counts(&self.quarantined)
    }

    /// Number of accepted rows carrying each note code; codes that never occur are absent.
    pub fn note_counts(&self) -> BTreeMap<NoteCode, usize> {
        super::contract::note_counts(self.accepted.iter().map(|r| r.notes.as_slice()))
    }

    /// Number of quarantined rows.
    pub fn quarantined_rows(&self) -> usize {
        self.quarantined.len()
    }

    /// The file's gate under `cfg` ([`gate_status`] over this batch's counts).
    pub fn gate(&self, cfg: &GateConfig) -> GateStatus {
        gate_status(cfg, self.total_rows, self.quarantined.len(), self.duplicate_rows)
    }
}

/// Validate one SIMBAD file. Never panics, whatever the bytes.
pub fn parse(bytes: &[u8]) -> Result<SimbadBatch, FileError> {
    parse_part(bytes, 0, HashMap::new()).map(|(batch, _)| batch)
}

/// A row's identity `(sys_id, main_id)`: its first occurrence is kept, later ones are duplicates.
pub type Identity = (i64, String);

/// Validate one shard of a SIMBAD file (`super::shard`): `bytes` is the file's header followed
/// by the shard's lines, `line_offset` moves line numbers to the whole file's, and `seen` holds
/// the identities first seen before this shard (with their lines), so a duplicate across
/// shards is reported exactly as in one pass. Returns the batch and `seen` as it ends (every
/// identity the shard met, at its first line). `parse(b)` is `parse_part(b, 0, {})`.
pub fn parse_part(
    bytes: &[u8],
    line_offset: u32,
    mut seen: HashMap<Identity, u32>,
) -> Result<(SimbadBatch, HashMap<Identity, u32>), FileError> {
    let parsed =
        rows::parse_rows(bytes, line_offset, &REQUIRED_COLUMNS, Columns::locate, |cols, record, header, line| {
            check_row(record, header, cols, line, &mut seen)
        })?;
    let batch = SimbadBatch {
        total_rows: parsed.total_rows,
        accepted: parsed.accepted,
        quarantined: parsed.quarantined,
        duplicate_rows: parsed.duplicate_rows,
    };
    Ok((batch, seen))
}

/// An identity as one text key (`sys_id`, U+001F, `main_id`): how the store compares
/// identities across shards.
pub fn identity_key((sys_id, main_id): &Identity) -> String {
    format!("{sys_id}\u{1f}{main_id}")
}

/// The identity of an [`identity_key`].
pub fn identity_of_key(key: &str) -> Option<Identity> {
    let (sys_id, main_id) = key.split_once('\u{1f}')?;
    Some((sys_id.parse().ok()?, main_id.to_string()))
}

/// Positions of the columns the contract reads (first occurrence of each name).
struct Columns {
    sys_id: usize,
    main_id: usize,
    ra: usize,
    dec: usize,
    dist: usize,
    sys_code: Option<usize>,
    ids: Option<usize>,
    otype_txt: Option<usize>,
    otype_shortname: Option<usize>,
    otype_longname: Option<usize>,
    otypes: Option<usize>,
}

impl Columns {
    /// Called after the driver checked every required column is present; `usize::MAX` (read as
    /// a blank cell) only to stay panic-free.
    fn locate(header: &[String]) -> Columns {
        let find = |name: &str| rows::find(header, name);
        let required = |name: &str| find(name).unwrap_or(usize::MAX);
        Columns {
            sys_id: required("sys_id"),
            main_id: required("main_id"),
            ra: required("average_of_ra"),
            dec: required("average_of_dec"),
            dist: required("average_of_dist"),
            sys_code: find("sys_code"),
            ids: find("ids"),
            otype_txt: find("otype_txt"),
            otype_shortname: find("otype_shortname"),
            otype_longname: find("otype_longname"),
            otypes: find("otypes"),
        }
    }
}

/// Validate one record: the typed record, or every issue found.
fn check_row(
    record: &csv::ByteRecord,
    header: &[String],
    cols: &Columns,
    line: u32,
    seen: &mut HashMap<(i64, String), u32>,
) -> Result<SimbadRecord, Vec<RowIssue>> {
    rows::check_width(record, header)?;
    let mut issues = Vec::new();
    let cells = rows::decode_cells(record, header, &mut issues);
    let cell = |i: usize| cells.get(i).copied().unwrap_or(Cell::Text(""));
    let opt_cell = |i: Option<usize>| i.map_or(Cell::Text(""), cell);

    let sys_id = sys_id(cell(cols.sys_id), &mut issues);
    let main_id_cell = cell(cols.main_id);
    let main_id = main_id(main_id_cell, &mut issues);
    let ra = number(cell(cols.ra), "average_of_ra", true, RA_RANGE_DEG, &mut issues);
    let dec = number(cell(cols.dec), "average_of_dec", true, DEC_RANGE_DEG, &mut issues);
    let dist = number(cell(cols.dist), "average_of_dist", false, DIST_RANGE_PC, &mut issues);
    let otype_txt = opt_cell(cols.otype_txt);
    check_ra_hours(ra, otype_txt, &mut issues);
    if let (Some(sys_id), Some(main_id)) = (sys_id, &main_id) {
        check_identity(seen, sys_id, main_id, line, &mut issues);
    }

    if !issues.is_empty() {
        return Err(issues);
    }
    // No issues: every required value is present and every cell is UTF-8.
    let (Some(sys_id), Some(main_id), Some(ra_deg), Some(dec_deg)) = (sys_id, main_id, ra, dec) else {
        // Unreachable by construction; report rather than panic.
        return Err(vec![RowIssue::new(ReasonCode::MalformedRow, "*", "internal: incomplete row")]);
    };

    let mut notes = Vec::new();
    let main_id_raw = main_id_cell.text().to_string();
    if main_id_raw != main_id {
        notes.push(RowNote::new(
            NoteCode::WhitespaceNormalised,
            "main_id",
            "whitespace trimmed/collapsed; raw value kept in main_id_raw",
        ));
    }
    let otype_shortname = opt_cell(cols.otype_shortname);
    let otype_longname = opt_cell(cols.otype_longname);
    let otype_cells_blank = otype_txt.is_blank() && otype_shortname.is_blank() && otype_longname.is_blank();
    let (otypes, spectral_type) = otypes(opt_cell(cols.otypes), otype_cells_blank, &mut notes);
    let ids = ids(opt_cell(cols.ids), &mut notes);
    let multiplicity = if otypes.iter().any(|t| MULTIPLICITY_OTYPES.contains(&t.as_str())) { 2 } else { 1 };

    Ok(SimbadRecord {
        line,
        sys_id,
        sys_code: non_blank(opt_cell(cols.sys_code).text()),
        main_id,
        main_id_raw,
        ids,
        otype_txt: non_blank(otype_txt.text()),
        otype_shortname: non_blank(otype_shortname.text()),
        otype_longname: non_blank(otype_longname.text()),
        otypes,
        spectral_type,
        ra_deg,
        dec_deg,
        dist_pc: dist,
        multiplicity,
        notes,
    })
}

/// `sys_id`: a required integer.
fn sys_id(cell: Cell<'_>, issues: &mut Vec<RowIssue>) -> Option<i64> {
    match cell {
        Cell::Invalid => None,
        c if c.is_blank() => {
            issues.push(required_null("sys_id"));
            None
        }
        Cell::Text(s) => match s.trim().parse::<i64>() {
            Ok(v) => Some(v),
            Err(_) => {
                issues.push(RowIssue::new(
                    ReasonCode::InvalidNumeric,
                    "sys_id",
                    format!("not an integer: {}", show(s)),
                ));
                None
            }
        },
    }
}

/// `main_id`: required, whitespace-normalised.
fn main_id(cell: Cell<'_>, issues: &mut Vec<RowIssue>) -> Option<String> {
    match cell {
        Cell::Invalid => None,
        Cell::Text(s) => {
            let norm = normalise_id(s);
            if norm.is_empty() {
                issues.push(required_null("main_id"));
                None
            } else {
                Some(norm)
            }
        }
    }
}

/// Hand-appended rows (blank otype_txt) with an RA that reads like hours.
fn check_ra_hours(ra: Option<f64>, otype_txt: Cell<'_>, issues: &mut Vec<RowIssue>) {
    if let Some(ra) = ra
        && ra <= RA_HOURS_MAX
        && otype_txt.is_blank()
    {
        issues.push(RowIssue::new(
            ReasonCode::RaLooksLikeHours,
            "average_of_ra",
            format!("RA {ra} <= {RA_HOURS_MAX} with blank otype_txt: probably hours, not degrees"),
        ));
    }
}

/// Identity `(sys_id, main_id)`: the first occurrence is kept, whether or not it was itself
/// accepted; a later one is a duplicate.
fn check_identity(
    seen: &mut HashMap<(i64, String), u32>,
    sys_id: i64,
    main_id: &str,
    line: u32,
    issues: &mut Vec<RowIssue>,
) {
    match seen.entry((sys_id, main_id.to_string())) {
        Entry::Occupied(first) => issues.push(RowIssue::new(
            ReasonCode::DuplicateIdentity,
            IDENTITY_COLUMN,
            format!("(sys_id {sys_id}, main_id {main_id:?}) first seen on line {}", first.get()),
        )),
        Entry::Vacant(slot) => {
            slot.insert(line);
        }
    }
}

/// The object types, or — when every other otype column is blank — the `otypes` cell read as
/// a spectral type (noted).
fn otypes(cell: Cell<'_>, otype_cells_blank: bool, notes: &mut Vec<RowNote>) -> (Vec<String>, Option<String>) {
    if otype_cells_blank && !cell.is_blank() {
        let spt = normalise_id(cell.text());
        notes.push(RowNote::new(
            NoteCode::SpectralTypeFromOtypes,
            "otypes",
            format!("otype columns blank; otypes value {} taken as a spectral type", show(&spt)),
        ));
        (Vec::new(), Some(spt))
    } else {
        (split_list(cell.text(), '|'), None)
    }
}

/// The identifiers, with U+2212 minus signs replaced by `-` (noted).
fn ids(cell: Cell<'_>, notes: &mut Vec<RowNote>) -> Vec<String> {
    let mut ids = split_list(cell.text(), '|');
    let minus_count: usize = ids.iter().map(|id| id.matches(UNICODE_MINUS).count()).sum();
    if minus_count > 0 {
        for id in &mut ids {
            if id.contains(UNICODE_MINUS) {
                *id = id.replace(UNICODE_MINUS, "-");
            }
        }
        notes.push(RowNote::new(
            NoteCode::NonAsciiNormalised,
            "ids",
            format!("{minus_count} U+2212 minus sign(s) replaced with '-'"),
        ));
    }
    ids
}

#[cfg(test)]
mod tests;

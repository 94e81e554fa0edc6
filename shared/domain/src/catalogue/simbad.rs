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
    FileError, GateConfig, GateStatus, NoteCode, ReasonCode, RowIssue, RowNote, gate_status, normalise_header,
};
use crate::names::normalise_id;
use serde::Serialize;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};

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

/// Widest header accepted (the SIMBAD files have 11 columns).
pub const MAX_COLUMNS: usize = 4096;
/// Cells beyond the header width kept individually in [`QuarantinedRow::raw`].
pub const MAX_EXTRA_RAW_CELLS: usize = 32;

/// U+2212 MINUS SIGN, replaced by ASCII `-` in identifiers.
const UNICODE_MINUS: char = '\u{2212}';

/// Column name used for a duplicate-identity issue (the key spans two columns).
pub const IDENTITY_COLUMN: &str = "sys_id,main_id";

/// One accepted SIMBAD row.
#[derive(Debug, Clone, PartialEq, Serialize)]
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

/// A row that failed at least one check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuarantinedRow {
    pub line: u32,
    pub issues: Vec<RowIssue>,
    /// (normalised header, raw cell as read, lossily decoded) in file order. Cells beyond the
    /// header's width are named `column_<n>` (1-based position; see [`MAX_EXTRA_RAW_CELLS`]).
    pub raw: Vec<(String, String)>,
}

/// The outcome of validating one SIMBAD file.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
        let mut counts = BTreeMap::new();
        for issue in self.quarantined.iter().flat_map(|q| &q.issues) {
            *counts.entry(issue.code).or_insert(0) += 1;
        }
        counts
    }

    /// Number of accepted rows carrying each note code; codes that never occur are absent.
    pub fn note_counts(&self) -> BTreeMap<NoteCode, usize> {
        let mut counts = BTreeMap::new();
        for rec in &self.accepted {
            let codes: HashSet<NoteCode> = rec.notes.iter().map(|n| n.code).collect();
            for code in codes {
                *counts.entry(code).or_insert(0) += 1;
            }
        }
        counts
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
    // Strip the BOM before the CSV reader sees it, so a quoted first header still parses.
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(body);

    let mut record = csv::ByteRecord::new();
    let has_header = reader.read_byte_record(&mut record).map_err(|e| csv_error(&e))?;
    if !has_header {
        return Err(FileError::Empty);
    }
    let mut lines = LineCounter::default();
    if record.len() > MAX_COLUMNS {
        let line = record.position().map_or(1, |p| lines.line_at(body, p.byte()));
        return Err(oversized_header(&record, line));
    }
    let header: Vec<String> = record.iter().map(|f| normalise_header(&String::from_utf8_lossy(f))).collect();
    if header.iter().all(String::is_empty) {
        return Err(FileError::Empty);
    }
    let cols = Columns::locate(&header)?;

    let mut batch = SimbadBatch { total_rows: 0, accepted: Vec::new(), quarantined: Vec::new(), duplicate_rows: 0 };
    let mut seen: HashMap<(i64, String), u32> = HashMap::new();

    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(&e)),
        }
        batch.total_rows += 1;
        let line = record.position().map_or(0, |p| lines.line_at(body, p.byte()));
        match check_row(&record, &header, &cols, line, &mut seen) {
            Ok(rec) => batch.accepted.push(rec),
            Err(issues) => {
                if issues.iter().any(|i| i.code == ReasonCode::DuplicateIdentity) {
                    batch.duplicate_rows += 1;
                }
                batch.quarantined.push(QuarantinedRow { line, issues, raw: raw_cells(&record, &header) });
            }
        }
    }
    Ok(batch)
}

/// A header wider than [`MAX_COLUMNS`]: report the missing required columns if any (without
/// materialising every name), else refuse the width.
fn oversized_header(record: &csv::ByteRecord, line: u32) -> FileError {
    let mut found = [false; REQUIRED_COLUMNS.len()];
    for field in record.iter() {
        let name = normalise_header(&String::from_utf8_lossy(field));
        if let Some(i) = REQUIRED_COLUMNS.iter().position(|c| *c == name) {
            found[i] = true;
        }
    }
    let missing: Vec<String> =
        REQUIRED_COLUMNS.iter().zip(found).filter(|(_, f)| !f).map(|(c, _)| c.to_string()).collect();
    if missing.is_empty() {
        FileError::Csv {
            line: u64::from(line),
            message: format!("header has {} columns; at most {MAX_COLUMNS} supported", record.len()),
        }
    } else {
        FileError::MissingColumns(missing)
    }
}

/// 1-based line numbers from byte offsets, counted incrementally (offsets only grow).
///
/// The CSV reader's own line counter lags by one after a CRLF terminator and points at
/// skipped blank lines, so a record's line is derived from where its first byte really is:
/// the recorded offset, moved past any line terminators the reader had not yet consumed.
#[derive(Default)]
struct LineCounter {
    offset: usize,
    newlines: usize,
}

impl LineCounter {
    fn line_at(&mut self, body: &[u8], byte: u64) -> u32 {
        let mut start = usize::try_from(byte).unwrap_or(usize::MAX).min(body.len());
        while matches!(body.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if start > self.offset {
            self.newlines += body[self.offset..start].iter().filter(|&&b| b == b'\n').count();
            self.offset = start;
        }
        u32::try_from(self.newlines + 1).unwrap_or(u32::MAX)
    }
}

fn csv_error(e: &csv::Error) -> FileError {
    FileError::Csv { line: e.position().map_or(0, |p| p.line()), message: e.to_string() }
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
    fn locate(header: &[String]) -> Result<Columns, FileError> {
        let find = |name: &str| header.iter().position(|h| h == name);
        let missing: Vec<String> =
            REQUIRED_COLUMNS.iter().filter(|c| find(c).is_none()).map(|c| c.to_string()).collect();
        if !missing.is_empty() {
            return Err(FileError::MissingColumns(missing));
        }
        // All present (checked above); `unwrap_or` only to stay panic-free.
        let required = |name: &str| find(name).unwrap_or(usize::MAX);
        Ok(Columns {
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
        })
    }
}

/// A cell as the checks see it.
#[derive(Clone, Copy)]
enum Cell<'a> {
    Text(&'a str),
    /// Not UTF-8 (already reported as `INVALID_ENCODING`).
    Invalid,
}

impl<'a> Cell<'a> {
    fn is_blank(self) -> bool {
        matches!(self, Cell::Text(s) if s.trim().is_empty())
    }
    fn text(self) -> &'a str {
        match self {
            Cell::Text(s) => s,
            Cell::Invalid => "",
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
    if record.len() != header.len() {
        return Err(vec![RowIssue::new(
            ReasonCode::MalformedRow,
            "*",
            format!("expected {} fields, found {}", header.len(), record.len()),
        )]);
    }

    let mut issues = Vec::new();
    let cells: Vec<Cell> = record
        .iter()
        .zip(header)
        .map(|(bytes, name)| match std::str::from_utf8(bytes) {
            Ok(s) => Cell::Text(s),
            Err(e) => {
                issues.push(RowIssue::new(
                    ReasonCode::InvalidEncoding,
                    name.as_str(),
                    format!("invalid UTF-8 at byte {} of the cell", e.valid_up_to()),
                ));
                Cell::Invalid
            }
        })
        .collect();
    let cell = |i: usize| cells.get(i).copied().unwrap_or(Cell::Text(""));
    let opt_cell = |i: Option<usize>| i.map_or(Cell::Text(""), cell);

    // sys_id
    let sys_id = match cell(cols.sys_id) {
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
    };

    // main_id
    let main_id_cell = cell(cols.main_id);
    let main_id = match main_id_cell {
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
    };

    // Coordinates and distance.
    let ra = number(cell(cols.ra), "average_of_ra", true, RA_RANGE_DEG, &mut issues);
    let dec = number(cell(cols.dec), "average_of_dec", true, DEC_RANGE_DEG, &mut issues);
    let dist = number(cell(cols.dist), "average_of_dist", false, DIST_RANGE_PC, &mut issues);

    // Hand-appended rows (blank otype_txt) with an RA that reads like hours.
    let otype_txt = opt_cell(cols.otype_txt);
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

    // Identity (first occurrence kept, whether or not it was itself accepted).
    if let (Some(sys_id), Some(main_id)) = (sys_id, &main_id) {
        match seen.entry((sys_id, main_id.clone())) {
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
    let otypes_cell = opt_cell(cols.otypes);
    let (otypes, spectral_type) =
        if otype_txt.is_blank() && otype_shortname.is_blank() && otype_longname.is_blank() && !otypes_cell.is_blank() {
            let spt = normalise_id(otypes_cell.text());
            notes.push(RowNote::new(
                NoteCode::SpectralTypeFromOtypes,
                "otypes",
                format!("otype columns blank; otypes value {} taken as a spectral type", show(&spt)),
            ));
            (Vec::new(), Some(spt))
        } else {
            (split_list(otypes_cell.text()), None)
        };

    let mut ids = split_list(opt_cell(cols.ids).text());
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

fn required_null(column: &str) -> RowIssue {
    RowIssue::new(ReasonCode::RequiredNull, column, "blank")
}

/// Parse a numeric cell: `None` when blank (with `REQUIRED_NULL` if `required`), unparsable
/// (`INVALID_NUMERIC`), out of `range` (`OUT_OF_RANGE`) or not UTF-8.
fn number(cell: Cell, column: &str, required: bool, (lo, hi): (f64, f64), issues: &mut Vec<RowIssue>) -> Option<f64> {
    let s = match cell {
        Cell::Invalid => return None,
        Cell::Text(s) => s.trim(),
    };
    if s.is_empty() {
        if required {
            issues.push(required_null(column));
        }
        return None;
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => {
            if (lo..=hi).contains(&v) {
                Some(v)
            } else {
                issues.push(RowIssue::new(ReasonCode::OutOfRange, column, format!("{v} outside [{lo}, {hi}]")));
                None
            }
        }
        _ => {
            issues.push(RowIssue::new(ReasonCode::InvalidNumeric, column, format!("not a finite number: {}", show(s))));
            None
        }
    }
}

/// Split a `|`-separated cell into normalised, non-blank tokens.
fn split_list(cell: &str) -> Vec<String> {
    cell.split('|').map(normalise_id).filter(|t| !t.is_empty()).collect()
}

fn non_blank(cell: &str) -> Option<String> {
    let n = normalise_id(cell);
    (!n.is_empty()).then_some(n)
}

/// A value for an issue detail, quoted and cut to a sane length.
fn show(s: &str) -> String {
    const MAX_CHARS: usize = 64;
    if s.chars().count() <= MAX_CHARS {
        format!("{s:?}")
    } else {
        let head: String = s.chars().take(MAX_CHARS).collect();
        format!("{head:?}… ({} bytes)", s.len())
    }
}

/// The row's cells for the quarantine table. Cells beyond the header are named `column_<n>`;
/// past [`MAX_EXTRA_RAW_CELLS`] of them, the remainder is joined with `,` into one last entry
/// named `column_<n>+` so a pathological row cannot explode into millions of entries.
fn raw_cells(record: &csv::ByteRecord, header: &[String]) -> Vec<(String, String)> {
    let keep = header.len() + MAX_EXTRA_RAW_CELLS;
    let mut raw: Vec<(String, String)> = record
        .iter()
        .take(keep)
        .enumerate()
        .map(|(i, bytes)| {
            let name = header.get(i).cloned().unwrap_or_else(|| format!("column_{}", i + 1));
            (name, String::from_utf8_lossy(bytes).into_owned())
        })
        .collect();
    if record.len() > keep {
        let rest: Vec<String> = record.iter().skip(keep).map(|b| String::from_utf8_lossy(b).into_owned()).collect();
        raw.push((format!("column_{}+", keep + 1), rest.join(",")));
    }
    raw
}

#[cfg(test)]
mod tests;

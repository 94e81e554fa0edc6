//! Row machinery shared by every catalogue contract: the CSV driver (BOM, header
//! normalisation, required columns, honest line numbers, bounded quarantine rows), cell
//! decoding and the numeric checks. Every function here is total: arbitrary bytes in, a
//! [`FileError`] or a batch out, never a panic.

use crate::catalogue::contract::{
    FileError, MAX_COLUMNS, MAX_EXTRA_RAW_CELLS, QuarantinedRow, ReasonCode, RowIssue, normalise_header,
};
use crate::names::normalise_id;

/// What the driver hands back: every data row accepted (as `R`) or quarantined.
pub(crate) struct Parsed<R> {
    pub total_rows: usize,
    pub accepted: Vec<R>,
    pub quarantined: Vec<QuarantinedRow>,
    /// Quarantined rows that carry a `DUPLICATE_IDENTITY` issue.
    pub duplicate_rows: usize,
}

/// Read a whole CSV file: strip the BOM, normalise the header, refuse the file when a
/// `required` column is missing, then `check` every record (with its 1-based line).
///
/// `setup` locates the contract's columns in the normalised header (called once, after the
/// required-column check). With `line_offset` 0, a whole file; for one shard of a file (`crate::catalogue::shard`),
/// `bytes` is the file's header followed by the shard's lines and `line_offset` is added to
/// every line number, so rows and errors carry their line in the whole file.
pub(crate) fn parse_rows<C, R>(
    bytes: &[u8],
    line_offset: u32,
    required: &[&str],
    setup: impl FnOnce(&[String]) -> C,
    mut check: impl FnMut(&C, &csv::ByteRecord, &[String], u32) -> Result<R, Vec<RowIssue>>,
) -> Result<Parsed<R>, FileError> {
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
        return Err(oversized_header(&record, line, required));
    }
    let header: Vec<String> = record.iter().map(|f| normalise_header(&String::from_utf8_lossy(f))).collect();
    if header.iter().all(String::is_empty) {
        return Err(FileError::Empty);
    }
    let missing: Vec<String> =
        required.iter().filter(|c| !header.iter().any(|h| h == *c)).map(|c| c.to_string()).collect();
    if !missing.is_empty() {
        return Err(FileError::MissingColumns(missing));
    }
    let cols = setup(&header);

    let mut out = Parsed { total_rows: 0, accepted: Vec::new(), quarantined: Vec::new(), duplicate_rows: 0 };
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(shifted(csv_error(&e), line_offset)),
        }
        out.total_rows += 1;
        let line = record.position().map_or(0, |p| lines.line_at(body, p.byte())).saturating_add(line_offset);
        match check(&cols, &record, &header, line) {
            Ok(rec) => out.accepted.push(rec),
            Err(issues) => {
                if issues.iter().any(|i| i.code == ReasonCode::DuplicateIdentity) {
                    out.duplicate_rows += 1;
                }
                out.quarantined.push(QuarantinedRow { line, issues, raw: raw_cells(&record, &header) });
            }
        }
    }
    Ok(out)
}

/// Position of a column (first occurrence) in the normalised header.
pub(crate) fn find(header: &[String], name: &str) -> Option<usize> {
    header.iter().position(|h| h == name)
}

/// A header wider than [`MAX_COLUMNS`]: report the missing required columns if any (without
/// materialising every name), else refuse the width.
fn oversized_header(record: &csv::ByteRecord, line: u32, required: &[&str]) -> FileError {
    let mut found = vec![false; required.len()];
    for field in record.iter() {
        let name = normalise_header(&String::from_utf8_lossy(field));
        if let Some(i) = required.iter().position(|c| *c == name) {
            found[i] = true;
        }
    }
    let missing: Vec<String> = required.iter().zip(found).filter(|(_, f)| !f).map(|(c, _)| c.to_string()).collect();
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

/// A CSV error's line moved by a shard's offset.
fn shifted(e: FileError, line_offset: u32) -> FileError {
    match e {
        FileError::Csv { line, message } if line_offset > 0 => {
            FileError::Csv { line: line + u64::from(line_offset), message }
        }
        e => e,
    }
}

fn csv_error(e: &csv::Error) -> FileError {
    FileError::Csv { line: e.position().map_or(0, |p| p.line()), message: e.to_string() }
}

/// A cell as the checks see it.
#[derive(Clone, Copy)]
pub(crate) enum Cell<'a> {
    Text(&'a str),
    /// Not UTF-8 (already reported as `INVALID_ENCODING`).
    Invalid,
}

impl<'a> Cell<'a> {
    pub(crate) fn is_blank(self) -> bool {
        matches!(self, Cell::Text(s) if s.trim().is_empty())
    }
    pub(crate) fn text(self) -> &'a str {
        match self {
            Cell::Text(s) => s,
            Cell::Invalid => "",
        }
    }
}

/// Field count must equal the header's: otherwise one `MALFORMED_ROW` issue (no other check).
pub(crate) fn check_width(record: &csv::ByteRecord, header: &[String]) -> Result<(), Vec<RowIssue>> {
    if record.len() == header.len() {
        Ok(())
    } else {
        Err(vec![RowIssue::new(
            ReasonCode::MalformedRow,
            "*",
            format!("expected {} fields, found {}", header.len(), record.len()),
        )])
    }
}

/// Decode every cell; a non-UTF-8 cell becomes [`Cell::Invalid`] with an `INVALID_ENCODING`
/// issue on its column.
pub(crate) fn decode_cells<'a>(
    record: &'a csv::ByteRecord,
    header: &[String],
    issues: &mut Vec<RowIssue>,
) -> Vec<Cell<'a>> {
    record
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
        .collect()
}

pub(crate) fn required_null(column: &str) -> RowIssue {
    RowIssue::new(ReasonCode::RequiredNull, column, "blank")
}

/// Parse a numeric cell: `None` when blank (with `REQUIRED_NULL` if `required`), unparsable
/// (`INVALID_NUMERIC`), out of `range` (`OUT_OF_RANGE`) or not UTF-8.
pub(crate) fn number(
    cell: Cell,
    column: &str,
    required: bool,
    (lo, hi): (f64, f64),
    issues: &mut Vec<RowIssue>,
) -> Option<f64> {
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

/// Split a cell on `sep` into normalised, non-blank tokens.
pub(crate) fn split_list(cell: &str, sep: char) -> Vec<String> {
    cell.split(sep).map(normalise_id).filter(|t| !t.is_empty()).collect()
}

pub(crate) fn non_blank(cell: &str) -> Option<String> {
    let n = normalise_id(cell);
    (!n.is_empty()).then_some(n)
}

/// A value for an issue detail, quoted and cut to a sane length.
pub(crate) fn show(s: &str) -> String {
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

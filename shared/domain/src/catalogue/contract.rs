//! Vocabulary shared by every ingest contract (DOMAIN.md §4.4): reason codes for quarantined
//! rows, notes for repaired rows, the per-file gate and the reasons a whole file is refused.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a row was quarantined. Serialised as its [`ReasonCode::as_str`] code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReasonCode {
    /// A required cell is blank after trimming.
    RequiredNull,
    /// A numeric cell does not parse (integer for ids, finite number otherwise).
    InvalidNumeric,
    /// A number is outside its inclusive bounds.
    OutOfRange,
    /// The row's identity key was already seen earlier in the file (first occurrence kept).
    DuplicateIdentity,
    /// SIMBAD: RA ≤ 24 on a hand-appended row (blank `otype_txt`) — probably hours, not degrees.
    RaLooksLikeHours,
    /// The record has a different number of fields than the header.
    MalformedRow,
    /// A cell is not valid UTF-8.
    InvalidEncoding,
    /// HIPPARCOS: a parallax ≤ 0 (no distance can be derived from it).
    NonPositiveParallax,
    /// HIPPARCOS: a parallax larger than any star's (> 1000 mas, closer than Proxima).
    ImplausibleParallax,
}

impl ReasonCode {
    /// Every code, in declaration (and `Ord`) order.
    pub const ALL: [ReasonCode; 9] = [
        ReasonCode::RequiredNull,
        ReasonCode::InvalidNumeric,
        ReasonCode::OutOfRange,
        ReasonCode::DuplicateIdentity,
        ReasonCode::RaLooksLikeHours,
        ReasonCode::MalformedRow,
        ReasonCode::InvalidEncoding,
        ReasonCode::NonPositiveParallax,
        ReasonCode::ImplausibleParallax,
    ];

    /// The stable code stored in quarantine tables and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::RequiredNull => "REQUIRED_NULL",
            ReasonCode::InvalidNumeric => "INVALID_NUMERIC",
            ReasonCode::OutOfRange => "OUT_OF_RANGE",
            ReasonCode::DuplicateIdentity => "DUPLICATE_IDENTITY",
            ReasonCode::RaLooksLikeHours => "RA_LOOKS_LIKE_HOURS",
            ReasonCode::MalformedRow => "MALFORMED_ROW",
            ReasonCode::InvalidEncoding => "INVALID_ENCODING",
            ReasonCode::NonPositiveParallax => "NON_POSITIVE_PARALLAX",
            ReasonCode::ImplausibleParallax => "IMPLAUSIBLE_PARALLAX",
        }
    }

    /// Inverse of [`ReasonCode::as_str`].
    pub fn parse(code: &str) -> Option<ReasonCode> {
        ReasonCode::ALL.into_iter().find(|c| c.as_str() == code)
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One failed check on one row (a row failing two checks has two issues).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowIssue {
    pub code: ReasonCode,
    /// Normalised column name, or `"*"` for a whole-row problem.
    pub column: String,
    pub detail: String,
}

impl RowIssue {
    pub fn new(code: ReasonCode, column: impl Into<String>, detail: impl Into<String>) -> RowIssue {
        RowIssue { code, column: column.into(), detail: detail.into() }
    }
}

/// A warning or repair recorded on an accepted row. Serialised as its [`NoteCode::as_str`] code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NoteCode {
    /// An identifier was trimmed / had its internal whitespace collapsed (raw value kept).
    WhitespaceNormalised,
    /// A spectral type found in `otypes` (all otype columns blank) was moved out of it.
    SpectralTypeFromOtypes,
    /// A non-ASCII look-alike (U+2212 minus sign) was replaced by its ASCII form.
    NonAsciiNormalised,
    /// EXOPLANETS: a blank `star_name` was recovered from the planet name (trailing planet
    /// letter stripped) or from `star_alternate_names`.
    StarNameRecovered,
    /// HIPPARCOS: σ(plx)/plx > 0.2 — the distance is kept but marked uncertain.
    UncertainDistance,
}

impl NoteCode {
    /// Every code, in declaration (and `Ord`) order.
    pub const ALL: [NoteCode; 5] = [
        NoteCode::WhitespaceNormalised,
        NoteCode::SpectralTypeFromOtypes,
        NoteCode::NonAsciiNormalised,
        NoteCode::StarNameRecovered,
        NoteCode::UncertainDistance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NoteCode::WhitespaceNormalised => "WHITESPACE_NORMALISED",
            NoteCode::SpectralTypeFromOtypes => "SPECTRAL_TYPE_FROM_OTYPES",
            NoteCode::NonAsciiNormalised => "NON_ASCII_NORMALISED",
            NoteCode::StarNameRecovered => "STAR_NAME_RECOVERED",
            NoteCode::UncertainDistance => "UNCERTAIN_DISTANCE",
        }
    }

    /// Inverse of [`NoteCode::as_str`].
    pub fn parse(code: &str) -> Option<NoteCode> {
        NoteCode::ALL.into_iter().find(|c| c.as_str() == code)
    }
}

impl fmt::Display for NoteCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A warning or repair recorded on an accepted row (never a quarantine).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowNote {
    pub code: NoteCode,
    pub column: String,
    pub detail: String,
}

impl RowNote {
    pub fn new(code: NoteCode, column: impl Into<String>, detail: impl Into<String>) -> RowNote {
        RowNote { code, column: column.into(), detail: detail.into() }
    }
}

/// Widest header any contract accepts (the SIMBAD files have 11 columns, EXOPLANETS 98).
pub const MAX_COLUMNS: usize = 4096;
/// Cells beyond the header width kept individually in [`QuarantinedRow::raw`].
pub const MAX_EXTRA_RAW_CELLS: usize = 32;

/// A row that failed at least one check (any contract).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuarantinedRow {
    pub line: u32,
    pub issues: Vec<RowIssue>,
    /// (normalised header, raw cell as read, lossily decoded) in file order. Cells beyond the
    /// header's width are named `column_<n>` (1-based position; see [`MAX_EXTRA_RAW_CELLS`]).
    pub raw: Vec<(String, String)>,
}

/// Outcome of a file's quality gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateStatus {
    Pass,
    Warn,
    Fail,
}

impl GateStatus {
    pub const ALL: [GateStatus; 3] = [GateStatus::Pass, GateStatus::Warn, GateStatus::Fail];

    /// The one name (the `gate_status` columns and the JSON answers).
    pub fn as_str(self) -> &'static str {
        match self {
            GateStatus::Pass => "pass",
            GateStatus::Warn => "warn",
            GateStatus::Fail => "fail",
        }
    }

    /// The status named `s` ([`as_str`](GateStatus::as_str)), if any.
    pub fn parse(s: &str) -> Option<GateStatus> {
        GateStatus::ALL.into_iter().find(|g| g.as_str() == s)
    }
}

impl fmt::Display for GateStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Gate thresholds (rates in [0, 1]; exceeding — strictly greater than — triggers).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GateConfig {
    /// Quarantined rows / total rows above this → [`GateStatus::Fail`].
    pub max_quarantine_rate: f64,
    /// Duplicate rows / total rows above this → [`GateStatus::Warn`].
    pub max_duplicate_rate: f64,
}

impl Default for GateConfig {
    fn default() -> GateConfig {
        GateConfig { max_quarantine_rate: 0.20, max_duplicate_rate: 0.10 }
    }
}

/// `total_rows == 0` → Fail; quarantined/total > `max_quarantine_rate` → Fail;
/// duplicates/total > `max_duplicate_rate` → Warn; else Pass.
pub fn gate_status(cfg: &GateConfig, total_rows: usize, quarantined_rows: usize, duplicate_rows: usize) -> GateStatus {
    if total_rows == 0 {
        return GateStatus::Fail;
    }
    let total = total_rows as f64;
    if quarantined_rows as f64 / total > cfg.max_quarantine_rate {
        GateStatus::Fail
    } else if duplicate_rows as f64 / total > cfg.max_duplicate_rate {
        GateStatus::Warn
    } else {
        GateStatus::Pass
    }
}

/// Why a whole file is refused (the run fails with this reason).
#[derive(Debug, Clone, PartialEq)]
pub enum FileError {
    /// Zero bytes, or no header line (only a BOM / whitespace / blank lines).
    Empty,
    /// Required columns (normalised names) absent from the header, in contract order.
    MissingColumns(Vec<String>),
    /// The CSV reader stopped with an error at this (1-based) line.
    Csv { line: u64, message: String },
    /// A JSON source (NAMES) is not the document its contract expects.
    Json(String),
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileError::Empty => f.write_str("empty file: no header row"),
            FileError::MissingColumns(cols) => {
                write!(f, "missing required columns: {}", cols.join(", "))
            }
            FileError::Csv { line, message } => write!(f, "CSV error at line {line}: {message}"),
            FileError::Json(message) => write!(f, "JSON error: {message}"),
        }
    }
}

impl std::error::Error for FileError {}

/// Header normalisation: strip a UTF-8 BOM, trim, lowercase, spaces → `_`
/// (`"Average of ra"` → `"average_of_ra"`).
///
/// Every run of internal whitespace becomes a single `_`, so `"Average  of\tra"` also maps to
/// `"average_of_ra"`.
pub fn normalise_header(h: &str) -> String {
    let h = h.strip_prefix('\u{FEFF}').unwrap_or(h);
    h.split_whitespace().collect::<Vec<_>>().join("_").to_lowercase()
}

/// Number of issues (quarantine records) per code; codes that never occur are absent.
pub fn issue_counts(quarantined: &[QuarantinedRow]) -> std::collections::BTreeMap<ReasonCode, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for issue in quarantined.iter().flat_map(|q| &q.issues) {
        *counts.entry(issue.code).or_insert(0) += 1;
    }
    counts
}

/// Number of rows carrying each note code (a row counts once per code); absent codes are absent.
pub fn note_counts<'a>(rows: impl Iterator<Item = &'a [RowNote]>) -> std::collections::BTreeMap<NoteCode, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for notes in rows {
        let codes: std::collections::BTreeSet<NoteCode> = notes.iter().map(|n| n.code).collect();
        for code in codes {
            *counts.entry(code).or_insert(0) += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_codes_round_trip_and_are_ordered() {
        let codes: Vec<&str> = ReasonCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            codes,
            [
                "REQUIRED_NULL",
                "INVALID_NUMERIC",
                "OUT_OF_RANGE",
                "DUPLICATE_IDENTITY",
                "RA_LOOKS_LIKE_HOURS",
                "MALFORMED_ROW",
                "INVALID_ENCODING",
                "NON_POSITIVE_PARALLAX",
                "IMPLAUSIBLE_PARALLAX"
            ]
        );
        for c in ReasonCode::ALL {
            assert_eq!(ReasonCode::parse(c.as_str()), Some(c));
            assert_eq!(c.to_string(), c.as_str());
        }
        assert_eq!(ReasonCode::parse("required_null"), None);
        let mut sorted = ReasonCode::ALL;
        sorted.sort();
        assert_eq!(sorted, ReasonCode::ALL);
    }

    #[test]
    fn note_codes_round_trip() {
        assert_eq!(NoteCode::WhitespaceNormalised.as_str(), "WHITESPACE_NORMALISED");
        assert_eq!(NoteCode::SpectralTypeFromOtypes.as_str(), "SPECTRAL_TYPE_FROM_OTYPES");
        assert_eq!(NoteCode::NonAsciiNormalised.as_str(), "NON_ASCII_NORMALISED");
        assert_eq!(NoteCode::StarNameRecovered.as_str(), "STAR_NAME_RECOVERED");
        for c in NoteCode::ALL {
            assert_eq!(NoteCode::parse(c.as_str()), Some(c));
            assert_eq!(c.to_string(), c.as_str());
        }
    }

    #[test]
    fn gate_status_strings() {
        assert_eq!(GateStatus::Pass.as_str(), "pass");
        assert_eq!(GateStatus::Warn.as_str(), "warn");
        assert_eq!(GateStatus::Fail.as_str(), "fail");
        assert_eq!(GateStatus::Warn.to_string(), "warn");
    }

    #[test]
    fn gate_default_thresholds() {
        let cfg = GateConfig::default();
        assert_eq!(cfg.max_quarantine_rate, 0.20);
        assert_eq!(cfg.max_duplicate_rate, 0.10);
    }

    #[test]
    fn gate_empty_file_fails() {
        let cfg = GateConfig::default();
        assert_eq!(gate_status(&cfg, 0, 0, 0), GateStatus::Fail);
        let lax = GateConfig { max_quarantine_rate: 1.0, max_duplicate_rate: 1.0 };
        assert_eq!(gate_status(&lax, 0, 0, 0), GateStatus::Fail);
    }

    #[test]
    fn gate_thresholds_are_strict() {
        let cfg = GateConfig::default();
        assert_eq!(gate_status(&cfg, 100, 0, 0), GateStatus::Pass);
        assert_eq!(gate_status(&cfg, 100, 20, 0), GateStatus::Pass); // exactly 20% is allowed
        assert_eq!(gate_status(&cfg, 100, 21, 0), GateStatus::Fail);
        assert_eq!(gate_status(&cfg, 100, 10, 10), GateStatus::Pass); // exactly 10% is allowed
        assert_eq!(gate_status(&cfg, 100, 11, 11), GateStatus::Warn);
        assert_eq!(gate_status(&cfg, 5, 5, 0), GateStatus::Fail);
    }

    #[test]
    fn gate_fail_beats_warn() {
        let cfg = GateConfig::default();
        assert_eq!(gate_status(&cfg, 100, 50, 50), GateStatus::Fail);
        assert_eq!(gate_status(&cfg, 1582, 3, 0), GateStatus::Pass);
    }

    #[test]
    fn gate_custom_thresholds() {
        let strict = GateConfig { max_quarantine_rate: 0.0, max_duplicate_rate: 0.0 };
        assert_eq!(gate_status(&strict, 10, 0, 0), GateStatus::Pass);
        assert_eq!(gate_status(&strict, 10, 1, 0), GateStatus::Fail);
        let no_fail = GateConfig { max_quarantine_rate: 1.0, max_duplicate_rate: 0.0 };
        assert_eq!(gate_status(&no_fail, 10, 1, 1), GateStatus::Warn);
        assert_eq!(gate_status(&no_fail, 10, 10, 0), GateStatus::Pass);
    }

    #[test]
    fn header_normalisation() {
        assert_eq!(normalise_header("\u{FEFF}sys_id"), "sys_id");
        assert_eq!(normalise_header("Average of ra"), "average_of_ra");
        assert_eq!(normalise_header("  Average of Dist \r"), "average_of_dist");
        assert_eq!(normalise_header("Average  of\tra"), "average_of_ra");
        assert_eq!(normalise_header("MAIN_ID"), "main_id");
        assert_eq!(normalise_header(""), "");
        assert_eq!(normalise_header("\u{FEFF}"), "");
    }

    #[test]
    fn file_error_display() {
        assert_eq!(FileError::Empty.to_string(), "empty file: no header row");
        assert_eq!(
            FileError::MissingColumns(vec!["sys_id".into(), "average_of_ra".into()]).to_string(),
            "missing required columns: sys_id, average_of_ra"
        );
        assert_eq!(FileError::Csv { line: 7, message: "boom".into() }.to_string(), "CSV error at line 7: boom");
        let e: Box<dyn std::error::Error> = Box::new(FileError::Empty);
        assert!(e.source().is_none());
    }
}

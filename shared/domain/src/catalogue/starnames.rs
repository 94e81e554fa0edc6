//! The NAMES family (d3-celestial 0.7.35 `data/starnames.json` and `data/constellations.json`)
//! and its ingest contract, version 1. [`parse`] recognises which of the two documents it is
//! given.
//!
//! `starnames.json` is an object keyed by the HIP number (a string); every value an object with
//! `name` (proper name), `bayer` (Greek letter, perhaps with a digit: `α1`), `flam` (Flamsteed
//! number), `var` (variable-star designation), `gl` (`GJ 721`), `hd` (with a thin space), `c`
//! (constellation abbreviation) and names in other languages under language codes.
//! JSON has no useful line numbers here (the file is one line): a record's `line` is its
//! 1-based position in HIP order, its `hip` the key.
//!
//! Per-entry rules: a key that is not a positive integer → `INVALID_NUMERIC` (`hip`); a value
//! that is not an object → `MALFORMED_ROW`; an entry without any name or designation →
//! `REQUIRED_NULL` (`name`). Bidirectional marks (U+200E/U+200F) and the stray ` '` some
//! Chinese names end with are removed (note `WHITESPACE_NORMALISED`).
//!
//! `constellations.json` is GeoJSON: `features[].id` is the abbreviation,
//! `properties.name` the Latin name, `properties.gen` the genitive; a feature without `id`,
//! `name` or `gen` → `REQUIRED_NULL`; a repeated `id` → `DUPLICATE_IDENTITY`.

use crate::catalogue::contract::{
    FileError, GateConfig, GateStatus, NoteCode, QuarantinedRow, ReasonCode, RowIssue, RowNote, gate_status,
};
use crate::names::normalise_id;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};

pub const CONTRACT_VERSION: &str = "names.v1";

/// Keys of a star entry that are not names in another language.
const STAR_FIELDS: [&str; 11] = ["name", "bayer", "flam", "var", "gl", "hd", "hip", "c", "desig", "gliese", "en"];
/// Keys of a constellation's properties that are not names in another language.
const CONSTELLATION_FIELDS: [&str; 6] = ["name", "desig", "gen", "rank", "display", "en"];

/// One star's names (only what is not blank).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StarNameRecord {
    /// 1-based position of the entry in HIP order.
    pub line: u32,
    pub hip: u32,
    pub name: Option<String>,
    /// Greek letter as given (`α`, `α1`).
    pub bayer: Option<String>,
    pub flamsteed: Option<String>,
    pub variable: Option<String>,
    /// Gliese designation as given (`GJ 721`).
    pub gliese: Option<String>,
    /// `HD 172167` (thin space normalised).
    pub hd: Option<String>,
    /// Constellation abbreviation (`Lyr`).
    pub constellation: Option<String>,
    /// (language code, name), sorted by language.
    pub translations: Vec<(String, String)>,
    pub notes: Vec<RowNote>,
}

/// One constellation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConstellationRecord {
    pub line: u32,
    /// `Lyr`
    pub abbr: String,
    /// `Lyra`
    pub name: String,
    /// `Lyrae`
    pub genitive: String,
    pub translations: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NamesDocument {
    StarNames,
    Constellations,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamesBatch {
    pub document: NamesDocument,
    pub total_rows: usize,
    pub stars: Vec<StarNameRecord>,
    pub constellations: Vec<ConstellationRecord>,
    pub quarantined: Vec<QuarantinedRow>,
    pub duplicate_rows: usize,
}

impl NamesBatch {
    pub fn accepted_rows(&self) -> usize {
        self.stars.len() + self.constellations.len()
    }

    pub fn issue_counts(&self) -> BTreeMap<ReasonCode, usize> {
        super::contract::issue_counts(&self.quarantined)
    }

    pub fn note_counts(&self) -> BTreeMap<NoteCode, usize> {
        super::contract::note_counts(self.stars.iter().map(|r| r.notes.as_slice()))
    }

    pub fn gate(&self, cfg: &GateConfig) -> GateStatus {
        gate_status(cfg, self.total_rows, self.quarantined.len(), self.duplicate_rows)
    }
}

/// Validate one NAMES document. Never panics, whatever the bytes.
pub fn parse(bytes: &[u8]) -> Result<NamesBatch, FileError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(FileError::Empty);
    }
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| FileError::Json(e.to_string()))?;
    let Value::Object(map) = doc else {
        return Err(FileError::Json("the document is not a JSON object".into()));
    };
    if map.get("type").and_then(Value::as_str) == Some("FeatureCollection") {
        return constellations(&map);
    }
    Ok(star_names(map))
}

/// Removes bidirectional marks and the stray ` '` suffix; normalises whitespace.
fn clean(s: &str) -> (String, bool) {
    let stripped: String =
        s.chars().filter(|c| !matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}')).collect();
    let mut out = normalise_id(&stripped);
    if let Some(t) = out.strip_suffix(" '") {
        out = t.trim_end().to_string();
    }
    let changed = out != s;
    (out, changed)
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn star_names(map: serde_json::Map<String, Value>) -> NamesBatch {
    let mut batch = NamesBatch {
        document: NamesDocument::StarNames,
        total_rows: map.len(),
        stars: Vec::new(),
        constellations: Vec::new(),
        quarantined: Vec::new(),
        duplicate_rows: 0,
    };
    // HIP order (numeric keys first, then the rest as strings).
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by_key(|(k, _)| (k.trim().parse::<u64>().unwrap_or(u64::MAX), k.as_str()));
    for (n, (key, value)) in entries.into_iter().enumerate() {
        let line = u32::try_from(n + 1).unwrap_or(u32::MAX);
        let raw = || -> Vec<(String, String)> {
            let mut raw = vec![("hip".to_string(), key.clone())];
            match value {
                Value::Object(o) => {
                    raw.extend(o.iter().take(64).map(|(k, v)| (k.clone(), text_of(v).unwrap_or_else(|| v.to_string()))))
                }
                other => raw.push(("value".into(), other.to_string().chars().take(1024).collect())),
            }
            raw
        };
        let mut issues = Vec::new();
        let hip = match key.trim().parse::<u32>() {
            Ok(h) if h > 0 => Some(h),
            _ => {
                issues.push(RowIssue::new(ReasonCode::InvalidNumeric, "hip", format!("{key:?} is not a HIP number")));
                None
            }
        };
        let Value::Object(o) = value else {
            issues.push(RowIssue::new(ReasonCode::MalformedRow, "*", "the entry is not an object"));
            batch.quarantined.push(QuarantinedRow { line, issues, raw: raw() });
            continue;
        };
        let mut notes = Vec::new();
        let mut field = |name: &str| -> Option<String> {
            let (v, changed) = clean(&o.get(name).and_then(text_of)?);
            if changed && !v.is_empty() {
                notes.push(RowNote::new(NoteCode::WhitespaceNormalised, name, "bidirectional marks or spaces removed"));
            }
            (!v.is_empty()).then_some(v)
        };
        let name = field("name");
        let bayer = field("bayer");
        let flamsteed = field("flam");
        let variable = field("var");
        let gliese = field("gl");
        let hd = field("hd");
        let constellation = field("c");
        let mut translations = Vec::new();
        for (lang, v) in o {
            if STAR_FIELDS.contains(&lang.as_str()) {
                continue;
            }
            if let Some(t) = text_of(v) {
                let (t, changed) = clean(&t);
                if changed && !t.is_empty() {
                    notes.push(RowNote::new(
                        NoteCode::WhitespaceNormalised,
                        lang,
                        "bidirectional marks or spaces removed",
                    ));
                }
                if !t.is_empty() {
                    translations.push((lang.clone(), t));
                }
            }
        }
        let named = [&name, &bayer, &flamsteed, &variable, &gliese, &hd].iter().any(|f| f.is_some());
        if !named && translations.is_empty() {
            issues.push(RowIssue::new(ReasonCode::RequiredNull, "name", "no name or designation"));
        }
        match (hip, issues.is_empty()) {
            (Some(hip), true) => batch.stars.push(StarNameRecord {
                line,
                hip,
                name,
                bayer,
                flamsteed,
                variable,
                gliese,
                hd,
                constellation,
                translations,
                notes,
            }),
            _ => batch.quarantined.push(QuarantinedRow { line, issues, raw: raw() }),
        }
    }
    batch
}

fn constellations(map: &serde_json::Map<String, Value>) -> Result<NamesBatch, FileError> {
    let Some(Value::Array(features)) = map.get("features") else {
        return Err(FileError::Json("a FeatureCollection without a features array".into()));
    };
    let mut batch = NamesBatch {
        document: NamesDocument::Constellations,
        total_rows: features.len(),
        stars: Vec::new(),
        constellations: Vec::new(),
        quarantined: Vec::new(),
        duplicate_rows: 0,
    };
    let mut seen = HashSet::new();
    for (n, f) in features.iter().enumerate() {
        let line = u32::try_from(n + 1).unwrap_or(u32::MAX);
        let props = f.get("properties").and_then(Value::as_object);
        let get =
            |k: &str| props.and_then(|p| p.get(k)).and_then(text_of).map(|s| clean(&s).0).filter(|s| !s.is_empty());
        let abbr = f.get("id").and_then(text_of).map(|s| normalise_id(&s)).filter(|s| !s.is_empty());
        let (name, genitive) = (get("name"), get("gen"));
        let mut issues = Vec::new();
        for (col, v) in [("id", &abbr), ("name", &name), ("gen", &genitive)] {
            if v.is_none() {
                issues.push(RowIssue::new(ReasonCode::RequiredNull, col, "blank or absent"));
            }
        }
        if let Some(a) = &abbr
            && issues.is_empty()
            && !seen.insert(a.to_lowercase())
        {
            issues.push(RowIssue::new(ReasonCode::DuplicateIdentity, "id", format!("{a} seen earlier")));
            batch.duplicate_rows += 1;
        }
        if !issues.is_empty() {
            let raw = vec![("feature".to_string(), f.to_string().chars().take(1024).collect())];
            batch.quarantined.push(QuarantinedRow { line, issues, raw });
            continue;
        }
        let translations = props
            .into_iter()
            .flatten()
            .filter(|(k, _)| !CONSTELLATION_FIELDS.contains(&k.as_str()))
            .filter_map(|(k, v)| Some((k.clone(), clean(&text_of(v)?).0)))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        batch.constellations.push(ConstellationRecord {
            line,
            abbr: abbr.unwrap_or_default(),
            name: name.unwrap_or_default(),
            genitive: genitive.unwrap_or_default(),
            translations,
        });
    }
    Ok(batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_entries_and_quarantine() {
        let doc = r#"{"91262":{"name":"Vega","bayer":"α","flam":"3","var":"","gl":"GJ 721","hd":"HD 172167",
            "hip":"HIP 91262","c":"Lyr","desig":"α","ja":"ベガ","ru":"Вега","ar":"‎‎النسر الواقع ‎‎‎"},
            "8102":{"name":"","bayer":"τ","flam":"52","var":"","gl":"GJ 71","hd":"","c":"Cet"},
            "x1":{"name":"Nope"}, "5":[1,2], "6":{"name":"","bayer":""}}"#;
        let b = parse(doc.as_bytes()).unwrap();
        assert_eq!(b.document, NamesDocument::StarNames);
        assert_eq!(b.total_rows, 5);
        assert_eq!(b.stars.iter().map(|s| s.hip).collect::<Vec<_>>(), [8102, 91262]);
        let vega = &b.stars[1];
        assert_eq!(vega.name.as_deref(), Some("Vega"));
        assert_eq!(vega.hd.as_deref(), Some("HD 172167"));
        assert_eq!(vega.constellation.as_deref(), Some("Lyr"));
        assert!(vega.translations.contains(&("ja".into(), "ベガ".into())));
        assert!(vega.translations.contains(&("ar".into(), "النسر الواقع".into())));
        assert_eq!(vega.notes[0].code, NoteCode::WhitespaceNormalised);
        assert_eq!(b.stars[0].name, None);
        assert_eq!(b.stars[0].bayer.as_deref(), Some("τ"));
        let codes: Vec<&str> = b.quarantined.iter().map(|q| q.issues[0].code.as_str()).collect();
        assert_eq!(codes, ["MALFORMED_ROW", "REQUIRED_NULL", "INVALID_NUMERIC"]);
    }

    #[test]
    fn constellations_document() {
        let doc = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","id":"Lyr","properties":{"name":"Lyra","desig":"Lyr","gen":"Lyrae","ru":"Лира","display":[1,2,3]}},
            {"type":"Feature","id":"Lyr","properties":{"name":"Lyra","gen":"Lyrae"}},
            {"type":"Feature","properties":{"name":"X"}}]}"#;
        let b = parse(doc.as_bytes()).unwrap();
        assert_eq!(b.document, NamesDocument::Constellations);
        assert_eq!(b.constellations.len(), 1);
        assert_eq!(b.constellations[0].genitive, "Lyrae");
        assert_eq!(b.constellations[0].translations, vec![("ru".to_string(), "Лира".to_string())]);
        assert_eq!(b.duplicate_rows, 1);
        assert_eq!(b.quarantined.len(), 2);
    }

    #[test]
    fn bad_documents_are_file_errors() {
        assert_eq!(parse(b"  "), Err(FileError::Empty));
        assert!(matches!(parse(b"[1,2]"), Err(FileError::Json(_))));
        assert!(matches!(parse(b"{\"a\":"), Err(FileError::Json(_))));
        assert!(matches!(parse(b"{\"type\":\"FeatureCollection\"}"), Err(FileError::Json(_))));
        assert!(parse(&[0xff, 0xfe, 0x00]).is_err());
    }
}

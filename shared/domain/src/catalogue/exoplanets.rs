//! The exoplanet catalogue (`EXOPLANETS_01*.csv`, exoplanet.eu column layout, 98 columns;
//! DOMAIN.md §4.3, §4.4, §11.19, §11.22) and its ingest contract, version 2.
//!
//! [`parse`] turns the raw bytes of one file into an [`ExoplanetBatch`]: every data row is
//! either accepted as a typed [`ExoplanetRecord`] (possibly carrying repair notes) or
//! quarantined with every check it failed. A whole file is refused only when it has no header,
//! lacks a required column, or the CSV reader itself gives up ([`FileError`]). It shares the
//! SIMBAD contract's machinery, so the same guarantees hold: it never panics on arbitrary
//! bytes, every row is accounted for once, quarantined rows keep their raw cells.
//!
//! Per-row rules (contract v2):
//! * field count ≠ header count → `MALFORMED_ROW` (column `"*"`), no other check;
//! * a cell that is not UTF-8 → `INVALID_ENCODING` (that column is not checked further);
//! * `star_name` blank → recovered (note `STAR_NAME_RECOVERED`) from the planet name when it
//!   ends in a planet letter (`"2M1207 b"` → `"2M1207"`), else from the first
//!   `star_alternate_names` entry; when neither works → `REQUIRED_NULL`;
//! * `planet_name`, `ra`, `dec` blank → `REQUIRED_NULL`;
//! * a numeric column that does not parse as a finite number → `INVALID_NUMERIC`
//!   (`discovered` must also be a whole year);
//! * `ra` ∉ [0, 360], `dec` ∉ [−90, 90], `orbital_period` ∉ [0, 1e6], `semi_major_axis` ∉
//!   [0, 1e5], `mass` ∉ [0, 1e5], `radius` ∉ [0, 1e4], `updated` ∉ [61, 2958465] (an Excel
//!   serial day: 1900-03-01 … 9999-12-31) → `OUT_OF_RANGE`;
//! * (`star_name`, `planet_name`) after whitespace normalisation seen on an earlier row →
//!   `DUPLICATE_IDENTITY` (first occurrence kept).
//!
//! Units: `mass`/`mass_sini` are Jupiter masses and `radius` Jupiter radii in the file; the
//! record keeps them and adds Earth units (×317.83, ×11.209) with the mass's provenance.
//! `updated` is an Excel serial day; the record adds the ISO date.

use crate::catalogue::contract::{
    FileError, GateConfig, GateStatus, NoteCode, QuarantinedRow, ReasonCode, RowIssue, RowNote, gate_status,
};
use crate::catalogue::rows::{self, Cell, non_blank, number, required_null, show, split_list};
use crate::names::normalise_id;
use crate::units::{EARTH_MASSES_PER_JUPITER_MASS, EARTH_RADII_PER_JUPITER_RADIUS};
use serde::{Deserialize, Serialize};
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

/// Version tag recorded with every batch validated by this module.
pub const CONTRACT_VERSION: &str = "exoplanets.v2";

/// Columns (normalised names) an exoplanet file must have; any missing → the file is refused.
pub const REQUIRED_COLUMNS: [&str; 4] = ["star_name", "planet_name", "ra", "dec"];

/// The exoplanet.eu layout of `EXOPLANETS_01*.csv`, in file order (98 columns). Only
/// [`REQUIRED_COLUMNS`] must be present; the others read as blank when absent.
pub const LAYOUT_COLUMNS: [&str; 98] = [
    "star_name",
    "ra",
    "dec",
    "star_alternate_names",
    "planet_name",
    "planet_status",
    "mass",
    "mass_error_min",
    "mass_error_max",
    "mass_sini",
    "mass_sini_error_min",
    "mass_sini_error_max",
    "radius",
    "radius_error_min",
    "radius_error_max",
    "orbital_period",
    "orbital_period_error_min",
    "orbital_period_error_max",
    "semi_major_axis",
    "semi_major_axis_error_min",
    "semi_major_axis_error_max",
    "eccentricity",
    "eccentricity_error_min",
    "eccentricity_error_max",
    "inclination",
    "inclination_error_min",
    "inclination_error_max",
    "angular_distance",
    "discovered",
    "updated",
    "omega",
    "omega_error_min",
    "omega_error_max",
    "tperi",
    "tperi_error_min",
    "tperi_error_max",
    "tconj",
    "tconj_error_min",
    "tconj_error_max",
    "tzero_tr",
    "tzero_tr_error_min",
    "tzero_tr_error_max",
    "tzero_tr_sec",
    "tzero_tr_sec_error_min",
    "tzero_tr_sec_error_max",
    "lambda_angle",
    "lambda_angle_error_min",
    "lambda_angle_error_max",
    "impact_parameter",
    "impact_parameter_error_min",
    "impact_parameter_error_max",
    "tzero_vr",
    "tzero_vr_error_min",
    "tzero_vr_error_max",
    "k",
    "k_error_min",
    "k_error_max",
    "temp_calculated",
    "temp_calculated_error_min",
    "temp_calculated_error_max",
    "temp_measured",
    "hot_point_lon",
    "geometric_albedo",
    "geometric_albedo_error_min",
    "geometric_albedo_error_max",
    "log_g",
    "publication",
    "detection_type",
    "mass_detection_type",
    "radius_detection_type",
    "alternate_names",
    "molecules",
    "mag_v",
    "mag_i",
    "mag_j",
    "mag_h",
    "mag_k",
    "star_distance",
    "star_distance_error_min",
    "star_distance_error_max",
    "star_metallicity",
    "star_metallicity_error_min",
    "star_metallicity_error_max",
    "star_mass",
    "star_mass_error_min",
    "star_mass_error_max",
    "star_radius",
    "star_radius_error_min",
    "star_radius_error_max",
    "star_sp_type",
    "star_age",
    "star_age_error_min",
    "star_age_error_max",
    "star_teff",
    "star_teff_error_min",
    "star_teff_error_max",
    "star_detected_disc",
    "star_magnetic_field",
];

/// Inclusive bounds (contract v1 values, DOMAIN.md §4.4).
pub const RA_RANGE_DEG: (f64, f64) = (0.0, 360.0);
pub const DEC_RANGE_DEG: (f64, f64) = (-90.0, 90.0);
pub const ORBITAL_PERIOD_RANGE_DAYS: (f64, f64) = (0.0, 1e6);
pub const SEMI_MAJOR_AXIS_RANGE_AU: (f64, f64) = (0.0, 1e5);
pub const MASS_RANGE_MJUP: (f64, f64) = (0.0, 1e5);
pub const RADIUS_RANGE_RJUP: (f64, f64) = (0.0, 1e4);
/// Excel serial days accepted for `updated`: 61 = 1900-03-01 (the first day after Excel's
/// fictitious 1900-02-29) … 2958465 = 9999-12-31.
pub const UPDATED_SERIAL_RANGE: (f64, f64) = (61.0, 2_958_465.0);

/// Column name used for a duplicate-identity issue (the key spans two columns).
pub const IDENTITY_COLUMN: &str = "star_name,planet_name";

const ANY: (f64, f64) = (f64::NEG_INFINITY, f64::INFINITY);

/// Where a planet's Earth-unit mass comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MassSource {
    /// `mass` (true mass).
    TrueMass,
    /// `mass_sini` (minimum mass), used only when `mass` is blank.
    MassSini,
}

impl MassSource {
    pub fn as_str(self) -> &'static str {
        match self {
            MassSource::TrueMass => "true_mass",
            MassSource::MassSini => "mass_sini",
        }
    }
}

/// One accepted exoplanet row (one planet and its host's catalogue values).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExoplanetRecord {
    /// Line number in the file where the row starts (header = 1, first data row = 2).
    pub line: u32,
    /// [`normalise_id`] of the raw value, or the recovered host name (see `notes`).
    pub star_name: String,
    /// Exactly as in the file (blank when the name was recovered).
    pub star_name_raw: String,
    /// `star_alternate_names` split on `,`, each normalised, blanks dropped.
    pub star_alternate_names: Vec<String>,
    /// [`normalise_id`] of the raw value.
    pub planet_name: String,
    pub planet_name_raw: String,
    /// Planet `alternate_names` split on `,`, normalised.
    pub planet_alternate_names: Vec<String>,
    /// `Confirmed`, `Candidate`, … (normalised; `None` when blank).
    pub planet_status: Option<String>,
    pub ra_deg: f64,
    pub dec_deg: f64,
    /// As in the file: Jupiter masses / radii.
    pub mass_mjup: Option<f64>,
    pub mass_sini_mjup: Option<f64>,
    pub radius_rjup: Option<f64>,
    /// `mass` × 317.83, else `mass_sini` × 317.83.
    pub mass_earth: Option<f64>,
    pub mass_source: Option<MassSource>,
    /// `radius` × 11.209.
    pub radius_earth: Option<f64>,
    pub orbital_period_days: Option<f64>,
    pub semi_major_axis_au: Option<f64>,
    pub eccentricity: Option<f64>,
    pub inclination_deg: Option<f64>,
    /// Discovery year.
    pub discovered: Option<i32>,
    /// `updated` as in the file (Excel serial day).
    pub updated_serial: Option<f64>,
    /// `updated` as an ISO date (`YYYY-MM-DD`).
    pub updated: Option<String>,
    pub temp_calculated_k: Option<f64>,
    pub temp_measured_k: Option<f64>,
    pub geometric_albedo: Option<f64>,
    pub detection_type: Option<String>,
    pub molecules: Option<String>,
    /// Host values (exoplanet catalogue): distance in parsecs, [Fe/H] dex, M☉, R☉, Gyr, K.
    pub star_distance_pc: Option<f64>,
    pub star_metallicity: Option<f64>,
    pub star_mass_msun: Option<f64>,
    pub star_radius_rsun: Option<f64>,
    /// Normalised raw spectral type (parse it with [`crate::spectral::parse`]).
    pub star_sp_type: Option<String>,
    pub star_age_gyr: Option<f64>,
    pub star_teff_k: Option<f64>,
    pub mag_v: Option<f64>,
    pub notes: Vec<RowNote>,
}

/// The outcome of validating one exoplanet file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExoplanetBatch {
    /// Data rows read (header excluded; blank lines are not rows).
    pub total_rows: usize,
    pub accepted: Vec<ExoplanetRecord>,
    pub quarantined: Vec<QuarantinedRow>,
    /// Rows quarantined for `DUPLICATE_IDENTITY`.
    pub duplicate_rows: usize,
}

impl ExoplanetBatch {
    /// Number of issues (quarantine records) per code; codes that never occur are absent.
    pub fn issue_counts(&self) -> BTreeMap<ReasonCode, usize> {
        super::contract::issue_counts(&self.quarantined)
    }

    /// Number of accepted rows carrying each note code; codes that never occur are absent.
    pub fn note_counts(&self) -> BTreeMap<NoteCode, usize> {
        super::contract::note_counts(self.accepted.iter().map(|r| r.notes.as_slice()))
    }

    /// Number of accepted rows carrying a note of `code` on `column`.
    pub fn note_count(&self, code: NoteCode, column: &str) -> usize {
        self.accepted.iter().filter(|r| r.notes.iter().any(|n| n.code == code && n.column == column)).count()
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

/// Validate one exoplanet file. Never panics, whatever the bytes.
pub fn parse(bytes: &[u8]) -> Result<ExoplanetBatch, FileError> {
    parse_part(bytes, 0, HashMap::new()).map(|(batch, _)| batch)
}

/// A row's identity `(star_name, planet_name)` after whitespace normalisation.
pub type Identity = (String, String);

/// Validate one shard of an exoplanet file: as [`super::simbad::parse_part`] (header + the
/// shard's lines, the line offset, the identities first seen before the shard).
pub fn parse_part(
    bytes: &[u8],
    line_offset: u32,
    mut seen: HashMap<Identity, u32>,
) -> Result<(ExoplanetBatch, HashMap<Identity, u32>), FileError> {
    let parsed =
        rows::parse_rows(bytes, line_offset, &REQUIRED_COLUMNS, Columns::locate, |cols, record, header, line| {
            check_row(record, header, cols, line, &mut seen)
        })?;
    let batch = ExoplanetBatch {
        total_rows: parsed.total_rows,
        accepted: parsed.accepted,
        quarantined: parsed.quarantined,
        duplicate_rows: parsed.duplicate_rows,
    };
    Ok((batch, seen))
}

/// An identity as one text key (`star_name`, U+001F, `planet_name`).
pub fn identity_key((star, planet): &Identity) -> String {
    format!("{star}\u{1f}{planet}")
}

/// The identity of an [`identity_key`].
pub fn identity_of_key(key: &str) -> Option<Identity> {
    let (star, planet) = key.split_once('\u{1f}')?;
    Some((star.to_string(), planet.to_string()))
}

/// The host name a planet name implies: the name without its trailing planet letter
/// (`"2M1207 b"` → `"2M1207"`, `"2MASS J0249-0557 (AB) c"` → `"2MASS J0249-0557 (AB)"`).
///
/// Only a final whitespace-separated token that is one ASCII lowercase letter counts: an
/// upper-case component letter (`"Luhman 16 A"`) names a (sub)stellar component, not a planet
/// of a host, and a name without a letter (`"WISE 0855-0714"`) has no host to recover.
pub fn host_from_planet_name(planet_name: &str) -> Option<String> {
    let norm = normalise_id(planet_name);
    let (host, letter) = norm.rsplit_once(' ')?;
    let mut chars = letter.chars();
    let is_letter = matches!((chars.next(), chars.next()), (Some(c), None) if c.is_ascii_lowercase());
    (is_letter && !host.is_empty()).then(|| host.to_string())
}

/// An Excel (1900 date system) serial day as an ISO date, for serials in
/// [`UPDATED_SERIAL_RANGE`]; the fractional part (time of day) is ignored.
pub fn excel_serial_to_iso(serial: f64) -> Option<String> {
    let (lo, hi) = UPDATED_SERIAL_RANGE;
    if !(lo..=hi).contains(&serial) {
        return None;
    }
    // Serial 25569 is 1970-01-01; from serial 61 on, day n is 1899-12-30 + n days.
    let days = serial.floor() as i64 - 25_569;
    let (y, m, d) = civil_from_days(days);
    Some(format!("{y:04}-{m:02}-{d:02}"))
}

/// Days since 1970-01-01 → proleptic Gregorian (year, month, day) (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Positions of the columns the contract reads (first occurrence of each name).
struct Columns {
    star_name: usize,
    planet_name: usize,
    ra: usize,
    dec: usize,
    star_alternate_names: Option<usize>,
    planet_status: Option<usize>,
    mass: Option<usize>,
    mass_sini: Option<usize>,
    radius: Option<usize>,
    orbital_period: Option<usize>,
    semi_major_axis: Option<usize>,
    eccentricity: Option<usize>,
    inclination: Option<usize>,
    discovered: Option<usize>,
    updated: Option<usize>,
    temp_calculated: Option<usize>,
    temp_measured: Option<usize>,
    geometric_albedo: Option<usize>,
    detection_type: Option<usize>,
    alternate_names: Option<usize>,
    molecules: Option<usize>,
    mag_v: Option<usize>,
    star_distance: Option<usize>,
    star_metallicity: Option<usize>,
    star_mass: Option<usize>,
    star_radius: Option<usize>,
    star_sp_type: Option<usize>,
    star_age: Option<usize>,
    star_teff: Option<usize>,
}

impl Columns {
    /// Called after the driver checked every required column is present; `usize::MAX` (read as
    /// a blank cell) only to stay panic-free.
    fn locate(header: &[String]) -> Columns {
        let find = |name: &str| rows::find(header, name);
        let required = |name: &str| find(name).unwrap_or(usize::MAX);
        Columns {
            star_name: required("star_name"),
            planet_name: required("planet_name"),
            ra: required("ra"),
            dec: required("dec"),
            star_alternate_names: find("star_alternate_names"),
            planet_status: find("planet_status"),
            mass: find("mass"),
            mass_sini: find("mass_sini"),
            radius: find("radius"),
            orbital_period: find("orbital_period"),
            semi_major_axis: find("semi_major_axis"),
            eccentricity: find("eccentricity"),
            inclination: find("inclination"),
            discovered: find("discovered"),
            updated: find("updated"),
            temp_calculated: find("temp_calculated"),
            temp_measured: find("temp_measured"),
            geometric_albedo: find("geometric_albedo"),
            detection_type: find("detection_type"),
            alternate_names: find("alternate_names"),
            molecules: find("molecules"),
            mag_v: find("mag_v"),
            star_distance: find("star_distance"),
            star_metallicity: find("star_metallicity"),
            star_mass: find("star_mass"),
            star_radius: find("star_radius"),
            star_sp_type: find("star_sp_type"),
            star_age: find("star_age"),
            star_teff: find("star_teff"),
        }
    }
}

/// Validate one record: the typed record, or every issue found.
fn check_row(
    record: &csv::ByteRecord,
    header: &[String],
    cols: &Columns,
    line: u32,
    seen: &mut HashMap<(String, String), u32>,
) -> Result<ExoplanetRecord, Vec<RowIssue>> {
    rows::check_width(record, header)?;
    let mut issues = Vec::new();
    let cells = rows::decode_cells(record, header, &mut issues);
    let cell = |i: usize| cells.get(i).copied().unwrap_or(Cell::Text(""));
    let opt_cell = |i: Option<usize>| i.map_or(Cell::Text(""), cell);

    // planet_name first: a blank star_name may be recovered from it.
    let planet_cell = cell(cols.planet_name);
    let planet_name = planet_name(planet_cell, &mut issues);
    let alt_cell = opt_cell(cols.star_alternate_names);
    let star_alternate_names = split_list(alt_cell.text(), ',');
    let star_cell = cell(cols.star_name);
    let (star_name, recovery) =
        star_name(star_cell, planet_name.as_deref(), alt_cell, &star_alternate_names, &mut issues);

    let ra = number(cell(cols.ra), "ra", true, RA_RANGE_DEG, &mut issues);
    let dec = number(cell(cols.dec), "dec", true, DEC_RANGE_DEG, &mut issues);
    let mut opt_number =
        |col: Option<usize>, name: &str, range: (f64, f64)| number(opt_cell(col), name, false, range, &mut issues);
    let mass_mjup = opt_number(cols.mass, "mass", MASS_RANGE_MJUP);
    let mass_sini_mjup = opt_number(cols.mass_sini, "mass_sini", ANY);
    let radius_rjup = opt_number(cols.radius, "radius", RADIUS_RANGE_RJUP);
    let orbital_period_days = opt_number(cols.orbital_period, "orbital_period", ORBITAL_PERIOD_RANGE_DAYS);
    let semi_major_axis_au = opt_number(cols.semi_major_axis, "semi_major_axis", SEMI_MAJOR_AXIS_RANGE_AU);
    let eccentricity = opt_number(cols.eccentricity, "eccentricity", ANY);
    let inclination_deg = opt_number(cols.inclination, "inclination", ANY);
    let discovered_f = opt_number(cols.discovered, "discovered", ANY);
    let updated_serial = opt_number(cols.updated, "updated", UPDATED_SERIAL_RANGE);
    let temp_calculated_k = opt_number(cols.temp_calculated, "temp_calculated", ANY);
    let temp_measured_k = opt_number(cols.temp_measured, "temp_measured", ANY);
    let geometric_albedo = opt_number(cols.geometric_albedo, "geometric_albedo", ANY);
    let mag_v = opt_number(cols.mag_v, "mag_v", ANY);
    let star_distance_pc = opt_number(cols.star_distance, "star_distance", ANY);
    let star_metallicity = opt_number(cols.star_metallicity, "star_metallicity", ANY);
    let star_mass_msun = opt_number(cols.star_mass, "star_mass", ANY);
    let star_radius_rsun = opt_number(cols.star_radius, "star_radius", ANY);
    let star_age_gyr = opt_number(cols.star_age, "star_age", ANY);
    let star_teff_k = opt_number(cols.star_teff, "star_teff", ANY);

    let discovered = discovered_year(discovered_f, &mut issues);
    if let (Some(star), Some(planet)) = (&star_name, &planet_name) {
        check_identity(seen, star, planet, line, &mut issues);
    }

    if !issues.is_empty() {
        return Err(issues);
    }
    let (Some(star_name), Some(planet_name), Some(ra_deg), Some(dec_deg)) = (star_name, planet_name, ra, dec) else {
        // Unreachable by construction; report rather than panic.
        return Err(vec![RowIssue::new(ReasonCode::MalformedRow, "*", "internal: incomplete row")]);
    };

    let star_name_raw = star_cell.text().to_string();
    let planet_name_raw = planet_cell.text().to_string();
    let notes = name_notes(recovery, (&star_name_raw, &star_name), (&planet_name_raw, &planet_name));
    let (mass_earth, mass_source) = mass_in_earths(mass_mjup, mass_sini_mjup);

    Ok(ExoplanetRecord {
        line,
        star_name,
        star_name_raw,
        star_alternate_names,
        planet_name,
        planet_name_raw,
        planet_alternate_names: split_list(opt_cell(cols.alternate_names).text(), ','),
        planet_status: non_blank(opt_cell(cols.planet_status).text()),
        ra_deg,
        dec_deg,
        mass_mjup,
        mass_sini_mjup,
        radius_rjup,
        mass_earth,
        mass_source,
        radius_earth: radius_rjup.map(|r| r * EARTH_RADII_PER_JUPITER_RADIUS),
        orbital_period_days,
        semi_major_axis_au,
        eccentricity,
        inclination_deg,
        discovered,
        updated_serial,
        updated: updated_serial.and_then(excel_serial_to_iso),
        temp_calculated_k,
        temp_measured_k,
        geometric_albedo,
        detection_type: non_blank(opt_cell(cols.detection_type).text()),
        molecules: non_blank(opt_cell(cols.molecules).text()),
        star_distance_pc,
        star_metallicity,
        star_mass_msun,
        star_radius_rsun,
        star_sp_type: non_blank(opt_cell(cols.star_sp_type).text()),
        star_age_gyr,
        star_teff_k,
        mag_v,
        notes,
    })
}

/// `planet_name`: required, whitespace-normalised.
fn planet_name(cell: Cell<'_>, issues: &mut Vec<RowIssue>) -> Option<String> {
    match cell {
        Cell::Invalid => None,
        Cell::Text(s) => {
            let norm = normalise_id(s);
            if norm.is_empty() {
                issues.push(required_null("planet_name"));
                None
            } else {
                Some(norm)
            }
        }
    }
}

/// `star_name`, whitespace-normalised; a blank one is recovered from the planet name (its
/// trailing planet letter stripped), else from the first alternate name (with the note
/// saying so), else it is an issue.
fn star_name(
    cell: Cell<'_>,
    planet_name: Option<&str>,
    alt_cell: Cell<'_>,
    alternate_names: &[String],
    issues: &mut Vec<RowIssue>,
) -> (Option<String>, Option<RowNote>) {
    let Cell::Text(s) = cell else { return (None, None) };
    let norm = normalise_id(s);
    if !norm.is_empty() {
        return (Some(norm), None);
    }
    if let Some(host) = planet_name.and_then(host_from_planet_name) {
        let note = RowNote::new(
            NoteCode::StarNameRecovered,
            "star_name",
            format!(
                "blank; recovered {} from planet_name {} (trailing planet letter stripped)",
                show(&host),
                show(planet_name.unwrap_or_default())
            ),
        );
        return (Some(host), Some(note));
    }
    if let (Cell::Text(_), Some(first)) = (alt_cell, alternate_names.first()) {
        let note = RowNote::new(
            NoteCode::StarNameRecovered,
            "star_name",
            format!("blank; recovered {} from star_alternate_names", show(first)),
        );
        return (Some(first.clone()), Some(note));
    }
    issues.push(RowIssue::new(
        ReasonCode::RequiredNull,
        "star_name",
        "blank, and neither the planet name (no trailing planet letter) nor star_alternate_names names a host",
    ));
    (None, None)
}

/// `discovered`: a whole year.
fn discovered_year(value: Option<f64>, issues: &mut Vec<RowIssue>) -> Option<i32> {
    match value {
        Some(y) if y.fract() == 0.0 && (f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&y) => Some(y as i32),
        Some(y) => {
            issues.push(RowIssue::new(ReasonCode::InvalidNumeric, "discovered", format!("not a whole year: {y}")));
            None
        }
        None => None,
    }
}

/// Identity `(star_name, planet_name)`: the first occurrence is kept, whether or not it was
/// itself accepted; a later one is a duplicate.
fn check_identity(
    seen: &mut HashMap<(String, String), u32>,
    star: &str,
    planet: &str,
    line: u32,
    issues: &mut Vec<RowIssue>,
) {
    match seen.entry((star.to_string(), planet.to_string())) {
        Entry::Occupied(first) => issues.push(RowIssue::new(
            ReasonCode::DuplicateIdentity,
            IDENTITY_COLUMN,
            format!(
                "(star_name {star:?}, planet_name {planet:?}) after whitespace normalisation first seen on line {}",
                first.get()
            ),
        )),
        Entry::Vacant(slot) => {
            slot.insert(line);
        }
    }
}

/// The notes on the names: the star name's recovery, else its whitespace normalisation; the
/// planet name's whitespace normalisation. `(raw, normalised)` each.
fn name_notes(recovery: Option<RowNote>, star: (&str, &str), planet: (&str, &str)) -> Vec<RowNote> {
    let mut notes = Vec::new();
    if let Some(note) = recovery {
        notes.push(note);
    } else if star.0 != star.1 {
        notes.push(RowNote::new(
            NoteCode::WhitespaceNormalised,
            "star_name",
            "whitespace trimmed/collapsed; raw value kept in star_name_raw",
        ));
    }
    if planet.0 != planet.1 {
        notes.push(RowNote::new(
            NoteCode::WhitespaceNormalised,
            "planet_name",
            "whitespace trimmed/collapsed; raw value kept in planet_name_raw",
        ));
    }
    notes
}

/// The mass in Earth masses and which column it came from (the true mass before M sin i).
fn mass_in_earths(mass_mjup: Option<f64>, mass_sini_mjup: Option<f64>) -> (Option<f64>, Option<MassSource>) {
    match (mass_mjup, mass_sini_mjup) {
        (Some(m), _) => (Some(m * EARTH_MASSES_PER_JUPITER_MASS), Some(MassSource::TrueMass)),
        (None, Some(m)) => (Some(m * EARTH_MASSES_PER_JUPITER_MASS), Some(MassSource::MassSini)),
        (None, None) => (None, None),
    }
}

#[cfg(test)]
mod tests;

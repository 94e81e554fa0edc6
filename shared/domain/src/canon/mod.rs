//! Canonicalisation (DOMAIN.md §4.6, §4.8, §11.16, §11.17, §11.21–§11.23): one star identity
//! per object from the curated companion catalogue, the accepted SIMBAD rows and the accepted
//! exoplanet rows; aliases; planets attached to their host; review flags.
//!
//! [`canonicalise`] is a pure function of its inputs (deterministic output order: Sol, the
//! curated components in catalogue order, then SIMBAD rows in file order, then exoplanet-only
//! hosts in order of first appearance).
//!
//! Identity rules:
//! * Every name is compared by [`alias_key`] (trim, collapse spaces, strip one `NAME `/`V* `/
//!   `** `/`* ` prefix, lower-case): `Wolf  359` ⇄ `Wolf 359`, `NAME Proxima Centauri` ⇄
//!   `Proxima Centauri`.
//! * A SIMBAD row joins the curated component that one of its keys (main_id, then `ids`) names;
//!   when its keys name several components, the one its own main_id names wins, then the one
//!   named by most keys; a tie is not merged (flag [`FlagCode::CuratedMatchAmbiguous`]).
//! * An exoplanet host (rows grouped by `star_name`) joins the star its `star_name` key names;
//!   else the single star its `star_alternate_names` name (several → flag
//!   [`FlagCode::AmbiguousHost`] and a new star); else it becomes a new star from the
//!   exoplanet catalogue.
//! * Precedence of values: SIMBAD > curated > exoplanet catalogue for position and distance
//!   (observed beats hand-typed), curated > SIMBAD > exoplanet catalogue for class;
//!   physical parameters (Teff, mass, radius, [Fe/H], age) come from the curated catalogue or
//!   the first non-blank exoplanet row.
//! * An alias key belongs to exactly one star (the first claimant); later claims are dropped
//!   with [`FlagCode::AliasConflict`].

pub mod crossmatch;
pub mod curated;

pub use crossmatch::Catalogues;

use crate::catalogue::exoplanets::{ExoplanetRecord, MassSource};
use crate::catalogue::simbad::SimbadRecord;
use crate::names::{alias_key, normalise_id};
use crate::spectral::{self, SpectralClass, StellarKind};
use crate::units::LY_PER_PC;
use curated::{BondKind, COMPANION_CATALOGUE, CuratedComponent, SOL_ALIASES, SOL_MAIN_ID, SOL_PLANETS};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Tunables of canonicalisation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CanonConfig {
    /// Two distance measurements of one star disagreeing by more than this fraction of the
    /// adopted distance are flagged.
    pub distance_disagreement: f64,
    /// Matched sources whose positions differ by more than this (arcsec) are flagged.
    pub position_tolerance_arcsec: f64,
    /// Two stars closer than this on the sky (arcsec) are listed as a possible duplicate.
    pub same_object_arcsec: f64,
    /// Two stars closer than this in space (pc) are listed as neighbours for review.
    pub close_pair_pc: f64,
    /// Review pairs are only listed when both stars are within this distance (pc).
    pub review_max_distance_pc: f64,
}

impl Default for CanonConfig {
    fn default() -> Self {
        CanonConfig {
            distance_disagreement: 0.10,
            position_tolerance_arcsec: 60.0,
            same_object_arcsec: 2.0,
            close_pair_pc: 0.3,
            review_max_distance_pc: 110.0 / LY_PER_PC,
        }
    }
}

/// Where a value or a star came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    Curated,
    Simbad,
    ExoplanetCatalogue,
    /// Hipparcos 2 (`hip2.dat`).
    Hipparcos,
    /// The star-name catalogue (d3-celestial `starnames.json`): names only.
    StarNames,
}

impl Provenance {
    /// The `source_name` written with a star (`CURATED`, `SIMBAD`, `EXOPLANET_CATALOG`).
    pub fn source_name(self) -> &'static str {
        match self {
            Provenance::Curated => "CURATED",
            Provenance::Simbad => "SIMBAD",
            Provenance::ExoplanetCatalogue => "EXOPLANET_CATALOG",
            Provenance::Hipparcos => "HIPPARCOS",
            Provenance::StarNames => "NAMES",
        }
    }
}

/// How a distance was obtained (DOMAIN.md §5.4 `distance_source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DistanceSource {
    /// A real parallax with its error (none in the committed sources).
    Parallax,
    /// A catalogue distance without an error.
    CatalogDistance,
    Curated,
}

impl DistanceSource {
    pub fn as_str(self) -> &'static str {
        match self {
            DistanceSource::Parallax => "parallax",
            DistanceSource::CatalogDistance => "catalog_distance",
            DistanceSource::Curated => "curated",
        }
    }
}

/// Where a spectral class came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassSource {
    /// Parsed from a catalogue spectral type.
    Catalogue,
    /// SIMBAD object type (`WD*` → D, `LM*` → M).
    OtypeHint,
    Curated,
    /// From the catalogue Teff ([`SpectralClass::from_teff`]).
    TeffDerived,
}

impl ClassSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ClassSource::Catalogue => "catalogue",
            ClassSource::OtypeHint => "otype_hint",
            ClassSource::Curated => "curated",
            ClassSource::TeffDerived => "teff_derived",
        }
    }
}

/// One source row (or curated entry) merged into a star: the lineage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceRef {
    pub provenance: Provenance,
    /// SIMBAD `sys_id`, the exoplanet `star_name`, or the curated group name.
    pub object_id: String,
    /// Line in the source file (`None` for curated entries). For an exoplanet host, the line of
    /// its first row.
    pub line: Option<u32>,
    /// How this source was matched to the star when it did not create it (`HIP 91262`,
    /// `HD 10700`, `position 0.4″`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched_by: Option<String>,
}

/// One distance measurement of a star.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DistanceMeasurement {
    pub provenance: Provenance,
    pub distance_pc: f64,
    /// 1σ (pc) when the source gives one (a parallax with its error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncertainty_pc: Option<f64>,
}

/// One alias: its key ([`alias_key`]) and display text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alias {
    pub key: String,
    pub text: String,
}

/// A planet's tier (DOMAIN.md §6.4): Confirmed → T1, Candidate → T2, curated (Sol) → T1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tier {
    T1,
    T2,
    T3,
    T4,
}

/// An observed planet attached to its host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CanonPlanet {
    pub planet_name: String,
    pub planet_status: Option<String>,
    pub provenance: Provenance,
    pub tier: Tier,
    pub mass_earth: Option<f64>,
    pub mass_source: Option<MassSource>,
    pub radius_earth: Option<f64>,
    pub semi_major_axis_au: Option<f64>,
    pub orbital_period_days: Option<f64>,
    pub eccentricity: Option<f64>,
    pub inclination_deg: Option<f64>,
    pub temp_calculated_k: Option<f64>,
    pub temp_measured_k: Option<f64>,
    pub geometric_albedo: Option<f64>,
    pub detection_type: Option<String>,
    pub molecules: Option<String>,
    pub discovered: Option<i32>,
    pub updated: Option<String>,
    /// Line of the exoplanet row (`None` for curated planets).
    pub source_line: Option<u32>,
}

/// One canonical star.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CanonStar {
    /// Unique, normalised (SIMBAD main_id, curated component name, or exoplanet star_name).
    pub main_id: String,
    /// Who created the identity (curated beats SIMBAD beats the exoplanet catalogue).
    pub provenance: Provenance,
    pub sources: Vec<SourceRef>,
    pub ra_deg: Option<f64>,
    pub dec_deg: Option<f64>,
    /// Adopted distance (highest-precedence measurement).
    pub distance_pc: Option<f64>,
    pub distance_source: Option<DistanceSource>,
    pub distance_provenance: Option<Provenance>,
    /// Every distance measurement, in precedence order.
    pub distances: Vec<DistanceMeasurement>,
    pub otype: Option<String>,
    pub otypes: Vec<String>,
    /// Raw (normalised) spectral type the class was read from.
    pub spectral_type: Option<String>,
    pub spectral_class: Option<SpectralClass>,
    pub spectral_subclass: Option<f64>,
    pub luminosity_class: Option<String>,
    pub class_source: Option<ClassSource>,
    pub kind: StellarKind,
    pub teff_k: Option<f64>,
    pub luminosity_lsun: Option<f64>,
    pub mass_msun: Option<f64>,
    pub radius_rsun: Option<f64>,
    pub metallicity_feh: Option<f64>,
    pub age_gyr: Option<f64>,
    /// Where the physical parameters (Teff, L, M, R, [Fe/H], age) came from.
    pub parameters_provenance: Option<Provenance>,
    pub multiplicity: u8,
    /// Curated group name (`Alpha Centauri`, …).
    pub group: Option<String>,
    /// The name to show: a proper name (curated, the names catalogue, SIMBAD `NAME`), else the
    /// common designation (`τ Cet`), else none (the main_id is shown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Hipparcos Hp magnitude.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hp_mag: Option<f64>,
    /// Hipparcos B−V colour index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b_v: Option<f64>,
    pub aliases: Vec<Alias>,
    pub planets: Vec<CanonPlanet>,
    pub flags: Vec<CanonFlag>,
}

impl CanonStar {
    pub fn distance_ly(&self) -> Option<f64> {
        self.distance_pc.map(|d| d * LY_PER_PC)
    }

    pub fn has_flag(&self, code: FlagCode) -> bool {
        self.flags.iter().any(|f| f.code == code)
    }
}

/// A review flag on a star.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagCode {
    /// Two distance measurements disagree by more than the configured fraction.
    DistanceDisagreement,
    /// Sources merged into the star disagree on its position by more than the tolerance.
    PositionDisagreement,
    /// An alias key was also claimed by another star (kept by the first claimant).
    AliasConflict,
    /// An exoplanet host's alternate names name several stars: not merged.
    AmbiguousHost,
    /// A SIMBAD row names several curated components equally: not merged.
    CuratedMatchAmbiguous,
    /// An object type implausible for a neighbour (a pulsar within the review distance).
    ImplausibleObject,
    /// The adopted distance comes from a parallax with σ(plx)/plx > 0.2.
    UncertainDistance,
    /// A Hipparcos star was merged into this star by position alone (no shared identifier).
    MatchedByPosition,
}

impl FlagCode {
    pub fn as_str(self) -> &'static str {
        match self {
            FlagCode::DistanceDisagreement => "distance_disagreement",
            FlagCode::PositionDisagreement => "position_disagreement",
            FlagCode::AliasConflict => "alias_conflict",
            FlagCode::AmbiguousHost => "ambiguous_host",
            FlagCode::CuratedMatchAmbiguous => "curated_match_ambiguous",
            FlagCode::ImplausibleObject => "implausible_object",
            FlagCode::UncertainDistance => "uncertain_distance",
            FlagCode::MatchedByPosition => "matched_by_position",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CanonFlag {
    pub code: FlagCode,
    pub detail: String,
}

/// A curated group with the main_ids of its components and its bonds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemGroup {
    pub name: String,
    pub hierarchy: String,
    pub components: Vec<String>,
    pub bonds: Vec<GroupBond>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupBond {
    pub a: String,
    pub b: String,
    pub separation_au: f64,
    pub kind: BondKind,
}

/// Why two stars are on the curators' spatial review list (never merged silently).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewKind {
    /// Closer than `same_object_arcsec` on the sky: possibly one object listed twice.
    SameObjectSuspect,
    /// Closer than `close_pair_pc` in space (often a genuine binary).
    CloseNeighbours,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewPair {
    pub kind: ReviewKind,
    pub a: String,
    pub b: String,
    pub separation_arcsec: f64,
    pub separation_pc: f64,
}

/// The canonical catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Canon {
    pub stars: Vec<CanonStar>,
    pub groups: Vec<SystemGroup>,
    pub review: Vec<ReviewPair>,
    /// Exoplanet rows deliberately not attached to any star, with the reason.
    pub unattached_planets: Vec<UnattachedPlanet>,
    pub stats: CanonStats,
}

/// An exoplanet row that is not attached to a star.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnattachedPlanet {
    pub planet_name: String,
    pub star_name: String,
    pub line: u32,
    pub reason: String,
}

/// Counts of what canonicalisation did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CanonStats {
    pub stars: usize,
    pub curated_stars: usize,
    pub simbad_rows: usize,
    /// SIMBAD rows merged into a curated component.
    pub simbad_merged_into_curated: usize,
    pub exoplanet_rows: usize,
    pub exoplanet_hosts: usize,
    /// Hosts matched to a star by their `star_name`.
    pub hosts_matched_by_name: usize,
    /// Hosts matched by one of their `star_alternate_names`.
    pub hosts_matched_by_alternate_name: usize,
    /// Hosts that became new stars.
    pub hosts_new: usize,
    /// Observed planets attached to a host (Sol's eight included).
    pub planets_attached: usize,
    /// Exoplanet rows not attached (see [`Canon::unattached_planets`]).
    pub planets_unattached: usize,
    pub aliases: usize,
    /// Hipparcos rows given to canonicalisation.
    #[serde(default)]
    pub hipparcos_rows: usize,
    /// Hipparcos rows merged into an existing star by a shared identifier.
    #[serde(default)]
    pub hipparcos_merged_by_id: usize,
    /// Hipparcos rows merged into an existing star by position.
    #[serde(default)]
    pub hipparcos_merged_by_position: usize,
    /// Hipparcos rows that became new stars.
    #[serde(default)]
    pub hipparcos_new: usize,
    /// Names-catalogue entries whose star is in the build.
    #[serde(default)]
    pub names_applied: usize,
    /// Stars whose adopted distance is a parallax with its error.
    #[serde(default)]
    pub distances_from_parallax: usize,
    /// Flags per code.
    pub flags: BTreeMap<FlagCode, usize>,
}

impl Canon {
    /// The star an alias (any spelling) names.
    pub fn find(&self, name: &str) -> Option<&CanonStar> {
        let key = alias_key(name);
        self.stars.iter().find(|s| s.aliases.iter().any(|a| a.key == key))
    }

    pub fn star(&self, main_id: &str) -> Option<&CanonStar> {
        self.stars.iter().find(|s| s.main_id == main_id)
    }
}

/// Angular separation in arcseconds (haversine).
pub fn angular_separation_arcsec(ra1: f64, dec1: f64, ra2: f64, dec2: f64) -> f64 {
    let (p1, p2) = (dec1.to_radians(), dec2.to_radians());
    let dphi = p2 - p1;
    let dl = (ra2 - ra1).to_radians();
    let h = (dphi / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * h.sqrt().min(1.0).asin().to_degrees() * 3600.0
}

/// Builder state: stars and the alias index (key → star index).
struct Builder {
    stars: Vec<CanonStar>,
    index: HashMap<String, usize>,
}

impl Builder {
    /// Claim `text`'s key for star `i`; a key owned by another star is flagged on `i`.
    fn add_alias(&mut self, i: usize, text: &str) {
        let text = normalise_id(text);
        let key = alias_key(&text);
        if key.is_empty() {
            return;
        }
        match self.index.get(&key) {
            Some(&owner) if owner == i => {}
            Some(&owner) => {
                let detail = format!("alias {text:?} already names {:?}", self.stars[owner].main_id);
                push_flag(&mut self.stars[i], FlagCode::AliasConflict, detail);
            }
            None => {
                self.index.insert(key.clone(), i);
                self.stars[i].aliases.push(Alias { key, text });
            }
        }
    }

    fn push(&mut self, star: CanonStar) -> usize {
        self.stars.push(star);
        self.stars.len() - 1
    }
}

fn push_flag(star: &mut CanonStar, code: FlagCode, detail: String) {
    if !star.flags.iter().any(|f| f.code == code && f.detail == detail) {
        star.flags.push(CanonFlag { code, detail });
    }
}

fn empty_star(main_id: String, provenance: Provenance) -> CanonStar {
    CanonStar {
        main_id,
        provenance,
        sources: Vec::new(),
        ra_deg: None,
        dec_deg: None,
        distance_pc: None,
        distance_source: None,
        distance_provenance: None,
        distances: Vec::new(),
        otype: None,
        otypes: Vec::new(),
        spectral_type: None,
        spectral_class: None,
        spectral_subclass: None,
        luminosity_class: None,
        class_source: None,
        kind: StellarKind::Normal,
        teff_k: None,
        luminosity_lsun: None,
        mass_msun: None,
        radius_rsun: None,
        metallicity_feh: None,
        age_gyr: None,
        parameters_provenance: None,
        multiplicity: 1,
        group: None,
        display_name: None,
        hp_mag: None,
        b_v: None,
        aliases: Vec::new(),
        planets: Vec::new(),
        flags: Vec::new(),
    }
}

fn sol() -> CanonStar {
    let mut s = empty_star(SOL_MAIN_ID.to_string(), Provenance::Curated);
    s.sources.push(SourceRef {
        provenance: Provenance::Curated,
        object_id: SOL_MAIN_ID.into(),
        line: None,
        matched_by: None,
    });
    s.ra_deg = Some(0.0);
    s.dec_deg = Some(0.0);
    set_distance(&mut s, Provenance::Curated, 0.0);
    s.spectral_type = Some("G2V".into());
    s.spectral_class = Some(SpectralClass::G);
    s.spectral_subclass = Some(2.0);
    s.luminosity_class = Some("V".into());
    s.class_source = Some(ClassSource::Curated);
    s.teff_k = Some(5772.0);
    s.luminosity_lsun = Some(1.0);
    s.mass_msun = Some(1.0);
    s.radius_rsun = Some(1.0);
    s.metallicity_feh = Some(0.0);
    s.age_gyr = Some(4.6);
    s.parameters_provenance = Some(Provenance::Curated);
    s.planets = SOL_PLANETS
        .iter()
        .map(|p| CanonPlanet {
            planet_name: p.name.to_string(),
            planet_status: Some("Confirmed".into()),
            provenance: Provenance::Curated,
            tier: Tier::T1,
            mass_earth: Some(p.mass_earth),
            mass_source: Some(MassSource::TrueMass),
            radius_earth: Some(p.radius_earth),
            semi_major_axis_au: Some(p.semi_major_axis_au),
            orbital_period_days: Some(p.orbital_period_days),
            eccentricity: Some(p.eccentricity),
            inclination_deg: Some(p.inclination_deg),
            temp_calculated_k: None,
            temp_measured_k: None,
            geometric_albedo: None,
            detection_type: None,
            molecules: None,
            discovered: None,
            updated: None,
            source_line: None,
        })
        .collect();
    s
}

/// Add a distance measurement; the first one (highest precedence) is adopted.
fn set_distance(star: &mut CanonStar, provenance: Provenance, d: f64) {
    if !d.is_finite() || d < 0.0 {
        return;
    }
    star.distances.push(DistanceMeasurement { provenance, distance_pc: d, uncertainty_pc: None });
    if star.distance_pc.is_none() {
        star.distance_pc = Some(d);
        star.distance_provenance = Some(provenance);
        star.distance_source = Some(match provenance {
            Provenance::Curated => DistanceSource::Curated,
            _ => DistanceSource::CatalogDistance,
        });
    }
}

fn curated_star(group: &str, comp: &CuratedComponent, group_size: usize) -> CanonStar {
    let mut s = empty_star(comp.name.to_string(), Provenance::Curated);
    s.sources.push(SourceRef {
        provenance: Provenance::Curated,
        object_id: group.to_string(),
        line: None,
        matched_by: None,
    });
    s.ra_deg = Some(comp.ra_deg);
    s.dec_deg = Some(comp.dec_deg);
    set_distance(&mut s, Provenance::Curated, comp.dist_pc);
    s.spectral_class = Some(comp.class);
    s.class_source = Some(ClassSource::Curated);
    s.kind = if comp.class == SpectralClass::D { StellarKind::WhiteDwarf } else { StellarKind::Normal };
    s.teff_k = Some(comp.teff_k);
    s.luminosity_lsun = Some(comp.luminosity_lsun);
    s.mass_msun = Some(comp.mass_msun);
    s.parameters_provenance = Some(Provenance::Curated);
    s.multiplicity = u8::try_from(group_size).unwrap_or(u8::MAX);
    s.group = Some(group.to_string());
    s
}

/// Merge a SIMBAD row into a star (a new one or a curated component).
fn merge_simbad(star: &mut CanonStar, r: &SimbadRecord, cfg: &CanonConfig) {
    star.sources.push(SourceRef {
        provenance: Provenance::Simbad,
        object_id: r.sys_id.to_string(),
        line: Some(r.line),
        matched_by: None,
    });
    // Observed beats curated for where a star is: the first SIMBAD row merged into a curated
    // component replaces the curated position and distance (the curated values stay in
    // `distances` and a disagreement is flagged); later rows only flag.
    let curated_position = star.distance_provenance.is_none_or(|p| p == Provenance::Curated);
    match (star.ra_deg, star.dec_deg) {
        (Some(ra), Some(dec)) => {
            let sep = angular_separation_arcsec(ra, dec, r.ra_deg, r.dec_deg);
            if sep > cfg.position_tolerance_arcsec {
                let detail = if curated_position {
                    format!("the curated position is {sep:.1}\" from SIMBAD sys_id {} (SIMBAD adopted)", r.sys_id)
                } else {
                    format!("SIMBAD sys_id {} is {sep:.1}\" from the adopted position", r.sys_id)
                };
                push_flag(star, FlagCode::PositionDisagreement, detail);
            }
            if curated_position {
                star.ra_deg = Some(r.ra_deg);
                star.dec_deg = Some(r.dec_deg);
            }
        }
        _ => {
            star.ra_deg = Some(r.ra_deg);
            star.dec_deg = Some(r.dec_deg);
        }
    }
    if let Some(d) = r.dist_pc.filter(|d| *d > 0.0) {
        set_distance(star, Provenance::Simbad, d);
        if curated_position && d.is_finite() {
            star.distance_pc = Some(d);
            star.distance_provenance = Some(Provenance::Simbad);
            star.distance_source = Some(DistanceSource::CatalogDistance);
            let last = star.distances.pop().expect("just pushed");
            star.distances.insert(0, last);
        }
    }
    if star.otype.is_none() {
        star.otype = r.otype_txt.clone();
    }
    if star.otypes.is_empty() {
        star.otypes = r.otypes.clone();
    }
    star.multiplicity = star.multiplicity.max(r.multiplicity);
    if star.spectral_class.is_none()
        && let Some(t) = r.spectral_type.as_deref().and_then(spectral::parse)
        && t.class.is_some()
    {
        apply_spectral(star, &t, ClassSource::Catalogue);
    }
}

fn apply_spectral(star: &mut CanonStar, t: &spectral::SpectralType, source: ClassSource) {
    star.spectral_type = Some(t.raw.clone());
    star.spectral_class = t.class;
    star.spectral_subclass = t.subclass;
    star.luminosity_class = t.luminosity_class.clone();
    star.class_source = Some(source);
    if t.kind != StellarKind::Normal {
        star.kind = t.kind;
    }
}

/// SIMBAD object types that imply a class (DOMAIN.md §11.16): `WD*` → D, `LM*` → M. `BD*`
/// (brown dwarf) implies L or T and is recorded as a kind only.
fn otype_hint(star: &mut CanonStar) {
    let has = |t: &str| star.otype.as_deref() == Some(t) || star.otypes.iter().any(|o| o == t);
    if star.spectral_class.is_none() {
        if has("WD*") {
            star.spectral_class = Some(SpectralClass::D);
            star.class_source = Some(ClassSource::OtypeHint);
            star.kind = StellarKind::WhiteDwarf;
        } else if star.otype.as_deref() == Some("LM*") {
            star.spectral_class = Some(SpectralClass::M);
            star.class_source = Some(ClassSource::OtypeHint);
        }
    }
    if star.kind == StellarKind::Normal && star.spectral_class.is_none() && star.otype.as_deref() == Some("BD*") {
        star.kind = StellarKind::BrownDwarf;
    }
}

/// Which curated component (index into `comps`) a SIMBAD row joins, if any.
fn curated_match(r: &SimbadRecord, curated_index: &HashMap<String, usize>) -> Result<Option<usize>, Vec<usize>> {
    let main_key = alias_key(&r.main_id);
    if let Some(&c) = curated_index.get(&main_key) {
        return Ok(Some(c));
    }
    let mut hits: BTreeMap<usize, usize> = BTreeMap::new();
    for id in &r.ids {
        if let Some(&c) = curated_index.get(&alias_key(id)) {
            *hits.entry(c).or_insert(0) += 1;
        }
    }
    let Some(&best) = hits.values().max() else { return Ok(None) };
    let winners: Vec<usize> = hits.iter().filter(|(_, n)| **n == best).map(|(c, _)| *c).collect();
    if winners.len() == 1 { Ok(Some(winners[0])) } else { Err(winners) }
}

/// Canonicalise one SIMBAD file's accepted rows and one exoplanet file's accepted rows.
pub fn canonicalise(simbad: &[SimbadRecord], exoplanets: &[ExoplanetRecord], cfg: &CanonConfig) -> Canon {
    canonicalise_with(simbad, exoplanets, &Catalogues::default(), cfg)
}

/// [`canonicalise`] with the Hipparcos 2 and names families ([`crossmatch`]): Hipparcos rows
/// are matched after the SIMBAD rows, the names catalogue's aliases added, then the exoplanet
/// hosts are matched (by exact alias, alternate names, then [`crate::names::search_key`]).
pub fn canonicalise_with(
    simbad: &[SimbadRecord],
    exoplanets: &[ExoplanetRecord],
    catalogues: &Catalogues<'_>,
    cfg: &CanonConfig,
) -> Canon {
    let mut b = Builder { stars: Vec::new(), index: HashMap::new() };
    let mut stats = CanonStats { simbad_rows: simbad.len(), exoplanet_rows: exoplanets.len(), ..Default::default() };

    // Sol and the curated components.
    let sol_i = b.push(sol());
    for a in SOL_ALIASES {
        b.add_alias(sol_i, a);
    }
    let mut groups = Vec::new();
    let mut curated_index: HashMap<String, usize> = HashMap::new();
    for g in &COMPANION_CATALOGUE {
        let mut components = Vec::new();
        for comp in g.components {
            let i = b.push(curated_star(g.name, comp, g.components.len()));
            for a in std::iter::once(&comp.name).chain(comp.aliases) {
                b.add_alias(i, a);
                curated_index.insert(alias_key(a), i);
            }
            components.push(comp.name.to_string());
        }
        let bonds = g
            .bonds
            .iter()
            .map(|bd| GroupBond { a: bd.a.into(), b: bd.b.into(), separation_au: bd.separation_au, kind: bd.kind() })
            .collect();
        groups.push(SystemGroup { name: g.name.into(), hierarchy: g.hierarchy.into(), components, bonds });
    }
    stats.curated_stars = b.stars.len();

    // SIMBAD rows: join a curated component or become a star.
    let mut curated_taken: HashMap<usize, i64> = HashMap::new();
    for r in simbad {
        let target = match curated_match(r, &curated_index) {
            Ok(Some(c)) if !curated_taken.contains_key(&c) => {
                curated_taken.insert(c, r.sys_id);
                stats.simbad_merged_into_curated += 1;
                Some(c)
            }
            Ok(Some(c)) => {
                let detail = format!(
                    "SIMBAD sys_id {} also names {:?}, already matched to sys_id {}",
                    r.sys_id, b.stars[c].main_id, curated_taken[&c]
                );
                push_flag(&mut b.stars[c], FlagCode::CuratedMatchAmbiguous, detail);
                None
            }
            Ok(None) => None,
            Err(candidates) => {
                let names: Vec<&str> = candidates.iter().map(|&c| b.stars[c].main_id.as_str()).collect();
                let detail = format!("SIMBAD sys_id {} names {} equally; not merged", r.sys_id, names.join(", "));
                for &c in &candidates {
                    push_flag(&mut b.stars[c], FlagCode::CuratedMatchAmbiguous, detail.clone());
                }
                None
            }
        };
        let i = match target {
            Some(c) => c,
            None => b.push(empty_star(r.main_id.clone(), Provenance::Simbad)),
        };
        merge_simbad(&mut b.stars[i], r, cfg);
        b.add_alias(i, &r.main_id);
        for id in &r.ids {
            b.add_alias(i, id);
        }
    }

    crossmatch::merge_hipparcos(&mut b, catalogues, &mut stats);
    crossmatch::apply_names(&mut b, catalogues, &mut stats);
    // Search keys of every alias so far (first claimant): `Gliese 581` finds `GJ 581`.
    let mut fold: HashMap<String, usize> = HashMap::new();
    for (i, s) in b.stars.iter().enumerate() {
        for a in &s.aliases {
            fold.entry(crate::names::search_key(&a.text)).or_insert(i);
        }
    }

    // Exoplanet hosts, grouped by star_name in order of first appearance.
    let mut host_order: Vec<&str> = Vec::new();
    let mut host_rows: HashMap<&str, Vec<&ExoplanetRecord>> = HashMap::new();
    for r in exoplanets {
        host_rows
            .entry(r.star_name.as_str())
            .or_insert_with(|| {
                host_order.push(r.star_name.as_str());
                Vec::new()
            })
            .push(r);
    }
    stats.exoplanet_hosts = host_order.len();
    let mut unattached = Vec::new();
    for name in host_order {
        let rows = &host_rows[name];
        let mut alternates: Vec<&str> = Vec::new();
        for r in rows {
            for a in &r.star_alternate_names {
                if !alternates.contains(&a.as_str()) {
                    alternates.push(a);
                }
            }
        }
        let by_name = b.index.get(&alias_key(name)).copied();
        let i = if let Some(i) = by_name {
            stats.hosts_matched_by_name += 1;
            i
        } else {
            let mut hit: Vec<usize> = alternates.iter().filter_map(|a| b.index.get(&alias_key(a)).copied()).collect();
            hit.sort_unstable();
            hit.dedup();
            let by_fold = || {
                let key = crate::names::search_key(name);
                fold.get(&key).copied().filter(|_| key.chars().count() > 3)
            };
            match hit.as_slice() {
                [one] => {
                    stats.hosts_matched_by_alternate_name += 1;
                    *one
                }
                [] if let Some(i) = by_fold() => {
                    stats.hosts_matched_by_name += 1;
                    i
                }
                _ => {
                    stats.hosts_new += 1;
                    let i = b.push(empty_star(name.to_string(), Provenance::ExoplanetCatalogue));
                    if hit.len() > 1 {
                        let names: Vec<&str> = hit.iter().map(|&h| b.stars[h].main_id.as_str()).collect();
                        let detail = format!("alternate names of {name:?} name {}; not merged", names.join(", "));
                        push_flag(&mut b.stars[i], FlagCode::AmbiguousHost, detail);
                    }
                    i
                }
            }
        };
        if i == sol_i {
            // The solar system is curated and complete; exoplanet.eu lists the interstellar
            // objects 1I/ʻOumuamua and 2I/Borisov with host "Sun".
            for r in rows.iter() {
                unattached.push(UnattachedPlanet {
                    planet_name: r.planet_name.clone(),
                    star_name: name.to_string(),
                    line: r.line,
                    reason:
                        "host is the Sun: the curated solar system is closed (interstellar objects are not planets)"
                            .into(),
                });
            }
            continue;
        }
        merge_exoplanet_host(&mut b.stars[i], name, rows, cfg);
        b.add_alias(i, name);
        for a in &alternates {
            b.add_alias(i, a);
        }
    }

    // Derived values and flags.
    let review_max = cfg.review_max_distance_pc;
    for s in &mut b.stars {
        otype_hint(s);
        if s.spectral_class.is_none()
            && let Some(c) = s.teff_k.and_then(SpectralClass::from_teff)
        {
            s.spectral_class = Some(c);
            s.class_source = Some(ClassSource::TeffDerived);
        }
        if s.luminosity_lsun.is_none()
            && let (Some(t), Some(r)) = (s.teff_k, s.radius_rsun)
            && t > 0.0
            && r > 0.0
        {
            s.luminosity_lsun = Some(r * r * (t / 5772.0).powi(4));
        }
        crossmatch::adopt_distance(s, &mut stats);
        crossmatch::default_display_name(s);
        distance_flags(s, cfg);
        let near = s.distance_pc.is_some_and(|d| d <= review_max);
        if near && s.kind == StellarKind::Pulsar {
            let detail = format!("a pulsar at {:.2} pc", s.distance_pc.unwrap_or_default());
            push_flag(s, FlagCode::ImplausibleObject, detail);
        }
        s.flags.sort_by(|a, b| (a.code, &a.detail).cmp(&(b.code, &b.detail)));
    }

    let review = review_pairs(&b.stars, cfg);
    stats.stars = b.stars.len();
    stats.planets_attached = b.stars.iter().map(|s| s.planets.len()).sum();
    stats.planets_unattached = unattached.len();
    stats.aliases = b.index.len();
    for f in b.stars.iter().flat_map(|s| &s.flags) {
        *stats.flags.entry(f.code).or_insert(0) += 1;
    }
    Canon { stars: b.stars, groups, review, unattached_planets: unattached, stats }
}

fn merge_exoplanet_host(star: &mut CanonStar, name: &str, rows: &[&ExoplanetRecord], cfg: &CanonConfig) {
    let first = rows[0];
    star.sources.push(SourceRef {
        provenance: Provenance::ExoplanetCatalogue,
        object_id: name.to_string(),
        line: Some(first.line),
        matched_by: None,
    });
    match (star.ra_deg, star.dec_deg) {
        (Some(ra), Some(dec)) => {
            let sep = angular_separation_arcsec(ra, dec, first.ra_deg, first.dec_deg);
            if sep > cfg.position_tolerance_arcsec {
                let detail = format!("exoplanet host {name:?} is {sep:.1}\" from the adopted position");
                push_flag(star, FlagCode::PositionDisagreement, detail);
            }
        }
        _ => {
            star.ra_deg = Some(first.ra_deg);
            star.dec_deg = Some(first.dec_deg);
        }
    }
    let first_some = |f: fn(&ExoplanetRecord) -> Option<f64>| rows.iter().find_map(|r| f(r));
    if let Some(d) = first_some(|r| r.star_distance_pc).filter(|d| *d > 0.0) {
        set_distance(star, Provenance::ExoplanetCatalogue, d);
    }
    if star.parameters_provenance != Some(Provenance::Curated) {
        let teff = first_some(|r| r.star_teff_k);
        let mass = first_some(|r| r.star_mass_msun);
        let radius = first_some(|r| r.star_radius_rsun);
        let feh = first_some(|r| r.star_metallicity);
        let age = first_some(|r| r.star_age_gyr);
        if [teff, mass, radius, feh, age].iter().any(Option::is_some) {
            star.teff_k = teff.filter(|t| *t > 0.0);
            star.mass_msun = mass.filter(|m| *m > 0.0);
            star.radius_rsun = radius.filter(|r| *r > 0.0);
            star.metallicity_feh = feh;
            star.age_gyr = age;
            star.parameters_provenance = Some(Provenance::ExoplanetCatalogue);
        }
    } else if star.metallicity_feh.is_none() {
        star.metallicity_feh = first_some(|r| r.star_metallicity);
    }
    if star.class_source.is_none_or(|s| s == ClassSource::OtypeHint)
        && let Some(t) = rows.iter().find_map(|r| r.star_sp_type.as_deref()).and_then(spectral::parse)
    {
        if t.class.is_some() {
            apply_spectral(star, &t, ClassSource::Catalogue);
        } else if star.kind == StellarKind::Normal {
            star.spectral_type = Some(t.raw.clone());
            star.kind = t.kind;
        }
    }
    for r in rows {
        star.planets.push(CanonPlanet {
            planet_name: r.planet_name.clone(),
            planet_status: r.planet_status.clone(),
            provenance: Provenance::ExoplanetCatalogue,
            tier: if r.planet_status.as_deref() == Some("Confirmed") { Tier::T1 } else { Tier::T2 },
            mass_earth: r.mass_earth,
            mass_source: r.mass_source,
            radius_earth: r.radius_earth,
            semi_major_axis_au: r.semi_major_axis_au,
            orbital_period_days: r.orbital_period_days,
            eccentricity: r.eccentricity,
            inclination_deg: r.inclination_deg,
            temp_calculated_k: r.temp_calculated_k,
            temp_measured_k: r.temp_measured_k,
            geometric_albedo: r.geometric_albedo,
            detection_type: r.detection_type.clone(),
            molecules: r.molecules.clone(),
            discovered: r.discovered,
            updated: r.updated.clone(),
            source_line: Some(r.line),
        });
    }
}

/// Flag every measurement that differs from the adopted distance by more than the fraction.
fn distance_flags(s: &mut CanonStar, cfg: &CanonConfig) {
    let Some(adopted) = s.distance_pc.filter(|d| *d > 0.0) else { return };
    let adopted_from = s.distance_provenance;
    let mut details = Vec::new();
    for m in &s.distances {
        let rel = (m.distance_pc - adopted).abs() / adopted;
        if rel > cfg.distance_disagreement {
            details.push(format!(
                "{} {:.4} pc vs adopted {} {:.4} pc ({:.1} %)",
                m.provenance.source_name(),
                m.distance_pc,
                adopted_from.map_or("?", Provenance::source_name),
                adopted,
                rel * 100.0
            ));
        }
    }
    for d in details {
        push_flag(s, FlagCode::DistanceDisagreement, d);
    }
}

/// Pairs for the curators' spatial review list (both stars within the review distance): each
/// star is compared only with the stars in its own and the 26 neighbouring cells of two hash
/// grids — one in space (cells of `close_pair_pc`), one on the unit sphere (cells of the chord of
/// `same_object_arcsec`) — so the work grows with the stars, not with their pairs. The pairs
/// come out in the order of the stars (as the all-pairs loop gave them).
fn review_pairs(stars: &[CanonStar], cfg: &CanonConfig) -> Vec<ReviewPair> {
    struct P<'a> {
        id: &'a str,
        v: [f64; 3],
        u: [f64; 3],
        ra: f64,
        dec: f64,
    }
    let pts: Vec<P> = stars
        .iter()
        .filter_map(|s| {
            let (ra, dec, d) = (s.ra_deg?, s.dec_deg?, s.distance_pc?);
            (d > 0.0 && d <= cfg.review_max_distance_pc).then(|| {
                let (a, b) = (ra.to_radians(), dec.to_radians());
                let u = [b.cos() * a.cos(), b.cos() * a.sin(), b.sin()];
                P { id: &s.main_id, v: [d * u[0], d * u[1], d * u[2]], u, ra, dec }
            })
        })
        .collect();
    // A chord on the unit sphere is never longer than its arc; 1 % margin against rounding.
    let sky_cell = (cfg.same_object_arcsec / 3600.0).to_radians() * 1.01;
    let mut candidates: Vec<(u32, u32)> = Vec::new();
    candidates_within(pts.iter().map(|p| p.v), cfg.close_pair_pc * 1.01, &mut candidates);
    candidates_within(pts.iter().map(|p| p.u), sky_cell, &mut candidates);
    candidates.sort_unstable();
    candidates.dedup();
    let mut out = Vec::new();
    for (i, j) in candidates {
        let (p, q) = (&pts[i as usize], &pts[j as usize]);
        let dist = ((p.v[0] - q.v[0]).powi(2) + (p.v[1] - q.v[1]).powi(2) + (p.v[2] - q.v[2]).powi(2)).sqrt();
        let sep = angular_separation_arcsec(p.ra, p.dec, q.ra, q.dec);
        let Some(kind) = review_kind(sep, dist, cfg) else { continue };
        out.push(ReviewPair {
            kind,
            a: p.id.to_string(),
            b: q.id.to_string(),
            separation_arcsec: sep,
            separation_pc: dist,
        });
    }
    out
}

/// Why two stars `sep` arcseconds apart on the sky and `dist` parsecs apart in space are
/// listed for review, if they are.
fn review_kind(sep: f64, dist: f64, cfg: &CanonConfig) -> Option<ReviewKind> {
    if sep < cfg.same_object_arcsec {
        Some(ReviewKind::SameObjectSuspect)
    } else if dist < cfg.close_pair_pc {
        Some(ReviewKind::CloseNeighbours)
    } else {
        None
    }
}

/// Every pair (i < j) of points in the same or neighbouring cells of a grid of `cell` (a
/// superset of the pairs closer than `cell`), appended to `out`.
fn candidates_within(points: impl Iterator<Item = [f64; 3]>, cell: f64, out: &mut Vec<(u32, u32)>) {
    if cell.is_nan() || cell <= 0.0 {
        return;
    }
    let key = |v: [f64; 3]| v.map(|c| (c / cell).floor() as i64);
    let keys: Vec<[i64; 3]> = points.map(key).collect();
    let mut grid: HashMap<[i64; 3], Vec<u32>> = HashMap::with_capacity(keys.len());
    for (i, k) in keys.iter().enumerate() {
        grid.entry(*k).or_default().push(i as u32);
    }
    for (i, k) in keys.iter().enumerate() {
        for dx in -1..=1 {
            for dy in -1..=1 {
                for dz in -1..=1 {
                    if let Some(cell) = grid.get(&[k[0] + dx, k[1] + dy, k[2] + dz]) {
                        out.extend(cell.iter().filter(|&&j| j as usize > i).map(|&j| (i as u32, j)));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;

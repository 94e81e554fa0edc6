//! The canonical catalogue's types: stars, aliases, planets, provenance, flags, groups, the
//! review list and the counts, and the tunables.

use super::curated::BondKind;
use crate::catalogue::exoplanets::MassSource;
use crate::names::alias_key;
use crate::spectral::{SpectralClass, StellarKind};
use crate::units::LY_PER_PC;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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

    /// The source named by [`DistanceSource::as_str`].
    pub fn from_name(name: &str) -> Option<DistanceSource> {
        [DistanceSource::Parallax, DistanceSource::CatalogDistance, DistanceSource::Curated]
            .into_iter()
            .find(|d| d.as_str() == name)
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

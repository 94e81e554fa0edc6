//! Phase 03: the one system-completion engine (DOMAIN.md §6.6, §6.1, §6.2, §11.5).
//!
//! Per star, [`infer_system`] derives stellar parameters (measured, else from the class/Teff
//! tables, flagged `assumed`), the Kopparapu et al. (2013) habitable zone with Teff clamped to
//! 2600–7200 K, the frost line 2.7·√L AU, and then fills the system:
//!
//! * **Planets** — "log-spaced orbital lanes" (a Titius–Bode-style geometric ladder):
//!   a_k = a_in · ρ^k with a per-system ratio ρ ∈ [1.5, 2.1) (never below 1.35) and ±7 %
//!   jitter, up to 40·√L AU. A lane is occupied with a metallicity-conditioned probability
//!   (rocky inside the frost line, giants beyond it, DOMAIN.md §6.2 rates); type, mass and
//!   radius follow the lane's zone. Observed planets are never changed: a lane is dropped
//!   when it falls inside an observed planet's stability zone, and after placement a
//!   mutual-Hill filter (Gladman: Δ ≥ 2√3 R_H,mutual, orbits not crossing at
//!   pericentre/apocentre) drops the lighter *inferred* planet of every unstable pair.
//! * **Belts** — a rocky asteroid belt just beyond the HZ and an icy Kuiper belt beyond
//!   5 frost-line radii (§6.2 rates), dropped when a planet orbits inside them.
//! * **Moons** — for every planet with a mass and an orbit (observed or inferred), inside half
//!   the planet's Hill sphere.
//!
//! Every inferred body carries `confidence`, `method`, `inference_seed` and
//! [`INFERENCE_VERSION`]. Randomness comes only from [`rng::Stream`]s keyed by (world seed,
//! main_id, domain), so the output for one star does not depend on any other star, on the
//! order of stars, or on anything but its inputs and the world seed.

pub mod rng;

use crate::build_input::InferInput;
use crate::canon::{CanonPlanet, CanonStar};
use crate::spectral::{SpectralClass, StellarKind, teff_from_type};
use crate::units::SOLAR_MASSES_PER_EARTH_MASS;
use rng::{Domain, Stream};
use serde::{Deserialize, Serialize};

/// Recorded on every inferred row.
pub const INFERENCE_VERSION: &str = "3.0.0";
/// Method tag of inferred planets.
pub const PLANET_METHOD: &str = "log_lanes_hill_kopparapu2013";
/// Method tag of inferred belts.
pub const BELT_METHOD: &str = "hz_frost_line_belts";
/// Method tag of inferred moons.
pub const MOON_METHOD: &str = "hill_sphere_moons";

/// Kopparapu et al. (2013), ApJ 765, 131, Table 3 with the erratum (ApJ 770, 82):
/// S_eff = S₀ + aΔT + bΔT² + cΔT³ + dΔT⁴, ΔT = T★ − 5780 K, valid for 2600–7200 K.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HzLimit {
    pub name: &'static str,
    pub s0: f64,
    pub a: f64,
    pub b: f64,
    pub c: f64,
    pub d: f64,
}

pub const RECENT_VENUS: HzLimit =
    HzLimit { name: "recent_venus", s0: 1.7753, a: 1.4316e-4, b: 2.9875e-9, c: -7.5702e-12, d: -1.1635e-15 };
pub const RUNAWAY_GREENHOUSE: HzLimit =
    HzLimit { name: "runaway_greenhouse", s0: 1.0512, a: 1.3242e-4, b: 1.5418e-8, c: -7.9895e-12, d: -1.8328e-15 };
pub const MAXIMUM_GREENHOUSE: HzLimit =
    HzLimit { name: "maximum_greenhouse", s0: 0.3438, a: 5.8942e-5, b: 1.6558e-9, c: -3.0045e-12, d: -5.2983e-16 };
pub const EARLY_MARS: HzLimit =
    HzLimit { name: "early_mars", s0: 0.3179, a: 5.4513e-5, b: 1.5313e-9, c: -2.7786e-12, d: -4.8997e-16 };

/// Teff range over which the HZ polynomial is valid; Teff is clamped into it.
pub const HZ_TEFF_RANGE_K: (f64, f64) = (2600.0, 7200.0);

impl HzLimit {
    /// Effective stellar flux (Earth = 1) at this limit for a (clamped) Teff.
    pub fn s_eff(&self, teff_k: f64) -> f64 {
        let t = teff_k.clamp(HZ_TEFF_RANGE_K.0, HZ_TEFF_RANGE_K.1) - 5780.0;
        self.s0 + self.a * t + self.b * t * t + self.c * t.powi(3) + self.d * t.powi(4)
    }

    /// Distance (AU) of this limit: √(L / S_eff).
    pub fn distance_au(&self, teff_k: f64, luminosity_lsun: f64) -> f64 {
        (luminosity_lsun / self.s_eff(teff_k)).sqrt()
    }
}

/// Habitable-zone bounds in AU (conservative: runaway / maximum greenhouse; optimistic:
/// recent Venus / early Mars).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HabitableZone {
    pub conservative_inner_au: f64,
    pub conservative_outer_au: f64,
    pub optimistic_inner_au: f64,
    pub optimistic_outer_au: f64,
    /// The Teff the polynomial was evaluated at (clamped).
    pub teff_used_k: f64,
}

pub fn habitable_zone(teff_k: f64, luminosity_lsun: f64) -> HabitableZone {
    let t = teff_k.clamp(HZ_TEFF_RANGE_K.0, HZ_TEFF_RANGE_K.1);
    HabitableZone {
        conservative_inner_au: RUNAWAY_GREENHOUSE.distance_au(t, luminosity_lsun),
        conservative_outer_au: MAXIMUM_GREENHOUSE.distance_au(t, luminosity_lsun),
        optimistic_inner_au: RECENT_VENUS.distance_au(t, luminosity_lsun),
        optimistic_outer_au: EARLY_MARS.distance_au(t, luminosity_lsun),
        teff_used_k: t,
    }
}

/// Snow line, 2.7·√L AU.
pub fn frost_line_au(luminosity_lsun: f64) -> f64 {
    2.7 * luminosity_lsun.max(0.0).sqrt()
}

/// Kepler III: P[days] = 365.25 · a^1.5 / √M★.
pub fn orbital_period_days(a_au: f64, star_mass_msun: f64) -> f64 {
    365.25 * a_au.powf(1.5) / star_mass_msun.sqrt()
}

/// Semi-major axis (AU) from a period (days) and the stellar mass.
pub fn semi_major_axis_au(period_days: f64, star_mass_msun: f64) -> f64 {
    (period_days / 365.25).powf(2.0 / 3.0) * star_mass_msun.cbrt()
}

/// Bond albedo assumed for equilibrium temperatures (the pipeline engine's 0.3).
pub const BOND_ALBEDO: f64 = 0.3;

/// Equilibrium temperature (K): 278.5 · L^¼ · (1 − A)^¼ / √a.
pub fn equilibrium_temp_k(luminosity_lsun: f64, a_au: f64) -> f64 {
    278.5 * luminosity_lsun.max(0.0).powf(0.25) * (1.0 - BOND_ALBEDO).powf(0.25) / a_au.max(1e-3).sqrt()
}

/// Mutual Hill radius (AU) of two planets (masses in Earth masses).
pub fn mutual_hill_radius_au(a1: f64, m1_earth: f64, a2: f64, m2_earth: f64, star_mass_msun: f64) -> f64 {
    let mu = (m1_earth + m2_earth) * SOLAR_MASSES_PER_EARTH_MASS / (3.0 * star_mass_msun);
    0.5 * (a1 + a2) * mu.cbrt()
}

/// Gladman (1993) two-planet stability: Δa ≥ 2√3 mutual Hill radii.
pub const MIN_HILL_SEPARATION: f64 = 3.464_101_615_137_754_5;

/// Two orbits are stable when Δa ≥ `MIN_HILL_SEPARATION` R_H,mutual and the inner apocentre
/// stays inside the outer pericentre.
pub fn pair_is_stable(inner: &Orbit, outer: &Orbit, star_mass_msun: f64) -> bool {
    let (i, o) = if inner.a_au <= outer.a_au { (inner, outer) } else { (outer, inner) };
    let rh = mutual_hill_radius_au(i.a_au, i.mass_earth, o.a_au, o.mass_earth, star_mass_msun);
    o.a_au - i.a_au >= MIN_HILL_SEPARATION * rh && i.a_au * (1.0 + i.e) < o.a_au * (1.0 - o.e)
}

/// What the stability checks need of a planet.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Orbit {
    pub a_au: f64,
    pub e: f64,
    pub mass_earth: f64,
}

/// Mass assumed for an observed planet without a mass or radius (one Jupiter mass: the widest
/// stability zone of any common planet, so inferred planets keep clear).
pub const ASSUMED_OBSERVED_MASS_EARTH: f64 = 317.83;

/// Approximate mass (M⊕) from a radius (R⊕) for an observed planet without a mass (Chen &
/// Kipping-style power laws: rocky below 1.5 R⊕, volatile-rich up to 12 R⊕, giant above).
pub fn mass_from_radius_earth(r: f64) -> f64 {
    if r < 1.5 {
        r.powf(3.7)
    } else if r < 12.0 {
        2.7 * r.powf(1.7)
    } else {
        317.83
    }
}

/// World-level inputs of the engine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InferenceConfig {
    pub world_seed: u64,
}

/// The star as the engine sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct StarInput {
    pub main_id: String,
    pub spectral_class: Option<SpectralClass>,
    pub spectral_subclass: Option<f64>,
    pub kind: StellarKind,
    pub teff_k: Option<f64>,
    pub luminosity_lsun: Option<f64>,
    pub mass_msun: Option<f64>,
    pub radius_rsun: Option<f64>,
    pub metallicity_feh: Option<f64>,
    pub observed: Vec<ObservedPlanet>,
    /// A curated, complete system (Sol): nothing is inferred.
    pub complete: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ObservedPlanet {
    pub name: String,
    pub semi_major_axis_au: Option<f64>,
    pub orbital_period_days: Option<f64>,
    pub eccentricity: Option<f64>,
    pub mass_earth: Option<f64>,
    pub radius_earth: Option<f64>,
}

impl From<&CanonPlanet> for ObservedPlanet {
    fn from(p: &CanonPlanet) -> ObservedPlanet {
        ObservedPlanet {
            name: p.planet_name.clone(),
            semi_major_axis_au: p.semi_major_axis_au,
            orbital_period_days: p.orbital_period_days,
            eccentricity: p.eccentricity,
            mass_earth: p.mass_earth,
            radius_earth: p.radius_earth,
        }
    }
}

impl StarInput {
    /// The engine's view of a canonical star: [`StarInput::from_input`] of its
    /// [`InferInput::from_canon`] (one path for the pipeline, which reads the typed input, and
    /// for callers holding the canonical record).
    pub fn from_canon(s: &CanonStar) -> StarInput {
        StarInput::from_input(&InferInput::from_canon(s))
    }

    /// The engine's view of a star as Phase 03 reads it.
    pub fn from_input(s: &InferInput) -> StarInput {
        StarInput {
            main_id: s.main_id.clone(),
            spectral_class: s.spectral_class,
            spectral_subclass: s.spectral_subclass,
            kind: s.kind,
            teff_k: s.teff_k,
            luminosity_lsun: s.luminosity_lsun,
            mass_msun: s.mass_msun,
            radius_rsun: s.radius_rsun,
            metallicity_feh: s.metallicity_feh,
            observed: s.observed.clone(),
            complete: s.main_id == crate::canon::curated::SOL_MAIN_ID,
        }
    }
}

/// Stellar parameters used, with what was assumed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StellarParams {
    pub spectral_class: Option<SpectralClass>,
    /// The class was not known and the neighbourhood prior (M) or the kind's class was used.
    pub class_assumed: bool,
    pub teff_k: f64,
    pub teff_assumed: bool,
    pub luminosity_lsun: f64,
    pub luminosity_assumed: bool,
    pub mass_msun: f64,
    pub mass_assumed: bool,
    pub metallicity_feh: f64,
    pub metallicity_assumed: bool,
}

/// Approximate main-sequence anchors (Teff K, M☉, L☉), hottest first (after Pecaut &
/// Mamajek 2013; brown dwarfs below 2400 K). Interpolated in log space.
const MAIN_SEQUENCE: [(f64, f64, f64); 17] = [
    (41_000.0, 40.0, 3.0e5),
    (31_000.0, 17.0, 4.0e4),
    (15_700.0, 4.5, 500.0),
    (9_700.0, 2.3, 35.0),
    (8_100.0, 1.9, 12.0),
    (7_200.0, 1.6, 5.6),
    (6_500.0, 1.33, 3.2),
    (5_770.0, 1.0, 1.0),
    (5_250.0, 0.88, 0.46),
    (4_450.0, 0.69, 0.16),
    (3_850.0, 0.57, 0.07),
    (3_550.0, 0.44, 0.023),
    (3_050.0, 0.16, 0.0025),
    (2_400.0, 0.08, 3.0e-4),
    (1_800.0, 0.07, 1.0e-4),
    (1_200.0, 0.05, 2.0e-5),
    (500.0, 0.02, 1.0e-6),
];

/// (mass M☉, luminosity L☉) of a main-sequence (or substellar) object of this Teff.
pub fn main_sequence_from_teff(teff_k: f64) -> (f64, f64) {
    let t = teff_k.clamp(MAIN_SEQUENCE[16].0, MAIN_SEQUENCE[0].0);
    for w in MAIN_SEQUENCE.windows(2) {
        let ((t0, m0, l0), (t1, m1, l1)) = (w[0], w[1]);
        if t <= t0 && t >= t1 {
            let f = (t0.ln() - t.ln()) / (t0.ln() - t1.ln());
            let lerp = |a: f64, b: f64| (a.ln() + (b.ln() - a.ln()) * f).exp();
            return (lerp(m0, m1), lerp(l0, l1));
        }
    }
    (MAIN_SEQUENCE[16].1, MAIN_SEQUENCE[16].2)
}

/// Resolve the parameters the engine needs. White dwarfs: 0.6 M☉, L from their Teff-table
/// value unless known; unknown stars: the solar-neighbourhood prior, an M dwarf (most stars
/// within 15 pc are), flagged `class_assumed`; brown dwarfs without class: L.
pub fn stellar_params(s: &StarInput) -> StellarParams {
    let (class, class_assumed) = match (s.spectral_class, s.kind) {
        (Some(c), _) => (Some(c), false),
        (None, StellarKind::BrownDwarf) => (Some(SpectralClass::L), true),
        (None, _) => match s.teff_k.and_then(SpectralClass::from_teff) {
            Some(c) => (Some(c), false),
            None => (Some(SpectralClass::M), true),
        },
    };
    let teff_known = s.teff_k.filter(|t| t.is_finite() && *t > 0.0);
    let teff = teff_known.unwrap_or_else(|| class.map_or(5772.0, |c| teff_from_type(c, s.spectral_subclass)));
    let (ms_mass, ms_lum) = main_sequence_from_teff(teff);
    let is_wd = class == Some(SpectralClass::D);
    let mass_known = s.mass_msun.filter(|m| m.is_finite() && *m > 0.0);
    let mass = mass_known.unwrap_or(if is_wd { 0.6 } else { ms_mass });
    let lum_known = s.luminosity_lsun.filter(|l| l.is_finite() && *l > 0.0).or_else(|| {
        let r = s.radius_rsun.filter(|r| r.is_finite() && *r > 0.0)?;
        teff_known.map(|t| r * r * (t / 5772.0).powi(4))
    });
    // A white dwarf of radius ~0.012 R☉.
    let lum = lum_known.unwrap_or(if is_wd { 1.44e-4 * (teff / 5772.0).powi(4) } else { ms_lum });
    let feh = s.metallicity_feh.filter(|f| f.is_finite());
    StellarParams {
        spectral_class: class,
        class_assumed,
        teff_k: teff,
        teff_assumed: teff_known.is_none(),
        luminosity_lsun: lum.max(1e-7),
        luminosity_assumed: lum_known.is_none(),
        mass_msun: mass,
        mass_assumed: mass_known.is_none(),
        metallicity_feh: feh.unwrap_or(0.0),
        metallicity_assumed: feh.is_none(),
    }
}

/// Confidence labels of inferred bodies (DOMAIN.md §6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    VeryLow,
    Low,
    Medium,
    High,
    VeryHigh,
}

impl Confidence {
    fn down(self) -> Confidence {
        match self {
            Confidence::VeryHigh => Confidence::High,
            Confidence::High => Confidence::Medium,
            Confidence::Medium => Confidence::Low,
            _ => Confidence::VeryLow,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::VeryLow => "very-low",
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
            Confidence::VeryHigh => "very-high",
        }
    }
}

/// An inferred planet (the gateway's field names where they exist).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InferredPlanet {
    pub planet_name: String,
    pub planet_status: &'static str,
    pub mass_source: &'static str,
    pub planet_type: &'static str,
    pub mass_earth: f64,
    pub radius_earth: f64,
    pub semi_major_axis_au: f64,
    pub orbital_period_days: f64,
    pub eccentricity: f64,
    pub inclination_deg: f64,
    pub temp_calculated_k: f64,
    pub in_hz: bool,
    pub confidence: Confidence,
    pub method: &'static str,
    pub inference_seed: u64,
    pub inference_version: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InferredBelt {
    pub belt_id: String,
    pub belt_type: &'static str,
    pub inner_radius_au: f64,
    pub outer_radius_au: f64,
    pub estimated_bodies: u64,
    pub confidence: Confidence,
    pub method: &'static str,
    pub inference_seed: u64,
    pub inference_version: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InferredMoon {
    /// The planet (observed or inferred) it orbits.
    pub parent_planet: String,
    pub moon_name: String,
    pub moon_type: &'static str,
    /// Distance from the planet.
    pub orbital_radius_au: f64,
    pub mass_earth: f64,
    pub radius_earth: f64,
    pub confidence: Confidence,
    pub method: &'static str,
    pub inference_seed: u64,
    pub inference_version: &'static str,
}

/// The stability zone an observed planet claims (no inferred planet inside it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StabilityZone {
    pub planet_name: String,
    pub inner_au: f64,
    pub outer_au: f64,
    pub orbit: Orbit,
    /// The observed planet's mass was assumed ([`ASSUMED_OBSERVED_MASS_EARTH`] or from radius).
    pub mass_assumed: bool,
}

/// The engine's output for one star.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemInference {
    pub main_id: String,
    pub inference_version: &'static str,
    /// Key of the planets stream (the star's `inference_seed`).
    pub inference_seed: u64,
    pub star: StellarParams,
    pub habitable_zone: HabitableZone,
    pub frost_line_au: f64,
    pub observed_zones: Vec<StabilityZone>,
    pub planets: Vec<InferredPlanet>,
    pub belts: Vec<InferredBelt>,
    pub moons: Vec<InferredMoon>,
    /// Why nothing (or less) was inferred: `complete_system`, `no_planets_drawn`,
    /// `remnant_or_exotic`, …
    pub notes: Vec<String>,
}

/// Per-class priors (DOMAIN.md §6.2): (P(rocky system), rocky count mean, giant multiplier,
/// belt probability).
fn class_priors(c: Option<SpectralClass>) -> (f64, f64, f64, f64) {
    match c {
        Some(SpectralClass::O) => (0.05, 0.5, 0.05, 0.05),
        Some(SpectralClass::B) => (0.08, 0.8, 0.10, 0.10),
        Some(SpectralClass::A) => (0.20, 1.2, 1.5, 0.35),
        Some(SpectralClass::F) => (0.45, 2.0, 1.8, 0.30),
        Some(SpectralClass::G) => (0.55, 2.5, 1.0, 0.25),
        Some(SpectralClass::K) => (0.60, 2.8, 0.85, 0.20),
        Some(SpectralClass::M) => (0.65, 3.5, 0.20, 0.12),
        Some(SpectralClass::L) => (0.10, 0.5, 0.05, 0.05),
        Some(SpectralClass::T) | Some(SpectralClass::Y) => (0.05, 0.5, 0.02, 0.03),
        Some(SpectralClass::D) | None => (0.0, 0.0, 0.0, 0.20),
    }
}

/// Run the engine for one star.
pub fn infer_system(star: &StarInput, cfg: &InferenceConfig) -> SystemInference {
    let params = stellar_params(star);
    let hz = habitable_zone(params.teff_k, params.luminosity_lsun);
    let frost = frost_line_au(params.luminosity_lsun);
    let mut planet_rng = Stream::for_star(cfg.world_seed, &star.main_id, Domain::Planets);
    let mut out = SystemInference {
        main_id: star.main_id.clone(),
        inference_version: INFERENCE_VERSION,
        inference_seed: planet_rng.key(),
        star: params.clone(),
        habitable_zone: hz,
        frost_line_au: frost,
        observed_zones: observed_zones(star, &params),
        planets: Vec::new(),
        belts: Vec::new(),
        moons: Vec::new(),
        notes: Vec::new(),
    };
    if star.complete {
        out.notes.push("complete_system".into());
        return out;
    }
    let exotic = matches!(star.kind, StellarKind::Pulsar | StellarKind::WhiteDwarf | StellarKind::Cataclysmic)
        || params.spectral_class == Some(SpectralClass::D);
    if exotic {
        out.notes.push("remnant_or_exotic: no planets inferred".into());
    } else {
        out.planets = infer_planets(star, &params, &hz, frost, &out.observed_zones, &mut planet_rng, &mut out.notes);
    }
    out.belts = infer_belts(star, &params, &hz, frost, &out.observed_zones, &out.planets, cfg);
    out.moons = infer_moons(star, &params, &out.observed_zones, &out.planets, cfg);
    out
}

/// Every star, independently (output in input order).
pub fn infer_world(stars: &[StarInput], cfg: &InferenceConfig) -> Vec<SystemInference> {
    stars.iter().map(|s| infer_system(s, cfg)).collect()
}

fn observed_zones(star: &StarInput, p: &StellarParams) -> Vec<StabilityZone> {
    let mut zones = Vec::new();
    for o in &star.observed {
        let a = o
            .semi_major_axis_au
            .filter(|a| a.is_finite() && *a > 0.0)
            .or_else(|| o.orbital_period_days.filter(|d| *d > 0.0).map(|d| semi_major_axis_au(d, p.mass_msun)));
        let Some(a) = a else { continue };
        let (mass, assumed) = match (o.mass_earth.filter(|m| *m > 0.0), o.radius_earth.filter(|r| *r > 0.0)) {
            (Some(m), _) => (m, false),
            (None, Some(r)) => (mass_from_radius_earth(r), true),
            (None, None) => (ASSUMED_OBSERVED_MASS_EARTH, true),
        };
        let e = o.eccentricity.filter(|e| (0.0..1.0).contains(e)).unwrap_or(0.0);
        // Hill radius of the planet alone; a companion must keep 2√3 of them beyond the
        // pericentre/apocentre.
        let rh = a * (mass * SOLAR_MASSES_PER_EARTH_MASS / (3.0 * p.mass_msun)).cbrt();
        zones.push(StabilityZone {
            planet_name: o.name.clone(),
            inner_au: (a * (1.0 - e) - MIN_HILL_SEPARATION * rh).max(0.0),
            outer_au: a * (1.0 + e) + MIN_HILL_SEPARATION * rh,
            orbit: Orbit { a_au: a, e, mass_earth: mass },
            mass_assumed: assumed,
        });
    }
    zones.sort_by(|x, y| x.orbit.a_au.total_cmp(&y.orbit.a_au));
    zones
}

fn infer_planets(
    star: &StarInput,
    p: &StellarParams,
    hz: &HabitableZone,
    frost: f64,
    zones: &[StabilityZone],
    rng: &mut Stream,
    notes: &mut Vec<String>,
) -> Vec<InferredPlanet> {
    let (p_rocky, rocky_mean, giant_mult, _) = class_priors(p.spectral_class);
    let feh = p.metallicity_feh;
    let p_system = (p_rocky * (1.0 + 0.3 * feh).clamp(0.5, 2.0)).clamp(0.05, 0.90);
    let has_observed = !star.observed.is_empty();
    // A star with observed planets has a planetary system: only the gaps are filled.
    if !has_observed && !rng.chance(p_system) {
        notes.push("no_planets_drawn".into());
        return Vec::new();
    }
    let p_giant = ((0.03 * 10f64.powf(2.0 * feh)).clamp(0.001, 0.80) * giant_mult).clamp(0.001, 0.90);
    let rocky_target = (rng.normal(rocky_mean * (1.0 + 0.25 * feh).clamp(0.6, 1.8), 0.8).round()).clamp(1.0, 6.0);
    let giant_target = if rng.chance(p_giant) { f64::from(rng.poisson(1.5).clamp(1, 3)) } else { 0.0 };

    // Log-spaced lanes.
    let s_l = p.luminosity_lsun.sqrt();
    let a_in = (0.03 * s_l).max(0.005);
    let a_out = (40.0 * s_l).max(a_in * 4.0);
    let ratio = rng.uniform(1.5, 2.1).max(1.35);
    let mut lanes = Vec::new();
    let mut a = a_in * rng.uniform(1.0, ratio);
    while a <= a_out && lanes.len() < 24 {
        lanes.push(a * rng.uniform(0.93, 1.07));
        a *= ratio;
    }

    let mut rocky_left = rocky_target;
    let mut giant_left = giant_target;
    let mut placed: Vec<(f64, &'static str, f64, f64, f64)> = Vec::new(); // (a, type, m, r, e)
    for a in lanes {
        let e = rng.exponential(0.05).min(0.3);
        // Kept the draws in a fixed order per lane so results do not depend on earlier skips.
        let u_occupy = rng.unit();
        let u_kind = rng.unit();
        let (u_m, u_r) = (rng.unit(), rng.unit());
        if zones.iter().any(|z| a * (1.0 + e) >= z.inner_au && a * (1.0 - e) <= z.outer_au) {
            continue;
        }
        let giant_zone = a >= frost;
        let (planet_type, m, r) = if giant_zone && giant_left > 0.0 && u_occupy < 0.6 {
            giant_left -= 1.0;
            if u_kind < (0.15 * 10f64.powf(2.0 * feh)).clamp(0.02, 0.70) {
                let m = 30.0 + (4000.0 - 30.0) * u_m;
                (if m > 95.0 { "gas-giant" } else { "ice-giant" }, m, 4.0 + 10.0 * u_r)
            } else {
                ("ice-giant", 10.0 + 90.0 * u_m, 2.5 + 3.5 * u_r)
            }
        } else if !giant_zone && rocky_left > 0.0 && u_occupy < 0.75 {
            rocky_left -= 1.0;
            rocky_type(a, hz, feh, u_kind, u_m, u_r)
        } else {
            continue;
        };
        placed.push((a, planet_type, m, r, e));
    }

    // Mutual-Hill filter: with the observed planets fixed, drop the lighter inferred planet
    // of the first unstable adjacent pair until every pair is stable.
    loop {
        let mut all: Vec<(Orbit, Option<usize>)> = zones.iter().map(|z| (z.orbit, None)).collect();
        all.extend(placed.iter().enumerate().map(|(i, x)| (Orbit { a_au: x.0, e: x.4, mass_earth: x.2 }, Some(i))));
        all.sort_by(|x, y| x.0.a_au.total_cmp(&y.0.a_au));
        let bad = all
            .windows(2)
            .find(|w| !pair_is_stable(&w[0].0, &w[1].0, p.mass_msun) && (w[0].1.is_some() || w[1].1.is_some()));
        let Some(w) = bad else { break };
        let drop = match (w[0].1, w[1].1) {
            (Some(i), Some(j)) => {
                if placed[i].2 <= placed[j].2 {
                    i
                } else {
                    j
                }
            }
            (Some(i), None) | (None, Some(i)) => i,
            (None, None) => break,
        };
        placed.remove(drop);
    }

    let used: Vec<char> = star.observed.iter().filter_map(|o| planet_letter(&o.name)).collect();
    let mut letters = ('b'..='z').filter(|c| !used.contains(c));
    placed
        .into_iter()
        .map(|(a, planet_type, m, r, e)| {
            let temp = equilibrium_temp_k(p.luminosity_lsun, a);
            let in_hz = (hz.conservative_inner_au..=hz.conservative_outer_au).contains(&a);
            let mut confidence = match planet_type {
                "terrestrial-habitable" => Confidence::Low,
                "gas-giant" if feh > 0.1 => Confidence::Medium,
                "gas-giant" => Confidence::Low,
                _ => Confidence::VeryLow,
            };
            if p.class_assumed || p.teff_assumed {
                confidence = confidence.down();
            }
            let letter = letters.next().unwrap_or('z');
            InferredPlanet {
                planet_name: format!("{} {letter} (inferred)", star.main_id),
                planet_status: "Inferred",
                mass_source: "inferred",
                planet_type,
                mass_earth: m,
                radius_earth: r,
                semi_major_axis_au: a,
                orbital_period_days: orbital_period_days(a, p.mass_msun),
                eccentricity: e,
                inclination_deg: 5.0 * rng.unit(),
                temp_calculated_k: temp,
                in_hz,
                confidence,
                method: PLANET_METHOD,
                inference_seed: rng.key(),
                inference_version: INFERENCE_VERSION,
            }
        })
        .collect()
}

/// Inner-system planet by zone (DOMAIN.md §6.2 `assign_planet_type`).
fn rocky_type(a: f64, hz: &HabitableZone, feh: f64, u_kind: f64, u_m: f64, u_r: f64) -> (&'static str, f64, f64) {
    let (hz_in, hz_out) = (hz.conservative_inner_au, hz.conservative_outer_au);
    if a < 0.1 {
        if u_kind < 0.3 {
            ("rocky", 1.5 + 2.5 * u_m, 1.2 + 0.8 * u_r)
        } else {
            let m = 0.1 + 0.7 * u_m;
            ("rocky", m, 0.74 * m.powf(0.27))
        }
    } else if (hz_in..=hz_out).contains(&a) {
        let (mut m, mut r) = (0.4 + 2.1 * u_m, 0.8 + 0.8 * u_r);
        if feh > 0.2 {
            m *= 1.1 + 0.3 * u_kind;
            r *= 1.05 + 0.15 * u_kind;
        }
        ("terrestrial-habitable", m, r)
    } else if a < 0.5 || a > hz_out {
        ("rocky", 0.2 + 1.3 * u_m, 0.5 + 0.8 * u_r)
    } else if u_kind < 0.45 {
        ("sub-neptune", 3.0 + 12.0 * u_m, 1.4 + 2.6 * u_r)
    } else {
        ("super-earth", 1.0 + 3.0 * u_m, 1.0 + 0.7 * u_r)
    }
}

/// The trailing planet letter of a name (`"Proxima Centauri b"` → `b`).
fn planet_letter(name: &str) -> Option<char> {
    let last = name.rsplit(' ').next()?;
    let mut chars = last.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii_lowercase() => Some(c),
        _ => None,
    }
}

fn infer_belts(
    star: &StarInput,
    p: &StellarParams,
    hz: &HabitableZone,
    frost: f64,
    zones: &[StabilityZone],
    planets: &[InferredPlanet],
    cfg: &InferenceConfig,
) -> Vec<InferredBelt> {
    let mut rng = Stream::for_star(cfg.world_seed, &star.main_id, Domain::Belts);
    let (_, _, _, base) = class_priors(p.spectral_class);
    let p_belt = (base * (1.0 + 0.3 * p.metallicity_feh)).clamp(0.02, 0.70);
    let gate = rng.unit();
    let (u_inner, u_outer) = (rng.unit(), rng.unit());
    let (w_inner, w_outer) = (rng.uniform(1.5, 2.5), rng.uniform(2.0, 4.0));
    let (n_inner, n_outer) = (rng.uniform(4.7, 5.7), rng.uniform(5.0, 6.0));
    if gate > p_belt {
        return Vec::new();
    }
    let orbits: Vec<f64> =
        zones.iter().map(|z| z.orbit.a_au).chain(planets.iter().map(|x| x.semi_major_axis_au)).collect();
    let clear = |lo: f64, hi: f64| !orbits.iter().any(|a| (lo..=hi).contains(a));
    let s_l = p.luminosity_lsun.sqrt();
    let mut belts = Vec::new();
    let confidence_of = |c: Confidence| if p.class_assumed { c.down() } else { c };
    if u_inner > 0.25 {
        let inner = (1.1 * hz.conservative_outer_au).max(1.5 * s_l);
        let outer = inner * w_inner;
        if clear(inner, outer) {
            belts.push(InferredBelt {
                belt_id: format!("inferred_{}_belt_inner", star.main_id),
                belt_type: "rocky-asteroid",
                inner_radius_au: inner,
                outer_radius_au: outer,
                estimated_bodies: 10f64.powf(n_inner) as u64,
                confidence: confidence_of(Confidence::Low),
                method: BELT_METHOD,
                inference_seed: rng.key(),
                inference_version: INFERENCE_VERSION,
            });
        }
    }
    if u_outer > 0.15 {
        let inner = (5.0 * frost).max(15.0 * s_l);
        let outer = inner * w_outer;
        if clear(inner, outer) {
            belts.push(InferredBelt {
                belt_id: format!("inferred_{}_belt_outer", star.main_id),
                belt_type: "icy-kuiper",
                inner_radius_au: inner,
                outer_radius_au: outer,
                estimated_bodies: 10f64.powf(n_outer) as u64,
                confidence: confidence_of(Confidence::VeryLow),
                method: BELT_METHOD,
                inference_seed: rng.key(),
                inference_version: INFERENCE_VERSION,
            });
        }
    }
    belts
}

fn infer_moons(
    star: &StarInput,
    p: &StellarParams,
    zones: &[StabilityZone],
    planets: &[InferredPlanet],
    cfg: &InferenceConfig,
) -> Vec<InferredMoon> {
    // (name, a, mass, radius, type) for every planet with an orbit.
    let mut hosts: Vec<(String, f64, f64, &'static str)> = zones
        .iter()
        .filter(|z| !z.mass_assumed)
        .map(|z| (z.planet_name.clone(), z.orbit.a_au, z.orbit.mass_earth, observed_type(z.orbit.mass_earth)))
        .collect();
    hosts.extend(planets.iter().map(|x| (x.planet_name.clone(), x.semi_major_axis_au, x.mass_earth, x.planet_type)));
    let frost = frost_line_au(p.luminosity_lsun);
    let mut moons = Vec::new();
    for (name, a, mass, ptype) in hosts {
        if mass < 0.05 {
            continue;
        }
        let key = rng::stream_key(cfg.world_seed, &star.main_id, Domain::Moons, Some(&name));
        let mut rng = Stream::new(key);
        let (lo, hi) = match ptype {
            "super-jupiter" => (8, 20),
            "gas-giant" => (4, 16),
            "ice-giant" | "neptune-like" => (2, 8),
            "sub-neptune" | "super-earth" => (0, 3),
            _ => (0, 2),
        };
        let n = rng.int(lo, hi);
        let hill = a * (mass * SOLAR_MASSES_PER_EARTH_MASS / (3.0 * p.mass_msun)).cbrt();
        let giant = mass > 10.0;
        for k in 0..n {
            let r = a * rng.uniform(0.002, 0.02) * f64::from(k + 1);
            let frac = if giant { rng.uniform(0.0001, 0.02) } else { rng.uniform(0.001, 0.05) };
            if r >= 0.5 * hill {
                break; // outside the prograde stability limit: no more moons further out
            }
            let m = mass * frac * 0.01;
            let moon_type = if a >= frost {
                if k == 0 && giant { "volcanic" } else { "ice-shell" }
            } else if giant && k == 0 {
                "volcanic"
            } else {
                "cratered-airless"
            };
            moons.push(InferredMoon {
                parent_planet: name.clone(),
                moon_name: format!("{name} {}", moon_suffix(k)),
                moon_type,
                orbital_radius_au: r,
                mass_earth: m,
                radius_earth: m.powf(0.27),
                confidence: Confidence::VeryLow,
                method: MOON_METHOD,
                inference_seed: key,
                inference_version: INFERENCE_VERSION,
            });
        }
    }
    moons
}

fn observed_type(mass_earth: f64) -> &'static str {
    match mass_earth {
        m if m < 0.5 => "sub-earth",
        m if m < 2.0 => "rocky",
        m if m < 10.0 => "super-earth",
        m if m < 50.0 => "neptune-like",
        m if m < 500.0 => "gas-giant",
        _ => "super-jupiter",
    }
}

/// `a`, `b`, …, `z`, `aa`, `ab`, …
fn moon_suffix(k: u32) -> String {
    let mut k = k as usize;
    let mut s = String::new();
    loop {
        s.insert(0, (b'a' + (k % 26) as u8) as char);
        if k < 26 {
            return s;
        }
        k = k / 26 - 1;
    }
}

#[cfg(test)]
mod tests;

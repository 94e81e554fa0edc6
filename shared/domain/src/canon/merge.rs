//! Building the canonical stars: the alias index, Sol and the curated components, and merging
//! SIMBAD rows and exoplanet hosts into stars (precedence of values, spectral classes, distance
//! measurements and their disagreement flags).

use super::*;
use crate::catalogue::exoplanets::{ExoplanetRecord, MassSource};
use crate::catalogue::simbad::SimbadRecord;
use crate::names::{alias_key, normalise_id};
use crate::spectral::{self, SpectralClass, StellarKind};
use curated::{CuratedComponent, SOL_MAIN_ID, SOL_PLANETS};
use std::collections::HashMap;

/// Builder state: stars and the alias index (key → star index).
pub(super) struct Builder {
    pub(super) stars: Vec<CanonStar>,
    pub(super) index: HashMap<String, usize>,
}

impl Builder {
    /// Claim `text`'s key for star `i`; a key owned by another star is flagged on `i`.
    pub(super) fn add_alias(&mut self, i: usize, text: &str) {
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

    pub(super) fn push(&mut self, star: CanonStar) -> usize {
        self.stars.push(star);
        self.stars.len() - 1
    }
}

pub(super) fn push_flag(star: &mut CanonStar, code: FlagCode, detail: String) {
    if !star.flags.iter().any(|f| f.code == code && f.detail == detail) {
        star.flags.push(CanonFlag { code, detail });
    }
}

pub(super) fn empty_star(main_id: String, provenance: Provenance) -> CanonStar {
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

pub(super) fn sol() -> CanonStar {
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
pub(super) fn set_distance(star: &mut CanonStar, provenance: Provenance, d: f64) {
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

pub(super) fn curated_star(group: &str, comp: &CuratedComponent, group_size: usize) -> CanonStar {
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
pub(super) fn merge_simbad(star: &mut CanonStar, r: &SimbadRecord, cfg: &CanonConfig) {
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

pub(super) fn apply_spectral(star: &mut CanonStar, t: &spectral::SpectralType, source: ClassSource) {
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
pub(super) fn otype_hint(star: &mut CanonStar) {
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
pub(super) fn curated_match(
    r: &SimbadRecord,
    curated_index: &HashMap<String, usize>,
) -> Result<Option<usize>, Vec<usize>> {
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

pub(super) fn merge_exoplanet_host(star: &mut CanonStar, name: &str, rows: &[&ExoplanetRecord], cfg: &CanonConfig) {
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
pub(super) fn distance_flags(s: &mut CanonStar, cfg: &CanonConfig) {
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

//! What the phases after canonicalise read of a canonical star (issue 15 item 2): typed, small
//! records instead of the whole [`CanonStar`]. Canonicalise derives them here
//! ([`PlaceInput::from_canon`], [`InferInput::from_canon`]) and the store writes them to typed
//! columns (`dm_galaxy.build_inputs`, `dm_galaxy.build_planets`); transform and infer read them
//! back without decoding the canonical record. The engine and the map asset take them as they
//! take a canonical star: [`crate::inference::StarInput::from_input`] and
//! [`crate::asset::AssetSystem::from_input`]; their `from_canon` forms go through
//! [`InferInput::from_canon`], so both paths are one.
//!
//! Values are as stored: a non-finite number is `None` (the store writes NULL, as the JSON
//! record did with `null`).

use crate::canon::{CanonStar, DistanceSource, Provenance};
use crate::inference::ObservedPlanet;
use crate::spectral::{SpectralClass, StellarKind};

fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|v| v.is_finite())
}

/// What Phase 02 (transform) reads of a star: its position, adopted distance and how it was
/// obtained.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaceInput {
    pub main_id: String,
    pub ra_deg: Option<f64>,
    pub dec_deg: Option<f64>,
    /// The adopted distance.
    pub distance_pc: Option<f64>,
    pub distance_source: Option<DistanceSource>,
    /// 1σ of the adopted distance when its measurement gives one (a parallax); `None` for a
    /// catalogue distance (unknown, never 0).
    pub distance_uncertainty_pc: Option<f64>,
}

impl PlaceInput {
    pub fn from_canon(s: &CanonStar) -> PlaceInput {
        PlaceInput {
            main_id: s.main_id.clone(),
            ra_deg: finite(s.ra_deg),
            dec_deg: finite(s.dec_deg),
            distance_pc: finite(s.distance_pc),
            distance_source: s.distance_source,
            distance_uncertainty_pc: finite(
                s.distances.first().filter(|m| Some(m.distance_pc) == s.distance_pc).and_then(|m| m.uncertainty_pc),
            ),
        }
    }
}

/// What Phase 03 (infer) reads of a star: the engine's inputs (its observed planets included)
/// and what the map asset shows of it.
#[derive(Debug, Clone, PartialEq)]
pub struct InferInput {
    pub main_id: String,
    pub ra_deg: Option<f64>,
    pub dec_deg: Option<f64>,
    pub distance_pc: Option<f64>,
    pub spectral_class: Option<SpectralClass>,
    pub spectral_subclass: Option<f64>,
    pub kind: StellarKind,
    pub teff_k: Option<f64>,
    pub luminosity_lsun: Option<f64>,
    pub mass_msun: Option<f64>,
    pub radius_rsun: Option<f64>,
    pub metallicity_feh: Option<f64>,
    /// Hipparcos Hp magnitude.
    pub hp_mag: Option<f64>,
    pub multiplicity: u8,
    /// The identity is curated (provenance `curated`).
    pub curated: bool,
    pub display_name: Option<String>,
    /// Observed planets, in the canonical record's order.
    pub observed: Vec<ObservedPlanet>,
}

impl InferInput {
    pub fn from_canon(s: &CanonStar) -> InferInput {
        InferInput {
            main_id: s.main_id.clone(),
            ra_deg: finite(s.ra_deg),
            dec_deg: finite(s.dec_deg),
            distance_pc: finite(s.distance_pc),
            spectral_class: s.spectral_class,
            spectral_subclass: finite(s.spectral_subclass),
            kind: s.kind,
            teff_k: finite(s.teff_k),
            luminosity_lsun: finite(s.luminosity_lsun),
            mass_msun: finite(s.mass_msun),
            radius_rsun: finite(s.radius_rsun),
            metallicity_feh: finite(s.metallicity_feh),
            hp_mag: finite(s.hp_mag),
            multiplicity: s.multiplicity,
            curated: s.provenance == Provenance::Curated,
            display_name: s.display_name.clone(),
            observed: s
                .planets
                .iter()
                .map(|p| ObservedPlanet {
                    name: p.planet_name.clone(),
                    semi_major_axis_au: finite(p.semi_major_axis_au),
                    orbital_period_days: finite(p.orbital_period_days),
                    eccentricity: finite(p.eccentricity),
                    mass_earth: finite(p.mass_earth),
                    radius_earth: finite(p.radius_earth),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canon::{CanonPlanet, DistanceMeasurement};

    fn star() -> CanonStar {
        let mut s: CanonStar = serde_json::from_value(serde_json::json!({
            "main_id": "GJ 1", "provenance": "simbad", "sources": [], "ra_deg": 1.5, "dec_deg": -2.25,
            "distance_pc": 4.0, "distance_source": "parallax", "distance_provenance": "hipparcos",
            "distances": [], "otype": null, "otypes": [], "spectral_type": "M1V", "spectral_class": "M",
            "spectral_subclass": 1.0, "luminosity_class": "V", "class_source": "catalogue", "kind": "normal",
            "teff_k": 3600.0, "luminosity_lsun": null, "mass_msun": null, "radius_rsun": null,
            "metallicity_feh": null, "age_gyr": null, "parameters_provenance": null, "multiplicity": 2,
            "group": null, "aliases": [], "planets": [], "flags": []
        }))
        .unwrap();
        s.distances = vec![
            DistanceMeasurement { provenance: Provenance::Hipparcos, distance_pc: 4.0, uncertainty_pc: Some(0.01) },
            DistanceMeasurement { provenance: Provenance::Simbad, distance_pc: 4.1, uncertainty_pc: None },
        ];
        s
    }

    #[test]
    fn stored_names_are_the_serde_names() {
        for k in StellarKind::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str(), "{k:?}");
            assert_eq!(StellarKind::from_name(k.as_str()), Some(k));
        }
        for d in [DistanceSource::Parallax, DistanceSource::CatalogDistance, DistanceSource::Curated] {
            assert_eq!(serde_json::to_value(d).unwrap(), d.as_str(), "{d:?}");
            assert_eq!(DistanceSource::from_name(d.as_str()), Some(d));
        }
        for c in SpectralClass::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), c.letter().to_string(), "{c:?}");
        }
        assert_eq!(StellarKind::from_name("Normal"), None);
        assert_eq!(DistanceSource::from_name(""), None);
    }

    #[test]
    fn the_adopted_distance_carries_its_own_uncertainty_only() {
        let mut s = star();
        assert_eq!(PlaceInput::from_canon(&s).distance_uncertainty_pc, Some(0.01));
        // The first measurement is not the adopted one: no σ is borrowed from it.
        s.distance_pc = Some(4.1);
        assert_eq!(PlaceInput::from_canon(&s).distance_uncertainty_pc, None);
        s.distances.clear();
        assert_eq!(PlaceInput::from_canon(&s).distance_uncertainty_pc, None);
    }

    #[test]
    fn non_finite_values_are_absent_as_stored() {
        let mut s = star();
        s.teff_k = Some(f64::NAN);
        s.ra_deg = Some(f64::INFINITY);
        let mut p: CanonPlanet = serde_json::from_value(serde_json::json!({
            "planet_name": "GJ 1 b", "planet_status": null, "provenance": "exoplanet_catalogue", "tier": "T1",
            "mass_earth": 5.0, "mass_source": null, "radius_earth": null, "semi_major_axis_au": 0.1,
            "orbital_period_days": null, "eccentricity": null, "inclination_deg": null,
            "temp_calculated_k": null, "temp_measured_k": null, "geometric_albedo": null,
            "detection_type": null, "molecules": null, "discovered": null, "updated": null, "source_line": 3
        }))
        .unwrap();
        p.eccentricity = Some(f64::NAN);
        s.planets = vec![p];
        let i = InferInput::from_canon(&s);
        assert_eq!((i.teff_k, i.ra_deg), (None, None));
        assert_eq!(i.observed.len(), 1);
        assert_eq!(i.observed[0].eccentricity, None);
        assert_eq!(i.observed[0].mass_earth, Some(5.0));
        assert_eq!(PlaceInput::from_canon(&s).ra_deg, None);
        assert!(!i.curated);
        assert_eq!(i.multiplicity, 2);
    }
}

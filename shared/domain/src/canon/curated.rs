//! The curated companion catalogue (DOMAIN.md §4.8), as data: 13 groups of nearby multiple
//! systems whose bright primaries are missing from the SIMBAD extract, with each component's
//! class, Teff, luminosity, mass, position, distance and aliases (copied from the original
//! gateway), plus the Sun.
//!
//! Decisions (DOMAIN.md §4.8 / §11.23 proposals, recorded here):
//! * Sirius B and Procyon B are white dwarfs: class `D` (the original gave them their
//!   primary's class).
//! * Bond kinds are not copied: [`BondKind::from_separation`] derives them (`close_binary` iff
//!   separation < 100 AU, else `wide_companion`), so Groombridge 34 (147 AU) and 36 Oph A–C
//!   (730 AU) are `wide_companion`, 61 Cyg (84 AU) `close_binary`.
//! * 36 Ophiuchi A/B: the original listed HR 6401 for A and HR 6402 for B; SIMBAD (and the
//!   Bright Star Catalogue) have HR 6401 = 36 Oph B and HR 6402 = 36 Oph A, and with the
//!   original values each SIMBAD row would match both components. The HR numbers are swapped
//!   here to agree with SIMBAD.
//! * Each component's own name is one of its aliases (e.g. Proxima: `Proxima Centauri`,
//!   `alf Cen C`, `V* V645 Cen`, `GJ 551`).

use crate::spectral::SpectralClass;
use serde::{Deserialize, Serialize};

/// Separation (AU) below which a bond is a close binary.
pub const CLOSE_BINARY_MAX_AU: f64 = 100.0;

/// The kind of a gravitational bond between two components.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BondKind {
    CloseBinary,
    WideCompanion,
}

impl BondKind {
    /// `CloseBinary` iff `separation_au` < [`CLOSE_BINARY_MAX_AU`].
    pub fn from_separation(separation_au: f64) -> BondKind {
        if separation_au < CLOSE_BINARY_MAX_AU { BondKind::CloseBinary } else { BondKind::WideCompanion }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BondKind::CloseBinary => "close_binary",
            BondKind::WideCompanion => "wide_companion",
        }
    }
}

/// One curated component star.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CuratedComponent {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub class: SpectralClass,
    pub teff_k: f64,
    pub luminosity_lsun: f64,
    pub mass_msun: f64,
    pub ra_deg: f64,
    pub dec_deg: f64,
    pub dist_pc: f64,
}

/// A bond between two components (by name) and its separation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CuratedBond {
    pub a: &'static str,
    pub b: &'static str,
    pub separation_au: f64,
}

impl CuratedBond {
    pub fn kind(&self) -> BondKind {
        BondKind::from_separation(self.separation_au)
    }
}

/// One curated multiple system.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CuratedGroup {
    pub name: &'static str,
    pub hierarchy: &'static str,
    pub components: &'static [CuratedComponent],
    pub bonds: &'static [CuratedBond],
}

#[allow(clippy::too_many_arguments)] // one row of the table, in the table's column order
const fn c(
    name: &'static str,
    aliases: &'static [&'static str],
    class: SpectralClass,
    teff_k: f64,
    luminosity_lsun: f64,
    mass_msun: f64,
    ra_deg: f64,
    dec_deg: f64,
    dist_pc: f64,
) -> CuratedComponent {
    CuratedComponent { name, aliases, class, teff_k, luminosity_lsun, mass_msun, ra_deg, dec_deg, dist_pc }
}

const fn b(a: &'static str, b: &'static str, separation_au: f64) -> CuratedBond {
    CuratedBond { a, b, separation_au }
}

use SpectralClass::{A, D, F, G, K, L, M, T};

/// The 13 groups of DOMAIN.md §4.8, in the original's order.
pub const COMPANION_CATALOGUE: [CuratedGroup; 13] = [
    CuratedGroup {
        name: "Alpha Centauri",
        hierarchy: "(A,B) + C",
        components: &[
            c(
                "Alpha Centauri A",
                &["Rigil Kentaurus", "alf Cen A", "HD 128620", "HR 5459"],
                G,
                5790.0,
                1.519,
                1.1,
                219.9021,
                -60.8354,
                1.3241,
            ),
            c(
                "Alpha Centauri B",
                &["Toliman", "alf Cen B", "HD 128621", "HR 5460"],
                K,
                5260.0,
                0.500,
                0.907,
                219.8961,
                -60.8375,
                1.3241,
            ),
            c(
                "Proxima Centauri",
                &["alf Cen C", "V* V645 Cen", "GJ 551"],
                M,
                3050.0,
                0.0017,
                0.122,
                217.4289,
                -62.6795,
                1.3012,
            ),
        ],
        bonds: &[b("Alpha Centauri A", "Alpha Centauri B", 23.4), b("Alpha Centauri A", "Proxima Centauri", 12950.0)],
    },
    CuratedGroup {
        name: "Sirius",
        hierarchy: "A + B",
        components: &[
            c("Sirius A", &["alf CMa", "HD 48915", "HR 2491"], A, 9940.0, 25.4, 2.063, 101.2872, -16.7161, 2.6371),
            c("Sirius B", &["alf CMa B", "* alf CMa B"], D, 25200.0, 0.056, 1.018, 101.2888, -16.7169, 2.6371),
        ],
        bonds: &[b("Sirius A", "Sirius B", 19.8)],
    },
    CuratedGroup {
        name: "Procyon",
        hierarchy: "A + B",
        components: &[
            c("Procyon A", &["alf CMi", "HD 61421", "HR 2943"], F, 6530.0, 6.93, 1.499, 114.8255, 5.2250, 3.509),
            c("Procyon B", &["alf CMi B", "* alf CMi B"], D, 7740.0, 0.00049, 0.602, 114.8245, 5.2241, 3.509),
        ],
        bonds: &[b("Procyon A", "Procyon B", 15.0)],
    },
    CuratedGroup {
        name: "61 Cygni",
        hierarchy: "A + B",
        components: &[
            c(
                "61 Cygni A",
                &["* 61 Cyg A", "*  61 Cyg A", "HD 201091", "HR 8085"],
                K,
                4526.0,
                0.153,
                0.70,
                316.7247,
                38.7494,
                3.4896,
            ),
            c(
                "61 Cygni B",
                &["* 61 Cyg B", "*  61 Cyg B", "HD 201092", "HR 8086"],
                K,
                4077.0,
                0.085,
                0.63,
                316.7303,
                38.7420,
                3.4989,
            ),
        ],
        bonds: &[b("61 Cygni A", "61 Cygni B", 84.0)],
    },
    CuratedGroup {
        name: "Luyten 726-8",
        hierarchy: "A + B",
        components: &[
            c("Luyten 726-8 A", &["BL Cet", "GJ 65 A"], M, 2670.0, 0.00006, 0.102, 24.756, -17.950, 2.677),
            c("UV Ceti", &["Luyten 726-8 B", "GJ 65 B"], M, 2670.0, 0.00004, 0.100, 24.757, -17.951, 2.677),
        ],
        bonds: &[b("Luyten 726-8 A", "UV Ceti", 5.5)],
    },
    CuratedGroup {
        name: "Struve 2398",
        hierarchy: "A + B",
        components: &[
            c("Struve 2398 A", &["GJ 725 A", "HD 173739"], M, 3404.0, 0.013, 0.334, 280.6963, 59.6272, 3.523),
            c("Struve 2398 B", &["GJ 725 B", "HD 173740"], M, 3311.0, 0.008, 0.249, 280.6952, 59.6298, 3.523),
        ],
        bonds: &[b("Struve 2398 A", "Struve 2398 B", 56.0)],
    },
    CuratedGroup {
        name: "Luhman 16",
        hierarchy: "A + B",
        components: &[
            c("Luhman 16 A", &["WISE J1049-5319 A"], L, 1350.0, 0.000022, 0.032, 162.3103, -53.3181, 1.998),
            c("Luhman 16 B", &["WISE J1049-5319 B"], T, 1210.0, 0.000015, 0.028, 162.3105, -53.3183, 1.998),
        ],
        bonds: &[b("Luhman 16 A", "Luhman 16 B", 3.6)],
    },
    CuratedGroup {
        name: "Kruger 60",
        hierarchy: "A + B",
        components: &[
            c("Kruger 60 A", &["GJ 860 A", "HD 239960"], M, 3180.0, 0.010, 0.271, 333.3189, 57.6931, 3.957),
            c("Kruger 60 B", &["GJ 860 B", "HD 239960B"], M, 2900.0, 0.004, 0.176, 333.3195, 57.6938, 3.957),
        ],
        bonds: &[b("Kruger 60 A", "Kruger 60 B", 9.5)],
    },
    CuratedGroup {
        name: "Groombridge 34",
        hierarchy: "A + B",
        components: &[
            c("Groombridge 34 A", &["GJ 15 A", "GX And", "GJ 15A"], M, 3602.0, 0.021, 0.375, 4.6144, 44.0232, 3.562),
            c("Groombridge 34 B", &["GJ 15 B", "GQ And"], M, 3132.0, 0.005, 0.163, 4.6186, 44.0204, 3.562),
        ],
        bonds: &[b("Groombridge 34 A", "Groombridge 34 B", 147.0)],
    },
    CuratedGroup {
        name: "Epsilon Indi",
        hierarchy: "A + (Ba,Bb)",
        components: &[
            c(
                "Epsilon Indi A",
                &["eps Ind A", "eps Ind", "HD 209100", "HR 8387"],
                K,
                4649.0,
                0.27,
                0.762,
                330.8403,
                -56.7860,
                3.622,
            ),
            c("Epsilon Indi Ba", &["eps Ind Ba", "eps Ind B"], T, 1300.0, 0.000025, 0.068, 330.808, -56.796, 3.622),
            c("Epsilon Indi Bb", &["eps Ind Bb"], T, 850.0, 0.000010, 0.047, 330.809, -56.797, 3.622),
        ],
        bonds: &[b("Epsilon Indi Ba", "Epsilon Indi Bb", 2.4), b("Epsilon Indi A", "Epsilon Indi Ba", 1459.0)],
    },
    CuratedGroup {
        name: "70 Ophiuchi",
        hierarchy: "A + B",
        components: &[
            c("70 Ophiuchi A", &["HD 165341 A", "HR 6752"], K, 5300.0, 0.43, 0.90, 271.3640, 2.4990, 5.089),
            c("70 Ophiuchi B", &["HD 165341 B"], K, 4350.0, 0.077, 0.70, 271.3636, 2.4968, 5.089),
        ],
        bonds: &[b("70 Ophiuchi A", "70 Ophiuchi B", 23.2)],
    },
    CuratedGroup {
        name: "36 Ophiuchi",
        hierarchy: "(A,B) + C",
        components: &[
            c("36 Ophiuchi A", &["HD 155886", "HR 6402"], K, 5125.0, 0.28, 0.85, 258.8385, -26.6007, 5.924),
            c("36 Ophiuchi B", &["HD 155885", "HR 6401"], K, 5100.0, 0.27, 0.85, 258.8370, -26.6020, 5.924),
            c("36 Ophiuchi C", &["HD 156026", "HR 6426"], K, 4550.0, 0.09, 0.71, 258.9010, -26.5929, 5.924),
        ],
        bonds: &[b("36 Ophiuchi A", "36 Ophiuchi B", 4.6), b("36 Ophiuchi A", "36 Ophiuchi C", 730.0)],
    },
    CuratedGroup {
        name: "Xi Boötis",
        hierarchy: "A + B",
        components: &[
            c("Xi Boötis A", &["ksi Boo A", "HD 131156 A", "HR 5544"], G, 5551.0, 0.61, 0.94, 222.0067, 19.1006, 6.733),
            c("Xi Boötis B", &["ksi Boo B", "HD 131156 B"], K, 4350.0, 0.061, 0.66, 222.0085, 19.1010, 6.733),
        ],
        bonds: &[b("Xi Boötis A", "Xi Boötis B", 33.6)],
    },
];

/// One of the Sun's planets (curated, observed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolPlanet {
    pub name: &'static str,
    pub semi_major_axis_au: f64,
    pub orbital_period_days: f64,
    pub eccentricity: f64,
    pub inclination_deg: f64,
    pub mass_earth: f64,
    pub radius_earth: f64,
}

const fn sp(name: &'static str, a: f64, p: f64, e: f64, i: f64, m: f64, r: f64) -> SolPlanet {
    SolPlanet {
        name,
        semi_major_axis_au: a,
        orbital_period_days: p,
        eccentricity: e,
        inclination_deg: i,
        mass_earth: m,
        radius_earth: r,
    }
}

/// The Sun's identity (main_id and aliases).
pub const SOL_MAIN_ID: &str = "Sol";
pub const SOL_ALIASES: [&str; 4] = ["Sol", "Sun", "The Sun", "Solar System"];

/// The eight planets (J2000 mean elements; inclination to the ecliptic; equatorial radii).
pub const SOL_PLANETS: [SolPlanet; 8] = [
    sp("Mercury", 0.387_098, 87.969, 0.205_630, 7.005, 0.055_3, 0.383),
    sp("Venus", 0.723_332, 224.701, 0.006_772, 3.394_58, 0.815, 0.949),
    sp("Earth", 1.000_001, 365.256, 0.016_708_6, 0.0, 1.0, 1.0),
    sp("Mars", 1.523_679, 686.980, 0.093_4, 1.850, 0.107, 0.532),
    sp("Jupiter", 5.204_4, 4_332.59, 0.048_9, 1.303, 317.8, 11.21),
    sp("Saturn", 9.582_6, 10_759.22, 0.056_5, 2.485, 95.2, 9.45),
    sp("Uranus", 19.218_4, 30_688.5, 0.046_381, 0.773, 14.5, 4.01),
    sp("Neptune", 30.07, 60_182.0, 0.008_678, 1.770, 17.1, 3.88),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::alias_key;
    use std::collections::HashMap;

    #[test]
    fn thirteen_groups_twenty_nine_components_as_in_the_brief() {
        assert_eq!(COMPANION_CATALOGUE.len(), 13);
        let n: usize = COMPANION_CATALOGUE.iter().map(|g| g.components.len()).sum();
        assert_eq!(n, 29);
        let proxima = COMPANION_CATALOGUE[0].components[2];
        assert_eq!(proxima.name, "Proxima Centauri");
        assert_eq!(proxima.aliases, ["alf Cen C", "V* V645 Cen", "GJ 551"]);
        assert_eq!(
            (proxima.teff_k, proxima.luminosity_lsun, proxima.mass_msun, proxima.dist_pc),
            (3050.0, 0.0017, 0.122, 1.3012)
        );
    }

    #[test]
    fn white_dwarfs_are_class_d() {
        let all: Vec<&CuratedComponent> = COMPANION_CATALOGUE.iter().flat_map(|g| g.components).collect();
        let d: Vec<&str> = all.iter().filter(|c| c.class == SpectralClass::D).map(|c| c.name).collect();
        assert_eq!(d, ["Sirius B", "Procyon B"]);
    }

    #[test]
    fn bond_kinds_follow_the_100_au_rule() {
        let kinds: Vec<(&str, &str, BondKind)> =
            COMPANION_CATALOGUE.iter().flat_map(|g| g.bonds).map(|b| (b.a, b.b, b.kind())).collect();
        let wide: Vec<(&str, &str)> =
            kinds.iter().filter(|k| k.2 == BondKind::WideCompanion).map(|k| (k.0, k.1)).collect();
        assert_eq!(
            wide,
            [
                ("Alpha Centauri A", "Proxima Centauri"),
                ("Groombridge 34 A", "Groombridge 34 B"),
                ("Epsilon Indi A", "Epsilon Indi Ba"),
                ("36 Ophiuchi A", "36 Ophiuchi C")
            ]
        );
        assert_eq!(kinds.len(), 16);
        assert_eq!(BondKind::from_separation(99.999), BondKind::CloseBinary);
        assert_eq!(BondKind::from_separation(100.0), BondKind::WideCompanion);
        assert_eq!(BondKind::CloseBinary.as_str(), "close_binary");
    }

    #[test]
    fn bonds_name_components_of_their_group_and_aliases_are_unique() {
        let mut owner: HashMap<String, &str> = HashMap::new();
        for g in &COMPANION_CATALOGUE {
            for bond in g.bonds {
                assert!(g.components.iter().any(|c| c.name == bond.a) && g.components.iter().any(|c| c.name == bond.b));
            }
            for comp in g.components {
                for a in std::iter::once(&comp.name).chain(comp.aliases) {
                    let prev = owner.insert(alias_key(a), comp.name);
                    assert!(prev.is_none_or(|p| p == comp.name), "{a} claimed by {prev:?} and {}", comp.name);
                }
                assert!((0.0..360.0).contains(&comp.ra_deg) && (-90.0..=90.0).contains(&comp.dec_deg));
                assert!(comp.dist_pc > 1.0 && comp.dist_pc < 7.0);
            }
        }
    }

    #[test]
    fn sol_planets_obey_kepler_iii() {
        for p in SOL_PLANETS {
            let kepler = 365.25 * p.semi_major_axis_au.powf(1.5);
            assert!((kepler - p.orbital_period_days).abs() / p.orbital_period_days < 0.01, "{}", p.name);
        }
    }
}

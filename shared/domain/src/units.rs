//! Units and constants (DOMAIN.md §0.2). Parsecs are the canonical stored length for
//! stellar positions; light-years are derived.

/// Light-years per parsec, the factor the whole project uses.
pub const LY_PER_PC: f64 = 3.26156;

/// Earth masses per Jupiter mass (exoplanet.eu `mass`, `mass_sini`).
pub const EARTH_MASSES_PER_JUPITER_MASS: f64 = 317.83;

/// Earth radii per Jupiter radius (exoplanet.eu `radius`).
pub const EARTH_RADII_PER_JUPITER_RADIUS: f64 = 11.209;

/// Solar masses per Earth mass.
pub const SOLAR_MASSES_PER_EARTH_MASS: f64 = 3.003e-6;

/// Parsecs to light-years.
pub fn pc_to_ly(pc: f64) -> f64 {
    pc * LY_PER_PC
}

/// Light-years to parsecs.
pub fn ly_to_pc(ly: f64) -> f64 {
    ly / LY_PER_PC
}

/// Distance in parsecs from a parallax in milliarcseconds (`None` unless the parallax is > 0).
pub fn parallax_mas_to_pc(parallax_mas: f64) -> Option<f64> {
    (parallax_mas.is_finite() && parallax_mas > 0.0).then(|| 1000.0 / parallax_mas)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pc_ly_round_trip() {
        assert!((pc_to_ly(1.3012) - 4.2440).abs() < 1e-3);
        assert!((ly_to_pc(pc_to_ly(7.5)) - 7.5).abs() < 1e-12);
        assert!((ly_to_pc(100.0) - 30.66).abs() < 0.01);
    }

    #[test]
    fn parallax_needs_a_positive_value() {
        assert_eq!(parallax_mas_to_pc(0.0), None);
        assert_eq!(parallax_mas_to_pc(-3.0), None);
        assert_eq!(parallax_mas_to_pc(f64::NAN), None);
        assert!((parallax_mas_to_pc(768.5).unwrap() - 1.3012).abs() < 1e-3);
    }
}

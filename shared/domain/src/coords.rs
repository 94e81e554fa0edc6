//! Phase 02 geometry (DOMAIN.md §5): ICRS equatorial heliocentric Cartesian coordinates in
//! parsecs, the scope/margin classification and the derived galactic view.
//!
//! Axes: +X toward RA 0°, Dec 0°; +Y toward RA 90°, Dec 0°; +Z toward the north celestial pole.

use crate::units::{LY_PER_PC, ly_to_pc};
use serde::Serialize;

/// A heliocentric ICRS Cartesian position in parsecs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Icrs {
    pub x_pc: f64,
    pub y_pc: f64,
    pub z_pc: f64,
}

impl Icrs {
    pub const ORIGIN: Icrs = Icrs { x_pc: 0.0, y_pc: 0.0, z_pc: 0.0 };

    /// Position from right ascension and declination in degrees and a distance in parsecs.
    pub fn from_spherical(ra_deg: f64, dec_deg: f64, dist_pc: f64) -> Icrs {
        let (ra, dec) = (ra_deg.to_radians(), dec_deg.to_radians());
        Icrs { x_pc: dist_pc * dec.cos() * ra.cos(), y_pc: dist_pc * dec.cos() * ra.sin(), z_pc: dist_pc * dec.sin() }
    }

    pub fn distance_pc(&self) -> f64 {
        (self.x_pc * self.x_pc + self.y_pc * self.y_pc + self.z_pc * self.z_pc).sqrt()
    }

    pub fn distance_ly(&self) -> f64 {
        self.distance_pc() * LY_PER_PC
    }

    /// Distance to another position, in parsecs.
    pub fn distance_to_pc(&self, other: &Icrs) -> f64 {
        let (dx, dy, dz) = (self.x_pc - other.x_pc, self.y_pc - other.y_pc, self.z_pc - other.z_pc);
        (dx * dx + dy * dy + dz * dz).sqrt()
    }

    /// Inverse transform for checks: (ra in [0, 360), dec in [-90, 90]) in degrees.
    pub fn to_ra_dec(&self) -> (f64, f64) {
        let d = self.distance_pc();
        let ra = self.y_pc.atan2(self.x_pc).to_degrees().rem_euclid(360.0);
        let dec = if d > 0.0 { (self.z_pc / d).asin().to_degrees() } else { 0.0 };
        (ra, dec)
    }

    /// The galactic view (Hipparcos J2000 rotation; +X toward the Galactic centre, +Z toward
    /// the north Galactic pole), in parsecs.
    pub fn to_galactic(&self) -> Galactic {
        const M: [[f64; 3]; 3] = [
            [-0.0548755604, -0.8734370902, -0.4838350155],
            [0.4941094279, -0.4448296300, 0.7469822445],
            [-0.8676661490, -0.1980763734, 0.4559837762],
        ];
        let v = [self.x_pc, self.y_pc, self.z_pc];
        let row = |r: [f64; 3]| r[0] * v[0] + r[1] * v[1] + r[2] * v[2];
        Galactic { x_pc: row(M[0]), y_pc: row(M[1]), z_pc: row(M[2]) }
    }
}

/// A heliocentric galactic Cartesian position in parsecs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Galactic {
    pub x_pc: f64,
    pub y_pc: f64,
    pub z_pc: f64,
}

/// Where a system stands relative to the configured scope (DOMAIN.md §5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reach {
    /// Within `scope_ly`.
    InScope,
    /// Beyond the scope but within `scope_ly + margin_ly` (the context shell).
    Margin,
    /// Farther out.
    Beyond,
}

/// The spatial scope of a world build: 100 ly with a 10 ly margin shell by default.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scope {
    pub scope_ly: f64,
    pub margin_ly: f64,
}

impl Default for Scope {
    fn default() -> Self {
        Scope { scope_ly: 100.0, margin_ly: 10.0 }
    }
}

impl Scope {
    pub fn classify_pc(&self, distance_pc: f64) -> Reach {
        let ly = distance_pc * LY_PER_PC;
        if ly <= self.scope_ly {
            Reach::InScope
        } else if ly <= self.scope_ly + self.margin_ly {
            Reach::Margin
        } else {
            Reach::Beyond
        }
    }

    /// The outer edge (scope + margin) in parsecs.
    pub fn outer_pc(&self) -> f64 {
        ly_to_pc(self.scope_ly + self.margin_ly)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn golden_positions_from_the_brief() {
        // DOMAIN.md §10.3: Proxima, Barnard's star, ε Eri.
        let cases = [
            ((217.428938, -62.67949189, 1.3012), (-0.4742, -0.3630, -1.1561)),
            ((269.4520825, 4.693364265, 1.8233), (-0.0174, -1.8171, 0.1492)),
            ((53.23268735, -9.458258657, 3.2028), (1.8910, 2.5308, -0.5263)),
        ];
        for ((ra, dec, d), (x, y, z)) in cases {
            let p = Icrs::from_spherical(ra, dec, d);
            assert!(close(p.x_pc, x, 1e-4) && close(p.y_pc, y, 1e-4) && close(p.z_pc, z, 1e-4), "{p:?}");
            assert!(close(p.distance_pc(), d, 1e-12));
        }
        let proxima = Icrs::from_spherical(217.428938, -62.67949189, 1.3012);
        assert!(close(proxima.distance_ly(), 4.244, 1e-3));
    }

    #[test]
    fn inverse_recovers_ra_dec() {
        for &(ra, dec) in &[(0.0, 0.0), (217.428938, -62.67949189), (359.9, 89.0), (90.0, -45.0)] {
            let (r, d) = Icrs::from_spherical(ra, dec, 3.0).to_ra_dec();
            assert!(close(r, ra, 1e-9) && close(d, dec, 1e-9), "{ra},{dec} -> {r},{d}");
        }
    }

    #[test]
    fn galactic_rotation_is_orthonormal_and_points_at_the_centre() {
        // The galactic centre direction (l = 0, b = 0: RA 266.40510°, Dec −28.936175° J2000)
        // lies on the +X galactic axis.
        let g = Icrs::from_spherical(266.40510, -28.936175, 8000.0).to_galactic();
        assert!(g.x_pc > 7999.99 && g.y_pc.abs() < 0.05 && g.z_pc.abs() < 0.05, "{g:?}"); // ~1″
        let p = Icrs::from_spherical(12.0, 34.0, 5.0);
        let q = p.to_galactic();
        assert!(close((q.x_pc.powi(2) + q.y_pc.powi(2) + q.z_pc.powi(2)).sqrt(), 5.0, 1e-8));
    }

    #[test]
    fn scope_and_margin() {
        let s = Scope::default();
        assert_eq!(s.classify_pc(30.0), Reach::InScope);
        assert_eq!(s.classify_pc(ly_to_pc(100.0)), Reach::InScope);
        assert_eq!(s.classify_pc(ly_to_pc(105.0)), Reach::Margin);
        assert_eq!(s.classify_pc(ly_to_pc(110.5)), Reach::Beyond);
        assert!(close(s.outer_pc(), 110.0 / LY_PER_PC, 1e-12));
    }
}

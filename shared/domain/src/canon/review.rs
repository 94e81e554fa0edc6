//! The curators' spatial review list: pairs of stars close on the sky or in space (never
//! merged silently), found through hash grids, and the angular separation they are judged by.

use super::*;

/// Angular separation in arcseconds (haversine).
pub fn angular_separation_arcsec(ra1: f64, dec1: f64, ra2: f64, dec2: f64) -> f64 {
    let (p1, p2) = (dec1.to_radians(), dec2.to_radians());
    let dphi = p2 - p1;
    let dl = (ra2 - ra1).to_radians();
    let h = (dphi / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * h.sqrt().min(1.0).asin().to_degrees() * 3600.0
}

/// Pairs for the curators' spatial review list (both stars within the review distance): each
/// star is compared only with the stars in its own and the 26 neighbouring cells of two hash
/// grids — one in space (cells of `close_pair_pc`), one on the unit sphere (cells of the chord of
/// `same_object_arcsec`) — so the work grows with the stars, not with their pairs. The pairs
/// come out in the order of the stars (as the all-pairs loop gave them).
pub(super) fn review_pairs(stars: &[CanonStar], cfg: &CanonConfig) -> Vec<ReviewPair> {
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
pub(super) fn review_kind(sep: f64, dist: f64, cfg: &CanonConfig) -> Option<ReviewKind> {
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
pub(super) fn candidates_within(points: impl Iterator<Item = [f64; 3]>, cell: f64, out: &mut Vec<(u32, u32)>) {
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

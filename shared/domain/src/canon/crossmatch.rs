//! Cross-matching Hipparcos 2 into the canonical stars, the names catalogue's aliases, and the
//! distance precedence.
//!
//! A Hipparcos star joins an existing star (curated, SIMBAD) by a shared identifier first —
//! `HIP n`, then the `HD` and `GJ` designations the names catalogue gives it, compared by
//! [`search_key`] (so `Gliese 581` ⇄ `GJ 581`, `HD 172167` with a thin space ⇄ `HD 172167`) —
//! then by position: its J1991.25 position is propagated to J2000 with its proper motions and
//! the nearest star not yet claimed by another Hipparcos star within [`POSITION_MATCH_ARCSEC`]
//! whose distance (if any) is compatible ([`DISTANCE_MATCH_FRACTION`]) is taken, flagged
//! [`FlagCode::MatchedByPosition`]. Candidates come from a grid of unit vectors (cells of the
//! match radius; 27 cells per lookup), so matching is O(n). Otherwise the star is new
//! (`HIP n`). Every merge records how it was matched (`SourceRef::matched_by`).
//!
//! Distance precedence ([`adopt_distance`]): a measurement with an error and σ/d ≤ 0.2 (the
//! most precise first) beats every measurement without one; then the order of the sources
//! (SIMBAD > curated > exoplanet catalogue, as before); an uncertain parallax (σ/d > 0.2) is
//! used only when nothing else is known (flag [`FlagCode::UncertainDistance`]).

use super::{Builder, CanonStar, CanonStats, DistanceMeasurement, DistanceSource, FlagCode, Provenance, SourceRef};
use super::{angular_separation_arcsec, empty_star, push_flag};
use crate::catalogue::hipparcos::{HipparcosRecord, UNCERTAIN_RELATIVE_ERROR};
use crate::catalogue::starnames::{ConstellationRecord, StarNameRecord};
use crate::names::{designation_spellings, search_key};
use crate::spectral::SpectralClass;
use std::collections::{HashMap, HashSet};

/// Largest sky separation (arcsec, at J2000) for a match by position.
pub const POSITION_MATCH_ARCSEC: f64 = 20.0;
/// Largest relative difference of two distances for a match by position.
pub const DISTANCE_MATCH_FRACTION: f64 = 0.5;

/// The extra catalogue families given to canonicalisation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Catalogues<'a> {
    pub hipparcos: &'a [HipparcosRecord],
    pub star_names: &'a [StarNameRecord],
    pub constellations: &'a [ConstellationRecord],
}

fn unit(ra_deg: f64, dec_deg: f64) -> [f64; 3] {
    let (a, d) = (ra_deg.to_radians(), dec_deg.to_radians());
    [d.cos() * a.cos(), d.cos() * a.sin(), d.sin()]
}

/// Stars with a position, bucketed by unit vector.
struct SkyGrid {
    cell: f64,
    cells: HashMap<[i64; 3], Vec<usize>>,
}

impl SkyGrid {
    fn new(stars: &[CanonStar], radius_arcsec: f64) -> SkyGrid {
        let cell = (radius_arcsec / 3600.0).to_radians();
        let mut g = SkyGrid { cell, cells: HashMap::new() };
        for (i, s) in stars.iter().enumerate() {
            if let (Some(ra), Some(dec)) = (s.ra_deg, s.dec_deg) {
                g.cells.entry(g.key(unit(ra, dec))).or_default().push(i);
            }
        }
        g
    }

    fn key(&self, v: [f64; 3]) -> [i64; 3] {
        v.map(|c| (c / self.cell).floor() as i64)
    }

    fn near(&self, ra: f64, dec: f64) -> impl Iterator<Item = usize> + '_ {
        let k = self.key(unit(ra, dec));
        (-1..=1).flat_map(move |dx| {
            (-1..=1).flat_map(move |dy| {
                (-1..=1).flat_map(move |dz| {
                    self.cells.get(&[k[0] + dx, k[1] + dy, k[2] + dz]).into_iter().flatten().copied()
                })
            })
        })
    }
}

/// The `HD`/`GJ` designations of a names entry, as identifiers to match on.
fn catalogue_ids(n: Option<&StarNameRecord>) -> Vec<String> {
    n.map(|n| [n.hd.clone(), n.gliese.clone()].into_iter().flatten().collect()).unwrap_or_default()
}

/// Merges the Hipparcos rows (see the module documentation).
pub(super) fn merge_hipparcos(b: &mut Builder, cat: &Catalogues<'_>, stats: &mut CanonStats) {
    stats.hipparcos_rows = cat.hipparcos.len();
    if cat.hipparcos.is_empty() {
        return;
    }
    let names: HashMap<u32, &StarNameRecord> = cat.star_names.iter().map(|n| (n.hip, n)).collect();
    // search key → star (first claimant), over every alias known now.
    let mut fold: HashMap<String, usize> = HashMap::new();
    for (i, s) in b.stars.iter().enumerate() {
        for a in &s.aliases {
            fold.entry(search_key(&a.text)).or_insert(i);
        }
    }
    let grid = SkyGrid::new(&b.stars, POSITION_MATCH_ARCSEC);
    let mut claimed: HashMap<usize, u32> = HashMap::new();
    for h in cat.hipparcos {
        let hip_id = format!("HIP {}", h.hip);
        let entry = names.get(&h.hip).copied();
        let mut target = None;
        for id in std::iter::once(hip_id.clone()).chain(catalogue_ids(entry)) {
            if let Some(&i) = fold.get(&search_key(&id))
                && !claimed.contains_key(&i)
            {
                target = Some((i, format!("identifier {id}")));
                break;
            }
        }
        let (ra, dec) = h.position_j2000();
        if target.is_none() {
            let d = h.distance_pc();
            let best = grid
                .near(ra, dec)
                .filter(|i| !claimed.contains_key(i))
                .filter_map(|i| {
                    let s = &b.stars[i];
                    let sep = angular_separation_arcsec(s.ra_deg?, s.dec_deg?, ra, dec);
                    let compatible = s.distance_pc.is_none_or(|sd| (sd - d).abs() / d <= DISTANCE_MATCH_FRACTION);
                    (sep <= POSITION_MATCH_ARCSEC && compatible).then_some((i, sep))
                })
                .min_by(|a, b| a.1.total_cmp(&b.1));
            target = best.map(|(i, sep)| (i, format!("position {sep:.1}″ at J2000")));
        }
        let i = match target {
            Some((i, how)) => {
                if how.starts_with("position") {
                    stats.hipparcos_merged_by_position += 1;
                    let detail = format!("{hip_id} merged by {how}");
                    push_flag(&mut b.stars[i], FlagCode::MatchedByPosition, detail);
                } else {
                    stats.hipparcos_merged_by_id += 1;
                }
                b.stars[i].sources.push(SourceRef {
                    provenance: Provenance::Hipparcos,
                    object_id: hip_id.clone(),
                    line: Some(h.line),
                    matched_by: Some(how),
                });
                i
            }
            None => {
                stats.hipparcos_new += 1;
                let mut s = empty_star(hip_id.clone(), Provenance::Hipparcos);
                s.sources.push(SourceRef {
                    provenance: Provenance::Hipparcos,
                    object_id: hip_id.clone(),
                    line: Some(h.line),
                    matched_by: None,
                });
                s.ra_deg = Some(ra);
                s.dec_deg = Some(dec);
                b.push(s)
            }
        };
        claimed.insert(i, h.hip);
        let star = &mut b.stars[i];
        star.distances.push(DistanceMeasurement {
            provenance: Provenance::Hipparcos,
            distance_pc: h.distance_pc(),
            uncertainty_pc: Some(h.distance_error_pc()),
        });
        star.hp_mag = star.hp_mag.or(h.hp_mag);
        star.b_v = star.b_v.or(h.b_v);
        if star.spectral_class.is_none()
            && let Some(c) = h.b_v.and_then(teff_from_b_v).and_then(SpectralClass::from_teff)
        {
            star.spectral_class = Some(c);
            star.class_source = Some(super::ClassSource::TeffDerived);
        }
        b.add_alias(i, &hip_id);
        for id in catalogue_ids(entry) {
            b.add_alias(i, &id);
        }
    }
}

/// Effective temperature from B−V (Ballesteros 2012), for stars with no spectral type.
pub fn teff_from_b_v(bv: f64) -> Option<f64> {
    (-0.4..=2.0).contains(&bv).then(|| 4600.0 * (1.0 / (0.92 * bv + 1.7) + 1.0 / (0.92 * bv + 0.62)))
}

/// Adds the names catalogue's aliases to the stars its HIP numbers name: the proper name,
/// Bayer (`τ Cet`, `tau Cet`, `Tau Ceti`, `τ Ceti`), Flamsteed (`61 Cyg`, `61 Cygni`), the
/// variable-star designation, `GJ n` and `Gliese n`, `HD n` and names in other languages.
pub(super) fn apply_names(b: &mut Builder, cat: &Catalogues<'_>, stats: &mut CanonStats) {
    let genitive: HashMap<String, &str> =
        cat.constellations.iter().map(|c| (c.abbr.to_lowercase(), c.genitive.as_str())).collect();
    // Digit-less Bayer forms (`Alpha Centauri`) go to the lowest component digit only.
    let mut bare_taken: HashSet<String> = HashSet::new();
    let mut entries: Vec<&StarNameRecord> = cat.star_names.iter().collect();
    entries.sort_by_key(|n| (n.bayer.clone().unwrap_or_default(), n.hip));
    for n in entries {
        let Some(&i) = b.index.get(&crate::names::alias_key(&format!("HIP {}", n.hip))) else { continue };
        stats.names_applied += 1;
        b.stars[i].sources.push(SourceRef {
            provenance: Provenance::StarNames,
            object_id: format!("HIP {}", n.hip),
            line: Some(n.line),
            matched_by: Some(format!("identifier HIP {}", n.hip)),
        });
        let mut texts: Vec<String> = Vec::new();
        if let Some(name) = &n.name {
            texts.push(name.clone());
        }
        let abbr = n.constellation.as_deref();
        let genitive_of = abbr.and_then(|a| genitive.get(&a.to_lowercase()).copied());
        let mut designation = None;
        if let (Some(bayer), Some(abbr)) = (&n.bayer, abbr) {
            let bare = format!("{}{}", bayer.trim_end_matches(|c: char| c.is_ascii_digit()), abbr);
            let with_bare = bare_taken.insert(bare);
            let spellings = designation_spellings(bayer, abbr, genitive_of, with_bare);
            designation = spellings.first().cloned();
            texts.extend(spellings);
        }
        if let (Some(flam), Some(abbr)) = (&n.flamsteed, abbr) {
            let spellings = designation_spellings(flam, abbr, genitive_of, false);
            designation = designation.or_else(|| spellings.first().cloned());
            texts.extend(spellings);
        }
        if let (Some(var), Some(abbr)) = (&n.variable, abbr) {
            texts.extend(designation_spellings(var, abbr, genitive_of, false));
        }
        if let Some(gl) = &n.gliese {
            texts.push(gl.clone());
            if let Some(num) = gl.strip_prefix("GJ ") {
                texts.push(format!("Gliese {num}"));
            }
        }
        texts.extend(n.hd.clone());
        texts.extend(n.translations.iter().map(|(_, t)| t.clone()));
        for t in &texts {
            b.add_alias(i, t);
        }
        // Curated stars keep their curated name (`Proxima Centauri` over `Proxima`).
        let star = &mut b.stars[i];
        if star.provenance == Provenance::Curated {
            continue;
        }
        if let Some(name) = &n.name {
            star.display_name = Some(name.clone());
        } else if star.display_name.is_none() {
            star.display_name = designation;
        }
    }
}

/// The adopted distance by precedence (see the module documentation).
pub(super) fn adopt_distance(s: &mut CanonStar, stats: &mut CanonStats) {
    let rel = |m: &DistanceMeasurement| m.uncertainty_pc.map(|u| u / m.distance_pc.max(f64::MIN_POSITIVE));
    let precise = s
        .distances
        .iter()
        .enumerate()
        .filter(|(_, m)| rel(m).is_some_and(|r| r <= UNCERTAIN_RELATIVE_ERROR))
        .min_by(|a, b| rel(a.1).unwrap_or(f64::MAX).total_cmp(&rel(b.1).unwrap_or(f64::MAX)))
        .map(|(k, _)| k);
    let plain = s.distances.iter().position(|m| m.uncertainty_pc.is_none());
    let uncertain = s.distances.iter().position(|m| m.uncertainty_pc.is_some());
    let Some(k) = precise.or(plain).or(uncertain) else { return };
    let m = s.distances.remove(k);
    s.distances.insert(0, m);
    s.distance_pc = Some(m.distance_pc);
    s.distance_provenance = Some(m.provenance);
    s.distance_source = Some(match (m.uncertainty_pc, m.provenance) {
        (Some(_), _) => DistanceSource::Parallax,
        (None, Provenance::Curated) => DistanceSource::Curated,
        (None, _) => DistanceSource::CatalogDistance,
    });
    if m.uncertainty_pc.is_some() {
        stats.distances_from_parallax += 1;
        if precise.is_none() {
            let detail = format!(
                "{} {:.3} ± {:.3} pc (σ/d > {UNCERTAIN_RELATIVE_ERROR}) is the only distance",
                m.provenance.source_name(),
                m.distance_pc,
                m.uncertainty_pc.unwrap_or_default()
            );
            push_flag(s, FlagCode::UncertainDistance, detail);
        }
    }
}

/// Display names for stars the names catalogue did not name: the curated component name, else
/// SIMBAD's `NAME …` identifier.
pub(super) fn default_display_name(s: &mut CanonStar) {
    if s.display_name.is_some() {
        return;
    }
    if s.provenance == Provenance::Curated {
        s.display_name = Some(s.main_id.clone());
        return;
    }
    s.display_name = s.aliases.iter().find_map(|a| a.text.strip_prefix("NAME ").map(str::to_string));
}

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
mod merge;
mod review;
mod types;

pub use crossmatch::Catalogues;
pub use review::angular_separation_arcsec;
pub use types::*;

use merge::*;
use review::review_pairs;

use crate::catalogue::exoplanets::ExoplanetRecord;
use crate::catalogue::simbad::SimbadRecord;
use crate::names::alias_key;
use crate::spectral::{SpectralClass, StellarKind};
use curated::{COMPANION_CATALOGUE, SOL_ALIASES};
use std::collections::{BTreeMap, HashMap};

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

#[cfg(test)]
mod tests;

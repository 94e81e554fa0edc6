//! Unit tests for canonicalisation, on small inline catalogues.

use super::curated::BondKind;
use super::review::review_kind;
use super::*;
use crate::catalogue::{exoplanets, simbad};

const SIMBAD_HDR: &str = "sys_id,sys_code,main_id,ids,otype_txt,otype_shortname,otype_longname,otypes,Average of ra,Average of dec,Average of dist\n";
const EXO_HDR: &str = "star_name,ra,dec,star_alternate_names,planet_name,planet_status,mass,mass_sini,radius,semi_major_axis,star_distance,star_sp_type,star_teff,star_mass,star_radius,star_metallicity\n";

fn simbad_rows(rows: &[&str]) -> Vec<SimbadRecord> {
    let text = format!("{SIMBAD_HDR}{}\n", rows.join("\n"));
    let b = simbad::parse(text.as_bytes()).unwrap();
    assert!(b.quarantined.is_empty(), "{:?}", b.quarantined);
    b.accepted
}

fn exo_rows(rows: &[&str]) -> Vec<ExoplanetRecord> {
    let text = format!("{EXO_HDR}{}\n", rows.join("\n"));
    let b = exoplanets::parse(text.as_bytes()).unwrap();
    assert!(b.quarantined.is_empty(), "{:?}", b.quarantined);
    b.accepted
}

fn run(simbad: &[&str], exo: &[&str]) -> Canon {
    canonicalise(&simbad_rows(simbad), &exo_rows(exo), &CanonConfig::default())
}

const PROXIMA: &str = "2,ALCENT,V* V645 Cen       ,PM J14297-6240|* alf Cen C|NAME Proxima Centauri|GJ   551|HIP  70890,Fl*,Fl*,Flare Star,Fl*|V* |** |PM*,217.428938,-62.67949189,1.3012";
const WOLF: &str = "5,,Wolf  359     ,GJ   406|LHS    36,Fl*,Fl*,Flare Star,Fl*|PM*,164.1203,7.0147,2";
const BARNARD: &str =
    "4,BARNST,NAME Barnard's star,GJ   699|HIP  87937|LHS    57,BY*,BY*,,BY*|PM*,269.4520825,4.693364265,1.8233";

#[test]
fn sol_and_the_curated_catalogue_are_always_there() {
    let c = run(&[], &[]);
    assert_eq!(c.stars.len(), 1 + 29);
    let sol = &c.stars[0];
    assert_eq!((sol.main_id.as_str(), sol.distance_pc, sol.planets.len()), ("Sol", Some(0.0), 8));
    assert_eq!(c.find("The Sun").unwrap().main_id, "Sol");
    assert_eq!(c.groups.len(), 13);
    let sirius_b = c.star("Sirius B").unwrap();
    assert_eq!((sirius_b.spectral_class, sirius_b.kind), (Some(SpectralClass::D), StellarKind::WhiteDwarf));
    assert_eq!(sirius_b.class_source, Some(ClassSource::Curated));
    let alpha = c.star("Alpha Centauri A").unwrap();
    assert_eq!((alpha.multiplicity, alpha.group.as_deref()), (3, Some("Alpha Centauri")));
    assert_eq!(alpha.distance_source, Some(DistanceSource::Curated));
    let g34 = c.groups.iter().find(|g| g.name == "Groombridge 34").unwrap();
    assert_eq!(g34.bonds[0].kind, BondKind::WideCompanion);
    assert_eq!(c.groups[0].bonds[0].kind, BondKind::CloseBinary);
    assert_eq!(c.stats.curated_stars, 30);
}

#[test]
fn proxima_simbad_and_exoplanet_rows_become_one_star() {
    let c = run(
        &[PROXIMA],
        &[
            "Proxima Centauri,217.428938,-63.16951366,\"alpha Cen C, GL 551, HIP 70890\",Proxima Centauri b,Confirmed,,0.003,,0.048,1.295,M5.5V,3050,0.12,0.141,",
            "Proxima Centauri,217.428938,-63.16951366,,Proxima Centauri c,Candidate,,0.0182,,1.48,1.295,M5.5V,3050,0.12,0.141,",
        ],
    );
    assert_eq!(c.stars.len(), 30, "nothing new: SIMBAD and the host merged into the curated component");
    let p = c.find("V* V645 Cen").unwrap();
    assert_eq!(p.main_id, "Proxima Centauri");
    assert!(std::ptr::eq(p, c.find("NAME Proxima Centauri").unwrap()));
    assert!(std::ptr::eq(p, c.find("HIP 70890").unwrap()));
    assert!(std::ptr::eq(p, c.find("gj 551").unwrap()));
    assert_eq!(p.provenance, Provenance::Curated);
    let prov: Vec<Provenance> = p.sources.iter().map(|s| s.provenance).collect();
    assert_eq!(prov, [Provenance::Curated, Provenance::Simbad, Provenance::ExoplanetCatalogue]);
    assert_eq!(p.sources[1].line, Some(2));
    let names: Vec<&str> = p.planets.iter().map(|x| x.planet_name.as_str()).collect();
    assert_eq!(names, ["Proxima Centauri b", "Proxima Centauri c"]);
    assert_eq!((p.planets[0].tier, p.planets[1].tier), (Tier::T1, Tier::T2));
    assert_eq!(p.distances.len(), 3);
    assert!(!p.has_flag(FlagCode::DistanceDisagreement), "1.295 vs 1.3012 is 0.5 %");
    // The exoplanet file puts Proxima half a degree south: flagged, not unmatched.
    assert!(p.has_flag(FlagCode::PositionDisagreement));
    // Curated parameters are kept; the class too.
    assert_eq!((p.teff_k, p.mass_msun, p.spectral_class), (Some(3050.0), Some(0.122), Some(SpectralClass::M)));
    assert_eq!(c.stats.simbad_merged_into_curated, 1);
    assert_eq!(c.stats.hosts_matched_by_name, 1);
}

#[test]
fn wolf_359_spellings_are_one_star() {
    let c = run(&[WOLF], &["Wolf 359,164.1203,7.0147,,Wolf 359 b,Candidate,,0.0138,,1.845,2.41,M6V,,,,"]);
    assert_eq!(c.stars.len(), 31);
    let w = c.find("Wolf 359").unwrap();
    assert_eq!(w.main_id, "Wolf 359");
    assert_eq!(w.provenance, Provenance::Simbad);
    assert_eq!(w.planets.len(), 1);
    assert_eq!(w.spectral_class, Some(SpectralClass::M));
    assert_eq!(w.class_source, Some(ClassSource::Catalogue));
    // SIMBAD 2 pc vs the exoplanet catalogue's 2.41 pc: 20.5 % → flagged.
    assert!(w.has_flag(FlagCode::DistanceDisagreement));
    assert_eq!(w.distance_pc, Some(2.0));
    assert_eq!(w.distance_provenance, Some(Provenance::Simbad));
}

#[test]
fn distance_disagreement_threshold_is_ten_percent_of_the_adopted_distance() {
    let c = run(
        &["10,,GJ 1,GJ 1,PM*,PM*,,PM*,10,10,5.0", "11,,GJ 2,GJ 2,PM*,PM*,,PM*,20,10,5.0"],
        &["GJ 1,10,10,,GJ 1 b,Confirmed,,,,,5.5,,,,,", "GJ 2,20,10,,GJ 2 b,Confirmed,,,,,5.51,,,,,"],
    );
    assert!(!c.star("GJ 1").unwrap().has_flag(FlagCode::DistanceDisagreement), "exactly 10 % passes");
    assert!(c.star("GJ 2").unwrap().has_flag(FlagCode::DistanceDisagreement));
}

#[test]
fn hosts_match_by_alternate_name_or_become_new_stars() {
    let c = run(
        &[BARNARD, "20,,HD 1,HD 1|GJ 20,PM*,PM*,,PM*,30,30,9", "21,,HD 2,HD 2|GJ 21,PM*,PM*,,PM*,31,30,9"],
        &[
            "Barnard star,269.45,4.69,\"GJ 699\",Barnard b,Confirmed,,0.01,,0.4,1.8,M4V,3278,0.163,0.178,",
            "Mystery,30.5,30,\"GJ 20, GJ 21\",Mystery b,Confirmed,,,,,9,,,,,",
            "Far Away,100,10,,Far Away b,Confirmed,2,,1,1,500,G2V,5800,1.0,1.1,0.1",
            "Teff Only,101,10,,Teff Only b,Confirmed,,,,,700,,4000,,0.7,",
        ],
    );
    let barnard = c.find("GJ 699").unwrap();
    assert_eq!(barnard.main_id, "NAME Barnard's star");
    assert_eq!(barnard.planets[0].planet_name, "Barnard b");
    assert!(std::ptr::eq(barnard, c.find("Barnard star").unwrap()), "the host name became an alias");
    assert_eq!(c.stats.hosts_matched_by_alternate_name, 1);

    let mystery = c.star("Mystery").unwrap();
    assert_eq!(mystery.provenance, Provenance::ExoplanetCatalogue);
    assert!(mystery.has_flag(FlagCode::AmbiguousHost));
    assert!(mystery.has_flag(FlagCode::AliasConflict), "GJ 20/21 stay with their SIMBAD stars");
    assert_eq!(c.find("GJ 20").unwrap().main_id, "HD 1");

    let far = c.star("Far Away").unwrap();
    assert_eq!((far.spectral_class, far.spectral_subclass), (Some(SpectralClass::G), Some(2.0)));
    assert_eq!(far.distance_source, Some(DistanceSource::CatalogDistance));
    assert_eq!(far.parameters_provenance, Some(Provenance::ExoplanetCatalogue));
    assert_eq!(far.metallicity_feh, Some(0.1));
    assert!((far.luminosity_lsun.unwrap() - 1.21 * (5800.0f64 / 5772.0).powi(4)).abs() < 1e-12);
    assert!((far.planets[0].mass_earth.unwrap() - 635.66).abs() < 1e-9);

    let teff_only = c.star("Teff Only").unwrap();
    assert_eq!(
        (teff_only.spectral_class, teff_only.class_source),
        (Some(SpectralClass::K), Some(ClassSource::TeffDerived))
    );
    assert_eq!(c.stats.hosts_new, 3);
    assert_eq!(c.stats.planets_attached, 8 + 4);
}

#[test]
fn white_dwarfs_and_otype_hints() {
    let c = run(
        &[
            "30,,LP 1,LP 1,WD*,WD*,White Dwarf,WD*|PM*,40,40,10",
            "31,,LP 2,LP 2,LM*,LM*,,LM*,41,40,10",
            "32,,LP 3,LP 3,BD*,BD*,,BD*,42,40,10",
            "33,,LP 4,LP 4,PM*,PM*,,PM*,43,40,10",
        ],
        &[],
    );
    let wd = c.star("LP 1").unwrap();
    assert_eq!(
        (wd.spectral_class, wd.class_source, wd.kind),
        (Some(SpectralClass::D), Some(ClassSource::OtypeHint), StellarKind::WhiteDwarf)
    );
    assert_eq!(c.star("LP 2").unwrap().spectral_class, Some(SpectralClass::M));
    let bd = c.star("LP 3").unwrap();
    assert_eq!((bd.spectral_class, bd.kind), (None, StellarKind::BrownDwarf), "never a fabricated class");
    assert_eq!(c.star("LP 4").unwrap().spectral_class, None, "no default K");
}

#[test]
fn curated_matching_rules() {
    // A SIMBAD row whose ids name two curated components equally is not merged.
    let c = run(&["40,,Odd Pair,GJ 725 A|GJ 725 B,**,**,,**,280.69,59.63,3.52"], &[]);
    assert!(c.star("Odd Pair").is_some());
    assert!(c.star("Struve 2398 A").unwrap().has_flag(FlagCode::CuratedMatchAmbiguous));
    assert_eq!(c.stats.simbad_merged_into_curated, 0);
    // Its main_id decides when it names one of them.
    let c = run(&["41,,HD 173739,GJ 725 B|GJ 725 A,**,**,,**,280.69,59.63,3.52"], &[]);
    assert_eq!(c.find("HD 173739").unwrap().main_id, "Struve 2398 A");
    assert!(c.star("Struve 2398 A").unwrap().has_flag(FlagCode::AliasConflict), "GJ 725 B stays with B");
    // Two rows for one component: the first joins, the second stays apart and is flagged.
    let c = run(
        &["42,,HD 173739,GJ 725 A,**,**,,**,280.69,59.63,3.52", "43,,GJ 725 A dup,GJ 725 A,**,**,,**,280.69,59.63,3.6"],
        &[],
    );
    assert!(c.star("GJ 725 A dup").is_some());
    assert!(c.star("Struve 2398 A").unwrap().has_flag(FlagCode::CuratedMatchAmbiguous));
}

#[test]
fn aliases_are_unique_across_stars() {
    let c = run(&[PROXIMA, WOLF, BARNARD, "50,,Dup Alias,GJ 699|LHS 57,PM*,PM*,,PM*,1,1,3"], &[]);
    let mut seen = std::collections::HashSet::new();
    for a in c.stars.iter().flat_map(|s| &s.aliases) {
        assert!(seen.insert(a.key.clone()), "{} twice", a.key);
        assert_eq!(a.key, alias_key(&a.text));
    }
    assert_eq!(c.stats.aliases, seen.len());
    assert!(c.star("Dup Alias").unwrap().has_flag(FlagCode::AliasConflict));
    // Every main_id is unique and is one of its star's aliases.
    let mut ids = std::collections::HashSet::new();
    for s in &c.stars {
        assert!(ids.insert(&s.main_id));
        assert!(s.aliases.iter().any(|a| a.key == alias_key(&s.main_id)), "{}", s.main_id);
    }
}

#[test]
fn review_pairs_and_implausible_objects() {
    let c = run(
        &[
            "60,,TWA 3,TWA 3,**,**,,**,167.6,-37.5,5.0",
            "61,,TWA 3A,TWA 3A,PM*,PM*,,PM*,167.6001,-37.5001,11.6",
            "62,,Near 1,Near 1,PM*,PM*,,PM*,200,10,8.0",
            "63,,Near 2,Near 2,PM*,PM*,,PM*,200.5,10,8.0",
        ],
        &["PSR J1544+4937,236.0,49.6,,PSR J1544+4937 b,Confirmed,,18,,0.005,3.5,PSR,,,,"],
    );
    let kinds: Vec<(ReviewKind, &str, &str)> = c.review.iter().map(|r| (r.kind, r.a.as_str(), r.b.as_str())).collect();
    assert!(kinds.contains(&(ReviewKind::SameObjectSuspect, "TWA 3", "TWA 3A")), "{kinds:?}");
    assert!(kinds.contains(&(ReviewKind::CloseNeighbours, "Near 1", "Near 2")), "{kinds:?}");
    let psr = c.star("PSR J1544+4937").unwrap();
    assert_eq!((psr.kind, psr.spectral_class), (StellarKind::Pulsar, None));
    assert!(psr.has_flag(FlagCode::ImplausibleObject));
    assert_eq!(c.stats.flags.get(&FlagCode::ImplausibleObject), Some(&1));
}

#[test]
fn output_is_deterministic() {
    let s = [PROXIMA, WOLF, BARNARD];
    let e = ["Wolf 359,164.1203,7.0147,,Wolf 359 b,Candidate,,0.0138,,1.845,2.41,M6V,,,,"];
    let a = serde_json::to_string(&run(&s, &e)).unwrap();
    let b = serde_json::to_string(&run(&s, &e)).unwrap();
    assert_eq!(a, b);
}

#[test]
fn angular_separation() {
    assert!((angular_separation_arcsec(10.0, 0.0, 10.0, 1.0) - 3600.0).abs() < 1e-6);
    assert!((angular_separation_arcsec(359.9999, 0.0, 0.0001, 0.0) - 0.72).abs() < 1e-6);
    assert!((angular_separation_arcsec(0.0, 90.0, 180.0, 90.0)).abs() < 1e-6);
    assert!((angular_separation_arcsec(0.0, 0.0, 180.0, 0.0) - 648_000.0).abs() < 1e-6);
}

#[test]
fn vocabulary_strings() {
    assert_eq!(Provenance::ExoplanetCatalogue.source_name(), "EXOPLANET_CATALOG");
    assert_eq!(DistanceSource::CatalogDistance.as_str(), "catalog_distance");
    assert_eq!(ClassSource::OtypeHint.as_str(), "otype_hint");
    assert_eq!(FlagCode::DistanceDisagreement.as_str(), "distance_disagreement");
    assert_eq!(serde_json::to_value(FlagCode::AmbiguousHost).unwrap(), "ambiguous_host");
    assert_eq!(serde_json::to_value(ClassSource::TeffDerived).unwrap(), "teff_derived");
}

#[test]
fn rows_hosted_by_the_sun_are_not_attached_to_sol() {
    let c = run(&[], &["Sun,0,0,,Oumuamua,Confirmed,,,,,,,,,,", "Sun,0,0,,2I/Borisov,Confirmed,,,,,,,,,,"]);
    assert_eq!(c.star("Sol").unwrap().planets.len(), 8);
    let names: Vec<&str> = c.unattached_planets.iter().map(|u| u.planet_name.as_str()).collect();
    assert_eq!(names, ["Oumuamua", "2I/Borisov"]);
    assert_eq!((c.stats.planets_attached, c.stats.planets_unattached), (8, 2));
    assert_eq!(c.unattached_planets[0].line, 2);
}

/// The review list over a grid equals the all-pairs comparison it replaced (without that loop's
/// 1° RA shortcut, which missed same-position pairs near the poles): random stars, tight
/// clusters in space, the same sky position at different distances, the RA wrap and a pole.
#[test]
fn grid_review_pairs_equal_all_pairs() {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut rows = Vec::new();
    let mut add = |ra: f64, dec: f64, d: f64| {
        let i = rows.len() + 1000;
        rows.push(format!("{i},,GRID {i},GRID {i},PM*,PM*,,PM*,{:.7},{:.7},{d:.4}", ra.rem_euclid(360.0), dec));
    };
    for _ in 0..1500 {
        add(next() * 360.0, (next() * 2.0 - 1.0).asin().to_degrees(), 1.0 + next() * 32.0);
    }
    for _ in 0..40 {
        // A cluster: five stars within ~0.5 pc of each other.
        let (ra, dec, d) = (next() * 360.0, (next() * 2.0 - 1.0).asin().to_degrees(), 3.0 + next() * 25.0);
        for _ in 0..5 {
            add(ra + (next() - 0.5) * 1.5, dec + (next() - 0.5) * 1.5, d + (next() - 0.5) * 0.4);
        }
    }
    for _ in 0..40 {
        // One position on the sky (within 3″), two distances.
        let (ra, dec) = (next() * 360.0, (next() * 2.0 - 1.0).asin().to_degrees());
        add(ra, dec, 2.0 + next() * 30.0);
        add(ra + (next() - 0.5) * 0.0008, dec + (next() - 0.5) * 0.0008, 2.0 + next() * 30.0);
    }
    add(359.99995, 12.0, 10.0);
    add(0.00005, 12.0, 20.0);
    add(10.0, 89.99995, 7.0);
    add(190.0, 89.99995, 9.0);
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let c = run(&rows, &[]);
    let cfg = CanonConfig::default();

    let mut reference = Vec::new();
    let pts: Vec<(&str, f64, f64, [f64; 3])> = c
        .stars
        .iter()
        .filter_map(|s| {
            let (ra, dec, d) = (s.ra_deg?, s.dec_deg?, s.distance_pc?);
            let (a, b) = (ra.to_radians(), dec.to_radians());
            (d > 0.0 && d <= cfg.review_max_distance_pc)
                .then(|| (s.main_id.as_str(), ra, dec, [d * b.cos() * a.cos(), d * b.cos() * a.sin(), d * b.sin()]))
        })
        .collect();
    for (i, p) in pts.iter().enumerate() {
        for q in &pts[i + 1..] {
            let dist = ((p.3[0] - q.3[0]).powi(2) + (p.3[1] - q.3[1]).powi(2) + (p.3[2] - q.3[2]).powi(2)).sqrt();
            let sep = angular_separation_arcsec(p.1, p.2, q.1, q.2);
            let Some(kind) = review_kind(sep, dist, &cfg) else { continue };
            reference.push((kind, p.0.to_string(), q.0.to_string()));
        }
    }
    let got: Vec<(ReviewKind, String, String)> = c.review.iter().map(|r| (r.kind, r.a.clone(), r.b.clone())).collect();
    let same = reference.iter().filter(|r| r.0 == ReviewKind::SameObjectSuspect).count();
    assert!(same >= 40, "the test must exercise same-object pairs: {same}");
    assert!(reference.len() - same >= 100, "and close neighbours: {}", reference.len() - same);
    assert_eq!(got, reference);
}

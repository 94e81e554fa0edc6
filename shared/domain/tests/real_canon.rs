//! Canonicalisation, reference checks and the spectral parser against the real sources: the
//! newest file of each family (SIMBAD_03, EXOPLANETS_01x, DOMAIN.md §4.4 (g)). Only reads.

mod common;

use exomaps_domain::canon::{Canon, CanonConfig, ClassSource, FlagCode, Provenance, ReviewKind, canonicalise};
use exomaps_domain::catalogue::{exoplanets, simbad};
use exomaps_domain::reference::{self, CheckStatus, DEFAULT_RULES, ReferenceRule};
use exomaps_domain::spectral::{self, SpectralClass, StellarKind};
use exomaps_domain::units::LY_PER_PC;
use std::collections::{BTreeMap, HashSet};

fn build(simbad_file: &str, exo_file: &str) -> Option<Canon> {
    let s = simbad::parse(&common::read(simbad_file)?).unwrap();
    let e = exoplanets::parse(&common::read(exo_file)?).unwrap();
    Some(canonicalise(&s.accepted, &e.accepted, &CanonConfig::default()))
}

#[test]
fn canon_of_the_newest_files() {
    let Some(c) = build("SIMBAD_03.csv", "EXOPLANETS_01x.csv") else { return };
    eprintln!("{:#?}", c.stats);
    let review: BTreeMap<String, usize> = c.review.iter().fold(BTreeMap::new(), |mut m, r| {
        *m.entry(format!("{:?}", r.kind)).or_insert(0) += 1;
        m
    });
    eprintln!("review {review:?}");
    // Measured on SIMBAD_03 + EXOPLANETS_01x. Four hosts (`Gliese 581`-style spellings of SIMBAD's
    // `GJ n`) are matched by their search key since the names issue.
    let st = &c.stats;
    assert_eq!((st.stars, st.curated_stars, st.simbad_rows, st.exoplanet_rows), (6930, 30, 1579, 6683));
    assert_eq!(
        (st.exoplanet_hosts, st.hosts_matched_by_name, st.hosts_matched_by_alternate_name, st.hosts_new),
        (5426, 77, 8, 5341)
    );
    assert_eq!(st.aliases, 38190);
    assert_eq!(
        st.flags,
        BTreeMap::from([
            (FlagCode::DistanceDisagreement, 11),
            (FlagCode::PositionDisagreement, 12),
            (FlagCode::ImplausibleObject, 1)
        ])
    );
    assert_eq!(review, BTreeMap::from([("CloseNeighbours".to_string(), 138), ("SameObjectSuspect".to_string(), 51)]));

    // Identity: one star per alias, unique main_ids.
    let mut keys = HashSet::new();
    let mut ids = HashSet::new();
    for s in &c.stars {
        assert!(ids.insert(s.main_id.as_str()), "{}", s.main_id);
        for a in &s.aliases {
            assert!(keys.insert(a.key.as_str()), "{}", a.key);
        }
    }

    // Cross-catalogue identities of DOMAIN.md §4.6 / §11.17.
    let wolf = c.find("Wolf 359").unwrap();
    assert_eq!(wolf.main_id, "Wolf 359");
    assert!(std::ptr::eq(wolf, c.find("Wolf  359").unwrap()));
    assert_eq!(
        wolf.sources.iter().map(|s| s.provenance).collect::<Vec<_>>(),
        [Provenance::Simbad, Provenance::ExoplanetCatalogue]
    );
    assert!(!wolf.planets.is_empty());
    let proxima = c.find("V* V645 Cen").unwrap();
    assert_eq!(proxima.main_id, "Proxima Centauri");
    assert!(std::ptr::eq(proxima, c.find("Proxima Centauri").unwrap()));
    let names: Vec<&str> = proxima.planets.iter().map(|p| p.planet_name.as_str()).collect();
    assert_eq!(names, ["Proxima Centauri b", "Proxima Centauri c"]);
    let barnard = c.find("Barnard's star").unwrap();
    assert_eq!(barnard.main_id, "NAME Barnard's star");
    assert_eq!(barnard.planets.len(), 1);
    assert_eq!(barnard.planets[0].planet_name, "Barnard's b");
    let eps_eri = c.find("eps Eri").unwrap();
    assert!(!eps_eri.planets.is_empty(), "eps Eri b attaches to the SIMBAD star");

    // Every exoplanet row is attached exactly once.
    assert_eq!(c.stats.planets_attached, 8 + c.stats.exoplanet_rows - 2);
    let unattached: Vec<&str> = c.unattached_planets.iter().map(|u| u.planet_name.as_str()).collect();
    assert_eq!(unattached, ["2I/Borisov", "Oumuamua"], "exoplanet.eu lists them with host Sun");
    assert_eq!(
        c.stats.exoplanet_hosts,
        c.stats.hosts_matched_by_name + c.stats.hosts_matched_by_alternate_name + c.stats.hosts_new
    );

    // Curated components joined by SIMBAD rows.
    assert_eq!(c.stats.simbad_merged_into_curated, 20);
    for (curated, simbad_main_id) in [
        ("Sirius B", "* alf CMa B"),
        ("Procyon B", "* alf CMi B"),
        ("61 Cygni A", "* 61 Cyg A"),
        ("Luyten 726-8 A", "G 272-61A"),
        ("UV Ceti", "G 272-61B"),
        ("36 Ophiuchi A", "* 36 Oph A"),
        ("36 Ophiuchi B", "* 36 Oph B"),
        ("36 Ophiuchi C", "V* V2215 Oph"),
        ("Epsilon Indi A", "* eps Ind"),
        ("Epsilon Indi Ba", "* eps Ind B"),
    ] {
        assert_eq!(c.find(simbad_main_id).map(|s| s.main_id.as_str()), Some(curated), "{simbad_main_id}");
    }
    let sirius_b = c.star("Sirius B").unwrap();
    assert_eq!(sirius_b.spectral_class, Some(SpectralClass::D));

    // Classes: nothing is a fabricated K; white dwarfs are D.
    let by_source: BTreeMap<&str, usize> = c.stars.iter().fold(BTreeMap::new(), |mut m, s| {
        *m.entry(s.class_source.map_or("none", ClassSource::as_str)).or_insert(0) += 1;
        m
    });
    eprintln!("class sources {by_source:?}");
    let wd_otype = c.stars.iter().filter(|s| s.otype.as_deref() == Some("WD*")).count();
    let wd_class = c
        .stars
        .iter()
        .filter(|s| s.otype.as_deref() == Some("WD*") && s.spectral_class == Some(SpectralClass::D))
        .count();
    assert_eq!(wd_otype, wd_class);
    assert!(wd_otype > 50);

    // Review flags.
    let psr = c.find("PSR J1544+4937").unwrap();
    assert_eq!(psr.kind, StellarKind::Pulsar);
    assert!(psr.has_flag(FlagCode::ImplausibleObject));
    assert!(proxima.has_flag(FlagCode::PositionDisagreement));
    assert!(wolf.has_flag(FlagCode::DistanceDisagreement));
    assert_eq!(c.stats.flags.get(&FlagCode::ImplausibleObject), Some(&1));
    let twa = c
        .review
        .iter()
        .any(|r| r.kind == ReviewKind::SameObjectSuspect && [&r.a, &r.b].contains(&&"TWA 3".to_string()));
    assert!(twa, "TWA 3 / TWA 3A on the review list");

    // Within 100 ly: the map needs ≥ 1,500 systems.
    let in_scope = c.stars.iter().filter(|s| s.distance_pc.is_some_and(|d| d * LY_PER_PC <= 100.0)).count();
    eprintln!("stars within 100 ly: {in_scope}");
    assert!(in_scope >= 1500);
    assert_eq!(in_scope, 1739); // four exoplanet-only duplicates now merged by search key
}

#[test]
fn reference_checks_pass_on_the_real_data() {
    let Some(c) = build("SIMBAD_03.csv", "EXOPLANETS_01x.csv") else { return };
    let r = reference::evaluate(&c, &DEFAULT_RULES);
    for x in &r.results {
        eprintln!("{} {:?} {:?} {:?} Δ {:?}", x.rule_key, x.status, x.matched_main_id, x.observed_ly, x.delta_ly);
    }
    assert_eq!(r.status, CheckStatus::Pass);
    let observed: Vec<(String, f64)> =
        r.results.iter().map(|x| (x.matched_main_id.clone().unwrap(), x.observed_ly.unwrap())).collect();
    let expect = [
        ("Alpha Centauri A", 1.3241 * LY_PER_PC),
        ("NAME Barnard's star", 1.8233 * LY_PER_PC),
        ("Sirius A", 2.6371 * LY_PER_PC),
        ("Procyon A", 3.509 * LY_PER_PC),
        ("* tau Cet", 11.752),
        ("* eps Eri", 3.2028 * LY_PER_PC),
    ];
    for ((got_id, got), (id, want)) in observed.iter().zip(expect) {
        assert_eq!(got_id, id);
        assert!((got - want).abs() < 1e-3, "{id}: {got} vs {want}");
    }
    // With the §4.5 proposal's tightened tolerance (0.1 ly) only τ Cet fails: the SIMBAD
    // extract's 3.6032 pc (11.75 ly) is 0.15 ly short of the reference 11.90 ly.
    let tight: Vec<ReferenceRule> = DEFAULT_RULES.iter().map(|r| ReferenceRule { tolerance_ly: 0.1, ..*r }).collect();
    let t = reference::evaluate(&c, &tight);
    let failed: Vec<&str> =
        t.results.iter().filter(|x| x.status == CheckStatus::Fail).map(|x| x.rule_key.as_str()).collect();
    assert_eq!(failed, ["distance_tau_ceti"]);
}

#[test]
fn every_catalogue_spectral_type_parses_honestly() {
    let Some(bytes) = common::read("EXOPLANETS_01x.csv") else { return };
    let b = exoplanets::parse(&bytes).unwrap();
    let distinct: HashSet<&str> = b.accepted.iter().filter_map(|r| r.star_sp_type.as_deref()).collect();
    let mut classless = Vec::new();
    let mut multi = 0;
    let mut typo = 0;
    for raw in &distinct {
        let t = spectral::parse(raw).unwrap();
        multi += usize::from(t.multi_valued);
        typo += usize::from(t.typo_fixed);
        if t.class.is_none() {
            classless.push(t.raw.clone());
        }
        if raw.starts_with("Brown") || *raw == "PSR" {
            assert_eq!(t.class, None);
        }
    }
    classless.sort();
    eprintln!("{} distinct, {multi} multi-valued, {typo} typo-fixed, classless {classless:?}", distinct.len());
    assert_eq!(classless, ["AM Her", "Brown dwarf", "C-N", "Catac. var.", "PSR"]);
    assert_eq!(typo, 7, "GOV KO KOIII KOIII/IV KOIV KOV MOV");
    assert_eq!((distinct.len(), multi), (331, 44));
}

#[test]
fn inference_over_the_real_neighbourhood_is_reproducible_and_stable() {
    use exomaps_domain::inference::{InferenceConfig, Orbit, StarInput, infer_world, pair_is_stable};
    use sha2::{Digest, Sha256};
    let Some(c) = build("SIMBAD_03.csv", "EXOPLANETS_01x.csv") else { return };
    let stars: Vec<StarInput> = c
        .stars
        .iter()
        .filter(|s| s.distance_pc.is_some_and(|d| d * LY_PER_PC <= 110.0))
        .map(StarInput::from_canon)
        .collect();
    let run = |seed: u64| infer_world(&stars, &InferenceConfig { world_seed: seed });
    let digest = |o: &[exomaps_domain::inference::SystemInference]| Sha256::digest(serde_json::to_vec(o).unwrap());
    let (a, b, other) = (run(42), run(42), run(43));
    assert_eq!(digest(&a), digest(&b));
    assert_ne!(digest(&a), digest(&other));
    let planets: usize = a.iter().map(|s| s.planets.len()).sum();
    let belts: usize = a.iter().map(|s| s.belts.len()).sum();
    let moons: usize = a.iter().map(|s| s.moons.len()).sum();
    let with_planets = a.iter().filter(|s| !s.planets.is_empty()).count();
    eprintln!(
        "{} systems: {planets} inferred planets in {with_planets} systems, {belts} belts, {moons} moons",
        a.len()
    );
    assert!(planets > 1000 && belts > 50);
    for s in &a {
        let mut orbits: Vec<(Orbit, bool)> = s.observed_zones.iter().map(|z| (z.orbit, false)).collect();
        orbits.extend(
            s.planets
                .iter()
                .map(|p| (Orbit { a_au: p.semi_major_axis_au, e: p.eccentricity, mass_earth: p.mass_earth }, true)),
        );
        orbits.sort_by(|x, y| x.0.a_au.total_cmp(&y.0.a_au));
        for w in orbits.windows(2).filter(|w| w[0].1 || w[1].1) {
            assert!(pair_is_stable(&w[0].0, &w[1].0, s.star.mass_msun), "{}", s.main_id);
        }
    }
    // Sol is complete; Proxima's observed b and c keep their zones clear.
    assert!(a.iter().find(|s| s.main_id == "Sol").unwrap().planets.is_empty());
    let proxima = a.iter().find(|s| s.main_id == "Proxima Centauri").unwrap();
    assert_eq!(proxima.observed_zones.len(), 2);
}

#[test]
fn map_asset_of_the_real_neighbourhood() {
    use exomaps_domain::asset::{self, AssetSystem};
    use exomaps_domain::inference::{InferenceConfig, StarInput, infer_system};
    let Some(c) = build("SIMBAD_03.csv", "EXOPLANETS_01x.csv") else { return };
    let cfg = InferenceConfig { world_seed: 42 };
    let systems: Vec<AssetSystem> = c
        .stars
        .iter()
        .filter(|s| s.distance_pc.is_some_and(|d| d * LY_PER_PC <= 110.0))
        .filter_map(|s| AssetSystem::from_canon(s, Some(&infer_system(&StarInput::from_canon(s), &cfg))))
        .collect();
    let e = asset::encode(&systems, 1);
    eprintln!(
        "real map asset: {} systems, map part {} bytes, names part {} bytes",
        systems.len(),
        e.map.len(),
        e.names.len()
    );
    assert!(e.map.len() + e.names.len() < 6 * 1024 * 1024 / 4);
    let decoded = asset::decode(&e.map, Some(&e.names)).unwrap();
    assert_eq!(decoded.systems.len(), systems.len());
    let proxima = decoded.systems.iter().find(|s| s.main_id == "Proxima Centauri").unwrap();
    assert_eq!(
        (proxima.observed_planets, proxima.class_code, proxima.flags & asset::FLAG_CURATED),
        (2, SpectralClass::M.code(), asset::FLAG_CURATED)
    );
    // Issue 12: catalogue aliases (`V* V645 Cen`, …) are searched on the server; the asset
    // carries a display name at most.
    assert!(proxima.aliases.iter().all(|a| a.starts_with("NAME ")), "{:?}", proxima.aliases);
    assert!(decoded.systems.iter().all(|s| s.aliases.len() <= 1));
    assert!(proxima.flags & asset::FLAG_HZ_PLANET != 0, "Proxima b is in the conservative HZ");
    // Brightness: a magnitude for every classified star; Proxima far fainter than the Sun.
    let mag = |s: &asset::DecodedSystem| asset::abs_mag_of(s.abs_mag);
    assert!(decoded.systems.iter().filter(|s| s.class_code != asset::CLASS_UNKNOWN).all(|s| mag(s).is_some()));
    let sol = decoded.systems.iter().find(|s| s.main_id == "Sol").unwrap();
    assert!(mag(proxima).unwrap() > mag(sol).unwrap() + 8.0, "{:?} vs {:?}", mag(proxima), mag(sol));
    assert_eq!((sol.x_pc, sol.distance_ly, sol.observed_planets), (0.0, 0.0, 8));
}

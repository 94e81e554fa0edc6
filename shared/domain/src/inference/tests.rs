//! Unit tests of the Phase 03 engine.

use super::*;
use sha2::{Digest, Sha256};

fn star(
    main_id: &str,
    class: Option<SpectralClass>,
    teff: Option<f64>,
    lum: Option<f64>,
    mass: Option<f64>,
) -> StarInput {
    StarInput {
        main_id: main_id.to_string(),
        spectral_class: class,
        spectral_subclass: None,
        kind: StellarKind::Normal,
        teff_k: teff,
        luminosity_lsun: lum,
        mass_msun: mass,
        radius_rsun: None,
        metallicity_feh: None,
        observed: Vec::new(),
        complete: false,
    }
}

fn observed(name: &str, a: f64, m: Option<f64>) -> ObservedPlanet {
    ObservedPlanet {
        name: name.into(),
        semi_major_axis_au: Some(a),
        orbital_period_days: None,
        eccentricity: Some(0.05),
        mass_earth: m,
        radius_earth: None,
    }
}

/// A synthetic population covering every class, unknown stars, metallicities and observed
/// planets.
fn population(n: usize) -> Vec<StarInput> {
    let classes = [
        Some(SpectralClass::F),
        Some(SpectralClass::G),
        Some(SpectralClass::K),
        Some(SpectralClass::M),
        Some(SpectralClass::A),
        Some(SpectralClass::L),
        None,
    ];
    (0..n)
        .map(|i| {
            let mut s = star(&format!("Star {i}"), classes[i % classes.len()], None, None, None);
            s.metallicity_feh = Some(((i % 9) as f64 - 4.0) * 0.1);
            if i % 5 == 0 {
                s.observed.push(observed(&format!("Star {i} b"), 0.05 + (i % 7) as f64 * 0.3, Some(300.0)));
            }
            if i % 10 == 0 {
                s.observed.push(observed(&format!("Star {i} c"), 2.0 + (i % 3) as f64, None));
            }
            s
        })
        .collect()
}

fn hash(out: &[SystemInference]) -> String {
    let json = serde_json::to_vec(out).unwrap();
    Sha256::digest(&json).iter().map(|b| format!("{b:02x}")).collect()
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

#[test]
fn golden_sol_like_habitable_zone_and_frost_line() {
    let hz = habitable_zone(5780.0, 1.0);
    assert!(close(hz.conservative_inner_au, 1.0 / 1.0512f64.sqrt(), 1e-12)); // 0.9753
    assert!(close(hz.conservative_outer_au, 1.0 / 0.3438f64.sqrt(), 1e-12)); // 1.7055
    assert!(close(hz.optimistic_inner_au, 1.0 / 1.7753f64.sqrt(), 1e-12)); // 0.7505
    assert!(close(hz.optimistic_outer_au, 1.0 / 0.3179f64.sqrt(), 1e-12)); // 1.7736
    assert!(close(hz.conservative_inner_au, 0.975, 1e-3) && close(hz.conservative_outer_au, 1.706, 1e-3));
    assert!(close(frost_line_au(1.0), 2.7, 1e-12));
    // The Sun itself (5772 K): within a hair of the 5780 K values.
    let sun = habitable_zone(5772.0, 1.0);
    assert!(close(sun.conservative_inner_au, 0.9758, 5e-4), "{sun:?}");
}

#[test]
fn golden_m_dwarf_habitable_zone() {
    // Proxima-like: 3050 K, 0.0017 L☉.
    let t: f64 = 3050.0 - 5780.0;
    let s = |s0: f64, a: f64, b: f64, c: f64, d: f64| s0 + a * t + b * t * t + c * t.powi(3) + d * t.powi(4);
    let s_in = s(1.0512, 1.3242e-4, 1.5418e-8, -7.9895e-12, -1.8328e-15);
    let s_out = s(0.3438, 5.8942e-5, 1.6558e-9, -3.0045e-12, -5.2983e-16);
    let hz = habitable_zone(3050.0, 0.0017);
    assert!(close(hz.conservative_inner_au, (0.0017 / s_in).sqrt(), 1e-12));
    assert!(close(hz.conservative_outer_au, (0.0017 / s_out).sqrt(), 1e-12));
    assert!(close(hz.conservative_inner_au, 0.04432, 1e-4) && close(hz.conservative_outer_au, 0.08655, 1e-4), "{hz:?}");
    // Anglada-Escudé et al. (2016) give 0.0423–0.0816 AU for Proxima (3050 K, 0.00155 L☉)
    // with these limits; Proxima b (0.0485 AU) lies inside.
    let lit = habitable_zone(3050.0, 0.00155);
    assert!(
        close(lit.conservative_inner_au, 0.0423, 5e-4) && close(lit.conservative_outer_au, 0.0816, 1.5e-3),
        "{lit:?}"
    );
    assert!((hz.conservative_inner_au..hz.conservative_outer_au).contains(&0.0485));
    assert!(close(frost_line_au(0.0017), 2.7 * 0.0017f64.sqrt(), 1e-12)); // 0.111 AU
}

#[test]
fn teff_is_clamped_before_the_polynomial() {
    assert_eq!(habitable_zone(2000.0, 0.01), habitable_zone(2600.0, 0.01));
    assert_eq!(habitable_zone(9940.0, 25.4), habitable_zone(7200.0, 25.4));
    assert_eq!(habitable_zone(2000.0, 0.01).teff_used_k, 2600.0);
    // Within the range the HZ moves outward with Teff at fixed L (lower S_eff for cooler stars).
    assert!(habitable_zone(3000.0, 1.0).conservative_inner_au > habitable_zone(6000.0, 1.0).conservative_inner_au);
}

#[test]
fn kepler_iii_uses_the_stellar_mass() {
    assert!(close(orbital_period_days(1.0, 1.0), 365.25, 1e-12));
    assert!(close(orbital_period_days(1.0, 0.25), 730.5, 1e-9));
    assert!(close(semi_major_axis_au(orbital_period_days(0.7, 0.3), 0.3), 0.7, 1e-12));
    let mut s = star("Heavy", Some(SpectralClass::F), Some(6500.0), Some(3.0), Some(1.44));
    s.metallicity_feh = Some(0.3);
    for seed in 0..20 {
        for p in infer_system(&s, &InferenceConfig { world_seed: seed }).planets {
            assert!(close(p.orbital_period_days, 365.25 * p.semi_major_axis_au.powf(1.5) / 1.2, 1e-6));
        }
    }
}

#[test]
fn equilibrium_temperature() {
    assert!(close(equilibrium_temp_k(1.0, 1.0), 278.5 * 0.7f64.powf(0.25), 1e-9)); // ≈ 254.7 K
    assert!(close(equilibrium_temp_k(16.0, 4.0), equilibrium_temp_k(1.0, 1.0), 1e-9));
}

#[test]
fn same_seed_same_output_other_seed_differs() {
    let stars = population(120);
    let a = infer_world(&stars, &InferenceConfig { world_seed: 42 });
    let b = infer_world(&stars, &InferenceConfig { world_seed: 42 });
    let c = infer_world(&stars, &InferenceConfig { world_seed: 43 });
    assert_eq!(hash(&a), hash(&b));
    assert_ne!(hash(&a), hash(&c));
    let planets = |o: &[SystemInference]| o.iter().map(|s| s.planets.len()).sum::<usize>();
    assert!(planets(&a) > 50, "{}", planets(&a));
    assert_ne!(
        a.iter().map(|s| s.inference_seed).collect::<Vec<_>>(),
        c.iter().map(|s| s.inference_seed).collect::<Vec<_>>()
    );
}

#[test]
fn order_of_stars_does_not_matter() {
    let stars = population(60);
    let cfg = InferenceConfig { world_seed: 7 };
    let forward = infer_world(&stars, &cfg);
    let mut reversed_in = stars.clone();
    reversed_in.reverse();
    let mut reversed = infer_world(&reversed_in, &cfg);
    reversed.reverse();
    assert_eq!(hash(&forward), hash(&reversed));
    // One star alone gives the same result as inside the world.
    assert_eq!(infer_system(&stars[17], &cfg), forward[17]);
}

#[test]
fn every_pair_is_hill_stable_and_observed_zones_are_kept_clear() {
    let stars = population(400);
    let mut checked = 0;
    for seed in [1, 2] {
        for (s, out) in stars.iter().zip(infer_world(&stars, &InferenceConfig { world_seed: seed })) {
            let mass = out.star.mass_msun;
            let mut orbits: Vec<(Orbit, bool)> = out.observed_zones.iter().map(|z| (z.orbit, false)).collect();
            orbits.extend(
                out.planets
                    .iter()
                    .map(|p| (Orbit { a_au: p.semi_major_axis_au, e: p.eccentricity, mass_earth: p.mass_earth }, true)),
            );
            orbits.sort_by(|x, y| x.0.a_au.total_cmp(&y.0.a_au));
            for w in orbits.windows(2) {
                if w[0].1 || w[1].1 {
                    assert!(pair_is_stable(&w[0].0, &w[1].0, mass), "{}: {:?}", s.main_id, w);
                    checked += 1;
                }
            }
            for p in &out.planets {
                for z in &out.observed_zones {
                    let (lo, hi) =
                        (p.semi_major_axis_au * (1.0 - p.eccentricity), p.semi_major_axis_au * (1.0 + p.eccentricity));
                    assert!(
                        hi < z.inner_au || lo > z.outer_au,
                        "{} inside the zone of {}",
                        p.planet_name,
                        z.planet_name
                    );
                }
            }
            assert_eq!(out.observed_zones.len(), s.observed.len(), "every observed planet has an orbit here");
        }
    }
    assert!(checked > 500, "{checked}");
}

#[test]
fn inferred_planets_fill_gaps_and_never_take_observed_names() {
    let mut s = star("Host", Some(SpectralClass::G), Some(5700.0), Some(0.9), Some(0.95));
    s.observed = vec![observed("Host b", 0.05, Some(150.0)), observed("Host c", 1.2, Some(10.0))];
    let mut inferred_any = 0;
    for seed in 0..30 {
        let out = infer_system(&s, &InferenceConfig { world_seed: seed });
        for p in &out.planets {
            assert!(!p.planet_name.starts_with("Host b ") && !p.planet_name.starts_with("Host c "));
            assert!(p.planet_name.ends_with(" (inferred)"));
            assert_eq!((p.planet_status, p.mass_source, p.method), ("Inferred", "inferred", PLANET_METHOD));
            assert_eq!(p.inference_version, INFERENCE_VERSION);
            assert_eq!(p.inference_seed, out.inference_seed);
        }
        inferred_any += out.planets.len();
        assert_eq!(out.observed_zones.len(), 2);
    }
    assert!(inferred_any > 0, "a system with observed planets still gets its gaps filled");
}

#[test]
fn complete_and_remnant_systems() {
    let mut sol = star("Sol", Some(SpectralClass::G), Some(5772.0), Some(1.0), Some(1.0));
    sol.complete = true;
    let out = infer_system(&sol, &InferenceConfig { world_seed: 1 });
    assert!(out.planets.is_empty() && out.belts.is_empty() && out.moons.is_empty());
    assert_eq!(out.notes, ["complete_system"]);
    let mut wd = star("WD 1", Some(SpectralClass::D), Some(25_200.0), Some(0.056), Some(1.018));
    wd.kind = StellarKind::WhiteDwarf;
    for seed in 0..20 {
        assert!(infer_system(&wd, &InferenceConfig { world_seed: seed }).planets.is_empty());
    }
    let mut psr = star("PSR 1", None, None, None, None);
    psr.kind = StellarKind::Pulsar;
    assert!(infer_system(&psr, &InferenceConfig { world_seed: 3 }).planets.is_empty());
}

#[test]
fn stellar_parameters_and_assumptions() {
    let p = stellar_params(&star("X", None, None, None, None));
    assert_eq!((p.spectral_class, p.class_assumed, p.teff_assumed), (Some(SpectralClass::M), true, true));
    assert!(p.mass_assumed && p.luminosity_assumed && p.metallicity_assumed);
    assert!(p.mass_msun > 0.1 && p.mass_msun < 0.3, "{p:?}");
    let p = stellar_params(&star("Y", None, Some(5800.0), None, None));
    assert_eq!((p.spectral_class, p.class_assumed, p.teff_assumed), (Some(SpectralClass::G), false, false));
    assert!(close(p.mass_msun, 1.0, 0.05) && close(p.luminosity_lsun, 1.0, 0.15), "{p:?}");
    let mut bd = star("BD", None, None, None, None);
    bd.kind = StellarKind::BrownDwarf;
    assert_eq!(stellar_params(&bd).spectral_class, Some(SpectralClass::L));
    let mut r = star("R", Some(SpectralClass::K), Some(5000.0), None, Some(0.8));
    r.radius_rsun = Some(0.8);
    let p = stellar_params(&r);
    assert!(!p.luminosity_assumed && close(p.luminosity_lsun, 0.64 * (5000.0f64 / 5772.0).powi(4), 1e-12));
    assert!(!p.mass_assumed);
    // Main-sequence table: monotonic.
    let mut last = (0.0, 0.0);
    for t in (500..41_000).step_by(250) {
        let (m, l) = main_sequence_from_teff(f64::from(t));
        assert!(m > last.0 && l > last.1, "{t}: {m} {l} after {last:?}");
        last = (m, l);
    }
    let (m, l) = main_sequence_from_teff(5770.0);
    assert!(close(m, 1.0, 1e-9) && close(l, 1.0, 1e-9));
}

#[test]
fn confidence_follows_type_and_assumptions() {
    let mut rich = star("Rich", Some(SpectralClass::G), Some(5800.0), Some(1.0), Some(1.0));
    rich.metallicity_feh = Some(0.3);
    let mut seen_medium = false;
    for seed in 0..200 {
        for p in infer_system(&rich, &InferenceConfig { world_seed: seed }).planets {
            let want = match p.planet_type {
                "terrestrial-habitable" => Confidence::Low,
                "gas-giant" => Confidence::Medium,
                _ => Confidence::VeryLow,
            };
            assert_eq!(p.confidence, want, "{p:?}");
            seen_medium |= p.confidence == Confidence::Medium;
            assert_eq!(p.in_hz, p.planet_type == "terrestrial-habitable");
        }
    }
    assert!(seen_medium);
    for seed in 0..50 {
        for p in infer_system(&star("Unknown", None, None, None, None), &InferenceConfig { world_seed: seed }).planets {
            assert!(p.confidence <= Confidence::Low, "assumed parameters lower confidence");
        }
    }
    assert_eq!(serde_json::to_value(Confidence::VeryLow).unwrap(), "very-low");
    assert_eq!(Confidence::Medium.as_str(), "medium");
}

#[test]
fn belts_and_moons_are_consistent() {
    let stars = population(200);
    let outs = infer_world(&stars, &InferenceConfig { world_seed: 11 });
    let (mut belts, mut moons) = (0, 0);
    for out in &outs {
        let orbits: Vec<f64> = out
            .observed_zones
            .iter()
            .map(|z| z.orbit.a_au)
            .chain(out.planets.iter().map(|p| p.semi_major_axis_au))
            .collect();
        for b in &out.belts {
            assert!(b.inner_radius_au < b.outer_radius_au);
            assert!(!orbits.iter().any(|a| (b.inner_radius_au..=b.outer_radius_au).contains(a)), "{b:?}");
            assert!(b.belt_id.starts_with(&format!("inferred_{}_belt_", out.main_id)));
            belts += 1;
        }
        for m in &out.moons {
            let parent_a = out
                .planets
                .iter()
                .find(|p| p.planet_name == m.parent_planet)
                .map(|p| (p.semi_major_axis_au, p.mass_earth))
                .or_else(|| {
                    out.observed_zones
                        .iter()
                        .find(|z| z.planet_name == m.parent_planet)
                        .map(|z| (z.orbit.a_au, z.orbit.mass_earth))
                })
                .expect("moon parent exists");
            let hill = parent_a.0 * (parent_a.1 * 3.003e-6 / (3.0 * out.star.mass_msun)).cbrt();
            assert!(m.orbital_radius_au < 0.5 * hill);
            assert!(m.moon_name.starts_with(&m.parent_planet));
            moons += 1;
        }
    }
    assert!(belts > 10 && moons > 50, "{belts} {moons}");
    assert_eq!(moon_suffix(0), "a");
    assert_eq!(moon_suffix(25), "z");
    assert_eq!(moon_suffix(26), "aa");
    assert_eq!(planet_letter("Proxima Centauri b"), Some('b'));
    assert_eq!(planet_letter("Luhman 16 A"), None);
}

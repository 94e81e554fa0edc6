//! The golden map asset the SPA's TypeScript decoder is tested against
//! (`spa/tests/unit/asset.test.ts`): this test encodes a small, awkward set of systems with the
//! reference encoder and checks that `spa/tests/fixtures/golden.exmp` and the expected decoding
//! `golden.json` are current (the names part: `golden.names`). `EXOMAPS_UPDATE_GOLDEN=1` rewrites them.

use exomaps_domain::asset::{AssetSystem, decode, encode};
use exomaps_domain::spectral::SpectralClass;
use serde_json::json;
use std::path::PathBuf;

fn system(main_id: &str, xyz: [f32; 3], class: Option<SpectralClass>, aliases: &[&str]) -> AssetSystem {
    AssetSystem {
        main_id: main_id.into(),
        x_pc: xyz[0],
        y_pc: xyz[1],
        z_pc: xyz[2],
        distance_ly: (xyz[0] * xyz[0] + xyz[1] * xyz[1] + xyz[2] * xyz[2]).sqrt() * 3.26156,
        class,
        abs_mag: None,
        multiplicity: 1,
        observed_planets: 0,
        inferred_planets: 0,
        curated: false,
        hz_planet: false,
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
    }
}

fn golden_systems() -> Vec<AssetSystem> {
    let mut sol = system("Sol", [0.0, 0.0, 0.0], Some(SpectralClass::G), &["Sun", "The Sun"]);
    sol.observed_planets = 8;
    sol.curated = true;
    sol.hz_planet = true;
    sol.abs_mag = Some(4.83);
    let mut proxima = system(
        "V* V645 Cen",
        [-0.474_248, -0.362_97, -1.156_055],
        Some(SpectralClass::M),
        &["NAME Proxima Centauri", "GJ 551", "HIP 70890"],
    );
    proxima.observed_planets = 2;
    proxima.inferred_planets = 3;
    proxima.hz_planet = true;
    proxima.abs_mag = Some(15.5);
    let mut sirius =
        system("* alf CMa", [-0.494_3, 2.476_3, -0.758_5], Some(SpectralClass::A), &["Sirius", "Sirius A"]);
    sirius.multiplicity = 2;
    sirius.abs_mag = Some(1.42);
    let wd = system("* alf CMa B", [-0.494_4, 2.476_2, -0.758_6], Some(SpectralClass::D), &["Sirius B", "tab\there"]);
    let unknown = system("Ross 128 \u{3b5} \u{1F30C}", [1e-7, -33.5, 12.25], None, &[]);
    let mut busy = system("HD 10180", [-12.0, 7.5, -30.0], Some(SpectralClass::G), &["", "line\nbreak"]);
    busy.observed_planets = 65_535;
    busy.inferred_planets = 1;
    busy.multiplicity = 7;
    busy.abs_mag = Some(-7.0); // clamps to −5
    vec![sol, proxima, sirius, wd, unknown, busy]
}

#[test]
fn golden_asset_for_the_spa_is_current() {
    let systems = golden_systems();
    let build_id = (1u64 << 40) + 7; // above 2^32: the high word matters
    let e = encode(&systems, build_id);
    let decoded = decode(&e.map, Some(&e.names)).expect("reference decoder reads its own output");
    let expected = json!({
        "version": decoded.version,
        "world_build_id": decoded.world_build_id,
        "unit_pc": f64::from(decoded.unit_pc),
        "systems": decoded.systems.iter().map(|s| json!({
            "main_id": s.main_id,
            // f32 → f64 is exact: the TS decoder must produce these very numbers.
            "x": f64::from(s.x_pc), "y": f64::from(s.y_pc), "z": f64::from(s.z_pc),
            "distance_ly": f64::from(s.distance_ly),
            "class_code": s.class_code, "abs_mag": s.abs_mag, "multiplicity": s.multiplicity,
            "observed_planets": s.observed_planets, "inferred_planets": s.inferred_planets,
            "flags": s.flags, "aliases": s.aliases,
        })).collect::<Vec<_>>(),
    });
    let expected = serde_json::to_string_pretty(&expected).unwrap() + "\n";
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../spa/tests/fixtures");
    let (bin, names, js) = (dir.join("golden.exmp"), dir.join("golden.names"), dir.join("golden.json"));
    if std::env::var("EXOMAPS_UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(&bin, &e.map).unwrap();
        std::fs::write(&names, &e.names).unwrap();
        std::fs::write(&js, &expected).unwrap();
    }
    let hint = "stale: run `EXOMAPS_UPDATE_GOLDEN=1 cargo test -p exomaps-domain --test asset_golden` and commit";
    assert_eq!(std::fs::read(&bin).unwrap_or_default(), e.map, "{} {hint}", bin.display());
    assert_eq!(std::fs::read(&names).unwrap_or_default(), e.names, "{} {hint}", names.display());
    assert_eq!(std::fs::read_to_string(&js).unwrap_or_default(), expected, "{} {hint}", js.display());
}

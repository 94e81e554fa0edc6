//! `GET /api/system/{id}`: one system of the active world build — the star, its aliases,
//! observed and inferred planets, belts and moons, habitable zone, review flags and lineage
//! (source file, row, checksum, run). `id` is the main_id or any alias.

use crate::error::ApiError;
use crate::request::{ApiRequest, ApiResponse, ok_json};
use crate::state::AppState;
use exomaps_domain::canon::{
    CanonFlag, CanonPlanet, CanonStar, ClassSource, DistanceMeasurement, DistanceSource, Provenance,
};
use exomaps_domain::names::{alias_key, search_key};
use exomaps_domain::spectral::{SpectralClass, StellarKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

// The handler reads the canonical record as the domain's `CanonStar` (never by string key) and
// answers this type; `#[schema(ignore)]` marks the fields the SPA does not read.
/// `GET /api/system/{id}` answer, as the SPA reads it (the handler builds it from the
/// canonical star and its inference; `tests/tests/openapi_shapes.rs` checks the real answer
/// parses as this). Fields the SPA does not read are left out of the schema.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct SystemDetail {
    pub system: SystemFacts,
    pub aliases: Vec<String>,
    pub planets: SystemPlanets,
    // The inferred belts as the inference engine stored them.
    #[schema(value_type = Vec<Belt>)]
    pub belts: Vec<Value>,
    #[serde(default)]
    #[schema(ignore)]
    pub moons: Vec<Value>,
    #[schema(value_type = Option<HabitableZone>)]
    pub habitable_zone: Value,
    pub frost_line_au: Option<f64>,
    #[serde(default)]
    #[schema(ignore)]
    pub inference: InferenceTags,
    #[serde(default)]
    #[schema(ignore)]
    pub flags: Vec<CanonFlag>,
    /// One entry per source row the star came from.
    pub lineage: Vec<Lineage>,
    /// Every distance measurement, the adopted one first.
    #[serde(default)]
    #[schema(value_type = Vec<DistanceEntry>)]
    pub distances: Vec<DistanceMeasurement>,
    pub world_build_id: i64,
    /// `https://simbad.u-strasbg.fr/simbad/sim-id?Ident=<SIMBAD id>`.
    pub simbad_url: String,
}

/// Which inference produced a system's inferred bodies.
#[derive(Serialize, Deserialize, Default)]
pub struct InferenceTags {
    pub version: Value,
    pub seed: Value,
    pub notes: Value,
}

/// One distance measurement of a star with its source.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct DistanceEntry {
    /// `curated`, `simbad`, `exoplanet_catalogue`, `hipparcos`.
    pub provenance: String,
    pub distance_pc: f64,
    /// 1σ in pc when the source gives one (a parallax).
    #[serde(default)]
    pub uncertainty_pc: Option<f64>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct SystemFacts {
    pub main_id: String,
    pub ra_deg: Option<f64>,
    pub dec_deg: Option<f64>,
    pub distance_ly: Option<f64>,
    pub distance_pc: Option<f64>,
    #[schema(value_type = Option<String>)]
    pub distance_source: Option<DistanceSource>,
    pub x_pc: Option<f64>,
    pub y_pc: Option<f64>,
    pub z_pc: Option<f64>,
    #[serde(default)]
    #[schema(ignore)]
    pub in_scope: bool,
    pub spectral_type: Option<String>,
    #[schema(value_type = Option<String>)]
    pub spectral_class: Option<SpectralClass>,
    #[serde(default)]
    #[schema(ignore)]
    pub class_source: Option<ClassSource>,
    #[serde(default)]
    #[schema(ignore)]
    pub kind: Option<StellarKind>,
    pub teff_k: Option<f64>,
    pub luminosity_lsun: Option<f64>,
    #[serde(default)]
    #[schema(ignore)]
    pub mass_msun: Option<f64>,
    #[serde(default)]
    #[schema(ignore)]
    pub radius_rsun: Option<f64>,
    #[serde(default)]
    #[schema(ignore)]
    pub metallicity_feh: Option<f64>,
    pub multiplicity: Option<i64>,
    #[serde(default)]
    #[schema(ignore)]
    pub group: Option<String>,
    #[serde(default)]
    #[schema(ignore)]
    pub provenance: Option<Provenance>,
    #[serde(default)]
    #[schema(ignore)]
    pub otype: Option<String>,
    /// Proper name or common designation (`Vega`, `τ Cet`), when the star has one.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Hipparcos Hp magnitude.
    #[serde(default)]
    pub hp_mag: Option<f64>,
    #[serde(default)]
    #[schema(ignore)]
    pub b_v: Option<f64>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct SystemPlanets {
    // The canonical record's planets.
    #[schema(value_type = Vec<Planet>)]
    pub observed: Vec<CanonPlanet>,
    // The inferred planets as the inference engine stored them.
    #[schema(value_type = Vec<Planet>)]
    pub inferred: Vec<Value>,
}

/// An observed or inferred planet (inferred ones carry `in_hz`, `confidence` and `method`).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Planet {
    pub planet_name: String,
    pub planet_status: Option<String>,
    pub mass_earth: Option<f64>,
    pub radius_earth: Option<f64>,
    pub semi_major_axis_au: Option<f64>,
    pub orbital_period_days: Option<f64>,
    pub eccentricity: Option<f64>,
    pub detection_type: Option<String>,
    pub discovered: Option<i64>,
    #[serde(default)]
    pub in_hz: Option<bool>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub confidence: Option<serde_json::Value>,
    #[serde(default)]
    pub method: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Belt {
    pub belt_type: String,
    pub inner_radius_au: f64,
    pub outer_radius_au: f64,
    #[schema(value_type = String)]
    pub confidence: serde_json::Value,
    pub method: String,
}

/// Habitable-zone bounds in AU (conservative and optimistic).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct HabitableZone {
    pub conservative_inner_au: f64,
    pub conservative_outer_au: f64,
    pub optimistic_inner_au: f64,
    pub optimistic_outer_au: f64,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Lineage {
    /// `curated`, `simbad`, `exoplanet_catalogue`, `hipparcos`, `star_names`.
    #[schema(value_type = Option<String>)]
    pub provenance: Option<Provenance>,
    #[serde(default)]
    #[schema(ignore)]
    pub object_id: Option<String>,
    /// How the source was matched to the star (`identifier HIP 91262`, `position 0.4″ at J2000`).
    #[serde(default)]
    pub matched_by: Option<String>,
    pub row_number: Option<i64>,
    pub source_name: Option<String>,
    pub file_checksum_sha256: Option<String>,
    pub run_id: Option<Uuid>,
}

fn simbad_url(id: &str) -> String {
    format!("https://simbad.u-strasbg.fr/simbad/sim-id?Ident={}", crate::text::encode_component(id))
}

pub async fn detail(state: AppState, req: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = req.path_params.get("id").map(|s| s.trim()).unwrap_or("");
    if id.is_empty() || id.len() > 200 {
        return Err(ApiError::bad_request("give a system name or alias (1–200 characters)"));
    }
    let store = state.store()?;
    let Some(build) = store.active_world_build().await? else {
        return Err(ApiError::not_found("no world build has been published yet"));
    };
    let mut row = store.system_detail(build.world_build_id, id, &alias_key(id)).await?;
    // Any spelling of a name (`Tau Ceti`, `τ Ceti`, `Gliese 581`, `barnards star`): the same
    // folded key search uses, exact only.
    if row.is_none()
        && let Some(main_id) = store.main_id_by_search_key(build.world_build_id, &search_key(id)).await?
    {
        row = store.system_detail(build.world_build_id, &main_id, &alias_key(&main_id)).await?;
    }
    let row = row.ok_or_else(|| ApiError::not_found(format!("no system named {id:?}")))?;
    let canon: CanonStar = serde_json::from_value(row.canon.0).map_err(|e| {
        tracing::error!(main_id = %row.main_id, error = %e, "canonical record does not read as CanonStar");
        ApiError::internal()
    })?;
    let inference: StoredInference = match row.inference {
        Some(j) => serde_json::from_value(j.0).map_err(|e| {
            tracing::error!(main_id = %row.main_id, error = %e, "inference record does not read");
            ApiError::internal()
        })?,
        None => StoredInference::default(),
    };
    let files = store.build_source_files(build.world_build_id).await?;
    let lineage: Vec<Lineage> = canon
        .sources
        .iter()
        .map(|src| {
            let family = match src.provenance {
                Provenance::Simbad => Some("SIMBAD"),
                Provenance::ExoplanetCatalogue => Some("EXOPLANETS"),
                Provenance::Hipparcos => Some("HIPPARCOS"),
                Provenance::StarNames => Some("NAMES"),
                Provenance::Curated => None,
            };
            let file = family.and_then(|f| files.iter().find(|(fam, ..)| fam == f));
            Lineage {
                provenance: Some(src.provenance),
                object_id: Some(src.object_id.clone()),
                row_number: src.line.map(i64::from),
                matched_by: src.matched_by.clone(),
                source_name: file.map(|f| f.1.clone()),
                file_checksum_sha256: file.map(|f| f.2.clone()),
                run_id: file.map(|f| f.3),
            }
        })
        .collect();
    // SIMBAD knows stars by their SIMBAD identifier: prefer one from a SIMBAD source.
    let simbad_id = canon
        .aliases
        .iter()
        .find(|a| a.text.starts_with("NAME ") || a.text.starts_with("* "))
        .map_or(row.main_id.as_str(), |a| a.text.as_str())
        .to_string();
    let distance_ly = row.distance_ly.or_else(|| canon.distance_pc.map(exomaps_domain::units::pc_to_ly));
    let system = SystemFacts {
        main_id: row.main_id.clone(),
        ra_deg: canon.ra_deg,
        dec_deg: canon.dec_deg,
        distance_pc: canon.distance_pc,
        distance_ly,
        distance_source: canon.distance_source,
        x_pc: row.x_pc,
        y_pc: row.y_pc,
        z_pc: row.z_pc,
        in_scope: row.in_scope.unwrap_or(false),
        spectral_type: canon.spectral_type,
        spectral_class: canon.spectral_class,
        class_source: canon.class_source,
        kind: Some(canon.kind),
        teff_k: canon.teff_k,
        luminosity_lsun: canon.luminosity_lsun,
        mass_msun: canon.mass_msun,
        radius_rsun: canon.radius_rsun,
        metallicity_feh: canon.metallicity_feh,
        multiplicity: Some(i64::from(canon.multiplicity)),
        group: canon.group,
        provenance: Some(canon.provenance),
        otype: canon.otype,
        display_name: canon.display_name,
        hp_mag: canon.hp_mag,
        b_v: canon.b_v,
    };
    Ok(ok_json(&SystemDetail {
        system,
        aliases: canon.aliases.into_iter().map(|a| a.text).collect(),
        planets: SystemPlanets { observed: canon.planets, inferred: inference.planets },
        belts: inference.belts,
        moons: inference.moons,
        habitable_zone: inference.habitable_zone,
        frost_line_au: inference.frost_line_au,
        inference: InferenceTags {
            version: inference.inference_version,
            seed: inference.inference_seed,
            notes: inference.notes,
        },
        flags: canon.flags,
        distances: canon.distances,
        lineage,
        world_build_id: build.world_build_id,
        simbad_url: simbad_url(&simbad_id),
    }))
}

/// The stored inference of a system (`exomaps_domain::inference::SystemInference`, as written),
/// read for the fields the answer carries.
#[derive(Deserialize, Default)]
struct StoredInference {
    #[serde(default)]
    inference_version: Value,
    #[serde(default)]
    inference_seed: Value,
    #[serde(default)]
    notes: Value,
    #[serde(default)]
    planets: Vec<Value>,
    #[serde(default)]
    belts: Vec<Value>,
    #[serde(default)]
    moons: Vec<Value>,
    #[serde(default)]
    habitable_zone: Value,
    #[serde(default)]
    frost_line_au: Option<f64>,
}

#[cfg(test)]
mod tests {
    #[test]
    fn simbad_links_are_percent_encoded() {
        assert_eq!(
            super::simbad_url("NAME Barnard's star"),
            "https://simbad.u-strasbg.fr/simbad/sim-id?Ident=NAME%20Barnard%27s%20star"
        );
    }
}

//! `GET /api/system/{id}`: one system of the active world build — the star, its aliases,
//! observed and inferred planets, belts and moons, habitable zone, review flags and lineage
//! (source file, row, checksum, run). `id` is the main_id or any alias.

use crate::request::{ApiRequest, ApiResponse, ok_json};
use crate::{ApiError, AppState};
use exomaps_domain::names::{alias_key, search_key};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

/// `GET /api/system/{id}` answer, as the SPA reads it (the handler builds it from the
/// canonical star and its inference; `tests/tests/openapi_shapes.rs` checks the real answer
/// parses as this). Fields the SPA does not read are left out of the schema.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct SystemDetail {
    pub system: SystemFacts,
    pub aliases: Vec<String>,
    pub planets: SystemPlanets,
    pub belts: Vec<Belt>,
    pub habitable_zone: Option<HabitableZone>,
    pub frost_line_au: Option<f64>,
    /// One entry per source row the star came from.
    pub lineage: Vec<Lineage>,
    /// Every distance measurement, the adopted one first.
    #[serde(default)]
    pub distances: Vec<DistanceEntry>,
    pub world_build_id: i64,
    /// `https://simbad.u-strasbg.fr/simbad/sim-id?Ident=<SIMBAD id>`.
    pub simbad_url: String,
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
    pub distance_source: Option<String>,
    pub x_pc: Option<f64>,
    pub y_pc: Option<f64>,
    pub z_pc: Option<f64>,
    pub spectral_type: Option<String>,
    pub spectral_class: Option<String>,
    pub teff_k: Option<f64>,
    pub luminosity_lsun: Option<f64>,
    pub multiplicity: Option<i64>,
    /// Proper name or common designation (`Vega`, `τ Cet`), when the star has one.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Hipparcos Hp magnitude.
    #[serde(default)]
    pub hp_mag: Option<f64>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct SystemPlanets {
    pub observed: Vec<Planet>,
    pub inferred: Vec<Planet>,
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
    pub provenance: Option<String>,
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
    let canon = row.canon.0;
    let inference = row.inference.map(|j| j.0).unwrap_or(Value::Null);
    let files = store.build_source_files(build.world_build_id).await?;
    let lineage: Vec<Value> = canon["sources"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|src| {
            let family = match src["provenance"].as_str() {
                Some("simbad") => Some("SIMBAD"),
                Some("exoplanet_catalogue") => Some("EXOPLANETS"),
                Some("hipparcos") => Some("HIPPARCOS"),
                Some("star_names") => Some("NAMES"),
                _ => None,
            };
            let file = family.and_then(|f| files.iter().find(|(fam, ..)| fam == f));
            json!({
                "provenance": src["provenance"],
                "object_id": src["object_id"],
                "row_number": src["line"],
                "matched_by": src["matched_by"],
                "source_name": file.map(|f| f.1.clone()),
                "file_checksum_sha256": file.map(|f| f.2.clone()),
                "run_id": file.map(|f| f.3),
            })
        })
        .collect();
    // SIMBAD knows stars by their SIMBAD identifier: prefer one from a SIMBAD source.
    let simbad_id = canon["aliases"]
        .as_array()
        .and_then(|a| {
            a.iter().find_map(|x| x["text"].as_str().filter(|t| t.starts_with("NAME ") || t.starts_with("* ")))
        })
        .unwrap_or(row.main_id.as_str())
        .to_string();
    let aliases: Vec<&str> =
        canon["aliases"].as_array().into_iter().flatten().filter_map(|a| a["text"].as_str()).collect();
    let distance_ly = row.distance_ly.or_else(|| canon["distance_pc"].as_f64().map(exomaps_domain::units::pc_to_ly));
    let system = json!({
        "main_id": row.main_id,
        "ra_deg": canon["ra_deg"],
        "dec_deg": canon["dec_deg"],
        "distance_pc": canon["distance_pc"],
        "distance_ly": distance_ly,
        "distance_source": canon["distance_source"],
        "x_pc": row.x_pc,
        "y_pc": row.y_pc,
        "z_pc": row.z_pc,
        "in_scope": row.in_scope.unwrap_or(false),
        "spectral_type": canon["spectral_type"],
        "spectral_class": canon["spectral_class"],
        "class_source": canon["class_source"],
        "kind": canon["kind"],
        "teff_k": canon["teff_k"],
        "luminosity_lsun": canon["luminosity_lsun"],
        "mass_msun": canon["mass_msun"],
        "radius_rsun": canon["radius_rsun"],
        "metallicity_feh": canon["metallicity_feh"],
        "multiplicity": canon["multiplicity"],
        "group": canon["group"],
        "provenance": canon["provenance"],
        "otype": canon["otype"],
        "display_name": canon["display_name"],
        "hp_mag": canon["hp_mag"],
        "b_v": canon["b_v"],
    });
    Ok(ok_json(&json!({
        "system": system,
        "aliases": aliases,
        "planets": {"observed": canon["planets"], "inferred": inference["planets"].as_array().cloned().unwrap_or_default()},
        "belts": inference["belts"].as_array().cloned().unwrap_or_default(),
        "moons": inference["moons"].as_array().cloned().unwrap_or_default(),
        "habitable_zone": inference["habitable_zone"],
        "frost_line_au": inference["frost_line_au"],
        "inference": {"version": inference["inference_version"], "seed": inference["inference_seed"], "notes": inference["notes"]},
        "flags": canon["flags"],
        "distances": canon["distances"],
        "lineage": lineage,
        "world_build_id": build.world_build_id,
        "simbad_url": simbad_url(&simbad_id),
    })))
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

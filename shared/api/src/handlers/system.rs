//! `GET /api/system/{id}`: one system of the active world build — the star, its aliases,
//! observed and inferred planets, belts and moons, habitable zone, review flags and lineage
//! (source file, row, checksum, run). `id` is the main_id or any alias.

use crate::request::{ApiRequest, ApiResponse, ok_json};
use crate::{ApiError, AppState};
use exomaps_domain::names::{alias_key, search_key};
use serde_json::{Value, json};

fn simbad_url(id: &str) -> String {
    let enc: String = id
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("https://simbad.u-strasbg.fr/simbad/sim-id?Ident={enc}")
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

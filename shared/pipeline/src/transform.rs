//! Phase 02: place every staged star in ICRS Cartesian parsecs and publish the positions as
//! a new, active world build.

use crate::PhaseError;
use exomaps_domain::coords::{Icrs, Reach, Scope};
use exomaps_domain::names::{alias_key, normalise_id};
use exomaps_store::Store;
use exomaps_store::runs::PhaseStart;
use exomaps_store::transform::{PositionWrite, StagedSimbad, StarWrite, WorldBuildWrite};
use serde::Serialize;
use std::collections::HashSet;
use uuid::Uuid;

pub const PHASE: &str = "transform";

#[derive(Debug, Clone, Serialize)]
pub struct TransformOutcome {
    pub run_id: Uuid,
    pub executed: bool,
    pub world_build_id: Option<i64>,
    /// Staged rows placed from their catalogue distance.
    pub placed: usize,
    /// Staged rows without a usable distance (kept in staging, not placed).
    pub unplaced: usize,
    /// Staged rows whose normalised main_id repeats an earlier row of the run (first kept).
    pub identity_collisions: usize,
    pub in_scope: usize,
    pub in_margin: usize,
    pub beyond: usize,
}

impl TransformOutcome {
    fn new(run_id: Uuid, executed: bool, world_build_id: Option<i64>) -> TransformOutcome {
        TransformOutcome {
            run_id,
            executed,
            world_build_id,
            placed: 0,
            unplaced: 0,
            identity_collisions: 0,
            in_scope: 0,
            in_margin: 0,
            beyond: 0,
        }
    }
}

pub async fn transform(store: &Store, run_id: Uuid, scope: Scope) -> Result<TransformOutcome, PhaseError> {
    if store.start_phase(run_id, PHASE).await? == PhaseStart::AlreadyDone {
        let id = store.world_build_id_of_run(run_id).await?;
        return Ok(TransformOutcome::new(run_id, false, id));
    }
    let staged = store.staged_simbad(run_id).await?;
    let mut out = TransformOutcome::new(run_id, true, None);
    let mut seen = HashSet::new();
    let mut stars = vec![sol()];
    seen.insert(stars[0].0.main_id.clone());
    for row in &staged {
        let Some(dist) = row.dist_pc.filter(|d| d.is_finite() && *d > 0.0) else {
            out.unplaced += 1;
            continue;
        };
        if !seen.insert(row.main_id.clone()) {
            out.identity_collisions += 1;
            continue;
        }
        let pos = Icrs::from_spherical(row.ra_deg, row.dec_deg, dist);
        let reach = scope.classify_pc(dist);
        match reach {
            Reach::InScope => out.in_scope += 1,
            Reach::Margin => out.in_margin += 1,
            Reach::Beyond => out.beyond += 1,
        }
        out.placed += 1;
        stars.push((star_from_simbad(row), position(pos, "catalog_distance", None, reach)));
    }
    let build = WorldBuildWrite { scope_ly: scope.scope_ly, margin_ly: scope.margin_ly, seed: None, stars };
    let id = store.write_world_build(run_id, &build).await?;
    out.world_build_id = Some(id);
    let counts = serde_json::to_value(&out).unwrap_or_default();
    store.finish_phase(run_id, PHASE, true, &counts, None).await?;
    tracing::info!(%run_id, world_build_id = id, placed = out.placed, unplaced = out.unplaced, "transform done");
    Ok(out)
}

fn position(p: Icrs, source: &'static str, uncertainty_pc: Option<f64>, reach: Reach) -> PositionWrite {
    PositionWrite {
        x_pc: p.x_pc,
        y_pc: p.y_pc,
        z_pc: p.z_pc,
        distance_pc: p.distance_pc(),
        distance_ly: p.distance_ly(),
        distance_source: source,
        uncertainty_pc,
        in_scope: reach == Reach::InScope,
        in_margin: reach == Reach::Margin,
    }
}

/// Spectral class hint from SIMBAD object types when no spectral type exists (§11.16):
/// white dwarfs are class D. Everything else stays unknown rather than fabricated.
fn class_hint(row: &StagedSimbad) -> Option<(String, &'static str)> {
    if let Some(st) = &row.spectral_type {
        let c = st.trim().chars().next()?.to_ascii_uppercase();
        return "OBAFGKMLTYD".contains(c).then(|| (c.to_string(), "catalogue"));
    }
    let is_wd = row.otype_txt.as_deref() == Some("WD*") || row.otypes.iter().any(|t| t == "WD*");
    is_wd.then(|| ("D".to_string(), "otype_hint"))
}

fn star_from_simbad(row: &StagedSimbad) -> StarWrite {
    let mut aliases: Vec<(String, String)> = Vec::with_capacity(row.ids.len() + 1);
    let mut seen = HashSet::new();
    for text in std::iter::once(&row.main_id).chain(row.ids.iter()) {
        let text = normalise_id(text);
        let key = alias_key(&text);
        if !key.is_empty() && seen.insert(key.clone()) {
            aliases.push((key, text));
        }
    }
    let hint = class_hint(row);
    StarWrite {
        main_id: row.main_id.clone(),
        source_name: "SIMBAD".into(),
        source_object_id: Some(row.sys_id.to_string()),
        ra_deg: Some(row.ra_deg),
        dec_deg: Some(row.dec_deg),
        distance_pc: row.dist_pc,
        otype: row.otype_txt.clone(),
        otypes: row.otypes.clone(),
        spectral_type: row.spectral_type.clone(),
        spectral_class: hint.as_ref().map(|(c, _)| c.clone()),
        class_source: hint.map(|(_, s)| s.to_string()),
        multiplicity: row.multiplicity,
        source_row: Some(row.row_number),
        aliases,
    }
}

/// The Sun: curated, at the origin.
fn sol() -> (StarWrite, PositionWrite) {
    let aliases = ["Sol", "Sun", "The Sun", "Solar System"].iter().map(|a| (alias_key(a), a.to_string())).collect();
    (
        StarWrite {
            main_id: "Sol".into(),
            source_name: "CURATED".into(),
            source_object_id: None,
            ra_deg: None,
            dec_deg: None,
            distance_pc: Some(0.0),
            otype: Some("*".into()),
            otypes: vec![],
            spectral_type: Some("G2V".into()),
            spectral_class: Some("G".into()),
            class_source: Some("curated".into()),
            multiplicity: 1,
            source_row: None,
            aliases,
        },
        position(Icrs::ORIGIN, "curated", Some(0.0), Reach::InScope),
    )
}

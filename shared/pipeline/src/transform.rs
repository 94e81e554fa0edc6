//! Phase 02: place every canonical star of the run's build in heliocentric ICRS Cartesian
//! parsecs (DOMAIN.md §5.4): distance provenance, uncertainty only where it is real, scope and
//! margin shell.

use crate::PhaseError;
use exomaps_domain::canon::DistanceSource;
use exomaps_domain::canon::curated::SOL_MAIN_ID;
use exomaps_domain::coords::{Icrs, Reach, Scope};
use exomaps_store::Store;
use exomaps_store::transform::PositionWrite;
use serde::Serialize;
use uuid::Uuid;

/// Phase 02's outcome: how many stars were placed, and where.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransformOutcome {
    pub world_build_id: i64,
    /// Stars placed from their adopted distance.
    pub placed: usize,
    /// Stars without a usable position or distance (kept, not placed).
    pub unplaced: usize,
    pub in_scope: usize,
    pub in_margin: usize,
    pub beyond: usize,
}

pub async fn transform(store: &Store, run_id: Uuid, scope: Scope) -> Result<TransformOutcome, PhaseError> {
    let Some(build_id) = store.world_build_id_of_run(run_id).await? else {
        return Err(PhaseError::Rejected("no canonical build to place (canonicalise did not run)".into()));
    };
    let mut out =
        TransformOutcome { world_build_id: build_id, placed: 0, unplaced: 0, in_scope: 0, in_margin: 0, beyond: 0 };
    let stars = store.build_place_inputs(build_id).await?;
    let mut rows = Vec::with_capacity(stars.len());
    for (star_id, s) in &stars {
        let (Some(ra), Some(dec), Some(d)) = (s.ra_deg, s.dec_deg, s.distance_pc) else {
            out.unplaced += 1;
            continue;
        };
        if !(d.is_finite() && (d > 0.0 || s.main_id == SOL_MAIN_ID)) {
            out.unplaced += 1;
            continue;
        }
        let p = Icrs::from_spherical(ra, dec, d);
        let reach = scope.classify_pc(d);
        match reach {
            Reach::InScope => out.in_scope += 1,
            Reach::Margin => out.in_margin += 1,
            Reach::Beyond => out.beyond += 1,
        }
        out.placed += 1;
        let source = match s.distance_source {
            Some(DistanceSource::Parallax) => "parallax",
            Some(DistanceSource::Curated) => "curated",
            _ => "catalog_distance",
        };
        // Catalogue distances carry no σ: the uncertainty stays unknown, never 0. The Sun's
        // position is exact; a parallax (Hipparcos 2) carries its own.
        let uncertainty = if s.main_id == SOL_MAIN_ID { Some(0.0) } else { s.distance_uncertainty_pc };
        rows.push((
            *star_id,
            PositionWrite {
                x_pc: p.x_pc,
                y_pc: p.y_pc,
                z_pc: p.z_pc,
                distance_pc: p.distance_pc(),
                distance_ly: p.distance_ly(),
                distance_source: source,
                uncertainty_pc: uncertainty,
                in_scope: reach == Reach::InScope,
                in_margin: reach == Reach::Margin,
            },
        ));
    }
    store.write_positions(build_id, &rows).await?;
    tracing::info!(%run_id, world_build_id = build_id, placed = out.placed, unplaced = out.unplaced, "transform done");
    Ok(out)
}

//! Phase 04: put the build's map asset and the pointer the SPA reads first into the object
//! store, and activate the build. The chain then closes the run with the outcome's status and
//! announces it (`data.refreshed`, `run.completed`).

use crate::PhaseError;
use crate::context::PipelineContext;
use crate::messages::WorldPointer;
use exomaps_domain::hex::sha256_hex;
use exomaps_store::runs::RunStatus;
use serde::Serialize;
use std::collections::BTreeMap;
use uuid::Uuid;

/// Phase 04's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublishOutcome {
    pub world_build_id: i64,
    /// The run's final status: `warn` when a source passed its gate only with a warning.
    pub status: RunStatus,
    /// What the build holds, by table (`stars_xyz`, `build_systems`, `systems`, …).
    pub row_counts: BTreeMap<String, i64>,
    /// The map part's object key, when an object store is configured.
    pub asset_key: Option<String>,
}

/// Publishes the run's world build: the map asset's two parts and `latest.json` (written
/// last, so it never names an asset that is not there yet), then activation.
pub async fn publish(ctx: &PipelineContext, run_id: Uuid) -> Result<PublishOutcome, PhaseError> {
    let store = &ctx.store;
    let Some(build_id) = store.world_build_id_of_run(run_id).await? else {
        return Err(PhaseError::Rejected("no world build to publish".into()));
    };
    let mut asset_key = None;
    if let (Some(objects), Some((bytes, sha))) = (&ctx.objects, store.build_asset(build_id).await?) {
        // Two objects: the map part (first paint) and the names part (fetched alongside). The
        // map part is decoded once here, which checks it and counts its systems.
        let parts = exomaps_domain::asset::bundle_parts(&bytes)
            .map_err(|e| PhaseError::Rejected(format!("the build's map asset is invalid: {e}")))?;
        let key = format!("data/world/{build_id}.exmp");
        let names_key = format!("data/world/{build_id}.names");
        let pointer = WorldPointer {
            asset: format!("/{key}"),
            bundle_sha256: sha,
            generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            names: format!("/{names_key}"),
            names_sha256: sha256_hex(parts.names),
            sha256: sha256_hex(parts.map),
            systems: parts.systems,
            world_build_id: build_id,
        };
        objects
            .put(&names_key, parts.names.to_vec(), "application/octet-stream")
            .await
            .map_err(PhaseError::Rejected)?;
        objects.put(&key, parts.map.to_vec(), "application/octet-stream").await.map_err(PhaseError::Rejected)?;
        let pointer = serde_json::to_vec_pretty(&pointer).map_err(|e| PhaseError::Rejected(e.to_string()))?;
        objects.put("data/world/latest.json", pointer, "application/json").await.map_err(PhaseError::Rejected)?;
        store.set_asset_key(build_id, &key).await?;
        asset_key = Some(key);
    }
    store.activate_world_build(build_id).await?;
    let status = if store.run_has_gate_warnings(run_id).await? { RunStatus::Warn } else { RunStatus::Pass };
    let row_counts = store.world_build_counts(build_id).await?;
    Ok(PublishOutcome { world_build_id: build_id, status, row_counts, asset_key })
}

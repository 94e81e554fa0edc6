//! Phase 03: complete every placed system with the one inference engine (seeded per star from
//! the run's world seed, so a rerun is identical), then encode the map asset of the build.

use crate::PhaseError;
use exomaps_domain::asset::{self, AssetSystem};
use exomaps_domain::hex::{hex, sha256_hex};
use exomaps_domain::inference::{INFERENCE_VERSION, InferenceConfig, StarInput, infer_system};
use exomaps_store::Store;
use exomaps_store::canon::PlacedInput;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Phase 03's outcome: the inference and the map asset of the build.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InferOutcome {
    pub world_build_id: i64,
    pub seed: i64,
    pub inference_version: &'static str,
    pub systems: usize,
    pub systems_with_inferred_planets: usize,
    pub inferred_planets: usize,
    pub inferred_belts: usize,
    pub inferred_moons: usize,
    /// SHA-256 of the serialised inference of every system (equal for equal seeds).
    pub inference_sha256: String,
    pub asset_systems: usize,
    pub asset_bytes: usize,
    pub asset_sha256: String,
}

pub async fn infer(store: &Store, run_id: Uuid) -> Result<InferOutcome, PhaseError> {
    let Some(build_id) = store.world_build_id_of_run(run_id).await? else {
        return Err(PhaseError::Rejected("no world build to complete".into()));
    };
    let seed = store.run(run_id).await?.and_then(|r| r.seed).unwrap_or(crate::canonicalise::DEFAULT_SEED);
    // Typed inputs of the placed stars only (no canonical record is decoded), main_id order.
    let stars = store.build_infer_inputs(build_id).await?;

    let cfg = InferenceConfig { world_seed: seed as u64 };
    let computed = tokio::task::spawn_blocking(move || {
        let mut rows = Vec::with_capacity(stars.len());
        let mut asset_systems = Vec::new();
        let mut digest = Sha256::new();
        for PlacedInput { star_id, in_scope, input } in &stars {
            let inference = infer_system(&StarInput::from_input(input), &cfg);
            // Serialised once: the digest and the stored row are the same text (object keys
            // sorted, as `serde_json::Value` writes them; the digest depends on that order).
            let json = serde_json::to_value(&inference).unwrap_or_default().to_string();
            digest.update(input.main_id.as_bytes());
            digest.update(json.as_bytes());
            let counts = [inference.planets.len() as i32, inference.belts.len() as i32, inference.moons.len() as i32];
            if *in_scope && let Some(a) = AssetSystem::from_input(input, Some(&inference)) {
                asset_systems.push(a);
            }
            rows.push((*star_id, json, counts));
        }
        (rows, asset_systems, hex(&digest.finalize()))
    })
    .await
    .map_err(|e| PhaseError::Rejected(format!("inference failed: {e}")))?;
    let (rows, mut asset_systems, inference_sha) = computed;
    // The asset lists systems nearest first (the SPA draws and labels in that order).
    asset_systems.sort_by(|a, b| a.distance_ly.total_cmp(&b.distance_ly).then_with(|| a.main_id.cmp(&b.main_id)));
    // The database keeps both parts as one blob (map part, then names part); publish splits it.
    let bytes = asset::bundle(&asset::encode(&asset_systems, build_id as u64));
    let asset_sha = sha256_hex(&bytes);
    store.write_inference(build_id, &rows, INFERENCE_VERSION, &bytes, &asset_sha).await?;

    let sum = |i: usize| rows.iter().map(|(_, _, c)| c[i] as usize).sum::<usize>();
    Ok(InferOutcome {
        world_build_id: build_id,
        seed,
        inference_version: INFERENCE_VERSION,
        systems: rows.len(),
        systems_with_inferred_planets: rows.iter().filter(|(_, _, c)| c[0] > 0).count(),
        inferred_planets: sum(0),
        inferred_belts: sum(1),
        inferred_moons: sum(2),
        inference_sha256: inference_sha,
        asset_systems: asset_systems.len(),
        asset_bytes: bytes.len(),
        asset_sha256: asset_sha,
    })
}

//! Phase 03: complete every placed system with the one inference engine (seeded per star from
//! the run's world seed, so a rerun is identical), then encode the map asset of the build.

use crate::PhaseError;
use exomaps_domain::asset::{self, AssetSystem};
use exomaps_domain::hex::{hex, sha256_hex};
use exomaps_domain::inference::{INFERENCE_VERSION, InferenceConfig, StarInput, infer_system};
use exomaps_store::Store;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
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
    let stars = store.build_canon(build_id).await?;
    let placed: HashSet<i64> = store.build_placed_star_ids(build_id).await?.into_iter().collect();
    let in_scope: HashSet<i64> =
        store.systems_in_scope(build_id, i64::MAX, 0).await?.systems.into_iter().map(|s| s.star_id).collect();

    let cfg = InferenceConfig { world_seed: seed as u64 };
    let computed = tokio::task::spawn_blocking(move || {
        let mut rows = Vec::new();
        let mut asset_systems = Vec::new();
        let mut digest = Sha256::new();
        for (star_id, star) in stars.iter().filter(|(id, _)| placed.contains(id)) {
            let inference = infer_system(&StarInput::from_canon(star), &cfg);
            let json = serde_json::to_value(&inference).unwrap_or_default();
            digest.update(star.main_id.as_bytes());
            digest.update(json.to_string().as_bytes());
            let counts = [inference.planets.len() as i32, inference.belts.len() as i32, inference.moons.len() as i32];
            if in_scope.contains(star_id)
                && let Some(a) = AssetSystem::from_canon(star, Some(&inference))
            {
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

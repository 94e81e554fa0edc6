//! Phase 01b: one star identity per object. Picks one file per source family (the newest by
//! name, DOMAIN.md §4.4 g), canonicalises SIMBAD rows and exoplanet rows into stars with
//! aliases and planets, runs the reference distance checks, and records a draft world build.

use crate::{Family, PhaseError};
use exomaps_domain::canon::{CanonConfig, Catalogues, canonicalise_with as canon};
use exomaps_domain::coords::Scope;
use exomaps_domain::reference::{self, CheckStatus};
use exomaps_domain::units::LY_PER_PC;
use exomaps_store::Store;
use exomaps_store::canon::CanonBuildWrite;
use exomaps_store::runs::PhaseStart;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use uuid::Uuid;

pub const PHASE: &str = "canonicalise";

/// The `sources` key of the constellations document of the NAMES family.
pub const CONSTELLATIONS_SLOT: &str = "NAMES_CONSTELLATIONS";

/// The default world seed of a run that gives none.
pub const DEFAULT_SEED: i64 = 42;

#[derive(Debug, Clone, Serialize)]
pub struct CanonOutcome {
    pub run_id: Uuid,
    pub executed: bool,
    pub world_build_id: Option<i64>,
    /// The file used per family (others of the run stay staged and validated, unused).
    pub selected_sources: BTreeMap<String, String>,
    pub stars: usize,
    pub aliases: usize,
    pub planets_attached: usize,
    pub planets_unattached: usize,
    pub flags: BTreeMap<String, usize>,
    pub review_pairs: usize,
    pub reference_status: String,
    pub reference: BTreeMap<String, String>,
}

pub async fn canonicalise(store: &Store, run_id: Uuid, scope: Scope) -> Result<CanonOutcome, PhaseError> {
    let mut out = CanonOutcome {
        run_id,
        executed: false,
        world_build_id: None,
        selected_sources: BTreeMap::new(),
        stars: 0,
        aliases: 0,
        planets_attached: 0,
        planets_unattached: 0,
        flags: BTreeMap::new(),
        review_pairs: 0,
        reference_status: String::new(),
        reference: BTreeMap::new(),
    };
    if store.start_phase(run_id, PHASE).await? == PhaseStart::AlreadyDone {
        out.world_build_id = store.world_build_id_of_run(run_id).await?;
        return Ok(out);
    }
    // The newest file of each family whose gate did not fail (NAMES: one star-names and one
    // constellations document, told apart by name; the latter under `NAMES_CONSTELLATIONS`).
    for m in store.run_manifest(run_id).await? {
        if m.gate_status != "fail" {
            let slot_name = if m.source_family == Family::Names.as_str()
                && m.source_name.to_ascii_lowercase().contains("constellation")
            {
                CONSTELLATIONS_SLOT.to_string()
            } else {
                m.source_family.clone()
            };
            let slot = out.selected_sources.entry(slot_name).or_default();
            if m.source_name > *slot {
                *slot = m.source_name;
            }
        }
    }
    let simbad = match out.selected_sources.get(Family::Simbad.as_str()) {
        Some(name) => store.staged_simbad_records(run_id, name).await?,
        None => Vec::new(),
    };
    let exoplanets = match out.selected_sources.get(Family::Exoplanets.as_str()) {
        Some(name) => store.staged_exoplanet_records(run_id, name).await?,
        None => Vec::new(),
    };
    // Hipparcos stars within the map's reach (scope + margin) by parallax.
    let reach_pc = (scope.scope_ly + scope.margin_ly) / LY_PER_PC;
    let hipparcos = match out.selected_sources.get(Family::Hipparcos.as_str()) {
        Some(name) => store.staged_hipparcos_records(run_id, name, 1000.0 / reach_pc).await?,
        None => Vec::new(),
    };
    let star_names = match out.selected_sources.get(Family::Names.as_str()) {
        Some(name) => store.staged_names(run_id, name).await?.0,
        None => Vec::new(),
    };
    let constellations = match out.selected_sources.get(CONSTELLATIONS_SLOT) {
        Some(name) => store.staged_names(run_id, name).await?.1,
        None => Vec::new(),
    };
    if simbad.is_empty() && exoplanets.is_empty() && hipparcos.is_empty() {
        return Err(PhaseError::Rejected("no accepted rows to canonicalise".into()));
    }
    let (c, report) = tokio::task::spawn_blocking(move || {
        let cat = Catalogues { hipparcos: &hipparcos, star_names: &star_names, constellations: &constellations };
        let c = canon(&simbad, &exoplanets, &cat, &CanonConfig::default());
        let mut rules = reference::DEFAULT_RULES.to_vec();
        if !hipparcos.is_empty() {
            rules.extend(reference::BRIGHT_RULES);
        }
        let report = reference::evaluate(&c, &rules);
        (c, report)
    })
    .await
    .map_err(|e| PhaseError::Rejected(format!("canonicalisation failed: {e}")))?;

    let seed = store.run(run_id).await?.and_then(|r| r.seed).unwrap_or(DEFAULT_SEED);
    let write = CanonBuildWrite {
        scope_ly: scope.scope_ly,
        margin_ly: scope.margin_ly,
        seed,
        sources: json!(out.selected_sources),
        stars: &c.stars,
        reference: &report,
    };
    let build_id = store.write_canon_build(run_id, &write).await?;
    out.executed = true;
    out.world_build_id = Some(build_id);
    out.stars = c.stars.len();
    out.aliases = c.stars.iter().map(|s| s.aliases.len()).sum();
    out.planets_attached = c.stars.iter().map(|s| s.planets.len()).sum();
    out.planets_unattached = c.unattached_planets.len();
    for s in &c.stars {
        for f in &s.flags {
            *out.flags.entry(format!("{:?}", f.code)).or_default() += 1;
        }
    }
    out.review_pairs = c.review.len();
    out.reference_status = report.status.as_str().to_string();
    out.reference = report.results.iter().map(|r| (r.rule_key.clone(), r.status.as_str().to_string())).collect();
    let counts = serde_json::to_value(&out).unwrap_or_default();
    store.finish_phase(run_id, PHASE, true, &counts, None).await?;
    if report.status == CheckStatus::Fail {
        tracing::warn!(%run_id, "reference distance checks failed: {:?}", out.reference);
    }
    Ok(out)
}

//! Phase 01b: one star identity per object. Picks one file per source family (the newest by
//! name, DOMAIN.md §4.4 g), canonicalises SIMBAD rows and exoplanet rows into stars with
//! aliases and planets, runs the reference distance checks, and records a draft world build.

use crate::{Family, PhaseError};
use exomaps_domain::canon::{CanonConfig, Catalogues, canonicalise_with as canon};
use exomaps_domain::catalogue::contract::GateStatus;
use exomaps_domain::coords::Scope;
use exomaps_domain::reference::{self, CheckStatus};
use exomaps_domain::units::LY_PER_PC;
use exomaps_store::Store;
use exomaps_store::canon::CanonBuildWrite;
use serde::Serialize;
use std::collections::BTreeMap;
use uuid::Uuid;

/// The `sources` key of the constellations document of the NAMES family.
pub const CONSTELLATIONS_SLOT: &str = "NAMES_CONSTELLATIONS";

/// The default world seed of a run that gives none.
pub const DEFAULT_SEED: i64 = 42;

/// Phase 01b's outcome: the draft world build and what went into it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CanonOutcome {
    pub world_build_id: i64,
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
    // The newest file of each family whose gate did not fail (NAMES: one star-names and one
    // constellations document, told apart by name; the latter under `NAMES_CONSTELLATIONS`).
    let mut selected_sources = BTreeMap::<String, String>::new();
    for m in store.run_manifest(run_id).await? {
        if GateStatus::parse(&m.gate_status) != Some(GateStatus::Fail) {
            let slot_name = if m.source_family == Family::Names.as_str()
                && m.source_name.to_ascii_lowercase().contains("constellation")
            {
                CONSTELLATIONS_SLOT.to_string()
            } else {
                m.source_family.clone()
            };
            let slot = selected_sources.entry(slot_name).or_default();
            if m.source_name > *slot {
                *slot = m.source_name;
            }
        }
    }
    let simbad = match selected_sources.get(Family::Simbad.as_str()) {
        Some(name) => store.staged_simbad_records(run_id, name).await?,
        None => Vec::new(),
    };
    let exoplanets = match selected_sources.get(Family::Exoplanets.as_str()) {
        Some(name) => store.staged_exoplanet_records(run_id, name).await?,
        None => Vec::new(),
    };
    // Hipparcos stars within the map's reach (scope + margin) by parallax.
    let reach_pc = (scope.scope_ly + scope.margin_ly) / LY_PER_PC;
    let hipparcos = match selected_sources.get(Family::Hipparcos.as_str()) {
        Some(name) => store.staged_hipparcos_records(run_id, name, 1000.0 / reach_pc).await?,
        None => Vec::new(),
    };
    let star_names = match selected_sources.get(Family::Names.as_str()) {
        Some(name) => store.staged_names(run_id, name).await?.0,
        None => Vec::new(),
    };
    let constellations = match selected_sources.get(CONSTELLATIONS_SLOT) {
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
        sources: serde_json::to_value(&selected_sources).map_err(|e| PhaseError::Rejected(e.to_string()))?,
        stars: &c.stars,
        reference: &report,
    };
    let world_build_id = store.write_canon_build(run_id, &write).await?;
    let mut flags = BTreeMap::new();
    for s in &c.stars {
        for f in &s.flags {
            *flags.entry(format!("{:?}", f.code)).or_default() += 1;
        }
    }
    let out = CanonOutcome {
        world_build_id,
        selected_sources,
        stars: c.stars.len(),
        aliases: c.stars.iter().map(|s| s.aliases.len()).sum(),
        planets_attached: c.stars.iter().map(|s| s.planets.len()).sum(),
        planets_unattached: c.unattached_planets.len(),
        flags,
        review_pairs: c.review.len(),
        reference_status: report.status.as_str().to_string(),
        reference: report.results.iter().map(|r| (r.rule_key.clone(), r.status.as_str().to_string())).collect(),
    };
    if report.status == CheckStatus::Fail {
        tracing::warn!(%run_id, "reference distance checks failed: {:?}", out.reference);
    }
    Ok(out)
}

//! Phase 01: read each source, validate it against its contract, stage the accepted rows,
//! quarantine the rest with reasons, and gate the file.

use crate::outcome::PhaseOutcome;
use crate::{Family, PhaseError, SourceSpec, read_source};
use exomaps_domain::catalogue::contract::{GateStatus, gate_status};
use exomaps_domain::catalogue::exoplanets;
use exomaps_domain::catalogue::simbad;
use exomaps_domain::catalogue::{hipparcos, starnames};
use exomaps_store::Store;
use exomaps_store::ingest::SourceFileMeta;
use serde::Serialize;
use std::collections::BTreeMap;
use uuid::Uuid;

/// One source file of the run: what its contract and gate made of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceOutcome {
    pub family: Family,
    pub source_name: String,
    pub sha256: String,
    pub total_rows: usize,
    pub accepted_rows: usize,
    pub quarantined_rows: usize,
    pub issue_counts: BTreeMap<String, usize>,
    pub gate_status: GateStatus,
}

/// Phase 01's outcome: every source read, in the kick message's order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IngestOutcome {
    pub sources: Vec<SourceOutcome>,
}

/// Ingests every source of a run. A whole-file failure or a failed gate rejects the run
/// (after recording the manifest, summary and quarantine, so the reason is inspectable; a
/// failed gate as [`PhaseError::Gated`], with the sources read so far).
pub async fn ingest(store: &Store, run_id: Uuid, sources: &[SourceSpec]) -> Result<IngestOutcome, PhaseError> {
    if sources.is_empty() {
        return Err(PhaseError::Rejected("a run needs at least one source".into()));
    }
    let mut outcomes = Vec::new();
    let mut rejection = None;
    for spec in sources {
        match ingest_one(store, run_id, spec).await {
            Ok(o) => {
                if o.gate_status == GateStatus::Fail && rejection.is_none() {
                    rejection = Some(format!(
                        "gate failed for {}: {} of {} rows quarantined",
                        o.source_name, o.quarantined_rows, o.total_rows
                    ));
                }
                outcomes.push(o);
            }
            Err(PhaseError::Rejected(reason)) => {
                rejection.get_or_insert(reason);
            }
            Err(e) => return Err(e),
        }
    }
    let outcome = IngestOutcome { sources: outcomes };
    match rejection {
        Some(reason) => Err(PhaseError::Gated { reason, outcome: Box::new(PhaseOutcome::Ingest(outcome)) }),
        None => Ok(outcome),
    }
}

async fn ingest_one(store: &Store, run_id: Uuid, spec: &SourceSpec) -> Result<SourceOutcome, PhaseError> {
    let source_name = spec.source_name();
    let mut meta = SourceFileMeta {
        family: spec.family.as_str(),
        source_name: source_name.clone(),
        file_uri: spec.uri.clone(),
        sha256: String::new(),
        bytes: 0,
        contract_version: match spec.family {
            Family::Simbad => simbad::CONTRACT_VERSION,
            Family::Exoplanets => exoplanets::CONTRACT_VERSION,
            Family::Hipparcos => hipparcos::CONTRACT_VERSION,
            Family::Names => starnames::CONTRACT_VERSION,
        },
    };
    let bytes = match read_source(spec).await {
        Ok(b) => {
            meta.sha256 = b.sha256;
            b.bytes
        }
        Err(e) => {
            store.write_failed_source(run_id, &meta, &e.to_string()).await?;
            return Err(e);
        }
    };
    meta.bytes = bytes.len() as u64;
    let bytes = match crate::source::decompress(spec, bytes) {
        Ok(b) => b,
        Err(e) => {
            store.write_failed_source(run_id, &meta, &e.to_string()).await?;
            return Err(e);
        }
    };
    let cfg = store.gate_config(spec.family.as_str()).await?;
    let t_parse = std::time::Instant::now();
    // Parse (CPU-bound) off the async workers; then write the batch in one transaction.
    let parsed = tokio::task::spawn_blocking({
        let family = spec.family;
        move || match family {
            Family::Simbad => simbad::parse(&bytes).map(Batch::Simbad),
            Family::Exoplanets => exoplanets::parse(&bytes).map(Batch::Exoplanets),
            Family::Hipparcos => hipparcos::parse(&bytes).map(Batch::Hipparcos),
            Family::Names => starnames::parse(&bytes).map(Batch::Names),
        }
    })
    .await
    .map_err(|e| PhaseError::Rejected(format!("{source_name}: parser failed: {e}")))?;
    let batch = match parsed {
        Ok(b) => b,
        Err(e) => {
            let reason = format!("{source_name}: {e}");
            store.write_failed_source(run_id, &meta, &reason).await?;
            return Err(PhaseError::Rejected(reason));
        }
    };
    let parse_ms = t_parse.elapsed().as_millis() as u64;
    let (total, accepted, quarantined, duplicates, issues) = match &batch {
        Batch::Simbad(b) => (b.total_rows, b.accepted.len(), b.quarantined.len(), b.duplicate_rows, b.issue_counts()),
        Batch::Exoplanets(b) => {
            (b.total_rows, b.accepted.len(), b.quarantined.len(), b.duplicate_rows, b.issue_counts())
        }
        Batch::Hipparcos(b) => {
            (b.total_rows, b.accepted.len(), b.quarantined.len(), b.duplicate_rows, b.issue_counts())
        }
        Batch::Names(b) => (b.total_rows, b.accepted_rows(), b.quarantined.len(), b.duplicate_rows, b.issue_counts()),
    };
    let gate = gate_status(&cfg, total, quarantined, duplicates);
    let t_write = std::time::Instant::now();
    match &batch {
        Batch::Simbad(b) => store.write_simbad_ingest(run_id, &meta, b, gate).await?,
        Batch::Exoplanets(b) => store.write_exoplanet_ingest(run_id, &meta, b, gate).await?,
        Batch::Hipparcos(b) => store.write_hipparcos_ingest(run_id, &meta, b, gate).await?,
        Batch::Names(b) => store.write_names_ingest(run_id, &meta, b, gate).await?,
    }
    let write_ms = t_write.elapsed().as_millis() as u64;
    tracing::info!(
        parse_ms, write_ms, %run_id, source = %source_name, total, accepted, quarantined, gate = gate.as_str(),
        "source ingested"
    );
    Ok(SourceOutcome {
        family: spec.family,
        source_name,
        sha256: meta.sha256,
        total_rows: total,
        accepted_rows: accepted,
        quarantined_rows: quarantined,
        issue_counts: issues.into_iter().map(|(k, v)| (k.as_str().to_string(), v)).collect(),
        gate_status: gate,
    })
}

enum Batch {
    Simbad(simbad::SimbadBatch),
    Exoplanets(exoplanets::ExoplanetBatch),
    Hipparcos(hipparcos::HipparcosBatch),
    Names(starnames::NamesBatch),
}

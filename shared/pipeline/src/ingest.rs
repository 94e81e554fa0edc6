//! Phase 01: read each source, validate it against its contract, stage the accepted rows,
//! quarantine the rest with reasons, and gate the file.

use crate::{Family, PhaseError, SourceSpec, read_source};
use exomaps_domain::catalogue::contract::{GateStatus, gate_status};
use exomaps_domain::catalogue::simbad;
use exomaps_store::Store;
use exomaps_store::ingest::SourceFileMeta;
use exomaps_store::runs::PhaseStart;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use uuid::Uuid;

pub const PHASE: &str = "ingest";

#[derive(Debug, Clone, Serialize)]
pub struct SourceOutcome {
    pub source_name: String,
    pub sha256: String,
    pub total_rows: usize,
    pub accepted_rows: usize,
    pub quarantined_rows: usize,
    pub issue_counts: BTreeMap<String, usize>,
    pub gate_status: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct IngestOutcome {
    pub run_id: Uuid,
    /// False when the phase had already completed for this run (a redelivery).
    pub executed: bool,
    pub sources: Vec<SourceOutcome>,
}

/// Ingests every source of a run. A whole-file failure or a failed gate rejects the run
/// (after recording the manifest, summary and quarantine, so the reason is inspectable).
pub async fn ingest(store: &Store, run_id: Uuid, sources: &[SourceSpec]) -> Result<IngestOutcome, PhaseError> {
    if sources.is_empty() {
        return Err(PhaseError::Rejected("a run needs at least one source".into()));
    }
    if store.start_phase(run_id, PHASE).await? == PhaseStart::AlreadyDone {
        return Ok(IngestOutcome { run_id, executed: false, sources: vec![] });
    }
    let mut outcomes = Vec::new();
    let mut rejection = None;
    for spec in sources {
        match ingest_one(store, run_id, spec).await {
            Ok(o) => {
                if o.gate_status == "fail" && rejection.is_none() {
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
            Err(e) => {
                store.finish_phase(run_id, PHASE, false, &serde_json::json!({}), Some(&e.to_string())).await?;
                return Err(e);
            }
        }
    }
    let counts = serde_json::to_value(&outcomes).unwrap_or_default();
    if let Some(reason) = rejection {
        store.finish_phase(run_id, PHASE, false, &counts, Some(&reason)).await?;
        return Err(PhaseError::Rejected(reason));
    }
    store.finish_phase(run_id, PHASE, true, &counts, None).await?;
    Ok(IngestOutcome { run_id, executed: true, sources: outcomes })
}

async fn ingest_one(store: &Store, run_id: Uuid, spec: &SourceSpec) -> Result<SourceOutcome, PhaseError> {
    let source_name = spec.source_name();
    let mut meta = SourceFileMeta {
        family: spec.family.as_str(),
        source_name: source_name.clone(),
        file_uri: spec.uri.clone(),
        sha256: String::new(),
        bytes: 0,
        contract_version: simbad::CONTRACT_VERSION,
    };
    let bytes = match read_source(spec).await {
        Ok(b) => b,
        Err(e) => {
            store.write_failed_source(run_id, &meta, &e.to_string()).await?;
            return Err(e);
        }
    };
    meta.sha256 = hex(&Sha256::digest(&bytes));
    meta.bytes = bytes.len() as u64;
    if spec.family != Family::Simbad {
        let reason = format!("{}: the {} contract is not supported yet", source_name, spec.family.as_str());
        store.write_failed_source(run_id, &meta, &reason).await?;
        return Err(PhaseError::Rejected(reason));
    }
    let t_parse = std::time::Instant::now();
    let batch = match simbad::parse(&bytes) {
        Ok(b) => b,
        Err(e) => {
            let reason = format!("{source_name}: {e}");
            store.write_failed_source(run_id, &meta, &reason).await?;
            return Err(PhaseError::Rejected(reason));
        }
    };
    let parse_ms = t_parse.elapsed().as_millis() as u64;
    let cfg = store.gate_config(spec.family.as_str()).await?;
    let gate = gate_status(&cfg, batch.total_rows, batch.quarantined.len(), batch.duplicate_rows);
    let t_write = std::time::Instant::now();
    store.write_simbad_ingest(run_id, &meta, &batch, gate).await?;
    let write_ms = t_write.elapsed().as_millis() as u64;
    tracing::info!(
        parse_ms,
        write_ms,
        %run_id, source = %source_name, total = batch.total_rows, accepted = batch.accepted.len(),
        quarantined = batch.quarantined.len(), gate = gate.as_str(), "source ingested"
    );
    Ok(SourceOutcome {
        source_name,
        sha256: meta.sha256,
        total_rows: batch.total_rows,
        accepted_rows: batch.accepted.len(),
        quarantined_rows: batch.quarantined.len(),
        issue_counts: batch.issue_counts().into_iter().map(|(k, v)| (k.as_str().to_string(), v)).collect(),
        gate_status: match gate {
            GateStatus::Pass => "pass",
            GateStatus::Warn => "warn",
            GateStatus::Fail => "fail",
        },
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

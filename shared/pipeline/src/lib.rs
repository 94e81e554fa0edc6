//! Pipeline phases. Each phase is a plain async function over the store and its message,
//! idempotent on `(run_id, phase)`; the SQS Lambdas and the local gateway call the same ones.
//!
//! Invariants: no SQL here (the store owns it); no formulas here (the domain owns them);
//! this crate reads source bytes, sequences the phases and records their outcome.

mod ingest;
pub mod notify;
mod source;
mod transform;

pub use ingest::{IngestOutcome, SourceOutcome, ingest};
pub use source::{Family, SourceSpec, read_source};
pub use transform::{TransformOutcome, transform};

use exomaps_domain::coords::Scope;
use exomaps_store::Store;
use exomaps_store::runs::RunStatus;
use serde::Serialize;
use uuid::Uuid;

/// Why a phase could not complete.
#[derive(Debug, thiserror::Error)]
pub enum PhaseError {
    /// The input is bad (unreadable source, missing columns, failed gate): the run fails with
    /// this reason and retrying will not help.
    #[error("{0}")]
    Rejected(String),
    /// Infrastructure trouble (database down, …): worth a retry.
    #[error(transparent)]
    Store(#[from] exomaps_store::StoreError),
}

/// The outcome of a whole local run (ingest then transform).
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub run_id: Uuid,
    pub status: &'static str,
    pub ingest: Option<IngestOutcome>,
    pub transform: Option<TransformOutcome>,
    pub failure_reason: Option<String>,
}

/// Runs ingest then transform for one run, in process, and records the run's final status.
/// (The SQS chain of the pipeline issue calls the same phase functions one message at a time.)
pub async fn run_pipeline(
    store: &Store,
    run_name: &str,
    sources: &[SourceSpec],
    scope: Scope,
) -> Result<RunReport, PhaseError> {
    let run_id = Uuid::new_v4();
    store.create_run(run_id, run_name, None).await?;
    let ingest = match ingest(store, run_id, sources).await {
        Ok(o) => o,
        Err(PhaseError::Rejected(reason)) => {
            store.finish_run(run_id, RunStatus::Fail, Some(&reason)).await?;
            return Ok(RunReport {
                run_id,
                status: "fail",
                ingest: None,
                transform: None,
                failure_reason: Some(reason),
            });
        }
        Err(e) => {
            store.finish_run(run_id, RunStatus::Fail, Some("infrastructure error during ingest")).await?;
            return Err(e);
        }
    };
    let transform = transform(store, run_id, scope).await?;
    let status = if ingest.sources.iter().any(|s| s.gate_status == "warn") { RunStatus::Warn } else { RunStatus::Pass };
    store.finish_run(run_id, status, None).await?;
    Ok(RunReport {
        run_id,
        status: status.as_str(),
        ingest: Some(ingest),
        transform: Some(transform),
        failure_reason: None,
    })
}

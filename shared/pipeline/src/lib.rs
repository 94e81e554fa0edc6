//! Pipeline phases. Each phase is a plain async function over the store and its input,
//! returning its typed outcome ([`outcome`]); the chain ([`chain::handle`]) makes each
//! idempotent on `(run_id, phase)` and records it. The SQS Lambdas and the local gateway call
//! the same chain.
//!
//! Invariants: no SQL here (the store owns it); no formulas here (the domain owns them);
//! this crate reads source bytes, sequences the phases and records their outcome.

pub mod aws;
pub mod canonicalise;
pub mod chain;
pub mod config;
pub mod context;
mod infer;
mod ingest;
pub mod messages;
pub mod notify;
pub mod objects;
pub mod outcome;
pub mod ports;
mod publish;
pub mod queue;
pub mod sim;
mod source;
mod transform;

pub use canonicalise::{CanonOutcome, canonicalise};
pub use infer::{InferOutcome, infer};
pub use ingest::{IngestOutcome, SourceOutcome, ingest};
pub use publish::{PublishOutcome, publish};
pub use source::{Family, SourceBytes, SourceSpec, file_path, read_object, read_source, s3_location, sources_in};
pub use transform::{TransformOutcome, transform};

use exomaps_domain::coords::Scope;
use exomaps_store::Store;
use exomaps_store::runs::RunStatus;
use outcome::Outcome;
use serde::Serialize;
use uuid::Uuid;

/// Why a phase could not complete.
#[derive(Debug, thiserror::Error)]
pub enum PhaseError {
    /// The input is bad (unreadable source, missing columns, failed gate): the run fails with
    /// this reason and retrying will not help.
    #[error("{0}")]
    Rejected(String),
    /// The phase ran and its counts are recorded, but the input fails the run (a failed
    /// gate): retrying will not help.
    #[error("{reason}")]
    Gated { reason: String, outcome: Box<outcome::PhaseOutcome> },
    /// Infrastructure trouble (database down, …): worth a retry.
    #[error(transparent)]
    Store(#[from] exomaps_store::StoreError),
}

/// The outcome of a whole run handled in process.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub run_id: Uuid,
    /// The run's final status: `pass`, `warn` or `fail`.
    pub status: RunStatus,
    pub failure_reason: Option<String>,
    /// Each completed phase's outcome, in chain order.
    pub phases: Vec<(chain::Phase, Outcome)>,
}

impl RunReport {
    /// A completed phase's outcome.
    pub fn outcome(&self, phase: chain::Phase) -> Option<&Outcome> {
        self.phases.iter().find(|(p, _)| *p == phase).map(|(_, o)| o)
    }

    /// A completed phase's counts as JSON (as sent in its `run.progress`).
    pub fn phase(&self, phase: chain::Phase) -> Option<serde_json::Value> {
        self.outcome(phase).and_then(|o| o.to_json().ok())
    }
}

/// Runs a whole chain in process, one phase after the other, through the same
/// [`chain::handle`] the queues use (the local command and tests).
pub async fn run_chain(
    ctx: &chain::PipelineContext,
    kick: &chain::KickMessage,
) -> Result<RunReport, chain::HandleError> {
    run_chain_with_progress(ctx, kick, |_, _| {}).await
}

/// [`run_chain`], calling `progress(phase, outcome)` after each phase (outcome `None` when the
/// phase rejected the run).
pub async fn run_chain_with_progress(
    ctx: &chain::PipelineContext,
    kick: &chain::KickMessage,
    mut progress: impl FnMut(chain::Phase, Option<&Outcome>),
) -> Result<RunReport, chain::HandleError> {
    let mut kick = kick.clone();
    let run_id = *kick.run_id.get_or_insert_with(Uuid::new_v4);
    let body = serde_json::to_string(&kick).expect("a kick message serialises");
    let mut handled = chain::handle(ctx, chain::Phase::Ingest, &body).await?;
    if !handled.fanout.is_empty() {
        handled = run_shards(ctx, std::mem::take(&mut handled.fanout)).await?;
    }
    let mut phases = Vec::new();
    progress(chain::Phase::Ingest, handled.outcome.as_ref());
    if let Some(o) = handled.outcome.take() {
        phases.push((chain::Phase::Ingest, o));
    }
    while let Some(next) = handled.next {
        let body = serde_json::to_string(&next).expect("a phase message serialises");
        handled = chain::handle(ctx, next.phase, &body).await?;
        progress(next.phase, handled.outcome.as_ref());
        if let Some(o) = handled.outcome.take() {
            phases.push((next.phase, o));
        }
    }
    let run = ctx.store.run(run_id).await.map_err(|e| chain::HandleError::Retry(e.to_string()))?;
    let run = run.ok_or_else(|| chain::HandleError::Retry(format!("run {run_id} vanished")))?;
    Ok(RunReport { run_id, status: run.status, failure_reason: run.failure_reason, phases })
}

/// The shard messages of a fanned-out ingest, handled concurrently (as parallel Lambdas
/// would); the one that joined (or the run's failure) is returned.
async fn run_shards(
    ctx: &chain::PipelineContext,
    shards: Vec<chain::ShardMessage>,
) -> Result<chain::Handled, chain::HandleError> {
    let mut set = tokio::task::JoinSet::new();
    for shard in shards {
        let ctx = ctx.clone();
        let body = serde_json::to_string(&shard).expect("a shard message serialises");
        set.spawn(async move { chain::handle(&ctx, chain::Phase::Ingest, &body).await });
    }
    let mut last = None;
    while let Some(joined) = set.join_next().await {
        let handled = joined.map_err(|e| chain::HandleError::Retry(format!("a shard task failed: {e}")))??;
        if !handled.waiting || last.is_none() {
            last = Some(handled);
        }
    }
    last.ok_or_else(|| chain::HandleError::Retry("no shard was handled".into()))
}

/// Convenience for the local command and tests: a silent (no WebSocket) in-process run.
pub async fn run_pipeline(
    store: &Store,
    run_name: &str,
    sources: &[SourceSpec],
    scope: Scope,
) -> Result<RunReport, chain::HandleError> {
    let ctx = chain::PipelineContext {
        store: store.clone(),
        scope,
        notifier: notify::Notifier::silent(store.clone()),
        objects: None,
    };
    let kick = chain::KickMessage {
        run_name: run_name.into(),
        sources: sources.to_vec(),
        seed: None,
        run_id: None,
        shards: None,
    };
    run_chain(&ctx, &kick).await
}

//! The phase chain: one message per phase, each phase idempotent on `(run_id, phase)`.
//!
//! A run starts with a [`KickMessage`] on the ingest queue (documented in README):
//! `{"run_name": "…", "sources": [{"family": "SIMBAD", "uri": "file:///…"}], "seed": 42}`.
//! Every later message is a [`PhaseMessage`] `{"run_id": "…", "phase": "transform"}` on that
//! phase's queue. [`handle`] processes one message and returns the next one to send; the SQS
//! Lambdas and the local queue runner both call it.
//!
//! The chain owns what every phase shares, once: the idempotency check on `(run_id, phase)`
//! (a phase already done is not run again), recording the phase's outcome, failing the run on
//! a rejected input, closing it after publish, and the progress messages. The phases
//! themselves are plain functions of their input returning their typed outcome.

use crate::messages;
use crate::outcome::{Outcome, PhaseOutcome};
use crate::{PhaseError, canonicalise, infer, publish, transform};
use exomaps_store::runs::{PhaseStart, RunStatus};
use exomaps_wire::frames::ServerMessage;
use uuid::Uuid;

/// The messages (pure; in `exomaps-wire`, which `fuzz/` fuzzes without the rest of the pipeline).
pub use exomaps_wire::pipeline::{Decoded, KickMessage, Phase, PhaseMessage, ShardMessage, ShardRef, run_id_of};

pub use crate::context::{HandleError, PipelineContext};

/// What handling one message did.
#[derive(Debug, Clone, PartialEq)]
pub struct Handled {
    pub run_id: Uuid,
    /// What the phase did (None when the run had already failed or the phase was rejected).
    pub outcome: Option<Outcome>,
    /// The message to send to the next phase's queue, if the chain goes on.
    pub next: Option<PhaseMessage>,
    /// Shard messages for the ingest queue: a kick whose sources were sharded (the last
    /// shard's handling names `next`).
    pub fanout: Vec<ShardMessage>,
    /// The ingest phase is out in shards (this message fanned it out, or wrote one shard of
    /// several): no outcome yet, and the run goes on.
    pub waiting: bool,
}

impl Handled {
    /// The run failed here or before: the chain stops.
    fn stopped(run_id: Uuid) -> Handled {
        Handled { run_id, outcome: None, next: None, fanout: Vec::new(), waiting: false }
    }

    /// The ingest is out in shards.
    fn waiting(run_id: Uuid, fanout: Vec<ShardMessage>) -> Handled {
        Handled { run_id, outcome: None, next: None, fanout, waiting: true }
    }
}

/// Decodes one message from `phase`'s queue ([`exomaps_wire::pipeline::decode`], pure, fuzzed):
/// a kick on the ingest queue, a phase message naming this phase on the others; anything else
/// is poison.
pub fn decode(phase: Phase, body: &str) -> Result<Decoded, HandleError> {
    exomaps_wire::pipeline::decode(phase, body).map_err(HandleError::Poison)
}

/// Handles one message from `phase`'s queue and returns the message for the next phase, if
/// any. A rejected input (bad file, failed gate) fails the run with its reason and ends the
/// chain successfully (the message is consumed); only poison messages and infrastructure
/// errors come back as errors.
///
/// Each handled message leaves one structured log line (`phase`, `run_id`, `rows`,
/// `duration_ms`, `outcome`) and, in Lambda, one metrics record (`PhaseDuration`, `PhaseRows`,
/// `PhaseFailures`) — the operator's view of the chain.
pub async fn handle(ctx: &PipelineContext, phase: Phase, body: &str) -> Result<Handled, HandleError> {
    let started = std::time::Instant::now();
    let result = handle_message(ctx, phase, body).await;
    log_phase(phase, body, &result, started.elapsed());
    result
}

/// The rows a phase worked through ([`Outcome::rows`]: sources' rows for ingest, stars for
/// canonicalise, placed + unplaced for transform, systems for infer and publish; 0 for a
/// redelivery).
pub fn phase_rows(phase: Phase, outcome: &Outcome) -> u64 {
    debug_assert_eq!(phase, outcome.phase());
    outcome.rows()
}

fn log_phase(phase: Phase, body: &str, result: &Result<Handled, HandleError>, elapsed: std::time::Duration) {
    use exomaps_platform::metrics::{self, Metric};
    let duration_ms = elapsed.as_secs_f64() * 1e3;
    let (run_id, rows, outcome, failed) = match result {
        Ok(h) => {
            let rows = h.outcome.as_ref().map_or(0, Outcome::rows);
            // No outcome: the run failed here (a rejected input or gate) or had failed before.
            let outcome = match &h.outcome {
                None if !h.fanout.is_empty() => "fanned_out",
                None if h.waiting => "shard_written",
                None => "run_failed",
                Some(Outcome::Redelivered { .. }) => "redelivered",
                Some(Outcome::Ran { .. }) => "completed",
            };
            (h.run_id.to_string(), rows, outcome, h.outcome.is_none() && !h.waiting)
        }
        Err(HandleError::Poison(_)) => (run_id_of(body).map(|u| u.to_string()).unwrap_or_default(), 0, "poison", true),
        Err(HandleError::Retry(_)) => (run_id_of(body).map(|u| u.to_string()).unwrap_or_default(), 0, "retry", true),
    };
    let error = result.as_ref().err().map(|e| e.to_string()).unwrap_or_default();
    if failed {
        tracing::warn!(target: "exomaps::phase", phase = phase.as_str(), run_id, rows, duration_ms, outcome, error, "phase");
    } else {
        tracing::info!(target: "exomaps::phase", phase = phase.as_str(), run_id, rows, duration_ms, outcome, "phase");
    }
    metrics::emit(
        "phase",
        phase.as_str(),
        &[
            Metric::millis("PhaseDuration", duration_ms),
            Metric::count("PhaseRows", rows),
            Metric::count("PhaseFailures", u64::from(failed)),
        ],
        &[("run_id", run_id.into()), ("outcome", outcome.into())],
    );
}

async fn handle_message(ctx: &PipelineContext, phase: Phase, body: &str) -> Result<Handled, HandleError> {
    let (run_id, sources, shards) = match decode(phase, body)? {
        Decoded::Kick(kick) => {
            let run_id = kick.run_id.unwrap_or_else(Uuid::new_v4);
            ctx.store.create_run(run_id, &kick.run_name, kick.seed).await.map_err(retry)?;
            (run_id, kick.sources, kick.shards)
        }
        Decoded::Shard(msg) => return handle_shard(ctx, &msg).await,
        Decoded::Phase(msg) => {
            let run = ctx.store.run(msg.run_id).await.map_err(retry)?;
            let Some(run) = run else { return Err(HandleError::Poison(format!("unknown run {}", msg.run_id))) };
            if run.status == RunStatus::Fail {
                // The run already failed: the chain stops.
                return Ok(Handled::stopped(msg.run_id));
            }
            (msg.run_id, Vec::new(), None)
        }
    };
    progress(ctx, run_id, messages::run_running(run_id, phase)).await;
    if ctx.store.start_phase(run_id, phase.as_str()).await.map_err(retry)? == PhaseStart::AlreadyDone {
        // A redelivery: the phase is done; the chain goes on (its next message is idempotent
        // too), and a publish tells nobody twice.
        let world_build_id = ctx.store.world_build_id_of_run(run_id).await.map_err(retry)?;
        let outcome = Outcome::Redelivered { run_id, phase, world_build_id };
        return done(ctx, run_id, phase, outcome).await;
    }
    if phase == Phase::Ingest {
        // The one phase that may fan out: its outcome then comes from the last shard's join.
        let result = match crate::ingest::ingest_planned(&ctx.store, run_id, &sources, shards).await {
            Ok(crate::ingest::IngestStep::FannedOut(messages)) => return Ok(Handled::waiting(run_id, messages)),
            Ok(crate::ingest::IngestStep::Done(o)) => Ok(PhaseOutcome::Ingest(o)),
            Err(e) => Err(e),
        };
        return finish(ctx, run_id, phase, result).await;
    }
    let result = run_phase(ctx, run_id, phase).await;
    finish(ctx, run_id, phase, result).await
}

/// One shard of a fanned-out ingest: written (once); the shard that completes the count joins
/// and finishes the ingest phase as a whole-file ingest would.
async fn handle_shard(ctx: &PipelineContext, msg: &ShardMessage) -> Result<Handled, HandleError> {
    let run_id = msg.run_id;
    let Some(run) = ctx.store.run(run_id).await.map_err(retry)? else {
        return Err(HandleError::Poison(format!("unknown run {run_id}")));
    };
    if run.status == RunStatus::Fail {
        return Ok(Handled::stopped(run_id));
    }
    match crate::ingest::ingest_shard(&ctx.store, run_id, &msg.shard).await {
        Ok(crate::ingest::ShardStep::Pending) => Ok(Handled::waiting(run_id, Vec::new())),
        Ok(crate::ingest::ShardStep::Joined(o)) => {
            finish(ctx, run_id, Phase::Ingest, Ok(PhaseOutcome::Ingest(o))).await
        }
        Err(e) => finish(ctx, run_id, Phase::Ingest, Err(e)).await,
    }
}

/// Runs one phase (the phase functions know nothing of the chain).
async fn run_phase(ctx: &PipelineContext, run_id: Uuid, phase: Phase) -> Result<PhaseOutcome, PhaseError> {
    Ok(match phase {
        Phase::Ingest => return Err(PhaseError::Rejected("ingest needs its kick message".into())),
        Phase::Canonicalise => PhaseOutcome::Canonicalise(canonicalise(&ctx.store, run_id, ctx.scope).await?),
        Phase::Transform => PhaseOutcome::Transform(transform(&ctx.store, run_id, ctx.scope).await?),
        Phase::Infer => PhaseOutcome::Infer(infer(&ctx.store, run_id).await?),
        Phase::Publish => PhaseOutcome::Publish(publish(ctx, run_id).await?),
    })
}

/// A phase message exhausted its deliveries (it is in the phase's dead-letter queue): the run
/// it names is failed with the reason, its phase marked failed and its channel told, so no run
/// stays `running` forever. Returns the failed run, if the message named one. Idempotent: a
/// run that already ended keeps its outcome.
pub async fn dead_lettered(
    ctx: &PipelineContext,
    phase: Phase,
    body: &str,
    reason: &str,
) -> Result<Option<Uuid>, String> {
    let Some(run_id) = run_id_of(body) else {
        tracing::error!(phase = phase.as_str(), %reason, "dead-lettered message names no run");
        return Ok(None);
    };
    let reason = format!("{} message dead-lettered: {}", phase.as_str(), reason.replace('\0', "\\u0000"));
    let reason: String = reason.chars().take(1000).collect();
    let failed = ctx.store.fail_dead_lettered_run(run_id, phase.as_str(), &reason).await.map_err(|e| e.to_string())?;
    if failed {
        tracing::error!(%run_id, phase = phase.as_str(), %reason, "run failed: its message was dead-lettered");
        progress(ctx, run_id, messages::run_failed(run_id, phase, &reason)).await;
        completed(ctx, run_id, &messages::run_completed_failed(run_id, &reason)).await;
    }
    Ok(Some(run_id))
}

/// `run.progress` on the run's channel.
async fn progress(ctx: &PipelineContext, run_id: Uuid, msg: ServerMessage) {
    ctx.notifier.publish(&format!("runs:{run_id}"), &msg).await;
}

fn retry(e: impl std::fmt::Display) -> HandleError {
    HandleError::Retry(e.to_string())
}

/// Records a phase's result: its counts on the phase (and, after publish, the run's status),
/// the run failed with the reason on a rejected input; tells the run's channel and names the
/// next message.
async fn finish(
    ctx: &PipelineContext,
    run_id: Uuid,
    phase: Phase,
    result: Result<PhaseOutcome, PhaseError>,
) -> Result<Handled, HandleError> {
    let store = &ctx.store;
    let name = phase.as_str();
    match result {
        Ok(outcome) => {
            let counts = outcome.stored(run_id).map_err(retry)?;
            store.finish_phase(run_id, name, true, &counts, None).await.map_err(retry)?;
            if let PhaseOutcome::Publish(p) = &outcome {
                store.finish_run(run_id, p.status, None).await.map_err(retry)?;
            }
            done(ctx, run_id, phase, Outcome::Ran { run_id, outcome }).await
        }
        Err(PhaseError::Rejected(reason)) => {
            store.finish_phase(run_id, name, false, &no_counts(), Some(&reason)).await.map_err(retry)?;
            fail_run(ctx, run_id, phase, &reason).await
        }
        Err(PhaseError::Gated { reason, outcome }) => {
            let counts = outcome.stored(run_id).map_err(retry)?;
            store.finish_phase(run_id, name, false, &counts, Some(&reason)).await.map_err(retry)?;
            fail_run(ctx, run_id, phase, &reason).await
        }
        Err(PhaseError::Store(e)) => {
            // Recorded on the phase for the operator; the retry starts it again.
            if let Err(again) = store.finish_phase(run_id, name, false, &no_counts(), Some(&e.to_string())).await {
                tracing::warn!(%run_id, phase = name, error = %again, "cannot record the phase's failure");
            }
            Err(retry(e))
        }
    }
}

/// The counts of a phase that produced none: `{}`.
fn no_counts() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

/// A phase is done (now or before): `run.progress` with its counts, after a publish that ran
/// now the announcements, and the next message.
async fn done(ctx: &PipelineContext, run_id: Uuid, phase: Phase, outcome: Outcome) -> Result<Handled, HandleError> {
    progress(ctx, run_id, messages::run_done(run_id, phase, &outcome)).await;
    if let Some(PhaseOutcome::Publish(p)) = outcome.ran() {
        announce(ctx, run_id, p).await;
    }
    let next = phase.next().map(|next| PhaseMessage { run_id, phase: next });
    Ok(Handled { run_id, outcome: Some(outcome), next, fanout: Vec::new(), waiting: false })
}

/// Fails the run with the reason a phase gave, and tells its channel and `admin`.
async fn fail_run(ctx: &PipelineContext, run_id: Uuid, phase: Phase, reason: &str) -> Result<Handled, HandleError> {
    ctx.store.finish_run(run_id, RunStatus::Fail, Some(reason)).await.map_err(retry)?;
    progress(ctx, run_id, messages::run_failed(run_id, phase, reason)).await;
    completed(ctx, run_id, &messages::run_completed_failed(run_id, reason)).await;
    Ok(Handled::stopped(run_id))
}

/// After a completed publish: the run's last progress is followed by `data.refreshed` (on the
/// run's channel, on `data` and on `admin`) and `run.completed` (run's channel and `admin`), in
/// that order.
async fn announce(ctx: &PipelineContext, run_id: Uuid, outcome: &crate::outcome::PublishOutcome) {
    let asset = outcome.asset_key.as_ref().map(|k| format!("/{k}"));
    let refreshed = messages::data_refreshed(run_id, outcome.world_build_id, asset, &outcome.row_counts);
    let channel = format!("runs:{run_id}");
    ctx.notifier.publish(&channel, &refreshed).await;
    ctx.notifier.publish("data", &refreshed).await;
    ctx.notifier.publish("admin", &refreshed).await;
    let done = messages::run_completed(run_id, outcome.status, outcome.world_build_id, &outcome.row_counts);
    completed(ctx, run_id, &done).await;
}

/// `run.completed` (with the run's summary) to the run's channel and to `admin`.
async fn completed(ctx: &PipelineContext, run_id: Uuid, msg: &ServerMessage) {
    ctx.notifier.publish(&format!("runs:{run_id}"), msg).await;
    ctx.notifier.publish("admin", msg).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_chain_in_order_and_name_their_queues() {
        assert_eq!(Phase::Ingest.next(), Some(Phase::Canonicalise));
        assert_eq!(Phase::Infer.next(), Some(Phase::Publish));
        assert_eq!(Phase::Publish.next(), None);
        assert_eq!(Phase::Transform.queue_name(), "exomaps-pipeline-transform");
        for p in Phase::ALL {
            assert_eq!(Phase::from_name(p.as_str()), Some(p));
        }
    }

    #[test]
    fn kick_messages_are_validated() {
        let ok = r#"{"run_name":"r","sources":[{"family":"SIMBAD","uri":"file:///x/SIMBAD_01.csv"}],"seed":7}"#;
        assert_eq!(KickMessage::parse(ok).unwrap().seed, Some(7));
        for bad in [
            "nope",
            r#"{"run_name":"r","sources":[]}"#,
            r#"{"run_name":"","sources":[{"family":"SIMBAD","uri":"file:///x"}]}"#,
            r#"{"run_name":"r","sources":[{"family":"GAIA","uri":"file:///x"}]}"#,
            r#"{"run_name":"r","sources":[{"family":"SIMBAD","uri":"http://x"}]}"#,
            r#"{"run_name":"r","sources":[{"family":"SIMBAD","uri":"file:///x"}],"extra":1}"#,
        ] {
            assert!(KickMessage::parse(bad).is_err(), "{bad}");
        }
    }
}

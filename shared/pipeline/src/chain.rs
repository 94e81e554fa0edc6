//! The phase chain: one message per phase, each phase idempotent on `(run_id, phase)`.
//!
//! A run starts with a [`KickMessage`] on the ingest queue (documented in README):
//! `{"run_name": "…", "sources": [{"family": "SIMBAD", "uri": "file:///…"}], "seed": 42}`.
//! Every later message is a [`PhaseMessage`] `{"run_id": "…", "phase": "transform"}` on that
//! phase's queue. [`handle`] processes one message and returns the next one to send; the SQS
//! Lambdas and the local queue runner both call it.

use crate::notify::Notifier;
use crate::objects::ObjectSink;
use crate::{PhaseError, canonicalise, infer, ingest, transform};
use exomaps_domain::coords::Scope;
use exomaps_store::Store;
use exomaps_store::runs::{PhaseStart, RunStatus};
use serde_json::json;
use std::sync::Arc;
use uuid::Uuid;

/// The messages (pure; in `exomaps-wire`, which `fuzz/` fuzzes without the rest of the pipeline).
pub use exomaps_wire::pipeline::{Decoded, KickMessage, Phase, PhaseMessage, run_id_of};

/// What a phase needs besides its message.
#[derive(Clone)]
pub struct PipelineContext {
    pub store: Store,
    pub scope: Scope,
    pub notifier: Notifier,
    /// Where publish writes the map asset (none: the asset stays in the database only).
    pub objects: Option<Arc<dyn ObjectSink>>,
}

/// Why a message was not handled.
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// The message itself is unusable (not JSON, wrong shape, unknown run): recorded, and
    /// retrying cannot help — the queue's redrive policy moves it to the dead-letter queue.
    #[error("poison message: {0}")]
    Poison(String),
    /// Infrastructure trouble: retry (SQS redelivers after the visibility timeout).
    #[error("retry: {0}")]
    Retry(String),
}

/// What handling one message did.
#[derive(Debug, Clone, PartialEq)]
pub struct Handled {
    pub run_id: Uuid,
    /// The phase's counts (None when the run had already failed or the phase was rejected).
    pub outcome: Option<serde_json::Value>,
    /// The message to send to the next phase's queue, if the chain goes on.
    pub next: Option<PhaseMessage>,
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

/// The rows a phase worked through, read from its counts (sources' rows for ingest, stars for
/// canonicalise, placed + unplaced for transform, systems for infer and publish).
pub fn phase_rows(phase: Phase, outcome: &serde_json::Value) -> u64 {
    let n = |v: &serde_json::Value| v.as_u64().unwrap_or(0);
    match phase {
        Phase::Ingest => {
            outcome["sources"].as_array().map(|s| s.iter().map(|s| n(&s["total_rows"])).sum()).unwrap_or(0)
        }
        Phase::Canonicalise => n(&outcome["stars"]),
        Phase::Transform => n(&outcome["placed"]) + n(&outcome["unplaced"]),
        Phase::Infer => n(&outcome["systems"]),
        Phase::Publish => n(&outcome["row_counts"]["systems"]),
    }
}

fn log_phase(phase: Phase, body: &str, result: &Result<Handled, HandleError>, elapsed: std::time::Duration) {
    use exomaps_platform::metrics::{self, Metric};
    let duration_ms = elapsed.as_secs_f64() * 1e3;
    let (run_id, rows, outcome, failed) = match result {
        Ok(h) => {
            let rows = h.outcome.as_ref().map(|o| phase_rows(phase, o)).unwrap_or(0);
            // No counts: the run failed here (a rejected input or gate) or had failed before.
            let outcome = match &h.outcome {
                None => "run_failed",
                Some(o) if o["executed"] == false => "redelivered",
                Some(_) => "completed",
            };
            (h.run_id.to_string(), rows, outcome, h.outcome.is_none())
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
    let run_id = match decode(phase, body)? {
        Decoded::Kick(kick) => {
            let run_id = kick.run_id.unwrap_or_else(Uuid::new_v4);
            ctx.store.create_run(run_id, &kick.run_name, kick.seed).await.map_err(retry)?;
            progress_started(ctx, run_id, phase).await;
            let result = ingest(&ctx.store, run_id, &kick.sources).await;
            return finish(ctx, run_id, phase, result.map(|o| json!(o))).await;
        }
        Decoded::Phase(msg) => msg.run_id,
    };
    let run = ctx.store.run(run_id).await.map_err(retry)?;
    let Some(run) = run else { return Err(HandleError::Poison(format!("unknown run {run_id}"))) };
    if run.status == RunStatus::Fail.as_str() {
        return Ok(Handled { run_id, outcome: None, next: None }); // the run already failed: the chain stops
    }
    progress_started(ctx, run_id, phase).await;
    let result = match phase {
        Phase::Ingest => unreachable!("handled above"),
        Phase::Canonicalise => canonicalise(&ctx.store, run_id, ctx.scope).await.map(|o| json!(o)),
        Phase::Transform => transform(&ctx.store, run_id, ctx.scope).await.map(|o| json!(o)),
        Phase::Infer => infer(&ctx.store, run_id).await.map(|o| json!(o)),
        Phase::Publish => publish(ctx, run_id).await,
    };
    finish(ctx, run_id, phase, result).await
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
        let channel = format!("runs:{run_id}");
        ctx.notifier
            .publish(
                &channel,
                &json!({"type": "run.progress", "run_id": run_id, "phase": phase.as_str(), "status": "failed", "reason": reason}),
            )
            .await;
        completed(ctx, &json!({"type": "run.completed", "run_id": run_id, "status": "fail", "reason": reason})).await;
    }
    Ok(Some(run_id))
}

async fn progress_started(ctx: &PipelineContext, run_id: Uuid, phase: Phase) {
    let msg = json!({"type": "run.progress", "run_id": run_id, "phase": phase.as_str(), "status": "running"});
    ctx.notifier.publish(&format!("runs:{run_id}"), &msg).await;
}

fn retry(e: impl std::fmt::Display) -> HandleError {
    HandleError::Retry(e.to_string())
}

/// Records a phase outcome on the run and its channel, and names the next message.
async fn finish(
    ctx: &PipelineContext,
    run_id: Uuid,
    phase: Phase,
    result: Result<serde_json::Value, PhaseError>,
) -> Result<Handled, HandleError> {
    let channel = format!("runs:{run_id}");
    match result {
        Ok(counts) => {
            ctx.notifier
                .publish(
                    &channel,
                    &json!({"type": "run.progress", "run_id": run_id, "phase": phase.as_str(), "status": "done", "counts": counts}),
                )
                .await;
            if phase == Phase::Publish && counts["executed"] == true {
                announce(ctx, run_id, &counts).await;
            }
            let next = phase.next().map(|next| PhaseMessage { run_id, phase: next });
            Ok(Handled { run_id, outcome: Some(counts), next })
        }
        Err(PhaseError::Rejected(reason)) => {
            ctx.store.finish_run(run_id, RunStatus::Fail, Some(&reason)).await.map_err(retry)?;
            ctx.notifier
                .publish(
                    &channel,
                    &json!({"type": "run.progress", "run_id": run_id, "phase": phase.as_str(), "status": "failed", "reason": reason}),
                )
                .await;
            completed(ctx, &json!({"type": "run.completed", "run_id": run_id, "status": "fail", "reason": reason}))
                .await;
            Ok(Handled { run_id, outcome: None, next: None })
        }
        Err(PhaseError::Store(e)) => Err(retry(e)),
    }
}

/// The last phase: activate the run's world build, close the run, tell every client.
/// A redelivered publish changes nothing and tells nobody twice.
async fn publish(ctx: &PipelineContext, run_id: Uuid) -> Result<serde_json::Value, PhaseError> {
    const PHASE: &str = "publish";
    let store = &ctx.store;
    let Some(build_id) = store.world_build_id_of_run(run_id).await? else {
        return Err(PhaseError::Rejected("no world build to publish".into()));
    };
    if store.start_phase(run_id, PHASE).await? == PhaseStart::AlreadyDone {
        return Ok(json!({"world_build_id": build_id, "executed": false}));
    }
    // The map asset and the pointer the SPA reads first (the pointer goes last, so it never
    // names an asset that is not there yet).
    let mut asset_key = None;
    if let (Some(objects), Some((bytes, sha))) = (&ctx.objects, store.build_asset(build_id).await?) {
        // Two objects: the map part (first paint) and the names part (fetched alongside).
        let (map, names) = exomaps_domain::asset::split_bundle(&bytes)
            .map_err(|e| PhaseError::Rejected(format!("the build's map asset is invalid: {e}")))?;
        let systems = exomaps_domain::asset::decode(map, Some(names)).map(|a| a.systems.len()).unwrap_or(0);
        let key = format!("data/world/{build_id}.exmp");
        let names_key = format!("data/world/{build_id}.names");
        let (map_sha, names_sha) = (hex_sha256(map), hex_sha256(names));
        objects.put(&names_key, names.to_vec(), "application/octet-stream").await.map_err(PhaseError::Rejected)?;
        objects.put(&key, map.to_vec(), "application/octet-stream").await.map_err(PhaseError::Rejected)?;
        let pointer = json!({
            "world_build_id": build_id,
            "asset": format!("/{key}"),
            "names": format!("/{names_key}"),
            "sha256": map_sha,
            "names_sha256": names_sha,
            "bundle_sha256": sha,
            "systems": systems,
            "generated_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        });
        let pointer = serde_json::to_vec_pretty(&pointer).expect("a JSON value serialises");
        objects.put("data/world/latest.json", pointer, "application/json").await.map_err(PhaseError::Rejected)?;
        store.set_asset_key(build_id, &key).await?;
        asset_key = Some(key);
    }
    store.activate_world_build(build_id).await?;
    let status = if store.run_has_gate_warnings(run_id).await? { RunStatus::Warn } else { RunStatus::Pass };
    let counts = store.world_build_counts(build_id).await?;
    let outcome = json!({
        "world_build_id": build_id,
        "executed": true,
        "status": status.as_str(),
        "row_counts": counts,
        "asset_key": asset_key,
    });
    store.finish_phase(run_id, PHASE, true, &outcome, None).await?;
    store.finish_run(run_id, status, None).await?;
    Ok(outcome)
}

/// After a completed publish: the run's last progress is followed by `data.refreshed` (on the
/// run's channel, on `data` and on `admin`) and `run.completed` (run's channel and `admin`), in
/// that order.
async fn announce(ctx: &PipelineContext, run_id: Uuid, outcome: &serde_json::Value) {
    let counts = &outcome["row_counts"];
    let tables: Vec<&String> = counts.as_object().map(|m| m.keys().collect()).unwrap_or_default();
    let refreshed = json!({
        "type": "data.refreshed",
        "world_build_id": outcome["world_build_id"],
        "run_id": run_id,
        "tables": tables,
        "row_counts": counts,
        "asset": outcome["asset_key"].as_str().map(|k| format!("/{k}")),
    });
    let channel = format!("runs:{run_id}");
    ctx.notifier.publish(&channel, &refreshed).await;
    ctx.notifier.publish("data", &refreshed).await;
    ctx.notifier.publish("admin", &refreshed).await;
    let done = json!({
        "type": "run.completed",
        "run_id": run_id,
        "status": outcome["status"],
        "world_build_id": outcome["world_build_id"],
        "row_counts": counts,
    });
    completed(ctx, &done).await;
}

/// `run.completed` (with the run's summary) to the run's channel and to `admin`.
async fn completed(ctx: &PipelineContext, msg: &serde_json::Value) {
    ctx.notifier.publish(&format!("runs:{}", msg["run_id"].as_str().unwrap_or_default()), msg).await;
    ctx.notifier.publish("admin", msg).await;
}

/// Lower-case hex SHA-256 of `bytes`.
fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
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

//! The phase chain: one message per phase, each phase idempotent on `(run_id, phase)`.
//!
//! A run starts with a [`KickMessage`] on the ingest queue (documented in README):
//! `{"run_name": "…", "sources": [{"family": "SIMBAD", "uri": "file:///…"}], "seed": 42}`.
//! Every later message is a [`PhaseMessage`] `{"run_id": "…", "phase": "transform"}` on that
//! phase's queue. [`handle`] processes one message and returns the next one to send; the SQS
//! Lambdas and the local queue runner both call it.

use crate::notify::Notifier;
use crate::objects::ObjectSink;
use crate::{PhaseError, SourceSpec, canonicalise, infer, ingest, transform};
use exomaps_domain::coords::Scope;
use exomaps_store::Store;
use exomaps_store::runs::{PhaseStart, RunStatus};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Ingest,
    Canonicalise,
    Transform,
    Infer,
    Publish,
}

impl Phase {
    /// The phases in chain order.
    pub const ALL: [Phase; 5] = [Phase::Ingest, Phase::Canonicalise, Phase::Transform, Phase::Infer, Phase::Publish];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Ingest => "ingest",
            Phase::Canonicalise => "canonicalise",
            Phase::Transform => "transform",
            Phase::Infer => "infer",
            Phase::Publish => "publish",
        }
    }

    pub fn from_name(name: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.as_str() == name)
    }

    pub fn next(self) -> Option<Phase> {
        let i = Phase::ALL.iter().position(|p| *p == self)?;
        Phase::ALL.get(i + 1).copied()
    }

    /// The queue (and function) name of the phase: `exomaps-pipeline-<phase>`.
    pub fn queue_name(self) -> String {
        format!("exomaps-pipeline-{}", self.as_str())
    }
}

/// Starts a run: the message on the ingest queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KickMessage {
    pub run_name: String,
    pub sources: Vec<SourceSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Set by `POST /api/runs` so the caller learns the id at once; generated otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<Uuid>,
}

/// Every later phase's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseMessage {
    pub run_id: Uuid,
    pub phase: Phase,
}

impl KickMessage {
    /// Structural checks beyond JSON shape: what makes a kick meaningless.
    pub fn validate(&self) -> Result<(), String> {
        if self.run_name.trim().is_empty() || self.run_name.chars().count() > 200 {
            return Err("run_name must be 1–200 characters".into());
        }
        if self.sources.is_empty() || self.sources.len() > 20 {
            return Err("sources must list 1–20 files".into());
        }
        if self.run_name.contains('\0') {
            return Err("run_name contains a NUL character".into());
        }
        for s in &self.sources {
            if s.uri.contains('\0') {
                return Err("a source uri contains a NUL character".into());
            }
            if !(s.uri.starts_with("file://") || s.uri.starts_with("s3://")) {
                return Err(format!("source uri must be file:// or s3://: {}", s.uri));
            }
        }
        Ok(())
    }

    /// Parses and validates a kick message body.
    pub fn parse(body: &str) -> Result<KickMessage, String> {
        let kick: KickMessage = serde_json::from_str(body).map_err(|e| format!("malformed kick message: {e}"))?;
        kick.validate()?;
        Ok(kick)
    }
}

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

/// A decoded message of a phase's queue.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    Kick(KickMessage),
    Phase(PhaseMessage),
}

/// Decodes one message from `phase`'s queue (pure; `fuzz/` fuzzes it): a kick on the ingest
/// queue, a phase message naming this phase on the others; anything else is poison.
pub fn decode(phase: Phase, body: &str) -> Result<Decoded, HandleError> {
    if phase == Phase::Ingest {
        return KickMessage::parse(body).map(Decoded::Kick).map_err(HandleError::Poison);
    }
    let msg: PhaseMessage =
        serde_json::from_str(body).map_err(|e| HandleError::Poison(format!("malformed phase message: {e}")))?;
    if msg.phase != phase {
        return Err(HandleError::Poison(format!("a {} message on the {} queue", msg.phase.as_str(), phase.as_str())));
    }
    Ok(Decoded::Phase(msg))
}

/// Handles one message from `phase`'s queue and returns the message for the next phase, if
/// any. A rejected input (bad file, failed gate) fails the run with its reason and ends the
/// chain successfully (the message is consumed); only poison messages and infrastructure
/// errors come back as errors.
pub async fn handle(ctx: &PipelineContext, phase: Phase, body: &str) -> Result<Handled, HandleError> {
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

/// The run a phase message (kick or later) belongs to, read leniently: a message can be poison
/// for its phase and still name its run.
pub fn run_id_of(body: &str) -> Option<Uuid> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    Uuid::parse_str(v.get("run_id")?.as_str()?).ok()
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
        let key = format!("data/world/{build_id}.exmp");
        let systems = exomaps_domain::asset::decode(&bytes).map(|a| a.systems.len()).unwrap_or(0);
        objects.put(&key, bytes, "application/octet-stream").await.map_err(PhaseError::Rejected)?;
        let pointer = json!({
            "world_build_id": build_id,
            "asset": format!("/{key}"),
            "sha256": sha,
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

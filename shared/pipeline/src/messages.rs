//! What the chain sends out: the run messages on the WebSocket channels (`runs:<run_id>`,
//! `data`, `admin`; DOMAIN.md §8), built as the one frame type `exomaps_wire::frames::ServerMessage`
//! (the type the API documents and the SPA's generated types read), and the world pointer
//! `data/world/latest.json`.

use crate::outcome::Outcome;
use exomaps_store::runs::{PhaseStatus, RunStatus};
use exomaps_wire::frames::ServerMessage;
use exomaps_wire::pipeline::Phase;
use serde::Serialize;
use std::collections::BTreeMap;
use uuid::Uuid;

/// `run.progress`: a phase of a run started (`running`).
pub fn run_running(run_id: Uuid, phase: Phase) -> ServerMessage {
    progress(run_id, phase, PhaseStatus::Running, None, None)
}

/// `run.progress`: a phase finished (`done`) with its counts (the sent form of its outcome).
pub fn run_done(run_id: Uuid, phase: Phase, counts: &Outcome) -> ServerMessage {
    let counts = serde_json::to_value(counts).unwrap_or_else(|e| {
        tracing::warn!(%run_id, error = %e, "a phase outcome did not serialise");
        serde_json::Value::Null
    });
    progress(run_id, phase, PhaseStatus::Done, Some(counts).filter(|c| !c.is_null()), None)
}

/// `run.progress`: a phase failed, with the reason.
pub fn run_failed(run_id: Uuid, phase: Phase, reason: &str) -> ServerMessage {
    progress(run_id, phase, PhaseStatus::Failed, None, Some(reason.to_string()))
}

fn progress(
    run_id: Uuid,
    phase: Phase,
    status: PhaseStatus,
    counts: Option<serde_json::Value>,
    reason: Option<String>,
) -> ServerMessage {
    ServerMessage::RunProgress { run_id, phase: phase.as_str().into(), status: status.as_str().into(), counts, reason }
}

/// `run.completed`: the run failed, with the reason.
pub fn run_completed_failed(run_id: Uuid, reason: &str) -> ServerMessage {
    ServerMessage::RunCompleted {
        run_id,
        status: RunStatus::Fail.as_str().into(),
        world_build_id: None,
        row_counts: None,
        reason: Some(reason.to_string()),
    }
}

/// `run.completed`: the run published `world_build_id` (`pass` or `warn`), with its row counts.
pub fn run_completed(
    run_id: Uuid,
    status: RunStatus,
    world_build_id: i64,
    row_counts: &BTreeMap<String, i64>,
) -> ServerMessage {
    ServerMessage::RunCompleted {
        run_id,
        status: status.as_str().into(),
        world_build_id: Some(world_build_id),
        row_counts: Some(counts_value(row_counts)),
        reason: None,
    }
}

/// `data.refreshed`: a new world build is active (the SPA reloads the map); `asset` is the map
/// part's path (`/data/world/<build>.exmp`), none without an object store.
pub fn data_refreshed(
    run_id: Uuid,
    world_build_id: i64,
    asset: Option<String>,
    row_counts: &BTreeMap<String, i64>,
) -> ServerMessage {
    ServerMessage::DataRefreshed {
        world_build_id,
        asset,
        run_id: Some(run_id),
        tables: row_counts.keys().cloned().collect(),
        row_counts: counts_value(row_counts),
    }
}

fn counts_value(row_counts: &BTreeMap<String, i64>) -> serde_json::Value {
    row_counts.iter().map(|(k, v)| (k.clone(), serde_json::Value::from(*v))).collect::<serde_json::Map<_, _>>().into()
}

/// `data/world/latest.json`: the active build's map asset parts and their checksums.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorldPointer {
    /// The map part (first paint): `/data/world/<build>.exmp`.
    pub asset: String,
    /// SHA-256 of the database's bundle (map part then names part).
    pub bundle_sha256: String,
    /// RFC 3339, whole seconds, UTC.
    pub generated_at: String,
    /// The names part: `/data/world/<build>.names`.
    pub names: String,
    pub names_sha256: String,
    /// SHA-256 of the map part.
    pub sha256: String,
    /// Systems in the map part.
    pub systems: usize,
    pub world_build_id: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{PhaseOutcome, TransformOutcome};
    use serde_json::json;

    /// `message` is the JSON it has always been on the wire (and decodes as the frame type).
    fn same_bytes(message: ServerMessage, was: serde_json::Value) {
        let text = message.to_string();
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), was);
        serde_json::from_str::<ServerMessage>(&text).expect("decodes as a frame");
    }

    #[test]
    fn run_messages_keep_their_wire_bytes() {
        let run_id = Uuid::from_u128(0x1234);
        same_bytes(
            run_running(run_id, Phase::Transform),
            json!({"type": "run.progress", "run_id": run_id, "phase": "transform", "status": "running"}),
        );
        same_bytes(
            run_failed(run_id, Phase::Ingest, "gate failed"),
            json!({"type": "run.progress", "run_id": run_id, "phase": "ingest", "status": "failed", "reason": "gate failed"}),
        );
        let t = TransformOutcome { world_build_id: 7, placed: 3, unplaced: 1, in_scope: 2, in_margin: 1, beyond: 0 };
        let outcome = Outcome::Ran { run_id, outcome: PhaseOutcome::Transform(t) };
        same_bytes(
            run_done(run_id, Phase::Transform, &outcome),
            json!({"type": "run.progress", "run_id": run_id, "phase": "transform", "status": "done", "counts": {
                "run_id": run_id, "executed": true, "world_build_id": 7, "placed": 3, "unplaced": 1,
                "in_scope": 2, "in_margin": 1, "beyond": 0,
            }}),
        );
        same_bytes(
            run_completed_failed(run_id, "no"),
            json!({"type": "run.completed", "run_id": run_id, "status": "fail", "reason": "no"}),
        );
        let counts: BTreeMap<String, i64> = [("systems".to_string(), 5), ("stars_xyz".to_string(), 6)].into();
        same_bytes(
            run_completed(run_id, RunStatus::Warn, 9, &counts),
            json!({"type": "run.completed", "run_id": run_id, "status": "warn", "world_build_id": 9, "row_counts": counts}),
        );
        for asset in [Some("/data/world/9.exmp".to_string()), None] {
            same_bytes(
                data_refreshed(run_id, 9, asset.clone(), &counts),
                json!({"type": "data.refreshed", "world_build_id": 9, "run_id": run_id,
                       "tables": ["stars_xyz", "systems"], "row_counts": counts, "asset": asset}),
            );
        }
    }

    #[test]
    fn the_world_pointer_keeps_its_bytes() {
        let p = WorldPointer {
            asset: "/data/world/3.exmp".into(),
            bundle_sha256: "b".into(),
            generated_at: "2026-01-01T00:00:00Z".into(),
            names: "/data/world/3.names".into(),
            names_sha256: "n".into(),
            sha256: "m".into(),
            systems: 12,
            world_build_id: 3,
        };
        let was = json!({
            "world_build_id": 3, "asset": "/data/world/3.exmp", "names": "/data/world/3.names",
            "sha256": "m", "names_sha256": "n", "bundle_sha256": "b", "systems": 12,
            "generated_at": "2026-01-01T00:00:00Z",
        });
        assert_eq!(serde_json::to_vec_pretty(&p).unwrap(), serde_json::to_vec_pretty(&was).unwrap());
    }
}

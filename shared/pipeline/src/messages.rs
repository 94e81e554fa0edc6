//! What the chain sends out: the run messages on the WebSocket channels (`runs:<run_id>`,
//! `data`, `admin`; DOMAIN.md §8) and the world pointer `data/world/latest.json`.
//!
//! Fields are declared in alphabetical order: the order these messages have always had on the
//! wire (they were built as JSON maps), so their bytes are unchanged; the tests below hold that.

use crate::outcome::Outcome;
use exomaps_store::runs::{PhaseStatus, RunStatus};
use exomaps_wire::pipeline::Phase;
use serde::Serialize;
use std::collections::BTreeMap;
use uuid::Uuid;

/// `run.progress`: a phase of a run started (`running`), finished (`done`, with its counts)
/// or failed (with the reason).
#[derive(Debug, Clone, Serialize)]
pub struct RunProgress<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<&'a Outcome>,
    pub phase: Phase,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
    pub run_id: Uuid,
    pub status: PhaseStatus,
    #[serde(rename = "type")]
    pub kind: RunProgressType,
}

/// `run.completed`: the run ended: `fail` with the reason, or `pass`/`warn` with its build.
#[derive(Debug, Clone, Serialize)]
pub struct RunCompleted<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row_counts: Option<&'a BTreeMap<String, i64>>,
    pub run_id: Uuid,
    pub status: RunStatus,
    #[serde(rename = "type")]
    pub kind: RunCompletedType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub world_build_id: Option<i64>,
}

/// `data.refreshed`: a new world build is active (the SPA reloads the map).
#[derive(Debug, Clone, Serialize)]
pub struct DataRefreshed<'a> {
    /// The map part's path (`/data/world/<build>.exmp`), none without an object store.
    pub asset: Option<String>,
    pub row_counts: &'a BTreeMap<String, i64>,
    pub run_id: Uuid,
    /// The tables of `row_counts`.
    pub tables: Vec<&'a str>,
    #[serde(rename = "type")]
    pub kind: DataRefreshedType,
    pub world_build_id: i64,
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

/// Serialises `value` with its keys in alphabetical order (through a JSON map), for a nested
/// struct declared in another order that these messages have always carried sorted.
pub(crate) fn sorted_keys<T: Serialize, S: serde::Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    serde_json::to_value(value).map_err(serde::ser::Error::custom)?.serialize(s)
}

/// A one-value enum serialised as the message's `type` name.
macro_rules! message_type {
    ($t:ident, $name:literal) => {
        #[doc = concat!("The `type` of the message: always `", $name, "`.")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
        pub enum $t {
            #[default]
            #[serde(rename = $name)]
            Value,
        }
    };
}
pub(crate) use message_type;
message_type!(RunProgressType, "run.progress");
message_type!(RunCompletedType, "run.completed");
message_type!(DataRefreshedType, "data.refreshed");

impl<'a> RunProgress<'a> {
    pub fn running(run_id: Uuid, phase: Phase) -> RunProgress<'a> {
        RunProgress {
            counts: None,
            phase,
            reason: None,
            run_id,
            status: PhaseStatus::Running,
            kind: Default::default(),
        }
    }

    pub fn done(run_id: Uuid, phase: Phase, counts: &'a Outcome) -> RunProgress<'a> {
        RunProgress { counts: Some(counts), status: PhaseStatus::Done, ..RunProgress::running(run_id, phase) }
    }

    pub fn failed(run_id: Uuid, phase: Phase, reason: &'a str) -> RunProgress<'a> {
        RunProgress { reason: Some(reason), status: PhaseStatus::Failed, ..RunProgress::running(run_id, phase) }
    }
}

impl<'a> RunCompleted<'a> {
    pub fn failed(run_id: Uuid, reason: &'a str) -> RunCompleted<'a> {
        RunCompleted {
            reason: Some(reason),
            row_counts: None,
            run_id,
            status: RunStatus::Fail,
            kind: Default::default(),
            world_build_id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{PhaseOutcome, TransformOutcome};
    use serde_json::json;

    /// The bytes of `message` equal those of the JSON map it replaces.
    fn same_bytes(message: impl Serialize, was: serde_json::Value) {
        assert_eq!(serde_json::to_string(&message).unwrap(), serde_json::to_string(&was).unwrap());
    }

    #[test]
    fn run_messages_keep_their_wire_bytes() {
        let run_id = Uuid::from_u128(0x1234);
        same_bytes(
            RunProgress::running(run_id, Phase::Transform),
            json!({"type": "run.progress", "run_id": run_id, "phase": "transform", "status": "running"}),
        );
        same_bytes(
            RunProgress::failed(run_id, Phase::Ingest, "gate failed"),
            json!({"type": "run.progress", "run_id": run_id, "phase": "ingest", "status": "failed", "reason": "gate failed"}),
        );
        let t = TransformOutcome { world_build_id: 7, placed: 3, unplaced: 1, in_scope: 2, in_margin: 1, beyond: 0 };
        let outcome = Outcome::Ran { run_id, outcome: PhaseOutcome::Transform(t) };
        same_bytes(
            RunProgress::done(run_id, Phase::Transform, &outcome),
            json!({"type": "run.progress", "run_id": run_id, "phase": "transform", "status": "done", "counts": {
                "run_id": run_id, "executed": true, "world_build_id": 7, "placed": 3, "unplaced": 1,
                "in_scope": 2, "in_margin": 1, "beyond": 0,
            }}),
        );
        same_bytes(
            RunCompleted::failed(run_id, "no"),
            json!({"type": "run.completed", "run_id": run_id, "status": "fail", "reason": "no"}),
        );
        let counts: BTreeMap<String, i64> = [("systems".to_string(), 5), ("stars_xyz".to_string(), 6)].into();
        same_bytes(
            RunCompleted {
                reason: None,
                row_counts: Some(&counts),
                run_id,
                status: RunStatus::Warn,
                kind: Default::default(),
                world_build_id: Some(9),
            },
            json!({"type": "run.completed", "run_id": run_id, "status": "warn", "world_build_id": 9, "row_counts": counts}),
        );
        for asset in [Some("/data/world/9.exmp".to_string()), None] {
            same_bytes(
                DataRefreshed {
                    asset: asset.clone(),
                    row_counts: &counts,
                    run_id,
                    tables: vec!["stars_xyz", "systems"],
                    kind: Default::default(),
                    world_build_id: 9,
                },
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

//! What a phase did, typed: one struct per phase ([`IngestOutcome`], [`CanonOutcome`],
//! [`TransformOutcome`], [`InferOutcome`], [`PublishOutcome`]) gathered in [`PhaseOutcome`], and
//! [`Outcome`], what handling one message did (the phase ran, or it had already run).
//!
//! The JSON forms are produced here only, where they leave the process:
//! * [`PhaseOutcome::stored`] — the phase's `counts` in `stg_data.run_phases` (read back by
//!   `GET /api/runs/{run_id}`): `{"run_id", "executed": true, …the phase's fields}`; ingest
//!   stores its list of sources, publish has no `run_id` (the formats the phases have always
//!   stored).
//! * [`Outcome`]'s `Serialize` — the `counts` of a `run.progress` message and of a
//!   [`RunReport`](crate::RunReport): the stored form (ingest: `{"run_id", "executed",
//!   "sources"}`), or `{"run_id", "executed": false, "world_build_id"}` for a redelivery.
//!
//! Both have their keys in alphabetical order, as they always had on the wire.

use exomaps_wire::pipeline::Phase;
use serde::Serialize;
use uuid::Uuid;

pub use crate::canonicalise::CanonOutcome;
pub use crate::infer::InferOutcome;
pub use crate::ingest::{IngestOutcome, SourceOutcome};
pub use crate::publish::PublishOutcome;
pub use crate::transform::TransformOutcome;

/// The outcome of a phase that ran.
#[derive(Debug, Clone, PartialEq)]
pub enum PhaseOutcome {
    Ingest(IngestOutcome),
    Canonicalise(CanonOutcome),
    Transform(TransformOutcome),
    Infer(InferOutcome),
    Publish(PublishOutcome),
}

/// A phase's fields after `run_id` and `executed` (the stored and sent form).
#[derive(Serialize)]
struct Executed<'a, T: Serialize> {
    #[serde(skip_serializing_if = "Option::is_none")]
    run_id: Option<Uuid>,
    /// Always true here: a phase that did not run has no [`PhaseOutcome`].
    executed: bool,
    #[serde(flatten)]
    fields: &'a T,
}

impl PhaseOutcome {
    pub fn phase(&self) -> Phase {
        match self {
            PhaseOutcome::Ingest(_) => Phase::Ingest,
            PhaseOutcome::Canonicalise(_) => Phase::Canonicalise,
            PhaseOutcome::Transform(_) => Phase::Transform,
            PhaseOutcome::Infer(_) => Phase::Infer,
            PhaseOutcome::Publish(_) => Phase::Publish,
        }
    }

    /// The rows the phase worked through: the sources' rows for ingest, stars for
    /// canonicalise, placed + unplaced stars for transform, systems for infer and publish.
    pub fn rows(&self) -> u64 {
        let n = |v: usize| v as u64;
        match self {
            PhaseOutcome::Ingest(o) => o.sources.iter().map(|s| n(s.total_rows)).sum(),
            PhaseOutcome::Canonicalise(o) => n(o.stars),
            PhaseOutcome::Transform(o) => n(o.placed + o.unplaced),
            PhaseOutcome::Infer(o) => n(o.systems),
            PhaseOutcome::Publish(o) => o.row_counts.get("systems").map_or(0, |&c| c.max(0) as u64),
        }
    }

    /// The world build the phase worked on (none for ingest).
    pub fn world_build_id(&self) -> Option<i64> {
        match self {
            PhaseOutcome::Ingest(_) => None,
            PhaseOutcome::Canonicalise(o) => Some(o.world_build_id),
            PhaseOutcome::Transform(o) => Some(o.world_build_id),
            PhaseOutcome::Infer(o) => Some(o.world_build_id),
            PhaseOutcome::Publish(o) => Some(o.world_build_id),
        }
    }

    /// The phase's `counts` as stored in `stg_data.run_phases`.
    pub fn stored(&self, run_id: Uuid) -> Result<serde_json::Value, serde_json::Error> {
        let run_id = Some(run_id);
        match self {
            PhaseOutcome::Ingest(o) => serde_json::to_value(&o.sources),
            PhaseOutcome::Canonicalise(o) => serde_json::to_value(Executed { run_id, executed: true, fields: o }),
            PhaseOutcome::Transform(o) => serde_json::to_value(Executed { run_id, executed: true, fields: o }),
            PhaseOutcome::Infer(o) => serde_json::to_value(Executed { run_id, executed: true, fields: o }),
            PhaseOutcome::Publish(o) => serde_json::to_value(Executed { run_id: None, executed: true, fields: o }),
        }
    }

    /// The `counts` sent in `run.progress` once the phase is done.
    fn sent(&self, run_id: Uuid) -> Result<serde_json::Value, serde_json::Error> {
        match self {
            PhaseOutcome::Ingest(o) => {
                serde_json::to_value(Executed { run_id: Some(run_id), executed: true, fields: o })
            }
            _ => self.stored(run_id),
        }
    }
}

/// What handling one phase message did.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The phase ran now.
    Ran { run_id: Uuid, outcome: PhaseOutcome },
    /// The phase had already completed for this run (a redelivered message): nothing was done.
    Redelivered { run_id: Uuid, phase: Phase, world_build_id: Option<i64> },
}

/// The `counts` of a redelivered phase.
#[derive(Serialize)]
struct NotExecuted {
    executed: bool,
    run_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    world_build_id: Option<i64>,
}

impl Outcome {
    pub fn phase(&self) -> Phase {
        match self {
            Outcome::Ran { outcome, .. } => outcome.phase(),
            Outcome::Redelivered { phase, .. } => *phase,
        }
    }

    /// The phase's outcome when it ran now.
    pub fn ran(&self) -> Option<&PhaseOutcome> {
        match self {
            Outcome::Ran { outcome, .. } => Some(outcome),
            Outcome::Redelivered { .. } => None,
        }
    }

    /// Did the phase run now (false: a redelivery found it done)?
    pub fn executed(&self) -> bool {
        self.ran().is_some()
    }

    /// The rows the phase worked through now (0 for a redelivery).
    pub fn rows(&self) -> u64 {
        self.ran().map_or(0, PhaseOutcome::rows)
    }

    /// The outcome as JSON (the `counts` of `run.progress`; see the module docs).
    pub fn to_json(&self) -> Result<serde_json::Value, serde_json::Error> {
        match self {
            Outcome::Ran { run_id, outcome } => outcome.sent(*run_id),
            Outcome::Redelivered { run_id, world_build_id, .. } => {
                serde_json::to_value(NotExecuted { executed: false, run_id: *run_id, world_build_id: *world_build_id })
            }
        }
    }
}

impl Serialize for Outcome {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Through `Value`: the keys come out in alphabetical order, as they always went out.
        self.to_json().map_err(serde::ser::Error::custom)?.serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use exomaps_domain::catalogue::contract::GateStatus;
    use exomaps_store::runs::RunStatus;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn source(rows: usize) -> SourceOutcome {
        SourceOutcome {
            family: crate::Family::Simbad,
            source_name: "SIMBAD_01.csv".into(),
            sha256: "ab".into(),
            total_rows: rows,
            accepted_rows: rows - 1,
            quarantined_rows: 1,
            issue_counts: [("missing_ra".to_string(), 1)].into(),
            gate_status: GateStatus::Warn,
        }
    }

    fn publish() -> PublishOutcome {
        PublishOutcome {
            world_build_id: 4,
            status: RunStatus::Warn,
            row_counts: [("systems".to_string(), 12), ("stars_xyz".to_string(), 13)].into(),
            asset_key: None,
        }
    }

    #[test]
    fn stored_counts_keep_the_formats_each_phase_always_stored() {
        let run_id = Uuid::from_u128(9);
        let ingest = PhaseOutcome::Ingest(IngestOutcome { sources: vec![source(10)] });
        assert_eq!(
            ingest.stored(run_id).unwrap(),
            json!([{"family": "SIMBAD", "source_name": "SIMBAD_01.csv", "sha256": "ab", "total_rows": 10,
                    "accepted_rows": 9, "quarantined_rows": 1, "issue_counts": {"missing_ra": 1},
                    "gate_status": "warn"}]),
            "ingest stores its list of sources"
        );
        let sent = Outcome::Ran { run_id, outcome: ingest.clone() }.to_json().unwrap();
        assert_eq!(sent["executed"], true);
        assert_eq!(sent["run_id"], run_id.to_string());
        assert_eq!(sent["sources"], ingest.stored(run_id).unwrap(), "ingest sends them under `sources`");

        let t = TransformOutcome { world_build_id: 3, placed: 5, unplaced: 2, in_scope: 4, in_margin: 1, beyond: 0 };
        let t = PhaseOutcome::Transform(t);
        assert_eq!(
            t.stored(run_id).unwrap(),
            json!({"run_id": run_id, "executed": true, "world_build_id": 3, "placed": 5, "unplaced": 2,
                   "in_scope": 4, "in_margin": 1, "beyond": 0})
        );
        assert_eq!(Outcome::Ran { run_id, outcome: t.clone() }.to_json().unwrap(), t.stored(run_id).unwrap());

        let p = PhaseOutcome::Publish(publish());
        assert_eq!(
            p.stored(run_id).unwrap(),
            json!({"world_build_id": 4, "executed": true, "status": "warn",
                   "row_counts": {"systems": 12, "stars_xyz": 13}, "asset_key": null}),
            "publish stores no run_id"
        );
    }

    #[test]
    fn rows_phase_and_build_come_from_the_typed_outcome() {
        let run_id = Uuid::from_u128(1);
        let ingest = PhaseOutcome::Ingest(IngestOutcome { sources: vec![source(10), source(32)] });
        assert_eq!((ingest.rows(), ingest.phase(), ingest.world_build_id()), (42, Phase::Ingest, None));
        let t = PhaseOutcome::Transform(TransformOutcome {
            world_build_id: 3,
            placed: 5,
            unplaced: 2,
            in_scope: 4,
            in_margin: 1,
            beyond: 0,
        });
        assert_eq!((t.rows(), t.phase(), t.world_build_id()), (7, Phase::Transform, Some(3)));
        let p = PhaseOutcome::Publish(publish());
        assert_eq!((p.rows(), p.phase()), (12, Phase::Publish));
        let mut none = publish();
        none.row_counts = BTreeMap::new();
        assert_eq!(PhaseOutcome::Publish(none).rows(), 0);

        let ran = Outcome::Ran { run_id, outcome: t };
        assert!(ran.executed());
        assert_eq!(ran.rows(), 7);
        let again = Outcome::Redelivered { run_id, phase: Phase::Infer, world_build_id: Some(3) };
        assert!(!again.executed());
        assert_eq!((again.rows(), again.phase()), (0, Phase::Infer));
        assert_eq!(again.to_json().unwrap(), json!({"executed": false, "run_id": run_id, "world_build_id": 3}));
        let first = Outcome::Redelivered { run_id, phase: Phase::Ingest, world_build_id: None };
        assert_eq!(first.to_json().unwrap(), json!({"executed": false, "run_id": run_id}));
        assert_eq!(serde_json::to_value(&first).unwrap(), first.to_json().unwrap(), "Serialize is to_json");
    }
}

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

use crate::chain::Phase;
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

//! Pipeline runs and their phases.

use crate::{Result, Store};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

/// A run's status (the `ingest_runs.status` column): one name per state, used by the column,
/// the JSON answers and the WebSocket messages alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Queued,
    Running,
    Pass,
    Warn,
    Fail,
}

impl RunStatus {
    pub const ALL: [RunStatus; 5] =
        [RunStatus::Queued, RunStatus::Running, RunStatus::Pass, RunStatus::Warn, RunStatus::Fail];

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Pass => "pass",
            RunStatus::Warn => "warn",
            RunStatus::Fail => "fail",
        }
    }

    /// Has the run ended (pass, warn or fail)?
    pub fn is_finished(self) -> bool {
        matches!(self, RunStatus::Pass | RunStatus::Warn | RunStatus::Fail)
    }
}

/// A phase's status on a run (the `run_phases.status` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseStatus {
    Running,
    Done,
    Failed,
}

impl PhaseStatus {
    pub const ALL: [PhaseStatus; 3] = [PhaseStatus::Running, PhaseStatus::Done, PhaseStatus::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            PhaseStatus::Running => "running",
            PhaseStatus::Done => "done",
            PhaseStatus::Failed => "failed",
        }
    }
}

/// A status enum stored as its name in a `text` column: parsed from and written as
/// [`as_str`](RunStatus::as_str); an unknown name in the column is a decoding error.
macro_rules! text_enum {
    ($t:ident) => {
        impl std::str::FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> std::result::Result<$t, String> {
                $t::ALL.into_iter().find(|v| v.as_str() == s).ok_or_else(|| format!("not a {}: {s:?}", stringify!($t)))
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl PartialEq<&str> for $t {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
        impl sqlx::Type<sqlx::Postgres> for $t {
            fn type_info() -> sqlx::postgres::PgTypeInfo {
                <&str as sqlx::Type<sqlx::Postgres>>::type_info()
            }
            fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
                <&str as sqlx::Type<sqlx::Postgres>>::compatible(ty)
            }
        }
        impl<'r> sqlx::Decode<'r, sqlx::Postgres> for $t {
            fn decode(value: sqlx::postgres::PgValueRef<'r>) -> std::result::Result<$t, sqlx::error::BoxDynError> {
                Ok(<&str as sqlx::Decode<sqlx::Postgres>>::decode(value)?.parse()?)
            }
        }
        impl sqlx::Encode<'_, sqlx::Postgres> for $t {
            fn encode_by_ref(
                &self,
                buf: &mut sqlx::postgres::PgArgumentBuffer,
            ) -> std::result::Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&str as sqlx::Encode<sqlx::Postgres>>::encode_by_ref(&self.as_str(), buf)
            }
        }
    };
}
text_enum!(RunStatus);
text_enum!(PhaseStatus);

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RunRow {
    pub run_id: Uuid,
    pub run_name: String,
    // `queued`, `running`, `pass`, `warn` or `fail` (a string in the OpenAPI document, as before).
    #[schema(value_type = String)]
    pub status: RunStatus,
    pub seed: Option<i64>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub failure_reason: Option<String>,
    pub notes: Option<String>,
}

/// Limits on queued and running runs (issue 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunLimits {
    pub per_user: u32,
    pub global: u32,
    pub stale_secs: u64,
}

impl Default for RunLimits {
    fn default() -> Self {
        RunLimits { per_user: 2, global: 4, stale_secs: 3600 }
    }
}

/// What [`Store::queue_run_limited`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueOutcome {
    Queued,
    /// The caller already has this many runs queued or running.
    UserLimit {
        active: i64,
    },
    /// Everyone together has this many.
    GlobalLimit {
        active: i64,
    },
}

/// What a phase found when it tried to start: the idempotency check on (run_id, phase).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseStart {
    /// The phase is ours to run now.
    Started,
    /// The phase already completed for this run: a redelivery, nothing to do.
    AlreadyDone,
}

impl Store {
    /// Creates a run, or starts a queued one (idempotent on `run_id`).
    pub async fn create_run(&self, run_id: Uuid, run_name: &str, seed: Option<i64>) -> Result<()> {
        sqlx::query!(
            "INSERT INTO stg_data.ingest_runs (run_id, run_name, status, seed) VALUES ($1, $2, 'running', $3)
             ON CONFLICT (run_id) DO UPDATE SET status = 'running' WHERE ingest_runs.status = 'queued'",
            run_id,
            run_name,
            seed,
        )
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Records a run accepted by the API whose kick message is on its way.
    pub async fn queue_run(&self, run_id: Uuid, run_name: &str, seed: Option<i64>) -> Result<()> {
        sqlx::query!(
            "INSERT INTO stg_data.ingest_runs (run_id, run_name, status, seed) VALUES ($1, $2, 'queued', $3)
             ON CONFLICT (run_id) DO NOTHING",
            run_id,
            run_name,
            seed,
        )
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Records a run accepted by the API (as [`Store::queue_run`]) unless the caller already has
    /// `per_user` or everyone together `global` runs queued or running (runs started more than
    /// `stale_secs` ago no longer count: a crashed run cannot block starting runs forever).
    /// Serialised by a transaction-scoped advisory lock, so concurrent starts cannot overshoot.
    pub async fn queue_run_limited(
        &self,
        run_id: Uuid,
        run_name: &str,
        seed: Option<i64>,
        requested_by: Option<Uuid>,
        limits: RunLimits,
    ) -> Result<QueueOutcome> {
        let mut tx = self.pool().begin().await?;
        sqlx::query!("SELECT pg_advisory_xact_lock(hashtext('exomaps.run_limits'))").execute(&mut *tx).await?;
        let active = sqlx::query!(
            r#"SELECT count(*) FILTER (WHERE requested_by IS NOT DISTINCT FROM $1 AND $1 IS NOT NULL) AS "mine!",
                    count(*) AS "all!"
             FROM stg_data.ingest_runs
             WHERE status IN ('queued', 'running') AND started_at > now() - make_interval(secs => $2)"#,
            requested_by,
            limits.stale_secs as f64,
        )
        .fetch_one(&mut *tx)
        .await?;
        let (mine, all) = (active.mine, active.all);
        if requested_by.is_some() && mine >= i64::from(limits.per_user) {
            return Ok(QueueOutcome::UserLimit { active: mine });
        }
        if all >= i64::from(limits.global) {
            return Ok(QueueOutcome::GlobalLimit { active: all });
        }
        sqlx::query!(
            "INSERT INTO stg_data.ingest_runs (run_id, run_name, status, seed, requested_by)
             VALUES ($1, $2, 'queued', $3, $4) ON CONFLICT (run_id) DO NOTHING",
            run_id,
            run_name,
            seed,
            requested_by,
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(QueueOutcome::Queued)
    }

    pub async fn finish_run(&self, run_id: Uuid, status: RunStatus, failure_reason: Option<&str>) -> Result<()> {
        sqlx::query!(
            "UPDATE stg_data.ingest_runs SET status = $2, failure_reason = $3, finished_at = now() WHERE run_id = $1",
            run_id,
            status.as_str(),
            failure_reason,
        )
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Fails a run whose `phase` message was dead-lettered, with `reason`, unless it already
    /// ended (pass/warn/fail). A run the dead message never got to create is recorded as failed.
    /// The phase row, when there is one, is marked failed with the same reason. True when the
    /// run was failed now.
    pub async fn fail_dead_lettered_run(&self, run_id: Uuid, phase: &str, reason: &str) -> Result<bool> {
        let mut tx = self.pool().begin().await?;
        let changed = sqlx::query!(
            "INSERT INTO stg_data.ingest_runs (run_id, run_name, status, failure_reason, finished_at)
             VALUES ($1, 'dead-lettered run', 'fail', $2, now())
             ON CONFLICT (run_id) DO UPDATE SET status = 'fail', failure_reason = EXCLUDED.failure_reason,
                 finished_at = now()
             WHERE ingest_runs.status IN ('queued', 'running')",
            run_id,
            reason,
        )
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if changed {
            sqlx::query!(
                "UPDATE stg_data.run_phases SET status = 'failed', error = $3, finished_at = now()
                 WHERE run_id = $1 AND phase = $2 AND status <> 'done'",
                run_id,
                phase,
                reason,
            )
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    pub async fn run(&self, run_id: Uuid) -> Result<Option<RunRow>> {
        // `status: _`: decoded as the field's type (the column is text).
        Ok(sqlx::query_as!(
            RunRow,
            r#"SELECT run_id, run_name, status AS "status: _", seed, started_at, finished_at, failure_reason, notes
             FROM stg_data.ingest_runs WHERE run_id = $1"#,
            run_id,
        )
        .fetch_optional(self.pool())
        .await?)
    }

    /// Marks a phase as started unless it already completed (redelivered message). `phase` is
    /// the phase's one name (`Phase::as_str`).
    pub async fn start_phase(&self, run_id: Uuid, phase: &str) -> Result<PhaseStart> {
        let status: Option<PhaseStatus> = sqlx::query_scalar!(
            "INSERT INTO stg_data.run_phases (run_id, phase, status) VALUES ($1, $2, 'running')
             ON CONFLICT (run_id, phase) DO UPDATE
                 SET status = CASE WHEN run_phases.status = 'done' THEN 'done' ELSE 'running' END,
                     started_at = CASE WHEN run_phases.status = 'done' THEN run_phases.started_at ELSE now() END,
                     error = NULL
             RETURNING status AS \"status: PhaseStatus\"",
            run_id,
            phase,
        )
        .fetch_optional(self.pool())
        .await?;
        Ok(if status == Some(PhaseStatus::Done) { PhaseStart::AlreadyDone } else { PhaseStart::Started })
    }

    pub async fn finish_phase(
        &self,
        run_id: Uuid,
        phase: &str,
        ok: bool,
        counts: &serde_json::Value,
        error: Option<&str>,
    ) -> Result<()> {
        sqlx::query!(
            "UPDATE stg_data.run_phases SET status = $3, counts = $4, error = $5, finished_at = now()
             WHERE run_id = $1 AND phase = $2",
            run_id,
            phase,
            if ok { PhaseStatus::Done } else { PhaseStatus::Failed }.as_str(),
            counts,
            error,
        )
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Gate thresholds for a source family, read from `pipeline_gate_config`.
    pub async fn gate_config(&self, family: &str) -> Result<exomaps_domain::catalogue::contract::GateConfig> {
        let rows = sqlx::query!(
            "SELECT gate_name, threshold_value FROM stg_data.pipeline_gate_config
             WHERE source_family = $1 AND is_active",
            family,
        )
        .fetch_all(self.pool())
        .await?;
        // A gate absent from the table (or inactive) never trips: a rate cannot exceed 1.
        let mut cfg =
            exomaps_domain::catalogue::contract::GateConfig { max_quarantine_rate: 1.0, max_duplicate_rate: 1.0 };
        for row in rows {
            match row.gate_name.as_str() {
                "max_quarantine_rate" => cfg.max_quarantine_rate = row.threshold_value,
                "max_duplicate_rate" => cfg.max_duplicate_rate = row.threshold_value,
                _ => {}
            }
        }
        Ok(cfg)
    }
}

impl Store {
    /// Did any source of the run pass its gate only with a warning?
    pub async fn run_has_gate_warnings(&self, run_id: Uuid) -> Result<bool> {
        Ok(sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM stg_data.source_manifest WHERE run_id = $1 AND gate_status = 'warn')
                 AS "warned!""#,
            run_id,
        )
        .fetch_one(self.pool())
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_have_one_name_each_for_column_and_json() {
        for s in RunStatus::ALL {
            assert_eq!(s.as_str().parse::<RunStatus>(), Ok(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str(), "the JSON name is the column name");
            assert_eq!(s, s.as_str());
        }
        for s in PhaseStatus::ALL {
            assert_eq!(s.as_str().parse::<PhaseStatus>(), Ok(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for bad in ["", "Pass", "passed", "done", " fail"] {
            assert!(bad.parse::<RunStatus>().is_err(), "{bad:?}");
        }
        assert!("pass".parse::<PhaseStatus>().is_err());
        assert!(RunStatus::Warn.is_finished() && !RunStatus::Running.is_finished() && !RunStatus::Queued.is_finished());
    }
}

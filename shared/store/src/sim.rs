//! Simulations (issue 10): the simulation rows, their append-only events, state snapshots,
//! committed batches and the WebSocket replay cursors of the `sim:<id>` channel. The store is
//! model-agnostic: states and event payloads are JSON here; `exomaps_pipeline::sim` owns the
//! meaning.

use crate::{Result, Store, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;
pub use sqlx::types::Json;
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

/// The state machine of DOMAIN.md §7.7 (the `state` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    Idle,
    Running,
    Paused,
    Completed,
    Failed,
}

impl RunState {
    pub const ALL: [RunState; 5] =
        [RunState::Idle, RunState::Running, RunState::Paused, RunState::Completed, RunState::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Idle => "idle",
            RunState::Running => "running",
            RunState::Paused => "paused",
            RunState::Completed => "completed",
            RunState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<RunState> {
        RunState::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// One simulation row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SimRow {
    pub sim_id: Uuid,
    pub world_build_id: i64,
    pub name: Option<String>,
    pub scenario: String,
    pub params: Json<serde_json::Value>,
    pub seed: i64,
    pub start_system: String,
    pub state: String,
    pub current_tick: i64,
    pub target_tick: Option<i64>,
    pub batch_ticks: i32,
    pub tick_interval_ms: i32,
    pub snapshot_every: i32,
    pub run_epoch: i32,
    pub model_version: String,
    pub parent_id: Option<Uuid>,
    pub fork_tick: Option<i64>,
    pub failure_reason: Option<String>,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl SimRow {
    pub fn run_state(&self) -> RunState {
        RunState::parse(&self.state).unwrap_or(RunState::Failed)
    }
}

/// A new simulation (its tick-0 events and snapshot are written with it).
#[derive(Debug, Clone)]
pub struct NewSim {
    pub sim_id: Uuid,
    pub world_build_id: i64,
    pub name: Option<String>,
    pub scenario: String,
    pub params: serde_json::Value,
    pub seed: i64,
    pub start_system: String,
    pub target_tick: Option<i64>,
    pub batch_ticks: i32,
    pub tick_interval_ms: i32,
    pub snapshot_every: i32,
    pub model_version: String,
    pub parent_id: Option<Uuid>,
    pub fork_tick: Option<i64>,
    pub created_by: Option<String>,
}

/// One stored event.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, sqlx::FromRow)]
pub struct EventRow {
    pub tick: i64,
    pub seq: i32,
    pub kind: String,
    pub location: Option<i32>,
    /// The model's event body, `{"event", "payload"}`.
    pub payload: Json<serde_json::Value>,
}

/// One stored snapshot.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SnapshotRow {
    pub tick: i64,
    pub state: Json<serde_json::Value>,
    pub state_hash: String,
    pub model_version: String,
}

/// A snapshot to write.
#[derive(Debug, Clone)]
pub struct NewSnapshot {
    pub tick: i64,
    pub state: serde_json::Value,
    pub state_hash: String,
}

/// One committed batch.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BatchRow {
    pub from_tick: i64,
    pub to_tick: i64,
    pub run_epoch: i32,
    pub source: String,
    pub events: i32,
    pub compute_ms: i32,
}

/// A batch to commit: guarded by the expected current tick, the states it may run in, and (for
/// queued batches) the run epoch.
#[derive(Debug, Clone)]
pub struct CommitBatch<'a> {
    pub sim_id: Uuid,
    pub from_tick: i64,
    pub to_tick: i64,
    pub allowed_states: &'a [RunState],
    pub run_epoch: Option<i32>,
    /// The state after the batch (e.g. `completed` when the target tick is reached); None keeps it.
    pub new_state: Option<RunState>,
    pub events: &'a [EventRow],
    pub snapshots: &'a [NewSnapshot],
    /// `queue` or `step`.
    pub source: &'a str,
    pub compute_ms: i32,
}

impl Store {
    /// Creates a simulation with its first events and snapshot, in one transaction.
    pub async fn insert_simulation(&self, sim: &NewSim, events: &[EventRow], snapshot: &NewSnapshot) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query!(
            "INSERT INTO app_simulation.simulations (sim_id, world_build_id, name, scenario, params, seed,
                 start_system, current_tick, target_tick, batch_ticks, tick_interval_ms, snapshot_every,
                 model_version, parent_id, fork_tick, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
            sim.sim_id,
            sim.world_build_id,
            sim.name.as_deref(),
            &sim.scenario,
            Json(&sim.params) as _,
            sim.seed,
            &sim.start_system,
            snapshot.tick,
            sim.target_tick,
            sim.batch_ticks,
            sim.tick_interval_ms,
            sim.snapshot_every,
            &sim.model_version,
            sim.parent_id,
            sim.fork_tick,
            sim.created_by.as_deref(),
        )
        .execute(&mut *tx)
        .await?;
        if let (Some(parent), Some(at)) = (sim.parent_id, sim.fork_tick) {
            // A fork's history up to the fork tick is its parent's.
            sqlx::query!(
                "INSERT INTO app_simulation.simulation_events (sim_id, tick, seq, kind, location, payload)
                 SELECT $1, tick, seq, kind, location, payload FROM app_simulation.simulation_events
                 WHERE sim_id = $2 AND tick <= $3",
                sim.sim_id,
                parent,
                at,
            )
            .execute(&mut *tx)
            .await?;
        }
        insert_events(&mut tx, sim.sim_id, events).await?;
        insert_snapshots(&mut tx, sim.sim_id, &sim.model_version, std::slice::from_ref(snapshot)).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn simulation(&self, sim_id: Uuid) -> Result<Option<SimRow>> {
        Ok(sqlx::query_as!(
            SimRow,
            r#"SELECT sim_id, world_build_id, name, scenario, params AS "params: Json<serde_json::Value>", seed, start_system,
                    state, current_tick, target_tick, batch_ticks, tick_interval_ms, snapshot_every, run_epoch,
                    model_version, parent_id, fork_tick, failure_reason, created_by, created_at, updated_at
             FROM app_simulation.simulations WHERE sim_id = $1"#,
            sim_id,
        )
        .fetch_optional(self.pool())
        .await?)
    }

    /// Simulations, newest first.
    pub async fn simulations(&self, limit: i64, offset: i64) -> Result<(Vec<SimRow>, i64)> {
        let rows = sqlx::query_as!(
            SimRow,
            r#"SELECT sim_id, world_build_id, name, scenario, params AS "params: Json<serde_json::Value>", seed, start_system,
                    state, current_tick, target_tick, batch_ticks, tick_interval_ms, snapshot_every, run_epoch,
                    model_version, parent_id, fork_tick, failure_reason, created_by, created_at, updated_at
             FROM app_simulation.simulations ORDER BY created_at DESC, sim_id LIMIT $1 OFFSET $2"#,
            limit,
            offset,
        )
        .fetch_all(self.pool())
        .await?;
        let total = sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM app_simulation.simulations"#)
            .fetch_one(self.pool())
            .await?;
        Ok((rows, total))
    }

    /// Event counts by kind.
    pub async fn sim_event_counts(&self, sim_id: Uuid) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query!(
            r#"SELECT kind, count(*) AS "count!" FROM app_simulation.simulation_events
               WHERE sim_id = $1 GROUP BY kind ORDER BY kind"#,
            sim_id,
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|r| (r.kind, r.count)).collect())
    }

    /// The latest snapshot at or before `tick`.
    pub async fn sim_snapshot_at_or_before(&self, sim_id: Uuid, tick: i64) -> Result<Option<SnapshotRow>> {
        Ok(sqlx::query_as!(
            SnapshotRow,
            r#"SELECT tick, state AS "state: Json<serde_json::Value>", state_hash, model_version
               FROM app_simulation.simulation_snapshots
               WHERE sim_id = $1 AND tick <= $2 ORDER BY tick DESC LIMIT 1"#,
            sim_id,
            tick,
        )
        .fetch_optional(self.pool())
        .await?)
    }

    /// The first snapshot strictly after `tick`.
    pub async fn sim_snapshot_after(&self, sim_id: Uuid, tick: i64) -> Result<Option<SnapshotRow>> {
        Ok(sqlx::query_as!(
            SnapshotRow,
            r#"SELECT tick, state AS "state: Json<serde_json::Value>", state_hash, model_version
               FROM app_simulation.simulation_snapshots
               WHERE sim_id = $1 AND tick > $2 ORDER BY tick LIMIT 1"#,
            sim_id,
            tick,
        )
        .fetch_optional(self.pool())
        .await?)
    }

    /// The ticks of a simulation's snapshots, ascending.
    pub async fn sim_snapshot_ticks(&self, sim_id: Uuid) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar!(
            "SELECT tick FROM app_simulation.simulation_snapshots WHERE sim_id = $1 ORDER BY tick",
            sim_id
        )
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn insert_sim_snapshot(&self, sim_id: Uuid, model_version: &str, snapshot: &NewSnapshot) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        insert_snapshots(&mut tx, sim_id, model_version, std::slice::from_ref(snapshot)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Events with `after_tick < tick <= through_tick`, ascending by (tick, seq).
    pub async fn sim_events_between(&self, sim_id: Uuid, after_tick: i64, through_tick: i64) -> Result<Vec<EventRow>> {
        Ok(sqlx::query_as!(
            EventRow,
            r#"SELECT tick, seq, kind, location, payload AS "payload: Json<serde_json::Value>"
               FROM app_simulation.simulation_events
               WHERE sim_id = $1 AND tick > $2 AND tick <= $3 ORDER BY tick, seq"#,
            sim_id,
            after_tick,
            through_tick,
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// A page of events strictly after the cursor `(after_tick, after_seq)`, ascending, at most
    /// `limit`, optionally of one kind.
    pub async fn sim_events_page(
        &self,
        sim_id: Uuid,
        after_tick: i64,
        after_seq: i32,
        kind: Option<&str>,
        limit: i64,
    ) -> Result<Vec<EventRow>> {
        Ok(sqlx::query_as!(
            EventRow,
            r#"SELECT tick, seq, kind, location, payload AS "payload: Json<serde_json::Value>"
               FROM app_simulation.simulation_events
               WHERE sim_id = $1 AND (tick, seq) > ($2, $3) AND ($4::text IS NULL OR kind = $4)
               ORDER BY tick, seq LIMIT $5"#,
            sim_id,
            after_tick,
            after_seq,
            kind,
            limit,
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// Commits one batch if, and only if, the simulation is still at `from_tick`, in one of the
    /// allowed states (and epoch): events, snapshots, the batch row and the new tick in one
    /// transaction. Returns the updated row, or None when the guard did not hold (nothing written).
    pub async fn commit_sim_batch(&self, b: &CommitBatch<'_>) -> Result<Option<SimRow>> {
        let mut tx = self.pool().begin().await?;
        let states: Vec<&str> = b.allowed_states.iter().map(|s| s.as_str()).collect();
        let row = sqlx::query_as!(
            SimRow,
            r#"UPDATE app_simulation.simulations
               SET current_tick = $2, state = COALESCE($6, state), updated_at = now()
               WHERE sim_id = $1 AND current_tick = $3 AND state = ANY($4) AND ($5::int IS NULL OR run_epoch = $5)
               RETURNING sim_id, world_build_id, name, scenario, params AS "params: Json<serde_json::Value>", seed, start_system,
                    state, current_tick, target_tick, batch_ticks, tick_interval_ms, snapshot_every, run_epoch,
                    model_version, parent_id, fork_tick, failure_reason, created_by, created_at, updated_at"#,
            b.sim_id,
            b.to_tick,
            b.from_tick,
            &states as _,
            b.run_epoch,
            b.new_state.map(|s| s.as_str()),
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(None);
        };
        insert_events(&mut tx, b.sim_id, b.events).await?;
        insert_snapshots(&mut tx, b.sim_id, &row.model_version, b.snapshots).await?;
        sqlx::query!(
            "INSERT INTO app_simulation.simulation_batches (sim_id, from_tick, to_tick, run_epoch, source, events, compute_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            b.sim_id,
            b.from_tick,
            b.to_tick,
            row.run_epoch,
            b.source,
            b.events.len() as i32,
            b.compute_ms,
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(row))
    }

    /// The batch committed from `from_tick`, if any.
    pub async fn sim_batch(&self, sim_id: Uuid, from_tick: i64) -> Result<Option<BatchRow>> {
        Ok(sqlx::query_as!(
            BatchRow,
            "SELECT from_tick, to_tick, run_epoch, source, events, compute_ms FROM app_simulation.simulation_batches
             WHERE sim_id = $1 AND from_tick = $2",
            sim_id,
            from_tick,
        )
        .fetch_optional(self.pool())
        .await?)
    }

    /// A state transition guarded by the current state(s): returns the updated row, or None
    /// when the simulation was in none of `from` (nothing changed). `bump_epoch` starts a new
    /// run epoch (resume).
    pub async fn transition_sim(
        &self,
        sim_id: Uuid,
        from: &[RunState],
        to: RunState,
        bump_epoch: bool,
    ) -> Result<Option<SimRow>> {
        let states: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
        Ok(sqlx::query_as!(
            SimRow,
            r#"UPDATE app_simulation.simulations
               SET state = $3, run_epoch = run_epoch + CASE WHEN $4 THEN 1 ELSE 0 END, updated_at = now()
               WHERE sim_id = $1 AND state = ANY($2)
               RETURNING sim_id, world_build_id, name, scenario, params AS "params: Json<serde_json::Value>", seed, start_system,
                    state, current_tick, target_tick, batch_ticks, tick_interval_ms, snapshot_every, run_epoch,
                    model_version, parent_id, fork_tick, failure_reason, created_by, created_at, updated_at"#,
            sim_id,
            &states as _,
            to.as_str(),
            bump_epoch,
        )
        .fetch_optional(self.pool())
        .await?)
    }

    /// Marks a simulation failed with a reason (from any state but `completed`).
    pub async fn fail_sim(&self, sim_id: Uuid, reason: &str) -> Result<()> {
        sqlx::query!(
            "UPDATE app_simulation.simulations SET state = 'failed', failure_reason = $2, updated_at = now()
             WHERE sim_id = $1 AND state <> 'completed'",
            sim_id,
            reason,
        )
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The in-scope systems of a build as the simulation world needs them.
    pub async fn sim_world_systems(&self, world_build_id: i64) -> Result<Vec<SimSystemRow>> {
        Ok(sqlx::query_as!(
            SimSystemRow,
            r#"SELECT s.main_id, x.x_pc, x.y_pc, x.z_pc, s.spectral_class,
                    COALESCE(b.observed_planets, 0) + COALESCE(b.inferred_planets, 0) AS "planets!",
                    COALESCE(b.inferred_belts, 0) AS "belts!",
                    COALESCE((SELECT count(*) FROM json_array_elements(COALESCE(b.inference -> 'planets', '[]'::json)) p
                              WHERE (p ->> 'in_hz')::boolean), 0)::int AS "hz_planets!"
             FROM dm_galaxy.stars_xyz x JOIN dm_galaxy.stars s USING (star_id)
             LEFT JOIN dm_galaxy.build_systems b ON b.world_build_id = x.world_build_id AND b.star_id = x.star_id
             WHERE x.world_build_id = $1 AND x.in_scope
             ORDER BY s.main_id"#,
            world_build_id,
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// The main_id of the in-scope system of a build named `main_id`, or by alias key.
    pub async fn sim_resolve_system(
        &self,
        world_build_id: i64,
        main_id: &str,
        alias_norm: &str,
    ) -> Result<Option<String>> {
        Ok(sqlx::query_scalar!(
            "SELECT s.main_id FROM dm_galaxy.stars_xyz x JOIN dm_galaxy.stars s USING (star_id)
             WHERE x.world_build_id = $1 AND x.in_scope
               AND (s.main_id = $2 OR s.star_id IN (SELECT star_id FROM dm_galaxy.star_aliases WHERE alias_norm = $3))
             ORDER BY (s.main_id = $2) DESC LIMIT 1",
            world_build_id,
            main_id,
            alias_norm,
        )
        .fetch_optional(self.pool())
        .await?)
    }

    /// Opens the `sim:<id>` feed: a transaction holding the simulation's advisory lock, so a
    /// subscriber's replay and the live pushes of batches are serialised.
    pub async fn sim_feed(&self, sim_id: Uuid) -> Result<SimFeed> {
        let mut tx = self.pool().begin().await?;
        sqlx::query!("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))", sim_id.to_string())
            .execute(&mut *tx)
            .await?;
        Ok(SimFeed { tx, sim_id })
    }
}

/// One system of the simulation world.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SimSystemRow {
    pub main_id: String,
    pub x_pc: f64,
    pub y_pc: f64,
    pub z_pc: f64,
    pub spectral_class: Option<String>,
    pub planets: i32,
    pub belts: i32,
    pub hz_planets: i32,
}

/// The `sim:<id>` feed under its lock (see [`Store::sim_feed`]); dropped without `done`, it
/// rolls back (cursors unchanged).
pub struct SimFeed {
    tx: Transaction<'static, Postgres>,
    sim_id: Uuid,
}

impl SimFeed {
    /// The simulation's committed tick (read under the lock).
    pub async fn current_tick(&mut self) -> Result<i64> {
        sqlx::query_scalar!("SELECT current_tick FROM app_simulation.simulations WHERE sim_id = $1", self.sim_id)
            .fetch_optional(&mut *self.tx)
            .await?
            .ok_or_else(|| StoreError::Conflict(format!("unknown simulation {}", self.sim_id)))
    }

    /// Subscribes a connection to `sim:<id>` with its cursor at `delivered_through`.
    pub async fn subscribe(&mut self, connection_id: &str, delivered_through: i64) -> Result<()> {
        sqlx::query!(
            "INSERT INTO app_realtime.ws_subscriptions (connection_id, channel) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            connection_id,
            format!("sim:{}", self.sim_id),
        )
        .execute(&mut *self.tx)
        .await?;
        self.set_cursor(connection_id, delivered_through).await
    }

    pub async fn set_cursor(&mut self, connection_id: &str, delivered_through: i64) -> Result<()> {
        sqlx::query!(
            "INSERT INTO app_simulation.ws_cursors (connection_id, sim_id, delivered_through) VALUES ($1, $2, $3)
             ON CONFLICT (connection_id, sim_id) DO UPDATE SET delivered_through = EXCLUDED.delivered_through",
            connection_id,
            self.sim_id,
            delivered_through,
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Subscribers of `sim:<id>` with the tick each has been sent through (None: no cursor).
    pub async fn subscribers(&mut self) -> Result<Vec<(String, Option<i64>)>> {
        let rows = sqlx::query!(
            r#"SELECT s.connection_id, c.delivered_through AS "delivered_through?" FROM app_realtime.ws_subscriptions s
               LEFT JOIN app_simulation.ws_cursors c ON c.connection_id = s.connection_id AND c.sim_id = $2
               WHERE s.channel = $1 ORDER BY s.connection_id"#,
            format!("sim:{}", self.sim_id),
            self.sim_id,
        )
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(rows.into_iter().map(|r| (r.connection_id, r.delivered_through)).collect())
    }

    /// Events with `after_tick < tick <= through_tick`, ascending.
    pub async fn events_between(&mut self, after_tick: i64, through_tick: i64) -> Result<Vec<EventRow>> {
        Ok(sqlx::query_as!(
            EventRow,
            r#"SELECT tick, seq, kind, location, payload AS "payload: Json<serde_json::Value>"
               FROM app_simulation.simulation_events
               WHERE sim_id = $1 AND tick > $2 AND tick <= $3 ORDER BY tick, seq"#,
            self.sim_id,
            after_tick,
            through_tick,
        )
        .fetch_all(&mut *self.tx)
        .await?)
    }

    /// Forgets a connection (gone): its subscriptions and cursors.
    pub async fn drop_connection(&mut self, connection_id: &str) -> Result<()> {
        sqlx::query!("DELETE FROM app_realtime.ws_connections WHERE connection_id = $1", connection_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Commits the cursor updates and releases the lock.
    pub async fn done(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

async fn insert_events(tx: &mut Transaction<'static, Postgres>, sim_id: Uuid, events: &[EventRow]) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let rows = serde_json::to_value(events).map_err(|e| StoreError::Conflict(format!("events: {e}")))?;
    sqlx::query!(
        "INSERT INTO app_simulation.simulation_events (sim_id, tick, seq, kind, location, payload)
         SELECT $1, e.tick, e.seq, e.kind, e.location, e.payload
         FROM jsonb_to_recordset($2) AS e(tick bigint, seq int, kind text, location int, payload jsonb)",
        sim_id,
        rows,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_snapshots(
    tx: &mut Transaction<'static, Postgres>,
    sim_id: Uuid,
    model_version: &str,
    snapshots: &[NewSnapshot],
) -> Result<()> {
    for s in snapshots {
        sqlx::query!(
            "INSERT INTO app_simulation.simulation_snapshots (sim_id, tick, state, state_hash, model_version)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sim_id, tick) DO NOTHING",
            sim_id,
            s.tick,
            &s.state,
            &s.state_hash,
            model_version,
        )
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

-- The World Engine as a service (issue 10): simulations, their append-only events (the truth),
-- state snapshots (caches, every `snapshot_every` ticks and on pause) and the WebSocket replay
-- cursors of the `sim:<id>` channel.

CREATE SCHEMA IF NOT EXISTS app_simulation;

CREATE TABLE app_simulation.simulations (
    sim_id          UUID PRIMARY KEY,
    world_build_id  BIGINT NOT NULL REFERENCES dm_galaxy.world_builds (world_build_id),
    name            TEXT,
    scenario        TEXT NOT NULL,
    params          JSONB NOT NULL,
    seed            BIGINT NOT NULL,
    start_system    TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'idle'
                    CHECK (state IN ('idle', 'running', 'paused', 'completed', 'failed')),
    current_tick    BIGINT NOT NULL DEFAULT 0 CHECK (current_tick >= 0),
    -- Ends the run (`completed`) when reached; NULL: open-ended.
    target_tick     BIGINT CHECK (target_tick IS NULL OR target_tick > 0),
    -- Most ticks one queued batch advances, and the wall time each tick should take at least
    -- (0: as fast as the batch budget allows). The speed setting spaces the batches.
    batch_ticks     INTEGER NOT NULL DEFAULT 100 CHECK (batch_ticks BETWEEN 1 AND 1000),
    tick_interval_ms INTEGER NOT NULL DEFAULT 0 CHECK (tick_interval_ms BETWEEN 0 AND 60000),
    snapshot_every  INTEGER NOT NULL DEFAULT 10 CHECK (snapshot_every BETWEEN 1 AND 10000),
    -- Incremented by every resume: tick messages of an older epoch are stale (no-ops), and the
    -- FIFO deduplication id includes it, so a pause + resume at the same tick is not dropped.
    run_epoch       INTEGER NOT NULL DEFAULT 0,
    model_version   TEXT NOT NULL,
    parent_id       UUID REFERENCES app_simulation.simulations (sim_id),
    fork_tick       BIGINT,
    failure_reason  TEXT,
    created_by      TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((parent_id IS NULL) = (fork_tick IS NULL))
);
CREATE INDEX simulations_created ON app_simulation.simulations (created_at DESC, sim_id);

-- Append-only: rows are inserted by the one guarded batch commit (or copied by a fork), never
-- updated or deleted.
CREATE TABLE app_simulation.simulation_events (
    sim_id    UUID NOT NULL REFERENCES app_simulation.simulations (sim_id),
    tick      BIGINT NOT NULL,
    seq       INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    location  INTEGER,
    payload   JSONB NOT NULL,
    PRIMARY KEY (sim_id, tick, seq)
);
CREATE INDEX simulation_events_kind ON app_simulation.simulation_events (sim_id, kind, tick, seq);

CREATE TABLE app_simulation.simulation_snapshots (
    sim_id         UUID NOT NULL REFERENCES app_simulation.simulations (sim_id),
    tick           BIGINT NOT NULL,
    state          JSONB NOT NULL,
    state_hash     TEXT NOT NULL,
    model_version  TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (sim_id, tick)
);

-- One row per committed batch (what a redelivered tick message looks up).
CREATE TABLE app_simulation.simulation_batches (
    sim_id      UUID NOT NULL REFERENCES app_simulation.simulations (sim_id),
    from_tick   BIGINT NOT NULL,
    to_tick     BIGINT NOT NULL,
    run_epoch   INTEGER NOT NULL,
    source      TEXT NOT NULL,
    events      INTEGER NOT NULL,
    compute_ms  INTEGER NOT NULL,
    committed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (sim_id, from_tick)
);

-- Per WebSocket connection and simulation: the last tick whose events it has been sent (by the
-- `after_tick` replay or a live batch). Replay and live pushes hold the same advisory lock,
-- so each event reaches a connection once, in order.
CREATE TABLE app_simulation.ws_cursors (
    connection_id     TEXT NOT NULL REFERENCES app_realtime.ws_connections (connection_id) ON DELETE CASCADE,
    sim_id            UUID NOT NULL,
    delivered_through BIGINT NOT NULL,
    PRIMARY KEY (connection_id, sim_id)
);

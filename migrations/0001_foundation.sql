-- ExoMaps foundation schema (DOMAIN.md §3.4): pipeline runs, staging, quarantine, stars and
-- positions. Forward-only: later capabilities add migrations; none edits this file.

CREATE SCHEMA IF NOT EXISTS stg_data;
CREATE SCHEMA IF NOT EXISTS dm_galaxy;

-- One row per pipeline run (ingest run id is the run id of every later phase).
CREATE TABLE stg_data.ingest_runs (
    run_id          UUID PRIMARY KEY,
    run_name        TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'running'
                    CHECK (status IN ('queued', 'running', 'pass', 'warn', 'fail')),
    seed            BIGINT,
    started_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at     TIMESTAMPTZ,
    failure_reason  TEXT,
    notes           TEXT
);
CREATE INDEX ingest_runs_started_at ON stg_data.ingest_runs (started_at DESC);

-- Per-phase state: the idempotency key of every phase is (run_id, phase).
CREATE TABLE stg_data.run_phases (
    run_id       UUID NOT NULL REFERENCES stg_data.ingest_runs (run_id) ON DELETE CASCADE,
    phase        TEXT NOT NULL CHECK (phase IN ('ingest', 'canonicalise', 'transform', 'infer', 'publish')),
    status       TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    started_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at  TIMESTAMPTZ,
    counts       JSONB NOT NULL DEFAULT '{}'::jsonb,
    error        TEXT,
    PRIMARY KEY (run_id, phase)
);

-- Gate thresholds, actually read by the ingest phase.
CREATE TABLE stg_data.pipeline_gate_config (
    source_family    TEXT NOT NULL CHECK (source_family IN ('SIMBAD', 'EXOPLANETS')),
    gate_name        TEXT NOT NULL CHECK (gate_name IN ('max_quarantine_rate', 'max_duplicate_rate')),
    threshold_value  DOUBLE PRECISION NOT NULL CHECK (threshold_value >= 0 AND threshold_value <= 1),
    severity         TEXT NOT NULL CHECK (severity IN ('fail', 'warn')),
    is_active        BOOLEAN NOT NULL DEFAULT true,
    PRIMARY KEY (source_family, gate_name)
);
INSERT INTO stg_data.pipeline_gate_config (source_family, gate_name, threshold_value, severity) VALUES
    ('SIMBAD', 'max_quarantine_rate', 0.20, 'fail'),
    ('SIMBAD', 'max_duplicate_rate', 0.10, 'warn'),
    ('EXOPLANETS', 'max_quarantine_rate', 0.20, 'fail'),
    ('EXOPLANETS', 'max_duplicate_rate', 0.10, 'warn');

-- Per-file provenance.
CREATE TABLE stg_data.source_manifest (
    source_manifest_id    BIGSERIAL PRIMARY KEY,
    run_id                UUID NOT NULL REFERENCES stg_data.ingest_runs (run_id) ON DELETE CASCADE,
    source_family         TEXT NOT NULL CHECK (source_family IN ('SIMBAD', 'EXOPLANETS')),
    source_name           TEXT NOT NULL,
    file_uri              TEXT NOT NULL,
    file_checksum_sha256  TEXT NOT NULL,
    file_bytes            BIGINT NOT NULL,
    contract_version      TEXT NOT NULL,
    row_count             INTEGER NOT NULL,
    accepted_rows         INTEGER NOT NULL,
    quarantined_rows      INTEGER NOT NULL,
    gate_status           TEXT NOT NULL CHECK (gate_status IN ('pass', 'warn', 'fail')),
    ingested_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    metadata              JSONB NOT NULL DEFAULT '{}'::jsonb,
    UNIQUE (run_id, source_name)
);

-- Per-file gate result.
CREATE TABLE stg_data.validation_summary (
    run_id            UUID NOT NULL REFERENCES stg_data.ingest_runs (run_id) ON DELETE CASCADE,
    source_name       TEXT NOT NULL,
    total_rows        INTEGER NOT NULL,
    accepted_rows     INTEGER NOT NULL,
    quarantined_rows  INTEGER NOT NULL,
    warning_count     INTEGER NOT NULL,
    fail_count        INTEGER NOT NULL,
    gate_status       TEXT NOT NULL CHECK (gate_status IN ('pass', 'warn', 'fail')),
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    details           JSONB NOT NULL DEFAULT '{}'::jsonb,
    PRIMARY KEY (run_id, source_name)
);

-- One row per failed check (a row failing two checks appears twice); the raw row is kept.
CREATE TABLE stg_data.validation_quarantine (
    quarantine_id  BIGSERIAL PRIMARY KEY,
    run_id         UUID NOT NULL REFERENCES stg_data.ingest_runs (run_id) ON DELETE CASCADE,
    source_name    TEXT NOT NULL,
    row_number     INTEGER NOT NULL,
    error_code     TEXT NOT NULL CHECK (error_code IN ('REQUIRED_NULL', 'INVALID_NUMERIC', 'OUT_OF_RANGE',
                       'DUPLICATE_IDENTITY', 'RA_LOOKS_LIKE_HOURS', 'MALFORMED_ROW', 'INVALID_ENCODING')),
    column_name    TEXT NOT NULL,
    error_detail   TEXT NOT NULL,
    raw_record     JSONB NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX validation_quarantine_run ON stg_data.validation_quarantine (run_id, source_name, row_number);

-- Accepted SIMBAD rows, typed and normalised (raw main_id kept beside the normalised one).
CREATE TABLE stg_data.stg_simbad_raw (
    run_id            UUID NOT NULL REFERENCES stg_data.ingest_runs (run_id) ON DELETE CASCADE,
    source_name       TEXT NOT NULL,
    row_number        INTEGER NOT NULL,
    sys_id            BIGINT NOT NULL,
    sys_code          TEXT,
    main_id           TEXT NOT NULL,
    main_id_raw       TEXT NOT NULL,
    ids               TEXT[] NOT NULL,
    otype_txt         TEXT,
    otype_shortname   TEXT,
    otype_longname    TEXT,
    otypes            TEXT[] NOT NULL,
    spectral_type     TEXT,
    ra_deg            DOUBLE PRECISION NOT NULL,
    dec_deg           DOUBLE PRECISION NOT NULL,
    dist_pc           DOUBLE PRECISION,
    multiplicity      SMALLINT NOT NULL,
    notes             JSONB NOT NULL DEFAULT '[]'::jsonb,
    PRIMARY KEY (run_id, source_name, row_number)
);

-- A world build: the set of positions (and later inferred bodies) one run produced.
-- Exactly one build is active at a time; the read API serves the active one.
CREATE TABLE dm_galaxy.world_builds (
    world_build_id  BIGSERIAL PRIMARY KEY,
    run_id          UUID NOT NULL UNIQUE REFERENCES stg_data.ingest_runs (run_id) ON DELETE CASCADE,
    status          TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'archived')),
    scope_ly        DOUBLE PRECISION NOT NULL,
    margin_ly       DOUBLE PRECISION NOT NULL,
    seed            BIGINT,
    stars_count     INTEGER NOT NULL DEFAULT 0,
    in_scope_count  INTEGER NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    activated_at    TIMESTAMPTZ
);
CREATE UNIQUE INDEX world_builds_one_active ON dm_galaxy.world_builds ((true)) WHERE status = 'active';

-- One star identity per object, keyed by its normalised main identifier.
CREATE TABLE dm_galaxy.stars (
    star_id           BIGSERIAL PRIMARY KEY,
    main_id           TEXT NOT NULL UNIQUE,
    source_name       TEXT NOT NULL,
    source_object_id  TEXT,
    ra_deg            DOUBLE PRECISION,
    dec_deg           DOUBLE PRECISION,
    distance_pc       DOUBLE PRECISION,
    otype             TEXT,
    otypes            TEXT[] NOT NULL DEFAULT '{}',
    spectral_type     TEXT,
    spectral_class    TEXT,
    class_source      TEXT CHECK (class_source IN ('catalogue', 'otype_hint', 'curated')),
    multiplicity      SMALLINT NOT NULL DEFAULT 1,
    source_run_id     UUID REFERENCES stg_data.ingest_runs (run_id) ON DELETE SET NULL,
    source_row        INTEGER,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Every alias (SIMBAD ids, names) → its star; alias_norm is names::alias_key.
CREATE TABLE dm_galaxy.star_aliases (
    alias_norm  TEXT PRIMARY KEY,
    alias       TEXT NOT NULL,
    star_id     BIGINT NOT NULL REFERENCES dm_galaxy.stars (star_id) ON DELETE CASCADE
);
CREATE INDEX star_aliases_star ON dm_galaxy.star_aliases (star_id);

-- Phase 02 output: heliocentric ICRS Cartesian positions in parsecs, per world build.
-- distance_pc/ly are computed in Rust (no generated columns).
CREATE TABLE dm_galaxy.stars_xyz (
    world_build_id    BIGINT NOT NULL REFERENCES dm_galaxy.world_builds (world_build_id) ON DELETE CASCADE,
    star_id           BIGINT NOT NULL REFERENCES dm_galaxy.stars (star_id) ON DELETE CASCADE,
    x_pc              DOUBLE PRECISION NOT NULL,
    y_pc              DOUBLE PRECISION NOT NULL,
    z_pc              DOUBLE PRECISION NOT NULL,
    distance_pc       DOUBLE PRECISION NOT NULL,
    distance_ly       DOUBLE PRECISION NOT NULL,
    distance_source   TEXT NOT NULL CHECK (distance_source IN ('parallax', 'catalog_distance', 'curated')),
    uncertainty_pc    DOUBLE PRECISION,
    uncertainty_flag  TEXT NOT NULL CHECK (uncertainty_flag IN ('known', 'unknown')),
    in_scope          BOOLEAN NOT NULL,
    in_margin         BOOLEAN NOT NULL,
    PRIMARY KEY (world_build_id, star_id)
);
CREATE INDEX stars_xyz_build_distance ON dm_galaxy.stars_xyz (world_build_id, distance_pc);

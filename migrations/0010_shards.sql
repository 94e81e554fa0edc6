-- Sharded ingest (issue 15): a CSV source bigger than a shard is split into line-aligned byte
-- ranges (exomaps_domain::catalogue::shard); each shard is ingested by its own message, and the
-- shard that completes the run's count joins them (cross-shard duplicates, summary, gate).

-- A sharded source of a run: what the plan read of the file as a whole.
CREATE TABLE stg_data.ingest_sources (
    run_id        UUID NOT NULL REFERENCES stg_data.ingest_runs (run_id) ON DELETE CASCADE,
    source_name   TEXT NOT NULL,
    family        TEXT NOT NULL CHECK (family IN ('SIMBAD', 'EXOPLANETS')),
    file_uri      TEXT NOT NULL,
    file_sha256   TEXT NOT NULL,
    file_bytes    BIGINT NOT NULL CHECK (file_bytes >= 0),
    contract_version TEXT NOT NULL,
    header_end    BIGINT NOT NULL CHECK (header_end > 0),
    header_lines  INTEGER NOT NULL CHECK (header_lines >= 1),
    shard_count   INTEGER NOT NULL CHECK (shard_count >= 1),
    PRIMARY KEY (run_id, source_name)
);

-- One line-aligned byte range of a sharded source, and what its ingest counted.
CREATE TABLE stg_data.ingest_shards (
    run_id          UUID NOT NULL,
    source_name     TEXT NOT NULL,
    shard_index     INTEGER NOT NULL CHECK (shard_index >= 0),
    byte_start      BIGINT NOT NULL,
    byte_end        BIGINT NOT NULL CHECK (byte_end >= byte_start),
    first_line      INTEGER NOT NULL,
    next_line       INTEGER NOT NULL CHECK (next_line > first_line),
    done_at         TIMESTAMPTZ,
    total_rows      INTEGER NOT NULL DEFAULT 0,
    accepted_rows   INTEGER NOT NULL DEFAULT 0,
    quarantined_rows INTEGER NOT NULL DEFAULT 0,
    duplicate_rows  INTEGER NOT NULL DEFAULT 0,
    error_records   INTEGER NOT NULL DEFAULT 0,
    issue_counts    JSONB NOT NULL DEFAULT '{}'::jsonb,
    note_counts     JSONB NOT NULL DEFAULT '{}'::jsonb,
    PRIMARY KEY (run_id, source_name, shard_index),
    FOREIGN KEY (run_id, source_name) REFERENCES stg_data.ingest_sources (run_id, source_name) ON DELETE CASCADE
);

-- The join of a fanned-out ingest: counted here, so exactly one shard (the one that brings
-- shards_done to shards_total) joins; `plan` lists the run's sources in kick order (the outcome
-- of a source ingested whole, or the name of a sharded one).
CREATE TABLE stg_data.ingest_fanouts (
    run_id        UUID PRIMARY KEY REFERENCES stg_data.ingest_runs (run_id) ON DELETE CASCADE,
    shards_total  INTEGER NOT NULL CHECK (shards_total >= 1),
    shards_done   INTEGER NOT NULL DEFAULT 0 CHECK (shards_done >= 0 AND shards_done <= shards_total),
    plan          JSONB NOT NULL,
    joined_at     TIMESTAMPTZ
);

-- The identity key of a quarantined row (a shard's rows only), so the join finds a duplicate
-- whose first occurrence was quarantined in another shard.
ALTER TABLE stg_data.validation_quarantine ADD COLUMN identity TEXT;

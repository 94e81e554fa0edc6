-- Issue 12: the HIPPARCOS and NAMES source families, and name search.
-- pg_trgm (trigram similarity, GIN index) and fuzzystrmatch (Levenshtein for typos) ship with
-- the PostgreSQL server (Debian's postgresql-15 package carries the contrib modules).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS fuzzystrmatch;

ALTER TABLE stg_data.pipeline_gate_config DROP CONSTRAINT pipeline_gate_config_source_family_check;
ALTER TABLE stg_data.pipeline_gate_config ADD CONSTRAINT pipeline_gate_config_source_family_check
    CHECK (source_family IN ('SIMBAD', 'EXOPLANETS', 'HIPPARCOS', 'NAMES'));
INSERT INTO stg_data.pipeline_gate_config (source_family, gate_name, threshold_value, severity) VALUES
    ('HIPPARCOS', 'max_quarantine_rate', 0.20, 'fail'),
    ('HIPPARCOS', 'max_duplicate_rate', 0.10, 'warn'),
    ('NAMES', 'max_quarantine_rate', 0.20, 'fail'),
    ('NAMES', 'max_duplicate_rate', 0.10, 'warn');

ALTER TABLE stg_data.source_manifest DROP CONSTRAINT source_manifest_source_family_check;
ALTER TABLE stg_data.source_manifest ADD CONSTRAINT source_manifest_source_family_check
    CHECK (source_family IN ('SIMBAD', 'EXOPLANETS', 'HIPPARCOS', 'NAMES'));

ALTER TABLE stg_data.validation_quarantine DROP CONSTRAINT validation_quarantine_error_code_check;
ALTER TABLE stg_data.validation_quarantine ADD CONSTRAINT validation_quarantine_error_code_check
    CHECK (error_code IN ('REQUIRED_NULL', 'INVALID_NUMERIC', 'OUT_OF_RANGE', 'DUPLICATE_IDENTITY',
        'RA_LOOKS_LIKE_HOURS', 'MALFORMED_ROW', 'INVALID_ENCODING', 'NON_POSITIVE_PARALLAX',
        'IMPLAUSIBLE_PARALLAX'));

-- Accepted Hipparcos 2 rows (positions at epoch J1991.25, degrees).
CREATE TABLE stg_data.stg_hipparcos_raw (
    run_id        UUID NOT NULL REFERENCES stg_data.ingest_runs (run_id) ON DELETE CASCADE,
    source_name   TEXT NOT NULL,
    row_number    INTEGER NOT NULL,
    hip           INTEGER NOT NULL,
    ra_deg        DOUBLE PRECISION NOT NULL,
    dec_deg       DOUBLE PRECISION NOT NULL,
    plx_mas       DOUBLE PRECISION NOT NULL,
    e_plx_mas     DOUBLE PRECISION NOT NULL,
    pm_ra_mas_yr  DOUBLE PRECISION NOT NULL,
    pm_dec_mas_yr DOUBLE PRECISION NOT NULL,
    hp_mag        DOUBLE PRECISION,
    b_v           DOUBLE PRECISION,
    notes         JSONB NOT NULL DEFAULT '[]'::jsonb,
    PRIMARY KEY (run_id, source_name, row_number)
);
CREATE INDEX stg_hipparcos_raw_plx ON stg_data.stg_hipparcos_raw (run_id, source_name, plx_mas);

-- Accepted NAMES entries (a star's names or a constellation), the typed record as JSON.
CREATE TABLE stg_data.stg_names_raw (
    run_id        UUID NOT NULL REFERENCES stg_data.ingest_runs (run_id) ON DELETE CASCADE,
    source_name   TEXT NOT NULL,
    row_number    INTEGER NOT NULL,
    document      TEXT NOT NULL CHECK (document IN ('star_names', 'constellations')),
    object_key    TEXT NOT NULL,
    record        JSONB NOT NULL,
    PRIMARY KEY (run_id, source_name, row_number)
);

-- Every name of every star of a build, for GET /api/search and name resolution:
-- name_key is names::search_key (case, accents, spacing, punctuation, Greek letters folded).
CREATE TABLE dm_galaxy.search_names (
    world_build_id  BIGINT NOT NULL REFERENCES dm_galaxy.world_builds (world_build_id) ON DELETE CASCADE,
    star_id         BIGINT NOT NULL REFERENCES dm_galaxy.stars (star_id) ON DELETE CASCADE,
    main_id         TEXT NOT NULL,
    name            TEXT NOT NULL,
    name_key        TEXT NOT NULL,
    -- the star's display name (repeated on each of its rows)
    display_name    TEXT,
    -- 0 display name, 1 other alias
    kind            SMALLINT NOT NULL
);
CREATE INDEX search_names_key ON dm_galaxy.search_names (world_build_id, name_key text_pattern_ops);
CREATE INDEX search_names_trgm ON dm_galaxy.search_names USING gin (name_key gin_trgm_ops);

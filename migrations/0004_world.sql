-- The full pipeline (issue 3): exoplanet staging, canonical stars per world build, observed and
-- inferred bodies, reference checks, the published map asset.

-- Accepted exoplanet rows: key columns for queries, the typed domain record for the phases.
CREATE TABLE stg_data.stg_exoplanet_raw (
    run_id        UUID NOT NULL REFERENCES stg_data.ingest_runs (run_id) ON DELETE CASCADE,
    source_name   TEXT NOT NULL,
    row_number    INTEGER NOT NULL,
    star_name     TEXT NOT NULL,
    planet_name   TEXT NOT NULL,
    record        JSONB NOT NULL,
    PRIMARY KEY (run_id, source_name, row_number)
);

ALTER TABLE dm_galaxy.stars DROP CONSTRAINT stars_class_source_check;
ALTER TABLE dm_galaxy.stars ADD CONSTRAINT stars_class_source_check
    CHECK (class_source IN ('catalogue', 'otype_hint', 'curated', 'teff_derived'));
ALTER TABLE dm_galaxy.stars
    ADD COLUMN stellar_kind     TEXT,
    ADD COLUMN teff_k           DOUBLE PRECISION,
    ADD COLUMN luminosity_lsun  DOUBLE PRECISION,
    ADD COLUMN mass_msun        DOUBLE PRECISION,
    ADD COLUMN radius_rsun      DOUBLE PRECISION,
    ADD COLUMN system_group     TEXT;

-- What a world build was made from, its seed, and the map asset it publishes.
ALTER TABLE dm_galaxy.world_builds
    ADD COLUMN sources            JSONB NOT NULL DEFAULT '{}'::jsonb,
    ADD COLUMN inference_version  TEXT,
    ADD COLUMN asset              BYTEA,
    ADD COLUMN asset_sha256       TEXT,
    ADD COLUMN asset_key          TEXT;

-- One row per canonical star of a build: the whole canonical record (aliases, planets,
-- distances, flags, sources) and, after Phase 03, its inferred system. The phases hand these
-- to each other; the read API serves them.
CREATE TABLE dm_galaxy.build_systems (
    world_build_id  BIGINT NOT NULL REFERENCES dm_galaxy.world_builds (world_build_id) ON DELETE CASCADE,
    star_id         BIGINT NOT NULL REFERENCES dm_galaxy.stars (star_id) ON DELETE CASCADE,
    main_id         TEXT NOT NULL,
    observed_planets INTEGER NOT NULL DEFAULT 0,
    inferred_planets INTEGER NOT NULL DEFAULT 0,
    inferred_belts   INTEGER NOT NULL DEFAULT 0,
    inferred_moons   INTEGER NOT NULL DEFAULT 0,
    canon           JSONB NOT NULL,
    inference       JSONB,
    PRIMARY KEY (world_build_id, star_id)
);
CREATE UNIQUE INDEX build_systems_main_id ON dm_galaxy.build_systems (world_build_id, main_id);

-- Reference distance checks (DOMAIN.md §4.5), one row per rule per run.
CREATE TABLE stg_data.reference_results (
    run_id          UUID NOT NULL REFERENCES stg_data.ingest_runs (run_id) ON DELETE CASCADE,
    rule_key        TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pass', 'warn', 'fail')),
    result          JSONB NOT NULL,
    checked_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, rule_key)
);

-- Phase state between Lambdas in typed columns (issue 15 item 2). Canonicalise writes, beside
-- each star's whole canonical record (build_systems.canon, JSON, which the system route
-- serves), what the later phases read of it: transform its position and distance, infer the
-- engine's inputs and what the map asset shows (exomaps_domain::build_input). Neither phase
-- decodes the JSON. A narrow table rather than columns on build_systems: the phases scan only
-- these rows, not the canonical records stored inline beside them.

CREATE TABLE dm_galaxy.build_inputs (
    world_build_id  BIGINT NOT NULL,
    star_id         BIGINT NOT NULL,
    main_id         TEXT NOT NULL,
    ra_deg          DOUBLE PRECISION,
    dec_deg         DOUBLE PRECISION,
    distance_pc     DOUBLE PRECISION,
    distance_source TEXT CHECK (distance_source IN ('parallax', 'catalog_distance', 'curated')),
    -- 1σ of the adopted distance when its measurement gives one (NULL: unknown, never 0).
    distance_uncertainty_pc DOUBLE PRECISION,
    spectral_class  TEXT CHECK (spectral_class IN ('O', 'B', 'A', 'F', 'G', 'K', 'M', 'L', 'T', 'Y', 'D')),
    spectral_subclass DOUBLE PRECISION,
    stellar_kind    TEXT NOT NULL CHECK (stellar_kind IN ('normal', 'white_dwarf', 'subdwarf', 'brown_dwarf',
                                                         'pulsar', 'cataclysmic', 'carbon_star', 'unknown')),
    teff_k          DOUBLE PRECISION,
    luminosity_lsun DOUBLE PRECISION,
    mass_msun       DOUBLE PRECISION,
    radius_rsun     DOUBLE PRECISION,
    metallicity_feh DOUBLE PRECISION,
    hp_mag          DOUBLE PRECISION,
    multiplicity    SMALLINT NOT NULL CHECK (multiplicity BETWEEN 0 AND 255),
    curated         BOOLEAN NOT NULL,
    display_name    TEXT,
    PRIMARY KEY (world_build_id, star_id),
    FOREIGN KEY (world_build_id, star_id)
        REFERENCES dm_galaxy.build_systems (world_build_id, star_id) ON DELETE CASCADE
);

-- Observed planets as the inference engine reads them, one row each, in the canonical
-- record's order (ordinal from 0).
CREATE TABLE dm_galaxy.build_planets (
    world_build_id  BIGINT NOT NULL,
    star_id         BIGINT NOT NULL,
    ordinal         INTEGER NOT NULL CHECK (ordinal >= 0),
    planet_name     TEXT NOT NULL,
    semi_major_axis_au  DOUBLE PRECISION,
    orbital_period_days DOUBLE PRECISION,
    eccentricity    DOUBLE PRECISION,
    mass_earth      DOUBLE PRECISION,
    radius_earth    DOUBLE PRECISION,
    PRIMARY KEY (world_build_id, star_id, ordinal),
    FOREIGN KEY (world_build_id, star_id)
        REFERENCES dm_galaxy.build_inputs (world_build_id, star_id) ON DELETE CASCADE
);

-- Builds written before this migration: the same values from their canonical records, so a
-- run in flight across the deploy places and completes its build as before.
INSERT INTO dm_galaxy.build_inputs (world_build_id, star_id, main_id, ra_deg, dec_deg, distance_pc, distance_source,
    distance_uncertainty_pc, spectral_class, spectral_subclass, stellar_kind, teff_k, luminosity_lsun, mass_msun,
    radius_rsun, metallicity_feh, hp_mag, multiplicity, curated, display_name)
SELECT world_build_id, star_id, main_id,
       (canon ->> 'ra_deg')::float8, (canon ->> 'dec_deg')::float8, (canon ->> 'distance_pc')::float8,
       canon ->> 'distance_source',
       CASE WHEN (canon #>> '{distances,0,distance_pc}')::float8 = (canon ->> 'distance_pc')::float8
            THEN (canon #>> '{distances,0,uncertainty_pc}')::float8 END,
       canon ->> 'spectral_class', (canon ->> 'spectral_subclass')::float8, canon ->> 'kind',
       (canon ->> 'teff_k')::float8, (canon ->> 'luminosity_lsun')::float8, (canon ->> 'mass_msun')::float8,
       (canon ->> 'radius_rsun')::float8, (canon ->> 'metallicity_feh')::float8, (canon ->> 'hp_mag')::float8,
       (canon ->> 'multiplicity')::int2, canon ->> 'provenance' = 'curated', canon ->> 'display_name'
FROM dm_galaxy.build_systems;

INSERT INTO dm_galaxy.build_planets (world_build_id, star_id, ordinal, planet_name, semi_major_axis_au,
    orbital_period_days, eccentricity, mass_earth, radius_earth)
SELECT b.world_build_id, b.star_id, (p.n - 1)::int4, p.planet ->> 'planet_name',
       (p.planet ->> 'semi_major_axis_au')::float8, (p.planet ->> 'orbital_period_days')::float8,
       (p.planet ->> 'eccentricity')::float8, (p.planet ->> 'mass_earth')::float8,
       (p.planet ->> 'radius_earth')::float8
FROM dm_galaxy.build_systems b
CROSS JOIN LATERAL jsonb_array_elements(b.canon -> 'planets') WITH ORDINALITY AS p (planet, n);

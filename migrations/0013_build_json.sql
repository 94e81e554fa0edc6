-- JSON records written once and read whole are stored as json (their text, validated) instead of
-- jsonb (issue 15): a system's canonical record and inference, and the typed record of a staged
-- exoplanet row or star-name entry. Nothing searches inside them with an index; jsonb's
-- conversion was a third to a half of the time to load them (the five source files: 9,405
-- canonical records and inferences, 449 ms as jsonb, 287 ms as json, 284 ms as text; 13,360
-- exoplanet records, 181 ms as jsonb, 95 ms as json), and reading them back whole needs no
-- conversion either. (Quarantined rows keep jsonb: they are few and compared whole.)
ALTER TABLE dm_galaxy.build_systems
    ALTER COLUMN canon TYPE json USING canon::json,
    ALTER COLUMN inference TYPE json USING inference::json;
ALTER TABLE stg_data.stg_exoplanet_raw ALTER COLUMN record TYPE json USING record::json;
ALTER TABLE stg_data.stg_names_raw ALTER COLUMN record TYPE json USING record::json;

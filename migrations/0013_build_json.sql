-- A system's canonical record and inference are stored as json (their text, validated) instead
-- of jsonb (issue 15). They are written once per build and read whole (the system detail, the
-- map asset), never searched inside by an index: jsonb's conversion was a third of the time to
-- load them (9,405 canonical records and inferences of the five source files: 449 ms as jsonb,
-- 287 ms as json, 284 ms as text), and reading them back whole needs no conversion either.
ALTER TABLE dm_galaxy.build_systems
    ALTER COLUMN canon TYPE json USING canon::json,
    ALTER COLUMN inference TYPE json USING inference::json;

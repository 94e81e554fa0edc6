-- Staging rows are checked against their run once per statement instead of once per row (issue
-- 15): the per-row foreign-key trigger of stg_simbad_raw.run_id was 6.1 of the 11.8 s PostgreSQL
-- took to load 1 M staging rows (docs/scale-out.md). The guarantees stay: a statement that stages
-- rows of a run that does not exist fails (SQLSTATE 23503, as the foreign key did), and deleting a
-- run deletes its staging rows. Staging rows are never updated (a rewrite deletes and inserts).
--
-- The two trigger functions are general: migration 0012 uses them for a world build's tables.

-- After an insert (or update): every key the statement wrote exists. TG_ARGV[0] is the
-- referenced table, the rest the key columns (the same names on both sides); the transition
-- table of the statement's rows is `written`.
CREATE FUNCTION stg_data.check_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cols TEXT;
    cond TEXT;
    missing TEXT;
BEGIN
    SELECT string_agg(format('%I', c), ', '), string_agg(format('r.%1$I = n.%1$I', c), ' AND ')
    INTO cols, cond
    FROM unnest(TG_ARGV[1:]) AS c;
    EXECUTE format('SELECT row(%s)::text FROM (SELECT DISTINCT %s FROM written) AS n
                    WHERE NOT EXISTS (SELECT 1 FROM %s AS r WHERE %s) LIMIT 1',
                   cols, cols, TG_ARGV[0], cond)
    INTO missing;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = format('rows written to %I.%I name %s (%s), which is not in %s',
                             TG_TABLE_SCHEMA, TG_TABLE_NAME, missing, cols, TG_ARGV[0]);
    END IF;
    RETURN NULL;
END
$$;

-- After a delete: the rows of other tables naming a deleted row go too (ON DELETE CASCADE, per
-- statement). TG_ARGV[0] is the key columns, comma-separated (the same names on both sides),
-- the rest the referencing tables; the transition table of the deleted rows is `gone`.
CREATE FUNCTION stg_data.delete_referencing() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cond TEXT;
    referencing TEXT;
BEGIN
    SELECT string_agg(format('t.%1$I = g.%1$I', trim(c)), ' AND ') INTO cond
    FROM unnest(string_to_array(TG_ARGV[0], ',')) AS c;
    FOREACH referencing IN ARRAY TG_ARGV[1:] LOOP
        EXECUTE format('DELETE FROM %s AS t USING gone AS g WHERE %s', referencing, cond);
    END LOOP;
    RETURN NULL;
END
$$;

ALTER TABLE stg_data.stg_simbad_raw DROP CONSTRAINT stg_simbad_raw_run_id_fkey;
ALTER TABLE stg_data.stg_exoplanet_raw DROP CONSTRAINT stg_exoplanet_raw_run_id_fkey;
ALTER TABLE stg_data.stg_hipparcos_raw DROP CONSTRAINT stg_hipparcos_raw_run_id_fkey;

CREATE TRIGGER stg_simbad_raw_run AFTER INSERT ON stg_data.stg_simbad_raw REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION stg_data.check_references('stg_data.ingest_runs', 'run_id');
CREATE TRIGGER stg_exoplanet_raw_run AFTER INSERT ON stg_data.stg_exoplanet_raw REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION stg_data.check_references('stg_data.ingest_runs', 'run_id');
CREATE TRIGGER stg_hipparcos_raw_run AFTER INSERT ON stg_data.stg_hipparcos_raw REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION stg_data.check_references('stg_data.ingest_runs', 'run_id');
CREATE TRIGGER ingest_runs_delete_staged AFTER DELETE ON stg_data.ingest_runs REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION stg_data.delete_referencing('run_id',
        'stg_data.stg_simbad_raw', 'stg_data.stg_exoplanet_raw', 'stg_data.stg_hipparcos_raw');

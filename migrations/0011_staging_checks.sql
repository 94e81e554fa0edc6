-- Staging rows are checked against their run once per statement instead of once per row (issue
-- 15): the per-row foreign-key trigger of stg_simbad_raw.run_id was 6.1 of the 11.8 s PostgreSQL
-- took to load 1 M staging rows (docs/scale-out.md). The guarantees stay: a statement that stages
-- rows of a run that does not exist fails (SQLSTATE 23503, as the foreign key did), and deleting a
-- run deletes its staging rows. Staging rows are never updated (a rewrite deletes and inserts).

CREATE FUNCTION stg_data.check_staged_runs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing UUID;
BEGIN
    SELECT n.run_id INTO missing
    FROM (SELECT DISTINCT run_id FROM staged) AS n
    WHERE NOT EXISTS (SELECT 1 FROM stg_data.ingest_runs AS r WHERE r.run_id = n.run_id)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = format('rows staged in %I.%I for run %s, which does not exist',
                             TG_TABLE_SCHEMA, TG_TABLE_NAME, missing);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION stg_data.delete_staged_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM stg_data.stg_simbad_raw AS s USING gone AS g WHERE s.run_id = g.run_id;
    DELETE FROM stg_data.stg_exoplanet_raw AS s USING gone AS g WHERE s.run_id = g.run_id;
    DELETE FROM stg_data.stg_hipparcos_raw AS s USING gone AS g WHERE s.run_id = g.run_id;
    RETURN NULL;
END
$$;

ALTER TABLE stg_data.stg_simbad_raw DROP CONSTRAINT stg_simbad_raw_run_id_fkey;
ALTER TABLE stg_data.stg_exoplanet_raw DROP CONSTRAINT stg_exoplanet_raw_run_id_fkey;
ALTER TABLE stg_data.stg_hipparcos_raw DROP CONSTRAINT stg_hipparcos_raw_run_id_fkey;

CREATE TRIGGER stg_simbad_raw_run AFTER INSERT ON stg_data.stg_simbad_raw
    REFERENCING NEW TABLE AS staged FOR EACH STATEMENT EXECUTE FUNCTION stg_data.check_staged_runs();
CREATE TRIGGER stg_exoplanet_raw_run AFTER INSERT ON stg_data.stg_exoplanet_raw
    REFERENCING NEW TABLE AS staged FOR EACH STATEMENT EXECUTE FUNCTION stg_data.check_staged_runs();
CREATE TRIGGER stg_hipparcos_raw_run AFTER INSERT ON stg_data.stg_hipparcos_raw
    REFERENCING NEW TABLE AS staged FOR EACH STATEMENT EXECUTE FUNCTION stg_data.check_staged_runs();
CREATE TRIGGER ingest_runs_delete_staged AFTER DELETE ON stg_data.ingest_runs
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION stg_data.delete_staged_rows();

-- A world build's rows are checked against their build and star once per statement instead of
-- once per row (issue 15), as 0011 did for staging: the per-row foreign-key triggers were about
-- half of the time to write a build's search names (two keys; 44 k names of the five source
-- files: 884 ms with them, 407 ms without) and a share of every other build table's write.
--
-- The guarantees stay:
--   * a statement that writes rows naming a build, star or system that does not exist fails
--     whole (SQLSTATE 23503, as the foreign key did), checked over the distinct keys it wrote;
--   * deleting a build, a star or a system deletes the rows that name it (as ON DELETE CASCADE);
--   * a row's keys are never changed by an UPDATE (refused, SQLSTATE 23503); star_aliases,
--     whose star changes when a later build claims the alias, is checked after the update.
-- Build and star ids are identities that are never updated.

-- TG_ARGV[0] is the referenced table, the rest the key columns (the same names on both sides).
-- The transition table of the statement's rows is `written`.
CREATE FUNCTION dm_galaxy.check_references() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE FUNCTION dm_galaxy.refuse_key_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
        MESSAGE = format('the keys of %I.%I rows are not updated', TG_TABLE_SCHEMA, TG_TABLE_NAME);
END
$$;

-- Cascades, per statement, from the deleted rows (`gone`).
CREATE FUNCTION dm_galaxy.delete_build_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM dm_galaxy.build_planets AS t USING gone AS g WHERE t.world_build_id = g.world_build_id;
    DELETE FROM dm_galaxy.build_inputs AS t USING gone AS g WHERE t.world_build_id = g.world_build_id;
    DELETE FROM dm_galaxy.build_systems AS t USING gone AS g WHERE t.world_build_id = g.world_build_id;
    DELETE FROM dm_galaxy.stars_xyz AS t USING gone AS g WHERE t.world_build_id = g.world_build_id;
    DELETE FROM dm_galaxy.search_names AS t USING gone AS g WHERE t.world_build_id = g.world_build_id;
    RETURN NULL;
END
$$;

CREATE FUNCTION dm_galaxy.delete_star_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM dm_galaxy.build_planets AS t USING gone AS g WHERE t.star_id = g.star_id;
    DELETE FROM dm_galaxy.build_inputs AS t USING gone AS g WHERE t.star_id = g.star_id;
    DELETE FROM dm_galaxy.build_systems AS t USING gone AS g WHERE t.star_id = g.star_id;
    DELETE FROM dm_galaxy.stars_xyz AS t USING gone AS g WHERE t.star_id = g.star_id;
    DELETE FROM dm_galaxy.search_names AS t USING gone AS g WHERE t.star_id = g.star_id;
    DELETE FROM dm_galaxy.star_aliases AS t USING gone AS g WHERE t.star_id = g.star_id;
    RETURN NULL;
END
$$;

CREATE FUNCTION dm_galaxy.delete_system_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM dm_galaxy.build_inputs AS t USING gone AS g
    WHERE t.world_build_id = g.world_build_id AND t.star_id = g.star_id;
    RETURN NULL;
END
$$;

CREATE FUNCTION dm_galaxy.delete_input_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM dm_galaxy.build_planets AS t USING gone AS g
    WHERE t.world_build_id = g.world_build_id AND t.star_id = g.star_id;
    RETURN NULL;
END
$$;

ALTER TABLE dm_galaxy.search_names DROP CONSTRAINT search_names_world_build_id_fkey;
ALTER TABLE dm_galaxy.search_names DROP CONSTRAINT search_names_star_id_fkey;
ALTER TABLE dm_galaxy.stars_xyz DROP CONSTRAINT stars_xyz_world_build_id_fkey;
ALTER TABLE dm_galaxy.stars_xyz DROP CONSTRAINT stars_xyz_star_id_fkey;
ALTER TABLE dm_galaxy.build_systems DROP CONSTRAINT build_systems_world_build_id_fkey;
ALTER TABLE dm_galaxy.build_systems DROP CONSTRAINT build_systems_star_id_fkey;
ALTER TABLE dm_galaxy.build_inputs DROP CONSTRAINT build_inputs_world_build_id_star_id_fkey;
ALTER TABLE dm_galaxy.build_planets DROP CONSTRAINT build_planets_world_build_id_star_id_fkey;
ALTER TABLE dm_galaxy.star_aliases DROP CONSTRAINT star_aliases_star_id_fkey;

-- Inserts: every key the statement wrote exists.
CREATE TRIGGER search_names_build AFTER INSERT ON dm_galaxy.search_names REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION dm_galaxy.check_references('dm_galaxy.world_builds', 'world_build_id');
CREATE TRIGGER search_names_star AFTER INSERT ON dm_galaxy.search_names REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION dm_galaxy.check_references('dm_galaxy.stars', 'star_id');
CREATE TRIGGER stars_xyz_build AFTER INSERT ON dm_galaxy.stars_xyz REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION dm_galaxy.check_references('dm_galaxy.world_builds', 'world_build_id');
CREATE TRIGGER stars_xyz_star AFTER INSERT ON dm_galaxy.stars_xyz REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION dm_galaxy.check_references('dm_galaxy.stars', 'star_id');
CREATE TRIGGER build_systems_build AFTER INSERT ON dm_galaxy.build_systems REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION dm_galaxy.check_references('dm_galaxy.world_builds', 'world_build_id');
CREATE TRIGGER build_systems_star AFTER INSERT ON dm_galaxy.build_systems REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION dm_galaxy.check_references('dm_galaxy.stars', 'star_id');
CREATE TRIGGER build_inputs_system AFTER INSERT ON dm_galaxy.build_inputs REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION dm_galaxy.check_references('dm_galaxy.build_systems', 'world_build_id', 'star_id');
CREATE TRIGGER build_planets_input AFTER INSERT ON dm_galaxy.build_planets REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION dm_galaxy.check_references('dm_galaxy.build_inputs', 'world_build_id', 'star_id');
CREATE TRIGGER star_aliases_star AFTER INSERT ON dm_galaxy.star_aliases REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION dm_galaxy.check_references('dm_galaxy.stars', 'star_id');
CREATE TRIGGER star_aliases_star_update AFTER UPDATE ON dm_galaxy.star_aliases REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION dm_galaxy.check_references('dm_galaxy.stars', 'star_id');

-- Updates never move a row to another build or star (the WHEN keeps ordinary updates free).
CREATE TRIGGER search_names_keys BEFORE UPDATE ON dm_galaxy.search_names FOR EACH ROW
    WHEN ((OLD.world_build_id, OLD.star_id) IS DISTINCT FROM (NEW.world_build_id, NEW.star_id))
    EXECUTE FUNCTION dm_galaxy.refuse_key_update();
CREATE TRIGGER stars_xyz_keys BEFORE UPDATE ON dm_galaxy.stars_xyz FOR EACH ROW
    WHEN ((OLD.world_build_id, OLD.star_id) IS DISTINCT FROM (NEW.world_build_id, NEW.star_id))
    EXECUTE FUNCTION dm_galaxy.refuse_key_update();
CREATE TRIGGER build_systems_keys BEFORE UPDATE ON dm_galaxy.build_systems FOR EACH ROW
    WHEN ((OLD.world_build_id, OLD.star_id) IS DISTINCT FROM (NEW.world_build_id, NEW.star_id))
    EXECUTE FUNCTION dm_galaxy.refuse_key_update();
CREATE TRIGGER build_inputs_keys BEFORE UPDATE ON dm_galaxy.build_inputs FOR EACH ROW
    WHEN ((OLD.world_build_id, OLD.star_id) IS DISTINCT FROM (NEW.world_build_id, NEW.star_id))
    EXECUTE FUNCTION dm_galaxy.refuse_key_update();
CREATE TRIGGER build_planets_keys BEFORE UPDATE ON dm_galaxy.build_planets FOR EACH ROW
    WHEN ((OLD.world_build_id, OLD.star_id) IS DISTINCT FROM (NEW.world_build_id, NEW.star_id))
    EXECUTE FUNCTION dm_galaxy.refuse_key_update();

-- Deletes cascade.
CREATE TRIGGER world_builds_delete_rows AFTER DELETE ON dm_galaxy.world_builds REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION dm_galaxy.delete_build_rows();
CREATE TRIGGER stars_delete_rows AFTER DELETE ON dm_galaxy.stars REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION dm_galaxy.delete_star_rows();
CREATE TRIGGER build_systems_delete_rows AFTER DELETE ON dm_galaxy.build_systems REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION dm_galaxy.delete_system_rows();
CREATE TRIGGER build_inputs_delete_rows AFTER DELETE ON dm_galaxy.build_inputs REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION dm_galaxy.delete_input_rows();

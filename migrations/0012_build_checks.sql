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

-- The per-statement check and cascade are migration 0011's `check_references` and
-- `delete_referencing`.

CREATE FUNCTION dm_galaxy.refuse_key_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
        MESSAGE = format('the keys of %I.%I rows are not updated', TG_TABLE_SCHEMA, TG_TABLE_NAME);
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
    FOR EACH STATEMENT EXECUTE FUNCTION stg_data.check_references('dm_galaxy.world_builds', 'world_build_id');
CREATE TRIGGER search_names_star AFTER INSERT ON dm_galaxy.search_names REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION stg_data.check_references('dm_galaxy.stars', 'star_id');
CREATE TRIGGER stars_xyz_build AFTER INSERT ON dm_galaxy.stars_xyz REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION stg_data.check_references('dm_galaxy.world_builds', 'world_build_id');
CREATE TRIGGER stars_xyz_star AFTER INSERT ON dm_galaxy.stars_xyz REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION stg_data.check_references('dm_galaxy.stars', 'star_id');
CREATE TRIGGER build_systems_build AFTER INSERT ON dm_galaxy.build_systems REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION stg_data.check_references('dm_galaxy.world_builds', 'world_build_id');
CREATE TRIGGER build_systems_star AFTER INSERT ON dm_galaxy.build_systems REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION stg_data.check_references('dm_galaxy.stars', 'star_id');
CREATE TRIGGER build_inputs_system AFTER INSERT ON dm_galaxy.build_inputs REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION stg_data.check_references('dm_galaxy.build_systems', 'world_build_id', 'star_id');
CREATE TRIGGER build_planets_input AFTER INSERT ON dm_galaxy.build_planets REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION stg_data.check_references('dm_galaxy.build_inputs', 'world_build_id', 'star_id');
CREATE TRIGGER star_aliases_star AFTER INSERT ON dm_galaxy.star_aliases REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION stg_data.check_references('dm_galaxy.stars', 'star_id');
CREATE TRIGGER star_aliases_star_update AFTER UPDATE ON dm_galaxy.star_aliases REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION stg_data.check_references('dm_galaxy.stars', 'star_id');

-- Updates never move a row to another build or star (the WHEN keeps ordinary updates free).
DO $$
DECLARE
    t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['search_names', 'stars_xyz', 'build_systems', 'build_inputs', 'build_planets'] LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE ON dm_galaxy.%I FOR EACH ROW
                        WHEN ((OLD.world_build_id, OLD.star_id) IS DISTINCT FROM (NEW.world_build_id, NEW.star_id))
                        EXECUTE FUNCTION dm_galaxy.refuse_key_update()', t || '_keys', t);
    END LOOP;
END
$$;

-- Deletes cascade.
CREATE TRIGGER world_builds_delete_rows AFTER DELETE ON dm_galaxy.world_builds REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION stg_data.delete_referencing('world_build_id',
        'dm_galaxy.build_planets', 'dm_galaxy.build_inputs', 'dm_galaxy.build_systems', 'dm_galaxy.stars_xyz',
        'dm_galaxy.search_names');
CREATE TRIGGER stars_delete_rows AFTER DELETE ON dm_galaxy.stars REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION stg_data.delete_referencing('star_id',
        'dm_galaxy.build_planets', 'dm_galaxy.build_inputs', 'dm_galaxy.build_systems', 'dm_galaxy.stars_xyz',
        'dm_galaxy.search_names', 'dm_galaxy.star_aliases');
CREATE TRIGGER build_systems_delete_rows AFTER DELETE ON dm_galaxy.build_systems REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION stg_data.delete_referencing('world_build_id,star_id', 'dm_galaxy.build_inputs');
CREATE TRIGGER build_inputs_delete_rows AFTER DELETE ON dm_galaxy.build_inputs REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION stg_data.delete_referencing('world_build_id,star_id', 'dm_galaxy.build_planets');

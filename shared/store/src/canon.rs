//! Phases 01b–03 persistence: staged records back into domain records, the canonical build
//! (stars, aliases, per-build systems, reference results), positions, inference and the asset.

use crate::copy::CopyBuf;
use crate::transform::PositionWrite;
use crate::{Result, Store, StoreError};
use exomaps_domain::build_input::{InferInput, PlaceInput};
use exomaps_domain::canon::{CanonStar, DistanceSource};
use exomaps_domain::catalogue::contract::RowNote;
use exomaps_domain::catalogue::exoplanets::ExoplanetRecord;
use exomaps_domain::catalogue::simbad::SimbadRecord;
use exomaps_domain::inference::ObservedPlanet;
use exomaps_domain::names::search_key;
use exomaps_domain::reference::ReferenceReport;
use exomaps_domain::spectral::{SpectralClass, StellarKind};
use serde_json::Value;
use std::collections::HashMap;
use uuid::Uuid;

/// What the canonicalise phase writes for one run.
pub struct CanonBuildWrite<'a> {
    pub scope_ly: f64,
    pub margin_ly: f64,
    pub seed: i64,
    /// The source file chosen per family (`{"SIMBAD": "SIMBAD_03.csv", …}`).
    pub sources: Value,
    pub stars: &'a [CanonStar],
    pub reference: &'a ReferenceReport,
}

struct SimbadRow {
    row_number: i32,
    sys_id: i64,
    sys_code: Option<String>,
    main_id: String,
    main_id_raw: String,
    ids: Vec<String>,
    otype_txt: Option<String>,
    otype_shortname: Option<String>,
    otype_longname: Option<String>,
    otypes: Vec<String>,
    spectral_type: Option<String>,
    ra_deg: f64,
    dec_deg: f64,
    dist_pc: Option<f64>,
    multiplicity: i16,
    notes: sqlx::types::Json<Vec<RowNote>>,
}

/// A placed star of a build as Phase 03 reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedInput {
    pub star_id: i64,
    /// Within scope (else within the margin): the map asset lists only these.
    pub in_scope: bool,
    pub input: InferInput,
}

fn stored(what: &str, value: &str) -> StoreError {
    StoreError::Conflict(format!("stored {what} {value:?} is not one the domain knows"))
}

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::Conflict(format!("stored record does not match the domain type: {e}"))
}

impl Store {
    /// The accepted SIMBAD rows of one source of a run, as domain records, in file order.
    pub async fn staged_simbad_records(&self, run_id: Uuid, source_name: &str) -> Result<Vec<SimbadRecord>> {
        let rows = sqlx::query_as!(
            SimbadRow,
            r#"SELECT row_number, sys_id, sys_code, main_id, main_id_raw, ids, otype_txt, otype_shortname,
                    otype_longname, otypes, spectral_type, ra_deg, dec_deg, dist_pc, multiplicity,
                    notes AS "notes: sqlx::types::Json<Vec<RowNote>>"
             FROM stg_data.stg_simbad_raw WHERE run_id = $1 AND source_name = $2 ORDER BY row_number"#,
            run_id,
            source_name,
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| SimbadRecord {
                line: r.row_number as u32,
                sys_id: r.sys_id,
                sys_code: r.sys_code,
                main_id: r.main_id,
                main_id_raw: r.main_id_raw,
                ids: r.ids,
                otype_txt: r.otype_txt,
                otype_shortname: r.otype_shortname,
                otype_longname: r.otype_longname,
                otypes: r.otypes,
                spectral_type: r.spectral_type,
                ra_deg: r.ra_deg,
                dec_deg: r.dec_deg,
                dist_pc: r.dist_pc,
                multiplicity: r.multiplicity.clamp(0, 255) as u8,
                notes: r.notes.0,
            })
            .collect())
    }

    /// The accepted exoplanet rows of one source of a run, as domain records, in file order.
    pub async fn staged_exoplanet_records(&self, run_id: Uuid, source_name: &str) -> Result<Vec<ExoplanetRecord>> {
        let rows = sqlx::query_scalar!(
            r#"SELECT record AS "record: sqlx::types::Json<Value>" FROM stg_data.stg_exoplanet_raw
               WHERE run_id = $1 AND source_name = $2 ORDER BY row_number"#,
            run_id,
            source_name,
        )
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(|r| serde_json::from_value(r.0).map_err(json_err)).collect()
    }

    /// Creates the run's draft world build from its canonical stars: star identities (upsert by
    /// main_id), aliases (the newest build's claim wins), one `build_systems` row per star with
    /// its whole canonical record, and the reference results — in one transaction. Idempotent
    /// on the run: an existing build is returned as is.
    pub async fn write_canon_build(&self, run_id: Uuid, build: &CanonBuildWrite<'_>) -> Result<i64> {
        let mut tx = self.pool().begin().await?;
        if let Some(id) =
            sqlx::query_scalar!("SELECT world_build_id FROM dm_galaxy.world_builds WHERE run_id = $1", run_id)
                .fetch_optional(&mut *tx)
                .await?
        {
            return Ok(id);
        }
        let build_id: i64 = sqlx::query_scalar!(
            "INSERT INTO dm_galaxy.world_builds (run_id, status, scope_ly, margin_ly, seed, stars_count, sources)
             VALUES ($1, 'draft', $2, $3, $4, $5, $6) RETURNING world_build_id",
            run_id,
            build.scope_ly,
            build.margin_ly,
            build.seed,
            build.stars.len() as i32,
            &build.sources,
        )
        .fetch_one(&mut *tx)
        .await?;

        // Star identities: COPY into a temporary table, then one upsert.
        sqlx::query!(
            "CREATE TEMPORARY TABLE canon_stars (
                 main_id text, source_name text, source_object_id text, ra_deg float8, dec_deg float8,
                 distance_pc float8, otype text, otypes text[], spectral_type text, spectral_class text,
                 class_source text, multiplicity int2, source_row int4, stellar_kind text, teff_k float8,
                 luminosity_lsun float8, mass_msun float8, radius_rsun float8, system_group text,
                 canon json, observed_planets int4, distance_source text, distance_uncertainty_pc float8,
                 spectral_subclass float8, metallicity_feh float8, hp_mag float8, curated bool,
                 display_name text) ON COMMIT DROP",
        )
        .execute(&mut *tx)
        .await?;
        let mut rows = CopyBuf::new();
        let mut planets = CopyBuf::new();
        for s in build.stars {
            let first = s.sources.first();
            // What transform and infer read (typed, in build_inputs / build_planets).
            let place = PlaceInput::from_canon(s);
            let input = InferInput::from_canon(s);
            rows.text(&s.main_id)
                .text(s.provenance.source_name())
                .opt_text(first.map(|r| r.object_id.as_str()))
                .f64(s.ra_deg)
                .f64(s.dec_deg)
                .f64(s.distance_pc)
                .opt_text(s.otype.as_deref())
                .text_array(&s.otypes)
                .opt_text(s.spectral_type.as_deref())
                .opt_text(s.spectral_class.map(|c| c.letter().to_string()).as_deref())
                .opt_text(s.class_source.map(|c| c.as_str()))
                .display(s.multiplicity)
                .opt_text(first.and_then(|r| r.line).map(|l| l.to_string()).as_deref())
                .text(s.kind.as_str())
                .f64(s.teff_k)
                .f64(s.luminosity_lsun)
                .f64(s.mass_msun)
                .f64(s.radius_rsun)
                .opt_text(s.group.as_deref())
                .text(&serde_json::to_string(s).map_err(json_err)?)
                .display(s.planets.len())
                .opt_text(place.distance_source.map(|d| d.as_str()))
                .f64(place.distance_uncertainty_pc)
                .f64(input.spectral_subclass)
                .f64(input.metallicity_feh)
                .f64(input.hp_mag)
                .display(input.curated)
                .opt_text(input.display_name.as_deref());
            rows.end_row();
            for (ordinal, p) in input.observed.iter().enumerate() {
                planets
                    .text(&s.main_id)
                    .display(ordinal)
                    .text(&p.name)
                    .f64(p.semi_major_axis_au)
                    .f64(p.orbital_period_days)
                    .f64(p.eccentricity)
                    .f64(p.mass_earth)
                    .f64(p.radius_earth);
                planets.end_row();
            }
        }
        // Runtime-checked: COPY (not described by sqlx's macros).
        let mut copy = (*tx).copy_in_raw("COPY canon_stars FROM STDIN").await?;
        crate::copy::send_chunked(&mut copy, rows.as_bytes()).await?;
        copy.finish().await?;
        // Runtime-checked: reads this transaction's temporary table, unknown at compile time.
        sqlx::query(
            "INSERT INTO dm_galaxy.stars AS s (main_id, source_name, source_object_id, ra_deg, dec_deg, distance_pc,
                 otype, otypes, spectral_type, spectral_class, class_source, multiplicity, source_run_id, source_row,
                 stellar_kind, teff_k, luminosity_lsun, mass_msun, radius_rsun, system_group)
             SELECT main_id, source_name, source_object_id, ra_deg, dec_deg, distance_pc, otype, otypes,
                    spectral_type, spectral_class, class_source, multiplicity, $1, source_row, stellar_kind, teff_k,
                    luminosity_lsun, mass_msun, radius_rsun, system_group
             FROM canon_stars
             ON CONFLICT (main_id) DO UPDATE SET
                 source_name = EXCLUDED.source_name, source_object_id = EXCLUDED.source_object_id,
                 ra_deg = EXCLUDED.ra_deg, dec_deg = EXCLUDED.dec_deg, distance_pc = EXCLUDED.distance_pc,
                 otype = EXCLUDED.otype, otypes = EXCLUDED.otypes, spectral_type = EXCLUDED.spectral_type,
                 spectral_class = EXCLUDED.spectral_class, class_source = EXCLUDED.class_source,
                 multiplicity = EXCLUDED.multiplicity, source_run_id = EXCLUDED.source_run_id,
                 source_row = EXCLUDED.source_row, stellar_kind = EXCLUDED.stellar_kind, teff_k = EXCLUDED.teff_k,
                 luminosity_lsun = EXCLUDED.luminosity_lsun, mass_msun = EXCLUDED.mass_msun,
                 radius_rsun = EXCLUDED.radius_rsun, system_group = EXCLUDED.system_group, updated_at = now()",
        )
        .bind(run_id)
        .execute(&mut *tx)
        .await?;
        // Runtime-checked: reads this transaction's temporary table, unknown at compile time.
        sqlx::query(
            "INSERT INTO dm_galaxy.build_systems (world_build_id, star_id, main_id, observed_planets, canon)
             SELECT $1, s.star_id, c.main_id, c.observed_planets, c.canon
             FROM canon_stars c JOIN dm_galaxy.stars s USING (main_id)",
        )
        .bind(build_id)
        .execute(&mut *tx)
        .await?;
        // Runtime-checked: reads this transaction's temporary table, unknown at compile time.
        sqlx::query(
            "INSERT INTO dm_galaxy.build_inputs (world_build_id, star_id, main_id, ra_deg, dec_deg, distance_pc,
                 distance_source, distance_uncertainty_pc, spectral_class, spectral_subclass, stellar_kind, teff_k,
                 luminosity_lsun, mass_msun, radius_rsun, metallicity_feh, hp_mag, multiplicity, curated, display_name)
             SELECT $1, s.star_id, c.main_id, c.ra_deg, c.dec_deg, c.distance_pc, c.distance_source,
                    c.distance_uncertainty_pc, c.spectral_class, c.spectral_subclass, c.stellar_kind, c.teff_k,
                    c.luminosity_lsun, c.mass_msun, c.radius_rsun, c.metallicity_feh, c.hp_mag, c.multiplicity,
                    c.curated, c.display_name
             FROM canon_stars c JOIN dm_galaxy.stars s USING (main_id)",
        )
        .bind(build_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            "CREATE TEMPORARY TABLE canon_planets (main_id text, ordinal int4, planet_name text,
                 semi_major_axis_au float8, orbital_period_days float8, eccentricity float8, mass_earth float8,
                 radius_earth float8) ON COMMIT DROP",
        )
        .execute(&mut *tx)
        .await?;
        // Runtime-checked: COPY (not described by sqlx's macros).
        let mut copy = (*tx).copy_in_raw("COPY canon_planets FROM STDIN").await?;
        crate::copy::send_chunked(&mut copy, planets.as_bytes()).await?;
        copy.finish().await?;
        // Runtime-checked: reads this transaction's temporary table, unknown at compile time.
        sqlx::query(
            "INSERT INTO dm_galaxy.build_planets (world_build_id, star_id, ordinal, planet_name, semi_major_axis_au,
                 orbital_period_days, eccentricity, mass_earth, radius_earth)
             SELECT $1, s.star_id, p.ordinal, p.planet_name, p.semi_major_axis_au, p.orbital_period_days,
                    p.eccentricity, p.mass_earth, p.radius_earth
             FROM canon_planets p JOIN dm_galaxy.stars s USING (main_id)",
        )
        .bind(build_id)
        .execute(&mut *tx)
        .await?;

        let mut aliases = CopyBuf::new();
        for s in build.stars {
            for a in &s.aliases {
                aliases.text(&a.key).text(&a.text).text(&s.main_id);
                aliases.end_row();
            }
        }
        sqlx::query!("CREATE TEMPORARY TABLE canon_aliases (alias_norm text, alias text, main_id text) ON COMMIT DROP")
            .execute(&mut *tx)
            .await?;
        // Runtime-checked: COPY (not described by sqlx's macros).
        let mut copy = (*tx).copy_in_raw("COPY canon_aliases FROM STDIN").await?;
        crate::copy::send_chunked(&mut copy, aliases.as_bytes()).await?;
        copy.finish().await?;
        // Runtime-checked: reads this transaction's temporary table, unknown at compile time.
        sqlx::query(
            "INSERT INTO dm_galaxy.star_aliases (alias_norm, alias, star_id)
             SELECT DISTINCT ON (a.alias_norm) a.alias_norm, a.alias, s.star_id
             FROM canon_aliases a JOIN dm_galaxy.stars s USING (main_id)
             ORDER BY a.alias_norm
             ON CONFLICT (alias_norm) DO UPDATE SET alias = EXCLUDED.alias, star_id = EXCLUDED.star_id
             WHERE (star_aliases.alias, star_aliases.star_id) IS DISTINCT FROM (EXCLUDED.alias, EXCLUDED.star_id)",
        )
        .execute(&mut *tx)
        .await?;

        // Every name of every star for search (GET /api/search, name resolution).
        let mut names = CopyBuf::new();
        for s in build.stars {
            let mut seen = std::collections::HashSet::new();
            let display = s.display_name.as_deref();
            let all = display
                .map(|d| (d, 0))
                .into_iter()
                .chain(std::iter::once((s.main_id.as_str(), 1)))
                .chain(s.aliases.iter().map(|a| (a.text.as_str(), 1)));
            for (name, kind) in all {
                let key = search_key(name);
                if key.is_empty() || !seen.insert((key.clone(), kind.min(1))) {
                    continue;
                }
                names.text(&s.main_id).text(name).text(&key).opt_text(display).display(kind);
                names.end_row();
            }
        }
        sqlx::query!(
            "CREATE TEMPORARY TABLE canon_names (main_id text, name text, name_key text, display_name text,
                 kind int2) ON COMMIT DROP",
        )
        .execute(&mut *tx)
        .await?;
        // Runtime-checked: COPY (not described by sqlx's macros).
        let mut copy = (*tx).copy_in_raw("COPY canon_names FROM STDIN").await?;
        crate::copy::send_chunked(&mut copy, names.as_bytes()).await?;
        copy.finish().await?;
        // Runtime-checked: reads this transaction's temporary table, unknown at compile time.
        sqlx::query(
            "INSERT INTO dm_galaxy.search_names (world_build_id, star_id, main_id, name, name_key, display_name, kind)
             SELECT $1, s.star_id, n.main_id, n.name, n.name_key, n.display_name, n.kind
             FROM canon_names n JOIN dm_galaxy.stars s USING (main_id)",
        )
        .bind(build_id)
        .execute(&mut *tx)
        .await?;

        for r in &build.reference.results {
            sqlx::query!(
                "INSERT INTO stg_data.reference_results (run_id, rule_key, status, result) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (run_id, rule_key) DO UPDATE SET status = EXCLUDED.status, result = EXCLUDED.result",
                run_id,
                &r.rule_key,
                r.status.as_str(),
                serde_json::to_value(r).map_err(json_err)?,
            )
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(build_id)
    }

    /// What Phase 02 reads of every star of a build (typed columns, no canonical record
    /// decoded), with its star id.
    pub async fn build_place_inputs(&self, world_build_id: i64) -> Result<Vec<(i64, PlaceInput)>> {
        let rows = sqlx::query!(
            "SELECT star_id, main_id, ra_deg, dec_deg, distance_pc, distance_source, distance_uncertainty_pc
             FROM dm_galaxy.build_inputs WHERE world_build_id = $1",
            world_build_id,
        )
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|r| {
                let distance_source = r
                    .distance_source
                    .map(|d| DistanceSource::from_name(&d).ok_or_else(|| stored("distance source", &d)))
                    .transpose()?;
                Ok((
                    r.star_id,
                    PlaceInput {
                        main_id: r.main_id,
                        ra_deg: r.ra_deg,
                        dec_deg: r.dec_deg,
                        distance_pc: r.distance_pc,
                        distance_source,
                        distance_uncertainty_pc: r.distance_uncertainty_pc,
                    },
                ))
            })
            .collect()
    }

    /// What Phase 03 reads of the placed stars of a build (within scope or its margin; typed
    /// columns and observed planets, no canonical record decoded), in main_id order.
    pub async fn build_infer_inputs(&self, world_build_id: i64) -> Result<Vec<PlacedInput>> {
        let planets = sqlx::query!(
            "SELECT star_id, planet_name, semi_major_axis_au, orbital_period_days, eccentricity, mass_earth,
                    radius_earth
             FROM dm_galaxy.build_planets WHERE world_build_id = $1 ORDER BY star_id, ordinal",
            world_build_id,
        )
        .fetch_all(self.pool())
        .await?;
        let mut observed: HashMap<i64, Vec<ObservedPlanet>> = HashMap::new();
        for p in planets {
            observed.entry(p.star_id).or_default().push(ObservedPlanet {
                name: p.planet_name,
                semi_major_axis_au: p.semi_major_axis_au,
                orbital_period_days: p.orbital_period_days,
                eccentricity: p.eccentricity,
                mass_earth: p.mass_earth,
                radius_earth: p.radius_earth,
            });
        }
        // The placed stars and their scope, joined here rather than in SQL: the tables were
        // just written and not yet analysed, and a join planned on no statistics can be a
        // nested loop over two 100,000-row scans.
        let placed: HashMap<i64, bool> = sqlx::query!(
            "SELECT star_id, in_scope FROM dm_galaxy.stars_xyz WHERE world_build_id = $1 AND (in_scope OR in_margin)",
            world_build_id,
        )
        .fetch_all(self.pool())
        .await?
        .into_iter()
        .map(|r| (r.star_id, r.in_scope))
        .collect();
        let rows = sqlx::query!(
            "SELECT star_id, main_id, ra_deg, dec_deg, distance_pc, spectral_class, spectral_subclass, stellar_kind,
                    teff_k, luminosity_lsun, mass_msun, radius_rsun, metallicity_feh, hp_mag, multiplicity, curated,
                    display_name
             FROM dm_galaxy.build_inputs WHERE world_build_id = $1 ORDER BY main_id",
            world_build_id,
        )
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .filter_map(|r| placed.get(&r.star_id).map(|in_scope| (*in_scope, r)))
            .map(|(in_scope, r)| {
                let spectral_class = r
                    .spectral_class
                    .map(|c| {
                        let mut chars = c.chars();
                        match (chars.next(), chars.next()) {
                            (Some(l), None) => SpectralClass::from_letter(l),
                            _ => None,
                        }
                        .ok_or_else(|| stored("spectral class", &c))
                    })
                    .transpose()?;
                let kind =
                    StellarKind::from_name(&r.stellar_kind).ok_or_else(|| stored("stellar kind", &r.stellar_kind))?;
                let multiplicity =
                    u8::try_from(r.multiplicity).map_err(|_| stored("multiplicity", &r.multiplicity.to_string()))?;
                Ok(PlacedInput {
                    star_id: r.star_id,
                    in_scope,
                    input: InferInput {
                        observed: observed.remove(&r.star_id).unwrap_or_default(),
                        main_id: r.main_id,
                        ra_deg: r.ra_deg,
                        dec_deg: r.dec_deg,
                        distance_pc: r.distance_pc,
                        spectral_class,
                        spectral_subclass: r.spectral_subclass,
                        kind,
                        teff_k: r.teff_k,
                        luminosity_lsun: r.luminosity_lsun,
                        mass_msun: r.mass_msun,
                        radius_rsun: r.radius_rsun,
                        metallicity_feh: r.metallicity_feh,
                        hp_mag: r.hp_mag,
                        multiplicity,
                        curated: r.curated,
                        display_name: r.display_name,
                    },
                })
            })
            .collect()
    }

    /// The canonical stars of a build with their star ids, in main_id order: the whole records
    /// (JSON). No pipeline phase reads these (they read [`Store::build_place_inputs`] and
    /// [`Store::build_infer_inputs`]); tests compare against them.
    pub async fn build_canon(&self, world_build_id: i64) -> Result<Vec<(i64, CanonStar)>> {
        let rows = sqlx::query!(
            r#"SELECT star_id, canon AS "canon: sqlx::types::Json<Value>" FROM dm_galaxy.build_systems
               WHERE world_build_id = $1 ORDER BY main_id"#,
            world_build_id,
        )
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(|r| Ok((r.star_id, serde_json::from_value(r.canon.0).map_err(json_err)?))).collect()
    }

    /// Writes the positions of a build (replacing any a crashed earlier attempt left).
    pub async fn write_positions(&self, world_build_id: i64, rows: &[(i64, PositionWrite)]) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query!("DELETE FROM dm_galaxy.stars_xyz WHERE world_build_id = $1", world_build_id)
            .execute(&mut *tx)
            .await?;
        let mut buf = CopyBuf::new();
        for (star_id, p) in rows {
            buf.display(world_build_id)
                .display(star_id)
                .f64(Some(p.x_pc))
                .f64(Some(p.y_pc))
                .f64(Some(p.z_pc))
                .f64(Some(p.distance_pc))
                .f64(Some(p.distance_ly))
                .text(p.distance_source)
                .f64(p.uncertainty_pc)
                .text(if p.uncertainty_pc.is_some() { "known" } else { "unknown" })
                .display(p.in_scope)
                .display(p.in_margin);
            buf.end_row();
        }
        // Runtime-checked: COPY (not described by sqlx's macros).
        let mut copy = (*tx)
            .copy_in_raw(
                "COPY dm_galaxy.stars_xyz (world_build_id, star_id, x_pc, y_pc, z_pc, distance_pc, distance_ly,
                 distance_source, uncertainty_pc, uncertainty_flag, in_scope, in_margin) FROM STDIN",
            )
            .await?;
        crate::copy::send_chunked(&mut copy, buf.as_bytes()).await?;
        copy.finish().await?;
        let in_scope = rows.iter().filter(|(_, p)| p.in_scope).count() as i32;
        sqlx::query!(
            "UPDATE dm_galaxy.world_builds SET in_scope_count = $2 WHERE world_build_id = $1",
            world_build_id,
            in_scope
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores Phase 03's output: each system's inference (its JSON text) and counts, and the encoded map
    /// asset, in one transaction.
    pub async fn write_inference(
        &self,
        world_build_id: i64,
        systems: &[(i64, String, [i32; 3])],
        inference_version: &str,
        asset: &[u8],
        asset_sha256: &str,
    ) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query!(
            "CREATE TEMPORARY TABLE inferred (star_id int8, inference json, p int4, b int4, m int4) ON COMMIT DROP",
        )
        .execute(&mut *tx)
        .await?;
        let mut buf = CopyBuf::new();
        for (star_id, inference, [p, b, m]) in systems {
            buf.display(star_id).text(inference).display(p).display(b).display(m);
            buf.end_row();
        }
        // Runtime-checked: COPY (not described by sqlx's macros).
        let mut copy = (*tx).copy_in_raw("COPY inferred FROM STDIN").await?;
        crate::copy::send_chunked(&mut copy, buf.as_bytes()).await?;
        copy.finish().await?;
        // Runtime-checked: reads this transaction's temporary table, unknown at compile time.
        sqlx::query(
            "UPDATE dm_galaxy.build_systems b SET inference = i.inference, inferred_planets = i.p,
                 inferred_belts = i.b, inferred_moons = i.m
             FROM inferred i WHERE b.world_build_id = $1 AND b.star_id = i.star_id",
        )
        .bind(world_build_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            "UPDATE dm_galaxy.world_builds SET asset = $2, asset_sha256 = $3, inference_version = $4
             WHERE world_build_id = $1",
            world_build_id,
            asset,
            asset_sha256,
            inference_version,
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The encoded map asset of a build and its SHA-256.
    pub async fn build_asset(&self, world_build_id: i64) -> Result<Option<(Vec<u8>, String)>> {
        let row = sqlx::query!(
            "SELECT asset, asset_sha256 FROM dm_galaxy.world_builds WHERE world_build_id = $1",
            world_build_id
        )
        .fetch_optional(self.pool())
        .await?;
        Ok(row.and_then(|r| Some((r.asset?, r.asset_sha256?))))
    }

    pub async fn set_asset_key(&self, world_build_id: i64, key: &str) -> Result<()> {
        sqlx::query!("UPDATE dm_galaxy.world_builds SET asset_key = $2 WHERE world_build_id = $1", world_build_id, key)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The inference of every system of a build (star id → JSON), for the map asset.
    pub async fn build_inference(&self, world_build_id: i64) -> Result<Vec<(i64, Option<Value>)>> {
        let rows = sqlx::query!(
            r#"SELECT star_id, inference AS "inference: sqlx::types::Json<Value>" FROM dm_galaxy.build_systems
               WHERE world_build_id = $1"#,
            world_build_id,
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|r| (r.star_id, r.inference.map(|j| j.0))).collect())
    }
}

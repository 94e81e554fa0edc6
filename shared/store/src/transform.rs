//! Phase 02 reads and writes: staged rows in, stars + positions of a new world build out.

use crate::copy::CopyBuf;
use crate::{Result, Store};
use serde::Serialize;
use uuid::Uuid;

/// An accepted SIMBAD row as staged by the ingest phase.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StagedSimbad {
    pub source_name: String,
    pub row_number: i32,
    pub sys_id: i64,
    pub main_id: String,
    pub ids: Vec<String>,
    pub otype_txt: Option<String>,
    pub otypes: Vec<String>,
    pub spectral_type: Option<String>,
    pub ra_deg: f64,
    pub dec_deg: f64,
    pub dist_pc: Option<f64>,
    pub multiplicity: i16,
}

/// One star identity to upsert, with its aliases.
#[derive(Debug, Clone, Serialize)]
pub struct StarWrite {
    pub main_id: String,
    pub source_name: String,
    pub source_object_id: Option<String>,
    pub ra_deg: Option<f64>,
    pub dec_deg: Option<f64>,
    pub distance_pc: Option<f64>,
    pub otype: Option<String>,
    pub otypes: Vec<String>,
    pub spectral_type: Option<String>,
    pub spectral_class: Option<String>,
    pub class_source: Option<String>,
    pub multiplicity: i16,
    pub source_row: Option<i32>,
    #[serde(skip)]
    pub aliases: Vec<(String, String)>,
}

/// A star's position in the new world build.
#[derive(Debug, Clone)]
pub struct PositionWrite {
    pub x_pc: f64,
    pub y_pc: f64,
    pub z_pc: f64,
    pub distance_pc: f64,
    pub distance_ly: f64,
    pub distance_source: &'static str,
    pub uncertainty_pc: Option<f64>,
    pub in_scope: bool,
    pub in_margin: bool,
}

/// The whole output of Phase 02 for one run.
#[derive(Debug, Clone)]
pub struct WorldBuildWrite {
    pub scope_ly: f64,
    pub margin_ly: f64,
    pub seed: Option<i64>,
    pub stars: Vec<(StarWrite, PositionWrite)>,
}

impl Store {
    pub async fn staged_simbad(&self, run_id: Uuid) -> Result<Vec<StagedSimbad>> {
        Ok(sqlx::query_as::<_, StagedSimbad>(
            "SELECT source_name, row_number, sys_id, main_id, ids, otype_txt, otypes, spectral_type,
                    ra_deg, dec_deg, dist_pc, multiplicity
             FROM stg_data.stg_simbad_raw WHERE run_id = $1 ORDER BY source_name, row_number",
        )
        .bind(run_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// Upserts the stars and writes their positions into a new *draft* world build, in one
    /// transaction. Idempotent on `run_id`: an existing build of this run is returned as is.
    /// `activate_world_build` publishes it.
    pub async fn write_world_build(&self, run_id: Uuid, build: &WorldBuildWrite) -> Result<i64> {
        let mut tx = self.pool().begin().await?;
        if let Some(id) =
            sqlx::query_scalar::<_, i64>("SELECT world_build_id FROM dm_galaxy.world_builds WHERE run_id = $1")
                .bind(run_id)
                .fetch_optional(&mut *tx)
                .await?
        {
            return Ok(id);
        }

        let stars: Vec<&StarWrite> = build.stars.iter().map(|(s, _)| s).collect();
        let ids: Vec<(i64, String)> = sqlx::query_as(
            "INSERT INTO dm_galaxy.stars AS s (main_id, source_name, source_object_id, ra_deg, dec_deg,
                 distance_pc, otype, otypes, spectral_type, spectral_class, class_source, multiplicity,
                 source_run_id, source_row)
             SELECT r.main_id, r.source_name, r.source_object_id, r.ra_deg, r.dec_deg, r.distance_pc,
                    r.otype, r.otypes, r.spectral_type, r.spectral_class, r.class_source, r.multiplicity,
                    $2, r.source_row
             FROM jsonb_to_recordset($1) AS r(main_id text, source_name text, source_object_id text,
                 ra_deg float8, dec_deg float8, distance_pc float8, otype text, otypes text[],
                 spectral_type text, spectral_class text, class_source text, multiplicity int2, source_row int4)
             ON CONFLICT (main_id) DO UPDATE SET
                 source_name = EXCLUDED.source_name, source_object_id = EXCLUDED.source_object_id,
                 ra_deg = EXCLUDED.ra_deg, dec_deg = EXCLUDED.dec_deg, distance_pc = EXCLUDED.distance_pc,
                 otype = EXCLUDED.otype, otypes = EXCLUDED.otypes,
                 spectral_type = COALESCE(EXCLUDED.spectral_type, s.spectral_type),
                 spectral_class = COALESCE(EXCLUDED.spectral_class, s.spectral_class),
                 class_source = COALESCE(EXCLUDED.class_source, s.class_source),
                 multiplicity = EXCLUDED.multiplicity, source_run_id = EXCLUDED.source_run_id,
                 source_row = EXCLUDED.source_row, updated_at = now()
             RETURNING star_id, main_id",
        )
        .bind(sqlx::types::Json(&stars))
        .bind(run_id)
        .fetch_all(&mut *tx)
        .await?;
        let by_main: std::collections::HashMap<&str, i64> = ids.iter().map(|(id, main)| (main.as_str(), *id)).collect();

        let (mut alias_norm, mut alias, mut alias_star) = (Vec::new(), Vec::new(), Vec::new());
        for s in &stars {
            let star_id = by_main[s.main_id.as_str()];
            for (norm, text) in &s.aliases {
                alias_norm.push(norm.as_str());
                alias.push(text.as_str());
                alias_star.push(star_id);
            }
        }
        sqlx::query(
            "INSERT INTO dm_galaxy.star_aliases (alias_norm, alias, star_id)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::int8[]) ON CONFLICT (alias_norm) DO NOTHING",
        )
        .bind(&alias_norm)
        .bind(&alias)
        .bind(&alias_star)
        .execute(&mut *tx)
        .await?;

        let in_scope = build.stars.iter().filter(|(_, p)| p.in_scope).count() as i32;
        let build_id: i64 = sqlx::query_scalar(
            "INSERT INTO dm_galaxy.world_builds (run_id, status, scope_ly, margin_ly, seed, stars_count, in_scope_count)
             VALUES ($1, 'draft', $2, $3, $4, $5, $6) RETURNING world_build_id",
        )
        .bind(run_id)
        .bind(build.scope_ly)
        .bind(build.margin_ly)
        .bind(build.seed)
        .bind(build.stars.len() as i32)
        .bind(in_scope)
        .fetch_one(&mut *tx)
        .await?;

        let mut rows = CopyBuf::new();
        for (s, p) in &build.stars {
            rows.display(build_id)
                .display(by_main[s.main_id.as_str()])
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
            rows.end_row();
        }
        let mut copy = (*tx)
            .copy_in_raw(
                "COPY dm_galaxy.stars_xyz (world_build_id, star_id, x_pc, y_pc, z_pc, distance_pc, distance_ly,
                 distance_source, uncertainty_pc, uncertainty_flag, in_scope, in_margin) FROM STDIN",
            )
            .await?;
        copy.send(rows.into_bytes()).await?;
        copy.finish().await?;

        tx.commit().await?;
        Ok(build_id)
    }

    /// Makes a build the active one (archiving the previous), atomically: readers see the old
    /// build or the new one, never neither. Activating the active build changes nothing.
    pub async fn activate_world_build(&self, world_build_id: i64) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "UPDATE dm_galaxy.world_builds SET status = 'archived' WHERE status = 'active' AND world_build_id <> $1",
        )
        .bind(world_build_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE dm_galaxy.world_builds SET status = 'active', activated_at = COALESCE(activated_at, now())
             WHERE world_build_id = $1",
        )
        .bind(world_build_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

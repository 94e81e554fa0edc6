//! Read side of the world: the active world build and its systems.

use crate::{Result, Store};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct WorldBuildRow {
    pub world_build_id: i64,
    pub run_id: Uuid,
    pub status: String,
    pub scope_ly: f64,
    pub margin_ly: f64,
    pub stars_count: i32,
    pub in_scope_count: i32,
    pub created_at: DateTime<Utc>,
    pub activated_at: Option<DateTime<Utc>>,
}

/// One placed system of a world build, as the read API needs it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SystemRow {
    pub star_id: i64,
    pub main_id: String,
    pub x_pc: f64,
    pub y_pc: f64,
    pub z_pc: f64,
    pub distance_pc: f64,
    pub distance_ly: f64,
    pub distance_source: String,
    pub uncertainty_pc: Option<f64>,
    pub spectral_type: Option<String>,
    pub spectral_class: Option<String>,
    pub multiplicity: i16,
    pub teff_k: Option<f64>,
    pub luminosity_lsun: Option<f64>,
    pub system_group: Option<String>,
    pub observed_planets: i32,
    pub inferred_planets: i32,
}

/// A page of systems plus the total that matched.
#[derive(Debug, Clone)]
pub struct SystemsPage {
    pub systems: Vec<SystemRow>,
    pub total: i64,
}

impl Store {
    pub async fn active_world_build(&self) -> Result<Option<WorldBuildRow>> {
        Ok(sqlx::query_as!(
            WorldBuildRow,
            "SELECT world_build_id, run_id, status, scope_ly, margin_ly, stars_count, in_scope_count,
                    created_at, activated_at
             FROM dm_galaxy.world_builds WHERE status = 'active'",
        )
        .fetch_optional(self.pool())
        .await?)
    }

    /// In-scope systems of a build, nearest first (ties by name, so pages are stable).
    pub async fn systems_in_scope(&self, world_build_id: i64, limit: i64, offset: i64) -> Result<SystemsPage> {
        let systems = sqlx::query_as!(
            SystemRow,
            r#"SELECT s.star_id, s.main_id, x.x_pc, x.y_pc, x.z_pc, x.distance_pc, x.distance_ly,
                    x.distance_source, x.uncertainty_pc, s.spectral_type, s.spectral_class, s.multiplicity,
                    s.teff_k, s.luminosity_lsun, s.system_group,
                    COALESCE(b.observed_planets, 0) AS "observed_planets!",
                    COALESCE(b.inferred_planets, 0) AS "inferred_planets!"
             FROM dm_galaxy.stars_xyz x JOIN dm_galaxy.stars s USING (star_id)
             LEFT JOIN dm_galaxy.build_systems b ON b.world_build_id = x.world_build_id AND b.star_id = x.star_id
             WHERE x.world_build_id = $1 AND x.in_scope
             ORDER BY x.distance_pc, s.main_id
             LIMIT $2 OFFSET $3"#,
            world_build_id,
            limit,
            offset,
        )
        .fetch_all(self.pool())
        .await?;
        let total: i64 = sqlx::query_scalar!(
            r#"SELECT count(*) AS "count!" FROM dm_galaxy.stars_xyz WHERE world_build_id = $1 AND in_scope"#,
            world_build_id,
        )
        .fetch_one(self.pool())
        .await?;
        Ok(SystemsPage { systems, total })
    }
}

impl Store {
    pub async fn world_build_id_of_run(&self, run_id: Uuid) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar!("SELECT world_build_id FROM dm_galaxy.world_builds WHERE run_id = $1", run_id)
            .fetch_optional(self.pool())
            .await?)
    }
}

impl Store {
    /// Row counts of what a world build holds, by table.
    pub async fn world_build_counts(&self, world_build_id: i64) -> Result<std::collections::BTreeMap<String, i64>> {
        let row = sqlx::query!(
            r#"SELECT (SELECT count(*) FROM dm_galaxy.stars_xyz WHERE world_build_id = $1) AS "stars_xyz!",
                    count(*) AS "build_systems!", COALESCE(sum(observed_planets), 0) AS "planets!",
                    COALESCE(sum(inferred_planets), 0) AS "inferred_planets!",
                    COALESCE(sum(inferred_belts), 0) AS "inferred_belts!",
                    COALESCE(sum(inferred_moons), 0) AS "inferred_moons!"
             FROM dm_galaxy.build_systems WHERE world_build_id = $1"#,
            world_build_id,
        )
        .fetch_one(self.pool())
        .await?;
        Ok([
            ("stars_xyz", row.stars_xyz),
            ("build_systems", row.build_systems),
            ("planets", row.planets),
            ("inferred_planets", row.inferred_planets),
            ("inferred_belts", row.inferred_belts),
            ("inferred_moons", row.inferred_moons),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect())
    }
}

/// One system of a build, as the detail API serves it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SystemDetailRow {
    pub star_id: i64,
    pub main_id: String,
    pub canon: sqlx::types::Json<serde_json::Value>,
    pub inference: Option<sqlx::types::Json<serde_json::Value>>,
    pub x_pc: Option<f64>,
    pub y_pc: Option<f64>,
    pub z_pc: Option<f64>,
    pub distance_ly: Option<f64>,
    pub in_scope: Option<bool>,
}

impl Store {
    /// A system of a build by main_id or by any alias (normalised key `alias_norm`).
    pub async fn system_detail(
        &self,
        world_build_id: i64,
        main_id: &str,
        alias_norm: &str,
    ) -> Result<Option<SystemDetailRow>> {
        Ok(sqlx::query_as!(
            SystemDetailRow,
            r#"SELECT b.star_id, b.main_id, b.canon AS "canon: sqlx::types::Json<serde_json::Value>",
                    b.inference AS "inference: sqlx::types::Json<serde_json::Value>",
                    x.x_pc AS "x_pc?", x.y_pc AS "y_pc?", x.z_pc AS "z_pc?", x.distance_ly AS "distance_ly?",
                    x.in_scope AS "in_scope?"
             FROM dm_galaxy.build_systems b
             LEFT JOIN dm_galaxy.stars_xyz x ON x.world_build_id = b.world_build_id AND x.star_id = b.star_id
             WHERE b.world_build_id = $1
               AND (b.main_id = $2 OR b.star_id = (SELECT star_id FROM dm_galaxy.star_aliases WHERE alias_norm = $3))
             ORDER BY (b.main_id = $2) DESC LIMIT 1"#,
            world_build_id,
            main_id,
            alias_norm,
        )
        .fetch_optional(self.pool())
        .await?)
    }

    /// The source files of a build's run, by family, with checksums: (family, name, sha256).
    pub async fn build_source_files(&self, world_build_id: i64) -> Result<Vec<(String, String, String, uuid::Uuid)>> {
        let rows = sqlx::query!(
            "SELECT m.source_family, m.source_name, m.file_checksum_sha256, m.run_id
             FROM dm_galaxy.world_builds w JOIN stg_data.source_manifest m USING (run_id)
             WHERE w.world_build_id = $1 AND w.sources ->> m.source_family = m.source_name",
            world_build_id,
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|r| (r.source_family, r.source_name, r.file_checksum_sha256, r.run_id)).collect())
    }
}

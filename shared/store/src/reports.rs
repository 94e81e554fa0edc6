//! Read side of the pipeline: runs, phases, validation summaries and quarantine rows.

use crate::{Result, Store};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PhaseRow {
    pub phase: String,
    // `running`, `done` or `failed` (a string in the OpenAPI document, as before).
    #[schema(value_type = String)]
    pub status: crate::runs::PhaseStatus,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub counts: serde_json::Value,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ManifestRow {
    pub source_family: String,
    pub source_name: String,
    pub file_uri: String,
    pub file_checksum_sha256: String,
    pub file_bytes: i64,
    pub contract_version: String,
    pub row_count: i32,
    pub accepted_rows: i32,
    pub quarantined_rows: i32,
    pub gate_status: String,
    pub ingested_at: DateTime<Utc>,
    pub metadata: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct SummaryRow {
    pub source_name: String,
    pub total_rows: i32,
    pub accepted_rows: i32,
    pub quarantined_rows: i32,
    pub warning_count: i32,
    pub fail_count: i32,
    pub gate_status: String,
    pub created_at: DateTime<Utc>,
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct QuarantineRow {
    pub source_name: String,
    pub row_number: i32,
    pub error_code: String,
    pub column_name: String,
    pub error_detail: String,
    pub raw_record: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ConfidenceRow {
    pub main_id: String,
    pub distance_ly: f64,
    pub distance_source: String,
    pub uncertainty_pc: Option<f64>,
    pub uncertainty_flag: String,
}

impl Store {
    /// Runs, newest first; `before` pages by start time.
    pub async fn list_runs(&self, limit: i64, before: Option<DateTime<Utc>>) -> Result<Vec<crate::runs::RunRow>> {
        // `status: _`: decoded as the field's type (the column is text).
        Ok(sqlx::query_as!(
            crate::runs::RunRow,
            r#"SELECT run_id, run_name, status AS "status: _", seed, started_at, finished_at, failure_reason, notes
             FROM stg_data.ingest_runs WHERE ($2::timestamptz IS NULL OR started_at < $2)
             ORDER BY started_at DESC, run_id LIMIT $1"#,
            limit,
            before,
        )
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn run_phases(&self, run_id: Uuid) -> Result<Vec<PhaseRow>> {
        Ok(sqlx::query_as!(
            PhaseRow,
            r#"SELECT phase, status AS "status: _", started_at, finished_at, counts, error FROM stg_data.run_phases
             WHERE run_id = $1 ORDER BY started_at, phase"#,
            run_id,
        )
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn run_manifest(&self, run_id: Uuid) -> Result<Vec<ManifestRow>> {
        Ok(sqlx::query_as!(
            ManifestRow,
            "SELECT source_family, source_name, file_uri, file_checksum_sha256, file_bytes, contract_version,
                    row_count, accepted_rows, quarantined_rows, gate_status, ingested_at, metadata
             FROM stg_data.source_manifest WHERE run_id = $1 ORDER BY source_name",
            run_id,
        )
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn validation_summary(&self, run_id: Uuid) -> Result<Vec<SummaryRow>> {
        Ok(sqlx::query_as!(
            SummaryRow,
            "SELECT source_name, total_rows, accepted_rows, quarantined_rows, warning_count, fail_count,
                    gate_status, created_at, details
             FROM stg_data.validation_summary WHERE run_id = $1 ORDER BY source_name",
            run_id,
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// Quarantine records of a run (optionally of one source or reason code), in file order,
    /// with the total that matched.
    pub async fn quarantine_page(
        &self,
        run_id: Uuid,
        source: Option<&str>,
        code: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<QuarantineRow>, i64)> {
        let rows = sqlx::query_as!(
            QuarantineRow,
            "SELECT source_name, row_number, error_code, column_name, error_detail, raw_record
             FROM stg_data.validation_quarantine
             WHERE run_id = $1 AND ($2::text IS NULL OR source_name = $2) AND ($3::text IS NULL OR error_code = $3)
             ORDER BY source_name, row_number, quarantine_id LIMIT $4 OFFSET $5",
            run_id,
            source,
            code,
            limit,
            offset,
        )
        .fetch_all(self.pool())
        .await?;
        let total: i64 = sqlx::query_scalar!(
            r#"SELECT count(*) AS "count!" FROM stg_data.validation_quarantine
             WHERE run_id = $1 AND ($2::text IS NULL OR source_name = $2) AND ($3::text IS NULL OR error_code = $3)"#,
            run_id,
            source,
            code,
        )
        .fetch_one(self.pool())
        .await?;
        Ok((rows, total))
    }

    /// In-scope systems of a build by distance uncertainty, largest first, unknown last.
    pub async fn confidence_rows(&self, world_build_id: i64) -> Result<Vec<ConfidenceRow>> {
        Ok(sqlx::query_as!(
            ConfidenceRow,
            "SELECT s.main_id, x.distance_ly, x.distance_source, x.uncertainty_pc, x.uncertainty_flag
             FROM dm_galaxy.stars_xyz x JOIN dm_galaxy.stars s USING (star_id)
             WHERE x.world_build_id = $1 AND x.in_scope
             ORDER BY x.uncertainty_pc DESC NULLS LAST, x.distance_pc, s.main_id",
            world_build_id,
        )
        .fetch_all(self.pool())
        .await?)
    }
}

//! Phase 01 writes: staging rows, quarantine, validation summary and manifest — one
//! transaction per source file, staging and quarantine each in one COPY.

use crate::StoreError;
use crate::copy::{BinCopy, CopyBuf};
use crate::{Result, Store};
use exomaps_domain::catalogue::contract::{GateStatus, NoteCode, QuarantinedRow, ReasonCode};
use exomaps_domain::catalogue::exoplanets::ExoplanetBatch;
use exomaps_domain::catalogue::simbad::SimbadBatch;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// A family's staging rows, COPY-encoded, with how to clear and load them.
pub(crate) struct Staging {
    pub(crate) table: StagingTable,
    /// Runtime-checked: a COPY statement (sqlx's macros do not describe COPY).
    pub(crate) copy: &'static str,
    /// The COPY stream, in the format `copy` names.
    pub(crate) rows: Vec<u8>,
}

/// The staging table of a family: what a rewrite of one (run, source) clears first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StagingTable {
    Simbad,
    Exoplanet,
    Hipparcos,
    Names,
}

impl StagingTable {
    pub(crate) fn name(self) -> &'static str {
        match self {
            StagingTable::Simbad => "stg_data.stg_simbad_raw",
            StagingTable::Exoplanet => "stg_data.stg_exoplanet_raw",
            StagingTable::Hipparcos => "stg_data.stg_hipparcos_raw",
            StagingTable::Names => "stg_data.stg_names_raw",
        }
    }

    /// Deletes the rows of lines `lines` of one (run, source): what an earlier attempt at one
    /// shard left (the CSV families are the ones sharded).
    pub(crate) async fn clear_lines(
        self,
        tx: &mut sqlx::PgConnection,
        run_id: Uuid,
        source_name: &str,
        lines: std::ops::Range<i32>,
    ) -> Result<()> {
        match self {
            StagingTable::Simbad => {
                sqlx::query!(
                    "DELETE FROM stg_data.stg_simbad_raw WHERE run_id = $1 AND source_name = $2
                         AND row_number >= $3 AND row_number < $4",
                    run_id,
                    source_name,
                    lines.start,
                    lines.end,
                )
                .execute(&mut *tx)
                .await?
            }
            StagingTable::Exoplanet => {
                sqlx::query!(
                    "DELETE FROM stg_data.stg_exoplanet_raw WHERE run_id = $1 AND source_name = $2
                         AND row_number >= $3 AND row_number < $4",
                    run_id,
                    source_name,
                    lines.start,
                    lines.end,
                )
                .execute(&mut *tx)
                .await?
            }
            StagingTable::Hipparcos | StagingTable::Names => {
                return Err(StoreError::Conflict(format!("{} is not sharded", self.name())));
            }
        };
        sqlx::query!(
            "DELETE FROM stg_data.validation_quarantine WHERE run_id = $1 AND source_name = $2
                 AND row_number >= $3 AND row_number < $4",
            run_id,
            source_name,
            lines.start,
            lines.end,
        )
        .execute(&mut *tx)
        .await?;
        Ok(())
    }

    /// Deletes the rows an earlier attempt at this (run, source) left (one checked statement
    /// per table: a table name cannot be a bound parameter).
    async fn clear(self, tx: &mut sqlx::PgConnection, run_id: Uuid, source_name: &str) -> Result<()> {
        match self {
            StagingTable::Simbad => {
                sqlx::query!(
                    "DELETE FROM stg_data.stg_simbad_raw WHERE run_id = $1 AND source_name = $2",
                    run_id,
                    source_name,
                )
                .execute(tx)
                .await?
            }
            StagingTable::Exoplanet => {
                sqlx::query!(
                    "DELETE FROM stg_data.stg_exoplanet_raw WHERE run_id = $1 AND source_name = $2",
                    run_id,
                    source_name,
                )
                .execute(tx)
                .await?
            }
            StagingTable::Hipparcos => {
                sqlx::query!(
                    "DELETE FROM stg_data.stg_hipparcos_raw WHERE run_id = $1 AND source_name = $2",
                    run_id,
                    source_name,
                )
                .execute(tx)
                .await?
            }
            StagingTable::Names => {
                sqlx::query!(
                    "DELETE FROM stg_data.stg_names_raw WHERE run_id = $1 AND source_name = $2",
                    run_id,
                    source_name,
                )
                .execute(tx)
                .await?
            }
        };
        Ok(())
    }
}

/// Provenance of one source file.
#[derive(Debug, Clone)]
pub struct SourceFileMeta {
    pub family: &'static str,
    pub source_name: String,
    pub file_uri: String,
    pub sha256: String,
    pub bytes: u64,
    pub contract_version: &'static str,
}

/// What the writer needs of a validated batch besides its staging rows.
pub(crate) struct BatchSummary<'a> {
    pub total_rows: usize,
    pub accepted_rows: usize,
    pub duplicate_rows: usize,
    pub quarantined: &'a [QuarantinedRow],
    pub issue_counts: BTreeMap<ReasonCode, usize>,
    pub note_counts: BTreeMap<NoteCode, usize>,
    pub staging_table: &'static str,
}

impl Store {
    /// Writes one validated SIMBAD file. Re-running it for the same (run, source) first removes
    /// what an interrupted earlier attempt may have left, so nothing is doubled.
    pub async fn write_simbad_ingest(
        &self,
        run_id: Uuid,
        meta: &SourceFileMeta,
        batch: &SimbadBatch,
        gate: GateStatus,
    ) -> Result<()> {
        let staging = simbad_staging(run_id, &meta.source_name, batch)?;
        let summary = BatchSummary {
            total_rows: batch.total_rows,
            accepted_rows: batch.accepted.len(),
            duplicate_rows: batch.duplicate_rows,
            quarantined: &batch.quarantined,
            issue_counts: batch.issue_counts(),
            note_counts: batch.note_counts(),
            staging_table: staging.table.name(),
        };
        self.write_ingest(run_id, meta, staging, &summary, gate).await
    }

    /// Writes one validated exoplanet file: key columns plus the typed record (JSON).
    pub async fn write_exoplanet_ingest(
        &self,
        run_id: Uuid,
        meta: &SourceFileMeta,
        batch: &ExoplanetBatch,
        gate: GateStatus,
    ) -> Result<()> {
        let staging = exoplanet_staging(run_id, &meta.source_name, batch)?;
        let summary = BatchSummary {
            total_rows: batch.total_rows,
            accepted_rows: batch.accepted.len(),
            duplicate_rows: batch.duplicate_rows,
            quarantined: &batch.quarantined,
            issue_counts: batch.issue_counts(),
            note_counts: batch.note_counts(),
            staging_table: staging.table.name(),
        };
        self.write_ingest(run_id, meta, staging, &summary, gate).await
    }

    /// Staging rows, quarantine, summary and manifest of one file, in one transaction.
    pub(crate) async fn write_ingest(
        &self,
        run_id: Uuid,
        meta: &SourceFileMeta,
        staging: Staging,
        batch: &BatchSummary<'_>,
        gate: GateStatus,
    ) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        staging.table.clear(&mut tx, run_id, &meta.source_name).await?;
        sqlx::query!(
            "DELETE FROM stg_data.validation_quarantine WHERE run_id = $1 AND source_name = $2",
            run_id,
            &meta.source_name,
        )
        .execute(&mut *tx)
        .await?;
        staging.send(&mut tx).await?;
        let (q, records) = quarantine_rows(run_id, &meta.source_name, batch.quarantined, &HashMap::new());
        send_quarantine(&mut tx, &q).await?;
        let counts = SummaryCounts {
            total_rows: batch.total_rows,
            accepted_rows: batch.accepted_rows,
            quarantined_rows: batch.quarantined.len(),
            duplicate_rows: batch.duplicate_rows,
            error_records: records,
            issue_counts: batch.issue_counts.iter().map(|(k, v)| (k.as_str().to_string(), *v)).collect(),
            note_counts: batch.note_counts.iter().map(|(k, v)| (k.as_str().to_string(), *v)).collect(),
        };
        write_summary(&mut tx, run_id, meta, &counts, batch.staging_table, gate).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a source file that failed as a whole (missing columns, unreadable): a manifest
    /// row with gate `fail` and the reason, so the failure is visible next to the others.
    pub async fn write_failed_source(&self, run_id: Uuid, meta: &SourceFileMeta, reason: &str) -> Result<()> {
        upsert_manifest(self.pool(), run_id, meta, [0, 0, 0], GateStatus::Fail, &json!({ "error": reason })).await
    }
}

/// The manifest row of one source file (replacing an earlier attempt's).
async fn upsert_manifest<'e>(
    db: impl sqlx::PgExecutor<'e>,
    run_id: Uuid,
    meta: &SourceFileMeta,
    [total, accepted, quarantined]: [usize; 3],
    gate: GateStatus,
    metadata: &Value,
) -> Result<()> {
    sqlx::query!(
        "INSERT INTO stg_data.source_manifest (run_id, source_family, source_name, file_uri,
             file_checksum_sha256, file_bytes, contract_version, row_count, accepted_rows,
             quarantined_rows, gate_status, metadata)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (run_id, source_name) DO UPDATE SET
             file_checksum_sha256 = EXCLUDED.file_checksum_sha256, file_bytes = EXCLUDED.file_bytes,
             row_count = EXCLUDED.row_count, accepted_rows = EXCLUDED.accepted_rows,
             quarantined_rows = EXCLUDED.quarantined_rows, gate_status = EXCLUDED.gate_status,
             metadata = EXCLUDED.metadata, ingested_at = now()",
        run_id,
        meta.family,
        &meta.source_name,
        &meta.file_uri,
        &meta.sha256,
        meta.bytes as i64,
        meta.contract_version,
        total as i32,
        accepted as i32,
        quarantined as i32,
        gate.as_str(),
        metadata,
    )
    .execute(db)
    .await?;
    Ok(())
}

impl Staging {
    /// COPYs the rows in.
    pub(crate) async fn send(&self, tx: &mut sqlx::PgConnection) -> Result<()> {
        // Runtime-checked: COPY (not described by sqlx's macros).
        let mut copy = tx.copy_in_raw(self.copy).await?;
        crate::copy::send_chunked(&mut copy, &self.rows).await?;
        copy.finish().await?;
        Ok(())
    }
}

/// The staging rows of a validated SIMBAD batch.
pub(crate) fn simbad_staging(run_id: Uuid, source_name: &str, batch: &SimbadBatch) -> Result<Staging> {
    // Binary COPY: a million rows of floats, text arrays and a uuid are not parsed from text on
    // the server (docs/scale-out.md has the measurement).
    let mut rows = BinCopy::new();
    for r in &batch.accepted {
        let line = i32::try_from(r.line)
            .map_err(|_| StoreError::Conflict(format!("line {} is beyond a row number", r.line)))?;
        rows.row(18)
            .uuid(&run_id)
            .text(source_name)
            .i32(line)
            .i64(r.sys_id)
            .opt_text(r.sys_code.as_deref())
            .text(&r.main_id)
            .text(&r.main_id_raw)
            .text_array(&r.ids)
            .opt_text(r.otype_txt.as_deref())
            .opt_text(r.otype_shortname.as_deref())
            .opt_text(r.otype_longname.as_deref())
            .text_array(&r.otypes)
            .opt_text(r.spectral_type.as_deref())
            .f64(Some(r.ra_deg))
            .f64(Some(r.dec_deg))
            .f64(r.dist_pc)
            .i16(i16::from(r.multiplicity))
            .jsonb(
                &serde_json::to_string(&r.notes)
                    .map_err(|e| StoreError::Conflict(format!("line {}: notes not serialisable: {e}", r.line)))?,
            );
    }
    Ok(Staging {
        table: StagingTable::Simbad,
        copy: "COPY stg_data.stg_simbad_raw (run_id, source_name, row_number, sys_id, sys_code, main_id,
               main_id_raw, ids, otype_txt, otype_shortname, otype_longname, otypes, spectral_type,
               ra_deg, dec_deg, dist_pc, multiplicity, notes) FROM STDIN WITH (FORMAT binary)",
        rows: rows.finish(),
    })
}

/// The staging rows of a validated exoplanet batch: key columns plus the typed record (JSON).
pub(crate) fn exoplanet_staging(run_id: Uuid, source_name: &str, batch: &ExoplanetBatch) -> Result<Staging> {
    let run = run_id.to_string();
    let mut rows = CopyBuf::new();
    for r in &batch.accepted {
        rows.text(&run)
            .text(source_name)
            .display(r.line)
            .text(&r.star_name)
            .text(&r.planet_name)
            .text(&serde_json::to_string(r).map_err(|e| StoreError::Conflict(e.to_string()))?);
        rows.end_row();
    }
    Ok(Staging {
        table: StagingTable::Exoplanet,
        copy: "COPY stg_data.stg_exoplanet_raw (run_id, source_name, row_number, star_name, planet_name, record)
               FROM STDIN",
        rows: rows.into_bytes(),
    })
}

/// The quarantine records of a batch (one per issue, with the raw row), and how many. A row
/// whose line is in `identities` carries that identity key (shards: see the migration 0010).
pub(crate) fn quarantine_rows(
    run_id: Uuid,
    source_name: &str,
    quarantined: &[QuarantinedRow],
    identities: &HashMap<u32, String>,
) -> (CopyBuf, usize) {
    let run = run_id.to_string();
    let mut q = CopyBuf::new();
    let mut records = 0usize;
    for row in quarantined {
        let raw: Map<String, Value> = row.raw.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        let raw = Value::Object(raw).to_string();
        let identity = identities.get(&row.line).map(String::as_str);
        for issue in &row.issues {
            records += 1;
            q.text(&run)
                .text(source_name)
                .display(row.line)
                .text(issue.code.as_str())
                .text(&issue.column)
                .text(&issue.detail)
                .text(&raw)
                .opt_text(identity);
            q.end_row();
        }
    }
    (q, records)
}

pub(crate) async fn send_quarantine(tx: &mut sqlx::PgConnection, rows: &CopyBuf) -> Result<()> {
    // Runtime-checked: COPY (not described by sqlx's macros).
    let mut copy = tx
        .copy_in_raw(
            "COPY stg_data.validation_quarantine (run_id, source_name, row_number, error_code, column_name,
             error_detail, raw_record, identity) FROM STDIN",
        )
        .await?;
    crate::copy::send_chunked(&mut copy, rows.as_bytes()).await?;
    copy.finish().await?;
    Ok(())
}

/// What a source's validation counted (a whole file, or the sum of its shards).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SummaryCounts {
    pub total_rows: usize,
    pub accepted_rows: usize,
    pub quarantined_rows: usize,
    pub duplicate_rows: usize,
    /// Quarantine records (one per issue).
    pub error_records: usize,
    pub issue_counts: BTreeMap<String, usize>,
    pub note_counts: BTreeMap<String, usize>,
}

impl SummaryCounts {
    pub fn add(&mut self, other: &SummaryCounts) {
        self.total_rows += other.total_rows;
        self.accepted_rows += other.accepted_rows;
        self.quarantined_rows += other.quarantined_rows;
        self.duplicate_rows += other.duplicate_rows;
        self.error_records += other.error_records;
        for (k, v) in &other.issue_counts {
            *self.issue_counts.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.note_counts {
            *self.note_counts.entry(k.clone()).or_default() += v;
        }
    }
}

/// The validation summary and the manifest row of one source (replacing an earlier attempt's).
pub(crate) async fn write_summary(
    tx: &mut sqlx::PgConnection,
    run_id: Uuid,
    meta: &SourceFileMeta,
    counts: &SummaryCounts,
    staging_table: &str,
    gate: GateStatus,
) -> Result<()> {
    sqlx::query!(
        "DELETE FROM stg_data.validation_summary WHERE run_id = $1 AND source_name = $2",
        run_id,
        &meta.source_name,
    )
    .execute(&mut *tx)
    .await?;
    let warning_count: usize = counts.note_counts.values().sum();
    let details = json!({
        "duplicate_rows": counts.duplicate_rows,
        "error_rows": counts.quarantined_rows,
        "error_records": counts.error_records,
        "issue_counts": counts.issue_counts,
        "note_counts": counts.note_counts,
    });
    sqlx::query!(
        "INSERT INTO stg_data.validation_summary (run_id, source_name, total_rows, accepted_rows,
             quarantined_rows, warning_count, fail_count, gate_status, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        run_id,
        &meta.source_name,
        counts.total_rows as i32,
        counts.accepted_rows as i32,
        counts.quarantined_rows as i32,
        warning_count as i32,
        counts.error_records as i32,
        gate.as_str(),
        &details,
    )
    .execute(&mut *tx)
    .await?;
    let rows = [counts.total_rows, counts.accepted_rows, counts.quarantined_rows];
    upsert_manifest(&mut *tx, run_id, meta, rows, gate, &json!({ "source_table": staging_table })).await
}

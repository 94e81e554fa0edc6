//! The HIPPARCOS and NAMES families: staging writes (through the same one-transaction ingest
//! writer as SIMBAD and EXOPLANETS) and reading staged rows back as domain records.

use crate::copy::CopyBuf;
use crate::ingest::{BatchSummary, SourceFileMeta, Staging, StagingTable};
use crate::{Result, Store, StoreError};
use exomaps_domain::catalogue::contract::{GateStatus, RowNote};
use exomaps_domain::catalogue::hipparcos::{HipparcosBatch, HipparcosRecord};
use exomaps_domain::catalogue::starnames::{ConstellationRecord, NamesBatch, StarNameRecord};
use serde_json::Value;
use uuid::Uuid;

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::Conflict(format!("stored record does not match the domain type: {e}"))
}

struct HipRow {
    row_number: i32,
    hip: i32,
    ra_deg: f64,
    dec_deg: f64,
    plx_mas: f64,
    e_plx_mas: f64,
    pm_ra_mas_yr: f64,
    pm_dec_mas_yr: f64,
    hp_mag: Option<f64>,
    b_v: Option<f64>,
    notes: sqlx::types::Json<Vec<RowNote>>,
}

impl Store {
    /// Writes one validated `hip2.dat` (every accepted row, typed).
    pub async fn write_hipparcos_ingest(
        &self,
        run_id: Uuid,
        meta: &SourceFileMeta,
        batch: &HipparcosBatch,
        gate: GateStatus,
    ) -> Result<()> {
        let run = run_id.to_string();
        let mut rows = CopyBuf::new();
        for r in &batch.accepted {
            rows.text(&run)
                .text(&meta.source_name)
                .display(r.line)
                .display(r.hip)
                .f64(Some(r.ra_deg))
                .f64(Some(r.dec_deg))
                .f64(Some(r.plx_mas))
                .f64(Some(r.e_plx_mas))
                .f64(Some(r.pm_ra_mas_yr))
                .f64(Some(r.pm_dec_mas_yr))
                .f64(r.hp_mag)
                .f64(r.b_v)
                .text(&serde_json::to_string(&r.notes).map_err(json_err)?);
            rows.end_row();
        }
        let summary = BatchSummary {
            total_rows: batch.total_rows,
            accepted_rows: batch.accepted.len(),
            duplicate_rows: batch.duplicate_rows,
            quarantined: &batch.quarantined,
            issue_counts: batch.issue_counts(),
            note_counts: batch.note_counts(),
            staging_table: "stg_data.stg_hipparcos_raw",
        };
        let staging = Staging {
            table: StagingTable::Hipparcos,
            copy: "COPY stg_data.stg_hipparcos_raw (run_id, source_name, row_number, hip, ra_deg, dec_deg, plx_mas,
                   e_plx_mas, pm_ra_mas_yr, pm_dec_mas_yr, hp_mag, b_v, notes) FROM STDIN",
            rows: rows.into_bytes(),
        };
        self.write_ingest(run_id, meta, staging, &summary, gate).await
    }

    /// Writes one validated NAMES document (star names or constellations).
    pub async fn write_names_ingest(
        &self,
        run_id: Uuid,
        meta: &SourceFileMeta,
        batch: &NamesBatch,
        gate: GateStatus,
    ) -> Result<()> {
        let run = run_id.to_string();
        let mut rows = CopyBuf::new();
        for r in &batch.stars {
            rows.text(&run)
                .text(&meta.source_name)
                .display(r.line)
                .text("star_names")
                .text(&r.hip.to_string())
                .text(&serde_json::to_string(r).map_err(json_err)?);
            rows.end_row();
        }
        for r in &batch.constellations {
            rows.text(&run)
                .text(&meta.source_name)
                .display(r.line)
                .text("constellations")
                .text(&r.abbr)
                .text(&serde_json::to_string(r).map_err(json_err)?);
            rows.end_row();
        }
        let summary = BatchSummary {
            total_rows: batch.total_rows,
            accepted_rows: batch.accepted_rows(),
            duplicate_rows: batch.duplicate_rows,
            quarantined: &batch.quarantined,
            issue_counts: batch.issue_counts(),
            note_counts: batch.note_counts(),
            staging_table: "stg_data.stg_names_raw",
        };
        let staging = Staging {
            table: StagingTable::Names,
            copy: "COPY stg_data.stg_names_raw (run_id, source_name, row_number, document, object_key, record)
                   FROM STDIN",
            rows: rows.into_bytes(),
        };
        self.write_ingest(run_id, meta, staging, &summary, gate).await
    }

    /// The accepted Hipparcos rows of one source with a parallax of at least `min_plx_mas`
    /// (the map's reach), in file order.
    pub async fn staged_hipparcos_records(
        &self,
        run_id: Uuid,
        source_name: &str,
        min_plx_mas: f64,
    ) -> Result<Vec<HipparcosRecord>> {
        let rows = sqlx::query_as!(
            HipRow,
            r#"SELECT row_number, hip, ra_deg, dec_deg, plx_mas, e_plx_mas, pm_ra_mas_yr, pm_dec_mas_yr, hp_mag, b_v,
                    notes AS "notes: sqlx::types::Json<Vec<RowNote>>"
             FROM stg_data.stg_hipparcos_raw WHERE run_id = $1 AND source_name = $2 AND plx_mas >= $3
             ORDER BY row_number"#,
            run_id,
            source_name,
            min_plx_mas,
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| HipparcosRecord {
                line: r.row_number as u32,
                hip: r.hip as u32,
                ra_deg: r.ra_deg,
                dec_deg: r.dec_deg,
                plx_mas: r.plx_mas,
                e_plx_mas: r.e_plx_mas,
                pm_ra_mas_yr: r.pm_ra_mas_yr,
                pm_dec_mas_yr: r.pm_dec_mas_yr,
                hp_mag: r.hp_mag,
                b_v: r.b_v,
                notes: r.notes.0,
            })
            .collect())
    }

    /// The accepted NAMES entries of one source: star names and constellations.
    pub async fn staged_names(
        &self,
        run_id: Uuid,
        source_name: &str,
    ) -> Result<(Vec<StarNameRecord>, Vec<ConstellationRecord>)> {
        let rows = sqlx::query!(
            r#"SELECT document, record AS "record: sqlx::types::Json<Value>" FROM stg_data.stg_names_raw
               WHERE run_id = $1 AND source_name = $2 ORDER BY row_number"#,
            run_id,
            source_name,
        )
        .fetch_all(self.pool())
        .await?;
        let (mut stars, mut cons) = (Vec::new(), Vec::new());
        for r in rows {
            let (doc, rec) = (r.document, r.record);
            if doc == "constellations" {
                cons.push(serde_json::from_value(rec.0).map_err(json_err)?);
            } else {
                stars.push(serde_json::from_value(rec.0).map_err(json_err)?);
            }
        }
        Ok((stars, cons))
    }
}

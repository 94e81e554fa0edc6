//! Sharded ingest (issue 15; migration 0010): the plan of a fanned-out ingest, each shard's
//! rows and counts, the join counted in PostgreSQL, and the cross-shard duplicates the join
//! resolves.

use crate::ingest::{
    SourceFileMeta, StagingTable, SummaryCounts, exoplanet_staging, quarantine_rows, send_quarantine, simbad_staging,
    write_summary,
};
use crate::{Result, Store, StoreError};
use exomaps_domain::catalogue::contract::GateStatus;
use exomaps_domain::catalogue::exoplanets::ExoplanetBatch;
use exomaps_domain::catalogue::shard::ShardPlan;
use exomaps_domain::catalogue::simbad::SimbadBatch;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// A sharded source as planned: the file's provenance and how it was split.
pub struct ShardedSourceWrite<'a> {
    pub meta: &'a SourceFileMeta,
    pub plan: &'a ShardPlan,
}

/// One shard of a sharded source, with what its ingest needs of the source.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardRow {
    pub source_name: String,
    pub family: String,
    pub file_uri: String,
    pub file_sha256: String,
    pub file_bytes: i64,
    pub contract_version: String,
    pub header_end: i64,
    pub header_lines: i32,
    pub shard_count: i32,
    pub shard_index: i32,
    pub byte_start: i64,
    pub byte_end: i64,
    pub first_line: i32,
    pub next_line: i32,
    pub done: bool,
}

/// A shard's validated rows.
pub enum ShardBatch<'a> {
    Simbad(&'a SimbadBatch),
    Exoplanets(&'a ExoplanetBatch),
}

/// Where a fanned-out ingest stands after a shard's write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FanoutState {
    pub shards_total: i32,
    pub shards_done: i32,
    pub joined: bool,
}

impl FanoutState {
    /// Every shard is in and nobody has joined yet: this caller joins.
    pub fn ready_to_join(&self) -> bool {
        self.shards_done >= self.shards_total && !self.joined
    }
}

fn counts_json(m: &BTreeMap<String, usize>) -> Value {
    serde_json::to_value(m).unwrap_or_default()
}

fn counts_of(v: &Value) -> BTreeMap<String, usize> {
    serde_json::from_value(v.clone()).unwrap_or_default()
}

impl Store {
    /// Records the plan of a fanned-out ingest: its sharded sources, their shards and the join
    /// counter. Idempotent: a plan recorded before (a redelivered kick) is kept as it was.
    pub async fn create_fanout(&self, run_id: Uuid, plan: &Value, sources: &[ShardedSourceWrite<'_>]) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        let total: usize = sources.iter().map(|s| s.plan.ranges.len()).sum();
        let inserted = sqlx::query!(
            "INSERT INTO stg_data.ingest_fanouts (run_id, shards_total, plan) VALUES ($1, $2, $3)
             ON CONFLICT (run_id) DO NOTHING",
            run_id,
            total as i32,
            plan,
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(());
        }
        for s in sources {
            sqlx::query!(
                "INSERT INTO stg_data.ingest_sources (run_id, source_name, family, file_uri, file_sha256, file_bytes,
                     contract_version, header_end, header_lines, shard_count)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                run_id,
                &s.meta.source_name,
                s.meta.family,
                &s.meta.file_uri,
                &s.meta.sha256,
                s.meta.bytes as i64,
                s.meta.contract_version,
                s.plan.header_end as i64,
                s.plan.header_lines as i32,
                s.plan.ranges.len() as i32,
            )
            .execute(&mut *tx)
            .await?;
            let index: Vec<i32> = s.plan.ranges.iter().map(|r| r.index as i32).collect();
            let start: Vec<i64> = s.plan.ranges.iter().map(|r| r.start as i64).collect();
            let end: Vec<i64> = s.plan.ranges.iter().map(|r| r.end as i64).collect();
            let first: Vec<i32> = s.plan.ranges.iter().map(|r| r.first_line as i32).collect();
            let next: Vec<i32> = s.plan.ranges.iter().map(|r| r.next_line.min(i32::MAX as u32) as i32).collect();
            sqlx::query!(
                "INSERT INTO stg_data.ingest_shards (run_id, source_name, shard_index, byte_start, byte_end,
                     first_line, next_line)
                 SELECT $1, $2, * FROM UNNEST($3::int4[], $4::int8[], $5::int8[], $6::int4[], $7::int4[])",
                run_id,
                &s.meta.source_name,
                &index,
                &start,
                &end,
                &first,
                &next,
            )
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The plan recorded for a run's fanned-out ingest, and where its join stands.
    pub async fn fanout(&self, run_id: Uuid) -> Result<Option<(Value, FanoutState)>> {
        let row = sqlx::query!(
            "SELECT plan, shards_total, shards_done, joined_at IS NOT NULL AS \"joined!\"
             FROM stg_data.ingest_fanouts WHERE run_id = $1",
            run_id,
        )
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| {
            (r.plan, FanoutState { shards_total: r.shards_total, shards_done: r.shards_done, joined: r.joined })
        }))
    }

    /// One shard of a run's sharded source.
    pub async fn shard(&self, run_id: Uuid, source_name: &str, index: i32) -> Result<Option<ShardRow>> {
        Ok(sqlx::query_as!(
            ShardRow,
            r#"SELECT s.source_name, s.family, s.file_uri, s.file_sha256, s.file_bytes, s.contract_version,
                      s.header_end, s.header_lines, s.shard_count, h.shard_index, h.byte_start, h.byte_end,
                      h.first_line, h.next_line, h.done_at IS NOT NULL AS "done!"
               FROM stg_data.ingest_shards h JOIN stg_data.ingest_sources s USING (run_id, source_name)
               WHERE h.run_id = $1 AND h.source_name = $2 AND h.shard_index = $3"#,
            run_id,
            source_name,
            index,
        )
        .fetch_optional(self.pool())
        .await?)
    }

    /// The shards of a run's sharded source, in order.
    pub async fn shards(&self, run_id: Uuid, source_name: &str) -> Result<Vec<ShardRow>> {
        Ok(sqlx::query_as!(
            ShardRow,
            r#"SELECT s.source_name, s.family, s.file_uri, s.file_sha256, s.file_bytes, s.contract_version,
                      s.header_end, s.header_lines, s.shard_count, h.shard_index, h.byte_start, h.byte_end,
                      h.first_line, h.next_line, h.done_at IS NOT NULL AS "done!"
               FROM stg_data.ingest_shards h JOIN stg_data.ingest_sources s USING (run_id, source_name)
               WHERE h.run_id = $1 AND h.source_name = $2 ORDER BY h.shard_index"#,
            run_id,
            source_name,
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// Writes one shard's staging rows and quarantine (replacing what an earlier attempt at
    /// these lines left) and its counts, in one transaction; the first write of a shard counts
    /// it towards the join. `identities`: the identity key of quarantined rows by line.
    pub async fn write_shard(
        &self,
        run_id: Uuid,
        shard: &ShardRow,
        batch: ShardBatch<'_>,
        identities: &HashMap<u32, String>,
    ) -> Result<FanoutState> {
        let (staging, quarantined, counts) = match batch {
            ShardBatch::Simbad(b) => (
                simbad_staging(run_id, &shard.source_name, b)?,
                &b.quarantined,
                (b.total_rows, b.accepted.len(), b.duplicate_rows, b.issue_counts(), b.note_counts()),
            ),
            ShardBatch::Exoplanets(b) => (
                exoplanet_staging(run_id, &shard.source_name, b)?,
                &b.quarantined,
                (b.total_rows, b.accepted.len(), b.duplicate_rows, b.issue_counts(), b.note_counts()),
            ),
        };
        let (total, accepted, duplicates, issues, notes) = counts;
        let issues: BTreeMap<String, usize> = issues.into_iter().map(|(k, v)| (k.as_str().to_string(), v)).collect();
        let notes: BTreeMap<String, usize> = notes.into_iter().map(|(k, v)| (k.as_str().to_string(), v)).collect();
        let mut tx = self.pool().begin().await?;
        let table = staging.table;
        table.clear_lines(&mut tx, run_id, &shard.source_name, shard.first_line..shard.next_line).await?;
        staging.send(&mut tx).await?;
        let (q, records) = quarantine_rows(run_id, &shard.source_name, quarantined, identities);
        send_quarantine(&mut tx, &q).await?;
        let before = sqlx::query_scalar!(
            "SELECT done_at IS NULL AS \"pending!\" FROM stg_data.ingest_shards
             WHERE run_id = $1 AND source_name = $2 AND shard_index = $3 FOR UPDATE",
            run_id,
            &shard.source_name,
            shard.shard_index,
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(flipped) = before else {
            return Err(StoreError::Conflict(format!("no shard {} of {}", shard.shard_index, shard.source_name)));
        };
        sqlx::query!(
            "UPDATE stg_data.ingest_shards SET total_rows = $4, accepted_rows = $5, quarantined_rows = $6,
                 duplicate_rows = $7, error_records = $8, issue_counts = $9, note_counts = $10,
                 done_at = COALESCE(done_at, now())
             WHERE run_id = $1 AND source_name = $2 AND shard_index = $3",
            run_id,
            &shard.source_name,
            shard.shard_index,
            total as i32,
            accepted as i32,
            quarantined.len() as i32,
            duplicates as i32,
            records as i32,
            counts_json(&issues),
            counts_json(&notes),
        )
        .execute(&mut *tx)
        .await?;
        let state = sqlx::query!(
            "UPDATE stg_data.ingest_fanouts SET shards_done = shards_done + $2 WHERE run_id = $1
             RETURNING shards_total, shards_done, joined_at IS NOT NULL AS \"joined!\"",
            run_id,
            i32::from(flipped),
        )
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(FanoutState { shards_total: state.shards_total, shards_done: state.shards_done, joined: state.joined })
    }

    /// Identities of a sharded source that occur in more than one shard: `(shard, identity key,
    /// line of its first occurrence)` for every shard after the first that holds one — the
    /// shards the join parses again, told those identities were seen before them. Accepted
    /// rows' identities come from staging, quarantined rows' from their `identity` key.
    /// `first_lines`: each shard's first line, in shard order (a row's shard is its bucket).
    pub async fn cross_shard_duplicates(
        &self,
        run_id: Uuid,
        source_name: &str,
        first_lines: &[i32],
    ) -> Result<Vec<(i32, String, i32)>> {
        // A source name is one file of one family in a run: one of the two staging tables holds it.
        let rows = sqlx::query!(
            r#"WITH k AS (
                   SELECT sys_id::text || chr(31) || main_id AS key, width_bucket(row_number, $3::int4[]) AS shard,
                          row_number AS line
                   FROM stg_data.stg_simbad_raw WHERE run_id = $1 AND source_name = $2
                   UNION ALL
                   SELECT star_name || chr(31) || planet_name, width_bucket(row_number, $3::int4[]), row_number
                   FROM stg_data.stg_exoplanet_raw WHERE run_id = $1 AND source_name = $2
                   UNION ALL
                   SELECT identity, width_bucket(row_number, $3::int4[]), row_number
                   FROM stg_data.validation_quarantine
                   WHERE run_id = $1 AND source_name = $2 AND identity IS NOT NULL),
               firsts AS (
                   SELECT key, min(line) AS first_line, min(shard) AS first_shard FROM k
                   GROUP BY key HAVING min(shard) <> max(shard))
               SELECT DISTINCT k.shard - 1 AS "shard!", f.key AS "key!", f.first_line AS "first_line!"
               FROM k JOIN firsts f USING (key) WHERE k.shard > f.first_shard
               ORDER BY 1, 2"#,
            run_id,
            source_name,
            first_lines,
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|r| (r.shard, r.key, r.first_line)).collect())
    }

    /// The summed counts of a sharded source's shards.
    pub async fn shard_counts(&self, run_id: Uuid, source_name: &str) -> Result<SummaryCounts> {
        let rows = sqlx::query!(
            "SELECT total_rows, accepted_rows, quarantined_rows, duplicate_rows, error_records, issue_counts,
                    note_counts
             FROM stg_data.ingest_shards WHERE run_id = $1 AND source_name = $2",
            run_id,
            source_name,
        )
        .fetch_all(self.pool())
        .await?;
        let mut sum = SummaryCounts::default();
        for r in rows {
            sum.add(&SummaryCounts {
                total_rows: r.total_rows as usize,
                accepted_rows: r.accepted_rows as usize,
                quarantined_rows: r.quarantined_rows as usize,
                duplicate_rows: r.duplicate_rows as usize,
                error_records: r.error_records as usize,
                issue_counts: counts_of(&r.issue_counts),
                note_counts: counts_of(&r.note_counts),
            });
        }
        Ok(sum)
    }

    /// A joined source's validation summary and manifest row, from its shards' summed counts.
    pub async fn write_sharded_summary(
        &self,
        run_id: Uuid,
        meta: &SourceFileMeta,
        counts: &SummaryCounts,
        gate: GateStatus,
    ) -> Result<()> {
        let table = match meta.family {
            "SIMBAD" => StagingTable::Simbad,
            _ => StagingTable::Exoplanet,
        };
        let mut tx = self.pool().begin().await?;
        write_summary(&mut tx, run_id, meta, counts, table.name(), gate).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks the run's fanned-out ingest joined.
    pub async fn mark_joined(&self, run_id: Uuid) -> Result<()> {
        sqlx::query!(
            "UPDATE stg_data.ingest_fanouts SET joined_at = COALESCE(joined_at, now()) WHERE run_id = $1",
            run_id
        )
        .execute(self.pool())
        .await?;
        Ok(())
    }
}

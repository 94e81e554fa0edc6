//! Phase 01: read each source, validate it against its contract, stage the accepted rows,
//! quarantine the rest with reasons, and gate the file.
//!
//! A CSV source bigger than the shard size (`EXOMAPS_SHARD_BYTES`, or the kick's `shards`) is
//! not read whole: the kick's handler streams it once through the quote-aware splitter
//! (`exomaps_domain::catalogue::shard`), records the plan, and the chain sends one message per
//! shard. Each shard reads its byte range (a file offset, or an S3 ranged GET), validates and
//! writes its lines; the shard that completes the count in PostgreSQL joins: shards holding
//! an identity first seen in an earlier shard are validated again knowing it (so duplicates
//! are reported exactly as in one pass), the counts are summed, the gate applied, and the
//! chain goes on. One shard and N shards give the same staging, quarantine and build.

use crate::outcome::PhaseOutcome;
use crate::{Family, PhaseError, SourceSpec, read_source};
use exomaps_domain::catalogue::contract::{GateStatus, gate_status};
use exomaps_domain::catalogue::exoplanets;
use exomaps_domain::catalogue::shard::{ShardPlan, ShardRange, Splitter};
use exomaps_domain::catalogue::simbad;
use exomaps_domain::catalogue::{hipparcos, starnames};
use exomaps_store::Store;
use exomaps_store::ingest::{SourceFileMeta, SummaryCounts};
use exomaps_store::shards::{ShardBatch, ShardRow, ShardedSourceWrite};
use exomaps_wire::pipeline::{MAX_SHARDS, Phase, ShardMessage, ShardRef};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// One source file of the run: what its contract and gate made of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceOutcome {
    pub family: Family,
    pub source_name: String,
    pub sha256: String,
    pub total_rows: usize,
    pub accepted_rows: usize,
    pub quarantined_rows: usize,
    pub issue_counts: BTreeMap<String, usize>,
    pub gate_status: GateStatus,
}

/// Phase 01's outcome: every source read, in the kick message's order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IngestOutcome {
    pub sources: Vec<SourceOutcome>,
}

/// What the kick's ingest did: the whole phase, or a plan whose shards follow as messages.
#[derive(Debug)]
pub enum IngestStep {
    Done(IngestOutcome),
    /// Sources were sharded: these messages go on the ingest queue; the last shard joins.
    FannedOut(Vec<ShardMessage>),
}

/// What a shard message did.
#[derive(Debug)]
pub enum ShardStep {
    /// Written (or written before); other shards are still out.
    Pending,
    /// This shard completed the count and joined: the phase's outcome.
    Joined(IngestOutcome),
}

/// One source of a fanned-out run, in kick order (recorded with the plan for the join).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Slot {
    Outcome(SourceOutcome),
    Rejected(String),
    Sharded(String),
}

/// The default shard size: `EXOMAPS_SHARD_BYTES` (read once), else 64 MiB — a shard's bytes
/// and parsed rows fit a 1 GB Lambda with room to spare (docs/scale-out.md).
pub fn default_shard_bytes() -> u64 {
    static BYTES: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *BYTES.get_or_init(|| {
        std::env::var("EXOMAPS_SHARD_BYTES")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .filter(|&n| n > 0)
            .unwrap_or(64 << 20)
    })
}

/// Ingests every source of a run. A whole-file failure or a failed gate rejects the run
/// (after recording the manifest, summary and quarantine, so the reason is inspectable; a
/// failed gate as [`PhaseError::Gated`], with the sources read so far).
pub async fn ingest(store: &Store, run_id: Uuid, sources: &[SourceSpec]) -> Result<IngestOutcome, PhaseError> {
    match ingest_planned(store, run_id, sources, Some(1)).await? {
        IngestStep::Done(o) => Ok(o),
        IngestStep::FannedOut(_) => Err(PhaseError::Rejected("one shard per source was asked for".into())),
    }
}

/// [`ingest`], sharding each CSV source into `shards` (the kick's), or by the default shard
/// size when `None`.
pub async fn ingest_planned(
    store: &Store,
    run_id: Uuid,
    sources: &[SourceSpec],
    shards: Option<u32>,
) -> Result<IngestStep, PhaseError> {
    if sources.is_empty() {
        return Err(PhaseError::Rejected("a run needs at least one source".into()));
    }
    let mut slots = Vec::new();
    let mut sharded = Vec::new();
    for spec in sources {
        if let Some(n) = shard_count(spec, shards).await {
            match plan_source(store, run_id, spec, n).await {
                Ok(Some((meta, plan))) => {
                    slots.push(Slot::Sharded(meta.source_name.clone()));
                    sharded.push((meta, plan));
                    continue;
                }
                Ok(None) => {}
                Err(PhaseError::Rejected(reason)) => {
                    slots.push(Slot::Rejected(reason));
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        match ingest_one(store, run_id, spec).await {
            Ok(o) => slots.push(Slot::Outcome(o)),
            Err(PhaseError::Rejected(reason)) => slots.push(Slot::Rejected(reason)),
            Err(e) => return Err(e),
        }
    }
    if sharded.is_empty() {
        return conclude(slots, HashMap::new()).map(IngestStep::Done);
    }
    let plan = serde_json::to_value(&slots).map_err(|e| PhaseError::Rejected(e.to_string()))?;
    let writes: Vec<ShardedSourceWrite<'_>> =
        sharded.iter().map(|(meta, plan)| ShardedSourceWrite { meta, plan }).collect();
    store.create_fanout(run_id, &plan, &writes).await?;
    let messages = sharded
        .iter()
        .flat_map(|(meta, plan)| {
            plan.ranges.iter().map(|r| ShardMessage {
                run_id,
                phase: Phase::Ingest,
                shard: ShardRef { source: meta.source_name.clone(), index: r.index },
            })
        })
        .collect();
    Ok(IngestStep::FannedOut(messages))
}

/// The outcome of the sources in kick order (sharded ones from `joined`), or the run's
/// rejection: the first whole-file failure or failed gate.
fn conclude(slots: Vec<Slot>, mut joined: HashMap<String, SourceOutcome>) -> Result<IngestOutcome, PhaseError> {
    let mut outcomes = Vec::new();
    let mut rejection = None;
    for slot in slots {
        let o = match slot {
            Slot::Rejected(reason) => {
                rejection.get_or_insert(reason);
                continue;
            }
            Slot::Outcome(o) => o,
            Slot::Sharded(name) => match joined.remove(&name) {
                Some(o) => o,
                None => return Err(PhaseError::Rejected(format!("{name}: the join has no outcome for it"))),
            },
        };
        if o.gate_status == GateStatus::Fail && rejection.is_none() {
            rejection = Some(format!(
                "gate failed for {}: {} of {} rows quarantined",
                o.source_name, o.quarantined_rows, o.total_rows
            ));
        }
        outcomes.push(o);
    }
    let outcome = IngestOutcome { sources: outcomes };
    match rejection {
        Some(reason) => Err(PhaseError::Gated { reason, outcome: Box::new(PhaseOutcome::Ingest(outcome)) }),
        None => Ok(outcome),
    }
}

/// How many shards a source is split into, or `None` to read it whole: CSV families only
/// (uncompressed: a gzip stream has no byte ranges), the kick's count, else by size.
async fn shard_count(spec: &SourceSpec, asked: Option<u32>) -> Option<u32> {
    if !matches!(spec.family, Family::Simbad | Family::Exoplanets) || spec.uri.to_ascii_lowercase().ends_with(".gz") {
        return None;
    }
    let n = match asked {
        Some(n) => n.clamp(1, MAX_SHARDS),
        None => {
            let size = crate::source::source_len(spec).await.ok()?;
            u32::try_from(size.div_ceil(default_shard_bytes())).unwrap_or(MAX_SHARDS).clamp(1, MAX_SHARDS)
        }
    };
    (n > 1).then_some(n)
}

fn contract_version(family: Family) -> &'static str {
    match family {
        Family::Simbad => simbad::CONTRACT_VERSION,
        Family::Exoplanets => exoplanets::CONTRACT_VERSION,
        Family::Hipparcos => hipparcos::CONTRACT_VERSION,
        Family::Names => starnames::CONTRACT_VERSION,
    }
}

/// Streams a source once through the splitter (hashing it as it goes) and checks its header
/// against the contract. `None`: it has no complete header line or only one shard, and is read
/// whole instead.
async fn plan_source(
    store: &Store,
    run_id: Uuid,
    spec: &SourceSpec,
    shards: u32,
) -> Result<Option<(SourceFileMeta, ShardPlan)>, PhaseError> {
    let mut meta = SourceFileMeta {
        family: spec.family.as_str(),
        source_name: spec.source_name(),
        file_uri: spec.uri.clone(),
        sha256: String::new(),
        bytes: 0,
        contract_version: contract_version(spec.family),
    };
    let size = match crate::source::source_len(spec).await {
        Ok(n) => n,
        Err(e) => {
            store.write_failed_source(run_id, &meta, &e.to_string()).await?;
            return Err(e);
        }
    };
    let mut splitter = Splitter::new(size.div_ceil(u64::from(shards)));
    let mut hasher = Sha256::new();
    let mut header = Vec::new();
    let streamed = crate::source::stream_source(spec, |chunk| {
        splitter.feed(chunk);
        hasher.update(chunk);
        if header.len() < 1 << 20 {
            header.extend_from_slice(&chunk[..chunk.len().min((1 << 20) - header.len())]);
        }
    })
    .await;
    if let Err(e) = streamed {
        store.write_failed_source(run_id, &meta, &e.to_string()).await?;
        return Err(e);
    }
    meta.sha256 = exomaps_domain::hex::hex(&hasher.finalize());
    meta.bytes = size;
    let Some(plan) = splitter.finish().filter(|p| p.ranges.len() > 1 && p.total_bytes == size) else {
        return Ok(None);
    };
    // The header alone, through the contract: a missing column rejects the file here, once.
    let head = usize::try_from(plan.header_end).ok().and_then(|end| header.get(..end));
    let checked = match (spec.family, head) {
        (_, None) => Err("the header line is longer than 1 MiB".to_string()),
        (Family::Simbad, Some(h)) => simbad::parse(h).map(|_| ()).map_err(|e| e.to_string()),
        (_, Some(h)) => exoplanets::parse(h).map(|_| ()).map_err(|e| e.to_string()),
    };
    if let Err(e) = checked {
        let reason = format!("{}: {e}", meta.source_name);
        store.write_failed_source(run_id, &meta, &reason).await?;
        return Err(PhaseError::Rejected(reason));
    }
    tracing::info!(%run_id, source = %meta.source_name, bytes = size, shards = plan.ranges.len(), "source sharded");
    Ok(Some((meta, plan)))
}

/// Handles one shard message: validates and writes the shard (unless written before), and
/// joins when it completes the run's count.
pub async fn ingest_shard(store: &Store, run_id: Uuid, shard: &ShardRef) -> Result<ShardStep, PhaseError> {
    let index = i32::try_from(shard.index).unwrap_or(i32::MAX);
    let Some(row) = store.shard(run_id, &shard.source, index).await? else {
        return Err(PhaseError::Rejected(format!("no shard {} of {} in the run's plan", shard.index, shard.source)));
    };
    let state = if row.done {
        match store.fanout(run_id).await? {
            Some((_, state)) => state,
            None => return Err(PhaseError::Rejected("the run has no fanned-out ingest".into())),
        }
    } else {
        write_shard(store, run_id, &row, HashMap::new()).await?
    };
    if !state.ready_to_join() {
        return Ok(ShardStep::Pending);
    }
    join(store, run_id).await.map(ShardStep::Joined)
}

/// Reads, validates and writes one shard; `seen`: identities (keys) first seen before it.
async fn write_shard(
    store: &Store,
    run_id: Uuid,
    row: &ShardRow,
    seen: HashMap<String, u32>,
) -> Result<exomaps_store::shards::FanoutState, PhaseError> {
    let spec = SourceSpec {
        family: Family::parse(&row.family)
            .ok_or_else(|| PhaseError::Rejected(format!("unknown family {}", row.family)))?,
        uri: row.file_uri.clone(),
    };
    let header = crate::source::read_range(&spec, 0, row.header_end as u64).await?;
    let body = crate::source::read_range(&spec, row.byte_start as u64, row.byte_end as u64).await?;
    let range = ShardRange {
        index: row.shard_index as u32,
        start: row.byte_start as u64,
        end: row.byte_end as u64,
        first_line: row.first_line as u32,
        next_line: row.next_line as u32,
    };
    let offset = range.line_offset(row.header_lines as u32);
    let bytes = [header, body].concat();
    let name = row.source_name.clone();
    let family = spec.family;
    let parsed = tokio::task::spawn_blocking(move || {
        // The identities met, inverted: line -> key of each first occurrence in this shard.
        fn firsts<K>(seen: HashMap<K, u32>, key: impl Fn(&K) -> String, lines: &ShardRange) -> HashMap<u32, String> {
            seen.into_iter()
                .filter(|(_, l)| (lines.first_line..lines.next_line).contains(l))
                .map(|(k, l)| (l, key(&k)))
                .collect()
        }
        match family {
            Family::Simbad => {
                let seeded = seen.iter().filter_map(|(k, l)| Some((simbad::identity_of_key(k)?, *l))).collect();
                simbad::parse_part(&bytes, offset, seeded)
                    .map(|(b, s)| (Batch::Simbad(b), firsts(s, simbad::identity_key, &range)))
            }
            _ => {
                let seeded = seen.iter().filter_map(|(k, l)| Some((exoplanets::identity_of_key(k)?, *l))).collect();
                exoplanets::parse_part(&bytes, offset, seeded)
                    .map(|(b, s)| (Batch::Exoplanets(b), firsts(s, exoplanets::identity_key, &range)))
            }
        }
    })
    .await
    .map_err(|e| PhaseError::Rejected(format!("{name}: parser failed: {e}")))?;
    let (batch, firsts) = parsed.map_err(|e| PhaseError::Rejected(format!("{name}: {e}")))?;
    let state = match &batch {
        Batch::Simbad(b) => {
            let ids = quarantined_identities(&b.quarantined, firsts);
            store.write_shard(run_id, row, ShardBatch::Simbad(b), &ids).await?
        }
        Batch::Exoplanets(b) => {
            let ids = quarantined_identities(&b.quarantined, firsts);
            store.write_shard(run_id, row, ShardBatch::Exoplanets(b), &ids).await?
        }
        _ => return Err(PhaseError::Rejected(format!("{name}: not a sharded family"))),
    };
    Ok(state)
}

/// The identity keys of the quarantined rows that are their identity's first occurrence.
fn quarantined_identities(
    quarantined: &[exomaps_domain::catalogue::contract::QuarantinedRow],
    mut firsts: HashMap<u32, String>,
) -> HashMap<u32, String> {
    quarantined.iter().filter_map(|q| Some((q.line, firsts.remove(&q.line)?))).collect()
}

/// The join: cross-shard duplicates resolved, each sharded source's counts summed and gated,
/// the run's sources concluded in kick order. Idempotent (a crash before the mark repeats it).
async fn join(store: &Store, run_id: Uuid) -> Result<IngestOutcome, PhaseError> {
    let Some((plan, _)) = store.fanout(run_id).await? else {
        return Err(PhaseError::Rejected("the run has no fanned-out ingest".into()));
    };
    let slots: Vec<Slot> =
        serde_json::from_value(plan).map_err(|e| PhaseError::Rejected(format!("unreadable shard plan: {e}")))?;
    let mut joined = HashMap::new();
    for slot in &slots {
        let Slot::Sharded(name) = slot else { continue };
        let shards = store.shards(run_id, name).await?;
        // Shards holding an identity first seen in an earlier shard: validated again, told so.
        let mut seeds: BTreeMap<i32, HashMap<String, u32>> = BTreeMap::new();
        let first_lines: Vec<i32> = shards.iter().map(|s| s.first_line).collect();
        for (shard, key, first_line) in store.cross_shard_duplicates(run_id, name, &first_lines).await? {
            seeds.entry(shard).or_default().insert(key, first_line as u32);
        }
        for (index, seen) in seeds {
            let Some(row) = shards.iter().find(|s| s.shard_index == index) else { continue };
            write_shard(store, run_id, row, seen).await?;
        }
        let Some(first) = shards.first() else {
            return Err(PhaseError::Rejected(format!("{name}: no shards recorded")));
        };
        let counts: SummaryCounts = store.shard_counts(run_id, name).await?;
        let cfg = store.gate_config(&first.family).await?;
        let gate = gate_status(&cfg, counts.total_rows, counts.quarantined_rows, counts.duplicate_rows);
        let meta = SourceFileMeta {
            family: Family::parse(&first.family).map_or("SIMBAD", Family::as_str),
            source_name: name.clone(),
            file_uri: first.file_uri.clone(),
            sha256: first.file_sha256.clone(),
            bytes: first.file_bytes as u64,
            contract_version: Family::parse(&first.family).map_or("", contract_version),
        };
        store.write_sharded_summary(run_id, &meta, &counts, gate).await?;
        tracing::info!(%run_id, source = %name, shards = shards.len(), rows = counts.total_rows, gate = gate.as_str(), "shards joined");
        joined.insert(
            name.clone(),
            SourceOutcome {
                family: Family::parse(&first.family).unwrap_or(Family::Simbad),
                source_name: name.clone(),
                sha256: meta.sha256,
                total_rows: counts.total_rows,
                accepted_rows: counts.accepted_rows,
                quarantined_rows: counts.quarantined_rows,
                issue_counts: counts.issue_counts,
                gate_status: gate,
            },
        );
    }
    store.mark_joined(run_id).await?;
    conclude(slots, joined)
}

async fn ingest_one(store: &Store, run_id: Uuid, spec: &SourceSpec) -> Result<SourceOutcome, PhaseError> {
    let source_name = spec.source_name();
    let mut meta = SourceFileMeta {
        family: spec.family.as_str(),
        source_name: source_name.clone(),
        file_uri: spec.uri.clone(),
        sha256: String::new(),
        bytes: 0,
        contract_version: contract_version(spec.family),
    };
    let bytes = match read_source(spec).await {
        Ok(b) => {
            meta.sha256 = b.sha256;
            b.bytes
        }
        Err(e) => {
            store.write_failed_source(run_id, &meta, &e.to_string()).await?;
            return Err(e);
        }
    };
    meta.bytes = bytes.len() as u64;
    let bytes = match crate::source::decompress(spec, bytes) {
        Ok(b) => b,
        Err(e) => {
            store.write_failed_source(run_id, &meta, &e.to_string()).await?;
            return Err(e);
        }
    };
    let cfg = store.gate_config(spec.family.as_str()).await?;
    let t_parse = std::time::Instant::now();
    // Parse (CPU-bound) off the async workers; then write the batch in one transaction.
    let parsed = tokio::task::spawn_blocking({
        let family = spec.family;
        move || match family {
            Family::Simbad => simbad::parse(&bytes).map(Batch::Simbad),
            Family::Exoplanets => exoplanets::parse(&bytes).map(Batch::Exoplanets),
            Family::Hipparcos => hipparcos::parse(&bytes).map(Batch::Hipparcos),
            Family::Names => starnames::parse(&bytes).map(Batch::Names),
        }
    })
    .await
    .map_err(|e| PhaseError::Rejected(format!("{source_name}: parser failed: {e}")))?;
    let batch = match parsed {
        Ok(b) => b,
        Err(e) => {
            let reason = format!("{source_name}: {e}");
            store.write_failed_source(run_id, &meta, &reason).await?;
            return Err(PhaseError::Rejected(reason));
        }
    };
    let parse_ms = t_parse.elapsed().as_millis() as u64;
    let (total, accepted, quarantined, duplicates, issues) = match &batch {
        Batch::Simbad(b) => (b.total_rows, b.accepted.len(), b.quarantined.len(), b.duplicate_rows, b.issue_counts()),
        Batch::Exoplanets(b) => {
            (b.total_rows, b.accepted.len(), b.quarantined.len(), b.duplicate_rows, b.issue_counts())
        }
        Batch::Hipparcos(b) => {
            (b.total_rows, b.accepted.len(), b.quarantined.len(), b.duplicate_rows, b.issue_counts())
        }
        Batch::Names(b) => (b.total_rows, b.accepted_rows(), b.quarantined.len(), b.duplicate_rows, b.issue_counts()),
    };
    let gate = gate_status(&cfg, total, quarantined, duplicates);
    let t_write = std::time::Instant::now();
    match &batch {
        Batch::Simbad(b) => store.write_simbad_ingest(run_id, &meta, b, gate).await?,
        Batch::Exoplanets(b) => store.write_exoplanet_ingest(run_id, &meta, b, gate).await?,
        Batch::Hipparcos(b) => store.write_hipparcos_ingest(run_id, &meta, b, gate).await?,
        Batch::Names(b) => store.write_names_ingest(run_id, &meta, b, gate).await?,
    }
    let write_ms = t_write.elapsed().as_millis() as u64;
    tracing::info!(
        parse_ms, write_ms, %run_id, source = %source_name, total, accepted, quarantined, gate = gate.as_str(),
        "source ingested"
    );
    Ok(SourceOutcome {
        family: spec.family,
        source_name,
        sha256: meta.sha256,
        total_rows: total,
        accepted_rows: accepted,
        quarantined_rows: quarantined,
        issue_counts: issues.into_iter().map(|(k, v)| (k.as_str().to_string(), v)).collect(),
        gate_status: gate,
    })
}

enum Batch {
    Simbad(simbad::SimbadBatch),
    Exoplanets(exoplanets::ExoplanetBatch),
    Hipparcos(hipparcos::HipparcosBatch),
    Names(starnames::NamesBatch),
}

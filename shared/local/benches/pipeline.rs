//! Pipeline throughput against raw COPY, measured in the same run.
//!
//! `cargo bench -p exomaps-local --bench pipeline` — for each input: `psql \copy` of the file
//! into a plain text staging table (the baseline), then the whole ExoMaps chain (ingest with
//! contract checks and quarantine, transform, publish) on the same file. Inputs: the real
//! source files (EXOMAPS_SOURCES, default ../shared/data/sources) and a synthetic
//! SIMBAD-format file of BENCH_ROWS rows (default 1,000,000), ingested with each shard count of
//! BENCH_SHARDS (default "1": one ingest; "1,2,4": one run each, shards handled concurrently
//! as parallel Lambdas would be). Every run gets a fresh database. Needs PostgreSQL server
//! binaries and psql.

use exomaps_domain::coords::Scope;
use exomaps_local::pg::PrivateCluster;
use exomaps_pipeline::chain::{KickMessage, Phase, PipelineContext};
use exomaps_pipeline::notify::Notifier;
use exomaps_pipeline::{Family, SourceSpec, run_chain};
use exomaps_store::Store;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const HEADER: &str = "\u{feff}sys_id,sys_code,main_id,ids,otype_txt,otype_shortname,otype_longname,otypes,Average of ra,Average of dec,Average of dist\n";

/// A deterministic SIMBAD-format file: padded ids, quoted ids lists, a few dirty rows.
fn synthetic(path: &Path, rows: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    f.write_all(HEADER.as_bytes()).unwrap();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
    for i in 1..=rows {
        let ra = next() * 360.0;
        let dec = (next() * 2.0 - 1.0).asin().to_degrees();
        let dist = 1.3 + next() * 29.0;
        let (ra, dec) = if i % 10_000 == 0 { (-40.3, -114.8) } else { (ra, dec) }; // proper motions in RA/Dec
        writeln!(
            f,
            "{i},,SYN {i:07}            ,\"SYN {i:07}|GJ  {i}|HIP {}, comp A\",PM*    ,PM*,High proper-motion Star,PM*|*  |IR ,{ra:.7},{dec:.7},{dist:.4}",
            i * 7
        )
        .unwrap();
    }
}

fn psql_copy(url: &str, file: &Path, columns: usize) -> f64 {
    let cols: Vec<String> = (0..columns).map(|i| format!("c{i} text")).collect();
    let setup = format!("DROP TABLE IF EXISTS bench_raw; CREATE UNLOGGED TABLE bench_raw ({});", cols.join(", "));
    let ok = Command::new("psql").args([url, "-q", "-c", &setup]).status().unwrap().success();
    assert!(ok, "psql setup");
    let t = Instant::now();
    let copy = format!("\\copy bench_raw FROM '{}' WITH (FORMAT csv, HEADER true)", file.display());
    let out = Command::new("psql").args([url, "-q", "-c", &copy]).output().unwrap();
    assert!(out.status.success(), "psql \\copy: {}", String::from_utf8_lossy(&out.stderr));
    t.elapsed().as_secs_f64()
}

fn header_columns(file: &Path) -> usize {
    let text = std::fs::read(file).unwrap();
    let line = text.split(|b| *b == b'\n').next().unwrap();
    line.iter().filter(|b| **b == b',').count() + 1
}

fn main() {
    if std::env::var_os("RUST_LOG").is_some() {
        exomaps_lambda::init_tracing(false);
    }
    let rows: usize = std::env::var("BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let work = std::env::temp_dir().join(format!("exomaps-pipeline-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    let cluster = PrivateCluster::create(&work.join("pg")).expect("private PostgreSQL");
    let url = cluster.url("postgres");
    if std::env::var_os("BENCH_PG_LOG").is_some() {
        // Statement timings in the cluster's log (postgres.log beside the data folder).
        // Two commands: ALTER SYSTEM refuses to run inside the one transaction of a `-c` list.
        let sql = ["ALTER SYSTEM SET log_min_duration_statement = 50", "SELECT pg_reload_conf()"];
        Command::new("psql").args([url.as_str(), "-q", "-c", sql[0], "-c", sql[1]]).status().unwrap();
        eprintln!("statement log: {}", cluster.data_dir().parent().unwrap().join("postgres.log").display());
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();

    let mut inputs: Vec<(String, Vec<PathBuf>)> = Vec::new();
    let real = std::env::var_os("EXOMAPS_SOURCES")
        .map(PathBuf::from)
        .unwrap_or_else(|| exomaps_local::sources::repo_root().join("../shared/data/sources"));
    let mut real_files: Vec<PathBuf> = std::fs::read_dir(&real)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .filter(|p| Family::from_file_name(&p.file_name().unwrap().to_string_lossy()).is_some())
        .collect();
    real_files.sort();
    if !real_files.is_empty() {
        inputs.push((format!("the {} source files", real_files.len()), real_files));
    }
    let syn = work.join("SIMBAD_synthetic.csv");
    let t = Instant::now();
    synthetic(&syn, rows);
    eprintln!(
        "synthetic file: {rows} rows, {} MB, written in {:.1} s",
        std::fs::metadata(&syn).unwrap().len() / 1_000_000,
        t.elapsed().as_secs_f64()
    );
    let shard_counts: Vec<u32> = std::env::var("BENCH_SHARDS")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .filter(|v: &Vec<u32>| !v.is_empty())
        .unwrap_or_else(|| vec![1]);

    println!(
        "{:<28} {:>9} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>12} {:>8}",
        "input", "rows", "copy s", "ingest s", "canon s", "xyz s", "infer s", "chain s", "ingest row/s", "× copy"
    );
    let mut runs: Vec<(String, Vec<PathBuf>, u32)> = inputs.into_iter().map(|(n, f)| (n, f, 1)).collect();
    for &n in &shard_counts {
        let name = if n == 1 { format!("synthetic {rows} rows") } else { format!("synthetic {rows} rows, {n} shards") };
        runs.push((name, vec![syn.clone()], n));
    }
    for (i, (name, files, shards)) in runs.into_iter().enumerate() {
        let copy_s: f64 = files.iter().map(|f| psql_copy(&url, f, header_columns(f))).sum();
        let total_rows: usize =
            files.iter().map(|f| std::fs::read(f).unwrap().split(|b| *b == b'\n').count() - 2).sum();
        let db = format!("bench_{i}");
        let created = Command::new("psql").args([url.as_str(), "-q", "-c", &format!("CREATE DATABASE {db}")]).status();
        assert!(created.unwrap().success(), "create {db}");
        let db_url = format!("{}/{db}", url.rsplit_once('/').unwrap().0);
        let (phase_s, chain_s, status) = rt.block_on(async {
            let store = Store::connect_lazy(&db_url, &Default::default()).unwrap();
            store.migrate().await.unwrap();
            let specs: Vec<SourceSpec> = files
                .iter()
                .map(|f| {
                    SourceSpec::file(Family::from_file_name(&f.file_name().unwrap().to_string_lossy()).unwrap(), f)
                })
                .collect();
            let t = Instant::now();
            let ctx = PipelineContext {
                store: store.clone(),
                scope: Scope::default(),
                notifier: Notifier::silent(store.clone()),
                objects: None,
            };
            let kick = KickMessage {
                run_name: "bench".into(),
                sources: specs,
                seed: None,
                run_id: None,
                shards: Some(shards),
            };
            let report = run_chain(&ctx, &kick).await.unwrap();
            let chain_s = t.elapsed().as_secs_f64();
            let phases = store.run_phases(report.run_id).await.unwrap();
            let secs = |phase: Phase| {
                let p = phases.iter().find(|p| p.phase == phase.as_str()).unwrap();
                (p.finished_at.unwrap() - p.started_at).as_seconds_f64()
            };
            let phase_s = [Phase::Ingest, Phase::Canonicalise, Phase::Transform, Phase::Infer].map(secs);
            store.pool().close().await;
            (phase_s, chain_s, report.status)
        });
        Command::new("psql").args([url.as_str(), "-q", "-c", &format!("DROP DATABASE {db}")]).status().unwrap();
        assert_eq!(status, "pass");
        let [ingest_s, canon_s, xyz_s, infer_s] = phase_s;
        println!(
            "{:<28} {:>9} {:>8.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>12.0} {:>8.2}",
            name,
            total_rows,
            copy_s,
            ingest_s,
            canon_s,
            xyz_s,
            infer_s,
            chain_s,
            total_rows as f64 / ingest_s,
            chain_s / copy_s
        );
    }
    drop(cluster);
    if std::env::var_os("BENCH_PG_LOG").is_none() {
        let _ = std::fs::remove_dir_all(work);
    }
}

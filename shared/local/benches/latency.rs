//! Latency of the world routes on the local gateway, over one keep-alive connection on
//! loopback, against a baseline measured in the same run (`/api/health`: one `SELECT 1`).
//!
//! `cargo bench -p exomaps-local --bench latency` (set EXOMAPS_SOURCES for the real files;
//! BENCH_REQUESTS, default 300). Needs the PostgreSQL server binaries (a private cluster is
//! started and stopped here).

use exomaps_api::AppState;
use exomaps_api::config::Config;
use exomaps_domain::coords::Scope;
use exomaps_local::pg::PrivateCluster;
use exomaps_local::{gateway, sources};
use exomaps_store::Store;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn get(reader: &mut BufReader<TcpStream>, path: &str) -> (u16, usize) {
    write!(reader.get_mut(), "GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n").unwrap();
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    let status: u16 = status_line.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; len];
    reader.read_exact(&mut body).unwrap();
    (status, len)
}

fn measure(port: u16, path: &str, n: usize) -> (Vec<Duration>, usize) {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_nodelay(true).unwrap();
    let mut reader = BufReader::new(stream);
    for _ in 0..n / 10 {
        get(&mut reader, path); // warm-up
    }
    let mut times = Vec::with_capacity(n);
    let mut bytes = 0;
    for _ in 0..n {
        let t = Instant::now();
        let (status, len) = get(&mut reader, path);
        times.push(t.elapsed());
        assert_eq!(status, 200, "{path}");
        bytes = len;
    }
    times.sort();
    (times, bytes)
}

fn pct(times: &[Duration], p: f64) -> f64 {
    times[((times.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3
}

fn main() {
    let n: usize = std::env::var("BENCH_REQUESTS").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    let dir = std::env::temp_dir().join(format!("exomaps-bench-{}", std::process::id()));
    let cluster = PrivateCluster::create(&dir).expect("private PostgreSQL");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let port = rt.block_on(async {
        let store = Store::connect_lazy(&cluster.url("postgres"), &Default::default()).unwrap();
        store.migrate().await.unwrap();
        let dir = sources::sources_dir();
        let specs = sources::source_specs(&dir).unwrap();
        let report = exomaps_pipeline::run_pipeline(&store, "bench", &specs, Scope::default()).await.unwrap();
        eprintln!("sources: {} ({} files), run {}", dir.display(), specs.len(), report.status);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let app = gateway::router(AppState::with_store(Config::default(), store));
        tokio::spawn(async move { axum::serve(listener, app).await });
        port
    });
    println!("{:<34} {:>6} {:>10} {:>10} {:>10} {:>9}", "route", "n", "median ms", "p95 ms", "bytes", "× health");
    let (base, base_bytes) = measure(port, "/api/health", n);
    let base_median = pct(&base, 0.5);
    println!(
        "{:<34} {:>6} {:>10.3} {:>10.3} {:>10} {:>9.2}",
        "/api/health (baseline)",
        n,
        base_median,
        pct(&base, 0.95),
        base_bytes,
        1.0
    );
    for path in ["/api/world/systems", "/api/world/systems/xyz", "/api/world/systems/full"] {
        let (t, bytes) = measure(port, path, n);
        let median = pct(&t, 0.5);
        println!(
            "{:<34} {:>6} {:>10.3} {:>10.3} {:>10} {:>9.2}",
            path,
            n,
            median,
            pct(&t, 0.95),
            bytes,
            median / base_median
        );
    }
    drop(rt);
    drop(cluster);
    let _ = std::fs::remove_dir_all(dir);
}

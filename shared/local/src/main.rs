//! `exomaps-local`: ExoMaps on one machine. See `USAGE`.

const USAGE: &str = "\
exomaps-local [up]        private PostgreSQL in .exomaps/pg (EXOMAPS_DATA_DIR) unless
                          DATABASE_URL is set, migrate, ingest the sources, serve every
                          route on 127.0.0.1:5000 (EXOMAPS_HOST, EXOMAPS_PORT); signing keys
                          in .exomaps/secrets.json and seed users (random passwords) in
                          .exomaps/seed-users.json, generated on first start
exomaps-local serve       migrate and serve against DATABASE_URL (seed users only from
                          EXOMAPS_SEED_USERS)
exomaps-local ingest      run the pipeline once against DATABASE_URL and print the report
exomaps-local migrate     apply the migrations to DATABASE_URL (and the seed users of
                          EXOMAPS_SEED_USERS when set), then exit: a deployed stack's database
exomaps-local pg-start D  start a private cluster in folder D; print its DATABASE_URL
exomaps-local pg-stop D   stop the cluster in folder D
exomaps-local routes      print every function (HTTP routes, pipeline phases, WebSocket routes,
                          the migrate custom resource)
exomaps-local sources push BUCKET [PREFIX]
                          upload the sources (EXOMAPS_SOURCES, EXOMAPS_SOURCE_FILES) to the
                          S3 bucket (a stack's SourcesBucketName) under PREFIX, then print the
                          kick message to send to the ingest queue and the ScheduledSources
                          parameter value for scheduled runs";

use exomaps_api::config::Config;
use exomaps_api::{AppState, ROUTES};
use exomaps_local::pg::PrivateCluster;
use exomaps_local::{gateway, sources};
use exomaps_pipeline::aws::{SdkBroadcast, SqsQueues, poll_dlq_once, poll_once, poll_sim_once};
use exomaps_pipeline::chain::{KickMessage, Phase, PipelineContext};
use exomaps_pipeline::notify::{Broadcast, Notifier};
use exomaps_pipeline::objects::{DirSink, ObjectSink};
use exomaps_pipeline::queue::LocalQueues;
use exomaps_pipeline::queue::Queues;
use exomaps_store::Store;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    // The local gateway signs its own /@connections calls like API Gateway expects; without AWS
    // settings it uses placeholder ones (nothing leaves this machine).
    for (key, value) in
        [("AWS_ACCESS_KEY_ID", "local"), ("AWS_SECRET_ACCESS_KEY", "local"), ("AWS_REGION", "us-east-1")]
    {
        if std::env::var_os(key).is_none() {
            // SAFETY: single-threaded here — no runtime or other thread has started yet.
            unsafe { std::env::set_var(key, value) };
        }
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cmd = args.first().map(String::as_str).unwrap_or("up");
    let result = match cmd {
        "up" | "serve" | "ingest" | "migrate" => {
            exomaps_lambda::init_tracing(std::env::var("EXOMAPS_LOG_JSON").is_ok_and(|v| v == "1"));
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
                .and_then(|rt| rt.block_on(async_main(cmd)))
        }
        "sources" => match (args.get(1).map(String::as_str), args.get(2)) {
            (Some("push"), Some(bucket)) => tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
                .and_then(|rt| rt.block_on(sources_push(bucket, args.get(3).map(String::as_str).unwrap_or("")))),
            _ => Err("usage: exomaps-local sources push BUCKET [PREFIX]".into()),
        },
        "pg-start" => pg_start(args.get(1)),
        "pg-stop" => match args.get(1) {
            Some(d) => PrivateCluster::stop_dir(&PathBuf::from(d)),
            None => Err("usage: exomaps-local pg-stop DIR".into()),
        },
        "routes" => {
            for r in ROUTES {
                println!("{}\t{}\t{}", r.name, r.method, r.path);
            }
            for p in Phase::ALL {
                println!("phase-{}\tSQS\t{}", p.as_str(), p.queue_name());
            }
            println!("{}\tSQS\texomaps-pipeline-<phase>-dlq", exomaps_lambda::PHASE_DLQ_FUNCTION);
            for (name, key) in exomaps_api::ws::WS_ROUTES {
                println!("{name}\tWS\t{key}");
            }
            println!("{}\tCFN\tCustom::Migrations", exomaps_api::migrate::FUNCTION);
            Ok(())
        }
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command {other:?}; try `exomaps-local help`")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("exomaps-local: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `sources push`: the local sources into a bucket, then the kick message (stdout) and how to send it.
async fn sources_push(bucket: &str, prefix: &str) -> Result<(), String> {
    let prefix = if prefix.is_empty() || prefix.ends_with('/') { prefix.to_string() } else { format!("{prefix}/") };
    let dir = sources::sources_dir();
    let specs = sources::source_specs(&dir)?;
    let client = exomaps_platform::aws::s3_client(exomaps_platform::aws::config().await);
    let store = exomaps_platform::ObjectStore::new(client, bucket);
    let pushed = sources::push(&store, &specs, &prefix).await?;
    for s in &pushed {
        eprintln!("uploaded {}", s.uri);
    }
    let kick =
        KickMessage { run_name: "first run".into(), sources: pushed.clone(), seed: None, run_id: None, shards: None };
    let kick = serde_json::to_string(&kick).map_err(|e| e.to_string())?;
    let scheduled = pushed.iter().map(|s| s.uri.as_str()).collect::<Vec<_>>().join(",");
    eprintln!("\nkick message (stdout) - start a run with:");
    eprintln!("  aws sqs send-message --queue-url \"$PhaseIngestQueueUrl\" --message-body '{kick}'");
    eprintln!("scheduled runs of these sources: sam deploy --parameter-overrides ScheduledSources={scheduled} ...");
    println!("{kick}");
    Ok(())
}

fn pg_start(dir: Option<&String>) -> Result<(), String> {
    let dir = dir.ok_or("usage: exomaps-local pg-start DIR")?;
    let cluster = PrivateCluster::create(&PathBuf::from(dir))?;
    println!("DATABASE_URL={}", cluster.url("postgres"));
    cluster.detach();
    Ok(())
}

/// The project's local data folder (`EXOMAPS_DATA_DIR`, default `.exomaps`, git-ignored).
fn data_dir() -> PathBuf {
    let dir = std::env::var_os("EXOMAPS_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| sources::repo_root().join(".exomaps"));
    std::path::absolute(&dir).unwrap_or(dir)
}

/// `up` without `EXOMAPS_SECRETS_FILE`: a local secrets file with a random signing key,
/// created on first start (mode 0600) and reused after, so sessions survive a restart.
fn local_secrets(config: &mut Config) -> Result<(), String> {
    if config.auth.secrets_file.is_some() {
        return Ok(());
    }
    let path = data_dir().join("secrets.json");
    if !path.exists() {
        exomaps_api::secrets::write_secrets_file(&path, &exomaps_api::secrets::KeySet::generate(), None)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        tracing::info!(path = %path.display(), "generated a local signing key");
    }
    config.auth.secrets_file = Some(path);
    Ok(())
}

/// Seed users from `EXOMAPS_SEED_USERS`, or (for `up`) `.exomaps/seed-users.json`, generated
/// with random passwords on first start.
async fn seed_users(store: &Store, cmd: &str) -> Result<(), String> {
    use exomaps_api::auth::seed;
    let path = match std::env::var_os("EXOMAPS_SEED_USERS") {
        Some(p) => PathBuf::from(p),
        None if cmd == "up" => data_dir().join("seed-users.json"),
        None => return Ok(()),
    };
    let (users, created) = seed::load_or_create(&path)?;
    seed::apply(store, &users).await?;
    if created {
        println!("Seed users (generated; passwords kept in {}):", path.display());
        for u in &users {
            println!("  {:<26} {}  personas: {}", u.username, u.password, u.personas.join(","));
        }
    } else {
        println!("{} seed users from {} (passwords are in that file)", users.len(), path.display());
    }
    Ok(())
}

async fn async_main(cmd: &str) -> Result<(), String> {
    let mut config = Config::from_env()?;
    // The local gateway compresses cached JSON itself (on AWS, API Gateway and CloudFront do).
    if std::env::var_os("EXOMAPS_COMPRESS").is_none() {
        config.compress = true;
    }
    if cmd == "up" {
        local_secrets(&mut config)?;
    }
    // `up` without DATABASE_URL: a private cluster in the project's data folder, stopped on exit.
    let cluster = if config.database_url.is_none() && cmd == "up" {
        let dir = data_dir().join("pg");
        tracing::info!(dir = %dir.display(), "starting a private PostgreSQL cluster");
        let c =
            tokio::task::spawn_blocking(move || PrivateCluster::create(&dir)).await.map_err(|e| e.to_string())??;
        config.database_url = Some(c.url("postgres"));
        Some(c)
    } else {
        None
    };
    let url = config.database_url.clone().ok_or("DATABASE_URL is not set")?;
    let store = Store::connect_lazy(&url, &config.pool).map_err(|e| e.to_string())?;
    store.migrate().await.map_err(|e| format!("migrations failed: {e}"))?;
    if cmd != "ingest" {
        seed_users(&store, cmd).await?;
    }
    if cmd == "migrate" {
        println!("migrated");
        return Ok(());
    }

    let sources_dir = config.sources_dir.clone().unwrap_or_else(sources::sources_dir);
    config.sources_dir = Some(sources_dir.clone());
    let notifier = Notifier::silent(store.clone());
    let objects_dir = config.objects_dir.clone().unwrap_or_else(|| data_dir().join("objects"));
    let objects_dir = std::path::absolute(&objects_dir).unwrap_or(objects_dir);
    config.objects_dir = Some(objects_dir.clone());
    let objects: Arc<dyn ObjectSink> = Arc::new(DirSink::new(objects_dir.clone()));
    let ctx = PipelineContext { store: store.clone(), scope: config.scope, notifier, objects: Some(objects) };
    if cmd == "up" || cmd == "ingest" {
        let specs = sources::source_specs(&sources_dir)?;
        tracing::info!(dir = %sources_dir.display(), files = specs.len(), "ingesting sources");
        let kick = KickMessage { run_name: "local".into(), sources: specs, seed: None, run_id: None, shards: None };
        let total = Phase::ALL.len();
        let report = exomaps_pipeline::run_chain_with_progress(&ctx, &kick, |phase, outcome| {
            let done = Phase::ALL.iter().position(|p| *p == phase).map_or(0, |i| i + 1);
            let bar = format!("{}{}", "#".repeat(done * 20 / total), ".".repeat(20 - done * 20 / total));
            let what = if outcome.is_some() { "done" } else { "failed" };
            eprintln!("[{bar}] {done}/{total} {} {what}", phase.as_str());
        })
        .await
        .map_err(|e| format!("pipeline failed: {e}"))?;
        println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
        if report.status == exomaps_store::runs::RunStatus::Fail {
            return Err(format!("run failed: {}", report.failure_reason.unwrap_or_default()));
        }
        if cmd == "ingest" {
            return Ok(());
        }
    }
    let port: u16 = match std::env::var("EXOMAPS_PORT") {
        Ok(p) => p.parse().map_err(|_| format!("EXOMAPS_PORT={p:?} is not a port"))?,
        Err(_) => 5000,
    };
    let host = std::env::var("EXOMAPS_HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let addr: SocketAddr = format!("{host}:{port}").parse().map_err(|e| format!("bad address: {e}"))?;
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;

    // Pushes go straight into this gateway's sockets; with EXOMAPS_PUSH=sdk through the same SDK
    // broadcaster as in AWS, as signed requests to this gateway's /@connections (the path the
    // deployed functions take; a signed HTTP request per frame costs a busy room its latency).
    let sdk = exomaps_platform::aws::config().await;
    let sockets = gateway::Sockets::default();
    let broadcast: Arc<dyn Broadcast> = if std::env::var("EXOMAPS_PUSH").is_ok_and(|v| v == "sdk") {
        let broadcaster = exomaps_platform::broadcast::Broadcaster::new(sdk);
        Arc::new(SdkBroadcast::new(broadcaster, format!("http://127.0.0.1:{}", addr.port())))
    } else {
        Arc::new(sockets.clone())
    };
    let notifier = Notifier::new(store.clone(), Some(broadcast));
    let ctx = PipelineContext { notifier: notifier.clone(), ..ctx };
    // Phase messages: in process by default; real SQS queues (exomaps-pipeline-<phase>, e.g. in
    // the emulator after `localstack/emulator bootstrap`) with EXOMAPS_QUEUES=sqs.
    let queues: Arc<dyn Queues> = if std::env::var("EXOMAPS_QUEUES").is_ok_and(|v| v == "sqs") {
        let sqs = exomaps_platform::aws::sqs_client(sdk);
        let queues = Arc::new(SqsQueues::new(sqs.clone(), SqsQueues::urls_from_env()));
        for phase in Phase::ALL {
            let consumer = exomaps_platform::queue::QueueConsumer::by_name(sqs.clone(), &phase.queue_name())
                .await
                .map_err(|e| format!("queue {}: {e}", phase.queue_name()))?;
            let (ctx, queues) = (ctx.clone(), queues.clone());
            tokio::spawn(async move {
                loop {
                    let wait = std::time::Duration::from_secs(5);
                    if let Err(e) = poll_once(&ctx, queues.as_ref(), phase, &consumer, wait).await {
                        tracing::warn!(phase = phase.as_str(), error = %e, "SQS poll failed");
                        tokio::time::sleep(wait).await;
                    }
                }
            });
        }
        // The dead-letter queues (exomaps-pipeline-<phase>-dlq), as the phase-dlq function: a
        // message SQS moved there fails its run. (In process, LocalQueues does this itself.)
        for phase in Phase::ALL {
            let name = format!("{}-dlq", phase.queue_name());
            let consumer = exomaps_platform::queue::QueueConsumer::by_name(sqs.clone(), &name)
                .await
                .map_err(|e| format!("queue {name}: {e}"))?;
            let ctx = ctx.clone();
            tokio::spawn(async move {
                loop {
                    let wait = std::time::Duration::from_secs(5);
                    if let Err(e) = poll_dlq_once(&ctx, phase, &consumer, wait).await {
                        tracing::warn!(phase = phase.as_str(), error = %e, "SQS poll of the dead-letter queue failed");
                        tokio::time::sleep(wait).await;
                    }
                }
            });
        }
        // The simulation tick FIFO queue (exomaps-sim-tick.fifo).
        let name = exomaps_pipeline::queue::FifoQueue::SimTick.queue_name();
        match exomaps_platform::queue::QueueConsumer::by_name(sqs.clone(), name).await {
            Ok(consumer) => {
                let (ctx, queues) = (ctx.clone(), queues.clone());
                tokio::spawn(async move {
                    loop {
                        let wait = std::time::Duration::from_secs(5);
                        if let Err(e) = poll_sim_once(&ctx, queues.as_ref(), &consumer, wait).await {
                            tracing::warn!(error = %e, "SQS poll of the simulation tick queue failed");
                            tokio::time::sleep(wait).await;
                        }
                    }
                });
            }
            Err(e) => tracing::warn!(error = %e, "no simulation tick queue {name}: simulations cannot run"),
        }
        tracing::info!("pipeline phases fed from SQS");
        queues
    } else {
        Arc::new(LocalQueues::spawn(ctx, 5, std::time::Duration::from_secs(2)))
    };
    let statics = gateway::Statics { spa_dir: Some(spa_dir()), objects_dir: Some(objects_dir) };
    tracing::info!(spa = ?statics.spa_dir, objects = ?statics.objects_dir, "static folders");
    let app = gateway::router_with_sockets(
        AppState::with_store(config, store).with_queues(queues).with_notifier(notifier),
        statics,
        sockets,
    );
    tracing::info!("ExoMaps listening on http://{addr}");
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!("shut down");
    drop(cluster);
    Ok(())
}

/// The built SPA the gateway serves at `/`: `EXOMAPS_SPA_DIR`, default `spa/dist`. (The local
/// object store, `EXOMAPS_OBJECTS_DIR`, is served at `/data/*`.)
fn spa_dir() -> PathBuf {
    let p = std::env::var_os("EXOMAPS_SPA_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| sources::repo_root().join("spa/dist"));
    std::path::absolute(&p).unwrap_or(p)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {},
        _ = term.recv() => {},
    }
}

//! The Lambda composition root. Every function binary (`functions/src/bin/<name>.rs`) is one
//! call into this crate; the generic runtime code is instantiated once, here, rather than once
//! per binary.
//!
//! * [`run_route`], [`run_ws`] — the HTTP and WebSocket functions: configuration
//!   (`exomaps_api::config::Config`) and `AppState` built once, then [`handle`] / [`handle_ws`]
//!   per invocation (the `lambda_http` ⇄ `ApiRequest` adapters live in `http`).
//! * [`run_phase`], [`run_phase_dlq`], [`run_sim_tick`] — the SQS-triggered functions. They
//!   build their [`PipelineContext`](exomaps_pipeline::chain::PipelineContext) from the database
//!   configuration alone ([`exomaps_pipeline::config::PipelineConfig`]): no `AppState`, no
//!   signing keys, nothing of the HTTP API, so their binaries link no argon2, JWT or OpenAPI
//!   code (`functions/tests/linkage.rs` checks it).
//! * [`run_migrate`] — the `Custom::Migrations` resource's function.
//! * [`config::Wiring`] — the process wiring read from the environment once (WebSocket
//!   management endpoint, SPA bucket, queue URLs, the admin secret): no other environment read
//!   here.
//!
//! Invariant: `phases` and `migrate` import nothing from `exomaps_api` except what migrate's
//! handler is (`exomaps_api::migrate::handle`); only `http` and the route/WebSocket mains use
//! the API's state.

pub mod config;
mod http;
mod migrate;
mod phases;

pub use config::Wiring;
pub use http::{handle, handle_ws};
pub use lambda_http;
pub use migrate::run_migrate;
pub use phases::{PHASE_DLQ_FUNCTION, pipeline_context, run_phase, run_phase_dlq, run_sim_tick};

use exomaps_api::config::Config;
use exomaps_api::{AppState, routes};
use lambda_http::service_fn;

pub type Error = lambda_http::Error;

/// Logs as JSON lines (CloudWatch) or human-readable text (local), filtered by `RUST_LOG`
/// (default `info`). Safe to call twice.
pub fn init_tracing(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if json {
        // One flat JSON object per line (fields at the top level, for CloudWatch Logs Insights);
        // Lambda stamps the time. Metrics go to stdout as EMF from here on.
        exomaps_platform::metrics::enable();
        builder.json().flatten_event(true).with_current_span(false).without_time().try_init()
    } else {
        builder.try_init()
    };
}

/// The single-threaded runtime every function runs on (one invocation at a time per process).
fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

/// A notifier posting through the WebSocket API's management endpoint, when one is configured.
async fn notifier(wiring: &Wiring, store: &exomaps_store::Store) -> Option<exomaps_pipeline::notify::Notifier> {
    use exomaps_pipeline::aws::SdkBroadcast;
    let endpoint = wiring.ws_endpoint.clone()?;
    let b = exomaps_platform::broadcast::Broadcaster::new(exomaps_platform::aws::config().await);
    Some(exomaps_pipeline::notify::Notifier::new(
        store.clone(),
        Some(std::sync::Arc::new(SdkBroadcast::new(b, endpoint))),
    ))
}

/// The whole `main` of a route function: configuration and state are built once, before
/// the first invocation; then the Lambda runtime loop serves requests with that state.
pub fn run_route(name: &str) -> Result<(), Error> {
    init_tracing(true);
    let route = routes::by_name(name).ok_or_else(|| format!("no route named {name:?} in the route table"))?;
    let config = Config::from_env()?;
    let wiring = Wiring::from_env();
    runtime()?.block_on(async move {
        // The pool needs the runtime's context, so the state is built inside it.
        let mut state = AppState::load(config).await?;
        // Routes that start runs send their kick messages to the ingest queue.
        if !wiring.queue_urls.is_empty() || wiring.sim_tick_url.is_some() {
            let sqs = exomaps_platform::aws::sqs_client(exomaps_platform::aws::config().await);
            let queues = exomaps_pipeline::aws::SqsQueues::new(sqs, wiring.queue_urls.clone());
            state = state.with_queues(std::sync::Arc::new(queues));
        }
        // Simulation routes push state changes and stepped batches to `sim:<id>`.
        if let Some(store) = state.store_opt().cloned()
            && let Some(notifier) = notifier(&wiring, &store).await
        {
            state = state.with_notifier(notifier);
        }
        lambda_http::run(service_fn(move |req: lambda_http::Request| {
            let state = state.clone();
            async move { Ok::<_, Error>(handle(route, &state, req).await) }
        }))
        .await
    })
}

/// The whole `main` of a WebSocket function (`ws-connect`, `ws-disconnect`, `ws-default`).
pub fn run_ws(name: &str) -> Result<(), Error> {
    init_tracing(true);
    if !exomaps_api::ws::WS_ROUTES.iter().any(|(n, _)| *n == name) {
        return Err(format!("no WebSocket function {name:?}").into());
    }
    let config = Config::from_env()?;
    let wiring = Wiring::from_env();
    runtime()?.block_on(async move {
        let mut state = AppState::load(config).await?;
        // `$default` replays a simulation's missed events to the subscribing connection.
        if let Some(store) = state.store_opt().cloned()
            && let Some(notifier) = notifier(&wiring, &store).await
        {
            state = state.with_notifier(notifier);
        }
        lambda_http::run(service_fn(move |req: lambda_http::Request| {
            let state = state.clone();
            async move { Ok::<_, Error>(handle_ws(&state, req).await) }
        }))
        .await
    })
}

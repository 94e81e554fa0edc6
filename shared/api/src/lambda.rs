//! The Lambda adapter. Every route function's `main` is one call to [`run_route`]; the
//! generic runtime code is instantiated once, here, rather than once per binary.

use crate::config::Config;
use crate::request::{ApiRequest, ApiResponse};
use crate::routes::{self, Route};
use crate::state::AppState;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use bytes::Bytes;
use exomaps_pipeline::aws::SqsQueues;
use http::header;
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt, service_fn};

pub type Error = lambda_http::Error;
pub use lambda_http;

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

/// The whole `main` of a route function: configuration and state are built once, before
/// the first invocation; then the Lambda runtime loop serves requests with that state.
pub fn run_route(name: &str) -> Result<(), Error> {
    init_tracing(true);
    let route = routes::by_name(name).ok_or_else(|| format!("no route named {name:?} in the route table"))?;
    let config = Config::from_env()?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        // The pool needs the runtime's context, so the state is built inside it.
        let mut state = AppState::load(config).await?;
        // Routes that start runs send their kick messages to the ingest queue.
        let urls = exomaps_pipeline::aws::SqsQueues::urls_from_env();
        if !urls.is_empty() || exomaps_pipeline::aws::SqsQueues::sim_tick_url_from_env().is_some() {
            let sqs = exomaps_platform::aws::sqs_client(exomaps_platform::aws::config().await);
            state = state.with_queues(std::sync::Arc::new(exomaps_pipeline::aws::SqsQueues::new(sqs, urls)));
        }
        // Simulation routes push state changes and stepped batches to `sim:<id>`.
        if let Some(notifier) = notifier_from_env(&state).await {
            state = state.with_notifier(notifier);
        }
        lambda_http::run(service_fn(move |req: lambda_http::Request| {
            let state = state.clone();
            async move { Ok::<_, Error>(handle(route, &state, req).await) }
        }))
        .await
    })
}

/// One invocation: API Gateway event (as a `lambda_http::Request`) in, proxy response out.
pub async fn handle(route: &Route, state: &AppState, req: lambda_http::Request) -> lambda_http::Response<Body> {
    let api_req = from_lambda(req);
    into_lambda(routes::dispatch(route, state, api_req).await)
}

/// lambda_http keeps query-string and path parameters in the request's extensions, not in
/// the URI: read them from there.
fn from_lambda(req: lambda_http::Request) -> ApiRequest {
    let query = req.query_string_parameters();
    let path = req.path_parameters();
    let mut out = ApiRequest::new(req.method().clone());
    // API Gateway's own view of the client address (not a client-supplied header) and its
    // request id (the one in its access logs), else the Lambda invocation's.
    let (source_ip, request_id) = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(c)) => (c.identity.source_ip.clone(), c.request_id.clone()),
        Some(RequestContext::ApiGatewayV2(c)) => (c.http.source_ip.clone(), c.request_id.clone()),
        _ => (None, None),
    };
    out.source_ip = source_ip.and_then(|ip| ip.parse().ok());
    out.request_id = request_id.or_else(|| req.lambda_context_ref().map(|c| c.request_id.clone()));
    for (k, v) in query.iter() {
        out.query.entry(k.to_string()).or_insert_with(|| v.to_string());
    }
    for (k, v) in path.iter() {
        out.path_params.entry(k.to_string()).or_insert_with(|| v.to_string());
    }
    let (parts, body) = req.into_parts();
    out.headers = parts.headers;
    out.body = match body {
        Body::Empty => Bytes::new(),
        Body::Text(s) => Bytes::from(s),
        Body::Binary(b) => Bytes::from(b),
        _ => Bytes::new(),
    };
    out
}

fn into_lambda(res: ApiResponse) -> lambda_http::Response<Body> {
    let (parts, body) = res.into_parts();
    let textual = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json") || ct.starts_with("text/"));
    let body = if body.is_empty() {
        Body::Empty
    } else if textual {
        match String::from_utf8(body.to_vec()) {
            Ok(s) => Body::Text(s),
            Err(e) => Body::Binary(e.into_bytes()),
        }
    } else {
        Body::Binary(body.to_vec())
    };
    lambda_http::Response::from_parts(parts, body)
}

/// The pipeline context of a process: the store, the scope, pushes through the WebSocket API
/// (`EXOMAPS_WS_ENDPOINT`, the management endpoint) and published files to the SPA bucket
/// (`EXOMAPS_SPA_BUCKET`) — each only when configured.
pub async fn pipeline_context(state: &AppState) -> Result<exomaps_pipeline::chain::PipelineContext, Error> {
    use exomaps_pipeline::aws::{S3Sink, SdkBroadcast};
    use exomaps_pipeline::notify::{Broadcast, Notifier};
    use exomaps_pipeline::objects::ObjectSink;
    let store = state.store().map_err(|e| e.message)?.clone();
    let sdk = exomaps_platform::aws::config().await;
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let broadcaster: Option<std::sync::Arc<dyn Broadcast>> = env("EXOMAPS_WS_ENDPOINT").map(|endpoint| {
        let b = exomaps_platform::broadcast::Broadcaster::new(sdk);
        std::sync::Arc::new(SdkBroadcast::new(b, endpoint)) as std::sync::Arc<dyn Broadcast>
    });
    let objects: Option<std::sync::Arc<dyn ObjectSink>> = env("EXOMAPS_SPA_BUCKET").map(|bucket| {
        let store = exomaps_platform::objects::ObjectStore::new(exomaps_platform::aws::s3_client(sdk), bucket);
        std::sync::Arc::new(S3Sink::new(store)) as std::sync::Arc<dyn ObjectSink>
    });
    Ok(exomaps_pipeline::chain::PipelineContext {
        notifier: Notifier::new(store.clone(), broadcaster),
        store,
        scope: state.config().scope,
        objects,
    })
}

/// What an SQS-triggered function does with one batch, given the process's pipeline context
/// and queues (to send the next message).
type SqsBatchFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = SqsBatchResponse> + Send + 'a>>;

/// The shared `main` of the SQS-triggered functions: configuration, state, pipeline context and
/// queues are built once, before the first batch; then every batch goes through `handle`, whose
/// failures are `batchItemFailures`.
fn run_sqs_function(
    handle: impl for<'a> Fn(&'a exomaps_pipeline::chain::PipelineContext, &'a SqsQueues, SqsEvent) -> SqsBatchFuture<'a>
    + Copy
    + Send
    + Sync,
) -> Result<(), Error> {
    use lambda_http::lambda_runtime::{self, LambdaEvent};
    init_tracing(true);
    let config = Config::from_env()?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        let state = AppState::load(config).await?;
        let ctx = pipeline_context(&state).await?;
        let sqs = exomaps_platform::aws::sqs_client(exomaps_platform::aws::config().await);
        let queues = SqsQueues::new(sqs, SqsQueues::urls_from_env());
        let (ctx, queues) = (&ctx, &queues);
        lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
            Ok::<_, Error>(handle(ctx, queues, event.payload).await)
        }))
        .await
    })
}

/// The whole `main` of a pipeline phase function: an SQS-triggered Lambda that runs each
/// message of its batch through the phase, sends the next phase's message, and reports
/// `batchItemFailures`.
pub fn run_phase(name: &str) -> Result<(), Error> {
    let phase = exomaps_pipeline::chain::Phase::from_name(name).ok_or_else(|| format!("no pipeline phase {name:?}"))?;
    run_sqs_function(move |ctx, queues, event| Box::pin(exomaps_pipeline::aws::handle_batch(ctx, queues, phase, event)))
}

/// The binary name of the dead-letter consumer ([`run_phase_dlq`]).
pub const PHASE_DLQ_FUNCTION: &str = "phase-dlq";

/// The whole `main` of the dead-letter consumer (`phase-dlq`): an SQS-triggered Lambda on every
/// phase's DLQ; each dead-lettered message fails the run it names with the phase and the cause
/// (`exomaps_pipeline::aws::handle_dlq_batch`), so no run stays `running` after its message
/// died with a crashed or timed-out function.
pub fn run_phase_dlq() -> Result<(), Error> {
    run_sqs_function(|ctx, _, event| Box::pin(exomaps_pipeline::aws::handle_dlq_batch(ctx, event)))
}

/// A notifier posting through the WebSocket API's management endpoint (`EXOMAPS_WS_ENDPOINT`),
/// when configured and a store exists.
async fn notifier_from_env(state: &AppState) -> Option<exomaps_pipeline::notify::Notifier> {
    use exomaps_pipeline::aws::SdkBroadcast;
    let endpoint = std::env::var("EXOMAPS_WS_ENDPOINT").ok().filter(|v| !v.is_empty())?;
    let store = state.store_opt()?.clone();
    let b = exomaps_platform::broadcast::Broadcaster::new(exomaps_platform::aws::config().await);
    Some(exomaps_pipeline::notify::Notifier::new(store, Some(std::sync::Arc::new(SdkBroadcast::new(b, endpoint)))))
}

/// The whole `main` of the simulation tick function: an SQS-triggered Lambda on the FIFO tick
/// queue; each message is one batch of ticks (`exomaps_pipeline::sim::handle_tick`), the next
/// message is sent while the simulation runs, failures are `batchItemFailures`.
pub fn run_sim_tick() -> Result<(), Error> {
    run_sqs_function(|ctx, queues, event| Box::pin(exomaps_pipeline::aws::handle_sim_batch(ctx, queues, event)))
}

/// The whole `main` of a WebSocket function (`ws-connect`, `ws-disconnect`, `ws-default`).
pub fn run_ws(name: &str) -> Result<(), Error> {
    init_tracing(true);
    if !crate::ws::WS_ROUTES.iter().any(|(n, _)| *n == name) {
        return Err(format!("no WebSocket function {name:?}").into());
    }
    let config = Config::from_env()?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        let mut state = AppState::load(config).await?;
        // `$default` replays a simulation's missed events to the subscribing connection.
        if let Some(notifier) = notifier_from_env(&state).await {
            state = state.with_notifier(notifier);
        }
        lambda_http::run(service_fn(move |req: lambda_http::Request| {
            let state = state.clone();
            async move { Ok::<_, Error>(handle_ws(&state, req).await) }
        }))
        .await
    })
}

/// One WebSocket event (`$connect`, `$disconnect` or a message), routed by its route key.
/// Logged and measured like a route (`kind` `ws`, the route key as `route`).
pub async fn handle_ws(state: &AppState, req: lambda_http::Request) -> lambda_http::Response<Body> {
    use lambda_http::request::RequestContext;
    let started = std::time::Instant::now();
    let (request_id, route_key) = match req.request_context_ref() {
        Some(RequestContext::WebSocket(ctx)) => (ctx.request_id.clone(), ctx.route_key.clone()),
        _ => (None, None),
    };
    let request_id = request_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let res = handle_ws_event(state, req).await;
    crate::telemetry::request_finished(&crate::telemetry::RequestRecord {
        kind: "ws",
        request_id: &request_id,
        route: route_key.as_deref().unwrap_or("-"),
        method: "WS",
        persona: None,
        status: res.status().as_u16(),
        latency_ms: started.elapsed().as_secs_f64() * 1e3,
        error: None,
    });
    res
}

async fn handle_ws_event(state: &AppState, req: lambda_http::Request) -> lambda_http::Response<Body> {
    use lambda_http::request::RequestContext;
    let (connection_id, route_key) = match req.request_context_ref() {
        Some(RequestContext::WebSocket(ctx)) => (ctx.connection_id.clone().unwrap_or_default(), ctx.route_key.clone()),
        _ => (String::new(), None),
    };
    let reply = |status: u16, body: String| {
        let mut res = lambda_http::Response::new(Body::Text(body));
        *res.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
        res
    };
    if connection_id.is_empty() {
        return reply(400, r#"{"error":"bad_request","message":"not a WebSocket event"}"#.into());
    }
    let error = |e: crate::ApiError| {
        reply(e.status.as_u16(), serde_json::json!({"error": e.code, "message": e.message}).to_string())
    };
    match route_key.as_deref() {
        Some("$connect") => {
            let caller = match crate::auth::authenticate(state, req.headers()).await {
                Ok(c) => c,
                Err(e) => return error(e),
            };
            match crate::ws::on_connect(state, &connection_id, &caller).await {
                Ok(()) => reply(200, String::new()),
                Err(e) => error(e),
            }
        }
        Some("$disconnect") => match crate::ws::on_disconnect(state, &connection_id).await {
            Ok(()) => reply(200, String::new()),
            Err(e) => error(e),
        },
        _ => {
            let body = std::str::from_utf8(req.body()).unwrap_or("");
            // No reply (an accepted cursor message): an empty body, which API Gateway does not send.
            let answer = crate::ws::on_message(state, &connection_id, body).await;
            reply(200, answer.map(|v| v.to_string()).unwrap_or_default())
        }
    }
}

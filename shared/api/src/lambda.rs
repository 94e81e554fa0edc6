//! The Lambda adapter. Every route function's `main` is one call to [`run_route`]; the
//! generic runtime code is instantiated once, here, rather than once per binary.

use crate::config::Config;
use crate::request::{ApiRequest, ApiResponse};
use crate::routes::{self, Route};
use crate::state::AppState;
use bytes::Bytes;
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
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = if json { builder.json().with_current_span(false).without_time().try_init() } else { builder.try_init() };
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
        let state = AppState::load(config).await?;
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
    // API Gateway's own view of the client address (not a client-supplied header).
    let source_ip = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(c)) => c.identity.source_ip.clone(),
        Some(RequestContext::ApiGatewayV2(c)) => c.http.source_ip.clone(),
        _ => None,
    };
    out.source_ip = source_ip.and_then(|ip| ip.parse().ok());
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

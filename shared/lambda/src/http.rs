//! The `lambda_http` ⇄ `ApiRequest` adapters: one API Gateway invocation in, one proxy response
//! out. Route handling itself is `exomaps_api::dispatch`, the same the local gateway calls.

use bytes::Bytes;
use exomaps_api::routes::{self, Route};
use exomaps_api::{ApiRequest, ApiResponse, AppState};
use http::header;
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt};

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

/// One WebSocket event (`$connect`, `$disconnect` or a message), routed by its route key.
/// Logged and measured like a route (`kind` `ws`, the route key as `route`).
pub async fn handle_ws(state: &AppState, req: lambda_http::Request) -> lambda_http::Response<Body> {
    let started = std::time::Instant::now();
    let (request_id, route_key) = match req.request_context_ref() {
        Some(RequestContext::WebSocket(ctx)) => (ctx.request_id.clone(), ctx.route_key.clone()),
        _ => (None, None),
    };
    let request_id = request_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let res = handle_ws_event(state, req).await;
    exomaps_api::telemetry::request_finished(&exomaps_api::telemetry::RequestRecord {
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
    let (connection_id, route_key) = match req.request_context_ref() {
        Some(RequestContext::WebSocket(ctx)) => (ctx.connection_id.clone().unwrap_or_default(), ctx.route_key.clone()),
        _ => (String::new(), None),
    };
    let reply = |status: u16, body: String| {
        let mut res = lambda_http::Response::new(Body::Text(body));
        *res.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
        res
    };
    // A refused event answers the REST error envelope (`exomaps_api::error::ErrorEnvelope`).
    let error = |e: exomaps_api::ApiError| into_lambda(e.into_response());
    if connection_id.is_empty() {
        return error(exomaps_api::ApiError::bad_request("not a WebSocket event"));
    }
    match route_key.as_deref() {
        Some("$connect") => {
            let caller = match exomaps_api::auth::authenticate(state, req.headers()).await {
                Ok(c) => c,
                Err(e) => return error(e),
            };
            match exomaps_api::ws::on_connect(state, &connection_id, &caller).await {
                Ok(()) => reply(200, String::new()),
                Err(e) => error(e),
            }
        }
        Some("$disconnect") => match exomaps_api::ws::on_disconnect(state, &connection_id).await {
            Ok(()) => reply(200, String::new()),
            Err(e) => error(e),
        },
        _ => {
            let body = std::str::from_utf8(req.body()).unwrap_or("");
            // No reply (an accepted cursor message): an empty body, which API Gateway does not send.
            let answer = exomaps_api::ws::on_message(state, &connection_id, body).await;
            reply(200, answer.map(|v| v.to_string()).unwrap_or_default())
        }
    }
}

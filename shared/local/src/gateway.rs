//! axum ⇄ handler adapter. Each route of the table becomes an axum route whose only job is to
//! translate the request into an `ApiRequest` and call `exomaps_api::dispatch`.

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{ConnectInfo, RawPathParams, Request, State};
use axum::response::Response;
use axum::routing::{MethodFilter, MethodRouter};
use exomaps_api::routes::{MAX_BODY_BYTES, with_standard_headers};
use exomaps_api::{ApiError, ApiRequest, AppState, ROUTES, Route, dispatch};
use http::StatusCode;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

/// The gateway's router: every route of the table (plus a CORS preflight answer on each of
/// their paths), a JSON 404 and 405 for the rest. Serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()` so handlers see the client address.
pub fn router(state: AppState) -> Router {
    let mut by_path: BTreeMap<&'static str, MethodRouter<AppState>> = BTreeMap::new();
    for route in ROUTES {
        let filter = MethodFilter::try_from(route.method.clone()).expect("route methods are standard");
        let handler = move |State(state): State<AppState>,
                            params: Result<RawPathParams, RawPathParamsRejection>,
                            req: Request| async move { serve(route, state, params, req).await };
        let mr = by_path.remove(route.path).unwrap_or_default();
        by_path.insert(route.path, mr.on(filter, handler));
    }
    let mut router = Router::new();
    for (path, mr) in by_path {
        router = router.route(path, mr.options(preflight).fallback(method_not_allowed));
    }
    router.fallback(not_found).with_state(state)
}

async fn serve(
    route: &'static Route,
    state: AppState,
    params: Result<RawPathParams, RawPathParamsRejection>,
    req: Request,
) -> Response {
    let mut api_req = ApiRequest::new(req.method().clone());
    match params {
        Ok(params) => {
            for (k, v) in params.iter() {
                api_req.path_params.insert(k.to_string(), v.to_string());
            }
        }
        Err(RawPathParamsRejection::MissingPathParams(_)) => {}
        Err(_) => {
            return to_axum(ApiError::bad_request("path parameter is not valid UTF-8").into_response());
        }
    }
    if let Some(q) = req.uri().query() {
        let parsed: HashMap<String, String> = url_decode_pairs(q);
        api_req.query = parsed;
    }
    api_req.source_ip = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let (parts, body) = req.into_parts();
    api_req.headers = parts.headers;
    api_req.body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => return to_axum(ApiError::payload_too_large(MAX_BODY_BYTES).into_response()),
    };
    let started = std::time::Instant::now();
    let res = dispatch(route, &state, api_req).await;
    tracing::info!(
        route = route.name,
        status = res.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    to_axum(res)
}

/// `a=1&b=x%20y` → map (first value wins; `+` is a space).
fn url_decode_pairs(q: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        out.entry(percent_decode(k)).or_insert_with(|| percent_decode(v));
    }
    out
}

fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every response leaves with the standard headers (idempotent for dispatched ones).
fn to_axum(res: exomaps_api::ApiResponse) -> Response {
    let (parts, body) = with_standard_headers(res).into_parts();
    Response::from_parts(parts, Body::from(body))
}

async fn preflight(State(state): State<AppState>, req: Request) -> Response {
    to_axum(exomaps_api::cors::preflight(&state.config().auth, req.headers()))
}

async fn not_found() -> Response {
    to_axum(ApiError::not_found("no such route").into_response())
}

async fn method_not_allowed() -> Response {
    to_axum(
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "method not allowed on this route")
            .into_response(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decoding() {
        let q = url_decode_pairs("limit=10&name=Wolf%20359&x=a+b&limit=20&bad=%zz&tail=%4");
        assert_eq!(q["limit"], "10");
        assert_eq!(q["name"], "Wolf 359");
        assert_eq!(q["x"], "a b");
        assert_eq!(q["bad"], "%zz");
        assert_eq!(q["tail"], "%4");
    }
}

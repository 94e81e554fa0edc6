//! axum ⇄ handler adapter. Each route of the table becomes an axum route whose only job is to
//! translate the request into an `ApiRequest` and call `exomaps_api::dispatch`. The gateway
//! also serves the WebSocket protocol at `/ws` and API Gateway's management endpoints
//! `POST/GET/DELETE /@connections/{id}`, so the same broadcaster code that posts through the
//! API Gateway Management API in AWS reaches local sockets.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, RawPathParams, Request, State};
use axum::response::Response;
use axum::routing::{MethodFilter, MethodRouter, get};
use exomaps_api::routes::{MAX_BODY_BYTES, with_standard_headers};
use exomaps_api::{ApiError, ApiRequest, AppState, ROUTES, Route, auth, dispatch, ws};
use http::{HeaderMap, StatusCode, header};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// A live local WebSocket: where to send frames, and when it connected.
struct Socket {
    tx: mpsc::UnboundedSender<Message>,
    connected_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Clone)]
struct Gateway {
    app: AppState,
    sockets: Arc<Mutex<HashMap<String, Socket>>>,
}

/// The gateway's router: every route of the table (plus a CORS preflight answer on each of
/// their paths), `/ws`, `/@connections/{id}`, and a JSON 404 and 405 for the rest. Serve it
/// with `into_make_service_with_connect_info::<SocketAddr>()` so handlers see the client address.
pub fn router(state: AppState) -> Router {
    let mut by_path: BTreeMap<&'static str, MethodRouter<Gateway>> = BTreeMap::new();
    for route in ROUTES {
        let filter = MethodFilter::try_from(route.method.clone()).expect("route methods are standard");
        let handler = move |State(gw): State<Gateway>,
                            params: Result<RawPathParams, RawPathParamsRejection>,
                            req: Request| async move { serve(route, gw.app, params, req).await };
        let mr = by_path.remove(route.path).unwrap_or_default();
        by_path.insert(route.path, mr.on(filter, handler));
    }
    let mut router = Router::new();
    for (path, mr) in by_path {
        router = router.route(path, mr.options(preflight).fallback(method_not_allowed));
    }
    let gw = Gateway { app: state, sockets: Arc::default() };
    router
        .route("/ws", get(ws_upgrade))
        .route("/@connections/{id}", get(connection_info).post(connection_post).delete(connection_delete))
        .fallback(not_found)
        .with_state(gw)
}

async fn serve(
    route: &'static Route,
    state: AppState,
    params: Result<RawPathParams, RawPathParamsRejection>,
    req: Request,
) -> Response {
    let mut api_req = ApiRequest::new(req.method().clone());
    api_req.source_ip = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    match params {
        Ok(params) => {
            for (k, v) in params.iter() {
                api_req.path_params.insert(k.to_string(), v.to_string());
            }
        }
        Err(RawPathParamsRejection::MissingPathParams(_)) => {}
        Err(_) => return to_axum(ApiError::bad_request("path parameter is not valid UTF-8").into_response()),
    }
    if let Some(q) = req.uri().query() {
        api_req.query = url_decode_pairs(q);
    }
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

/// `GET /ws`: `$connect` (authorise and record) before the upgrade, then `$default` for every
/// text frame and `$disconnect` when the socket closes.
async fn ws_upgrade(State(gw): State<Gateway>, headers: HeaderMap, upgrade: WebSocketUpgrade) -> Response {
    let caller = match auth::authenticate(&gw.app, &headers).await {
        Ok(c) => c,
        Err(e) => return to_axum(e.into_response()),
    };
    let id = uuid::Uuid::new_v4().simple().to_string();
    if let Err(e) = ws::on_connect(&gw.app, &id, &caller).await {
        return to_axum(e.into_response());
    }
    upgrade.max_message_size(ws::MAX_CLIENT_MESSAGE).on_upgrade(move |socket| run_socket(gw, id, socket))
}

async fn run_socket(gw: Gateway, id: String, mut socket: WebSocket) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    gw.sockets.lock().expect("sockets lock").insert(id.clone(), Socket { tx, connected_at: chrono::Utc::now() });
    tracing::info!(connection = %id, "ws connected");
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    let reply = ws::on_message(&gw.app, &id, text.as_str()).await;
                    if socket.send(Message::Text(reply.to_string().into())).await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            outgoing = rx.recv() => match outgoing {
                Some(Message::Close(frame)) => {
                    let _ = socket.send(Message::Close(frame)).await;
                    break;
                }
                Some(msg) => {
                    if socket.send(msg).await.is_err() {
                        break;
                    }
                }
                None => break,
            },
        }
    }
    gw.sockets.lock().expect("sockets lock").remove(&id);
    if let Err(e) = ws::on_disconnect(&gw.app, &id).await {
        tracing::warn!(connection = %id, error = %e.message, "ws disconnect not recorded");
    }
    tracing::info!(connection = %id, "ws disconnected");
}

/// API Gateway answers an unknown connection with 410 GoneException.
fn gone() -> Response {
    Response::builder()
        .status(StatusCode::GONE)
        .header("x-amzn-errortype", "GoneException")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"__type":"GoneException","message":"connection is gone"}"#))
        .expect("static response")
}

fn sender(gw: &Gateway, id: &str) -> Option<mpsc::UnboundedSender<Message>> {
    gw.sockets.lock().expect("sockets lock").get(id).map(|s| s.tx.clone())
}

async fn connection_post(State(gw): State<Gateway>, Path(id): Path<String>, body: Bytes) -> Response {
    let Some(tx) = sender(&gw, &id) else { return gone() };
    let msg = match String::from_utf8(body.to_vec()) {
        Ok(text) => Message::Text(text.into()),
        Err(e) => Message::Binary(e.into_bytes().into()),
    };
    if tx.send(msg).is_err() {
        return gone();
    }
    Response::builder().status(StatusCode::OK).body(Body::empty()).expect("static response")
}

async fn connection_info(State(gw): State<Gateway>, Path(id): Path<String>) -> Response {
    let connected_at = gw.sockets.lock().expect("sockets lock").get(&id).map(|s| s.connected_at);
    let Some(at) = connected_at else { return gone() };
    let at = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let body = serde_json::json!({"ConnectedAt": at, "LastActiveAt": at, "Identity": {"SourceIp": "127.0.0.1"}});
    Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("static response")
}

async fn connection_delete(State(gw): State<Gateway>, Path(id): Path<String>) -> Response {
    let Some(tx) = sender(&gw, &id) else { return gone() };
    let _ = tx.send(Message::Close(None));
    Response::builder().status(StatusCode::NO_CONTENT).body(Body::empty()).expect("static response")
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

async fn preflight(State(gw): State<Gateway>, req: Request) -> Response {
    to_axum(exomaps_api::cors::preflight(&gw.app.config().auth, req.headers()))
}

async fn not_found() -> Response {
    to_axum(ApiError::not_found("no such route").into_response())
}

async fn method_not_allowed() -> Response {
    let e = ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "method not allowed on this route");
    to_axum(e.into_response())
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

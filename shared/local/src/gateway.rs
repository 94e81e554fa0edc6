//! axum ⇄ handler adapter. Each route of the table becomes an axum route whose only job is to
//! translate the request into an `ApiRequest` and call `exomaps_api::dispatch`. The gateway
//! also serves the WebSocket protocol at `/ws` and API Gateway's management endpoints
//! `POST/GET/DELETE /@connections/{id}`, so the same broadcaster code that posts through the
//! API Gateway Management API in AWS reaches local sockets (from other processes; the gateway's
//! own pushes go straight into [`Sockets`]).
//!
//! With [`Statics`] (`exomaps-local up`/`serve`) it also serves what S3 + CloudFront serve in
//! AWS: `/data/*` from the local object-store folder and every other non-API path from the
//! built SPA (`spa/dist`), falling back to `index.html` for client-side routes; hashed files
//! under `/assets/` are cached for a year.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, RawPathParams, Request, State};
use axum::response::Response;
use axum::routing::{MethodFilter, MethodRouter, get};
use exomaps_api::routes::{MAX_BODY_BYTES, with_standard_headers};
use exomaps_api::{ApiError, ApiRequest, AppState, ROUTES, Route, auth, dispatch, ws};
use exomaps_pipeline::notify::{Broadcast, PostOutcome};
use http::{HeaderMap, StatusCode, header};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// A live local WebSocket: where to send frames, and when it connected.
struct Socket {
    tx: mpsc::UnboundedSender<Message>,
    connected_at: chrono::DateTime<chrono::Utc>,
}

/// The live local sockets (cloned handles share one map). Also a [`Broadcast`]: the gateway's
/// own pushes go straight into the sockets (what `POST /@connections/{id}` does for pushes
/// from other processes), without a signed HTTP request per frame.
#[derive(Clone, Default)]
pub struct Sockets(Arc<Mutex<HashMap<String, Socket>>>);

impl Sockets {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Socket>> {
        self.0.lock().expect("sockets lock")
    }

    /// Queues one frame on a connection; false when it is gone.
    fn send(&self, id: &str, data: &[u8]) -> bool {
        let Some(tx) = self.lock().get(id).map(|s| s.tx.clone()) else { return false };
        let msg = match String::from_utf8(data.to_vec()) {
            Ok(text) => Message::Text(text.into()),
            Err(e) => Message::Binary(e.into_bytes().into()),
        };
        tx.send(msg).is_ok()
    }
}

impl Broadcast for Sockets {
    fn post<'a>(
        &'a self,
        connection_id: &'a str,
        data: &'a [u8],
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = PostOutcome> + Send + 'a>> {
        let outcome = if self.send(connection_id, data) { PostOutcome::Delivered } else { PostOutcome::Gone };
        Box::pin(std::future::ready(outcome))
    }
}

/// Static files the local gateway serves besides the API.
#[derive(Clone, Debug, Default)]
pub struct Statics {
    /// The built SPA (`spa/dist`): `/` and every path not under `/api`, `/ws` or `/data`.
    pub spa_dir: Option<PathBuf>,
    /// The local object store: `/data/<key>` is the file `<objects_dir>/data/<key>`.
    pub objects_dir: Option<PathBuf>,
}

#[derive(Clone)]
struct Gateway {
    app: AppState,
    sockets: Sockets,
    statics: Arc<Statics>,
}

/// The gateway's router: every route of the table (plus a CORS preflight answer on each of
/// their paths), `/ws`, `/@connections/{id}`, and a JSON 404 and 405 for the rest. Serve it
/// with `into_make_service_with_connect_info::<SocketAddr>()` so handlers see the client address.
pub fn router(state: AppState) -> Router {
    router_with(state, Statics::default())
}

/// [`router`] that also serves static folders (the SPA and the local object store).
pub fn router_with(state: AppState, statics: Statics) -> Router {
    router_with_sockets(state, statics, Sockets::default())
}

/// [`router_with`] over given sockets (the ones the state's notifier pushes into).
pub fn router_with_sockets(state: AppState, statics: Statics, sockets: Sockets) -> Router {
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
    let gw = Gateway { app: state, sockets, statics: Arc::new(statics) };
    router
        .route("/ws", get(ws_upgrade))
        .route("/@connections/{id}", get(connection_info).post(connection_post).delete(connection_delete))
        .fallback(static_or_not_found)
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
    upgrade
        .max_message_size(ws::MAX_CLIENT_MESSAGE)
        .max_frame_size(ws::MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| run_socket(gw, id, socket))
}

async fn run_socket(gw: Gateway, id: String, mut socket: WebSocket) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    gw.sockets.lock().insert(id.clone(), Socket { tx, connected_at: chrono::Utc::now() });
    tracing::info!(connection = %id, "ws connected");
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    // An accepted cursor message has no reply.
                    if let Some(reply) = ws::on_message(&gw.app, &id, text.as_str()).await
                        && socket.send(Message::Text(reply.to_string().into())).await.is_err()
                    {
                        break;
                    }
                }
                // An oversized frame or message: close with 1009 (message too big), as API
                // Gateway does at its own limit, instead of dropping the connection.
                Some(Err(e)) if is_too_big(&e) => {
                    tracing::info!(connection = %id, error = %e, "ws message too big: closing with 1009");
                    let frame = axum::extract::ws::CloseFrame {
                        code: axum::extract::ws::close_code::SIZE,
                        reason: format!("message larger than {} bytes", ws::MAX_CLIENT_MESSAGE).into(),
                    };
                    let _ = socket.send(Message::Close(Some(frame))).await;
                    break;
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(Message::Binary(_))) => {
                    let reply = r#"{"type":"error","error":"bad_request","message":"messages are JSON text frames"}"#;
                    if socket.send(Message::Text(reply.into())).await.is_err() {
                        break;
                    }
                }
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
    gw.sockets.lock().remove(&id);
    if let Err(e) = ws::on_disconnect(&gw.app, &id).await {
        tracing::warn!(connection = %id, error = %e.message, "ws disconnect not recorded");
    }
    tracing::info!(connection = %id, "ws disconnected");
}

/// Is a socket read error the size limit (tungstenite's capacity error)?
fn is_too_big(e: &axum::Error) -> bool {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&s.to_string());
        source = s.source();
    }
    text.contains("Space limit exceeded") || text.contains("too long") || text.contains("too big")
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
    gw.sockets.lock().get(id).map(|s| s.tx.clone())
}

async fn connection_post(State(gw): State<Gateway>, Path(id): Path<String>, body: Bytes) -> Response {
    if !gw.sockets.send(&id, &body) {
        return gone();
    }
    Response::builder().status(StatusCode::OK).body(Body::empty()).expect("static response")
}

async fn connection_info(State(gw): State<Gateway>, Path(id): Path<String>) -> Response {
    let connected_at = gw.sockets.lock().get(&id).map(|s| s.connected_at);
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

/// `a=1&b=x%20y` → map (first value wins; `+` is a space; a malformed escape stays as sent).
fn url_decode_pairs(q: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
        out.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    out
}

/// A URL path percent-decoded (`+` is a plus sign in a path).
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// Every response leaves with the standard headers (idempotent for dispatched ones).
fn to_axum(res: exomaps_api::ApiResponse) -> Response {
    let (parts, body) = with_standard_headers(res).into_parts();
    Response::from_parts(parts, Body::from(body))
}

async fn preflight(State(gw): State<Gateway>, req: Request) -> Response {
    to_axum(exomaps_api::cors::preflight(&gw.app.config().auth, req.headers()))
}

/// Is `rel` (a URL path without its leading `/`, percent-decoded) a safe relative file path?
fn safe_relative(rel: &str) -> bool {
    !rel.is_empty()
        && !rel.contains('\\')
        && !rel.contains('\0')
        && rel.split('/').all(|seg| !seg.is_empty() && !seg.starts_with('.'))
}

fn content_type(path: &std::path::Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The SPA's policy: its own scripts and styles, API and WebSocket on the same origin.
const SPA_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                       connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// Files worth compressing: text, JSON and the map asset's parts (EXMP gzips to ~0.8 of its
/// size, the names part to ~0.4). Images and fonts are compressed already.
fn compressible(path: &std::path::Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()).unwrap_or(""),
        "html" | "js" | "mjs" | "css" | "json" | "svg" | "txt" | "exmp" | "names"
    )
}

/// Below this a gzip body saves nothing worth a header.
const GZIP_MIN_BYTES: usize = 1024;

/// Gzip bodies of static files, by path, valid while the file's length and modification time
/// are the ones compressed (a new build or asset replaces the file). Emptied past 64 MB.
type GzCache = std::sync::Mutex<std::collections::HashMap<std::path::PathBuf, (u64, std::time::SystemTime, Bytes)>>;
static GZ_CACHE: std::sync::OnceLock<GzCache> = std::sync::OnceLock::new();
const GZ_CACHE_MAX_BYTES: usize = 64 << 20;

fn gzipped(path: &std::path::Path, meta: &std::fs::Metadata, bytes: &[u8]) -> Bytes {
    let cache = GZ_CACHE.get_or_init(Default::default);
    let modified = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
    if let Some((len, at, gz)) = cache.lock().expect("gzip cache").get(path)
        && *len == meta.len()
        && *at == modified
    {
        return gz.clone();
    }
    let gz = exomaps_api::cache::gzip(bytes);
    let mut map = cache.lock().expect("gzip cache");
    if map.values().map(|(_, _, g)| g.len()).sum::<usize>() + gz.len() > GZ_CACHE_MAX_BYTES {
        map.clear();
    }
    map.insert(path.to_path_buf(), (meta.len(), modified, gz.clone()));
    gz
}

/// A static file: gzip when the client accepts it and the file is worth compressing (with
/// `Vary: Accept-Encoding` either way for such files), else its bytes.
async fn file_response(path: &std::path::Path, cache: &'static str, req: &http::HeaderMap) -> Option<Response> {
    let meta = tokio::fs::metadata(path).await.ok()?;
    if !meta.is_file() {
        return None;
    }
    let bytes = tokio::fs::read(path).await.ok()?;
    let compress = compressible(path);
    let gz = (compress && bytes.len() >= GZIP_MIN_BYTES && exomaps_api::cache::accepts_gzip(req))
        .then(|| gzipped(path, &meta, &bytes));
    let body = gz.clone().unwrap_or_else(|| Bytes::from(bytes));
    let res = exomaps_api::ApiResponse::new(body);
    let (mut parts, body) = with_standard_headers(res).into_parts();
    let h = &mut parts.headers;
    h.insert(header::CONTENT_TYPE, http::HeaderValue::from_static(content_type(path)));
    h.insert(header::CACHE_CONTROL, http::HeaderValue::from_static(cache));
    h.insert(header::CONTENT_SECURITY_POLICY, http::HeaderValue::from_static(SPA_CSP));
    if compress {
        h.insert(header::VARY, http::HeaderValue::from_static("Accept-Encoding"));
    }
    if gz.is_some() {
        h.insert(header::CONTENT_ENCODING, http::HeaderValue::from_static("gzip"));
    }
    Some(Response::from_parts(parts, Body::from(body)))
}

/// Everything no route matched: `/data/*` from the object store, else the SPA (with the
/// `index.html` fallback for client-side routes), else the JSON 404. `/api/…`, `/ws` and
/// `/@connections` never fall through to the SPA.
async fn static_or_not_found(State(gw): State<Gateway>, req: Request) -> Response {
    let raw = req.uri().path();
    let is_read = req.method() == http::Method::GET || req.method() == http::Method::HEAD;
    let api_like =
        raw == "/api" || raw.starts_with("/api/") || raw.starts_with("/ws") || raw.starts_with("/@connections");
    if !is_read || api_like {
        return not_found().await;
    }
    let path = percent_decode(raw);
    let rel = path.trim_start_matches('/');
    if rel == "data" || rel.starts_with("data/") {
        let Some(dir) = &gw.statics.objects_dir else { return not_found().await };
        if !safe_relative(rel) {
            return not_found().await;
        }
        // The pointer changes with every build; build-numbered assets never change.
        let cache = if rel.ends_with("latest.json") { "no-cache" } else { "public, max-age=3600" };
        return match file_response(&dir.join(rel), cache, req.headers()).await {
            Some(r) => r,
            None => to_axum(ApiError::not_found(format!("no object {path}")).into_response()),
        };
    }
    let Some(dir) = &gw.statics.spa_dir else { return not_found().await };
    if !rel.is_empty() && safe_relative(rel) {
        let cache = if rel.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
        if let Some(r) = file_response(&dir.join(rel), cache, req.headers()).await {
            return r;
        }
        // A missing file with an extension is a real 404, not a client-side route.
        if rel.rsplit('/').next().is_some_and(|last| last.contains('.')) {
            return not_found().await;
        }
    }
    match file_response(&dir.join("index.html"), "no-cache", req.headers()).await {
        Some(r) => r,
        None => to_axum(
            ApiError::not_found("the map is not built: run `npm ci && npm run build` in spa/ (./dev up does it)")
                .into_response(),
        ),
    }
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

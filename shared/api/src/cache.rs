//! The world read cache (issue 15 item 1, issue 9): answers of the world routes are immutable
//! for a world build, so each is built once per (route, build, persona, redaction, query) and
//! served as bytes — with a strong `ETag` (SHA-256 of the bytes; `If-None-Match` → 304), a
//! `Cache-Control`, and a gzip copy for clients that accept it when `EXOMAPS_COMPRESS` is on.
//!
//! Which build is active is asked of the database at most every `EXOMAPS_WORLD_CACHE_CHECK_MS`
//! (and at once after this process activated one: `Store::activation_generation`), so a warm
//! process serves the world routes without a connection per request, keeps serving the last
//! known build while the database is down, and builds each answer once even when many requests
//! miss together (single flight per key).

use crate::error::ApiError;
use crate::request::ApiRequest;
use crate::response::ApiResponse;
use bytes::Bytes;
use exomaps_store::world::WorldBuildRow;
use http::{HeaderValue, StatusCode, header};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// Most answers kept per build (paging can make many keys); over it the cache starts afresh.
const MAX_ENTRIES: usize = 512;
/// Most bytes kept (JSON + gzip): a client walking every page cannot grow the process past it.
const MAX_BYTES: usize = 64 << 20;

/// One cached answer.
#[derive(Debug)]
pub struct Cached {
    pub etag: String,
    pub json: Bytes,
    pub gzip: Option<Bytes>,
}

struct Active {
    build: Option<WorldBuildRow>,
    checked: Instant,
    generation: u64,
}

#[derive(Default)]
pub struct WorldCache {
    active: tokio::sync::Mutex<Option<Active>>,
    entries: Mutex<HashMap<String, Arc<OnceCell<Arc<Cached>>>>>,
    bytes: std::sync::atomic::AtomicUsize,
}

impl WorldCache {
    /// The active world build: the one last fetched while it is younger than `max_age` and no
    /// build was activated since (`generation`, `Store::activation_generation`), else `fetch`ed
    /// anew. When the database cannot answer (`fetch` fails with `unavailable` true), the last
    /// known build is used and `on_unavailable` runs.
    pub async fn active_build<F, Fut>(
        &self,
        generation: u64,
        max_age: Duration,
        fetch: F,
        on_unavailable: impl FnOnce(),
    ) -> Result<Option<WorldBuildRow>, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<WorldBuildRow>, (ApiError, bool)>>,
    {
        let mut active = self.active.lock().await;
        if let Some(a) = active.as_ref()
            && a.generation == generation
            && a.checked.elapsed() < max_age
        {
            return Ok(a.build.clone());
        }
        match fetch().await {
            Ok(build) => {
                let changed = active.as_ref().map(|a| a.build.as_ref().map(|b| b.world_build_id))
                    != Some(build.as_ref().map(|b| b.world_build_id));
                if changed {
                    self.entries.lock().expect("world cache").clear();
                    self.bytes.store(0, std::sync::atomic::Ordering::Release);
                }
                *active = Some(Active { build: build.clone(), checked: Instant::now(), generation });
                Ok(build)
            }
            Err((e, unavailable)) => match active.as_ref() {
                Some(a) if unavailable => {
                    on_unavailable();
                    Ok(a.build.clone())
                }
                _ => Err(e),
            },
        }
    }

    /// The answer under `key` for `build`, built by `make` once (concurrent callers wait for
    /// the one build).
    /// With `compress`, a gzip copy is kept beside the JSON.
    pub async fn get_or_build<F, Fut>(
        &self,
        compress: bool,
        build: Option<i64>,
        key: &str,
        make: F,
    ) -> Result<Arc<Cached>, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Bytes, ApiError>>,
    {
        let full_key = format!("{}|{key}", build.map_or_else(|| "none".to_string(), |b| b.to_string()));
        let cell = {
            let mut entries = self.entries.lock().expect("world cache");
            if entries.len() >= MAX_ENTRIES && !entries.contains_key(&full_key) {
                entries.clear();
                self.bytes.store(0, std::sync::atomic::Ordering::Release);
            }
            entries.entry(full_key).or_default().clone()
        };
        let bytes = &self.bytes;
        let cached = cell
            .get_or_try_init(|| async move {
                let json = make().await?;
                let etag = format!("\"{}\"", exomaps_domain::hex::hex(&Sha256::digest(&json)[..16]));
                let gzip = if compress { Some(gzip(&json)) } else { None };
                let size = json.len() + gzip.as_ref().map_or(0, Bytes::len);
                bytes.fetch_add(size, std::sync::atomic::Ordering::AcqRel);
                Ok::<_, ApiError>(Arc::new(Cached { etag, json, gzip }))
            })
            .await?
            .clone();
        if self.bytes.load(std::sync::atomic::Ordering::Acquire) > MAX_BYTES {
            self.entries.lock().expect("world cache").clear();
            self.bytes.store(0, std::sync::atomic::Ordering::Release);
        }
        Ok(cached)
    }
}

/// Gzip (level 6) of a whole body in memory.
pub fn gzip(bytes: &[u8]) -> Bytes {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::with_capacity(bytes.len() / 4), flate2::Compression::new(6));
    enc.write_all(bytes).expect("writing to memory");
    Bytes::from(enc.finish().expect("writing to memory"))
}

/// Reads a gzip body (tests, clients of the local gateway).
pub fn gunzip_reader(bytes: &[u8]) -> impl std::io::Read + '_ {
    flate2::read::GzDecoder::new(bytes)
}

/// Does `If-None-Match` name this entity tag (or `*`)? Weak comparison, as RFC 9110 asks for it.
pub fn etag_matches(req: &ApiRequest, etag: &str) -> bool {
    let Some(v) = req.header("if-none-match") else { return false };
    v.split(',').map(str::trim).any(|t| t == "*" || t.trim_start_matches("W/") == etag)
}

/// Does the client accept gzip (`Accept-Encoding`, q > 0)?
pub fn accepts_gzip(headers: &http::HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).any(|v| {
        v.split(',').any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or("");
            let q = parts.find_map(|p| p.strip_prefix("q=").map(|q| q.trim().parse::<f32>().unwrap_or(0.0)));
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && q.is_none_or(|q| q > 0.0)
        })
    })
}

/// The response for a cached answer: 304 when the client holds it, else the bytes (gzip when
/// accepted and available), with `ETag`, `Cache-Control` and `Vary`.
pub fn respond(req: &ApiRequest, cached: &Cached) -> ApiResponse {
    let not_modified = etag_matches(req, &cached.etag);
    let gz = cached.gzip.as_ref().filter(|_| !not_modified && accepts_gzip(&req.headers));
    let body = if not_modified { Bytes::new() } else { gz.cloned().unwrap_or_else(|| cached.json.clone()) };
    let mut res = http::Response::new(body);
    *res.status_mut() = if not_modified { StatusCode::NOT_MODIFIED } else { StatusCode::OK };
    let h = res.headers_mut();
    if !not_modified {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    if gz.is_some() {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    if let Ok(v) = HeaderValue::from_str(&cached.etag) {
        h.insert(header::ETAG, v);
    }
    // Anonymous answers are the same for everyone: shared caches (CloudFront) may hold them a
    // minute; a signed-in caller's answer names its persona, so only the browser keeps it.
    let cache = if req.caller.is_authenticated() { "private, max-age=30" } else { "public, max-age=30, s-maxage=60" };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding, Authorization, Cookie"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: &str, v: &str) -> ApiRequest {
        let mut r = ApiRequest::new(http::Method::GET);
        r.headers.insert(http::HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
        r
    }

    fn hdrs(name: &str, v: &str) -> http::HeaderMap {
        with(name, v).headers
    }

    #[test]
    fn negotiation_and_validators() {
        assert!(accepts_gzip(&hdrs("accept-encoding", "gzip, deflate, br")));
        assert!(accepts_gzip(&hdrs("accept-encoding", "br;q=1.0, gzip;q=0.5")));
        assert!(!accepts_gzip(&hdrs("accept-encoding", "gzip;q=0")));
        assert!(!accepts_gzip(&hdrs("accept-encoding", "identity")));
        assert!(etag_matches(&with("if-none-match", "\"a\", W/\"b\""), "\"b\""));
        assert!(!etag_matches(&with("if-none-match", "\"a\""), "\"b\""));
        let c = Cached { etag: "\"e\"".into(), json: Bytes::from_static(b"{}"), gzip: Some(gzip(b"{}")) };
        let res = respond(&with("accept-encoding", "gzip"), &c);
        assert_eq!(res.headers()[header::CONTENT_ENCODING], "gzip");
        let mut d = flate2::read::GzDecoder::new(&res.body()[..]);
        let mut out = String::new();
        std::io::Read::read_to_string(&mut d, &mut out).unwrap();
        assert_eq!(out, "{}");
        let res = respond(&with("if-none-match", "\"e\""), &c);
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
        assert!(res.body().is_empty());
    }
}

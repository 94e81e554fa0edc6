//! CORS for development origins (production is same-origin behind CloudFront). Only origins
//! listed in `EXOMAPS_CORS_ORIGINS` get `Access-Control-Allow-Origin` (echoed exactly, never
//! `*`, since credentials are allowed); every other origin gets no CORS headers, so the
//! browser withholds the response.

use crate::config::AuthConfig;
use crate::request::ApiResponse;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode, header};

pub const ALLOWED_METHODS: &str = "GET, POST, PATCH, DELETE, OPTIONS";
pub const ALLOWED_HEADERS: &str = "authorization, content-type, if-none-match";
pub const EXPOSED_HEADERS: &str = "etag, retry-after";

/// The request's `Origin`, when it is on the allow-list.
pub fn allowed_origin(cfg: &AuthConfig, headers: &HeaderMap) -> Option<HeaderValue> {
    let origin = headers.get(header::ORIGIN)?;
    let o = origin.to_str().ok()?;
    cfg.cors_origins.iter().any(|a| a == o).then(|| origin.clone())
}

/// Adds the CORS headers for an allowed origin (and `Vary: Origin` whenever CORS is on).
pub fn apply(cfg: &AuthConfig, mut res: ApiResponse, origin: Option<HeaderValue>) -> ApiResponse {
    if cfg.cors_origins.is_empty() {
        return res;
    }
    let h = res.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = origin {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
        h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSED_HEADERS));
    }
    res
}

/// The answer to a preflight (`OPTIONS`): 204, with the CORS grant only for an allowed origin.
pub fn preflight(cfg: &AuthConfig, headers: &HeaderMap) -> ApiResponse {
    let origin = allowed_origin(cfg, headers);
    let mut res = http::Response::new(Bytes::new());
    *res.status_mut() = StatusCode::NO_CONTENT;
    if origin.is_some() {
        let h = res.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(ALLOWED_METHODS));
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(ALLOWED_HEADERS));
        h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    }
    apply(cfg, res, origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_origins_are_granted() {
        let cfg = AuthConfig { cors_origins: vec!["http://localhost:3000".into()], ..AuthConfig::default() };
        let mut h = HeaderMap::new();
        h.insert(header::ORIGIN, HeaderValue::from_static("http://localhost:3000"));
        let res = preflight(&cfg, &h);
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_eq!(res.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "http://localhost:3000");
        assert_eq!(res.headers()[header::ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");
        h.insert(header::ORIGIN, HeaderValue::from_static("https://evil.example"));
        let res = preflight(&cfg, &h);
        assert!(res.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
        assert!(res.headers().get(header::ACCESS_CONTROL_ALLOW_METHODS).is_none());
        assert_eq!(res.headers()[header::VARY], "Origin");
    }
}

//! Session cookies for the SPA: the access token in `exomaps_at` (HttpOnly, Secure,
//! SameSite=Lax, Path=/) and the refresh token in `exomaps_rt` (HttpOnly, Secure,
//! SameSite=Strict, only sent to /api/auth). API clients use `Authorization: Bearer` and the
//! JSON body instead.

use http::{HeaderMap, HeaderValue, header};

pub const ACCESS_COOKIE: &str = "exomaps_at";
pub const REFRESH_COOKIE: &str = "exomaps_rt";
pub const REFRESH_COOKIE_PATH: &str = "/api/auth";

/// The value of cookie `name` in the request (every `Cookie` header is looked at).
pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.trim().trim_matches('"'))
}

fn cookie(name: &str, value: &str, path: &str, same_site: &str, max_age: i64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; Secure; SameSite={same_site}"
    ))
    .expect("cookie values are base64url and JWT characters")
}

pub fn access(token: &str, max_age: i64) -> HeaderValue {
    cookie(ACCESS_COOKIE, token, "/", "Lax", max_age)
}

pub fn refresh(token: &str, max_age: i64) -> HeaderValue {
    cookie(REFRESH_COOKIE, token, REFRESH_COOKIE_PATH, "Strict", max_age)
}

/// Cookies that delete both session cookies.
pub fn clear() -> [HeaderValue; 2] {
    [cookie(ACCESS_COOKIE, "", "/", "Lax", 0), cookie(REFRESH_COOKIE, "", REFRESH_COOKIE_PATH, "Strict", 0)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cookies_from_every_cookie_header() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1; exomaps_at=tok.en.x"));
        h.append(header::COOKIE, HeaderValue::from_static("exomaps_rt=\"r1\""));
        assert_eq!(get(&h, ACCESS_COOKIE), Some("tok.en.x"));
        assert_eq!(get(&h, REFRESH_COOKIE), Some("r1"));
        assert_eq!(get(&h, "b"), None);
        let c = access("t", 900);
        let s = c.to_str().unwrap();
        for part in ["exomaps_at=t", "Path=/", "Max-Age=900", "HttpOnly", "Secure", "SameSite=Lax"] {
            assert!(s.contains(part), "{s}");
        }
        assert!(refresh("r", 60).to_str().unwrap().contains("SameSite=Strict"));
        assert!(refresh("r", 60).to_str().unwrap().contains("Path=/api/auth"));
    }
}

//! Fuzz access-token parsing: `auth::presented` over arbitrary Authorization and Cookie headers,
//! and `token::verify` over arbitrary token text. Never a panic, and nothing but a token signed
//! with the key verifies (a forged or garbled token is always refused).
//!
//! Run: `cargo +nightly fuzz run tokens` (from the repository root).
#![no_main]

use exomaps_api::auth::token::{self, Subject};
use exomaps_api::auth::{Presented, presented};
use exomaps_api::config::AuthConfig;
use exomaps_api::secrets::{KeySet, SigningKey};
use exomaps_domain::persona::Persona;
use http::{HeaderMap, HeaderValue, header};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn keys() -> &'static (AuthConfig, KeySet, String) {
    static K: OnceLock<(AuthConfig, KeySet, String)> = OnceLock::new();
    K.get_or_init(|| {
        let cfg = AuthConfig::default();
        let keys = KeySet::new(SigningKey::new("k1", vec![7u8; 32]).unwrap(), vec![]).unwrap();
        let subject = Subject {
            user_id: uuid::Uuid::nil(),
            username: "fuzz".into(),
            persona: Persona::Admin,
            personas: vec![Persona::Admin],
            session: None,
        };
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let (good, _) = token::issue(&cfg, &keys, &subject, now).unwrap();
        (cfg, keys, good)
    })
}

fuzz_target!(|data: &[u8]| {
    let (cfg, keys, good) = keys();
    if let Ok(text) = std::str::from_utf8(data) {
        if text != good.as_str() {
            assert!(token::verify(cfg, keys, text).is_err(), "an unsigned token verified: {text:?}");
        }
        // A valid token with the fuzz input appended or spliced in is refused too.
        let spliced = format!("{good}{text}");
        if !text.is_empty() {
            assert!(token::verify(cfg, keys, &spliced).is_err());
        }
    }
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_bytes(data) {
        headers.insert(header::AUTHORIZATION, v.clone());
        match presented(&headers) {
            Presented::Bearer(t) => {
                assert!(!t.is_empty());
                let _ = token::verify(cfg, keys, t);
            }
            Presented::Unusable => {}
            other => panic!("an Authorization header gave {other:?}"),
        }
        let mut cookies = HeaderMap::new();
        cookies.insert(header::COOKIE, v);
        assert!(matches!(presented(&cookies), Presented::None | Presented::Cookie(_)));
    }
});

//! The attack suite of issue 4: every forged, stale, misdirected or malformed credential is a
//! 401 (never a downgrade to anonymous), a reused refresh token kills its session, and brute
//! force on login is a 429 with Retry-After.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use exomaps_api::auth::token::{AccessClaims, Subject, issue};
use exomaps_api::config::Config;
use exomaps_api::secrets::{KeySet, SigningKey};
use exomaps_domain::persona::Persona;
use exomaps_tests::{create_user, fresh_store, now, req, request, test_state};
use http::StatusCode;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

struct Setup {
    router: axum::Router,
    state: exomaps_api::AppState,
    keys: KeySet,
}

async fn setup() -> Setup {
    let (store, _) = fresh_store().await;
    let (state, source) = test_state(store, Config::default());
    Setup { router: exomaps_local::gateway::router(state.clone()), state, keys: (*source.keys()).clone() }
}

fn claims(persona: Persona) -> AccessClaims {
    let cfg = exomaps_api::config::AuthConfig::default();
    let t = now();
    AccessClaims {
        iss: cfg.issuer,
        aud: cfg.audience,
        sub: uuid::Uuid::new_v4().to_string(),
        exp: t + 600,
        nbf: t - 1,
        iat: t - 1,
        jti: uuid::Uuid::new_v4().to_string(),
        name: "mallory".into(),
        persona: persona.key().into(),
        personas: vec![persona.key().into()],
        sid: None,
    }
}

fn header(alg: Algorithm, kid: &str) -> Header {
    let mut h = Header::new(alg);
    h.typ = Some("at+jwt".into());
    h.kid = Some(kid.into());
    h
}

/// Signs `claims` as HS256 with `secret` (the server's own algorithm).
fn hs256(claims: &impl serde::Serialize, kid: &str, secret: &[u8]) -> String {
    jsonwebtoken::encode(&header(Algorithm::HS256, kid), claims, &EncodingKey::from_secret(secret)).unwrap()
}

/// `GET /api/admin/users` (admin only) with this bearer token: status and body.
async fn admin_users(s: &Setup, token: &str) -> (StatusCode, Value, http::HeaderMap) {
    let auth = format!("Bearer {token}");
    let (status, headers, body) =
        request(&s.router, req("GET", "/api/admin/users", None, &[("authorization", &auth)])).await;
    (status, body, headers)
}

async fn assert_refused(s: &Setup, case: &str, token: &str) {
    let (status, body, headers) = admin_users(s, token).await;
    assert_eq!(status, 401, "{case}: {body}");
    assert_eq!(body["error"], "invalid_token", "{case}: {body}");
    assert!(headers["www-authenticate"].to_str().unwrap().contains("invalid_token"), "{case}");
    // The same token on a public route is refused too: a bad credential is never "anonymous".
    let auth = format!("Bearer {token}");
    let (status, _, body) = request(&s.router, req("GET", "/api/persona", None, &[("authorization", &auth)])).await;
    assert_eq!(status, 401, "{case} on a public route: {body}");
}

#[tokio::test]
async fn a_valid_admin_token_is_the_control_case() {
    let s = setup().await;
    let token = hs256(&claims(Persona::Admin), &s.keys.current.kid, s.keys.current.secret());
    let (status, body, _) = admin_users(&s, &token).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["users"].is_array());
}

#[tokio::test]
async fn no_token_on_a_protected_route_is_401() {
    let s = setup().await;
    let (status, headers, body) = request(&s.router, req("GET", "/api/admin/users", None, &[])).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "unauthorized");
    assert_eq!(body["required_personas"], json!(["admin"]));
    assert!(headers["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
}

#[tokio::test]
async fn expired_not_yet_valid_wrong_audience_and_wrong_issuer_are_401() {
    let s = setup().await;
    let (kid, secret) = (&s.keys.current.kid, s.keys.current.secret());
    let mut c = claims(Persona::Admin);
    c.exp = now() - 60;
    c.iat = now() - 1000;
    c.nbf = now() - 1000;
    assert_refused(&s, "expired", &hs256(&c, kid, secret)).await;

    let mut c = claims(Persona::Admin);
    c.nbf = now() + 3600;
    c.exp = now() + 7200;
    assert_refused(&s, "nbf in the future", &hs256(&c, kid, secret)).await;

    let mut c = claims(Persona::Admin);
    c.aud = "some-other-api".into();
    assert_refused(&s, "wrong aud", &hs256(&c, kid, secret)).await;

    let mut c = claims(Persona::Admin);
    c.iss = "https://evil.example".into();
    assert_refused(&s, "wrong iss", &hs256(&c, kid, secret)).await;

    // Required claims: a token without nbf (or exp) is refused even when correctly signed.
    let mut v = serde_json::to_value(claims(Persona::Admin)).unwrap();
    v.as_object_mut().unwrap().remove("nbf");
    assert_refused(&s, "missing nbf", &hs256(&v, kid, secret)).await;
    let mut v = serde_json::to_value(claims(Persona::Admin)).unwrap();
    v.as_object_mut().unwrap().remove("exp");
    assert_refused(&s, "missing exp", &hs256(&v, kid, secret)).await;
}

fn raw_token(header: &Value, claims: &impl serde::Serialize, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        B64.encode(header.to_string()),
        B64.encode(serde_json::to_vec(claims).unwrap()),
        B64.encode(signature)
    )
}

#[tokio::test]
async fn alg_none_and_algorithm_confusion_are_401() {
    let s = setup().await;
    let kid = s.keys.current.kid.clone();
    let c = claims(Persona::Admin);
    // alg none, with and without a signature part.
    let none = raw_token(&json!({"alg": "none", "typ": "at+jwt", "kid": kid}), &c, b"");
    assert_refused(&s, "alg none (empty signature)", &none).await;
    assert_refused(&s, "alg none (no signature part)", none.trim_end_matches('.')).await;
    let none_sig = raw_token(&json!({"alg": "None", "typ": "at+jwt", "kid": kid}), &c, b"x");
    assert_refused(&s, "alg None", &none_sig).await;

    // Same secret, another HMAC algorithm: the algorithm is pinned, not taken from the token.
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        let t =
            jsonwebtoken::encode(&header(alg, &kid), &c, &EncodingKey::from_secret(s.keys.current.secret())).unwrap();
        assert_refused(&s, &format!("{alg:?} with the real secret"), &t).await;
    }

    // Asymmetric algorithms with the attacker's own keys (RS/ES/EdDSA confusion).
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let ed = aws_lc_rs::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let t = jsonwebtoken::encode(&header(Algorithm::EdDSA, &kid), &c, &EncodingKey::from_ed_der(ed.as_ref())).unwrap();
    assert_refused(&s, "EdDSA with an attacker key", &t).await;
    let es = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &rng,
    )
    .unwrap();
    let t = jsonwebtoken::encode(&header(Algorithm::ES256, &kid), &c, &EncodingKey::from_ec_der(es.as_ref())).unwrap();
    assert_refused(&s, "ES256 with an attacker key", &t).await;
    // RS256 header over an HMAC of the token with the server secret (classic key confusion).
    let signing_input = format!(
        "{}.{}",
        B64.encode(json!({"alg": "RS256", "typ": "at+jwt", "kid": kid}).to_string()),
        B64.encode(serde_json::to_vec(&c).unwrap())
    );
    let mac = {
        use aws_lc_rs::hmac;
        hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, s.keys.current.secret()), signing_input.as_bytes())
    };
    assert_refused(&s, "RS256 header with an HMAC signature", &format!("{signing_input}.{}", B64.encode(mac))).await;
}

#[tokio::test]
async fn another_key_unknown_kid_and_a_tampered_payload_are_401() {
    let s = setup().await;
    let c = claims(Persona::GeneralUser);
    let other = SigningKey::generate();
    assert_refused(&s, "signed with another key, real kid", &hs256(&c, &s.keys.current.kid, other.secret())).await;
    assert_refused(&s, "signed with another key, its own kid", &hs256(&c, &other.kid, other.secret())).await;
    let mut no_kid = Header::new(Algorithm::HS256);
    no_kid.typ = Some("at+jwt".into());
    let t = jsonwebtoken::encode(&no_kid, &c, &EncodingKey::from_secret(s.keys.current.secret())).unwrap();
    assert_refused(&s, "no kid", &t).await;

    // Explicit typing: a correctly signed token of another type is refused.
    for typ in [None, Some("JWT"), Some("refresh+jwt")] {
        let mut h = header(Algorithm::HS256, &s.keys.current.kid);
        h.typ = typ.map(str::to_string);
        let t = jsonwebtoken::encode(&h, &c, &EncodingKey::from_secret(s.keys.current.secret())).unwrap();
        assert_refused(&s, &format!("typ {typ:?}"), &t).await;
    }

    // Tampered payload: a general_user token edited to claim admin, signature kept.
    let keys = s.state.signing_keys().await.unwrap();
    let subject = Subject {
        user_id: uuid::Uuid::new_v4(),
        username: "eve".into(),
        persona: Persona::GeneralUser,
        personas: vec![Persona::GeneralUser],
        session: None,
    };
    let (good, mut edited) = issue(&s.state.config().auth, &keys, &subject, now()).unwrap();
    let (status, _, _) = admin_users(&s, &good).await;
    assert_eq!(status, 403, "the untampered token is valid but not admin");
    edited.persona = "admin".into();
    edited.personas = vec!["admin".into()];
    let parts: Vec<&str> = good.split('.').collect();
    let tampered = format!("{}.{}.{}", parts[0], B64.encode(serde_json::to_vec(&edited).unwrap()), parts[2]);
    assert_refused(&s, "tampered payload", &tampered).await;
    let mut sig = B64.decode(parts[2]).unwrap();
    sig[0] ^= 1;
    assert_refused(&s, "flipped signature bit", &format!("{}.{}.{}", parts[0], parts[1], B64.encode(sig))).await;
}

#[tokio::test]
async fn malformed_and_oversized_tokens_are_401() {
    let s = setup().await;
    let good = hs256(&claims(Persona::Admin), &s.keys.current.kid, s.keys.current.secret());
    let cases = [
        ("garbage", "garbage".to_string()),
        ("two parts", "a.b".to_string()),
        ("four parts", format!("{good}.x")),
        ("empty parts", "..".to_string()),
        ("not base64", "@@@.###.$$$".to_string()),
        ("header not JSON", format!("{}.{}", B64.encode("not json"), good.split_once('.').unwrap().1)),
        ("padding and spaces", format!("{good}==")),
        // Oversized: a valid-looking token with a huge claim.
        ("oversized", {
            let mut c = serde_json::to_value(claims(Persona::Admin)).unwrap();
            c["pad"] = json!("x".repeat(8192));
            hs256(&c, &s.keys.current.kid, s.keys.current.secret())
        }),
    ];
    for (case, token) in cases {
        assert_refused(&s, case, &token).await;
    }
    // Unusable Authorization headers.
    for auth in ["Basic YWRtaW46YWRtaW4=", "Bearer", "Token abc"] {
        let (status, _, body) =
            request(&s.router, req("GET", "/api/admin/users", None, &[("authorization", auth)])).await;
        assert_eq!(status, 401, "{auth}: {body}");
        assert_eq!(body["error"], "invalid_token");
    }
    // A bad cookie is refused like a bad header.
    let (status, _, _) =
        request(&s.router, req("GET", "/api/persona", None, &[("cookie", "exomaps_at=not.a.token")])).await;
    assert_eq!(status, 401);
}

async fn login(router: &axum::Router, user: &str, password: &str) -> (StatusCode, http::HeaderMap, Value) {
    request(router, req("POST", "/api/auth/login", Some(json!({"username": user, "password": password})), &[])).await
}

async fn refresh(router: &axum::Router, token: &str) -> (StatusCode, Value) {
    let (status, _, body) =
        request(router, req("POST", "/api/auth/refresh", Some(json!({"refresh_token": token})), &[])).await;
    (status, body)
}

#[tokio::test]
async fn a_reused_refresh_token_is_401_and_kills_its_family() {
    let (store, _) = fresh_store().await;
    let (_, password) = create_user(&store, "ada", &[Persona::ScienceAnalyst]).await;
    let router = exomaps_tests::gateway(store);
    let (status, _, first) = login(&router, "ada", &password).await;
    assert_eq!(status, 200, "{first}");
    let r1 = first["refresh_token"].as_str().unwrap().to_string();

    let (status, second) = refresh(&router, &r1).await;
    assert_eq!(status, 200, "{second}");
    let r2 = second["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(r1, r2, "rotated");

    // An attacker replays the first token: refused, and the family is revoked...
    let (status, body) = refresh(&router, &r1).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "refresh_token_reused");
    // ...so the legitimate client's newer token is dead too.
    let (status, body) = refresh(&router, &r2).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "invalid_refresh_token");

    // A second login is a new, unaffected family.
    let (status, _, again) = login(&router, "ada", &password).await;
    assert_eq!(status, 200);
    let (status, _) = refresh(&router, again["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);

    // Unknown and malformed refresh tokens.
    for bad in ["nope", "a.b.c", &"x".repeat(500)] {
        let (status, body) = refresh(&router, bad).await;
        assert_eq!((status.as_u16(), body["error"].as_str()), (401, Some("invalid_refresh_token")), "{bad}");
    }
}

#[tokio::test]
async fn brute_force_on_login_is_429_with_retry_after() {
    let (store, _) = fresh_store().await;
    let (_, password) = create_user(&store, "grace", &[Persona::GeneralUser]).await;
    let router = exomaps_tests::gateway(store);
    let max = exomaps_api::config::AuthConfig::default().login_max_per_user;
    for i in 0..max {
        let (status, _, body) = login(&router, "grace", &format!("guess-{i}")).await;
        assert_eq!(status, 401, "attempt {i}: {body}");
        assert_eq!(body["error"], "invalid_credentials");
    }
    let (status, headers, body) = login(&router, "grace", "guess-again").await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"], "too_many_attempts");
    let retry: i64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 900, "{retry}");
    // Locked out even with the right password; the username's case does not matter.
    let (status, _, _) = login(&router, "GRACE", &password).await;
    assert_eq!(status, 429, "the limiter answers before the password is checked");
    // Unknown users are limited the same way (no user enumeration through the limiter).
    for i in 0..=max {
        let (status, _, _) = login(&router, "nobody", &format!("p{i}")).await;
        assert_eq!(status, if i < max { 401 } else { 429 }, "unknown user attempt {i}");
    }
}

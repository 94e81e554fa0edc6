//! Sign-in, sessions and personas through the gateway: Bearer and cookie clients, refresh
//! rotation, logout, persona switching, key rotation through the secret source without a
//! restart, CORS, body limits and security headers.

use exomaps_api::config::Config;
use exomaps_api::secrets::SigningKey;
use exomaps_domain::persona::Persona;
use exomaps_tests::{cookie_value, create_user, fresh_store, req, request, set_cookie, test_state};
use http::StatusCode;
use serde_json::{Value, json};

async fn call(
    router: &axum::Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (StatusCode, http::HeaderMap, Value) {
    request(router, req(method, uri, body, headers)).await
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn bearer_client_signs_in_switches_persona_refreshes_and_signs_out() {
    let (store, _) = fresh_store().await;
    let (_, pw) = create_user(&store, "Ada", &[Persona::DataCurator, Persona::ScienceAnalyst]).await;
    let router = exomaps_tests::gateway(store);

    let (status, _, body) =
        call(&router, "POST", "/api/auth/login", Some(json!({"username": "Ada", "password": "wrong"})), &[]).await;
    assert_eq!((status.as_u16(), body["error"].as_str()), (401, Some("invalid_credentials")), "{body}");
    let (status, _, body) =
        call(&router, "POST", "/api/auth/login", Some(json!({"username": "nobody", "password": pw})), &[]).await;
    assert_eq!(body["error"], "invalid_credentials", "same answer for unknown users: {status}");

    let (status, headers, login) =
        call(&router, "POST", "/api/auth/login", Some(json!({"username": "ada", "password": pw})), &[]).await;
    assert_eq!(status, 200, "{login}");
    assert!(headers.get("set-cookie").is_none(), "Bearer clients get no cookies");
    assert_eq!(login["token_type"], "Bearer");
    assert_eq!(login["persona"], "data_curator");
    assert_eq!(login["personas"], json!(["data_curator", "science_analyst"]));
    assert_eq!(login["expires_in"], 900);
    let access = login["access_token"].as_str().unwrap().to_string();

    let (status, _, me) = call(&router, "GET", "/api/persona", None, &[("authorization", &bearer(&access))]).await;
    assert_eq!(status, 200);
    assert_eq!(me["current_persona_key"], "data_curator");
    assert_eq!(me["user"], "Ada");
    assert_eq!(
        me["available_personas"],
        json!([{"key": "data_curator", "label": "Data Curator"}, {"key": "science_analyst", "label": "Science Analyst"}])
    );

    // Switching: unknown key → 400, not allowed → 403, allowed → 200 with a re-issued token.
    let auth = bearer(&access);
    let h = [("authorization", auth.as_str())];
    let (status, _, body) = call(&router, "POST", "/api/persona", Some(json!({"persona": "root"})), &h).await;
    assert_eq!((status.as_u16(), body["error"].as_str()), (400, Some("unknown_persona")), "{body}");
    let (status, _, body) = call(&router, "POST", "/api/persona", Some(json!({"persona": "admin"})), &h).await;
    assert_eq!((status.as_u16(), body["error"].as_str()), (403, Some("forbidden")), "{body}");
    assert_eq!(body["available_personas"], json!(["data_curator", "science_analyst"]));
    let (status, _, body) =
        call(&router, "POST", "/api/persona", Some(json!({"persona": "science_analyst"})), &h).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["current_persona_key"], "science_analyst");
    let switched = body["access_token"].as_str().expect("a re-issued access token").to_string();
    assert_ne!(switched, access);
    let (_, _, me) = call(&router, "GET", "/api/persona", None, &[("authorization", &bearer(&switched))]).await;
    assert_eq!(me["current_persona_key"], "science_analyst");
    // The old token still says what it said (it is not rewritten), until it expires.
    let (_, _, me) = call(&router, "GET", "/api/persona", None, &[("authorization", &auth)]).await;
    assert_eq!(me["current_persona_key"], "data_curator");

    // A refresh keeps the session's switched persona.
    let r1 = login["refresh_token"].as_str().unwrap();
    let (status, _, refreshed) =
        call(&router, "POST", "/api/auth/refresh", Some(json!({"refresh_token": r1})), &[]).await;
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(refreshed["persona"], "science_analyst");
    let r2 = refreshed["refresh_token"].as_str().unwrap().to_string();

    // Logout ends the session: its refresh token no longer works.
    let (status, _, body) = call(&router, "POST", "/api/auth/logout", Some(json!({"refresh_token": r2})), &[]).await;
    assert_eq!((status.as_u16(), &body), (200, &json!({"logged_out": true})));
    let (status, _, body) = call(&router, "POST", "/api/auth/refresh", Some(json!({"refresh_token": r2})), &[]).await;
    assert_eq!((status.as_u16(), body["error"].as_str()), (401, Some("invalid_refresh_token")), "{body}");
    // Logout is idempotent.
    let (status, _, _) = call(&router, "POST", "/api/auth/logout", None, &[]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn cookie_client_gets_httponly_secure_samesite_cookies_and_no_tokens_in_the_body() {
    let (store, _) = fresh_store().await;
    let (_, pw) = create_user(&store, "grace", &[Persona::GeneralUser, Persona::NarrativeDesigner]).await;
    let router = exomaps_tests::gateway(store);
    let (status, headers, body) = call(
        &router,
        "POST",
        "/api/auth/login",
        Some(json!({"username": "grace", "password": pw, "mode": "cookie"})),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("access_token").is_none() && body.get("refresh_token").is_none(), "{body}");
    let at = set_cookie(&headers, "exomaps_at").expect("access cookie").to_string();
    let rt = set_cookie(&headers, "exomaps_rt").expect("refresh cookie").to_string();
    for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/;", "Max-Age=900"] {
        assert!(at.contains(attr), "{attr} missing: {at}");
    }
    for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/api/auth"] {
        assert!(rt.contains(attr), "{attr} missing: {rt}");
    }
    let cookie = format!("exomaps_at={}", cookie_value(&at));
    let (status, _, me) = call(&router, "GET", "/api/persona", None, &[("cookie", &cookie)]).await;
    assert_eq!((status.as_u16(), me["current_persona_key"].as_str()), (200, Some("general_user")));

    // Switching by cookie answers with a new access cookie, not a body token.
    let (status, headers, body) =
        call(&router, "POST", "/api/persona", Some(json!({"persona": "narrative_designer"})), &[("cookie", &cookie)])
            .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("access_token").is_none());
    let at2 = set_cookie(&headers, "exomaps_at").expect("re-issued access cookie");
    let (_, _, me) =
        call(&router, "GET", "/api/persona", None, &[("cookie", &format!("exomaps_at={}", cookie_value(at2)))]).await;
    assert_eq!(me["current_persona_key"], "narrative_designer");

    // Refresh by cookie rotates both cookies.
    let rcookie = format!("exomaps_rt={}", cookie_value(&rt));
    let (status, headers, body) = call(&router, "POST", "/api/auth/refresh", None, &[("cookie", &rcookie)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["persona"], "narrative_designer");
    let rt2 = set_cookie(&headers, "exomaps_rt").expect("rotated refresh cookie");
    assert_ne!(cookie_value(rt2), cookie_value(&rt));
    // Logout by cookie clears both cookies and ends the session.
    let rcookie2 = format!("exomaps_rt={}", cookie_value(rt2));
    let (status, headers, _) = call(&router, "POST", "/api/auth/logout", None, &[("cookie", &rcookie2)]).await;
    assert_eq!(status, 200);
    assert!(set_cookie(&headers, "exomaps_at").unwrap().contains("Max-Age=0"));
    assert!(set_cookie(&headers, "exomaps_rt").unwrap().contains("Max-Age=0"));
    let (status, headers, _) = call(&router, "POST", "/api/auth/refresh", None, &[("cookie", &rcookie2)]).await;
    assert_eq!(status, 401);
    assert!(set_cookie(&headers, "exomaps_rt").unwrap().contains("Max-Age=0"), "a refused session clears cookies");
    // A stale access cookie does not block signing in again (credential endpoints ignore it).
    let (status, _, _) = call(
        &router,
        "POST",
        "/api/auth/login",
        Some(json!({"username": "grace", "password": pw})),
        &[("cookie", "exomaps_at=stale.bad.token")],
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn anonymous_callers_are_observer_guest_and_cannot_switch_up() {
    let (store, _) = fresh_store().await;
    let router = exomaps_tests::gateway(store);
    let (status, _, body) =
        call(&router, "POST", "/api/persona", Some(json!({"persona": "observer_guest"})), &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["current_persona_key"], "observer_guest");
    assert!(body.get("access_token").is_none());
    let (status, _, body) = call(&router, "POST", "/api/persona", Some(json!({"persona": "admin"})), &[]).await;
    assert_eq!((status.as_u16(), body["error"].as_str()), (403, Some("forbidden")), "{body}");
    let (status, _, body) = call(&router, "POST", "/api/persona", Some(json!({"persona": "Admin"})), &[]).await;
    assert_eq!((status.as_u16(), body["error"].as_str()), (400, Some("unknown_persona")), "no coercion: {body}");
    for bad in [None, Some(json!({"personа": "admin"})), Some(json!("admin")), Some(json!({"persona": 7}))] {
        let (status, _, body) = call(&router, "POST", "/api/persona", bad.clone(), &[]).await;
        assert_eq!(status, 400, "{bad:?}: {body}");
    }
}

#[tokio::test]
async fn a_rotated_signing_key_is_picked_up_without_a_restart() {
    let (store, _) = fresh_store().await;
    let (_, pw) = create_user(&store, "ops", &[Persona::OpsEngineer]).await;
    let (state, source) = test_state(store, Config::default());
    let router = exomaps_local::gateway::router(state);
    let login = |router: axum::Router, pw: String| async move {
        let (status, _, body) =
            call(&router, "POST", "/api/auth/login", Some(json!({"username": "ops", "password": pw})), &[]).await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_string()
    };
    let kid_of = |t: &str| jsonwebtoken::decode_header(t).unwrap().kid.unwrap();
    let persona = |router: axum::Router, t: String| async move {
        call(&router, "GET", "/api/persona", None, &[("authorization", &bearer(&t))]).await.0
    };
    let old_keys = source.keys();
    let old_token = login(router.clone(), pw.clone()).await;
    assert_eq!(kid_of(&old_token), old_keys.current.kid);

    // Rotate: a new current key, the old one kept as previous.
    let next = SigningKey::generate();
    source.set_keys(old_keys.rotated(next.clone(), 1));
    let new_token = login(router.clone(), pw.clone()).await;
    assert_eq!(kid_of(&new_token), next.kid, "new tokens are signed with the new key at once");
    assert_eq!(persona(router.clone(), old_token.clone()).await, 200, "tokens of the previous key stay valid");
    assert_eq!(persona(router.clone(), new_token.clone()).await, 200);

    // Retire the old key: its tokens stop verifying; the new ones keep working.
    source.set_keys(exomaps_api::secrets::KeySet::new(next, vec![]).unwrap());
    assert_eq!(persona(router.clone(), old_token).await, 401);
    assert_eq!(persona(router.clone(), new_token).await, 200);
}

#[tokio::test]
async fn disabled_users_cannot_sign_in_or_refresh() {
    let (store, _) = fresh_store().await;
    let (id, pw) = create_user(&store, "eve", &[Persona::GeneralUser]).await;
    let router = exomaps_tests::gateway(store.clone());
    let (_, _, login) =
        call(&router, "POST", "/api/auth/login", Some(json!({"username": "eve", "password": pw})), &[]).await;
    let r = login["refresh_token"].as_str().unwrap().to_string();
    store.set_user_disabled(id, true).await.unwrap();
    let (status, _, body) =
        call(&router, "POST", "/api/auth/login", Some(json!({"username": "eve", "password": pw})), &[]).await;
    assert_eq!((status.as_u16(), body["error"].as_str()), (401, Some("invalid_credentials")));
    let (status, _, _) = call(&router, "POST", "/api/auth/refresh", Some(json!({"refresh_token": r})), &[]).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn sign_in_without_configured_keys_is_503_and_tokens_are_refused() {
    let (store, _) = fresh_store().await;
    let (_, pw) = create_user(&store, "ada", &[Persona::Admin]).await;
    // No secret source at all (nothing configured).
    let router = exomaps_local::gateway::router(exomaps_api::AppState::with_store(Config::default(), store));
    let (status, _, body) =
        call(&router, "POST", "/api/auth/login", Some(json!({"username": "ada", "password": pw})), &[]).await;
    assert_eq!((status.as_u16(), body["error"].as_str()), (503, Some("auth_not_configured")), "{body}");
    let (status, _, _) = call(&router, "GET", "/api/persona", None, &[("authorization", "Bearer a.b.c")]).await;
    assert_eq!(status, 401);
    let (status, _, _) = call(&router, "GET", "/api/persona", None, &[]).await;
    assert_eq!(status, 200, "anonymous routes keep working");
}

#[tokio::test]
async fn the_limiter_counts_per_source_address_across_users() {
    let (store, _) = fresh_store().await;
    let config = Config {
        auth: exomaps_api::config::AuthConfig { login_max_per_source: 3, ..Default::default() },
        ..Config::default()
    };
    let router = exomaps_local::gateway::router(test_state(store, config).0);
    let from = |ip: [u8; 4], user: &str| {
        let mut r = req("POST", "/api/auth/login", Some(json!({"username": user, "password": "x"})), &[]);
        r.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((ip, 40000))));
        r
    };
    for (i, user) in ["u1", "u2", "u3"].iter().enumerate() {
        let (status, _, _) = request(&router, from([10, 0, 0, 1], user)).await;
        assert_eq!(status, 401, "attempt {i}");
    }
    let (status, headers, _) = request(&router, from([10, 0, 0, 1], "u4")).await;
    assert_eq!(status, 429, "a fourth user from the same address");
    assert!(headers.contains_key("retry-after"));
    let (status, _, _) = request(&router, from([10, 0, 0, 2], "u4")).await;
    assert_eq!(status, 401, "another address is not affected");
}

#[tokio::test]
async fn cors_allow_list_body_limits_and_security_headers() {
    let (store, _) = fresh_store().await;
    let config = Config {
        auth: exomaps_api::config::AuthConfig {
            cors_origins: vec!["http://localhost:3000".into()],
            ..Default::default()
        },
        ..Config::default()
    };
    let router = exomaps_local::gateway::router(test_state(store, config).0);
    let (status, headers, _) = call(&router, "GET", "/api/persona", None, &[("origin", "http://localhost:3000")]).await;
    assert_eq!(status, 200);
    assert_eq!(headers["access-control-allow-origin"], "http://localhost:3000");
    assert_eq!(headers["access-control-allow-credentials"], "true");
    assert_eq!(headers["vary"], "Origin");
    let (_, headers, _) = call(&router, "GET", "/api/persona", None, &[("origin", "https://evil.example")]).await;
    assert!(headers.get("access-control-allow-origin").is_none());
    // Preflight on a POST route.
    let (status, headers, _) = call(
        &router,
        "OPTIONS",
        "/api/auth/login",
        None,
        &[("origin", "http://localhost:3000"), ("access-control-request-method", "POST")],
    )
    .await;
    assert_eq!(status, 204);
    assert!(headers["access-control-allow-methods"].to_str().unwrap().contains("POST"));
    assert_eq!(headers["access-control-allow-origin"], "http://localhost:3000");

    // Body limits: the auth routes read at most 8 KiB; every route at most 1 MiB.
    let big = json!({"username": "a", "password": "x".repeat(9000)});
    let (status, _, body) = call(&router, "POST", "/api/auth/login", Some(big), &[]).await;
    assert_eq!((status.as_u16(), body["error"].as_str()), (413, Some("payload_too_large")), "{body}");
    let huge = http::Request::post("/api/persona").body(axum::body::Body::from(vec![b' '; (1 << 20) + 1])).unwrap();
    let (status, _, body) = request(&router, huge).await;
    assert_eq!((status.as_u16(), body["error"].as_str()), (413, Some("payload_too_large")));

    let (_, headers, _) = call(&router, "GET", "/api/health", None, &[]).await;
    for (h, v) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("strict-transport-security", "max-age=63072000; includeSubDomains"),
        ("content-security-policy", "default-src 'none'; frame-ancestors 'none'"),
    ] {
        assert_eq!(headers[h], v, "{h}");
    }
}

#[tokio::test]
async fn websocket_connect_is_authorized_from_the_cookie_or_header_against_a_permission_row() {
    use exomaps_api::auth::authorize_connection;
    use exomaps_api::routes::{Access, Rule::*};
    let (store, _) = fresh_store().await;
    let (state, _) = test_state(store, Config::default());
    let stream = Access::grid([Allow, Allow, Allow, Allow, Allow, Allow, Allow, Redact]);
    let controls = Access::grid([Allow, Allow, Deny, Deny, Deny, Deny, Deny, Deny]);
    let label = "WS /ws/simulation/{id}/stream";
    let headers = |pairs: &[(&'static str, String)]| {
        let mut h = http::HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    };
    let anonymous = headers(&[]);
    let (caller, redacted) = authorize_connection(&state, &anonymous, &stream, label).await.unwrap();
    assert_eq!((caller.persona, redacted), (Persona::ObserverGuest, true));
    let e = authorize_connection(&state, &anonymous, &controls, label).await.unwrap_err();
    assert_eq!(e.status, 401);

    let sim = exomaps_tests::token_for(&state, Persona::SimOwner, &[Persona::SimOwner]).await;
    let by_cookie = headers(&[("cookie", format!("exomaps_at={sim}"))]);
    let (caller, redacted) = authorize_connection(&state, &by_cookie, &controls, label).await.unwrap();
    assert_eq!((caller.persona, redacted), (Persona::SimOwner, false));

    let gen_token = exomaps_tests::token_for(&state, Persona::GeneralUser, &[Persona::GeneralUser]).await;
    let by_header = headers(&[("authorization", format!("Bearer {gen_token}"))]);
    let e = authorize_connection(&state, &by_header, &controls, label).await.unwrap_err();
    assert_eq!((e.status.as_u16(), e.code), (403, "forbidden"));
    assert_eq!(e.details["required_personas"], json!(["admin", "sim_owner"]));
    let forged = headers(&[("cookie", format!("exomaps_at={sim}x"))]);
    assert_eq!(authorize_connection(&state, &forged, &stream, label).await.unwrap_err().status, 401);
}

//! The JWT signing key comes from Secrets Manager (the emulator here, through the real AWS
//! SDK): a rotated key is picked up after the cache TTL without a restart, and tokens signed
//! with the previous key stay valid while it is still listed.

use exomaps_api::AppState;
use exomaps_api::config::Config;
use exomaps_api::secrets::{KeySet, SigningKey};
use exomaps_domain::persona::Persona;
use exomaps_tests::{fresh_store, gateway_for, req, request, token_for};
use std::time::Duration;

#[tokio::test]
async fn a_rotated_signing_key_in_secrets_manager_is_picked_up_after_the_ttl() {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        assert!(std::env::var("CI").map_or(true, |v| v != "true"), "CI must run the emulator (./dev test starts it)");
        eprintln!("skipping: AWS_ENDPOINT_URL is not set (./dev test starts the emulator)");
        return;
    }
    let sdk = exomaps_platform::aws::config().await;
    let client = exomaps_platform::aws::secrets_client(sdk);
    let id = format!("exomaps/test-jwt-{}", uuid::Uuid::new_v4().simple());
    let first = KeySet::generate();
    client.create_secret().name(&id).secret_string(first.to_json()).send().await.expect("create secret");

    let (store, _) = fresh_store().await;
    let mut config = Config::default();
    config.auth.jwt_secret_id = Some(id.clone());
    config.auth.secrets_ttl = Duration::from_millis(1500);
    let state = AppState::with_store(config, store);
    assert_eq!(state.signing_keys().await.unwrap().current.kid, first.current.kid);
    let old_token = token_for(&state, Persona::Admin, &[Persona::Admin]).await;

    let rotated = first.rotated(SigningKey::generate(), 1);
    client.put_secret_value().secret_id(&id).secret_string(rotated.to_json()).send().await.expect("rotate");
    assert_eq!(state.signing_keys().await.unwrap().current.kid, first.current.kid, "cached within the TTL");
    tokio::time::sleep(Duration::from_millis(1700)).await;
    let keys = state.signing_keys().await.unwrap();
    assert_eq!(keys.current.kid, rotated.current.kid, "picked up after the TTL, no restart");
    assert!(keys.find(&first.current.kid).is_some(), "the previous key stays listed");

    // Tokens: the old one still verifies (previous key), a new one carries the new kid.
    let router = gateway_for(state.clone());
    let bearer = format!("Bearer {old_token}");
    let (status, _, body) = request(&router, req("GET", "/api/admin/users", None, &[("authorization", &bearer)])).await;
    assert_eq!(status, 200, "{body}");
    let new_token = token_for(&state, Persona::Admin, &[Persona::Admin]).await;
    assert_ne!(new_token, old_token);

    // A rotation that drops the old key: the old token is refused after the TTL.
    let dropped = rotated.rotated(SigningKey::generate(), 0);
    client.put_secret_value().secret_id(&id).secret_string(dropped.to_json()).send().await.expect("rotate again");
    tokio::time::sleep(Duration::from_millis(1700)).await;
    let (status, _, body) = request(&router, req("GET", "/api/admin/users", None, &[("authorization", &bearer)])).await;
    assert_eq!(status, 401, "{body}");
    client.delete_secret().secret_id(&id).force_delete_without_recovery(true).send().await.ok();
}

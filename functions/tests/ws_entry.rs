//! The WebSocket functions, proven through their Lambda entry point with API Gateway
//! WebSocket proxy events: `$connect` records the connection (and refuses a bad token),
//! `$default` answers messages, `$disconnect` forgets the connection.

use exomaps_api::config::Config;
use exomaps_lambda::{handle_ws, lambda_http};
use exomaps_tests::{fresh_store, test_state};
use serde_json::{Value, json};

fn ws_event(route_key: &str, connection_id: &str, body: Option<&str>, headers: Value) -> String {
    json!({
        "headers": headers,
        "multiValueHeaders": {},
        "requestContext": {
            "routeKey": route_key,
            "eventType": match route_key { "$connect" => "CONNECT", "$disconnect" => "DISCONNECT", _ => "MESSAGE" },
            "extendedRequestId": "x", "requestTime": "26/Nov/2026:18:00:00 +0000", "messageDirection": "IN",
            "stage": "prod", "connectedAt": 1764180000000u64, "requestTimeEpoch": 1764180000000u64,
            "identity": {"sourceIp": "127.0.0.1"}, "requestId": "r1", "domainName": "ws.example",
            "connectionId": connection_id, "apiId": "ws123"
        },
        "body": body,
        "isBase64Encoded": false
    })
    .to_string()
}

async fn call(state: &exomaps_api::AppState, event: String) -> (u16, String) {
    let req = lambda_http::request::from_str(&event).expect("a WebSocket proxy event");
    let res = handle_ws(state, req).await;
    (res.status().as_u16(), String::from_utf8_lossy(res.body()).into_owned())
}

#[tokio::test]
async fn connect_message_disconnect_through_the_lambda_entry() {
    let (store, _) = fresh_store().await;
    let (state, _) = test_state(store.clone(), Config::default());

    let (status, _) = call(&state, ws_event("$connect", "abc=", None, json!({}))).await;
    assert_eq!(status, 200);
    assert_eq!(store.ws_connection_count().await.unwrap(), 1);
    let (status, body) =
        call(&state, ws_event("$connect", "bad=", None, json!({"Authorization": "Bearer not.a.token"}))).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(store.ws_connection_count().await.unwrap(), 1, "a refused $connect records nothing");

    let (status, body) =
        call(&state, ws_event("$default", "abc=", Some(r#"{"action":"subscribe","channel":"data"}"#), json!({}))).await;
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), json!({"type": "subscribed", "channel": "data"}));
    assert_eq!(store.ws_subscribers("data").await.unwrap(), ["abc="]);
    let (_, body) =
        call(&state, ws_event("$default", "abc=", Some(r#"{"action":"subscribe","channel":"admin"}"#), json!({})))
            .await;
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"], "forbidden");

    let (status, _) = call(&state, ws_event("$disconnect", "abc=", None, json!({}))).await;
    assert_eq!(status, 200);
    assert_eq!(store.ws_connection_count().await.unwrap(), 0);
    assert!(store.ws_subscribers("data").await.unwrap().is_empty());
}

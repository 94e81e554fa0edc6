//! Rooms on the map (issue 16) through the local gateway: create / get / annotations with their
//! permissions and text rules, the `room:<id>` WebSocket channel (presence, room state,
//! coalesced cursors, live annotation events) with pushes through `/@connections`, the admin
//! broadcast to every connection, and run completion on the `admin` channel.

use exomaps_domain::persona::Persona;
use exomaps_pipeline::notify::Notifier;
use exomaps_tests::{HttpBroadcaster, fresh_store, req, request, test_state, token_for};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Env {
    router: axum::Router,
    state: exomaps_api::AppState,
    store: exomaps_store::Store,
    port: u16,
}

/// A gateway on a free port whose pushes go through its own `/@connections`.
async fn env() -> Env {
    let (store, _) = fresh_store().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let notifier = Notifier::new(store.clone(), Some(Arc::new(HttpBroadcaster { port })));
    let (state, _) = test_state(store.clone(), exomaps_api::config::Config::default());
    let state = state.with_notifier(notifier);
    let router = exomaps_tests::gateway_for(state.clone());
    let app = router.clone();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Env { router, state, store, port }
}

async fn bearer(env: &Env, persona: Persona) -> String {
    format!("Bearer {}", token_for(&env.state, persona, &[persona]).await)
}

async fn call(env: &Env, method: &str, uri: &str, body: Option<Value>, auth: &str) -> (u16, Value, http::HeaderMap) {
    let headers: Vec<(&str, &str)> = if auth.is_empty() { vec![] } else { vec![("authorization", auth)] };
    let (status, h, body) = request(&env.router, req(method, uri, body, &headers)).await;
    (status.as_u16(), body, h)
}

async fn connect(env: &Env, auth: &str) -> Ws {
    let mut r = format!("ws://127.0.0.1:{}/ws", env.port).into_client_request().unwrap();
    if !auth.is_empty() {
        r.headers_mut().insert("authorization", auth.parse().unwrap());
    }
    tokio_tungstenite::connect_async(r).await.unwrap().0
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::text(v.to_string())).await.unwrap();
}

/// The next JSON frame (10 s at most).
async fn next(ws: &mut Ws) -> Value {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a frame within 10 s")
            .unwrap()
            .unwrap();
        if let Message::Text(t) = m {
            return serde_json::from_str(t.as_str()).unwrap();
        }
    }
}

/// Frames until one of type `kind` satisfying `pred` (others skipped), 10 s at most.
async fn until(ws: &mut Ws, kind: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let m =
            tokio::time::timeout(left, ws.next()).await.unwrap_or_else(|_| panic!("no {kind} frame")).unwrap().unwrap();
        if let Message::Text(t) = m {
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            if v["type"] == kind && pred(&v) {
                return v;
            }
        }
    }
}

/// No frame of type `kind` within `ms`.
async fn none_of(ws: &mut Ws, kind: &str, ms: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
    while let Ok(m) =
        tokio::time::timeout(deadline.saturating_duration_since(tokio::time::Instant::now()), ws.next()).await
    {
        if let Some(Ok(Message::Text(t))) = m {
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            assert_ne!(v["type"], kind, "unexpected {v}");
        }
    }
}

/// Subscribes to a room: the reply and the room's state.
async fn join(ws: &mut Ws, room: &str) -> Value {
    send(ws, json!({"action": "subscribe", "channel": format!("room:{room}")})).await;
    let mut subscribed = None;
    let mut state = None;
    while subscribed.is_none() || state.is_none() {
        let v = next(ws).await;
        match v["type"].as_str() {
            Some("subscribed") => subscribed = Some(v),
            Some("room_state") => state = Some(v),
            Some("error") => panic!("subscribe failed: {v}"),
            _ => {}
        }
    }
    assert_eq!(subscribed.unwrap()["channel"], format!("room:{room}"));
    state.unwrap()
}

#[tokio::test]
async fn rooms_presence_cursors_and_live_annotations() {
    let env = env().await;
    let alice = bearer(&env, Persona::GeneralUser).await;
    let bob = bearer(&env, Persona::ScienceAnalyst).await;

    // Create, get, the shareable path.
    let (status, room, _) = call(&env, "POST", "/api/rooms", Some(json!({"name": "Tau Ceti watch"})), &alice).await;
    assert_eq!(status, 201, "{room}");
    let id = room["id"].as_str().unwrap().to_string();
    assert_eq!(room["name"], "Tau Ceti watch");
    assert_eq!(room["created_by"], "t_general_user");
    assert_eq!(room["path"], format!("/?room={id}"));
    let (status, got, _) = call(&env, "GET", &format!("/api/rooms/{id}"), None, &bob).await;
    assert_eq!(status, 200);
    assert_eq!((got["name"].clone(), got["members"].clone()), (json!("Tau Ceti watch"), json!([])));
    let (status, _, _) = call(&env, "POST", "/api/rooms", None, &bob).await;
    assert_eq!(status, 201, "the name is optional");
    let (status, e, _) = call(&env, "GET", &format!("/api/rooms/{}", uuid::Uuid::new_v4()), None, &bob).await;
    assert_eq!((status, e["error"].as_str()), (404, Some("not_found")));
    let (status, _, _) = call(&env, "GET", "/api/rooms/not-a-uuid", None, &bob).await;
    assert_eq!(status, 400);
    let (status, _, _) = call(&env, "POST", "/api/rooms", Some(json!({"name": "x".repeat(81)})), &bob).await;
    assert_eq!(status, 400);

    // Two members: each sees the other arrive, and the room lists both.
    let mut a = connect(&env, &alice).await;
    let mut b = connect(&env, &bob).await;
    let state_a = join(&mut a, &id).await;
    assert_eq!(state_a["members"], json!([{"user": "t_general_user", "persona": "general_user"}]));
    assert_eq!(state_a["cursors"], json!([]));
    let state_b = join(&mut b, &id).await;
    assert_eq!(state_b["members"].as_array().unwrap().len(), 2, "{state_b}");
    let joined = until(&mut a, "presence", |_| true).await;
    assert_eq!(joined["event"], "join");
    assert_eq!(joined["member"], json!({"user": "t_science_analyst", "persona": "science_analyst"}));
    let (_, got, _) = call(&env, "GET", &format!("/api/rooms/{id}"), None, &bob).await;
    assert_eq!(got["members"].as_array().unwrap().len(), 2, "{got}");

    // Cursors: a's hover reaches b (and a) in a coalesced frame; no reply to the sender.
    send(&mut a, json!({"action": "cursor", "room": id, "target": {"system_id": "Sirius"}, "selection": null})).await;
    let frame = until(&mut b, "cursors", |v| {
        v["cursors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["user"] == "t_general_user" && c["target"]["system_id"] == "Sirius")
    })
    .await;
    assert_eq!(frame["channel"], format!("room:{id}"));
    let c = &frame["cursors"][0];
    assert_eq!((c["persona"].as_str(), c["selection"].clone()), (Some("general_user"), Value::Null));
    until(&mut a, "cursors", |_| true).await;
    // b points at a point and selects a star; a sees both members' latest cursors.
    tokio::time::sleep(Duration::from_millis(120)).await;
    send(
        &mut b,
        json!({"action": "cursor", "room": id, "target": {"point": [1.5, -2.0, 3.25]}, "selection": "Tau Ceti"}),
    )
    .await;
    let frame = until(&mut a, "cursors", |v| v["cursors"].as_array().unwrap().len() == 2).await;
    let bc = frame["cursors"].as_array().unwrap().iter().find(|c| c["user"] == "t_science_analyst").unwrap().clone();
    assert_eq!(
        (bc["target"].clone(), bc["selection"].clone()),
        (json!({"point": [1.5, -2.0, 3.25]}), json!("Tau Ceti"))
    );
    // Coalescing: a burst of 20 moves inside one window yields far fewer frames, and the
    // re-send after the burst (what the client does ~200 ms after it stops) carries the last.
    for i in 0..20 {
        send(
            &mut a,
            json!({"action": "cursor", "room": id, "target": {"point": [i as f64, 0.0, 0.0]}, "selection": null}),
        )
        .await;
    }
    tokio::time::sleep(Duration::from_millis(250)).await;
    send(&mut a, json!({"action": "cursor", "room": id, "target": {"point": [19.0, 0.0, 0.0]}, "selection": null}))
        .await;
    let mut frames = 0;
    loop {
        let v = until(&mut b, "cursors", |_| true).await;
        frames += 1;
        let ac = v["cursors"].as_array().unwrap().iter().find(|c| c["user"] == "t_general_user").unwrap().clone();
        if ac["target"] == json!({"point": [19.0, 0.0, 0.0]}) {
            break;
        }
    }
    assert!(frames < 10, "21 cursor messages in ~0.3 s became {frames} frames");
    // Bad cursors are error replies; a non-member may not send one.
    send(&mut a, json!({"action": "cursor", "room": id, "target": {"point": [1, 2]}})).await;
    assert_eq!(until(&mut a, "error", |_| true).await["error"], "bad_request");
    send(&mut a, json!({"action": "cursor", "room": id, "target": {"system_id": "a\u{7}"}})).await;
    assert_eq!(until(&mut a, "error", |_| true).await["error"], "invalid_text");
    let mut outsider = connect(&env, &bob).await;
    send(&mut outsider, json!({"action": "cursor", "room": id, "target": null})).await;
    assert_eq!(next(&mut outsider).await["error"], "not_a_member");
    send(&mut outsider, json!({"action": "subscribe", "channel": format!("room:{}", uuid::Uuid::new_v4())})).await;
    assert_eq!(next(&mut outsider).await["error"], "not_found");

    // An annotation by a reaches b live, <script> verbatim.
    let note = json!({"point": {"x_ly": 1.0, "y_ly": 2.0, "z_ly": 3.0}, "text": "<script>alert(1)</script> look", "link": "https://exoplanet.eu/"});
    let (status, created, _) = call(&env, "POST", &format!("/api/rooms/{id}/annotations"), Some(note), &alice).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["text"], "<script>alert(1)</script> look");
    assert_eq!(created["author"], "t_general_user");
    assert_eq!(created["author_persona"], "general_user");
    assert_eq!(created["point"], json!({"x_ly": 1.0, "y_ly": 2.0, "z_ly": 3.0}));
    assert_eq!(created["system_id"], Value::Null);
    let live = until(&mut b, "annotation", |_| true).await;
    assert_eq!((live["event"].as_str(), live["channel"].clone()), (Some("created"), json!(format!("room:{id}"))));
    assert_eq!(live["annotation"], created);

    // b (another general-purpose persona) may neither edit nor delete it; a may edit; admin may delete.
    let note_uri = format!("/api/rooms/{id}/annotations/{}", created["id"].as_str().unwrap());
    let (status, e, _) = call(&env, "DELETE", &note_uri, None, &bob).await;
    assert_eq!((status, e["error"].as_str()), (403, Some("forbidden")));
    let (status, _, _) = call(&env, "PATCH", &note_uri, Some(json!({"text": "mine now"})), &bob).await;
    assert_eq!(status, 403);
    let (status, edited, _) =
        call(&env, "PATCH", &note_uri, Some(json!({"text": "edited", "link": null})), &alice).await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!((edited["text"].as_str(), edited["link"].clone()), (Some("edited"), Value::Null));
    assert_eq!(until(&mut b, "annotation", |_| true).await["event"], "updated");

    // Reopening the room: the annotations are there, oldest first.
    let (status, _, _) = call(
        &env,
        "POST",
        &format!("/api/rooms/{id}/annotations"),
        Some(json!({"system_id": "Tau Ceti", "text": "second"})),
        &bob,
    )
    .await;
    assert_eq!(status, 201, "no active world build: the system id is kept without a name");
    let (_, list, _) = call(&env, "GET", &format!("/api/rooms/{id}/annotations"), None, "").await;
    let texts: Vec<&str> =
        list["annotations"].as_array().unwrap().iter().map(|a| a["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["edited", "second"]);

    let admin = bearer(&env, Persona::Admin).await;
    let (status, _, _) = call(&env, "DELETE", &note_uri, None, &admin).await;
    assert_eq!(status, 204);
    let gone = until(&mut a, "annotation", |v| v["event"] == "deleted").await;
    assert_eq!(gone["annotation"]["id"], created["id"]);
    let (status, _, _) = call(&env, "DELETE", &note_uri, None, &admin).await;
    assert_eq!(status, 404);

    // b leaves: a hears it and b's cursor goes with it.
    b.close(None).await.unwrap();
    let left = until(&mut a, "presence", |v| v["event"] == "leave").await;
    assert_eq!(left["member"]["user"], "t_science_analyst");
    let mut a2 = connect(&env, &alice).await;
    let state = join(&mut a2, &id).await;
    assert_eq!(state["members"].as_array().unwrap().len(), 1, "a's two connections are one member: {state}");
    let users: Vec<&str> = state["cursors"].as_array().unwrap().iter().map(|c| c["user"].as_str().unwrap()).collect();
    assert_eq!(users, ["t_general_user"]);
    none_of(&mut a, "presence", 300).await;
}

#[tokio::test]
async fn annotation_rules_permissions_and_rate_limit() {
    let env = env().await;
    let user = bearer(&env, Persona::GeneralUser).await;
    let guest = bearer(&env, Persona::ObserverGuest).await;
    let (_, room, _) = call(&env, "POST", "/api/rooms", None, &user).await;
    let id = room["id"].as_str().unwrap();
    let uri = format!("/api/rooms/{id}/annotations");
    let point = json!({"x_ly": 0.0, "y_ly": 0.0, "z_ly": 0.0});

    // observer_guest reads and follows but does not write.
    let (status, e, _) = call(&env, "POST", &uri, Some(json!({"point": point, "text": "hi"})), &guest).await;
    assert_eq!((status, e["error"].as_str()), (403, Some("forbidden")));
    let (status, _, _) = call(&env, "POST", "/api/rooms", None, &guest).await;
    assert_eq!(status, 403);
    let (status, _, _) = call(&env, "GET", &uri, None, &guest).await;
    assert_eq!(status, 200);
    let (status, _, _) = call(&env, "GET", &format!("/api/rooms/{id}"), None, "").await;
    assert_eq!(status, 200, "anonymous visitors open shared rooms");
    let mut ws = connect(&env, &guest).await;
    let state = join(&mut ws, id).await;
    assert_eq!(state["members"], json!([{"user": "t_observer_guest", "persona": "observer_guest"}]));

    // Text rules: each a 400 that stores nothing.
    let bad = [
        (json!({"point": point, "text": "a\u{0}b"}), "invalid_text"),
        (json!({"point": point, "text": "bell \u{7}"}), "invalid_text"),
        (json!({"point": point, "text": "esc \u{1b}[2J"}), "invalid_text"),
        (json!({"point": point, "text": "x".repeat(501)}), "bad_request"),
        (json!({"point": point, "text": ""}), "bad_request"),
        (json!({"point": point, "text": "ok", "link": "javascript:alert(1)"}), "bad_request"),
        (json!({"point": point, "text": "ok", "link": format!("https://x.org/{}", "a".repeat(500))}), "bad_request"),
        (json!({"text": "pinned to nothing"}), "bad_request"),
        (json!({"point": point, "system_id": "Sol", "text": "pinned twice"}), "bad_request"),
        (json!({"point": point, "text": "ok", "colour": "red"}), "bad_request"),
    ];
    for (body, code) in bad {
        let (status, e, _) = call(&env, "POST", &uri, Some(body.clone()), &user).await;
        assert_eq!((status, e["error"].as_str()), (400, Some(code)), "{body}: {e}");
    }
    let (_, list, _) = call(&env, "GET", &uri, None, &user).await;
    assert_eq!(list["annotations"], json!([]), "refused notes are not stored");
    let (status, _, _) = call(&env, "POST", &uri, Some(json!({"point": point, "text": "é".repeat(500)})), &user).await;
    assert_eq!(status, 201, "500 characters (1000 bytes) is the limit, inclusive");
    let (status, _, _) = call(
        &env,
        "POST",
        &format!("/api/rooms/{}/annotations", uuid::Uuid::new_v4()),
        Some(json!({"point": point, "text": "x"})),
        &user,
    )
    .await;
    assert_eq!(status, 404);

    // 30 writes a minute per user, then 429 with Retry-After (another user is unaffected).
    for i in 2..=30 {
        let (status, e, _) =
            call(&env, "POST", &uri, Some(json!({"point": point, "text": format!("n{i}")})), &user).await;
        assert_eq!(status, 201, "write {i}: {e}");
    }
    let (status, e, headers) =
        call(&env, "POST", &uri, Some(json!({"point": point, "text": "one too many"})), &user).await;
    assert_eq!((status, e["error"].as_str()), (429, Some("too_many_annotations")));
    let retry: i64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let other = bearer(&env, Persona::GeneralUser).await;
    let (status, _, _) = call(&env, "POST", &uri, Some(json!({"point": point, "text": "mine"})), &other).await;
    assert_eq!(status, 201);
    let (_, list, _) = call(&env, "GET", &uri, None, &user).await;
    assert_eq!(list["annotations"].as_array().unwrap().len(), 31);
}

#[tokio::test]
async fn admin_broadcast_reaches_every_connection() {
    let env = env().await;
    // One connection on no channel, one on a room, one on data.
    let user = bearer(&env, Persona::GeneralUser).await;
    let mut idle = connect(&env, "").await;
    let mut in_room = connect(&env, &user).await;
    let (_, room, _) = call(&env, "POST", "/api/rooms", None, &user).await;
    join(&mut in_room, room["id"].as_str().unwrap()).await;
    let mut on_data = connect(&env, &user).await;
    send(&mut on_data, json!({"action": "subscribe", "channel": "data"})).await;
    assert_eq!(next(&mut on_data).await["type"], "subscribed");

    let (status, e, _) = call(&env, "POST", "/api/admin/broadcast", Some(json!({"message": "hi"})), &user).await;
    assert_eq!((status, e["error"].as_str()), (403, Some("forbidden")));
    let (status, _, _) = call(&env, "POST", "/api/admin/broadcast", Some(json!({"message": "hi"})), "").await;
    assert_eq!(status, 401);
    let ops = bearer(&env, Persona::OpsEngineer).await;
    let (status, _, _) = call(&env, "POST", "/api/admin/broadcast", Some(json!({"message": "a\u{1}"})), &ops).await;
    assert_eq!(status, 400);
    let (status, _, _) =
        call(&env, "POST", "/api/admin/broadcast", Some(json!({"message": "x", "level": "panic"})), &ops).await;
    assert_eq!(status, 400);

    let text = "Maintenance at 04:00 UTC <b>not bold</b>";
    let (status, sent, _) =
        call(&env, "POST", "/api/admin/broadcast", Some(json!({"message": text, "level": "warning"})), &ops).await;
    assert_eq!((status, sent["delivered"].as_i64()), (202, Some(3)), "{sent}");
    for ws in [&mut idle, &mut in_room, &mut on_data] {
        let m = until(ws, "broadcast", |_| true).await;
        assert_eq!(
            (m["message"].as_str(), m["level"].as_str(), m["from"].as_str()),
            (Some(text), Some("warning"), Some("t_ops_engineer"))
        );
        assert!(m["at"].as_str().is_some_and(|t| t.contains('T')), "{m}");
    }
    let admin = bearer(&env, Persona::Admin).await;
    let (status, sent, _) =
        call(&env, "POST", "/api/admin/broadcast", Some(json!({"message": "from admin"})), &admin).await;
    assert_eq!((status, sent["delivered"].as_i64()), (202, Some(3)));
    assert_eq!(until(&mut idle, "broadcast", |_| true).await["level"], "info");
    assert_eq!(env.store.ws_connection_count().await.unwrap(), 3);
}

#[tokio::test]
async fn a_completed_run_reaches_the_admin_channel() {
    use exomaps_domain::coords::Scope;
    use exomaps_pipeline::chain::{KickMessage, Phase, PipelineContext};
    use exomaps_pipeline::queue::{LocalQueues, Queues};
    use exomaps_pipeline::{Family, SourceSpec};

    let env = env().await;
    let admin = bearer(&env, Persona::Admin).await;
    let mut ws = connect(&env, &admin).await;
    send(&mut ws, json!({"action": "subscribe", "channel": "admin"})).await;
    assert_eq!(next(&mut ws).await, json!({"type": "subscribed", "channel": "admin"}));
    let mut ops = connect(&env, &bearer(&env, Persona::GeneralUser).await).await;
    send(&mut ops, json!({"action": "subscribe", "channel": "admin"})).await;
    assert_eq!(next(&mut ops).await["error"], "forbidden", "the admin channel is admin's");

    let notifier = Notifier::new(env.store.clone(), Some(Arc::new(HttpBroadcaster { port: env.port })));
    let ctx = PipelineContext { store: env.store.clone(), scope: Scope::default(), notifier, objects: None };
    let queues = LocalQueues::spawn(ctx, 5, Duration::from_millis(100));
    let kick = KickMessage {
        run_name: "admin sees it".into(),
        sources: vec![SourceSpec::file(Family::Simbad, exomaps_tests::sample_sources().join("SIMBAD_sample.csv"))],
        seed: None,
        run_id: None,
        shards: None,
    };
    queues.send(Phase::Ingest, serde_json::to_string(&kick).unwrap()).await.unwrap();
    let refreshed = until(&mut ws, "data.refreshed", |_| true).await;
    let build = refreshed["world_build_id"].as_i64().expect("a build id");
    let done = until(&mut ws, "run.completed", |_| true).await;
    assert_eq!(done["status"], "pass", "{done}");
    assert_eq!(done["world_build_id"], build);
    assert!(done["row_counts"].as_object().is_some_and(|m| !m.is_empty()), "{done}");
    assert_eq!(done["run_id"], refreshed["run_id"]);
    // Both parse as the documented messages.
    for m in [refreshed, done] {
        serde_json::from_value::<exomaps_api::frames::ServerMessage>(m.clone()).unwrap_or_else(|e| panic!("{e}: {m}"));
    }

    // With a build active, a system annotation is checked and named.
    let user = bearer(&env, Persona::GeneralUser).await;
    let (_, room, _) = call(&env, "POST", "/api/rooms", None, &user).await;
    let uri = format!("/api/rooms/{}/annotations", room["id"].as_str().unwrap());
    let (status, a, _) = call(&env, "POST", &uri, Some(json!({"system_id": "Sol", "text": "home"})), &user).await;
    assert_eq!(status, 201, "{a}");
    assert_eq!((a["system_id"].as_str(), a["system_name"].is_string()), (Some("Sol"), true), "{a}");
    let (status, e, _) =
        call(&env, "POST", &uri, Some(json!({"system_id": "No Such Star 999", "text": "x"})), &user).await;
    assert_eq!((status, e["field"].as_str()), (400, Some("system_id")), "{e}");
}

/// The same room protocol with the production broadcaster: the AWS SDK's API Gateway Management
/// client posts presence, cursors, annotations and the admin broadcast to the gateway's
/// `/@connections` (as it posts to API Gateway in AWS). Needs AWS settings (`./dev test` starts
/// the emulator and exports them; only the region and credentials are used here).
#[tokio::test]
async fn rooms_through_the_sdk_broadcaster() {
    use exomaps_pipeline::aws::SdkBroadcast;
    if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none() {
        assert!(std::env::var("CI").map_or(true, |v| v != "true"), "CI runs with the emulator's AWS settings");
        eprintln!("skipping: no AWS settings (./dev test provides them)");
        return;
    }
    let (store, _) = fresh_store().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let sdk = exomaps_platform::aws::config().await;
    let broadcaster = exomaps_platform::broadcast::Broadcaster::new(sdk);
    let notifier = Notifier::new(
        store.clone(),
        Some(Arc::new(SdkBroadcast::new(broadcaster, format!("http://127.0.0.1:{port}")))),
    );
    let (state, _) = test_state(store.clone(), exomaps_api::config::Config::default());
    let state = state.with_notifier(notifier);
    let router = exomaps_tests::gateway_for(state.clone());
    let app = router.clone();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let env = Env { router, state, store, port };

    let alice = bearer(&env, Persona::DataCurator).await;
    let bob = bearer(&env, Persona::NarrativeDesigner).await;
    let (_, room, _) = call(&env, "POST", "/api/rooms", None, &alice).await;
    let id = room["id"].as_str().unwrap().to_string();
    let mut a = connect(&env, &alice).await;
    let mut b = connect(&env, &bob).await;
    join(&mut a, &id).await;
    assert_eq!(join(&mut b, &id).await["members"].as_array().unwrap().len(), 2);
    assert_eq!(until(&mut a, "presence", |_| true).await["event"], "join");
    send(&mut b, json!({"action": "cursor", "room": id, "target": {"system_id": "Sirius"}, "selection": "Sirius"}))
        .await;
    let frame = until(&mut a, "cursors", |_| true).await;
    assert_eq!(frame["cursors"][0]["target"], json!({"system_id": "Sirius"}));
    let (status, note, _) = call(
        &env,
        "POST",
        &format!("/api/rooms/{id}/annotations"),
        Some(json!({"system_id": "Tau Ceti", "text": "<script>x</script>"})),
        &alice,
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(until(&mut b, "annotation", |_| true).await["annotation"], note);
    let admin = bearer(&env, Persona::Admin).await;
    let (status, sent, _) =
        call(&env, "POST", "/api/admin/broadcast", Some(json!({"message": "through the SDK"})), &admin).await;
    assert_eq!((status, sent["delivered"].as_i64()), (202, Some(2)));
    for ws in [&mut a, &mut b] {
        assert_eq!(until(ws, "broadcast", |_| true).await["message"], "through the SDK");
    }
    b.close(None).await.unwrap();
    assert_eq!(until(&mut a, "presence", |v| v["event"] == "leave").await["member"]["persona"], "narrative_designer");
}

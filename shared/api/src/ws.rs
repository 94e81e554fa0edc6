//! The WebSocket channel (DOMAIN.md §8.4): `$connect`, `$disconnect` and `$default` handlers,
//! shared by the API Gateway WebSocket Lambdas and the local gateway's `/ws`.
//!
//! Client → server: `{"action":"subscribe","channel":"runs:<run_id>"}` (or `"run_id":…`;
//! `{"action":"subscribe","channel":"sim:<id>","after_tick":N}` replays a simulation's missed
//! events first, see `exomaps_pipeline::sim::subscribe`),
//! `{"action":"unsubscribe","channel"?}`, `{"action":"ping"}`. Replies: `{"type":"subscribed",
//! "channel"}`, `{"type":"unsubscribed","count"}`, `{"type":"pong"}`, `{"type":"error","error",
//! "message"}`. Server pushes go through `exomaps_pipeline::notify`.
//!
//! Rooms (issue 16, `room:<id>`): subscribing pushes `room_state` (members and their latest
//! cursors) to the new member and `presence` join to the others; leaving (unsubscribe or
//! disconnect) pushes `presence` leave. `{"action":"cursor","room","target","selection"}` gets
//! no reply: it records the connection's latest cursor in PostgreSQL and, when it claims the
//! room's flush window (at most one frame per room per `CURSOR_WINDOW_MS`, longer for rooms
//! whose frames would cost more than `Config::room_posts_per_sec` posts a second; one
//! conditional upsert, so it holds across Lambdas), pushes every member's latest cursor in one `cursors`
//! frame (split in parts under 32 KB). Clients re-send their last cursor once ~200 ms after it
//! stops moving, which is the trailing edge of the coalescing.

use crate::auth::Caller;
use crate::{ApiError, AppState};
use exomaps_domain::persona::Persona;
use exomaps_store::rooms::{CursorRow, MemberRow};
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

/// The WebSocket functions: (function name, API Gateway route key).
pub const WS_ROUTES: &[(&str, &str)] =
    &[("ws-connect", "$connect"), ("ws-disconnect", "$disconnect"), ("ws-default", "$default")];

/// Largest client message accepted (API Gateway's frame limit is 32 KB).
pub const MAX_CLIENT_MESSAGE: usize = 32 * 1024;

/// May this persona follow this channel?
pub fn channel_allowed(persona: Persona, channel: &str) -> Result<(), ApiError> {
    use Persona::*;
    let allowed: &[Persona] = if channel == "data" || channel.starts_with("sim:") || channel.starts_with("room:") {
        &Persona::ALL
    } else if channel.starts_with("runs:") {
        &[Admin, DataCurator, OpsEngineer, ScienceAnalyst]
    } else if channel == "admin" {
        &[Admin]
    } else {
        return Err(ApiError::bad_request(format!(
            "unknown channel {channel:?} (runs:<run_id>, data, admin, sim:<id>, room:<id>)"
        )));
    };
    if allowed.contains(&persona) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("channel {channel} is not available to {}", persona.key()),
        )
        .with("required_personas", allowed.iter().map(|p| p.key()).collect::<Vec<_>>())
        .with("current_persona", persona.key()))
    }
}

/// `$connect`: records the connection with the caller's persona.
pub async fn on_connect(state: &AppState, connection_id: &str, caller: &Caller) -> Result<(), ApiError> {
    state.store()?.ws_connect(connection_id, caller.persona.key(), caller.user.as_deref()).await?;
    Ok(())
}

/// `$disconnect`: forgets the connection and its subscriptions; the rooms it was in hear it left.
pub async fn on_disconnect(state: &AppState, connection_id: &str) -> Result<(), ApiError> {
    let store = state.store()?;
    let rooms = store.ws_channels_of(connection_id, "room:").await?;
    let member = store.ws_connection(connection_id).await?.map(|c| member_of(&c));
    store.ws_disconnect(connection_id).await?;
    if let Some(member) = member {
        for channel in rooms {
            announce_leave(state, connection_id, &channel, &member).await?;
        }
    }
    Ok(())
}

/// Milliseconds between two `cursors` frames of one room at least (more for rooms larger than
/// `Config::room_posts_per_sec` / 10 members).
pub const CURSOR_WINDOW_MS: i64 = 100;

/// How a room shows a connection.
fn member_of(c: &exomaps_store::rooms::ConnectionRow) -> MemberRow {
    MemberRow { user_name: c.user_id.clone().unwrap_or_else(|| "guest".into()), persona: c.persona.clone() }
}

fn member_json(m: &MemberRow) -> Value {
    json!({"user": m.user_name, "persona": m.persona})
}

/// Tells a room a member left, unless the same member is still there through another connection.
async fn announce_leave(
    state: &AppState,
    connection_id: &str,
    channel: &str,
    member: &MemberRow,
) -> Result<(), ApiError> {
    if state.store()?.member_present_elsewhere(channel, member, connection_id).await? {
        return Ok(());
    }
    let ctx = state.pipeline_context()?;
    let msg = json!({"type": "presence", "channel": channel, "event": "leave", "member": member_json(member)});
    ctx.notifier.publish(channel, &msg).await;
    Ok(())
}

#[derive(Deserialize)]
struct ClientMessage {
    action: String,
    channel: Option<String>,
    run_id: Option<String>,
    /// `sim:<id>` only: replay the events of ticks after this one first (-1: from the start).
    after_tick: Option<i64>,
    /// `cursor`: the room id, where the cursor is and what is selected.
    room: Option<String>,
    #[serde(default)]
    target: Option<Value>,
    #[serde(default)]
    selection: Option<String>,
}

/// A decoded client message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientRequest {
    Ping,
    /// `after_tick` (only on `sim:<id>` channels): replay the events after that tick first.
    Subscribe {
        channel: String,
        after_tick: Option<i64>,
    },
    /// From one channel, or from all when `None`.
    Unsubscribe(Option<String>),
    /// A room member's cursor: `target` is null, `{"system_id"}` or `{"point":[x,y,z]}`.
    Cursor {
        room: Uuid,
        target: Option<Value>,
        selection: Option<String>,
    },
}

/// Checks a cursor's target: null, `{"system_id": "<id>"}` or `{"point": [x, y, z]}` (finite).
fn cursor_target(target: Option<Value>) -> Result<Option<Value>, ApiError> {
    use crate::handlers::rooms::{MAX_SYSTEM_ID_CHARS, check_text};
    let bad = || ApiError::bad_request("cursor target is null, {\"system_id\": …} or {\"point\": [x, y, z]}");
    let Some(Value::Object(map)) = target else {
        return match target {
            None | Some(Value::Null) => Ok(None),
            Some(_) => Err(bad()),
        };
    };
    if map.len() != 1 {
        return Err(bad());
    }
    match map.iter().next() {
        Some((k, Value::String(id))) if k == "system_id" => {
            check_text("target.system_id", id, 1, MAX_SYSTEM_ID_CHARS, false)?;
            Ok(Some(json!({"system_id": id})))
        }
        Some((k, Value::Array(xyz))) if k == "point" && xyz.len() == 3 => {
            let v: Vec<f64> =
                xyz.iter().filter_map(Value::as_f64).filter(|v| v.is_finite() && v.abs() <= 1e6).collect();
            if v.len() != 3 {
                return Err(bad());
            }
            Ok(Some(json!({"point": v})))
        }
        _ => Err(bad()),
    }
}

/// Decodes one client message (pure; `fuzz/` fuzzes it): size, text (no NUL), JSON shape and
/// action. Permission checks on the channel come after, with the connection's persona.
pub fn decode_client_message(body: &str) -> Result<ClientRequest, ApiError> {
    if body.len() > MAX_CLIENT_MESSAGE {
        return Err(ApiError::bad_request("message larger than 32 KB"));
    }
    crate::text::check_json(body.as_bytes(), "message ")?;
    let msg: ClientMessage = serde_json::from_str(body)
        .map_err(|e| ApiError::bad_request(format!("messages are JSON objects with an \"action\": {e}")))?;
    let channel = msg.channel.or(msg.run_id.map(|id| format!("runs:{id}")));
    match msg.action.as_str() {
        "ping" => Ok(ClientRequest::Ping),
        "subscribe" => {
            let channel = channel.ok_or_else(|| ApiError::bad_request("subscribe needs a \"channel\""))?;
            if msg.after_tick.is_some() && !channel.starts_with("sim:") {
                return Err(ApiError::bad_request("after_tick applies to sim:<id> channels only"));
            }
            Ok(ClientRequest::Subscribe { channel, after_tick: msg.after_tick })
        }
        "unsubscribe" => Ok(ClientRequest::Unsubscribe(channel)),
        "cursor" => {
            let raw = msg.room.ok_or_else(|| ApiError::bad_request("cursor needs a \"room\""))?;
            let room = Uuid::parse_str(raw.strip_prefix("room:").unwrap_or(&raw))
                .map_err(|_| ApiError::bad_request(format!("{raw:?} is not a room id")))?;
            if let Some(sel) = &msg.selection {
                crate::handlers::rooms::check_text(
                    "selection",
                    sel,
                    1,
                    crate::handlers::rooms::MAX_SYSTEM_ID_CHARS,
                    false,
                )?;
            }
            Ok(ClientRequest::Cursor { room, target: cursor_target(msg.target)?, selection: msg.selection })
        }
        other => Err(ApiError::bad_request(format!("unknown action {other:?} (subscribe, unsubscribe, ping, cursor)"))),
    }
}

/// `$default`: one client message in, at most one reply out (errors are replies too, never a
/// close). A `cursor` message that was accepted has no reply (None): its answer is the room's
/// next `cursors` frame.
pub async fn on_message(state: &AppState, connection_id: &str, body: &str) -> Option<Value> {
    match handle_message(state, connection_id, body).await {
        Ok(reply) => reply,
        Err(e) => Some(json!({"type": "error", "error": e.code, "message": e.message})),
    }
}

async fn handle_message(state: &AppState, connection_id: &str, body: &str) -> Result<Option<Value>, ApiError> {
    let request = decode_client_message(body)?;
    if let ClientRequest::Cursor { room, target, selection } = request {
        cursor(state, connection_id, room, target, selection).await?;
        return Ok(None);
    }
    handle_request(state, connection_id, request).await.map(Some)
}

async fn handle_request(state: &AppState, connection_id: &str, request: ClientRequest) -> Result<Value, ApiError> {
    let store = state.store()?;
    let persona = store
        .ws_persona(connection_id)
        .await?
        .and_then(|p| Persona::from_key(&p))
        .ok_or_else(|| ApiError::not_found("unknown connection"))?;
    match request {
        ClientRequest::Ping => Ok(json!({"type": "pong"})),
        ClientRequest::Subscribe { channel, after_tick } => {
            channel_allowed(persona, &channel)?;
            if let Some(id) = channel.strip_prefix("sim:") {
                return subscribe_sim(state, connection_id, &channel, id, after_tick).await;
            }
            if let Some(id) = channel.strip_prefix("room:") {
                return subscribe_room(state, connection_id, &channel, id).await;
            }
            store.ws_subscribe(connection_id, &channel).await?;
            Ok(json!({"type": "subscribed", "channel": channel}))
        }
        ClientRequest::Unsubscribe(channel) => {
            let rooms: Vec<String> = match &channel {
                Some(c) if c.starts_with("room:") => vec![c.clone()],
                Some(_) => Vec::new(),
                None => store.ws_channels_of(connection_id, "room:").await?,
            };
            let n = store.ws_unsubscribe(connection_id, channel.as_deref()).await?;
            if let Some(conn) = store.ws_connection(connection_id).await? {
                let member = member_of(&conn);
                for room in rooms {
                    if let Some(id) = room.strip_prefix("room:").and_then(|id| Uuid::parse_str(id).ok()) {
                        store.clear_cursor(connection_id, id).await?;
                    }
                    announce_leave(state, connection_id, &room, &member).await?;
                }
            }
            Ok(json!({"type": "unsubscribed", "count": n}))
        }
        ClientRequest::Cursor { .. } => Err(ApiError::internal()),
    }
}

/// `room:<id>`: the others hear the new member joined (unless already there through another
/// connection), the new member gets the room's state.
async fn subscribe_room(state: &AppState, connection_id: &str, channel: &str, id: &str) -> Result<Value, ApiError> {
    let store = state.store()?;
    let room_id = Uuid::parse_str(id).map_err(|_| ApiError::bad_request(format!("{id:?} is not a room id")))?;
    if store.room(room_id).await?.is_none() {
        return Err(ApiError::not_found(format!("room {room_id} not found")));
    }
    let conn = store.ws_connection(connection_id).await?.ok_or_else(|| ApiError::not_found("unknown connection"))?;
    let member = member_of(&conn);
    let ctx = state.pipeline_context()?;
    if !store.member_present_elsewhere(channel, &member, connection_id).await? {
        let join = json!({"type": "presence", "channel": channel, "event": "join", "member": member_json(&member)});
        ctx.notifier.publish(channel, &join).await;
    }
    store.ws_subscribe(connection_id, channel).await?;
    let members: Vec<Value> = store.channel_members(channel).await?.iter().map(member_json).collect();
    let cursors: Vec<Value> = store.room_cursors(room_id).await?.iter().map(cursor_json).collect();
    for frame in cursor_frames("room_state", channel, cursors, Some(members)) {
        ctx.notifier.send_to(connection_id, &frame).await;
    }
    Ok(json!({"type": "subscribed", "channel": channel}))
}

fn cursor_json(c: &CursorRow) -> Value {
    json!({
        "user": c.user_name,
        "persona": c.persona,
        "target": c.target.as_ref().map(|t| &t.0),
        "selection": c.selection,
        "at": c.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    })
}

/// `cursors` (or `room_state`) frames carrying these cursors, each under 32 KB: one frame
/// unless the room is very large, then `part`/`parts` (members ride on the first).
pub fn cursor_frames(kind: &str, channel: &str, cursors: Vec<Value>, members: Option<Vec<Value>>) -> Vec<Value> {
    // Room for the envelope and the members of the first frame.
    let budget = exomaps_pipeline::notify::MAX_MESSAGE_BYTES - 512;
    let members_size = members.as_ref().map_or(0, |m| serde_json::to_vec(m).map_or(0, |b| b.len()));
    let mut parts: Vec<Vec<Value>> = vec![Vec::new()];
    let mut size = members_size;
    for c in cursors {
        let n = serde_json::to_vec(&c).map_or(0, |b| b.len()) + 1;
        if size + n > budget && !parts.last().is_some_and(Vec::is_empty) {
            parts.push(Vec::new());
            size = 0;
        }
        size += n;
        parts.last_mut().expect("one part at least").push(c);
    }
    let total = parts.len();
    let mut members = members;
    parts
        .into_iter()
        .enumerate()
        .map(|(i, cursors)| {
            let mut frame = json!({"type": kind, "channel": channel, "cursors": cursors});
            if let Some(m) = members.take() {
                frame["members"] = Value::Array(m);
            }
            if total > 1 {
                frame["part"] = json!(i + 1);
                frame["parts"] = json!(total);
            }
            frame
        })
        .collect()
}

/// A cursor message: recorded as the connection's latest in the room (only a member may send
/// one), then, when this message claims the room's flush window, every member's latest cursor
/// goes to the room.
async fn cursor(
    state: &AppState,
    connection_id: &str,
    room_id: Uuid,
    target: Option<Value>,
    selection: Option<String>,
) -> Result<(), ApiError> {
    let store = state.store()?;
    let channel = format!("room:{room_id}");
    let budget = i64::from(state.config().room_posts_per_sec);
    let (recorded, claimed) = store
        .set_cursor(connection_id, room_id, target.as_ref(), selection.as_deref(), CURSOR_WINDOW_MS, budget)
        .await?;
    if !recorded {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not_a_member",
            format!("subscribe to {channel} before sending cursors"),
        ));
    }
    if claimed {
        let cursors: Vec<Value> = store.room_cursors(room_id).await?.iter().map(cursor_json).collect();
        let ctx = state.pipeline_context()?;
        for frame in cursor_frames("cursors", &channel, cursors, None) {
            ctx.notifier.publish(&channel, &frame).await;
        }
    }
    Ok(())
}

/// `sim:<id>`: the replay of the events after `after_tick` (pushed as `sim.events` messages)
/// and then live `sim.tick` batches, each event once and in order.
async fn subscribe_sim(
    state: &AppState,
    connection_id: &str,
    channel: &str,
    id: &str,
    after_tick: Option<i64>,
) -> Result<Value, ApiError> {
    let sim_id =
        uuid::Uuid::parse_str(id).map_err(|_| ApiError::bad_request(format!("{id:?} is not a simulation id")))?;
    if after_tick.is_some_and(|t| t < -1) {
        return Err(ApiError::bad_request("after_tick must be ≥ -1"));
    }
    let ctx = state.pipeline_context()?;
    let sim = exomaps_pipeline::sim::get(&ctx.store, sim_id).await?;
    let done = exomaps_pipeline::sim::subscribe(&ctx, connection_id, &sim, after_tick).await?;
    Ok(json!({
        "type": "subscribed",
        "channel": channel,
        "after_tick": done.after_tick,
        "through_tick": done.through_tick,
        "replayed_events": done.replayed_events,
    }))
}

#[cfg(test)]
mod room_tests {
    use super::*;
    use crate::openapi::ServerMessage;

    /// A cursor with every field at its largest (128-character username, 100-character ids).
    fn widest(i: usize) -> Value {
        json!({
            "user": format!("{i:03}{}", "u".repeat(125)),
            "persona": "science_analyst",
            "target": {"system_id": "s".repeat(100)},
            "selection": "x".repeat(100),
            "at": "2026-12-05T01:41:38.123Z",
        })
    }

    #[test]
    fn fifty_widest_cursors_fit_one_frame_and_more_split_under_32_kb() {
        let channel = format!("room:{}", Uuid::nil());
        let frames = cursor_frames("cursors", &channel, (0..50).map(widest).collect(), None);
        assert_eq!(frames.len(), 1);
        let bytes = serde_json::to_vec(&frames[0]).unwrap().len();
        assert!(bytes < 32 * 1024, "{bytes}");
        assert!(frames[0].get("part").is_none());
        assert!(matches!(serde_json::from_value(frames[0].clone()).unwrap(), ServerMessage::Cursors { .. }));

        let members: Vec<Value> =
            (0..200).map(|i| json!({"user": format!("{i}"), "persona": "general_user"})).collect();
        let frames = cursor_frames("room_state", &channel, (0..200).map(widest).collect(), Some(members));
        assert!(frames.len() > 1);
        let mut seen = 0;
        for (i, f) in frames.iter().enumerate() {
            assert!(serde_json::to_vec(f).unwrap().len() < exomaps_pipeline::notify::MAX_MESSAGE_BYTES);
            assert_eq!((f["part"].as_u64(), f["parts"].as_u64()), (Some(i as u64 + 1), Some(frames.len() as u64)));
            assert_eq!(f.get("members").is_some(), i == 0, "members ride on the first part");
            seen += f["cursors"].as_array().unwrap().len();
        }
        assert_eq!(seen, 200);
        let first = serde_json::from_value::<ServerMessage>(frames[0].clone()).unwrap();
        assert!(matches!(first, ServerMessage::RoomState { .. }));
    }

    #[test]
    fn cursor_messages_decode_strictly() {
        let room = Uuid::new_v4();
        let ok = |v: Value| decode_client_message(&v.to_string());
        let r = ok(json!({"action": "cursor", "room": room, "target": {"point": [1, 2.5, -3]}, "selection": "Sol"}))
            .unwrap();
        assert_eq!(
            r,
            ClientRequest::Cursor {
                room,
                target: Some(json!({"point": [1.0, 2.5, -3.0]})),
                selection: Some("Sol".into())
            }
        );
        let r = ok(json!({"action": "cursor", "room": format!("room:{room}"), "target": null})).unwrap();
        assert_eq!(r, ClientRequest::Cursor { room, target: None, selection: None });
        for bad in [
            json!({"action": "cursor"}),
            json!({"action": "cursor", "room": "nope"}),
            json!({"action": "cursor", "room": room, "target": {"point": [1, 2]}}),
            json!({"action": "cursor", "room": room, "target": {"point": [1, 2, "x"]}}),
            json!({"action": "cursor", "room": room, "target": {"system_id": "Sol", "point": [1, 2, 3]}}),
            json!({"action": "cursor", "room": room, "target": {"planet": "b"}}),
            json!({"action": "cursor", "room": room, "target": "Sol"}),
            json!({"action": "cursor", "room": room, "target": {"system_id": "s".repeat(101)}}),
            json!({"action": "cursor", "room": room, "selection": "a\u{1b}b"}),
        ] {
            assert!(ok(bad.clone()).is_err(), "{bad}");
        }
    }
}

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

use crate::caller::Caller;
use crate::error::ApiError;
use crate::frames::{Cursor, Member, ServerMessage};
use crate::state::AppState;
use exomaps_domain::persona::Persona;
use exomaps_store::rooms::{CursorRow, MemberRow};
use http::StatusCode;
use serde_json::Value;
use uuid::Uuid;

/// The WebSocket functions: (function name, API Gateway route key).
pub const WS_ROUTES: &[(&str, &str)] =
    &[("ws-connect", "$connect"), ("ws-disconnect", "$disconnect"), ("ws-default", "$default")];

/// The client messages (pure; in `exomaps-wire`, which `fuzz/` fuzzes).
pub use exomaps_wire::ws::{ClientRequest, MAX_CLIENT_MESSAGE};

/// May this persona follow this channel?
pub fn channel_allowed(persona: Persona, channel: &str) -> Result<(), ApiError> {
    let Some(allowed) = exomaps_wire::ws::channel_personas(channel) else {
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
    let msg = ServerMessage::Presence {
        channel: channel.into(),
        event: "leave".into(),
        member: crate::handlers::rooms::member(member),
    };
    ctx.notifier.publish(channel, &msg).await;
    Ok(())
}

/// Decodes one client message ([`exomaps_wire::ws::decode_client_message`], pure, fuzzed):
/// size, text (no NUL), JSON shape and action, each refusal a 400. Permission checks on the
/// channel come after, with the connection's persona.
pub fn decode_client_message(body: &str) -> Result<ClientRequest, ApiError> {
    use exomaps_wire::ws::DecodeError;
    exomaps_wire::ws::decode_client_message(body).map_err(|e| match e {
        DecodeError::Text(field) => crate::text::invalid_text(&field),
        DecodeError::Control(field, c) => {
            ApiError::bad_request(format!("{field} contains the control character U+{c:04X}, which is not accepted"))
                .with_code("invalid_text")
                .with("field", field)
        }
        DecodeError::Invalid(message) => ApiError::bad_request(message),
    })
}

/// `$default`: one client message in, at most one reply out (errors are replies too, never a
/// close). A `cursor` message that was accepted has no reply (None): its answer is the room's
/// next `cursors` frame.
pub async fn on_message(state: &AppState, connection_id: &str, body: &str) -> Option<ServerMessage> {
    match handle_message(state, connection_id, body).await {
        Ok(reply) => reply,
        Err(e) => Some(ServerMessage::Error { error: e.code.into(), message: e.message }),
    }
}

async fn handle_message(state: &AppState, connection_id: &str, body: &str) -> Result<Option<ServerMessage>, ApiError> {
    let request = decode_client_message(body)?;
    if let ClientRequest::Cursor { room, target, selection } = request {
        cursor(state, connection_id, room, target, selection).await?;
        return Ok(None);
    }
    handle_request(state, connection_id, request).await.map(Some)
}

async fn handle_request(
    state: &AppState,
    connection_id: &str,
    request: ClientRequest,
) -> Result<ServerMessage, ApiError> {
    let store = state.store()?;
    let persona = store
        .ws_persona(connection_id)
        .await?
        .and_then(|p| Persona::from_key(&p))
        .ok_or_else(|| ApiError::not_found("unknown connection"))?;
    match request {
        ClientRequest::Ping => Ok(ServerMessage::Pong),
        ClientRequest::Subscribe { channel, after_tick } => {
            channel_allowed(persona, &channel)?;
            if let Some(id) = channel.strip_prefix("sim:") {
                return subscribe_sim(state, connection_id, &channel, id, after_tick).await;
            }
            if let Some(id) = channel.strip_prefix("room:") {
                return subscribe_room(state, connection_id, &channel, id).await;
            }
            store.ws_subscribe(connection_id, &channel).await?;
            Ok(subscribed(channel))
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
            Ok(ServerMessage::Unsubscribed { count: n as i64 })
        }
        ClientRequest::Cursor { .. } => Err(ApiError::internal()),
    }
}

/// `room:<id>`: the others hear the new member joined (unless already there through another
/// connection), the new member gets the room's state.
async fn subscribe_room(
    state: &AppState,
    connection_id: &str,
    channel: &str,
    id: &str,
) -> Result<ServerMessage, ApiError> {
    let store = state.store()?;
    let room_id = Uuid::parse_str(id).map_err(|_| ApiError::bad_request(format!("{id:?} is not a room id")))?;
    if store.room(room_id).await?.is_none() {
        return Err(ApiError::not_found(format!("room {room_id} not found")));
    }
    let conn = store.ws_connection(connection_id).await?.ok_or_else(|| ApiError::not_found("unknown connection"))?;
    let member = member_of(&conn);
    let ctx = state.pipeline_context()?;
    if !store.member_present_elsewhere(channel, &member, connection_id).await? {
        let join = ServerMessage::Presence {
            channel: channel.into(),
            event: "join".into(),
            member: crate::handlers::rooms::member(&member),
        };
        ctx.notifier.publish(channel, &join).await;
    }
    store.ws_subscribe(connection_id, channel).await?;
    let members: Vec<Member> =
        store.channel_members(channel).await?.iter().map(crate::handlers::rooms::member).collect();
    let cursors: Vec<Cursor> = store.room_cursors(room_id).await?.iter().map(cursor_of).collect();
    for frame in cursor_frames(channel, cursors, Some(members)) {
        ctx.notifier.send_to(connection_id, &frame).await;
    }
    Ok(subscribed(channel.into()))
}

/// The `subscribed` reply of a channel without a replay.
fn subscribed(channel: String) -> ServerMessage {
    ServerMessage::Subscribed { channel, after_tick: None, through_tick: None, replayed_events: None }
}

/// A recorded cursor as the room sees it (a stored target that is not one the client messages
/// allow reads as none).
fn cursor_of(c: &CursorRow) -> Cursor {
    Cursor {
        user: c.user_name.clone(),
        persona: c.persona.clone(),
        target: c.target.as_ref().and_then(|t| serde_json::from_value(t.0.clone()).ok()),
        selection: c.selection.clone(),
        at: c.at,
    }
}

/// The cursor frames of a room, each under 32 KB: one frame unless the room is very large, then
/// `part`/`parts`. With `members`, they are `room_state` frames (members ride on the first);
/// without, `cursors` frames.
pub fn cursor_frames(channel: &str, cursors: Vec<Cursor>, members: Option<Vec<Member>>) -> Vec<ServerMessage> {
    // Room for the envelope and the members of the first frame.
    let budget = exomaps_pipeline::notify::MAX_MESSAGE_BYTES - 512;
    let members_size = members.as_ref().map_or(0, |m| serde_json::to_vec(m).map_or(0, |b| b.len()));
    let state = members.is_some();
    let mut parts: Vec<Vec<Cursor>> = vec![Vec::new()];
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
            let channel = channel.to_string();
            let (part, parts) = if total > 1 { (Some(i as i64 + 1), Some(total as i64)) } else { (None, None) };
            if state {
                // Members ride on the first part only.
                let members = members.take().unwrap_or_default();
                ServerMessage::RoomState { channel, members, cursors, part, parts }
            } else {
                ServerMessage::Cursors { channel, cursors, part, parts }
            }
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
        let cursors: Vec<Cursor> = store.room_cursors(room_id).await?.iter().map(cursor_of).collect();
        let ctx = state.pipeline_context()?;
        for frame in cursor_frames(&channel, cursors, None) {
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
) -> Result<ServerMessage, ApiError> {
    let sim_id =
        uuid::Uuid::parse_str(id).map_err(|_| ApiError::bad_request(format!("{id:?} is not a simulation id")))?;
    if after_tick.is_some_and(|t| t < -1) {
        return Err(ApiError::bad_request("after_tick must be ≥ -1"));
    }
    let ctx = state.pipeline_context()?;
    let sim = exomaps_pipeline::sim::get(&ctx.store, sim_id).await?;
    let done = exomaps_pipeline::sim::subscribe(&ctx, connection_id, &sim, after_tick).await?;
    Ok(ServerMessage::Subscribed {
        channel: channel.into(),
        after_tick: Some(done.after_tick),
        through_tick: Some(done.through_tick),
        replayed_events: Some(done.replayed_events as i64),
    })
}

#[cfg(test)]
mod room_tests {
    use super::*;
    use crate::frames::CursorTarget;
    use serde_json::json;

    /// A cursor with every field at its largest (128-character username, 100-character ids).
    fn widest(i: usize) -> Cursor {
        Cursor {
            user: format!("{i:03}{}", "u".repeat(125)),
            persona: "science_analyst".into(),
            target: Some(CursorTarget::System { system_id: "s".repeat(100) }),
            selection: Some("x".repeat(100)),
            at: "2026-12-05T01:41:38.123Z".parse().unwrap(),
        }
    }

    #[test]
    fn fifty_widest_cursors_fit_one_frame_and_more_split_under_32_kb() {
        let channel = format!("room:{}", Uuid::nil());
        let frames = cursor_frames(&channel, (0..50).map(widest).collect(), None);
        assert_eq!(frames.len(), 1);
        let first = serde_json::to_value(&frames[0]).unwrap();
        let bytes = frames[0].to_string().len();
        assert!(bytes < 32 * 1024, "{bytes}");
        assert_eq!(first["type"], "cursors");
        assert!(first.get("part").is_none());
        assert_eq!(first["cursors"][0]["at"], "2026-12-05T01:41:38.123Z", "milliseconds, as the SPA reads them");
        assert_eq!(first["cursors"][0]["target"], json!({"system_id": "s".repeat(100)}));

        let members: Vec<Member> =
            (0..200).map(|i| Member { user: format!("{i}"), persona: "general_user".into() }).collect();
        let frames = cursor_frames(&channel, (0..200).map(widest).collect(), Some(members));
        assert!(frames.len() > 1);
        let mut seen = 0;
        for (i, f) in frames.iter().enumerate() {
            assert!(f.to_string().len() < exomaps_pipeline::notify::MAX_MESSAGE_BYTES);
            let f = serde_json::to_value(f).unwrap();
            assert_eq!(f["type"], "room_state");
            assert_eq!((f["part"].as_u64(), f["parts"].as_u64()), (Some(i as u64 + 1), Some(frames.len() as u64)));
            assert_eq!(
                f["members"].as_array().map(Vec::len),
                Some(if i == 0 { 200 } else { 0 }),
                "members ride on the first part"
            );
            seen += f["cursors"].as_array().unwrap().len();
        }
        assert_eq!(seen, 200);
    }

    #[test]
    fn replies_keep_their_wire_shape() {
        let text = |m: ServerMessage| serde_json::from_str::<Value>(&m.to_string()).unwrap();
        assert_eq!(text(ServerMessage::Pong), json!({"type": "pong"}));
        assert_eq!(text(subscribed("data".into())), json!({"type": "subscribed", "channel": "data"}));
        assert_eq!(text(ServerMessage::Unsubscribed { count: 2 }), json!({"type": "unsubscribed", "count": 2}));
        assert_eq!(
            text(ServerMessage::Error { error: "bad_request".into(), message: "no".into() }),
            json!({"type": "error", "error": "bad_request", "message": "no"})
        );
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

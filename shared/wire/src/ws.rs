//! WebSocket client messages: `{"action":"subscribe","channel":"runs:<run_id>"}` (or
//! `"run_id":…`; `"after_tick":N` on `sim:<id>` channels), `{"action":"unsubscribe","channel"?}`,
//! `{"action":"ping"}`, `{"action":"cursor","room","target","selection"}` (a room member's
//! cursor), and which personas may follow which channel.

use exomaps_domain::persona::Persona;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

/// Longest system id a cursor (or an annotation) names.
pub const MAX_SYSTEM_ID_CHARS: usize = 100;

/// Largest client message accepted (API Gateway's frame limit is 32 KB).
pub const MAX_CLIENT_MESSAGE: usize = 32 * 1024;

// The one definition of the client message: the decoder reads it, the API's OpenAPI document
// publishes it (feature `openapi`); `decode_client_message` turns it into a checked ClientRequest.
/// Client → server WebSocket message.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClientMessage {
    /// `subscribe`, `unsubscribe`, `ping` or `cursor` (no reply when accepted).
    pub action: String,
    /// `runs:<run_id>`, `data`, `admin`, `sim:<sim_id>` or `room:<room_id>`.
    pub channel: Option<String>,
    /// Older clients: `runs:<run_id>` as a bare run id (`channel` wins).
    pub run_id: Option<String>,
    /// `sim:<sim_id>` only: first replay every event with a tick after this one (-1: from the
    /// start), then live batches — each event exactly once, in (tick, seq) order.
    pub after_tick: Option<i64>,
    /// `cursor`: the room id, `<uuid>` or `room:<uuid>` (after subscribing to `room:<id>`).
    pub room: Option<String>,
    /// `cursor`: what the pointer is on (null: nothing).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<CursorTarget>))]
    pub target: Option<Value>,
    /// `cursor`: the selected system (main_id), or null.
    #[serde(default)]
    pub selection: Option<String>,
}

/// What a cursor points at.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged, deny_unknown_fields)]
pub enum CursorTarget {
    /// A system (main_id).
    System { system_id: String },
    /// A point in light-years, [x, y, z].
    Point { point: [f64; 3] },
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

/// Why a client message was refused (each a 400 for the client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Text the server cannot store: the field (`message /channel`) holding a NUL.
    Text(String),
    /// A control character (its code point) in a short text field.
    Control(String, u32),
    /// Anything else, with the message for the client.
    Invalid(String),
}

/// A system id in a cursor: 1..=MAX_SYSTEM_ID_CHARS characters, no control character.
fn check_system_id(field: &str, s: &str) -> Result<(), DecodeError> {
    let n = s.chars().count();
    if n == 0 || n > MAX_SYSTEM_ID_CHARS || s.trim().is_empty() {
        return Err(DecodeError::Invalid(format!("{field} must be 1–{MAX_SYSTEM_ID_CHARS} characters")));
    }
    match s.chars().find(|c| c.is_control()) {
        Some(c) => Err(DecodeError::Control(field.to_string(), c as u32)),
        None => Ok(()),
    }
}

/// Checks a cursor's target: null, `{"system_id": "<id>"}` or `{"point": [x, y, z]}` (finite).
fn cursor_target(target: Option<Value>) -> Result<Option<Value>, DecodeError> {
    let bad = || DecodeError::Invalid("cursor target is null, {\"system_id\": …} or {\"point\": [x, y, z]}".into());
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
            check_system_id("target.system_id", id)?;
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
pub fn decode_client_message(body: &str) -> Result<ClientRequest, DecodeError> {
    let invalid = |m: &str| DecodeError::Invalid(m.to_string());
    if body.len() > MAX_CLIENT_MESSAGE {
        return Err(invalid("message larger than 32 KB"));
    }
    if let Some(pointer) = crate::text::json_text_nul(body.as_bytes()) {
        return Err(DecodeError::Text(format!("message {pointer}")));
    }
    let msg: ClientMessage = serde_json::from_str(body)
        .map_err(|e| DecodeError::Invalid(format!("messages are JSON objects with an \"action\": {e}")))?;
    let channel = msg.channel.or(msg.run_id.map(|id| format!("runs:{id}")));
    match msg.action.as_str() {
        "ping" => Ok(ClientRequest::Ping),
        "subscribe" => {
            let channel = channel.ok_or_else(|| invalid("subscribe needs a \"channel\""))?;
            if msg.after_tick.is_some() && !channel.starts_with("sim:") {
                return Err(invalid("after_tick applies to sim:<id> channels only"));
            }
            Ok(ClientRequest::Subscribe { channel, after_tick: msg.after_tick })
        }
        "unsubscribe" => Ok(ClientRequest::Unsubscribe(channel)),
        "cursor" => {
            let raw = msg.room.ok_or_else(|| invalid("cursor needs a \"room\""))?;
            let room = Uuid::parse_str(raw.strip_prefix("room:").unwrap_or(&raw))
                .map_err(|_| DecodeError::Invalid(format!("{raw:?} is not a room id")))?;
            if let Some(sel) = &msg.selection {
                check_system_id("selection", sel)?;
            }
            Ok(ClientRequest::Cursor { room, target: cursor_target(msg.target)?, selection: msg.selection })
        }
        other => Err(DecodeError::Invalid(format!("unknown action {other:?} (subscribe, unsubscribe, ping, cursor)"))),
    }
}

/// The personas that may follow `channel`, or `None` for a channel that does not exist.
pub fn channel_personas(channel: &str) -> Option<&'static [Persona]> {
    use Persona::*;
    if channel == "data" || channel.starts_with("sim:") || channel.starts_with("room:") {
        Some(&Persona::ALL)
    } else if channel.starts_with("runs:") {
        Some(&[Admin, DataCurator, OpsEngineer, ScienceAnalyst])
    } else if channel == "admin" {
        Some(&[Admin])
    } else {
        None
    }
}

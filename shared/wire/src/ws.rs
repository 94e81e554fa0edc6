//! WebSocket client messages: `{"action":"subscribe","channel":"runs:<run_id>"}` (or
//! `"run_id":…`; `"after_tick":N` on `sim:<id>` channels), `{"action":"unsubscribe","channel"?}`,
//! `{"action":"ping"}`, and which personas may follow which channel.

use exomaps_domain::persona::Persona;
use serde::Deserialize;

/// Largest client message accepted (API Gateway's frame limit is 32 KB).
pub const MAX_CLIENT_MESSAGE: usize = 32 * 1024;

#[derive(Deserialize)]
struct ClientMessage {
    action: String,
    channel: Option<String>,
    run_id: Option<String>,
    /// `sim:<id>` only: replay the events of ticks after this one first (-1: from the start).
    after_tick: Option<i64>,
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
}

/// Why a client message was refused (each a 400 for the client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Text the server cannot store: the field (`message /channel`) holding a NUL.
    Text(String),
    /// Anything else, with the message for the client.
    Invalid(String),
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
        other => Err(DecodeError::Invalid(format!("unknown action {other:?} (subscribe, unsubscribe, ping)"))),
    }
}

/// The personas that may follow `channel`, or `None` for a channel that does not exist.
pub fn channel_personas(channel: &str) -> Option<&'static [Persona]> {
    use Persona::*;
    if channel == "data" || channel.starts_with("sim:") {
        Some(&Persona::ALL)
    } else if channel.starts_with("runs:") {
        Some(&[Admin, DataCurator, OpsEngineer, ScienceAnalyst])
    } else if channel == "admin" {
        Some(&[Admin])
    } else {
        None
    }
}

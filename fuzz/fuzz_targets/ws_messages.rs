//! Fuzz the WebSocket client message decoder (`exomaps_wire::ws::decode_client_message`, which
//! `exomaps_api::ws` wraps) and the channel permission table: never a panic; an accepted message is within the size limit and holds no
//! NUL (text PostgreSQL refuses).
//!
//! Run: `cargo +nightly fuzz run ws_messages` (from the repository root).
#![no_main]

use exomaps_wire::ws::{ClientRequest, DecodeError, MAX_CLIENT_MESSAGE, channel_personas, decode_client_message};
use exomaps_domain::persona::Persona;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = std::str::from_utf8(data) else { return };
    match decode_client_message(body) {
        Ok(req) => {
            assert!(body.len() <= MAX_CLIENT_MESSAGE);
            let channel = match &req {
                ClientRequest::Subscribe { channel, .. } => Some(channel.as_str()),
                ClientRequest::Unsubscribe(c) => c.as_deref(),
                ClientRequest::Ping => None,
                ClientRequest::Cursor { target, selection, .. } => {
                    // A cursor carries no control character (nor NUL) into the store.
                    let text = format!("{target:?}{selection:?}");
                    assert!(!selection.as_deref().unwrap_or("").chars().any(char::is_control), "{text}");
                    None
                }
            };
            if let Some(c) = channel {
                assert!(!c.contains('\0'), "a NUL reached the store: {c:?}");
                if let Some(personas) = channel_personas(c) {
                    assert!(personas.iter().all(|p| Persona::ALL.contains(p)));
                }
            }
        }
        // A refusal names the field holding a NUL, or says what is wrong.
        Err(DecodeError::Text(field)) => assert!(field.starts_with("message "), "{field:?}"),
        Err(DecodeError::Control(field, c)) => {
            assert!(char::from_u32(c).is_some_and(char::is_control), "{field:?} U+{c:04X}")
        }
        Err(DecodeError::Invalid(message)) => assert!(!message.is_empty()),
    }
});

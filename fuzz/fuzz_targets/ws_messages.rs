//! Fuzz the WebSocket client message decoder (`ws::decode_client_message`) and the channel
//! permission check: never a panic; an accepted message is within the size limit and holds no
//! NUL (text PostgreSQL refuses).
//!
//! Run: `cargo +nightly fuzz run ws_messages` (from the repository root).
#![no_main]

use exomaps_api::ws::{ClientRequest, MAX_CLIENT_MESSAGE, channel_allowed, decode_client_message};
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
                ClientRequest::Ping | ClientRequest::Cursor { .. } => None,
            };
            if let Some(c) = channel {
                assert!(!c.contains('\0'), "a NUL reached the store: {c:?}");
                for p in Persona::ALL {
                    let _ = channel_allowed(p, c);
                }
            }
        }
        Err(e) => assert!(e.status.is_client_error(), "{e:?}"),
    }
});

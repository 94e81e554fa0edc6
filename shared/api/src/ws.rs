//! The WebSocket channel (DOMAIN.md §8.4): `$connect`, `$disconnect` and `$default` handlers,
//! shared by the API Gateway WebSocket Lambdas and the local gateway's `/ws`.
//!
//! Client → server: `{"action":"subscribe","channel":"runs:<run_id>"}` (or `"run_id":…`;
//! `{"action":"subscribe","channel":"sim:<id>","after_tick":N}` replays a simulation's missed
//! events first, see `exomaps_pipeline::sim::subscribe`),
//! `{"action":"unsubscribe","channel"?}`, `{"action":"ping"}`. Replies: `{"type":"subscribed",
//! "channel"}`, `{"type":"unsubscribed","count"}`, `{"type":"pong"}`, `{"type":"error","error",
//! "message"}`. Server pushes go through `exomaps_pipeline::notify`.

use crate::auth::Caller;
use crate::{ApiError, AppState};
use exomaps_domain::persona::Persona;
use http::StatusCode;
use serde_json::{Value, json};

/// The WebSocket functions: (function name, API Gateway route key).
pub const WS_ROUTES: &[(&str, &str)] =
    &[("ws-connect", "$connect"), ("ws-disconnect", "$disconnect"), ("ws-default", "$default")];

/// The client messages (pure; in `exomaps-wire`, which `fuzz/` fuzzes).
pub use exomaps_wire::ws::{ClientRequest, MAX_CLIENT_MESSAGE};

/// May this persona follow this channel?
pub fn channel_allowed(persona: Persona, channel: &str) -> Result<(), ApiError> {
    let Some(allowed) = exomaps_wire::ws::channel_personas(channel) else {
        return Err(ApiError::bad_request(format!("unknown channel {channel:?} (runs:<run_id>, data, admin)")));
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

/// `$disconnect`: forgets the connection and its subscriptions.
pub async fn on_disconnect(state: &AppState, connection_id: &str) -> Result<(), ApiError> {
    state.store()?.ws_disconnect(connection_id).await?;
    Ok(())
}

/// Decodes one client message ([`exomaps_wire::ws::decode_client_message`], pure, fuzzed):
/// size, text (no NUL), JSON shape and action, each refusal a 400. Permission checks on the
/// channel come after, with the connection's persona.
pub fn decode_client_message(body: &str) -> Result<ClientRequest, ApiError> {
    use exomaps_wire::ws::DecodeError;
    exomaps_wire::ws::decode_client_message(body).map_err(|e| match e {
        DecodeError::Text(field) => crate::text::invalid_text(&field),
        DecodeError::Invalid(message) => ApiError::bad_request(message),
    })
}

/// `$default`: one client message in, one reply out (errors are replies too, never a close).
pub async fn on_message(state: &AppState, connection_id: &str, body: &str) -> Value {
    match handle_message(state, connection_id, body).await {
        Ok(reply) => reply,
        Err(e) => json!({"type": "error", "error": e.code, "message": e.message}),
    }
}

async fn handle_message(state: &AppState, connection_id: &str, body: &str) -> Result<Value, ApiError> {
    let request = decode_client_message(body)?;
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
            store.ws_subscribe(connection_id, &channel).await?;
            Ok(json!({"type": "subscribed", "channel": channel}))
        }
        ClientRequest::Unsubscribe(channel) => {
            let n = store.ws_unsubscribe(connection_id, channel.as_deref()).await?;
            Ok(json!({"type": "unsubscribed", "count": n}))
        }
    }
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

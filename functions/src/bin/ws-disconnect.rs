//! Lambda for the WebSocket route of `ws-disconnect` (see exomaps_api::ws::WS_ROUTES).
fn main() -> Result<(), exomaps_api::lambda::Error> {
    exomaps_api::lambda::run_ws("ws-disconnect")
}

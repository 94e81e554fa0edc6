//! Lambda for the WebSocket route of `ws-disconnect` (see exomaps_api::ws::WS_ROUTES).
fn main() -> Result<(), exomaps_lambda::Error> {
    exomaps_lambda::run_ws("ws-disconnect")
}

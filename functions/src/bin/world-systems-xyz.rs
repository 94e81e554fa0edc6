//! Lambda for the `world-systems-xyz` route (see exomaps_api::routes::ROUTES).
fn main() -> Result<(), exomaps_lambda::Error> {
    exomaps_lambda::run_route("world-systems-xyz")
}

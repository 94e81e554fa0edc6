//! Lambda for the `world-systems-full` route (see exomaps_api::routes::ROUTES).
fn main() -> Result<(), exomaps_lambda::Error> {
    exomaps_lambda::run_route("world-systems-full")
}

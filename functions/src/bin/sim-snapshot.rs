//! Lambda for the `sim-snapshot` route (see exomaps_api::routes::ROUTES).
fn main() -> Result<(), exomaps_lambda::Error> {
    exomaps_lambda::run_route("sim-snapshot")
}

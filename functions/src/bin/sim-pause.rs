//! Lambda for the `sim-pause` route (see exomaps_api::routes::ROUTES).
fn main() -> Result<(), exomaps_api::lambda::Error> {
    exomaps_api::lambda::run_route("sim-pause")
}

//! Lambda for the `rooms-get` route (see exomaps_api::routes::ROUTES).
fn main() -> Result<(), exomaps_api::lambda::Error> {
    exomaps_api::lambda::run_route("rooms-get")
}

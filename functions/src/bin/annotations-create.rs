//! Lambda for the `annotations-create` route (see exomaps_api::routes::ROUTES).
fn main() -> Result<(), exomaps_lambda::Error> {
    exomaps_lambda::run_route("annotations-create")
}

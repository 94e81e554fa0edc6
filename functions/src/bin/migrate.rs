//! Lambda behind the `Custom::Migrations` resource of infra/template.yaml: applies the migrations
//! on every deploy (see exomaps_api::migrate).
fn main() -> Result<(), exomaps_api::lambda::Error> {
    exomaps_api::migrate::run()
}

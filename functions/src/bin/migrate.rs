//! Lambda behind the `Custom::Migrations` resource of infra/template.yaml: applies the migrations
//! on every deploy (see exomaps_api::migrate).
fn main() -> Result<(), exomaps_lambda::Error> {
    exomaps_lambda::run_migrate()
}

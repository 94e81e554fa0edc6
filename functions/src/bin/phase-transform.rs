//! Lambda for the `transform` pipeline phase (SQS-triggered; see exomaps_pipeline::chain).
fn main() -> Result<(), exomaps_api::lambda::Error> {
    exomaps_api::lambda::run_phase("transform")
}

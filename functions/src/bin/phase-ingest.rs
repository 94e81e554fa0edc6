//! Lambda for the `ingest` pipeline phase (SQS-triggered; see exomaps_pipeline::chain).
fn main() -> Result<(), exomaps_api::lambda::Error> {
    exomaps_api::lambda::run_phase("ingest")
}

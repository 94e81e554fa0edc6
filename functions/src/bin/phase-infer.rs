//! Lambda for the `infer` pipeline phase (SQS-triggered; see exomaps_pipeline::chain).
fn main() -> Result<(), exomaps_lambda::Error> {
    exomaps_lambda::run_phase("infer")
}

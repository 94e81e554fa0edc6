//! Lambda consuming every pipeline phase's dead-letter queue: a dead-lettered phase message
//! fails its run with the phase and the cause (see exomaps_pipeline::aws::handle_dlq_batch).
fn main() -> Result<(), exomaps_lambda::Error> {
    exomaps_lambda::run_phase_dlq()
}

//! Lambda for the simulation tick queue (SQS FIFO-triggered; see exomaps_pipeline::sim::handle_tick).
fn main() -> Result<(), exomaps_lambda::Error> {
    exomaps_lambda::run_sim_tick()
}

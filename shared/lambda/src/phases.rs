//! The SQS-triggered functions: the pipeline phases, the dead-letter consumer and the simulation
//! tick. Their context comes from the database configuration
//! ([`PipelineConfig`](exomaps_pipeline::config::PipelineConfig)) and the [`Wiring`]: nothing
//! here touches `exomaps_api` (no `AppState`, no signing keys), so a phase binary links none of
//! the HTTP API's code.

use crate::{Error, Wiring, init_tracing, runtime};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use exomaps_domain::coords::Scope;
use exomaps_pipeline::aws::SqsQueues;
use exomaps_pipeline::chain::{Phase, PipelineContext};
use exomaps_pipeline::config::PipelineConfig;
use exomaps_store::Store;
use lambda_http::lambda_runtime::{self, LambdaEvent};
use lambda_http::service_fn;
use std::sync::Arc;

/// The binary name of the dead-letter consumer ([`run_phase_dlq`]).
pub const PHASE_DLQ_FUNCTION: &str = "phase-dlq";

/// The pipeline context of a function: the store, the scope, pushes through the WebSocket API
/// (`wiring.ws_endpoint`, the management endpoint) and published files to the SPA bucket
/// (`wiring.spa_bucket`) — each only when configured.
pub async fn pipeline_context(store: Store, scope: Scope, wiring: &Wiring) -> PipelineContext {
    use exomaps_pipeline::aws::{S3Sink, SdkBroadcast};
    use exomaps_pipeline::notify::{Broadcast, Notifier};
    use exomaps_pipeline::objects::ObjectSink;
    let sdk = exomaps_platform::aws::config().await;
    let broadcaster: Option<Arc<dyn Broadcast>> = wiring.ws_endpoint.clone().map(|endpoint| {
        let b = exomaps_platform::broadcast::Broadcaster::new(sdk);
        Arc::new(SdkBroadcast::new(b, endpoint)) as Arc<dyn Broadcast>
    });
    let objects: Option<Arc<dyn ObjectSink>> = wiring.spa_bucket.clone().map(|bucket| {
        let store = exomaps_platform::objects::ObjectStore::new(exomaps_platform::aws::s3_client(sdk), bucket);
        Arc::new(S3Sink::new(store)) as Arc<dyn ObjectSink>
    });
    PipelineContext { notifier: Notifier::new(store.clone(), broadcaster), store, scope, objects }
}

/// What an SQS-triggered function does with one batch, given the process's pipeline context
/// and queues (to send the next message).
type SqsBatchFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = SqsBatchResponse> + Send + 'a>>;

/// The shared `main` of the SQS-triggered functions: configuration, store, pipeline context and
/// queues are built once, before the first batch; then every batch goes through `handle`, whose
/// failures are `batchItemFailures`.
fn run_sqs_function(
    handle: impl for<'a> Fn(&'a PipelineContext, &'a SqsQueues, SqsEvent) -> SqsBatchFuture<'a> + Copy + Send + Sync,
) -> Result<(), Error> {
    init_tracing(true);
    let config = PipelineConfig::from_env()?;
    let wiring = Wiring::from_env();
    runtime()?.block_on(async move {
        // The pool needs the runtime's context, so the store is built inside it.
        let store = config.store().await?.ok_or(
            "no database configured: set DATABASE_URL or EXOMAPS_DB_SECRET_ID (the database credentials secret)",
        )?;
        let ctx = pipeline_context(store, config.scope, &wiring).await;
        let sqs = exomaps_platform::aws::sqs_client(exomaps_platform::aws::config().await);
        let queues = SqsQueues::new(sqs, wiring.queue_urls.clone());
        let (ctx, queues) = (&ctx, &queues);
        lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
            Ok::<_, Error>(handle(ctx, queues, event.payload).await)
        }))
        .await
    })
}

/// The whole `main` of a pipeline phase function: an SQS-triggered Lambda that runs each
/// message of its batch through the phase, sends the next phase's message, and reports
/// `batchItemFailures`.
pub fn run_phase(name: &str) -> Result<(), Error> {
    let phase = Phase::from_name(name).ok_or_else(|| format!("no pipeline phase {name:?}"))?;
    run_sqs_function(move |ctx, queues, event| Box::pin(exomaps_pipeline::aws::handle_batch(ctx, queues, phase, event)))
}

/// The whole `main` of the dead-letter consumer (`phase-dlq`): an SQS-triggered Lambda on every
/// phase's DLQ; each dead-lettered message fails the run it names with the phase and the cause
/// (`exomaps_pipeline::aws::handle_dlq_batch`), so no run stays `running` after its message
/// died with a crashed or timed-out function.
pub fn run_phase_dlq() -> Result<(), Error> {
    run_sqs_function(|ctx, _, event| Box::pin(exomaps_pipeline::aws::handle_dlq_batch(ctx, event)))
}

/// The whole `main` of the simulation tick function: an SQS-triggered Lambda on the FIFO tick
/// queue; each message is one batch of ticks (`exomaps_pipeline::sim::handle_tick`), the next
/// message is sent while the simulation runs, failures are `batchItemFailures`.
pub fn run_sim_tick() -> Result<(), Error> {
    run_sqs_function(|ctx, queues, event| Box::pin(exomaps_pipeline::aws::handle_sim_batch(ctx, queues, event)))
}

//! The pipeline's ports on AWS: SQS queues for phase messages, the SPA bucket for published
//! files, the API Gateway Management API for pushes — and the SQS batch handler every phase
//! Lambda runs.

use crate::chain::{self, HandleError, Phase, PipelineContext};
use crate::notify::{Broadcast, PostOutcome};
use crate::objects::{ObjectSink, PutFuture};
use crate::queue::{FifoMessage, FifoQueue, Queues, SendFuture};
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use exomaps_platform::broadcast::{Broadcaster, Delivery};
use exomaps_platform::objects::{ObjectStore, PutOptions};
use exomaps_platform::queue::QueuePublisher;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use tokio::sync::OnceCell;

/// The phase queues on SQS. A phase's queue URL comes from `EXOMAPS_QUEUE_<PHASE>_URL` (the
/// template passes them) or is looked up by name (`exomaps-pipeline-<phase>`) on first use.
pub struct SqsQueues {
    client: aws_sdk_sqs::Client,
    urls: HashMap<Phase, String>,
    publishers: HashMap<Phase, OnceCell<QueuePublisher>>,
    /// The simulation tick FIFO queue: `EXOMAPS_QUEUE_SIM_TICK_URL`, else looked up by name.
    sim_tick: OnceCell<QueuePublisher>,
}

impl SqsQueues {
    pub fn new(client: aws_sdk_sqs::Client, urls: HashMap<Phase, String>) -> SqsQueues {
        let publishers = Phase::ALL.into_iter().map(|p| (p, OnceCell::new())).collect();
        SqsQueues { client, urls, publishers, sim_tick: OnceCell::new() }
    }

    /// The same queues with the simulation tick queue at `url` (instead of the environment).
    pub fn with_sim_tick_url(self, url: impl Into<String>) -> SqsQueues {
        let cell = OnceCell::new_with(Some(QueuePublisher::with_url(self.client.clone(), url)));
        SqsQueues { sim_tick: cell, ..self }
    }

    /// The simulation tick queue's URL from `EXOMAPS_QUEUE_SIM_TICK_URL`, when set.
    pub fn sim_tick_url_from_env() -> Option<String> {
        std::env::var(FifoQueue::SimTick.url_env()).ok().filter(|v| !v.is_empty())
    }

    async fn fifo_publisher(&self, queue: FifoQueue) -> Result<&QueuePublisher, String> {
        let FifoQueue::SimTick = queue;
        self.sim_tick
            .get_or_try_init(|| async {
                match SqsQueues::sim_tick_url_from_env() {
                    Some(url) => Ok(QueuePublisher::with_url(self.client.clone(), url)),
                    None => QueuePublisher::by_name(self.client.clone(), queue.queue_name())
                        .await
                        .map_err(|e| e.to_string()),
                }
            })
            .await
    }

    /// Queue URLs from `EXOMAPS_QUEUE_<PHASE>_URL`.
    pub fn urls_from_env() -> HashMap<Phase, String> {
        Phase::ALL
            .into_iter()
            .filter_map(|p| {
                let key = format!("EXOMAPS_QUEUE_{}_URL", p.as_str().to_uppercase());
                std::env::var(key).ok().filter(|v| !v.is_empty()).map(|url| (p, url))
            })
            .collect()
    }

    async fn publisher(&self, phase: Phase) -> Result<&QueuePublisher, String> {
        let cell = &self.publishers[&phase];
        cell.get_or_try_init(|| async {
            match self.urls.get(&phase) {
                Some(url) => Ok(QueuePublisher::with_url(self.client.clone(), url.clone())),
                None => {
                    QueuePublisher::by_name(self.client.clone(), &phase.queue_name()).await.map_err(|e| e.to_string())
                }
            }
        })
        .await
    }
}

impl Queues for SqsQueues {
    fn send(&self, phase: Phase, body: String) -> SendFuture<'_> {
        Box::pin(async move {
            let publisher = self.publisher(phase).await?;
            let value: serde_json::Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
            publisher.send_json(&value).await.map(|_| ()).map_err(|e| e.to_string())
        })
    }

    fn send_fifo(&self, queue: FifoQueue, message: FifoMessage) -> SendFuture<'_> {
        Box::pin(async move {
            let publisher = self.fifo_publisher(queue).await?;
            publisher
                .send_fifo(message.body, &message.group_id, &message.dedup_id)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }
}

/// Pushes through the API Gateway Management API of one WebSocket API stage.
pub struct SdkBroadcast {
    broadcaster: Broadcaster,
    endpoint: String,
}

impl SdkBroadcast {
    pub fn new(broadcaster: Broadcaster, endpoint: impl Into<String>) -> SdkBroadcast {
        SdkBroadcast { broadcaster, endpoint: endpoint.into() }
    }
}

impl Broadcast for SdkBroadcast {
    fn post<'a>(
        &'a self,
        connection_id: &'a str,
        data: &'a [u8],
    ) -> Pin<Box<dyn Future<Output = PostOutcome> + Send + 'a>> {
        Box::pin(async move {
            match self.broadcaster.post(&self.endpoint, connection_id, data).await {
                Ok(Delivery::Delivered) => PostOutcome::Delivered,
                Ok(Delivery::Gone) => PostOutcome::Gone,
                Err(e) => PostOutcome::Failed(e.to_string()),
            }
        })
    }
}

/// Published files in the SPA bucket.
pub struct S3Sink {
    store: ObjectStore,
}

impl S3Sink {
    pub fn new(store: ObjectStore) -> S3Sink {
        S3Sink { store }
    }
}

impl ObjectSink for S3Sink {
    fn put<'a>(&'a self, key: &'a str, bytes: Vec<u8>, content_type: &'a str) -> PutFuture<'a> {
        Box::pin(async move {
            // The pointer changes with every build; assets are immutable (named by build id).
            let cache = if key.ends_with("latest.json") { "no-cache" } else { "public, max-age=31536000, immutable" };
            let options = PutOptions::new(content_type).cache_control(cache);
            self.store.put(key, bytes, &options).await.map(|_| ()).map_err(|e| e.to_string())
        })
    }
}

/// The queues' redrive `maxReceiveCount` (`EXOMAPS_MAX_RECEIVES`, default 5 as in the template).
fn max_receives() -> u32 {
    static MAX: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *MAX.get_or_init(|| {
        std::env::var("EXOMAPS_MAX_RECEIVES").ok().and_then(|v| v.trim().parse().ok()).filter(|n| *n > 0).unwrap_or(5)
    })
}

/// Sends what a handled message names: each shard message of a fan-out (on the ingest queue,
/// where parallel invocations take them), then the next phase's message.
pub async fn send_next(queues: &dyn Queues, handled: &chain::Handled) -> Result<(), String> {
    for shard in &handled.fanout {
        let msg = serde_json::to_string(shard).expect("a shard message serialises");
        queues.send(Phase::Ingest, msg).await.map_err(|e| format!("shard message not sent: {e}"))?;
    }
    if let Some(next) = handled.next {
        let msg = serde_json::to_string(&next).expect("a phase message serialises");
        queues.send(next.phase, msg).await.map_err(|e| format!("next message not sent: {e}"))?;
    }
    Ok(())
}

/// One SQS batch for `phase`: each message through [`chain::handle`]; the next phase's message
/// is sent before the current one counts as done. Failed messages are reported as
/// `batchItemFailures` (SQS redelivers them; after maxReceiveCount they go to the DLQ) while the
/// rest of the batch completes. A message failing its last delivery fails its run
/// ([`chain::dead_lettered`]).
pub async fn handle_batch(
    ctx: &PipelineContext,
    queues: &dyn Queues,
    phase: Phase,
    event: SqsEvent,
) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let body = record.body.unwrap_or_default();
        let outcome = match chain::handle(ctx, phase, &body).await {
            Ok(handled) => send_next(queues, &handled).await,
            Err(e) => Err(e.to_string()),
        };
        if let Err(reason) = &outcome {
            // The last delivery failed too: SQS's redrive moves the message to the phase's DLQ
            // now, so the run it names fails with the reason (no run stays `running` forever).
            let receives: u32 =
                record.attributes.get("ApproximateReceiveCount").and_then(|v| v.parse().ok()).unwrap_or(0);
            if receives >= max_receives() {
                match chain::dead_lettered(ctx, phase, &body, reason).await {
                    Ok(run) => tracing::error!(phase = phase.as_str(), message_id = %id, ?run, "message dead-lettered"),
                    Err(e) => tracing::error!(error = %e, "dead-lettered run not failed"),
                }
            }
        }
        if let Err(reason) = outcome {
            tracing::warn!(phase = phase.as_str(), message_id = %id, %reason, "message failed");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

/// One receive from `consumer` as Lambda's event-source mapping does it: the messages as an
/// `SqsEvent` (with their receive counts and, for a DLQ, the queue's ARN) through `handle`; what
/// it did not report failed is deleted, the failures come back after the visibility timeout.
/// Returns how many messages were received.
async fn poll_with<F, Fut>(
    consumer: &exomaps_platform::queue::QueueConsumer,
    wait: std::time::Duration,
    event_source_arn: Option<&str>,
    handle: F,
) -> Result<usize, String>
where
    F: FnOnce(SqsEvent) -> Fut,
    Fut: std::future::Future<Output = SqsBatchResponse>,
{
    let received = consumer.receive(10, wait).await.map_err(|e| e.to_string())?;
    if received.is_empty() {
        return Ok(0);
    }
    // The event Lambda's event source mapping would deliver (its types are non-exhaustive:
    // built from their defaults).
    let mut event = SqsEvent::default();
    event.records = received
        .iter()
        .map(|m| {
            let mut record = aws_lambda_events::event::sqs::SqsMessage::default();
            record.message_id = Some(m.message_id.clone());
            record.receipt_handle = Some(m.receipt_handle.clone());
            record.body = Some(m.body.clone());
            record.event_source_arn = event_source_arn.map(str::to_string);
            record.attributes = [("ApproximateReceiveCount".to_string(), m.receive_count.to_string())].into();
            record
        })
        .collect();
    let response = handle(event).await;
    let failed: std::collections::HashSet<&str> =
        response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    for m in &received {
        if !failed.contains(m.message_id.as_str()) {
            consumer.delete(&m.receipt_handle).await.map_err(|e| e.to_string())?;
        }
    }
    Ok(received.len())
}

/// A local stand-in for Lambda's SQS event-source mapping: receive a batch from a phase's
/// queue, run it through [`handle_batch`], delete what succeeded and leave the failures to be
/// redelivered after the visibility timeout (and moved to the DLQ by the queue's redrive
/// policy). Returns how many messages were received.
pub async fn poll_once(
    ctx: &PipelineContext,
    queues: &dyn Queues,
    phase: Phase,
    consumer: &exomaps_platform::queue::QueueConsumer,
    wait: std::time::Duration,
) -> Result<usize, String> {
    poll_with(consumer, wait, None, |event| handle_batch(ctx, queues, phase, event)).await
}

/// The phase whose dead-letter queue an SQS event record came from: the record's
/// `eventSourceARN` names the queue (`…:<stack>-pipeline-<phase>-dlq`).
pub fn dlq_phase(event_source_arn: &str) -> Option<Phase> {
    let queue = event_source_arn.rsplit(':').next()?;
    let name = queue.strip_suffix("-dlq")?;
    Phase::from_name(name.rsplit('-').next()?)
}

/// Why a dead-lettered message never completed, as far as the message tells: a poison message
/// names its defect; a well-formed one exhausted its deliveries without an answer (the function
/// crashed, timed out or failed on every one).
pub fn dead_letter_cause(phase: Phase, body: &str) -> String {
    match chain::decode(phase, body) {
        Err(HandleError::Poison(why)) => format!("poison message ({why})"),
        _ => format!(
            "no delivery completed in {} attempts (the function crashed, timed out or failed each time)",
            max_receives()
        ),
    }
}

/// The dead-letter queues' consumer (the `phase-dlq` function; [`poll_dlq_once`] locally): every
/// message that SQS moved to a phase's DLQ fails the run it names, with a reason naming the
/// phase and the cause ([`chain::dead_lettered`]; a run that already ended is left alone). A
/// record whose run cannot be failed now (database trouble) is reported as a batch item failure
/// and comes back; a record that names no run is logged and consumed.
pub async fn handle_dlq_batch(ctx: &PipelineContext, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let body = record.body.unwrap_or_default();
        let phase = record.event_source_arn.as_deref().and_then(dlq_phase).or_else(|| {
            match chain::decode(Phase::Ingest, &body) {
                Ok(_) => Some(Phase::Ingest),
                Err(_) => serde_json::from_str::<chain::PhaseMessage>(&body).ok().map(|m| m.phase),
            }
        });
        let Some(phase) = phase else {
            tracing::error!(message_id = %id, arn = ?record.event_source_arn, "dead letter from an unknown queue: dropped");
            continue;
        };
        let cause = dead_letter_cause(phase, &body);
        match chain::dead_lettered(ctx, phase, &body, &cause).await {
            Ok(run) => tracing::warn!(phase = phase.as_str(), message_id = %id, ?run, %cause, "dead letter consumed"),
            Err(e) => {
                tracing::error!(phase = phase.as_str(), message_id = %id, error = %e, "dead letter not recorded: retry");
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                response.batch_item_failures.push(failure);
            }
        }
    }
    response
}

/// A local stand-in for the `phase-dlq` function's event-source mapping on `phase`'s DLQ:
/// receive a batch, run it through [`handle_dlq_batch`], delete what was recorded. Returns how
/// many messages were received.
pub async fn poll_dlq_once(
    ctx: &PipelineContext,
    phase: Phase,
    consumer: &exomaps_platform::queue::QueueConsumer,
    wait: std::time::Duration,
) -> Result<usize, String> {
    let arn = format!("arn:aws:sqs:local:000000000000:{}-dlq", phase.queue_name());
    poll_with(consumer, wait, Some(&arn), |event| handle_dlq_batch(ctx, event)).await
}

/// One SQS batch from the simulation tick FIFO queue: each message through
/// [`crate::sim::handle_tick`], the follow-up sent before the message counts as done. FIFO: after
/// the first failure the rest of the batch is reported failed too (unprocessed), so a group
/// never runs out of order.
pub async fn handle_sim_batch(ctx: &PipelineContext, queues: &dyn Queues, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    let mut failed = false;
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let body = record.body.unwrap_or_default();
        let outcome = if failed {
            Err("an earlier message of the batch failed".to_string())
        } else {
            match crate::sim::handle_tick(ctx, &body, crate::sim::batch_budget()).await {
                Ok(handled) => match handled.next {
                    Some(next) => queues
                        .send_fifo(FifoQueue::SimTick, next.fifo_message())
                        .await
                        .map_err(|e| format!("next tick message not sent: {e}")),
                    None => Ok(()),
                },
                Err(e) => Err(e.to_string()),
            }
        };
        if let Err(reason) = outcome {
            if !failed {
                tracing::warn!(message_id = %id, %reason, "simulation tick message failed");
            }
            failed = true;
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

/// [`poll_once`] for the simulation tick FIFO queue (a local stand-in for its event-source
/// mapping).
pub async fn poll_sim_once(
    ctx: &PipelineContext,
    queues: &dyn Queues,
    consumer: &exomaps_platform::queue::QueueConsumer,
    wait: std::time::Duration,
) -> Result<usize, String> {
    poll_with(consumer, wait, None, |event| handle_sim_batch(ctx, queues, event)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dlq_arn_names_its_phase() {
        assert_eq!(dlq_phase("arn:aws:sqs:us-east-1:123:exomaps-pipeline-transform-dlq"), Some(Phase::Transform));
        assert_eq!(dlq_phase("arn:aws:sqs:us-east-1:123:t1-pipeline-ingest-dlq"), Some(Phase::Ingest));
        assert_eq!(dlq_phase("arn:aws:sqs:us-east-1:123:exomaps-pipeline-transform"), None, "not a DLQ");
        assert_eq!(dlq_phase("arn:aws:sqs:us-east-1:123:exomaps-sim-tick-dlq.fifo"), None);
        assert_eq!(dlq_phase(""), None);
    }

    #[test]
    fn the_cause_tells_poison_from_exhausted_deliveries() {
        let poison = dead_letter_cause(Phase::Transform, r#"{"run_id": "x", "phase": "transform"}"#);
        assert!(poison.starts_with("poison message ("), "{poison}");
        let wrong_queue =
            dead_letter_cause(Phase::Infer, &format!(r#"{{"run_id": "{}", "phase": "transform"}}"#, uuid::Uuid::nil()));
        assert!(wrong_queue.contains("a transform message on the infer queue"), "{wrong_queue}");
        let crashed = dead_letter_cause(
            Phase::Transform,
            &format!(r#"{{"run_id": "{}", "phase": "transform"}}"#, uuid::Uuid::nil()),
        );
        assert!(crashed.starts_with("no delivery completed in "), "{crashed}");
    }
}

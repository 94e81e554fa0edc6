//! Sending phase messages. In AWS each phase has an SQS queue (with a DLQ); locally the
//! gateway runs [`LocalQueues`], an in-process stand-in with the same semantics: every
//! message goes through [`chain::handle`], failures are redelivered after a delay, and a
//! message that fails `max_receives` times lands in the dead-letter list.

use crate::chain::{self, HandleError, Phase, PipelineContext};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// Where phase messages go: SQS queues in AWS, [`LocalQueues`] locally.
pub trait Queues: Send + Sync {
    fn send(&self, phase: Phase, body: String) -> SendFuture<'_>;
}

/// A message that exhausted its deliveries.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    pub phase: Phase,
    pub body: String,
    pub reason: String,
}

struct Delivery {
    phase: Phase,
    body: String,
    receives: u32,
}

/// The in-process queues of the local gateway.
#[derive(Clone)]
pub struct LocalQueues {
    tx: mpsc::UnboundedSender<Delivery>,
    dead: Arc<Mutex<Vec<DeadLetter>>>,
}

impl LocalQueues {
    /// Starts the worker. `max_receives` mirrors the DLQ redrive policy (maxReceiveCount).
    pub fn spawn(ctx: PipelineContext, max_receives: u32, retry_delay: Duration) -> LocalQueues {
        let (tx, mut rx) = mpsc::unbounded_channel::<Delivery>();
        let dead: Arc<Mutex<Vec<DeadLetter>>> = Arc::default();
        let queues = LocalQueues { tx: tx.clone(), dead: dead.clone() };
        tokio::spawn(async move {
            while let Some(d) = rx.recv().await {
                let receives = d.receives + 1;
                match chain::handle(&ctx, d.phase, &d.body).await {
                    Ok(handled) => {
                        if let Some(next) = handled.next {
                            let body = serde_json::to_string(&next).expect("a phase message serialises");
                            let _ = tx.send(Delivery { phase: next.phase, body, receives: 0 });
                        }
                    }
                    Err(e) if receives >= max_receives => {
                        tracing::error!(phase = d.phase.as_str(), error = %e, "message moved to the dead-letter list");
                        let reason = e.to_string();
                        // The DLQ side: the run the message names fails with the reason.
                        if let Err(err) = chain::dead_lettered(&ctx, d.phase, &d.body, &reason).await {
                            tracing::error!(error = %err, "dead-lettered run not failed");
                        }
                        dead.lock().expect("dead letters").push(DeadLetter { phase: d.phase, body: d.body, reason });
                    }
                    Err(e) => {
                        let delay = if matches!(e, HandleError::Poison(_)) { Duration::ZERO } else { retry_delay };
                        tracing::warn!(phase = d.phase.as_str(), error = %e, receives, "message will be redelivered");
                        let tx = tx.clone();
                        tokio::spawn(async move {
                            tokio::time::sleep(delay).await;
                            let _ = tx.send(Delivery { phase: d.phase, body: d.body, receives });
                        });
                    }
                }
            }
        });
        queues
    }

    pub fn dead_letters(&self) -> Vec<DeadLetter> {
        self.dead.lock().expect("dead letters").clone()
    }
}

impl Queues for LocalQueues {
    fn send(&self, phase: Phase, body: String) -> SendFuture<'_> {
        let sent = self
            .tx
            .send(Delivery { phase, body, receives: 0 })
            .map_err(|_| "the local queue worker stopped".to_string());
        Box::pin(async move { sent })
    }
}

//! Sending phase messages. In AWS each phase has an SQS queue (with a DLQ); locally the
//! gateway runs [`LocalQueues`], an in-process stand-in with the same semantics: every
//! message goes through [`chain::handle`], failures are redelivered after a delay, and a
//! message that fails `max_receives` times lands in the dead-letter list.
//!
//! FIFO queues (the simulation tick queue) go through the same port: [`Queues::send_fifo`]
//! carries a message group id and a deduplication id; [`LocalQueues`] keeps their order and
//! drops a repeated deduplication id within SQS's 5-minute window, as SQS does.

use crate::chain::{self, HandleError, Phase, PipelineContext};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

pub use crate::ports::{FIFO_DEDUP_WINDOW, FifoMessage, FifoQueue, Queues, SendFuture};

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
    fifo: Fifo,
}

/// The local FIFO (simulation tick) queue: its own worker, so a long batch does not hold up
/// pipeline phases; one worker keeps every group in order.
#[derive(Clone)]
struct Fifo {
    tx: mpsc::UnboundedSender<FifoMessage>,
    seen: Arc<Mutex<HashMap<String, Instant>>>,
}

impl Fifo {
    fn spawn(ctx: PipelineContext) -> Fifo {
        let (tx, mut rx) = mpsc::unbounded_channel::<FifoMessage>();
        let fifo = Fifo { tx, seen: Arc::default() };
        let me = fifo.clone();
        tokio::spawn(async move {
            while let Some(m) = rx.recv().await {
                // Up to 5 attempts, like the template's redrive policy; then logged and dropped.
                for attempt in 1..=5u32 {
                    match crate::sim::handle_tick(&ctx, &m.body, crate::sim::batch_budget()).await {
                        Ok(handled) => {
                            if let Some(next) = handled.next {
                                let _ = me.offer(next.fifo_message());
                            }
                            break;
                        }
                        Err(HandleError::Poison(e)) => {
                            tracing::error!(error = %e, "poison simulation tick message dropped");
                            break;
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, attempt, "simulation tick failed; retrying");
                            tokio::time::sleep(Duration::from_millis(200 * attempt as u64)).await;
                        }
                    }
                }
            }
        });
        fifo
    }

    /// Queues a message unless its deduplication id was seen within the window.
    fn offer(&self, m: FifoMessage) -> Result<(), String> {
        {
            let mut seen = self.seen.lock().expect("dedup ids");
            let now = Instant::now();
            seen.retain(|_, at| now.duration_since(*at) < FIFO_DEDUP_WINDOW);
            if seen.contains_key(&m.dedup_id) {
                return Ok(()); // accepted, not delivered again (SQS FIFO semantics)
            }
            seen.insert(m.dedup_id.clone(), now);
        }
        self.tx.send(m).map_err(|_| "the local FIFO worker stopped".to_string())
    }
}

impl LocalQueues {
    /// Starts the worker. `max_receives` mirrors the DLQ redrive policy (maxReceiveCount).
    pub fn spawn(ctx: PipelineContext, max_receives: u32, retry_delay: Duration) -> LocalQueues {
        let (tx, mut rx) = mpsc::unbounded_channel::<Delivery>();
        let dead: Arc<Mutex<Vec<DeadLetter>>> = Arc::default();
        let fifo = Fifo::spawn(ctx.clone());
        let queues = LocalQueues { tx: tx.clone(), dead: dead.clone(), fifo };
        tokio::spawn(async move {
            while let Some(d) = rx.recv().await {
                let receives = d.receives + 1;
                match chain::handle(&ctx, d.phase, &d.body).await {
                    Ok(handled) => {
                        for shard in &handled.fanout {
                            let body = serde_json::to_string(shard).expect("a shard message serialises");
                            let _ = tx.send(Delivery { phase: Phase::Ingest, body, receives: 0 });
                        }
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

    fn send_fifo(&self, queue: FifoQueue, message: FifoMessage) -> SendFuture<'_> {
        let sent = match queue {
            FifoQueue::SimTick => self.fifo.offer(message),
        };
        Box::pin(async move { sent })
    }
}

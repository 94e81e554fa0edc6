//! The queue port: where phase messages and simulation tick batches are sent ([`Queues`]; SQS
//! in AWS, `queue::LocalQueues` in process), below everything that sends them.

use exomaps_wire::pipeline::Phase;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// Where phase messages go: SQS queues in AWS, [`LocalQueues`] locally.
pub trait Queues: Send + Sync {
    fn send(&self, phase: Phase, body: String) -> SendFuture<'_>;

    /// Sends a message to a FIFO queue. The default refuses: no FIFO queue is configured.
    fn send_fifo(&self, queue: FifoQueue, message: FifoMessage) -> SendFuture<'_> {
        let _ = message;
        Box::pin(async move { Err(format!("no {} queue is configured", queue.queue_name())) })
    }
}

/// The FIFO queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FifoQueue {
    /// Simulation tick batches (`crate::sim::handle_tick`).
    SimTick,
}

impl FifoQueue {
    /// The queue's name when looked up by name (local runs against SQS): `exomaps-sim-tick.fifo`.
    pub fn queue_name(self) -> &'static str {
        match self {
            FifoQueue::SimTick => "exomaps-sim-tick.fifo",
        }
    }

    /// The environment variable with the queue's URL (the template passes it).
    pub fn url_env(self) -> &'static str {
        match self {
            FifoQueue::SimTick => "EXOMAPS_QUEUE_SIM_TICK_URL",
        }
    }
}

/// A FIFO message: ordered within its group; a repeated deduplication id within 5 minutes is
/// accepted but not delivered again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FifoMessage {
    pub body: String,
    pub group_id: String,
    pub dedup_id: String,
}

/// SQS FIFO's deduplication window.
pub const FIFO_DEDUP_WINDOW: Duration = Duration::from_secs(300);

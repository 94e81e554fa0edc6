//! What every phase and tick handler is given ([`PipelineContext`]) and how a message can fail
//! ([`HandleError`]): below the chain, the phases and the simulation feed, so none of them
//! imports another to reach these.

use crate::notify::Notifier;
use crate::objects::ObjectSink;
use exomaps_domain::coords::Scope;
use exomaps_store::Store;
use std::sync::Arc;

/// What a phase needs besides its message.
#[derive(Clone)]
pub struct PipelineContext {
    pub store: Store,
    pub scope: Scope,
    pub notifier: Notifier,
    /// Where publish writes the map asset (none: the asset stays in the database only).
    pub objects: Option<Arc<dyn ObjectSink>>,
}

/// Why a message was not handled.
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// The message itself is unusable (not JSON, wrong shape, unknown run): recorded, and
    /// retrying cannot help — the queue's redrive policy moves it to the dead-letter queue.
    #[error("poison message: {0}")]
    Poison(String),
    /// Infrastructure trouble: retry (SQS redelivers after the visibility timeout).
    #[error("retry: {0}")]
    Retry(String),
}

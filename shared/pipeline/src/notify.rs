//! Server → client pushes over the WebSocket channel: find the channel's subscribers in the
//! store and post to each through a `Broadcast` (the API Gateway Management API in AWS and
//! locally alike); connections that are gone are deleted.

use exomaps_store::Store;
use serde::Serialize;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// API Gateway's WebSocket frame limit.
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostOutcome {
    Delivered,
    /// The connection no longer exists (410 / GoneException).
    Gone,
    Failed(String),
}

/// Posts one message to one connection.
pub trait Broadcast: Send + Sync {
    fn post<'a>(
        &'a self,
        connection_id: &'a str,
        data: &'a [u8],
    ) -> Pin<Box<dyn Future<Output = PostOutcome> + Send + 'a>>;
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PublishReport {
    pub delivered: usize,
    pub gone: usize,
    pub failed: usize,
}

/// Publishes to channels. Without a broadcaster (no WebSocket API configured) it does nothing.
#[derive(Clone)]
pub struct Notifier {
    store: Store,
    broadcaster: Option<Arc<dyn Broadcast>>,
}

impl Notifier {
    pub fn new(store: Store, broadcaster: Option<Arc<dyn Broadcast>>) -> Notifier {
        Notifier { store, broadcaster }
    }

    pub fn silent(store: Store) -> Notifier {
        Notifier { store, broadcaster: None }
    }

    /// The broadcaster, when pushes are configured (the simulation feed posts per connection).
    pub fn broadcaster(&self) -> Option<&Arc<dyn Broadcast>> {
        self.broadcaster.as_ref()
    }

    /// Sends `message` (JSON) to every subscriber of `channel`. A message over 32 KB is not
    /// sent (logged): pushes are small notifications, clients fetch the data itself.
    pub async fn publish(&self, channel: &str, message: &impl Serialize) -> PublishReport {
        let mut report = PublishReport::default();
        let Some(b) = &self.broadcaster else { return report };
        let data = match serde_json::to_vec(message) {
            Ok(d) if d.len() <= MAX_MESSAGE_BYTES => d,
            Ok(d) => {
                tracing::error!(channel, bytes = d.len(), "push message over 32 KB not sent");
                return report;
            }
            Err(e) => {
                tracing::error!(channel, error = %e, "push message not serialisable");
                return report;
            }
        };
        let subscribers = match self.store.ws_subscribers(channel).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(channel, error = %e, "cannot list subscribers");
                return report;
            }
        };
        for id in subscribers {
            match b.post(&id, &data).await {
                PostOutcome::Delivered => report.delivered += 1,
                PostOutcome::Gone => {
                    report.gone += 1;
                    if let Err(e) = self.store.ws_disconnect(&id).await {
                        tracing::warn!(connection = %id, error = %e, "cannot delete a gone connection");
                    }
                }
                PostOutcome::Failed(e) => {
                    report.failed += 1;
                    tracing::warn!(connection = %id, error = %e, "push failed");
                }
            }
        }
        report
    }
}

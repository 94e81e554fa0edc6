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

/// Posts in flight at once per publish.
pub const POST_CONCURRENCY: usize = 16;

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
        let Some(data) = self.encode(channel, message) else { return PublishReport::default() };
        let subscribers = match self.store.ws_subscribers(channel).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(channel, error = %e, "cannot list subscribers");
                return PublishReport::default();
            }
        };
        self.post_all(&subscribers, &data).await
    }

    /// Sends `message` to every open connection, subscribed to any channel or none (the admin
    /// broadcast).
    pub async fn publish_all(&self, message: &impl Serialize) -> PublishReport {
        let Some(data) = self.encode("*", message) else { return PublishReport::default() };
        let connections = match self.store.ws_all_connections().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list connections");
                return PublishReport::default();
            }
        };
        self.post_all(&connections, &data).await
    }

    /// Sends `message` to one connection (e.g. a room's state to the member who just joined).
    pub async fn send_to(&self, connection_id: &str, message: &impl Serialize) -> PublishReport {
        let Some(data) = self.encode(connection_id, message) else { return PublishReport::default() };
        self.post_all(&[connection_id.to_string()], &data).await
    }

    /// The message as JSON when a broadcaster is configured and it fits in a frame.
    fn encode(&self, to: &str, message: &impl Serialize) -> Option<Vec<u8>> {
        self.broadcaster.as_ref()?;
        match serde_json::to_vec(message) {
            Ok(d) if d.len() <= MAX_MESSAGE_BYTES => Some(d),
            Ok(d) => {
                tracing::error!(to, bytes = d.len(), "push message over 32 KB not sent");
                None
            }
            Err(e) => {
                tracing::error!(to, error = %e, "push message not serialisable");
                None
            }
        }
    }

    /// Posts to each connection, up to `POST_CONCURRENCY` at once (a room of 50 is one
    /// frame's worth of posts, not 50 round trips in a row); gone connections are deleted.
    async fn post_all(&self, connections: &[String], data: &[u8]) -> PublishReport {
        let mut report = PublishReport::default();
        let Some(b) = &self.broadcaster else { return report };
        for chunk in connections.chunks(POST_CONCURRENCY) {
            let posts: Vec<_> = chunk.iter().map(|id| b.post(id, data)).collect();
            let outcomes = futures_util::future::join_all(posts).await;
            for (id, outcome) in chunk.iter().zip(outcomes) {
                match outcome {
                    PostOutcome::Delivered => report.delivered += 1,
                    PostOutcome::Gone => {
                        report.gone += 1;
                        if let Err(e) = self.store.ws_disconnect(id).await {
                            tracing::warn!(connection = %id, error = %e, "cannot delete a gone connection");
                        }
                    }
                    PostOutcome::Failed(e) => {
                        report.failed += 1;
                        tracing::warn!(connection = %id, error = %e, "push failed");
                    }
                }
            }
        }
        report
    }
}

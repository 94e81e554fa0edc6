//! SQS: a publisher (one JSON message or a batch) and a consumer (receive, delete, change
//! visibility) for a local poller against real SQS. Queue URLs are resolved by name once, when
//! the publisher or consumer is built.

use crate::error::{PlatformError, aws};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName, SendMessageBatchRequestEntry};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// SQS's per-message limit this code holds to (the classic 256 KiB; also the batch total).
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// SQS's per-call limits.
pub const MAX_BATCH: usize = 10;
pub const MAX_WAIT: Duration = Duration::from_secs(20);
pub const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 60 * 60);

/// The URL of the queue called `name` (GetQueueUrl).
pub async fn queue_url(client: &aws_sdk_sqs::Client, name: &str) -> crate::Result<String> {
    let out = client.get_queue_url().queue_name(name).send().await.map_err(|e| aws("GetQueueUrl", name, e))?;
    out.queue_url.ok_or_else(|| PlatformError::invalid(name, "GetQueueUrl returned no URL"))
}

fn to_body<T: Serialize>(message: &T) -> crate::Result<String> {
    let body = serde_json::to_string(message)
        .map_err(|e| PlatformError::invalid("message", format!("not serialisable: {e}")))?;
    if body.len() > MAX_MESSAGE_BYTES {
        return Err(PlatformError::TooLarge { what: "SQS message", size: body.len(), limit: MAX_MESSAGE_BYTES });
    }
    Ok(body)
}

#[derive(Debug, Clone)]
pub struct QueuePublisher {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl QueuePublisher {
    /// Resolve the queue's URL by name, once.
    pub async fn by_name(client: aws_sdk_sqs::Client, name: &str) -> crate::Result<Self> {
        let url = queue_url(&client, name).await?;
        Ok(QueuePublisher { client, url })
    }

    pub fn with_url(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        QueuePublisher { client, url: url.into() }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Send one message whose body is `message` as JSON; returns the SQS message id.
    pub async fn send_json<T: Serialize>(&self, message: &T) -> crate::Result<String> {
        let body = to_body(message)?;
        let out = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| aws("SendMessage", &self.url, e))?;
        Ok(out.message_id.unwrap_or_default())
    }

    /// Send one message to a FIFO queue: ordered within `group_id`, and a second message with
    /// the same `dedup_id` within SQS's 5-minute window is accepted but not delivered.
    pub async fn send_fifo(&self, body: String, group_id: &str, dedup_id: &str) -> crate::Result<String> {
        if body.len() > MAX_MESSAGE_BYTES {
            return Err(PlatformError::TooLarge { what: "SQS message", size: body.len(), limit: MAX_MESSAGE_BYTES });
        }
        let out = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .message_group_id(group_id)
            .message_deduplication_id(dedup_id)
            .send()
            .await
            .map_err(|e| aws("SendMessage", &self.url, e))?;
        Ok(out.message_id.unwrap_or_default())
    }

    /// Send every message (as JSON) in batches of up to 10 (and 256 KiB per call). Returns the
    /// message ids in input order. If SQS refuses some entries, the error names them by input
    /// index; the others were sent.
    pub async fn send_batch_json<T: Serialize>(&self, messages: &[T]) -> crate::Result<Vec<String>> {
        let bodies = messages.iter().map(to_body).collect::<crate::Result<Vec<_>>>()?;
        let mut ids = vec![String::new(); bodies.len()];
        let mut failed = Vec::new();
        let mut start = 0;
        while start < bodies.len() {
            // Take up to MAX_BATCH messages whose total stays within MAX_MESSAGE_BYTES.
            let mut end = start;
            let mut total = 0;
            while end < bodies.len() && end - start < MAX_BATCH && total + bodies[end].len() <= MAX_MESSAGE_BYTES {
                total += bodies[end].len();
                end += 1;
            }
            let entries = (start..end)
                .map(|i| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(bodies[i].clone())
                        .build()
                        .map_err(|e| PlatformError::invalid(&self.url, e.to_string()))
                })
                .collect::<crate::Result<Vec<_>>>()?;
            let out = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| aws("SendMessageBatch", &self.url, e))?;
            for ok in out.successful {
                if let Ok(i) = ok.id.parse::<usize>() {
                    ids[i] = ok.message_id;
                }
            }
            for err in out.failed {
                failed.push(format!("#{} {}: {}", err.id, err.code, err.message.unwrap_or_default()));
            }
            start = end;
        }
        if failed.is_empty() {
            Ok(ids)
        } else {
            Err(PlatformError::invalid(&self.url, format!("SendMessageBatch refused {}", failed.join("; "))))
        }
    }
}

/// A received message: its body, the receipt handle to delete it with, and how many times it
/// has been received (1 on first delivery).
#[derive(Debug, Clone)]
pub struct Received {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    pub receive_count: u32,
}

impl Received {
    pub fn json<T: DeserializeOwned>(&self) -> crate::Result<T> {
        serde_json::from_str(&self.body)
            .map_err(|e| PlatformError::invalid(format!("message {}", self.message_id), format!("not valid JSON: {e}")))
    }
}

/// Approximate message counts of a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueDepth {
    pub visible: u64,
    pub in_flight: u64,
}

#[derive(Debug, Clone)]
pub struct QueueConsumer {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl QueueConsumer {
    pub async fn by_name(client: aws_sdk_sqs::Client, name: &str) -> crate::Result<Self> {
        let url = queue_url(&client, name).await?;
        Ok(QueueConsumer { client, url })
    }

    pub fn with_url(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        QueueConsumer { client, url: url.into() }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Receive up to `max` messages (clamped to 1..=10), long-polling up to `wait` (≤ 20 s).
    pub async fn receive(&self, max: usize, wait: Duration) -> crate::Result<Vec<Received>> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(max.clamp(1, MAX_BATCH) as i32)
            .wait_time_seconds(wait.min(MAX_WAIT).as_secs() as i32)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| aws("ReceiveMessage", &self.url, e))?;
        Ok(out
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(|m| Received {
                receive_count: m
                    .attributes
                    .as_ref()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(1),
                message_id: m.message_id.unwrap_or_default(),
                receipt_handle: m.receipt_handle.unwrap_or_default(),
                body: m.body.unwrap_or_default(),
            })
            .collect())
    }

    /// Delete a received message (it was handled).
    pub async fn delete(&self, receipt_handle: &str) -> crate::Result<()> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .send()
            .await
            .map_err(|e| aws("DeleteMessage", &self.url, e))?;
        Ok(())
    }

    /// Make a received message visible again after `timeout` (zero: at once, for a retry).
    pub async fn change_visibility(&self, receipt_handle: &str, timeout: Duration) -> crate::Result<()> {
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(timeout.min(MAX_VISIBILITY).as_secs() as i32)
            .send()
            .await
            .map_err(|e| aws("ChangeMessageVisibility", &self.url, e))?;
        Ok(())
    }

    /// Approximate visible and in-flight counts (e.g. a DLQ's depth).
    pub async fn depth(&self) -> crate::Result<QueueDepth> {
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(&self.url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .map_err(|e| aws("GetQueueAttributes", &self.url, e))?;
        let attrs = out.attributes.unwrap_or_default();
        let get = |k: &QueueAttributeName| attrs.get(k).and_then(|v| v.parse().ok()).unwrap_or(0);
        Ok(QueueDepth {
            visible: get(&QueueAttributeName::ApproximateNumberOfMessages),
            in_flight: get(&QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        })
    }
}

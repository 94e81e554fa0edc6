//! The AWS platform layer: one SDK configuration per process and thin, typed wrappers over the
//! four services ExoMaps uses — Secrets Manager (cached), SQS, S3 and the API Gateway
//! Management API (WebSocket `@connections`). No domain logic and no SQL live here.
//!
//! * [`aws`] — load the `SdkConfig` once (region default `us-east-1`, endpoint from
//!   `AWS_ENDPOINT_URL`), build clients (S3 path-style when an endpoint is set).
//! * [`secrets`] — [`SecretCache`]: `get_string` / `get_json` with a TTL, one fetch per expiry.
//! * [`queue`] — [`QueuePublisher`] and [`QueueConsumer`] over SQS.
//! * [`objects`] — [`ObjectStore`] over one S3 bucket (whole objects, or streamed with `open`).
//! * [`broadcast`] — [`Broadcaster`]: `post_to_connection` with `Gone` as a value, 32 KB cap.
//! * [`metrics`] — CloudWatch metrics as Embedded Metric Format lines on stdout.
//! * [`cfn`] — CloudFormation custom-resource responses (PUT to the pre-signed `ResponseURL`).
//!
//! Every client is built once and shared: nothing here creates a client per request.

pub mod aws;
pub mod broadcast;
pub mod cfn;
pub mod metrics;
pub mod objects;
pub mod percent;
pub mod queue;
pub mod secrets;

mod error;

pub use broadcast::{Broadcaster, Delivery};
pub use error::PlatformError;
pub use objects::{ObjectMeta, ObjectReader, ObjectStore, PutOptions, StoredObject};
pub use queue::{QueueConsumer, QueueDepth, QueuePublisher, Received};
pub use secrets::SecretCache;

/// The SDK crates, re-exported so callers (tests, infrastructure tooling) use the same versions.
pub mod sdk {
    pub use aws_config;
    pub use aws_sdk_apigatewaymanagement as apigatewaymanagement;
    pub use aws_sdk_s3 as s3;
    pub use aws_sdk_secretsmanager as secretsmanager;
    pub use aws_sdk_sqs as sqs;
}

pub type Result<T, E = PlatformError> = std::result::Result<T, E>;

//! The SDK configuration, loaded once per process, and the clients built from it.
//!
//! aws-config reads the usual environment: credentials (env, profile, web identity, container,
//! IMDS — SSO and `credential_process` are compiled out with the default features), the region
//! (`AWS_REGION`, else the profile, else [`DEFAULT_REGION`]) and the endpoint
//! (`AWS_ENDPOINT_URL`, or `AWS_ENDPOINT_URL_<SERVICE>`, for an emulator). In a Lambda the
//! environment carries the role's credentials and the region; nothing else is needed.
//!
//! Endpoint precedence (aws-sdk 1.x): a service client built from an `SdkConfig` takes
//! `AWS_ENDPOINT_URL_<SERVICE>` / `AWS_ENDPOINT_URL` from the environment *before* the
//! `SdkConfig`'s own `endpoint_url`. To point one client somewhere else (the local gateway's
//! `@connections`, a test proxy), set `endpoint_url` on that service's config builder, as
//! [`crate::Broadcaster`] does.

use aws_config::meta::region::RegionProviderChain;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use tokio::sync::OnceCell;

pub use aws_config::SdkConfig as Config;

/// The region when none is configured.
pub const DEFAULT_REGION: &str = "us-east-1";

static SHARED: OnceCell<SdkConfig> = OnceCell::const_new();

/// The process-wide configuration, loaded on first use (concurrent first callers share one load).
pub async fn config() -> &'static SdkConfig {
    SHARED.get_or_init(load).await
}

/// Load a fresh configuration from the environment. Prefer [`config`]; this is for tools and
/// tests that need their own.
pub async fn load() -> SdkConfig {
    let region = RegionProviderChain::default_provider().or_else(Region::from_static(DEFAULT_REGION));
    aws_config::defaults(BehaviorVersion::latest()).region(region).load().await
}

/// True when requests go to a configured endpoint (an emulator) rather than AWS.
pub fn uses_custom_endpoint(config: &SdkConfig) -> bool {
    config.endpoint_url().is_some()
}

pub fn secrets_client(config: &SdkConfig) -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(config)
}

pub fn sqs_client(config: &SdkConfig) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(config)
}

/// An S3 client; path-style addressing (`http://host/bucket/key`) when an endpoint is set, since
/// emulators do not resolve `bucket.host` names.
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let s3_endpoint = std::env::var("AWS_ENDPOINT_URL_S3").is_ok_and(|v| !v.trim().is_empty());
    let path_style = uses_custom_endpoint(config) || s3_endpoint;
    let conf = aws_sdk_s3::config::Builder::from(config).force_path_style(path_style).build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// The region of a configuration, or [`DEFAULT_REGION`].
pub fn region(config: &SdkConfig) -> &str {
    config.region().map(|r| r.as_ref()).unwrap_or(DEFAULT_REGION)
}

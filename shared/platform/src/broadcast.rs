//! WebSocket delivery through the API Gateway Management API (`@connections`).
//!
//! A post either reaches the connection ([`Delivery::Delivered`]), finds it gone
//! ([`Delivery::Gone`]: GoneException / HTTP 410 — the caller deletes its record), or fails.
//! Messages over 32 KB (one WebSocket frame on API Gateway) are refused before any call.
//!
//! The management endpoint is per API and stage: `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`
//! on AWS; with an emulator endpoint configured, the path form
//! `{AWS_ENDPOINT_URL}/_aws/execute-api/{api-id}/{stage}` (ministack and LocalStack both serve
//! it; `*.execute-api.localhost` host names do not resolve everywhere). [`Broadcaster::endpoint_for`]
//! builds the right one. The local gateway serves `/@connections/{id}` too, so the same code
//! posts to it with its URL as the endpoint.

use crate::error::{PlatformError, aws};
use aws_sdk_apigatewaymanagement::operation::delete_connection::DeleteConnectionError;
use aws_sdk_apigatewaymanagement::operation::post_to_connection::PostToConnectionError;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use std::collections::HashMap;
use std::sync::Mutex;

/// The largest message posted: 32 KB, API Gateway's WebSocket frame size.
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    /// The connection no longer exists (GoneException / 410): forget it.
    Gone,
}

/// Posts to connections of any API/stage; one SDK client per endpoint, built on first use.
pub struct Broadcaster {
    config: crate::aws::Config,
    clients: Mutex<HashMap<String, aws_sdk_apigatewaymanagement::Client>>,
}

impl std::fmt::Debug for Broadcaster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.clients.lock().map(|c| c.len()).unwrap_or(0);
        f.debug_struct("Broadcaster").field("endpoints", &n).finish()
    }
}

fn is_gone(status: Option<u16>, gone_exception: bool) -> bool {
    gone_exception || status == Some(410)
}

impl Broadcaster {
    pub fn new(config: &crate::aws::Config) -> Self {
        Broadcaster { config: config.clone(), clients: Mutex::new(HashMap::new()) }
    }

    /// The management endpoint of WebSocket API `api_id`, stage `stage` (see the module docs).
    pub fn endpoint_for(&self, api_id: &str, stage: &str) -> String {
        match self.config.endpoint_url() {
            Some(base) => format!("{}/_aws/execute-api/{api_id}/{stage}", base.trim_end_matches('/')),
            None => format!("https://{api_id}.execute-api.{}.amazonaws.com/{stage}", crate::aws::region(&self.config)),
        }
    }

    fn client(&self, endpoint_url: &str) -> aws_sdk_apigatewaymanagement::Client {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        clients
            .entry(endpoint_url.to_owned())
            .or_insert_with(|| {
                let conf = aws_sdk_apigatewaymanagement::config::Builder::from(&self.config)
                    .endpoint_url(endpoint_url)
                    .build();
                aws_sdk_apigatewaymanagement::Client::from_conf(conf)
            })
            .clone()
    }

    /// Post `data` to one connection. Refuses data over [`MAX_MESSAGE_BYTES`] without calling.
    pub async fn post(&self, endpoint_url: &str, connection_id: &str, data: &[u8]) -> crate::Result<Delivery> {
        if data.len() > MAX_MESSAGE_BYTES {
            return Err(PlatformError::TooLarge {
                what: "WebSocket message",
                size: data.len(),
                limit: MAX_MESSAGE_BYTES,
            });
        }
        let result = self
            .client(endpoint_url)
            .post_to_connection()
            .connection_id(connection_id)
            .data(Blob::new(data))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Delivery::Delivered),
            Err(e) => {
                let status = e.raw_response().map(|r| r.status().as_u16());
                let gone = matches!(e.as_service_error(), Some(PostToConnectionError::GoneException(_)));
                if is_gone(status, gone) {
                    Ok(Delivery::Gone)
                } else {
                    Err(aws("PostToConnection", format!("{endpoint_url} connection {connection_id}"), e))
                }
            }
        }
    }

    /// Close one connection (DeleteConnection); `Gone` when it no longer existed.
    pub async fn disconnect(&self, endpoint_url: &str, connection_id: &str) -> crate::Result<Delivery> {
        let result = self.client(endpoint_url).delete_connection().connection_id(connection_id).send().await;
        match result {
            Ok(_) => Ok(Delivery::Delivered),
            Err(e) => {
                let status = e.raw_response().map(|r| r.status().as_u16());
                let gone = matches!(e.as_service_error(), Some(DeleteConnectionError::GoneException(_)));
                if is_gone(status, gone) {
                    Ok(Delivery::Gone)
                } else {
                    Err(aws("DeleteConnection", format!("{endpoint_url} connection {connection_id}"), e))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_config::{BehaviorVersion, Region, SdkConfig};

    fn config(endpoint: Option<&str>) -> SdkConfig {
        let b = SdkConfig::builder().behavior_version(BehaviorVersion::latest()).region(Region::new("eu-west-2"));
        match endpoint {
            Some(e) => b.endpoint_url(e).build(),
            None => b.build(),
        }
    }

    #[test]
    fn endpoint_is_the_execute_api_domain_on_aws_and_the_path_form_on_an_emulator() {
        let aws = Broadcaster::new(&config(None));
        assert_eq!(
            aws.endpoint_for("abc123defg", "prod"),
            "https://abc123defg.execute-api.eu-west-2.amazonaws.com/prod"
        );
        let emu = Broadcaster::new(&config(Some("http://127.0.0.1:4566/")));
        assert_eq!(emu.endpoint_for("abc123defg", "prod"), "http://127.0.0.1:4566/_aws/execute-api/abc123defg/prod");
    }

    #[tokio::test]
    async fn one_client_per_endpoint() {
        let b = Broadcaster::new(&config(None));
        let _ = b.client("https://a.example/prod");
        let _ = b.client("https://a.example/prod");
        let _ = b.client("https://b.example/prod");
        assert_eq!(b.clients.lock().unwrap().len(), 2);
    }
}

//! CloudFormation custom resources: the response a resource's function PUTs to the pre-signed
//! `ResponseURL` of the request (SUCCESS or FAILED, with the reason CloudFormation shows in the
//! stack events). The URL is an S3 pre-signed URL on AWS and the emulator's own endpoint offline;
//! the body is sent with no `Content-Type`, as the signature of that URL expects.

use crate::error::PlatformError;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use std::sync::OnceLock;
use std::time::Duration;

/// CloudFormation accepts responses up to 4096 bytes; the reason is cut to leave room for the rest.
pub const MAX_REASON: usize = 2048;

/// `Status` of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Success,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Success => "SUCCESS",
            Status::Failed => "FAILED",
        }
    }
}

/// The fields of a request the response must echo.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestIds {
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
}

/// The response body (JSON), with the reason cut to [`MAX_REASON`] bytes on a char boundary.
pub fn response_body(
    ids: &RequestIds,
    status: Status,
    physical_resource_id: &str,
    reason: &str,
    data: serde_json::Value,
) -> serde_json::Value {
    let mut end = reason.len().min(MAX_REASON);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    serde_json::json!({
        "Status": status.as_str(),
        "Reason": &reason[..end],
        "PhysicalResourceId": physical_resource_id,
        "StackId": ids.stack_id,
        "RequestId": ids.request_id,
        "LogicalResourceId": ids.logical_resource_id,
        "Data": data,
    })
}

type Client = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Full<Bytes>,
>;

fn client() -> Result<&'static Client, PlatformError> {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    if let Some(c) = CLIENT.get() {
        return Ok(c);
    }
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| PlatformError::invalid("tls roots", e.to_string()))?
        .https_or_http()
        .enable_http1()
        .build();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(https);
    Ok(CLIENT.get_or_init(|| client))
}

/// PUTs `body` to the request's `ResponseURL` (https on AWS, http for the emulator and tests);
/// up to three attempts on connection errors and 5xx answers.
pub async fn respond(response_url: &str, body: &serde_json::Value) -> Result<(), PlatformError> {
    let payload = Bytes::from(serde_json::to_vec(body).expect("JSON serialises"));
    let target = response_url.split('?').next().unwrap_or(response_url).to_string();
    let mut last = String::new();
    for attempt in 0..3u32 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
        }
        let req = http::Request::put(response_url)
            .header(http::header::CONTENT_LENGTH, payload.len())
            .body(Full::new(payload.clone()))
            .map_err(|e| PlatformError::invalid(target.clone(), format!("not a usable ResponseURL: {e}")))?;
        match tokio::time::timeout(Duration::from_secs(20), client()?.request(req)).await {
            Ok(Ok(res)) => {
                let status = res.status();
                let text = res.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                if status.is_success() {
                    return Ok(());
                }
                last = format!("HTTP {status}: {}", String::from_utf8_lossy(&text[..text.len().min(300)]));
                if !status.is_server_error() {
                    break;
                }
            }
            Ok(Err(e)) => last = format!("request failed: {e}"),
            Err(_) => last = "no answer in 20 s".into(),
        }
    }
    Err(PlatformError::invalid(target, format!("custom resource response not accepted: {last}")))
}

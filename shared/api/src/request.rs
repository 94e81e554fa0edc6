//! The framework-neutral request every handler sees (the response: `crate::response`).

use crate::caller::Caller;
use crate::error::ApiError;
use bytes::Bytes;
use http::{HeaderMap, Method};
use std::collections::HashMap;
use std::net::IpAddr;

pub use crate::response::{ApiResponse, json_response, ok_json};

/// A request as both adapters deliver it: path parameters already matched, query parsed.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: Method,
    pub headers: HeaderMap,
    pub path_params: HashMap<String, String>,
    pub query: HashMap<String, String>,
    pub body: Bytes,
    /// The client's address as the edge saw it (API Gateway's `sourceIp`, the local socket).
    pub source_ip: Option<IpAddr>,
    /// Who is calling, resolved by `dispatch` before the handler runs.
    pub caller: Caller,
    /// Set by `dispatch` when the route's permission row says R for the caller's persona.
    pub redacted: bool,
    /// The edge's id of this request (API Gateway's `requestId`); `dispatch` makes one up
    /// when absent and returns it as `x-request-id`.
    pub request_id: Option<String>,
}

impl ApiRequest {
    pub fn new(method: Method) -> ApiRequest {
        ApiRequest {
            method,
            headers: HeaderMap::new(),
            path_params: HashMap::new(),
            query: HashMap::new(),
            body: Bytes::new(),
            source_ip: None,
            caller: Caller::anonymous(),
            redacted: false,
            request_id: None,
        }
    }

    pub fn with_query(mut self, key: &str, value: &str) -> ApiRequest {
        self.query.insert(key.into(), value.into());
        self
    }

    /// An optional integer query parameter; a malformed one is a 400, never a silent default.
    pub fn query_i64(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.query.get(key) {
            None => Ok(None),
            Some(v) if v.trim().is_empty() => Ok(None),
            Some(v) => v
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| ApiError::bad_request(format!("query parameter '{key}' must be an integer"))),
        }
    }

    /// The JSON body as `T`: 413 above `limit` bytes, 400 when it is not valid JSON for `T`.
    pub fn json_body<T: serde::de::DeserializeOwned>(&self, limit: usize) -> Result<T, ApiError> {
        if self.body.len() > limit {
            return Err(ApiError::payload_too_large(limit));
        }
        if self.body.is_empty() {
            return Err(ApiError::bad_request("a JSON body is required"));
        }
        serde_json::from_slice(&self.body).map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

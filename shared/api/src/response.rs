//! The framework-neutral response every handler returns, and JSON answers. The bottom of the
//! crate: it imports nothing of it.

use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};

pub type ApiResponse = http::Response<Bytes>;

/// A JSON response with the given status.
pub fn json_response(status: StatusCode, value: &impl serde::Serialize) -> ApiResponse {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{\"error\":\"internal\"}".to_vec());
    let mut res = http::Response::new(Bytes::from(body));
    *res.status_mut() = status;
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

pub fn ok_json(value: &impl serde::Serialize) -> ApiResponse {
    json_response(StatusCode::OK, value)
}

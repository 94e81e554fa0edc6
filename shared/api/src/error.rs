//! The one error envelope: `{"error": "<snake_case_code>", "message": "<human text>", ...details}`.

use crate::response::{ApiResponse, json_response};
use http::{HeaderName, HeaderValue, StatusCode, header};
use serde_json::{Map, Value};

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Extra top-level fields merged into the envelope.
    pub details: Map<String, Value>,
    /// Extra response headers (`WWW-Authenticate`, `Retry-After`).
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), details: Map::new(), headers: Vec::new() }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn db_unavailable() -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "db_unavailable", "Database not available")
    }

    pub fn internal() -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal error")
    }

    /// 401 for a missing or refused credential, with the RFC 6750 challenge.
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> ApiError {
        let challenge = match code {
            "invalid_token" => "Bearer realm=\"exomaps\", error=\"invalid_token\"",
            _ => "Bearer realm=\"exomaps\"",
        };
        ApiError::new(StatusCode::UNAUTHORIZED, code, message)
            .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge))
    }

    pub fn payload_too_large(limit: usize) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", format!("request body exceeds {limit} bytes"))
    }

    /// The same error with another code (e.g. `unknown_persona` for a 400).
    pub fn with_code(mut self, code: &'static str) -> ApiError {
        self.code = code;
        self
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> ApiError {
        self.headers.push((name, value));
        self
    }

    pub fn with(mut self, key: &str, value: impl Into<Value>) -> ApiError {
        self.details.insert(key.to_string(), value.into());
        self
    }

    pub fn into_response(self) -> ApiResponse {
        let mut body = Map::new();
        body.insert("error".into(), Value::String(self.code.into()));
        body.insert("message".into(), Value::String(self.message));
        for (k, v) in self.details {
            body.entry(k).or_insert(v);
        }
        let mut res = json_response(self.status, &Value::Object(body));
        for (name, value) in self.headers {
            res.headers_mut().append(name, value);
        }
        res
    }
}

/// Store failures become 503 when the database is unreachable and a generic 500 otherwise;
/// the SQL error text goes to the log, never to the client.
impl From<exomaps_store::StoreError> for ApiError {
    fn from(e: exomaps_store::StoreError) -> ApiError {
        if e.is_unavailable() {
            tracing::warn!(error = %e, "database unavailable");
            ApiError::db_unavailable()
        } else {
            tracing::error!(error = %e, "store error");
            ApiError::internal()
        }
    }
}

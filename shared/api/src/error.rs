//! The one error envelope: `{"error": "<snake_case_code>", "message": "<human text>", ...details}`.

use crate::response::{ApiResponse, json_response};
use http::{HeaderName, HeaderValue, StatusCode, header};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// The error envelope every route answers with on failure (`crate::error::ApiError`).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ErrorEnvelope {
    /// snake_case code: `forbidden`, `unauthorized`, `not_found`, `bad_request`, …
    pub error: String,
    pub message: String,
    /// On 403/401 from the permission check: the personas the route allows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_personas: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_persona: Option<String>,
    /// On 400 `invalid_text`: the input holding text the server refuses (a NUL), e.g.
    /// `path parameter 'id'`, `query parameter 'code'`, `body /sources/0/uri`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// On 429 (`too_many_attempts`, `too_many_runs`): seconds to wait, as in `Retry-After`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<i64>,
    // Other details some errors carry (`db_status`, `persona`, `detail`, `limit`, …).
    #[serde(flatten)]
    #[schema(ignore)]
    pub details: Map<String, Value>,
}

/// Takes `key` out of `details` when it holds a `T` (else leaves it there).
fn take<T: DeserializeOwned>(details: &mut Map<String, Value>, key: &str) -> Option<T> {
    let value = details.remove(key)?;
    match serde_json::from_value(value.clone()) {
        Ok(v) => Some(v),
        Err(_) => {
            details.insert(key.to_string(), value);
            None
        }
    }
}

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
        let mut details = self.details;
        // `error` and `message` are the envelope's own.
        details.remove("error");
        details.remove("message");
        let body = ErrorEnvelope {
            error: self.code.into(),
            message: self.message,
            required_personas: take(&mut details, "required_personas"),
            current_persona: take(&mut details, "current_persona"),
            field: take(&mut details, "field"),
            retry_after: take(&mut details, "retry_after"),
            details,
        };
        let mut res = json_response(self.status, &body);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn body(e: ApiError) -> Value {
        serde_json::from_slice(e.into_response().body()).unwrap()
    }

    #[test]
    fn the_envelope_carries_every_detail_once_and_keeps_its_own_fields() {
        let e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_runs", "wait")
            .with("retry_after", 7)
            .with("required_personas", vec!["admin"])
            .with("db_status", serde_json::json!({"connected": false}))
            .with("error", "not mine");
        assert_eq!(
            body(e),
            serde_json::json!({
                "error": "too_many_runs",
                "message": "wait",
                "retry_after": 7,
                "required_personas": ["admin"],
                "db_status": {"connected": false},
            })
        );
        // A detail of another shape than the envelope's field stays as given.
        let e = ApiError::bad_request("x").with("field", 3);
        assert_eq!(body(e)["field"], 3);
    }
}

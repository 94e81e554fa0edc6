use aws_sdk_sqs::config::http::HttpResponse;
use aws_sdk_sqs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// What went wrong talking to AWS (or the emulator). SDK errors keep the operation, the target
/// (secret id, queue, bucket/key, connection), the service's error code and HTTP status, and the
/// full error chain as text.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error("{operation} {target}: {message}")]
    Aws {
        operation: &'static str,
        target: String,
        /// The service's error code (`ResourceNotFoundException`, `NoSuchKey`, ...), if it sent one.
        code: Option<String>,
        /// The HTTP status of the response, if there was one.
        status: Option<u16>,
        /// Timeouts, connection failures, 5xx and throttling: worth retrying.
        transient: bool,
        message: String,
    },
    /// A message or object is over a service limit; nothing was sent.
    #[error("{what} is {size} bytes, over the {limit}-byte limit")]
    TooLarge { what: &'static str, size: usize, limit: usize },
    /// A value came back in a shape we cannot use (not JSON of the expected type, no string...).
    #[error("{target}: {message}")]
    Invalid { target: String, message: String },
}

impl PlatformError {
    pub fn code(&self) -> Option<&str> {
        match self {
            PlatformError::Aws { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            PlatformError::Aws { status, .. } => *status,
            _ => None,
        }
    }

    /// True for failures a later attempt may not see (timeouts, connection errors, 5xx, throttling).
    pub fn is_transient(&self) -> bool {
        matches!(self, PlatformError::Aws { transient: true, .. })
    }

    pub(crate) fn invalid(target: impl Into<String>, message: impl Into<String>) -> Self {
        PlatformError::Invalid { target: target.into(), message: message.into() }
    }
}

const THROTTLING: &[&str] =
    &["ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded", "SlowDown"];

/// Convert any SDK error, keeping its code, status and whole chain.
pub(crate) fn aws<E>(
    operation: &'static str,
    target: impl Into<String>,
    err: SdkError<E, HttpResponse>,
) -> PlatformError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    let code = err.code().map(str::to_owned);
    let transient = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(_) => {
            status.is_some_and(|s| s >= 500 || s == 429) || code.as_deref().is_some_and(|c| THROTTLING.contains(&c))
        }
        _ => false,
    };
    let message = match &err {
        // The service's own words; the raw response (headers, body) stays out of logs.
        SdkError::ServiceError(_) => format!(
            "{} (HTTP {}){}",
            code.as_deref().unwrap_or("service error"),
            status.map_or_else(|| "?".to_owned(), |s| s.to_string()),
            err.message().map(|m| format!(": {m}")).unwrap_or_default()
        ),
        // Connection, timeout, construction errors: the whole source chain.
        _ => DisplayErrorContext(&err).to_string(),
    };
    PlatformError::Aws { operation, target: target.into(), code, status, transient, message }
}

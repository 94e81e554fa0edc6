//! What an operator sees of each request: one structured log line (target `exomaps::request`:
//! `request_id`, `route`, `method`, `persona`, `status`, `latency_ms`, `error`) — JSON lines in
//! Lambda, text locally, the same fields in both — and, in Lambda, one CloudWatch metrics record
//! in the Embedded Metric Format (`Requests`, `ClientErrors`, `ServerErrors`, `Latency`, by
//! `Kind` and by `Function`; see `exomaps_platform::metrics`), which the template's alarms watch.

use exomaps_platform::metrics::{self, Metric};

/// One finished request (HTTP route or WebSocket event).
#[derive(Debug, Clone)]
pub struct RequestRecord<'a> {
    /// `route` (HTTP) or `ws` (WebSocket).
    pub kind: &'static str,
    pub request_id: &'a str,
    /// The route's name in the route table, or the WebSocket function.
    pub route: &'a str,
    pub method: &'a str,
    /// The caller's persona once authenticated (`-` before that, e.g. on a 401).
    pub persona: Option<&'a str>,
    pub status: u16,
    pub latency_ms: f64,
    /// The error code of an error answer.
    pub error: Option<&'a str>,
}

/// Logs the record and emits its metrics.
pub fn request_finished(r: &RequestRecord) {
    let persona = r.persona.unwrap_or("-");
    let error = r.error.unwrap_or("");
    if r.status >= 500 {
        tracing::warn!(target: "exomaps::request", request_id = r.request_id, route = r.route, method = r.method, persona, status = r.status, latency_ms = r.latency_ms, error, "request");
    } else {
        tracing::info!(target: "exomaps::request", request_id = r.request_id, route = r.route, method = r.method, persona, status = r.status, latency_ms = r.latency_ms, error, "request");
    }
    metrics::emit(
        r.kind,
        r.route,
        &[
            Metric::count("Requests", 1),
            Metric::count("ClientErrors", u64::from((400..500).contains(&r.status))),
            Metric::count("ServerErrors", u64::from(r.status >= 500)),
            Metric::millis("Latency", r.latency_ms),
        ],
        &[("request_id", r.request_id.into()), ("status", r.status.into()), ("persona", persona.into())],
    );
}

//! CloudWatch metrics in the Embedded Metric Format (EMF): one JSON line on stdout per record,
//! which the Lambda service ships to CloudWatch Logs, where CloudWatch extracts the metrics —
//! no API call, no client, no latency on the request path. Off by default (tests, the local
//! gateway); the Lambda entry points switch it on with [`enable`].
//!
//! Every record carries two dimension sets: `[Kind]` (route, ws, phase — what the template's
//! alarms watch) and `[Kind, Function]` (per function).

use serde_json::{Map, Value, json};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// The CloudWatch namespace of every ExoMaps metric.
pub const NAMESPACE: &str = "ExoMaps";

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Writes EMF lines to stdout from now on (Lambda entry points).
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// A CloudWatch unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// One value of one metric.
#[derive(Debug, Clone, Copy)]
pub struct Metric<'a> {
    pub name: &'a str,
    pub unit: Unit,
    pub value: f64,
}

impl<'a> Metric<'a> {
    pub fn count(name: &'a str, value: u64) -> Metric<'a> {
        Metric { name, unit: Unit::Count, value: value as f64 }
    }

    pub fn millis(name: &'a str, value: f64) -> Metric<'a> {
        Metric { name, unit: Unit::Milliseconds, value }
    }
}

/// The EMF document for one record: `kind` and `function` are the dimensions, `properties`
/// extra searchable fields (not metrics), `timestamp_ms` the Unix time in milliseconds.
pub fn emf_line(
    kind: &str,
    function: &str,
    metrics: &[Metric],
    properties: &[(&str, Value)],
    timestamp_ms: u64,
) -> String {
    let definitions: Vec<Value> = metrics.iter().map(|m| json!({"Name": m.name, "Unit": m.unit.as_str()})).collect();
    let mut doc = Map::new();
    doc.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Kind"], ["Kind", "Function"]],
                "Metrics": definitions,
            }],
        }),
    );
    doc.insert("Kind".into(), Value::from(kind));
    doc.insert("Function".into(), Value::from(function));
    for (k, v) in properties {
        doc.insert((*k).into(), v.clone());
    }
    for m in metrics {
        doc.insert(m.name.into(), json!(m.value));
    }
    Value::Object(doc).to_string()
}

/// Writes one record to stdout when enabled.
pub fn emit(kind: &str, function: &str, metrics: &[Metric], properties: &[(&str, Value)]) {
    if !enabled() {
        return;
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let line = emf_line(kind, function, metrics, properties, now.as_millis() as u64);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emf_line_declares_each_metric_and_carries_its_value_and_dimensions() {
        let line = emf_line(
            "route",
            "world-systems",
            &[Metric::count("Requests", 1), Metric::count("ServerErrors", 0), Metric::millis("Latency", 3.5)],
            &[("request_id", json!("abc"))],
            1_700_000_000_123,
        );
        let v: Value = serde_json::from_str(&line).unwrap();
        let aws = &v["_aws"];
        assert_eq!(aws["Timestamp"], 1_700_000_000_123u64);
        let cw = &aws["CloudWatchMetrics"][0];
        assert_eq!(cw["Namespace"], NAMESPACE);
        assert_eq!(cw["Dimensions"], json!([["Kind"], ["Kind", "Function"]]));
        let names: Vec<&str> = cw["Metrics"].as_array().unwrap().iter().map(|m| m["Name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Requests", "ServerErrors", "Latency"]);
        assert_eq!(cw["Metrics"][2]["Unit"], "Milliseconds");
        // Every declared metric and dimension is a top-level member (EMF's rule).
        assert_eq!(v["Requests"], 1.0);
        assert_eq!(v["ServerErrors"], 0.0);
        assert_eq!(v["Latency"], 3.5);
        assert_eq!(v["Kind"], "route");
        assert_eq!(v["Function"], "world-systems");
        assert_eq!(v["request_id"], "abc");
        assert!(!line.contains('\n'));
    }
}

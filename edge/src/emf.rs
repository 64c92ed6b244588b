//! One CloudWatch Embedded Metric Format (EMF) line: a JSON object whose `_aws` member declares
//! which of its other members are metrics, in namespace [`NAMESPACE`](crate::NAMESPACE), so that
//! CloudWatch turns a log line into metrics with no API call. Both functions write theirs here.
//!
//! Specification: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>.

use serde_json::{Map, Value, json};

/// EMF takes at most 100 values per metric.
pub const MAX_VALUES: usize = 100;

/// The unit of a metric, as EMF names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
}

impl Unit {
    fn name(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// An EMF document being written: dimensions, metrics and plain properties, each a member of the
/// root; every metric declared once, with its unit.
#[derive(Debug, Clone)]
pub struct Emf {
    timestamp_ms: i64,
    root: Map<String, Value>,
    dimensions: Vec<String>,
    metrics: Vec<Value>,
}

impl Emf {
    /// An empty document stamped `timestamp_ms` (milliseconds since the epoch).
    pub fn at(timestamp_ms: i64) -> Emf {
        Emf {
            timestamp_ms,
            root: Map::new(),
            dimensions: Vec::new(),
            metrics: Vec::new(),
        }
    }

    /// An empty document stamped now.
    pub fn now() -> Emf {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_millis() as i64);
        Emf::at(now_ms)
    }

    /// A dimension the metrics are grouped by (all dimensions make one set).
    pub fn dimension(&mut self, name: &str, value: &str) -> &mut Emf {
        self.dimensions.push(name.to_string());
        self.property(name, value)
    }

    /// A member that is not a metric: kept in the log line, searchable, not turned into a metric.
    pub fn property(&mut self, name: &str, value: impl Into<Value>) -> &mut Emf {
        self.root.insert(name.to_string(), value.into());
        self
    }

    /// A count.
    pub fn count(&mut self, name: &str, value: u64) -> &mut Emf {
        self.metric(name, Unit::Count, value)
    }

    /// A metric of several values (finite ones, the first [`MAX_VALUES`]); nothing when there
    /// are none.
    pub fn values(&mut self, name: &str, unit: Unit, values: &[f64]) -> &mut Emf {
        let values: Vec<f64> = values
            .iter()
            .copied()
            .filter(|value| value.is_finite())
            .take(MAX_VALUES)
            .collect();
        if values.is_empty() {
            return self;
        }
        self.metric(name, unit, values)
    }

    fn metric(&mut self, name: &str, unit: Unit, value: impl Into<Value>) -> &mut Emf {
        self.metrics.push(json!({"Name": name, "Unit": unit.name()}));
        self.property(name, value)
    }

    /// The document.
    pub fn to_value(&self) -> Value {
        let mut root = self.root.clone();
        root.insert(
            "_aws".to_string(),
            json!({
                "Timestamp": self.timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": crate::NAMESPACE,
                    "Dimensions": [self.dimensions],
                    "Metrics": self.metrics,
                }],
            }),
        );
        Value::Object(root)
    }
}

/// The document as one line.
impl std::fmt::Display for Emf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.to_value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_that_declares_every_metric_it_carries() {
        let mut emf = Emf::at(1_795_355_100_123);
        emf.dimension("FunctionName", "sluice-forwarder")
            .property("Mode", "subscribe")
            .count("Indexed", 7)
            .values("BulkLatencyMs", Unit::Milliseconds, &[12.5, f64::NAN, 30.0])
            .values("Nothing", Unit::Milliseconds, &[]);
        let line = emf.to_string();
        assert!(!line.contains('\n'));
        let value: Value = serde_json::from_str(&line).expect("JSON");
        assert_eq!(value["_aws"]["Timestamp"], 1_795_355_100_123_i64);
        let directive = &value["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "Sluice");
        assert_eq!(directive["Dimensions"], json!([["FunctionName"]]));
        assert_eq!(
            directive["Metrics"],
            json!([
                {"Name": "Indexed", "Unit": "Count"},
                {"Name": "BulkLatencyMs", "Unit": "Milliseconds"}
            ])
        );
        assert_eq!(value["FunctionName"], "sluice-forwarder");
        assert_eq!(value["Mode"], "subscribe");
        assert_eq!(value["Indexed"], 7);
        assert_eq!(value["BulkLatencyMs"], json!([12.5, 30.0]));
        assert!(value.get("Nothing").is_none());
    }

    #[test]
    fn at_most_a_hundred_values_a_metric() {
        let many = vec![1.0; 150];
        let value = Emf::at(0).values("Latency", Unit::Milliseconds, &many).to_value();
        assert_eq!(value["Latency"].as_array().map(Vec::len), Some(MAX_VALUES));
    }
}

//! Counts of one invocation as CloudWatch Embedded Metric Format: one JSON log line that
//! CloudWatch turns into metrics, no API call needed, written by [`sluice_edge::emf`].

pub use sluice_edge::NAMESPACE;
use sluice_edge::emf::{Emf, Unit};

use crate::summary::Summary;

/// The one EMF line of an invocation of `function_name`: its counts and the latencies of its bulk
/// requests, stamped now.
pub(crate) fn emf(summary: &Summary, bulk_latency_ms: &[f64], function_name: &str) -> String {
    write(
        Emf::now(),
        &[("FunctionName", function_name)],
        summary,
        bulk_latency_ms,
    )
}

/// [`emf`] with an explicit timestamp (milliseconds since the epoch) and dimensions.
pub fn emf_at(
    timestamp_ms: i64,
    dimensions: &[(&str, &str)],
    counts: &Summary,
    bulk_latency_ms: &[f64],
) -> String {
    write(Emf::at(timestamp_ms), dimensions, counts, bulk_latency_ms)
}

fn write(mut emf: Emf, dimensions: &[(&str, &str)], counts: &Summary, bulk_latency_ms: &[f64]) -> String {
    for (name, value) in dimensions {
        emf.dimension(name, value);
    }
    emf.count("EventsReceived", counts.events)
        .count("Indexed", counts.indexed)
        .count("Duplicates", counts.duplicates)
        .count("Retried", counts.retried)
        .count("DeadLettered", counts.dead_lettered)
        .count("Failed", counts.failed)
        .count("Skipped", counts.skipped)
        .count("ObjectsRead", counts.objects)
        .count("ObjectsFailed", counts.objects_failed);
    // Only where tags are read, and only when a lookup failed: most lines never carry it.
    if counts.tag_lookups_failed > 0 {
        emf.count("TagLookupsFailed", counts.tag_lookups_failed);
    }
    // Only where a bucket holds objects of no logs (CloudTrail digest files).
    if counts.objects_skipped > 0 {
        emf.count("ObjectsSkipped", counts.objects_skipped);
    }
    // Only where an object outlasted an invocation, or its continuation found it replaced.
    if counts.objects_continued > 0 {
        emf.count("ObjectsContinued", counts.objects_continued);
    }
    if counts.continuations_refused > 0 {
        emf.count("ContinuationsRefused", counts.continuations_refused);
    }
    // Likewise only when a document's time lay outside INDEX_TIME_WINDOW_DAYS.
    if counts.out_of_window > 0 {
        emf.count("OutOfWindow", counts.out_of_window);
    }
    // Only when input went past a limit (docs/forwarder.md, "Limits").
    for (name, count) in [
        ("Truncated", counts.truncated),
        ("JsonTooDeep", counts.json_too_deep),
        ("JsonTooManyFields", counts.json_too_many_fields),
    ] {
        if count > 0 {
            emf.count(name, count);
        }
    }
    emf.values("BulkLatencyMs", Unit::Milliseconds, bulk_latency_ms);
    emf.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn one_line_in_the_documented_shape() {
        let counts = Summary {
            events: 10,
            indexed: 7,
            duplicates: 1,
            dead_lettered: 1,
            failed: 1,
            ..Default::default()
        };
        let line = emf_at(
            1_795_355_100_123,
            &[("FunctionName", "sluice-forwarder")],
            &counts,
            &[12.5, 30.0],
        );
        assert!(!line.contains('\n'));
        let value: Value = serde_json::from_str(&line).expect("JSON");
        let directive = &value["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(value["_aws"]["Timestamp"], 1_795_355_100_123_i64);
        assert_eq!(directive["Namespace"], "Sluice");
        assert_eq!(directive["Dimensions"], json!([["FunctionName"]]));
        assert_eq!(value["FunctionName"], "sluice-forwarder");
        // Every declared metric has a value at the root, as the specification requires.
        let metrics = directive["Metrics"].as_array().expect("metrics");
        assert_eq!(metrics.len(), 10);
        for metric in metrics {
            let name = metric["Name"].as_str().expect("name");
            assert!(!value[name].is_null(), "{name} has no value");
        }
        assert_eq!(value["Indexed"], 7);
        assert_eq!(value["BulkLatencyMs"], json!([12.5, 30.0]));
    }

    #[test]
    fn failed_tag_lookups_are_a_metric_only_when_there_are_some() {
        let counts = Summary {
            tag_lookups_failed: 2,
            out_of_window: 3,
            truncated: 4,
            json_too_many_fields: 5,
            ..Default::default()
        };
        let value: Value = serde_json::from_str(&emf_at(0, &[], &counts, &[])).expect("JSON");
        assert_eq!(value["TagLookupsFailed"], 2);
        assert_eq!(value["OutOfWindow"], 3);
        assert_eq!(
            (value["Truncated"].as_u64(), value["JsonTooManyFields"].as_u64()),
            (Some(4), Some(5))
        );
        assert!(value.get("JsonTooDeep").is_none());
        let metrics = &value["_aws"]["CloudWatchMetrics"][0]["Metrics"];
        assert!(
            metrics
                .as_array()
                .expect("metrics")
                .iter()
                .any(|m| m["Name"] == "TagLookupsFailed")
        );
        let none: Value = serde_json::from_str(&emf_at(0, &[], &Summary::default(), &[])).expect("JSON");
        assert!(none.get("TagLookupsFailed").is_none());
        assert!(none.get("OutOfWindow").is_none());
        assert!(none.get("Truncated").is_none());
    }

    #[test]
    fn no_latency_metric_without_requests() {
        let value: Value = serde_json::from_str(&emf_at(0, &[], &Summary::default(), &[])).expect("JSON");
        assert!(value.get("BulkLatencyMs").is_none());
        assert_eq!(
            value["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                .as_array()
                .map(Vec::len),
            Some(9)
        );
    }
}

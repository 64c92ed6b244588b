//! One JSON log line and one CloudWatch embedded-metric-format (EMF) line per sweep invocation.

use serde_json::{Value, json};

use crate::plan::{Mode, Totals};

/// The EMF namespace the subscriber's metrics go to.
pub const NAMESPACE: &str = "Sluice/Subscriber";

/// The EMF document for one invocation's totals (the counts of the whole pass so far).
/// `complete` is 1 when the pass finished, 0 when it continues in another invocation.
/// Format: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>
pub fn emf(function: &str, mode: Mode, totals: &Totals, complete: bool, timestamp_ms: i64) -> Value {
    let counts = counts(totals);
    let mut metrics: Vec<Value> = counts
        .iter()
        .map(|(name, _)| json!({"Name": name, "Unit": "Count"}))
        .collect();
    metrics.push(json!({"Name": "PassComplete", "Unit": "Count"}));
    let mut document = json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["FunctionName"]],
                "Metrics": metrics,
            }],
        },
        "FunctionName": function,
        "Mode": mode,
        "PassComplete": u8::from(complete),
    });
    for (name, value) in counts {
        document[name] = json!(value);
    }
    document
}

/// Logs the totals as structured fields, and prints the EMF line on stdout (Lambda ships stdout
/// to the function's log group, where CloudWatch extracts the metrics).
pub fn report(function: &str, mode: Mode, totals: &Totals, complete: bool) {
    tracing::info!(
        mode = ?mode,
        complete,
        seen = totals.seen,
        subscribed = totals.subscribe,
        updated = totals.update,
        unchanged = totals.unchanged,
        excluded = totals.excluded,
        conflicts = totals.conflict,
        unsupported = totals.unsupported,
        removed = totals.remove,
        retention_set = totals.retention_set,
        errors = totals.errors,
        "sweep progress"
    );
    let now = chrono::Utc::now().timestamp_millis();
    println!("{}", emf(function, mode, totals, complete, now));
}

fn counts(totals: &Totals) -> [(&'static str, u64); 10] {
    [
        ("GroupsSeen", totals.seen),
        ("Subscribed", totals.subscribe),
        ("Updated", totals.update),
        ("Unchanged", totals.unchanged),
        ("Excluded", totals.excluded),
        ("Conflicts", totals.conflict),
        ("Unsupported", totals.unsupported),
        ("Removed", totals.remove),
        ("RetentionSet", totals.retention_set),
        ("Errors", totals.errors),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_declares_every_metric_it_carries() {
        let totals = Totals {
            seen: 7,
            subscribe: 3,
            conflict: 1,
            errors: 2,
            ..Totals::default()
        };
        let doc = emf(
            "sluice-subscriber",
            Mode::Subscribe,
            &totals,
            false,
            1_700_000_000_000,
        );
        let declared = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(declared["Namespace"], NAMESPACE);
        assert_eq!(declared["Dimensions"], json!([["FunctionName"]]));
        for metric in declared["Metrics"].as_array().expect("metrics") {
            let name = metric["Name"].as_str().expect("name");
            assert!(doc[name].is_u64(), "{name} declared but not present");
        }
        assert_eq!(doc["GroupsSeen"], 7);
        assert_eq!(doc["Subscribed"], 3);
        assert_eq!(doc["Conflicts"], 1);
        assert_eq!(doc["Errors"], 2);
        assert_eq!(doc["PassComplete"], 0);
        assert_eq!(doc["FunctionName"], "sluice-subscriber");
        assert_eq!(doc["_aws"]["Timestamp"], 1_700_000_000_000_i64);
    }
}

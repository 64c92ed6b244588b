//! One JSON log line and one CloudWatch embedded-metric-format (EMF) line per sweep invocation,
//! written by [`sluice_edge::emf`], and where that line goes ([`MetricsOut`]).

use std::sync::{Arc, Mutex};

use serde_json::Value;
use sluice_edge::Emf;

use crate::plan::{Mode, Totals};

pub use sluice_edge::NAMESPACE;

/// How far a sweep's pass has come, over all its invocations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Log groups handled by the pass so far.
    pub seen: u64,
    /// Whether the pass finished in this invocation.
    pub complete: bool,
}

/// The EMF document of one invocation: the counts of what this invocation did (so a metric's
/// sum over a period counts each group once, however many invocations a pass takes), plus, for a
/// sweep, the pass's progress (`PassGroupsSeen`, and `PassComplete` 1 when it finished).
pub fn emf(
    function: &str,
    mode: Mode,
    invocation: &Totals,
    pass: Option<Progress>,
    timestamp_ms: i64,
) -> Value {
    let mut emf = Emf::at(timestamp_ms);
    emf.dimension("FunctionName", function)
        .property("Mode", serde_json::to_value(mode).unwrap_or_default());
    for (name, value) in counts(invocation) {
        emf.count(name, value);
    }
    if let Some(pass) = pass {
        emf.count("PassGroupsSeen", pass.seen)
            .count("PassComplete", u64::from(pass.complete));
    }
    emf.to_value()
}

/// Logs the counts as structured fields and hands the EMF document to `out`. Returns the
/// document.
pub fn report(
    function: &str,
    mode: Mode,
    invocation: &Totals,
    pass: Option<Progress>,
    out: &dyn MetricsOut,
) -> Value {
    tracing::info!(
        mode = ?mode,
        complete = pass.map(|pass| pass.complete),
        pass_seen = pass.map(|pass| pass.seen),
        seen = invocation.seen,
        subscribed = invocation.subscribe,
        updated = invocation.update,
        unchanged = invocation.unchanged,
        excluded = invocation.excluded,
        conflicts = invocation.conflict,
        unsupported = invocation.unsupported,
        removed = invocation.remove,
        retention_set = invocation.retention_set,
        errors = invocation.errors,
        "subscriber counts"
    );
    let document = emf(
        function,
        mode,
        invocation,
        pass,
        chrono::Utc::now().timestamp_millis(),
    );
    out.emit(&document);
    document
}

/// Where an invocation's EMF document goes.
pub trait MetricsOut: Send + Sync + std::fmt::Debug {
    /// Takes one invocation's document.
    fn emit(&self, document: &Value);
}

/// Lambda's: one line on stdout, which Lambda ships to the function's log group, where
/// CloudWatch extracts the metrics.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stdout;

impl MetricsOut for Stdout {
    fn emit(&self, document: &Value) {
        println!("{document}");
    }
}

/// Nowhere: where stdout is a person's terminal, or a test's.
#[derive(Debug, Clone, Copy, Default)]
pub struct Discard;

impl MetricsOut for Discard {
    fn emit(&self, _document: &Value) {}
}

/// Kept in memory, for whoever holds the other end (a test, the demo).
impl MetricsOut for Arc<Mutex<Vec<Value>>> {
    fn emit(&self, document: &Value) {
        if let Ok(mut documents) = self.lock() {
            documents.push(document.clone());
        }
    }
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
    use serde_json::json;

    #[test]
    fn emf_declares_every_metric_it_carries() {
        let totals = Totals {
            seen: 7,
            subscribe: 3,
            conflict: 1,
            errors: 2,
            ..Totals::default()
        };
        let pass = Progress {
            seen: 350,
            complete: false,
        };
        let doc = emf(
            "sluice-subscriber",
            Mode::Subscribe,
            &totals,
            Some(pass),
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
        assert_eq!(doc["PassGroupsSeen"], 350);
        assert_eq!(doc["PassComplete"], 0);
        assert_eq!(doc["FunctionName"], "sluice-subscriber");
        assert_eq!(doc["_aws"]["Timestamp"], 1_700_000_000_000_i64);
    }

    #[test]
    fn a_single_group_reports_no_pass_progress() {
        let totals = Totals {
            seen: 1,
            errors: 1,
            ..Totals::default()
        };
        let doc = emf("sluice-subscriber", Mode::Subscribe, &totals, None, 0);
        assert_eq!(doc["Errors"], 1);
        assert!(doc.get("PassComplete").is_none(), "{doc}");
        let names: Vec<&str> = doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .expect("metrics")
            .iter()
            .filter_map(|metric| metric["Name"].as_str())
            .collect();
        assert!(!names.contains(&"PassGroupsSeen"), "{names:?}");
    }
}

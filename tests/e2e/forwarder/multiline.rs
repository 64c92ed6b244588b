//! Stack traces sent one line per event (`MULTILINE`): a Java trace from
//! tests/fixtures/forwarder/multiline becomes one document in osmem-server, a Lambda retry of the
//! batch adds nothing, and `MULTILINE=off` keeps one document per line.

use serde_json::Value;
use sluice_harness::OsMem;

use super::*;

/// The Java fixture, one event per line, ids `java-<i>`, one millisecond apart.
fn java_trace_events() -> (Vec<String>, Vec<Value>) {
    let path = sluice_harness::workspace_root().join("tests/fixtures/forwarder/multiline/java.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let events = (lines.iter().enumerate())
        .map(|(i, line)| event(&format!("java-{i}"), NOV_22_10H + i as i64, line))
        .collect();
    (lines, events)
}

#[tokio::test]
async fn a_java_trace_split_into_events_is_one_document_with_its_count() {
    let osmem = OsMem::start();
    let forwarder = forwarder(osmem.url(), &[]).await;
    let (lines, events) = java_trace_events();
    let batch = awslogs_event(&logs_data("/ecs/orders", events));

    let handled = forwarder
        .handle(batch.clone(), deadline_in(60.0))
        .await
        .expect("delivered");

    assert_eq!(handled.summary.events, 24);
    assert_eq!(
        handled.summary.indexed, 24,
        "counts are of events, the trace's included"
    );
    assert_counts_add_up(&handled.summary);
    assert_eq!(
        osmem.count("cwl-2026.11.22").await.expect("count"),
        3,
        "the line before, the trace, the line after"
    );
    let doc = osmem
        .request("GET", &event_doc("cwl-2026.11.22", "/ecs/orders", "java-1"), None)
        .await
        .expect("the trace's document, under its first event's id");
    let source = &doc["_source"];
    assert_eq!(source["message"], lines[1..23].join("\n"));
    assert_eq!(source["multiline"]["events"], 22);
    assert_eq!(source["@timestamp"], "2026-11-22T10:00:00.001Z");
    let message = source["message"].as_str().unwrap_or_default();
    assert!(message.contains("Caused by: java.sql.SQLTransientConnectionException"));
    assert!(message.ends_with("\t... 12 more"));
    let after = osmem
        .request(
            "GET",
            &event_doc("cwl-2026.11.22", "/ecs/orders", "java-23"),
            None,
        )
        .await
        .expect("the line after the trace");
    assert!(after["_source"].get("multiline").is_none());

    let retried = forwarder
        .handle(batch, deadline_in(60.0))
        .await
        .expect("delivered again");
    assert_eq!(
        (retried.summary.duplicates, retried.summary.indexed),
        (24, 0),
        "a retried batch merges the same way, under the same ids"
    );
    assert_counts_add_up(&retried.summary);
    assert_eq!(osmem.count("cwl-2026.11.22").await.expect("count"), 3);
}

#[tokio::test]
async fn multiline_off_indexes_every_line_apart() {
    let osmem = OsMem::start();
    let forwarder = forwarder(osmem.url(), &[("MULTILINE", "off")]).await;
    let (lines, events) = java_trace_events();

    let handled = forwarder
        .handle(
            awslogs_event(&logs_data("/ecs/orders", events)),
            deadline_in(60.0),
        )
        .await
        .expect("delivered");

    assert_eq!(handled.summary.indexed, 24);
    assert_eq!(osmem.count("cwl-2026.11.22").await.expect("count"), 24);
    let frame = osmem
        .request("GET", &event_doc("cwl-2026.11.22", "/ecs/orders", "java-3"), None)
        .await
        .expect("a frame's own document");
    assert_eq!(frame["_source"]["message"], lines[3].as_str());
}

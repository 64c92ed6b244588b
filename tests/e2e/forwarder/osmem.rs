//! The forwarder against osmem-server: generated batches indexed into their dated indices with
//! their fields, replays counted as duplicates, mapping conflicts ending in the fallback document
//! or the dead-letter index, undecodable Kinesis records preserved, on-failure records replayed.

use std::process::Command;

use serde_json::{Value, json};
use sluice_forwarder::{ErrorType, Input};
use sluice_harness::OsMem;

use super::*;

/// 2026-11-21T23:59:58Z: two events on the 21st, the rest on the 22nd.
const NOV_21_LAST_SECONDS: i64 = 1_795_305_598_000;

#[tokio::test]
async fn every_event_lands_in_its_dated_index_with_its_fields() {
    let osmem = OsMem::start();
    let forwarder = forwarder(osmem.url(), &[]).await;
    let mut events = numbered_events("day", NOV_21_LAST_SECONDS, 5);
    events.push(event(
        "report-1",
        NOV_22_10H,
        "REPORT RequestId: 6f1c\tDuration: 12.50 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 60 MB\t\n",
    ));
    let batch = logs_data("/aws/lambda/checkout-api", events);

    let handled = forwarder
        .handle(awslogs_event(&batch), deadline_in(60.0))
        .await
        .expect("delivered");

    assert_eq!(handled.summary.indexed, 6);
    assert_eq!(osmem.count("cwl-2026.11.21").await.expect("count"), 2);
    assert_eq!(osmem.count("cwl-2026.11.22").await.expect("count"), 4);
    let doc = osmem
        .request(
            "GET",
            &event_doc("cwl-2026.11.21", "/aws/lambda/checkout-api", "day-0"),
            None,
        )
        .await
        .expect("document");
    let source = &doc["_source"];
    assert_eq!(
        source["@timestamp"], "2026-11-21T23:59:58.000Z",
        "the event time, not the forwarding time"
    );
    assert_eq!(
        source["aws"]["cloudwatch"]["log_group"],
        "/aws/lambda/checkout-api"
    );
    assert_eq!(source["cloud"]["account"]["id"], "123456789012");
    assert_eq!(source["cloud"]["region"], "us-east-1");
    assert_eq!(source["event"]["id"], "day-0");
    assert_eq!(source["json"]["message"], "request 0 handled");
    let report = osmem
        .request(
            "GET",
            &event_doc("cwl-2026.11.22", "/aws/lambda/checkout-api", "report-1"),
            None,
        )
        .await
        .expect("document");
    assert!(
        report["_source"]["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("REPORT RequestId")
    );
    assert_counts_add_up(&handled.summary);
}

#[tokio::test]
async fn a_generated_set_is_indexed_whole_and_a_replay_adds_nothing() {
    let osmem = OsMem::start();
    let forwarder = forwarder(osmem.url(), &[]).await;
    let script = sluice_harness::workspace_root().join("tools/gen_payloads.py");
    let output = Command::new("python3")
        .arg(&script)
        .args(["--batches", "8", "--events", "150", "--control"])
        .output()
        .expect("run gen_payloads.py");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("generated event is JSON"))
        .collect();

    let mut first = Summary::default();
    for line in &lines {
        let handled = forwarder
            .handle(line.clone(), deadline_in(60.0))
            .await
            .expect("delivered");
        first.add(&handled.summary);
    }
    let indexed = osmem.count("cwl-*").await.expect("count");
    assert_eq!(first.events, 8 * 150 + 1, "eight batches and one control message");
    assert_eq!(
        first.skipped, 1,
        "the control message is acknowledged and skipped"
    );
    assert_eq!(first.indexed, 1200);
    assert_eq!(indexed, 1200, "every event is in OpenSearch");
    assert_counts_add_up(&first);

    let mut replay = Summary::default();
    for line in &lines {
        let handled = forwarder
            .handle(line.clone(), deadline_in(60.0))
            .await
            .expect("delivered");
        replay.add(&handled.summary);
    }
    assert_eq!(
        osmem.count("cwl-*").await.expect("count"),
        indexed,
        "a replay adds no document"
    );
    assert_eq!(replay.duplicates, 1200);
    assert_eq!(replay.indexed, 0);
    assert_counts_add_up(&replay);
}

#[tokio::test]
async fn a_mapping_conflict_ends_in_the_fallback_document_never_lost() {
    let osmem = OsMem::start();
    let forwarder = forwarder(osmem.url(), &[]).await;
    // An index that maps json.status as a number and rejects malformed values (the forwarder's
    // own template ignores them, so this is what a team's stricter mapping looks like).
    let mapping = json!({
        "settings": {"index.mapping.ignore_malformed": false},
        "mappings": {"properties": {"json": {"properties": {"status": {"type": "long"}}}}},
    });
    osmem
        .request("PUT", "/cwl-2026.11.22", Some(mapping))
        .await
        .expect("create index");
    let first = logs_data(
        "/aws/lambda/api",
        vec![event("num", NOV_22_10H, r#"{"status": 200}"#)],
    );
    let second = logs_data(
        "/aws/lambda/api",
        vec![event("text", NOV_22_10H + 1, r#"{"status": "ok"}"#)],
    );

    forwarder
        .handle(awslogs_event(&first), deadline_in(60.0))
        .await
        .expect("first");
    let handled = forwarder
        .handle(awslogs_event(&second), deadline_in(60.0))
        .await
        .expect("second");

    assert_eq!(handled.summary.indexed, 1);
    assert_eq!(handled.summary.fallbacks, 1, "indexed as its fallback");
    let doc = osmem
        .request(
            "GET",
            &event_doc("cwl-2026.11.22", "/aws/lambda/api", "text"),
            None,
        )
        .await
        .expect("document");
    assert_eq!(
        doc["_source"]["message"], r#"{"status": "ok"}"#,
        "the raw message is kept"
    );
    assert!(
        doc["_source"].get("json").is_none(),
        "the conflicting parsed field is dropped"
    );
    assert_eq!(osmem.count("cwl-2026.11.22").await.expect("count"), 2);
    assert_counts_add_up(&handled.summary);
}

#[tokio::test]
async fn an_undecodable_kinesis_record_is_preserved_in_the_dead_letter_index() {
    let osmem = OsMem::start();
    let forwarder = forwarder(osmem.url(), &[]).await;
    let good = gzip_json(&logs_data(
        "/aws/lambda/orders",
        numbered_events("k", NOV_22_10H, 3),
    ));
    let bad = b"Hello, this is a test.".to_vec();

    let handled = forwarder
        .handle(kinesis_event(&[good, bad]), deadline_in(60.0))
        .await
        .expect("answered");

    assert_eq!(
        handled.response,
        json!({"batchItemFailures": []}),
        "nothing blocks the shard"
    );
    assert_eq!(handled.summary.indexed, 3);
    assert_eq!(handled.summary.dead_lettered, 1);
    let doc = osmem
        .request("GET", "/cwl-dead-letter/_doc/kinesis-seq-1", None)
        .await
        .expect("dead letter");
    assert_eq!(doc["_source"]["raw_base64"], "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==");
    assert!(
        doc["_source"]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("record 1")
    );
    assert_counts_add_up(&handled.summary);
}

#[tokio::test]
async fn an_on_failure_record_replays_the_original_event() {
    let osmem = OsMem::start();
    let forwarder = forwarder(osmem.url(), &[]).await;
    let original = awslogs_event(&logs_data(
        "/aws/lambda/orders",
        numbered_events("r", NOV_22_10H, 4),
    ));
    let fixture = include_str!("../../fixtures/forwarder/async-invocation-record.json");
    let mut record: Value = serde_json::from_str(fixture).expect("fixture");
    record["requestPayload"] = original;
    assert!(matches!(
        Input::from_value(record.clone()),
        Ok(Input::Awslogs { .. })
    ));

    let handled = forwarder
        .handle(record, deadline_in(60.0))
        .await
        .expect("replayed");

    assert_eq!(handled.summary.indexed, 4);
    assert_eq!(osmem.count("cwl-2026.11.22").await.expect("count"), 4);
}

#[tokio::test]
async fn malformed_input_fails_with_what_and_where() {
    let osmem = OsMem::start();
    let forwarder = forwarder(osmem.url(), &[]).await;
    for (event, expected) in [
        (json!({"awslogs": {"data": "%%% not base64"}}), "base64"),
        (json!({"awslogs": {"data": "aGVsbG8="}}), "gzip"),
        (json!({"awslogs": {}}), "data"),
        (json!({"something": "else"}), "something"),
    ] {
        let err = forwarder
            .handle(event, deadline_in(10.0))
            .await
            .expect_err("malformed");
        let text = err.to_string();
        assert!(text.contains(expected) && text.contains("the event"), "{text}");
        assert_eq!(err.error_type(), "MalformedInput");
    }
}

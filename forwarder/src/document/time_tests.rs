//! Issue 28: the times of records, as the documents say them. Item 6: a time outside
//! `INDEX_TIME_WINDOW_DAYS` is indexed at its read time, its own kept and counted. Item 7: a time
//! with ISO 8601's basic offset (`+0000`, Network Firewall's own) is the record's time. The lines
//! are written for these tests.

use std::sync::Arc;

use serde_json::json;

use super::tests::{builder, records, source};
use super::*;
use crate::source::s3::format::S3Options;
use crate::source::s3::read::{Located, read_object};
use crate::source::s3::{Chunk, Format, Records};

/// The read time of these tests: 2026-12-06T12:00:00Z.
const READ: i64 = 1_796_558_400_000;

/// The default window, read at [`READ`].
fn read_at_read() -> DocumentOptions {
    DocumentOptions {
        time_window: TimeWindow::default().read_at(READ),
        ..DocumentOptions::default()
    }
}

/// A subscription batch of one event per time.
fn events_at(times: &[i64]) -> Arc<crate::source::Batch> {
    let events: Vec<_> = (times.iter().enumerate())
        .map(|(i, time)| json!({"id": format!("3795310660696698337880902507980421114328961542429822156{i}"), "timestamp": time, "message": format!("event {i}")}))
        .collect();
    let data = serde_json::from_value(json!({
        "messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/checkout-api",
        "logStream": "2026/12/06/[$LATEST]abc", "subscriptionFilters": ["sluice"], "logEvents": events
    }))
    .expect("valid batch");
    Arc::new(crate::source::Batch {
        ack: Ack::Invocation,
        data,
        tags: None,
    })
}

/// The records `body` gives, read as the key `flows/alerts.json` with `S3_TIMESTAMP_FIELDS`
/// `fields`; the object was last modified at 2026-11-29T10:00:00Z.
fn read(body: &str, fields: &str) -> Arc<Records> {
    let options = S3Options {
        timestamp_fields: fields
            .split(',')
            .map(|field| field.split('.').map(str::to_owned).collect())
            .collect(),
        ..S3Options::default()
    };
    let located = Located {
        bucket: "central-logs".into(),
        key: "flows/alerts.json".into(),
        etag: "9b2cf535f27731c974343645a3985328".into(),
        last_modified_ms: 1_795_946_400_000,
        key_fields: Vec::new(),
    };
    let mut records = None;
    read_object(body.as_bytes(), located, Ack::Invocation, &options, |chunk| {
        if let Chunk::Records(chunk) = chunk {
            records = Some(Arc::new(chunk));
        }
        Ok(())
    })
    .expect("the object reads");
    records.expect("records")
}

#[test]
fn a_time_with_a_basic_offset_is_the_documents_timestamp_and_index_date() {
    let body = concat!(
        r#"{"firewall_name":"egress","event":{"timestamp":"2026-11-28T23:41:40.637611+0000","event_type":"alert"}}"#,
        "\n",
        r#"{"firewall_name":"egress","event":{"timestamp":"2026-11-28T15:41:40.637-0800","event_type":"alert"}}"#,
        "\n",
        r#"{"firewall_name":"egress","event":{"timestamp":"2026-11-29T05:11:40.637+0530","event_type":"alert"}}"#,
        "\n",
    );
    let records = read(body, "event.timestamp");
    let docs = builder(DocumentOptions::default())
        .record_documents(&records)
        .docs;
    assert_eq!(docs.len(), 3);
    for doc in &docs {
        assert_eq!(
            source(doc)["@timestamp"],
            "2026-11-28T23:41:40.637Z",
            "{}",
            doc.source
        );
        assert_eq!(
            doc.index, "s3-2026.11.28",
            "not the object's LastModified, 2026.11.29"
        );
    }
}

/// A flow log line whose `start` lost a digit (1975) goes to the read day's index, not to
/// `vpcflow-1975.03.14`; its own time is kept and counted. Its neighbour keeps its own time.
#[test]
fn a_flow_log_start_far_in_the_past_is_indexed_at_the_read_time() {
    let records = records(
        Format::VpcFlow,
        &[
            "2 123456789012 eni-0a1b2c3d4e5f67890 10.0.1.5 203.0.113.10 49152 443 6 10 5120 164000066 1795946460 ACCEPT OK",
            "2 123456789012 eni-0a1b2c3d4e5f67890 10.0.1.5 203.0.113.10 49153 443 6 10 5120 1795946400 1795946460 ACCEPT OK",
        ],
    );
    let builder = builder(read_at_read());
    let documents = builder.record_documents(&records);
    assert_eq!(documents.out_of_window, 1);
    let (wild, fine) = (&documents.docs[0], &documents.docs[1]);
    assert_eq!(wild.index, "vpcflow-2026.12.06");
    let written = source(wild);
    assert_eq!(written["@timestamp"], "2026-12-06T12:00:00.000Z");
    assert_eq!(written[ORIGINAL_TIME_FIELD], 164_000_066_000_i64);
    assert!(written.get("parse_error").is_none(), "{written}");
    assert_eq!(fine.index, "vpcflow-2026.11.29");
    assert!(source(fine).get(ORIGINAL_TIME_FIELD).is_none());

    let fallback = builder.fallback(wild).expect("a record has a fallback");
    assert_eq!(fallback.index, wild.index, "its fallback goes where it went");
    let dead = builder
        .dead_letter(wild, "mapper_parsing_exception")
        .expect("dead letter");
    assert_eq!(source(&dead)["index"], "vpcflow-2026.12.06");
}

/// Every source's time: a subscription's events (in both shapes), a JSON line a week ahead.
#[test]
fn times_outside_the_window_from_any_source_are_indexed_at_the_read_time() {
    let batch = events_at(&[164_000_066_000, READ - 1000, READ + 2 * 86_400_000]);
    let documents = builder(read_at_read()).documents(&batch);
    assert_eq!(documents.out_of_window, 2);
    let indices: Vec<&str> = documents.docs.iter().map(|doc| doc.index.as_str()).collect();
    assert_eq!(indices, ["cwl-2026.12.06"; 3]);
    let times: Vec<Value> = documents
        .docs
        .iter()
        .map(|doc| source(doc)[ORIGINAL_TIME_FIELD].clone())
        .collect();
    assert_eq!(
        times,
        [
            json!(164_000_066_000_i64),
            Value::Null,
            json!(READ + 2 * 86_400_000)
        ]
    );
    let blueprint = DocumentOptions {
        format: DocumentFormat::Blueprint,
        ..read_at_read()
    };
    let doc = &builder(blueprint).documents(&batch).docs[0];
    assert_eq!(source(doc)["@timestamp"], "2026-12-06T12:00:00.000Z");
    assert_eq!(source(doc)[ORIGINAL_TIME_FIELD], 164_000_066_000_i64);

    let records = read(
        r#"{"timestamp":"2026-12-13T12:00:00Z","msg":"clock a week ahead"}"#,
        "timestamp",
    );
    let documents = builder(read_at_read()).record_documents(&records);
    assert_eq!(documents.out_of_window, 1);
    assert_eq!(documents.docs[0].index, "s3-2026.12.06");
    assert_eq!(
        source(&documents.docs[0])[ORIGINAL_TIME_FIELD],
        1_797_163_200_000_i64
    );

    // A narrower window: two days back.
    let narrow = DocumentOptions {
        time_window: TimeWindow::days(2, 1).read_at(READ),
        ..DocumentOptions::default()
    };
    let documents = builder(narrow).documents(&events_at(&[READ - 3 * 86_400_000, READ - 86_400_000]));
    assert_eq!(documents.out_of_window, 1);
    assert_eq!(documents.docs[1].index, "cwl-2026.12.05");
}

//! Issue 28: the times of records, as the documents say them. Item 7: a time with ISO 8601's
//! basic offset (`+0000`, Network Firewall's own) is the record's time. The lines are written
//! for these tests.

use std::sync::Arc;

use super::tests::{builder, source};
use super::*;
use crate::source::s3::format::S3Options;
use crate::source::s3::read::{Located, read_object};
use crate::source::s3::{Chunk, Records};

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

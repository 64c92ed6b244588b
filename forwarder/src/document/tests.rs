use std::sync::Arc;

use serde_json::json;

use super::index::{Granularity, IndexNaming};
use super::*;
use crate::source::{Ack, Batch, LogsData};

pub(crate) const REQ: &str = "c0b7a9d4-51c4-4c5b-9d3e-2f1e8a6b7c01";

/// A batch shaped like the CloudWatch Logs documentation's example
/// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html#LambdaFunctionExample>),
/// with messages a Node.js Lambda function writes.
pub(crate) fn batch(messages: &[&str]) -> Arc<Batch> {
    let events: Vec<_> = messages
        .iter()
        .enumerate()
        .map(|(i, message)| {
            json!({"id": format!("3195310660696698337880902507980421114328961542429822156{i}"),
                   "timestamp": 1_795_355_100_123_i64 + i as i64, "message": message})
        })
        .collect();
    let data: LogsData = serde_json::from_value(json!({
        "messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/checkout-api",
        "logStream": "2026/11/22/[$LATEST]abc", "subscriptionFilters": ["sluice"], "logEvents": events
    }))
    .expect("valid batch");
    Arc::new(Batch {
        ack: Ack::Invocation,
        data,
        tags: None,
    })
}

/// The position in its batch of the event a document was built from.
fn position(doc: &Document) -> usize {
    match &doc.origin {
        Origin::Event(event) => event.position(),
        Origin::Record(_) | Origin::Unreadable { .. } => panic!("not a log event's document"),
    }
}

pub(crate) fn builder(options: DocumentOptions) -> DocumentBuilder {
    DocumentBuilder::new(options, "eu-west-1".to_owned())
}

/// The `_id` Sluice's shape gives the event at `position`.
fn event_doc_id(data: &LogsData, position: usize) -> String {
    scoped_event_id(&data.owner, &data.log_group, &data.log_events[position].id)
}

pub(crate) fn source(doc: &Document) -> Value {
    serde_json::from_str(&doc.source).unwrap_or_else(|e| panic!("invalid JSON {e}: {}", doc.source))
}

/// Issue 12, item 3: CloudWatch event ids are unique within a log group only, so the `_id` is
/// scoped by owner and log group; the blueprint's shape keeps the blueprint's bare id.
#[test]
fn ids_are_scoped_by_owner_and_log_group_except_in_the_blueprint_shape() {
    let data = batch(&["hello"]);
    let event_id = data.data.log_events[0].id.clone();
    let sluice = builder(DocumentOptions::default())
        .documents(&data)
        .docs
        .remove(0);
    let id = sluice.id.clone().expect("an _id");
    assert!(id.ends_with(&format!("-{event_id}")), "{id}");
    assert_eq!(id.len(), 17 + event_id.len());
    assert_ne!(id, scoped_event_id(&data.data.owner, "/other/group", &event_id));
    assert_ne!(
        id,
        scoped_event_id("210987654321", &data.data.log_group, &event_id)
    );
    assert_eq!(source(&sluice)["event"]["id"], event_id.as_str());
    let blueprint = DocumentOptions {
        format: DocumentFormat::Blueprint,
        ..DocumentOptions::default()
    };
    let doc = builder(blueprint).documents(&data).docs.remove(0);
    assert_eq!(doc.id.as_deref(), Some(event_id.as_str()));
}

#[test]
fn one_document_per_event_with_the_batch_fields() {
    let data = batch(&["hello\n", "world"]);
    let out = builder(DocumentOptions::default()).documents(&data);
    assert_eq!(out.skipped, 0);
    assert_eq!(out.docs.len(), 2);
    let doc = &out.docs[1];
    assert_eq!(doc.index, "cwl-2026.11.22");
    assert_eq!(doc.id, Some(event_doc_id(&data.data, 1)));
    assert_eq!(position(doc), 1);
    assert!(!doc.source.contains('\n'));
    assert_eq!(
        source(doc),
        json!({
            "@timestamp": "2026-11-22T13:45:00.124Z", "message": "world",
            "ecs": {"version": "9.4.0"},
            "cloud": {"provider": "aws", "account": {"id": "123456789012"}, "region": "eu-west-1"},
            "aws": {"cloudwatch": {
                "log_group": "/aws/lambda/checkout-api", "log_stream": "2026/11/22/[$LATEST]abc",
                "subscription_filters": ["sluice"],
            }},
            "event": {"kind": "event", "dataset": "aws.cloudwatch_logs", "id": data.data.log_events[1].id},
            "faas": {"name": "checkout-api"},
        })
    );
}

#[test]
fn report_line_becomes_numbers() {
    let line = format!(
        "REPORT RequestId: {REQ}\tDuration: 102.25 ms\tBilled Duration: 103 ms\tMemory Size: 128 MB\tMax Memory Used: 71 MB\tInit Duration: 380.28 ms\t\n"
    );
    let doc = source(
        &builder(DocumentOptions::default())
            .documents(&batch(&[&line]))
            .docs[0],
    );
    assert_eq!(doc["faas"], json!({"name": "checkout-api", "execution": REQ}));
    assert_eq!(
        doc["aws"]["lambda"],
        json!({"event": "report", "duration_ms": 102.25, "billed_duration_ms": 103, "memory_size_mb": 128,
               "max_memory_used_mb": 71, "init_duration_ms": 380.28})
    );
}

#[test]
fn runtime_json_lands_under_the_json_field_redacted() {
    let line = format!(
        "2026-11-22T13:45:00.123Z\t{REQ}\tWARN\t{{\"title\":\"order\",\"details\":{{\"authorization\":\"Bearer abcdefghijklmnop\",\"items\":3}}}}\n"
    );
    let doc = source(
        &builder(DocumentOptions::default())
            .documents(&batch(&[&line]))
            .docs[0],
    );
    assert_eq!(doc["log"]["level"], "WARN");
    assert_eq!(doc["faas"]["execution"], REQ);
    assert_eq!(
        doc["json"],
        json!({"title": "order", "details": {"authorization": "[REDACTED]", "items": 3}})
    );
    let message = doc["message"].as_str().expect("message");
    assert!(!message.contains("abcdefghijklmnop"), "{message}");
}

#[test]
fn nested_secret_objects_are_redacted_in_message_and_json() {
    let line = r#"{"level":"info","credentials":{"user":"bob","pass":"x1"},"ok":true}"#;
    let doc = source(
        &builder(DocumentOptions::default())
            .documents(&batch(&[line]))
            .docs[0],
    );
    assert_eq!(doc["json"]["credentials"], "[REDACTED]");
    assert!(!doc["message"].as_str().expect("message").contains("x1"));
}

#[test]
fn json_root_mode_keeps_sluice_fields() {
    let options = DocumentOptions {
        json: JsonMode::Root,
        ..Default::default()
    };
    let doc = source(
        &builder(options)
            .documents(&batch(&[r#"{"message":"mine","user":{"id":7}}"#]))
            .docs[0],
    );
    assert_eq!(doc["user"], json!({"id": 7}));
    assert_eq!(doc["message"], r#"{"message":"mine","user":{"id":7}}"#);
    let off = DocumentOptions {
        json: JsonMode::Off,
        ..Default::default()
    };
    let doc = source(&builder(off).documents(&batch(&[r#"{"user":1}"#])).docs[0]);
    assert!(doc.get("json").is_none() && doc.get("user").is_none());
}

#[test]
fn timeout_line_is_an_error() {
    let line = format!("2026-11-22T13:45:30.030Z {REQ} Task timed out after 30.03 seconds\n");
    let doc = source(
        &builder(DocumentOptions::default())
            .documents(&batch(&[&line]))
            .docs[0],
    );
    assert_eq!(doc["log"]["level"], "ERROR");
    assert_eq!(
        doc["aws"]["lambda"],
        json!({"event": "timeout", "timeout_s": 30.03})
    );
}

#[test]
fn extracted_fields_are_kept() {
    let mut data = batch(&["127.0.0.1 frank GET /index.html 200"]);
    Arc::make_mut(&mut data).data.log_events[0].extracted_fields = Some(
        [("ip", "127.0.0.1"), ("user", "frank"), ("status", "200")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    );
    let doc = source(&builder(DocumentOptions::default()).documents(&data).docs[0]);
    assert_eq!(
        doc["extracted_fields"],
        json!({"ip": "127.0.0.1", "user": "frank", "status": "200"})
    );
    let blueprint = DocumentOptions {
        format: DocumentFormat::Blueprint,
        ..Default::default()
    };
    let doc = source(&builder(blueprint).documents(&data).docs[0]);
    assert_eq!(doc["status"], 200);
    assert_eq!(doc["user"], "frank");
}

#[test]
fn blueprint_shape() {
    let options = DocumentOptions {
        format: DocumentFormat::Blueprint,
        ..Default::default()
    };
    let data = batch(&[r#"{"eventVersion":"1.03","@id":"spoofed","userIdentity":{"type":"Root"}}"#]);
    let out = builder(options).documents(&data);
    assert_eq!(out.docs[0].index, "cwl-2026.11.22");
    assert_eq!(
        source(&out.docs[0]),
        json!({
            "eventVersion": "1.03", "userIdentity": {"type": "Root"},
            "@id": data.data.log_events[0].id, "@timestamp": "2026-11-22T13:45:00.123Z",
            "@message": data.data.log_events[0].message, "@owner": "123456789012",
            "@log_group": "/aws/lambda/checkout-api", "@log_stream": "2026/11/22/[$LATEST]abc",
        })
    );
}

#[test]
fn include_and_exclude_count_skipped_events() {
    let options = DocumentOptions {
        filter: MessageFilter::new(&[], &["^(START|END) RequestId".to_owned()]).expect("valid"),
        ..Default::default()
    };
    let data = batch(&[
        &format!("START RequestId: {REQ} Version: $LATEST"),
        "work",
        &format!("END RequestId: {REQ}"),
    ]);
    let out = builder(options).documents(&data);
    assert_eq!(out.skipped, 2);
    assert_eq!(out.docs.len(), 1);
    assert_eq!(position(&out.docs[0]), 1);
}

#[test]
fn id_mode_none_and_index_naming() {
    let options = DocumentOptions {
        id: IdMode::None,
        index: IndexNaming::new("logs", Granularity::Month, true).expect("valid"),
        ..Default::default()
    };
    let doc = &builder(options).documents(&batch(&["x"])).docs[0];
    assert_eq!(doc.id, None);
    assert_eq!(doc.index, "logs-aws-lambda-checkout-api-2026.11");
}

#[test]
fn fallback_drops_parsed_fields_and_keeps_the_redacted_message() {
    let data = batch(&[r#"{"level":"info","status":"not-a-number","password":"hunter2"}"#]);
    let builder = builder(DocumentOptions::default());
    let primary = builder.documents(&data).docs.remove(0);
    let doc = builder.fallback(&primary).expect("a log event's document");
    assert_eq!(doc.stage, Stage::Fallback);
    assert_eq!(doc.id, Some(event_doc_id(&data.data, 0)));
    assert_eq!(doc.index, "cwl-2026.11.22");
    let source = source(&doc);
    assert_eq!(source["fallback"], true);
    assert!(source.get("json").is_none() && source.get("level").is_none());
    assert_eq!(
        source["message"],
        r#"{"level":"info","status":"not-a-number","password":"[REDACTED]"}"#
    );
}

#[test]
fn dead_letter_records_reason_and_origin() {
    let data = batch(&["ok", "token=abc123 failed"]);
    let builder = builder(DocumentOptions::default());
    let primary = builder.documents(&data).docs.remove(1);
    let doc = builder
        .dead_letter(&primary, "mapper_parsing_exception: failed to parse")
        .expect("a log event's document");
    assert_eq!(doc.stage, Stage::DeadLetter);
    assert_eq!(doc.ack(), &Ack::Invocation);
    assert_eq!(doc.index, "cwl-dead-letter");
    assert_eq!(position(&doc), 1);
    let source = source(&doc);
    assert_eq!(source["reason"], "mapper_parsing_exception: failed to parse");
    assert_eq!(source["message"], "token=[REDACTED] failed");
    assert_eq!(source["log_group"], "/aws/lambda/checkout-api");
    assert_eq!(source["event_id"], data.data.log_events[1].id);
    assert_eq!(source["event_timestamp_ms"], 1_795_355_100_124_i64);
    assert_eq!(source["@timestamp"], "2026-11-22T13:45:00.124Z");
    assert_eq!(source["index"], "cwl-2026.11.22");
}

#[test]
fn every_source_is_valid_json_for_awkward_messages() {
    let messages = [
        "quote \" and \\ and \u{0}",
        "{\n  \"pretty\": true\n}\n",
        "{\"unterminated\": ",
        "{}",
        "ünïcode ✓ {\"k\":\"v\"}",
    ];
    for format in [DocumentFormat::Sluice, DocumentFormat::Blueprint] {
        for json_mode in [JsonMode::default(), JsonMode::Root, JsonMode::Off] {
            let options = DocumentOptions {
                format,
                json: json_mode.clone(),
                ..Default::default()
            };
            for doc in builder(options).documents(&batch(&messages)).docs {
                assert!(!doc.source.contains('\n'), "{}", doc.source);
                source(&doc);
            }
        }
    }
}

#[test]
fn input_that_cannot_be_decoded_is_kept_whole_in_the_dead_letter_index() {
    let mut origin = serde_json::Map::new();
    origin.insert("kinesis".into(), json!({"sequenceNumber": "4959"}));
    let input = crate::source::Unreadable {
        ack: Ack::Item(Arc::from("4959")),
        arrived_ms: 1_545_084_650_987,
        reason: "fixture: Kinesis record 0: payload is not gzip".into(),
        origin,
        raw: b"Hello, this is a test.".to_vec(),
        id: "kinesis-4959".into(),
    };
    let doc = builder(DocumentOptions::default()).unreadable(&input);
    assert_eq!(doc.index, "cwl-dead-letter");
    assert_eq!(doc.id.as_deref(), Some("kinesis-4959"));
    assert_eq!(doc.stage, Stage::DeadLetter);
    assert_eq!(doc.ack(), &Ack::Item(Arc::from("4959")));
    let source = source(&doc);
    assert_eq!(source["raw_base64"], "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==");
    assert_eq!(source["reason"], input.reason);
    assert_eq!(source["@timestamp"], "2018-12-17T22:10:50.987Z");
    assert_eq!(source["kinesis"]["sequenceNumber"], "4959");
    // Nothing to rebuild it from: it has no fallback and no second dead-letter form.
    assert!(builder(DocumentOptions::default()).fallback(&doc).is_none());
}

/// Lines of an object, as the S3 reader hands them over.
pub(crate) fn records(format: crate::source::s3::Format, lines: &[&str]) -> Arc<crate::source::s3::Records> {
    use crate::source::s3::{ObjectMeta, Record, Records};
    Arc::new(Records {
        ack: Ack::Item(Arc::from("059f36b4-87a3-44ab-83d2-661975830a7d")),
        object: Arc::new(ObjectMeta {
            bucket: "central-logs".into(),
            key: "apps/prod-billing/app.log".into(),
            etag: "b21b84d653bb07b05b1e6b33684dc11b".into(),
            last_modified_ms: 1_795_946_400_000,
            format,
            key_fields: vec![("environment".into(), "prod".into())],
            kinesis: None,
        }),
        header: None,
        records: lines
            .iter()
            .enumerate()
            .map(|(i, text)| Record {
                number: i as u64 + 3,
                timestamp: 1_795_946_400_000 + i as i64,
                text: text.to_string(),
                truncated_from: None,
            })
            .collect(),
    })
}

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

#[test]
fn object_records_say_where_they_came_from() {
    use crate::source::s3::Format;
    let records = records(
        Format::JsonLines,
        &[r#"{"level":"WARN","msg":"slow","password":"hunter2"}"#],
    );
    let docs = builder(DocumentOptions::default())
        .record_documents(&records)
        .docs;
    assert_eq!(docs.len(), 1);
    let doc = &docs[0];
    assert_eq!(doc.index, "s3-2026.11.29");
    assert_eq!(doc.id.as_deref(), Some(records.object.record_id(3).as_str()));
    assert_eq!(
        doc.ack(),
        &Ack::Item(Arc::from("059f36b4-87a3-44ab-83d2-661975830a7d"))
    );
    let source = source(doc);
    assert_eq!(source["@timestamp"], "2026-11-29T10:00:00.000Z");
    assert_eq!(
        source["aws"]["s3"],
        json!({"bucket": {"name": "central-logs"}, "object": {"key": "apps/prod-billing/app.log"}, "line": 3})
    );
    assert_eq!(source["event"]["dataset"], "aws.json_lines");
    assert_eq!(source["ecs"]["version"], "9.4.0");
    assert_eq!(source["cloud"], json!({"provider": "aws"}));
    assert_eq!(source["environment"], "prod");
    assert_eq!(source["log"]["level"], "WARN");
    assert_eq!(source["json"]["msg"], "slow");
    assert_ne!(source["json"]["password"], "hunter2", "redacted like any message");

    let trail = self::records(Format::Cloudtrail, &[r#"{"eventName":"CreateUser"}"#]);
    let options = DocumentOptions {
        id: IdMode::None,
        ..DocumentOptions::default()
    };
    let docs = builder(options).record_documents(&trail).docs;
    assert_eq!(docs[0].index, "cloudtrail-2026.11.29");
    assert_eq!(docs[0].id, None);
    assert_eq!(self::source(&docs[0])["aws"]["s3"]["record"], 3);
}

#[test]
fn root_json_cannot_replace_where_a_record_came_from() {
    use crate::source::s3::Format;
    let records = records(
        Format::JsonLines,
        &[r#"{"aws":"x","event":"y","environment":"z","team":"ann"}"#],
    );
    let options = DocumentOptions {
        json: JsonMode::Root,
        ..DocumentOptions::default()
    };
    let docs = builder(options).record_documents(&records).docs;
    let source = source(&docs[0]);
    assert_eq!(source["aws"]["s3"]["bucket"]["name"], "central-logs");
    assert_eq!(source["event"]["dataset"], "aws.json_lines");
    assert_eq!(source["environment"], "prod");
    assert_eq!(source["team"], "ann");
}

#[test]
fn a_rejected_record_falls_back_then_is_dead_lettered_with_its_origin() {
    use crate::source::s3::Format;
    let records = records(Format::TextLines, &["ERROR disk full", r#"{"n":1}"#]);
    let builder = builder(DocumentOptions::default());
    let docs = builder.record_documents(&records).docs;
    let fallback = builder.fallback(&docs[1]).expect("a record has a fallback");
    assert_eq!(fallback.stage, Stage::Fallback);
    assert_eq!(
        (fallback.index.as_str(), &fallback.id),
        (docs[1].index.as_str(), &docs[1].id)
    );
    let source = self::source(&fallback);
    assert_eq!(source["fallback"], true);
    assert!(source.get("json").is_none());
    assert_eq!(source["aws"]["s3"]["line"], 4);

    let dead = builder
        .dead_letter(&docs[0], "mapper_parsing_exception")
        .expect("dead letter");
    assert_eq!(dead.index, "cwl-dead-letter");
    assert_eq!(dead.id, docs[0].id);
    assert_eq!(dead.ack(), docs[0].ack());
    let source = self::source(&dead);
    assert_eq!(source["reason"], "mapper_parsing_exception");
    assert_eq!(source["message"], "ERROR disk full");
    assert_eq!(source["s3"]["key"], "apps/prod-billing/app.log");
    assert_eq!(source["index"], "s3-2026.11.29");
}

/// Issue 28, item 5: a CloudTrail record read from S3 keeps the key id that signed the call, in
/// its message and its JSON, while the same id written into free text beside a secret key is
/// redacted. The record follows the layout of
/// <https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html>,
/// its values made up here.
#[test]
fn a_cloudtrail_document_keeps_its_access_key_id() {
    use crate::source::s3::Format;
    let record = r#"{"eventVersion":"1.10","userIdentity":{"type":"IAMUser","principalId":"AIDA2EXAMPLEPRINCIPAL","accountId":"123456789012","accessKeyId":"AKIA2EXAMPLE7KEYID01","userName":"ana"},"eventTime":"2026-11-29T10:05:12Z","eventSource":"ssm.amazonaws.com","eventName":"PutParameter","requestParameters":{"name":"/ci/env","description":"AKIA2EXAMPLE7KEYID01 wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}}"#;
    let trail = records(Format::Cloudtrail, &[record]);
    let docs = builder(DocumentOptions::default()).record_documents(&trail).docs;
    let source = source(&docs[0]);
    assert_eq!(
        source["json"]["userIdentity"]["accessKeyId"],
        "AKIA2EXAMPLE7KEYID01"
    );
    assert_eq!(
        source["json"]["requestParameters"]["description"],
        "[REDACTED] [REDACTED]"
    );
    let message = source["message"].as_str().expect("message");
    assert!(
        message.contains(r#""accessKeyId":"AKIA2EXAMPLE7KEYID01""#),
        "{message}"
    );
    assert!(!message.contains("wJalrXUtnFEMI"), "{message}");
}

/// Issue 23: `cloud.account.id` and `cloud.region` of a record come from AWS's key layout,
/// `[prefix/]AWSLogs/[o-ORG/]ACCOUNT/SERVICE/REGION/…` (ELB, VPC flow logs, WAF, CloudTrail).
#[test]
fn the_account_and_region_of_a_record_come_from_aws_key_layout() {
    use super::object::key_account_region;
    let cases = [
        (
            "logs/AWSLogs/123456789012/elasticloadbalancing/us-east-2/2026/11/29/x.log.gz",
            (Some("123456789012"), Some("us-east-2")),
        ),
        (
            "AWSLogs/o-abc123/123456789012/CloudTrail/eu-west-1/2026/11/29/x.json.gz",
            (Some("123456789012"), Some("eu-west-1")),
        ),
        ("AWSLogs/123456789012/vpcflowlogs", (Some("123456789012"), None)),
        (
            "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-3/year=2026/month=11/day=29/x.log.parquet",
            (Some("123456789012"), Some("eu-west-3")),
        ),
        ("apps/prod-billing/app.log", (None, None)),
        ("AWSLogs/not-an-account/x/us-east-1/y", (None, None)),
    ];
    for (key, expected) in cases {
        assert_eq!(key_account_region(key), expected, "{key}");
    }
}

/// Issue 27: a central log group's batch with system fields
/// ([`crate::source::system_fields::tests::CENTRAL_BATCH`]): each document carries its source
/// account, region and group, and the same event id from two source accounts gives two
/// documents, in both shapes.
#[test]
fn a_central_batch_is_filed_under_each_source_account_and_region() {
    let data = crate::source::subscription::decode_json(
        crate::source::system_fields::tests::CENTRAL_BATCH.as_bytes(),
    )
    .expect("valid batch");
    let mut decoded = crate::source::Decoded::new(crate::source::Reply::Summary);
    decoded.push(Ack::Invocation, data);
    for format in [DocumentFormat::Sluice, DocumentFormat::Blueprint] {
        let options = DocumentOptions {
            format,
            ..DocumentOptions::default()
        };
        let docs: Vec<Document> = decoded
            .batches
            .iter()
            .flat_map(|batch| builder(options.clone()).documents(&Arc::new(batch.clone())).docs)
            .collect();
        assert_eq!(docs.len(), 3, "{format:?}");
        let ids: std::collections::BTreeSet<_> = docs.iter().map(|d| d.id.clone().expect("an _id")).collect();
        assert_eq!(
            ids.len(),
            3,
            "{format:?}: one event id, two accounts, two documents: {ids:?}"
        );
        if format == DocumentFormat::Blueprint {
            assert_eq!(source(&docs[2])["@owner"], "222222222222");
            continue;
        }
        let placed: Vec<(Value, Value, Value)> = docs
            .iter()
            .map(|doc| {
                let source = source(doc);
                (
                    source["cloud"]["account"]["id"].clone(),
                    source["cloud"]["region"].clone(),
                    source["aws"]["cloudwatch"]["log_group"].clone(),
                )
            })
            .collect();
        assert_eq!(
            placed,
            [
                (
                    json!("111111111111"),
                    json!("eu-west-1"),
                    json!("/aws/lambda/orders")
                ),
                (
                    json!("111111111111"),
                    json!("eu-west-1"),
                    json!("/aws/lambda/orders")
                ),
                (
                    json!("222222222222"),
                    json!("us-east-1"),
                    json!("/aws/lambda/orders")
                ),
            ]
        );
        assert!(
            docs.iter()
                .all(|doc| source(doc).get("extracted_fields").is_none())
        );
    }
}

use std::io::Write;
use std::time::Duration;

use base64::Engine;
use serde_json::json;

use super::*;
use crate::config::Purpose;
use crate::document::Stage;
use crate::source::lambda::{EventError, Input, InputError};
use crate::source::{Ack, Reply};

fn forwarder(settings: &[(&str, &str)]) -> Forwarder {
    let map: std::collections::HashMap<&str, &str> = settings.iter().copied().collect();
    let config = Config::from_lookup(|name| map.get(name).map(|v| v.to_string()), Purpose::DryRun).unwrap();
    let reader = ObjectReader::from_env(config.s3.clone());
    Forwarder::with_parts(config, None, reader, None, Requeue::from_env())
}

/// The documents `input` makes, as the run builds them.
fn prepare(forwarder: &Forwarder, input: Input) -> crate::pipeline::Prepared {
    let realtime = &forwarder.config.cloudfront_realtime;
    let limits = &forwarder.config.limits;
    forwarder
        .pipeline
        .prepare(input.decode_with(realtime, limits).unwrap())
}

fn gzip(value: &Value) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(value.to_string().as_bytes()).unwrap();
    encoder.finish().unwrap()
}

fn batch(message_type: &str, messages: &[&str]) -> Value {
    let events: Vec<Value> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| json!({"id": format!("e{i}"), "timestamp": 1_795_341_600_000i64, "message": m}))
        .collect();
    json!({"messageType": message_type, "owner": "123456789012", "logGroup": "/aws/lambda/a",
           "logStream": "s", "subscriptionFilters": ["f"], "logEvents": events})
}

fn awslogs(value: &Value) -> Input {
    Input::Awslogs {
        data: base64::engine::general_purpose::STANDARD.encode(gzip(value)),
    }
}

#[test]
fn control_messages_and_excluded_lines_are_counted_as_skipped() {
    let forwarder = forwarder(&[("EXCLUDE_MESSAGE_PATTERNS", r#"["^START"]"#)]);
    let control = prepare(
        &forwarder,
        awslogs(&batch(
            "CONTROL_MESSAGE",
            &["CWL CONTROL MESSAGE: Checking health"],
        )),
    );
    assert_eq!(
        (
            control.summary.events,
            control.summary.skipped,
            control.docs.len()
        ),
        (1, 1, 0)
    );
    let data = prepare(
        &forwarder,
        awslogs(&batch("DATA_MESSAGE", &["START RequestId: 1", "hello", "world"])),
    );
    assert_eq!(
        (data.summary.events, data.summary.skipped, data.docs.len()),
        (3, 1, 2)
    );
    assert_eq!(data.summary.batches, 1);
}

/// The documented Kinesis event with a third record holding `line`, sequence number `…619`.
fn kinesis_with_realtime(line: &str, second: Option<&Value>) -> Value {
    let fixture = include_str!("../../../tests/fixtures/forwarder/kinesis-event.json");
    let mut event: Value = serde_json::from_str(fixture).unwrap();
    if let Some(batch) = second {
        let good = base64::engine::general_purpose::STANDARD.encode(gzip(batch));
        event["Records"][1]["kinesis"]["data"] = json!(good);
    }
    let mut third = event["Records"][1].clone();
    let sequence = "49590338271490256608559692540925702759324208523137515619";
    third["kinesis"]["sequenceNumber"] = json!(sequence);
    third["eventID"] = json!(format!("shardId-000000000006:{sequence}"));
    third["kinesis"]["data"] = json!(base64::engine::general_purpose::STANDARD.encode(line));
    event["Records"].as_array_mut().unwrap().push(third);
    event
}

const REALTIME: &str = include_str!("../../../tests/fixtures/access/cloudfront-realtime-all-fields.tsv");

#[test]
fn a_kinesis_event_mixes_payloads_cloudfront_realtime_records_and_unreadable_ones() {
    let forwarder = forwarder(&[]);
    let event = kinesis_with_realtime(REALTIME, Some(&batch("DATA_MESSAGE", &["a", "b"])));
    let prepared = prepare(&forwarder, Input::from_value(event.clone()).unwrap());
    assert_eq!(prepared.reply, Reply::BatchItemFailures);
    let third = Ack::Item("49590338271490256608559692540925702759324208523137515619".into());
    let stages: Vec<(Stage, &str)> = (prepared.docs.iter())
        .map(|doc| (doc.stage, doc.index.split('-').next().unwrap()))
        .collect();
    assert_eq!(
        stages,
        [
            (Stage::DeadLetter, "cwl"),
            (Stage::Primary, "cwl"),
            (Stage::Primary, "cwl"),
            (Stage::Primary, "cloudfront"),
        ]
    );
    let realtime = &prepared.docs[3];
    assert_eq!(realtime.ack(), &third);
    assert_eq!(realtime.index, "cloudfront-2019.12.04");
    assert!(!realtime.unparsed());
    assert_eq!((prepared.summary.events, prepared.summary.batches), (4, 2));
    let doc: Value = serde_json::from_str(&realtime.source).unwrap();
    assert_eq!(doc["@timestamp"], "2019-12-04T21:02:31.123Z");
    assert_eq!(doc["message"], REALTIME.trim_end());
    assert_eq!(doc["event"]["dataset"], "aws.cloudfront_realtime");
    assert_eq!(doc["event"]["category"], json!(["web"]));
    assert_eq!(doc["event"]["duration"], 82_000_000);
    assert_eq!(doc["source"]["ip"], "192.0.2.100");
    assert_eq!(doc["source"]["port"], 11040);
    assert_eq!(doc["source"]["geo"]["country_iso_code"], "US");
    assert_eq!(doc["http"]["request"]["method"], "GET");
    assert_eq!(doc["http"]["request"]["bytes"], 23);
    assert_eq!(doc["http"]["response"]["status_code"], 200);
    assert_eq!(doc["http"]["response"]["bytes"], 392);
    assert_eq!(doc["url"]["original"], "/images/cat.jpg?mobile=true");
    assert_eq!(doc["url"]["path"], "/images/cat.jpg");
    assert_eq!(doc["url"]["query"], "mobile=true");
    assert_eq!(doc["url"]["domain"], "www.example.com");
    assert!((doc["user_agent"]["original"].as_str().unwrap()).starts_with("Mozilla/5.0 (Windows NT 10.0"));
    assert_eq!(doc["tls"]["version"], "1.2");
    assert_eq!(doc["tls"]["cipher"], "ECDHE-RSA-AES128-GCM-SHA256");
    assert_eq!(doc["cloud"]["account"]["id"], "123456789012");
    assert_eq!(doc["cloud"]["region"], "us-east-2");
    let aws = &doc["aws"];
    assert_eq!(aws["cloudfront"]["x_edge_location"], "DFW3");
    assert_eq!(aws["cloudfront"]["sc_status"], 200);
    assert_eq!(
        aws["kinesis"]["stream"]["arn"],
        "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"
    );
    assert_eq!(aws["kinesis"]["shard_id"], "shardId-000000000006");
    assert_eq!(
        aws["kinesis"]["sequence_number"],
        "49590338271490256608559692540925702759324208523137515619"
    );
    assert!(aws.get("s3").is_none());
    // The same event again: the same ids, so a retried batch adds nothing.
    let again = prepare(&forwarder, Input::from_value(event).unwrap());
    let ids = |docs: &[crate::document::Document]| docs.iter().map(|d| d.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&again.docs), ids(&prepared.docs));
    assert!(realtime.id.as_ref().is_some_and(|id| id.len() == 32));
}

#[test]
fn cloudfront_realtime_records_follow_the_configured_fields_and_keep_malformed_lines() {
    let fields = "timestamp,c-ip,time-to-first-byte,sc-status,sc-bytes,cs-method,cs-uri-stem";
    let forwarder = forwarder(&[("CLOUDFRONT_REALTIME_FIELDS", fields)]);
    let seven = include_str!("../../../tests/fixtures/access/cloudfront-realtime-seven-fields.tsv");
    let prepared = prepare(
        &forwarder,
        Input::from_value(kinesis_with_realtime(seven, None)).unwrap(),
    );
    let doc: Value = serde_json::from_str(&prepared.docs[2].source).unwrap();
    assert_eq!(doc["aws"]["cloudfront"]["cs_uri_stem"], "/index.html");
    assert_eq!(doc["url"]["path"], "/index.html");
    // A line whose status is no number is kept whole, with why, and counted as unparsed.
    let bad = seven.replace("\t200\t", "\tOK\t");
    let prepared = prepare(
        &forwarder,
        Input::from_value(kinesis_with_realtime(&bad, None)).unwrap(),
    );
    let kept = &prepared.docs[2];
    assert!(kept.unparsed());
    let doc: Value = serde_json::from_str(&kept.source).unwrap();
    assert_eq!(doc["parse_error"], r#"sc_status is not a whole number: "OK""#);
    assert_eq!(doc["message"], bad.trim_end());
    // Its time is the record's arrival in the stream, as an access log line that does not
    // parse has its object's.
    assert_eq!(doc["@timestamp"], "2018-12-17T22:11:51.166Z");
    // Not a record of these fields (a time without fraction first): the dead-letter index.
    let prepared = prepare(
        &forwarder,
        Input::from_value(kinesis_with_realtime("1575493351\t192.0.2.100", None)).unwrap(),
    );
    assert!(prepared.docs.iter().all(|doc| doc.stage == Stage::DeadLetter));
}

#[test]
fn a_cloudfront_realtime_line_longer_than_max_record_bytes_is_cut_and_marked() {
    let fields = "timestamp,c-ip,time-to-first-byte,sc-status,sc-bytes,cs-method,cs-uri-stem";
    let seven = include_str!("../../../tests/fixtures/access/cloudfront-realtime-seven-fields.tsv");
    // A URI of 3,000 bytes makes the line longer than the smallest limit, 1024.
    let long = seven.replace("/index.html", &format!("/{}", "a".repeat(3000)));
    let whole = long.trim_end().len();
    let cut = forwarder(&[
        ("CLOUDFRONT_REALTIME_FIELDS", fields),
        ("MAX_RECORD_BYTES", "1024"),
    ]);
    let prepared = prepare(
        &cut,
        Input::from_value(kinesis_with_realtime(&long, None)).unwrap(),
    );
    let doc: Value = serde_json::from_str(&prepared.docs[2].source).unwrap();
    // Marked where a Kinesis record's origin is written.
    assert_eq!(doc["aws"]["kinesis"]["truncated"], true);
    assert_eq!(doc["aws"]["kinesis"]["record_bytes"], whole);
    assert_eq!(doc["message"].as_str().unwrap().len(), 1024);
    assert!(long.starts_with(doc["message"].as_str().unwrap()));
    // Within the limit, the same line is whole.
    let whole_line = forwarder(&[("CLOUDFRONT_REALTIME_FIELDS", fields)]);
    let prepared = prepare(
        &whole_line,
        Input::from_value(kinesis_with_realtime(&long, None)).unwrap(),
    );
    let doc: Value = serde_json::from_str(&prepared.docs[2].source).unwrap();
    assert_eq!(
        doc["aws"]["cloudfront"]["cs_uri_stem"].as_str().unwrap().len(),
        3001
    );
    assert!(doc["aws"]["kinesis"].get("truncated").is_none());
}

#[test]
fn a_refused_cloudfront_realtime_document_falls_back_then_is_dead_lettered_with_its_origin() {
    let forwarder = forwarder(&[]);
    let event = kinesis_with_realtime(REALTIME, None);
    let prepared = prepare(&forwarder, Input::from_value(event).unwrap());
    let doc = &prepared.docs[2];
    let builder = forwarder.pipeline.builder();
    let fallback = builder.fallback(doc).expect("a fallback");
    assert_eq!((&fallback.index, &fallback.id), (&doc.index, &doc.id));
    let source: Value = serde_json::from_str(&fallback.source).unwrap();
    assert_eq!(source["aws"]["kinesis"]["shard_id"], "shardId-000000000006");
    assert!(source["aws"].get("cloudfront").is_none(), "no parsed fields");
    let kept = builder
        .dead_letter(doc, "mapper_parsing_exception")
        .expect("a dead letter");
    assert_eq!(kept.index, "cwl-dead-letter");
    assert_eq!(kept.id, doc.id, "a retried batch does not dead-letter it twice");
    let source: Value = serde_json::from_str(&kept.source).unwrap();
    assert_eq!(source["reason"], "mapper_parsing_exception");
    assert_eq!(source["format"], "cloudfront-realtime");
    assert_eq!(source["message"], REALTIME.trim_end());
    assert_eq!(source["index"], "cloudfront-2019.12.04");
    let origin = &source["kinesis"];
    assert_eq!(
        origin["sequenceNumber"],
        "49590338271490256608559692540925702759324208523137515619"
    );
    assert_eq!(
        origin["eventSourceARN"],
        "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"
    );
    assert_eq!(origin["line"], 1);
    assert!(source.get("s3").is_none());
}

#[test]
fn an_unknown_cloudfront_realtime_field_refuses_to_start() {
    let err = Config::from_lookup(
        |name| (name == "CLOUDFRONT_REALTIME_FIELDS").then(|| "timestamp,c_ip".to_string()),
        Purpose::DryRun,
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("CLOUDFRONT_REALTIME_FIELDS") && text.contains("\"c_ip\"") && !text.contains('\n'),
        "{text}"
    );
}

#[test]
fn a_kinesis_event_keeps_one_unit_per_record_and_preserves_bad_ones() {
    let forwarder = forwarder(&[]);
    let fixture = include_str!("../../../tests/fixtures/forwarder/kinesis-event.json");
    let mut event: Value = serde_json::from_str(fixture).unwrap();
    let good = base64::engine::general_purpose::STANDARD.encode(gzip(&batch("DATA_MESSAGE", &["a", "b"])));
    event["Records"][1]["kinesis"]["data"] = json!(good);
    let prepared = prepare(&forwarder, Input::from_value(event).unwrap());
    assert_eq!(prepared.reply, Reply::BatchItemFailures);
    let first = Ack::Item("49590338271490256608559692538361571095921575989136588898".into());
    let second = Ack::Item("49590338271490256608559692540925702759324208523137515618".into());
    // The documented record is plain text: preserved as one dead-letter document.
    assert_eq!(prepared.docs[0].stage, Stage::DeadLetter);
    assert_eq!(prepared.docs[0].index, "cwl-dead-letter");
    assert_eq!(prepared.docs[0].ack(), &first);
    assert_eq!(prepared.docs.iter().filter(|d| d.ack() == &second).count(), 2);
    assert_eq!(prepared.summary.events, 3);
    assert_eq!(prepared.summary.batches, 1);
}

#[test]
fn malformed_awslogs_data_names_the_step_and_the_event() {
    let input = Input::Awslogs {
        data: "aGVsbG8=".into(),
    };
    let err = HandlerError::from(input.decode().unwrap_err().at("stdin event 4"));
    let text = err.to_string();
    assert!(text.contains("stdin event 4") && text.contains("gzip"), "{text}");
    assert!(matches!(
        &err,
        HandlerError::Input(InputError {
            error: EventError::Decode { .. },
            ..
        })
    ));
    assert_eq!(sluice_edge::ErrorType::error_type(&err), "MalformedInput");
}

#[test]
fn the_dry_run_writes_one_action_and_one_source_per_document() {
    let forwarder = forwarder(&[]);
    let decoded = awslogs(&batch("DATA_MESSAGE", &["one", "two"])).decode().unwrap();
    let mut out = Vec::new();
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let outcome = runtime
        .block_on(forwarder.pipeline.run(
            decoded,
            &mut Output::Ndjson(&mut out),
            Instant::now() + Duration::from_secs(5),
        ))
        .unwrap();
    assert_eq!(
        (outcome.delivered.summary.events, outcome.retry()),
        (2, Retry::Nothing)
    );
    let lines: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    let id = lines[0]["create"]["_id"].as_str().expect("an _id");
    assert!(id.ends_with("-e0"), "the event id, scoped by its log group: {id}");
    assert_eq!(lines[1]["message"], "one");
    assert_eq!(lines[3]["message"], "two");
}

#[test]
fn a_dry_run_forwarder_refuses_to_deliver() {
    let forwarder = forwarder(&[]);
    let event = json!({"awslogs": {"data": base64::engine::general_purpose::STANDARD
        .encode(gzip(&batch("DATA_MESSAGE", &["x"])))}});
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let err = runtime
        .block_on(forwarder.handle(event, Instant::now() + Duration::from_secs(5)))
        .unwrap_err();
    assert!(matches!(err, HandlerError::NoSink(_)));
}

fn outcome(reply: Reply, failed: &[Ack]) -> Outcome {
    Outcome {
        reply,
        unread: Vec::new(),
        unfinished: Vec::new(),
        delivered: Delivered {
            summary: Summary {
                events: 3,
                indexed: 3 - failed.len() as u64,
                failed: failed.len() as u64,
                ..Summary::default()
            },
            failed: failed.iter().cloned().collect(),
            last_error: Some("HTTP 503: unavailable".into()),
            latencies_ms: Vec::new(),
        },
    }
}

#[test]
fn batch_item_failures_name_exactly_the_failed_items() {
    let item = |id: &str| Ack::Item(id.into());
    let handled = answer(outcome(Reply::BatchItemFailures, &[item("7"), item("3")])).unwrap();
    assert_eq!(
        handled.response,
        json!({"batchItemFailures": [{"itemIdentifier": "3"}, {"itemIdentifier": "7"}]})
    );
    let handled = answer(outcome(Reply::BatchItemFailures, &[])).unwrap();
    assert_eq!(handled.response, json!({"batchItemFailures": []}));
}

#[test]
fn an_undelivered_invocation_fails_with_its_counts_and_reason() {
    let err = answer(outcome(Reply::Summary, &[Ack::Invocation])).unwrap_err();
    let HandlerError::Undelivered { summary, reason } = &err else {
        panic!("{err}");
    };
    assert_eq!((summary.failed, summary.indexed), (1, 2));
    assert_eq!(reason, "HTTP 503: unavailable");
    assert!(
        err.to_string().contains("1 of 3 events were not delivered"),
        "{err}"
    );
    let handled = answer(outcome(Reply::Summary, &[])).unwrap();
    assert_eq!(handled.response["indexed"], 3);
}

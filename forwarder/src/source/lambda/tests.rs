use super::*;

const KINESIS: &str = include_str!("../../../../tests/fixtures/forwarder/kinesis-event.json");
const ASYNC_RECORD: &str = include_str!("../../../../tests/fixtures/forwarder/async-invocation-record.json");
const SQS: &str = include_str!("../../../../tests/fixtures/forwarder/sqs-event.json");
const S3_EVENT: &str = include_str!("../../../../tests/fixtures/forwarder/s3-notification.json");
const EVENTBRIDGE: &str =
    include_str!("../../../../tests/fixtures/forwarder/eventbridge-object-created.json");

/// `text` read as an edge reads it, naming it `what` in its errors.
fn read(text: &str, what: &str) -> Result<Input, InputError> {
    Input::from_json(text).map_err(|err| err.at(what))
}

#[test]
fn awslogs_event_is_recognised_and_extra_fields_ignored() {
    let input = read(r#"{"awslogs":{"data":"H4sI","extra":1},"policyLevel":"x"}"#, "t").unwrap();
    assert!(matches!(input, Input::Awslogs { data } if data == "H4sI"));
}

#[test]
fn kinesis_event_from_the_aws_docs_is_recognised() {
    let Input::Kinesis(event) = read(KINESIS, "fixture").unwrap() else {
        panic!("expected a Kinesis event");
    };
    let sequences: Vec<&str> = event
        .records
        .iter()
        .map(|r| r.kinesis.sequence_number.as_str())
        .collect();
    assert_eq!(
        sequences,
        [
            "49590338271490256608559692538361571095921575989136588898",
            "49590338271490256608559692540925702759324208523137515618"
        ]
    );
    // The documented records carry plain text, not a gzip subscription payload.
    let err = decode_record(&event.records[0], crate::limits::DEFAULT_MAX_PAYLOAD_BYTES).unwrap_err();
    assert!(!err.to_string().is_empty());
}

#[test]
fn async_invocation_record_unwraps_the_request_payload() {
    let input = read(ASYNC_RECORD, "record").unwrap();
    assert!(matches!(input, Input::Awslogs { data } if data == "REPLACED_BY_TESTS"));
}

#[test]
fn unknown_events_name_their_keys_and_where() {
    let err = read(r#"{"detail-type":"Scheduled Event"}"#, "stdin line 2").unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("stdin line 2") && text.contains("detail-type"),
        "{text}"
    );
    let err = read("[1]", "file a.json").unwrap_err();
    assert!(err.to_string().contains("an array"), "{err}");
    let err = read("{not json", "file b.json").unwrap_err();
    assert!(matches!(err.error, EventError::NotJson { .. }), "{err}");
}

#[test]
fn wrongly_typed_fields_name_their_path() {
    let err = read(r#"{"awslogs":{"data":123}}"#, "the event").unwrap_err();
    assert_eq!(
        err.to_string(),
        "the event: awslogs.data: expected a string, found a number"
    );
    let mut event: Value = serde_json::from_str(KINESIS).unwrap();
    event["Records"][1]["kinesis"]["data"] = "@@not base64@@".into();
    let err = Input::from_value(event)
        .map_err(|err| err.at("the event"))
        .unwrap_err();
    assert!(err.to_string().starts_with("the event: Records[1]: "), "{err}");
}

#[test]
fn missing_fields_are_malformed_with_the_location() {
    let err = read(r#"{"awslogs":{}}"#, "event 7").unwrap_err();
    assert!(matches!(err.error, EventError::Malformed { .. }));
    assert!(
        err.to_string().contains("event 7") && err.to_string().contains("data"),
        "{err}"
    );
}

#[test]
fn an_undecodable_record_is_kept_whole_and_the_others_go_on() {
    let Input::Kinesis(event) = read(KINESIS, "fixture").unwrap() else {
        panic!("expected a Kinesis event");
    };
    let decoded = Input::Kinesis(event).decode().unwrap().at("fixture");
    assert_eq!(decoded.reply, Reply::BatchItemFailures);
    assert!(
        decoded.batches.is_empty(),
        "the documented records are plain text"
    );
    let first = &decoded.unreadable[0];
    let sequence = "49590338271490256608559692538361571095921575989136588898";
    assert_eq!(first.ack, Ack::Item(Arc::from(sequence)));
    assert_eq!(first.id, format!("kinesis-{sequence}"));
    assert_eq!(first.raw, b"Hello, this is a test.");
    assert_eq!(first.arrived_ms, 1_545_084_650_987);
    assert_eq!(first.origin["kinesis"]["partitionKey"], "1");
    assert!(
        first.reason.starts_with("fixture: Kinesis record 0: "),
        "{}",
        first.reason
    );
}

/// Issue 26: a subscription payload past `MAX_PAYLOAD_BYTES` is undecodable: an `awslogs`
/// event fails whole, a Kinesis record is kept as unreadable and its neighbours go on.
#[test]
fn a_payload_past_the_payload_limit_is_undecodable_alone() {
    let json = crate::source::subscription::tests::DOC_BATCH;
    let gzip = crate::source::subscription::tests::gzip(json.as_bytes());
    let data = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &gzip);
    let awslogs = serde_json::json!({"awslogs": {"data": data}});
    let limit = json.len();
    let decode = |value: &Value, max: usize| {
        let limits = crate::limits::Limits {
            max_payload_bytes: max,
            ..Default::default()
        };
        Input::from_value(value.clone())
            .unwrap()
            .decode_with(&RealtimeFields::default(), &limits)
    };
    assert_eq!(decode(&awslogs, limit).unwrap().batches.len(), 1);
    let err = decode(&awslogs, limit - 1).unwrap_err().at("the event");
    assert!(err.to_string().contains("MAX_PAYLOAD_BYTES"), "{err}");

    let mut event: Value = serde_json::from_str(KINESIS).unwrap();
    let mut big = event["Records"][0].clone();
    let two = [gzip.clone(), gzip].concat();
    big["kinesis"]["data"] = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &two).into();
    big["kinesis"]["sequenceNumber"] = "2".into();
    let mut small = big.clone();
    small["kinesis"]["data"] = data.into();
    small["kinesis"]["sequenceNumber"] = "1".into();
    event["Records"] = serde_json::json!([small, big]);
    // Two members of the batch: twice the limit once decompressed.
    let decoded = decode(&event, limit + 1).unwrap();
    assert_eq!(decoded.batches.len(), 1, "the small record is decoded");
    assert_eq!(decoded.unreadable.len(), 1);
    assert_eq!(decoded.unreadable[0].ack, Ack::Item(Arc::from("2")));
    assert!(decoded.unreadable[0].reason.contains("MAX_PAYLOAD_BYTES"));
}

#[test]
fn sqs_messages_are_acknowledged_one_by_one() {
    let mut event: Value = serde_json::from_str(SQS).unwrap();
    // A third message carrying the documented S3 notification.
    let mut third = event["Records"][0].clone();
    third["messageId"] = "c80e8021-a70a-42c7-a470-796e1186f753".into();
    third["body"] = S3_EVENT.into();
    event["Records"].as_array_mut().unwrap().push(third);
    let input = Input::from_value(event).unwrap();
    let decoded = input.decode().unwrap().at("sqs");
    assert_eq!(decoded.reply, Reply::BatchItemFailures);
    // The test event names nothing; the plain-text body is kept whole.
    assert_eq!(decoded.unreadable.len(), 1);
    let kept = &decoded.unreadable[0];
    assert_eq!(
        kept.ack,
        Ack::Item(Arc::from("2e1424d4-f796-459a-8184-9c92662be6da"))
    );
    assert_eq!(kept.raw, b"Test message.");
    assert_eq!(kept.arrived_ms, 1_545_082_650_636);
    assert!(kept.reason.contains("not JSON"), "{}", kept.reason);
    assert_eq!(
        decoded.objects,
        [ObjectTask {
            ack: Ack::Item(Arc::from("c80e8021-a70a-42c7-a470-796e1186f753")),
            bucket: "amzn-s3-demo-bucket".into(),
            key: "logs/2026/11/29/red flower.log".into(),
            queue: Some(Arc::from("arn:aws:sqs:us-east-2:123456789012:my-queue")),
            resume: None,
        }]
    );
}

#[test]
fn s3_and_eventbridge_events_sent_straight_acknowledge_the_invocation() {
    for (name, text) in [("s3", S3_EVENT), ("eventbridge", EVENTBRIDGE)] {
        let decoded = read(text, name).unwrap().decode().unwrap().at(name);
        assert_eq!(decoded.reply, Reply::Summary, "{name}");
        assert_eq!(decoded.objects.len(), 1, "{name}");
        assert_eq!(decoded.objects[0].ack, Ack::Invocation, "{name}");
    }
    let broken = r#"{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{}}]}"#;
    let err = read(broken, "event 3")
        .unwrap()
        .decode()
        .map_err(|err| err.at("event 3"))
        .unwrap_err();
    assert!(
        err.to_string().contains("event 3") && err.to_string().contains("s3.bucket.name"),
        "{err}"
    );
}

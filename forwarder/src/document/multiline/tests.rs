//! Traces as the Java, Python and Node.js runtimes print them (tests/fixtures/forwarder/multiline,
//! whose README says where each format is documented), one event per line.

use std::sync::Arc;

use serde_json::{Value, json};

use super::*;
use crate::document::{
    Document, DocumentBuilder, DocumentFormat, DocumentOptions, MessageFilter, Origin, Stage,
};
use crate::source::{Ack, Batch, LogsData};

const JAVA: &str = include_str!("../../../../tests/fixtures/forwarder/multiline/java.txt");
const PYTHON: &str = include_str!("../../../../tests/fixtures/forwarder/multiline/python.txt");
const NODE: &str = include_str!("../../../../tests/fixtures/forwarder/multiline/node.txt");

/// The non-empty lines of a fixture: CloudWatch Logs refuses empty events.
fn lines(text: &str) -> Vec<&str> {
    text.lines().filter(|line| !line.is_empty()).collect()
}

/// `(start, end, lines)` of each run, every event kept.
fn grouped(mode: Multiline, messages: &[&str]) -> Vec<(usize, usize, usize)> {
    runs(mode, messages.iter().copied().enumerate())
        .map(|run| (run.start, run.end, run.lines))
        .collect()
}

/// A subscription batch of one stream, as CloudWatch Logs sends it
/// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html#LambdaFunctionExample>),
/// one event per message, ids `<prefix>-<i>`.
/// The `_id` of the event `event_id` of [`batch`]'s log group.
fn id(event_id: &str) -> String {
    crate::document::scoped_event_id("123456789012", "/ecs/orders", event_id)
}

fn batch(prefix: &str, messages: &[&str]) -> Arc<Batch> {
    let events: Vec<Value> = (messages.iter().enumerate())
        .map(|(i, message)| {
            json!({"id": format!("{prefix}-{i}"), "timestamp": 1_795_355_100_000_i64 + i as i64,
                   "message": message})
        })
        .collect();
    let data: LogsData = serde_json::from_value(json!({
        "messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/ecs/orders",
        "logStream": "orders/app/4f1c9d2e", "subscriptionFilters": ["sluice"], "logEvents": events
    }))
    .expect("valid batch");
    Arc::new(Batch {
        ack: Ack::Invocation,
        data,
        tags: None,
    })
}

fn builder(options: DocumentOptions) -> DocumentBuilder {
    DocumentBuilder::new(options, "eu-west-1".to_owned())
}

fn source(doc: &Document) -> Value {
    serde_json::from_str(&doc.source).unwrap_or_else(|e| panic!("invalid JSON {e}: {}", doc.source))
}

#[test]
fn a_java_trace_with_its_cause_is_one_run_from_the_error_line() {
    let messages = lines(JAVA);
    assert_eq!(messages.len(), 24);
    // The Spring error line, the exception line, 13 frames, `Caused by:`, 5 frames, `... 12 more`.
    assert_eq!(
        grouped(Multiline::Auto, &messages),
        [(0, 1, 1), (1, 23, 22), (23, 24, 1)]
    );
}

#[test]
fn a_python_traceback_ends_with_its_exception_line_and_chains_the_next() {
    let messages = lines(PYTHON);
    assert_eq!(messages.len(), 18);
    assert_eq!(
        grouped(Multiline::Auto, &messages),
        [(0, 1, 1), (1, 17, 16), (17, 18, 1)]
    );
    assert!(messages[16].starts_with("orders.payment.PaymentError"));
}

#[test]
fn node_frames_and_the_error_s_properties_follow_their_error_line() {
    let messages = lines(NODE);
    assert_eq!(
        grouped(Multiline::Auto, &messages),
        [(0, 1, 1), (1, 5, 4), (5, 6, 1), (6, 14, 8), (14, 15, 1)]
    );
}

#[test]
fn lines_that_continue_no_trace_stay_apart() {
    let messages = [
        "START RequestId: 8f5ad4d1-2a7b-4c1e-9f0e-2d3c4b5a6f70 Version: $LATEST",
        "2026-11-22T13:45:00.123Z\t8f5ad4d1-2a7b-4c1e-9f0e-2d3c4b5a6f70\tINFO\tloaded config",
        "  region: eu-west-1",
        "Caused by: nothing before it names an error",
        r#"{"level":"info","msg":"ready"}"#,
        "    indented, but nothing failed",
        "java.lang.IllegalStateException: first",
        "java.lang.IllegalArgumentException: second, a separate event",
        "ready to serve",
        "Traceback (most recent call last):",
        "not a frame",
    ];
    let expected: Vec<_> = (0..messages.len()).map(|i| (i, i + 1, 1)).collect();
    assert_eq!(grouped(Multiline::Auto, &messages), expected);
}

#[test]
fn frames_whose_error_line_was_in_an_earlier_batch_stay_together() {
    let messages = [
        "\tat com.example.orders.StockService.reserve(StockService.java:88)",
        "\tat com.example.orders.OrderService.place(OrderService.java:52)",
        "\t... 12 more",
        "Placing order 4712",
    ];
    assert_eq!(grouped(Multiline::Auto, &messages), [(0, 3, 3), (3, 4, 1)]);
}

#[test]
fn off_keeps_one_run_per_event() {
    let messages = lines(JAVA);
    let expected: Vec<_> = (0..messages.len()).map(|i| (i, i + 1, 1)).collect();
    assert_eq!(grouped(Multiline::Off, &messages), expected);
}

#[test]
fn a_run_stops_at_1000_lines_and_the_trace_goes_on_in_the_next() {
    let frame = "\tat com.example.Loop.spin(Loop.java:7)";
    let mut messages = vec!["java.lang.StackOverflowError"];
    messages.extend(std::iter::repeat_n(frame, 1_500));
    messages.push("done");
    assert_eq!(
        grouped(Multiline::Auto, &messages),
        [(0, 1_000, 1_000), (1_000, 1_501, 501), (1_501, 1_502, 1)]
    );
}

#[test]
fn a_run_stops_before_256_kb() {
    let big = format!("\t{}", "x".repeat(100 * 1024));
    let messages = ["Error: big frames", big.as_str(), big.as_str(), big.as_str()];
    let runs = grouped(Multiline::Auto, &messages);
    assert_eq!(runs, [(0, 3, 3), (3, 4, 1)]);
    let joined = join(messages[..3].iter().copied());
    assert!(joined.len() <= MAX_BYTES && joined.len() + 1 + big.len() > MAX_BYTES);
}

#[test]
fn a_merged_document_has_the_first_event_s_time_and_id_the_whole_trace_and_its_count() {
    let messages: Vec<String> = lines(NODE).iter().map(|line| format!("{line}\n")).collect();
    let messages: Vec<&str> = messages.iter().map(String::as_str).collect();
    let data = batch("node", &messages);
    let out = builder(DocumentOptions::default()).documents(&data);
    assert_eq!(out.docs.len(), 5);
    let doc = &out.docs[3];
    assert_eq!(doc.id, Some(id("node-6")));
    let source = source(doc);
    assert_eq!(source["@timestamp"], "2026-11-22T13:45:00.006Z");
    assert_eq!(source["event"]["id"], "node-6");
    assert_eq!(source["multiline"], json!({"events": 8}));
    assert_eq!(source["message"], lines(NODE)[6..14].join("\n"));
    // A lone event keeps its message as sent, line ending included.
    assert_eq!(
        self::source(&out.docs[2])["message"],
        "GET /orders/4712 500 3ms\n"
    );
    assert!(self::source(&out.docs[2]).get("multiline").is_none());
}

#[test]
fn a_retried_batch_gives_the_same_documents() {
    let messages = lines(JAVA);
    let builder = builder(DocumentOptions::default());
    let first = builder.documents(&batch("java", &messages));
    let retried = builder.documents(&batch("java", &messages));
    let key = |docs: &[Document]| -> Vec<(Option<String>, String)> {
        docs.iter().map(|d| (d.id.clone(), d.source.clone())).collect()
    };
    assert_eq!(key(&first.docs), key(&retried.docs));
    assert_eq!(first.docs[1].id, Some(id("java-1")));
}

#[test]
fn fallback_and_dead_letter_rebuild_the_merged_message() {
    let mut messages = lines(PYTHON);
    messages[9] = "httpx.ReadTimeout: token=abc123 timed out";
    let data = batch("py", &messages);
    let builder = builder(DocumentOptions::default());
    let primary = builder.documents(&data).docs.remove(1);
    let expected = source(&primary)["message"].clone();
    assert!(expected.as_str().unwrap().contains("token=[REDACTED] timed out"));

    let fallback = builder.fallback(&primary).expect("a log event's document");
    assert_eq!(
        (fallback.stage, fallback.id.clone()),
        (Stage::Fallback, Some(id("py-1")))
    );
    assert_eq!(source(&fallback)["message"], expected);
    assert_eq!(source(&fallback)["multiline"]["events"], 16);

    let dead = builder
        .dead_letter(&primary, "mapper_parsing_exception")
        .expect("an event");
    assert_eq!(dead.id, Some(id("py-1")));
    assert_eq!(source(&dead)["message"], expected);
    assert_eq!(source(&dead)["multiline"]["events"], 16);
    assert_eq!(dead.events(), 16);
    let Origin::Event(origin) = &dead.origin else {
        panic!("a log event's document")
    };
    assert_eq!((origin.position(), origin.events().len()), (1, 16));
}

#[test]
fn a_trace_split_over_two_batches_is_never_merged_across_them() {
    let messages = lines(JAVA);
    let builder = builder(DocumentOptions::default());
    let first = builder.documents(&batch("a", &messages[..10]));
    let second = builder.documents(&batch("b", &messages[10..]));
    assert_eq!(first.docs.len(), 2);
    assert_eq!(source(&first.docs[1])["multiline"]["events"], 9);
    // The second batch's frames stay together, its last line apart.
    assert_eq!(second.docs.len(), 2);
    assert_eq!(source(&second.docs[0])["multiline"]["events"], 13);
    let total: u64 = first.docs.iter().chain(&second.docs).map(Document::events).sum();
    assert_eq!(total, 24);
}

#[test]
fn multiline_off_keeps_one_document_per_event() {
    let options = DocumentOptions {
        multiline: Multiline::Off,
        ..Default::default()
    };
    let out = builder(options).documents(&batch("java", &lines(JAVA)));
    assert_eq!(out.docs.len(), 24);
    assert!(out.docs.iter().all(|doc| source(doc).get("multiline").is_none()));
}

#[test]
fn filtered_lines_are_left_out_of_the_trace_not_counted_in_it() {
    let options = DocumentOptions {
        filter: MessageFilter::new(&[], &["^\\tat (java\\.base|jakarta|org\\.)".to_owned()]).expect("valid"),
        ..Default::default()
    };
    let data = batch("java", &lines(JAVA));
    let builder = builder(options);
    let out = builder.documents(&data);
    assert_eq!((out.docs.len(), out.skipped), (3, 10));
    let doc = &out.docs[1];
    let message = source(doc)["message"].as_str().unwrap().to_owned();
    assert!(!message.contains("org.springframework") && message.contains("... 12 more"));
    assert_eq!(source(doc)["multiline"]["events"], 12);
    let rebuilt = builder.dead_letter(doc, "rejected").expect("an event");
    assert_eq!(source(&rebuilt)["message"], message.as_str());
}

#[test]
fn the_blueprint_shape_has_the_joined_message_only() {
    let options = DocumentOptions {
        format: DocumentFormat::Blueprint,
        ..Default::default()
    };
    let out = builder(options).documents(&batch("node", &lines(NODE)));
    let doc = source(&out.docs[1]);
    assert_eq!(doc["@message"], lines(NODE)[1..5].join("\n"));
    assert_eq!(doc["@id"], "node-1");
    assert!(doc.get("multiline").is_none());
}

#[test]
fn fields_are_parsed_from_the_first_line_of_a_merged_message() {
    let messages = [
        "2026-11-22T13:45:00.123Z\t8f5ad4d1-2a7b-4c1e-9f0e-2d3c4b5a6f70\tERROR\tInvoke Error",
        "    at handler (file:///var/task/index.mjs:12:31) {",
        "  code: 'E_ORDER'",
        "}",
    ];
    let out = builder(DocumentOptions::default()).documents(&batch("lambda", &messages));
    assert_eq!(out.docs.len(), 1);
    let doc = source(&out.docs[0]);
    assert_eq!(doc["log"]["level"], "ERROR");
    assert_eq!(doc["aws"]["request_id"], "8f5ad4d1-2a7b-4c1e-9f0e-2d3c4b5a6f70");
    assert!(doc.get("json").is_none(), "{doc}");
}

//! What must hold for any input: one check per decoder and parser, each taking arbitrary bytes,
//! running the code that reads them and asserting what a reader of its output relies on.
//!
//! The same functions are the bodies of the fuzz targets (`fuzz/fuzz_targets/<name>.rs`, run by
//! `tools/fuzz.sh` with libFuzzer) and of the regression test on the stable toolchain
//! (`hostile/tests.rs`), which replays every seed under `fuzz/corpus/<name>/` and every input
//! that ever failed, kept under `fuzz/regressions/<name>/`. A check panics when what must hold
//! does not: a decoder's error is an `Err`, never a panic, and what it builds is well formed:
//! - every document's `_source` is one line of valid JSON, an object;
//! - the `_bulk` body written by [`write_ndjson`] has one action line per document, naming its
//!   index and id, followed by its source;
//! - ids are stable: the same input built twice gives the same ids;
//! - redaction is idempotent, only replaces text (never adds any), and leaves none of a
//!   planted secret;
//! - a setting that does not validate is one line of error.

use std::sync::{Arc, LazyLock};

use serde_json::Value;
use sluice_edge::settings::positional_lookup;

use crate::config::{Config, Purpose};
use crate::document::multiline::{self, MAX_BYTES, MAX_LINES, Multiline};
use crate::document::redact::Redactor;
use crate::document::{Document, DocumentBuilder, DocumentOptions};
use crate::opensearch::bulk::write_ndjson;
use crate::source::lambda::Input;
use crate::source::s3::format::{self, S3Options, parse_rules};
use crate::source::s3::read::{Located, read_object};
use crate::source::s3::{Chunk, Records, notification};
use crate::source::{Ack, Batch, Decoded, subscription};

/// A check: runs the code under test on any bytes and panics when what must hold does not.
pub type Check = fn(&[u8]);

/// Every check, by the name of its fuzz target and corpus folder.
pub const TARGETS: &[(&str, Check)] = &[
    ("subscription_payload", subscription_payload),
    ("lambda_event", lambda_event),
    ("s3_notification", s3_notification),
    ("s3_object", s3_object),
    ("multiline", multiline),
    ("redact", redact),
    ("forwarder_config", forwarder_config),
];

/// The builder every check uses: the default options, as an unconfigured forwarder has them.
/// Built once: its redaction rules take longer to compile than most inputs take to check.
fn builder() -> &'static DocumentBuilder {
    static BUILDER: LazyLock<DocumentBuilder> =
        LazyLock::new(|| DocumentBuilder::new(DocumentOptions::default(), "eu-west-1".to_owned()));
    &BUILDER
}

/// A subscription payload as it arrives: gzip bytes (a Kinesis record, a Firehose file's
/// payload) and, when the input is text, base64 of gzip (`awslogs.data`). Decoding is `Ok` or
/// `Err`; what decodes is built into well formed documents.
pub fn subscription_payload(data: &[u8]) {
    if let Ok(logs) = subscription::decode_gzip_json(data, crate::limits::DEFAULT_MAX_PAYLOAD_BYTES) {
        check_batch(logs);
    }
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(logs) = subscription::decode_awslogs(text)
    {
        check_batch(logs);
    }
}

/// A Lambda event as JSON text: `awslogs`, Kinesis records (a subscription payload or a
/// CloudFront real-time log line each), SQS messages (S3, SNS and EventBridge notifications
/// in their bodies), an S3 or EventBridge notification, and an on-failure record (Lambda's
/// asynchronous invocation record, the event under `requestPayload`). Recognising and decoding
/// are `Ok` or `Err`; every batch, record and unreadable item is built into well formed
/// documents.
pub fn lambda_event(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(input) = Input::from_json(text) else {
        return;
    };
    let Ok(decoded) = input.decode() else {
        return;
    };
    check_decoded(decoded);
}

/// An S3 notification as JSON text (S3's own, wrapped by SNS, EventBridge's, a continuation):
/// `Ok` or `Err`, and each object it names has a bucket.
pub fn s3_notification(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    if let Ok(notification::Notice::Objects(objects)) = notification::notice(&value) {
        for (bucket, _) in objects {
            assert!(!bucket.is_empty(), "an object without a bucket");
        }
    }
}

/// An S3 object: the first byte chooses the format (a rule of `S3_FORMATS` forces it, so every
/// format's reader sees every input), the rest is the object as stored (gzip or not). Reading is
/// `Ok` or `Err`; the records read are built into well formed documents, with stable ids.
pub fn s3_object(data: &[u8]) {
    let Some((&choice, body)) = data.split_first() else {
        return;
    };
    let names: Vec<&str> = format::names().collect();
    let name = names[usize::from(choice) % names.len()];
    let options = S3Options {
        rules: parse_rules(&format!("*={name}")).expect("every format's name makes a rule"),
        ..S3Options::default()
    };
    let located = Located {
        bucket: "central-logs".into(),
        key: "fuzz/object".into(),
        etag: "9b2cf535f27731c974343645a3985328".into(),
        last_modified_ms: 1_795_946_400_000,
        key_fields: Vec::new(),
    };
    let builder = builder();
    let _ = read_object(body, located, Ack::Invocation, &options, |chunk| {
        match chunk {
            Chunk::Logs(batch) => drop(check_batch_built(builder, batch)),
            Chunk::Records(records) => check_records(builder, records),
            Chunk::Control(_) => {}
        }
        Ok(())
    });
}

/// Log events, one per line of the input, merged by `MULTILINE=auto`: the runs cover every event
/// once, in order, within the caps, and their documents count every event.
pub fn multiline(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let messages: Vec<&str> = text.split_inclusive('\n').collect();
    let mut next = 0;
    for run in multiline::runs(Multiline::Auto, messages.iter().copied().enumerate()) {
        assert_eq!(run.start, next, "runs cover the events in order");
        assert!(
            run.end > run.start && run.end - run.start == run.lines,
            "a run of {run:?}"
        );
        assert!(run.lines <= MAX_LINES, "a run of {} events", run.lines);
        if run.lines > 1 {
            let joined = multiline::join(messages[run.start..run.end].iter().copied());
            assert!(
                joined.len() <= MAX_BYTES,
                "a merged message of {} bytes",
                joined.len()
            );
        }
        next = run.end;
    }
    assert_eq!(next, messages.len(), "runs cover every event");
    let off = multiline::runs(Multiline::Off, messages.iter().copied().enumerate()).count();
    assert_eq!(off, messages.len(), "MULTILINE=off: one run per event");

    let events: Vec<Value> = (messages.iter().enumerate())
        .map(|(i, message)| serde_json::json!({"id": format!("{:056}", i), "timestamp": 1_795_946_400_000i64 + i as i64, "message": message}))
        .collect();
    let logs = serde_json::from_value(serde_json::json!({
        "messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/ecs/checkout",
        "logStream": "app/checkout/1f2e", "subscriptionFilters": ["sluice"], "logEvents": events
    }))
    .expect("a batch of strings is a batch");
    let docs = check_batch(logs);
    let counted: u64 = docs.iter().map(Document::events).sum();
    assert_eq!(counted, messages.len() as u64, "documents count every event");
}

/// A secret planted after the input on a line of its own, which redaction must remove whatever
/// comes before it.
const PLANTED: &str = "\nAuthorization: Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0\n";
/// The secret of [`PLANTED`].
const PLANTED_SECRET: &str = "9f8e7d6c5b4a39281706f5e4d3c2b1a0";

/// Redaction with every built-in rule: idempotent, it only replaces text with `[REDACTED]` (or
/// `"[REDACTED]"`; what is left between the marks is the input's, in order), and a planted bearer token is gone.
pub fn redact(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    static REDACTOR: LazyLock<Redactor> = LazyLock::new(Redactor::default);
    let redactor = &*REDACTOR;
    for input in [text.to_string(), format!("{text}{PLANTED}")] {
        let once = redactor.redact(&input);
        let twice = redactor.redact(&once);
        assert_eq!(once, twice, "redaction is idempotent");
        // A sensitive JSON field's value becomes the string `"[REDACTED]"`, quoted when the value
        // was not a string (found by the `redact` target): the quotes are part of the mark.
        let marked = once.replace("\"[REDACTED]\"", "[REDACTED]");
        let mut rest = input.as_str();
        for kept in marked.split("[REDACTED]") {
            let at = rest
                .find(kept)
                .unwrap_or_else(|| panic!("redaction wrote {kept:?}, which is not the input's"));
            rest = &rest[at + kept.len()..];
        }
        // The token written elsewhere in the input, out of a secret's context, may stay there
        // (found by the `redact` target).
        if input.ends_with(PLANTED) && !text.contains(PLANTED_SECRET) {
            assert!(
                !once.contains(PLANTED_SECRET),
                "the planted token is kept: {once:?}"
            );
        }
    }
}

/// The forwarder's settings: the input's lines are the values of the settings in the order the
/// forwarder reads them (an empty line: unset), so every setting is reached without naming it.
/// Validation is `Ok` or an `Err` of one line, for sending and for a dry run alike.
pub fn forwarder_config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for purpose in [Purpose::Deliver, Purpose::DryRun] {
        let result = Config::from_lookup(positional_lookup(&text), purpose);
        if let Err(error) = result {
            check_one_line(&error.to_string());
        }
    }
}

/// A setting's error is one line, not empty.
pub fn check_one_line(error: &str) {
    assert!(!error.is_empty(), "an empty error");
    assert!(!error.contains('\n'), "an error of several lines: {error:?}");
}

/// Builds a decoded subscription batch (a control message is dropped, as decoding does).
fn check_batch(logs: subscription::LogsData) -> Vec<Document> {
    match Batch::decoded(Ack::Invocation, logs) {
        Ok(batch) => check_batch_built(builder(), batch),
        Err(_) => Vec::new(),
    }
}

/// Builds `batch`'s documents twice and checks them.
fn check_batch_built(builder: &DocumentBuilder, batch: Batch) -> Vec<Document> {
    let batch = Arc::new(batch);
    let docs = builder.documents(&batch).docs;
    let again = builder.documents(&batch).docs;
    check_documents(&docs, &again);
    docs
}

/// Builds `records`' documents twice and checks them.
fn check_records(builder: &DocumentBuilder, records: Records) {
    let records = Arc::new(records);
    let docs = builder.record_documents(&records).docs;
    let again = builder.record_documents(&records).docs;
    check_documents(&docs, &again);
}

/// Builds everything an event decoded to.
fn check_decoded(decoded: Decoded) {
    let builder = builder();
    for batch in decoded.batches {
        check_batch_built(builder, batch);
    }
    for records in decoded.records {
        check_records(builder, records);
    }
    let unreadable: Vec<Document> = decoded
        .unreadable
        .iter()
        .map(|input| builder.unreadable(input))
        .collect();
    let again: Vec<Document> = decoded
        .unreadable
        .iter()
        .map(|input| builder.unreadable(input))
        .collect();
    check_documents(&unreadable, &again);
    for object in decoded.objects {
        assert!(!object.bucket.is_empty(), "an object without a bucket");
    }
}

/// Each document's source is one line of a JSON object, the `_bulk` body has an action line
/// naming its index and id before each source, and `again` (the same input built again) has
/// the same ids.
pub fn check_documents(docs: &[Document], again: &[Document]) {
    let ids: Vec<_> = docs.iter().map(|doc| &doc.id).collect();
    let ids_again: Vec<_> = again.iter().map(|doc| &doc.id).collect();
    assert_eq!(ids, ids_again, "ids are stable for the same input");
    for doc in docs {
        assert!(
            !doc.source.contains('\n'),
            "a source of several lines: {:?}",
            doc.source
        );
        match serde_json::from_str::<Value>(&doc.source) {
            Ok(Value::Object(_)) => {}
            Ok(other) => panic!("a source that is not an object: {other}"),
            Err(error) => panic!("a source that is not JSON ({error}): {:?}", doc.source),
        }
    }
    let mut body = Vec::new();
    write_ndjson(docs, &mut body).expect("writing into memory");
    let body = String::from_utf8(body).expect("the body is UTF-8");
    assert!(
        body.is_empty() || body.ends_with('\n'),
        "the body ends with a newline"
    );
    let lines: Vec<&str> = body.split_terminator('\n').collect();
    assert_eq!(
        lines.len(),
        2 * docs.len(),
        "one action and one source line per document"
    );
    for (pair, doc) in lines.chunks(2).zip(docs) {
        let action: Value = serde_json::from_str(pair[0]).expect("the action line is JSON");
        let create = &action["create"];
        assert_eq!(
            create["_index"].as_str(),
            Some(doc.index.as_str()),
            "the action's index"
        );
        assert_eq!(create["_id"].as_str(), doc.id.as_deref(), "the action's id");
        assert_eq!(pair[1], doc.source, "the source line");
    }
}

#[cfg(test)]
mod tests;

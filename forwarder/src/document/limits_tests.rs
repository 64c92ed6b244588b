//! Issue 26: a record cut to `MAX_RECORD_BYTES` says so in its document, and a JSON message
//! past `MAX_JSON_DEPTH` or `MAX_FIELDS` stays text in `message`, with the reason.

use serde_json::json;

use super::tests::{batch, builder, records, source};
use super::*;
use crate::json::shape::JsonLimits;
use crate::source::s3::Format;

fn within(max_depth: usize, max_fields: usize) -> DocumentOptions {
    DocumentOptions {
        json_limits: JsonLimits {
            max_depth,
            max_fields,
        },
        ..DocumentOptions::default()
    }
}

#[test]
fn a_cut_record_is_marked_with_its_whole_length_and_counted() {
    let records = records(Format::TextLines, &["whole", "cut to here"]);
    let mut cut = (*records).clone();
    cut.records[1].truncated_from = Some(300_000_000);
    let documents = builder(DocumentOptions::default()).record_documents(&Arc::new(cut));
    assert_eq!(documents.truncated, 1);
    let (whole, cut) = (source(&documents.docs[0]), source(&documents.docs[1]));
    assert!(whole["aws"]["s3"].get("truncated").is_none(), "{whole}");
    assert_eq!(cut["message"], "cut to here");
    assert_eq!(cut["aws"]["s3"]["truncated"], true);
    assert_eq!(cut["aws"]["s3"]["record_bytes"], 300_000_000);
    assert_eq!(cut["aws"]["s3"]["line"], 4);
}

#[test]
fn json_at_the_depth_limit_becomes_fields_and_one_deeper_stays_text() {
    let at = r#"{"a":{"b":{"c":1}}}"#;
    let past = r#"{"a":{"b":{"c":{}}}}"#;
    let documents = builder(within(3, 1000)).documents(&batch(&[at, past]));
    assert_eq!((documents.json_too_deep, documents.json_too_many_fields), (1, 0));
    let (at_doc, past_doc) = (source(&documents.docs[0]), source(&documents.docs[1]));
    assert_eq!(at_doc["json"], json!({"a": {"b": {"c": 1}}}));
    assert!(at_doc.get("parse_error").is_none());
    assert!(past_doc.get("json").is_none(), "{past_doc}");
    assert_eq!(past_doc["message"], past);
    assert_eq!(
        past_doc["parse_error"],
        "JSON nested deeper than MAX_JSON_DEPTH (3)"
    );
}

#[test]
fn json_at_the_field_limit_becomes_fields_and_one_more_stays_text() {
    let fields = |n: usize| {
        let members: Vec<String> = (0..n).map(|i| format!("\"k{i}\":{i}")).collect();
        format!("{{{}}}", members.join(","))
    };
    let (at, past) = (fields(3), fields(4));
    let documents = builder(within(16, 3)).documents(&batch(&[&at, &past]));
    assert_eq!((documents.json_too_deep, documents.json_too_many_fields), (0, 1));
    assert_eq!(source(&documents.docs[0])["json"]["k2"], 2);
    let past_doc = source(&documents.docs[1]);
    assert!(past_doc.get("json").is_none());
    assert_eq!(past_doc["message"], past.as_str());
    assert_eq!(
        past_doc["parse_error"],
        "JSON with more fields than MAX_FIELDS (3)"
    );
    // Records of objects are held to the same limits.
    let records = records(Format::JsonLines, &[&at, &past]);
    let documents = builder(within(16, 3)).record_documents(&records);
    assert_eq!(documents.json_too_many_fields, 1);
    assert!(source(&documents.docs[1]).get("json").is_none());
}

/// A message too deep for its fields is still redacted: structurally (what serde_json can read)
/// and by the text rules.
#[test]
fn a_message_left_as_text_is_still_redacted() {
    let line = r#"{"credentials":{"user":"bob","pass":"x1"},"a":{"b":{"c":{}}}}"#;
    let doc = source(&builder(within(2, 1000)).documents(&batch(&[line])).docs[0]);
    assert!(doc.get("json").is_none());
    let message = doc["message"].as_str().expect("message");
    assert!(!message.contains("x1"), "{message}");
}

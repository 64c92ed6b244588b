//! Issue 28, item 1: every object a document holds has each key once, whatever JSON source it
//! came from; a repeated key keeps its last value. The lines are written for these tests, in the
//! shape of a Network Firewall TLS alert whose `tls` object names `subject` and `issuerdn` twice.

use super::tests::{batch, builder, records, source};
use super::*;
use crate::source::s3::Format;

/// A TLS alert with `subject` and `issuerdn` twice under `event.tls`.
const TLS_ALERT: &str = r#"{"firewall_name":"egress","availability_zone":"eu-west-1a","event":{"timestamp":"2026-11-22T13:45:00.123456+0000","event_type":"alert","src_ip":"10.0.1.5","dest_ip":"203.0.113.10","dest_port":443,"app_proto":"tls","tls":{"subject":"CN=old.example.net","issuerdn":"CN=Example CA 1","subject":"CN=shop.example.net","issuerdn":"CN=Example CA 2","sni":"shop.example.net"},"alert":{"action":"blocked","signature":"tls sni blocked"}}}"#;

/// The `tls` object a document holds under `path`: its text names `subject` once, and the value
/// is the last one the line gave.
fn assert_last_subject_once(doc: &Document, tls: &[&str]) {
    assert_eq!(doc.source.matches(r#""subject":"#).count(), 1, "{}", doc.source);
    assert_eq!(doc.source.matches(r#""issuerdn":"#).count(), 1, "{}", doc.source);
    let source = source(doc);
    let object = tls.iter().fold(&source, |value, part| &value[part]);
    assert_eq!(object["subject"], "CN=shop.example.net", "{}", doc.source);
    assert_eq!(object["issuerdn"], "CN=Example CA 2");
    assert_eq!(object["sni"], "shop.example.net");
}

#[test]
fn a_json_message_with_a_repeated_key_is_written_with_its_last_value_in_every_json_mode() {
    let runtime_line = format!(
        "2026-11-22T13:45:00.123Z\t{}\tWARN\t{TLS_ALERT}",
        super::tests::REQ
    );
    for message in [TLS_ALERT, runtime_line.as_str()] {
        let docs = builder(DocumentOptions::default())
            .documents(&batch(&[message]))
            .docs;
        assert_last_subject_once(&docs[0], &["json", "event", "tls"]);
        let root = DocumentOptions {
            json: JsonMode::Root,
            ..DocumentOptions::default()
        };
        // `event` is ECS's at the root: the firewall's own object merges under another name.
        let renamed = message.replacen(r#"{"firewall_name""#, r#"{"fw":{"firewall_name""#, 1) + "}";
        let docs = builder(root).documents(&batch(&[&renamed])).docs;
        assert_last_subject_once(&docs[0], &["fw", "event", "tls"]);
        let blueprint = DocumentOptions {
            format: DocumentFormat::Blueprint,
            ..DocumentOptions::default()
        };
        let docs = builder(blueprint).documents(&batch(&[message])).docs;
        assert_last_subject_once(&docs[0], &["event", "tls"]);
    }
}

#[test]
fn a_repeated_key_at_the_root_of_a_message_is_written_once() {
    let docs = builder(DocumentOptions::default())
        .documents(&batch(&[
            r#"{"level":"info","user":"ann","user":"bob","level":"error"}"#,
        ]))
        .docs;
    let doc = &docs[0];
    assert_eq!(doc.source.matches(r#""user":"#).count(), 1, "{}", doc.source);
    let source = source(doc);
    assert_eq!(source["json"]["user"], "bob");
    assert_eq!(source["json"]["level"], "error");
    assert_eq!(
        source["log"]["level"], "ERROR",
        "the level read is the last one too"
    );
}

#[test]
fn json_lines_and_cloudtrail_records_with_a_repeated_key_are_written_with_its_last_value() {
    let docs = builder(DocumentOptions::default())
        .record_documents(&records(Format::JsonLines, &[TLS_ALERT]))
        .docs;
    assert_last_subject_once(&docs[0], &["json", "event", "tls"]);

    let trail = r#"{"eventVersion":"1.11","eventTime":"2026-11-22T13:45:00Z","eventName":"PutObject","requestParameters":{"bucketName":"a","key":"x","bucketName":"b"},"additionalEventData":{"subject":"CN=old.example.net","issuerdn":"CN=Example CA 1","subject":"CN=shop.example.net","issuerdn":"CN=Example CA 2","sni":"shop.example.net"}}"#;
    let docs = builder(DocumentOptions::default())
        .record_documents(&records(Format::Cloudtrail, &[trail]))
        .docs;
    assert_last_subject_once(&docs[0], &["json", "additionalEventData"]);
    assert_eq!(docs[0].source.matches(r#""bucketName":"#).count(), 1);
    assert_eq!(source(&docs[0])["json"]["requestParameters"]["bucketName"], "b");
}

#[test]
fn a_waf_record_with_a_repeated_member_is_written_with_its_last_value() {
    let line = r#"{"timestamp":1795355100123,"formatVersion":1,"webaclId":"arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/shop/1","terminatingRuleId":"Default_Action","terminatingRuleType":"REGULAR","action":"ALLOW","action":"BLOCK","httpSourceName":"ALB","labels":[{"name":"a","name":"awswaf:managed:b"}],"httpRequest":{"clientIp":"198.51.100.7","country":"FR","headers":[{"name":"Host","value":"shop.example.net"}],"uri":"/","args":"","httpVersion":"HTTP/1.1","httpMethod":"GET","requestId":"r-1"}}"#;
    let docs = builder(DocumentOptions::default())
        .record_documents(&records(Format::Waf, &[line]))
        .docs;
    let doc = &docs[0];
    assert!(!doc.source.contains(r#""action":"ALLOW""#), "{}", doc.source);
    assert!(!doc.source.contains(r#""name":"a""#), "{}", doc.source);
    let source = source(doc);
    let waf = &source["aws"]["waf"];
    assert!(source.get("parse_error").is_none() && waf.get("parse_error").is_none());
    assert_eq!(waf["action"], "BLOCK");
    assert_eq!(waf["labels"][0]["name"], "awswaf:managed:b");
    assert_eq!(waf["client_ip"], "198.51.100.7");
}

//! Resolver query logs on AWS's documented example and on queries written from its values
//! (`tests/fixtures/network/README.md` says which is which).

use serde_json::{Value, json};

use super::super::check;
use super::*;
use crate::document::DocumentOptions;
use crate::document::tests::{builder, records, source};
use crate::source::s3::Format;

const DOCUMENTED: &str = include_str!("../../../../../../tests/fixtures/network/route53-resolver-docs.jsonl");
const QUERIES: &str = include_str!("../../../../../../tests/fixtures/network/route53-resolver-queries.jsonl");

/// The fields written and what the line gave besides, checked against FIELDS.
fn parsed(line: &str) -> (serde_json::Map<String, Value>, Parsed<'_>) {
    let mut out = String::new();
    let parsed = parse(line, &mut out).unwrap_or_else(|err| panic!("{err}: {line}"));
    (check::typed(&out, FIELDS), parsed)
}

/// The document of `line`, as the forwarder writes it.
fn document(line: &str) -> Value {
    let format: Format = "route53-resolver".parse().expect("the format's name");
    let docs = builder(DocumentOptions::default())
        .record_documents(&records(format, &[line]))
        .docs;
    source(&docs[0])
}

#[test]
fn the_documented_example_fills_dns_source_and_cloud() {
    let line = DOCUMENTED.lines().next().expect("the example");
    let (fields, parsed) = parsed(line);
    assert_eq!(parsed.time_ms, rfc3339_ms("2021-02-04T17:51:55Z"));
    assert_eq!(
        Value::Object(fields),
        json!({
            "version": "1.100000",
            "vpc_id": "vpc-7example",
            "query_class": "IN",
            "srcids": {"instance": "i-0d15cd0d3example"},
            "firewall_rule_group_id": "rslvr-frg-01234567890abcdef",
            "firewall_rule_action": "BLOCK",
            "firewall_domain_list_id": "rslvr-fdl-01234567890abcdef",
        })
    );

    let doc = document(line);
    assert!(doc.get("parse_error").is_none(), "{doc}");
    assert_eq!(doc["@timestamp"], "2021-02-04T17:51:55.000Z");
    assert_eq!(doc["message"], line, "the line as written");
    assert_eq!(
        doc["dns"],
        json!({
            "type": "query",
            "question": {"name": "15.3.4.32.in-addr.arpa", "type": "PTR"},
            "response_code": "NOERROR",
            "answers": [{"data": "203.0.113.9", "type": "PTR", "class": "IN"}],
        })
    );
    assert_eq!(doc["source"], json!({"ip": "4.5.64.102", "port": 56067}));
    assert_eq!(doc["network"], json!({"transport": "udp"}));
    assert_eq!(
        doc["cloud"],
        json!({"provider": "aws", "account": {"id": "111122223333"}, "region": "us-east-1",
               "instance": {"id": "i-0d15cd0d3example"}})
    );
    assert_eq!(doc["event"]["dataset"], "aws.route53_resolver");
    assert_eq!(doc["event"]["kind"], "event");
    assert_eq!(doc["event"]["category"], json!(["network"]));
    // DNS Firewall blocked the query: its action, lowercased, and the denial.
    assert_eq!(doc["event"]["type"], json!(["protocol", "denied"]));
    assert_eq!(doc["event"]["action"], "block");
    assert_eq!(doc["event"]["outcome"], "success");
    assert_eq!(doc["aws"]["route53_resolver"]["vpc_id"], "vpc-7example");
    assert_eq!(doc["related"]["ip"], json!(["4.5.64.102"]));
}

#[test]
fn answers_lose_their_root_dot_and_nxdomain_is_a_failure() {
    let mut lines = QUERIES.lines();
    let answered = document(lines.next().expect("a query with answers"));
    assert_eq!(answered["dns"]["question"]["name"], "www.example.com");
    assert_eq!(
        answered["dns"]["answers"],
        json!([
            {"data": "example.com", "type": "CNAME", "class": "IN"},
            {"data": "192.0.2.44", "type": "A", "class": "IN"},
        ])
    );
    assert_eq!(answered["event"]["outcome"], "success");
    // No firewall rule matched: no action, no allowed or denied.
    assert!(answered["event"].get("action").is_none());
    assert_eq!(answered["event"]["type"], json!(["protocol"]));
    assert!(
        answered["aws"]["route53_resolver"]
            .get("firewall_rule_action")
            .is_none()
    );

    let line = lines.next().expect("an NXDOMAIN query");
    let missing = document(line);
    assert_eq!(missing["@timestamp"], "2021-02-04T17:52:04.000Z");
    assert_eq!(missing["dns"]["response_code"], "NXDOMAIN");
    assert_eq!(missing["dns"]["question"]["type"], "AAAA");
    assert!(missing["dns"].get("answers").is_none());
    assert_eq!(missing["event"]["outcome"], "failure");
    assert_eq!(missing["network"]["transport"], "tcp");
    // Through a Resolver endpoint: no instance, the endpoint's id under srcids.
    assert!(missing["cloud"].get("instance").is_none());
    assert_eq!(
        missing["aws"]["route53_resolver"]["srcids"],
        json!({"resolver_endpoint": "rslvr-in-0123456789abcdef0"})
    );
    let (fields, _) = parsed(line);
    assert!(fields.contains_key("srcids"));
}

#[test]
fn a_port_sent_as_a_number_reads_as_the_string_does_and_empty_srcids_are_left_out() {
    let line = r#"{"query_timestamp":"2021-12-11T22:46:23Z","query_name":"example.com.","srcaddr":"172.31.86.159","srcport":48701,"srcids":{}}"#;
    let (fields, parsed) = parsed(line);
    assert_eq!(parsed.shared.client_port, Some(48701));
    assert!(fields.is_empty(), "{fields:?}");
    assert_eq!(without_root_dot(Cow::Borrowed(".")), ".");
    assert_eq!(without_root_dot(Cow::Owned("a.b.".into())), "a.b");
}

#[test]
fn a_line_that_is_no_query_is_kept_with_its_error() {
    let mut out = String::new();
    assert_eq!(parse("  ", &mut out).unwrap_err(), "empty line");
    let garbage = parse("2021-02-04 not json", &mut out).unwrap_err().to_string();
    assert!(
        garbage.starts_with("not a Route 53 Resolver query log record (JSON object): "),
        "{garbage}"
    );
    assert_eq!(
        parse(r#"{"srcport":"high"}"#, &mut out).unwrap_err(),
        "srcport is not a port number: \"high\""
    );
    assert_eq!(
        parse(r#"{"query_timestamp":"yesterday"}"#, &mut out).unwrap_err(),
        "query_timestamp is not an ISO 8601 time: \"yesterday\""
    );

    let doc = document("2021-02-04 not json");
    assert!(
        doc["parse_error"]
            .as_str()
            .expect("an error")
            .starts_with("not a Route 53")
    );
    assert_eq!(doc["message"], "2021-02-04 not json");
    assert!(doc.get("dns").is_none());
}

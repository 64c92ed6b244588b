//! Network Firewall logs on AWS's documented alert and TLS examples, and a flow line in the shape
//! AWS and Suricata document (`tests/fixtures/network/README.md` says which is which).

use serde_json::{Value, json};

use super::super::check;
use super::*;
use crate::document::DocumentOptions;
use crate::document::tests::{builder, records, source};
use crate::source::s3::Format;

const ALERTS: &str = include_str!("../../../../../../tests/fixtures/network/network-firewall-alert.jsonl");
const FLOWS: &str = include_str!("../../../../../../tests/fixtures/network/network-firewall-flow.jsonl");
const TLS: &str = include_str!("../../../../../../tests/fixtures/network/network-firewall-tls.jsonl");

/// The fields written, checked against FIELDS, and what the line gave besides.
fn parsed(line: &str) -> (serde_json::Map<String, Value>, Parsed<'_>) {
    let mut out = String::new();
    let parsed = parse(line, &mut out).unwrap_or_else(|err| panic!("{err}: {line}"));
    (check::typed(&out, FIELDS), parsed)
}

/// The document of line `number` (from 1) of `file`, as the forwarder writes it.
fn document(file: &str, number: usize) -> Value {
    let line = file.lines().nth(number - 1).expect("a line");
    let format: Format = "network-firewall".parse().expect("the format's name");
    let docs = builder(DocumentOptions::default())
        .record_documents(&records(format, &[line]))
        .docs;
    let doc = source(&docs[0]);
    assert!(doc.get("parse_error").is_none(), "{doc}");
    doc
}

#[test]
fn every_documented_line_parses_into_typed_fields() {
    for line in ALERTS.lines().chain(FLOWS.lines()).chain(TLS.lines()) {
        let (fields, parsed) = parsed(line);
        assert!(fields.contains_key("firewall_name"), "{line}");
        assert!(parsed.time_ms.is_some(), "{line}");
    }
}

#[test]
fn the_documented_alert_names_its_rule_and_action() {
    let doc = document(ALERTS, 1);
    assert_eq!(doc["@timestamp"], "2020-10-13T22:10:01.006Z");
    assert_eq!(
        doc["event"],
        json!({
            "kind": "alert", "dataset": "aws.network_firewall", "id": doc["event"]["id"],
            "category": ["network"], "type": ["connection", "allowed"], "action": "allowed",
            "severity": 1,
        })
    );
    assert_eq!(doc["source"], json!({"ip": "203.0.113.4", "port": 55555}));
    assert_eq!(doc["destination"], json!({"ip": "192.0.2.16", "port": 111}));
    assert_eq!(doc["network"], json!({"transport": "tcp"}));
    // An empty category is no category.
    assert_eq!(doc["rule"], json!({"id": "5", "name": "test_tcp"}));
    assert_eq!(doc["cloud"]["region"], "us-east-1");
    let aws = &doc["aws"]["network_firewall"];
    assert_eq!(aws["firewall_name"], "test-firewall");
    assert_eq!(aws["availability_zone"], "us-east-1b");
    assert_eq!(aws["event_timestamp"], "2020-10-13T22:10:01.000Z");
    assert_eq!(aws["event_type"], "alert");
    assert_eq!(aws["flow_id"], "1582438383425873");
    assert_eq!(aws["alert"]["signature_id"], 5);
    assert!(aws.get("src_ip").is_none() && aws.get("extra").is_none(), "{aws}");

    // A blocked HTTP/2 request with URL categories: denied, its verdict and request kept whole.
    let blocked = document(ALERTS, 2);
    assert_eq!(blocked["event"]["type"], json!(["connection", "denied"]));
    assert_eq!(blocked["event"]["action"], "blocked");
    assert_eq!(blocked["event"]["severity"], 3);
    let aws = &blocked["aws"]["network_firewall"];
    assert_eq!(aws["aws_category"], "[\"Search Engines and Portals\"]");
    assert_eq!(aws["verdict"], json!({"action": "drop"}));
    assert_eq!(aws["http"]["http_user_agent"], "curl/8.11.1");
    assert_eq!(aws["tx_id"], 2);
    assert_eq!(aws["direction"], "to_server");
}

#[test]
fn a_netflow_line_counts_one_direction() {
    let doc = document(FLOWS, 1);
    assert_eq!(doc["event"]["kind"], "event");
    assert_eq!(doc["event"]["type"], json!(["connection"]));
    assert_eq!(doc["event"]["action"], "netflow");
    assert_eq!(doc["event"]["start"], "2020-10-13T22:10:01.006Z");
    assert_eq!(doc["event"]["end"], "2020-10-13T22:10:04.128Z");
    assert_eq!(
        doc["network"],
        json!({"transport": "tcp", "bytes": 180, "packets": 3})
    );
    assert_eq!(
        doc["source"],
        json!({"ip": "203.0.113.4", "port": 55555, "bytes": 180, "packets": 3})
    );
    assert!(doc.get("rule").is_none());
    let aws = &doc["aws"]["network_firewall"];
    assert_eq!(aws["netflow"]["max_ttl"], 63);
    assert_eq!(aws["tcp"]["syn"], true);
    assert_eq!(aws["app_proto"], "failed");
}

#[test]
fn tls_lines_give_the_server_name_the_error_and_the_revocation() {
    let revoked = document(TLS, 1);
    assert_eq!(revoked["@timestamp"], "2024-02-19T16:46:29.441Z");
    assert_eq!(
        revoked["tls"],
        json!({"client": {"server_name": "revoked-rsa-dv.ssl.com"}})
    );
    assert_eq!(revoked["event"]["action"], "drop");
    assert_eq!(revoked["event"]["type"], json!(["connection", "denied"]));
    // Ports written as strings.
    assert_eq!(revoked["source"], json!({"ip": "10.0.2.53", "port": 55930}));
    assert_eq!(revoked["destination"]["port"], 443);
    let aws = &revoked["aws"]["network_firewall"];
    assert_eq!(aws["revocation_check"]["status"], "REVOKED");
    assert_eq!(aws["sni"], "revoked-rsa-dv.ssl.com");
    assert_eq!(aws["event_timestamp"], "2024-02-19T16:46:29.000Z");

    let error = document(TLS, 2);
    assert_eq!(
        error["error"]["message"],
        "Server name is not found in client hello."
    );
    assert!(error.get("tls").is_none(), "an SNI of `-` is none");
    assert!(error["event"].get("action").is_none());

    let category = document(TLS, 3);
    assert_eq!(
        category["tls"],
        json!({"client": {"server_name": "developers.google.com"}})
    );
    assert_eq!(
        category["aws"]["network_firewall"]["pkt_src"],
        "geneve encapsulation"
    );
}

#[test]
fn members_not_documented_are_kept_flat_in_extra() {
    let line = r#"{"firewall_name":"fw","availability_zone":"eu-west-1a","event_timestamp":1602627001,"event":{"event_type":"alert","src_ip":"10.0.0.1","tx_id":"seven","smb":{"command":"SMB2_COMMAND_READ"},"tls":{"version":"TLS 1.3","sni":"example.com"}},"source_account":"111122223333"}"#;
    let (fields, parsed) = parsed(line);
    assert_eq!(
        fields["extra"],
        json!({"smb": {"command": "SMB2_COMMAND_READ"}, "source_account": "111122223333", "tx_id": "seven"})
    );
    assert_eq!(
        parsed.time_ms,
        Some(1_602_627_001_000),
        "event_timestamp when event has none"
    );
    assert_eq!(parsed.shared.tls_protocol.as_deref(), Some("TLSv1.3"));
    assert_eq!(parsed.shared.region.as_deref(), Some("eu-west-1"));
}

#[test]
fn a_name_given_twice_is_written_once_its_last_value() {
    // `aws_category` beside `event` and inside it; `tls.subject` repeated, as Suricata's TLS
    // alerts repeat it.
    let line = r#"{"firewall_name":"fw","aws_category":"[\"A\"]","event_timestamp":"1602627001","event":{"aws_category":"[\"B\"]","event_type":"alert","tls":{"subject":"CN=a","subject":"CN=b"}}}"#;
    let mut out = String::new();
    parse(line, &mut out).expect("a record");
    assert!(!crate::json::repeats_a_key(&format!("{{{out}}}")), "{out}");
    let fields = check::typed(&out, FIELDS);
    assert_eq!(fields["aws_category"], "[\"B\"]");
    assert_eq!(fields["tls"], json!({"subject": "CN=b"}));
}

#[test]
fn regions_of_zones_and_versions_of_tls() {
    for (zone, region) in [
        ("us-east-1b", Some("us-east-1")),
        ("us-gov-west-1a", Some("us-gov-west-1")),
        ("us-west-2-lax-1a", Some("us-west-2")),
        ("ap-southeast-4c", Some("ap-southeast-4")),
        ("zone", None),
    ] {
        assert_eq!(zone_region(zone).as_deref(), region, "{zone}");
    }
    assert_eq!(tls_protocol("TLS 1.2".into()).as_deref(), Some("TLSv1.2"));
    assert_eq!(tls_protocol("UNDETERMINED".into()), None);
}

#[test]
fn a_line_that_is_no_firewall_record_is_kept_with_its_error() {
    let mut out = String::new();
    assert_eq!(parse("", &mut out).unwrap_err(), "empty line");
    let garbage = parse("{\"firewall_name\":", &mut out).unwrap_err().to_string();
    assert!(
        garbage.starts_with("not a Network Firewall log record (JSON object): "),
        "{garbage}"
    );
    assert_eq!(
        parse(r#"{"firewall_name":"fw"}"#, &mut out).unwrap_err(),
        "no `event` object"
    );
    assert_eq!(
        parse(r#"{"event":{"src_port":"x"}}"#, &mut out).unwrap_err(),
        "src_port is not a port number: \"x\""
    );

    let format: Format = "network-firewall".parse().expect("the format's name");
    let docs = builder(DocumentOptions::default())
        .record_documents(&records(format, &["{\"firewall_name\":"]))
        .docs;
    let doc = source(&docs[0]);
    assert!(
        doc["parse_error"]
            .as_str()
            .expect("an error")
            .starts_with("not a Network Firewall")
    );
    assert_eq!(doc["message"], "{\"firewall_name\":");
}

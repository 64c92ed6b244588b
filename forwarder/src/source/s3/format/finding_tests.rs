//! The documents of GuardDuty and Security Hub findings, from AWS's documented samples
//! (tests/fixtures/findings/README.md says where each came from).

use std::sync::Arc;

use serde_json::Value;

use super::Format;
use crate::document::DocumentOptions;
use crate::document::tests::{builder, source};
use crate::source::Ack;
use crate::source::s3::{ObjectMeta, Record, Records};

const GUARDDUTY: &str = include_str!("../../../../../tests/fixtures/findings/guardduty-export.jsonl");
const SECURITYHUB: &str = include_str!("../../../../../tests/fixtures/findings/securityhub-events.jsonl");

fn format(name: &str) -> Format {
    name.parse().unwrap()
}

/// The records of one object at `key`, numbered from 1.
fn records(format: Format, key: &str, lines: &[&str]) -> Arc<Records> {
    Arc::new(Records {
        ack: Ack::Invocation,
        object: Arc::new(ObjectMeta {
            bucket: "security-logs".into(),
            key: key.into(),
            etag: format!("etag-of-{key}"),
            last_modified_ms: 1_795_946_400_000,
            format,
            key_fields: Vec::new(),
            kinesis: None,
        }),
        header: None,
        records: (lines.iter().enumerate())
            .map(|(i, text)| Record {
                number: i as u64 + 1,
                timestamp: 1_795_946_400_000,
                text: text.to_string(),
                truncated_from: None,
            })
            .collect(),
    })
}

/// Each record's document and its `_id`.
fn documents(format: Format, key: &str, lines: &[&str]) -> Vec<(Value, String)> {
    let docs = builder(DocumentOptions::default())
        .record_documents(&records(format, key, lines))
        .docs;
    assert_eq!(docs.len(), lines.len());
    docs.iter()
        .map(|doc| (source(doc), doc.id.clone().expect("an _id")))
        .collect()
}

const EXPORT_KEY: &str =
    "AWSLogs/123456789012/GuardDuty/eu-west-1/2020/01/14/1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901.jsonl.gz";

#[test]
fn a_guardduty_finding_is_an_alert_with_its_type_severity_title_and_outbound_traffic() {
    let line = GUARDDUTY.lines().next().unwrap();
    let (doc, _) = documents(format("guardduty"), EXPORT_KEY, &[line]).remove(0);
    assert_eq!(doc["event"]["kind"], "alert", "{doc}");
    assert_eq!(doc["event"]["category"], serde_json::json!(["threat"]));
    assert_eq!(doc["event"]["dataset"], "aws.guardduty");
    assert_eq!(doc["event"]["severity"], 8);
    assert_eq!(doc["rule"]["name"], "Backdoor:EC2/DenialOfService.Tcp");
    assert!(
        doc["message"]
            .as_str()
            .unwrap()
            .starts_with("EC2 instance i-99999999 is behaving")
    );
    assert_eq!(doc["@timestamp"], "2020-01-14T15:36:45.893Z");
    assert_eq!(doc["cloud"]["account"]["id"], "123456789012");
    assert_eq!(doc["cloud"]["region"], "eu-west-1");
    assert_eq!(doc["cloud"]["instance"]["id"], "i-99999999");
    // OUTBOUND: the instance (its private address, as the action gives none) connected out.
    assert_eq!(doc["source"]["ip"], "10.0.0.1", "{doc}");
    assert_eq!(doc["source"]["port"], 24198);
    assert_eq!(doc["destination"]["ip"], "198.51.100.0");
    assert_eq!(doc["destination"]["port"], 80);
    assert_eq!(doc["network"]["transport"], "tcp");
    let guardduty = &doc["aws"]["guardduty"];
    assert_eq!(guardduty["id"], "74b7d2599b228a6564523732e2b8757c");
    assert_eq!(guardduty["type"], "Backdoor:EC2/DenialOfService.Tcp");
    assert_eq!(guardduty["severity"], 8);
    assert_eq!(guardduty["updated_at"], "2020-01-14T15:36:45.893Z");
    assert_eq!(guardduty["resource_type"], "Instance");
    assert_eq!(guardduty["action_type"], "NETWORK_CONNECTION");
    assert_eq!(guardduty["connection_direction"], "OUTBOUND");
    assert_eq!(guardduty["resource_role"], "ACTOR");
    assert_eq!(guardduty["archived"], false);
    assert_eq!(guardduty["count"], 1);
    // The nested structures whole, as AWS wrote them.
    assert_eq!(
        guardduty["resource"]["instanceDetails"]["imageId"],
        "ami-99999999"
    );
    assert_eq!(guardduty["service"]["additionalInfo"]["sample"], true);
    assert!(doc.get("parse_error").is_none(), "{doc}");
}

#[test]
fn an_inbound_connections_remote_side_is_the_source() {
    let line = GUARDDUTY.lines().nth(1).unwrap();
    let (doc, _) = documents(format("guardduty"), EXPORT_KEY, &[line]).remove(0);
    assert_eq!(
        doc["rule"]["name"], "UnauthorizedAccess:EC2/SSHBruteForce",
        "{doc}"
    );
    assert_eq!(doc["source"]["ip"], "199.241.229.197");
    assert_eq!(doc["source"]["port"], 46717);
    assert_eq!(doc["destination"]["ip"], "172.31.43.6");
    assert_eq!(doc["destination"]["port"], 22);
    assert_eq!(doc["event"]["severity"], 2);
    assert_eq!(doc["@timestamp"], "2020-09-30T12:14:00.206Z");
    assert_eq!(doc["cloud"]["account"]["id"], "193043430472");
    assert_eq!(doc["cloud"]["region"], "us-east-1");
    assert_eq!(doc["aws"]["guardduty"]["count"], 74);
    assert_eq!(
        doc["aws"]["guardduty"]["event_first_seen"],
        "2020-08-22T09:15:57Z"
    );
}

#[test]
fn port_probes_and_api_calls_name_their_remote_address() {
    // Shapes of the API reference's PortProbeAction and AwsApiCallAction.
    let probe = r#"{"id":"p1","type":"Recon:EC2/PortProbeUnprotectedPort","severity":2.4,"updatedAt":"2026-11-29T10:00:00.000Z","service":{"action":{"actionType":"PORT_PROBE","portProbeAction":{"blocked":false,"portProbeDetails":[{"localPortDetails":{"port":3389,"portName":"RDP"},"localIpDetails":{"ipAddressV4":"10.0.0.23"},"remoteIpDetails":{"ipAddressV4":"203.0.113.7"}}]}}}}"#;
    let call = r#"{"id":"c1","type":"Recon:IAMUser/MaliciousIPCaller","severity":5,"updatedAt":"2026-11-29T10:00:00.000Z","service":{"action":{"actionType":"AWS_API_CALL","awsApiCallAction":{"api":"ListBuckets","serviceName":"s3.amazonaws.com","callerType":"Remote IP","remoteIpDetails":{"ipAddressV6":"2001:db8::7"}}}}}"#;
    let docs = documents(format("guardduty"), EXPORT_KEY, &[probe, call]);
    let (probe, call) = (&docs[0].0, &docs[1].0);
    assert_eq!(probe["source"]["ip"], "203.0.113.7", "{probe}");
    assert_eq!(probe["destination"]["ip"], "10.0.0.23");
    assert_eq!(probe["destination"]["port"], 3389);
    assert_eq!(probe["event"]["severity"], 2);
    assert_eq!(call["source"]["ip"], "2001:db8::7", "{call}");
    assert_eq!(call["event"]["action"], "ListBuckets");
    assert_eq!(call["event"]["provider"], "s3.amazonaws.com");
}

#[test]
fn an_updated_finding_is_a_new_document_and_the_same_one_elsewhere_the_same() {
    let line = GUARDDUTY.lines().next().unwrap();
    let updated = line.replace(
        "\"updatedAt\":\"2020-01-14T15:36:45.893Z\"",
        "\"updatedAt\":\"2020-01-14T21:36:45.893Z\"",
    );
    let first = documents(format("guardduty"), EXPORT_KEY, &[line, &updated]);
    let other_key = EXPORT_KEY.replace("1b2c3d4e", "99999999");
    let again = documents(format("guardduty"), &other_key, &["{}", line]);
    assert_ne!(first[0].1, first[1].1);
    assert_eq!(first[1].0["@timestamp"], "2020-01-14T21:36:45.893Z");
    assert_eq!(
        again[1].1, first[0].1,
        "another object, another line, the same finding"
    );
    // A record without an id of its own keeps its position's.
    assert_ne!(again[0].1, first[0].1);
}

#[test]
fn a_line_that_is_not_a_finding_is_kept_with_its_error() {
    let docs = documents(
        format("guardduty"),
        EXPORT_KEY,
        &["not json", r#"{"schemaVersion":"2.0"}"#],
    );
    for (doc, _) in &docs {
        assert!(doc["parse_error"].as_str().is_some(), "{doc}");
        assert_eq!(doc["event"]["dataset"], "aws.guardduty");
    }
    assert_eq!(docs[0].0["message"], "not json");
    assert!(docs[1].0["parse_error"].as_str().unwrap().contains("no id"));
}

/// The findings of the fixture's events.
fn asff_findings() -> Vec<String> {
    SECURITYHUB
        .lines()
        .map(|line| {
            let event: Value = serde_json::from_str(line).unwrap();
            event["detail"]["findings"][0].to_string()
        })
        .collect()
}

#[test]
fn security_hub_findings_are_alerts_with_their_rule_severity_and_resources() {
    let findings = asff_findings();
    let lines: Vec<&str> = findings.iter().map(String::as_str).collect();
    let docs = documents(format("securityhub"), "firehose/2026/11/29/10/findings-1", &lines);
    let (guardduty, control) = (&docs[0].0, &docs[1].0);
    assert_eq!(guardduty["event"]["kind"], "alert", "{guardduty}");
    assert_eq!(guardduty["event"]["dataset"], "aws.securityhub");
    assert_eq!(guardduty["event"]["severity"], 40);
    assert_eq!(
        guardduty["rule"]["id"],
        "arn:aws::guardduty:us-east-1:193043430472:detector/d4b040365221be2b54a6264dc9a4bc64"
    );
    let title = "199.241.229.197 is performing SSH brute force attacks against i-0c10c2c7863d1a356.";
    assert_eq!(guardduty["rule"]["name"], title);
    assert_eq!(guardduty["message"], title);
    assert_eq!(guardduty["@timestamp"], "2020-09-30T12:14:00.206Z");
    assert_eq!(guardduty["cloud"]["account"]["id"], "193043430472");
    assert_eq!(guardduty["cloud"]["instance"]["id"], "i-0c10c2c7863d1a356");
    let hub = &guardduty["aws"]["securityhub"];
    assert_eq!(
        hub["resources"]["id"],
        serde_json::json!(["arn:aws::ec2:us-east-1:193043430472:instance/i-0c10c2c7863d1a356"])
    );
    assert_eq!(hub["resources"]["type"], serde_json::json!(["AwsEc2Instance"]));
    assert_eq!(hub["product_name"], "GuardDuty");
    assert_eq!(hub["workflow_status"], "NEW");
    assert_eq!(hub["record_state"], "ACTIVE");
    assert_eq!(hub["severity_label"], "MEDIUM");
    assert_eq!(
        hub["resource_details"]["resources"][0]["Details"]["AwsEc2Instance"]["ImageId"],
        "ami-02354e95b39ca8dec"
    );
    assert_eq!(
        hub["product_fields"]["aws/guardduty/service/action/networkConnectionAction/connectionDirection"],
        "INBOUND"
    );
    assert_eq!(control["rule"]["id"], "CloudTrail.2", "{control}");
    assert_eq!(
        control["rule"]["name"],
        "CloudTrail.2 CloudTrail should have encryption at-rest enabled"
    );
    assert_eq!(control["cloud"]["region"], "us-east-2");
    assert_eq!(control["cloud"]["account"]["id"], "123456789012");
    let hub = &control["aws"]["securityhub"];
    assert_eq!(hub["compliance_status"], "FAILED");
    assert_eq!(hub["compliance_security_control_id"], "CloudTrail.2");
    assert_eq!(hub["product_name"], "Security Hub");
    assert_eq!(
        hub["generator_id"],
        "aws-foundational-security-best-practices/v/1.0.0/CloudTrail.2"
    );
    // Members no field names are kept, as written.
    assert_eq!(
        hub["other"]["FindingProviderFields"]["Severity"]["Label"],
        "MEDIUM"
    );
    assert_eq!(
        hub["other"]["Remediation"]["Recommendation"]["Url"],
        "https://docs.aws.amazon.com/console/securityhub/CloudTrail.2/remediation"
    );
}

#[test]
fn a_security_hub_findings_id_is_its_own_and_its_update_time() {
    let findings = asff_findings();
    let updated = findings[1].replace("2021-09-28T16:10:00.093Z", "2021-09-29T16:10:00.093Z");
    let first = documents(format("securityhub"), "firehose/a", &[&findings[1], &updated]);
    let again = documents(format("securityhub"), "firehose/b", &[&findings[0], &findings[1]]);
    assert_ne!(first[0].1, first[1].1);
    assert_eq!(again[1].1, first[0].1);
}

#[test]
fn an_event_without_findings_is_kept_with_its_error() {
    let event = r#"{"version":"0","detail-type":"Scheduled Event","source":"aws.events","detail":{}}"#;
    let (doc, _) = documents(format("securityhub"), "firehose/a", &[event]).remove(0);
    assert!(doc["parse_error"].as_str().unwrap().contains("no Id"), "{doc}");
    assert_eq!(doc["message"], event);
}

#[test]
fn guardduty_exports_are_known_by_their_key() {
    let guardduty = format("guardduty");
    assert_eq!(Format::of_key(EXPORT_KEY), Some(guardduty));
    let prefixed = format!(
        "findings/AWSLogs/o-a1b2c3d4e5/{}",
        &EXPORT_KEY["AWSLogs/".len()..]
    );
    assert_eq!(Format::of_key(&prefixed), Some(guardduty));
    // Security Hub's Firehose objects have keys of the user's: known by their content only.
    assert_eq!(
        Format::of_key("findings/2026/11/29/10/stream-1-2026-11-29-10-00-00-a1b2"),
        None
    );
    assert_eq!(Format::of_content(SECURITYHUB.as_bytes()), format("securityhub"));
    assert_eq!(Format::of_content(GUARDDUTY.as_bytes()), Format::JsonLines);
}

#[test]
fn a_label_alone_gives_the_severity_asff_gives_it_and_the_network_its_endpoints() {
    // Members as the ASFF page documents them (`Severity.Label` alone, `Network`).
    let finding = r#"{"SchemaVersion":"2018-10-08","Id":"custom-1","ProductArn":"arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default","GeneratorId":"my-detector","AwsAccountId":"123456789012","Types":["TTPs/Discovery"],"CreatedAt":"2026-11-29T10:00:00Z","UpdatedAt":"2026-11-29T10:05:00Z","Severity":{"Label":"HIGH"},"Title":"Port scan","Description":"A scan","Resources":[{"Type":"Other","Id":"scanner"}],"Network":{"Direction":"IN","Protocol":"TCP","SourceIpV4":"203.0.113.9","SourcePort":40123,"DestinationIpV4":"10.0.0.5","DestinationPort":443}}"#;
    let (doc, _) = documents(format("securityhub"), "firehose/a", &[finding]).remove(0);
    assert_eq!(doc["event"]["severity"], 70, "{doc}");
    assert_eq!(doc["rule"]["id"], "my-detector");
    assert_eq!(doc["source"]["ip"], "203.0.113.9");
    assert_eq!(doc["source"]["port"], 40123);
    assert_eq!(doc["destination"]["ip"], "10.0.0.5");
    assert_eq!(doc["destination"]["port"], 443);
    assert_eq!(doc["network"]["transport"], "tcp");
    assert_eq!(
        doc["aws"]["securityhub"]["types"],
        serde_json::json!(["TTPs/Discovery"])
    );
    assert!(doc["aws"]["securityhub"].get("severity_normalized").is_none());
    assert_eq!(doc["@timestamp"], "2026-11-29T10:05:00.000Z");
}

#[test]
fn every_field_a_finding_writes_is_in_its_table_with_a_type_its_value_fits() {
    for line in GUARDDUTY.lines() {
        let record = super::guardduty::parse(line).unwrap();
        let fields = super::check::typed(&record.fields, super::guardduty::FIELDS);
        assert!(fields.contains_key("service") && fields.contains_key("resource"));
    }
    for finding in asff_findings() {
        let record = super::securityhub::parse(&finding).unwrap();
        let fields = super::check::typed(&record.fields, super::securityhub::FIELDS);
        assert!(fields.contains_key("resources") && fields.contains_key("product_fields"));
    }
}

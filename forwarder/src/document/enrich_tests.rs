//! Issue 23: GeoIP, AS numbers and user agents in the ECS objects of the documents, with the
//! small City and ASN databases the enrichment's own tests write (81.2.69.0/24 is London, AS
//! 20712; 2a01:4f8::/32 Falkenstein, AS 24940). Lines are AWS's documented examples with their
//! addresses swapped for public ones, written for these tests.

use std::sync::Arc;

use serde_json::Value;

use super::tests::{builder, records, source};
use super::*;
use crate::enrich::Enrichment;
use crate::json::repeats_a_key;
use crate::source::s3::Format;

/// The first line of AWS's ALB access log example
/// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html#access-log-entry-examples>),
/// its client London's, its target private, a browser's user agent.
const ALB: &str = "http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 81.2.69.160:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 \"GET http://www.example.com:80/ HTTP/1.1\" \"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 \"Root=1-58337262-36d228ad5d99923122bbe354\" \"-\" \"-\" 0 2018-07-02T22:22:48.364000Z \"forward\" \"-\" \"-\" 10.0.0.1:80 200 \"-\" \"-\"";

fn document(enrichment: Enrichment, format: Format, line: &str) -> Value {
    let options = DocumentOptions {
        enrichment: Arc::new(enrichment),
        ..DocumentOptions::default()
    };
    let docs = builder(options).record_documents(&records(format, &[line])).docs;
    assert!(!repeats_a_key(&docs[0].source), "a key twice: {}", docs[0].source);
    source(&docs[0])
}

#[test]
fn a_public_client_gets_its_place_and_network_and_a_private_target_none() {
    let doc = document(crate::enrich::tests::both(), Format::Alb, ALB);
    let geo = &doc["source"]["geo"];
    assert_eq!(geo["country_iso_code"], "GB", "{doc}");
    assert_eq!(geo["city_name"], "London");
    assert_eq!(geo["continent_code"], "EU");
    assert_eq!(geo["location"]["lat"], 51.5142);
    assert_eq!(doc["source"]["as"]["number"], 20712);
    assert_eq!(
        doc["source"]["as"]["organization"]["name"],
        "Andrews & Arnold Ltd"
    );
    assert_eq!(doc["destination"]["ip"], "10.0.0.1");
    assert!(doc["destination"].get("geo").is_none(), "{doc}");
    assert!(doc["destination"].get("as").is_none(), "{doc}");
}

/// Addresses no database may place: documentation (IPv4 and IPv6, which ALB writes
/// `address:port` without brackets), private, shared, loopback;
/// the databases hold 192.0.2.0/24, 10.0.0.0/8 and 2001:db8::/32 on purpose, so a lookup would show.
#[test]
fn documentation_and_private_clients_get_no_place() {
    for client in [
        "192.0.2.10:2817",
        "10.1.2.3:2817",
        "100.64.0.1:2817",
        "127.0.0.1:2817",
        "2001:db8::1:2817",
    ] {
        let line = ALB.replacen("81.2.69.160:2817", client, 1);
        let doc = document(crate::enrich::tests::both(), Format::Alb, &line);
        let ip = client.rsplit_once(':').expect("address:port").0;
        assert_eq!(doc["source"]["ip"], ip, "{client}: {doc}");
        assert!(doc["source"].get("geo").is_none(), "{client}: {doc}");
        assert!(doc["source"].get("as").is_none(), "{client}: {doc}");
    }
}

#[test]
fn a_known_user_agent_gets_its_name_version_and_os() {
    let doc = document(Enrichment::default(), Format::Alb, ALB);
    let agent = &doc["user_agent"];
    assert_eq!(agent["name"], "Chrome", "{doc}");
    assert_eq!(agent["version"], "124.0.0.0");
    assert_eq!(agent["os"]["name"], "Windows");
    assert!(
        agent["original"]
            .as_str()
            .unwrap()
            .starts_with("Mozilla/5.0 (Windows NT 10.0")
    );
    // Without databases an address gets nothing, and no error.
    assert!(doc["source"].get("geo").is_none(), "{doc}");
}

#[test]
fn without_enrichment_the_documents_hold_only_what_the_line_said() {
    let doc = document(Enrichment::none(), Format::Alb, ALB);
    assert_eq!(
        doc["user_agent"].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["original"]
    );
    assert!(doc["source"].get("geo").is_none() && doc["source"].get("as").is_none());
}

/// WAF gives its own country: it stands where no database places the address, and the
/// database's `geo` (a superset) where one does; either way one `geo` per object.
#[test]
fn a_waf_records_own_country_stands_where_the_database_has_none() {
    // The shape of AWS's WAF log example
    // (<https://docs.aws.amazon.com/waf/latest/developerguide/logging-examples.html>).
    let record = |ip: &str| {
        format!(
            r#"{{"timestamp":1576280412771,"formatVersion":1,"webaclId":"arn:aws:wafv2:ap-southeast-2:111122223333:regional/webacl/STMTest/1EXAMPLE-2ARN-3ARN-4ARN-123456EXAMPLE","terminatingRuleId":"STMTest_SQLi_XSS","terminatingRuleType":"REGULAR","action":"BLOCK","httpSourceName":"ALB","httpSourceId":"alb","httpRequest":{{"clientIp":"{ip}","country":"AU","headers":[{{"name":"Host","value":"localhost:1989"}}],"uri":"/foo","args":"","httpVersion":"HTTP/1.1","httpMethod":"GET","requestId":"rid"}}}}"#
        )
    };
    let unplaced = document(crate::enrich::tests::both(), Format::Waf, &record("1.1.1.1"));
    assert_eq!(unplaced["source"]["geo"]["country_iso_code"], "AU", "{unplaced}");
    let placed = document(crate::enrich::tests::both(), Format::Waf, &record("81.2.69.160"));
    assert_eq!(placed["source"]["geo"]["country_iso_code"], "GB", "{placed}");
    assert_eq!(placed["source"]["geo"]["city_name"], "London");
    assert_eq!(placed["source"]["as"]["number"], 20712);
}

/// CloudTrail's `sourceIPAddress`, here IPv6, is enriched as the access logs' clients are.
#[test]
fn a_cloudtrail_callers_ipv6_address_gets_its_place() {
    // The shape of AWS's CloudTrail record example
    // (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html>).
    let record = r#"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDA6ON6E4XEGITEXAMPLE","arn":"arn:aws:iam::888888888888:user/Alice","accountId":"888888888888","userName":"Alice"},"eventTime":"2023-07-19T21:11:57Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","sourceIPAddress":"2a01:4f8:c17:1::2","userAgent":"aws-cli/2.13.5","requestParameters":{"userName":"Richard"},"responseElements":null,"requestID":"2d528c76-329e-410b-9516-EXAMPLE565dc","eventID":"ba0801a1-87ec-4d26-be87-EXAMPLE75bbb","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"888888888888","eventCategory":"Management"}"#;
    let doc = document(crate::enrich::tests::both(), Format::Cloudtrail, record);
    assert_eq!(doc["source"]["ip"], "2a01:4f8:c17:1::2", "{doc}");
    assert_eq!(doc["source"]["geo"]["city_name"], "Falkenstein");
    assert_eq!(doc["source"]["as"]["number"], 24940);
}

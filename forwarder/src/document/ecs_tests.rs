//! Issue 23: the ECS fields of each source's documents, on AWS's documented sample lines
//! (`tests/fixtures/access/`, whose README says where each is documented). Every document holds
//! each key once.

use serde_json::{Value, json};

use super::ecs::{UrlParts, tls_version};
use super::tests::{builder, records, source};
use super::*;
use crate::json::repeats_a_key;
use crate::source::s3::Format;

const ALB: &str = include_str!("../../../tests/fixtures/access/alb-access-docs.log");
const ALB_CONNECTION: &str = include_str!("../../../tests/fixtures/access/alb-connection-docs.log");
const NLB: &str = include_str!("../../../tests/fixtures/access/nlb-access-docs.log");
const ELB: &str = include_str!("../../../tests/fixtures/access/elb-access-docs.log");
const CLOUDFRONT: &str = include_str!("../../../tests/fixtures/access/cloudfront-standard.log");

/// The document of line `number` (from 1) of `file`, read as `format`.
fn document(format: Format, file: &str, number: usize) -> Value {
    let line = file.lines().nth(number - 1).expect("a line");
    let docs = builder(DocumentOptions::default())
        .record_documents(&records(format, &[line]))
        .docs;
    let doc = &docs[0];
    assert!(!repeats_a_key(&doc.source), "a key twice: {}", doc.source);
    let source = source(doc);
    assert!(source.get("parse_error").is_none(), "{source}");
    assert_eq!(source["ecs"]["version"], ECS_VERSION);
    assert_eq!(source["cloud"]["provider"], "aws");
    source
}

/// The members of `value` named in `expected`, for a comparison that ignores the others.
fn pick(value: &Value, expected: &Value) -> Value {
    let object = expected.as_object().expect("an object");
    let picked = object
        .iter()
        .map(|(key, inner)| match inner {
            Value::Object(_) => (key.clone(), pick(&value[key], inner)),
            _ => (key.clone(), value[key].clone()),
        })
        .collect();
    Value::Object(picked)
}

fn assert_has(source: &Value, expected: Value) {
    assert_eq!(pick(source, &expected), expected, "{source}");
}

#[test]
fn an_alb_access_line_in_ecs() {
    let doc = document(Format::Alb, ALB, 1);
    assert_has(
        &doc,
        json!({
            "event": {"kind": "event", "dataset": "aws.alb", "category": ["web"], "type": ["access"],
                      "outcome": "success", "duration": 1_000_000},
            "source": {"ip": "192.168.131.39", "port": 2817},
            "destination": {"ip": "10.0.0.1", "port": 80},
            "http": {"request": {"method": "GET", "bytes": 34}, "response": {"status_code": 200, "bytes": 366}},
            "url": {"original": "http://www.example.com:80/", "domain": "www.example.com", "path": "/"},
            "user_agent": {"original": "curl/7.46.0"},
            "trace": {"id": "1-58337262-36d228ad5d99923122bbe354"},
            "related": {"ip": ["192.168.131.39", "10.0.0.1"]},
        }),
    );
    assert_eq!(doc["aws"]["alb"]["elb_status_code"], 200);
    assert_eq!(doc["aws"]["s3"]["bucket"]["name"], "central-logs");
    assert!(doc.get("alb").is_none() && doc.get("client").is_none() && doc.get("bytes").is_none());
    // An HTTPS line: its TLS cipher and version.
    let https = document(Format::Alb, ALB, 2);
    assert_has(
        &https,
        json!({"tls": {"cipher": "ECDHE-RSA-AES128-GCM-SHA256", "version": "1.2", "version_protocol": "tls"}}),
    );
}

#[test]
fn an_alb_connection_line_in_ecs() {
    let doc = document(Format::AlbConnection, ALB_CONNECTION, 1);
    assert_has(
        &doc,
        json!({
            "event": {"dataset": "aws.alb_connection", "category": ["network"], "type": ["connection"]},
            "source": {"ip": "203.0.113.1", "port": 36280},
            "tls": {"cipher": "ECDHE-RSA-AES128-GCM-SHA256", "version": "1.2", "version_protocol": "tls"},
            "related": {"ip": ["203.0.113.1"]},
        }),
    );
    assert!(doc.get("http").is_none());
    assert_eq!(doc["aws"]["alb_connection"]["listener_port"], 443);
}

#[test]
fn an_nlb_line_in_ecs() {
    let doc = document(Format::Nlb, NLB, 1);
    assert_has(
        &doc,
        json!({
            "event": {"dataset": "aws.nlb", "category": ["network"], "type": ["connection"], "duration": 5_000_000},
            "source": {"ip": "72.21.218.154", "port": 51341, "bytes": 98},
            "destination": {"ip": "172.100.100.185", "port": 443, "bytes": 246},
            "network": {"bytes": 344},
            "tls": {"cipher": "ECDHE-RSA-AES128-SHA", "version": "1.2", "version_protocol": "tls"},
        }),
    );
    assert!(doc.get("http").is_none() && doc["event"].get("outcome").is_none());
    assert_eq!(doc["aws"]["nlb"]["connection_time"], 5);
}

#[test]
fn a_classic_elb_line_in_ecs() {
    let doc = document(Format::Elb, ELB, 2);
    assert_has(
        &doc,
        json!({
            "event": {"dataset": "aws.elb", "category": ["web"], "type": ["access"], "outcome": "success",
                      "duration": 2_471_000},
            "source": {"ip": "192.168.131.39", "port": 2817},
            "destination": {"ip": "10.0.0.1", "port": 80},
            "http": {"request": {"method": "GET", "bytes": 0}, "response": {"status_code": 200, "bytes": 57}},
            "url": {"original": "https://www.example.com:443/", "domain": "www.example.com", "path": "/"},
            "user_agent": {"original": "curl/7.38.0"},
            "tls": {"cipher": "DHE-RSA-AES128-SHA", "version": "1.2", "version_protocol": "tls"},
        }),
    );
    // A TCP listener's line: bytes, but no request and no status, so no method, URL or outcome.
    let tcp = document(Format::Elb, ELB, 3);
    assert_eq!(
        tcp["http"],
        json!({"request": {"bytes": 82}, "response": {"bytes": 305}})
    );
    assert!(
        tcp.get("url").is_none() && tcp.get("user_agent").is_none(),
        "{tcp}"
    );
    assert!(tcp["event"].get("outcome").is_none());
}

#[test]
fn a_cloudfront_line_in_ecs_with_its_user_agent_decoded() {
    let doc = document(Format::Cloudfront, CLOUDFRONT, 3);
    assert_has(
        &doc,
        json!({
            "event": {"dataset": "aws.cloudfront", "category": ["web"], "type": ["access"], "outcome": "success",
                      "duration": 1_000_000},
            "source": {"ip": "192.0.2.100", "port": 11040},
            "http": {"request": {"method": "GET", "bytes": 23}, "response": {"status_code": 200, "bytes": 392}},
            "url": {"original": "/index.html", "domain": "d111111abcdef8.cloudfront.net", "path": "/index.html"},
            "tls": {"cipher": "ECDHE-RSA-AES128-GCM-SHA256", "version": "1.2", "version_protocol": "tls"},
        }),
    );
    let agent = doc["user_agent"]["original"].as_str().expect("a user agent");
    assert!(
        agent.starts_with("Mozilla/5.0 (Windows NT 10.0; Win64; x64)"),
        "{agent}"
    );
    assert!(doc.get("destination").is_none());
}

#[test]
fn urls_split_into_domain_path_and_query_as_written() {
    let cases = [
        (
            "http://www.example.com:80/",
            (Some("www.example.com"), Some("/"), None),
        ),
        (
            "https://u@[2001:db8::1]:443/a/b?x=1&y#f",
            (Some("2001:db8::1"), Some("/a/b"), Some("x=1&y")),
        ),
        (
            "/awsexamplebucket1?versioning",
            (None, Some("/awsexamplebucket1"), Some("versioning")),
        ),
        ("http://host?q", (Some("host"), None, Some("q"))),
    ];
    for (url, (domain, path, query)) in cases {
        assert_eq!(UrlParts::of(url), UrlParts { domain, path, query }, "{url}");
    }
}

#[test]
fn tls_versions_read_as_ecs_writes_them() {
    let read = |text| tls_version(text).map(|(protocol, version)| format!("{protocol} {version}"));
    assert_eq!(read("TLSv1.2").as_deref(), Some("tls 1.2"));
    assert_eq!(read("tlsv12").as_deref(), Some("tls 1.2"));
    assert_eq!(read("TLSv1").as_deref(), Some("tls 1.0"));
    assert_eq!(read("TLSV1.1").as_deref(), Some("tls 1.1"));
    assert_eq!(read("SSLv3").as_deref(), Some("ssl 3"));
    assert_eq!(read("-"), None);
}

const VPC_FLOW: &str = include_str!("../../../tests/fixtures/access/vpcflow-default.log");
const WAF: &str = include_str!("../../../tests/fixtures/access/waf-examples.jsonl");
const S3_ACCESS: &str = include_str!("../../../tests/fixtures/access/s3access-current.log");

#[test]
fn a_vpc_flow_record_in_ecs() {
    // Line 2 of the file (after its header line), read by the default format.
    let doc = document(Format::VpcFlow, VPC_FLOW, 2);
    assert_has(
        &doc,
        json!({
            "event": {"dataset": "aws.vpc_flow", "category": ["network"], "type": ["connection", "allowed"],
                      "action": "accept", "start": "2014-12-14T04:06:50.000Z", "end": "2014-12-14T04:07:50.000Z"},
            "source": {"ip": "172.31.16.139", "port": 20641, "bytes": 4249, "packets": 20},
            "destination": {"ip": "172.31.16.21", "port": 22},
            "network": {"transport": "tcp", "iana_number": "6", "bytes": 4249, "packets": 20},
            "related": {"ip": ["172.31.16.139", "172.31.16.21"]},
        }),
    );
    assert!(doc.get("http").is_none() && doc["event"].get("outcome").is_none());
    assert_eq!(doc["aws"]["vpc_flow"]["log_status"], "OK");
    let rejected = document(Format::VpcFlow, VPC_FLOW, 3);
    assert_eq!(rejected["event"]["action"], "reject");
    assert_eq!(rejected["event"]["type"], json!(["connection", "denied"]));
}

#[test]
fn a_waf_record_in_ecs_with_its_own_country() {
    let doc = document(Format::Waf, WAF, 1);
    assert_has(
        &doc,
        json!({
            "event": {"dataset": "aws.waf", "category": ["web"], "type": ["access", "denied"], "action": "block"},
            "source": {"ip": "1.1.1.1", "geo": {"country_iso_code": "AU"}},
            "http": {"request": {"method": "GET"}},
            "url": {"original": "/foo", "path": "/foo"},
            "user_agent": {"original": "curl/7.61.1"},
            "rule": {"id": "STMTest_SQLi_XSS"},
        }),
    );
    assert_eq!(doc["aws"]["waf"]["action"], "BLOCK");
}

#[test]
fn an_s3_server_access_record_in_ecs() {
    let doc = document(Format::S3Access, S3_ACCESS, 1);
    assert_has(
        &doc,
        json!({
            "event": {"dataset": "aws.s3_access", "category": ["web"], "type": ["access"], "outcome": "success",
                      "duration": 7_000_000},
            "source": {"ip": "192.0.2.3"},
            "http": {"request": {"method": "GET"}, "response": {"status_code": 200, "bytes": 113}},
            "url": {"original": "/amzn-s3-demo-bucket1?versioning", "path": "/amzn-s3-demo-bucket1",
                    "query": "versioning", "domain": "amzn-s3-demo-bucket1.s3.us-west-1.amazonaws.com"},
            "user_agent": {"original": "S3Console/0.4"},
            "user": {"id": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},
            "tls": {"cipher": "ECDHE-RSA-AES128-GCM-SHA256", "version": "1.2", "version_protocol": "tls"},
        }),
    );
    assert_eq!(doc["aws"]["s3_access"]["operation"], "REST.GET.VERSIONING");
}

/// The IAM example of CloudTrail's log file examples page (Alice creates the user Richard with
/// the AWS CLI), <https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html>.
const TRAIL_CREATE_USER: &str = r#"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDA6ON6E4XEGITEXAMPLE","arn":"arn:aws:iam::888888888888:user/Alice","accountId":"888888888888","accessKeyId":"AKIAIOSFODNN7EXAMPLE","userName":"Alice"},"eventTime":"2023-07-19T21:11:57Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.0","userAgent":"aws-cli/2.13.5 Python/3.11.4 Linux/4.14.255-314-253.539.amzn2.x86_64 exec-env/CloudShell exe/x86_64.amzn.2 prompt/off command/iam.create-user","requestParameters":{"userName":"Richard"},"responseElements":{"user":{"path":"/","arn":"arn:aws:iam::888888888888:user/Richard","userId":"AIDA6ON6E4XEGIEXAMPLE","createDate":"Jul 19, 2023 9:11:57 PM","userName":"Richard"}},"requestID":"2d528c76-329e-410b-9516-EXAMPLE565dc","eventID":"ba0801a1-87ec-4d26-be87-EXAMPLE75bbb","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"888888888888","eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.2","cipherSuite":"ECDHE-RSA-AES128-GCM-SHA256","clientProvidedHostHeader":"iam.amazonaws.com"},"sessionCredentialFromConsole":"true"}"#;

/// A call that failed, its source a service's name: the shape of the same page's examples with
/// `errorCode` and `errorMessage`, an assumed role's identity.
const TRAIL_DENIED: &str = r#"{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLEID:checkout-deploy","arn":"arn:aws:sts::123456789012:assumed-role/deploy/checkout-deploy","accountId":"123456789012","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLEID","arn":"arn:aws:iam::123456789012:role/deploy","accountId":"123456789012","userName":"deploy"}}},"eventTime":"2026-11-22T08:14:03Z","eventSource":"logs.amazonaws.com","eventName":"CreateLogGroup","awsRegion":"eu-west-1","sourceIPAddress":"cloudformation.amazonaws.com","userAgent":"cloudformation.amazonaws.com","errorCode":"AccessDenied","errorMessage":"User is not authorized to perform: logs:CreateLogGroup","requestParameters":null,"responseElements":null,"recipientAccountId":"123456789012"}"#;

#[test]
fn a_cloudtrail_record_in_ecs() {
    let docs = builder(DocumentOptions::default())
        .record_documents(&records(Format::Cloudtrail, &[TRAIL_CREATE_USER, TRAIL_DENIED]))
        .docs;
    let read = |doc: &Document| {
        assert!(!repeats_a_key(&doc.source), "a key twice: {}", doc.source);
        source(doc)
    };
    let created = read(&docs[0]);
    assert_has(
        &created,
        json!({
            "cloud": {"provider": "aws", "account": {"id": "888888888888"}, "region": "us-east-1"},
            "event": {"kind": "event", "dataset": "aws.cloudtrail", "action": "CreateUser",
                      "provider": "iam.amazonaws.com", "outcome": "success"},
            "source": {"ip": "192.0.2.0"},
            "user": {"name": "Alice", "id": "AIDA6ON6E4XEGITEXAMPLE"},
            "related": {"ip": ["192.0.2.0"]},
        }),
    );
    let agent = created["user_agent"]["original"].as_str().expect("a user agent");
    assert!(agent.starts_with("aws-cli/2.13.5"), "{agent}");
    assert_eq!(
        created["json"]["eventName"], "CreateUser",
        "the record stays whole under json"
    );
    assert!(created.get("error").is_none());

    let denied = read(&docs[1]);
    assert_has(
        &denied,
        json!({
            "cloud": {"account": {"id": "123456789012"}, "region": "eu-west-1"},
            "event": {"action": "CreateLogGroup", "provider": "logs.amazonaws.com", "outcome": "failure"},
            "user": {"name": "deploy", "id": "AROAEXAMPLEID:checkout-deploy"},
            "error": {"code": "AccessDenied", "message": "User is not authorized to perform: logs:CreateLogGroup"},
        }),
    );
    assert!(
        denied.get("source").is_none(),
        "a service's name is no address: {denied}"
    );
}

/// A Lambda function's REPORT line (its format on
/// <https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html>) in a tagged log
/// group, in both JSON modes: every ECS object once.
#[test]
fn a_cloudwatch_logs_event_in_ecs_holds_each_key_once() {
    use crate::source::tags::LogGroupTags;
    let line = format!(
        "REPORT RequestId: {}\tDuration: 2.39 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 71 MB\t",
        super::tests::REQ
    );
    let json = r#"{"level":"error","event":"x","cloud":"y","aws":{"z":1},"log":"w","requestId":"r-7"}"#;
    let mut batch = super::tests::batch(&[&line, json]);
    std::sync::Arc::make_mut(&mut batch).tags =
        Some(std::sync::Arc::new(LogGroupTags::new([("team", "payments")])));
    for mode in [JsonMode::Field("json".into()), JsonMode::Root] {
        let options = DocumentOptions {
            json: mode,
            ..DocumentOptions::default()
        };
        let docs = builder(options).documents(&batch).docs;
        for doc in &docs {
            assert!(!repeats_a_key(&doc.source), "a key twice: {}", doc.source);
        }
        let report = source(&docs[0]);
        assert_has(
            &report,
            json!({
                "ecs": {"version": "9.4.0"},
                "cloud": {"provider": "aws", "account": {"id": "123456789012"}, "region": "eu-west-1"},
                "event": {"kind": "event", "dataset": "aws.cloudwatch_logs"},
                "log": {"level": "INFO"},
                "faas": {"name": "checkout-api", "execution": super::tests::REQ},
                "aws": {"cloudwatch": {"log_group": "/aws/lambda/checkout-api"}, "tags": {"team": "payments"},
                        "lambda": {"event": "report", "duration_ms": 2.39, "memory_size_mb": 128}},
            }),
        );
        let logged = source(&docs[1]);
        assert_eq!(logged["log"]["level"], "ERROR");
        assert_eq!(logged["faas"]["execution"], "r-7");
        assert_eq!(
            logged["event"]["dataset"], "aws.cloudwatch_logs",
            "ECS's `event` wins at the root"
        );
    }
}

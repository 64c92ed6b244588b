//! The documents the dashboards' panels are checked on ([`super::tests`]): a Lambda function's
//! log lines built by the [`DocumentBuilder`], and AWS's documented examples of every access log
//! format and security source (tests/fixtures/access, network, findings) read from S3, with a few
//! lines from public clients added for the maps, enriched with the small GeoIP databases of the
//! enrichment's tests.

use std::sync::Arc;

use serde_json::Value;

use crate::document::DocumentBuilder;
use crate::document::tests::{REQ, batch};
use crate::source::Ack;
use crate::source::s3::read::{Located, read_object};
use crate::source::s3::{Chunk, S3Options, format};

/// A document as the forwarder would send it: its index and its `_source`.
pub(super) struct Sample {
    pub index: String,
    pub source: Value,
}

/// Documents of a Lambda function's log group: a cold and a warm invocation (START, a Node.js
/// error line, END, REPORT as in
/// <https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html>) and a timeout.
pub(super) fn lambda_samples(builder: &DocumentBuilder) -> Vec<Sample> {
    let messages = [
        format!("START RequestId: {REQ} Version: $LATEST\n"),
        format!("2026-11-22T13:45:00.200Z\t{REQ}\tERROR\tInvoke Error \t{{\"errorType\":\"TypeError\"}}\n"),
        format!("END RequestId: {REQ}\n"),
        format!(
            "REPORT RequestId: {REQ}\tDuration: 2.39 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\t\
             Max Memory Used: 71 MB\tInit Duration: 380.28 ms\t\n"
        ),
        format!(
            "REPORT RequestId: {REQ}\tDuration: 1.02 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t\
             Max Memory Used: 72 MB\t\n"
        ),
        format!("2026-11-22T13:45:30.030Z {REQ} Task timed out after 30.03 seconds\n"),
    ];
    let messages: Vec<&str> = messages.iter().map(String::as_str).collect();
    let batch = batch(&messages);
    samples(builder.documents(&batch).docs)
}

/// The first line of AWS's ALB access log example
/// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html#access-log-entry-examples>)
/// with a client in London (81.2.69.0/24 in the test City database) and a browser's user agent.
const ALB_LONDON: &str = "http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 \
    81.2.69.160:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 \"GET http://www.example.com:80/ HTTP/1.1\" \
    \"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\" \
    - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 \
    \"Root=1-58337262-36d228ad5d99923122bbe354\" \"-\" \"-\" 0 2018-07-02T22:22:48.364000Z \"forward\" \"-\" \"-\" \
    10.0.0.1:80 200 \"-\" \"-\"\n";

/// The first line of tests/fixtures/access/s3access-current.log (AWS's S3 server access log
/// example) with an IPv6 requester in Falkenstein (2a01:4f8::/32) and Firefox's user agent.
const S3_FALKENSTEIN: &str = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be \
    amzn-s3-demo-bucket1 [06/Feb/2019:00:00:38 +0000] 2a01:4f8:c17:b8f::2 \
    79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be 3E57427F3EXAMPLE REST.GET.VERSIONING - \
    \"GET /amzn-s3-demo-bucket1?versioning HTTP/1.1\" 200 - 113 - 7 - \"-\" \
    \"Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0\" - \
    s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 \
    ECDHE-RSA-AES128-GCM-SHA256 AuthHeader amzn-s3-demo-bucket1.s3.us-west-1.amazonaws.com TLSV1.2 \
    arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP Yes us-east-1\n";

/// Documents of every access log fixture, and of the two lines with public clients, read as the
/// S3 reader reads an object of that format.
pub(super) fn access_samples(builder: &DocumentBuilder) -> Vec<Sample> {
    let files: &[(&str, &str, &[u8])] = &[
        (
            "alb",
            "alb",
            include_bytes!("../../../tests/fixtures/access/alb-access-docs.log"),
        ),
        (
            "alb-connection",
            "albconn",
            include_bytes!("../../../tests/fixtures/access/alb-connection-docs.log"),
        ),
        (
            "nlb",
            "nlb",
            include_bytes!("../../../tests/fixtures/access/nlb-access-docs.log"),
        ),
        (
            "elb",
            "elb",
            include_bytes!("../../../tests/fixtures/access/elb-access-docs.log"),
        ),
        (
            "cloudfront",
            "cf",
            include_bytes!("../../../tests/fixtures/access/cloudfront-standard.log"),
        ),
        (
            "waf",
            "waf",
            include_bytes!("../../../tests/fixtures/access/waf-examples.jsonl"),
        ),
        (
            "s3-access",
            "s3access",
            include_bytes!("../../../tests/fixtures/access/s3access-current.log"),
        ),
        (
            "vpc-flow",
            "vpcflow",
            include_bytes!("../../../tests/fixtures/access/vpcflow-default.log"),
        ),
        ("alb", "alb", ALB_LONDON.as_bytes()),
        ("s3-access", "s3access", S3_FALKENSTEIN.as_bytes()),
        // The security sources.
        (
            "config",
            "config",
            include_bytes!("../../../tests/fixtures/access/config-history-ec2-instance.json"),
        ),
        (
            "route53-resolver",
            "route53resolver",
            include_bytes!("../../../tests/fixtures/network/route53-resolver-queries.jsonl"),
        ),
        (
            "network-firewall",
            "networkfirewall",
            include_bytes!("../../../tests/fixtures/network/network-firewall-alert.jsonl"),
        ),
        (
            "network-firewall",
            "networkfirewall",
            include_bytes!("../../../tests/fixtures/network/network-firewall-flow.jsonl"),
        ),
        (
            "guardduty",
            "guardduty",
            include_bytes!("../../../tests/fixtures/findings/guardduty-export.jsonl"),
        ),
        (
            "securityhub",
            "securityhub",
            include_bytes!("../../../tests/fixtures/findings/securityhub-events.jsonl"),
        ),
    ];
    // A firewall alert from London's public address (the test databases place it), for the map.
    let firewall_london = include_str!("../../../tests/fixtures/network/network-firewall-alert.jsonl")
        .replace("\"src_ip\":\"203.0.113.4\"", "\"src_ip\":\"81.2.69.160\"");
    let files = [
        files,
        &[("network-firewall", "networkfirewall", firewall_london.as_bytes())],
    ]
    .concat();
    let mut out = Vec::new();
    for (name, folder, body) in &files {
        let options = S3Options {
            rules: format::parse_rules(&format!("{folder}/*={name}")).expect("a rule"),
            ..S3Options::default()
        };
        let object = Located {
            bucket: "central-logs".into(),
            key: format!("{folder}/2026/11/22/file.log"),
            etag: "b21b84d653bb07b05b1e6b33684dc11b".into(),
            last_modified_ms: 1_795_946_400_000,
            key_fields: Vec::new(),
        };
        let mut chunks = Vec::new();
        read_object(*body, object, Ack::Invocation, &options, |chunk| {
            chunks.push(chunk);
            Ok(())
        })
        .unwrap_or_else(|_| panic!("{name} fixture reads"));
        for chunk in chunks {
            if let Chunk::Records(records) = chunk {
                let documents = builder.record_documents(&Arc::new(records));
                assert_eq!(documents.unparsed, 0, "every {name} line parses");
                out.extend(samples(documents.docs));
            }
        }
    }
    out
}

fn samples(docs: Vec<crate::document::Document>) -> Vec<Sample> {
    docs.into_iter()
        .map(|doc| Sample {
            source: serde_json::from_str(&doc.source).expect("a document is JSON"),
            index: doc.index,
        })
        .collect()
}

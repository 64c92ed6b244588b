//! CloudFront real-time logs: with `CloudFrontRealtimeStreamArn` set, the stack subscribes the
//! forwarder to the stream, acknowledging record by record, and lets it read that stream alone;
//! without it, neither. `CloudFrontRealtimeFields` reaches the forwarder as
//! `CLOUDFRONT_REALTIME_FIELDS`.

use serde_json::json;

use super::iam::{Request, allows};
use super::s3_sources::{ENDPOINT, created, deploy, forwarder_environment, forwarder_statements};

const STREAM: &str = "arn:aws:kinesis:eu-west-1:123456789012:stream/cloudfront-realtime";

#[test]
fn the_stream_parameter_subscribes_the_forwarder_and_lets_it_read_that_stream_only() {
    let fields = "timestamp,c-ip,sc-status,cs-uri-stem";
    let stack = deploy(&[
        ENDPOINT,
        ("CloudFrontRealtimeStreamArn", STREAM),
        ("CloudFrontRealtimeFields", fields),
    ]);
    let mapping = created(&stack, "CloudFrontRealtimeMapping")["Properties"].clone();
    assert_eq!(mapping["EventSourceArn"], STREAM);
    assert_eq!(
        mapping["FunctionResponseTypes"],
        json!(["ReportBatchItemFailures"])
    );
    assert_eq!(
        forwarder_environment(&stack)["CLOUDFRONT_REALTIME_FIELDS"],
        fields
    );
    let statements = forwarder_statements(&stack);
    let may = |action: &str, resource: &str| allows(&statements, &Request::by_role(action, resource));
    for action in [
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:DescribeStream",
        "kinesis:ListShards",
    ] {
        assert!(may(action, STREAM), "{action}");
    }
    let other = "arn:aws:kinesis:eu-west-1:123456789012:stream/other";
    assert!(!may("kinesis:GetRecords", other));

    let without = deploy(&[ENDPOINT]);
    assert!(without.resource("CloudFrontRealtimeMapping").is_none());
    assert!(
        forwarder_environment(&without)
            .get("CLOUDFRONT_REALTIME_FIELDS")
            .is_none()
    );
    let statements = forwarder_statements(&without);
    assert!(!allows(
        &statements,
        &Request::by_role("kinesis:GetRecords", STREAM)
    ));
}

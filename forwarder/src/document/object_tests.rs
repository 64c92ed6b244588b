//! Documents of the records of objects in S3 ([`super::object`]): where each came from, what
//! root JSON may not replace, fallbacks and dead letters, the account and region of a key.

use std::sync::Arc;

use serde_json::json;

use super::tests::{builder, records, source};
use super::*;
use crate::source::Ack;

#[test]
fn object_records_say_where_they_came_from() {
    use crate::source::s3::Format;
    let records = records(
        Format::JsonLines,
        &[r#"{"level":"WARN","msg":"slow","password":"hunter2"}"#],
    );
    let docs = builder(DocumentOptions::default())
        .record_documents(&records)
        .docs;
    assert_eq!(docs.len(), 1);
    let doc = &docs[0];
    assert_eq!(doc.index, "s3-2026.11.29");
    assert_eq!(doc.id.as_deref(), Some(records.object.record_id(3).as_str()));
    assert_eq!(
        doc.ack(),
        &Ack::Item(Arc::from("059f36b4-87a3-44ab-83d2-661975830a7d"))
    );
    let source = source(doc);
    assert_eq!(source["@timestamp"], "2026-11-29T10:00:00.000Z");
    assert_eq!(
        source["aws"]["s3"],
        json!({"bucket": {"name": "central-logs"}, "object": {"key": "apps/prod-billing/app.log"}, "line": 3})
    );
    assert_eq!(source["event"]["dataset"], "aws.json_lines");
    assert_eq!(source["ecs"]["version"], "9.4.0");
    assert_eq!(source["cloud"], json!({"provider": "aws"}));
    assert_eq!(source["environment"], "prod");
    assert_eq!(source["log"]["level"], "WARN");
    assert_eq!(source["json"]["msg"], "slow");
    assert_ne!(source["json"]["password"], "hunter2", "redacted like any message");

    let trail = self::records(Format::Cloudtrail, &[r#"{"eventName":"CreateUser"}"#]);
    let options = DocumentOptions {
        id: IdMode::None,
        ..DocumentOptions::default()
    };
    let docs = builder(options).record_documents(&trail).docs;
    assert_eq!(docs[0].index, "cloudtrail-2026.11.29");
    assert_eq!(docs[0].id, None);
    assert_eq!(self::source(&docs[0])["aws"]["s3"]["record"], 3);
}

#[test]
fn root_json_cannot_replace_where_a_record_came_from() {
    use crate::source::s3::Format;
    let records = records(
        Format::JsonLines,
        &[r#"{"aws":"x","event":"y","environment":"z","team":"ann"}"#],
    );
    let options = DocumentOptions {
        json: JsonMode::Root,
        ..DocumentOptions::default()
    };
    let docs = builder(options).record_documents(&records).docs;
    let source = source(&docs[0]);
    assert_eq!(source["aws"]["s3"]["bucket"]["name"], "central-logs");
    assert_eq!(source["event"]["dataset"], "aws.json_lines");
    assert_eq!(source["environment"], "prod");
    assert_eq!(source["team"], "ann");
}

#[test]
fn a_rejected_record_falls_back_then_is_dead_lettered_with_its_origin() {
    use crate::source::s3::Format;
    let records = records(Format::TextLines, &["ERROR disk full", r#"{"n":1}"#]);
    let builder = builder(DocumentOptions::default());
    let docs = builder.record_documents(&records).docs;
    let fallback = builder.fallback(&docs[1]).expect("a record has a fallback");
    assert_eq!(fallback.stage, Stage::Fallback);
    assert_eq!(
        (fallback.index.as_str(), &fallback.id),
        (docs[1].index.as_str(), &docs[1].id)
    );
    let source = self::source(&fallback);
    assert_eq!(source["fallback"], true);
    assert!(source.get("json").is_none());
    assert_eq!(source["aws"]["s3"]["line"], 4);

    let dead = builder
        .dead_letter(&docs[0], "mapper_parsing_exception")
        .expect("dead letter");
    assert_eq!(dead.index, "cwl-dead-letter");
    assert_eq!(dead.id, docs[0].id);
    assert_eq!(dead.ack(), docs[0].ack());
    let source = self::source(&dead);
    assert_eq!(source["reason"], "mapper_parsing_exception");
    assert_eq!(source["message"], "ERROR disk full");
    assert_eq!(source["s3"]["key"], "apps/prod-billing/app.log");
    assert_eq!(source["index"], "s3-2026.11.29");
}

/// Issue 28, item 5: a CloudTrail record read from S3 keeps the key id that signed the call, in
/// its message and its JSON, while the same id written into free text beside a secret key is
/// redacted. The record follows the layout of
/// <https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html>,
/// its values made up here.
#[test]
fn a_cloudtrail_document_keeps_its_access_key_id() {
    use crate::source::s3::Format;
    let record = r#"{"eventVersion":"1.10","userIdentity":{"type":"IAMUser","principalId":"AIDA2EXAMPLEPRINCIPAL","accountId":"123456789012","accessKeyId":"AKIA2EXAMPLE7KEYID01","userName":"ana"},"eventTime":"2026-11-29T10:05:12Z","eventSource":"ssm.amazonaws.com","eventName":"PutParameter","requestParameters":{"name":"/ci/env","description":"AKIA2EXAMPLE7KEYID01 wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}}"#;
    let trail = records(Format::Cloudtrail, &[record]);
    let docs = builder(DocumentOptions::default()).record_documents(&trail).docs;
    let source = source(&docs[0]);
    assert_eq!(
        source["json"]["userIdentity"]["accessKeyId"],
        "AKIA2EXAMPLE7KEYID01"
    );
    assert_eq!(
        source["json"]["requestParameters"]["description"],
        "[REDACTED] [REDACTED]"
    );
    let message = source["message"].as_str().expect("message");
    assert!(
        message.contains(r#""accessKeyId":"AKIA2EXAMPLE7KEYID01""#),
        "{message}"
    );
    assert!(!message.contains("wJalrXUtnFEMI"), "{message}");
}

/// Issue 23: `cloud.account.id` and `cloud.region` of a record come from AWS's key layout,
/// `[prefix/]AWSLogs/[o-ORG/]ACCOUNT/SERVICE/REGION/…` (ELB, VPC flow logs, WAF, CloudTrail).
#[test]
fn the_account_and_region_of_a_record_come_from_aws_key_layout() {
    use super::object::key_account_region;
    let cases = [
        (
            "logs/AWSLogs/123456789012/elasticloadbalancing/us-east-2/2026/11/29/x.log.gz",
            (Some("123456789012"), Some("us-east-2")),
        ),
        (
            "AWSLogs/o-abc123/123456789012/CloudTrail/eu-west-1/2026/11/29/x.json.gz",
            (Some("123456789012"), Some("eu-west-1")),
        ),
        ("AWSLogs/123456789012/vpcflowlogs", (Some("123456789012"), None)),
        (
            "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-3/year=2026/month=11/day=29/x.log.parquet",
            (Some("123456789012"), Some("eu-west-3")),
        ),
        ("apps/prod-billing/app.log", (None, None)),
        ("AWSLogs/not-an-account/x/us-east-1/y", (None, None)),
    ];
    for (key, expected) in cases {
        assert_eq!(key_account_region(key), expected, "{key}");
    }
}

/// Issue 27: a central log group's batch with system fields
/// ([`crate::source::system_fields::tests::CENTRAL_BATCH`]): each document carries its source
/// account, region and group, and the same event id from two source accounts gives two
/// documents, in both shapes.
#[test]
fn a_central_batch_is_filed_under_each_source_account_and_region() {
    let data = crate::source::subscription::decode_json(
        crate::source::system_fields::tests::CENTRAL_BATCH.as_bytes(),
    )
    .expect("valid batch");
    let mut decoded = crate::source::Decoded::new(crate::source::Reply::Summary);
    decoded.push(Ack::Invocation, data);
    for format in [DocumentFormat::Sluice, DocumentFormat::Blueprint] {
        let options = DocumentOptions {
            format,
            ..DocumentOptions::default()
        };
        let docs: Vec<Document> = decoded
            .batches
            .iter()
            .flat_map(|batch| builder(options.clone()).documents(&Arc::new(batch.clone())).docs)
            .collect();
        assert_eq!(docs.len(), 3, "{format:?}");
        let ids: std::collections::BTreeSet<_> = docs.iter().map(|d| d.id.clone().expect("an _id")).collect();
        assert_eq!(
            ids.len(),
            3,
            "{format:?}: one event id, two accounts, two documents: {ids:?}"
        );
        if format == DocumentFormat::Blueprint {
            assert_eq!(source(&docs[2])["@owner"], "222222222222");
            continue;
        }
        let placed: Vec<(Value, Value, Value)> = docs
            .iter()
            .map(|doc| {
                let source = source(doc);
                (
                    source["cloud"]["account"]["id"].clone(),
                    source["cloud"]["region"].clone(),
                    source["aws"]["cloudwatch"]["log_group"].clone(),
                )
            })
            .collect();
        assert_eq!(
            placed,
            [
                (
                    json!("111111111111"),
                    json!("eu-west-1"),
                    json!("/aws/lambda/orders")
                ),
                (
                    json!("111111111111"),
                    json!("eu-west-1"),
                    json!("/aws/lambda/orders")
                ),
                (
                    json!("222222222222"),
                    json!("us-east-1"),
                    json!("/aws/lambda/orders")
                ),
            ]
        );
        assert!(
            docs.iter()
                .all(|doc| source(doc).get("extracted_fields").is_none())
        );
    }
}

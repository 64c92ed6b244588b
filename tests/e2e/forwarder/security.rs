//! Every security source in one bucket, backfilled at once (issue 24): a GuardDuty findings
//! export, a Firehose object of Security Hub events, Route 53 Resolver query logs, Network
//! Firewall flow, alert and TLS logs, a VPC flow log in Parquet, and AWS Config history and
//! snapshot files (with the
//! writability check file beside them), each under the key AWS writes it to, in moto; one
//! `replay s3://` of the bucket into osmem-server. Every record is indexed once, in its source's
//! index of its own date, with the ECS fields its source fills; a second backfill adds nothing.
//!
//! The sources' own tests (`findings`, `network`, `config`) check each one's fields in detail;
//! this one checks that they are told apart by their keys and content when they arrive together.

use std::collections::BTreeMap;

use sluice_forwarder::cli::replay::ReplaySummary;
use sluice_harness::{Moto, OsMem};

use super::access::gzip_bytes;
use super::*;

const BUCKET: &str = "security-sources";
const GUARDDUTY_KEY: &str =
    "AWSLogs/123456789012/GuardDuty/eu-west-1/2026/11/29/1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901.jsonl.gz";
const SECURITYHUB_KEY: &str = "securityhub/2026/11/29/10/sluice-findings-1-2026-11-29-10-00-00-a1b2c3d4";
const PARQUET_KEY: &str = "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-3/year=2014/month=12/day=14/hour=04/123456789012_vpcflowlogs_eu-west-3_fl-1234abcd_20141214T0405Z_a1b2c3d4.log.parquet";

/// Objects as (key, body).
type Objects = Vec<(String, Vec<u8>)>;

/// Every object, and the documents each dataset should get.
fn objects() -> (Objects, BTreeMap<&'static str, u64>) {
    let mut objects = vec![
        (
            GUARDDUTY_KEY.to_string(),
            gzip_bytes(super::findings::fixture("guardduty-export.jsonl").as_bytes()),
        ),
        // Firehose with a newline after each event.
        (
            SECURITYHUB_KEY.to_string(),
            gzip_bytes(super::findings::fixture("securityhub-events.jsonl").as_bytes()),
        ),
    ];
    // VPC flow logs as Parquet, under the Hive-compatible layout: AWS's seven documented records.
    let parquet = sluice_harness::workspace_root().join("tests/fixtures/access/vpcflow-default.parquet");
    objects.push((
        PARQUET_KEY.to_string(),
        std::fs::read(&parquet).unwrap_or_else(|err| panic!("{}: {err}", parquet.display())),
    ));
    let mut expected = BTreeMap::from([
        ("aws.vpc_flow_parquet", 7),
        ("aws.guardduty", 2),
        ("aws.securityhub", 2),
        ("aws.route53_resolver", 0),
        ("aws.network_firewall", 0),
        // The documented snapshot's two items, and the two items of the history files (the
        // snapshot that holds them again adds no document: their ids are the items').
        ("aws.config", 4),
    ]);
    for (fixture, key, lines) in super::network::objects() {
        let dataset = match fixture.starts_with("route53") {
            true => "aws.route53_resolver",
            false => "aws.network_firewall",
        };
        *expected.get_mut(dataset).expect("a dataset") += lines;
        objects.push((key, gzip_bytes(&super::network::fixture(fixture))));
    }
    objects.extend(super::config::objects());
    (objects, expected)
}

async fn backfill(forwarder: &Forwarder) -> ReplaySummary {
    backfill_bucket(forwarder, BUCKET).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_security_source_is_read_from_its_key_layout_into_its_own_dated_index_once() {
    let moto = Moto::start();
    let osmem = OsMem::start();
    let (objects, expected) = objects();
    bucket_of(&moto, BUCKET, &objects).await;
    let settings = [
        ("OPENSEARCH_ENDPOINT", osmem.url()),
        ("OPENSEARCH_AUTH", "none"),
        ("AWS_REGION", REGION),
        ("RETRY_BASE_MS", "5"),
        // The documented samples are from 2014 to 2024: index them by their own dates.
        ("INDEX_TIME_WINDOW_DAYS", "36500,1"),
    ];
    let forwarder = forwarder_of(&settings, &moto.sdk_config()).await;

    let first = backfill(&forwarder).await;
    let total: u64 = expected.values().sum();
    assert_eq!(first.summary.objects, objects.len() as u64, "{:?}", first.summary);
    // The writability check file is skipped; the snapshot repeating two history items finds
    // their documents there.
    assert_eq!(first.summary.objects_skipped, 1, "{:?}", first.summary);
    assert_eq!(first.summary.unparsed, 0, "{:?}", first.summary);
    assert_eq!(first.summary.indexed, total, "{:?}", first.summary);

    let prefixes = "guardduty-*,securityhub-*,route53resolver-*,networkfirewall-*,config-*,vpcflow-*";
    let hits = search_hits(&osmem, prefixes, json!({"match_all": {}})).await;
    assert_eq!(hits.len() as u64, total, "every record once");
    let mut counted: BTreeMap<&'static str, u64> = expected.keys().map(|dataset| (*dataset, 0)).collect();
    for (index, doc) in &hits {
        let dataset = doc["event"]["dataset"].as_str().unwrap_or_default();
        let (prefix, kind) = match dataset {
            "aws.guardduty" => ("guardduty", "alert"),
            "aws.securityhub" => ("securityhub", "alert"),
            "aws.route53_resolver" => ("route53resolver", "event"),
            "aws.network_firewall" => ("networkfirewall", ""),
            "aws.config" => ("config", "event"),
            "aws.vpc_flow_parquet" => ("vpcflow", "event"),
            other => panic!("{index}: a document of {other:?}: {doc}"),
        };
        *counted.get_mut(dataset).expect("an expected dataset") += 1;
        let date = doc["@timestamp"].as_str().unwrap_or_default();
        assert_eq!(
            *index,
            format!(
                "{prefix}-{}",
                date.get(..10).unwrap_or_default().replace('-', ".")
            ),
            "the index of the record's own date: {doc}"
        );
        if !kind.is_empty() {
            assert_eq!(doc["event"]["kind"], kind, "{doc}");
        }
        assert_eq!(doc["ecs"]["version"], "9.4.0");
        assert_eq!(doc["cloud"]["provider"], "aws");
        assert!(doc["cloud"]["account"]["id"].is_string(), "{doc}");
        match dataset {
            "aws.guardduty" | "aws.securityhub" => {
                assert!(doc["rule"]["name"].is_string(), "{doc}");
                assert!(doc["event"]["severity"].is_number(), "{doc}");
                assert!(doc["message"].is_string(), "the finding's title: {doc}");
            }
            "aws.route53_resolver" => {
                assert!(doc["dns"]["question"]["name"].is_string(), "{doc}");
                assert!(doc["source"]["ip"].is_string(), "{doc}");
            }
            "aws.network_firewall" => {
                assert!(doc["source"]["ip"].is_string(), "{doc}");
                assert!(doc["destination"]["ip"].is_string(), "{doc}");
            }
            "aws.vpc_flow_parquet" => {
                assert!(
                    doc["aws"]["vpc_flow"].is_object(),
                    "a flow log's own fields: {doc}"
                );
                assert!(doc["aws"]["s3"]["row"].is_number(), "{doc}");
            }
            _ => {
                assert_eq!(doc["event"]["category"], json!(["configuration"]), "{doc}");
                assert!(doc["aws"]["config"]["resource_type"].is_string(), "{doc}");
            }
        }
    }
    assert_eq!(counted, expected);

    let second = backfill(&forwarder).await;
    assert_eq!(
        (second.summary.indexed, second.summary.duplicates),
        (0, total + 2),
        "a second backfill adds nothing (the snapshot's two repeated items are duplicates twice): {:?}",
        second.summary
    );
}

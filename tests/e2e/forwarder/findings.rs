//! Security findings end to end: a GuardDuty export under the key GuardDuty writes it to
//! (gzipped JSON lines, SSE-KMS), and a Firehose object of Security Hub events under a key of the
//! stream's own, in a bucket in moto, backfilled with `replay s3://` into osmem-server. Every
//! finding is indexed once, in its format's index of its update's date, with its ECS fields; a
//! second run adds nothing.
//!
//! The fixtures, and the pages they come from: `tests/fixtures/findings/README.md`.

use aws_sdk_s3::types::ServerSideEncryption;
use sluice_forwarder::cli::replay::ReplaySummary;
use sluice_harness::{Moto, OsMem};

use super::access::gzip_bytes;
use super::*;

const BUCKET: &str = "security-findings";
const EXPORT_KEY: &str =
    "AWSLogs/123456789012/GuardDuty/eu-west-1/2026/11/29/1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901.jsonl.gz";
const FIREHOSE_KEY: &str = "securityhub/2026/11/29/10/sluice-findings-1-2026-11-29-10-00-00-a1b2c3d4";
const KMS_KEY: &str = "arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

pub(super) fn fixture(name: &str) -> String {
    let path = sluice_harness::workspace_root()
        .join("tests/fixtures/findings")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

async fn put_the_findings(moto: &Moto) {
    let s3 = moto.s3_client();
    s3.create_bucket().bucket(BUCKET).send().await.expect("bucket");
    s3.put_object()
        .bucket(BUCKET)
        .key(EXPORT_KEY)
        .body(gzip_bytes(fixture("guardduty-export.jsonl").as_bytes()).into())
        .server_side_encryption(ServerSideEncryption::AwsKms)
        .ssekms_key_id(KMS_KEY)
        .send()
        .await
        .unwrap_or_else(|err| panic!("PutObject {EXPORT_KEY}: {err:?}"));
    // Firehose with no delimiter: the events back to back.
    let events: String = fixture("securityhub-events.jsonl").lines().collect();
    s3.put_object()
        .bucket(BUCKET)
        .key(FIREHOSE_KEY)
        .body(gzip_bytes(events.as_bytes()).into())
        .send()
        .await
        .unwrap_or_else(|err| panic!("PutObject {FIREHOSE_KEY}: {err:?}"));
}

async fn backfill(forwarder: &Forwarder) -> ReplaySummary {
    backfill_bucket(forwarder, BUCKET).await
}

/// The hits of `query` in `index`: each document's index and source.
/// The hits of `query` in `index`: each document's index and source.
async fn search(osmem: &OsMem, index: &str, query: Value) -> Vec<(String, Value)> {
    search_hits(osmem, index, query).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guardduty_and_security_hub_findings_become_alerts_once() {
    let moto = Moto::start();
    let osmem = OsMem::start();
    put_the_findings(&moto).await;
    let settings = [
        ("OPENSEARCH_ENDPOINT", osmem.url()),
        ("OPENSEARCH_AUTH", "none"),
        ("AWS_REGION", REGION),
        ("RETRY_BASE_MS", "5"),
    ];
    let forwarder = forwarder_of(&settings, &moto.sdk_config()).await;

    let first = backfill(&forwarder).await;
    assert_eq!(first.summary.objects, 2, "{:?}", first.summary);
    assert_eq!(first.summary.indexed, 4, "{:?}", first.summary);
    assert_eq!(first.summary.unparsed, 0, "{:?}", first.summary);

    let guardduty = search(&osmem, "guardduty-*", json!({"match_all": {}})).await;
    assert_eq!(guardduty.len(), 2);
    let (index, brute_force) = (guardduty.iter())
        .find(|(_, doc)| doc["rule"]["name"] == "UnauthorizedAccess:EC2/SSHBruteForce")
        .expect("the SSH brute force finding");
    assert_eq!(index, "guardduty-2020.09.30", "the index of its update's date");
    assert_eq!(brute_force["event"]["kind"], "alert");
    assert_eq!(brute_force["event"]["severity"], 2);
    assert_eq!(brute_force["source"]["ip"], "199.241.229.197");
    assert_eq!(brute_force["destination"]["port"], 22);
    assert_eq!(brute_force["cloud"]["account"]["id"], "193043430472");
    assert_eq!(brute_force["cloud"]["instance"]["id"], "i-0c10c2c7863d1a356");
    assert_eq!(
        brute_force["aws"]["guardduty"]["resource"]["resourceType"],
        "Instance"
    );
    assert!(guardduty.iter().any(|(index, _)| index == "guardduty-2020.01.14"));

    let by_flat_leaf = search(
        &osmem,
        "guardduty-*",
        json!({"term": {"aws.guardduty.service.action.networkConnectionAction.connectionDirection": "OUTBOUND"}}),
    )
    .await;
    assert_eq!(by_flat_leaf.len(), 1, "a flat_object's leaves are searchable");

    let hub = search(
        &osmem,
        "securityhub-*",
        json!({"term": {"rule.id": "CloudTrail.2"}}),
    )
    .await;
    assert_eq!(hub.len(), 1);
    let (index, control) = &hub[0];
    assert_eq!(index, "securityhub-2021.09.28");
    assert_eq!(control["event"]["kind"], "alert");
    assert_eq!(control["event"]["severity"], 40);
    assert_eq!(control["cloud"]["region"], "us-east-2");
    assert_eq!(control["aws"]["securityhub"]["compliance_status"], "FAILED");
    let by_resource = search(
        &osmem,
        "securityhub-*",
        json!({"term": {"aws.securityhub.resources.type": "AwsEc2Instance"}}),
    )
    .await;
    assert_eq!(by_resource.len(), 1);
    assert_eq!(by_resource[0].0, "securityhub-2020.09.30");

    let second = backfill(&forwarder).await;
    assert_eq!(
        (second.summary.indexed, second.summary.duplicates),
        (0, 4),
        "{:?}",
        second.summary
    );
    assert_eq!(osmem.count("guardduty-*,securityhub-*").await.expect("count"), 4);
}

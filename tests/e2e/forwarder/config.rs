//! AWS Config end to end: history and snapshot files copied from AWS's documented samples, under
//! the keys Config delivers them to, beside its writability check file, in a bucket in moto,
//! backfilled with `replay s3://` into osmem-server. Every configuration item is one document in
//! the index of its capture date, an item delivered in a history file and again in a snapshot
//! included; the check file is skipped; a second run adds nothing.
//!
//! The fixtures, and the pages they come from: `tests/fixtures/access/README.md`.

use sluice_forwarder::cli::replay::ReplaySummary;
use sluice_harness::{Moto, OsMem};

use super::access::gzip_bytes;
use super::*;

const BUCKET: &str = "config-bucket";
const ACCOUNT: &str = "AWSLogs/123456789012/Config";

fn fixture(name: &str) -> String {
    let path = sluice_harness::workspace_root()
        .join("tests/fixtures/access")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// (key, body): the documented snapshot (two items of 2014-03-07), a history file of each
/// documented 1.2 item (2017-01-09), a snapshot holding both of those again, and the empty
/// writability check file.
pub(super) fn objects() -> Vec<(String, Vec<u8>)> {
    let instance = fixture("config-history-ec2-instance.json");
    let group = fixture("config-history-security-group.json");
    let items = |file: &str| -> Value {
        serde_json::from_str::<Value>(file).unwrap()["configurationItems"][0].clone()
    };
    let again = json!({"fileVersion": "1.0", "configSnapshotId": "16da64e4-cb65-4846-b061-e6c3ba43cb96",
        "configurationItems": [items(&group), items(&instance)]});
    let history = |kind: &str, time: &str| {
        format!(
            "{ACCOUNT}/us-east-2/2017/1/9/ConfigHistory/123456789012_Config_us-east-2_ConfigHistory_{kind}_{time}_{time}_1.json.gz"
        )
    };
    vec![
        (
            format!(
                "{ACCOUNT}/us-west-2/2014/3/8/ConfigSnapshot/123456789012_Config_us-west-2_ConfigSnapshot_20140308T000000Z_94ccff53-83be-42d9-996f-b4624b3c1a55.json.gz"
            ),
            gzip_bytes(fixture("config-snapshot-docs.json").as_bytes()),
        ),
        (
            history("AWS::EC2::Instance", "20170109T225014Z"),
            gzip_bytes(instance.as_bytes()),
        ),
        (
            history("AWS::EC2::SecurityGroup", "20170109T225015Z"),
            gzip_bytes(group.as_bytes()),
        ),
        (
            format!(
                "{ACCOUNT}/us-east-2/2017/1/10/ConfigSnapshot/123456789012_Config_us-east-2_ConfigSnapshot_20170110T000000Z_16da64e4-cb65-4846-b061-e6c3ba43cb96.json.gz"
            ),
            gzip_bytes(again.to_string().as_bytes()),
        ),
        (format!("{ACCOUNT}/ConfigWritabilityCheckFile"), Vec::new()),
    ]
}

async fn backfill(forwarder: &Forwarder) -> ReplaySummary {
    backfill_bucket(forwarder, BUCKET).await
}

async fn search(osmem: &OsMem, query: Value) -> Vec<Value> {
    let hits = search_hits(osmem, "config-*", query).await;
    hits.into_iter().map(|(_, source)| source).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_items_become_one_document_each_in_their_capture_date_index() {
    let moto = Moto::start();
    let osmem = OsMem::start();
    bucket_of(&moto, BUCKET, &objects()).await;
    let settings = [
        ("OPENSEARCH_ENDPOINT", osmem.url()),
        ("OPENSEARCH_AUTH", "none"),
        ("AWS_REGION", REGION),
        ("RETRY_BASE_MS", "5"),
        // The documented samples are from 2014 and 2017: their own dates name their indices.
        ("INDEX_TIME_WINDOW_DAYS", "36500,1"),
    ];
    let forwarder = forwarder_of(&settings, &moto.sdk_config()).await;

    let first = backfill(&forwarder).await;
    assert_eq!(first.summary.objects, 5, "{:?}", first.summary);
    assert_eq!(first.summary.objects_skipped, 1, "the writability check file");
    // Six items read, four resources' states: the snapshot's copies of the history items are
    // the same documents.
    assert_eq!(
        (first.summary.indexed, first.summary.duplicates),
        (4, 2),
        "{:?}",
        first.summary
    );
    assert_eq!(first.summary.unparsed, 0);
    assert_eq!(osmem.count("config-2014.03.07").await.expect("count"), 2);
    assert_eq!(osmem.count("config-2017.01.09").await.expect("count"), 2);

    check_the_instance(&osmem).await;
    check_the_mapping(&osmem).await;

    let second = backfill(&forwarder).await;
    assert_eq!((second.summary.indexed, second.summary.duplicates), (0, 6));
    assert_eq!(osmem.count("config-*").await.expect("count"), 4);
}

/// The EC2 instance of the change notification example: its ECS fields, and searches on leaves
/// of its `configuration`, a `flat_object`.
async fn check_the_instance(osmem: &OsMem) {
    let by_leaf = search(
        osmem,
        json!({"term": {"aws.config.configuration.instanceType": "t2.micro"}}),
    )
    .await;
    assert_eq!(by_leaf.len(), 1, "a configuration leaf is searchable");
    let instance = &by_leaf[0];
    assert_eq!(instance["@timestamp"], "2017-01-09T22:50:14.328Z");
    assert_eq!(instance["event"]["kind"], "event");
    assert_eq!(instance["event"]["category"], json!(["configuration"]));
    assert_eq!(instance["event"]["type"], json!(["change"]));
    assert_eq!(instance["event"]["action"], "OK");
    assert_eq!(instance["event"]["dataset"], "aws.config");
    assert_eq!(instance["cloud"]["account"]["id"], "123456789012");
    assert_eq!(instance["cloud"]["region"], "us-east-2");
    assert_eq!(instance["cloud"]["availability_zone"], "us-east-2c");
    assert_eq!(instance["cloud"]["instance"]["id"], "i-007d374c8912e3e90");
    let config = &instance["aws"]["config"];
    assert_eq!(config["resource_type"], "AWS::EC2::Instance");
    assert_eq!(config["resource_id"], "i-007d374c8912e3e90");
    assert_eq!(config["configuration_item_status"], "OK");
    assert_eq!(config["tags"]["Name"], "value");

    // A nested leaf, and a leaf of the other documents' snapshot.
    let running = search(
        osmem,
        json!({"term": {"aws.config.configuration.state.name": "running"}}),
    )
    .await;
    assert_eq!(running.len(), 2, "both instances run");
    let discovered = search(osmem, json!({"term": {"event.action": "ResourceDiscovered"}})).await;
    assert_eq!(discovered.len(), 1);
    assert_eq!(
        discovered[0]["aws"]["config"]["configuration"]["groupName"],
        "example-security-group-2"
    );
}

/// The template maps an item's configuration as `flat_object`.
async fn check_the_mapping(osmem: &OsMem) {
    let mapping = osmem
        .request("GET", "/config-2017.01.09/_mapping", None)
        .await
        .expect("mapping");
    let config =
        &mapping["config-2017.01.09"]["mappings"]["properties"]["aws"]["properties"]["config"]["properties"];
    assert_eq!(config["configuration"]["type"], "flat_object");
    assert_eq!(config["configuration_item_capture_time"]["type"], "date");
}

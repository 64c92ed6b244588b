//! VPC flow logs delivered as Parquet, end to end: AWS's documented sample records as a Parquet
//! file (`tests/fixtures/access/vpcflow-default.parquet`, README beside it) under the key layouts
//! AWS writes them to, Hive-compatible and not, in a bucket in moto (read with ranged
//! `GetObject`s), backfilled with `replay s3://` into osmem-server. Every row is indexed once into
//! `vpcflow-*` with the flow log fields, and a second run adds nothing.

use sluice_forwarder::cli::replay::{BucketUrl, Replay, ReplaySummary};
use sluice_harness::{Moto, OsMem};

use super::*;

const BUCKET: &str = "flow-logs";
const HIVE: &str = "flows/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-3/year=2014/month=12/day=14/hour=04/123456789012_vpcflowlogs_eu-west-3_fl-1234abcd_20141214T0405Z_a1b2c3d4.log.parquet";
const PLAIN: &str = "AWSLogs/210987654321/vpcflowlogs/us-east-1/2014/12/14/210987654321_vpcflowlogs_us-east-1_fl-5678efgh_20141214T0405Z_e5f6a7b8.log.parquet";
/// The rows of the fixture.
const ROWS: u64 = 7;

async fn backfill(forwarder: &Forwarder) -> ReplaySummary {
    let url = BucketUrl::parse(&format!("s3://{BUCKET}")).expect("s3 URL");
    let (mut out, mut errors) = (Vec::new(), Vec::new());
    let summary = Replay::new(forwarder, false)
        .bucket(&url, (None, None), &mut out, &mut errors)
        .await
        .expect("replay");
    assert!(summary.ok(), "{summary:?}: {}", String::from_utf8_lossy(&errors));
    summary
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parquet_flow_logs_become_flow_log_documents_once() {
    let moto = Moto::start();
    let osmem = OsMem::start();
    let path = sluice_harness::workspace_root().join("tests/fixtures/access/vpcflow-default.parquet");
    let parquet = std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    let objects = [HIVE, PLAIN].map(|key| (key.to_string(), parquet.clone()));
    bucket_of(&moto, BUCKET, &objects).await;
    let settings = [
        ("OPENSEARCH_ENDPOINT", osmem.url()),
        ("OPENSEARCH_AUTH", "none"),
        ("AWS_REGION", REGION),
        ("RETRY_BASE_MS", "5"),
    ];
    let forwarder = forwarder_of(&settings, &moto.sdk_config()).await;

    let first = backfill(&forwarder).await;
    assert_eq!(first.summary.objects, 2);
    assert_eq!(first.summary.indexed, 2 * ROWS, "{:?}", first.summary);
    assert_eq!(first.summary.unparsed, 0, "{:?}", first.summary);
    assert_eq!(osmem.count("vpcflow-*").await.expect("count"), 2 * ROWS);

    // The accepted SSH flow of the Hive-compatible object: its account and region from the key.
    osmem.refresh("vpcflow-*").await.expect("refresh");
    let query = json!({"size": 10, "query": {"bool": {"filter": [
        {"term": {"destination.port": 22}},
        {"term": {"source.ip": "172.31.16.139"}},
    ]}}});
    let answer = (osmem.request("POST", "/vpcflow-*/_search", Some(query)).await).expect("search");
    let hits: Vec<&Value> = answer["hits"]["hits"].as_array().expect("hits").iter().collect();
    let flows: Vec<&Value> = hits.iter().map(|hit| &hit["_source"]).collect();
    assert_eq!(flows.len(), 2, "one per object: {answer}");
    let hive = flows
        .iter()
        .find(|flow| flow["aws"]["s3"]["object"]["key"] == HIVE)
        .expect("the Hive-compatible object's row");
    assert_eq!(hive["cloud"]["account"]["id"], "123456789012");
    assert_eq!(hive["cloud"]["region"], "eu-west-3");
    assert_eq!(hive["event"]["dataset"], "aws.vpc_flow_parquet");
    assert_eq!(hive["event"]["action"], "accept");
    assert_eq!(hive["network"]["transport"], "tcp");
    assert_eq!(hive["network"]["bytes"], 4249);
    assert_eq!(hive["destination"]["ip"], "172.31.16.21");
    // The record's time, `start`, outside the index window: kept beside the read time.
    assert_eq!(hive["original_timestamp_ms"], 1_418_530_010_000_i64);
    assert_eq!(hive["aws"]["vpc_flow"]["interface_id"], "eni-1235b8ca123456789");
    assert_eq!(hive["aws"]["s3"]["row"], 1);
    let plain = flows
        .iter()
        .find(|flow| flow["aws"]["s3"]["object"]["key"] == PLAIN)
        .expect("the other");
    assert_eq!(plain["cloud"]["account"]["id"], "210987654321");
    assert_eq!(plain["cloud"]["region"], "us-east-1");

    // A second run finds every document there: same ids.
    let second = backfill(&forwarder).await;
    assert_eq!((second.summary.indexed, second.summary.duplicates), (0, 2 * ROWS));
    assert_eq!(osmem.count("vpcflow-*").await.expect("count"), 2 * ROWS);
}

/// A file under a Parquet flow log's key that is not Parquet is an object not read, with the
/// reason, and nothing of it is indexed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_parquet_flow_log_is_not_read_and_says_why() {
    let moto = Moto::start();
    let osmem = OsMem::start();
    let s3 = moto.s3_client();
    s3.create_bucket().bucket(BUCKET).send().await.expect("bucket");
    (s3.put_object().bucket(BUCKET).key(PLAIN))
        .body(b"PAR1 but not Parquet".to_vec().into())
        .send()
        .await
        .expect("PutObject");
    let settings = [
        ("OPENSEARCH_ENDPOINT", osmem.url()),
        ("OPENSEARCH_AUTH", "none"),
        ("AWS_REGION", REGION),
        ("RETRY_BASE_MS", "5"),
    ];
    let forwarder = forwarder_of(&settings, &moto.sdk_config()).await;
    let url = BucketUrl::parse(&format!("s3://{BUCKET}")).expect("s3 URL");
    let (mut out, mut errors) = (Vec::new(), Vec::new());
    let summary = Replay::new(&forwarder, false)
        .bucket(&url, (None, None), &mut out, &mut errors)
        .await
        .expect("replay");
    let errors = String::from_utf8_lossy(&errors);
    assert!(!summary.ok(), "{summary:?}");
    assert!(
        errors.contains(PLAIN) && errors.contains("not a Parquet file"),
        "{errors}"
    );
    assert_eq!(summary.summary.indexed, 0);
}

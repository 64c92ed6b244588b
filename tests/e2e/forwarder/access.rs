//! Access logs end to end: AWS's documented sample files, under the key layouts AWS writes them
//! to, in a bucket in moto, backfilled with `replay s3://` into osmem-server. Every line is
//! indexed once into its format's index with typed fields, and a second run adds nothing.
//!
//! The fixtures, and the pages they come from: `tests/fixtures/access/README.md`.

use std::collections::BTreeMap;

use sluice_forwarder::cli::replay::ReplaySummary;
use sluice_harness::{Moto, OsMem};

use super::*;

pub(super) const BUCKET: &str = "access-logs";
pub(super) const ELB: &str = "AWSLogs/123456789012/elasticloadbalancing/us-east-2/2026/11/29";

/// (fixture, key, gzip, index pattern, data lines)
fn objects() -> Vec<(&'static str, String, bool, &'static str, u64)> {
    vec![
        (
            "alb-access-docs.log",
            format!("{ELB}/123456789012_elasticloadbalancing_us-east-2_app.my-loadbalancer.50dc6c495c0c9188_20261129T1005Z_198.51.100.1_2kfx.log.gz"),
            true,
            "alb-*",
            7,
        ),
        (
            "alb-connection-docs.log",
            format!("{ELB}/conn_log.123456789012_elasticloadbalancing_us-east-2_app.my-loadbalancer.50dc6c495c0c9188_20261129T1005Z_198.51.100.1_2kfx.log.gz"),
            true,
            "albconn-*",
            2,
        ),
        (
            "nlb-access-docs.log",
            format!("{ELB}/123456789012_elasticloadbalancing_us-east-2_net.my-network-loadbalancer.c6e77e28c25b2234_20261129T1005Z_5d2e.log.gz"),
            true,
            "nlb-*",
            2,
        ),
        (
            "elb-access-docs.log",
            format!("{ELB}/123456789012_elasticloadbalancing_us-east-2_my-loadbalancer_20261129T1005Z_172.160.001.192_20sg8hgm.log"),
            false,
            "elb-*",
            4,
        ),
        (
            "cloudfront-standard.log",
            "cloudfront/E2EXAMPLE12345.2026-11-29-10.a1b2c3d4.gz".to_string(),
            true,
            "cloudfront-*",
            6,
        ),
        (
            "waf-examples.jsonl",
            "AWSLogs/123456789012/WAFLogs/us-east-1/my-acl/2026/11/29/10/05/123456789012_waflogs_us-east-1_my-acl_20261129T1005Z_a1b2.log.gz".to_string(),
            true,
            "waf-*",
            6,
        ),
        (
            "s3access-2019.log",
            "s3-access-logs/2019-02-06-00-00-38-5A4FB2ECDB8FE5D6".to_string(),
            false,
            "s3access-*",
            5,
        ),
        (
            "s3access-current.log",
            "s3-access-logs/2026-11-29-10-05-12-ABCDEF0123456789".to_string(),
            false,
            "s3access-*",
            2,
        ),
        (
            "vpcflow-default.log",
            "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/29/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20261129T1005Z_a1b2.log.gz".to_string(),
            true,
            "vpcflow-*",
            7,
        ),
        (
            "vpcflow-tcp-flags.log",
            "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/29/123456789012_vpcflowlogs_us-east-1_fl-5678efgh_20261129T1010Z_c3d4.log.gz".to_string(),
            true,
            "vpcflow-*",
            8,
        ),
    ]
}

fn fixture(name: &str) -> Vec<u8> {
    let path = sluice_harness::workspace_root()
        .join("tests/fixtures/access")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

async fn search(osmem: &OsMem, index: &str, query: Value) -> Vec<Value> {
    let hits = search_hits(osmem, index, query).await;
    hits.into_iter().map(|(_, source)| source).collect()
}

pub(super) async fn backfill(forwarder: &Forwarder) -> ReplaySummary {
    backfill_bucket(forwarder, BUCKET).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_logs_under_aws_key_layouts_become_typed_documents_once() {
    let moto = Moto::start();
    let osmem = OsMem::start();
    let expected = put_the_samples(&moto).await;
    let total: u64 = expected.values().sum();
    let forwarder = access_forwarder(&moto, &osmem).await;

    let first = backfill(&forwarder).await;
    assert_eq!(first.summary.objects, 12);
    // Issue 28, item 8: the CloudTrail digest beside the logs is seen, and skipped.
    assert_eq!(first.summary.objects_skipped, 1, "{:?}", first.summary);
    assert_eq!(first.summary.indexed, total, "{:?}", first.summary);
    assert_eq!(
        first.summary.unparsed, UNPARSED,
        "every documented sample line parses, and the lines written to fail do not"
    );
    for (index, lines) in &expected {
        assert_eq!(osmem.count(index).await.expect("count"), *lines, "{index}");
    }

    // Typed fields, and the shared ones every access log fills.
    check_the_alb_entry(&osmem).await;
    check_vpc_flows(&osmem).await;
    check_cloudfront_and_waf(&osmem).await;
    check_s3_access(&osmem).await;
    check_the_alb_mapping(&osmem).await;

    // A second run finds every document there: same ids.
    let second = backfill(&forwarder).await;
    assert_eq!((second.summary.indexed, second.summary.duplicates), (0, total));
    // Issue 28, item 9: `unparsed` is part of `indexed`, so a run that indexed nothing has none.
    assert_eq!(second.summary.unparsed, 0, "{:?}", second.summary);
    let all: Vec<&str> = expected.keys().copied().collect();
    assert_eq!(osmem.count(&all.join(",")).await.expect("count"), total);
}

/// Lines written for this test that are no ALB entries, in an object under the ALB layout: each
/// is indexed as text with a `parse_error` and counted `unparsed`.
const NOT_ALB: &str = "ALB entries start with their type\nand this line is none either\n";
const UNPARSED: u64 = 2;

/// The bucket with every sample under its key, and an ALB object of lines that do not parse; the
/// data lines expected per index pattern.
async fn put_the_samples(moto: &Moto) -> BTreeMap<&'static str, u64> {
    let s3 = moto.s3_client();
    s3.create_bucket().bucket(BUCKET).send().await.expect("bucket");
    let mut expected: BTreeMap<&str, u64> = BTreeMap::new();
    for (name, key, gzip, index, lines) in objects() {
        let body = match gzip {
            true => gzip_bytes(&fixture(name)),
            false => fixture(name),
        };
        s3.put_object()
            .bucket(BUCKET)
            .key(&key)
            .body(body.into())
            .send()
            .await
            .unwrap_or_else(|err| panic!("PutObject {key}: {err:?}"));
        *expected.entry(index).or_default() += lines;
    }
    let key = format!(
        "{ELB}/123456789012_elasticloadbalancing_us-east-2_app.my-loadbalancer.50dc6c495c0c9188_20261129T1010Z_198.51.100.1_9zzz.log.gz"
    );
    s3.put_object()
        .bucket(BUCKET)
        .key(&key)
        .body(gzip_bytes(NOT_ALB.as_bytes()).into())
        .send()
        .await
        .unwrap_or_else(|err| panic!("PutObject {key}: {err:?}"));
    *expected.entry("alb-*").or_default() += UNPARSED;
    // A CloudTrail digest file (shape of
    // https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-digest-file-structure.html,
    // values made up): skipped, no document.
    let digest = json!({"awsAccountId": "123456789012", "digestStartTime": "2026-11-29T10:05:12Z",
        "digestEndTime": "2026-11-29T11:05:12Z", "logFiles": []});
    s3.put_object()
        .bucket(BUCKET)
        .key("AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/29/123456789012_CloudTrail-Digest_us-east-1_main_us-east-1_20261129T110512Z.json.gz")
        .body(gzip_bytes(digest.to_string().as_bytes()).into())
        .send()
        .await
        .expect("PutObject digest");
    expected
}

async fn access_forwarder(moto: &Moto, osmem: &OsMem) -> Forwarder {
    let settings = [
        ("OPENSEARCH_ENDPOINT", osmem.url()),
        ("OPENSEARCH_AUTH", "none"),
        ("AWS_REGION", REGION),
        ("RETRY_BASE_MS", "5"),
        // S3 server access logs have no layout of their own: a rule says which keys they are.
        ("S3_FORMATS", "s3-access-logs/*=s3-access"),
    ];
    forwarder_of(&settings, &moto.sdk_config()).await
}

/// The HTTP/2 entry of the ALB sample: its typed fields and the shared ones.
async fn check_the_alb_entry(osmem: &OsMem) {
    let alb = search(osmem, "alb-*", json!({"term": {"aws.alb.type": "h2"}})).await;
    assert_eq!(alb.len(), 1, "the HTTP/2 entry");
    let alb = &alb[0];
    assert_eq!(alb["@timestamp"], "2018-07-02T22:23:00.186Z");
    assert_eq!(alb["aws"]["alb"]["elb_status_code"], 200);
    assert_eq!(alb["aws"]["alb"]["target_processing_time"], 0.002);
    assert_eq!(alb["aws"]["alb"]["target_port"], 9000);
    assert_eq!(alb["source"]["ip"], "10.0.1.252");
    assert_eq!(alb["destination"]["port"], 9000);
    assert_eq!(alb["http"]["request"]["method"], "GET");
    assert_eq!(alb["http"]["response"]["status_code"], 200);
    assert_eq!(alb["ecs"]["version"], "9.4.0");
    assert_eq!(alb["event"]["dataset"], "aws.alb");
    assert!(
        alb["message"]
            .as_str()
            .expect("the raw line")
            .starts_with("h2 2018-07-02T22:23:00.186641Z")
    );
}

async fn check_vpc_flows(osmem: &OsMem) {
    let flows = search(
        osmem,
        "vpcflow-*",
        json!({"term": {"aws.vpc_flow.log_status": "NODATA"}}),
    )
    .await;
    assert_eq!(flows.len(), 1, "a NODATA record is kept");
    let rejected = search(
        osmem,
        "vpcflow-*",
        json!({"term": {"aws.vpc_flow.action": "REJECT"}}),
    )
    .await;
    assert!(!rejected.is_empty());
    assert!(
        rejected
            .iter()
            .all(|flow| flow["network"]["bytes"].is_u64() && flow["source"]["ip"].is_string())
    );
}

async fn check_cloudfront_and_waf(osmem: &OsMem) {
    let cloudfront = search(osmem, "cloudfront-*", json!({"match_all": {}})).await;
    assert_eq!(cloudfront.len(), 6);
    assert!(cloudfront.iter().all(|hit| {
        hit["http"]["response"]["status_code"].is_u64() || hit["aws"]["cloudfront"]["sc_status"] == 0
    }));
    assert!(
        cloudfront.iter().all(|hit| {
            let agent = hit["user_agent"]["original"].as_str().unwrap_or_default();
            !agent.contains("%20")
        }),
        "CloudFront's URL-encoded user agents are decoded"
    );

    let waf = search(osmem, "waf-*", json!({"match_all": {}})).await;
    assert_eq!(waf.len(), 6);
    assert!(
        waf.iter()
            .all(|hit| hit["source"]["ip"].is_string() && hit["aws"]["waf"]["action"].is_string())
    );
}

async fn check_s3_access(osmem: &OsMem) {
    let s3 = search(
        osmem,
        "s3access-*",
        json!({"term": {"aws.s3_access.operation": "REST.GET.VERSIONING"}}),
    )
    .await;
    assert!(!s3.is_empty());
    assert!(s3.iter().all(|hit| hit["http"]["response"]["status_code"] == 200));
}

/// The index templates map addresses as `ip` and status codes as numbers.
async fn check_the_alb_mapping(osmem: &OsMem) {
    let mapping = osmem
        .request("GET", "/alb-*/_mapping", None)
        .await
        .expect("mapping");
    let (_, alb_mapping) = mapping
        .as_object()
        .and_then(|m| m.iter().next())
        .expect("an alb index");
    let properties = &alb_mapping["mappings"]["properties"];
    assert_eq!(properties["source"]["properties"]["ip"]["type"], "ip");
    let alb = &properties["aws"]["properties"]["alb"]["properties"];
    assert_eq!(alb["elb_status_code"]["type"], "long");
}

pub(super) fn gzip_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

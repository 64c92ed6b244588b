//! Route 53 Resolver query logs and Network Firewall flow, alert and TLS logs end to end: AWS's
//! documented samples under the key layouts AWS writes them to, in a bucket in moto, backfilled
//! with `replay s3://` into osmem-server. Every line is indexed once, into its format's index of
//! its own date, with its ECS fields; a second run adds nothing.
//!
//! The fixtures, and the pages they come from: `tests/fixtures/network/README.md`.

use sluice_forwarder::cli::replay::ReplaySummary;
use sluice_harness::{Moto, OsMem};

use super::access::gzip_bytes;
use super::*;

const BUCKET: &str = "network-logs";
const RESOLVER: &str = "AWSLogs/111122223333/vpcdnsquerylogs/vpc-7example/2021/02/04";
const FIREWALL: &str = "AWSLogs/111122223333/network-firewall";

/// (fixture, key, lines)
pub(super) fn objects() -> Vec<(&'static str, String, u64)> {
    vec![
        (
            "route53-resolver-docs.jsonl",
            format!("{RESOLVER}/vpc-7example_vpcdnsquerylogs_111122223333_20210204T1750Z_1a2b3c4d.log.gz"),
            1,
        ),
        (
            "route53-resolver-queries.jsonl",
            format!("{RESOLVER}/vpc-7example_vpcdnsquerylogs_111122223333_20210204T1755Z_5e6f7a8b.log.gz"),
            2,
        ),
        (
            "network-firewall-flow.jsonl",
            format!(
                "{FIREWALL}/flow/us-east-1/test-firewall/2020/10/13/22/111122223333_network-firewall_flow_us-east-1_test-firewall_202010132210_1a2b3c4d.log.gz"
            ),
            1,
        ),
        (
            "network-firewall-alert.jsonl",
            format!(
                "{FIREWALL}/alert/us-east-1/test-firewall/2020/10/13/22/111122223333_network-firewall_alert_us-east-1_test-firewall_202010132210_5e6f7a8b.log.gz"
            ),
            2,
        ),
        (
            "network-firewall-tls.jsonl",
            format!(
                "{FIREWALL}/tls/us-east-1/egress-fw/2024/02/19/16/111122223333_network-firewall_tls_us-east-1_egress-fw_202402191645_9c0d1e2f.log.gz"
            ),
            3,
        ),
    ]
}

pub(super) fn fixture(name: &str) -> Vec<u8> {
    let path = sluice_harness::workspace_root()
        .join("tests/fixtures/network")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

async fn backfill(forwarder: &Forwarder) -> ReplaySummary {
    backfill_bucket(forwarder, BUCKET).await
}

async fn search(osmem: &OsMem, index: &str, query: Value) -> Vec<Value> {
    let hits = search_hits(osmem, index, query).await;
    hits.into_iter().map(|(_, source)| source).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolver_and_firewall_logs_under_aws_key_layouts_become_ecs_documents_once() {
    let moto = Moto::start();
    let osmem = OsMem::start();
    let total: u64 = objects().iter().map(|(_, _, lines)| lines).sum();
    let bodies: Vec<(String, Vec<u8>)> = (objects().into_iter())
        .map(|(name, key, _)| (key, gzip_bytes(&fixture(name))))
        .collect();
    bucket_of(&moto, BUCKET, &bodies).await;
    let settings = [
        ("OPENSEARCH_ENDPOINT", osmem.url()),
        ("OPENSEARCH_AUTH", "none"),
        ("AWS_REGION", REGION),
        ("RETRY_BASE_MS", "5"),
    ];
    let forwarder = forwarder_of(&settings, &moto.sdk_config()).await;

    let first = backfill(&forwarder).await;
    assert_eq!(first.summary.objects, 5, "{:?}", first.summary);
    assert_eq!(first.summary.indexed, total, "{:?}", first.summary);
    assert_eq!(first.summary.unparsed, 0, "every sample line parses");
    // Each record in the index of its own date, not the day it was read.
    for (index, count) in [
        ("route53resolver-2021.02.04", 3),
        ("networkfirewall-2020.10.13", 2),
        ("networkfirewall-2025.12.31", 1),
        ("networkfirewall-2024.02.19", 1),
        ("networkfirewall-2024.07.02", 1),
        ("networkfirewall-2025.11.18", 1),
    ] {
        assert_eq!(osmem.count(index).await.expect("count"), count, "{index}");
    }

    check_the_resolver_queries(&osmem).await;
    check_the_firewall_lines(&osmem).await;
    check_the_blobs_are_flat(&osmem).await;

    // A second run finds every document there: same ids.
    let second = backfill(&forwarder).await;
    assert_eq!((second.summary.indexed, second.summary.duplicates), (0, total));
    assert_eq!(
        osmem
            .count("route53resolver-*,networkfirewall-*")
            .await
            .expect("count"),
        total
    );
}

async fn check_the_resolver_queries(osmem: &OsMem) {
    let blocked = search(
        osmem,
        "route53resolver-*",
        json!({"term": {"event.action": "block"}}),
    )
    .await;
    assert_eq!(blocked.len(), 1, "DNS Firewall's block");
    let doc = &blocked[0];
    assert_eq!(doc["@timestamp"], "2021-02-04T17:51:55.000Z");
    assert_eq!(doc["event"]["dataset"], "aws.route53_resolver");
    assert_eq!(doc["dns"]["question"]["name"], "15.3.4.32.in-addr.arpa");
    assert_eq!(doc["dns"]["answers"][0]["data"], "203.0.113.9");
    assert_eq!(doc["source"], json!({"ip": "4.5.64.102", "port": 56067}));
    assert_eq!(doc["network"]["transport"], "udp");
    assert_eq!(doc["cloud"]["instance"]["id"], "i-0d15cd0d3example");
    assert_eq!(doc["cloud"]["account"]["id"], "111122223333");
    assert_eq!(doc["cloud"]["region"], "us-east-1");
    assert_eq!(
        doc["aws"]["route53_resolver"]["firewall_rule_group_id"],
        "rslvr-frg-01234567890abcdef"
    );
    let missing = search(
        osmem,
        "route53resolver-*",
        json!({"term": {"dns.response_code": "NXDOMAIN"}}),
    )
    .await;
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0]["event"]["outcome"], "failure");
    // `srcids` is a flat_object: its leaves are searchable.
    let through_endpoint = search(
        osmem,
        "route53resolver-*",
        json!({"term": {"aws.route53_resolver.srcids.resolver_endpoint": "rslvr-in-0123456789abcdef0"}}),
    )
    .await;
    assert_eq!(through_endpoint.len(), 1);
}

async fn check_the_firewall_lines(osmem: &OsMem) {
    let alerts = search(
        osmem,
        "networkfirewall-*",
        json!({"term": {"event.kind": "alert"}}),
    )
    .await;
    assert_eq!(alerts.len(), 3, "the two alert lines and the TLS log's alert");
    let documented = search(
        osmem,
        "networkfirewall-*",
        json!({"term": {"rule.name": "test_tcp"}}),
    )
    .await;
    assert_eq!(documented.len(), 1);
    let alert = &documented[0];
    assert_eq!(alert["@timestamp"], "2020-10-13T22:10:01.006Z");
    assert_eq!(alert["rule"]["id"], "5");
    assert_eq!(alert["event"]["action"], "allowed");
    assert_eq!(alert["source"]["port"], 55555);
    assert_eq!(alert["destination"]["ip"], "192.0.2.16");
    assert_eq!(alert["cloud"]["region"], "us-east-1");
    assert_eq!(alert["cloud"]["account"]["id"], "111122223333");
    assert_eq!(alert["aws"]["network_firewall"]["firewall_name"], "test-firewall");

    let flows = search(
        osmem,
        "networkfirewall-*",
        json!({"term": {"event.action": "netflow"}}),
    )
    .await;
    assert_eq!(flows.len(), 1);
    assert_eq!(flows[0]["network"]["bytes"], 180);
    assert_eq!(flows[0]["network"]["packets"], 3);
    assert_eq!(flows[0]["network"]["transport"], "tcp");

    let revoked = search(
        osmem,
        "networkfirewall-*",
        json!({"term": {"tls.client.server_name": "revoked-rsa-dv.ssl.com"}}),
    )
    .await;
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0]["event"]["type"], json!(["connection", "denied"]));
    let flat = search(
        osmem,
        "networkfirewall-*",
        json!({"term": {"aws.network_firewall.revocation_check.status": "REVOKED"}}),
    )
    .await;
    assert_eq!(flat.len(), 1, "a flat_object's leaves are searchable");
}

/// The nested blobs whose shapes vary are `flat_object`s in the indices' mappings.
async fn check_the_blobs_are_flat(osmem: &OsMem) {
    for (index, object, field) in [
        ("route53resolver-2021.02.04", "route53_resolver", "srcids"),
        ("networkfirewall-2020.10.13", "network_firewall", "alert"),
        ("networkfirewall-2020.10.13", "network_firewall", "netflow"),
    ] {
        let mapping = osmem
            .request("GET", &format!("/{index}/_mapping"), None)
            .await
            .expect("mapping");
        let properties = &mapping[index]["mappings"]["properties"];
        let typed = &properties["aws"]["properties"][object]["properties"];
        assert_eq!(typed[field]["type"], "flat_object", "{index}: {object}.{field}");
        assert_eq!(properties["source"]["properties"]["ip"]["type"], "ip", "{index}");
    }
}

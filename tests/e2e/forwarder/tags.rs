//! Log-group tags as document fields (`LOG_GROUP_TAGS`), end to end: the log groups and their
//! tags live in moto (whose CloudWatch Logs API has `ListTagsForResource`), the documents land in
//! osmem-server. A tagged group's documents carry `tags.*`, a warm forwarder asks once per TTL,
//! and a group without tags, an unknown group or an unreachable logs API never fails a batch.

use sluice_harness::{Moto, OsMem};

use super::*;

/// The test batches' account (`logs_data`), moto's default account.
const OWNER: &str = "123456789012";

/// A forwarder into `osmem` whose AWS calls go to `sdk` (moto), with `extra` settings.
async fn forwarder_with(osmem: &OsMem, sdk: &SdkConfig, extra: &[(&str, &str)]) -> Forwarder {
    let mut settings = vec![
        ("OPENSEARCH_ENDPOINT", osmem.url()),
        ("OPENSEARCH_AUTH", "none"),
        ("AWS_REGION", REGION),
        ("RETRY_BASE_MS", "5"),
        ("DEADLINE_MARGIN_MS", "100"),
    ];
    settings.extend(extra.iter().copied());
    forwarder_of(&settings, sdk).await
}

async fn create_log_group(moto: &Moto, name: &str, tags: &[(&str, &str)]) {
    let mut request = moto.logs_client().create_log_group().log_group_name(name);
    for (key, value) in tags {
        request = request.tags(*key, *value);
    }
    request.send().await.expect("log group");
}

async fn document(osmem: &OsMem, group: &str, id: &str) -> Value {
    osmem
        .request("GET", &event_doc("cwl-2026.11.22", group, id), None)
        .await
        .expect("document")["_source"]
        .clone()
}

async fn tag_lookups(moto: &Moto) -> usize {
    moto.recorded_actions()
        .await
        .expect("recorded calls")
        .iter()
        .filter(|action| *action == "ListTagsForResource")
        .count()
}

#[tokio::test]
async fn a_tagged_groups_documents_carry_its_tags_looked_up_once_per_ttl() {
    let (moto, osmem) = (Moto::start(), OsMem::start());
    let group = "/aws/lambda/checkout-api";
    create_log_group(
        &moto,
        group,
        &[
            ("team", "payments"),
            ("service", "checkout"),
            ("aws:cloudformation:stack-name", "shop-prod"),
        ],
    )
    .await;
    let forwarder = forwarder_with(&osmem, &moto.sdk_config(), &[("LOG_GROUP_TAGS", "true")]).await;
    moto.reset_recording().await.expect("reset");

    let first = logs_data(group, numbered_events("first", NOV_22_10H, 3));
    let handled = forwarder
        .handle(awslogs_event(&first), deadline_in(60.0))
        .await
        .expect("delivered");
    assert_eq!(handled.summary.indexed, 3);
    assert_eq!(handled.summary.tag_lookups_failed, 0);
    let source = document(&osmem, group, "first-0").await;
    assert_eq!(source["aws"]["tags"]["team"], "payments");
    assert_eq!(source["aws"]["tags"]["service"], "checkout");
    assert_eq!(
        source["aws"]["tags"]["aws_cloudformation_stack-name"], "shop-prod",
        "':' is no part of a field name"
    );
    assert_eq!(source["cloud"]["account"]["id"], OWNER);

    // A later invocation of the warm function, within the TTL: no second call.
    let second = logs_data(group, numbered_events("second", NOV_22_10H, 2));
    forwarder
        .handle(awslogs_event(&second), deadline_in(60.0))
        .await
        .expect("delivered");
    assert_eq!(
        document(&osmem, group, "second-1").await["aws"]["tags"]["team"],
        "payments"
    );
    assert_eq!(
        tag_lookups(&moto).await,
        1,
        "one ListTagsForResource per group and TTL"
    );

    // The field is a keyword: a term query finds the team's documents.
    osmem.refresh("cwl-2026.11.22").await.expect("refresh");
    let found = osmem
        .request(
            "POST",
            "/cwl-2026.11.22/_search",
            Some(json!({"query": {"term": {"aws.tags.team": "payments"}}, "size": 0})),
        )
        .await
        .expect("search");
    assert_eq!(found["hits"]["total"]["value"], 5, "{found}");
}

#[tokio::test]
async fn an_untagged_or_unknown_group_gives_documents_without_tags_and_no_failure() {
    let (moto, osmem) = (Moto::start(), OsMem::start());
    create_log_group(&moto, "/aws/lambda/untagged", &[]).await;
    let forwarder = forwarder_with(&osmem, &moto.sdk_config(), &[("LOG_GROUP_TAGS", "true")]).await;
    let batches = [
        logs_data("/aws/lambda/untagged", numbered_events("plain", NOV_22_10H, 2)),
        logs_data(
            "/aws/lambda/never-created",
            numbered_events("unknown", NOV_22_10H, 2),
        ),
    ];
    let records: Vec<Vec<u8>> = batches.iter().map(gzip_json).collect();
    let handled = forwarder
        .handle(kinesis_event(&records), deadline_in(60.0))
        .await
        .expect("delivered");
    assert_eq!(handled.response, json!({"batchItemFailures": []}));
    assert_eq!(
        (handled.summary.indexed, handled.summary.tag_lookups_failed),
        (4, 0)
    );
    for (group, id) in [
        ("/aws/lambda/untagged", "plain-0"),
        ("/aws/lambda/never-created", "unknown-1"),
    ] {
        let source = document(&osmem, group, id).await;
        assert_eq!(source["event"]["id"], id);
        assert!(source["aws"].get("tags").is_none(), "{id}: {source}");
    }
}

#[tokio::test]
async fn an_unreachable_logs_api_costs_the_tags_not_the_batch() {
    let osmem = OsMem::start();
    // Nothing listens on port 1: every lookup fails at once.
    let nowhere = sdk_config(Some("http://127.0.0.1:1"));
    let forwarder = forwarder_with(&osmem, &nowhere, &[("LOG_GROUP_TAGS", "true")]).await;
    let batch = logs_data("/aws/lambda/a", numbered_events("lost-tags", NOV_22_10H, 2));
    let handled = forwarder
        .handle(awslogs_event(&batch), deadline_in(60.0))
        .await
        .expect("delivered without tags");
    assert_eq!(handled.summary.indexed, 2);
    assert_eq!(handled.summary.tag_lookups_failed, 1);
    assert!(
        document(&osmem, "/aws/lambda/a", "lost-tags-0").await["aws"]
            .get("tags")
            .is_none()
    );

    // The failure is kept for the TTL: the next batch neither waits nor counts it again.
    let again = logs_data("/aws/lambda/a", numbered_events("again", NOV_22_10H, 1));
    let handled = forwarder
        .handle(awslogs_event(&again), deadline_in(60.0))
        .await
        .expect("delivered");
    assert_eq!(handled.summary.tag_lookups_failed, 0);
    assert_eq!(handled.summary.indexed, 1);
}

#[tokio::test]
async fn with_tags_off_the_forwarder_makes_no_logs_call() {
    let (moto, osmem) = (Moto::start(), OsMem::start());
    create_log_group(&moto, "/aws/lambda/tagged", &[("team", "payments")]).await;
    let forwarder = forwarder_with(&osmem, &moto.sdk_config(), &[]).await;
    moto.reset_recording().await.expect("reset");
    let batch = logs_data("/aws/lambda/tagged", numbered_events("off", NOV_22_10H, 1));
    forwarder
        .handle(awslogs_event(&batch), deadline_in(60.0))
        .await
        .expect("delivered");
    assert!(
        document(&osmem, "/aws/lambda/tagged", "off-0").await["aws"]
            .get("tags")
            .is_none()
    );
    assert_eq!(tag_lookups(&moto).await, 0, "LOG_GROUP_TAGS is off by default");
}

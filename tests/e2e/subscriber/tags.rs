//! `INCLUDE_TAGS` / `EXCLUDE_TAGS` against moto: tags read only for groups the name rules select
//! and only when tag rules are set; a `TagResource` event re-plans its group.

use std::time::Duration;

use serde_json::json;
use sluice_harness::Moto;
use sluice_subscriber::aws::Logs;
use sluice_subscriber::handler::Handler;
use sluice_subscriber::plan::{Action, Mode};
use sluice_subscriber::sweep::Sweeper;
use tokio::time::Instant;

use super::{calls, config, create_group, filters, fixture, pass};

async fn tag(moto: &Moto, group: &str, tags: &[(&str, &str)]) -> String {
    let logs = moto.logs_client();
    let described = logs
        .describe_log_groups()
        .log_group_name_prefix(group)
        .send()
        .await
        .expect("describe");
    let arn = described.log_groups()[0]
        .log_group_arn()
        .expect("arn")
        .to_string();
    let mut request = logs.tag_resource().resource_arn(&arn);
    for (key, value) in tags {
        request = request.tags(*key, *value);
    }
    request.send().await.expect("tag");
    arn
}

/// The forwarder, and five groups: two tagged for payments (one of them `sluice=off`), one for
/// search, one untagged, one for payments that the name rules exclude. Returns the forwarder, the
/// groups and pay-0's ARN.
async fn tagged_groups(moto: &Moto) -> (String, Vec<String>, String) {
    let logs = moto.logs_client();
    let forwarder = moto
        .create_lambda_function("sluice-forwarder")
        .await
        .expect("forwarder");
    let groups: Vec<String> = [
        "/aws/lambda/pay-0",
        "/aws/lambda/pay-1",
        "/aws/lambda/search-0",
        "/aws/lambda/untagged",
        "/test/pay-scratch",
    ]
    .map(String::from)
    .to_vec();
    for group in &groups {
        create_group(&logs, group, None).await;
    }
    let pay_0 = tag(moto, "/aws/lambda/pay-0", &[("team", "payments")]).await;
    tag(
        moto,
        "/aws/lambda/pay-1",
        &[("team", "payments"), ("sluice", "off")],
    )
    .await;
    tag(moto, "/aws/lambda/search-0", &[("team", "search")]).await;
    tag(moto, "/test/pay-scratch", &[("team", "payments")]).await;
    (forwarder, groups, pay_0)
}

/// Name rules and tag rules together.
fn settings(forwarder: &str) -> [(&str, &str); 5] {
    [
        ("DESTINATION_ARN", forwarder),
        ("EXCLUDE_PATTERNS", "/test/*"),
        ("INCLUDE_TAGS", "team=pay*"),
        ("EXCLUDE_TAGS", "sluice=off"),
        ("AWS_LAMBDA_FUNCTION_NAME", "sluice-subscriber"),
    ]
}

/// A pass under the tag rules subscribes pay-0 only, and reads the tags of the groups the name
/// rules select, once each.
async fn tag_rules_select_pay_0_only(moto: &Moto, sweeper: &Sweeper) {
    moto.reset_recording().await.expect("reset");
    let plan = pass(sweeper, Mode::Subscribe, false).await;
    let rows: Vec<(&str, Action, &str)> = plan
        .groups
        .iter()
        .map(|row| (row.log_group.as_str(), row.action, row.reason.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            (
                "/aws/lambda/pay-0",
                Action::Subscribe,
                "no Sluice filter and a slot is free"
            ),
            (
                "/aws/lambda/pay-1",
                Action::Excluded,
                "matches EXCLUDE_TAGS sluice=off"
            ),
            (
                "/aws/lambda/search-0",
                Action::Excluded,
                "matches no INCLUDE_TAGS"
            ),
            (
                "/aws/lambda/untagged",
                Action::Excluded,
                "matches no INCLUDE_TAGS"
            ),
            (
                "/test/pay-scratch",
                Action::Excluded,
                "matches EXCLUDE_PATTERNS /test/*"
            ),
        ]
    );
    assert_eq!(
        calls(moto, "ListTagsForResource").await,
        4,
        "one tag read per group the name rules select"
    );
}

/// Without tag rules no tag is read at all.
async fn without_tag_rules_no_tag_is_read(moto: &Moto, forwarder: &str) {
    let plain = Sweeper::new(
        Logs::new(moto.logs_client(), 1000.0),
        config(&[("DESTINATION_ARN", forwarder), ("EXCLUDE_PATTERNS", "/test/*")]),
    );
    moto.reset_recording().await.expect("reset");
    pass(&plain, Mode::Subscribe, true).await;
    assert_eq!(calls(moto, "ListTagsForResource").await, 0);
}

/// Someone tags pay-0 sluice=off; CloudTrail's TagResource event reaches the handler, which
/// removes our filter from that one group and calls nothing else.
async fn tag_event_removes_pay_0s_filter_alone(moto: &Moto, forwarder: &str, pay_0: &str, groups: &[String]) {
    tag(moto, "/aws/lambda/pay-0", &[("sluice", "off")]).await;
    let mut handler = Handler::new(
        Sweeper::new(
            Logs::new(moto.logs_client(), 1000.0),
            config(&settings(forwarder)),
        ),
        moto.lambda_client(),
        "sluice-subscriber".into(),
    );
    handler.metrics = Box::new(sluice_subscriber::metrics::Discard);
    let mut event = fixture("tag-resource.json");
    event["detail"]["requestParameters"] = json!({"resourceArn": pay_0, "tags": {"sluice": "off"}});
    moto.reset_recording().await.expect("reset");
    let answer = handler
        .handle(event, Instant::now() + Duration::from_secs(60))
        .await
        .expect("handled");
    assert_eq!(answer["action"], "remove", "{answer}");
    assert_eq!(
        answer["reason"],
        "no longer selected: matches EXCLUDE_TAGS sluice=off"
    );
    let calls = moto.recorded_actions().await.expect("recording");
    assert_eq!(
        calls,
        [
            "DescribeLogGroups",
            "ListTagsForResource",
            "DescribeSubscriptionFilters",
            "DeleteSubscriptionFilter"
        ],
        "the one group, nothing else"
    );
    assert_eq!(filters(moto, groups).await["/aws/lambda/pay-0"], []);
}

#[tokio::test]
async fn tag_rules_select_with_the_name_rules_and_a_tag_event_unsubscribes_within_one_call() {
    let moto = Moto::start();
    let (forwarder, groups, pay_0) = tagged_groups(&moto).await;
    let sweeper = Sweeper::new(
        Logs::new(moto.logs_client(), 1000.0),
        config(&settings(&forwarder)),
    );
    tag_rules_select_pay_0_only(&moto, &sweeper).await;
    without_tag_rules_no_tag_is_read(&moto, &forwarder).await;
    tag_event_removes_pay_0s_filter_alone(&moto, &forwarder, &pay_0, &groups).await;
}

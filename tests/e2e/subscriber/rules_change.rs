//! Filters removed when the rules change, against moto: the Lambda's scheduled sweep looks at
//! excluded groups only when the rules changed since its last complete pass, and the CLI's
//! backfill always does; filters that are not Sluice's are never touched.

use std::time::Duration;

use serde_json::{Value, json};
use sluice_harness::Moto;
use sluice_subscriber::aws::Logs;
use sluice_subscriber::handler::Handler;
use sluice_subscriber::plan::{Action, Mode};
use sluice_subscriber::sweep::{RULES_TAG, Sweeper};
use tokio::time::Instant;

use super::{calls, config, filters, fixture, pass, writes};

const SUBSCRIBER: &str = "sluice-subscriber";

fn handler(moto: &Moto, forwarder: &str, exclude: &str) -> Handler {
    let config = config(&[
        ("DESTINATION_ARN", forwarder),
        ("EXCLUDE_PATTERNS", exclude),
        ("AWS_LAMBDA_FUNCTION_NAME", SUBSCRIBER),
    ]);
    let sweeper = Sweeper::new(Logs::new(moto.logs_client(), 1000.0), config);
    let mut handler = Handler::new(sweeper, moto.lambda_client(), SUBSCRIBER.to_string());
    handler.metrics = Box::new(sluice_subscriber::metrics::Discard);
    handler
}

/// One invocation with a whole 15 minutes: a pass of this account completes in it.
async fn invoke(handler: &Handler, event: Value) -> Value {
    let answer = handler
        .handle(event, Instant::now() + Duration::from_secs(900))
        .await
        .expect("invocation");
    assert_eq!(answer["complete"], true, "{answer}");
    answer
}

async fn recorded_rules(moto: &Moto) -> Option<String> {
    let logs = moto.logs_client();
    let own = logs
        .describe_log_groups()
        .log_group_name_prefix(format!("/aws/lambda/{SUBSCRIBER}"))
        .send()
        .await
        .expect("describe");
    let arn = own.log_groups()[0].log_group_arn().expect("arn").to_string();
    let tags = logs
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .expect("tags");
    tags.tags().and_then(|tags| tags.get(RULES_TAG)).cloned()
}

#[tokio::test]
async fn groups_no_longer_selected_lose_our_filter_once_and_unchanged_rules_cost_nothing() {
    let moto = Moto::start();
    let logs = moto.logs_client();
    let forwarder = moto
        .create_lambda_function("sluice-forwarder")
        .await
        .expect("forwarder");
    let other = moto
        .create_lambda_function("siem-shipper")
        .await
        .expect("other function");
    let mut groups = Vec::new();
    for name in (0..10)
        .map(|i| format!("/aws/lambda/app-{i}"))
        .chain((0..5).map(|i| format!("/aws/lambda/canary-{i}")))
        .chain([format!("/aws/lambda/{SUBSCRIBER}")])
    {
        logs.create_log_group()
            .log_group_name(&name)
            .send()
            .await
            .expect("create");
        groups.push(name);
    }
    logs.put_subscription_filter()
        .log_group_name("/aws/lambda/canary-0")
        .filter_name("siem")
        .filter_pattern("")
        .destination_arn(&other)
        .send()
        .await
        .expect("foreign filter");
    let scheduled = fixture("scheduled-event.json");
    let ours = ("sluice".to_string(), forwarder.clone());
    let siem = ("siem".to_string(), other.clone());

    // Rules A select every group but Sluice's own: all 15 subscribed, the rules recorded.
    let everything = handler(&moto, &forwarder, "");
    let first = invoke(&everything, scheduled.clone()).await;
    assert_eq!(first["totals"]["subscribe"], 15, "{first}");
    let recorded_a = recorded_rules(&moto)
        .await
        .expect("rules recorded after a complete pass");

    // Unchanged rules: no DescribeSubscriptionFilters for the excluded group, no write.
    moto.reset_recording().await.expect("reset");
    let again = invoke(&everything, scheduled.clone()).await;
    assert_eq!(again["totals"]["excluded"], 1, "{again}");
    assert_eq!(
        calls(&moto, "DescribeSubscriptionFilters").await,
        15,
        "one call per selected group, none for excluded ones"
    );
    assert_eq!(writes(&moto).await, Vec::<String>::new());

    // Rules B exclude the canaries. The dry run shows the removals and writes nothing.
    let fewer = handler(&moto, &forwarder, "/aws/lambda/canary-*");
    moto.reset_recording().await.expect("reset");
    let planned = invoke(&fewer, json!({"action": "sweep", "dry_run": true})).await;
    assert_eq!(planned["totals"]["remove"], 5, "{planned}");
    assert_eq!(writes(&moto).await, Vec::<String>::new());
    assert_eq!(
        recorded_rules(&moto).await,
        Some(recorded_a.clone()),
        "a dry run records nothing"
    );

    // The scheduled sweep under rules B removes our filter from the canaries, only ours.
    moto.reset_recording().await.expect("reset");
    let removed = invoke(&fewer, scheduled.clone()).await;
    assert_eq!(removed["totals"]["remove"], 5, "{removed}");
    assert_eq!(removed["totals"]["unchanged"], 10, "{removed}");
    let deletes = writes(&moto).await;
    assert_eq!(deletes, vec!["DeleteSubscriptionFilter".to_string(); 5]);
    let now = filters(&moto, &groups).await;
    assert_eq!(
        now["/aws/lambda/canary-0"],
        std::slice::from_ref(&siem),
        "the foreign filter stays"
    );
    for i in 1..5 {
        assert_eq!(now[&format!("/aws/lambda/canary-{i}")], []);
    }
    for i in 0..10 {
        assert_eq!(now[&format!("/aws/lambda/app-{i}")], std::slice::from_ref(&ours));
    }
    let recorded_b = recorded_rules(&moto).await.expect("rules B recorded");
    assert_ne!(recorded_b, recorded_a);

    // Rules B again: the canaries cost no call any more.
    moto.reset_recording().await.expect("reset");
    let quiet = invoke(&fewer, scheduled.clone()).await;
    assert_eq!(quiet["totals"]["excluded"], 6, "{quiet}");
    assert_eq!(calls(&moto, "DescribeSubscriptionFilters").await, 10);
    assert_eq!(writes(&moto).await, Vec::<String>::new());

    // Someone puts our filter back on a canary by hand: the backfill always looks, and removes it.
    logs.put_subscription_filter()
        .log_group_name("/aws/lambda/canary-3")
        .filter_name("sluice")
        .filter_pattern("")
        .destination_arn(&forwarder)
        .send()
        .await
        .expect("put by hand");
    let backfill = Sweeper::new(
        Logs::new(moto.logs_client(), 1000.0),
        config(&[
            ("DESTINATION_ARN", &forwarder),
            ("EXCLUDE_PATTERNS", "/aws/lambda/canary-*"),
        ]),
    );
    let plan = pass(&backfill, Mode::Subscribe, false).await;
    let row = plan
        .groups
        .iter()
        .find(|row| row.log_group == "/aws/lambda/canary-3")
        .expect("row");
    assert_eq!(row.action, Action::Remove);
    assert_eq!(
        row.reason,
        "no longer selected: matches EXCLUDE_PATTERNS /aws/lambda/canary-*"
    );
    assert_eq!(plan.totals.remove, 1, "{plan}");
    assert_eq!(filters(&moto, &groups).await["/aws/lambda/canary-3"], []);
}

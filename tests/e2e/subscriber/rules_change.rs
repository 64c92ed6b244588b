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

use super::{calls, config, create_group, filters, fixture, pass, put_filter, writes};

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

/// The account: two functions, ten app groups, five canaries (canary-0 with a foreign filter)
/// and Sluice's own group.
struct Account {
    forwarder: String,
    other: String,
    groups: Vec<String>,
}

async fn account(moto: &Moto) -> Account {
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
        groups.push(create_group(&logs, &name, None).await);
    }
    put_filter(&logs, "/aws/lambda/canary-0", "siem", &other).await;
    Account {
        forwarder,
        other,
        groups,
    }
}

/// Rules A select every group but Sluice's own: all 15 subscribed, the rules recorded.
async fn rules_a_subscribe_all_and_are_recorded(
    moto: &Moto,
    everything: &Handler,
    scheduled: &Value,
) -> String {
    let first = invoke(everything, scheduled.clone()).await;
    assert_eq!(first["totals"]["subscribe"], 15, "{first}");
    recorded_rules(moto)
        .await
        .expect("rules recorded after a complete pass")
}

/// Unchanged rules: no DescribeSubscriptionFilters for the excluded group, no write.
async fn unchanged_rules_a_look_at_no_excluded_group(moto: &Moto, everything: &Handler, scheduled: &Value) {
    moto.reset_recording().await.expect("reset");
    let again = invoke(everything, scheduled.clone()).await;
    assert_eq!(again["totals"]["excluded"], 1, "{again}");
    assert_eq!(
        calls(moto, "DescribeSubscriptionFilters").await,
        15,
        "one call per selected group, none for excluded ones"
    );
    assert_eq!(writes(moto).await, Vec::<String>::new());
}

/// Rules B exclude the canaries. The dry run shows the removals and writes nothing.
async fn rules_b_dry_run_shows_removals_and_records_nothing(moto: &Moto, fewer: &Handler, recorded_a: &str) {
    moto.reset_recording().await.expect("reset");
    let planned = invoke(fewer, json!({"action": "sweep", "dry_run": true})).await;
    assert_eq!(planned["totals"]["remove"], 5, "{planned}");
    assert_eq!(writes(moto).await, Vec::<String>::new());
    assert_eq!(
        recorded_rules(moto).await,
        Some(recorded_a.to_string()),
        "a dry run records nothing"
    );
}

/// The scheduled sweep under rules B removes our filter from the canaries, only ours; it returns
/// the rules recorded after it.
async fn rules_b_sweep_removes_only_our_canary_filters(
    moto: &Moto,
    fewer: &Handler,
    scheduled: &Value,
    account: &Account,
) -> String {
    let ours = ("sluice".to_string(), account.forwarder.clone());
    let siem = ("siem".to_string(), account.other.clone());
    moto.reset_recording().await.expect("reset");
    let removed = invoke(fewer, scheduled.clone()).await;
    assert_eq!(removed["totals"]["remove"], 5, "{removed}");
    assert_eq!(removed["totals"]["unchanged"], 10, "{removed}");
    let deletes = writes(moto).await;
    assert_eq!(deletes, vec!["DeleteSubscriptionFilter".to_string(); 5]);
    let now = filters(moto, &account.groups).await;
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
    recorded_rules(moto).await.expect("rules B recorded")
}

/// Rules B again: the canaries cost no call any more.
async fn rules_b_again_cost_no_call_for_the_canaries(moto: &Moto, fewer: &Handler, scheduled: &Value) {
    moto.reset_recording().await.expect("reset");
    let quiet = invoke(fewer, scheduled.clone()).await;
    assert_eq!(quiet["totals"]["excluded"], 6, "{quiet}");
    assert_eq!(calls(moto, "DescribeSubscriptionFilters").await, 10);
    assert_eq!(writes(moto).await, Vec::<String>::new());
}

/// Someone puts our filter back on a canary by hand: the backfill always looks, and removes it.
async fn backfill_removes_our_filter_put_back_by_hand(moto: &Moto, account: &Account) {
    let forwarder = &account.forwarder;
    put_filter(&moto.logs_client(), "/aws/lambda/canary-3", "sluice", forwarder).await;
    let backfill = Sweeper::new(
        Logs::new(moto.logs_client(), 1000.0),
        config(&[
            ("DESTINATION_ARN", forwarder),
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
    assert_eq!(filters(moto, &account.groups).await["/aws/lambda/canary-3"], []);
}

#[tokio::test]
async fn groups_no_longer_selected_lose_our_filter_once_and_unchanged_rules_cost_nothing() {
    let moto = Moto::start();
    let account = account(&moto).await;
    let scheduled = fixture("scheduled-event.json");

    let everything = handler(&moto, &account.forwarder, "");
    let recorded_a = rules_a_subscribe_all_and_are_recorded(&moto, &everything, &scheduled).await;
    unchanged_rules_a_look_at_no_excluded_group(&moto, &everything, &scheduled).await;

    let fewer = handler(&moto, &account.forwarder, "/aws/lambda/canary-*");
    rules_b_dry_run_shows_removals_and_records_nothing(&moto, &fewer, &recorded_a).await;
    let recorded_b = rules_b_sweep_removes_only_our_canary_filters(&moto, &fewer, &scheduled, &account).await;
    assert_ne!(recorded_b, recorded_a);
    rules_b_again_cost_no_call_for_the_canaries(&moto, &fewer, &scheduled).await;

    backfill_removes_our_filter_put_back_by_hand(&moto, &account).await;
}

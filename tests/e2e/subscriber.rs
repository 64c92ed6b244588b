//! End-to-end tests of the subscriber against moto: a backfill's dry-run plan, apply, a second
//! apply that writes nothing, unsubscribe, and the CreateLogGroup path with CloudTrail's event.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_cloudwatchlogs::Client;
use serde_json::Value;
use sluice_harness::Moto;
use sluice_subscriber::SubscriberError;
use sluice_subscriber::aws::Logs;
use sluice_subscriber::config::{Config, RawConfig};
use sluice_subscriber::handler::Request;
use sluice_subscriber::plan::{Action, Mode, Plan, Run};
use sluice_subscriber::sweep::{LateGroupRetry, Sweeper};

mod budget;
mod central;
mod cli;
mod failures;
mod limits;
mod logs_api;
mod rules_change;
mod tags;

const WRITES: [&str; 3] = [
    "PutSubscriptionFilter",
    "DeleteSubscriptionFilter",
    "PutRetentionPolicy",
];

fn config(pairs: &[(&str, &str)]) -> Config {
    RawConfig::from_pairs(pairs).validate().expect("valid config")
}

fn sweeper(moto: &Moto, config: Config) -> Sweeper {
    // moto has no quota; a high rate keeps the test quick while still going through the limiter.
    Sweeper::new(Logs::new(moto.logs_client(), 1000.0), config)
}

async fn pass(sweeper: &Sweeper, mode: Mode, dry_run: bool) -> Plan {
    sweeper
        .plan(mode, Run::dry_run_if(dry_run), &mut |_| {})
        .await
        .expect("sweep")
}

async fn writes(moto: &Moto) -> Vec<String> {
    moto.recorded_actions()
        .await
        .expect("recording")
        .into_iter()
        .filter(|action| WRITES.contains(&action.as_str()))
        .collect()
}

/// How many calls of `action` moto recorded.
async fn calls(moto: &Moto, action: &str) -> usize {
    moto.recorded_actions()
        .await
        .expect("recording")
        .iter()
        .filter(|recorded| *recorded == action)
        .count()
}

/// Every filter of every group: group → [(filter name, destination)].
async fn filters(moto: &Moto, groups: &[String]) -> BTreeMap<String, Vec<(String, String)>> {
    let logs = moto.logs_client();
    let mut all = BTreeMap::new();
    for group in groups {
        let listed = logs
            .describe_subscription_filters()
            .log_group_name(group)
            .send()
            .await
            .expect("describe filters");
        let mut found: Vec<(String, String)> = listed
            .subscription_filters()
            .iter()
            .map(|f| {
                (
                    f.filter_name().unwrap_or_default().to_string(),
                    f.destination_arn().unwrap_or_default().to_string(),
                )
            })
            .collect();
        found.sort();
        all.insert(group.clone(), found);
    }
    all
}

/// A realistic account: what each group should become, by construction.
struct Account {
    forwarder: String,
    other: String,
    expected: BTreeMap<String, (Action, Option<i32>)>,
}

/// Creates the log group `name`, and its retention of `retention` days when one is given.
async fn create_group(logs: &Client, name: &str, retention: Option<i32>) -> String {
    logs.create_log_group()
        .log_group_name(name)
        .send()
        .await
        .expect("create group");
    if let Some(days) = retention {
        logs.put_retention_policy()
            .log_group_name(name)
            .retention_in_days(days)
            .send()
            .await
            .expect("retention");
    }
    name.to_string()
}

/// Puts the subscription filter `filter` on `group`, everything to `destination`.
async fn put_filter(logs: &Client, group: &str, filter: &str, destination: &str) {
    logs.put_subscription_filter()
        .log_group_name(group)
        .filter_name(filter)
        .filter_pattern("")
        .destination_arn(destination)
        .send()
        .await
        .expect("put filter");
}

async fn account(moto: &Moto) -> Account {
    let logs = moto.logs_client();
    let forwarder = moto
        .create_lambda_function("sluice-forwarder")
        .await
        .expect("forwarder function");
    let other = moto
        .create_lambda_function("legacy-shipper")
        .await
        .expect("other function");
    let mut expected = BTreeMap::new();
    groups_without_filters(&logs, &mut expected).await;
    groups_with_filters(&logs, &forwarder, &other, &mut expected).await;
    let own = create_group(&logs, "/aws/lambda/sluice-forwarder", None).await;
    expected.insert(own, (Action::Excluded, None));
    Account {
        forwarder,
        other,
        expected,
    }
}

/// New groups to subscribe, and scratch groups the rules exclude.
async fn groups_without_filters(logs: &Client, expected: &mut BTreeMap<String, (Action, Option<i32>)>) {
    for i in 0..120 {
        // New: subscribe, and 30 days retention where it never expires (every other one).
        let retention = (i % 2 == 0).then_some(90);
        let name = create_group(logs, &format!("/aws/lambda/app-{i:03}"), retention).await;
        expected.insert(name, (Action::Subscribe, retention.is_none().then_some(30)));
    }
    for i in 0..40 {
        let name = create_group(logs, &format!("/test/scratch-{i:03}"), None).await;
        expected.insert(name, (Action::Excluded, None));
    }
}

/// Groups that already carry filters: ours, a stale one of ours, two foreign ones, or one foreign.
async fn groups_with_filters(
    logs: &Client,
    forwarder: &str,
    other: &str,
    expected: &mut BTreeMap<String, (Action, Option<i32>)>,
) {
    for i in 0..40 {
        let name = create_group(logs, &format!("/aws/lambda/ours-{i:03}"), Some(14)).await;
        put_filter(logs, &name, "sluice", forwarder).await;
        expected.insert(name, (Action::Unchanged, None));
    }
    for i in 0..40 {
        let name = create_group(logs, &format!("/ecs/stale-{i:03}"), Some(7)).await;
        put_filter(logs, &name, "sluice", other).await;
        expected.insert(name, (Action::Update, None));
    }
    for i in 0..40 {
        let name = create_group(logs, &format!("/ecs/full-{i:03}"), Some(7)).await;
        put_filter(logs, &name, "audit", other).await;
        put_filter(logs, &name, "siem", other).await;
        expected.insert(name, (Action::Conflict, None));
    }
    for i in 0..20 {
        // One foreign filter: ours goes into the free slot beside it.
        let name = create_group(logs, &format!("/ecs/shared-{i:03}"), Some(7)).await;
        put_filter(logs, &name, "audit", other).await;
        expected.insert(name, (Action::Subscribe, None));
    }
}

#[tokio::test]
async fn backfill_plans_exactly_applies_then_writes_nothing_and_unsubscribe_removes_only_ours() {
    let moto = Moto::start();
    let account = account(&moto).await;
    let groups: Vec<String> = account.expected.keys().cloned().collect();
    let config = config(&[
        ("DESTINATION_ARN", &account.forwarder),
        ("EXCLUDE_PATTERNS", "/test/*"),
        ("RETENTION_DAYS", "30"),
    ]);
    let sweeper = sweeper(&moto, config);
    let before = filters(&moto, &groups).await;

    // Dry run: the plan is exactly what the account calls for, and nothing is written.
    moto.reset_recording().await.expect("reset");
    let plan = pass(&sweeper, Mode::Subscribe, true).await;
    let planned: BTreeMap<String, (Action, Option<i32>)> = plan
        .groups
        .iter()
        .map(|row| (row.log_group.clone(), (row.action, row.set_retention_days)))
        .collect();
    assert_eq!(planned, account.expected);
    assert_eq!(plan.totals.seen, groups.len() as u64);
    assert_eq!(plan.totals.subscribe, 140);
    assert_eq!(plan.totals.retention_set, 60);
    assert_eq!(writes(&moto).await, Vec::<String>::new());
    assert_eq!(filters(&moto, &groups).await, before);

    // Apply: every selected group ends with our filter to the forwarder; foreign ones untouched.
    let applied = pass(&sweeper, Mode::Subscribe, false).await;
    assert_eq!(applied.totals.errors, 0, "{applied}");
    let after = filters(&moto, &groups).await;
    let ours = ("sluice".to_string(), account.forwarder.clone());
    for (group, (action, _)) in &account.expected {
        let now = &after[group];
        match action {
            Action::Subscribe | Action::Update | Action::Unchanged => {
                assert!(now.contains(&ours), "{group}: {now:?}")
            }
            _ => assert_eq!(now, &before[group], "{group} must be untouched"),
        }
        for foreign in before[group].iter().filter(|(name, _)| name != "sluice") {
            assert!(now.contains(foreign), "{group} lost {foreign:?}");
        }
    }
    let described = moto
        .logs_client()
        .describe_log_groups()
        .log_group_name_prefix("/aws/lambda/app-001")
        .send()
        .await
        .expect("describe");
    assert_eq!(described.log_groups()[0].retention_in_days(), Some(30));

    // A second apply over the unchanged account writes nothing.
    moto.reset_recording().await.expect("reset");
    let again = pass(&sweeper, Mode::Subscribe, false).await;
    assert_eq!(writes(&moto).await, Vec::<String>::new());
    assert_eq!(again.totals.subscribe + again.totals.update, 0, "{again}");

    // Unsubscribe removes our filters and only those.
    let removed = pass(&sweeper, Mode::Unsubscribe, false).await;
    assert_eq!(removed.totals.remove, 220, "{removed}");
    let last = filters(&moto, &groups).await;
    for group in &groups {
        let foreign: Vec<(String, String)> = after[group]
            .iter()
            .filter(|(name, _)| name != "sluice")
            .cloned()
            .collect();
        assert_eq!(last[group], foreign, "{group}");
    }
    assert!(last["/ecs/full-000"].contains(&("audit".to_string(), account.other.clone())));
}

fn fixture(name: &str) -> Value {
    let path = sluice_harness::workspace_root()
        .join("tests/fixtures/subscriber")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("fixture readable");
    serde_json::from_str(&text).expect("fixture is JSON")
}

#[tokio::test]
async fn create_log_group_event_subscribes_the_new_group_even_when_it_appears_late() {
    let moto = Moto::start();
    let forwarder = moto
        .create_lambda_function("sluice-forwarder")
        .await
        .expect("forwarder");
    let sweeper = sweeper(&moto, config(&[("DESTINATION_ARN", &forwarder)]));
    let retry = LateGroupRetry {
        attempts: 20,
        delay: Duration::from_millis(100),
    };

    // The real CloudTrail shape names the group; it becomes visible only a little later.
    let Request::Created { log_group } = Request::parse(&fixture("create-log-group.json")).expect("parse")
    else {
        panic!("the CreateLogGroup fixture must ask for one group");
    };
    let logs = moto.logs_client();
    let late = {
        let logs = logs.clone();
        let name = log_group.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(400)).await;
            logs.create_log_group().log_group_name(name).send().await
        })
    };
    let row = sweeper
        .handle_created(&log_group, Run::Apply, retry)
        .await
        .expect("handled once visible");
    late.await.expect("task").expect("created");
    assert_eq!(row.action, Action::Subscribe);
    let now = filters(&moto, std::slice::from_ref(&log_group)).await;
    assert_eq!(now[&log_group], [("sluice".to_string(), forwarder.clone())]);

    // The failed call's event changes nothing.
    moto.reset_recording().await.expect("reset");
    let failed = Request::parse(&fixture("create-log-group-failed.json")).expect("parse");
    assert!(matches!(failed, Request::Ignore(_)), "{failed:?}");

    // A group that never appears is reported, after the configured attempts.
    let missing = sweeper
        .handle_created(
            "/aws/lambda/never-created",
            Run::Apply,
            LateGroupRetry {
                attempts: 3,
                delay: Duration::from_millis(10),
            },
        )
        .await
        .expect_err("never visible");
    assert!(
        matches!(missing, SubscriberError::LogGroupNotFound { attempts: 3, .. }),
        "{missing}"
    );
    assert_eq!(writes(&moto).await, Vec::<String>::new());
}

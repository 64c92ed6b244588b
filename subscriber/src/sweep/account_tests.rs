//! `SUBSCRIPTION_SCOPE=account` against the in-test CloudWatch Logs server of `tests.rs` (moto
//! has no account policies). The server checks each request body against the API reference:
//! PutAccountPolicy (`policyName`, `policyDocument` JSON with `DestinationArn`, `policyType`
//! `SUBSCRIPTION_FILTER_POLICY`, `scope` `ALL`, `selectionCriteria` `LogGroupName NOT IN [...]` of
//! at most 25 KB), DescribeAccountPolicies (`policyType` required, optional `policyName`; answers
//! `accountPolicies`), DeleteAccountPolicy (`policyName`, `policyType`; `ResourceNotFoundException`
//! when there is none): <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutAccountPolicy.html>
//! and the DescribeAccountPolicies and DeleteAccountPolicy pages beside it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::tests::{Account, FOREIGN, FORWARDER, SUBSCRIBER, arn, lambda, logs_client, serve};
use crate::aws::Logs;
use crate::config::RawConfig;
use crate::handler::Handler;

const POLICY_TYPE: &str = "SUBSCRIPTION_FILTER_POLICY";

/// The calls `tests.rs`'s server leaves to this module: account policies, tags, filter deletes.
pub(super) fn answer(
    account: &mut Account,
    operation: &str,
    request: &Value,
) -> Option<Result<Value, &'static str>> {
    let text = |field: &str| request[field].as_str().filter(|value| !value.is_empty());
    Some(match operation {
        "PutAccountPolicy" => put_account_policy(account, request),
        "DescribeAccountPolicies" => {
            if text("policyType") != Some(POLICY_TYPE) {
                return Some(Err("InvalidParameterException"));
            }
            let policies: Vec<Value> = account
                .policy
                .iter()
                .filter(|policy| text("policyName").is_none_or(|name| policy["policyName"] == name))
                .map(|policy| {
                    let mut listed = policy.clone();
                    listed["accountId"] = json!("123456789012");
                    listed["lastUpdatedTime"] = json!(1_764_460_800_000_i64);
                    listed
                })
                .collect();
            Ok(json!({"accountPolicies": policies}))
        }
        "DeleteAccountPolicy" => {
            if text("policyName").is_none() || text("policyType") != Some(POLICY_TYPE) {
                return Some(Err("InvalidParameterException"));
            }
            match account.policy.take() {
                Some(_) => {
                    account.writes.push("DeleteAccountPolicy".into());
                    Ok(json!({}))
                }
                None => Err("ResourceNotFoundException"),
            }
        }
        "DeleteSubscriptionFilter" => {
            let group = text("logGroupName").unwrap_or_default().to_string();
            let name = text("filterName").unwrap_or_default().to_string();
            account.writes.push(format!("DeleteSubscriptionFilter {group}"));
            account
                .filters
                .entry(group)
                .or_default()
                .retain(|(existing, _)| *existing != name);
            Ok(json!({}))
        }
        "ListTagsForResource" => {
            let tags = account.tags.get(text("resourceArn").unwrap_or_default()).cloned();
            Ok(json!({"tags": tags.unwrap_or_default()}))
        }
        "TagResource" => {
            let tags = account
                .tags
                .entry(text("resourceArn").unwrap_or_default().to_string())
                .or_default();
            for (key, value) in request["tags"].as_object().into_iter().flatten() {
                tags.insert(key.clone(), value.as_str().unwrap_or_default().to_string());
            }
            Ok(json!({}))
        }
        _ => return None,
    })
}

/// PutAccountPolicy, refused as CloudWatch Logs refuses a policy that is not a subscription
/// filter policy for every group with a destination and a `NOT IN` list within 25 KB.
fn put_account_policy(account: &mut Account, request: &Value) -> Result<Value, &'static str> {
    let text = |field: &str| request[field].as_str().filter(|value| !value.is_empty());
    let document = text("policyDocument").and_then(|doc| serde_json::from_str::<Value>(doc).ok());
    let criteria_ok = text("selectionCriteria")
        .is_none_or(|criteria| criteria.len() <= 25 * 1024 && criteria.starts_with("LogGroupName NOT IN ["));
    if text("policyName").is_none()
        || text("policyType") != Some(POLICY_TYPE)
        || text("scope") != Some("ALL")
        || !document.is_some_and(|doc| doc["DestinationArn"].is_string())
        || !criteria_ok
    {
        return Err("InvalidParameterException");
    }
    account
        .writes
        .push(format!("PutAccountPolicy {}", request["selectionCriteria"]));
    account.policy = Some(request.clone());
    Ok(json!({"accountPolicy": request}))
}

fn handler(url: &str, scope: &str, payloads: &Arc<Mutex<Vec<Value>>>) -> Handler {
    handler_with(url, scope, &[], payloads)
}

fn handler_with(url: &str, scope: &str, more: &[(&str, &str)], payloads: &Arc<Mutex<Vec<Value>>>) -> Handler {
    let mut pairs = vec![
        ("DESTINATION_ARN", FORWARDER),
        ("EXCLUDE_PATTERNS", "/aws/lambda/fn-0000*"),
        ("SUBSCRIPTION_SCOPE", scope),
        ("AWS_LAMBDA_FUNCTION_NAME", SUBSCRIBER),
    ];
    pairs.extend_from_slice(more);
    let config = RawConfig::from_pairs(&pairs).validate().expect("valid config");
    let mut handler = Handler::new(
        super::Sweeper::new(Logs::new(logs_client(url), 10_000.0), config),
        lambda(Arc::clone(payloads)),
        SUBSCRIBER.to_string(),
    );
    handler.margin = Duration::ZERO;
    handler.metrics = Box::new(crate::metrics::Discard);
    handler
}

/// Runs `event` and every continuation it hands on (one page per invocation); the last answer
/// and the first one (which carries the policy step).
async fn pass(handler: &Handler, mut event: Value, payloads: &Arc<Mutex<Vec<Value>>>) -> (Value, Value) {
    let mut first = None;
    for _ in 0..30 {
        let answer = handler.handle(event, Instant::now()).await.expect("invocation");
        first.get_or_insert_with(|| answer.clone());
        match payloads.lock().unwrap().pop() {
            Some(next) => event = next,
            None => return (first.expect("one answer"), answer),
        }
    }
    panic!("the pass never completes")
}

fn ours(account: &Account) -> usize {
    account
        .filters
        .values()
        .filter(|filters| filters.iter().any(|(name, _)| name == "sluice"))
        .count()
}

fn position(writes: &[String], prefix: &str) -> Vec<usize> {
    writes
        .iter()
        .enumerate()
        .filter(|(_, write)| write.starts_with(prefix))
        .map(|(at, _)| at)
        .collect()
}

#[tokio::test]
async fn switching_to_the_account_policy_and_back_moves_cleanly_in_two_steps() {
    let mut account = Account::new(3 * 50 + 7);
    account.groups.push(format!("/aws/lambda/{SUBSCRIBER}"));
    let selected = account.groups.len() - 10 - 1;
    let account = Arc::new(Mutex::new(account));
    let url = serve(Arc::clone(&account)).await;
    let payloads = Arc::new(Mutex::new(Vec::new()));
    let sweep = json!({"action": "sweep"});

    // Per log group first: Sluice's filter on every selected group.
    let per_group = handler(&url, "log-group", &payloads);
    let (_, done) = pass(&per_group, sweep.clone(), &payloads).await;
    assert_eq!(done["totals"]["subscribe"], selected, "{done}");
    assert_eq!(ours(&account.lock().unwrap()), selected);

    // The account scope's dry run shows the policy and writes nothing.
    let by_account = handler(&url, "account", &payloads);
    account.lock().unwrap().writes.clear();
    let (first, last) = pass(
        &by_account,
        json!({"action": "sweep", "dry_run": true}),
        &payloads,
    )
    .await;
    let step = &first["policy_before"];
    assert_eq!(step["action"], "put", "{first}");
    assert_eq!(
        step["excluded_names"], 12,
        "10 excluded, the forwarder's and the subscriber's own: {step}"
    );
    assert_eq!(last["totals"]["remove"], selected, "{last}");
    assert!(
        account.lock().unwrap().writes.is_empty(),
        "a dry run writes nothing"
    );

    // Applied: the policy first, then every per-group filter of Sluice's goes; others stay.
    let (first, last) = pass(&by_account, sweep.clone(), &payloads).await;
    assert_eq!(first["policy_before"]["action"], "put");
    assert_eq!(last["totals"]["remove"], selected, "{last}");
    assert_eq!(last["totals"]["errors"], 0, "{last}");
    policy_in_place_before_filters_went(&account.lock().unwrap(), selected);

    // Unchanged: the policy is right, so no write at all.
    account.lock().unwrap().writes.clear();
    let (first, _) = pass(&by_account, sweep.clone(), &payloads).await;
    assert_eq!(first["policy_before"]["action"], "unchanged", "{first}");
    assert!(
        account.lock().unwrap().writes.is_empty(),
        "{:?}",
        account.lock().unwrap().writes
    );

    // With retention the pass goes over the groups, setting retention per group; the policy stays.
    let with_retention = handler_with(&url, "account", &[("RETENTION_DAYS", "30")], &payloads);
    let (first, last) = pass(&with_retention, sweep, &payloads).await;
    assert_eq!(first["policy_before"]["action"], "unchanged", "{first}");
    assert_eq!(last["totals"]["retention_set"], selected, "{last}");
    assert!(last.get("policy_after").is_none(), "{last}");
    assert!(
        account.lock().unwrap().policy.is_some(),
        "the account policy stays"
    );

    // A new excluded group joins the NOT IN list at once; a selected one costs no write.
    new_groups_join_the_policy_or_are_covered(&by_account, &account).await;

    // Back per log group: the filters return, and only then the policy goes.
    back_per_log_group(&per_group, &account, &payloads, selected).await;
}

/// Back to log-group scope: the dry run shows the policy's deletion and deletes nothing; the
/// pass puts Sluice's filters back (on the `selected` groups and the new app) before the policy
/// goes, and the scope tag says `log-group`.
async fn back_per_log_group(
    per_group: &Handler,
    account: &Arc<Mutex<Account>>,
    payloads: &Arc<Mutex<Vec<Value>>>,
    selected: usize,
) {
    let sweep = json!({"action": "sweep"});
    account.lock().unwrap().writes.clear();
    let (_, planned) = pass(per_group, json!({"action": "sweep", "dry_run": true}), payloads).await;
    assert_eq!(planned["policy_after"]["action"], "delete", "{planned}");
    assert!(
        account.lock().unwrap().policy.is_some(),
        "a dry run deletes nothing"
    );
    let (_, back) = pass(per_group, sweep, payloads).await;
    assert_eq!(back["policy_after"]["action"], "delete", "{back}");
    let account = account.lock().unwrap();
    assert!(account.policy.is_none());
    assert_eq!(ours(&account), selected + 1, "the new app too");
    let puts = position(&account.writes, "PutSubscriptionFilter");
    let delete = position(&account.writes, "DeleteAccountPolicy");
    assert_eq!(delete.len(), 1);
    assert!(puts.iter().all(|put| *put < delete[0]), "{:?}", account.writes);
    assert_eq!(
        account.tags[&arn(&format!("/aws/lambda/{SUBSCRIBER}"))]["sluice:scope"],
        "log-group"
    );
}

/// The account policy written in the switch: its `NOT IN` list the excluded groups and Sluice's
/// own, its destination the forwarder's, written before any of Sluice's `selected` per-group
/// filters went; the foreign filters stay.
fn policy_in_place_before_filters_went(account: &Account, selected: usize) {
    let policy = account.policy.as_ref().expect("policy written");
    let criteria = policy["selectionCriteria"].as_str().expect("criteria");
    let names: Vec<String> =
        serde_json::from_str(criteria.trim_start_matches("LogGroupName NOT IN ")).expect("list");
    let mut expected: Vec<String> = (0..10).map(|i| format!("/aws/lambda/fn-{i:05}")).collect();
    expected.push("/aws/lambda/sluice-forwarder".into());
    expected.push(format!("/aws/lambda/{SUBSCRIBER}"));
    expected.sort();
    assert_eq!(names, expected);
    let document: Value =
        serde_json::from_str(policy["policyDocument"].as_str().expect("doc")).expect("JSON");
    assert_eq!(document["DestinationArn"], FORWARDER);
    let puts = position(&account.writes, "PutAccountPolicy");
    let deletes = position(&account.writes, "DeleteSubscriptionFilter");
    assert_eq!(puts.len(), 1);
    assert_eq!(deletes.len(), selected);
    assert!(
        puts[0] < deletes[0],
        "the policy is in place before a filter goes: {:?}",
        account.writes
    );
    assert_eq!(ours(account), 0, "no event delivered twice");
    for group in account.groups.iter().step_by(10) {
        assert!(
            account.filters[group].contains(&("audit".into(), FOREIGN.into())),
            "{group}"
        );
    }
}

/// In account scope, a new group the rules exclude joins the policy's `NOT IN` list at once (and
/// once); a selected one is covered and costs no write.
async fn new_groups_join_the_policy_or_are_covered(by_account: &Handler, account: &Arc<Mutex<Account>>) {
    let created = |name: &str| {
        json!({"detail-type": "AWS API Call via CloudTrail", "source": "aws.logs",
               "detail": {"eventName": "CreateLogGroup", "eventSource": "logs.amazonaws.com",
                          "requestParameters": {"logGroupName": name}}})
    };
    account
        .lock()
        .unwrap()
        .groups
        .push("/aws/lambda/fn-00009-canary".into());
    account.lock().unwrap().groups.push("/aws/lambda/new-app".into());
    let answer = by_account
        .handle(created("/aws/lambda/fn-00009-canary"), Instant::now())
        .await
        .expect("event");
    assert_eq!(
        answer["policy"]["reason"], "the NOT IN list changes: 1 name(s) added, 0 removed",
        "{answer}"
    );
    let again = by_account
        .handle(created("/aws/lambda/fn-00009-canary"), Instant::now())
        .await
        .expect("event");
    assert_eq!(again["policy"]["action"], "unchanged", "{again}");
    let covered = by_account
        .handle(created("/aws/lambda/new-app"), Instant::now())
        .await
        .expect("event");
    assert_eq!(covered["reason"], "covered by the account policy", "{covered}");
    assert_eq!(
        position(&account.lock().unwrap().writes, "PutAccountPolicy").len(),
        1
    );
}

#[tokio::test]
async fn unsubscribe_in_account_scope_deletes_the_policy() {
    let mut account = Account::new(60);
    account.groups.push(format!("/aws/lambda/{SUBSCRIBER}"));
    let account = Arc::new(Mutex::new(account));
    let url = serve(Arc::clone(&account)).await;
    let payloads = Arc::new(Mutex::new(Vec::new()));
    let by_account = handler(&url, "account", &payloads);
    pass(&by_account, json!({"action": "sweep"}), &payloads).await;
    assert!(account.lock().unwrap().policy.is_some());
    let (_, last) = pass(&by_account, json!({"action": "unsubscribe"}), &payloads).await;
    assert_eq!(last["policy_after"]["action"], "delete", "{last}");
    assert!(account.lock().unwrap().policy.is_none());
}

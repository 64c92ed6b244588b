use std::collections::BTreeSet;

use super::*;
use crate::config::RawConfig;

const FORWARDER: &str = "arn:aws:lambda:us-east-1:123456789012:function:fwd";

fn config(pairs: &[(&str, &str)]) -> Config {
    let mut all = vec![("DESTINATION_ARN", FORWARDER), ("SUBSCRIPTION_SCOPE", "account")];
    all.extend_from_slice(pairs);
    RawConfig::from_pairs(&all).validate().expect("valid")
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|name| name.to_string()).collect()
}

#[test]
fn the_policy_is_the_documented_put_account_policy_shape() {
    let policy = AccountPolicy::wanted(&config(&[]), &names(&["/test/b", "/aws/lambda/fwd"])).expect("fits");
    assert_eq!(policy.name, "sluice");
    let document: serde_json::Value = serde_json::from_str(&policy.document).expect("JSON");
    assert_eq!(
        document,
        json!({"DestinationArn": FORWARDER, "FilterPattern": ""}),
        "a Lambda destination takes neither role nor distribution"
    );
    assert_eq!(
        policy.selection_criteria.as_deref(),
        Some(r#"LogGroupName NOT IN ["/aws/lambda/fwd", "/test/b"]"#)
    );
    assert_eq!(policy.excluded(), names(&["/test/b", "/aws/lambda/fwd"]));

    let kinesis = RawConfig::from_pairs(&[
        (
            "DESTINATION_ARN",
            "arn:aws:kinesis:us-east-1:123456789012:stream/logs",
        ),
        ("ROLE_ARN", "arn:aws:iam::123456789012:role/cwl"),
        ("SUBSCRIPTION_SCOPE", "account"),
        ("DISTRIBUTION", "Random"),
        ("FILTER_PATTERN", "ERROR"),
    ])
    .validate()
    .expect("valid");
    let policy = AccountPolicy::wanted(&kinesis, &BTreeSet::new()).expect("fits");
    let document: serde_json::Value = serde_json::from_str(&policy.document).expect("JSON");
    assert_eq!(
        document,
        json!({"DestinationArn": "arn:aws:kinesis:us-east-1:123456789012:stream/logs",
               "RoleArn": "arn:aws:iam::123456789012:role/cwl",
               "FilterPattern": "ERROR", "Distribution": "Random"})
    );
    assert_eq!(policy.selection_criteria, None, "no NOT IN list: every group");
}

#[test]
fn a_list_over_25_kb_is_refused_with_the_count_and_the_other_mode() {
    // 512-character names (the longest CloudWatch Logs allows): 49 fit, 50 do not.
    let long = |i: usize| format!("/{i:03}{}", "x".repeat(508));
    let fits: BTreeSet<String> = (0..49).map(long).collect();
    let policy = AccountPolicy::wanted(&config(&[]), &fits).expect("49 names fit");
    assert!(policy.selection_criteria.as_ref().expect("list").len() <= SELECTION_CRITERIA_MAX_BYTES);
    let over: BTreeSet<String> = (0..50).map(long).collect();
    let err = AccountPolicy::wanted(&config(&[]), &over).expect_err("50 names do not");
    assert!(
        matches!(
            err,
            SubscriberError::PolicyTooLarge {
                names: 50,
                limit: 25_600,
                ..
            }
        ),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("50 log group names") && text.contains("SUBSCRIPTION_SCOPE=log-group"),
        "{text}"
    );
}

#[test]
fn one_decision_per_situation() {
    let config = config(&[]);
    let wanted = AccountPolicy::wanted(&config, &names(&["/a", "/b"])).expect("fits");
    let same_reordered = AccountPolicy {
        document: json!({"FilterPattern": "", "DestinationArn": FORWARDER}).to_string(),
        selection_criteria: Some(r#"LogGroupName NOT IN ["/b","/a"]"#.into()),
        ..wanted.clone()
    };
    let fewer = AccountPolicy::wanted(&config, &names(&["/a"])).expect("fits");
    let decide = |wanted: Option<&AccountPolicy>, existing: Option<&AccountPolicy>| {
        PolicyPlan::decide(wanted.cloned(), existing.cloned())
    };
    assert_eq!(
        decide(Some(&wanted), Some(&same_reordered)).action,
        PolicyAction::Unchanged
    );
    let grown = decide(Some(&wanted), Some(&fewer));
    assert_eq!(grown.action, PolicyAction::Put);
    assert_eq!(
        grown.reason,
        "the NOT IN list changes: 1 name(s) added, 0 removed"
    );
    assert_eq!(decide(Some(&wanted), None).action, PolicyAction::Put);
    assert_eq!(decide(None, Some(&wanted)).action, PolicyAction::Delete);
    assert_eq!(decide(None, None).action, PolicyAction::Absent);
}

#[test]
fn the_plan_shows_the_policy_and_its_size() {
    let policy = AccountPolicy::wanted(&config(&[]), &names(&["/test/a"])).expect("fits");
    let plan = PolicyPlan::decide(Some(policy), None);
    let text = plan.to_string();
    assert!(
        text.starts_with("account policy sluice (SUBSCRIPTION_FILTER_POLICY): put - no account policy yet"),
        "{text}"
    );
    assert!(
        text.contains(r#"selectionCriteria: LogGroupName NOT IN ["/test/a"] (1 names, 31 of 25600 bytes)"#),
        "{text}"
    );
    assert!(
        text.contains(&format!(r#"policyDocument: {{"DestinationArn":"{FORWARDER}""#)),
        "{text}"
    );
}

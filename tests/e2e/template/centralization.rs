//! A central account (issue 27): the filter options reach the subscriber when set and are left
//! out when not, and `CentralizationRuleName` creates the organization's centralization rule into
//! this account and region; cfn-lint accepts the template either way.

use std::process::Command;

use serde_json::{Value, json};

use super::resolve::{ACCOUNT, REGION, Stack};
use super::s3_sources::{ENDPOINT, created, deploy};
use super::{offline, run_ok, template, venv_tool};

fn subscriber_environment(stack: &Stack) -> Value {
    created(stack, "Subscriber")["Properties"]["Environment"]["Variables"].clone()
}

#[test]
fn the_filter_options_reach_the_subscriber_when_set_and_are_left_out_when_not() {
    let settings = [
        (
            "EmitSystemFields",
            "EMIT_SYSTEM_FIELDS",
            "@aws.account, @aws.region,@source.log",
        ),
        (
            "FieldSelectionCriteria",
            "FIELD_SELECTION_CRITERIA",
            r#"@aws.region NOT IN ["cn-north-1"]"#,
        ),
        ("ApplyOnTransformedLogs", "APPLY_ON_TRANSFORMED_LOGS", "true"),
    ];
    let overrides: Vec<(&str, &str)> = (settings.iter())
        .map(|(parameter, _, value)| (*parameter, *value))
        .chain([ENDPOINT])
        .collect();
    let environment = subscriber_environment(&deploy(&overrides));
    for (parameter, variable, value) in settings {
        assert_eq!(environment[variable], value, "{parameter} sets {variable}");
    }
    let unset = subscriber_environment(&deploy(&[ENDPOINT]));
    assert!(unset.get("EMIT_SYSTEM_FIELDS").is_none(), "{unset}");
    assert!(unset.get("FIELD_SELECTION_CRITERIA").is_none(), "{unset}");
    assert_eq!(unset["APPLY_ON_TRANSFORMED_LOGS"], "false");
}

#[test]
fn system_fields_other_than_the_three_are_refused_by_the_parameter() {
    for bad in ["@aws.partition", "@aws.account;@aws.region", "aws.account"] {
        let refused = Stack::deploy(&[ENDPOINT, ("EmitSystemFields", bad)]);
        assert!(refused.is_err(), "{bad} is accepted");
    }
}

#[test]
fn the_centralization_rule_is_created_only_when_named_and_copies_into_this_account() {
    let without = deploy(&[ENDPOINT]);
    assert_eq!(without.resource("CentralizationRule"), None);
    assert_eq!(without.output("CentralizationRuleArn"), None);

    let stack = deploy(&[ENDPOINT, ("CentralizationRuleName", "org-logs")]);
    let rule = created(&stack, "CentralizationRule")["Properties"].clone();
    assert_eq!(
        rule,
        json!({"RuleName": "org-logs", "Rule": {
            "Source": {"Regions": [REGION],
                       "SourceLogsConfiguration": {"EncryptedLogGroupStrategy": "SKIP"}},
            "Destination": {"Account": ACCOUNT, "Region": REGION}}})
    );

    let scoped = deploy(&[
        ENDPOINT,
        ("CentralizationRuleName", "org-logs"),
        ("CentralizationSourceRegions", "eu-west-1, us-east-1"),
        ("CentralizationScope", "OrganizationUnitId = 'ou-abcd-12345678'"),
        (
            "CentralizationLogGroupSelection",
            "LogGroupName LIKE '/aws/lambda%'",
        ),
        ("CentralizationEncryptedLogGroups", "ALLOW"),
    ]);
    let source = created(&scoped, "CentralizationRule")["Properties"]["Rule"]["Source"].clone();
    assert_eq!(
        source,
        json!({"Regions": ["eu-west-1", "us-east-1"],
               "Scope": "OrganizationUnitId = 'ou-abcd-12345678'",
               "SourceLogsConfiguration": {
                   "LogGroupSelectionCriteria": "LogGroupName LIKE '/aws/lambda%'",
                   "EncryptedLogGroupStrategy": "ALLOW"}})
    );
}

/// cfn-lint checks every branch of the conditions whatever the values, but it does check each
/// default against its parameter's pattern and the resource schemas: so the template is linted
/// again with the central account's values as defaults, by cfn-lint and by `sam validate --lint`.
#[test]
fn cfn_lint_and_sam_accept_the_template_with_the_central_accounts_values() {
    let values = [
        ("CentralizationRuleName", json!("org-logs")),
        ("CentralizationSourceRegions", json!("eu-west-1,us-east-1")),
        (
            "CentralizationScope",
            json!("OrganizationUnitId = 'ou-abcd-12345678'"),
        ),
        (
            "CentralizationLogGroupSelection",
            json!("LogGroupName LIKE '/aws/lambda%'"),
        ),
        ("CentralizationEncryptedLogGroups", json!("ALLOW")),
        ("EmitSystemFields", json!("@aws.account,@aws.region,@source.log")),
        ("FieldSelectionCriteria", json!("@aws.region = \"eu-west-1\"")),
        ("ApplyOnTransformedLogs", json!("true")),
    ];
    let mut central = template().clone();
    for (parameter, value) in values {
        central["Parameters"][parameter]["Default"] = value;
    }
    let dir = std::env::temp_dir().join(format!("sluice-central-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("template.json");
    std::fs::write(&path, central.to_string()).expect("write the template");
    run_ok(
        "cfn-lint (central account's values)",
        offline(&mut Command::new(venv_tool("cfn-lint"))).arg(&path),
    );
    let output = run_ok(
        "sam validate --lint (central account's values)",
        offline(&mut Command::new(venv_tool("sam")))
            .args(["validate", "--lint", "--region", "us-east-1", "--template"])
            .arg(&path),
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("is a valid SAM Template"));
    let _ = std::fs::remove_dir_all(&dir);
}

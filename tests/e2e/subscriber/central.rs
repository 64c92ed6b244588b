//! A central account's subscriber (issue 27): the system fields, field selection criteria and
//! transformed-logs choice on every filter Sluice writes, against an in-test CloudWatch Logs
//! that checks each PutSubscriptionFilter body against the API Reference ([`super::logs_api`]).

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use sluice_subscriber::aws::Logs;
use sluice_subscriber::config::RawConfig;
use sluice_subscriber::plan::{Action, Mode, Plan, Run};
use sluice_subscriber::sweep::Sweeper;

use super::failures::logs_client;
use super::logs_api::{self, Account, Group};

const FORWARDER: &str = "arn:aws:lambda:us-east-1:999999999999:function:sluice-forwarder";
const LEGACY: &str = "arn:aws:lambda:us-east-1:999999999999:function:legacy-shipper";
const FIELDS: &str = "@aws.account,@aws.region,@source.log";

/// Four groups: two bare, one with a foreign filter that emits a system field of its own, one
/// with Sluice's filter as an earlier version wrote it (no options).
fn account() -> Account {
    let filter = |name: &str, destination: &str| json!({"filterName": name, "destinationArn": destination, "filterPattern": ""});
    let mut foreign = filter("legacy", LEGACY);
    foreign["emitSystemFields"] = json!(["@aws.region"]);
    let groups = [
        ("/central/a", vec![]),
        ("/central/b", vec![]),
        ("/central/c", vec![foreign]),
        ("/central/d", vec![filter("sluice", FORWARDER)]),
    ];
    Account {
        groups: groups
            .into_iter()
            .map(|(name, filters)| {
                let group = Group {
                    filters,
                    transformer: name == "/central/a",
                };
                (name.to_string(), group)
            })
            .collect(),
        ..Account::default()
    }
}

async fn pass(url: &str, pairs: &[(&str, &str)], run: Run) -> Plan {
    let mut all = vec![("DESTINATION_ARN", FORWARDER)];
    all.extend_from_slice(pairs);
    let config = RawConfig::from_pairs(&all).validate().expect("valid config");
    Sweeper::new(Logs::new(logs_client(url), 1000.0), config)
        .plan(Mode::Subscribe, run, &mut |_| {})
        .await
        .expect("sweep")
}

fn actions(plan: &Plan) -> Vec<(&str, Action)> {
    plan.groups
        .iter()
        .map(|g| (g.log_group.as_str(), g.action))
        .collect()
}

/// Takes the PutSubscriptionFilter bodies accepted since the last call, by group.
fn puts(account: &Mutex<Account>) -> Vec<(String, Value)> {
    let mut account = account.lock().expect("account");
    assert_eq!(account.refused, [], "every body is as the API Reference says");
    std::mem::take(&mut account.puts)
        .into_iter()
        .map(|put| (put["logGroupName"].as_str().unwrap_or_default().to_string(), put))
        .collect()
}

#[tokio::test]
async fn system_fields_go_on_every_sluice_filter_once_and_a_changed_setting_updates_each_once() {
    let account = Arc::new(Mutex::new(account()));
    let url = logs_api::serve(Arc::clone(&account)).await;
    let settings = [("EMIT_SYSTEM_FIELDS", FIELDS)];

    let dry = pass(&url, &settings, Run::DryRun).await;
    assert_eq!(
        actions(&dry),
        [
            ("/central/a", Action::Subscribe),
            ("/central/b", Action::Subscribe),
            ("/central/c", Action::Subscribe),
            ("/central/d", Action::Update),
        ]
    );
    let shown = dry.to_string();
    assert!(
        shown.contains("emitSystemFields (none → @aws.account,@aws.region,@source.log)"),
        "{shown}"
    );
    assert_eq!(puts(&account), []);

    pass(&url, &settings, Run::Apply).await;
    let written = puts(&account);
    let groups: Vec<&str> = written.iter().map(|(group, _)| group.as_str()).collect();
    assert_eq!(groups, ["/central/a", "/central/b", "/central/c", "/central/d"]);
    for (group, put) in &written {
        assert_eq!(put["filterName"], "sluice", "{group}");
        assert_eq!(
            put["emitSystemFields"],
            json!(["@aws.account", "@aws.region", "@source.log"]),
            "{group}"
        );
        assert!(put.get("applyOnTransformedLogs").is_none(), "{group}: {put}");
    }
    let foreign = account.lock().expect("account").groups["/central/c"].filters[0].clone();
    assert_eq!(foreign["filterName"], "legacy");
    assert_eq!(
        foreign["emitSystemFields"],
        json!(["@aws.region"]),
        "a foreign filter is left alone"
    );

    let again = pass(&url, &settings, Run::Apply).await;
    assert_eq!(puts(&account), [], "a second backfill writes nothing");
    assert_eq!(again.totals.unchanged, 4);

    let criteria = r#"@aws.region NOT IN ["cn-north-1"]"#;
    let changed = [
        ("EMIT_SYSTEM_FIELDS", FIELDS),
        ("FIELD_SELECTION_CRITERIA", criteria),
    ];
    let plan = pass(&url, &changed, Run::Apply).await;
    assert_eq!(plan.totals.update, 4);
    let written = puts(&account);
    assert_eq!(written.len(), 4, "one write per Sluice filter");
    assert!(
        written
            .iter()
            .all(|(_, put)| put["fieldSelectionCriteria"] == criteria)
    );
    pass(&url, &changed, Run::Apply).await;
    assert_eq!(puts(&account), [], "and then nothing");
}

/// `APPLY_ON_TRANSFORMED_LOGS=true` where a selected group has no transformer: CloudWatch Logs
/// takes the parameter only on a group with one, so that group's write fails (and is reported)
/// while the group with a transformer gets it.
#[tokio::test]
async fn transformed_logs_are_asked_for_on_every_group_and_refused_where_there_is_no_transformer() {
    let account = Arc::new(Mutex::new(account()));
    let url = logs_api::serve(Arc::clone(&account)).await;
    let plan = pass(
        &url,
        &[
            ("INCLUDE_PATTERNS", "/central/a,/central/b"),
            ("APPLY_ON_TRANSFORMED_LOGS", "true"),
        ],
        Run::Apply,
    )
    .await;
    let failed: Vec<&str> = (plan.groups.iter())
        .filter(|g| g.error.is_some())
        .map(|g| g.log_group.as_str())
        .collect();
    assert_eq!(failed, ["/central/b"]);
    let mut account = account.lock().expect("account");
    let refused = std::mem::take(&mut account.refused);
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(refused[0].1.contains("no transformer"), "{}", refused[0].1);
    assert_eq!(account.puts.len(), 1);
    assert_eq!(account.puts[0]["logGroupName"], "/central/a");
    assert_eq!(account.puts[0]["applyOnTransformedLogs"], true);
}

/// A bad value stops the command line before its first call, naming the setting.
#[tokio::test]
async fn a_bad_value_is_refused_at_start_up_with_the_setting_named() {
    use sluice_subscriber::cli::{self, Cli, SdkConfig};
    let account = Arc::new(Mutex::new(account()));
    let url = logs_api::serve(Arc::clone(&account)).await;
    let base = SdkConfig::builder()
        .behavior_version(aws_sdk_cloudwatchlogs::config::BehaviorVersion::latest())
        .endpoint_url(&url)
        .region(aws_sdk_cloudwatchlogs::config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(
            aws_credential_types::Credentials::new("testing", "testing", None, None, "tests"),
        ))
        .build();
    let cases = [
        (
            "--emit-system-fields",
            "@aws.account,@aws.partition",
            "EMIT_SYSTEM_FIELDS",
        ),
        (
            "--field-selection-criteria",
            &"@aws.region = \"x\" OR ".repeat(100),
            "FIELD_SELECTION_CRITERIA",
        ),
        ("--apply-on-transformed-logs", "yes", "APPLY_ON_TRANSFORMED_LOGS"),
    ];
    for (flag, value, setting) in cases {
        let argv = [
            "sluice-subscriber",
            "backfill",
            "--dry-run",
            "--destination-arn",
            FORWARDER,
            flag,
            value,
        ];
        let cli = Cli::try_from_args(argv).unwrap_or_else(|err| panic!("{argv:?}: {err}"));
        let mut out = Vec::new();
        let err = cli::run(cli, base.clone(), &mut out, None)
            .await
            .expect_err("refused");
        assert!(format!("{err:#}").contains(setting), "{flag}: {err:#}");
    }
    let account = account.lock().expect("account");
    assert!(account.puts.is_empty() && account.refused.is_empty());
}

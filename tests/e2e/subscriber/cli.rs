//! The command line as a person types it (`sluice_subscriber::cli`, the code behind
//! `sluice-subscriber`), against moto or a stand-in that never answers: where it runs and what it
//! waits for, how fast it gives up on an endpoint that is not there, what `unsubscribe` takes,
//! and that it plans the subscriber's own log group as the function does.

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{Value, json};
use sluice_harness::Moto;
use sluice_subscriber::aws::Logs;
use sluice_subscriber::cli::{self, Cli, SdkConfig};
use sluice_subscriber::handler::Handler;
use sluice_subscriber::plan::Action;
use sluice_subscriber::sweep::Sweeper;
use tokio::time::Instant;

use super::config;
use super::failures::{Answer, StandIn};

/// What one command printed: the plan on stdout, the status lines a terminal would show, and
/// the error (as `main` prints it) or whether every group succeeded.
struct Ran {
    out: String,
    status: String,
    result: Result<bool, String>,
}

async fn run(args: &[&str], base: SdkConfig) -> Ran {
    let mut argv = vec!["sluice-subscriber"];
    argv.extend_from_slice(args);
    let cli = Cli::try_from_args(&argv).unwrap_or_else(|err| panic!("{argv:?}: {err}"));
    let mut out = Vec::new();
    let mut status = Vec::new();
    let terminal: &mut (dyn std::io::Write + Send) = &mut status;
    let result = cli::run(cli, base, &mut out, Some(terminal))
        .await
        .map_err(|err| format!("{err:#}"));
    Ran {
        out: String::from_utf8(out).expect("utf-8 plan"),
        status: String::from_utf8(status).expect("utf-8 status"),
        result,
    }
}

/// The AWS settings of a machine pointed at `url` with no region configured.
fn without_region(url: &str) -> SdkConfig {
    let moto_like = SdkConfig::builder()
        .behavior_version(aws_sdk_cloudwatchlogs::config::BehaviorVersion::latest())
        .endpoint_url(url)
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(
            aws_credential_types::Credentials::new("testing", "testing", None, None, "tests"),
        ))
        .build();
    assert!(moto_like.region().is_none());
    moto_like
}

async fn create_groups(moto: &Moto, names: &[&str]) {
    let logs = moto.logs_client();
    for name in names {
        logs.create_log_group()
            .log_group_name(*name)
            .send()
            .await
            .expect("create group");
    }
}

#[tokio::test]
async fn against_an_endpoint_that_hangs_up_the_command_says_where_and_gives_up_after_one_try() {
    let server = StandIn::start(Answer::Hangup).await;
    let ran = run(
        &[
            "backfill",
            "--dry-run",
            "--destination-arn",
            "arn:aws:lambda:eu-west-3:123456789012:function:sluice-forwarder",
        ],
        without_region(&server.url),
    )
    .await;
    let err = ran.result.expect_err("nobody answers");
    let expected_where = format!(
        "CloudWatch Logs in eu-west-3 (from the region of DESTINATION_ARN) at {}",
        server.url
    );
    assert!(
        ran.status.starts_with(&format!("connecting to {expected_where}")),
        "the terminal hears what the command waits for: {:?}",
        ran.status
    );
    assert!(
        err.starts_with(&format!("cannot use {expected_where}: ")),
        "{err}"
    );
    assert!(err.contains("got no answer"), "{err}");
    assert!(
        !err.contains('\n') && !err.contains("DispatchFailure(") && !err.contains("ConnectorError {"),
        "one line, no debug dump: {err}"
    );
    assert_eq!(
        server.connections.load(Ordering::SeqCst),
        1,
        "a connection that fails is not retried on the command line"
    );
    assert_eq!(ran.out, "", "no plan is printed");

    // A port nobody listens on: refused, said in one line, at once.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", listener.local_addr().expect("address"))
    };
    let ran = run(
        &["unsubscribe", "--dry-run", "--region", "us-east-1"],
        without_region(&closed),
    )
    .await;
    let err = ran.result.expect_err("refused");
    assert!(err.contains("Connection refused"), "{err}");
    assert!(err.contains("in us-east-1 (from --region)"), "{err}");
}

#[tokio::test]
async fn a_denied_call_prints_the_code_and_the_message_in_one_line() {
    let server = StandIn::start(Answer::Denied).await;
    let ran = run(
        &[
            "backfill",
            "--dry-run",
            "--destination-arn",
            super::failures::FORWARDER,
        ],
        without_region(&server.url),
    )
    .await;
    let err = ran.result.expect_err("denied");
    assert!(
        err.ends_with(&format!(
            "CloudWatch Logs DescribeLogGroups failed: AccessDeniedException: {}",
            super::failures::DENIED
        )),
        "{err}"
    );
    assert!(err.len() < 500, "{} characters: {err}", err.len());
}

#[tokio::test]
async fn without_any_region_the_command_says_how_to_give_one() {
    let ran = run(
        &["unsubscribe", "--dry-run"],
        without_region("http://127.0.0.1:9"),
    )
    .await;
    let err = ran.result.expect_err("no region");
    assert!(err.contains("no AWS region: pass --region"), "{err}");
}

#[tokio::test]
async fn unsubscribe_needs_no_destination_takes_no_rules_and_removes_every_sluice_filter() {
    let moto = Moto::start();
    let forwarder = moto
        .create_lambda_function("sluice-forwarder")
        .await
        .expect("forwarder");
    let groups = ["/aws/lambda/app", "/ecs/web", "/test/scratch"];
    create_groups(&moto, &groups).await;
    for group in groups {
        moto.logs_client()
            .put_subscription_filter()
            .log_group_name(group)
            .filter_name("sluice")
            .filter_pattern("")
            .destination_arn(&forwarder)
            .send()
            .await
            .expect("put filter");
    }

    // The rules are not offered: a person who passes them learns it at once.
    let refused = Cli::try_from_args(["sluice-subscriber", "unsubscribe", "--include-patterns", "/ecs/*"])
        .expect_err("unsubscribe takes no patterns");
    assert!(refused.to_string().contains("--include-patterns"), "{refused}");

    let ran = run(&["unsubscribe", "--output", "json"], moto.sdk_config()).await;
    assert_eq!(ran.result, Ok(true), "{}", ran.status);
    let plan: Value = serde_json::from_str(&ran.out).expect("JSON plan");
    let removed: Vec<&str> = plan["groups"]
        .as_array()
        .expect("rows")
        .iter()
        .filter(|row| row["action"] == "remove")
        .filter_map(|row| row["log_group"].as_str())
        .collect();
    assert_eq!(removed, groups);
    for group in groups {
        let left = moto
            .logs_client()
            .describe_subscription_filters()
            .log_group_name(group)
            .send()
            .await
            .expect("filters");
        assert!(left.subscription_filters().is_empty(), "{group}");
    }
}

#[tokio::test]
async fn the_command_line_plans_the_subscribers_own_group_as_the_function_does_once_told_its_name() {
    let moto = Moto::start();
    let forwarder = moto
        .create_lambda_function("sluice-forwarder")
        .await
        .expect("forwarder");
    let own = "/aws/lambda/sluice-Subscriber-1";
    create_groups(&moto, &[own, "/aws/lambda/app", "/aws/lambda/sluice-forwarder"]).await;
    let backfill = [
        "backfill",
        "--dry-run",
        "--output",
        "json",
        "--destination-arn",
        forwarder.as_str(),
    ];
    let row = |plan: &Value, group: &str| -> (String, String) {
        let row = plan["groups"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|row| row["log_group"] == group)
            .unwrap_or_else(|| panic!("no row for {group}: {plan}"))
            .clone();
        (
            row["action"].as_str().unwrap_or_default().to_string(),
            row["reason"].as_str().unwrap_or_default().to_string(),
        )
    };

    // Not told: the rules decide, and the plan says what it does not know.
    let unnamed = run(&backfill, moto.sdk_config()).await;
    assert_eq!(unnamed.result, Ok(true));
    let plan: Value = serde_json::from_str(&unnamed.out).expect("JSON plan");
    assert_eq!(row(&plan, own).0, "subscribe");
    assert!(
        plan["notes"].to_string().contains("set SUBSCRIBER_FUNCTION_NAME"),
        "{}",
        plan["notes"]
    );

    // Told: excluded, with the setting that named it, in the row and in the notes.
    let mut named_args = backfill.to_vec();
    named_args.extend(["--subscriber-function-name", "sluice-Subscriber-1"]);
    let named = run(&named_args, moto.sdk_config()).await;
    let plan: Value = serde_json::from_str(&named.out).expect("JSON plan");
    let (action, reason) = row(&plan, own);
    assert_eq!(action, Action::Excluded.as_str());
    assert!(
        reason.contains("the subscriber's own log group") && reason.contains("SUBSCRIBER_FUNCTION_NAME"),
        "{reason}"
    );
    assert!(plan["notes"].to_string().contains(own), "{}", plan["notes"]);

    // The function's own dry run plans the same totals.
    let mut handler = Handler::new(
        Sweeper::new(
            Logs::new(moto.logs_client(), 1000.0),
            config(&[
                ("DESTINATION_ARN", &forwarder),
                ("AWS_LAMBDA_FUNCTION_NAME", "sluice-Subscriber-1"),
            ]),
        ),
        moto.lambda_client(),
        "sluice-Subscriber-1".into(),
    );
    handler.metrics = Box::new(sluice_subscriber::metrics::Discard);
    let lambda = handler
        .handle(
            json!({"action": "sweep", "dry_run": true}),
            Instant::now() + Duration::from_secs(900),
        )
        .await
        .expect("dry run");
    assert_eq!(lambda["totals"], plan["totals"], "{lambda}");
}

#[tokio::test]
async fn the_region_of_the_destination_is_used_when_none_is_configured_and_the_flag_wins() {
    let moto = Moto::start();
    create_groups(&moto, &["/aws/lambda/app"]).await;
    let destination = "arn:aws:lambda:us-east-1:123456789012:function:sluice-forwarder";
    let ran = run(
        &["backfill", "--dry-run", "--destination-arn", destination],
        without_region(moto.url()),
    )
    .await;
    assert_eq!(ran.result, Ok(true), "{}", ran.status);
    assert!(
        ran.status
            .contains("in us-east-1 (from the region of DESTINATION_ARN)"),
        "{}",
        ran.status
    );
    assert!(ran.out.contains("/aws/lambda/app"), "{}", ran.out);

    // moto keeps each region apart: another region has no groups.
    let elsewhere = run(
        &[
            "backfill",
            "--dry-run",
            "--destination-arn",
            destination,
            "--region",
            "eu-west-3",
        ],
        without_region(moto.url()),
    )
    .await;
    assert!(
        elsewhere.status.contains("in eu-west-3 (from --region)"),
        "{}",
        elsewhere.status
    );
    assert!(!elsewhere.out.contains("/aws/lambda/app"), "{}", elsewhere.out);
}

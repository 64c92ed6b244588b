//! `MAX_FILTERS_PER_GROUP` against moto, which, like CloudWatch Logs with the default quota,
//! refuses a third filter on a group with `LimitExceededException`.

use std::time::Duration;

use aws_sdk_cloudwatchlogs::config::retry::RetryConfig;
use sluice_harness::Moto;
use sluice_subscriber::aws::{Logs, MAX_ATTEMPTS};
use sluice_subscriber::plan::{Action, Mode};
use sluice_subscriber::sweep::Sweeper;

use super::{calls, config, filters, pass};

/// Three groups whose two slots other tools hold, and one with a free slot.
async fn account(moto: &Moto) -> (String, String, Vec<String>) {
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
    for name in ["/ecs/full-0", "/ecs/full-1", "/ecs/full-2", "/ecs/free"] {
        logs.create_log_group()
            .log_group_name(name)
            .send()
            .await
            .expect("create group");
        let foreign: &[&str] = if name.contains("full") {
            &["audit", "siem"]
        } else {
            &[]
        };
        for filter in foreign {
            logs.put_subscription_filter()
                .log_group_name(name)
                .filter_name(*filter)
                .filter_pattern("")
                .destination_arn(&other)
                .send()
                .await
                .expect("foreign filter");
        }
        groups.push(name.to_string());
    }
    (forwarder, other, groups)
}

/// The subscriber's client settings: eight attempts, so a retried refusal would show.
fn sweeper(moto: &Moto, config: sluice_subscriber::config::Config) -> Sweeper {
    let client_config = moto
        .logs_client()
        .config()
        .to_builder()
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(MAX_ATTEMPTS)
                .with_initial_backoff(Duration::from_millis(1)),
        )
        .build();
    let client = aws_sdk_cloudwatchlogs::Client::from_conf(client_config);
    Sweeper::new(Logs::new(client, 1000.0), config)
}

#[tokio::test]
async fn a_limit_set_too_high_ends_in_counted_conflicts_refused_once_each() {
    let moto = Moto::start();
    let (forwarder, other, groups) = account(&moto).await;
    let config = config(&[
        ("DESTINATION_ARN", &forwarder),
        ("MAX_FILTERS_PER_GROUP", "3"),
        ("RETENTION_DAYS", "30"),
    ]);
    let sweeper = sweeper(&moto, config);

    // The plan believes the setting: a third slot is free.
    let planned = pass(&sweeper, Mode::Subscribe, true).await;
    assert_eq!(planned.totals.subscribe, 4, "{planned}");

    moto.reset_recording().await.expect("reset");
    let applied = pass(&sweeper, Mode::Subscribe, false).await;
    assert_eq!(applied.totals.conflict, 3, "{applied}");
    assert_eq!(applied.totals.subscribe, 1, "{applied}");
    assert_eq!(
        applied.totals.errors, 0,
        "a refusal is not a failure of the pass: {applied}"
    );
    assert_eq!(
        applied.totals.retention_set, 4,
        "retention is set all the same: {applied}"
    );
    for row in applied.groups.iter().filter(|row| row.log_group.contains("full")) {
        assert_eq!(row.action, Action::Conflict, "{applied}");
        assert!(
            row.reason.contains("LimitExceededException") && row.reason.contains("MAX_FILTERS_PER_GROUP=3"),
            "{}",
            row.reason
        );
    }
    let text = applied.to_string();
    assert!(text.contains("3 conflict"), "{text}");
    let puts = calls(&moto, "PutSubscriptionFilter").await;
    assert_eq!(
        puts, 4,
        "one PutSubscriptionFilter per group: a refusal is never retried"
    );

    let now = filters(&moto, &groups).await;
    assert_eq!(now["/ecs/free"], [("sluice".to_string(), forwarder.clone())]);
    for group in groups.iter().filter(|group| group.contains("full")) {
        assert_eq!(
            now[group],
            [
                ("audit".to_string(), other.clone()),
                ("siem".to_string(), other.clone())
            ],
            "{group}"
        );
    }
}

#[tokio::test]
async fn the_default_limit_of_two_plans_the_conflict_without_a_write() {
    let moto = Moto::start();
    let (forwarder, _, _) = account(&moto).await;
    let sweeper = sweeper(&moto, config(&[("DESTINATION_ARN", &forwarder)]));
    moto.reset_recording().await.expect("reset");
    let applied = pass(&sweeper, Mode::Subscribe, false).await;
    assert_eq!(
        (applied.totals.conflict, applied.totals.subscribe),
        (3, 1),
        "{applied}"
    );
    let row = applied
        .groups
        .iter()
        .find(|row| row.log_group == "/ecs/full-0")
        .expect("row");
    assert_eq!(
        row.reason,
        "all 2 filter slots (MAX_FILTERS_PER_GROUP) are taken by audit, siem"
    );
    let puts = calls(&moto, "PutSubscriptionFilter").await;
    assert_eq!(puts, 1, "only the group with a free slot is written");
}

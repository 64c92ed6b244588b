//! The subscriber's half of the demo: the backfill plan, applying it, a second pass that writes
//! nothing, and a CloudTrail CreateLogGroup event through the subscriber's Lambda handler.

use std::time::Duration;

use anyhow::{Context, ensure};
use serde_json::Value;
use sluice_harness::Moto;
use sluice_subscriber::aws::Logs;
use sluice_subscriber::config::{Config, RawConfig};
use sluice_subscriber::handler::Handler;
use sluice_subscriber::plan::{Mode, Plan, Run};
use sluice_subscriber::sweep::Sweeper;

use crate::account;

/// The settings the demo's stack would have, as environment variables.
pub fn config(forwarder_arn: &str) -> anyhow::Result<Config> {
    RawConfig::from_pairs(&[
        ("DESTINATION_ARN", forwarder_arn),
        ("EXCLUDE_PATTERNS", account::EXCLUDED),
        ("RETENTION_DAYS", "30"),
        ("AWS_LAMBDA_FUNCTION_NAME", account::SUBSCRIBER),
    ])
    .validate()
    .context("subscriber settings")
}

fn sweeper(moto: &Moto, config: Config) -> Sweeper {
    // moto has no quota; a high rate keeps the demo quick while still going through the limiter.
    Sweeper::new(Logs::new(moto.logs_client(), 500.0), config)
}

/// One pass over the account, as `sluice-subscriber backfill [--dry-run]` runs it.
async fn pass(sweeper: &Sweeper, dry_run: bool) -> anyhow::Result<Plan> {
    Ok(sweeper
        .plan(Mode::Subscribe, Run::dry_run_if(dry_run), &mut |_| {})
        .await?)
}

const WRITES: [&str; 3] = [
    "PutSubscriptionFilter",
    "DeleteSubscriptionFilter",
    "PutRetentionPolicy",
];

async fn writes(moto: &Moto) -> anyhow::Result<usize> {
    let actions = moto.recorded_actions().await?;
    Ok(actions
        .iter()
        .filter(|action| WRITES.contains(&action.as_str()))
        .count())
}

/// The plan, the apply, and a second pass that must write nothing.
pub async fn backfill(moto: &Moto, config: &Config) -> anyhow::Result<()> {
    let sweeper = sweeper(moto, config.clone());
    let command = format!(
        "sluice-subscriber backfill --dry-run --destination-arn {} --exclude-patterns '{}' --retention-days 30",
        config.destination().map(|d| d.arn.as_str()).unwrap_or_default(),
        account::EXCLUDED
    );
    println!("  $ {command}\n");
    moto.reset_recording().await?;
    let plan = pass(&sweeper, true).await?;
    print!("{}", indent(&plan.to_string()));
    let written = writes(moto).await?;
    ensure!(written == 0, "the dry run made {written} write calls");
    println!("  write calls made by the dry run: 0");

    println!("\n  $ {}\n", command.replace(" --dry-run", ""));
    let applied = pass(&sweeper, false).await?;
    ensure!(applied.totals.errors == 0, "groups failed:\n{applied}");
    println!("  applied: {}", applied.totals);
    println!(
        "  write calls: {} (one per subscribe, one per retention set)",
        writes(moto).await?
    );

    moto.reset_recording().await?;
    let again = pass(&sweeper, false).await?;
    let written = writes(moto).await?;
    ensure!(
        written == 0,
        "a second pass over an unchanged account made {written} write calls"
    );
    println!(
        "  the same again: {} unchanged, {} write calls",
        again.totals.unchanged, written
    );
    Ok(())
}

/// A team deploys a new function; CloudTrail's CreateLogGroup event reaches the subscriber.
pub async fn created(moto: &Moto, config: &Config, log_group: &str) -> anyhow::Result<()> {
    let logs = moto.logs_client();
    logs.create_log_group()
        .log_group_name(log_group)
        .send()
        .await
        .with_context(|| format!("creating {log_group}"))?;
    let event = account::create_log_group_event(log_group)?;
    println!(
        "  EventBridge delivers CloudTrail's {} event for {log_group}",
        event["detail"]["eventName"].as_str().unwrap_or("?")
    );
    let mut handler = Handler::new(
        sweeper(moto, config.clone()),
        moto.lambda_client(),
        account::SUBSCRIBER.to_string(),
    );
    handler.metrics = Box::new(sluice_subscriber::metrics::Discard);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let answer: Value = handler
        .handle(event, deadline)
        .await
        .context("the subscriber's handler")?;
    println!(
        "  the subscriber's handler answered: {} ({})",
        answer["action"].as_str().unwrap_or("?"),
        answer["reason"].as_str().unwrap_or("?")
    );
    let filters = logs
        .describe_subscription_filters()
        .log_group_name(log_group)
        .send()
        .await?;
    let ours = filters
        .subscription_filters()
        .iter()
        .find(|filter| filter.filter_name() == Some("sluice"))
        .context("the new group has no Sluice filter")?;
    println!(
        "  {log_group} now sends to {}",
        ours.destination_arn().unwrap_or("?")
    );
    Ok(())
}

fn indent(text: &str) -> String {
    text.lines().map(|line| format!("  {line}\n")).collect()
}

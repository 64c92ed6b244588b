//! `sluice-subscriber`: the Lambda entry point (when `AWS_LAMBDA_RUNTIME_API` is set) and the
//! command-line tool (`backfill`, `unsubscribe`), which runs a whole pass with no deadline.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::Value;
use sluice_edge::LogFormat;
use sluice_subscriber::aws::{Logs, sdk_config};
use sluice_subscriber::config::RawConfig;
use sluice_subscriber::handler::Handler;
use sluice_subscriber::plan::{Mode, Plan};
use sluice_subscriber::sweep::Sweeper;

/// Subscribes CloudWatch Logs log groups to the Sluice forwarder.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Subscribes every selected log group (and sets retention), as the scheduled sweep does, and
    /// removes Sluice's filter from groups the rules no longer select.
    ///
    /// Prints one row per log group with its action and why:
    ///   subscribe    Sluice's filter is put: the group has none and a slot is free
    ///   update       Sluice's filter has another destination, pattern, distribution or role
    ///   unchanged    Sluice's filter is as configured
    ///   remove       the group carries Sluice's filter but the rules no longer select it
    ///   excluded     the rules leave the group alone (name patterns, Sluice's own groups)
    ///   conflict     filters that are not Sluice's take every slot (MAX_FILTERS_PER_GROUP), or
    ///                CloudWatch Logs refused the filter with LimitExceededException
    ///   unsupported  the group's class takes no subscription filter
    /// Filters that are not Sluice's (another FILTER_NAME) are never changed. Unlike the scheduled
    /// sweep, which looks at excluded groups only after the rules changed, a backfill looks at
    /// every group.
    ///
    /// With SUBSCRIPTION_SCOPE=account the plan has two steps: first the account policy (put,
    /// unchanged), printed with its policyDocument, its selectionCriteria
    /// `LogGroupName NOT IN [...]` (the groups the rules exclude, classes without subscriptions,
    /// Sluice's own groups) and its size against the 25 KB limit; a list over it is refused,
    /// naming how many names it holds. Then the groups: `unchanged` (covered by the policy) or
    /// `remove` (Sluice's own filter, which would deliver every event twice), retention as usual.
    #[command(verbatim_doc_comment)]
    Backfill {
        /// Print the plan and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// `text` (a table with totals) or `json`.
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
        #[command(flatten)]
        settings: RawConfig,
        /// Log level.
        #[arg(long, env = "LOG_LEVEL", default_value = "warn")]
        log_level: String,
    },
    /// Removes Sluice's own subscription filters (by `FILTER_NAME`) from every log group, and with
    /// SUBSCRIPTION_SCOPE=account then deletes Sluice's account policy (named `FILTER_NAME`).
    Unsubscribe {
        /// Print the plan and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// `text` (a table with totals) or `json`.
        #[arg(long, value_enum, default_value_t = Output::Text)]
        output: Output,
        #[command(flatten)]
        settings: RawConfig,
        /// Log level.
        #[arg(long, env = "LOG_LEVEL", default_value = "warn")]
        log_level: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Output {
    Text,
    Json,
}

fn main() -> ExitCode {
    let result = if sluice_edge::in_lambda() {
        run_lambda().map(|()| true)
    } else {
        run_cli(Cli::parse())
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(err) => {
            eprintln!("sluice-subscriber: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run_lambda() -> anyhow::Result<()> {
    let config = RawConfig::from_lookup(|name| std::env::var(name).ok()).validate()?;
    sluice_edge::init_tracing(
        &std::env::var("LOG_LEVEL").unwrap_or_else(|_| "info".into()),
        LogFormat::Json,
    );
    let function = config
        .own_function_name
        .clone()
        .context("AWS_LAMBDA_FUNCTION_NAME is not set (Lambda sets it)")?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let sdk = sdk_config().await;
        let logs = Logs::new(aws_sdk_cloudwatchlogs::Client::new(&sdk), config.api_rate_limit);
        let handler = Handler::new(
            Sweeper::new(logs, config),
            aws_sdk_lambda::Client::new(&sdk),
            function,
        );
        let handler = &handler;
        lambda_runtime::run(lambda_runtime::service_fn(
            move |event: lambda_runtime::LambdaEvent<Value>| async move {
                let deadline =
                    tokio::time::Instant::from_std(sluice_edge::deadline(event.context.deadline()));
                handler
                    .handle(event.payload, deadline)
                    .await
                    .map_err(|err| sluice_edge::diagnostic(&err))
            },
        ))
        .await
        .map_err(|err| anyhow::anyhow!("Lambda runtime: {err}"))
    })
}

/// Runs a whole pass; `Ok(false)` when any log group failed.
fn run_cli(cli: Cli) -> anyhow::Result<bool> {
    let (mode, dry_run, output, settings, log_level) = match cli.command {
        Command::Backfill {
            dry_run,
            output,
            settings,
            log_level,
        } => (Mode::Subscribe, dry_run, output, settings, log_level),
        Command::Unsubscribe {
            dry_run,
            output,
            settings,
            log_level,
        } => (Mode::Unsubscribe, dry_run, output, settings, log_level),
    };
    sluice_edge::init_tracing(&log_level, LogFormat::Terminal);
    let config = settings.validate()?;
    let runtime = tokio::runtime::Runtime::new()?;
    let plan = runtime.block_on(async {
        let sdk = sdk_config().await;
        let logs = Logs::new(aws_sdk_cloudwatchlogs::Client::new(&sdk), config.api_rate_limit);
        let sweeper = Sweeper::new(logs, config);
        let progress = std::io::stderr().is_terminal();
        let plan = sweeper
            .plan(mode, dry_run, &mut |plan: &Plan| {
                if progress {
                    let totals = &plan.totals;
                    eprint!(
                        "\r{} log groups, {} to change, {} failed",
                        totals.seen,
                        totals.subscribe + totals.update + totals.remove,
                        totals.errors
                    );
                }
            })
            .await?;
        if progress {
            eprintln!();
        }
        anyhow::Ok(plan)
    })?;
    let mut out = std::io::stdout().lock();
    match output {
        Output::Text => write!(out, "{plan}")?,
        Output::Json => writeln!(out, "{}", serde_json::to_string_pretty(&plan)?)?,
    }
    Ok(plan.totals.errors == 0)
}

//! `sluice-subscriber`: the Lambda entry point (when `AWS_LAMBDA_RUNTIME_API` is set) and the
//! command-line tool ([`sluice_subscriber::cli`]: `backfill`, `unsubscribe`), which runs a whole
//! pass with no deadline.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use sluice_edge::LogFormat;
use sluice_subscriber::aws::{Logs, sdk_config};
use sluice_subscriber::cli::{self, Cli};
use sluice_subscriber::config::RawConfig;
use sluice_subscriber::handler::Handler;
use sluice_subscriber::sweep::Sweeper;

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
    let config = RawConfig::from_lookup(|name| std::env::var(name).ok())
        .validate()
        .inspect_err(|err| sluice_edge::report_init_error(&format!("{err:#}")))?;
    sluice_edge::init_tracing(&config.log_level, LogFormat::Json);
    let function = config
        .own_function_name()
        .map(str::to_string)
        .context("AWS_LAMBDA_FUNCTION_NAME is not set (Lambda sets it)")
        .inspect_err(|err| sluice_edge::report_init_error(&format!("{err:#}")))?;
    sluice_edge::lambda::serve(
        async || {
            let sdk = sdk_config().await;
            let logs = Logs::new(aws_sdk_cloudwatchlogs::Client::new(&sdk), config.api_rate_limit);
            let lambda = aws_sdk_lambda::Client::new(&sdk);
            Ok::<_, std::convert::Infallible>(Handler::new(Sweeper::new(logs, config), lambda, function))
        },
        async |handler: &Handler, event, deadline| {
            handler
                .handle(event, tokio::time::Instant::from_std(deadline))
                .await
        },
    )
    .map_err(|err| anyhow::anyhow!("{err}"))
}

/// Runs a whole pass; `Ok(false)` when any log group failed.
fn run_cli(cli: Cli) -> anyhow::Result<bool> {
    sluice_edge::init_tracing(&cli.log_level()?, LogFormat::Terminal);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let base = sdk_config().await;
        let mut stderr = std::io::stderr();
        let status: Option<&mut (dyn std::io::Write + Send)> =
            std::io::stderr().is_terminal().then_some(&mut stderr);
        cli::run(cli, base, &mut std::io::stdout().lock(), status).await
    })
}

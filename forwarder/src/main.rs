//! `sluice-forwarder`: the Lambda entry point and the command-line tool.
//!
//! With `AWS_LAMBDA_RUNTIME_API` set (inside Lambda) it runs the Lambda runtime; otherwise it is
//! the CLI: `sluice-forwarder replay [--dry-run] [FILE...]`.

use std::io::{BufRead, BufReader, BufWriter};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Arg, ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};
use serde_json::Value;
use sluice_edge::LogFormat;
use sluice_forwarder::config::{Config, Purpose, SETTINGS};
use sluice_forwarder::handler::Forwarder;
use sluice_forwarder::replay;

/// Every event makes a handful of short-lived strings (documents, index names, ids): mimalloc
/// serves them faster than the system allocator (docs/benchmarks.md has the figures).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Ships CloudWatch Logs subscription batches into OpenSearch.
///
/// Every setting is read from the environment variable of the same name
/// (e.g. OPENSEARCH_ENDPOINT) or from the flag (e.g. --opensearch-endpoint), the flag winning.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sends Lambda events (CloudWatch Logs, Kinesis or on-failure records) again, from files
    /// or stdin: one JSON event per line, or one per file.
    Replay {
        /// Write the `_bulk` NDJSON that would be sent to stdout and send nothing.
        #[arg(long)]
        dry_run: bool,
        /// Files to read; stdin when none.
        files: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    if sluice_edge::in_lambda() {
        return match run_lambda() {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("{err:#}");
                ExitCode::FAILURE
            }
        };
    }
    let mut command = Cli::command();
    for setting in SETTINGS {
        command = command.arg(
            Arg::new(setting.env)
                .long(setting.flag)
                .value_name("VALUE")
                .help(setting.help)
                .global(true),
        );
    }
    let matches = command.get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(err) => err.exit(),
    };
    let settings = settings_matches(&matches);
    let lookup = |name: &str| {
        settings
            .try_get_one::<String>(name)
            .ok()
            .flatten()
            .cloned()
            .or_else(|| std::env::var(name).ok())
    };
    match cli.command {
        Command::Replay { dry_run, files } => match replay(lookup, dry_run, &files) {
            Ok(code) => code,
            Err(err) => {
                eprintln!("sluice-forwarder: {err:#}");
                ExitCode::from(2)
            }
        },
    }
}

/// The matches that hold the global setting flags (those of the subcommand).
fn settings_matches(matches: &ArgMatches) -> &ArgMatches {
    matches.subcommand().map_or(matches, |(_, sub)| sub)
}

fn run_lambda() -> anyhow::Result<()> {
    let config = Config::from_env(Purpose::Deliver)?;
    sluice_edge::init_tracing(&config.log_level, LogFormat::Json);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let function =
            std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "sluice-forwarder".into());
        let forwarder = Forwarder::new(config).await?.with_metrics(function);
        let forwarder = &forwarder;
        lambda_runtime::run(lambda_runtime::service_fn(
            move |event: lambda_runtime::LambdaEvent<Value>| async move {
                let deadline = sluice_edge::deadline(event.context.deadline());
                let handled = forwarder.handle(event.payload, deadline).await;
                handled
                    .map(|handled| handled.response)
                    .map_err(|err| sluice_edge::diagnostic(&err))
            },
        ))
        .await
        .map_err(|err| anyhow::anyhow!("Lambda runtime: {err}"))
    })
}

/// One replay: every event of every input, then one JSON summary line on stderr.
fn replay(
    lookup: impl Fn(&str) -> Option<String>,
    dry_run: bool,
    files: &[PathBuf],
) -> anyhow::Result<ExitCode> {
    let purpose = if dry_run {
        Purpose::DryRun
    } else {
        Purpose::Deliver
    };
    let config = Config::from_lookup(lookup, purpose)?;
    sluice_edge::init_tracing(&config.log_level, LogFormat::Terminal);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let forwarder = runtime.block_on(Forwarder::new(config))?;
    let mut sources: Vec<(String, Box<dyn BufRead>)> = Vec::new();
    for path in files {
        let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        sources.push((
            path.display().to_string(),
            Box::new(BufReader::with_capacity(1 << 16, file)),
        ));
    }
    if files.is_empty() {
        sources.push(("stdin".to_string(), Box::new(BufReader::new(std::io::stdin()))));
    }
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let total = runtime.block_on(replay::replay(
        &forwarder,
        sources,
        dry_run,
        &mut out,
        &mut std::io::stderr(),
    ))?;
    eprintln!("{}", serde_json::to_string(&total)?);
    Ok(if total.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_is_a_flag_of_replay() {
        let mut command = Cli::command();
        for setting in SETTINGS {
            command = command.arg(Arg::new(setting.env).long(setting.flag).global(true));
        }
        let matches = command
            .try_get_matches_from([
                "sluice-forwarder",
                "replay",
                "--dry-run",
                "--index-prefix",
                "app",
                "a.json",
            ])
            .unwrap();
        let sub = settings_matches(&matches);
        assert_eq!(
            sub.get_one::<String>("INDEX_PREFIX").map(String::as_str),
            Some("app")
        );
        let cli = Cli::from_arg_matches(&matches).unwrap();
        let Command::Replay { dry_run, files } = cli.command;
        assert!(dry_run);
        assert_eq!(files, [PathBuf::from("a.json")]);
    }
}

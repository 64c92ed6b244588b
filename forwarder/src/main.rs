//! `sluice-forwarder`: the Lambda entry point and the command-line tool.
//!
//! With `AWS_LAMBDA_RUNTIME_API` set (inside Lambda) it runs the Lambda runtime; otherwise it is
//! the CLI: `sluice-forwarder replay [--dry-run] [FILE...]`.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Arg, ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};
use serde_json::Value;
use sluice_forwarder::config::{Config, Purpose, SETTINGS};
use sluice_forwarder::deliver::Summary;
use sluice_forwarder::handler::{self, Forwarder};
use sluice_forwarder::input::Input;

/// How long a CLI replay keeps retrying one event (Lambda's own limit is 15 minutes).
const REPLAY_DEADLINE: Duration = Duration::from_secs(15 * 60);

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
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
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

fn init_tracing(level: &str, json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().with_current_span(false).without_time().init();
    } else {
        builder.init();
    }
}

fn run_lambda() -> anyhow::Result<()> {
    let config = Config::from_env(Purpose::Deliver)?;
    init_tracing(&config.log_level, true);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let function =
            std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "sluice-forwarder".into());
        let forwarder = Forwarder::new(config).await?.with_metrics(function);
        let forwarder = &forwarder;
        lambda_runtime::run(lambda_runtime::service_fn(
            move |event: lambda_runtime::LambdaEvent<Value>| async move {
                let deadline = handler::deadline_instant(event.context.deadline());
                let handled = forwarder.handle(event.payload, deadline).await;
                match handled {
                    Ok(handled) => Ok(handled.response),
                    Err(err) => {
                        tracing::error!(error_type = err.error_type(), error = %err, "invocation failed");
                        Err(err)
                    }
                }
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
    init_tracing(&config.log_level, false);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let forwarder = runtime.block_on(Forwarder::new(config))?;
    let mut total = Summary::default();
    let mut malformed = 0u64;
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());

    let sources: Vec<(String, Box<dyn BufRead>)> = if files.is_empty() {
        vec![("stdin".to_string(), Box::new(BufReader::new(std::io::stdin())))]
    } else {
        let mut sources: Vec<(String, Box<dyn BufRead>)> = Vec::new();
        for path in files {
            let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
            sources.push((
                path.display().to_string(),
                Box::new(BufReader::with_capacity(1 << 16, file)),
            ));
        }
        sources
    };
    for (name, reader) in sources {
        for (line, value) in events(reader) {
            let what = format!("{name} line {line}");
            let result = value
                .map_err(|err| anyhow::anyhow!("{what} is not JSON: {err}"))
                .and_then(|value| Input::from_value(value, &what).map_err(anyhow::Error::from))
                .and_then(|input| forwarder.prepare(input, &what).map_err(anyhow::Error::from));
            let prepared = match result {
                Ok(prepared) => prepared,
                Err(err) => {
                    eprintln!("sluice-forwarder: {err:#}");
                    malformed += 1;
                    continue;
                }
            };
            if dry_run {
                total.add(&prepared.summary);
                handler::write_dry_run(&prepared, &mut out).context("writing the bulk NDJSON to stdout")?;
                continue;
            }
            let deadline = Instant::now() + REPLAY_DEADLINE;
            match runtime.block_on(forwarder.deliver(prepared, deadline)) {
                Ok(handled) => total.add(&handled.summary),
                Err(handler::HandlerError::Undelivered { summary, reason }) => {
                    eprintln!(
                        "sluice-forwarder: {what}: {} events not delivered: {reason}",
                        summary.failed
                    );
                    total.add(&summary);
                }
                Err(err) => return Err(err.into()),
            }
        }
    }
    out.flush().context("writing to stdout")?;
    let mut line = serde_json::to_value(total)?;
    line["malformed"] = malformed.into();
    line["dry_run"] = dry_run.into();
    eprintln!("{line}");
    Ok(if total.failed > 0 || malformed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The JSON documents of a stream with the line each starts on: one per line (NDJSON), or
/// documents spread over several lines (pretty-printed). A line that starts no valid document is
/// reported with its number and the lines after it are read again, so one bad line loses no other.
fn events(reader: impl BufRead) -> impl Iterator<Item = (usize, Result<Value, serde_json::Error>)> {
    use std::collections::VecDeque;
    let mut lines = reader.lines();
    let mut number = 0;
    // Lines to read (again) before the stream's next one.
    let mut again: VecDeque<(usize, String)> = VecDeque::new();
    // The lines of the document being read.
    let mut pending: Vec<(usize, String)> = Vec::new();
    let mut done = false;
    std::iter::from_fn(move || {
        loop {
            let next = match again.pop_front() {
                Some(line) => Some(line),
                None if done => None,
                None => match lines.next() {
                    Some(Ok(line)) => {
                        number += 1;
                        Some((number, line))
                    }
                    Some(Err(err)) => {
                        done = true;
                        return Some((number + 1, Err(serde_json::Error::io(err))));
                    }
                    None => {
                        done = true;
                        None
                    }
                },
            };
            let Some((at, line)) = next else {
                if pending.is_empty() {
                    return None;
                }
                // A document cut off by the end of the stream.
                let text = joined(&pending);
                return Some(give_up(&mut pending, &mut again, serde_json::from_str(&text)));
            };
            if pending.is_empty() && line.trim().is_empty() {
                continue;
            }
            pending.push((at, line));
            match serde_json::from_str::<Value>(&joined(&pending)) {
                Err(err) if err.is_eof() => continue,
                Ok(value) => {
                    let start = pending[0].0;
                    pending.clear();
                    return Some((start, Ok(value)));
                }
                Err(err) => return Some(give_up(&mut pending, &mut again, Err(err))),
            }
        }
    })
}

fn joined(lines: &[(usize, String)]) -> String {
    lines.iter().fold(String::new(), |mut text, (_, line)| {
        text.push_str(line);
        text.push('\n');
        text
    })
}

/// Reports the document's first line as not JSON and reads the lines after it again.
fn give_up(
    pending: &mut Vec<(usize, String)>,
    again: &mut std::collections::VecDeque<(usize, String)>,
    result: Result<Value, serde_json::Error>,
) -> (usize, Result<Value, serde_json::Error>) {
    let mut taken = pending.drain(..);
    let (start, _) = taken.next().unwrap_or_default();
    for line in taken.rev() {
        again.push_front(line);
    }
    (start, result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_reads_ndjson_and_pretty_printed_documents() {
        let ndjson = "{\"a\":1}\n{\"a\":2}\n\n{\"a\":3}\n";
        let values: Vec<(usize, Value)> = events(ndjson.as_bytes())
            .map(|(line, value)| (line, value.unwrap()))
            .collect();
        assert_eq!(
            values,
            [
                (1, serde_json::json!({"a": 1})),
                (2, serde_json::json!({"a": 2})),
                (4, serde_json::json!({"a": 3}))
            ]
        );
        let pretty = "{\n  \"Records\": [\n    {}\n  ]\n}\n{\"a\":2}\n";
        let lines: Vec<usize> = events(pretty.as_bytes()).map(|(line, _)| line).collect();
        assert_eq!(lines, [1, 6]);
    }

    #[test]
    fn a_bad_line_is_reported_and_reading_goes_on() {
        let broken = "{\"a\":1}\n{not json\n{\"a\":3}\n{\"cut\":\n{\"a\":5}\n{\"a\":6}\n";
        let results: Vec<(usize, bool)> = events(broken.as_bytes())
            .map(|(line, value)| (line, value.is_ok()))
            .collect();
        assert_eq!(
            results,
            [(1, true), (2, false), (3, true), (4, false), (5, true), (6, true)]
        );
    }

    #[test]
    fn a_document_cut_off_at_the_end_is_an_error() {
        let results: Vec<_> = events("{\"a\":1}\n{\"a\":".as_bytes()).collect();
        assert_eq!(results.len(), 2);
        assert!(results[1].1.is_err());
        assert_eq!(results[1].0, 2);
    }

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

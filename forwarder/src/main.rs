//! `sluice-forwarder`: the Lambda entry point and the command-line tool.
//!
//! With `AWS_LAMBDA_RUNTIME_API` set (inside Lambda) it runs the Lambda runtime; otherwise it is
//! the CLI: `sluice-forwarder replay [--dry-run] [FILE | s3://BUCKET/PREFIX ...]` and
//! `sluice-forwarder s3-notify --bucket B --queue-arn ARN` and
//! `sluice-forwarder dashboards [--url DASHBOARDS_URL] [--output FILE]`.

use std::io::{BufReader, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use serde_json::Value;
use sluice_edge::LogFormat;
use sluice_forwarder::config::{Config, Purpose, RawConfig};
use sluice_forwarder::handler::Forwarder;
use sluice_forwarder::replay::{self, BucketUrl};
use sluice_forwarder::source::s3::notify;

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

// Parsed once per run: the size of the settings variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Sends Lambda events (CloudWatch Logs, Kinesis, SQS or S3 notifications, on-failure
    /// records) again, from files or stdin: one JSON event per line, or one per file. An
    /// s3://BUCKET/PREFIX instead reads every object under the prefix (a backfill; running it
    /// twice adds no document).
    Replay {
        /// Write the `_bulk` NDJSON that would be sent to stdout and send nothing.
        #[arg(long)]
        dry_run: bool,
        /// For s3:// inputs: only objects last modified at or after this time
        /// (2026-11-01 or 2026-11-01T12:00:00Z).
        #[arg(long, value_parser = parse_time)]
        since: Option<i64>,
        /// For s3:// inputs: only objects last modified before this time.
        #[arg(long, value_parser = parse_time)]
        until: Option<i64>,
        /// How many seconds to keep retrying one event before counting it failed [default: 120;
        /// for s3:// inputs, each round of 16 objects: 900].
        #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
        event_timeout: Option<u64>,
        /// Files or s3://BUCKET[/PREFIX] to read; stdin when none.
        files: Vec<PathBuf>,
        #[command(flatten)]
        settings: RawConfig,
    },
    /// Sends a bucket's new objects to the forwarder's queue: adds an s3:ObjectCreated:* queue
    /// configuration to the bucket's notification configuration, keeping the ones it has.
    S3Notify(notify::NotifyArgs),
    /// Imports OpenSearch Dashboards saved objects for the indices this configuration writes
    /// (index patterns, the "Lambda" and "Access logs" dashboards, the "Errors" search), or
    /// writes them as an .ndjson file. Authenticates as the forwarder does (--opensearch-auth).
    Dashboards {
        /// The OpenSearch Dashboards URL, e.g. https://DOMAIN-ENDPOINT/_dashboards for Amazon
        /// OpenSearch Service.
        #[arg(long, required_unless_present = "output")]
        url: Option<String>,
        /// Write the .ndjson file that is imported to FILE ("-" for stdout).
        #[arg(long)]
        output: Option<PathBuf>,
        #[command(flatten)]
        settings: RawConfig,
    },
}

/// `mi_option_purge_delay` in mimalloc's `mi_option_e` (`mimalloc.h`, v3 as vendored by
/// libmimalloc-sys 0.1.49; the same index in v2).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// mimalloc keeps freed memory for a while before giving it back (10 ms, more for arenas).
/// Documents are built on the threads that read objects and freed on the one that delivers them,
/// so while an object streams through, that delay held 20 to 40 MB more than the heap needs
/// (docs/benchmarks.md): give it back at once, unless `MIMALLOC_PURGE_DELAY` says otherwise.
fn release_freed_memory_at_once() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one integer option; mimalloc reads options with atomic loads.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) }
    }
}

fn main() -> ExitCode {
    release_freed_memory_at_once();
    if sluice_edge::in_lambda() {
        return match run_lambda() {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("{err:#}");
                ExitCode::FAILURE
            }
        };
    }
    let result = match Cli::parse().command {
        Command::Replay {
            dry_run,
            since,
            until,
            event_timeout,
            files,
            settings,
        } => replay(settings, dry_run, (since, until), event_timeout, &files),
        Command::S3Notify(args) => s3_notify(args),
        Command::Dashboards {
            url,
            output,
            settings,
        } => dashboards(settings, url, output),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("sluice-forwarder: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// A date (`2026-11-01`, midnight UTC) or an RFC 3339 time, in milliseconds since the epoch.
fn parse_time(text: &str) -> Result<i64, String> {
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date.and_time(chrono::NaiveTime::MIN).and_utc().timestamp_millis());
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|time| time.timestamp_millis())
        .map_err(|err| format!("expected 2026-11-01 or 2026-11-01T12:00:00Z ({err})"))
}

fn s3_notify(args: notify::NotifyArgs) -> anyhow::Result<ExitCode> {
    sluice_edge::init_tracing("warn", LogFormat::Terminal);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let sdk = aws_config::load_from_env().await;
        let outcome = notify::run(&sdk, &args).await?;
        println!("{}", serde_json::to_string_pretty(&outcome.configuration)?);
        eprintln!("sluice-forwarder: {}", outcome.said);
        Ok(ExitCode::SUCCESS)
    })
}

/// Writes the saved objects to `output`, imports them into the Dashboards at `url`, or both.
fn dashboards(settings: RawConfig, url: Option<String>, output: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    use sluice_forwarder::dashboards::{import, saved_objects, to_ndjson};
    sluice_edge::init_tracing("warn", LogFormat::Terminal);
    // The Dashboards URL takes the endpoint's place, so the auth settings (and SigV4's service,
    // from the host) are read and checked exactly as for the forwarder.
    let purpose = if url.is_some() {
        Purpose::Deliver
    } else {
        Purpose::DryRun
    };
    let settings = RawConfig {
        opensearch_endpoint: url,
        ..settings
    };
    let config = Config::from_raw(&settings, purpose)
        .context("the settings (--url is checked as OPENSEARCH_ENDPOINT)")?;
    let objects = saved_objects(&config.documents);
    if let Some(path) = &output {
        let ndjson = to_ndjson(&objects);
        if path.as_os_str() == "-" {
            std::io::Write::write_all(&mut std::io::stdout(), ndjson.as_bytes())?;
        } else {
            std::fs::write(path, ndjson).with_context(|| format!("writing {}", path.display()))?;
            eprintln!(
                "sluice-forwarder: wrote {} saved objects to {}",
                objects.len(),
                path.display()
            );
        }
    }
    let Some(dashboards) = &config.sink else {
        return Ok(ExitCode::SUCCESS);
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let imported = runtime.block_on(import::import_for(dashboards, &config.documents))?;
    eprintln!(
        "sluice-forwarder: imported {} of {} saved objects into {}",
        imported.count,
        objects.len(),
        dashboards.endpoint
    );
    Ok(ExitCode::SUCCESS)
}

fn run_lambda() -> anyhow::Result<()> {
    let config = Config::from_env(Purpose::Deliver).inspect_err(|err| report_init_error(err))?;
    sluice_edge::init_tracing(&config.log_level, LogFormat::Json);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let function =
            std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "sluice-forwarder".into());
        let forwarder = Forwarder::new(config)
            .await
            .inspect_err(|err| report_init_error(err))?
            .with_metrics(function);
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

/// How long `replay` retries one event from a file by default: long enough for OpenSearch's own
/// hiccups, short enough that a person at a terminal hears of an outage.
const EVENT_TIMEOUT: Duration = Duration::from_secs(120);

/// Fails at once, naming the endpoint, when nothing listens there (a mistyped or unreachable
/// endpoint), instead of retrying every event until its timeout.
fn reachable(endpoint: &reqwest::Url) -> anyhow::Result<()> {
    let host = endpoint.host_str().unwrap_or_default();
    let port = endpoint.port_or_known_default().unwrap_or(443);
    let cannot = |reason: &dyn std::fmt::Display| anyhow::anyhow!("cannot connect to {endpoint}: {reason}");
    let addresses: Vec<_> = std::net::ToSocketAddrs::to_socket_addrs(&(host, port))
        .map_err(|err| cannot(&err))?
        .collect();
    let mut last = None;
    for address in &addresses {
        match std::net::TcpStream::connect_timeout(address, Duration::from_secs(5)) {
            Ok(_) => return Ok(()),
            Err(err) => last = Some(err),
        }
    }
    Err(match last {
        Some(err) => cannot(&err),
        None => cannot(&"the host name has no address"),
    })
}

/// Tells the Runtime API why the function cannot start, in the words the log gets too.
fn report_init_error(err: &dyn std::fmt::Display) {
    sluice_edge::report_init_error(&format!("{err:#}"));
}

/// One replay: every event of every input, then one JSON summary line on stderr.
fn replay(
    settings: RawConfig,
    dry_run: bool,
    (since, until): (Option<i64>, Option<i64>),
    event_timeout: Option<u64>,
    files: &[PathBuf],
) -> anyhow::Result<ExitCode> {
    let purpose = if dry_run {
        Purpose::DryRun
    } else {
        Purpose::Deliver
    };
    let config = Config::from_raw(&settings, purpose)?;
    // At a terminal only warnings by default: the one JSON summary at the end is the answer,
    // not a log line per event (LOG_LEVEL=info shows them).
    let level = match settings.log_level.as_deref().map(str::trim) {
        None | Some("") => "warn",
        Some(_) => config.log_level.as_str(),
    };
    sluice_edge::init_tracing(level, LogFormat::Terminal);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    if let Some(sink) = &config.sink {
        reachable(&sink.endpoint)?;
    }
    let from_buckets = files
        .iter()
        .any(|path| BucketUrl::parse(&path.to_string_lossy()).is_some());
    let timeout = match (event_timeout, from_buckets) {
        (Some(seconds), _) => Duration::from_secs(seconds),
        (None, false) => EVENT_TIMEOUT,
        (None, true) => replay::REPLAY_DEADLINE,
    };
    let forwarder = runtime
        .block_on(Forwarder::new(config))?
        .with_replay_timeout(timeout);
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let buckets: Vec<BucketUrl> = files
        .iter()
        .filter_map(|path| BucketUrl::parse(&path.to_string_lossy()))
        .collect();
    let inputs = if buckets.is_empty() {
        anyhow::ensure!(
            since.is_none() && until.is_none(),
            "--since and --until apply to s3:// inputs only"
        );
        Inputs::Files(open_sources(files, &mut std::io::stderr())?)
    } else {
        anyhow::ensure!(
            buckets.len() == files.len(),
            "replay reads either s3:// prefixes or files, not both at once"
        );
        Inputs::Buckets(buckets, (since, until))
    };
    let mut total = replay::ReplaySummary {
        dry_run,
        ..replay::ReplaySummary::default()
    };
    runtime.block_on(replay_until(
        &forwarder,
        inputs,
        &mut total,
        (&mut out, &mut std::io::stderr()),
        ctrl_c(),
    ))?;
    out.flush()?;
    finish(&total)
}

/// Ctrl-C; never, when its handler cannot be installed (then Ctrl-C ends the process as before).
async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// What `replay` reads: files (or stdin), or the objects under `s3://` prefixes.
enum Inputs {
    Files(Vec<replay::Source>),
    Buckets(Vec<BucketUrl>, (Option<i64>, Option<i64>)),
}

/// Replays `inputs` into `total` until they are done or `interrupt` comes (Ctrl-C); then
/// `total` holds the counts of the events finished before it and names the one it stopped.
async fn replay_until(
    forwarder: &Forwarder,
    inputs: Inputs,
    total: &mut replay::ReplaySummary,
    (out, errors): (&mut dyn Write, &mut dyn Write),
    interrupt: impl Future<Output = ()>,
) -> Result<(), replay::ReplayError> {
    let run = async {
        match inputs {
            Inputs::Files(sources) => replay::replay_into(forwarder, sources, total, out, errors).await,
            Inputs::Buckets(buckets, window) => {
                for url in &buckets {
                    replay::replay_bucket_into(forwarder, url, window, total, out, errors).await?;
                }
                Ok(())
            }
        }
    };
    let interrupted = tokio::select! {
        result = run => { result?; false }
        () = interrupt => true,
    };
    if interrupted {
        total.interrupt();
        let _ = writeln!(
            errors,
            "sluice-forwarder: interrupted {}: the summary counts the events finished before; replaying them again is safe (documents keep their ids)",
            total.interrupted_at.as_deref().unwrap_or_default()
        );
    }
    Ok(())
}

/// The files to replay, opened, or stdin when there are none. A directory is refused (exit 2, as
/// for a file that cannot be opened); an empty file and reading a terminal get a line on `notes`.
fn open_sources(files: &[PathBuf], notes: &mut dyn std::io::Write) -> anyhow::Result<Vec<replay::Source>> {
    let mut sources: Vec<replay::Source> = Vec::new();
    for path in files {
        anyhow::ensure!(
            !path.is_dir(),
            "{} is a directory: name the files in it (e.g. {}/*.json)",
            path.display(),
            path.display().to_string().trim_end_matches('/')
        );
        let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        if file
            .metadata()
            .is_ok_and(|meta| meta.is_file() && meta.len() == 0)
        {
            let _ = writeln!(notes, "sluice-forwarder: warning: {} is empty", path.display());
        }
        sources.push(replay::Source::file(
            path.display().to_string(),
            BufReader::with_capacity(1 << 16, file),
        ));
    }
    if files.is_empty() {
        if std::io::stdin().is_terminal() {
            let _ = writeln!(
                notes,
                "sluice-forwarder: reading events from standard input, one JSON event per line (Ctrl-D ends)"
            );
        }
        sources.push(replay::Source {
            name: "stdin".to_string(),
            reader: Box::new(BufReader::new(std::io::stdin())),
            may_wait: true,
        });
    }
    Ok(sources)
}

/// Prints the summary line; success when everything went.
fn finish(total: &replay::ReplaySummary) -> anyhow::Result<ExitCode> {
    eprintln!("{}", serde_json::to_string(total)?);
    Ok(if total.interrupted_at.is_some() {
        // What a shell reports for a command ended by SIGINT.
        ExitCode::from(130)
    } else if total.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// Issue 12, item 4: a mistyped or unreachable endpoint fails at once, naming it, instead of
    /// each event retrying for its whole timeout.
    #[test]
    fn an_endpoint_nobody_listens_on_fails_at_once() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let open: reqwest::Url = format!("http://{}", listener.local_addr().unwrap())
            .parse()
            .unwrap();
        reachable(&open).expect("something listens");
        drop(listener);
        let started = std::time::Instant::now();
        let err = reachable(&open).expect_err("nothing listens any more");
        assert!(
            err.to_string()
                .starts_with(&format!("cannot connect to {open}: ")),
            "{err}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    /// Issue 12, item 4: Ctrl-C while `replay` waits for its next line (a pipe here, a terminal
    /// alike) stops it at once; the summary has the events finished before, says where it
    /// stopped, and the exit code is a shell's for SIGINT.
    #[test]
    fn ctrl_c_stops_a_replay_and_prints_the_counts_so_far() {
        let config = Config::from_lookup(
            |name| (name == "AWS_REGION").then(|| "us-east-1".to_string()),
            Purpose::DryRun,
        )
        .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let forwarder = runtime.block_on(Forwarder::new(config)).unwrap();
        let (reader, mut writer) = std::io::pipe().unwrap();
        let data = serde_json::json!({
            "messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/orders",
            "logStream": "s", "subscriptionFilters": ["sluice"],
            "logEvents": [
                {"id": "1", "timestamp": 1_764_400_000_000_i64, "message": "one"},
                {"id": "2", "timestamp": 1_764_400_000_001_i64, "message": "two"}
            ]
        });
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        serde_json::to_writer(&mut gzip, &data).unwrap();
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(gzip.finish().unwrap());
        writeln!(writer, "{}", serde_json::json!({"awslogs": {"data": encoded}})).unwrap();
        // `writer` stays open: the replay waits for a second line that never comes.
        let sources = vec![replay::Source {
            name: "stdin".to_string(),
            reader: Box::new(BufReader::new(reader)),
            may_wait: true,
        }];
        // The real signal, once the replay has had time to finish the first event.
        std::thread::spawn(|| {
            std::thread::sleep(Duration::from_secs(1));
            // SAFETY: sending a signal to this process; tokio's handler (installed by then) takes it.
            unsafe { libc::kill(libc::getpid(), libc::SIGINT) };
        });
        let mut total = replay::ReplaySummary {
            dry_run: true,
            ..replay::ReplaySummary::default()
        };
        let (mut out, mut errors) = (Vec::new(), Vec::new());
        let started = std::time::Instant::now();
        runtime
            .block_on(replay_until(
                &forwarder,
                Inputs::Files(sources),
                &mut total,
                (&mut out, &mut errors),
                ctrl_c(),
            ))
            .unwrap();
        assert!(started.elapsed() < Duration::from_secs(30));
        drop(writer);
        assert_eq!(total.summary.events, 2, "{total:?}");
        assert_eq!(total.interrupted_at.as_deref(), Some("after stdin line 1"));
        assert_eq!(
            String::from_utf8(out).unwrap().lines().count(),
            4,
            "two documents"
        );
        let errors = String::from_utf8(errors).unwrap();
        assert!(errors.contains("interrupted after stdin line 1"), "{errors}");
        assert_eq!(finish(&total).unwrap(), ExitCode::from(130));
        let summary: Value = serde_json::to_value(&total).unwrap();
        assert_eq!(summary["interrupted_at"], "after stdin line 1");
    }

    #[test]
    fn a_directory_is_refused_and_an_empty_file_noted() {
        let dir = std::env::temp_dir().join(format!("sluice-replay-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.json");
        std::fs::write(&empty, "").unwrap();
        let mut notes = Vec::new();
        let err = open_sources(std::slice::from_ref(&dir), &mut notes)
            .err()
            .expect("a directory is not a file of events");
        assert!(err.to_string().contains("is a directory"), "{err}");
        let sources = open_sources(std::slice::from_ref(&empty), &mut notes).unwrap();
        assert_eq!(sources.len(), 1);
        let notes = String::from_utf8(notes).unwrap();
        assert!(notes.contains("empty.json is empty"), "{notes}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn every_setting_is_a_flag_of_replay() {
        let cli = Cli::try_parse_from([
            "sluice-forwarder",
            "replay",
            "--dry-run",
            "--index-prefix",
            "app",
            "a.json",
        ])
        .unwrap();
        let Command::Replay {
            dry_run,
            files,
            settings,
            ..
        } = cli.command
        else {
            panic!("expected replay");
        };
        assert!(dry_run);
        assert_eq!(files, [PathBuf::from("a.json")]);
        assert_eq!(settings.index_prefix.as_deref(), Some("app"));
        let help = Cli::command()
            .find_subcommand_mut("replay")
            .expect("replay")
            .render_help()
            .to_string();
        let cli =
            Cli::try_parse_from(["sluice-forwarder", "replay", "--since", "2026-11-01", "s3://b/p"]).unwrap();
        let Command::Replay { since, .. } = cli.command else {
            panic!("expected replay");
        };
        assert_eq!(since, Some(1_793_491_200_000));
        let err = Cli::try_parse_from(["sluice-forwarder", "replay", "--until", "yesterday"]).unwrap_err();
        assert!(err.to_string().contains("2026-11-01"), "{err}");
        for name in sluice_edge::settings::names::<RawConfig>() {
            let flag = format!("--{}", name.to_ascii_lowercase().replace('_', "-"));
            assert!(help.contains(&flag), "{flag} missing from replay --help");
        }
    }

    #[test]
    fn dashboards_takes_a_url_or_an_output_and_the_forwarder_settings() {
        let cli = Cli::try_parse_from([
            "sluice-forwarder",
            "dashboards",
            "--url",
            "https://search-logs.eu-west-1.es.amazonaws.com/_dashboards",
            "--opensearch-auth",
            "basic",
            "--index-prefix",
            "app",
        ])
        .unwrap();
        let Command::Dashboards { url, settings, .. } = cli.command else {
            panic!("expected dashboards");
        };
        assert!(url.unwrap().ends_with("/_dashboards"));
        assert_eq!(settings.opensearch_auth.as_deref(), Some("basic"));
        assert_eq!(settings.index_prefix.as_deref(), Some("app"));
        let err = Cli::try_parse_from(["sluice-forwarder", "dashboards"]).unwrap_err();
        assert!(err.to_string().contains("--url"), "{err}");
        assert!(Cli::try_parse_from(["sluice-forwarder", "dashboards", "--output", "-"]).is_ok());
    }
}

//! The `replay` command: its flags, the settings checked as the function's, the inputs opened,
//! the run stopped cleanly by Ctrl-C, and the one JSON summary line at the end.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use sluice_edge::LogFormat;

use super::bucket::Window;
use super::lines::{Source, open_sources};
use super::resume::ResumeFile;
use super::{BucketRun, BucketUrl, OBJECTS_AT_ONCE, REPLAY_DEADLINE, Replay, ReplayError, ReplaySummary};
use crate::config::{Config, Purpose, RawConfig};
use crate::handler::Forwarder;
use crate::pipeline::Stop;

/// How long `replay` retries one event from a file by default: long enough for OpenSearch's own
/// hiccups, short enough that a person at a terminal hears of an outage.
const EVENT_TIMEOUT: Duration = Duration::from_secs(120);

/// The flags of `replay`.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// Write the `_bulk` NDJSON that would be sent to stdout and send nothing: no connection to
    /// OpenSearch is made, whatever OPENSEARCH_ENDPOINT says.
    #[arg(long)]
    pub dry_run: bool,
    /// For s3:// inputs: only objects last modified at or after this time
    /// (2026-11-01 or 2026-11-01T12:00:00Z).
    #[arg(long, value_parser = parse_time)]
    pub since: Option<i64>,
    /// For s3:// inputs: only objects last modified before this time.
    #[arg(long, value_parser = parse_time)]
    pub until: Option<i64>,
    /// How many seconds to keep retrying one event before counting it failed [default: 120;
    /// for s3:// inputs, each object: 900, after which it is read on from where it was].
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub event_timeout: Option<u64>,
    /// For s3:// inputs: how many objects to read at once.
    #[arg(long, value_name = "N", default_value_t = OBJECTS_AT_ONCE as u16, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub objects: u16,
    /// For s3:// inputs: record in FILE the objects done (and, at Ctrl-C, where each object
    /// being read stopped), and skip them when FILE names them on the next run. Created when
    /// missing; one JSON object a line.
    #[arg(long, value_name = "FILE")]
    pub resume: Option<PathBuf>,
    /// Files or s3://BUCKET[/PREFIX] to read; stdin when none.
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub settings: RawConfig,
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

/// One replay: every event of every input, the dry run's NDJSON on stdout, then one JSON
/// summary line on stderr.
pub fn run(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let code = run_to(args, &mut out, &mut std::io::stderr())?;
    out.flush()?;
    Ok(code)
}

/// [`run`], writing to `out` and `errors`.
fn run_to(args: ReplayArgs, out: &mut dyn Write, errors: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let ReplayArgs {
        dry_run,
        since,
        until,
        event_timeout,
        objects,
        resume,
        files,
        settings,
    } = args;
    let purpose = if dry_run {
        Purpose::DryRun
    } else {
        Purpose::Deliver
    };
    let mut config = Config::from_raw(&settings, purpose)?;
    // At a terminal only warnings by default: the one JSON summary at the end is the answer,
    // not a log line per event (LOG_LEVEL=info shows them).
    let level = match settings.log_level.as_deref().map(str::trim) {
        None | Some("") => "warn",
        Some(_) => config.log_level.as_str(),
    };
    sluice_edge::init_tracing(level, LogFormat::Terminal);
    match (&config.sink, dry_run) {
        // Checked as for a real run, then left alone: no credentials, no connection.
        (Some(_), true) => config.sink = None,
        (Some(sink), false) => reachable(&sink.endpoint)?,
        (None, _) => {}
    }
    let buckets: Vec<BucketUrl> = files
        .iter()
        .filter_map(|path| BucketUrl::parse(&path.to_string_lossy()))
        .collect();
    let timeout = match (event_timeout, buckets.is_empty()) {
        (Some(seconds), _) => Duration::from_secs(seconds),
        (None, true) => EVENT_TIMEOUT,
        (None, false) => REPLAY_DEADLINE,
    };
    let inputs = if buckets.is_empty() {
        anyhow::ensure!(
            since.is_none() && until.is_none() && resume.is_none(),
            "--since, --until and --resume apply to s3:// inputs only"
        );
        Inputs::Files(open_sources(&files, errors)?)
    } else {
        anyhow::ensure!(
            buckets.len() == files.len(),
            "replay reads either s3:// prefixes or files, not both at once"
        );
        let run = BucketRun {
            objects: usize::from(objects),
            resume: resume.as_deref().map(ResumeFile::open).transpose()?,
            stop: Stop::default(),
        };
        Inputs::Buckets(buckets, (since, until), run)
    };
    // Several threads when delivering: the next events are decoded on this one while the
    // runtime's workers compress and send the requests of earlier ones. The dry run writes one
    // event after the other: one thread, whose memory stays that of one event (documents built
    // and freed on the same thread; objects are parsed on blocking threads either way).
    let runtime = match dry_run {
        true => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
        false => tokio::runtime::Builder::new_multi_thread().enable_all().build()?,
    };
    let forwarder = runtime.block_on(Forwarder::new(config))?;
    let replay = Replay::new(&forwarder, dry_run).with_timeout(timeout);
    let mut total = replay.summary();
    runtime.block_on(replay_until(&replay, inputs, &mut total, (out, errors), ctrl_c))?;
    finish(&total, errors)
}

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

/// Ctrl-C; never, when its handler cannot be installed (then Ctrl-C ends the process as before).
async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// What `replay` reads: files (or stdin), or the objects under `s3://` prefixes.
enum Inputs {
    Files(Vec<Source>),
    Buckets(Vec<BucketUrl>, Window, BucketRun),
}

/// Replays `inputs` into `total` until they are done or `interrupt` comes (Ctrl-C); then
/// `total` holds the counts of the events finished before it and names the one it stopped.
/// Buckets stop gracefully: the objects being read stop at a record boundary once what they
/// read is delivered, and the resume file gets their position; a second `interrupt` stops at
/// once.
async fn replay_until<F: Future<Output = ()>>(
    replay: &Replay<'_>,
    inputs: Inputs,
    total: &mut ReplaySummary,
    (out, errors): (&mut dyn Write, &mut dyn Write),
    interrupt: impl Fn() -> F,
) -> Result<(), ReplayError> {
    let stop = match &inputs {
        Inputs::Buckets(_, _, run) => Some(run.stop.clone()),
        Inputs::Files(_) => None,
    };
    let interrupted = {
        let run = std::pin::pin!(async {
            match inputs {
                Inputs::Files(sources) => replay.files_into(sources, total, out, errors).await,
                Inputs::Buckets(buckets, window, mut run) => {
                    for url in &buckets {
                        replay
                            .bucket_into(url, window, &mut run, total, out, errors)
                            .await?;
                    }
                    Ok(())
                }
            }
        });
        let mut run = run;
        let interrupted = tokio::select! {
            result = &mut run => { result?; false }
            () = interrupt() => true,
        };
        if let (true, Some(stop)) = (interrupted, stop) {
            stop.stop();
            tokio::select! {
                result = &mut run => result?,
                () = interrupt() => {}
            }
        }
        interrupted
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

/// Prints the summary line; success when everything went.
fn finish(total: &ReplaySummary, errors: &mut dyn Write) -> anyhow::Result<ExitCode> {
    writeln!(errors, "{}", serde_json::to_string(total)?)?;
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
    use std::io::BufReader;

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
        let replay = Replay::new(&forwarder, true);
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
        let sources = vec![Source {
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
        let mut total = replay.summary();
        let (mut out, mut errors) = (Vec::new(), Vec::new());
        let started = std::time::Instant::now();
        runtime
            .block_on(replay_until(
                &replay,
                Inputs::Files(sources),
                &mut total,
                (&mut out, &mut errors),
                ctrl_c,
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
        assert_eq!(finish(&total, &mut Vec::new()).unwrap(), ExitCode::from(130));
        let summary: serde_json::Value = serde_json::to_value(&total).unwrap();
        assert_eq!(summary["interrupted_at"], "after stdin line 1");
    }

    /// Issue 22: a dry run previews with the function's own settings, endpoint and credentials
    /// included, and connects to none of them: no connection to the cluster, no secret fetched.
    #[test]
    fn a_dry_run_connects_to_nothing_whatever_endpoint_is_set() {
        let cluster = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        cluster.set_nonblocking(true).unwrap();
        let endpoint = format!("http://{}", cluster.local_addr().unwrap());
        let dir = std::env::temp_dir().join(format!("sluice-dry-run-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let events = dir.join("events.json");
        let batch = serde_json::json!({
            "messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/orders",
            "logStream": "s", "subscriptionFilters": ["sluice"],
            "logEvents": [{"id": "1", "timestamp": 1_764_400_000_000_i64, "message": "one"}]
        });
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        serde_json::to_writer(&mut gzip, &batch).unwrap();
        use base64::Engine as _;
        let data = base64::engine::general_purpose::STANDARD.encode(gzip.finish().unwrap());
        std::fs::write(
            &events,
            serde_json::json!({"awslogs": {"data": data}}).to_string(),
        )
        .unwrap();
        // Basic auth from Secrets Manager: a real run would fetch the secret before anything else.
        let secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:opensearch-AbCdEf";
        #[derive(clap::Parser)]
        struct Args {
            #[command(flatten)]
            args: ReplayArgs,
        }
        let cli = <Args as clap::Parser>::parse_from([
            "replay",
            "--dry-run",
            "--opensearch-endpoint",
            endpoint.as_str(),
            "--opensearch-auth",
            "basic",
            "--opensearch-secret-id",
            secret,
            events.to_str().unwrap(),
        ]);
        let (mut out, mut errors) = (Vec::new(), Vec::new());
        let code = run_to(cli.args, &mut out, &mut errors).unwrap();
        let errors = String::from_utf8(errors).unwrap();
        assert_eq!(code, ExitCode::SUCCESS, "{errors}");
        let lines: Vec<&str> = std::str::from_utf8(&out).unwrap().lines().collect();
        assert_eq!(lines.len(), 2, "one action and one document: {lines:?}");
        assert!(lines[1].contains("\"message\":\"one\""), "{}", lines[1]);
        let accepted = cluster.accept();
        assert!(
            matches!(&accepted, Err(err) if err.kind() == std::io::ErrorKind::WouldBlock),
            "the dry run connected to the endpoint: {accepted:?}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

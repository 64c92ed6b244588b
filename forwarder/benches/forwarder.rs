//! Forwarder benchmark (see docs/benchmarks.md): `cargo bench -p sluice-forwarder --bench forwarder`.
//!
//! Generates CloudWatch Logs subscription events with the shared generator
//! (`../shared/bench/gen_payloads.py --batches 200 --events 500`, override with
//! `SLUICE_BENCH_GENERATOR`) into `target/bench/`, then measures in the same run:
//! - the floor: base64 + gunzip + serde parse of `LogsData` + re-serialise, nothing else;
//! - the pipeline in-process: the same decode, then documents and `_bulk` NDJSON, with the
//!   default settings and again without the built-in redaction rules (where the time goes);
//! - `sluice-forwarder replay --dry-run FILE` as a child process (wall time and peak RSS from
//!   `wait4`), when the binary has a working `replay`; otherwise this benchmark re-runs itself
//!   as a child that streams the library pipeline over the file, so peak memory is still that of
//!   a separate process;
//! - one batch of about 1 MB compressed, for the 128 MB Lambda.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;
use std::sync::Arc;

use sluice_forwarder::document::redact::Redactor;
use sluice_forwarder::document::{DocumentBuilder, DocumentOptions};
use sluice_forwarder::opensearch::bulk;
use sluice_forwarder::source::subscription::{self as batch, LogsData};
use sluice_forwarder::source::{Ack, Batch};

/// Set in the child process this benchmark starts to measure the library pipeline's memory.
const WORKER_ENV: &str = "SLUICE_BENCH_WORKER";
const ROUNDS: usize = 3;

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    awslogs: Awslogs<'a>,
}

#[derive(Deserialize)]
struct Awslogs<'a> {
    #[serde(borrow)]
    data: Cow<'a, str>,
}

fn decode_line(line: &str) -> LogsData {
    let envelope: Envelope<'_> = serde_json::from_str(line).expect("generator writes awslogs events");
    batch::decode_awslogs(&envelope.awslogs.data).expect("generator writes valid batches")
}

fn batch_of(data: LogsData) -> Arc<Batch> {
    Arc::new(Batch {
        ack: Ack::Invocation,
        data,
    })
}

fn main() {
    if let Ok(file) = std::env::var(WORKER_ENV) {
        worker(Path::new(&file)).expect("writing NDJSON to stdout");
        return;
    }
    // `cargo bench` passes `--bench`; a filter argument is accepted and ignored.
    let dir = target_dir().join("bench");
    std::fs::create_dir_all(&dir).expect("create target/bench");
    let payloads = dir.join("forwarder-200x500.ndjson");
    generate(&payloads, &["--batches", "200", "--events", "500"]);
    let lines = read_lines(&payloads);
    let events: usize = 200 * 500;

    println!(
        "forwarder benchmark: {} batches, {events} events, best of {ROUNDS} rounds",
        lines.len()
    );
    let (floor, raw_bytes) = best(|| floor(&lines));
    let (pipeline, ndjson_bytes) = best(|| run_pipeline(&lines, DocumentOptions::default()));
    let unredacted_options = DocumentOptions {
        redactor: Redactor::none(),
        ..DocumentOptions::default()
    };
    let (unredacted, _) = best(|| run_pipeline(&lines, unredacted_options.clone()));
    let mb = raw_bytes as f64 / 1e6;
    report("floor (base64+gunzip+parse+serialise)", events, mb, floor);
    report("pipeline in-process", events, mb, pipeline);
    report(
        "pipeline in-process, REDACT_BUILTIN=false",
        events,
        mb,
        unredacted,
    );
    println!("  pipeline NDJSON output: {:.1} MB", ndjson_bytes as f64 / 1e6);

    let (label, command) = child_command();
    let (child_time, child_rss) = best_child(&command, &payloads);
    report(&format!("{label} (child process)"), events, mb, child_time);
    println!("  peak RSS {label}: {:.1} MB", child_rss as f64 / 1024.0);
    println!(
        "ratio to floor: in-process {:.2}, child process {:.2} (target >= 0.50); without built-in redaction {:.2}",
        floor.as_secs_f64() / pipeline.as_secs_f64(),
        floor.as_secs_f64() / child_time.as_secs_f64(),
        floor.as_secs_f64() / unredacted.as_secs_f64()
    );

    let big = dir.join("forwarder-1mb.ndjson");
    generate_one_megabyte(&big);
    let big_len = std::fs::metadata(&big).map(|m| m.len()).unwrap_or_default();
    let (big_time, big_rss) = best_child(&command, &big);
    println!(
        "one batch of {:.2} MB base64 ({:.2} MB gzip): {:.0} ms, peak RSS {:.1} MB (target < 64 MB)",
        big_len as f64 / 1e6,
        big_len as f64 * 0.75 / 1e6,
        big_time.as_secs_f64() * 1e3,
        big_rss as f64 / 1024.0
    );
}

/// The library pipeline over a file of events, NDJSON to stdout: what `replay --dry-run` does.
fn worker(file: &Path) -> io::Result<()> {
    let builder = DocumentBuilder::new(DocumentOptions::default(), "us-east-1".to_owned());
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    for line in BufReader::new(File::open(file)?).lines() {
        let docs = builder.documents(&batch_of(decode_line(&line?)));
        bulk::write_ndjson(&docs.docs, &mut out)?;
    }
    out.flush()
}

fn floor(lines: &[String]) -> usize {
    let mut raw_bytes = 0;
    let mut out = Vec::new();
    for line in lines {
        let data = decode_line(line);
        out.clear();
        serde_json::to_writer(&mut out, &data).expect("serialisable");
        raw_bytes += out.len();
    }
    raw_bytes
}

fn run_pipeline(lines: &[String], options: DocumentOptions) -> usize {
    let builder = DocumentBuilder::new(options, "us-east-1".to_owned());
    let mut written = 0;
    let mut out = Vec::new();
    for line in lines {
        let docs = builder.documents(&batch_of(decode_line(line)));
        out.clear();
        bulk::write_ndjson(&docs.docs, &mut out).expect("writes to a Vec");
        written += out.len();
    }
    written
}

fn best(mut run: impl FnMut() -> usize) -> (Duration, usize) {
    let mut fastest = Duration::MAX;
    let mut result = 0;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        result = std::hint::black_box(run());
        fastest = fastest.min(start.elapsed());
    }
    (fastest, result)
}

fn report(label: &str, events: usize, mb: f64, time: Duration) {
    let secs = time.as_secs_f64();
    println!(
        "{label:<45} {:>8.0} ms {:>10.0} events/s {:>7.1} MB/s",
        secs * 1e3,
        events as f64 / secs,
        mb / secs
    );
}

/// `replay --dry-run` of the release binary when it works, else this benchmark as a worker.
fn child_command() -> (String, Command) {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_sluice-forwarder"));
    let probe = Command::new(&binary)
        .args(["replay", "--help"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if matches!(probe, Ok(status) if status.success()) {
        let mut command = Command::new(binary);
        command
            .args(["replay", "--dry-run"])
            .env("AWS_REGION", "us-east-1");
        return ("replay --dry-run".to_owned(), command);
    }
    println!(
        "  (sluice-forwarder has no working `replay` yet: measuring the library pipeline in a child process)"
    );
    let command = Command::new(std::env::current_exe().expect("the benchmark knows its own path"));
    ("library pipeline".to_owned(), command)
}

fn best_child(command: &Command, file: &Path) -> (Duration, u64) {
    let mut fastest = Duration::MAX;
    let mut peak_kb = 0;
    for _ in 0..ROUNDS {
        let (time, rss) = run_child(command, file);
        fastest = fastest.min(time);
        peak_kb = peak_kb.max(rss);
    }
    (fastest, peak_kb)
}

/// Runs the command on `file` with stdout discarded; its wall time and peak RSS in KiB.
fn run_child(template: &Command, file: &Path) -> (Duration, u64) {
    let mut command = Command::new(template.get_program());
    command.args(template.get_args());
    for (key, value) in template.get_envs() {
        if let Some(value) = value {
            command.env(key, value);
        }
    }
    if template.get_args().next().is_some() {
        command.arg(file);
    } else {
        command.env(WORKER_ENV, file);
    }
    let start = Instant::now();
    #[expect(
        clippy::zombie_processes,
        reason = "reaped by wait4 below, which also reports the peak RSS that std's wait does not"
    )]
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the child");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child; both pointers are valid for the call.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = start.elapsed();
    assert_eq!(waited, pid, "wait4 failed: {}", io::Error::last_os_error());
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        let mut stderr = String::new();
        if let Some(mut pipe) = child.stderr {
            let _ = io::Read::read_to_string(&mut pipe, &mut stderr);
        }
        panic!(
            "{:?} failed with status {status}: {stderr}",
            command.get_program()
        );
    }
    // Linux reports ru_maxrss in KiB.
    (elapsed, usage.ru_maxrss as u64)
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

fn generator() -> PathBuf {
    std::env::var_os("SLUICE_BENCH_GENERATOR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/bench/gen_payloads.py"))
}

/// Runs the generator into `file` unless it is already there.
fn generate(file: &Path, args: &[&str]) {
    if file.exists() {
        return;
    }
    let script = generator();
    let partial = file.with_extension("partial");
    let out = File::create(&partial).expect("create the payload file");
    let status = Command::new("python3")
        .arg(&script)
        .args(args)
        .stdout(out)
        .stderr(Stdio::null())
        .status()
        .unwrap_or_else(|err| panic!("running {}: {err}", script.display()));
    assert!(
        status.success(),
        "{} {args:?} failed (set SLUICE_BENCH_GENERATOR to its path)",
        script.display()
    );
    std::fs::rename(&partial, file).expect("move the payload file into place");
}

/// One batch whose gzip payload is about 1 MB (CloudWatch Logs' limit on a subscription batch
/// is 1 MB uncompressed per PutLogEvents call, but a Kinesis record or a replay may carry more).
fn generate_one_megabyte(file: &Path) {
    let probe = file.with_extension("probe");
    generate(&probe, &["--batches", "1", "--events", "2000"]);
    let probe_gzip = std::fs::metadata(&probe).map(|m| m.len()).unwrap_or(1) as f64 * 0.75;
    let events = ((1_000_000.0 / probe_gzip) * 2000.0) as usize;
    generate(file, &["--batches", "1", "--events", &events.to_string()]);
}

fn read_lines(file: &Path) -> Vec<String> {
    BufReader::new(File::open(file).expect("open the payload file"))
        .lines()
        .collect::<Result<_, _>>()
        .expect("read the payload file")
}

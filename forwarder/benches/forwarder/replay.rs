//! `replay FILE` into the in-bench `_bulk` server against `replay --dry-run FILE`, both the
//! release binary as a child, alternated round by round (`SLUICE_BENCH_ONLY=replay`): events/s of
//! each, the ratio, the peak RSS of each, and the share of compression.
//!
//! Compression's share is measured by this benchmark compressing the same bodies as the sink
//! does (one body per event, gzip level 1 on the same flate2 backend), over the replay's wall time
//! and over its CPU time (user and system, all threads, from `wait4`): once sending overlaps
//! decoding, compression runs beside the rest and the CPU share says more than the wall share.
//!
//! `SLUICE_BENCH_REPLAY_BINARIES=PATH,PATH…` measures other builds of `sluice-forwarder` in the
//! same rounds (older commits, for a bisection), each against its own dry run.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use sluice_forwarder::document::{DocumentBuilder, DocumentOptions};
use sluice_forwarder::opensearch::bulk;

use crate::bulk_server::BulkServer;
use crate::child::measure;
use crate::{ROUNDS, batch_of, best, decode_line};

/// One child run.
struct Run {
    elapsed: Duration,
    peak_kb: u64,
    cpu: Duration,
    minor_faults: u64,
    summary: serde_json::Value,
}

/// The runs of one binary.
struct Binary {
    label: String,
    path: PathBuf,
    dry: Vec<Run>,
    replay: Vec<Run>,
}

/// What compressing the replay's bodies alone takes.
pub struct Compression {
    pub time: Duration,
    pub ndjson_bytes: usize,
    pub gzip_bytes: usize,
}

/// The section: [`ROUNDS`] rounds, each a dry run then a replay of every binary.
pub fn replay_against_dry_run(payloads: &Path, events: usize, mb: f64, lines: &[String]) {
    let server = BulkServer::start();
    let mut binaries = vec![Binary::new(
        "this build".to_owned(),
        PathBuf::from(env!("CARGO_BIN_EXE_sluice-forwarder")),
    )];
    for path in std::env::var("SLUICE_BENCH_REPLAY_BINARIES")
        .unwrap_or_default()
        .split(',')
        .filter(|path| !path.is_empty())
    {
        let path = PathBuf::from(path);
        let label = path
            .file_name()
            .map_or_else(String::new, |name| name.to_string_lossy().into_owned());
        binaries.push(Binary::new(label, path));
    }
    println!(
        "replay FILE against replay --dry-run FILE: {} batches, {events} events, {ROUNDS} rounds taken in turn",
        lines.len()
    );
    for _ in 0..ROUNDS {
        for binary in &mut binaries {
            let dry = run(binary.command(&["replay", "--dry-run"]), payloads);
            binary.dry.push(dry);
            let mut replay = binary.command(&["replay"]);
            replay
                .env("OPENSEARCH_ENDPOINT", format!("http://{}", server.address))
                .env("OPENSEARCH_AUTH", "none")
                .env("LOG_LEVEL", "warn");
            let replay = run(replay, payloads);
            assert_eq!(
                replay.summary["indexed"].as_u64(),
                Some(events as u64),
                "{}",
                replay.summary
            );
            binary.replay.push(replay);
        }
    }
    let compression = compress_alone(lines);
    println!(
        "  compressing alone (gzip level 1, one body per event, as the sink): {:.0} ms, {:.1} MB of NDJSON to {:.1} MB",
        ms(compression.time),
        compression.ndjson_bytes as f64 / 1e6,
        compression.gzip_bytes as f64 / 1e6
    );
    for binary in &binaries {
        binary.report(events, mb, &compression);
    }
}

impl Binary {
    fn new(label: String, path: PathBuf) -> Binary {
        Binary {
            label,
            path,
            dry: Vec::new(),
            replay: Vec::new(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.path);
        command.args(args).env("AWS_REGION", "us-east-1");
        command
    }

    fn report(&self, events: usize, mb: f64, compression: &Compression) {
        println!("{}: {}", self.label, self.path.display());
        let dry = range(&self.dry);
        let replay = range(&self.replay);
        for (what, runs, (fastest, slowest)) in
            [("dry run", &self.dry, dry), ("replay", &self.replay, replay)]
        {
            let peak = runs.iter().map(|run| run.peak_kb).max().unwrap_or(0);
            println!(
                "  {what:<8} {:>5.0} to {:>5.0} ms, {:>7.0} to {:>7.0} events/s, {:.1} MB/s at best, peak RSS {:.1} MB (highest of {})",
                ms(fastest),
                ms(slowest),
                events as f64 / slowest.as_secs_f64(),
                events as f64 / fastest.as_secs_f64(),
                mb / fastest.as_secs_f64(),
                peak as f64 / 1024.0,
                runs.len()
            );
        }
        let ratios = self
            .dry
            .iter()
            .zip(&self.replay)
            .map(|(dry, replay)| dry.elapsed.as_secs_f64() / replay.elapsed.as_secs_f64());
        let (low, high) = ratios.fold((f64::MAX, 0f64), |(low, high), ratio| {
            (low.min(ratio), high.max(ratio))
        });
        println!(
            "  ratio replay to dry run (events/s): best to best {:.2} (target >= 0.5), round by round {low:.2} to {high:.2}",
            dry.0.as_secs_f64() / replay.0.as_secs_f64()
        );
        for (what, runs) in [("dry run", &self.dry), ("replay", &self.replay)] {
            let fastest = runs.iter().min_by_key(|run| run.elapsed).expect("rounds");
            println!(
                "  fastest {what}: CPU {:.0} ms (user and system, all threads), {} minor page faults",
                ms(fastest.cpu),
                fastest.minor_faults
            );
        }
        let fastest = self.replay.iter().min_by_key(|run| run.elapsed).expect("rounds");
        let bulk_ms = fastest.summary["bulk_ms"].as_f64().unwrap_or_default();
        println!(
            "  fastest replay: {} bulk requests, time in them {bulk_ms:.0} ms summed; compressing alone is {:.0}% of its wall time, {:.0}% of its CPU time",
            fastest.summary["bulk_requests"],
            100.0 * compression.time.as_secs_f64() / fastest.elapsed.as_secs_f64(),
            100.0 * compression.time.as_secs_f64() / fastest.cpu.as_secs_f64()
        );
    }
}

/// The fastest and slowest of `runs`.
fn range(runs: &[Run]) -> (Duration, Duration) {
    let times = runs.iter().map(|run| run.elapsed);
    (
        times.clone().min().unwrap_or_default(),
        times.max().unwrap_or_default(),
    )
}

fn ms(time: Duration) -> f64 {
    time.as_secs_f64() * 1e3
}

/// Runs `command` on `file`, stdout discarded, and reads the summary it prints last on stderr.
fn run(mut command: Command, file: &Path) -> Run {
    command.arg(file);
    let measured = measure(&mut command, Stdio::piped());
    let mut stderr = String::new();
    if let Some(mut pipe) = measured.child.stderr {
        let _ = pipe.read_to_string(&mut stderr);
    }
    assert!(measured.success, "{command:?} failed: {stderr}");
    let summary = stderr
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str(line).ok())
        .unwrap_or(serde_json::Value::Null);
    Run {
        elapsed: measured.elapsed,
        peak_kb: measured.peak_kb,
        cpu: measured.cpu,
        minor_faults: measured.minor_faults,
        summary,
    }
}

/// The replay's NDJSON, one body per event, compressed as the sink compresses it (gzip level 1),
/// best of [`ROUNDS`].
pub fn compress_alone(lines: &[String]) -> Compression {
    let builder = DocumentBuilder::new(DocumentOptions::default(), "us-east-1".to_owned());
    let bodies: Vec<Vec<u8>> = lines
        .iter()
        .map(|line| {
            let mut body = Vec::new();
            let docs = builder.documents(&batch_of(decode_line(line), None)).docs;
            bulk::write_ndjson(&docs, &mut body).expect("Vec");
            body
        })
        .collect();
    let (time, gzip_bytes) = best(|| {
        bodies
            .iter()
            .map(|body| {
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                gz.write_all(body).expect("Vec");
                gz.finish().expect("Vec").len()
            })
            .sum()
    });
    Compression {
        time,
        ndjson_bytes: bodies.iter().map(Vec::len).sum(),
        gzip_bytes,
    }
}

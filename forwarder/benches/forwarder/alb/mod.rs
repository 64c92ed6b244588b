//! Access logs: a generated ALB access log of `SLUICE_BENCH_ALB_MB` MB uncompressed (100 by
//! default), gzipped once in memory as the load balancer delivers it to S3, and read
//! - in-process, in turns: the floor (gunzip, split lines, each line written as
//!   `{"message":"…"}`) and the dry run's path (`parse_object` with an ALB key, `record_documents`,
//!   `write_ndjson`), as documents/s and their ratio (target >= 0.5); a ceiling, which writes
//!   documents of the same shape and size without reading the fields, so the most a dry run can
//!   reach; and the dry run's path stopped after each stage, to show where its time goes;
//! - by `sluice-forwarder replay --dry-run s3://bench/KEY` as a child, from an in-bench S3 on
//!   loopback, for the object and one an eighth of its size: peak RSS, which should not grow
//!   with the object.

mod databases;
mod enrichment;
mod generate;
mod memory;
mod passes;
mod rng;

use std::time::{Duration, Instant};

use sluice_forwarder::document::DocumentOptions;
use sluice_forwarder::document::redact::Redactor;
use sluice_forwarder::source::s3::format::alb;

use self::generate::generate;
use self::memory::peak_memory;
use self::passes::{ceiling_pass, documents_pass, floor_pass, gunzip_only, read_object};
use crate::ROUNDS;

const BUCKET: &str = "bench";
/// Keys under AWS's layout for ALB access logs, so the format is told from the key.
const KEY: &str = "AWSLogs/123456789012/elasticloadbalancing/us-east-2/2026/11/29/123456789012_elasticloadbalancing_us-east-2_app.my-alb.50dc6c495c0c9188_20261129T1005Z_198.51.100.1_2kfx.log.gz";
const SMALL_KEY: &str = "AWSLogs/123456789012/elasticloadbalancing/us-east-2/2026/11/29/123456789012_elasticloadbalancing_us-east-2_app.my-alb.50dc6c495c0c9188_20261129T1010Z_198.51.100.1_7qmd.log.gz";
/// 2026-11-29T10:00:00Z: the first line's time and the objects' `LastModified`.
const START_MS: i64 = 1_795_946_400_000;
const TARGET: f64 = 0.5;

/// The generated log, gzipped: the whole size, and its first lines up to an eighth of it.
struct AlbLog {
    gzip: Vec<u8>,
    small_gzip: Vec<u8>,
    bytes: usize,
    lines: usize,
    small_lines: usize,
}

/// A pass over the gzip bytes, with its label.
type Stage<'a> = (&'static str, &'a dyn Fn(&[u8]) -> Pass);

/// What a pass over the log produced: documents (or lines) and bytes written.
#[derive(Clone, Copy, Default)]
struct Pass {
    docs: usize,
    bytes: usize,
}

/// The access log section of the benchmark.
pub fn access_logs() {
    let mb: usize = std::env::var("SLUICE_BENCH_ALB_MB")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(100);
    let log = generate(mb * 1_000_000);
    let megabytes = log.bytes as f64 / 1e6;
    println!(
        "access logs: a generated ALB access log, {megabytes:.1} MB, {} lines, {:.1} MB gzip; best of {ROUNDS} rounds taken in turn",
        log.lines,
        log.gzip.len() as f64 / 1e6
    );
    if std::env::var("SLUICE_BENCH_ONLY").is_ok_and(|only| only == "enrichment") {
        enrichment::enrichment(&log);
        return;
    }
    if let Ok(pass) = std::env::var("SLUICE_BENCH_ALB_PASS") {
        one_pass(&pass, &log);
        return;
    }
    let unredacted = DocumentOptions {
        redactor: Redactor::none(),
        ..DocumentOptions::default()
    };
    let stages: [Stage<'_>; 5] = [
        ("gunzip only", &|gzip| gunzip_only(gzip)),
        ("parse_object, chunks dropped", &|gzip| {
            read_object(gzip, |_| Pass::default())
        }),
        ("parse_object + alb::parse", &|gzip| {
            read_object(gzip, |records| {
                let parsed = records
                    .iter()
                    .filter(|record| alb::parse(&record.text).is_ok())
                    .count();
                Pass {
                    docs: parsed,
                    bytes: 0,
                }
            })
        }),
        ("parse_object + record_documents", &|gzip| {
            documents_pass(gzip, DocumentOptions::default(), false)
        }),
        ("  the same, REDACT_BUILTIN=false", &|gzip| {
            documents_pass(gzip, unredacted.clone(), false)
        }),
    ];
    let best = rounds(&log, &stages, &unredacted);
    report(&log, &best, &stages);
    peak_memory(&log);
    enrichment::enrichment(&log);
}

/// The floor of any gzipped log of lines ([`passes::floor_pass`]): the lines and the bytes
/// written.
pub(crate) fn line_floor(gzip: &[u8]) -> (usize, usize) {
    let pass = floor_pass(gzip);
    (pass.docs, pass.bytes)
}

/// The fastest of [`ROUNDS`] of each pass.
struct Best {
    floor: (Duration, Pass),
    dry_run: (Duration, Pass),
    dry_run_unredacted: (Duration, Pass),
    ceiling: (Duration, Pass),
    ceiling_unredacted: (Duration, Pass),
    staged: [Duration; 5],
}

/// Every pass, [`ROUNDS`] times, taking turns.
fn rounds(log: &AlbLog, stages: &[Stage<'_>; 5], unredacted: &DocumentOptions) -> Best {
    let none = (Duration::MAX, Pass::default());
    let mut best = Best {
        floor: none,
        dry_run: none,
        dry_run_unredacted: none,
        ceiling: none,
        ceiling_unredacted: none,
        staged: [Duration::MAX; 5],
    };
    for _ in 0..ROUNDS {
        best.floor = fastest(best.floor, timed(|| floor_pass(&log.gzip)));
        best.dry_run_unredacted = fastest(
            best.dry_run_unredacted,
            timed(|| documents_pass(&log.gzip, unredacted.clone(), true)),
        );
        best.ceiling = fastest(best.ceiling, timed(|| ceiling_pass(&log.gzip, true)));
        best.ceiling_unredacted = fastest(best.ceiling_unredacted, timed(|| ceiling_pass(&log.gzip, false)));
        best.dry_run = fastest(
            best.dry_run,
            timed(|| documents_pass(&log.gzip, DocumentOptions::default(), true)),
        );
        for ((_, stage), fastest) in stages.iter().zip(&mut best.staged) {
            *fastest = (*fastest).min(timed(|| stage(&log.gzip)).0);
        }
    }
    assert_eq!(
        best.floor.1.docs, log.lines,
        "the floor gives a document per line"
    );
    assert_eq!(
        best.dry_run.1.docs, log.lines,
        "the dry run gives a document per line"
    );
    for ceiling in [best.ceiling, best.ceiling_unredacted] {
        assert_eq!(ceiling.1.docs, log.lines, "the ceiling gives a document per line");
    }
    best
}

/// The figures of the rounds: documents/s and MB/s, and the ratios to the floor.
fn report(log: &AlbLog, best: &Best, stages: &[Stage<'_>; 5]) {
    let megabytes = log.bytes as f64 / 1e6;
    let floor = best.floor;
    row(
        "floor (gunzip, lines, {\"message\":…})",
        log.lines,
        megabytes,
        floor.0,
    );
    row(
        "dry run in-process (parse_object…write_ndjson)",
        log.lines,
        megabytes,
        best.dry_run.0,
    );
    println!(
        "  NDJSON written: floor {:.1} MB, dry run {:.1} MB",
        floor.1.bytes as f64 / 1e6,
        best.dry_run.1.bytes as f64 / 1e6
    );
    let ratio = floor.0.as_secs_f64() / best.dry_run.0.as_secs_f64();
    println!(
        "ratio to floor (documents/s): {ratio:.2} (target >= {TARGET}: {})",
        if ratio >= TARGET { "met" } else { "not met" }
    );
    let ratio_row = |label: &str, (time, pass): (Duration, Pass)| {
        println!(
            "{label:<50} {:>7.0} ms {:>9.0} docs/s; ratio to floor {:.2}; NDJSON {:.1} MB",
            time.as_secs_f64() * 1e3,
            log.lines as f64 / time.as_secs_f64(),
            floor.0.as_secs_f64() / time.as_secs_f64(),
            pass.bytes as f64 / 1e6,
        );
    };
    ratio_row("  ceiling (the same bytes, nothing read or typed)", best.ceiling);
    ratio_row("  the same, REDACT_BUILTIN=false", best.ceiling_unredacted);
    ratio_row("  dry run, REDACT_BUILTIN=false", best.dry_run_unredacted);
    println!("  where the dry run's time goes (each stage includes the ones above it):");
    for ((label, _), time) in stages.iter().zip(best.staged) {
        row(&format!("  {label}"), log.lines, megabytes, time);
    }
}

/// One pass over the log and nothing else, for counting its instructions under valgrind
/// (`SLUICE_BENCH_ALB_PASS=floor|dry-run|ceiling|none`; `none` counts the generating of the log, which
/// the other two include).
fn one_pass(pass: &str, log: &AlbLog) {
    let done = match pass {
        "floor" => floor_pass(&log.gzip),
        "dry-run" => documents_pass(&log.gzip, DocumentOptions::default(), true),
        "ceiling" => ceiling_pass(&log.gzip, true),
        "none" => Pass::default(),
        other => panic!("SLUICE_BENCH_ALB_PASS={other}: floor, dry-run, ceiling or none"),
    };
    println!("{pass}: {} documents, {} bytes written", done.docs, done.bytes);
}

fn timed(run: impl FnOnce() -> Pass) -> (Duration, Pass) {
    let start = Instant::now();
    let pass = std::hint::black_box(run());
    (start.elapsed(), pass)
}

fn fastest(a: (Duration, Pass), b: (Duration, Pass)) -> (Duration, Pass) {
    if b.0 < a.0 { b } else { a }
}

fn row(label: &str, docs: usize, megabytes: f64, time: Duration) {
    let secs = time.as_secs_f64();
    println!(
        "{label:<50} {:>7.0} ms {:>9.0} docs/s {:>7.1} MB/s",
        secs * 1e3,
        docs as f64 / secs,
        megabytes / secs
    );
}

//! Forwarder benchmark (see docs/benchmarks.md): `cargo bench -p sluice-forwarder --bench forwarder`.
//!
//! Generates CloudWatch Logs subscription events with the project's generator
//! (`tools/gen_payloads.py --batches 200 --events 500`, override with
//! `SLUICE_BENCH_GENERATOR`) into `target/bench/`, then measures in the same run:
//! - the floor: base64 + gunzip (flate2's streaming decoder on its `zlib-rs` backend, the fastest
//!   ordinary choice) + serde parse of `LogsData` + re-serialise, nothing else, in the process and
//!   as a whole child process (this benchmark re-run as the floor), alternated with the dry run's
//!   child; and the same floor with the pipeline's own whole-buffer gunzip, to show what that
//!   choice is worth;
//! - the pipeline in-process: the same decode, then documents and `_bulk` NDJSON, with the
//!   default settings and again without the built-in redaction rules (where the time goes);
//! - `sluice-forwarder replay --dry-run FILE` as a child process (wall time, and peak RSS read
//!   from the child's `/proc/PID/status`: [`child`]), when the binary has a working `replay`;
//!   otherwise this benchmark re-runs itself as a child that streams the library pipeline over
//!   the file, so peak memory is still that of a separate process;
//! - one batch of about 1 MB compressed, for the 128 MB Lambda;
//! - `sluice-forwarder replay FILE` end to end into an in-bench `_bulk` server on loopback that
//!   accepts everything: events/s, and the share of the time spent in `_bulk` requests
//!   (compressing, sending, waiting) and in compressing alone;
//! - objects in S3 ([`s3`]): the same events as a Firehose file read in-process, in the same
//!   rounds as the floor and the direct path; and `sluice-forwarder replay s3://…` of a 1 GiB
//!   object (`SLUICE_BENCH_OBJECT_MB`) from an in-bench S3 on loopback, for its peak RSS;
//! - access logs ([`alb`]): a generated ALB log against its own floor. `SLUICE_BENCH_ONLY=access-logs`
//!   runs this section alone, `SLUICE_BENCH_ONLY=enrichment` only its enrichment part (GeoIP,
//!   ASN and user agents on against off, on databases of GeoLite2's size); `SLUICE_BENCH_ONLY=direct` runs only the 200 batches (floors, the
//!   pipeline, the child processes and their ratios);
//! - `replay FILE` against `replay --dry-run FILE`, alternated, with peak RSS and the share of
//!   compression ([`replay`]); `SLUICE_BENCH_ONLY=replay` runs this section alone;
//! - the cost of tags and multiline (issue 13), in more rounds and by CPU time
//!   ([`tags_and_multiline`]). `SLUICE_BENCH_ONLY=tags` runs this section alone.
//! - `replay s3://` of 20 objects of 10 MB ([`replay_s3`]): objects/s and MB/s into the in-bench
//!   `_bulk` endpoint, one object at a time and four at once, against a dry run of the same
//!   objects. `SLUICE_BENCH_ONLY=replay-s3` runs this section alone.
//! - security sources ([`security`]): a GuardDuty findings export and a Route 53 Resolver query
//!   log against their floor, and their peak RSS flat in the object's size.
//!   `SLUICE_BENCH_ONLY=security` runs this section alone.
//! - VPC flow logs as Parquet ([`parquet`]): a generated 100 MB file read against the floor of
//!   decoding its columns alone, and the peak RSS of reading it whole against its first eighth.
//!   `SLUICE_BENCH_ONLY=parquet` runs this section alone.

mod alb;
mod bulk_server;
mod child;
mod mmdb_writer;
mod parquet;
mod replay;
mod replay_s3;
mod s3;
mod security;

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;

use self::bulk_server::BulkServer;
use self::child::{best_child, child_command, run_child};

use sluice_forwarder::document::redact::Redactor;
use sluice_forwarder::document::{DocumentBuilder, DocumentOptions, Multiline};
use sluice_forwarder::opensearch::bulk;
use sluice_forwarder::source::subscription::{self as batch, LogsData};
use sluice_forwarder::source::tags::LogGroupTags;
use sluice_forwarder::source::{Ack, Batch};

/// Set in the child process this benchmark starts to measure the library pipeline's memory.
const WORKER_ENV: &str = "SLUICE_BENCH_WORKER";
/// Set, beside [`WORKER_ENV`], in the child that runs the floor as a whole process.
const FLOOR_ENV: &str = "SLUICE_BENCH_FLOOR";
const ROUNDS: usize = 5;

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

fn batch_of(data: LogsData, tags: Option<Arc<LogGroupTags>>) -> Arc<Batch> {
    Arc::new(Batch {
        ack: Ack::Invocation,
        data,
        tags,
    })
}

fn main() {
    if let Ok(file) = std::env::var(parquet::WORKER_ENV) {
        parquet::worker(&file);
        return;
    }
    if let Ok(file) = std::env::var(WORKER_ENV) {
        match std::env::var_os(FLOOR_ENV) {
            Some(_) => floor_worker(Path::new(&file)).expect("writing the batches to stdout"),
            None => worker(Path::new(&file)).expect("writing NDJSON to stdout"),
        }
        return;
    }
    // `cargo bench` passes `--bench`; a filter argument is accepted and ignored.
    let only = std::env::var("SLUICE_BENCH_ONLY").unwrap_or_default();
    if only == "access-logs" || only == "enrichment" {
        alb::access_logs();
        return;
    }
    if only == "security" {
        security::security();
        return;
    }
    if only == "parquet" {
        parquet::flow_logs();
        return;
    }
    let dir = target_dir().join("bench");
    std::fs::create_dir_all(&dir).expect("create target/bench");
    let payloads = dir.join("forwarder-200x500.ndjson");
    generate(&payloads, &["--batches", "200", "--events", "500"]);
    let lines = read_lines(&payloads);
    let events: usize = 200 * 500;
    if only == "tags" {
        tags_and_multiline(&lines);
        return;
    }
    if only == "replay-s3" {
        replay_s3::many_objects(&lines);
        return;
    }
    if only == "replay" {
        let mb = floor_pass(&lines, streaming_gunzip) as f64 / 1e6;
        replay::replay_against_dry_run(&payloads, events, mb, &lines);
        return;
    }

    let (command, mb, firehose_file) = direct(&payloads, &lines, events);
    if only == "direct" {
        return;
    }
    one_megabyte(&dir, &command);
    end_to_end(&payloads, events, mb, &lines);
    s3::big_objects(&lines, &firehose_file);
    replay_s3::many_objects(&lines);
    alb::access_logs();
    security::security();
    parquet::flow_logs();
    // Last: it makes the allocator keep what it frees, which would count in the peak RSS of the
    // child processes measured above.
    tags_and_multiline(&lines);
}

/// The in-process and child-process figures of the 200 batches.
struct Direct {
    floor: Duration,
    floor_whole: Duration,
    pipeline: Duration,
    unredacted: Duration,
    firehose: Duration,
    child_time: Duration,
    child_rss: u64,
    floor_child: Duration,
    raw_bytes: usize,
    ndjson_bytes: usize,
    firehose_ndjson: usize,
}

/// The 200 batches: the floors, the pipeline in-process, the Firehose file, and the dry run and
/// the floor as child processes, in rounds taken in turn. Returns the child's command, the
/// batches' size in MB and the Firehose file, for the sections after it.
fn direct(payloads: &Path, lines: &[String], events: usize) -> (Command, f64, s3::FirehoseFile) {
    println!(
        "forwarder benchmark: {} batches, {events} events, best of {ROUNDS} rounds taken in turn",
        lines.len()
    );
    let (label, command) = child_command();
    let firehose_file = s3::FirehoseFile::of(lines);
    let figures = direct_rounds(payloads, lines, &command, &firehose_file);
    let mb = figures.raw_bytes as f64 / 1e6;
    direct_report(&figures, &label, events, mb, &firehose_file);
    (command, mb, firehose_file)
}

/// [`ROUNDS`] of every pass of [`direct`], taking turns, so that a machine whose speed drifts
/// during the run slows every figure alike and the ratios stay fair.
fn direct_rounds(
    payloads: &Path,
    lines: &[String],
    command: &Command,
    firehose_file: &s3::FirehoseFile,
) -> Direct {
    let unredacted_options = DocumentOptions {
        redactor: Redactor::none(),
        ..DocumentOptions::default()
    };
    let mut floor_command = Command::new(std::env::current_exe().expect("the benchmark knows its own path"));
    floor_command.env(FLOOR_ENV, "1");
    let mut f = Direct {
        floor: Duration::MAX,
        floor_whole: Duration::MAX,
        pipeline: Duration::MAX,
        unredacted: Duration::MAX,
        firehose: Duration::MAX,
        child_time: Duration::MAX,
        child_rss: 0,
        floor_child: Duration::MAX,
        raw_bytes: 0,
        ndjson_bytes: 0,
        firehose_ndjson: 0,
    };
    for _ in 0..ROUNDS {
        let (time, bytes) = timed(|| floor_pass(lines, streaming_gunzip));
        (f.floor, f.raw_bytes) = (f.floor.min(time), bytes);
        f.floor_whole = f
            .floor_whole
            .min(timed(|| floor_pass(lines, |bytes| batch::gunzip(bytes).expect("gzip"))).0);
        let (time, bytes) = timed(|| run_pipeline(lines, DocumentOptions::default(), None));
        (f.pipeline, f.ndjson_bytes) = (f.pipeline.min(time), bytes);
        f.unredacted = f
            .unredacted
            .min(timed(|| run_pipeline(lines, unredacted_options.clone(), None)).0);
        let (time, bytes) = timed(|| s3::firehose_pass(&firehose_file.bytes, DocumentOptions::default()));
        (f.firehose, f.firehose_ndjson) = (f.firehose.min(time), bytes);
        let (time, rss) = run_child(command, payloads);
        (f.child_time, f.child_rss) = (f.child_time.min(time), f.child_rss.max(rss));
        f.floor_child = f.floor_child.min(run_child(&floor_command, payloads).0);
    }
    f
}

/// Prints the figures of [`direct`] and their ratios.
fn direct_report(f: &Direct, label: &str, events: usize, mb: f64, firehose_file: &s3::FirehoseFile) {
    report("floor (base64+gunzip+parse+serialise)", events, mb, f.floor);
    report(
        "floor with whole-buffer gunzip (libdeflate)",
        events,
        mb,
        f.floor_whole,
    );
    report("pipeline in-process", events, mb, f.pipeline);
    report(
        "pipeline in-process, REDACT_BUILTIN=false",
        events,
        mb,
        f.unredacted,
    );
    println!("  pipeline NDJSON output: {:.1} MB", f.ndjson_bytes as f64 / 1e6);
    report("Firehose file in-process (parse_object)", events, mb, f.firehose);
    println!(
        "  the Firehose file: {} gzip members, {:.1} MB ({:.1} MB/s of gzip); its NDJSON is the direct path's, byte for byte",
        firehose_file.members.len(),
        firehose_file.bytes.len() as f64 / 1e6,
        firehose_file.bytes.len() as f64 / 1e6 / f.firehose.as_secs_f64()
    );
    assert_eq!(
        f.firehose_ndjson, f.ndjson_bytes,
        "the Firehose file gives other documents"
    );
    report("floor (child process)", events, mb, f.floor_child);
    report(&format!("{label} (child process)"), events, mb, f.child_time);
    println!(
        "  peak RSS {label}: {:.1} MB (target <= 24 MB)",
        f.child_rss as f64 / 1024.0
    );
    println!(
        "ratio to floor: child process {:.2} (target >= 0.75), in-process {:.2}, without built-in redaction {:.2}",
        f.floor.as_secs_f64() / f.child_time.as_secs_f64(),
        f.floor.as_secs_f64() / f.pipeline.as_secs_f64(),
        f.floor.as_secs_f64() / f.unredacted.as_secs_f64()
    );
    println!(
        "ratio of the child processes, alternated (dry run to floor): {:.2}",
        f.floor_child.as_secs_f64() / f.child_time.as_secs_f64()
    );
    println!(
        "ratio to the floor with whole-buffer gunzip: child process {:.2}, in-process {:.2}",
        f.floor_whole.as_secs_f64() / f.child_time.as_secs_f64(),
        f.floor_whole.as_secs_f64() / f.pipeline.as_secs_f64(),
    );
    println!(
        "Firehose file in-process: ratio to floor {:.2}, to the direct path in-process {:.2}",
        f.floor.as_secs_f64() / f.firehose.as_secs_f64(),
        f.pipeline.as_secs_f64() / f.firehose.as_secs_f64(),
    );
}

/// One batch of about 1 MB compressed, as the 128 MB Lambda receives it.
fn one_megabyte(dir: &Path, command: &Command) {
    let big = dir.join("forwarder-1mb.ndjson");
    generate_one_megabyte(&big);
    let big_len = std::fs::metadata(&big).map(|m| m.len()).unwrap_or_default();
    let (big_time, big_rss) = best_child(command, &big);
    println!(
        "one batch of {:.2} MB base64 ({:.2} MB gzip): {:.0} ms, peak RSS {:.1} MB (target < 64 MB)",
        big_len as f64 / 1e6,
        big_len as f64 * 0.75 / 1e6,
        big_time.as_secs_f64() * 1e3,
        big_rss as f64 / 1024.0
    );
}

/// Rounds of the tags and multiline comparison: a 10 % difference needs more than the five
/// rounds of the others.
const TAG_ROUNDS: usize = 21;

/// Issue 13's cost: the pipeline with MULTILINE=off and no tags, against MULTILINE=auto (the
/// default) with four tags on every batch, as `LOG_GROUP_TAGS` sets them. Each round runs both, in
/// alternating order, timed by the thread's CPU time, so that time the machine gives to others
/// does not count; glibc is told to keep freed memory, so that its returning and re-faulting large
/// blocks (which varies from round to round) does not either. Prints the best of each, their
/// ratio (the verdict: every figure of this benchmark is a best of rounds), and the median of the
/// rounds' ratios, which a loaded machine moves more.
fn tags_and_multiline(lines: &[String]) {
    // SAFETY: mallopt only sets glibc's thresholds; nothing else allocates concurrently here.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
    let plain_options = DocumentOptions {
        multiline: Multiline::Off,
        ..DocumentOptions::default()
    };
    let tags = Arc::new(LogGroupTags::new([
        ("team", "payments"),
        ("service", "checkout"),
        ("env", "prod"),
        ("aws:cloudformation:stack-name", "payments-prod"),
    ]));
    let plain_run = || run_pipeline(lines, plain_options.clone(), None);
    let tagged_run = || run_pipeline(lines, DocumentOptions::default(), Some(&tags));
    let (plain_bytes, tagged_bytes) = (plain_run(), tagged_run());
    let (mut plain, mut tagged) = (Duration::MAX, Duration::MAX);
    let mut ratios = Vec::with_capacity(TAG_ROUNDS);
    for round in 0..TAG_ROUNDS {
        let (a, b) = if round % 2 == 0 {
            let a = cpu_timed(plain_run);
            (a, cpu_timed(tagged_run))
        } else {
            let b = cpu_timed(tagged_run);
            (cpu_timed(plain_run), b)
        };
        plain = plain.min(a);
        tagged = tagged.min(b);
        ratios.push(b.as_secs_f64() / a.as_secs_f64());
    }
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2] - 1.0;
    let best = tagged.as_secs_f64() / plain.as_secs_f64() - 1.0;
    println!("tags and multiline: {TAG_ROUNDS} rounds, each variant in turn, thread CPU time");
    println!(
        "  MULTILINE=off, no tags      best {:>6.0} ms, NDJSON {:.1} MB",
        plain.as_secs_f64() * 1e3,
        plain_bytes as f64 / 1e6
    );
    println!(
        "  MULTILINE=auto, 4 tags      best {:>6.0} ms, NDJSON {:.1} MB",
        tagged.as_secs_f64() * 1e3,
        tagged_bytes as f64 / 1e6
    );
    println!(
        "  cost of tags and multiline together: {:+.1} % best to best (target < 10 %: {}); median of the rounds {:+.1} % ({:+.1} % to {:+.1} %)",
        best * 100.0,
        if best < 0.10 { "met" } else { "not met" },
        median * 100.0,
        (ratios[0] - 1.0) * 100.0,
        (ratios[ratios.len() - 1] - 1.0) * 100.0,
    );
}

/// The CPU time of this thread spent in `run`.
fn cpu_timed(run: impl FnOnce() -> usize) -> Duration {
    let start = thread_cpu_time();
    std::hint::black_box(run());
    thread_cpu_time().saturating_sub(start)
}

fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec for the call to fill.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// The library pipeline over a file of events, NDJSON to stdout: what `replay --dry-run` does.
fn worker(file: &Path) -> io::Result<()> {
    let builder = DocumentBuilder::new(DocumentOptions::default(), "us-east-1".to_owned());
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    for line in BufReader::new(File::open(file)?).lines() {
        let docs = builder.documents(&batch_of(decode_line(&line?), None));
        bulk::write_ndjson(&docs.docs, &mut out)?;
    }
    out.flush()
}

/// The floor as a whole process: each batch of `file` decoded and written back to stdout.
fn floor_worker(file: &Path) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let mut batch = Vec::new();
    for line in BufReader::new(File::open(file)?).lines() {
        floor_one(&line?, streaming_gunzip, &mut batch);
        out.write_all(&batch)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

/// flate2's streaming gzip decoder, as the floor uses it.
fn streaming_gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut json = Vec::with_capacity(bytes.len() * 8);
    io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(bytes), &mut json).expect("gzip");
    json
}

fn floor_pass(lines: &[String], gunzip: impl Fn(&[u8]) -> Vec<u8>) -> usize {
    let mut raw_bytes = 0;
    let mut out = Vec::new();
    for line in lines {
        floor_one(line, &gunzip, &mut out);
        raw_bytes += out.len();
    }
    raw_bytes
}

/// One event of the floor: base64, gunzip, parse, and the batch serialised again into `out`.
fn floor_one(line: &str, gunzip: impl Fn(&[u8]) -> Vec<u8>, out: &mut Vec<u8>) {
    use base64::Engine as _;
    let envelope: Envelope<'_> = serde_json::from_str(line).expect("generator writes awslogs events");
    let gzip = base64::engine::general_purpose::STANDARD
        .decode(envelope.awslogs.data.as_bytes())
        .expect("base64");
    let data: LogsData = serde_json::from_slice(&gunzip(&gzip)).expect("a batch");
    out.clear();
    serde_json::to_writer(&mut *out, &data).expect("serialisable");
}

/// The library pipeline over the events; with `tags`, every batch carries them as the
/// `LOG_GROUP_TAGS` lookup would have set them (the lookup itself is once per group per TTL).
fn run_pipeline(lines: &[String], options: DocumentOptions, tags: Option<&Arc<LogGroupTags>>) -> usize {
    let builder = DocumentBuilder::new(options, "us-east-1".to_owned());
    let mut written = 0;
    let mut out = Vec::new();
    for line in lines {
        let docs = builder.documents(&batch_of(decode_line(line), tags.cloned()));
        out.clear();
        bulk::write_ndjson(&docs.docs, &mut out).expect("writes to a Vec");
        written += out.len();
    }
    written
}

fn timed(run: impl FnOnce() -> usize) -> (Duration, usize) {
    let start = Instant::now();
    let result = std::hint::black_box(run());
    (start.elapsed(), result)
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

/// `replay FILE` into the in-bench `_bulk` server: the whole way, HTTP and gzip included.
fn end_to_end(payloads: &Path, events: usize, mb: f64, lines: &[String]) {
    let server = BulkServer::start();
    let before = server.documents.load(std::sync::atomic::Ordering::Relaxed);
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_sluice-forwarder"));
    let mut fastest = Duration::MAX;
    let mut summary = serde_json::Value::Null;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let output = Command::new(&binary)
            .args(["replay"])
            .arg(payloads)
            .env("OPENSEARCH_ENDPOINT", format!("http://{}", server.address))
            .env("OPENSEARCH_AUTH", "none")
            .env("AWS_REGION", "us-east-1")
            .env("LOG_LEVEL", "warn")
            .stdout(Stdio::null())
            .output()
            .expect("run replay");
        let elapsed = start.elapsed();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "replay failed: {stderr}");
        if elapsed < fastest {
            fastest = elapsed;
            summary = stderr
                .lines()
                .rev()
                .find_map(|line| serde_json::from_str(line).ok())
                .expect("replay prints its summary");
        }
    }
    assert_eq!(summary["indexed"].as_u64(), Some(events as u64), "{summary}");
    report("replay into a local _bulk endpoint (child)", events, mb, fastest);
    let compress = replay::compress_alone(lines).time;
    let wall = fastest.as_secs_f64() * 1e3;
    let bulk_ms = summary["bulk_ms"].as_f64().unwrap_or_default();
    println!(
        "  {} bulk requests; time in _bulk requests (compress, send, answer) {bulk_ms:.0} ms = {:.0}% of the wall time; compressing alone {:.0} ms = {:.0}%",
        summary["bulk_requests"],
        100.0 * bulk_ms / wall,
        compress.as_secs_f64() * 1e3,
        100.0 * compress.as_secs_f64() * 1e3 / wall
    );
    let received = server.documents.load(std::sync::atomic::Ordering::Relaxed) - before;
    println!(
        "  the server received {received} documents in {} requests over {ROUNDS} rounds",
        server.requests.load(std::sync::atomic::Ordering::Relaxed)
    );
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

fn generator() -> PathBuf {
    std::env::var_os("SLUICE_BENCH_GENERATOR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/gen_payloads.py"))
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

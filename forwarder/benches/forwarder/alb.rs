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

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use flate2::bufread::MultiGzDecoder;

use sluice_forwarder::document::access::alb;
use sluice_forwarder::document::redact::Redactor;
use sluice_forwarder::document::write::{push_json_str_bytes, push_str, push_text, push_u64};
use sluice_forwarder::document::{DocumentBuilder, DocumentOptions};
use sluice_forwarder::opensearch::bulk;
use sluice_forwarder::source::Ack;
use sluice_forwarder::source::s3::read::{Stopped, parse_object};
use sluice_forwarder::source::s3::{Chunk, Format, ObjectMeta, S3Options};

use crate::child::{field_kb, measure};
use crate::s3::{Object, S3Server};
use crate::{ROUNDS, target_dir};

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
    let mut floor = (Duration::MAX, Pass::default());
    let mut dry_run = (Duration::MAX, Pass::default());
    let mut dry_run_unredacted = (Duration::MAX, Pass::default());
    let mut ceiling = (Duration::MAX, Pass::default());
    let mut ceiling_unredacted = (Duration::MAX, Pass::default());
    let mut staged = [Duration::MAX; 5];
    for _ in 0..ROUNDS {
        floor = fastest(floor, timed(|| floor_pass(&log.gzip)));
        dry_run_unredacted = fastest(
            dry_run_unredacted,
            timed(|| documents_pass(&log.gzip, unredacted.clone(), true)),
        );
        ceiling = fastest(ceiling, timed(|| ceiling_pass(&log.gzip, true)));
        ceiling_unredacted = fastest(ceiling_unredacted, timed(|| ceiling_pass(&log.gzip, false)));
        dry_run = fastest(
            dry_run,
            timed(|| documents_pass(&log.gzip, DocumentOptions::default(), true)),
        );
        for ((_, stage), best) in stages.iter().zip(&mut staged) {
            *best = (*best).min(timed(|| stage(&log.gzip)).0);
        }
    }
    assert_eq!(floor.1.docs, log.lines, "the floor gives a document per line");
    assert_eq!(dry_run.1.docs, log.lines, "the dry run gives a document per line");
    for ceiling in [ceiling, ceiling_unredacted] {
        assert_eq!(ceiling.1.docs, log.lines, "the ceiling gives a document per line");
    }
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
        dry_run.0,
    );
    println!(
        "  NDJSON written: floor {:.1} MB, dry run {:.1} MB",
        floor.1.bytes as f64 / 1e6,
        dry_run.1.bytes as f64 / 1e6
    );
    let ratio = floor.0.as_secs_f64() / dry_run.0.as_secs_f64();
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
    ratio_row("  ceiling (the same bytes, nothing read or typed)", ceiling);
    ratio_row("  the same, REDACT_BUILTIN=false", ceiling_unredacted);
    ratio_row("  dry run, REDACT_BUILTIN=false", dry_run_unredacted);
    println!("  where the dry run's time goes (each stage includes the ones above it):");
    for ((label, _), time) in stages.iter().zip(staged) {
        row(&format!("  {label}"), log.lines, megabytes, time);
    }
    peak_memory(&log);
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

/// `{"message":"<line>"}` and a newline per line, into a reused buffer: the least a forwarder of
/// this log does.
fn floor_pass(gzip: &[u8]) -> Pass {
    let mut reader = BufReader::with_capacity(256 * 1024, MultiGzDecoder::new(gzip));
    let mut line = Vec::new();
    let mut out = Vec::with_capacity(2 << 20);
    let mut pass = Pass::default();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).expect("gzip") == 0 {
            break;
        }
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        if line.is_empty() {
            continue;
        }
        out.extend_from_slice(b"{\"message\":");
        push_json_str_bytes(&mut out, std::str::from_utf8(&line).expect("the log is UTF-8"));
        out.extend_from_slice(b"}\n");
        pass.docs += 1;
        if out.len() >= 1 << 20 {
            pass.bytes += out.len();
            out.clear();
        }
    }
    pass.bytes += out.len();
    pass
}

/// The dry run's output with none of its reading: what the document costs to write at the
/// least. Each line is redacted and given its `_id` as the dry run does, and written into one
/// buffer per chunk (no allocation per document) as an action line and a document of the same
/// shape and about the same size: every field of the line copied as a string under an ALB name,
/// nothing checked or typed (no number, address, time or request read), the line's own time
/// text as `@timestamp`, the escaped line as `message`, where it came from, and the client,
/// request and user agent fields copied again as the shared fields. Only the line is escaped:
/// the generated log's fields need no escaping, so they are copied between quotes (`push_text`
/// with `plain`). A dry run,
/// which must also read and type every field, takes longer than this: its ratio to the floor
/// is the most a dry run can reach on this machine with today's redaction and `_id`s. Without
/// `redact`, it is the same with `REDACT_BUILTIN=false`.
fn ceiling_pass(gzip: &[u8], redact: bool) -> Pass {
    const NAMES: [&str; 33] = [
        "type",
        "time",
        "elb",
        "client_port",
        "target_port",
        "request_processing_time",
        "target_processing_time",
        "response_processing_time",
        "elb_status_code",
        "target_status_code",
        "received_bytes",
        "sent_bytes",
        "request",
        "user_agent",
        "ssl_cipher",
        "ssl_protocol",
        "target_group_arn",
        "trace_id",
        "domain_name",
        "chosen_cert_arn",
        "matched_rule_priority",
        "request_creation_time",
        "actions_executed",
        "redirect_url",
        "error_reason",
        "target_port_list",
        "target_status_code_list",
        "classification",
        "classification_reason",
        "conn_trace_id",
        "transformed_host",
        "transformed_uri",
        "request_transform_status",
    ];
    let redactor = Redactor::new(redact, &[]).expect("no custom patterns");
    let meta = object();
    let ids = meta.record_ids();
    let mut header = String::from(",\"format\":\"alb\",\"s3\":{\"bucket\":");
    push_str(&mut header, &meta.bucket);
    header.push_str(",\"key\":");
    push_str(&mut header, &meta.key);
    header.push_str(",\"line\":");
    let mut out = String::with_capacity(4 << 20);
    let mut pass = Pass::default();
    read_object(gzip, |records| {
        out.clear();
        for record in records {
            let line = redactor.redact(&record.text);
            let id = ids.id(record.number);
            out.push_str("{\"index\":{\"_index\":\"alb-2026.11.29\",\"_id\":\"");
            out.push_str(&id);
            out.push_str("\"}}\n{\"alb\":{");
            // The fields the document repeats: time, client, request and user agent.
            let mut kept = [""; 4];
            for (number, field) in split_fields(&line).enumerate() {
                if number > 0 {
                    out.push(',');
                }
                push_text(
                    &mut out,
                    NAMES.get(number).copied().unwrap_or("extra_fields"),
                    true,
                );
                out.push(':');
                push_text(&mut out, field, true);
                match number {
                    1 => kept[0] = field,
                    3 => kept[1] = field,
                    12 => kept[2] = field,
                    13 => kept[3] = field,
                    _ => {}
                }
            }
            out.push_str("},\"@timestamp\":");
            push_text(&mut out, kept[0], true);
            out.push_str(",\"message\":");
            push_str(&mut out, &line);
            out.push_str(&header);
            push_u64(&mut out, record.number);
            out.push_str("},\"event_id\":\"");
            out.push_str(&id);
            out.push('"');
            for (key, field) in ["client", "url", "user_agent"].iter().zip(&kept[1..]) {
                out.push(',');
                push_text(&mut out, key, true);
                out.push(':');
                push_text(&mut out, field, true);
            }
            out.push_str("}\n");
        }
        pass.docs += records.len();
        pass.bytes += out.len();
        Pass::default()
    });
    pass
}

/// A line's fields: split on spaces, a field in quotes running to the next quote (no escapes:
/// the generated log has none). Not `access::split_quoted`, which collects a vector per line and
/// unescapes: the ceiling does the least a reader of the line can.
fn split_fields(line: &str) -> impl Iterator<Item = &str> {
    let bytes = line.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        while bytes.get(at) == Some(&b' ') {
            at += 1;
        }
        if at >= bytes.len() {
            return None;
        }
        let (start, end) = match bytes[at] {
            b'"' => (
                at + 1,
                memchr::memchr(b'"', &bytes[at + 1..]).map_or(bytes.len(), |end| at + 1 + end),
            ),
            _ => (
                at,
                memchr::memchr(b' ', &bytes[at..]).map_or(bytes.len(), |end| at + end),
            ),
        };
        at = end + 1;
        Some(&line[start..end])
    })
}

fn gunzip_only(gzip: &[u8]) -> Pass {
    let bytes = io::copy(&mut MultiGzDecoder::new(gzip), &mut io::sink()).expect("gzip");
    Pass {
        docs: 0,
        bytes: bytes as usize,
    }
}

/// `parse_object` over the log with its ALB key, each chunk's records handed to `each`.
fn read_object(gzip: &[u8], mut each: impl FnMut(&[sluice_forwarder::source::s3::Record]) -> Pass) -> Pass {
    let mut pass = Pass::default();
    let read = parse_object(gzip, object(), Ack::Invocation, &S3Options::default(), |chunk| {
        let Chunk::Records(records) = chunk else {
            panic!("an ALB log is lines");
        };
        let done = each(&records.records);
        (pass.docs, pass.bytes) = (pass.docs + done.docs, pass.bytes + done.bytes);
        Ok::<(), Stopped>(())
    })
    .expect("the log parses");
    assert_eq!(read.meta.format, Format::Alb);
    pass
}

/// The dry run's path: documents of every chunk, and their `_bulk` NDJSON into a reused buffer
/// when `ndjson`.
fn documents_pass(gzip: &[u8], options: DocumentOptions, ndjson: bool) -> Pass {
    let builder = DocumentBuilder::new(options, "us-east-1".to_owned());
    let mut pass = Pass::default();
    let mut out = Vec::new();
    parse_object(gzip, object(), Ack::Invocation, &S3Options::default(), |chunk| {
        let Chunk::Records(records) = chunk else {
            panic!("an ALB log is lines");
        };
        let docs = builder.record_documents(&Arc::new(records));
        assert_eq!(docs.unparsed, 0, "every generated line parses");
        pass.docs += docs.docs.len();
        if ndjson {
            out.clear();
            bulk::write_ndjson(&docs.docs, &mut out).map_err(|_| Stopped)?;
            pass.bytes += out.len();
        }
        Ok(())
    })
    .expect("the log parses");
    pass
}

/// The object as `GetObject` would describe it; the format is found from the key.
fn object() -> ObjectMeta {
    ObjectMeta {
        bucket: BUCKET.to_owned(),
        key: KEY.to_owned(),
        etag: "0123456789abcdef0123456789abcdef".to_owned(),
        last_modified_ms: START_MS,
        format: Format::TextLines,
        key_fields: Vec::new(),
    }
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

/// `replay --dry-run s3://bench/KEY` of the object and of its first eighth, from an in-bench S3.
fn peak_memory(log: &AlbLog) {
    let s3 = S3Server::start(vec![
        Object::whole(KEY, log.gzip.clone()),
        Object::whole(SMALL_KEY, log.small_gzip.clone()),
    ]);
    println!("  replay --dry-run s3://{BUCKET}/KEY > /dev/null from an in-bench S3 (one run each):");
    let mut peaks = Vec::new();
    for (key, gzip, lines) in [
        (SMALL_KEY, &log.small_gzip, log.small_lines),
        (KEY, &log.gzip, log.lines),
    ] {
        let run = replay_dry_run(&s3, key, lines);
        let secs = run.elapsed.as_secs_f64();
        println!(
            "    {:.1} MB gzip, {lines} lines: {secs:.2} s, {:.0} docs/s; peak RSS {:.1} MB \
             (wait4's ru_maxrss {:.1} MB, this benchmark's own peak RSS {:.1} MB)",
            gzip.len() as f64 / 1e6,
            lines as f64 / secs,
            run.peak_kb as f64 / 1024.0,
            run.maxrss_kb as f64 / 1024.0,
            own_kb("VmHWM:") as f64 / 1024.0,
        );
        peaks.push(run.peak_kb as f64);
    }
    println!(
        "  peak RSS of the whole object over its eighth: {:.2} (flat in the object's size: about 1)",
        peaks[1] / peaks[0]
    );
}

/// A child that has exited, measured.
struct Run {
    elapsed: Duration,
    /// The child's own peak RSS in KiB: `VmHWM` of its `/proc/PID/status`.
    peak_kb: u64,
    /// `wait4`'s `ru_maxrss` in KiB.
    maxrss_kb: u64,
}

/// One dry run as a child, stdout discarded, measured by [`measure`]: its own peak RSS, not
/// `wait4`'s (see [`crate::child`]).
fn replay_dry_run(s3: &S3Server, key: &str, lines: usize) -> Run {
    let log = target_dir().join("bench").join("replay-alb.stderr");
    let stderr = File::create(&log).expect("create the child's stderr file");
    let mut command = Command::new(PathBuf::from(env!("CARGO_BIN_EXE_sluice-forwarder")));
    command
        .args(["replay", "--dry-run", &format!("s3://{BUCKET}/{key}")])
        .env("AWS_ENDPOINT_URL", format!("http://{}", s3.address))
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env("LOG_LEVEL", "warn");
    let measured = measure(&mut command, Stdio::from(stderr));
    let stderr = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        measured.success,
        "replay --dry-run s3://{BUCKET}/{key} failed: {stderr}"
    );
    let summary: serde_json::Value = stderr
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str(line).ok())
        .expect("replay prints its summary");
    assert_eq!(summary["events"].as_u64(), Some(lines as u64), "{summary}");
    assert_eq!(summary["objects"].as_u64(), Some(1), "{summary}");
    assert!(summary.get("unparsed").is_none(), "{summary}");
    Run {
        elapsed: measured.elapsed,
        peak_kb: measured.peak_kb,
        maxrss_kb: measured.maxrss_kb,
    }
}

/// A `kB` field of this process's own `/proc/self/status`.
fn own_kb(name: &str) -> u64 {
    field_kb(
        &std::fs::read_to_string("/proc/self/status").unwrap_or_default(),
        name,
    )
}

/// Generates the log a line at a time into two gzip encoders (flate2's default level): the whole
/// log, and its lines up to an eighth of `target` bytes.
fn generate(target: usize) -> AlbLog {
    use flate2::{Compression, write::GzEncoder};
    let mut whole = GzEncoder::new(Vec::new(), Compression::default());
    let mut small = GzEncoder::new(Vec::new(), Compression::default());
    let mut lines = Lines::new(0x5eed_a1b0);
    let (mut bytes, mut count, mut small_lines) = (0, 0, 0);
    let mut line = String::with_capacity(1024);
    while bytes < target {
        line.clear();
        lines.next(&mut line);
        line.push('\n');
        whole.write_all(line.as_bytes()).expect("Vec");
        if bytes < target / 8 {
            small.write_all(line.as_bytes()).expect("Vec");
            small_lines += 1;
        }
        bytes += line.len();
        count += 1;
    }
    AlbLog {
        gzip: whole.finish().expect("Vec"),
        small_gzip: small.finish().expect("Vec"),
        bytes,
        lines: count,
        small_lines,
    }
}

/// SplitMix64 (<https://prng.di.unimi.it/splitmix64.c>): seeded, so every run has the same log.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    fn hex(&mut self, digits: usize) -> String {
        (0..digits)
            .map(|_| char::from(b"0123456789abcdef"[self.below(16) as usize]))
            .collect()
    }
}

const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",
    "curl/8.5.0",
    "python-requests/2.32.3",
    "Go-http-client/1.1",
    "ELB-HealthChecker/2.0",
    "okhttp/4.12.0",
    "-",
];
const DOMAINS: &[&str] = &[
    "www.example.com",
    "api.example.com",
    "shop.example.net",
    "static.example.org",
];
const PATHS: &[&str] = &[
    "/",
    "/index.html",
    "/api/v1/orders",
    "/api/v1/orders/",
    "/api/v1/users/",
    "/search",
    "/products/",
    "/static/js/app.",
    "/images/products/",
    "/healthz",
    "/login",
    "/checkout",
    "/cart/items",
];
const QUERIES: &[&str] = &[
    "?page=",
    "?q=running+shoes&page=",
    "?utm_source=newsletter&utm_medium=email&utm_campaign=nov",
    "?sort=price_asc&limit=",
    "?id=",
    "?lang=en-US&ref=",
];
const TARGET_GROUPS: &[&str] = &[
    "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/web-targets/73e2d6bc24d8a067",
    "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/api-targets/1f3a7c9e5b2d4f60",
    "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/static-targets/9b8c7d6e5f4a3b21",
];
const LAMBDA_GROUP: &str =
    "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/checkout-fn/0a1b2c3d4e5f6a7b";
const CERT: &str = "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012";

/// ALB access log lines as AWS documents them (30 fields, to `conn_trace_id`), times rising.
struct Lines {
    rng: Rng,
    time_us: i64,
    /// `ip:port` of the targets, a third in each target group.
    targets: Vec<String>,
    clients: Vec<String>,
}

impl Lines {
    fn new(seed: u64) -> Lines {
        let mut rng = Rng(seed);
        let targets = (0..24)
            .map(|i| {
                let port = [80, 8080, 8443, 9000][i % 4];
                format!("10.0.{}.{}:{port}", 1 + i % 3, 10 + rng.below(240))
            })
            .collect();
        let clients = (0..4000)
            .map(|i| match i % 7 {
                // One client in seven on IPv6, logged as `address:port` without brackets.
                0 => format!(
                    "2001:db8:{:x}:{:x}::{:x}",
                    rng.below(0xffff),
                    rng.below(0xffff),
                    rng.below(0xfff)
                ),
                _ => format!(
                    "{}.{}.{}.{}",
                    [198, 203, 192, 52, 34, 81, 93, 172][rng.below(8) as usize],
                    rng.below(256),
                    rng.below(256),
                    1 + rng.below(254)
                ),
            })
            .collect();
        Lines {
            rng,
            time_us: START_MS * 1000,
            targets,
            clients,
        }
    }

    /// Appends one line to `out`.
    fn next(&mut self, out: &mut String) {
        use std::fmt::Write as _;
        let rng = &mut self.rng;
        self.time_us += rng.below(2400) as i64;
        let kind = match rng.below(100) {
            0..30 => "http",
            30..90 => "https",
            90..98 => "h2",
            98 => "ws",
            _ => "wss",
        };
        let tls = matches!(kind, "https" | "h2" | "wss");
        let lambda = rng.below(100) < 4;
        let group = if lambda {
            LAMBDA_GROUP
        } else {
            TARGET_GROUPS[rng.below(3) as usize]
        };
        let target = match lambda {
            true => "-".to_owned(),
            false => self.targets[rng.below(self.targets.len() as u64) as usize].clone(),
        };
        // The answer: (ELB status, target status, whether the request reached a target, action,
        // error reason).
        let roll = rng.below(1000);
        let (elb, target_status, dispatched, action, error) = match roll {
            0..820 => (200, Some(200), true, "forward", "-"),
            820..845 => (204, Some(204), true, "forward", "-"),
            845..875 => (304, Some(304), true, "forward", "-"),
            875..895 => (301, None, false, "redirect", "-"),
            895..955 => {
                let status = [404, 404, 404, 400, 401, 403][rng.below(6) as usize];
                (status, Some(status), true, "forward", "-")
            }
            955..970 => (460, None, false, "forward", "-"),
            970..982 => (500, Some(500), true, "forward", "-"),
            982..990 if lambda => (502, None, false, "forward", "LambdaInvalidResponse"),
            982..990 => (502, None, false, "forward", "-"),
            990..996 => (503, None, false, "forward", "-"),
            _ => (504, None, false, "forward", "-"),
        };
        let action = match (action, rng.below(20)) {
            ("forward", 0..3) => "waf,forward",
            ("forward", 3) if tls => "authenticate,forward",
            (action, _) => action,
        };
        let target = if action == "redirect" || elb == 503 {
            "-".to_owned()
        } else {
            target
        };
        let (request_s, target_s, response_s) = match dispatched {
            true => (
                format!("{:.3}", rng.below(6) as f64 / 1000.0),
                format!("{:.3}", (rng.below(40) * rng.below(40) + 1) as f64 / 1000.0),
                format!("{:.3}", rng.below(2) as f64 / 1000.0),
            ),
            false => ("-1".to_owned(), "-1".to_owned(), "-1".to_owned()),
        };
        let created_us = self.time_us - 1000 * rng.below(1500) as i64;
        let client = &self.clients[rng.below(self.clients.len() as u64) as usize];
        let domain = rng.pick(DOMAINS);
        let scheme_port = if tls { ("https", 443) } else { ("http", 80) };
        let method = match rng.below(20) {
            0..14 => "GET",
            14..17 => "POST",
            17 => "PUT",
            18 => "DELETE",
            _ => "HEAD",
        };
        let mut url = format!(
            "{}://{domain}:{}{}",
            scheme_port.0,
            scheme_port.1,
            rng.pick(PATHS)
        );
        if url.ends_with('/') && url.len() > domain.len() + 15 {
            let _ = write!(url, "{}", rng.below(1_000_000));
        } else if url.ends_with('.') {
            let _ = write!(url, "{}.js", rng.hex(8));
        }
        match rng.below(200) {
            0..80 => {
                let _ = write!(url, "{}{}", rng.pick(QUERIES), rng.below(50));
            }
            80 => {
                let _ = write!(url, "?session_token={}", rng.hex(32));
            }
            _ => {}
        }
        let protocol = if kind == "h2" { "HTTP/2.0" } else { "HTTP/1.1" };
        let (cipher, tls_version) = match (tls, rng.below(3)) {
            (false, _) => ("-", "-"),
            (true, 0) => (
                rng.pick(&["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384"]),
                "TLSv1.2",
            ),
            (true, _) => (
                rng.pick(&["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"]),
                "TLSv1.3",
            ),
        };
        let (sni, cert) = if tls { (domain, CERT) } else { ("-", "-") };
        let priority = if action == "redirect" {
            1
        } else {
            rng.below(4) * rng.below(12)
        };
        let redirect = match action {
            "redirect" => format!("https://{domain}:443/"),
            _ => "-".to_owned(),
        };
        let (classification, reason) = match rng.below(200) {
            0..3 => ("Ambiguous", "UndefinedContentLengthSemantics"),
            3 => ("Acceptable", "NonCompliantHeader"),
            _ => ("-", "-"),
        };
        let status = |code: Option<u32>| code.map_or("-".to_owned(), |code| code.to_string());
        let (port_list, status_list) = match target.as_str() {
            "-" => ("-".to_owned(), "-".to_owned()),
            _ => (target.clone(), status(target_status)),
        };
        let _ = write!(
            out,
            "{kind} {time} app/my-alb/50dc6c495c0c9188 {client}:{port} {target} {request_s} {target_s} {response_s} \
             {elb} {target_status} {received} {sent} \"{method} {url} {protocol}\" \"{agent}\" {cipher} {tls_version} \
             {group} \"Root=1-{epoch:08x}-{trace}\" \"{sni}\" \"{cert}\" {priority} {created} \"{action}\" \"{redirect}\" \
             \"{error}\" \"{port_list}\" \"{status_list}\" \"{classification}\" \"{reason}\" TID_{conn}",
            time = iso_time(self.time_us),
            port = 1024 + rng.below(64_000),
            target_status = status(target_status),
            received = 80 + rng.below(1500),
            sent = 150 + rng.below(40_000),
            agent = rng.pick(USER_AGENTS),
            epoch = self.time_us / 1_000_000,
            trace = rng.hex(24),
            created = iso_time(created_us),
            conn = rng.hex(32),
        );
    }
}

/// `2026-11-29T10:00:00.186641Z`, as ALB writes its times.
fn iso_time(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .expect("a time of 2026")
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

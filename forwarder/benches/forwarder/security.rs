//! Security sources (issue 24): a GuardDuty findings export and a Route 53 Resolver query log of
//! `SLUICE_BENCH_SECURITY_MB` MB each uncompressed (100 by default), made from the project's
//! fixtures of AWS's documented samples with ids, times and addresses varied, gzipped once as AWS
//! delivers them, and read
//! - in-process, in turns: the floor (gunzip, split lines, each line written as
//!   `{"message":"…"}`) and the dry run's path (`read_object` with the source's key,
//!   `record_documents`, `write_ndjson`), as records/s and their ratio;
//! - by `sluice-forwarder replay --dry-run s3://bench/KEY` as a child, from an in-bench S3 on
//!   loopback, for the object and one an eighth of its size, three children each: the least
//!   peak RSS of each (other processes' noise only adds), which should not grow with the object
//!   (the whole over the eighth at most 1.1).
//!
//! `SLUICE_BENCH_ONLY=security` runs this section alone.

use std::fs::File;
use std::io::Write;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::Value;
use sluice_forwarder::document::{DocumentBuilder, DocumentOptions};
use sluice_forwarder::opensearch::bulk;
use sluice_forwarder::source::Ack;
use sluice_forwarder::source::s3::read::{Located, Stopped, read_object};
use sluice_forwarder::source::s3::{Chunk, S3Options};

use crate::alb::line_floor;
use crate::child::measure;
use crate::s3::{Object, S3Server};
use crate::{ROUNDS, target_dir};

const BUCKET: &str = "bench";
/// 2026-11-29T10:00:00Z: the first record's time and the objects' `LastModified`.
const START_MS: i64 = 1_795_946_400_000;

/// One source: its name, its fixture, its keys under AWS's layout (the whole object's, the
/// eighth's), and how a record is varied.
struct Source {
    name: &'static str,
    fixture: &'static str,
    keys: [&'static str; 2],
    vary: fn(&mut Value, usize),
}

const SOURCES: [Source; 2] = [
    Source {
        name: "GuardDuty findings export",
        fixture: include_str!("../../../tests/fixtures/findings/guardduty-export.jsonl"),
        keys: [
            "AWSLogs/123456789012/GuardDuty/us-east-1/2026/11/29/4f3a0c1e-6b2d-3c8e-9a1b-2f4e6d8c0a1b.jsonl.gz",
            "AWSLogs/123456789012/GuardDuty/us-east-1/2026/11/29/8d2c4e6a-1b3f-3a5c-8e7d-9f0a2b4c6d8e.jsonl.gz",
        ],
        vary: vary_finding,
    },
    Source {
        name: "Route 53 Resolver query log",
        fixture: include_str!("../../../tests/fixtures/network/route53-resolver-queries.jsonl"),
        keys: [
            "AWSLogs/123456789012/vpcdnsquerylogs/vpc-0a1b2c3d4e5f60718/2026/11/29/vpc-0a1b2c3d4e5f60718_vpcdnsquerylogs_123456789012_20261129T1000Z_a1b2c3d4.log.gz",
            "AWSLogs/123456789012/vpcdnsquerylogs/vpc-0a1b2c3d4e5f60718/2026/11/29/vpc-0a1b2c3d4e5f60718_vpcdnsquerylogs_123456789012_20261129T1005Z_e5f6a7b8.log.gz",
        ],
        vary: vary_query,
    },
];

/// The security section.
pub fn security() {
    let mb: usize = std::env::var("SLUICE_BENCH_SECURITY_MB")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(100);
    for source in &SOURCES {
        let log = generate(source, mb * 1_000_000);
        println!(
            "security: a generated {}, {:.1} MB, {} records, {:.1} MB gzip; best of {ROUNDS} rounds taken in turn",
            source.name,
            log.bytes as f64 / 1e6,
            log.records,
            log.gzip.len() as f64 / 1e6
        );
        rounds(source, &log);
        peak_memory(source, &log);
    }
}

/// A generated log, gzipped: the whole, and its first records up to an eighth of it.
struct Log {
    gzip: Vec<u8>,
    small_gzip: Vec<u8>,
    bytes: usize,
    records: usize,
    small_records: usize,
}

/// Records of `source` up to `bytes`, one JSON line each, the fixture's lines taken in turn.
fn generate(source: &Source, bytes: usize) -> Log {
    let samples: Vec<Value> = (source.fixture.lines())
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).expect("the fixture is JSON lines"))
        .collect();
    let mut text = Vec::with_capacity(bytes + 8192);
    let (mut records, mut small_records, mut small_end) = (0, 0, 0);
    while text.len() < bytes {
        let mut record = samples[records % samples.len()].clone();
        (source.vary)(&mut record, records);
        serde_json::to_writer(&mut text, &record).expect("writes to a Vec");
        text.push(b'\n');
        records += 1;
        if text.len() <= bytes / 8 {
            (small_records, small_end) = (records, text.len());
        }
    }
    Log {
        gzip: gzip(&text),
        small_gzip: gzip(&text[..small_end]),
        bytes: text.len(),
        records,
        small_records,
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(bytes.len() / 6), Compression::new(6));
    encoder.write_all(bytes).expect("writes to a Vec");
    encoder.finish().expect("writes to a Vec")
}

/// The record's time, `n` seconds after the start, as RFC 3339 with milliseconds.
fn time(n: usize) -> String {
    let ms = START_MS + n as i64 * 1000;
    let at = chrono::DateTime::from_timestamp_millis(ms).expect("a time in range");
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A pseudo-random number for record `n` and field `salt` (SplitMix64): the same log each run.
fn random(n: usize, salt: u64) -> u64 {
    let mut z = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A public address of record `n` (so GeoIP, were it on, would see many), from documentation
/// and other public ranges.
fn address(n: usize, salt: u64) -> String {
    let r = random(n, salt);
    let first = [198, 203, 52, 34, 185][(r % 5) as usize];
    format!(
        "{first}.{}.{}.{}",
        (r >> 8) % 256,
        (r >> 16) % 256,
        (r >> 24) % 254 + 1
    )
}

/// A finding with its own id, times, instance, addresses and ports: as varied as a busy
/// account's export, which gzip compresses about ten times, not the fixture's few samples
/// repeated (which it compressed 45 times, so that a run of the eighth was over before its
/// memory reached its level).
fn vary_finding(finding: &mut Value, n: usize) {
    let when = time(n);
    finding["id"] = Value::from(format!("{:016x}{:016x}", random(n, 1), random(n, 2)));
    finding["createdAt"] = Value::from(when.clone());
    finding["updatedAt"] = Value::from(when);
    finding["accountId"] = Value::from("123456789012");
    finding["region"] = Value::from("us-east-1");
    finding["severity"] = Value::from((random(n, 3) % 80) as f64 / 10.0 + 1.0);
    finding["service"]["count"] = Value::from(random(n, 4) % 500 + 1);
    if let Some(instance) = finding["resource"].get_mut("instanceDetails") {
        instance["instanceId"] = Value::from(format!("i-{:017x}", random(n, 5) >> 4));
        if let Some(interfaces) = instance["networkInterfaces"].as_array_mut() {
            for interface in interfaces {
                interface["networkInterfaceId"] = Value::from(format!("eni-{:017x}", random(n, 6) >> 4));
                interface["privateIpAddress"] = Value::from(format!(
                    "10.{}.{}.{}",
                    random(n, 7) % 256,
                    random(n, 8) % 256,
                    random(n, 9) % 254 + 1
                ));
                interface["publicIp"] = Value::from(address(n, 10));
            }
        }
    }
    let action = &mut finding["service"]["action"];
    for details in [
        "networkConnectionAction",
        "awsApiCallAction",
        "dnsRequestAction",
        "portProbeAction",
    ] {
        if let Some(detail) = action.get_mut(details) {
            if let Some(remote) = detail.get_mut("remoteIpDetails") {
                remote["ipAddressV4"] = Value::from(address(n, 11));
            }
            if let Some(port) = detail.get_mut("remotePortDetails") {
                port["port"] = Value::from(random(n, 12) % 65_535 + 1);
            }
            if let Some(port) = detail.get_mut("localPortDetails") {
                port["port"] = Value::from(random(n, 13) % 65_535 + 1);
            }
        }
    }
}

/// A query with its own time, name, answer, source address and port.
fn vary_query(query: &mut Value, n: usize) {
    query["query_timestamp"] = Value::from(time(n).replace(".000Z", "Z"));
    query["query_name"] = Value::from(format!(
        "{:x}.{}.example.com.",
        random(n, 1) >> 40,
        ["api", "cdn", "db", "auth", "s3", "queue"][(random(n, 2) % 6) as usize]
    ));
    query["srcaddr"] = Value::from(format!("10.0.{}.{}", random(n, 3) % 256, random(n, 4) % 254 + 1));
    query["srcport"] = Value::from((random(n, 5) % 64_511 + 1024).to_string());
    if let Some(answers) = query["answers"].as_array_mut() {
        for answer in answers.iter_mut().filter(|answer| answer["Type"] == "A") {
            answer["Rdata"] = Value::from(address(n, 6));
        }
    }
    if let Some(instance) = query["srcids"].get_mut("instance") {
        *instance = Value::from(format!("i-{:017x}", random(n, 7) % 64));
    }
    query["account_id"] = Value::from("123456789012");
    query["region"] = Value::from("us-east-1");
}

/// The floor and the dry run's path, [`ROUNDS`] times in turn: the best of each and their ratio.
fn rounds(source: &Source, log: &Log) {
    let (mut floor, mut dry_run) = (Duration::MAX, Duration::MAX);
    let mut ratios = Vec::with_capacity(ROUNDS);
    let mut bytes = (0, 0);
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let (records, floor_bytes) = std::hint::black_box(line_floor(&log.gzip));
        let floor_time = start.elapsed();
        assert_eq!(records, log.records);
        let start = Instant::now();
        let (docs, docs_bytes) = std::hint::black_box(documents_pass(source.keys[0], &log.gzip));
        let dry_run_time = start.elapsed();
        assert_eq!(docs, log.records, "a document per record");
        (floor, dry_run) = (floor.min(floor_time), dry_run.min(dry_run_time));
        ratios.push(floor_time.as_secs_f64() / dry_run_time.as_secs_f64());
        bytes = (floor_bytes, docs_bytes);
    }
    let row = |label: &str, time: Duration, bytes: usize| {
        println!(
            "  {label:<52} {:>7.0} ms {:>9.0} records/s; NDJSON {:.1} MB",
            time.as_secs_f64() * 1e3,
            log.records as f64 / time.as_secs_f64(),
            bytes as f64 / 1e6
        );
    };
    row("floor: gunzip + split lines + {\"message\":…}", floor, bytes.0);
    row(
        "dry run in-process: read_object + documents + NDJSON",
        dry_run,
        bytes.1,
    );
    ratios.sort_by(f64::total_cmp);
    println!(
        "  ratio to the floor (records/s, best to best): {:.2}; the rounds' ratios: {:.2} to {:.2}",
        floor.as_secs_f64() / dry_run.as_secs_f64(),
        ratios[0],
        ratios[ratios.len() - 1],
    );
}

/// The dry run's path with the default settings: documents of every chunk and their `_bulk`
/// NDJSON into a reused buffer. The documents and the bytes written.
fn documents_pass(key: &str, gzip: &[u8]) -> (usize, usize) {
    let builder = DocumentBuilder::new(DocumentOptions::default(), "us-east-1".to_owned());
    let (mut docs, mut bytes) = (0, 0);
    let mut out = Vec::new();
    let object = Located {
        bucket: BUCKET.to_owned(),
        key: key.to_owned(),
        etag: "0123456789abcdef0123456789abcdef".to_owned(),
        last_modified_ms: START_MS,
        key_fields: Vec::new(),
    };
    read_object(gzip, object, Ack::Invocation, &S3Options::default(), |chunk| {
        let Chunk::Records(records) = chunk else {
            panic!("a security log is records");
        };
        let built = builder.record_documents(&Arc::new(records));
        assert_eq!(built.unparsed, 0, "every generated record parses");
        docs += built.docs.len();
        out.clear();
        bulk::write_ndjson(&built.docs, &mut out).map_err(|_| Stopped)?;
        bytes += out.len();
        Ok(())
    })
    .expect("the log reads");
    (docs, bytes)
}

/// How many children read each object: their least peak RSS counts.
const CHILDREN: usize = 3;

/// `replay --dry-run s3://bench/KEY` of the eighth and of the whole, from an in-bench S3, as
/// [`CHILDREN`] children each: their least peak RSS and its ratio.
fn peak_memory(source: &Source, log: &Log) {
    let s3 = S3Server::start(vec![
        Object::whole(source.keys[0], log.gzip.clone()),
        Object::whole(source.keys[1], log.small_gzip.clone()),
    ]);
    println!(
        "  replay --dry-run s3://{BUCKET}/KEY > /dev/null from an in-bench S3 ({CHILDREN} children each, in turn):"
    );
    let objects = [
        (source.keys[1], &log.small_gzip, log.small_records),
        (source.keys[0], &log.gzip, log.records),
    ];
    let mut runs = [Vec::new(), Vec::new()];
    for _ in 0..CHILDREN {
        for ((key, _, records), runs) in objects.iter().zip(&mut runs) {
            let stderr_file = target_dir().join("bench").join("replay-security.stderr");
            let stderr = File::create(&stderr_file).expect("create the child's stderr file");
            let mut command = s3.replay_command(&["--dry-run", &format!("s3://{BUCKET}/{key}")]);
            let run = measure(&mut command, Stdio::from(stderr));
            let said = std::fs::read_to_string(&stderr_file).unwrap_or_default();
            assert!(run.success, "replay --dry-run s3://{BUCKET}/{key} failed: {said}");
            let summary: Value = (said.lines().rev())
                .find_map(|line| serde_json::from_str(line).ok())
                .expect("replay prints its summary");
            assert_eq!(summary["events"].as_u64(), Some(*records as u64), "{summary}");
            runs.push(run);
        }
    }
    let mut peaks = Vec::new();
    for ((_, gzip, records), runs) in objects.iter().zip(&runs) {
        let secs = runs
            .iter()
            .map(|run| run.elapsed.as_secs_f64())
            .fold(f64::MAX, f64::min);
        let least = runs.iter().map(|run| run.peak_kb).min().unwrap_or(0);
        let all: Vec<String> = (runs.iter())
            .map(|run| format!("{:.1}", run.peak_kb as f64 / 1024.0))
            .collect();
        println!(
            "    {:.1} MB gzip, {records} records: {secs:.2} s, {:.0} records/s; peak RSS {:.1} MB (children: {})",
            gzip.len() as f64 / 1e6,
            *records as f64 / secs,
            least as f64 / 1024.0,
            all.join(", "),
        );
        peaks.push(least as f64);
    }
    println!(
        "  peak RSS of the whole object over its eighth: {:.2} (target: at most 1.1)",
        peaks[1] / peaks[0]
    );
}

//! The dry run as a child process, from an in-bench S3: its peak RSS, flat in the object's size.

use std::fs::File;
use std::process::Stdio;
use std::time::Duration;

use super::databases::Databases;
use super::{AlbLog, BUCKET, KEY, SMALL_KEY};
use crate::child::{field_kb, measure};
use crate::s3::{Object, S3Server};
use crate::target_dir;

/// `replay --dry-run s3://bench/KEY` of the object and of its first eighth, from an in-bench S3.
pub(super) fn peak_memory(log: &AlbLog) {
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
        let run = replay_dry_run(&s3, key, lines, None);
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

/// `replay --dry-run s3://bench/KEY` of the whole log with and without the databases
/// (`GEOIP_DATABASE`, `GEOIP_ASN_DATABASE`: the files, memory-mapped by the child), in turns,
/// [`ENRICHED_RUNS`] times each: the fastest time and the highest peak RSS of each.
pub(super) fn enrichment_memory(log: &AlbLog, files: &Databases) {
    let s3 = S3Server::start(vec![Object::whole(KEY, log.gzip.clone())]);
    let mut runs = [(Duration::MAX, 0), (Duration::MAX, 0)];
    for _ in 0..ENRICHED_RUNS {
        for (databases, best) in [None, Some(files)].into_iter().zip(&mut runs) {
            let run = replay_dry_run(&s3, KEY, log.lines, databases);
            *best = (best.0.min(run.elapsed), best.1.max(run.peak_kb));
        }
    }
    println!(
        "  replay --dry-run s3://{BUCKET}/KEY > /dev/null, a child, {ENRICHED_RUNS} runs each in turn (fastest, highest peak):"
    );
    for ((time, peak_kb), label) in runs.into_iter().zip([
        "without the databases",
        "with GEOIP_DATABASE and GEOIP_ASN_DATABASE",
    ]) {
        println!(
            "    {label:<45} {:.2} s, {:.0} docs/s; peak RSS {:.1} MB",
            time.as_secs_f64(),
            log.lines as f64 / time.as_secs_f64(),
            peak_kb as f64 / 1024.0
        );
    }
}

const ENRICHED_RUNS: usize = 3;

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
fn replay_dry_run(s3: &S3Server, key: &str, lines: usize, databases: Option<&Databases>) -> Run {
    let log = target_dir().join("bench").join("replay-alb.stderr");
    let stderr = File::create(&log).expect("create the child's stderr file");
    let mut command = s3.replay_command(&["--dry-run", &format!("s3://{BUCKET}/{key}")]);
    match databases {
        Some(files) => command
            .env("GEOIP_DATABASE", &files.city)
            .env("GEOIP_ASN_DATABASE", &files.asn),
        None => command
            .env_remove("GEOIP_DATABASE")
            .env_remove("GEOIP_ASN_DATABASE"),
    };
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

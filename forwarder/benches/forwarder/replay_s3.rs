//! `replay s3://` of many objects (issue 25): 20 objects of 10 MB of text lines from the in-bench
//! S3 into the in-bench `_bulk` endpoint, one at a time (`--objects 1`) and four at once (the
//! default), against a dry run of the same objects (reading, parsing and writing the NDJSON,
//! sending nothing), in rounds taken in turn.

use std::fs::File;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use crate::bulk_server::BulkServer;
use crate::child::measure;
use crate::s3::{BUCKET, S3Server, lines_object, text_lines};
use crate::target_dir;

const OBJECTS: usize = 20;
const OBJECT_BYTES: u64 = 10_000_000;
const ROUNDS: usize = 3;

/// What one way of replaying the objects did over the rounds.
struct Way {
    label: &'static str,
    args: &'static [&'static str],
    dry_run: bool,
    times: Vec<Duration>,
    peak_kb: u64,
}

pub fn many_objects(lines: &[String]) {
    let (text, units) = text_lines(lines);
    let text = Arc::new(text);
    let objects: Vec<_> = (0..OBJECTS)
        .map(|n| lines_object(&format!("many/{n:02}.log"), &text, &units, OBJECT_BYTES))
        .collect();
    let (bytes, events): (u64, u64) = objects.iter().fold((0, 0), |(bytes, events), object| {
        (bytes + object.len(), events + object.events())
    });
    let s3 = S3Server::start(objects);
    let bulk = BulkServer::start();
    let mut ways = [
        Way::new("into _bulk, --objects 1", &["--objects", "1"], false),
        Way::new("into _bulk, --objects 4 (default)", &[], false),
        Way::new("dry run, --objects 4", &["--dry-run"], true),
    ];
    for _ in 0..ROUNDS {
        for way in &mut ways {
            way.run(&s3, &bulk, events);
        }
    }
    println!(
        "replay s3://{BUCKET}/many/: {OBJECTS} objects of text lines, {:.1} MB, {events} lines, {ROUNDS} rounds taken in turn (min-max)",
        bytes as f64 / 1e6
    );
    for way in &ways {
        let (fast, slow) = way.range();
        println!(
            "  {}: {:.2}-{:.2} s, {:.1}-{:.1} objects/s, {:.1}-{:.1} MB/s; peak RSS {:.1} MB",
            way.label,
            fast.as_secs_f64(),
            slow.as_secs_f64(),
            OBJECTS as f64 / slow.as_secs_f64(),
            OBJECTS as f64 / fast.as_secs_f64(),
            bytes as f64 / 1e6 / slow.as_secs_f64(),
            bytes as f64 / 1e6 / fast.as_secs_f64(),
            way.peak_kb as f64 / 1024.0
        );
    }
    let dry = ways[2].range().0.as_secs_f64();
    for way in &ways[..2] {
        println!(
            "  {}: {:.0}% of the dry run's speed (fastest rounds)",
            way.label,
            100.0 * dry / way.range().0.as_secs_f64()
        );
    }
}

impl Way {
    fn new(label: &'static str, args: &'static [&'static str], dry_run: bool) -> Way {
        Way {
            label,
            args,
            dry_run,
            times: Vec::new(),
            peak_kb: 0,
        }
    }

    /// One replay of the objects as a child process, checked by its summary.
    fn run(&mut self, s3: &S3Server, bulk: &BulkServer, events: u64) {
        let log = target_dir().join("bench").join("replay-s3-many.stderr");
        let stderr = File::create(&log).expect("create the child's stderr file");
        let url = format!("s3://{BUCKET}/many/");
        let mut args: Vec<&str> = self.args.to_vec();
        args.push(&url);
        let mut command = s3.replay_command(&args);
        command
            .env("OPENSEARCH_ENDPOINT", format!("http://{}", bulk.address))
            .env("OPENSEARCH_AUTH", "none");
        let measured = measure(&mut command, Stdio::from(stderr));
        let stderr = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(measured.success, "replay {args:?} failed: {stderr}");
        let summary: serde_json::Value = stderr
            .lines()
            .rev()
            .find_map(|line| serde_json::from_str(line).ok())
            .expect("replay prints its summary");
        let counted = if self.dry_run { "events" } else { "indexed" };
        assert_eq!(summary[counted].as_u64(), Some(events), "{summary}");
        assert_eq!(summary["objects"].as_u64(), Some(OBJECTS as u64), "{summary}");
        self.times.push(measured.elapsed);
        self.peak_kb = self.peak_kb.max(measured.peak_kb);
    }

    /// The fastest and the slowest round.
    fn range(&self) -> (Duration, Duration) {
        let fast = self.times.iter().min().copied().unwrap_or_default();
        let slow = self.times.iter().max().copied().unwrap_or_default();
        (fast, slow)
    }
}

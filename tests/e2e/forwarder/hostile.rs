//! Issue 26: objects a careless or hostile bucket writer leaves, each read by
//! `sluice-forwarder replay s3://BUCKET/PREFIX` (the binary, a child process) beside an
//! ordinary object: a 300 MB object that is one line without a newline, a 1 GiB gzip bomb of
//! zeros, a JSON line nested 100,000 deep, and a CloudTrail file whose first record carries
//! 200 MB; and a download that breaks off. Each is read within 128 MB of peak RSS (the child's
//! own `VmHWM`), the ordinary object's lines are indexed, and the summary the replay prints
//! counts what happened.
//!
//! The objects come from an in-test S3 that generates them as it sends them
//! ([`sluice_harness::streamed_s3`]); the documents go to osmem-server.

use std::io::Write;

use serde_json::{Value, json};
use sluice_harness::OsMem;
use sluice_harness::streamed_s3::{MeasuredChild, Part, StreamedObject, StreamedS3, run_measured};

const BUCKET: &str = "hostile-logs";
/// The peak RSS every replay stays under: the smallest Lambda function that is of use.
const PEAK_LIMIT_KB: u64 = 128 * 1024;
const MB: u64 = 1_000_000;

/// The ordinary object beside each hostile one: three lines.
fn ordinary(prefix: &str) -> StreamedObject {
    let lines: String = (1..=3)
        .map(|n| format!("ordinary line {n} of {prefix}\n"))
        .collect();
    StreamedObject::new(
        &format!("{prefix}/ordinary.log"),
        vec![Part::Bytes(lines.into_bytes())],
    )
}

/// What one replay of `prefix` did: the child measured, and the summary it printed.
struct Replayed {
    child: MeasuredChild,
    summary: Value,
    osmem: OsMem,
}

/// Replays `s3://BUCKET/PREFIX/` holding `hostile` and the ordinary object, into a fresh osmem,
/// with `settings` added.
fn replay(prefix: &str, hostile: StreamedObject, settings: &[(&str, &str)]) -> Replayed {
    let s3 = StreamedS3::start(BUCKET, vec![hostile, ordinary(prefix)]).expect("in-test S3");
    let osmem = OsMem::start();
    let binary = sluice_harness::forwarder_binary().unwrap_or_else(|err| panic!("{err}"));
    let mut command = std::process::Command::new(binary);
    command
        .arg("replay")
        .arg(format!("s3://{BUCKET}/{prefix}/"))
        .envs(s3.aws_env())
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env("OPENSEARCH_ENDPOINT", osmem.url())
        .env("OPENSEARCH_AUTH", "none")
        .env("LOG_LEVEL", "warn")
        .envs(settings.iter().copied());
    let child = run_measured(&mut command).expect("the replay runs");
    let summary = child
        .stderr
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str::<Value>(line).ok())
        .unwrap_or_else(|| panic!("no summary: {}", child.stderr));
    assert!(
        child.peak_kb < PEAK_LIMIT_KB,
        "{prefix}: peak RSS {} KiB: {summary}",
        child.peak_kb
    );
    eprintln!("{prefix}: peak RSS {} MiB", child.peak_kb / 1024);
    Replayed {
        child,
        summary,
        osmem,
    }
}

/// The documents of `index` (every one: the tests index a handful).
async fn documents(osmem: &OsMem, index: &str) -> Vec<Value> {
    osmem.refresh(index).await.expect("refresh");
    let found = osmem
        .search(index, json!({"query": {"match_all": {}}, "size": 100}))
        .await
        .expect("search");
    found["hits"]["hits"]
        .as_array()
        .map(|hits| hits.iter().map(|hit| hit["_source"].clone()).collect())
        .unwrap_or_default()
}

/// The replay ended with exit status 1, one of its two objects failed, and the log names that
/// object (`key`) and what happened to it (`reason`).
fn assert_one_object_failed(run: &Replayed, reason: &str, key: &str) {
    assert_eq!(
        run.child.status.code(),
        Some(1),
        "an object failed: {}",
        run.child.stderr
    );
    assert_eq!(
        (&run.summary["objects"], &run.summary["objects_failed"]),
        (&json!(2), &json!(1)),
        "{}",
        run.summary
    );
    assert!(
        run.child.stderr.contains(reason) && run.child.stderr.contains(key),
        "the log names the object and what happened: {}",
        run.child.stderr
    );
}

/// The ordinary object's three lines are in `docs`.
fn assert_ordinary_indexed(docs: &[Value], prefix: &str) {
    let ordinary: Vec<&Value> = docs
        .iter()
        .filter(|doc| {
            doc["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("ordinary line"))
        })
        .collect();
    assert_eq!(ordinary.len(), 3, "{prefix}: the ordinary lines: {docs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_300_mb_object_that_is_one_line_is_indexed_cut_to_its_first_mib() {
    let line = StreamedObject::new(
        "one-line/huge.log",
        vec![
            Part::Bytes(b"huge line begins ".to_vec()),
            Part::Repeat {
                unit: b"x".repeat(1000),
                times: 300_000,
            },
        ],
    );
    let length = line.len();
    let run = replay("one-line", line, &[]);
    assert!(run.child.status.success(), "{}", run.child.stderr);
    assert_eq!(
        (
            &run.summary["objects"],
            &run.summary["indexed"],
            &run.summary["truncated"]
        ),
        (&json!(2), &json!(4), &json!(1)),
        "{}",
        run.summary
    );
    let docs = documents(&run.osmem, "s3-*").await;
    assert_ordinary_indexed(&docs, "one-line");
    let huge = docs
        .iter()
        .find(|doc| doc["aws"]["s3"]["truncated"] == true)
        .expect("the huge line's document");
    assert_eq!(huge["aws"]["s3"]["record_bytes"], length);
    let message = huge["message"].as_str().expect("message");
    assert_eq!(message.len(), 1 << 20);
    assert!(message.starts_with("huge line begins xxx"));
}

/// 1 GiB of zeros as 16 gzip members of 64 MiB each, about 1 MB in all (gzip at its best packs
/// zeros about 1030 to 1): refused once it has expanded past `MAX_OBJECT_EXPANSION`, counted as
/// an object that failed, while its neighbour is indexed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_bomb_is_refused_past_its_expansion_and_its_neighbour_indexed() {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 64 << 20];
    encoder.write_all(&zeros).expect("gzip");
    let member = encoder.finish().expect("gzip");
    drop(zeros);
    let bomb = StreamedObject::new(
        "bomb/zeros.log.gz",
        vec![Part::Repeat {
            unit: member,
            times: 16,
        }],
    );
    assert!(bomb.len() < 2 * MB, "{} bytes", bomb.len());
    // Without the expansion limit the bomb costs time, not memory: its one line of 1 GiB is
    // read to its end and indexed cut to its first MiB.
    let run = replay("bomb", bomb.clone(), &[("MAX_OBJECT_EXPANSION", "0")]);
    assert!(run.child.status.success(), "{}", run.child.stderr);
    assert_eq!(
        (&run.summary["indexed"], &run.summary["truncated"]),
        (&json!(4), &json!(1)),
        "{}",
        run.summary
    );
    let docs = documents(&run.osmem, "s3-*").await;
    let zeros = docs
        .iter()
        .find(|doc| doc["aws"]["s3"]["truncated"] == true)
        .expect("the line of zeros");
    assert_eq!(zeros["aws"]["s3"]["record_bytes"], 1u64 << 30);
    let run = replay("bomb", bomb, &[]);
    assert_one_object_failed(&run, "MAX_OBJECT_EXPANSION (1000)", "bomb/zeros.log.gz");
    assert_eq!(run.summary["indexed"], 3, "{}", run.summary);
    assert_ordinary_indexed(&documents(&run.osmem, "s3-*").await, "bomb");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_line_nested_100_000_deep_stays_text() {
    let depth = 100_000;
    let deep = StreamedObject::new(
        "deep/nested.jsonl",
        vec![
            Part::Repeat {
                unit: br#"{"a":"#.to_vec(),
                times: depth,
            },
            Part::Bytes(b"1".to_vec()),
            Part::Repeat {
                unit: b"}".to_vec(),
                times: depth,
            },
            Part::Bytes(b"\n".to_vec()),
        ],
    );
    let run = replay("deep", deep, &[]);
    assert!(run.child.status.success(), "{}", run.child.stderr);
    assert_eq!(
        (&run.summary["indexed"], &run.summary["json_too_deep"]),
        (&json!(4), &json!(1)),
        "{}",
        run.summary
    );
    // Its first 4 KiB are no whole JSON object: the object is told a text log by its content.
    let docs = documents(&run.osmem, "s3-*").await;
    assert_ordinary_indexed(&docs, "deep");
    let deep = docs
        .iter()
        .find(|doc| doc.get("parse_error").is_some())
        .expect("the deep line's document");
    assert!(deep.get("json").is_none());
    assert_eq!(deep["parse_error"], "JSON nested deeper than MAX_JSON_DEPTH (16)");
    assert_eq!(
        deep["message"].as_str().map(str::len),
        Some(6 * depth as usize + 1)
    );
}

/// A CloudTrail file (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html>)
/// whose first record carries 200 MB in one value: that record is indexed cut to its first MiB
/// and the record after it whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cloudtrail_record_of_200_mb_is_cut_and_the_next_record_read() {
    let key = "cloudtrail/AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/29/123456789012_CloudTrail_us-east-1_20261129T1000Z_big.json";
    let next = r#"{"eventVersion":"1.08","eventTime":"2026-11-29T10:00:02Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.1"}"#;
    let file = StreamedObject::new(
        key,
        vec![
            Part::Bytes(
                br#"{"Records":[{"eventVersion":"1.08","eventTime":"2026-11-29T10:00:01Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","requestParameters":{"userName":""#
                    .to_vec(),
            ),
            Part::Repeat {
                unit: b"ab\\\"[{".repeat(100),
                times: 200 * MB / 600 + 1,
            },
            Part::Bytes(format!(r#""}}}},{next}]}}"#).into_bytes()),
        ],
    );
    let run = replay("cloudtrail", file, &[]);
    assert!(run.child.status.success(), "{}", run.child.stderr);
    assert_eq!(
        (&run.summary["indexed"], &run.summary["truncated"]),
        (&json!(5), &json!(1)),
        "{}",
        run.summary
    );
    assert_ordinary_indexed(&documents(&run.osmem, "s3-*").await, "cloudtrail");
    let docs = documents(&run.osmem, "cloudtrail-*").await;
    assert_eq!(docs.len(), 2, "{docs:?}");
    let big = docs
        .iter()
        .find(|doc| doc["aws"]["s3"]["truncated"] == true)
        .expect("the big record's document");
    assert!(big["aws"]["s3"]["record_bytes"].as_u64() > Some(200 * MB));
    assert!(big["message"].as_str().is_some_and(|m| m.len() <= 1 << 20));
    let whole = docs
        .iter()
        .find(|doc| doc["aws"]["s3"].get("truncated").is_none())
        .expect("the next record's document");
    assert_eq!(whole["event"]["action"], "GetObject", "{whole}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_that_breaks_off_fails_its_object_and_says_so() {
    // 2 MB of lines (several of the HTTP client's reads, each handed on in pieces), then the
    // connection closes with 1 MB of the promised length unsent.
    let lines: String = (0..40_000)
        .map(|n| format!("line {n:06} of an object whose download breaks off\n"))
        .collect();
    let broken = StreamedObject::new(
        "broken/cut.log",
        vec![Part::Bytes(lines.into_bytes()), Part::BreakOff { missing: MB }],
    );
    let run = replay("broken", broken, &[]);
    assert_one_object_failed(&run, "the download broke off", "broken/cut.log");
    assert_ordinary_indexed(&documents(&run.osmem, "s3-*").await, "broken");
}

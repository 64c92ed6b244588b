//! Issue 25, `replay s3:// --resume FILE`: a replay of a bucket stopped part way (as Ctrl-C
//! stops it) records the objects it finished and where each one being read stopped; the next
//! replay with the same file skips the first, resumes the others there, and reads the rest, so
//! that every line is read and indexed exactly once across the two.
//!
//! moto holds the bucket, osmem-server the indices; osmem indexes a few thousand documents a
//! second, so the objects being read when the first one ends are far from their end.

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use sluice_forwarder::cli::replay::{BucketRun, BucketUrl, Replay, ResumeFile};
use sluice_forwarder::pipeline::Stop;
use sluice_harness::{Moto, OsMem};

use super::*;

const BUCKET: &str = "resume-logs";
/// Lines of each object: a small one that ends first, then larger ones.
const LINES: [usize; 4] = [600, 3000, 3000, 3000];

/// `lines` lines, `{tag} line N`.
fn lines(tag: &str, lines: usize) -> String {
    (1..=lines).map(|n| format!("{tag} line {n}\n")).collect()
}

/// The lines of the resume file at `path` that say done, and those that give a position.
fn recorded(path: &Path) -> (usize, usize) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let done = text
        .lines()
        .filter(|line| line.contains(r#""done":true"#))
        .count();
    let after = text.lines().filter(|line| line.contains(r#""after":"#)).count();
    (done, after)
}

/// moto with the bucket of objects, osmem, and a resume file path of its own named `name`.
async fn start(name: &str) -> (Moto, OsMem, PathBuf) {
    let moto = Moto::start();
    let osmem = OsMem::start();
    let s3 = moto.s3_client();
    s3.create_bucket().bucket(BUCKET).send().await.expect("bucket");
    for (n, count) in LINES.iter().enumerate() {
        let body = lines(&format!("object {n}"), *count).into_bytes();
        s3.put_object()
            .bucket(BUCKET)
            .key(format!("apps/{n}.log"))
            .body(ByteStream::from(body))
            .send()
            .await
            .expect("PutObject");
    }
    let dir = std::env::temp_dir().join(format!("sluice-e2e-resume-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("resume.jsonl");
    let _ = std::fs::remove_file(&path);
    (moto, osmem, path)
}

/// Waits until the resume file at `path` says an object is done (a bound, not a measure: a
/// replay that never finishes one fails after).
async fn first_done(path: &Path) {
    for _ in 0..6_000 {
        if recorded(path).0 > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_stopped_part_way_resumes_and_reads_every_line_once() {
    let (moto, osmem, path) = start("in-process").await;
    // Requests of about 200 documents: several per object, so that a stop falls well inside.
    let settings = [
        ("OPENSEARCH_ENDPOINT", osmem.url()),
        ("OPENSEARCH_AUTH", "none"),
        ("AWS_REGION", REGION),
        ("RETRY_BASE_MS", "5"),
        ("BULK_MAX_BYTES", "50000"),
    ];
    let forwarder = forwarder_of(&settings, &moto.sdk_config()).await;
    let url = BucketUrl::parse(&format!("s3://{BUCKET}/apps/")).expect("s3 URL");
    let replay = Replay::new(&forwarder, false);
    let (mut out, mut errors) = (Vec::new(), Vec::new());

    // The stop comes once the first object is done, as Ctrl-C would.
    let mut run = BucketRun {
        objects: 4,
        resume: Some(ResumeFile::open(&path).expect("resume file")),
        stop: Stop::default(),
    };
    let stop = run.stop.clone();
    let watched = path.clone();
    let watcher = tokio::spawn(async move {
        first_done(&watched).await;
        stop.stop();
    });
    let first = replay
        .bucket_with(&url, (None, None), &mut run, &mut out, &mut errors)
        .await
        .expect("first replay");
    watcher.await.expect("watcher");
    drop(run);
    let errors_text = String::from_utf8_lossy(&errors).to_string();
    let (done, after) = recorded(&path);
    assert!(
        (1..4).contains(&done) && after >= 1,
        "done {done}, stopped {after}: {first:?} {errors_text}"
    );
    assert!(first.failed_items.is_empty(), "{first:?} {errors_text}");
    let total: u64 = LINES.iter().sum::<usize>() as u64;
    assert!(first.summary.events < total, "{first:?}");

    let mut run = BucketRun {
        objects: 4,
        resume: Some(ResumeFile::open(&path).expect("resume file again")),
        stop: Stop::default(),
    };
    let second = replay
        .bucket_with(&url, (None, None), &mut run, &mut out, &mut errors)
        .await
        .expect("second replay");
    let errors_text = String::from_utf8_lossy(&errors).to_string();
    assert!(second.ok(), "{second:?} {errors_text}");
    assert_eq!(
        (second.resumed.objects_done_before, second.resumed.objects_resumed),
        (done as u64, after as u64),
        "{second:?}"
    );
    assert_eq!(second.resumed.bytes_done_before, {
        let sizes = LINES
            .iter()
            .enumerate()
            .map(|(n, count)| lines(&format!("object {n}"), *count).len() as u64);
        let mut sizes: Vec<u64> = sizes.collect();
        sizes.sort_unstable();
        sizes[..done].iter().sum::<u64>()
    });
    // Each line read once across the two runs: none sent twice, none left out.
    assert_eq!(first.summary.events + second.summary.events, total);
    assert_eq!(second.summary.duplicates, 0, "{second:?}");
    assert_eq!(first.summary.indexed + second.summary.indexed, total);
    assert_eq!(osmem.count("s3-*").await.expect("count"), total);
    let summary = serde_json::to_value(&second).expect("summary");
    assert_eq!(summary["objects_done_before"], done as u64, "{summary}");

    // Everything is done now: a third run reads nothing.
    let mut run = BucketRun {
        objects: 4,
        resume: Some(ResumeFile::open(&path).expect("resume file, third")),
        stop: Stop::default(),
    };
    let third = replay
        .bucket_with(&url, (None, None), &mut run, &mut out, &mut errors)
        .await
        .expect("third replay");
    assert_eq!(
        (
            third.resumed.objects_done_before,
            third.summary.objects,
            third.summary.events
        ),
        (4, 0, 0)
    );
    std::fs::remove_dir_all(path.parent().expect("dir")).expect("clean up");
    drop(moto);
}

/// The binary itself: SIGINT once its first object is done stops it at a record boundary, with
/// the positions in the resume file, the exit code of a shell's Ctrl-C and `interrupted_at` in
/// its summary; run again with the file, it skips and resumes, and every line is indexed once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_leaves_the_resume_file_of_the_binary_for_its_next_run() {
    let (moto, osmem, path) = start("binary").await;
    let binary = sluice_harness::forwarder_binary().unwrap_or_else(|err| panic!("{err}"));
    let replay = || {
        let mut command = std::process::Command::new(&binary);
        command
            .args(["replay", "--resume"])
            .arg(&path)
            .arg(format!("s3://{BUCKET}/apps/"))
            .envs(moto.aws_env())
            .env("OPENSEARCH_ENDPOINT", osmem.url())
            .env("OPENSEARCH_AUTH", "none")
            .env("BULK_MAX_BYTES", "50000")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        command
    };
    let child = replay().spawn().expect("replay starts");
    first_done(&path).await;
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let output = child.wait_with_output().expect("replay ends");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("sluice-forwarder: stopping: "), "{stderr}");
    let first = last_json(&stderr);
    let at = first["interrupted_at"].as_str().unwrap_or_default();
    let prefix = format!("objects of s3://{BUCKET}/apps/");
    assert!(at.starts_with("after ") && at.ends_with(&prefix), "{first}");
    let (done, after) = recorded(&path);
    assert!(
        (1..4).contains(&done) && after >= 1,
        "done {done}, stopped {after}: {stderr}"
    );

    let output = replay().output().expect("replay again");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "{stderr}");
    let second = last_json(&stderr);
    assert_eq!(second["objects_done_before"], done as u64, "{second}");
    assert_eq!(second["objects_resumed"], after as u64, "{second}");
    assert_eq!(second["duplicates"], 0, "{second}");
    let events = |summary: &Value| summary["events"].as_u64().unwrap_or_default();
    let total: u64 = LINES.iter().sum::<usize>() as u64;
    assert_eq!(events(&first) + events(&second), total);
    assert_eq!(osmem.count("s3-*").await.expect("count"), total);
    std::fs::remove_dir_all(path.parent().expect("dir")).expect("clean up");
}

/// The last line of `stderr` that is JSON: the summary.
fn last_json(stderr: &str) -> Value {
    stderr
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str(line).ok())
        .unwrap_or_else(|| panic!("no summary: {stderr}"))
}

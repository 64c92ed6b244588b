//! `sluice-forwarder replay`: Lambda events read back from files or stdin (CloudWatch Logs
//! subscription events, Kinesis events, SQS events of S3 notifications, Lambda's on-failure
//! records), or every object under an S3 prefix, sent again with the same settings as the
//! function, or written as the `_bulk` NDJSON they would send (`--dry-run`).

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use crate::handler::{Forwarder, HandlerError};
use crate::pipeline::{self, ObjectEvent, Prepared};
use crate::source::lambda::Input;
use crate::source::s3::ObjectTask;
use crate::source::s3::read::ObjectError;
use crate::source::{Ack, Reply};
use crate::summary::Summary;

/// Objects of a bucket replayed per delivery round (each round has [`REPLAY_DEADLINE`]).
pub const OBJECTS_PER_ROUND: usize = 16;

/// How long a replay keeps retrying one event (Lambda's own limit is 15 minutes).
pub const REPLAY_DEADLINE: Duration = Duration::from_secs(15 * 60);

/// What went wrong that stops a replay (a bad event does not: it is counted as `malformed`).
/// Each message holds its cause's, so the cause is not also a `source` (printed as a chain, it
/// would be said twice).
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The NDJSON could not be written (`--dry-run`).
    #[error("writing the bulk NDJSON: {0}")]
    Write(std::io::Error),
    /// Delivery failed in a way that is not about the events (credentials, no endpoint).
    #[error("{what}: {error}")]
    Deliver {
        /// The input and line.
        what: String,
        error: HandlerError,
    },
    /// The bucket could not be listed.
    #[error("listing the objects: {0}")]
    List(ObjectError),
}

/// The counts of a whole replay: the one JSON line `sluice-forwarder replay` prints on stderr.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReplaySummary {
    #[serde(flatten)]
    pub summary: Summary,
    /// Inputs that were not events (not JSON, not a known event, undecodable payload).
    pub malformed: u64,
    pub dry_run: bool,
    /// The batch items (SQS message ids, Kinesis sequence numbers; keys in a replay of a
    /// bucket) that the function would report in `batchItemFailures`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed_items: Vec<String>,
    /// Set when Ctrl-C stopped the replay: "during" the event (or round of objects) being
    /// handled then, whose outcome is unknown, or "after" the last one finished. The counts are
    /// those of the events finished before it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interrupted_at: Option<String>,
    /// Where the replay is: "during" or "after" an event (or round); empty before the first.
    #[serde(skip)]
    pub position: String,
}

/// One input of a replay.
pub struct Source {
    /// Its name in messages: a path, `stdin`.
    pub name: String,
    pub reader: Box<dyn BufRead + Send>,
    /// Whether reading may wait for the next line (stdin: a terminal, a pipe), rather than
    /// always find it at once (a file).
    pub may_wait: bool,
}

impl Source {
    /// A file, or anything else whose lines never keep a reader waiting.
    pub fn file(name: impl Into<String>, reader: impl BufRead + Send + 'static) -> Source {
        Source {
            name: name.into(),
            reader: Box::new(reader),
            may_wait: false,
        }
    }
}

impl ReplaySummary {
    /// Whether every event was delivered (or written), every object read and every input
    /// understood.
    pub fn ok(&self) -> bool {
        self.summary.failed == 0
            && self.summary.objects_failed == 0
            && self.malformed == 0
            && self.failed_items.is_empty()
            && self.interrupted_at.is_none()
    }

    /// Marks the replay as stopped by Ctrl-C at the event it was handling.
    pub fn interrupt(&mut self) {
        let position = std::mem::take(&mut self.position);
        self.interrupted_at = Some(if position.is_empty() {
            "before the first event".to_string()
        } else {
            position
        });
    }
}

/// Replays every event of every source, in order. `out` receives the NDJSON of a dry run,
/// `errors` one line per event that is malformed or not delivered, naming the source and line.
pub async fn replay(
    forwarder: &Forwarder,
    sources: Vec<Source>,
    dry_run: bool,
    out: &mut dyn Write,
    errors: &mut dyn Write,
) -> Result<ReplaySummary, ReplayError> {
    let mut total = ReplaySummary {
        dry_run,
        ..ReplaySummary::default()
    };
    replay_into(forwarder, sources, &mut total, out, errors).await?;
    Ok(total)
}

/// [`replay`], counting into `total` as it goes, so that a replay stopped half way (the future
/// dropped at Ctrl-C) leaves the counts of the events it finished. A source that may wait for its
/// next line (stdin: a terminal, a pipe) is read on a thread of its own, so that the wait never
/// holds up the stop; a file is read in place, yielding after each event for the same reason.
pub async fn replay_into(
    forwarder: &Forwarder,
    sources: Vec<Source>,
    total: &mut ReplaySummary,
    out: &mut dyn Write,
    errors: &mut dyn Write,
) -> Result<(), ReplayError> {
    for source in sources {
        if source.may_wait {
            let mut lines = read_on_a_thread(source);
            while let Some((what, value)) = lines.recv().await {
                replay_event(forwarder, &what, value, total, out, errors).await?;
            }
        } else {
            for (line, value) in events(source.reader) {
                let what = format!("{} line {line}", source.name);
                replay_event(forwarder, &what, value, total, out, errors).await?;
                tokio::task::yield_now().await;
            }
        }
    }
    out.flush().map_err(ReplayError::Write)
}

/// One event of a replay, named `what` (its source and line).
async fn replay_event(
    forwarder: &Forwarder,
    what: &str,
    value: Result<Value, serde_json::Error>,
    total: &mut ReplaySummary,
    out: &mut dyn Write,
    errors: &mut dyn Write,
) -> Result<(), ReplayError> {
    total.position = format!("during {what}");
    let prepared = match value.map(|value| Input::from_value(value, what)) {
        Err(err) => Err(format!("{what} is not JSON: {err}")),
        Ok(Err(err)) => Err(HandlerError::from(err).to_string()),
        Ok(Ok(input)) => forwarder
            .prepare_tagged(input, what, deadline(forwarder))
            .await
            .map_err(|err| err.to_string()),
    };
    match prepared {
        Ok(prepared) => {
            let dry_run = total.dry_run;
            send(forwarder, prepared, what, dry_run, out, errors, total).await?;
        }
        Err(message) => {
            let _ = writeln!(errors, "sluice-forwarder: {message}");
            total.malformed += 1;
        }
    }
    total.position = format!("after {what}");
    Ok(())
}

/// The events of `source`, each named by its source and line, read by a thread that stops when
/// the receiver is dropped.
fn read_on_a_thread(
    source: Source,
) -> tokio::sync::mpsc::Receiver<(String, Result<Value, serde_json::Error>)> {
    let (sender, receiver) = tokio::sync::mpsc::channel(1);
    std::thread::spawn(move || {
        for (line, value) in events(source.reader) {
            let what = format!("{} line {line}", source.name);
            if sender.blocking_send((what, value)).is_err() {
                return;
            }
        }
    });
    receiver
}

/// When retrying the event (or round) that starts now stops: the forwarder's replay timeout, else
/// [`REPLAY_DEADLINE`].
fn deadline(forwarder: &Forwarder) -> Instant {
    Instant::now() + forwarder.replay_timeout().unwrap_or(REPLAY_DEADLINE)
}

/// Sends (or writes) one event's documents and reads the objects it names, adding the outcome
/// to `total`.
async fn send(
    forwarder: &Forwarder,
    mut prepared: Prepared,
    what: &str,
    dry_run: bool,
    out: &mut dyn Write,
    errors: &mut dyn Write,
    total: &mut ReplaySummary,
) -> Result<(), ReplayError> {
    if dry_run {
        total.summary.add(&prepared.summary);
        pipeline::write_dry_run(&prepared, out).map_err(ReplayError::Write)?;
        let objects = std::mem::take(&mut prepared.objects);
        return write_objects(forwarder, objects, out, errors, total).await;
    }
    match forwarder.deliver(prepared, deadline(forwarder)).await {
        Ok(handled) => {
            total.summary.add(&handled.summary);
            let failed = handled.response["batchItemFailures"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for item in failed {
                let id = item["itemIdentifier"].as_str().unwrap_or_default().to_string();
                let _ = writeln!(errors, "sluice-forwarder: {what}: item {id} would be retried");
                total.failed_items.push(id);
            }
        }
        Err(HandlerError::Undelivered { summary, reason }) => {
            let _ = writeln!(
                errors,
                "sluice-forwarder: {what}: {} events not delivered: {reason}",
                summary.failed
            );
            total.summary.add(&summary);
        }
        Err(error) => {
            return Err(ReplayError::Deliver {
                what: what.to_string(),
                error,
            });
        }
    }
    Ok(())
}

/// Reads `objects` and writes their `_bulk` NDJSON (the dry run of objects).
async fn write_objects(
    forwarder: &Forwarder,
    objects: Vec<ObjectTask>,
    out: &mut dyn Write,
    errors: &mut dyn Write,
    total: &mut ReplaySummary,
) -> Result<(), ReplayError> {
    if objects.is_empty() {
        return Ok(());
    }
    let mut events = forwarder.pipeline().read_objects(objects);
    while let Some(event) = events.recv().await {
        match event {
            ObjectEvent::Docs { docs, summary } => {
                total.summary.add(&summary);
                let prepared = Prepared {
                    reply: Reply::Summary,
                    docs,
                    summary,
                    objects: Vec::new(),
                };
                pipeline::write_dry_run(&prepared, out).map_err(ReplayError::Write)?;
            }
            ObjectEvent::Read { .. } => total.summary.objects += 1,
            ObjectEvent::Failed { task, error } => {
                total.summary.objects += 1;
                total.summary.objects_failed += 1;
                let _ = writeln!(errors, "sluice-forwarder: {error}");
                if let Ack::Item(id) = task.ack {
                    total.failed_items.push(id.to_string());
                }
            }
        }
    }
    Ok(())
}

/// `s3://BUCKET[/PREFIX]`, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketUrl {
    pub bucket: String,
    pub prefix: String,
}

impl BucketUrl {
    /// `None` when `text` is not an `s3://` URL.
    pub fn parse(text: &str) -> Option<BucketUrl> {
        let rest = text.strip_prefix("s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        (!bucket.is_empty()).then(|| BucketUrl {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        })
    }
}

/// Replays every object under a prefix whose `LastModified` is within `[since, until)`, a
/// round of [`OBJECTS_PER_ROUND`] at a time, each object acknowledged by its key. On a terminal,
/// `errors` gets a progress line after each round.
#[allow(clippy::too_many_arguments)]
pub async fn replay_bucket(
    forwarder: &Forwarder,
    url: &BucketUrl,
    since_ms: Option<i64>,
    until_ms: Option<i64>,
    dry_run: bool,
    out: &mut dyn Write,
    errors: &mut dyn Write,
) -> Result<ReplaySummary, ReplayError> {
    let mut total = ReplaySummary {
        dry_run,
        ..ReplaySummary::default()
    };
    replay_bucket_into(forwarder, url, (since_ms, until_ms), &mut total, out, errors).await?;
    Ok(total)
}

/// [`replay_bucket`], counting into `total` as it goes (see [`replay_into`]).
pub async fn replay_bucket_into(
    forwarder: &Forwarder,
    url: &BucketUrl,
    (since_ms, until_ms): (Option<i64>, Option<i64>),
    total: &mut ReplaySummary,
    out: &mut dyn Write,
    errors: &mut dyn Write,
) -> Result<(), ReplayError> {
    let Some(reader) = forwarder.pipeline().object_reader() else {
        return Ok(());
    };
    let listed = reader
        .list(&url.bucket, &url.prefix, since_ms, until_ms)
        .await
        .map_err(ReplayError::List)?;
    let progress = std::io::stderr().is_terminal();
    let count = listed.len();
    for (round, keys) in listed.chunks(OBJECTS_PER_ROUND).enumerate() {
        let objects = keys
            .iter()
            .map(|listed| ObjectTask {
                ack: Ack::Item(Arc::from(listed.key.as_str())),
                bucket: url.bucket.clone(),
                key: listed.key.clone(),
            })
            .collect();
        let prepared = Prepared {
            reply: Reply::BatchItemFailures,
            docs: Vec::new(),
            summary: Summary::default(),
            objects,
        };
        let what = format!("s3://{}/{}", url.bucket, url.prefix);
        let objects = format!(
            "{what} (objects {} to {} of {count})",
            round * OBJECTS_PER_ROUND + 1,
            round * OBJECTS_PER_ROUND + keys.len()
        );
        total.position = format!("during {objects}");
        let dry_run = total.dry_run;
        send(forwarder, prepared, &what, dry_run, out, errors, total).await?;
        total.position = format!("after {objects}");
        if progress {
            let done = (round * OBJECTS_PER_ROUND + keys.len()).min(count);
            let s = &total.summary;
            let _ = write!(
                errors,
                "\r{done}/{count} objects, {} events, {} indexed, {} duplicates, {} failed ",
                s.events, s.indexed, s.duplicates, s.failed
            );
        }
    }
    if progress && count > 0 {
        let _ = writeln!(errors);
    }
    out.flush().map_err(ReplayError::Write)
}

/// The JSON documents of a stream with the line each starts on: one per line (NDJSON), or
/// documents spread over several lines (pretty-printed). A line that starts no valid document is
/// reported with its number and the lines after it are read again, so one bad line loses no other.
fn events(reader: impl BufRead) -> impl Iterator<Item = (usize, Result<Value, serde_json::Error>)> {
    use std::collections::VecDeque;
    let mut lines = byte_lines(reader);
    let mut number = 0;
    // Lines to read (again) before the stream's next one.
    let mut again: VecDeque<(usize, String)> = VecDeque::new();
    // The lines of the document being read.
    let mut pending: Vec<(usize, String)> = Vec::new();
    let mut done = false;
    std::iter::from_fn(move || {
        loop {
            let next = match again.pop_front() {
                Some(line) => Some(line),
                None if done => None,
                None => match lines.next() {
                    Some(Ok(Ok(line))) => {
                        number += 1;
                        Some((number, line))
                    }
                    Some(Ok(Err(not_utf8))) => {
                        // Named and counted; the lines after it are still read.
                        number += 1;
                        let err = std::io::Error::new(std::io::ErrorKind::InvalidData, not_utf8);
                        return Some((number, Err(serde_json::Error::io(err))));
                    }
                    Some(Err(err)) => {
                        done = true;
                        return Some((number + 1, Err(serde_json::Error::io(err))));
                    }
                    None => {
                        done = true;
                        None
                    }
                },
            };
            let Some((at, line)) = next else {
                if pending.is_empty() {
                    return None;
                }
                // A document cut off by the end of the stream.
                let text = joined(&pending);
                return Some(give_up(&mut pending, &mut again, serde_json::from_str(&text)));
            };
            if pending.is_empty() {
                if line.trim().is_empty() {
                    continue;
                }
                // One document per line, the usual case: parsed without copying the line.
                match serde_json::from_str::<Value>(&line) {
                    Err(err) if err.is_eof() => {}
                    parsed => return Some((at, parsed)),
                }
            }
            pending.push((at, line));
            match serde_json::from_str::<Value>(&joined(&pending)) {
                Err(err) if err.is_eof() => continue,
                Ok(value) => {
                    let start = pending[0].0;
                    pending.clear();
                    return Some((start, Ok(value)));
                }
                Err(err) => return Some(give_up(&mut pending, &mut again, Err(err))),
            }
        }
    })
}

/// The lines of a stream, each checked for UTF-8 on its own, so a line that is not UTF-8 is one
/// error and not the end of the stream (as `BufRead::lines` makes it).
fn byte_lines(
    mut reader: impl BufRead,
) -> impl Iterator<Item = std::io::Result<Result<String, std::string::FromUtf8Error>>> {
    std::iter::from_fn(move || {
        let mut line = Vec::new();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => None,
            Ok(_) => {
                while matches!(line.last(), Some(b'\n' | b'\r')) {
                    line.pop();
                }
                Some(Ok(String::from_utf8(line)))
            }
            Err(err) => Some(Err(err)),
        }
    })
}

fn joined(lines: &[(usize, String)]) -> String {
    lines.iter().fold(String::new(), |mut text, (_, line)| {
        text.push_str(line);
        text.push('\n');
        text
    })
}

/// Reports the document's first line as not JSON and reads the lines after it again.
fn give_up(
    pending: &mut Vec<(usize, String)>,
    again: &mut std::collections::VecDeque<(usize, String)>,
    result: Result<Value, serde_json::Error>,
) -> (usize, Result<Value, serde_json::Error>) {
    let mut taken = pending.drain(..);
    let (start, _) = taken.next().unwrap_or_default();
    for line in taken.rev() {
        again.push_front(line);
    }
    (start, result)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A replay's error is printed with its chain of causes: each cause is said once, and a
    /// failed listing names the call that failed.
    #[test]
    fn a_failed_listing_is_said_once_naming_the_call() {
        let err = ReplayError::List(ObjectError::Call {
            url: "s3://bucket/AWSLogs/".into(),
            call: "ListObjectsV2",
            code: "unreachable".into(),
            message: "connection refused".into(),
        });
        assert_eq!(
            err.to_string(),
            "listing the objects: s3://bucket/AWSLogs/: ListObjectsV2 failed (unreachable): connection refused"
        );
        assert!(std::error::Error::source(&err).is_none());
        let write = ReplayError::Write(std::io::Error::other("disk full"));
        assert!(std::error::Error::source(&write).is_none(), "{write}");
    }

    #[test]
    fn events_reads_ndjson_and_pretty_printed_documents() {
        let ndjson = "{\"a\":1}\n{\"a\":2}\n\n{\"a\":3}\n";
        let values: Vec<(usize, Value)> = events(ndjson.as_bytes())
            .map(|(line, value)| (line, value.unwrap()))
            .collect();
        assert_eq!(
            values,
            [
                (1, serde_json::json!({"a": 1})),
                (2, serde_json::json!({"a": 2})),
                (4, serde_json::json!({"a": 3}))
            ]
        );
        let pretty = "{\n  \"Records\": [\n    {}\n  ]\n}\n{\"a\":2}\n";
        let lines: Vec<usize> = events(pretty.as_bytes()).map(|(line, _)| line).collect();
        assert_eq!(lines, [1, 6]);
    }

    #[test]
    fn a_bad_line_is_reported_and_reading_goes_on() {
        let broken = "{\"a\":1}\n{not json\n{\"a\":3}\n{\"cut\":\n{\"a\":5}\n{\"a\":6}\n";
        let results: Vec<(usize, bool)> = events(broken.as_bytes())
            .map(|(line, value)| (line, value.is_ok()))
            .collect();
        assert_eq!(
            results,
            [(1, true), (2, false), (3, true), (4, false), (5, true), (6, true)]
        );
    }

    #[test]
    fn a_line_that_is_not_utf8_is_named_and_the_lines_after_it_are_read() {
        let bytes: &[u8] = b"{\"a\":1}\n{\"b\":\"\xff\"}\r\n{\"a\":3}\n";
        let results: Vec<(usize, bool)> = events(bytes).map(|(line, value)| (line, value.is_ok())).collect();
        assert_eq!(results, [(1, true), (2, false), (3, true)]);
        let (_, err) = events(bytes).nth(1).unwrap();
        assert!(err.unwrap_err().to_string().contains("utf-8"));
    }

    #[test]
    fn a_document_cut_off_at_the_end_is_an_error() {
        let results: Vec<_> = events("{\"a\":1}\n{\"a\":".as_bytes()).collect();
        assert_eq!(results.len(), 2);
        assert!(results[1].1.is_err());
        assert_eq!(results[1].0, 2);
    }
}

//! `sluice-forwarder replay`: Lambda events read back from files or stdin (CloudWatch Logs
//! subscription events, Kinesis events, SQS events of S3 notifications, Lambda's on-failure
//! records), or every object under an S3 prefix, run again through the pipeline with the same
//! settings as the function: delivered, or written as the `_bulk` NDJSON they would send
//! (`--dry-run`). Each event is one [`Pipeline::run`](crate::pipeline::Pipeline::run); replay only
//! names the inputs, counts the outcomes and says what failed. A delivering replay runs up to
//! `BULK_CONCURRENCY` events at once and counts them in the order of the input; a dry run writes
//! one event after the other.

mod bucket;
pub(super) mod command;
mod in_flight;
mod lines;
mod resume;

use std::io::Write;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;
use serde::Serialize;
use serde_json::Value;

use crate::config::Config;
use crate::handler::{Forwarder, HandlerError};
use crate::pipeline::{Outcome, Output, OutputError, Retry};
use crate::source::Decoded;
use crate::source::lambda::Input;
use crate::source::s3::read::ObjectError;
use crate::summary::Summary;

pub use self::bucket::{BucketRun, BucketUrl, OBJECTS_AT_ONCE};
pub use self::command::ReplayArgs;
use self::in_flight::InFlight;
use self::lines::Lines;
pub use self::lines::Source;
pub use self::resume::{ResumeCounts, ResumeError, ResumeFile};

/// How long a replay keeps retrying one event by default (Lambda's own limit is 15 minutes).
pub(crate) const REPLAY_DEADLINE: Duration = Duration::from_secs(15 * 60);

/// What went wrong that stops a replay (a bad event does not: it is counted as `malformed`).
/// Each message holds its cause's, so the cause is not also a `source` (printed as a chain, it
/// would be said twice).
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The NDJSON could not be written (`--dry-run`).
    #[error("{0}")]
    Write(OutputError),
    /// Delivery failed in a way that is not about the events (no endpoint).
    #[error("{what}: {error}")]
    Deliver {
        /// The input and line.
        what: String,
        error: HandlerError,
    },
    /// The bucket could not be listed.
    #[error("listing the objects: {0}")]
    List(ObjectError),
    /// The resume file could not be written.
    #[error("{0}")]
    Resume(ResumeError),
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
    /// What a replay of a bucket skipped or resumed from its resume file.
    #[serde(flatten)]
    pub resumed: ResumeCounts,
    /// Set when Ctrl-C stopped the replay: "during" the event being handled then, whose outcome
    /// is unknown, or "after" the last one finished (for a bucket, the objects finished of those
    /// listed). The counts are those of the events finished before it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interrupted_at: Option<String>,
    /// Where the replay is: "during" or "after" an event (or round); empty before the first.
    #[serde(skip)]
    pub position: String,
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
    pub(crate) fn interrupt(&mut self) {
        let position = std::mem::take(&mut self.position);
        self.interrupted_at = Some(if position.is_empty() {
            "before the first event".to_string()
        } else {
            position
        });
    }
}

/// A replay: the forwarder whose pipeline runs each event, whether it delivers or writes the
/// NDJSON (`--dry-run`), and how long each event may be retried.
pub struct Replay<'a> {
    forwarder: &'a Forwarder,
    dry_run: bool,
    timeout: Duration,
}

impl<'a> Replay<'a> {
    /// A replay through `forwarder`, retrying each event for at most [`REPLAY_DEADLINE`].
    pub fn new(forwarder: &'a Forwarder, dry_run: bool) -> Replay<'a> {
        Replay {
            forwarder,
            dry_run,
            timeout: REPLAY_DEADLINE,
        }
    }

    /// Bounds how long one event (or one object of a bucket) is retried.
    pub(crate) fn with_timeout(mut self, timeout: Duration) -> Replay<'a> {
        self.timeout = timeout;
        self
    }

    /// A summary to count into, marked as a dry run when this is one.
    pub fn summary(&self) -> ReplaySummary {
        ReplaySummary {
            dry_run: self.dry_run,
            ..ReplaySummary::default()
        }
    }

    /// Replays every event of every source, in order. `out` receives the NDJSON of a dry run,
    /// `errors` one line per event that is malformed or not delivered, naming the source and line.
    pub async fn files(
        &self,
        sources: Vec<Source>,
        out: &mut dyn Write,
        errors: &mut dyn Write,
    ) -> Result<ReplaySummary, ReplayError> {
        let mut total = self.summary();
        self.files_into(sources, &mut total, out, errors).await?;
        Ok(total)
    }

    /// [`Replay::files`], counting into `total` as it goes, so that a replay stopped half way (the
    /// future dropped at Ctrl-C) leaves the counts of the events it finished. Sources are read so
    /// that waiting for the next line never holds up the stop ([`Lines`]).
    pub(crate) async fn files_into(
        &self,
        sources: Vec<Source>,
        total: &mut ReplaySummary,
        out: &mut dyn Write,
        errors: &mut dyn Write,
    ) -> Result<(), ReplayError> {
        for source in sources {
            let name = source.name.clone();
            let lines = Lines::of(source);
            match self.dry_run {
                true => self.write_source(&name, lines, total, out, errors).await?,
                false => self.deliver_source(&name, lines, total, errors).await?,
            }
        }
        flush(out)
    }

    /// The dry run of one source: one event after the other, so that the NDJSON comes out in
    /// the order of the input, written straight to `out`.
    async fn write_source(
        &self,
        name: &str,
        mut lines: Lines,
        total: &mut ReplaySummary,
        out: &mut dyn Write,
        errors: &mut dyn Write,
    ) -> Result<(), ReplayError> {
        while let Some((line, value)) = lines.next().await {
            let what = format!("{name} line {line}");
            total.position = format!("during {what}");
            match decode(&what, value, self.forwarder.config()) {
                Ok(decoded) => self.run(decoded, &what, total, out, errors).await?,
                Err(message) => malformed(&message, total, errors),
            }
            total.position = format!("after {what}");
        }
        Ok(())
    }

    /// The delivery of one source: up to `BULK_CONCURRENCY` events at once, so that the next
    /// events are decoded and their documents built while the requests of earlier ones are
    /// compressed and in flight (on the runtime's other threads), and memory stays that of a few
    /// events. Outcomes are counted, and failures said, in the order of the input.
    async fn deliver_source(
        &self,
        name: &str,
        mut lines: Lines,
        total: &mut ReplaySummary,
        errors: &mut dyn Write,
    ) -> Result<(), ReplayError> {
        let concurrency = self.events_in_flight();
        let mut running = FuturesOrdered::new();
        let mut in_flight = InFlight::new(name);
        let mut reading = true;
        loop {
            tokio::select! {
                biased;
                Some(done) = running.next() => {
                    let (what, ran): (String, Ran) = done;
                    in_flight.finish();
                    match ran {
                        Ran::Outcome(outcome) => count(*outcome, &what, total, errors),
                        Ran::Malformed(message) => malformed(&message, total, errors),
                        Ran::Failed(err) => return Err(err),
                    }
                }
                line = lines.next(), if reading && running.len() < concurrency => match line {
                    Some((line, value)) => {
                        in_flight.start(line);
                        running.push_back(self.deliver(format!("{name} line {line}"), value));
                    }
                    None => reading = false,
                },
                else => break,
            }
            if let Some(position) = in_flight.position() {
                total.position = position;
            }
        }
        Ok(())
    }

    /// How many events a delivering replay runs at once: the sink's `BULK_CONCURRENCY`.
    fn events_in_flight(&self) -> usize {
        self.forwarder
            .opensearch()
            .map_or(1, |output| output.concurrency())
            .max(1)
    }

    /// One event of a delivering replay, named `what` (its source and line), decoded and run to
    /// the cluster; returns `what` with how it went, to be counted in order.
    async fn deliver(&self, what: String, value: Result<Value, serde_json::Error>) -> (String, Ran) {
        let decoded = match decode(&what, value, self.forwarder.config()) {
            Ok(decoded) => decoded,
            Err(message) => return (what, Ran::Malformed(message)),
        };
        let ran = match self.outcome(decoded, &what, None).await {
            Ok(outcome) => Ran::Outcome(Box::new(outcome)),
            Err(err) => Ran::Failed(err),
        };
        (what, ran)
    }

    /// Runs one decoded event (or round of objects) through the pipeline, to the cluster or to
    /// `out`, and adds its outcome to `total`.
    async fn run(
        &self,
        decoded: Decoded,
        what: &str,
        total: &mut ReplaySummary,
        out: &mut dyn Write,
        errors: &mut dyn Write,
    ) -> Result<(), ReplayError> {
        let outcome = self.outcome(decoded, what, self.dry_run.then_some(out)).await?;
        count(outcome, what, total, errors);
        Ok(())
    }

    /// Runs one decoded event (or round of objects) through the pipeline: its NDJSON written to
    /// `out` when given (the dry run), else delivered to the cluster.
    async fn outcome(
        &self,
        decoded: Decoded,
        what: &str,
        out: Option<&mut dyn Write>,
    ) -> Result<Outcome, ReplayError> {
        let mut output = match out {
            Some(out) => Output::Ndjson(out),
            None => self.forwarder.opensearch().map_err(|err| ReplayError::Deliver {
                what: what.to_string(),
                error: err.into(),
            })?,
        };
        let deadline = Instant::now() + self.timeout;
        self.forwarder
            .pipeline()
            .run(decoded, &mut output, deadline)
            .await
            .map_err(ReplayError::Write)
    }
}

/// How one event of a delivering replay went.
enum Ran {
    Outcome(Box<Outcome>),
    /// Not an event: the message says why.
    Malformed(String),
    /// Not about the event: the replay stops.
    Failed(ReplayError),
}

/// Decodes one event read from `what` (its source and line); the message says why it is not an
/// event.
fn decode(what: &str, value: Result<Value, serde_json::Error>, config: &Config) -> Result<Decoded, String> {
    let (realtime, limits) = (&config.cloudfront_realtime, &config.limits);
    match value.map(|value| Input::from_value(value).and_then(|input| input.decode_with(realtime, limits))) {
        Err(err) => Err(format!("{what} is not JSON: {err}")),
        Ok(Err(err)) => Err(HandlerError::from(err.at(what)).to_string()),
        Ok(Ok(decoded)) => Ok(decoded.at(what)),
    }
}

/// Counts an input that is not an event, with its line on `errors`.
fn malformed(message: &str, total: &mut ReplaySummary, errors: &mut dyn Write) {
    let _ = writeln!(errors, "sluice-forwarder: {message}");
    total.malformed += 1;
}

/// Flushes what a replay wrote on `out` (the `--dry-run` NDJSON).
fn flush(out: &mut dyn Write) -> Result<(), ReplayError> {
    out.flush()
        .map_err(|err| ReplayError::Write(OutputError::Write(err)))
}

/// Adds one event's outcome to `total`, with a line on `errors` for each object not read and
/// what the function would have had retried.
fn count(outcome: Outcome, what: &str, total: &mut ReplaySummary, errors: &mut dyn Write) {
    total.summary.add(&outcome.delivered.summary);
    for error in &outcome.unread {
        let _ = writeln!(errors, "sluice-forwarder: {error}");
    }
    match outcome.retry() {
        Retry::Nothing => {}
        Retry::Items(items) => {
            for id in items {
                let _ = writeln!(errors, "sluice-forwarder: {what}: item {id} would be retried");
                total.failed_items.push(id.to_string());
            }
        }
        Retry::Invocation => {
            let reason = outcome.delivered.last_error.as_deref().unwrap_or("unknown");
            let _ = writeln!(
                errors,
                "sluice-forwarder: {what}: {} events not delivered: {reason}",
                outcome.delivered.summary.failed
            );
        }
    }
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
        let write = ReplayError::Write(OutputError::Write(std::io::Error::other("disk full")));
        assert!(std::error::Error::source(&write).is_none(), "{write}");
    }
}

#[cfg(test)]
mod deliver_tests;

//! `sluice-forwarder replay`: Lambda events read back from files or stdin (CloudWatch Logs
//! subscription events, Kinesis events, SQS events of S3 notifications, Lambda's on-failure
//! records), or every object under an S3 prefix, run again through the pipeline with the same
//! settings as the function: delivered, or written as the `_bulk` NDJSON they would send
//! (`--dry-run`). Each event is one [`Pipeline::run`](crate::pipeline::Pipeline::run); replay only
//! names the inputs, counts the outcomes and says what failed.

mod bucket;
pub(super) mod command;
mod lines;
mod resume;

use std::io::Write;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use crate::handler::{Forwarder, HandlerError};
use crate::pipeline::{Outcome, Output, OutputError, Retry};
use crate::source::Decoded;
use crate::source::lambda::Input;
use crate::source::s3::read::ObjectError;
use crate::summary::Summary;

pub use self::bucket::{BucketRun, BucketUrl, OBJECTS_AT_ONCE};
pub use self::command::ReplayArgs;
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
    /// future dropped at Ctrl-C) leaves the counts of the events it finished. A source that may
    /// wait for its next line (stdin: a terminal, a pipe) is read on a thread of its own, so that
    /// the wait never holds up the stop; a file is read in place, yielding after each event for
    /// the same reason.
    pub(crate) async fn files_into(
        &self,
        sources: Vec<Source>,
        total: &mut ReplaySummary,
        out: &mut dyn Write,
        errors: &mut dyn Write,
    ) -> Result<(), ReplayError> {
        for source in sources {
            if source.may_wait {
                let mut lines = lines::read_on_a_thread(source);
                while let Some((what, value)) = lines.recv().await {
                    self.event(&what, value, total, out, errors).await?;
                }
            } else {
                for (line, value) in lines::events(source.reader) {
                    let what = format!("{} line {line}", source.name);
                    self.event(&what, value, total, out, errors).await?;
                    tokio::task::yield_now().await;
                }
            }
        }
        flush(out)
    }

    /// One event of a replay, named `what` (its source and line).
    async fn event(
        &self,
        what: &str,
        value: Result<Value, serde_json::Error>,
        total: &mut ReplaySummary,
        out: &mut dyn Write,
        errors: &mut dyn Write,
    ) -> Result<(), ReplayError> {
        total.position = format!("during {what}");
        let decoded = match value.map(|value| Input::from_value(value).and_then(Input::decode)) {
            Err(err) => Err(format!("{what} is not JSON: {err}")),
            Ok(Err(err)) => Err(HandlerError::from(err.at(what)).to_string()),
            Ok(Ok(decoded)) => Ok(decoded.at(what)),
        };
        match decoded {
            Ok(decoded) => self.run(decoded, what, total, out, errors).await?,
            Err(message) => {
                let _ = writeln!(errors, "sluice-forwarder: {message}");
                total.malformed += 1;
            }
        }
        total.position = format!("after {what}");
        Ok(())
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
        let deliver = |error| ReplayError::Deliver {
            what: what.to_string(),
            error,
        };
        let mut output = match self.dry_run {
            true => Output::Ndjson(out),
            false => self.forwarder.opensearch().map_err(|err| deliver(err.into()))?,
        };
        let deadline = Instant::now() + self.timeout;
        let outcome = self
            .forwarder
            .pipeline()
            .run(decoded, &mut output, deadline)
            .await
            .map_err(ReplayError::Write)?;
        count(outcome, what, total, errors);
        Ok(())
    }
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

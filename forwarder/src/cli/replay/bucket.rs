//! `replay s3://BUCKET/PREFIX`: every object under a prefix, each read in a run of the pipeline
//! of its own, several at once across the whole listing, each acknowledged by its key. With a
//! resume file ([`super::resume`]) the objects done before are skipped, those stopped part way
//! resumed, and what this run does is recorded as it goes.

use std::cell::RefCell;
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use super::resume::{Plan, ResumeFile};
use super::{Replay, ReplayError, ReplaySummary};
use crate::pipeline::{Outcome, Output, OutputError, Retry, Stop};
use crate::source::s3::continuation::Resume;
use crate::source::s3::read::Listed;
use crate::source::s3::{ObjectTask, Unfinished};
use crate::source::{Ack, Decoded, Reply};

/// Objects of a bucket read at once by default: with each object's reading thread and its
/// deliveries, enough to keep two cores busy.
pub const OBJECTS_AT_ONCE: usize = 4;
/// How often the progress line is rewritten, at most.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

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

/// Milliseconds since the epoch: objects last modified at or after the first and before the
/// second, each bound optional.
pub(crate) type Window = (Option<i64>, Option<i64>);

/// How a replay of buckets goes: how many objects at once, the resume file, and the stop
/// (Ctrl-C) that leaves each object being read at a record boundary.
#[derive(Debug)]
pub struct BucketRun {
    pub objects: usize,
    pub resume: Option<ResumeFile>,
    pub stop: Stop,
}

impl Default for BucketRun {
    fn default() -> BucketRun {
        BucketRun {
            objects: OBJECTS_AT_ONCE,
            resume: None,
            stop: Stop::default(),
        }
    }
}

/// One object to read: its listing, and where to start.
#[derive(Debug, Clone)]
struct Object {
    listed: Listed,
    resume: Option<Resume>,
}

impl Replay<'_> {
    /// Replays every object under `url` whose `LastModified` is within `window`,
    /// [`OBJECTS_AT_ONCE`] at a time.
    pub async fn bucket(
        &self,
        url: &BucketUrl,
        window: Window,
        out: &mut dyn Write,
        errors: &mut dyn Write,
    ) -> Result<ReplaySummary, ReplayError> {
        self.bucket_with(url, window, &mut BucketRun::default(), out, errors)
            .await
    }

    /// [`Replay::bucket`], as `run` says: with its resume file, objects at once and stop.
    pub async fn bucket_with(
        &self,
        url: &BucketUrl,
        window: Window,
        run: &mut BucketRun,
        out: &mut dyn Write,
        errors: &mut dyn Write,
    ) -> Result<ReplaySummary, ReplayError> {
        let mut total = self.summary();
        self.bucket_into(url, window, run, &mut total, out, errors)
            .await?;
        Ok(total)
    }

    /// [`Replay::bucket_with`], counting into `total` as it goes (see [`Replay::files_into`]).
    /// Once `run.stop` is stopped no object is started; those being read stop at a record
    /// boundary, and the resume file gets their position. On a terminal, `errors` gets a
    /// progress line, rewritten in place.
    pub(crate) async fn bucket_into(
        &self,
        url: &BucketUrl,
        (since_ms, until_ms): Window,
        run: &mut BucketRun,
        total: &mut ReplaySummary,
        out: &mut dyn Write,
        errors: &mut dyn Write,
    ) -> Result<(), ReplayError> {
        let Some(reader) = self.forwarder.pipeline().object_reader() else {
            return Ok(());
        };
        if run.stop.is_stopped() {
            return Ok(());
        }
        let listed = reader
            .list(&url.bucket, &url.prefix, since_ms, until_ms)
            .await
            .map_err(ReplayError::List)?;
        let what = format!("s3://{}/{}", url.bucket, url.prefix);
        if !self.dry_run {
            let error = |err: crate::handler::NoSink| ReplayError::Deliver {
                what: what.clone(),
                error: err.into(),
            };
            self.forwarder.opensearch().map_err(error)?;
        }
        let mut progress = Progress::new(&listed, std::io::stderr().is_terminal());
        let mut queue = self.plan(url, listed, run.resume.as_ref(), total, &mut progress, errors);
        let out = RefCell::new(out);
        let stop = run.stop.clone();
        let mut running = FuturesUnordered::new();
        let mut tick = tokio::time::interval(PROGRESS_EVERY);
        let mut told = stop.is_stopped();
        loop {
            while running.len() < run.objects.max(1) && !stop.is_stopped() {
                let Some(object) = queue.pop() else { break };
                running.push(self.object(url, object, &stop, &out));
            }
            let (object, outcome) = tokio::select! {
                next = running.next() => match next {
                    Some(done) => done,
                    None => break,
                },
                _ = tick.tick(), if progress.shown => {
                    progress.show(total, errors, false);
                    continue;
                }
                () = stop.stopped(), if !told => {
                    told = true;
                    let _ = writeln!(
                        errors,
                        "{}sluice-forwarder: stopping: the {} objects being read stop once what they read is delivered (Ctrl-C again stops at once)",
                        if progress.shown { "\n" } else { "" },
                        running.len()
                    );
                    continue;
                }
            };
            let outcome = outcome.map_err(ReplayError::Write)?;
            let key = object.listed.key.clone();
            match self.finish(url, object, outcome, run, total, errors)? {
                Some(again) => queue.push(again),
                None => progress.finished(&key),
            }
            total.position = format!("after {} of {} objects of {what}", progress.done, progress.count);
            progress.show(total, errors, false);
        }
        if progress.shown && progress.count > 0 {
            progress.show(total, errors, true);
            let _ = writeln!(errors);
        }
        super::flush(*out.borrow_mut())
    }

    /// The objects of `listed` to read, the first last, after those the resume file says are
    /// done, counted as skipped.
    fn plan(
        &self,
        url: &BucketUrl,
        listed: Vec<Listed>,
        resume: Option<&ResumeFile>,
        total: &mut ReplaySummary,
        progress: &mut Progress,
        errors: &mut dyn Write,
    ) -> Vec<Object> {
        let mut queue = Vec::with_capacity(listed.len());
        for listed in listed.into_iter().rev() {
            let plan = resume.map_or(Plan::Read, |file| file.plan(&url.bucket, &listed));
            let resume = match plan {
                Plan::Read => None,
                Plan::Skip => {
                    total.resumed.objects_done_before += 1;
                    total.resumed.bytes_done_before += listed.size.max(0) as u64;
                    progress.skipped(&listed);
                    continue;
                }
                Plan::Resume(resume) => {
                    total.resumed.objects_resumed += 1;
                    Some(resume)
                }
                Plan::Replaced { was } => {
                    let _ = writeln!(
                        errors,
                        "sluice-forwarder: s3://{}/{}: replaced since the resume file (ETag {was}, now {}): read whole again",
                        url.bucket, listed.key, listed.etag
                    );
                    total.resumed.objects_replaced += 1;
                    None
                }
            };
            queue.push(Object { listed, resume });
        }
        queue
    }

    /// Reads one object in a run of its own, to the cluster or to the shared `out`.
    async fn object(
        &self,
        url: &BucketUrl,
        object: Object,
        stop: &Stop,
        out: &RefCell<&mut dyn Write>,
    ) -> (Object, Result<Outcome, OutputError>) {
        let key = object.listed.key.clone();
        let task = ObjectTask {
            ack: Ack::Item(Arc::from(key.as_str())),
            bucket: url.bucket.clone(),
            key,
            queue: None,
            resume: object.resume.clone(),
        };
        let decoded = Decoded {
            objects: vec![task],
            ..Decoded::new(Reply::BatchItemFailures)
        };
        let mut shared = Shared(out);
        let mut output = match self.forwarder.opensearch() {
            Ok(output) if !self.dry_run => output,
            _ => Output::Ndjson(&mut shared),
        };
        let deadline = Instant::now() + self.timeout;
        let pipeline = self.forwarder.pipeline();
        let outcome = pipeline
            .run_until(decoded, &mut output, deadline, Some(stop))
            .await;
        (object, outcome)
    }

    /// Counts the outcome of `object` into `total` and records it in the resume file. Returns
    /// the object again when it is to be read again: replaced since it was stopped (whole), or
    /// cut short by the replay's timeout after reading some (from there).
    fn finish(
        &self,
        url: &BucketUrl,
        object: Object,
        mut outcome: Outcome,
        run: &mut BucketRun,
        total: &mut ReplaySummary,
        errors: &mut dyn Write,
    ) -> Result<Option<Object>, ReplayError> {
        let what = format!("s3://{}/{}", url.bucket, object.listed.key);
        let summary = &mut outcome.delivered.summary;
        if summary.continuations_refused > 0 {
            summary.objects -= 1;
            summary.continuations_refused -= 1;
            let _ = writeln!(
                errors,
                "sluice-forwarder: {what}: replaced since it was stopped: read whole again"
            );
            total.resumed.objects_replaced += 1;
            super::count(outcome, &what, total, errors);
            return Ok(Some(Object {
                resume: None,
                ..object
            }));
        }
        let stopped = run.stop.is_stopped();
        let whole = outcome.unfinished.is_empty();
        let mut at = None;
        if let Some(Unfinished {
            task,
            etag,
            after,
            seek,
        }) = outcome.unfinished.first()
        {
            let started = task.resume.as_ref().map_or(0, |resume| resume.after);
            let failed = outcome.delivered.failed.contains(&task.ack);
            at = (etag.as_ref())
                .filter(|_| *after > started && !failed)
                .map(|etag| Resume {
                    etag: etag.clone(),
                    after: *after,
                    chain: task.resume.as_ref().map_or(0, |resume| resume.chain) + 1,
                    seek: *seek,
                });
            // Left to the next run (or the next read): not a failure.
            if at.is_some() || (stopped && !failed) {
                outcome.continued(0);
            }
        }
        let done = whole && outcome.retry() == Retry::Nothing && outcome.unread.is_empty();
        super::count(outcome, &what, total, errors);
        match (at, &mut run.resume) {
            (Some(at), _) if !stopped => Ok(Some(Object {
                resume: Some(at),
                ..object
            })),
            (Some(at), Some(file)) => {
                let key = &object.listed.key;
                file.stopped(&url.bucket, key, &at).map_err(ReplayError::Resume)?;
                Ok(None)
            }
            (None, Some(file)) if done => {
                let key = &object.listed.key;
                file.done(&url.bucket, key, &object.listed.etag)
                    .map_err(ReplayError::Resume)?;
                Ok(None)
            }
            _ => Ok(None),
        }
    }
}

/// A dry run's `out`, shared by the objects being read: each write of the NDJSON is whole,
/// since none awaits between its lines.
struct Shared<'a, 'b>(&'a RefCell<&'b mut dyn Write>);

impl Write for Shared<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.borrow_mut().flush()
    }
}

/// The progress line of a replay at a terminal: objects done of those listed, megabytes read
/// (by the listing's sizes of the objects finished), records a second and the time left.
struct Progress {
    shown: bool,
    started: Instant,
    count: usize,
    done: usize,
    total_bytes: u64,
    skipped_bytes: u64,
    done_bytes: u64,
    sizes: std::collections::HashMap<String, u64>,
    last: Option<Instant>,
}

impl Progress {
    fn new(listed: &[Listed], shown: bool) -> Progress {
        let sizes: std::collections::HashMap<String, u64> = (listed.iter())
            .map(|object| (object.key.clone(), object.size.max(0) as u64))
            .collect();
        Progress {
            shown,
            started: Instant::now(),
            count: listed.len(),
            done: 0,
            total_bytes: sizes.values().sum(),
            skipped_bytes: 0,
            done_bytes: 0,
            sizes,
            last: None,
        }
    }

    fn skipped(&mut self, listed: &Listed) {
        self.done += 1;
        self.skipped_bytes += listed.size.max(0) as u64;
    }

    /// An object is finished with (read, failed or stopped): its bytes count as read.
    fn finished(&mut self, key: &str) {
        self.done += 1;
        self.done_bytes += self.sizes.get(key).copied().unwrap_or_default();
    }

    /// Rewrites the line, unless it was a moment ago and this is not the last time.
    fn show(&mut self, total: &ReplaySummary, errors: &mut dyn Write, last: bool) {
        let now = Instant::now();
        let recent = self.last.is_some_and(|shown| now - shown < PROGRESS_EVERY / 2);
        if !self.shown || (recent && !last) {
            return;
        }
        self.last = Some(now);
        let _ = write!(errors, "\r{} ", self.line(total, now - self.started));
    }

    /// `12/40 objects, 1200.5 MB, 84000 records/s, about 3m10s left`.
    fn line(&self, total: &ReplaySummary, elapsed: Duration) -> String {
        let seconds = elapsed.as_secs_f64().max(0.001);
        let mb = (self.skipped_bytes + self.done_bytes) as f64 / 1e6;
        let rate = total.summary.events as f64 / seconds;
        let mut line = format!(
            "{}/{} objects, {mb:.1} MB, {rate:.0} records/s",
            self.done, self.count
        );
        let left = self
            .total_bytes
            .saturating_sub(self.skipped_bytes + self.done_bytes);
        if self.done_bytes > 0 && left > 0 {
            let eta = left as f64 * seconds / self.done_bytes as f64;
            line.push_str(&format!(", about {} left", minutes(eta)));
        }
        line
    }
}

/// `3m10s`, `45s`.
fn minutes(seconds: f64) -> String {
    let seconds = seconds.round() as u64;
    match seconds / 60 {
        0 => format!("{seconds}s"),
        minutes => format!("{minutes}m{:02}s", seconds % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(key: &str, size: i64) -> Listed {
        Listed {
            key: key.to_string(),
            last_modified_ms: 0,
            size,
            etag: String::new(),
        }
    }

    #[test]
    fn the_progress_line_counts_objects_bytes_and_records_and_the_time_left() {
        let listing = [
            listed("a", 10_000_000),
            listed("b", 20_000_000),
            listed("c", 30_000_000),
        ];
        let mut progress = Progress::new(&listing, true);
        let mut total = ReplaySummary::default();
        assert_eq!(
            progress.line(&total, Duration::from_secs(1)),
            "0/3 objects, 0.0 MB, 0 records/s"
        );
        progress.skipped(&listing[0]);
        progress.finished("b");
        total.summary.events = 1_000;
        // 20 MB read in 10 s, 30 MB left; the skipped object is no part of the rate.
        assert_eq!(
            progress.line(&total, Duration::from_secs(10)),
            "2/3 objects, 30.0 MB, 100 records/s, about 15s left"
        );
        progress.finished("c");
        assert_eq!(
            progress.line(&total, Duration::from_secs(200)),
            "3/3 objects, 60.0 MB, 5 records/s"
        );
        assert_eq!(minutes(190.2), "3m10s");
    }

    #[test]
    fn an_s3_url_is_a_bucket_and_a_prefix() {
        let url = BucketUrl::parse("s3://logs/AWSLogs/1/").unwrap();
        assert_eq!((url.bucket.as_str(), url.prefix.as_str()), ("logs", "AWSLogs/1/"));
        assert_eq!(BucketUrl::parse("s3://logs").unwrap().prefix, "");
        assert_eq!(BucketUrl::parse("s3:///x"), None);
        assert_eq!(BucketUrl::parse("logs/x"), None);
    }
}

//! The delivery loop that never loses a line.
//!
//! Documents go out in `_bulk` requests, `BULK_CONCURRENCY` at a time. Each answer is classified
//! per item ([`super::classify::classify`]): indexed and duplicate items are done; 429/5xx items
//! (and whole requests that failed in transport or with 429/5xx) are retried after an exponential
//! backoff with full jitter, without re-sending the rest; a 413 splits the request in halves and
//! a single document too large goes to the dead-letter index; a mapping conflict is retried once
//! as the fallback document (parsed fields dropped, raw message kept), then dead-lettered with the
//! reason; any other rejection is dead-lettered. Retries stop `DEADLINE_MARGIN_MS` before the
//! deadline; what is still undelivered is counted as `failed`, and the acknowledgements of the
//! failed documents are reported so the caller can fail the invocation or the items.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use super::bulk::{self, Request};
use super::classify::{BulkOutcome, ItemOutcome, classify};
use super::sink::{Answer, Sink, SinkError};
use crate::document::{Document, Rebuild, Stage};
use crate::source::Ack;
use crate::summary::Summary;

/// The longest single backoff.
const MAX_BACKOFF: Duration = Duration::from_secs(20);
/// The longest single request, whatever the deadline.
const MAX_REQUEST_TIME: Duration = Duration::from_secs(60);

/// Retry pacing of the delivery loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryConfig {
    pub base: Duration,
    /// Retries stop this long before the invocation's deadline.
    pub deadline_margin: Duration,
}

/// What [`Delivery::deliver`] achieved.
#[derive(Debug, Clone, Default)]
pub struct Delivered {
    /// `indexed`, `duplicates`, `retried`, `dead_lettered`, `failed`, `fallbacks`, `unparsed`,
    /// `bulk_requests` and `bulk_ms`.
    pub summary: Summary,
    /// The acknowledgements with at least one undelivered document.
    pub failed: BTreeSet<Ack>,
    /// The reason of the last failure, to name in the invocation error.
    pub last_error: Option<String>,
    /// The time each `_bulk` request took, for the EMF latency metric.
    pub latencies_ms: Vec<f64>,
}

impl Delivered {
    /// Adds the outcome of a later delivery of the same event.
    pub fn merge(&mut self, other: Delivered) {
        self.summary.add(&other.summary);
        self.failed.extend(other.failed);
        if other.last_error.is_some() {
            self.last_error = other.last_error;
        }
        self.latencies_ms.extend(other.latencies_ms);
    }
}

/// Delivery settings and the shared sink.
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    pub sink: Arc<Sink>,
    pub max_bytes: usize,
    pub concurrency: usize,
    pub retry: RetryConfig,
}

/// Documents waiting to be sent, cut into requests of at most `max_bytes`.
struct Group {
    docs: VecDeque<Document>,
    max_bytes: usize,
}

/// What happens to one document after an answer.
enum Next {
    Done,
    Retry(Document),
    Now(Document),
    Failed(Document),
}

impl Delivery {
    /// Delivers `docs` before `deadline`. `rebuild` rebuilds a rejected document as its fallback
    /// or dead-letter form.
    pub async fn deliver(&self, rebuild: &dyn Rebuild, docs: Vec<Document>, deadline: Instant) -> Delivered {
        let mut delivered = Delivered::default();
        let mut pending = docs;
        let mut attempt: u32 = 0;
        loop {
            let retry = self.round(rebuild, pending, deadline, &mut delivered).await;
            if retry.is_empty() {
                break;
            }
            attempt = attempt.saturating_add(1);
            let remaining = self.stop_at(deadline).saturating_duration_since(Instant::now());
            let Some(backoff) = retry_backoff(self.retry.base, attempt - 1, remaining) else {
                tracing::warn!(
                    undelivered = retry.len(),
                    attempts = attempt,
                    "retries stop before the deadline"
                );
                fail_all(retry, &mut delivered);
                break;
            };
            delivered.summary.retried += retry.len() as u64;
            tracing::info!(
                items = retry.len(),
                backoff_ms = backoff.as_millis() as u64,
                "retrying"
            );
            tokio::time::sleep(backoff).await;
            pending = retry;
        }
        delivered
    }

    /// When retries stop: `DEADLINE_MARGIN_MS` before the deadline.
    fn stop_at(&self, deadline: Instant) -> Instant {
        deadline
            .checked_sub(self.retry.deadline_margin)
            .unwrap_or_else(Instant::now)
    }

    /// Sends everything in `pending` once (plus the immediate follow-ups: 413 halves, fallback and
    /// dead-letter documents) and returns the documents to retry after a backoff.
    async fn round(
        &self,
        rebuild: &dyn Rebuild,
        pending: Vec<Document>,
        deadline: Instant,
        delivered: &mut Delivered,
    ) -> Vec<Document> {
        let mut round = Round {
            queue: VecDeque::from([Group {
                docs: pending.into(),
                max_bytes: self.max_bytes,
            }]),
            retry: Vec::new(),
            in_flight: JoinSet::new(),
            sent: HashMap::new(),
            stop_at: self.stop_at(deadline),
        };
        loop {
            self.launch(&mut round, delivered);
            let Some(joined) = round.in_flight.join_next_with_id().await else {
                break;
            };
            let (id, answer, took) = match joined {
                Ok((id, (answer, took))) => (id, answer, took),
                Err(err) => {
                    // A panicking task loses only its answer: its documents are still here and
                    // fail with their acknowledgements. Nothing in the task panics on input
                    // data, so this is a bug.
                    delivered.last_error = Some("a bulk request task panicked".into());
                    fail_all(round.sent.remove(&err.id()).unwrap_or_default(), delivered);
                    continue;
                }
            };
            let docs = round.sent.remove(&id).unwrap_or_default();
            delivered.summary.bulk_requests += 1;
            delivered.summary.bulk_ms += took.as_millis() as u64;
            delivered.latencies_ms.push(took.as_secs_f64() * 1000.0);
            let outcome = match answer {
                Ok(answer) => classify(answer.status, &answer.body, docs.len()),
                Err(err) => BulkOutcome::RetryAll {
                    status: 0,
                    reason: err.to_string(),
                },
            };
            let now = settle(rebuild, docs, outcome, &mut round, delivered);
            if !now.is_empty() {
                round.queue.push_back(Group {
                    docs: now.into(),
                    max_bytes: self.max_bytes,
                });
            }
        }
        round.retry
    }

    /// Starts requests from the round's queue until `concurrency` are running or the queue is
    /// empty; past the time when retries stop, a request's documents go to retry unsent.
    fn launch(&self, round: &mut Round, delivered: &mut Delivered) {
        while round.in_flight.len() < self.concurrency
            && let Some(Request { body, docs }) = next_request(&mut round.queue)
        {
            let remaining = round.stop_at.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                // The failure that led here (refused, throttled) says more than the deadline.
                delivered
                    .last_error
                    .get_or_insert_with(|| "the deadline came before the request could be sent".into());
                round.retry.extend(docs);
                continue;
            }
            let timeout = remaining.min(MAX_REQUEST_TIME);
            let sink = Arc::clone(&self.sink);
            let task = round.in_flight.spawn(async move {
                let started = Instant::now();
                let answer = sink.bulk(&body, timeout).await;
                (answer, started.elapsed())
            });
            round.sent.insert(task.id(), docs);
        }
    }
}

/// One round of requests: what waits to be sent, what is running, what is to retry.
struct Round {
    queue: VecDeque<Group>,
    retry: Vec<Document>,
    in_flight: JoinSet<(Result<Answer, SinkError>, Duration)>,
    /// The documents of each running request: the task only holds the body.
    sent: HashMap<tokio::task::Id, Vec<Document>>,
    /// When retries stop ([`Delivery::stop_at`]).
    stop_at: Instant,
}

/// Acts on the answer to one request of `docs`: counts what is done, puts what must be retried
/// in the round's retry, and queues 413 halves; returns the documents to send at once (fallback
/// and dead-letter forms).
fn settle(
    rebuild: &dyn Rebuild,
    docs: Vec<Document>,
    outcome: BulkOutcome,
    round: &mut Round,
    delivered: &mut Delivered,
) -> Vec<Document> {
    let mut now = Vec::new();
    match outcome {
        BulkOutcome::RetryAll { status, reason } => {
            tracing::warn!(status, reason = %reason, items = docs.len(), "bulk request failed; retrying its items");
            delivered.last_error = Some(reason);
            round.retry.extend(docs);
        }
        BulkOutcome::FailAll { status, reason } => {
            tracing::error!(status, reason = %reason, items = docs.len(), "the cluster refused the bulk request");
            delivered.last_error = Some(format!("HTTP {status}: {reason}"));
            fail_all(docs, delivered);
        }
        BulkOutcome::Split if docs.len() > 1 => {
            let mut first = docs;
            let second = first.split_off(first.len() / 2);
            tracing::info!(items = first.len() + second.len(), "413: splitting the request");
            // Each half goes as one request, whatever the size limit said before.
            for half in [first, second] {
                round.queue.push_back(Group {
                    docs: half.into(),
                    max_bytes: usize::MAX,
                });
            }
        }
        BulkOutcome::Split => {
            for doc in docs {
                let reason = format!(
                    "the cluster refused the document as too large (HTTP 413, {} bytes of source)",
                    doc.source.len()
                );
                let next = dead_letter(rebuild, doc, &reason);
                route(next, delivered, &mut round.retry, &mut now);
            }
        }
        BulkOutcome::Items(outcomes) => {
            for (doc, outcome) in docs.into_iter().zip(outcomes) {
                let next = item_next(rebuild, doc, outcome, delivered);
                route(next, delivered, &mut round.retry, &mut now);
            }
        }
    }
    now
}

/// The next request from the front group of `queue`, dropping groups as they empty.
fn next_request(queue: &mut VecDeque<Group>) -> Option<Request> {
    loop {
        let group = queue.front_mut()?;
        if let Some(request) = bulk::next_request(&mut group.docs, group.max_bytes) {
            return Some(request);
        }
        queue.pop_front();
    }
}

fn route(next: Next, delivered: &mut Delivered, retry: &mut Vec<Document>, now: &mut Vec<Document>) {
    match next {
        Next::Done => {}
        Next::Retry(doc) => retry.push(doc),
        Next::Now(doc) => now.push(doc),
        Next::Failed(doc) => fail_all([doc], delivered),
    }
}

fn fail_all(docs: impl IntoIterator<Item = Document>, delivered: &mut Delivered) {
    for doc in docs {
        delivered.summary.failed += doc.events();
        if !delivered.failed.contains(doc.ack()) {
            delivered.failed.insert(doc.ack().clone());
        }
    }
}

/// The dead-letter form of `doc`, or `Failed` if it already was one (or has no event to
/// describe).
fn dead_letter(rebuild: &dyn Rebuild, doc: Document, reason: &str) -> Next {
    if doc.stage == Stage::DeadLetter {
        tracing::error!(index = %doc.index, reason, "a dead-letter document was rejected");
        return Next::Failed(doc);
    }
    match rebuild.dead_letter(&doc, reason) {
        Some(dead) => Next::Now(dead),
        None => Next::Failed(doc),
    }
}

/// What happens to one document after its outcome.
fn item_next(rebuild: &dyn Rebuild, doc: Document, outcome: ItemOutcome, delivered: &mut Delivered) -> Next {
    let summary = &mut delivered.summary;
    match outcome {
        ItemOutcome::Indexed | ItemOutcome::Duplicate => {
            // Counts are of events: a merged stack trace's document stands for all of them.
            let events = doc.events();
            match doc.stage {
                Stage::DeadLetter => summary.dead_lettered += events,
                _ if outcome == ItemOutcome::Duplicate => summary.duplicates += events,
                Stage::Fallback => {
                    summary.indexed += events;
                    summary.fallbacks += events;
                }
                Stage::Primary => {
                    summary.indexed += events;
                    summary.unparsed += u64::from(doc.unparsed());
                }
            }
            Next::Done
        }
        ItemOutcome::Retry { status, reason } => {
            delivered.last_error = Some(format!("HTTP {status}: {reason}"));
            Next::Retry(doc)
        }
        ItemOutcome::MappingConflict { reason } if doc.stage == Stage::Primary => {
            match rebuild.fallback(&doc) {
                Some(fallback) => Next::Now(fallback),
                None => dead_letter(rebuild, doc, &reason),
            }
        }
        ItemOutcome::MappingConflict { reason } => dead_letter(rebuild, doc, &reason),
        ItemOutcome::Rejected { status, reason } => {
            dead_letter(rebuild, doc, &format!("HTTP {status}: {reason}"))
        }
    }
}

/// Backoff before retry `attempt` (0-based): uniform in `[0, min(MAX_BACKOFF, base * 2^attempt)]`.
pub(crate) fn full_jitter(base: Duration, attempt: u32) -> Duration {
    let ceiling = base
        .saturating_mul(2u32.saturating_pow(attempt.min(20)))
        .min(MAX_BACKOFF);
    let millis = ceiling.as_millis() as u64;
    Duration::from_millis(rand::random_range(0..=millis))
}

/// The pause before retry number `attempt + 1` with `remaining` time before retries must stop:
/// the full-jitter backoff, shrunk near the deadline so that one more attempt still fits after it;
/// `None` (give up in time) when less than one base backoff remains.
pub(crate) fn retry_backoff(base: Duration, attempt: u32, remaining: Duration) -> Option<Duration> {
    (remaining >= base).then(|| full_jitter(base, attempt).min(remaining / 2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{DocumentBuilder, DocumentOptions};
    use crate::source::s3::{Format, ObjectMeta, Record, Records};

    /// The documents of an ALB log object: two lines of the layout of
    /// <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html#access-log-entry-syntax>
    /// and two that are not ALB entries at all.
    fn alb_documents(builder: &DocumentBuilder) -> Vec<Document> {
        let entry = |client: &str| {
            format!(
                "http 2026-11-29T10:05:00.186641Z app/my-alb/50dc6c495c0c9188 {client}:2817 10.0.0.1:80 \
                 0.000 0.001 0.000 200 200 34 366 \"GET http://www.example.com:80/ HTTP/1.1\" \"curl/8.5.0\" - -"
            )
        };
        let lines = [
            entry("192.0.2.1"),
            "not an ALB entry".to_owned(),
            entry("192.0.2.2"),
            "neither is this".to_owned(),
        ];
        let records = Records {
            ack: Ack::Invocation,
            object: Arc::new(ObjectMeta {
                bucket: "logs".into(),
                key: "alb.log".into(),
                etag: "e".into(),
                last_modified_ms: 1_795_946_400_000,
                format: Format::Alb,
                key_fields: Vec::new(),
                kinesis: None,
            }),
            header: None,
            records: (lines.iter().enumerate())
                .map(|(i, text)| Record {
                    number: i as u64 + 1,
                    timestamp: 1_795_946_400_000,
                    text: text.clone(),
                    truncated_from: None,
                })
                .collect(),
        };
        let documents = builder.record_documents(&Arc::new(records));
        assert_eq!(documents.unparsed, 2, "two lines are no ALB entries");
        documents.docs
    }

    /// Counts `docs` as a `_bulk` answer whose items all have `status`, as `settle` does.
    fn count(builder: &DocumentBuilder, docs: Vec<Document>, status: u16) -> Summary {
        let items: Vec<String> = (0..docs.len())
            .map(|_| format!(r#"{{"create":{{"_index":"alb-2026.11.29","status":{status}}}}}"#))
            .collect();
        let body = format!(
            r#"{{"took":3,"errors":{},"items":[{}]}}"#,
            status != 201,
            items.join(",")
        );
        let BulkOutcome::Items(outcomes) = classify(200, body.as_bytes(), docs.len()) else {
            panic!("per-item outcomes expected");
        };
        let mut delivered = Delivered::default();
        for (doc, outcome) in docs.into_iter().zip(outcomes) {
            assert!(matches!(
                item_next(builder, doc, outcome, &mut delivered),
                Next::Done
            ));
        }
        delivered.summary
    }

    /// Issue 28, item 9: a second delivery of the same lines finds them all there; the lines that
    /// did not parse are duplicates then, not `unparsed`, which is part of `indexed`.
    #[test]
    fn unparsed_counts_only_lines_indexed_now() {
        let builder = DocumentBuilder::new(DocumentOptions::default(), "us-east-2".into());
        let first = count(&builder, alb_documents(&builder), 201);
        assert_eq!((first.indexed, first.unparsed, first.duplicates), (4, 2, 0));
        let again = count(&builder, alb_documents(&builder), 409);
        assert_eq!((again.indexed, again.unparsed, again.duplicates), (0, 0, 4));
    }

    #[test]
    fn full_jitter_stays_within_the_exponential_ceiling() {
        let base = Duration::from_millis(100);
        for attempt in 0..6 {
            let ceiling = base * 2u32.pow(attempt);
            for _ in 0..50 {
                assert!(full_jitter(base, attempt) <= ceiling);
            }
        }
        for _ in 0..50 {
            assert!(
                full_jitter(base, 40) <= MAX_BACKOFF,
                "capped however many attempts"
            );
        }
    }

    #[test]
    fn near_the_deadline_the_backoff_leaves_room_for_one_more_attempt_or_gives_up() {
        let base = Duration::from_millis(100);
        assert_eq!(retry_backoff(base, 0, Duration::from_millis(99)), None);
        assert_eq!(retry_backoff(base, 5, Duration::ZERO), None);
        for _ in 0..50 {
            // Plenty of time: the ordinary exponential ceiling.
            let far = retry_backoff(base, 3, Duration::from_secs(60)).expect("retries");
            assert!(far <= base * 8, "{far:?}");
            // Little time: at most half of it, so the attempt after the pause still has the rest.
            let near = retry_backoff(base, 10, Duration::from_millis(300)).expect("retries");
            assert!(near <= Duration::from_millis(150), "{near:?}");
        }
    }
}

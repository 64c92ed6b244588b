//! The delivery loop that never loses a line.
//!
//! Documents go out in `_bulk` requests, `BULK_CONCURRENCY` at a time. Each answer is classified
//! per item ([`crate::retry::classify`]): indexed and duplicate items are done; 429/5xx items (and
//! whole requests that failed in transport or with 429/5xx) are retried after an exponential
//! backoff with full jitter, without re-sending the rest; a 413 splits the request in halves and a
//! single document too large goes to the dead-letter index; a mapping conflict is retried once as
//! the fallback document (parsed fields dropped, raw message kept), then dead-lettered with the
//! reason; any other rejection is dead-lettered. Retries stop `DEADLINE_MARGIN_MS` before the
//! deadline; what is still undelivered is counted as `failed` and its unit (batch or Kinesis
//! record) is reported so the caller can fail the invocation or the record.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::task::JoinSet;

use crate::batch::LogsData;
use crate::config::RetryConfig;
use crate::document::{Document, DocumentBuilder};
use crate::retry::{BulkOutcome, ItemOutcome, classify};
use crate::sink::{Answer, Sink, SinkError};

/// One `_bulk` request's documents, their units and stages, and its answer.
struct InFlight {
    docs: Vec<Document>,
    meta: Vec<(usize, Stage)>,
    answer: Result<Answer, SinkError>,
    took: Duration,
}

/// The longest single backoff.
const MAX_BACKOFF: Duration = Duration::from_secs(20);
/// The longest single request, whatever the deadline.
const MAX_REQUEST_TIME: Duration = Duration::from_secs(60);

/// Every outcome of an invocation (or a CLI replay), counted. For each decodable batch
/// `events = indexed + duplicates + dead_lettered + failed + skipped`, where `indexed` includes
/// the `fallbacks`. An undecodable Kinesis record counts as one event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub batches: u64,
    pub events: u64,
    pub indexed: u64,
    pub duplicates: u64,
    /// Item re-sends (one item retried twice counts two).
    pub retried: u64,
    pub dead_lettered: u64,
    pub failed: u64,
    pub skipped: u64,
    /// Documents indexed in their fallback form after a mapping conflict (part of `indexed`).
    pub fallbacks: u64,
    pub bulk_requests: u64,
    /// Total time spent waiting for `_bulk` answers, in milliseconds.
    pub bulk_ms: u64,
}

impl Summary {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &Summary) {
        self.batches += other.batches;
        self.events += other.events;
        self.indexed += other.indexed;
        self.duplicates += other.duplicates;
        self.retried += other.retried;
        self.dead_lettered += other.dead_lettered;
        self.failed += other.failed;
        self.skipped += other.skipped;
        self.fallbacks += other.fallbacks;
        self.bulk_requests += other.bulk_requests;
        self.bulk_ms += other.bulk_ms;
    }
}

/// Which form of a log event a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The full document.
    Primary,
    /// Parsed fields dropped after a mapping conflict.
    Fallback,
    /// A dead-letter document: if this is rejected too, the event has failed.
    DeadLetter,
}

/// One document to deliver, with the unit it belongs to (index into the `units` slice given to
/// [`Delivery::deliver`]: a batch, or a Kinesis record).
#[derive(Debug, Clone)]
pub struct Work {
    pub unit: usize,
    pub doc: Document,
    pub stage: Stage,
}

/// What [`Delivery::deliver`] achieved.
#[derive(Debug, Clone, Default)]
pub struct Delivered {
    pub summary: Summary,
    /// Units with at least one undelivered document.
    pub failed_units: BTreeSet<usize>,
    /// The reason of the last retryable failure, to name in the invocation error.
    pub last_error: Option<String>,
    /// The time each `_bulk` request took, for the EMF latency metric.
    pub latencies_ms: Vec<f64>,
    /// A request's task panicked, so its items (and units) are unknown: the caller must fail
    /// the whole invocation.
    pub lost_request: bool,
}

/// Delivery settings and the shared sink.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub sink: Arc<Sink>,
    pub max_bytes: usize,
    pub concurrency: usize,
    pub retry: RetryConfig,
}

/// What happens to one item after an answer.
enum Next {
    Done,
    Retry(Work),
    Now(Work),
    Failed(Work),
}

impl Delivery {
    /// Delivers `work` before `deadline`. `units[i]` is the batch of unit `i` (`None` for a Kinesis
    /// record that could not be decoded), used to build fallback and dead-letter documents.
    pub async fn deliver(
        &self,
        builder: &DocumentBuilder,
        units: &[Option<&LogsData>],
        work: Vec<Work>,
        deadline: Instant,
    ) -> Delivered {
        let mut delivered = Delivered::default();
        let mut pending = work;
        let mut attempt: u32 = 0;
        loop {
            let retry = self
                .round(builder, units, pending, deadline, &mut delivered)
                .await;
            if retry.is_empty() {
                break;
            }
            attempt = attempt.saturating_add(1);
            let stop_at = deadline
                .checked_sub(self.retry.deadline_margin)
                .unwrap_or_else(Instant::now);
            let remaining = stop_at.saturating_duration_since(Instant::now());
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

    /// Sends everything in `pending` once (plus the immediate follow-ups: 413 halves, fallback and
    /// dead-letter documents) and returns the items to retry after a backoff.
    async fn round(
        &self,
        builder: &DocumentBuilder,
        units: &[Option<&LogsData>],
        pending: Vec<Work>,
        deadline: Instant,
        delivered: &mut Delivered,
    ) -> Vec<Work> {
        let mut queue: VecDeque<Vec<Work>> = self.requests(pending).into();
        let mut retry = Vec::new();
        let mut in_flight: JoinSet<InFlight> = JoinSet::new();
        // Documents per running request, so a request lost to a panic is counted whole.
        let mut sizes: std::collections::HashMap<tokio::task::Id, usize> = Default::default();
        let stop_at = deadline
            .checked_sub(self.retry.deadline_margin)
            .unwrap_or_else(Instant::now);
        loop {
            while in_flight.len() < self.concurrency
                && let Some(items) = queue.pop_front()
            {
                let remaining = stop_at.saturating_duration_since(Instant::now());
                if remaining.is_zero() {
                    delivered.last_error = Some("the deadline came before the request could be sent".into());
                    retry.extend(items);
                    continue;
                }
                let timeout = remaining.min(MAX_REQUEST_TIME);
                let (docs, meta): (Vec<Document>, Vec<(usize, Stage)>) =
                    items.into_iter().map(|w| (w.doc, (w.unit, w.stage))).unzip();
                let sink = Arc::clone(&self.sink);
                let size = docs.len();
                let task = in_flight.spawn(async move {
                    let mut body = Vec::with_capacity(docs.iter().map(item_bytes).sum());
                    // Writing into a Vec cannot fail.
                    let _ = crate::bulk::write_ndjson(&docs, &mut body);
                    let started = Instant::now();
                    let answer = sink.bulk(&body, timeout).await;
                    InFlight {
                        docs,
                        meta,
                        answer,
                        took: started.elapsed(),
                    }
                });
                sizes.insert(task.id(), size);
            }
            let Some(joined) = in_flight.join_next_with_id().await else {
                break;
            };
            let done = match joined {
                Ok((id, done)) => {
                    sizes.remove(&id);
                    done
                }
                Err(err) => {
                    // A panicking task loses its items' outcome; nothing in the task panics on
                    // input data, so this is a bug, reported by failing the whole invocation with
                    // every document of the request counted as failed.
                    delivered.summary.failed += sizes.remove(&err.id()).unwrap_or(1) as u64;
                    delivered.lost_request = true;
                    delivered.last_error = Some("a bulk request task panicked".into());
                    continue;
                }
            };
            delivered.summary.bulk_requests += 1;
            delivered.summary.bulk_ms += done.took.as_millis() as u64;
            delivered.latencies_ms.push(done.took.as_secs_f64() * 1000.0);
            let items: Vec<Work> = done
                .docs
                .into_iter()
                .zip(done.meta)
                .map(|(doc, (unit, stage))| Work { unit, doc, stage })
                .collect();
            let mut now = Vec::new();
            let outcome = match done.answer {
                Ok(answer) => classify(answer.status, &answer.body, items.len()),
                Err(err) => BulkOutcome::RetryAll {
                    status: 0,
                    reason: err.to_string(),
                },
            };
            match outcome {
                BulkOutcome::RetryAll { status, reason } => {
                    tracing::warn!(status, reason = %reason, items = items.len(), "bulk request failed; retrying its items");
                    delivered.last_error = Some(reason);
                    retry.extend(items);
                }
                BulkOutcome::FailAll { status, reason } => {
                    tracing::error!(status, reason = %reason, items = items.len(), "the cluster refused the bulk request");
                    delivered.last_error = Some(format!("HTTP {status}: {reason}"));
                    fail_all(items, delivered);
                }
                BulkOutcome::Split if items.len() > 1 => {
                    let mut first = items;
                    let second = first.split_off(first.len() / 2);
                    tracing::info!(items = first.len() + second.len(), "413: splitting the request");
                    queue.push_back(first);
                    queue.push_back(second);
                }
                BulkOutcome::Split => {
                    for item in items {
                        let reason = format!(
                            "the cluster refused the document as too large (HTTP 413, {} bytes of source)",
                            item.doc.source.len()
                        );
                        route(
                            dead_letter(builder, units, item, &reason),
                            delivered,
                            &mut retry,
                            &mut now,
                        );
                    }
                }
                BulkOutcome::Items(outcomes) => {
                    for (item, outcome) in items.into_iter().zip(outcomes) {
                        let next = item_next(builder, units, item, outcome, delivered);
                        route(next, delivered, &mut retry, &mut now);
                    }
                }
            }
            if !now.is_empty() {
                queue.extend(self.requests(now));
            }
        }
        retry
    }

    /// Groups work into requests under `max_bytes`.
    fn requests(&self, work: Vec<Work>) -> Vec<Vec<Work>> {
        let mut groups = Vec::new();
        let mut group = Vec::new();
        let mut bytes = 0;
        for item in work {
            let size = item_bytes(&item.doc);
            if !group.is_empty() && bytes + size > self.max_bytes {
                groups.push(std::mem::take(&mut group));
                bytes = 0;
            }
            bytes += size;
            group.push(item);
        }
        if !group.is_empty() {
            groups.push(group);
        }
        groups
    }
}

fn route(next: Next, delivered: &mut Delivered, retry: &mut Vec<Work>, now: &mut Vec<Work>) {
    match next {
        Next::Done => {}
        Next::Retry(item) => retry.push(item),
        Next::Now(item) => now.push(item),
        Next::Failed(item) => {
            delivered.summary.failed += 1;
            delivered.failed_units.insert(item.unit);
        }
    }
}

fn fail_all(items: Vec<Work>, delivered: &mut Delivered) {
    for item in items {
        delivered.summary.failed += 1;
        delivered.failed_units.insert(item.unit);
    }
}

/// The dead-letter form of `item`, or `Failed` if it already was one.
fn dead_letter(builder: &DocumentBuilder, units: &[Option<&LogsData>], item: Work, reason: &str) -> Next {
    if item.stage == Stage::DeadLetter {
        tracing::error!(index = %item.doc.index, reason, "a dead-letter document was rejected");
        return Next::Failed(item);
    }
    let Some(Some(batch)) = units.get(item.unit) else {
        return Next::Failed(item);
    };
    let doc = builder.dead_letter(batch, item.doc.event, reason);
    Next::Now(Work {
        unit: item.unit,
        doc,
        stage: Stage::DeadLetter,
    })
}

/// What happens to one item after its outcome.
fn item_next(
    builder: &DocumentBuilder,
    units: &[Option<&LogsData>],
    item: Work,
    outcome: ItemOutcome,
    delivered: &mut Delivered,
) -> Next {
    let summary = &mut delivered.summary;
    match outcome {
        ItemOutcome::Indexed | ItemOutcome::Duplicate => {
            match item.stage {
                Stage::DeadLetter => summary.dead_lettered += 1,
                _ if outcome == ItemOutcome::Duplicate => summary.duplicates += 1,
                Stage::Fallback => {
                    summary.indexed += 1;
                    summary.fallbacks += 1;
                }
                Stage::Primary => summary.indexed += 1,
            }
            Next::Done
        }
        ItemOutcome::Retry { status, reason } => {
            delivered.last_error = Some(format!("HTTP {status}: {reason}"));
            Next::Retry(item)
        }
        ItemOutcome::MappingConflict { reason } if item.stage == Stage::Primary => match units.get(item.unit)
        {
            Some(Some(batch)) => Next::Now(Work {
                unit: item.unit,
                doc: builder.fallback(batch, item.doc.event),
                stage: Stage::Fallback,
            }),
            _ => dead_letter(builder, units, item, &reason),
        },
        ItemOutcome::MappingConflict { reason } => dead_letter(builder, units, item, &reason),
        ItemOutcome::Rejected { status, reason } => {
            dead_letter(builder, units, item, &format!("HTTP {status}: {reason}"))
        }
    }
}

/// Backoff before retry `attempt` (0-based): uniform in `[0, min(MAX_BACKOFF, base * 2^attempt)]`.
pub fn full_jitter(base: Duration, attempt: u32) -> Duration {
    let ceiling = base
        .saturating_mul(2u32.saturating_pow(attempt.min(20)))
        .min(MAX_BACKOFF);
    let millis = ceiling.as_millis() as u64;
    Duration::from_millis(rand::random_range(0..=millis))
}

/// The pause before retry number `attempt + 1` with `remaining` time before retries must stop:
/// the full-jitter backoff, shrunk near the deadline so that one more attempt still fits after it;
/// `None` (give up in time) when less than one base backoff remains.
pub fn retry_backoff(base: Duration, attempt: u32, remaining: Duration) -> Option<Duration> {
    (remaining >= base).then(|| full_jitter(base, attempt).min(remaining / 2))
}

fn item_bytes(doc: &Document) -> usize {
    doc.source.len() + doc.index.len() + doc.id.as_ref().map_or(0, String::len) + 48
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Signer;

    fn delivery(max_bytes: usize) -> Delivery {
        let endpoint = reqwest::Url::parse("http://127.0.0.1:9").unwrap();
        Delivery {
            sink: Arc::new(Sink::new(endpoint, Signer::None, false)),
            max_bytes,
            concurrency: 2,
            retry: RetryConfig {
                base: Duration::from_millis(100),
                deadline_margin: Duration::from_millis(10),
            },
        }
    }

    fn work(n: usize, source_bytes: usize) -> Vec<Work> {
        (0..n)
            .map(|i| Work {
                unit: 0,
                doc: Document {
                    index: "cwl-2026.11.22".into(),
                    id: Some(format!("id-{i}")),
                    source: "x".repeat(source_bytes),
                    event: i,
                },
                stage: Stage::Primary,
            })
            .collect()
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

    #[test]
    fn requests_stay_under_the_size_limit_and_keep_every_item_in_order() {
        let groups = delivery(1000).requests(work(10, 300));
        assert!(groups.len() > 1);
        for group in &groups {
            let bytes: usize = group.iter().map(|w| item_bytes(&w.doc)).sum();
            assert!(
                bytes <= 1000 || group.len() == 1,
                "{bytes} bytes in {} items",
                group.len()
            );
        }
        let ids: Vec<String> = groups.iter().flatten().filter_map(|w| w.doc.id.clone()).collect();
        let expected: Vec<String> = (0..10).map(|i| format!("id-{i}")).collect();
        assert_eq!(ids, expected);
    }

    #[test]
    fn a_document_larger_than_the_limit_travels_alone() {
        let groups = delivery(1000).requests(work(3, 5000));
        assert_eq!(groups.iter().map(Vec::len).collect::<Vec<_>>(), [1, 1, 1]);
    }

    #[test]
    fn summaries_add_field_by_field() {
        let one = Summary {
            batches: 1,
            events: 10,
            indexed: 7,
            duplicates: 1,
            retried: 3,
            dead_lettered: 1,
            failed: 1,
            skipped: 0,
            fallbacks: 1,
            bulk_requests: 2,
            bulk_ms: 40,
        };
        let mut total = one;
        total.add(&one);
        assert_eq!(total.events, 20);
        assert_eq!(total.indexed, 14);
        assert_eq!(total.retried, 6);
        assert_eq!(total.bulk_ms, 80);
    }
}

//! The forwarder's pipeline, built once per process, and its one run: an event, decoded
//! ([`crate::source`]), is tagged, its batches become documents ([`crate::document`]), the
//! objects it names are read as streams, and every document goes to the run's [`Output`]
//! (OpenSearch, or the dry run's NDJSON). The run returns an [`Outcome`]: the counts and the
//! acknowledgements that failed. The Lambda handler, `replay FILE`, `replay s3://` and
//! `--dry-run` all go through [`Pipeline::run`] and differ only in their input and output; only
//! the Lambda edge ([`crate::handler`]) turns the outcome into Lambda's JSON.
//!
//! Objects are read a few at once, each on a blocking thread that parses its records and builds
//! their documents a chunk at a time ([`objects`]), while the documents already built are sent.
//! A bounded channel between the two holds the readers back, so memory does not grow with an
//! object.

mod objects;
pub mod output;

use std::sync::Arc;
use std::time::Instant;

use crate::config::Config;
use crate::document::{Document, DocumentBuilder, Documents};
use crate::opensearch::deliver::Delivered;
use crate::source::s3::read::{ObjectError, ObjectReader};
use crate::source::s3::{ObjectTask, Unfinished};
use crate::source::tags::TagCache;
use crate::source::{Ack, Decoded, Reply};
use crate::summary::Summary;

pub use self::objects::OBJECT_CONCURRENCY;
pub use self::output::{OpenSearch, Output, OutputError};

/// Asks runs to stop reading objects as their deadline would (`replay` at Ctrl-C): each object
/// being read is left [`Unfinished`] at a record boundary, the documents already read of the
/// others delivered. Once stopped, always stopped.
#[derive(Debug, Clone)]
pub struct Stop(Arc<tokio::sync::watch::Sender<bool>>);

impl Default for Stop {
    fn default() -> Stop {
        Stop(Arc::new(tokio::sync::watch::Sender::new(false)))
    }
}

impl Stop {
    /// Stops every run watching this, now and later.
    pub fn stop(&self) {
        self.0.send_replace(true);
    }

    pub fn is_stopped(&self) -> bool {
        *self.0.borrow()
    }

    /// Ends once [`Stop::stop`] is called.
    pub async fn stopped(&self) {
        let mut receiver = self.0.subscribe();
        let _ = receiver.wait_for(|stopped| *stopped).await;
    }
}

/// The documents of one event, ready to send, and the objects it names, still to read.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub reply: Reply,
    pub docs: Vec<Document>,
    /// `batches`, `events` and `skipped`.
    pub summary: Summary,
    pub objects: Vec<ObjectTask>,
}

/// What one run achieved.
#[derive(Debug)]
pub struct Outcome {
    /// How the event is answered: from this outcome, by the Lambda edge.
    pub reply: Reply,
    /// Every count of the event, the acknowledgements with at least one document not delivered
    /// or an object not read, the reason of the last failure and the `_bulk` latencies.
    pub delivered: Delivered,
    /// The objects that could not be read to the end, with why.
    pub unread: Vec<ObjectError>,
    /// The objects whose reading stopped at the deadline, each at a record boundary: their
    /// acknowledgements fail (and they count in `objects_failed`) unless the caller continues
    /// them ([`Outcome::continued`]).
    pub unfinished: Vec<Unfinished>,
}

/// What the function must ask Lambda to retry after a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retry {
    /// Nothing: every document is delivered (or written).
    Nothing,
    /// These items of a batch event (`batchItemFailures`).
    Items(Vec<Arc<str>>),
    /// The whole invocation.
    Invocation,
}

impl Outcome {
    fn new(reply: Reply, summary: Summary) -> Outcome {
        Outcome {
            reply,
            delivered: Delivered {
                summary,
                ..Delivered::default()
            },
            unread: Vec::new(),
            unfinished: Vec::new(),
        }
    }

    /// Marks the unfinished object at `index` as continued by a later invocation: its
    /// acknowledgement no longer fails for it, and it counts in `objects_continued`.
    pub fn continued(&mut self, index: usize) -> Unfinished {
        let summary = &mut self.delivered.summary;
        summary.objects_failed -= 1;
        summary.objects_continued += 1;
        self.unfinished.remove(index)
    }

    /// The acknowledgements that failed: those with a document not delivered or an object not
    /// read, and those of unfinished objects.
    fn failed(&self) -> impl Iterator<Item = &Ack> {
        let unfinished = self.unfinished.iter().map(|object| &object.task.ack);
        self.delivered.failed.iter().chain(unfinished)
    }

    /// What to retry: the failed items of a batch event, or the whole invocation when any of its
    /// own documents failed or it answers with a summary.
    pub fn retry(&self) -> Retry {
        if self.failed().next().is_none() {
            return Retry::Nothing;
        }
        if self.failed().any(|ack| ack == &Ack::Invocation) || self.reply == Reply::Summary {
            return Retry::Invocation;
        }
        let items = self.failed().filter_map(|ack| match ack {
            Ack::Item(id) => Some(Arc::clone(id)),
            Ack::Invocation => None,
        });
        let items: std::collections::BTreeSet<Arc<str>> = items.collect();
        Retry::Items(items.into_iter().collect())
    }
}

/// The document builder, the object reader and the log-group tags (when `LOG_GROUP_TAGS` is on).
#[derive(Debug)]
pub struct Pipeline {
    builder: Arc<DocumentBuilder>,
    objects: Option<ObjectReader>,
    tags: Option<TagCache>,
}

impl Pipeline {
    /// The pipeline of `config`, without S3 or tags until they are added.
    pub fn new(config: &Config) -> Pipeline {
        let builder = DocumentBuilder::new(config.documents.clone(), config.region.clone());
        Pipeline {
            builder: Arc::new(builder),
            objects: None,
            tags: None,
        }
    }

    /// Adds the log groups' tags to the documents of subscription batches, from `cache`.
    pub(crate) fn with_tags(mut self, cache: TagCache) -> Pipeline {
        self.tags = Some(cache);
        self
    }

    /// Reads the objects notifications name with `reader`.
    pub(crate) fn with_objects(mut self, reader: ObjectReader) -> Pipeline {
        self.objects = Some(reader);
        self
    }

    pub(crate) fn object_reader(&self) -> Option<&ObjectReader> {
        self.objects.as_ref()
    }

    pub fn builder(&self) -> &DocumentBuilder {
        &self.builder
    }

    /// Runs one event: tags its batches, builds their documents, reads the objects it names, and
    /// sends everything to `output` before `deadline`.
    pub async fn run(
        &self,
        decoded: Decoded,
        output: &mut Output<'_>,
        deadline: Instant,
    ) -> Result<Outcome, OutputError> {
        self.run_until(decoded, output, deadline, None).await
    }

    /// [`Pipeline::run`], reading objects until `stop` too, when there is one.
    pub async fn run_until(
        &self,
        mut decoded: Decoded,
        output: &mut Output<'_>,
        deadline: Instant,
        stop: Option<&Stop>,
    ) -> Result<Outcome, OutputError> {
        let tag_lookups_failed = self.tag(&mut decoded, deadline).await;
        let prepared = self.prepare(decoded);
        let mut outcome = Outcome::new(prepared.reply, prepared.summary);
        outcome.delivered.summary.tag_lookups_failed += tag_lookups_failed;
        if !prepared.docs.is_empty() {
            let delivered = output.send(&*self.builder, prepared.docs, deadline).await?;
            outcome.delivered.merge(delivered);
        }
        if !prepared.objects.is_empty() {
            self.send_objects(prepared.objects, output, (deadline, stop), &mut outcome)
                .await?;
        }
        output.flush()?;
        Ok(outcome)
    }

    /// Sets the tags of every batch's log group, when tags are on, within a short part of the
    /// time left before `deadline`; never fails (see [`crate::source::tags`]). Returns the number
    /// of lookups that failed, for `tag_lookups_failed`.
    async fn tag(&self, decoded: &mut Decoded, deadline: Instant) -> u64 {
        match &self.tags {
            Some(cache) if !decoded.batches.is_empty() => cache.tag(&mut decoded.batches, deadline).await,
            _ => 0,
        }
    }

    /// Builds the documents of every batch and of the records the event held, and a dead-letter
    /// document for each input that could not be decoded.
    pub(crate) fn prepare(&self, decoded: Decoded) -> Prepared {
        let mut prepared = Prepared {
            reply: decoded.reply,
            docs: Vec::new(),
            summary: Summary::default(),
            objects: decoded.objects,
        };
        for input in &decoded.unreadable {
            prepared.summary.events += 1;
            prepared.docs.push(self.builder.unreadable(input));
        }
        let control = decoded.control;
        prepared.summary.batches += control.batches;
        prepared.summary.events += control.events;
        prepared.summary.skipped += control.events;
        for batch in decoded.batches {
            let summary = &mut prepared.summary;
            summary.batches += 1;
            summary.events += batch.data.log_events.len() as u64;
            let documents = self.builder.documents(&Arc::new(batch));
            count_documents(summary, &documents);
            prepared.docs.extend(documents.docs);
        }
        for records in decoded.records {
            let summary = &mut prepared.summary;
            summary.batches += 1;
            summary.events += records.records.len() as u64;
            let documents = self.builder.record_documents(&Arc::new(records));
            count_documents(summary, &documents);
            prepared.docs.extend(documents.docs);
        }
        prepared
    }
}

/// Adds what making `documents` counted to `summary` (`indexed` and `unparsed` are counted
/// where documents are indexed).
pub(crate) fn count_documents(summary: &mut Summary, documents: &Documents) {
    summary.skipped += documents.skipped as u64;
    summary.out_of_window += documents.out_of_window as u64;
    summary.truncated += documents.truncated as u64;
    summary.json_too_deep += documents.json_too_deep as u64;
    summary.json_too_many_fields += documents.json_too_many_fields as u64;
}

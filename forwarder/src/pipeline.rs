//! The forwarder's pipeline, built once per process: decoded batches ([`crate::source`]) become
//! documents ([`crate::document`]), which are delivered to OpenSearch ([`crate::opensearch`]);
//! what comes back is an outcome per acknowledgement. The edges ([`crate::handler`] for Lambda,
//! [`crate::replay`] for the CLI) turn that into their answer.
//!
//! Objects named by S3 notifications are streams: a few are read at once, each on a blocking
//! thread that parses its records and builds their documents a chunk at a time
//! ([`Pipeline::read_objects`]), while the documents already built are delivered. A bounded
//! channel between the two holds the readers back, so memory does not grow with an object.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::config::Config;
use crate::document::{Document, DocumentBuilder, JsonMode, mapping};
use crate::opensearch::auth::Signer;
use crate::opensearch::bulk;
use crate::opensearch::deliver::{Delivered, Delivery};
use crate::opensearch::setup::{ClusterSetup, Lifecycle};
use crate::opensearch::sink::Sink;
use crate::source::s3::read::{ObjectError, ObjectRead, ObjectReader, Stopped};
use crate::source::s3::{Chunk, ObjectTask};
use crate::source::tags::TagCache;
use crate::source::{Ack, Decoded, Reply};
use crate::summary::Summary;

/// Objects read at once.
pub const OBJECT_CONCURRENCY: usize = 4;
/// Chunks of documents (about 64 KB of records, or one CloudWatch Logs payload of a Firehose file,
/// each) built ahead of delivery, whatever the number of objects being read: the readers wait
/// while these are delivered.
const CHUNKS_AHEAD: usize = 2;
/// Requests' worth of object documents gathered before a delivery: two keeps two requests in
/// flight while memory stays near four times `BULK_MAX_BYTES` (the documents, their request
/// bodies, and the records they are made of), whatever the object's size.
const REQUESTS_PER_FLUSH: usize = 2;

/// The documents of one event, ready to deliver, and the objects it names, still to read.
#[derive(Debug)]
pub struct Prepared {
    pub reply: Reply,
    pub docs: Vec<Document>,
    /// `batches`, `events` and `skipped`.
    pub summary: Summary,
    pub objects: Vec<ObjectTask>,
}

/// What reading objects yields, as it comes.
#[derive(Debug)]
pub enum ObjectEvent {
    /// The documents of a chunk of an object, with its `batches`, `events` and `skipped`.
    Docs { docs: Vec<Document>, summary: Summary },
    /// An object read to the end.
    Read { task: ObjectTask, read: ObjectRead },
    /// An object that could not be read (to the end).
    Failed { task: ObjectTask, error: ObjectError },
}

/// Why a pipeline cannot deliver.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("no OPENSEARCH_ENDPOINT: this forwarder can only prepare documents (dry run)")]
pub struct NoSink;

/// The document builder, the object reader, the log-group tags (when `LOG_GROUP_TAGS` is on)
/// and, unless this is a dry run, the delivery and the cluster setup.
#[derive(Debug)]
pub struct Pipeline {
    builder: Arc<DocumentBuilder>,
    delivery: Option<(Delivery, ClusterSetup)>,
    objects: Option<ObjectReader>,
    tags: Option<TagCache>,
}

impl Pipeline {
    /// The pipeline of `config`; `signer` authenticates requests when an endpoint is set.
    pub fn new(config: &Config, signer: Option<Signer>) -> Pipeline {
        let builder = Arc::new(DocumentBuilder::new(
            config.documents.clone(),
            config.region.clone(),
        ));
        let delivery = match (&config.sink, signer) {
            (Some(sink), Some(signer)) => {
                let json_field = match &config.documents.json {
                    JsonMode::Field(field) => field.as_str(),
                    JsonMode::Root | JsonMode::Off => crate::document::DEFAULT_JSON_FIELD,
                };
                let naming = &config.documents.index;
                let routed = naming.prefixes().into_iter().map(|prefix| {
                    (
                        prefix,
                        mapping::index_template_with_json_field(prefix, json_field),
                    )
                });
                let objects = config
                    .documents
                    .objects
                    .by_prefix()
                    .into_iter()
                    .map(|(prefix, formats)| {
                        (
                            prefix,
                            mapping::index_template_for_formats(prefix, json_field, &formats),
                        )
                    });
                let prefixes = routed.chain(objects).collect::<Vec<_>>();
                let lifecycle = Lifecycle {
                    mode: naming.mode(),
                    granularity: naming.granularity(),
                    retention_days: sink.retention_days,
                };
                Some((
                    Delivery {
                        sink: Arc::new(Sink::new(sink.endpoint.clone(), signer, sink.gzip)),
                        max_bytes: config.bulk_max_bytes,
                        concurrency: sink.concurrency,
                        retry: config.retry,
                    },
                    ClusterSetup::new(&prefixes, builder.dead_letter_index(), lifecycle),
                ))
            }
            _ => None,
        };
        Pipeline {
            builder,
            delivery,
            objects: None,
            tags: None,
        }
    }

    /// Adds the log groups' tags to the documents of subscription batches, from `cache`.
    pub fn with_tags(mut self, cache: TagCache) -> Pipeline {
        self.tags = Some(cache);
        self
    }

    /// Sets the tags of every batch's log group, when tags are on, before [`Pipeline::prepare`]
    /// builds the documents; never fails (see [`crate::source::tags`]). Returns the number of
    /// lookups that failed, for `tag_lookups_failed`.
    pub async fn tag(&self, decoded: &mut Decoded, deadline: Instant) -> u64 {
        match &self.tags {
            Some(cache) if !decoded.batches.is_empty() => cache.tag(&mut decoded.batches, deadline).await,
            _ => 0,
        }
    }

    /// Reads the objects notifications name with `reader`.
    pub fn with_objects(mut self, reader: ObjectReader) -> Pipeline {
        self.objects = Some(reader);
        self
    }

    pub fn object_reader(&self) -> Option<&ObjectReader> {
        self.objects.as_ref()
    }

    pub fn builder(&self) -> &DocumentBuilder {
        &self.builder
    }

    /// Builds the documents of every batch, and a dead-letter document for each input that could
    /// not be decoded.
    pub fn prepare(&self, decoded: Decoded) -> Prepared {
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
        for batch in decoded.batches {
            let summary = &mut prepared.summary;
            summary.batches += 1;
            summary.events += batch.data.log_events.len() as u64;
            if batch.data.is_control() {
                summary.skipped += batch.data.log_events.len() as u64;
                continue;
            }
            let documents = self.builder.documents(&Arc::new(batch));
            summary.skipped += documents.skipped as u64;
            prepared.docs.extend(documents.docs);
        }
        prepared
    }

    /// Delivers prepared documents before `deadline`, after installing the cluster setup once.
    /// What comes back counts the whole event: the delivery's outcomes and the prepared
    /// `batches`, `events` and `skipped`.
    pub async fn deliver(&self, prepared: Prepared, deadline: Instant) -> Result<Delivered, NoSink> {
        let (delivery, setup) = self.delivery.as_ref().ok_or(NoSink)?;
        // Setup may take a tenth of the time left per request (at most 10 s), so that with its
        // three requests the documents keep most of the invocation.
        let remaining = deadline.saturating_duration_since(Instant::now());
        let setup_timeout = (remaining / 10).clamp(Duration::from_millis(100), Duration::from_secs(10));
        setup.ensure(&delivery.sink, setup_timeout).await;
        let mut delivered = delivery.deliver(&self.builder, prepared.docs, deadline).await;
        delivered.summary.add(&prepared.summary);
        if !prepared.objects.is_empty() {
            delivered.merge(self.deliver_objects(delivery, prepared.objects, deadline).await);
        }
        Ok(delivered)
    }

    /// Reads `objects` and delivers their documents as they come, in requests of `max_bytes`
    /// with `concurrency` of them in flight. An object that could not be read to the end fails
    /// its acknowledgement, and so does one not read before the deadline.
    async fn deliver_objects(
        &self,
        delivery: &Delivery,
        objects: Vec<ObjectTask>,
        deadline: Instant,
    ) -> Delivered {
        let flush_bytes = delivery
            .max_bytes
            .saturating_mul(delivery.concurrency.min(REQUESTS_PER_FLUSH));
        let stop_at = deadline
            .checked_sub(delivery.retry.deadline_margin)
            .unwrap_or_else(Instant::now);
        let mut unfinished: BTreeSet<(Ack, String, String)> = objects
            .iter()
            .map(|task| (task.ack.clone(), task.bucket.clone(), task.key.clone()))
            .collect();
        let mut events = self.read_objects(objects);
        let mut delivered = Delivered::default();
        let mut pending = Vec::new();
        let mut pending_bytes = 0;
        loop {
            let event = match tokio::time::timeout_at(stop_at.into(), events.recv()).await {
                Ok(Some(event)) => event,
                Ok(None) => break,
                Err(_elapsed) => {
                    delivered.last_error = Some("the deadline came before every object was read".into());
                    break;
                }
            };
            match event {
                ObjectEvent::Docs { docs, summary } => {
                    delivered.summary.add(&summary);
                    pending_bytes += docs.iter().map(|doc| doc.source.len()).sum::<usize>();
                    pending.extend(docs);
                    if pending_bytes >= flush_bytes {
                        let docs = std::mem::take(&mut pending);
                        pending_bytes = 0;
                        delivered.merge(delivery.deliver(&self.builder, docs, deadline).await);
                    }
                }
                ObjectEvent::Read { task, read } => {
                    delivered.summary.objects += 1;
                    unfinished.remove(&(task.ack.clone(), task.bucket.clone(), task.key.clone()));
                    tracing::info!(
                        object = %task.url(),
                        format = %read.meta.format,
                        records = read.records,
                        bytes = read.bytes,
                        "object read"
                    );
                }
                ObjectEvent::Failed { task, error } => {
                    delivered.summary.objects += 1;
                    delivered.summary.objects_failed += 1;
                    unfinished.remove(&(task.ack.clone(), task.bucket.clone(), task.key.clone()));
                    tracing::warn!(error = %error, "object not read: its notification is reported failed");
                    delivered.failed.insert(task.ack);
                    delivered.last_error = Some(error.to_string());
                }
            }
        }
        drop(events);
        if !pending.is_empty() {
            delivered.merge(delivery.deliver(&self.builder, pending, deadline).await);
        }
        for (ack, bucket, key) in unfinished {
            tracing::warn!(object = %format!("s3://{bucket}/{key}"), "object not read before the deadline");
            delivered.summary.objects += 1;
            delivered.summary.objects_failed += 1;
            delivered.failed.insert(ack);
        }
        delivered
    }

    /// Reads `objects`, [`OBJECT_CONCURRENCY`] at a time, building their documents a chunk at a
    /// time on the reading threads. Dropping the receiver stops the reading.
    pub fn read_objects(&self, objects: Vec<ObjectTask>) -> mpsc::Receiver<ObjectEvent> {
        let (sender, receiver) = mpsc::channel(CHUNKS_AHEAD);
        let reader = self.objects.clone();
        let builder = Arc::clone(&self.builder);
        tokio::spawn(async move {
            let mut reading = tokio::task::JoinSet::new();
            for task in objects {
                while reading.len() >= OBJECT_CONCURRENCY {
                    reading.join_next().await;
                }
                let (sender, builder, reader) = (sender.clone(), Arc::clone(&builder), reader.clone());
                reading.spawn(async move {
                    let event = match reader {
                        None => ObjectEvent::Failed {
                            error: ObjectError::Corrupt {
                                url: task.url(),
                                reason: "this forwarder has no S3 client".into(),
                            },
                            task,
                        },
                        Some(reader) => {
                            let chunks = sender.clone();
                            let emit = move |chunk: Chunk| {
                                let (docs, summary) = documents(&builder, chunk);
                                chunks
                                    .blocking_send(ObjectEvent::Docs { docs, summary })
                                    .map_err(|_| Stopped)
                            };
                            match reader.read(&task, emit).await {
                                Ok(read) => ObjectEvent::Read { task, read },
                                Err(error) => ObjectEvent::Failed { task, error },
                            }
                        }
                    };
                    let _receiver_gone = sender.send(event).await;
                });
            }
            while reading.join_next().await.is_some() {}
        });
        receiver
    }
}

/// The documents of one chunk of an object, and its counts.
fn documents(builder: &DocumentBuilder, chunk: Chunk) -> (Vec<Document>, Summary) {
    let mut summary = Summary {
        batches: 1,
        ..Summary::default()
    };
    let documents = match chunk {
        Chunk::Logs(batch) => {
            summary.events = batch.data.log_events.len() as u64;
            if batch.data.is_control() {
                summary.skipped = summary.events;
                return (Vec::new(), summary);
            }
            builder.documents(&Arc::new(batch))
        }
        Chunk::Records(records) => {
            summary.events = records.records.len() as u64;
            builder.record_documents(&Arc::new(records))
        }
    };
    summary.skipped += documents.skipped as u64;
    summary.unparsed += documents.unparsed as u64;
    (documents.docs, summary)
}

/// Writes the `_bulk` NDJSON of prepared documents (the dry run's output).
pub fn write_dry_run(prepared: &Prepared, out: &mut (impl std::io::Write + ?Sized)) -> std::io::Result<()> {
    bulk::write_ndjson(&prepared.docs, out)
}

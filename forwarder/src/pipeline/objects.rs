//! The objects of a run: read [`OBJECT_CONCURRENCY`] at a time, each on a blocking thread that
//! builds its documents a chunk at a time, and sent to the run's output as they come.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::{Outcome, OutputError, Pipeline, Stop};
use crate::document::{Document, DocumentBuilder};
use crate::opensearch::deliver::Delivered;
use crate::pipeline::Output;
use crate::source::s3::read::{ObjectError, ObjectRead, ObjectReader, Stopped};
use crate::source::s3::{Chunk, ObjectTask, Seek, Unfinished};
use crate::summary::Summary;

/// Objects read at once.
pub const OBJECT_CONCURRENCY: usize = 4;
/// Chunks of documents (about 64 KB of records, or one CloudWatch Logs payload of a Firehose file,
/// each) built ahead of delivery, whatever the number of objects being read: the readers wait
/// while these are delivered.
const CHUNKS_AHEAD: usize = 2;

/// What reading objects yields, as it comes; `object` is the object's place in the run's list.
#[derive(Debug)]
enum ObjectEvent {
    /// An object's download started: its ETag.
    Opened { object: usize, etag: String },
    /// The documents of a chunk of an object, with its `batches`, `events` and `skipped`, and the
    /// number of the chunk's last record.
    Docs {
        object: usize,
        through: u64,
        /// Where reading could start again after the chunk.
        seek: Option<Seek>,
        docs: Vec<Document>,
        summary: Summary,
    },
    /// An object read to the end.
    Read { object: usize, read: ObjectRead },
    /// An object that could not be read (to the end).
    Failed { object: usize, error: ObjectError },
}

/// What is known of an object being read.
#[derive(Debug)]
struct Progress {
    task: ObjectTask,
    etag: Option<String>,
    /// The last record whose documents were sent (where the task starts, before any).
    sent_through: u64,
    /// Where reading could start again after it.
    sent_seek: Option<Seek>,
    /// Read to the end, or failed.
    done: bool,
}

/// The documents received and not yet sent, by chunk.
#[derive(Debug, Default)]
struct Pending {
    chunks: Vec<PendingChunk>,
    bytes: usize,
}

#[derive(Debug)]
struct PendingChunk {
    object: usize,
    through: u64,
    seek: Option<Seek>,
    docs: Vec<Document>,
    summary: Summary,
}

impl Pipeline {
    /// Reads `objects` and sends their documents to `output` as they come, gathered up to the
    /// output's flush size. An object that could not be read to the end fails its
    /// acknowledgement. One not read to the end when reading stops before the deadline (see
    /// [`Output::stop_reading`]) is left [`Unfinished`] at the last record whose documents were
    /// sent: the caller continues it, or fails its acknowledgement. `stop`, when there is one,
    /// stops reading as the deadline does.
    pub(super) async fn send_objects(
        &self,
        objects: Vec<ObjectTask>,
        output: &mut Output<'_>,
        (deadline, stop): (Instant, Option<&Stop>),
        outcome: &mut Outcome,
    ) -> Result<(), OutputError> {
        let Outcome {
            delivered,
            unread,
            unfinished,
            ..
        } = outcome;
        let flush_bytes = output.flush_bytes();
        let mut longest_send = Duration::ZERO;
        let mut progress: Vec<Progress> = (objects.iter().cloned())
            .map(|task| Progress {
                sent_through: task.resume.as_ref().map_or(0, |resume| resume.after),
                sent_seek: task.resume.as_ref().and_then(|resume| resume.seek),
                task,
                etag: None,
                done: false,
            })
            .collect();
        let mut events = self.read_objects(objects);
        let mut pending = Pending::default();
        let mut stopped = false;
        loop {
            let stop_at = output.stop_reading(deadline, longest_send);
            // A timeout polls its future first: with chunks always ready, it would never stop.
            let stop_now = stop_at.is_some_and(|stop_at| Instant::now() >= stop_at)
                || stop.is_some_and(Stop::is_stopped);
            if !stopped && stop_now {
                // Stops the readers (their next send fails); what they had sent is still taken.
                events.close();
                stopped = true;
            }
            let event = if stopped {
                // Only what is there: a reader passing over records done before, or waiting
                // for S3, is not waited for.
                match events.try_recv() {
                    Ok(event) => event,
                    Err(_empty_or_gone) => break,
                }
            } else {
                let next = tokio::select! {
                    biased;
                    event = events.recv() => Ok(event),
                    () = until(stop_at) => Err(()),
                    () = until_stopped(stop) => Err(()),
                };
                match next {
                    Ok(Some(event)) => event,
                    Ok(None) => break,
                    Err(()) => {
                        events.close();
                        stopped = true;
                        continue;
                    }
                }
            };
            match event {
                ObjectEvent::Opened { object, etag } => progress[object].etag = Some(etag),
                ObjectEvent::Docs {
                    object,
                    through,
                    seek,
                    docs,
                    summary,
                } => {
                    pending.bytes += docs.iter().map(|doc| doc.source.len()).sum::<usize>();
                    pending.chunks.push(PendingChunk {
                        object,
                        through,
                        seek,
                        docs,
                        summary,
                    });
                    if pending.bytes >= flush_bytes && !stopped {
                        let started = Instant::now();
                        let chunks = std::mem::take(&mut pending).chunks;
                        self.send_chunks(chunks, output, deadline, delivered, &mut progress)
                            .await?;
                        longest_send = longest_send.max(started.elapsed());
                    }
                }
                ObjectEvent::Read { object, read } => {
                    progress[object].done = true;
                    count_read(&mut delivered.summary, &progress[object].task, &read);
                }
                ObjectEvent::Failed { object, error } => {
                    progress[object].done = true;
                    let task = &progress[object].task;
                    delivered.summary.objects += 1;
                    if let ObjectError::Replaced { .. } = error {
                        // The new object has a notification of its own: this one is done.
                        delivered.summary.continuations_refused += 1;
                        tracing::warn!(error = %error, "continuation refused: the object was replaced");
                        continue;
                    }
                    delivered.summary.objects_failed += 1;
                    tracing::warn!(error = %error, "object not read: its notification is reported failed");
                    delivered.failed.insert(task.ack.clone());
                    delivered.last_error = Some(error.to_string());
                    unread.push(error);
                }
            }
        }
        // The documents of objects read to the end are sent; those of an unfinished object are
        // not: it resumes after the last record it had sent, so that no delivery is left to
        // outlast the deadline.
        let (finished, left): (Vec<_>, Vec<_>) =
            (pending.chunks.into_iter()).partition(|chunk| progress[chunk.object].done);
        if !finished.is_empty() {
            self.send_chunks(finished, output, deadline, delivered, &mut progress)
                .await?;
        }
        let left_records: usize = left.iter().map(|chunk| chunk.docs.len()).sum();
        for object in progress.into_iter().filter(|object| !object.done) {
            tracing::info!(
                object = %object.task.url(),
                after = object.sent_through,
                left_records,
                "object not read to the end before the deadline"
            );
            delivered.summary.objects += 1;
            delivered.summary.objects_failed += 1;
            delivered.last_error = Some("the deadline came before every object was read".into());
            unfinished.push(Unfinished {
                task: object.task,
                etag: object.etag,
                after: object.sent_through,
                seek: object.sent_seek,
            });
        }
        Ok(())
    }

    /// Sends the documents of `chunks`, counting them, and moves each chunk's object on to the
    /// chunk's last record.
    async fn send_chunks(
        &self,
        chunks: Vec<PendingChunk>,
        output: &mut Output<'_>,
        deadline: Instant,
        delivered: &mut Delivered,
        progress: &mut [Progress],
    ) -> Result<(), OutputError> {
        let mut docs = Vec::with_capacity(chunks.iter().map(|chunk| chunk.docs.len()).sum());
        for chunk in chunks {
            delivered.summary.add(&chunk.summary);
            let object = &mut progress[chunk.object];
            if chunk.through > object.sent_through {
                object.sent_through = chunk.through;
                object.sent_seek = chunk.seek;
            }
            docs.extend(chunk.docs);
        }
        delivered.merge(output.send(&*self.builder, docs, deadline).await?);
        Ok(())
    }

    /// Reads `objects`, [`OBJECT_CONCURRENCY`] at a time, building their documents a chunk at a
    /// time on the reading threads. Dropping the receiver stops the reading.
    fn read_objects(&self, objects: Vec<ObjectTask>) -> mpsc::Receiver<ObjectEvent> {
        let (sender, receiver) = mpsc::channel(CHUNKS_AHEAD);
        let reader = self.objects.clone();
        let builder = Arc::clone(&self.builder);
        tokio::spawn(async move {
            let mut reading = tokio::task::JoinSet::new();
            for (object, task) in objects.into_iter().enumerate() {
                while reading.len() >= OBJECT_CONCURRENCY {
                    reading.join_next().await;
                }
                if sender.is_closed() {
                    // Reading stopped: the objects not started are left unfinished.
                    break;
                }
                let (sender, builder, reader) = (sender.clone(), Arc::clone(&builder), reader.clone());
                reading.spawn(async move {
                    let event = match reader {
                        None => ObjectEvent::Failed {
                            error: ObjectError::Corrupt {
                                url: task.url(),
                                reason: "this forwarder has no S3 client".into(),
                            },
                            object,
                        },
                        Some(reader) => match read_one(&reader, task, object, builder, &sender).await {
                            Ok(read) => ObjectEvent::Read { object, read },
                            Err(error) => ObjectEvent::Failed { object, error },
                        },
                    };
                    let _receiver_gone = sender.send(event).await;
                });
            }
            while reading.join_next().await.is_some() {}
        });
        receiver
    }
}

/// Ends at `at`; never without one.
async fn until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// Ends once `stop` is stopped; never without one.
async fn until_stopped(stop: Option<&Stop>) {
    match stop {
        Some(stop) => stop.stopped().await,
        None => std::future::pending().await,
    }
}

/// Reads one object, sending its ETag once its download starts, then its documents a chunk at a
/// time, each with the number of its last record.
async fn read_one(
    reader: &ObjectReader,
    task: ObjectTask,
    object: usize,
    builder: Arc<DocumentBuilder>,
    sender: &mpsc::Sender<ObjectEvent>,
) -> Result<ObjectRead, ObjectError> {
    let opened = reader.open(&task).await?;
    let etag = opened.etag().to_string();
    let stopped = || ObjectError::Stopped { url: task.url() };
    sender
        .send(ObjectEvent::Opened { object, etag })
        .await
        .map_err(|_| stopped())?;
    let chunks = sender.clone();
    let mut through = task.resume.as_ref().map_or(0, |resume| resume.after);
    let emit = move |chunk: Chunk, seek: Option<Seek>| {
        through = match &chunk {
            Chunk::Records(records) => records.records.last().map_or(through, |record| record.number),
            // One CloudWatch Logs payload of a Firehose file each.
            Chunk::Logs(_) | Chunk::Control(_) => through + 1,
        };
        let (docs, summary) = documents(&builder, chunk);
        chunks
            .blocking_send(ObjectEvent::Docs {
                object,
                through,
                seek,
                docs,
                summary,
            })
            .map_err(|_| Stopped)
    };
    opened.read(emit).await
}

/// Counts an object read to the end, or skipped for its format (a CloudTrail digest file): a
/// skipped object is acknowledged like one read, and counted so that it is seen.
fn count_read(summary: &mut Summary, task: &ObjectTask, read: &ObjectRead) {
    summary.objects += 1;
    let format = read.meta.format;
    match format.skipped() {
        Some(why) => {
            summary.objects_skipped += 1;
            tracing::info!(object = %task.url(), format = %format, why, "object skipped");
        }
        None => tracing::info!(
            object = %task.url(),
            format = %format,
            records = read.records,
            bytes = read.bytes,
            "object read"
        ),
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
            builder.documents(&Arc::new(batch))
        }
        Chunk::Control(control) => {
            summary.events = control.events;
            summary.skipped = control.events;
            return (Vec::new(), summary);
        }
        Chunk::Records(records) => {
            summary.events = records.records.len() as u64;
            builder.record_documents(&Arc::new(records))
        }
    };
    // `unparsed` is counted where documents are indexed, as `indexed` is (`Document::unparsed`).
    super::count_documents(&mut summary, &documents);
    (documents.docs, summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::tests::records;
    use crate::document::{DocumentOptions, TimeWindow};
    use crate::source::s3::Format;

    /// Issue 28, item 6: a line whose time lies outside the window is counted in the run's
    /// summary, which the replay prints and the metrics carry (`OutOfWindow`).
    #[test]
    fn a_chunk_counts_its_records_outside_the_time_window() {
        let options = DocumentOptions {
            // 2026-12-06T12:00:00Z.
            time_window: TimeWindow::default().read_at(1_796_558_400_000),
            ..DocumentOptions::default()
        };
        let builder = DocumentBuilder::new(options, "eu-west-1".to_owned());
        let records = records(
            Format::VpcFlow,
            &[
                "2 123456789012 eni-0a1b2c3d4e5f67890 10.0.1.5 203.0.113.10 49152 443 6 10 5120 164000066 1795946460 ACCEPT OK",
                "2 123456789012 eni-0a1b2c3d4e5f67890 10.0.1.5 203.0.113.10 49153 443 6 10 5120 1795946400 1795946460 ACCEPT OK",
            ],
        );
        let records = Arc::try_unwrap(records).expect("the only reference");
        let (docs, summary) = documents(&builder, Chunk::Records(records));
        assert_eq!((docs.len(), summary.events, summary.out_of_window), (2, 2, 1));
        let line = serde_json::to_value(summary).expect("serialisable");
        assert_eq!(line["out_of_window"], 1, "the summary line names it");
    }
}

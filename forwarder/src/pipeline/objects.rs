//! The objects of a run: read [`OBJECT_CONCURRENCY`] at a time, each on a blocking thread that
//! builds its documents a chunk at a time, and sent to the run's output as they come.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;

use super::{Outcome, OutputError, Pipeline};
use crate::document::{Document, DocumentBuilder};
use crate::pipeline::Output;
use crate::source::Ack;
use crate::source::s3::read::{ObjectError, ObjectRead, Stopped};
use crate::source::s3::{Chunk, ObjectTask};
use crate::summary::Summary;

/// Objects read at once.
pub const OBJECT_CONCURRENCY: usize = 4;
/// Chunks of documents (about 64 KB of records, or one CloudWatch Logs payload of a Firehose file,
/// each) built ahead of delivery, whatever the number of objects being read: the readers wait
/// while these are delivered.
const CHUNKS_AHEAD: usize = 2;

/// What reading objects yields, as it comes.
#[derive(Debug)]
enum ObjectEvent {
    /// The documents of a chunk of an object, with its `batches`, `events` and `skipped`.
    Docs { docs: Vec<Document>, summary: Summary },
    /// An object read to the end.
    Read { task: ObjectTask, read: ObjectRead },
    /// An object that could not be read (to the end).
    Failed { task: ObjectTask, error: ObjectError },
}

/// An object by what it acknowledges and where it is.
type ObjectKey = (Ack, String, String);

fn key(task: &ObjectTask) -> ObjectKey {
    (task.ack.clone(), task.bucket.clone(), task.key.clone())
}

impl Pipeline {
    /// Reads `objects` and sends their documents to `output` as they come, gathered up to the
    /// output's flush size. An object that could not be read to the end fails its
    /// acknowledgement, and so does one not read before the deadline (less the output's margin).
    pub(super) async fn send_objects(
        &self,
        objects: Vec<ObjectTask>,
        output: &mut Output<'_>,
        deadline: Instant,
        outcome: &mut Outcome,
    ) -> Result<(), OutputError> {
        let Outcome {
            delivered, unread, ..
        } = outcome;
        let flush_bytes = output.flush_bytes();
        let stop_at = output.stop_reading(deadline);
        let mut unfinished: BTreeSet<ObjectKey> = objects.iter().map(key).collect();
        let mut events = self.read_objects(objects);
        let mut pending = Vec::new();
        let mut pending_bytes = 0;
        loop {
            let next = async {
                match stop_at {
                    Some(stop_at) => tokio::time::timeout_at(stop_at.into(), events.recv()).await,
                    None => Ok(events.recv().await),
                }
            };
            let event = match next.await {
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
                        delivered.merge(output.send(&*self.builder, docs, deadline).await?);
                    }
                }
                ObjectEvent::Read { task, read } => {
                    unfinished.remove(&key(&task));
                    count_read(&mut delivered.summary, &task, &read);
                }
                ObjectEvent::Failed { task, error } => {
                    delivered.summary.objects += 1;
                    delivered.summary.objects_failed += 1;
                    unfinished.remove(&key(&task));
                    tracing::warn!(error = %error, "object not read: its notification is reported failed");
                    delivered.failed.insert(task.ack);
                    delivered.last_error = Some(error.to_string());
                    unread.push(error);
                }
            }
        }
        drop(events);
        if !pending.is_empty() {
            delivered.merge(output.send(&*self.builder, pending, deadline).await?);
        }
        for (ack, bucket, key) in unfinished {
            tracing::warn!(object = %format!("s3://{bucket}/{key}"), "object not read before the deadline");
            delivered.summary.objects += 1;
            delivered.summary.objects_failed += 1;
            delivered.failed.insert(ack);
        }
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
    summary.skipped += documents.skipped as u64;
    summary.out_of_window += documents.out_of_window as u64;
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

//! Sources: each turns what the forwarder receives into batches of log events, every batch
//! carrying the acknowledgement it belongs to ([`Ack`]). Nothing downstream asks where a batch
//! came from: documents, delivery and the answer to Lambda all go by the [`Ack`].
//!
//! - [`subscription`]: the CloudWatch Logs subscription payload (base64, gzip, JSON), the format
//!   every source of log events decodes into;
//! - [`lambda`]: the Lambda events (`awslogs`, Kinesis, SQS, S3 notifications, on-failure
//!   records) into a [`Decoded`]; a Kinesis record may hold a CloudFront real-time log line,
//!   read as a record of the table of formats ([`s3::format::cloudfront_realtime`]);
//! - [`s3`]: the objects notifications name, read as streams of records.

pub mod lambda;
pub mod s3;
pub mod subscription;
pub mod system_fields;
pub mod tags;

use std::sync::Arc;

pub use self::subscription::{DecodeError, LogEvent, LogsData, MessageType};
use self::tags::LogGroupTags;

/// What the documents of a batch acknowledge once every one of them is done (indexed, a
/// duplicate, or dead-lettered).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ack {
    /// The invocation itself: if any document fails, the invocation fails and Lambda retries the
    /// whole event (then keeps it in the on-failure destination).
    Invocation,
    /// One item of a batch event, by the identifier Lambda's `batchItemFailures` takes (a Kinesis
    /// sequence number, an SQS message id; a key in a replay of a bucket): only the items whose
    /// documents failed are retried.
    Item(Arc<str>),
}

/// A decoded batch of log events and what it acknowledges.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub ack: Ack,
    pub data: LogsData,
    /// The log group's tags (`LOG_GROUP_TAGS`): not part of the payload, set by the pipeline
    /// ([`tags::TagCache`]) before documents are built, so that every document of the batch, a
    /// fallback too, carries them.
    pub tags: Option<Arc<LogGroupTags>>,
}

impl Batch {
    /// A batch of `data`, acknowledging `ack`, its tags not yet looked up; or, for a
    /// `CONTROL_MESSAGE` (CloudWatch Logs checking the destination), only the count of its
    /// events, which are acknowledged and skipped.
    pub fn decoded(ack: Ack, data: LogsData) -> Result<Batch, Control> {
        if data.message_type == MessageType::Control {
            return Err(Control {
                events: data.log_events.len() as u64,
            });
        }
        Ok(Batch {
            ack,
            data,
            tags: None,
        })
    }
}

/// A `CONTROL_MESSAGE` batch, dropped where it is decoded: only the number of its events goes on,
/// counted as events and as skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Control {
    pub events: u64,
}

/// The control batches of an input, dropped at decode ([`Control`]), by their count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dropped {
    /// Control batches.
    pub batches: u64,
    /// Their events.
    pub events: u64,
}

impl Dropped {
    pub fn add(&mut self, control: Control) {
        self.batches += 1;
        self.events += control.events;
    }
}

/// Input that could not be decoded, kept whole so that its dead-letter document preserves it:
/// indexing that document acknowledges it, so one bad record never blocks the others.
#[derive(Debug, Clone, PartialEq)]
pub struct Unreadable {
    pub ack: Ack,
    /// When it arrived, in milliseconds since the epoch.
    pub arrived_ms: i64,
    /// What was wrong, naming the event and the step that failed.
    pub reason: String,
    /// Where it came from, as the fields of one JSON object (e.g. `{"kinesis":{…}}`).
    pub origin: serde_json::Map<String, serde_json::Value>,
    /// The bytes as received.
    pub raw: Vec<u8>,
    /// The `_id` of its dead-letter document, stable across retries.
    pub id: String,
}

/// How an invocation answers Lambda.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// A summary of counts; an undelivered document fails the invocation.
    Summary,
    /// `{"batchItemFailures":[…]}` naming the items ([`Ack::Item`]) to retry.
    BatchItemFailures,
}

/// One event, decoded: its batches, what could not be decoded, the objects it names (read
/// later, as streams), and how to answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub reply: Reply,
    pub batches: Vec<Batch>,
    /// The control batches dropped at decode.
    pub control: Dropped,
    pub unreadable: Vec<Unreadable>,
    pub objects: Vec<s3::ObjectTask>,
    /// Records of a format of the table that came in the event itself (a Kinesis record holding
    /// a CloudFront real-time log line), each acknowledging its item.
    pub records: Vec<s3::Records>,
}

impl Decoded {
    /// Nothing yet, answered as `reply` says.
    pub fn new(reply: Reply) -> Decoded {
        Decoded {
            reply,
            batches: Vec::new(),
            control: Dropped::default(),
            unreadable: Vec::new(),
            objects: Vec::new(),
            records: Vec::new(),
        }
    }

    /// The same, the reasons of what could not be decoded naming the event, `what`, they are in
    /// (e.g. `the event: Kinesis record 3: …`): the edge that read the event says which it was.
    pub fn at(mut self, what: &str) -> Decoded {
        for input in &mut self.unreadable {
            input.reason = format!("{what}: {}", input.reason);
        }
        self
    }

    /// Keeps the batch of `data` (one per source when its events carry system fields), or
    /// counts it when it is a control message.
    pub fn push(&mut self, ack: Ack, data: LogsData) {
        for data in system_fields::by_source(data) {
            match Batch::decoded(ack.clone(), data) {
                Ok(batch) => self.batches.push(batch),
                Err(control) => self.control.add(control),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_control_message_is_dropped_at_decode_and_only_counted() {
        let data: LogsData = serde_json::from_str(subscription::tests::CONTROL).expect("a control batch");
        let mut decoded = Decoded::new(Reply::Summary);
        decoded.push(Ack::Invocation, data.clone());
        decoded.push(
            Ack::Invocation,
            LogsData {
                message_type: MessageType::Data,
                ..data
            },
        );
        assert_eq!(decoded.batches.len(), 1);
        assert_eq!(
            decoded.control,
            Dropped {
                batches: 1,
                events: 1
            }
        );
    }
}

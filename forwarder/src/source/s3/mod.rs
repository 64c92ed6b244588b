//! Objects in S3: the notifications that name them ([`notification`]), how each is read as a
//! stream of records ([`read`]) in the format its key and first bytes say (the table of formats,
//! [`format`], which also holds each format's record parser).
//!
//! An object never sits whole in memory: it is decompressed and parsed as it downloads, and its
//! records leave in [`Chunk`]s that the pipeline turns into documents and delivers while the
//! download goes on. Every chunk carries the acknowledgement of the notification (an SQS message,
//! or the invocation) that named the object.

pub mod continuation;
pub mod format;
pub mod notification;
pub mod notify;
pub mod read;

use std::sync::Arc;

use sha2::{Digest, Sha256};

pub use self::continuation::{Continuation, Resume, Seek, Unfinished};
pub use self::format::{Format, S3Options};
use super::{Ack, Batch, Control};

/// One object to read, and what reading it acknowledges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectTask {
    pub ack: Ack,
    pub bucket: String,
    /// The key, decoded (notifications spell it URL-encoded).
    pub key: String,
    /// The ARN of the SQS queue the notification came from, where a continuation goes.
    pub queue: Option<Arc<str>>,
    /// Where reading resumes, for a continuation ([`continuation`]).
    pub resume: Option<Resume>,
}

impl ObjectTask {
    /// `s3://bucket/key`.
    pub fn url(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }
}

/// What is known of an object once its download started; or of a Kinesis record read as the
/// line of a format of the table (CloudFront real-time logs), which has no bucket, key or ETag
/// but its [`KinesisOrigin`].
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectMeta {
    pub bucket: String,
    pub key: String,
    /// The ETag without its quotes, as `GetObject` and `ListObjectsV2` give it.
    pub etag: String,
    /// `LastModified`, in milliseconds since the epoch: the time of records that carry none.
    pub last_modified_ms: i64,
    pub format: Format,
    /// The named captures of `S3_KEY_REGEX` on the key.
    pub key_fields: Vec<(String, String)>,
    /// The Kinesis record the records came from, when they were not read from S3.
    pub kinesis: Option<Arc<KinesisOrigin>>,
}

impl ObjectMeta {
    /// The deterministic `_id` of the record at `number`: a hash of bucket, key, ETag and
    /// position, so the same object gives the same ids however it is named and however often.
    pub(crate) fn record_id(&self, number: u64) -> String {
        self.record_ids().id(number)
    }

    /// The hash of bucket, key and ETag, taken once for all the records of a chunk: each id then
    /// costs only its position's block, not the key's (which is often 200 bytes).
    ///
    /// The records of a Kinesis record hash its stream, shard and sequence number instead (after
    /// a fourth part, `kinesis`, so that no object's parts give the same hash): the same record,
    /// delivered again, has the same ids.
    pub fn record_ids(&self) -> RecordIds {
        let mut hash = Sha256::new();
        let parts = match &self.kinesis {
            None => vec![self.bucket.as_bytes(), self.key.as_bytes(), self.etag.as_bytes()],
            Some(origin) => vec![
                b"kinesis".as_slice(),
                origin.stream_arn.as_bytes(),
                origin.shard_id.as_bytes(),
                origin.sequence_number.as_bytes(),
            ],
        };
        for part in parts {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part);
        }
        RecordIds { object: hash }
    }
}

/// The `_id` of a record that carries an id of its source's (a finding's id and update time,
/// [`format::Shared::own_id`]): the first 128 bits, in hex, of SHA-256 over the format's name and
/// that id, so the same record read from another object, or again, is the same document.
pub fn own_record_id(format: &str, own: &str) -> String {
    let mut hash = Sha256::new();
    for part in [format.as_bytes(), own.as_bytes()] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hex128(&hash.finalize())
}

/// The first 128 bits of a digest, in lowercase hex.
fn hex128(digest: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut id = String::with_capacity(32);
    for byte in &digest[..16] {
        id.push(HEX[usize::from(byte >> 4)] as char);
        id.push(HEX[usize::from(byte & 0xf)] as char);
    }
    id
}

/// Where a Kinesis record came from, as Lambda's Kinesis event names it
/// (<https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html>).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KinesisOrigin {
    /// `eventSourceARN`: the stream's ARN.
    pub stream_arn: String,
    /// The shard, the part of `eventID` before its `:` (`shardId-000000000006`).
    pub shard_id: String,
    pub sequence_number: String,
    pub partition_key: String,
    /// `eventID`, as given.
    pub event_id: String,
}

impl KinesisOrigin {
    /// The account and region of the stream's ARN (`arn:aws:kinesis:REGION:ACCOUNT:stream/NAME`).
    pub fn account_region(&self) -> (Option<&str>, Option<&str>) {
        let mut parts = self.stream_arn.split(':').skip(3);
        let region = parts.next().filter(|region| !region.is_empty());
        let account = parts.next().filter(|account| !account.is_empty());
        (account, region)
    }
}

/// The `_id`s of one object's records ([`ObjectMeta::record_ids`]).
#[derive(Debug, Clone)]
pub struct RecordIds {
    object: Sha256,
}

impl RecordIds {
    /// The first 128 bits of SHA-256 over the object's parts and the position, in hex.
    pub fn id(&self, number: u64) -> String {
        let mut hash = self.object.clone();
        hash.update(number.to_be_bytes());
        hex128(&hash.finalize())
    }
}

/// One line (or CloudTrail record) of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The line number (from 1), or the record's position in `Records` (from 1).
    pub number: u64,
    /// Milliseconds since the epoch: the record's own time, else the object's `LastModified`.
    pub timestamp: i64,
    pub text: String,
    /// The record's length in bytes when it was longer than `MAX_RECORD_BYTES` and `text` holds
    /// only its first bytes ([`crate::limits::Limits::max_record_bytes`]); `None`: whole.
    pub truncated_from: Option<u64>,
}

/// Consecutive records of one object.
#[derive(Debug, Clone, PartialEq)]
pub struct Records {
    pub ack: Ack,
    pub object: Arc<ObjectMeta>,
    /// The field names of the header line these records follow (CloudFront's `#Fields:`, a VPC
    /// flow log's first line), when the format has one.
    pub header: Option<Arc<Vec<String>>>,
    pub records: Vec<Record>,
}

/// What reading an object yields, in order.
#[derive(Debug)]
pub enum Chunk {
    /// One CloudWatch Logs subscription payload of a Firehose file: documents exactly as if it
    /// had come through a subscription.
    Logs(Batch),
    /// A `CONTROL_MESSAGE` payload of a Firehose file, dropped where it is decoded: only the
    /// number of its events, counted as skipped.
    Control(Control),
    /// Lines or records.
    Records(Records),
}

/// Decodes a key as S3 notifications spell it (`application/x-www-form-urlencoded`: `+` for a
/// space, `%XX` for a byte). A malformed escape is kept as it is.
pub(crate) fn decode_key(key: &str) -> String {
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|value| value as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_decoded_as_notifications_spell_them() {
        // https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html:
        // "red flower.jpg" becomes "red+flower.jpg".
        assert_eq!(decode_key("red+flower.jpg"), "red flower.jpg");
        assert_eq!(decode_key("logs/a%2Bb%3D1/x%C3%A9.gz"), "logs/a+b=1/xé.gz");
        assert_eq!(decode_key("100%"), "100%");
        assert_eq!(decode_key("a%zz"), "a%zz");
        assert_eq!(decode_key("%4"), "%4");
    }

    #[test]
    fn record_ids_depend_on_object_and_position_only() {
        let meta = ObjectMeta {
            bucket: "b".into(),
            key: "k".into(),
            etag: "e".into(),
            last_modified_ms: 0,
            format: Format::TextLines,
            key_fields: Vec::new(),
            kinesis: None,
        };
        let again = ObjectMeta {
            last_modified_ms: 5,
            ..meta.clone()
        };
        assert_eq!(meta.record_id(1), again.record_id(1));
        assert_ne!(meta.record_id(1), meta.record_id(2));
        let other = ObjectMeta {
            etag: "f".into(),
            ..meta.clone()
        };
        assert_ne!(meta.record_id(1), other.record_id(1));
        // Parts are length-prefixed: ("ab","c") and ("a","bc") differ.
        let shifted = ObjectMeta {
            bucket: "bk".into(),
            key: "".into(),
            ..meta.clone()
        };
        let unshifted = ObjectMeta {
            bucket: "b".into(),
            key: "k".into(),
            ..meta.clone()
        };
        assert_ne!(shifted.record_id(1), unshifted.record_id(1));
        assert_eq!(meta.record_id(7).len(), 32);
    }

    #[test]
    fn the_ids_of_a_kinesis_record_depend_on_its_stream_shard_and_sequence_number_only() {
        let origin = KinesisOrigin {
            stream_arn: "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream".into(),
            shard_id: "shardId-000000000006".into(),
            sequence_number: "49590338271490256608559692538361571095921575989136588898".into(),
            partition_key: "1".into(),
            event_id: "shardId-000000000006:49590338271490256608559692538361571095921575989136588898".into(),
        };
        let meta = |origin: KinesisOrigin, arrived_ms: i64| ObjectMeta {
            bucket: String::new(),
            key: String::new(),
            etag: String::new(),
            last_modified_ms: arrived_ms,
            format: Format::CloudfrontRealtime,
            key_fields: Vec::new(),
            kinesis: Some(Arc::new(origin)),
        };
        let first = meta(origin.clone(), 1_545_084_650_987);
        let redelivered = meta(
            KinesisOrigin {
                partition_key: "2".into(),
                ..origin.clone()
            },
            1_545_084_711_166,
        );
        assert_eq!(first.record_id(1), redelivered.record_id(1));
        for other in [
            KinesisOrigin {
                sequence_number: "49590338271490256608559692540925702759324208523137515618".into(),
                ..origin.clone()
            },
            KinesisOrigin {
                shard_id: "shardId-000000000007".into(),
                ..origin.clone()
            },
            KinesisOrigin {
                stream_arn: "arn:aws:kinesis:us-east-2:123456789012:stream/other".into(),
                ..origin.clone()
            },
        ] {
            assert_ne!(first.record_id(1), meta(other, 1_545_084_650_987).record_id(1));
        }
        assert_eq!(
            first.kinesis.as_ref().unwrap().account_region(),
            (Some("123456789012"), Some("us-east-2"))
        );
    }

    /// Ids written by earlier versions stay the ids of the same records: the object's hash taken
    /// once gives what one hash over every part gives.
    #[test]
    fn record_ids_are_one_hash_over_every_part() {
        let meta = ObjectMeta {
            bucket: "logs".into(),
            key: "AWSLogs/123456789012/elasticloadbalancing/us-east-2/2026/11/29/x.log.gz".into(),
            etag: "0123456789abcdef".into(),
            last_modified_ms: 0,
            format: Format::Alb,
            key_fields: Vec::new(),
            kinesis: None,
        };
        let mut hash = Sha256::new();
        for part in [&meta.bucket, &meta.key, &meta.etag] {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part.as_bytes());
        }
        hash.update(42u64.to_be_bytes());
        let whole: String = hash.finalize()[..16].iter().map(|b| format!("{b:02x}")).collect();
        let ids = meta.record_ids();
        assert_eq!(ids.id(42), whole);
        assert_eq!(meta.record_id(42), whole);
        assert_ne!(ids.id(43), whole);
    }
}

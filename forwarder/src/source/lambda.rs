//! The Lambda events the forwarder accepts, deserialised leniently (AWS adds fields over time):
//!
//! - a CloudWatch Logs subscription event `{"awslogs":{"data":…}}`
//!   (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html#LambdaFunctionExample>);
//! - a Kinesis Data Streams event whose records each carry one gzip subscription payload
//!   (<https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html>), or one CloudFront
//!   real-time log line ([`RealtimeFields::recognises`]); one event may mix them;
//! - an SQS event whose messages are S3 notifications (plain, wrapped by SNS, or EventBridge
//!   "Object Created" events, [`super::s3::notification`])
//!   (<https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html>);
//! - an S3 notification or EventBridge S3 event sent straight to the function;
//! - Lambda's asynchronous invocation record from an on-failure destination, whose
//!   `requestPayload` holds one of the above
//!   (<https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html>).

use std::sync::Arc;

use aws_lambda_events::kinesis::{KinesisEvent, KinesisEventRecord};
use serde::Deserialize;
use serde_json::Value;

use super::s3::format::cloudfront_realtime::RealtimeFields;
use super::s3::notification::{self, NotANotification, Notice};
use super::s3::{Format, KinesisOrigin, ObjectMeta, ObjectTask, Record, Records};
use super::subscription::{self, DecodeError, LogsData};
use super::{Ack, Decoded, Reply, Unreadable};
use crate::limits::{Limits, utf8_prefix_len};

/// What is wrong with an event the forwarder cannot read. It says nothing of where the event
/// came from: the edge that read it adds that once ([`EventError::at`]).
#[derive(Debug)]
pub enum EventError {
    NotJson {
        source: serde_json::Error,
    },
    /// `path` is where in the event, `": requestPayload"` or empty.
    UnknownEvent {
        path: String,
        keys: String,
    },
    /// `path` is where in the event, e.g. `": Records[1]"`, or empty.
    Malformed {
        path: String,
        source: serde_json::Error,
    },
    Decode {
        source: DecodeError,
    },
    Notification {
        source: NotANotification,
    },
}

impl EventError {
    /// The error of the event named `what` (e.g. `the event`, `FILE line 3`).
    pub fn at(self, what: &str) -> InputError {
        InputError {
            at: what.to_owned(),
            error: self,
        }
    }
}

/// An event the forwarder cannot read: what was wrong, and where the event came from.
#[derive(Debug)]
pub struct InputError {
    /// The event, as the edge that read it names it.
    pub at: String,
    pub error: EventError,
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = &self.at;
        match &self.error {
            EventError::NotJson { source } => write!(f, "{at} is not JSON: {source}"),
            EventError::UnknownEvent { path, keys } => write!(
                f,
                "{at}{path} is not a CloudWatch Logs, Kinesis, SQS, S3 or Lambda invocation-record event (top-level keys: {keys})"
            ),
            EventError::Malformed { path, source } => write!(f, "{at}{path}: {source}"),
            EventError::Decode { source } => write!(f, "{at}: awslogs.data: {source}"),
            EventError::Notification { source } => write!(f, "{at}: {source}"),
        }
    }
}

impl std::error::Error for InputError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.error {
            EventError::NotJson { source } | EventError::Malformed { source, .. } => Some(source),
            EventError::UnknownEvent { .. } => None,
            EventError::Decode { source } => Some(source),
            EventError::Notification { source } => Some(source),
        }
    }
}

/// One Lambda event, by kind.
#[derive(Debug, Clone)]
pub enum Input {
    /// A CloudWatch Logs subscription event, still encoded (`awslogs.data`).
    Awslogs { data: String },
    /// A Kinesis Data Streams event; each record is decoded on its own so one bad record never
    /// fails the others.
    Kinesis(KinesisEvent),
    /// An SQS event: each message names objects (or is kept whole when it does not).
    Sqs(Vec<SqsMessage>),
    /// An S3 notification or an EventBridge S3 event sent straight to the function.
    S3(Value),
}

/// One message of an SQS event (the fields the forwarder uses).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SqsMessage {
    pub message_id: String,
    #[serde(default)]
    pub body: String,
    #[serde(default, rename = "eventSourceARN")]
    pub event_source_arn: Option<String>,
    #[serde(default)]
    pub attributes: SqsAttributes,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SqsAttributes {
    #[serde(default, rename = "SentTimestamp")]
    pub sent_timestamp: Option<String>,
    #[serde(default, rename = "ApproximateReceiveCount")]
    pub approximate_receive_count: Option<String>,
}

#[derive(Deserialize)]
struct SqsEvent {
    #[serde(rename = "Records")]
    records: Vec<SqsMessage>,
}

#[derive(Deserialize)]
struct AwslogsEvent {
    awslogs: AwslogsData,
}

#[derive(Deserialize)]
struct AwslogsData {
    data: String,
}

impl Input {
    /// Recognises the event kind.
    pub fn from_value(value: Value) -> Result<Input, EventError> {
        Input::from_value_nested(value, "", 0)
    }

    /// [`Input::from_value`] of the event at `path` in the one received (`": requestPayload"`).
    fn from_value_nested(mut value: Value, path: &str, depth: u8) -> Result<Input, EventError> {
        let malformed = |source| EventError::Malformed {
            path: path.to_string(),
            source,
        };
        if let Some(awslogs) = value.get("awslogs") {
            if let Some(data) = awslogs.get("data").filter(|data| !data.is_string()) {
                return Err(EventError::Malformed {
                    path: format!("{path}: awslogs.data"),
                    source: serde::de::Error::custom(format!("expected a string, found {}", json_kind(data))),
                });
            }
            let event: AwslogsEvent = serde_json::from_value(value).map_err(malformed)?;
            return Ok(Input::Awslogs {
                data: event.awslogs.data,
            });
        }
        if let Some(records) = value.get("Records") {
            let source = records
                .pointer("/0/eventSource")
                .and_then(Value::as_str)
                .unwrap_or_default();
            return match source {
                "aws:sqs" => {
                    let event: SqsEvent = serde_json::from_value(value).map_err(malformed)?;
                    Ok(Input::Sqs(event.records))
                }
                "aws:s3" => Ok(Input::S3(value)),
                _ => {
                    // Record by record, so an error names the record it is in.
                    let mut event = KinesisEvent::default();
                    let records = match value.get_mut("Records").map(Value::take) {
                        Some(Value::Array(records)) => records,
                        _ => return Err(malformed(serde::de::Error::custom("Records is not a list"))),
                    };
                    for (position, record) in records.into_iter().enumerate() {
                        let record =
                            serde_json::from_value(record).map_err(|source| EventError::Malformed {
                                path: format!("{path}: Records[{position}]"),
                                source,
                            })?;
                        event.records.push(record);
                    }
                    Ok(Input::Kinesis(event))
                }
            };
        }
        if value.get("source").and_then(Value::as_str) == Some("aws.s3") {
            return Ok(Input::S3(value));
        }
        if depth == 0
            && let Some(payload) = value.get_mut("requestPayload")
        {
            let inner = format!("{path}: requestPayload");
            return Input::from_value_nested(payload.take(), &inner, depth + 1);
        }
        let keys = match &value {
            Value::Object(map) => map.keys().cloned().collect::<Vec<_>>().join(", "),
            other => format!("none, it is {}", json_kind(other)),
        };
        Err(EventError::UnknownEvent {
            path: path.to_string(),
            keys,
        })
    }

    /// Parses one JSON event from text.
    pub fn from_json(text: &str) -> Result<Input, EventError> {
        let value = serde_json::from_str(text).map_err(|source| EventError::NotJson { source })?;
        Input::from_value(value)
    }
}

impl Input {
    /// [`Input::decode_with`] the documented CloudFront real-time log fields and the default
    /// limits.
    pub fn decode(self) -> Result<Decoded, EventError> {
        self.decode_with(&RealtimeFields::default(), &Limits::default())
    }

    /// Decodes the event's batches. An `awslogs` payload that cannot be decoded fails the whole
    /// event (Lambda retries it, then keeps it); a Kinesis record that is no subscription payload
    /// but a CloudFront real-time log line of `realtime`'s fields becomes a record of that
    /// format, and one that is neither an [`Unreadable`] of its own, so the other records go on.
    /// The reasons of what could not be decoded say where in the event it was; [`Decoded::at`]
    /// adds which event.
    /// A payload that decompresses to more than `MAX_PAYLOAD_BYTES` is one that cannot be
    /// decoded; a real-time log line longer than `MAX_RECORD_BYTES` is kept cut to it, as an
    /// object's line is.
    pub fn decode_with(self, realtime: &RealtimeFields, limits: &Limits) -> Result<Decoded, EventError> {
        let max_payload = limits.max_payload_bytes;
        match self {
            Input::Awslogs { data } => {
                let mut decoded = Decoded::new(Reply::Summary);
                let data = subscription::decode_awslogs_within(&data, max_payload)
                    .map_err(|source| EventError::Decode { source })?;
                decoded.push(Ack::Invocation, data);
                Ok(decoded)
            }
            Input::Sqs(messages) => Ok(decode_sqs(messages)),
            Input::S3(value) => {
                let notice =
                    notification::notice(&value).map_err(|source| EventError::Notification { source })?;
                Ok(Decoded {
                    objects: tasks(notice, &Ack::Invocation, None),
                    ..Decoded::new(Reply::Summary)
                })
            }
            Input::Kinesis(event) => {
                let mut decoded = Decoded::new(Reply::BatchItemFailures);
                decoded.batches.reserve(event.records.len());
                for (position, record) in event.records.iter().enumerate() {
                    let ack = Ack::Item(Arc::from(record.kinesis.sequence_number.as_str()));
                    match decode_record(record, max_payload) {
                        Ok(data) => decoded.push(ack, data),
                        Err(_) if realtime.recognises(&record.kinesis.data.0) => {
                            let line = realtime_record(record, ack, realtime, limits.max_record_bytes);
                            decoded.records.push(line);
                        }
                        Err(err) => {
                            tracing::warn!(
                                sequence_number = %record.kinesis.sequence_number,
                                error = %err,
                                "undecodable Kinesis record: preserving it in the dead-letter index"
                            );
                            let reason = format!("Kinesis record {position}: {err}");
                            decoded.unreadable.push(unreadable_record(record, ack, reason));
                        }
                    }
                }
                Ok(decoded)
            }
        }
    }
}

/// The objects each message names, acknowledged per message; a message that is not a
/// notification is kept whole as an [`Unreadable`], so it is preserved and never blocks the queue.
fn decode_sqs(messages: Vec<SqsMessage>) -> Decoded {
    let mut decoded = Decoded::new(Reply::BatchItemFailures);
    for message in messages {
        let ack = Ack::Item(Arc::from(message.message_id.as_str()));
        let notice = serde_json::from_str::<Value>(&message.body)
            .map_err(|err| format!("the body is not JSON: {err}"))
            .and_then(|body| notification::notice(&body).map_err(|err| err.to_string()));
        match notice {
            Ok(notice) => {
                let queue = message.event_source_arn.as_deref().map(Arc::from);
                decoded.objects.extend(tasks(notice, &ack, queue));
            }
            Err(err) => {
                tracing::warn!(
                    message_id = %message.message_id,
                    error = %err,
                    "SQS message is not an S3 notification: preserving it in the dead-letter index"
                );
                let reason = format!("SQS message {}: {err}", message.message_id);
                decoded.unreadable.push(unreadable_message(message, ack, reason));
            }
        }
    }
    decoded
}

/// The objects of a notice, each acknowledging `ack`; `queue` is the ARN of the SQS queue it
/// came from, if it came from one.
fn tasks(notice: Notice, ack: &Ack, queue: Option<Arc<str>>) -> Vec<ObjectTask> {
    match notice {
        Notice::Objects(objects) => objects
            .into_iter()
            .map(|(bucket, key)| ObjectTask {
                ack: ack.clone(),
                bucket,
                key,
                queue: queue.clone(),
                resume: None,
            })
            .collect(),
        Notice::Continue(continuation) => {
            let (bucket, key, resume) = continuation.into();
            vec![ObjectTask {
                ack: ack.clone(),
                bucket,
                key,
                queue,
                resume: Some(resume),
            }]
        }
        Notice::Nothing(why) => {
            tracing::debug!(?ack, why, "nothing to read");
            Vec::new()
        }
    }
}

/// An SQS message that names no object: its body, why, and where it came from, with the
/// message id in its `_id` so a redelivered message is not stored twice.
fn unreadable_message(message: SqsMessage, ack: Ack, reason: String) -> Unreadable {
    let mut origin = serde_json::Map::new();
    origin.insert(
        "sqs".to_string(),
        serde_json::json!({
            "messageId": message.message_id,
            "eventSourceARN": message.event_source_arn,
        }),
    );
    let arrived_ms = message
        .attributes
        .sent_timestamp
        .as_deref()
        .and_then(|sent| sent.parse().ok())
        .unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
    Unreadable {
        ack,
        arrived_ms,
        reason,
        origin,
        id: format!("sqs-{}", message.message_id),
        raw: message.body.into_bytes(),
    }
}

/// Decodes the subscription payload of an `awslogs` event.
pub fn decode_awslogs(data: &str) -> Result<LogsData, EventError> {
    subscription::decode_awslogs(data).map_err(|source| EventError::Decode { source })
}

/// Decodes the gzip subscription payload one Kinesis record carries, of at most `max` bytes
/// decompressed.
pub(crate) fn decode_record(record: &KinesisEventRecord, max: usize) -> Result<LogsData, DecodeError> {
    subscription::decode_gzip_json(&record.kinesis.data.0, max)
}

/// A Kinesis record holding a CloudFront real-time log line: one record of that format, whose
/// fields are `realtime`'s, its time its arrival's until the line gives its own, its ids
/// those of the stream, shard and sequence number ([`ObjectMeta::record_ids`]); cut to
/// `max_record_bytes` when it is longer.
fn realtime_record(
    record: &KinesisEventRecord,
    ack: Ack,
    realtime: &RealtimeFields,
    max_record_bytes: usize,
) -> Records {
    let arrived_ms = record.kinesis.approximate_arrival_timestamp.0.timestamp_millis();
    let event_id = record.event_id.clone().unwrap_or_default();
    let origin = KinesisOrigin {
        stream_arn: record.event_source_arn.clone().unwrap_or_default(),
        shard_id: event_id
            .split_once(':')
            .map_or("", |(shard, _)| shard)
            .to_string(),
        sequence_number: record.kinesis.sequence_number.clone(),
        partition_key: record.kinesis.partition_key.clone(),
        event_id,
    };
    // Recognised as UTF-8; the line without the line break CloudFront ends it with.
    let mut line = &record.kinesis.data.0[..];
    while let [rest @ .., b'\n' | b'\r'] = line {
        line = rest;
    }
    let (line, truncated_from) = match line.len() > max_record_bytes {
        true => (
            &line[..utf8_prefix_len(&line[..max_record_bytes])],
            Some(line.len() as u64),
        ),
        false => (line, None),
    };
    Records {
        ack,
        object: Arc::new(ObjectMeta {
            bucket: String::new(),
            key: String::new(),
            etag: String::new(),
            last_modified_ms: arrived_ms,
            format: Format::CloudfrontRealtime,
            key_fields: Vec::new(),
            kinesis: Some(Arc::new(origin)),
        }),
        header: Some(Arc::clone(realtime.names())),
        records: vec![Record {
            number: 1,
            timestamp: arrived_ms,
            text: String::from_utf8_lossy(line).into_owned(),
            truncated_from,
        }],
    }
}

/// A Kinesis record the forwarder cannot decode: its raw data, the reason and where it came
/// from, with the sequence number in its `_id` so a retried record is not stored twice. If even
/// its dead-letter document cannot be indexed, the record is reported in `batchItemFailures`
/// and Kinesis keeps it.
fn unreadable_record(record: &KinesisEventRecord, ack: Ack, reason: String) -> Unreadable {
    let mut origin = serde_json::Map::new();
    origin.insert(
        "kinesis".to_string(),
        serde_json::json!({
            "sequenceNumber": record.kinesis.sequence_number,
            "partitionKey": record.kinesis.partition_key,
            "eventID": record.event_id,
            "eventSourceARN": record.event_source_arn,
        }),
    );
    Unreadable {
        ack,
        arrived_ms: record.kinesis.approximate_arrival_timestamp.0.timestamp_millis(),
        reason,
        origin,
        raw: record.kinesis.data.0.clone(),
        id: format!("kinesis-{}", record.kinesis.sequence_number),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests;

//! The CloudWatch Logs subscription payload: `awslogs.data` is base64(gzip(JSON)).
//!
//! Format: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html#LambdaFunctionExample>
//! (fields `messageType`, `owner`, `logGroup`, `logStream`, `subscriptionFilters`, `logEvents`;
//! account-level policies add `policyLevel`).

use std::collections::BTreeMap;
use std::io::Read;

use base64::Engine as _;
use flate2::read::MultiGzDecoder;
use serde::{Deserialize, Serialize};

use crate::limits::DEFAULT_MAX_PAYLOAD_BYTES;

/// The `messageType` CloudWatch Logs sends to check that a destination is reachable.
pub const CONTROL_MESSAGE: &str = "CONTROL_MESSAGE";

/// The `messageType` of every batch that carries log events.
pub const DATA_MESSAGE: &str = "DATA_MESSAGE";

/// What a batch is, by its `messageType`. Read leniently: a value CloudWatch Logs may add later
/// is kept as it is ([`MessageType::Other`]) and written back unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum MessageType {
    /// `DATA_MESSAGE`: log events to index.
    Data,
    /// `CONTROL_MESSAGE`: CloudWatch Logs checking the destination, acknowledged and skipped
    /// where it is decoded ([`super::Decoded::push`]).
    Control,
    /// Any other value, as received.
    Other(String),
}

impl From<String> for MessageType {
    fn from(value: String) -> MessageType {
        match value.as_str() {
            DATA_MESSAGE => MessageType::Data,
            CONTROL_MESSAGE => MessageType::Control,
            _ => MessageType::Other(value),
        }
    }
}

impl From<MessageType> for String {
    fn from(value: MessageType) -> String {
        match value {
            MessageType::Data => DATA_MESSAGE.to_owned(),
            MessageType::Control => CONTROL_MESSAGE.to_owned(),
            MessageType::Other(value) => value,
        }
    }
}

/// Why a payload could not be decoded, named by the step that failed.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// `awslogs.data` is not standard base64.
    #[error("payload is not base64: {source}")]
    NotBase64 {
        #[source]
        source: base64::DecodeError,
    },
    /// The decoded bytes are not a gzip stream (or the stream is truncated or corrupt).
    #[error("payload is not gzip ({len} bytes): {source}")]
    NotGzip {
        len: usize,
        #[source]
        source: std::io::Error,
    },
    /// The payload decompresses to more than `MAX_PAYLOAD_BYTES`: decompression stopped there.
    #[error("payload decompresses to more than MAX_PAYLOAD_BYTES ({limit} bytes) from {len} bytes")]
    TooLarge { len: usize, limit: usize },
    /// The decompressed bytes are not JSON.
    #[error("payload is not JSON: {source}")]
    NotJson {
        #[source]
        source: serde_json::Error,
    },
    /// The JSON is not a subscription batch: a required field is missing or has the wrong type.
    #[error("payload is not a CloudWatch Logs batch (missing or mistyped field): {source}")]
    MissingField {
        #[source]
        source: serde_json::Error,
    },
}

/// One decoded subscription batch. Unknown fields are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogsData {
    /// `DATA_MESSAGE` or `CONTROL_MESSAGE` (a health check to acknowledge and skip).
    pub message_type: MessageType,
    /// The AWS account id the log group belongs to.
    pub owner: String,
    pub log_group: String,
    pub log_stream: String,
    #[serde(default)]
    pub subscription_filters: Vec<String>,
    #[serde(default)]
    pub log_events: Vec<LogEvent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_level: Option<String>,
    /// The region the events were first written in, from their `@aws.region` system field
    /// ([`super::system_fields`]); `None`: the forwarder's own.
    #[serde(skip)]
    pub source_region: Option<String>,
    /// Whether `owner` and `logGroup` were taken from the events' system fields: the batch is
    /// one source's share of a central log group's ([`super::system_fields`]).
    #[serde(skip)]
    pub from_system_fields: bool,
}

/// One log event of a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEvent {
    /// CloudWatch's unique event id: the source of the document `_id`.
    pub id: String,
    /// Event time, milliseconds since the epoch.
    pub timestamp: i64,
    pub message: String,
    /// Present when the filter pattern is space-delimited (`[ip, user, ...]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extracted_fields: Option<BTreeMap<String, String>>,
}

/// Decodes the `awslogs.data` string of a Lambda subscription event: base64, then gzip, then JSON,
/// within the default `MAX_PAYLOAD_BYTES`.
pub fn decode_awslogs(data: &str) -> Result<LogsData, DecodeError> {
    decode_awslogs_within(data, DEFAULT_MAX_PAYLOAD_BYTES)
}

/// [`decode_awslogs`] of a payload that may decompress to at most `max` bytes.
pub fn decode_awslogs_within(data: &str, max: usize) -> Result<LogsData, DecodeError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|source| DecodeError::NotBase64 { source })?;
    decode_gzip_json(&bytes, max)
}

/// Decodes a gzip-compressed JSON batch of at most `max` bytes decompressed: the data of a
/// Kinesis record from a subscription filter (already base64-decoded by the Kinesis event
/// deserializer).
pub fn decode_gzip_json(bytes: &[u8], max: usize) -> Result<LogsData, DecodeError> {
    if bytes.len() < 2 || bytes[..2] != [0x1f, 0x8b] {
        return Err(DecodeError::NotGzip {
            len: bytes.len(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, "no gzip header (1f 8b)"),
        });
    }
    decode_json(&gunzip_within(bytes, max)?)
}

/// The largest output [`gunzip`] decompresses in one piece; past it (or with several gzip
/// members) it streams.
const WHOLE_BUFFER_LIMIT: usize = 64 * 1024 * 1024;

/// Decompresses a whole gzip buffer. A subscription payload is one gzip member whose trailer
/// gives its size (RFC 1952, ISIZE), so libdeflate inflates it in one call into a buffer of
/// exactly that size, about three times faster than a streaming decoder. Anything else
/// (several members, a size past the limit, a trailer that does not match) goes through the
/// streaming decoder, which also names what is wrong with a corrupt stream.
pub fn gunzip(bytes: &[u8]) -> Result<Vec<u8>, DecodeError> {
    gunzip_within(bytes, DEFAULT_MAX_PAYLOAD_BYTES)
}

/// [`gunzip`] of at most `max` bytes (`MAX_PAYLOAD_BYTES`): decompression stops just past it
/// and the payload is refused ([`DecodeError::TooLarge`]), whatever its trailer claims.
pub fn gunzip_within(bytes: &[u8], max: usize) -> Result<Vec<u8>, DecodeError> {
    let too_large = || DecodeError::TooLarge {
        len: bytes.len(),
        limit: max,
    };
    let trailer = trailer_size(bytes).filter(|&size| size <= max);
    if let Some(whole) = trailer.and_then(|size| inflate_one_member(bytes, size)) {
        return Ok(whole);
    }
    // Log text compresses about 8 to 12 times; start there to avoid most regrowth.
    let mut json = Vec::with_capacity(bytes.len().saturating_mul(8).min(max));
    MultiGzDecoder::new(bytes)
        .take(max as u64 + 1)
        .read_to_end(&mut json)
        .map_err(|source| DecodeError::NotGzip {
            len: bytes.len(),
            source,
        })?;
    if json.len() > max {
        return Err(too_large());
    }
    Ok(json)
}

/// The most DEFLATE can expand its input: 258 bytes from a 2-bit code, about 1032 to 1
/// (zlib's technical details); a trailer claiming more is not a size this input can have.
const MAX_DEFLATE_RATIO: usize = 1032;

/// The size the gzip trailer (ISIZE) gives, when it is one the input can have and under
/// [`WHOLE_BUFFER_LIMIT`]: the trailer comes from the input, so it alone must not decide how
/// much memory is set aside.
fn trailer_size(bytes: &[u8]) -> Option<usize> {
    let at = bytes.len().checked_sub(4)?;
    let size = u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize;
    (size <= WHOLE_BUFFER_LIMIT && size <= bytes.len().saturating_mul(MAX_DEFLATE_RATIO)).then_some(size)
}

/// The data of `bytes` when it is exactly one gzip member of `size` bytes, checked by
/// libdeflate (CRC-32 and size); `None` for anything else.
fn inflate_one_member(bytes: &[u8], size: usize) -> Option<Vec<u8>> {
    // Not zeroed first: libdeflate writes the bytes, and only those are kept.
    let mut out: Vec<u8> = Vec::with_capacity(size);
    let (mut read, mut written) = (0usize, 0usize);
    // SAFETY: the decompressor is checked for null, used only in this call and freed once; the
    // input pointer and length come from a live slice, the output pointer from `out`'s spare
    // capacity of at least `size` bytes, and libdeflate reads and writes only within those
    // lengths; the two result pointers point at live locals.
    let result = unsafe {
        let decompressor = libdeflate_sys::libdeflate_alloc_decompressor();
        if decompressor.is_null() {
            return None;
        }
        let result = libdeflate_sys::libdeflate_gzip_decompress_ex(
            decompressor,
            bytes.as_ptr().cast(),
            bytes.len(),
            out.spare_capacity_mut().as_mut_ptr().cast(),
            size,
            &mut read,
            &mut written,
        );
        libdeflate_sys::libdeflate_free_decompressor(decompressor);
        result
    };
    // A second member after the first leaves input unread: the streaming decoder reads them all.
    if result != libdeflate_sys::libdeflate_result_LIBDEFLATE_SUCCESS
        || read != bytes.len()
        || written != size
    {
        return None;
    }
    // SAFETY: libdeflate reported success after writing exactly `written` (= `size`, within the
    // capacity) bytes at the start of the buffer.
    unsafe { out.set_len(written) };
    Some(out)
}

/// Parses the decompressed JSON of a batch.
pub(crate) fn decode_json(json: &[u8]) -> Result<LogsData, DecodeError> {
    serde_json::from_slice(json).map_err(|source| match source.classify() {
        serde_json::error::Category::Data => DecodeError::MissingField { source },
        _ => DecodeError::NotJson { source },
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Write;

    use flate2::{Compression, write::GzEncoder};

    use super::*;

    /// The example batch of the CloudWatch Logs documentation
    /// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html#LambdaFunctionExample>),
    /// as the subscription filter sends it to Lambda, decompressed.
    pub(crate) const DOC_BATCH: &str = r#"{
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "CloudTrail/logs",
        "logStream": "123456789012_CloudTrail_us-east-1",
        "subscriptionFilters": ["Destination"],
        "logEvents": [
            {"id": "31953106606966983378809025079804211143289615424298221568",
             "timestamp": 1432826855000,
             "message": "{\"eventVersion\":\"1.03\",\"userIdentity\":{\"type\":\"Root\"}}"},
            {"id": "31953106606966983378809025079804211143289615424298221569",
             "timestamp": 1432826855000,
             "message": "{\"eventVersion\":\"1.03\",\"userIdentity\":{\"type\":\"Root\"}}"}
        ]
    }"#;

    /// The health check CloudWatch Logs sends when a subscription is created (same page).
    pub(crate) const CONTROL: &str = r#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1432826855000,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}"#;

    pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).expect("writing to a Vec cannot fail");
        encoder.finish().expect("writing to a Vec cannot fail")
    }

    pub(crate) fn awslogs(json: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(gzip(json.as_bytes()))
    }

    #[test]
    fn decodes_the_documented_example_batch() {
        let batch = decode_awslogs(&awslogs(DOC_BATCH)).expect("valid batch");
        assert_eq!(batch.owner, "123456789012");
        assert_eq!(batch.log_group, "CloudTrail/logs");
        assert_eq!(batch.subscription_filters, ["Destination"]);
        assert_eq!(batch.log_events.len(), 2);
        assert_eq!(batch.log_events[1].timestamp, 1_432_826_855_000);
        assert_eq!(batch.message_type, MessageType::Data);
    }

    #[test]
    fn control_message_is_recognised() {
        let batch = decode_awslogs(&awslogs(CONTROL)).expect("valid batch");
        assert_eq!(batch.message_type, MessageType::Control);
    }

    #[test]
    fn an_unknown_message_type_is_kept_as_it_is() {
        let json = DOC_BATCH.replacen("DATA_MESSAGE", "HEALTH_MESSAGE", 1);
        let batch = decode_json(json.as_bytes()).expect("valid batch");
        assert_eq!(batch.message_type, MessageType::Other("HEALTH_MESSAGE".into()));
        let written = serde_json::to_value(&batch).expect("serializes");
        assert_eq!(written["messageType"], "HEALTH_MESSAGE");
    }

    #[test]
    fn unknown_fields_such_as_policy_level_are_accepted() {
        let json = DOC_BATCH.replacen(
            "\"owner\"",
            "\"policyLevel\": \"ACCOUNT_LEVEL_POLICY\", \"future\": 1, \"owner\"",
            1,
        );
        let batch = decode_gzip_json(&gzip(json.as_bytes()), DEFAULT_MAX_PAYLOAD_BYTES).expect("valid batch");
        assert_eq!(batch.policy_level.as_deref(), Some("ACCOUNT_LEVEL_POLICY"));
    }

    /// Issue 22: a trailer that claims more than its input can expand to sets no buffer of that
    /// size; the streaming decoder then reads the stream, growing with the real data.
    #[test]
    fn a_trailer_the_input_cannot_have_is_not_trusted_for_the_buffer() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut encoder, b"{\"a\":1}").unwrap();
        let mut bytes = encoder.finish().unwrap();
        assert_eq!(trailer_size(&bytes), Some(7));
        let at = bytes.len() - 4;
        bytes[at..].copy_from_slice(&(60u32 << 20).to_le_bytes());
        assert_eq!(trailer_size(&bytes), None, "60 MiB from {} bytes", bytes.len());
        // The streaming decoder reads it, and names the lying trailer.
        assert!(matches!(gunzip(&bytes), Err(DecodeError::NotGzip { .. })));
        let large = vec![0u8; 16 << 10];
        let limit = MAX_DEFLATE_RATIO * (large.len() + 4);
        let mut fake = large.clone();
        fake.extend_from_slice(&(limit as u32).to_le_bytes());
        assert_eq!(trailer_size(&fake), Some(limit));
        fake.truncate(large.len());
        fake.extend_from_slice(&(limit as u32 + 1).to_le_bytes());
        assert_eq!(trailer_size(&fake), None);
    }

    #[test]
    fn several_gzip_members_and_wrong_size_trailers_decode_whole() {
        // Firehose and some tools write one gzip member per record, back to back (RFC 1952 2.2).
        // Halves of the same length: the trailer's size then fits the first member alone, which
        // must not be taken for the whole.
        assert_eq!(DOC_BATCH.len() % 2, 0);
        let (first, second) = DOC_BATCH.split_at(DOC_BATCH.len() / 2);
        let mut members = gzip(first.as_bytes());
        members.extend(gzip(second.as_bytes()));
        assert_eq!(gunzip(&members).unwrap(), DOC_BATCH.as_bytes());
        assert_eq!(
            decode_gzip_json(&members, DEFAULT_MAX_PAYLOAD_BYTES)
                .unwrap()
                .log_events
                .len(),
            2
        );
        // A trailer whose size is wrong is not trusted for the buffer.
        let mut lying = gzip(DOC_BATCH.as_bytes());
        let at = lying.len() - 4;
        lying[at..].copy_from_slice(&7u32.to_le_bytes());
        assert!(matches!(gunzip(&lying), Err(DecodeError::NotGzip { .. })));
        let mut huge = gzip(DOC_BATCH.as_bytes());
        huge[at..].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(gunzip(&huge), Err(DecodeError::NotGzip { .. })));
    }

    /// Issue 26: a payload that decompresses past `MAX_PAYLOAD_BYTES` is refused, its
    /// decompression stopped at the limit, whether its trailer tells the truth or not.
    #[test]
    fn a_payload_past_the_payload_limit_is_refused() {
        let json = DOC_BATCH.as_bytes();
        let exact = gzip(json);
        assert_eq!(gunzip_within(&exact, json.len()).unwrap(), json);
        assert!(matches!(
            gunzip_within(&exact, json.len() - 1),
            Err(DecodeError::TooLarge { limit, .. }) if limit == json.len() - 1
        ));
        // A trailer that claims less than the data is not believed: the streaming decoder stops.
        let mut lying = exact.clone();
        let at = lying.len() - 4;
        lying[at..].copy_from_slice(&10u32.to_le_bytes());
        assert!(matches!(
            gunzip_within(&lying, 100),
            Err(DecodeError::TooLarge { .. })
        ));
        // 64 MiB of zeros from about 64 KiB: refused after 1 MiB, never held whole.
        let bomb = gzip(&vec![0u8; 64 << 20]);
        let err = decode_awslogs_within(&base64::engine::general_purpose::STANDARD.encode(&bomb), 1 << 20)
            .unwrap_err();
        assert!(
            err.to_string().contains("MAX_PAYLOAD_BYTES (1048576 bytes)"),
            "{err}"
        );
    }

    #[test]
    fn each_failing_step_is_named() {
        assert!(matches!(
            decode_awslogs("not base64!"),
            Err(DecodeError::NotBase64 { .. })
        ));
        let plain = base64::engine::general_purpose::STANDARD.encode(DOC_BATCH);
        assert!(matches!(decode_awslogs(&plain), Err(DecodeError::NotGzip { .. })));
        let mut truncated = gzip(DOC_BATCH.as_bytes());
        truncated.truncate(truncated.len() / 2);
        assert!(matches!(
            decode_gzip_json(&truncated, DEFAULT_MAX_PAYLOAD_BYTES),
            Err(DecodeError::NotGzip { .. })
        ));
        assert!(matches!(
            decode_gzip_json(&gzip(b"{\"messageType\":"), DEFAULT_MAX_PAYLOAD_BYTES),
            Err(DecodeError::NotJson { .. })
        ));
        let missing = decode_gzip_json(
            &gzip(br#"{"messageType":"DATA_MESSAGE","logGroup":"g","logStream":"s"}"#),
            DEFAULT_MAX_PAYLOAD_BYTES,
        );
        match missing {
            Err(err @ DecodeError::MissingField { .. }) => {
                assert!(err.to_string().contains("owner"), "{err}")
            }
            other => panic!("expected MissingField, got {other:?}"),
        }
    }
}

//! The sizes the forwarder holds input to (`MAX_RECORD_BYTES`, `MAX_PAYLOAD_BYTES`,
//! `MAX_OBJECT_EXPANSION`, `MAX_JSON_DEPTH`, `MAX_FIELDS`): what other accounts and services
//! write is read within them, so that one hostile line, payload or object costs time, not
//! memory, and never fails its neighbours. docs/forwarder.md ("Limits") says why each default.

pub use crate::json::shape::{DEFAULT_MAX_FIELDS, DEFAULT_MAX_JSON_DEPTH, JsonLimits};

/// Every limit on input, validated at start-up ([`crate::config`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The longest line or record of an S3 object kept whole; a longer one is kept truncated
    /// to this many bytes (at a UTF-8 boundary), marked and counted.
    pub max_record_bytes: usize,
    /// The most bytes one CloudWatch Logs payload may decompress to; a larger one is refused.
    pub max_payload_bytes: usize,
    /// How many times the compressed bytes read of it an object may expand to as it is
    /// decompressed, judged once [`EXPANSION_FLOOR`] bytes are out; past it the object is
    /// refused (`0`: never).
    pub max_object_expansion: u64,
    /// The deepest JSON message parsed into fields; deeper stays text in `message`.
    pub max_json_depth: usize,
    /// The most fields (distinct paths of object members, as a mapping has them) a JSON message
    /// may bring into its document; with more it stays text in `message`.
    pub max_fields: usize,
}

/// `MAX_RECORD_BYTES`: 1 MiB, the largest CloudWatch Logs event since April 2025
/// (<https://aws.amazon.com/about-aws/whats-new/2025/04/amazon-cloudwatch-logs-increases-log-event-size-1-mb/>),
/// so nothing a service writes through CloudWatch Logs is cut.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 1 << 20;
/// `MAX_PAYLOAD_BYTES`: 16 MiB. A `PutLogEvents` batch holds at most 1 MiB of events (each
/// counted with 26 bytes more) and 10,000 of them
/// (<https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html>);
/// its JSON, with ids, times and escapes (a control character written `\u0000` takes six
/// bytes), stays well under it.
pub const DEFAULT_MAX_PAYLOAD_BYTES: usize = 16 << 20;
/// `MAX_OBJECT_EXPANSION`: 1000. Logs compress about 10 to 20 times; DEFLATE cannot expand
/// more than about 1032 times, so only a stream of one repeated byte comes near it.
pub const DEFAULT_MAX_OBJECT_EXPANSION: u64 = 1000;

/// How many decompressed bytes an object is read before its expansion is judged: a small
/// object of one repeated byte is no danger.
pub const EXPANSION_FLOOR: u64 = 64 << 20;

impl Limits {
    /// The limits on a JSON message's fields.
    pub fn json(&self) -> JsonLimits {
        JsonLimits {
            max_depth: self.max_json_depth,
            max_fields: self.max_fields,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            max_payload_bytes: DEFAULT_MAX_PAYLOAD_BYTES,
            max_object_expansion: DEFAULT_MAX_OBJECT_EXPANSION,
            max_json_depth: DEFAULT_MAX_JSON_DEPTH,
            max_fields: DEFAULT_MAX_FIELDS,
        }
    }
}

/// The longest prefix of `bytes` that ends on a UTF-8 character boundary, for text cut at a
/// byte count: a character the cut split in two is left out whole.
pub fn utf8_prefix_len(bytes: &[u8]) -> usize {
    match std::str::from_utf8(bytes) {
        Ok(_) => bytes.len(),
        Err(err) if err.error_len().is_none() => err.valid_up_to(),
        // Invalid before the end: only the end matters here; the bad bytes are replaced later.
        Err(_) => {
            let tail = bytes.len().saturating_sub(3);
            (tail..bytes.len())
                .rev()
                .find(|&at| bytes[at] & 0xC0 != 0x80)
                .filter(|&at| {
                    let need = match bytes[at] {
                        byte if byte < 0x80 => 1,
                        byte if byte >= 0xF0 => 4,
                        byte if byte >= 0xE0 => 3,
                        _ => 2,
                    };
                    bytes.len() - at < need
                })
                .unwrap_or(bytes.len())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_never_splits_a_character() {
        let text = "aé€😀".as_bytes();
        // 'a' 1 byte, 'é' 2, '€' 3, '😀' 4.
        let ends: Vec<usize> = (0..=text.len()).map(|n| utf8_prefix_len(&text[..n])).collect();
        assert_eq!(ends, [0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10]);
        // Bad bytes before the cut are left for the reader to replace.
        assert_eq!(utf8_prefix_len(b"\xffab\xe2\x82"), 3);
        assert_eq!(utf8_prefix_len(b"\xffabc"), 4);
    }
}

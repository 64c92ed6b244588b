//! How deep a JSON text nests and how many fields it would add to an index's mapping, checked
//! against `MAX_JSON_DEPTH` and `MAX_FIELDS` before a message's JSON becomes fields. One pass
//! over the bytes, without recursion (a text nested 100,000 deep is refused at its limit, not
//! by the stack), stopping at the first limit passed.

use std::collections::HashSet;
use std::hash::{BuildHasher, Hasher};

/// The most a JSON message may nest and how many fields it may bring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonLimits {
    /// Objects and arrays open at once: `{"a":1}` is 1 deep, `{"a":[{}]}` 3.
    pub max_depth: usize,
    /// Distinct field paths, as a mapping has them: `a` and `a.b` are two; the `b` of every
    /// object of an array `a` is one.
    pub max_fields: usize,
}

impl JsonLimits {
    /// No limit: whatever serde_json itself can read.
    pub const UNLIMITED: JsonLimits = JsonLimits {
        max_depth: usize::MAX,
        max_fields: usize::MAX,
    };
}

/// `MAX_JSON_DEPTH`: 16. OpenSearch refuses a document whose objects nest deeper than its
/// `index.mapping.depth.limit` (20 by default), counting the document's own objects the message
/// sits under (`json`, `aws.cloudtrail`); 16 leaves them room.
pub const DEFAULT_MAX_JSON_DEPTH: usize = 16;
/// `MAX_FIELDS`: 1000, the default `index.mapping.total_fields.limit` of OpenSearch, half the
/// 2000 of Sluice's index template: one message cannot use up an index's mapping alone.
pub const DEFAULT_MAX_FIELDS: usize = 1000;

impl Default for JsonLimits {
    fn default() -> Self {
        JsonLimits {
            max_depth: DEFAULT_MAX_JSON_DEPTH,
            max_fields: DEFAULT_MAX_FIELDS,
        }
    }
}

/// Which limit a JSON text passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PastLimit {
    /// Nested deeper than `MAX_JSON_DEPTH`.
    Depth(usize),
    /// More fields than `MAX_FIELDS`.
    Fields(usize),
}

impl std::fmt::Display for PastLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PastLimit::Depth(max) => write!(f, "JSON nested deeper than MAX_JSON_DEPTH ({max})"),
            PastLimit::Fields(max) => write!(f, "JSON with more fields than MAX_FIELDS ({max})"),
        }
    }
}

/// The first limit `json` (a JSON text, valid or not: only its strings and brackets are
/// followed) passes, if any. A text too short to pass one is not read.
pub fn past_limit(json: &str, limits: JsonLimits) -> Option<PastLimit> {
    let bytes = json.as_bytes();
    // Each level takes two bytes at least, each field four (`"":0`).
    let deep_enough = bytes.len() / 2 > limits.max_depth;
    let count_fields = bytes.len() / 4 > limits.max_fields;
    if !deep_enough && !count_fields {
        return None;
    }
    let mut frames: Vec<Frame> = Vec::new();
    let mut fields = HashSet::new();
    let hasher = std::hash::RandomState::new();
    // The path of the value that comes next (the key before it, or the array it is in).
    let mut value_path = 0u64;
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'"' => {
                let end = string_end(bytes, at + 1);
                let in_key = frames
                    .last()
                    .is_some_and(|frame| frame.object && frame.expect_key);
                if in_key && count_fields {
                    let frame = frames.last_mut().expect("in an object");
                    let mut hash = hasher.build_hasher();
                    hash.write_u64(frame.path);
                    hash.write(&bytes[at + 1..end.saturating_sub(1).max(at + 1)]);
                    value_path = hash.finish();
                    fields.insert(value_path);
                    if fields.len() > limits.max_fields {
                        return Some(PastLimit::Fields(limits.max_fields));
                    }
                }
                if let Some(frame) = frames.last_mut() {
                    frame.expect_key = false;
                }
                at = end;
                continue;
            }
            open @ (b'{' | b'[') => {
                frames.push(Frame {
                    object: open == b'{',
                    path: value_path,
                    expect_key: open == b'{',
                });
                if frames.len() > limits.max_depth {
                    return Some(PastLimit::Depth(limits.max_depth));
                }
            }
            b'}' | b']' => {
                frames.pop();
                value_path = frames.last().map_or(0, |frame| frame.path);
            }
            b',' => {
                if let Some(frame) = frames.last_mut() {
                    frame.expect_key = frame.object;
                    value_path = frame.path;
                }
            }
            _ => {}
        }
        at += 1;
    }
    None
}

/// An object or array open where the scan is.
struct Frame {
    object: bool,
    /// The path of the object or array: its key's, or its array's.
    path: u64,
    /// In an object, whether the next string is a key.
    expect_key: bool,
}

/// The index after the closing quote of the string whose contents start at `from`, or the end.
fn string_end(bytes: &[u8], mut from: usize) -> usize {
    while let Some(found) = memchr::memchr2(b'"', b'\\', &bytes[from..]) {
        let at = from + found;
        if bytes[at] == b'"' {
            return at + 1;
        }
        from = at + 2;
        if from >= bytes.len() {
            break;
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_depth: usize, max_fields: usize) -> JsonLimits {
        JsonLimits {
            max_depth,
            max_fields,
        }
    }

    #[test]
    fn depth_at_the_limit_passes_and_one_more_does_not() {
        let nested =
            |depth: usize| format!("{}{}", r#"{"a":"#.repeat(depth - 1) + "{}", "}".repeat(depth - 1));
        assert_eq!(past_limit(&nested(16), limits(16, 1000)), None);
        assert_eq!(
            past_limit(&nested(17), limits(16, 1000)),
            Some(PastLimit::Depth(16))
        );
        // Arrays count as objects do; brackets in strings do not count.
        assert_eq!(past_limit(r#"[[["[[[[[[[[["]]]"#, limits(3, 1000)), None);
        assert_eq!(
            past_limit(r#"[[[["\"[[[[[[[[["]]]]"#, limits(3, 1000)),
            Some(PastLimit::Depth(3))
        );
        let deep = "[".repeat(100_000);
        assert_eq!(past_limit(&deep, limits(16, 1000)), Some(PastLimit::Depth(16)));
    }

    #[test]
    fn fields_are_counted_as_a_mapping_has_them() {
        let members = |n: usize| {
            let body: Vec<String> = (0..n).map(|i| format!("\"field{i}\":{i}")).collect();
            format!("{{{}}}", body.join(","))
        };
        assert_eq!(past_limit(&members(10), limits(16, 10)), None);
        assert_eq!(
            past_limit(&members(11), limits(16, 10)),
            Some(PastLimit::Fields(10))
        );
        // `a`, `a.b` and `a.c`: three, however many objects the array holds, and a value that
        // looks like a key is none.
        let array = format!(
            "{{\"a\":[{}]}}",
            r#"{"b":1,"c":"x\":"},"#.repeat(50) + r#"{"b":2}"#
        );
        assert_eq!(past_limit(&array, limits(16, 3)), None);
        assert_eq!(past_limit(&array, limits(16, 2)), Some(PastLimit::Fields(2)));
        // The same name under two parents is two fields.
        assert_eq!(
            past_limit(r#"{"x":{"n":1},"y":{"n":1},"zzzzzzzzzzzz":0}"#, limits(16, 4)),
            Some(PastLimit::Fields(4))
        );
    }
}

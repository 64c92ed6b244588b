//! The most frequent rule, sensitive JSON fields, matched by hand where the trigger words are:
//! several times faster than its regular expression, [`JSON_FIELD_RULE`], which the tests hold
//! it to.

use std::ops::Range;

use super::{JSON_FIELD, Rules};

/// What [`json_field_at`] matches, as a regular expression: the rule's definition, and the
/// oracle its tests compare the hand-written matcher with.
#[cfg(test)]
pub(super) const JSON_FIELD_RULE: &str = r#"(?i)(?P<pre>\\?"[^"\\]*(?:password|passwd|secret|token|authorization|credential|api[_-]?key|apikey)[^"\\]*\\?"\s*:\s*)(?:"(?:[^"\\]|\\.)*"|\\"(?:[^"\\]|\\[^"])*\\"|-?[0-9][0-9.eE+-]*|[\[{])"#;

/// A JSON field with a sensitive name, as byte offsets: `start..value` is the key and the
/// separator (kept), `value..end` the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Field {
    pub(super) start: usize,
    pub(super) value: usize,
    pub(super) end: usize,
    /// The value is an object or array.
    pub(super) nested: bool,
    /// The field is inside an escaped JSON string (`\"password\":\"x\"`).
    pub(super) escaped: bool,
}

/// The sensitive JSON fields whose keys hold the JSON_FIELD trigger words of `hits`, in order
/// and not overlapping: what the first keyword rule's regular expression matches.
pub(super) fn json_fields(text: &str, hits: &[(Range<usize>, Rules)]) -> Vec<Field> {
    let mut fields: Vec<Field> = Vec::new();
    for (hit, rules) in hits {
        if rules & JSON_FIELD == 0 || fields.last().is_some_and(|last| hit.start < last.end) {
            continue;
        }
        if let Some(field) = json_field_at(text.as_bytes(), hit) {
            fields.push(field);
        }
    }
    fields
}

/// The field whose key holds the trigger word at `hit`:
/// `\\?"[^"\\]*WORD[^"\\]*\\?"\s*:\s*VALUE` with VALUE a string, an escaped string, a number,
/// or the opening of an object or array.
fn json_field_at(bytes: &[u8], hit: &Range<usize>) -> Option<Field> {
    let (start, escaped, mut at) = key(bytes, hit)?;
    while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    if bytes.get(at) != Some(&b':') {
        return None;
    }
    at += 1;
    while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    let value = at;
    let (end, nested) = match *bytes.get(at)? {
        b'[' | b'{' => (value + 1, true),
        _ => (value_end(bytes, value)?, false),
    };
    Some(Field {
        start,
        value,
        end,
        nested,
        escaped,
    })
}

/// The quoted key around `hit`: where it starts (its opening quote, or the backslash before it),
/// whether it is escaped, and the offset just past its closing quote.
#[inline]
fn key(bytes: &[u8], hit: &Range<usize>) -> Option<(usize, bool, usize)> {
    let key_char = |b: u8| b != b'"' && b != b'\\';
    let mut open = hit.start;
    while open > 0 && key_char(bytes[open - 1]) {
        open -= 1;
    }
    if open == 0 || bytes[open - 1] != b'"' {
        return None;
    }
    let escaped = open >= 2 && bytes[open - 2] == b'\\';
    let start = open - 1 - usize::from(escaped);
    let mut at = hit.end;
    while at < bytes.len() && key_char(bytes[at]) {
        at += 1;
    }
    match (bytes.get(at), bytes.get(at + 1)) {
        (Some(b'"'), _) => Some((start, escaped, at + 1)),
        (Some(b'\\'), Some(b'"')) => Some((start, escaped, at + 2)),
        _ => None,
    }
}

/// The end of the string or number value at `value`; `None` for anything else.
#[inline]
fn value_end(bytes: &[u8], value: usize) -> Option<usize> {
    let mut at = value;
    match *bytes.get(at)? {
        b'"' => {
            // "(?:[^"\\]|\\.)*"
            at += 1;
            loop {
                match *bytes.get(at)? {
                    b'"' => return Some(at + 1),
                    b'\\' if bytes.get(at + 1).is_some_and(|&b| b != b'\n') => at += 2,
                    b'\\' => return None,
                    _ => at += 1,
                }
            }
        }
        b'\\' if bytes.get(at + 1) == Some(&b'"') => {
            // \\"(?:[^"\\]|\\[^"])*\\"
            at += 2;
            loop {
                match (*bytes.get(at)?, bytes.get(at + 1)) {
                    (b'\\', Some(b'"')) => return Some(at + 2),
                    (b'\\', Some(_)) => at += 2,
                    (b'\\', None) | (b'"', _) => return None,
                    _ => at += 1,
                }
            }
        }
        b'-' | b'0'..=b'9' => {
            // -?[0-9][0-9.eE+-]*
            at += 1;
            if bytes[value] == b'-' {
                if !bytes.get(at).is_some_and(u8::is_ascii_digit) {
                    return None;
                }
                at += 1;
            }
            while bytes
                .get(at)
                .is_some_and(|&b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
            {
                at += 1;
            }
            Some(at)
        }
        _ => None,
    }
}

//! The fields of a positional line, one at a time, borrowed from the line.

use std::borrow::Cow;

use super::super::RecordError;

/// The fields of a line, one at a time. Fields are separated by spaces; with `quoted`, a field
/// that starts with `"` runs to the next `"` that is not escaped, its quotes removed and `\"` and
/// `\\` unescaped. A field borrows from the line unless it had escapes.
pub(super) struct Fields<'a> {
    line: &'a str,
    at: usize,
    quoted: bool,
    /// Whether the line has no backslash and no control byte: then a field without a quote
    /// needs no JSON escaping, and neither does any part of it.
    pub plain: bool,
}

/// One field of a line, and whether it needs no JSON escaping (most do not: that saves looking
/// at each one again as it is written).
#[derive(Debug, PartialEq)]
pub(super) struct Field<'a> {
    pub text: Cow<'a, str>,
    pub plain: bool,
}

impl<'a> Fields<'a> {
    pub(super) fn new(line: &'a str, quoted: bool) -> Self {
        let bytes = line.as_bytes();
        // The smallest byte, without stopping early, so that the loop runs many bytes at a time.
        let lowest = bytes.iter().fold(u8::MAX, |lowest, &byte| lowest.min(byte));
        let plain = lowest >= 0x20 && memchr::memchr(b'\\', bytes).is_none();
        Fields {
            line,
            at: 0,
            quoted,
            plain,
        }
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<Field<'a>, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        let bytes = self.line.as_bytes();
        while bytes.get(self.at) == Some(&b' ') {
            self.at += 1;
        }
        let start = self.at;
        if start >= bytes.len() {
            return None;
        }
        if !(self.quoted && bytes[start] == b'"') {
            let rest = &bytes[start..];
            let (end, quote) = match memchr::memchr2(b' ', b'"', rest) {
                Some(at) if rest[at] == b'"' => (memchr::memchr(b' ', &rest[at..]).map(|end| at + end), true),
                found => (found, false),
            };
            let end = end.map_or(bytes.len(), |end| start + end);
            self.at = end;
            return Some(Ok(Field {
                text: Cow::Borrowed(&self.line[start..end]),
                plain: self.plain && !quote,
            }));
        }
        let mut end = start + 1;
        let mut escaped = false;
        loop {
            let Some(found) = bytes
                .get(end..)
                .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
            else {
                self.at = bytes.len();
                return Some(Err(RecordError::QuoteNeverEnds { at: start }));
            };
            end += found;
            if bytes[end] == b'"' {
                break;
            }
            escaped = true;
            end += 2;
        }
        self.at = end + 1;
        let inner = &self.line[start + 1..end];
        Some(Ok(match escaped {
            true => Field {
                text: Cow::Owned(unescape(inner)),
                plain: false,
            },
            // Without a backslash the field ends at the first quote: none is left inside it.
            false => Field {
                text: Cow::Borrowed(inner),
                plain: self.plain,
            },
        }))
    }
}

/// `\"` becomes `"` and `\\` becomes `\`; any other backslash is kept.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(next @ ('"' | '\\')) => out.push(next),
            Some(next) => {
                out.push('\\');
                out.push(next);
            }
            None => out.push('\\'),
        }
    }
    out
}

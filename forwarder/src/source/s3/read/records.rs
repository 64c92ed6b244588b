//! An object that is one JSON object whose array member holds the records (CloudTrail's
//! `{"Records":[…]}`, AWS Config's `{"configurationItems":[…]}`), read one record at a time as
//! it streams: the file is never parsed whole, and a record is never held whole either. A
//! small scanner finds where each value ends (strings, escapes and nesting counted, without
//! recursion, so a record nested 100,000 deep costs nothing more), copies the first
//! `MAX_RECORD_BYTES` of a record and passes over the rest: a record longer than that is kept
//! truncated ([`Record::truncated_from`]). The record's own text is checked by the format that
//! reads it, as a line's is.

use std::io::BufRead;

use super::{Output, ParseError, Stopped};
use crate::source::s3::{Chunk, Record, Seek};

/// How a records file is read: the array `member` holds the records, `what` names such a file,
/// `time` reads a record's time.
pub(super) struct RecordsFileOf {
    pub member: &'static str,
    pub what: &'static str,
    pub time: fn(&str) -> Option<i64>,
}

/// The most bytes of a member name kept to compare: longer names are none of the members read.
const KEY_BYTES: usize = 256;

/// Reads `{"<member>":[…]}` one record at a time, each kept up to `max` bytes and its time read
/// by `time`; `what` names such a file in the error of one that is not.
pub(super) fn read<F: FnMut(Chunk, Option<Seek>) -> Result<(), Stopped>>(
    stream: impl BufRead,
    file: RecordsFileOf,
    max: usize,
    out: &mut Output<'_, F>,
) -> Result<(), ParseError> {
    let mut scanner = Scanner::new(stream);
    let result = read_file(&mut scanner, &file, max, out);
    out.bytes += scanner.bytes;
    result.map_err(|failure| match failure {
        Failure::Stopped => ParseError::Stopped,
        Failure::Corrupt(reason) => {
            ParseError::Corrupt(format!("not a {}: {reason} at byte {}", file.what, scanner.bytes))
        }
    })
}

/// Why reading stopped: the chunk callback said so, or the file is not what it should be.
pub(super) enum Failure {
    Stopped,
    Corrupt(String),
}

impl From<std::io::Error> for Failure {
    fn from(err: std::io::Error) -> Failure {
        Failure::Corrupt(format!("reading the object: {err}"))
    }
}

fn corrupt<T>(reason: impl Into<String>) -> Result<T, Failure> {
    Err(Failure::Corrupt(reason.into()))
}

fn read_file<F: FnMut(Chunk, Option<Seek>) -> Result<(), Stopped>>(
    scanner: &mut Scanner<impl BufRead>,
    file: &RecordsFileOf,
    max: usize,
    out: &mut Output<'_, F>,
) -> Result<(), Failure> {
    let member = format!("\"{}\"", file.member);
    scanner.expect(b'{', "an object")?;
    let mut found = false;
    let mut key = Vec::new();
    if scanner.next_byte()? != Some(b'}') {
        loop {
            if scanner.next_byte()? != Some(b'"') {
                return corrupt("expected a member name");
            }
            scanner.value(&mut key, KEY_BYTES)?;
            scanner.expect(b':', "`:`")?;
            if key == member.as_bytes() {
                found = true;
                read_records(scanner, file, max, out)?;
            } else {
                scanner.next_byte()?;
                scanner.value(&mut Vec::new(), 0)?;
            }
            match scanner.next_byte()? {
                Some(b',') => scanner.bump(),
                Some(b'}') => break,
                _ => return corrupt("expected `,` or `}`"),
            }
        }
    }
    scanner.bump();
    if scanner.next_byte()?.is_some() {
        return corrupt("trailing characters");
    }
    match found {
        true => Ok(()),
        false => corrupt(format!("missing field `{}`", file.member)),
    }
}

/// The array of records, from its `[` to its `]`.
fn read_records<F: FnMut(Chunk, Option<Seek>) -> Result<(), Stopped>>(
    scanner: &mut Scanner<impl BufRead>,
    file: &RecordsFileOf,
    max: usize,
    out: &mut Output<'_, F>,
) -> Result<(), Failure> {
    scanner.expect(b'[', "an array of records")?;
    if scanner.next_byte()? == Some(b']') {
        scanner.bump();
        return Ok(());
    }
    let mut number = 0;
    let mut text = Vec::new();
    loop {
        if scanner.next_byte()?.is_none() {
            return corrupt("the array of records ends early");
        }
        number += 1;
        let keep = if number <= out.after { 0 } else { max };
        let length = scanner.value(&mut text, keep)?;
        if number > out.after {
            out.push(record(
                number,
                &mut text,
                length,
                max,
                file.time,
                out.meta.last_modified_ms,
            ))
            .map_err(|err| match err {
                ParseError::Stopped => Failure::Stopped,
                ParseError::Corrupt(reason) => Failure::Corrupt(reason),
            })?;
        }
        match scanner.next_byte()? {
            Some(b',') => scanner.bump(),
            Some(b']') => {
                scanner.bump();
                return Ok(());
            }
            _ => return corrupt("expected `,` or `]` after a record"),
        }
    }
}

/// The record `number` of `length` bytes whose first ones (up to `max`) `text` holds.
fn record(
    number: u64,
    text: &mut Vec<u8>,
    length: u64,
    max: usize,
    time: fn(&str) -> Option<i64>,
    default_ms: i64,
) -> Record {
    let truncated_from = (length > max as u64).then_some(length);
    if truncated_from.is_some() {
        text.truncate(crate::limits::utf8_prefix_len(text));
    }
    let text = match String::from_utf8(std::mem::take(text)) {
        Ok(text) => text,
        Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
    };
    Record {
        number,
        timestamp: time(&text).unwrap_or(default_ms),
        text,
        truncated_from,
    }
}

/// The object's bytes, read through and counted.
pub(super) struct Scanner<R> {
    inner: R,
    bytes: u64,
}

impl<R: BufRead> Scanner<R> {
    pub(super) fn new(inner: R) -> Scanner<R> {
        Scanner { inner, bytes: 0 }
    }

    /// The bytes read so far.
    pub(super) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Reads the rest of a line (to its newline, or the end), copying its first `keep` bytes
    /// into `text` (cleared first); the length it had when longer than `keep`.
    pub(super) fn line(&mut self, text: &mut Vec<u8>, keep: usize) -> std::io::Result<Option<u64>> {
        let (read, truncated_from) = super::read_line(&mut self.inner, text, keep)?;
        self.bytes += read;
        Ok(truncated_from)
    }

    /// The next byte that is not whitespace, not consumed; `None` at the end.
    pub(super) fn next_byte(&mut self) -> std::io::Result<Option<u8>> {
        loop {
            let available = self.inner.fill_buf()?;
            let Some(&first) = available.first() else {
                return Ok(None);
            };
            let blank = available.iter().take_while(|b| b.is_ascii_whitespace()).count();
            if blank == 0 {
                return Ok(Some(first));
            }
            self.inner.consume(blank);
            self.bytes += blank as u64;
        }
    }

    /// Consumes one byte (one [`Scanner::next_byte`] saw).
    fn bump(&mut self) {
        self.inner.consume(1);
        self.bytes += 1;
    }

    /// Consumes `byte`, after whitespace, or fails naming `what` was expected.
    fn expect(&mut self, byte: u8, what: &str) -> Result<(), Failure> {
        match self.next_byte()? {
            Some(found) if found == byte => {
                self.bump();
                Ok(())
            }
            _ => corrupt(format!("expected {what}")),
        }
    }

    /// Reads one JSON value that starts at the next byte (not whitespace), copying its first
    /// `keep` bytes into `text` (cleared first); returns its length. Strings and their escapes
    /// are followed and brackets counted, without recursion; what lies between them is not
    /// checked.
    pub(super) fn value(&mut self, text: &mut Vec<u8>, keep: usize) -> Result<u64, Failure> {
        text.clear();
        let mut value = ValueEnd::default();
        let mut length = 0u64;
        loop {
            let available = self.inner.fill_buf()?;
            if available.is_empty() {
                return match value.scalar {
                    true => Ok(length),
                    false => corrupt("the file ends inside a value"),
                };
            }
            let (used, done) = value.scan(available)?;
            let room = keep.saturating_sub(text.len());
            text.extend_from_slice(&available[..used.min(room)]);
            length += used as u64;
            self.inner.consume(used);
            self.bytes += used as u64;
            if done {
                return Ok(length);
            }
        }
    }
}

/// Where a value being read is: inside a string (after a backslash), how deep in brackets,
/// whether it is a bare number or literal.
#[derive(Default)]
struct ValueEnd {
    started: bool,
    in_string: bool,
    escaped: bool,
    scalar: bool,
    depth: u64,
}

impl ValueEnd {
    /// How many bytes of `bytes` belong to the value, and whether it ends there.
    fn scan(&mut self, bytes: &[u8]) -> Result<(usize, bool), Failure> {
        let mut at = 0;
        while at < bytes.len() {
            let byte = bytes[at];
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if byte == b'\\' {
                    self.escaped = true;
                } else if byte == b'"' {
                    self.in_string = false;
                    if self.depth == 0 {
                        return Ok((at + 1, true));
                    }
                } else {
                    // The rest of the string up to a quote or a backslash, at once.
                    at += memchr::memchr2(b'"', b'\\', &bytes[at..]).unwrap_or(bytes.len() - at);
                    continue;
                }
                at += 1;
                continue;
            }
            if self.scalar {
                if byte.is_ascii_whitespace() || matches!(byte, b',' | b']' | b'}' | b':') {
                    return Ok((at, true));
                }
                at += 1;
                continue;
            }
            match byte {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    if self.depth == 0 {
                        return corrupt("a bracket closes what was not open");
                    }
                    self.depth -= 1;
                    if self.depth == 0 {
                        return Ok((at + 1, true));
                    }
                }
                b',' | b':' if !self.started => return corrupt("expected a value"),
                _ if !self.started => self.scalar = true,
                _ => {}
            }
            self.started = true;
            at += 1;
        }
        Ok((at, false))
    }
}

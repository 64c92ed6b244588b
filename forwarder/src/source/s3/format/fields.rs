//! The writer of a format's typed fields: the inside of a JSON object, each value checked
//! against its type as it is written (`-` and empty values left out, as AWS means "no value").

use std::fmt::Write as _;

use super::RecordError;
use crate::json::{self, push_f64, push_key, push_text};

/// Writes the fields of a JSON object into a string, escaped, without the braces: a string of
/// its own, or the end of a document being written ([`FieldWriter::after_known_keys`]).
#[derive(Debug, Default)]
pub struct FieldWriter {
    out: String,
    /// Where the fields start in `out`.
    start: usize,
    /// Whether every key is one of a layout's own column names, which need no escaping (each
    /// layout's test checks them): copied without looking.
    known_keys: bool,
}

impl FieldWriter {
    pub fn with_capacity(capacity: usize) -> Self {
        FieldWriter {
            out: String::with_capacity(capacity),
            start: 0,
            known_keys: false,
        }
    }

    /// Writes a layout's columns after what `out` holds (taken back with
    /// [`FieldWriter::finish`]), so that a document's fields need no string of their own. Every
    /// key must be one of the layout's own names.
    pub(super) fn after_known_keys(out: String) -> Self {
        FieldWriter {
            start: out.len(),
            out,
            known_keys: true,
        }
    }

    fn key(&mut self, key: &str) {
        if self.out.len() > self.start {
            self.out.push(',');
        }
        if self.known_keys {
            debug_assert!(json::is_plain(key), "{key:?} is not a plain key");
            self.out.push('"');
            self.out.push_str(key);
            self.out.push_str("\":");
        } else {
            push_key(&mut self.out, key);
        }
    }

    /// A string field, copied as it is when `plain` (known to need no escaping, see
    /// [`positional`]'s fields); `-` and empty leave it out.
    pub(super) fn text(&mut self, key: &str, value: &str, plain: bool) {
        if value != "-" && !value.is_empty() {
            self.key(key);
            push_text(&mut self.out, value, plain);
        }
    }

    /// Starts a field whose value the caller writes into the string returned.
    pub(super) fn raw_key(&mut self, key: &str) -> &mut String {
        self.key(key);
        &mut self.out
    }

    /// The string written into, to go on with a value begun after [`FieldWriter::raw_key`].
    pub(super) fn raw(&mut self) -> &mut String {
        &mut self.out
    }

    /// A string field; AWS's `-` (no value) and the empty string leave it out.
    pub fn str(&mut self, key: &str, value: &str) {
        self.text(key, value, false);
    }

    /// A whole number field, parsed from text; `-` and empty leave it out, anything else that is
    /// not a number is an error naming the field.
    pub(crate) fn int(&mut self, key: &str, value: &str) -> Result<Option<i64>, RecordError> {
        if value == "-" || value.is_empty() {
            return Ok(None);
        }
        let read = whole_number(value).ok_or_else(|| RecordError::value(key, "a whole number", value))?;
        self.key(key);
        push_whole(&mut self.out, value, read);
        Ok(Some(read.0))
    }

    /// A number field (times in seconds, ratios), parsed from text; `-` and empty leave it out.
    /// Returns whether it was written.
    pub(crate) fn float(&mut self, key: &str, value: &str) -> Result<bool, RecordError> {
        if value == "-" || value.is_empty() {
            return Ok(false);
        }
        if is_json_number(value) {
            // The text is the number as JSON writes it (`0.001`, `-1`): copied as it is, which
            // is the same number and saves a parse and a format on every field of every line.
            self.key(key);
            self.out.push_str(value);
            return Ok(true);
        }
        let number: f64 = value
            .parse()
            .ok()
            .filter(|n: &f64| n.is_finite())
            .ok_or_else(|| RecordError::value(key, "a number", value))?;
        self.key(key);
        push_f64(&mut self.out, number);
        Ok(true)
    }

    /// A field whose value is already JSON (an object or array kept as it is).
    pub(crate) fn raw_json(&mut self, key: &str, json: &str) {
        self.key(key);
        self.out.push_str(json);
    }

    /// A list of strings: the `extra_fields` a line holds after those its layout names, or the
    /// `missing_fields` it has no value for (CloudFront's, flow logs').
    pub(super) fn string_list<S: AsRef<str>>(&mut self, key: &str, items: impl Iterator<Item = S>) {
        self.key(key);
        self.out.push('[');
        for (n, item) in items.enumerate() {
            if n > 0 {
                self.out.push(',');
            }
            json::push_str(&mut self.out, item.as_ref());
        }
        self.out.push(']');
    }

    /// A boolean field.
    pub fn bool(&mut self, key: &str, value: bool) {
        self.key(key);
        self.out.push_str(if value { "true" } else { "false" });
    }

    /// The fields written so far: the inside of a JSON object.
    pub fn finish(self) -> String {
        self.out
    }
}

/// A whole number's value, and whether `text` is already the number as JSON writes it (`200`,
/// `-1`; not `007` or `+1`), to be copied rather than formatted again.
pub(super) fn whole_number(text: &str) -> Option<(i64, bool)> {
    if let Some(number) = json_digits(text) {
        // Read and checked in one pass: most numbers of a log are plain digits.
        return Some((number, true));
    }
    let number = text.parse().ok()?;
    Some((number, is_json_number(text)))
}

/// Appends the number [`whole_number`] read from `text`.
pub(super) fn push_whole(out: &mut String, text: &str, (number, as_written): (i64, bool)) {
    match as_written {
        true => out.push_str(text),
        false => {
            let _ = write!(out, "{number}");
        }
    }
}

/// The value of a whole number of at most 18 digits written as JSON writes it (`200`, not `007`,
/// `+1` or `-1`, which [`FieldWriter::int`] reads the longer way).
fn json_digits(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.is_empty() || bytes.len() > 18 || (bytes.len() > 1 && bytes[0] == b'0') {
        return None;
    }
    bytes.iter().try_fold(0i64, |number, &byte| {
        byte.is_ascii_digit()
            .then(|| number * 10 + i64::from(byte - b'0'))
    })
}

/// Whether `text` is a number in JSON's own grammar (`-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`),
/// so it can be written as it is.
fn is_json_number(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = usize::from(bytes.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while bytes.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    let whole_start = i;
    match digits(&mut i) {
        0 => return false,
        n if n > 1 && bytes[whole_start] == b'0' => return false,
        _ => {}
    }
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_json_grammar_are_copied_and_others_rewritten() {
        for number in ["0", "-1", "0.001", "12.5", "1e3", "2.5E-4", "-0.0"] {
            assert!(is_json_number(number), "{number}");
        }
        for text in [
            "", "-", "007", "1.", ".5", "+1", "1e", "0x1", "1.2.3", "NaN", "1 ",
        ] {
            assert!(!is_json_number(text), "{text}");
        }
        let mut out = FieldWriter::default();
        assert!(out.float("a", "1.").unwrap());
        assert!(out.float("b", "+0.5").unwrap());
        assert_eq!(out.int("c", "007").unwrap(), Some(7));
        assert!(out.float("d", "inf").is_err());
        assert_eq!(out.finish(), r#""a":1,"b":0.5,"c":7"#);
    }

    #[test]
    fn whole_numbers_read_in_one_pass_or_the_longer_way_alike() {
        for text in ["0", "7", "200", "366", "999999999999999999"] {
            assert_eq!(json_digits(text), text.parse().ok(), "{text}");
        }
        for text in ["", "007", "-1", "+1", "1.5", "2x", "9999999999999999999"] {
            assert_eq!(json_digits(text), None, "{text}");
        }
        let mut out = FieldWriter::default();
        let read: Vec<Option<i64>> = ["200", "-1", "0", "+3", "-"]
            .iter()
            .map(|text| out.int("n", text).unwrap())
            .collect();
        assert_eq!(read, [Some(200), Some(-1), Some(0), Some(3), None]);
        assert_eq!(out.finish(), r#""n":200,"n":-1,"n":0,"n":3"#);
        assert!(FieldWriter::default().int("n", "1.5").is_err());
    }

    #[test]
    fn the_writer_leaves_out_what_aws_writes_as_a_dash() {
        let mut out = FieldWriter::default();
        out.str("a", "-");
        out.str("b", "x\"y");
        assert_eq!(out.int("c", "-1").unwrap(), Some(-1));
        assert!(out.float("d", "0.001").unwrap());
        assert!(
            out.int("e", "abc")
                .unwrap_err()
                .to_string()
                .contains("e is not a whole number")
        );
        assert_eq!(out.finish(), r#""b":"x\"y","c":-1,"d":0.001"#);
    }
}

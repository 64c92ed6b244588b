//! Writing JSON straight into a `String`: escaped strings, numbers, RFC 3339 timestamps.
//! Faster than building `serde_json::Value` trees for every event, and allocation-free.

use std::fmt::Write as _;

use crate::civil::civil_from_ms;

pub mod shape;
mod unique;

#[cfg(test)]
pub(crate) use self::unique::repeats_a_key;
pub(crate) use self::unique::{push_json_unique, unique_members};

/// What a byte becomes inside a JSON string: 0 stays as it is, `u` is written `\u00XX`, any
/// other value is the letter after a backslash (the table serde_json uses).
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = b'u';
        byte += 1;
    }
    table[b'\n' as usize] = b'n';
    table[b'\r' as usize] = b'r';
    table[b'\t' as usize] = b't';
    table[0x08] = b'b';
    table[0x0c] = b'f';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// The bytes of `word` that need escaping in a JSON string: a control byte (below 0x20), a quote
/// or a backslash, each marked by its high bit. Bit tricks on a `u64`
/// (<https://graphics.stanford.edu/~seander/bithacks.html#HasLessInWord>): a word with no such
/// byte gives 0, and otherwise the lowest mark is exact (marks above it may be false).
fn escape_marks(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let below_0x20 = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    below_0x20 | has_zero(word ^ (ONES * u64::from(b'"'))) | has_zero(word ^ (ONES * u64::from(b'\\')))
}

/// From `at`, the position of the first byte of `bytes` that may need escaping (the length when
/// none does), 16 bytes at a time. The bytes after the last whole 16 are checked in one step too,
/// in the words that end the string (they overlap bytes before `at`, whose marks are dropped), so
/// that a short string (a field's value, a key) costs one check, not a loop. From `at` 0 the
/// position is exact; from further on it may be a byte that needs no escaping (a false mark above
/// one dropped), which the caller copies as it is.
fn skip_plain(bytes: &[u8], mut at: usize) -> usize {
    while let Some(chunk) = bytes.get(at..at + 16) {
        match first_mark(chunk.try_into().expect("sixteen bytes")) {
            Some(mark) => return at + mark,
            None => at += 16,
        }
    }
    let len = bytes.len();
    if at >= len {
        return len;
    }
    if len < 8 {
        return bytes[at..]
            .iter()
            .position(|&byte| ESCAPE[usize::from(byte)] != 0)
            .map_or(len, |mark| at + mark);
    }
    // The words of the last 16 bytes (or of all, between 8 and 16), in order; each word's marks
    // before `at` are dropped.
    let starts = match len >= 16 {
        true => [len - 16, len - 8],
        false => [0, len - 8],
    };
    for start in starts {
        let word = u64::from_le_bytes(bytes[start..start + 8].try_into().expect("eight bytes"));
        let marks = match at.saturating_sub(start) {
            0 => escape_marks(word),
            skip @ 1..8 => escape_marks(word) & (u64::MAX << (8 * skip)),
            _ => 0,
        };
        if marks != 0 {
            return start + (marks.trailing_zeros() / 8) as usize;
        }
    }
    len
}

/// Whether `text` needs no escaping in a JSON string.
pub(crate) fn is_plain(text: &str) -> bool {
    skip_plain(text.as_bytes(), 0) == text.len()
}

/// The position of the first byte of `block` that may need escaping.
fn first_mark(block: &[u8; 16]) -> Option<usize> {
    let (low, high) = block.split_at(8);
    let low = escape_marks(u64::from_le_bytes(low.try_into().expect("eight bytes")));
    let high = escape_marks(u64::from_le_bytes(high.try_into().expect("eight bytes")));
    match (low, high) {
        (0, 0) => None,
        (0, high) => Some(8 + (high.trailing_zeros() / 8) as usize),
        (low, _) => Some((low.trailing_zeros() / 8) as usize),
    }
}

/// Where escaped JSON text goes: a `String` (document sources) or bytes (`_bulk` bodies).
trait Out {
    fn text(&mut self, text: &str);
    /// An ASCII byte.
    fn ascii(&mut self, byte: u8);
}

impl Out for String {
    fn text(&mut self, text: &str) {
        self.push_str(text);
    }

    fn ascii(&mut self, byte: u8) {
        self.push(char::from(byte));
    }
}

impl Out for Vec<u8> {
    fn text(&mut self, text: &str) {
        self.extend_from_slice(text.as_bytes());
    }

    fn ascii(&mut self, byte: u8) {
        self.push(byte);
    }
}

/// Appends `text` as a JSON string literal.
pub fn push_str(out: &mut String, text: &str) {
    out.reserve(text.len() + 2);
    escape_into(out, text);
}

/// [`push_str`], or, when the caller knows that `text` needs no escaping (`plain`; checked in
/// debug builds), a copy between quotes.
pub fn push_text(out: &mut String, text: &str, plain: bool) {
    if !plain {
        return push_str(out, text);
    }
    debug_assert!(is_plain(text), "{text:?} needs escaping");
    out.reserve(text.len() + 2);
    out.push('"');
    out.push_str(text);
    out.push('"');
}

/// [`push_str`] for a text known to hold no backslash and no control byte (an access log line
/// its parser found so), whose quotes are then all there is to escape: found by memchr's SIMD
/// search rather than checked for every escape.
pub(crate) fn push_str_quotes_only(out: &mut String, text: &str) {
    debug_assert!(
        !text.bytes().any(|byte| byte < 0x20 || byte == b'\\'),
        "{text:?} has more than quotes to escape"
    );
    out.reserve(text.len() + 18);
    out.push('"');
    let mut copied = 0;
    for quote in memchr::memchr_iter(b'"', text.as_bytes()) {
        out.push_str(&text[copied..quote]);
        out.push_str("\\\"");
        copied = quote + 1;
    }
    out.push_str(&text[copied..]);
    out.push('"');
}

/// Appends `text` as a JSON string literal to bytes.
pub fn push_json_str_bytes(out: &mut Vec<u8>, text: &str) {
    out.reserve(text.len() + 2);
    escape_into(out, text);
}

fn escape_into(out: &mut impl Out, text: &str) {
    out.ascii(b'"');
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut at = 0;
    loop {
        // Most of a log line needs no escaping: skipped 16 bytes at a time.
        at = skip_plain(bytes, at);
        let Some(&byte) = bytes.get(at) else {
            break;
        };
        let escape = ESCAPE[usize::from(byte)];
        at += 1;
        if escape == 0 {
            continue;
        }
        out.text(&text[start..at - 1]);
        out.ascii(b'\\');
        if escape == b'u' {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            for digit in [
                b'u',
                b'0',
                b'0',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 0xf)],
            ] {
                out.ascii(digit);
            }
        } else {
            out.ascii(escape);
        }
        start = at;
    }
    out.text(&text[start..]);
    out.ascii(b'"');
}

/// Appends `,"key":"value"` for each of `fields`, escaped.
pub(crate) fn push_string_fields(out: &mut String, fields: &[(&str, &str)]) {
    for (key, value) in fields {
        out.push(',');
        push_key(out, key);
        push_str(out, value);
    }
}

/// Appends `,"name":{"key":"value",…}`, every key and value escaped.
pub(crate) fn push_string_object<K: AsRef<str>, V: AsRef<str>>(
    out: &mut String,
    name: &str,
    pairs: impl IntoIterator<Item = (K, V)>,
) {
    out.push(',');
    push_key(out, name);
    out.push('{');
    for (i, (key, value)) in pairs.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_key(out, key.as_ref());
        push_str(out, value.as_ref());
    }
    out.push('}');
}

/// Appends `"key":`. Keys are nearly always names that need no escaping (the formats' own field
/// names): those are copied whole.
pub(crate) fn push_key(out: &mut String, key: &str) {
    if is_plain(key) {
        out.reserve(key.len() + 3);
        out.push('"');
        out.push_str(key);
        out.push_str("\":");
    } else {
        push_str(out, key);
        out.push(':');
    }
}

/// Appends a number, or `null` for a value JSON cannot hold (infinity, NaN).
pub(crate) fn push_f64(out: &mut String, value: f64) {
    if value.is_finite() {
        let _ = write!(out, "{value}");
    } else {
        out.push_str("null");
    }
}

/// Appends a JSON text that is known to be valid, on one line: outside strings a line break
/// can only be whitespace (inside a string JSON forbids it), so it becomes a space.
pub(crate) fn push_raw_json(out: &mut String, json: &str) {
    if memchr::memchr2(b'\n', b'\r', json.as_bytes()).is_some() {
        out.extend(json.chars().map(|c| if c == '\n' || c == '\r' { ' ' } else { c }));
    } else {
        out.push_str(json);
    }
}

/// Whether OpenSearch's `date` type (`strict_date_optional_time`) accepts the timestamp's
/// four-digit year.
pub(crate) fn in_date_range(ms: i64) -> bool {
    (0..=9999).contains(&civil_from_ms(ms).0.0)
}

/// Appends `"2026-11-22T13:45:00.123Z"`, digit by digit (the hottest formatting of a document);
/// a year outside 0 to 9999, which OpenSearch does not take as a date ([`in_date_range`]), as
/// `{year:04}` writes it.
pub(crate) fn push_timestamp(out: &mut String, ms: i64) {
    let ((year, month, day), hour) = civil_from_ms(ms);
    let in_day = ms.rem_euclid(3_600_000);
    let (minute, second, milli) = (in_day / 60_000, (in_day / 1000) % 60, in_day % 1000);
    out.push('"');
    if (0..=9999).contains(&year) {
        push_digits(out, year as u32, 4);
    } else {
        let _ = write!(out, "{year:04}");
    }
    for (separator, value, width) in [
        ('-', month, 2),
        ('-', day, 2),
        ('T', hour, 2),
        (':', minute as u32, 2),
        (':', second as u32, 2),
        ('.', milli as u32, 3),
    ] {
        out.push(separator);
        push_digits(out, value, width);
    }
    out.push_str("Z\"");
}

/// Appends a whole number's digits, without the formatting machinery of `write!` (it runs for
/// several numbers of every document).
pub fn push_u64(out: &mut String, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    out.extend(digits[start..].iter().map(|&digit| char::from(digit)));
}

/// Appends `value` as exactly `width` decimal digits (zero-padded; `value` fits).
fn push_digits(out: &mut String, value: u32, width: u32) {
    let mut divisor = 10u32.pow(width - 1);
    while divisor > 0 {
        out.push(char::from(b'0' + (value / divisor % 10) as u8));
        divisor /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_like_serde_json() {
        for text in [
            "plain",
            "quote \" back \\ slash",
            "line\nbreak\ttab\r",
            "\u{1}ctl\u{1f}",
            "ünïcode ✓",
            "",
        ] {
            let mut out = String::new();
            push_str(&mut out, text);
            assert_eq!(out, serde_json::to_string(text).expect("serialisable"));
        }
    }

    #[test]
    fn timestamps_match_chrono() {
        for ms in [
            0,
            1_795_355_100_123,
            1_795_391_999_999,
            -1,
            951_782_400_000,
            253_402_300_799_999,
        ] {
            let mut out = String::new();
            push_timestamp(&mut out, ms);
            let want = chrono::DateTime::from_timestamp_millis(ms)
                .expect("in range")
                .format("\"%Y-%m-%dT%H:%M:%S%.3fZ\"")
                .to_string();
            assert_eq!(out, want, "{ms}");
        }
        assert!(in_date_range(253_402_300_799_999));
        assert!(!in_date_range(253_402_300_800_000));
    }

    #[test]
    fn raw_json_is_kept_on_one_line() {
        let mut out = String::new();
        push_raw_json(&mut out, "{\n  \"a\": \"x\\ny\"\r\n}");
        assert_eq!(out, "{   \"a\": \"x\\ny\"  }");
    }

    #[test]
    fn numbers() {
        let mut out = String::new();
        push_f64(&mut out, 2.39);
        out.push(',');
        push_f64(&mut out, f64::INFINITY);
        assert_eq!(out, "2.39,null");
    }
}

#[cfg(test)]
mod escape_tests {
    use super::*;

    #[test]
    fn push_str_escapes_as_serde_json_does() {
        let mut every_byte = String::new();
        for byte in 0u8..=0x7f {
            every_byte.push(char::from(byte));
        }
        for text in [
            "",
            "plain text without anything to escape, longer than eight bytes",
            "tab\there and a \"quote\" and a \\ backslash",
            "\u{1}\u{1f}\u{7f} ünïcödé → ✓ \"",
            "1234567\"",
            "12345678\n",
            every_byte.as_str(),
        ] {
            let mut out = String::new();
            push_str(&mut out, text);
            let back: String = serde_json::from_str(&out).expect("valid JSON string");
            assert_eq!(back, text);
            assert_eq!(out, serde_json::to_string(text).expect("serialises"), "{text:?}");
        }
    }

    #[test]
    fn strings_of_every_length_with_escapes_anywhere_are_written_as_serde_writes_them() {
        // The short strings' words overlap, and the marks before a restart are dropped: every
        // length up to 40, with no escape, one, or two (the second after the first's restart).
        for len in 0..40 {
            let plain = "abcdefghijklmnopqrstuvwxyz0123456789ABCD"[..len].to_owned();
            let mut texts = vec![plain.clone()];
            for first in 0..len {
                for second in first..len {
                    let mut text = plain.clone().into_bytes();
                    text[first] = b'"';
                    text[second] = [b'\\', b'\n', b'"'][second % 3];
                    texts.push(String::from_utf8(text).expect("ASCII"));
                }
            }
            for text in texts {
                let mut out = String::new();
                push_str(&mut out, &text);
                assert_eq!(out, serde_json::to_string(&text).expect("serialises"), "{text:?}");
                assert_eq!(is_plain(&text), text == plain, "{text:?}");
            }
        }
    }

    #[test]
    fn quotes_only_escaping_writes_what_push_str_writes() {
        for text in [
            "",
            "\"",
            "a",
            r#"h2 "GET / HTTP/2.0" "curl/8" "-" x"#,
            "\"\"é\"",
            "no quote at all",
        ] {
            let (mut quick, mut full) = (String::from("x"), String::from("x"));
            push_str_quotes_only(&mut quick, text);
            push_str(&mut full, text);
            assert_eq!(quick, full, "{text:?}");
        }
    }

    #[test]
    fn whole_numbers_are_written_as_display_writes_them() {
        for value in [0, 1, 9, 10, 99, 100, 65_535, 1_795_946_400_000, u64::MAX] {
            let mut out = String::from("x");
            push_u64(&mut out, value);
            assert_eq!(out, format!("x{value}"));
        }
    }

    /// The 16-byte skip finds a byte to escape wherever it is, and next to multi-byte characters.
    #[test]
    fn every_escape_is_found_at_every_position() {
        for special in (0u8..0x20).chain([b'"', b'\\']) {
            for at in 0..40 {
                for filler in ["a", "é"] {
                    let mut text: String = filler.repeat(40);
                    let position = text.char_indices().nth(at).map_or(text.len(), |(i, _)| i);
                    text.insert(position, char::from(special));
                    let mut out = String::new();
                    push_str(&mut out, &text);
                    assert_eq!(out, serde_json::to_string(&text).expect("serialises"), "{text:?}");
                }
            }
        }
    }
}

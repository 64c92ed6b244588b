//! Access logs that AWS services write to S3, parsed into typed fields: each format in its own
//! module, as AWS documents it (the module cites the page).
//!
//! A parser reads one line and writes the format's own fields (AWS's names in snake_case, numbers
//! as numbers, `-` left out) with a [`FieldWriter`], and fills the [`Shared`] fields every access
//! log has in some form, so one dashboard can show them all. A line that does not parse is an
//! error naming why: its document keeps the raw line with a `parse_error`, never dropped.

pub mod alb;
pub mod cloudfront;
pub mod elb;
pub mod nlb;
mod positional;
pub mod s3access;
pub mod vpcflow;
pub mod waf;

use std::borrow::Cow;
use std::fmt::Write as _;

use super::write::{self, push_f64, push_key, push_text};
use crate::source::s3::Format;

/// What one access log line says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccessRecord<'a> {
    /// The record's own time, in milliseconds since the epoch.
    pub time_ms: Option<i64>,
    /// The format's fields: the inside of a JSON object (`"a":1,"b":"x"`), no braces.
    pub fields: String,
    pub shared: Shared<'a>,
}

impl AccessRecord<'_> {
    /// The record with nothing borrowed from its line.
    pub fn into_owned(self) -> AccessRecord<'static> {
        AccessRecord {
            time_ms: self.time_ms,
            fields: self.fields,
            shared: self.shared.into_owned(),
        }
    }
}

impl Shared<'_> {
    /// The shared fields with nothing borrowed from the line.
    pub fn into_owned(self) -> Shared<'static> {
        let owned = |text: Option<Cow<'_, str>>| text.map(|text| Cow::Owned(text.into_owned()));
        Shared {
            client_ip: owned(self.client_ip),
            client_port: self.client_port,
            http_method: owned(self.http_method),
            http_status_code: self.http_status_code,
            url_original: owned(self.url_original),
            user_agent: owned(self.user_agent),
            bytes: self.bytes,
        }
    }
}

/// The fields every access log fills where it has them (`client.ip`, `http.status_code`, …);
/// the text ones borrowed from the line where it holds them as they are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shared<'a> {
    pub client_ip: Option<Cow<'a, str>>,
    pub client_port: Option<u16>,
    pub http_method: Option<Cow<'a, str>>,
    pub http_status_code: Option<u16>,
    pub url_original: Option<Cow<'a, str>>,
    pub user_agent: Option<Cow<'a, str>>,
    /// Bytes sent to the client (or transferred, for flow logs).
    pub bytes: Option<u64>,
}

/// The mapping type of a format's field, for its index template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Keyword,
    Text,
    Long,
    Double,
    Ip,
    Date,
    Boolean,
    /// A JSON object kept as it is (WAF's nested structures).
    Object,
}

/// Context a parser may need beyond the line: the field names of the header line that came
/// before it (CloudFront's `#Fields:`, a VPC flow log's first line).
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    pub header: Option<&'a [String]>,
}

/// What [`parse_into`] gives besides the fields it writes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed<'a> {
    /// The record's own time, in milliseconds since the epoch.
    pub time_ms: Option<i64>,
    pub shared: Shared<'a>,
    /// Whether the shared texts are known to need no JSON escaping.
    pub shared_plain: bool,
    /// Whether the line is known to hold no backslash and no control byte: its quotes are then
    /// all that JSON escaping changes.
    pub quotes_only: bool,
}

/// Parses one line of `format`, writing the format's fields at the end of `out` (the inside of
/// a JSON object, no braces). `None` for a format that is not an access log. On an error, what
/// was written is left for the caller to cut.
pub fn parse_into<'a>(
    format: Format,
    line: &'a str,
    context: Context<'_>,
    out: &mut String,
) -> Option<Result<Parsed<'a>, String>> {
    let layout = match format {
        Format::Alb => &alb::ACCESS,
        Format::AlbConnection => &alb::CONNECTION,
        Format::Nlb => &nlb::LAYOUT,
        Format::Elb => &elb::LAYOUT,
        _ => {
            return parse(format, line, context).map(|parsed| {
                parsed.map(|record| {
                    out.push_str(&record.fields);
                    Parsed {
                        time_ms: record.time_ms,
                        shared: record.shared,
                        shared_plain: false,
                        quotes_only: false,
                    }
                })
            });
        }
    };
    Some(layout.parse_into(line, out))
}

/// Parses one line of `format`. `None` for a format that is not an access log.
pub fn parse<'a>(
    format: Format,
    line: &'a str,
    context: Context<'_>,
) -> Option<Result<AccessRecord<'a>, String>> {
    Some(match format {
        Format::Alb => alb::parse(line),
        Format::AlbConnection => alb::parse_connection(line),
        Format::Nlb => nlb::parse(line),
        Format::Elb => elb::parse(line),
        Format::Cloudfront => cloudfront::parse(line, context),
        Format::Waf => waf::parse(line),
        Format::S3Access => s3access::parse(line),
        Format::VpcFlow => vpcflow::parse(line, context),
        Format::CloudwatchFirehose | Format::Cloudtrail | Format::JsonLines | Format::TextLines => {
            return None;
        }
    })
}

/// The typed fields of an access log format, for its index template. `None` for a format that is
/// not an access log.
pub fn fields(format: Format) -> Option<&'static [(&'static str, FieldType)]> {
    Some(match format {
        Format::Alb => alb::FIELDS,
        Format::AlbConnection => alb::CONNECTION_FIELDS,
        Format::Nlb => nlb::FIELDS,
        Format::Elb => elb::FIELDS,
        Format::Cloudfront => cloudfront::FIELDS,
        Format::Waf => waf::FIELDS,
        Format::S3Access => s3access::FIELDS,
        Format::VpcFlow => vpcflow::FIELDS,
        Format::CloudwatchFirehose | Format::Cloudtrail | Format::JsonLines | Format::TextLines => {
            return None;
        }
    })
}

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
    fn after_known_keys(out: String) -> Self {
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
            debug_assert!(write::is_plain(key), "{key:?} is not a plain key");
            self.out.push('"');
            self.out.push_str(key);
            self.out.push_str("\":");
        } else {
            push_key(&mut self.out, key);
        }
    }

    /// A string field, copied as it is when `plain` (known to need no escaping, see
    /// [`positional`]'s fields); `-` and empty leave it out.
    fn text(&mut self, key: &str, value: &str, plain: bool) {
        if value != "-" && !value.is_empty() {
            self.key(key);
            push_text(&mut self.out, value, plain);
        }
    }

    /// Starts a field whose value the caller writes into the string returned.
    fn raw_key(&mut self, key: &str) -> &mut String {
        self.key(key);
        &mut self.out
    }

    /// The string written into, to go on with a value begun after [`FieldWriter::raw_key`].
    fn raw(&mut self) -> &mut String {
        &mut self.out
    }

    /// A string field; AWS's `-` (no value) and the empty string leave it out.
    pub fn str(&mut self, key: &str, value: &str) {
        self.text(key, value, false);
    }

    /// A whole number field, parsed from text; `-` and empty leave it out, anything else that is
    /// not a number is an error naming the field.
    pub fn int(&mut self, key: &str, value: &str) -> Result<Option<i64>, String> {
        if value == "-" || value.is_empty() {
            return Ok(None);
        }
        let read = whole_number(value).ok_or_else(|| format!("{key} is not a whole number: {value:?}"))?;
        self.key(key);
        push_whole(&mut self.out, value, read);
        Ok(Some(read.0))
    }

    /// A number field (times in seconds, ratios), parsed from text; `-` and empty leave it out.
    /// Returns whether it was written.
    pub fn float(&mut self, key: &str, value: &str) -> Result<bool, String> {
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
            .ok_or_else(|| format!("{key} is not a number: {value:?}"))?;
        self.key(key);
        push_f64(&mut self.out, number);
        Ok(true)
    }

    /// A field whose value is already JSON (an object or array kept as it is).
    pub fn raw_json(&mut self, key: &str, json: &str) {
        self.key(key);
        self.out.push_str(json);
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
fn whole_number(text: &str) -> Option<(i64, bool)> {
    if let Some(number) = json_digits(text) {
        // Read and checked in one pass: most numbers of a log are plain digits.
        return Some((number, true));
    }
    let number = text.parse().ok()?;
    Some((number, is_json_number(text)))
}

/// Appends the number [`whole_number`] read from `text`.
fn push_whole(out: &mut String, text: &str, (number, as_written): (i64, bool)) {
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

/// Splits a line of space-separated fields where a field may be `"quoted"` (with `\"` inside);
/// quotes are removed and `\"` unescaped.
pub fn split_quoted(line: &str) -> Result<Vec<std::borrow::Cow<'_, str>>, String> {
    use std::borrow::Cow;
    let bytes = line.as_bytes();
    let mut fields = Vec::with_capacity(32);
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' => i += 1,
            b'"' => {
                let start = i + 1;
                let mut end = start;
                let mut escaped = false;
                loop {
                    match bytes.get(end) {
                        None => return Err(format!("a quoted field that starts at byte {i} never ends")),
                        Some(b'\\') => {
                            escaped = true;
                            end += 2;
                        }
                        Some(b'"') => break,
                        Some(_) => end += 1,
                    }
                }
                let end = end.min(bytes.len());
                let inner = &line[start..end];
                fields.push(match escaped {
                    true => Cow::Owned(inner.replace("\\\"", "\"").replace("\\\\", "\\")),
                    false => Cow::Borrowed(inner),
                });
                i = end + 1;
            }
            _ => {
                let start = i;
                while i < bytes.len() && bytes[i] != b' ' {
                    i += 1;
                }
                fields.push(Cow::Borrowed(&line[start..i]));
            }
        }
    }
    Ok(fields)
}

/// Splits `address:port` (IPv4 `10.0.0.1:443`, IPv6 `2001:db8::1:443` or `[2001:db8::1]:443`)
/// into its address and port; `None` for `-`.
pub fn split_address(value: &str) -> Option<(&str, Option<u16>)> {
    if value == "-" || value.is_empty() {
        return None;
    }
    if let Some(rest) = value.strip_prefix('[') {
        let (address, port) = rest.split_once("]:").unwrap_or((rest.trim_end_matches(']'), ""));
        return Some((address, port.parse().ok()));
    }
    match value.rsplit_once(':') {
        Some((address, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !port.is_empty() => {
            Some((address, port.parse().ok()))
        }
        _ => Some((value, None)),
    }
}

/// Whether `text` is an IP address as `IpAddr`'s parser reads one. A dotted IPv4 address, most of
/// an access log's, is checked by hand first (four parts of 0 to 255, without a leading zero, as
/// std reads them); anything else is left to std.
pub(super) fn is_ip(text: &str) -> bool {
    is_dotted_ipv4(text) || text.parse::<std::net::IpAddr>().is_ok()
}

fn is_dotted_ipv4(text: &str) -> bool {
    let mut parts = 0;
    for part in text.as_bytes().split(|&byte| byte == b'.') {
        parts += 1;
        let octet = match part {
            [digit] => digit.is_ascii_digit(),
            [b'1'..=b'9', digit] => digit.is_ascii_digit(),
            [b'1', tens, units] => tens.is_ascii_digit() && units.is_ascii_digit(),
            [b'2', b'0'..=b'4', units] => units.is_ascii_digit(),
            [b'2', b'5', b'0'..=b'5'] => true,
            _ => false,
        };
        if !octet || parts > 4 {
            return false;
        }
    }
    parts == 4
}

/// Splits a request line `GET https://example.com:443/path?q=1 HTTP/1.1` into method, URL and
/// protocol; a part that is missing is `None`.
pub fn split_request(request: &str) -> (Option<&str>, Option<&str>, Option<&str>) {
    let mut parts = request.splitn(3, ' ').map(str::trim);
    let mut next = || parts.next().filter(|part| !part.is_empty() && *part != "-");
    let method = next();
    let url = next();
    let protocol = next();
    (method, url, protocol)
}

/// What every parser's tests check of the fields it writes.
#[cfg(test)]
pub(super) mod check {
    use serde_json::{Map, Value};

    use super::FieldType;

    /// The fields of a record as a JSON object.
    pub fn object(fields: &str) -> Map<String, Value> {
        serde_json::from_str(&format!("{{{fields}}}")).expect("the fields are a JSON object")
    }

    /// The fields of a record as a JSON object; panics unless every key written is in `table`
    /// with a type its value (or each item of its list) fits.
    pub fn typed(fields: &str, table: &[(&str, FieldType)]) -> Map<String, Value> {
        let object = object(fields);
        for (key, value) in &object {
            let (_, kind) = table
                .iter()
                .find(|(name, _)| name == key)
                .unwrap_or_else(|| panic!("{key} is written but not in FIELDS"));
            let items = match (kind, value) {
                (FieldType::Object, _) => std::slice::from_ref(value),
                (_, Value::Array(items)) => items.as_slice(),
                (_, value) => std::slice::from_ref(value),
            };
            for item in items {
                assert!(fits(item, *kind), "{key}: {item} does not fit {kind:?}");
            }
        }
        object
    }

    fn fits(value: &Value, kind: FieldType) -> bool {
        match (kind, value) {
            (FieldType::Keyword | FieldType::Text, Value::String(_)) => true,
            (FieldType::Ip, Value::String(text)) => text.parse::<std::net::IpAddr>().is_ok(),
            (FieldType::Date, Value::String(text)) => {
                chrono::DateTime::parse_from_rfc3339(text).is_ok()
                    || chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
                    || chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
            }
            (FieldType::Date, Value::Number(number)) => number.is_i64(),
            (FieldType::Long, Value::Number(number)) => number.is_i64() || number.is_u64(),
            (FieldType::Double, Value::Number(_)) => true,
            (FieldType::Boolean, Value::Bool(_)) => true,
            (FieldType::Object, Value::Object(_) | Value::Array(_)) => true,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_keep_their_spaces_and_quotes() {
        let fields = split_quoted(r#"a "b c" "d \"e\"" - "" f"#).unwrap();
        let fields: Vec<&str> = fields.iter().map(|f| f.as_ref()).collect();
        assert_eq!(fields, ["a", "b c", "d \"e\"", "-", "", "f"]);
        assert!(split_quoted(r#"a "never ends"#).is_err());
    }

    #[test]
    fn addresses_split_into_ip_and_port() {
        assert_eq!(
            split_address("192.168.131.39:2817"),
            Some(("192.168.131.39", Some(2817)))
        );
        assert_eq!(split_address("2001:db8::1:443"), Some(("2001:db8::1", Some(443))));
        assert_eq!(
            split_address("[2001:db8::1]:443"),
            Some(("2001:db8::1", Some(443)))
        );
        assert_eq!(split_address("10.0.0.1"), Some(("10.0.0.1", None)));
        assert_eq!(split_address("-"), None);
    }

    #[test]
    fn requests_split_into_method_url_and_protocol() {
        assert_eq!(
            split_request("GET http://www.example.com:80/ HTTP/1.1"),
            (Some("GET"), Some("http://www.example.com:80/"), Some("HTTP/1.1"))
        );
        assert_eq!(split_request("- - - "), (None, None, None));
    }

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
                .contains("e is not a whole number")
        );
        assert_eq!(out.finish(), r#""b":"x\"y","c":-1,"d":0.001"#);
    }

    #[test]
    fn addresses_are_ips_exactly_when_std_reads_them() {
        let mut texts: Vec<String> = [
            "",
            ".",
            "1.2.3",
            "1.2.3.4.5",
            "1.2.3.4",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "01.2.3.4",
            "1.2.3.04",
            "1.2.3.00",
            "1..3.4",
            "1.2.3.",
            ".1.2.3",
            "1.2.3.4 ",
            "+1.2.3.4",
            "2001:db8::1",
            "::ffff:1.2.3.4",
            "1.2.3.a",
            "１.2.3.4",
            "199.249.10.255",
            "249.250.251.252",
        ]
        .map(str::to_owned)
        .to_vec();
        for octet in 0..1000 {
            texts.push(format!("10.{octet}.1.2"));
            texts.push(format!("10.1.2.{octet:03}"));
        }
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            let mut text = String::new();
            for _ in 0..(seed % 16) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                text.push(b"0125.9:a"[(seed % 8) as usize] as char);
            }
            texts.push(text);
        }
        for text in &texts {
            assert_eq!(is_ip(text), text.parse::<std::net::IpAddr>().is_ok(), "{text:?}");
        }
    }
}

//! CloudFront standard logs (legacy delivery to S3), as AWS documents them:
//! <https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logs-reference.html>.
//!
//! A file is the W3C extended log format, tab-separated: a `#Version:` and a `#Fields:` line, then
//! one request a line. Values are mapped by the names of the `#Fields:` line (the reader hands them
//! over as [`Context::header`]), not by position; a line read without one falls back to the
//! documented order of the 33 fields. A line with more values than its layout (the `#Fields:`
//! line's names, or the 33) keeps the values after them, as written and in order, in
//! `extra_fields`, `-` included, as flow logs do; empty values at the end of a line (a
//! trailing tab, as in the third line of the reference page's example) are not values and make no
//! list. A line with fewer values than its `#Fields:` line names is read as far as it goes, as
//! long as it reaches the `date` and `time` fields, and the names it has no value for are listed,
//! in snake_case, in `missing_fields`. A line without a `#Fields:` line may be shorter than the
//! documented order too (AWS added fields over the years), and is read as far as it goes without
//! a mark.
//!
//! A field's name is AWS's in snake_case: lower case, `-` and `(` become `_`, `)` is dropped
//! (`cs(User-Agent)` → `cs_user_agent`). A name this module does not know (a field AWS adds later)
//! is kept by the same rule as a string; it is not in [`FIELDS`], so the index template's dynamic
//! rule maps it as a keyword.
//!
//! CloudFront URL-encodes spaces, control and non-ASCII bytes and ``<>"#%{}|\^~[]`'`` in field
//! values (`%20`, `%25`, …). Every text value is decoded once, which gives it back as the viewer
//! sent it: a user agent reads `Mozilla/5.0 (Windows …`, and a `%20` the viewer sent (logged
//! `%2520`) stays `%20`. A value whose decoded bytes are not UTF-8 is kept as written.
//! `x-forwarded-for` also has its `\xHH` escapes undone (`10.0.0.1,\x2010.0.0.2`, see
//! [`Escapes`]), then is split on commas into a list of addresses.

use std::borrow::Cow;

use super::{
    AccessRecord, Context, Dashboard, Duration, EventKind, FieldType, FieldWriter, FormatSpec, HeaderLine,
    KeyLayout, Lines, Reading, RecordError, Shared, Typed,
};
use crate::json::push_str;

/// CloudFront's row of the format table: files named `DISTRIBUTION.YYYY-MM-DD-HH.UNIQUE.gz`
/// wherever they are
/// (<https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logging-legacy-s3.html>),
/// whose `#Fields:` line names the values of the lines after it.
pub(crate) static FORMAT: FormatSpec = FormatSpec {
    name: "cloudfront",
    key: KeyLayout {
        service: None,
        file: Some(is_log_file),
    },
    content: None,
    reading: Reading::Lines(Lines {
        header: Some(header),
        time: None,
    }),
    typed: Some(Typed {
        object: "cloudfront",
        fields: FIELDS,
        parse: |line, context, out| parse(line, context).map(|record| record.into_parsed(out)),
    }),
    index_prefix: Some("cloudfront"),
    dashboards: &[Dashboard::HttpAccess],
};

/// `E2EXAMPLE12345.2026-11-29-10.a1b2c3d4.gz`: a distribution id (upper-case letters and
/// digits), the hour, a unique id.
fn is_log_file(file: &str) -> bool {
    let mut parts = file.split('.');
    let (Some(distribution), Some(hour), Some(unique), Some("gz"), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    distribution.len() >= 8
        && distribution
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && hour.len() == 13
        && hour.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 | 10 => b == b'-',
            _ => b.is_ascii_digit(),
        })
        && !unique.is_empty()
}

/// `#Fields: date time …` names the values of the lines after it
/// (<https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logs-reference.html>);
/// any other `#` line (`#Version: 1.0`) is a comment.
fn header(_: u64, line: &str) -> Option<HeaderLine> {
    if let Some(names) = line.strip_prefix("#Fields:") {
        return Some(HeaderLine::Fields(
            names.split_whitespace().map(str::to_string).collect(),
        ));
    }
    line.starts_with('#').then_some(HeaderLine::Comment)
}

/// The documented fields, in the documented order (the order of a line without a `#Fields:`
/// line), under their snake_case names; then Sluice's: `extra_fields`, the values of a longer
/// line after those its layout names, and `missing_fields`, the names of the `#Fields:` line that
/// a shorter line has no value for.
pub(crate) const FIELDS: &[(&str, FieldType)] = &[
    ("date", FieldType::Date),
    ("time", FieldType::Keyword),
    ("x_edge_location", FieldType::Keyword),
    ("sc_bytes", FieldType::Long),
    ("c_ip", FieldType::Ip),
    ("cs_method", FieldType::Keyword),
    ("cs_host", FieldType::Keyword),
    ("cs_uri_stem", FieldType::Keyword),
    ("sc_status", FieldType::Long),
    ("cs_referer", FieldType::Keyword),
    ("cs_user_agent", FieldType::Keyword),
    ("cs_uri_query", FieldType::Keyword),
    ("cs_cookie", FieldType::Keyword),
    ("x_edge_result_type", FieldType::Keyword),
    ("x_edge_request_id", FieldType::Keyword),
    ("x_host_header", FieldType::Keyword),
    ("cs_protocol", FieldType::Keyword),
    ("cs_bytes", FieldType::Long),
    ("time_taken", FieldType::Double),
    ("x_forwarded_for", FieldType::Ip),
    ("ssl_protocol", FieldType::Keyword),
    ("ssl_cipher", FieldType::Keyword),
    ("x_edge_response_result_type", FieldType::Keyword),
    ("cs_protocol_version", FieldType::Keyword),
    ("fle_status", FieldType::Keyword),
    ("fle_encrypted_fields", FieldType::Long),
    ("c_port", FieldType::Long),
    ("time_to_first_byte", FieldType::Double),
    ("x_edge_detailed_result_type", FieldType::Keyword),
    ("sc_content_type", FieldType::Keyword),
    ("sc_content_len", FieldType::Long),
    ("sc_range_start", FieldType::Long),
    ("sc_range_end", FieldType::Long),
    ("extra_fields", FieldType::Keyword),
    ("missing_fields", FieldType::Keyword),
];

/// How many of [`FIELDS`] are CloudFront's own: all but `extra_fields` and `missing_fields`.
const DOCUMENTED: usize = FIELDS.len() - 2;

// Positions in FIELDS of the fields the shared ones and `@timestamp` come from.
const DATE: usize = 0;
const TIME: usize = 1;
const SC_BYTES: usize = 3;
const C_IP: usize = 4;
const CS_METHOD: usize = 5;
const CS_HOST: usize = 6;
const CS_URI_STEM: usize = 7;
const SC_STATUS: usize = 8;
const CS_USER_AGENT: usize = 10;
const CS_URI_QUERY: usize = 11;
const X_HOST_HEADER: usize = 15;
const CS_BYTES: usize = 17;
const TIME_TAKEN: usize = 18;
const X_FORWARDED_FOR: usize = 19;
const SSL_PROTOCOL: usize = 20;
const SSL_CIPHER: usize = 21;
const C_PORT: usize = 26;

/// The position in [`FIELDS`] of a documented `#Fields:` name.
fn position(name: &str) -> Option<usize> {
    Some(match name {
        "date" => 0,
        "time" => 1,
        "x-edge-location" => 2,
        "sc-bytes" => 3,
        "c-ip" => 4,
        "cs-method" => 5,
        "cs(Host)" => 6,
        "cs-uri-stem" => 7,
        "sc-status" => 8,
        "cs(Referer)" => 9,
        "cs(User-Agent)" => 10,
        "cs-uri-query" => 11,
        "cs(Cookie)" => 12,
        "x-edge-result-type" => 13,
        "x-edge-request-id" => 14,
        "x-host-header" => 15,
        "cs-protocol" => 16,
        "cs-bytes" => 17,
        "time-taken" => 18,
        "x-forwarded-for" => 19,
        "ssl-protocol" => 20,
        "ssl-cipher" => 21,
        "x-edge-response-result-type" => 22,
        "cs-protocol-version" => 23,
        "fle-status" => 24,
        "fle-encrypted-fields" => 25,
        "c-port" => 26,
        "time-to-first-byte" => 27,
        "x-edge-detailed-result-type" => 28,
        "sc-content-type" => 29,
        "sc-content-len" => 30,
        "sc-range-start" => 31,
        "sc-range-end" => 32,
        _ => return None,
    })
}

/// Parses one data line; `context.header` holds the names of the file's `#Fields:` line.
pub fn parse(line: &str, context: Context<'_>) -> Result<AccessRecord<'static>, RecordError> {
    if line.trim().is_empty() {
        return Err(RecordError::Blank);
    }
    let values: Vec<&str> = line.split('\t').collect();
    let mut line_out = Line {
        out: FieldWriter::with_capacity(line.len() + 512),
        known: std::array::from_fn(|_| None),
    };
    let need_time = context.header.is_none();
    match context.header {
        Some(names) => {
            let needed = reach(names);
            if values.len() < needed {
                return Err(RecordError::TooFewValues {
                    count: values.len(),
                    layout: format!(
                        "tab-separated values where the #Fields line names {}, {needed} to its date and time",
                        names.len()
                    ),
                });
            }
            for (name, value) in names.iter().zip(&values) {
                match position(name) {
                    Some(index) => line_out.known(index, value)?,
                    None => line_out.out.str(&snake_case(name), &decode(value, Escapes::Url)),
                }
            }
            if let Some(missing) = names.get(values.len()..).filter(|names| !names.is_empty()) {
                line_out
                    .out
                    .string_list("missing_fields", missing.iter().map(|n| snake_case(n)));
            }
        }
        None => {
            for (index, value) in values.iter().enumerate().take(DOCUMENTED) {
                line_out.known(index, value)?;
            }
        }
    }
    let layout = context.header.map_or(DOCUMENTED, <[String]>::len);
    if let Some(extra) = extra_values(&values, layout) {
        line_out.out.string_list("extra_fields", extra.iter().copied());
    }
    line_out.finish(need_time)
}

/// A line being written, with the (decoded) values of the documented fields it has, for the
/// shared ones.
struct Line<'a> {
    out: FieldWriter,
    known: [Option<Cow<'a, str>>; DOCUMENTED],
}

impl<'a> Line<'a> {
    fn known(&mut self, index: usize, value: &'a str) -> Result<(), RecordError> {
        let (key, kind) = FIELDS[index];
        let value = match kind {
            FieldType::Long => {
                self.out.int(key, value)?;
                Cow::Borrowed(value)
            }
            FieldType::Double => {
                self.out.float(key, value)?;
                Cow::Borrowed(value)
            }
            _ => {
                let escapes = match index {
                    X_FORWARDED_FOR => Escapes::UrlAndHex,
                    _ => Escapes::Url,
                };
                let text = decode(value, escapes);
                match index {
                    X_FORWARDED_FOR => write_addresses(&mut self.out, key, &text),
                    _ => self.out.str(key, &text),
                }
                text
            }
        };
        self.known[index] = Some(value);
        Ok(())
    }

    /// The record; `need_time` for a line read by the documented order, whose first values
    /// must be a date and a time (which tells a line of this format from any other text).
    fn finish(self, need_time: bool) -> Result<AccessRecord<'static>, RecordError> {
        let value = |index: usize| {
            self.known[index]
                .as_deref()
                .filter(|v| *v != "-" && !v.is_empty())
        };
        let date = value(DATE).map(parse_date).transpose()?;
        let time = value(TIME).map(parse_time).transpose()?;
        let time_ms = match (date, time) {
            (Some(date), Some(time)) => Some(date.and_time(time).and_utc().timestamp_millis()),
            _ if need_time => {
                return Err(RecordError::Shape(
                    "no date and time: a line read without a #Fields line starts with them".to_string(),
                ));
            }
            _ => None,
        };
        // The numbers were checked when written.
        let number = |index: usize| value(index).and_then(|v| v.parse::<i64>().ok());
        let url_original = value(CS_URI_STEM).map(|stem| match value(CS_URI_QUERY) {
            Some(query) => format!("{stem}?{query}"),
            None => stem.to_string(),
        });
        let text = |index: usize| value(index).map(|value| Cow::Owned(value.to_string()));
        let mut duration = Duration::default();
        if let Some(seconds) = value(TIME_TAKEN).and_then(|v| v.parse::<f64>().ok()) {
            duration.add_seconds(seconds);
        }
        let shared = Shared {
            kind: Some(EventKind::WebAccess),
            client_ip: value(C_IP).map(|value| Cow::Owned(value.to_string())),
            client_port: number(C_PORT).and_then(|port| u16::try_from(port).ok()),
            http_method: value(CS_METHOD).map(|value| Cow::Owned(value.to_string())),
            // `000`: the viewer closed the connection before the server could respond.
            http_status_code: number(SC_STATUS)
                .filter(|status| *status > 0)
                .and_then(|status| u16::try_from(status).ok()),
            url_original: url_original.map(Cow::Owned),
            user_agent: value(CS_USER_AGENT).map(|value| Cow::Owned(value.to_string())),
            bytes: number(SC_BYTES).and_then(|bytes| u64::try_from(bytes).ok()),
            request_bytes: number(CS_BYTES).and_then(|bytes| u64::try_from(bytes).ok()),
            // The Host header the viewer sent; the distribution's domain when it sent none.
            url_domain: text(X_HOST_HEADER).or_else(|| text(CS_HOST)),
            tls_cipher: text(SSL_CIPHER),
            tls_protocol: text(SSL_PROTOCOL),
            duration,
            ..Shared::default()
        };
        Ok(AccessRecord {
            time_ms,
            fields: self.out.finish(),
            shared,
        })
    }
}

/// How many values a line needs of the `#Fields:` line `names`: those up to its `date` and
/// `time` (which give the line its time), or one if it names neither. A line may stop short of
/// the rest, as a line written before AWS added later fields does.
fn reach(names: &[String]) -> usize {
    names
        .iter()
        .rposition(|name| name == "date" || name == "time")
        .map_or(1, |at| at + 1)
}

/// The values of a line after the `layout` its layout names, as written and in order, if it has
/// any but empty ones at its end: a line that ends with a tab has an empty last value, which
/// holds nothing (the third line of the reference page's example does).
fn extra_values<'v>(values: &'v [&'v str], layout: usize) -> Option<&'v [&'v str]> {
    let written = values.iter().rposition(|value| !value.is_empty())? + 1;
    values.get(layout..written).filter(|extra| !extra.is_empty())
}

/// `x-forwarded-for`: one address, or the list of a request that went through several proxies
/// (`192.0.2.1, 198.51.100.2`), written as an array of addresses.
pub(super) fn write_addresses(out: &mut FieldWriter, key: &str, value: &str) {
    if !value.contains(',') {
        out.str(key, value);
        return;
    }
    let mut json = String::from("[");
    for address in value.split(',').map(str::trim).filter(|a| !a.is_empty()) {
        if json.len() > 1 {
            json.push(',');
        }
        push_str(&mut json, address);
    }
    json.push(']');
    out.raw_json(key, &json);
}

/// `date`, `2019-12-04` (UTC).
fn parse_date(date: &str) -> Result<chrono::NaiveDate, RecordError> {
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map_err(|_| RecordError::value("date", "YYYY-MM-DD", date))
}

/// `time`, `21:02:31` (UTC).
fn parse_time(time: &str) -> Result<chrono::NaiveTime, RecordError> {
    chrono::NaiveTime::parse_from_str(time, "%H:%M:%S%.f")
        .map_err(|_| RecordError::value("time", "HH:MM:SS", time))
}

/// A `#Fields:` name in snake_case: lower case, `-` and `(` become `_`, `)` is dropped.
pub(super) fn snake_case(name: &str) -> String {
    name.chars()
        .filter(|c| *c != ')')
        .map(|c| match c {
            '-' | '(' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// A value with CloudFront's URL encoding undone (`%XX`, every field, as the reference page
/// documents it), and with [`Escapes::UrlAndHex`] its `\xHH` escapes too. An escape
/// without two hex digits after it (`50% off`, `\x2`) is kept as written, and so is the whole
/// value when the decoded bytes are not UTF-8 (`%FF`): decoding it would lose what was logged.
pub(super) fn decode(value: &str, escapes: Escapes) -> Cow<'_, str> {
    let hex = escapes == Escapes::UrlAndHex;
    let escaped = value.contains('%') || (hex && value.contains("\\x"));
    if !escaped {
        return Cow::Borrowed(value);
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let digit = |at: usize| bytes.get(at).and_then(|b| char::from(*b).to_digit(16));
        let escape = match bytes[i] {
            b'%' => Some(1),
            b'\\' if hex && bytes.get(i + 1) == Some(&b'x') => Some(2),
            _ => None,
        };
        match escape.and_then(|len| Some((len, digit(i + len)?, digit(i + len + 1)?))) {
            Some((len, high, low)) => {
                out.push((high * 16 + low) as u8);
                i += len + 2;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_or(Cow::Borrowed(value), Cow::Owned)
}

/// The escapes a field's value may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Escapes {
    /// `%XX`, which the reference page documents for every field.
    Url,
    /// `%XX` and `\xHH`, for `x-forwarded-for`. The reference page
    /// (<https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logs-reference.html>,
    /// "Log file fields") documents only `%XX`, yet lists of addresses in real logs (issue 28)
    /// read `192.0.2.1,\x20198.51.100.2`: the space after the comma as `\x20`. A viewer's own
    /// backslash is logged `%5C`, so a raw `\x` can only be CloudFront's escape. Both kinds are
    /// undone in one pass, so a viewer's `\x20` (logged `%5Cx20`) stays `\x20`. Other fields
    /// keep a raw `\xHH` as written: nothing documents or shows it there.
    UrlAndHex,
}

#[cfg(test)]
mod tests;

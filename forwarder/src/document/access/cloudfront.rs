//! CloudFront standard logs (legacy delivery to S3), as AWS documents them:
//! <https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logs-reference.html>.
//!
//! A file is the W3C extended log format, tab-separated: a `#Version:` and a `#Fields:` line, then
//! one request a line. Values are mapped by the names of the `#Fields:` line (the reader hands them
//! over as [`Context::header`]), not by position; a line read without one falls back to the
//! documented order of the 33 fields. Extra trailing values are ignored.
//!
//! A field's name is AWS's in snake_case: lower case, `-` and `(` become `_`, `)` is dropped
//! (`cs(User-Agent)` → `cs_user_agent`). A name this module does not know (a field AWS adds later)
//! is kept by the same rule as a string; it is not in [`FIELDS`], so the index template's dynamic
//! rule maps it as a keyword.
//!
//! CloudFront URL-encodes spaces, control and non-ASCII bytes and ``<>"#%{}|\^~[]`'`` in field
//! values (`%20`, `%25`, …). Every text value is decoded once, which gives it back as the viewer
//! sent it: a user agent reads `Mozilla/5.0 (Windows …`, and a `%20` the viewer sent (logged
//! `%2520`) stays `%20`.

use std::borrow::Cow;

use super::{AccessRecord, Context, FieldType, FieldWriter, Shared};
use crate::document::write::push_str;

/// The documented fields, in the documented order (the order of a line without a `#Fields:`
/// line), under their snake_case names.
pub const FIELDS: &[(&str, FieldType)] = &[
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
];

// Positions in FIELDS of the fields the shared ones and `@timestamp` come from.
const DATE: usize = 0;
const TIME: usize = 1;
const SC_BYTES: usize = 3;
const C_IP: usize = 4;
const CS_METHOD: usize = 5;
const CS_URI_STEM: usize = 7;
const SC_STATUS: usize = 8;
const CS_USER_AGENT: usize = 10;
const CS_URI_QUERY: usize = 11;
const X_FORWARDED_FOR: usize = 19;
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
pub fn parse(line: &str, context: Context<'_>) -> Result<AccessRecord<'static>, String> {
    if line.trim().is_empty() {
        return Err("empty line".to_string());
    }
    let values: Vec<&str> = line.split('\t').collect();
    let mut line_out = Line {
        out: FieldWriter::with_capacity(line.len() + 512),
        known: std::array::from_fn(|_| None),
    };
    let need_time = context.header.is_none();
    match context.header {
        Some(names) => {
            if values.len() < names.len() {
                return Err(format!(
                    "{} tab-separated values where the #Fields line names {}",
                    values.len(),
                    names.len()
                ));
            }
            for (name, value) in names.iter().zip(&values) {
                match position(name) {
                    Some(index) => line_out.known(index, value)?,
                    None => line_out.out.str(&snake_case(name), &decode(value)),
                }
            }
        }
        None => {
            for (index, value) in values.iter().enumerate().take(FIELDS.len()) {
                line_out.known(index, value)?;
            }
        }
    }
    line_out.finish(need_time)
}

/// A line being written, with the (decoded) values of the documented fields it has, for the
/// shared ones.
struct Line<'a> {
    out: FieldWriter,
    known: [Option<Cow<'a, str>>; FIELDS.len()],
}

impl<'a> Line<'a> {
    fn known(&mut self, index: usize, value: &'a str) -> Result<(), String> {
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
                let text = decode(value);
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
    fn finish(self, need_time: bool) -> Result<AccessRecord<'static>, String> {
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
                return Err(
                    "no date and time: a line read without a #Fields line starts with them".to_string(),
                );
            }
            _ => None,
        };
        // The numbers were checked when written.
        let number = |index: usize| value(index).and_then(|v| v.parse::<i64>().ok());
        let url_original = value(CS_URI_STEM).map(|stem| match value(CS_URI_QUERY) {
            Some(query) => format!("{stem}?{query}"),
            None => stem.to_string(),
        });
        let shared = Shared {
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
        };
        Ok(AccessRecord {
            time_ms,
            fields: self.out.finish(),
            shared,
        })
    }
}

/// `x-forwarded-for`: one address, or the list of a request that went through several proxies
/// (`192.0.2.1, 198.51.100.2`), written as an array of addresses.
fn write_addresses(out: &mut FieldWriter, key: &str, value: &str) {
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
fn parse_date(date: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map_err(|_| format!("date is not YYYY-MM-DD: {date:?}"))
}

/// `time`, `21:02:31` (UTC).
fn parse_time(time: &str) -> Result<chrono::NaiveTime, String> {
    chrono::NaiveTime::parse_from_str(time, "%H:%M:%S%.f")
        .map_err(|_| format!("time is not HH:MM:SS: {time:?}"))
}

/// A `#Fields:` name in snake_case: lower case, `-` and `(` become `_`, `)` is dropped.
fn snake_case(name: &str) -> String {
    name.chars()
        .filter(|c| *c != ')')
        .map(|c| match c {
            '-' | '(' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// A value with CloudFront's URL encoding undone; `%` not followed by two hex digits is kept.
fn decode(value: &str) -> Cow<'_, str> {
    if !value.contains('%') {
        return Cow::Borrowed(value);
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    match String::from_utf8(out) {
        Ok(text) => Cow::Owned(text),
        Err(err) => Cow::Owned(String::from_utf8_lossy(err.as_bytes()).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value, json};

    use super::super::check;
    use super::*;
    use crate::document::write::push_timestamp;

    /// `@timestamp`'s text for a time.
    fn iso(ms: i64) -> String {
        let mut out = String::new();
        push_timestamp(&mut out, ms);
        out.trim_matches('"').to_string()
    }

    /// The example log file of the reference page, verbatim: its `#Version` and `#Fields` lines
    /// and six requests (the third ends with an extra tab, an empty trailing value).
    const SAMPLE: &str = include_str!("../../../../tests/fixtures/access/cloudfront-standard.log");

    /// The file read as the S3 reader reads it: the `#Fields:` line names the values of the lines
    /// after it, other `#` lines are skipped.
    fn parse_file(text: &str) -> Vec<Result<AccessRecord<'static>, String>> {
        let mut header: Option<Vec<String>> = None;
        let mut out = Vec::new();
        for line in text.lines() {
            if let Some(names) = line.strip_prefix("#Fields:") {
                header = Some(names.split_whitespace().map(str::to_string).collect());
            } else if !line.starts_with('#') {
                let context = Context {
                    header: header.as_deref(),
                };
                out.push(parse(line, context));
            }
        }
        out
    }

    fn object(record: &AccessRecord) -> Map<String, Value> {
        check::object(&record.fields)
    }

    /// Every key written is in FIELDS, with a value of its mapping type.
    fn assert_typed(record: &AccessRecord) {
        check::typed(&record.fields, FIELDS);
    }

    #[test]
    fn the_documented_example_file_parses_into_typed_fields() {
        let records: Vec<AccessRecord> = parse_file(SAMPLE).into_iter().map(Result::unwrap).collect();
        assert_eq!(records.len(), 6);
        records.iter().for_each(assert_typed);

        let first = &records[0];
        assert_eq!(iso(first.time_ms.unwrap()), "2019-12-04T21:02:31.000Z");
        let fields = object(first);
        assert_eq!(fields["x_edge_location"], "LAX1");
        assert_eq!(fields["sc_bytes"], 392);
        assert_eq!(fields["c_ip"], "192.0.2.100");
        assert_eq!(fields["cs_host"], "d111111abcdef8.cloudfront.net");
        assert_eq!(fields["sc_status"], 200);
        assert_eq!(
            fields["cs_user_agent"],
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3904.108 Safari/537.36"
        );
        assert_eq!(fields["time_taken"], 0.001);
        assert_eq!(fields["ssl_protocol"], "TLSv1.2");
        assert_eq!(fields["cs_protocol_version"], "HTTP/2.0");
        assert_eq!(fields["c_port"], 11040);
        assert_eq!(fields["sc_content_len"], 78);
        // `-` is left out.
        for absent in [
            "cs_referer",
            "cs_uri_query",
            "cs_cookie",
            "x_forwarded_for",
            "fle_status",
            "sc_range_start",
        ] {
            assert!(!fields.contains_key(absent), "{absent}");
        }
        assert_eq!(
            first.shared,
            Shared {
                client_ip: Some("192.0.2.100".into()),
                client_port: Some(11040),
                http_method: Some("GET".into()),
                http_status_code: Some(200),
                url_original: Some("/index.html".into()),
                user_agent: Some(fields["cs_user_agent"].as_str().unwrap().into()),
                bytes: Some(392),
            }
        );

        let error = object(&records[3]);
        assert_eq!(iso(records[3].time_ms.unwrap()), "2019-12-13T22:36:27.000Z");
        assert_eq!(error["cs_referer"], "http://www.example.com/");
        assert_eq!(error["x_edge_detailed_result_type"], "OriginDnsError");
        assert_eq!(error["cs_protocol"], "http");
        assert!(!error.contains_key("ssl_cipher"));
        assert_eq!(records[3].shared.http_status_code, Some(502));
        assert_eq!(records[5].shared.user_agent.as_deref(), Some("curl/7.55.1"));
    }

    #[test]
    fn an_extra_trailing_value_is_ignored() {
        // The third line of the documented file ends with a tab: 34 values for 33 names.
        let third = SAMPLE.lines().nth(4).unwrap();
        assert_eq!(third.split('\t').count(), 34);
        let records = parse_file(SAMPLE);
        assert_eq!(
            object(records[2].as_ref().unwrap()).len(),
            object(records[0].as_ref().unwrap()).len()
        );
        let longer = format!("{third}\tnew-value");
        let record = parse(&longer, Context::default()).unwrap();
        assert_eq!(object(&record), object(records[2].as_ref().unwrap()));
    }

    #[test]
    fn values_are_mapped_by_the_fields_line_not_by_position() {
        let header: Vec<String> =
            "time date c-ip c-port cs-method sc-status cs-uri-query cs-uri-stem cs(User-Agent) sc-bytes"
                .split(' ')
                .map(str::to_string)
                .collect();
        let line = "05:06:07\t2024-02-29\t2001:db8::5\t51234\tPOST\t404\ta=1&b=two%2520words\t/api/v1%2520x\tcurl/8.0%20(x)\t1234";
        let record = parse(
            line,
            Context {
                header: Some(&header),
            },
        )
        .unwrap();
        assert_typed(&record);
        assert_eq!(iso(record.time_ms.unwrap()), "2024-02-29T05:06:07.000Z");
        assert_eq!(
            serde_json::from_str::<Value>(&format!("{{{}}}", record.fields)).unwrap(),
            json!({
                "time": "05:06:07",
                "date": "2024-02-29",
                "c_ip": "2001:db8::5",
                "c_port": 51234,
                "cs_method": "POST",
                "sc_status": 404,
                "cs_uri_query": "a=1&b=two%20words",
                "cs_uri_stem": "/api/v1%20x",
                "cs_user_agent": "curl/8.0 (x)",
                "sc_bytes": 1234,
            })
        );
        assert_eq!(record.shared.client_ip.as_deref(), Some("2001:db8::5"));
        assert_eq!(record.shared.client_port, Some(51234));
        assert_eq!(record.shared.http_status_code, Some(404));
        assert_eq!(
            record.shared.url_original.as_deref(),
            Some("/api/v1%20x?a=1&b=two%20words")
        );
        assert_eq!(record.shared.user_agent.as_deref(), Some("curl/8.0 (x)"));
    }

    #[test]
    fn an_unknown_field_name_is_kept_in_snake_case() {
        let header: Vec<String> = ["date", "time", "cs(X-New-Header)", "c-country"]
            .into_iter()
            .map(str::to_string)
            .collect();
        let record = parse(
            "2024-01-01\t00:00:00\ta%20b\tDE",
            Context {
                header: Some(&header),
            },
        )
        .unwrap();
        let fields = object(&record);
        assert_eq!(fields["cs_x_new_header"], "a b");
        assert_eq!(fields["c_country"], "DE");
    }

    #[test]
    fn documented_names_map_to_their_snake_case_in_fields() {
        let names = SAMPLE.lines().nth(1).unwrap().strip_prefix("#Fields:").unwrap();
        let names: Vec<&str> = names.split_whitespace().collect();
        assert_eq!(names.len(), FIELDS.len());
        for (index, name) in names.iter().enumerate() {
            assert_eq!(position(name), Some(index), "{name}");
            assert_eq!(snake_case(name), FIELDS[index].0);
        }
        assert_eq!(snake_case("cs(User-Agent)"), "cs_user_agent");
    }

    #[test]
    fn url_encoding_is_undone_once() {
        assert_eq!(decode("Mozilla/5.0%20(X11)"), "Mozilla/5.0 (X11)");
        assert_eq!(
            decode("%3Cb%3E%22q%22%23%7B%7D%7C%5C%5E%7E%5B%5D%60%27"),
            "<b>\"q\"#{}|\\^~[]`'"
        );
        assert_eq!(decode("100%25%2520"), "100%%20");
        assert_eq!(decode("caf%C3%A9"), "café");
        assert_eq!(decode("50% off %zz %4"), "50% off %zz %4");
        assert!(matches!(decode("plain"), Cow::Borrowed("plain")));
        assert_eq!(decode("%FF"), "\u{FFFD}");
    }

    #[test]
    fn forwarded_addresses_become_a_list() {
        let header: Vec<String> = ["c-ip", "x-forwarded-for"]
            .into_iter()
            .map(str::to_string)
            .collect();
        let one = parse(
            "192.0.2.1\t2001:0db8:85a3:0000:0000:8a2e:0370:7334",
            Context {
                header: Some(&header),
            },
        )
        .unwrap();
        assert_eq!(
            object(&one)["x_forwarded_for"],
            "2001:0db8:85a3:0000:0000:8a2e:0370:7334"
        );
        let two = parse(
            "192.0.2.1\t203.0.113.9,%20198.51.100.2",
            Context {
                header: Some(&header),
            },
        )
        .unwrap();
        assert_typed(&two);
        assert_eq!(
            object(&two)["x_forwarded_for"],
            json!(["203.0.113.9", "198.51.100.2"])
        );
        assert_eq!(two.time_ms, None);
    }

    #[test]
    fn a_status_of_000_is_no_http_status() {
        let mut values: Vec<&str> = SAMPLE.lines().nth(2).unwrap().split('\t').collect();
        values[SC_STATUS] = "000";
        let record = parse(&values.join("\t"), Context::default()).unwrap();
        assert_eq!(object(&record)["sc_status"], 0);
        assert_eq!(record.shared.http_status_code, None);
    }

    #[test]
    fn bad_lines_say_what_is_wrong() {
        let header: Vec<String> = SAMPLE.lines().nth(1).unwrap()[8..]
            .split_whitespace()
            .map(str::to_string)
            .collect();
        let context = Context {
            header: Some(&header),
        };
        assert_eq!(parse("", context).unwrap_err(), "empty line");
        assert_eq!(parse("  ", Context::default()).unwrap_err(), "empty line");
        assert_eq!(
            parse("hello world", context).unwrap_err(),
            "1 tab-separated values where the #Fields line names 33"
        );
        assert_eq!(
            parse("hello world", Context::default()).unwrap_err(),
            "date is not YYYY-MM-DD: \"hello world\""
        );
        let mut values: Vec<&str> = SAMPLE.lines().nth(2).unwrap().split('\t').collect();
        values[SC_BYTES] = "lots";
        assert_eq!(
            parse(&values.join("\t"), context).unwrap_err(),
            "sc_bytes is not a whole number: \"lots\""
        );
        values[SC_BYTES] = "1";
        values[TIME] = "25:61:00";
        assert_eq!(
            parse(&values.join("\t"), context).unwrap_err(),
            "time is not HH:MM:SS: \"25:61:00\""
        );
    }
}

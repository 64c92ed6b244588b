//! Amazon S3 server access logs, as AWS documents them:
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/LogFormat.html>.
//!
//! A line is space-separated fields in a fixed order: the bucket owner, the bucket, the time in
//! brackets (`[06/Feb/2019:00:00:38 +0000]`, with a space inside), then the rest, where the request
//! line, the referer and the user agent are `"quoted"` (a `\"` inside is a quote). AWS adds fields
//! at the end over time ("write any code that parses server access logs to handle trailing fields
//! that it might not understand"): a line may stop after `http_status` (older lines have fewer
//! fields), and values after the last field known here are ignored.
//!
//! Names are the page's in snake_case (`Turn-Around Time` → `turn_around_time`, `ACL Required` →
//! `acl_required`). `key` stays URL-encoded, as AWS writes it. `bytes_sent` is `-` when zero, so it
//! is written as 0.

use super::{
    AccessRecord, Dashboard, EventKind, FieldType, FieldWriter, FormatSpec, KeyLayout, Lines, Reading,
    RecordError, Shared, Typed, split_quoted, split_request,
};
use crate::json::push_timestamp;
use std::borrow::Cow;

/// The fields in the order of a line.
/// S3 server access logs' row of the format table. They have no key layout of their own (the
/// bucket owner picks the prefix): a rule of `S3_FORMATS` names them.
pub(crate) static FORMAT: FormatSpec = FormatSpec {
    name: "s3-access",
    key: KeyLayout::NONE,
    content: None,
    reading: Reading::Lines(Lines::PLAIN),
    typed: Some(Typed {
        object: "s3_access",
        fields: FIELDS,
        parse: |line, _, out| parse(line).map(|record| record.into_parsed(out)),
    }),
    index_prefix: Some("s3access"),
    dashboards: &[Dashboard::HttpAccess],
};

pub(crate) const FIELDS: &[(&str, FieldType)] = &[
    ("bucket_owner", FieldType::Keyword),
    ("bucket", FieldType::Keyword),
    ("time", FieldType::Date),
    ("remote_ip", FieldType::Ip),
    ("requester", FieldType::Keyword),
    ("request_id", FieldType::Keyword),
    ("operation", FieldType::Keyword),
    ("key", FieldType::Keyword),
    ("request_uri", FieldType::Keyword),
    ("http_status", FieldType::Long),
    ("error_code", FieldType::Keyword),
    ("bytes_sent", FieldType::Long),
    ("object_size", FieldType::Long),
    ("total_time", FieldType::Long),
    ("turn_around_time", FieldType::Long),
    ("referer", FieldType::Keyword),
    ("user_agent", FieldType::Keyword),
    ("version_id", FieldType::Keyword),
    ("host_id", FieldType::Keyword),
    ("signature_version", FieldType::Keyword),
    ("cipher_suite", FieldType::Keyword),
    ("authentication_type", FieldType::Keyword),
    ("host_header", FieldType::Keyword),
    ("tls_version", FieldType::Keyword),
    ("access_point_arn", FieldType::Keyword),
    ("acl_required", FieldType::Keyword),
    ("source_region", FieldType::Keyword),
];

/// The fields before the bracketed time; the others follow it.
const BEFORE_TIME: usize = 2;
// Positions in FIELDS.
const REMOTE_IP: usize = 3;
const REQUESTER: usize = 4;
const REQUEST_URI: usize = 8;
const HTTP_STATUS: usize = 9;
const ERROR_CODE: usize = 10;
const BYTES_SENT: usize = 11;
const TOTAL_TIME: usize = 13;
const USER_AGENT: usize = 16;
const CIPHER_SUITE: usize = 20;
const HOST_HEADER: usize = 22;
const TLS_VERSION: usize = 23;

/// Parses one line.
pub fn parse(line: &str) -> Result<AccessRecord<'static>, RecordError> {
    if line.trim().is_empty() {
        return Err(RecordError::Blank);
    }
    let mut out = FieldWriter::with_capacity(line.len() + 512);
    let mut rest = line.trim_start();
    for (key, _) in &FIELDS[..BEFORE_TIME] {
        let (value, after) = rest
            .split_once(' ')
            .ok_or_else(|| RecordError::Shape(format!("the line ends before its {key} and [time]")))?;
        out.str(key, value);
        rest = after.trim_start();
    }
    let (time, rest) = rest
        .strip_prefix('[')
        .and_then(|rest| rest.split_once(']'))
        .ok_or_else(|| RecordError::Shape(format!("no [time] after the bucket: {:?}", truncated(rest))))?;
    let time_ms = chrono::DateTime::parse_from_str(time, "%d/%b/%Y:%H:%M:%S %z")
        .map_err(|_| RecordError::value("time", "[DD/Mon/YYYY:HH:MM:SS +ZZZZ]", time))?
        .timestamp_millis();
    let mut text = String::with_capacity(32);
    push_timestamp(&mut text, time_ms);
    out.raw_json("time", &text);

    let values = split_quoted(rest)?;
    let after_time = &FIELDS[BEFORE_TIME + 1..];
    let least = HTTP_STATUS - BEFORE_TIME;
    if values.len() < least {
        return Err(RecordError::TooFewValues {
            count: values.len(),
            layout: format!(
                "fields after the [time] where a line has at least {least} (through http_status)"
            ),
        });
    }
    let mut shared = Shared {
        kind: Some(EventKind::WebAccess),
        ..Shared::default()
    };
    for (index, ((key, kind), value)) in after_time.iter().zip(&values).enumerate() {
        let index = index + BEFORE_TIME + 1;
        let value = value.as_ref();
        match (index, kind) {
            (BYTES_SENT, _) => {
                let bytes = out.int(key, if value == "-" { "0" } else { value })?;
                shared.bytes = bytes.and_then(|bytes| u64::try_from(bytes).ok());
            }
            (HTTP_STATUS, _) => {
                let status = out.int(key, value)?;
                shared.http_status_code = status.and_then(|status| u16::try_from(status).ok());
            }
            (TOTAL_TIME, _) => {
                if let Some(ms) = out.int(key, value)?.and_then(|ms| u64::try_from(ms).ok()) {
                    shared.duration.add_millis(ms);
                }
            }
            (_, FieldType::Long) => {
                out.int(key, value)?;
            }
            _ => out.str(key, value),
        }
        let given = Some(value)
            .filter(|v| *v != "-" && !v.is_empty())
            .map(|value| Cow::Owned(value.to_string()));
        match index {
            REMOTE_IP => shared.client_ip = given,
            REQUESTER => shared.user_id = given,
            ERROR_CODE => shared.error_code = given,
            CIPHER_SUITE => shared.tls_cipher = given,
            HOST_HEADER => shared.url_domain = given,
            TLS_VERSION => shared.tls_protocol = given,
            REQUEST_URI => {
                let (method, url, _) = split_request(value);
                shared.http_method = method.map(|value| Cow::Owned(value.to_string()));
                shared.url_original = url.map(|value| Cow::Owned(value.to_string()));
            }
            USER_AGENT => shared.user_agent = given,
            _ => {}
        }
    }
    Ok(AccessRecord {
        time_ms: Some(time_ms),
        fields: out.finish(),
        shared,
    })
}

/// The start of a text, for an error message.
fn truncated(text: &str) -> &str {
    match text.char_indices().nth(40) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value, json};

    use super::super::check;
    use super::*;

    /// The five records of the page's example log as it stood in 2019–2022, before the
    /// `Access Point ARN`, `ACL Required` and `Source region` fields (24 fields).
    const SAMPLE_2019: &str = include_str!("../../../../../tests/fixtures/access/s3access-2019.log");
    /// The first two records of the page's example log today, with those three fields (27).
    const SAMPLE_CURRENT: &str = include_str!("../../../../../tests/fixtures/access/s3access-current.log");

    fn object(record: &AccessRecord) -> Map<String, Value> {
        check::object(&record.fields)
    }

    /// Every key written is in FIELDS, with a value of its mapping type.
    fn assert_typed(record: &AccessRecord) {
        check::typed(&record.fields, FIELDS);
    }

    #[test]
    fn the_documented_records_parse_into_typed_fields() {
        let records: Vec<AccessRecord> = SAMPLE_2019
            .lines()
            .chain(SAMPLE_CURRENT.lines())
            .map(|line| parse(line).unwrap())
            .collect();
        assert_eq!(records.len(), 7);
        records.iter().for_each(assert_typed);

        let first = &records[0];
        assert_eq!(first.time_ms, Some(1_549_411_238_000));
        assert_eq!(
            Value::Object(object(first)),
            json!({
                "bucket_owner": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
                "bucket": "awsexamplebucket1",
                "time": "2019-02-06T00:00:38.000Z",
                "remote_ip": "192.0.2.3",
                "requester": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
                "request_id": "3E57427F3EXAMPLE",
                "operation": "REST.GET.VERSIONING",
                "request_uri": "GET /awsexamplebucket1?versioning HTTP/1.1",
                "http_status": 200,
                "bytes_sent": 113,
                "total_time": 7,
                "user_agent": "S3Console/0.4",
                "host_id": "s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234=",
                "signature_version": "SigV2",
                "cipher_suite": "ECDHE-RSA-AES128-GCM-SHA256",
                "authentication_type": "AuthHeader",
                "host_header": "awsexamplebucket1.s3.us-west-1.amazonaws.com",
                "tls_version": "TLSV1.1",
            })
        );
        assert_eq!(
            first.shared,
            Shared {
                client_ip: Some("192.0.2.3".into()),
                client_port: None,
                http_method: Some("GET".into()),
                http_status_code: Some(200),
                url_original: Some("/awsexamplebucket1?versioning".into()),
                user_agent: Some("S3Console/0.4".into()),
                bytes: Some(113),
                kind: Some(EventKind::WebAccess),
                url_domain: Some("awsexamplebucket1.s3.us-west-1.amazonaws.com".into()),
                tls_cipher: Some("ECDHE-RSA-AES128-GCM-SHA256".into()),
                tls_protocol: Some("TLSV1.1".into()),
                duration: super::super::Duration::of_millis(7),
                user_id: Some("79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be".into()),
                ..Shared::default()
            }
        );

        let not_found = object(&records[2]);
        assert_eq!(not_found["http_status"], 404);
        assert_eq!(not_found["error_code"], "NoSuchBucketPolicy");

        // The PUT sent nothing back: `-` for zero bytes sent.
        let put = &records[4];
        assert_eq!(put.time_ms, Some(1_549_411_317_000));
        let fields = object(put);
        assert_eq!(fields["key"], "s3-dg.pdf");
        assert_eq!(fields["bytes_sent"], 0);
        assert_eq!(fields["object_size"], 4_406_583);
        assert_eq!(fields["total_time"], 41_754);
        assert_eq!(fields["turn_around_time"], 28);
        assert_eq!(put.shared.bytes, Some(0));
        assert_eq!(put.shared.http_method.as_deref(), Some("PUT"));

        let current = object(&records[5]);
        assert_eq!(
            current["access_point_arn"],
            "arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP"
        );
        assert_eq!(current["acl_required"], "Yes");
        assert_eq!(current["source_region"], "us-east-1");
        let second = object(&records[6]);
        assert!(!second.contains_key("access_point_arn") && !second.contains_key("acl_required"));
        assert_eq!(second["source_region"], "us-east-1");
    }

    #[test]
    fn trailing_fields_added_later_are_ignored() {
        let line = SAMPLE_CURRENT.lines().next().unwrap();
        let longer = format!("{line} some-future-field \"and another\"");
        assert_eq!(parse(&longer).unwrap(), parse(line).unwrap());
    }

    #[test]
    fn quoted_fields_keep_their_spaces_and_quotes() {
        let line = concat!(
            "owner bucket [01/Mar/2024:10:20:30 -0130] 2001:db8::7 - REQ1 REST.GET.OBJECT photos/a%20b.jpg ",
            r#""GET /bucket/photos/a%20b.jpg?x-user=jo%20e HTTP/1.1" 206 - 1024 4096 12 3 "#,
            r#""https://example.com/page?q=a b" "Mozilla/5.0 (X11; Linux) \"quoted\" agent" - HOST SigV4 - QueryString "#,
            "bucket.s3.amazonaws.com TLSv1.3"
        );
        let record = parse(line).unwrap();
        assert_typed(&record);
        // 10:20:30 at -01:30 is 11:50:30 UTC.
        assert_eq!(object(&record)["time"], "2024-03-01T11:50:30.000Z");
        let fields = object(&record);
        assert_eq!(fields["referer"], "https://example.com/page?q=a b");
        assert_eq!(fields["user_agent"], "Mozilla/5.0 (X11; Linux) \"quoted\" agent");
        assert_eq!(fields["key"], "photos/a%20b.jpg");
        assert!(!fields.contains_key("requester"));
        assert_eq!(record.shared.client_ip.as_deref(), Some("2001:db8::7"));
        assert_eq!(
            record.shared.url_original.as_deref(),
            Some("/bucket/photos/a%20b.jpg?x-user=jo%20e")
        );
        assert_eq!(
            record.shared.user_agent.as_deref(),
            Some("Mozilla/5.0 (X11; Linux) \"quoted\" agent")
        );
        assert_eq!(record.shared.http_status_code, Some(206));
    }

    #[test]
    fn a_short_older_line_keeps_what_it_has() {
        let record = parse(r#"owner bucket [04/Aug/2006:22:34:02 +0000] 72.21.206.5 - 3E57427F33A59F07 REST.GET.OBJECT - "GET /mybucket HTTP/1.1" 200"#).unwrap();
        assert_typed(&record);
        assert_eq!(object(&record).len(), 8);
        assert_eq!(record.shared.bytes, None);
    }

    #[test]
    fn bad_lines_say_what_is_wrong() {
        assert_eq!(parse("").unwrap_err(), "empty line");
        assert_eq!(
            parse("garbage").unwrap_err(),
            "the line ends before its bucket_owner and [time]"
        );
        assert_eq!(
            parse("a b c d e").unwrap_err(),
            "no [time] after the bucket: \"c d e\""
        );
        assert_eq!(
            parse("a b [yesterday] 1.2.3.4").unwrap_err(),
            "time is not [DD/Mon/YYYY:HH:MM:SS +ZZZZ]: \"yesterday\""
        );
        assert_eq!(
            parse("a b [06/Feb/2019:00:00:38 +0000] 1.2.3.4 -").unwrap_err(),
            "2 fields after the [time] where a line has at least 7 (through http_status)"
        );
        let line = SAMPLE_2019.lines().next().unwrap().replace(" 200 ", " OK ");
        assert_eq!(
            parse(&line).unwrap_err(),
            "http_status is not a whole number: \"OK\""
        );
        let unterminated = SAMPLE_2019
            .lines()
            .next()
            .unwrap()
            .replace("\"S3Console/0.4\" - ", "\"S3Console/0.4 - ");
        assert!(
            parse(&unterminated)
                .unwrap_err()
                .to_string()
                .contains("never ends")
        );
    }
}

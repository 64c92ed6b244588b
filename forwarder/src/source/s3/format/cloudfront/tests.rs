use serde_json::{Map, Value, json};

use super::super::check;
use super::*;
use crate::json::push_timestamp;

/// `@timestamp`'s text for a time.
fn iso(ms: i64) -> String {
    let mut out = String::new();
    push_timestamp(&mut out, ms);
    out.trim_matches('"').to_string()
}

/// The example log file of the reference page, verbatim: its `#Version` and `#Fields` lines
/// and six requests (the third ends with an extra tab, an empty trailing value).
const SAMPLE: &str = include_str!("../../../../../../tests/fixtures/access/cloudfront-standard.log");

/// The file read as the S3 reader reads it: the `#Fields:` line names the values of the lines
/// after it, other `#` lines are skipped.
fn parse_file(text: &str) -> Vec<Result<AccessRecord<'static>, RecordError>> {
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
            kind: Some(EventKind::WebAccess),
            request_bytes: Some(23),
            url_domain: Some("d111111abcdef8.cloudfront.net".into()),
            tls_cipher: Some("ECDHE-RSA-AES128-GCM-SHA256".into()),
            tls_protocol: Some("TLSv1.2".into()),
            duration: Duration::of_seconds(&[0.001]),
            ..Shared::default()
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

/// The reference page's example file
/// (<https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logs-reference.html>),
/// its lines given values after the 33 its `#Fields` line names, written for this test.
#[test]
fn values_after_the_layout_are_kept_in_extra_fields() {
    let header: Vec<String> = SAMPLE.lines().nth(1).unwrap()[8..]
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let context = Context {
        header: Some(&header),
    };
    let first = SAMPLE.lines().nth(2).unwrap();
    let longer = format!("{first}\tnew-value\t-\ta%20b");
    let record = parse(&longer, context).unwrap();
    assert_typed(&record);
    // As written, in order: `-` kept, nothing decoded.
    assert_eq!(
        object(&record)["extra_fields"],
        json!(["new-value", "-", "a%20b"])
    );
    // The 33 typed fields are those of the line without them.
    let mut fields = object(&record);
    fields.remove("extra_fields");
    assert_eq!(fields, object(&parse(first, context).unwrap()));

    // The third line of the documented file ends with a tab: 34 values for 33 names, the last
    // empty. It holds nothing, so it makes no list.
    let third = SAMPLE.lines().nth(4).unwrap();
    assert_eq!(third.split('\t').count(), 34);
    let records = parse_file(SAMPLE);
    assert!(
        records
            .iter()
            .all(|r| !object(r.as_ref().unwrap()).contains_key("extra_fields"))
    );
    assert_eq!(
        object(records[2].as_ref().unwrap()).len(),
        object(records[0].as_ref().unwrap()).len()
    );
    // Read without a `#Fields` line, by the documented 33: an empty value before one that is
    // written is kept.
    let record = parse(&format!("{third}\tnew-value"), Context::default()).unwrap();
    let mut fields = object(&record);
    assert_eq!(fields.remove("extra_fields"), Some(json!(["", "new-value"])));
    assert_eq!(fields, object(records[2].as_ref().unwrap()));
}

/// The documented header's first line, its last two values cut: 31 values where the `#Fields`
/// line names 33.
#[test]
fn a_line_shorter_than_its_fields_line_is_read_as_far_as_it_goes() {
    let header: Vec<String> = SAMPLE.lines().nth(1).unwrap()[8..]
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let context = Context {
        header: Some(&header),
    };
    let full: Vec<&str> = SAMPLE.lines().nth(2).unwrap().split('\t').collect();
    let short = full[..31].join("\t");
    let record = parse(&short, context).unwrap();
    let fields = check::typed(&record.fields, FIELDS);
    assert_eq!(iso(record.time_ms.unwrap()), "2019-12-04T21:02:31.000Z");
    assert_eq!(fields["c_port"], 11040);
    assert_eq!(fields["x_edge_detailed_result_type"], "Hit");
    assert_eq!(fields["sc_content_type"], "text/html");
    assert_eq!(fields["sc_content_len"], 78);
    assert_eq!(
        fields["missing_fields"],
        json!(["sc_range_start", "sc_range_end"])
    );
    assert_eq!(record.shared.http_status_code, Some(200));
    // The whole line: nothing is missing.
    let whole = parse(&full.join("\t"), context).unwrap();
    assert!(!object(&whole).contains_key("missing_fields"));

    // Names this module does not know are listed as they would have been keyed.
    let header: Vec<String> = ["c-ip", "date", "time", "sc-status", "cs(X-New-Header)"]
        .map(str::to_string)
        .into();
    let context = Context {
        header: Some(&header),
    };
    let record = parse("192.0.2.1\t2024-01-01\t00:00:01", context).unwrap();
    assert_eq!(
        object(&record)["missing_fields"],
        json!(["sc_status", "cs_x_new_header"])
    );
    assert_eq!(record.time_ms, Some(1_704_067_201_000));
    // A line that stops before its date and time is not read.
    assert_eq!(
        parse("192.0.2.1\t2024-01-01", context).unwrap_err(),
        "2 tab-separated values where the #Fields line names 5, 3 to its date and time"
    );
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
    assert_eq!(names.len(), DOCUMENTED);
    for (index, name) in names.iter().enumerate() {
        assert_eq!(position(name), Some(index), "{name}");
        assert_eq!(snake_case(name), FIELDS[index].0);
    }
    assert_eq!(snake_case("cs(User-Agent)"), "cs_user_agent");
}

#[test]
fn url_encoding_is_undone_once() {
    let url = |value| decode(value, Escapes::Url);
    assert_eq!(url("Mozilla/5.0%20(X11)"), "Mozilla/5.0 (X11)");
    assert_eq!(
        url("%3Cb%3E%22q%22%23%7B%7D%7C%5C%5E%7E%5B%5D%60%27"),
        "<b>\"q\"#{}|\\^~[]`'"
    );
    assert_eq!(url("100%25%2520"), "100%%20");
    assert_eq!(url("caf%C3%A9"), "café");
    assert_eq!(url("50% off %zz %4"), "50% off %zz %4");
    assert!(matches!(url("plain"), Cow::Borrowed("plain")));
    // Bytes that are not UTF-8: the value as written, not a replacement character.
    assert_eq!(url("%FF"), "%FF");
    assert_eq!(url("caf%C3%A9%FF"), "caf%C3%A9%FF");
    // `\xHH` is not URL encoding: kept where only `%XX` is undone.
    assert_eq!(url("a,\\x20b"), "a,\\x20b");
}

#[test]
fn hex_escapes_are_undone_where_asked_and_kept_when_invalid() {
    let hex = |value| decode(value, Escapes::UrlAndHex);
    assert_eq!(
        hex("10.3.200.121,\\x2010.56.14.213"),
        "10.3.200.121, 10.56.14.213"
    );
    assert_eq!(hex("a\\x2Cb%20c"), "a,b c");
    assert_eq!(hex("caf\\xC3\\xA9"), "café");
    // Not two hex digits after `\x`, or no `x` after `\`: kept as written.
    assert_eq!(hex("a\\x2 \\xzz \\x \\y \\"), "a\\x2 \\xzz \\x \\y \\");
    // A viewer's backslash is logged `%5C`: undone once, its `x20` left alone.
    assert_eq!(hex("%5Cx20"), "\\x20");
    // Bytes that are not UTF-8: the value as written.
    assert_eq!(hex("a\\xFFb"), "a\\xFFb");
    assert!(matches!(hex("192.0.2.1"), Cow::Borrowed("192.0.2.1")));
}

/// A line of the documented example file with `x-forwarded-for` holding two addresses, written
/// as issue 28 found them in real logs: `,\x20` between them.
#[test]
fn escaped_forwarded_addresses_are_separate_searchable_values() {
    let header: Vec<String> = SAMPLE.lines().nth(1).unwrap()[8..]
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let mut values: Vec<&str> = SAMPLE.lines().nth(2).unwrap().split('\t').collect();
    values[X_FORWARDED_FOR] = "10.3.200.121,\\x2010.56.14.213";
    values[CS_USER_AGENT] = "curl/8.0%20x\\x20y";
    let record = parse(
        &values.join("\t"),
        Context {
            header: Some(&header),
        },
    )
    .unwrap();
    let fields = check::typed(&record.fields, FIELDS);
    assert_eq!(fields["x_forwarded_for"], json!(["10.3.200.121", "10.56.14.213"]));
    // Only `x-forwarded-for` has `\xHH` undone.
    assert_eq!(fields["cs_user_agent"], "curl/8.0 x\\x20y");
    assert_eq!(record.shared.client_ip.as_deref(), Some("192.0.2.100"));

    let header: Vec<String> = ["c-ip", "x-forwarded-for"].map(str::to_string).into();
    let context = Context {
        header: Some(&header),
    };
    // One address and an invalid escape: the value as written, one string.
    let one = parse("192.0.2.1\t203.0.113.9\\x2", context).unwrap();
    assert_eq!(object(&one)["x_forwarded_for"], "203.0.113.9\\x2");
    let three = parse("192.0.2.1\t203.0.113.9,\\x202001:db8::1,%20198.51.100.7", context).unwrap();
    assert_typed(&three);
    assert_eq!(
        object(&three)["x_forwarded_for"],
        json!(["203.0.113.9", "2001:db8::1", "198.51.100.7"])
    );
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
        "1 tab-separated values where the #Fields line names 33, 2 to its date and time"
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

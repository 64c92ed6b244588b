use serde_json::json;

use super::super::{check, cloudfront};
use super::*;

/// One record of every documented field, in the page's order (see the fixtures' README).
const ALL: &str = include_str!("../../../../../../tests/fixtures/access/cloudfront-realtime-all-fields.tsv");
/// One record of a configuration of seven fields.
const SEVEN: &str =
    include_str!("../../../../../../tests/fixtures/access/cloudfront-realtime-seven-fields.tsv");
const SEVEN_FIELDS: &str = "timestamp,c-ip,time-to-first-byte,sc-status,sc-bytes,cs-method,cs-uri-stem";

fn parse_with(line: &str, fields: &RealtimeFields) -> Result<AccessRecord<'static>, RecordError> {
    let context = Context {
        header: Some(fields.names().as_slice()),
    };
    parse(line, context)
}

#[test]
fn a_record_of_every_field_is_written_as_a_standard_log_line_is() {
    let record = parse_with(ALL, &RealtimeFields::default()).unwrap();
    let fields = check::typed(&record.fields, FIELDS);
    // 2019-12-04T21:02:31.123Z.
    assert_eq!(record.time_ms, Some(1_575_493_351_123));
    assert_eq!(fields["timestamp"], 1_575_493_351.123);
    assert_eq!(fields["c_ip"], "192.0.2.100");
    assert_eq!(fields["sc_status"], 200);
    assert_eq!(fields["time_taken"], 0.082);
    assert_eq!(fields["x_edge_location"], "DFW3");
    // The standard logs' meaning: x_host_header the viewer's Host, cs_host the distribution.
    assert_eq!(fields["x_host_header"], "www.example.com");
    assert_eq!(fields["cs_host"], "d111111abcdef8.cloudfront.net");
    // The path alone, as in standard logs; the query as its own field.
    assert_eq!(fields["cs_uri_stem"], "/images/cat.jpg");
    assert_eq!(fields["cs_uri_query"], "mobile=true");
    assert_eq!(
        fields["cs_user_agent"],
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3904.108 Safari/537.36"
    );
    assert_eq!(fields["cs_header_names"], "Host\nUser-Agent");
    assert_eq!(fields["cs_headers_count"], 2);
    assert_eq!(fields["c_country"], "US");
    assert_eq!(fields["asn"], 16509);
    assert_eq!(fields["c_port"], 11040);
    for absent in [
        "cs_referer",
        "cs_cookie",
        "x_forwarded_for",
        "origin_fbl",
        "extra_fields",
    ] {
        assert!(!fields.contains_key(absent), "{absent}");
    }
    let shared = &record.shared;
    assert_eq!(shared.kind, Some(EventKind::WebAccess));
    assert_eq!(shared.client_ip.as_deref(), Some("192.0.2.100"));
    assert_eq!(shared.client_port, Some(11040));
    assert_eq!(shared.http_method.as_deref(), Some("GET"));
    assert_eq!(shared.http_status_code, Some(200));
    assert_eq!(
        shared.url_original.as_deref(),
        Some("/images/cat.jpg?mobile=true")
    );
    assert_eq!(shared.url_domain.as_deref(), Some("www.example.com"));
    assert_eq!((shared.bytes, shared.request_bytes), (Some(392), Some(23)));
    assert_eq!(shared.tls_protocol.as_deref(), Some("TLSv1.2"));
    assert_eq!(shared.tls_cipher.as_deref(), Some("ECDHE-RSA-AES128-GCM-SHA256"));
    assert_eq!(shared.country.as_deref(), Some("US"));
    assert_eq!(shared.duration.nanos(), Some(82_000_000));
}

#[test]
fn values_are_read_in_the_order_the_setting_gives() {
    let seven = RealtimeFields::parse(SEVEN_FIELDS).unwrap();
    let record = parse_with(SEVEN, &seven).unwrap();
    let fields = check::object(&record.fields);
    assert_eq!(
        serde_json::Value::Object(fields),
        json!({
            "timestamp": 1_575_493_351.0,
            "c_ip": "192.0.2.100",
            "time_to_first_byte": 0.001,
            "sc_status": 200,
            "sc_bytes": 392,
            "cs_method": "GET",
            "cs_uri_stem": "/index.html",
        })
    );
    assert_eq!(record.time_ms, Some(1_575_493_351_000));
    // The same line read by the documented order puts its seventh value in `cs-protocol`.
    let wrong = parse_with(SEVEN, &RealtimeFields::default()).unwrap();
    let fields = check::object(&wrong.fields);
    assert_eq!(fields["cs_protocol"], "/index.html");
    assert!(!fields.contains_key("cs_uri_stem"));
}

#[test]
fn the_setting_names_known_fields_once() {
    let fields = RealtimeFields::parse(" timestamp , c-ip,sc-status ").unwrap();
    assert_eq!(fields.names().as_slice(), ["timestamp", "c-ip", "sc-status"]);
    assert_eq!(
        RealtimeFields::parse("timestamp,cs(Host)")
            .unwrap_err()
            .to_string(),
        r#""cs(Host)" is not a CloudFront real-time log field (e.g. timestamp, c-ip, sc-status)"#
    );
    assert!(matches!(
        RealtimeFields::parse("c-ip,c-ip"),
        Err(FieldsError::Twice { .. })
    ));
    assert_eq!(RealtimeFields::parse(" , "), Err(FieldsError::Empty));
    assert_eq!(
        RealtimeFields::parse("c-ip,sc-status,timestamp")
            .unwrap_err()
            .to_string(),
        r#""c-ip" is named before "timestamp", but CloudFront writes "timestamp" first (records follow the documented order)"#
    );
    // A field AWS added later is accepted and kept under its snake_case name.
    let later = RealtimeFields::parse("timestamp,primary-distribution-id").unwrap();
    let record = parse_with("1575493351.123\tE2EXAMPLE12345", &later).unwrap();
    assert_eq!(
        check::object(&record.fields)["primary_distribution_id"],
        "E2EXAMPLE12345"
    );
    assert_eq!(RealtimeFields::default().names().len(), DOCUMENTED.len());
}

#[test]
fn a_record_is_recognised_by_its_timestamp_at_the_configured_place() {
    let all = RealtimeFields::default();
    assert!(all.recognises(ALL.as_bytes()));
    let seven = RealtimeFields::parse(SEVEN_FIELDS).unwrap();
    assert!(seven.recognises(SEVEN.as_bytes()));
    // Timestamp second, after a field AWS added later: the first value is not a time.
    let second = RealtimeFields::parse("primary-distribution-id,timestamp").unwrap();
    assert!(!second.recognises(SEVEN.as_bytes()));
    assert!(second.recognises(b"E2EXAMPLE12345\t1575493351.123"));
    // A time without its fraction, plain text, gzip, JSON: not real-time records.
    assert!(!seven.recognises(b"1575493351\t192.0.2.100"));
    assert!(!all.recognises(b"Hello, this is a test."));
    assert!(!all.recognises(&[0x1f, 0x8b, 8, 0]));
    assert!(!all.recognises(br#"{"messageType":"DATA_MESSAGE"}"#));
    // Without a timestamp, the number of values decides.
    let no_time = RealtimeFields::parse("c-ip,sc-status").unwrap();
    assert!(no_time.recognises(b"192.0.2.100\t200\n"));
    assert!(!no_time.recognises(b"192.0.2.100\t200\tGET"));
}

#[test]
fn a_malformed_record_says_why() {
    let seven = RealtimeFields::parse(SEVEN_FIELDS).unwrap();
    let bad = SEVEN.replace("\t200\t", "\tOK\t");
    assert_eq!(
        parse_with(&bad, &seven).unwrap_err().to_string(),
        r#"sc_status is not a whole number: "OK""#
    );
    let short = parse_with("1575493351.000\t192.0.2.100", &seven).unwrap();
    assert_eq!(
        check::object(&short.fields)["missing_fields"],
        json!([
            "time_to_first_byte",
            "sc_status",
            "sc_bytes",
            "cs_method",
            "cs_uri_stem"
        ])
    );
    let longer = parse_with(&format!("{}\textra", SEVEN.trim_end()), &seven).unwrap();
    assert_eq!(check::object(&longer.fields)["extra_fields"], json!(["extra"]));
    let second = RealtimeFields::parse("primary-distribution-id,timestamp").unwrap();
    assert_eq!(
        parse_with("E2EXAMPLE12345", &second).unwrap_err().to_string(),
        "1 tab-separated values where the real-time fields are 2, 2 to its timestamp"
    );
    assert_eq!(parse_with("\n", &seven).unwrap_err(), RecordError::Blank);
}

#[test]
fn the_fields_both_cloudfront_logs_write_have_one_type() {
    for (name, kind) in FIELDS {
        if let Some((_, standard)) = cloudfront::FIELDS.iter().find(|(other, _)| other == name) {
            assert_eq!(kind, standard, "{name}");
        }
    }
    assert_eq!(FIELDS.len(), DOCUMENTED.len() + 2);
    // Each documented field writes the entry at its own place, under its snake_case name but
    // for the two the standard logs name the other way round.
    for (name, (key, _)) in DOCUMENTED.iter().zip(FIELDS) {
        let expected = match *name {
            "cs-host" => "x_host_header".to_string(),
            "x-host-header" => "cs_host".to_string(),
            name => cloudfront::snake_case(name),
        };
        assert_eq!(*key, expected, "{name}");
    }
}

use serde_json::{Value, json};

use super::super::positional::check::{covers, typed};
use super::super::{Duration, Shared};
use super::*;

/// The page's seven examples as AWS published them in 2023 (29 fields, up to
/// `classification_reason`): see tests/fixtures/access/README.md.
const DOCS: &str = include_str!("../../../../../../tests/fixtures/access/alb-access-docs.log");
/// The page's two connection log examples.
const CONNECTION_DOCS: &str = include_str!("../../../../../../tests/fixtures/access/alb-connection-docs.log");

/// The HTTP example of the access log page as it reads today, with `conn_trace_id` (30 fields),
/// <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html#access-log-entry-examples>.
const HTTP: &str = r#"http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1234abcd5678ef90"#;

fn fields(record: &AccessRecord) -> Value {
    typed(&record.fields, FIELDS)
}

fn docs(number: usize) -> AccessRecord<'static> {
    parse(DOCS.lines().nth(number - 1).unwrap()).unwrap()
}

#[test]
fn the_documented_http_entry_parses_into_typed_fields() {
    let record = parse(HTTP).unwrap();
    assert_eq!(record.time_ms, Some(1_530_570_180_186));
    assert_eq!(
        fields(&record),
        json!({
            "type": "http",
            "elb": "app/my-loadbalancer/50dc6c495c0c9188",
            "client_ip": "192.168.131.39",
            "client_port": 2817,
            "target_ip": "10.0.0.1",
            "target_port": 80,
            "request_processing_time": 0.0,
            "target_processing_time": 0.001,
            "response_processing_time": 0.0,
            "elb_status_code": 200,
            "target_status_code": 200,
            "received_bytes": 34,
            "sent_bytes": 366,
            "request_method": "GET",
            "request_url": "http://www.example.com:80/",
            "request_protocol": "HTTP/1.1",
            "target_group_arn": "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067",
            "trace_id": "Root=1-58337262-36d228ad5d99923122bbe354",
            "matched_rule_priority": 0,
            "request_creation_time": "2018-07-02T22:22:48.364000Z",
            "actions_executed": ["forward"],
            "target_port_list": ["10.0.0.1:80"],
            "target_status_code_list": [200],
            "conn_trace_id": "TID_1234abcd5678ef90",
        })
    );
    assert_eq!(
        record.shared,
        Shared {
            client_ip: Some("192.168.131.39".into()),
            client_port: Some(2817),
            http_method: Some("GET".into()),
            http_status_code: Some(200),
            url_original: Some("http://www.example.com:80/".into()),
            user_agent: Some("curl/7.46.0".into()),
            bytes: Some(366),
            kind: Some(EventKind::WebAccess),
            target_ip: Some("10.0.0.1".into()),
            target_port: Some(80),
            request_bytes: Some(34),
            trace_id: Some("Root=1-58337262-36d228ad5d99923122bbe354".into()),
            duration: Duration::of_seconds(&[0.0, 0.001, 0.0]),
            ..Shared::default()
        }
    );
    // The user agent is shared, not repeated under `alb`; `time` is `@timestamp`.
    assert!(!record.fields.contains("user_agent") && !record.fields.contains("\"time\""));
}

#[test]
fn every_documented_example_parses_with_the_fields_typed() {
    for (number, line) in DOCS.lines().enumerate() {
        let record = parse(line).unwrap_or_else(|err| panic!("example {}: {err}", number + 1));
        fields(&record);
        assert!(record.time_ms.is_some());
    }
    // HTTPS: TLS, SNI, certificate, two actions.
    let https = fields(&docs(2));
    assert_eq!(https["ssl_cipher"], "ECDHE-RSA-AES128-GCM-SHA256");
    assert_eq!(https["ssl_protocol"], "TLSv1.2");
    assert_eq!(https["domain_name"], "www.example.com");
    assert_eq!(
        https["chosen_cert_arn"],
        "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012"
    );
    assert_eq!(https["actions_executed"], json!(["authenticate", "forward"]));
    assert_eq!(https["request_processing_time"], 0.086);
    // HTTP/2: a redirect.
    let h2 = fields(&docs(3));
    assert_eq!(h2["redirect_url"], "https://example.com:80/");
    assert_eq!(h2["request_protocol"], "HTTP/2.0");
    assert_eq!(h2["target_port_list"], json!(["10.0.0.66:9000"]));
    // WebSockets: no user agent.
    let ws = docs(4);
    assert_eq!(ws.shared.user_agent, None);
    assert_eq!(ws.shared.http_status_code, Some(101));
    // Lambda: no target; a failed invocation has no target status and an error reason.
    let lambda = fields(&docs(6));
    assert!(lambda.get("target_ip").is_none() && lambda.get("target_port_list").is_none());
    let failed = docs(7);
    let failed_fields = fields(&failed);
    assert_eq!(failed_fields["elb_status_code"], 502);
    assert!(failed_fields.get("target_status_code").is_none());
    assert_eq!(failed_fields["error_reason"], "LambdaInvalidResponse");
    assert_eq!(failed.shared.http_status_code, Some(502));
}

#[test]
fn fields_aws_adds_later_are_kept_in_extra_fields() {
    // Today's lines end with the transform fields; lines seen in the wild carry more after them.
    let later = fields(&parse(&format!(r#"{HTTP} "-" "-" "-" 192.0.2.44 "-" "-""#)).unwrap());
    assert_eq!(later["extra_fields"], json!(["192.0.2.44", "-", "-"]));
    assert!(later.get("transformed_host").is_none());
    assert_eq!(later["conn_trace_id"], "TID_1234abcd5678ef90");

    let transformed = fields(
        &parse(&format!(
            r#"{HTTP} "internal.example.com" "/v2/" "TransformSuccess""#
        ))
        .unwrap(),
    );
    assert_eq!(transformed["transformed_host"], "internal.example.com");
    assert_eq!(transformed["transformed_uri"], "/v2/");
    assert_eq!(transformed["request_transform_status"], "TransformSuccess");
    assert!(transformed.get("extra_fields").is_none());

    // A trailing `-` ahead of a field's release is not worth keeping.
    let dashes = parse(&format!(r#"{HTTP} "-" "-" "-" - "-""#))
        .unwrap()
        .into_owned();
    assert!(!dashes.fields.contains("extra_fields"));
}

#[test]
fn older_lines_with_fewer_fields_parse_as_far_as_they_go() {
    // The HTTP example as the page showed it in 2018, before the target lists and the
    // classification fields (25 fields).
    let line = r#"http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward" "-" "-""#;
    let older = fields(&parse(line).unwrap());
    assert_eq!(older["actions_executed"], json!(["forward"]));
    assert!(older.get("target_port_list").is_none() && older.get("extra_fields").is_none());

    // Down to the user agent, the least a line needs.
    let oldest = r#"http 2016-08-10T22:08:42.945958Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0""#;
    let record = parse(oldest).unwrap();
    assert_eq!(record.time_ms, Some(1_470_866_922_945));
    assert_eq!(record.shared.user_agent.as_deref(), Some("curl/7.46.0"));
    assert_eq!(fields(&record)["sent_bytes"], 366);

    let short = oldest.trim_end_matches(r#" "curl/7.46.0""#);
    assert_eq!(
        parse(short).unwrap_err(),
        "13 fields, an ALB access log line has at least 14 (type to user_agent)"
    );
}

#[test]
fn quoted_fields_keep_their_spaces_and_escaped_quotes() {
    let line = HTTP
        .replace(
            r#""curl/7.46.0""#,
            r#""Mozilla/5.0 (X11; Linux x86_64) \"Quoted\" Gecko/20100101 Firefox/135.0""#,
        )
        .replace(
            "GET http://www.example.com:80/ HTTP/1.1",
            "GET http://www.example.com:80/a b HTTP/1.1",
        );
    let record = parse(&line).unwrap();
    assert_eq!(
        record.shared.user_agent.as_deref(),
        Some(r#"Mozilla/5.0 (X11; Linux x86_64) "Quoted" Gecko/20100101 Firefox/135.0"#)
    );
    // A space in the URL (AWS's `SpaceInUri`) stays in the URL.
    assert_eq!(
        record.shared.url_original.as_deref(),
        Some("http://www.example.com:80/a b")
    );
    let written = fields(&record);
    assert_eq!(written["request_protocol"], "HTTP/1.1");
    // The fields after them are where they belong.
    assert_eq!(written["conn_trace_id"], "TID_1234abcd5678ef90");
}

#[test]
fn ipv6_clients_split_into_address_and_port() {
    let line = HTTP.replace("192.168.131.39:2817", "2001:db8:85a3::8a2e:370:7334:57934");
    let record = parse(&line).unwrap();
    assert_eq!(
        record.shared.client_ip.as_deref(),
        Some("2001:db8:85a3::8a2e:370:7334")
    );
    assert_eq!(record.shared.client_port, Some(57934));
    assert_eq!(fields(&record)["client_ip"], "2001:db8:85a3::8a2e:370:7334");

    let bracketed = parse(&HTTP.replace("10.0.0.1:80 0.000", "[2001:db8::1]:8080 0.000"))
        .unwrap()
        .into_owned();
    let target = fields(&bracketed);
    assert_eq!(target["target_ip"], "2001:db8::1");
    assert_eq!(target["target_port"], 8080);
}

#[test]
fn a_request_never_dispatched_keeps_minus_one_and_has_no_target() {
    // The shape of a malformed request: no target, times -1, no target status, the request
    // line as the load balancer could read it.
    let line = r#"http 2025-03-01T10:03:17.218099Z app/my-loadbalancer/50dc6c495c0c9188 192.0.2.10:61084 - -1 -1 -1 400 - 0 272 "- http://my-loadbalancer-1234567890.us-east-2.elb.amazonaws.com:80- -" "-" - - - "-" "-" "-" - 2025-03-01T10:03:16.682000Z "-" "-" "-" "-" "-" "-" "-" TID_6cfb27fd2ef25c42932bd6e0ff56d631"#;
    let record = parse(line).unwrap();
    assert_eq!(record.time_ms, Some(1_740_823_397_218));
    assert_eq!(
        fields(&record),
        json!({
            "type": "http",
            "elb": "app/my-loadbalancer/50dc6c495c0c9188",
            "client_ip": "192.0.2.10",
            "client_port": 61084,
            "request_processing_time": -1,
            "target_processing_time": -1,
            "response_processing_time": -1,
            "elb_status_code": 400,
            "received_bytes": 0,
            "sent_bytes": 272,
            "request_url": "http://my-loadbalancer-1234567890.us-east-2.elb.amazonaws.com:80-",
            "request_creation_time": "2025-03-01T10:03:16.682000Z",
            "conn_trace_id": "TID_6cfb27fd2ef25c42932bd6e0ff56d631",
        })
    );
    assert_eq!(record.shared.http_method, None);
    assert_eq!(record.shared.user_agent, None);
    assert_eq!(record.shared.http_status_code, Some(400));
}

#[test]
fn bad_lines_say_what_is_wrong() {
    let error = |line: &str| parse(line).unwrap_err();
    assert_eq!(error(""), "an empty line");
    assert_eq!(error("   "), "an empty line");
    assert_eq!(
        error("hello world"),
        "2 fields, an ALB access log line has at least 14 (type to user_agent)"
    );
    assert_eq!(
        error(&HTTP.replace(" 200 200 ", " abc 200 ")),
        r#"field 9 (elb_status_code) is not a whole number: "abc""#
    );
    assert_eq!(
        error(&HTTP.replace("2018-07-02T22:23:00.186641Z", "yesterday")),
        r#"field 2 (time) is not an ISO 8601 time: "yesterday""#
    );
    assert_eq!(
        error(&HTTP.replace("192.168.131.39:2817", "nobody:2817")),
        r#"field 4 (client:port) is not an IP address and port: "nobody:2817""#
    );
    assert_eq!(
        error(&HTTP.replace(r#""200" "-""#, r#""2xx" "-""#)),
        r#"field 27 (target_status_code_list) is not a list of whole numbers: "2xx""#
    );
    assert_eq!(
        error(&HTTP.replace("2018-07-02T22:22:48.364000Z", "2018-07-02 22:22:48Z")),
        r#"field 22 (request_creation_time) is not an ISO 8601 time: "2018-07-02""#
    );
    assert_eq!(
        error(&HTTP.replace("0.001 0.000", "fast 0.000")),
        r#"field 7 (target_processing_time) is not a number: "fast""#
    );
    assert_eq!(
        error(r#"http 2018-07-02T22:23:00.186641Z app/my-loadbalancer "GET http://www.example.com:80/"#),
        "the quoted field at byte 53 never ends"
    );
    // Too few fields is said first, whatever else is wrong.
    assert_eq!(
        error("http yesterday"),
        "2 fields, an ALB access log line has at least 14 (type to user_agent)"
    );
}

#[test]
fn fields_lists_every_key_the_parsers_write() {
    covers(&ACCESS, FIELDS);
    covers(&CONNECTION, CONNECTION_FIELDS);
}

#[test]
fn the_documented_connection_entries_parse_into_typed_fields() {
    let mut lines = CONNECTION_DOCS.lines();
    let record = parse_connection(lines.next().unwrap()).unwrap();
    assert_eq!(record.time_ms, Some(1_696_439_115_514));
    assert_eq!(
        typed(&record.fields, CONNECTION_FIELDS),
        json!({
            "client_ip": "203.0.113.1",
            "client_port": 36280,
            "listener_port": 443,
            "tls_protocol": "TLSv1.2",
            "tls_cipher": "ECDHE-RSA-AES128-GCM-SHA256",
            "tls_handshake_latency": 4.036,
            "leaf_client_cert_subject": "CN=amazondomains.com,O=endEntity,L=Seattle,ST=Washington,C=US",
            "leaf_client_cert_validity": "NotBefore=2023-09-21T22:43:21Z;NotAfter=2026-06-17T22:43:21Z",
            "leaf_client_cert_not_before": "2023-09-21T22:43:21Z",
            "leaf_client_cert_not_after": "2026-06-17T22:43:21Z",
            "leaf_client_cert_serial_number": "FEF257372D5C14D4",
            "tls_verify_status": "Success",
            "conn_trace_id": "TID_3180a73013c8ca4bac2f731159d4b0fe",
        })
    );
    assert_eq!(
        record.shared,
        Shared {
            kind: Some(EventKind::Connection),
            client_ip: Some("203.0.113.1".into()),
            client_port: Some(36280),
            tls_cipher: Some("ECDHE-RSA-AES128-GCM-SHA256".into()),
            tls_protocol: Some("TLSv1.2".into()),
            ..Shared::default()
        }
    );

    let failed = parse_connection(lines.next().unwrap()).unwrap();
    let fields = typed(&failed.fields, CONNECTION_FIELDS);
    assert_eq!(fields["tls_verify_status"], "Failed:ClientCertUntrusted");
    assert!(fields.get("tls_handshake_latency").is_none());
}

#[test]
fn connection_lines_old_and_new_parse() {
    let line = CONNECTION_DOCS.lines().next().unwrap();
    // `tls_keyexchange`, the 13th field the page lists today, and one after it.
    let record = parse_connection(&format!("{line} X25519 future"))
        .unwrap()
        .into_owned();
    let fields = typed(&record.fields, CONNECTION_FIELDS);
    assert_eq!(fields["tls_keyexchange"], "X25519");
    assert_eq!(fields["extra_fields"], json!(["future"]));
    // As connection logs first shipped, before `conn_trace_id`.
    let (first, _) = line.rsplit_once(' ').unwrap();
    assert!(parse_connection(first).is_ok());
    let (shorter, _) = first.rsplit_once(' ').unwrap();
    assert_eq!(
        parse_connection(shorter).unwrap_err(),
        "10 fields, an ALB connection log line has at least 11 (timestamp to tls_verify_status)"
    );
    // A plain HTTP connection: no TLS, no certificate.
    let plain =
        parse_connection("2023-10-04T17:05:15.514108Z 2001:db8::7 36280 80 - - - \"-\" - - - TID_1").unwrap();
    assert_eq!(
        typed(&plain.fields, CONNECTION_FIELDS),
        json!({"client_ip": "2001:db8::7", "client_port": 36280, "listener_port": 80, "conn_trace_id": "TID_1"})
    );
    assert_eq!(
        parse_connection(&line.replace("203.0.113.1", "somewhere")).unwrap_err(),
        r#"field 2 (client_ip) is not an IP address: "somewhere""#
    );
}

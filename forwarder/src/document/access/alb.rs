//! Application Load Balancer logs, as AWS documents them: access logs
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html>)
//! and connection logs
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-connection-logs.html>).
//! Their lines are read by [`super::positional`], which the NLB and Classic Load Balancer logs
//! share.
//!
//! A line is fields in a documented order, separated by spaces; a field in `"quotes"` may hold
//! spaces (`\"` inside is a quote) and `-` means "no value" (the field is left out). Each field is
//! written under AWS's name in snake_case, with these readings:
//! - `client:port` and `target:port` become `client_ip` (an `ip`) and `client_port`, `target_ip`
//!   and `target_port`; an address that is not an IP address makes the line a parse error;
//! - `"request"` becomes `request_method`, `request_url` and `request_protocol` (the method is
//!   before the first space and the protocol after the last, so a URL with a space, which AWS
//!   logs as the client sent it, stays whole) and fills `http.method` and `url.original`;
//! - `"user_agent"` fills the shared top-level `user_agent` only, not a copy under `alb` (it may be
//!   8 KB);
//! - `time` becomes `@timestamp`; the other times (`request_creation_time`) are dates;
//! - durations are numbers of seconds, and `-1` stays `-1`: AWS writes it when the load balancer
//!   could not dispatch the request or the target did not answer before the idle timeout;
//! - lists become JSON arrays: `actions_executed` (comma-separated, `["waf","forward"]`),
//!   `target_port_list` (space-separated `ip:port`, as strings) and `target_status_code_list`
//!   (numbers).
//!
//! AWS adds new fields at the end of the line ("ignore any fields at the end of the log entry that
//! you were not expecting"). The ones after the last field this module knows are kept as written,
//! in order, in `extra_fields` (a list of strings), unless they are all `-`: AWS writes a trailing
//! `-` while it prepares to release a field. A line with fewer fields, written before AWS added
//! the later ones (a backfill reads years-old logs), is parsed as far as it goes, as long as it
//! has the fields up to `user_agent` (access logs) or `tls_verify_status` (connection logs, as they
//! first shipped).
//!
//! The ALB parser runs on every line of a large log, so it borrows from the line: fields are read
//! one at a time (no vector of fields) and written straight into the [`FieldWriter`].

use super::positional::{
    Column, Kind, Layout, Share, address, date, decimal, ip, list, request, text, time, user_agent, whole,
    whole_list,
};
use super::{AccessRecord, FieldType};

/// Every field the access log parser writes under `alb`.
pub const FIELDS: &[(&str, FieldType)] = &[
    ("type", FieldType::Keyword),
    ("elb", FieldType::Keyword),
    ("client_ip", FieldType::Ip),
    ("client_port", FieldType::Long),
    ("target_ip", FieldType::Ip),
    ("target_port", FieldType::Long),
    ("request_processing_time", FieldType::Double),
    ("target_processing_time", FieldType::Double),
    ("response_processing_time", FieldType::Double),
    ("elb_status_code", FieldType::Long),
    ("target_status_code", FieldType::Long),
    ("received_bytes", FieldType::Long),
    ("sent_bytes", FieldType::Long),
    ("request_method", FieldType::Keyword),
    ("request_url", FieldType::Keyword),
    ("request_protocol", FieldType::Keyword),
    ("ssl_cipher", FieldType::Keyword),
    ("ssl_protocol", FieldType::Keyword),
    ("target_group_arn", FieldType::Keyword),
    ("trace_id", FieldType::Keyword),
    ("domain_name", FieldType::Keyword),
    ("chosen_cert_arn", FieldType::Keyword),
    ("matched_rule_priority", FieldType::Long),
    ("request_creation_time", FieldType::Date),
    ("actions_executed", FieldType::Keyword),
    ("redirect_url", FieldType::Keyword),
    ("error_reason", FieldType::Keyword),
    ("target_port_list", FieldType::Keyword),
    ("target_status_code_list", FieldType::Long),
    ("classification", FieldType::Keyword),
    ("classification_reason", FieldType::Keyword),
    ("conn_trace_id", FieldType::Keyword),
    ("transformed_host", FieldType::Keyword),
    ("transformed_uri", FieldType::Keyword),
    ("request_transform_status", FieldType::Keyword),
    ("extra_fields", FieldType::Keyword),
];

/// The access log fields, in AWS's order.
pub(super) const ACCESS: Layout = Layout {
    what: "an ALB access log line",
    quoted: true,
    required: 14,
    columns: &[
        text("type"),
        time("time"),
        text("elb"),
        address("client:port", "client_ip", "client_port").shared(Share::Client),
        address("target:port", "target_ip", "target_port"),
        decimal("request_processing_time"),
        decimal("target_processing_time"),
        decimal("response_processing_time"),
        whole("elb_status_code").shared(Share::StatusCode),
        whole("target_status_code"),
        whole("received_bytes"),
        whole("sent_bytes").shared(Share::Bytes),
        request("request"),
        user_agent("user_agent"),
        text("ssl_cipher"),
        text("ssl_protocol"),
        text("target_group_arn"),
        text("trace_id"),
        text("domain_name"),
        text("chosen_cert_arn"),
        whole("matched_rule_priority"),
        date("request_creation_time"),
        list("actions_executed", ','),
        text("redirect_url"),
        text("error_reason"),
        list("target_port_list", ' '),
        whole_list("target_status_code_list", ' '),
        text("classification"),
        text("classification_reason"),
        text("conn_trace_id"),
        text("transformed_host"),
        text("transformed_uri"),
        text("request_transform_status"),
    ],
};

/// Parses one line of an ALB access log.
pub fn parse(line: &str) -> Result<AccessRecord<'_>, String> {
    ACCESS.parse(line)
}

/// Every field the connection log parser writes under `alb_connection`.
pub const CONNECTION_FIELDS: &[(&str, FieldType)] = &[
    ("client_ip", FieldType::Ip),
    ("client_port", FieldType::Long),
    ("listener_port", FieldType::Long),
    ("tls_protocol", FieldType::Keyword),
    ("tls_cipher", FieldType::Keyword),
    ("tls_handshake_latency", FieldType::Double),
    ("leaf_client_cert_subject", FieldType::Keyword),
    ("leaf_client_cert_validity", FieldType::Keyword),
    ("leaf_client_cert_not_before", FieldType::Date),
    ("leaf_client_cert_not_after", FieldType::Date),
    ("leaf_client_cert_serial_number", FieldType::Keyword),
    ("tls_verify_status", FieldType::Keyword),
    ("conn_trace_id", FieldType::Keyword),
    ("tls_keyexchange", FieldType::Keyword),
    ("extra_fields", FieldType::Keyword),
];

/// The connection log fields, in AWS's order. `leaf_client_cert_validity`
/// (`NotBefore=…;NotAfter=…`) is kept as written and also read into two dates.
pub(super) const CONNECTION: Layout = Layout {
    what: "an ALB connection log line",
    quoted: true,
    required: 11,
    columns: &[
        time("timestamp"),
        ip("client_ip").shared(Share::ClientIp),
        whole("client_port").shared(Share::ClientPort),
        whole("listener_port"),
        text("tls_protocol"),
        text("tls_cipher"),
        decimal("tls_handshake_latency"),
        text("leaf_client_cert_subject"),
        Column::new(
            "leaf_client_cert_validity",
            Kind::Validity {
                not_before: "leaf_client_cert_not_before",
                not_after: "leaf_client_cert_not_after",
            },
        ),
        text("leaf_client_cert_serial_number"),
        text("tls_verify_status"),
        text("conn_trace_id"),
        text("tls_keyexchange"),
    ],
};

/// Parses one line of an ALB connection log.
pub fn parse_connection(line: &str) -> Result<AccessRecord<'_>, String> {
    CONNECTION.parse(line)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::Shared;
    use super::super::positional::check::{covers, typed};
    use super::*;

    /// The page's seven examples as AWS published them in 2023 (29 fields, up to
    /// `classification_reason`): see tests/fixtures/access/README.md.
    const DOCS: &str = include_str!("../../../../tests/fixtures/access/alb-access-docs.log");
    /// The page's two connection log examples.
    const CONNECTION_DOCS: &str = include_str!("../../../../tests/fixtures/access/alb-connection-docs.log");

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
                client_ip: Some("203.0.113.1".into()),
                client_port: Some(36280),
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
            parse_connection("2023-10-04T17:05:15.514108Z 2001:db8::7 36280 80 - - - \"-\" - - - TID_1")
                .unwrap();
        assert_eq!(
            typed(&plain.fields, CONNECTION_FIELDS),
            json!({"client_ip": "2001:db8::7", "client_port": 36280, "listener_port": 80, "conn_trace_id": "TID_1"})
        );
        assert_eq!(
            parse_connection(&line.replace("203.0.113.1", "somewhere")).unwrap_err(),
            r#"field 2 (client_ip) is not an IP address: "somewhere""#
        );
    }
}

//! Classic Load Balancer access logs, as AWS documents them:
//! <https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/access-log-collection.html>.
//!
//! Fields are separated by spaces, `"request"` and `"user_agent"` are quoted, `-` means "no
//! value". They are read as the ALB's are (see [`super::alb`]): `client:port` and `backend:port`
//! become `client_ip`/`client_port` and `backend_ip`/`backend_port`, `timestamp` becomes
//! `@timestamp`, durations are numbers of seconds with `-1` kept (the load balancer could not
//! dispatch the request, or the instance did not answer before the idle timeout), `"request"`
//! becomes `request_method`, `request_url` and `request_protocol` (a TCP or SSL listener logs
//! `"- - - "`, which gives none of them), and `"user_agent"` fills the shared `user_agent` only.
//!
//! Lines written before AWS added `user_agent`, `ssl_cipher` and `ssl_protocol` (2015) end at
//! `"request"`: a line needs the fields up to it. Fields after `ssl_protocol` are kept in
//! `extra_fields`.

use super::positional::{Layout, Share, address, decimal, request, text, time, user_agent, whole};
use super::{
    AccessRecord, Context, Dashboard, EventKind, FieldType, FormatSpec, KeyLayout, Lines, Parsed, Reading,
    RecordError, Typed,
};

/// Every field the parser writes under `elb`.
/// The Classic Load Balancer's row of the format table: any other file under
/// `…/AWSLogs/ACCOUNT/elasticloadbalancing/` (the ALB's and NLB's rows come first)
/// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/access-log-collection.html>).
pub(crate) static FORMAT: FormatSpec = FormatSpec {
    name: "elb",
    key: KeyLayout {
        service: Some("elasticloadbalancing"),
        file: None,
    },
    content: None,
    reading: Reading::Lines(Lines::PLAIN),
    typed: Some(Typed {
        object: "elb",
        fields: FIELDS,
        parse: parse_into,
    }),
    index_prefix: Some("elb"),
    dashboards: &[Dashboard::HttpAccess],
};

fn parse_into<'a>(line: &'a str, _: Context<'_>, out: &mut String) -> Result<Parsed<'a>, RecordError> {
    LAYOUT.parse_into(line, out)
}

pub(crate) const FIELDS: &[(&str, FieldType)] = &[
    ("elb", FieldType::Keyword),
    ("client_ip", FieldType::Ip),
    ("client_port", FieldType::Long),
    ("backend_ip", FieldType::Ip),
    ("backend_port", FieldType::Long),
    ("request_processing_time", FieldType::Double),
    ("backend_processing_time", FieldType::Double),
    ("response_processing_time", FieldType::Double),
    ("elb_status_code", FieldType::Long),
    ("backend_status_code", FieldType::Long),
    ("received_bytes", FieldType::Long),
    ("sent_bytes", FieldType::Long),
    ("request_method", FieldType::Keyword),
    ("request_url", FieldType::Keyword),
    ("request_protocol", FieldType::Keyword),
    ("ssl_cipher", FieldType::Keyword),
    ("ssl_protocol", FieldType::Keyword),
    ("extra_fields", FieldType::Keyword),
];

/// The fields, in AWS's order.
pub(super) const LAYOUT: Layout = Layout {
    what: "a Classic Load Balancer access log line",
    quoted: true,
    required: 12,
    event: EventKind::WebAccess,
    columns: &[
        time("timestamp"),
        text("elb"),
        address("client:port", "client_ip", "client_port").shared(Share::Client),
        address("backend:port", "backend_ip", "backend_port").shared(Share::Target),
        decimal("request_processing_time").shared(Share::Seconds),
        decimal("backend_processing_time").shared(Share::Seconds),
        decimal("response_processing_time").shared(Share::Seconds),
        whole("elb_status_code").shared(Share::StatusCode),
        whole("backend_status_code"),
        whole("received_bytes").shared(Share::RequestBytes),
        whole("sent_bytes").shared(Share::Bytes),
        request("request"),
        user_agent("user_agent"),
        text("ssl_cipher").shared(Share::TlsCipher),
        text("ssl_protocol").shared(Share::TlsProtocol),
    ],
};

/// Parses one line of a Classic Load Balancer access log.
pub fn parse(line: &str) -> Result<AccessRecord<'_>, RecordError> {
    LAYOUT.parse(line)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::Shared;
    use super::super::positional::check::{covers, typed};
    use super::*;

    /// The page's four examples (HTTP, HTTPS, TCP, SSL): see tests/fixtures/access/README.md.
    const DOCS: &str = include_str!("../../../../../tests/fixtures/access/elb-access-docs.log");

    fn docs(number: usize) -> AccessRecord<'static> {
        parse(DOCS.lines().nth(number - 1).unwrap()).unwrap()
    }

    fn fields(record: &AccessRecord) -> Value {
        typed(&record.fields, FIELDS)
    }

    #[test]
    fn the_documented_http_entry_parses_into_typed_fields() {
        let record = docs(1);
        assert_eq!(record.time_ms, Some(1_431_560_383_945));
        assert_eq!(
            fields(&record),
            json!({
                "elb": "my-loadbalancer",
                "client_ip": "192.168.131.39",
                "client_port": 2817,
                "backend_ip": "10.0.0.1",
                "backend_port": 80,
                "request_processing_time": 0.000073,
                "backend_processing_time": 0.001048,
                "response_processing_time": 0.000057,
                "elb_status_code": 200,
                "backend_status_code": 200,
                "received_bytes": 0,
                "sent_bytes": 29,
                "request_method": "GET",
                "request_url": "http://www.example.com:80/",
                "request_protocol": "HTTP/1.1",
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
                user_agent: Some("curl/7.38.0".into()),
                bytes: Some(29),
                kind: Some(EventKind::WebAccess),
                target_ip: Some("10.0.0.1".into()),
                target_port: Some(80),
                request_bytes: Some(0),
                duration: super::super::Duration::of_seconds(&[0.000073, 0.001048, 0.000057]),
                ..Shared::default()
            }
        );
    }

    #[test]
    fn every_documented_example_parses_with_the_fields_typed() {
        for number in 1..=4 {
            fields(&docs(number));
        }
        let https = fields(&docs(2));
        assert_eq!(https["ssl_cipher"], "DHE-RSA-AES128-SHA");
        assert_eq!(https["ssl_protocol"], "TLSv1.2");
        // TCP and SSL listeners: no HTTP status, no request line, no user agent.
        for number in [3, 4] {
            let record = docs(number);
            let written = fields(&record);
            assert!(written.get("elb_status_code").is_none() && written.get("request_method").is_none());
            assert_eq!(record.shared.http_method, None);
            assert_eq!(record.shared.http_status_code, None);
            assert_eq!(record.shared.user_agent, None);
            assert_eq!(record.shared.url_original, None);
        }
        assert_eq!(fields(&docs(4))["ssl_cipher"], "ECDHE-ECDSA-AES128-GCM-SHA256");
    }

    #[test]
    fn lines_from_before_the_user_agent_parse_and_later_fields_are_kept() {
        // Logs written before 2015 end with the request line.
        let old = r#"2014-10-08T00:20:22.123456Z my-loadbalancer 192.0.2.7:24586 10.0.0.1:6081 0.000022 0.000897 0.000024 200 200 0 922 "GET http://www.example.com:80/v1/status HTTP/1.1""#;
        let record = parse(old).unwrap();
        assert_eq!(record.time_ms, Some(1_412_727_622_123));
        assert_eq!(
            record.shared.url_original.as_deref(),
            Some("http://www.example.com:80/v1/status")
        );
        assert_eq!(record.shared.user_agent, None);
        let (short, _) = old.split_once(" \"GET").unwrap();
        assert_eq!(
            parse(short).unwrap_err(),
            "11 fields, a Classic Load Balancer access log line has at least 12 (timestamp to request)"
        );

        let later = parse(&format!(
            "{} TLS_AES_128_GCM_SHA256 -",
            DOCS.lines().next().unwrap()
        ))
        .unwrap()
        .into_owned();
        assert_eq!(
            fields(&later)["extra_fields"],
            json!(["TLS_AES_128_GCM_SHA256", "-"])
        );
    }

    #[test]
    fn undispatched_requests_ipv6_clients_and_quoted_user_agents() {
        // The instance closed the connection: no backend, times -1, no backend status.
        let line = r#"2015-05-13T23:39:43.945958Z my-loadbalancer 2001:db8::5:2817 - -1 -1 -1 504 - 0 0 "GET http://www.example.com:80/slow HTTP/1.1" "Mozilla/5.0 (X11; Linux) \"quoted\" x" - -"#;
        let record = parse(line).unwrap();
        assert_eq!(
            fields(&record),
            json!({
                "elb": "my-loadbalancer",
                "client_ip": "2001:db8::5",
                "client_port": 2817,
                "request_processing_time": -1,
                "backend_processing_time": -1,
                "response_processing_time": -1,
                "elb_status_code": 504,
                "received_bytes": 0,
                "sent_bytes": 0,
                "request_method": "GET",
                "request_url": "http://www.example.com:80/slow",
                "request_protocol": "HTTP/1.1",
            })
        );
        assert_eq!(record.shared.client_ip.as_deref(), Some("2001:db8::5"));
        assert_eq!(
            record.shared.user_agent.as_deref(),
            Some(r#"Mozilla/5.0 (X11; Linux) "quoted" x"#)
        );
    }

    #[test]
    fn bad_lines_say_what_is_wrong() {
        let line = DOCS.lines().next().unwrap();
        assert_eq!(parse("\t").unwrap_err(), "an empty line");
        assert_eq!(
            parse("GET /index.html").unwrap_err(),
            "2 fields, a Classic Load Balancer access log line has at least 12 (timestamp to request)"
        );
        assert_eq!(
            parse(&line.replace(" 200 200 ", " 200 OK ")).unwrap_err(),
            r#"field 9 (backend_status_code) is not a whole number: "OK""#
        );
        assert_eq!(
            parse(&line.replace("0.000073", "0,000073")).unwrap_err(),
            r#"field 5 (request_processing_time) is not a number: "0,000073""#
        );
    }

    #[test]
    fn fields_lists_every_key_the_parser_writes() {
        covers(&LAYOUT, FIELDS);
    }
}

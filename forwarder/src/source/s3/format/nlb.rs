//! Network Load Balancer access logs, as AWS documents them:
//! <https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-access-logs.html>.
//! AWS writes them for TLS listeners only, one line a connection.
//!
//! Fields are separated by spaces and never quoted (`alpn_client_preference_list` holds quotes of
//! its own: `"h2","http/1.1"`); `-` means "no value". They are read as the ALB's are (see
//! [`super::alb`]): `client:port` and `destination:port` become `client_ip`/`client_port` and
//! `destination_ip`/`destination_port`, `time` becomes `@timestamp` (AWS writes it without a
//! zone; it is UTC), `connection_time` and `tls_handshake_time` are numbers of milliseconds,
//! `alpn_client_preference_list` is a list (`["h2","http/1.1"]`), `tls_connection_creation_time` a
//! date. Fields AWS adds after `tls_connection_creation_time` are kept in `extra_fields`; a line
//! written before AWS added the later fields is parsed as far as it goes, as long as it reaches
//! `sent_bytes`.

use super::positional::{Layout, Share, address, date, decimal, list, text, time, whole};
use super::{
    AccessRecord, Context, EventKind, FieldType, FormatSpec, KeyLayout, Lines, Parsed, Reading, RecordError,
    Typed,
};

/// Every field the parser writes under `nlb`.
/// The NLB's row of the format table. The files are under
/// `…/AWSLogs/ACCOUNT/elasticloadbalancing/REGION/YYYY/MM/DD/`, named `…_net.NAME_…`
/// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-access-logs.html>).
pub(crate) static FORMAT: FormatSpec = FormatSpec {
    name: "nlb",
    key: KeyLayout {
        service: Some("elasticloadbalancing"),
        file: Some(|file| file.contains("_net.")),
    },
    content: None,
    reading: Reading::Lines(Lines::PLAIN),
    typed: Some(Typed {
        object: "nlb",
        fields: FIELDS,
        parse: parse_into,
    }),
    index_prefix: Some("nlb"),
    dashboards: &[],
};

fn parse_into<'a>(line: &'a str, _: Context<'_>, out: &mut String) -> Result<Parsed<'a>, RecordError> {
    LAYOUT.parse_into(line, out)
}

pub(crate) const FIELDS: &[(&str, FieldType)] = &[
    ("type", FieldType::Keyword),
    ("version", FieldType::Keyword),
    ("elb", FieldType::Keyword),
    ("listener", FieldType::Keyword),
    ("client_ip", FieldType::Ip),
    ("client_port", FieldType::Long),
    ("destination_ip", FieldType::Ip),
    ("destination_port", FieldType::Long),
    ("connection_time", FieldType::Double),
    ("tls_handshake_time", FieldType::Double),
    ("received_bytes", FieldType::Long),
    ("sent_bytes", FieldType::Long),
    ("incoming_tls_alert", FieldType::Long),
    ("chosen_cert_arn", FieldType::Keyword),
    ("chosen_cert_serial", FieldType::Keyword),
    ("tls_cipher", FieldType::Keyword),
    ("tls_protocol_version", FieldType::Keyword),
    ("tls_named_group", FieldType::Keyword),
    ("domain_name", FieldType::Keyword),
    ("alpn_fe_protocol", FieldType::Keyword),
    ("alpn_be_protocol", FieldType::Keyword),
    ("alpn_client_preference_list", FieldType::Keyword),
    ("tls_connection_creation_time", FieldType::Date),
    ("extra_fields", FieldType::Keyword),
];

/// The fields, in AWS's order.
pub(super) const LAYOUT: Layout = Layout {
    what: "an NLB access log line",
    quoted: false,
    required: 11,
    event: EventKind::Connection,
    columns: &[
        text("type"),
        text("version"),
        time("time"),
        text("elb"),
        text("listener"),
        address("client:port", "client_ip", "client_port").shared(Share::Client),
        address("destination:port", "destination_ip", "destination_port").shared(Share::Target),
        decimal("connection_time").shared(Share::Millis),
        decimal("tls_handshake_time"),
        whole("received_bytes").shared(Share::RequestBytes),
        whole("sent_bytes").shared(Share::Bytes),
        whole("incoming_tls_alert"),
        text("chosen_cert_arn"),
        text("chosen_cert_serial"),
        text("tls_cipher").shared(Share::TlsCipher),
        text("tls_protocol_version").shared(Share::TlsProtocol),
        text("tls_named_group"),
        text("domain_name"),
        text("alpn_fe_protocol"),
        text("alpn_be_protocol"),
        list("alpn_client_preference_list", ','),
        date("tls_connection_creation_time"),
    ],
};

/// Parses one line of an NLB access log.
pub fn parse(line: &str) -> Result<AccessRecord<'_>, RecordError> {
    LAYOUT.parse(line)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::Shared;
    use super::super::positional::check::{covers, typed};
    use super::*;

    /// The page's two examples as AWS published them in 2020 (21 fields, before
    /// `tls_connection_creation_time`): see tests/fixtures/access/README.md.
    const DOCS: &str = include_str!("../../../../../tests/fixtures/access/nlb-access-docs.log");

    /// The example without an ALPN policy as the page reads today, ending with
    /// `tls_connection_creation_time` (22 fields),
    /// <https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-access-logs.html#access-log-entry-examples>.
    const TODAY: &str = "tls 2.0 2018-12-20T02:59:40 net/my-network-loadbalancer/c6e77e28c25b2234 g3d4b5e8bb8464cd 72.21.218.154:51341 172.100.100.185:443 5 2 98 246 - arn:aws:acm:us-east-2:671290407336:certificate/2a108f19-aded-46b0-8493-c63eb1ef4a99 - ECDHE-RSA-AES128-SHA tlsv12 - my-network-loadbalancer-c6e77e28c25b2234.elb.us-east-2.amazonaws.com - - - 2018-12-20T02:59:30";

    fn fields(record: &AccessRecord) -> Value {
        typed(&record.fields, FIELDS)
    }

    #[test]
    fn the_documented_entry_parses_into_typed_fields() {
        let record = parse(TODAY).unwrap();
        // AWS writes the time without a zone: UTC.
        assert_eq!(record.time_ms, Some(1_545_274_780_000));
        assert_eq!(
            fields(&record),
            json!({
                "type": "tls",
                "version": "2.0",
                "elb": "net/my-network-loadbalancer/c6e77e28c25b2234",
                "listener": "g3d4b5e8bb8464cd",
                "client_ip": "72.21.218.154",
                "client_port": 51341,
                "destination_ip": "172.100.100.185",
                "destination_port": 443,
                "connection_time": 5,
                "tls_handshake_time": 2,
                "received_bytes": 98,
                "sent_bytes": 246,
                "chosen_cert_arn": "arn:aws:acm:us-east-2:671290407336:certificate/2a108f19-aded-46b0-8493-c63eb1ef4a99",
                "tls_cipher": "ECDHE-RSA-AES128-SHA",
                "tls_protocol_version": "tlsv12",
                "domain_name": "my-network-loadbalancer-c6e77e28c25b2234.elb.us-east-2.amazonaws.com",
                "tls_connection_creation_time": "2018-12-20T02:59:30",
            })
        );
        assert_eq!(
            record.shared,
            Shared {
                kind: Some(EventKind::Connection),
                client_ip: Some("72.21.218.154".into()),
                client_port: Some(51341),
                target_ip: Some("172.100.100.185".into()),
                target_port: Some(443),
                request_bytes: Some(98),
                bytes: Some(246),
                tls_cipher: Some("ECDHE-RSA-AES128-SHA".into()),
                tls_protocol: Some("tlsv12".into()),
                duration: super::super::Duration::of_seconds(&[0.005]),
                ..Shared::default()
            }
        );
    }

    #[test]
    fn the_older_documented_entries_parse_as_far_as_they_go() {
        let mut lines = DOCS.lines();
        let without_alpn = parse(lines.next().unwrap()).unwrap();
        let written = fields(&without_alpn);
        assert!(written.get("tls_connection_creation_time").is_none());
        assert!(written.get("alpn_fe_protocol").is_none());

        let with_alpn = parse(lines.next().unwrap()).unwrap();
        assert_eq!(with_alpn.time_ms, Some(1_585_731_102_000));
        let written = fields(&with_alpn);
        assert_eq!(written["alpn_fe_protocol"], "h2");
        assert_eq!(written["alpn_be_protocol"], "h2");
        assert_eq!(written["alpn_client_preference_list"], json!(["h2", "http/1.1"]));

        // Down to `sent_bytes`, the least a line needs.
        let short: Vec<&str> = TODAY.split(' ').take(11).collect();
        assert!(parse(&short.join(" ")).is_ok());
        assert_eq!(
            parse(&short[..10].join(" ")).unwrap_err(),
            "10 fields, an NLB access log line has at least 11 (type to sent_bytes)"
        );
    }

    #[test]
    fn fields_aws_adds_later_are_kept_in_extra_fields() {
        let record = parse(&format!("{TODAY} x25519 -")).unwrap().into_owned();
        assert_eq!(fields(&record)["extra_fields"], json!(["x25519", "-"]));
        assert!(
            !parse(&format!("{TODAY} -"))
                .unwrap()
                .fields
                .contains("extra_fields")
        );
    }

    #[test]
    fn ipv6_clients_and_failed_handshakes() {
        // A client that closed during the handshake: an alert, no cipher, no handshake time.
        let line = TODAY
            .replace("72.21.218.154:51341", "2001:db8::a:51341")
            .replace(" 5 2 98 246 - ", " 5 - 98 0 46 ")
            .replace("ECDHE-RSA-AES128-SHA tlsv12", "- -");
        let record = parse(&line).unwrap();
        assert_eq!(record.shared.client_ip.as_deref(), Some("2001:db8::a"));
        assert_eq!(record.shared.client_port, Some(51341));
        let written = fields(&record);
        assert_eq!(written["incoming_tls_alert"], 46);
        assert!(written.get("tls_handshake_time").is_none() && written.get("tls_cipher").is_none());
    }

    #[test]
    fn bad_lines_say_what_is_wrong() {
        assert_eq!(parse("").unwrap_err(), "an empty line");
        assert_eq!(
            parse("not an nlb line").unwrap_err(),
            "4 fields, an NLB access log line has at least 11 (type to sent_bytes)"
        );
        assert_eq!(
            parse(&TODAY.replace(" 98 246 ", " 98 many ")).unwrap_err(),
            r#"field 11 (sent_bytes) is not a whole number: "many""#
        );
        assert_eq!(
            parse(&TODAY.replace("2018-12-20T02:59:40", "20181220")).unwrap_err(),
            r#"field 3 (time) is not an ISO 8601 time: "20181220""#
        );
        assert_eq!(
            parse(&TODAY.replace("172.100.100.185:443", "vpce:443")).unwrap_err(),
            r#"field 7 (destination:port) is not an IP address and port: "vpce:443""#
        );
    }

    #[test]
    fn fields_lists_every_key_the_parser_writes() {
        covers(&LAYOUT, FIELDS);
    }
}

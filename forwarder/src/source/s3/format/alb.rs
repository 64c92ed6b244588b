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
//!   logs as the client sent it, stays whole) and fills `http.request.method` and `url.original`;
//! - `"user_agent"` fills the shared `user_agent.original` only, not a copy under `aws.alb` (it
//!   may be 8 KB);
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
use super::{
    AccessRecord, Context, Dashboard, EventKind, FieldType, FormatSpec, KeyLayout, Lines, Parsed, Reading,
    RecordError, Typed,
};

/// The access log's row of the format table. The files are under
/// `…/AWSLogs/ACCOUNT/elasticloadbalancing/REGION/YYYY/MM/DD/`, named `…_app.NAME_…`
/// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html>).
pub(crate) static FORMAT: FormatSpec = FormatSpec {
    name: "alb",
    key: KeyLayout {
        service: Some("elasticloadbalancing"),
        file: Some(|file| file.contains("_app.") && !is_connection_log(file)),
    },
    content: None,
    reading: Reading::Lines(Lines::PLAIN),
    typed: Some(Typed {
        object: "alb",
        fields: FIELDS,
        parse: parse_access,
    }),
    index_prefix: Some("alb"),
    dashboards: &[Dashboard::HttpAccess],
};

/// The connection log's row of the format table: files beside the access logs, named
/// `conn_log_ACCOUNT_…_app.NAME_…`.
pub(crate) static CONNECTION_FORMAT: FormatSpec = FormatSpec {
    name: "alb-connection",
    key: KeyLayout {
        service: Some("elasticloadbalancing"),
        file: Some(is_connection_log),
    },
    content: None,
    reading: Reading::Lines(Lines::PLAIN),
    typed: Some(Typed {
        object: "alb_connection",
        fields: CONNECTION_FIELDS,
        parse: parse_connection_into,
    }),
    index_prefix: Some("albconn"),
    dashboards: &[],
};

/// A connection log's file: `conn_log_ACCOUNT_…`, as the files are named (with an underscore),
/// or `conn_log.ACCOUNT_…`, as AWS's page spells it
/// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-connection-logging.html>).
fn is_connection_log(file: &str) -> bool {
    file.starts_with("conn_log_") || file.starts_with("conn_log.")
}

fn parse_access<'a>(line: &'a str, _: Context<'_>, out: &mut String) -> Result<Parsed<'a>, RecordError> {
    ACCESS.parse_into(line, out)
}

fn parse_connection_into<'a>(
    line: &'a str,
    _: Context<'_>,
    out: &mut String,
) -> Result<Parsed<'a>, RecordError> {
    CONNECTION.parse_into(line, out)
}

/// Every field the access log parser writes under `alb`.
pub(crate) const FIELDS: &[(&str, FieldType)] = &[
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
    event: EventKind::WebAccess,
    columns: &[
        text("type"),
        time("time"),
        text("elb"),
        address("client:port", "client_ip", "client_port").shared(Share::Client),
        address("target:port", "target_ip", "target_port").shared(Share::Target),
        decimal("request_processing_time").shared(Share::Seconds),
        decimal("target_processing_time").shared(Share::Seconds),
        decimal("response_processing_time").shared(Share::Seconds),
        whole("elb_status_code").shared(Share::StatusCode),
        whole("target_status_code"),
        whole("received_bytes").shared(Share::RequestBytes),
        whole("sent_bytes").shared(Share::Bytes),
        request("request"),
        user_agent("user_agent"),
        text("ssl_cipher").shared(Share::TlsCipher),
        text("ssl_protocol").shared(Share::TlsProtocol),
        text("target_group_arn"),
        text("trace_id").shared(Share::TraceId),
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
pub fn parse(line: &str) -> Result<AccessRecord<'_>, RecordError> {
    ACCESS.parse(line)
}

/// Every field the connection log parser writes under `alb_connection`.
pub(crate) const CONNECTION_FIELDS: &[(&str, FieldType)] = &[
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
    event: EventKind::Connection,
    columns: &[
        time("timestamp"),
        ip("client_ip").shared(Share::ClientIp),
        whole("client_port").shared(Share::ClientPort),
        whole("listener_port"),
        text("tls_protocol").shared(Share::TlsProtocol),
        text("tls_cipher").shared(Share::TlsCipher),
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
pub fn parse_connection(line: &str) -> Result<AccessRecord<'_>, RecordError> {
    CONNECTION.parse(line)
}

#[cfg(test)]
mod tests;

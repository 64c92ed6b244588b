//! Application Load Balancer logs, as AWS documents them: access logs
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html>)
//! and connection logs
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-connection-logs.html>).
//! Also the reader of positional lines ([`Layout`]) that the NLB and Classic Load Balancer logs
//! share with them.
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

use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::IpAddr;

use super::{AccessRecord, FieldType, FieldWriter, Shared, split_address};
use crate::document::write::push_str;
use crate::source::s3::format::rfc3339_ms;

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
const ACCESS: Layout = Layout {
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
pub fn parse(line: &str) -> Result<AccessRecord, String> {
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
const CONNECTION: Layout = Layout {
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
pub fn parse_connection(line: &str) -> Result<AccessRecord, String> {
    CONNECTION.parse(line)
}

/// A log whose lines are fields in a fixed order (the Elastic Load Balancing logs).
#[derive(Debug)]
pub(super) struct Layout {
    /// What a line is, for messages: "an ALB access log line".
    pub what: &'static str,
    /// Whether a field may be `"quoted"`; otherwise fields are split on spaces alone.
    pub quoted: bool,
    /// How many fields a line needs at least: the format as AWS first shipped it.
    pub required: usize,
    pub columns: &'static [Column],
}

/// One field of a [`Layout`]: AWS's name (in messages, and the key unless the kind says
/// otherwise), how to read it, and which shared field it fills.
#[derive(Debug, Clone, Copy)]
pub(super) struct Column {
    pub name: &'static str,
    pub kind: Kind,
    pub share: Option<Share>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A string, as written.
    Text,
    /// The record's own time: `@timestamp`, not a field.
    Time,
    /// `address:port`, into an IP address field and a port field.
    Address {
        ip: &'static str,
        port: &'static str,
    },
    /// An IP address.
    Ip,
    Whole,
    Decimal,
    /// A time kept as a date field.
    Date,
    /// `METHOD URL PROTOCOL`, into `request_method`, `request_url` and `request_protocol`.
    Request,
    /// The shared `user_agent`, nothing under the format's object.
    UserAgent,
    /// A list of strings split on the character (quotes around an item removed).
    List(char),
    /// A list of whole numbers split on the character.
    WholeList(char),
    /// A certificate's `NotBefore=…;NotAfter=…`: kept, and read into two dates.
    Validity {
        not_before: &'static str,
        not_after: &'static str,
    },
}

/// The shared field a column fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Share {
    /// `client.ip` and `client.port`, from an address column.
    Client,
    ClientIp,
    ClientPort,
    StatusCode,
    Bytes,
}

impl Column {
    pub const fn new(name: &'static str, kind: Kind) -> Column {
        Column {
            name,
            kind,
            share: None,
        }
    }

    pub const fn shared(self, share: Share) -> Column {
        Column {
            share: Some(share),
            ..self
        }
    }
}

pub(super) const fn text(name: &'static str) -> Column {
    Column::new(name, Kind::Text)
}
pub(super) const fn time(name: &'static str) -> Column {
    Column::new(name, Kind::Time)
}
pub(super) const fn address(name: &'static str, ip: &'static str, port: &'static str) -> Column {
    Column::new(name, Kind::Address { ip, port })
}
pub(super) const fn ip(name: &'static str) -> Column {
    Column::new(name, Kind::Ip)
}
pub(super) const fn whole(name: &'static str) -> Column {
    Column::new(name, Kind::Whole)
}
pub(super) const fn decimal(name: &'static str) -> Column {
    Column::new(name, Kind::Decimal)
}
pub(super) const fn date(name: &'static str) -> Column {
    Column::new(name, Kind::Date)
}
pub(super) const fn request(name: &'static str) -> Column {
    Column::new(name, Kind::Request)
}
pub(super) const fn user_agent(name: &'static str) -> Column {
    Column::new(name, Kind::UserAgent)
}
pub(super) const fn list(name: &'static str, separator: char) -> Column {
    Column::new(name, Kind::List(separator))
}
pub(super) const fn whole_list(name: &'static str, separator: char) -> Column {
    Column::new(name, Kind::WholeList(separator))
}

impl Layout {
    /// Reads a line field by field. A line with fewer than [`Layout::required`] fields is an
    /// error saying so; otherwise the first field that does not read is.
    pub fn parse(&self, line: &str) -> Result<AccessRecord, String> {
        if line.trim().is_empty() {
            return Err("an empty line".to_string());
        }
        let mut reader = Reader {
            layout: self,
            out: FieldWriter::with_capacity(line.len() + 768),
            shared: Shared::default(),
            time_ms: None,
            scratch: String::new(),
            extra: String::new(),
            extra_values: false,
        };
        let mut count = 0;
        let mut failed = None;
        for field in Fields::new(line, self.quoted) {
            let field = field?;
            if failed.is_none() {
                failed = reader.field(count, &field).err();
            }
            count += 1;
        }
        if count < self.required {
            return Err(format!(
                "{count} field{s}, {what} has at least {required} ({first} to {last})",
                s = if count == 1 { "" } else { "s" },
                what = self.what,
                required = self.required,
                first = self.columns[0].name,
                last = self.columns[self.required - 1].name,
            ));
        }
        match failed {
            Some(reason) => Err(reason),
            None => Ok(reader.finish()),
        }
    }
}

/// The state of one line being read.
struct Reader<'a> {
    layout: &'a Layout,
    out: FieldWriter,
    shared: Shared,
    time_ms: Option<i64>,
    /// A list's JSON array, reused from one list to the next.
    scratch: String,
    /// The JSON array of the fields after the known ones.
    extra: String,
    /// Whether one of them is not `-`.
    extra_values: bool,
}

impl Reader<'_> {
    /// Reads the field at `index` (from 0) of the line.
    fn field(&mut self, index: usize, value: &str) -> Result<(), String> {
        let Some(column) = self.layout.columns.get(index) else {
            self.extra.push(if self.extra.is_empty() { '[' } else { ',' });
            push_str(&mut self.extra, value);
            self.extra_values |= present(value).is_some();
            return Ok(());
        };
        let name = column.name;
        let wrong = |what: &str| format!("field {} ({name}) is not {what}: {value:?}", index + 1);
        match column.kind {
            Kind::Text => self.out.str(name, value),
            Kind::Time => self.time_ms = Some(time_ms(value).ok_or_else(|| wrong("an ISO 8601 time"))?),
            Kind::Date => {
                if present(value).is_some() {
                    if !is_date(value) {
                        return Err(wrong("an ISO 8601 time"));
                    }
                    self.out.str(name, value);
                }
            }
            Kind::Address { ip, port } => {
                let Some((address, number)) = split_address(value) else {
                    return Ok(());
                };
                if address.parse::<IpAddr>().is_err() {
                    return Err(wrong("an IP address and port"));
                }
                self.out.str(ip, address);
                if number.is_some() {
                    // The digits after the last `:`, already read as a port.
                    let digits = value.rsplit(':').next().unwrap_or_default();
                    self.out
                        .int(port, digits)
                        .map_err(|_| wrong("an IP address and port"))?;
                }
                if column.share == Some(Share::Client) {
                    self.shared.client_ip = Some(address.to_owned());
                    self.shared.client_port = number;
                }
            }
            Kind::Ip => {
                if let Some(address) = present(value) {
                    address.parse::<IpAddr>().map_err(|_| wrong("an IP address"))?;
                    self.out.str(name, address);
                    if column.share == Some(Share::ClientIp) {
                        self.shared.client_ip = Some(address.to_owned());
                    }
                }
            }
            Kind::Whole => {
                let number = self.out.int(name, value).map_err(|_| wrong("a whole number"))?;
                if let Some(number) = number {
                    match column.share {
                        Some(Share::ClientPort) => self.shared.client_port = u16::try_from(number).ok(),
                        Some(Share::StatusCode) => self.shared.http_status_code = u16::try_from(number).ok(),
                        Some(Share::Bytes) => self.shared.bytes = u64::try_from(number).ok(),
                        _ => {}
                    }
                }
            }
            Kind::Decimal => {
                self.out.float(name, value).map_err(|_| wrong("a number"))?;
            }
            Kind::Request => {
                let (method, url, protocol) = request_parts(value);
                if let Some(method) = method {
                    self.out.str("request_method", method);
                    self.shared.http_method = Some(method.to_owned());
                }
                if let Some(url) = url {
                    self.out.str("request_url", url);
                    self.shared.url_original = Some(url.to_owned());
                }
                if let Some(protocol) = protocol {
                    self.out.str("request_protocol", protocol);
                }
            }
            Kind::UserAgent => self.shared.user_agent = present(value).map(str::to_owned),
            Kind::List(separator) | Kind::WholeList(separator) => {
                let numbers = matches!(column.kind, Kind::WholeList(_));
                self.list(name, value, separator, numbers)
                    .map_err(|()| wrong("a list of whole numbers"))?;
            }
            Kind::Validity {
                not_before,
                not_after,
            } => {
                self.out.str(name, value);
                let dates = value
                    .strip_prefix("NotBefore=")
                    .and_then(|rest| rest.split_once(";NotAfter="))
                    .filter(|(before, after)| is_date(before) && is_date(after));
                if let Some((before, after)) = dates {
                    self.out.str(not_before, before);
                    self.out.str(not_after, after);
                }
            }
        }
        Ok(())
    }

    /// Writes a list as a JSON array; `Err` for an item that is not a whole number when
    /// `numbers`.
    fn list(&mut self, name: &str, value: &str, separator: char, numbers: bool) -> Result<(), ()> {
        self.scratch.clear();
        let items = value
            .split(separator)
            .map(|item| item.trim().trim_matches('"'))
            .filter_map(present);
        for item in items {
            self.scratch.push(if self.scratch.is_empty() { '[' } else { ',' });
            if numbers {
                let number: i64 = item.parse().map_err(|_| ())?;
                let _ = write!(self.scratch, "{number}");
            } else {
                push_str(&mut self.scratch, item);
            }
        }
        if !self.scratch.is_empty() {
            self.scratch.push(']');
            self.out.raw_json(name, &self.scratch);
        }
        Ok(())
    }

    fn finish(mut self) -> AccessRecord {
        if self.extra_values {
            self.extra.push(']');
            self.out.raw_json("extra_fields", &self.extra);
        }
        AccessRecord {
            time_ms: self.time_ms,
            fields: self.out.finish(),
            shared: self.shared,
        }
    }
}

/// The value, unless it is AWS's `-` (no value) or empty.
fn present(value: &str) -> Option<&str> {
    (value != "-" && !value.is_empty()).then_some(value)
}

/// An ISO 8601 time in milliseconds since the epoch: RFC 3339 (`2018-07-02T22:23:00.186641Z`), or
/// without a zone, read as UTC (the NLB's `2018-12-20T02:59:40`).
fn time_ms(text: &str) -> Option<i64> {
    rfc3339_ms(text).or_else(|| {
        chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
            .ok()
            .map(|time| time.and_utc().timestamp_millis())
    })
}

/// Whether a date field's text is a time OpenSearch reads as its default date format does
/// (`T` between date and time, which RFC 3339 leaves optional).
fn is_date(text: &str) -> bool {
    text.as_bytes().get(10) == Some(&b'T') && time_ms(text).is_some()
}

/// Splits a request line into method (before the first space), URL and protocol (after the
/// last space); `-` parts are `None`.
fn request_parts(request: &str) -> (Option<&str>, Option<&str>, Option<&str>) {
    let request = request.trim();
    let Some((method, rest)) = request.split_once(' ') else {
        return (present(request), None, None);
    };
    match rest.trim().rsplit_once(' ') {
        Some((url, protocol)) => (present(method), present(url.trim()), present(protocol)),
        None => (present(method), present(rest.trim()), None),
    }
}

/// The fields of a line, one at a time. Fields are separated by spaces; with `quoted`, a field
/// that starts with `"` runs to the next `"` that is not escaped, its quotes removed and `\"` and
/// `\\` unescaped. A field borrows from the line unless it had escapes.
struct Fields<'a> {
    line: &'a str,
    at: usize,
    quoted: bool,
}

impl<'a> Fields<'a> {
    fn new(line: &'a str, quoted: bool) -> Self {
        Fields { line, at: 0, quoted }
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<Cow<'a, str>, String>;

    fn next(&mut self) -> Option<Self::Item> {
        let bytes = self.line.as_bytes();
        while bytes.get(self.at) == Some(&b' ') {
            self.at += 1;
        }
        let start = self.at;
        if start >= bytes.len() {
            return None;
        }
        if !(self.quoted && bytes[start] == b'"') {
            let end = memchr::memchr(b' ', &bytes[start..]).map_or(bytes.len(), |at| start + at);
            self.at = end;
            return Some(Ok(Cow::Borrowed(&self.line[start..end])));
        }
        let mut end = start + 1;
        let mut escaped = false;
        loop {
            let Some(found) = bytes
                .get(end..)
                .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
            else {
                self.at = bytes.len();
                return Some(Err(format!("the quoted field at byte {start} never ends")));
            };
            end += found;
            if bytes[end] == b'"' {
                break;
            }
            escaped = true;
            end += 2;
        }
        self.at = end + 1;
        let inner = &self.line[start + 1..end];
        Some(Ok(match escaped {
            true => Cow::Owned(unescape(inner)),
            false => Cow::Borrowed(inner),
        }))
    }
}

/// `\"` becomes `"` and `\\` becomes `\`; any other backslash is kept.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(next @ ('"' | '\\')) => out.push(next),
            Some(next) => {
                out.push('\\');
                out.push(next);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Test helpers the NLB and Classic Load Balancer tests share.
#[cfg(test)]
pub(super) mod check {
    use serde_json::{Map, Value};

    use super::{FieldType, Kind, Layout, is_date};

    /// The fields of a record as a JSON object; panics unless every key written is in `table`
    /// with a type its value (or each item of its list) fits.
    pub fn typed(fields: &str, table: &[(&str, FieldType)]) -> Value {
        let object: Map<String, Value> =
            serde_json::from_str(&format!("{{{fields}}}")).expect("the fields are a JSON object");
        for (key, value) in &object {
            let (_, kind) = table
                .iter()
                .find(|(name, _)| name == key)
                .unwrap_or_else(|| panic!("{key} is written but not in FIELDS"));
            let items = match value {
                Value::Array(items) => items.as_slice(),
                value => std::slice::from_ref(value),
            };
            for item in items {
                assert!(fits(item, *kind), "{key}: {item} does not fit {kind:?}");
            }
        }
        Value::Object(object)
    }

    fn fits(value: &Value, kind: FieldType) -> bool {
        match (kind, value) {
            (FieldType::Keyword | FieldType::Text, Value::String(_)) => true,
            (FieldType::Ip, Value::String(text)) => text.parse::<std::net::IpAddr>().is_ok(),
            (FieldType::Date, Value::String(text)) => is_date(text),
            (FieldType::Long, Value::Number(number)) => number.is_i64() || number.is_u64(),
            (FieldType::Double, Value::Number(_)) => true,
            (FieldType::Boolean, Value::Bool(_)) => true,
            (FieldType::Object, Value::Object(_)) => true,
            _ => false,
        }
    }

    /// Panics unless `table` lists exactly the keys `layout` can write, with the types their
    /// kinds give them.
    pub fn covers(layout: &Layout, table: &[(&str, FieldType)]) {
        let mut writable = vec![("extra_fields", FieldType::Keyword)];
        for column in layout.columns {
            let name = column.name;
            match column.kind {
                Kind::Time | Kind::UserAgent => {}
                Kind::Text | Kind::List(_) => writable.push((name, FieldType::Keyword)),
                Kind::Ip => writable.push((name, FieldType::Ip)),
                Kind::Whole | Kind::WholeList(_) => writable.push((name, FieldType::Long)),
                Kind::Decimal => writable.push((name, FieldType::Double)),
                Kind::Date => writable.push((name, FieldType::Date)),
                Kind::Address { ip, port } => writable.extend([(ip, FieldType::Ip), (port, FieldType::Long)]),
                Kind::Request => writable.extend(
                    ["request_method", "request_url", "request_protocol"]
                        .map(|key| (key, FieldType::Keyword)),
                ),
                Kind::Validity {
                    not_before,
                    not_after,
                } => writable.extend([
                    (name, FieldType::Keyword),
                    (not_before, FieldType::Date),
                    (not_after, FieldType::Date),
                ]),
            }
        }
        let mut listed = table.to_vec();
        listed.sort_by_key(|(name, _)| *name);
        writable.sort_by_key(|(name, _)| *name);
        assert_eq!(listed, writable, "FIELDS of {}", layout.what);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::check::{covers, typed};
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

    fn docs(number: usize) -> AccessRecord {
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
                "request_processing_time": 0,
                "target_processing_time": 0.001,
                "response_processing_time": 0,
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
                client_ip: Some("192.168.131.39".to_string()),
                client_port: Some(2817),
                http_method: Some("GET".to_string()),
                http_status_code: Some(200),
                url_original: Some("http://www.example.com:80/".to_string()),
                user_agent: Some("curl/7.46.0".to_string()),
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
        let dashes = parse(&format!(r#"{HTTP} "-" "-" "-" - "-""#)).unwrap();
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

        let bracketed = parse(&HTTP.replace("10.0.0.1:80 0.000", "[2001:db8::1]:8080 0.000")).unwrap();
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
    fn fields_are_read_one_at_a_time_borrowing_from_the_line() {
        let line = r#"a  "b c" "d \"e\" \\ \x" - "" f"#;
        let fields: Vec<Cow<'_, str>> = Fields::new(line, true).map(Result::unwrap).collect();
        assert_eq!(fields, ["a", "b c", r#"d "e" \ \x"#, "-", "", "f"]);
        assert!(matches!(fields[1], Cow::Borrowed(_)));
        assert!(matches!(fields[2], Cow::Owned(_)));
        // Without quoting, a quote is an ordinary character (the NLB's ALPN list).
        let plain: Vec<Cow<'_, str>> = Fields::new(r#"h2 "h2","http/1.1""#, false)
            .map(Result::unwrap)
            .collect();
        assert_eq!(plain, ["h2", r#""h2","http/1.1""#]);
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
                client_ip: Some("203.0.113.1".to_string()),
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
        let record = parse_connection(&format!("{line} X25519 future")).unwrap();
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

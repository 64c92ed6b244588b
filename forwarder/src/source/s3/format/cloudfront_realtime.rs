//! CloudFront real-time logs, as AWS documents them:
//! <https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/real-time-logs.html>.
//!
//! CloudFront puts one record a request into a Kinesis data stream; a record's data is one line,
//! its values separated by tabs, `-` for none, holding the fields the real-time log
//! configuration names, always in the order the page lists them ([`DOCUMENTED`]). The line says
//! nothing of its fields: the forwarder is told them by `CLOUDFRONT_REALTIME_FIELDS`
//! ([`RealtimeFields`]), which reaches the parser as [`Context::header`], as a standard log's
//! `#Fields:` line does. The Kinesis source ([`crate::source::lambda`]) tells such a record from a
//! CloudWatch Logs payload with [`RealtimeFields::recognises`].
//!
//! A record is written as a CloudFront standard log line is ([`super::cloudfront`]): the values
//! under `aws.cloudfront`, URL-decoded once, under the standard logs' snake_case names, and the
//! same ECS fields. Where the two logs name or fill a field differently, the standard logs'
//! meaning wins, so that one query reads both:
//!
//! - `cs-host` (real-time: the viewer's `Host` header) is written as `x_host_header`, and
//!   `x-host-header` (real-time: the distribution's domain name) as `cs_host`: the standard logs
//!   use each name for the other value;
//! - `cs-uri-stem` (real-time: the path and the query string) is written as `cs_uri_stem`, the
//!   path alone, as in standard logs; its query becomes `cs_uri_query` when the configuration
//!   does not name `cs-uri-query` itself; `url.original` is the path and query as logged;
//! - `cs-user-agent`, `cs-referer`, `cs-cookie` (standard: `cs(User-Agent)`, …) keep the
//!   standard logs' `cs_user_agent`, `cs_referer`, `cs_cookie`;
//! - `timestamp` (epoch seconds with milliseconds, `1575493351.123`) gives the document's time
//!   and is kept as `timestamp`, a number; the fields standard logs lack (`c_country`, `asn`,
//!   `origin_fbl`, …) are the real-time names in snake_case.
//!
//! A line with more values than its fields keeps the others in `extra_fields`; one with fewer
//! lists the names it has no value for in `missing_fields`, as long as it reaches `timestamp`.

use std::borrow::Cow;
use std::sync::Arc;

use super::cloudfront::{Escapes, decode, snake_case, write_addresses};
use super::{
    AccessRecord, Context, Dashboard, Duration, EventKind, FieldType, FieldWriter, FormatSpec, KeyLayout,
    Lines, Reading, RecordError, Shared, Typed,
};

/// The row of CloudFront real-time logs. Its records come from Kinesis, not S3: no key layout
/// or content names it (an object can still be read in it by a rule of `S3_FORMATS`, with the
/// documented fields). Its documents go to the standard logs' `cloudfront` prefix: the fields
/// are theirs, so one index pattern and the access-log dashboards show both; `event.dataset`
/// (`aws.cloudfront_realtime`) tells them apart.
pub(crate) static FORMAT: FormatSpec = FormatSpec {
    name: "cloudfront-realtime",
    key: KeyLayout::NONE,
    content: None,
    reading: Reading::Lines(Lines::PLAIN),
    typed: Some(Typed {
        object: "cloudfront",
        fields: FIELDS,
        parse: |line, context, out| parse(line, context).map(|record| record.into_parsed(out)),
    }),
    index_prefix: Some("cloudfront"),
    dashboards: &[Dashboard::HttpAccess],
};

/// Every field of the real-time logs page, in its order: the order of a record's values, and
/// the default of `CLOUDFRONT_REALTIME_FIELDS`.
pub const DOCUMENTED: [&str; 43] = [
    "timestamp",
    "c-ip",
    "time-to-first-byte",
    "sc-status",
    "sc-bytes",
    "cs-method",
    "cs-protocol",
    "cs-host",
    "cs-uri-stem",
    "cs-bytes",
    "x-edge-location",
    "x-edge-request-id",
    "x-host-header",
    "time-taken",
    "cs-protocol-version",
    "c-ip-version",
    "cs-user-agent",
    "cs-referer",
    "cs-cookie",
    "cs-uri-query",
    "x-edge-response-result-type",
    "x-forwarded-for",
    "ssl-protocol",
    "ssl-cipher",
    "x-edge-result-type",
    "fle-encrypted-fields",
    "fle-status",
    "sc-content-type",
    "sc-content-len",
    "sc-range-start",
    "sc-range-end",
    "c-port",
    "x-edge-detailed-result-type",
    "c-country",
    "cs-accept-encoding",
    "cs-accept",
    "cache-behavior-path-pattern",
    "cs-headers",
    "cs-header-names",
    "cs-headers-count",
    "origin-fbl",
    "origin-lbl",
    "asn",
];

/// Fields a real-time log configuration accepts besides [`DOCUMENTED`], added by AWS later and
/// not in the default: where each stands in a record could not be checked, so a configuration
/// with them names its fields in `CLOUDFRONT_REALTIME_FIELDS`. They are kept as keywords.
pub const LATER: &[&str] = &[
    "primary-distribution-id",
    "primary-distribution-dns-name",
    "distribution-tenant-id",
    "connection-id",
    "r-host",
    "s-ip",
    "sr-reason",
    "x-edge-mqcs",
    "viewer-request-log-data",
    "viewer-response-log-data",
    "cmcd-buffer-length",
    "cmcd-buffer-starvation",
    "cmcd-content-id",
    "cmcd-deadline",
    "cmcd-encoded-bitrate",
    "cmcd-measured-throughput",
    "cmcd-next-object-request",
    "cmcd-next-range-request",
    "cmcd-object-duration",
    "cmcd-object-type",
    "cmcd-playback-rate",
    "cmcd-requested-maximum-throughput",
    "cmcd-session-id",
    "cmcd-startup",
    "cmcd-stream-type",
    "cmcd-streaming-format",
    "cmcd-top-bitrate",
    "cmcd-version",
];

/// The fields written under `aws.cloudfront`, with their types: the standard logs' names and
/// types where the field is theirs, then the real-time ones, then Sluice's `extra_fields` and
/// `missing_fields`. A [`LATER`] field is a keyword by the index template's dynamic rule.
pub(crate) const FIELDS: &[(&str, FieldType)] = &[
    ("timestamp", FieldType::Double),
    ("c_ip", FieldType::Ip),
    ("time_to_first_byte", FieldType::Double),
    ("sc_status", FieldType::Long),
    ("sc_bytes", FieldType::Long),
    ("cs_method", FieldType::Keyword),
    ("cs_protocol", FieldType::Keyword),
    ("x_host_header", FieldType::Keyword),
    ("cs_uri_stem", FieldType::Keyword),
    ("cs_bytes", FieldType::Long),
    ("x_edge_location", FieldType::Keyword),
    ("x_edge_request_id", FieldType::Keyword),
    ("cs_host", FieldType::Keyword),
    ("time_taken", FieldType::Double),
    ("cs_protocol_version", FieldType::Keyword),
    ("c_ip_version", FieldType::Keyword),
    ("cs_user_agent", FieldType::Keyword),
    ("cs_referer", FieldType::Keyword),
    ("cs_cookie", FieldType::Keyword),
    ("cs_uri_query", FieldType::Keyword),
    ("x_edge_response_result_type", FieldType::Keyword),
    ("x_forwarded_for", FieldType::Ip),
    ("ssl_protocol", FieldType::Keyword),
    ("ssl_cipher", FieldType::Keyword),
    ("x_edge_result_type", FieldType::Keyword),
    ("fle_encrypted_fields", FieldType::Long),
    ("fle_status", FieldType::Keyword),
    ("sc_content_type", FieldType::Keyword),
    ("sc_content_len", FieldType::Long),
    ("sc_range_start", FieldType::Long),
    ("sc_range_end", FieldType::Long),
    ("c_port", FieldType::Long),
    ("x_edge_detailed_result_type", FieldType::Keyword),
    ("c_country", FieldType::Keyword),
    ("cs_accept_encoding", FieldType::Keyword),
    ("cs_accept", FieldType::Keyword),
    ("cache_behavior_path_pattern", FieldType::Keyword),
    ("cs_headers", FieldType::Keyword),
    ("cs_header_names", FieldType::Keyword),
    ("cs_headers_count", FieldType::Long),
    ("origin_fbl", FieldType::Double),
    ("origin_lbl", FieldType::Double),
    ("asn", FieldType::Long),
    ("extra_fields", FieldType::Keyword),
    ("missing_fields", FieldType::Keyword),
];

/// The entry of [`FIELDS`] a documented name writes: its position in [`DOCUMENTED`], which is
/// its position in [`FIELDS`] too.
fn documented(name: &str) -> Option<usize> {
    DOCUMENTED.iter().position(|known| *known == name)
}

/// The fields of the forwarder's real-time log configuration, in the order of a record's values
/// (`CLOUDFRONT_REALTIME_FIELDS`), checked against the names AWS documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealtimeFields {
    names: Arc<Vec<String>>,
    /// Where `timestamp` is, if it is one of them.
    timestamp: Option<usize>,
}

impl Default for RealtimeFields {
    /// Every documented field, in the documented order.
    fn default() -> RealtimeFields {
        RealtimeFields::new(DOCUMENTED.iter().map(|name| name.to_string()).collect())
    }
}

/// A name in `CLOUDFRONT_REALTIME_FIELDS` that is no real-time log field, one named twice, or
/// two documented fields in an order no record has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldsError {
    #[error("{name:?} is not a CloudFront real-time log field (e.g. timestamp, c-ip, sc-status)")]
    Unknown { name: String },
    #[error("{name:?} is named twice")]
    Twice { name: String },
    #[error(
        "{after:?} is named before {before:?}, but CloudFront writes {before:?} first (records follow the documented order)"
    )]
    OutOfOrder { before: String, after: String },
    #[error("no field is named")]
    Empty,
}

impl RealtimeFields {
    fn new(names: Vec<String>) -> RealtimeFields {
        let timestamp = names.iter().position(|name| name == "timestamp");
        RealtimeFields {
            names: Arc::new(names),
            timestamp,
        }
    }

    /// Reads a comma-separated list of field names (spaces around them ignored). CloudFront writes
    /// a record's values in the documented order whatever order its configuration was given in,
    /// so documented fields listed in another order are refused; a [`LATER`] field, whose place
    /// is not known, may stand anywhere.
    pub fn parse(text: &str) -> Result<RealtimeFields, FieldsError> {
        let mut names: Vec<String> = Vec::new();
        for name in text.split(',').map(str::trim).filter(|name| !name.is_empty()) {
            if documented(name).is_none() && !LATER.contains(&name) {
                return Err(FieldsError::Unknown { name: name.into() });
            }
            if names.iter().any(|known| known == name) {
                return Err(FieldsError::Twice { name: name.into() });
            }
            let at = documented(name);
            if let Some(before) = names
                .iter()
                .find(|known| documented(known).zip(at).is_some_and(|(known, at)| known > at))
            {
                return Err(FieldsError::OutOfOrder {
                    before: name.into(),
                    after: before.clone(),
                });
            }
            names.push(name.to_string());
        }
        if names.is_empty() {
            return Err(FieldsError::Empty);
        }
        Ok(RealtimeFields::new(names))
    }

    /// The names, in order: the [`Context::header`] a record is parsed with.
    pub fn names(&self) -> &Arc<Vec<String>> {
        &self.names
    }

    /// Whether one Kinesis record's data is a real-time log line of these fields: text, not
    /// gzip; as many tab-separated values as the fields when there are several; and, when
    /// `timestamp` is one of them, an epoch time with a fraction (`1575493351.123`) at its place.
    /// Without `timestamp`, the number of values alone decides.
    pub fn recognises(&self, data: &[u8]) -> bool {
        if data.starts_with(&[0x1f, 0x8b]) {
            return false;
        }
        let Ok(text) = std::str::from_utf8(data) else {
            return false;
        };
        let values: Vec<&str> = line_of(text).split('\t').collect();
        let several = self.names.len() > 1;
        if several && values.len() < 2 {
            return false;
        }
        match self.timestamp {
            Some(at) => values.get(at).is_some_and(|value| epoch_ms(value).is_some()),
            None => several && values.len() == self.names.len(),
        }
    }
}

/// The line a record holds, without the line break CloudFront ends it with.
fn line_of(text: &str) -> &str {
    text.strip_suffix('\n')
        .map_or(text, |text| text.strip_suffix('\r').unwrap_or(text))
}

/// `1575493351.123`: whole seconds since the epoch, a point and one to nine digits, in
/// milliseconds.
fn epoch_ms(value: &str) -> Option<i64> {
    let (seconds, fraction) = value.split_once('.')?;
    let digits = |text: &str, most: usize| {
        !text.is_empty() && text.len() <= most && text.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(seconds, 12) || !digits(fraction, 9) {
        return None;
    }
    let millis: String = fraction.chars().chain("000".chars()).take(3).collect();
    Some(seconds.parse::<i64>().ok()? * 1000 + millis.parse::<i64>().ok()?)
}

/// Parses one record's line; `context.header` holds the configured field names (the documented
/// ones when there is none).
pub fn parse(line: &str, context: Context<'_>) -> Result<AccessRecord<'static>, RecordError> {
    let line = line_of(line);
    if line.trim().is_empty() {
        return Err(RecordError::Blank);
    }
    let names: Vec<&str> = match context.header {
        Some(names) => names.iter().map(String::as_str).collect(),
        None => DOCUMENTED.to_vec(),
    };
    let values: Vec<&str> = line.split('\t').collect();
    if let Some(at) = names.iter().position(|name| *name == "timestamp")
        && values.len() <= at
    {
        return Err(RecordError::TooFewValues {
            count: values.len(),
            layout: format!(
                "tab-separated values where the real-time fields are {}, {} to its timestamp",
                names.len(),
                at + 1
            ),
        });
    }
    let mut record = Record {
        out: FieldWriter::with_capacity(line.len() + 512),
        known: std::array::from_fn(|_| None),
        query_written: false,
    };
    for (name, value) in names.iter().zip(&values) {
        match documented(name) {
            Some(index) => record.known(index, value)?,
            None => record.out.str(&snake_case(name), &decode(value, Escapes::Url)),
        }
    }
    if let Some(missing) = names.get(values.len()..).filter(|names| !names.is_empty()) {
        record
            .out
            .string_list("missing_fields", missing.iter().map(|name| snake_case(name)));
    }
    let written = values
        .iter()
        .rposition(|value| !value.is_empty())
        .map_or(0, |at| at + 1);
    if let Some(extra) = values.get(names.len()..written).filter(|extra| !extra.is_empty()) {
        record.out.string_list("extra_fields", extra.iter().copied());
    }
    record.finish()
}

// Positions in DOCUMENTED (and FIELDS) of the fields the shared ones and `@timestamp` come from.
const TIMESTAMP: usize = 0;
const C_IP: usize = 1;
const SC_STATUS: usize = 3;
const SC_BYTES: usize = 4;
const CS_METHOD: usize = 5;
const CS_HOST: usize = 7;
const CS_URI_STEM: usize = 8;
const CS_BYTES: usize = 9;
const X_HOST_HEADER: usize = 12;
const TIME_TAKEN: usize = 13;
const CS_USER_AGENT: usize = 16;
const CS_URI_QUERY: usize = 19;
const X_FORWARDED_FOR: usize = 21;
const SSL_PROTOCOL: usize = 22;
const SSL_CIPHER: usize = 23;
const C_PORT: usize = 31;
const C_COUNTRY: usize = 33;

/// A record being written, with the (decoded) values of the documented fields it has.
struct Record<'a> {
    out: FieldWriter,
    known: [Option<Cow<'a, str>>; DOCUMENTED.len()],
    query_written: bool,
}

impl<'a> Record<'a> {
    fn known(&mut self, index: usize, value: &'a str) -> Result<(), RecordError> {
        let (key, kind) = FIELDS[index];
        let value = match (index, kind) {
            (TIMESTAMP, _) => {
                if value != "-" && !value.is_empty() && epoch_ms(value).is_none() {
                    return Err(RecordError::value(key, "epoch seconds with a fraction", value));
                }
                self.out.float(key, value)?;
                Cow::Borrowed(value)
            }
            (_, FieldType::Long) => {
                self.out.int(key, value)?;
                Cow::Borrowed(value)
            }
            (_, FieldType::Double) => {
                self.out.float(key, value)?;
                Cow::Borrowed(value)
            }
            (X_FORWARDED_FOR, _) => {
                let text = decode(value, Escapes::UrlAndHex);
                write_addresses(&mut self.out, key, &text);
                text
            }
            (CS_URI_STEM, _) => {
                let text = decode(value, Escapes::Url);
                let path = text.split_once('?').map_or(&*text, |(path, _)| path);
                self.out.str(key, path);
                text
            }
            _ => {
                let text = decode(value, Escapes::Url);
                self.out.str(key, &text);
                self.query_written |= index == CS_URI_QUERY;
                text
            }
        };
        self.known[index] = Some(value);
        Ok(())
    }

    fn finish(mut self) -> Result<AccessRecord<'static>, RecordError> {
        let value = |index: usize| {
            self.known[index]
                .as_deref()
                .filter(|v| *v != "-" && !v.is_empty())
        };
        let stem = value(CS_URI_STEM);
        let query = value(CS_URI_QUERY);
        if !self.query_written
            && let Some((_, query)) = stem.and_then(|stem| stem.split_once('?'))
        {
            self.out.str(FIELDS[CS_URI_QUERY].0, query);
        }
        let url_original = stem.map(|stem| match query {
            Some(query) if !stem.contains('?') => format!("{stem}?{query}"),
            _ => stem.to_string(),
        });
        // The numbers were checked when written.
        let number = |index: usize| value(index).and_then(|v| v.parse::<i64>().ok());
        let text = |index: usize| value(index).map(|value| Cow::Owned(value.to_string()));
        let mut duration = Duration::default();
        if let Some(seconds) = value(TIME_TAKEN).and_then(|v| v.parse::<f64>().ok()) {
            duration.add_seconds(seconds);
        }
        let shared = Shared {
            kind: Some(EventKind::WebAccess),
            client_ip: text(C_IP),
            client_port: number(C_PORT).and_then(|port| u16::try_from(port).ok()),
            http_method: text(CS_METHOD),
            // `000`: the viewer closed the connection before the server could respond.
            http_status_code: number(SC_STATUS)
                .filter(|status| *status > 0)
                .and_then(|status| u16::try_from(status).ok()),
            url_original: url_original.map(Cow::Owned),
            user_agent: text(CS_USER_AGENT),
            bytes: number(SC_BYTES).and_then(|bytes| u64::try_from(bytes).ok()),
            request_bytes: number(CS_BYTES).and_then(|bytes| u64::try_from(bytes).ok()),
            // The Host header the viewer sent; the distribution's domain when it sent none.
            url_domain: text(CS_HOST).or_else(|| text(X_HOST_HEADER)),
            tls_cipher: text(SSL_CIPHER),
            tls_protocol: text(SSL_PROTOCOL),
            country: text(C_COUNTRY),
            duration,
            ..Shared::default()
        };
        Ok(AccessRecord {
            time_ms: value(TIMESTAMP).and_then(epoch_ms),
            fields: self.out.finish(),
            shared,
        })
    }
}

#[cfg(test)]
mod tests;

//! Every S3 format Sluice reads, in one table ([`FORMATS`]). A format's row, in its own file,
//! says its name, how an object in it is recognised (AWS's key layout, its first bytes), how the
//! object is read (CloudWatch Logs payloads, a `{"Records":[…]}` file, lines and their header),
//! how a record is parsed into typed fields and what types they have, its default index prefix
//! and the dashboards that show it. The reader, the document writer, the index templates and the
//! dashboards read the row; none of them names a format.
//!
//! Adding a format is one new file (its [`FormatSpec`] and parser) and one row in [`FORMATS`].
//! An object nothing recognises is read as text lines, so nothing is dropped.

pub mod alb;
#[cfg(test)]
mod check;
pub mod cloudfront;
pub mod cloudfront_realtime;
mod cloudtrail;
mod cloudtrail_digest;
mod config;
pub mod elb;
mod fields;
mod finding;
#[cfg(test)]
mod finding_tests;
mod firehose;
pub mod guardduty;
mod json_lines;
mod members;
pub mod network_firewall;
pub mod nlb;
mod options;
mod positional;
mod recognise;
mod record;
pub mod route53_resolver;
pub mod s3access;
pub mod securityhub;
mod split;
mod text_lines;
mod time;
pub mod vpcflow;
mod vpcflow_parquet;
pub mod waf;

use std::fmt;
use std::str::FromStr;

pub use self::fields::FieldWriter;
pub use self::options::{DEFAULT_TIMESTAMP_FIELDS, RuleError, S3Options, parse_rules};
pub use self::record::{
    AccessRecord, Context, Dns, DnsAnswer, Duration, EventKind, FieldType, Parsed, RecordError, Shared,
};
pub use self::split::{split_address, split_quoted, split_request};
pub use self::time::{rfc3339_ms, time_of};

/// Every format, in the order settings list them. Recognition asks them in this order too: the
/// first whose key layout (then whose content, JSON and text lines last) matches is the object's
/// format.
pub(crate) static FORMATS: &[Format] = &[
    Format(&firehose::FORMAT),
    Format(&cloudtrail::FORMAT),
    Format(&cloudtrail_digest::FORMAT),
    Format(&config::FORMAT),
    Format(&config::CHECK_FORMAT),
    Format(&json_lines::FORMAT),
    Format(&text_lines::FORMAT),
    Format(&alb::FORMAT),
    Format(&alb::CONNECTION_FORMAT),
    Format(&nlb::FORMAT),
    Format(&elb::FORMAT),
    Format(&cloudfront::FORMAT),
    Format(&cloudfront_realtime::FORMAT),
    Format(&waf::FORMAT),
    Format(&s3access::FORMAT),
    // Before the text flow logs': both are under `vpcflowlogs/`, this one's file test the narrower.
    Format(&vpcflow_parquet::FORMAT),
    Format(&vpcflow::FORMAT),
    Format(&route53_resolver::FORMAT),
    Format(&network_firewall::FORMAT),
    Format(&guardduty::FORMAT),
    Format(&securityhub::FORMAT),
];

/// One row of [`FORMATS`]: everything Sluice knows of a format.
#[derive(Debug)]
pub struct FormatSpec {
    /// The name settings use (`S3_FORMATS`, `S3_INDEX_PREFIXES`) and documents carry in `format`.
    pub name: &'static str,
    /// Where AWS writes objects in this format, if it has a layout of its own.
    pub key: KeyLayout,
    /// Whether an object's first bytes (decompressed, as text) are in this format.
    pub content: Option<fn(&str) -> bool>,
    /// How an object is read into records.
    pub reading: Reading,
    /// The typed fields of its records, for the formats parsed into fields (access logs).
    pub typed: Option<Typed>,
    /// Where its records go when `S3_INDEX_PREFIXES` does not say; `None` for a format whose
    /// events go where subscribed events go (`INDEX_PREFIX`).
    pub index_prefix: Option<&'static str>,
    /// The dashboards that show its records.
    pub dashboards: &'static [Dashboard],
}

/// A key layout AWS writes under, `[prefix/]AWSLogs/[o-ORG/]ACCOUNT/SERVICE/…/FILE`, or a file
/// name of the format's own anywhere.
#[derive(Debug, Clone, Copy)]
pub struct KeyLayout {
    /// The service folder after the account; `None` for a format known by its file name alone.
    pub service: Option<&'static str>,
    /// What the file name must be; `None` for any.
    pub file: Option<fn(&str) -> bool>,
}

impl KeyLayout {
    /// No layout: the format is known by its content or a rule of `S3_FORMATS`.
    pub(crate) const NONE: KeyLayout = KeyLayout {
        service: None,
        file: None,
    };
}

/// How an object is read into records.
#[derive(Debug, Clone, Copy)]
pub enum Reading {
    /// CloudWatch Logs subscription payloads back to back: each is a batch of log events.
    Payloads,
    /// One JSON object whose array `member` (CloudTrail's `Records`, AWS Config's
    /// `configurationItems`) holds the records; `what` names such a file in messages, `time`
    /// reads a record's time, `ecs` what a record says in ECS's terms (for a format without a
    /// typed parser).
    Records {
        member: &'static str,
        what: &'static str,
        time: fn(&str) -> Option<i64>,
        ecs: fn(&str) -> Option<Shared<'_>>,
    },
    /// JSON values one after another, one a line or back to back (`{…}{…}`), each value's array
    /// at `path` holding the records (a Security Hub event's `detail.findings`); a value without
    /// it is a record itself. `what` names a value in messages.
    Values {
        path: &'static [&'static str],
        what: &'static str,
    },
    /// One record a line.
    Lines(Lines),
    /// The rows of an Apache Parquet file, one record each: a row is handed on as a line of its
    /// values in column order, separated by spaces (a null is `-`), and its columns' names, as
    /// `column` renames them, are the header line the format's parser reads the lines by. Read
    /// a row group at a time, with random access to the object (`read::parquet`).
    Parquet { column: fn(&str) -> String },
    /// Not read: the object holds no log (`why`). It is counted as skipped and acknowledged.
    Skip { why: &'static str },
}

impl Reading {
    /// The name of a record's position under `s3` in its document.
    pub fn position(&self) -> &'static str {
        match self {
            Reading::Records { .. } | Reading::Values { .. } => "record",
            Reading::Parquet { .. } => "row",
            Reading::Payloads | Reading::Lines(_) | Reading::Skip { .. } => "line",
        }
    }
}

/// How the lines of a format are read.
#[derive(Debug, Clone, Copy)]
pub struct Lines {
    /// What a line (at its number, from 1) is if not a record: a header naming the fields of
    /// the lines after it, or a comment to skip.
    pub header: Option<HeaderTest>,
    /// A line's own time, in milliseconds, given the `S3_TIMESTAMP_FIELDS` paths; the object's
    /// time when `None` (an access log's parser reads the time when it writes the document).
    pub time: Option<LineTime>,
}

/// What a line (at its number, from 1) is if not a record.
pub(crate) type HeaderTest = fn(u64, &str) -> Option<HeaderLine>;

/// A line's own time, in milliseconds, given the `S3_TIMESTAMP_FIELDS` paths.
pub(crate) type LineTime = fn(&str, &[Vec<String>]) -> Option<i64>;

impl Lines {
    /// Every line a record, its time read by the format's parser.
    pub(crate) const PLAIN: Lines = Lines {
        header: None,
        time: None,
    };
}

/// A line that is not a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderLine {
    /// The names of the fields of the lines that follow.
    Fields(Vec<String>),
    /// A comment, skipped.
    Comment,
}

/// A format's typed fields.
#[derive(Debug, Clone, Copy)]
pub struct Typed {
    /// The object of a record's document that holds them (`alb`, `vpc_flow`, …).
    pub object: &'static str,
    /// Each field and its mapping type, for the index template.
    pub fields: &'static [(&'static str, FieldType)],
    /// Reads one line, writing its fields at the end of the string (the inside of a JSON
    /// object, no braces). On an error, what was written is left for the caller to cut.
    pub parse: for<'a> fn(&'a str, Context<'_>, &mut String) -> Result<Parsed<'a>, RecordError>,
}

/// A dashboard of `sluice dashboards` that shows a format's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dashboard {
    /// "Access logs": the formats that log served HTTP requests.
    HttpAccess,
    /// "Security": findings, DNS queries, firewall traffic and configuration changes.
    Security,
}

/// A format: a row of [`FORMATS`].
#[derive(Clone, Copy)]
pub struct Format(&'static FormatSpec);

/// The formats code names (settings checks, tests, benchmarks), as the enum they replace spelled
/// them. A new format needs no name here.
#[allow(non_upper_case_globals)]
impl Format {
    pub const CloudwatchFirehose: Format = Format(&firehose::FORMAT);
    pub const Cloudtrail: Format = Format(&cloudtrail::FORMAT);
    pub const CloudtrailDigest: Format = Format(&cloudtrail_digest::FORMAT);
    pub const JsonLines: Format = Format(&json_lines::FORMAT);
    pub const TextLines: Format = Format(&text_lines::FORMAT);
    pub const Alb: Format = Format(&alb::FORMAT);
    pub const AlbConnection: Format = Format(&alb::CONNECTION_FORMAT);
    pub const Nlb: Format = Format(&nlb::FORMAT);
    pub const Elb: Format = Format(&elb::FORMAT);
    pub const Cloudfront: Format = Format(&cloudfront::FORMAT);
    pub const CloudfrontRealtime: Format = Format(&cloudfront_realtime::FORMAT);
    pub const Waf: Format = Format(&waf::FORMAT);
    pub const S3Access: Format = Format(&s3access::FORMAT);
    pub const VpcFlow: Format = Format(&vpcflow::FORMAT);
    pub const VpcFlowParquet: Format = Format(&vpcflow_parquet::FORMAT);
}

impl Format {
    /// The format's row.
    pub fn spec(self) -> &'static FormatSpec {
        self.0
    }

    pub fn name(self) -> &'static str {
        self.0.name
    }

    /// Why objects of this format are skipped, not read; `None` for a format that is read.
    pub fn skipped(self) -> Option<&'static str> {
        match self.0.reading {
            Reading::Skip { why } => Some(why),
            Reading::Payloads
            | Reading::Records { .. }
            | Reading::Values { .. }
            | Reading::Lines(_)
            | Reading::Parquet { .. } => None,
        }
    }

    /// The format AWS's own key layout gives `key`, if any.
    pub(crate) fn of_key(key: &str) -> Option<Format> {
        recognise::by_key(key)
    }

    /// The format an object's first decompressed bytes show (text lines when nothing else).
    pub(crate) fn of_content(head: &[u8]) -> Format {
        recognise::by_content(head)
    }

    /// Parses one record into the format's typed fields, written at the end of `out` (the inside
    /// of a JSON object, no braces). On an error, what was written is left for the caller to cut.
    pub fn parse<'a>(
        self,
        line: &'a str,
        context: Context<'_>,
        out: &mut String,
    ) -> Result<Parsed<'a>, RecordError> {
        match &self.0.typed {
            Some(typed) => (typed.parse)(line, context, out),
            None => Err(RecordError::NotTyped { format: self.0.name }),
        }
    }
}

impl std::ops::Deref for Format {
    type Target = FormatSpec;

    fn deref(&self) -> &FormatSpec {
        self.0
    }
}

impl PartialEq for Format {
    fn eq(&self, other: &Format) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}

impl Eq for Format {}

impl std::hash::Hash for Format {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.name.hash(state);
    }
}

impl fmt::Debug for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Format").field(&self.0.name).finish()
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name)
    }
}

/// A name that is no format's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format {name:?}, expected one of {}", names().collect::<Vec<_>>().join(", "))]
pub struct UnknownFormat {
    pub name: String,
}

/// The names of every format, in the table's order.
pub fn names() -> impl Iterator<Item = &'static str> {
    FORMATS.iter().map(|format| format.name)
}

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(text: &str) -> Result<Format, UnknownFormat> {
        FORMATS
            .iter()
            .copied()
            .find(|format| format.name == text)
            .ok_or_else(|| UnknownFormat {
                name: text.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_has_a_name_of_its_own_and_reads_back_from_it() {
        for (i, format) in FORMATS.iter().enumerate() {
            assert_eq!(format.name.parse::<Format>(), Ok(*format));
            assert!(FORMATS[..i].iter().all(|other| other.name != format.name));
            // Typed fields are written by a parser into the format's object.
            if let Some(typed) = &format.typed {
                assert!(!typed.fields.is_empty(), "{format}");
            }
        }
    }

    #[test]
    fn a_format_without_typed_fields_says_so() {
        let mut out = String::new();
        let err = Format::JsonLines
            .parse("{}", Context::default(), &mut out)
            .unwrap_err();
        assert_eq!(err.to_string(), "json-lines is not an access log format");
    }
}

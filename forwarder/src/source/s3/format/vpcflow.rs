//! VPC flow logs delivered to S3 as text, as AWS documents them:
//! <https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html> (fields, default and
//! custom formats) and <https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html>
//! (examples).
//!
//! A record is space-separated values. A file's first line names its fields (`version account-id
//! interface-id …`, the reader hands them over as [`Context::header`]): a custom format picks any
//! fields in any order. Without that line the default format is assumed, the version 2 fields in
//! their documented order.
//!
//! A line with more values than its layout names (the header line's names, or the default
//! format's 14) keeps the values after them, as written and in order, in `extra_fields`: an
//! object written without its header line (custom formats have 29 to 40 fields) is still read by
//! the default format, and `extra_fields` says that its line did not fit. Unlike the load
//! balancers' (whose trailing `-` AWS writes while it prepares to release a field), the list is
//! kept when every value in it is `-`: a flow log has no such practice, and the mismatch is the
//! news.
//!
//! A line with fewer values than its layout names is read as far as it goes, as CloudFront's is,
//! and the names it has no value for are listed, as they would have been keyed, in
//! `missing_fields`, as long as it reaches `start`, the record's time: a line that stops before
//! it does not parse. (A header line that names no `start` gives its lines no time; they need
//! only one value.)
//!
//! Names are AWS's with `-` as `_` (`log-status` → `log_status`); a name this module does not know
//! is kept by that rule as a string, which the index template's dynamic rule maps as a keyword.
//! `-` (not applicable, or not computed) is left out, so `NODATA` and `SKIPDATA` records keep what
//! they have: the interface, the window, the status. `start` and `end`, Unix seconds, are written
//! as dates; `start` is the record's time.

use super::{
    AccessRecord, Context, EventKind, FieldType, FieldWriter, FormatSpec, HeaderLine, KeyLayout, Lines,
    Reading, RecordError, Shared, Typed,
};
use crate::json::push_timestamp;
use std::borrow::Cow;

/// VPC flow logs' row of the format table: files under
/// `…/AWSLogs/[o-ORG/]ACCOUNT/vpcflowlogs/REGION/…`
/// (<https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-path.html>), whose first line
/// names the fields of the lines after it.
pub(crate) static FORMAT: FormatSpec = FormatSpec {
    name: "vpc-flow",
    key: KeyLayout {
        service: Some("vpcflowlogs"),
        file: None,
    },
    content: None,
    reading: Reading::Lines(Lines {
        header: Some(header),
        time: None,
    }),
    typed: Some(TYPED),
    index_prefix: Some("vpcflow"),
    dashboards: &[],
};

/// The typed fields of a flow log record, and its parser: a line read by its header's names.
/// Parquet flow logs ([`super::vpcflow_parquet`]) are parsed by the same.
pub(super) const TYPED: Typed = Typed {
    object: "vpc_flow",
    fields: FIELDS,
    parse: |line, context, out| parse(line, context).map(|record| record.into_parsed(out)),
};

/// The first line of a file, `version account-id interface-id …`, every name a lower-case word
/// (<https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html>).
fn header(number: u64, line: &str) -> Option<HeaderLine> {
    if number != 1 {
        return None;
    }
    let names: Vec<String> = line.split_whitespace().map(str::to_string).collect();
    let is_name = |name: &String| {
        name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    names.iter().all(is_name).then_some(HeaderLine::Fields(names))
}

/// The documented fields, by the version that brought them; the first 14 are the default format.
/// Then Sluice's: `extra_fields`, the values of a line after those its layout names, and
/// `missing_fields`, the names of its layout that a shorter line has no value for.
pub(crate) const FIELDS: &[(&str, FieldType)] = &[
    // Version 2, the default format, in its order.
    ("version", FieldType::Long),
    ("account_id", FieldType::Keyword),
    ("interface_id", FieldType::Keyword),
    ("srcaddr", FieldType::Ip),
    ("dstaddr", FieldType::Ip),
    ("srcport", FieldType::Long),
    ("dstport", FieldType::Long),
    ("protocol", FieldType::Long),
    ("packets", FieldType::Long),
    ("bytes", FieldType::Long),
    ("start", FieldType::Date),
    ("end", FieldType::Date),
    ("action", FieldType::Keyword),
    ("log_status", FieldType::Keyword),
    // Version 3.
    ("vpc_id", FieldType::Keyword),
    ("subnet_id", FieldType::Keyword),
    ("instance_id", FieldType::Keyword),
    ("tcp_flags", FieldType::Long),
    ("type", FieldType::Keyword),
    ("pkt_srcaddr", FieldType::Ip),
    ("pkt_dstaddr", FieldType::Ip),
    // Version 4.
    ("region", FieldType::Keyword),
    ("az_id", FieldType::Keyword),
    ("sublocation_type", FieldType::Keyword),
    ("sublocation_id", FieldType::Keyword),
    // Version 5.
    ("pkt_src_aws_service", FieldType::Keyword),
    ("pkt_dst_aws_service", FieldType::Keyword),
    ("flow_direction", FieldType::Keyword),
    ("traffic_path", FieldType::Long),
    // Version 7: ECS.
    ("ecs_cluster_arn", FieldType::Keyword),
    ("ecs_cluster_name", FieldType::Keyword),
    ("ecs_container_instance_arn", FieldType::Keyword),
    ("ecs_container_instance_id", FieldType::Keyword),
    ("ecs_container_id", FieldType::Keyword),
    ("ecs_second_container_id", FieldType::Keyword),
    ("ecs_service_name", FieldType::Keyword),
    ("ecs_task_definition_arn", FieldType::Keyword),
    ("ecs_task_arn", FieldType::Keyword),
    ("ecs_task_id", FieldType::Keyword),
    // Version 8.
    ("reject_reason", FieldType::Keyword),
    // Sluice's: what a line holds beyond its layout.
    ("extra_fields", FieldType::Keyword),
    ("missing_fields", FieldType::Keyword),
];

/// The fields of the default format: the first ones of [`FIELDS`].
const DEFAULT_FORMAT: usize = 14;
// Positions in FIELDS.
const SRCADDR: usize = 3;
const DSTADDR: usize = 4;
const SRCPORT: usize = 5;
const DSTPORT: usize = 6;
const PROTOCOL: usize = 7;
const PACKETS: usize = 8;
const BYTES: usize = 9;
const START: usize = 10;
const END: usize = 11;
const ACTION: usize = 12;

/// The position in [`FIELDS`] of a documented field name.
fn position(name: &str) -> Option<usize> {
    Some(match name {
        "version" => 0,
        "account-id" => 1,
        "interface-id" => 2,
        "srcaddr" => 3,
        "dstaddr" => 4,
        "srcport" => 5,
        "dstport" => 6,
        "protocol" => 7,
        "packets" => 8,
        "bytes" => 9,
        "start" => 10,
        "end" => 11,
        "action" => 12,
        "log-status" => 13,
        "vpc-id" => 14,
        "subnet-id" => 15,
        "instance-id" => 16,
        "tcp-flags" => 17,
        "type" => 18,
        "pkt-srcaddr" => 19,
        "pkt-dstaddr" => 20,
        "region" => 21,
        "az-id" => 22,
        "sublocation-type" => 23,
        "sublocation-id" => 24,
        "pkt-src-aws-service" => 25,
        "pkt-dst-aws-service" => 26,
        "flow-direction" => 27,
        "traffic-path" => 28,
        "ecs-cluster-arn" => 29,
        "ecs-cluster-name" => 30,
        "ecs-container-instance-arn" => 31,
        "ecs-container-instance-id" => 32,
        "ecs-container-id" => 33,
        "ecs-second-container-id" => 34,
        "ecs-service-name" => 35,
        "ecs-task-definition-arn" => 36,
        "ecs-task-arn" => 37,
        "ecs-task-id" => 38,
        "reject-reason" => 39,
        _ => return None,
    })
}

/// Parses one record; `context.header` holds the names of the file's first line.
pub fn parse(line: &str, context: Context<'_>) -> Result<AccessRecord<'static>, RecordError> {
    let values: Vec<&str> = line.split_ascii_whitespace().collect();
    if values.is_empty() {
        return Err(RecordError::Blank);
    }
    let mut record = Record {
        out: FieldWriter::with_capacity(line.len() * 2 + 128),
        shared: Shared {
            kind: Some(EventKind::Connection),
            ..Shared::default()
        },
        time_ms: None,
    };
    match context.header {
        Some(names) => record.by_header(names, &values)?,
        None => record.by_default_format(&values)?,
    }
    let layout = context.header.map_or(DEFAULT_FORMAT, <[String]>::len);
    // As written and in order, `-` included: a line whose extra values are all `-` still did not
    // fit its layout.
    if let Some(extra) = values.get(layout..).filter(|extra| !extra.is_empty()) {
        record.out.string_list("extra_fields", extra.iter().copied());
    }
    Ok(AccessRecord {
        time_ms: record.time_ms,
        fields: record.out.finish(),
        shared: record.shared,
    })
}

/// A record being written.
struct Record {
    out: FieldWriter,
    shared: Shared<'static>,
    time_ms: Option<i64>,
}

impl Record {
    /// Writes a line read by the header line's `names`, as far as it goes: it must reach
    /// `start`, if they name it.
    fn by_header(&mut self, names: &[String], values: &[&str]) -> Result<(), RecordError> {
        let needed = names
            .iter()
            .position(|name| name == "start")
            .map_or(1, |at| at + 1);
        if values.len() < needed {
            return Err(RecordError::TooFewValues {
                count: values.len(),
                layout: format!(
                    "values where the header line names {}, {needed} to its start",
                    names.len()
                ),
            });
        }
        for (name, value) in names.iter().zip(values) {
            match position(name) {
                Some(index) => self.known(index, value)?,
                None => self.out.str(&name.replace('-', "_"), value),
            }
        }
        if let Some(missing) = names.get(values.len()..).filter(|names| !names.is_empty()) {
            let keys = missing.iter().map(|name| name.replace('-', "_"));
            self.out.string_list("missing_fields", keys);
        }
        Ok(())
    }

    /// Writes a line read by the default format, as far as it goes: it must reach `start`.
    fn by_default_format(&mut self, values: &[&str]) -> Result<(), RecordError> {
        if values.len() <= START {
            return Err(RecordError::TooFewValues {
                count: values.len(),
                layout: format!(
                    "values where the default format has {DEFAULT_FORMAT}, {} to its start (no header line names others)",
                    START + 1
                ),
            });
        }
        for (index, value) in values.iter().take(DEFAULT_FORMAT).enumerate() {
            self.known(index, value)?;
        }
        let missing = FIELDS.get(values.len()..DEFAULT_FORMAT);
        if let Some(missing) = missing.filter(|fields| !fields.is_empty()) {
            let keys = missing.iter().map(|(key, _)| *key);
            self.out.string_list("missing_fields", keys);
        }
        Ok(())
    }

    /// Writes the value of a documented field, typed, and keeps what the shared fields need.
    fn known(&mut self, index: usize, value: &str) -> Result<(), RecordError> {
        let (key, kind) = FIELDS[index];
        match kind {
            FieldType::Long => {
                let number = self.out.int(key, value)?;
                let shared = &mut self.shared;
                match index {
                    SRCPORT => shared.client_port = number.and_then(|n| u16::try_from(n).ok()),
                    DSTPORT => shared.target_port = number.and_then(|n| u16::try_from(n).ok()),
                    PROTOCOL => shared.protocol = number.and_then(|n| u8::try_from(n).ok()),
                    PACKETS => shared.packets = number.and_then(|n| u64::try_from(n).ok()),
                    BYTES => shared.flow_bytes = number.and_then(|n| u64::try_from(n).ok()),
                    _ => {}
                }
            }
            FieldType::Date if value != "-" => {
                let seconds: i64 = value
                    .parse()
                    .map_err(|_| RecordError::value(key, "a time in Unix seconds", value))?;
                let ms = seconds.saturating_mul(1000);
                let mut text = String::with_capacity(26);
                push_timestamp(&mut text, ms);
                self.out.raw_json(key, &text);
                match index {
                    START => {
                        self.time_ms = Some(ms);
                        self.shared.start_ms = Some(ms);
                    }
                    END => self.shared.end_ms = Some(ms),
                    _ => {}
                }
            }
            FieldType::Date => {}
            _ => {
                self.out.str(key, value);
                let given = || Some(Cow::Owned(value.to_string())).filter(|_| value != "-");
                match index {
                    SRCADDR => self.shared.client_ip = given(),
                    DSTADDR => self.shared.target_ip = given(),
                    ACTION => {
                        self.shared.allowed = match value {
                            "ACCEPT" => Some(true),
                            "REJECT" => Some(false),
                            _ => None,
                        };
                        self.shared.action = given().map(|action| Cow::Owned(action.to_ascii_lowercase()));
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;

//! VPC flow logs delivered to S3 as text, as AWS documents them:
//! <https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html> (fields, default and
//! custom formats) and <https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html>
//! (examples).
//!
//! A record is space-separated values. A file's first line names its fields (`version account-id
//! interface-id …`, the reader hands them over as [`Context::header`]): a custom format picks any
//! fields in any order. Without that line the default format is assumed, the version 2 fields in
//! their documented order. Extra trailing values are ignored.
//!
//! Names are AWS's with `-` as `_` (`log-status` → `log_status`); a name this module does not know
//! is kept by that rule as a string, which the index template's dynamic rule maps as a keyword.
//! `-` (not applicable, or not computed) is left out, so `NODATA` and `SKIPDATA` records keep what
//! they have: the interface, the window, the status. `start` and `end`, Unix seconds, are written
//! as dates; `start` is the record's time.

use super::{
    AccessRecord, Context, FieldType, FieldWriter, FormatSpec, HeaderLine, KeyLayout, Lines, Reading,
    RecordError, Shared, Typed,
};
use crate::json::push_timestamp;
use std::borrow::Cow;

/// The documented fields, by the version that brought them; the first 14 are the default format.
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
    typed: Some(Typed {
        object: "vpc_flow",
        fields: FIELDS,
        parse: |line, context, out| parse(line, context).map(|record| record.into_parsed(out)),
    }),
    index_prefix: Some("vpcflow"),
    dashboards: &[],
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
];

/// The fields of the default format: the first ones of [`FIELDS`].
const DEFAULT_FORMAT: usize = 14;
// Positions in FIELDS.
const SRCADDR: usize = 3;
const SRCPORT: usize = 5;
const BYTES: usize = 9;
const START: usize = 10;

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
        shared: Shared::default(),
        time_ms: None,
    };
    match context.header {
        Some(names) => {
            if values.len() < names.len() {
                return Err(RecordError::TooFewValues {
                    count: values.len(),
                    layout: format!("values where the header line names {}", names.len()),
                });
            }
            for (name, value) in names.iter().zip(&values) {
                match position(name) {
                    Some(index) => record.known(index, value)?,
                    None => record.out.str(&name.replace('-', "_"), value),
                }
            }
        }
        None => {
            if values.len() < DEFAULT_FORMAT {
                return Err(RecordError::TooFewValues {
                    count: values.len(),
                    layout: format!(
                        "values where the default format has {DEFAULT_FORMAT} (no header line names others)"
                    ),
                });
            }
            for (index, value) in values.iter().take(DEFAULT_FORMAT).enumerate() {
                record.known(index, value)?;
            }
        }
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
    /// Writes the value of a documented field, typed, and keeps what the shared fields need.
    fn known(&mut self, index: usize, value: &str) -> Result<(), RecordError> {
        let (key, kind) = FIELDS[index];
        match kind {
            FieldType::Long => {
                let number = self.out.int(key, value)?;
                match index {
                    SRCPORT => self.shared.client_port = number.and_then(|n| u16::try_from(n).ok()),
                    BYTES => self.shared.bytes = number.and_then(|n| u64::try_from(n).ok()),
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
                if index == START {
                    self.time_ms = Some(ms);
                }
            }
            FieldType::Date => {}
            _ => {
                self.out.str(key, value);
                if index == SRCADDR && value != "-" {
                    self.shared.client_ip = Some(Cow::Owned(value.to_string()));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value, json};

    use super::super::check;
    use super::*;

    /// The default-format records of the examples page: accepted and rejected SSH and RDP, `NODATA`
    /// and `SKIPDATA`, a ping and its rejected reply, IPv6 SSH. With the header line S3 files start
    /// with.
    const DEFAULT: &str = include_str!("../../../../../tests/fixtures/access/vpcflow-default.log");
    /// "TCP flag sequence": a version 3 custom format (one record has two spaces between values,
    /// as on the page).
    const TCP_FLAGS: &str = include_str!("../../../../../tests/fixtures/access/vpcflow-tcp-flags.log");
    /// "Traffic through a NAT gateway": a custom format of six fields, no version, `-` instance
    /// ids (the page's trailing `#…` comments removed).
    const NAT_GATEWAY: &str = include_str!("../../../../../tests/fixtures/access/vpcflow-nat-gateway.log");
    /// "Traffic through a transit gateway" (the page's `...` line removed).
    const TRANSIT_GATEWAY: &str =
        include_str!("../../../../../tests/fixtures/access/vpcflow-transit-gateway.log");
    /// "Service name, traffic path, and flow direction": a version 5 custom format.
    const TRAFFIC_PATH: &str = include_str!("../../../../../tests/fixtures/access/vpcflow-traffic-path.log");

    /// A file read as the S3 reader reads it: its first line names the fields of the others.
    fn parse_file(text: &str) -> Vec<AccessRecord<'static>> {
        let mut lines = text.lines();
        let header: Vec<String> = lines
            .next()
            .unwrap()
            .split_whitespace()
            .map(str::to_string)
            .collect();
        lines
            .map(|line| {
                parse(
                    line,
                    Context {
                        header: Some(&header),
                    },
                )
                .unwrap_or_else(|err| panic!("{line}: {err}"))
            })
            .collect()
    }

    fn object(record: &AccessRecord) -> Map<String, Value> {
        check::object(&record.fields)
    }

    /// Every key written is in FIELDS, with a value of its mapping type.
    fn assert_typed(record: &AccessRecord) {
        check::typed(&record.fields, FIELDS);
    }

    #[test]
    fn the_documented_default_records_parse_into_typed_fields() {
        let records = parse_file(DEFAULT);
        assert_eq!(records.len(), 7);
        records.iter().for_each(assert_typed);

        let ssh = &records[0];
        assert_eq!(ssh.time_ms, Some(1_418_530_010_000));
        assert_eq!(
            Value::Object(object(ssh)),
            json!({
                "version": 2,
                "account_id": "123456789010",
                "interface_id": "eni-1235b8ca123456789",
                "srcaddr": "172.31.16.139",
                "dstaddr": "172.31.16.21",
                "srcport": 20641,
                "dstport": 22,
                "protocol": 6,
                "packets": 20,
                "bytes": 4249,
                "start": "2014-12-14T04:06:50.000Z",
                "end": "2014-12-14T04:07:50.000Z",
                "action": "ACCEPT",
                "log_status": "OK",
            })
        );
        assert_eq!(
            ssh.shared,
            Shared {
                client_ip: Some("172.31.16.139".into()),
                client_port: Some(20641),
                bytes: Some(4249),
                ..Shared::default()
            }
        );
        assert_eq!(object(&records[1])["action"], "REJECT");

        let ipv6 = &records[6];
        assert_eq!(object(ipv6)["dstaddr"], "2001:db8:1234:a102:3304:8879:34cf:4071");
        assert_eq!(
            ipv6.shared.client_ip.as_deref(),
            Some("2001:db8:1234:a100:8d6e:3477:df66:f105")
        );
        assert_eq!(ipv6.shared.client_port, Some(34892));
    }

    #[test]
    fn nodata_and_skipdata_records_keep_what_they_have() {
        let records = parse_file(DEFAULT);
        for (record, status, interface) in [
            (&records[2], "NODATA", "eni-1235b8ca123456789"),
            (&records[3], "SKIPDATA", "eni-11111111aaaaaaaaa"),
        ] {
            assert_eq!(record.time_ms, Some(1_431_280_876_000));
            assert_eq!(
                Value::Object(object(record)),
                json!({
                    "version": 2,
                    "account_id": "123456789010",
                    "interface_id": interface,
                    "start": "2015-05-10T18:01:16.000Z",
                    "end": "2015-05-10T18:02:14.000Z",
                    "log_status": status,
                })
            );
            assert_eq!(record.shared, Shared::default());
        }
    }

    #[test]
    fn a_line_without_a_header_is_read_in_the_default_format() {
        let line = DEFAULT.lines().nth(1).unwrap();
        let header: Vec<String> = DEFAULT
            .lines()
            .next()
            .unwrap()
            .split(' ')
            .map(str::to_string)
            .collect();
        assert_eq!(
            parse(line, Context::default()).unwrap(),
            parse(
                line,
                Context {
                    header: Some(&header)
                }
            )
            .unwrap()
        );
    }

    #[test]
    fn custom_formats_are_read_by_their_header() {
        let flags = parse_file(TCP_FLAGS);
        assert_eq!(flags.len(), 8);
        flags.iter().for_each(assert_typed);
        let syn_ack = object(&flags[1]);
        assert_eq!(syn_ack["version"], 3);
        assert_eq!(syn_ack["vpc_id"], "vpc-abcdefab012345678");
        assert_eq!(syn_ack["type"], "IPv4");
        assert_eq!(syn_ack["pkt_srcaddr"], "10.0.0.62");
        assert_eq!(syn_ack["bytes"], 376);
        assert_eq!(syn_ack["packets"], 7);
        assert_eq!(syn_ack["tcp_flags"], 18);
        assert_eq!(flags[1].shared.bytes, Some(376));
        // Two spaces between values are one separator.
        assert_eq!(object(&flags[7])["dstport"], 43638);
        assert_eq!(object(&flags[7])["tcp_flags"], 19);

        let nat = parse_file(NAT_GATEWAY);
        assert_eq!(nat.len(), 6);
        nat.iter().for_each(assert_typed);
        assert_eq!(
            Value::Object(object(&nat[0])),
            json!({
                "interface_id": "eni-1235b8ca123456789",
                "srcaddr": "10.0.1.5",
                "dstaddr": "10.0.0.220",
                "pkt_srcaddr": "10.0.1.5",
                "pkt_dstaddr": "203.0.113.5",
            })
        );
        assert_eq!(nat[0].time_ms, None);
        assert_eq!(object(&nat[4])["instance_id"], "i-01234567890123456");

        let transit = parse_file(TRANSIT_GATEWAY);
        assert_eq!(transit.len(), 4);
        transit.iter().for_each(assert_typed);
        assert!(!object(&transit[2]).contains_key("instance_id"));
        assert_eq!(object(&transit[2])["pkt_srcaddr"], "10.20.33.164");

        let path = parse_file(TRAFFIC_PATH);
        path.iter().for_each(assert_typed);
        let ingress = object(&path[0]);
        assert_eq!(ingress["region"], "ap-southeast-2");
        assert_eq!(ingress["az_id"], "apse2-az3");
        assert_eq!(ingress["pkt_src_aws_service"], "S3");
        assert_eq!(ingress["flow_direction"], "ingress");
        assert!(!ingress.contains_key("traffic_path") && !ingress.contains_key("sublocation_type"));
        let egress = object(&path[1]);
        assert_eq!(egress["traffic_path"], 8);
        assert_eq!(egress["pkt_dst_aws_service"], "S3");
        assert_eq!(path[1].time_ms, Some(1_616_729_292_000));
    }

    #[test]
    fn ecs_fields_unknown_names_and_extra_values() {
        let header: Vec<String> =
            "version srcaddr ecs-cluster-name ecs-task-id reject-reason some-future-field start"
                .split(' ')
                .map(str::to_string)
                .collect();
        let record = parse(
            "8 2001:db8::1 prod 0123abcd BPA later-value 1700000000 extra trailing values",
            Context {
                header: Some(&header),
            },
        )
        .unwrap();
        assert_eq!(
            Value::Object(object(&record)),
            json!({
                "version": 8,
                "srcaddr": "2001:db8::1",
                "ecs_cluster_name": "prod",
                "ecs_task_id": "0123abcd",
                "reject_reason": "BPA",
                "some_future_field": "later-value",
                "start": "2023-11-14T22:13:20.000Z",
            })
        );
        assert_eq!(record.time_ms, Some(1_700_000_000_000));
    }

    #[test]
    fn documented_names_map_to_their_snake_case_in_fields() {
        for (index, (key, _)) in FIELDS.iter().enumerate() {
            assert_eq!(position(&key.replace('_', "-")), Some(index), "{key}");
        }
        let header = DEFAULT.lines().next().unwrap().split(' ');
        assert!(
            header
                .enumerate()
                .all(|(index, name)| position(name) == Some(index))
        );
    }

    #[test]
    fn bad_lines_say_what_is_wrong() {
        let header: Vec<String> = DEFAULT
            .lines()
            .next()
            .unwrap()
            .split(' ')
            .map(str::to_string)
            .collect();
        let context = Context {
            header: Some(&header),
        };
        assert_eq!(parse("", context).unwrap_err(), "empty line");
        assert_eq!(parse(" \t ", Context::default()).unwrap_err(), "empty line");
        assert_eq!(
            parse("hello world", context).unwrap_err(),
            "2 values where the header line names 14"
        );
        assert_eq!(
            parse("hello world", Context::default()).unwrap_err(),
            "2 values where the default format has 14 (no header line names others)"
        );
        let line = DEFAULT.lines().nth(1).unwrap();
        assert_eq!(
            parse(&line.replace(" 6 20 ", " tcp 20 "), context).unwrap_err(),
            "protocol is not a whole number: \"tcp\""
        );
        assert_eq!(
            parse(&line.replace("1418530010", "yesterday"), context).unwrap_err(),
            "start is not a time in Unix seconds: \"yesterday\""
        );
    }
}

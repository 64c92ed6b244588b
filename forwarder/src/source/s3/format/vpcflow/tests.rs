use serde_json::{Map, Value, json};

use super::super::{EventKind, check};
use super::*;

/// The default-format records of the examples page: accepted and rejected SSH and RDP, `NODATA`
/// and `SKIPDATA`, a ping and its rejected reply, IPv6 SSH. With the header line S3 files start
/// with.
const DEFAULT: &str = include_str!("../../../../../../tests/fixtures/access/vpcflow-default.log");
/// "TCP flag sequence": a version 3 custom format (one record has two spaces between values,
/// as on the page).
const TCP_FLAGS: &str = include_str!("../../../../../../tests/fixtures/access/vpcflow-tcp-flags.log");
/// "Traffic through a NAT gateway": a custom format of six fields, no version, `-` instance
/// ids (the page's trailing `#…` comments removed).
const NAT_GATEWAY: &str = include_str!("../../../../../../tests/fixtures/access/vpcflow-nat-gateway.log");
/// "Traffic through a transit gateway" (the page's `...` line removed).
const TRANSIT_GATEWAY: &str =
    include_str!("../../../../../../tests/fixtures/access/vpcflow-transit-gateway.log");
/// "Service name, traffic path, and flow direction": a version 5 custom format.
const TRAFFIC_PATH: &str = include_str!("../../../../../../tests/fixtures/access/vpcflow-traffic-path.log");

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
            kind: Some(EventKind::Connection),
            client_ip: Some("172.31.16.139".into()),
            client_port: Some(20641),
            target_ip: Some("172.31.16.21".into()),
            target_port: Some(22),
            protocol: Some(6),
            packets: Some(20),
            flow_bytes: Some(4249),
            action: Some("accept".into()),
            allowed: Some(true),
            start_ms: Some(1_418_530_010_000),
            end_ms: Some(1_418_530_070_000),
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
        let connection = Shared {
            kind: Some(EventKind::Connection),
            start_ms: Some(1_431_280_876_000),
            end_ms: Some(1_431_280_934_000),
            ..Shared::default()
        };
        assert_eq!(record.shared, connection);
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
    assert_eq!(flags[1].shared.flow_bytes, Some(376));
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
            "extra_fields": ["extra", "trailing", "values"],
        })
    );
    assert_eq!(record.time_ms, Some(1_700_000_000_000));
}

/// Lines written for this test in a custom format AWS documents
/// (<https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html>, "Available
/// fields"): the version 2 to 5 fields in their documented order (29), then the ECS and version 8
/// fields (40), in an object that lost its header line, as issue 28 found them.
#[test]
fn a_line_longer_than_the_default_format_keeps_the_rest_in_extra_fields() {
    let v5 = "5 123456789012 eni-0a1b2c3d4e5f67890 10.0.1.25 10.0.2.40 49152 443 6 12 4321 \
        1764410400 1764410460 ACCEPT OK vpc-0a1b2c3d4e5f67890 subnet-0a1b2c3d4e5f67890 \
        i-0a1b2c3d4e5f67890 19 IPv4 10.0.1.25 10.0.2.40 us-east-1 use1-az4 - - - S3 egress 8";
    let record = parse(v5, Context::default()).unwrap();
    let fields = check::typed(&record.fields, FIELDS);
    // The default format's 14, as before.
    assert_eq!(fields["version"], 5);
    assert_eq!(fields["srcaddr"], "10.0.1.25");
    assert_eq!(fields["log_status"], "OK");
    assert_eq!(record.time_ms, Some(1_764_410_400_000));
    assert_eq!(record.shared.flow_bytes, Some(4321));
    // The other 15, kept as written and in order, `-` included: the line did not fit.
    let extra = fields["extra_fields"].as_array().unwrap();
    assert_eq!(extra.len(), 15);
    assert_eq!(extra[0], "vpc-0a1b2c3d4e5f67890");
    assert_eq!(extra[7], "us-east-1");
    assert_eq!(extra[9], "-");
    assert_eq!(extra[14], "8");
    // Nothing of them is typed under a name the default format does not have.
    assert!(!fields.contains_key("vpc_id") && !fields.contains_key("traffic_path"));

    let ecs = " arn:aws:ecs:us-east-1:123456789012:cluster/prod prod - - - - - - - - BPA";
    let v8 = format!("{v5}{ecs}");
    let record = parse(&v8, Context::default()).unwrap();
    let fields = check::typed(&record.fields, FIELDS);
    let extra = fields["extra_fields"].as_array().unwrap();
    assert_eq!(extra.len(), 26);
    assert_eq!(extra[25], "BPA");

    // Extra values that are all `-` are kept too: the count is the mismatch.
    let dashes = format!("{} - -", DEFAULT.lines().nth(1).unwrap());
    let record = parse(&dashes, Context::default()).unwrap();
    assert_eq!(object(&record)["extra_fields"], json!(["-", "-"]));
    // A default-format line has none.
    let plain = parse(DEFAULT.lines().nth(1).unwrap(), Context::default()).unwrap();
    assert!(!object(&plain).contains_key("extra_fields"));
}

/// The first default-format record of the examples page
/// (<https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html>), cut
/// short for this test; and lines written for it in a custom format of fields AWS documents
/// (<https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html>, "Available fields").
#[test]
fn a_line_shorter_than_its_layout_is_read_as_far_as_it_goes() {
    let full: Vec<&str> = DEFAULT.lines().nth(1).unwrap().split(' ').collect();
    let record = parse(&full[..12].join(" "), Context::default()).unwrap();
    let fields = check::typed(&record.fields, FIELDS);
    assert_eq!(fields["srcaddr"], "172.31.16.139");
    assert_eq!(fields["end"], "2014-12-14T04:07:50.000Z");
    assert_eq!(fields["missing_fields"], json!(["action", "log_status"]));
    assert_eq!(record.time_ms, Some(1_418_530_010_000));
    assert_eq!(record.shared.flow_bytes, Some(4249));
    // `start` is the last value it needs.
    let record = parse(&full[..11].join(" "), Context::default()).unwrap();
    assert_eq!(
        object(&record)["missing_fields"],
        json!(["end", "action", "log_status"])
    );
    assert_eq!(
        parse(&full[..10].join(" "), Context::default()).unwrap_err(),
        "10 values where the default format has 14, 11 to its start (no header line names others)"
    );

    // By a header line: its names, keyed as they would have been, unknown ones too.
    let header: Vec<String> = "version vpc-id start action log-status flow-direction some-future-field"
        .split(' ')
        .map(str::to_string)
        .collect();
    let context = Context {
        header: Some(&header),
    };
    let record = parse("5 vpc-0a1b2c3d4e5f67890 1764410400 ACCEPT", context).unwrap();
    let fields = check::typed(&record.fields, FIELDS);
    assert_eq!(fields["action"], "ACCEPT");
    assert_eq!(
        fields["missing_fields"],
        json!(["log_status", "flow_direction", "some_future_field"])
    );
    assert_eq!(record.time_ms, Some(1_764_410_400_000));
    assert_eq!(
        parse("5 vpc-0a1b2c3d4e5f67890", context).unwrap_err(),
        "2 values where the header line names 7, 3 to its start"
    );
    // A whole line has none.
    let whole = "5 vpc-0a1b2c3d4e5f67890 1764410400 ACCEPT OK ingress later";
    assert!(!object(&parse(whole, context).unwrap()).contains_key("missing_fields"));
    // A header line without `start` gives no time: one value is a line.
    let header: Vec<String> = ["interface-id", "srcaddr", "dstaddr"].map(str::to_string).into();
    let context = Context {
        header: Some(&header),
    };
    let record = parse("eni-0a1b2c3d4e5f67890", context).unwrap();
    assert_eq!(object(&record)["missing_fields"], json!(["srcaddr", "dstaddr"]));
    assert_eq!(record.time_ms, None);
}

#[test]
fn documented_names_map_to_their_snake_case_in_fields() {
    let documented = FIELDS
        .iter()
        .filter(|(key, _)| !matches!(*key, "extra_fields" | "missing_fields"));
    for (index, (key, _)) in documented.enumerate() {
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
        "2 values where the header line names 14, 11 to its start"
    );
    assert_eq!(
        parse("hello world", Context::default()).unwrap_err(),
        "2 values where the default format has 14, 11 to its start (no header line names others)"
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

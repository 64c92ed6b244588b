use std::io::Write;
use std::sync::Arc;

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};

use super::super::{Format, check};
use super::*;
use crate::document::tests::{builder, source};
use crate::document::{DocumentOptions, TimeWindow};
use crate::source::Ack;
use crate::source::s3::read::{Located, read_object};
use crate::source::s3::{Chunk, S3Options};

/// The example snapshot of "Delivering Configuration Snapshot to an Amazon S3 Bucket", as on
/// the page (pretty-printed, the older member names `accountId`, `arn`, `configurationStateID`):
/// an EBS volume and the EC2 instance it is attached to.
const SNAPSHOT: &str = include_str!("../../../../../../tests/fixtures/access/config-snapshot-docs.json");
/// The EC2 instance of "Example Configuration Item Change Notifications" (`OK`), in a history
/// file as Config delivers one.
const HISTORY_INSTANCE: &str =
    include_str!("../../../../../../tests/fixtures/access/config-history-ec2-instance.json");
/// The security group of the same page (`ResourceDiscovered`), in a history file.
const HISTORY_GROUP: &str =
    include_str!("../../../../../../tests/fixtures/access/config-history-security-group.json");

const CONFIG: &str = "AWSLogs/123456789012/Config/us-east-2";
const HISTORY_KEY: &str = "AWSLogs/123456789012/Config/us-east-2/2017/1/9/ConfigHistory/123456789012_Config_us-east-2_ConfigHistory_AWS::EC2::Instance_20170109T225014Z_20170109T225014Z_1.json.gz";

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// The documents of an object read under `key` as the S3 reader reads it, and how many
/// records did not parse; every document's time may name its own index.
fn documents(file: &str, key: &str) -> (Vec<crate::document::Document>, usize) {
    let located = Located {
        bucket: "config-bucket".into(),
        key: key.into(),
        etag: "abc".into(),
        last_modified_ms: 1_795_946_400_000,
        key_fields: Vec::new(),
    };
    let mut chunks = Vec::new();
    let read = read_object(
        gzip(file.as_bytes()).as_slice(),
        located,
        Ack::Invocation,
        &S3Options::default(),
        |chunk| {
            chunks.push(chunk);
            Ok(())
        },
    )
    .expect("a records file");
    assert_eq!(read.meta.format, Format(&FORMAT));
    let options = DocumentOptions {
        time_window: TimeWindow::days(36_500, 1),
        ..DocumentOptions::default()
    };
    let builder = builder(options);
    let (mut docs, mut unparsed) = (Vec::new(), 0);
    for chunk in chunks {
        let Chunk::Records(records) = chunk else {
            panic!("records expected");
        };
        let built = builder.record_documents(&Arc::new(records));
        unparsed += built.unparsed;
        docs.extend(built.docs);
    }
    (docs, unparsed)
}

fn item(file: &str, at: usize) -> String {
    let file: Value = serde_json::from_str(file).unwrap();
    file["configurationItems"][at].to_string()
}

#[test]
fn aws_key_layouts_name_history_snapshot_and_check_files() {
    let config = Format(&FORMAT);
    let check = Format(&CHECK_FORMAT);
    // Keys of the history and snapshot delivery notifications' examples.
    let keys = [
        (
            "AWSLogs/123456789012/Config/us-east-2/2016/9/27/ConfigHistory/123456789012_Config_us-east-2_ConfigHistory_AWS::CloudTrail::Trail_20160927T195818Z_20160927T195818Z_1.json.gz",
            Some(config),
        ),
        (
            "logs/AWSLogs/123456789012/Config/us-east-2/2016/9/27/ConfigSnapshot/123456789012_Config_us-east-2_ConfigSnapshot_20160927T183939Z_16da64e4-cb65-4846-b061-e6c3ba43cb96.json.gz",
            Some(config),
        ),
        (
            "AWSLogs/123456789012/Config/ConfigWritabilityCheckFile",
            Some(check),
        ),
        (
            "my-bucket/AWSLogs/123456789012/Config/us-west-2/2016/10/6/OversizedChangeNotification/AWS::EC2::Instance/resourceId_14b76876-7969-4097-ab8e-a31942b02e80/123456789012_Config_us-west-2_ChangeNotification_AWS::EC2::Instance_resourceId_14b76876-7969-4097-ab8e-a31942b02e80_20161006T164616Z_0.json.gz",
            Some(check),
        ),
        ("AWSLogs/123456789012/Config/us-east-2/2016/9/27/other.txt", None),
    ];
    for (key, format) in keys {
        assert_eq!(Format::of_key(key), format, "{key}");
    }
    assert!(check.skipped().is_some());
    // Copied elsewhere, a file is known by its first bytes.
    assert_eq!(Format::of_content(SNAPSHOT.as_bytes()), config);
    assert_eq!(Format::of_content(HISTORY_GROUP.as_bytes()), config);
    assert_eq!(
        Format::of_content(br#"{"fileVersion":"1.0","other":{"configurationItems":[]}}"#),
        Format::JsonLines
    );
}

#[test]
fn a_history_item_becomes_typed_fields_and_ecs() {
    let record = parse(&item(HISTORY_INSTANCE, 0)).unwrap();
    let fields = check::typed(&record.fields, FIELDS);
    assert_eq!(record.time_ms, Some(1_484_002_214_328));
    assert_eq!(fields["resource_type"], "AWS::EC2::Instance");
    assert_eq!(fields["resource_id"], "i-007d374c8912e3e90");
    assert_eq!(
        fields["arn"],
        "arn:aws:ec2:us-east-2:123456789012:instance/i-007d374c8912e3e90"
    );
    assert_eq!(fields["configuration_item_status"], "OK");
    assert_eq!(fields["configuration_item_version"], "1.2");
    assert_eq!(
        fields["configuration_item_capture_time"],
        "2017-01-09T22:50:14.328Z"
    );
    // A number in delivered files, a string in the API: a keyword either way.
    assert_eq!(fields["configuration_state_id"], "1484002214328");
    assert_eq!(
        fields["configuration_state_md5_hash"],
        "8d0f41750f5965e0071ae9be063ba306"
    );
    assert_eq!(fields["resource_creation_time"], "2017-01-09T20:13:28.000Z");
    assert_eq!(fields["availability_zone"], "us-east-2c");
    assert_eq!(fields["tags"], json!({"Name": "value"}));
    assert_eq!(
        fields["configuration"]["state"],
        json!({"code": 16, "name": "running"})
    );
    assert_eq!(fields["configuration"]["privateIpAddress"], "172.31.16.84");
    // `null`s are left out of the flat objects; `{}` and `[]` make no field.
    assert!(fields["configuration"].get("kernelId").is_none());
    assert_eq!(
        fields["configuration"]["placement"],
        json!({"availabilityZone": "us-east-2c", "groupName": "", "tenancy": "default"})
    );
    for absent in ["supplementary_configuration", "related_events", "resource_name"] {
        assert!(!fields.contains_key(absent), "{absent}");
    }
    assert_eq!(
        fields["relationships"][1],
        json!({"resourceId": "sg-3f1fef43", "resourceType": "AWS::EC2::SecurityGroup", "name": "Is associated with SecurityGroup"})
    );
    assert_eq!(
        record.shared,
        Shared {
            kind: Some(EventKind::Configuration),
            action: Some("OK".into()),
            account_id: Some("123456789012".into()),
            region: Some("us-east-2".into()),
            instance_id: Some("i-007d374c8912e3e90".into()),
            availability_zone: Some("us-east-2c".into()),
            own_id: Some(
                "123456789012/us-east-2/AWS::EC2::Instance/i-007d374c8912e3e90/1484002214328".into()
            ),
            ..Shared::default()
        }
    );
}

#[test]
fn the_documented_snapshot_reads_its_older_member_names() {
    let volume = parse(&item(SNAPSHOT, 0)).unwrap();
    let fields = check::typed(&volume.fields, FIELDS);
    assert_eq!(
        fields["arn"],
        "arn:aws:us-west-2b:123456789012:volume/vol-ce676ccc"
    );
    assert_eq!(
        fields["configuration_state_id"],
        "3e660fdf-4e34-4f32-afeb-0ace5bf3d63a"
    );
    assert_eq!(fields["availability_zone"], "us-west-2b");
    assert_eq!(
        fields["related_events"],
        json!([
            "06c12a39-eb35-11de-ae07-adb69edbb1e4",
            "c376e30d-71a2-4694-89b7-a5a04ad92281"
        ])
    );
    // Leaves keep their JSON types, and an empty string is a value.
    assert_eq!(fields["configuration"]["size"], 1);
    assert_eq!(fields["configuration"]["snapshotId"], "");
    assert!(!fields.contains_key("tags"), "an empty object makes no field");
    assert_eq!(volume.shared.account_id.as_deref(), Some("12345678910"));
    assert_eq!(volume.shared.region, None, "the key's region is the document's");
    assert_eq!(volume.shared.instance_id, None);
    let instance = parse(&item(SNAPSHOT, 1)).unwrap();
    let fields = check::typed(&instance.fields, FIELDS);
    assert_eq!(
        fields["tags"],
        json!({"Name": "integ-test-1", "examplename": "examplevalue"})
    );
    assert_eq!(instance.shared.instance_id.as_deref(), Some("i-344c463d"));
}

#[test]
fn every_status_is_the_action_and_zones_only_name_zones() {
    for status in [
        "OK",
        "ResourceDiscovered",
        "ResourceNotRecorded",
        "ResourceDeleted",
        "ResourceDeletedNotRecorded",
    ] {
        let item = json!({"configurationItemStatus": status, "resourceType": "AWS::S3::Bucket",
            "resourceId": "b", "configurationStateId": "1", "availabilityZone": "Regional"});
        let record = parse(&item.to_string()).unwrap();
        assert_eq!(record.shared.action.as_deref(), Some(status));
        assert_eq!(record.shared.availability_zone, None, "Regional is no zone");
        assert_eq!(check::object(&record.fields)["availability_zone"], "Regional");
    }
    for zone in ["us-east-2c", "use1-az1", "us-west-2-lax-1a"] {
        assert!(is_zone(zone), "{zone}");
    }
    for not in ["Regional", "Multiple Availability Zones", "Not Applicable", ""] {
        assert!(!is_zone(not), "{not}");
    }
}

#[test]
fn members_aws_may_add_are_kept_without_a_mapping_risk() {
    let item = json!({"resourceType": "AWS::S3::Bucket", "resourceId": "b",
        "configurationItemCaptureTime": "2026-11-29T10:00:00.000Z", "recordingFrequency": "DAILY",
        "newCount": 3, "newObject": {"a": 1}, "newList": [1], "newNull": null});
    let record = parse(&item.to_string()).unwrap();
    let fields = check::object(&record.fields);
    assert_eq!(fields["recording_frequency"], "DAILY");
    assert_eq!(fields["new_count"], 3);
    for absent in ["new_object", "new_list", "new_null"] {
        assert!(!fields.contains_key(absent), "{absent}");
    }
    // No state id: the capture time tells the item's versions apart.
    assert_eq!(
        record.shared.own_id.as_deref(),
        Some("//AWS::S3::Bucket/b/2026-11-29T10:00:00.000Z")
    );
}

#[test]
fn an_item_that_does_not_parse_says_why() {
    assert_eq!(
        parse("\"not an item\"").unwrap_err().to_string(),
        "not an AWS Config configuration item (JSON object): invalid type: string \"not an item\", expected a map at line 1 column 13"
    );
    assert_eq!(
        parse(r#"{"configurationItemCaptureTime":"yesterday"}"#).unwrap_err(),
        "configurationItemCaptureTime is not an RFC 3339 time: \"yesterday\""
    );
    assert_eq!(
        parse(r#"{"resourceId":{"a":1}}"#).unwrap_err(),
        "resourceId is not a string: \"{\\\"a\\\":1}\""
    );
}

/// The snapshot read as the S3 reader reads it: one document per item in the capture date's
/// index, with its ECS fields.
#[test]
fn a_snapshot_file_becomes_one_document_per_item() {
    let key = format!(
        "{CONFIG}/2014/3/8/ConfigSnapshot/123456789012_Config_us-east-2_ConfigSnapshot_20140308T000000Z_94ccff53-83be-42d9-996f-b4624b3c1a55.json.gz"
    );
    let (docs, unparsed) = documents(SNAPSHOT, &key);
    assert_eq!((docs.len(), unparsed), (2, 0));
    assert!(docs.iter().all(|doc| doc.index == "config-2014.03.07"));
    let instance = source(&docs[1]);
    assert_eq!(instance["@timestamp"], "2014-03-07T23:47:09.523Z");
    assert_eq!(instance["event"]["kind"], "event");
    assert_eq!(instance["event"]["category"], json!(["configuration"]));
    assert_eq!(instance["event"]["type"], json!(["change"]));
    assert_eq!(instance["event"]["action"], "OK");
    assert_eq!(instance["event"]["dataset"], "aws.config");
    assert_eq!(
        instance["cloud"],
        json!({"provider": "aws", "account": {"id": "12345678910"}, "region": "us-east-2",
            "availability_zone": "us-west-2b", "instance": {"id": "i-344c463d"}})
    );
    assert_eq!(instance["aws"]["config"]["resource_type"], "AWS::EC2::Instance");
    assert_eq!(
        instance["aws"]["config"]["configuration"]["imageId"],
        "ami-ccf297fc"
    );
    assert_eq!(instance["aws"]["s3"]["record"], 2);
    assert!(
        instance["message"]
            .as_str()
            .unwrap()
            .contains("\"instanceId\": \"i-344c463d\"")
    );
}

/// An item read from a history file and again from a snapshot is one document: the same `_id`
/// in the same index.
#[test]
fn an_item_in_a_history_file_and_a_snapshot_has_one_id() {
    let (history, _) = documents(HISTORY_INSTANCE, HISTORY_KEY);
    let snapshot_key = format!(
        "{CONFIG}/2017/1/10/ConfigSnapshot/123456789012_Config_us-east-2_ConfigSnapshot_20170110T000000Z_16da64e4-cb65-4846-b061-e6c3ba43cb96.json.gz"
    );
    let both: Value = json!({"fileVersion": "1.0", "configSnapshotId": "16da64e4-cb65-4846-b061-e6c3ba43cb96",
    "configurationItems": [
        serde_json::from_str::<Value>(&item(HISTORY_GROUP, 0)).unwrap(),
        serde_json::from_str::<Value>(&item(HISTORY_INSTANCE, 0)).unwrap(),
    ]});
    let (snapshot, _) = documents(&both.to_string(), &snapshot_key);
    assert_eq!(snapshot.len(), 2);
    assert_eq!(
        (&history[0].index, &history[0].id),
        (&snapshot[1].index, &snapshot[1].id)
    );
    assert_ne!(snapshot[0].id, snapshot[1].id);
    assert_eq!(history[0].index, "config-2017.01.09");
}

/// An item that does not parse is indexed with its `parse_error` and counted; the others of the
/// file are read.
#[test]
fn an_item_that_does_not_parse_is_kept_with_its_error() {
    let file = format!(
        r#"{{"fileVersion":"1.0","configurationItems":[{},"not an item"]}}"#,
        item(HISTORY_GROUP, 0)
    );
    let (docs, unparsed) = documents(&file, HISTORY_KEY);
    assert_eq!((docs.len(), unparsed), (2, 1));
    let group = source(&docs[0]);
    assert_eq!(group["event"]["action"], "ResourceDiscovered");
    assert_eq!(
        group["aws"]["config"]["configuration"]["groupName"],
        "example-security-group-2"
    );
    let bad = source(&docs[1]);
    assert!(
        bad["parse_error"]
            .as_str()
            .unwrap()
            .starts_with("not an AWS Config configuration item")
    );
    assert_eq!(bad["message"], "\"not an item\"");
}

/// The index template maps the nested blobs as `flat_object` and the times as dates.
#[test]
fn the_template_keeps_configurations_flat() {
    let template = crate::document::mapping::index_template_for_formats("config", "json", &[Format(&FORMAT)]);
    let properties = &template["template"]["mappings"]["properties"];
    let config = &properties["aws"]["properties"]["config"]["properties"];
    for flat in ["configuration", "supplementary_configuration", "tags"] {
        assert_eq!(config[flat]["type"], "flat_object", "{flat}");
    }
    assert_eq!(config["configuration_item_capture_time"]["type"], "date");
    assert_eq!(config["resource_type"]["type"], "keyword");
    assert_eq!(
        properties["cloud"]["properties"]["availability_zone"]["type"],
        "keyword"
    );
    assert_eq!(properties["parse_error"]["type"], "text");
}

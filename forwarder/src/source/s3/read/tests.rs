use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::json;

use super::*;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn located(key: &str) -> Located {
    Located {
        bucket: "logs".into(),
        key: key.into(),
        etag: "abc".into(),
        last_modified_ms: 1_795_946_400_000,
        key_fields: Vec::new(),
    }
}

/// Parses `body` and returns what was read and every chunk.
fn parse(body: &[u8], key: &str) -> (Result<ObjectRead, ParseError>, Vec<Chunk>) {
    let mut chunks = Vec::new();
    let result = read_object(
        body,
        located(key),
        Ack::Invocation,
        &S3Options::default(),
        |chunk| {
            chunks.push(chunk);
            Ok(())
        },
    );
    (result, chunks)
}

fn payload(group: &str, ids: &[&str]) -> String {
    let events: Vec<_> = ids
        .iter()
        .map(|id| json!({"id": id, "timestamp": 1_795_946_400_000_i64, "message": format!("event {id}")}))
        .collect();
    json!({"messageType": "DATA_MESSAGE", "owner": "111122223333", "logGroup": group,
        "logStream": "s", "subscriptionFilters": ["f"], "logEvents": events})
    .to_string()
}

fn logs(chunks: &[Chunk]) -> Vec<(String, usize)> {
    chunks
        .iter()
        .map(|chunk| match chunk {
            Chunk::Logs(batch) => (batch.data.log_group.clone(), batch.data.log_events.len()),
            Chunk::Control(control) => ("CONTROL_MESSAGE".to_string(), control.events as usize),
            Chunk::Records(_) => panic!("expected payloads"),
        })
        .collect()
}

fn records(chunks: &[Chunk]) -> Vec<Record> {
    chunks
        .iter()
        .flat_map(|chunk| match chunk {
            Chunk::Records(records) => records.records.clone(),
            Chunk::Logs(_) | Chunk::Control(_) => panic!("expected records"),
        })
        .collect()
}

#[test]
fn firehose_files_are_read_with_one_gzip_member_per_payload_or_one_for_all() {
    let control = json!({"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs",
        "logGroup": "", "logStream": "", "subscriptionFilters": [], "logEvents": [
            {"id": "", "timestamp": 1_795_946_400_000_i64, "message": "CWL CONTROL MESSAGE: Checking health of destination Firehose."}]})
    .to_string();
    let payloads = [control, payload("/a", &["1", "2"]), payload("/b", &["3"])];
    // As Firehose writes CloudWatch's records: each already gzip, concatenated.
    let members: Vec<u8> = payloads.iter().flat_map(|p| gzip(p.as_bytes())).collect();
    // One stream, back to back without a delimiter.
    let single = gzip(payloads.concat().as_bytes());
    // Firehose's own GZIP on top of the gzip records.
    let nested = gzip(&members);
    // Not compressed at all, with newlines between.
    let plain = payloads.join("\n").into_bytes();
    for (name, body) in [
        ("members", members),
        ("single", single),
        ("nested", nested),
        ("plain", plain),
    ] {
        let (result, chunks) = parse(&body, "firehose/2026/11/29/x");
        let read = result.unwrap_or_else(|err| panic!("{name}: {err:?}"));
        assert_eq!(read.meta.format, Format::CloudwatchFirehose, "{name}");
        assert_eq!(read.records, 3, "{name}");
        assert_eq!(
            logs(&chunks),
            [
                ("CONTROL_MESSAGE".to_string(), 1),
                ("/a".to_string(), 2),
                ("/b".to_string(), 1)
            ],
            "{name}"
        );
    }
}

#[test]
fn a_payload_larger_than_a_read_is_read_whole() {
    let ids: Vec<String> = (0..30_000).map(|i| format!("{i:056}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let big = payload("/big", &ids);
    assert!(big.len() > 2 * PAYLOAD_READ_BYTES);
    let body = [
        gzip(payload("/a", &["1"]).as_bytes()),
        gzip(big.as_bytes()),
        gzip(payload("/c", &["2"]).as_bytes()),
    ]
    .concat();
    let (result, chunks) = parse(&body, "x");
    result.unwrap();
    assert_eq!(
        logs(&chunks),
        [
            ("/a".to_string(), 1),
            ("/big".to_string(), 30_000),
            ("/c".to_string(), 1)
        ]
    );
}

#[test]
fn corrupt_objects_say_what_is_wrong() {
    let mut broken = gzip(payload("/a", &["1"]).as_bytes());
    let middle = broken.len() / 2;
    broken[middle] ^= 0xff;
    broken.truncate(broken.len() - 4);
    let (result, _) = parse(&broken, "x");
    let Err(ParseError::Corrupt(reason)) = result else {
        panic!("expected a corrupt object, got {result:?}");
    };
    assert!(!reason.is_empty());

    let cut = format!("{}{}", payload("/a", &["1"]), &payload("/b", &["2"])[..40]);
    let (result, chunks) = parse(cut.as_bytes(), "x");
    let Err(ParseError::Corrupt(reason)) = result else {
        panic!("expected a cut payload to fail, got {result:?}");
    };
    assert!(reason.contains("payload 2"), "{reason}");
    assert_eq!(chunks.len(), 1, "the whole first payload was still read");
}

/// Issue 28, item 8: a CloudTrail digest file, under its layout, is recognised and not read:
/// no records, and its format says why it is skipped. The file's shape is that of
/// <https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-digest-file-structure.html>,
/// its values made up here.
#[test]
fn cloudtrail_digest_files_are_recognised_and_skipped() {
    let key = "trails/AWSLogs/o-a1b2c3d4e5/123456789012/CloudTrail-Digest/eu-west-1/2026/11/29/123456789012_CloudTrail-Digest_eu-west-1_org-trail_eu-west-1_20261129T110512Z.json.gz";
    let digest = json!({
        "awsAccountId": "123456789012", "digestStartTime": "2026-11-29T10:05:12Z",
        "digestEndTime": "2026-11-29T11:05:12Z", "digestS3Bucket": "trails",
        "digestS3Object": key, "digestPublicKeyFingerprint": "0123456789abcdef0123456789abcdef",
        "digestSignatureAlgorithm": "SHA256withRSA", "newestEventTime": "2026-11-29T11:01:00Z",
        "oldestEventTime": "2026-11-29T10:06:00Z", "previousDigestS3Bucket": "trails",
        "previousDigestS3Object": null, "previousDigestHashValue": null,
        "previousDigestHashAlgorithm": null, "previousDigestSignature": null,
        "logFiles": [{"s3Bucket": "trails", "hashValue": "9f86d081884c7d659a2feaa0c55ad015",
                      "hashAlgorithm": "SHA-256", "newestEventTime": "2026-11-29T11:01:00Z",
                      "oldestEventTime": "2026-11-29T10:06:00Z",
                      "s3Object": "trails/AWSLogs/o-a1b2c3d4e5/123456789012/CloudTrail/eu-west-1/2026/11/29/123456789012_CloudTrail_eu-west-1_20261129T1010Z_a1b2.json.gz"}]
    });
    let (result, chunks) = parse(&gzip(digest.to_string().as_bytes()), key);
    let read = result.expect("a digest is no error");
    assert_eq!(read.meta.format, Format::CloudtrailDigest);
    assert!(read.meta.format.skipped().is_some());
    assert_eq!(read.records, 0);
    assert!(chunks.is_empty(), "nothing of a digest is indexed");
    // Elsewhere, the same bytes are an ordinary JSON line.
    let (result, chunks) = parse(&gzip(digest.to_string().as_bytes()), "copies/digest.json.gz");
    assert_eq!(result.expect("read").meta.format, Format::JsonLines);
    assert_eq!(records(&chunks).len(), 1);
}

#[test]
fn cloudtrail_records_are_read_one_at_a_time_with_their_event_time() {
    // Shape from https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html
    let file = json!({"Records": [
        {"eventVersion": "1.08", "eventTime": "2026-11-29T10:00:01Z", "eventSource": "iam.amazonaws.com",
         "eventName": "CreateUser", "awsRegion": "us-east-1", "requestParameters": {"userName": "Bob"}},
        {"eventVersion": "1.08", "eventSource": "s3.amazonaws.com", "eventName": "GetObject"},
    ]})
    .to_string();
    let key = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/29/111122223333_CloudTrail_us-east-1_20261129T1000Z_x.json.gz";
    let (result, chunks) = parse(&gzip(file.as_bytes()), key);
    assert_eq!(result.unwrap().meta.format, Format::Cloudtrail);
    let records = records(&chunks);
    assert_eq!(records.len(), 2);
    assert_eq!((records[0].number, records[0].timestamp), (1, 1_795_946_401_000));
    assert_eq!(
        (records[1].number, records[1].timestamp),
        (2, 1_795_946_400_000),
        "a record without eventTime takes LastModified"
    );
    let first: serde_json::Value = serde_json::from_str(&records[0].text).unwrap();
    assert_eq!(first["requestParameters"]["userName"], "Bob");

    let (result, _) = parse(br#"{"NotRecords": []}"#, key);
    assert!(matches!(result, Err(ParseError::Corrupt(reason)) if reason.contains("Records")));
}

#[test]
fn lines_keep_their_numbers_and_bytes_that_are_not_utf8() {
    let body = b"2026-11-29T10:00:05Z first\r\n\n  \nsecond \xff line\nlast without newline";
    let (result, chunks) = parse(&gzip(body), "app/x.log.gz");
    let read = result.unwrap();
    assert_eq!(read.meta.format, Format::TextLines);
    let records = records(&chunks);
    let summary: Vec<(u64, i64, &str)> = records
        .iter()
        .map(|r| (r.number, r.timestamp, r.text.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (1, 1_795_946_405_000, "2026-11-29T10:00:05Z first"),
            (4, 1_795_946_400_000, "second \u{fffd} line"),
            (5, 1_795_946_400_000, "last without newline"),
        ]
    );
}

#[test]
fn json_lines_take_the_time_they_hold() {
    let body = b"{\"timestamp\":\"2026-11-29T11:00:00Z\",\"msg\":\"a\"}\n{\"msg\":\"b\"}\nnot json\n";
    let (result, chunks) = parse(body, "app/x.json");
    assert_eq!(result.unwrap().meta.format, Format::JsonLines);
    let times: Vec<i64> = records(&chunks).iter().map(|r| r.timestamp).collect();
    assert_eq!(times, [1_795_950_000_000, 1_795_946_400_000, 1_795_946_400_000]);
}

#[test]
fn records_leave_in_chunks_and_a_stop_ends_reading() {
    let line = "x".repeat(1000);
    let body: String = (0..3000).map(|_| format!("{line}\n")).collect();
    let (result, chunks) = parse(body.as_bytes(), "big.log");
    assert_eq!(result.unwrap().records, 3000);
    assert!(chunks.len() >= 2, "{} chunks", chunks.len());
    assert_eq!(records(&chunks).len(), 3000);

    let mut taken = 0;
    let result = read_object(
        body.as_bytes(),
        located("big.log"),
        Ack::Invocation,
        &S3Options::default(),
        |_| {
            taken += 1;
            Err(Stopped)
        },
    );
    assert!(matches!(result, Err(ParseError::Stopped)));
    assert_eq!(taken, 1);
}

#[test]
fn a_rule_overrides_what_the_content_says() {
    let options = S3Options {
        rules: crate::source::s3::format::parse_rules("raw/*=text-lines").unwrap(),
        ..S3Options::default()
    };
    let mut chunks = Vec::new();
    let read = read_object(
        payload("/a", &["1"]).as_bytes(),
        located("raw/x"),
        Ack::Invocation,
        &options,
        |chunk| {
            chunks.push(chunk);
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(read.meta.format, Format::TextLines);
    assert_eq!(records(&chunks).len(), 1);
}

/// Reads `body` from the record after `after`, as a continuation does.
fn parse_after(body: &[u8], key: &str, after: u64) -> (ObjectRead, Vec<Chunk>) {
    let (read, chunks) = parse_from(body, key, Start { after, seek: None });
    (read, chunks.into_iter().map(|(chunk, _)| chunk).collect())
}

/// Reads `body` from `start`: what was read, and every chunk with where reading could start
/// again after it.
fn parse_from(body: &[u8], key: &str, start: Start) -> (ObjectRead, Vec<(Chunk, Option<Seek>)>) {
    let mut chunks = Vec::new();
    let read = read_object_from(
        body,
        located(key),
        Ack::Invocation,
        &S3Options::default(),
        start,
        |chunk, seek| {
            chunks.push((chunk, seek));
            Ok(())
        },
    )
    .expect("read");
    (read, chunks)
}

/// Issue 25: a continuation resumes at the record after the last one done, in every way an
/// object is read, and the records resumed keep the numbers (hence the ids) they had.
#[test]
fn a_continuation_resumes_after_its_last_record_in_every_reading() {
    let body = b"one\ntwo\n\nthree\nfour\n";
    let (read, chunks) = parse_after(body, "app/x.log", 2);
    let resumed: Vec<(u64, String)> = records(&chunks).into_iter().map(|r| (r.number, r.text)).collect();
    assert_eq!(resumed, [(4, "three".to_string()), (5, "four".to_string())]);
    assert_eq!(read.records, 2, "the records passed over are not counted again");

    let payloads = [
        payload("/a", &["1"]),
        payload("/b", &["2", "3"]),
        payload("/c", &["4"]),
    ];
    let members: Vec<u8> = payloads.iter().flat_map(|p| gzip(p.as_bytes())).collect();
    let (_, chunks) = parse_after(&members, "firehose/2026/11/29/x", 1);
    assert_eq!(logs(&chunks), [("/b".to_string(), 2), ("/c".to_string(), 1)]);

    let file = json!({"Records": [{"eventName": "A"}, {"eventName": "B"}, {"eventName": "C"}]}).to_string();
    let key = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/29/111122223333_CloudTrail_us-east-1_20261129T1000Z_x.json.gz";
    let (_, chunks) = parse_after(file.as_bytes(), key, 2);
    let resumed = records(&chunks);
    assert_eq!(resumed.len(), 1);
    assert_eq!(resumed[0].number, 3);
    assert!(resumed[0].text.contains("\"C\""));

    let (read, chunks) = parse_after(body, "app/x.log", 5);
    assert_eq!(
        (read.records, chunks.len()),
        (0, 0),
        "nothing left after the last line"
    );
}

/// A header line passed over still names the fields of the lines after it: a VPC flow log's
/// first line, a CloudFront log's `#Fields:`.
#[test]
fn a_continuation_keeps_the_header_it_passed_over() {
    // The default format's header, https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html
    let body = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n\
        2 123456789012 eni-0a1b2c3d4e5f67890 10.0.1.5 203.0.113.10 49152 443 6 10 5120 1795946400 1795946460 ACCEPT OK\n\
        2 123456789012 eni-0a1b2c3d4e5f67890 10.0.1.5 203.0.113.10 49153 443 6 10 5120 1795946400 1795946460 REJECT OK\n";
    let key = "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/29/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20261129T1000Z_hash.log.gz";
    let (read, chunks) = parse_after(body.as_bytes(), key, 2);
    assert_eq!(read.meta.format, Format::VpcFlow);
    let [Chunk::Records(resumed)] = &chunks[..] else {
        panic!("one chunk: {chunks:?}");
    };
    assert_eq!(resumed.records.len(), 1);
    assert_eq!(resumed.records[0].number, 3);
    let header = resumed.header.as_ref().expect("the header passed over");
    assert_eq!(header[3], "srcaddr");
}

/// Issue 25, seeking where the format allows: an object stored as it is, read as lines, can be
/// read again from any chunk's end with a ranged download, and gives the same records, with the
/// same numbers, as passing over what was done.
#[test]
fn an_uncompressed_object_resumes_at_the_byte_after_a_chunk() {
    let body: String = (1..=6000)
        .map(|n| format!("2026-11-29T10:00:00Z request {n} served\n"))
        .collect();
    let (_, chunks) = parse_from(body.as_bytes(), "app/x.log", Start::default());
    assert!(chunks.len() >= 3, "{} chunks", chunks.len());
    let (Chunk::Records(first), Some(seek)) = &chunks[0] else {
        panic!("lines of an uncompressed object can be sought: {:?}", chunks[0].1);
    };
    let after = first.records.last().expect("records").number;
    assert_eq!(
        &body.as_bytes()[seek.offset as usize - 1..seek.offset as usize],
        b"\n"
    );
    let start = Start {
        after,
        seek: Some(*seek),
    };
    let (_, sought) = parse_from(&body.as_bytes()[seek.offset as usize..], "app/x.log", start);
    let sought = records(&sought.into_iter().map(|(chunk, _)| chunk).collect::<Vec<_>>());
    let (_, passed) = parse_after(body.as_bytes(), "app/x.log", after);
    assert_eq!(sought, records(&passed));
    assert_eq!(sought[0].number, after + 1);
    assert_eq!(sought.last().expect("records").number, 6000);
}

/// A Firehose file of gzip members, one payload each, resumes at the member after a payload.
#[test]
fn a_file_of_gzip_members_resumes_at_the_member_after_a_payload() {
    let ids: Vec<String> = (0..5).map(|n| n.to_string()).collect();
    let payloads: Vec<String> = ids.iter().map(|id| payload(&format!("/g{id}"), &[id])).collect();
    let members: Vec<Vec<u8>> = payloads.iter().map(|p| gzip(p.as_bytes())).collect();
    let body = members.concat();
    let (_, chunks) = parse_from(&body, "firehose/2026/11/29/x", Start::default());
    let seeks: Vec<Option<u64>> = chunks
        .iter()
        .map(|(_, seek)| seek.map(|seek| seek.offset))
        .collect();
    let ends: Vec<Option<u64>> = (members.iter())
        .scan(0, |end, member| {
            *end += member.len() as u64;
            Some(Some(*end))
        })
        .collect();
    assert_eq!(
        &seeks[..4],
        &ends[..4],
        "each payload's member ends where the next starts"
    );
    let seek = chunks[1].1.expect("a seek");
    let (_, sought) = parse_from(
        &body[seek.offset as usize..],
        "firehose/2026/11/29/x",
        Start {
            after: 2,
            seek: Some(seek),
        },
    );
    let sought: Vec<Chunk> = sought.into_iter().map(|(chunk, _)| chunk).collect();
    assert_eq!(
        logs(&sought),
        [
            ("/g2".to_string(), 1),
            ("/g3".to_string(), 1),
            ("/g4".to_string(), 1)
        ]
    );
}

/// Where a place in the decompressed bytes says nothing of where they are stored, no seek is
/// offered: one gzip member of lines, gzip inside gzip, a format whose header line would be
/// passed by.
#[test]
fn no_seek_where_the_stored_bytes_do_not_say_where_a_record_is() {
    let lines: String = (1..=3000)
        .map(|n| format!("line {n} of a log that is long enough\n"))
        .collect();
    let (_, chunks) = parse_from(&gzip(lines.as_bytes()), "app/x.log.gz", Start::default());
    assert!(chunks.len() > 1 && chunks.iter().all(|(_, seek)| seek.is_none()));

    let payloads = [payload("/a", &["1"]), payload("/b", &["2"])];
    let members: Vec<u8> = payloads.iter().flat_map(|p| gzip(p.as_bytes())).collect();
    let (_, chunks) = parse_from(&gzip(&members), "firehose/2026/11/29/x", Start::default());
    assert_eq!(chunks.len(), 2);
    assert!(chunks.iter().all(|(_, seek)| seek.is_none()));

    let vpc = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n\
        2 123456789012 eni-0a1b2c3d4e5f67890 10.0.1.5 203.0.113.10 49152 443 6 10 5120 1795946400 1795946460 ACCEPT OK\n";
    let key = "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/29/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20261129T1000Z_hash.log";
    let (_, chunks) = parse_from(vpc.as_bytes(), key, Start::default());
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0].1, None);
}

/// Issue 27: a payload whose events carry system fields is one batch per source account, and
/// only the last of them says where to continue, at the end of the payload's member.
#[test]
fn a_central_payload_is_split_by_source_and_only_its_last_batch_can_be_continued_after() {
    let central = crate::source::system_fields::tests::CENTRAL_BATCH;
    let members = [
        gzip(central.as_bytes()),
        gzip(payload("/plain", &["9"]).as_bytes()),
    ];
    let body = members.concat();
    let (read, chunks) = parse_from(&body, "firehose/2026/12/07/x", Start::default());
    assert_eq!(read.records, 2, "two payloads");
    let seen: Vec<(String, usize, Option<u64>)> = chunks
        .iter()
        .map(|(chunk, seek)| match chunk {
            Chunk::Logs(batch) => (
                batch.data.owner.clone(),
                batch.data.log_events.len(),
                seek.map(|seek| seek.offset),
            ),
            Chunk::Control(_) | Chunk::Records(_) => panic!("expected payloads"),
        })
        .collect();
    let first_end = members[0].len() as u64;
    assert_eq!(
        seen,
        [
            ("111111111111".to_string(), 2, None),
            ("222222222222".to_string(), 1, Some(first_end)),
            ("111122223333".to_string(), 1, Some(body.len() as u64)),
        ]
    );
}

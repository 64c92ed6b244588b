//! Issue 26: what other accounts may write is read within `MAX_RECORD_BYTES`,
//! `MAX_PAYLOAD_BYTES` and `MAX_OBJECT_EXPANSION`, each tested at its limit and just past it.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;

use std::cell::Cell;
use std::rc::Rc;

use super::decompress::Expansion;
use super::*;
use crate::limits::{EXPANSION_FLOOR, Limits};

const CLOUDTRAIL_KEY: &str = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/29/111122223333_CloudTrail_us-east-1_20261129T1000Z_x.json";

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Reads `body` as the object `key` within `limits`: what was read, and its records.
fn read_within(body: &[u8], key: &str, limits: Limits) -> (Result<ObjectRead, ParseError>, Vec<Record>) {
    let mut records = Vec::new();
    let options = S3Options {
        limits,
        ..S3Options::default()
    };
    let object = Located {
        bucket: "logs".into(),
        key: key.into(),
        etag: "abc".into(),
        last_modified_ms: 1_795_946_400_000,
        key_fields: Vec::new(),
    };
    let result = read_object(body, object, Ack::Invocation, &options, |chunk| {
        if let Chunk::Records(chunk) = chunk {
            records.extend(chunk.records);
        }
        Ok(())
    });
    (result, records)
}

fn max_record(bytes: usize) -> Limits {
    Limits {
        max_record_bytes: bytes,
        ..Limits::default()
    }
}

/// Each record's text and the length it was cut from.
fn texts(records: &[Record]) -> Vec<(&str, Option<u64>)> {
    records
        .iter()
        .map(|record| (record.text.as_str(), record.truncated_from))
        .collect()
}

#[test]
fn a_line_at_the_limit_is_whole_and_one_past_it_is_cut_and_marked() {
    let body = "0123456789\n0123456789a\r\nnext\n";
    let (result, records) = read_within(body.as_bytes(), "app/x.log", max_record(10));
    let read = result.expect("read");
    assert_eq!(
        texts(&records),
        [("0123456789", None), ("0123456789", Some(12)), ("next", None)],
        "the line past the limit keeps its first 10 bytes and its length (with its \\r)"
    );
    assert_eq!(
        read.bytes,
        body.len() as u64,
        "the bytes passed over are counted read"
    );
    assert_eq!(records[2].number, 3);
}

#[test]
fn a_cut_line_ends_on_a_character_and_a_line_without_an_end_is_cut_too() {
    // 'é' is two bytes: cut after 4 bytes, it would be split.
    let body = "abcé and more\nendless ".to_string() + &"x".repeat(100_000);
    let (result, records) = read_within(body.as_bytes(), "app/x.log", max_record(4));
    result.expect("read");
    assert_eq!(
        texts(&records),
        [("abc", Some(14)), ("endl", Some(100_008))],
        "{records:?}"
    );
}

#[test]
fn a_record_at_the_limit_is_whole_and_one_past_it_is_cut_the_next_read_whole() {
    let first = r#"{"eventName":"A","x":"0123"}"#;
    let second = r#"{"eventName":"B","x":"01234"}"#;
    let body = format!(r#"{{"Records":[{first}, {second} ,{first}]}}"#);
    let (result, records) = read_within(body.as_bytes(), CLOUDTRAIL_KEY, max_record(first.len()));
    result.expect("read");
    assert_eq!(
        texts(&records),
        [
            (first, None),
            (&second[..first.len()], Some(second.len() as u64)),
            (first, None)
        ]
    );
    assert_eq!(records[2].number, 3);
}

#[test]
fn records_are_found_past_strings_escapes_and_deep_nesting_without_recursion() {
    let tricky = r#"{"eventName":"a \" ] } [ {","n":[1,[2,{"k":"\\"}]],"t":true}"#;
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let body = format!(
        r#"{{"before":{{"Records":"not these"}}, "Records":[{tricky},{deep},7,"text",null], "after":[[]]}}"#
    );
    let (result, records) = read_within(body.as_bytes(), CLOUDTRAIL_KEY, max_record(1 << 20));
    result.expect("read");
    let texts: Vec<&str> = records.iter().map(|record| record.text.as_str()).collect();
    assert_eq!(texts, [tricky, deep.as_str(), "7", "\"text\"", "null"]);
}

#[test]
fn a_records_file_that_is_not_one_says_where() {
    for (body, says) in [
        (r#"{"Records":[{"a":1}"#, "after a record"),
        (r#"{"Records":["#, "ends early"),
        (r#"{"Records":[{"a":1}]"#, "expected `,` or `}`"),
        (r#"{"Records":[{"a":"1]}"#, "ends inside a value"),
        (r#"{"Records":[1 2]}"#, "expected `,` or `]`"),
        (r#"{"Records":[]} x"#, "trailing characters"),
        (r#"{"NotRecords":[]}"#, "missing field `Records`"),
        (r#"{"Records":{}}"#, "an array of records"),
        (r#"{"Records":[,]}"#, "expected a value"),
    ] {
        let (result, _) = read_within(body.as_bytes(), CLOUDTRAIL_KEY, Limits::default());
        match result {
            Err(ParseError::Corrupt(reason)) => assert!(reason.contains(says), "{body}: {reason}"),
            other => panic!("{body}: expected an error, got {other:?}"),
        }
    }
}

/// A Firehose file's payload is one CloudWatch Logs payload: at most `MAX_PAYLOAD_BYTES`.
#[test]
fn a_firehose_payload_past_the_payload_limit_ends_the_reading() {
    let payload =
        r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[]}"#;
    let limits = |max: usize| Limits {
        max_payload_bytes: max,
        ..Limits::default()
    };
    // Parsed from a buffer of PAYLOAD_READ_BYTES: a payload is refused once the unparsed bytes
    // held pass the limit.
    let long = format!(
        "{}{{\"messageType\":\"{}",
        payload,
        "x".repeat(PAYLOAD_READ_BYTES + 10)
    );
    let (result, _) = read_within(&gzip(long.as_bytes()), "x", limits(PAYLOAD_READ_BYTES));
    match result {
        Err(ParseError::Corrupt(reason)) => {
            assert!(
                reason.contains("payload 2") && reason.contains("MAX_PAYLOAD_BYTES"),
                "{reason}"
            )
        }
        other => panic!("expected the long payload refused, got {other:?}"),
    }
    let body = gzip(payload.repeat(3).as_bytes());
    let (result, _) = read_within(&body, "x", limits(payload.len()));
    assert_eq!(result.expect("payloads at the limit").records, 3);
}

#[test]
fn decompressed_bytes_past_the_expansion_limit_fail_after_the_floor() {
    let read_of = |length: u64, stored: u64, max: u64| {
        let mut expansion = Expansion::new(
            std::io::repeat(0).take(length),
            Rc::new(Cell::new(stored)),
            max,
            1024,
        );
        let mut out = Vec::new();
        expansion.read_to_end(&mut out).map(|_| out.len())
    };
    let read_through = |stored: u64, max: u64| read_of(4096, stored, max);
    assert_eq!(read_through(4, 1024).expect("at the limit"), 4096);
    let err = read_through(4, 1023).expect_err("past the limit");
    assert!(err.to_string().contains("MAX_OBJECT_EXPANSION (1023)"), "{err}");
    assert_eq!(
        read_through(1, 1000).expect_err("past").kind(),
        std::io::ErrorKind::Other
    );
    // Up to the floor, any expansion is read.
    assert_eq!(read_of(1024, 0, 1).expect("up to the floor"), 1024);
}

/// A gzip bomb of zeros (compressed as tightly as gzip can, about 1030 times), one line
/// without an end: refused past its expansion limit, and read (cut to its first bytes) when
/// the limit is off, never held whole.
#[test]
fn a_gzip_bomb_is_refused_or_read_cut_never_held() {
    let zeros = vec![0u8; (EXPANSION_FLOOR + (8 << 20)) as usize];
    let bomb = gzip(&zeros);
    drop(zeros);
    let (result, records) = read_within(&bomb, "app/bomb.log.gz", Limits::default());
    match result {
        Err(ParseError::Corrupt(reason)) => assert!(reason.contains("MAX_OBJECT_EXPANSION"), "{reason}"),
        other => panic!("expected the bomb refused, got {other:?}"),
    }
    assert!(records.is_empty());
    let off = Limits {
        max_object_expansion: 0,
        ..max_record(1000)
    };
    let (result, records) = read_within(&bomb, "app/bomb.log.gz", off);
    assert_eq!(result.expect("read").bytes, EXPANSION_FLOOR + (8 << 20));
    assert_eq!(
        records
            .iter()
            .map(|r| (r.text.len(), r.truncated_from))
            .collect::<Vec<_>>(),
        [(1000, Some(EXPANSION_FLOOR + (8 << 20)))]
    );
}

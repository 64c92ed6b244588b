//! Parquet flow logs on `tests/fixtures/access/vpcflow-default.parquet`: AWS's documented
//! default-format records with the documented Parquet types, in row groups of three rows (its
//! README and the script beside it say how it is made).

use std::sync::Mutex;

use serde_json::json;

use super::*;
use crate::document::DocumentOptions;
use crate::document::tests::{builder, source};
use crate::source::s3::Records;

const FIXTURE: &[u8] = include_bytes!("../../../../../../tests/fixtures/access/vpcflow-default.parquet");
const TEXT: &str = include_str!("../../../../../../tests/fixtures/access/vpcflow-default.log");
const KEY: &str = "AWSLogs/aws-account-id=123456789010/aws-service=vpcflowlogs/aws-region=us-east-1/year=2014/month=12/day=14/hour=04/123456789010_vpcflowlogs_us-east-1_fl-1234abcd_20141214T0405Z_a1b2c3d4.log.parquet";

fn located(key: &str) -> Located {
    Located {
        bucket: "flows".into(),
        key: key.into(),
        etag: "abc".into(),
        last_modified_ms: 1_418_530_400_000,
        key_fields: Vec::new(),
    }
}

/// Bytes in memory that note each range read from them.
struct Noted {
    bytes: Bytes,
    reads: Mutex<Vec<(u64, u64)>>,
}

impl Noted {
    fn new(bytes: &[u8]) -> Noted {
        Noted {
            bytes: Bytes::copy_from_slice(bytes),
            reads: Mutex::default(),
        }
    }
}

impl Ranges for &Noted {
    fn size(&self) -> u64 {
        self.bytes.len() as u64
    }

    fn range(&self, start: u64, len: u64) -> std::io::Result<Bytes> {
        self.reads.lock().unwrap().push((start, len));
        self.bytes.range(start, len)
    }
}

/// Reads `source` after row `after`: what was read, and every chunk's records.
fn read_rows(source: impl Ranges, after: u64) -> (Result<ObjectRead, ParseError>, Vec<Arc<Records>>) {
    let mut chunks = Vec::new();
    let start = Start { after, seek: None };
    let options = S3Options::default();
    let result = read_object_ranged(
        source,
        located(KEY),
        Ack::Invocation,
        &options,
        start,
        |chunk, seek| {
            assert!(seek.is_none(), "a Parquet object is resumed by its rows");
            match chunk {
                Chunk::Records(records) => chunks.push(Arc::new(records)),
                Chunk::Logs(_) | Chunk::Control(_) => panic!("expected rows"),
            }
            Ok(())
        },
    );
    (result, chunks)
}

fn numbers(chunks: &[Arc<Records>]) -> Vec<u64> {
    let records = chunks.iter().flat_map(|chunk| chunk.records.iter());
    records.map(|record| record.number).collect()
}

#[test]
fn each_row_is_the_line_the_text_format_holds_under_its_header() {
    let (result, chunks) = read_rows(Bytes::from_static(FIXTURE), 0);
    let read = result.unwrap();
    assert_eq!(read.meta.format, Format::VpcFlowParquet);
    assert_eq!(read.records, 7);
    let mut text = TEXT.lines();
    let header: Vec<String> = text.next().unwrap().split(' ').map(str::to_string).collect();
    assert_eq!(chunks[0].header.as_deref(), Some(&header));
    let rows: Vec<&str> = chunks
        .iter()
        .flat_map(|chunk| chunk.records.iter())
        .map(|r| r.text.as_str())
        .collect();
    assert_eq!(rows, text.collect::<Vec<_>>());
    assert_eq!(numbers(&chunks), [1, 2, 3, 4, 5, 6, 7]);
}

#[test]
fn rows_become_flow_log_documents_with_the_ecs_fields() {
    let (result, chunks) = read_rows(Bytes::from_static(FIXTURE), 0);
    result.unwrap();
    let docs = builder(DocumentOptions::default())
        .record_documents(&chunks[0])
        .docs;
    let first = source(&docs[0]);
    let expected = json!({
        "event": {"dataset": "aws.vpc_flow_parquet", "category": ["network"], "type": ["connection", "allowed"],
                  "action": "accept", "start": "2014-12-14T04:06:50.000Z", "end": "2014-12-14T04:07:50.000Z"},
        "source": {"ip": "172.31.16.139", "port": 20641, "bytes": 4249, "packets": 20},
        "destination": {"ip": "172.31.16.21", "port": 22},
        "network": {"transport": "tcp", "iana_number": "6", "bytes": 4249, "packets": 20},
        "cloud": {"account": {"id": "123456789010"}, "region": "us-east-1"},
    });
    for (key, value) in expected.as_object().unwrap() {
        for (inner, value) in value.as_object().unwrap() {
            assert_eq!(&first[key][inner], value, "{key}.{inner} of {first}");
        }
    }
    assert_eq!(first["aws"]["vpc_flow"]["interface_id"], "eni-1235b8ca123456789");
    assert_eq!(first["aws"]["vpc_flow"]["log_status"], "OK");
    assert_eq!(first["aws"]["s3"]["row"], 1);
    // The record's time, `start`: outside the index window, kept beside the read time.
    assert_eq!(first["original_timestamp_ms"], 1_418_530_010_000_i64);
    // A NODATA record's nulls are left out, as the text format's `-` are.
    let nodata = source(&docs[2]);
    assert_eq!(nodata["aws"]["vpc_flow"]["log_status"], "NODATA");
    assert!(nodata.get("source").is_none(), "{nodata}");
    assert!(nodata["aws"]["vpc_flow"].get("srcaddr").is_none(), "{nodata}");
    assert!(nodata.get("parse_error").is_none(), "{nodata}");
}

#[test]
fn resuming_after_n_rows_reads_only_the_row_groups_after_them() {
    let all = Noted::new(FIXTURE);
    let (result, chunks) = read_rows(&all, 0);
    result.unwrap();
    assert_eq!(numbers(&chunks).len(), 7);
    // The tail, the metadata, then one range per row group (three, of 3, 3 and 1 rows).
    let reads = all.reads.lock().unwrap().clone();
    assert_eq!(reads.len(), 5, "{reads:?}");
    for (after, expected, ranges) in [
        (3, vec![4, 5, 6, 7], 4),
        (4, vec![5, 6, 7], 4),
        (6, vec![7], 3),
        (7, vec![], 2),
    ] {
        let noted = Noted::new(FIXTURE);
        let (result, chunks) = read_rows(&noted, after);
        assert_eq!(result.unwrap().records, expected.len() as u64);
        assert_eq!(numbers(&chunks), expected, "after {after}");
        let reads = noted.reads.lock().unwrap().clone();
        assert_eq!(reads.len(), ranges, "after {after}: {reads:?}");
        // The tail and metadata, then only the groups that hold rows after `after`: the last ones.
        let whole = all.reads.lock().unwrap().clone();
        assert_eq!(reads[..2], whole[..2]);
        assert_eq!(reads[2..], whole[5 - (ranges - 2)..], "after {after}");
    }
}

#[test]
fn a_file_that_is_not_parquet_is_an_error_that_says_so() {
    let cases: [(&[u8], &str); 4] = [
        (b"PAR1", "too few"),
        (
            b"PAR1 a text file that starts like Parquet\n",
            "does not end with the magic bytes PAR1",
        ),
        (
            &FIXTURE[..FIXTURE.len() - 1],
            "does not end with the magic bytes PAR1",
        ),
        (&FIXTURE[FIXTURE.len() - 400..], "metadata"),
    ];
    for (bytes, reason) in cases {
        let (result, chunks) = read_rows(Bytes::copy_from_slice(bytes), 0);
        match result {
            Err(ParseError::Corrupt(message)) => {
                assert!(message.starts_with("not a Parquet file"), "{message}");
                assert!(message.contains(reason), "{message}");
            }
            other => panic!("expected an error, got {other:?}"),
        }
        assert!(chunks.is_empty());
    }
}

#[test]
fn a_parquet_object_read_as_a_stream_reads_the_same_rows() {
    let mut chunks = Vec::new();
    let read = super::super::read_object(
        FIXTURE,
        located(KEY),
        Ack::Invocation,
        &S3Options::default(),
        |chunk| {
            if let Chunk::Records(records) = chunk {
                chunks.push(Arc::new(records));
            }
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(read.meta.format, Format::VpcFlowParquet);
    assert_eq!(numbers(&chunks), [1, 2, 3, 4, 5, 6, 7]);
    // Known by its magic bytes under any key.
    let read = super::super::read_object(
        FIXTURE,
        located("exports/flows"),
        Ack::Invocation,
        &S3Options::default(),
        |_| Ok(()),
    )
    .unwrap();
    assert_eq!((read.meta.format, read.records), (Format::VpcFlowParquet, 7));
}

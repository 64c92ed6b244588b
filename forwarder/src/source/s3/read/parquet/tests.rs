//! Parquet flow logs on `tests/fixtures/access/vpcflow-default.parquet`: AWS's documented
//! default-format records with the documented Parquet types, in row groups of three rows (its
//! README and the script beside it say how it is made).

use std::sync::Mutex;

use serde_json::json;

use super::pages::page_sizes;
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

impl Ranges for Noted {
    fn size(&self) -> u64 {
        self.bytes.len() as u64
    }

    fn range(&self, start: u64, len: u64) -> std::io::Result<Bytes> {
        self.reads.lock().unwrap().push((start, len));
        self.bytes.range(start, len)
    }
}

/// Reads `source` after row `after`: what was read, and every chunk's records.
fn read_rows(
    source: impl Ranges + 'static,
    after: u64,
) -> (Result<ObjectRead, ParseError>, Vec<Arc<Records>>) {
    read_rows_within(source, after, &S3Options::default())
}

/// [`read_rows`] with `options`.
fn read_rows_within(
    source: impl Ranges + 'static,
    after: u64,
    options: &S3Options,
) -> (Result<ObjectRead, ParseError>, Vec<Arc<Records>>) {
    let mut chunks = Vec::new();
    let start = Start { after, seek: None };
    let result = read_object_ranged(
        source,
        located(KEY),
        Ack::Invocation,
        options,
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
fn a_row_longer_than_max_record_bytes_is_cut_and_marked_as_a_line_is() {
    let mut options = S3Options::default();
    options.limits.max_record_bytes = 40;
    let (result, chunks) = read_rows_within(Bytes::from_static(FIXTURE), 0, &options);
    assert_eq!(result.unwrap().records, 7);
    let records = chunks.iter().flat_map(|chunk| chunk.records.iter());
    for (record, whole) in records.zip(TEXT.lines().skip(1)) {
        assert!(whole.len() > 40, "the fixture's rows are longer than the limit");
        assert_eq!(record.text, whole[..40]);
        assert_eq!(record.truncated_from, Some(whole.len() as u64));
    }
    // At the default limit every row is whole.
    let (_, chunks) = read_rows(Bytes::from_static(FIXTURE), 0);
    assert!(
        chunks
            .iter()
            .flat_map(|c| c.records.iter())
            .all(|r| r.truncated_from.is_none())
    );
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
    let all = Arc::new(Noted::new(FIXTURE));
    let (result, chunks) = read_rows(Arc::clone(&all), 0);
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
        let noted = Arc::new(Noted::new(FIXTURE));
        let (result, chunks) = read_rows(Arc::clone(&noted), after);
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

/// A Parquet file of one string column (`s`) holding `rows`, in one row group of pages of about
/// `page` bytes, compressed with `compression` and without a dictionary, as a hostile writer
/// could make it.
fn one_column(rows: &[String], page: usize, compression: parquet::basic::Compression) -> Vec<u8> {
    use parquet::data_type::ByteArrayType;
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    let schema = parquet::schema::parser::parse_message_type("message m { required binary s (UTF8); }");
    let properties = WriterProperties::builder()
        .set_compression(compression)
        .set_dictionary_enabled(false)
        .set_data_page_size_limit(page)
        .set_write_batch_size(8)
        .build();
    let mut file = Vec::new();
    let mut writer =
        SerializedFileWriter::new(&mut file, Arc::new(schema.unwrap()), Arc::new(properties)).unwrap();
    let mut group = writer.next_row_group().unwrap();
    let values: Vec<ByteArray> = rows.iter().map(|row| ByteArray::from(row.as_str())).collect();
    while let Some(mut column) = group.next_column().unwrap() {
        column
            .typed::<ByteArrayType>()
            .write_batch(&values, None, None)
            .unwrap();
        column.close().unwrap();
    }
    group.close().unwrap();
    writer.close().unwrap();
    file
}

/// Reads `file` within `budget`: what was read, and every row's text.
fn read_within(source: Arc<Noted>, budget: &Budget) -> (Result<ObjectRead, ParseError>, Vec<String>) {
    let mut rows = Vec::new();
    let start = Start { after: 0, seek: None };
    let options = S3Options::default();
    let result = read_object_within(
        source,
        located(KEY),
        Ack::Invocation,
        &options,
        start,
        budget,
        |chunk, _| {
            if let Chunk::Records(records) = chunk {
                rows.extend(records.records.iter().map(|record| record.text.clone()));
            }
            Ok(())
        },
    );
    (result, rows)
}

fn corrupt(result: Result<ObjectRead, ParseError>) -> String {
    match result {
        Err(ParseError::Corrupt(reason)) => reason,
        other => panic!("expected the file refused, got {other:?}"),
    }
}

#[test]
fn a_large_row_group_is_read_a_page_at_a_time() {
    let rows: Vec<String> = (0..2000)
        .map(|n| format!("row-{n:05}-{}", "x".repeat(n % 50)))
        .collect();
    let file = one_column(&rows, 2048, parquet::basic::Compression::SNAPPY);
    let noted = Arc::new(Noted::new(&file));
    let (result, read) = read_within(Arc::clone(&noted), &Budget::default());
    assert_eq!(result.unwrap().records, 2000);
    assert_eq!(read, rows);
    // In one range: the tail, the metadata and the group.
    assert_eq!(noted.reads.lock().unwrap().len(), 3);

    let paged = Arc::new(Noted::new(&file));
    let budget = Budget {
        whole_group: 0,
        ..Budget::default()
    };
    let (result, read) = read_within(Arc::clone(&paged), &budget);
    assert_eq!(result.unwrap().records, 2000);
    assert_eq!(read, rows);
    let reads = paged.reads.lock().unwrap().clone();
    let pages = reads.len() - 2;
    assert!(pages > 2 * 20, "a header and a page at a time: {reads:?}");
    // Each read is a header's bytes (64 KiB, cut at the end of the group, which is small here)
    // or a page's, of about 2 KiB.
    let (start, len) = footer(&Bytes::from(file.clone()), &Budget::default())
        .unwrap()
        .row_group(0)
        .column(0)
        .byte_range();
    for pair in reads[2..].chunks(2) {
        assert_eq!(pair[0].0 + pair[0].1, start + len, "a header's bytes: {reads:?}");
        assert!(pair[1].1 < 4096, "a page: {reads:?}");
    }
}

#[test]
fn pages_that_declare_more_than_the_budget_at_once_are_refused() {
    let rows: Vec<String> = (0..500).map(|n| format!("row {n}")).collect();
    let file = one_column(&rows, 1024, parquet::basic::Compression::UNCOMPRESSED);
    let budget = Budget {
        pages: 512,
        ..Budget::default()
    };
    let (result, read) = read_within(Arc::new(Noted::new(&file)), &budget);
    let reason = corrupt(result);
    assert!(reason.starts_with("row group 1: "), "{reason}");
    assert!(reason.contains("more than the 512 read at a time"), "{reason}");
    assert!(read.is_empty());
}

#[test]
fn a_gzip_page_that_inflates_past_its_header_is_refused_before_it_is_inflated() {
    // One page of 200,000 bytes that compress to a few hundred; its header then made to declare
    // 20,000 (the same varint length, so nothing moves), as a gzip bomb's would.
    let rows = vec!["a".repeat(200_000)];
    let mut file = one_column(
        &rows,
        1 << 20,
        parquet::basic::Compression::GZIP(Default::default()),
    );
    let metadata = footer(&Bytes::from(file.clone()), &Budget::default()).unwrap();
    let (at, _) = metadata.row_group(0).column(0).byte_range();
    let at = usize::try_from(at).unwrap();
    let declared = page_sizes(&file[at..], 0).unwrap();
    assert_eq!(declared.uncompressed, 200_004, "the value and its length");
    let zigzag = |value: u64| {
        let mut bytes = Vec::new();
        let mut value = value << 1;
        while value >= 0x80 {
            bytes.push((value as u8) | 0x80);
            value >>= 7;
        }
        bytes.push(value as u8);
        bytes
    };
    let (old, new) = (zigzag(200_004), zigzag(20_004));
    assert_eq!(old.len(), new.len());
    let place = at + memchr::memmem::find(&file[at..at + 16], &old).unwrap();
    file[place..place + old.len()].copy_from_slice(&new);
    assert_eq!(page_sizes(&file[at..], 0).unwrap().uncompressed, 20_004);

    let (result, read) = read_within(Arc::new(Noted::new(&file)), &Budget::default());
    let reason = corrupt(result);
    assert!(
        reason.contains("inflates past the 20004 bytes its header declares"),
        "{reason}"
    );
    assert!(read.is_empty());
}

#[test]
fn a_footer_or_columns_past_the_budget_are_refused() {
    let budget = Budget {
        footer: 100,
        ..Budget::default()
    };
    let (result, _) = read_within(Arc::new(Noted::new(FIXTURE)), &budget);
    let reason = corrupt(result);
    assert!(
        reason.contains("bytes of metadata, more than the 100 read"),
        "{reason}"
    );
    let budget = Budget {
        columns: 10,
        ..Budget::default()
    };
    let (result, _) = read_within(Arc::new(Noted::new(FIXTURE)), &budget);
    let reason = corrupt(result);
    assert!(reason.contains("columns, more than the 10 read"), "{reason}");
}

#[test]
fn page_headers_of_every_kind_read_and_garbage_does_not() {
    // Every page of the fixture: its header reads, and declares what the crate found.
    let metadata = footer(&Bytes::from_static(FIXTURE), &Budget::default()).unwrap();
    for group in metadata.row_groups() {
        for column in group.columns() {
            let (at, _) = column.byte_range();
            let sizes = page_sizes(&FIXTURE[usize::try_from(at).unwrap()..], at).unwrap();
            assert_eq!(sizes.header_at, at);
            assert!(sizes.uncompressed > 0 && sizes.uncompressed < 4096, "{sizes:?}");
        }
    }
    for garbage in [
        &b""[..],
        b"\x00",
        b"\x15",
        b"\x19\xf1\xff\xff\xff\xff\xff\xff\xff\xff\x01",
        b"\xff\xff",
    ] {
        assert_eq!(page_sizes(garbage, 0), None, "{garbage:?}");
    }
}

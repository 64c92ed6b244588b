//! VPC flow logs as Parquet (`SLUICE_BENCH_ONLY=parquet`): a generated flow log of about 100 MB,
//! written by the Rust `parquet` writer as AWS delivers one (the default format's 14 columns of
//! the documented types, Gzip), read by the forwarder's reader (`read_object_ranged` on the file)
//! against the floor of decoding its columns alone, in the same run; then the peak RSS of child
//! processes that read the whole file, and its first eighth, into documents: a row group at a
//! time, memory must not grow with the file.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parquet::basic::{Compression, GzipLevel};
use parquet::column::reader::ColumnReader;
use parquet::data_type::{ByteArray, ByteArrayType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::reader::FileReader;
use parquet::file::serialized_reader::SerializedFileReader;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use sluice_forwarder::document::{DocumentBuilder, DocumentOptions};
use sluice_forwarder::source::Ack;
use sluice_forwarder::source::s3::read::{Located, Start, Stopped, read_object_ranged};
use sluice_forwarder::source::s3::{Chunk, Format, S3Options};

use crate::child::measure;
use crate::target_dir;

/// Set in the child that reads the file (its path) into documents.
pub const WORKER_ENV: &str = "SLUICE_BENCH_PARQUET_WORKER";
/// Set beside it: stop after this many rows (none: the whole file).
const ROWS_ENV: &str = "SLUICE_BENCH_PARQUET_ROWS";
const KEY: &str = "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/29/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20261129T1005Z_a1b2c3d4.log.parquet";
/// Rows written: about 100 MB of Gzip-compressed Parquet.
const ROWS: usize = 6_400_000;
/// Rows per row group: the writer's default.
const GROUP_ROWS: usize = 1024 * 1024;
const ROUNDS: usize = 3;

pub fn flow_logs() {
    println!("\n## VPC flow logs as Parquet (SLUICE_BENCH_ONLY=parquet)");
    let dir = target_dir().join("bench");
    std::fs::create_dir_all(&dir).expect("create target/bench");
    let path = dir.join("vpcflow-100mb.parquet");
    if !path.exists() {
        let started = Instant::now();
        write(&path);
        println!("  generated in {:.1} s", started.elapsed().as_secs_f64());
    }
    let size = std::fs::metadata(&path).expect("the file").len();
    println!(
        "  {}: {:.1} MB, {ROWS} rows, row groups of {GROUP_ROWS} rows, Gzip",
        path.display(),
        size as f64 / 1e6
    );
    let (mut floor, mut read, mut documents) = (Duration::MAX, Duration::MAX, Duration::MAX);
    for _ in 0..ROUNDS {
        floor = floor.min(timed(|| decode_only(&path)));
        read = read.min(timed(|| read_rows(&path, None, false)));
        documents = documents.min(timed(|| read_rows(&path, None, true)));
    }
    let per_s = |time: Duration| ROWS as f64 / time.as_secs_f64();
    println!(
        "  floor, the columns decoded alone:     {:>7.0} ms  {:>10.0} records/s",
        floor.as_secs_f64() * 1e3,
        per_s(floor)
    );
    println!(
        "  rows read into records (lines):       {:>7.0} ms  {:>10.0} records/s  ({:.2}x the floor's time)",
        read.as_secs_f64() * 1e3,
        per_s(read),
        read.as_secs_f64() / floor.as_secs_f64()
    );
    println!(
        "  rows read into documents:             {:>7.0} ms  {:>10.0} records/s  ({:.2}x the floor's time)",
        documents.as_secs_f64() * 1e3,
        per_s(documents),
        documents.as_secs_f64() / floor.as_secs_f64()
    );
    let (whole, eighth) = (peak_rss(&path, None), peak_rss(&path, Some(ROWS as u64 / 8)));
    println!(
        "  peak RSS, documents of the whole file: {:.1} MiB; of its first eighth: {:.1} MiB; ratio {:.3} (at most 1.1)",
        whole as f64 / 1024.0,
        eighth as f64 / 1024.0,
        whole as f64 / eighth as f64
    );
}

fn timed(pass: impl FnOnce() -> usize) -> Duration {
    let started = Instant::now();
    let rows = pass();
    let elapsed = started.elapsed();
    assert_eq!(rows, ROWS, "every row");
    elapsed
}

/// The child that reads `SLUICE_BENCH_PARQUET_WORKER` into documents, `SLUICE_BENCH_PARQUET_ROWS`
/// rows of it or all.
pub fn worker(path: &str) {
    let rows = std::env::var(ROWS_ENV)
        .ok()
        .map(|rows| rows.parse().expect("a row count"));
    read_rows(Path::new(path), rows, true);
}

/// The best of a few children's peak RSS, in KiB (the least: other processes' noise only adds).
fn peak_rss(path: &Path, rows: Option<u64>) -> u64 {
    let mut least = u64::MAX;
    for _ in 0..ROUNDS {
        let mut command = Command::new(std::env::current_exe().expect("the benchmark's path"));
        command.env(WORKER_ENV, path);
        if let Some(rows) = rows {
            command.env(ROWS_ENV, rows.to_string());
        }
        let measured = measure(&mut command, std::process::Stdio::inherit());
        assert!(measured.success, "the Parquet worker failed: {}", measured.status);
        least = least.min(measured.peak_kb);
    }
    least
}

/// Reads the file with the forwarder's reader, as records (and their documents when
/// `documents`), stopping after `stop` rows; how many rows were read.
fn read_rows(path: &Path, stop: Option<u64>, documents: bool) -> usize {
    let file = std::fs::File::open(path).expect("the file");
    let builder = DocumentBuilder::new(DocumentOptions::default(), "us-east-1".to_owned());
    let located = Located {
        bucket: "flows".into(),
        key: KEY.into(),
        etag: "bench".into(),
        last_modified_ms: 1_795_946_400_000,
        key_fields: Vec::new(),
    };
    let mut rows = 0usize;
    let read = read_object_ranged(
        file,
        located,
        Ack::Invocation,
        &S3Options::default(),
        Start::default(),
        |chunk, _| {
            let Chunk::Records(records) = chunk else {
                panic!("rows are records");
            };
            rows += records.records.len();
            if documents {
                let docs = builder.record_documents(&Arc::new(records));
                assert_eq!(docs.unparsed, 0, "every generated row parses");
            }
            match stop.is_some_and(|stop| rows as u64 >= stop) {
                true => Err(Stopped),
                false => Ok(()),
            }
        },
    );
    match read {
        Ok(read) => assert_eq!(read.meta.format, Format::VpcFlowParquet),
        Err(_) if stop.is_some() => {}
        Err(err) => panic!("the file reads: {err:?}"),
    }
    rows
}

/// The floor: every column of every row group decoded by the `parquet` crate's column readers
/// into reused buffers, nothing made of the values.
fn decode_only(path: &Path) -> usize {
    let file = std::fs::File::open(path).expect("the file");
    let reader = SerializedFileReader::new(file).expect("a Parquet file");
    let mut rows = 0;
    let (mut levels, mut ints, mut longs, mut strings) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for group in 0..reader.num_row_groups() {
        let group = reader.get_row_group(group).expect("a row group");
        rows += group.metadata().num_rows() as usize;
        for column in 0..group.num_columns() {
            let mut column = group.get_column_reader(column).expect("a column");
            loop {
                levels.clear();
                let read = match &mut column {
                    ColumnReader::Int32ColumnReader(r) => {
                        ints.clear();
                        r.read_records(1024, Some(&mut levels), None, &mut ints)
                    }
                    ColumnReader::Int64ColumnReader(r) => {
                        longs.clear();
                        r.read_records(1024, Some(&mut levels), None, &mut longs)
                    }
                    ColumnReader::ByteArrayColumnReader(r) => {
                        strings.clear();
                        r.read_records(1024, Some(&mut levels), None, &mut strings)
                    }
                    _ => panic!("the generated file has int32, int64 and string columns"),
                };
                if read.expect("decodes").0 == 0 {
                    break;
                }
            }
        }
    }
    rows
}

/// A little generator of realistic values, the same every run.
struct Values(u64);

impl Values {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn address(&mut self) -> String {
        match self.below(4) {
            0 => format!("203.0.113.{}", self.below(255)),
            1 => format!("198.51.{}.{}", self.below(255), self.below(255)),
            _ => format!("10.0.{}.{}", self.below(64), self.below(255)),
        }
    }
}

/// Writes the flow log: version 2 records of 200 interfaces, mostly TCP, a few percent rejected,
/// a window each over ten minutes.
fn write(path: &Path) {
    let schema = Arc::new(
        parse_message_type(
            "message schema {
                optional int32 version; optional binary account_id (UTF8); optional binary interface_id (UTF8);
                optional binary srcaddr (UTF8); optional binary dstaddr (UTF8);
                optional int32 srcport; optional int32 dstport; optional int32 protocol;
                optional int64 packets; optional int64 bytes; optional int64 start; optional int64 end;
                optional binary action (UTF8); optional binary log_status (UTF8);
            }",
        )
        .expect("the schema"),
    );
    let properties = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::GZIP(GzipLevel::default()))
            .set_max_row_group_row_count(Some(GROUP_ROWS))
            .build(),
    );
    let file = std::fs::File::create(path).expect("create the file");
    let mut writer = SerializedFileWriter::new(file, schema, properties).expect("a writer");
    let mut values = Values(0x9E37_79B9_7F4A_7C15);
    let interfaces: Vec<String> = (0..200)
        .map(|i| format!("eni-{:017x}", 0x1235_b8ca_0000_u64 + i * 7919))
        .collect();
    let mut written = 0;
    while written < ROWS {
        let rows = GROUP_ROWS.min(ROWS - written);
        let mut columns: Vec<Column> = (0..14).map(|_| Column::default()).collect();
        for _ in 0..rows {
            let start = 1_795_946_400 + values.below(600) as i64;
            let protocol = [6, 6, 6, 17, 17, 1][values.below(6) as usize];
            let packets = 1 + values.below(200) as i64;
            columns[0].ints.push(2);
            columns[1].strings.push("123456789012".into());
            columns[2]
                .strings
                .push(interfaces[values.below(200) as usize].as_str().into());
            columns[3].strings.push(values.address().into_bytes().into());
            columns[4].strings.push(values.address().into_bytes().into());
            let (srcport, dstport) = match protocol {
                1 => (0, 0),
                _ => (
                    1024 + values.below(64_000) as i32,
                    [443, 80, 22, 53, 5432][values.below(5) as usize],
                ),
            };
            columns[5].ints.push(srcport);
            columns[6].ints.push(dstport);
            columns[7].ints.push(protocol);
            columns[8].longs.push(packets);
            columns[9].longs.push(packets * (40 + values.below(1400) as i64));
            columns[10].longs.push(start);
            columns[11].longs.push(start + 1 + values.below(60) as i64);
            columns[12]
                .strings
                .push(if values.below(30) == 0 { "REJECT" } else { "ACCEPT" }.into());
            columns[13].strings.push("OK".into());
        }
        let mut group = writer.next_row_group().expect("a row group");
        let levels = vec![1i16; rows];
        for column in &columns {
            let mut writer = group.next_column().expect("a column").expect("14 columns");
            if !column.ints.is_empty() {
                writer
                    .typed::<Int32Type>()
                    .write_batch(&column.ints, Some(&levels), None)
            } else if !column.longs.is_empty() {
                writer
                    .typed::<Int64Type>()
                    .write_batch(&column.longs, Some(&levels), None)
            } else {
                writer
                    .typed::<ByteArrayType>()
                    .write_batch(&column.strings, Some(&levels), None)
            }
            .expect("write the column");
            writer.close().expect("close the column");
        }
        group.close().expect("close the row group");
        written += rows;
    }
    writer.close().expect("close the file");
}

#[derive(Default)]
struct Column {
    ints: Vec<i32>,
    longs: Vec<i64>,
    strings: Vec<ByteArray>,
}

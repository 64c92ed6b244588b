//! Apache Parquet objects (<https://parquet.apache.org/docs/file-format/>), read a row group at a
//! time: the footer (the file's metadata, at its end) first, then each row group's column
//! chunks in one ranged read, decoded column by column in batches of rows, each row handed on
//! as a line of its values ([`Reading::Parquet`]). Memory holds the footer and one row group's
//! compressed bytes (or, for a large group, a page of each column at a time), whatever the
//! object's size; what a hostile file can make it hold is bounded by [`Budget`] (`pages`).
//!
//! An object is read through [`Ranges`]: ranged `GetObject`s (the download), a local file, bytes
//! in memory. A Parquet object that arrives only as a stream (its format told from its first
//! bytes by a reader that has no ranges) is first copied to a temporary file.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use parquet::column::reader::{ColumnReader, ColumnReaderImpl};
use parquet::data_type::{ByteArray, DataType};
use parquet::errors::ParquetError;
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};
use parquet::file::properties::{ReaderProperties, ReaderPropertiesPtr};
use parquet::file::reader::RowGroupReader;
use parquet::file::serialized_reader::SerializedRowGroupReader;
use parquet::schema::types::ColumnDescriptor;

use self::pages::{Budget, GroupBytes};
use super::{Located, ObjectRead, Output, ParseError, Seekable, Start, Stopped};
use crate::json::push_u64;
use crate::limits::utf8_prefix_len;
use crate::source::Ack;
use crate::source::s3::format::{Format, Reading, S3Options};
use crate::source::s3::{Chunk, Record, Seek};

/// The magic bytes a Parquet file starts and ends with.
pub(crate) const MAGIC: &[u8; 4] = b"PAR1";
/// The end of a file: the metadata's length (4 bytes, little-endian), then the magic bytes.
const TAIL: u64 = 8;
/// How many rows are decoded at a time, column by column.
const BATCH_ROWS: usize = 1024;

/// Random access to an object's bytes.
pub trait Ranges: Send + Sync {
    /// The object's size in bytes.
    fn size(&self) -> u64;
    /// The `len` bytes from `start`.
    fn range(&self, start: u64, len: u64) -> std::io::Result<Bytes>;
}

impl<R: Ranges + ?Sized> Ranges for Arc<R> {
    fn size(&self) -> u64 {
        (**self).size()
    }

    fn range(&self, start: u64, len: u64) -> std::io::Result<Bytes> {
        (**self).range(start, len)
    }
}

impl Ranges for std::fs::File {
    fn size(&self) -> u64 {
        self.metadata().map_or(0, |meta| meta.len())
    }

    fn range(&self, start: u64, len: u64) -> std::io::Result<Bytes> {
        use std::os::unix::fs::FileExt;
        let mut buffer = vec![0; usize::try_from(len).map_err(std::io::Error::other)?];
        self.read_exact_at(&mut buffer, start)?;
        Ok(Bytes::from(buffer))
    }
}

impl Ranges for Bytes {
    fn size(&self) -> u64 {
        self.len() as u64
    }

    fn range(&self, start: u64, len: u64) -> std::io::Result<Bytes> {
        let start = usize::try_from(start).map_err(std::io::Error::other)?;
        let end = usize::try_from(len).ok().and_then(|len| start.checked_add(len));
        match end {
            Some(end) if end <= self.len() => Ok(self.slice(start..end)),
            _ => Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "a range past the end of the bytes",
            )),
        }
    }
}

/// The Parquet format an object is read in, if it is read as Parquet: a rule of `S3_FORMATS` or
/// the key's layout, else its first bytes (`head`) show it.
pub(crate) fn parquet_format(options: &S3Options, key: &str, head: &[u8]) -> Option<Format> {
    let format = options
        .format_of_key(key)
        .unwrap_or_else(|| Format::of_content(head));
    matches!(format.reading, Reading::Parquet { .. }).then_some(format)
}

/// Reads a Parquet object through `source`, after the row `start.after` (row groups wholly
/// before it are not read), and sends its rows to `emit`; the format is the key's (or a rule's)
/// when that is a Parquet one, else the one Parquet's magic bytes show.
pub fn read_object_ranged(
    source: impl Ranges + 'static,
    object: Located,
    ack: Ack,
    options: &S3Options,
    start: Start,
    emit: impl FnMut(Chunk, Option<Seek>) -> Result<(), Stopped>,
) -> Result<ObjectRead, ParseError> {
    let source = Arc::new(source);
    read_object_within(source, object, ack, options, start, &Budget::default(), emit)
}

/// [`read_object_ranged`] within `budget`.
fn read_object_within(
    source: Arc<dyn Ranges>,
    object: Located,
    ack: Ack,
    options: &S3Options,
    start: Start,
    budget: &Budget,
    mut emit: impl FnMut(Chunk, Option<Seek>) -> Result<(), Stopped>,
) -> Result<ObjectRead, ParseError> {
    let format = parquet_format(options, &object.key, MAGIC).ok_or_else(|| {
        ParseError::Corrupt("S3_FORMATS names a format not read as Parquet for this key".to_string())
    })?;
    let Reading::Parquet { column } = format.reading else {
        unreachable!("parquet_format gives a Parquet format");
    };
    let meta = Arc::new(object.with_format(format));
    let mut out = Output::new(Arc::clone(&meta), ack, start.after, 0, Seekable::No, &mut emit);
    read(source, column, options.limits.max_record_bytes, budget, &mut out)?;
    out.flush()?;
    Ok(ObjectRead {
        meta,
        records: out.records,
        bytes: out.bytes,
    })
}

/// Reads a Parquet object that came as a stream: copied to a temporary file (removed at once,
/// kept open), then read from it.
pub(super) fn read_stream<F: FnMut(Chunk, Option<Seek>) -> Result<(), Stopped>>(
    mut stream: impl Read,
    column: fn(&str) -> String,
    max_record_bytes: usize,
    out: &mut Output<'_, F>,
) -> Result<(), ParseError> {
    static FILES: AtomicU64 = AtomicU64::new(0);
    let failed = |err: std::io::Error| {
        ParseError::Corrupt(format!("copying the Parquet file to a temporary file: {err}"))
    };
    let path = std::env::temp_dir().join(format!(
        "sluice-{}-{}.parquet",
        std::process::id(),
        FILES.fetch_add(1, Ordering::Relaxed)
    ));
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(failed)?;
    let _ = std::fs::remove_file(&path);
    std::io::copy(&mut stream, &mut file).map_err(failed)?;
    file.flush().map_err(failed)?;
    read(Arc::new(file), column, max_record_bytes, &Budget::default(), out)
}

/// Reads every row after `out.after`, a row group at a time; a row's line longer than
/// `max_record_bytes` is kept cut to it, as a text line is.
fn read<F: FnMut(Chunk, Option<Seek>) -> Result<(), Stopped>>(
    source: Arc<dyn Ranges>,
    column: fn(&str) -> String,
    max_record_bytes: usize,
    budget: &Budget,
    out: &mut Output<'_, F>,
) -> Result<(), ParseError> {
    let metadata = footer(&*source, budget)
        .map_err(|reason| ParseError::Corrupt(format!("not a Parquet file: {reason}")))?;
    let schema = metadata.file_metadata().schema_descr();
    if schema.num_columns() > budget.columns {
        return Err(ParseError::Corrupt(format!(
            "the Parquet file has {} columns, more than the {} read",
            schema.num_columns(),
            budget.columns
        )));
    }
    if let Some(nested) = schema
        .columns()
        .iter()
        .find(|column| column.path().parts().len() != 1)
    {
        return Err(ParseError::Corrupt(format!(
            "the Parquet column {} is nested: only flat columns are read",
            nested.path()
        )));
    }
    let names = schema
        .columns()
        .iter()
        .map(|descr| column(descr.name()))
        .collect();
    out.header = Some(Arc::new(names));
    let properties = Arc::new(ReaderProperties::builder().build());
    let mut before = 0u64;
    for index in 0..metadata.num_row_groups() {
        let rows = u64::try_from(metadata.row_group(index).num_rows()).unwrap_or(0);
        if before + rows > out.after {
            let group = Group {
                metadata: &metadata,
                index,
                first: before,
                properties: &properties,
                max_record_bytes,
                budget,
            };
            group.read(&source, out).map_err(|err| match err {
                ParseError::Corrupt(reason) => {
                    ParseError::Corrupt(format!("row group {}: {reason}", index + 1))
                }
                ParseError::Stopped => ParseError::Stopped,
            })?;
        }
        before += rows;
    }
    Ok(())
}

/// The file's metadata, from its end.
fn footer(source: &dyn Ranges, budget: &Budget) -> Result<ParquetMetaData, String> {
    let size = source.size();
    if size < TAIL + MAGIC.len() as u64 {
        return Err(format!("{size} bytes are too few for one"));
    }
    let tail = source.range(size - TAIL, TAIL).map_err(|err| err.to_string())?;
    if tail.get(4..) != Some(&MAGIC[..]) {
        return Err("it does not end with the magic bytes PAR1".to_string());
    }
    let len = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
    if len + TAIL + MAGIC.len() as u64 > size {
        return Err(format!(
            "its footer claims {len} bytes of metadata in a file of {size}"
        ));
    }
    if len > budget.footer {
        return Err(format!(
            "its footer claims {len} bytes of metadata, more than the {} read",
            budget.footer
        ));
    }
    let bytes = source
        .range(size - TAIL - len, len)
        .map_err(|err| err.to_string())?;
    ParquetMetaDataReader::decode_metadata(&bytes)
        .map_err(|err| format!("its metadata does not decode: {err}"))
}

/// One row group of a file, whose rows are numbered from `first + 1`.
struct Group<'a> {
    metadata: &'a ParquetMetaData,
    index: usize,
    first: u64,
    properties: &'a ReaderPropertiesPtr,
    max_record_bytes: usize,
    budget: &'a Budget,
}

impl Group<'_> {
    /// Reads the group's column chunks (in one range, or a page at a time when they are many
    /// bytes), then its rows after `out.after`.
    fn read<F: FnMut(Chunk, Option<Seek>) -> Result<(), Stopped>>(
        &self,
        source: &Arc<dyn Ranges>,
        out: &mut Output<'_, F>,
    ) -> Result<(), ParseError> {
        let corrupt = |err: ParquetError| ParseError::Corrupt(err.to_string());
        let group = self.metadata.row_group(self.index);
        let bytes = GroupBytes::new(Arc::clone(source), group, self.budget).map_err(ParseError::Corrupt)?;
        // No page index is decoded (it lies outside the footer), so the column readers read
        // every page header through `GroupBytes`, which checks it first.
        let page_index = self.metadata.page_index_for_row_group(self.index);
        let reader =
            SerializedRowGroupReader::new(Arc::new(bytes), group, page_index, Arc::clone(self.properties))
                .map_err(corrupt)?;
        let mut columns = (0..group.num_columns())
            .map(|i| {
                let reader = reader.get_column_reader(i).map_err(corrupt)?;
                Column::new(reader, group.column(i).column_descr())
            })
            .collect::<Result<Vec<_>, _>>()?;
        let rows = u64::try_from(group.num_rows()).unwrap_or(0);
        let skip = out.after.saturating_sub(self.first).min(rows);
        for column in &mut columns {
            let skipped = column.skip(skip as usize).map_err(corrupt)?;
            if skipped as u64 != skip {
                return Err(ParseError::Corrupt(format!("{skipped} rows where it has {rows}")));
            }
        }
        let mut number = self.first + skip;
        let mut remaining = rows - skip;
        let mut capacity = 128;
        while remaining > 0 {
            let batch = remaining.min(BATCH_ROWS as u64) as usize;
            for column in &mut columns {
                let read = column.fill(batch).map_err(corrupt)?;
                if read != batch {
                    return Err(ParseError::Corrupt(format!(
                        "a column ends after row {}, where the group has {}",
                        number + read as u64 - self.first,
                        rows
                    )));
                }
            }
            for _ in 0..batch {
                let mut text = String::with_capacity(capacity);
                for (i, column) in columns.iter_mut().enumerate() {
                    if i > 0 {
                        text.push(' ');
                    }
                    column.push_next(&mut text);
                }
                number += 1;
                out.bytes += text.len() as u64 + 1;
                let truncated_from = (text.len() > self.max_record_bytes).then(|| {
                    let whole = text.len() as u64;
                    text.truncate(utf8_prefix_len(&text.as_bytes()[..self.max_record_bytes]));
                    whole
                });
                capacity = capacity.max(text.len() + 16);
                let timestamp = out.meta.last_modified_ms;
                out.push(Record {
                    number,
                    timestamp,
                    text,
                    truncated_from,
                })?;
            }
            remaining -= batch as u64;
        }
        Ok(())
    }
}

/// A column being read: its reader, and the batch of values and definition levels decoded last.
struct Column {
    values: Values,
    levels: Vec<i16>,
    /// The definition level of a value that is there (0: the column is required).
    defined: i16,
    /// The next row of the batch, and the next value (nulls have none).
    row: usize,
    value: usize,
}

enum Values {
    Bool(ColumnReaderImpl<parquet::data_type::BoolType>, Vec<bool>),
    Int32(ColumnReaderImpl<parquet::data_type::Int32Type>, Vec<i32>),
    Int64(ColumnReaderImpl<parquet::data_type::Int64Type>, Vec<i64>),
    Float(ColumnReaderImpl<parquet::data_type::FloatType>, Vec<f32>),
    Double(ColumnReaderImpl<parquet::data_type::DoubleType>, Vec<f64>),
    Bytes(
        ColumnReaderImpl<parquet::data_type::ByteArrayType>,
        Vec<ByteArray>,
    ),
}

impl Column {
    /// A column of `reader`, described by `descr`.
    fn new(reader: ColumnReader, descr: &ColumnDescriptor) -> Result<Column, ParseError> {
        let values = match reader {
            ColumnReader::BoolColumnReader(reader) => Values::Bool(reader, Vec::new()),
            ColumnReader::Int32ColumnReader(reader) => Values::Int32(reader, Vec::new()),
            ColumnReader::Int64ColumnReader(reader) => Values::Int64(reader, Vec::new()),
            ColumnReader::FloatColumnReader(reader) => Values::Float(reader, Vec::new()),
            ColumnReader::DoubleColumnReader(reader) => Values::Double(reader, Vec::new()),
            ColumnReader::ByteArrayColumnReader(reader) => Values::Bytes(reader, Vec::new()),
            ColumnReader::Int96ColumnReader(_) | ColumnReader::FixedLenByteArrayColumnReader(_) => {
                return Err(ParseError::Corrupt(format!(
                    "the Parquet column {} is of type {}, which is not read",
                    descr.name(),
                    descr.physical_type()
                )));
            }
        };
        Ok(Column {
            values,
            levels: Vec::new(),
            defined: descr.max_def_level(),
            row: 0,
            value: 0,
        })
    }

    /// Skips `rows` rows.
    fn skip(&mut self, rows: usize) -> Result<usize, ParquetError> {
        match &mut self.values {
            Values::Bool(reader, _) => reader.skip_records(rows),
            Values::Int32(reader, _) => reader.skip_records(rows),
            Values::Int64(reader, _) => reader.skip_records(rows),
            Values::Float(reader, _) => reader.skip_records(rows),
            Values::Double(reader, _) => reader.skip_records(rows),
            Values::Bytes(reader, _) => reader.skip_records(rows),
        }
    }

    /// Decodes the next `rows` rows; how many there were.
    fn fill(&mut self, rows: usize) -> Result<usize, ParquetError> {
        self.row = 0;
        self.value = 0;
        let levels = &mut self.levels;
        match &mut self.values {
            Values::Bool(reader, values) => fill(reader, rows, levels, values),
            Values::Int32(reader, values) => fill(reader, rows, levels, values),
            Values::Int64(reader, values) => fill(reader, rows, levels, values),
            Values::Float(reader, values) => fill(reader, rows, levels, values),
            Values::Double(reader, values) => fill(reader, rows, levels, values),
            Values::Bytes(reader, values) => fill(reader, rows, levels, values),
        }
    }

    /// Writes the value of the next row of the batch (`-` for a null).
    fn push_next(&mut self, out: &mut String) {
        let there = self.defined == 0 || self.levels.get(self.row) == Some(&self.defined);
        self.row += 1;
        if !there {
            out.push('-');
            return;
        }
        let at = self.value;
        self.value += 1;
        let written = match &self.values {
            Values::Bool(_, values) => values
                .get(at)
                .map(|value| out.push_str(if *value { "true" } else { "false" })),
            Values::Int32(_, values) => values.get(at).map(|value| push_i64(out, i64::from(*value))),
            Values::Int64(_, values) => values.get(at).map(|value| push_i64(out, *value)),
            Values::Float(_, values) => values.get(at).map(|value| {
                let _ = write!(out, "{value}");
            }),
            Values::Double(_, values) => values.get(at).map(|value| {
                let _ = write!(out, "{value}");
            }),
            Values::Bytes(_, values) => values.get(at).map(|value| push_text(out, value.data())),
        };
        if written.is_none() {
            out.push('-');
        }
    }
}

fn fill<T: DataType>(
    reader: &mut ColumnReaderImpl<T>,
    rows: usize,
    levels: &mut Vec<i16>,
    values: &mut Vec<T::T>,
) -> Result<usize, ParquetError> {
    levels.clear();
    values.clear();
    let (records, _, _) = reader.read_records(rows, Some(levels), None, values)?;
    Ok(records)
}

fn push_i64(out: &mut String, value: i64) {
    if value < 0 {
        out.push('-');
    }
    push_u64(out, value.unsigned_abs());
}

/// A string value as one word of the line: `-` when empty, whitespace as `_` (so that it stays
/// one value), bytes that are not UTF-8 replaced.
fn push_text(out: &mut String, bytes: &[u8]) {
    if bytes.is_empty() {
        out.push('-');
        return;
    }
    let text = String::from_utf8_lossy(bytes);
    match text.bytes().any(|byte| byte.is_ascii_whitespace()) {
        false => out.push_str(&text),
        true => out.extend(
            text.chars()
                .map(|c| if c.is_ascii_whitespace() { '_' } else { c }),
        ),
    }
}

mod pages;
#[cfg(test)]
mod tests;

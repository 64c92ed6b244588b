//! Reading one object as a stream: `GetObject`'s body is handed, as it downloads, to a blocking
//! thread that decompresses it (gzip told from the bytes, not the name; several members, or gzip
//! inside gzip, are read whole) and parses it in its format, sending records on in [`Chunk`]s of
//! about [`CHUNK_BYTES`]. The chunk callback may block: that is how a slow delivery holds the
//! download back, so memory does not grow with the object.

use std::io::{BufRead, Cursor, Read};
use std::sync::Arc;

use self::members::Boundaries;
use super::format::{Format, HeaderLine, Lines, Reading, S3Options};
use super::{Chunk, ObjectMeta, Record, Records, Seek};
use crate::source::{Ack, Batch, LogsData};

/// About how many bytes of record text a chunk holds. Small enough that a chunk's documents
/// (about four times its text, for an access log) stay in the processor's cache while they are
/// built and written, and churn little memory at a time: `replay --dry-run` of a 100 MB ALB log
/// took a fifth less time, at 7 MB less peak RSS, than with chunks of 1 MiB (docs/benchmarks.md).
pub(crate) const CHUNK_BYTES: usize = 64 * 1024;
/// How many bytes of a Firehose file are read at a time: a buffer holds at least one whole
/// CloudWatch Logs payload, and one larger than it is parsed again once the buffer has grown, so
/// the buffer is not small.
const PAYLOAD_READ_BYTES: usize = 1 << 20;
/// How many decompressed bytes the format is told from.
const HEAD_BYTES: u64 = 4096;

pub use self::download::{Listed, ObjectError, ObjectReader, Opened};
pub use self::parquet::{Ranges, read_object_ranged};

/// The chunk callback's way of saying stop.
#[derive(Debug, Clone, Copy)]
pub struct Stopped;

/// What reading a whole object found.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectRead {
    pub meta: Arc<ObjectMeta>,
    /// Lines, CloudTrail records, or CloudWatch Logs payloads.
    pub records: u64,
    /// Bytes after decompression.
    pub bytes: u64,
}

/// Why parsing stopped.
#[derive(Debug)]
pub enum ParseError {
    Corrupt(String),
    Stopped,
}

/// What is known of an object before its bytes say its format: what `GetObject` answered, and
/// the fields `S3_KEY_REGEX` takes from its key.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    pub bucket: String,
    pub key: String,
    pub etag: String,
    pub last_modified_ms: i64,
    pub key_fields: Vec<(String, String)>,
}

impl Located {
    /// The object's meta, once its format is found.
    fn with_format(self, format: Format) -> ObjectMeta {
        ObjectMeta {
            bucket: self.bucket,
            key: self.key,
            etag: self.etag,
            last_modified_ms: self.last_modified_ms,
            format,
            key_fields: self.key_fields,
            kinesis: None,
        }
    }
}

/// Reads a whole object from `body`: decompresses it, finds its format (a rule or the key
/// layout, else its first bytes) and sends its records to `emit`, read as the format's row of
/// the table says.
pub fn read_object(
    body: impl Read,
    object: Located,
    ack: Ack,
    options: &S3Options,
    mut emit: impl FnMut(Chunk) -> Result<(), Stopped>,
) -> Result<ObjectRead, ParseError> {
    read_object_from(body, object, ack, options, Start::default(), |chunk, _| {
        emit(chunk)
    })
}

/// Where reading an object starts: at its first record, or after the record `after` of a
/// continuation. Without a `seek`, `body` is the whole object and the records up to `after`
/// are passed over without being built (a header line among them is still read, for the lines
/// after it); with one, `body` starts at the seek's offset, which is the first byte of the
/// record after `after`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Start {
    pub after: u64,
    pub seek: Option<Seek>,
}

/// [`read_object`] from `start`; `emit` also gets, with each chunk, where reading could start
/// again after it ([`Seek`]), when the object's layout allows: its records' bytes as stored
/// (an object not compressed, read as lines without a header line or as CloudWatch Logs
/// payloads), or a gzip member that starts right after the chunk's payload (a Firehose file).
pub fn read_object_from(
    body: impl Read,
    object: Located,
    ack: Ack,
    options: &S3Options,
    start: Start,
    mut emit: impl FnMut(Chunk, Option<Seek>) -> Result<(), Stopped>,
) -> Result<ObjectRead, ParseError> {
    let stored_start = start.seek.map_or(0, |seek| seek.offset);
    let (stream, head, mut seekable) =
        decompress::decompressed(body, stored_start, options.limits.max_object_expansion)?;
    let format = match start.seek {
        Some(seek) => seek.format,
        None => options
            .format_of_key(&object.key)
            .unwrap_or_else(|| Format::of_content(&head)),
    };
    let seekable = match format.reading {
        Reading::Payloads => seekable,
        Reading::Lines(Lines { header: None, .. }) if matches!(seekable, Seekable::Plain { .. }) => seekable,
        _ => {
            seekable.stop();
            Seekable::No
        }
    };
    let stream = Read::chain(Cursor::new(head), stream);
    let meta = Arc::new(object.with_format(format));
    let (after, base) = match start.seek {
        Some(_) => (0, start.after),
        None => (start.after, 0),
    };
    let mut out = Output::new(Arc::clone(&meta), ack, after, base, seekable, &mut emit);
    match format.reading {
        Reading::Payloads => read_payloads(stream, options.limits.max_payload_bytes, &mut out)?,
        Reading::Records {
            member, what, time, ..
        } => records::read(
            stream,
            records::RecordsFileOf { member, what, time },
            options.limits.max_record_bytes,
            &mut out,
        )?,
        Reading::Values { path, what } => values::read(
            stream,
            values::ValuesOf { path, what },
            options.limits.max_record_bytes,
            &mut out,
        )?,
        Reading::Lines(lines) => read_lines(stream, lines, options, &mut out)?,
        Reading::Parquet { column } => {
            parquet::read_stream(stream, column, options.limits.max_record_bytes, &mut out)?
        }
        // Nothing to read: the caller sees the format and counts the object skipped.
        Reading::Skip { .. } => {}
    }
    out.flush()?;
    Ok(ObjectRead {
        meta,
        records: out.records,
        bytes: out.bytes,
    })
}

/// Whether, and how, a record's place in the decompressed bytes says where it is stored.
enum Seekable {
    /// Not compressed: the same place, from the first byte read (`start` in the object).
    Plain {
        start: u64,
    },
    /// One layer of gzip members: where the members end ([`members::Members`]).
    Members(Boundaries),
    No,
}

impl Seekable {
    /// Stops noting where members end: nothing will ask.
    fn stop(&mut self) {
        if let Seekable::Members(boundaries) = self {
            *boundaries.borrow_mut() = None;
        }
    }
}

/// Records on their way out, in chunks.
struct Output<'a, F> {
    meta: Arc<ObjectMeta>,
    ack: Ack,
    header: Option<Arc<Vec<String>>>,
    /// The records numbered up to this one were done before: they are passed over.
    after: u64,
    /// The number of the record before the first one read (reading started at a seek).
    base: u64,
    seekable: Seekable,
    /// Where the last record pushed ends in the object as stored, when that is known.
    last_end: Option<u64>,
    pending: Vec<Record>,
    pending_bytes: usize,
    emit: &'a mut F,
    bytes: u64,
    records: u64,
}

impl<'a, F: FnMut(Chunk, Option<Seek>) -> Result<(), Stopped>> Output<'a, F> {
    /// An output of `meta`'s records after the record `after`, numbered from `base + 1`, with
    /// nothing pushed yet.
    fn new(
        meta: Arc<ObjectMeta>,
        ack: Ack,
        after: u64,
        base: u64,
        seekable: Seekable,
        emit: &'a mut F,
    ) -> Self {
        Output {
            meta,
            ack,
            header: None,
            after,
            base,
            seekable,
            last_end: None,
            pending: Vec::new(),
            pending_bytes: 0,
            emit,
            bytes: 0,
            records: 0,
        }
    }

    fn push(&mut self, record: Record) -> Result<(), ParseError> {
        self.records += 1;
        self.pending_bytes += record.text.len() + 64;
        self.pending.push(record);
        if self.pending_bytes >= CHUNK_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ParseError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let records = std::mem::take(&mut self.pending);
        self.pending_bytes = 0;
        let last_end = self.last_end.take();
        let seek = self.seek(last_end);
        let chunk = Chunk::Records(Records {
            ack: self.ack.clone(),
            object: Arc::clone(&self.meta),
            header: self.header.clone(),
            records,
        });
        (self.emit)(chunk, seek).map_err(|Stopped| ParseError::Stopped)
    }

    fn seek(&self, offset: Option<u64>) -> Option<Seek> {
        offset.map(|offset| Seek {
            offset,
            format: self.meta.format,
        })
    }

    /// A payload, followed in the object by `following` (its decompressed bytes up to the end of
    /// the buffer, starting at offset `end`).
    fn payload(&mut self, data: LogsData, end: u64, following: &[u8]) -> Result<(), ParseError> {
        self.records += 1;
        // One batch per source when the events carry system fields; only after the last is the
        // payload done, so only the last says where to continue.
        let mut batches = super::super::system_fields::by_source(data);
        let last = batches.pop().expect("by_source gives at least one batch");
        for data in batches {
            let chunk = self.chunk(data);
            (self.emit)(chunk, None).map_err(|Stopped| ParseError::Stopped)?;
        }
        let seek = self.seek(self.stored_after_payload(end, following));
        let chunk = self.chunk(last);
        (self.emit)(chunk, seek).map_err(|Stopped| ParseError::Stopped)
    }

    fn chunk(&self, data: LogsData) -> Chunk {
        match Batch::decoded(self.ack.clone(), data) {
            Ok(batch) => Chunk::Logs(batch),
            Err(control) => Chunk::Control(control),
        }
    }

    /// Where the next payload can be read from, after a payload that ends at decompressed
    /// offset `end`: the same offset in an uncompressed object; the end of a gzip member that
    /// ends there, or after only whitespace (`following`), in a file of members.
    fn stored_after_payload(&self, end: u64, following: &[u8]) -> Option<u64> {
        match &self.seekable {
            Seekable::Plain { start } => Some(start + end),
            Seekable::Members(boundaries) => {
                let mut boundaries = boundaries.borrow_mut();
                let boundaries = boundaries.as_mut()?;
                while boundaries
                    .front()
                    .is_some_and(|&(decompressed, _)| decompressed < end)
                {
                    boundaries.pop_front();
                }
                let &(decompressed, stored) = boundaries.front()?;
                let gap = following.get(..usize::try_from(decompressed - end).ok()?)?;
                gap.iter().all(u8::is_ascii_whitespace).then_some(stored)
            }
            Seekable::No => None,
        }
    }
}

/// CloudWatch Logs payloads back to back (`{…}{…}`, with or without whitespace between),
/// parsed from a buffer that holds at least one whole payload; one longer than `max` bytes
/// (`MAX_PAYLOAD_BYTES`) ends the reading, as in a subscription.
fn read_payloads<F: FnMut(Chunk, Option<Seek>) -> Result<(), Stopped>>(
    mut stream: impl Read,
    max: usize,
    out: &mut Output<'_, F>,
) -> Result<(), ParseError> {
    let mut buffer: Vec<u8> = Vec::with_capacity(2 * PAYLOAD_READ_BYTES);
    let mut payload = out.base;
    // The decompressed offset of the buffer's first byte.
    let mut buffer_start = 0u64;
    loop {
        let start = buffer.len();
        buffer.resize(start + PAYLOAD_READ_BYTES, 0);
        let read = read_full(&mut stream, &mut buffer[start..]).map_err(|err| {
            ParseError::Corrupt(format!("reading CloudWatch Logs payload {payload}: {err}"))
        })?;
        buffer.truncate(start + read);
        out.bytes += read as u64;
        let end = read == 0;
        let mut payloads = serde_json::Deserializer::from_slice(&buffer).into_iter::<LogsData>();
        let mut consumed = 0;
        loop {
            match payloads.next() {
                Some(Ok(data)) => {
                    consumed = payloads.byte_offset();
                    payload += 1;
                    if payload > out.after {
                        out.payload(data, buffer_start + consumed as u64, &buffer[consumed..])?;
                    }
                }
                Some(Err(err)) if err.is_eof() && !end => break,
                Some(Err(err)) => {
                    return Err(ParseError::Corrupt(format!(
                        "CloudWatch Logs payload {} is not a subscription payload: {err}",
                        payload + 1
                    )));
                }
                None => {
                    consumed = buffer.len();
                    break;
                }
            }
        }
        buffer.drain(..consumed);
        buffer_start += consumed as u64;
        if end {
            return Ok(());
        }
        if buffer.len() > max {
            return Err(ParseError::Corrupt(format!(
                "CloudWatch Logs payload {} is longer than MAX_PAYLOAD_BYTES ({max} bytes)",
                payload + 1
            )));
        }
    }
}

/// Reads until `buf` is full or the stream ends.
fn read_full(stream: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match stream.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(filled)
}

/// One record per line: the line's own time if it shows one, else the object's. A header line
/// (as the format's [`Lines::header`] tells) names the fields of the lines after it.
fn read_lines<F: FnMut(Chunk, Option<Seek>) -> Result<(), Stopped>>(
    mut stream: impl BufRead,
    lines: Lines,
    options: &S3Options,
    out: &mut Output<'_, F>,
) -> Result<(), ParseError> {
    let mut line = Vec::new();
    let mut number = out.base;
    let max = options.limits.max_record_bytes;
    loop {
        let (read, truncated_from) = read_line(&mut stream, &mut line, max)
            .map_err(|err| ParseError::Corrupt(format!("reading line {}: {err}", number + 1)))?;
        if read == 0 {
            return Ok(());
        }
        number += 1;
        out.bytes += read;
        while truncated_from.is_none() && line.last() == Some(&b'\r') {
            line.pop();
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if number <= out.after {
            // Done before: only a header line still counts, for the lines after it.
            if let Some(header) = lines.header
                && let Some(HeaderLine::Fields(fields)) = header(number, &String::from_utf8_lossy(&line))
            {
                out.header = Some(Arc::new(fields));
            }
            continue;
        }
        // A line that is not UTF-8 is kept, its bad bytes replaced.
        let text = match std::str::from_utf8(&line) {
            // Checked with the standard library's fast path for ASCII, not character by character.
            Ok(text) => text.to_owned(),
            Err(_) => String::from_utf8_lossy(&line).into_owned(),
        };
        match lines.header.and_then(|header| header(number, &text)) {
            Some(HeaderLine::Fields(fields)) => {
                // The records that follow are read by these names: a new chunk starts here.
                out.flush()?;
                out.header = Some(Arc::new(fields));
                continue;
            }
            Some(HeaderLine::Comment) => continue,
            None => {}
        }
        let time = lines.time.and_then(|time| time(&text, &options.timestamp_fields));
        if let Seekable::Plain { start } = out.seekable {
            out.last_end = Some(start + out.bytes);
        }
        out.push(Record {
            number,
            timestamp: time.unwrap_or(out.meta.last_modified_ms),
            text,
            truncated_from,
        })?;
    }
}

/// Reads one line into `line` (cleared first, its newline left out), keeping at most `max`
/// bytes of it (cut at a UTF-8 boundary) and passing over the rest as it streams, so that a
/// line without an end costs no more memory than `max`. Returns the bytes read, newline
/// included (0 at the end), and the line's whole length when it was cut.
pub(crate) fn read_line(
    stream: &mut impl BufRead,
    line: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<(u64, Option<u64>)> {
    line.clear();
    let (mut read, mut length) = (0u64, 0u64);
    loop {
        let available = match stream.fill_buf() {
            Ok(available) => available,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        if available.is_empty() {
            break;
        }
        let (content, taken, ended) = match memchr::memchr(b'\n', available) {
            Some(at) => (&available[..at], at + 1, true),
            None => (available, available.len(), false),
        };
        let room = max.saturating_sub(line.len());
        line.extend_from_slice(&content[..content.len().min(room)]);
        length += content.len() as u64;
        read += taken as u64;
        stream.consume(taken);
        if ended {
            break;
        }
    }
    if length <= max as u64 {
        return Ok((read, None));
    }
    line.truncate(crate::limits::utf8_prefix_len(line));
    Ok((read, Some(length)))
}

mod decompress;
mod download;
#[cfg(test)]
mod limits_tests;
mod members;
mod parquet;
mod records;
#[cfg(test)]
mod tests;
mod values;

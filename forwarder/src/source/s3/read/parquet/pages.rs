//! A row group's bytes as its column readers ask for them, held to a budget whatever the file
//! says of itself. The `parquet` crate reads a page by its header's sizes: it allocates the
//! uncompressed size the header declares, and decompresses a gzip page to its end whatever that
//! size was, so one hostile page could take gigabytes. Here every page header is read before the
//! crate reads it: the pages the columns hold at once (one each) may declare [`Budget::pages`]
//! bytes together, and a gzip page is first inflated into nothing, counting, to check it gives
//! no more than it declared. A row group of more than [`Budget::whole_group`] compressed bytes is
//! read a page at a time instead of in one range.
//!
//! Page headers are Thrift compact-protocol structs (`PageHeader` in the format's
//! `parquet.thrift`, <https://github.com/apache/parquet-format/blob/master/src/main/thrift/parquet.thrift>;
//! the encoding: <https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md>).

use std::io::Read;
use std::sync::{Arc, Mutex};

use bytes::{Buf, Bytes};
use flate2::read::MultiGzDecoder;
use parquet::basic::Compression;
use parquet::errors::ParquetError;
use parquet::file::metadata::RowGroupMetaData;
use parquet::file::reader::{ChunkReader, Length};

use super::Ranges;

/// What one Parquet file may make the reader hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Budget {
    /// The file's metadata (its footer): a flow log's is a few kilobytes a row group.
    pub footer: u64,
    /// Columns: a flow log has 29 (version 5); each costs a page and a batch of values.
    pub columns: usize,
    /// A row group of up to this many compressed bytes is read in one range.
    pub whole_group: u64,
    /// The uncompressed bytes the columns' current pages (a dictionary and a data page each) may
    /// declare together: writers cut pages at 1 MiB (parquet-mr's and Arrow's default), so a flow
    /// log's 29 columns need 29 MiB at most.
    pub pages: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            footer: 16 << 20,
            columns: 256,
            whole_group: 16 << 20,
            pages: 48 << 20,
        }
    }
}

/// How many bytes are fetched to read a page header from, when the group is read a page at a
/// time (a header beyond it fails to decode, as a corrupt one does).
const HEADER_BYTES: u64 = 64 << 10;

/// The bytes of one row group, for its column readers.
pub(super) struct GroupBytes {
    source: Arc<dyn Ranges>,
    /// The group's bytes from `start`, when read in one range.
    whole: Option<Bytes>,
    start: u64,
    end: u64,
    pages_budget: u64,
    columns: Mutex<Vec<ColumnPages>>,
}

/// One column chunk: where it lies, whether it is gzip, and the pages it holds: its dictionary
/// and the data page begun last.
#[derive(Debug)]
struct ColumnPages {
    start: u64,
    end: u64,
    gzip: bool,
    dictionary: Option<PageSizes>,
    page: Option<PageSizes>,
}

impl ColumnPages {
    fn held(&self) -> u64 {
        [self.dictionary, self.page]
            .iter()
            .flatten()
            .map(|page| page.uncompressed)
            .sum()
    }
}

impl GroupBytes {
    /// The bytes of `group`, read in one range when there are few enough of them.
    pub(super) fn new(
        source: Arc<dyn Ranges>,
        group: &RowGroupMetaData,
        budget: &Budget,
    ) -> Result<GroupBytes, String> {
        let mut columns: Vec<ColumnPages> = (group.columns().iter())
            .map(|chunk| {
                let (start, len) = chunk.byte_range();
                ColumnPages {
                    start,
                    end: start.saturating_add(len),
                    gzip: matches!(chunk.compression(), Compression::GZIP(_)),
                    dictionary: None,
                    page: None,
                }
            })
            .collect();
        columns.sort_by_key(|column| column.start);
        let start = columns.first().map_or(0, |column| column.start);
        let end = columns.iter().map(|column| column.end).max().unwrap_or(0);
        let size = source.size();
        if start > end || end > size.saturating_sub(super::TAIL) {
            return Err(format!(
                "its column chunks span bytes {start} to {end} of a file of {size}"
            ));
        }
        let whole = (end - start <= budget.whole_group)
            .then(|| source.range(start, end - start))
            .transpose()
            .map_err(|err| format!("reading bytes {start} to {end}: {err}"))?;
        Ok(GroupBytes {
            source,
            whole,
            start,
            end,
            pages_budget: budget.pages,
            columns: Mutex::new(columns),
        })
    }

    /// The `len` bytes from `at`, which must lie within the group.
    fn bytes(&self, at: u64, len: u64) -> Result<Bytes, ParquetError> {
        let outside = || {
            ParquetError::EOF(format!(
                "bytes {at} to {} are outside the row group's column chunks",
                at.saturating_add(len)
            ))
        };
        if at < self.start || at.checked_add(len).is_none_or(|end| end > self.end) {
            return Err(outside());
        }
        match &self.whole {
            Some(whole) => {
                let from = usize::try_from(at - self.start).map_err(|_| outside())?;
                let to = usize::try_from(len).map_err(|_| outside())? + from;
                Ok(whole.slice(from..to))
            }
            None => (self.source.range(at, len))
                .map_err(|err| ParquetError::General(format!("reading bytes {at} to {}: {err}", at + len))),
        }
    }

    /// Notes the page whose header is at `at`: its column now holds it instead of the last one.
    fn begin_page(&self, at: u64, header: &[u8]) -> Result<(), ParquetError> {
        let Some(sizes) = page_sizes(header, at) else {
            // Not a header this reads: the crate, reading the same bytes, says why.
            return Ok(());
        };
        let mut columns = self
            .columns
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(column) = columns.iter_mut().find(|c| c.start <= at && at < c.end) {
            match sizes.dictionary {
                true => column.dictionary = Some(sizes),
                false => column.page = Some(sizes),
            }
        }
        let held: u64 = columns.iter().map(ColumnPages::held).sum();
        if held > self.pages_budget {
            return Err(ParquetError::General(format!(
                "its pages declare {held} bytes to be held at once (a page of {} at byte {at}), more \
                 than the {} read at a time",
                sizes.uncompressed, self.pages_budget
            )));
        }
        Ok(())
    }

    /// Checks that the gzip page whose data is `data`, at `at`, inflates to no more than its
    /// header declared.
    fn check_inflated(&self, at: u64, data: &Bytes) -> Result<(), ParquetError> {
        let page = {
            let columns = self
                .columns
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            // The page begun last in the column: its data follows its header.
            let column = columns.iter().find(|c| c.start <= at && at < c.end);
            let page = column.filter(|c| c.gzip).and_then(|c| {
                [c.dictionary, c.page]
                    .into_iter()
                    .flatten()
                    .filter(|page| page.header_at < at)
                    .max_by_key(|page| page.header_at)
            });
            match page {
                Some(page) if page.compressed => page,
                _ => return Ok(()),
            }
        };
        let levels = usize::try_from(page.levels).unwrap_or(usize::MAX);
        let Some(compressed) = data.get(levels..) else {
            return Ok(());
        };
        let most = page.uncompressed.saturating_sub(page.levels);
        let mut inflate = MultiGzDecoder::new(compressed).take(most + 1);
        let inflated = std::io::copy(&mut inflate, &mut std::io::sink())
            .map_err(|err| ParquetError::General(format!("the gzip page at byte {at}: {err}")))?;
        if inflated > most {
            return Err(ParquetError::General(format!(
                "the gzip page at byte {at} inflates past the {} bytes its header declares",
                page.uncompressed
            )));
        }
        Ok(())
    }
}

impl Length for GroupBytes {
    fn len(&self) -> u64 {
        self.end
    }
}

impl ChunkReader for GroupBytes {
    type T = bytes::buf::Reader<Bytes>;

    /// A page header is read from here: it is noted first.
    fn get_read(&self, start: u64) -> Result<Self::T, ParquetError> {
        let len = match self.whole {
            Some(_) => self.end.saturating_sub(start),
            None => HEADER_BYTES.min(self.end.saturating_sub(start)),
        };
        let bytes = self.bytes(start, len)?;
        self.begin_page(start, &bytes)?;
        Ok(bytes.reader())
    }

    /// A page's data is read from here, after its header.
    fn get_bytes(&self, start: u64, length: usize) -> Result<Bytes, ParquetError> {
        let bytes = self.bytes(start, length as u64)?;
        self.check_inflated(start, &bytes)?;
        Ok(bytes)
    }
}

/// The sizes a page header declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PageSizes {
    /// Where the header is in the file.
    pub header_at: u64,
    /// A dictionary page (`type` 2), which its column holds beside its data pages.
    pub dictionary: bool,
    /// `uncompressed_page_size`: what decompressing gives, levels included.
    pub uncompressed: u64,
    /// A data page v2's levels, which come before its compressed values, uncompressed.
    pub levels: u64,
    /// Whether the values are compressed (a v2 page may say they are not).
    pub compressed: bool,
}

/// The sizes of the `PageHeader` at the start of `bytes`, found at `header_at` in the file, if
/// it reads as one.
pub(super) fn page_sizes(bytes: &[u8], header_at: u64) -> Option<PageSizes> {
    let mut thrift = Compact { bytes, at: 0 };
    let mut sizes = PageSizes {
        header_at,
        dictionary: false,
        uncompressed: 0,
        levels: 0,
        compressed: true,
    };
    let mut seen = false;
    thrift.fields(|thrift, id, kind| {
        match (id, kind) {
            (1, I32) => sizes.dictionary = thrift.int()? == 2,
            (2, I32) => {
                sizes.uncompressed = u64::try_from(thrift.int()?).ok()?;
                seen = true;
            }
            // data_page_header_v2
            (8, STRUCT) => thrift.fields(|thrift, id, kind| {
                match (id, kind) {
                    (5 | 6, I32) => {
                        let len = u64::try_from(thrift.int()?).ok()?;
                        sizes.levels = sizes.levels.checked_add(len)?;
                    }
                    (7, FALSE) => sizes.compressed = false,
                    _ => thrift.skip(kind, 0)?,
                }
                Some(())
            })?,
            _ => thrift.skip(kind, 0)?,
        }
        Some(())
    })?;
    seen.then_some(sizes)
}

// The compact protocol's types, as a field header's low four bits give them.
const TRUE: u8 = 1;
const FALSE: u8 = 2;
const BYTE: u8 = 3;
const I16: u8 = 4;
const I32: u8 = 5;
const I64: u8 = 6;
const DOUBLE: u8 = 7;
const BINARY: u8 = 8;
const LIST: u8 = 9;
const SET: u8 = 10;
const MAP: u8 = 11;
const STRUCT: u8 = 12;
/// How deep structs and lists may nest before a header is taken for garbage.
const DEPTH: usize = 16;

/// A reader of the Thrift compact protocol: just what a page header needs.
struct Compact<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Compact<'_> {
    fn byte(&mut self) -> Option<u8> {
        let byte = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(byte)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    /// A zigzag-encoded integer.
    fn int(&mut self) -> Option<i64> {
        let raw = self.varint()?;
        Some((raw >> 1) as i64 ^ -((raw & 1) as i64))
    }

    /// Calls `field` with each field's id and type up to the struct's end.
    fn fields(&mut self, mut field: impl FnMut(&mut Self, i16, u8) -> Option<()>) -> Option<()> {
        let mut id: i16 = 0;
        loop {
            let header = self.byte()?;
            if header == 0 {
                return Some(());
            }
            let delta = header >> 4;
            id = match delta {
                0 => i16::try_from(self.int()?).ok()?,
                delta => id.checked_add(i16::from(delta))?,
            };
            field(self, id, header & 0x0f)?;
        }
    }

    /// Passes over a value of `kind`.
    fn skip(&mut self, kind: u8, depth: usize) -> Option<()> {
        if depth > DEPTH {
            return None;
        }
        match kind {
            TRUE | FALSE => {}
            BYTE => {
                self.byte()?;
            }
            I16 | I32 | I64 => {
                self.varint()?;
            }
            DOUBLE => self.at = self.at.checked_add(8).filter(|&at| at <= self.bytes.len())?,
            BINARY => {
                let len = usize::try_from(self.varint()?).ok()?;
                self.at = self.at.checked_add(len).filter(|&at| at <= self.bytes.len())?;
            }
            LIST | SET => {
                let header = self.byte()?;
                let count = match header >> 4 {
                    15 => self.varint()?,
                    count => u64::from(count),
                };
                for _ in 0..count {
                    self.element(header & 0x0f, depth + 1)?;
                }
            }
            MAP => {
                let count = self.varint()?;
                if count > 0 {
                    let kinds = self.byte()?;
                    for _ in 0..count {
                        self.element(kinds >> 4, depth + 1)?;
                        self.element(kinds & 0x0f, depth + 1)?;
                    }
                }
            }
            STRUCT => self.fields(|thrift, _, kind| thrift.skip(kind, depth + 1))?,
            _ => return None,
        }
        Some(())
    }

    /// Passes over an element of a list, set or map: a boolean there is a byte of its own (so
    /// every element takes a byte at least, and a count, however large, ends with the bytes).
    fn element(&mut self, kind: u8, depth: usize) -> Option<()> {
        match kind {
            TRUE | FALSE => self.byte().map(drop),
            kind => self.skip(kind, depth),
        }
    }
}

//! An object's bytes as they were before compression, gzip told from its first bytes, and how
//! far they may expand (`MAX_OBJECT_EXPANSION`).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::rc::Rc;

use flate2::bufread::MultiGzDecoder;

use super::members::{Boundaries, Members};
use super::{HEAD_BYTES, ParseError, Seekable};
use crate::limits::EXPANSION_FLOOR;

/// An object's bytes as they were before compression, the first of them, which the format may
/// be told from, and whether their places say where they are stored.
type Decompressed<'r> = (Box<dyn BufRead + 'r>, Vec<u8>, Seekable);

/// The object's bytes as they were before compression (gzip told from the bytes, not the name;
/// Firehose may gzip records that CloudWatch Logs had gzipped already: up to two layers).
/// `stored_start` is where `body` starts in the object. A compressed object that expands more
/// than `max_expansion` times the bytes read of it fails to read ([`Expansion`]).
pub(super) fn decompressed<'r>(
    body: impl Read + 'r,
    stored_start: u64,
    max_expansion: u64,
) -> Result<Decompressed<'r>, ParseError> {
    let corrupt = |what: &str, err: &dyn std::fmt::Display| ParseError::Corrupt(format!("{what}: {err}"));
    let stored = Rc::new(Cell::new(0));
    let body = Counted {
        inner: body,
        bytes: Rc::clone(&stored),
    };
    let mut stream: Box<dyn BufRead + 'r> = Box::new(BufReader::with_capacity(256 * 1024, body));
    let mut seekable = Seekable::Plain { start: stored_start };
    let mut compressed = false;
    for layer in 0..2 {
        let head = stream
            .fill_buf()
            .map_err(|err| corrupt("reading the object", &err))?;
        if !head.starts_with(&[0x1f, 0x8b]) {
            break;
        }
        compressed = true;
        if layer == 0 {
            let boundaries = Boundaries::new(RefCell::new(Some(VecDeque::new())));
            let members = Members::new(stream, stored_start, Rc::clone(&boundaries));
            stream = Box::new(BufReader::with_capacity(256 * 1024, members));
            seekable = Seekable::Members(boundaries);
        } else {
            // Gzip inside gzip: the inner members' places are not the object's.
            seekable.stop();
            seekable = Seekable::No;
            stream = Box::new(BufReader::with_capacity(256 * 1024, MultiGzDecoder::new(stream)));
        }
    }
    if compressed && max_expansion > 0 {
        let expansion = Expansion::new(stream, stored, max_expansion, EXPANSION_FLOOR);
        stream = Box::new(BufReader::with_capacity(64 * 1024, expansion));
    }
    let mut head = Vec::with_capacity(HEAD_BYTES as usize);
    (&mut stream)
        .take(HEAD_BYTES)
        .read_to_end(&mut head)
        .map_err(|err| corrupt("not a readable gzip stream", &err))?;
    Ok((stream, head, seekable))
}

/// A reader that counts the bytes read through it into a shared cell.
struct Counted<R> {
    inner: R,
    bytes: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.set(self.bytes.get() + n as u64);
        Ok(n)
    }
}

/// Decompressed bytes that fail once they pass `max` times the stored bytes read to make them
/// (`MAX_OBJECT_EXPANSION`), judged after the first `floor` ([`EXPANSION_FLOOR`]): a gzip
/// bomb is refused after a bounded time, as it never takes more memory than its longest record.
pub(super) struct Expansion<R> {
    inner: R,
    stored: Rc<Cell<u64>>,
    bytes: u64,
    max: u64,
    floor: u64,
}

impl<R> Expansion<R> {
    /// `inner`'s bytes, which `stored` bytes read of the object made, within `max` times them
    /// once past `floor`.
    pub(super) fn new(inner: R, stored: Rc<Cell<u64>>, max: u64, floor: u64) -> Expansion<R> {
        Expansion {
            inner,
            stored,
            bytes: 0,
            max,
            floor,
        }
    }
}

impl<R: Read> Read for Expansion<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        let stored = self.stored.get();
        if self.bytes > self.floor && self.bytes > stored.saturating_mul(self.max) {
            return Err(std::io::Error::other(format!(
                "the object expands more than MAX_OBJECT_EXPANSION ({}) times: {} bytes from \
                 the first {stored} stored; the rest is not read",
                self.max, self.bytes
            )));
        }
        Ok(n)
    }
}

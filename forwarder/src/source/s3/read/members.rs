//! Gzip members one at a time, noting where each ends: in the bytes as stored, and in the bytes
//! decompressed. A Firehose file of CloudWatch Logs records is such a file (each record a member
//! that holds one payload), and a continuation can start reading at a member's first byte, with
//! a ranged `GetObject`, instead of decompressing everything before it again.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{BufRead, Read};
use std::rc::Rc;

use flate2::bufread::GzDecoder;

/// Where members ended so far, as `(decompressed, stored)` offsets, oldest first; the reader
/// of the decompressed bytes takes them as it passes them. `None`: not noted (nothing asks).
pub(super) type Boundaries = Rc<RefCell<Option<VecDeque<(u64, u64)>>>>;

/// A `BufRead` that counts the bytes consumed from it: a member's decoder consumes exactly its
/// member, so the count at its end is where the next member starts.
pub(super) struct Counted<R> {
    inner: R,
    consumed: u64,
}

impl<R: BufRead> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.consumed += amount as u64;
        self.inner.consume(amount);
    }
}

/// The decompressed bytes of consecutive gzip members, each member's end noted in
/// [`Boundaries`].
pub(super) struct Members<R> {
    state: State<R>,
    decompressed: u64,
    boundaries: Boundaries,
}

enum State<R> {
    Member(Box<GzDecoder<Counted<R>>>),
    Between(Counted<R>),
    Done,
}

impl<R: BufRead> Members<R> {
    /// Members read from `inner`, whose first byte is at `start` in the object as stored.
    pub(super) fn new(inner: R, start: u64, boundaries: Boundaries) -> Members<R> {
        let counted = Counted {
            inner,
            consumed: start,
        };
        Members {
            state: State::Member(Box::new(GzDecoder::new(counted))),
            decompressed: 0,
            boundaries,
        }
    }
}

impl<R: BufRead> Read for Members<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            match std::mem::replace(&mut self.state, State::Done) {
                State::Member(mut decoder) => {
                    let n = decoder.read(buf)?;
                    if n > 0 || buf.is_empty() {
                        self.decompressed += n as u64;
                        self.state = State::Member(decoder);
                        return Ok(n);
                    }
                    let inner = decoder.into_inner();
                    let end = (self.decompressed, inner.consumed);
                    if let Some(boundaries) = self.boundaries.borrow_mut().as_mut() {
                        boundaries.push_back(end);
                    }
                    self.state = State::Between(inner);
                }
                State::Between(mut inner) => {
                    let next = inner.fill_buf()?;
                    if next.is_empty() {
                        return Ok(0);
                    }
                    if !next.starts_with(&[0x1f, 0x8b]) {
                        return Err(std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            format!(
                                "the bytes after the gzip member ending at byte {} are not gzip",
                                inner.consumed
                            ),
                        ));
                    }
                    self.state = State::Member(Box::new(GzDecoder::new(inner)));
                }
                State::Done => return Ok(0),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn each_members_end_is_noted_where_it_is_stored_and_decompressed() {
        let parts: [&[u8]; 3] = [b"first member", b"", b"third"];
        let members: Vec<Vec<u8>> = parts.iter().map(|part| gzip(part)).collect();
        let body = members.concat();
        let boundaries = Boundaries::new(RefCell::new(Some(VecDeque::new())));
        let mut out = Vec::new();
        Members::new(&body[..], 100, Rc::clone(&boundaries))
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, b"first memberthird");
        let stored_ends: Vec<u64> = (members.iter())
            .scan(100, |end, member| {
                *end += member.len() as u64;
                Some(*end)
            })
            .collect();
        let noted: Vec<(u64, u64)> = boundaries.borrow().iter().flatten().copied().collect();
        assert_eq!(
            noted,
            [(12, stored_ends[0]), (12, stored_ends[1]), (17, stored_ends[2])]
        );
    }

    #[test]
    fn bytes_after_a_member_that_are_not_gzip_are_an_error() {
        let mut body = gzip(b"one");
        body.extend_from_slice(b"trailing text");
        let mut out = Vec::new();
        let err = Members::new(&body[..], 0, Boundaries::default())
            .read_to_end(&mut out)
            .unwrap_err();
        assert!(err.to_string().contains("not gzip"), "{err}");
    }
}

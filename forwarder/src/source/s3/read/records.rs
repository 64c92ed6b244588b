//! An object that is one JSON object whose array member holds the records (CloudTrail's
//! `{"Records":[…]}`, AWS Config's `{"configurationItems":[…]}`), read one record at a time: the
//! file is never parsed whole.

use std::io::Read;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::{Output, ParseError, Stopped};
use crate::source::s3::{Chunk, Record, Seek};

/// How a records file is read: the array `member` holds the records, `what` names such a file,
/// `time` reads a record's time.
pub(super) struct RecordsFileOf {
    pub member: &'static str,
    pub what: &'static str,
    pub time: fn(&str) -> Option<i64>,
}

/// Reads `{"<member>":[…]}` one record at a time, each record's time read by `time`; `what`
/// names such a file in the error of one that is not.
pub(super) fn read<F: FnMut(Chunk, Option<Seek>) -> Result<(), Stopped>>(
    stream: impl Read,
    file: RecordsFileOf,
    out: &mut Output<'_, F>,
) -> Result<(), ParseError> {
    let mut reader = Counting {
        inner: stream,
        bytes: 0,
    };
    let mut deserializer = serde_json::Deserializer::from_reader(&mut reader);
    let mut stopped = false;
    let RecordsFileOf { member, what, time } = file;
    let result = RecordsFile {
        member,
        out: &mut *out,
        time,
        stopped: &mut stopped,
    }
    .deserialize(&mut deserializer)
    .and_then(|()| deserializer.end());
    out.bytes += reader.bytes;
    match result {
        Ok(()) => Ok(()),
        Err(_) if stopped => Err(ParseError::Stopped),
        Err(err) => Err(ParseError::Corrupt(format!("not a {what}: {err}"))),
    }
}

struct Counting<R> {
    inner: R,
    bytes: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

struct RecordsFile<'o, 'a, F> {
    member: &'static str,
    out: &'o mut Output<'a, F>,
    time: fn(&str) -> Option<i64>,
    stopped: &'o mut bool,
}

impl<'de, F: FnMut(Chunk, Option<Seek>) -> Result<(), Stopped>> DeserializeSeed<'de>
    for RecordsFile<'_, '_, F>
{
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, F: FnMut(Chunk, Option<Seek>) -> Result<(), Stopped>> Visitor<'de> for RecordsFile<'_, '_, F> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "an object {{\"{}\":[…]}}", self.member)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut found = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == self.member {
                found = true;
                map.next_value_seed(RecordsArray {
                    out: &mut *self.out,
                    time: self.time,
                    stopped: &mut *self.stopped,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        match found {
            true => Ok(()),
            false => Err(de::Error::missing_field(self.member)),
        }
    }
}

struct RecordsArray<'o, 'a, F> {
    out: &'o mut Output<'a, F>,
    time: fn(&str) -> Option<i64>,
    stopped: &'o mut bool,
}

impl<'de, F: FnMut(Chunk, Option<Seek>) -> Result<(), Stopped>> DeserializeSeed<'de>
    for RecordsArray<'_, '_, F>
{
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(Chunk, Option<Seek>) -> Result<(), Stopped>> Visitor<'de> for RecordsArray<'_, '_, F> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut number = 0;
        while let Some(record) = seq.next_element::<Box<RawValue>>()? {
            number += 1;
            if number <= self.out.after {
                continue;
            }
            let text = record.get();
            let record = Record {
                number,
                timestamp: (self.time)(text).unwrap_or(self.out.meta.last_modified_ms),
                text: text.to_string(),
            };
            if let Err(err) = self.out.push(record) {
                *self.stopped = matches!(err, ParseError::Stopped);
                return Err(de::Error::custom(match err {
                    ParseError::Corrupt(reason) => reason,
                    ParseError::Stopped => "stopped".to_string(),
                }));
            }
        }
        Ok(())
    }
}

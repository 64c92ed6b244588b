//! An object of JSON values one after another, one a line or back to back with nothing between
//! (`{…}{…}`), as Firehose writes the EventBridge events it delivers to S3: it concatenates the
//! records as they came, unless the stream's `AppendDelimiterToRecord` processor adds a newline
//! after each (<https://docs.aws.amazon.com/firehose/latest/APIReference/API_Processor.html>;
//! both layouts: <https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning-multirecord-deaggergation.html>).
//! Each value's array at a path
//! (`detail.findings` of a Security Hub event) holds the records; a value without one is a record
//! itself, so nothing is lost (its parse then says what it is not). Read one value at a time: the
//! buffer holds at least one whole value, never the object.
//!
//! Records are numbered across the object, so reading from record `after` passes over that many
//! records, whatever values held them. Text that is not JSON is a record up to the end of its
//! line, and reading goes on after it.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;

use serde_json::value::RawValue;

use super::{Output, ParseError, Stopped, read_full};
use crate::source::s3::{Chunk, Record, Seek};

/// How many bytes are read at a time; a value larger than that grows the buffer until it is
/// whole.
const READ_BYTES: usize = 256 * 1024;

/// How a file of values is read: the array at `path` of each value holds the records; `what`
/// names a value in messages.
pub(super) struct ValuesOf {
    pub path: &'static [&'static str],
    pub what: &'static str,
}

/// Reads the values of `stream`, sending on the records each holds.
pub(super) fn read<F: FnMut(Chunk, Option<Seek>) -> Result<(), Stopped>>(
    mut stream: impl Read,
    file: ValuesOf,
    out: &mut Output<'_, F>,
) -> Result<(), ParseError> {
    let mut buffer: Vec<u8> = Vec::with_capacity(2 * READ_BYTES);
    let mut number = out.base;
    let mut values = 0u64;
    loop {
        let start = buffer.len();
        buffer.resize(start + READ_BYTES, 0);
        let read = read_full(&mut stream, &mut buffer[start..])
            .map_err(|err| ParseError::Corrupt(format!("reading {} {}: {err}", file.what, values + 1)))?;
        buffer.truncate(start + read);
        out.bytes += read as u64;
        let end = read == 0;
        let mut consumed = 0;
        while let Some(next) = next_value(&buffer[consumed..], end) {
            let (text, length) = match next {
                Next::Value { text, length } => (Cow::Borrowed(text), length),
                Next::Text { text, length } => (text, length),
                Next::More => break,
            };
            values += 1;
            for record in records_of(text, file.path) {
                number += 1;
                if number <= out.after {
                    continue;
                }
                out.push(Record {
                    number,
                    timestamp: out.meta.last_modified_ms,
                    text: record.into_owned(),
                })?;
            }
            consumed += length;
        }
        buffer.drain(..consumed);
        if end {
            return Ok(());
        }
    }
}

/// What the buffer starts with.
enum Next<'b> {
    /// A whole JSON value, and the bytes it and the whitespace before it take.
    Value { text: &'b str, length: usize },
    /// Text that is not JSON, up to the end of its line (or of the object).
    Text { text: Cow<'b, str>, length: usize },
    /// Not enough: the value or line goes on after the buffer.
    More,
}

/// The next value in `buffer` (`end`: nothing follows it), or `None` when only whitespace is
/// left.
fn next_value(buffer: &[u8], end: bool) -> Option<Next<'_>> {
    let skip = buffer
        .iter()
        .take_while(|byte| byte.is_ascii_whitespace())
        .count();
    let rest = &buffer[skip..];
    if rest.is_empty() {
        return None;
    }
    let mut values = serde_json::Deserializer::from_slice(rest).into_iter::<&RawValue>();
    match values.next() {
        Some(Ok(value)) => Some(Next::Value {
            text: value.get(),
            length: skip + values.byte_offset(),
        }),
        Some(Err(err)) if err.is_eof() && !end => Some(Next::More),
        _ => match memchr::memchr(b'\n', rest) {
            Some(at) => Some(Next::Text {
                text: String::from_utf8_lossy(&rest[..at]),
                length: skip + at + 1,
            }),
            None if !end => Some(Next::More),
            None => Some(Next::Text {
                text: String::from_utf8_lossy(rest),
                length: buffer.len(),
            }),
        },
    }
}

/// The records `value` holds: the items of its array at `path`, or, without one, itself.
fn records_of<'v>(value: Cow<'v, str>, path: &[&str]) -> Vec<Cow<'v, str>> {
    let Cow::Borrowed(text) = value else {
        return vec![value];
    };
    match array_at(text, path) {
        Some(items) => items.into_iter().map(|item| Cow::Borrowed(item.get())).collect(),
        None => vec![Cow::Borrowed(text)],
    }
}

/// The items of the array at `path` in the JSON object `text`.
fn array_at<'v>(text: &'v str, path: &[&str]) -> Option<Vec<&'v RawValue>> {
    let mut value = text;
    for name in path {
        let members: HashMap<Cow<'_, str>, &RawValue> = serde_json::from_str(value).ok()?;
        value = members.get(*name)?.get();
    }
    serde_json::from_str(value).ok()
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::super::{Located, Start, read_object_from};
    use super::*;
    use crate::source::Ack;
    use crate::source::s3::format::S3Options;

    const EVENTS: &str = include_str!("../../../../../tests/fixtures/findings/securityhub-events.jsonl");

    /// Reads `body` (gzipped, as Firehose delivers it) at a key of the stream's choosing, from
    /// `start`: the format found and each record's number and text.
    fn read_events(body: &str, start: Start) -> (String, Vec<(u64, String)>) {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(body.as_bytes()).unwrap();
        let gzipped = encoder.finish().unwrap();
        let object = Located {
            bucket: "security".into(),
            key: "findings/2026/11/29/10/sluice-findings-1-2026-11-29-10-00-00-a1b2".into(),
            etag: "e".into(),
            last_modified_ms: 1_795_946_400_000,
            key_fields: Vec::new(),
        };
        let mut records = Vec::new();
        let read = read_object_from(
            &gzipped[..],
            object,
            Ack::Invocation,
            &S3Options::default(),
            start,
            |chunk, _| {
                if let Chunk::Records(chunk) = chunk {
                    records.extend(
                        chunk
                            .records
                            .into_iter()
                            .map(|record| (record.number, record.text)),
                    );
                }
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(read.records, records.len() as u64);
        (read.meta.format.name().to_string(), records)
    }

    fn finding_ids(records: &[(u64, String)]) -> Vec<(u64, String)> {
        (records.iter())
            .map(|(number, text)| {
                let finding: serde_json::Value = serde_json::from_str(text).unwrap();
                (*number, finding["Id"].as_str().unwrap_or("-").to_string())
            })
            .collect()
    }

    #[test]
    fn firehose_objects_of_security_hub_events_are_known_and_read_in_either_layout() {
        let lines = EVENTS.to_string();
        let back_to_back = EVENTS.lines().collect::<String>();
        assert!(back_to_back.contains("}]}}{\"version\""));
        let (format, one_a_line) = read_events(&lines, Start::default());
        assert_eq!(format, "securityhub");
        let (format, joined) = read_events(&back_to_back, Start::default());
        assert_eq!(format, "securityhub");
        assert_eq!(one_a_line, joined);
        let ids = finding_ids(&joined);
        assert_eq!(ids.len(), 2);
        assert_eq!(ids[0].0, 1);
        assert!(
            ids[0].1.ends_with("/finding/46ba0ac2845071e23ccdeb2ae03bfdea"),
            "{ids:?}"
        );
        assert_eq!(ids[1].0, 2);
        assert!(ids[1].1.contains("/CloudTrail.2/finding/"), "{ids:?}");
    }

    #[test]
    fn events_cut_by_the_read_buffer_are_read_whole() {
        // About 770 KB: values cross the 256 KiB reads, in both layouts.
        let copies = 100;
        for separator in ["", "\n"] {
            let body = vec![EVENTS.lines().collect::<Vec<_>>().join(separator); copies].join(separator);
            assert!(body.len() > 2 * READ_BYTES);
            let (_, records) = read_events(&body, Start::default());
            assert_eq!(records.len(), 2 * copies, "separator {separator:?}");
            let numbers: Vec<u64> = records.iter().map(|(number, _)| *number).collect();
            assert_eq!(numbers, (1..=2 * copies as u64).collect::<Vec<_>>());
            assert!(
                records
                    .iter()
                    .all(|(_, text)| text.starts_with("{\"SchemaVersion\""))
            );
        }
    }

    #[test]
    fn reading_after_n_findings_passes_over_n_findings_whatever_events_held_them() {
        // One event of three findings, then the fixture's two events.
        let first: serde_json::Value = serde_json::from_str(EVENTS.lines().next().unwrap()).unwrap();
        let mut three = first.clone();
        let finding = first["detail"]["findings"][0].clone();
        let findings: Vec<serde_json::Value> = (1..=3)
            .map(|n| {
                let mut finding = finding.clone();
                finding["Id"] = format!("finding-{n}").into();
                finding
            })
            .collect();
        three["detail"]["findings"] = findings.into();
        let body = format!("{three}{EVENTS}");
        let (_, all) = read_events(&body, Start::default());
        assert_eq!(all.len(), 5);
        for after in 0..=5u64 {
            let start = Start { after, seek: None };
            let (_, rest) = read_events(&body, start);
            assert_eq!(rest, all[after as usize..], "after {after}");
        }
    }

    #[test]
    fn a_value_without_findings_and_text_that_is_not_json_are_records() {
        let scheduled =
            r#"{"version":"0","detail-type":"Scheduled Event","source":"aws.events","detail":{}}"#;
        let body = format!(
            "{}\n{scheduled}\nnot json at all\n{}",
            EVENTS.lines().next().unwrap(),
            EVENTS.lines().nth(1).unwrap()
        );
        let (format, records) = read_events(&body, Start::default());
        assert_eq!(format, "securityhub");
        let texts: Vec<&str> = records.iter().map(|(_, text)| text.as_str()).collect();
        assert_eq!(texts.len(), 4);
        assert_eq!(texts[1], scheduled);
        assert_eq!(texts[2], "not json at all");
        assert_eq!(records.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [1, 2, 3, 4]);
    }

    #[test]
    fn a_values_array_at_the_path_holds_its_records_and_other_values_are_records() {
        let path = &["detail", "findings"][..];
        let event = r#"{"detail":{"findings":[{"Id":"a"},{"Id":"b"}]}}"#;
        assert_eq!(
            records_of(Cow::Borrowed(event), path),
            [r#"{"Id":"a"}"#, r#"{"Id":"b"}"#]
        );
        for other in [r#"{"detail":{}}"#, r#"{"detail":{"findings":7}}"#, "[1]", "3"] {
            assert_eq!(records_of(Cow::Borrowed(other), path), [other]);
        }
        let empty = r#"{"detail":{"findings":[]}}"#;
        assert!(records_of(Cow::Borrowed(empty), path).is_empty());
    }

    #[test]
    fn values_are_found_with_or_without_space_between_and_text_up_to_its_line_end() {
        let take = |buffer: &[u8], end| match next_value(buffer, end) {
            Some(Next::Value { text, length }) => format!("value {text} {length}"),
            Some(Next::Text { text, length }) => format!("text {text} {length}"),
            Some(Next::More) => "more".to_string(),
            None => "none".to_string(),
        };
        assert_eq!(take(b"{\"a\":1}{\"b\":2}", false), "value {\"a\":1} 7");
        assert_eq!(take(b"\n {\"b\":2}\n", false), "value {\"b\":2} 9");
        assert_eq!(take(b"{\"b\":", false), "more");
        assert_eq!(take(b"{\"b\":", true), "text {\"b\": 5");
        assert_eq!(take(b"not json\n{}", false), "text not json 9");
        assert_eq!(take(b"not json", false), "more");
        assert_eq!(take(b" \n ", true), "none");
    }
}

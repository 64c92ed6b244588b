//! An object of JSON values one after another, one a line or back to back with nothing between
//! (`{…}{…}`), as Firehose writes the EventBridge events it delivers to S3: it concatenates the
//! records as they came, unless the stream's `AppendDelimiterToRecord` processor adds a newline
//! after each (<https://docs.aws.amazon.com/firehose/latest/APIReference/API_Processor.html>;
//! both layouts: <https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning-multirecord-deaggergation.html>).
//! Each value's array at a path
//! (`detail.findings` of a Security Hub event) holds the records; a value without one is a record
//! itself, so nothing is lost (its parse then says what it is not). Read one value at a time by
//! the records files' scanner ([`super::records::Scanner`]): a value is held up to
//! `MAX_RECORD_BYTES`, and one longer than that is one record, cut there and marked
//! ([`Record::truncated_from`]), the rest passed over as it streams.
//!
//! Records are numbered across the object, so reading from record `after` passes over that many
//! records, whatever values held them. Text that is not JSON is a record up to the end of its
//! line (bounded the same way), and reading goes on after it.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::BufRead;

use serde_json::value::RawValue;

use super::records::{Failure, Scanner};
use super::{Output, ParseError, Stopped};
use crate::source::s3::{Chunk, Record, Seek};

/// How a file of values is read: the array at `path` of each value holds the records; `what`
/// names a value in messages.
pub(super) struct ValuesOf {
    pub path: &'static [&'static str],
    pub what: &'static str,
}

/// Reads the values of `stream`, each held up to `max` bytes, sending on the records each holds.
pub(super) fn read<F: FnMut(Chunk, Option<Seek>) -> Result<(), Stopped>>(
    stream: impl BufRead,
    file: ValuesOf,
    max: usize,
    out: &mut Output<'_, F>,
) -> Result<(), ParseError> {
    let mut scanner = Scanner::new(stream);
    let result = read_values(&mut scanner, &file, max, out);
    out.bytes += scanner.bytes();
    result.map_err(|failure| match failure {
        Failure::Stopped => ParseError::Stopped,
        Failure::Corrupt(reason) => ParseError::Corrupt(format!(
            "reading a {}: {reason} at byte {}",
            file.what,
            scanner.bytes()
        )),
    })
}

fn read_values<F: FnMut(Chunk, Option<Seek>) -> Result<(), Stopped>>(
    scanner: &mut Scanner<impl BufRead>,
    file: &ValuesOf,
    max: usize,
    out: &mut Output<'_, F>,
) -> Result<(), Failure> {
    let mut number = out.base;
    let mut bytes = Vec::new();
    while let Some(first) = scanner.next_byte()? {
        let truncated_from = match first {
            b'{' | b'[' => {
                let length = scanner.value(&mut bytes, max)?;
                (length > max as u64).then_some(length)
            }
            _ => scanner.line(&mut bytes, max)?,
        };
        if truncated_from.is_some() {
            bytes.truncate(crate::limits::utf8_prefix_len(&bytes));
        }
        let text = String::from_utf8_lossy(&bytes);
        let records = match truncated_from {
            Some(_) => vec![text],
            None => records_of(text, file.path),
        };
        for record in records {
            number += 1;
            if number <= out.after {
                continue;
            }
            let record = Record {
                number,
                timestamp: out.meta.last_modified_ms,
                text: record.into_owned(),
                truncated_from,
            };
            out.push(record).map_err(|err| match err {
                ParseError::Stopped => Failure::Stopped,
                ParseError::Corrupt(reason) => Failure::Corrupt(reason),
            })?;
        }
    }
    Ok(())
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

    /// Reads `body` (gzipped, as Firehose delivers it) at a key of the stream's choosing, with
    /// `options`, from `start`: the format found and the records.
    fn read_records(body: &str, options: &S3Options, start: Start) -> (String, Vec<Record>) {
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
            options,
            start,
            |chunk, _| {
                if let Chunk::Records(chunk) = chunk {
                    records.extend(chunk.records);
                }
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(read.records, records.len() as u64);
        (read.meta.format.name().to_string(), records)
    }

    /// [`read_records`] with the default settings: the format and each record's number and text.
    fn read_events(body: &str, start: Start) -> (String, Vec<(u64, String)>) {
        let (format, records) = read_records(body, &S3Options::default(), start);
        let records = records.into_iter().map(|record| (record.number, record.text));
        (format, records.collect())
    }

    /// Every record of `body` read with `options`: its text and the length it was cut from.
    fn read_with(body: &str, options: &S3Options) -> Vec<(String, Option<u64>)> {
        let records = read_records(body, options, Start::default()).1;
        (records.into_iter())
            .map(|record| (record.text, record.truncated_from))
            .collect()
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
        // About 770 KB: values cross the reads of the decompressed stream, in both layouts.
        let copies = 100;
        for separator in ["", "\n"] {
            let body = vec![EVENTS.lines().collect::<Vec<_>>().join(separator); copies].join(separator);
            assert!(body.len() > 512 * 1024);
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
    fn a_value_past_the_limit_is_one_record_cut_there_and_the_next_is_read() {
        let big = format!(
            r#"{{"detail":{{"findings":[{{"Id":"{}"}}]}}}}"#,
            "x".repeat(10_000)
        );
        let body = format!(
            "{big}{}\nnot json {}\n",
            EVENTS.lines().next().unwrap(),
            "y".repeat(10_000)
        );
        // A rule, as the first value is no Security Hub event that content could tell.
        let options = S3Options {
            rules: crate::source::s3::format::parse_rules("findings/**=securityhub").unwrap(),
            limits: crate::limits::Limits {
                max_record_bytes: 8192,
                ..crate::limits::Limits::default()
            },
            ..S3Options::default()
        };
        let records = read_with(&body, &options);
        assert_eq!(records.len(), 3, "{records:?}");
        let (cut, from) = (&records[0].0, records[0].1);
        assert_eq!((cut.len(), from), (8192, Some(big.len() as u64)));
        assert!(cut.starts_with(r#"{"detail":{"findings":[{"Id":"xxx"#));
        assert_eq!(records[1].1, None, "the next event's finding whole");
        assert!(records[1].0.contains("\"Id\""));
        assert_eq!((records[2].0.len(), records[2].1), (8192, Some(10_009)));
    }
}

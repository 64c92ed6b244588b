//! The passes over the log: the floor, the ceiling and the dry run's path, each a [`Pass`].

use std::io::{self, BufRead, BufReader};
use std::sync::Arc;

use flate2::bufread::MultiGzDecoder;
use sluice_forwarder::document::redact::Redactor;
use sluice_forwarder::document::{DocumentBuilder, DocumentOptions};
use sluice_forwarder::json::{push_json_str_bytes, push_str, push_text, push_u64};
use sluice_forwarder::opensearch::bulk;
use sluice_forwarder::source::Ack;
use sluice_forwarder::source::s3::read::{Located, Stopped, read_object as read};
use sluice_forwarder::source::s3::{Chunk, Format, ObjectMeta, S3Options};

use super::{BUCKET, KEY, Pass, START_MS};

/// `{"message":"<line>"}` and a newline per line, into a reused buffer: the least a forwarder of
/// this log does.
pub(super) fn floor_pass(gzip: &[u8]) -> Pass {
    let mut reader = BufReader::with_capacity(256 * 1024, MultiGzDecoder::new(gzip));
    let mut line = Vec::new();
    let mut out = Vec::with_capacity(2 << 20);
    let mut pass = Pass::default();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).expect("gzip") == 0 {
            break;
        }
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        if line.is_empty() {
            continue;
        }
        out.extend_from_slice(b"{\"message\":");
        push_json_str_bytes(&mut out, std::str::from_utf8(&line).expect("the log is UTF-8"));
        out.extend_from_slice(b"}\n");
        pass.docs += 1;
        if out.len() >= 1 << 20 {
            pass.bytes += out.len();
            out.clear();
        }
    }
    pass.bytes += out.len();
    pass
}

/// The ALB fields in their order, as the ceiling names them.
const NAMES: [&str; 33] = [
    "type",
    "time",
    "elb",
    "client_port",
    "target_port",
    "request_processing_time",
    "target_processing_time",
    "response_processing_time",
    "elb_status_code",
    "target_status_code",
    "received_bytes",
    "sent_bytes",
    "request",
    "user_agent",
    "ssl_cipher",
    "ssl_protocol",
    "target_group_arn",
    "trace_id",
    "domain_name",
    "chosen_cert_arn",
    "matched_rule_priority",
    "request_creation_time",
    "actions_executed",
    "redirect_url",
    "error_reason",
    "target_port_list",
    "target_status_code_list",
    "classification",
    "classification_reason",
    "conn_trace_id",
    "transformed_host",
    "transformed_uri",
    "request_transform_status",
];

/// The dry run's output with none of its reading: what the document costs to write at the
/// least. Each line is redacted and given its `_id` as the dry run does, and written into one
/// buffer per chunk (no allocation per document) as an action line and a document of the same
/// shape and about the same size: every field of the line copied as a string under an ALB name,
/// nothing checked or typed (no number, address, time or request read), the line's own time
/// text as `@timestamp`, the escaped line as `message`, where it came from, and the client,
/// request and user agent fields copied again as the shared fields. Only the line is escaped:
/// the generated log's fields need no escaping, so they are copied between quotes (`push_text`
/// with `plain`). A dry run,
/// which must also read and type every field, takes longer than this: its ratio to the floor
/// is the most a dry run can reach on this machine with today's redaction and `_id`s. Without
/// `redact`, it is the same with `REDACT_BUILTIN=false`.
pub(super) fn ceiling_pass(gzip: &[u8], redact: bool) -> Pass {
    let redactor = Redactor::new(redact, &[]).expect("no custom patterns");
    let meta = object();
    let ids = meta.record_ids();
    let mut header = String::from(",\"format\":\"alb\",\"s3\":{\"bucket\":");
    push_str(&mut header, &meta.bucket);
    header.push_str(",\"key\":");
    push_str(&mut header, &meta.key);
    header.push_str(",\"line\":");
    let mut out = String::with_capacity(4 << 20);
    let mut pass = Pass::default();
    read_object(gzip, |records| {
        out.clear();
        for record in records {
            let line = redactor.redact(&record.text);
            let id = ids.id(record.number);
            out.push_str("{\"index\":{\"_index\":\"alb-2026.11.29\",\"_id\":\"");
            out.push_str(&id);
            out.push_str("\"}}\n{\"alb\":{");
            // The fields the document repeats: time, client, request and user agent.
            let mut kept = [""; 4];
            for (number, field) in split_fields(&line).enumerate() {
                if number > 0 {
                    out.push(',');
                }
                push_text(
                    &mut out,
                    NAMES.get(number).copied().unwrap_or("extra_fields"),
                    true,
                );
                out.push(':');
                push_text(&mut out, field, true);
                match number {
                    1 => kept[0] = field,
                    3 => kept[1] = field,
                    12 => kept[2] = field,
                    13 => kept[3] = field,
                    _ => {}
                }
            }
            out.push_str("},\"@timestamp\":");
            push_text(&mut out, kept[0], true);
            out.push_str(",\"message\":");
            push_str(&mut out, &line);
            out.push_str(&header);
            push_u64(&mut out, record.number);
            out.push_str("},\"event_id\":\"");
            out.push_str(&id);
            out.push('"');
            for (key, field) in ["client", "url", "user_agent"].iter().zip(&kept[1..]) {
                out.push(',');
                push_text(&mut out, key, true);
                out.push(':');
                push_text(&mut out, field, true);
            }
            out.push_str("}\n");
        }
        pass.docs += records.len();
        pass.bytes += out.len();
        Pass::default()
    });
    pass
}

/// A line's fields: split on spaces, a field in quotes running to the next quote (no escapes:
/// the generated log has none). Not `access::split_quoted`, which collects a vector per line and
/// unescapes: the ceiling does the least a reader of the line can.
fn split_fields(line: &str) -> impl Iterator<Item = &str> {
    let bytes = line.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        while bytes.get(at) == Some(&b' ') {
            at += 1;
        }
        if at >= bytes.len() {
            return None;
        }
        let (start, end) = match bytes[at] {
            b'"' => (
                at + 1,
                memchr::memchr(b'"', &bytes[at + 1..]).map_or(bytes.len(), |end| at + 1 + end),
            ),
            _ => (
                at,
                memchr::memchr(b' ', &bytes[at..]).map_or(bytes.len(), |end| at + end),
            ),
        };
        at = end + 1;
        Some(&line[start..end])
    })
}

pub(super) fn gunzip_only(gzip: &[u8]) -> Pass {
    let bytes = io::copy(&mut MultiGzDecoder::new(gzip), &mut io::sink()).expect("gzip");
    Pass {
        docs: 0,
        bytes: bytes as usize,
    }
}

/// `parse_object` over the log with its ALB key, each chunk's records handed to `each`.
pub(super) fn read_object(
    gzip: &[u8],
    mut each: impl FnMut(&[sluice_forwarder::source::s3::Record]) -> Pass,
) -> Pass {
    let mut pass = Pass::default();
    let read = read(gzip, located(), Ack::Invocation, &S3Options::default(), |chunk| {
        let Chunk::Records(records) = chunk else {
            panic!("an ALB log is lines");
        };
        let done = each(&records.records);
        (pass.docs, pass.bytes) = (pass.docs + done.docs, pass.bytes + done.bytes);
        Ok::<(), Stopped>(())
    })
    .expect("the log parses");
    assert_eq!(read.meta.format, Format::Alb);
    pass
}

/// `parse_object` over the log with its ALB key, each chunk handed to `each`.
pub(super) fn read_object_chunks(gzip: &[u8], mut each: impl FnMut(Chunk)) {
    read(gzip, located(), Ack::Invocation, &S3Options::default(), |chunk| {
        each(chunk);
        Ok::<(), Stopped>(())
    })
    .expect("the log parses");
}

/// The dry run's path: documents of every chunk, and their `_bulk` NDJSON into a reused buffer
/// when `ndjson`.
pub(super) fn documents_pass(gzip: &[u8], options: DocumentOptions, ndjson: bool) -> Pass {
    let builder = DocumentBuilder::new(options, "us-east-1".to_owned());
    let mut pass = Pass::default();
    let mut out = Vec::new();
    read(gzip, located(), Ack::Invocation, &S3Options::default(), |chunk| {
        let Chunk::Records(records) = chunk else {
            panic!("an ALB log is lines");
        };
        let docs = builder.record_documents(&Arc::new(records));
        assert_eq!(docs.unparsed, 0, "every generated line parses");
        pass.docs += docs.docs.len();
        if ndjson {
            out.clear();
            bulk::write_ndjson(&docs.docs, &mut out).map_err(|_| Stopped)?;
            pass.bytes += out.len();
        }
        Ok(())
    })
    .expect("the log parses");
    pass
}

/// The object as `GetObject` would describe it, before its format is known.
fn located() -> Located {
    Located {
        bucket: BUCKET.to_owned(),
        key: KEY.to_owned(),
        etag: "0123456789abcdef0123456789abcdef".to_owned(),
        last_modified_ms: START_MS,
        key_fields: Vec::new(),
    }
}

/// The same object once its format is known (from the key), for the records' `_id`s.
fn object() -> ObjectMeta {
    ObjectMeta {
        bucket: BUCKET.to_owned(),
        key: KEY.to_owned(),
        etag: "0123456789abcdef0123456789abcdef".to_owned(),
        last_modified_ms: START_MS,
        format: Format::Alb,
        key_fields: Vec::new(),
        kinesis: None,
    }
}

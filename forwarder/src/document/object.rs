//! Documents of the records of objects read from S3 (lines and CloudTrail records): Sluice's
//! shape (whatever `DOCUMENT_FORMAT` says, the blueprint has no place for them), with where the
//! record came from, `"aws":{"s3":{"bucket":{"name"},"object":{"key"},"line"}}` (`"record"` for
//! CloudTrail), its format as `event.dataset`, the account and region of AWS's key layout as
//! `cloud.*`, the fields `S3_KEY_REGEX` takes from the key, and an `_id` that hashes the object
//! and the record's position. A CloudWatch Logs payload of a Firehose file is not a record: it becomes the
//! documents a subscription makes. A record that came in a Kinesis record (CloudFront real-time
//! logs) says so instead, `"aws":{"kinesis":{"stream":{"arn"},"shard_id","sequence_number",…}}`,
//! with the stream's account and region, and an `_id` that hashes stream, shard and sequence
//! number.

use std::borrow::Cow;
use std::sync::Arc;

use super::ecs;
use super::redact::Redactor;
use super::sluice::{Fields, Sluice};
use super::window::{Placed, TimeWindow};
use super::{
    Document, DocumentOptions, Documents, IdMode, MessageFilter, ObjectIndices, Origin, RecordRef, Stage,
    parse,
};
use crate::enrich::Enrichment;
use crate::json::shape::JsonLimits;
use crate::json::{
    self, push_key, push_str, push_str_quotes_only, push_string_fields, push_timestamp, push_u64,
};
use crate::source::s3::format::{Context, EventKind, Reading, Shared, Typed};
use crate::source::s3::{ObjectMeta, Record, RecordIds, Records, own_record_id};

/// The fields a record's document adds, which JSON merged at the root may not replace (nor may
/// `S3_KEY_REGEX` name them): the ECS objects of access logs, and `parse_error`.
pub const RECORD_FIELDS: &[&str] = &[
    "parse_error",
    "related",
    "source",
    "destination",
    "client",
    "http",
    "url",
    "user_agent",
    "tls",
    "trace",
    "network",
    "rule",
    "dns",
    "user",
    "error",
];

/// The documents of records: what they need of the settings, taken once.
#[derive(Debug, Clone)]
pub(super) struct RecordShape {
    sluice: Arc<Sluice>,
    redactor: Redactor,
    filter: MessageFilter,
    objects: ObjectIndices,
    id: IdMode,
    window: TimeWindow,
    json_limits: JsonLimits,
    dead_letter_index: String,
}

impl RecordShape {
    pub fn new(options: &DocumentOptions, sluice: Arc<Sluice>, dead_letter_index: String) -> RecordShape {
        RecordShape {
            sluice,
            redactor: options.redactor.clone(),
            filter: options.filter.clone(),
            objects: options.objects.clone(),
            id: options.id,
            window: options.time_window,
            json_limits: options.json_limits,
            dead_letter_index,
        }
    }

    /// One document per record kept by the message filter.
    pub fn documents(&self, records: &Arc<Records>) -> Documents {
        let mut out = Documents::default();
        let object = &records.object;
        let reserved = reserved_fields(object);
        let ids = object.record_ids();
        let header = RecordHeader::of(object);
        let mut head = String::with_capacity(header.len() + 24);
        let mut indices = self.objects.naming(object.format).for_batch("");
        let read_ms = self.window.read_time();
        let place = |time_ms| self.window.place(time_ms, read_ms);
        out.docs.reserve(records.records.len());
        let context = Context {
            header: records.header.as_deref().map(Vec::as_slice),
        };
        for (position, record) in records.records.iter().enumerate() {
            if !self.filter.keeps(&record.text) {
                out.skipped += 1;
                continue;
            }
            let message = self.redacted(&record.text);
            let (id, source, time, unparsed) = match &object.format.typed {
                Some(typed) => {
                    let (id, source, parsed, time) = access_source(
                        typed,
                        record,
                        (&header, &ids),
                        &message,
                        (context, &place),
                        &self.sluice.enrichment,
                    );
                    (id, source, time, !parsed)
                }
                None => {
                    let id = ids.id(record.number);
                    let ecs = match object.format.reading {
                        Reading::Records { ecs, .. } => ecs(&message),
                        _ => None,
                    };
                    header.write(&mut head, record, ecs.as_ref());
                    let parsed = parse::parse_within(&message, self.json_limits);
                    out.count_past_limit(&parsed);
                    let time = place(record.timestamp);
                    let mut fields = record_fields(time, &id, &reserved, &header.dataset);
                    fields.ecs = ecs.as_ref();
                    let source = self.sluice.source(&head, &fields, &message, Some(&parsed));
                    (id, source, time, false)
                }
            };
            out.unparsed += usize::from(unparsed);
            out.truncated += usize::from(record.truncated_from.is_some());
            out.out_of_window += usize::from(time.original_ms.is_some());
            let origin = RecordRef {
                records: Arc::clone(records),
                position,
                unparsed,
            };
            out.docs.push(Document {
                index: indices.index_for(time.time_ms),
                id: match self.id {
                    IdMode::Event => Some(id),
                    IdMode::None => None,
                },
                source,
                stage: Stage::Primary,
                origin: Origin::Record(origin),
            });
        }
        out
    }

    /// The record's document without its parsed fields, after a mapping conflict.
    pub fn fallback(&self, origin: &RecordRef, from: Origin) -> Document {
        let (object, record) = (origin.object(), origin.record());
        let message = self.redacted(&record.text);
        let reparsed = self.reparsed(origin, &message);
        let id = reparsed.id.clone();
        let reserved = reserved_fields(object);
        let time = reparsed.placed;
        let header = RecordHeader::of(object);
        let fields = record_fields(time, &id, &reserved, &header.dataset);
        Document {
            index: self.objects.naming(object.format).index_for("", time.time_ms),
            id: self.kept_id(reparsed.id),
            source: self
                .sluice
                .source(&header.to_string(record), &fields, &message, None),
            stage: Stage::Fallback,
            origin: from,
        }
    }

    /// The dead-letter document of a record: why, its (redacted) text, and where it came from.
    pub fn dead_letter(&self, origin: &RecordRef, from: Origin, reason: &str) -> Document {
        let (object, record) = (origin.object(), origin.record());
        let message = self.redacted(&record.text);
        let mut out = String::with_capacity(message.len() + reason.len() + 256);
        out.push('{');
        if json::in_date_range(record.timestamp) {
            push_key(&mut out, "@timestamp");
            push_timestamp(&mut out, record.timestamp);
            out.push(',');
        }
        push_key(&mut out, "reason");
        push_str(&mut out, &self.redactor.redact(reason));
        let reparsed = self.reparsed(origin, &message);
        let index = (self.objects.naming(object.format)).index_for("", reparsed.placed.time_ms);
        push_string_fields(
            &mut out,
            &[
                ("message", message.as_ref()),
                ("format", object.format.name()),
                ("event_id", &reparsed.id),
                ("index", &index),
            ],
        );
        out.push_str(&s3_field(object, record));
        out.push_str(",\"event_timestamp_ms\":");
        out.push_str(&record.timestamp.to_string());
        out.push('}');
        Document {
            index: self.dead_letter_index.clone(),
            id: self.kept_id(reparsed.id),
            source: out,
            stage: Stage::DeadLetter,
            origin: from,
        }
    }

    /// The record's (redacted) text.
    fn redacted<'a>(&self, raw: &'a str) -> Cow<'a, str> {
        super::redacted(&self.redactor, raw, 1)
    }

    /// What a record whose document is rebuilt after a rejection had in its first document,
    /// read again: its time, placed by the window read now (the time its line gives, parsed
    /// again for a typed format, else the record's), and its id (the source's own, else its
    /// position's).
    fn reparsed(&self, origin: &RecordRef, message: &str) -> Reparsed {
        let (object, record) = (origin.object(), origin.record());
        let parsed = object.format.typed.as_ref().and_then(|typed| {
            let context = Context {
                header: origin.records.header.as_deref().map(Vec::as_slice),
            };
            (typed.parse)(message, context, &mut String::new()).ok()
        });
        let time_ms = (parsed.as_ref())
            .and_then(|parsed| parsed.time_ms)
            .unwrap_or(record.timestamp);
        let own = parsed.as_ref().and_then(|parsed| parsed.shared.own_id.as_deref());
        Reparsed {
            placed: self.window.place(time_ms, self.window.read_time()),
            id: match own {
                Some(own) => own_record_id(object.format.name(), own),
                None => object.record_id(record.number),
            },
        }
    }

    /// The `_id` a document is sent with: `id`, unless ids are off.
    fn kept_id(&self, id: String) -> Option<String> {
        match self.id {
            IdMode::Event => Some(id),
            IdMode::None => None,
        }
    }
}

/// The document of an access log line: the format's typed fields under `aws.<object>`
/// (`typed.object`: `alb`, …), written by the parser straight into the document, beside
/// `aws.s3`; `@timestamp` the line's own time, `message` the raw (redacted) line, the common
/// fields, and the ECS objects of what the line said ([`ecs::push_access`]); or, for a line that
/// does not parse, the line with `parse_error`. Also whether it parsed, and its time (the line's,
/// else the record's) as `place` puts it in the window.
fn access_source(
    typed: &Typed,
    record: &Record,
    (header, ids): (&RecordHeader, &RecordIds),
    message: &str,
    (context, place): (Context<'_>, &dyn Fn(i64) -> Placed),
    enrichment: &Enrichment,
) -> (String, String, bool, Placed) {
    const AWS: &str = "{\"aws\":{";
    let capacity = message.len() * 4 + header.len() + 256 + enrichment.members_capacity();
    let mut out = String::with_capacity(capacity);
    out.push_str(AWS);
    push_key(&mut out, typed.object);
    out.push('{');
    let parsed = (typed.parse)(message, context, &mut out);
    let (time, shared, quotes_only) = match parsed {
        Ok(parsed) => {
            out.push_str("},");
            let shared = (parsed.shared, parsed.shared_plain);
            (Ok(parsed.time_ms), Ok(shared), parsed.quotes_only)
        }
        Err(reason) => {
            out.truncate(AWS.len());
            (Err(()), Err(reason.to_string()), false)
        }
    };
    header.write_s3(&mut out, record);
    out.push('}');
    if let Err(reason) = &shared {
        out.push_str(",\"parse_error\":");
        push_str(&mut out, reason);
    }
    let placed = place(time.ok().flatten().unwrap_or(record.timestamp));
    out.push_str(",\"@timestamp\":");
    push_timestamp(&mut out, placed.time_ms);
    out.push_str(",\"message\":");
    let parsed = shared.as_ref().ok().map(|(shared, _)| shared);
    match parsed.and_then(|shared| shared.title.as_deref()) {
        Some(title) => push_str(&mut out, title),
        None if quotes_only => push_str_quotes_only(&mut out, message),
        None => push_str(&mut out, message),
    }
    ecs::push_version(&mut out);
    header.write_top(&mut out, parsed);
    let id = match parsed.and_then(|shared| shared.own_id.as_deref()) {
        Some(own) => own_record_id(header.format, own),
        None => ids.id(record.number),
    };
    let kind = parsed
        .and_then(|shared| shared.kind)
        .map_or("event", EventKind::event_kind);
    ecs::push_event_head(&mut out, kind, &header.dataset, &id);
    match &shared {
        Ok((shared, plain)) => ecs::push_access(&mut out, shared, *plain, enrichment),
        Err(_) => out.push('}'),
    }
    placed.push_original(&mut out);
    out.push('}');
    (id, out, time.is_ok(), placed)
}

/// A record's time and id as its first document had them ([`RecordShape::reparsed`]).
struct Reparsed {
    placed: Placed,
    id: String,
}

fn record_fields<'a>(time: Placed, id: &'a str, reserved: &'a [String], dataset: &'a str) -> Fields<'a> {
    Fields {
        time,
        id,
        extracted_fields: None,
        reserved,
        dataset,
        function: None,
        ecs: None,
    }
}

fn reserved_fields(object: &ObjectMeta) -> Vec<String> {
    RECORD_FIELDS
        .iter()
        .map(|field| field.to_string())
        .chain(object.key_fields.iter().map(|(name, _)| name.clone()))
        .collect()
}

/// What every record of an object shares, escaped once per chunk: `,"cloud":{…}` and the key's
/// fields (`top`), `"s3":{"bucket":{"name":…},"object":{"key":…},"line":` (the record's number
/// and the closing brace written per record), and the records' `event.dataset`.
struct RecordHeader {
    /// The account and region of the key's layout, and `,"cloud":{…}` of them.
    account: Option<String>,
    region: Option<String>,
    cloud: String,
    /// The key's fields.
    top: String,
    s3: String,
    /// `aws.` and the format's name in snake case: `aws.alb`, `aws.cloudtrail`, `aws.json_lines`.
    dataset: String,
    /// The format's name, which the source's own ids hash.
    format: &'static str,
}

impl RecordHeader {
    fn of(object: &ObjectMeta) -> RecordHeader {
        let mut top = String::with_capacity(64);
        let (account, region) = match &object.kinesis {
            Some(origin) => origin.account_region(),
            None => key_account_region(&object.key),
        };
        for (name, value) in &object.key_fields {
            top.push(',');
            push_key(&mut top, name);
            push_str(&mut top, value);
        }
        let mut s3 = String::with_capacity(object.key.len() + 96);
        match &object.kinesis {
            None => {
                s3.push_str("\"s3\":{\"bucket\":{\"name\":");
                push_str(&mut s3, &object.bucket);
                s3.push_str("},\"object\":{\"key\":");
                push_str(&mut s3, &object.key);
                s3.push_str("},\"");
            }
            Some(origin) => {
                s3.push_str("\"kinesis\":{\"stream\":{\"arn\":");
                push_str(&mut s3, &origin.stream_arn);
                s3.push('}');
                push_string_fields(
                    &mut s3,
                    &[
                        ("shard_id", &origin.shard_id),
                        ("sequence_number", &origin.sequence_number),
                        ("partition_key", &origin.partition_key),
                    ],
                );
                s3.push_str(",\"");
            }
        }
        s3.push_str(object.format.reading.position());
        s3.push_str("\":");
        let dataset = format!("aws.{}", object.format.name().replace('-', "_"));
        let mut cloud = String::with_capacity(80);
        ecs::push_cloud(&mut cloud, account, region);
        RecordHeader {
            cloud,
            account: account.map(str::to_owned),
            region: region.map(str::to_owned),
            top,
            s3,
            dataset,
            format: object.format.name(),
        }
    }

    fn len(&self) -> usize {
        self.top.len() + self.s3.len() + 96
    }

    /// `,"cloud":{…}` and the key's fields: the record's own account and region (`ecs`) before
    /// the key's.
    fn write_top(&self, out: &mut String, ecs: Option<&Shared<'_>>) {
        let account = ecs.and_then(|ecs| ecs.account_id.as_deref());
        let region = ecs.and_then(|ecs| ecs.region.as_deref());
        let instance = ecs.and_then(|ecs| ecs.instance_id.as_deref());
        let zone = ecs.and_then(|ecs| ecs.availability_zone.as_deref());
        match (account, region, instance, zone) {
            (None, None, None, None) => out.push_str(&self.cloud),
            _ => {
                let account = account.or(self.account.as_deref());
                let region = region.or(self.region.as_deref());
                ecs::push_cloud_instance(out, account, region, instance, zone);
            }
        }
        out.push_str(&self.top);
    }

    /// `"s3":{…,"line":N}`, a member of `aws`; of a record cut to `MAX_RECORD_BYTES`, with
    /// `"truncated":true,"record_bytes":LENGTH` (its whole length) after.
    fn write_s3(&self, out: &mut String, record: &Record) {
        out.push_str(&self.s3);
        push_u64(out, record.number);
        if let Some(length) = record.truncated_from {
            out.push_str(",\"truncated\":true,\"record_bytes\":");
            push_u64(out, length);
        }
        out.push('}');
    }

    /// The header [`Sluice::source`] takes for the record at `number`, in place of what `out`
    /// held: the `aws` object left open after `s3`.
    fn write(&self, out: &mut String, record: &Record, ecs: Option<&Shared<'_>>) {
        out.clear();
        self.write_top(out, ecs);
        out.push_str(",\"aws\":{");
        self.write_s3(out, record);
    }

    fn to_string(&self, record: &Record) -> String {
        let mut out = String::with_capacity(self.len() + 64);
        self.write(&mut out, record, None);
        out
    }
}

/// The account and region of AWS's key layout, `[prefix/]AWSLogs/[o-ORG/]ACCOUNT/SERVICE/REGION/…`
/// (ELB, WAF, VPC flow logs, CloudTrail), or of its Hive-compatible form
/// `…/AWSLogs/aws-account-id=ACCOUNT/aws-service=SERVICE/aws-region=REGION/…` (VPC flow logs);
/// none for a key outside it.
pub(super) fn key_account_region(key: &str) -> (Option<&str>, Option<&str>) {
    let mut parts = key.split('/').skip_while(|part| *part != "AWSLogs").skip(1);
    let mut account = parts.next();
    if account.is_some_and(|part| part.starts_with("o-")) {
        account = parts.next();
    }
    let account = account.map(|part| part.strip_prefix("aws-account-id=").unwrap_or(part));
    let Some(account) = account.filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())) else {
        return (None, None);
    };
    let region = parts.nth(1);
    let region = region.map(|part| part.strip_prefix("aws-region=").unwrap_or(part));
    let region = region.filter(|region| {
        let mut words = region.split('-');
        region.len() <= 20 && words.clone().count() >= 3 && words.all(|w| !w.is_empty())
    });
    (Some(account), region)
}

/// `,"s3":{"bucket":…,"key":…,"line":`, for a dead-letter document (`"record"` for a record of a
/// `Records` array), the position and the closing brace left to the caller.
fn push_s3_start(out: &mut String, object: &ObjectMeta) {
    if let Some(origin) = &object.kinesis {
        // As the dead-letter document of an undecodable Kinesis record names them.
        out.push_str(",\"kinesis\":{\"sequenceNumber\":");
        push_str(out, &origin.sequence_number);
        push_string_fields(
            out,
            &[
                ("partitionKey", &origin.partition_key),
                ("eventID", &origin.event_id),
                ("eventSourceARN", &origin.stream_arn),
            ],
        );
        out.push_str(",\"");
        out.push_str(object.format.reading.position());
        out.push_str("\":");
        return;
    }
    out.push_str(",\"s3\":{\"bucket\":");
    push_str(out, &object.bucket);
    out.push_str(",\"key\":");
    push_str(out, &object.key);
    out.push_str(",\"");
    out.push_str(object.format.reading.position());
    out.push_str("\":");
}

/// `,"s3":{"bucket":…,"key":…,"line":N}` (`"record"` for CloudTrail).
fn s3_field(object: &ObjectMeta, record: &Record) -> String {
    let mut out = String::with_capacity(object.key.len() + 64);
    push_s3_start(&mut out, object);
    out.push_str(&record.number.to_string());
    out.push('}');
    out
}

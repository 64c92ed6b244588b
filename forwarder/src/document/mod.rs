//! One OpenSearch document per log event.
//!
//! A document's `_source` is written straight into a `String`: the batch's shared fields are
//! escaped once per batch, and a JSON message body is validated by [`parse`] and copied
//! verbatim, so no `serde_json::Value` tree is built per event in the default mode. Redaction
//! runs first, and every field (raw message included) is derived from the redacted text.
//!
//! Every document keeps its [`Origin`]: the batch and event it was built from, and so what it
//! acknowledges. Delivery rebuilds a rejected document from it ([`DocumentBuilder::fallback`],
//! [`DocumentBuilder::dead_letter`]) without any index into a table kept elsewhere.

mod blueprint;
mod ecs;
pub mod index;
pub mod mapping;
pub mod multiline;
mod object;
mod options;
pub mod parse;
mod rebuild;
pub mod redact;
mod shape;
mod sluice;
mod window;

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::Value;

use self::blueprint::Blueprint;
pub use self::ecs::ECS_VERSION;
pub use self::multiline::Multiline;
pub use self::object::RECORD_FIELDS;
use self::object::RecordShape;
pub use self::options::{DocumentFormat, DocumentOptions, IdMode, JsonMode, MessageFilter, ObjectIndices};
pub use self::rebuild::Rebuild;
use self::redact::Redactor;
use self::shape::{EventShape, Written};
pub use self::sluice::RESERVED;
use self::sluice::Sluice;
use self::window::Placed;
pub use self::window::{ORIGINAL_TIME_FIELD, TimeWindow};
use crate::json::shape::{JsonLimits, PastLimit};
use crate::json::{self, push_key, push_str, push_string_fields, push_timestamp};
/// The access log parsers now live with their formats, in the table of S3 formats; the JSON
/// writer below every stage. The old paths stay for the benchmarks.
use crate::source::s3::{ObjectMeta, Record, Records};
use crate::source::{Ack, Batch, LogEvent, LogsData, Unreadable};

/// The field parsed JSON lands under by default (`JSON_FIELD`).
pub(crate) const DEFAULT_JSON_FIELD: &str = "json";

/// Which form of a log event a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The full document.
    Primary,
    /// Parsed fields dropped after a mapping conflict.
    Fallback,
    /// A dead-letter document: if this is rejected too, the event has failed.
    DeadLetter,
}

/// What a document was built from.
#[derive(Debug, Clone)]
pub enum Origin {
    /// One log event of a batch.
    Event(EventRef),
    /// One line or record of an object.
    Record(RecordRef),
    /// Input that could not be decoded; its dead-letter document is all there is of it.
    Unreadable { ack: Ack },
}

/// One log event of a shared batch, or the run of consecutive events merged into its document
/// (a stack trace, see [`multiline`]). Made only by [`DocumentBuilder`] from the batch's own
/// events, so it always names events that exist.
#[derive(Debug, Clone)]
pub struct EventRef {
    batch: Arc<Batch>,
    position: usize,
    /// Batch positions the document covers, from `position`: events the message filter
    /// skipped in between included (they are not in the message).
    span: usize,
    /// Events whose messages the document holds.
    merged: usize,
}

impl EventRef {
    pub fn batch(&self) -> &LogsData {
        &self.batch.data
    }

    /// The event the document is of: the first of a merged run, whose time and id it has.
    pub fn event(&self) -> &LogEvent {
        &self.batch.data.log_events[self.position]
    }

    /// The event's position in its batch.
    pub fn position(&self) -> usize {
        self.position
    }

    /// The events the document covers: one, or a merged run (with any the filter skipped).
    pub fn events(&self) -> &[LogEvent] {
        &self.batch.data.log_events[self.position..self.position + self.span]
    }

    /// How many events the document holds: more than one for a merged stack trace.
    pub fn merged(&self) -> usize {
        self.merged
    }
}

/// One record of a shared chunk of an object's records, made only by [`DocumentBuilder`].
#[derive(Debug, Clone)]
pub struct RecordRef {
    records: Arc<Records>,
    position: usize,
    /// The record is a line of a typed format that did not parse: its primary document holds it
    /// as text with a `parse_error`, and counts as `unparsed` once it is indexed.
    unparsed: bool,
}

impl RecordRef {
    pub fn object(&self) -> &ObjectMeta {
        &self.records.object
    }

    pub fn record(&self) -> &Record {
        &self.records.records[self.position]
    }
}

impl Origin {
    /// What the document acknowledges once it is done.
    pub fn ack(&self) -> &Ack {
        match self {
            Origin::Event(event) => &event.batch.ack,
            Origin::Record(record) => &record.records.ack,
            Origin::Unreadable { ack } => ack,
        }
    }
}

/// A document ready for a `_bulk` `create` action.
#[derive(Debug, Clone)]
pub struct Document {
    /// The dated index, e.g. `cwl-2026.11.22`, or the data stream, e.g. `cwl`.
    pub index: String,
    /// Deterministic `_id` from the CloudWatch event id; `None` for OpenSearch Serverless
    /// time-series collections, which reject client ids.
    pub id: Option<String>,
    /// The `_source`: one serialised JSON object, no newline.
    pub source: String,
    pub stage: Stage,
    pub origin: Origin,
}

impl Document {
    /// What the document acknowledges once it is done.
    pub fn ack(&self) -> &Ack {
        self.origin.ack()
    }

    /// How many input events the document accounts for in the counts: those of a merged run,
    /// else one.
    pub fn events(&self) -> u64 {
        match &self.origin {
            Origin::Event(event) => event.merged as u64,
            Origin::Record(_) | Origin::Unreadable { .. } => 1,
        }
    }

    /// Whether the document is a line that did not parse, indexed as text with a `parse_error`:
    /// what delivery counts as `unparsed` when it is indexed (not when it was already there).
    pub fn unparsed(&self) -> bool {
        self.stage == Stage::Primary && matches!(&self.origin, Origin::Record(record) if record.unparsed)
    }
}

/// The documents of one batch.
#[derive(Debug, Clone, Default)]
pub struct Documents {
    pub docs: Vec<Document>,
    /// Events left out by the include/exclude message patterns.
    pub skipped: usize,
    /// Access log lines that did not parse, written as text with a `parse_error`. The run's
    /// `unparsed` is counted at delivery instead ([`Document::unparsed`]): of these, those indexed.
    pub unparsed: usize,
    /// Documents whose own time lay outside the window: indexed at their read time
    /// ([`TimeWindow`]).
    pub out_of_window: usize,
    /// Records kept cut to `MAX_RECORD_BYTES` (`aws.s3.truncated`).
    pub truncated: usize,
    /// JSON messages left as text: nested deeper than `MAX_JSON_DEPTH`, or with more fields
    /// than `MAX_FIELDS`.
    pub json_too_deep: usize,
    pub json_too_many_fields: usize,
}

impl Documents {
    /// Counts a message whose JSON passed `MAX_JSON_DEPTH` or `MAX_FIELDS`.
    pub(crate) fn count_past_limit(&mut self, parsed: &parse::Parsed<'_>) {
        match parsed.json_past_limit {
            Some(PastLimit::Depth(_)) => self.json_too_deep += 1,
            Some(PastLimit::Fields(_)) => self.json_too_many_fields += 1,
            None => {}
        }
    }
}

/// Turns batches into documents with fixed options and the function's region.
#[derive(Debug, Clone)]
pub struct DocumentBuilder {
    options: DocumentOptions,
    region: String,
    dead_letter_index: String,
    /// The shape of log events' documents (`DOCUMENT_FORMAT`), chosen once.
    events: Arc<dyn EventShape>,
    /// The documents of objects' records (Sluice's shape, whatever `DOCUMENT_FORMAT` says).
    records: RecordShape,
}

impl DocumentBuilder {
    pub fn new(options: DocumentOptions, region: String) -> Self {
        let dead_letter_index = options.dead_letter_index();
        let sluice = Arc::new(Sluice::new(&options, &region));
        let events: Arc<dyn EventShape> = match options.format {
            DocumentFormat::Sluice => Arc::clone(&sluice) as Arc<dyn EventShape>,
            DocumentFormat::Blueprint => Arc::new(Blueprint::new(&options)),
        };
        let records = RecordShape::new(&options, Arc::clone(&sluice), dead_letter_index.clone());
        DocumentBuilder {
            options,
            region,
            dead_letter_index,
            events,
            records,
        }
    }

    pub fn options(&self) -> &DocumentOptions {
        &self.options
    }

    /// One document per record kept by the message filter.
    pub fn record_documents(&self, records: &Arc<Records>) -> Documents {
        self.records.documents(records)
    }

    /// Where dead-letter documents go.
    pub(crate) fn dead_letter_index(&self) -> &str {
        &self.dead_letter_index
    }

    /// One document per event kept by the message filter, or per run of them that continues a
    /// stack trace (`MULTILINE`). Control messages never get here: they are dropped at decode.
    pub fn documents(&self, batch: &Arc<Batch>) -> Documents {
        let data = &batch.data;
        let mut out = Documents::default();
        let header = self.events.header(batch);
        let scope = self.events.id_scope(data);
        let mut indices = self.options.index.for_batch(&data.log_group);
        let read_ms = self.options.time_window.read_time();
        out.docs.reserve(data.log_events.len());
        let filter = &self.options.filter;
        let mut skipped = 0;
        let kept = (data.log_events.iter().enumerate())
            .filter(|(_, event)| {
                let keep = filter.keeps(&event.message);
                skipped += usize::from(!keep);
                keep
            })
            .map(|(position, event)| (position, event.message.as_str()));
        for run in multiline::runs(self.options.multiline, kept) {
            let events = &data.log_events[run.start..run.end];
            let event = &events[0];
            let message = self.run_message(events, run.lines);
            let parsed = parse::parse_within(multiline::head(&message, run.lines), self.options.json_limits);
            out.count_past_limit(&parsed);
            let time = self.options.time_window.place(event.timestamp, read_ms);
            out.out_of_window += usize::from(time.original_ms.is_some());
            let written = Written {
                data,
                event,
                header: &header,
                message: &message,
                lines: run.lines,
                time,
            };
            let source = self.events.source(&written, Some(&parsed));
            out.docs.push(Document {
                index: indices.index_for(time.time_ms),
                id: self.id(&scope, event),
                source,
                stage: Stage::Primary,
                origin: Origin::Event(EventRef {
                    batch: Arc::clone(batch),
                    position: run.start,
                    span: events.len(),
                    merged: run.lines,
                }),
            });
        }
        out.skipped = skipped;
        out
    }

    /// The document's event with its parsed fields dropped and the (redacted) raw message kept:
    /// what is retried after OpenSearch rejects a document for a mapping conflict. `None` for a
    /// document that is not of a log event.
    pub fn fallback(&self, doc: &Document) -> Option<Document> {
        let origin = match &doc.origin {
            Origin::Event(origin) => origin,
            Origin::Record(record) => return Some(self.records.fallback(record, doc.origin.clone())),
            Origin::Unreadable { .. } => return None,
        };
        let (data, log_event) = (origin.batch(), origin.event());
        let message = self.run_message(origin.events(), origin.merged);
        let time = self.placed(log_event.timestamp);
        let written = Written {
            data,
            event: log_event,
            header: &self.events.header(&origin.batch),
            message: &message,
            lines: origin.merged,
            time,
        };
        let source = self.events.source(&written, None);
        Some(Document {
            index: self.options.index.index_for(&data.log_group, time.time_ms),
            id: self.id(&self.events.id_scope(data), log_event),
            source,
            stage: Stage::Fallback,
            origin: doc.origin.clone(),
        })
    }

    /// A document for the dead-letter index recording why the document's event could not be
    /// indexed, with its (redacted) message, log group, stream, event id and time. Its `_id`
    /// is the event id too, so replaying a batch does not dead-letter an event twice. `None` for
    /// a document that is not of a log event.
    pub fn dead_letter(&self, doc: &Document, reason: &str) -> Option<Document> {
        let origin = match &doc.origin {
            Origin::Event(origin) => origin,
            Origin::Record(record) => {
                return Some(self.records.dead_letter(record, doc.origin.clone(), reason));
            }
            Origin::Unreadable { .. } => return None,
        };
        let (data, log_event) = (origin.batch(), origin.event());
        let message = self.run_message(origin.events(), origin.merged);
        let mut out = String::with_capacity(message.len() + reason.len() + 256);
        out.push('{');
        if json::in_date_range(log_event.timestamp) {
            push_key(&mut out, "@timestamp");
            push_timestamp(&mut out, log_event.timestamp);
            out.push(',');
        }
        push_key(&mut out, "reason");
        push_str(&mut out, &self.options.redactor.redact(reason));
        let index = (self.options.index).index_for(&data.log_group, self.placed(log_event.timestamp).time_ms);
        push_string_fields(
            &mut out,
            &[
                ("message", message.as_ref()),
                ("log_group", &data.log_group),
                ("log_stream", &data.log_stream),
                ("owner", &data.owner),
                ("region", &self.region),
                ("event_id", &log_event.id),
                ("index", &index),
            ],
        );
        out.push(',');
        push_key(&mut out, "event_timestamp_ms");
        out.push_str(&log_event.timestamp.to_string());
        out.push('}');
        multiline::push_events(&mut out, origin.merged);
        Some(Document {
            index: self.dead_letter_index.clone(),
            id: self.id(&self.events.id_scope(data), log_event),
            source: out,
            stage: Stage::DeadLetter,
            origin: doc.origin.clone(),
        })
    }

    /// The dead-letter document that preserves input which could not be decoded: its raw bytes
    /// (base64), the reason and where it came from.
    pub(crate) fn unreadable(&self, input: &Unreadable) -> Document {
        use base64::Engine;
        let mut source = serde_json::Map::new();
        if json::in_date_range(input.arrived_ms) {
            let mut time = String::new();
            push_timestamp(&mut time, input.arrived_ms);
            source.insert(
                "@timestamp".into(),
                Value::String(time.trim_matches('"').to_string()),
            );
        }
        source.insert("reason".into(), Value::String(input.reason.clone()));
        for (key, value) in &input.origin {
            source.insert(key.clone(), value.clone());
        }
        source.insert(
            "raw_base64".into(),
            Value::String(base64::engine::general_purpose::STANDARD.encode(&input.raw)),
        );
        Document {
            index: self.dead_letter_index.clone(),
            id: Some(input.id.clone()),
            source: Value::Object(source).to_string(),
            stage: Stage::DeadLetter,
            origin: Origin::Unreadable {
                ack: input.ack.clone(),
            },
        }
    }

    /// `time_ms` placed by the window, read now: for a document rebuilt after a rejection.
    fn placed(&self, time_ms: i64) -> Placed {
        let window = &self.options.time_window;
        window.place(time_ms, window.read_time())
    }

    fn id(&self, scope: &str, event: &LogEvent) -> Option<String> {
        match self.options.id {
            IdMode::Event if !event.id.is_empty() => {
                let mut id = String::with_capacity(scope.len() + event.id.len());
                id.push_str(scope);
                id.push_str(&event.id);
                Some(id)
            }
            IdMode::Event | IdMode::None => None,
        }
    }

    /// The message with secrets replaced, including inside JSON values that are objects.
    fn redacted<'a>(&self, raw: &'a str) -> Cow<'a, str> {
        self.redacted_lines(raw, 1)
    }

    /// [`Self::redacted`] for a message of `lines` merged events: the text rules see the whole
    /// trace, the JSON rules its first line (where a JSON body is, see [`multiline::head`]).
    fn redacted_lines<'a>(&self, raw: &'a str, lines: usize) -> Cow<'a, str> {
        redacted(&self.options.redactor, raw, lines)
    }

    /// The (redacted) message of a document's `events`: the one event's message, or the
    /// messages of the `lines` events of a merged run that the message filter keeps, joined by
    /// `\n`. The same events always give the same text, so a rebuilt document matches its
    /// primary.
    fn run_message<'a>(&self, events: &'a [LogEvent], lines: usize) -> Cow<'a, str> {
        if let [event] = events {
            return self.redacted(&event.message);
        }
        let filter = &self.options.filter;
        let joined = multiline::join(
            events
                .iter()
                .map(|e| e.message.as_str())
                .filter(|m| filter.keeps(m)),
        );
        let redacted = match self.redacted_lines(&joined, lines) {
            Cow::Owned(redacted) => Some(redacted),
            Cow::Borrowed(_) => None,
        };
        Cow::Owned(redacted.unwrap_or(joined))
    }
}

/// The `_id` of a CloudWatch Logs event in Sluice's shape: `<scope>-<event id>`, the scope being
/// 64 bits of SHA-256 over the owner account and the log group (hex). CloudWatch event ids are
/// unique within a log group; a central account that receives many accounts' logs must not depend
/// on them never meeting across groups. The event id stays readable at the end (and whole in
/// `event.id`).
pub fn scoped_event_id(owner: &str, log_group: &str, event_id: &str) -> String {
    format!("{}{event_id}", id_scope(owner, log_group))
}

/// `<16 hex digits>-`, taken once per batch.
fn id_scope(owner: &str, log_group: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for part in [owner, log_group] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    let digest = hash.finalize();
    let mut scope: String = digest[..8].iter().map(|byte| format!("{byte:02x}")).collect();
    scope.push('-');
    scope
}

/// `raw`, `lines` merged events, with secrets replaced, including inside JSON values that are
/// objects: the text rules see the whole text, the JSON rules its first line.
fn redacted<'a>(redactor: &Redactor, raw: &'a str, lines: usize) -> Cow<'a, str> {
    let (message, structural) = redactor.redact_message(raw);
    if structural && let Some(rewritten) = redact_structurally(&message, lines, redactor) {
        return Cow::Owned(rewritten);
    }
    message
}

/// Rewrites the JSON part of a message with sensitive fields redacted whatever their value;
/// `None` when the message holds no valid JSON.
fn redact_structurally(message: &str, lines: usize, redactor: &Redactor) -> Option<String> {
    // Whatever the limits on fields: a message left as text is still redacted.
    let range = parse::parse_within(multiline::head(message, lines), JsonLimits::UNLIMITED).json?;
    let mut value: Value = serde_json::from_str(&message[range.clone()]).ok()?;
    redactor.redact_value(&mut value);
    Some(format!(
        "{}{}{}",
        &message[..range.start],
        value,
        &message[range.end..]
    ))
}

#[cfg(test)]
mod ecs_tests;
#[cfg(test)]
mod enrich_tests;
#[cfg(test)]
mod json_tests;
#[cfg(test)]
mod limits_tests;
#[cfg(test)]
mod object_tests;
#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod time_tests;

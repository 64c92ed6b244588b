//! One OpenSearch document per log event.
//!
//! A document's `_source` is written straight into a `String`: the batch's shared fields are
//! escaped once per batch, and a JSON message body is validated by [`crate::parse`] and copied
//! verbatim, so no `serde_json::Value` tree is built per event in the default mode. Redaction
//! runs first, and every field (raw message included) is derived from the redacted text.

mod options;
pub mod write;

use std::borrow::Cow;

use serde_json::{Map, Value};

pub use self::options::{DocumentFormat, DocumentOptions, IdMode, JsonMode, MessageFilter};
use self::write::{push_f64, push_key, push_raw_json, push_str, push_timestamp};
use crate::batch::{LogEvent, LogsData};
use crate::parse::{self, Parsed, Platform};
use crate::redact::Redactor;

/// A document ready for a `_bulk` `create` action.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The dated index, e.g. `cwl-2026.11.22`.
    pub index: String,
    /// Deterministic `_id` from the CloudWatch event id; `None` for OpenSearch Serverless
    /// time-series collections, which reject client ids.
    pub id: Option<String>,
    /// The `_source`: one serialised JSON object, no newline.
    pub source: String,
    /// Position of the log event in its batch's `log_events`, to find it again for a fallback
    /// or dead-letter document.
    pub event: usize,
}

/// The documents of one batch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Documents {
    pub docs: Vec<Document>,
    /// Events left out by the include/exclude message patterns.
    pub skipped: usize,
}

/// Fields of a Sluice document that JSON merged at the root (`JSON_MODE=root`) cannot replace,
/// and that `JSON_FIELD` may not name.
pub const RESERVED: &[&str] = &[
    "@timestamp",
    "message",
    "log_group",
    "log_stream",
    "owner",
    "region",
    "subscription_filters",
    "event_id",
    "level",
    "request_id",
    "lambda",
    "extracted_fields",
    "fallback",
];

/// The fields the blueprint sets after merging the parsed JSON, so they win.
const BLUEPRINT_FIELDS: &[&str] = &[
    "@id",
    "@timestamp",
    "@message",
    "@owner",
    "@log_group",
    "@log_stream",
];

/// Turns batches into documents with fixed options and the function's region.
#[derive(Debug, Clone)]
pub struct DocumentBuilder {
    options: DocumentOptions,
    region: String,
    dead_letter_index: String,
}

impl DocumentBuilder {
    pub fn new(options: DocumentOptions, region: String) -> Self {
        let dead_letter_index = options.dead_letter_index();
        DocumentBuilder {
            options,
            region,
            dead_letter_index,
        }
    }

    pub fn options(&self) -> &DocumentOptions {
        &self.options
    }

    /// Where dead-letter documents go.
    pub fn dead_letter_index(&self) -> &str {
        &self.dead_letter_index
    }

    /// One document per event kept by the message filter; none for a `CONTROL_MESSAGE`.
    pub fn documents(&self, data: &LogsData) -> Documents {
        let mut out = Documents::default();
        if data.is_control() {
            return out;
        }
        let header = self.header(data);
        let mut indices = self.options.index.for_batch(&data.log_group);
        out.docs.reserve(data.log_events.len());
        for (position, event) in data.log_events.iter().enumerate() {
            if !self.options.filter.keeps(&event.message) {
                out.skipped += 1;
                continue;
            }
            let message = self.redacted(&event.message);
            let parsed = parse::parse(&message);
            let source = match self.options.format {
                DocumentFormat::Sluice => self.sluice_source(&header, event, &message, Some(&parsed)),
                DocumentFormat::Blueprint => self.blueprint_source(data, event, &message, Some(&parsed)),
            };
            out.docs.push(Document {
                index: indices.index_for(event.timestamp),
                id: self.id(event),
                source,
                event: position,
            });
        }
        out
    }

    /// The event at `event` with its parsed fields dropped and the (redacted) raw message kept:
    /// what is retried after OpenSearch rejects a document for a mapping conflict.
    ///
    /// Panics if `event` is not a position in `data.log_events` (it comes from a [`Document`]
    /// of the same batch).
    pub fn fallback(&self, data: &LogsData, event: usize) -> Document {
        let log_event = &data.log_events[event];
        let message = self.redacted(&log_event.message);
        let source = match self.options.format {
            DocumentFormat::Sluice => self.sluice_source(&self.header(data), log_event, &message, None),
            DocumentFormat::Blueprint => self.blueprint_source(data, log_event, &message, None),
        };
        Document {
            index: self.options.index.index_for(&data.log_group, log_event.timestamp),
            id: self.id(log_event),
            source,
            event,
        }
    }

    /// A document for the dead-letter index recording why the event at `event` could not be
    /// indexed, with its (redacted) message, log group, stream, event id and time. Its `_id`
    /// is the event id too, so replaying a batch does not dead-letter an event twice.
    ///
    /// Panics if `event` is not a position in `data.log_events`.
    pub fn dead_letter(&self, data: &LogsData, event: usize, reason: &str) -> Document {
        let log_event = &data.log_events[event];
        let message = self.redacted(&log_event.message);
        let mut out = String::with_capacity(message.len() + reason.len() + 256);
        out.push('{');
        if write::in_date_range(log_event.timestamp) {
            push_key(&mut out, "@timestamp");
            push_timestamp(&mut out, log_event.timestamp);
            out.push(',');
        }
        push_key(&mut out, "reason");
        push_str(&mut out, &self.options.redactor.redact(reason));
        for (key, value) in [
            ("message", message.as_ref()),
            ("log_group", &data.log_group),
            ("log_stream", &data.log_stream),
            ("owner", &data.owner),
            ("region", &self.region),
            ("event_id", &log_event.id),
            (
                "index",
                &self.options.index.index_for(&data.log_group, log_event.timestamp),
            ),
        ] {
            out.push(',');
            push_key(&mut out, key);
            push_str(&mut out, value);
        }
        out.push(',');
        push_key(&mut out, "event_timestamp_ms");
        out.push_str(&log_event.timestamp.to_string());
        out.push('}');
        Document {
            index: self.dead_letter_index.clone(),
            id: self.id(log_event),
            source: out,
            event,
        }
    }

    fn id(&self, event: &LogEvent) -> Option<String> {
        match self.options.id {
            IdMode::Event if !event.id.is_empty() => Some(event.id.clone()),
            IdMode::Event | IdMode::None => None,
        }
    }

    /// The message with secrets replaced, including inside JSON values that are objects.
    fn redacted<'a>(&self, raw: &'a str) -> Cow<'a, str> {
        let redactor = &self.options.redactor;
        let (message, structural) = redactor.redact_message(raw);
        if structural && let Some(rewritten) = redact_structurally(&message, redactor) {
            return Cow::Owned(rewritten);
        }
        message
    }

    /// `,"log_group":…,"log_stream":…,"owner":…,"region":…,"subscription_filters":[…]`,
    /// escaped once per batch.
    fn header(&self, data: &LogsData) -> String {
        let mut out = String::with_capacity(256);
        for (key, value) in [
            ("log_group", &data.log_group),
            ("log_stream", &data.log_stream),
            ("owner", &data.owner),
            ("region", &self.region),
        ] {
            out.push(',');
            push_key(&mut out, key);
            push_str(&mut out, value);
        }
        out.push(',');
        push_key(&mut out, "subscription_filters");
        out.push('[');
        for (i, filter) in data.subscription_filters.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_str(&mut out, filter);
        }
        out.push(']');
        out
    }

    /// A Sluice document; `parsed` is `None` for a fallback document.
    fn sluice_source(
        &self,
        header: &str,
        event: &LogEvent,
        message: &str,
        parsed: Option<&Parsed<'_>>,
    ) -> String {
        let mut out = String::with_capacity(header.len() + message.len() * 2 + 192);
        out.push('{');
        push_key(&mut out, "@timestamp");
        push_timestamp(&mut out, event.timestamp);
        out.push(',');
        push_key(&mut out, "message");
        push_str(&mut out, message);
        out.push_str(header);
        out.push(',');
        push_key(&mut out, "event_id");
        push_str(&mut out, &event.id);
        let Some(parsed) = parsed else {
            out.push_str(",\"fallback\":true}");
            return out;
        };
        if let Some(level) = parsed.level {
            out.push_str(",\"level\":\"");
            out.push_str(level);
            out.push('"');
        }
        if let Some(request_id) = &parsed.request_id {
            out.push(',');
            push_key(&mut out, "request_id");
            push_str(&mut out, request_id);
        }
        if let Some(platform) = &parsed.platform {
            push_platform(&mut out, platform);
        }
        if let Some(fields) = &event.extracted_fields {
            out.push(',');
            push_key(&mut out, "extracted_fields");
            out.push('{');
            for (i, (key, value)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_key(&mut out, key);
                push_str(&mut out, &self.options.redactor.redact(value));
            }
            out.push('}');
        }
        if let Some(range) = parsed.json.clone() {
            let json = &message[range];
            match &self.options.json {
                JsonMode::Field(field) => {
                    out.push(',');
                    push_key(&mut out, field);
                    push_raw_json(&mut out, json);
                }
                JsonMode::Root => {
                    if let Ok(fields) = serde_json::from_str::<Map<String, Value>>(json) {
                        for (key, value) in fields.iter().filter(|(k, _)| !RESERVED.contains(&k.as_str())) {
                            out.push(',');
                            push_key(&mut out, key);
                            out.push_str(&value.to_string());
                        }
                    }
                }
                JsonMode::Off => {}
            }
        }
        out.push('}');
        out
    }

    /// The AWS blueprint's document: the parsed JSON (or the extracted fields) at the root, then
    /// `@id`, `@timestamp`, `@message`, `@owner`, `@log_group`, `@log_stream`.
    fn blueprint_source(
        &self,
        data: &LogsData,
        event: &LogEvent,
        message: &str,
        parsed: Option<&Parsed<'_>>,
    ) -> String {
        let fields = match parsed {
            None => Map::new(),
            Some(_) if event.extracted_fields.is_some() => {
                blueprint_extracted(event.extracted_fields.iter().flatten(), &self.options.redactor)
            }
            Some(parsed) => parsed
                .json
                .clone()
                .and_then(|range| serde_json::from_str::<Map<String, Value>>(&message[range]).ok())
                .unwrap_or_default(),
        };
        let mut out = String::with_capacity(message.len() * 2 + 256);
        out.push('{');
        for (key, value) in fields
            .iter()
            .filter(|(k, _)| !BLUEPRINT_FIELDS.contains(&k.as_str()))
        {
            push_key(&mut out, key);
            out.push_str(&value.to_string());
            out.push(',');
        }
        push_key(&mut out, "@id");
        push_str(&mut out, &event.id);
        out.push(',');
        push_key(&mut out, "@timestamp");
        push_timestamp(&mut out, event.timestamp);
        for (key, value) in [
            ("@message", message),
            ("@owner", &data.owner),
            ("@log_group", &data.log_group),
            ("@log_stream", &data.log_stream),
        ] {
            out.push(',');
            push_key(&mut out, key);
            push_str(&mut out, value);
        }
        out.push('}');
        out
    }
}

/// `,"lambda":{"event":"report","duration_ms":…}`.
fn push_platform(out: &mut String, platform: &Platform<'_>) {
    out.push_str(",\"lambda\":{\"event\":\"");
    out.push_str(platform.name());
    out.push('"');
    let mut number = |key: &str, value: Option<f64>| {
        if let Some(value) = value {
            out.push(',');
            push_key(out, key);
            push_f64(out, value);
        }
    };
    match platform {
        Platform::Report(report) => {
            number("duration_ms", report.duration_ms);
            number("billed_duration_ms", report.billed_duration_ms);
            number("memory_size_mb", report.memory_size_mb.map(|v| v as f64));
            number("max_memory_used_mb", report.max_memory_used_mb.map(|v| v as f64));
            number("init_duration_ms", report.init_duration_ms);
            number("restore_duration_ms", report.restore_duration_ms);
        }
        Platform::Timeout { seconds } => number("timeout_s", *seconds),
        Platform::Start {
            version: Some(version),
        } => {
            out.push(',');
            push_key(out, "version");
            push_str(out, version);
        }
        Platform::Start { version: None } | Platform::End => {}
    }
    out.push('}');
}

/// Rewrites the JSON part of a message with sensitive fields redacted whatever their value;
/// `None` when the message holds no valid JSON.
fn redact_structurally(message: &str, redactor: &Redactor) -> Option<String> {
    let range = parse::parse(message).json?;
    let mut value: Value = serde_json::from_str(&message[range.clone()]).ok()?;
    redactor.redact_value(&mut value);
    Some(format!(
        "{}{}{}",
        &message[..range.start],
        value,
        &message[range.end..]
    ))
}

/// The blueprint's `buildSource` for extracted fields: numbers become numbers, a value holding
/// JSON also lands parsed under `$<name>`, empty values are left out.
fn blueprint_extracted<'a>(
    fields: impl Iterator<Item = (&'a String, &'a String)>,
    redactor: &Redactor,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in fields {
        if value.is_empty() {
            continue;
        }
        let value = redactor.redact(value);
        if let Ok(number) = value.trim().parse::<f64>()
            && number.is_finite()
        {
            let number = match value.trim().parse::<i64>() {
                Ok(integer) => Value::from(integer),
                Err(_) => Value::from(number),
            };
            out.insert(key.clone(), number);
            continue;
        }
        if let Some(open) = value.find('{')
            && let Ok(json) = serde_json::from_str::<Value>(&value[open..])
        {
            out.insert(format!("${key}"), json);
        }
        out.insert(key.clone(), Value::String(value.into_owned()));
    }
    out
}

#[cfg(test)]
mod tests;

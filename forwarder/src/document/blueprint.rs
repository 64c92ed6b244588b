//! The AWS "LogsToElasticsearch" blueprint's document shape (`DOCUMENT_FORMAT=blueprint`), for
//! those who move from it without changing their dashboards.

use serde_json::{Map, Value};

use super::DocumentOptions;
use super::parse::Parsed;
use super::redact::Redactor;
use super::shape::{EventShape, Written};
use super::window::ORIGINAL_TIME_FIELD;
use crate::json::{push_key, push_str, push_string_fields, push_timestamp};
use crate::source::{Batch, LogsData};

/// The fields the blueprint sets after merging the parsed JSON, so they win.
const BLUEPRINT_FIELDS: &[&str] = &[
    "@id",
    "@timestamp",
    "@message",
    "@owner",
    "@log_group",
    "@log_stream",
    ORIGINAL_TIME_FIELD,
];

/// The blueprint's shape: what it needs of the settings, taken once.
#[derive(Debug, Clone)]
pub(super) struct Blueprint {
    redactor: Redactor,
}

impl Blueprint {
    pub fn new(options: &DocumentOptions) -> Blueprint {
        Blueprint {
            redactor: options.redactor.clone(),
        }
    }
}

impl EventShape for Blueprint {
    /// Nothing: the blueprint writes the batch's fields after each event's own.
    fn header(&self, _batch: &Batch) -> String {
        String::new()
    }

    /// Nothing: the blueprint's `_id` is the event id; but a central log group's events, whose
    /// ids may meet across source accounts, are scoped as in Sluice's shape.
    fn id_scope(&self, data: &LogsData) -> String {
        if data.from_system_fields {
            super::id_scope(&data.owner, &data.log_group)
        } else {
            String::new()
        }
    }

    /// The AWS blueprint's document: the parsed JSON (or the extracted fields) at the root, then
    /// `@id`, `@timestamp`, `@message`, `@owner`, `@log_group`, `@log_stream`.
    fn source(&self, written: &Written<'_>, parsed: Option<&Parsed<'_>>) -> String {
        let (data, event, message) = (written.data, written.event, written.message);
        let fields = match parsed {
            None => Map::new(),
            Some(_) if event.extracted_fields.is_some() => {
                blueprint_extracted(event.extracted_fields.iter().flatten(), &self.redactor)
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
        push_timestamp(&mut out, written.time.time_ms);
        written.time.push_original(&mut out);
        push_string_fields(
            &mut out,
            &[
                ("@message", message),
                ("@owner", &data.owner),
                ("@log_group", &data.log_group),
                ("@log_stream", &data.log_stream),
            ],
        );
        out.push('}');
        out
    }
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

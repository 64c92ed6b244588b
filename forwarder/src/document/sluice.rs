//! Sluice's document shape, in ECS names: `@timestamp`, `message`, `ecs.version`, the batch's
//! fields (`cloud.*`, `aws.cloudwatch.*`, `aws.tags`), and what the message says (`log.level`,
//! the request id, Lambda's platform fields under `aws.lambda`, extracted fields, parsed JSON).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::ecs::{self, DATASET_CLOUDWATCH};
use super::parse::{Parsed, Platform};
use super::redact::Redactor;
use super::shape::{EventShape, Written};
use super::window::{ORIGINAL_TIME_FIELD, Placed};
use super::{DocumentOptions, JsonMode, multiline};
use crate::enrich::Enrichment;
use crate::json::{
    push_f64, push_json_unique, push_key, push_str, push_string_fields, push_string_object, push_timestamp,
};
use crate::source::s3::format::Shared;
use crate::source::{Batch, LogEvent, LogsData};

/// What a Sluice document says of its event beyond the message and the batch's header.
pub(super) struct Fields<'a> {
    /// Its time, as the window placed it.
    pub time: Placed,
    pub id: &'a str,
    pub extracted_fields: Option<&'a BTreeMap<String, String>>,
    /// Fields the header holds that JSON merged at the root may not replace, beyond [`RESERVED`].
    pub reserved: &'a [String],
    /// `event.dataset`: `aws.cloudwatch_logs`, or the format of an object's record.
    pub dataset: &'a str,
    /// The Lambda function whose log group it is (`/aws/lambda/<name>`): `faas.name`, and the
    /// request id is then `faas.execution`.
    pub function: Option<&'a str>,
    /// What a record says in ECS's terms (a CloudTrail record's action, user, source…).
    pub ecs: Option<&'a Shared<'a>>,
}

impl<'a> Fields<'a> {
    pub fn of(data: &'a LogsData, event: &'a LogEvent, time: Placed) -> Self {
        Fields {
            time,
            id: &event.id,
            extracted_fields: event.extracted_fields.as_ref(),
            reserved: &[],
            dataset: DATASET_CLOUDWATCH,
            function: lambda_function(&data.log_group),
            ecs: None,
        }
    }
}

/// Fields of a Sluice document that JSON merged at the root (`JSON_MODE=root`) cannot replace,
/// and that `JSON_FIELD` may not name.
pub const RESERVED: &[&str] = &[
    "@timestamp",
    "message",
    "ecs",
    "cloud",
    "aws",
    "event",
    "log",
    "faas",
    "extracted_fields",
    "fallback",
    "multiline",
    ORIGINAL_TIME_FIELD,
];

/// Sluice's shape: what it needs of the settings, taken once.
#[derive(Debug, Clone)]
pub(super) struct Sluice {
    region: String,
    json: JsonMode,
    redactor: Redactor,
    /// GeoIP, AS numbers and user agents for the ECS objects (`GEOIP_DATABASE`, …).
    pub(super) enrichment: Arc<Enrichment>,
}

impl Sluice {
    pub fn new(options: &DocumentOptions, region: &str) -> Sluice {
        Sluice {
            region: region.to_owned(),
            json: options.json.clone(),
            redactor: options.redactor.clone(),
            enrichment: Arc::clone(&options.enrichment),
        }
    }

    /// A Sluice document, of a log event or of a record; `parsed` is `None` for a fallback
    /// document. `header` ends inside the `aws` object, after its first member: the event's own
    /// `aws` members follow, then the brace that closes it.
    pub fn source(
        &self,
        header: &str,
        event: &Fields<'_>,
        message: &str,
        parsed: Option<&Parsed<'_>>,
    ) -> String {
        let mut out = String::with_capacity(header.len() + message.len() * 2 + 256);
        // The fixed keys are written as literals: they need no escaping.
        out.push_str("{\"@timestamp\":");
        push_timestamp(&mut out, event.time.time_ms);
        out.push_str(",\"message\":");
        push_str(&mut out, message);
        ecs::push_version(&mut out);
        out.push_str(header);
        if let Some(parsed) = parsed {
            if let Some(platform) = &parsed.platform {
                push_platform(&mut out, platform);
            }
            if let (Some(request_id), None) = (&parsed.request_id, event.function) {
                out.push_str(",\"request_id\":");
                push_str(&mut out, request_id);
            }
        }
        out.push('}');
        ecs::push_event_head(&mut out, "event", event.dataset, event.id);
        match event.ecs.filter(|_| parsed.is_some()) {
            Some(shared) => ecs::push_access(&mut out, shared, false, &self.enrichment),
            None => out.push('}'),
        }
        event.time.push_original(&mut out);
        let Some(parsed) = parsed else {
            push_faas(&mut out, event.function, None);
            out.push_str(",\"fallback\":true}");
            return out;
        };
        if let Some(level) = parsed.level {
            out.push_str(",\"log\":{\"level\":\"");
            out.push_str(level);
            out.push_str("\"}");
        }
        push_faas(&mut out, event.function, parsed.request_id.as_deref());
        if let Some(past) = parsed.json_past_limit {
            // The message's JSON stays text: say why, as an access log line that did not parse.
            out.push_str(",\"parse_error\":");
            push_str(&mut out, &past.to_string());
        }
        if let Some(fields) = event.extracted_fields {
            let redacted = fields
                .iter()
                .map(|(key, value)| (key, self.redactor.redact(value)));
            push_string_object(&mut out, "extracted_fields", redacted);
        }
        if let Some(range) = parsed.json.clone() {
            let json = &message[range];
            match &self.json {
                JsonMode::Field(field) => {
                    out.push(',');
                    push_key(&mut out, field);
                    push_json_unique(&mut out, json);
                }
                JsonMode::Root => {
                    if let Ok(fields) = serde_json::from_str::<Map<String, Value>>(json) {
                        let free =
                            |key: &str| !RESERVED.contains(&key) && !event.reserved.iter().any(|r| r == key);
                        for (key, value) in fields.iter().filter(|(k, _)| free(k)) {
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
}

impl EventShape for Sluice {
    /// `,"cloud":{…},"aws":{"cloudwatch":{"log_group":…,"log_stream":…,"subscription_filters":[…]}`
    /// and, when the log group has tags, `,"tags":{…}`, escaped once per batch; the `aws` object
    /// left open for the event's own members.
    fn header(&self, batch: &Batch) -> String {
        let data = &batch.data;
        let mut out = String::with_capacity(320);
        ecs::push_cloud(
            &mut out,
            Some(&data.owner),
            Some(data.source_region.as_deref().unwrap_or(&self.region)),
        );
        out.push_str(",\"aws\":{\"cloudwatch\":{");
        push_key(&mut out, "log_group");
        push_str(&mut out, &data.log_group);
        push_string_fields(&mut out, &[("log_stream", &data.log_stream)]);
        out.push(',');
        push_key(&mut out, "subscription_filters");
        out.push('[');
        for (i, filter) in data.subscription_filters.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_str(&mut out, filter);
        }
        out.push_str("]}");
        if let Some(tags) = batch.tags.as_deref().filter(|tags| !tags.is_empty()) {
            push_string_object(&mut out, "tags", tags.iter());
        }
        out
    }

    /// The log group's scope ([`super::scoped_event_id`]).
    fn id_scope(&self, data: &LogsData) -> String {
        super::id_scope(&data.owner, &data.log_group)
    }

    fn source(&self, written: &Written<'_>, parsed: Option<&Parsed<'_>>) -> String {
        let fields = Fields::of(written.data, written.event, written.time);
        let mut source = Sluice::source(self, written.header, &fields, written.message, parsed);
        multiline::push_events(&mut source, written.lines);
        source
    }
}

/// The function of a Lambda log group (`/aws/lambda/<name>`), `None` for any other group.
pub(super) fn lambda_function(log_group: &str) -> Option<&str> {
    log_group
        .strip_prefix("/aws/lambda/")
        .filter(|name| !name.is_empty())
}

/// `,"faas":{"name":…,"execution":…}` for a Lambda function's log group: its name, and the
/// request id when the message gave one.
fn push_faas(out: &mut String, function: Option<&str>, request_id: Option<&str>) {
    let Some(function) = function else {
        return;
    };
    out.push_str(",\"faas\":{\"name\":");
    push_str(out, function);
    if let Some(request_id) = request_id {
        out.push_str(",\"execution\":");
        push_str(out, request_id);
    }
    out.push('}');
}

/// `,"lambda":{"event":"report","duration_ms":…}`, a member of `aws`.
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

//! AWS Network Firewall logs delivered to S3, as AWS documents them:
//! <https://docs.aws.amazon.com/network-firewall/latest/developerguide/firewall-logging-contents.html>
//! (contents, alert and TLS examples) and
//! <https://docs.aws.amazon.com/network-firewall/latest/developerguide/tls-inspection-logging.html>
//! (TLS errors and revocation checks), written under
//! `…/AWSLogs/ACCOUNT/network-firewall/{flow,alert,tls}/REGION/FIREWALL/YYYY/MM/DD/HH/…`
//! (<https://docs.aws.amazon.com/network-firewall/latest/developerguide/logging-s3.html>).
//!
//! A line is one JSON object: `firewall_name`, `availability_zone`, `event_timestamp` (epoch
//! seconds, as a string or a number) and `event`, a Suricata EVE JSON event
//! (<https://docs.suricata.io/en/latest/output/eve/eve-json-format.html>: `netflow` for flow logs,
//! `alert` for alert logs) or, for TLS logs, one of the TLS engine's (`tls_error`,
//! `revocation_check`). The addresses, ports and `proto` are written as ECS's `source.*`,
//! `destination.*` and `network.transport`; an alert's `signature_id`, `signature`, `category`
//! and `severity` as `rule.id`, `rule.name`, `rule.category`, `event.severity`; a flow's `pkts`,
//! `bytes`, `start` and `end` as `network.*`, `source.*` and `event.start`/`end` (a netflow event
//! is one direction); `sni` as `tls.client.server_name`. The rest goes under
//! `aws.network_firewall`: the envelope and `event`'s scalars by their names, each of `event`'s
//! objects (`alert`, `netflow`, `tls`, `http`, …) whole as a `flat_object`, whose shape varies with
//! the rule and the protocol, and any member this module does not know in `extra`, also flat.
//!
//! The record's time is `event.timestamp` (`2020-10-13T22:10:01.006481+0000`), else
//! `event_timestamp`. The region is the availability zone's (`us-east-1b` → `us-east-1`): the key
//! puts it after the log type, where the generic key layout does not look.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::fields::FieldWriter;
use super::time::rfc3339_ms;
use super::{
    Context, Dashboard, EventKind, FieldType, FormatSpec, KeyLayout, Lines, Parsed, Reading, RecordError,
    Shared, Typed,
};
use crate::json::push_timestamp;

/// Network Firewall's row of the format table: flow, alert and TLS logs alike.
pub(crate) static FORMAT: FormatSpec = FormatSpec {
    name: "network-firewall",
    key: KeyLayout {
        service: Some("network-firewall"),
        file: None,
    },
    content: None,
    reading: Reading::Lines(Lines::PLAIN),
    typed: Some(Typed {
        object: "network_firewall",
        fields: FIELDS,
        parse: |line, _: Context<'_>, out| parse(line, out),
    }),
    index_prefix: Some("networkfirewall"),
    dashboards: &[Dashboard::Security],
};

/// The fields written under `aws.network_firewall`.
pub(crate) const FIELDS: &[(&str, FieldType)] = &[
    ("firewall_name", FieldType::Keyword),
    ("availability_zone", FieldType::Keyword),
    ("event_timestamp", FieldType::Date),
    ("aws_category", FieldType::Keyword),
    ("event_type", FieldType::Keyword),
    ("flow_id", FieldType::Keyword),
    ("app_proto", FieldType::Keyword),
    ("tx_id", FieldType::Long),
    ("direction", FieldType::Keyword),
    ("pkt_src", FieldType::Keyword),
    ("tls_inspected", FieldType::Boolean),
    ("sni", FieldType::Keyword),
    ("alert", FieldType::Flat),
    ("verdict", FieldType::Flat),
    ("netflow", FieldType::Flat),
    ("tcp", FieldType::Flat),
    ("tls", FieldType::Flat),
    ("http", FieldType::Flat),
    ("dns", FieldType::Flat),
    ("tls_error", FieldType::Flat),
    ("revocation_check", FieldType::Flat),
    ("extra", FieldType::Flat),
];

/// `event`'s members that ECS's fields hold: not written again under `aws.network_firewall`.
const IN_ECS: &[&str] = &["timestamp", "src_ip", "src_port", "dest_ip", "dest_port", "proto"];

/// Reads one line: its fields written at the end of `out`, the rest in the [`Parsed`].
pub fn parse<'a>(line: &'a str, out: &mut String) -> Result<Parsed<'a>, RecordError> {
    if line.trim().is_empty() {
        return Err(RecordError::Blank);
    }
    let mut record: Map<String, Value> = serde_json::from_str(line).map_err(|err| RecordError::Json {
        what: "not a Network Firewall log record (JSON object)",
        reason: err.to_string(),
    })?;
    let event = match record.remove("event") {
        Some(Value::Object(event)) => event,
        _ => return Err(RecordError::Shape("no `event` object".to_string())),
    };
    let seconds = record.get("event_timestamp").and_then(number);
    let time_ms = (event.get("timestamp").and_then(Value::as_str))
        .and_then(rfc3339_ms)
        .or_else(|| seconds.map(|seconds| seconds * 1000));
    let shared = Shared {
        client_ip: text(&event, "src_ip").map(Cow::Owned),
        client_port: port(&event, "src_port")?,
        target_ip: text(&event, "dest_ip").map(Cow::Owned),
        target_port: port(&event, "dest_port")?,
        transport: text(&event, "proto").map(Cow::Owned),
        region: (record.get("availability_zone").and_then(Value::as_str))
            .and_then(zone_region)
            .map(Cow::Owned),
        ..decided(&event)
    };
    // One object of the envelope's and `event`'s members: a name in both (`aws_category`, which
    // the page lists beside `event` and its examples put inside it) is written once, `event`'s.
    let mut members = record;
    members.extend(
        event
            .into_iter()
            .filter(|(name, _)| !IN_ECS.contains(&name.as_str())),
    );
    write_fields(&members, seconds, out);
    Ok(Parsed {
        time_ms,
        shared,
        shared_plain: false,
        quotes_only: false,
    })
}

/// What the event says happened: its kind, action, rule, flow counts, TLS name and error.
fn decided(event: &Map<String, Value>) -> Shared<'static> {
    let empty = Map::new();
    let section = |name: &str| event.get(name).and_then(Value::as_object).unwrap_or(&empty);
    let (alert, netflow, tls) = (section("alert"), section("netflow"), section("tls"));
    let revocation = section("revocation_check");
    let alert_action = text(alert, "action");
    let revocation_action = text(revocation, "action");
    let event_type = text(event, "event_type");
    let is_alert = event_type.as_deref() == Some("alert");
    let allowed = match (alert_action.as_deref(), revocation_action.as_deref()) {
        (Some("allowed"), _) | (None, Some("PASS")) => Some(true),
        (Some("blocked"), _) | (None, Some("DROP" | "REJECT")) => Some(false),
        _ => None,
    };
    let time = |name: &str| netflow.get(name).and_then(Value::as_str).and_then(rfc3339_ms);
    Shared {
        kind: Some(match is_alert {
            true => EventKind::NetworkAlert,
            false => EventKind::Connection,
        }),
        action: (alert_action.or(revocation_action).or(event_type))
            .map(|action| Cow::Owned(action.to_ascii_lowercase())),
        allowed,
        rule_id: text(alert, "signature_id").map(Cow::Owned),
        rule_name: text(alert, "signature").map(Cow::Owned),
        rule_category: text(alert, "category").map(Cow::Owned),
        severity: alert.get("severity").and_then(Value::as_i64),
        flow_bytes: netflow.get("bytes").and_then(Value::as_u64),
        packets: netflow.get("pkts").and_then(Value::as_u64),
        start_ms: time("start"),
        end_ms: time("end"),
        tls_server_name: text(tls, "sni").or_else(|| text(event, "sni")).map(Cow::Owned),
        tls_protocol: text(tls, "version").and_then(tls_protocol).map(Cow::Owned),
        error_message: (event.get("tls_error").and_then(Value::as_object))
            .and_then(|error| text(error, "error_message"))
            .map(Cow::Owned),
        ..Shared::default()
    }
}

/// Writes the fields of `aws.network_firewall` at the end of `out`, each documented one by its
/// name and type, the others in `extra`.
fn write_fields(members: &Map<String, Value>, seconds: Option<i64>, out: &mut String) {
    let mut fields = FieldWriter::after_known_keys(std::mem::take(out));
    let mut extra = Map::new();
    for (name, value) in members {
        match name.as_str() {
            "event_timestamp" => {
                if let Some(seconds) = seconds {
                    push_timestamp(fields.raw_key("event_timestamp"), seconds * 1000);
                }
            }
            _ => write(&mut fields, &mut extra, name, value),
        }
    }
    if !extra.is_empty() {
        fields.raw_json("extra", &Value::Object(extra).to_string());
    }
    *out = fields.finish();
}

/// Writes one member by the type [`FIELDS`] gives its name; a member it does not name goes to
/// `extra`. `null` and AWS's `-` are left out.
fn write(fields: &mut FieldWriter, extra: &mut Map<String, Value>, name: &str, value: &Value) {
    let Some(&(key, kind)) = FIELDS.iter().find(|(key, _)| *key == name && *key != "extra") else {
        extra.insert(name.to_string(), value.clone());
        return;
    };
    match (kind, value) {
        (_, Value::Null) => {}
        (FieldType::Flat, Value::Object(_) | Value::Array(_)) => fields.raw_json(key, &value.to_string()),
        (FieldType::Long, Value::Number(number)) if number.is_i64() || number.is_u64() => {
            fields.raw_json(key, &number.to_string())
        }
        (FieldType::Boolean, Value::Bool(flag)) => fields.bool(key, *flag),
        (FieldType::Keyword, Value::String(text)) => fields.str(key, text),
        (FieldType::Keyword, Value::Number(number)) => fields.str(key, &number.to_string()),
        // A value of another type than documented: kept, where it cannot conflict.
        _ => {
            extra.insert(name.to_string(), value.clone());
        }
    }
}

/// A member's text: a string as it is (`-` and empty left out), a number as JSON writes it.
fn text(object: &Map<String, Value>, name: &str) -> Option<String> {
    match object.get(name)? {
        Value::String(text) if text.is_empty() || text == "-" => None,
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// A port, written as a number (alert and flow logs) or a string (TLS logs).
fn port(event: &Map<String, Value>, name: &'static str) -> Result<Option<u16>, RecordError> {
    let Some(text) = text(event, name) else {
        return Ok(None);
    };
    text.parse()
        .map(Some)
        .map_err(|_| RecordError::value(name, "a port number", &text))
}

/// A whole number written as a number or a string (`event_timestamp`).
fn number(value: &Value) -> Option<i64> {
    match value {
        Value::Number(number) => number.as_i64(),
        Value::String(text) => text.parse().ok(),
        _ => None,
    }
}

/// The region of an availability zone: the zone's name up to the number of its region
/// (`us-east-1b` → `us-east-1`, `us-gov-west-1a` → `us-gov-west-1`, a Local Zone's
/// `us-west-2-lax-1a` → `us-west-2`).
fn zone_region(zone: &str) -> Option<String> {
    let mut end = 0;
    for (i, word) in zone.split('-').enumerate() {
        let digits = word.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && i >= 2 {
            return Some(format!("{}{}", &zone[..end], &word[..digits]));
        }
        end += word.len() + 1;
    }
    None
}

/// Suricata's TLS version (`TLS 1.2`) as the logs ECS reads write it (`TLSv1.2`);
/// `UNDETERMINED` and the like, none.
fn tls_protocol(version: String) -> Option<String> {
    let (name, number) = version.split_once(' ')?;
    let known = name.eq_ignore_ascii_case("tls") || name.eq_ignore_ascii_case("ssl");
    (known && !number.is_empty()).then(|| format!("{name}v{number}"))
}

#[cfg(test)]
#[path = "network_firewall/tests.rs"]
mod tests;

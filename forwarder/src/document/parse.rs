//! What a log line says: Lambda platform lines, runtime lines, JSON, timeouts, the level.
//!
//! Formats, from <https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html>
//! and the runtimes' own output:
//! - `START RequestId: <id> Version: $LATEST`
//! - `END RequestId: <id>`
//! - `REPORT RequestId: <id>\tDuration: 2.39 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax
//!   Memory Used: 71 MB\tInit Duration: 380.28 ms\t` (SnapStart adds `Restore Duration`)
//! - Node.js and Java runtime lines `<timestamp>\t<requestId>\t<LEVEL>\t<message>`, Python
//!   `[LEVEL]\t<timestamp>\t<requestId>\t<message>`
//! - `<timestamp> <requestId> Task timed out after 30.03 seconds`
//! - Lambda's JSON log format: `{"timestamp":…,"level":"INFO","requestId":…}` and platform
//!   records `{"time":…,"type":"platform.report","record":{"requestId":…,"metrics":{…}}}`.
//!
//! Everything borrows from the message; a JSON body is located and validated, never turned into
//! a tree, so the document writer can copy it verbatim.

use std::borrow::Cow;
use std::ops::Range;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::json::shape::{JsonLimits, PastLimit, past_limit};

/// What a Lambda platform line reports.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Report {
    pub duration_ms: Option<f64>,
    pub billed_duration_ms: Option<f64>,
    pub memory_size_mb: Option<u64>,
    pub max_memory_used_mb: Option<u64>,
    pub init_duration_ms: Option<f64>,
    pub restore_duration_ms: Option<f64>,
}

/// A Lambda platform event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Platform<'a> {
    Start {
        version: Option<&'a str>,
    },
    End,
    Report(Report),
    /// `Task timed out after N seconds`.
    Timeout {
        seconds: Option<f64>,
    },
}

impl Platform<'_> {
    /// The `lambda.event` value of a document.
    pub fn name(&self) -> &'static str {
        match self {
            Platform::Start { .. } => "start",
            Platform::End => "end",
            Platform::Report(_) => "report",
            Platform::Timeout { .. } => "timeout",
        }
    }
}

/// What was recognised in one message.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parsed<'a> {
    /// Normalised: TRACE, DEBUG, INFO, WARN, ERROR or FATAL.
    pub level: Option<&'static str>,
    pub request_id: Option<Cow<'a, str>>,
    pub platform: Option<Platform<'a>>,
    /// Byte range of a valid JSON object in the message (the whole message, or the body after a
    /// runtime prefix).
    pub json: Option<Range<usize>>,
    /// The limit a JSON object in the message passed (`MAX_JSON_DEPTH`, `MAX_FIELDS`): it is
    /// not parsed into fields, and `json` is `None`.
    pub json_past_limit: Option<PastLimit>,
}

/// Parses one (already redacted) message, its JSON within the default limits.
pub fn parse(message: &str) -> Parsed<'_> {
    parse_within(message, JsonLimits::default())
}

/// Parses one (already redacted) message; a JSON body that passes `limits` stays text.
pub fn parse_within(message: &str, limits: JsonLimits) -> Parsed<'_> {
    let trimmed = message.trim_end();
    if let Some(parsed) = platform_line(trimmed) {
        return parsed;
    }
    let mut parsed = Parsed::default();
    let body_start = match runtime_prefix(trimmed) {
        Some((level, request_id, body_start)) => {
            parsed.level = level.and_then(normalise_level);
            parsed.request_id = Some(Cow::Borrowed(request_id));
            body_start
        }
        None => 0,
    };
    let body = &trimmed[body_start..];
    if body.ends_with('}')
        && let Some(open) = body.find('{')
    {
        let start = body_start + open;
        if let Some(past) = past_limit(&trimmed[start..], limits) {
            parsed.json_past_limit = Some(past);
            return parsed;
        }
        if let Ok(hints) = serde_json::from_str::<JsonHints<'_>>(&trimmed[start..]) {
            parsed.json = Some(start..trimmed.len());
            hints.apply(&mut parsed);
            return parsed;
        }
    }
    if parsed.request_id.is_none()
        && let Some(at) = trimmed.find("Task timed out after ")
    {
        let seconds = trimmed[at + 21..].split(' ').next().and_then(|s| s.parse().ok());
        parsed.platform = Some(Platform::Timeout { seconds });
        parsed.level = Some("ERROR");
        parsed.request_id = trimmed[..at]
            .split_whitespace()
            .find(|t| looks_like_request_id(t))
            .map(Cow::Borrowed);
    }
    parsed
}

/// Maps the level names and numbers loggers use onto TRACE, DEBUG, INFO, WARN, ERROR, FATAL.
pub(crate) fn normalise_level(level: &str) -> Option<&'static str> {
    let level = level.trim().trim_start_matches('[').trim_end_matches(']');
    if level.len() > 11 {
        return None;
    }
    let mut upper = [0u8; 11];
    for (slot, byte) in upper.iter_mut().zip(level.bytes()) {
        *slot = byte.to_ascii_uppercase();
    }
    Some(match &upper[..level.len()] {
        b"TRACE" | b"FINEST" | b"FINER" | b"10" => "TRACE",
        b"DEBUG" | b"DBG" | b"FINE" | b"20" => "DEBUG",
        b"INFO" | b"INFORMATION" | b"NOTICE" | b"30" => "INFO",
        b"WARN" | b"WARNING" | b"40" => "WARN",
        b"ERROR" | b"ERR" | b"SEVERE" | b"50" => "ERROR",
        b"FATAL" | b"CRITICAL" | b"CRIT" | b"ALERT" | b"EMERG" | b"EMERGENCY" | b"PANIC" | b"60" => "FATAL",
        _ => return None,
    })
}

fn platform_line(line: &str) -> Option<Parsed<'_>> {
    let (platform, rest) = if let Some(rest) = line.strip_prefix("START RequestId: ") {
        let (id, tail) = rest.split_once(' ').unwrap_or((rest, ""));
        let version = tail.strip_prefix("Version: ").map(str::trim);
        (Platform::Start { version }, id)
    } else if let Some(rest) = line.strip_prefix("END RequestId: ") {
        (Platform::End, rest)
    } else if let Some(rest) = line.strip_prefix("REPORT RequestId: ") {
        let mut report = Report::default();
        let mut fields = rest.split('\t');
        let id = fields.next().unwrap_or_default();
        for field in fields {
            let Some((name, value)) = field.split_once(": ") else {
                continue;
            };
            let number = value.split(' ').next().unwrap_or_default();
            match name.trim() {
                "Duration" => report.duration_ms = number.parse().ok(),
                "Billed Duration" => report.billed_duration_ms = number.parse().ok(),
                "Memory Size" => report.memory_size_mb = number.parse().ok(),
                "Max Memory Used" => report.max_memory_used_mb = number.parse().ok(),
                "Init Duration" => report.init_duration_ms = number.parse().ok(),
                "Restore Duration" => report.restore_duration_ms = number.parse().ok(),
                _ => {}
            }
        }
        (Platform::Report(report), id)
    } else {
        return None;
    };
    let id = rest.split(|c: char| c.is_whitespace()).next().unwrap_or_default();
    Some(Parsed {
        level: Some("INFO"),
        request_id: (!id.is_empty()).then_some(Cow::Borrowed(id)),
        platform: Some(platform),
        json: None,
        json_past_limit: None,
    })
}

/// `(level, request id, body offset)` of a runtime line, either
/// `<timestamp>\t<requestId>\t<LEVEL>\t<body>` (Node.js, Java) or
/// `[LEVEL]\t<timestamp>\t<requestId>\t<body>` (Python).
fn runtime_prefix(line: &str) -> Option<(Option<&str>, &str, usize)> {
    let first_tab = line.find('\t')?;
    let first = &line[..first_tab];
    let rest = &line[first_tab + 1..];
    let second_tab = rest.find('\t')?;
    let second = &rest[..second_tab];
    let after_second = first_tab + 1 + second_tab + 1;
    let third_end = line[after_second..].find('\t').map(|i| after_second + i);
    if first.starts_with('[') && first.ends_with(']') && looks_like_timestamp(second) {
        // Python: the request id is the third field.
        let end = third_end.unwrap_or(line.len());
        let id = &line[after_second..end];
        let body = (end + 1).min(line.len());
        return looks_like_request_id(id).then_some((Some(first), id, body));
    }
    if !looks_like_timestamp(first) || !looks_like_request_id(second) {
        return None;
    }
    match third_end {
        Some(end) if normalise_level(&line[after_second..end]).is_some() => {
            Some((Some(&line[after_second..end]), second, end + 1))
        }
        _ => Some((None, second, after_second)),
    }
}

fn looks_like_timestamp(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= 19 && bytes[..4].iter().all(u8::is_ascii_digit) && bytes[4] == b'-' && bytes[10] == b'T'
}

fn looks_like_request_id(text: &str) -> bool {
    (8..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// The fields of a JSON log line that say its level, request id or Lambda platform event. Every
/// other field is skipped (but still validated). A field given twice takes its last value, as
/// the document writer does ([`crate::json::push_json_unique`]), rather than making the line
/// plain text.
#[derive(Default)]
struct JsonHints<'a> {
    level: Option<&'a RawValue>,
    severity: Option<&'a RawValue>,
    levelname: Option<&'a RawValue>,
    log_level: Option<&'a RawValue>,
    request_id: Option<&'a RawValue>,
    request_id_snake: Option<&'a RawValue>,
    aws_request_id: Option<&'a RawValue>,
    kind: Option<&'a RawValue>,
    record: Option<&'a RawValue>,
}

/// The name of a member of a JSON log line, as [`JsonHints`] reads it.
#[derive(Deserialize)]
#[serde(field_identifier)]
enum Hint {
    #[serde(rename = "level")]
    Level,
    #[serde(rename = "severity")]
    Severity,
    #[serde(rename = "levelname")]
    Levelname,
    #[serde(rename = "logLevel")]
    LogLevel,
    #[serde(rename = "requestId")]
    RequestId,
    #[serde(rename = "request_id")]
    RequestIdSnake,
    #[serde(rename = "AWSRequestId")]
    AwsRequestId,
    #[serde(rename = "type")]
    Kind,
    #[serde(rename = "record")]
    Record,
    #[serde(other)]
    Other,
}

impl<'de> Deserialize<'de> for JsonHints<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HintsVisitor;

        impl<'de> serde::de::Visitor<'de> for HintsVisitor {
            type Value = JsonHints<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut hints = JsonHints::default();
                while let Some(hint) = map.next_key::<Hint>()? {
                    let slot = match hint {
                        Hint::Level => &mut hints.level,
                        Hint::Severity => &mut hints.severity,
                        Hint::Levelname => &mut hints.levelname,
                        Hint::LogLevel => &mut hints.log_level,
                        Hint::RequestId => &mut hints.request_id,
                        Hint::RequestIdSnake => &mut hints.request_id_snake,
                        Hint::AwsRequestId => &mut hints.aws_request_id,
                        Hint::Kind => &mut hints.kind,
                        Hint::Record => &mut hints.record,
                        Hint::Other => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                            continue;
                        }
                    };
                    *slot = Some(map.next_value()?);
                }
                Ok(hints)
            }
        }

        deserializer.deserialize_map(HintsVisitor)
    }
}

/// `record` of a Lambda JSON platform event.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlatformRecord<'a> {
    #[serde(borrow)]
    request_id: Option<Cow<'a, str>>,
    version: Option<&'a str>,
    metrics: Option<PlatformMetrics>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlatformMetrics {
    duration_ms: Option<f64>,
    billed_duration_ms: Option<f64>,
    #[serde(rename = "memorySizeMB")]
    memory_size_mb: Option<u64>,
    #[serde(rename = "maxMemoryUsedMB")]
    max_memory_used_mb: Option<u64>,
    init_duration_ms: Option<f64>,
    restore_duration_ms: Option<f64>,
}

fn raw_str<'a>(raw: Option<&'a RawValue>) -> Option<Cow<'a, str>> {
    let raw = raw?;
    match raw.get().as_bytes().first()? {
        b'"' => serde_json::from_str::<Cow<'a, str>>(raw.get()).ok(),
        b'0'..=b'9' => Some(Cow::Borrowed(raw.get())),
        _ => None,
    }
}

impl<'a> JsonHints<'a> {
    fn apply(self, parsed: &mut Parsed<'a>) {
        let level = [self.level, self.severity, self.levelname, self.log_level]
            .into_iter()
            .find_map(|raw| raw_str(raw).and_then(|l| normalise_level(&l)));
        parsed.level = level.or(parsed.level);
        if parsed.request_id.is_none() {
            parsed.request_id = [self.request_id, self.request_id_snake, self.aws_request_id]
                .into_iter()
                .find_map(raw_str);
        }
        let kind = raw_str(self.kind);
        let platform = kind.as_deref().and_then(|k| k.strip_prefix("platform."));
        let (Some(event), Some(record)) = (platform, self.record) else {
            return;
        };
        let Ok(record) = serde_json::from_str::<PlatformRecord<'a>>(record.get()) else {
            return;
        };
        parsed.platform = match event {
            "start" => Some(Platform::Start {
                version: record.version,
            }),
            "runtimeDone" | "end" => Some(Platform::End),
            "report" => {
                let m = record.metrics;
                Some(Platform::Report(Report {
                    duration_ms: m.as_ref().and_then(|m| m.duration_ms),
                    billed_duration_ms: m.as_ref().and_then(|m| m.billed_duration_ms),
                    memory_size_mb: m.as_ref().and_then(|m| m.memory_size_mb),
                    max_memory_used_mb: m.as_ref().and_then(|m| m.max_memory_used_mb),
                    init_duration_ms: m.as_ref().and_then(|m| m.init_duration_ms),
                    restore_duration_ms: m.as_ref().and_then(|m| m.restore_duration_ms),
                }))
            }
            _ => return,
        };
        parsed.level = parsed.level.or(Some("INFO"));
        if parsed.request_id.is_none() {
            parsed.request_id = record.request_id;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "8f507cfc-xmpl-4697-b07a-ac58fc914c95";
    const REQ: &str = "c0b7a9d4-51c4-4c5b-9d3e-2f1e8a6b7c01";

    #[test]
    fn platform_lines_of_the_lambda_documentation() {
        // The example of https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html
        // (its request id is not hexadecimal: platform lines take the id as written).
        let start_line = format!("START RequestId: {ID} Version: $LATEST\n");
        let start = parse(&start_line);
        assert_eq!(
            start.platform,
            Some(Platform::Start {
                version: Some("$LATEST")
            })
        );
        assert_eq!(start.request_id.as_deref(), Some(ID));
        assert_eq!(
            parse(&format!("END RequestId: {ID}\n")).platform,
            Some(Platform::End)
        );
        let report_line = format!(
            "REPORT RequestId: {ID}\tDuration: 2.39 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\t\
             Max Memory Used: 71 MB\tInit Duration: 380.28 ms\t\n"
        );
        let report = parse(&report_line);
        assert_eq!(report.request_id.as_deref(), Some(ID));
        assert_eq!(
            report.platform,
            Some(Platform::Report(Report {
                duration_ms: Some(2.39),
                billed_duration_ms: Some(3.0),
                memory_size_mb: Some(128),
                max_memory_used_mb: Some(71),
                init_duration_ms: Some(380.28),
                restore_duration_ms: None,
            }))
        );
    }

    #[test]
    fn node_runtime_line_with_json_body() {
        let line =
            format!("2026-11-22T00:00:01.000Z\t{REQ}\tWARN\t{{\"title\":\"x\",\"level\":\"warning\"}}\n");
        let parsed = parse(&line);
        assert_eq!(parsed.request_id.as_deref(), Some(REQ));
        assert_eq!(parsed.level, Some("WARN"));
        let json = parsed.json.expect("json body");
        assert_eq!(&line[json], r#"{"title":"x","level":"warning"}"#);
    }

    #[test]
    fn node_invoke_error_line() {
        let line = format!(
            "2026-11-22T00:00:01.000Z\t{REQ}\tERROR\tInvoke Error \t{{\"errorType\":\"TypeError\",\"errorMessage\":\"boom\"}}\n"
        );
        let parsed = parse(&line);
        assert_eq!(parsed.level, Some("ERROR"));
        assert!(line[parsed.json.expect("json after the prefix")].starts_with("{\"errorType\""));
    }

    #[test]
    fn python_runtime_line() {
        let parsed_line = format!("[ERROR]\t2026-11-22T00:00:01.000Z\t{REQ}\tsomething failed\n");
        let parsed = parse(&parsed_line);
        assert_eq!(parsed.level, Some("ERROR"));
        assert_eq!(parsed.request_id.as_deref(), Some(REQ));
        assert_eq!(parsed.json, None);
    }

    #[test]
    fn plain_runtime_line_has_no_json() {
        let parsed_line = format!("2026-11-22T00:00:01.000Z\t{REQ}\tINFO\tcache miss for key {{user}}\n");
        let parsed = parse(&parsed_line);
        assert_eq!(parsed.level, Some("INFO"));
        assert_eq!(parsed.json, None);
    }

    #[test]
    fn whole_message_json_with_level_and_request_id() {
        let line = format!(r#"{{"level":"err","message":"m","requestId":"{REQ}","user":{{"id":1}}}}"#);
        let parsed = parse(&line);
        assert_eq!(parsed.level, Some("ERROR"));
        assert_eq!(parsed.request_id.as_deref(), Some(REQ));
        assert_eq!(parsed.json, Some(0..line.len()));
        // pino's numeric levels.
        assert_eq!(parse(r#"{"level":50,"msg":"x"}"#).level, Some("ERROR"));
    }

    #[test]
    fn invalid_json_is_plain_text() {
        assert_eq!(parse(r#"{"level":"INFO", oops}"#).json, None);
        assert_eq!(parse(r#"{"a":1,"a":2}"#).json.map(|_| ()), Some(()));
    }

    /// A repeated key is JSON all the same; the last value is the one read.
    #[test]
    fn a_repeated_hint_takes_its_last_value() {
        let line = r#"{"level":"debug","msg":"m","level":"error"}"#;
        let parsed = parse(line);
        assert_eq!(parsed.json, Some(0..line.len()));
        assert_eq!(parsed.level, Some("ERROR"));
    }

    #[test]
    fn lambda_json_platform_report() {
        // Lambda's JSON log format: https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html
        let line = format!(
            r#"{{"time":"2026-11-22T00:00:01.000Z","type":"platform.report","record":{{"requestId":"{REQ}","metrics":{{"durationMs":2.5,"billedDurationMs":3,"memorySizeMB":128,"maxMemoryUsedMB":64,"initDurationMs":100.5}},"status":"success"}}}}"#
        );
        let parsed = parse(&line);
        assert_eq!(parsed.request_id.as_deref(), Some(REQ));
        let Some(Platform::Report(report)) = parsed.platform else {
            panic!("{parsed:?}")
        };
        assert_eq!(report.duration_ms, Some(2.5));
        assert_eq!(report.max_memory_used_mb, Some(64));
        assert_eq!(report.init_duration_ms, Some(100.5));
    }

    #[test]
    fn timeout_line() {
        let parsed_line = format!("2026-11-22T00:00:30.030Z {REQ} Task timed out after 30.03 seconds\n");
        let parsed = parse(&parsed_line);
        assert_eq!(parsed.level, Some("ERROR"));
        assert_eq!(parsed.platform, Some(Platform::Timeout { seconds: Some(30.03) }));
        assert_eq!(parsed.request_id.as_deref(), Some(REQ));
    }

    #[test]
    fn levels_are_normalised() {
        for (raw, want) in [
            ("WARNING", Some("WARN")),
            ("warn", Some("WARN")),
            ("err", Some("ERROR")),
            ("[INFO]", Some("INFO")),
            ("critical", Some("FATAL")),
            ("Debug", Some("DEBUG")),
            ("chatty", None),
            ("", None),
        ] {
            assert_eq!(normalise_level(raw), want, "{raw}");
        }
    }
}

//! Which format an object is in: a rule of `S3_FORMATS` on its key, else AWS's own key layout,
//! else its first bytes once decompressed. An object nothing recognises is read as text lines,
//! so nothing is dropped.

use std::fmt;
use std::str::FromStr;

use regex::Regex;
use serde_json::Value;

/// The formats of objects the forwarder reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// CloudWatch Logs subscription payloads written back to back by Firehose
    /// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html#FirehoseExample>).
    CloudwatchFirehose,
    /// CloudTrail log files, `{"Records":[…]}`
    /// (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html>).
    Cloudtrail,
    /// One JSON object per line.
    JsonLines,
    /// One log line per line.
    TextLines,
}

impl Format {
    pub const ALL: [Format; 4] = [
        Format::CloudwatchFirehose,
        Format::Cloudtrail,
        Format::JsonLines,
        Format::TextLines,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::CloudwatchFirehose => "cloudwatch-firehose",
            Format::Cloudtrail => "cloudtrail",
            Format::JsonLines => "json-lines",
            Format::TextLines => "text-lines",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(text: &str) -> Result<Format, String> {
        Format::ALL
            .into_iter()
            .find(|format| format.name() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = Format::ALL.iter().map(|format| format.name()).collect();
                format!("unknown format {text:?}, expected one of {}", names.join(", "))
            })
    }
}

/// How objects are read: the settings `S3_FORMATS`, `S3_KEY_REGEX` and `S3_TIMESTAMP_FIELDS`.
#[derive(Debug, Clone)]
pub struct S3Options {
    /// Key globs and the format of the keys they match, first match wins.
    pub rules: Vec<(glob::Pattern, Format)>,
    /// Named captures become document fields.
    pub key_regex: Option<Regex>,
    /// JSON fields (dotted paths) that may hold a JSON line's time, first found wins.
    pub timestamp_fields: Vec<Vec<String>>,
}

impl Default for S3Options {
    fn default() -> Self {
        S3Options {
            rules: Vec::new(),
            key_regex: None,
            timestamp_fields: DEFAULT_TIMESTAMP_FIELDS
                .iter()
                .map(|field| vec![field.to_string()])
                .collect(),
        }
    }
}

/// The fields a JSON line's time is looked for in when `S3_TIMESTAMP_FIELDS` is unset.
pub const DEFAULT_TIMESTAMP_FIELDS: &[&str] = &["@timestamp", "timestamp", "time"];

/// A bad rule of `S3_FORMATS`.
#[derive(Debug, thiserror::Error)]
#[error("rule {rule:?}: {reason}")]
pub struct RuleError {
    pub rule: String,
    pub reason: String,
}

/// Parses `GLOB=FORMAT,GLOB=FORMAT`.
pub fn parse_rules(text: &str) -> Result<Vec<(glob::Pattern, Format)>, RuleError> {
    let mut rules = Vec::new();
    for rule in text.split(',').map(str::trim).filter(|rule| !rule.is_empty()) {
        let error = |reason: String| RuleError {
            rule: rule.to_string(),
            reason,
        };
        let (pattern, format) = rule
            .rsplit_once('=')
            .ok_or_else(|| error("expected GLOB=FORMAT".to_string()))?;
        let pattern = glob::Pattern::new(pattern.trim()).map_err(|err| error(err.to_string()))?;
        rules.push((pattern, format.trim().parse().map_err(error)?));
    }
    Ok(rules)
}

impl S3Options {
    /// The format a rule or the key layout gives the key, if any.
    pub fn format_of_key(&self, key: &str) -> Option<Format> {
        let options = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: false,
            require_literal_leading_dot: false,
        };
        if let Some((_, format)) = self
            .rules
            .iter()
            .find(|(pattern, _)| pattern.matches_with(key, options))
        {
            return Some(*format);
        }
        is_cloudtrail_key(key).then_some(Format::Cloudtrail)
    }

    /// The named captures of `S3_KEY_REGEX` on `key`, in the regex's order.
    pub fn key_fields(&self, key: &str) -> Vec<(String, String)> {
        let Some(regex) = &self.key_regex else {
            return Vec::new();
        };
        let Some(captures) = regex.captures(key) else {
            return Vec::new();
        };
        regex
            .capture_names()
            .flatten()
            .filter_map(|name| Some((name.to_string(), captures.name(name)?.as_str().to_string())))
            .collect()
    }

    /// The time a JSON line holds in one of the timestamp fields, in milliseconds.
    pub fn json_line_time(&self, line: &str) -> Option<i64> {
        if self.timestamp_fields.is_empty() || !line.trim_start().starts_with('{') {
            return None;
        }
        let value: Value = serde_json::from_str(line).ok()?;
        self.timestamp_fields.iter().find_map(|path| {
            let field = path.iter().try_fold(&value, |value, part| value.get(part))?;
            time_of(field)
        })
    }
}

/// CloudTrail's own layout: `[prefix/]AWSLogs/[o-org/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/…`
/// (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html>).
fn is_cloudtrail_key(key: &str) -> bool {
    let parts: Vec<&str> = key.split('/').collect();
    parts
        .windows(3)
        .any(|window| window[0] == "AWSLogs" && is_account(window[1]) && window[2] == "CloudTrail")
        || parts.windows(4).any(|window| {
            window[0] == "AWSLogs"
                && window[1].starts_with("o-")
                && is_account(window[2])
                && window[3] == "CloudTrail"
        })
}

fn is_account(part: &str) -> bool {
    part.len() == 12 && part.bytes().all(|byte| byte.is_ascii_digit())
}

/// The format the first decompressed bytes of an object show: a CloudWatch Logs payload, a
/// CloudTrail file, JSON lines, else text lines.
pub fn format_of_content(head: &[u8]) -> Format {
    let text = String::from_utf8_lossy(head);
    let start = text.trim_start();
    if start.starts_with('{') {
        let compact: String = start.chars().take(256).filter(|c| !c.is_whitespace()).collect();
        if compact.starts_with("{\"Records\":[") {
            return Format::Cloudtrail;
        }
        if text.contains("\"messageType\"") && text.contains("\"logGroup\"") {
            return Format::CloudwatchFirehose;
        }
        return Format::JsonLines;
    }
    Format::TextLines
}

/// A time as JSON holds it: RFC 3339 text, or a number of seconds, milliseconds, microseconds
/// or nanoseconds since the epoch (told apart by size).
pub fn time_of(value: &Value) -> Option<i64> {
    match value {
        Value::String(text) => rfc3339_ms(text).or_else(|| text.parse::<f64>().ok().and_then(epoch_ms)),
        Value::Number(number) => number.as_f64().and_then(epoch_ms),
        _ => None,
    }
}

/// RFC 3339 text (`2026-11-29T10:00:00.123Z`, or with a space for `T`) in milliseconds.
pub fn rfc3339_ms(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.len() < 20 || !text.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|time| time.timestamp_millis())
}

fn epoch_ms(number: f64) -> Option<i64> {
    let ms = match number.abs() {
        n if n < 1e11 => number * 1e3,
        n if n < 1e14 => number,
        n if n < 1e17 => number / 1e3,
        _ => number / 1e6,
    };
    ms.is_finite().then_some(ms as i64)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn rules_come_first_then_the_cloudtrail_layout() {
        let options = S3Options {
            rules: parse_rules("apps/*/json/*=json-lines, legacy/**=text-lines").unwrap(),
            ..S3Options::default()
        };
        assert_eq!(options.format_of_key("apps/a/json/x.gz"), Some(Format::JsonLines));
        assert_eq!(options.format_of_key("legacy/2026/x"), Some(Format::TextLines));
        let trail = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/29/123456789012_CloudTrail_us-east-1_20261129T0000Z_abc.json.gz";
        assert_eq!(options.format_of_key(trail), Some(Format::Cloudtrail));
        let org = "prefix/AWSLogs/o-exampleorgid/111122223333/CloudTrail/us-east-1/2026/11/29/x.json.gz";
        assert_eq!(options.format_of_key(org), Some(Format::Cloudtrail));
        assert_eq!(
            options.format_of_key("AWSLogs/123456789012/CloudTrail-Digest/us-east-1/x.json.gz"),
            None
        );
        assert_eq!(options.format_of_key("firehose/2026/11/29/x"), None);
    }

    #[test]
    fn bad_rules_name_the_rule_and_the_reason() {
        let err = parse_rules("a/*=yaml").unwrap_err();
        assert!(
            err.to_string().contains("a/*=yaml") && err.to_string().contains("json-lines"),
            "{err}"
        );
        assert!(
            parse_rules("no-format")
                .unwrap_err()
                .to_string()
                .contains("GLOB=FORMAT")
        );
        assert!(parse_rules("[=text-lines").is_err());
    }

    #[test]
    fn content_tells_the_formats_apart() {
        assert_eq!(
            format_of_content(br#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"/a","#),
            Format::CloudwatchFirehose
        );
        assert_eq!(
            format_of_content(b"\n{ \"Records\" : [ {\"eventVersion\""),
            Format::Cloudtrail
        );
        assert_eq!(format_of_content(b"{\"level\":\"info\"}\n"), Format::JsonLines);
        assert_eq!(format_of_content(b"2026-11-29 hello\n"), Format::TextLines);
        assert_eq!(format_of_content(b""), Format::TextLines);
    }

    #[test]
    fn key_fields_are_the_named_captures() {
        let options = S3Options {
            key_regex: Some(Regex::new(r"^(?P<environment>[^-]+)-(?P<application>[^/]+)/").unwrap()),
            ..S3Options::default()
        };
        assert_eq!(
            options.key_fields("prod-billing/2026/x.log"),
            [
                ("environment".to_string(), "prod".to_string()),
                ("application".to_string(), "billing".to_string())
            ]
        );
        assert!(options.key_fields("nodash/x").is_empty());
    }

    #[test]
    fn json_lines_take_their_time_from_the_first_field_found() {
        let options = S3Options {
            timestamp_fields: vec![vec!["meta".into(), "at".into()], vec!["time".into()]],
            ..S3Options::default()
        };
        assert_eq!(
            options.json_line_time(r#"{"time":"2026-11-29T10:00:00Z","meta":{"at":1795946400}}"#),
            Some(1_795_946_400_000)
        );
        assert_eq!(
            options.json_line_time(r#"{"time":"2026-11-29T10:00:00.250+01:00"}"#),
            Some(1_795_942_800_250)
        );
        assert_eq!(options.json_line_time(r#"{"other":1}"#), None);
        assert_eq!(options.json_line_time("plain text"), None);
    }

    #[test]
    fn epoch_numbers_are_told_apart_by_size() {
        let ms = 1_795_946_400_000_i64;
        for value in [
            json!(1_795_946_400),
            json!(1_795_946_400_000_i64),
            json!(1_795_946_400_000_000_i64),
            json!(1_795_946_400_000_000_000_i64),
            json!("1795946400"),
        ] {
            assert_eq!(time_of(&value), Some(ms), "{value}");
        }
        assert_eq!(time_of(&json!("yesterday")), None);
    }
}

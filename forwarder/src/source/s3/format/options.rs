//! How objects are read: the settings `S3_FORMATS`, `S3_KEY_REGEX` and `S3_TIMESTAMP_FIELDS`.

use regex::Regex;

use super::Format;
use crate::limits::Limits;

/// How objects are read: `S3_FORMATS`, `S3_KEY_REGEX` and `S3_TIMESTAMP_FIELDS`.
#[derive(Debug, Clone)]
pub struct S3Options {
    /// Key globs and the format of the keys they match, first match wins.
    pub rules: Vec<(glob::Pattern, Format)>,
    /// Named captures become document fields.
    pub key_regex: Option<Regex>,
    /// JSON fields (dotted paths) that may hold a JSON line's time, first found wins.
    pub timestamp_fields: Vec<Vec<String>>,
    /// How long a record, how large a payload, how far an object's expansion may go
    /// (`MAX_RECORD_BYTES`, `MAX_PAYLOAD_BYTES`, `MAX_OBJECT_EXPANSION`).
    pub limits: Limits,
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
            limits: Limits::default(),
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
        let format = format.trim().parse::<Format>();
        rules.push((pattern, format.map_err(|err| error(err.to_string()))?));
    }
    Ok(rules)
}

impl S3Options {
    /// The format a rule or the key layout gives the key, if any.
    pub(crate) fn format_of_key(&self, key: &str) -> Option<Format> {
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
        Format::of_key(key)
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
        super::json_lines::line_time(line, &self.timestamp_fields)
    }
}

#[cfg(test)]
mod tests {
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
        // Issue 28, item 8: digest files are known by their layout (and skipped, see
        // `cloudtrail_digest`); another file under that folder is not one.
        let digest = "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/29/123456789012_CloudTrail-Digest_us-east-1_main_us-east-1_20261129T100512Z.json.gz";
        assert_eq!(options.format_of_key(digest), Some(Format::CloudtrailDigest));
        assert_eq!(
            options.format_of_key("AWSLogs/123456789012/CloudTrail-Digest/us-east-1/x.json.gz"),
            None
        );
        let indexed = S3Options {
            rules: parse_rules("*/CloudTrail-Digest/*=json-lines").unwrap(),
            ..S3Options::default()
        };
        assert_eq!(indexed.format_of_key(digest), Some(Format::JsonLines));
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
}

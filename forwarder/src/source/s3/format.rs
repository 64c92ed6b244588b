//! Which format an object is in: a rule of `S3_FORMATS` on its key, else AWS's own key layout,
//! else its first bytes once decompressed. An object nothing recognises is read as text lines,
//! so nothing is dropped.

use std::fmt;
use std::str::FromStr;

use regex::Regex;
use serde_json::Value;

use crate::civil::{days_from_civil, days_in_month};

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
    /// Application Load Balancer access logs.
    Alb,
    /// Application Load Balancer connection logs.
    AlbConnection,
    /// Network Load Balancer access logs (TLS listeners).
    Nlb,
    /// Classic Load Balancer access logs.
    Elb,
    /// CloudFront standard logs.
    Cloudfront,
    /// AWS WAF logs.
    Waf,
    /// S3 server access logs.
    S3Access,
    /// VPC flow logs.
    VpcFlow,
}

impl Format {
    pub const ALL: [Format; 12] = [
        Format::CloudwatchFirehose,
        Format::Cloudtrail,
        Format::JsonLines,
        Format::TextLines,
        Format::Alb,
        Format::AlbConnection,
        Format::Nlb,
        Format::Elb,
        Format::Cloudfront,
        Format::Waf,
        Format::S3Access,
        Format::VpcFlow,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::CloudwatchFirehose => "cloudwatch-firehose",
            Format::Cloudtrail => "cloudtrail",
            Format::JsonLines => "json-lines",
            Format::TextLines => "text-lines",
            Format::Alb => "alb",
            Format::AlbConnection => "alb-connection",
            Format::Nlb => "nlb",
            Format::Elb => "elb",
            Format::Cloudfront => "cloudfront",
            Format::Waf => "waf",
            Format::S3Access => "s3-access",
            Format::VpcFlow => "vpc-flow",
        }
    }

    /// Whether the format is read a line at a time (every format but Firehose's payloads and
    /// CloudTrail's `{"Records":[…]}`).
    pub fn is_lines(self) -> bool {
        !matches!(self, Format::CloudwatchFirehose | Format::Cloudtrail)
    }

    /// The object of a record's document that holds the format's typed fields (`alb`,
    /// `vpc_flow`, …); `None` for the formats without typed fields.
    pub fn field(self) -> Option<&'static str> {
        Some(match self {
            Format::Alb => "alb",
            Format::AlbConnection => "alb_connection",
            Format::Nlb => "nlb",
            Format::Elb => "elb",
            Format::Cloudfront => "cloudfront",
            Format::Waf => "waf",
            Format::S3Access => "s3_access",
            Format::VpcFlow => "vpc_flow",
            Format::CloudwatchFirehose | Format::Cloudtrail | Format::JsonLines | Format::TextLines => {
                return None;
            }
        })
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
        format_of_layout(key)
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

/// The format AWS's own key layouts say, under `[prefix/]AWSLogs/[o-org/]ACCOUNT/SERVICE/…`:
/// - CloudTrail: `…/CloudTrail/REGION/YYYY/MM/DD/…`
///   (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html>);
/// - load balancers: `…/elasticloadbalancing/REGION/YYYY/MM/DD/FILE`, the file telling which:
///   `…_app.NAME_…` an ALB, `conn_log_…_app.NAME_…` (or `conn_log.…`) its connection log, `…_net.NAME_…` an NLB,
///   anything else a Classic Load Balancer
///   (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html>,
///   <https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-access-logs.html>,
///   <https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/access-log-collection.html>);
/// - WAF: `…/WAFLogs/REGION/WEBACL/…`
///   (<https://docs.aws.amazon.com/waf/latest/developerguide/logging-s3.html>);
/// - VPC flow logs: `…/vpcflowlogs/REGION/…`
///   (<https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-path.html>);
///
/// and CloudFront's file names `DISTRIBUTION.YYYY-MM-DD-HH.UNIQUE.gz`
/// (<https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logging-legacy-s3.html>).
pub fn format_of_layout(key: &str) -> Option<Format> {
    let parts: Vec<&str> = key.split('/').collect();
    let file = parts.last().copied().unwrap_or_default();
    let service = parts.iter().enumerate().find_map(|(i, part)| {
        if *part != "AWSLogs" {
            return None;
        }
        let mut rest = parts[i + 1..].iter();
        let mut account = rest.next()?;
        if account.starts_with("o-") {
            account = rest.next()?;
        }
        is_account(account).then(|| rest.next().copied()).flatten()
    });
    match service {
        Some("CloudTrail") => return Some(Format::Cloudtrail),
        Some("elasticloadbalancing") => {
            return Some(if is_connection_log(file) {
                Format::AlbConnection
            } else if file.contains("_app.") {
                Format::Alb
            } else if file.contains("_net.") {
                Format::Nlb
            } else {
                Format::Elb
            });
        }
        Some("WAFLogs") => return Some(Format::Waf),
        Some("vpcflowlogs") => return Some(Format::VpcFlow),
        _ => {}
    }
    is_cloudfront_file(file).then_some(Format::Cloudfront)
}

/// An ALB connection log's file: `conn_log_ACCOUNT_…` as the files are named (with an
/// underscore), or `conn_log.ACCOUNT_…` as AWS's page spells it.
fn is_connection_log(file: &str) -> bool {
    file.starts_with("conn_log_") || file.starts_with("conn_log.")
}

/// `E2EXAMPLE12345.2026-11-29-10.a1b2c3d4.gz`: a distribution id (upper-case letters and
/// digits), the hour, a unique id.
fn is_cloudfront_file(file: &str) -> bool {
    let mut parts = file.split('.');
    let (Some(distribution), Some(hour), Some(unique), Some("gz"), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    distribution.len() >= 8
        && distribution
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && hour.len() == 13
        && hour.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 | 10 => b == b'-',
            _ => b.is_ascii_digit(),
        })
        && !unique.is_empty()
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
    utc_ms(text.as_bytes()).or_else(|| {
        chrono::DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|time| time.timestamp_millis())
    })
}

/// The shape nearly every AWS log writes its times in, `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, read
/// without chrono's general parser (it runs twice on every ALB line). `None` for any other shape
/// or an impossible date, which [`rfc3339_ms`] then hands to chrono, so both read a time alike.
fn utc_ms(text: &[u8]) -> Option<i64> {
    let (head, rest) = text.split_first_chunk::<19>()?;
    let number = |range: std::ops::Range<usize>| {
        head[range].iter().try_fold(0u32, |value, &byte| {
            byte.is_ascii_digit().then(|| value * 10 + u32::from(byte - b'0'))
        })
    };
    let punctuated = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')]
        .iter()
        .all(|&(at, byte)| head[at] == byte);
    if !punctuated {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let millis = match rest {
        [b'Z'] => 0,
        [b'.', fraction @ .., b'Z'] if (1..=9).contains(&fraction.len()) => {
            let mut millis = 0;
            for (i, &byte) in fraction.iter().enumerate() {
                if !byte.is_ascii_digit() {
                    return None;
                }
                if i < 3 {
                    millis = millis * 10 + u32::from(byte - b'0');
                }
            }
            millis * 10u32.pow(3u32.saturating_sub(fraction.len() as u32))
        }
        _ => return None,
    };
    let days = days_from_civil(i64::from(year), month, day);
    let seconds = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    Some(seconds * 1000 + i64::from(millis))
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

    /// The fast reading of `…Z` times gives what chrono gives, on every day from 1969 to 2101
    /// (leap days, month ends, century years) and fractions of every length it takes.
    #[test]
    fn utc_times_read_as_chrono_reads_them() {
        use chrono::Datelike as _;
        let chrono_ms = |text: &str| {
            chrono::DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|time| time.timestamp_millis())
        };
        let mut day = chrono::NaiveDate::from_ymd_opt(1969, 12, 30).unwrap();
        let mut checked = 0;
        while day.year() < 2102 {
            let fraction = ["", ".1", ".18", ".186", ".1866", ".186641", ".186641123"][checked % 7];
            let seconds = (checked * 7919) % 86_400;
            let text = format!(
                "{day}T{:02}:{:02}:{:02}{fraction}Z",
                seconds / 3600,
                seconds / 60 % 60,
                seconds % 60
            );
            assert_eq!(utc_ms(text.as_bytes()), chrono_ms(&text), "{text}");
            assert!(utc_ms(text.as_bytes()).is_some(), "{text}");
            day = day.succ_opt().unwrap();
            checked += 1;
        }
        // What the fast path leaves to chrono: impossible dates, other shapes, offsets.
        for text in [
            "2025-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-29T24:00:00Z",
            "2016-12-31T23:59:60Z",
            "2026-11-29T10:00:00.Z",
            "2026-11-29T10:00:00.1234567890Z",
            "2026-11-29t10:00:00Z",
            "2026-11-29 10:00:00Z",
            "2026-11-29T10:00:00+01:00",
            "2026-11-29T10:00:00",
            "2026-11-29T1a:00:00Z",
        ] {
            assert_eq!(utc_ms(text.as_bytes()), None, "{text}");
        }
        assert_eq!(rfc3339_ms("2026-11-29T10:00:00+01:00"), Some(1_795_942_800_000));
        assert_eq!(rfc3339_ms("2026-11-29 10:00:00.5Z"), Some(1_795_946_400_500));
        assert_eq!(rfc3339_ms("2026-02-30T10:00:00Z"), None);
    }

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
    fn aws_key_layouts_name_the_access_log_formats() {
        // Key layouts from the pages cited on `format_of_layout`.
        let layout = |key: &str| format_of_layout(key);
        let elb = "logs/AWSLogs/123456789012/elasticloadbalancing/us-east-2/2026/11/29";
        assert_eq!(
            layout(&format!(
                "{elb}/123456789012_elasticloadbalancing_us-east-2_app.my-alb.1234567890abcdef_20261129T0005Z_198.51.100.1_1abc.log.gz"
            )),
            Some(Format::Alb)
        );
        assert_eq!(
            layout(&format!(
                "{elb}/conn_log.123456789012_elasticloadbalancing_us-east-2_app.my-alb.1234567890abcdef_20261129T0005Z_198.51.100.1_1abc.log.gz"
            )),
            Some(Format::AlbConnection)
        );
        assert_eq!(
            layout(&format!(
                "{elb}/123456789012_elasticloadbalancing_us-east-2_net.my-nlb.1234567890abcdef_20261129T0005Z_5d2e.log.gz"
            )),
            Some(Format::Nlb)
        );
        assert_eq!(
            layout(&format!(
                "{elb}/123456789012_elasticloadbalancing_us-east-2_my-loadbalancer_20261129T0005Z_172.160.001.192_20sg8hgm.log"
            )),
            Some(Format::Elb)
        );
        assert_eq!(
            layout(
                "AWSLogs/123456789012/WAFLogs/us-east-1/my-acl/2026/11/29/10/05/123456789012_waflogs_us-east-1_my-acl_20261129T1005Z_a1b2.log.gz"
            ),
            Some(Format::Waf)
        );
        assert_eq!(
            layout(
                "AWSLogs/o-abc123/123456789012/vpcflowlogs/us-east-1/2026/11/29/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20261129T1005Z_a1b2.log.gz"
            ),
            Some(Format::VpcFlow)
        );
        assert_eq!(
            layout("cf/E2EXAMPLE12345.2026-11-29-10.a1b2c3d4.gz"),
            Some(Format::Cloudfront)
        );
        assert_eq!(layout("cf/e2example.2026-11-29-10.a1b2c3d4.gz"), None);
        assert_eq!(layout("access/2026-11-29-10-05-12-ABCDEF0123456789"), None);
    }

    /// AWS's page on connection logs
    /// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-connection-logging.html>)
    /// spells the file `conn_log.ACCOUNT_…`, but the files it writes are `conn_log_ACCOUNT_…`:
    /// both are connection logs, and neither is an access log.
    #[test]
    fn alb_connection_logs_are_known_by_either_key_shape() {
        let elb = "AWSLogs/123456789012/elasticloadbalancing/us-east-2/2026/11/29";
        let file = "123456789012_elasticloadbalancing_us-east-2_app.my-alb.1234567890abcdef_20261129T0005Z_198.51.100.1_1abc.log.gz";
        for separator in ['_', '.'] {
            let key = format!("{elb}/conn_log{separator}{file}");
            assert_eq!(format_of_layout(&key), Some(Format::AlbConnection), "{key}");
        }
        assert_eq!(format_of_layout(&format!("{elb}/{file}")), Some(Format::Alb));
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

//! Every forwarder setting, read in two stages: [`RawConfig`], the strings from the environment
//! (Lambda, or a lookup function) or from flags with the same names (CLI), then validated into
//! [`Config`].
//!
//! Tests build a config from a map instead of touching the process environment.

use std::time::Duration;

use reqwest::Url;

use crate::document::index::{Granularity, IndexMode, IndexNaming, parse_rules, validate_index_name};
use crate::document::redact::Redactor;
use crate::document::{
    DocumentFormat, DocumentOptions, IdMode, JsonMode, MessageFilter, Multiline, ObjectIndices,
};
use crate::opensearch::SinkConfig;
use crate::opensearch::auth::{AuthMode, BasicSource, SigningService};
use crate::opensearch::deliver::RetryConfig;
use crate::source::s3::format::{self, Format, S3Options};
use crate::source::tags::TagSettings;

/// The settings as strings, before validation: each field is an environment variable (Lambda) and
/// a flag of the same name in lower-kebab-case (CLI, the flag winning), in the order the
/// documentation lists them.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RawConfig {
    #[arg(
        long,
        env = "OPENSEARCH_ENDPOINT",
        help = "OpenSearch URL (required unless --dry-run)"
    )]
    pub opensearch_endpoint: Option<String>,
    #[arg(long, env = "OPENSEARCH_AUTH", help = "sigv4 (default) | basic | none")]
    pub opensearch_auth: Option<String>,
    #[arg(
        long,
        env = "OPENSEARCH_SERVICE",
        help = "es | aoss (default: aoss for *.aoss.amazonaws.com)"
    )]
    pub opensearch_service: Option<String>,
    #[arg(
        long,
        env = "OPENSEARCH_REGION",
        help = "signing region (default: AWS_REGION)"
    )]
    pub opensearch_region: Option<String>,
    #[arg(
        long,
        env = "OPENSEARCH_SECRET_ID",
        help = "Secrets Manager secret {\"username\",\"password\"} for basic auth"
    )]
    pub opensearch_secret_id: Option<String>,
    #[arg(
        long,
        env = "OPENSEARCH_SSM_PARAMETER",
        help = "SSM SecureString username:password for basic auth"
    )]
    pub opensearch_ssm_parameter: Option<String>,
    #[arg(long, env = "INDEX_PREFIX", help = "index name prefix (default cwl)")]
    pub index_prefix: Option<String>,
    #[arg(long, env = "INDEX_GRANULARITY", help = "hour | day (default) | month")]
    pub index_granularity: Option<String>,
    #[arg(
        long,
        env = "INDEX_LOG_GROUP",
        help = "true | false (default): add a log-group segment to index names"
    )]
    pub index_log_group: Option<String>,
    #[arg(
        long,
        env = "INDEX_RULES",
        help = "LOG_GROUP_GLOB=PREFIX,…: the first rule whose glob matches a log group names its \
                index prefix (default: INDEX_PREFIX)"
    )]
    pub index_rules: Option<String>,
    #[arg(
        long,
        env = "INDEX_MODE",
        help = "index (default): dated indices | data-stream: one data stream per prefix"
    )]
    pub index_mode: Option<String>,
    #[arg(
        long,
        env = "DEAD_LETTER_INDEX",
        help = "index for rejected documents (default <prefix>-dead-letter)"
    )]
    pub dead_letter_index: Option<String>,
    #[arg(long, env = "DOCUMENT_ID", help = "event (default) | none")]
    pub document_id: Option<String>,
    #[arg(long, env = "DOCUMENT_FORMAT", help = "sluice (default) | blueprint")]
    pub document_format: Option<String>,
    #[arg(long, env = "JSON_MODE", help = "field (default) | root | off")]
    pub json_mode: Option<String>,
    #[arg(
        long,
        env = "JSON_FIELD",
        help = "field that holds parsed JSON (default json)"
    )]
    pub json_field: Option<String>,
    #[arg(
        long,
        env = "MULTILINE",
        help = "auto (default): a stack trace's events make one document | off"
    )]
    pub multiline: Option<String>,
    #[arg(long, env = "REDACT_BUILTIN", help = "true (default) | false")]
    pub redact_builtin: Option<String>,
    #[arg(long, env = "REDACT_PATTERNS", help = "JSON array of extra regexes to redact")]
    pub redact_patterns: Option<String>,
    #[arg(
        long,
        env = "INCLUDE_MESSAGE_PATTERNS",
        help = "JSON array of regexes: keep only matching messages"
    )]
    pub include_message_patterns: Option<String>,
    #[arg(
        long,
        env = "EXCLUDE_MESSAGE_PATTERNS",
        help = "JSON array of regexes: drop matching messages"
    )]
    pub exclude_message_patterns: Option<String>,
    #[arg(
        long,
        env = "BULK_MAX_BYTES",
        help = "largest _bulk body before compression (default 5242880)"
    )]
    pub bulk_max_bytes: Option<String>,
    #[arg(long, env = "BULK_CONCURRENCY", help = "_bulk requests in flight (default 4)")]
    pub bulk_concurrency: Option<String>,
    #[arg(long, env = "BULK_GZIP", help = "true (default) | false: gzip _bulk bodies")]
    pub bulk_gzip: Option<String>,
    #[arg(long, env = "RETRY_BASE_MS", help = "first retry backoff in ms (default 200)")]
    pub retry_base_ms: Option<String>,
    #[arg(
        long,
        env = "DEADLINE_MARGIN_MS",
        help = "stop retrying this long before the deadline (default 2000)"
    )]
    pub deadline_margin_ms: Option<String>,
    #[arg(long, env = "LOG_LEVEL", help = "tracing filter (default info)")]
    pub log_level: Option<String>,
    #[arg(
        long,
        env = "INDEX_RETENTION_DAYS",
        help = "delete indices older than this (ISM); empty = keep"
    )]
    pub index_retention_days: Option<String>,
    #[arg(
        long,
        env = "S3_FORMATS",
        help = "S3 objects: GLOB=FORMAT rules on the key, first match wins (formats: \
                cloudwatch-firehose, cloudtrail, json-lines, text-lines, alb, alb-connection, nlb, \
                elb, cloudfront, waf, s3-access, vpc-flow; default: detected)"
    )]
    pub s3_formats: Option<String>,
    #[arg(
        long,
        env = "S3_KEY_REGEX",
        help = "S3 objects: regex on the key whose named captures become document fields"
    )]
    pub s3_key_regex: Option<String>,
    #[arg(
        long,
        env = "S3_TIMESTAMP_FIELDS",
        help = "S3 JSON lines: fields holding the time, first found wins \
                (default @timestamp,timestamp,time; else the object's LastModified)"
    )]
    pub s3_timestamp_fields: Option<String>,
    #[arg(
        long,
        env = "S3_INDEX_PREFIXES",
        help = "S3 objects: FORMAT=PREFIX index prefixes (defaults: cloudtrail=cloudtrail, \
                json-lines=s3, text-lines=s3, and each access log format its own, e.g. alb=alb)"
    )]
    pub s3_index_prefixes: Option<String>,
    #[arg(
        long,
        env = "LOG_GROUP_TAGS",
        help = "true | false (default; the stack sets true): the log group's tags as document \
                fields under `tags`, read with logs:ListTagsForResource"
    )]
    pub log_group_tags: Option<String>,
    #[arg(
        long,
        env = "LOG_GROUP_TAGS_TTL",
        help = "seconds a log group's tags (or a failed lookup) are kept (default 900)"
    )]
    pub log_group_tags_ttl: Option<String>,
    /// `AWS_REGION`, set by Lambda and the AWS tools: the region documents are stamped with, and
    /// the signing region when `OPENSEARCH_REGION` is unset. An environment variable, not a flag.
    #[arg(skip)]
    pub aws_region: Option<String>,
}

impl RawConfig {
    /// Reads every setting, and `AWS_REGION`, through `lookup` (e.g. `std::env::var`), asked for
    /// the environment variable names declared above; an empty value counts as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> RawConfig {
        RawConfig {
            aws_region: lookup("AWS_REGION"),
            ..sluice_edge::settings::from_lookup(&lookup)
        }
    }
}

/// A setting that is missing or does not hold an acceptable value.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{setting} is required{why}")]
    Missing {
        setting: &'static str,
        why: &'static str,
    },
    #[error("{setting}={value:?} is not valid: {reason}")]
    Invalid {
        setting: &'static str,
        value: String,
        reason: String,
    },
}

/// A setting's error, on one line: a reason written over several (the regex crate points at the
/// bad character on lines of its own) has its lines joined.
fn invalid(setting: &'static str, value: &str, reason: impl std::fmt::Display) -> ConfigError {
    let reason = reason.to_string();
    let lines: Vec<&str> = reason
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    ConfigError::Invalid {
        setting,
        value: value.to_string(),
        reason: lines.join(" "),
    }
}

/// The validated settings of the forwarder.
#[derive(Debug, Clone)]
pub struct Config {
    /// `None` only in a dry run, which sends nothing.
    pub sink: Option<SinkConfig>,
    pub documents: DocumentOptions,
    /// `INDEX_PREFIX`, also the name of the index template.
    pub index_prefix: String,
    /// The region documents are stamped with (`AWS_REGION`, else `OPENSEARCH_REGION`).
    pub region: String,
    pub bulk_max_bytes: usize,
    pub retry: RetryConfig,
    pub log_level: String,
    /// How objects read from S3 are parsed.
    pub s3: S3Options,
    /// Log-group tags as document fields: `None` when `LOG_GROUP_TAGS` is off, or with
    /// `DOCUMENT_FORMAT=blueprint`, whose documents keep the AWS blueprint's shape.
    pub tags: Option<TagSettings>,
}

/// Whether the config will be used to send (an endpoint is required) or only to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Deliver,
    DryRun,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env(purpose: Purpose) -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok(), purpose)
    }

    /// Reads every setting through `lookup` (an empty value counts as unset) and validates it.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        purpose: Purpose,
    ) -> Result<Config, ConfigError> {
        Config::from_raw(&RawConfig::from_lookup(lookup), purpose)
    }

    /// Validates every setting; a value that is empty once trimmed counts as unset.
    pub fn from_raw(raw: &RawConfig, purpose: Purpose) -> Result<Config, ConfigError> {
        let documents = document_options(raw)?;
        let documents_format = documents.format;
        let index_prefix = documents.index.prefix().to_string();
        let region = get(&raw.aws_region)
            .or_else(|| get(&raw.opensearch_region))
            .unwrap_or_else(|| "unknown".to_string());

        let sink = match (get(&raw.opensearch_endpoint), purpose) {
            (Some(endpoint), _) => Some(sink_config(&endpoint, raw)?),
            (None, Purpose::DryRun) => {
                // Nothing is sent, but a setting that would refuse the real run refuses this one.
                delivery_settings(raw)?;
                None
            }
            (None, Purpose::Deliver) => {
                return Err(ConfigError::Missing {
                    setting: "OPENSEARCH_ENDPOINT",
                    why: " (the OpenSearch URL, e.g. https://search-logs-abc.us-east-1.es.amazonaws.com)",
                });
            }
        };

        let bulk_max_bytes = number(
            &raw.bulk_max_bytes,
            "BULK_MAX_BYTES",
            5_242_880,
            1024..=100 * 1024 * 1024,
        )?;
        let retry = RetryConfig {
            base: Duration::from_millis(number(&raw.retry_base_ms, "RETRY_BASE_MS", 200, 1..=60_000)?),
            deadline_margin: Duration::from_millis(number(
                &raw.deadline_margin_ms,
                "DEADLINE_MARGIN_MS",
                2000,
                0..=600_000,
            )?),
        };
        Ok(Config {
            sink,
            documents,
            index_prefix,
            region,
            bulk_max_bytes,
            retry,
            log_level: log_level(raw)?,
            s3: s3_options(raw)?,
            tags: tag_settings(raw, documents_format)?,
        })
    }
}

/// Builds the pipeline's [`DocumentOptions`] through its validating constructors, so a bad
/// regex or index name is reported here, at start-up, naming its setting.
fn document_options(raw: &RawConfig) -> Result<DocumentOptions, ConfigError> {
    let prefix = get(&raw.index_prefix).unwrap_or_else(|| "cwl".to_string());
    let granularity = match get(&raw.index_granularity).as_deref() {
        None | Some("day") => Granularity::Day,
        Some("hour") => Granularity::Hour,
        Some("month") => Granularity::Month,
        Some(other) => {
            return Err(invalid(
                "INDEX_GRANULARITY",
                other,
                "expected one of hour, day, month",
            ));
        }
    };
    let index = IndexNaming::new(
        &prefix,
        granularity,
        boolean(&raw.index_log_group, "INDEX_LOG_GROUP", false)?,
    )
    .map_err(|err| invalid("INDEX_PREFIX", &prefix, err))?;
    let index = index_routing(raw, index)?;
    let dead_letter_index = get(&raw.dead_letter_index);
    if let Some(name) = &dead_letter_index {
        validate_index_name(name).map_err(|err| invalid("DEAD_LETTER_INDEX", name, err))?;
    }
    let id = match get(&raw.document_id).as_deref() {
        None | Some("event") => IdMode::Event,
        Some("none") => IdMode::None,
        Some(other) => return Err(invalid("DOCUMENT_ID", other, "expected one of event, none")),
    };
    let format = match get(&raw.document_format).as_deref() {
        None | Some("sluice") => DocumentFormat::Sluice,
        Some("blueprint") => DocumentFormat::Blueprint,
        Some(other) => {
            return Err(invalid(
                "DOCUMENT_FORMAT",
                other,
                "expected one of sluice, blueprint",
            ));
        }
    };
    let json_field = get(&raw.json_field).unwrap_or_else(|| "json".to_string());
    if json_field.is_empty()
        || json_field.contains('.')
        || crate::document::RESERVED.contains(&json_field.as_str())
    {
        return Err(invalid(
            "JSON_FIELD",
            &json_field,
            format!(
                "a non-empty field name without '.', other than the document's own fields {:?}",
                crate::document::RESERVED
            ),
        ));
    }
    let json = match get(&raw.json_mode).as_deref() {
        None | Some("field") => JsonMode::Field(json_field),
        Some("root") => JsonMode::Root,
        Some("off") => JsonMode::Off,
        Some(other) => return Err(invalid("JSON_MODE", other, "expected one of field, root, off")),
    };
    let multiline = match get(&raw.multiline).as_deref() {
        None | Some("auto") => Multiline::Auto,
        Some("off") => Multiline::Off,
        Some(other) => return Err(invalid("MULTILINE", other, "expected one of auto, off")),
    };
    let redact_patterns = string_list(&raw.redact_patterns, "REDACT_PATTERNS")?;
    let redactor = Redactor::new(
        boolean(&raw.redact_builtin, "REDACT_BUILTIN", true)?,
        &redact_patterns,
    )
    .map_err(|err| invalid("REDACT_PATTERNS", &err.pattern, &err.source))?;
    let include = string_list(&raw.include_message_patterns, "INCLUDE_MESSAGE_PATTERNS")?;
    let exclude = string_list(&raw.exclude_message_patterns, "EXCLUDE_MESSAGE_PATTERNS")?;
    let filter = MessageFilter::new(&include, &exclude).map_err(|err| {
        let setting = if include.contains(&err.pattern) {
            "INCLUDE_MESSAGE_PATTERNS"
        } else {
            "EXCLUDE_MESSAGE_PATTERNS"
        };
        invalid(setting, &err.pattern, &err.source)
    })?;
    let mut prefixes = Vec::new();
    for pair in get(&raw.s3_index_prefixes)
        .iter()
        .flat_map(|value| value.split(','))
    {
        let pair = pair.trim();
        let (format, prefix) = pair
            .split_once('=')
            .ok_or_else(|| invalid("S3_INDEX_PREFIXES", pair, "expected FORMAT=PREFIX"))?;
        let format: Format = format
            .trim()
            .parse()
            .map_err(|err| invalid("S3_INDEX_PREFIXES", pair, err))?;
        if format == Format::CloudwatchFirehose {
            return Err(invalid(
                "S3_INDEX_PREFIXES",
                pair,
                "CloudWatch Logs events from Firehose files go where subscribed events go (INDEX_PREFIX)",
            ));
        }
        prefixes.push((format, prefix.trim().to_string()));
    }
    let objects = ObjectIndices::new(&prefixes, granularity)
        .map_err(|(prefix, err)| invalid("S3_INDEX_PREFIXES", &prefix, err))?
        .with_mode(index.mode());
    Ok(DocumentOptions {
        format,
        json,
        redactor,
        filter,
        index,
        dead_letter_index,
        id,
        objects,
        multiline,
    })
}

/// `INDEX_RULES` and `INDEX_MODE` on top of the naming of `INDEX_PREFIX`.
fn index_routing(raw: &RawConfig, naming: IndexNaming) -> Result<IndexNaming, ConfigError> {
    let mode = match get(&raw.index_mode).as_deref() {
        None | Some("index") => IndexMode::Index,
        Some("data-stream") => IndexMode::DataStream,
        Some(other) => return Err(invalid("INDEX_MODE", other, "expected one of index, data-stream")),
    };
    if mode == IndexMode::DataStream && boolean(&raw.index_log_group, "INDEX_LOG_GROUP", false)? {
        return Err(invalid(
            "INDEX_LOG_GROUP",
            "true",
            "a data stream is named by its prefix alone: with INDEX_MODE=data-stream, give log \
             groups streams of their own with INDEX_RULES",
        ));
    }
    let rules = match get(&raw.index_rules) {
        None => Vec::new(),
        Some(text) => parse_rules(&text).map_err(|err| invalid("INDEX_RULES", err.rule(), &err))?,
    };
    Ok(naming.with_rules(rules).with_mode(mode))
}

/// `S3_FORMATS`, `S3_KEY_REGEX` and `S3_TIMESTAMP_FIELDS`.
fn s3_options(raw: &RawConfig) -> Result<S3Options, ConfigError> {
    let mut options = S3Options::default();
    if let Some(rules) = get(&raw.s3_formats) {
        options.rules = format::parse_rules(&rules).map_err(|err| invalid("S3_FORMATS", &rules, err))?;
    }
    if let Some(pattern) = get(&raw.s3_key_regex) {
        let regex = regex::Regex::new(&pattern).map_err(|err| invalid("S3_KEY_REGEX", &pattern, err))?;
        let taken = regex.capture_names().flatten().find(|name| {
            crate::document::RESERVED.contains(name) || crate::document::RECORD_FIELDS.contains(name)
        });
        if let Some(name) = taken {
            return Err(invalid(
                "S3_KEY_REGEX",
                &pattern,
                format!("the capture {name:?} would replace a field of the document"),
            ));
        }
        if regex.capture_names().flatten().next().is_none() {
            return Err(invalid(
                "S3_KEY_REGEX",
                &pattern,
                "it has no named capture, e.g. ^(?P<environment>[^/]+)/",
            ));
        }
        options.key_regex = Some(regex);
    }
    if let Some(fields) = get(&raw.s3_timestamp_fields) {
        options.timestamp_fields = fields
            .split(',')
            .map(str::trim)
            .filter(|field| !field.is_empty())
            .map(|field| field.split('.').map(str::to_string).collect())
            .collect();
    }
    Ok(options)
}

/// `LOG_GROUP_TAGS` and `LOG_GROUP_TAGS_TTL`. Off by default: a CLI replay's host may have
/// no `logs:ListTagsForResource` permission; the stack turns it on (`LogGroupTags`).
fn tag_settings(raw: &RawConfig, format: DocumentFormat) -> Result<Option<TagSettings>, ConfigError> {
    let ttl = Duration::from_secs(number(
        &raw.log_group_tags_ttl,
        "LOG_GROUP_TAGS_TTL",
        900,
        10..=86_400,
    )?);
    let on = boolean(&raw.log_group_tags, "LOG_GROUP_TAGS", false)?;
    Ok((on && format == DocumentFormat::Sluice).then_some(TagSettings { ttl }))
}

/// `LOG_LEVEL`, `info` when unset.
fn log_level(raw: &RawConfig) -> Result<String, ConfigError> {
    let level = get(&raw.log_level).unwrap_or_else(|| "info".to_string());
    sluice_edge::check_log_level(&level).map_err(|reason| invalid("LOG_LEVEL", &level, reason))?;
    Ok(level)
}

/// The delivery settings that do not need an endpoint: `BULK_GZIP`, `BULK_CONCURRENCY`,
/// `INDEX_RETENTION_DAYS`.
fn delivery_settings(raw: &RawConfig) -> Result<(bool, usize, Option<u32>), ConfigError> {
    let retention_days = match get(&raw.index_retention_days) {
        None => None,
        Some(_) => Some(number(
            &raw.index_retention_days,
            "INDEX_RETENTION_DAYS",
            0,
            1..=36_500,
        )?),
    };
    Ok((
        boolean(&raw.bulk_gzip, "BULK_GZIP", true)?,
        number(&raw.bulk_concurrency, "BULK_CONCURRENCY", 4, 1..=64)?,
        retention_days,
    ))
}

fn sink_config(endpoint: &str, raw: &RawConfig) -> Result<SinkConfig, ConfigError> {
    if !endpoint.contains("://") {
        // What the console shows is the bare host name.
        return Err(invalid(
            "OPENSEARCH_ENDPOINT",
            endpoint,
            format_args!("a URL needs its scheme: add https:// (https://{endpoint})"),
        ));
    }
    let url = Url::parse(endpoint).map_err(|err| invalid("OPENSEARCH_ENDPOINT", endpoint, err))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid(
            "OPENSEARCH_ENDPOINT",
            endpoint,
            "expected an http:// or https:// URL with a host",
        ));
    }
    let auth = match get(&raw.opensearch_auth).as_deref() {
        None | Some("sigv4") => {
            let host = url.host_str().unwrap_or_default();
            let service = match get(&raw.opensearch_service).as_deref() {
                None if host.ends_with(".aoss.amazonaws.com") => SigningService::Aoss,
                None | Some("es") => SigningService::Es,
                Some("aoss") => SigningService::Aoss,
                Some(other) => return Err(invalid("OPENSEARCH_SERVICE", other, "expected one of es, aoss")),
            };
            let region = get(&raw.opensearch_region)
                .or_else(|| get(&raw.aws_region))
                .ok_or(ConfigError::Missing {
                    setting: "OPENSEARCH_REGION",
                    why: " for sigv4 (or AWS_REGION)",
                })?;
            AuthMode::SigV4 { service, region }
        }
        Some("basic") => match (get(&raw.opensearch_secret_id), get(&raw.opensearch_ssm_parameter)) {
            (Some(secret), None) => AuthMode::Basic(BasicSource::SecretsManager(secret)),
            (None, Some(parameter)) => AuthMode::Basic(BasicSource::Ssm(parameter)),
            (Some(_), Some(parameter)) => {
                return Err(invalid(
                    "OPENSEARCH_SSM_PARAMETER",
                    &parameter,
                    "set either OPENSEARCH_SECRET_ID or OPENSEARCH_SSM_PARAMETER, not both",
                ));
            }
            (None, None) => {
                return Err(ConfigError::Missing {
                    setting: "OPENSEARCH_SECRET_ID",
                    why: " (or OPENSEARCH_SSM_PARAMETER) when OPENSEARCH_AUTH=basic",
                });
            }
        },
        Some("none") => AuthMode::None,
        Some(other) => {
            return Err(invalid(
                "OPENSEARCH_AUTH",
                other,
                "expected one of sigv4, basic, none",
            ));
        }
    };
    let (gzip, concurrency, retention_days) = delivery_settings(raw)?;
    Ok(SinkConfig {
        endpoint: url,
        auth,
        gzip,
        concurrency,
        retention_days,
    })
}

/// A setting's value, trimmed; unset when empty.
fn get(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// A `true`/`false` setting.
pub(crate) fn boolean(
    value: &Option<String>,
    setting: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match get(value).map(|v| v.to_ascii_lowercase()).as_deref() {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(invalid(setting, other, "expected true or false")),
    }
}

/// A whole number within `range`.
pub(crate) fn number<T>(
    value: &Option<String>,
    setting: &'static str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
    T::Err: std::fmt::Display,
{
    let Some(raw) = get(value) else {
        return Ok(default);
    };
    let value: T = raw.parse().map_err(|err| invalid(setting, &raw, err))?;
    if !range.contains(&value) {
        return Err(invalid(
            setting,
            &raw,
            format!("expected a number from {} to {}", range.start(), range.end()),
        ));
    }
    Ok(value)
}

/// A JSON array of strings (regexes); unset or empty means none.
pub(crate) fn string_list(value: &Option<String>, setting: &'static str) -> Result<Vec<String>, ConfigError> {
    let Some(raw) = get(value) else {
        return Ok(Vec::new());
    };
    serde_json::from_str(&raw).map_err(|err| {
        invalid(
            setting,
            &raw,
            format!("expected a JSON array of strings, e.g. [\"^START\"] ({err})"),
        )
    })
}

#[cfg(test)]
mod tests;

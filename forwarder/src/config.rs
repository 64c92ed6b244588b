//! Every forwarder setting, read in two stages: raw strings from the environment (Lambda) or from
//! flags with the same names (CLI) through a lookup function, then validated into [`Config`].
//!
//! Tests build a config from a map instead of touching the process environment.

use std::time::Duration;

use reqwest::Url;

use crate::document::index::{Granularity, IndexNaming, validate_index_name};
use crate::document::redact::Redactor;
use crate::document::{DocumentFormat, DocumentOptions, IdMode, JsonMode, MessageFilter};
use crate::opensearch::SinkConfig;
use crate::opensearch::auth::{AuthMode, BasicSource, SigningService};
use crate::opensearch::deliver::RetryConfig;

/// One setting: its environment variable and its CLI flag (the same name in lower-kebab-case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    pub env: &'static str,
    pub flag: &'static str,
    pub help: &'static str,
}

const fn setting(env: &'static str, flag: &'static str, help: &'static str) -> Setting {
    Setting { env, flag, help }
}

/// Every setting the forwarder reads, in the order the documentation lists them.
pub const SETTINGS: &[Setting] = &[
    setting(
        "OPENSEARCH_ENDPOINT",
        "opensearch-endpoint",
        "OpenSearch URL (required unless --dry-run)",
    ),
    setting(
        "OPENSEARCH_AUTH",
        "opensearch-auth",
        "sigv4 (default) | basic | none",
    ),
    setting(
        "OPENSEARCH_SERVICE",
        "opensearch-service",
        "es | aoss (default: aoss for *.aoss.amazonaws.com)",
    ),
    setting(
        "OPENSEARCH_REGION",
        "opensearch-region",
        "signing region (default: AWS_REGION)",
    ),
    setting(
        "OPENSEARCH_SECRET_ID",
        "opensearch-secret-id",
        "Secrets Manager secret {\"username\",\"password\"} for basic auth",
    ),
    setting(
        "OPENSEARCH_SSM_PARAMETER",
        "opensearch-ssm-parameter",
        "SSM SecureString username:password for basic auth",
    ),
    setting("INDEX_PREFIX", "index-prefix", "index name prefix (default cwl)"),
    setting(
        "INDEX_GRANULARITY",
        "index-granularity",
        "hour | day (default) | month",
    ),
    setting(
        "INDEX_LOG_GROUP",
        "index-log-group",
        "true | false (default): add a log-group segment to index names",
    ),
    setting(
        "DEAD_LETTER_INDEX",
        "dead-letter-index",
        "index for rejected documents (default <prefix>-dead-letter)",
    ),
    setting("DOCUMENT_ID", "document-id", "event (default) | none"),
    setting(
        "DOCUMENT_FORMAT",
        "document-format",
        "sluice (default) | blueprint",
    ),
    setting("JSON_MODE", "json-mode", "field (default) | root | off"),
    setting(
        "JSON_FIELD",
        "json-field",
        "field that holds parsed JSON (default json)",
    ),
    setting("REDACT_BUILTIN", "redact-builtin", "true (default) | false"),
    setting(
        "REDACT_PATTERNS",
        "redact-patterns",
        "JSON array of extra regexes to redact",
    ),
    setting(
        "INCLUDE_MESSAGE_PATTERNS",
        "include-message-patterns",
        "JSON array of regexes: keep only matching messages",
    ),
    setting(
        "EXCLUDE_MESSAGE_PATTERNS",
        "exclude-message-patterns",
        "JSON array of regexes: drop matching messages",
    ),
    setting(
        "BULK_MAX_BYTES",
        "bulk-max-bytes",
        "largest _bulk body before compression (default 5242880)",
    ),
    setting(
        "BULK_CONCURRENCY",
        "bulk-concurrency",
        "_bulk requests in flight (default 4)",
    ),
    setting(
        "BULK_GZIP",
        "bulk-gzip",
        "true (default) | false: gzip _bulk bodies",
    ),
    setting(
        "RETRY_BASE_MS",
        "retry-base-ms",
        "first retry backoff in ms (default 200)",
    ),
    setting(
        "DEADLINE_MARGIN_MS",
        "deadline-margin-ms",
        "stop retrying this long before the deadline (default 2000)",
    ),
    setting("LOG_LEVEL", "log-level", "tracing filter (default info)"),
    setting(
        "INDEX_RETENTION_DAYS",
        "index-retention-days",
        "delete indices older than this (ISM); empty = keep",
    ),
];

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

fn invalid(setting: &'static str, value: &str, reason: impl std::fmt::Display) -> ConfigError {
    ConfigError::Invalid {
        setting,
        value: value.to_string(),
        reason: reason.to_string(),
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
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };

        let documents = document_options(&get)?;
        let index_prefix = documents.index.prefix().to_string();
        let region = get("AWS_REGION")
            .or_else(|| get("OPENSEARCH_REGION"))
            .unwrap_or_else(|| "unknown".to_string());

        let sink = match (get("OPENSEARCH_ENDPOINT"), purpose) {
            (Some(endpoint), _) => Some(sink_config(&endpoint, &get)?),
            (None, Purpose::DryRun) => None,
            (None, Purpose::Deliver) => {
                return Err(ConfigError::Missing {
                    setting: "OPENSEARCH_ENDPOINT",
                    why: " (the OpenSearch URL, e.g. https://search-logs-abc.us-east-1.es.amazonaws.com)",
                });
            }
        };

        let bulk_max_bytes = number(&get, "BULK_MAX_BYTES", 5_242_880, 1024..=100 * 1024 * 1024)?;
        let retry = RetryConfig {
            base: Duration::from_millis(number(&get, "RETRY_BASE_MS", 200, 1..=60_000)?),
            deadline_margin: Duration::from_millis(number(&get, "DEADLINE_MARGIN_MS", 2000, 0..=600_000)?),
        };
        Ok(Config {
            sink,
            documents,
            index_prefix,
            region,
            bulk_max_bytes,
            retry,
            log_level: get("LOG_LEVEL").unwrap_or_else(|| "info".to_string()),
        })
    }
}

/// Builds the pipeline's [`DocumentOptions`] through its validating constructors, so a bad
/// regex or index name is reported here, at start-up, naming its setting.
fn document_options(get: &impl Fn(&str) -> Option<String>) -> Result<DocumentOptions, ConfigError> {
    let prefix = get("INDEX_PREFIX").unwrap_or_else(|| "cwl".to_string());
    let granularity = match get("INDEX_GRANULARITY").as_deref() {
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
    let index = IndexNaming::new(&prefix, granularity, boolean(get, "INDEX_LOG_GROUP", false)?)
        .map_err(|err| invalid("INDEX_PREFIX", &prefix, err))?;
    let dead_letter_index = get("DEAD_LETTER_INDEX");
    if let Some(name) = &dead_letter_index {
        validate_index_name(name).map_err(|err| invalid("DEAD_LETTER_INDEX", name, err))?;
    }
    let id = match get("DOCUMENT_ID").as_deref() {
        None | Some("event") => IdMode::Event,
        Some("none") => IdMode::None,
        Some(other) => return Err(invalid("DOCUMENT_ID", other, "expected one of event, none")),
    };
    let format = match get("DOCUMENT_FORMAT").as_deref() {
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
    let json_field = get("JSON_FIELD").unwrap_or_else(|| "json".to_string());
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
    let json = match get("JSON_MODE").as_deref() {
        None | Some("field") => JsonMode::Field(json_field),
        Some("root") => JsonMode::Root,
        Some("off") => JsonMode::Off,
        Some(other) => return Err(invalid("JSON_MODE", other, "expected one of field, root, off")),
    };
    let redact_patterns = string_list(get, "REDACT_PATTERNS")?;
    let redactor = Redactor::new(boolean(get, "REDACT_BUILTIN", true)?, &redact_patterns)
        .map_err(|err| invalid("REDACT_PATTERNS", &err.pattern, &err.source))?;
    let include = string_list(get, "INCLUDE_MESSAGE_PATTERNS")?;
    let exclude = string_list(get, "EXCLUDE_MESSAGE_PATTERNS")?;
    let filter = MessageFilter::new(&include, &exclude).map_err(|err| {
        let setting = if include.contains(&err.pattern) {
            "INCLUDE_MESSAGE_PATTERNS"
        } else {
            "EXCLUDE_MESSAGE_PATTERNS"
        };
        invalid(setting, &err.pattern, &err.source)
    })?;
    Ok(DocumentOptions {
        format,
        json,
        redactor,
        filter,
        index,
        dead_letter_index,
        id,
    })
}

fn sink_config(endpoint: &str, get: &impl Fn(&str) -> Option<String>) -> Result<SinkConfig, ConfigError> {
    let url = Url::parse(endpoint).map_err(|err| invalid("OPENSEARCH_ENDPOINT", endpoint, err))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid(
            "OPENSEARCH_ENDPOINT",
            endpoint,
            "expected an http:// or https:// URL with a host",
        ));
    }
    let auth = match get("OPENSEARCH_AUTH").as_deref() {
        None | Some("sigv4") => {
            let host = url.host_str().unwrap_or_default();
            let service = match get("OPENSEARCH_SERVICE").as_deref() {
                None if host.ends_with(".aoss.amazonaws.com") => SigningService::Aoss,
                None | Some("es") => SigningService::Es,
                Some("aoss") => SigningService::Aoss,
                Some(other) => return Err(invalid("OPENSEARCH_SERVICE", other, "expected one of es, aoss")),
            };
            let region =
                get("OPENSEARCH_REGION")
                    .or_else(|| get("AWS_REGION"))
                    .ok_or(ConfigError::Missing {
                        setting: "OPENSEARCH_REGION",
                        why: " for sigv4 (or AWS_REGION)",
                    })?;
            AuthMode::SigV4 { service, region }
        }
        Some("basic") => match (get("OPENSEARCH_SECRET_ID"), get("OPENSEARCH_SSM_PARAMETER")) {
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
    let retention_days = match get("INDEX_RETENTION_DAYS") {
        None => None,
        Some(_) => Some(number(get, "INDEX_RETENTION_DAYS", 0, 1..=36_500)?),
    };
    Ok(SinkConfig {
        endpoint: url,
        auth,
        gzip: boolean(get, "BULK_GZIP", true)?,
        concurrency: number(get, "BULK_CONCURRENCY", 4, 1..=64)?,
        retention_days,
    })
}

/// A `true`/`false` setting.
pub(crate) fn boolean(
    get: &impl Fn(&str) -> Option<String>,
    setting: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match get(setting).map(|v| v.to_ascii_lowercase()).as_deref() {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(invalid(setting, other, "expected true or false")),
    }
}

/// A whole number within `range`.
pub(crate) fn number<T>(
    get: &impl Fn(&str) -> Option<String>,
    setting: &'static str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
    T::Err: std::fmt::Display,
{
    let Some(raw) = get(setting) else {
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
pub(crate) fn string_list(
    get: &impl Fn(&str) -> Option<String>,
    setting: &'static str,
) -> Result<Vec<String>, ConfigError> {
    let Some(raw) = get(setting) else {
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
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)], purpose: Purpose) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned(), purpose)
    }

    #[test]
    fn flags_are_the_env_names_in_kebab_case() {
        for setting in SETTINGS {
            assert_eq!(setting.flag, setting.env.to_ascii_lowercase().replace('_', "-"));
        }
    }

    #[test]
    fn defaults_apply_when_only_the_endpoint_is_set() {
        let config = config(
            &[
                (
                    "OPENSEARCH_ENDPOINT",
                    "https://search-x.us-east-1.es.amazonaws.com",
                ),
                ("AWS_REGION", "eu-west-1"),
            ],
            Purpose::Deliver,
        )
        .unwrap();
        let sink = config.sink.unwrap();
        assert_eq!(
            sink.auth,
            AuthMode::SigV4 {
                service: SigningService::Es,
                region: "eu-west-1".to_string()
            }
        );
        assert!(sink.gzip);
        assert_eq!(sink.concurrency, 4);
        assert_eq!(sink.retention_days, None);
        assert_eq!(config.bulk_max_bytes, 5_242_880);
        assert_eq!(config.index_prefix, "cwl");
        assert_eq!(config.documents.dead_letter_index(), "cwl-dead-letter");
        assert_eq!(config.documents.id, IdMode::Event);
        assert_eq!(config.documents.json, JsonMode::Field("json".to_string()));
    }

    #[test]
    fn serverless_hosts_sign_for_aoss() {
        let config = config(
            &[
                (
                    "OPENSEARCH_ENDPOINT",
                    "https://abc123.us-east-1.aoss.amazonaws.com",
                ),
                ("OPENSEARCH_REGION", "us-east-1"),
            ],
            Purpose::Deliver,
        )
        .unwrap();
        assert!(matches!(
            config.sink.unwrap().auth,
            AuthMode::SigV4 {
                service: SigningService::Aoss,
                ..
            }
        ));
    }

    #[test]
    fn the_endpoint_is_required_to_deliver_but_not_for_a_dry_run() {
        let err = config(&[], Purpose::Deliver).unwrap_err();
        assert!(err.to_string().contains("OPENSEARCH_ENDPOINT"), "{err}");
        assert!(config(&[], Purpose::DryRun).unwrap().sink.is_none());
    }

    #[test]
    fn every_error_names_the_setting_and_the_value() {
        let endpoint = ("OPENSEARCH_ENDPOINT", "http://localhost:9200");
        let none = ("OPENSEARCH_AUTH", "none");
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
        let cases: &[Case] = &[
            (
                &[("OPENSEARCH_ENDPOINT", "not a url")],
                "OPENSEARCH_ENDPOINT",
                "not a url",
            ),
            (
                &[("OPENSEARCH_ENDPOINT", "ftp://host")],
                "OPENSEARCH_ENDPOINT",
                "ftp://host",
            ),
            (
                &[endpoint, ("OPENSEARCH_AUTH", "kerberos")],
                "OPENSEARCH_AUTH",
                "kerberos",
            ),
            (
                &[endpoint, ("OPENSEARCH_SERVICE", "s3"), ("AWS_REGION", "x")],
                "OPENSEARCH_SERVICE",
                "s3",
            ),
            (
                &[endpoint, none, ("BULK_CONCURRENCY", "0")],
                "BULK_CONCURRENCY",
                "0",
            ),
            (
                &[endpoint, none, ("BULK_MAX_BYTES", "lots")],
                "BULK_MAX_BYTES",
                "lots",
            ),
            (&[endpoint, none, ("BULK_GZIP", "yes")], "BULK_GZIP", "yes"),
            (
                &[endpoint, none, ("INDEX_RETENTION_DAYS", "-3")],
                "INDEX_RETENTION_DAYS",
                "-3",
            ),
            (&[("INDEX_GRANULARITY", "week")], "INDEX_GRANULARITY", "week"),
            (&[("JSON_MODE", "deep")], "JSON_MODE", "deep"),
            (&[("JSON_FIELD", "message")], "JSON_FIELD", "message"),
            (&[("JSON_FIELD", "app.json")], "JSON_FIELD", "app.json"),
            (&[("DOCUMENT_FORMAT", "ecs")], "DOCUMENT_FORMAT", "ecs"),
            (&[("DOCUMENT_ID", "random")], "DOCUMENT_ID", "random"),
            (&[("REDACT_PATTERNS", "password")], "REDACT_PATTERNS", "password"),
            (&[("RETRY_BASE_MS", "0")], "RETRY_BASE_MS", "0"),
        ];
        for (pairs, setting, value) in cases {
            let err = config(pairs, Purpose::DryRun).expect_err(setting);
            let text = err.to_string();
            assert!(
                text.contains(setting) && text.contains(value),
                "{setting}: {text}"
            );
        }
    }

    #[test]
    fn basic_auth_needs_exactly_one_secret_source() {
        let base = [("OPENSEARCH_ENDPOINT", "https://h"), ("OPENSEARCH_AUTH", "basic")];
        let err = config(&base, Purpose::Deliver).unwrap_err();
        assert!(err.to_string().contains("OPENSEARCH_SECRET_ID"), "{err}");
        let ssm = config(
            &[base[0], base[1], ("OPENSEARCH_SSM_PARAMETER", "/os/creds")],
            Purpose::Deliver,
        )
        .unwrap();
        assert_eq!(
            ssm.sink.unwrap().auth,
            AuthMode::Basic(BasicSource::Ssm("/os/creds".to_string()))
        );
        let both = [
            base[0],
            base[1],
            ("OPENSEARCH_SSM_PARAMETER", "p"),
            ("OPENSEARCH_SECRET_ID", "s"),
        ];
        assert!(config(&both, Purpose::Deliver).is_err());
    }

    #[test]
    fn pattern_lists_are_json_arrays_of_regexes() {
        let excluded = config(
            &[("EXCLUDE_MESSAGE_PATTERNS", r#"["^(START|END) RequestId"]"#)],
            Purpose::DryRun,
        )
        .unwrap();
        assert!(!excluded.documents.filter.keeps("START RequestId: 1"));
        assert!(excluded.documents.filter.keeps("hello"));
        let cases = [
            ("INCLUDE_MESSAGE_PATTERNS", r#"["(open"]"#, "(open"),
            ("EXCLUDE_MESSAGE_PATTERNS", r#"["ok", "[x"]"#, "[x"),
            ("REDACT_PATTERNS", r#"["a{2,1}"]"#, "a{2,1}"),
            ("INDEX_PREFIX", "Bad Prefix", "Bad Prefix"),
            ("DEAD_LETTER_INDEX", "_bad", "_bad"),
        ];
        for (setting, value, named) in cases {
            let err = config(&[(setting, value)], Purpose::DryRun).expect_err(setting);
            let text = err.to_string();
            assert!(
                text.contains(setting) && text.contains(named),
                "{setting}: {text}"
            );
        }
    }
}

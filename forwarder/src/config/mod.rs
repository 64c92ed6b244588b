//! Every forwarder setting, read in two stages: [`RawConfig`], the strings from the environment
//! (Lambda, or a lookup function) or from flags with the same names (CLI), then validated into
//! [`Config`] with the helpers of [`sluice_edge::settings`], each refusal a [`SettingError`]
//! naming its setting.
//!
//! One file per concern: [`raw`] declares the settings, [`keywords`] the keyword settings'
//! names, `documents` checks what documents look like and where they go, `delivery` how they
//! are sent. Tests build a config from a map instead of touching the process environment.

mod delivery;
mod documents;
pub mod keywords;
mod limits;
pub mod raw;

use std::time::Duration;

pub use raw::RawConfig;
pub use sluice_edge::settings::SettingError;
use sluice_edge::settings::{log_level, number, text};

use crate::document::DocumentOptions;
use crate::enrich::EnrichSettings;
use crate::limits::Limits;
use crate::opensearch::SinkConfig;
use crate::opensearch::deliver::RetryConfig;
use crate::source::s3::format::S3Options;
use crate::source::s3::format::cloudfront_realtime::RealtimeFields;
use crate::source::tags::TagSettings;

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
    /// The fields of CloudFront real-time log records in Kinesis events
    /// (`CLOUDFRONT_REALTIME_FIELDS`).
    pub cloudfront_realtime: RealtimeFields,
    /// The limits on input (`MAX_RECORD_BYTES`, `MAX_PAYLOAD_BYTES`, `MAX_OBJECT_EXPANSION`,
    /// `MAX_JSON_DEPTH`, `MAX_FIELDS`); `s3` and `documents` hold those they use.
    pub limits: Limits,
    /// How many continuations one object may have (`MAX_CONTINUATIONS`).
    pub max_continuations: u32,
    /// Log-group tags as document fields: `None` when `LOG_GROUP_TAGS` is off, or with
    /// `DOCUMENT_FORMAT=blueprint`, whose documents keep the AWS blueprint's shape.
    pub tags: Option<TagSettings>,
    /// The GeoIP and ASN databases to load (`GEOIP_DATABASE`, `GEOIP_ASN_DATABASE`); the
    /// forwarder loads them into `documents.enrichment` once, at cold start.
    pub enrich: EnrichSettings,
}

/// Whether the config will be used to send (an endpoint is required) or only to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Deliver,
    DryRun,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env(purpose: Purpose) -> Result<Config, SettingError> {
        Config::from_lookup(|name| std::env::var(name).ok(), purpose)
    }

    /// Reads every setting through `lookup` (an empty value counts as unset) and validates it.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        purpose: Purpose,
    ) -> Result<Config, SettingError> {
        Config::from_raw(&RawConfig::from_lookup(lookup), purpose)
    }

    /// Validates every setting; a value that is empty once trimmed counts as unset.
    pub(crate) fn from_raw(raw: &RawConfig, purpose: Purpose) -> Result<Config, SettingError> {
        let documents = documents::document_options(raw)?;
        let documents_format = documents.format;
        let index_prefix = documents.index.prefix().to_string();
        let region = text(&raw.aws_region)
            .or_else(|| text(&raw.opensearch_region))
            .unwrap_or("unknown")
            .to_string();
        let sink = match (text(&raw.opensearch_endpoint), purpose) {
            (Some(endpoint), _) => Some(delivery::sink_config(endpoint, raw)?),
            (None, Purpose::DryRun) => {
                // Nothing is sent, but a setting that would refuse the real run refuses this one.
                delivery::bulk(raw)?;
                None
            }
            (None, Purpose::Deliver) => {
                return Err(SettingError::Missing {
                    setting: "OPENSEARCH_ENDPOINT",
                    why: " (the OpenSearch URL, e.g. https://search-logs-abc.us-east-1.es.amazonaws.com)",
                });
            }
        };
        Ok(Config {
            sink,
            documents,
            index_prefix,
            region,
            bulk_max_bytes: number(
                &raw.bulk_max_bytes,
                "BULK_MAX_BYTES",
                5_242_880,
                1024..=100 * 1024 * 1024,
            )?,
            retry: retry(raw)?,
            log_level: log_level(&raw.log_level, "info")?,
            s3: documents::s3_options(raw)?,
            cloudfront_realtime: cloudfront_realtime(raw)?,
            limits: limits::limits(raw)?,
            max_continuations: number(&raw.max_continuations, "MAX_CONTINUATIONS", 1000, 0..=1_000_000)?,
            tags: documents::tag_settings(raw, documents_format)?,
            enrich: documents::enrich_settings(raw)?,
        })
    }
}

/// `CLOUDFRONT_REALTIME_FIELDS`: known field names, each once; every documented one when unset.
fn cloudfront_realtime(raw: &RawConfig) -> Result<RealtimeFields, SettingError> {
    match text(&raw.cloudfront_realtime_fields) {
        None => Ok(RealtimeFields::default()),
        Some(fields) => RealtimeFields::parse(fields)
            .map_err(|err| SettingError::invalid("CLOUDFRONT_REALTIME_FIELDS", fields, err)),
    }
}

/// `RETRY_BASE_MS` and `DEADLINE_MARGIN_MS`.
fn retry(raw: &RawConfig) -> Result<RetryConfig, SettingError> {
    Ok(RetryConfig {
        base: Duration::from_millis(number(&raw.retry_base_ms, "RETRY_BASE_MS", 200, 1..=60_000)?),
        deadline_margin: Duration::from_millis(number(
            &raw.deadline_margin_ms,
            "DEADLINE_MARGIN_MS",
            2000,
            0..=600_000,
        )?),
    })
}

#[cfg(test)]
mod tests;

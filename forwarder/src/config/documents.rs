//! The settings of what documents look like and where they go: index naming and routing, JSON,
//! multiline, redaction, message filters, S3 objects' formats and fields, log-group tags, the
//! GeoIP databases.

use std::time::Duration;

use sluice_edge::settings::{SettingError, boolean, choice, number, text};

use super::RawConfig;
use super::keywords;
use crate::document::index::{IndexMode, IndexNaming, parse_rules, validate_index_name};
use crate::document::redact::{Redactor, RuleSet};
use crate::document::{DocumentFormat, DocumentOptions, MessageFilter, ObjectIndices, TimeWindow};
use crate::enrich::{DatabaseLocation, EnrichSettings};
use crate::source::s3::format::{self, Format, S3Options};
use crate::source::tags::TagSettings;

/// Builds the pipeline's [`DocumentOptions`] through its validating constructors, so a bad
/// regex or index name is reported here, at start-up, naming its setting.
pub(super) fn document_options(raw: &RawConfig) -> Result<DocumentOptions, SettingError> {
    let prefix = text(&raw.index_prefix).unwrap_or("cwl");
    let granularity = choice::<keywords::Granularity>(&raw.index_granularity, "INDEX_GRANULARITY")?.into();
    let index = IndexNaming::new(
        prefix,
        granularity,
        boolean(&raw.index_log_group, "INDEX_LOG_GROUP", false)?,
    )
    .map_err(|err| SettingError::invalid("INDEX_PREFIX", prefix, err))?;
    let index = index_routing(raw, index)?;
    let dead_letter_index = text(&raw.dead_letter_index).map(str::to_string);
    if let Some(name) = &dead_letter_index {
        validate_index_name(name).map_err(|err| SettingError::invalid("DEAD_LETTER_INDEX", name, err))?;
    }
    let json_field = json_field(raw)?;
    let objects = ObjectIndices::new(&s3_index_prefixes(raw)?, granularity)
        .map_err(|(prefix, err)| SettingError::invalid("S3_INDEX_PREFIXES", &prefix, err))?
        .with_mode(index.mode());
    Ok(DocumentOptions {
        format: choice::<keywords::DocumentFormat>(&raw.document_format, "DOCUMENT_FORMAT")?.into(),
        json: choice::<keywords::JsonMode>(&raw.json_mode, "JSON_MODE")?.with_field(json_field),
        redactor: redactor(raw)?,
        filter: message_filter(raw)?,
        index,
        dead_letter_index,
        id: choice::<keywords::DocumentId>(&raw.document_id, "DOCUMENT_ID")?.into(),
        objects,
        multiline: choice::<keywords::Multiline>(&raw.multiline, "MULTILINE")?.into(),
        time_window: time_window(raw)?,
        json_limits: super::limits::limits(raw)?.json(),
        // Loaded by the forwarder at cold start, from `Config::enrich`.
        enrichment: Default::default(),
    })
}

/// `INDEX_TIME_WINDOW_DAYS`: `BACK,AHEAD` days around the read time, or `BACK` alone (one day
/// ahead); ten years back and one day ahead when unset.
fn time_window(raw: &RawConfig) -> Result<TimeWindow, SettingError> {
    let Some(value) = text(&raw.index_time_window_days) else {
        return Ok(TimeWindow::default());
    };
    let (back, ahead) = value.split_once(',').unwrap_or((value, "1"));
    let days = |text: &str, least: u32| {
        (text.trim().parse::<u32>().ok()).filter(|days| (least..=36_500).contains(days))
    };
    match (days(back, 1), days(ahead, 0)) {
        (Some(back), Some(ahead)) => Ok(TimeWindow::days(back, ahead)),
        _ => Err(SettingError::invalid(
            "INDEX_TIME_WINDOW_DAYS",
            value,
            "expected BACK,AHEAD: days before the read time (1 to 36500) and after it (0 to 36500), \
             e.g. 3650,1",
        )),
    }
}

/// `JSON_FIELD`, `json` when unset.
fn json_field(raw: &RawConfig) -> Result<String, SettingError> {
    let field = text(&raw.json_field).unwrap_or("json");
    if field.contains('.') || crate::document::RESERVED.contains(&field) {
        return Err(SettingError::invalid(
            "JSON_FIELD",
            field,
            format_args!(
                "a non-empty field name without '.', other than the document's own fields {:?}",
                crate::document::RESERVED
            ),
        ));
    }
    Ok(field.to_string())
}

/// `REDACT_BUILTIN` (`true`, `false`, or a list of rules such as `all,-aws-access-key-id`) and
/// `REDACT_PATTERNS`.
fn redactor(raw: &RawConfig) -> Result<Redactor, SettingError> {
    let rules = match text(&raw.redact_builtin) {
        None => RuleSet::ALL,
        Some(value) => {
            RuleSet::parse(value).map_err(|err| SettingError::invalid("REDACT_BUILTIN", value, err))?
        }
    };
    let patterns = string_list(&raw.redact_patterns, "REDACT_PATTERNS")?;
    Redactor::new(rules, &patterns)
        .map_err(|err| SettingError::invalid("REDACT_PATTERNS", &err.pattern, &err.source))
}

/// `INCLUDE_MESSAGE_PATTERNS` and `EXCLUDE_MESSAGE_PATTERNS`, the bad pattern named.
fn message_filter(raw: &RawConfig) -> Result<MessageFilter, SettingError> {
    let include = string_list(&raw.include_message_patterns, "INCLUDE_MESSAGE_PATTERNS")?;
    let exclude = string_list(&raw.exclude_message_patterns, "EXCLUDE_MESSAGE_PATTERNS")?;
    MessageFilter::new(&include, &exclude).map_err(|err| {
        let setting = if include.contains(&err.pattern) {
            "INCLUDE_MESSAGE_PATTERNS"
        } else {
            "EXCLUDE_MESSAGE_PATTERNS"
        };
        SettingError::invalid(setting, &err.pattern, &err.source)
    })
}

/// `S3_INDEX_PREFIXES`: `FORMAT=PREFIX` pairs.
fn s3_index_prefixes(raw: &RawConfig) -> Result<Vec<(Format, String)>, SettingError> {
    let invalid =
        |pair: &str, reason: &dyn std::fmt::Display| SettingError::invalid("S3_INDEX_PREFIXES", pair, reason);
    let mut prefixes = Vec::new();
    for pair in text(&raw.s3_index_prefixes)
        .into_iter()
        .flat_map(|value| value.split(','))
    {
        let pair = pair.trim();
        let (format, prefix) = pair
            .split_once('=')
            .ok_or_else(|| invalid(pair, &"expected FORMAT=PREFIX"))?;
        let format: Format = format.trim().parse().map_err(|err| invalid(pair, &err))?;
        if format == Format::CloudwatchFirehose {
            return Err(invalid(
                pair,
                &"CloudWatch Logs events from Firehose files go where subscribed events go (INDEX_PREFIX)",
            ));
        }
        if let Some(why) = format.skipped() {
            return Err(invalid(
                pair,
                &format_args!(
                    "{format} objects make no documents ({why}); an S3_FORMATS rule can name json-lines for them"
                ),
            ));
        }
        prefixes.push((format, prefix.trim().to_string()));
    }
    Ok(prefixes)
}

/// `INDEX_RULES` and `INDEX_MODE` on top of the naming of `INDEX_PREFIX`.
fn index_routing(raw: &RawConfig, naming: IndexNaming) -> Result<IndexNaming, SettingError> {
    let mode: IndexMode = choice::<keywords::IndexMode>(&raw.index_mode, "INDEX_MODE")?.into();
    if mode == IndexMode::DataStream && boolean(&raw.index_log_group, "INDEX_LOG_GROUP", false)? {
        return Err(SettingError::invalid(
            "INDEX_LOG_GROUP",
            "true",
            "a data stream is named by its prefix alone: with INDEX_MODE=data-stream, give log \
             groups streams of their own with INDEX_RULES",
        ));
    }
    let rules = match text(&raw.index_rules) {
        None => Vec::new(),
        Some(rules) => {
            parse_rules(rules).map_err(|err| SettingError::invalid("INDEX_RULES", err.rule(), &err))?
        }
    };
    Ok(naming.with_rules(rules).with_mode(mode))
}

/// `S3_FORMATS`, `S3_KEY_REGEX` and `S3_TIMESTAMP_FIELDS`.
pub(super) fn s3_options(raw: &RawConfig) -> Result<S3Options, SettingError> {
    let mut options = S3Options {
        limits: super::limits::limits(raw)?,
        ..S3Options::default()
    };
    if let Some(rules) = text(&raw.s3_formats) {
        options.rules =
            format::parse_rules(rules).map_err(|err| SettingError::invalid("S3_FORMATS", rules, err))?;
    }
    if let Some(pattern) = text(&raw.s3_key_regex) {
        options.key_regex = Some(key_regex(pattern)?);
    }
    if let Some(fields) = text(&raw.s3_timestamp_fields) {
        options.timestamp_fields = fields
            .split(',')
            .map(str::trim)
            .filter(|field| !field.is_empty())
            .map(|field| field.split('.').map(str::to_string).collect())
            .collect();
    }
    Ok(options)
}

/// `S3_KEY_REGEX`: named captures only, none of them a field of the document.
fn key_regex(pattern: &str) -> Result<regex::Regex, SettingError> {
    let invalid = |reason: &dyn std::fmt::Display| SettingError::invalid("S3_KEY_REGEX", pattern, reason);
    let regex = regex::Regex::new(pattern).map_err(|err| invalid(&err))?;
    let taken = regex.capture_names().flatten().find(|name| {
        crate::document::RESERVED.contains(name) || crate::document::RECORD_FIELDS.contains(name)
    });
    if let Some(name) = taken {
        return Err(invalid(&format_args!(
            "the capture {name:?} would replace a field of the document"
        )));
    }
    if regex.capture_names().flatten().next().is_none() {
        return Err(invalid(&"it has no named capture, e.g. ^(?P<environment>[^/]+)/"));
    }
    Ok(regex)
}

/// `LOG_GROUP_TAGS` and `LOG_GROUP_TAGS_TTL`. Off by default: a CLI replay's host may have
/// no `logs:ListTagsForResource` permission; the stack turns it on (`LogGroupTags`).
pub(super) fn tag_settings(
    raw: &RawConfig,
    format: DocumentFormat,
) -> Result<Option<TagSettings>, SettingError> {
    let ttl = Duration::from_secs(number(
        &raw.log_group_tags_ttl,
        "LOG_GROUP_TAGS_TTL",
        900,
        10..=86_400,
    )?);
    let on = boolean(&raw.log_group_tags, "LOG_GROUP_TAGS", false)?;
    Ok((on && format == DocumentFormat::Sluice).then_some(TagSettings { ttl }))
}

/// `GEOIP_DATABASE` and `GEOIP_ASN_DATABASE`: where each database is; whether it can be read
/// is known when the forwarder loads it.
pub(super) fn enrich_settings(raw: &RawConfig) -> Result<EnrichSettings, SettingError> {
    let location = |value: &Option<String>, setting: &'static str| {
        text(value)
            .map(|value| {
                DatabaseLocation::parse(value).map_err(|err| SettingError::invalid(setting, value, err))
            })
            .transpose()
    };
    Ok(EnrichSettings {
        geoip: location(&raw.geoip_database, "GEOIP_DATABASE")?,
        asn: location(&raw.geoip_asn_database, "GEOIP_ASN_DATABASE")?,
    })
}

/// A JSON array of strings (regexes); unset or empty means none.
fn string_list(value: &Option<String>, setting: &'static str) -> Result<Vec<String>, SettingError> {
    let Some(list) = text(value) else {
        return Ok(Vec::new());
    };
    serde_json::from_str(list).map_err(|err| {
        SettingError::invalid(
            setting,
            list,
            format_args!("expected a JSON array of strings, e.g. [\"^START\"] ({err})"),
        )
    })
}

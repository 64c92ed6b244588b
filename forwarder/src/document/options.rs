//! How documents are shaped: validated settings with the documented defaults.

use regex::RegexSet;

use super::index::{Granularity, IndexMode, IndexNameError, IndexNaming};
use super::redact::{PatternError, Redactor, compile_patterns};
use crate::source::s3::format::{FORMATS, Format};

/// The document shape (`DOCUMENT_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DocumentFormat {
    /// Sluice's fields: `@timestamp`, `message`, `log_group`, … and parsed fields.
    #[default]
    Sluice,
    /// The AWS "LogsToElasticsearch" blueprint's shape: `@id`, `@timestamp`, `@message`, `@owner`,
    /// `@log_group`, `@log_stream`, JSON merged at the root.
    Blueprint,
}

/// Where parsed JSON goes in a Sluice document (`JSON_MODE`, `JSON_FIELD`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonMode {
    /// Under one field (default `json`), so one index cannot grow thousands of conflicting fields.
    Field(String),
    /// Merged at the root; Sluice's own fields win over JSON fields of the same name.
    Root,
    /// Not parsed into fields; the raw message still holds it.
    Off,
}

impl Default for JsonMode {
    fn default() -> Self {
        JsonMode::Field(super::DEFAULT_JSON_FIELD.to_owned())
    }
}

/// Whether documents carry a `_id` (`DOCUMENT_ID`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IdMode {
    /// `_id` = the CloudWatch event id: a replayed event answers 409 and is never duplicated.
    #[default]
    Event,
    /// No `_id`, for OpenSearch Serverless time-series collections, which refuse client ids.
    None,
}

/// Include and exclude patterns on the raw message (`INCLUDE_MESSAGE_PATTERNS`,
/// `EXCLUDE_MESSAGE_PATTERNS`): an event is kept when it matches some include pattern (or there
/// are none) and no exclude pattern.
#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    include: Option<RegexSet>,
    exclude: Option<RegexSet>,
}

impl MessageFilter {
    /// Compiles the patterns, naming the first invalid one.
    pub fn new(include: &[String], exclude: &[String]) -> Result<Self, PatternError> {
        Ok(MessageFilter {
            include: set(include)?,
            exclude: set(exclude)?,
        })
    }

    /// Whether an event with this message is indexed.
    pub fn keeps(&self, message: &str) -> bool {
        self.include.as_ref().is_none_or(|set| set.is_match(message))
            && !self.exclude.as_ref().is_some_and(|set| set.is_match(message))
    }
}

fn set(patterns: &[String]) -> Result<Option<RegexSet>, PatternError> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let compiled = compile_patterns(patterns)?;
    let set = RegexSet::new(compiled.iter().map(|r| r.as_str())).map_err(|source| PatternError {
        pattern: patterns.join(" | "),
        source,
    })?;
    Ok(Some(set))
}

/// Everything that decides what a document looks like and where it goes.
#[derive(Debug, Clone, Default)]
pub struct DocumentOptions {
    pub format: DocumentFormat,
    pub json: JsonMode,
    pub redactor: Redactor,
    pub filter: MessageFilter,
    pub index: IndexNaming,
    /// `DEAD_LETTER_INDEX`; `None` means `<prefix>-dead-letter`. Check a configured name with
    /// [`super::index::validate_index_name`].
    pub dead_letter_index: Option<String>,
    pub id: IdMode,
    /// Where the records of objects read from S3 go, by format.
    pub objects: ObjectIndices,
    /// Whether the lines of a stack trace sent as consecutive events make one document
    /// (`MULTILINE`).
    pub multiline: super::Multiline,
    /// How far from its read time a document's own time may lie and still name its index
    /// (`INDEX_TIME_WINDOW_DAYS`).
    pub time_window: super::TimeWindow,
    /// How deep a JSON message may nest and how many fields it may bring and still be parsed
    /// into fields (`MAX_JSON_DEPTH`, `MAX_FIELDS`).
    pub json_limits: crate::json::shape::JsonLimits,
    /// GeoIP, AS numbers and user agents (`GEOIP_DATABASE`, `GEOIP_ASN_DATABASE`), loaded once per
    /// cold start by the forwarder (`crate::enrich::Enrichment::load`): no database by default.
    pub enrichment: std::sync::Arc<crate::enrich::Enrichment>,
}

/// The index naming of each format of object records (`S3_INDEX_PREFIXES`), with the
/// granularity of `INDEX_GRANULARITY` and no log-group segment. CloudWatch Logs payloads of
/// Firehose files are not records: they go where a subscription's events go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectIndices {
    namings: Vec<(Format, IndexNaming)>,
}

impl ObjectIndices {
    /// The default prefixes (each format's row of the table says its own), overridden by
    /// `prefixes`.
    pub fn new(
        prefixes: &[(Format, String)],
        granularity: Granularity,
    ) -> Result<Self, (String, IndexNameError)> {
        let mut namings = Vec::new();
        for format in FORMATS {
            let Some(default) = format.index_prefix else {
                continue;
            };
            let prefix = prefixes
                .iter()
                .rev()
                .find(|(given, _)| given == format)
                .map_or(default, |(_, prefix)| prefix.as_str());
            let naming =
                IndexNaming::new(prefix, granularity, false).map_err(|err| (prefix.to_string(), err))?;
            namings.push((*format, naming));
        }
        Ok(ObjectIndices { namings })
    }

    /// The same prefixes written into `mode` (`INDEX_MODE` applies to every prefix).
    pub(crate) fn with_mode(mut self, mode: IndexMode) -> Self {
        for (_, naming) in &mut self.namings {
            *naming = naming.clone().with_mode(mode);
        }
        self
    }

    /// The naming of a format's records (text lines' for a format that has no records).
    pub fn naming(&self, format: Format) -> &IndexNaming {
        let text = self.namings.iter().find(|(given, _)| *given == Format::TextLines);
        self.namings
            .iter()
            .find(|(given, _)| *given == format)
            .or(text)
            .map(|(_, naming)| naming)
            .expect("every record format has a naming")
    }

    /// Each distinct prefix with the formats whose records go there.
    pub(crate) fn by_prefix(&self) -> Vec<(&str, Vec<Format>)> {
        let mut out: Vec<(&str, Vec<Format>)> = Vec::new();
        for (format, naming) in &self.namings {
            match out.iter_mut().find(|(prefix, _)| *prefix == naming.prefix()) {
                Some((_, formats)) => formats.push(*format),
                None => out.push((naming.prefix(), vec![*format])),
            }
        }
        out
    }
}

impl Default for ObjectIndices {
    fn default() -> Self {
        ObjectIndices::new(&[], Granularity::Day).expect("the default prefixes are valid")
    }
}

impl DocumentOptions {
    /// Where documents that OpenSearch keeps rejecting go.
    pub(crate) fn dead_letter_index(&self) -> String {
        self.dead_letter_index
            .clone()
            .unwrap_or_else(|| format!("{}-dead-letter", self.index.prefix()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn filter_includes_then_excludes() {
        let filter = MessageFilter::new(
            &strings(&["ERROR", "WARN"]),
            &strings(&["^(START|END) RequestId"]),
        )
        .expect("valid");
        assert!(filter.keeps("x\tERROR\tboom"));
        assert!(!filter.keeps("x\tINFO\tfine"));
        assert!(!filter.keeps("START RequestId: 1 ERROR"));
        assert!(MessageFilter::default().keeps("anything"));
    }

    #[test]
    fn invalid_filter_pattern_is_named() {
        let err = MessageFilter::new(&[], &strings(&["[unclosed"])).expect_err("invalid");
        assert_eq!(err.pattern, "[unclosed");
    }

    #[test]
    fn object_records_go_to_their_format_s_prefix() {
        let indices =
            ObjectIndices::new(&[(Format::JsonLines, "app-json".to_owned())], Granularity::Month).unwrap();
        assert_eq!(
            indices.naming(Format::JsonLines).index_for("", 1_795_946_400_000),
            "app-json-2026.11"
        );
        assert_eq!(
            indices
                .naming(Format::Cloudtrail)
                .index_for("", 1_795_946_400_000),
            "cloudtrail-2026.11"
        );
        let prefixes: Vec<&str> = indices.by_prefix().iter().map(|(prefix, _)| *prefix).collect();
        assert_eq!(prefixes[..4], ["cloudtrail", "config", "app-json", "s3"]);
        assert_eq!(indices.naming(Format::Alb).prefix(), "alb");
        let (prefix, _) =
            ObjectIndices::new(&[(Format::TextLines, "Bad".to_owned())], Granularity::Day).unwrap_err();
        assert_eq!(prefix, "Bad");
    }

    #[test]
    fn dead_letter_index_defaults_to_the_prefix() {
        assert_eq!(DocumentOptions::default().dead_letter_index(), "cwl-dead-letter");
        let custom = DocumentOptions {
            dead_letter_index: Some("failed".to_owned()),
            ..Default::default()
        };
        assert_eq!(custom.dead_letter_index(), "failed");
    }
}

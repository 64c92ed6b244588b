//! How documents are shaped: validated settings with the documented defaults.

use regex::RegexSet;

use super::index::IndexNaming;
use super::redact::{PatternError, Redactor, compile_patterns};

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
}

impl DocumentOptions {
    /// Where documents that OpenSearch keeps rejecting go.
    pub fn dead_letter_index(&self) -> String {
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
    fn dead_letter_index_defaults_to_the_prefix() {
        assert_eq!(DocumentOptions::default().dead_letter_index(), "cwl-dead-letter");
        let custom = DocumentOptions {
            dead_letter_index: Some("failed".to_owned()),
            ..Default::default()
        };
        assert_eq!(custom.dead_letter_index(), "failed");
    }
}

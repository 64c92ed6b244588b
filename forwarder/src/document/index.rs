//! Index names: `<prefix>[-<log group>]-<date>`, one index per hour, day or month of event time,
//! or, with `INDEX_MODE=data-stream`, the data stream `<prefix>`. The prefix is the first
//! `INDEX_RULES` prefix whose glob matches the log group, else `INDEX_PREFIX`.
//!
//! OpenSearch's rules for index names
//! (<https://opensearch.org/docs/latest/api-reference/index-apis/create-index/#index-naming-restrictions>):
//! lowercase, none of `\ / * ? " < > | , #` `:` or space, not starting with `-`, `_` or `+`,
//! not `.` or `..`, at most 255 bytes.

use std::fmt::Write as _;

/// The characters OpenSearch refuses in an index name.
const FORBIDDEN: &[char] = &['\\', '/', '*', '?', '"', '<', '>', '|', ' ', ',', '#', ':'];

/// OpenSearch's limit on an index name, in bytes.
pub(crate) const MAX_INDEX_BYTES: usize = 255;

/// The longest prefix accepted, leaving room for a log-group segment and the date.
pub(crate) const MAX_PREFIX_BYTES: usize = 128;

/// An index name or prefix that OpenSearch would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexNameError {
    #[error("index name is empty")]
    Empty,
    #[error("index name {name:?} has uppercase letters; OpenSearch index names are lowercase")]
    Uppercase { name: String },
    #[error("index name {name:?} contains {ch:?}, which OpenSearch forbids (\\ / * ? \" < > | , # : space)")]
    ForbiddenChar { name: String, ch: char },
    #[error("index name {name:?} starts with {ch:?}; it may not start with -, _ or +")]
    BadStart { name: String, ch: char },
    #[error("index name {name:?} is {len} bytes; the limit is {max}")]
    TooLong { name: String, len: usize, max: usize },
    #[error("index name {name:?} is reserved")]
    Reserved { name: String },
}

/// Checks a complete index name (such as `DEAD_LETTER_INDEX`) against OpenSearch's rules.
pub(crate) fn validate_index_name(name: &str) -> Result<(), IndexNameError> {
    validate(name, MAX_INDEX_BYTES)
}

fn validate(name: &str, max: usize) -> Result<(), IndexNameError> {
    let owned = || name.to_owned();
    let first = name.chars().next().ok_or(IndexNameError::Empty)?;
    if matches!(first, '-' | '_' | '+') {
        return Err(IndexNameError::BadStart {
            name: owned(),
            ch: first,
        });
    }
    if name == "." || name == ".." {
        return Err(IndexNameError::Reserved { name: owned() });
    }
    if let Some(ch) = name.chars().find(|c| FORBIDDEN.contains(c) || c.is_control()) {
        return Err(IndexNameError::ForbiddenChar { name: owned(), ch });
    }
    if name.chars().any(char::is_uppercase) {
        return Err(IndexNameError::Uppercase { name: owned() });
    }
    if name.len() > max {
        return Err(IndexNameError::TooLong {
            name: owned(),
            len: name.len(),
            max,
        });
    }
    Ok(())
}

/// How much time one index covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Granularity {
    /// `cwl-2026.11.22.13`
    Hour,
    /// `cwl-2026.11.22`, the AWS blueprint's naming.
    #[default]
    Day,
    /// `cwl-2026.11`
    Month,
}

impl Granularity {
    /// How many milliseconds share an index name at most (a month is cached per day).
    fn bucket_ms(self) -> i64 {
        match self {
            Granularity::Hour => 3_600_000,
            Granularity::Day | Granularity::Month => 86_400_000,
        }
    }
}

/// What documents are written into (`INDEX_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IndexMode {
    /// Dated indices, `<prefix>-2026.11.22`: what the AWS blueprint does, and what retention by
    /// deleting whole indices needs on a cluster without ISM rollover.
    #[default]
    Index,
    /// One data stream per prefix, named by the prefix: OpenSearch picks the backing index and an
    /// ISM policy rolls it over, so index sizes follow the volume rather than the calendar.
    DataStream,
}

/// One `INDEX_RULES` entry: the events of log groups matching `glob` go to `prefix`.
#[derive(Debug, Clone)]
pub struct IndexRule {
    glob: glob::Pattern,
    prefix: String,
}

impl PartialEq for IndexRule {
    fn eq(&self, other: &Self) -> bool {
        self.glob.as_str() == other.glob.as_str() && self.prefix == other.prefix
    }
}

impl Eq for IndexRule {}

impl IndexRule {
    /// Checks the glob and the prefix (against the same rules as `INDEX_PREFIX`).
    pub fn new(glob: &str, prefix: &str) -> Result<Self, IndexRuleError> {
        let rule = || format!("{glob}={prefix}");
        let glob = glob::Pattern::new(glob).map_err(|err| IndexRuleError::Glob {
            rule: rule(),
            position: err.pos,
            reason: err.msg,
        })?;
        validate(prefix, MAX_PREFIX_BYTES)
            .map_err(|source| IndexRuleError::Prefix { rule: rule(), source })?;
        Ok(IndexRule {
            glob,
            prefix: prefix.to_owned(),
        })
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Whether the rule takes this log group. `*` matches `/` too, as in the subscriber's
    /// `INCLUDE_PATTERNS`: `/aws/rds/*` takes `/aws/rds/instance/db-1/postgresql`.
    pub fn matches(&self, log_group: &str) -> bool {
        self.glob.matches(log_group)
    }
}

/// An `INDEX_RULES` entry that cannot be used, named as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexRuleError {
    #[error("rule {rule:?} is not LOG_GROUP_GLOB=PREFIX")]
    Syntax { rule: String },
    #[error("rule {rule:?}: invalid glob at character {position}: {reason}")]
    Glob {
        rule: String,
        position: usize,
        reason: &'static str,
    },
    #[error("rule {rule:?}: {source}")]
    Prefix { rule: String, source: IndexNameError },
}

impl IndexRuleError {
    /// The rule as written.
    pub fn rule(&self) -> &str {
        match self {
            IndexRuleError::Syntax { rule }
            | IndexRuleError::Glob { rule, .. }
            | IndexRuleError::Prefix { rule, .. } => rule,
        }
    }
}

/// Parses `INDEX_RULES`: `GLOB=PREFIX` entries separated by commas, in the order they are tried.
/// Log group names hold neither `,` nor `=`, so neither needs escaping.
pub fn parse_rules(text: &str) -> Result<Vec<IndexRule>, IndexRuleError> {
    text.split(',')
        .map(str::trim)
        .filter(|rule| !rule.is_empty())
        .map(|rule| {
            let (glob, prefix) = rule
                .split_once('=')
                .filter(|(glob, prefix)| !glob.trim().is_empty() && !prefix.contains('='))
                .ok_or_else(|| IndexRuleError::Syntax {
                    rule: rule.to_owned(),
                })?;
            IndexRule::new(glob.trim(), prefix.trim())
        })
        .collect()
}

/// How index names are formed: validated prefix, routing rules, granularity, optional
/// log-group segment, and whether the name is a data stream's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexNaming {
    prefix: String,
    granularity: Granularity,
    log_group: bool,
    mode: IndexMode,
    rules: Vec<IndexRule>,
}

impl Default for IndexNaming {
    /// `cwl-YYYY.MM.DD`, without a log-group segment.
    fn default() -> Self {
        IndexNaming {
            prefix: "cwl".to_owned(),
            granularity: Granularity::Day,
            log_group: false,
            mode: IndexMode::Index,
            rules: Vec::new(),
        }
    }
}

impl IndexNaming {
    /// Validates `prefix` against OpenSearch's index-name rules.
    pub fn new(prefix: &str, granularity: Granularity, log_group: bool) -> Result<Self, IndexNameError> {
        validate(prefix, MAX_PREFIX_BYTES)?;
        Ok(IndexNaming {
            prefix: prefix.to_owned(),
            granularity,
            log_group,
            mode: IndexMode::Index,
            rules: Vec::new(),
        })
    }

    /// The same naming, routing log groups by `rules` (first match wins) before the prefix.
    pub(crate) fn with_rules(mut self, rules: Vec<IndexRule>) -> Self {
        self.rules = rules;
        self
    }

    /// The same naming, writing into `mode`. A data stream's name is its prefix alone: neither
    /// date nor log-group segment.
    pub(crate) fn with_mode(mut self, mode: IndexMode) -> Self {
        self.mode = mode;
        self
    }

    /// The default prefix (`INDEX_PREFIX`): of unrouted log groups, and of the dead-letter index.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn mode(&self) -> IndexMode {
        self.mode
    }

    pub(crate) fn granularity(&self) -> Granularity {
        self.granularity
    }

    /// The prefix of a log group's events: the first rule's that matches, else the default.
    pub(crate) fn prefix_for(&self, log_group: &str) -> &str {
        self.rules
            .iter()
            .find(|rule| rule.matches(log_group))
            .map_or(&self.prefix, |rule| &rule.prefix)
    }

    /// Every prefix documents may go to, the default first, each once: what setup installs
    /// templates (and policies) for.
    pub fn prefixes(&self) -> Vec<&str> {
        let mut out = vec![self.prefix.as_str()];
        for rule in &self.rules {
            if !out.contains(&rule.prefix.as_str()) {
                out.push(&rule.prefix);
            }
        }
        out
    }

    /// The index name for one event of `log_group` at `timestamp_ms`.
    pub(crate) fn index_for(&self, log_group: &str, timestamp_ms: i64) -> String {
        self.for_batch(log_group).index_for(timestamp_ms)
    }

    /// A namer for the events of one log group, caching the last name it made: events of a batch
    /// almost always share their index.
    pub(crate) fn for_batch(&self, log_group: &str) -> BatchIndex {
        let mut stem = self.prefix_for(log_group).to_owned();
        if self.mode == IndexMode::DataStream {
            return BatchIndex {
                granularity: None,
                stem,
                cached: None,
            };
        }
        if self.log_group {
            let segment = sanitise_segment(log_group);
            if !segment.is_empty() {
                stem.push('-');
                stem.push_str(&segment);
            }
        }
        stem.push('-');
        // Leave room for the longest date suffix (`YYYYYY.MM.DD.HH`).
        truncate_to_boundary(&mut stem, MAX_INDEX_BYTES - 16);
        BatchIndex {
            granularity: Some(self.granularity),
            stem,
            cached: None,
        }
    }
}

/// Index names for the events of one batch; see [`IndexNaming::for_batch`].
#[derive(Debug)]
pub(crate) struct BatchIndex {
    /// `None` for a data stream: the stem is the whole name.
    granularity: Option<Granularity>,
    stem: String,
    cached: Option<(i64, String)>,
}

impl BatchIndex {
    /// The index (or data stream) of an event at `timestamp_ms`.
    pub(crate) fn index_for(&mut self, timestamp_ms: i64) -> String {
        let Some(granularity) = self.granularity else {
            return self.stem.clone();
        };
        let bucket = timestamp_ms.div_euclid(granularity.bucket_ms());
        if let Some((cached_bucket, name)) = &self.cached
            && *cached_bucket == bucket
        {
            return name.clone();
        }
        let mut name = self.stem.clone();
        let (date, hour) = crate::civil::civil_from_ms(timestamp_ms);
        let _ = match granularity {
            Granularity::Hour => write!(name, "{:04}.{:02}.{:02}.{:02}", date.0, date.1, date.2, hour),
            Granularity::Day => write!(name, "{:04}.{:02}.{:02}", date.0, date.1, date.2),
            Granularity::Month => write!(name, "{:04}.{:02}", date.0, date.1),
        };
        self.cached = Some((bucket, name.clone()));
        name
    }
}

/// A log group name as an index-name segment: lowercase, forbidden characters and runs of them
/// become one `-`, no leading or trailing `-`/`_`/`+`
/// (`/aws/lambda/Checkout-API` → `aws-lambda-checkout-api`).
pub(crate) fn sanitise_segment(log_group: &str) -> String {
    let mut out = String::with_capacity(log_group.len());
    for ch in log_group.chars().flat_map(char::to_lowercase) {
        if FORBIDDEN.contains(&ch) || ch.is_control() || ch == '.' {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(ch);
        }
    }
    let trimmed = out.trim_matches(|c| matches!(c, '-' | '_' | '+'));
    let mut segment = trimmed.to_owned();
    truncate_to_boundary(&mut segment, 100);
    segment
}

fn truncate_to_boundary(text: &mut String, max: usize) {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-22T13:45:00.123Z
    const TS: i64 = 1_795_355_100_123;

    #[test]
    fn default_naming_is_daily_like_the_blueprint() {
        assert_eq!(
            IndexNaming::default().index_for("/aws/lambda/x", TS),
            "cwl-2026.11.22"
        );
    }

    #[test]
    fn granularities() {
        let hour = IndexNaming::new("logs", Granularity::Hour, false).expect("valid");
        assert_eq!(hour.index_for("g", TS), "logs-2026.11.22.13");
        let month = IndexNaming::new("logs", Granularity::Month, false).expect("valid");
        assert_eq!(month.index_for("g", TS), "logs-2026.11");
        // The last millisecond of a day and the first of the next.
        let day = IndexNaming::default();
        let mut batch = day.for_batch("g");
        assert_eq!(batch.index_for(1_795_391_999_999), "cwl-2026.11.22");
        assert_eq!(batch.index_for(1_795_392_000_000), "cwl-2026.11.23");
        assert_eq!(batch.index_for(0), "cwl-1970.01.01");
        assert_eq!(batch.index_for(-1), "cwl-1969.12.31");
    }

    #[test]
    fn log_group_segment_is_sanitised() {
        let naming = IndexNaming::new("cwl", Granularity::Day, true).expect("valid");
        assert_eq!(
            naming.index_for("/aws/lambda/Checkout-API", TS),
            "cwl-aws-lambda-checkout-api-2026.11.22"
        );
        assert_eq!(
            naming.index_for("API-Gateway-Execution-Logs_abc123/prod", TS),
            "cwl-api-gateway-execution-logs_abc123-prod-2026.11.22"
        );
        assert_eq!(
            naming.index_for("_weird: #group*", TS),
            "cwl-weird-group-2026.11.22"
        );
        assert_eq!(naming.index_for("///", TS), "cwl-2026.11.22");
        let long = "g".repeat(600);
        let name = naming.index_for(&long, TS);
        assert!(validate_index_name(&name).is_ok(), "{name}");
    }

    #[test]
    fn the_first_matching_rule_names_the_prefix() {
        let rules = parse_rules(" /aws/lambda/payments-*=payments, /aws/rds/*=rds,/aws/lambda/*=lambda ,")
            .expect("valid rules");
        let naming = IndexNaming::default().with_rules(rules);
        assert_eq!(
            naming.index_for("/aws/lambda/payments-api", TS),
            "payments-2026.11.22"
        );
        assert_eq!(naming.index_for("/aws/lambda/checkout", TS), "lambda-2026.11.22");
        assert_eq!(
            naming.index_for("/aws/rds/instance/db-1/postgresql", TS),
            "rds-2026.11.22",
            "* matches across /"
        );
        assert_eq!(naming.index_for("/ecs/web", TS), "cwl-2026.11.22");
        assert_eq!(
            naming.index_for("/AWS/rds/x", TS),
            "cwl-2026.11.22",
            "globs are case-sensitive, as log group names are"
        );
        assert_eq!(naming.prefixes(), ["cwl", "payments", "rds", "lambda"]);
        let repeated = IndexNaming::default().with_rules(parse_rules("a*=cwl,b*=x,c*=x").unwrap());
        assert_eq!(repeated.prefixes(), ["cwl", "x"]);
    }

    #[test]
    fn rules_that_cannot_be_used_are_named() {
        assert_eq!(parse_rules("").unwrap(), []);
        let syntax = parse_rules("/aws/a*=a,/aws/b*").unwrap_err();
        assert_eq!(
            syntax,
            IndexRuleError::Syntax {
                rule: "/aws/b*".into()
            }
        );
        assert_eq!(parse_rules("=x").unwrap_err().rule(), "=x");
        assert_eq!(parse_rules("a=b=c").unwrap_err().rule(), "a=b=c");
        let glob = parse_rules("/aws/[a=logs").unwrap_err();
        assert!(matches!(glob, IndexRuleError::Glob { .. }), "{glob}");
        assert_eq!(glob.rule(), "/aws/[a=logs");
        let prefix = parse_rules("/aws/a*=a, /aws/b*=Payments").unwrap_err();
        assert!(
            matches!(&prefix, IndexRuleError::Prefix { rule, source: IndexNameError::Uppercase { .. } } if rule == "/aws/b*=Payments"),
            "{prefix}"
        );
        assert!(prefix.to_string().contains("/aws/b*=Payments"), "{prefix}");
        assert!(matches!(
            parse_rules("a*=").unwrap_err(),
            IndexRuleError::Prefix {
                source: IndexNameError::Empty,
                ..
            }
        ));
    }

    #[test]
    fn a_data_stream_is_named_by_its_prefix_alone() {
        let naming = IndexNaming::new("logs", Granularity::Hour, false)
            .expect("valid")
            .with_rules(parse_rules("/aws/rds/*=rds").unwrap())
            .with_mode(IndexMode::DataStream);
        assert_eq!(naming.index_for("/aws/lambda/x", TS), "logs");
        let mut batch = naming.for_batch("/aws/rds/db");
        assert_eq!(batch.index_for(TS), "rds");
        assert_eq!(batch.index_for(TS + 86_400_000), "rds", "no date");
    }

    #[test]
    fn prefixes_are_validated() {
        let new = |p: &str| IndexNaming::new(p, Granularity::Day, false);
        assert!(new("cwl").is_ok());
        assert!(new("team.logs-prod").is_ok());
        assert_eq!(new(""), Err(IndexNameError::Empty));
        assert!(matches!(new("Logs"), Err(IndexNameError::Uppercase { .. })));
        assert!(matches!(
            new("a b"),
            Err(IndexNameError::ForbiddenChar { ch: ' ', .. })
        ));
        assert!(matches!(
            new("a:b"),
            Err(IndexNameError::ForbiddenChar { ch: ':', .. })
        ));
        assert!(matches!(
            new("_logs"),
            Err(IndexNameError::BadStart { ch: '_', .. })
        ));
        assert!(matches!(new(".."), Err(IndexNameError::Reserved { .. })));
        assert!(matches!(
            new(&"a".repeat(200)),
            Err(IndexNameError::TooLong { len: 200, .. })
        ));
        assert!(validate_index_name(&"a".repeat(255)).is_ok());
        assert!(validate_index_name(&"a".repeat(256)).is_err());
    }
}

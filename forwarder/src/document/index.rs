//! Index names: `<prefix>[-<log group>]-<date>`, one index per hour, day or month of event time.
//!
//! OpenSearch's rules for index names
//! (<https://opensearch.org/docs/latest/api-reference/index-apis/create-index/#index-naming-restrictions>):
//! lowercase, none of `\ / * ? " < > | , #` `:` or space, not starting with `-`, `_` or `+`,
//! not `.` or `..`, at most 255 bytes.

use std::fmt::Write as _;

/// The characters OpenSearch refuses in an index name.
const FORBIDDEN: &[char] = &['\\', '/', '*', '?', '"', '<', '>', '|', ' ', ',', '#', ':'];

/// OpenSearch's limit on an index name, in bytes.
pub const MAX_INDEX_BYTES: usize = 255;

/// The longest prefix accepted, leaving room for a log-group segment and the date.
pub const MAX_PREFIX_BYTES: usize = 128;

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
pub fn validate_index_name(name: &str) -> Result<(), IndexNameError> {
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

/// How index names are formed: validated prefix, granularity, optional log-group segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexNaming {
    prefix: String,
    granularity: Granularity,
    log_group: bool,
}

impl Default for IndexNaming {
    /// `cwl-YYYY.MM.DD`, without a log-group segment.
    fn default() -> Self {
        IndexNaming {
            prefix: "cwl".to_owned(),
            granularity: Granularity::Day,
            log_group: false,
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
        })
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The index name for one event of `log_group` at `timestamp_ms`.
    pub fn index_for(&self, log_group: &str, timestamp_ms: i64) -> String {
        self.for_batch(log_group).index_for(timestamp_ms)
    }

    /// A namer for the events of one log group, caching the last name it made: events of a batch
    /// almost always share their index.
    pub fn for_batch(&self, log_group: &str) -> BatchIndex<'_> {
        let mut stem = self.prefix.clone();
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
            naming: self,
            stem,
            cached: None,
        }
    }
}

/// Index names for the events of one batch; see [`IndexNaming::for_batch`].
#[derive(Debug)]
pub struct BatchIndex<'a> {
    naming: &'a IndexNaming,
    stem: String,
    cached: Option<(i64, String)>,
}

impl BatchIndex<'_> {
    /// The index of an event at `timestamp_ms`.
    pub fn index_for(&mut self, timestamp_ms: i64) -> String {
        let bucket = timestamp_ms.div_euclid(self.naming.granularity.bucket_ms());
        if let Some((cached_bucket, name)) = &self.cached
            && *cached_bucket == bucket
        {
            return name.clone();
        }
        let mut name = self.stem.clone();
        let (date, hour) = super::write::civil_from_ms(timestamp_ms);
        let _ = match self.naming.granularity {
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
pub fn sanitise_segment(log_group: &str) -> String {
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

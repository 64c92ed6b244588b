//! One JSON object per line; its time is the first of `S3_TIMESTAMP_FIELDS` it holds.

use serde_json::Value;

use super::time::time_of;
use super::{Dashboard, FormatSpec, KeyLayout, Lines, Reading};

pub(crate) static FORMAT: FormatSpec = FormatSpec {
    name: "json-lines",
    key: KeyLayout::NONE,
    content: Some(|text| text.trim_start().starts_with('{')),
    reading: Reading::Lines(Lines {
        header: None,
        time: Some(line_time),
    }),
    typed: None,
    index_prefix: Some("s3"),
    dashboards: &[] as &[Dashboard],
};

/// The time a JSON line holds in one of `fields` (dotted paths, split), in milliseconds.
pub(crate) fn line_time(line: &str, fields: &[Vec<String>]) -> Option<i64> {
    if fields.is_empty() || !line.trim_start().starts_with('{') {
        return None;
    }
    let value: Value = serde_json::from_str(line).ok()?;
    fields.iter().find_map(|path| {
        let field = path.iter().try_fold(&value, |value, part| value.get(part))?;
        time_of(field)
    })
}

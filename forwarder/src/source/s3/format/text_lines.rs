//! One log line per line, the format of an object nothing else recognises; a line that starts
//! with an RFC 3339 time has that time.

use super::time::rfc3339_ms;
use super::{FormatSpec, KeyLayout, Lines, Reading};

pub(crate) static FORMAT: FormatSpec = FormatSpec {
    name: "text-lines",
    key: KeyLayout::NONE,
    // None: recognition falls back to it when no format's content test passes (`by_content`),
    // whatever the table's order.
    content: None,
    reading: Reading::Lines(Lines {
        header: None,
        time: Some(|line, _| line.split_whitespace().next().and_then(rfc3339_ms)),
    }),
    typed: None,
    index_prefix: Some("s3"),
    dashboards: &[],
};

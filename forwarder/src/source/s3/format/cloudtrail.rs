//! CloudTrail log files, `{"Records":[…]}`
//! (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html>),
//! written under `…/AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/…`
//! (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html>).

use super::time::rfc3339_ms;
use super::{FormatSpec, KeyLayout, Reading};

pub(crate) static FORMAT: FormatSpec = FormatSpec {
    name: "cloudtrail",
    key: KeyLayout {
        service: Some("CloudTrail"),
        file: None,
    },
    content: Some(is_records_file),
    reading: Reading::Records {
        what: "CloudTrail log file",
        time: event_time,
    },
    typed: None,
    index_prefix: Some("cloudtrail"),
    dashboards: &[],
};

/// Whether the text starts as a CloudTrail file does, `{"Records":[` (whitespace aside).
pub(super) fn is_records_file(text: &str) -> bool {
    let start = text.trim_start();
    let compact: String = start.chars().take(256).filter(|c| !c.is_whitespace()).collect();
    compact.starts_with("{\"Records\":[")
}

/// A record's `eventTime`, in milliseconds.
fn event_time(record: &str) -> Option<i64> {
    #[derive(serde::Deserialize)]
    struct Time<'a> {
        #[serde(rename = "eventTime", borrow)]
        event_time: Option<&'a str>,
    }
    serde_json::from_str::<Time>(record)
        .ok()
        .and_then(|time| time.event_time.and_then(rfc3339_ms))
}

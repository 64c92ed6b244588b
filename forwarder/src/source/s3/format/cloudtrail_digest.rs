//! CloudTrail digest files, written beside a trail's log files when log file validation is on,
//! under `…/AWSLogs/[o-ORG/]ACCOUNT/CloudTrail-Digest/REGION/YYYY/MM/DD/
//! ACCOUNT_CloudTrail-Digest_REGION_TRAIL_REGION_YYYYMMDDTHHMMSSZ.json.gz`
//! (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-digest-file-structure.html>).
//!
//! Skipped: a digest holds no event, only the hashes of the hour's log files and the signature
//! chain that `aws cloudtrail validate-logs` checks against the objects in S3. An index of it
//! would be searched by nobody, and one object an hour per region per trail would swell the
//! counts of indexed documents with what is not a log. A skipped object is counted
//! (`objects_skipped`) and acknowledged; a rule of `S3_FORMATS` naming `json-lines` for these
//! keys indexes them instead.

use super::{FormatSpec, KeyLayout, Reading};

pub(crate) static FORMAT: FormatSpec = FormatSpec {
    name: "cloudtrail-digest",
    key: KeyLayout {
        service: Some("CloudTrail-Digest"),
        file: Some(is_digest_file),
    },
    content: None,
    reading: Reading::Skip {
        why: "a CloudTrail digest file holds no events, only the hashes that validate-logs checks",
    },
    typed: None,
    index_prefix: None,
    dashboards: &[],
};

/// `ACCOUNT_CloudTrail-Digest_…json.gz` (a backfill digest ends `_backfill.json.gz`).
fn is_digest_file(file: &str) -> bool {
    file.contains("_CloudTrail-Digest_") && file.ends_with(".json.gz")
}

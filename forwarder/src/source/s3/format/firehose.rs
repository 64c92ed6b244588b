//! CloudWatch Logs subscription payloads written back to back by Firehose
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html#FirehoseExample>).
//! Each payload becomes the documents a subscription makes, in the indices of `INDEX_PREFIX`.

use super::{FormatSpec, KeyLayout, Reading};

pub(crate) static FORMAT: FormatSpec = FormatSpec {
    name: "cloudwatch-firehose",
    key: KeyLayout::NONE,
    content: Some(|text| {
        text.trim_start().starts_with('{')
            && !super::cloudtrail::is_records_file(text)
            && text.contains("\"messageType\"")
            && text.contains("\"logGroup\"")
    }),
    reading: Reading::Payloads,
    typed: None,
    index_prefix: None,
    dashboards: &[],
};

//! The CloudWatch Logs subscription payload: `awslogs.data` is base64(gzip(JSON)).
//!
//! Format: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html#LambdaFunctionExample>
//! (fields `messageType`, `owner`, `logGroup`, `logStream`, `subscriptionFilters`, `logEvents`;
//! account-level policies add `policyLevel`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One decoded subscription batch. Unknown fields are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogsData {
    /// `DATA_MESSAGE` or `CONTROL_MESSAGE` (a health check to acknowledge and skip).
    pub message_type: String,
    /// The AWS account id the log group belongs to.
    pub owner: String,
    pub log_group: String,
    pub log_stream: String,
    #[serde(default)]
    pub subscription_filters: Vec<String>,
    #[serde(default)]
    pub log_events: Vec<LogEvent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_level: Option<String>,
}

/// One log event of a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEvent {
    /// CloudWatch's unique event id: the source of the document `_id`.
    pub id: String,
    /// Event time, milliseconds since the epoch.
    pub timestamp: i64,
    pub message: String,
    /// Present when the filter pattern is space-delimited (`[ip, user, ...]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extracted_fields: Option<BTreeMap<String, String>>,
}

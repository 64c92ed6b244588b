//! CloudTrail log files, `{"Records":[…]}`
//! (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html>),
//! written under `…/AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/…`
//! (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html>).

use std::borrow::Cow;

use super::split::is_ip;
use super::time::rfc3339_ms;
use super::{FormatSpec, KeyLayout, Reading, Shared};

pub(crate) static FORMAT: FormatSpec = FormatSpec {
    name: "cloudtrail",
    key: KeyLayout {
        service: Some("CloudTrail"),
        file: None,
    },
    content: Some(is_records_file),
    reading: Reading::Records {
        member: "Records",
        what: "CloudTrail log file",
        time: event_time,
        ecs,
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

/// What a CloudTrail record says in ECS's terms, as Elastic's AWS integration reads it:
/// `eventName` the action, `eventSource` the provider, `errorCode` a failure, `sourceIPAddress`
/// the source when it is an address (not a service's name, `ec2.amazonaws.com`), the identity's
/// `userName` (an assumed role's issuer's) and `principalId`, and the account and region the event
/// was delivered for. Fields are borrowed from the record where it holds them unescaped.
/// Record fields: <https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html>.
pub(super) fn ecs(record: &str) -> Option<Shared<'_>> {
    let trail: Trail<'_> = serde_json::from_str(record).ok()?;
    let identity = trail.user_identity.unwrap_or_default();
    let issuer = identity
        .session_context
        .and_then(|context| context.session_issuer);
    let failed = trail.error_code.is_some();
    Some(Shared {
        action: trail.event_name,
        provider: trail.event_source,
        succeeded: Some(!failed),
        error_code: trail.error_code,
        error_message: trail.error_message,
        client_ip: trail.source_ip.filter(|address| is_ip(address)),
        user_agent: trail.user_agent,
        user_name: identity.user_name.or(issuer.and_then(|issuer| issuer.user_name)),
        user_id: identity.principal_id,
        account_id: trail.recipient_account_id,
        region: trail.aws_region,
        ..Shared::default()
    })
}

/// The members of a record [`ecs`] reads; the rest are skipped unread.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Trail<'a> {
    #[serde(borrow)]
    event_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    event_source: Option<Cow<'a, str>>,
    #[serde(borrow)]
    aws_region: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "sourceIPAddress")]
    source_ip: Option<Cow<'a, str>>,
    #[serde(borrow)]
    user_agent: Option<Cow<'a, str>>,
    #[serde(borrow)]
    error_code: Option<Cow<'a, str>>,
    #[serde(borrow)]
    error_message: Option<Cow<'a, str>>,
    #[serde(borrow)]
    recipient_account_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    user_identity: Option<Identity<'a>>,
}

#[derive(Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Identity<'a> {
    #[serde(borrow)]
    user_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    principal_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    session_context: Option<SessionContext<'a>>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionContext<'a> {
    #[serde(borrow)]
    session_issuer: Option<Issuer<'a>>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Issuer<'a> {
    #[serde(borrow)]
    user_name: Option<Cow<'a, str>>,
}

//! The system fields of a centralized subscription (`emitSystemFields` on the filter:
//! `@aws.account`, `@aws.region`, `@source.log`): a batch from one central log group may hold the
//! events of many accounts, regions and source groups, so it is split by source into batches
//! whose `owner` is the source account, whose `logGroup` is the source group (when `@source.log`
//! is sent) and whose region is the source region. Everything downstream (`cloud.account.id`,
//! `cloud.region`, the `_id` scope of [`crate::document::scoped_event_id`]) then reads them as
//! it reads any batch.
//!
//! Where they are: the API Reference says only that they are "included in the log events sent
//! to the subscription destination" (PutSubscriptionFilter, `emitSystemFields`:
//! <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutSubscriptionFilter.html>);
//! the subscription page (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html>)
//! shows no batch with them. Sluice reads them where a log event already carries named fields,
//! its `extractedFields` object, by their names as the API spells them, as the OpenTelemetry
//! Collector's CloudWatch Logs subscription decoder does (opentelemetry-collector-contrib,
//! `extension/encoding/awslogsencodingextension`, its subscription-filter unmarshaler: "present
//! when emitSystemFields is enabled"); a batch without them is left as it is.

use super::subscription::{LogEvent, LogsData};

/// `@aws.account`: the account the event was first written in.
pub const ACCOUNT: &str = "@aws.account";

/// `@aws.region`: the region the event was first written in.
pub const REGION: &str = "@aws.region";

/// `@source.log`: the log group the event was first written to.
pub const SOURCE_LOG: &str = "@source.log";

/// Where one event came from, by its system fields (`None`: not sent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Source {
    account: Option<String>,
    region: Option<String>,
    log_group: Option<String>,
}

/// Takes the system fields out of `event`'s `extractedFields` (dropping the object once empty).
fn take_source(event: &mut LogEvent) -> Source {
    let Some(fields) = event.extracted_fields.as_mut() else {
        return Source::default();
    };
    let source = Source {
        account: fields.remove(ACCOUNT),
        region: fields.remove(REGION),
        log_group: fields.remove(SOURCE_LOG),
    };
    if fields.is_empty() {
        event.extracted_fields = None;
    }
    source
}

fn has_system_fields(event: &LogEvent) -> bool {
    event.extracted_fields.as_ref().is_some_and(|fields| {
        [ACCOUNT, REGION, SOURCE_LOG]
            .iter()
            .any(|name| fields.contains_key(*name))
    })
}

/// `data` split into one batch per source (account, region, source log group), in the order
/// their first events come; `data` itself when no event carries a system field.
pub fn by_source(mut data: LogsData) -> Vec<LogsData> {
    if !data.log_events.iter().any(has_system_fields) {
        return vec![data];
    }
    let events = std::mem::take(&mut data.log_events);
    let mut batches: Vec<(Source, LogsData)> = Vec::new();
    for mut event in events {
        let source = take_source(&mut event);
        match batches.iter_mut().find(|(seen, _)| *seen == source) {
            Some((_, batch)) => batch.log_events.push(event),
            None => {
                let mut batch = LogsData {
                    log_events: vec![event],
                    from_system_fields: true,
                    ..data.clone()
                };
                if let Some(account) = &source.account {
                    batch.owner.clone_from(account);
                }
                if let Some(group) = &source.log_group {
                    batch.log_group.clone_from(group);
                }
                if source.region.is_some() {
                    batch.source_region.clone_from(&source.region);
                }
                batches.push((source, batch));
            }
        }
    }
    batches.into_iter().map(|(_, batch)| batch).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::source::subscription::decode_json;

    /// A batch from an account-level central log group whose filter emits the three system
    /// fields: the shape of the documented example batch
    /// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html#LambdaFunctionExample>),
    /// with the system fields in each event's `extractedFields` (see the module's note on where
    /// they are). The same event id comes from two source accounts.
    pub(crate) const CENTRAL_BATCH: &str = r#"{
        "messageType": "DATA_MESSAGE",
        "owner": "999999999999",
        "logGroup": "/aws/lambda/orders",
        "logStream": "2026/12/07/[$LATEST]0123456789abcdef",
        "subscriptionFilters": ["sluice"],
        "logEvents": [
            {"id": "31953106606966983378809025079804211143289615424298221568",
             "timestamp": 1765065600000,
             "message": "order 1 placed",
             "extractedFields": {"@aws.account": "111111111111", "@aws.region": "eu-west-1",
                                 "@source.log": "/aws/lambda/orders"}},
            {"id": "31953106606966983378809025079804211143289615424298221568",
             "timestamp": 1765065600000,
             "message": "order 1 placed",
             "extractedFields": {"@aws.account": "222222222222", "@aws.region": "us-east-1",
                                 "@source.log": "/aws/lambda/orders"}},
            {"id": "31953106606966983378809025079804211143289615424298221569",
             "timestamp": 1765065600001,
             "message": "order 2 placed",
             "extractedFields": {"@aws.account": "111111111111", "@aws.region": "eu-west-1",
                                 "@source.log": "/aws/lambda/orders"}}
        ]
    }"#;

    #[test]
    fn a_central_batch_is_split_by_source_account_region_and_group() {
        let data = decode_json(CENTRAL_BATCH.as_bytes()).expect("valid batch");
        let batches = by_source(data);
        let sources: Vec<(&str, Option<&str>, &str, usize)> = batches
            .iter()
            .map(|b| {
                (
                    b.owner.as_str(),
                    b.source_region.as_deref(),
                    b.log_group.as_str(),
                    b.log_events.len(),
                )
            })
            .collect();
        assert_eq!(
            sources,
            [
                ("111111111111", Some("eu-west-1"), "/aws/lambda/orders", 2),
                ("222222222222", Some("us-east-1"), "/aws/lambda/orders", 1),
            ]
        );
        assert!(
            batches
                .iter()
                .flat_map(|b| &b.log_events)
                .all(|e| e.extracted_fields.is_none()),
            "the system fields are taken out of extractedFields"
        );
        assert_eq!(batches[0].log_events[1].message, "order 2 placed");
    }

    #[test]
    fn other_extracted_fields_stay_and_a_batch_without_system_fields_is_unchanged() {
        let json = CENTRAL_BATCH.replacen(
            r#""@source.log": "/aws/lambda/orders"}},"#,
            r#""@source.log": "/aws/lambda/orders", "user": "ann"}},"#,
            1,
        );
        let batches = by_source(decode_json(json.as_bytes()).expect("valid batch"));
        let first = &batches[0].log_events[0];
        assert_eq!(
            first
                .extracted_fields
                .as_ref()
                .map(|f| f.keys().collect::<Vec<_>>()),
            Some(vec![&"user".to_string()])
        );
        let plain = decode_json(crate::source::subscription::tests::DOC_BATCH.as_bytes()).expect("valid");
        assert_eq!(by_source(plain.clone()), vec![plain]);
    }

    #[test]
    fn the_group_is_the_source_log_when_sent_and_the_central_group_otherwise() {
        let central = CENTRAL_BATCH.replacen(
            r#""logGroup": "/aws/lambda/orders""#,
            r#""logGroup": "/central/orders""#,
            1,
        );
        let batches = by_source(decode_json(central.as_bytes()).expect("valid batch"));
        assert!(batches.iter().all(|b| b.log_group == "/aws/lambda/orders"));
        let without = central.replace(
            ",\n                                 \"@source.log\": \"/aws/lambda/orders\"",
            "",
        );
        assert!(!without.contains(SOURCE_LOG));
        let batches = by_source(decode_json(without.as_bytes()).expect("valid batch"));
        assert_eq!(batches.len(), 2);
        assert!(batches.iter().all(|b| b.log_group == "/central/orders"));
        assert_eq!(batches[1].owner, "222222222222");
    }
}

//! The tag cache against a mocked CloudWatch Logs client: what a user of `LOG_GROUP_TAGS` would
//! check (calls per TTL, failures counted once and never fatal, field names), and the `tags`
//! object the documents then carry.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::operation::list_tags_for_resource::{
    ListTagsForResourceError, ListTagsForResourceOutput,
};
use aws_smithy_mocks::{MockResponse, Rule, RuleMode, mock, mock_client};
use aws_smithy_types::error::ErrorMetadata;
use serde_json::{Value, json};

use super::*;
use crate::document::{DocumentBuilder, DocumentFormat, DocumentOptions};
use crate::source::{Ack, Batch, LogsData};

const TTL: Duration = Duration::from_secs(900);
const WAIT: Duration = Duration::from_secs(5);
const REGION: &str = "eu-west-1";

fn settings() -> TagSettings {
    TagSettings { ttl: TTL }
}

/// A subscription batch of `log_group` in account `owner` with one event.
/// Format: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html#LambdaFunctionExample>.
fn batch(owner: &str, log_group: &str) -> Batch {
    let data: LogsData = serde_json::from_value(json!({
        "messageType": "DATA_MESSAGE",
        "owner": owner,
        "logGroup": log_group,
        "logStream": "2026/11/22/[$LATEST]0123456789abcdef",
        "subscriptionFilters": ["sluice"],
        "logEvents": [{"id": "e0", "timestamp": 1_795_341_600_000i64, "message": "{\"level\":\"INFO\"}"}],
    }))
    .expect("a subscription batch");
    Batch {
        ack: Ack::Invocation,
        data,
        tags: None,
    }
}

/// A rule answering `ListTagsForResource` with `answer(resource ARN)`.
fn rule(
    answer: impl Fn(&str) -> MockResponse<ListTagsForResourceOutput, ListTagsForResourceError>
    + Send
    + Sync
    + 'static,
) -> Rule {
    mock!(Client::list_tags_for_resource)
        .then_compute_response(move |input| answer(input.resource_arn().unwrap_or_default()))
}

fn tags(pairs: &[(&str, &str)]) -> MockResponse<ListTagsForResourceOutput, ListTagsForResourceError> {
    let mut output = ListTagsForResourceOutput::builder();
    for (key, value) in pairs {
        output = output.tags(*key, *value);
    }
    MockResponse::Output(output.build())
}

fn error(code: &str) -> MockResponse<ListTagsForResourceOutput, ListTagsForResourceError> {
    MockResponse::Error(ListTagsForResourceError::generic(
        ErrorMetadata::builder()
            .code(code)
            .message("from the test")
            .build(),
    ))
}

/// A cache whose client answers with `rule`, without the SDK's retries (one answer per call).
fn cache(rule: &Rule) -> TagCache {
    let client = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, [rule], |conf| conf
        .retry_config(aws_sdk_cloudwatchlogs::config::retry::RetryConfig::disabled()));
    TagCache::with_client(client, settings(), REGION)
}

fn tag_of(batch: &Batch, key: &str) -> Option<String> {
    let tags = batch.tags.as_deref()?;
    tags.iter().find(|(k, _)| *k == key).map(|(_, v)| v.to_string())
}

/// Log lines written while `run` runs, as text.
fn logged(run: impl FnOnce()) -> String {
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);
    impl Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lines").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let lines = Lines::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, run);
    String::from_utf8(lines.0.lock().expect("lines").clone()).expect("UTF-8")
}

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

#[test]
fn tag_keys_become_field_names_without_dots_or_separators() {
    assert_eq!(field_name("team").as_deref(), Some("team"));
    assert_eq!(
        field_name("aws:cloudformation:stack-name").as_deref(),
        Some("aws_cloudformation_stack-name")
    );
    assert_eq!(field_name("cost.center").as_deref(), Some("cost_center"));
    assert_eq!(
        field_name("kubernetes.io/cluster name").as_deref(),
        Some("kubernetes_io_cluster_name")
    );
    assert_eq!(field_name("équipe").as_deref(), Some("équipe"));
    assert_eq!(field_name("  "), None);
    // Two keys that become one name: the first in key order wins, whatever the input order.
    let tags = LogGroupTags::new([("cost_center", "b"), ("cost.center", "a"), ("", "dropped")]);
    assert_eq!(tags.iter().collect::<Vec<_>>(), [("cost_center", "a")]);
}

#[test]
fn the_arn_is_the_log_groups_own_in_the_regions_partition() {
    assert_eq!(
        log_group_arn("eu-west-1", "123456789012", "/aws/lambda/a"),
        "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/a"
    );
    assert!(log_group_arn("cn-north-1", "1", "g").starts_with("arn:aws-cn:logs:"));
    assert!(log_group_arn("us-gov-west-1", "1", "g").starts_with("arn:aws-us-gov:logs:"));
}

#[test]
fn one_call_per_log_group_and_ttl_whatever_the_batches() {
    let rule = rule(|arn| {
        if arn.ends_with(":log-group:/aws/lambda/checkout") {
            tags(&[("team", "payments"), ("service", "checkout")])
        } else {
            tags(&[])
        }
    });
    let cache = cache(&rule);
    let start = Instant::now();
    block_on(async {
        let mut batches = vec![
            batch("123456789012", "/aws/lambda/checkout"),
            batch("123456789012", "/aws/lambda/checkout"),
            batch("123456789012", "/aws/lambda/untagged"),
        ];
        assert_eq!(cache.tag_at(&mut batches, WAIT, start).await, 0);
        assert_eq!(rule.num_calls(), 2, "one call per distinct log group");
        assert_eq!(tag_of(&batches[0], "team").as_deref(), Some("payments"));
        assert_eq!(tag_of(&batches[1], "service").as_deref(), Some("checkout"));
        assert!(
            batches[2].tags.is_none(),
            "a group without tags has no tags object"
        );

        // Later invocations within the TTL ask nothing.
        let mut later = vec![batch("123456789012", "/aws/lambda/checkout")];
        cache
            .tag_at(&mut later, WAIT, start + TTL - Duration::from_secs(1))
            .await;
        assert_eq!(rule.num_calls(), 2);
        assert_eq!(tag_of(&later[0], "team").as_deref(), Some("payments"));

        // Once the TTL is over, the group is asked again.
        let mut expired = vec![batch("123456789012", "/aws/lambda/checkout")];
        cache
            .tag_at(&mut expired, WAIT, start + TTL + Duration::from_secs(1))
            .await;
        assert_eq!(rule.num_calls(), 3);
        assert_eq!(tag_of(&expired[0], "team").as_deref(), Some("payments"));
    });
}

#[test]
fn a_throttled_lookup_is_counted_and_logged_once_per_ttl_and_the_batch_goes_untagged() {
    let rule = rule(|_| error("ThrottlingException"));
    let cache = cache(&rule);
    let start = Instant::now();
    let mut failed = Vec::new();
    let log = logged(|| {
        block_on(async {
            for minute in 0..3 {
                let mut batches = vec![batch("123456789012", "/aws/lambda/busy")];
                let now = start + Duration::from_secs(60 * minute);
                failed.push(cache.tag_at(&mut batches, WAIT, now).await);
                assert!(batches[0].tags.is_none());
            }
        })
    });
    assert_eq!(failed, [1, 0, 0], "counted once, then cached for the TTL");
    let calls = rule.num_calls();
    assert!(calls >= 1);
    assert_eq!(
        log.matches("log group tags not read").count(),
        1,
        "one warning per TTL: {log}"
    );
    assert!(log.contains("ThrottlingException"), "{log}");
    block_on(async {
        let mut batches = vec![batch("123456789012", "/aws/lambda/busy")];
        let after = start + TTL + Duration::from_secs(1);
        assert_eq!(cache.tag_at(&mut batches, WAIT, after).await, 1);
    });
    assert!(rule.num_calls() > calls, "asked again once the TTL is over");
}

#[test]
fn a_denied_lookup_stands_for_every_group_of_that_account() {
    let rule = rule(|arn| {
        if arn.contains(":210987654321:") {
            error("AccessDeniedException")
        } else {
            tags(&[("team", "core")])
        }
    });
    let cache = cache(&rule);
    let now = Instant::now();
    block_on(async {
        let mut batches = vec![batch("210987654321", "/aws/lambda/other-account")];
        assert_eq!(cache.tag_at(&mut batches, WAIT, now).await, 1);
        let calls = rule.num_calls();
        let mut batches = vec![
            batch("210987654321", "/aws/lambda/another-group"),
            batch("123456789012", "/aws/lambda/own"),
        ];
        assert_eq!(cache.tag_at(&mut batches, WAIT, now).await, 0);
        assert_eq!(
            rule.num_calls(),
            calls + 1,
            "only the own account's group is asked"
        );
        assert!(batches[0].tags.is_none());
        assert_eq!(tag_of(&batches[1], "team").as_deref(), Some("core"));
    });
}

#[test]
fn a_deleted_group_has_no_tags_and_is_no_failure() {
    let rule = rule(|_| error("ResourceNotFoundException"));
    let cache = cache(&rule);
    block_on(async {
        let mut batches = vec![batch("123456789012", "/aws/lambda/deleted")];
        assert_eq!(cache.tag_at(&mut batches, WAIT, Instant::now()).await, 0);
        assert!(batches[0].tags.is_none());
    });
}

#[test]
fn lookups_that_do_not_answer_in_time_are_abandoned_and_counted() {
    // A logs API that takes the connection and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(REGION))
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(
            aws_credential_types::Credentials::new("testing", "testing", None, None, "tests"),
        ))
        .endpoint_url(format!("http://{}", silent.local_addr().expect("address")))
        .build();
    let cache = TagCache::new(&sdk, settings(), REGION);
    let now = Instant::now();
    block_on(async {
        let mut batches = vec![batch("123456789012", "/a"), batch("123456789012", "/b")];
        let wait = Duration::from_millis(200);
        assert_eq!(cache.tag_at(&mut batches, wait, now).await, 2);
        assert!(batches.iter().all(|b| b.tags.is_none()));
        // Cached as failures: the next batch does not wait again.
        assert_eq!(cache.tag_at(&mut batches, wait, now).await, 0);
    });
}

fn source(builder: &DocumentBuilder, batch: Batch) -> (Value, Value) {
    let docs = builder.documents(&Arc::new(batch)).docs;
    let primary: Value = serde_json::from_str(&docs[0].source).expect("JSON");
    let fallback = builder.fallback(&docs[0]).expect("a fallback");
    (primary, serde_json::from_str(&fallback.source).expect("JSON"))
}

#[test]
fn documents_carry_the_tags_as_an_object_of_strings_and_so_do_their_fallbacks() {
    let mut tagged = batch("123456789012", "/aws/lambda/checkout");
    tagged.tags = Some(Arc::new(LogGroupTags::new([
        ("team", "payments"),
        ("aws:cloudformation:stack-name", "shop \"prod\""),
    ])));
    let builder = DocumentBuilder::new(DocumentOptions::default(), REGION.into());
    let (primary, fallback) = source(&builder, tagged.clone());
    let expected = json!({"team": "payments", "aws_cloudformation_stack-name": "shop \"prod\""});
    assert_eq!(primary["aws"]["tags"], expected);
    assert_eq!(fallback["aws"]["tags"], expected);
    assert_eq!(fallback["fallback"], true);

    let (untagged, _) = source(&builder, batch("123456789012", "/aws/lambda/checkout"));
    assert!(untagged["aws"].get("tags").is_none());

    let blueprint = DocumentOptions {
        format: DocumentFormat::Blueprint,
        ..DocumentOptions::default()
    };
    let (shaped, _) = source(&DocumentBuilder::new(blueprint, REGION.into()), tagged);
    assert!(shaped.get("aws").is_none(), "the blueprint's shape is kept");
}

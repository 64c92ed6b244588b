//! The CloudWatch Logs calls the subscriber makes, each behind a client-side rate limiter of its
//! own (CloudWatch Logs' quotas are per API), with the SDK's standard retries absorbing the
//! `ThrottlingException`s that still happen. Calls that are idempotent absorb the error that only
//! says the work is already done.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudwatchlogs::operation::put_subscription_filter::PutSubscriptionFilterError;
use aws_sdk_cloudwatchlogs::types::{Distribution as ApiDistribution, PolicyType, Scope};
use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};
use tokio::time::Instant;

use crate::account::AccountPolicy;
use crate::config::Config;
use crate::error::SubscriberError;
use crate::plan::{Filter, LogGroup};

/// Log groups per DescribeLogGroups page (the API's maximum).
pub const PAGE_SIZE: i32 = 50;

/// Attempts per call, including the first: enough for the SDK's standard backoff to ride out a
/// burst of throttling from other tools sharing the account's quota.
pub const MAX_ATTEMPTS: u32 = 8;

/// What became of a `PutSubscriptionFilter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterPut {
    /// The filter is in place.
    Attached,
    /// CloudWatch Logs answered `LimitExceededException`: the group has no free filter slot.
    LimitExceeded,
}

/// Forbids the SDK's retries of `LimitExceededException`. The SDK counts that code as throttling
/// and would retry it with backoff, but on `PutSubscriptionFilter` it means "no free filter slot on
/// this group", which no retry changes.
#[derive(Debug)]
struct NoRetryOnLimit;

impl ClassifyRetry for NoRetryOnLimit {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let code = ctx
            .output_or_error()
            .and_then(Result::err)
            .and_then(|err| err.as_operation_error())
            .and_then(|err| err.downcast_ref::<PutSubscriptionFilterError>())
            .and_then(ProvideErrorMetadata::code);
        match code {
            Some(LIMIT_EXCEEDED) => RetryAction::RetryForbidden,
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "no retry on LimitExceededException"
    }
}

const LIMIT_EXCEEDED: &str = "LimitExceededException";

/// Forbids retries of a call that never got an answer (connection refused, unknown host,
/// connect or read timeout). Used for the command line's first call only: against an endpoint
/// that is not there the SDK's eight attempts would keep a person waiting a minute in silence,
/// while a pass that has started keeps riding out a dropped connection.
#[derive(Debug)]
struct NoRetryWhenUnreachable;

impl ClassifyRetry for NoRetryWhenUnreachable {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let unreachable = ctx
            .output_or_error()
            .and_then(Result::err)
            .is_some_and(|err| err.is_timeout_error() || err.as_connector_error().is_some());
        if unreachable {
            RetryAction::RetryForbidden
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "no retry when unreachable"
    }
}

/// Spaces calls to one API at most `rate` per second.
#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    next: tokio::sync::Mutex<Instant>,
}

impl RateLimiter {
    /// A limiter allowing `rate` calls per second.
    pub fn new(rate: f64) -> RateLimiter {
        RateLimiter {
            interval: Duration::from_secs_f64(1.0 / rate),
            next: tokio::sync::Mutex::new(Instant::now()),
        }
    }

    /// Waits for this caller's slot.
    pub async fn acquire(&self) {
        let slot = {
            let mut next = self.next.lock().await;
            let slot = (*next).max(Instant::now());
            *next = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

/// One page of DescribeLogGroups.
#[derive(Debug, Clone)]
pub struct Page {
    /// The log groups on it.
    pub groups: Vec<LogGroup>,
    /// The token of the next page; `None` on the last.
    pub next_token: Option<String>,
}

/// The CloudWatch Logs client with a rate limiter per API and a count of calls per API.
#[derive(Debug)]
pub struct Logs {
    client: Client,
    limiters: HashMap<&'static str, RateLimiter>,
    calls: Mutex<HashMap<&'static str, u64>>,
}

const APIS: [&str; 10] = [
    "DescribeLogGroups",
    "DescribeSubscriptionFilters",
    "PutSubscriptionFilter",
    "DeleteSubscriptionFilter",
    "PutRetentionPolicy",
    "ListTagsForResource",
    "TagResource",
    "DescribeAccountPolicies",
    "PutAccountPolicy",
    "DeleteAccountPolicy",
];

impl Logs {
    /// Wraps `client`, allowing `rate` calls per second per API.
    pub fn new(client: Client, rate: f64) -> Logs {
        Logs {
            client,
            limiters: APIS.iter().map(|api| (*api, RateLimiter::new(rate))).collect(),
            calls: Mutex::new(HashMap::new()),
        }
    }

    /// Calls made so far, per API (after the limiter; SDK retries are not counted).
    pub fn calls(&self) -> HashMap<&'static str, u64> {
        self.calls.lock().map(|calls| calls.clone()).unwrap_or_default()
    }

    async fn slot(&self, api: &'static str) {
        if let Some(limiter) = self.limiters.get(api) {
            limiter.acquire().await;
        }
        if let Ok(mut calls) = self.calls.lock() {
            *calls.entry(api).or_default() += 1;
        }
    }

    /// One call that says whether CloudWatch Logs answers these credentials at all (a one-group
    /// DescribeLogGroups), without retrying a connection that fails: the command line's check
    /// before a pass.
    pub async fn check_reachable(&self) -> Result<(), SubscriberError> {
        self.slot("DescribeLogGroups").await;
        self.client
            .describe_log_groups()
            .limit(1)
            .customize()
            .config_override(
                aws_sdk_cloudwatchlogs::Config::builder().retry_classifier(NoRetryWhenUnreachable),
            )
            .send()
            .await
            .map(|_| ())
            .map_err(|err| logs_error("DescribeLogGroups", None, err))
    }

    /// One page of log groups, from `next_token` (or the first page), optionally by name prefix.
    pub async fn describe_log_groups(
        &self,
        next_token: Option<String>,
        prefix: Option<&str>,
    ) -> Result<Page, SubscriberError> {
        self.slot("DescribeLogGroups").await;
        let output = self
            .client
            .describe_log_groups()
            .limit(PAGE_SIZE)
            .set_next_token(next_token)
            .set_log_group_name_prefix(prefix.map(str::to_string))
            .send()
            .await
            .map_err(|err| logs_error("DescribeLogGroups", None, err))?;
        let groups = output
            .log_groups()
            .iter()
            .filter_map(|group| {
                Some(LogGroup {
                    name: group.log_group_name()?.to_string(),
                    retention_days: group.retention_in_days(),
                    class: group.log_group_class().map(|class| class.as_str().to_string()),
                    arn: group
                        .log_group_arn()
                        .or_else(|| group.arn().map(|arn| arn.trim_end_matches(":*")))
                        .map(str::to_string),
                    tags: None,
                })
            })
            .collect();
        Ok(Page {
            groups,
            next_token: output.next_token().map(str::to_string),
        })
    }

    /// The subscription filters of `log_group` (at most two, so one page); `None` when the group
    /// does not exist (yet, or any more).
    pub async fn describe_subscription_filters(
        &self,
        log_group: &str,
    ) -> Result<Option<Vec<Filter>>, SubscriberError> {
        self.slot("DescribeSubscriptionFilters").await;
        let output = match self
            .client
            .describe_subscription_filters()
            .log_group_name(log_group)
            .send()
            .await
        {
            Ok(output) => output,
            Err(err) if code(&err) == Some("ResourceNotFoundException") => return Ok(None),
            Err(err) => return Err(logs_error("DescribeSubscriptionFilters", Some(log_group), err)),
        };
        Ok(Some(
            output
                .subscription_filters()
                .iter()
                .map(|filter| Filter {
                    name: filter.filter_name().unwrap_or_default().to_string(),
                    destination_arn: filter.destination_arn().unwrap_or_default().to_string(),
                    filter_pattern: filter.filter_pattern().unwrap_or_default().to_string(),
                    distribution: filter.distribution().map(|d| d.as_str().to_string()),
                    role_arn: filter.role_arn().map(str::to_string),
                    emit_system_fields: filter.emit_system_fields().to_vec(),
                    field_selection_criteria: filter.field_selection_criteria().map(str::to_string),
                    apply_on_transformed_logs: filter.apply_on_transformed_logs(),
                })
                .collect(),
        ))
    }

    /// Puts Sluice's filter on `log_group` (creates it, or replaces the one with the same name).
    /// A `LimitExceededException` is an answer, not an error, and is never retried.
    pub async fn put_subscription_filter(
        &self,
        config: &Config,
        log_group: &str,
    ) -> Result<FilterPut, SubscriberError> {
        let destination = config.destination()?;
        self.slot("PutSubscriptionFilter").await;
        let mut request = self
            .client
            .put_subscription_filter()
            .log_group_name(log_group)
            .filter_name(&config.filter_name)
            .filter_pattern(&config.filter_pattern)
            .destination_arn(&destination.arn)
            .set_role_arn(config.filter_role_arn().map(str::to_string));
        if config.needs_role() {
            request = request.distribution(ApiDistribution::from(config.distribution.as_str()));
        }
        // Each option is sent only when set: a filter put without it has none (the API's default).
        let options = &config.filter_options;
        if !options.emit_system_fields.is_empty() {
            request = request.set_emit_system_fields(Some(options.system_field_names()));
        }
        if options.apply_on_transformed_logs {
            request = request.apply_on_transformed_logs(true);
        }
        match request
            .set_field_selection_criteria(options.field_selection_criteria.clone())
            .customize()
            .config_override(aws_sdk_cloudwatchlogs::Config::builder().retry_classifier(NoRetryOnLimit))
            .send()
            .await
        {
            Ok(_) => Ok(FilterPut::Attached),
            Err(err) if code(&err) == Some(LIMIT_EXCEEDED) => Ok(FilterPut::LimitExceeded),
            Err(err) => Err(logs_error("PutSubscriptionFilter", Some(log_group), err)),
        }
    }

    /// Deletes Sluice's filter from `log_group`; a filter or group already gone is success.
    pub async fn delete_subscription_filter(
        &self,
        config: &Config,
        log_group: &str,
    ) -> Result<(), SubscriberError> {
        self.slot("DeleteSubscriptionFilter").await;
        match self
            .client
            .delete_subscription_filter()
            .log_group_name(log_group)
            .filter_name(&config.filter_name)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err) if code(&err) == Some("ResourceNotFoundException") => Ok(()),
            Err(err) => Err(logs_error("DeleteSubscriptionFilter", Some(log_group), err)),
        }
    }

    /// Sets the retention of `log_group`.
    pub async fn put_retention_policy(&self, log_group: &str, days: i32) -> Result<(), SubscriberError> {
        self.slot("PutRetentionPolicy").await;
        self.client
            .put_retention_policy()
            .log_group_name(log_group)
            .retention_in_days(days)
            .send()
            .await
            .map(|_| ())
            .map_err(|err| logs_error("PutRetentionPolicy", Some(log_group), err))
    }
}

impl Logs {
    /// The tags of the log group `arn`; `None` when the group is gone.
    pub async fn list_tags(&self, arn: &str) -> Result<Option<BTreeMap<String, String>>, SubscriberError> {
        self.slot("ListTagsForResource").await;
        match self
            .client
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
        {
            Ok(output) => Ok(Some(
                output
                    .tags()
                    .map(|tags| tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default(),
            )),
            Err(err) if code(&err) == Some("ResourceNotFoundException") => Ok(None),
            Err(err) => Err(logs_error("ListTagsForResource", Some(arn), err)),
        }
    }

    /// Sets `tags` on the log group `arn`.
    pub async fn tag(&self, arn: &str, tags: &[(&str, String)]) -> Result<(), SubscriberError> {
        self.slot("TagResource").await;
        let mut request = self.client.tag_resource().resource_arn(arn);
        for (key, value) in tags {
            request = request.tags(*key, value);
        }
        request
            .send()
            .await
            .map(|_| ())
            .map_err(|err| logs_error("TagResource", Some(arn), err))
    }
}

impl Logs {
    /// The account's subscription filter policy named `name`, if there is one.
    pub async fn describe_account_policy(
        &self,
        name: &str,
    ) -> Result<Option<AccountPolicy>, SubscriberError> {
        self.slot("DescribeAccountPolicies").await;
        let output = match self
            .client
            .describe_account_policies()
            .policy_type(PolicyType::SubscriptionFilterPolicy)
            .policy_name(name)
            .send()
            .await
        {
            Ok(output) => output,
            Err(err) if code(&err) == Some("ResourceNotFoundException") => return Ok(None),
            Err(err) => return Err(logs_error("DescribeAccountPolicies", None, err)),
        };
        Ok(output
            .account_policies()
            .iter()
            .find(|policy| policy.policy_name() == Some(name))
            .map(|policy| AccountPolicy {
                name: name.to_string(),
                document: policy.policy_document().unwrap_or_default().to_string(),
                selection_criteria: policy.selection_criteria().map(str::to_string),
            }))
    }

    /// Writes `policy` (creates it or replaces the one with its name), for every log group.
    pub async fn put_account_policy(&self, policy: &AccountPolicy) -> Result<(), SubscriberError> {
        self.slot("PutAccountPolicy").await;
        self.client
            .put_account_policy()
            .policy_name(&policy.name)
            .policy_type(PolicyType::SubscriptionFilterPolicy)
            .policy_document(&policy.document)
            .scope(Scope::All)
            .set_selection_criteria(policy.selection_criteria.clone())
            .send()
            .await
            .map(|_| ())
            .map_err(|err| logs_error("PutAccountPolicy", None, err))
    }

    /// Deletes the subscription filter policy `name`; one already gone is success.
    pub async fn delete_account_policy(&self, name: &str) -> Result<(), SubscriberError> {
        self.slot("DeleteAccountPolicy").await;
        match self
            .client
            .delete_account_policy()
            .policy_name(name)
            .policy_type(PolicyType::SubscriptionFilterPolicy)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err) if code(&err) == Some("ResourceNotFoundException") => Ok(()),
            Err(err) => Err(logs_error("DeleteAccountPolicy", None, err)),
        }
    }
}

fn code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<&str> {
    err.as_service_error().and_then(ProvideErrorMetadata::code)
}

fn logs_error<E, R>(api: &'static str, log_group: Option<&str>, err: SdkError<E, R>) -> SubscriberError
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
    R: std::fmt::Debug,
{
    match err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => SubscriberError::Unreachable {
            api,
            message: sluice_edge::sdk_error(&err),
        },
        _ => SubscriberError::Logs {
            api,
            log_group: log_group.map(str::to_string),
            message: sluice_edge::sdk_error(&err),
        },
    }
}

/// The SDK configuration for the subscriber: the usual credential chain and `AWS_ENDPOINT_URL`,
/// with standard retries of [`MAX_ATTEMPTS`] attempts.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .load()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_limiter_spaces_calls_one_interval_apart_and_never_bursts() {
        let limiter = RateLimiter::new(5.0);
        let start = Instant::now();
        let mut granted = Vec::new();
        for _ in 0..11 {
            limiter.acquire().await;
            granted.push(start.elapsed());
        }
        let expected: Vec<Duration> = (0..11).map(|n| Duration::from_millis(200 * n)).collect();
        assert_eq!(granted, expected);

        // After an idle spell the next call goes at once, but no burst builds up.
        tokio::time::sleep(Duration::from_secs(10)).await;
        let resumed = Instant::now();
        limiter.acquire().await;
        limiter.acquire().await;
        assert_eq!(resumed.elapsed(), Duration::from_millis(200));
    }

    #[tokio::test(start_paused = true)]
    async fn each_api_has_its_own_limiter() {
        let client = aws_sdk_cloudwatchlogs::Client::from_conf(
            aws_sdk_cloudwatchlogs::Config::builder()
                .with_test_defaults_v2()
                .build(),
        );
        let logs = Logs::new(client, 2.0);
        let start = Instant::now();
        for api in APIS {
            logs.slot(api).await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO, "one call to each API at once");
        logs.slot("PutSubscriptionFilter").await;
        assert_eq!(start.elapsed(), Duration::from_millis(500));
        assert_eq!(logs.calls()["PutSubscriptionFilter"], 2);
        assert_eq!(logs.calls()["DescribeLogGroups"], 1);
    }
}

//! Log-group tags as document fields (`LOG_GROUP_TAGS`): the tags of each batch's log group,
//! read with CloudWatch Logs `ListTagsForResource` and kept in a [`TagCache`] shared by every
//! invocation of a warm function, so a busy log group costs one call per TTL, not one per batch.
//!
//! A lookup never fails a batch. A throttled, denied or slow call leaves the batch without
//! tags; the failure is counted (`TagLookupsFailed`) and, being cached for the TTL like an
//! answer, logged once per TTL. A denied call also stands for every group of its account: the
//! forwarder's role may read the tags of its own account's log groups only, so batches that a
//! central account receives from other accounts cost one refused call per account and TTL.
//!
//! API: <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_ListTagsForResource.html>.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata;

use super::Batch;

/// How long one invocation waits for its lookups at most: a slow logs API must not eat the
/// deadline. Lookups still running then are abandoned and count as failed.
pub(crate) const LOOKUP_TIMEOUT: Duration = Duration::from_secs(2);
/// Lookups in flight at once, whatever the number of log groups in an event.
const LOOKUP_CONCURRENCY: usize = 4;

/// The settings of the lookup (`LOG_GROUP_TAGS_TTL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagSettings {
    /// How long an answer, or a failure, is kept before the group is asked again.
    pub ttl: Duration,
}

/// The tags of one log group, keys sanitised into OpenSearch field names, in key order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogGroupTags {
    pairs: Vec<(String, String)>,
}

impl LogGroupTags {
    /// Sanitises every key ([`field_name`]); of two keys that become the same name, the first in
    /// key order wins. Values are kept as they are.
    pub fn new<K: AsRef<str>, V: Into<String>>(tags: impl IntoIterator<Item = (K, V)>) -> LogGroupTags {
        let sorted: BTreeMap<String, String> = tags
            .into_iter()
            .map(|(key, value)| (key.as_ref().to_string(), value.into()))
            .collect();
        let mut fields = BTreeMap::new();
        for (key, value) in sorted {
            if let Some(name) = field_name(&key) {
                fields.entry(name).or_insert(value);
            }
        }
        LogGroupTags {
            pairs: fields.into_iter().collect(),
        }
    }

    /// The (field name, value) pairs, in field-name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

/// A tag key as an OpenSearch field name under `aws.tags`: letters, digits, `_` and `-` are kept,
/// every other character becomes `_`. A `.` would nest objects, and `:`, `/`, spaces and the
/// like need escaping in every query language, so `aws:cloudformation:stack-name` becomes
/// `aws_cloudformation_stack-name`. `None` for an empty key.
pub(crate) fn field_name(key: &str) -> Option<String> {
    let key = key.trim();
    if key.is_empty() {
        return None;
    }
    Some(
        key.chars()
            .map(|c| {
                if c.is_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect(),
    )
}

/// `arn:<partition>:logs:<region>:<owner>:log-group:<name>`, the form `ListTagsForResource`
/// takes (no trailing `:*`).
pub fn log_group_arn(region: &str, owner: &str, log_group: &str) -> String {
    let partition = if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    };
    format!("arn:{partition}:logs:{region}:{owner}:log-group:{log_group}")
}

/// What the cache holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    /// One log group, by ARN.
    Group(String),
    /// An account whose tags the role may not read: a lookup was denied.
    Denied(String),
}

#[derive(Debug, Clone)]
struct Entry {
    until: Instant,
    /// `None`: no tags (none set, or the lookup failed).
    tags: Option<Arc<LogGroupTags>>,
}

/// What one call answered.
#[derive(Debug)]
enum Answer {
    Tags(LogGroupTags),
    /// The group does not exist (any more): no tags, and no failure.
    Gone,
    /// The role may not read this account's tags.
    Denied(String),
    Failed(String),
}

/// The tags of log groups, looked up once per TTL and shared by every invocation of the
/// process. The client is made on first use, so a forwarder with tags off never builds it.
#[derive(Debug, Clone)]
pub struct TagCache {
    client: Arc<tokio::sync::OnceCell<aws_sdk_cloudwatchlogs::Client>>,
    sdk: Option<aws_config::SdkConfig>,
    region: String,
    ttl: Duration,
    entries: Arc<Mutex<HashMap<Key, Entry>>>,
}

impl TagCache {
    /// A cache whose client takes the SDK's settings from the environment (honouring
    /// `AWS_ENDPOINT_URL`), loaded on first use. `region` names the log groups' ARNs.
    pub fn from_env(settings: TagSettings, region: &str) -> TagCache {
        TagCache {
            client: Arc::default(),
            sdk: None,
            region: region.to_string(),
            ttl: settings.ttl,
            entries: Arc::default(),
        }
    }

    /// A cache with given SDK settings (tests point them at moto).
    pub fn new(sdk: &aws_config::SdkConfig, settings: TagSettings, region: &str) -> TagCache {
        TagCache {
            sdk: Some(sdk.clone()),
            ..TagCache::from_env(settings, region)
        }
    }

    /// A cache that calls through `client` (tests give a mocked one).
    pub fn with_client(
        client: aws_sdk_cloudwatchlogs::Client,
        settings: TagSettings,
        region: &str,
    ) -> TagCache {
        let cache = TagCache::from_env(settings, region);
        let _ = cache.client.set(client);
        cache
    }

    async fn client(&self) -> &aws_sdk_cloudwatchlogs::Client {
        self.client
            .get_or_init(|| async {
                let sdk = match &self.sdk {
                    Some(sdk) => sdk.clone(),
                    None => aws_config::load_from_env().await,
                };
                // One retry, each attempt bounded: the invocation waits for LOOKUP_TIMEOUT at most.
                let config = aws_sdk_cloudwatchlogs::config::Builder::from(&sdk)
                    .retry_config(
                        aws_sdk_cloudwatchlogs::config::retry::RetryConfig::standard().with_max_attempts(2),
                    )
                    .timeout_config(
                        aws_sdk_cloudwatchlogs::config::timeout::TimeoutConfig::builder()
                            .operation_attempt_timeout(LOOKUP_TIMEOUT)
                            .build(),
                    )
                    .build();
                aws_sdk_cloudwatchlogs::Client::from_conf(config)
            })
            .await
    }

    /// Sets the tags of every batch's log group ([`Batch::tags`]),
    /// looking up the groups not cached, at most [`LOOKUP_TIMEOUT`] and never past `deadline`.
    /// Returns the number of lookups that failed.
    pub async fn tag(&self, batches: &mut [Batch], deadline: Instant) -> u64 {
        let wait = LOOKUP_TIMEOUT.min(deadline.saturating_duration_since(Instant::now()) / 4);
        self.tag_at(batches, wait, Instant::now()).await
    }

    /// [`TagCache::tag`] at `now` (tests move the clock), waiting `wait` for lookups.
    pub(crate) async fn tag_at(&self, batches: &mut [Batch], wait: Duration, now: Instant) -> u64 {
        let mut wanted: BTreeMap<String, String> = BTreeMap::new();
        for batch in batches.iter() {
            let data = &batch.data;
            let arn = log_group_arn(&self.region, &data.owner, &data.log_group);
            if self.cached(&arn, &data.owner, now).is_none() {
                wanted.insert(arn, data.owner.clone());
            }
        }
        let failed = if wanted.is_empty() {
            0
        } else {
            self.look_up(wanted, wait, now).await
        };
        for batch in batches.iter_mut() {
            let data = &batch.data;
            let arn = log_group_arn(&self.region, &data.owner, &data.log_group);
            batch.tags = self.cached(&arn, &data.owner, now).flatten();
        }
        failed
    }

    /// The cached tags of `arn` at `now`: `Some(None)` for a group known to have none (or whose
    /// lookup failed within the TTL), `None` when it must be asked.
    fn cached(&self, arn: &str, owner: &str, now: Instant) -> Option<Option<Arc<LogGroupTags>>> {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let fresh = |key: &Key| entries.get(key).filter(|entry| entry.until > now);
        if fresh(&Key::Denied(owner.to_string())).is_some() {
            return Some(None);
        }
        fresh(&Key::Group(arn.to_string())).map(|entry| entry.tags.clone())
    }

    /// Asks for the tags of every `(arn, owner)` of `wanted`, [`LOOKUP_CONCURRENCY`] at a time,
    /// for `wait` at most, and caches every answer and failure until `now` plus the TTL.
    async fn look_up(&self, wanted: BTreeMap<String, String>, wait: Duration, now: Instant) -> u64 {
        let client = self.client().await.clone();
        let semaphore = Arc::new(tokio::sync::Semaphore::new(LOOKUP_CONCURRENCY));
        let mut calls = tokio::task::JoinSet::new();
        for (arn, owner) in &wanted {
            let (client, semaphore, arn, owner) =
                (client.clone(), Arc::clone(&semaphore), arn.clone(), owner.clone());
            calls.spawn(async move {
                let _permit = semaphore.acquire_owned().await;
                let answer = list_tags(&client, &arn).await;
                (arn, owner, answer)
            });
        }
        let mut answers = Vec::with_capacity(wanted.len());
        let stop = tokio::time::Instant::now() + wait;
        while let Ok(Some(joined)) = tokio::time::timeout_at(stop, calls.join_next()).await {
            if let Ok(answer) = joined {
                answers.push(answer);
            }
        }
        calls.abort_all();
        let mut unanswered = wanted;
        for (arn, _, _) in &answers {
            unanswered.remove(arn);
        }
        for (arn, owner) in unanswered {
            let reason = format!("no answer within {} ms", wait.as_millis());
            answers.push((arn, owner, Answer::Failed(reason)));
        }
        let until = now + self.ttl;
        let mut failed = 0;
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.retain(|_, entry| entry.until > now);
        for (arn, owner, answer) in answers {
            let tags = match answer {
                Answer::Tags(tags) if tags.is_empty() => None,
                Answer::Tags(tags) => Some(Arc::new(tags)),
                Answer::Gone => None,
                Answer::Denied(reason) => {
                    failed += 1;
                    tracing::warn!(
                        log_group = %arn, account = %owner, error = %reason, ttl_s = self.ttl.as_secs(),
                        "log group tags may not be read: this account's documents go without tags until the TTL ends"
                    );
                    entries.insert(Key::Denied(owner), Entry { until, tags: None });
                    None
                }
                Answer::Failed(reason) => {
                    failed += 1;
                    tracing::warn!(
                        log_group = %arn, error = %reason, ttl_s = self.ttl.as_secs(),
                        "log group tags not read: its documents go without tags until the TTL ends"
                    );
                    None
                }
            };
            entries.insert(Key::Group(arn), Entry { until, tags });
        }
        failed
    }
}

/// One `ListTagsForResource` call.
async fn list_tags(client: &aws_sdk_cloudwatchlogs::Client, arn: &str) -> Answer {
    match client.list_tags_for_resource().resource_arn(arn).send().await {
        Ok(output) => Answer::Tags(LogGroupTags::new(
            output.tags().into_iter().flatten().map(|(k, v)| (k, v.clone())),
        )),
        Err(err) => {
            let code = err.as_service_error().and_then(ProvideErrorMetadata::code);
            let reason = match code {
                Some(code) => code.to_string(),
                None => sluice_edge::sdk_error::error_chain(&err),
            };
            match code {
                Some("ResourceNotFoundException") => Answer::Gone,
                Some("AccessDeniedException" | "AccessDenied" | "UnauthorizedOperation") => {
                    Answer::Denied(reason)
                }
                _ => Answer::Failed(reason),
            }
        }
    }
}

#[cfg(test)]
mod tests;

//! Settings, read in two stages: [`RawConfig`] holds the strings (environment variables, or CLI
//! flags with the same names in lower-kebab-case, declared once for both by clap), [`Config`] the
//! validated values.

use glob::Pattern;
use serde::Serialize;

use crate::error::SubscriberError;

/// Retention periods CloudWatch Logs accepts for `PutRetentionPolicy` (days).
pub const RETENTION_DAYS_ACCEPTED: [i32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/// Default `API_RATE_BUDGET`: CloudWatch Logs' documented control-plane quota for the describe and
/// put calls the subscriber makes is 5 transactions per second per account and region.
pub const DEFAULT_API_RATE_BUDGET: f64 = 5.0;

/// The per-invocation rate with the default budget and one invocation (the command line).
pub const DEFAULT_API_RATE_LIMIT: f64 = DEFAULT_API_RATE_BUDGET;

/// Default `MAX_FILTERS_PER_GROUP`: every account and region allows at least two subscription
/// filters per log group, so two never claims a slot that is not there.
pub const DEFAULT_MAX_FILTERS_PER_GROUP: usize = 2;

/// The highest `MAX_FILTERS_PER_GROUP` accepted: the largest per-group quota CloudWatch Logs lists.
pub const MAX_FILTERS_PER_GROUP_LIMIT: usize = 5;

/// The settings as strings, before validation. Each field is an environment variable and a flag.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RawConfig {
    /// Where log groups send their events: a Lambda function, Kinesis stream, Firehose delivery
    /// stream or CloudWatch Logs destination ARN.
    #[arg(long, env = "DESTINATION_ARN")]
    pub destination_arn: Option<String>,
    /// The role CloudWatch Logs assumes to write to Kinesis or Firehose.
    #[arg(long, env = "ROLE_ARN")]
    pub role_arn: Option<String>,
    /// The subscription filter's name; Sluice only ever changes filters with this name.
    #[arg(long, env = "FILTER_NAME")]
    pub filter_name: Option<String>,
    /// The CloudWatch Logs filter pattern; empty sends everything.
    #[arg(long, env = "FILTER_PATTERN")]
    pub filter_pattern: Option<String>,
    /// `ByLogStream` (default) or `Random`; only Kinesis destinations use it.
    #[arg(long, env = "DISTRIBUTION")]
    pub distribution: Option<String>,
    /// Comma-separated globs of log group names to subscribe (default `*`).
    #[arg(long, env = "INCLUDE_PATTERNS")]
    pub include_patterns: Option<String>,
    /// Comma-separated globs of log group names never to subscribe; exclude wins.
    #[arg(long, env = "EXCLUDE_PATTERNS")]
    pub exclude_patterns: Option<String>,
    /// Comma-separated tag rules a log group must match one of, `key=value-glob` or `key` (any
    /// value); combined with the name patterns. Tags are read only when a tag rule is set.
    #[arg(long, env = "INCLUDE_TAGS")]
    pub include_tags: Option<String>,
    /// Comma-separated tag rules that exclude a log group, `key=value-glob` or `key`; exclude wins.
    #[arg(long, env = "EXCLUDE_TAGS")]
    pub exclude_tags: Option<String>,
    /// Retention in days to set; empty leaves retention alone.
    #[arg(long, env = "RETENTION_DAYS")]
    pub retention_days: Option<String>,
    /// `missing` (only groups that never expire) or `enforce` (every selected group).
    #[arg(long, env = "RETENTION_MODE")]
    pub retention_mode: Option<String>,
    /// Calls per second per CloudWatch Logs API for one invocation (default API_RATE_BUDGET /
    /// SUBSCRIBER_CONCURRENCY); times SUBSCRIBER_CONCURRENCY it may not exceed API_RATE_BUDGET.
    #[arg(long, env = "API_RATE_LIMIT")]
    pub api_rate_limit: Option<String>,
    /// Calls per second per CloudWatch Logs API for all of the subscriber's invocations together
    /// (default 5): the share of the account's quota the subscriber may use.
    #[arg(long, env = "API_RATE_BUDGET")]
    pub api_rate_budget: Option<String>,
    /// How many invocations of the subscriber may run at once (the function's reserved
    /// concurrency; default 1, one process on the command line).
    #[arg(long, env = "SUBSCRIBER_CONCURRENCY")]
    pub subscriber_concurrency: Option<String>,
    /// `log-group` (default: a subscription filter on each selected group) or `account` (one
    /// account-level subscription filter policy, `LogGroupName NOT IN [...]` the excluded groups).
    #[arg(long, env = "SUBSCRIPTION_SCOPE")]
    pub subscription_scope: Option<String>,
    /// Subscription filters CloudWatch Logs allows per log group in this account and region
    /// (default 2; at most 5): a group whose filters that are not Sluice's fill them is a conflict.
    #[arg(long, env = "MAX_FILTERS_PER_GROUP")]
    pub max_filters_per_group: Option<String>,
    /// The subscriber's function in the stack (its output SubscriberFunctionName): its log group
    /// is left alone, as the function itself does, so the command line plans what Lambda plans.
    #[arg(long, env = "SUBSCRIBER_FUNCTION_NAME")]
    pub subscriber_function_name: Option<String>,
    /// The subscriber's own function name, set by Lambda; its log group is always left alone.
    #[arg(skip)]
    pub own_function_name: Option<String>,
}

impl RawConfig {
    /// Reads every setting through `lookup` (e.g. `std::env::var`), asked for the environment
    /// variable names declared above, so tests need no environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> RawConfig {
        RawConfig {
            own_function_name: lookup("AWS_LAMBDA_FUNCTION_NAME"),
            ..sluice_edge::settings::from_lookup(&lookup)
        }
    }

    /// Reads every setting from `(name, value)` pairs, as [`RawConfig::from_lookup`] does from
    /// the environment: for tests, the demo and tools that hold their settings in code.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> RawConfig {
        RawConfig::from_lookup(|name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_string())
        })
    }

    /// Validates every setting; a subscribing pass needs `DESTINATION_ARN`.
    pub fn validate(&self) -> Result<Config, SubscriberError> {
        if non_empty(&self.destination_arn).is_none() {
            return Err(SubscriberError::MissingSetting {
                setting: "DESTINATION_ARN",
            });
        }
        self.validate_for_unsubscribe()
    }

    /// Validates every setting but requires no `DESTINATION_ARN`: removing Sluice's filters
    /// finds them by `FILTER_NAME` alone.
    pub fn validate_for_unsubscribe(&self) -> Result<Config, SubscriberError> {
        let destination = non_empty(&self.destination_arn)
            .map(Destination::parse)
            .transpose()?;
        let needs_role = destination.as_ref().is_some_and(|d| d.kind.needs_role());
        let role_arn = non_empty(&self.role_arn).map(str::to_string);
        if let Some(role) = &role_arn
            && !(role.starts_with("arn:aws") && role.contains(":iam::") && role.contains(":role/"))
        {
            return Err(invalid(
                "ROLE_ARN",
                role,
                "expected arn:aws:iam::<account>:role/<name>",
            ));
        }
        if let Some(destination) = destination.as_ref().filter(|_| needs_role && role_arn.is_none()) {
            return Err(SubscriberError::InvalidSetting {
                setting: "ROLE_ARN",
                value: String::new(),
                reason: format!(
                    "a {} destination needs the role CloudWatch Logs assumes to write to it",
                    destination.kind.label()
                ),
            });
        }
        let filter_name = non_empty(&self.filter_name).unwrap_or("sluice").to_string();
        if filter_name.len() > 512 || filter_name.contains([':', '*']) {
            return Err(invalid(
                "FILTER_NAME",
                &filter_name,
                "1 to 512 characters, without ':' or '*'",
            ));
        }
        let filter_pattern = self.filter_pattern.clone().unwrap_or_default();
        if filter_pattern.len() > 1024 {
            return Err(invalid(
                "FILTER_PATTERN",
                &filter_pattern,
                "at most 1024 characters",
            ));
        }
        let distribution = match non_empty(&self.distribution).unwrap_or("ByLogStream") {
            "ByLogStream" => Distribution::ByLogStream,
            "Random" => Distribution::Random,
            other => return Err(invalid("DISTRIBUTION", other, "expected ByLogStream or Random")),
        };
        let include = globs(
            "INCLUDE_PATTERNS",
            non_empty(&self.include_patterns).unwrap_or("*"),
        )?;
        let exclude = globs(
            "EXCLUDE_PATTERNS",
            non_empty(&self.exclude_patterns).unwrap_or(""),
        )?;
        let include_tags = tag_rules("INCLUDE_TAGS", non_empty(&self.include_tags).unwrap_or(""))?;
        let exclude_tags = tag_rules("EXCLUDE_TAGS", non_empty(&self.exclude_tags).unwrap_or(""))?;
        let retention_days = match non_empty(&self.retention_days) {
            None => None,
            Some(text) => {
                let days: i32 = text
                    .parse()
                    .map_err(|_| invalid("RETENTION_DAYS", text, "expected a number of days, e.g. 30"))?;
                if !RETENTION_DAYS_ACCEPTED.contains(&days) {
                    return Err(invalid(
                        "RETENTION_DAYS",
                        text,
                        &format!("CloudWatch Logs accepts only {RETENTION_DAYS_ACCEPTED:?}"),
                    ));
                }
                Some(days)
            }
        };
        let retention_mode = match non_empty(&self.retention_mode).unwrap_or("missing") {
            "missing" => RetentionMode::Missing,
            "enforce" => RetentionMode::Enforce,
            other => return Err(invalid("RETENTION_MODE", other, "expected missing or enforce")),
        };
        let api_rate_budget = match non_empty(&self.api_rate_budget) {
            None => DEFAULT_API_RATE_BUDGET,
            Some(text) => positive_rate("API_RATE_BUDGET", text)?,
        };
        let concurrency = match non_empty(&self.subscriber_concurrency) {
            None => 1,
            Some(text) => match text.parse::<u32>() {
                Ok(n) if (1..=1000).contains(&n) => n,
                _ => {
                    return Err(invalid(
                        "SUBSCRIBER_CONCURRENCY",
                        text,
                        "expected the function's reserved concurrency, 1 to 1000",
                    ));
                }
            },
        };
        let api_rate_limit = match non_empty(&self.api_rate_limit) {
            None => api_rate_budget / f64::from(concurrency),
            Some(text) => {
                let rate = positive_rate("API_RATE_LIMIT", text)?;
                // A little slack for decimal fractions such as 5 / 3.
                if rate * f64::from(concurrency) > api_rate_budget * (1.0 + 1e-9) {
                    return Err(invalid(
                        "API_RATE_LIMIT",
                        text,
                        &format!(
                            "{concurrency} invocation(s) at once (SUBSCRIBER_CONCURRENCY) at {rate} \
                             calls/s each would exceed API_RATE_BUDGET={api_rate_budget} calls/s; \
                             use at most {:.3}, or leave it unset",
                            api_rate_budget / f64::from(concurrency)
                        ),
                    ));
                }
                rate
            }
        };
        let max_filters_per_group = match non_empty(&self.max_filters_per_group) {
            None => DEFAULT_MAX_FILTERS_PER_GROUP,
            Some(text) => match text.parse::<usize>() {
                Ok(n) if (1..=MAX_FILTERS_PER_GROUP_LIMIT).contains(&n) => n,
                _ => {
                    return Err(invalid(
                        "MAX_FILTERS_PER_GROUP",
                        text,
                        &format!(
                            "expected 1 to {MAX_FILTERS_PER_GROUP_LIMIT}, the subscription filters per \
                             log group your account's CloudWatch Logs quota allows"
                        ),
                    ));
                }
            },
        };
        let scope = match non_empty(&self.subscription_scope).unwrap_or("log-group") {
            "log-group" => SubscriptionScope::LogGroup,
            "account" => SubscriptionScope::Account,
            other => {
                return Err(invalid(
                    "SUBSCRIPTION_SCOPE",
                    other,
                    "expected log-group or account",
                ));
            }
        };
        if scope == SubscriptionScope::Account && !(include_tags.is_empty() && exclude_tags.is_empty()) {
            return Err(invalid(
                "SUBSCRIPTION_SCOPE",
                "account",
                "an account policy selects log groups by exact name only; INCLUDE_TAGS and \
                 EXCLUDE_TAGS need SUBSCRIPTION_SCOPE=log-group",
            ));
        }
        Ok(Config {
            destination,
            scope,
            role_arn,
            filter_name,
            filter_pattern,
            distribution,
            include,
            exclude,
            include_tags,
            exclude_tags,
            retention_days,
            retention_mode,
            api_rate_limit,
            max_filters_per_group,
            own_function: own_function(self),
        })
    }
}

/// Where Sluice subscribes: each log group, or the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SubscriptionScope {
    /// A subscription filter on each selected log group.
    LogGroup,
    /// One account-level subscription filter policy for every group but the excluded ones.
    Account,
}

/// The validated settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Per log group or per account.
    pub scope: SubscriptionScope,
    /// Where Sluice's filter sends events; `None` only for an unsubscribe, which needs none.
    pub destination: Option<Destination>,
    /// The role for Kinesis and Firehose destinations.
    pub role_arn: Option<String>,
    /// The name that marks a filter as Sluice's.
    pub filter_name: String,
    /// The filter pattern (empty: everything).
    pub filter_pattern: String,
    /// How events spread over Kinesis shards.
    pub distribution: Distribution,
    /// Globs a log group name must match one of.
    pub include: Vec<Pattern>,
    /// Globs that exclude a log group (exclude wins).
    pub exclude: Vec<Pattern>,
    /// Tag rules a log group must match one of (none: tags do not matter).
    pub include_tags: Vec<TagRule>,
    /// Tag rules that exclude a log group (exclude wins).
    pub exclude_tags: Vec<TagRule>,
    /// Retention to set, if any.
    pub retention_days: Option<i32>,
    /// When retention is set.
    pub retention_mode: RetentionMode,
    /// Calls per second per CloudWatch Logs API.
    pub api_rate_limit: f64,
    /// Subscription filters allowed per log group.
    pub max_filters_per_group: usize,
    /// The subscriber's own Lambda function, and which setting named it: Lambda's
    /// `AWS_LAMBDA_FUNCTION_NAME`, or `SUBSCRIBER_FUNCTION_NAME` on the command line.
    pub own_function: Option<OwnFunction>,
}

/// The subscriber's own function, whose log group Sluice leaves alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnFunction {
    /// The function name.
    pub name: String,
    /// The setting it came from.
    pub from: &'static str,
}

fn own_function(raw: &RawConfig) -> Option<OwnFunction> {
    let named = |value: &Option<String>, from| {
        non_empty(value).map(|name| OwnFunction {
            name: name.to_string(),
            from,
        })
    };
    named(&raw.own_function_name, "AWS_LAMBDA_FUNCTION_NAME")
        .or_else(|| named(&raw.subscriber_function_name, "SUBSCRIBER_FUNCTION_NAME"))
}

impl Config {
    /// The role to send with `PutSubscriptionFilter`: only Kinesis and Firehose destinations take one.
    pub fn filter_role_arn(&self) -> Option<&str> {
        self.role_arn.as_deref().filter(|_| self.needs_role())
    }

    /// Whether the destination is one CloudWatch Logs needs a role (and a distribution) for.
    pub fn needs_role(&self) -> bool {
        self.destination
            .as_ref()
            .is_some_and(|destination| destination.kind.needs_role())
    }

    /// The destination, which every subscribing call needs.
    pub fn destination(&self) -> Result<&Destination, SubscriberError> {
        self.destination.as_ref().ok_or(SubscriberError::MissingSetting {
            setting: "DESTINATION_ARN",
        })
    }

    /// The subscriber's own function name, when known.
    pub fn own_function_name(&self) -> Option<&str> {
        self.own_function.as_ref().map(|own| own.name.as_str())
    }
}

/// A parsed destination ARN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Destination {
    /// The ARN as given.
    pub arn: String,
    /// What it names.
    pub kind: DestinationKind,
    /// Its region: the command line's region when none is configured, since log groups can
    /// only subscribe to a destination in their own region.
    pub region: String,
}

/// The four kinds of subscription filter destination CloudWatch Logs accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum DestinationKind {
    /// A Lambda function (the forwarder); its own log group is `/aws/lambda/<function>`.
    LambdaFunction {
        /// The function name, without qualifier.
        function: String,
    },
    /// A Kinesis data stream.
    KinesisStream,
    /// A Firehose delivery stream.
    FirehoseDeliveryStream,
    /// A CloudWatch Logs destination, usually in a central account.
    LogsDestination,
}

impl DestinationKind {
    /// Whether CloudWatch Logs needs a role to write to it.
    pub fn needs_role(&self) -> bool {
        matches!(
            self,
            DestinationKind::KinesisStream | DestinationKind::FirehoseDeliveryStream
        )
    }

    fn label(&self) -> &'static str {
        match self {
            DestinationKind::LambdaFunction { .. } => "Lambda",
            DestinationKind::KinesisStream => "Kinesis",
            DestinationKind::FirehoseDeliveryStream => "Firehose",
            DestinationKind::LogsDestination => "CloudWatch Logs destination",
        }
    }
}

impl Destination {
    /// Parses `arn:<partition>:<service>:<region>:<account>:<resource>`.
    pub fn parse(arn: &str) -> Result<Destination, SubscriberError> {
        let fail = |reason: &str| invalid("DESTINATION_ARN", arn, reason);
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [prefix, partition, service, region, account, resource] = parts[..] else {
            return Err(fail("expected arn:aws:<service>:<region>:<account>:<resource>"));
        };
        if prefix != "arn" || !partition.starts_with("aws") || region.is_empty() {
            return Err(fail("expected arn:aws:<service>:<region>:<account>:<resource>"));
        }
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(fail("the account must be 12 digits"));
        }
        let named = |kind_prefix: &str, separator: char| {
            resource
                .strip_prefix(kind_prefix)
                .and_then(|rest| rest.strip_prefix(separator))
                .filter(|name| !name.is_empty())
        };
        let kind = match service {
            "lambda" => {
                let function = named("function", ':')
                    .ok_or_else(|| fail("expected function:<name> after the account"))?;
                let function = function.split(':').next().unwrap_or(function).to_string();
                DestinationKind::LambdaFunction { function }
            }
            "kinesis" => named("stream", '/')
                .map(|_| DestinationKind::KinesisStream)
                .ok_or_else(|| fail("expected stream/<name> after the account"))?,
            "firehose" => named("deliverystream", '/')
                .map(|_| DestinationKind::FirehoseDeliveryStream)
                .ok_or_else(|| fail("expected deliverystream/<name> after the account"))?,
            "logs" => named("destination", ':')
                .map(|_| DestinationKind::LogsDestination)
                .ok_or_else(|| fail("expected destination:<name> after the account"))?,
            _ => return Err(fail("the service must be lambda, kinesis, firehose or logs")),
        };
        Ok(Destination {
            arn: arn.to_string(),
            kind,
            region: region.to_string(),
        })
    }
}

/// How CloudWatch Logs spreads events over a Kinesis stream's shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Distribution {
    /// Events of one log stream go to one shard (the API's default).
    ByLogStream,
    /// Events spread randomly.
    Random,
}

impl Distribution {
    /// The name the API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Distribution::ByLogStream => "ByLogStream",
            Distribution::Random => "Random",
        }
    }
}

/// Which selected groups get `RETENTION_DAYS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RetentionMode {
    /// Only groups that never expire.
    Missing,
    /// Every selected group whose retention differs (may shorten it).
    Enforce,
}

/// One tag rule: a key, and a glob its value must match (`None`: any value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagRule {
    /// The tag key, matched exactly.
    pub key: String,
    /// The glob the value must match; `None` matches any value.
    pub value: Option<Pattern>,
}

impl TagRule {
    /// Whether `tags` has this key with a matching value.
    pub fn matches(&self, tags: &std::collections::BTreeMap<String, String>) -> bool {
        tags.get(&self.key)
            .is_some_and(|value| self.value.as_ref().is_none_or(|glob| glob.matches(value)))
    }
}

impl std::fmt::Display for TagRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.value {
            Some(glob) => write!(f, "{}={}", self.key, glob.as_str()),
            None => f.write_str(&self.key),
        }
    }
}

fn tag_rules(setting: &'static str, text: &str) -> Result<Vec<TagRule>, SubscriberError> {
    text.split(',')
        .map(str::trim)
        .filter(|rule| !rule.is_empty())
        .map(|rule| {
            let (key, value) = match rule.split_once('=') {
                Some((key, value)) => (key.trim(), Some(value.trim())),
                None => (rule, None),
            };
            if key.is_empty() || key.len() > 128 {
                return Err(invalid(
                    setting,
                    rule,
                    "expected key=value-glob or key, with a key of 1 to 128 characters",
                ));
            }
            let value = value
                .map(|glob| Pattern::new(glob).map_err(|err| invalid(setting, rule, &err.to_string())))
                .transpose()?;
            Ok(TagRule {
                key: key.to_string(),
                value,
            })
        })
        .collect()
}

fn positive_rate(setting: &'static str, text: &str) -> Result<f64, SubscriberError> {
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        _ => Err(invalid(setting, text, "expected calls per second > 0")),
    }
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn invalid(setting: &'static str, value: &str, reason: &str) -> SubscriberError {
    SubscriberError::InvalidSetting {
        setting,
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

fn globs(setting: &'static str, text: &str) -> Result<Vec<Pattern>, SubscriberError> {
    text.split(',')
        .map(str::trim)
        .filter(|glob| !glob.is_empty())
        .map(|glob| Pattern::new(glob).map_err(|err| invalid(setting, glob, &err.to_string())))
        .collect()
}

#[cfg(test)]
mod tests;

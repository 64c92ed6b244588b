//! Settings, read in two stages: [`RawConfig`] holds the strings (environment variables, or CLI
//! flags with the same names in lower-kebab-case, declared once for both by clap), [`Config`] the
//! validated values, checked with the helpers of [`sluice_edge::settings`]; a refusal is a
//! [`SettingError`] naming its setting.

mod destination;
mod filter_options;
mod raw;

use clap::ValueEnum;
use glob::Pattern;
use serde::Serialize;
pub use sluice_edge::settings::SettingError;
use sluice_edge::settings::{choice, log_level, number, text};

pub use destination::{Destination, DestinationKind};
pub use filter_options::{FIELD_SELECTION_CRITERIA_MAX_CHARS, FilterOptions, SystemField};
pub use raw::RawConfig;

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

impl RawConfig {
    /// Validates every setting; a subscribing pass needs `DESTINATION_ARN`.
    pub fn validate(&self) -> Result<Config, SettingError> {
        if text(&self.destination_arn).is_none() {
            return Err(SettingError::missing("DESTINATION_ARN"));
        }
        self.validate_for_unsubscribe()
    }

    /// Validates every setting but requires no `DESTINATION_ARN`: removing Sluice's filters
    /// finds them by `FILTER_NAME` alone.
    pub fn validate_for_unsubscribe(&self) -> Result<Config, SettingError> {
        let destination = text(&self.destination_arn).map(Destination::parse).transpose()?;
        let role_arn = role_arn(self, destination.as_ref())?;
        let filter_name = text(&self.filter_name).unwrap_or("sluice").to_string();
        if filter_name.len() > 512 || filter_name.contains([':', '*']) {
            return Err(SettingError::invalid(
                "FILTER_NAME",
                &filter_name,
                "1 to 512 characters, without ':' or '*'",
            ));
        }
        let filter_pattern = self.filter_pattern.clone().unwrap_or_default();
        if filter_pattern.len() > 1024 {
            return Err(SettingError::invalid(
                "FILTER_PATTERN",
                &filter_pattern,
                "at most 1024 characters",
            ));
        }
        let include_tags = tag_rules("INCLUDE_TAGS", text(&self.include_tags).unwrap_or(""))?;
        let exclude_tags = tag_rules("EXCLUDE_TAGS", text(&self.exclude_tags).unwrap_or(""))?;
        let scope = choice::<SubscriptionScope>(&self.subscription_scope, "SUBSCRIPTION_SCOPE")?;
        if scope == SubscriptionScope::Account && !(include_tags.is_empty() && exclude_tags.is_empty()) {
            return Err(SettingError::invalid(
                "SUBSCRIPTION_SCOPE",
                "account",
                "an account policy selects log groups by exact name only; INCLUDE_TAGS and \
                 EXCLUDE_TAGS need SUBSCRIPTION_SCOPE=log-group",
            ));
        }
        let filter_options = filter_options::filter_options(self)?;
        if let Some((setting, value)) = filter_options.first_set()
            && scope == SubscriptionScope::Account
        {
            return Err(SettingError::invalid(
                setting,
                &value,
                "an account subscription filter policy takes only DestinationArn, RoleArn, \
                 FilterPattern and Distribution (PutAccountPolicy); it needs \
                 SUBSCRIPTION_SCOPE=log-group",
            ));
        }
        Ok(Config {
            destination,
            scope,
            role_arn,
            filter_name,
            filter_pattern,
            filter_options,
            distribution: choice(&self.distribution, "DISTRIBUTION")?,
            include: globs("INCLUDE_PATTERNS", text(&self.include_patterns).unwrap_or("*"))?,
            exclude: globs("EXCLUDE_PATTERNS", text(&self.exclude_patterns).unwrap_or(""))?,
            include_tags,
            exclude_tags,
            retention_days: retention_days(self)?,
            retention_mode: choice(&self.retention_mode, "RETENTION_MODE")?,
            api_rate_limit: api_rate_limit(self)?,
            max_filters_per_group: number(
                &self.max_filters_per_group,
                "MAX_FILTERS_PER_GROUP",
                DEFAULT_MAX_FILTERS_PER_GROUP,
                1..=MAX_FILTERS_PER_GROUP_LIMIT,
            )
            .map_err(|err| {
                err.hint("the subscription filters per log group your account's CloudWatch Logs quota allows")
            })?,
            log_level: log_level(&self.log_level, "info")?,
            own_function: own_function(self),
        })
    }
}

/// `ROLE_ARN`: an IAM role ARN, required by Kinesis and Firehose destinations.
fn role_arn(raw: &RawConfig, destination: Option<&Destination>) -> Result<Option<String>, SettingError> {
    let role_arn = text(&raw.role_arn);
    if let Some(role) = role_arn
        && !(role.starts_with("arn:aws") && role.contains(":iam::") && role.contains(":role/"))
    {
        return Err(SettingError::invalid(
            "ROLE_ARN",
            role,
            "expected arn:aws:iam::<account>:role/<name>",
        ));
    }
    if let Some(destination) = destination.filter(|d| d.kind.needs_role() && role_arn.is_none()) {
        return Err(SettingError::invalid(
            "ROLE_ARN",
            "",
            format_args!(
                "a {} destination needs the role CloudWatch Logs assumes to write to it",
                destination.kind.label()
            ),
        ));
    }
    Ok(role_arn.map(str::to_string))
}

/// `RETENTION_DAYS`: one of the periods CloudWatch Logs accepts; `None` leaves retention alone.
fn retention_days(raw: &RawConfig) -> Result<Option<i32>, SettingError> {
    let Some(days) = text(&raw.retention_days) else {
        return Ok(None);
    };
    let invalid = |reason: &dyn std::fmt::Display| SettingError::invalid("RETENTION_DAYS", days, reason);
    let days: i32 = days
        .parse()
        .map_err(|_| invalid(&"expected a number of days, e.g. 30"))?;
    if !RETENTION_DAYS_ACCEPTED.contains(&days) {
        return Err(invalid(&format_args!(
            "CloudWatch Logs accepts only {RETENTION_DAYS_ACCEPTED:?}"
        )));
    }
    Ok(Some(days))
}

/// `API_RATE_LIMIT`, within `API_RATE_BUDGET` shared by `SUBSCRIBER_CONCURRENCY` invocations;
/// by default the budget's share of one invocation.
fn api_rate_limit(raw: &RawConfig) -> Result<f64, SettingError> {
    let budget = match text(&raw.api_rate_budget) {
        None => DEFAULT_API_RATE_BUDGET,
        Some(budget) => positive_rate("API_RATE_BUDGET", budget)?,
    };
    let concurrency: u32 = number(&raw.subscriber_concurrency, "SUBSCRIBER_CONCURRENCY", 1, 1..=1000)
        .map_err(|err| err.hint("the function's reserved concurrency"))?;
    let share = budget / f64::from(concurrency);
    let Some(text) = text(&raw.api_rate_limit) else {
        return Ok(share);
    };
    let rate = positive_rate("API_RATE_LIMIT", text)?;
    // A little slack for decimal fractions such as 5 / 3.
    if rate * f64::from(concurrency) > budget * (1.0 + 1e-9) {
        return Err(SettingError::invalid(
            "API_RATE_LIMIT",
            text,
            format_args!(
                "{concurrency} invocation(s) at once (SUBSCRIBER_CONCURRENCY) at {rate} calls/s each \
                 would exceed API_RATE_BUDGET={budget} calls/s; use at most {share:.3}, or leave it unset"
            ),
        ));
    }
    Ok(rate)
}

/// Where Sluice subscribes: each log group, or the account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum SubscriptionScope {
    /// A subscription filter on each selected log group.
    #[default]
    LogGroup,
    /// One account-level subscription filter policy for every group but the excluded ones
    /// (`LogGroupName NOT IN [...]`).
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
    /// System fields, field selection criteria and transformed logs: the same on every filter.
    pub filter_options: FilterOptions,
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
    /// `LOG_LEVEL`, `info` when unset (the command line's default is `warn`, read before the
    /// rest by [`Cli::log_level`](crate::cli::Cli::log_level)).
    pub log_level: String,
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
        text(value).map(|name| OwnFunction {
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
    pub fn destination(&self) -> Result<&Destination, SettingError> {
        self.destination
            .as_ref()
            .ok_or(SettingError::missing("DESTINATION_ARN"))
    }

    /// The subscriber's own function name, when known.
    pub fn own_function_name(&self) -> Option<&str> {
        self.own_function.as_ref().map(|own| own.name.as_str())
    }
}

/// How CloudWatch Logs spreads events over a Kinesis stream's shards.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ValueEnum)]
pub enum Distribution {
    /// Events of one log stream go to one shard (the API's default).
    #[default]
    #[value(name = "ByLogStream")]
    ByLogStream,
    /// Events spread randomly.
    #[value(name = "Random")]
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum RetentionMode {
    /// Only groups that never expire.
    #[default]
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

fn tag_rules(setting: &'static str, text: &str) -> Result<Vec<TagRule>, SettingError> {
    text.split(',')
        .map(str::trim)
        .filter(|rule| !rule.is_empty())
        .map(|rule| {
            let (key, value) = match rule.split_once('=') {
                Some((key, value)) => (key.trim(), Some(value.trim())),
                None => (rule, None),
            };
            if key.is_empty() || key.len() > 128 {
                return Err(SettingError::invalid(
                    setting,
                    rule,
                    "expected key=value-glob or key, with a key of 1 to 128 characters",
                ));
            }
            let value = value
                .map(|glob| Pattern::new(glob).map_err(|err| SettingError::invalid(setting, rule, err)))
                .transpose()?;
            Ok(TagRule {
                key: key.to_string(),
                value,
            })
        })
        .collect()
}

fn positive_rate(setting: &'static str, text: &str) -> Result<f64, SettingError> {
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        _ => Err(SettingError::invalid(
            setting,
            text,
            "expected calls per second > 0",
        )),
    }
}

fn globs(setting: &'static str, text: &str) -> Result<Vec<Pattern>, SettingError> {
    text.split(',')
        .map(str::trim)
        .filter(|glob| !glob.is_empty())
        .map(|glob| Pattern::new(glob).map_err(|err| SettingError::invalid(setting, glob, err)))
        .collect()
}

#[cfg(test)]
mod tests;

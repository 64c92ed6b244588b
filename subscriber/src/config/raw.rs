//! The settings as strings, before validation ([`RawConfig`]): environment variables, or CLI
//! flags with the same names in lower-kebab-case, declared once for both by clap.

use sluice_edge::settings::keyword;

use super::{Distribution, RetentionMode, SubscriptionScope};

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
    /// Comma-separated system fields CloudWatch Logs adds to each event it sends: `@aws.account`,
    /// `@aws.region`, `@source.log` (empty: none). For a central account that receives the logs
    /// of others (CloudWatch Logs centralization).
    #[arg(long, env = "EMIT_SYSTEM_FIELDS")]
    pub emit_system_fields: Option<String>,
    /// Which events the filter sends, by system field (`@aws.account = "123456789012"`); empty:
    /// every event. At most 2000 characters.
    #[arg(long, env = "FIELD_SELECTION_CRITERIA")]
    pub field_selection_criteria: Option<String>,
    /// `true`: the filter sees events as the log group's transformer left them (default `false`).
    #[arg(long, env = "APPLY_ON_TRANSFORMED_LOGS")]
    pub apply_on_transformed_logs: Option<String>,
    /// How events spread over a Kinesis stream's shards; only Kinesis destinations use it.
    #[arg(long, env = "DISTRIBUTION", value_parser = keyword::<Distribution>())]
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
    /// Which selected groups get RETENTION_DAYS.
    #[arg(long, env = "RETENTION_MODE", value_parser = keyword::<RetentionMode>())]
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
    /// Where Sluice subscribes: each selected log group, or the account.
    #[arg(long, env = "SUBSCRIPTION_SCOPE", value_parser = keyword::<SubscriptionScope>())]
    pub subscription_scope: Option<String>,
    /// Subscription filters CloudWatch Logs allows per log group in this account and region
    /// (default 2; at most 5): a group whose filters that are not Sluice's fill them is a conflict.
    #[arg(long, env = "MAX_FILTERS_PER_GROUP")]
    pub max_filters_per_group: Option<String>,
    /// The subscriber's function in the stack (its output SubscriberFunctionName): its log group
    /// is left alone, as the function itself does, so the command line plans what Lambda plans.
    #[arg(long, env = "SUBSCRIBER_FUNCTION_NAME")]
    pub subscriber_function_name: Option<String>,
    /// The log level: `trace`, `debug`, `info` (Lambda's default), `warn` (the command line's
    /// default), `error`, `off`, or `tracing` directives such as `sluice_subscriber=debug`.
    #[arg(long, env = "LOG_LEVEL")]
    pub log_level: Option<String>,
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
}

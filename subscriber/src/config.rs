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

/// Default `API_RATE_LIMIT`: CloudWatch Logs' documented control-plane quota for the describe and
/// put calls the subscriber makes is 5 transactions per second per account and region.
pub const DEFAULT_API_RATE_LIMIT: f64 = 5.0;

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
    /// Retention in days to set; empty leaves retention alone.
    #[arg(long, env = "RETENTION_DAYS")]
    pub retention_days: Option<String>,
    /// `missing` (only groups that never expire) or `enforce` (every selected group).
    #[arg(long, env = "RETENTION_MODE")]
    pub retention_mode: Option<String>,
    /// Calls per second per CloudWatch Logs API (default 5).
    #[arg(long, env = "API_RATE_LIMIT")]
    pub api_rate_limit: Option<String>,
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

    /// Validates every setting.
    pub fn validate(&self) -> Result<Config, SubscriberError> {
        let destination_arn = non_empty(&self.destination_arn).ok_or(SubscriberError::MissingSetting {
            setting: "DESTINATION_ARN",
        })?;
        let destination = Destination::parse(destination_arn)?;
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
        if destination.kind.needs_role() && role_arn.is_none() {
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
        let api_rate_limit = match non_empty(&self.api_rate_limit) {
            None => DEFAULT_API_RATE_LIMIT,
            Some(text) => match text.parse::<f64>() {
                Ok(rate) if rate.is_finite() && rate > 0.0 => rate,
                _ => return Err(invalid("API_RATE_LIMIT", text, "expected calls per second > 0")),
            },
        };
        Ok(Config {
            destination,
            role_arn,
            filter_name,
            filter_pattern,
            distribution,
            include,
            exclude,
            retention_days,
            retention_mode,
            api_rate_limit,
            own_function_name: non_empty(&self.own_function_name).map(str::to_string),
        })
    }
}

/// The validated settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where Sluice's filter sends events.
    pub destination: Destination,
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
    /// Retention to set, if any.
    pub retention_days: Option<i32>,
    /// When retention is set.
    pub retention_mode: RetentionMode,
    /// Calls per second per CloudWatch Logs API.
    pub api_rate_limit: f64,
    /// The subscriber's own Lambda function name, when running in Lambda.
    pub own_function_name: Option<String>,
}

impl Config {
    /// The role to send with `PutSubscriptionFilter`: only Kinesis and Firehose destinations take one.
    pub fn filter_role_arn(&self) -> Option<&str> {
        self.role_arn
            .as_deref()
            .filter(|_| self.destination.kind.needs_role())
    }
}

/// A parsed destination ARN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Destination {
    /// The ARN as given.
    pub arn: String,
    /// What it names.
    pub kind: DestinationKind,
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
mod tests {
    use super::*;

    const FORWARDER: &str = "arn:aws:lambda:eu-west-1:123456789012:function:sluice-forwarder";

    fn config(pairs: &[(&str, &str)]) -> Result<Config, SubscriberError> {
        RawConfig::from_pairs(pairs).validate()
    }

    fn setting_of(err: SubscriberError) -> &'static str {
        match err {
            SubscriberError::MissingSetting { setting } | SubscriberError::InvalidSetting { setting, .. } => {
                setting
            }
            other => panic!("not a config error: {other}"),
        }
    }

    #[test]
    fn flags_are_the_env_names_in_kebab_case() {
        let command = <RawConfig as clap::Args>::augment_args(clap::Command::new("settings"));
        for arg in command.get_arguments() {
            let name = arg.get_env().and_then(|name| name.to_str()).expect("an env name");
            let flag = name.to_ascii_lowercase().replace('_', "-");
            assert_eq!(arg.get_long(), Some(flag.as_str()), "{name}");
        }
    }

    #[test]
    fn defaults_with_only_a_lambda_destination() {
        let config = config(&[("DESTINATION_ARN", FORWARDER)]).expect("valid");
        assert_eq!(
            config.destination.kind,
            DestinationKind::LambdaFunction {
                function: "sluice-forwarder".into()
            }
        );
        assert_eq!(config.filter_name, "sluice");
        assert_eq!(config.filter_pattern, "");
        assert_eq!(config.distribution, Distribution::ByLogStream);
        assert_eq!(config.include.len(), 1);
        assert!(config.include[0].matches("/aws/lambda/anything"));
        assert!(config.exclude.is_empty());
        assert_eq!(config.retention_days, None);
        assert_eq!(config.retention_mode, RetentionMode::Missing);
        assert_eq!(config.api_rate_limit, 5.0);
        assert_eq!(config.filter_role_arn(), None);
    }

    #[test]
    fn every_destination_kind_parses() {
        let role = ("ROLE_ARN", "arn:aws:iam::123456789012:role/cwl-to-kinesis");
        let cases = [
            (
                "arn:aws:lambda:eu-west-1:123456789012:function:fwd:live",
                DestinationKind::LambdaFunction {
                    function: "fwd".into(),
                },
            ),
            (
                "arn:aws:kinesis:eu-west-1:123456789012:stream/logs",
                DestinationKind::KinesisStream,
            ),
            (
                "arn:aws:firehose:eu-west-1:123456789012:deliverystream/logs",
                DestinationKind::FirehoseDeliveryStream,
            ),
            (
                "arn:aws:logs:eu-west-1:210987654321:destination:central",
                DestinationKind::LogsDestination,
            ),
        ];
        for (arn, kind) in cases {
            let config = config(&[("DESTINATION_ARN", arn), role]).expect(arn);
            assert_eq!(config.destination.kind, kind, "{arn}");
            assert_eq!(config.filter_role_arn().is_some(), kind.needs_role(), "{arn}");
        }
    }

    #[test]
    fn refuses_what_cloudwatch_would_refuse() {
        let cases: [(&[(&str, &str)], &str); 10] = [
            (&[], "DESTINATION_ARN"),
            (&[("DESTINATION_ARN", "not-an-arn")], "DESTINATION_ARN"),
            (
                &[("DESTINATION_ARN", "arn:aws:s3:eu-west-1:123456789012:bucket/x")],
                "DESTINATION_ARN",
            ),
            (
                &[("DESTINATION_ARN", "arn:aws:lambda:eu-west-1:1234:function:x")],
                "DESTINATION_ARN",
            ),
            (
                &[(
                    "DESTINATION_ARN",
                    "arn:aws:kinesis:eu-west-1:123456789012:stream/logs",
                )],
                "ROLE_ARN",
            ),
            (
                &[("DESTINATION_ARN", FORWARDER), ("RETENTION_DAYS", "10")],
                "RETENTION_DAYS",
            ),
            (
                &[("DESTINATION_ARN", FORWARDER), ("RETENTION_MODE", "always")],
                "RETENTION_MODE",
            ),
            (
                &[("DESTINATION_ARN", FORWARDER), ("DISTRIBUTION", "random")],
                "DISTRIBUTION",
            ),
            (
                &[("DESTINATION_ARN", FORWARDER), ("API_RATE_LIMIT", "0")],
                "API_RATE_LIMIT",
            ),
            (
                &[
                    ("DESTINATION_ARN", FORWARDER),
                    ("INCLUDE_PATTERNS", "/aws/[lambda"),
                ],
                "INCLUDE_PATTERNS",
            ),
        ];
        for (pairs, setting) in cases {
            let err = config(pairs).expect_err(setting);
            assert_eq!(setting_of(err), setting, "{pairs:?}");
        }
    }

    #[test]
    fn patterns_retention_and_rate_as_the_template_sends_them() {
        let config = config(&[
            ("DESTINATION_ARN", FORWARDER),
            ("INCLUDE_PATTERNS", "/aws/lambda/*, /ecs/*"),
            ("EXCLUDE_PATTERNS", "/aws/lambda/test-*"),
            ("RETENTION_DAYS", "30"),
            ("RETENTION_MODE", "enforce"),
            ("API_RATE_LIMIT", "2"),
            ("FILTER_PATTERN", "[level=ERROR]"),
            ("AWS_LAMBDA_FUNCTION_NAME", "sluice-Subscriber-1"),
        ])
        .expect("valid");
        let names: Vec<&str> = config.include.iter().map(Pattern::as_str).collect();
        assert_eq!(names, ["/aws/lambda/*", "/ecs/*"]);
        assert_eq!(config.exclude[0].as_str(), "/aws/lambda/test-*");
        assert_eq!(config.retention_days, Some(30));
        assert_eq!(config.retention_mode, RetentionMode::Enforce);
        assert_eq!(config.api_rate_limit, 2.0);
        assert_eq!(config.filter_pattern, "[level=ERROR]");
        assert_eq!(config.own_function_name.as_deref(), Some("sluice-Subscriber-1"));
    }
}

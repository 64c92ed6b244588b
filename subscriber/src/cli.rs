//! The command line: `backfill` and `unsubscribe` run a whole pass with no deadline and print its
//! plan. Here rather than in `main.rs` so that the end-to-end tests drive the very commands a
//! person types, against an emulator.

use std::io::Write;

use anyhow::Context;
use aws_config::Region;
pub use aws_config::SdkConfig;
use clap::{Parser, Subcommand, ValueEnum};

use crate::aws::{Logs, MAX_ATTEMPTS};
use crate::config::{RawConfig, SettingError};
use crate::plan::{Mode, Plan, Run};
use crate::sweep::Sweeper;

/// Subscribes CloudWatch Logs log groups to the Sluice forwarder.
#[derive(Debug, Parser)]
#[command(name = "sluice-subscriber", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The two passes.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Subscribes every selected log group (and sets retention), as the scheduled sweep does, and
    /// removes Sluice's filter from groups the rules no longer select.
    ///
    /// Prints one row per log group with its action and why:
    ///   subscribe    Sluice's filter is put: the group has none and a slot is free
    ///   update       Sluice's filter has another destination, pattern, distribution or role
    ///   unchanged    Sluice's filter is as configured
    ///   remove       the group carries Sluice's filter but the rules no longer select it
    ///   excluded     the rules leave the group alone (name patterns, Sluice's own groups)
    ///   conflict     filters that are not Sluice's take every slot (MAX_FILTERS_PER_GROUP), or
    ///                CloudWatch Logs refused the filter with LimitExceededException
    ///   unsupported  the group's class takes no subscription filter
    /// Filters that are not Sluice's (another FILTER_NAME) are never changed. Unlike the scheduled
    /// sweep, which looks at excluded groups only after the rules changed, a backfill looks at
    /// every group. Set SUBSCRIBER_FUNCTION_NAME (--subscriber-function-name) to the stack's subscriber so
    /// that its own log group is left alone, as the function leaves it; the plan's notes say
    /// which groups are left alone and why.
    ///
    /// With SUBSCRIPTION_SCOPE=account the plan has two steps: first the account policy (put,
    /// unchanged), printed with its policyDocument, its selectionCriteria
    /// `LogGroupName NOT IN [...]` (the groups the rules exclude, classes without subscriptions,
    /// Sluice's own groups) and its size against the 25 KB limit; a list over it is refused,
    /// naming how many names it holds. Then the groups: `unchanged` (covered by the policy) or
    /// `remove` (Sluice's own filter, which would deliver every event twice), retention as usual.
    #[command(verbatim_doc_comment)]
    Backfill {
        #[command(flatten)]
        common: Common,
        /// Boxed: the settings are far larger than `unsubscribe`'s.
        #[command(flatten)]
        settings: Box<RawConfig>,
    },
    /// Removes Sluice's own subscription filters (named FILTER_NAME) from every log group, and
    /// with SUBSCRIPTION_SCOPE=account then deletes Sluice's account policy (named FILTER_NAME).
    ///
    /// It removes them wherever they are, whatever the include and exclude rules: to take Sluice
    /// off some groups only, narrow the rules and run `backfill`, which removes Sluice's filter
    /// from the groups they no longer select. Retention set by Sluice stays as it is.
    Unsubscribe {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        settings: UnsubscribeSettings,
    },
}

/// What both commands take besides the settings.
#[derive(Debug, Clone, clap::Args)]
pub struct Common {
    /// Print the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// `text` (a table with totals) or `json`.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// The AWS region of the log groups. Default: the AWS settings (AWS_REGION, the profile's
    /// region), else the region of DESTINATION_ARN.
    #[arg(long)]
    pub region: Option<String>,
}

/// The settings `unsubscribe` uses: it finds Sluice's filters by name alone, so it needs no
/// destination and takes no rules.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct UnsubscribeSettings {
    /// The subscription filter's name; only filters with this name are removed.
    #[arg(long, env = "FILTER_NAME")]
    pub filter_name: Option<String>,
    /// `log-group` (default) or `account`: also delete the account policy named FILTER_NAME.
    #[arg(long, env = "SUBSCRIPTION_SCOPE")]
    pub subscription_scope: Option<String>,
    /// Calls per second per CloudWatch Logs API (default API_RATE_BUDGET).
    #[arg(long, env = "API_RATE_LIMIT")]
    pub api_rate_limit: Option<String>,
    /// Calls per second per CloudWatch Logs API for all of the subscriber's invocations (default 5).
    #[arg(long, env = "API_RATE_BUDGET")]
    pub api_rate_budget: Option<String>,
    /// The log level (default warn), as for `backfill`.
    #[arg(long, env = "LOG_LEVEL")]
    pub log_level: Option<String>,
}

impl UnsubscribeSettings {
    fn raw(&self) -> RawConfig {
        RawConfig {
            filter_name: self.filter_name.clone(),
            subscription_scope: self.subscription_scope.clone(),
            api_rate_limit: self.api_rate_limit.clone(),
            api_rate_budget: self.api_rate_budget.clone(),
            log_level: self.log_level.clone(),
            ..RawConfig::default()
        }
    }
}

/// How the plan is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// A table with totals.
    Text,
    /// The plan as JSON.
    Json,
}

impl Cli {
    /// Parses `args` (the program's name first) as `main` parses the real ones: for tests and
    /// tools that drive the command line without depending on clap.
    pub fn try_from_args<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Cli::try_parse_from(args)
    }

    /// The log level the command asks for (`LOG_LEVEL`, checked), `warn` by default: at a
    /// terminal the plan is the answer, not a log line per group. Read before the other
    /// settings, so that their checks are logged at this level.
    pub fn log_level(&self) -> Result<String, SettingError> {
        let level = match &self.command {
            Command::Backfill { settings, .. } => &settings.log_level,
            Command::Unsubscribe { settings, .. } => &settings.log_level,
        };
        sluice_edge::settings::log_level(level, "warn")
    }
}

/// Which region the command works in, and why: `--region`, else the AWS settings' region,
/// else the destination's (log groups can only subscribe to a destination in their region).
pub fn choose_region(
    flag: Option<&str>,
    configured: Option<&Region>,
    destination: Option<&str>,
) -> anyhow::Result<(Region, &'static str)> {
    if let Some(region) = flag.filter(|region| !region.is_empty()) {
        return Ok((Region::new(region.to_string()), "--region"));
    }
    if let Some(region) = configured {
        return Ok((region.clone(), "the AWS settings"));
    }
    if let Some(region) = destination {
        return Ok((Region::new(region.to_string()), "the region of DESTINATION_ARN"));
    }
    anyhow::bail!(
        "no AWS region: pass --region, set AWS_REGION (or a profile's region), or set DESTINATION_ARN"
    )
}

/// Runs `cli` with the AWS settings `base` (the usual chain, in `main`) and prints the plan on
/// `out`. `status`, when given (a terminal), hears what the command is waiting for. `Ok(false)`
/// when any log group failed.
pub async fn run(
    cli: Cli,
    base: SdkConfig,
    out: &mut dyn Write,
    mut status: Option<&mut (dyn Write + Send)>,
) -> anyhow::Result<bool> {
    let (mode, common, config) = match cli.command {
        Command::Backfill { common, settings } => (Mode::Subscribe, common, settings.validate()?),
        Command::Unsubscribe { common, settings } => (
            Mode::Unsubscribe,
            common,
            settings.raw().validate_for_unsubscribe()?,
        ),
    };
    let destination_region = config.destination.as_ref().map(|d| d.region.as_str());
    let (region, region_from) = choose_region(common.region.as_deref(), base.region(), destination_region)?;
    let endpoint = base
        .endpoint_url()
        .map(str::to_string)
        .unwrap_or_else(|| format!("https://logs.{region}.amazonaws.com"));
    let sdk = base
        .into_builder()
        .region(region.clone())
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .build();
    let logs = Logs::new(aws_sdk_cloudwatchlogs::Client::new(&sdk), config.api_rate_limit);
    let sweeper = Sweeper::new(logs, config);
    let where_ = format!("CloudWatch Logs in {region} (from {region_from}) at {endpoint}");
    if let Some(status) = status.as_mut() {
        writeln!(status, "connecting to {where_}")?;
    }
    sweeper
        .logs()
        .check_reachable()
        .await
        .with_context(|| format!("cannot use {where_}"))?;
    let mut on_progress = |plan: &Plan| {
        if let Some(status) = status.as_mut() {
            let totals = &plan.totals;
            // A progress line is a courtesy: a terminal that went away must not fail the pass.
            let _ = write!(
                status,
                "\r{} log groups, {} to change, {} failed",
                totals.seen,
                totals.subscribe + totals.update + totals.remove,
                totals.errors
            );
        }
    };
    let plan = sweeper
        .plan(mode, Run::dry_run_if(common.dry_run), &mut on_progress)
        .await;
    if let Some(status) = status.as_mut() {
        writeln!(status)?;
    }
    let plan = plan.with_context(|| format!("the pass over {where_} stopped"))?;
    match common.output {
        Output::Text => write!(out, "{plan}")?,
        Output::Json => writeln!(out, "{}", serde_json::to_string_pretty(&plan)?)?,
    }
    Ok(plan.totals.errors == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 12, item 11: `LOG_LEVEL=verbose` was taken silently as the name of a module to log.
    #[test]
    fn a_log_level_that_is_not_a_level_is_refused() {
        use clap::Parser as _;
        for command in ["backfill", "unsubscribe"] {
            let cli = Cli::try_parse_from([
                "sluice-subscriber",
                command,
                "--dry-run",
                "--log-level",
                "verbose",
            ])
            .expect("parsed");
            let err = cli.log_level().expect_err("verbose is not a level");
            assert!(
                err.to_string()
                    .starts_with(r#"LOG_LEVEL="verbose" is not valid: expected one of trace"#),
                "{err}"
            );
        }
        let cli = Cli::try_parse_from(["sluice-subscriber", "backfill"]).expect("parsed");
        assert_eq!(cli.log_level().as_deref(), Ok("warn"));
    }

    #[test]
    fn the_region_comes_from_the_flag_then_the_aws_settings_then_the_destination() {
        let configured = Region::new("eu-west-1");
        let (region, from) =
            choose_region(Some("us-east-2"), Some(&configured), Some("ap-south-1")).expect("flag");
        assert_eq!((region.as_ref(), from), ("us-east-2", "--region"));
        let (region, from) = choose_region(None, Some(&configured), Some("ap-south-1")).expect("settings");
        assert_eq!((region.as_ref(), from), ("eu-west-1", "the AWS settings"));
        let (region, from) = choose_region(None, None, Some("ap-south-1")).expect("destination");
        assert_eq!(
            (region.as_ref(), from),
            ("ap-south-1", "the region of DESTINATION_ARN")
        );
        let none = choose_region(None, None, None).expect_err("no region anywhere");
        assert!(none.to_string().contains("--region"), "{none}");
    }

    #[test]
    fn unsubscribe_offers_neither_rules_nor_a_destination() {
        use clap::CommandFactory;
        let cli = Cli::command();
        let unsubscribe = cli
            .find_subcommand("unsubscribe")
            .expect("unsubscribe subcommand");
        let flags: Vec<&str> = unsubscribe
            .get_arguments()
            .filter_map(|arg| arg.get_long())
            .collect();
        for absent in [
            "include-patterns",
            "exclude-patterns",
            "include-tags",
            "exclude-tags",
            "destination-arn",
            "retention-days",
        ] {
            assert!(
                !flags.contains(&absent),
                "unsubscribe offers --{absent}: {flags:?}"
            );
        }
        for present in ["filter-name", "subscription-scope", "region", "dry-run"] {
            assert!(
                flags.contains(&present),
                "unsubscribe lacks --{present}: {flags:?}"
            );
        }
        cli.debug_assert();
    }
}

//! The forwarder's command-line tool: `replay` (events from files or stdin, or a bucket's
//! objects, sent again or written as `_bulk` NDJSON), `s3-notify` and `dashboards`. Each command
//! is a file; this one parses the arguments and hands them over.

pub mod dashboards;
pub mod replay;
pub mod s3_notify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use self::dashboards::DashboardsArgs;
use self::replay::ReplayArgs;
use crate::source::s3::notify::NotifyArgs;

/// Ships CloudWatch Logs subscription batches into OpenSearch.
///
/// Every setting is read from the environment variable of the same name
/// (e.g. OPENSEARCH_ENDPOINT) or from the flag (e.g. --opensearch-endpoint), the flag winning.
#[derive(Debug, Parser)]
#[command(name = "sluice-forwarder", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per run: the size of the settings variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Sends Lambda events (CloudWatch Logs, Kinesis, SQS or S3 notifications, on-failure
    /// records) again, from files or stdin: one JSON event per line, or one per file, up to
    /// BULK_CONCURRENCY events in flight at once, counted in the order of the input. An
    /// s3://BUCKET/PREFIX instead reads every object under the prefix (a backfill; running it
    /// twice adds no document).
    Replay(ReplayArgs),
    /// Sends a bucket's new objects to the forwarder's queue: adds an s3:ObjectCreated:* queue
    /// configuration to the bucket's notification configuration, keeping the ones it has.
    S3Notify(NotifyArgs),
    /// Imports OpenSearch Dashboards saved objects for the indices this configuration writes
    /// (index patterns, the "Lambda" and "Access logs" dashboards, the "Errors" search), or
    /// writes them as an .ndjson file. Authenticates as the forwarder does (--opensearch-auth).
    Dashboards(DashboardsArgs),
}

/// Runs the command: exit 0 when everything went, 1 when some event or object failed (the
/// summary says which), 130 when Ctrl-C stopped it, 2 when the command could not run.
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Replay(args) => replay::command::run(args),
        Command::S3Notify(args) => s3_notify::run(args),
        Command::Dashboards(args) => dashboards::run(args),
    };
    result.unwrap_or_else(|err| {
        eprintln!("sluice-forwarder: {err:#}");
        ExitCode::from(2)
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use clap::CommandFactory;

    use super::*;
    use crate::config::RawConfig;

    #[test]
    fn every_setting_is_a_flag_of_replay() {
        let cli = Cli::try_parse_from([
            "sluice-forwarder",
            "replay",
            "--dry-run",
            "--index-prefix",
            "app",
            "a.json",
        ])
        .unwrap();
        let Command::Replay(ReplayArgs {
            dry_run,
            files,
            settings,
            ..
        }) = cli.command
        else {
            panic!("expected replay");
        };
        assert!(dry_run);
        assert_eq!(files, [PathBuf::from("a.json")]);
        assert_eq!(settings.index_prefix.as_deref(), Some("app"));
        let help = Cli::command()
            .find_subcommand_mut("replay")
            .expect("replay")
            .render_help()
            .to_string();
        let cli =
            Cli::try_parse_from(["sluice-forwarder", "replay", "--since", "2026-11-01", "s3://b/p"]).unwrap();
        let Command::Replay(ReplayArgs { since, .. }) = cli.command else {
            panic!("expected replay");
        };
        assert_eq!(since, Some(1_793_491_200_000));
        let err = Cli::try_parse_from(["sluice-forwarder", "replay", "--until", "yesterday"]).unwrap_err();
        assert!(err.to_string().contains("2026-11-01"), "{err}");
        for name in sluice_edge::settings::names::<RawConfig>() {
            let flag = format!("--{}", name.to_ascii_lowercase().replace('_', "-"));
            assert!(help.contains(&flag), "{flag} missing from replay --help");
        }
    }

    #[test]
    fn dashboards_takes_a_url_or_an_output_and_the_forwarder_settings() {
        let cli = Cli::try_parse_from([
            "sluice-forwarder",
            "dashboards",
            "--url",
            "https://search-logs.eu-west-1.es.amazonaws.com/_dashboards",
            "--opensearch-auth",
            "basic",
            "--index-prefix",
            "app",
        ])
        .unwrap();
        let Command::Dashboards(DashboardsArgs { url, settings, .. }) = cli.command else {
            panic!("expected dashboards");
        };
        assert!(url.unwrap().ends_with("/_dashboards"));
        assert_eq!(settings.opensearch_auth.as_deref(), Some("basic"));
        assert_eq!(settings.index_prefix.as_deref(), Some("app"));
        let err = Cli::try_parse_from(["sluice-forwarder", "dashboards"]).unwrap_err();
        assert!(err.to_string().contains("--url"), "{err}");
        assert!(Cli::try_parse_from(["sluice-forwarder", "dashboards", "--output", "-"]).is_ok());
    }
}

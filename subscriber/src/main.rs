//! `sluice-subscriber`: the Lambda entry point and the command-line tool.

use clap::Parser;

/// Subscribes CloudWatch Logs log groups to the Sluice forwarder.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}

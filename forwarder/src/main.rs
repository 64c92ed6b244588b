//! `sluice-forwarder`: the Lambda entry point and the command-line tool.

use clap::Parser;

/// Ships CloudWatch Logs subscription batches into OpenSearch.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}

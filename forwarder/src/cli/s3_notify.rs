//! The `s3-notify` command: a bucket's new objects sent to the forwarder's queue.

use std::process::ExitCode;

use sluice_edge::LogFormat;

use crate::source::s3::notify::{self, NotifyArgs};

/// Adds the forwarder's queue to a bucket's notification configuration and prints the result.
pub fn run(args: NotifyArgs) -> anyhow::Result<ExitCode> {
    sluice_edge::init_tracing("warn", LogFormat::Terminal);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let sdk = aws_config::load_from_env().await;
        let outcome = notify::run(&sdk, &args).await?;
        println!("{}", serde_json::to_string_pretty(&outcome.configuration)?);
        eprintln!("sluice-forwarder: {}", outcome.said);
        Ok(ExitCode::SUCCESS)
    })
}

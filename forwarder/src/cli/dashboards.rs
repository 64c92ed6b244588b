//! The `dashboards` command: the OpenSearch Dashboards saved objects for what this
//! configuration writes, imported or written as an .ndjson file.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use sluice_edge::LogFormat;

use crate::config::{Config, Purpose, RawConfig};
use crate::dashboards::{import, saved_objects, to_ndjson};

/// The flags of `dashboards`.
#[derive(Debug, clap::Args)]
pub struct DashboardsArgs {
    /// The OpenSearch Dashboards URL, e.g. https://DOMAIN-ENDPOINT/_dashboards for Amazon
    /// OpenSearch Service.
    #[arg(long, required_unless_present = "output")]
    pub url: Option<String>,
    /// Write the .ndjson file that is imported to FILE ("-" for stdout).
    #[arg(long)]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub settings: RawConfig,
}

/// Writes the saved objects to `output`, imports them into the Dashboards at `url`, or both.
pub fn run(args: DashboardsArgs) -> anyhow::Result<ExitCode> {
    let DashboardsArgs {
        url,
        output,
        settings,
    } = args;
    sluice_edge::init_tracing("warn", LogFormat::Terminal);
    // The Dashboards URL takes the endpoint's place, so the auth settings (and SigV4's service,
    // from the host) are read and checked exactly as for the forwarder.
    let purpose = if url.is_some() {
        Purpose::Deliver
    } else {
        Purpose::DryRun
    };
    let settings = RawConfig {
        opensearch_endpoint: url,
        ..settings
    };
    let config = Config::from_raw(&settings, purpose)
        .context("the settings (--url is checked as OPENSEARCH_ENDPOINT)")?;
    let objects = saved_objects(&config.documents);
    if let Some(path) = &output {
        let ndjson = to_ndjson(&objects);
        if path.as_os_str() == "-" {
            std::io::Write::write_all(&mut std::io::stdout(), ndjson.as_bytes())?;
        } else {
            std::fs::write(path, ndjson).with_context(|| format!("writing {}", path.display()))?;
            eprintln!(
                "sluice-forwarder: wrote {} saved objects to {}",
                objects.len(),
                path.display()
            );
        }
    }
    let Some(dashboards) = &config.sink else {
        return Ok(ExitCode::SUCCESS);
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let imported = runtime.block_on(import::import_for(dashboards, &config.documents))?;
    eprintln!(
        "sluice-forwarder: imported {} of {} saved objects into {}",
        imported.count,
        objects.len(),
        dashboards.endpoint
    );
    Ok(ExitCode::SUCCESS)
}

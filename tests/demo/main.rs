//! `sluice-demo`: Sluice's main job on emulators on loopback, with no AWS account.
//!
//! Starts moto_server and osmem-server, creates a realistic account's log groups, and shows
//! what is in each.

use anyhow::Context;
use sluice_harness::{Moto, OsMem};

/// The log groups of a small serverless account.
const LOG_GROUPS: &[&str] = &[
    "/aws/lambda/checkout-api",
    "/aws/lambda/orders-worker",
    "/aws/lambda/payments",
    "API-Gateway-Execution-Logs_abc123/prod",
    "/ecs/billing-service",
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let moto = Moto::try_start()?;
    let osmem = OsMem::try_start()?;
    println!(
        "moto_server   {}  (log: {})",
        moto.url(),
        moto.log_path().display()
    );
    println!(
        "osmem-server  {}  (log: {})",
        osmem.url(),
        osmem.log_path().display()
    );

    let logs = moto.logs_client();
    for name in LOG_GROUPS {
        logs.create_log_group()
            .log_group_name(*name)
            .send()
            .await
            .with_context(|| format!("creating log group {name}"))?;
    }
    let groups = logs
        .describe_log_groups()
        .send()
        .await
        .context("listing log groups")?;
    println!("\nLog groups in account {}:", sluice_harness::ACCOUNT_ID);
    for group in groups.log_groups() {
        println!("  {}", group.log_group_name().unwrap_or_default());
    }

    let health = osmem.request("GET", "/", None).await?;
    println!(
        "\nOpenSearch answers as {} {}",
        health["version"]["distribution"].as_str().unwrap_or("opensearch"),
        health["version"]["number"].as_str().unwrap_or("?")
    );
    Ok(())
}

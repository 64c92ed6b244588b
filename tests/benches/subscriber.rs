//! Subscriber benchmark (see docs/benchmarks.md): `cargo bench -p sluice-tests --bench subscriber`.
//!
//! Sweeps an account of thousands of log groups in moto_server on loopback and prints, per API,
//! the calls per log group (what a pass costs against CloudWatch Logs' quotas), then the share of
//! the configured rate a sweep actually uses at the default 5 calls/s (on a smaller account, so it
//! takes about a minute). `SLUICE_BENCH_GROUPS` sets the size of the large account (default 3000).

use std::collections::BTreeMap;
use std::time::Instant;

use sluice_harness::Moto;
use sluice_subscriber::aws::Logs;
use sluice_subscriber::config::{DEFAULT_API_RATE_LIMIT, RawConfig};
use sluice_subscriber::plan::{Mode, Totals};
use sluice_subscriber::sweep::{Continuation, Sweeper};

/// Log groups of the account swept at the default rate.
const RATE_SAMPLE_GROUPS: usize = 150;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let groups: usize = std::env::var("SLUICE_BENCH_GROUPS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3000);

    println!("subscriber benchmark on moto_server, {groups} log groups");
    let moto = Moto::try_start()?;
    let forwarder = account(&moto, groups).await?;

    // As fast as moto answers: what a pass costs in calls.
    let unlimited = 10_000.0;
    let first = sweep(&moto, &forwarder, unlimited).await?;
    report("first pass (subscribes)", groups, &first);
    let second = sweep(&moto, &forwarder, unlimited).await?;
    report("second pass (nothing to change)", groups, &second);

    // At the default rate: how much of it the sweep uses.
    let moto = Moto::try_start()?;
    let forwarder = account(&moto, RATE_SAMPLE_GROUPS).await?;
    let limited = sweep(&moto, &forwarder, DEFAULT_API_RATE_LIMIT).await?;
    report(
        &format!("first pass at {DEFAULT_API_RATE_LIMIT} calls/s per API"),
        RATE_SAMPLE_GROUPS,
        &limited,
    );
    println!("share of the configured rate used ({DEFAULT_API_RATE_LIMIT}/s per API):");
    for (api, calls) in &limited.calls {
        // The limiter lets the first call through at once: n calls span (n - 1) intervals.
        let per_second = calls.saturating_sub(1) as f64 / limited.seconds;
        println!(
            "  {api:<28} {calls:>5} calls  {per_second:>5.1} calls/s  {:>5.1}%",
            per_second / DEFAULT_API_RATE_LIMIT * 100.0
        );
    }
    let busiest = limited.calls.values().copied().max().unwrap_or(0) as f64;
    println!(
        "  the busiest API bounds the pass at {:.0} groups/min; 50,000 groups take {:.1} h",
        RATE_SAMPLE_GROUPS as f64 / limited.seconds * 60.0,
        50_000.0 * (busiest / RATE_SAMPLE_GROUPS as f64) / DEFAULT_API_RATE_LIMIT / 3600.0
    );
    Ok(())
}

struct Measured {
    seconds: f64,
    totals: Totals,
    /// Calls per API made by the sweep.
    calls: BTreeMap<&'static str, u64>,
    /// Calls moto received (its recorder), SDK retries included.
    received: usize,
}

/// A realistic mix: 80% new Lambda groups (half without retention), 10% excluded, 5% already
/// subscribed, 5% with both filter slots taken by other tools.
async fn account(moto: &Moto, groups: usize) -> anyhow::Result<String> {
    let logs = moto.logs_client();
    let forwarder = moto.create_lambda_function("sluice-forwarder").await?;
    let other = moto.create_lambda_function("siem-shipper").await?;
    for i in 0..groups {
        let (name, filters): (String, &[(&str, &str)]) = match i % 20 {
            0 | 1 => (format!("/test/scratch-{i:05}"), &[]),
            2 => (format!("/aws/lambda/ours-{i:05}"), &[("sluice", &forwarder)]),
            3 => (
                format!("/ecs/full-{i:05}"),
                &[("audit", &other), ("siem", &other)],
            ),
            _ => (format!("/aws/lambda/app-{i:05}"), &[]),
        };
        logs.create_log_group().log_group_name(&name).send().await?;
        if i % 2 == 0 {
            logs.put_retention_policy()
                .log_group_name(&name)
                .retention_in_days(90)
                .send()
                .await?;
        }
        for (filter, destination) in filters {
            logs.put_subscription_filter()
                .log_group_name(&name)
                .filter_name(*filter)
                .filter_pattern("")
                .destination_arn(*destination)
                .send()
                .await?;
        }
    }
    Ok(forwarder)
}

async fn sweep(moto: &Moto, forwarder: &str, rate: f64) -> anyhow::Result<Measured> {
    let config = RawConfig::from_pairs(&[
        ("DESTINATION_ARN", forwarder),
        ("EXCLUDE_PATTERNS", "/test/*"),
        ("RETENTION_DAYS", "30"),
    ])
    .validate()?;
    let sweeper = Sweeper::new(Logs::new(moto.logs_client(), rate), config);
    moto.reset_recording().await?;
    let started = Instant::now();
    let outcome = sweeper
        .sweep(Mode::Subscribe, false, Continuation::default(), None, &mut |_| {})
        .await?;
    let seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(outcome.totals.errors == 0, "groups failed: {}", outcome.totals);
    Ok(Measured {
        seconds,
        totals: outcome.totals,
        calls: sweeper.logs().calls().into_iter().collect(),
        received: moto.recorded_actions().await?.len(),
    })
}

fn report(label: &str, groups: usize, measured: &Measured) {
    let total: u64 = measured.calls.values().sum();
    println!(
        "{label}: {:.1} s, {:.0} groups/s, {:.2} calls per group ({total} calls, moto received {})",
        measured.seconds,
        groups as f64 / measured.seconds,
        total as f64 / groups as f64,
        measured.received
    );
    println!("  {}", measured.totals);
    for (api, calls) in &measured.calls {
        println!(
            "  {api:<28} {:>6.3} calls per group",
            *calls as f64 / groups as f64
        );
    }
}

//! Subscriber benchmark (see docs/benchmarks.md): `cargo bench -p sluice-tests --bench subscriber`.
//!
//! Sweeps an account of thousands of log groups in moto_server on loopback and prints, per API,
//! the calls per log group (what a pass costs against CloudWatch Logs' quotas), then the share of
//! the configured rate a sweep actually uses at the default 5 calls/s (on a smaller account, so it
//! takes about a minute). `SLUICE_BENCH_GROUPS` sets the size of the large account (default 3000).
//!
//! Then it sweeps a simulated account of 50,000 log groups (`SLUICE_BENCH_SIM_GROUPS`) behind an
//! in-test CloudWatch Logs server that throttles one call in ten, with continuation (the pass is
//! cut into invocations of a few seconds, each resuming from the last one's page token), checks
//! that every group was handled exactly once, and prints the calls per group and the wall time a
//! pass takes at the default rates; then the same account in account scope.

#[path = "subscriber/server.rs"]
mod server;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_cloudwatchlogs::config::retry::RetryConfig;
use aws_sdk_cloudwatchlogs::config::{BehaviorVersion, Credentials, Region};

use sluice_harness::Moto;
use sluice_subscriber::aws::{Logs, MAX_ATTEMPTS};
use sluice_subscriber::config::{Config, DEFAULT_API_RATE_BUDGET, DEFAULT_API_RATE_LIMIT, RawConfig};
use sluice_subscriber::plan::{Mode, Run, Totals};
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

    let simulated: usize = std::env::var("SLUICE_BENCH_SIM_GROUPS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(50_000);
    simulated_account(simulated).await
}

const SIM_FORWARDER: &str = "arn:aws:lambda:us-east-1:123456789012:function:sluice-forwarder";
const SIM_OTHER: &str = "arn:aws:lambda:us-east-1:123456789012:function:siem-shipper";
/// The stack's default share per invocation: the budget over the default reserved concurrency.
const STACK_SHARE: f64 = DEFAULT_API_RATE_BUDGET / 3.0;
/// Wall time of one simulated invocation before it hands on its continuation.
const SLICE: Duration = Duration::from_secs(2);

/// The moto mix, at scale: 10% excluded, 5% already Sluice's, 5% full, 80% new; half with retention.
fn simulated_groups(groups: usize) -> Vec<server::Group> {
    (0..groups)
        .map(|i| {
            let (name, filters): (String, Vec<(String, String)>) = match i % 20 {
                0 | 1 => (format!("/test/scratch-{i:05}"), vec![]),
                2 => (
                    format!("/aws/lambda/ours-{i:05}"),
                    vec![("sluice".into(), SIM_FORWARDER.into())],
                ),
                3 => (
                    format!("/ecs/full-{i:05}"),
                    vec![
                        ("audit".into(), SIM_OTHER.into()),
                        ("siem".into(), SIM_OTHER.into()),
                    ],
                ),
                _ => (format!("/aws/lambda/app-{i:05}"), vec![]),
            };
            server::Group {
                name,
                retention: (i % 2 == 0).then_some(90),
                filters,
            }
        })
        .collect()
}

/// A client for the simulated account with the subscriber's retry settings; the backoff is short
/// so the benchmark does not sleep (in AWS the retries wait, which the limiter's figures leave out).
fn sim_client(url: &str) -> aws_sdk_cloudwatchlogs::Client {
    let config = aws_sdk_cloudwatchlogs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("bench", "bench", None, None, "bench"))
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(MAX_ATTEMPTS)
                .with_initial_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_millis(5)),
        )
        .build();
    aws_sdk_cloudwatchlogs::Client::from_conf(config)
}

fn sim_config(scope: &str, exclude: &str, retention: bool) -> anyhow::Result<Config> {
    let mut pairs = vec![
        ("DESTINATION_ARN", SIM_FORWARDER),
        ("EXCLUDE_PATTERNS", exclude),
        ("SUBSCRIPTION_SCOPE", scope),
    ];
    if retention {
        pairs.push(("RETENTION_DAYS", "30"));
    }
    Ok(RawConfig::from_pairs(&pairs).validate()?)
}

/// A whole pass, invocation after invocation as the Lambda continues it: `(totals, invocations,
/// seconds, calls per API)`. `check_excluded` as after a change of rules or scope.
async fn continued_pass(
    sweeper: &Sweeper,
    check_excluded: bool,
) -> anyhow::Result<(Totals, u32, f64, BTreeMap<&'static str, u64>)> {
    let started = Instant::now();
    let mut start = Continuation {
        check_excluded,
        ..Continuation::default()
    };
    let mut invocations = 1;
    loop {
        let stop_by = tokio::time::Instant::now() + SLICE;
        let outcome = sweeper
            .sweep(Mode::Subscribe, Run::Apply, start, Some(stop_by), &mut |_| {})
            .await?;
        match outcome.continuation {
            Some(next) => {
                invocations += 1;
                start = next;
            }
            None => {
                return Ok((
                    outcome.totals,
                    invocations,
                    started.elapsed().as_secs_f64(),
                    sweeper.logs().calls().into_iter().collect(),
                ));
            }
        }
    }
}

fn print_calls(groups: usize, calls: &BTreeMap<&'static str, u64>, account: &server::Account) {
    let total: u64 = calls.values().sum();
    println!(
        "  {total} calls, {:.3} per group; the account received {} ({} throttled and retried)",
        total as f64 / groups as f64,
        account.calls,
        account.throttled
    );
    for (api, n) in calls {
        println!(
            "  {api:<28} {n:>7} calls  {:>6.3} per group",
            *n as f64 / groups as f64
        );
    }
    let busiest = calls.values().copied().max().unwrap_or(0) as f64;
    println!(
        "  wall time at the default rates (the busiest API's calls / rate): {:.2} h at {DEFAULT_API_RATE_LIMIT}/s \
         (one invocation, the CLI), {:.2} h at {STACK_SHARE:.2}/s (the stack's share per invocation)",
        busiest / DEFAULT_API_RATE_LIMIT / 3600.0,
        busiest / STACK_SHARE / 3600.0
    );
}

async fn simulated_account(groups: usize) -> anyhow::Result<()> {
    println!();
    println!(
        "simulated account: {groups} log groups behind an in-test server throttling one call in {}",
        server::THROTTLE_EVERY
    );
    let account = Arc::new(Mutex::new(server::Account::new(simulated_groups(groups))));
    let url = server::serve(Arc::clone(&account)).await?;
    log_group_scope_handles_each_group_once(&account, &url, groups).await?;
    account_scope(&account, &url, groups).await
}

/// Per log group, with continuation: every group is seen, and each subscribed at most once and
/// its retention set at most once.
async fn log_group_scope_handles_each_group_once(
    account: &Mutex<server::Account>,
    url: &str,
    groups: usize,
) -> anyhow::Result<()> {
    let sweeper = Sweeper::new(
        Logs::new(sim_client(url), 10_000.0),
        sim_config("log-group", "/test/*", true)?,
    );
    let (totals, invocations, seconds, calls) = continued_pass(&sweeper, false).await?;
    let account = account.lock().expect("account");
    anyhow::ensure!(totals.seen == groups as u64, "seen {} of {groups}", totals.seen);
    anyhow::ensure!(totals.errors == 0, "groups failed: {totals}");
    for (i, group) in account.groups.iter().enumerate() {
        let wanted = u32::from(group.name.starts_with("/aws/lambda/app-"));
        let puts = account.puts.get(&i).copied().unwrap_or(0);
        anyhow::ensure!(puts == wanted, "{}: {puts} PutSubscriptionFilter", group.name);
        let retention = account.retention_puts.get(&i).copied().unwrap_or(0);
        anyhow::ensure!(retention <= 1, "{}: retention set {retention} times", group.name);
    }
    println!(
        "log-group scope, first pass: {invocations} invocations of {}s, {seconds:.1} s as fast as the server answers; \
         every group handled exactly once",
        SLICE.as_secs()
    );
    println!("  {totals}");
    print_calls(groups, &calls, &account);
    Ok(())
}

/// Account scope on the same account. The mix's 10% of excluded groups are too many names for
/// the NOT IN list of 25 KB (on 50,000 groups): the plan refuses, as it says.
async fn account_scope(account: &Mutex<server::Account>, url: &str, groups: usize) -> anyhow::Result<()> {
    let whole = Sweeper::new(
        Logs::new(sim_client(url), 10_000.0),
        sim_config("account", "/test/*", false)?,
    );
    match whole.policy_step(Run::DryRun).await {
        Err(err) => println!("account scope with EXCLUDE_PATTERNS=/test/*: refused: {err}"),
        Ok(plan) => print!("account scope with EXCLUDE_PATTERNS=/test/*: {plan}"),
    }
    // With fewer excluded groups (/test/scratch-0*: the first fifth of them) the policy fits: the
    // switch (policy, then per-group filters removed), then passes over unchanged rules.
    let exclude = "/test/scratch-0*";
    println!("account scope with EXCLUDE_PATTERNS={exclude}:");
    for (label, retention, check) in [
        (
            "account scope, the switch (policy, then Sluice's per-group filters removed)",
            true,
            true,
        ),
        (
            "account scope, unchanged rules, no RETENTION_DAYS (the policy step alone)",
            false,
            false,
        ),
        ("account scope, unchanged rules, RETENTION_DAYS=30", true, false),
    ] {
        account.lock().expect("account").reset_counts();
        let sweeper = Sweeper::new(
            Logs::new(sim_client(url), 10_000.0),
            sim_config("account", exclude, retention)?,
        );
        let started = Instant::now();
        let policy = sweeper.policy_step(Run::Apply).await?;
        let (totals, invocations) = if retention || check {
            let (totals, invocations, _, _) = continued_pass(&sweeper, check).await?;
            (Some(totals), invocations)
        } else {
            (None, 1)
        };
        let seconds = started.elapsed().as_secs_f64();
        let calls: BTreeMap<&'static str, u64> = sweeper.logs().calls().into_iter().collect();
        let account = account.lock().expect("account");
        println!("{label}: {invocations} invocation(s), {seconds:.1} s");
        print!("  {policy}");
        if let Some(totals) = totals {
            anyhow::ensure!(totals.errors == 0, "groups failed: {totals}");
            println!("  {totals}");
        }
        if check {
            ensure_no_group_keeps_sluices_filter(&account)?;
        }
        print_calls(groups, &calls, &account);
    }
    Ok(())
}

/// After the switch to account scope, the policy alone subscribes: no group keeps the filter
/// named `sluice`.
fn ensure_no_group_keeps_sluices_filter(account: &server::Account) -> anyhow::Result<()> {
    let left = account
        .groups
        .iter()
        .filter(|g| g.filters.iter().any(|(name, _)| name == "sluice"))
        .count();
    anyhow::ensure!(
        left == 0,
        "{left} groups keep Sluice's own filter beside the policy"
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
        .sweep(
            Mode::Subscribe,
            Run::Apply,
            Continuation::default(),
            None,
            &mut |_| {},
        )
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

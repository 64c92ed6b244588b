//! `sluice-demo`: Sluice's main job on emulators on loopback, with no AWS account.
//!
//! Starts moto_server and osmem-server, creates a realistic account's log groups, shows the
//! subscriber's backfill plan and applies it, delivers a CloudTrail CreateLogGroup event through
//! the subscriber's real handler, pushes log batches through the forwarder's real handler into
//! OpenSearch, has it read a Firehose file and a CloudTrail file announced through SQS, and shows
//! what landed.

mod account;
mod objects;
mod subscribe;

use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use serde_json::Value;
use sluice_forwarder::Summary;
use sluice_forwarder::config::{Config, Purpose};
use sluice_forwarder::document::scoped_event_id;
use sluice_forwarder::handler::Forwarder;
use sluice_harness::{Moto, OsMem};

use account::Dice;

/// Log batches pushed through the forwarder, one per Lambda log group in turn.
const BATCHES: usize = 24;
/// Invocations per batch (each writes 5 or 6 lines).
const INVOCATIONS: usize = 40;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let moto = Moto::try_start()?;
    let osmem = OsMem::try_start()?;
    step("Emulators on loopback");
    println!(
        "  moto_server   {}  (output: {})",
        moto.url(),
        moto.log_path().display()
    );
    println!(
        "  osmem-server  {}  (output: {})",
        osmem.url(),
        osmem.log_path().display()
    );

    step("A serverless account, before Sluice");
    let logs = moto.logs_client();
    let groups = account::log_groups();
    for name in &groups {
        logs.create_log_group()
            .log_group_name(name)
            .send()
            .await
            .with_context(|| format!("creating log group {name}"))?;
    }
    let forwarder_arn = moto.create_lambda_function(account::FORWARDER).await?;
    let shipper_arn = moto.create_lambda_function(account::LEGACY_SHIPPER).await?;
    for (group, filter) in account::FOREIGN_FILTERS {
        logs.put_subscription_filter()
            .log_group_name(*group)
            .filter_name(*filter)
            .filter_pattern("")
            .destination_arn(&shipper_arn)
            .send()
            .await
            .with_context(|| format!("another team's filter {filter} on {group}"))?;
    }
    for (group, days) in account::RETENTION {
        logs.put_retention_policy()
            .log_group_name(*group)
            .retention_in_days(*days)
            .send()
            .await
            .with_context(|| format!("retention of {group}"))?;
    }
    println!(
        "  {} log groups in account {}; other teams' filters on {} of them",
        groups.len(),
        sluice_harness::ACCOUNT_ID,
        account::FOREIGN_FILTERS.len() - 1
    );
    println!("  forwarder function: {forwarder_arn}");

    step("The subscriber's backfill: the plan, then applying it");
    let config = subscribe::config(&forwarder_arn)?;
    subscribe::backfill(&moto, &config).await?;

    step("A new log group: CloudTrail's CreateLogGroup through the subscriber's Lambda handler");
    subscribe::created(&moto, &config, "/aws/lambda/gift-cards").await?;

    step("Log batches through the forwarder's Lambda handler");
    let (mut summary, sent) = forward(&osmem).await?;

    step("Logs that land in S3: Firehose, CloudTrail and ALB access log files, announced through SQS");
    summary.add(&objects::land_in_s3(&moto, &osmem).await?);

    step("What landed in OpenSearch");
    show_indices(&osmem, &summary).await?;
    every_event_once(&osmem, &sent).await?;
    Ok(())
}

/// Sends generated batches (and one of them a second time, as Lambda's retry would) through
/// [`Forwarder::handle`], the function the Lambda runtime calls.
async fn forward(osmem: &OsMem) -> anyhow::Result<(Summary, Vec<Sent>)> {
    let forwarder = Forwarder::new(forwarder_config(osmem)?)
        .await
        .context("starting the forwarder")?;

    let mut dice = Dice::new(7);
    let lambda_groups: Vec<String> = account::log_groups()
        .into_iter()
        .filter(|group| group.starts_with("/aws/lambda/") && !group.contains("sluice-"))
        .collect();
    let start = chrono::Utc::now() - chrono::Duration::minutes(30);
    let mut next_id = 0;
    let mut total = Summary::default();
    let mut first_event = None;
    let mut sent = Vec::new();
    for n in 0..BATCHES {
        let group = &lambda_groups[n % lambda_groups.len()];
        let at = start + chrono::Duration::seconds(60 * n as i64);
        let first = next_id + 1;
        let (event, _) = account::lambda_batch(&mut dice, group, at, INVOCATIONS, &mut next_id);
        sent.push(Sent {
            group: group.clone(),
            ids: first..=next_id,
        });
        first_event.get_or_insert_with(|| event.clone());
        total.add(&handle(&forwarder, event).await?);
    }
    println!("  first pass: {}", counts(&total));

    let retried = first_event.expect("at least one batch");
    let again = handle(&forwarder, retried).await?;
    println!("  the first batch again (a Lambda retry): {}", counts(&again));
    ensure!(
        again.indexed == 0 && again.duplicates + again.skipped == again.events,
        "the retried batch added documents: {}",
        counts(&again)
    );
    total.add(&again);
    Ok((total, sent))
}

/// The events of one generated batch: its log group and its event ids (numbered in order).
struct Sent {
    group: String,
    ids: std::ops::RangeInclusive<u64>,
}

/// The proof that nothing was lost and nothing doubled, from what OpenSearch holds rather than
/// from the forwarder's own counts: every generated event is found exactly once, by the `_id`
/// Sluice gives it, either as its own document or inside the stack trace it continued
/// (`multiline.events`).
async fn every_event_once(osmem: &OsMem, sent: &[Sent]) -> anyhow::Result<()> {
    let mut events = 0;
    for batch in sent {
        let id = |n: u64| format!("{n:056}");
        let found = osmem
            .search(
                "cwl-*",
                serde_json::json!({
                    "size": 10_000,
                    "_source": ["event.id", "multiline"],
                    "query": {"bool": {"filter": [
                        {"term": {"aws.cloudwatch.log_group": batch.group}},
                        {"range": {"event.id": {"gte": id(*batch.ids.start()), "lte": id(*batch.ids.end())}}}
                    ]}}
                }),
            )
            .await?;
        let mut seen = vec![0u32; batch.ids.clone().count()];
        for hit in found["hits"]["hits"].as_array().context("a list of hits")? {
            let event_id = hit["_source"]["event"]["id"].as_str().context("an event.id")?;
            let expected = scoped_event_id(sluice_harness::ACCOUNT_ID, &batch.group, event_id);
            ensure!(
                hit["_id"] == expected.as_str(),
                "{event_id} is stored under _id {}, not {expected}",
                hit["_id"]
            );
            let first: u64 = event_id.parse().context("a generated event id")?;
            let merged = hit["_source"]["multiline"]["events"].as_u64().unwrap_or(1);
            for n in first..first + merged {
                let slot = (n - batch.ids.start()) as usize;
                ensure!(slot < seen.len(), "{event_id} covers events it was not sent with");
                seen[slot] += 1;
            }
        }
        if let Some(slot) = seen.iter().position(|&count| count != 1) {
            bail!(
                "event {} of {} is stored {} times",
                id(batch.ids.start() + slot as u64),
                batch.group,
                seen[slot]
            );
        }
        events += seen.len();
    }
    println!(
        "  every one of the {events} generated events found exactly once by its _id in OpenSearch; the resent batch added no document: no duplicates, nothing lost."
    );
    Ok(())
}

/// The forwarder's settings for the demo: osmem-server, no authentication.
fn forwarder_config(osmem: &OsMem) -> anyhow::Result<Config> {
    let settings = [
        ("OPENSEARCH_ENDPOINT", osmem.url().to_string()),
        ("OPENSEARCH_AUTH", "none".to_string()),
        ("AWS_REGION", sluice_harness::REGION.to_string()),
    ];
    let lookup = |name: &str| {
        settings
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.clone())
    };
    Config::from_lookup(lookup, Purpose::Deliver).context("forwarder settings")
}

async fn handle(forwarder: &Forwarder, event: Value) -> anyhow::Result<Summary> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let handled = forwarder
        .handle(event, deadline)
        .await
        .context("forwarding a batch")?;
    Ok(handled.summary)
}

fn counts(summary: &Summary) -> String {
    format!(
        "{} batches, {} events: {} indexed, {} duplicates, {} dead-lettered, {} failed, {} skipped",
        summary.batches,
        summary.events,
        summary.indexed,
        summary.duplicates,
        summary.dead_lettered,
        summary.failed,
        summary.skipped
    )
}

/// Documents per dated index, a sample search, and the check that nothing was lost.
async fn show_indices(osmem: &OsMem, summary: &Summary) -> anyhow::Result<()> {
    show_document_counts(osmem).await?;
    show_latest_error(osmem).await?;
    show_failed_alb_requests(osmem).await?;
    check_nothing_lost(osmem, summary).await
}

/// The number of documents in each dated index.
async fn show_document_counts(osmem: &OsMem) -> anyhow::Result<()> {
    osmem.refresh("cwl-*,cloudtrail-*,alb-*").await?;
    let indices = osmem
        .request("GET", "/_cat/indices/cwl-*,cloudtrail-*,alb-*?format=json", None)
        .await?;
    let mut rows: Vec<(String, u64)> = indices
        .as_array()
        .context("_cat/indices answers a list")?
        .iter()
        .map(|row| {
            let name = row["index"].as_str().unwrap_or("?").to_string();
            let docs = row["docs.count"]
                .as_str()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            (name, docs)
        })
        .collect();
    rows.sort();
    for (index, docs) in &rows {
        println!("  {index:<28} {docs:>6} documents");
    }
    Ok(())
}

/// A search for `log.level:ERROR`: how many, and the latest one.
async fn show_latest_error(osmem: &OsMem) -> anyhow::Result<()> {
    let errors = osmem
        .search(
            "cwl-*",
            serde_json::json!({
                "size": 1,
                "query": {"term": {"log.level": "ERROR"}},
                "sort": [{"@timestamp": "desc"}]
            }),
        )
        .await?;
    let hits = errors["hits"]["total"]["value"].as_u64().unwrap_or(0);
    println!("\n  search log.level:ERROR → {hits} documents; the latest:");
    if let Some(hit) = errors["hits"]["hits"].get(0) {
        println!("{}", indent(&serde_json::to_string_pretty(&hit["_source"])?));
    }
    Ok(())
}

/// A range search on a typed field of the load balancer's access logs.
async fn show_failed_alb_requests(osmem: &OsMem) -> anyhow::Result<()> {
    let failed = osmem
        .search(
            "alb-*",
            serde_json::json!({
                "size": 5,
                "query": {"range": {"http.response.status_code": {"gte": 500}}},
                "sort": [{"@timestamp": "asc"}]
            }),
        )
        .await?;
    let hits = failed["hits"]["hits"].as_array().map_or(&[][..], Vec::as_slice);
    println!(
        "\n  search http.response.status_code >= 500 → {} load balancer requests, in ECS and typed fields:",
        failed["hits"]["total"]["value"].as_u64().unwrap_or(0)
    );
    for hit in hits {
        let doc = &hit["_source"];
        println!(
            "    {} {} {} {} → {} (target {}, target_processing_time {})",
            doc["@timestamp"].as_str().unwrap_or("?"),
            doc["source"]["ip"].as_str().unwrap_or("?"),
            doc["http"]["request"]["method"].as_str().unwrap_or("?"),
            doc["url"]["original"].as_str().unwrap_or("?"),
            doc["http"]["response"]["status_code"],
            doc["aws"]["alb"]["target_status_code"]
                .as_u64()
                .map_or("-".to_string(), |code| code.to_string()),
            doc["aws"]["alb"]["target_processing_time"],
        );
    }
    Ok(())
}

/// Every event sent is accounted for, and OpenSearch holds every one indexed.
async fn check_nothing_lost(osmem: &OsMem, summary: &Summary) -> anyhow::Result<()> {
    let stored = osmem.count("cwl-*,cloudtrail-*,alb-*").await?;
    let dead = osmem.count("cwl-dead-letter").await.unwrap_or(0);
    println!(
        "\n  events sent {}, indexed {}, duplicates {}, skipped {}, dead-lettered {}, failed {}",
        summary.events,
        summary.indexed,
        summary.duplicates,
        summary.skipped,
        summary.dead_lettered,
        summary.failed
    );
    let accounted = summary.indexed + summary.duplicates + summary.skipped + summary.dead_lettered;
    ensure!(
        accounted == summary.events && summary.failed == 0,
        "events went missing: {accounted} of {} accounted for",
        summary.events
    );
    ensure!(
        stored == summary.indexed + dead,
        "OpenSearch holds {stored} documents, the forwarder indexed {}",
        summary.indexed
    );
    println!("  OpenSearch holds {stored} documents: every event accounted for, nothing lost.");
    Ok(())
}

fn step(title: &str) {
    println!("\n== {title}");
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|line| format!("    {line}\n"))
        .collect::<String>()
        .trim_end()
        .to_string()
}

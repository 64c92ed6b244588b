//! Logs that land in S3: another account's CloudWatch Logs delivered by Firehose and a CloudTrail
//! file, announced by S3 through SQS, read by the forwarder's Lambda handler from the SQS event;
//! then a backfill of the bucket, which finds everything already there.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use anyhow::Context;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sluice_forwarder::Summary;
use sluice_forwarder::handler::Forwarder;
use sluice_forwarder::replay::{BucketUrl, replay_bucket};
use sluice_forwarder::source::s3::notify::{self, NotifyArgs};
use sluice_harness::{Moto, OsMem};

use crate::account::{self, Dice};

const BUCKET: &str = "central-logs-archive";
/// The account whose logs a Logs destination sent through Firehose.
const SOURCE_ACCOUNT: &str = "210987654321";

/// Puts a Firehose file and a CloudTrail file in a bucket that notifies a queue, and hands the
/// queue's messages to the forwarder as Lambda's SQS event source would; what it counted.
pub async fn land_in_s3(moto: &Moto, osmem: &OsMem) -> anyhow::Result<Summary> {
    let s3 = moto.s3_client();
    s3.create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .context("creating the bucket")?;
    let (queue_url, queue_arn) = moto.create_queue("sluice-objects").await?;
    let notified = notify::run(
        &moto.sdk_config(),
        &NotifyArgs {
            bucket: BUCKET.to_string(),
            queue_arn: queue_arn.clone(),
            prefix: String::new(),
            dry_run: false,
        },
    )
    .await?;
    println!("  sluice-forwarder s3-notify: {}", notified.said);

    let now = Utc::now();
    let firehose_key = format!(
        "firehose/{}/central-logs-1-{}-0f3c",
        now.format("%Y/%m/%d/%H"),
        now.format("%Y-%m-%d-%H-%M-%S")
    );
    let trail_key = format!(
        "AWSLogs/{SOURCE_ACCOUNT}/CloudTrail/us-east-1/{}/{SOURCE_ACCOUNT}_CloudTrail_us-east-1_{}_a1b2.json.gz",
        now.format("%Y/%m/%d"),
        now.format("%Y%m%dT%H%MZ")
    );
    for (key, body) in [
        (&firehose_key, firehose_file(now)?),
        (&trail_key, cloudtrail_file(now)),
    ] {
        println!("  put s3://{BUCKET}/{key} ({} bytes)", body.len());
        s3.put_object()
            .bucket(BUCKET)
            .key(key)
            .body(body.into())
            .send()
            .await
            .with_context(|| format!("putting {key}"))?;
    }
    let records = moto.sqs_records(&queue_url, &queue_arn, 3).await?;
    println!(
        "  {} messages on the queue (the two notifications and S3's s3:TestEvent)",
        records.len()
    );

    let config = crate::forwarder_config(osmem)?;
    let forwarder = Forwarder::with_sdk(config, &moto.sdk_config())
        .await
        .context("starting the forwarder")?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let handled = forwarder
        .handle(json!({ "Records": records }), deadline)
        .await
        .context("the SQS event")?;
    println!(
        "  SQS event: {} objects read, {} events: {} indexed, {} duplicates, {} skipped; answer {}",
        handled.summary.objects,
        handled.summary.events,
        handled.summary.indexed,
        handled.summary.duplicates,
        handled.summary.skipped,
        handled.response
    );

    let url = BucketUrl::parse(&format!("s3://{BUCKET}/")).context("bucket URL")?;
    let (mut out, mut errors) = (Vec::new(), Vec::new());
    let backfill = replay_bucket(&forwarder, &url, None, None, false, &mut out, &mut errors).await?;
    println!(
        "  sluice-forwarder replay s3://{BUCKET}/ (a backfill): {} objects, {} indexed, {} duplicates",
        backfill.summary.objects, backfill.summary.indexed, backfill.summary.duplicates
    );
    anyhow::ensure!(
        backfill.ok() && backfill.summary.indexed == 0,
        "the backfill found events the notifications had missed: {backfill:?}"
    );
    Ok(handled.summary)
}

/// A file as Firehose writes what a CloudWatch Logs destination sends it: each record one gzip
/// subscription payload, back to back, the first a CONTROL_MESSAGE.
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html#FirehoseExample>
fn firehose_file(now: DateTime<Utc>) -> anyhow::Result<Vec<u8>> {
    let control = json!({"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "",
        "logStream": "", "subscriptionFilters": [], "logEvents": [{"id": "", "timestamp": now.timestamp_millis(),
        "message": "CWL CONTROL MESSAGE: Checking health of destination Firehose."}]});
    let mut file = gzip(control.to_string().as_bytes());
    let mut dice = Dice::new(29);
    let mut next_id = 9_000_000;
    for (n, group) in ["/aws/lambda/ledger-sync", "/aws/lambda/fraud-score"]
        .iter()
        .enumerate()
    {
        let start = now - chrono::Duration::minutes(20 - 5 * n as i64);
        let (event, _) = account::lambda_batch(&mut dice, group, start, 30, &mut next_id);
        let data = event["awslogs"]["data"].as_str().context("awslogs.data")?;
        let mut payload: Value =
            serde_json::from_slice(&gunzip(&base64::engine::general_purpose::STANDARD.decode(data)?)?)?;
        payload["owner"] = json!(SOURCE_ACCOUNT);
        file.extend(gzip(payload.to_string().as_bytes()));
    }
    Ok(file)
}

/// A CloudTrail log file.
/// <https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html>
fn cloudtrail_file(now: DateTime<Utc>) -> Vec<u8> {
    let calls = [
        ("signin.amazonaws.com", "ConsoleLogin"),
        ("logs.amazonaws.com", "CreateLogGroup"),
        ("logs.amazonaws.com", "PutSubscriptionFilter"),
        ("iam.amazonaws.com", "CreateRole"),
        ("s3.amazonaws.com", "PutBucketPolicy"),
    ];
    let records: Vec<Value> = (0..40)
        .map(|i| {
            let (source, name) = calls[i % calls.len()];
            let time = now - chrono::Duration::seconds(600 - 15 * i as i64);
            json!({"eventVersion": "1.09", "userIdentity": {"type": "AssumedRole",
                "arn": format!("arn:aws:sts::{SOURCE_ACCOUNT}:assumed-role/platform-admin/alice")},
                "eventTime": time.format("%Y-%m-%dT%H:%M:%SZ").to_string(), "eventSource": source,
                "eventName": name, "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.23",
                "eventID": format!("9d4e6f3a-{i:04}-4c1b-8e2f-5a6b7c8d9e0f"), "readOnly": false,
                "recipientAccountId": SOURCE_ACCOUNT})
        })
        .collect();
    gzip(json!({ "Records": records }).to_string().as_bytes())
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("writing to memory");
    encoder.finish().expect("writing to memory")
}

fn gunzip(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes).read_to_end(&mut out)?;
    Ok(out)
}

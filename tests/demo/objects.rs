//! Logs that land in S3: another account's CloudWatch Logs delivered by Firehose, a CloudTrail
//! file and an Application Load Balancer's access log, announced by S3 through SQS, read by the
//! forwarder's Lambda handler from the SQS event; then a backfill of the bucket, which finds
//! everything already there.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use anyhow::Context;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sluice_forwarder::Summary;
use sluice_forwarder::cli::replay::{BucketUrl, Replay};
use sluice_forwarder::handler::Forwarder;
use sluice_forwarder::source::s3::notify::{self, NotifyArgs};
use sluice_harness::{Moto, OsMem};

use crate::account::{self, Dice};

const BUCKET: &str = "central-logs-archive";
/// The account whose logs a Logs destination sent through Firehose.
const SOURCE_ACCOUNT: &str = "210987654321";

/// Puts a Firehose file, a CloudTrail file and an ALB access log in a bucket that notifies a
/// queue, and hands the queue's messages to the forwarder as Lambda's SQS event source would; what
/// it counted.
pub async fn land_in_s3(moto: &Moto, osmem: &OsMem) -> anyhow::Result<Summary> {
    let (queue_url, queue_arn) = notifying_bucket(moto).await?;
    put_objects(moto, Utc::now()).await?;
    let records = moto.sqs_records(&queue_url, &queue_arn, 4).await?;
    println!(
        "  {} messages on the queue (the three notifications and S3's s3:TestEvent)",
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

    backfill_finds_nothing_new(&forwarder).await?;
    Ok(handled.summary)
}

/// The bucket, and the queue `s3-notify` has it announce new objects on: the queue's URL and ARN.
async fn notifying_bucket(moto: &Moto) -> anyhow::Result<(String, String)> {
    moto.s3_client()
        .create_bucket()
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
    Ok((queue_url, queue_arn))
}

/// The three objects, under the keys AWS writes them to.
async fn put_objects(moto: &Moto, now: DateTime<Utc>) -> anyhow::Result<()> {
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
    let alb_key = format!(
        "AWSLogs/{SOURCE_ACCOUNT}/elasticloadbalancing/us-east-1/{}/{SOURCE_ACCOUNT}_elasticloadbalancing_us-east-1_app.shop-alb.50dc6c495c0c9188_{}_198.51.100.1_2kfx.log.gz",
        now.format("%Y/%m/%d"),
        now.format("%Y%m%dT%H%MZ")
    );
    let s3 = moto.s3_client();
    for (key, body) in [
        (&firehose_key, firehose_file(now)?),
        (&trail_key, cloudtrail_file(now)),
        (&alb_key, alb_access_log(now)),
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
    Ok(())
}

/// A backfill of the whole bucket, which must find every event already indexed.
async fn backfill_finds_nothing_new(forwarder: &Forwarder) -> anyhow::Result<()> {
    let url = BucketUrl::parse(&format!("s3://{BUCKET}/")).context("bucket URL")?;
    let (mut out, mut errors) = (Vec::new(), Vec::new());
    let backfill = Replay::new(forwarder, false)
        .bucket(&url, (None, None), &mut out, &mut errors)
        .await?;
    println!(
        "  sluice-forwarder replay s3://{BUCKET}/ (a backfill): {} objects, {} indexed, {} duplicates",
        backfill.summary.objects, backfill.summary.indexed, backfill.summary.duplicates
    );
    anyhow::ensure!(
        backfill.ok() && backfill.summary.indexed == 0,
        "the backfill found events the notifications had missed: {backfill:?}"
    );
    Ok(())
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

/// The requests of the shop's ALB log, in turn: method, path, status, user agent.
const SHOP_REQUESTS: [(&str, &str, u16, &str); 8] = [
    ("GET", "/", 200, "curl/8.5.0"),
    (
        "GET",
        "/products/1842",
        200,
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    ),
    (
        "POST",
        "/api/v1/cart/items",
        201,
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15",
    ),
    (
        "GET",
        "/search?q=running+shoes&page=2",
        200,
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0.0.0",
    ),
    (
        "POST",
        "/api/v1/checkout",
        500,
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Safari/605.1.15",
    ),
    ("GET", "/healthz", 200, "ELB-HealthChecker/2.0"),
    ("GET", "/old-catalog", 301, "python-requests/2.32.3"),
    ("GET", "/api/v1/orders/77120", 502, "okhttp/4.12.0"),
];

/// An Application Load Balancer's access log: a minute of a shop's traffic, one line per request
/// in the documented order of fields (up to `conn_trace_id`), some requests redirected, some
/// failing at the target, some the load balancer could not send on (`-1` times, target `-`).
/// <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html#access-log-entry-syntax>
fn alb_access_log(now: DateTime<Utc>) -> Vec<u8> {
    const GROUP: &str =
        "arn:aws:elasticloadbalancing:us-east-1:210987654321:targetgroup/shop-web/73e2d6bc24d8a067";
    let mut log = String::new();
    for i in 0..24 {
        let (method, path, status, agent) = SHOP_REQUESTS[i % SHOP_REQUESTS.len()];
        let time = now - chrono::Duration::seconds(60 - 2 * i as i64);
        let stamp = time.format("%Y-%m-%dT%H:%M:%S%.6fZ");
        let client = format!("203.0.113.{}:{}", 10 + i, 40_000 + 37 * i);
        let (target, times, target_status, action, redirect) = alb_target(status, path, i);
        let port_list = if target == "-" {
            "-".to_string()
        } else {
            target.clone()
        };
        log.push_str(&format!(
            "https {stamp} app/shop-alb/50dc6c495c0c9188 {client} {target} {times} {status} {target_status} {} {} \
             \"{method} https://shop.example.com:443{path} HTTP/1.1\" \"{agent}\" TLS_AES_128_GCM_SHA256 TLSv1.3 {GROUP} \
             \"Root=1-{:08x}-{:024x}\" \"shop.example.com\" \"arn:aws:acm:us-east-1:210987654321:certificate/12345678-1234-1234-1234-123456789012\" \
             1 {stamp} \"{action}\" {redirect} \"-\" \"{port_list}\" \"{target_status}\" \"-\" \"-\" TID_{:032x}\n",
            180 + 13 * i,
            900 + 4_100 * (i % 5),
            time.timestamp(),
            0x5eed_0000 + i,
            0xc0ffee_u64 * (i as u64 + 1),
        ));
    }
    gzip(log.as_bytes())
}

/// What the load balancer did with request `i`: target, the three processing times, the
/// target's status, the action and the redirect URL, as the log writes them.
fn alb_target(status: u16, path: &str, i: usize) -> (String, String, String, &'static str, String) {
    match status {
        301 => (
            "-".to_string(),
            "-1 -1 -1".to_string(),
            "-".to_string(),
            "redirect",
            format!("\"https://shop.example.com:443{path}\""),
        ),
        502 => (
            "-".to_string(),
            "-1 -1 -1".to_string(),
            "-".to_string(),
            "forward",
            "\"-\"".to_string(),
        ),
        _ => (
            format!("10.0.1.{}:8080", 20 + i % 3),
            format!("0.000 0.{:03} 0.000", 4 + 7 * i),
            status.to_string(),
            "forward",
            "\"-\"".to_string(),
        ),
    }
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

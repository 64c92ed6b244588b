//! End-to-end tests of the forwarder: Lambda events in, documents in osmem-server out
//! (`forwarder::osmem`), and fault sequences against a scripted in-test server
//! (`forwarder::faults`): every event is indexed, dead-lettered, or the invocation fails with
//! the payload preserved, and the summary says which.

mod access;
mod auth;
mod config;
mod continuation;
mod dashboards;
mod datastream;
mod faults;
mod findings;
mod geoip;
mod hostile;
mod multiline;
mod network;
mod osmem;
mod parquet;
mod realtime;
mod replay;
mod resume;
mod routing;
mod runtime_api;
mod s3;
mod security;
mod server;
mod tags;

use std::collections::HashMap;
use std::io::Write;
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_cloudwatchlogs::config::{BehaviorVersion, Region};
use base64::Engine;
use serde_json::{Value, json};
use sluice_forwarder::Summary;
use sluice_forwarder::config::{Config, Purpose};
use sluice_forwarder::handler::Forwarder;
use sluice_forwarder::opensearch::auth::SdkConfig;
use sluice_harness::REGION;

/// 2026-11-22T10:00:00Z in milliseconds.
pub const NOV_22_10H: i64 = 1_795_341_600_000;

/// One log event: CloudWatch event id, time (ms), message.
pub fn event(id: &str, timestamp: i64, message: &str) -> Value {
    json!({"id": id, "timestamp": timestamp, "message": message})
}

/// The path of the document of the event `event_id` of a [`logs_data`] batch of `log_group`:
/// its `_id` is scoped by owner and log group.
pub fn event_doc(index: &str, log_group: &str, event_id: &str) -> String {
    let id = sluice_forwarder::document::scoped_event_id("123456789012", log_group, event_id);
    format!("/{index}/_doc/{id}")
}

/// A subscription batch (`LogsData`) as CloudWatch Logs sends it.
/// Format: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html#LambdaFunctionExample>.
pub fn logs_data(log_group: &str, events: Vec<Value>) -> Value {
    json!({
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": log_group,
        "logStream": "2026/11/22/[$LATEST]0123456789abcdef",
        "subscriptionFilters": ["sluice"],
        "logEvents": events,
    })
}

/// gzip(JSON) of a batch: the bytes a Kinesis record carries.
pub fn gzip_json(data: &Value) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data.to_string().as_bytes()).expect("gzip");
    encoder.finish().expect("gzip")
}

/// `{"awslogs":{"data": base64(gzip(JSON))}}`.
pub fn awslogs_event(data: &Value) -> Value {
    let encoded = base64::engine::general_purpose::STANDARD.encode(gzip_json(data));
    json!({"awslogs": {"data": encoded}})
}

/// A Kinesis Data Streams event with one record per payload, sequence numbers `seq-0`, `seq-1`, …
/// Format: <https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html>.
pub fn kinesis_event(payloads: &[Vec<u8>]) -> Value {
    let records: Vec<Value> = payloads
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            json!({
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": "p",
                    "sequenceNumber": format!("seq-{i}"),
                    "data": base64::engine::general_purpose::STANDARD.encode(bytes),
                    "approximateArrivalTimestamp": 1_795_341_600.5,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": format!("shardId-000000000000:seq-{i}"),
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/sluice",
                "awsRegion": "us-east-1",
                "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/sluice",
            })
        })
        .collect();
    json!({ "Records": records })
}

/// `n` events one second apart from `start`, with ids `<prefix>-<i>`.
pub fn numbered_events(prefix: &str, start: i64, n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            event(
                &format!("{prefix}-{i}"),
                start + i as i64 * 1000,
                &format!("{{\"level\":\"INFO\",\"message\":\"request {i} handled\",\"n\":{i}}}"),
            )
        })
        .collect()
}

/// A forwarder for `endpoint` without authentication, fast retries, and `extra` settings.
pub async fn forwarder(endpoint: &str, extra: &[(&str, &str)]) -> Forwarder {
    let mut settings: HashMap<String, String> = [
        ("OPENSEARCH_ENDPOINT", endpoint),
        ("OPENSEARCH_AUTH", "none"),
        ("AWS_REGION", "us-east-1"),
        ("RETRY_BASE_MS", "5"),
        ("DEADLINE_MARGIN_MS", "100"),
        ("BULK_CONCURRENCY", "2"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (key, value) in extra {
        settings.insert(key.to_string(), value.to_string());
    }
    let config =
        Config::from_lookup(|name| settings.get(name).cloned(), Purpose::Deliver).expect("valid settings");
    Forwarder::new(config).await.expect("forwarder")
}

/// A forwarder of exactly `settings` (a later pair wins over an earlier one of the same name),
/// whose AWS calls (S3, tags) go to `sdk` (moto).
pub async fn forwarder_of(settings: &[(&str, &str)], sdk: &SdkConfig) -> Forwarder {
    let settings: HashMap<&str, &str> = settings.iter().copied().collect();
    let config = Config::from_lookup(|name| settings.get(name).map(|v| v.to_string()), Purpose::Deliver)
        .expect("valid settings");
    Forwarder::with_sdk(config, sdk).await.expect("forwarder")
}

/// The AWS SDK settings of the tests: static credentials, `REGION`, and `endpoint` (moto) if given.
pub fn sdk_config(endpoint: Option<&str>) -> SdkConfig {
    let mut builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "sluice-tests",
        )));
    if let Some(endpoint) = endpoint {
        builder = builder.endpoint_url(endpoint);
    }
    builder.build()
}

/// A deadline `secs` seconds from now.
pub fn deadline_in(secs: f64) -> Instant {
    Instant::now() + Duration::from_secs_f64(secs)
}

/// Every event is accounted for exactly once.
pub fn assert_counts_add_up(summary: &Summary) {
    assert_eq!(
        summary.events,
        summary.indexed + summary.duplicates + summary.dead_lettered + summary.failed + summary.skipped,
        "events = indexed + duplicates + dead_lettered + failed + skipped: {summary:?}"
    );
}

/// `replay s3://BUCKET` of the whole bucket through `forwarder`, which must succeed: its summary.
pub async fn backfill_bucket(
    forwarder: &Forwarder,
    bucket: &str,
) -> sluice_forwarder::cli::replay::ReplaySummary {
    use sluice_forwarder::cli::replay::{BucketUrl, Replay};
    let url = BucketUrl::parse(&format!("s3://{bucket}")).expect("s3 URL");
    let (mut out, mut errors) = (Vec::new(), Vec::new());
    let summary = Replay::new(forwarder, false)
        .bucket(&url, (None, None), &mut out, &mut errors)
        .await
        .expect("replay");
    assert!(summary.ok(), "{summary:?}: {}", String::from_utf8_lossy(&errors));
    summary
}

/// The hits of `query` in `index` (a pattern, or several comma-separated) once refreshed, up to
/// 1,000: each document's index and source.
pub async fn search_hits(osmem: &sluice_harness::OsMem, index: &str, query: Value) -> Vec<(String, Value)> {
    osmem.refresh(index).await.expect("refresh");
    let answer = osmem
        .request(
            "POST",
            &format!("/{index}/_search"),
            Some(json!({"size": 1000, "query": query})),
        )
        .await
        .expect("search");
    let hits = answer["hits"]["hits"].as_array().cloned().unwrap_or_default();
    (hits.into_iter())
        .map(|hit| {
            let index = hit["_index"].as_str().unwrap_or_default().to_string();
            (index, hit["_source"].clone())
        })
        .collect()
}

/// A bucket in moto holding `objects`, each (key, body).
pub async fn bucket_of(moto: &sluice_harness::Moto, bucket: &str, objects: &[(String, Vec<u8>)]) {
    let s3 = moto.s3_client();
    s3.create_bucket().bucket(bucket).send().await.expect("bucket");
    for (key, body) in objects {
        (s3.put_object().bucket(bucket).key(key))
            .body(body.clone().into())
            .send()
            .await
            .unwrap_or_else(|err| panic!("PutObject {key}: {err:?}"));
    }
}

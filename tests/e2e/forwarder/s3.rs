//! Objects in S3, end to end: moto holds the bucket and the queue and sends S3's notifications
//! to SQS; the forwarder is driven with the SQS events made of the messages moto queued (as the
//! event source mapping would), reads the objects from moto, and indexes into osmem-server.
//!
//! SQS event format: <https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html>.

use std::collections::BTreeMap;

use aws_sdk_s3::primitives::ByteStream;
use sluice_forwarder::cli::replay::{BucketUrl, Replay};
use sluice_forwarder::source::s3::notify::{self, NotifyArgs};
use sluice_harness::{Moto, OsMem};

use super::*;

/// 2026-11-29T10:00:00Z in milliseconds.
const NOV_29_10H: i64 = 1_795_946_400_000;
const KEY_REGEX: &str = r"^apps/(?P<environment>[^-/]+)-(?P<application>[^/]+)/";

struct World {
    moto: Moto,
    osmem: OsMem,
    sdk: SdkConfig,
    s3: aws_sdk_s3::Client,
}

impl World {
    async fn start() -> World {
        let moto = Moto::start();
        let osmem = OsMem::start();
        World {
            sdk: moto.sdk_config(),
            s3: moto.s3_client(),
            moto,
            osmem,
        }
    }

    async fn forwarder(&self) -> Forwarder {
        let settings = [
            ("OPENSEARCH_ENDPOINT", self.osmem.url()),
            ("OPENSEARCH_AUTH", "none"),
            ("AWS_REGION", REGION),
            ("RETRY_BASE_MS", "5"),
            ("DEADLINE_MARGIN_MS", "100"),
            ("S3_KEY_REGEX", KEY_REGEX),
        ];
        forwarder_of(&settings, &self.sdk).await
    }

    /// A bucket whose new objects are announced on a queue (set up by `s3-notify`); the queue's
    /// URL and ARN.
    async fn notifying_bucket(&self, bucket: &str) -> (String, String) {
        self.create_bucket(bucket).await;
        let (url, arn) = self
            .moto
            .create_queue(&format!("{bucket}-objects"))
            .await
            .expect("queue");
        // The bucket already tells another queue of deletions: s3-notify must keep that.
        let deletions = aws_sdk_s3::types::QueueConfiguration::builder()
            .id("audit-deletions")
            .queue_arn(arn.replace("-objects", "-audit"))
            .events(aws_sdk_s3::types::Event::from("s3:ObjectRemoved:*"))
            .build()
            .expect("queue configuration");
        self.s3
            .put_bucket_notification_configuration()
            .bucket(bucket)
            .notification_configuration(
                aws_sdk_s3::types::NotificationConfiguration::builder()
                    .queue_configurations(deletions)
                    .build(),
            )
            .send()
            .await
            .expect("an existing notification configuration");
        let args = NotifyArgs {
            bucket: bucket.to_string(),
            queue_arn: arn.clone(),
            prefix: String::new(),
            dry_run: false,
        };
        let first = notify::run(&self.sdk, &args).await.expect("s3-notify");
        assert!(first.said.contains("now notifies"), "{}", first.said);
        let again = notify::run(&self.sdk, &args).await.expect("s3-notify again");
        assert!(again.said.contains("already"), "{}", again.said);
        let queues = again.configuration["QueueConfigurations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let ids: Vec<&str> = queues.iter().filter_map(|queue| queue["Id"].as_str()).collect();
        assert_eq!(ids, ["audit-deletions", notify::CONFIGURATION_ID]);
        (url, arn)
    }

    async fn create_bucket(&self, bucket: &str) {
        self.s3
            .create_bucket()
            .bucket(bucket)
            .send()
            .await
            .expect("bucket");
    }

    async fn put(&self, bucket: &str, key: &str, body: Vec<u8>) {
        self.s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(body))
            .send()
            .await
            .unwrap_or_else(|err| panic!("PutObject {key}: {err:?}"));
    }

    /// Puts a Firehose file, a CloudTrail file, JSON lines and gzip text lines into `bucket`;
    /// their four notifications, and the s3:TestEvent that saving the configuration sent.
    async fn put_four_objects(&self, bucket: &str, queue: &str, arn: &str) -> Vec<Value> {
        self.put(bucket, FIREHOSE_KEY, firehose_file()).await;
        self.put(bucket, TRAIL_KEY, cloudtrail_file()).await;
        self.put(bucket, JSON_KEY, json_lines(40)).await;
        self.put(bucket, TEXT_KEY, text_lines(25)).await;
        let records = self.receive(queue, arn, 5).await;
        let tests = records
            .iter()
            .filter(|record| {
                record["body"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("s3:TestEvent")
            })
            .count();
        assert!(
            tests >= 1,
            "moto sends s3:TestEvent when the configuration is saved"
        );
        records
    }

    /// A bucket without notifications: three objects under `2026/`, one outside it.
    async fn put_old_objects(&self, bucket: &str) {
        self.create_bucket(bucket).await;
        self.put(bucket, "2026/11/29/trail.json.gz", cloudtrail_file())
            .await;
        self.put(bucket, "2026/11/29/app.json", json_lines(30)).await;
        self.put(bucket, "2026/11/29/fh", firehose_file()).await;
        self.put(bucket, "other/ignored.log", text_lines(3)).await;
    }

    async fn receive(&self, url: &str, arn: &str, at_least: usize) -> Vec<Value> {
        self.moto.sqs_records(url, arn, at_least).await.expect("messages")
    }

    async fn search(&self, index: &str, query: Value) -> Vec<Value> {
        self.osmem.refresh(index).await.expect("refresh");
        let answer = self
            .osmem
            .request(
                "POST",
                &format!("/{index}/_search"),
                Some(json!({"size": 1000, "query": query})),
            )
            .await
            .expect("search");
        answer["hits"]["hits"].as_array().cloned().unwrap_or_default()
    }
}

/// The message that names `key` (keys in notifications are URL-encoded).
fn message_for<'a>(records: &'a [Value], key_part: &str) -> &'a Value {
    records
        .iter()
        .find(|record| record["body"].as_str().unwrap_or_default().contains(key_part))
        .unwrap_or_else(|| panic!("no message names {key_part}"))
}

fn failures(response: &Value) -> Vec<String> {
    let mut ids: Vec<String> = response["batchItemFailures"]
        .as_array()
        .expect("batchItemFailures")
        .iter()
        .map(|item| {
            item["itemIdentifier"]
                .as_str()
                .expect("itemIdentifier")
                .to_string()
        })
        .collect();
    ids.sort();
    ids
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

fn firehose_file() -> Vec<u8> {
    // As Firehose writes what a CloudWatch Logs destination sends it: each record is already a
    // gzip payload, and the records are written back to back, so the file is several gzip
    // members; CloudWatch sends a CONTROL_MESSAGE first.
    // <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html#FirehoseExample>
    let control = json!({"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "",
        "logStream": "", "subscriptionFilters": [], "logEvents": [{"id": "", "timestamp": NOV_29_10H,
        "message": "CWL CONTROL MESSAGE: Checking health of destination Firehose."}]});
    [
        gzip_json(&control),
        gzip_json(&logs_data(
            "/aws/lambda/checkout",
            numbered_events("fh-a", NOV_29_10H, 50),
        )),
        gzip_json(&logs_data(
            "/aws/lambda/payments",
            numbered_events("fh-b", NOV_29_10H, 30),
        )),
    ]
    .concat()
}

fn cloudtrail_file() -> Vec<u8> {
    // Shape: <https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html>
    let records: Vec<Value> = (0..20)
        .map(|i| {
            json!({"eventVersion": "1.08", "userIdentity": {"type": "IAMUser", "userName": "Alice"},
                "eventTime": format!("2026-11-29T10:{i:02}:00Z"), "eventSource": "iam.amazonaws.com",
                "eventName": "CreateUser", "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.1",
                "requestParameters": {"userName": format!("user-{i}")}, "eventID": format!("ev-{i}")})
        })
        .collect();
    gzip(json!({ "Records": records }).to_string().as_bytes())
}

fn json_lines(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| {
            format!(
                "{{\"timestamp\":\"2026-11-29T11:{:02}:{:02}Z\",\"level\":\"INFO\",\"msg\":\"invoice {i} sent\"}}\n",
                i / 60,
                i % 60
            )
        })
        .collect::<String>()
        .into_bytes()
}

fn text_lines(n: usize) -> Vec<u8> {
    let text: String = (0..n)
        .map(|i| format!("2026-11-29T12:00:{:02}Z worker-{i} finished job {i}\n", i % 60))
        .collect();
    gzip(text.as_bytes())
}

const FIREHOSE_KEY: &str = "firehose/2026/11/29/10/sluice-delivery-1-2026-11-29-10-00-00-0a1b";
const TRAIL_KEY: &str = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/29/123456789012_CloudTrail_us-east-1_20261129T1000Z_x.json.gz";
const JSON_KEY: &str = "apps/prod-billing/2026/11/29/app.json";
const TEXT_KEY: &str = "legacy/old app/worker log.txt.gz";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_announced_through_sqs_are_indexed_once_and_failures_name_their_message() {
    let world = World::start().await;
    let forwarder = world.forwarder().await;
    let bucket = "central-logs";
    let (queue, arn) = world.notifying_bucket(bucket).await;

    // Ten events of the Firehose file arrive first through a subscription: the file must not
    // index them twice.
    let direct = awslogs_event(&logs_data(
        "/aws/lambda/checkout",
        numbered_events("fh-a", NOV_29_10H, 10),
    ));
    let handled = forwarder
        .handle(direct, deadline_in(30.0))
        .await
        .expect("direct route");
    assert_eq!(handled.summary.indexed, 10);

    let records = world.put_four_objects(bucket, &queue, &arn).await;
    let event = json!({ "Records": records });
    index_the_four_objects(&world, &forwarder, event.clone()).await;
    check_a_firehose_event(&world).await;
    check_a_cloudtrail_record(&world).await;
    check_json_and_text_lines(&world).await;

    // The same messages again (SQS delivers at least once): nothing new.
    let again = forwarder
        .handle(event, deadline_in(60.0))
        .await
        .expect("redelivery");
    assert_eq!(failures(&again.response), Vec::<String>::new());
    assert_eq!(again.summary.indexed, 0, "{:?}", again.summary);
    assert_eq!(again.summary.duplicates, 165);
    assert_eq!(
        world.osmem.count("cwl-*,cloudtrail-*,s3-*").await.expect("count"),
        165
    );

    let deleted = message_for(&records, "app.json").clone();
    let expected_deleted = deleted["messageId"].as_str().expect("id").to_string();
    failed_objects_fail_their_own_messages(&world, &forwarder, bucket, (&queue, &arn), &deleted).await;
    replay_names_the_failed_message(&forwarder, deleted, &records, expected_deleted).await;
}

/// The SQS event of the four objects: every event in the index its format and time say,
/// exactly once.
async fn index_the_four_objects(world: &World, forwarder: &Forwarder, event: Value) {
    let handled = forwarder
        .handle(event, deadline_in(60.0))
        .await
        .expect("SQS event");
    assert_eq!(failures(&handled.response), Vec::<String>::new());
    let summary = handled.summary;
    assert_counts_add_up(&summary);
    assert_eq!((summary.objects, summary.objects_failed), (4, 0), "{summary:?}");
    assert_eq!(summary.indexed, 40 + 30 + 20 + 40 + 25, "{summary:?}");
    assert_eq!(
        summary.duplicates, 10,
        "the events that came by subscription first"
    );
    assert_eq!(summary.skipped, 1, "the CONTROL_MESSAGE");

    assert_eq!(world.osmem.count("cwl-2026.11.29").await.expect("count"), 80);
    assert_eq!(
        world.osmem.count("cloudtrail-2026.11.29").await.expect("count"),
        20
    );
    assert_eq!(world.osmem.count("s3-2026.11.29").await.expect("count"), 65);
}

/// A Firehose event is the document the subscription makes: same _id, same fields.
async fn check_a_firehose_event(world: &World) {
    let hits = world
        .search("cwl-2026.11.29", json!({"term": {"event.id": "fh-b-7"}}))
        .await;
    assert_eq!(hits.len(), 1);
    let owner = hits[0]["_source"]["cloud"]["account"]["id"]
        .as_str()
        .expect("an owner");
    let id = sluice_forwarder::document::scoped_event_id(owner, "/aws/lambda/payments", "fh-b-7");
    assert_eq!(hits[0]["_id"], id.as_str());
    assert_eq!(
        hits[0]["_source"]["aws"]["cloudwatch"]["log_group"],
        "/aws/lambda/payments"
    );
    assert_eq!(hits[0]["_source"]["json"]["n"], 7);
}

/// A CloudTrail record: its own time, its fields, where it came from.
async fn check_a_cloudtrail_record(world: &World) {
    let hits = world
        .search("cloudtrail-2026.11.29", json!({"term": {"aws.s3.record": 4}}))
        .await;
    assert_eq!(hits.len(), 1);
    let trail = &hits[0]["_source"];
    assert_eq!(trail["@timestamp"], "2026-11-29T10:03:00.000Z");
    assert_eq!(trail["json"]["requestParameters"]["userName"], "user-3");
    assert_eq!(trail["aws"]["s3"]["object"]["key"], TRAIL_KEY);
    assert_eq!(trail["event"]["dataset"], "aws.cloudtrail");
    // Issue 23: its ECS fields, accepted by the template (`source.ip` an `ip`).
    assert_eq!(trail["event"]["action"], "CreateUser");
    assert_eq!(trail["event"]["outcome"], "success");
    assert_eq!(trail["source"]["ip"], "198.51.100.1");
    assert_eq!(trail["user"]["name"], "Alice");
    assert_eq!(
        trail["cloud"]["account"]["id"], "123456789012",
        "from the key's layout"
    );
    assert_eq!(trail["cloud"]["region"], "us-east-1");
}

async fn check_json_and_text_lines(world: &World) {
    // A JSON line: its timestamp field, the key's fields, its line number.
    let hits = world
        .search("s3-2026.11.29", json!({"term": {"aws.s3.line": 3}}))
        .await;
    let line = hits
        .iter()
        .map(|hit| &hit["_source"])
        .find(|source| source["aws"]["s3"]["object"]["key"] == JSON_KEY)
        .expect("line 3 of the JSON object");
    assert_eq!(line["@timestamp"], "2026-11-29T11:00:02.000Z");
    assert_eq!(line["environment"], "prod");
    assert_eq!(line["application"], "billing");
    assert_eq!(line["json"]["msg"], "invoice 2 sent");
    // A text line of a key with spaces (URL-encoded in the notification).
    let text = world
        .search(
            "s3-2026.11.29",
            json!({"term": {"event.dataset": "aws.text_lines"}}),
        )
        .await;
    assert_eq!(text.len(), 25);
    assert!(
        text.iter()
            .all(|hit| hit["_source"]["aws"]["s3"]["object"]["key"] == TEXT_KEY)
    );
}

/// A deleted object and a corrupt one fail their own messages, and only those; `deleted` is
/// the message of the JSON object, which this deletes.
async fn failed_objects_fail_their_own_messages(
    world: &World,
    forwarder: &Forwarder,
    bucket: &str,
    (queue, arn): (&str, &str),
    deleted: &Value,
) {
    world
        .s3
        .delete_object()
        .bucket(bucket)
        .key(JSON_KEY)
        .send()
        .await
        .expect("DeleteObject");
    let mut corrupt = gzip(&json_lines(200));
    corrupt.truncate(corrupt.len() / 2);
    world.put(bucket, "broken/cut.json.gz", corrupt).await;
    world
        .put(bucket, "apps/dev-search/late.json", json_lines(5))
        .await;
    let fresh = world.receive(queue, arn, 2).await;
    let mut batch = vec![deleted.clone()];
    batch.extend(fresh.iter().cloned());
    let handled = forwarder
        .handle(json!({ "Records": batch }), deadline_in(60.0))
        .await
        .expect("SQS event");
    let mut expected = vec![
        deleted["messageId"].as_str().expect("id").to_string(),
        message_for(&fresh, "cut.json.gz")["messageId"]
            .as_str()
            .expect("id")
            .to_string(),
    ];
    expected.sort();
    assert_eq!(failures(&handled.response), expected);
    assert_eq!(handled.summary.objects_failed, 2, "{:?}", handled.summary);
    let late = world
        .search("s3-2026.11.29", json!({"term": {"environment": "dev"}}))
        .await;
    assert_eq!(late.len(), 5, "the good object of the batch is indexed");
}

/// `replay FILE` takes the same SQS event and says which messages would be reported failed.
async fn replay_names_the_failed_message(
    forwarder: &Forwarder,
    deleted: Value,
    records: &[Value],
    expected_deleted: String,
) {
    let file = format!(
        "{}\n",
        json!({ "Records": [deleted, message_for(records, "CloudTrail")] })
    );
    let sources = vec![sluice_forwarder::cli::replay::Source::file(
        "sqs.ndjson",
        std::io::Cursor::new(file),
    )];
    let (mut out, mut errors) = (Vec::new(), Vec::new());
    let replayed = Replay::new(forwarder, false)
        .files(sources, &mut out, &mut errors)
        .await
        .expect("replay");
    assert_eq!(replayed.failed_items, [expected_deleted]);
    assert_eq!(
        replayed.summary.duplicates, 20,
        "the CloudTrail object is all there already"
    );
    assert!(!replayed.ok());
    let errors = String::from_utf8(errors).expect("UTF-8");
    assert!(errors.contains("would be retried"), "{errors}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_of_a_bucket_backfills_what_was_there_before_notifications() {
    let world = World::start().await;
    let forwarder = world.forwarder().await;
    let bucket = "old-logs";
    world.put_old_objects(bucket).await;

    let url = BucketUrl::parse(&format!("s3://{bucket}/2026/")).expect("s3 URL");
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let first = Replay::new(&forwarder, false)
        .bucket(&url, (None, None), &mut out, &mut errors)
        .await
        .expect("replay");
    assert!(first.ok(), "{first:?}: {}", String::from_utf8_lossy(&errors));
    assert_eq!((first.summary.objects, first.summary.indexed), (3, 20 + 30 + 80));
    // Without the CloudTrail layout in its key, the file is told by its content.
    assert_eq!(
        world.osmem.count("cloudtrail-2026.11.29").await.expect("count"),
        20
    );

    let second = Replay::new(&forwarder, false)
        .bucket(&url, (None, None), &mut out, &mut errors)
        .await
        .expect("replay again");
    assert_eq!((second.summary.indexed, second.summary.duplicates), (0, 130));
    assert_eq!(
        world.osmem.count("cwl-*,cloudtrail-*,s3-*").await.expect("count"),
        130
    );

    // Only objects modified within the window: none is from the future.
    let since = Some(chrono::Utc::now().timestamp_millis() + 3_600_000);
    let future = Replay::new(&forwarder, false)
        .bucket(&url, (since, None), &mut out, &mut errors)
        .await
        .expect("replay of nothing");
    assert_eq!(future.summary.objects, 0);

    dry_run_writes_the_actions_of_the_objects(&forwarder, &url).await;
    drop(world.moto);
}

/// A dry run reads the objects and writes their actions, sending nothing.
async fn dry_run_writes_the_actions_of_the_objects(forwarder: &Forwarder, url: &BucketUrl) {
    let mut ndjson = Vec::new();
    let mut errors = Vec::new();
    let dry = Replay::new(forwarder, true)
        .bucket(url, (None, None), &mut ndjson, &mut errors)
        .await
        .expect("dry run");
    assert_eq!(dry.summary.events, 20 + 30 + 81);
    let text = String::from_utf8(ndjson).expect("UTF-8");
    let actions: BTreeMap<String, usize> = text
        .lines()
        .step_by(2)
        .map(|line| {
            let action: Value = serde_json::from_str(line).expect("action");
            action["create"]["_index"].as_str().expect("index").to_string()
        })
        .fold(BTreeMap::new(), |mut counts, index| {
            *counts.entry(index).or_default() += 1;
            counts
        });
    assert_eq!(
        actions,
        BTreeMap::from([
            ("cloudtrail-2026.11.29".to_string(), 20),
            ("cwl-2026.11.29".to_string(), 80),
            ("s3-2026.11.29".to_string(), 30)
        ])
    );
}

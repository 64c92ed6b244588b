//! Issue 25, objects of any size: an object too large for one invocation is indexed across
//! several, each handing the rest on through the queue its notification came from, every line
//! exactly once; an object replaced between two invocations is refused, not mixed.
//!
//! moto holds the bucket and the queue and sends S3's notifications to SQS; the test plays the
//! event source mapping (receive, invoke with a short deadline, delete what the answer does not
//! name in `batchItemFailures`), with the forwarder in-process, into osmem-server, which indexes
//! a few thousand documents a second: slow enough that a few seconds do not hold 10,000 lines.
//! SQS event format: <https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html>.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use sluice_harness::{Moto, OsMem};

use super::*;

const BUCKET: &str = "large-objects";
/// Lines of the large object.
const LINES: usize = 10_000;
/// Each invocation's time, from the event to its deadline.
const INVOCATION_SECONDS: f64 = 4.0;

struct World {
    /// Kept running for the clients below.
    _moto: Moto,
    osmem: OsMem,
    s3: aws_sdk_s3::Client,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    queue_arn: String,
    forwarder: Forwarder,
}

/// What the invocations of one drain of the queue did.
#[derive(Debug, Default)]
struct Drained {
    invocations: usize,
    summary: Summary,
    /// The continuations received, each once, in the order they came.
    bodies: Vec<String>,
    /// Messages an answer named in `batchItemFailures`: received again later.
    retried: usize,
}

impl World {
    async fn start() -> World {
        let moto = Moto::start();
        let osmem = OsMem::start();
        let sdk = moto.sdk_config();
        let s3 = moto.s3_client();
        let (queue_url, queue_arn) = moto.create_queue("large-objects").await.expect("queue");
        moto.notifying_bucket(BUCKET, &queue_arn)
            .await
            .expect("a notifying bucket");
        // A message whose invocation failed (a delivery the deadline cut short, on a loaded
        // machine) comes back soon.
        moto.set_visibility_timeout(&queue_url, 2)
            .await
            .expect("a visibility timeout");
        // Requests of about 200 documents: several per invocation, so that reading stops at a
        // record boundary well inside the object.
        let settings = [
            ("OPENSEARCH_ENDPOINT", osmem.url()),
            ("OPENSEARCH_AUTH", "none"),
            ("AWS_REGION", REGION),
            ("RETRY_BASE_MS", "5"),
            ("DEADLINE_MARGIN_MS", "300"),
            ("BULK_MAX_BYTES", "50000"),
        ];
        let forwarder = forwarder_of(&settings, &sdk).await;
        World {
            sqs: moto.sqs_client(),
            _moto: moto,
            osmem,
            s3,
            queue_url,
            queue_arn,
            forwarder,
        }
    }

    async fn put(&self, key: &str, body: String) {
        self.s3
            .put_object()
            .bucket(BUCKET)
            .key(key)
            .body(ByteStream::from(body.into_bytes()))
            .send()
            .await
            .unwrap_or_else(|err| panic!("PutObject {key}: {err:?}"));
    }

    /// One receive of up to ten messages, as the event source mapping's SQS event records.
    async fn receive(&self) -> Vec<(Value, String)> {
        let answer = self
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .expect("ReceiveMessage");
        answer
            .messages()
            .iter()
            .map(|message| {
                let record = json!({
                    "messageId": message.message_id(),
                    "receiptHandle": message.receipt_handle(),
                    "body": message.body(),
                    "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795946400000"},
                    "messageAttributes": {},
                    "md5OfBody": message.md5_of_body(),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self.queue_arn,
                    "awsRegion": REGION,
                });
                (record, message.receipt_handle().unwrap_or_default().to_string())
            })
            .collect()
    }

    /// Invokes the forwarder with what the queue holds, `INVOCATION_SECONDS` each, deleting the
    /// messages each answer acknowledges (the others come back once their visibility timeout
    /// ends, as Lambda's retries do), until nothing is left on the queue (at most `max`
    /// invocations). `between` runs once, after the first invocation that sent a continuation.
    async fn drain(&self, max: usize, between: impl AsyncFnOnce()) -> Drained {
        let mut drained = Drained::default();
        let mut between = Some(between);
        while drained.invocations < max {
            let messages = self.receive().await;
            if messages.is_empty() {
                if self.queue_is_empty().await {
                    return drained;
                }
                continue;
            }
            for (record, _) in &messages {
                let body = record["body"].as_str().unwrap_or_default();
                if body.contains("sluiceContinuation") && !drained.bodies.iter().any(|seen| seen == body) {
                    drained.bodies.push(body.to_string());
                }
            }
            let event =
                json!({"Records": messages.iter().map(|(record, _)| record.clone()).collect::<Vec<_>>()});
            let handled = self
                .forwarder
                .handle(event, deadline_in(INVOCATION_SECONDS))
                .await
                .expect("an SQS event is answered with batchItemFailures");
            drained.invocations += 1;
            drained.summary.add(&handled.summary);
            let failed: Vec<&str> = handled.response["batchItemFailures"]
                .as_array()
                .expect("batchItemFailures")
                .iter()
                .filter_map(|item| item["itemIdentifier"].as_str())
                .collect();
            drained.retried += failed.len();
            for (record, receipt) in &messages {
                if failed.contains(&record["messageId"].as_str().unwrap_or_default()) {
                    continue;
                }
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(receipt)
                    .send()
                    .await
                    .expect("DeleteMessage");
            }
            if handled.summary.objects_continued > 0
                && let Some(between) = between.take()
            {
                between().await;
            }
        }
        panic!("the queue still holds messages after {max} invocations: {drained:?}");
    }

    /// Nothing visible, in flight or delayed.
    async fn queue_is_empty(&self) -> bool {
        let answer = self
            .sqs
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(QueueAttributeName::All)
            .send()
            .await
            .expect("GetQueueAttributes");
        let attributes = answer.attributes().cloned().unwrap_or_default();
        [
            QueueAttributeName::ApproximateNumberOfMessages,
            QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
            QueueAttributeName::ApproximateNumberOfMessagesDelayed,
        ]
        .iter()
        .all(|name| attributes.get(name).is_none_or(|count| count == "0"))
    }

    /// How many documents of `s3-*` have `message` matching `text` (a phrase).
    async fn count_matching(&self, text: &str) -> u64 {
        self.osmem.refresh("s3-*").await.expect("refresh");
        let answer = self
            .osmem
            .request(
                "POST",
                "/s3-*/_count",
                Some(json!({"query": {"match_phrase": {"message": text}}})),
            )
            .await
            .expect("count");
        answer["count"].as_u64().expect("a count")
    }
}

/// `LINES` lines, `{tag} line N`.
fn lines(tag: &str) -> String {
    (1..=LINES).map(|n| format!("{tag} line {n}\n")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_object_is_indexed_across_invocations_every_line_once() {
    let world = World::start().await;
    world.put("apps/big.log", lines("first")).await;
    let drained = world.drain(60, async || {}).await;

    assert_eq!(
        world.osmem.count("s3-*").await.expect("count"),
        LINES as u64,
        "{drained:?}"
    );
    assert_eq!(world.count_matching("first line").await, LINES as u64);
    let summary = &drained.summary;
    // A request the deadline cut short may still have been indexed (counted failed, then a
    // duplicate when retried): the index, not the counts, says every line is there once.
    assert!(
        summary.indexed + summary.duplicates >= LINES as u64,
        "{summary:?}"
    );
    assert!(summary.objects_continued >= 2, "several invocations: {drained:?}");
    assert_eq!(summary.objects_continued as usize, drained.bodies.len());
    // Each continuation resumes after the last record the one before it left, further on.
    let afters: Vec<u64> = (drained.bodies.iter())
        .map(|body| {
            let body: Value = serde_json::from_str(body).expect("JSON");
            assert_eq!(body["sluiceContinuation"]["key"], "apps/big.log");
            // Stored as it is: the next invocation downloads from the next line's first byte.
            assert!(body["sluiceContinuation"]["offset"].is_u64(), "{body}");
            assert_eq!(body["sluiceContinuation"]["format"], "text-lines");
            body["sluiceContinuation"]["after"].as_u64().expect("after")
        })
        .collect();
    assert!(afters.windows(2).all(|pair| pair[0] < pair[1]), "{afters:?}");
    assert!(afters.iter().all(|&after| after < LINES as u64), "{afters:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_replaced_between_invocations_is_refused_not_mixed() {
    let world = World::start().await;
    world.put("apps/replaced.log", lines("old")).await;
    // After the first invocation, whose continuation is on the queue, the object is replaced:
    // the continuation is refused, and the new object is read whole from its own notification.
    let drained = world
        .drain(60, async || world.put("apps/replaced.log", lines("new")).await)
        .await;
    let summary = &drained.summary;
    assert_eq!(summary.continuations_refused, 1, "{drained:?}");
    assert_eq!(
        world.count_matching("new line").await,
        LINES as u64,
        "{drained:?}"
    );
    // The old object is read no further than before its replacement: every line up to where
    // its one continuation stopped, and not to its end. (A delivery that a loaded machine cut
    // short may have indexed more of it before that continuation was sent: its invocation
    // failed, and the retry stopped earlier.)
    let old = world.count_matching("old line").await;
    let old_etag = first_etag(&drained);
    let old_continuations: Vec<Value> = (drained.bodies.iter())
        .map(|body| serde_json::from_str::<Value>(body).expect("JSON")["sluiceContinuation"].clone())
        .filter(|continuation| continuation["etag"] == old_etag)
        .collect();
    assert_eq!(
        old_continuations.len(),
        1,
        "one continuation of the old object: {drained:?}"
    );
    let stopped = old_continuations[0]["after"].as_u64().expect("after");
    assert!(
        old >= stopped && old < LINES as u64,
        "the old object's lines up to {stopped}, not its end: {old}; {drained:?}"
    );
    assert_eq!(
        world.osmem.count("s3-*").await.expect("count"),
        LINES as u64 + old
    );
}

/// The ETag of the first continuation received: the replaced object's.
fn first_etag(drained: &Drained) -> Value {
    let first: Value = serde_json::from_str(&drained.bodies[0]).expect("JSON");
    first["sluiceContinuation"]["etag"].clone()
}

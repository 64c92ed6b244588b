//! The `sluice-forwarder` binary as Lambda runs it: started with `AWS_LAMBDA_RUNTIME_API` set
//! to the harness's Runtime API ([`sluice_harness::Function`]), and fed by the harness's event
//! source mapping ([`sluice_harness::SqsMapping`]) from a queue in moto that a bucket notifies of
//! new objects, into osmem-server.

use aws_sdk_s3::primitives::ByteStream;
use sluice_harness::{Function, Moto, OsMem, SqsMapping};

use super::*;

const BUCKET: &str = "app-logs";
const KEY: &str = "2026/11/29/invoices.json";
const LINES: usize = 60;

/// The forwarder binary, writing to `osmem` and calling `moto` for S3 and SQS.
fn forwarder_of_binary(moto: &Moto, osmem: &OsMem, extra: &[(&str, &str)]) -> Function {
    let mut env = moto.aws_env();
    env.extend([
        ("OPENSEARCH_ENDPOINT", osmem.url().to_string()),
        ("OPENSEARCH_AUTH", "none".to_string()),
        ("RETRY_BASE_MS", "5".to_string()),
    ]);
    env.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    Function::forwarder(&env).unwrap_or_else(|err| panic!("{err}"))
}

/// A bucket that tells a new queue of its new objects, as `s3-notify` sets it up; the queue's
/// URL and ARN. Saving the configuration queues an `s3:TestEvent`.
async fn notifying_bucket(moto: &Moto) -> (String, String) {
    let (url, arn) = moto.create_queue("app-logs-objects").await.expect("queue");
    moto.notifying_bucket(BUCKET, &arn)
        .await
        .expect("a notifying bucket");
    (url, arn)
}

/// `n` JSON lines, `invoice 0 sent` to `invoice n-1 sent`.
fn invoices(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| {
            format!(
                "{{\"timestamp\":\"2026-11-29T11:{:02}:{:02}Z\",\"msg\":\"invoice {i} sent\"}}\n",
                i / 60,
                i % 60
            )
        })
        .collect::<String>()
        .into_bytes()
}

#[tokio::test]
async fn an_object_announced_on_the_queue_is_indexed_once_by_the_binary_under_the_runtime_api() {
    let moto = Moto::start();
    let osmem = OsMem::start();
    let (url, arn) = notifying_bucket(&moto).await;
    moto.s3_client()
        .put_object()
        .bucket(BUCKET)
        .key(KEY)
        .body(ByteStream::from(invoices(LINES)))
        .send()
        .await
        .expect("PutObject");
    let function = forwarder_of_binary(&moto, &osmem, &[]);

    let mapping = SqsMapping::new(&url, &arn)
        .deadline(Duration::from_secs(60))
        .max_invocations(10);
    let drained = mapping
        .run(&function, &moto.sqs_client())
        .await
        .expect("the mapping");

    assert!(drained.emptied, "the queue is left empty: {drained:?}");
    let records: usize = drained
        .invocations
        .iter()
        .map(|invoked| invoked.records.len())
        .sum();
    assert_eq!(records, 2, "the s3:TestEvent and the object's notification");
    for invoked in &drained.invocations {
        let response = invoked.answer.as_ref().unwrap_or_else(|error| {
            panic!(
                "the invocation failed: {error}; output in {}",
                function.log_path().display()
            )
        });
        assert_eq!(response["batchItemFailures"], json!([]), "{response}");
        assert_eq!(invoked.deleted, invoked.records.len());
    }
    assert_eq!(osmem.count("s3-*").await.expect("count"), LINES as u64);
    let hits = osmem
        .search("s3-*", json!({"size": 1000, "query": {"match_all": {}}}))
        .await
        .expect("search");
    let mut sent: Vec<String> = hits["hits"]["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|hit| hit["_source"]["json"]["msg"].as_str().unwrap_or("?").to_string())
        .collect();
    sent.sort();
    let mut expected: Vec<String> = (0..LINES).map(|i| format!("invoice {i} sent")).collect();
    expected.sort();
    assert_eq!(sent, expected, "every line of the object, once");
}

#[tokio::test]
async fn a_message_named_in_batch_item_failures_stays_and_comes_back() {
    let moto = Moto::start();
    let osmem = OsMem::start();
    let (url, arn) = notifying_bucket(&moto).await;
    let sqs = moto.sqs_client();
    moto.set_visibility_timeout(&url, 1)
        .await
        .expect("a visibility timeout of 1 s");
    let s3 = moto.s3_client();
    // A gzip file cut in half: its reader fails, and so does its message.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&invoices(200)).expect("gzip");
    let mut cut = encoder.finish().expect("gzip");
    cut.truncate(cut.len() / 2);
    for (key, body) in [(KEY, invoices(LINES)), ("2026/11/29/cut.json.gz", cut)] {
        s3.put_object()
            .bucket(BUCKET)
            .key(key)
            .body(ByteStream::from(body))
            .send()
            .await
            .expect("PutObject");
    }
    let function = forwarder_of_binary(&moto, &osmem, &[]);

    // Five invocations: the notifications may come in more than one receive, and the cut
    // object's message must come back at least once after them.
    let drained = SqsMapping::new(&url, &arn)
        .max_invocations(5)
        .run(&function, &sqs)
        .await
        .expect("the mapping");

    assert!(!drained.emptied, "the cut object's message is still there");
    let names = |record: &Value, part: &str| record["body"].as_str().unwrap_or_default().contains(part);
    let mut receive_counts = Vec::new();
    for invoked in &drained.invocations {
        let response = invoked.answer.as_ref().expect("a response");
        let failed = response["batchItemFailures"]
            .as_array()
            .expect("batchItemFailures");
        for record in invoked
            .records
            .iter()
            .filter(|record| names(record, "cut.json.gz"))
        {
            assert_eq!(failed, &[json!({"itemIdentifier": record["messageId"]})]);
            receive_counts.push(record["attributes"]["ApproximateReceiveCount"].clone());
        }
        assert_eq!(invoked.deleted, invoked.records.len() - failed.len());
    }
    assert!(receive_counts.len() >= 2, "delivered again: {drained:?}");
    let expected: Vec<Value> = (1..=receive_counts.len()).map(|n| json!(n.to_string())).collect();
    assert_eq!(receive_counts, expected, "one more receive each time");
    let whole: usize = drained
        .invocations
        .iter()
        .map(|invoked| {
            invoked
                .records
                .iter()
                .filter(|record| names(record, "invoices.json"))
                .count()
        })
        .sum();
    assert_eq!(
        whole, 1,
        "the whole object's message was deleted after its first delivery"
    );
    osmem.refresh("s3-*").await.expect("refresh");
    let hits = osmem
        .search("s3-*", json!({"size": 1000, "query": {"match_all": {}}}))
        .await
        .expect("search");
    let of_the_whole_object = hits["hits"]["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .filter(|hit| hit["_source"]["aws"]["s3"]["object"]["key"] == KEY)
        .count();
    assert_eq!(of_the_whole_object, LINES, "every line of the whole object, once");
}

#[tokio::test]
async fn the_binary_reports_a_bad_event_as_an_error_and_serves_the_next_one() {
    let moto = Moto::start();
    let osmem = OsMem::start();
    let function = forwarder_of_binary(&moto, &osmem, &[]);

    let error = function
        .invoke(json!({"unknown": true}), Duration::from_secs(30))
        .await
        .expect_err("an event of no known source");
    assert_eq!(error["errorType"], "MalformedInput", "{error}");

    let batch = logs_data("/aws/lambda/checkout-api", numbered_events("e", NOV_22_10H, 3));
    let response = function
        .invoke(awslogs_event(&batch), Duration::from_secs(30))
        .await
        .unwrap_or_else(|error| panic!("{error}; output in {}", function.log_path().display()));
    assert!(response.is_object(), "{response}");
    assert_eq!(osmem.count("cwl-*").await.expect("count"), 3);
}

#[tokio::test]
async fn a_forwarder_that_cannot_start_answers_its_init_error_and_leaves_the_messages() {
    let moto = Moto::start();
    let (url, arn) = moto.create_queue("objects").await.expect("queue");
    moto.sqs_client()
        .send_message()
        .queue_url(&url)
        .message_body(r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"app-logs"}"#)
        .send()
        .await
        .expect("SendMessage");
    // No OPENSEARCH_ENDPOINT: the settings are refused at init.
    let function = Function::forwarder(&moto.aws_env()).unwrap_or_else(|err| panic!("{err}"));

    let drained = SqsMapping::new(&url, &arn)
        .max_invocations(1)
        .run(&function, &moto.sqs_client())
        .await
        .expect("the mapping");

    let invoked = &drained.invocations[0];
    let error = invoked.answer.as_ref().expect_err("no forwarder");
    assert_eq!(error["errorType"], "Sluice.InitError", "{error}");
    assert_eq!(invoked.deleted, 0);
    assert!(
        !drained.emptied,
        "the message is in flight, back after the visibility timeout"
    );
}

/// Issue 25: the binary, under the Runtime API with a deadline of three seconds per invocation,
/// indexes an object far too large for one invocation into osmem (a few thousand documents a
/// second): each invocation sends its continuation to the queue, the mapping feeds it back, and
/// every line is indexed once.
#[tokio::test]
async fn the_binary_indexes_an_object_larger_than_an_invocation_across_continuations() {
    const LARGE: usize = 8_000;
    let moto = Moto::start();
    let osmem = OsMem::start();
    let (url, arn) = notifying_bucket(&moto).await;
    let sqs = moto.sqs_client();
    // An invocation a loaded machine cuts short is retried soon.
    moto.set_visibility_timeout(&url, 2)
        .await
        .expect("a visibility timeout of 2 s");
    moto.s3_client()
        .put_object()
        .bucket(BUCKET)
        .key(KEY)
        .body(ByteStream::from(invoices(LARGE)))
        .send()
        .await
        .expect("PutObject");
    let function = forwarder_of_binary(
        &moto,
        &osmem,
        &[("DEADLINE_MARGIN_MS", "300"), ("BULK_MAX_BYTES", "50000")],
    );
    let drained = SqsMapping::new(&url, &arn)
        .deadline(Duration::from_secs(3))
        .max_invocations(40)
        .run(&function, &sqs)
        .await
        .expect("the mapping");

    assert!(drained.emptied, "the queue is left empty: {drained:?}");
    let continuations: Vec<&Value> = (drained.invocations.iter())
        .flat_map(|invoked| &invoked.records)
        .filter(|record| {
            record["body"]
                .as_str()
                .unwrap_or_default()
                .contains("sluiceContinuation")
        })
        .collect();
    assert!(
        continuations.len() >= 2,
        "several invocations, each continuing the last: {} continuations; output in {}",
        continuations.len(),
        function.log_path().display()
    );
    assert_eq!(osmem.count("s3-*").await.expect("count"), LARGE as u64);
    let log = std::fs::read_to_string(function.log_path()).expect("the function's output");
    let metrics = log
        .lines()
        .filter(|line| line.contains("\"ObjectsContinued\""))
        .count();
    assert!(
        metrics >= 2,
        "the EMF line counts ObjectsContinued: {metrics} lines"
    );
}

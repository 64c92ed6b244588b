//! `sluice-forwarder replay` (the library routine the CLI runs) against osmem-server: a file of
//! mixed inputs with a bad line in the middle, replayed twice, then as a dry run.

use std::io::Cursor;

use serde_json::json;
use sluice_forwarder::cli::replay::{Replay, ReplaySummary, Source};
use sluice_harness::OsMem;

use super::*;

/// An on-failure record as Lambda writes it for an asynchronous invocation that failed; the
/// original event is `requestPayload`. Format:
/// <https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html>.
fn on_failure_record(event: &Value) -> Value {
    json!({
        "version": "1.0",
        "timestamp": "2026-11-22T10:05:00.000Z",
        "requestContext": {
            "requestId": "e4b46cbf-b738-xmpl-8880-a18cdf61200e",
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:sluice-forwarder:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorType": "Undelivered", "errorMessage": "OpenSearch answered 503"}
    })
}

/// Three inputs, one per line, with a line that is not JSON between them.
fn input_file() -> String {
    let first = awslogs_event(&logs_data(
        "/aws/lambda/checkout-api",
        numbered_events("replay-a", NOV_22_10H, 40),
    ));
    let second = on_failure_record(&awslogs_event(&logs_data(
        "/aws/lambda/payments",
        numbered_events("replay-b", NOV_22_10H, 25),
    )));
    let third = kinesis_event(&[gzip_json(&logs_data(
        "/aws/lambda/orders",
        numbered_events("replay-c", NOV_22_10H, 10),
    ))]);
    format!("{first}\n{{\"awslogs\": truncated\n{second}\n\n{third}\n")
}

async fn run(forwarder: &Forwarder, text: &str, dry_run: bool) -> (ReplaySummary, String, String) {
    let sources = vec![Source::file("failed.ndjson", Cursor::new(text.to_string()))];
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let summary = Replay::new(forwarder, dry_run)
        .files(sources, &mut out, &mut errors)
        .await
        .expect("replay runs");
    (
        summary,
        String::from_utf8(out).expect("UTF-8"),
        String::from_utf8(errors).expect("UTF-8"),
    )
}

#[tokio::test]
async fn a_replay_indexes_every_good_line_names_the_bad_one_and_a_second_replay_adds_nothing() {
    let osmem = OsMem::start();
    let forwarder = forwarder(osmem.url(), &[]).await;
    let text = input_file();

    let (first, out, errors) = run(&forwarder, &text, false).await;
    assert_eq!(first.summary.events, 75, "{first:?}");
    assert_eq!(first.summary.indexed, 75, "{first:?}");
    assert_eq!(first.malformed, 1);
    assert!(!first.ok(), "a malformed line fails the replay");
    assert!(out.is_empty(), "only a dry run writes to stdout");
    assert!(
        errors.contains("failed.ndjson line 2 is not JSON"),
        "the bad line is named: {errors}"
    );
    osmem.refresh("cwl-*").await.expect("refresh");
    assert_eq!(osmem.count("cwl-2026.11.22").await.expect("count"), 75);

    let (again, _, _) = run(&forwarder, &text, false).await;
    assert_eq!(again.summary.duplicates, 75, "{again:?}");
    assert_eq!(again.summary.indexed, 0);
    osmem.refresh("cwl-*").await.expect("refresh");
    assert_eq!(osmem.count("cwl-2026.11.22").await.expect("count"), 75);

    let line = serde_json::to_value(again).expect("summary serialises");
    for field in [
        "batches",
        "events",
        "indexed",
        "duplicates",
        "dead_lettered",
        "failed",
        "malformed",
    ] {
        assert!(line[field].is_u64(), "the summary line has {field}: {line}");
    }
}

#[tokio::test]
async fn a_dry_run_writes_the_bulk_body_and_sends_nothing() {
    let osmem = OsMem::start();
    let forwarder = forwarder(osmem.url(), &[]).await;
    let good: String = input_file()
        .lines()
        .filter(|line| !line.contains("truncated"))
        .map(|line| format!("{line}\n"))
        .collect();

    let (summary, out, errors) = run(&forwarder, &good, true).await;
    assert!(summary.ok(), "{errors}");
    assert!(summary.dry_run);
    let lines: Vec<Value> = out
        .lines()
        .map(|line| serde_json::from_str(line).expect("NDJSON"))
        .collect();
    assert_eq!(lines.len(), 2 * 75, "an action line and a source line per event");
    assert_eq!(lines[0]["create"]["_index"], "cwl-2026.11.22");
    assert_eq!(
        lines[1]["aws"]["cloudwatch"]["log_group"],
        "/aws/lambda/checkout-api"
    );
    let owner = lines[1]["cloud"]["account"]["id"].as_str().expect("an owner");
    let id = sluice_forwarder::document::scoped_event_id(owner, "/aws/lambda/checkout-api", "replay-a-0");
    assert_eq!(lines[0]["create"]["_id"], id.as_str());
    assert_eq!(osmem.count("cwl-*").await.unwrap_or(0), 0, "nothing was sent");
}

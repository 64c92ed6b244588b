//! Fault sequences no emulator produces, against the scripted server: per-item 429, whole-request
//! 429/503 storms, 413, connection refused, answers slower than the deadline, mapping conflicts.
//! Each ends with every event indexed or dead-lettered, or with the invocation failing (so Lambda
//! keeps the payload) and the summary counting the failures.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;
use sluice_forwarder::handler::HandlerError;

use super::server::{Reply, ScriptedServer};
use super::*;

fn ids(request: &server::Seen) -> BTreeSet<String> {
    request.items.iter().filter_map(|item| item.id.clone()).collect()
}

fn batch_of(n: usize) -> Value {
    awslogs_event(&logs_data(
        "/aws/lambda/orders",
        numbered_events("ev", NOV_22_10H, n),
    ))
}

#[tokio::test]
async fn bulk_429_on_some_items_resends_only_those_items() {
    // The first answer throttles every third item; later answers accept everything.
    let server = ScriptedServer::start(|n, request| {
        let statuses = (0..request.items.len())
            .map(|i| if n == 0 && i % 3 == 0 { 429 } else { 201 })
            .collect();
        Reply::Items(statuses)
    })
    .await;
    let forwarder = forwarder(&server.url, &[("BULK_GZIP", "true")]).await;

    let handled = forwarder
        .handle(batch_of(10), deadline_in(30.0))
        .await
        .expect("delivered");

    let requests = server.bulk_requests();
    assert!(requests.iter().all(|r| r.gzip), "bodies are gzip-compressed");
    let throttled: BTreeSet<String> = requests[0]
        .items
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 3 == 0)
        .filter_map(|(_, item)| item.id.clone())
        .collect();
    let resent: BTreeSet<String> = requests[1..].iter().flat_map(ids).collect();
    assert_eq!(resent, throttled, "only the throttled items are sent again");
    assert_eq!(handled.summary.indexed, 10);
    assert_eq!(handled.summary.retried, throttled.len() as u64);
    assert_eq!(handled.summary.failed, 0);
    assert_counts_add_up(&handled.summary);
}

#[tokio::test]
async fn a_429_and_503_storm_that_ends_delivers_everything() {
    let server = ScriptedServer::start(|n, request| match n {
        0 | 2 => Reply::Status(503),
        1 => Reply::Status(429),
        _ => Reply::Items(vec![201; request.items.len()]),
    })
    .await;
    let forwarder = forwarder(&server.url, &[]).await;

    let handled = forwarder
        .handle(batch_of(5), deadline_in(30.0))
        .await
        .expect("delivered");

    assert_eq!(server.bulk_requests().len(), 4);
    assert_eq!(handled.summary.indexed, 5);
    assert_eq!(
        handled.summary.retried, 15,
        "five items re-sent after each of three failures"
    );
    assert_counts_add_up(&handled.summary);
}

#[tokio::test]
async fn a_storm_that_outlasts_the_deadline_fails_the_invocation_with_the_counts() {
    let server = ScriptedServer::start(|_, _| Reply::Status(503)).await;
    let forwarder = forwarder(&server.url, &[("RETRY_BASE_MS", "50")]).await;

    let err = forwarder
        .handle(batch_of(4), deadline_in(1.5))
        .await
        .expect_err("nothing can be delivered");

    let HandlerError::Undelivered { summary, reason } = &err else {
        panic!("expected Undelivered, got {err}");
    };
    assert_eq!(summary.failed, 4);
    assert_eq!(summary.indexed, 0);
    assert!(reason.contains("503") || reason.contains("scripted"), "{reason}");
    assert!(
        err.to_string().contains("4 of 4 events were not delivered"),
        "{err}"
    );
    assert!(server.bulk_requests().len() >= 2, "it retried before giving up");
    assert_counts_add_up(summary);
}

#[tokio::test]
async fn a_413_splits_the_request_until_the_halves_fit() {
    let server = ScriptedServer::start(|_, request| {
        if request.items.len() > 2 {
            Reply::Status(413)
        } else {
            Reply::Items(vec![201; request.items.len()])
        }
    })
    .await;
    let forwarder = forwarder(&server.url, &[]).await;

    let handled = forwarder
        .handle(batch_of(7), deadline_in(30.0))
        .await
        .expect("delivered");

    let accepted: Vec<_> = server
        .bulk_requests()
        .into_iter()
        .filter(|r| r.items.len() <= 2)
        .collect();
    let delivered: BTreeSet<String> = accepted.iter().flat_map(ids).collect();
    assert_eq!(delivered.len(), 7, "every document arrives in some accepted half");
    assert_eq!(handled.summary.indexed, 7);
    assert_eq!(handled.summary.dead_lettered, 0);
    assert_counts_add_up(&handled.summary);
}

#[tokio::test]
async fn a_single_document_too_large_goes_to_the_dead_letter_index() {
    // Everything but the dead-letter index is "too large".
    let server = ScriptedServer::start(|_, request| {
        if request.items.iter().all(|item| item.index == "cwl-dead-letter") {
            Reply::Items(vec![201; request.items.len()])
        } else {
            Reply::Status(413)
        }
    })
    .await;
    let forwarder = forwarder(&server.url, &[]).await;

    let handled = forwarder
        .handle(batch_of(1), deadline_in(30.0))
        .await
        .expect("dead-lettered");

    let requests = server.bulk_requests();
    let last = requests.last().expect("a request");
    assert_eq!(last.items[0].index, "cwl-dead-letter");
    let reason = last.items[0].source["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("413"), "the reason says why: {reason}");
    assert_eq!(last.items[0].source["event_id"], "ev-0");
    assert_eq!(handled.summary.dead_lettered, 1);
    assert_counts_add_up(&handled.summary);
}

#[tokio::test]
async fn a_mapping_conflict_is_retried_as_the_fallback_then_dead_lettered() {
    let server = ScriptedServer::start(|_, request| {
        let statuses = request
            .items
            .iter()
            .map(|item| if item.index == "cwl-dead-letter" { 201 } else { 400 })
            .collect();
        Reply::Items(statuses)
    })
    .await;
    let forwarder = forwarder(&server.url, &[]).await;

    let handled = forwarder
        .handle(batch_of(3), deadline_in(30.0))
        .await
        .expect("dead-lettered");

    let requests = server.bulk_requests();
    assert_eq!(requests.len(), 3, "primary, fallback, dead letter: {requests:?}");
    assert_eq!(
        ids(&requests[0]),
        ids(&requests[1]),
        "the same events, as fallbacks"
    );
    assert!(
        requests[0]
            .items
            .iter()
            .all(|item| item.source.get("json").is_some()),
        "the primary documents carry the parsed JSON"
    );
    assert!(
        requests[1]
            .items
            .iter()
            .all(|item| item.source.get("json").is_none() && item.source["message"].is_string()),
        "the fallbacks drop the parsed fields and keep the raw message"
    );
    assert!(
        requests[2]
            .items
            .iter()
            .all(|item| item.index == "cwl-dead-letter")
    );
    assert!(
        requests[2].items[0].source["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("mapper_parsing_exception"),
        "{:?}",
        requests[2].items[0].source
    );
    assert_eq!(handled.summary.dead_lettered, 3);
    assert_eq!(handled.summary.indexed, 0);
    assert_counts_add_up(&handled.summary);
}

#[tokio::test]
async fn connection_refused_fails_the_invocation_so_lambda_keeps_the_payload() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", closed.local_addr().expect("address"));
    drop(closed);
    let forwarder = forwarder(&url, &[]).await;

    let err = forwarder
        .handle(batch_of(3), deadline_in(1.0))
        .await
        .expect_err("nobody listens");

    let HandlerError::Undelivered { summary, reason } = &err else {
        panic!("expected Undelivered, got {err}");
    };
    assert_eq!(summary.failed, 3);
    assert!(
        reason.to_lowercase().contains("connect"),
        "the reason names the cause: {reason}"
    );
    assert_counts_add_up(summary);
}

#[tokio::test]
async fn answers_slower_than_the_deadline_fail_the_invocation() {
    let server = ScriptedServer::start(|_, request| {
        Reply::Slow(
            Duration::from_secs(30),
            Box::new(Reply::Items(vec![201; request.items.len()])),
        )
    })
    .await;
    let forwarder = forwarder(&server.url, &[]).await;

    let err = forwarder
        .handle(batch_of(2), deadline_in(1.0))
        .await
        .expect_err("the answer comes after the deadline");

    let HandlerError::Undelivered { summary, .. } = &err else {
        panic!("expected Undelivered, got {err}");
    };
    assert_eq!(summary.failed, 2);
    assert_eq!(summary.indexed, 0);
    assert_counts_add_up(summary);
}

#[tokio::test]
async fn a_kinesis_record_that_is_not_delivered_is_the_only_batch_item_failure() {
    // Documents of the payments log group are refused until the deadline; orders are accepted.
    let server = ScriptedServer::start(|_, request| {
        let statuses = request
            .items
            .iter()
            .map(|item| {
                if item.source["aws"]["cloudwatch"]["log_group"] == "/aws/lambda/payments" {
                    503
                } else {
                    201
                }
            })
            .collect();
        Reply::Items(statuses)
    })
    .await;
    let forwarder = forwarder(&server.url, &[]).await;
    let orders = gzip_json(&logs_data(
        "/aws/lambda/orders",
        numbered_events("o", NOV_22_10H, 3),
    ));
    let payments = gzip_json(&logs_data(
        "/aws/lambda/payments",
        numbered_events("p", NOV_22_10H, 2),
    ));
    let more_orders = gzip_json(&logs_data(
        "/aws/lambda/orders",
        numbered_events("q", NOV_22_10H, 2),
    ));

    let handled = forwarder
        .handle(kinesis_event(&[orders, payments, more_orders]), deadline_in(1.5))
        .await
        .expect("a Kinesis event answers with batchItemFailures");

    assert_eq!(
        handled.response,
        serde_json::json!({"batchItemFailures": [{"itemIdentifier": "seq-1"}]})
    );
    assert_eq!(handled.summary.indexed, 5);
    assert_eq!(handled.summary.failed, 2);
    assert_counts_add_up(&handled.summary);
}

//! CloudFront real-time logs end to end: a Kinesis event as Lambda delivers it, whose records
//! mix a CloudWatch Logs payload, CloudFront real-time log lines and a record that is neither,
//! handled by the forwarder into osmem-server. The lines are indexed once each under
//! `cloudfront-*`, the other record is preserved in the dead-letter index, and delivering the
//! same event again adds nothing.
//!
//! The fixture, and the pages it comes from: `tests/fixtures/access/README.md`.

use sluice_harness::OsMem;

use super::*;

/// One record of every documented field, in the documented order (the default of
/// `CLOUDFRONT_REALTIME_FIELDS`).
const ALL_FIELDS: &str = include_str!("../../fixtures/access/cloudfront-realtime-all-fields.tsv");

/// The documents of `index`, by `aws.kinesis.sequence_number`.
async fn documents(osmem: &OsMem, index: &str) -> Vec<Value> {
    osmem.refresh(index).await.expect("refresh");
    let query = json!({"size": 100, "query": {"match_all": {}}});
    let answer = osmem
        .request("POST", &format!("/{index}/_search"), Some(query))
        .await
        .expect("search");
    let hits = answer["hits"]["hits"].as_array().cloned().unwrap_or_default();
    let mut docs: Vec<Value> = hits.into_iter().map(|hit| hit["_source"].clone()).collect();
    docs.sort_by_key(|doc| {
        doc["aws"]["kinesis"]["sequence_number"]
            .as_str()
            .map(str::to_owned)
    });
    docs
}

#[tokio::test]
async fn cloudfront_realtime_records_in_a_kinesis_event_are_indexed_once() {
    let osmem = OsMem::start();
    let forwarder = forwarder(osmem.url(), &[]).await;
    let payload = gzip_json(&logs_data(
        "/aws/lambda/orders",
        numbered_events("k", NOV_22_10H, 2),
    ));
    // A second request: another id, a 404, through a proxy.
    let second = ALL_FIELDS
        .replace(
            "SOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==",
            "k6WGMNkEzR5BEM_SaF47gjtX9zBDO2m349OY2an0QPEaUum1ZOLrow==",
        )
        .replace("\t200\t", "\t404\t")
        .replace("mobile=true\tHit\t-\t", "mobile=true\tError\t198.51.100.2\t");
    let event = kinesis_event(&[
        payload,
        ALL_FIELDS.as_bytes().to_vec(),
        second.into_bytes(),
        b"Hello, this is a test.".to_vec(),
    ]);

    let handled = forwarder
        .handle(event.clone(), deadline_in(60.0))
        .await
        .expect("answered");

    assert_eq!(handled.response, json!({"batchItemFailures": []}));
    assert_eq!(handled.summary.indexed, 4, "two events and two requests");
    assert_eq!(handled.summary.dead_lettered, 1);
    assert_eq!(handled.summary.unparsed, 0);
    assert_counts_add_up(&handled.summary);
    let docs = documents(&osmem, "cloudfront-*").await;
    assert_eq!(docs.len(), 2);
    let first = &docs[0];
    assert_eq!(first["@timestamp"], "2019-12-04T21:02:31.123Z");
    assert_eq!(first["event"]["dataset"], "aws.cloudfront_realtime");
    assert_eq!(first["source"]["ip"], "192.0.2.100");
    assert_eq!(first["http"]["response"]["status_code"], 200);
    assert_eq!(first["url"]["path"], "/images/cat.jpg");
    assert_eq!(first["url"]["domain"], "www.example.com");
    assert_eq!(first["tls"]["version"], "1.2");
    assert_eq!(first["aws"]["cloudfront"]["x_edge_location"], "DFW3");
    assert_eq!(first["aws"]["cloudfront"]["asn"], 16509);
    assert_eq!(first["aws"]["kinesis"]["sequence_number"], "seq-1");
    assert_eq!(first["aws"]["kinesis"]["shard_id"], "shardId-000000000000");
    assert_eq!(first["cloud"]["account"]["id"], "123456789012");
    let second = &docs[1];
    assert_eq!(second["http"]["response"]["status_code"], 404);
    assert_eq!(second["aws"]["cloudfront"]["x_forwarded_for"], "198.51.100.2");
    assert_eq!(
        second["aws"]["cloudfront"]["x_edge_request_id"],
        "k6WGMNkEzR5BEM_SaF47gjtX9zBDO2m349OY2an0QPEaUum1ZOLrow=="
    );
    assert_eq!(osmem.count("cwl-2026.11.22").await.expect("count"), 2);
    let kept = osmem
        .request("GET", "/cwl-dead-letter/_doc/kinesis-seq-3", None)
        .await
        .expect("dead letter");
    assert_eq!(kept["_source"]["raw_base64"], "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==");

    // Kinesis delivers the batch again (a retry, or a replay of the shard): nothing is added.
    let again = forwarder
        .handle(event, deadline_in(60.0))
        .await
        .expect("answered again");
    assert_eq!(again.response, json!({"batchItemFailures": []}));
    assert_eq!(again.summary.indexed, 0, "{:?}", again.summary);
    assert_counts_add_up(&again.summary);
    assert_eq!(documents(&osmem, "cloudfront-*").await.len(), 2);
    assert_eq!(osmem.count("cwl-2026.11.22").await.expect("count"), 2);
}

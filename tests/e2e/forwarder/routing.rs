//! `INDEX_RULES` against osmem-server: the events of each log group land in the dated indices of
//! the first rule that matches it, each prefix with its own index template, including a prefix
//! that extends another (`payments` and `payments-eu`), which OpenSearch accepts only because the
//! longer prefix's template has the higher priority.

use serde_json::{Value, json};
use sluice_harness::OsMem;

use super::*;

const RULES: &str = "/aws/lambda/payments-eu-*=payments-eu,/aws/lambda/payments-*=payments,/aws/rds/*=rds";

#[tokio::test]
async fn log_groups_land_in_the_indices_of_their_first_matching_rule() {
    let osmem = OsMem::start();
    let forwarder = forwarder(osmem.url(), &[("INDEX_RULES", RULES)]).await;
    let batch =
        |group: &str, id: &str, n: usize| gzip_json(&logs_data(group, numbered_events(id, NOV_22_10H, n)));
    let event = kinesis_event(&[
        batch("/aws/lambda/payments-api", "pay", 3),
        batch("/aws/lambda/payments-eu-api", "eu", 2),
        batch("/aws/rds/instance/orders-db/postgresql", "rds", 4),
        batch("/ecs/web", "web", 1),
    ]);

    let handled = forwarder
        .handle(event, deadline_in(60.0))
        .await
        .expect("delivered");

    assert_eq!(handled.summary.indexed, 10, "{:?}", handled.summary);
    assert_counts_add_up(&handled.summary);
    for (index, count) in [
        ("payments-2026.11.22", 3),
        ("payments-eu-2026.11.22", 2),
        ("rds-2026.11.22", 4),
        ("cwl-2026.11.22", 1),
    ] {
        assert_eq!(osmem.count(index).await.expect("count"), count, "{index}");
    }
    let doc = osmem
        .request(
            "GET",
            &event_doc(
                "rds-2026.11.22",
                "/aws/rds/instance/orders-db/postgresql",
                "rds-0",
            ),
            None,
        )
        .await
        .expect("document");
    assert_eq!(
        doc["_source"]["aws"]["cloudwatch"]["log_group"],
        "/aws/rds/instance/orders-db/postgresql"
    );

    for prefix in ["cwl", "payments", "payments-eu", "rds"] {
        let answer = osmem
            .request("GET", &format!("/_index_template/{prefix}"), None)
            .await
            .unwrap_or_else(|err| panic!("the template of {prefix} is installed: {err}"));
        let template = &answer["index_templates"][0]["index_template"];
        assert_eq!(template["index_patterns"], json!([format!("{prefix}-*")]));
        let index = format!("{prefix}-2026.11.22");
        let mapping = osmem
            .request("GET", &format!("/{index}/_mapping"), None)
            .await
            .expect("mapping");
        let properties = &mapping[&index]["mappings"]["properties"];
        assert_eq!(
            properties["aws"]["properties"]["cloudwatch"]["properties"]["log_group"]["type"], "keyword",
            "{index} was made by its template (a dynamic mapping would make it text): {properties}"
        );
        assert_eq!(properties["@timestamp"]["type"], "date", "{index}");
    }
    let priority = |answer: &Value| answer["index_templates"][0]["index_template"]["priority"].as_u64();
    let payments = osmem
        .request("GET", "/_index_template/payments", None)
        .await
        .expect("template");
    let eu = osmem
        .request("GET", "/_index_template/payments-eu", None)
        .await
        .expect("template");
    assert!(priority(&eu) > priority(&payments), "{eu} {payments}");
}

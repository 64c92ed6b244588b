//! The harness itself: each emulator answers, enforces its rules, and records what it was asked.

use serde_json::json;
use sluice_harness::{Moto, OsMem};

#[tokio::test]
async fn moto_creates_and_lists_log_groups_through_the_rust_sdk() {
    let moto = Moto::start();
    let logs = moto.logs_client();
    for name in [
        "/aws/lambda/checkout-api",
        "/aws/lambda/orders-worker",
        "/ecs/billing",
    ] {
        logs.create_log_group()
            .log_group_name(name)
            .send()
            .await
            .expect("create log group");
    }

    let listed = logs
        .describe_log_groups()
        .log_group_name_prefix("/aws/lambda/")
        .send()
        .await
        .expect("describe log groups");
    let names: Vec<&str> = listed
        .log_groups()
        .iter()
        .filter_map(|group| group.log_group_name())
        .collect();
    assert_eq!(names, ["/aws/lambda/checkout-api", "/aws/lambda/orders-worker"]);

    let actions = moto.recorded_actions().await.expect("recording");
    assert_eq!(
        actions,
        [
            "CreateLogGroup",
            "CreateLogGroup",
            "CreateLogGroup",
            "DescribeLogGroups"
        ],
        "moto's recorder lists every call the test made"
    );
}

#[tokio::test]
async fn moto_enforces_cloudwatch_logs_rules() {
    let moto = Moto::start();
    let logs = moto.logs_client();
    let err = logs
        .put_retention_policy()
        .log_group_name("/aws/lambda/missing")
        .retention_in_days(30)
        .send()
        .await
        .expect_err("a log group that does not exist");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_resource_not_found_exception()),
        "expected ResourceNotFoundException, got {err:?}"
    );
}

#[tokio::test]
async fn osmem_bulk_indexes_and_counts_documents() {
    let osmem = OsMem::start();
    let body = [
        json!({"index": {"_index": "cwl-2026.11.22", "_id": "a"}}),
        json!({"@timestamp": "2026-11-22T10:00:00Z", "message": "START RequestId: 1"}),
        json!({"index": {"_index": "cwl-2026.11.22", "_id": "b"}}),
        json!({"@timestamp": "2026-11-22T10:00:01Z", "message": "END RequestId: 1"}),
        json!({"index": {"_index": "cwl-2026.11.22", "_id": "a"}}),
        json!({"@timestamp": "2026-11-22T10:00:00Z", "message": "START RequestId: 1"}),
    ]
    .iter()
    .map(|line| format!("{line}\n"))
    .collect::<String>();

    let answer = osmem.bulk(body).await.expect("bulk");
    assert_eq!(answer["errors"], json!(false), "bulk answer: {answer}");
    let results: Vec<&str> = answer["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["index"]["result"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(results, ["created", "created", "updated"]);
    assert_eq!(
        osmem.count("cwl-2026.11.22").await.expect("count"),
        2,
        "the same _id is one document"
    );
}

#[tokio::test]
async fn servers_stop_when_dropped() {
    let moto = Moto::start();
    let osmem = OsMem::start();
    let addresses = [moto.url().to_string(), osmem.url().to_string()];
    drop(moto);
    drop(osmem);
    for url in addresses {
        let address = url.trim_start_matches("http://");
        assert!(
            std::net::TcpStream::connect(address).is_err(),
            "{url} still answers after drop"
        );
    }
}

#[test]
fn a_missing_server_is_named_with_its_install_command() {
    let empty = std::env::temp_dir().join(format!("sluice-no-venv-{}", std::process::id()));
    let moto = Moto::try_start_from(&empty)
        .err()
        .expect("no moto in an empty folder")
        .to_string();
    let osmem = OsMem::try_start_from(&empty)
        .err()
        .expect("no osmem in an empty folder")
        .to_string();
    for (message, server) in [(moto, "moto_server"), (osmem, "osmem-server")] {
        assert!(
            message.starts_with(&format!("{server} is not installed")),
            "{message}"
        );
        assert!(message.contains("tools/setup.sh"), "{message}");
    }
}

#[tokio::test]
async fn moto_checks_subscription_destinations_and_the_two_filter_limit() {
    let moto = Moto::start();
    let logs = moto.logs_client();
    let function = moto
        .create_lambda_function("sluice-forwarder")
        .await
        .expect("lambda function");
    assert_eq!(
        function,
        "arn:aws:lambda:us-east-1:123456789012:function:sluice-forwarder"
    );
    let stream = moto
        .create_kinesis_stream("sluice-logs")
        .await
        .expect("kinesis stream");
    logs.create_log_group()
        .log_group_name("/aws/lambda/checkout-api")
        .send()
        .await
        .expect("create");

    let missing = logs
        .put_subscription_filter()
        .log_group_name("/aws/lambda/checkout-api")
        .filter_name("sluice")
        .filter_pattern("")
        .destination_arn("arn:aws:lambda:us-east-1:123456789012:function:not-there")
        .send()
        .await;
    assert!(
        missing.is_err(),
        "moto accepted a destination that does not exist"
    );

    for (name, destination) in [("first", &function), ("second", &stream)] {
        let mut put = logs
            .put_subscription_filter()
            .log_group_name("/aws/lambda/checkout-api")
            .filter_name(name)
            .filter_pattern("")
            .destination_arn(destination);
        if destination.contains(":kinesis:") {
            put = put.role_arn("arn:aws:iam::123456789012:role/cwl-to-kinesis");
        }
        put.send()
            .await
            .unwrap_or_else(|err| panic!("filter {name}: {err:?}"));
    }
    let third = logs
        .put_subscription_filter()
        .log_group_name("/aws/lambda/checkout-api")
        .filter_name("third")
        .filter_pattern("")
        .destination_arn(&function)
        .send()
        .await
        .expect_err("a third filter");
    assert!(
        third
            .as_service_error()
            .is_some_and(|e| e.is_limit_exceeded_exception()),
        "expected LimitExceededException, got {third:?}"
    );
}

//! The harness itself: each emulator answers, enforces its rules, and records what it was asked.

use serde_json::json;
use sluice_harness::{Function, Moto, OsMem};

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

/// A custom runtime in shell, after the AWS guide's example bootstrap
/// (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-walkthrough.html>): it answers each
/// event with the request id, deadline and function ARN it came with; `{"fail": …}` is answered
/// with an error, `{"exit": …}` ends the process. Every start adds a line to `$WORKDIR/starts`.
const ECHO_RUNTIME: &str = r#"#!/bin/sh
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
echo started >> "$WORKDIR/starts"
header() { grep -i "^$1:" "$WORKDIR/headers" | cut -d: -f2- | tr -d ' \r'; }
while true; do
  curl -sS -D "$WORKDIR/headers" -o "$WORKDIR/event" "$api/invocation/next" || exit 1
  id=$(header Lambda-Runtime-Aws-Request-Id)
  if grep -q '"exit"' "$WORKDIR/event"; then exit 3; fi
  if grep -q '"fail"' "$WORKDIR/event"; then
    curl -sS -o /dev/null -X POST -d '{"errorType":"Asked","errorMessage":"as asked"}' "$api/invocation/$id/error"
    continue
  fi
  answer="{\"id\":\"$id\",\"deadline\":$(header Lambda-Runtime-Deadline-Ms),\"arn\":\"$(header Lambda-Runtime-Invoked-Function-Arn)\",\"trace\":\"$(header Lambda-Runtime-Trace-Id)\",\"event\":$(cat "$WORKDIR/event")}"
  curl -sS -o /dev/null -X POST -d "$answer" "$api/invocation/$id/response"
done
"#;

fn epoch_ms() -> u64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since.expect("a clock after 1970").as_millis() as u64
}

#[tokio::test]
async fn the_runtime_api_gives_each_event_its_headers_and_takes_answers_errors_and_exits() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("sluice-echo-runtime-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a folder");
    let bootstrap = dir.join("bootstrap");
    std::fs::write(&bootstrap, ECHO_RUNTIME).expect("bootstrap");
    std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let env = [("WORKDIR", dir.display().to_string())];
    let function = Function::start(&bootstrap, "echo-runtime", &env).expect("function");
    let starts = || {
        std::fs::read_to_string(dir.join("starts"))
            .unwrap_or_default()
            .lines()
            .count()
    };
    let deadline = std::time::Duration::from_secs(20);

    let before = epoch_ms();
    let first = function
        .invoke(json!({"n": 1}), deadline)
        .await
        .expect("an answer");
    let after = epoch_ms();
    assert_eq!(first["event"], json!({"n": 1}));
    assert_eq!(
        first["arn"],
        "arn:aws:lambda:us-east-1:123456789012:function:echo-runtime"
    );
    assert!(
        first["trace"]
            .as_str()
            .is_some_and(|trace| trace.starts_with("Root=1-")),
        "{first}"
    );
    let deadline_ms = first["deadline"]
        .as_u64()
        .expect("Lambda-Runtime-Deadline-Ms, epoch ms");
    assert!(
        before + 20_000 <= deadline_ms && deadline_ms <= after + 20_000,
        "{before} + 20 s <= {deadline_ms} <= {after} + 20 s"
    );

    let error = function.invoke(json!({"fail": true}), deadline).await;
    assert_eq!(
        error,
        Err(json!({"errorType": "Asked", "errorMessage": "as asked"}))
    );
    let second = function
        .invoke(json!({"n": 2}), deadline)
        .await
        .expect("an answer");
    assert_ne!(first["id"], second["id"], "each invocation has its request id");
    assert_eq!(starts(), 1, "one process served the three events");

    let exit = function
        .invoke(json!({"exit": true}), deadline)
        .await
        .expect_err("an exit");
    assert_eq!(exit["errorType"], "Runtime.ExitError", "{exit}");
    let third = function
        .invoke(json!({"n": 3}), deadline)
        .await
        .expect("an answer");
    assert_eq!(third["event"], json!({"n": 3}));
    assert_eq!(starts(), 2, "started again after the exit");
    let _ = std::fs::remove_dir_all(&dir);
}

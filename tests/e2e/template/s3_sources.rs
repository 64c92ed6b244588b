//! S3 sources: with `S3Buckets` set, the stack creates the queue the buckets notify, its
//! dead-letter queue and alarm, the mapping to the forwarder and the forwarder's grants; without
//! it, none of them. Checked on the template as CloudFormation deploys it for those parameter
//! values ([`super::resolve`]), and the policies by what they allow ([`super::iam`]).

use std::process::Command;

use serde_json::{Value, json};

use super::iam::{Request, allows};
use super::resolve::{ACCOUNT, REGION, Stack};
use super::{offline, run_ok, template, venv_tool};

pub(super) const ENDPOINT: (&str, &str) = (
    "OpenSearchEndpoint",
    "https://search-logs-abc123.eu-west-1.es.amazonaws.com",
);
/// As a user types it: CloudFormation trims the members of a `CommaDelimitedList`.
pub(super) const BUCKETS: (&str, &str) = ("S3Buckets", "firehose-logs, trail-logs");
pub(super) const PREFIX: (&str, &str) = ("S3KeyPrefix", "cwl/");
const KMS_KEY: &str = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/// The stack for `overrides`, with a domain for the forwarder's SigV4 role to write to.
pub(super) fn deploy(overrides: &[(&str, &str)]) -> Stack {
    let mut overrides = overrides.to_vec();
    overrides.push((
        "OpenSearchDomainArn",
        "arn:aws:es:eu-west-1:123456789012:domain/logs",
    ));
    Stack::deploy(&overrides).unwrap_or_else(|why| panic!("the stack is refused: {why}"))
}

/// The stack with the two buckets and `extra` parameters.
pub(super) fn with_buckets(extra: &[(&str, &str)]) -> Stack {
    let mut overrides = vec![ENDPOINT, BUCKETS];
    overrides.extend_from_slice(extra);
    deploy(&overrides)
}

pub(super) fn created(stack: &Stack, logical_id: &str) -> Value {
    stack
        .resource(logical_id)
        .unwrap_or_else(|| panic!("this deployment creates no {logical_id}"))
}

/// Every statement of the forwarder role's inline policies, as deployed.
pub(super) fn forwarder_statements(stack: &Stack) -> Vec<Value> {
    let role = created(stack, "ForwarderRole");
    let policies = role["Properties"]["Policies"]
        .as_array()
        .expect("inline policies");
    policies
        .iter()
        .flat_map(|policy| {
            policy["PolicyDocument"]["Statement"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect()
}

pub(super) fn forwarder_environment(stack: &Stack) -> Value {
    created(stack, "Forwarder")["Properties"]["Environment"]["Variables"].clone()
}

#[test]
fn s3_sources_are_off_by_default_and_every_s3_part_waits_for_s3_buckets() {
    for section in ["Resources", "Outputs"] {
        let entries = template()[section].as_object().expect("a section");
        for (id, entry) in entries.iter().filter(|(id, _)| id.starts_with("S3")) {
            assert_eq!(entry["Condition"], "HasS3Buckets", "{section} {id}");
        }
    }
    let has_s3_buckets = template()["Conditions"]["HasS3Buckets"].to_string();
    assert!(
        has_s3_buckets.contains(r#"{"Condition":"CreateForwarder"}"#),
        "only a stack with a forwarder reads buckets: {has_s3_buckets}"
    );

    let stack = deploy(&[ENDPOINT]);
    let s3_resources: Vec<String> = stack
        .resource_ids()
        .into_iter()
        .filter(|id| id.starts_with("S3"))
        .collect();
    assert_eq!(s3_resources, Vec::<String>::new());
    assert_eq!(stack.output("S3QueueArn"), None);
    let sids: Vec<Value> = forwarder_statements(&stack)
        .iter()
        .map(|statement| statement["Sid"].clone())
        .collect();
    assert!(
        sids.iter()
            .all(|sid| !sid.as_str().unwrap_or_default().starts_with("S3")),
        "no S3 grants without buckets: {sids:?}"
    );
    let environment = forwarder_environment(&stack);
    let names: Vec<&String> = environment.as_object().expect("variables").keys().collect();
    assert!(names.iter().all(|name| !name.starts_with("S3_")), "{names:?}");
}

#[test]
fn buckets_notify_a_queue_whose_failures_go_to_a_dead_letter_queue_and_an_alarm() {
    let stack = with_buckets(&[]);
    let mapping = created(&stack, "S3EventSourceMapping")["Properties"].clone();
    assert_eq!(mapping["FunctionName"], "<Forwarder>");
    assert_eq!(mapping["EventSourceArn"], "<S3Queue.Arn>");
    assert_eq!(
        mapping["FunctionResponseTypes"],
        json!(["ReportBatchItemFailures"])
    );
    assert_eq!(mapping["BatchSize"], 10);
    assert_eq!(mapping["MaximumBatchingWindowInSeconds"], 5);
    assert_eq!(
        mapping["ScalingConfig"],
        json!({"MaximumConcurrency": "10"}),
        "Lambda polls no faster than the forwarder's reserved concurrency lets it run"
    );
    let unreserved = deploy(&[ENDPOINT, BUCKETS, ("ForwarderReservedConcurrency", "0")]);
    let mapping = created(&unreserved, "S3EventSourceMapping")["Properties"].clone();
    assert_eq!(mapping.get("ScalingConfig"), None);

    let queue = created(&stack, "S3Queue")["Properties"].clone();
    assert_eq!(
        queue["RedrivePolicy"],
        json!({"deadLetterTargetArn": "<S3DeadLetterQueue.Arn>", "maxReceiveCount": "5"})
    );
    assert_eq!(queue["SqsManagedSseEnabled"], true);
    let dead_letters = created(&stack, "S3DeadLetterQueue")["Properties"].clone();
    assert_eq!(dead_letters["SqsManagedSseEnabled"], true);
    assert_eq!(dead_letters["MessageRetentionPeriod"], 14 * 24 * 3600);
    assert!(
        queue["MessageRetentionPeriod"].as_u64() < dead_letters["MessageRetentionPeriod"].as_u64(),
        "a message keeps its first enqueue time in the dead-letter queue, which must keep it longer"
    );

    let topic = "arn:aws:sns:eu-west-1:123456789012:ops-alerts";
    let alerted = with_buckets(&[("AlarmTopicArn", topic)]);
    let alarm = created(&alerted, "S3DeadLettersAlarm")["Properties"].clone();
    assert_eq!(alarm["Namespace"], "AWS/SQS");
    assert_eq!(alarm["MetricName"], "ApproximateNumberOfMessagesVisible");
    assert_eq!(
        alarm["Dimensions"],
        json!([{"Name": "QueueName", "Value": "<S3DeadLetterQueue.QueueName>"}])
    );
    assert_eq!(alarm["Threshold"], 1);
    assert_eq!(alarm["ComparisonOperator"], "GreaterThanOrEqualToThreshold");
    assert_eq!(alarm["AlarmActions"], json!([topic]));
}

#[test]
fn the_queue_hides_a_notification_for_at_least_six_forwarder_timeouts() {
    let timeout = &template()["Parameters"]["ForwarderTimeout"];
    let lowest = timeout["MinValue"].as_u64().expect("a MinValue");
    let highest = timeout["MaxValue"].as_u64().expect("a MaxValue");
    let batching_window =
        created(&with_buckets(&[]), "S3EventSourceMapping")["Properties"]["MaximumBatchingWindowInSeconds"]
            .as_u64()
            .expect("a batching window");
    for seconds in lowest..=highest {
        let stack = with_buckets(&[("ForwarderTimeout", &seconds.to_string())]);
        let visibility = created(&stack, "S3Queue")["Properties"]["VisibilityTimeout"].clone();
        let visibility = match &visibility {
            Value::Number(number) => number.as_u64(),
            Value::String(text) => text.parse().ok(),
            _ => None,
        }
        .unwrap_or_else(|| panic!("ForwarderTimeout={seconds}: VisibilityTimeout {visibility}"));
        // Lambda's SQS guide: at least six times the function timeout (plus the batching window).
        assert!(
            visibility >= 6 * seconds + batching_window,
            "ForwarderTimeout={seconds}: VisibilityTimeout {visibility}"
        );
        assert!(visibility <= 43_200, "SQS's maximum: {visibility}");
    }
}

#[test]
fn only_s3_may_send_and_only_for_the_named_buckets_of_this_account_over_tls() {
    let stack = with_buckets(&[]);
    let policy = created(&stack, "S3QueuePolicy")["Properties"].clone();
    assert_eq!(policy["Queues"], json!(["<S3Queue>"]));
    let statements = policy["PolicyDocument"]["Statement"]
        .as_array()
        .expect("statements")
        .clone();
    let send = |service: &str, bucket: &str, account: &str, tls: &str| {
        let source = format!("arn:aws:s3:::{bucket}");
        let keys = [
            ("aws:SourceArn", source.as_str()),
            ("aws:SourceAccount", account),
            ("aws:SecureTransport", tls),
        ];
        let request = Request {
            service: Some(service),
            action: "sqs:SendMessage",
            resource: "<S3Queue.Arn>",
            keys: &keys,
        };
        allows(&statements, &request)
    };
    for bucket in ["firehose-logs", "trail-logs"] {
        assert!(send("s3.amazonaws.com", bucket, ACCOUNT, "true"), "{bucket}");
    }
    for bucket in ["other-logs", "firehose-logs-archive", "firehose"] {
        assert!(!send("s3.amazonaws.com", bucket, ACCOUNT, "true"), "{bucket}");
    }
    assert!(
        !send("s3.amazonaws.com", "firehose-logs", "210987654321", "true"),
        "a bucket of that name owned by another account"
    );
    assert!(!send("sns.amazonaws.com", "firehose-logs", ACCOUNT, "true"));
    assert!(!send("s3.amazonaws.com", "firehose-logs", ACCOUNT, "false"));
}

#[test]
fn the_forwarder_reads_the_named_buckets_under_the_prefix_and_consumes_the_queue() {
    let stack = with_buckets(&[PREFIX]);
    let statements = forwarder_statements(&stack);
    let may = |action: &str, resource: &str| allows(&statements, &Request::by_role(action, resource));
    for action in ["s3:GetObject", "s3:GetObjectVersion"] {
        for object in [
            "arn:aws:s3:::firehose-logs/cwl/2026/11/01/00/sluice-1-2026-11-01-00-00-00-0a1b.gz",
            "arn:aws:s3:::trail-logs/cwl/AWSLogs/123456789012/CloudTrail/eu-west-1/x.json.gz",
        ] {
            assert!(may(action, object), "{action} {object}");
        }
        for object in [
            "arn:aws:s3:::firehose-logs/errors/x.gz",
            "arn:aws:s3:::firehose-logs/cwlx",
            "arn:aws:s3:::other-logs/cwl/x.gz",
            "arn:aws:s3:::firehose-logs-archive/cwl/x.gz",
        ] {
            assert!(!may(action, object), "{action} {object}");
        }
    }
    let list = |bucket: &str, prefix: &str| {
        let arn = format!("arn:aws:s3:::{bucket}");
        let keys = [("s3:prefix", prefix)];
        allows(
            &statements,
            &Request::by_role("s3:ListBucket", &arn).with_keys(&keys),
        )
    };
    assert!(list("firehose-logs", "cwl/2026/11/"));
    assert!(!list("firehose-logs", "errors/"));
    assert!(!list("other-logs", "cwl/"));

    for action in [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ChangeMessageVisibility",
    ] {
        assert!(may(action, "<S3Queue.Arn>"), "{action}");
    }
    assert!(!may("sqs:ReceiveMessage", "<S3DeadLetterQueue.Arn>"));
    assert!(!may("kms:Decrypt", KMS_KEY), "no key, no decrypt");

    let whole_buckets = forwarder_statements(&with_buckets(&[]));
    let may = |action: &str, resource: &str| allows(&whole_buckets, &Request::by_role(action, resource));
    assert!(may("s3:GetObject", "arn:aws:s3:::firehose-logs/any/key.gz"));
    assert!(may("s3:ListBucket", "arn:aws:s3:::trail-logs"));
    assert!(!may("s3:GetObject", "arn:aws:s3:::other-logs/any/key.gz"));
}

#[test]
fn the_forwarder_sends_continuations_to_its_own_queue_and_no_other() {
    let statements = forwarder_statements(&with_buckets(&[PREFIX]));
    let may = |action: &str, resource: &str| allows(&statements, &Request::by_role(action, resource));
    for action in ["sqs:SendMessage", "sqs:GetQueueUrl"] {
        assert!(may(action, "<S3Queue.Arn>"), "{action}");
        for queue in [
            "<S3DeadLetterQueue.Arn>",
            "arn:aws:sqs:eu-west-1:123456789012:sluice-S3Queue-AbC123-other",
            "arn:aws:sqs:eu-west-1:210987654321:sluice-S3Queue-AbC123",
            "arn:aws:sqs:us-east-1:123456789012:orders",
        ] {
            assert!(!may(action, queue), "{action} {queue}");
        }
    }
    let senders: Vec<&Value> = statements
        .iter()
        .filter(|statement| {
            let alone = std::slice::from_ref(*statement);
            allows(alone, &Request::by_role("sqs:SendMessage", "<S3Queue.Arn>"))
        })
        .collect();
    assert_eq!(
        senders.len(),
        1,
        "one statement lets the forwarder send: {senders:?}"
    );
    assert_eq!(
        senders[0]["Resource"], "<S3Queue.Arn>",
        "exactly the queue, not a list or a pattern"
    );

    let without_buckets = forwarder_statements(&deploy(&[ENDPOINT]));
    let may = |action: &str, resource: &str| allows(&without_buckets, &Request::by_role(action, resource));
    assert!(!may(
        "sqs:SendMessage",
        "arn:aws:sqs:eu-west-1:123456789012:orders"
    ));
}

#[test]
fn sse_kms_buckets_let_the_forwarder_decrypt_with_their_keys_through_s3_only() {
    let stack = with_buckets(&[("S3KmsKeyArn", KMS_KEY)]);
    let statements = forwarder_statements(&stack);
    let via_s3 = format!("s3.{REGION}.amazonaws.com");
    let decrypt = |key: &str, via: &str| {
        let keys = [("kms:ViaService", via)];
        allows(
            &statements,
            &Request::by_role("kms:Decrypt", key).with_keys(&keys),
        )
    };
    assert!(decrypt(KMS_KEY, &via_s3));
    assert!(!decrypt(KMS_KEY, "sqs.eu-west-1.amazonaws.com"));
    let other_key = "arn:aws:kms:eu-west-1:123456789012:key/ffffffff-12ab-34cd-56ef-1234567890ab";
    assert!(!decrypt(other_key, &via_s3));

    // A bucket's key and the key GuardDuty's findings export encrypts with, as a user lists them.
    let guardduty_key = "arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
    let both = format!("{KMS_KEY}, {guardduty_key}");
    assert!(allowed_by_pattern("S3KmsKeyArn", &both));
    assert!(!allowed_by_pattern("S3KmsKeyArn", &format!("{KMS_KEY}, *")));
    let statements = forwarder_statements(&with_buckets(&[("S3KmsKeyArn", both.as_str())]));
    for key in [KMS_KEY, guardduty_key] {
        let keys = [("kms:ViaService", via_s3.as_str())];
        assert!(
            allows(
                &statements,
                &Request::by_role("kms:Decrypt", key).with_keys(&keys)
            ),
            "{key}"
        );
    }
    assert!(!allows(
        &statements,
        &Request::by_role("kms:Decrypt", other_key).with_keys(&[("kms:ViaService", via_s3.as_str())])
    ));

    let no_buckets = deploy(&[ENDPOINT, ("S3KmsKeyArn", KMS_KEY)]);
    assert!(
        !allows(
            &forwarder_statements(&no_buckets),
            &Request::by_role("kms:Decrypt", KMS_KEY).with_keys(&[("kms:ViaService", via_s3.as_str())])
        ),
        "a key without buckets grants nothing"
    );
}

#[test]
fn the_s3_settings_reach_the_forwarder_when_set() {
    let settings = [
        (
            "S3Formats",
            "S3_FORMATS",
            "cwl/*=cloudwatch-firehose,*.log=text-lines",
        ),
        ("S3KeyRegex", "S3_KEY_REGEX", r"^cwl/(?P<year>\d{4})/"),
        ("S3TimestampFields", "S3_TIMESTAMP_FIELDS", "ts,event.time"),
        (
            "S3IndexPrefixes",
            "S3_INDEX_PREFIXES",
            "json-lines=app,text-lines=app",
        ),
        ("MaxContinuations", "MAX_CONTINUATIONS", "20"),
    ];
    let overrides: Vec<(&str, &str)> = settings
        .iter()
        .map(|(parameter, _, value)| (*parameter, *value))
        .chain([ENDPOINT, BUCKETS])
        .collect();
    let environment = forwarder_environment(&deploy(&overrides));
    for (parameter, variable, value) in settings {
        assert_eq!(environment[variable], value, "{parameter} sets {variable}");
    }
}

#[test]
fn s3_buckets_need_the_forwarder_of_this_stack() {
    let refused = Stack::deploy(&[
        BUCKETS,
        (
            "DestinationArn",
            "arn:aws:logs:eu-west-1:111122223333:destination:sluice-central",
        ),
    ]);
    let why = refused.err().expect("buckets without a forwarder are refused");
    assert!(why.contains("S3BucketsNeedTheForwarder"), "{why}");
}

#[test]
fn the_outputs_name_the_queues_and_the_command_that_adds_each_notification() {
    let stack = with_buckets(&[PREFIX]);
    assert_eq!(stack.output("S3QueueArn"), Some(json!("<S3Queue.Arn>")));
    assert_eq!(stack.output("S3QueueUrl"), Some(json!("<S3Queue>")));
    assert_eq!(
        stack.output("S3DeadLetterQueueUrl"),
        Some(json!("<S3DeadLetterQueue>"))
    );
    assert_eq!(
        stack.output("S3DeadLetterQueueArn"),
        Some(json!("<S3DeadLetterQueue.Arn>"))
    );
    assert_eq!(
        stack.output("S3NotifyCommand"),
        Some(json!(
            "for bucket in firehose-logs trail-logs; do sluice-forwarder s3-notify \
             --bucket \"$bucket\" --queue-arn <S3Queue.Arn> --prefix 'cwl/'; done"
        ))
    );
    assert_eq!(
        with_buckets(&[]).output("S3NotifyCommand"),
        Some(json!(
            "for bucket in firehose-logs trail-logs; do sluice-forwarder s3-notify \
             --bucket \"$bucket\" --queue-arn <S3Queue.Arn>; done"
        ))
    );
}

/// CloudFormation refuses a value its `AllowedPattern` does not match whole (for a
/// `CommaDelimitedList`, each member): checked with Python's `re.fullmatch`.
pub(super) fn allowed_by_pattern(parameter: &str, value: &str) -> bool {
    let pattern = template()["Parameters"][parameter]["AllowedPattern"]
        .as_str()
        .unwrap_or_else(|| panic!("{parameter} has an AllowedPattern"));
    let members: Vec<&str> = if template()["Parameters"][parameter]["Type"] == "CommaDelimitedList" {
        value.split(',').map(str::trim).collect()
    } else {
        vec![value]
    };
    let script = "import re, sys\n\
                  pattern = sys.argv[1]\n\
                  print(all(re.fullmatch(pattern, member) for member in sys.argv[2:]))";
    let output = run_ok(
        "python re.fullmatch",
        offline(
            Command::new(venv_tool("python"))
                .args(["-c", script, pattern])
                .args(&members),
        ),
    );
    String::from_utf8_lossy(&output.stdout).trim() == "True"
}

#[test]
fn bucket_names_and_the_prefix_cannot_widen_the_grants_with_wildcards() {
    for good in [
        "",
        "firehose-logs",
        "firehose-logs, trail-logs",
        "logs.example.com",
    ] {
        assert!(allowed_by_pattern("S3Buckets", good), "S3Buckets={good}");
    }
    for bad in ["*", "logs-*", "firehose-logs/cwl", "firehose-logs, ?rail-logs"] {
        assert!(!allowed_by_pattern("S3Buckets", bad), "S3Buckets={bad}");
    }
    for good in ["", "cwl/", "AWSLogs/123456789012/"] {
        assert!(allowed_by_pattern("S3KeyPrefix", good), "S3KeyPrefix={good}");
    }
    // A quote would also break out of the quoted --prefix of S3NotifyCommand.
    for bad in ["*", "cwl/*", "cwl?", "it's/"] {
        assert!(!allowed_by_pattern("S3KeyPrefix", bad), "S3KeyPrefix={bad}");
    }
}

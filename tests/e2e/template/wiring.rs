//! What the stack wires together: permissions, destinations, settings names, build metadata.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use sluice_harness::workspace_root;

use super::{resource, template};

/// The forwarder's settings as the team agreed them; `config::RawConfig` must declare them too.
const FORWARDER_SETTINGS: [&str; 44] = [
    "OPENSEARCH_ENDPOINT",
    "OPENSEARCH_AUTH",
    "OPENSEARCH_SERVICE",
    "OPENSEARCH_REGION",
    "OPENSEARCH_SECRET_ID",
    "OPENSEARCH_SSM_PARAMETER",
    "INDEX_PREFIX",
    "INDEX_GRANULARITY",
    "INDEX_LOG_GROUP",
    "INDEX_RULES",
    "INDEX_MODE",
    "INDEX_RETENTION_DAYS",
    "INDEX_TIME_WINDOW_DAYS",
    "DEAD_LETTER_INDEX",
    "DOCUMENT_ID",
    "DOCUMENT_FORMAT",
    "JSON_MODE",
    "JSON_FIELD",
    "MULTILINE",
    "REDACT_BUILTIN",
    "REDACT_PATTERNS",
    "INCLUDE_MESSAGE_PATTERNS",
    "EXCLUDE_MESSAGE_PATTERNS",
    "BULK_MAX_BYTES",
    "BULK_CONCURRENCY",
    "BULK_GZIP",
    "RETRY_BASE_MS",
    "DEADLINE_MARGIN_MS",
    "S3_FORMATS",
    "S3_KEY_REGEX",
    "S3_TIMESTAMP_FIELDS",
    "S3_INDEX_PREFIXES",
    "MAX_CONTINUATIONS",
    "MAX_RECORD_BYTES",
    "MAX_PAYLOAD_BYTES",
    "MAX_OBJECT_EXPANSION",
    "MAX_JSON_DEPTH",
    "MAX_FIELDS",
    "CLOUDFRONT_REALTIME_FIELDS",
    "LOG_GROUP_TAGS",
    "LOG_GROUP_TAGS_TTL",
    "GEOIP_DATABASE",
    "GEOIP_ASN_DATABASE",
    "LOG_LEVEL",
];

/// The subscriber's settings (subscriber/src/config.rs).
const SUBSCRIBER_SETTINGS: [&str; 19] = [
    "DESTINATION_ARN",
    "ROLE_ARN",
    "FILTER_NAME",
    "FILTER_PATTERN",
    "DISTRIBUTION",
    "SUBSCRIPTION_SCOPE",
    "EMIT_SYSTEM_FIELDS",
    "FIELD_SELECTION_CRITERIA",
    "APPLY_ON_TRANSFORMED_LOGS",
    "INCLUDE_PATTERNS",
    "EXCLUDE_PATTERNS",
    "INCLUDE_TAGS",
    "EXCLUDE_TAGS",
    "RETENTION_DAYS",
    "RETENTION_MODE",
    "API_RATE_BUDGET",
    "SUBSCRIBER_CONCURRENCY",
    "MAX_FILTERS_PER_GROUP",
    "LOG_LEVEL",
];

/// `{"Ref": "AWS::NoValue"}`: the branch of an `Fn::If` that leaves a property out.
fn no_value() -> Value {
    json!({"Ref": "AWS::NoValue"})
}

/// The policy statements of `policy_documents`, each with the condition it depends on, if any:
/// `Fn::If [Condition, Statement, AWS::NoValue]` yields the statement under that condition.
fn statements(policy_documents: &[&Value]) -> Vec<(Option<String>, Value)> {
    let mut found = Vec::new();
    for document in policy_documents {
        let listed = document["Statement"]
            .as_array()
            .unwrap_or_else(|| panic!("a policy document without a Statement list: {document:#}"));
        for statement in listed {
            match statement.get("Fn::If") {
                Some(branches) => {
                    assert_eq!(
                        branches[2],
                        no_value(),
                        "a conditional statement adds a grant or nothing: {statement:#}"
                    );
                    let condition = branches[0].as_str().expect("a condition name").to_string();
                    found.push((Some(condition), branches[1].clone()));
                }
                None => found.push((None, statement.clone())),
            }
        }
    }
    found
}

/// The inline policy documents of the role `logical_id`.
fn role_policies(logical_id: &str) -> Vec<&'static Value> {
    resource(logical_id)["Properties"]["Policies"]
        .as_array()
        .unwrap_or_else(|| panic!("{logical_id} has inline Policies"))
        .iter()
        .map(|policy| &policy["PolicyDocument"])
        .collect()
}

/// A statement's actions, whether written as one string or a list.
fn actions(statement: &Value) -> Vec<String> {
    match &statement["Action"] {
        Value::String(action) => vec![action.clone()],
        Value::Array(list) => list
            .iter()
            .map(|action| action.as_str().expect("an action name").to_string())
            .collect(),
        other => panic!("a statement without actions: {other:#}"),
    }
}

/// The statement with `sid`, and its condition.
fn statement_with_sid(all: &[(Option<String>, Value)], sid: &str) -> (Option<String>, Value) {
    all.iter()
        .find(|(_, statement)| statement["Sid"] == sid)
        .cloned()
        .unwrap_or_else(|| panic!("no statement {sid}"))
}

/// The environment variable names a function's template entry sets.
fn environment(logical_id: &str) -> &'static serde_json::Map<String, Value> {
    resource(logical_id)["Properties"]["Environment"]["Variables"]
        .as_object()
        .unwrap_or_else(|| panic!("{logical_id} has Environment.Variables"))
}

/// The stack parameter a variable's value comes from: `Ref P`, or `Fn::If [C, Ref P, NoValue]`.
fn parameter_of(value: &Value) -> Option<&str> {
    if let Some(name) = value.get("Ref").and_then(Value::as_str) {
        return Some(name);
    }
    let branches = value.get("Fn::If")?;
    [&branches[1], &branches[2]]
        .into_iter()
        .filter_map(|branch| branch.get("Ref").and_then(Value::as_str))
        .find(|name| *name != "AWS::NoValue")
}

#[test]
fn cloudwatch_logs_may_invoke_the_forwarder_only_for_this_accounts_log_groups() {
    let permission = &resource("ForwarderLogsPermission")["Properties"];
    assert_eq!(permission["Principal"], "logs.amazonaws.com");
    assert_eq!(permission["Action"], "lambda:InvokeFunction");
    assert_eq!(
        permission["FunctionName"],
        json!({"Fn::GetAtt": ["Forwarder", "Arn"]})
    );
    assert_eq!(permission["SourceAccount"], json!({"Ref": "AWS::AccountId"}));
    assert_eq!(
        permission["SourceArn"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"})
    );
}

#[test]
fn the_subscriber_may_only_describe_and_manage_filters_and_retention() {
    let all = statements(&role_policies("SubscriberRole"));
    let (condition, subscriptions) = statement_with_sid(&all, "Subscriptions");
    assert_eq!(condition, None);
    assert_eq!(
        actions(&subscriptions),
        [
            "logs:DescribeLogGroups",
            "logs:DescribeSubscriptionFilters",
            "logs:PutSubscriptionFilter",
            "logs:DeleteSubscriptionFilter",
            "logs:PutRetentionPolicy",
            "logs:ListTagsForResource",
        ]
    );
    let (condition, pass_role) = statement_with_sid(&all, "PassRoleToLogs");
    assert_eq!(
        condition.as_deref(),
        Some("HasRoleArn"),
        "PassRole only when RoleArn is set"
    );
    assert_eq!(actions(&pass_role), ["iam:PassRole"]);
    assert_eq!(pass_role["Resource"], json!({"Ref": "RoleArn"}));
    let (condition, account_policy) = statement_with_sid(&all, "AccountPolicy");
    assert_eq!(
        condition, None,
        "needed both ways: to write the policy and to delete it"
    );
    assert_eq!(
        actions(&account_policy),
        [
            "logs:DescribeAccountPolicies",
            "logs:PutAccountPolicy",
            "logs:DeleteAccountPolicy"
        ]
    );
    assert_eq!(all.len(), 3, "nothing else in the subscriber's role: {all:#?}");

    let continuation = &resource("SubscriberContinuationPolicy")["Properties"];
    assert_eq!(continuation["Roles"], json!([{"Ref": "SubscriberRole"}]));
    let continuation = statements(&[&continuation["PolicyDocument"]]);
    assert_eq!(continuation.len(), 2, "{continuation:#?}");
    let (_, invoke) = statement_with_sid(&continuation, "ContinueSweep");
    assert_eq!(actions(&invoke), ["lambda:InvokeFunction"]);
    assert_eq!(
        invoke["Resource"],
        json!({"Fn::GetAtt": ["Subscriber", "Arn"]}),
        "the subscriber may invoke itself (sweep continuation) and nothing else"
    );
    let (_, record) = statement_with_sid(&continuation, "RecordRules");
    assert_eq!(actions(&record), ["logs:TagResource"]);
    let own =
        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/${Subscriber}";
    assert_eq!(
        record["Resource"],
        json!([{"Fn::Sub": own}, {"Fn::Sub": format!("{own}:*")}]),
        "the subscriber tags its own log group (the rules of its last complete pass) and no other"
    );
}

#[test]
fn the_forwarder_reaches_only_its_opensearch_domain_or_collection_and_its_secret() {
    let all = statements(&role_policies("ForwarderRole"));
    let (condition, domain) = statement_with_sid(&all, "OpenSearchDomain");
    assert_eq!(condition.as_deref(), Some("HasDomain"));
    assert_eq!(actions(&domain), ["es:ESHttp*"]);
    assert_eq!(domain["Resource"], json!({"Fn::Sub": "${OpenSearchDomainArn}/*"}));

    let (condition, collection) = statement_with_sid(&all, "OpenSearchServerless");
    assert_eq!(condition.as_deref(), Some("HasCollection"));
    assert_eq!(actions(&collection), ["aoss:APIAccessAll"]);
    assert_eq!(collection["Resource"], json!({"Ref": "OpenSearchCollectionArn"}));

    let (condition, secret) = statement_with_sid(&all, "BasicAuthSecret");
    assert_eq!(condition.as_deref(), Some("HasSecret"));
    assert_eq!(actions(&secret), ["secretsmanager:GetSecretValue"]);
    let (condition, parameter) = statement_with_sid(&all, "BasicAuthParameter");
    assert_eq!(condition.as_deref(), Some("HasSsmParameter"));
    assert_eq!(actions(&parameter), ["ssm:GetParameter"]);

    let (condition, tags) = statement_with_sid(&all, "LogGroupTags");
    assert_eq!(condition.as_deref(), Some("ReadsLogGroupTags"));
    assert_eq!(actions(&tags), ["logs:ListTagsForResource"]);
    assert_eq!(
        tags["Resource"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"}),
        "this account's log groups only"
    );
    let logs_actions: Vec<String> = all
        .iter()
        .flat_map(|(_, statement)| actions(statement))
        .filter(|action| action.starts_with("logs:"))
        .collect();
    assert_eq!(
        logs_actions,
        ["logs:ListTagsForResource"],
        "no other CloudWatch Logs permission"
    );

    for (_, statement) in &all {
        assert_ne!(
            statement["Resource"], "*",
            "no grant on every resource: {statement:#}"
        );
        assert!(
            actions(statement).iter().all(|action| !action.ends_with(":*")),
            "no service-wide action: {statement:#}"
        );
    }
}

#[test]
fn failed_batches_go_to_an_encrypted_private_tls_only_bucket() {
    let forwarder = &resource("Forwarder")["Properties"];
    let invoke = &forwarder["EventInvokeConfig"];
    assert_eq!(
        invoke["DestinationConfig"]["OnFailure"],
        json!({"Type": "S3Bucket", "Destination": {"Fn::GetAtt": ["FailedBatchesBucket", "Arn"]}})
    );
    assert_eq!(
        invoke["MaximumRetryAttempts"],
        json!({"Ref": "AsyncMaximumRetryAttempts"})
    );
    assert_eq!(
        invoke["MaximumEventAgeInSeconds"],
        json!({"Ref": "AsyncMaximumEventAgeSeconds"})
    );

    let bucket = resource("FailedBatchesBucket");
    assert_eq!(
        bucket["DeletionPolicy"], "Retain",
        "deleting the stack keeps failed batches"
    );
    let bucket = &bucket["Properties"];
    let encryption = &bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0];
    assert_eq!(
        encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"],
        "AES256"
    );
    assert_eq!(
        bucket["PublicAccessBlockConfiguration"],
        json!({"BlockPublicAcls": true, "BlockPublicPolicy": true,
               "IgnorePublicAcls": true, "RestrictPublicBuckets": true})
    );
    let rule = &bucket["LifecycleConfiguration"]["Rules"][0];
    assert_eq!(rule["Status"], "Enabled");
    assert_eq!(
        rule["ExpirationInDays"],
        json!({"Ref": "FailedBatchRetentionDays"})
    );

    let policy = &resource("FailedBatchesBucketPolicy")["Properties"]["PolicyDocument"];
    let tls = statements(&[policy]);
    assert_eq!(tls[0].1["Effect"], "Deny");
    assert_eq!(tls[0].1["Condition"]["Bool"]["aws:SecureTransport"], "false");

    let all = statements(&role_policies("ForwarderRole"));
    let (condition, put) = statement_with_sid(&all, "FailedBatches");
    assert_eq!(
        condition, None,
        "Lambda writes on-failure records with the function's role"
    );
    assert_eq!(actions(&put), ["s3:PutObject"]);
    assert_eq!(
        put["Resource"],
        json!({"Fn::Sub": "${FailedBatchesBucket.Arn}/*"})
    );
}

#[test]
fn function_environments_use_the_settings_names_of_both_functions() {
    let forwarder: BTreeSet<&str> = environment("Forwarder").keys().map(String::as_str).collect();
    assert_eq!(forwarder, FORWARDER_SETTINGS.into_iter().collect());
    let names = sluice_edge::settings::names::<sluice_forwarder::config::RawConfig>();
    let read_by_the_code: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    assert_eq!(
        forwarder, read_by_the_code,
        "the stack sets exactly the variables forwarder/src/config.rs reads"
    );
    let subscriber: BTreeSet<&str> = environment("Subscriber").keys().map(String::as_str).collect();
    assert_eq!(subscriber, SUBSCRIBER_SETTINGS.into_iter().collect());
    let names = sluice_edge::settings::names::<sluice_subscriber::config::RawConfig>();
    for name in subscriber.iter().filter(|name| **name != "LOG_LEVEL") {
        assert!(
            names.iter().any(|declared| declared == name),
            "the stack sets {name}, which subscriber/src/config.rs does not declare"
        );
    }
}

#[test]
fn every_subscriber_invocation_together_stays_within_the_api_budget() {
    let subscriber = resource("Subscriber");
    let environment = environment("Subscriber");
    assert_eq!(
        subscriber["Properties"]["ReservedConcurrentExecutions"],
        json!({"Ref": "SubscriberConcurrency"}),
        "reserved concurrency bounds how many invocations share the budget"
    );
    assert_eq!(
        environment["SUBSCRIBER_CONCURRENCY"],
        json!({"Ref": "SubscriberConcurrency"}),
        "each invocation divides the budget by the same number the reservation allows"
    );
    assert_eq!(environment["API_RATE_BUDGET"], json!({"Ref": "ApiRateLimit"}));
    assert!(
        environment.get("API_RATE_LIMIT").is_none(),
        "the per-invocation rate is derived (API_RATE_BUDGET / SUBSCRIBER_CONCURRENCY), never set apart"
    );
    let concurrency = &template()["Parameters"]["SubscriberConcurrency"];
    assert!(
        concurrency["MinValue"].as_u64() >= Some(2),
        "a pass must leave room for CreateLogGroup events: {concurrency}"
    );
}

#[test]
fn every_setting_comes_from_a_parameter_with_a_default() {
    let parameters = &template()["Parameters"];
    for function in ["Forwarder", "Subscriber"] {
        for (name, value) in environment(function) {
            if name == "DESTINATION_ARN" {
                assert_eq!(
                    value,
                    &json!({"Fn::If": ["CreateForwarder",
                                       {"Fn::GetAtt": ["Forwarder", "Arn"]},
                                       {"Ref": "DestinationArn"}]}),
                    "the subscriber subscribes to this stack's forwarder unless told otherwise"
                );
                continue;
            }
            let parameter = parameter_of(value)
                .unwrap_or_else(|| panic!("{function} {name} is not set from a parameter: {value}"));
            assert!(
                parameters[parameter].get("Default").is_some(),
                "{function} {name}: parameter {parameter} needs a default"
            );
        }
    }
}

#[test]
fn both_functions_are_rust_on_arm64_built_by_cargo_lambda() {
    for (function, package) in [("Forwarder", "forwarder"), ("Subscriber", "subscriber")] {
        let entry = resource(function);
        let properties = &entry["Properties"];
        assert_eq!(properties["Runtime"], "provided.al2023", "{function}");
        assert_eq!(properties["Architectures"], json!(["arm64"]), "{function}");
        assert_eq!(properties["Handler"], "bootstrap", "{function}");
        assert_eq!(properties["CodeUri"], package, "{function}");
        assert_eq!(entry["Metadata"]["BuildMethod"], "rust-cargolambda", "{function}");

        let binary = entry["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap_or_else(|| panic!("{function} names its binary"));
        let manifest_path = workspace_root().join(package).join("Cargo.toml");
        let manifest = std::fs::read_to_string(&manifest_path)
            .unwrap_or_else(|err| panic!("{}: {err}", manifest_path.display()));
        let bin_section = manifest
            .split("[[bin]]")
            .nth(1)
            .unwrap_or_else(|| panic!("{} declares no [[bin]]", manifest_path.display()));
        assert!(
            bin_section.contains(&format!("name = \"{binary}\"")),
            "{function} builds binary {binary}, which {} does not declare",
            manifest_path.display()
        );
    }
}

#[test]
fn the_forwarder_has_reserved_concurrency_and_an_optional_vpc() {
    let forwarder = &resource("Forwarder")["Properties"];
    assert_eq!(
        forwarder["ReservedConcurrentExecutions"],
        json!({"Fn::If": ["ReserveConcurrency", {"Ref": "ForwarderReservedConcurrency"}, no_value()]})
    );
    assert_eq!(
        forwarder["VpcConfig"],
        json!({"Fn::If": ["InVpc",
            {"SubnetIds": {"Ref": "VpcSubnetIds"}, "SecurityGroupIds": {"Ref": "VpcSecurityGroupIds"}},
            no_value()]})
    );
    let in_vpc = &template()["Conditions"]["InVpc"]["Fn::And"];
    assert!(
        in_vpc.to_string().contains("VpcSubnetIds"),
        "empty subnets mean no VPC: {in_vpc}"
    );
}

#[test]
fn the_subscriber_sweeps_on_a_schedule_and_once_at_deploy_time() {
    let schedule = resource("SweepScheduleRule");
    assert_eq!(
        schedule["Properties"]["ScheduleExpression"],
        json!({"Ref": "SweepSchedule"})
    );
    let target = &schedule["Properties"]["Targets"][0];
    assert_eq!(target["Arn"], json!({"Fn::GetAtt": ["Subscriber", "Arn"]}));
    assert!(
        target.get("Input").is_none(),
        "the subscriber receives EventBridge's Scheduled Event itself"
    );
    let permission = &resource("SweepSchedulePermission")["Properties"];
    assert_eq!(
        permission["SourceArn"],
        json!({"Fn::GetAtt": ["SweepScheduleRule", "Arn"]})
    );
    for rule in ["SweepScheduleRule", "LogGroupCreatedRule"] {
        let waits_for = resource(rule)["DependsOn"].clone();
        for needed in ["SubscriberLogGroup", "DeploySweep"] {
            assert!(
                waits_for
                    .as_array()
                    .is_some_and(|all| all.contains(&json!(needed))),
                "{rule} must wait for {needed}: it must not invoke the subscriber before the \
                 stack created its log group, the forwarder's and the forwarder's permission \
                 (DeploySweep waits for those); it waits for {waits_for}"
            );
        }
    }

    let sweep = &resource("DeploySweep")["Properties"];
    assert_eq!(
        sweep["ServiceToken"],
        json!({"Fn::GetAtt": ["DeploySweepFunction", "Arn"]})
    );
    assert_eq!(
        sweep["SubscriberArn"],
        json!({"Fn::GetAtt": ["Subscriber", "Arn"]})
    );
    assert_eq!(
        sweep["RemoveFiltersOnDelete"],
        json!({"Ref": "RemoveFiltersOnDelete"})
    );
    // The first sweep puts filters only once CloudWatch Logs may invoke the forwarder.
    assert_eq!(
        sweep["ForwarderPermission"],
        json!({"Fn::If": ["CreateForwarder", {"Ref": "ForwarderLogsPermission"}, "none"]})
    );

    let code = resource("DeploySweepFunction")["Properties"]["InlineCode"]
        .as_str()
        .expect("inline code");
    for payload in [r#"{"action": "sweep"}"#, r#"{"action": "unsubscribe"}"#] {
        assert!(code.contains(payload), "the custom resource sends {payload}");
    }
    let role = statements(&role_policies("DeploySweepRole"));
    assert_eq!(role.len(), 1);
    assert_eq!(actions(&role[0].1), ["lambda:InvokeFunction"]);
    assert_eq!(
        role[0].1["Resource"],
        json!({"Fn::GetAtt": ["Subscriber", "Arn"]})
    );
}

#[test]
fn alarms_watch_errors_dead_letters_and_failed_subscriptions() {
    let resources = template()["Resources"].as_object().expect("resources");
    let alarms: BTreeSet<(String, String, String)> = resources
        .values()
        .filter(|entry| entry["Type"] == "AWS::CloudWatch::Alarm")
        .map(|entry| {
            let properties = &entry["Properties"];
            let function = properties["Dimensions"][0]["Value"]["Ref"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            (
                properties["Namespace"].as_str().unwrap_or_default().to_string(),
                properties["MetricName"].as_str().unwrap_or_default().to_string(),
                function,
            )
        })
        .collect();
    // The namespaces the functions really write their EMF metrics to, not a copy of the template's.
    for wanted in [
        ("AWS/Lambda", "Errors", "Forwarder"),
        (sluice_forwarder::metrics::NAMESPACE, "DeadLettered", "Forwarder"),
        (sluice_subscriber::metrics::NAMESPACE, "Errors", "Subscriber"),
    ] {
        let wanted = (wanted.0.to_string(), wanted.1.to_string(), wanted.2.to_string());
        assert!(
            alarms.contains(&wanted),
            "no alarm on {wanted:?}; alarms: {alarms:?}"
        );
    }
}

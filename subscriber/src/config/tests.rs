use super::*;

const FORWARDER: &str = "arn:aws:lambda:eu-west-1:123456789012:function:sluice-forwarder";

fn config(pairs: &[(&str, &str)]) -> Result<Config, SettingError> {
    RawConfig::from_pairs(pairs).validate()
}

#[test]
fn flags_are_the_env_names_in_kebab_case() {
    let command = <RawConfig as clap::Args>::augment_args(clap::Command::new("settings"));
    for arg in command.get_arguments() {
        let name = arg.get_env().and_then(|name| name.to_str()).expect("an env name");
        let flag = name.to_ascii_lowercase().replace('_', "-");
        assert_eq!(arg.get_long(), Some(flag.as_str()), "{name}");
    }
}

#[test]
fn defaults_with_only_a_lambda_destination() {
    let config = config(&[("DESTINATION_ARN", FORWARDER)]).expect("valid");
    let destination = config.destination().expect("destination");
    assert_eq!(destination.region, "eu-west-1");
    assert_eq!(
        destination.kind,
        DestinationKind::LambdaFunction {
            function: "sluice-forwarder".into()
        }
    );
    assert_eq!(config.filter_name, "sluice");
    assert_eq!(config.filter_pattern, "");
    assert_eq!(config.distribution, Distribution::ByLogStream);
    assert_eq!(config.include.len(), 1);
    assert!(config.include[0].matches("/aws/lambda/anything"));
    assert!(config.exclude.is_empty());
    assert_eq!(config.retention_days, None);
    assert_eq!(config.retention_mode, RetentionMode::Missing);
    assert_eq!(config.api_rate_limit, 5.0);
    assert_eq!(config.max_filters_per_group, 2);
    assert_eq!(config.scope, SubscriptionScope::LogGroup);
    assert_eq!(config.filter_role_arn(), None);
}

#[test]
fn every_destination_kind_parses() {
    let role = ("ROLE_ARN", "arn:aws:iam::123456789012:role/cwl-to-kinesis");
    let cases = [
        (
            "arn:aws:lambda:eu-west-1:123456789012:function:fwd:live",
            DestinationKind::LambdaFunction {
                function: "fwd".into(),
            },
        ),
        (
            "arn:aws:kinesis:eu-west-1:123456789012:stream/logs",
            DestinationKind::KinesisStream,
        ),
        (
            "arn:aws:firehose:eu-west-1:123456789012:deliverystream/logs",
            DestinationKind::FirehoseDeliveryStream,
        ),
        (
            "arn:aws:logs:eu-west-1:210987654321:destination:central",
            DestinationKind::LogsDestination,
        ),
    ];
    for (arn, kind) in cases {
        let config = config(&[("DESTINATION_ARN", arn), role]).expect(arn);
        assert_eq!(config.destination().expect(arn).kind, kind, "{arn}");
        assert_eq!(config.filter_role_arn().is_some(), kind.needs_role(), "{arn}");
    }
}

#[test]
fn refuses_what_cloudwatch_would_refuse() {
    let cases: [(&[(&str, &str)], &str); 21] = [
        (&[], "DESTINATION_ARN"),
        (&[("DESTINATION_ARN", "not-an-arn")], "DESTINATION_ARN"),
        (
            &[("DESTINATION_ARN", "arn:aws:s3:eu-west-1:123456789012:bucket/x")],
            "DESTINATION_ARN",
        ),
        (
            &[("DESTINATION_ARN", "arn:aws:lambda:eu-west-1:1234:function:x")],
            "DESTINATION_ARN",
        ),
        (
            &[(
                "DESTINATION_ARN",
                "arn:aws:kinesis:eu-west-1:123456789012:stream/logs",
            )],
            "ROLE_ARN",
        ),
        (
            &[("DESTINATION_ARN", FORWARDER), ("RETENTION_DAYS", "10")],
            "RETENTION_DAYS",
        ),
        (
            &[("DESTINATION_ARN", FORWARDER), ("RETENTION_MODE", "always")],
            "RETENTION_MODE",
        ),
        (
            &[("DESTINATION_ARN", FORWARDER), ("DISTRIBUTION", "random")],
            "DISTRIBUTION",
        ),
        (
            &[("DESTINATION_ARN", FORWARDER), ("API_RATE_LIMIT", "0")],
            "API_RATE_LIMIT",
        ),
        (
            &[
                ("DESTINATION_ARN", FORWARDER),
                ("INCLUDE_PATTERNS", "/aws/[lambda"),
            ],
            "INCLUDE_PATTERNS",
        ),
        (
            &[("DESTINATION_ARN", FORWARDER), ("MAX_FILTERS_PER_GROUP", "0")],
            "MAX_FILTERS_PER_GROUP",
        ),
        (
            &[("DESTINATION_ARN", FORWARDER), ("MAX_FILTERS_PER_GROUP", "6")],
            "MAX_FILTERS_PER_GROUP",
        ),
        (
            &[("DESTINATION_ARN", FORWARDER), ("MAX_FILTERS_PER_GROUP", "two")],
            "MAX_FILTERS_PER_GROUP",
        ),
        (
            &[("DESTINATION_ARN", FORWARDER), ("INCLUDE_TAGS", "team=pay,=x")],
            "INCLUDE_TAGS",
        ),
        (
            &[("DESTINATION_ARN", FORWARDER), ("EXCLUDE_TAGS", "sluice=[off")],
            "EXCLUDE_TAGS",
        ),
        (
            &[("DESTINATION_ARN", FORWARDER), ("EXCLUDE_TAGS", &"k".repeat(129))],
            "EXCLUDE_TAGS",
        ),
        (
            &[("DESTINATION_ARN", FORWARDER), ("API_RATE_BUDGET", "-1")],
            "API_RATE_BUDGET",
        ),
        (
            &[("DESTINATION_ARN", FORWARDER), ("SUBSCRIBER_CONCURRENCY", "0")],
            "SUBSCRIBER_CONCURRENCY",
        ),
        (
            &[
                ("DESTINATION_ARN", FORWARDER),
                ("API_RATE_LIMIT", "3"),
                ("SUBSCRIBER_CONCURRENCY", "2"),
            ],
            "API_RATE_LIMIT",
        ),
        (
            &[("DESTINATION_ARN", FORWARDER), ("SUBSCRIPTION_SCOPE", "org")],
            "SUBSCRIPTION_SCOPE",
        ),
        (
            &[
                ("DESTINATION_ARN", FORWARDER),
                ("SUBSCRIPTION_SCOPE", "account"),
                ("EXCLUDE_TAGS", "sluice=off"),
            ],
            "SUBSCRIPTION_SCOPE",
        ),
    ];
    for (pairs, setting) in cases {
        let err = config(pairs).expect_err(setting);
        assert_eq!(err.setting(), setting, "{pairs:?}");
    }
}

#[test]
fn concurrent_invocations_share_one_budget() {
    let rate = |pairs: &[(&str, &str)]| {
        let mut all = vec![("DESTINATION_ARN", FORWARDER)];
        all.extend_from_slice(pairs);
        config(&all).map(|config| config.api_rate_limit)
    };
    assert_eq!(rate(&[]).expect("valid"), 5.0, "one process: the whole budget");
    assert_eq!(
        rate(&[("SUBSCRIBER_CONCURRENCY", "4")]).expect("valid"),
        1.25,
        "the stack: the budget shared by the reserved concurrency"
    );
    assert_eq!(
        rate(&[("API_RATE_BUDGET", "12"), ("SUBSCRIBER_CONCURRENCY", "3")]).expect("valid"),
        4.0
    );
    assert_eq!(
        rate(&[
            ("API_RATE_BUDGET", "5"),
            ("SUBSCRIBER_CONCURRENCY", "3"),
            ("API_RATE_LIMIT", "1")
        ])
        .expect("valid"),
        1.0,
        "an explicit rate within the budget is kept"
    );
    let err = rate(&[("API_RATE_LIMIT", "3"), ("SUBSCRIBER_CONCURRENCY", "2")])
        .expect_err("6 > 5")
        .to_string();
    assert!(
        err.contains("API_RATE_LIMIT") && err.contains("API_RATE_BUDGET=5") && err.contains("2.500"),
        "{err}"
    );
}

#[test]
fn tag_rules_are_key_equals_glob_or_a_bare_key() {
    let config = config(&[
        ("DESTINATION_ARN", FORWARDER),
        ("INCLUDE_TAGS", "team=pay*, env = prod ,owner"),
        ("EXCLUDE_TAGS", "sluice=off"),
    ])
    .expect("valid");
    let shown: Vec<String> = config.include_tags.iter().map(ToString::to_string).collect();
    assert_eq!(shown, ["team=pay*", "env=prod", "owner"]);
    let tags = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let [team, env, owner] = &config.include_tags[..] else {
        panic!("three rules")
    };
    assert!(team.matches(&tags(&[("team", "payments")])));
    assert!(!team.matches(&tags(&[("team", "search")])));
    assert!(
        !team.matches(&tags(&[("Team", "payments")])),
        "keys are case-sensitive"
    );
    assert!(env.matches(&tags(&[("env", "prod")])));
    assert!(
        owner.matches(&tags(&[("owner", "")])),
        "a bare key matches any value"
    );
    assert!(!owner.matches(&tags(&[])));
    let err = RawConfig::from_pairs(&[("DESTINATION_ARN", FORWARDER), ("INCLUDE_TAGS", "=pay")])
        .validate()
        .expect_err("empty key")
        .to_string();
    assert!(
        err.contains("INCLUDE_TAGS") && err.contains("key=value-glob"),
        "{err}"
    );
}

#[test]
fn patterns_retention_and_rate_as_the_template_sends_them() {
    let config = config(&[
        ("DESTINATION_ARN", FORWARDER),
        ("INCLUDE_PATTERNS", "/aws/lambda/*, /ecs/*"),
        ("EXCLUDE_PATTERNS", "/aws/lambda/test-*"),
        ("RETENTION_DAYS", "30"),
        ("RETENTION_MODE", "enforce"),
        ("API_RATE_LIMIT", "2"),
        ("MAX_FILTERS_PER_GROUP", "5"),
        ("FILTER_PATTERN", "[level=ERROR]"),
        ("AWS_LAMBDA_FUNCTION_NAME", "sluice-Subscriber-1"),
    ])
    .expect("valid");
    let names: Vec<&str> = config.include.iter().map(Pattern::as_str).collect();
    assert_eq!(names, ["/aws/lambda/*", "/ecs/*"]);
    assert_eq!(config.exclude[0].as_str(), "/aws/lambda/test-*");
    assert_eq!(config.retention_days, Some(30));
    assert_eq!(config.retention_mode, RetentionMode::Enforce);
    assert_eq!(config.api_rate_limit, 2.0);
    assert_eq!(config.max_filters_per_group, 5);
    assert_eq!(config.filter_pattern, "[level=ERROR]");
    assert_eq!(config.own_function_name(), Some("sluice-Subscriber-1"));
}

#[test]
fn an_unsubscribe_needs_no_destination_and_a_backfill_does() {
    let raw = RawConfig::from_pairs(&[("FILTER_NAME", "ours")]);
    let config = raw.validate_for_unsubscribe().expect("no destination needed");
    assert_eq!(config.filter_name, "ours");
    assert!(config.destination.is_none());
    assert!(matches!(
        raw.validate(),
        Err(SettingError::Missing {
            setting: "DESTINATION_ARN",
            ..
        })
    ));
}

#[test]
fn the_command_line_names_the_subscriber_function_and_lambda_wins() {
    let cli = config(&[
        ("DESTINATION_ARN", FORWARDER),
        ("SUBSCRIBER_FUNCTION_NAME", "sluice-Subscriber-9"),
    ])
    .expect("valid");
    let own = cli.own_function.expect("named");
    assert_eq!(
        (own.name.as_str(), own.from),
        ("sluice-Subscriber-9", "SUBSCRIBER_FUNCTION_NAME")
    );
    let lambda = config(&[
        ("DESTINATION_ARN", FORWARDER),
        ("SUBSCRIBER_FUNCTION_NAME", "stale"),
        ("AWS_LAMBDA_FUNCTION_NAME", "sluice-Subscriber-1"),
    ])
    .expect("valid");
    assert_eq!(lambda.own_function_name(), Some("sluice-Subscriber-1"));
}

/// A keyword setting's names come from its enum: exactly as CloudWatch Logs spells them, listed
/// by the error.
#[test]
fn keywords_are_refused_with_their_names() {
    let err =
        config(&[("DESTINATION_ARN", FORWARDER), ("DISTRIBUTION", "random")]).expect_err("case matters");
    assert_eq!(
        err.to_string(),
        r#"DISTRIBUTION="random" is not valid: expected one of ByLogStream, Random"#
    );
    let random = config(&[("DESTINATION_ARN", FORWARDER), ("DISTRIBUTION", "Random")]).expect("valid");
    assert_eq!(random.distribution, Distribution::Random);
    let scope =
        config(&[("DESTINATION_ARN", FORWARDER), ("SUBSCRIPTION_SCOPE", "org")]).expect_err("no such scope");
    assert!(
        scope.to_string().ends_with("expected one of log-group, account"),
        "{scope}"
    );
}

#[test]
fn filter_options_are_read_sorted_and_without_repeats() {
    let config = config(&[
        ("DESTINATION_ARN", FORWARDER),
        (
            "EMIT_SYSTEM_FIELDS",
            " @source.log, @aws.account ,@aws.region,@aws.account",
        ),
        ("FIELD_SELECTION_CRITERIA", r#"@aws.region NOT IN ["cn-north-1"]"#),
        ("APPLY_ON_TRANSFORMED_LOGS", "TRUE"),
    ])
    .expect("valid");
    let options = &config.filter_options;
    assert_eq!(
        options.system_field_names(),
        ["@aws.account", "@aws.region", "@source.log"]
    );
    assert_eq!(
        options.field_selection_criteria.as_deref(),
        Some(r#"@aws.region NOT IN ["cn-north-1"]"#)
    );
    assert!(options.apply_on_transformed_logs);
    let unset = self::config(&[("DESTINATION_ARN", FORWARDER), ("EMIT_SYSTEM_FIELDS", "")]).expect("valid");
    assert_eq!(unset.filter_options, FilterOptions::default());
}

#[test]
fn bad_filter_options_are_refused_naming_their_setting() {
    let long = format!("@aws.account IN [{}]", vec!["\"123456789012\""; 140].join(","));
    assert!(long.len() > FIELD_SELECTION_CRITERIA_MAX_CHARS);
    let at_limit = format!(
        "@aws.region = \"{}\"",
        "x".repeat(FIELD_SELECTION_CRITERIA_MAX_CHARS - 16)
    );
    assert_eq!(at_limit.len(), FIELD_SELECTION_CRITERIA_MAX_CHARS);
    assert!(
        config(&[
            ("DESTINATION_ARN", FORWARDER),
            ("FIELD_SELECTION_CRITERIA", &at_limit)
        ])
        .is_ok()
    );
    let cases = [
        ("EMIT_SYSTEM_FIELDS", "@aws.account,@aws.partition"),
        ("EMIT_SYSTEM_FIELDS", "aws.account"),
        ("FIELD_SELECTION_CRITERIA", long.as_str()),
        ("FIELD_SELECTION_CRITERIA", "LogGroupName NOT IN [\"a\"]"),
        ("APPLY_ON_TRANSFORMED_LOGS", "yes"),
    ];
    for (setting, value) in cases {
        let err = config(&[("DESTINATION_ARN", FORWARDER), (setting, value)]).expect_err(value);
        assert_eq!(err.setting(), setting, "{value}: {err}");
    }
    let err = config(&[
        ("DESTINATION_ARN", FORWARDER),
        ("EMIT_SYSTEM_FIELDS", "@aws.partition"),
    ])
    .expect_err("unknown field");
    assert!(
        err.to_string().contains("@aws.account, @aws.region, @source.log"),
        "{err}"
    );
}

#[test]
fn an_account_policy_takes_no_filter_option() {
    for (setting, value) in [
        ("EMIT_SYSTEM_FIELDS", "@aws.account"),
        ("FIELD_SELECTION_CRITERIA", "@aws.account = \"123456789012\""),
        ("APPLY_ON_TRANSFORMED_LOGS", "true"),
    ] {
        let err = config(&[
            ("DESTINATION_ARN", FORWARDER),
            ("SUBSCRIPTION_SCOPE", "account"),
            (setting, value),
        ])
        .expect_err(setting);
        assert_eq!(err.setting(), setting, "{err}");
        assert!(err.to_string().contains("SUBSCRIPTION_SCOPE=log-group"), "{err}");
    }
    let off = config(&[
        ("DESTINATION_ARN", FORWARDER),
        ("SUBSCRIPTION_SCOPE", "account"),
        ("APPLY_ON_TRANSFORMED_LOGS", "false"),
    ]);
    assert!(off.is_ok(), "false is no option set");
}

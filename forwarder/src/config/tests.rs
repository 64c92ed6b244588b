use super::*;
use std::collections::HashMap;

use crate::document::index::IndexMode;
use crate::document::{IdMode, JsonMode, Multiline};
use crate::opensearch::auth::{AuthMode, BasicSource, SigningService};
use crate::source::s3::format::Format;

fn config(pairs: &[(&str, &str)], purpose: Purpose) -> Result<Config, SettingError> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|name| map.get(name).cloned(), purpose)
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
fn defaults_apply_when_only_the_endpoint_is_set() {
    let config = config(
        &[
            (
                "OPENSEARCH_ENDPOINT",
                "https://search-x.us-east-1.es.amazonaws.com",
            ),
            ("AWS_REGION", "eu-west-1"),
        ],
        Purpose::Deliver,
    )
    .unwrap();
    let sink = config.sink.unwrap();
    assert_eq!(
        sink.auth,
        AuthMode::SigV4 {
            service: SigningService::Es,
            region: "eu-west-1".to_string()
        }
    );
    assert!(sink.gzip);
    assert_eq!(sink.concurrency, 4);
    assert_eq!(sink.retention_days, None);
    assert_eq!(config.bulk_max_bytes, 5_242_880);
    assert_eq!(config.index_prefix, "cwl");
    assert_eq!(config.documents.dead_letter_index(), "cwl-dead-letter");
    assert_eq!(config.documents.id, IdMode::Event);
    assert_eq!(config.documents.json, JsonMode::Field("json".to_string()));
    assert_eq!(config.documents.multiline, Multiline::Auto);
}

#[test]
fn multiline_off_is_read() {
    let config = config(&[("MULTILINE", "off")], Purpose::DryRun).unwrap();
    assert_eq!(config.documents.multiline, Multiline::Off);
}

#[test]
fn serverless_hosts_sign_for_aoss() {
    let config = config(
        &[
            (
                "OPENSEARCH_ENDPOINT",
                "https://abc123.us-east-1.aoss.amazonaws.com",
            ),
            ("OPENSEARCH_REGION", "us-east-1"),
        ],
        Purpose::Deliver,
    )
    .unwrap();
    assert!(matches!(
        config.sink.unwrap().auth,
        AuthMode::SigV4 {
            service: SigningService::Aoss,
            ..
        }
    ));
}

#[test]
fn the_endpoint_is_required_to_deliver_but_not_for_a_dry_run() {
    let err = config(&[], Purpose::Deliver).unwrap_err();
    assert!(err.to_string().contains("OPENSEARCH_ENDPOINT"), "{err}");
    assert!(config(&[], Purpose::DryRun).unwrap().sink.is_none());
}

#[test]
fn every_error_names_the_setting_and_the_value() {
    let endpoint = ("OPENSEARCH_ENDPOINT", "http://localhost:9200");
    let none = ("OPENSEARCH_AUTH", "none");
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: &[Case] = &[
        (
            &[("OPENSEARCH_ENDPOINT", "not a url")],
            "OPENSEARCH_ENDPOINT",
            "not a url",
        ),
        (
            &[("OPENSEARCH_ENDPOINT", "ftp://host")],
            "OPENSEARCH_ENDPOINT",
            "ftp://host",
        ),
        (
            &[endpoint, ("OPENSEARCH_AUTH", "kerberos")],
            "OPENSEARCH_AUTH",
            "kerberos",
        ),
        (
            &[endpoint, ("OPENSEARCH_SERVICE", "s3"), ("AWS_REGION", "x")],
            "OPENSEARCH_SERVICE",
            "s3",
        ),
        (
            &[endpoint, none, ("BULK_CONCURRENCY", "0")],
            "BULK_CONCURRENCY",
            "0",
        ),
        (
            &[endpoint, none, ("BULK_MAX_BYTES", "lots")],
            "BULK_MAX_BYTES",
            "lots",
        ),
        (&[endpoint, none, ("BULK_GZIP", "yes")], "BULK_GZIP", "yes"),
        (
            &[endpoint, none, ("INDEX_RETENTION_DAYS", "-3")],
            "INDEX_RETENTION_DAYS",
            "-3",
        ),
        (&[("INDEX_GRANULARITY", "week")], "INDEX_GRANULARITY", "week"),
        (&[("JSON_MODE", "deep")], "JSON_MODE", "deep"),
        (&[("MULTILINE", "java")], "MULTILINE", "java"),
        (&[("JSON_FIELD", "message")], "JSON_FIELD", "message"),
        (&[("JSON_FIELD", "app.json")], "JSON_FIELD", "app.json"),
        (&[("DOCUMENT_FORMAT", "ecs")], "DOCUMENT_FORMAT", "ecs"),
        (&[("DOCUMENT_ID", "random")], "DOCUMENT_ID", "random"),
        (&[("REDACT_PATTERNS", "password")], "REDACT_PATTERNS", "password"),
        (&[("RETRY_BASE_MS", "0")], "RETRY_BASE_MS", "0"),
    ];
    for (pairs, setting, value) in cases {
        let err = config(pairs, Purpose::DryRun).expect_err(setting);
        let text = err.to_string();
        assert!(
            text.contains(setting) && text.contains(value),
            "{setting}: {text}"
        );
    }
}

#[test]
fn basic_auth_needs_exactly_one_secret_source() {
    let base = [("OPENSEARCH_ENDPOINT", "https://h"), ("OPENSEARCH_AUTH", "basic")];
    let err = config(&base, Purpose::Deliver).unwrap_err();
    assert!(err.to_string().contains("OPENSEARCH_SECRET_ID"), "{err}");
    let ssm = config(
        &[base[0], base[1], ("OPENSEARCH_SSM_PARAMETER", "/os/creds")],
        Purpose::Deliver,
    )
    .unwrap();
    assert_eq!(
        ssm.sink.unwrap().auth,
        AuthMode::Basic(BasicSource::Ssm("/os/creds".to_string()))
    );
    let both = [
        base[0],
        base[1],
        ("OPENSEARCH_SSM_PARAMETER", "p"),
        ("OPENSEARCH_SECRET_ID", "s"),
    ];
    assert!(config(&both, Purpose::Deliver).is_err());
}

#[test]
fn pattern_lists_are_json_arrays_of_regexes() {
    let excluded = config(
        &[("EXCLUDE_MESSAGE_PATTERNS", r#"["^(START|END) RequestId"]"#)],
        Purpose::DryRun,
    )
    .unwrap();
    assert!(!excluded.documents.filter.keeps("START RequestId: 1"));
    assert!(excluded.documents.filter.keeps("hello"));
    let cases = [
        ("INCLUDE_MESSAGE_PATTERNS", r#"["(open"]"#, "(open"),
        ("EXCLUDE_MESSAGE_PATTERNS", r#"["ok", "[x"]"#, "[x"),
        ("REDACT_PATTERNS", r#"["a{2,1}"]"#, "a{2,1}"),
        ("REDACT_PATTERNS", r#"["("]"#, "unclosed group"),
        ("INDEX_PREFIX", "Bad Prefix", "Bad Prefix"),
        ("DEAD_LETTER_INDEX", "_bad", "_bad"),
    ];
    for (setting, value, named) in cases {
        let err = config(&[(setting, value)], Purpose::DryRun).expect_err(setting);
        let text = err.to_string();
        assert!(
            text.contains(setting) && text.contains(named) && !text.contains('\n'),
            "{setting}: {text}"
        );
    }
}

#[test]
fn index_rules_route_log_groups_and_index_mode_applies_to_every_prefix() {
    let streams = config(
        &[
            ("INDEX_RULES", "/aws/lambda/payments-*=payments, /aws/rds/*=rds"),
            ("INDEX_MODE", "data-stream"),
            ("S3_INDEX_PREFIXES", "json-lines=apps"),
        ],
        Purpose::DryRun,
    )
    .unwrap();
    let index = &streams.documents.index;
    assert_eq!(index.mode(), IndexMode::DataStream);
    assert_eq!(index.index_for("/aws/lambda/payments-api", 0), "payments");
    assert_eq!(index.index_for("/aws/rds/db", 0), "rds");
    assert_eq!(index.index_for("/ecs/web", 0), "cwl");
    assert_eq!(
        streams
            .documents
            .objects
            .naming(Format::JsonLines)
            .index_for("", 0),
        "apps",
        "object prefixes are data streams too"
    );
    assert_eq!(streams.documents.dead_letter_index(), "cwl-dead-letter");

    let dated = config(&[("INDEX_RULES", "/aws/rds/*=rds")], Purpose::DryRun).unwrap();
    assert_eq!(dated.documents.index.mode(), IndexMode::Index);
    assert_eq!(
        dated.documents.index.index_for("/aws/rds/db", 0),
        "rds-1970.01.01"
    );
}

/// Settings, the one an error must name, and what else it must say.
type ErrorCase<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);

#[test]
fn routing_errors_name_the_bad_rule() {
    let cases: &[ErrorCase<'_>] = &[
        (
            &[("INDEX_RULES", "/aws/a*=a,/aws/b*")],
            "INDEX_RULES",
            "\"/aws/b*\"",
        ),
        (
            &[("INDEX_RULES", "/aws/a*=a,/aws/b*=B")],
            "INDEX_RULES",
            "/aws/b*=B",
        ),
        (&[("INDEX_RULES", "/aws/[b=b")], "INDEX_RULES", "/aws/[b=b"),
        (&[("INDEX_RULES", "/aws/b*=_b")], "INDEX_RULES", "/aws/b*=_b"),
        (&[("INDEX_MODE", "stream")], "INDEX_MODE", "stream"),
        (
            &[("INDEX_MODE", "data-stream"), ("INDEX_LOG_GROUP", "true")],
            "INDEX_LOG_GROUP",
            "INDEX_RULES",
        ),
    ];
    for (pairs, setting, named) in cases {
        let text = config(pairs, Purpose::DryRun).expect_err(setting).to_string();
        assert!(
            text.contains(setting) && text.contains(named),
            "{setting}: {text}"
        );
    }
    assert!(
        !config(&[("INDEX_RULES", "/aws/a*=a,/aws/b*")], Purpose::DryRun)
            .unwrap_err()
            .to_string()
            .contains("/aws/a*"),
        "only the bad rule is named"
    );
}

#[test]
fn log_group_tags_are_off_unless_asked_and_their_ttl_is_checked() {
    assert_eq!(
        config(&[], Purpose::DryRun).unwrap().tags,
        None,
        "off outside the stack"
    );
    let on = config(&[("LOG_GROUP_TAGS", "true")], Purpose::DryRun).unwrap();
    assert_eq!(on.tags.map(|tags| tags.ttl), Some(Duration::from_secs(900)));
    let hour = config(
        &[("LOG_GROUP_TAGS", "TRUE"), ("LOG_GROUP_TAGS_TTL", "3600")],
        Purpose::DryRun,
    )
    .unwrap();
    assert_eq!(hour.tags.map(|tags| tags.ttl), Some(Duration::from_secs(3600)));
    let blueprint = config(
        &[("LOG_GROUP_TAGS", "true"), ("DOCUMENT_FORMAT", "blueprint")],
        Purpose::DryRun,
    )
    .unwrap();
    assert_eq!(blueprint.tags, None, "the blueprint's shape has no tags");
    for (pairs, setting) in [
        (&[("LOG_GROUP_TAGS", "yes")][..], "LOG_GROUP_TAGS"),
        (
            &[("LOG_GROUP_TAGS", "true"), ("LOG_GROUP_TAGS_TTL", "0")][..],
            "LOG_GROUP_TAGS_TTL",
        ),
        (&[("LOG_GROUP_TAGS_TTL", "15m")][..], "LOG_GROUP_TAGS_TTL"),
    ] {
        let text = config(pairs, Purpose::DryRun).expect_err(setting).to_string();
        assert!(text.contains(setting), "{setting}: {text}");
    }
}

/// Issue 28, item 6: `INDEX_TIME_WINDOW_DAYS` is `BACK,AHEAD` days (or `BACK`, one day ahead),
/// ten years back and one day ahead when unset.
#[test]
fn the_time_window_is_days_back_and_ahead() {
    use crate::document::TimeWindow;
    let window = |value: &str| {
        config(&[("INDEX_TIME_WINDOW_DAYS", value)], Purpose::DryRun).map(|c| c.documents.time_window)
    };
    let unset = config(&[], Purpose::DryRun).unwrap().documents.time_window;
    assert_eq!(unset, TimeWindow::days(3650, 1));
    assert_eq!(window("30,0").unwrap(), TimeWindow::days(30, 0));
    assert_eq!(window(" 365 , 7 ").unwrap(), TimeWindow::days(365, 7));
    assert_eq!(window("90").unwrap(), TimeWindow::days(90, 1));
    for bad in ["0,1", "10y", "3650,-1", "1,2,3", "36501,1", ","] {
        let text = window(bad).expect_err(bad).to_string();
        assert!(
            text.contains("INDEX_TIME_WINDOW_DAYS") && text.contains("BACK,AHEAD"),
            "{bad}: {text}"
        );
    }
}

/// Issue 12, item 11: settings a real run refuses are refused in a dry run too, and the errors
/// say what to do.
#[test]
fn a_dry_run_checks_what_a_real_run_checks() {
    for (setting, value) in [
        ("BULK_CONCURRENCY", "0"),
        ("INDEX_RETENTION_DAYS", "abc"),
        ("BULK_GZIP", "maybe"),
        ("LOG_LEVEL", "verbose"),
    ] {
        let err = config(&[(setting, value)], Purpose::DryRun).expect_err(setting);
        let text = err.to_string();
        assert!(text.contains(setting) && text.contains(value), "{text}");
    }
    let level = config(&[("LOG_LEVEL", "sluice_forwarder=debug")], Purpose::DryRun).unwrap();
    assert_eq!(level.log_level, "sluice_forwarder=debug");
}

#[test]
fn a_bare_host_name_is_told_to_add_its_scheme() {
    let host = "search-logs-abc.us-east-1.es.amazonaws.com";
    let text = config(
        &[("OPENSEARCH_ENDPOINT", host), ("AWS_REGION", "us-east-1")],
        Purpose::Deliver,
    )
    .expect_err("a host is not a URL")
    .to_string();
    assert!(text.contains(&format!("add https:// (https://{host})")), "{text}");
    assert!(!text.contains("relative URL"), "{text}");
}

/// A keyword setting's names come from its enum: the error lists them as docs/configuration.md
/// quotes it, and `--help` lists them with what each does.
#[test]
fn a_keyword_is_refused_with_its_names_and_its_flag_lists_them() {
    let text = config(&[("INDEX_GRANULARITY", "week")], Purpose::DryRun)
        .expect_err("week is no granularity")
        .to_string();
    assert_eq!(
        text,
        r#"INDEX_GRANULARITY="week" is not valid: expected one of hour, day, month"#
    );
    let help = <RawConfig as clap::Args>::augment_args(clap::Command::new("settings"))
        .render_long_help()
        .to_string();
    for name in [
        "hour",
        "data-stream",
        "blueprint",
        "sigv4",
        "aoss",
        "One index a month",
    ] {
        assert!(help.contains(name), "{name} missing from --help:\n{help}");
    }
}

/// Issue 28, item 5: `REDACT_BUILTIN` switches the built-in rules one at a time, keeps `true`
/// and `false`, names an unknown rule with the valid ones, and every rule's name is in `--help`
/// and in docs/configuration.md.
#[test]
fn redact_builtin_takes_a_list_of_rules() {
    use crate::document::redact::rules;
    let key_id = "GetObject by AKIA2EXAMPLE7KEYID01";
    let redacted = |value: &str| {
        let config = config(&[("REDACT_BUILTIN", value)], Purpose::DryRun).expect(value);
        config.documents.redactor.redact(key_id).into_owned()
    };
    assert_eq!(redacted("true"), "GetObject by [REDACTED]");
    assert_eq!(redacted("false"), key_id);
    assert_eq!(redacted("all,-aws-access-key-id"), key_id);
    assert_eq!(redacted("cookie,aws-access-key-id"), "GetObject by [REDACTED]");
    let text = config(&[("REDACT_BUILTIN", "all,-aws-key-ids")], Purpose::DryRun)
        .expect_err("no such rule")
        .to_string();
    assert!(
        text.contains("REDACT_BUILTIN") && text.contains("\"aws-key-ids\""),
        "{text}"
    );
    let help = <RawConfig as clap::Args>::augment_args(clap::Command::new("settings"))
        .render_long_help()
        .to_string();
    let docs = include_str!("../../../docs/configuration.md");
    for name in rules::names() {
        assert!(text.contains(name), "{name} missing from the error: {text}");
        assert!(help.contains(name), "{name} missing from --help");
        assert!(
            docs.contains(&format!("`{name}`")),
            "{name} missing from docs/configuration.md"
        );
    }
}

/// Issue 26: every limit has a default, takes the ends of its range, and refuses a value just
/// past them with an error that names the setting.
#[test]
fn the_limits_take_their_range_and_refuse_past_it() {
    let endpoint = ("AWS_REGION", "eu-west-1");
    let defaults = config(&[endpoint], Purpose::DryRun).expect("defaults");
    assert_eq!(defaults.limits, crate::limits::Limits::default());
    assert_eq!(defaults.s3.limits.max_record_bytes, 1 << 20);
    assert_eq!(defaults.documents.json_limits, defaults.limits.json());
    let cases: &[(&str, &str, &str, &str)] = &[
        ("MAX_RECORD_BYTES", "1024", "67108864", "1023"),
        ("MAX_RECORD_BYTES", "1024", "67108864", "67108865"),
        ("MAX_PAYLOAD_BYTES", "1048576", "1073741824", "1048575"),
        ("MAX_OBJECT_EXPANSION", "0", "1000000", "1000001"),
        ("MAX_JSON_DEPTH", "1", "128", "129"),
        ("MAX_JSON_DEPTH", "1", "128", "0"),
        ("MAX_FIELDS", "1", "100000", "100001"),
    ];
    for (setting, low, high, past) in cases {
        for value in [low, high] {
            let config = config(&[endpoint, (setting, value)], Purpose::DryRun)
                .unwrap_or_else(|err| panic!("{setting}={value}: {err}"));
            let number: u64 = value.parse().unwrap();
            let limits = config.limits;
            let read = match *setting {
                "MAX_RECORD_BYTES" => config.s3.limits.max_record_bytes as u64,
                "MAX_PAYLOAD_BYTES" => limits.max_payload_bytes as u64,
                "MAX_OBJECT_EXPANSION" => config.s3.limits.max_object_expansion,
                "MAX_JSON_DEPTH" => config.documents.json_limits.max_depth as u64,
                _ => config.documents.json_limits.max_fields as u64,
            };
            assert_eq!(read, number, "{setting}={value}");
        }
        let err = config(&[endpoint, (setting, past)], Purpose::DryRun).expect_err(setting);
        let text = err.to_string();
        assert!(
            text.contains(setting) && text.contains(past) && !text.contains('\n'),
            "{text}"
        );
    }
}

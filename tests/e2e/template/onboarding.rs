//! What a new user meets first: the parameters a minimal deploy needs come first and every other
//! one sits in a group; a SigV4 forwarder that could never write is refused; both functions alarm
//! on Lambda's own errors and throttles; the minimal deploy in docs/deployment.md is one the
//! rules accept; and the template's ranges are the forwarder's own.

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::Value;
use sluice_harness::workspace_root;

use super::resolve::Stack;
use super::{offline, run_ok, template, template_path, venv_tool};

const ENDPOINT: (&str, &str) = (
    "OpenSearchEndpoint",
    "https://search-logs-abc123.eu-west-1.es.amazonaws.com",
);
const DOMAIN: (&str, &str) = (
    "OpenSearchDomainArn",
    "arn:aws:es:eu-west-1:123456789012:domain/logs",
);

/// The minimal set: where the logs go.
const REQUIRED: [&str; 3] = [
    "OpenSearchEndpoint",
    "OpenSearchDomainArn",
    "OpenSearchCollectionArn",
];

/// The parameters in the order the template declares them (the order `sam deploy --guided` asks
/// in); the decoded JSON keeps no order, so this reads the YAML's top-level keys.
fn parameters_in_order() -> Vec<String> {
    let text = std::fs::read_to_string(template_path()).expect("template.yaml readable");
    text.lines()
        .skip_while(|line| *line != "Parameters:")
        .skip(1)
        .take_while(|line| line.is_empty() || line.starts_with(' ') || line.starts_with('#'))
        .filter_map(|line| line.strip_prefix("  ")?.strip_suffix(':'))
        .filter(|name| name.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_parameters_a_minimal_deploy_needs_come_first_and_every_parameter_has_one_group() {
    let order = parameters_in_order();
    assert_eq!(
        order[..REQUIRED.len()],
        REQUIRED,
        "sam deploy --guided asks these first"
    );
    let groups = template()["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
        .as_array()
        .expect("parameter groups");
    let first: Vec<&str> = groups[0]["Parameters"]
        .as_array()
        .expect("first group")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(first, REQUIRED);
    assert!(
        groups[0]["Label"]["default"]
            .as_str()
            .is_some_and(|label| label.starts_with("Required")),
        "{}",
        groups[0]
    );
    let mut grouped = Vec::new();
    for group in groups {
        grouped.extend(
            group["Parameters"]
                .as_array()
                .expect("names")
                .iter()
                .filter_map(Value::as_str),
        );
    }
    let unique: BTreeSet<&str> = grouped.iter().copied().collect();
    assert_eq!(
        unique.len(),
        grouped.len(),
        "a parameter in two groups: {grouped:?}"
    );
    let declared: BTreeSet<&str> = order.iter().map(String::as_str).collect();
    assert_eq!(unique, declared, "every parameter in exactly one group");
}

#[test]
fn sigv4_without_a_domain_or_a_collection_is_refused() {
    let refused = Stack::deploy(&[ENDPOINT])
        .err()
        .expect("a forwarder that could never write");
    assert!(refused.contains("SigV4NeedsADomainOrCollection"), "{refused}");
    for accepted in [
        vec![ENDPOINT, DOMAIN],
        vec![
            ENDPOINT,
            (
                "OpenSearchCollectionArn",
                "arn:aws:aoss:eu-west-1:123456789012:collection/abc123",
            ),
        ],
        vec![ENDPOINT, ("OpenSearchAuth", "none")],
        vec![(
            "DestinationArn",
            "arn:aws:logs:eu-west-1:111122223333:destination:central",
        )],
    ] {
        if let Err(why) = Stack::deploy(&accepted) {
            panic!("{accepted:?} is refused: {why}");
        }
    }
}

#[test]
fn both_functions_alarm_on_lambdas_own_errors_and_throttles() {
    let mut watched = BTreeSet::new();
    for resource in template()["Resources"].as_object().expect("resources").values() {
        if resource["Type"] != "AWS::CloudWatch::Alarm" {
            continue;
        }
        let properties = &resource["Properties"];
        let function = properties["Dimensions"][0]["Value"]["Ref"]
            .as_str()
            .unwrap_or_default();
        watched.insert((
            properties["Namespace"].as_str().unwrap_or_default().to_string(),
            properties["MetricName"].as_str().unwrap_or_default().to_string(),
            function.to_string(),
        ));
    }
    for function in ["Forwarder", "Subscriber"] {
        for metric in ["Errors", "Throttles"] {
            let wanted = ("AWS/Lambda".to_string(), metric.to_string(), function.to_string());
            assert!(watched.contains(&wanted), "no alarm on {wanted:?}: {watched:?}");
        }
    }
}

/// The `--parameter-overrides` of the first `sam deploy` under "Minimal deploy".
fn minimal_deploy_overrides() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(workspace_root().join("docs/deployment.md")).expect("docs");
    let section = text
        .split("## Minimal deploy")
        .nth(1)
        .expect("docs/deployment.md has a Minimal deploy section");
    let command: String = section
        .split("```sh")
        .nth(1)
        .and_then(|block| block.split("```").next())
        .expect("a sh block")
        .replace("\\\n", " ");
    let overrides = command
        .split("--parameter-overrides")
        .nth(1)
        .expect("parameter overrides");
    overrides
        .split_whitespace()
        .take_while(|word| !word.starts_with("--"))
        .filter_map(|word| word.split_once('='))
        .map(|(name, value)| (name.to_string(), value.trim_matches(['"', '\'']).to_string()))
        .collect()
}

#[test]
fn the_minimal_deploy_in_the_docs_sets_only_the_required_parameters_and_is_accepted() {
    let overrides = minimal_deploy_overrides();
    let names: Vec<&str> = overrides.iter().map(|(name, _)| name.as_str()).collect();
    assert!(!names.is_empty(), "no overrides read");
    for name in &names {
        assert!(
            REQUIRED.contains(name),
            "the minimal deploy sets {name}: {names:?}"
        );
    }
    let pairs: Vec<(&str, &str)> = overrides
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    if let Err(why) = Stack::deploy(&pairs) {
        panic!("the documented minimal deploy is refused: {why}");
    }
}

/// Whether the parameter's `AllowedPattern` takes `value`, by Python's `re` (CloudFormation's
/// patterns are Java regexes; these use nothing the two disagree on).
fn pattern_accepts(parameter: &str, values: &[String]) -> Vec<bool> {
    let pattern = template()["Parameters"][parameter]["AllowedPattern"]
        .as_str()
        .expect("a pattern");
    let script = "import re, sys\n\
                  pattern = sys.argv[1]\n\
                  print(' '.join('1' if re.fullmatch(pattern, v) else '0' for v in sys.argv[2:]))";
    let output = run_ok(
        "python re",
        offline(
            Command::new(venv_tool("python"))
                .args(["-c", script, pattern])
                .args(values),
        ),
    );
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .map(|flag| flag == "1")
        .collect()
}

/// Whether the forwarder's settings take `setting=value`; the error says why not.
fn forwarder_takes(setting: &str, value: &str) -> Result<(), String> {
    sluice_forwarder::config::Config::from_lookup(
        |name| match name {
            "OPENSEARCH_ENDPOINT" => Some(ENDPOINT.1.to_string()),
            // Lambda sets it; the stack's region.
            "AWS_REGION" => Some("eu-west-1".to_string()),
            name if name == setting => Some(value.to_string()),
            _ => None,
        },
        sluice_forwarder::config::Purpose::Deliver,
    )
    .map(|_| ())
    .map_err(|err| err.to_string())
}

fn forwarder_accepts(setting: &str, value: &str) -> bool {
    let taken = forwarder_takes(setting, value);
    if let Err(why) = &taken {
        eprintln!("{setting}={value:.20}: {why}");
    }
    taken.is_ok()
}

#[test]
fn the_template_accepts_exactly_the_values_the_forwarder_accepts() {
    let bulk = &template()["Parameters"]["BulkMaxBytes"];
    let (min, max) = (
        bulk["MinValue"].as_u64().expect("min"),
        bulk["MaxValue"].as_u64().expect("max"),
    );
    for (value, inside) in [(min - 1, false), (min, true), (max, true), (max + 1, false)] {
        assert_eq!(
            forwarder_accepts("BULK_MAX_BYTES", &value.to_string()),
            inside,
            "BULK_MAX_BYTES={value}: the template allows {min} to {max}"
        );
    }

    let days: Vec<String> = ["0", "1", "9999", "10000", "36500", "36501"]
        .map(str::to_string)
        .to_vec();
    let template_says = pattern_accepts("IndexRetentionDays", &days);
    for (value, template_says) in days.iter().zip(template_says) {
        assert_eq!(
            forwarder_accepts("INDEX_RETENTION_DAYS", value),
            template_says,
            "INDEX_RETENTION_DAYS={value}"
        );
    }

    let windows: Vec<String> = [
        "0,1",
        "1,0",
        "3650,1",
        "90",
        "36500,36500",
        "36501,1",
        "1,36501",
        "1,",
    ]
    .map(str::to_string)
    .to_vec();
    let template_says = pattern_accepts("IndexTimeWindowDays", &windows);
    for (value, template_says) in windows.iter().zip(template_says) {
        assert_eq!(
            forwarder_accepts("INDEX_TIME_WINDOW_DAYS", value),
            template_says,
            "INDEX_TIME_WINDOW_DAYS={value}"
        );
    }

    let prefixes: Vec<String> = [1, 64, 65, 128, 129].map(|len| "a".repeat(len)).to_vec();
    let template_says = pattern_accepts("IndexPrefix", &prefixes);
    for (value, template_says) in prefixes.iter().zip(template_says) {
        assert_eq!(
            forwarder_accepts("INDEX_PREFIX", value),
            template_says,
            "INDEX_PREFIX of {} characters",
            value.len()
        );
    }
}

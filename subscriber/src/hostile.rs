//! What must hold for any input, the subscriber's part (the forwarder's is
//! `sluice_forwarder::hostile`): the bodies of the fuzz targets `subscriber_config` and
//! `subscriber_event`, replayed on the stable toolchain by `hostile/tests.rs` with every seed of
//! `fuzz/corpus/<target>/` and every input that ever failed, kept in `fuzz/regressions/<target>/`.
//! A check panics when what must hold does not: a setting that does not validate is one line of
//! error, an event the handler does not understand is an `Err`, and the rules decide the same
//! way every time, an exclude pattern winning over an include.

use serde_json::Value;
use sluice_edge::settings::positional_lookup;

use crate::config::{Config, RawConfig};
use crate::handler::Request;
use crate::rules::{Rules, Selection};

/// A check: runs the code under test on any bytes and panics when what must hold does not.
pub type Check = fn(&[u8]);

/// Every check, by the name of its fuzz target and corpus folder.
pub const TARGETS: &[(&str, Check)] = &[
    ("subscriber_config", subscriber_config),
    ("subscriber_event", subscriber_event),
];

/// The subscriber's settings: the input's lines are the values of the settings in the order the
/// subscriber reads them (an empty line: unset). Validation, for subscribing and for
/// unsubscribing, is `Ok` or an `Err` of one line; a valid configuration's rules decide the
/// input's last line as a log group name.
pub fn subscriber_config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let raw = RawConfig::from_lookup(positional_lookup(&text));
    let name = text.rsplit('\n').next().unwrap_or_default();
    for config in [raw.validate(), raw.validate_for_unsubscribe()] {
        match config {
            Ok(config) => check_rules(&config, name),
            Err(error) => check_one_line(&error.to_string()),
        }
    }
}

/// An invocation's payload as JSON text (a CloudTrail event through EventBridge, a scheduled
/// event, a direct payload): read as a request or an `Err` of one line; the log group of a
/// `CreateLogGroup` or tagging call is not empty, and the default rules decide it.
pub fn subscriber_event(data: &[u8]) {
    let Ok(payload) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    match Request::parse(&payload) {
        Ok(Request::Created { log_group } | Request::Retagged { log_group }) => {
            assert!(!log_group.is_empty(), "a request for a log group without a name");
            let config = RawConfig::from_pairs(&[
                (
                    "DESTINATION_ARN",
                    "arn:aws:lambda:us-east-1:123456789012:function:sluice-forwarder",
                ),
                ("EXCLUDE_PATTERNS", "/aws/lambda/sluice-*"),
            ])
            .validate()
            .expect("the default rules validate");
            check_rules(&config, &log_group);
        }
        Ok(_) => {}
        Err(error) => check_one_line(&error.to_string()),
    }
}

/// The rules decide `name` the same way twice, their fingerprint is stable, and a name an
/// exclude pattern matches is never selected.
fn check_rules(config: &Config, name: &str) {
    let rules = Rules::new(config);
    assert_eq!(
        rules.fingerprint(),
        Rules::new(config).fingerprint(),
        "a stable fingerprint"
    );
    for class in [None, Some("STANDARD"), Some("INFREQUENT_ACCESS")] {
        let selection = rules.select(name, class);
        assert_eq!(selection, rules.select(name, class), "the same decision twice");
        if config.exclude.iter().any(|glob| glob.matches(name)) {
            assert_ne!(
                selection,
                Selection::Selected,
                "{name:?} is excluded yet selected"
            );
        }
    }
}

/// An error is one line, not empty.
pub fn check_one_line(error: &str) {
    assert!(!error.is_empty(), "an empty error");
    assert!(!error.contains('\n'), "an error of several lines: {error:?}");
}

#[cfg(test)]
mod tests;

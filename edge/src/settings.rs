//! Settings declared once, as a clap-derived struct of raw strings whose every field is
//! `#[arg(long, env = "NAME")]`: clap reads them from flags and the environment on the command
//! line, and [`from_lookup`] reads the same struct through a lookup function (Lambda's environment,
//! or a test's map), so no list of names is written twice. Then each raw value is checked into a
//! typed one ([`text`], [`boolean`], [`number`], [`choice`] for a keyword declared as a
//! [`clap::ValueEnum`], [`log_level`]), refused with the one [`SettingError`] of both functions.

mod error;
mod value;

pub use error::SettingError;
pub use value::{
    Keyword, boolean, choice, keyword, keyword_without_default, keywords, log_level, number, optional_choice,
    optional_number, text,
};

use clap::{Args, Command, FromArgMatches};

/// Variables Lambda sets itself: a function may read them as settings, but a deployment does not
/// set them, so [`names`] leaves them out.
pub const SET_BY_LAMBDA: [&str; 2] = ["AWS_REGION", "AWS_LAMBDA_FUNCTION_NAME"];

/// Reads the settings `T` declares through `lookup`, asked once for each field's environment
/// variable name; an empty answer counts as unset. The process environment is not consulted.
///
/// # Panics
/// When `T` refuses the values clap hands it, which a struct of `Option<String>` fields never
/// does: that is a mistake in `T`'s declaration.
pub fn from_lookup<T: Args + FromArgMatches>(lookup: impl Fn(&str) -> Option<String>) -> T {
    let command = command::<T>();
    let mut argv = Vec::new();
    for arg in command.get_arguments() {
        let (Some(name), Some(long)) = (arg.get_env().and_then(|name| name.to_str()), arg.get_long()) else {
            continue;
        };
        if let Some(value) = lookup(name).filter(|value| !value.is_empty()) {
            // `--flag=value` keeps a value that starts with '-' a value.
            argv.push(format!("--{long}={value}"));
        }
    }
    // clap read the process environment when the args were declared: forget it, so only the
    // lookup's answers count.
    let matches = command
        .mut_args(|arg| arg.env(None))
        .try_get_matches_from(argv)
        .and_then(|matches| T::from_arg_matches(&matches));
    match matches {
        Ok(settings) => settings,
        Err(err) => panic!(
            "{} cannot be read from a lookup: {err}",
            std::any::type_name::<T>()
        ),
    }
}

/// The environment variable names of the settings `T` declares that a deployment sets (not
/// those in [`SET_BY_LAMBDA`]), in declaration order.
pub fn names<T: Args>() -> Vec<String> {
    command::<T>()
        .get_arguments()
        .filter_map(|arg| arg.get_env())
        .map(|name| name.to_string_lossy().into_owned())
        .filter(|name| !SET_BY_LAMBDA.contains(&name.as_str()))
        .collect()
}

/// A lookup that answers the `n`th distinct name asked with the `n`th line of `text` (an empty
/// line, or no line, is unset): how the fuzz checks of both functions' settings reach every
/// setting without naming it (`sluice_forwarder::hostile`, `sluice_subscriber::hostile`).
pub fn positional_lookup(text: &str) -> impl Fn(&str) -> Option<String> + '_ {
    let values: Vec<&str> = text.split('\n').collect();
    let asked = std::cell::RefCell::new(Vec::<String>::new());
    move |name: &str| {
        let mut asked = asked.borrow_mut();
        let n = asked.iter().position(|seen| seen == name).unwrap_or_else(|| {
            asked.push(name.to_owned());
            asked.len() - 1
        });
        values
            .get(n)
            .filter(|value| !value.is_empty())
            .map(|value| value.to_string())
    }
}

fn command<T: Args>() -> Command {
    T::augment_args(
        Command::new("settings")
            .no_binary_name(true)
            .disable_help_flag(true),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two settings as the functions declare theirs, and one that is not a setting.
    #[derive(Debug, Default, PartialEq, clap::Args)]
    struct Settings {
        /// Where to send.
        #[arg(long, env = "SLUICE_EDGE_TEST_ENDPOINT")]
        endpoint: Option<String>,
        /// How far back.
        #[arg(long, env = "SLUICE_EDGE_TEST_RETENTION_DAYS")]
        retention_days: Option<String>,
        /// Set by Lambda.
        #[arg(long, env = "AWS_REGION")]
        region: Option<String>,
        /// Set by code, never by the lookup.
        #[arg(skip)]
        own_name: Option<String>,
    }

    fn lookup<'a>(pairs: &'a [(&str, &str)]) -> impl Fn(&str) -> Option<String> + 'a {
        |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_string())
        }
    }

    #[test]
    fn the_lookup_answers_the_names_it_knows_and_the_rest_stay_unset() {
        let settings: Settings = from_lookup(lookup(&[
            ("SLUICE_EDGE_TEST_RETENTION_DAYS", "-3"),
            ("own_name", "ignored"),
            ("OTHER", "ignored"),
        ]));
        assert_eq!(
            settings,
            Settings {
                retention_days: Some("-3".into()),
                ..Settings::default()
            }
        );
    }

    #[test]
    fn values_are_taken_whole() {
        let value = "https://user@host:9200/a=b --retention-days=1 ünïcode";
        let settings: Settings = from_lookup(lookup(&[("SLUICE_EDGE_TEST_ENDPOINT", value)]));
        assert_eq!(settings.endpoint.as_deref(), Some(value));
        assert_eq!(settings.retention_days, None);
    }

    #[test]
    fn an_empty_value_is_unset() {
        let settings: Settings = from_lookup(lookup(&[
            ("SLUICE_EDGE_TEST_ENDPOINT", ""),
            ("SLUICE_EDGE_TEST_RETENTION_DAYS", "30"),
        ]));
        assert_eq!(settings.endpoint, None);
        assert_eq!(settings.retention_days.as_deref(), Some("30"));
    }

    #[test]
    fn the_process_environment_is_not_consulted() {
        // A variable every test process has stands in for a setting: clap would read it at
        // declaration time, the lookup must not.
        #[derive(Debug, clap::Args)]
        struct Path {
            #[arg(long, env = "PATH")]
            path: Option<String>,
        }
        assert!(std::env::var_os("PATH").is_some(), "the test needs PATH set");
        let settings: Path = from_lookup(|_| None);
        assert_eq!(settings.path, None);
        let settings: Path = from_lookup(|name| (name == "PATH").then(|| "/opt/bin".to_string()));
        assert_eq!(settings.path.as_deref(), Some("/opt/bin"));
    }

    #[test]
    fn names_lists_every_setting_in_order() {
        assert_eq!(
            names::<Settings>(),
            ["SLUICE_EDGE_TEST_ENDPOINT", "SLUICE_EDGE_TEST_RETENTION_DAYS"]
        );
    }

    #[test]
    fn the_positional_lookup_answers_each_name_with_its_line() {
        let lookup = positional_lookup("first\n\nthird");
        assert_eq!(lookup("A").as_deref(), Some("first"));
        assert_eq!(lookup("B"), None);
        assert_eq!(lookup("A").as_deref(), Some("first"));
        assert_eq!(lookup("C").as_deref(), Some("third"));
        assert_eq!(lookup("D"), None);
    }
}

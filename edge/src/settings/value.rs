//! The second stage of reading settings: a raw value (a string or unset) checked into a typed
//! one. Every helper trims the value, takes an empty one as unset, and refuses with a
//! [`SettingError`] that names the setting.

use std::ffi::OsStr;
use std::fmt::Display;
use std::ops::RangeInclusive;
use std::str::FromStr;

use clap::ValueEnum;
use clap::builder::{PossibleValue, StringValueParser, TypedValueParser};

use super::SettingError;

/// A setting's value, trimmed; `None` when unset or empty.
pub fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|value| !value.is_empty())
}

/// A `true`/`false` setting (in any case); `default` when unset.
pub fn boolean(value: &Option<String>, setting: &'static str, default: bool) -> Result<bool, SettingError> {
    let Some(text) = text(value) else {
        return Ok(default);
    };
    match text.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(SettingError::invalid(setting, text, "expected true or false")),
    }
}

/// A whole number within `range`; `default` when unset.
pub fn number<T>(
    value: &Option<String>,
    setting: &'static str,
    default: T,
    range: RangeInclusive<T>,
) -> Result<T, SettingError>
where
    T: FromStr + PartialOrd + Display + Copy,
{
    Ok(optional_number(value, setting, range)?.unwrap_or(default))
}

/// A whole number within `range`; `None` when unset.
pub fn optional_number<T>(
    value: &Option<String>,
    setting: &'static str,
    range: RangeInclusive<T>,
) -> Result<Option<T>, SettingError>
where
    T: FromStr + PartialOrd + Display + Copy,
{
    let Some(text) = text(value) else {
        return Ok(None);
    };
    match text.parse::<T>() {
        Ok(number) if range.contains(&number) => Ok(Some(number)),
        _ => Err(SettingError::invalid(
            setting,
            text,
            format_args!("expected a number from {} to {}", range.start(), range.end()),
        )),
    }
}

/// A keyword setting: one of the names `T` declares (exactly, case included), `T::default()`
/// when unset. The error lists the names.
pub fn choice<T: ValueEnum + Default>(
    value: &Option<String>,
    setting: &'static str,
) -> Result<T, SettingError> {
    Ok(optional_choice(value, setting)?.unwrap_or_default())
}

/// A keyword setting that has no default keyword (unset means something else); `None` when unset.
pub fn optional_choice<T: ValueEnum>(
    value: &Option<String>,
    setting: &'static str,
) -> Result<Option<T>, SettingError> {
    let Some(text) = text(value) else {
        return Ok(None);
    };
    T::from_str(text, false).map(Some).map_err(|_| {
        SettingError::invalid(
            setting,
            text,
            format_args!("expected one of {}", keywords::<T>().join(", ")),
        )
    })
}

/// The names `T` accepts, in declaration order.
pub fn keywords<T: ValueEnum>() -> Vec<String> {
    T::value_variants()
        .iter()
        .filter_map(ValueEnum::to_possible_value)
        .map(|value| value.get_name().to_string())
        .collect()
}

/// `LOG_LEVEL`: a level or `tracing` directives ([`crate::check_log_level`]); `default` when
/// unset.
pub fn log_level(value: &Option<String>, default: &str) -> Result<String, SettingError> {
    let Some(level) = text(value) else {
        return Ok(default.to_string());
    };
    crate::check_log_level(level).map_err(|reason| SettingError::invalid("LOG_LEVEL", level, reason))?;
    Ok(level.to_string())
}

/// The value parser of a keyword setting's flag: `--help` lists the names `T` declares, each
/// with its doc comment and the default marked, but any string is taken, so that a flag and its
/// environment variable are refused alike, by [`choice`], in one line naming the setting.
pub fn keyword<T: ValueEnum + Default + PartialEq>() -> Keyword {
    let default = T::default();
    let values = T::value_variants().iter().filter_map(|variant| {
        let value = variant.to_possible_value()?;
        if *variant != default {
            return Some(value);
        }
        let help = match value.get_help() {
            Some(help) => format!("{help} (default)"),
            None => "the default".to_string(),
        };
        Some(value.help(help))
    });
    Keyword(values.collect())
}

/// [`keyword`] for a setting read by [`optional_choice`]: no name is the default.
pub fn keyword_without_default<T: ValueEnum>() -> Keyword {
    Keyword(
        T::value_variants()
            .iter()
            .filter_map(ValueEnum::to_possible_value)
            .collect(),
    )
}

/// See [`keyword`].
#[derive(Debug, Clone)]
pub struct Keyword(Vec<PossibleValue>);

impl TypedValueParser for Keyword {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(self.0.iter().cloned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How often, as a setting declares a keyword.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
    enum Every {
        /// Each hour.
        Hour,
        /// Each day.
        #[default]
        Day,
        #[value(name = "ByMonth")]
        Month,
    }

    fn some(text: &str) -> Option<String> {
        Some(text.to_string())
    }

    #[test]
    fn keywords_are_read_exactly_and_refused_with_the_names() {
        assert_eq!(choice::<Every>(&None, "EVERY"), Ok(Every::Day));
        assert_eq!(choice::<Every>(&some(" "), "EVERY"), Ok(Every::Day));
        assert_eq!(choice::<Every>(&some(" hour "), "EVERY"), Ok(Every::Hour));
        assert_eq!(choice::<Every>(&some("ByMonth"), "EVERY"), Ok(Every::Month));
        let err = choice::<Every>(&some("bymonth"), "EVERY").unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"EVERY="bymonth" is not valid: expected one of hour, day, ByMonth"#
        );
    }

    #[test]
    fn numbers_are_whole_and_within_their_range() {
        assert_eq!(number(&None, "N", 4, 1..=64), Ok(4));
        assert_eq!(number(&some(" 64"), "N", 4, 1..=64), Ok(64));
        assert_eq!(optional_number::<u32>(&some(""), "N", 1..=9), Ok(None));
        for bad in ["0", "65", "-3", "lots", "4.5"] {
            let err = number(&some(bad), "N", 4_u32, 1..=64).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("N={bad:?} is not valid: expected a number from 1 to 64")
            );
        }
    }

    #[test]
    fn booleans_are_true_or_false_in_any_case() {
        assert_eq!(boolean(&None, "B", true), Ok(true));
        assert_eq!(boolean(&some("FALSE"), "B", true), Ok(false));
        assert_eq!(boolean(&some("True"), "B", false), Ok(true));
        let err = boolean(&some("yes"), "B", false).unwrap_err();
        assert_eq!(err.to_string(), r#"B="yes" is not valid: expected true or false"#);
    }

    #[test]
    fn a_log_level_is_checked_and_defaults() {
        assert_eq!(log_level(&None, "warn").as_deref(), Ok("warn"));
        assert_eq!(log_level(&some("debug"), "info").as_deref(), Ok("debug"));
        let err = log_level(&some("verbose"), "info").unwrap_err();
        assert!(
            err.to_string()
                .starts_with(r#"LOG_LEVEL="verbose" is not valid: expected one of trace"#)
        );
    }

    #[test]
    fn a_keyword_flag_lists_its_names_in_help_and_takes_any_string() {
        #[derive(clap::Parser)]
        struct Cli {
            /// How often.
            #[arg(long, value_parser = keyword::<Every>())]
            every: Option<String>,
        }
        use clap::{CommandFactory, Parser};
        let help = Cli::command().render_long_help().to_string();
        assert!(
            help.contains("hour") && help.contains("(default)") && help.contains("ByMonth"),
            "{help}"
        );
        let cli = Cli::try_parse_from(["cli", "--every", "weekly"]).expect("any string");
        assert_eq!(cli.every.as_deref(), Some("weekly"));
    }
}

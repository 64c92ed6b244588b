//! The one error of a setting, for both functions.

/// A setting that is missing or does not hold an acceptable value. Its message is one line that
/// names the setting (the environment variable; the flag is the same name in lower-kebab-case),
/// the value as given, and what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    /// A required setting is unset.
    #[error("{setting} is required{why}")]
    Missing {
        /// The environment variable.
        setting: &'static str,
        /// Why it is required or what it holds, starting with a space (or empty).
        why: &'static str,
    },
    /// A setting has a value that cannot be used.
    #[error("{setting}={value:?} is not valid: {reason}")]
    Invalid {
        /// The environment variable.
        setting: &'static str,
        /// The value as given.
        value: String,
        /// Why it was refused and what is accepted, on one line.
        reason: String,
    },
}

impl SettingError {
    /// `setting` is required.
    pub fn missing(setting: &'static str) -> SettingError {
        SettingError::Missing { setting, why: "" }
    }

    /// `value` of `setting` is refused for `reason`. A reason written over several lines (the
    /// regex crate points at the bad character on lines of its own) has its lines joined, so the
    /// error stays one line.
    pub fn invalid(setting: &'static str, value: &str, reason: impl std::fmt::Display) -> SettingError {
        let reason = reason.to_string();
        let lines: Vec<&str> = reason
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect();
        SettingError::Invalid {
            setting,
            value: value.to_string(),
            reason: lines.join(" "),
        }
    }

    /// The setting the error is about.
    pub fn setting(&self) -> &'static str {
        match self {
            SettingError::Missing { setting, .. } | SettingError::Invalid { setting, .. } => setting,
        }
    }

    /// The same error with `hint` after its reason, in parentheses: what the setting is for,
    /// where the generic reason (a range) does not say.
    pub fn hint(self, hint: &str) -> SettingError {
        match self {
            SettingError::Invalid {
                setting,
                value,
                reason,
            } => SettingError::Invalid {
                setting,
                value,
                reason: format!("{reason} ({hint})"),
            },
            missing @ SettingError::Missing { .. } => missing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_is_one_line_naming_the_setting_and_the_value() {
        let err = SettingError::invalid(
            "S3_KEY_REGEX",
            "(",
            "regex parse error:\n    (\n    ^\nerror: unclosed group",
        );
        assert_eq!(
            err.to_string(),
            r#"S3_KEY_REGEX="(" is not valid: regex parse error: ( ^ error: unclosed group"#
        );
        assert_eq!(err.setting(), "S3_KEY_REGEX");
        assert_eq!(
            SettingError::missing("DESTINATION_ARN").to_string(),
            "DESTINATION_ARN is required"
        );
        let hinted = SettingError::invalid("SUBSCRIBER_CONCURRENCY", "0", "expected a number from 1 to 1000")
            .hint("the function's reserved concurrency");
        assert!(
            hinted
                .to_string()
                .ends_with("1 to 1000 (the function's reserved concurrency)"),
            "{hinted}"
        );
    }
}

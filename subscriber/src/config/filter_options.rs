//! The subscription filter parameters for centralized and transformed logs: `EMIT_SYSTEM_FIELDS`,
//! `FIELD_SELECTION_CRITERIA` and `APPLY_ON_TRANSFORMED_LOGS`, checked against the CloudWatch Logs
//! API Reference, PutSubscriptionFilter
//! (<https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutSubscriptionFilter.html>).

use std::fmt;

use clap::ValueEnum;
use serde::Serialize;
use sluice_edge::settings::{SettingError, boolean, keywords, text};

use super::RawConfig;

/// The longest `fieldSelectionCriteria` PutSubscriptionFilter accepts (2000 characters).
pub const FIELD_SELECTION_CRITERIA_MAX_CHARS: usize = 2000;

/// A system field CloudWatch Logs can add to each event it sends (`emitSystemFields`), saying
/// where a centralized event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, ValueEnum)]
pub enum SystemField {
    /// The account the event was first written in.
    #[value(name = "@aws.account")]
    #[serde(rename = "@aws.account")]
    Account,
    /// The region the event was first written in.
    #[value(name = "@aws.region")]
    #[serde(rename = "@aws.region")]
    Region,
    /// The log group the event was first written to.
    #[value(name = "@source.log")]
    #[serde(rename = "@source.log")]
    SourceLog,
}

impl SystemField {
    /// The name the API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            SystemField::Account => "@aws.account",
            SystemField::Region => "@aws.region",
            SystemField::SourceLog => "@source.log",
        }
    }
}

impl fmt::Display for SystemField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What Sluice's filter says beyond destination and pattern: the same on every filter it writes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FilterOptions {
    /// `emitSystemFields`, sorted and without repeats (the API's list is compared as a set).
    pub emit_system_fields: Vec<SystemField>,
    /// `fieldSelectionCriteria`; `None` selects every event.
    pub field_selection_criteria: Option<String>,
    /// `applyOnTransformedLogs`: the filter sees the events as the group's transformer left them.
    pub apply_on_transformed_logs: bool,
}

impl FilterOptions {
    /// The names of `emit_system_fields`, as the API takes them.
    pub fn system_field_names(&self) -> Vec<String> {
        self.emit_system_fields
            .iter()
            .map(|f| f.as_str().to_string())
            .collect()
    }

    /// The first option set, as its setting and value, to name in a refusal.
    pub fn first_set(&self) -> Option<(&'static str, String)> {
        if !self.emit_system_fields.is_empty() {
            Some(("EMIT_SYSTEM_FIELDS", self.system_field_names().join(",")))
        } else if let Some(criteria) = &self.field_selection_criteria {
            Some(("FIELD_SELECTION_CRITERIA", criteria.clone()))
        } else if self.apply_on_transformed_logs {
            Some(("APPLY_ON_TRANSFORMED_LOGS", "true".to_string()))
        } else {
            None
        }
    }
}

/// Reads the three settings.
pub(super) fn filter_options(raw: &RawConfig) -> Result<FilterOptions, SettingError> {
    Ok(FilterOptions {
        emit_system_fields: system_fields(text(&raw.emit_system_fields).unwrap_or(""))?,
        field_selection_criteria: field_selection_criteria(&raw.field_selection_criteria)?,
        apply_on_transformed_logs: boolean(
            &raw.apply_on_transformed_logs,
            "APPLY_ON_TRANSFORMED_LOGS",
            false,
        )?,
    })
}

/// `EMIT_SYSTEM_FIELDS`: a comma-separated list of the names [`SystemField`] declares.
fn system_fields(list: &str) -> Result<Vec<SystemField>, SettingError> {
    let mut fields = list
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| {
            SystemField::from_str(name, false).map_err(|_| {
                SettingError::invalid(
                    "EMIT_SYSTEM_FIELDS",
                    name,
                    format_args!(
                        "expected a comma-separated list of {}",
                        keywords::<SystemField>().join(", ")
                    ),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    fields.sort();
    fields.dedup();
    Ok(fields)
}

/// `FIELD_SELECTION_CRITERIA`: at most 2000 characters, and only over system fields (the API:
/// "based on system fields such as source account and source region").
fn field_selection_criteria(value: &Option<String>) -> Result<Option<String>, SettingError> {
    let Some(criteria) = text(value) else {
        return Ok(None);
    };
    if criteria.chars().count() > FIELD_SELECTION_CRITERIA_MAX_CHARS {
        return Err(SettingError::invalid(
            "FIELD_SELECTION_CRITERIA",
            criteria,
            format_args!("at most {FIELD_SELECTION_CRITERIA_MAX_CHARS} characters"),
        ));
    }
    if !keywords::<SystemField>()
        .iter()
        .any(|field| criteria.contains(field.as_str()))
    {
        return Err(SettingError::invalid(
            "FIELD_SELECTION_CRITERIA",
            criteria,
            format_args!(
                "expected an expression over the system fields {}, e.g. @aws.region NOT IN [\"cn-north-1\"]",
                keywords::<SystemField>().join(", ")
            ),
        ));
    }
    Ok(Some(criteria.to_string()))
}

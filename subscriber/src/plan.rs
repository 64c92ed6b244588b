//! The decision for each log group, from its existing filters and the rules: a [`GroupPlan`]
//! per group and a [`Plan`] that prints as a table (Display) or JSON (Serialize).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::account::PolicyPlan;
use crate::config::{Config, FilterOptions, RetentionMode, SubscriptionScope};
use crate::rules::{Rules, Selection};

/// A log group as DescribeLogGroups reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogGroup {
    /// Its name.
    pub name: String,
    /// Its retention; `None` never expires.
    pub retention_days: Option<i32>,
    /// Its class (`STANDARD`, `INFREQUENT_ACCESS`, `DELIVERY`); `None` when not reported.
    pub class: Option<String>,
    /// Its ARN without the trailing `:*` (`logGroupArn`), for the tagging APIs; `None` when not reported.
    pub arn: Option<String>,
    /// Its tags, read only when tag rules are set and the name rules select it.
    pub tags: Option<BTreeMap<String, String>>,
}

/// A subscription filter as DescribeSubscriptionFilters reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// Its name; Sluice's is `FILTER_NAME`.
    pub name: String,
    /// Where it sends events.
    pub destination_arn: String,
    /// Its pattern.
    pub filter_pattern: String,
    /// Its distribution, when reported.
    pub distribution: Option<String>,
    /// Its role, when it has one.
    pub role_arn: Option<String>,
    /// Its `emitSystemFields` (empty when it has none).
    pub emit_system_fields: Vec<String>,
    /// Its `fieldSelectionCriteria`, when it has one.
    pub field_selection_criteria: Option<String>,
    /// Its `applyOnTransformedLogs` (`false` when not reported).
    pub apply_on_transformed_logs: bool,
}

/// Whether a pass subscribes or removes Sluice's filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Attach or update Sluice's filter where the rules select the group.
    #[default]
    Subscribe,
    /// Remove Sluice's own filters, wherever they are.
    Unsubscribe,
}

/// Whether a pass makes the changes it plans, or only plans them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Run {
    /// Make the write calls the plan asks for.
    #[default]
    Apply,
    /// Plan only; change nothing.
    DryRun,
}

impl Run {
    /// `DryRun` when `dry_run` (a flag, or a payload's field), else `Apply`.
    pub fn dry_run_if(dry_run: bool) -> Run {
        if dry_run { Run::DryRun } else { Run::Apply }
    }

    /// Whether nothing is changed.
    pub fn is_dry_run(self) -> bool {
        self == Run::DryRun
    }
}

/// Whether a pass looks at the groups the name rules exclude, to remove Sluice's filter from
/// those that still carry it (a backfill, or a pass after the rules changed), or skips them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Excluded {
    /// An excluded group costs no call (and keeps a filter of Sluice's it may still carry).
    #[default]
    Skip,
    /// Every excluded group's filters are read.
    Check,
}

impl Excluded {
    /// `Check` when `check` (a continuation's field), else `Skip`.
    pub fn check_if(check: bool) -> Excluded {
        if check { Excluded::Check } else { Excluded::Skip }
    }
}

/// The one action for a log group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Put Sluice's filter: it has none and a slot is free.
    Subscribe,
    /// Sluice's filter exists with another destination, pattern, distribution, role, system
    /// fields, field selection criteria or transformed-logs choice.
    Update,
    /// Nothing to change for the filter.
    Unchanged,
    /// The rules leave it alone.
    Excluded,
    /// Every filter slot (`MAX_FILTERS_PER_GROUP`) is taken by filters that are not Sluice's, or
    /// CloudWatch Logs refused Sluice's filter with `LimitExceededException`.
    Conflict,
    /// Its class takes no subscription filter.
    Unsupported,
    /// Delete Sluice's filter: on unsubscribe, or when the rules no longer select the group.
    Remove,
}

impl Action {
    /// The name printed and serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Subscribe => "subscribe",
            Action::Update => "update",
            Action::Unchanged => "unchanged",
            Action::Excluded => "excluded",
            Action::Conflict => "conflict",
            Action::Unsupported => "unsupported",
            Action::Remove => "remove",
        }
    }

    /// Whether the action writes the filter.
    pub fn writes(self) -> bool {
        matches!(self, Action::Subscribe | Action::Update | Action::Remove)
    }
}

/// The decision for one log group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupPlan {
    /// The log group.
    pub log_group: String,
    /// What happens to Sluice's filter.
    pub action: Action,
    /// Why, in words.
    pub reason: String,
    /// Retention to set (days), when it changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_retention_days: Option<i32>,
    /// Set after apply when a write failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Plans one log group given its existing filters.
pub fn plan_group(
    config: &Config,
    rules: &Rules,
    mode: Mode,
    group: &LogGroup,
    filters: &[Filter],
) -> GroupPlan {
    let ours = filters.iter().find(|filter| filter.name == config.filter_name);
    let plan = |action: Action, reason: String, retention: Option<i32>| GroupPlan {
        log_group: group.name.clone(),
        action,
        reason,
        set_retention_days: retention,
        error: None,
    };
    if mode == Mode::Unsubscribe {
        return match ours {
            Some(_) => plan(
                Action::Remove,
                format!("has Sluice's filter {}", config.filter_name),
                None,
            ),
            None => plan(Action::Unchanged, "no Sluice filter".into(), None),
        };
    }
    let mut selection = rules.select(&group.name, group.class.as_deref());
    if selection == Selection::Selected && rules.has_tag_rules() {
        selection = rules.select_tags(group.tags.as_ref().unwrap_or(&BTreeMap::new()));
    }
    match selection {
        Selection::Excluded(why) if ours.is_some() => {
            return plan(Action::Remove, format!("no longer selected: {why}"), None);
        }
        Selection::Excluded(why) => return plan(Action::Excluded, why, None),
        Selection::Unsupported(why) => return plan(Action::Unsupported, why, None),
        Selection::Selected => {}
    }
    let retention = retention_to_set(config, group.retention_days);
    if config.scope == SubscriptionScope::Account {
        // The account policy delivers this group's events; a filter of its own would repeat them.
        let (action, reason) = match ours {
            Some(_) => (
                Action::Remove,
                "covered by the account policy: Sluice's own filter would deliver every event twice",
            ),
            None => (Action::Unchanged, "covered by the account policy"),
        };
        return plan(action, reason.to_string(), retention);
    }
    let (action, reason) = match ours {
        Some(filter) => match differences(config, filter) {
            differs if differs.is_empty() => (Action::Unchanged, "Sluice's filter is as configured".into()),
            differs => (
                Action::Update,
                format!("Sluice's filter has another {}", differs.join(", ")),
            ),
        },
        None if filters.len() >= config.max_filters_per_group => {
            let names: Vec<&str> = filters.iter().map(|f| f.name.as_str()).collect();
            (
                Action::Conflict,
                format!(
                    "all {} filter slots (MAX_FILTERS_PER_GROUP) are taken by {}",
                    config.max_filters_per_group,
                    names.join(", ")
                ),
            )
        }
        None => (Action::Subscribe, "no Sluice filter and a slot is free".into()),
    };
    plan(action, reason, retention)
}

/// What a subscribing pass assumes about the groups it always leaves alone, for the plan's
/// reader: the command line knows the subscriber's function only from a setting, and without it
/// would plan `subscribe` where the function plans `excluded`.
pub fn plan_notes(rules: &Rules, own_function_known: bool) -> Vec<String> {
    let mut notes: Vec<String> = rules
        .left_alone()
        .iter()
        .map(|(group, why)| format!("{group} is left alone whatever the rules: {why}"))
        .collect();
    if !own_function_known {
        notes.push(
            "the subscriber's own log group is unknown, so the rules decide for it: set \
             SUBSCRIBER_FUNCTION_NAME (--subscriber-function-name; the stack's output \
             SubscriberFunctionName) to leave it alone as the subscriber function does"
                .to_string(),
        );
    }
    notes
}

impl GroupPlan {
    /// Turns a planned `subscribe` into a `conflict` once CloudWatch Logs refused the filter with
    /// `LimitExceededException`: the account allows fewer filters per group than configured.
    pub fn refused_by_limit(&mut self, max_filters_per_group: usize) {
        self.action = Action::Conflict;
        self.reason = format!(
            "CloudWatch Logs refused another filter (LimitExceededException): this account allows \
             fewer than MAX_FILTERS_PER_GROUP={max_filters_per_group} filters per group"
        );
    }
}

/// Which settings of our existing filter differ from the configuration; the filter options
/// with their value in place and the one configured, for the dry run to show.
fn differences(config: &Config, filter: &Filter) -> Vec<String> {
    let mut differs = Vec::new();
    if Some(filter.destination_arn.as_str()) != config.destination.as_ref().map(|d| d.arn.as_str()) {
        differs.push("destination".to_string());
    }
    if filter.filter_pattern != config.filter_pattern {
        differs.push("pattern".to_string());
    }
    // Distribution only matters for Kinesis; when the API does not report it, leave it be.
    if config.needs_role()
        && filter
            .distribution
            .as_deref()
            .is_some_and(|d| d != config.distribution.as_str())
    {
        differs.push("distribution".to_string());
    }
    if filter.role_arn.as_deref() != config.filter_role_arn() && config.needs_role() {
        differs.push("role".to_string());
    }
    differs.extend(option_differences(&config.filter_options, filter));
    differs
}

/// The filter options that differ, each as `name (in place → configured)`.
fn option_differences(options: &FilterOptions, filter: &Filter) -> Vec<String> {
    let listed = |names: &[String]| match names {
        [] => "none".to_string(),
        names => names.join(","),
    };
    let mut differs = Vec::new();
    let mut had: Vec<String> = filter.emit_system_fields.clone();
    had.sort();
    had.dedup();
    let wanted = options.system_field_names();
    if had != wanted {
        differs.push(format!(
            "emitSystemFields ({} → {})",
            listed(&had),
            listed(&wanted)
        ));
    }
    if filter.field_selection_criteria != options.field_selection_criteria {
        let shown = |criteria: &Option<String>| criteria.clone().unwrap_or_else(|| "none".into());
        differs.push(format!(
            "fieldSelectionCriteria ({} → {})",
            shown(&filter.field_selection_criteria),
            shown(&options.field_selection_criteria)
        ));
    }
    if filter.apply_on_transformed_logs != options.apply_on_transformed_logs {
        differs.push(format!(
            "applyOnTransformedLogs ({} → {})",
            filter.apply_on_transformed_logs, options.apply_on_transformed_logs
        ));
    }
    differs
}

/// Retention never shortens unless enforcement was asked for.
fn retention_to_set(config: &Config, current: Option<i32>) -> Option<i32> {
    let days = config.retention_days?;
    match (config.retention_mode, current) {
        (_, None) => Some(days),
        (RetentionMode::Enforce, Some(now)) if now != days => Some(days),
        _ => None,
    }
}

/// Counts per action, plus retention changes and failures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Log groups looked at.
    pub seen: u64,
    /// `subscribe` actions.
    pub subscribe: u64,
    /// `update` actions.
    pub update: u64,
    /// `unchanged` actions.
    pub unchanged: u64,
    /// `excluded` actions.
    pub excluded: u64,
    /// `conflict` actions.
    pub conflict: u64,
    /// `unsupported` actions.
    pub unsupported: u64,
    /// `remove` actions.
    pub remove: u64,
    /// Retention policies set (or to set, in a dry run).
    pub retention_set: u64,
    /// Log groups whose writes failed.
    pub errors: u64,
}

impl Totals {
    /// Counts one planned (and possibly applied) group.
    pub fn add(&mut self, group: &GroupPlan) {
        self.seen += 1;
        *match group.action {
            Action::Subscribe => &mut self.subscribe,
            Action::Update => &mut self.update,
            Action::Unchanged => &mut self.unchanged,
            Action::Excluded => &mut self.excluded,
            Action::Conflict => &mut self.conflict,
            Action::Unsupported => &mut self.unsupported,
            Action::Remove => &mut self.remove,
        } += 1;
        if group.set_retention_days.is_some() && group.error.is_none() {
            self.retention_set += 1;
        }
        if group.error.is_some() {
            self.errors += 1;
        }
    }

    /// The counts added since `earlier` (this invocation's share of a continued pass).
    pub fn since(&self, earlier: &Totals) -> Totals {
        Totals {
            seen: self.seen.saturating_sub(earlier.seen),
            subscribe: self.subscribe.saturating_sub(earlier.subscribe),
            update: self.update.saturating_sub(earlier.update),
            unchanged: self.unchanged.saturating_sub(earlier.unchanged),
            excluded: self.excluded.saturating_sub(earlier.excluded),
            conflict: self.conflict.saturating_sub(earlier.conflict),
            unsupported: self.unsupported.saturating_sub(earlier.unsupported),
            remove: self.remove.saturating_sub(earlier.remove),
            retention_set: self.retention_set.saturating_sub(earlier.retention_set),
            errors: self.errors.saturating_sub(earlier.errors),
        }
    }
}

impl fmt::Display for Totals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} log groups: {} subscribe, {} update, {} unchanged, {} excluded, {} conflict, \
             {} unsupported, {} remove; retention set on {}; {} failed",
            self.seen,
            self.subscribe,
            self.update,
            self.unchanged,
            self.excluded,
            self.conflict,
            self.unsupported,
            self.remove,
            self.retention_set,
            self.errors
        )
    }
}

/// A whole pass: one row per log group and the totals. `dry_run` says whether it was applied.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Plan {
    /// Subscribe or unsubscribe.
    pub mode: Mode,
    /// Whether writes were skipped.
    pub dry_run: bool,
    /// What the plan assumed, printed above the rows: the log groups Sluice leaves alone
    /// whatever the rules and which setting named them, or that one is unknown.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The account policy step that comes before the groups (`SUBSCRIPTION_SCOPE=account`: the
    /// policy is in place before Sluice's per-group filters go).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_before: Option<PolicyPlan>,
    /// One row per log group, in DescribeLogGroups order.
    pub groups: Vec<GroupPlan>,
    /// The account policy step that comes after the groups (unsubscribe, or back to `log-group`
    /// once the per-group filters are in place).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_after: Option<PolicyPlan>,
    /// Counts over `groups`.
    pub totals: Totals,
}

impl Plan {
    /// Adds one row and counts it.
    pub fn push(&mut self, group: GroupPlan) {
        self.totals.add(&group);
        self.groups.push(group);
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .groups
            .iter()
            .map(|g| g.log_group.chars().count())
            .max()
            .unwrap_or(0)
            .max("LOG GROUP".len());
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        if let Some(policy) = &self.policy_before {
            write!(f, "step 1, {policy}")?;
        }
        writeln!(
            f,
            "{:<11}  {:<9}  {:<width$}  REASON",
            "ACTION", "RETENTION", "LOG GROUP"
        )?;
        for group in &self.groups {
            let retention = group
                .set_retention_days
                .map(|days| format!("{days}d"))
                .unwrap_or_else(|| "-".into());
            write!(
                f,
                "{:<11}  {:<9}  {:<width$}  {}",
                group.action.as_str(),
                retention,
                group.log_group,
                group.reason
            )?;
            if let Some(error) = &group.error {
                write!(f, " (FAILED: {error})")?;
            }
            writeln!(f)?;
        }
        if let Some(policy) = &self.policy_after {
            write!(f, "then, {policy}")?;
        }
        let verb = if self.dry_run {
            "planned (dry run, nothing changed)"
        } else {
            "applied"
        };
        writeln!(f, "{verb}: {}", self.totals)
    }
}

#[cfg(test)]
mod tests;

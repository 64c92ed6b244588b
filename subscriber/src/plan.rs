//! The decision for each log group, from its existing filters and the rules: a [`GroupPlan`]
//! per group and a [`Plan`] that prints as a table (Display) or JSON (Serialize).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::config::{Config, RetentionMode};
use crate::rules::{Rules, Selection};

/// CloudWatch Logs allows this many subscription filters per log group.
pub const FILTER_SLOTS: usize = 2;

/// A log group as DescribeLogGroups reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogGroup {
    /// Its name.
    pub name: String,
    /// Its retention; `None` never expires.
    pub retention_days: Option<i32>,
    /// Its class (`STANDARD`, `INFREQUENT_ACCESS`, `DELIVERY`); `None` when not reported.
    pub class: Option<String>,
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

/// The one action for a log group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Put Sluice's filter: it has none and a slot is free.
    Subscribe,
    /// Sluice's filter exists with another destination, pattern, distribution or role.
    Update,
    /// Nothing to change for the filter.
    Unchanged,
    /// The rules leave it alone.
    Excluded,
    /// Both filter slots are taken by filters that are not Sluice's.
    Conflict,
    /// Its class takes no subscription filter.
    Unsupported,
    /// Unsubscribe: delete Sluice's filter.
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
    match rules.select(&group.name, group.class.as_deref()) {
        Selection::Excluded(why) => return plan(Action::Excluded, why, None),
        Selection::Unsupported(why) => return plan(Action::Unsupported, why, None),
        Selection::Selected => {}
    }
    let retention = retention_to_set(config, group.retention_days);
    let (action, reason) = match ours {
        Some(filter) => match differences(config, filter) {
            differs if differs.is_empty() => (Action::Unchanged, "Sluice's filter is as configured".into()),
            differs => (
                Action::Update,
                format!("Sluice's filter has another {}", differs.join(", ")),
            ),
        },
        None if filters.len() >= FILTER_SLOTS => {
            let names: Vec<&str> = filters.iter().map(|f| f.name.as_str()).collect();
            (
                Action::Conflict,
                format!("both filter slots are taken by {}", names.join(", ")),
            )
        }
        None => (Action::Subscribe, "no Sluice filter and a slot is free".into()),
    };
    plan(action, reason, retention)
}

/// Which settings of our existing filter differ from the configuration.
fn differences(config: &Config, filter: &Filter) -> Vec<&'static str> {
    let mut differs = Vec::new();
    if filter.destination_arn != config.destination.arn {
        differs.push("destination");
    }
    if filter.filter_pattern != config.filter_pattern {
        differs.push("pattern");
    }
    // Distribution only matters for Kinesis; when the API does not report it, leave it be.
    if config.destination.kind.needs_role()
        && filter
            .distribution
            .as_deref()
            .is_some_and(|d| d != config.distribution.as_str())
    {
        differs.push("distribution");
    }
    if filter.role_arn.as_deref() != config.filter_role_arn() && config.destination.kind.needs_role() {
        differs.push("role");
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
    /// One row per log group, in DescribeLogGroups order.
    pub groups: Vec<GroupPlan>,
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
        let verb = if self.dry_run {
            "planned (dry run, nothing changed)"
        } else {
            "applied"
        };
        writeln!(f, "{verb}: {}", self.totals)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RawConfig;

    const FORWARDER: &str = "arn:aws:lambda:us-east-1:123456789012:function:fwd";

    fn config(retention: Option<&str>, mode: Option<&str>) -> Config {
        RawConfig {
            destination_arn: Some(FORWARDER.into()),
            exclude_patterns: Some("/test/*".into()),
            retention_days: retention.map(Into::into),
            retention_mode: mode.map(Into::into),
            ..RawConfig::default()
        }
        .validate()
        .expect("valid")
    }

    fn group(name: &str, retention: Option<i32>) -> LogGroup {
        LogGroup {
            name: name.into(),
            retention_days: retention,
            class: None,
        }
    }

    fn filter(name: &str, destination: &str, pattern: &str) -> Filter {
        Filter {
            name: name.into(),
            destination_arn: destination.into(),
            filter_pattern: pattern.into(),
            distribution: Some("ByLogStream".into()),
            role_arn: None,
        }
    }

    fn action(config: &Config, group: &LogGroup, filters: &[Filter]) -> GroupPlan {
        plan_group(config, &Rules::new(config), Mode::Subscribe, group, filters)
    }

    #[test]
    fn one_action_per_situation() {
        let config = config(None, None);
        let g = group("/aws/lambda/app", Some(7));
        let elsewhere = "arn:aws:lambda:us-east-1:123456789012:function:old";
        let cases = [
            (vec![], Action::Subscribe),
            (vec![filter("blueprint", elsewhere, "")], Action::Subscribe),
            (vec![filter("sluice", FORWARDER, "")], Action::Unchanged),
            (vec![filter("sluice", elsewhere, "")], Action::Update),
            (vec![filter("sluice", FORWARDER, "ERROR")], Action::Update),
            (
                vec![filter("a", elsewhere, ""), filter("b", elsewhere, "")],
                Action::Conflict,
            ),
            (
                vec![filter("a", elsewhere, ""), filter("sluice", FORWARDER, "")],
                Action::Unchanged,
            ),
        ];
        for (filters, expected) in cases {
            assert_eq!(action(&config, &g, &filters).action, expected, "{filters:?}");
        }
        assert_eq!(
            action(&config, &group("/test/x", None), &[]).action,
            Action::Excluded
        );
        assert_eq!(
            action(&config, &group("/aws/lambda/fwd", None), &[]).action,
            Action::Excluded
        );
        let delivery = LogGroup {
            class: Some("DELIVERY".into()),
            ..g.clone()
        };
        assert_eq!(action(&config, &delivery, &[]).action, Action::Unsupported);
    }

    #[test]
    fn retention_is_never_shortened_unless_enforced() {
        let missing = config(Some("30"), None);
        assert_eq!(
            action(&missing, &group("/a", None), &[]).set_retention_days,
            Some(30)
        );
        assert_eq!(
            action(&missing, &group("/a", Some(3653)), &[]).set_retention_days,
            None
        );
        assert_eq!(
            action(&missing, &group("/a", Some(1)), &[]).set_retention_days,
            None
        );
        let enforce = config(Some("30"), Some("enforce"));
        assert_eq!(
            action(&enforce, &group("/a", Some(3653)), &[]).set_retention_days,
            Some(30)
        );
        assert_eq!(
            action(&enforce, &group("/a", Some(30)), &[]).set_retention_days,
            None
        );
        assert_eq!(
            action(&enforce, &group("/test/a", None), &[]).set_retention_days,
            None
        );
        let none = config(None, Some("enforce"));
        assert_eq!(action(&none, &group("/a", None), &[]).set_retention_days, None);
    }

    #[test]
    fn unsubscribe_removes_only_filters_named_ours() {
        let config = config(None, None);
        let rules = Rules::new(&config);
        let other = filter("other", FORWARDER, "");
        let ours = filter("sluice", "arn:aws:lambda:us-east-1:123456789012:function:old", "");
        let g = group("/test/excluded-but-ours", None);
        let remove = plan_group(&config, &rules, Mode::Unsubscribe, &g, &[other.clone(), ours]);
        assert_eq!(remove.action, Action::Remove);
        let keep = plan_group(&config, &rules, Mode::Unsubscribe, &g, &[other]);
        assert_eq!(keep.action, Action::Unchanged);
    }

    #[test]
    fn plan_prints_a_table_with_totals_and_serialises() {
        let config = config(Some("14"), None);
        let mut plan = Plan {
            dry_run: true,
            ..Plan::default()
        };
        plan.push(action(&config, &group("/aws/lambda/app", None), &[]));
        plan.push(action(&config, &group("/test/x", None), &[]));
        let text = plan.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("ACTION"), "{text}");
        assert!(
            lines[1].starts_with("subscribe    14d") && lines[1].contains("/aws/lambda/app"),
            "{text}"
        );
        assert!(
            lines[2].starts_with("excluded") && lines[2].contains("EXCLUDE_PATTERNS /test/*"),
            "{text}"
        );
        assert!(
            lines[3].contains("2 log groups: 1 subscribe") && lines[3].contains("retention set on 1"),
            "{text}"
        );
        let json = serde_json::to_value(&plan).expect("json");
        assert_eq!(json["groups"][0]["action"], "subscribe");
        assert_eq!(json["groups"][0]["set_retention_days"], 14);
        assert_eq!(json["totals"]["excluded"], 1);
        assert_eq!(json["mode"], "subscribe");
    }
}

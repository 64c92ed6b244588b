//! The account-level subscription filter policy (`SUBSCRIPTION_SCOPE=account`), pure: the policy
//! Sluice wants (document and `LogGroupName NOT IN [...]` selection criteria), what to do given
//! the one in place, and how it prints. Shapes: CloudWatch Logs API Reference, PutAccountPolicy
//! and DescribeAccountPolicies (`policyType` `SUBSCRIPTION_FILTER_POLICY`, `scope` `ALL`).

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;
use serde_json::json;

use crate::config::Config;
use crate::error::SubscriberError;

/// The most bytes `selectionCriteria` may hold (PutAccountPolicy: 25 KB).
pub const SELECTION_CRITERIA_MAX_BYTES: usize = 25 * 1024;

/// Characters of the selection criteria the text plan shows.
const SHOWN_CHARS: usize = 300;

/// The `policyType` of a subscription filter policy.
pub const POLICY_TYPE: &str = "SUBSCRIPTION_FILTER_POLICY";

/// An account policy: Sluice's as wanted, or the one CloudWatch Logs holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountPolicy {
    /// `policyName`: Sluice names its policy like its filters (`FILTER_NAME`).
    pub name: String,
    /// `policyDocument`, JSON.
    pub document: String,
    /// `selectionCriteria`; `None` when no group is excluded.
    pub selection_criteria: Option<String>,
}

impl AccountPolicy {
    /// The policy that subscribes every group of the account but `excluded` to the destination.
    /// Refuses a `NOT IN` list over [`SELECTION_CRITERIA_MAX_BYTES`].
    pub fn wanted(config: &Config, excluded: &BTreeSet<String>) -> Result<AccountPolicy, SubscriberError> {
        let mut document = json!({
            "DestinationArn": config.destination()?.arn,
            "FilterPattern": config.filter_pattern,
        });
        if let Some(role) = config.filter_role_arn() {
            document["RoleArn"] = json!(role);
        }
        if config.needs_role() {
            document["Distribution"] = json!(config.distribution.as_str());
        }
        let selection_criteria = (!excluded.is_empty()).then(|| not_in(excluded));
        if let Some(criteria) = &selection_criteria
            && criteria.len() > SELECTION_CRITERIA_MAX_BYTES
        {
            return Err(SubscriberError::PolicyTooLarge {
                names: excluded.len(),
                bytes: criteria.len(),
                limit: SELECTION_CRITERIA_MAX_BYTES,
            });
        }
        Ok(AccountPolicy {
            name: config.filter_name.clone(),
            document: document.to_string(),
            selection_criteria,
        })
    }

    /// The names of its `NOT IN` list (empty when it has none or another form).
    pub fn excluded(&self) -> BTreeSet<String> {
        self.selection_criteria
            .as_deref()
            .and_then(|criteria| criteria.trim().strip_prefix("LogGroupName NOT IN"))
            .and_then(|list| serde_json::from_str::<Vec<String>>(list.trim()).ok())
            .map(|names| names.into_iter().collect())
            .unwrap_or_default()
    }

    /// Whether `other` subscribes the same groups the same way (the document compared as JSON,
    /// so key order and spacing do not count).
    pub fn same_as(&self, other: &AccountPolicy) -> bool {
        let parsed = |text: &str| serde_json::from_str::<serde_json::Value>(text).ok();
        self.name == other.name
            && parsed(&self.document) == parsed(&other.document)
            && self.excluded() == other.excluded()
    }
}

/// `LogGroupName NOT IN ["a", "b"]`, the names as JSON strings.
fn not_in(names: &BTreeSet<String>) -> String {
    let list: Vec<String> = names.iter().map(|name| json!(name).to_string()).collect();
    format!("LogGroupName NOT IN [{}]", list.join(", "))
}

/// What happens to Sluice's account policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyAction {
    /// Write it: none yet, or another document or `NOT IN` list.
    Put,
    /// It is as wanted: no write.
    Unchanged,
    /// Delete it (unsubscribe, or back to `log-group` once the groups' filters are in place).
    Delete,
    /// None exists and none is wanted.
    Absent,
}

/// The policy step of a pass, shown in the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyPlan {
    /// What happens.
    pub action: PolicyAction,
    /// Why, in words.
    pub reason: String,
    /// The policy written (for `put`) or in place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<AccountPolicy>,
    /// Names in its `NOT IN` list.
    pub excluded_names: usize,
    /// Bytes of its `selectionCriteria`.
    pub selection_criteria_bytes: usize,
    /// Set after apply when the write failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl PolicyPlan {
    /// Compares the policy `wanted` (none: `log-group` scope or unsubscribe) with the one in place.
    pub fn decide(wanted: Option<AccountPolicy>, existing: Option<AccountPolicy>) -> PolicyPlan {
        let (action, reason, policy) = match (wanted, existing) {
            (Some(wanted), Some(existing)) if wanted.same_as(&existing) => (
                PolicyAction::Unchanged,
                "the account policy is as configured".to_string(),
                Some(wanted),
            ),
            (Some(wanted), Some(existing)) => {
                let (had, now) = (existing.excluded(), wanted.excluded());
                let reason = if had != now {
                    format!(
                        "the NOT IN list changes: {} name(s) added, {} removed",
                        now.difference(&had).count(),
                        had.difference(&now).count()
                    )
                } else {
                    "the policy has another destination, pattern, role or distribution".to_string()
                };
                (PolicyAction::Put, reason, Some(wanted))
            }
            (Some(wanted), None) => (
                PolicyAction::Put,
                "no account policy yet".to_string(),
                Some(wanted),
            ),
            (None, Some(existing)) => (
                PolicyAction::Delete,
                "Sluice's account policy is not wanted".to_string(),
                Some(existing),
            ),
            (None, None) => (PolicyAction::Absent, "no account policy".to_string(), None),
        };
        let excluded_names = policy.as_ref().map_or(0, |p| p.excluded().len());
        let selection_criteria_bytes = policy
            .as_ref()
            .and_then(|p| p.selection_criteria.as_ref())
            .map_or(0, String::len);
        PolicyPlan {
            action,
            reason,
            policy,
            excluded_names,
            selection_criteria_bytes,
            error: None,
        }
    }
}

impl fmt::Display for PolicyPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.policy.as_ref().map_or("-", |p| p.name.as_str());
        write!(
            f,
            "account policy {name} ({POLICY_TYPE}): {} - {}",
            match self.action {
                PolicyAction::Put => "put",
                PolicyAction::Unchanged => "unchanged",
                PolicyAction::Delete => "delete",
                PolicyAction::Absent => "absent",
            },
            self.reason
        )?;
        if let Some(error) = &self.error {
            write!(f, " (FAILED: {error})")?;
        }
        writeln!(f)?;
        if let Some(policy) = &self.policy {
            writeln!(f, "  policyDocument: {}", policy.document)?;
            let criteria = policy
                .selection_criteria
                .as_deref()
                .unwrap_or("(none: every log group)");
            // The whole list is in the JSON output; the table shows its start.
            let shown = match criteria.char_indices().nth(SHOWN_CHARS) {
                Some((cut, _)) => format!("{}…", &criteria[..cut]),
                None => criteria.to_string(),
            };
            writeln!(
                f,
                "  selectionCriteria: {shown} ({} names, {} of {SELECTION_CRITERIA_MAX_BYTES} bytes)",
                self.excluded_names, self.selection_criteria_bytes
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;

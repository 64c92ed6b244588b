//! Plan and apply, one DescribeLogGroups page at a time so a sweep of 50,000 groups streams, with
//! a deadline: before it, the sweep stops at a page boundary and returns a [`Continuation`] (the
//! page token and the counts so far) that a fresh invocation resumes from.

use std::collections::BTreeSet;
use std::time::Duration;

use clap::ValueEnum as _;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::account::{AccountPolicy, PolicyAction, PolicyPlan};
use crate::aws::{FilterPut, Logs};
use crate::config::Config;
use crate::config::SubscriptionScope;
use crate::error::SubscriberError;
use crate::plan::{Action, Excluded, GroupPlan, LogGroup, Mode, Plan, Run, Totals, plan_group, plan_notes};
use crate::rules::{Rules, Selection};

/// Where a pass stopped: enough for another invocation to carry on without redoing any group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Continuation {
    /// The DescribeLogGroups token of the first page not yet handled.
    pub next_token: Option<String>,
    /// Counts of the pages already handled.
    #[serde(default)]
    pub totals: Totals,
    /// How many invocations the pass has used so far (1 for the first).
    #[serde(default)]
    pub invocation: u32,
    /// Whether the pass also looks at excluded groups, to remove Sluice's filter from those no
    /// longer selected (the rules changed since the last complete pass, or the CLI's backfill).
    #[serde(default)]
    pub check_excluded: bool,
    /// Delete Sluice's account policy once the pass is complete (back to `log-group` scope).
    #[serde(default)]
    pub delete_policy_after: bool,
}

/// The tag on the subscriber's own log group that says which scope Sluice's filters are in:
/// `account` from the moment its account policy is written, `log-group` once it is gone.
pub const SCOPE_TAG: &str = "sluice:scope";

/// The tag on the subscriber's own log group that holds the [`Rules::fingerprint`] of the last
/// complete pass that looked at every group.
pub const RULES_TAG: &str = "sluice:rules";

/// The tag on the subscriber's own log group that says a pass is running: the start time
/// (RFC 3339) of its latest invocation, or `done`.
pub const SWEEP_TAG: &str = "sluice:sweep";

/// A pass whose latest invocation started longer ago than this is taken as dead: an invocation
/// lasts at most 15 minutes, and each one of a pass renews [`SWEEP_TAG`].
pub const PASS_STALE: Duration = Duration::from_secs(20 * 60);

/// What the subscriber's own log group says about earlier passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassState {
    /// The rules differ from those of the last complete pass that looked at every group (or
    /// none was recorded).
    pub rules_changed: bool,
    /// When the latest invocation of a pass still running started.
    pub running_since: Option<chrono::DateTime<chrono::Utc>>,
    /// Sluice's account policy may be in place ([`SCOPE_TAG`] says `account`).
    pub account_policy: bool,
}

impl PassState {
    /// Whether a pass is running at `now`: its latest invocation started less than
    /// [`PASS_STALE`] ago.
    pub fn running_at(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        self.running_since
            .is_some_and(|since| (now - since).to_std().is_ok_and(|age| age < PASS_STALE) || since > now)
    }
}

/// The result of one call to [`Sweeper::sweep`].
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Counts over the whole pass so far (the continuation's plus this call's).
    pub totals: Totals,
    /// `Some` when the deadline stopped the pass before its last page.
    pub continuation: Option<Continuation>,
}

/// How a group named by a CreateLogGroup event is looked up while it is not visible yet.
#[derive(Debug, Clone, Copy)]
pub struct LateGroupRetry {
    /// Lookups before giving up.
    pub attempts: u32,
    /// Pause between lookups.
    pub delay: Duration,
}

impl Default for LateGroupRetry {
    fn default() -> Self {
        LateGroupRetry {
            attempts: 5,
            delay: Duration::from_secs(2),
        }
    }
}

/// Plans and applies for the configured rules.
#[derive(Debug)]
pub struct Sweeper {
    logs: Logs,
    config: Config,
    rules: Rules,
}

impl Sweeper {
    /// A sweeper over `logs` with `config`.
    pub fn new(logs: Logs, config: Config) -> Sweeper {
        let rules = Rules::new(&config);
        Sweeper { logs, config, rules }
    }

    /// The rate-limited client (its call counts feed the benchmark).
    pub fn logs(&self) -> &Logs {
        &self.logs
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Plans `group` from its current filters and, unless a dry run, makes only the write calls
    /// the plan asks for. A failed write is recorded on the row, not returned: one group's failure
    /// never stops a sweep. `None` when the group no longer exists. With [`Excluded::Skip`], an
    /// excluded group costs no call (and keeps a filter of Sluice's it may still carry).
    pub async fn handle_group(
        &self,
        mode: Mode,
        run: Run,
        excluded: Excluded,
        group: &LogGroup,
    ) -> Result<Option<GroupPlan>, SubscriberError> {
        let mut plan = match mode {
            Mode::Subscribe => {
                let by_name = self.rules.select(&group.name, group.class.as_deref());
                let mut group = group.clone();
                if by_name == Selection::Selected && self.rules.has_tag_rules() {
                    // One call per group the name rules select, and only when tag rules are set.
                    let arn = group.arn.clone().ok_or_else(|| SubscriberError::Logs {
                        api: "DescribeLogGroups",
                        log_group: Some(group.name.clone()),
                        message: "no logGroupArn in the answer, needed to read the tags".into(),
                    })?;
                    let Some(tags) = self.logs.list_tags(&arn).await? else {
                        return Ok(None);
                    };
                    group.tags = Some(tags);
                }
                let skipped = plan_group(&self.config, &self.rules, mode, &group, &[]);
                // Tags change without the rules changing, so a group excluded by its tags is
                // always checked for Sluice's filter; one excluded by its name only when asked.
                let skip = match skipped.action {
                    Action::Unsupported => true,
                    Action::Excluded => excluded == Excluded::Skip && by_name != Selection::Selected,
                    // In account scope a selected group needs a look only when filters move.
                    _ => self.config.scope == SubscriptionScope::Account && excluded == Excluded::Skip,
                };
                if skip {
                    return Ok(Some(skipped));
                }
                let Some(filters) = self.logs.describe_subscription_filters(&group.name).await? else {
                    return Ok(None);
                };
                plan_group(&self.config, &self.rules, mode, &group, &filters)
            }
            Mode::Unsubscribe => {
                let Some(filters) = self.logs.describe_subscription_filters(&group.name).await? else {
                    return Ok(None);
                };
                plan_group(&self.config, &self.rules, mode, group, &filters)
            }
        };
        if run == Run::Apply
            && let Err(err) = self.apply(&mut plan).await
        {
            tracing::warn!(log_group = %plan.log_group, action = plan.action.as_str(), error = %err, "write failed");
            plan.error = Some(err.to_string());
        }
        Ok(Some(plan))
    }

    /// Makes the plan's write calls. A `LimitExceededException` turns the row into a `conflict`
    /// (retention is still set): the group has no free slot, whatever the setting said.
    async fn apply(&self, plan: &mut GroupPlan) -> Result<(), SubscriberError> {
        match plan.action {
            Action::Subscribe | Action::Update => {
                let put = self
                    .logs
                    .put_subscription_filter(&self.config, &plan.log_group)
                    .await?;
                if put == FilterPut::LimitExceeded {
                    tracing::warn!(log_group = %plan.log_group, max_filters_per_group = self.config.max_filters_per_group, "LimitExceededException: no free filter slot");
                    plan.refused_by_limit(self.config.max_filters_per_group);
                }
            }
            Action::Remove => {
                self.logs
                    .delete_subscription_filter(&self.config, &plan.log_group)
                    .await?
            }
            Action::Unchanged | Action::Excluded | Action::Conflict | Action::Unsupported => {}
        }
        if let Some(days) = plan.set_retention_days {
            self.logs.put_retention_policy(&plan.log_group, days).await?;
        }
        Ok(())
    }

    /// Sweeps every log group from `start`, page by page, calling `on_group` with each row. With a
    /// `stop_by` instant, stops at the first page boundary at or after it (always handling at
    /// least one page, so every invocation makes progress) and returns the continuation.
    pub async fn sweep(
        &self,
        mode: Mode,
        run: Run,
        start: Continuation,
        stop_by: Option<Instant>,
        on_group: &mut (dyn FnMut(&GroupPlan) + Send),
    ) -> Result<Outcome, SubscriberError> {
        let mut totals = start.totals;
        let mut token = start.next_token;
        let mut first = true;
        loop {
            if !first && stop_by.is_some_and(|stop| Instant::now() >= stop) {
                return Ok(Outcome {
                    totals,
                    continuation: Some(Continuation {
                        next_token: token,
                        totals,
                        invocation: start.invocation.max(1) + 1,
                        check_excluded: start.check_excluded,
                        delete_policy_after: start.delete_policy_after,
                    }),
                });
            }
            first = false;
            let page = self.logs.describe_log_groups(token.take(), None).await?;
            let excluded = Excluded::check_if(start.check_excluded);
            for group in &page.groups {
                if let Some(row) = self.handle_group(mode, run, excluded, group).await? {
                    totals.add(&row);
                    on_group(&row);
                }
            }
            tracing::debug!(groups = page.groups.len(), seen = totals.seen, "page handled");
            match page.next_token {
                Some(next) => token = Some(next),
                None => {
                    return Ok(Outcome {
                        totals,
                        continuation: None,
                    });
                }
            }
        }
    }

    /// A whole pass with no deadline (the CLI's `backfill` and `unsubscribe`), collected into a
    /// [`Plan`]; `progress` sees the plan after each group. It looks at every group, excluded
    /// ones included, so a backfill removes Sluice's filter wherever the rules no longer select.
    pub async fn plan(
        &self,
        mode: Mode,
        run: Run,
        progress: &mut (dyn FnMut(&Plan) + Send),
    ) -> Result<Plan, SubscriberError> {
        let mut plan = Plan {
            mode,
            dry_run: run.is_dry_run(),
            notes: match mode {
                Mode::Subscribe => plan_notes(&self.rules, self.config.own_function.is_some()),
                Mode::Unsubscribe => Vec::new(),
            },
            ..Plan::default()
        };
        let mut on_group = |row: &GroupPlan| {
            plan.push(row.clone());
            progress(&plan);
        };
        let account = self.config.scope == SubscriptionScope::Account;
        let policy_before = if account && mode == Mode::Subscribe {
            Some(self.policy_step(run).await?)
        } else {
            None
        };
        let start = Continuation {
            check_excluded: true,
            ..Continuation::default()
        };
        self.sweep(mode, run, start, None, &mut on_group).await?;
        plan.policy_before = policy_before;
        if account && mode == Mode::Unsubscribe && plan.totals.errors == 0 {
            plan.policy_after = Some(self.delete_policy_step(run).await?);
        }
        Ok(plan)
    }

    /// Handles the one group a CreateLogGroup event names, looking it up until it is visible.
    pub async fn handle_created(
        &self,
        name: &str,
        run: Run,
        retry: LateGroupRetry,
    ) -> Result<GroupPlan, SubscriberError> {
        self.handle_named(name, run, Excluded::Skip, retry).await
    }

    /// Handles the one group `name`, looking it up until it is visible; with
    /// [`Excluded::Check`], removes Sluice's filter if the rules no longer select it.
    pub async fn handle_named(
        &self,
        name: &str,
        run: Run,
        excluded: Excluded,
        retry: LateGroupRetry,
    ) -> Result<GroupPlan, SubscriberError> {
        for attempt in 1..=retry.attempts.max(1) {
            let page = self.logs.describe_log_groups(None, Some(name)).await?;
            if let Some(group) = page.groups.iter().find(|group| group.name == name)
                && let Some(row) = self.handle_group(Mode::Subscribe, run, excluded, group).await?
            {
                return Ok(row);
            }
            tracing::info!(log_group = name, attempt, "log group not visible yet");
            if attempt < retry.attempts {
                tokio::time::sleep(retry.delay).await;
            }
        }
        Err(SubscriberError::LogGroupNotFound {
            log_group: name.to_string(),
            attempts: retry.attempts.max(1),
        })
    }
}

impl Sweeper {
    /// The account policy step of `SUBSCRIPTION_SCOPE=account`: reads every page of log groups
    /// (no call per group), computes the `NOT IN` list (groups the rules exclude, classes without
    /// subscriptions, Sluice's own groups) and writes the policy unless it is already right or
    /// a dry run. Fails with [`SubscriberError::PolicyTooLarge`] before writing anything.
    pub async fn policy_step(&self, run: Run) -> Result<PolicyPlan, SubscriberError> {
        let mut excluded: BTreeSet<String> = self.rules.left_alone_names().map(str::to_string).collect();
        let mut token = None;
        loop {
            let page = self.logs.describe_log_groups(token.take(), None).await?;
            for group in &page.groups {
                if self.rules.select(&group.name, group.class.as_deref()) != Selection::Selected {
                    excluded.insert(group.name.clone());
                }
            }
            match page.next_token {
                Some(next) => token = Some(next),
                None => break,
            }
        }
        let wanted = AccountPolicy::wanted(&self.config, &excluded)?;
        let existing = self
            .logs
            .describe_account_policy(&self.config.filter_name)
            .await?;
        let mut plan = PolicyPlan::decide(Some(wanted), existing);
        tracing::info!(action = ?plan.action, excluded = plan.excluded_names, bytes = plan.selection_criteria_bytes, reason = %plan.reason, "account policy");
        if run == Run::Apply && plan.action == PolicyAction::Put {
            self.write_policy(&mut plan).await?;
        }
        Ok(plan)
    }

    /// Adds the new group `name`, which the rules exclude, to the account policy's `NOT IN` list
    /// when it is not there yet; no write when it is. `None` when Sluice has no policy yet (the
    /// next sweep writes it whole).
    pub async fn exclude_from_policy(
        &self,
        name: &str,
        run: Run,
    ) -> Result<Option<PolicyPlan>, SubscriberError> {
        let Some(existing) = self
            .logs
            .describe_account_policy(&self.config.filter_name)
            .await?
        else {
            tracing::warn!(
                log_group = name,
                "no account policy yet: the next sweep writes it"
            );
            return Ok(None);
        };
        let mut excluded = existing.excluded();
        excluded.insert(name.to_string());
        let wanted = AccountPolicy::wanted(&self.config, &excluded)?;
        let mut plan = PolicyPlan::decide(Some(wanted), Some(existing));
        if run == Run::Apply && plan.action == PolicyAction::Put {
            self.write_policy(&mut plan).await?;
        }
        Ok(Some(plan))
    }

    /// Deletes Sluice's account policy, if there is one (after the per-group filters are in
    /// place, or on unsubscribe).
    pub async fn delete_policy_step(&self, run: Run) -> Result<PolicyPlan, SubscriberError> {
        let existing = self
            .logs
            .describe_account_policy(&self.config.filter_name)
            .await?;
        let plan = PolicyPlan::decide(None, existing);
        if run == Run::Apply && plan.action == PolicyAction::Delete {
            self.logs.delete_account_policy(&self.config.filter_name).await?;
            self.mark_scope(SubscriptionScope::LogGroup).await?;
        }
        Ok(plan)
    }

    async fn write_policy(&self, plan: &mut PolicyPlan) -> Result<(), SubscriberError> {
        if let Some(policy) = &plan.policy {
            // Marked first: a pass that dies after the write still knows to delete it later.
            self.mark_scope(SubscriptionScope::Account).await?;
            self.logs.put_account_policy(policy).await?;
        }
        Ok(())
    }

    async fn mark_scope(&self, scope: SubscriptionScope) -> Result<(), SubscriberError> {
        let value = scope
            .to_possible_value()
            .map(|value| value.get_name().to_string());
        self.tag_own_log_group(&[(SCOPE_TAG, value.unwrap_or_default())])
            .await
    }

    /// The subscriber's own log group (where [`RULES_TAG`] lives), when it runs in Lambda and
    /// the group exists.
    async fn own_log_group(&self) -> Result<Option<LogGroup>, SubscriberError> {
        let Some(function) = self.config.own_function_name() else {
            return Ok(None);
        };
        let name = format!("/aws/lambda/{function}");
        let page = self.logs.describe_log_groups(None, Some(&name)).await?;
        Ok(page.groups.into_iter().find(|group| group.name == name))
    }

    /// Reads [`RULES_TAG`] and [`SWEEP_TAG`] from the subscriber's own log group. Without one
    /// (not in Lambda, or the group is missing) the rules count as changed and no pass as running.
    pub async fn pass_state(&self) -> Result<PassState, SubscriberError> {
        let tags = match self.own_log_group().await?.and_then(|group| group.arn) {
            Some(arn) => self.logs.list_tags(&arn).await?.unwrap_or_default(),
            None => Default::default(),
        };
        Ok(PassState {
            account_policy: tags.get(SCOPE_TAG).is_some_and(|scope| scope == "account"),
            rules_changed: tags.get(RULES_TAG) != Some(&self.rules.fingerprint()),
            running_since: tags
                .get(SWEEP_TAG)
                .and_then(|value| chrono::DateTime::parse_from_rfc3339(value).ok())
                .map(|time| time.with_timezone(&chrono::Utc)),
        })
    }

    /// Marks a pass as running since `started`. One `TagResource`.
    pub async fn mark_running(&self, started: chrono::DateTime<chrono::Utc>) -> Result<(), SubscriberError> {
        self.tag_own_log_group(&[(SWEEP_TAG, started.to_rfc3339())]).await
    }

    /// Marks the pass as done and, with `rules_checked` (it looked at every group and removed
    /// every filter it had to), records the current rules as those of a complete pass over every
    /// group. One `TagResource`.
    pub async fn mark_done(&self, rules_checked: bool) -> Result<(), SubscriberError> {
        let mut tags = vec![(SWEEP_TAG, "done".to_string())];
        if rules_checked {
            tags.push((RULES_TAG, self.rules.fingerprint()));
        }
        self.tag_own_log_group(&tags).await
    }

    async fn tag_own_log_group(&self, tags: &[(&str, String)]) -> Result<(), SubscriberError> {
        let Some(arn) = self.own_log_group().await?.and_then(|group| group.arn) else {
            return Ok(());
        };
        self.logs.tag(&arn, tags).await
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod account_tests;

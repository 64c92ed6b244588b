//! Plan and apply, one DescribeLogGroups page at a time so a sweep of 50,000 groups streams, with
//! a deadline: before it, the sweep stops at a page boundary and returns a [`Continuation`] (the
//! page token and the counts so far) that a fresh invocation resumes from.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::aws::Logs;
use crate::config::Config;
use crate::error::SubscriberError;
use crate::plan::{Action, GroupPlan, LogGroup, Mode, Plan, Totals, plan_group};
use crate::rules::Rules;

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

    /// Plans `group` from its current filters and, unless `dry_run`, makes only the write calls
    /// the plan asks for. A failed write is recorded on the row, not returned: one group's failure
    /// never stops a sweep. `None` when the group no longer exists.
    pub async fn handle_group(
        &self,
        mode: Mode,
        dry_run: bool,
        group: &LogGroup,
    ) -> Result<Option<GroupPlan>, SubscriberError> {
        let mut plan = match mode {
            Mode::Subscribe => {
                // Excluded and unsupported groups need no DescribeSubscriptionFilters call.
                let skipped = plan_group(&self.config, &self.rules, mode, group, &[]);
                if matches!(skipped.action, Action::Excluded | Action::Unsupported) {
                    return Ok(Some(skipped));
                }
                let Some(filters) = self.logs.describe_subscription_filters(&group.name).await? else {
                    return Ok(None);
                };
                plan_group(&self.config, &self.rules, mode, group, &filters)
            }
            Mode::Unsubscribe => {
                let Some(filters) = self.logs.describe_subscription_filters(&group.name).await? else {
                    return Ok(None);
                };
                plan_group(&self.config, &self.rules, mode, group, &filters)
            }
        };
        if !dry_run && let Err(err) = self.apply(&plan).await {
            tracing::warn!(log_group = %plan.log_group, action = plan.action.as_str(), error = %err, "write failed");
            plan.error = Some(err.to_string());
        }
        Ok(Some(plan))
    }

    async fn apply(&self, plan: &GroupPlan) -> Result<(), SubscriberError> {
        match plan.action {
            Action::Subscribe | Action::Update => {
                self.logs
                    .put_subscription_filter(&self.config, &plan.log_group)
                    .await?
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
        dry_run: bool,
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
                    }),
                });
            }
            first = false;
            let page = self.logs.describe_log_groups(token.take(), None).await?;
            for group in &page.groups {
                if let Some(row) = self.handle_group(mode, dry_run, group).await? {
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
    /// [`Plan`]; `progress` sees the plan after each group.
    pub async fn plan(
        &self,
        mode: Mode,
        dry_run: bool,
        progress: &mut (dyn FnMut(&Plan) + Send),
    ) -> Result<Plan, SubscriberError> {
        let mut plan = Plan {
            mode,
            dry_run,
            ..Plan::default()
        };
        let mut on_group = |row: &GroupPlan| {
            plan.push(row.clone());
            progress(&plan);
        };
        self.sweep(mode, dry_run, Continuation::default(), None, &mut on_group)
            .await?;
        Ok(plan)
    }

    /// Handles the one group a CreateLogGroup event names, looking it up until it is visible.
    pub async fn handle_created(
        &self,
        name: &str,
        dry_run: bool,
        retry: LateGroupRetry,
    ) -> Result<GroupPlan, SubscriberError> {
        for attempt in 1..=retry.attempts.max(1) {
            let page = self.logs.describe_log_groups(None, Some(name)).await?;
            if let Some(group) = page.groups.iter().find(|group| group.name == name)
                && let Some(row) = self.handle_group(Mode::Subscribe, dry_run, group).await?
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

#[cfg(test)]
mod tests;

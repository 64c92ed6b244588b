//! The Lambda handler: what an invocation's payload asks for ([`Request::parse`], pure), and doing
//! it ([`Handler::handle`]): one group on CreateLogGroup, a sweep on a schedule or a direct call,
//! continued in a fresh asynchronous invocation of this function when the deadline nears.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::account::PolicyPlan;
use crate::config::SubscriptionScope;
use crate::error::SubscriberError;
use crate::metrics::{self, MetricsOut};
use crate::plan::{Action, Excluded, Mode, Run, Totals};
use crate::sweep::{Continuation, LateGroupRetry, Sweeper};

/// What an invocation asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// A CloudTrail CreateLogGroup event for this group.
    Created {
        /// The new log group.
        log_group: String,
    },
    /// A CloudTrail tagging call (`TagResource`, `UntagResource`, `TagLogGroup`, `UntagLogGroup`)
    /// on this group: planned again, so a group tagged out of the rules loses Sluice's filter.
    Retagged {
        /// The log group whose tags changed.
        log_group: String,
    },
    /// An event that needs nothing done (a failed call, another API), with why.
    Ignore(String),
    /// A sweep (scheduled, direct, or continued).
    Sweep {
        /// Subscribe or unsubscribe.
        mode: Mode,
        /// Plan only.
        dry_run: bool,
        /// Where to resume.
        continuation: Continuation,
        /// Started by the schedule: skipped while another pass is running.
        scheduled: bool,
    },
}

/// A direct invocation: `{"action":"sweep"|"unsubscribe","dry_run":bool, ...continuation}`.
#[derive(Debug, Deserialize)]
struct Direct {
    action: DirectAction,
    #[serde(default)]
    dry_run: bool,
    #[serde(flatten)]
    continuation: Continuation,
}

/// What a direct invocation asks for, its `action`: the pass of a [`Mode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectAction {
    /// A subscribing pass ([`Mode::Subscribe`]), as the schedule starts.
    Sweep,
    /// A pass that removes Sluice's filters ([`Mode::Unsubscribe`]).
    Unsubscribe,
}

impl From<DirectAction> for Mode {
    fn from(action: DirectAction) -> Mode {
        match action {
            DirectAction::Sweep => Mode::Subscribe,
            DirectAction::Unsubscribe => Mode::Unsubscribe,
        }
    }
}

impl From<Mode> for DirectAction {
    fn from(mode: Mode) -> DirectAction {
        match mode {
            Mode::Subscribe => DirectAction::Sweep,
            Mode::Unsubscribe => DirectAction::Unsubscribe,
        }
    }
}

impl Request {
    /// Reads an EventBridge event or a direct payload.
    pub fn parse(payload: &Value) -> Result<Request, SubscriberError> {
        let unrecognised = |reason: String| SubscriberError::UnrecognisedEvent { reason };
        match payload.get("detail-type").and_then(Value::as_str) {
            Some("AWS API Call via CloudTrail") => {
                let detail = &payload["detail"];
                let event = detail["eventName"].as_str().unwrap_or_default();
                if ![
                    "CreateLogGroup",
                    "TagResource",
                    "UntagResource",
                    "TagLogGroup",
                    "UntagLogGroup",
                ]
                .contains(&event)
                {
                    return Ok(Request::Ignore(format!(
                        "CloudTrail event {event:?} is neither CreateLogGroup nor a tagging call"
                    )));
                }
                if let Some(code) = detail.get("errorCode").and_then(Value::as_str) {
                    return Ok(Request::Ignore(format!("{event} failed with {code}")));
                }
                let parameters = &detail["requestParameters"];
                if event != "CreateLogGroup" {
                    return tagged_group(event, parameters).map(|found| match found {
                        Ok(log_group) => Request::Retagged { log_group },
                        Err(why) => Request::Ignore(why),
                    });
                }
                parameters["logGroupName"]
                    .as_str()
                    .filter(|name| !name.is_empty())
                    .map(|name| Request::Created {
                        log_group: name.to_string(),
                    })
                    .ok_or_else(|| {
                        unrecognised("CreateLogGroup event without requestParameters.logGroupName".into())
                    })
            }
            Some("Scheduled Event") => Ok(Request::Sweep {
                mode: Mode::Subscribe,
                dry_run: false,
                continuation: Continuation::default(),
                scheduled: true,
            }),
            Some(other) => Err(unrecognised(format!("detail-type {other:?}"))),
            None => {
                // serde's error quotes the payload's text: its line breaks are escaped, so the
                // error stays one line (a log line a payload cannot forge).
                let direct: Direct = serde_json::from_value(payload.clone()).map_err(|err| {
                    let err = err.to_string().replace('\n', "\\n").replace('\r', "\\r");
                    unrecognised(format!("not an EventBridge event nor a direct payload: {err}"))
                })?;
                Ok(Request::Sweep {
                    mode: direct.action.into(),
                    dry_run: direct.dry_run,
                    continuation: direct.continuation,
                    scheduled: false,
                })
            }
        }
    }
}

/// The log group a tagging call names: `logGroupName` (`TagLogGroup`, `UntagLogGroup`) or the
/// log group in `resourceArn` (`TagResource`, `UntagResource`, which also tag other resources:
/// those are `Err` with why they need nothing).
fn tagged_group(event: &str, parameters: &Value) -> Result<Result<String, String>, SubscriberError> {
    if let Some(name) = parameters["logGroupName"]
        .as_str()
        .filter(|name| !name.is_empty())
    {
        return Ok(Ok(name.to_string()));
    }
    let Some(arn) = parameters["resourceArn"].as_str() else {
        return Err(SubscriberError::UnrecognisedEvent {
            reason: format!("{event} event without requestParameters.logGroupName or resourceArn"),
        });
    };
    Ok(match arn.split_once(":log-group:") {
        Some((_, name)) if !name.is_empty() => Ok(name.trim_end_matches(":*").to_string()),
        _ => Err(format!("{event} on {arn}, which is not a log group")),
    })
}

/// Whether a complete pass may delete the account policy: a dry run shows the step, a real pass
/// takes it only when every group succeeded (their filters are in place).
fn continuation_deletes(outcome: &crate::sweep::Outcome, run: Run) -> bool {
    run.is_dry_run() || outcome.totals.errors == 0
}

/// The direct payload that continues a sweep in a fresh invocation.
pub fn continuation_payload(mode: Mode, run: Run, continuation: &Continuation) -> Value {
    let mut payload = serde_json::to_value(continuation).unwrap_or_else(|_| json!({}));
    payload["action"] = json!(DirectAction::from(mode));
    payload["dry_run"] = json!(run.is_dry_run());
    payload
}

/// The handler with its clients.
#[derive(Debug)]
pub struct Handler {
    sweeper: Sweeper,
    lambda: aws_sdk_lambda::Client,
    function_name: String,
    /// Sweeps stop this long before the invocation's deadline.
    pub margin: Duration,
    /// How a late CreateLogGroup group is looked up.
    pub late_group: LateGroupRetry,
    /// Where each invocation's EMF document goes: stdout in Lambda, which turns it into metrics.
    pub metrics: Box<dyn MetricsOut>,
}

/// What one invocation has counted so far, so that its metrics go out exactly once on every
/// path: a sweep that fails as a whole (DescribeLogGroups denied, endpoint unreachable) must
/// still report `Errors`, or the alarm never sees the subscriber broken.
#[derive(Debug, Default)]
struct Tally {
    mode: Mode,
    totals: Totals,
    pass: Option<metrics::Progress>,
    reported: bool,
}

/// A sweep request's parts, as [`Request::Sweep`] holds them.
#[derive(Debug)]
struct SweepRequest {
    mode: Mode,
    run: Run,
    continuation: Continuation,
    scheduled: bool,
}

/// How a sweep's first invocation starts its pass.
enum Start {
    /// Another pass is running: this scheduled one is skipped, with this answer.
    Skipped(Value),
    /// The pass goes on, after the account policy step when there was one.
    Go { policy_before: Option<PolicyPlan> },
}

impl Handler {
    /// A handler continuing sweeps in `function_name` through `lambda`.
    pub fn new(sweeper: Sweeper, lambda: aws_sdk_lambda::Client, function_name: String) -> Handler {
        Handler {
            sweeper,
            lambda,
            function_name,
            margin: Duration::from_secs(60),
            late_group: LateGroupRetry::default(),
            metrics: Box::new(metrics::Stdout),
        }
    }

    /// Handles one invocation that must finish by `deadline`; answers a JSON summary. Every
    /// invocation that acted on log groups or failed reports its metrics, a failed one with
    /// `Errors` counting the failure itself on top of the groups that failed before it.
    pub async fn handle(&self, payload: Value, deadline: Instant) -> Result<Value, SubscriberError> {
        let mut tally = Tally::default();
        let result = self.serve(payload, deadline, &mut tally).await;
        if result.is_err() && !tally.reported {
            tally.totals.errors += 1;
            self.report(&mut tally);
        }
        result
    }

    /// Emits the invocation's metrics (once).
    fn report(&self, tally: &mut Tally) {
        tally.reported = true;
        metrics::report(
            &self.function_name,
            tally.mode,
            &tally.totals,
            tally.pass,
            self.metrics.as_ref(),
        );
    }

    async fn serve(
        &self,
        payload: Value,
        deadline: Instant,
        tally: &mut Tally,
    ) -> Result<Value, SubscriberError> {
        match Request::parse(&payload)? {
            Request::Ignore(reason) => {
                tracing::info!(reason = %reason, "event ignored");
                Ok(json!({"ignored": reason}))
            }
            Request::Retagged { log_group } => self.retagged(&log_group, tally).await,
            Request::Created { log_group } => self.created(&log_group, tally).await,
            Request::Sweep {
                mode,
                dry_run,
                continuation,
                scheduled,
            } => {
                let request = SweepRequest {
                    mode,
                    run: Run::dry_run_if(dry_run),
                    continuation,
                    scheduled,
                };
                self.sweep(request, deadline, tally).await
            }
        }
    }

    /// A tagging call: the group is planned again, once, excluded groups checked, so a group
    /// tagged out of the rules loses Sluice's filter.
    async fn retagged(&self, log_group: &str, tally: &mut Tally) -> Result<Value, SubscriberError> {
        let once = LateGroupRetry {
            attempts: 1,
            delay: Duration::ZERO,
        };
        let handled = self
            .sweeper
            .handle_named(log_group, Run::Apply, Excluded::Check, once)
            .await;
        match handled {
            Ok(row) => self.one_group(row, "tags changed", tally),
            Err(SubscriberError::LogGroupNotFound { .. }) => {
                tracing::info!(log_group = %log_group, "tagged log group no longer exists");
                Ok(json!({"ignored": format!("{log_group} no longer exists")}))
            }
            Err(err) => Err(err),
        }
    }

    /// A CreateLogGroup event: the new group, looked up until it is visible.
    async fn created(&self, log_group: &str, tally: &mut Tally) -> Result<Value, SubscriberError> {
        let row = self
            .sweeper
            .handle_created(log_group, Run::Apply, self.late_group)
            .await?;
        // In account scope a new group the rules exclude joins the policy's NOT IN list;
        // a selected one is covered already.
        let excluded = matches!(row.action, Action::Excluded | Action::Unsupported);
        let policy = if self.sweeper.config().scope == SubscriptionScope::Account && excluded {
            self.sweeper.exclude_from_policy(log_group, Run::Apply).await?
        } else {
            None
        };
        let mut answer = self.one_group(row, "new log group", tally)?;
        if let Some(policy) = policy {
            answer["policy"] = serde_json::to_value(&policy).unwrap_or_default();
        }
        Ok(answer)
    }

    /// One invocation of a sweep's pass: its start in the first invocation, the pages it has
    /// time for, then the continuation in a fresh invocation, or the pass's end.
    async fn sweep(
        &self,
        mut request: SweepRequest,
        deadline: Instant,
        tally: &mut Tally,
    ) -> Result<Value, SubscriberError> {
        let SweepRequest { mode, run, .. } = request;
        tally.mode = mode;
        tally.pass = Some(metrics::Progress {
            seen: request.continuation.totals.seen,
            complete: false,
        });
        let fresh = request.continuation.invocation == 0 && request.continuation.next_token.is_none();
        let mut policy_before = None;
        if fresh {
            match self.start_pass(&mut request).await? {
                Start::Skipped(answer) => return Ok(answer),
                Start::Go { policy_before: step } => policy_before = step,
            }
        }
        let continuation = request.continuation;
        // In account scope with nothing to move and no retention to set, the policy step was
        // the whole pass: no call per group.
        if mode == Mode::Subscribe
            && self.sweeper.config().scope == SubscriptionScope::Account
            && !continuation.check_excluded
            && self.sweeper.config().retention_days.is_none()
        {
            let mut answer = json!({"complete": true, "totals": continuation.totals});
            answer["policy_before"] = serde_json::to_value(&policy_before).unwrap_or_default();
            return Ok(answer);
        }
        if mode == Mode::Subscribe
            && run == Run::Apply
            && let Err(err) = self.sweeper.mark_running(chrono::Utc::now()).await
        {
            tracing::warn!(error = %err, "could not mark the pass as running");
        }
        let check_excluded = continuation.check_excluded;
        let delete_policy_after = continuation.delete_policy_after;
        tracing::info!(mode = ?mode, dry_run = run.is_dry_run(), check_excluded, invocation = continuation.invocation, "sweep");
        let before = continuation.totals;
        let (outcome, first_failure) = self.pages(mode, run, continuation, deadline, tally).await?;
        tally.totals = outcome.totals.since(&before);
        tally.pass = Some(metrics::Progress {
            seen: outcome.totals.seen,
            complete: outcome.continuation.is_none(),
        });
        self.report(tally);
        let mut answer = self
            .end_invocation(mode, run, &outcome, check_excluded, delete_policy_after)
            .await?;
        if let Some(first) = first_failure {
            return Err(SubscriberError::GroupsFailed {
                failed: outcome.totals.errors,
                first,
            });
        }
        if let Some(step) = policy_before {
            answer["policy_before"] = serde_json::to_value(&step).unwrap_or_default();
        }
        Ok(answer)
    }

    /// The pages this invocation has time for, until the margin before `deadline`, each group
    /// counted in `tally` as it is handled (so a pass that fails midway still reports what it
    /// did); with the first group that failed, and why.
    async fn pages(
        &self,
        mode: Mode,
        run: Run,
        continuation: Continuation,
        deadline: Instant,
        tally: &mut Tally,
    ) -> Result<(crate::sweep::Outcome, Option<String>), SubscriberError> {
        let stop_by = deadline.checked_sub(self.margin).unwrap_or(deadline);
        let mut first_failure: Option<String> = None;
        let counted = &mut tally.totals;
        let mut on_group = |row: &crate::plan::GroupPlan| {
            counted.add(row);
            if let Some(error) = &row.error
                && first_failure.is_none()
            {
                first_failure = Some(format!("{}: {error}", row.log_group));
            }
        };
        let outcome = self
            .sweeper
            .sweep(mode, run, continuation, Some(stop_by), &mut on_group)
            .await?;
        Ok((outcome, first_failure))
    }

    /// The first invocation of a pass: reads what earlier passes left, chooses whether the pass
    /// looks at excluded groups and deletes the account policy after, takes the account policy
    /// step, and skips a scheduled pass while another runs.
    async fn start_pass(&self, request: &mut SweepRequest) -> Result<Start, SubscriberError> {
        let account = self.sweeper.config().scope == SubscriptionScope::Account;
        let continuation = &mut request.continuation;
        let state = self.sweeper.pass_state().await?;
        // Back to log-group scope (or unsubscribing): the policy goes only after the pass, so
        // no group is without a subscription in between.
        continuation.delete_policy_after = if account {
            request.mode == Mode::Unsubscribe
        } else {
            state.account_policy
        };
        let mut policy_before = None;
        if request.mode == Mode::Subscribe && account {
            // First the policy, so every group is covered before its own filter goes.
            policy_before = Some(self.sweeper.policy_step(request.run).await?);
        }
        // One pass at a time from the schedule, so passes never fill the reserved concurrency
        // that CreateLogGroup events need.
        if request.scheduled && state.running_at(chrono::Utc::now()) {
            let since = state
                .running_since
                .map(|time| time.to_rfc3339())
                .unwrap_or_default();
            tracing::info!(running_since = %since, "a pass is running: this scheduled pass is skipped");
            return Ok(Start::Skipped(
                json!({"skipped": format!("a pass is running (its latest invocation started {since})")}),
            ));
        }
        // A new pass looks at excluded groups too when the rules changed since the last
        // complete pass that did; a continued pass keeps what its first chose.
        if request.mode == Mode::Subscribe {
            continuation.check_excluded |= state.rules_changed;
        }
        Ok(Start::Go { policy_before })
    }

    /// After this invocation's pages: the continuation in a fresh invocation, or, when the pass
    /// is complete, the account policy's deletion (when asked) and the pass marked done, the
    /// rules recorded when `record_rules` and every group succeeded. Answers the invocation's
    /// summary.
    async fn end_invocation(
        &self,
        mode: Mode,
        run: Run,
        outcome: &crate::sweep::Outcome,
        record_rules: bool,
        delete_policy_after: bool,
    ) -> Result<Value, SubscriberError> {
        if let Some(next) = &outcome.continuation {
            self.continue_in_new_invocation(mode, run, next).await?;
        }
        let complete = outcome.continuation.is_none();
        let mut answer = json!({"complete": complete, "totals": outcome.totals});
        if complete && continuation_deletes(outcome, run) && delete_policy_after {
            let step = self.sweeper.delete_policy_step(run).await?;
            answer["policy_after"] = serde_json::to_value(&step).unwrap_or_default();
        }
        let tracked = mode == Mode::Subscribe && run == Run::Apply;
        if tracked && complete {
            // The rules are recorded only after a pass that looked at every group and removed
            // every filter it had to; otherwise the next pass looks again.
            let rules_checked = record_rules && outcome.totals.errors == 0;
            if let Err(err) = self.sweeper.mark_done(rules_checked).await {
                tracing::warn!(error = %err, "could not record the end of the pass");
            }
        }
        Ok(answer)
    }

    /// Reports the row of an event about one group; its failed write fails the invocation.
    fn one_group(
        &self,
        row: crate::plan::GroupPlan,
        what: &str,
        tally: &mut Tally,
    ) -> Result<Value, SubscriberError> {
        tracing::info!(log_group = %row.log_group, action = row.action.as_str(), reason = %row.reason, "{what}");
        tally.totals.add(&row);
        self.report(tally);
        match &row.error {
            Some(error) => Err(SubscriberError::GroupsFailed {
                failed: 1,
                first: format!("{}: {error}", row.log_group),
            }),
            None => Ok(serde_json::to_value(&row).unwrap_or_default()),
        }
    }

    async fn continue_in_new_invocation(
        &self,
        mode: Mode,
        run: Run,
        continuation: &Continuation,
    ) -> Result<(), SubscriberError> {
        let payload = continuation_payload(mode, run, continuation);
        tracing::info!(function = %self.function_name, invocation = continuation.invocation, seen = continuation.totals.seen, "continuing the sweep");
        self.lambda
            .invoke()
            .function_name(&self.function_name)
            .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
            .payload(aws_sdk_lambda::primitives::Blob::new(payload.to_string()))
            .send()
            .await
            .map(|_| ())
            .map_err(|err| SubscriberError::Continue {
                function: self.function_name.clone(),
                message: sluice_edge::sdk_error(&err),
            })
    }
}

#[cfg(test)]
mod tests;

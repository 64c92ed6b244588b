//! The Lambda handler: what an invocation's payload asks for ([`Request::parse`], pure), and doing
//! it ([`Handler::handle`]): one group on CreateLogGroup, a sweep on a schedule or a direct call,
//! continued in a fresh asynchronous invocation of this function when the deadline nears.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::error::SubscriberError;
use crate::metrics;
use crate::plan::{Mode, Totals};
use crate::sweep::{Continuation, LateGroupRetry, Sweeper};

/// What an invocation asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// A CloudTrail CreateLogGroup event for this group.
    Created {
        /// The new log group.
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
    },
}

/// A direct invocation: `{"action":"sweep"|"unsubscribe","dry_run":bool, ...continuation}`.
#[derive(Debug, Deserialize)]
struct Direct {
    action: String,
    #[serde(default)]
    dry_run: bool,
    #[serde(flatten)]
    continuation: Continuation,
}

impl Request {
    /// Reads an EventBridge event or a direct payload.
    pub fn parse(payload: &Value) -> Result<Request, SubscriberError> {
        let unrecognised = |reason: String| SubscriberError::UnrecognisedEvent { reason };
        match payload.get("detail-type").and_then(Value::as_str) {
            Some("AWS API Call via CloudTrail") => {
                let detail = &payload["detail"];
                let event = detail["eventName"].as_str().unwrap_or_default();
                if event != "CreateLogGroup" {
                    return Ok(Request::Ignore(format!(
                        "CloudTrail event {event:?} is not CreateLogGroup"
                    )));
                }
                if let Some(code) = detail.get("errorCode").and_then(Value::as_str) {
                    return Ok(Request::Ignore(format!("CreateLogGroup failed with {code}")));
                }
                detail["requestParameters"]["logGroupName"]
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
            }),
            Some(other) => Err(unrecognised(format!("detail-type {other:?}"))),
            None => {
                let direct: Direct = serde_json::from_value(payload.clone()).map_err(|err| {
                    unrecognised(format!("not an EventBridge event nor a direct payload: {err}"))
                })?;
                let mode = match direct.action.as_str() {
                    "sweep" => Mode::Subscribe,
                    "unsubscribe" => Mode::Unsubscribe,
                    other => {
                        return Err(unrecognised(format!(
                            "action {other:?}; expected sweep or unsubscribe"
                        )));
                    }
                };
                Ok(Request::Sweep {
                    mode,
                    dry_run: direct.dry_run,
                    continuation: direct.continuation,
                })
            }
        }
    }
}

/// The direct payload that continues a sweep in a fresh invocation.
pub fn continuation_payload(mode: Mode, dry_run: bool, continuation: &Continuation) -> Value {
    let mut payload = serde_json::to_value(continuation).unwrap_or_else(|_| json!({}));
    payload["action"] = json!(match mode {
        Mode::Subscribe => "sweep",
        Mode::Unsubscribe => "unsubscribe",
    });
    payload["dry_run"] = json!(dry_run);
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
    /// Print the EMF metrics line on stdout (Lambda turns it into metrics); off where stdout is
    /// a person's terminal.
    pub emit_metrics: bool,
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
            emit_metrics: true,
        }
    }

    /// Handles one invocation that must finish by `deadline`; answers a JSON summary.
    pub async fn handle(&self, payload: Value, deadline: Instant) -> Result<Value, SubscriberError> {
        match Request::parse(&payload)? {
            Request::Ignore(reason) => {
                tracing::info!(reason = %reason, "event ignored");
                Ok(json!({"ignored": reason}))
            }
            Request::Created { log_group } => {
                let row = self
                    .sweeper
                    .handle_created(&log_group, false, self.late_group)
                    .await?;
                tracing::info!(log_group = %row.log_group, action = row.action.as_str(), reason = %row.reason, "new log group");
                let mut totals = Totals::default();
                totals.add(&row);
                metrics::report(
                    &self.function_name,
                    Mode::Subscribe,
                    &totals,
                    None,
                    self.emit_metrics,
                );
                match &row.error {
                    Some(error) => Err(SubscriberError::GroupsFailed {
                        failed: 1,
                        first: format!("{}: {error}", row.log_group),
                    }),
                    None => Ok(serde_json::to_value(&row).unwrap_or_default()),
                }
            }
            Request::Sweep {
                mode,
                dry_run,
                continuation,
            } => {
                let stop_by = deadline.checked_sub(self.margin).unwrap_or(deadline);
                let before = continuation.totals;
                let mut first_failure: Option<String> = None;
                let mut on_group = |row: &crate::plan::GroupPlan| {
                    if let Some(error) = &row.error
                        && first_failure.is_none()
                    {
                        first_failure = Some(format!("{}: {error}", row.log_group));
                    }
                };
                let outcome = self
                    .sweeper
                    .sweep(mode, dry_run, continuation, Some(stop_by), &mut on_group)
                    .await?;
                let complete = outcome.continuation.is_none();
                let progress = metrics::Progress {
                    seen: outcome.totals.seen,
                    complete,
                };
                let this_invocation = outcome.totals.since(&before);
                metrics::report(
                    &self.function_name,
                    mode,
                    &this_invocation,
                    Some(progress),
                    self.emit_metrics,
                );
                if let Some(next) = &outcome.continuation {
                    self.continue_in_new_invocation(mode, dry_run, next).await?;
                }
                if let Some(first) = first_failure {
                    return Err(SubscriberError::GroupsFailed {
                        failed: outcome.totals.errors,
                        first,
                    });
                }
                Ok(json!({"complete": complete, "totals": outcome.totals}))
            }
        }
    }

    async fn continue_in_new_invocation(
        &self,
        mode: Mode,
        dry_run: bool,
        continuation: &Continuation,
    ) -> Result<(), SubscriberError> {
        let payload = continuation_payload(mode, dry_run, continuation);
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
                message: aws_sdk_lambda::error::DisplayErrorContext(&err).to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Value {
        let path = format!(
            "{}/../tests/fixtures/subscriber/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).expect("fixture readable");
        serde_json::from_str(&text).expect("fixture is JSON")
    }

    #[test]
    fn a_cloudtrail_create_log_group_names_the_group() {
        assert_eq!(
            Request::parse(&fixture("create-log-group.json")).expect("parsed"),
            Request::Created {
                log_group: "/aws/lambda/checkout-api".into()
            }
        );
    }

    #[test]
    fn a_failed_create_log_group_is_ignored() {
        let request = Request::parse(&fixture("create-log-group-failed.json")).expect("parsed");
        assert!(
            matches!(&request, Request::Ignore(why) if why.contains("ResourceAlreadyExistsException")),
            "{request:?}"
        );
    }

    #[test]
    fn a_scheduled_event_starts_a_full_sweep() {
        assert_eq!(
            Request::parse(&fixture("scheduled-event.json")).expect("parsed"),
            Request::Sweep {
                mode: Mode::Subscribe,
                dry_run: false,
                continuation: Continuation::default()
            }
        );
    }

    #[test]
    fn direct_payloads_and_continuations_round_trip() {
        assert_eq!(
            Request::parse(&json!({"action": "unsubscribe", "dry_run": true})).expect("parsed"),
            Request::Sweep {
                mode: Mode::Unsubscribe,
                dry_run: true,
                continuation: Continuation::default()
            }
        );
        let mut continuation = Continuation {
            next_token: Some("token-7".into()),
            invocation: 3,
            ..Continuation::default()
        };
        continuation.totals.seen = 350;
        continuation.totals.subscribe = 12;
        let payload = continuation_payload(Mode::Subscribe, false, &continuation);
        assert_eq!(payload["action"], "sweep");
        assert_eq!(
            Request::parse(&payload).expect("parsed"),
            Request::Sweep {
                mode: Mode::Subscribe,
                dry_run: false,
                continuation
            }
        );
    }

    #[test]
    fn unknown_payloads_are_refused_with_a_reason() {
        for payload in [
            json!({"action": "delete-everything"}),
            json!({"detail-type": "EC2 Instance State-change Notification"}),
            json!([1, 2]),
        ] {
            let err = Request::parse(&payload).expect_err("refused");
            assert!(
                matches!(err, SubscriberError::UnrecognisedEvent { .. }),
                "{payload}"
            );
        }
    }
}

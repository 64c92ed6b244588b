//! The one error type of the subscriber library.

pub use sluice_edge::ErrorType;
use sluice_edge::settings::SettingError;
use thiserror::Error;

/// What went wrong, with the setting, log group or API call a person needs to act on it.
#[derive(Debug, Error)]
pub enum SubscriberError {
    /// A setting is missing or has a value the subscriber cannot use.
    #[error(transparent)]
    Setting(#[from] SettingError),
    /// A CloudWatch Logs call failed (after the SDK's retries).
    #[error("CloudWatch Logs {api} failed{}: {message}", log_group.as_ref().map(|g| format!(" for {g}")).unwrap_or_default())]
    Logs {
        /// The API, e.g. `PutSubscriptionFilter`.
        api: &'static str,
        /// The log group the call was about, when it was about one.
        log_group: Option<String>,
        /// The SDK's error, with its code.
        message: String,
    },
    /// A CloudWatch Logs call got no answer: the endpoint is unreachable, refused the connection
    /// or timed out (after the SDK's retries, if any).
    #[error("CloudWatch Logs {api} got no answer: {message}")]
    Unreachable {
        /// The API, e.g. `DescribeLogGroups`.
        api: &'static str,
        /// What stopped the call, one line.
        message: String,
    },
    /// The log group named by a CreateLogGroup event did not become visible in time.
    #[error("log group {log_group} is still not visible after {attempts} attempts")]
    LogGroupNotFound {
        /// The log group the event named.
        log_group: String,
        /// How many times it was looked up.
        attempts: u32,
    },
    /// The sweep could not hand its continuation to a fresh invocation of its own function.
    #[error("could not continue the sweep in {function}: {message}")]
    Continue {
        /// The function invoked.
        function: String,
        /// The Lambda API's error.
        message: String,
    },
    /// An invocation payload the handler does not understand.
    #[error("unrecognised event: {reason}")]
    UnrecognisedEvent {
        /// What was missing or unexpected.
        reason: String,
    },
    /// The account policy's `NOT IN` list would not fit CloudWatch Logs' limit.
    #[error(
        "the account policy would exclude {names} log group names in {bytes} bytes of selectionCriteria, \
         over CloudWatch Logs' limit of {limit} bytes: exclude fewer groups, or use SUBSCRIPTION_SCOPE=log-group"
    )]
    PolicyTooLarge {
        /// How many names the list would hold.
        names: usize,
        /// The size of the selection criteria.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// Some log groups failed; the others were handled.
    #[error("{failed} log group(s) failed, first: {first}")]
    GroupsFailed {
        /// How many failed.
        failed: u64,
        /// The first failure, with its log group.
        first: String,
    },
}

/// A stable name per failure for the Lambda `errorType` and for metrics.
impl sluice_edge::ErrorType for SubscriberError {
    fn error_type(&self) -> &'static str {
        match self {
            SubscriberError::Setting(_) => "Config",
            SubscriberError::Logs { .. } => "CloudWatchLogs",
            SubscriberError::Unreachable { .. } => "Unreachable",
            SubscriberError::LogGroupNotFound { .. } => "LogGroupNotFound",
            SubscriberError::Continue { .. } => "Continue",
            SubscriberError::UnrecognisedEvent { .. } => "UnrecognisedEvent",
            SubscriberError::GroupsFailed { .. } => "GroupsFailed",
            SubscriberError::PolicyTooLarge { .. } => "PolicyTooLarge",
        }
    }
}

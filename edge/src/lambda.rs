//! The Lambda start-up both functions share: one multi-threaded runtime, the handler built once
//! (a failure said to the Runtime API as the init error), then every event handed to it with
//! its deadline, and a failed invocation reported with its stable `errorType`.

use std::time::Instant;

use serde::Serialize;
use serde_json::Value;

use crate::ErrorType;

/// Why the function stopped serving: the handler could not be built, or the Runtime API failed.
pub type ServeError = lambda_runtime::Error;

/// Runs the Lambda runtime until it ends. `start` builds the handler once, at cold start; each
/// event's payload then goes to `handle` with the invocation's deadline ([`crate::deadline`]).
pub fn serve<H, R, E, S>(
    start: impl AsyncFnOnce() -> Result<H, S>,
    handle: impl AsyncFn(&H, Value, Instant) -> Result<R, E>,
) -> Result<(), ServeError>
where
    R: Serialize,
    E: ErrorType,
    S: std::fmt::Display,
{
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let handler = start().await.map_err(|err| {
            let message = format!("{err:#}");
            crate::report_init_error(&message);
            ServeError::from(message)
        })?;
        let (handler, handle) = (&handler, &handle);
        lambda_runtime::run(lambda_runtime::service_fn(
            move |event: lambda_runtime::LambdaEvent<Value>| async move {
                let deadline = crate::deadline(event.context.deadline());
                handle(handler, event.payload, deadline)
                    .await
                    .map_err(|err| crate::diagnostic(&err))
            },
        ))
        .await
        .map_err(|err| ServeError::from(format!("Lambda runtime: {err}")))
    })
}

//! One line for a failed AWS SDK call. The SDK's `Debug` of an error (and its
//! `DisplayErrorContext`, which appends that `Debug`) runs to 2,000 characters that repeat the
//! message four times; a person needs the service's error code and message, or for a call that
//! never got an answer, what stopped it.

use std::error::Error;

use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// `Code: message` when the service answered with an error, otherwise the chain of causes
/// (`dispatch failure: io error: … Connection refused`), each said once, on one line.
pub fn sdk_error<E>(err: &E) -> String
where
    E: Error + ProvideErrorMetadata,
{
    match (err.code(), err.message()) {
        (Some(code), Some(message)) => one_line(&format!("{code}: {message}")),
        (Some(code), None) => code.to_string(),
        _ => error_chain(err),
    }
}

/// The service's message alone, for errors that show the code apart (`GetObject failed
/// (AccessDenied): Access Denied`); [`sdk_error`] when the service sent no message.
pub fn sdk_message<E>(err: &E) -> String
where
    E: Error + ProvideErrorMetadata,
{
    match err.message() {
        Some(message) => one_line(message),
        None => sdk_error(err),
    }
}

/// The `Display` of `err` and of each of its sources, joined by `: `, leaving out a cause whose
/// words the line already holds (the SDK often repeats its source in its own message).
pub fn error_chain(err: &dyn Error) -> String {
    let mut line = String::new();
    let mut next = Some(err);
    while let Some(err) = next {
        let text = one_line(&err.to_string());
        if !text.is_empty() && !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
        next = err.source();
    }
    line
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use std::fmt;

    use aws_smithy_types::error::ErrorMetadata;

    use super::*;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl Error for Layer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1.as_deref().map(|layer| layer as &(dyn Error + 'static))
        }
    }

    #[test]
    fn a_service_error_is_its_code_and_message() {
        let err = ErrorMetadata::builder()
            .code("AccessDeniedException")
            .message("User: arn:aws:iam::123456789012:user/dev is not authorized\n to perform: logs:PutSubscriptionFilter")
            .build();
        assert_eq!(
            sdk_error(&err),
            "AccessDeniedException: User: arn:aws:iam::123456789012:user/dev is not authorized to \
             perform: logs:PutSubscriptionFilter"
        );
    }

    #[test]
    fn an_error_without_an_answer_is_its_causes_each_said_once() {
        let err = Layer(
            "dispatch failure",
            Some(Box::new(Layer(
                "io error",
                Some(Box::new(Layer(
                    "tcp connect error: Connection refused (os error 111)",
                    Some(Box::new(Layer("Connection refused (os error 111)", None))),
                ))),
            ))),
        );
        assert_eq!(
            error_chain(&err),
            "dispatch failure: io error: tcp connect error: Connection refused (os error 111)"
        );
    }
}

//! What both Sluice functions do the same way where they meet Lambda, a terminal and CloudWatch:
//! reading [`settings`], tracing setup, the error a failed invocation reports, the invocation
//! deadline, the metrics namespace and the [`emf`] line both write their metrics in.

pub mod emf;
pub mod init_error;
pub mod lambda;
pub mod sdk_error;
pub mod settings;

pub use emf::Emf;

pub use init_error::report_init_error;
pub use sdk_error::sdk_error;

use std::io::IsTerminal;
use std::time::{Duration, Instant, SystemTime};

/// The CloudWatch Embedded Metric Format namespace of both functions' metrics (the
/// `FunctionName` dimension tells them apart); the template's alarms watch it.
pub const NAMESPACE: &str = "Sluice";

/// An error with a stable name for Lambda's `errorType` (and for alarms and log searches).
pub trait ErrorType: std::error::Error {
    fn error_type(&self) -> &'static str;
}

/// What Lambda reports for a failed invocation: the stable `errorType` and the message. The error
/// is logged once here, with its type, so every failed invocation leaves one log line.
pub fn diagnostic<E: ErrorType>(err: &E) -> lambda_runtime::Diagnostic {
    tracing::error!(error_type = err.error_type(), error = %err, "invocation failed");
    lambda_runtime::Diagnostic {
        error_type: err.error_type().to_string(),
        error_message: err.to_string(),
    }
}

/// Where log lines go and how they look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line, without timestamps (Lambda adds them): inside Lambda.
    Json,
    /// Human-readable lines on stderr, coloured only when stderr is a terminal: the CLIs.
    Terminal,
}

/// Installs the process's tracing subscriber at `level` (a `tracing` filter such as `info` or
/// `sluice_forwarder=debug`; an invalid one falls back to `info`).
pub fn init_tracing(level: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let terminal = std::io::stderr().is_terminal();
    match format {
        LogFormat::Json => builder.json().with_current_span(false).without_time().init(),
        LogFormat::Terminal if terminal => builder
            .with_ansi(true)
            .with_writer(LineStart(std::io::stderr))
            .init(),
        LogFormat::Terminal => builder.with_ansi(false).init(),
    }
}

/// A writer that clears the terminal's current line before each log line: a CLI's progress line
/// (`\r`, no newline) would otherwise have the log line glued onto it.
struct LineStart<M>(M);

impl<'a, M: tracing_subscriber::fmt::MakeWriter<'a>> tracing_subscriber::fmt::MakeWriter<'a>
    for LineStart<M>
{
    type Writer = M::Writer;

    fn make_writer(&'a self) -> M::Writer {
        use std::io::Write as _;
        let mut writer = self.0.make_writer();
        let _ = writer.write_all(CLEAR_LINE);
        writer
    }
}

/// Back to the start of the line, then erase it (ANSI "erase in line", all of it).
pub const CLEAR_LINE: &[u8] = b"\r\x1b[2K";

/// Checks a `LOG_LEVEL`: a level (`trace`, `debug`, `info`, `warn`, `error`, `off`) or `tracing`
/// directives (`sluice_forwarder=debug,info`). `Err` says what is expected: a lone word that is not
/// a level (`verbose`) would otherwise be read as the name of a module to log, silently.
pub fn check_log_level(level: &str) -> Result<(), String> {
    const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];
    let expected = "expected one of trace, debug, info, warn, error, off, or tracing directives such as sluice_forwarder=debug";
    let directives = level.split(',').map(str::trim).filter(|part| !part.is_empty());
    for directive in directives {
        let word = directive.rsplit('=').next().unwrap_or(directive);
        if !LEVELS.contains(&word.to_ascii_lowercase().as_str()) {
            return Err(expected.to_string());
        }
    }
    tracing_subscriber::EnvFilter::try_new(level)
        .map(drop)
        .map_err(|err| format!("{expected} ({err})"))
}

/// Whether this process runs inside Lambda (the runtime API is set) rather than as a CLI.
pub fn in_lambda() -> bool {
    std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some()
}

/// How long an invocation may run when its deadline cannot be right: Lambda's longest timeout.
pub const UNKNOWN_DEADLINE: Duration = Duration::from_secs(15 * 60);

/// The invocation's deadline (Lambda gives it as wall-clock time) as a monotonic `Instant`,
/// taken when the invocation starts. A deadline already past then is impossible (some local
/// emulators send a duration, not a time): it is treated as unknown, [`UNKNOWN_DEADLINE`] from
/// now, with a warning.
pub fn deadline(at: SystemTime) -> Instant {
    deadline_from(at, SystemTime::now(), Instant::now())
}

fn deadline_from(at: SystemTime, now: SystemTime, monotonic_now: Instant) -> Instant {
    match at.duration_since(now) {
        Ok(left) if !left.is_zero() => monotonic_now + left,
        _ => {
            let at_ms = at
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis());
            tracing::warn!(
                deadline_ms = at_ms as u64,
                "the invocation's deadline has passed before it started; taking it as unknown (15 minutes)"
            );
            monotonic_now + UNKNOWN_DEADLINE
        }
    }
}

#[cfg(test)]
mod tests {
    /// Issue 12, item 10: on a terminal, a log line starts on a cleared line, not glued onto the
    /// progress line (`3/10 objects…`, ended by `\r`, not a newline) before it.
    #[test]
    fn a_log_line_clears_the_progress_line_first() {
        use std::io::Write;
        use std::sync::{Arc, Mutex};

        #[derive(Clone)]
        struct Screen(Arc<Mutex<Vec<u8>>>);
        impl Write for Screen {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let screen = Screen(Arc::new(Mutex::new(Vec::new())));
        let writer = screen.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .without_time()
            .with_writer(LineStart(move || writer.clone()))
            .finish();
        screen.clone().write_all(b"\r3/10 objects, 200 events ").unwrap();
        tracing::subscriber::with_default(subscriber, || tracing::warn!("throttled, retrying"));
        let text = String::from_utf8(screen.0.lock().unwrap().clone()).unwrap();
        assert!(
            text.starts_with("\r3/10 objects, 200 events \r\x1b[2K")
                && text.ends_with("throttled, retrying\n"),
            "{text:?}"
        );
    }

    #[test]
    fn log_levels_are_levels_or_directives_with_levels() {
        for level in [
            "info",
            "WARN",
            "off",
            "sluice_forwarder=debug",
            "sluice_forwarder=debug,warn",
        ] {
            assert_eq!(super::check_log_level(level), Ok(()), "{level}");
        }
        for level in ["verbose", "sluice_forwarder=loud", "info,chatty"] {
            let err = super::check_log_level(level).unwrap_err();
            assert!(err.contains("expected one of trace"), "{level}: {err}");
        }
    }

    use super::*;

    #[test]
    fn the_deadline_keeps_the_time_left_and_an_impossible_one_is_unknown() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let monotonic = Instant::now();
        let later = now + Duration::from_millis(2_500);
        assert_eq!(
            deadline_from(later, now, monotonic),
            monotonic + Duration::from_millis(2_500)
        );
        // A duration sent where a time belongs: 1970 plus a few seconds.
        let earlier = SystemTime::UNIX_EPOCH + Duration::from_secs(3);
        assert_eq!(
            deadline_from(earlier, now, monotonic),
            monotonic + UNKNOWN_DEADLINE
        );
    }

    #[derive(Debug)]
    struct Refused;

    impl std::fmt::Display for Refused {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("the cluster refused the request")
        }
    }

    impl std::error::Error for Refused {}

    impl ErrorType for Refused {
        fn error_type(&self) -> &'static str {
            "Refused"
        }
    }

    #[test]
    fn a_diagnostic_carries_the_stable_type_and_the_message() {
        let diagnostic = diagnostic(&Refused);
        assert_eq!(diagnostic.error_type, "Refused");
        assert_eq!(diagnostic.error_message, "the cluster refused the request");
    }
}

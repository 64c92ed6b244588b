//! Stack traces written one line per log event, merged back into one document (`MULTILINE`).
//!
//! Containers writing to stdout and runtimes without a logging framework send CloudWatch Logs one
//! event per line of a trace. [`runs`] groups the consecutive events of one batch (one log
//! stream) whose messages continue a trace:
//! - Java (`Throwable.printStackTrace`): `\tat …` frames, `Caused by: …`, `\t... 12 more`, and the
//!   exception line (`java.lang.IllegalStateException: …`) right after an error line;
//! - Python (`traceback`): `Traceback (most recent call last):`, its indented lines, the exception
//!   line that ends it, and the chaining sentences between chained tracebacks;
//! - Node.js (`error.stack`): `    at …` frames and the properties block `console.error` prints
//!   after them, up to its closing `}`;
//! - any line that starts with whitespace after a line that names an error.
//!
//! The common case, a line that continues nothing, costs one look at its first byte: the error
//! words are searched in a run's first line only when the next line could continue it.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

/// Whether consecutive events of a trace become one document (`MULTILINE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Multiline {
    /// Trace lines are merged into the document of the event that began the trace.
    #[default]
    Auto,
    /// One document per event.
    Off,
}

/// The most events one document merges.
pub(crate) const MAX_LINES: usize = 1_000;
/// The largest merged message, in bytes (newlines included): CloudWatch Logs' own event limit.
pub(crate) const MAX_BYTES: usize = 256 * 1024;

/// Consecutive kept events that make one document: batch positions `start..end`, of which
/// `lines` were kept by the message filter (the others were skipped, not merged).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub start: usize,
    pub end: usize,
    pub lines: usize,
}

/// Groups kept events, `(position in the batch, message)` in batch order, into runs. Allocates
/// nothing: a run is yielded as soon as the event after it is known not to continue it.
pub fn runs<'a, I>(mode: Multiline, events: I) -> Runs<'a, I::IntoIter>
where
    I: IntoIterator<Item = (usize, &'a str)>,
{
    Runs {
        mode,
        events: events.into_iter(),
        pending: None,
    }
}

/// The iterator [`runs`] returns.
pub struct Runs<'a, I> {
    mode: Multiline,
    events: I,
    /// The event that ended the previous run, and the state it begins the next one in (a trace
    /// cut by the caps goes on being a trace).
    pending: Option<(usize, &'a str, State)>,
}

impl<'a, I: Iterator<Item = (usize, &'a str)>> Iterator for Runs<'a, I> {
    type Item = Run;

    fn next(&mut self) -> Option<Run> {
        let (start, head, mut state) = match self.pending.take() {
            Some(pending) => pending,
            None => {
                let (start, head) = self.events.next()?;
                (start, head, State::Head)
            }
        };
        let mut run = Run {
            start,
            end: start + 1,
            lines: 1,
        };
        if self.mode == Multiline::Off {
            return Some(run);
        }
        let mut bytes = line(head).len();
        for (position, message) in self.events.by_ref() {
            let text = line(message);
            let next = continues(state, head, text);
            match next {
                Some(next) if run.lines < MAX_LINES && bytes + 1 + text.len() <= MAX_BYTES => {
                    state = next;
                    bytes += 1 + text.len();
                    run.lines += 1;
                    run.end = position + 1;
                }
                _ => {
                    self.pending = Some((position, message, next.unwrap_or(State::Head)));
                    break;
                }
            }
        }
        Some(run)
    }
}

/// Where a run stands, which decides what may continue it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// One line so far, not looked at yet.
    Head,
    /// Java or Node.js frames, or indented lines after an error line.
    Frames,
    /// Inside a Python traceback, before its exception line.
    Python,
    /// After a Python exception line: only the text that chains another traceback continues.
    PythonEnd,
}

const TRACEBACK: &str = "Traceback (most recent call last):";
const CAUSED_BY: &str = "Caused by: ";
const PYTHON_CHAINS: [&str; 2] = [
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
];

/// The state after `line` if it continues a run in `state` that began with `head`.
fn continues(state: State, head: &str, line: &str) -> Option<State> {
    let first = line.as_bytes().first().copied();
    let indented = matches!(first, Some(b' ' | b'\t'));
    match state {
        State::Head => {
            // Cheap tests on the new line first: most lines fail them all.
            let candidate = indented
                || (first == Some(b'C') && line.starts_with(CAUSED_BY))
                || (first == Some(b'T') && line.starts_with(TRACEBACK))
                || java_exception_line(line);
            if !candidate {
                return None;
            }
            let head = line_start(head);
            if head.starts_with(TRACEBACK) {
                return indented.then_some(State::Python);
            }
            if indented && (head.starts_with([' ', '\t']) || head.starts_with(CAUSED_BY)) {
                // Frames whose trace began in an earlier batch stay together.
                return Some(State::Frames);
            }
            if !names_an_error(head) {
                return None;
            }
            if line.starts_with(TRACEBACK) {
                Some(State::Python)
            } else if indented || line.starts_with(CAUSED_BY) || !java_exception_line(head) {
                Some(State::Frames)
            } else {
                // Two exception lines in a row are two events.
                None
            }
        }
        State::Frames => {
            let more = line.starts_with("...") && line.trim_end().ends_with(" more");
            (indented || line.starts_with(CAUSED_BY) || more || line.trim_end() == "}")
                .then_some(State::Frames)
        }
        State::Python if indented => Some(State::Python),
        State::Python => (!line.trim().is_empty()).then_some(State::PythonEnd),
        State::PythonEnd => {
            if line.starts_with(TRACEBACK) {
                Some(State::Python)
            } else if line.trim().is_empty() || PYTHON_CHAINS.contains(&line.trim_end()) {
                Some(State::PythonEnd)
            } else {
                None
            }
        }
    }
}

/// Whether a line names an error: the line a trace hangs from.
fn names_an_error(line: &str) -> bool {
    static WORDS: LazyLock<AhoCorasick> = LazyLock::new(|| {
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build([
                "error",
                "exception",
                "traceback",
                "throwable",
                "fatal",
                "severe",
                "critical",
                "panic",
            ])
            .expect("fixed patterns")
    });
    WORDS.is_match(line)
}

/// `java.lang.IllegalStateException: …` or `com.example.Outer$NotFoundError`: a qualified class
/// name ending in Exception, Error or Throwable, then `:` or the end of the line.
fn java_exception_line(line: &str) -> bool {
    // One pass up to the first `:`, leaving at the first byte no class name has: most lines
    // that start in lowercase (`info: …`, `level=…`) are rejected within a few bytes.
    let bytes = line.as_bytes();
    if !bytes.first().is_some_and(u8::is_ascii_lowercase) {
        return false;
    }
    let mut end = bytes.len();
    let mut last_dot = None;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b':' => {
                end = i;
                break;
            }
            b'.' => last_dot = Some(i),
            b'\r' | b'\n' => {
                end = i;
                break;
            }
            _ if b.is_ascii_alphanumeric() || b == b'_' || b == b'$' => {}
            _ => return false,
        }
    }
    let Some(dot) = last_dot else {
        return false;
    };
    let class = &line[dot + 1..end];
    ["Exception", "Error", "Throwable"]
        .iter()
        .any(|suffix| class.ends_with(suffix))
}

/// A message without its line ending: what a merged message joins.
pub fn line(message: &str) -> &str {
    let message = message.strip_suffix('\n').unwrap_or(message);
    message.strip_suffix('\r').unwrap_or(message)
}

/// The first line of a message.
fn line_start(message: &str) -> &str {
    message.split_once('\n').map_or(message, |(first, _)| first)
}

/// The messages of a run joined with `\n`, each without its own line ending.
pub fn join<'a>(messages: impl Iterator<Item = &'a str> + Clone) -> String {
    let capacity = messages.clone().map(|m| m.len() + 1).sum();
    let mut out = String::with_capacity(capacity);
    for (i, message) in messages.enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(line(message));
    }
    out
}

/// The part of a (redacted) message its fields are parsed from: the first line of a merged
/// message, so that a trace's frames never pass for a JSON body or a runtime prefix; the whole
/// message of a single event.
pub fn head(message: &str, lines: usize) -> &str {
    if lines > 1 { line_start(message) } else { message }
}

/// Adds `"multiline":{"events":N}` to a JSON object written into `out` when it merges events.
pub(crate) fn push_events(out: &mut String, lines: usize) {
    if lines > 1 && out.ends_with('}') {
        out.pop();
        out.push_str(",\"multiline\":{\"events\":");
        out.push_str(&lines.to_string());
        out.push_str("}}");
    }
}

#[cfg(test)]
mod tests;

//! What `replay` reads: files or stdin, as JSON events one per line (NDJSON) or spread over
//! several lines (pretty-printed), each named by its source and line; one bad line loses no other.

use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;
use serde_json::Value;

/// One input of a replay.
pub struct Source {
    /// Its name in messages: a path, `stdin`.
    pub name: String,
    pub reader: Box<dyn BufRead + Send>,
    /// Whether reading may wait for the next line (stdin: a terminal, a pipe), rather than
    /// always find it at once (a file).
    pub may_wait: bool,
}

impl Source {
    /// A file, or anything else whose lines never keep a reader waiting.
    pub fn file(name: impl Into<String>, reader: impl BufRead + Send + 'static) -> Source {
        Source {
            name: name.into(),
            reader: Box::new(reader),
            may_wait: false,
        }
    }
}

/// One event as read: the line of its source it starts on, and its JSON.
pub(super) type Line = (usize, Result<Value, serde_json::Error>);

/// The events of one source, read so that waiting for the next never holds up Ctrl-C: a source
/// that may wait for its next line (stdin: a terminal, a pipe) is read on a thread of its own; a
/// file is read in place, yielding before each event.
pub(super) enum Lines {
    Thread(tokio::sync::mpsc::Receiver<Line>),
    InPlace(Box<dyn Iterator<Item = Line> + Send>),
}

impl Lines {
    /// The events of `source`.
    pub(super) fn of(source: Source) -> Lines {
        match source.may_wait {
            true => Lines::Thread(read_on_a_thread(source.reader)),
            false => Lines::InPlace(Box::new(events(source.reader))),
        }
    }

    /// The next event, `None` at the end. Cancel-safe: a future dropped before it is ready
    /// loses no event.
    pub(super) async fn next(&mut self) -> Option<Line> {
        match self {
            Lines::Thread(receiver) => receiver.recv().await,
            Lines::InPlace(lines) => {
                tokio::task::yield_now().await;
                lines.next()
            }
        }
    }
}

/// The events of `reader`, read by a thread that stops when the receiver is dropped.
fn read_on_a_thread(reader: Box<dyn BufRead + Send>) -> tokio::sync::mpsc::Receiver<Line> {
    let (sender, receiver) = tokio::sync::mpsc::channel(1);
    std::thread::spawn(move || {
        for line in events(reader) {
            if sender.blocking_send(line).is_err() {
                return;
            }
        }
    });
    receiver
}

/// The files to replay, opened, or stdin when there are none. A directory is refused (exit 2, as
/// for a file that cannot be opened); an empty file and reading a terminal get a line on `notes`.
pub(super) fn open_sources(files: &[PathBuf], notes: &mut dyn Write) -> anyhow::Result<Vec<Source>> {
    let mut sources: Vec<Source> = Vec::new();
    for path in files {
        anyhow::ensure!(
            !path.is_dir(),
            "{} is a directory: name the files in it (e.g. {}/*.json)",
            path.display(),
            path.display().to_string().trim_end_matches('/')
        );
        let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        if file
            .metadata()
            .is_ok_and(|meta| meta.is_file() && meta.len() == 0)
        {
            let _ = writeln!(notes, "sluice-forwarder: warning: {} is empty", path.display());
        }
        sources.push(Source::file(
            path.display().to_string(),
            BufReader::with_capacity(1 << 16, file),
        ));
    }
    if files.is_empty() {
        if std::io::stdin().is_terminal() {
            let _ = writeln!(
                notes,
                "sluice-forwarder: reading events from standard input, one JSON event per line (Ctrl-D ends)"
            );
        }
        sources.push(Source {
            name: "stdin".to_string(),
            reader: Box::new(BufReader::new(std::io::stdin())),
            may_wait: true,
        });
    }
    Ok(sources)
}

/// The JSON documents of a stream with the line each starts on: one per line (NDJSON), or
/// documents spread over several lines (pretty-printed). A line that starts no valid document is
/// reported with its number and the lines after it are read again, so one bad line loses no other.
pub(super) fn events(reader: impl BufRead) -> impl Iterator<Item = Line> {
    use std::collections::VecDeque;
    let mut lines = byte_lines(reader);
    let mut number = 0;
    // Lines to read (again) before the stream's next one.
    let mut again: VecDeque<(usize, String)> = VecDeque::new();
    // The lines of the document being read.
    let mut pending: Vec<(usize, String)> = Vec::new();
    let mut done = false;
    std::iter::from_fn(move || {
        loop {
            let next = match again.pop_front() {
                Some(line) => Some(line),
                None if done => None,
                None => match lines.next() {
                    Some(Ok(Ok(line))) => {
                        number += 1;
                        Some((number, line))
                    }
                    Some(Ok(Err(not_utf8))) => {
                        // Named and counted; the lines after it are still read.
                        number += 1;
                        let err = std::io::Error::new(std::io::ErrorKind::InvalidData, not_utf8);
                        return Some((number, Err(serde_json::Error::io(err))));
                    }
                    Some(Err(err)) => {
                        done = true;
                        return Some((number + 1, Err(serde_json::Error::io(err))));
                    }
                    None => {
                        done = true;
                        None
                    }
                },
            };
            let Some((at, line)) = next else {
                if pending.is_empty() {
                    return None;
                }
                // A document cut off by the end of the stream.
                let text = joined(&pending);
                return Some(give_up(&mut pending, &mut again, serde_json::from_str(&text)));
            };
            if pending.is_empty() {
                if line.trim().is_empty() {
                    continue;
                }
                // One document per line, the usual case: parsed without copying the line.
                match serde_json::from_str::<Value>(&line) {
                    Err(err) if err.is_eof() => {}
                    parsed => return Some((at, parsed)),
                }
            }
            pending.push((at, line));
            match serde_json::from_str::<Value>(&joined(&pending)) {
                Err(err) if err.is_eof() => continue,
                Ok(value) => {
                    let start = pending[0].0;
                    pending.clear();
                    return Some((start, Ok(value)));
                }
                Err(err) => return Some(give_up(&mut pending, &mut again, Err(err))),
            }
        }
    })
}

/// The lines of a stream, each checked for UTF-8 on its own, so a line that is not UTF-8 is one
/// error and not the end of the stream (as `BufRead::lines` makes it).
fn byte_lines(
    mut reader: impl BufRead,
) -> impl Iterator<Item = std::io::Result<Result<String, std::string::FromUtf8Error>>> {
    std::iter::from_fn(move || {
        let mut line = Vec::new();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => None,
            Ok(_) => {
                while matches!(line.last(), Some(b'\n' | b'\r')) {
                    line.pop();
                }
                Some(Ok(String::from_utf8(line)))
            }
            Err(err) => Some(Err(err)),
        }
    })
}

fn joined(lines: &[(usize, String)]) -> String {
    lines.iter().fold(String::new(), |mut text, (_, line)| {
        text.push_str(line);
        text.push('\n');
        text
    })
}

/// Reports the document's first line as not JSON and reads the lines after it again.
fn give_up(
    pending: &mut Vec<(usize, String)>,
    again: &mut std::collections::VecDeque<(usize, String)>,
    result: Result<Value, serde_json::Error>,
) -> (usize, Result<Value, serde_json::Error>) {
    let mut taken = pending.drain(..);
    let (start, _) = taken.next().unwrap_or_default();
    for line in taken.rev() {
        again.push_front(line);
    }
    (start, result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_is_refused_and_an_empty_file_noted() {
        let dir = std::env::temp_dir().join(format!("sluice-replay-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.json");
        std::fs::write(&empty, "").unwrap();
        let mut notes = Vec::new();
        let err = open_sources(std::slice::from_ref(&dir), &mut notes)
            .err()
            .expect("a directory is not a file of events");
        assert!(err.to_string().contains("is a directory"), "{err}");
        let sources = open_sources(std::slice::from_ref(&empty), &mut notes).unwrap();
        assert_eq!(sources.len(), 1);
        let notes = String::from_utf8(notes).unwrap();
        assert!(notes.contains("empty.json is empty"), "{notes}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn events_reads_ndjson_and_pretty_printed_documents() {
        let ndjson = "{\"a\":1}\n{\"a\":2}\n\n{\"a\":3}\n";
        let values: Vec<(usize, Value)> = events(ndjson.as_bytes())
            .map(|(line, value)| (line, value.unwrap()))
            .collect();
        assert_eq!(
            values,
            [
                (1, serde_json::json!({"a": 1})),
                (2, serde_json::json!({"a": 2})),
                (4, serde_json::json!({"a": 3}))
            ]
        );
        let pretty = "{\n  \"Records\": [\n    {}\n  ]\n}\n{\"a\":2}\n";
        let lines: Vec<usize> = events(pretty.as_bytes()).map(|(line, _)| line).collect();
        assert_eq!(lines, [1, 6]);
    }

    #[test]
    fn a_bad_line_is_reported_and_reading_goes_on() {
        let broken = "{\"a\":1}\n{not json\n{\"a\":3}\n{\"cut\":\n{\"a\":5}\n{\"a\":6}\n";
        let results: Vec<(usize, bool)> = events(broken.as_bytes())
            .map(|(line, value)| (line, value.is_ok()))
            .collect();
        assert_eq!(
            results,
            [(1, true), (2, false), (3, true), (4, false), (5, true), (6, true)]
        );
    }

    #[test]
    fn a_line_that_is_not_utf8_is_named_and_the_lines_after_it_are_read() {
        let bytes: &[u8] = b"{\"a\":1}\n{\"b\":\"\xff\"}\r\n{\"a\":3}\n";
        let results: Vec<(usize, bool)> = events(bytes).map(|(line, value)| (line, value.is_ok())).collect();
        assert_eq!(results, [(1, true), (2, false), (3, true)]);
        let (_, err) = events(bytes).nth(1).unwrap();
        assert!(err.unwrap_err().to_string().contains("utf-8"));
    }

    #[test]
    fn a_document_cut_off_at_the_end_is_an_error() {
        let results: Vec<_> = events("{\"a\":1}\n{\"a\":".as_bytes()).collect();
        assert_eq!(results.len(), 2);
        assert!(results[1].1.is_err());
        assert_eq!(results[1].0, 2);
    }
}

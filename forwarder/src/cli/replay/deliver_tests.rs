//! A delivering replay runs `BULK_CONCURRENCY` events at once and no more, and counts them in
//! the order of the input (issue 25), against a small `_bulk` server on loopback that holds the
//! request of one event back and watches which others arrive meanwhile.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::{Replay, Source};
use crate::config::{Config, Purpose};
use crate::handler::Forwarder;

/// The message of the event whose request the server holds back.
const HELD: &str = "hold this one";
/// How long the server holds it when fewer than two other requests come: the only way out for a
/// replay that waits for it before sending anything else, or that sends just one other.
const HOLD: Duration = Duration::from_secs(4);

/// What the server saw before it answered the request of [`HELD`].
#[derive(Default)]
struct Seen {
    /// The request of [`HELD`] was answered.
    answered: bool,
    /// Other `_bulk` requests that arrived before that answer (while it was held, or before it
    /// was read: the two are sent at once and either may come first).
    meanwhile: usize,
}

/// A `_bulk` server: every document is created (`201`), except that the request holding [`HELD`]
/// is held until two other requests came or [`HOLD`] passed, then refused with `400`. Setup
/// requests get `200 {}`.
fn serve() -> (String, Arc<(Mutex<Seen>, Condvar)>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new((Mutex::new(Seen::default()), Condvar::new()));
    let shared = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let seen = Arc::clone(&shared);
            std::thread::spawn(move || while answer(&stream, &seen).is_some() {});
        }
    });
    (endpoint, seen)
}

/// Reads one request from `stream` and answers it; `None` when the connection is closed.
fn answer(stream: &TcpStream, seen: &(Mutex<Seen>, Condvar)) -> Option<()> {
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).ok()? == 0 {
        return None;
    }
    let (mut length, mut gzip) = (0, false);
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end().to_ascii_lowercase();
        if header.is_empty() {
            break;
        }
        if let Some(value) = header.strip_prefix("content-length:") {
            length = value.trim().parse().ok()?;
        }
        gzip |= header == "content-encoding: gzip";
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    if gzip {
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_end(&mut plain)
            .ok()?;
        body = plain;
    }
    let body = String::from_utf8(body).ok()?;
    let (status, answer) = if !request_line.contains("/_bulk") {
        (200, "{}".to_string())
    } else if body.contains(HELD) {
        hold(seen);
        (
            400,
            r#"{"error":{"type":"held","reason":"held back"}}"#.to_string(),
        )
    } else {
        let (lock, changed) = seen;
        let mut seen = lock.lock().unwrap();
        if !seen.answered {
            seen.meanwhile += 1;
            changed.notify_all();
        }
        let items = vec![r#"{"create":{"status":201}}"#; body.lines().count() / 2];
        (
            200,
            format!(r#"{{"errors":false,"items":[{}]}}"#, items.join(",")),
        )
    };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
        answer.len()
    )
    .ok()
}

/// Holds the request of [`HELD`] until two other requests came, or [`HOLD`] passed.
fn hold((lock, changed): &(Mutex<Seen>, Condvar)) {
    let seen = lock.lock().unwrap();
    let (mut seen, _) = changed
        .wait_timeout_while(seen, HOLD, |seen| seen.meanwhile < 2)
        .unwrap();
    seen.answered = true;
}

/// A CloudWatch Logs subscription event of one log event saying `message`, as one line.
fn event(message: &str) -> String {
    let data = serde_json::json!({
        "messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/orders",
        "logStream": "s", "subscriptionFilters": ["sluice"],
        "logEvents": [{"id": message.len().to_string(), "timestamp": 1_764_400_000_000_i64, "message": message}]
    });
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    serde_json::to_writer(&mut gzip, &data).unwrap();
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(gzip.finish().unwrap());
    serde_json::json!({"awslogs": {"data": encoded}}).to_string()
}

/// With `BULK_CONCURRENCY=3`, the held event, a line that is not JSON and the next event are in
/// flight together: the next event is sent while the held one waits, the two after it are not
/// (they wait for the held one to be counted). The held event's failure is said before the bad
/// line after it, though the bad line was done first.
#[test]
fn events_run_bulk_concurrency_at_once_and_are_counted_in_order() {
    let (endpoint, seen) = serve();
    let settings = [
        ("AWS_REGION", "us-east-1"),
        ("OPENSEARCH_ENDPOINT", endpoint.as_str()),
        ("OPENSEARCH_AUTH", "none"),
        ("BULK_CONCURRENCY", "3"),
    ];
    let lookup = |name: &str| {
        settings
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
    };
    let config = Config::from_lookup(lookup, Purpose::Deliver).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let forwarder = runtime.block_on(Forwarder::new(config)).unwrap();
    let lines = [
        event(HELD),
        "not json".to_string(),
        event("two"),
        event("three"),
        event("four"),
    ];
    let input = lines.join("\n");
    let sources = vec![Source::file("events", std::io::Cursor::new(input.into_bytes()))];
    let (mut out, mut errors) = (Vec::new(), Vec::new());
    let total = runtime
        .block_on(Replay::new(&forwarder, false).files(sources, &mut out, &mut errors))
        .unwrap();
    assert_eq!(
        seen.0.lock().unwrap().meanwhile,
        1,
        "requests sent before the first was answered"
    );
    let errors = String::from_utf8(errors).unwrap();
    let said: Vec<&str> = errors.lines().collect();
    assert_eq!(said.len(), 2, "{errors}");
    assert!(
        said[0].starts_with("sluice-forwarder: events line 1: 1 events not delivered: HTTP 400"),
        "{errors}"
    );
    assert!(
        said[1].starts_with("sluice-forwarder: events line 2 is not JSON"),
        "{errors}"
    );
    let summary = &total.summary;
    assert_eq!(
        (summary.events, summary.indexed, summary.failed),
        (4, 3, 1),
        "{total:?}"
    );
    assert_eq!(total.malformed, 1);
    assert!(out.is_empty());
}

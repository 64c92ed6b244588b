//! A minimal Lambda Runtime API on a free loopback port: what a custom runtime (here the
//! `lambda_runtime` crate) asks of Lambda, and no more.
//!
//! API: <https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html> ("Using the Lambda
//! runtime API for custom runtimes"): `GET /2018-06-01/runtime/invocation/next` waits for an
//! event and answers it with the `Lambda-Runtime-Aws-Request-Id`, `Lambda-Runtime-Deadline-Ms`
//! (wall-clock ms), `Lambda-Runtime-Invoked-Function-Arn` and `Lambda-Runtime-Trace-Id` headers;
//! `POST …/invocation/{id}/response` and `POST …/invocation/{id}/error` answer it;
//! `POST /2018-06-01/runtime/init/error` says the function could not start. `lambda_runtime`
//! 1.5 requires the request id and deadline headers (it panics without them) and reads the rest
//! when present. Each connection is served by a thread of its own, HTTP/1.1 with keep-alive;
//! bodies come with `Content-Length` or chunked.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::HarnessError;

/// The answer of one invocation: the function's response, or the error it (or its init) reported.
pub type Answer = Result<Value, Value>;

/// One event waiting for the function to ask for it.
pub(crate) struct Invocation {
    pub id: String,
    pub event: Value,
    /// The deadline as Lambda gives it: milliseconds since the Unix epoch.
    pub deadline_ms: u128,
    pub function_arn: String,
    pub trace_id: String,
}

/// The server: stopped (its threads told to end, its port closed) when dropped.
pub(crate) struct RuntimeApi {
    address: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    work: Condvar,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Invocation>,
    answers: HashMap<String, oneshot::Sender<Answer>>,
    /// An init error reported while no invocation was waiting: the answer of the next one.
    init_error: Option<Value>,
    closed: bool,
}

impl RuntimeApi {
    pub fn start() -> Result<RuntimeApi, HarnessError> {
        let failed = |err: std::io::Error| HarnessError::Api {
            server: "Runtime API",
            what: format!("cannot listen on loopback: {err}"),
        };
        let listener = TcpListener::bind("127.0.0.1:0").map_err(failed)?;
        let address = listener.local_addr().map_err(failed)?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            work: Condvar::new(),
        });
        let accepting = Arc::clone(&shared);
        let accept = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if accepting.lock().closed {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = Arc::clone(&accepting);
                std::thread::spawn(move || serve_connection(stream, &shared));
            }
        });
        Ok(RuntimeApi {
            address,
            shared,
            accept: Some(accept),
        })
    }

    /// `host:port`: the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// Queues `invocation` for the function; its answer arrives on the receiver. An init error
    /// reported before it was queued is its answer at once.
    pub fn submit(&self, invocation: Invocation) -> oneshot::Receiver<Answer> {
        let (sender, receiver) = oneshot::channel();
        let mut state = self.shared.lock();
        if let Some(error) = state.init_error.take() {
            let _ = sender.send(Err(error));
            return receiver;
        }
        state.answers.insert(invocation.id.clone(), sender);
        state.queue.push_back(invocation);
        self.shared.work.notify_all();
        receiver
    }

    /// The init error no invocation has been given yet, if the function reported one.
    pub fn take_init_error(&self) -> Option<Value> {
        self.shared.lock().init_error.take()
    }

    /// Drops the invocation `id`, taken or not: nobody waits for its answer any more.
    pub fn forget(&self, id: &str) {
        let mut state = self.shared.lock();
        state.queue.retain(|invocation| invocation.id != id);
        state.answers.remove(id);
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.work.notify_all();
        // Wake the accept loop so that it sees `closed`.
        let _ = TcpStream::connect(self.address);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The next invocation, once there is one; `None` when the server closes.
    fn next(&self) -> Option<Invocation> {
        let mut state = self.lock();
        loop {
            if state.closed {
                return None;
            }
            if let Some(invocation) = state.queue.pop_front() {
                return Some(invocation);
            }
            state = self
                .work
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    /// Hands `answer` to whoever waits for invocation `id`; false if nobody does.
    fn answer(&self, id: &str, answer: Answer) -> bool {
        let sender = self.lock().answers.remove(id);
        sender.is_some_and(|sender| sender.send(answer).is_ok())
    }

    /// An init error answers every waiting invocation, or else the next one.
    fn init_failed(&self, error: Value) {
        let mut state = self.lock();
        state.queue.clear();
        let waiting: Vec<_> = state.answers.drain().map(|(_, sender)| sender).collect();
        if waiting.is_empty() {
            state.init_error = Some(error);
            return;
        }
        for sender in waiting {
            let _ = sender.send(Err(error.clone()));
        }
    }
}

/// One HTTP request as the runtime sends it.
#[derive(Debug, PartialEq)]
pub(crate) struct Request {
    pub method: String,
    pub path: String,
    pub body: Vec<u8>,
}

/// One HTTP response: status, extra headers, JSON body.
struct Response {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Value,
}

impl Response {
    fn json(status: u16, body: Value) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body,
        }
    }
}

fn serve_connection(stream: TcpStream, shared: &Shared) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Ok(Some(request)) = read_request(&mut reader) {
        let Some(response) = route(shared, request) else {
            return;
        };
        if write_response(&mut writer, &response).is_err() {
            return;
        }
    }
}

/// What the server answers `request`; `None` closes the connection (the server is closing).
fn route(shared: &Shared, request: Request) -> Option<Response> {
    const PREFIX: &str = "/2018-06-01/runtime/";
    let accepted = || Response::json(202, json!({"status": "OK"}));
    let Some(path) = request.path.strip_prefix(PREFIX) else {
        return Some(Response::json(404, json!({"errorMessage": "not found"})));
    };
    match (request.method.as_str(), path) {
        ("GET", "invocation/next") => shared.next().map(next_response),
        ("POST", "init/error") => {
            shared.init_failed(body_json(&request.body));
            Some(accepted())
        }
        ("POST", path) => {
            let (id, verb) = path
                .strip_prefix("invocation/")
                .and_then(|rest| rest.split_once('/'))
                .unwrap_or_default();
            let answer = match verb {
                "response" => Ok(body_json(&request.body)),
                "error" => Err(body_json(&request.body)),
                _ => return Some(Response::json(404, json!({"errorMessage": "not found"}))),
            };
            Some(match shared.answer(id, answer) {
                true => accepted(),
                false => Response::json(
                    400,
                    json!({"errorMessage": format!("no invocation {id} is waiting"),
                           "errorType": "InvalidRequestID"}),
                ),
            })
        }
        _ => Some(Response::json(404, json!({"errorMessage": "not found"}))),
    }
}

fn next_response(invocation: Invocation) -> Response {
    Response {
        status: 200,
        headers: vec![
            ("Lambda-Runtime-Aws-Request-Id", invocation.id),
            ("Lambda-Runtime-Deadline-Ms", invocation.deadline_ms.to_string()),
            ("Lambda-Runtime-Invoked-Function-Arn", invocation.function_arn),
            ("Lambda-Runtime-Trace-Id", invocation.trace_id),
        ],
        body: invocation.event,
    }
}

/// A body that is not JSON is kept as a JSON string, so that a test sees what was sent.
fn body_json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into()))
}

/// Reads one request; `None` at the end of the connection.
pub(crate) fn read_request(reader: &mut impl BufRead) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(path)) = (parts.next(), parts.next()) else {
        return Err(invalid(format!("request line {line:?}")));
    };
    let (method, path) = (method.to_string(), path.to_string());
    let (mut length, mut chunked) = (0, false);
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').unwrap_or((header, ""));
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = value
                .parse()
                .map_err(|_| invalid(format!("Content-Length {value}")))?;
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        }
    }
    let body = match chunked {
        true => read_chunked(reader)?,
        false => {
            let mut body = vec![0; length];
            reader.read_exact(&mut body)?;
            body
        }
    };
    Ok(Some(Request { method, path, body }))
}

/// A chunked body (RFC 9112, section 7.1), trailers read and dropped.
fn read_chunked(reader: &mut impl BufRead) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let size = line.trim_end().split(';').next().unwrap_or_default();
        let size = usize::from_str_radix(size, 16).map_err(|_| invalid(format!("chunk size {line:?}")))?;
        if size == 0 {
            break;
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        let mut end = [0; 2];
        reader.read_exact(&mut end)?;
    }
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
            return Ok(body);
        }
    }
}

fn write_response(writer: &mut impl Write, response: &Response) -> std::io::Result<()> {
    let body = response.body.to_string();
    let reason = match response.status {
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        _ => "Not Found",
    };
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        response.status,
        body.len()
    );
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    writer.write_all(head.as_bytes())?;
    writer.write_all(body.as_bytes())?;
    writer.flush()
}

fn invalid(what: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_read_with_a_length_or_in_chunks_one_after_another() {
        let wire = "POST /2018-06-01/runtime/invocation/a/response HTTP/1.1\r\n\
                    content-length: 11\r\nhost: x\r\n\r\n{\"ok\":true}\
                    POST /2018-06-01/runtime/invocation/b/error HTTP/1.1\r\n\
                    Transfer-Encoding: chunked\r\n\r\n4\r\n{\"e\"\r\n3;x=y\r\n:1}\r\n0\r\nT: v\r\n\r\n\
                    GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n";
        let mut reader = BufReader::new(wire.as_bytes());
        let mut read = || read_request(&mut reader).expect("a request");
        let first = read().expect("first");
        assert_eq!(first.path, "/2018-06-01/runtime/invocation/a/response");
        assert_eq!(first.body, br#"{"ok":true}"#);
        assert_eq!(read().expect("second").body, br#"{"e":1}"#);
        let third = read().expect("third");
        assert_eq!((third.method.as_str(), third.body.len()), ("GET", 0));
        assert_eq!(read(), None, "the end of the connection");
    }

    #[test]
    fn answers_reach_their_invocation_and_an_init_error_answers_every_waiting_one() {
        let shared = Shared {
            state: Mutex::new(State::default()),
            work: Condvar::new(),
        };
        let (sender, mut first) = oneshot::channel();
        shared.lock().answers.insert("a".into(), sender);
        let post = |path: &str, body: &str| Request {
            method: "POST".into(),
            path: format!("/2018-06-01/runtime/{path}"),
            body: body.as_bytes().to_vec(),
        };
        let status = |response: Option<Response>| response.expect("an answer").status;
        assert_eq!(status(route(&shared, post("invocation/b/response", "{}"))), 400);
        assert_eq!(
            status(route(&shared, post("invocation/a/error", r#"{"errorType":"X"}"#))),
            202
        );
        assert_eq!(
            first.try_recv().expect("answered"),
            Err(json!({"errorType": "X"}))
        );

        let (sender, mut waiting) = oneshot::channel();
        shared.lock().answers.insert("c".into(), sender);
        let init = r#"{"errorType":"Runtime.InitError"}"#;
        assert_eq!(status(route(&shared, post("init/error", init))), 202);
        assert_eq!(
            waiting.try_recv().expect("answered"),
            Err(json!({"errorType": "Runtime.InitError"}))
        );
        assert_eq!(
            shared.lock().init_error,
            None,
            "given to the invocation that waited"
        );
        route(&shared, post("init/error", init));
        assert_eq!(
            shared.lock().init_error,
            Some(json!({"errorType": "Runtime.InitError"}))
        );
    }
}

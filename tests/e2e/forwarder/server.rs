//! A small scripted OpenSearch stand-in for fault tests: a tokio `TcpListener` that answers each
//! `_bulk` request as a script says (per-item statuses, whole-request statuses, delays) and
//! records what it was sent. HTTP/1.1 with keep-alive, gzip bodies decoded.

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One bulk item as received: its action line and its source.
#[derive(Debug, Clone)]
pub struct Item {
    pub action: String,
    pub index: String,
    pub id: Option<String>,
    pub source: Value,
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub gzip: bool,
    /// Header names in lower case, values as sent.
    pub headers: Vec<(String, String)>,
    /// The body as it arrived (compressed when `gzip`).
    pub raw_body: Vec<u8>,
    pub items: Vec<Item>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How the server answers one `_bulk` request.
pub enum Reply {
    /// A whole-request status with a plain body.
    Status(u16),
    /// 200 with one status per item (201 created, 409 duplicate, 429, 400 mapping conflict, …).
    Items(Vec<u16>),
    /// Waits, then answers as the inner reply.
    Slow(Duration, Box<Reply>),
}

/// Decides the answer to request number `n` (0-based, `_bulk` requests only).
pub type Script = dyn Fn(usize, &Seen) -> Reply + Send + Sync;

pub struct ScriptedServer {
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ScriptedServer {
    pub async fn start(script: impl Fn(usize, &Seen) -> Reply + Send + Sync + 'static) -> ScriptedServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let script: Arc<Script> = Arc::new(script);
        let task = tokio::spawn({
            let seen = Arc::clone(&seen);
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(serve(stream, Arc::clone(&script), Arc::clone(&seen)));
                }
            }
        });
        ScriptedServer { url, seen, task }
    }

    /// Every `_bulk` request received so far.
    pub fn bulk_requests(&self) -> Vec<Seen> {
        self.seen
            .lock()
            .expect("lock")
            .iter()
            .filter(|s| s.path.ends_with("/_bulk"))
            .cloned()
            .collect()
    }
}

/// Every status answers a plain 200 to non-bulk requests (template, ISM).
async fn serve(mut stream: TcpStream, script: Arc<Script>, seen: Arc<Mutex<Vec<Seen>>>) {
    let mut buffer = Vec::new();
    loop {
        let Some((head, body)) = read_request(&mut stream, &mut buffer).await else {
            return;
        };
        let mut lines = head.lines();
        let request_line = lines.next().unwrap_or_default().to_string();
        let path = request_line.split(' ').nth(1).unwrap_or("/").to_string();
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
            .collect();
        let gzip = headers
            .iter()
            .any(|(n, v)| n == "content-encoding" && v == "gzip");
        if !path.ends_with("/_bulk") {
            seen.lock().expect("lock").push(Seen {
                path,
                gzip,
                headers,
                raw_body: body,
                items: Vec::new(),
            });
            if write(&mut stream, 200, "{}").await.is_err() {
                return;
            }
            continue;
        }
        let text = if gzip {
            let mut text = Vec::new();
            flate2::read::GzDecoder::new(&body[..])
                .read_to_end(&mut text)
                .expect("gzip body");
            text
        } else {
            body.clone()
        };
        let request = Seen {
            path,
            gzip,
            headers,
            items: parse_bulk(&text),
            raw_body: body,
        };
        let n = {
            let mut seen = seen.lock().expect("lock");
            seen.push(request.clone());
            seen.iter().filter(|s| s.path.ends_with("/_bulk")).count() - 1
        };
        let mut reply = script(n, &request);
        while let Reply::Slow(delay, inner) = reply {
            tokio::time::sleep(delay).await;
            reply = *inner;
        }
        let (status, body) = match reply {
            Reply::Status(status) => (
                status,
                json!({"error": {"type": "scripted", "reason": "scripted failure"}, "status": status})
                    .to_string(),
            ),
            Reply::Items(statuses) => (200, bulk_answer(&request, &statuses).to_string()),
            Reply::Slow(..) => unreachable!("unwrapped above"),
        };
        if write(&mut stream, status, &body).await.is_err() {
            return;
        }
    }
}

/// The `_bulk` answer OpenSearch gives for these item statuses.
fn bulk_answer(request: &Seen, statuses: &[u16]) -> Value {
    let items: Vec<Value> = request
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let status = statuses.get(i).copied().unwrap_or(201);
            let mut result = json!({"_index": item.index, "_id": item.id, "status": status});
            match status {
                200 | 201 => result["result"] = json!("created"),
                409 => {
                    result["error"] = json!({"type": "version_conflict_engine_exception",
                        "reason": format!("[{}]: version conflict, document already exists", item.id.clone().unwrap_or_default())})
                }
                429 => {
                    result["error"] = json!({"type": "es_rejected_execution_exception",
                        "reason": "rejected execution of coordinating operation"})
                }
                400 => {
                    result["error"] = json!({"type": "mapper_parsing_exception",
                        "reason": "failed to parse field [json.status] of type [long]"})
                }
                _ => result["error"] = json!({"type": "scripted_exception", "reason": "scripted"}),
            }
            json!({ item.action.clone(): result })
        })
        .collect();
    let errors = statuses.iter().any(|s| *s >= 300);
    json!({"took": 1, "errors": errors, "items": items})
}

/// The items of a `_bulk` body: each action with its index, `_id` and source.
pub fn parse_bulk(body: &[u8]) -> Vec<Item> {
    let text = String::from_utf8_lossy(body);
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let mut items = Vec::new();
    while let Some(action_line) = lines.next() {
        let action: Value = serde_json::from_str(action_line).expect("bulk action line is JSON");
        let (name, meta) = action
            .as_object()
            .and_then(|m| m.iter().next())
            .expect("one action");
        let source: Value = lines
            .next()
            .map(|l| serde_json::from_str(l).expect("bulk source line is JSON"))
            .unwrap_or(Value::Null);
        items.push(Item {
            action: name.clone(),
            index: meta["_index"].as_str().unwrap_or_default().to_string(),
            id: meta["_id"].as_str().map(str::to_string),
            source,
        });
    }
    items
}

async fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<(String, Vec<u8>)> {
    let mut chunk = [0u8; 16384];
    let head_end = loop {
        if let Some(pos) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
    let length = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let body_start = head_end + 4;
    while buffer.len() < body_start + length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = buffer[body_start..body_start + length].to_vec();
    buffer.drain(..body_start + length);
    Some((head, body))
}

async fn write(stream: &mut TcpStream, status: u16, body: &str) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await
}

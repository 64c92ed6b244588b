//! `INDEX_MODE=data-stream` against an in-test stand-in, since osmem-server has no data streams:
//! a small HTTP server that keeps the index templates and ISM policies it is sent and answers
//! `_bulk` as OpenSearch documents data streams
//! (<https://opensearch.org/docs/latest/im-plugin/data-streams/>): a name matched by a template
//! with `data_stream` is a stream, written only with `create` and only with `@timestamp`, its
//! documents landing in the backing index `.ds-<stream>-000001`; any other name is a plain index.
//! A `create` whose `_id` is already there answers 409, as within one backing index.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::server::{Item, parse_bulk};
use super::*;

/// One `_bulk` item as received and answered.
#[derive(Debug, Clone)]
struct Written {
    action: String,
    target: String,
    source: Value,
    status: u16,
}

/// What the stand-in cluster holds.
#[derive(Debug, Default)]
struct Cluster {
    templates: BTreeMap<String, Value>,
    policies: BTreeMap<String, Value>,
    /// Data streams created by a write, as OpenSearch creates them on the first `create`.
    streams: BTreeSet<String>,
    /// `(target, _id)` of every document stored.
    ids: BTreeSet<(String, String)>,
    written: Vec<Written>,
}

impl Cluster {
    /// The template OpenSearch would apply to `name`: the highest priority one that matches.
    fn template_for(&self, name: &str) -> Option<&Value> {
        self.templates
            .values()
            .filter(|template| {
                template["index_patterns"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .any(|pattern| wildcard(pattern, name))
            })
            .max_by_key(|template| template["priority"].as_u64().unwrap_or(0))
    }

    /// The answer to one `_bulk` item.
    fn write(&mut self, item: Item) -> Value {
        let Item {
            action,
            index: target,
            id,
            source,
        } = item;
        let stream = self
            .template_for(&target)
            .is_some_and(|template| template.get("data_stream").is_some());
        let error = |status: u16, kind: &str, reason: &str| {
            (
                status,
                json!({"_index": target, "_id": id, "status": status,
                       "error": {"type": kind, "reason": reason}}),
            )
        };
        let (status, item) = if stream && action != "create" {
            error(
                400,
                "illegal_argument_exception",
                "only write ops with an op_type of create are allowed in data streams",
            )
        } else if stream && !source["@timestamp"].is_string() {
            error(
                400,
                "mapper_parsing_exception",
                "data stream timestamp field [@timestamp] is missing",
            )
        } else if stream && source["message"].as_str().is_some_and(|m| m.contains("poison")) {
            error(
                400,
                "mapper_parsing_exception",
                "failed to parse field [message]: scripted conflict",
            )
        } else if id
            .as_ref()
            .is_some_and(|id| self.ids.contains(&(target.clone(), id.clone())))
        {
            error(
                409,
                "version_conflict_engine_exception",
                "version conflict, document already exists",
            )
        } else {
            if let Some(id) = &id {
                self.ids.insert((target.clone(), id.clone()));
            }
            let index = if stream {
                self.streams.insert(target.clone());
                format!(".ds-{target}-000001")
            } else {
                target.clone()
            };
            (
                201,
                json!({"_index": index, "_id": id, "status": 201, "result": "created"}),
            )
        };
        self.written.push(Written {
            action: action.to_string(),
            target: target.clone(),
            source,
            status,
        });
        json!({ action: item })
    }

    fn bulk(&mut self, body: &[u8]) -> Value {
        let items: Vec<Value> = parse_bulk(body)
            .into_iter()
            .map(|item| self.write(item))
            .collect();
        let errors = items.iter().any(|item| {
            item.as_object()
                .and_then(|m| m.values().next())
                .is_some_and(|r| r["status"] != 201)
        });
        json!({"took": 1, "errors": errors, "items": items})
    }

    fn answer(&mut self, method: &str, path: &str, body: &[u8]) -> (u16, Value) {
        let json = || serde_json::from_slice::<Value>(body).expect("setup body is JSON");
        match (method, path) {
            ("POST", "/_bulk") => (200, self.bulk(body)),
            ("GET", "/_plugins/_ism/policies") => (200, json!({"policies": [], "total_policies": 0})),
            ("PUT", _) => {
                if let Some(name) = path.strip_prefix("/_index_template/") {
                    self.templates.insert(name.to_string(), json());
                    return (200, json!({"acknowledged": true}));
                }
                if let Some(id) = path.strip_prefix("/_plugins/_ism/policies/") {
                    self.policies.insert(id.to_string(), json());
                    return (201, json!({"_id": id}));
                }
                (404, json!({"error": format!("no handler for {method} {path}")}))
            }
            _ => (404, json!({"error": format!("no handler for {method} {path}")})),
        }
    }
}

/// `*` wildcards, as index patterns use them.
fn wildcard(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, rest)) => {
            name.starts_with(head)
                && (0..=name.len() - head.len()).any(|skip| {
                    name.is_char_boundary(head.len() + skip) && wildcard(rest, &name[head.len() + skip..])
                })
        }
    }
}

struct DataStreamServer {
    url: String,
    cluster: Arc<Mutex<Cluster>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for DataStreamServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl DataStreamServer {
    async fn start() -> DataStreamServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let cluster = Arc::new(Mutex::new(Cluster::default()));
        let task = tokio::spawn({
            let cluster = Arc::clone(&cluster);
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(serve(stream, Arc::clone(&cluster)));
                }
            }
        });
        DataStreamServer { url, cluster, task }
    }

    fn cluster(&self) -> std::sync::MutexGuard<'_, Cluster> {
        self.cluster.lock().expect("lock")
    }
}

/// HTTP/1.1 with keep-alive; gzip bodies decoded.
async fn serve(mut stream: TcpStream, cluster: Arc<Mutex<Cluster>>) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 16384];
    loop {
        let head_end = loop {
            if let Some(pos) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break pos;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).to_ascii_lowercase();
        let header = |name: &str| {
            head.lines()
                .filter_map(|line| line.split_once(':'))
                .find(|(n, _)| n.trim() == name)
                .map(|(_, v)| v.trim().to_string())
        };
        let length: usize = header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        while buffer.len() < head_end + 4 + length {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        }
        let mut body = buffer[head_end + 4..head_end + 4 + length].to_vec();
        let request_line = String::from_utf8_lossy(&buffer[..head_end])
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        buffer.drain(..head_end + 4 + length);
        if header("content-encoding").as_deref() == Some("gzip") {
            let mut plain = Vec::new();
            flate2::read::GzDecoder::new(&body[..])
                .read_to_end(&mut plain)
                .expect("gzip body");
            body = plain;
        }
        let mut parts = request_line.split(' ');
        let method = parts.next().unwrap_or_default().to_string();
        let path = parts
            .next()
            .unwrap_or("/")
            .split('?')
            .next()
            .unwrap_or("/")
            .to_string();
        let (status, answer) = cluster.lock().expect("lock").answer(&method, &path, &body);
        let answer = answer.to_string();
        let response = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
            answer.len()
        );
        if stream.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}

#[tokio::test]
async fn data_streams_are_set_up_and_written_as_opensearch_documents_them() {
    let server = DataStreamServer::start().await;
    let forwarder = forwarder(
        &server.url,
        &[
            ("INDEX_MODE", "data-stream"),
            ("INDEX_RULES", "/aws/rds/*=rds"),
            ("INDEX_RETENTION_DAYS", "14"),
        ],
    )
    .await;
    let input = app_and_rds_batch();

    let handled = forwarder
        .handle(input.clone(), deadline_in(60.0))
        .await
        .expect("delivered");

    let summary = &handled.summary;
    assert_eq!((summary.indexed, summary.dead_lettered), (5, 1), "{summary:?}");
    assert_counts_add_up(summary);
    {
        let cluster = server.cluster();
        check_stream_templates_and_policies(&cluster);
        check_writes_are_creates_into_streams(&cluster);
    }

    // A retried batch: the same `_id`s, refused as already there.
    let again = forwarder
        .handle(input, deadline_in(60.0))
        .await
        .expect("delivered");
    assert_eq!(again.summary.indexed, 0, "{:?}", again.summary);
    assert_eq!(again.summary.duplicates, 5, "{:?}", again.summary);
    assert_counts_add_up(&again.summary);
}

/// A Kinesis event of two log groups: three app events and one the stream refuses, and two RDS
/// events on two days.
fn app_and_rds_batch() -> Value {
    let mut app = numbered_events("app", NOV_22_10H, 3);
    app.push(event(
        "poison-1",
        NOV_22_10H,
        "poison: the stream refuses this one",
    ));
    // Two days of events: still one stream, the date is not in the name.
    let rds = numbered_events("rds", NOV_22_10H + 86_400_000 - 1000, 2);
    kinesis_event(&[
        gzip_json(&logs_data("/aws/lambda/app", app)),
        gzip_json(&logs_data("/aws/rds/instance/db-1/postgresql", rds)),
    ])
}

/// Each stream has a `data_stream` template and a rollover policy that deletes after the
/// retention; the dead-letter index's template stays plain.
fn check_stream_templates_and_policies(cluster: &Cluster) {
    for stream in ["cwl", "rds"] {
        let template = &cluster.templates[stream];
        assert_eq!(template["index_patterns"], json!([stream]));
        assert_eq!(template["data_stream"], json!({}));
        assert_eq!(
            template["template"]["mappings"]["properties"]["@timestamp"]["type"],
            "date"
        );
        let policy = &cluster.policies[&format!("{stream}-rollover")]["policy"];
        assert_eq!(policy["ism_template"][0]["index_patterns"], json!([stream]));
        let hot = &policy["states"][0];
        assert!(
            hot["actions"][0]["rollover"]["min_index_age"].is_string(),
            "{policy}"
        );
        assert_eq!(
            hot["transitions"],
            json!([{"state_name": "delete", "conditions": {"min_index_age": "14d"}}])
        );
        assert_eq!(policy["states"][1]["actions"], json!([{"delete": {}}]));
    }
    let dead_letter = &cluster.templates["cwl-dead-letter"];
    assert_eq!(dead_letter["index_patterns"], json!(["cwl-dead-letter"]));
    assert!(
        dead_letter.get("data_stream").is_none(),
        "the dead-letter index stays plain"
    );
}

/// Every write is a `create`, into the streams or the dead-letter index, never a dated index.
fn check_writes_are_creates_into_streams(cluster: &Cluster) {
    assert!(cluster.written.iter().all(|w| w.action == "create"));
    let targets: BTreeSet<&str> = cluster.written.iter().map(|w| w.target.as_str()).collect();
    assert_eq!(
        targets,
        BTreeSet::from(["cwl", "cwl-dead-letter", "rds"]),
        "no dated index"
    );
    assert_eq!(
        cluster.streams,
        BTreeSet::from(["cwl".to_string(), "rds".to_string()])
    );
    let stored = |target: &str| {
        cluster
            .written
            .iter()
            .filter(|w| w.target == target && w.status == 201)
            // Dead-letter documents keep `event_id`.
            .map(|w| {
                let id = w.source["event"]["id"].as_str().or(w.source["event_id"].as_str());
                id.unwrap_or_default().to_string()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(stored("cwl"), ["app-0", "app-1", "app-2"]);
    assert_eq!(stored("rds"), ["rds-0", "rds-1"]);
    assert_eq!(stored("cwl-dead-letter"), ["poison-1"]);
}

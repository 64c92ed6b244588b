//! When CloudWatch Logs says no, or says nothing: a sweep that fails as a whole still reports its
//! `Errors` metric (the alarm is the only way anyone learns the subscriber is broken), and AWS
//! errors read as one line with the service's code and message, not the SDK's debug dump.
//! CloudWatch Logs is played by a small in-test HTTP server: moto grants every call.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_cloudwatchlogs::config::{BehaviorVersion, Region};
use serde_json::{Value, json};
use sluice_subscriber::aws::Logs;
use sluice_subscriber::handler::Handler;
use sluice_subscriber::sweep::Sweeper;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

use super::config;

pub const FORWARDER: &str = "arn:aws:lambda:us-east-1:123456789012:function:sluice-forwarder";

/// What IAM answers a role without `logs:DescribeLogGroups`, as CloudWatch Logs' JSON protocol
/// carries it (`__type` and `message`).
pub const DENIED: &str = "User: arn:aws:sts::123456789012:assumed-role/sluice-Subscriber/sluice-Subscriber-1 \
     is not authorized to perform: logs:DescribeLogGroups because no identity-based policy allows the \
     logs:DescribeLogGroups action";

/// How the stand-in answers every request.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    /// 400 AccessDeniedException with [`DENIED`].
    Denied,
    /// Accepts the connection and closes it without a word.
    Hangup,
}

/// A loopback server answering every request the same way; counts the connections it accepted.
pub struct StandIn {
    pub url: String,
    pub connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl StandIn {
    pub async fn start(answer: Answer) -> StandIn {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&connections);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(stream, answer));
            }
        });
        StandIn {
            url,
            connections,
            task,
        }
    }
}

async fn serve(mut stream: TcpStream, answer: Answer) {
    if let Answer::Hangup = answer {
        return;
    }
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        // One request per connection: read the head, then the body by its length.
        let Ok(read) = stream.read(&mut chunk).await else {
            return;
        };
        if read == 0 {
            return;
        }
        buffer.extend_from_slice(&chunk[..read]);
        let text = String::from_utf8_lossy(&buffer).to_string();
        let Some(end) = text.find("\r\n\r\n") else {
            continue;
        };
        let length = text[..end]
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        if buffer.len() >= end + 4 + length {
            break;
        }
    }
    let body = json!({"__type": "AccessDeniedException", "message": DENIED}).to_string();
    let response = format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.1\r\n\
         x-amzn-requestid: 5d6c3f1e-0000-4000-8000-000000000000\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// A CloudWatch Logs client for `url`, with static test credentials.
pub fn logs_client(url: &str) -> aws_sdk_cloudwatchlogs::Client {
    let config = aws_sdk_cloudwatchlogs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "sluice-tests"))
        .build();
    aws_sdk_cloudwatchlogs::Client::from_conf(config)
}

fn handler(url: &str) -> (Handler, Arc<Mutex<Vec<Value>>>) {
    let config = config(&[
        ("DESTINATION_ARN", FORWARDER),
        ("AWS_LAMBDA_FUNCTION_NAME", "sluice-Subscriber-1"),
    ]);
    let mut handler = Handler::new(
        Sweeper::new(Logs::new(logs_client(url), 1000.0), config),
        aws_sdk_lambda::Client::from_conf(
            aws_sdk_lambda::Config::builder()
                .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
                .endpoint_url(url)
                .region(aws_sdk_lambda::config::Region::new("us-east-1"))
                .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
                .build(),
        ),
        "sluice-Subscriber-1".into(),
    );
    let sink = Arc::new(Mutex::new(Vec::new()));
    handler.metrics = Box::new(Arc::clone(&sink));
    (handler, sink)
}

#[tokio::test]
async fn a_sweep_denied_describe_log_groups_fails_with_the_code_and_message_and_still_counts_an_error() {
    let server = StandIn::start(Answer::Denied).await;
    let (handler, sink) = handler(&server.url);
    for event in [json!({"action": "sweep"}), json!({"action": "unsubscribe"})] {
        sink.lock().expect("sink").clear();
        let failed = handler
            .handle(event.clone(), Instant::now() + Duration::from_secs(900))
            .await
            .expect_err("a denied DescribeLogGroups fails the invocation");
        let said = failed.to_string();
        assert!(
            said.contains(&format!("AccessDeniedException: {DENIED}")),
            "{event}: the service's code and message: {said}"
        );
        assert!(
            !said.contains("ServiceError") && !said.contains('\n') && said.len() < DENIED.len() + 120,
            "{event}: one line, no debug dump ({} characters): {said}",
            said.len()
        );

        // The metrics went out all the same: one document, Errors 1, the pass not complete.
        let documents = sink.lock().expect("sink").clone();
        assert_eq!(documents.len(), 1, "{event}: {documents:?}");
        let metrics = &documents[0];
        assert_eq!(metrics["Errors"], 1, "{metrics}");
        assert_eq!(metrics["PassComplete"], 0, "{metrics}");
        assert_eq!(metrics["FunctionName"], "sluice-Subscriber-1", "{metrics}");
        let declared: Vec<&str> = metrics["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .expect("declared metrics")
            .iter()
            .filter_map(|metric| metric["Name"].as_str())
            .collect();
        assert!(declared.contains(&"Errors"), "{declared:?}");
    }
}

#[tokio::test]
async fn a_new_log_group_event_that_cannot_reach_cloudwatch_logs_counts_an_error() {
    let server = StandIn::start(Answer::Hangup).await;
    let (handler, sink) = handler(&server.url);
    let event = super::fixture("create-log-group.json");
    let failed = handler
        .handle(event, Instant::now() + Duration::from_secs(900))
        .await
        .expect_err("nobody answers");
    let said = failed.to_string();
    assert!(said.contains("got no answer"), "{said}");
    assert!(
        !said.contains("DispatchFailure(") && !said.contains('\n'),
        "{said}"
    );
    let documents = sink.lock().expect("sink").clone();
    assert_eq!(documents.len(), 1, "{documents:?}");
    assert_eq!(documents[0]["Errors"], 1, "{}", documents[0]);
}

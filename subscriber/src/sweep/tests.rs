//! A sweep over a scripted account that throttles, behind a small in-test HTTP server speaking
//! CloudWatch Logs' JSON protocol (`X-Amz-Target: Logs_20140328.<Operation>`, awsJson1.1). The
//! server answers one call in four with `ThrottlingException` (HTTP 400, `__type` in the body, as
//! CloudWatch Logs reports it: <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/CommonErrors.html>),
//! and the handler's deadline is so short that every invocation handles a single page and hands
//! the rest of the pass to a fresh invocation of itself.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_cloudwatchlogs::config::retry::RetryConfig;
use aws_sdk_lambda::operation::invoke::InvokeOutput;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

use crate::aws::{Logs, MAX_ATTEMPTS, PAGE_SIZE};
use crate::config::RawConfig;
use crate::handler::Handler;

pub(super) const FORWARDER: &str = "arn:aws:lambda:us-east-1:123456789012:function:sluice-forwarder";
pub(super) const FOREIGN: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/audit";
pub(super) const SUBSCRIBER: &str = "sluice-subscriber";
/// Every this-many-th call to CloudWatch Logs is throttled.
const THROTTLE_EVERY: u64 = 4;

/// The account behind the server.
#[derive(Default)]
pub(super) struct Account {
    pub(super) groups: Vec<String>,
    /// Filters per group: (name, destination).
    pub(super) filters: BTreeMap<String, Vec<(String, String)>>,
    /// Tags per log group ARN.
    pub(super) tags: BTreeMap<String, BTreeMap<String, String>>,
    /// The subscription filter policy, as PutAccountPolicy's request body.
    pub(super) policy: Option<Value>,
    /// Write calls that reached the account, in order: `Operation group-or-policy`.
    pub(super) writes: Vec<String>,
    /// PutSubscriptionFilter calls that reached the account, per group.
    puts: BTreeMap<String, u32>,
    /// PutRetentionPolicy calls that reached the account, per group.
    retention_puts: BTreeMap<String, u32>,
    calls: u64,
    throttled: u64,
}

impl Account {
    pub(super) fn new(groups: usize) -> Account {
        let groups: Vec<String> = (0..groups).map(|i| format!("/aws/lambda/fn-{i:05}")).collect();
        // Every tenth group already has another team's filter: ours goes beside it.
        let filters = groups
            .iter()
            .step_by(10)
            .map(|group| (group.clone(), vec![("audit".to_string(), FOREIGN.to_string())]))
            .collect();
        Account {
            groups,
            filters,
            ..Account::default()
        }
    }

    /// Answers one call: `Ok(body)` or `Err(error type)`.
    fn answer(&mut self, operation: &str, request: &Value) -> Result<Value, &'static str> {
        self.calls += 1;
        if self.calls.is_multiple_of(THROTTLE_EVERY) {
            self.throttled += 1;
            return Err("ThrottlingException");
        }
        if let Some(answer) = super::account_tests::answer(self, operation, request) {
            return answer;
        }
        let group = request["logGroupName"].as_str().unwrap_or_default().to_string();
        match operation {
            "DescribeLogGroups" => {
                let prefix = request["logGroupNamePrefix"].as_str().unwrap_or_default();
                let matching: Vec<&String> = self
                    .groups
                    .iter()
                    .filter(|name| name.starts_with(prefix))
                    .collect();
                let from: usize = request["nextToken"].as_str().map_or(0, |t| t.parse().unwrap());
                let limit = request["limit"].as_u64().unwrap_or(50) as usize;
                let page: Vec<Value> = matching
                    .iter()
                    .skip(from)
                    .take(limit)
                    .map(|name| {
                        json!({"logGroupName": name, "storedBytes": 0,
                               "arn": format!("{}:*", arn(name)), "logGroupArn": arn(name)})
                    })
                    .collect();
                let mut body = json!({"logGroups": page});
                if from + limit < matching.len() {
                    body["nextToken"] = json!((from + limit).to_string());
                }
                Ok(body)
            }
            "DescribeSubscriptionFilters" => {
                let filters: Vec<Value> = self
                    .filters
                    .get(&group)
                    .into_iter()
                    .flatten()
                    .map(|(name, destination)| {
                        json!({"filterName": name, "destinationArn": destination,
                               "filterPattern": "", "logGroupName": group})
                    })
                    .collect();
                Ok(json!({"subscriptionFilters": filters}))
            }
            "PutSubscriptionFilter" => {
                *self.puts.entry(group.clone()).or_default() += 1;
                self.writes.push(format!("PutSubscriptionFilter {group}"));
                let name = request["filterName"].as_str().unwrap_or_default().to_string();
                let destination = request["destinationArn"].as_str().unwrap_or_default().to_string();
                let filters = self.filters.entry(group).or_default();
                filters.retain(|(existing, _)| *existing != name);
                filters.push((name, destination));
                Ok(json!({}))
            }
            "PutRetentionPolicy" => {
                *self.retention_puts.entry(group).or_default() += 1;
                Ok(json!({}))
            }
            other => panic!("the subscriber called {other}, which a sweep never needs"),
        }
    }
}

/// The ARN of a log group of the account (no trailing `:*`, as `logGroupArn`).
pub(super) fn arn(group: &str) -> String {
    format!("arn:aws:logs:us-east-1:123456789012:log-group:{group}")
}

/// Serves `account` over HTTP/1.1 with keep-alive until the test ends; returns its URL.
pub(super) async fn serve(account: Arc<Mutex<Account>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(connection(stream, Arc::clone(&account)));
        }
    });
    url
}

async fn connection(stream: TcpStream, account: Arc<Mutex<Account>>) {
    let mut stream = BufReader::new(stream);
    loop {
        let mut target = String::new();
        let mut length = 0;
        let mut line = String::new();
        loop {
            line.clear();
            if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                match name.to_ascii_lowercase().as_str() {
                    "x-amz-target" => target = value.trim().to_string(),
                    "content-length" => length = value.trim().parse().unwrap_or(0),
                    _ => {}
                }
            }
        }
        let mut body = vec![0; length];
        if stream.read_exact(&mut body).await.is_err() {
            return;
        }
        let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let operation = target.rsplit('.').next().unwrap_or_default().to_string();
        let answer = account.lock().unwrap().answer(&operation, &request);
        let (status, body) = match answer {
            Ok(body) => ("200 OK", body),
            Err(error) => (
                "400 Bad Request",
                json!({"__type": error, "message": "Rate exceeded"}),
            ),
        };
        let body = body.to_string();
        let response = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/x-amz-json-1.1\r\n\
             x-amzn-requestid: 00000000-0000-4000-8000-000000000000\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        if stream.get_mut().write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// A CloudWatch Logs client for the server, with the subscriber's retry settings but short
/// backoffs so the test spends no real time waiting.
pub(super) fn logs_client(url: &str) -> aws_sdk_cloudwatchlogs::Client {
    let config = aws_sdk_cloudwatchlogs::Config::builder()
        .with_test_defaults_v2()
        .endpoint_url(url)
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(MAX_ATTEMPTS)
                .with_initial_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_millis(5)),
        )
        .build();
    aws_sdk_cloudwatchlogs::Client::from_conf(config)
}

/// A Lambda client whose `Invoke` records the payloads the handler hands to its next invocation.
pub(super) fn lambda(payloads: Arc<Mutex<Vec<Value>>>) -> aws_sdk_lambda::Client {
    let invoke = mock!(aws_sdk_lambda::Client::invoke).then_compute_output(move |input| {
        assert_eq!(input.function_name(), Some(SUBSCRIBER), "continues in itself");
        assert_eq!(
            input.invocation_type(),
            Some(&aws_sdk_lambda::types::InvocationType::Event),
            "asynchronously, so this invocation can end"
        );
        let payload = input.payload().expect("a payload").as_ref();
        payloads
            .lock()
            .unwrap()
            .push(serde_json::from_slice(payload).expect("JSON payload"));
        InvokeOutput::builder().status_code(202).build()
    });
    mock_client!(aws_sdk_lambda, RuleMode::MatchAny, [&invoke])
}

#[tokio::test]
async fn a_throttled_pass_continues_invocation_after_invocation_until_every_group_is_done_once() {
    let groups = 7 * PAGE_SIZE as usize + 13;
    let account = Arc::new(Mutex::new(Account::new(groups)));
    let url = serve(Arc::clone(&account)).await;
    let config = RawConfig {
        destination_arn: Some(FORWARDER.into()),
        retention_days: Some("30".into()),
        own_function_name: Some(SUBSCRIBER.into()),
        ..RawConfig::default()
    }
    .validate()
    .expect("valid config");
    let payloads = Arc::new(Mutex::new(Vec::new()));
    let mut handler = Handler::new(
        super::Sweeper::new(Logs::new(logs_client(&url), 10_000.0), config),
        lambda(Arc::clone(&payloads)),
        SUBSCRIBER.to_string(),
    );
    // No time to spare: each invocation handles the one page it always handles, then continues.
    handler.margin = Duration::ZERO;

    // EventBridge's scheduled event (see tests/fixtures/subscriber/README.md).
    let fixture = format!(
        "{}/../tests/fixtures/subscriber/scheduled-event.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut event: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture).expect("fixture")).expect("JSON");
    let mut invocations = 0;
    let answer = loop {
        invocations += 1;
        assert!(invocations <= 20, "the pass never completes");
        let answer = handler
            .handle(event, Instant::now())
            .await
            .expect("throttling is absorbed, never an error");
        let next = payloads.lock().unwrap().pop();
        match next {
            Some(next) => {
                assert_eq!(answer["complete"], false, "{answer}");
                event = next;
            }
            None => break answer,
        }
    };

    let pages = groups.div_ceil(PAGE_SIZE as usize);
    assert_eq!(invocations, pages, "one page per invocation");
    assert_eq!(answer["complete"], true);
    let totals = &answer["totals"];
    assert_eq!(totals["seen"], groups as u64, "{totals}");
    assert_eq!(totals["subscribe"], groups as u64, "{totals}");
    assert_eq!(totals["retention_set"], groups as u64, "{totals}");
    assert_eq!(totals["errors"], 0, "{totals}");

    each_group_done_once(&account.lock().unwrap());
}

/// Every group subscribed and given retention exactly once, its foreign filter kept, though the
/// account throttled.
fn each_group_done_once(account: &Account) {
    assert!(
        account.throttled >= account.calls / THROTTLE_EVERY,
        "the account throttled one call in {THROTTLE_EVERY}: {} of {}",
        account.throttled,
        account.calls
    );
    for group in &account.groups {
        assert_eq!(
            account.puts.get(group),
            Some(&1),
            "{group}: subscribed exactly once"
        );
        assert_eq!(
            account.retention_puts.get(group),
            Some(&1),
            "{group}: retention once"
        );
        let filters = &account.filters[group];
        assert!(
            filters.contains(&("sluice".into(), FORWARDER.into())),
            "{group}: {filters:?}"
        );
    }
    for foreign in account.groups.iter().step_by(10) {
        assert!(
            account.filters[foreign].contains(&("audit".into(), FOREIGN.into())),
            "{foreign} kept its foreign filter"
        );
    }
}

#[test]
fn a_pass_counts_as_running_until_its_latest_invocation_is_stale() {
    use super::{PASS_STALE, PassState};
    let now = chrono::Utc::now();
    let state = |minutes_ago: i64| PassState {
        rules_changed: false,
        account_policy: false,
        running_since: Some(now - chrono::Duration::minutes(minutes_ago)),
    };
    assert!(state(0).running_at(now));
    assert!(state(14).running_at(now), "an invocation lasts up to 15 minutes");
    assert!(!state(PASS_STALE.as_secs() as i64 / 60 + 1).running_at(now));
    assert!(state(-1).running_at(now), "a clock slightly ahead still counts");
    let done = PassState {
        rules_changed: false,
        account_policy: false,
        running_since: None,
    };
    assert!(!done.running_at(now));
}

//! The demo's account: the log groups of a small serverless shop and the log batches CloudWatch
//! Logs would deliver from them.
//!
//! Batch format: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html#LambdaFunctionExample>;
//! Lambda's platform and runtime lines:
//! <https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html>.

use std::io::Write;

use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

/// The forwarder's own function (and so its own log group, which Sluice never subscribes).
pub const FORWARDER: &str = "sluice-forwarder";
/// The subscriber's own function.
pub const SUBSCRIBER: &str = "sluice-subscriber";

const FUNCTIONS: &[&str] = &[
    "checkout-api",
    "orders-worker",
    "payments",
    "payments-webhook",
    "inventory-sync",
    "email-sender",
    "image-resizer",
    "search-indexer",
    "auth-authorizer",
    "cart-api",
    "recommendations",
    "fraud-check",
    "shipping-quotes",
    "invoice-pdf",
    "nightly-report",
    "user-profile",
];

/// Globs of log groups the demo's stack leaves alone (`EXCLUDE_PATTERNS`).
pub const EXCLUDED: &str = "/aws/codebuild/*";

/// Another team's log shipper, whose filters Sluice must never touch.
pub const LEGACY_SHIPPER: &str = "legacy-shipper";

/// Filters other teams put before Sluice: (log group, filter name). The first group's two slots
/// are both taken (a conflict Sluice reports); the second keeps a slot free for Sluice.
pub const FOREIGN_FILTERS: &[(&str, &str)] = &[
    ("/ecs/billing-service", "audit"),
    ("/ecs/billing-service", "siem"),
    ("/aws/rds/cluster/shop-db/postgresql", "audit"),
];

/// Groups that already have a retention policy (days); the others never expire.
pub const RETENTION: &[(&str, i32)] = &[
    ("/aws/lambda/payments", 365),
    ("/aws/lambda/checkout-api", 14),
    ("/ecs/catalog-service", 90),
];

/// The CloudTrail CreateLogGroup event EventBridge delivers for `log_group`: the documented
/// fixture `tests/fixtures/subscriber/create-log-group.json` with the group's name.
pub fn create_log_group_event(log_group: &str) -> anyhow::Result<Value> {
    let path = sluice_harness::workspace_root().join("tests/fixtures/subscriber/create-log-group.json");
    let text = std::fs::read_to_string(&path)?;
    let mut event: Value = serde_json::from_str(&text)?;
    event["detail"]["requestParameters"]["logGroupName"] = json!(log_group);
    event["time"] = json!(Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true));
    Ok(event)
}

/// Every log group the demo creates before Sluice is installed.
pub fn log_groups() -> Vec<String> {
    let mut groups: Vec<String> = FUNCTIONS
        .iter()
        .map(|name| format!("/aws/lambda/{name}"))
        .collect();
    groups.extend([
        format!("/aws/lambda/{FORWARDER}"),
        format!("/aws/lambda/{SUBSCRIBER}"),
        "API-Gateway-Execution-Logs_a1b2c3d4e5/prod".to_string(),
        "API-Gateway-Execution-Logs_a1b2c3d4e5/staging".to_string(),
        "/aws/apigateway/shop-access-logs".to_string(),
        "/ecs/billing-service".to_string(),
        "/ecs/catalog-service".to_string(),
        "/aws/rds/cluster/shop-db/postgresql".to_string(),
        "/aws/codebuild/shop-ci".to_string(),
    ]);
    groups
}

/// A deterministic source of variety (a linear congruential generator): the demo shows the same
/// data on every run.
pub struct Dice(u64);

impl Dice {
    pub fn new(seed: u64) -> Dice {
        Dice(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    fn uuid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            a & 0xffff_ffff,
            b & 0xffff,
            (a >> 8) & 0xfff,
            (b >> 4) & 0xfff,
            (a ^ (b << 16)) & 0xffff_ffff_ffff
        )
    }
}

/// One invocation's worth of Lambda log lines for `function`, starting at `start`.
fn invocation(dice: &mut Dice, start: DateTime<Utc>) -> Vec<(DateTime<Utc>, String)> {
    let request = dice.uuid();
    let at = |ms: i64| start + chrono::Duration::milliseconds(ms);
    let iso = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Millis, true);
    let mut lines = vec![(at(0), format!("START RequestId: {request} Version: $LATEST\n"))];
    let level = dice.pick(&["INFO", "INFO", "INFO", "WARN", "ERROR"]);
    let order = dice.uuid();
    let amount = dice.below(50_000) as f64 / 100.0;
    lines.push((
        at(3),
        format!(
            "{}\t{request}\t{level}\t{}\n",
            iso(at(3)),
            json!({"message": "order processed", "orderId": order, "amount": amount, "items": dice.below(9) + 1})
        ),
    ));
    lines.push((
        at(5),
        format!(
            "{}\t{request}\tINFO\tcache miss for key user:{}\n",
            iso(at(5)),
            dice.below(1_000_000)
        ),
    ));
    if dice.below(10) == 0 {
        lines.push((
            at(7),
            json!({"level": "error", "message": "card declined", "requestId": request,
                   "authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"})
            .to_string(),
        ));
    }
    let duration = 20.0 + dice.below(90_000) as f64 / 100.0;
    let end = (duration as i64).max(8);
    lines.push((at(end), format!("END RequestId: {request}\n")));
    lines.push((
        at(end),
        format!(
            "REPORT RequestId: {request}\tDuration: {duration:.2} ms\tBilled Duration: {} ms\t\
             Memory Size: 128 MB\tMax Memory Used: {} MB\t\n",
            duration.ceil() as i64,
            40 + dice.below(80)
        ),
    ));
    lines
}

/// A CloudWatch Logs subscription event for `log_group` holding `invocations` invocations,
/// as Lambda receives it: `{"awslogs":{"data": base64(gzip(json))}}`.
pub fn lambda_batch(
    dice: &mut Dice,
    log_group: &str,
    start: DateTime<Utc>,
    invocations: usize,
    first_id: &mut u64,
) -> (Value, usize) {
    let mut events = Vec::new();
    let mut at = start;
    for _ in 0..invocations {
        for (time, message) in invocation(dice, at) {
            *first_id += 1;
            events.push(json!({
                "id": format!("{:056}", *first_id),
                "timestamp": time.timestamp_millis(),
                "message": message,
            }));
        }
        at += chrono::Duration::milliseconds(1500 + dice.below(3000) as i64);
    }
    let count = events.len();
    let data = json!({
        "messageType": "DATA_MESSAGE",
        "owner": sluice_harness::ACCOUNT_ID,
        "logGroup": log_group,
        "logStream": format!("{}/[$LATEST]{}", start.format("%Y/%m/%d"), dice.uuid().replace('-', "")),
        "subscriptionFilters": ["sluice"],
        "logEvents": events,
    });
    (json!({"awslogs": {"data": encode(&data)}}), count)
}

/// base64(gzip(json)), as CloudWatch Logs encodes `awslogs.data`.
fn encode(data: &Value) -> String {
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(data.to_string().as_bytes())
        .expect("gzip into memory");
    let bytes = gzip.finish().expect("gzip into memory");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

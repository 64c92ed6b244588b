//! A simulated CloudWatch Logs account for the benchmark: an HTTP/1.1 server on loopback speaking
//! the JSON protocol (`X-Amz-Target: Logs_20140328.<Operation>`), which answers every
//! `THROTTLE_EVERY`-th call with `ThrottlingException` (HTTP 400, `__type`, as CloudWatch Logs does:
//! <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/CommonErrors.html>).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

/// Every this-many-th call is throttled.
pub const THROTTLE_EVERY: u64 = 10;

/// One log group.
pub struct Group {
    pub name: String,
    pub retention: Option<i64>,
    /// (filter name, destination)
    pub filters: Vec<(String, String)>,
}

/// The account: its groups, account policy, tags, and what reached it.
#[derive(Default)]
pub struct Account {
    pub groups: Vec<Group>,
    index: HashMap<String, usize>,
    pub policy: Option<Value>,
    pub tags: BTreeMap<String, BTreeMap<String, String>>,
    /// PutSubscriptionFilter calls that succeeded, per group index.
    pub puts: HashMap<usize, u32>,
    /// PutRetentionPolicy calls that succeeded, per group index.
    pub retention_puts: HashMap<usize, u32>,
    /// Calls received per operation, throttled ones included.
    pub received: BTreeMap<String, u64>,
    pub calls: u64,
    pub throttled: u64,
}

impl Account {
    pub fn new(groups: Vec<Group>) -> Account {
        let index = groups
            .iter()
            .enumerate()
            .map(|(i, g)| (g.name.clone(), i))
            .collect();
        Account {
            groups,
            index,
            ..Account::default()
        }
    }

    /// Forgets the counts (not the state).
    pub fn reset_counts(&mut self) {
        self.puts.clear();
        self.retention_puts.clear();
        self.received.clear();
        self.calls = 0;
        self.throttled = 0;
    }

    fn arn(name: &str) -> String {
        format!("arn:aws:logs:us-east-1:123456789012:log-group:{name}")
    }

    fn answer(&mut self, operation: &str, request: &Value) -> Result<Value, &'static str> {
        *self.received.entry(operation.to_string()).or_default() += 1;
        self.calls += 1;
        if self.calls.is_multiple_of(THROTTLE_EVERY) {
            self.throttled += 1;
            return Err("ThrottlingException");
        }
        let name = request["logGroupName"].as_str().unwrap_or_default();
        let group = self.index.get(name).copied();
        match operation {
            "DescribeLogGroups" => Ok(self.describe_log_groups(request)),
            "DescribeSubscriptionFilters" => {
                let group = group.ok_or("ResourceNotFoundException")?;
                Ok(self.describe_subscription_filters(group, name))
            }
            "PutSubscriptionFilter" => {
                let group = group.ok_or("ResourceNotFoundException")?;
                self.put_subscription_filter(group, request)
            }
            "DeleteSubscriptionFilter" => {
                let group = group.ok_or("ResourceNotFoundException")?;
                let filter = request["filterName"].as_str().unwrap_or_default();
                self.groups[group]
                    .filters
                    .retain(|(existing, _)| existing != filter);
                Ok(json!({}))
            }
            "PutRetentionPolicy" => {
                let group = group.ok_or("ResourceNotFoundException")?;
                self.groups[group].retention = request["retentionInDays"].as_i64();
                *self.retention_puts.entry(group).or_default() += 1;
                Ok(json!({}))
            }
            "DescribeAccountPolicies" => {
                Ok(json!({"accountPolicies": self.policy.iter().collect::<Vec<_>>()}))
            }
            "PutAccountPolicy" => {
                self.policy = Some(request.clone());
                Ok(json!({}))
            }
            "DeleteAccountPolicy" => self
                .policy
                .take()
                .map(|_| json!({}))
                .ok_or("ResourceNotFoundException"),
            "ListTagsForResource" => {
                let arn = request["resourceArn"].as_str().unwrap_or_default();
                Ok(json!({"tags": self.tags.get(arn).cloned().unwrap_or_default()}))
            }
            "TagResource" => Ok(self.tag_resource(request)),
            other => panic!("the subscriber called {other}, which the benchmark does not serve"),
        }
    }

    /// A page of the groups: by prefix (one page), or all of them from `nextToken`.
    fn describe_log_groups(&self, request: &Value) -> Value {
        let prefix = request["logGroupNamePrefix"].as_str().unwrap_or_default();
        let from: usize = request["nextToken"]
            .as_str()
            .map_or(0, |t| t.parse().unwrap_or(0));
        let limit = request["limit"].as_u64().unwrap_or(50) as usize;
        let matching: Vec<&Group> = if prefix.is_empty() {
            self.groups.iter().skip(from).take(limit).collect()
        } else {
            self.groups
                .iter()
                .filter(|g| g.name.starts_with(prefix))
                .take(limit)
                .collect()
        };
        let page: Vec<Value> = matching
            .iter()
            .map(|g| {
                let mut entry = json!({"logGroupName": g.name, "storedBytes": 0,
                                       "arn": format!("{}:*", Self::arn(&g.name)),
                                       "logGroupArn": Self::arn(&g.name)});
                if let Some(days) = g.retention {
                    entry["retentionInDays"] = json!(days);
                }
                entry
            })
            .collect();
        let mut body = json!({"logGroups": page});
        if prefix.is_empty() && from + limit < self.groups.len() {
            body["nextToken"] = json!((from + limit).to_string());
        }
        body
    }

    fn describe_subscription_filters(&self, group: usize, name: &str) -> Value {
        let filters: Vec<Value> = self.groups[group]
            .filters
            .iter()
            .map(|(filter, destination)| {
                json!({"filterName": filter, "destinationArn": destination,
                       "filterPattern": "", "logGroupName": name})
            })
            .collect();
        json!({"subscriptionFilters": filters})
    }

    /// Adds or replaces the filter, refusing a third one as CloudWatch Logs does.
    fn put_subscription_filter(&mut self, group: usize, request: &Value) -> Result<Value, &'static str> {
        let filter = request["filterName"].as_str().unwrap_or_default().to_string();
        let destination = request["destinationArn"].as_str().unwrap_or_default().to_string();
        let filters = &mut self.groups[group].filters;
        filters.retain(|(existing, _)| *existing != filter);
        if filters.len() >= 2 {
            return Err("LimitExceededException");
        }
        filters.push((filter, destination));
        *self.puts.entry(group).or_default() += 1;
        Ok(json!({}))
    }

    /// Adds the request's tags to the resource's, replacing those of the same key.
    fn tag_resource(&mut self, request: &Value) -> Value {
        let arn = request["resourceArn"].as_str().unwrap_or_default().to_string();
        let tags = self.tags.entry(arn).or_default();
        for (key, value) in request["tags"].as_object().into_iter().flatten() {
            tags.insert(key.clone(), value.as_str().unwrap_or_default().to_string());
        }
        json!({})
    }
}

/// Serves `account` until the process ends; returns its URL.
pub async fn serve(account: Arc<Mutex<Account>>) -> anyhow::Result<String> {
    let url = sluice_harness::serve_aws_json(move |operation, request| {
        let answer = account.lock().expect("account").answer(operation, request);
        answer.map_err(str::to_string)
    })
    .await?;
    Ok(url)
}

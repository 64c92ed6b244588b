//! A CloudWatch Logs account in the test, on loopback, speaking the JSON protocol
//! (`X-Amz-Target: Logs_20140328.<Operation>`), for what moto does not keep: the system fields,
//! field selection criteria and transformed-logs choice of a subscription filter. Each
//! PutSubscriptionFilter body is checked against the API Reference
//! (<https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutSubscriptionFilter.html>):
//! the required members and their lengths, `distribution` and `emitSystemFields` values,
//! `fieldSelectionCriteria` of at most 2000 characters, and `applyOnTransformedLogs` only on a
//! group with a transformer; a body that breaks one is answered `InvalidParameterException`
//! (HTTP 400, `__type`, as in CommonErrors and the operation's Errors) and kept in `refused`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

const SYSTEM_FIELDS: [&str; 3] = ["@aws.account", "@aws.region", "@source.log"];

/// One log group: its filters (the stored PutSubscriptionFilter bodies) and whether it has a
/// transformer (PutTransformer).
#[derive(Debug, Default)]
pub struct Group {
    pub filters: Vec<Value>,
    pub transformer: bool,
}

/// The account's groups by name, and what reached it.
#[derive(Debug, Default)]
pub struct Account {
    pub groups: BTreeMap<String, Group>,
    /// Accepted PutSubscriptionFilter bodies, in order.
    pub puts: Vec<Value>,
    /// Refused requests and why.
    pub refused: Vec<(Value, String)>,
}

impl Account {
    fn answer(&mut self, operation: &str, request: &Value) -> Result<Value, String> {
        let name = request["logGroupName"].as_str().unwrap_or_default().to_string();
        match operation {
            "DescribeLogGroups" => {
                let prefix = request["logGroupNamePrefix"].as_str().unwrap_or_default();
                let groups: Vec<Value> = (self.groups.keys())
                    .filter(|group| group.starts_with(prefix))
                    .map(|group| {
                        let arn = format!("arn:aws:logs:us-east-1:999999999999:log-group:{group}");
                        json!({"logGroupName": group, "arn": format!("{arn}:*"), "logGroupArn": arn})
                    })
                    .collect();
                Ok(json!({"logGroups": groups}))
            }
            "DescribeSubscriptionFilters" => {
                let group = self.groups.get(&name).ok_or("ResourceNotFoundException")?;
                Ok(json!({"subscriptionFilters": group.filters}))
            }
            "PutSubscriptionFilter" => {
                if let Err(reason) = self.check_put(request) {
                    self.refused.push((request.clone(), reason));
                    return Err("InvalidParameterException".into());
                }
                let group = self.groups.get_mut(&name).ok_or("ResourceNotFoundException")?;
                let filter = request["filterName"].clone();
                group.filters.retain(|existing| existing["filterName"] != filter);
                group.filters.push(request.clone());
                self.puts.push(request.clone());
                Ok(json!({}))
            }
            "DeleteSubscriptionFilter" => {
                let group = self.groups.get_mut(&name).ok_or("ResourceNotFoundException")?;
                let filter = request["filterName"].clone();
                group.filters.retain(|existing| existing["filterName"] != filter);
                Ok(json!({}))
            }
            other => panic!("the subscriber called {other}, which this test does not serve"),
        }
    }

    /// The API Reference's constraints on a PutSubscriptionFilter body.
    fn check_put(&self, request: &Value) -> Result<(), String> {
        let text = |member: &str, min: usize, max: usize| match request[member].as_str() {
            Some(value) if (min..=max).contains(&value.chars().count()) => Ok(value),
            Some(value) => Err(format!("{member} of {} characters", value.chars().count())),
            None => Err(format!("{member} is required")),
        };
        let group = text("logGroupName", 1, 512)?;
        let filter = text("filterName", 1, 512)?;
        if filter.contains([':', '*']) {
            return Err("filterName matches [^:*]*".into());
        }
        text("filterPattern", 0, 1024)?;
        text("destinationArn", 1, usize::MAX)?;
        if let Some(distribution) = request.get("distribution")
            && !matches!(distribution.as_str(), Some("Random" | "ByLogStream"))
        {
            return Err(format!("distribution {distribution}"));
        }
        if let Some(fields) = request.get("emitSystemFields") {
            let fields = fields.as_array().ok_or("emitSystemFields is a list")?;
            if let Some(bad) = fields
                .iter()
                .find(|f| !SYSTEM_FIELDS.contains(&f.as_str().unwrap_or_default()))
            {
                return Err(format!("emitSystemFields value {bad}"));
            }
        }
        if let Some(criteria) = request.get("fieldSelectionCriteria") {
            let criteria = criteria.as_str().ok_or("fieldSelectionCriteria is a string")?;
            if criteria.chars().count() > 2000 {
                return Err("fieldSelectionCriteria over 2000 characters".into());
            }
        }
        if let Some(apply) = request.get("applyOnTransformedLogs") {
            let apply = apply.as_bool().ok_or("applyOnTransformedLogs is a boolean")?;
            let transformer = self.groups.get(group).is_some_and(|g| g.transformer);
            if apply && !transformer {
                return Err(format!(
                    "applyOnTransformedLogs on {group}, which has no transformer"
                ));
            }
        }
        Ok(())
    }
}

/// Serves `account` for as long as the test runs; returns its URL.
pub async fn serve(account: Arc<Mutex<Account>>) -> String {
    sluice_harness::serve_aws_json(move |operation, request| {
        account.lock().expect("account").answer(operation, request)
    })
    .await
    .expect("a loopback port")
}

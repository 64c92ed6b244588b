//! What the forwarder installs in the cluster once per process: the index template of its
//! indices and, when `INDEX_RETENTION_DAYS` is set, an Index State Management policy that deletes
//! old ones.
//!
//! ISM policies: <https://opensearch.org/docs/latest/im-plugin/ism/policies/>.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::OnceCell;

use super::sink::Sink;

/// `PUT` requests: paths and bodies.
type Puts = Vec<(String, Vec<u8>)>;

/// The setup requests, built once from the settings, and whether they have been answered.
#[derive(Debug)]
pub struct ClusterSetup {
    /// `PUT _index_template/<prefix>` and its body, for each prefix.
    templates: Puts,
    /// `PUT _plugins/_ism/policies/<prefix>-retention` and its body for each prefix, when
    /// retention is set.
    retention: Option<(u32, Puts)>,
    answered: OnceCell<()>,
}

impl ClusterSetup {
    /// The setup for indices `<prefix>-*` of each prefix with its index template.
    pub fn new(templates: &[(&str, Value)], retention_days: Option<u32>) -> ClusterSetup {
        ClusterSetup {
            templates: templates
                .iter()
                .map(|(prefix, template)| {
                    (
                        format!("/_index_template/{prefix}"),
                        template.to_string().into_bytes(),
                    )
                })
                .collect(),
            retention: retention_days.map(|days| {
                let policies = templates
                    .iter()
                    .map(|(prefix, _)| {
                        (
                            format!("/_plugins/_ism/policies/{prefix}-retention"),
                            ism_policy(prefix, days).to_string().into_bytes(),
                        )
                    })
                    .collect();
                (days, policies)
            }),
            answered: OnceCell::new(),
        }
    }

    /// Installs the index templates (and the ISM retention policies) once per process, each
    /// request given at most `timeout` so that setup cannot eat the invocation's deadline. A
    /// cluster that refuses one is logged as a warning, never fatal: documents can still be
    /// indexed with dynamic mappings and kept forever. A cluster that did not answer (unreachable,
    /// timed out) is tried again by the next invocation.
    pub async fn ensure(&self, sink: &Sink, timeout: Duration) {
        let _unanswered = self
            .answered
            .get_or_try_init(|| async {
                match self.install(sink, timeout).await {
                    true => Ok(()),
                    false => Err(()),
                }
            })
            .await;
    }

    /// Whether the cluster answered every setup request (whatever it answered).
    async fn install(&self, sink: &Sink, timeout: Duration) -> bool {
        for (path, body) in &self.templates {
            if !put_tolerated(sink, path, body.clone(), timeout, "index template").await {
                return false;
            }
        }
        let Some((days, policies)) = &self.retention else {
            return true;
        };
        let probe = sink
            .send(
                reqwest::Method::GET,
                "/_plugins/_ism/policies",
                &[],
                Vec::new(),
                timeout,
            )
            .await;
        match probe {
            Err(err) => {
                tracing::warn!(error = %err, "could not ask the cluster for _plugins/_ism; trying again later");
                return false;
            }
            Ok(answer) if answer.status >= 300 => {
                tracing::warn!(
                    retention_days = days,
                    status = answer.status,
                    "the cluster has no _plugins/_ism: indices are not deleted after INDEX_RETENTION_DAYS"
                );
                return true;
            }
            Ok(_) => {}
        }
        for (path, policy) in policies {
            if !put_tolerated(sink, path, policy.clone(), timeout, "ISM retention policy").await {
                return false;
            }
        }
        true
    }
}

/// PUTs a setup document; whether the cluster answered at all.
async fn put_tolerated(sink: &Sink, path: &str, body: Vec<u8>, timeout: Duration, what: &str) -> bool {
    let json = [("content-type", "application/json")];
    match sink.send(reqwest::Method::PUT, path, &json, body, timeout).await {
        // 409: the policy already exists, which is what we want.
        Ok(answer) if answer.status < 300 || answer.status == 409 => {
            tracing::info!(path, status = answer.status, "{what} installed");
            true
        }
        Ok(answer) => {
            tracing::warn!(
                path,
                status = answer.status,
                answer = %String::from_utf8_lossy(&answer.body[..answer.body.len().min(300)]),
                "the cluster refused the {what}; continuing without it"
            );
            true
        }
        Err(err) => {
            tracing::warn!(path, error = %err, "could not install the {what}; trying again later");
            false
        }
    }
}

/// The ISM policy (`PUT _plugins/_ism/policies/<prefix>-retention`) that deletes dated
/// `<prefix>-…` indices `delete_after_days` after their creation. Its pattern `<prefix>-*.*`
/// matches the dated names (which always hold a `.`) and spares `<prefix>-dead-letter`.
pub fn ism_policy(prefix: &str, delete_after_days: u32) -> Value {
    json!({
        "policy": {
            "description": format!("Sluice: delete {prefix}-* indices {delete_after_days} days after creation"),
            "default_state": "hot",
            "states": [
                {
                    "name": "hot",
                    "actions": [],
                    "transitions": [
                        {"state_name": "delete", "conditions": {"min_index_age": format!("{delete_after_days}d")}},
                    ],
                },
                {"name": "delete", "actions": [{"delete": {}}], "transitions": []},
            ],
            "ism_template": [{"index_patterns": [format!("{prefix}-*.*")], "priority": 100}],
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ism_policy_deletes_dated_indices_only() {
        let policy = ism_policy("cwl", 30);
        let states = &policy["policy"]["states"];
        assert_eq!(states[0]["transitions"][0]["conditions"]["min_index_age"], "30d");
        assert_eq!(states[1]["actions"][0], json!({"delete": {}}));
        let pattern = policy["policy"]["ism_template"][0]["index_patterns"][0]
            .as_str()
            .expect("pattern");
        assert_eq!(pattern, "cwl-*.*");
    }
}

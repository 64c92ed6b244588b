//! What the forwarder installs in the cluster once per process: the index template of each
//! prefix's indices and, when `INDEX_RETENTION_DAYS` is set, an Index State Management policy that
//! deletes old ones; or, with `INDEX_MODE=data-stream`, a data stream template per prefix and an ISM
//! policy that rolls each stream over (and deletes old backing indices).
//!
//! ISM policies: <https://opensearch.org/docs/latest/im-plugin/ism/policies/>.
//! Data streams: <https://opensearch.org/docs/latest/im-plugin/data-streams/>.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::OnceCell;

use super::sink::Sink;
use crate::document::index::{Granularity, IndexMode};

/// `PUT` requests: paths and bodies.
type Puts = Vec<(String, Vec<u8>)>;

/// Where documents go, and so what setup installs for each prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lifecycle {
    pub mode: IndexMode,
    /// With data streams, the age at which a backing index rolls over (an hour, a day or 30 days,
    /// as `INDEX_GRANULARITY` would cut dated indices).
    pub granularity: Granularity,
    /// `INDEX_RETENTION_DAYS`.
    pub retention_days: Option<u32>,
}

/// The setup requests, built once from the settings, and whether they have been answered.
#[derive(Debug)]
pub(crate) struct ClusterSetup {
    /// `PUT _index_template/<name>` and its body.
    templates: Puts,
    /// `PUT _plugins/_ism/policies/<id>` and its body; none when the settings need no ISM.
    policies: Puts,
    /// What the cluster loses without ISM, for the warning.
    without_ism: &'static str,
    answered: OnceCell<()>,
}

impl ClusterSetup {
    /// The setup for each prefix with its index template (as [`crate::document::mapping`] builds it,
    /// for `<prefix>-*`), the first prefix being `INDEX_PREFIX`, whose template the dead-letter
    /// index also gets. With dated indices that is the template as it is and, with retention, a
    /// policy deleting `<prefix>-*.*`. With data streams the template covers the stream `<prefix>`
    /// alone, a plain template covers `dead_letter_index`, and a policy rolls each stream over.
    pub fn new(templates: &[(&str, Value)], dead_letter_index: &str, lifecycle: Lifecycle) -> ClusterSetup {
        let put =
            |kind: &str, name: &str, body: Value| (format!("/{kind}/{name}"), body.to_string().into_bytes());
        let mut setup = ClusterSetup {
            templates: Vec::new(),
            policies: Vec::new(),
            without_ism: "indices are not deleted after INDEX_RETENTION_DAYS",
            answered: OnceCell::new(),
        };
        match lifecycle.mode {
            IndexMode::Index => {
                for (prefix, template) in templates {
                    let template = prioritised(template.clone(), prefix);
                    setup.templates.push(put("_index_template", prefix, template));
                    if let Some(days) = lifecycle.retention_days {
                        let policy = ism_policy(prefix, days);
                        setup.policies.push(put(
                            "_plugins/_ism/policies",
                            &format!("{prefix}-retention"),
                            policy,
                        ));
                    }
                }
            }
            IndexMode::DataStream => {
                setup.without_ism =
                    "data streams are not rolled over (nor deleted after INDEX_RETENTION_DAYS)";
                for (stream, template) in templates {
                    let template = data_stream_template(template.clone(), stream);
                    setup.templates.push(put("_index_template", stream, template));
                    let policy = rollover_policy(stream, lifecycle.granularity, lifecycle.retention_days);
                    setup.policies.push(put(
                        "_plugins/_ism/policies",
                        &format!("{stream}-rollover"),
                        policy,
                    ));
                }
                if let Some((_, template)) = templates.first() {
                    let template = exact_template(template.clone(), dead_letter_index);
                    setup
                        .templates
                        .push(put("_index_template", dead_letter_index, template));
                }
            }
        }
        setup
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
        if self.policies.is_empty() {
            return true;
        }
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
                    status = answer.status,
                    "the cluster has no _plugins/_ism: {}",
                    self.without_ism
                );
                return true;
            }
            Ok(_) => {}
        }
        for (path, policy) in &self.policies {
            if !put_tolerated(sink, path, policy.clone(), timeout, "ISM policy").await {
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

/// The priority of the templates and ISM templates of `name`: 100 plus its length, so that where
/// one prefix extends another (`payments-*` and `payments-eu-*`) the longer one's wins, rather than
/// OpenSearch refusing two overlapping templates of equal priority.
fn priority(name: &str) -> usize {
    100 + name.len()
}

fn prioritised(mut template: Value, name: &str) -> Value {
    template["priority"] = json!(priority(name));
    template
}

/// `template` (made for `<prefix>-*`) for the data stream `stream` alone: `data_stream` enabled,
/// which makes `@timestamp` (a date in every Sluice template) the stream's time field. The pattern
/// names the stream exactly, so that `<prefix>-dead-letter` stays a plain index.
pub(crate) fn data_stream_template(template: Value, stream: &str) -> Value {
    let mut template = exact_template(template, stream);
    template["data_stream"] = json!({});
    template
}

/// `template` for the one index `index`.
fn exact_template(template: Value, index: &str) -> Value {
    let mut template = prioritised(template, index);
    template["index_patterns"] = json!([index]);
    template
}

/// The ISM policy (`PUT _plugins/_ism/policies/<prefix>-retention`) that deletes dated
/// `<prefix>-…` indices `delete_after_days` after their creation. Its pattern `<prefix>-*.*`
/// matches the dated names (which always hold a `.`) and spares `<prefix>-dead-letter`.
pub(crate) fn ism_policy(prefix: &str, delete_after_days: u32) -> Value {
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
            "ism_template": [{"index_patterns": [format!("{prefix}-*.*")], "priority": priority(prefix)}],
        }
    })
}

/// The ISM policy (`PUT _plugins/_ism/policies/<stream>-rollover`) of a data stream's backing
/// indices: roll over once the write index is as old as the granularity says or holds 50 GB of
/// primary data (ISM rolls over when any condition is met), then, with retention, delete each
/// backing index that many days after its creation. ISM matches a backing index's `ism_template`
/// by its data stream's name, not by `.ds-<stream>-…`, so the pattern is the stream's name.
/// No `rollover_alias`: a data stream rolls over without one.
pub(crate) fn rollover_policy(
    stream: &str,
    granularity: Granularity,
    delete_after_days: Option<u32>,
) -> Value {
    let age = match granularity {
        Granularity::Hour => "1h",
        Granularity::Day => "1d",
        Granularity::Month => "30d",
    };
    let mut states = vec![json!({
        "name": "hot",
        "actions": [{"rollover": {"min_index_age": age, "min_size": "50gb"}}],
        "transitions": [],
    })];
    let mut description = format!("Sluice: roll the data stream {stream} over every {age} or 50 GB");
    if let Some(days) = delete_after_days {
        states[0]["transitions"] = json!([
            {"state_name": "delete", "conditions": {"min_index_age": format!("{days}d")}},
        ]);
        states.push(json!({"name": "delete", "actions": [{"delete": {}}], "transitions": []}));
        description.push_str(&format!(
            ", delete its backing indices {days} days after creation"
        ));
    }
    json!({
        "policy": {
            "description": description,
            "default_state": "hot",
            "states": states,
            "ism_template": [{"index_patterns": [stream], "priority": priority(stream)}],
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

    fn bodies(puts: &Puts) -> Vec<(&str, Value)> {
        puts.iter()
            .map(|(path, body)| (path.as_str(), serde_json::from_slice(body).expect("JSON")))
            .collect()
    }

    fn template(prefix: &str) -> Value {
        crate::document::mapping::index_template(prefix)
    }

    #[test]
    fn dated_indices_get_their_prefix_s_template_and_nested_prefixes_do_not_collide() {
        let lifecycle = Lifecycle {
            mode: IndexMode::Index,
            granularity: Granularity::Day,
            retention_days: Some(7),
        };
        let setup = ClusterSetup::new(
            &[("pay", template("pay")), ("pay-eu", template("pay-eu"))],
            "pay-dead-letter",
            lifecycle,
        );
        let templates = bodies(&setup.templates);
        let paths: Vec<&str> = templates.iter().map(|(path, _)| *path).collect();
        assert_eq!(paths, ["/_index_template/pay", "/_index_template/pay-eu"]);
        assert_eq!(templates[0].1["index_patterns"], json!(["pay-*"]));
        assert!(templates[0].1.get("data_stream").is_none());
        assert!(
            templates[1].1["priority"].as_u64() > templates[0].1["priority"].as_u64(),
            "pay-eu-2026.11.22 matches both patterns: the longer prefix must win"
        );
        let policies = bodies(&setup.policies);
        assert_eq!(policies[1].0, "/_plugins/_ism/policies/pay-eu-retention");
        let priorities: Vec<&Value> = policies
            .iter()
            .map(|(_, p)| &p["policy"]["ism_template"][0]["priority"])
            .collect();
        assert_ne!(priorities[0], priorities[1]);
        let without = ClusterSetup::new(
            &[("pay", template("pay"))],
            "pay-dead-letter",
            Lifecycle {
                retention_days: None,
                ..lifecycle
            },
        );
        assert!(without.policies.is_empty(), "no retention, no ISM");
    }

    #[test]
    fn data_streams_get_a_stream_template_a_rollover_policy_and_a_plain_dead_letter_index() {
        let lifecycle = Lifecycle {
            mode: IndexMode::DataStream,
            granularity: Granularity::Hour,
            retention_days: None,
        };
        let setup = ClusterSetup::new(&[("cwl", template("cwl"))], "cwl-dead-letter", lifecycle);
        let templates = bodies(&setup.templates);
        let (path, stream) = &templates[0];
        assert_eq!(*path, "/_index_template/cwl");
        assert_eq!(stream["index_patterns"], json!(["cwl"]));
        assert_eq!(stream["data_stream"], json!({}));
        assert_eq!(
            stream["template"]["mappings"]["properties"]["@timestamp"]["type"], "date",
            "a data stream needs @timestamp"
        );
        let (path, dead_letter) = &templates[1];
        assert_eq!(*path, "/_index_template/cwl-dead-letter");
        assert_eq!(dead_letter["index_patterns"], json!(["cwl-dead-letter"]));
        assert!(dead_letter.get("data_stream").is_none());

        let policies = bodies(&setup.policies);
        assert_eq!(policies.len(), 1, "rollover is needed even without retention");
        let (path, policy) = &policies[0];
        assert_eq!(*path, "/_plugins/_ism/policies/cwl-rollover");
        let policy = &policy["policy"];
        assert_eq!(
            policy["states"][0]["actions"][0]["rollover"],
            json!({"min_index_age": "1h", "min_size": "50gb"})
        );
        assert_eq!(policy["states"][0]["transitions"], json!([]));
        assert_eq!(policy["ism_template"][0]["index_patterns"], json!(["cwl"]));

        let kept = rollover_policy("cwl", Granularity::Day, Some(30));
        let states = &kept["policy"]["states"];
        assert_eq!(states[0]["actions"][0]["rollover"]["min_index_age"], "1d");
        assert_eq!(
            states[0]["transitions"],
            json!([{"state_name": "delete", "conditions": {"min_index_age": "30d"}}])
        );
        assert_eq!(states[1]["actions"], json!([{"delete": {}}]));
    }
}

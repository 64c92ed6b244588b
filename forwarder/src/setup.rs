//! What the forwarder installs in the cluster once: an index template for its indices and,
//! when `INDEX_RETENTION_DAYS` is set, an Index State Management policy that deletes old ones.
//!
//! Composable templates: <https://opensearch.org/docs/latest/im-plugin/index-templates/>;
//! ISM policies: <https://opensearch.org/docs/latest/im-plugin/ism/policies/>.

use serde_json::{Value, json};

/// The field parsed JSON lands under by default (`JSON_FIELD`).
pub const DEFAULT_JSON_FIELD: &str = "json";

/// The composable index template (`PUT _index_template/<prefix>`) for `<prefix>-*`, with the
/// JSON field at its default name.
pub fn index_template(prefix: &str) -> Value {
    index_template_with_json_field(prefix, DEFAULT_JSON_FIELD)
}

/// The index template for `<prefix>-*`: `@timestamp` a date; ids, names and levels keywords;
/// the raw message text; and settings that keep arbitrary JSON from breaking an index: no date
/// or number guessing on strings, strings as keywords, malformed values ignored rather than
/// rejecting the document, and a bounded number of fields.
pub fn index_template_with_json_field(prefix: &str, json_field: &str) -> Value {
    let keyword = json!({"type": "keyword", "ignore_above": 1024});
    let mut properties = json!({
        "@timestamp": {"type": "date"},
        "message": {"type": "text"},
        "log_group": keyword,
        "log_stream": keyword,
        "owner": keyword,
        "region": keyword,
        "subscription_filters": keyword,
        "event_id": keyword,
        "level": keyword,
        "request_id": keyword,
        "lambda": {"properties": {
            "event": keyword,
            "version": keyword,
            "duration_ms": {"type": "double"},
            "billed_duration_ms": {"type": "double"},
            "memory_size_mb": {"type": "long"},
            "max_memory_used_mb": {"type": "long"},
            "init_duration_ms": {"type": "double"},
            "restore_duration_ms": {"type": "double"},
            "timeout_s": {"type": "double"},
        }},
        "extracted_fields": {"type": "object", "dynamic": true},
        "fallback": {"type": "boolean"},
        // Dead-letter documents.
        "reason": {"type": "text"},
        "index": keyword,
        "event_timestamp_ms": {"type": "long"},
        // The AWS blueprint's document shape (DOCUMENT_FORMAT=blueprint).
        "@id": keyword,
        "@message": {"type": "text"},
        "@owner": keyword,
        "@log_group": keyword,
        "@log_stream": keyword,
    });
    properties[json_field] = json!({"type": "object", "dynamic": true});
    json!({
        "index_patterns": [format!("{prefix}-*")],
        "priority": 100,
        "_meta": {"managed_by": "sluice"},
        "template": {
            "settings": {
                "index.mapping.total_fields.limit": 2000,
                "index.mapping.ignore_malformed": true,
            },
            "mappings": {
                "date_detection": false,
                "numeric_detection": false,
                "dynamic_templates": [
                    {"strings_as_keywords": {"match_mapping_type": "string", "mapping": keyword}},
                ],
                "properties": properties,
            },
        },
    })
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
    fn template_covers_the_prefix_and_types_the_fixed_fields() {
        let template = index_template("logs");
        assert_eq!(template["index_patterns"], json!(["logs-*"]));
        let properties = &template["template"]["mappings"]["properties"];
        assert_eq!(properties["@timestamp"]["type"], "date");
        assert_eq!(properties["message"]["type"], "text");
        assert_eq!(properties["request_id"]["type"], "keyword");
        assert_eq!(
            properties["lambda"]["properties"]["duration_ms"]["type"],
            "double"
        );
        assert_eq!(properties["json"]["type"], "object");
        assert_eq!(template["template"]["mappings"]["date_detection"], false);
    }

    #[test]
    fn template_follows_a_custom_json_field() {
        let template = index_template_with_json_field("cwl", "body");
        assert_eq!(
            template["template"]["mappings"]["properties"]["body"]["type"],
            "object"
        );
    }

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

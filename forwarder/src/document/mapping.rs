//! The mapping of the forwarder's documents: the composable index template for its indices,
//! which the cluster setup installs once.
//!
//! Composable templates: <https://opensearch.org/docs/latest/im-plugin/index-templates/>.

use serde_json::{Value, json};

use super::DEFAULT_JSON_FIELD;

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
}

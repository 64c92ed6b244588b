//! The mapping of the forwarder's documents: the composable index template for its indices,
//! which the cluster setup installs once.
//!
//! Composable templates: <https://opensearch.org/docs/latest/im-plugin/index-templates/>.

use serde_json::{Value, json};

use super::DEFAULT_JSON_FIELD;
use crate::source::s3::format::{FieldType, Format, Reading};

/// The composable index template (`PUT _index_template/<prefix>`) for `<prefix>-*`, with the
/// JSON field at its default name.
pub fn index_template(prefix: &str) -> Value {
    index_template_with_json_field(prefix, DEFAULT_JSON_FIELD)
}

/// The index template for `<prefix>-*`: `@timestamp` a date; ids, names and levels keywords;
/// the raw message text; and settings that keep arbitrary JSON from breaking an index: no date
/// or number guessing on strings, strings as keywords, malformed values ignored rather than
/// rejecting the document, and a bounded number of fields.
pub(crate) fn index_template_with_json_field(prefix: &str, json_field: &str) -> Value {
    let keyword = json!({"type": "keyword", "ignore_above": 1024});
    let mut properties = json!({
        "@timestamp": {"type": "date"},
        "message": {"type": "text"},
        "extracted_fields": {"type": "object", "dynamic": true},
        "fallback": {"type": "boolean"},
        // A stack trace's events merged into one document (MULTILINE).
        "multiline": {"properties": {"events": {"type": "long"}}},
        "original_timestamp_ms": {"type": "long"},
        // Why a line, or a JSON message past MAX_JSON_DEPTH or MAX_FIELDS, stayed text.
        "parse_error": {"type": "text"},
        // Dead-letter documents, which keep Sluice's first names.
        "reason": {"type": "text"},
        "index": keyword,
        "event_timestamp_ms": {"type": "long"},
        "log_group": keyword,
        "log_stream": keyword,
        "owner": keyword,
        "region": keyword,
        "event_id": keyword,
        "format": keyword,
        "s3": {"properties": {"bucket": keyword, "key": keyword, "line": {"type": "long"}, "record": {"type": "long"}, "row": {"type": "long"}}},
        // The AWS blueprint's document shape (DOCUMENT_FORMAT=blueprint).
        "@id": keyword,
        "@message": {"type": "text"},
        "@owner": keyword,
        "@log_group": keyword,
        "@log_stream": keyword,
    });
    let ecs = ecs_common();
    for (name, mapping) in ecs.as_object().into_iter().flatten() {
        properties[name] = mapping.clone();
    }
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
                    {"tags_as_keywords": {"path_match": "aws.tags.*", "mapping": keyword}},
                    {"strings_as_keywords": {"match_mapping_type": "string", "mapping": keyword}},
                ],
                "properties": properties,
            },
        },
    })
}

/// The ECS fields every Sluice document may hold, with the types ECS gives them (`ecs_flat.yml`)
/// in the forms OpenSearch accepts: `constant_keyword` and `wildcard` as `keyword`.
fn ecs_common() -> Value {
    let keyword = json!({"type": "keyword", "ignore_above": 1024});
    let long = json!({"type": "long"});
    let double = json!({"type": "double"});
    json!({
        "ecs": {"properties": {"version": keyword}},
        "cloud": {"properties": {
            "provider": keyword,
            "region": keyword,
            "account": {"properties": {"id": keyword}},
            "instance": {"properties": {"id": keyword}},
            "availability_zone": keyword,
        }},
        "event": {"properties": {
            "kind": keyword,
            "dataset": keyword,
            "id": keyword,
            "category": keyword,
            "type": keyword,
            "action": keyword,
            "outcome": keyword,
            "provider": keyword,
            "code": keyword,
            "duration": long,
            "severity": long,
            "start": {"type": "date"},
            "end": {"type": "date"},
        }},
        "log": {"properties": {"level": keyword}},
        "faas": {"properties": {"name": keyword, "execution": keyword}},
        "related": {"properties": {"ip": {"type": "ip"}}},
        "aws": {"properties": {
            "cloudwatch": {"properties": {
                "log_group": keyword,
                "log_stream": keyword,
                "subscription_filters": keyword,
            }},
            "lambda": {"properties": {
                "event": keyword,
                "version": keyword,
                "duration_ms": double,
                "billed_duration_ms": double,
                "memory_size_mb": long,
                "max_memory_used_mb": long,
                "init_duration_ms": double,
                "restore_duration_ms": double,
                "timeout_s": double,
            }},
            "request_id": keyword,
            // The log group's tags (LOG_GROUP_TAGS): strings, kept as keywords by `tags_as_keywords`.
            "tags": {"type": "object", "dynamic": true},
            "s3": {"properties": {
                "bucket": {"properties": {"name": keyword}},
                "object": {"properties": {"key": keyword}},
                "line": long,
                "record": long,
                // A line or record cut to MAX_RECORD_BYTES, and its whole length.
                "truncated": {"type": "boolean"},
                "record_bytes": long,
                "row": long,
            }},
            // Where a record read from a Kinesis stream came from (CloudFront real-time logs).
            "kinesis": {"properties": {
                "stream": {"properties": {"arn": keyword}},
                "shard_id": keyword,
                "sequence_number": keyword,
                "partition_key": keyword,
                "line": long,
                // A line cut to MAX_RECORD_BYTES, and its whole length.
                "truncated": {"type": "boolean"},
                "record_bytes": long,
            }},
        }},
    })
}

/// The index template for `<prefix>-*` when records of `formats` go there: the template above,
/// plus the typed fields of each access log format under `aws.<object>` (`aws.alb.elb_status_code`
/// a long, addresses `ip`) and the ECS objects access logs fill ([`access_ecs`]).
pub(crate) fn index_template_for_formats(prefix: &str, json_field: &str, formats: &[Format]) -> Value {
    let mut template = index_template_with_json_field(prefix, json_field);
    let properties = &mut template["template"]["mappings"]["properties"];
    let mut typed = false;
    let mut ecs = false;
    for format in formats {
        // A CloudTrail record fills ECS objects of its own (`source.ip`, `user`, `error`).
        ecs |= matches!(format.reading, Reading::Records { .. });
        let Some(fields) = &format.typed else {
            continue;
        };
        typed = true;
        // Formats that share an object (CloudFront's standard and real-time logs) add to it.
        let object = &mut properties["aws"]["properties"][fields.object]["properties"];
        for (name, kind) in fields.fields {
            object[*name] = mapping_of(*kind);
        }
    }
    if typed {
        properties["parse_error"] = json!({"type": "text"});
    }
    if typed || ecs {
        for (name, mapping) in access_ecs().as_object().into_iter().flatten() {
            properties[name] = mapping.clone();
        }
    }
    template
}

/// The ECS objects of access log documents, with ECS's types as OpenSearch takes them
/// (`wildcard` → `keyword`, `match_only_text` → `text`); every address `ip`, and the `geo` and
/// `as` fields of every address object declared now, so GeoIP enrichment needs no new template.
fn access_ecs() -> Value {
    let keyword = json!({"type": "keyword", "ignore_above": 1024});
    let long = json!({"type": "long"});
    let long_keyword = json!({"type": "keyword", "ignore_above": 8192});
    let endpoint = json!({"properties": {
        "ip": {"type": "ip"},
        "port": long,
        "bytes": long,
        "packets": long,
        "geo": {"properties": {
            "country_iso_code": keyword,
            "country_name": keyword,
            "city_name": keyword,
            "continent_code": keyword,
            "continent_name": keyword,
            "region_iso_code": keyword,
            "region_name": keyword,
            "location": {"type": "geo_point"},
        }},
        "as": {"properties": {
            "number": long,
            "organization": {"properties": {"name": {
                "type": "keyword", "ignore_above": 1024,
                "fields": {"text": {"type": "text"}},
            }}},
        }},
    }});
    json!({
        "source": endpoint,
        "destination": endpoint,
        "client": endpoint,
        "network": {"properties": {
            "transport": keyword,
            "iana_number": keyword,
            "bytes": long,
            "packets": long,
            "direction": keyword,
        }},
        "http": {"properties": {
            "request": {"properties": {"method": keyword, "bytes": long, "id": keyword}},
            "response": {"properties": {"status_code": long, "bytes": long}},
            "version": keyword,
        }},
        "url": {"properties": {
            "original": long_keyword,
            "path": long_keyword,
            "query": long_keyword,
            "domain": keyword,
        }},
        "user_agent": {"properties": {
            "original": {"type": "keyword", "ignore_above": 2048, "fields": {"text": {"type": "text"}}},
            "name": keyword,
            "version": keyword,
            "os": {"properties": {"name": keyword, "version": keyword, "full": keyword}},
            "device": {"properties": {"name": keyword}},
        }},
        "tls": {"properties": {
            "cipher": keyword,
            "version": keyword,
            "version_protocol": keyword,
            "client": {"properties": {"server_name": keyword}},
        }},
        "trace": {"properties": {"id": keyword}},
        "rule": {"properties": {"id": keyword, "name": keyword, "ruleset": keyword, "category": keyword}},
        "user": {"properties": {"id": keyword, "name": keyword}},
        "error": {"properties": {"code": keyword, "message": {"type": "text"}}},
        "dns": {"properties": {
            "type": keyword,
            "question": {"properties": {"name": keyword, "type": keyword}},
            "response_code": keyword,
            "answers": {"properties": {"data": keyword, "type": keyword, "class": keyword}},
        }},
    })
}

fn mapping_of(kind: FieldType) -> Value {
    match kind {
        FieldType::Keyword => json!({"type": "keyword", "ignore_above": 1024}),
        FieldType::Text => json!({"type": "text"}),
        FieldType::Long => json!({"type": "long"}),
        FieldType::Double => json!({"type": "double"}),
        FieldType::Ip => json!({"type": "ip"}),
        FieldType::Date => json!({"type": "date"}),
        FieldType::Boolean => json!({"type": "boolean"}),
        FieldType::Object => json!({"type": "object", "dynamic": true}),
        FieldType::Flat => json!({"type": "flat_object"}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_log_templates_type_the_shared_fields() {
        let template = index_template_for_formats("alb", "json", &[Format::Alb]);
        assert_eq!(template["index_patterns"], json!(["alb-*"]));
        let properties = &template["template"]["mappings"]["properties"];
        assert_eq!(properties["source"]["properties"]["ip"]["type"], "ip");
        for endpoint in ["source", "destination", "client"] {
            let geo = &properties[endpoint]["properties"]["geo"]["properties"];
            assert_eq!(geo["location"]["type"], "geo_point", "{endpoint}");
            assert_eq!(
                properties[endpoint]["properties"]["as"]["properties"]["number"]["type"],
                "long"
            );
        }
        let status = &properties["http"]["properties"]["response"]["properties"]["status_code"];
        assert_eq!(status["type"], "long");
        assert!(properties["aws"]["properties"]["alb"]["properties"].is_object());
        assert_eq!(properties["related"]["properties"]["ip"]["type"], "ip");
        let trail = index_template_for_formats("cloudtrail", "json", &[Format::Cloudtrail]);
        let properties = &trail["template"]["mappings"]["properties"];
        assert_eq!(properties["source"]["properties"]["ip"]["type"], "ip");
        assert_eq!(properties["error"]["properties"]["message"]["type"], "text");
        let plain = index_template_for_formats("s3", "json", &[Format::JsonLines, Format::TextLines]);
        assert!(
            plain["template"]["mappings"]["properties"]
                .get("source")
                .is_none()
        );
    }

    #[test]
    fn formats_that_share_an_object_add_their_fields_to_it() {
        let both = [Format::Cloudfront, Format::CloudfrontRealtime];
        for formats in [both, [both[1], both[0]]] {
            let template = index_template_for_formats("cloudfront", "json", &formats);
            let properties = &template["template"]["mappings"]["properties"];
            let cloudfront = &properties["aws"]["properties"]["cloudfront"]["properties"];
            assert_eq!(cloudfront["date"]["type"], "date", "the standard logs' own");
            assert_eq!(
                cloudfront["origin_fbl"]["type"], "double",
                "the real-time logs' own"
            );
            assert_eq!(cloudfront["c_ip"]["type"], "ip", "both");
            let kinesis = &properties["aws"]["properties"]["kinesis"]["properties"];
            assert_eq!(kinesis["sequence_number"]["type"], "keyword");
        }
    }

    #[test]
    fn template_covers_the_prefix_and_types_the_fixed_fields() {
        let template = index_template("logs");
        assert_eq!(template["index_patterns"], json!(["logs-*"]));
        let properties = &template["template"]["mappings"]["properties"];
        assert_eq!(properties["@timestamp"]["type"], "date");
        assert_eq!(properties["message"]["type"], "text");
        assert_eq!(properties["faas"]["properties"]["execution"]["type"], "keyword");
        let aws = &properties["aws"]["properties"];
        assert_eq!(aws["lambda"]["properties"]["duration_ms"]["type"], "double");
        assert_eq!(aws["cloudwatch"]["properties"]["log_group"]["type"], "keyword");
        assert_eq!(
            properties["cloud"]["properties"]["account"]["properties"]["id"]["type"],
            "keyword"
        );
        assert_eq!(properties["related"]["properties"]["ip"]["type"], "ip");
        assert_eq!(properties["json"]["type"], "object");
        assert_eq!(template["template"]["mappings"]["date_detection"], false);
    }

    #[test]
    fn log_group_tags_are_keywords_whatever_their_value_looks_like() {
        let mappings = &index_template("cwl")["template"]["mappings"];
        assert_eq!(
            mappings["properties"]["aws"]["properties"]["tags"]["type"],
            "object"
        );
        let first = &mappings["dynamic_templates"][0]["tags_as_keywords"];
        assert_eq!(first["path_match"], "aws.tags.*");
        assert_eq!(first["mapping"]["type"], "keyword");
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

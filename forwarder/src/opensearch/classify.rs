//! What a `_bulk` answer means for each document: a pure function of the HTTP status and body.
//! The delivery loop ([`super::deliver`]) acts on it.
//!
//! Response format: <https://opensearch.org/docs/latest/api-reference/document-apis/bulk/#example-response>:
//! `{"took":…,"errors":…,"items":[{"create":{"_index":…,"_id":…,"status":201,"result":"created"}},
//! {"create":{…,"status":409,"error":{"type":"version_conflict_engine_exception","reason":…}}}]}`,
//! one item per action, in order.

use serde::Deserialize;

/// The outcome of one document of a request that OpenSearch answered item by item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ItemOutcome {
    /// Created.
    Indexed,
    /// 409 on `create`: the document is already there (a replay); counted, not retried.
    Duplicate,
    /// 429 or 5xx for this item: send it again after a backoff.
    Retry { status: u16, reason: String },
    /// 400 because the document does not fit the index mapping: send the fallback document.
    MappingConflict { reason: String },
    /// Any other refusal: dead-letter it.
    Rejected { status: u16, reason: String },
}

/// The outcome of a whole `_bulk` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BulkOutcome {
    /// One outcome per document, in request order.
    Items(Vec<ItemOutcome>),
    /// Nothing was indexed and it may work later (429, 5xx, an unreadable answer): resend all.
    RetryAll { status: u16, reason: String },
    /// 413: the request is too large; split it in halves and send each.
    Split,
    /// The request itself was refused (401, 403, 400 …): retrying will not help, and no
    /// document was indexed; the invocation fails so the payload is kept.
    FailAll { status: u16, reason: String },
}

/// Error types OpenSearch gives for a document that conflicts with the mapping.
const MAPPING_ERRORS: &[&str] = &[
    "mapper_parsing_exception",
    "illegal_argument_exception",
    "document_parsing_exception",
    "strict_dynamic_mapping_exception",
];

#[derive(Deserialize)]
struct Response {
    items: Vec<std::collections::BTreeMap<String, Item>>,
}

#[derive(Deserialize)]
struct Item {
    status: u16,
    #[serde(default)]
    error: Option<ItemError>,
}

#[derive(Deserialize)]
struct ItemError {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    caused_by: Option<Box<ItemError>>,
}

impl ItemError {
    fn describe(&self) -> String {
        match &self.caused_by {
            Some(cause) => format!("{}: {} (caused by {})", self.kind, self.reason, cause.describe()),
            None => format!("{}: {}", self.kind, self.reason),
        }
    }
}

/// Classifies a `_bulk` answer for a request of `item_count` documents.
pub(crate) fn classify(status: u16, body: &[u8], item_count: usize) -> BulkOutcome {
    match status {
        200..=299 => {}
        413 => return BulkOutcome::Split,
        429 | 500..=599 => {
            return BulkOutcome::RetryAll {
                status,
                reason: summary(body),
            };
        }
        _ => {
            return BulkOutcome::FailAll {
                status,
                reason: summary(body),
            };
        }
    }
    let response: Response = match serde_json::from_slice(body) {
        Ok(response) => response,
        Err(err) => {
            return BulkOutcome::RetryAll {
                status,
                reason: format!("unreadable _bulk response: {err}"),
            };
        }
    };
    if response.items.len() != item_count {
        return BulkOutcome::RetryAll {
            status,
            reason: format!(
                "_bulk response has {} items for {item_count} documents",
                response.items.len()
            ),
        };
    }
    let mut outcomes = Vec::with_capacity(item_count);
    for entry in response.items {
        let Some(item) = entry.into_values().next() else {
            return BulkOutcome::RetryAll {
                status,
                reason: "_bulk response item without an action".to_owned(),
            };
        };
        outcomes.push(item_outcome(&item));
    }
    BulkOutcome::Items(outcomes)
}

fn item_outcome(item: &Item) -> ItemOutcome {
    let reason = || item.error.as_ref().map(ItemError::describe).unwrap_or_default();
    match item.status {
        200..=299 => ItemOutcome::Indexed,
        409 => ItemOutcome::Duplicate,
        429 | 500..=599 => ItemOutcome::Retry {
            status: item.status,
            reason: reason(),
        },
        400 if item
            .error
            .as_ref()
            .is_some_and(|e| MAPPING_ERRORS.contains(&e.kind.as_str())) =>
        {
            ItemOutcome::MappingConflict { reason: reason() }
        }
        status => ItemOutcome::Rejected {
            status,
            reason: reason(),
        },
    }
}

/// The error of a whole-request failure, for logs and dead letters: OpenSearch's
/// `{"error":{"type":…,"reason":…}}` when it is that, else the start of the body.
fn summary(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct ErrorBody {
        error: ItemError,
    }
    if let Ok(parsed) = serde_json::from_slice::<ErrorBody>(body) {
        return parsed.error.describe();
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]);
    text.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example response of the OpenSearch `_bulk` documentation (link above), with the
    /// actions turned into `create` as Sluice sends them.
    const DOC_RESPONSE: &str = r#"{
      "took": 11, "errors": true,
      "items": [
        {"create": {"_index": "movies", "_id": "tt1979320", "_version": 1, "result": "created",
                    "_shards": {"total": 2, "successful": 1, "failed": 0}, "_seq_no": 1, "_primary_term": 1, "status": 201}},
        {"create": {"_index": "movies", "_id": "tt2229499", "status": 409,
                    "error": {"type": "version_conflict_engine_exception",
                              "reason": "[tt2229499]: version conflict, document already exists (current version [1])",
                              "index": "movies", "shard": "0", "index_uuid": "yhizhusbSWmFonI00t-RAw"}}},
        {"create": {"_index": "movies", "_id": "tt1", "status": 400,
                    "error": {"type": "mapper_parsing_exception", "reason": "failed to parse field [json.status] of type [long] in document with id 'tt1'. Preview of field's value: 'abc'",
                              "caused_by": {"type": "illegal_argument_exception", "reason": "For input string: \"abc\""}}}},
        {"create": {"_index": "movies", "_id": "tt2", "status": 429,
                    "error": {"type": "es_rejected_execution_exception", "reason": "rejected execution of coordinating operation"}}},
        {"create": {"_index": "movies", "_id": "tt3", "status": 503,
                    "error": {"type": "unavailable_shards_exception", "reason": "primary shard is not active"}}},
        {"create": {"_index": "movies", "_id": "tt4", "status": 400,
                    "error": {"type": "invalid_index_name_exception", "reason": "Invalid index name [Movies], must be lowercase"}}}
      ]
    }"#;

    #[test]
    fn per_item_outcomes_of_a_documented_response() {
        let BulkOutcome::Items(items) = classify(200, DOC_RESPONSE.as_bytes(), 6) else {
            panic!("expected per-item outcomes");
        };
        assert_eq!(items[0], ItemOutcome::Indexed);
        assert_eq!(items[1], ItemOutcome::Duplicate);
        let ItemOutcome::MappingConflict { reason } = &items[2] else {
            panic!("{:?}", items[2])
        };
        assert!(
            reason.starts_with("mapper_parsing_exception: failed to parse field [json.status]"),
            "{reason}"
        );
        assert!(
            reason.contains("caused by illegal_argument_exception"),
            "{reason}"
        );
        assert!(matches!(&items[3], ItemOutcome::Retry { status: 429, .. }));
        assert!(matches!(&items[4], ItemOutcome::Retry { status: 503, .. }));
        let ItemOutcome::Rejected { status: 400, reason } = &items[5] else {
            panic!("{:?}", items[5])
        };
        assert!(reason.starts_with("invalid_index_name_exception"), "{reason}");
    }

    #[test]
    fn whole_request_statuses() {
        let throttled = r#"{"error":{"type":"es_rejected_execution_exception","reason":"too many requests"},"status":429}"#;
        assert_eq!(
            classify(429, throttled.as_bytes(), 3),
            BulkOutcome::RetryAll {
                status: 429,
                reason: "es_rejected_execution_exception: too many requests".to_owned()
            }
        );
        assert!(matches!(
            classify(503, b"<html>Service Unavailable</html>", 3),
            BulkOutcome::RetryAll { status: 503, .. }
        ));
        assert_eq!(classify(413, b"", 3), BulkOutcome::Split);
        let denied = r#"{"Message":"User: anonymous is not authorized to perform: es:ESHttpPost"}"#;
        let BulkOutcome::FailAll { status: 403, reason } = classify(403, denied.as_bytes(), 3) else {
            panic!("expected FailAll")
        };
        assert!(reason.contains("not authorized"), "{reason}");
    }

    #[test]
    fn unreadable_or_mismatched_answers_retry_everything() {
        assert!(matches!(
            classify(200, b"not json", 1),
            BulkOutcome::RetryAll { status: 200, .. }
        ));
        let one = r#"{"took":1,"errors":false,"items":[{"create":{"status":201,"result":"created"}}]}"#;
        assert_eq!(
            classify(200, one.as_bytes(), 1),
            BulkOutcome::Items(vec![ItemOutcome::Indexed])
        );
        let BulkOutcome::RetryAll { reason, .. } = classify(200, one.as_bytes(), 2) else {
            panic!("mismatch")
        };
        assert!(reason.contains("1 items for 2 documents"), "{reason}");
    }
}

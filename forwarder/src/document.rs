//! One OpenSearch document per log event.

/// A document ready for a `_bulk` `index` action.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The dated index, e.g. `cwl-2026.11.22`.
    pub index: String,
    /// Deterministic `_id` from the CloudWatch event id; `None` for OpenSearch Serverless
    /// time-series collections, which reject client ids.
    pub id: Option<String>,
    /// The `_source`: one serialised JSON object, no newline.
    pub source: String,
    /// Position of the log event in its batch's `log_events`, to find it again for a fallback
    /// or dead-letter document.
    pub event: usize,
}

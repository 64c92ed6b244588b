//! The counts of an invocation (or of a whole replay): what happened to every event.

use serde::Serialize;

/// Every outcome of an invocation (or a CLI replay), counted. For each decodable batch
/// `events = indexed + duplicates + dead_lettered + failed + skipped`, where `indexed` includes
/// the `fallbacks`. An undecodable Kinesis record counts as one event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub batches: u64,
    pub events: u64,
    pub indexed: u64,
    pub duplicates: u64,
    /// Item re-sends (one item retried twice counts two).
    pub retried: u64,
    pub dead_lettered: u64,
    pub failed: u64,
    pub skipped: u64,
    /// Documents indexed in their fallback form after a mapping conflict (part of `indexed`).
    pub fallbacks: u64,
    pub bulk_requests: u64,
    /// Total time spent waiting for `_bulk` answers, in milliseconds.
    pub bulk_ms: u64,
    /// Access log lines that did not parse, indexed as text with a `parse_error` (part of
    /// `indexed`: counted when the document is created, not when it was already there).
    #[serde(skip_serializing_if = "is_zero")]
    pub unparsed: u64,
    /// Documents whose own time lay outside `INDEX_TIME_WINDOW_DAYS`: indexed at their read
    /// time, their own kept in `original_timestamp_ms` (part of `indexed`, when delivered).
    #[serde(skip_serializing_if = "is_zero")]
    pub out_of_window: u64,
    /// Objects read from S3 (to the end or not).
    #[serde(skip_serializing_if = "is_zero")]
    pub objects: u64,
    /// Objects that could not be read to the end: their notification is reported failed.
    #[serde(skip_serializing_if = "is_zero")]
    pub objects_failed: u64,
    /// Objects not read to the end before the deadline whose rest was handed on to a later
    /// invocation (a continuation sent to their queue): part of `objects`.
    #[serde(skip_serializing_if = "is_zero")]
    pub objects_continued: u64,
    /// Continuations refused because their object was replaced since (its ETag changed): part
    /// of `objects`, acknowledged.
    #[serde(skip_serializing_if = "is_zero")]
    pub continuations_refused: u64,
    /// Objects not read because their format holds no logs (CloudTrail digest files): part of
    /// `objects`, acknowledged, no event counted.
    #[serde(skip_serializing_if = "is_zero")]
    pub objects_skipped: u64,
    /// Log-group tag lookups that failed (throttled, denied, too slow): their batches went
    /// without tags.
    #[serde(skip_serializing_if = "is_zero")]
    pub tag_lookups_failed: u64,
    /// Lines and records of objects longer than `MAX_RECORD_BYTES`: indexed cut to it, marked
    /// `aws.s3.truncated` (counted when their documents are made).
    #[serde(skip_serializing_if = "is_zero")]
    pub truncated: u64,
    /// JSON messages nested deeper than `MAX_JSON_DEPTH`: kept as text in `message`.
    #[serde(skip_serializing_if = "is_zero")]
    pub json_too_deep: u64,
    /// JSON messages with more fields than `MAX_FIELDS`: kept as text in `message`.
    #[serde(skip_serializing_if = "is_zero")]
    pub json_too_many_fields: u64,
}

fn is_zero(count: &u64) -> bool {
    *count == 0
}

impl Summary {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &Summary) {
        self.batches += other.batches;
        self.events += other.events;
        self.indexed += other.indexed;
        self.duplicates += other.duplicates;
        self.retried += other.retried;
        self.dead_lettered += other.dead_lettered;
        self.failed += other.failed;
        self.skipped += other.skipped;
        self.fallbacks += other.fallbacks;
        self.bulk_requests += other.bulk_requests;
        self.bulk_ms += other.bulk_ms;
        self.unparsed += other.unparsed;
        self.out_of_window += other.out_of_window;
        self.objects += other.objects;
        self.objects_failed += other.objects_failed;
        self.objects_skipped += other.objects_skipped;
        self.objects_continued += other.objects_continued;
        self.continuations_refused += other.continuations_refused;
        self.tag_lookups_failed += other.tag_lookups_failed;
        self.truncated += other.truncated;
        self.json_too_deep += other.json_too_deep;
        self.json_too_many_fields += other.json_too_many_fields;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_add_field_by_field() {
        let one = Summary {
            batches: 1,
            events: 10,
            indexed: 7,
            duplicates: 1,
            retried: 3,
            dead_lettered: 1,
            failed: 1,
            skipped: 0,
            fallbacks: 1,
            bulk_requests: 2,
            bulk_ms: 40,
            unparsed: 3,
            out_of_window: 2,
            objects: 2,
            objects_failed: 1,
            objects_skipped: 1,
            objects_continued: 1,
            continuations_refused: 3,
            tag_lookups_failed: 1,
            truncated: 2,
            json_too_deep: 1,
            json_too_many_fields: 3,
        };
        let mut total = one;
        total.add(&one);
        assert_eq!(total.events, 20);
        assert_eq!(
            (total.objects, total.objects_failed, total.objects_skipped),
            (4, 2, 2)
        );
        assert_eq!((total.objects_continued, total.continuations_refused), (2, 6));
        assert_eq!(total.tag_lookups_failed, 2);
        assert_eq!(
            (total.truncated, total.json_too_deep, total.json_too_many_fields),
            (4, 2, 6)
        );
        assert_eq!(total.out_of_window, 4);
        assert_eq!(total.indexed, 14);
        assert_eq!(total.retried, 6);
        assert_eq!(total.bulk_ms, 80);
    }
}

//! Sluice's forwarder: turns CloudWatch Logs subscription batches into OpenSearch documents and
//! bulk-indexes them into date-based indices.

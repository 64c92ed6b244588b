//! Sluice's forwarder: turns CloudWatch Logs subscription batches into OpenSearch documents and
//! bulk-indexes them into date-based indices, at least once and without duplicates.
//!
//! The pipeline, pure from end to end until the sink:
//! `batch` (base64 + gzip + JSON into [`batch::LogsData`]) → `parse` (what a log line says) →
//! `redact` → `document` (one [`document::Document`] per log event, into its dated `index`) →
//! `bulk` (NDJSON `_bulk` bodies split under a size limit). Around it: `config` (settings from
//! the environment or flags), `input` (the Lambda event kinds), `auth`, `sink` (HTTP), `retry`
//! (per-item outcome of a bulk answer), `deliver` (retries within the deadline, fallback and
//! dead-letter documents), `metrics`, `handler` (the Lambda entry) and `replay` (the CLI's).

// The pure pipeline (owned with `parse`, `redact`, `index`, `bulk`, `retry`, `metrics`, `setup`).
pub mod batch;
pub mod bulk;
pub mod document;
pub mod index;
pub mod metrics;
pub mod parse;
pub mod redact;
pub mod retry;
pub mod setup;

// The edges: settings, Lambda inputs, HTTP, delivery.
pub mod auth;
pub mod config;
pub mod deliver;
pub mod handler;
pub mod input;
pub mod replay;
pub mod sink;

pub use config::{Config, Purpose};
pub use deliver::Summary;
pub use handler::{Forwarder, HandlerError};
pub use input::Input;

//! Sluice's forwarder: turns CloudWatch Logs subscription batches into OpenSearch documents and
//! bulk-indexes them into date-based indices, at least once and without duplicates.
//!
//! One pipeline, one way through it (docs/architecture.md has the picture):
//!
//! ```text
//! handler (Lambda) / cli (replay…)     the edges: an event in, an answer out
//!   └─ pipeline                        one run: prepare, read objects, output, outcome per ack
//!        ├─ source/                    Lambda events → batches of log events, each with its Ack
//!        ├─ document/                  parse, redact, shape, index name → documents
//!        └─ opensearch/                bulk encoding, classification, retries, HTTP, auth, setup
//! ```
//!
//! Beside it: `config` (every setting, validated), `enrich` (GeoIP, AS numbers and user agents,
//! below `document/`), `metrics` (EMF), `summary` (the counts),
//! `dashboards` (OpenSearch Dashboards saved objects for what it writes), `hostile` (what must
//! hold for any input: the bodies of the fuzz targets), `json` (JSON text
//! written by hand, for every stage) and `civil` (the calendar, for timestamps and index names).

pub mod civil;
pub mod cli;
pub mod config;
pub mod dashboards;
pub mod document;
pub mod enrich;
pub mod handler;
pub mod hostile;
pub mod json;
pub mod limits;
pub mod metrics;
pub mod opensearch;
pub mod pipeline;
pub mod source;
pub mod summary;

pub use config::{Config, Purpose};
pub use handler::{Forwarder, HandlerError};
pub use sluice_edge::ErrorType;
pub use source::lambda::Input;
pub use summary::Summary;

//! The OpenSearch end of the pipeline: documents in, outcomes per acknowledgement out.
//!
//! - [`bulk`]: the one `_bulk` encoder, requests cut on the bytes written;
//! - [`classify`]: what a `_bulk` answer means for each document (pure);
//! - [`deliver`]: the delivery loop: concurrency, retries with backoff, fallback and dead letters;
//! - [`sink`]: the HTTP client; [`auth`]: SigV4 or basic auth; [`setup`]: the index template and
//!   ISM policy, installed once.

pub mod auth;
pub mod bulk;
pub mod classify;
pub mod deliver;
pub mod setup;
pub mod sink;

use reqwest::Url;

use self::auth::AuthMode;

/// Where and how documents are sent.
#[derive(Debug, Clone)]
pub struct SinkConfig {
    pub endpoint: Url,
    pub auth: AuthMode,
    pub gzip: bool,
    pub concurrency: usize,
    /// `INDEX_RETENTION_DAYS`: when set, an ISM policy deletes older indices.
    pub retention_days: Option<u32>,
}

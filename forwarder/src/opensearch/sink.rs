//! The HTTP edge: one `reqwest::Client` (one connection pool) per process, and `_bulk` POSTs
//! (gzip-compressed when `BULK_GZIP`) signed by [`Signer`] on the exact bytes sent.

use std::io::Write;
use std::time::Duration;

use flate2::Compression;
use flate2::write::GzEncoder;
use reqwest::Url;

use super::auth::{AuthError, Signer};

/// A request that did not produce an HTTP answer.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("{method} {url}: {reason}")]
    Transport {
        method: &'static str,
        url: String,
        reason: String,
        timeout: bool,
    },
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("compressing a {bytes}-byte bulk body: {source}")]
    Gzip { bytes: usize, source: std::io::Error },
}

/// An HTTP answer: status and body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

/// The cluster the forwarder writes to.
#[derive(Debug)]
pub struct Sink {
    client: reqwest::Client,
    endpoint: Url,
    signer: Signer,
    gzip: bool,
}

impl Sink {
    /// One client per process: connections are reused across invocations.
    pub fn new(endpoint: Url, signer: Signer, gzip: bool) -> Sink {
        let client = reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Sink {
            client,
            endpoint,
            signer,
            gzip,
        }
    }

    /// `endpoint` joined with `path` (which starts with `/`), keeping any path prefix of the
    /// endpoint (a proxy may serve OpenSearch under `/opensearch`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.endpoint.as_str().trim_end_matches('/'))
    }

    /// POSTs one NDJSON `_bulk` body, compressed when configured, within `timeout`.
    pub async fn bulk(&self, ndjson: &[u8], timeout: Duration) -> Result<Answer, SinkError> {
        if self.gzip {
            let mut encoder = GzEncoder::new(Vec::with_capacity(ndjson.len() / 6), Compression::fast());
            let gz = encoder
                .write_all(ndjson)
                .and_then(|()| encoder.finish())
                .map_err(|source| SinkError::Gzip {
                    bytes: ndjson.len(),
                    source,
                })?;
            self.send(
                reqwest::Method::POST,
                "/_bulk",
                &[
                    ("content-type", "application/x-ndjson"),
                    ("content-encoding", "gzip"),
                ],
                gz,
                timeout,
            )
            .await
        } else {
            self.send(
                reqwest::Method::POST,
                "/_bulk",
                &[("content-type", "application/x-ndjson")],
                ndjson.to_vec(),
                timeout,
            )
            .await
        }
    }

    /// Sends one request, signed over `body` as sent.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<Answer, SinkError> {
        let url = self.url(path);
        let method_name: &'static str = match method {
            reqwest::Method::GET => "GET",
            reqwest::Method::PUT => "PUT",
            reqwest::Method::POST => "POST",
            reqwest::Method::DELETE => "DELETE",
            _ => "HTTP",
        };
        let host = self.endpoint.host_str().unwrap_or_default();
        let host = match self.endpoint.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        };
        let mut signed: Vec<(&str, &str)> = headers.to_vec();
        signed.push(("host", &host));
        let auth = self.signer.headers(method_name, &url, &signed, &body).await?;
        let mut request = self.client.request(method, &url).timeout(timeout).body(body);
        for (name, value) in headers.iter().copied() {
            request = request.header(name, value);
        }
        for (name, value) in &auth {
            request = request.header(name.as_str(), value.as_str());
        }
        let transport = |err: reqwest::Error| SinkError::Transport {
            method: method_name,
            url: url.clone(),
            timeout: err.is_timeout(),
            reason: sluice_edge::sdk_error::error_chain(&err),
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(transport)?.to_vec();
        Ok(Answer { status, body })
    }
}

//! The HTTP edge: one `reqwest::Client` (one connection pool) per process, `_bulk` POSTs
//! (gzip-compressed when `BULK_GZIP`), signed by [`Signer`] on the exact bytes sent, and the
//! one-time installation of the index template and ISM retention policy.

use std::io::Write;
use std::time::Duration;

use flate2::Compression;
use flate2::write::GzEncoder;
use reqwest::Url;
use tokio::sync::OnceCell;

use crate::auth::{AuthError, Signer};

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
    setup: OnceCell<()>,
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
            setup: OnceCell::new(),
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
            reason: error_chain(&err),
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(transport)?.to_vec();
        Ok(Answer { status, body })
    }

    /// Installs the index template (and the ISM retention policy when `retention_days` is set)
    /// once per process, each request given at most `timeout` so that setup cannot eat the
    /// invocation's deadline. A cluster that refuses either is logged as a warning, never fatal:
    /// documents can still be indexed with dynamic mappings and kept forever. A cluster that did
    /// not answer (unreachable, timed out) is tried again by the next invocation.
    /// `json_field` is where parsed JSON lands (`JSON_FIELD`), mapped as a dynamic object.
    pub async fn ensure_setup(
        &self,
        prefix: &str,
        json_field: &str,
        retention_days: Option<u32>,
        timeout: Duration,
    ) {
        let _unanswered = self
            .setup
            .get_or_try_init(|| async {
                match self
                    .install_setup(prefix, json_field, retention_days, timeout)
                    .await
                {
                    true => Ok(()),
                    false => Err(()),
                }
            })
            .await;
    }

    /// Whether the cluster answered every setup request (whatever it answered).
    async fn install_setup(
        &self,
        prefix: &str,
        json_field: &str,
        retention_days: Option<u32>,
        timeout: Duration,
    ) -> bool {
        let json = [("content-type", "application/json")];
        let template = crate::setup::index_template_with_json_field(prefix, json_field)
            .to_string()
            .into_bytes();
        let path = format!("/_index_template/{prefix}");
        if !self
            .put_tolerated(&path, &json, template, timeout, "index template")
            .await
        {
            return false;
        }
        let Some(days) = retention_days else {
            return true;
        };
        let probe = self
            .send(
                reqwest::Method::GET,
                "/_plugins/_ism/policies",
                &[],
                Vec::new(),
                timeout,
            )
            .await;
        match probe {
            Err(err) => {
                tracing::warn!(error = %err, "could not ask the cluster for _plugins/_ism; trying again later");
                return false;
            }
            Ok(answer) if answer.status >= 300 => {
                tracing::warn!(
                    retention_days = days,
                    status = answer.status,
                    "the cluster has no _plugins/_ism: indices are not deleted after INDEX_RETENTION_DAYS"
                );
                return true;
            }
            Ok(_) => {}
        }
        let policy = crate::setup::ism_policy(prefix, days).to_string().into_bytes();
        let path = format!("/_plugins/_ism/policies/{prefix}-retention");
        self.put_tolerated(&path, &json, policy, timeout, "ISM retention policy")
            .await
    }

    /// PUTs a setup document; whether the cluster answered at all.
    async fn put_tolerated(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
        timeout: Duration,
        what: &str,
    ) -> bool {
        match self
            .send(reqwest::Method::PUT, path, headers, body, timeout)
            .await
        {
            // 409: the policy already exists, which is what we want.
            Ok(answer) if answer.status < 300 || answer.status == 409 => {
                tracing::info!(path, status = answer.status, "{what} installed");
                true
            }
            Ok(answer) => {
                tracing::warn!(
                    path,
                    status = answer.status,
                    answer = %String::from_utf8_lossy(&answer.body[..answer.body.len().min(300)]),
                    "the cluster refused the {what}; continuing without it"
                );
                true
            }
            Err(err) => {
                tracing::warn!(path, error = %err, "could not install the {what}; trying again later");
                false
            }
        }
    }
}

/// An error with its causes, e.g. `error sending request: connection refused`.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

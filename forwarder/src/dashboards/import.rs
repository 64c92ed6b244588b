//! Sends the saved objects to OpenSearch Dashboards' import API,
//! `POST <dashboards>/api/saved_objects/_import?overwrite=true`, as a multipart form holding the
//! `.ndjson` file, through the forwarder's own HTTP client and authentication (SigV4, basic or
//! none), so `sluice-forwarder dashboards` takes the same settings as the forwarder.
//!
//! The API (Kibana 7.10's, kept by OpenSearch Dashboards) answers 200 with `{"success",
//! "successCount", "errors"}` even when some objects were refused, so both the status and the
//! body decide the outcome.

use std::time::Duration;

use serde::Deserialize;

use super::{saved_objects, to_ndjson};
use crate::document::DocumentOptions;
use crate::opensearch::SinkConfig;
use crate::opensearch::auth::{AuthError, Signer};
use crate::opensearch::sink::{Sink, SinkError};

/// The import path under the Dashboards URL; `overwrite` replaces objects of the same id, so
/// importing again updates the dashboards instead of failing on conflicts.
pub(crate) const IMPORT_PATH: &str = "/api/saved_objects/_import?overwrite=true";

/// The multipart boundary: a fixed string no saved object contains (their JSON escapes no `-`
/// runs this long), so the body is the same bytes every time and can be signed as built.
const BOUNDARY: &str = "----sluice-saved-objects-7d1c4e9a";

/// How long the import may take: Dashboards writes each object to its `.kibana` index.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Why the saved objects were not all imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("POST {url}: {reason}")]
    Transport { url: String, reason: String },
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("Dashboards answered {status} to POST {url}: {message}")]
    Status {
        url: String,
        status: u16,
        message: String,
    },
    #[error("Dashboards imported {imported} of {total} saved objects; refused: {refused}")]
    Refused {
        imported: usize,
        total: usize,
        /// Each refused object: type, id, title and why.
        refused: String,
    },
}

/// What Dashboards imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    /// The API's `successCount`.
    pub count: usize,
}

/// The body of `POST /api/saved_objects/_import`: one form field `file`, the `.ndjson` file
/// (Dashboards refuses a file whose name does not end in `.ndjson`).
pub(crate) fn multipart_body(ndjson: &str) -> Vec<u8> {
    let mut body = Vec::with_capacity(ndjson.len() + 256);
    body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
    body.extend_from_slice(
        b"Content-Disposition: form-data; name=\"file\"; filename=\"sluice.ndjson\"\r\n\
          Content-Type: application/ndjson\r\n\r\n",
    );
    body.extend_from_slice(ndjson.as_bytes());
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// The `content-type` of [`multipart_body`].
pub fn content_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

/// Imports the saved objects for the indices `documents` write into the Dashboards at
/// `dashboards.endpoint`, authenticated as `dashboards.auth` says.
pub(crate) async fn import_for(
    dashboards: &SinkConfig,
    documents: &DocumentOptions,
) -> Result<Imported, ImportError> {
    let objects = saved_objects(documents);
    let signer = Signer::load(&dashboards.auth).await?;
    let sink = Sink::new(dashboards.endpoint.clone(), signer, false);
    import(&sink, &to_ndjson(&objects), objects.len()).await
}

/// Imports `ndjson` (`total` saved objects) into the Dashboards at `sink`'s URL (for Amazon
/// OpenSearch Service `https://<domain endpoint>/_dashboards`).
pub async fn import(sink: &Sink, ndjson: &str, total: usize) -> Result<Imported, ImportError> {
    let url = sink.url(IMPORT_PATH);
    let content_type = content_type();
    let answer = sink
        .send(
            reqwest::Method::POST,
            IMPORT_PATH,
            &[("content-type", content_type.as_str()), ("osd-xsrf", "true")],
            multipart_body(ndjson),
            TIMEOUT,
        )
        .await
        .map_err(|err| match err {
            SinkError::Auth(err) => ImportError::Auth(err),
            other => ImportError::Transport {
                url: url.clone(),
                reason: other.to_string(),
            },
        })?;
    outcome(&url, answer.status, &answer.body, total)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    #[serde(default)]
    success: bool,
    #[serde(default)]
    success_count: usize,
    #[serde(default)]
    errors: Vec<ObjectError>,
}

#[derive(Debug, Deserialize)]
struct ObjectError {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    error: serde_json::Value,
}

/// What an answer of the import API means (pure): the count imported, or why not everything was.
pub fn outcome(url: &str, status: u16, body: &[u8], total: usize) -> Result<Imported, ImportError> {
    let text = String::from_utf8_lossy(body);
    if !(200..300).contains(&status) {
        // Dashboards' errors are `{"statusCode":400,"error":"Bad Request","message":"…"}`.
        let message = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|value| value["message"].as_str().map(str::to_string))
            .unwrap_or_else(|| text.chars().take(500).collect());
        return Err(ImportError::Status {
            url: url.to_string(),
            status,
            message,
        });
    }
    let answer: Answer = serde_json::from_slice(body).map_err(|err| ImportError::Status {
        url: url.to_string(),
        status,
        message: format!(
            "not an import answer ({err}): {}",
            text.chars().take(500).collect::<String>()
        ),
    })?;
    if answer.success && answer.errors.is_empty() {
        return Ok(Imported {
            count: answer.success_count,
        });
    }
    let refused = answer
        .errors
        .iter()
        .map(|error| {
            let why = error.error["type"].as_str().unwrap_or("unknown");
            let detail = match (&error.error["references"], error.error["message"].as_str()) {
                (serde_json::Value::Array(missing), _) if !missing.is_empty() => {
                    let names: Vec<String> = missing
                        .iter()
                        .map(|r| {
                            format!(
                                "{} {}",
                                r["type"].as_str().unwrap_or(""),
                                r["id"].as_str().unwrap_or("")
                            )
                        })
                        .collect();
                    format!(" ({})", names.join(", "))
                }
                (_, Some(message)) => format!(" ({message})"),
                _ => String::new(),
            };
            format!("{} {} \"{}\": {why}{detail}", error.kind, error.id, error.title)
        })
        .collect::<Vec<_>>()
        .join("; ");
    Err(ImportError::Refused {
        imported: answer.success_count,
        total,
        refused: if refused.is_empty() {
            "no reason given".to_string()
        } else {
            refused
        },
    })
}

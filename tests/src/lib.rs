//! Starts the emulators Sluice is tested and demonstrated against, on free loopback ports.
//!
//! [`Moto`] runs `moto_server` (CloudWatch Logs, Lambda, IAM, Kinesis, S3, SQS) and [`OsMem`] runs
//! `osmem-server` (OpenSearch), both from the project-local virtualenv that `tools/setup.sh`
//! installs. Each value owns its process: dropping it, also while a test panics, stops the server.
//! Each server writes its output to a file under `target/emulators/`; a failing test names it.
//!
//! [`Function`] runs a function binary as Lambda does, against a minimal Runtime API of the
//! harness, and [`SqsMapping`] feeds it a queue's messages as Lambda's event source mapping does.

mod aws_json;
mod event_source;
mod function;
mod objects;
mod process;
mod runtime_api;
pub mod streamed_s3;

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_cloudwatchlogs::config::{BehaviorVersion, Region};
use serde_json::Value;

pub use aws_json::serve_aws_json;
pub use event_source::{Drained, Invoked, SqsMapping, finished_messages, sqs_event_record};
pub use function::{Function, forwarder_binary};
pub use process::{HarnessError, ServerProcess};
pub use runtime_api::Answer;

/// The account moto answers for unless told otherwise.
pub const ACCOUNT_ID: &str = "123456789012";
/// The region every emulated client uses.
pub const REGION: &str = "us-east-1";

/// The workspace root: the folder that holds `Cargo.toml`, `tools/` and `.venv/`.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives inside the workspace")
        .to_path_buf()
}

/// The virtualenv with the pinned Python tooling: `SLUICE_VENV`, or `.venv` in the workspace.
pub fn venv_dir() -> PathBuf {
    std::env::var_os("SLUICE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv"))
}

/// Where server output is kept: `target/emulators/` (or under `CARGO_TARGET_DIR`).
pub fn log_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join("emulators")
}

/// A running `moto_server`, the AWS API emulator.
pub struct Moto {
    server: ServerProcess,
}

impl Moto {
    /// Starts moto on a free loopback port with its request recorder switched on;
    /// panics with the reason and the install command when it cannot.
    pub fn start() -> Moto {
        Moto::try_start().unwrap_or_else(|err| panic!("{err}"))
    }

    /// Starts moto, or says which server failed, why, and how to install it.
    pub fn try_start() -> Result<Moto, HarnessError> {
        Moto::try_start_from(&venv_dir())
    }

    /// Starts moto from the virtualenv `venv`.
    pub fn try_start_from(venv: &Path) -> Result<Moto, HarnessError> {
        let server = process::start_moto(venv, &log_dir())?;
        Ok(Moto { server })
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`; the value for `AWS_ENDPOINT_URL`.
    pub fn url(&self) -> &str {
        self.server.url()
    }

    /// The file that holds the server's output.
    pub fn log_path(&self) -> &Path {
        self.server.log_path()
    }

    /// Environment variables that point the AWS SDK (and so both Sluice binaries) at this moto.
    pub fn aws_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.url().to_string()),
            ("AWS_REGION", REGION.to_string()),
            ("AWS_ACCESS_KEY_ID", "testing".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ]
    }

    /// A CloudWatch Logs client for this moto, with static test credentials.
    pub fn logs_client(&self) -> aws_sdk_cloudwatchlogs::Client {
        let config = aws_sdk_cloudwatchlogs::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(self.url())
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "sluice-tests"))
            .build();
        aws_sdk_cloudwatchlogs::Client::from_conf(config)
    }

    /// A Lambda client for this moto (the subscriber's handler continues long sweeps through it).
    pub fn lambda_client(&self) -> aws_sdk_lambda::Client {
        let config = aws_sdk_lambda::Config::builder()
            .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
            .endpoint_url(self.url())
            .region(aws_sdk_lambda::config::Region::new(REGION))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "sluice-tests"))
            .build();
        aws_sdk_lambda::Client::from_conf(config)
    }

    /// Creates a Lambda function (with the IAM role moto requires for it) and returns its ARN:
    /// a real destination for subscription filters, which moto checks exists.
    pub async fn create_lambda_function(&self, name: &str) -> Result<String, HarnessError> {
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        let form = format!(
            "Action=CreateRole&Version=2010-05-08&RoleName={}&AssumeRolePolicyDocument={}",
            form_encode(name),
            form_encode(policy)
        );
        let role = self
            .aws_call(
                "iam",
                "POST",
                "/",
                "application/x-www-form-urlencoded",
                None,
                form,
            )
            .await?;
        let role_arn = between(&role, "<Arn>", "</Arn>").ok_or_else(|| HarnessError::Api {
            server: "moto_server",
            what: format!("CreateRole answered without an Arn: {role}"),
        })?;
        let function = serde_json::json!({
            "FunctionName": name,
            "Runtime": "provided.al2023",
            "Role": role_arn,
            "Handler": "bootstrap",
            "Code": {"ZipFile": BOOTSTRAP_ZIP},
        });
        let answer = self
            .aws_call(
                "lambda",
                "POST",
                "/2015-03-31/functions",
                "application/json",
                None,
                function.to_string(),
            )
            .await?;
        json_field(&answer, "FunctionArn")
    }

    /// Creates a one-shard Kinesis data stream and returns its ARN.
    pub async fn create_kinesis_stream(&self, name: &str) -> Result<String, HarnessError> {
        let body = serde_json::json!({"StreamName": name, "ShardCount": 1}).to_string();
        let target = Some("Kinesis_20131202.CreateStream");
        self.aws_call("kinesis", "POST", "/", "application/x-amz-json-1.1", target, body)
            .await?;
        Ok(format!("arn:aws:kinesis:{REGION}:{ACCOUNT_ID}:stream/{name}"))
    }

    /// One raw AWS API call. moto routes a request by the service named in its credential scope
    /// and does not check signatures, so a well-formed unsigned header is enough.
    async fn aws_call(
        &self,
        service: &str,
        method: &str,
        path: &str,
        content_type: &str,
        target: Option<&str>,
        body: String,
    ) -> Result<String, HarnessError> {
        let url = format!("{}{path}", self.url());
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential=testing/20261122/{REGION}/{service}/aws4_request, \
             SignedHeaders=host, Signature=0"
        );
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("valid HTTP method");
        let mut request = reqwest::Client::new()
            .request(method, &url)
            .header("authorization", authorization)
            .header("content-type", content_type)
            .body(body);
        if let Some(target) = target {
            request = request.header("x-amz-target", target);
        }
        let api_error = |what: String| HarnessError::Api {
            server: "moto_server",
            what,
        };
        let response = request
            .send()
            .await
            .map_err(|err| api_error(format!("{service} {url}: {err}")))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|err| api_error(format!("{service} {url}: {err}")))?;
        if !status.is_success() {
            return Err(api_error(format!("{service} {url}: HTTP {status}: {text}")));
        }
        Ok(text)
    }

    /// Forgets every API call recorded so far; later calls are recorded from here on.
    pub async fn reset_recording(&self) -> Result<(), HarnessError> {
        self.moto_api("POST", "/moto-api/recorder/reset-recording")
            .await?;
        Ok(())
    }

    /// The API actions moto received since the last reset, in order (e.g. `PutSubscriptionFilter`).
    pub async fn recorded_actions(&self) -> Result<Vec<String>, HarnessError> {
        let text = self
            .moto_api("GET", "/moto-api/recorder/download-recording")
            .await?;
        text.lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                let entry: Value = serde_json::from_str(line).map_err(|err| HarnessError::Api {
                    server: "moto_server",
                    what: format!("recording line is not JSON ({err}): {line}"),
                })?;
                Ok(recorded_action(&entry))
            })
            .collect()
    }

    async fn moto_api(&self, method: &str, path: &str) -> Result<String, HarnessError> {
        let url = format!("{}{path}", self.url());
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("valid HTTP method");
        let api_error = |what: String| HarnessError::Api {
            server: "moto_server",
            what,
        };
        let response = reqwest::Client::new()
            .request(method, &url)
            .send()
            .await
            .map_err(|err| api_error(format!("{url}: {err}")))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|err| api_error(format!("{url}: {err}")))?;
        if !status.is_success() {
            return Err(api_error(format!("{url}: HTTP {status}: {body}")));
        }
        Ok(body)
    }
}

/// A zip holding one executable `bootstrap` script: the code of an emulated Lambda function.
const BOOTSTRAP_ZIP: &str = "UEsDBBQAAAAAAAAAIVzihkXDEQAAABEAAAAJAAAAYm9vdHN0cmFwIyEvYmluL3NoCmV4aXQgMApQSwECFAMUAAAAAAAAACFc4oZFwxEAAAARAAAACQAAAAAAAAAAAAAA7QEAAAAAYm9vdHN0cmFwUEsFBgAAAAABAAEANwAAADgAAAAAAA==";

/// `application/x-www-form-urlencoded` encoding of one value.
fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (byte as char).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let to = from + text[from..].find(end)?;
    Some(&text[from..to])
}

fn json_field(text: &str, field: &str) -> Result<String, HarnessError> {
    let value: Value = serde_json::from_str(text).map_err(|err| HarnessError::Api {
        server: "moto_server",
        what: format!("answer is not JSON ({err}): {text}"),
    })?;
    value[field]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| HarnessError::Api {
            server: "moto_server",
            what: format!("answer has no {field}: {text}"),
        })
}

/// The action of one recorded request: the `X-Amz-Target` suffix of JSON APIs
/// (`Logs_20140328.PutSubscriptionFilter`) or the `Action=` of query APIs.
fn recorded_action(entry: &Value) -> String {
    let headers = entry.get("headers").and_then(Value::as_object);
    let target = headers.and_then(|headers| {
        headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("x-amz-target"))
            .and_then(|(_, value)| value.as_str())
    });
    if let Some(target) = target {
        return target.rsplit('.').next().unwrap_or(target).to_string();
    }
    let url = entry.get("url").and_then(Value::as_str).unwrap_or_default();
    let body = entry.get("body").and_then(Value::as_str).unwrap_or_default();
    url.split(['?', '&'])
        .chain(body.split('&'))
        .find_map(|pair| pair.strip_prefix("Action="))
        .map(str::to_string)
        .unwrap_or_else(|| {
            format!(
                "{} {url}",
                entry.get("method").and_then(Value::as_str).unwrap_or("?")
            )
        })
}

/// A running `osmem-server`, the in-memory OpenSearch.
pub struct OsMem {
    server: ServerProcess,
    http: reqwest::Client,
}

impl OsMem {
    /// Starts osmem-server on a free loopback port; panics with the reason and the install command
    /// when it cannot.
    pub fn start() -> OsMem {
        OsMem::try_start().unwrap_or_else(|err| panic!("{err}"))
    }

    /// Starts osmem-server, or says why it failed and how to install it.
    pub fn try_start() -> Result<OsMem, HarnessError> {
        OsMem::try_start_from(&venv_dir())
    }

    /// Starts osmem-server from the virtualenv `venv`.
    pub fn try_start_from(venv: &Path) -> Result<OsMem, HarnessError> {
        let server = process::start_osmem(venv, &log_dir())?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("HTTP client");
        Ok(OsMem { server, http })
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`; the value for `OPENSEARCH_ENDPOINT`.
    pub fn url(&self) -> &str {
        self.server.url()
    }

    /// The file that holds the server's output.
    pub fn log_path(&self) -> &Path {
        self.server.log_path()
    }

    /// Sends one request and decodes the JSON answer; an error status is an error naming it.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, HarnessError> {
        let url = format!("{}{path}", self.url());
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("valid HTTP method");
        let mut request = self.http.request(method.clone(), &url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.send(request, &format!("{method} {url}")).await
    }

    /// Sends an NDJSON `_bulk` body as it is.
    pub async fn bulk(&self, ndjson: String) -> Result<Value, HarnessError> {
        let url = format!("{}/_bulk", self.url());
        let request = self
            .http
            .post(&url)
            .header("content-type", "application/x-ndjson")
            .body(ndjson);
        self.send(request, &format!("POST {url}")).await
    }

    /// Refreshes `index` (a name or pattern) so that a count sees every write.
    pub async fn refresh(&self, index: &str) -> Result<(), HarnessError> {
        self.request("POST", &format!("/{index}/_refresh"), None).await?;
        Ok(())
    }

    /// The answer of `_search` on `index` (a name or pattern) to the query `body`.
    pub async fn search(&self, index: &str, body: Value) -> Result<Value, HarnessError> {
        self.request("POST", &format!("/{index}/_search"), Some(body))
            .await
    }

    /// The number of documents in `index` (a name or pattern), after a refresh.
    pub async fn count(&self, index: &str) -> Result<u64, HarnessError> {
        self.refresh(index).await?;
        let answer = self.request("GET", &format!("/{index}/_count"), None).await?;
        answer["count"].as_u64().ok_or_else(|| HarnessError::Api {
            server: "osmem-server",
            what: format!("_count on {index} answered without a count: {answer}"),
        })
    }

    async fn send(&self, request: reqwest::RequestBuilder, what: &str) -> Result<Value, HarnessError> {
        let api_error = |detail: String| HarnessError::Api {
            server: "osmem-server",
            what: format!("{what}: {detail}"),
        };
        let response = request.send().await.map_err(|err| api_error(err.to_string()))?;
        let status = response.status();
        let text = response.text().await.map_err(|err| api_error(err.to_string()))?;
        if !status.is_success() {
            return Err(api_error(format!("HTTP {status}: {text}")));
        }
        serde_json::from_str(&text).map_err(|err| api_error(format!("answer is not JSON ({err}): {text}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn recorded_action_reads_json_and_query_protocols() {
        let json_api = json!({"method": "POST", "url": "http://127.0.0.1/",
            "headers": {"X-Amz-Target": "Logs_20140328.PutSubscriptionFilter"}, "body": "{}"});
        assert_eq!(recorded_action(&json_api), "PutSubscriptionFilter");
        let query_api = json!({"method": "POST", "url": "http://127.0.0.1/",
            "headers": {}, "body": "Action=CreateRole&Version=2010-05-08"});
        assert_eq!(recorded_action(&query_api), "CreateRole");
        let unknown = json!({"method": "GET", "url": "http://127.0.0.1/x", "headers": {}});
        assert_eq!(recorded_action(&unknown), "GET http://127.0.0.1/x");
    }
}

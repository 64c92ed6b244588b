//! Authentication of requests to OpenSearch: SigV4 with the function's credentials (`es` or
//! `aoss`), HTTP basic auth with credentials read once per process from Secrets Manager or SSM,
//! or none.
//!
//! Signing happens on the exact bytes sent (after gzip), so a compressed body verifies.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use base64::Engine;

pub use aws_config::SdkConfig;

/// How requests to OpenSearch authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMode {
    /// AWS Signature V4 with the function's credentials.
    SigV4 { service: SigningService, region: String },
    /// HTTP basic auth; the credentials come from Secrets Manager or SSM, read once per process.
    Basic(BasicSource),
    /// No authentication (a local or proxied cluster).
    None,
}

/// The SigV4 service name: Amazon OpenSearch Service or OpenSearch Serverless.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningService {
    Es,
    Aoss,
}

impl SigningService {
    pub fn name(self) -> &'static str {
        match self {
            SigningService::Es => "es",
            SigningService::Aoss => "aoss",
        }
    }
}

/// Where basic-auth credentials are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BasicSource {
    /// A Secrets Manager secret holding `{"username":…,"password":…}`.
    SecretsManager(String),
    /// An SSM SecureString parameter holding `username:password`.
    Ssm(String),
}

/// Why requests cannot be authenticated.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("no AWS credentials for SigV4: {0}")]
    Credentials(String),
    #[error("SigV4 signing of {url} failed: {reason}")]
    Sign { url: String, reason: String },
    #[error("reading basic-auth credentials from {source_name} {id} failed: {reason}")]
    Fetch {
        source_name: &'static str,
        id: String,
        reason: String,
    },
    #[error("{source_name} {id} does not hold {expected}")]
    SecretFormat {
        source_name: &'static str,
        id: String,
        expected: &'static str,
    },
}

/// Adds authentication headers to requests; built once per process.
#[derive(Debug, Clone)]
pub enum Signer {
    None,
    /// The complete `Authorization: Basic …` value.
    Basic(String),
    SigV4 {
        credentials: SharedCredentialsProvider,
        region: String,
        service: SigningService,
    },
}

impl Signer {
    /// Builds the signer for `mode`, loading the AWS SDK configuration from the environment
    /// only when SigV4 or basic auth needs it.
    pub async fn load(mode: &AuthMode) -> Result<Signer, AuthError> {
        match mode {
            AuthMode::None => Ok(Signer::None),
            _ => Signer::load_with(mode, &aws_config::load_from_env().await).await,
        }
    }

    /// Builds the signer for `mode` with the given AWS SDK configuration (credentials, region,
    /// endpoint): SigV4 keeps its credentials provider, basic auth fetches the secret now.
    pub(crate) async fn load_with(mode: &AuthMode, sdk: &SdkConfig) -> Result<Signer, AuthError> {
        match mode {
            AuthMode::None => Ok(Signer::None),
            AuthMode::SigV4 { service, region } => {
                let credentials = sdk.credentials_provider().ok_or_else(|| {
                    AuthError::Credentials("the AWS SDK found no credentials provider".into())
                })?;
                Ok(Signer::SigV4 {
                    credentials,
                    region: region.clone(),
                    service: *service,
                })
            }
            AuthMode::Basic(source) => {
                let (user, password) = fetch_basic(sdk, source).await?;
                tracing::info!(source = ?source, "basic-auth credentials read");
                Ok(Signer::Basic(basic_header(&user, &password)))
            }
        }
    }

    /// The headers that authenticate one request. `headers` are the ones that will be sent
    /// (they are signed), `body` the exact bytes of the body.
    pub async fn headers(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Vec<(String, String)>, AuthError> {
        match self {
            Signer::None => Ok(Vec::new()),
            Signer::Basic(value) => Ok(vec![("authorization".to_string(), value.clone())]),
            Signer::SigV4 {
                credentials,
                region,
                service,
            } => {
                let credentials = credentials
                    .provide_credentials()
                    .await
                    .map_err(|err| AuthError::Credentials(err.to_string()))?;
                sigv4_headers(
                    &credentials,
                    region,
                    *service,
                    SystemTime::now(),
                    method,
                    url,
                    headers,
                    body,
                )
            }
        }
    }
}

/// SigV4 headers for one request (pure: the time is given). For `aoss` the payload hash is also
/// sent as `x-amz-content-sha256`, which OpenSearch Serverless requires.
#[allow(clippy::too_many_arguments)]
pub(crate) fn sigv4_headers(
    credentials: &Credentials,
    region: &str,
    service: SigningService,
    time: SystemTime,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Vec<(String, String)>, AuthError> {
    let sign_error = |reason: String| AuthError::Sign {
        url: url.to_string(),
        reason,
    };
    let mut settings = SigningSettings::default();
    if service == SigningService::Aoss {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service.name())
        .time(time)
        .settings(settings)
        .build()
        .map_err(|err| sign_error(err.to_string()))?
        .into();
    let request = SignableRequest::new(method, url, headers.iter().copied(), SignableBody::Bytes(body))
        .map_err(|err| sign_error(err.to_string()))?;
    let (instructions, _signature) = sign(request, &params)
        .map_err(|err| sign_error(err.to_string()))?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect())
}

/// `Basic base64(user:password)`.
pub(crate) fn basic_header(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

async fn fetch_basic(
    sdk: &aws_config::SdkConfig,
    source: &BasicSource,
) -> Result<(String, String), AuthError> {
    match source {
        BasicSource::SecretsManager(id) => {
            let fetch_error = |reason: String| AuthError::Fetch {
                source_name: "Secrets Manager secret",
                id: id.clone(),
                reason,
            };
            let answer = aws_sdk_secretsmanager::Client::new(sdk)
                .get_secret_value()
                .secret_id(id)
                .send()
                .await
                .map_err(|err| fetch_error(sluice_edge::sdk_error(&err)))?;
            let text = answer.secret_string().unwrap_or_default();
            parse_secret_json(text).ok_or_else(|| AuthError::SecretFormat {
                source_name: "Secrets Manager secret",
                id: id.clone(),
                expected: r#"a JSON object {"username": …, "password": …}"#,
            })
        }
        BasicSource::Ssm(name) => {
            let fetch_error = |reason: String| AuthError::Fetch {
                source_name: "SSM parameter",
                id: name.clone(),
                reason,
            };
            let answer = aws_sdk_ssm::Client::new(sdk)
                .get_parameter()
                .name(name)
                .with_decryption(true)
                .send()
                .await
                .map_err(|err| fetch_error(sluice_edge::sdk_error(&err)))?;
            let value = answer.parameter().and_then(|p| p.value()).unwrap_or_default();
            parse_ssm_value(value).ok_or_else(|| AuthError::SecretFormat {
                source_name: "SSM parameter",
                id: name.clone(),
                expected: "a value username:password",
            })
        }
    }
}

/// `{"username": "…", "password": "…"}` (other fields ignored).
pub(crate) fn parse_secret_json(text: &str) -> Option<(String, String)> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let user = value.get("username")?.as_str()?;
    let password = value.get("password")?.as_str()?;
    Some((user.to_string(), password.to_string()))
}

/// `username:password` (the password may itself contain colons).
pub(crate) fn parse_ssm_value(text: &str) -> Option<(String, String)> {
    let (user, password) = text.split_once(':')?;
    (!user.is_empty()).then(|| (user.to_string(), password.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn sign_for(service: SigningService, body: &[u8]) -> Vec<(String, String)> {
        let credentials = Credentials::new("AKIDEXAMPLE", "secret", Some("token".into()), None, "test");
        // 2026-11-22T08:00:00Z
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_334_400);
        sigv4_headers(
            &credentials,
            "us-east-1",
            service,
            time,
            "POST",
            "https://abc.us-east-1.aoss.amazonaws.com/_bulk",
            &[
                ("content-type", "application/x-ndjson"),
                ("content-encoding", "gzip"),
            ],
            body,
        )
        .unwrap()
    }

    fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
        headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn aoss_requests_carry_the_payload_hash_header() {
        let headers = sign_for(SigningService::Aoss, b"");
        assert_eq!(
            header(&headers, "x-amz-content-sha256"),
            // SHA-256 of the empty body.
            Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
        let authorization = header(&headers, "authorization").unwrap();
        assert!(
            authorization
                .starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/aoss/aws4_request"),
            "{authorization}"
        );
        assert!(
            authorization.contains("content-encoding"),
            "the encoding is signed: {authorization}"
        );
        assert_eq!(header(&headers, "x-amz-security-token"), Some("token"));
    }

    #[test]
    fn es_requests_sign_the_body_without_the_hash_header() {
        let headers = sign_for(SigningService::Es, b"{}");
        assert_eq!(header(&headers, "x-amz-content-sha256"), None);
        assert!(
            header(&headers, "authorization")
                .unwrap()
                .contains("/us-east-1/es/aws4_request")
        );
        let other_body = sign_for(SigningService::Es, b"{ }");
        assert_ne!(
            header(&headers, "authorization"),
            header(&other_body, "authorization")
        );
    }

    #[test]
    fn basic_credentials_parse_from_both_stores() {
        assert_eq!(
            parse_secret_json(r#"{"username":"admin","password":"p:w","note":1}"#),
            Some(("admin".into(), "p:w".into()))
        );
        assert_eq!(parse_secret_json(r#"{"user":"admin"}"#), None);
        assert_eq!(parse_ssm_value("admin:p:w"), Some(("admin".into(), "p:w".into())));
        assert_eq!(parse_ssm_value("no-colon"), None);
        assert_eq!(basic_header("admin", "admin"), "Basic YWRtaW46YWRtaW4=");
    }
}

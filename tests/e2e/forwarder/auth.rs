//! Authentication as the cluster sees it: basic-auth credentials read from Secrets Manager or SSM
//! (in moto), and SigV4 for OpenSearch Serverless signing the exact gzip bytes it sends.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::json;
use sluice_forwarder::ErrorType;
use sluice_forwarder::config::{Config, Purpose};
use sluice_forwarder::handler::Forwarder;
use sluice_harness::Moto;

use super::server::{Reply, ScriptedServer};
use super::*;

fn settings(pairs: &[(&str, &str)]) -> Config {
    let map: HashMap<&str, &str> = pairs.iter().copied().collect();
    Config::from_lookup(|name| map.get(name).map(|v| v.to_string()), Purpose::Deliver)
        .expect("valid settings")
}

/// One JSON-protocol call to moto (it routes by the credential scope and ignores signatures).
async fn moto_call(moto: &Moto, service: &str, target: &str, body: serde_json::Value) {
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential=testing/20261122/{REGION}/{service}/aws4_request, SignedHeaders=host, Signature=0"
    );
    let response = reqwest::Client::new()
        .post(moto.url())
        .header("authorization", authorization)
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", target)
        .body(body.to_string())
        .send()
        .await
        .expect("moto answers");
    assert!(
        response.status().is_success(),
        "{target}: {}",
        response.text().await.unwrap_or_default()
    );
}

#[tokio::test]
async fn basic_auth_reads_its_credentials_from_secrets_manager() {
    let moto = Moto::start();
    moto_call(
        &moto,
        "secretsmanager",
        "secretsmanager.CreateSecret",
        json!({"Name": "sluice/opensearch", "SecretString": r#"{"username":"sluice","password":"s3cret:x"}"#}),
    )
    .await;
    let server = ScriptedServer::start(|_, request| Reply::Items(vec![201; request.items.len()])).await;
    let config = settings(&[
        ("OPENSEARCH_ENDPOINT", &server.url),
        ("OPENSEARCH_AUTH", "basic"),
        ("OPENSEARCH_SECRET_ID", "sluice/opensearch"),
    ]);
    let forwarder = Forwarder::with_sdk(config, &sdk_config(Some(moto.url())))
        .await
        .expect("secret read");

    let event = awslogs_event(&logs_data("/aws/lambda/a", numbered_events("b", NOV_22_10H, 2)));
    forwarder
        .handle(event, deadline_in(30.0))
        .await
        .expect("delivered");

    let request = &server.bulk_requests()[0];
    // base64("sluice:s3cret:x")
    assert_eq!(
        request.header("authorization"),
        Some("Basic c2x1aWNlOnMzY3JldDp4")
    );
}

#[tokio::test]
async fn basic_auth_reads_its_credentials_from_an_ssm_secure_string() {
    let moto = Moto::start();
    moto_call(
        &moto,
        "ssm",
        "AmazonSSM.PutParameter",
        json!({"Name": "/sluice/opensearch", "Value": "admin:pa:ss", "Type": "SecureString"}),
    )
    .await;
    let server = ScriptedServer::start(|_, request| Reply::Items(vec![201; request.items.len()])).await;
    let config = settings(&[
        ("OPENSEARCH_ENDPOINT", &server.url),
        ("OPENSEARCH_AUTH", "basic"),
        ("OPENSEARCH_SSM_PARAMETER", "/sluice/opensearch"),
    ]);
    let forwarder = Forwarder::with_sdk(config, &sdk_config(Some(moto.url())))
        .await
        .expect("parameter read");

    let event = awslogs_event(&logs_data("/aws/lambda/a", numbered_events("s", NOV_22_10H, 1)));
    forwarder
        .handle(event, deadline_in(30.0))
        .await
        .expect("delivered");

    // base64("admin:pa:ss")
    assert_eq!(
        server.bulk_requests()[0].header("authorization"),
        Some("Basic YWRtaW46cGE6c3M=")
    );
}

#[tokio::test]
async fn a_missing_secret_fails_at_start_naming_it() {
    let moto = Moto::start();
    let config = settings(&[
        ("OPENSEARCH_ENDPOINT", "http://127.0.0.1:9"),
        ("OPENSEARCH_AUTH", "basic"),
        ("OPENSEARCH_SECRET_ID", "sluice/missing"),
    ]);
    let err = match Forwarder::with_sdk(config, &sdk_config(Some(moto.url()))).await {
        Ok(_) => panic!("the secret does not exist"),
        Err(err) => err,
    };
    assert!(err.to_string().contains("sluice/missing"), "{err}");
    assert_eq!(err.error_type(), "AuthFailed");
}

#[tokio::test]
async fn sigv4_for_serverless_signs_the_gzip_body_it_sends() {
    let server = ScriptedServer::start(|_, request| Reply::Items(vec![201; request.items.len()])).await;
    let config = settings(&[
        ("OPENSEARCH_ENDPOINT", &server.url),
        ("OPENSEARCH_SERVICE", "aoss"),
        ("OPENSEARCH_REGION", "eu-west-1"),
    ]);
    let forwarder = Forwarder::with_sdk(config, &sdk_config(None))
        .await
        .expect("signer");

    let event = awslogs_event(&logs_data("/aws/lambda/a", numbered_events("v", NOV_22_10H, 3)));
    forwarder
        .handle(event, deadline_in(30.0))
        .await
        .expect("delivered");

    let request = &server.bulk_requests()[0];
    assert!(request.gzip);
    let authorization = request.header("authorization").unwrap_or_default();
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 Credential=testing/")
            && authorization.contains("/eu-west-1/aoss/aws4_request"),
        "{authorization}"
    );
    assert!(
        authorization.contains("content-encoding"),
        "the encoding is signed: {authorization}"
    );
    assert_eq!(
        request.header("x-amz-content-sha256"),
        Some(sha256_hex(&request.raw_body).as_str()),
        "the payload hash is of the compressed bytes on the wire"
    );
}

fn sha256_hex(bytes: &[u8]) -> String {
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sha256sum");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(bytes)
        .expect("write");
    let output = child.wait_with_output().expect("sha256sum output");
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

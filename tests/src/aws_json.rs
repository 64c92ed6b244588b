//! A loopback server for an AWS API of the JSON 1.1 protocol (`X-Amz-Target: Service.Operation`,
//! a JSON body, <https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html>), as the SDK
//! calls it: each request is answered by a function of its operation and body; an error is a
//! 400 whose `__type` and `message` are the error's name. The end-to-end tests and the
//! subscriber benchmark play CloudWatch Logs with it.

use std::sync::Arc;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// Serves `answer` on a free loopback port until the process ends; returns its URL.
pub async fn serve_aws_json<F>(answer: F) -> std::io::Result<String>
where
    F: Fn(&str, &Value) -> Result<Value, String> + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(connection(stream, Arc::clone(&answer)));
        }
    });
    Ok(url)
}

/// The requests of one connection, kept alive, answered in turn.
async fn connection<F>(stream: TcpStream, answer: Arc<F>)
where
    F: Fn(&str, &Value) -> Result<Value, String>,
{
    let mut stream = BufReader::new(stream);
    loop {
        let (mut target, mut length, mut line) = (String::new(), 0, String::new());
        loop {
            line.clear();
            if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                match name.to_ascii_lowercase().as_str() {
                    "x-amz-target" => target = value.trim().to_string(),
                    "content-length" => length = value.trim().parse().unwrap_or(0),
                    _ => {}
                }
            }
        }
        let mut body = vec![0; length];
        if stream.read_exact(&mut body).await.is_err() {
            return;
        }
        let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let operation = target.rsplit('.').next().unwrap_or_default();
        let (status, body) = match answer(operation, &request) {
            Ok(body) => ("200 OK", body),
            Err(error) => ("400 Bad Request", json!({"__type": error, "message": error})),
        };
        let body = body.to_string();
        let response = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/x-amz-json-1.1\r\n\
             x-amzn-requestid: 00000000-0000-4000-8000-000000000000\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        if stream.get_mut().write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}

//! The import request against a one-shot HTTP server on loopback that records what it received
//! and answers as OpenSearch Dashboards does.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::thread::JoinHandle;

use super::tests::config;
use crate::dashboards::import::{ImportError, Imported, import, import_for};
use crate::dashboards::{saved_objects, to_ndjson};
use crate::opensearch::auth::Signer;
use crate::opensearch::sink::Sink;

/// One request as the server read it.
struct Received {
    request_line: String,
    /// Header names lower-cased.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Serves one request with `status` and the JSON `answer`; the URL to reach it under
/// `/_dashboards`, as Amazon OpenSearch Service serves Dashboards.
fn serve_once(status: u16, answer: &'static str) -> (String, JoinHandle<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let url = format!("http://{}/_dashboards", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("a connection");
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request_line = String::new();
        reader.read_line(&mut request_line).unwrap();
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').expect("a header");
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
        let length: usize = headers
            .iter()
            .find(|(name, _)| name == "content-length")
            .map_or(0, |(_, value)| value.parse().unwrap());
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let mut stream = stream;
        write!(
            stream,
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
             connection: close\r\n\r\n{answer}",
            answer.len()
        )
        .unwrap();
        Received {
            request_line: request_line.trim_end().to_string(),
            headers,
            body,
        }
    });
    (url, handle)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn the_objects_are_posted_as_a_multipart_file_with_the_xsrf_header() {
    let (url, server) = serve_once(200, r#"{"success":true,"successCount":41,"successResults":[]}"#);
    let config = config(&[("OPENSEARCH_ENDPOINT", url.as_str()), ("OPENSEARCH_AUTH", "none")]);
    let dashboards = config.sink.as_ref().expect("a URL");
    let imported = runtime()
        .block_on(import_for(dashboards, &config.documents))
        .expect("imported");
    assert_eq!(imported, Imported { count: 41 });

    let received = server.join().unwrap();
    assert_eq!(
        received.request_line,
        "POST /_dashboards/api/saved_objects/_import?overwrite=true HTTP/1.1"
    );
    assert_eq!(received.header("osd-xsrf"), Some("true"));
    let content_type = received.header("content-type").expect("a content type");
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .expect("a multipart form");
    let body = String::from_utf8(received.body.clone()).unwrap();
    let ndjson = to_ndjson(&saved_objects(&config.documents));
    let (head, rest) = body
        .strip_prefix(&format!("--{boundary}\r\n"))
        .and_then(|rest| rest.split_once("\r\n\r\n"))
        .expect("one part");
    assert!(
        head.contains(r#"form-data; name="file"; filename="sluice.ndjson""#),
        "{head}"
    );
    assert_eq!(rest, format!("{ndjson}\r\n--{boundary}--\r\n"));
}

#[test]
fn credentials_go_with_the_request() {
    let (url, server) = serve_once(200, r#"{"success":true,"successCount":1}"#);
    let sink = Sink::new(
        url.parse().unwrap(),
        Signer::Basic("Basic YWRtaW46YWRtaW4=".into()),
        false,
    );
    let imported = runtime().block_on(import(&sink, "{}\n", 1)).expect("imported");
    assert_eq!(imported.count, 1);
    assert_eq!(
        server.join().unwrap().header("authorization"),
        Some("Basic YWRtaW46YWRtaW4=")
    );
}

#[test]
fn a_refused_request_is_an_error_with_dashboards_message() {
    let (url, server) = serve_once(
        400,
        r#"{"statusCode":400,"error":"Bad Request","message":"Invalid file extension .json"}"#,
    );
    let sink = Sink::new(url.parse().unwrap(), Signer::None, false);
    let err = runtime().block_on(import(&sink, "{}\n", 1)).expect_err("refused");
    server.join().unwrap();
    assert!(matches!(err, ImportError::Status { status: 400, .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("answered 400"), "{text}");
    assert!(text.contains("Invalid file extension .json"), "{text}");
}

#[test]
fn objects_refused_in_a_200_answer_are_named() {
    let (url, server) = serve_once(
        200,
        r#"{"success":false,"successCount":40,"errors":[{"id":"sluice-cwl-lambda-duration",
            "type":"visualization","title":"Lambda duration","error":{"type":"missing_references",
            "references":[{"type":"index-pattern","id":"sluice-cwl"}]}}]}"#,
    );
    let sink = Sink::new(url.parse().unwrap(), Signer::None, false);
    let err = runtime()
        .block_on(import(&sink, "{}\n", 41))
        .expect_err("refused");
    server.join().unwrap();
    assert_eq!(
        err.to_string(),
        "Dashboards imported 40 of 41 saved objects; refused: visualization \
         sluice-cwl-lambda-duration \"Lambda duration\": missing_references (index-pattern sluice-cwl)"
    );
}

#[test]
fn an_unreachable_dashboards_is_a_transport_error() {
    // A port that was free a moment ago: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sink = Sink::new(
        format!("http://127.0.0.1:{port}").parse().unwrap(),
        Signer::None,
        false,
    );
    let err = runtime()
        .block_on(import(&sink, "{}\n", 1))
        .expect_err("no server");
    assert!(matches!(err, ImportError::Transport { .. }), "{err:?}");
    assert!(err.to_string().contains("/api/saved_objects/_import"), "{err}");
}

//! A function that cannot start (a setting refused, a client that cannot be built) says why to
//! the Lambda Runtime API's init error endpoint, so the console and the `Init` log show the
//! reason instead of a bare `Runtime.ExitError`
//! (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html#runtimes-api-initerror>).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

/// The error type Lambda shows for a function that could not start.
pub const INIT_ERROR_TYPE: &str = "Sluice.InitError";

/// Why the init error could not be reported.
#[derive(Debug)]
pub enum ReportError {
    Io(std::io::Error),
    /// The Runtime API answered with another status than 202 Accepted.
    Refused(String),
}

impl std::fmt::Display for ReportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReportError::Io(err) => write!(f, "the Runtime API could not be reached: {err}"),
            ReportError::Refused(status) => write!(f, "the Runtime API answered {status}"),
        }
    }
}

impl std::error::Error for ReportError {}

/// Reports `message` to the Runtime API named by `AWS_LAMBDA_RUNTIME_API`, when there is one; a
/// report that fails is written to stderr (the function's log) and changes nothing else.
pub fn report_init_error(message: &str) {
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else {
        return;
    };
    if let Err(err) = post_init_error(&api, message) {
        eprintln!("could not report the init error: {err}");
    }
}

/// `POST /2018-06-01/runtime/init/error` to `api` (`host:port`) with `{"errorMessage","errorType"}`.
pub fn post_init_error(api: &str, message: &str) -> Result<(), ReportError> {
    let body = serde_json::json!({"errorMessage": message, "errorType": INIT_ERROR_TYPE}).to_string();
    let mut stream = TcpStream::connect(api).map_err(ReportError::Io)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(ReportError::Io)?;
    let request = format!(
        "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: {api}\r\nLambda-Runtime-Function-Error-Type: {INIT_ERROR_TYPE}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).map_err(ReportError::Io)?;
    let mut status = String::new();
    BufReader::new(stream)
        .read_line(&mut status)
        .map_err(ReportError::Io)?;
    let status = status.trim().to_string();
    match status.split(' ').nth(1) {
        Some("202") => Ok(()),
        _ => Err(ReportError::Refused(status)),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::net::TcpListener;

    use super::*;

    /// A Runtime API that reads one request and answers `status`; gives back what it read.
    fn runtime_api(status: &'static str) -> (String, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap();
                }
                head.push_str(&line);
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            write!(stream, "HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n").unwrap();
            head + &String::from_utf8(body).unwrap()
        });
        (address, server)
    }

    #[test]
    fn the_reason_goes_to_the_init_error_endpoint() {
        let (api, server) = runtime_api("202 Accepted");
        post_init_error(&api, "BULK_CONCURRENCY=0 is invalid: expected 1 to 64").unwrap();
        let request = server.join().unwrap();
        assert!(
            request.starts_with("POST /2018-06-01/runtime/init/error HTTP/1.1\r\n"),
            "{request}"
        );
        assert!(request.contains("Lambda-Runtime-Function-Error-Type: Sluice.InitError\r\n"));
        let body: serde_json::Value =
            serde_json::from_str(request.rsplit("\r\n\r\n").next().unwrap()).unwrap();
        assert_eq!(
            body["errorMessage"],
            "BULK_CONCURRENCY=0 is invalid: expected 1 to 64"
        );
        assert_eq!(body["errorType"], "Sluice.InitError");
    }

    #[test]
    fn a_refused_report_says_what_the_api_answered() {
        let (api, server) = runtime_api("403 Forbidden");
        let err = post_init_error(&api, "x").unwrap_err();
        server.join().unwrap();
        assert!(err.to_string().contains("403 Forbidden"), "{err}");
    }
}

//! The in-bench `_bulk` endpoint: accepts every document, so that delivery is measured and not
//! a cluster.

use std::io::{self, BufRead, BufReader, Write};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use crate::streaming_gunzip;

/// A `_bulk` endpoint on loopback that accepts every document (`201 created`): HTTP/1.1 with
/// keep-alive, gzip bodies, one thread per connection. Setup requests (index template, ISM) get
/// `200 {}`.
pub struct BulkServer {
    pub address: std::net::SocketAddr,
    pub documents: Arc<AtomicU64>,
    pub requests: Arc<AtomicU64>,
}

impl BulkServer {
    pub fn start() -> BulkServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let server = BulkServer {
            address: listener.local_addr().expect("address"),
            documents: Arc::default(),
            requests: Arc::default(),
        };
        let (documents, requests) = (Arc::clone(&server.documents), Arc::clone(&server.requests));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (documents, requests) = (Arc::clone(&documents), Arc::clone(&requests));
                std::thread::spawn(move || {
                    let _ = serve(stream, &documents, &requests);
                });
            }
        });
        server
    }
}

fn serve(stream: std::net::TcpStream, documents: &AtomicU64, requests: &AtomicU64) -> io::Result<()> {
    use std::sync::atomic::Ordering::Relaxed;
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        let (mut length, mut gzip) = (0usize, false);
        loop {
            let mut header = String::new();
            reader.read_line(&mut header)?;
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap_or((header, ""));
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "content-encoding" => gzip = value.trim() == "gzip",
                _ => {}
            }
        }
        let mut body = vec![0; length];
        io::Read::read_exact(&mut reader, &mut body)?;
        let answer = if request_line.contains(" /_bulk") {
            if gzip {
                body = streaming_gunzip(&body);
            }
            let items = body.iter().filter(|&&b| b == b'\n').count() / 2;
            documents.fetch_add(items as u64, Relaxed);
            requests.fetch_add(1, Relaxed);
            let mut answer = String::with_capacity(items * 36 + 40);
            answer.push_str(r#"{"took":1,"errors":false,"items":["#);
            for i in 0..items {
                if i > 0 {
                    answer.push(',');
                }
                answer.push_str(r#"{"create":{"status":201}}"#);
            }
            answer.push_str("]}");
            answer
        } else {
            "{}".to_owned()
        };
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
            answer.len()
        );
        writer.write_all(response.as_bytes())?;
    }
}

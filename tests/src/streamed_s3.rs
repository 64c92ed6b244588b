//! A tiny S3 on loopback whose objects are generated as they are sent, never held: a 300 MB
//! object costs the test nothing but the time to write it to the socket. It answers path-style
//! `ListObjectsV2` (`GET /BUCKET?list-type=2&prefix=…`) and `GetObject` (`GET /BUCKET/KEY`) for
//! one bucket, as S3 writes them
//! (<https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html>); anything else is a 404.
//! moto holds every object in memory, which hostile objects of hundreds of megabytes make slow.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;

/// `LastModified` of every object: 2026-11-29T10:00:00Z.
const LAST_MODIFIED_XML: &str = "2026-11-29T10:00:00.000Z";
const LAST_MODIFIED_HTTP: &str = "Sun, 29 Nov 2026 10:00:00 GMT";

/// One stretch of an object's bytes.
#[derive(Debug, Clone)]
pub enum Part {
    /// These bytes, once.
    Bytes(Vec<u8>),
    /// `unit` written `times` times.
    Repeat { unit: Vec<u8>, times: u64 },
    /// `missing` bytes counted in `Content-Length` and never sent: the connection is closed
    /// here, as a download that breaks off.
    BreakOff { missing: u64 },
}

impl Part {
    fn len(&self) -> u64 {
        match self {
            Part::Bytes(bytes) => bytes.len() as u64,
            Part::Repeat { unit, times } => unit.len() as u64 * times,
            Part::BreakOff { missing } => *missing,
        }
    }
}

/// An object: its key and the parts its bytes are, in order.
#[derive(Debug, Clone)]
pub struct StreamedObject {
    pub key: String,
    pub parts: Vec<Part>,
}

impl StreamedObject {
    pub fn new(key: &str, parts: Vec<Part>) -> StreamedObject {
        StreamedObject {
            key: key.to_string(),
            parts,
        }
    }

    /// The object's size in bytes.
    pub fn len(&self) -> u64 {
        self.parts.iter().map(Part::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The server: it runs until the test process ends.
pub struct StreamedS3 {
    pub address: SocketAddr,
    pub bucket: String,
}

impl StreamedS3 {
    /// Serves `objects` as the bucket `bucket`, each connection on a thread of its own.
    pub fn start(bucket: &str, objects: Vec<StreamedObject>) -> io::Result<StreamedS3> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?;
        let objects = Arc::new(objects);
        let served = bucket.to_string();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (objects, bucket) = (Arc::clone(&objects), served.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &bucket, &objects);
                });
            }
        });
        Ok(StreamedS3 {
            address,
            bucket: bucket.to_string(),
        })
    }

    /// The URL to give an S3 client as its endpoint (`AWS_ENDPOINT_URL`).
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The environment of a child that reads this S3: its endpoint, path-style addressing,
    /// static credentials, no profile and no instance metadata.
    pub fn aws_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.url()),
            ("AWS_REGION", crate::REGION.to_string()),
            ("AWS_ACCESS_KEY_ID", "testing".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ]
    }
}

fn serve(stream: TcpStream, bucket: &str, objects: &[StreamedObject]) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        let mut length = 0u64;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header)?;
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap_or((header, ""));
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        io::copy(&mut (&mut reader).take(length), &mut io::sink())?;
        let mut parts = request_line.split_whitespace();
        let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let param = |name: &str| {
            query
                .split('&')
                .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
                .find(|(key, _)| *key == name)
                .map(|(_, value)| percent_decode(value))
        };
        let path = path.trim_start_matches('/');
        let (asked, key) = path.split_once('/').unwrap_or((path, ""));
        let key = percent_decode(key);
        match (method, asked == bucket, key.is_empty()) {
            ("GET", true, true) if param("list-type").as_deref() == Some("2") => {
                let body = list_objects(bucket, objects, &param("prefix").unwrap_or_default());
                write!(
                    writer,
                    "HTTP/1.1 200 OK\r\nx-amz-request-id: TEST\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )?;
            }
            ("GET", true, false) => match objects.iter().find(|object| object.key == key) {
                Some(object) => get_object(&mut writer, object)?,
                None => not_found(&mut writer, "NoSuchKey", &key)?,
            },
            _ => not_found(&mut writer, "NoSuchBucket", asked)?,
        }
        writer.flush()?;
    }
}

/// A stable ETag of the object's layout (not its MD5: nothing here checks it).
fn etag(object: &StreamedObject) -> String {
    format!("{:016x}{:016x}", object.len(), object.key.len() as u64 * 7919)
}

fn list_objects(bucket: &str, objects: &[StreamedObject], prefix: &str) -> String {
    let listed: Vec<&StreamedObject> = objects
        .iter()
        .filter(|object| object.key.starts_with(prefix))
        .collect();
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>{bucket}</Name><Prefix>{prefix}</Prefix><KeyCount>{}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>",
        listed.len()
    );
    for object in listed {
        xml.push_str(&format!(
            "<Contents><Key>{}</Key><LastModified>{LAST_MODIFIED_XML}</LastModified><ETag>&quot;{}&quot;</ETag><Size>{}</Size><StorageClass>STANDARD</StorageClass></Contents>",
            object.key,
            etag(object),
            object.len()
        ));
    }
    xml.push_str("</ListBucketResult>");
    xml
}

/// S3's headers, then the body, part by part, as the connection takes it; an error at a
/// [`Part::BreakOff`], which closes the connection.
fn get_object(writer: &mut impl Write, object: &StreamedObject) -> io::Result<()> {
    write!(
        writer,
        "HTTP/1.1 200 OK\r\nx-amz-request-id: TEST\r\nLast-Modified: {LAST_MODIFIED_HTTP}\r\nETag: \"{}\"\r\nAccept-Ranges: bytes\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nServer: AmazonS3\r\n\r\n",
        etag(object),
        object.len()
    )?;
    for part in &object.parts {
        match part {
            Part::Bytes(bytes) => writer.write_all(bytes)?,
            Part::Repeat { unit, times } => {
                // Whole units in writes of about 1 MiB.
                let per_write = ((1 << 20) / unit.len().max(1)).max(1) as u64;
                let block = unit.repeat(per_write.min(*times) as usize);
                let mut left = *times;
                while left > 0 {
                    let n = left.min(per_write);
                    writer.write_all(&block[..n as usize * unit.len()])?;
                    left -= n;
                }
            }
            Part::BreakOff { .. } => {
                writer.flush()?;
                return Err(io::Error::new(io::ErrorKind::ConnectionAborted, "broken off"));
            }
        }
    }
    Ok(())
}

fn not_found(writer: &mut impl Write, code: &str, what: &str) -> io::Result<()> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{what} is not here</Message><RequestId>TEST</RequestId></Error>"
    );
    write!(
        writer,
        "HTTP/1.1 404 Not Found\r\nx-amz-request-id: TEST\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// `%XX` escapes of a URL path or query value decoded.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|&b| (b as char).to_digit(16));
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A child process measured while it runs: its exit status, what it wrote to stderr, and its
/// peak RSS in KiB, the high-water mark of its own memory (`VmHWM` of `/proc/PID/status`, read
/// until it exits). Not `wait4`'s `ru_maxrss`, which starts a child that execs after `vfork`
/// with its parent's peak as its own.
pub struct MeasuredChild {
    pub status: std::process::ExitStatus,
    pub stderr: String,
    pub peak_kb: u64,
}

/// Runs `command` (its stdout discarded, its stderr kept) to its end, reading its `VmHWM`
/// every few milliseconds.
pub fn run_measured(command: &mut std::process::Command) -> io::Result<MeasuredChild> {
    let mut child = command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let mut pipe = child.stderr.take().expect("stderr piped");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    });
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_file)
            && let Some(kb) = text
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak_kb = peak_kb.max(kb);
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let stderr = reader.join().unwrap_or_default();
    Ok(MeasuredChild {
        status,
        stderr,
        peak_kb,
    })
}

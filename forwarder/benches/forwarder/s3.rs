//! Objects in S3. In-process: the benchmark's events as a Firehose file (each payload's gzip,
//! back to back, as Firehose writes them) read with `parse_object`, in the rounds of the floor and
//! the direct path. End to end: `sluice-forwarder replay s3://bench/KEY` as a child process,
//! against an in-bench S3 on loopback that streams a generated object of
//! `SLUICE_BENCH_OBJECT_MB` MiB (1024 by default) without holding it, and into the in-bench
//! `_bulk` server: wall time and peak RSS.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::ops::Range;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use sluice_forwarder::document::{DocumentBuilder, DocumentOptions};
use sluice_forwarder::opensearch::bulk;
use sluice_forwarder::source::Ack;
use sluice_forwarder::source::s3::read::{Located, Stopped, read_object};
use sluice_forwarder::source::s3::{Chunk, Format, S3Options};

use crate::bulk_server::BulkServer;
use crate::child::measure;
use crate::{Envelope, decode_line, streaming_gunzip, target_dir};

pub(crate) const BUCKET: &str = "bench";
/// `LastModified` of every object: 2026-11-29T10:00:00Z.
const LAST_MODIFIED_XML: &str = "2026-11-29T10:00:00.000Z";
const LAST_MODIFIED_HTTP: &str = "Sun, 29 Nov 2026 10:00:00 GMT";
/// The memory a Lambda function of the smallest useful size has.
const LAMBDA_MB: f64 = 128.0;

/// The benchmark's events as Firehose writes them to S3: one gzip member per CloudWatch Logs
/// payload, back to back.
pub struct FirehoseFile {
    pub bytes: Vec<u8>,
    pub members: Vec<Member>,
}

/// One gzip member of a [`FirehoseFile`].
pub struct Member {
    pub range: Range<usize>,
    pub decompressed: u64,
    pub events: u64,
}

impl FirehoseFile {
    /// The gzip inside each line's `awslogs.data` (base64-decoded, otherwise as it is).
    pub fn of(lines: &[String]) -> FirehoseFile {
        use base64::Engine as _;
        let mut file = FirehoseFile {
            bytes: Vec::new(),
            members: Vec::with_capacity(lines.len()),
        };
        for line in lines {
            let envelope: Envelope<'_> = serde_json::from_str(line).expect("generator writes awslogs events");
            let gzip = base64::engine::general_purpose::STANDARD
                .decode(envelope.awslogs.data.as_bytes())
                .expect("base64");
            let json = streaming_gunzip(&gzip);
            let data: sluice_forwarder::source::LogsData = serde_json::from_slice(&json).expect("a batch");
            let start = file.bytes.len();
            file.bytes.extend_from_slice(&gzip);
            file.members.push(Member {
                range: start..file.bytes.len(),
                decompressed: json.len() as u64,
                events: data.log_events.len() as u64,
            });
        }
        file
    }
}

/// `parse_object` over a Firehose file, then documents and `_bulk` NDJSON as the direct path
/// does them (`run_pipeline`); the NDJSON bytes written.
pub fn firehose_pass(file: &[u8], options: DocumentOptions) -> usize {
    let builder = DocumentBuilder::new(options, "us-east-1".to_owned());
    let object = Located {
        bucket: BUCKET.to_owned(),
        key: "firehose/2026/11/29/10/bench-1".to_owned(),
        etag: "0123456789abcdef0123456789abcdef".to_owned(),
        last_modified_ms: 1_795_946_400_000,
        key_fields: Vec::new(),
    };
    let mut written = 0;
    let mut out = Vec::new();
    let read = read_object(file, object, Ack::Invocation, &S3Options::default(), |chunk| {
        let docs = match chunk {
            Chunk::Control(_) => return Ok(()),
            Chunk::Logs(batch) => builder.documents(&Arc::new(batch)),
            Chunk::Records(records) => builder.record_documents(&Arc::new(records)),
        };
        out.clear();
        bulk::write_ndjson(&docs.docs, &mut out).map_err(|_| Stopped)?;
        written += out.len();
        Ok(())
    })
    .expect("the Firehose file parses");
    assert_eq!(read.meta.format, Format::CloudwatchFirehose);
    written
}

/// An object the in-bench S3 serves: `unit` repeated (and cut) to `len` bytes.
pub(crate) struct Object {
    key: String,
    content_type: &'static str,
    unit: Arc<Vec<u8>>,
    len: u64,
    /// Bytes once decompressed (`len` for a plain object).
    decompressed: u64,
    /// Lines, or log events of the payloads.
    events: u64,
}

impl Object {
    /// An object served as `bytes`, once.
    pub(crate) fn whole(key: &str, bytes: Vec<u8>) -> Object {
        let len = bytes.len() as u64;
        Object {
            key: key.to_owned(),
            content_type: "application/octet-stream",
            unit: Arc::new(bytes),
            len,
            decompressed: len,
            events: 0,
        }
    }

    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    pub(crate) fn events(&self) -> u64 {
        self.events
    }

    fn etag(&self) -> String {
        format!("{:016x}{:016x}", self.len, self.events)
    }
}

/// How much of `units` (wire bytes, decompressed bytes, events), cycled, it takes to reach
/// `target` decompressed bytes, stopping at the first boundary at or past it.
fn repeat_to(units: &[(u64, u64, u64)], target: u64) -> (u64, u64, u64) {
    let (mut wire, mut decompressed, mut events) = (0, 0, 0);
    for &(unit_wire, unit_decompressed, unit_events) in units.iter().cycle() {
        if decompressed >= target {
            break;
        }
        (wire, decompressed, events) = (
            wire + unit_wire,
            decompressed + unit_decompressed,
            events + unit_events,
        );
    }
    (wire, decompressed, events)
}

/// The messages of the benchmark's events, one per line (a message's own line breaks become
/// spaces), as one text that objects of lines repeat.
pub(crate) fn text_lines(lines: &[String]) -> (Vec<u8>, Vec<(u64, u64, u64)>) {
    let mut text = Vec::new();
    let mut units = Vec::new();
    for line in lines {
        for event in decode_line(line).log_events {
            let message = event.message.trim().replace(['\n', '\r'], " ");
            if message.is_empty() {
                continue;
            }
            text.extend_from_slice(message.as_bytes());
            text.push(b'\n');
            let len = message.len() as u64 + 1;
            units.push((len, len, 1));
        }
    }
    (text, units)
}

pub(crate) fn lines_object(key: &str, text: &Arc<Vec<u8>>, units: &[(u64, u64, u64)], target: u64) -> Object {
    let (len, decompressed, events) = repeat_to(units, target);
    Object {
        key: key.to_owned(),
        content_type: "text/plain",
        unit: Arc::clone(text),
        len,
        decompressed,
        events,
    }
}

fn firehose_object(key: &str, file: &FirehoseFile, target: u64) -> Object {
    let units: Vec<(u64, u64, u64)> = file
        .members
        .iter()
        .map(|member| (member.range.len() as u64, member.decompressed, member.events))
        .collect();
    let (len, decompressed, events) = repeat_to(&units, target);
    Object {
        key: key.to_owned(),
        content_type: "application/octet-stream",
        unit: Arc::new(file.bytes.clone()),
        len,
        decompressed,
        events,
    }
}

/// `replay s3://bench/KEY` of a text object and a Firehose object of `SLUICE_BENCH_OBJECT_MB`
/// MiB (decompressed), and of the same objects at a sixteenth of that size, to show whether
/// memory grows with the object.
pub fn big_objects(lines: &[String], firehose: &FirehoseFile) {
    let mib: u64 = std::env::var("SLUICE_BENCH_OBJECT_MB")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(1024);
    let target = mib << 20;
    let small = (target / 16).max(1 << 20);
    let (text, units) = text_lines(lines);
    let text = Arc::new(text);
    let objects = vec![
        lines_object("big.log", &text, &units, target),
        lines_object("small.log", &text, &units, small),
        firehose_object("firehose-big.gz", firehose, target),
        firehose_object("firehose-small.gz", firehose, small),
    ];
    let s3 = S3Server::start(objects);
    let bulk = BulkServer::start();
    println!(
        "objects in S3: replay s3://{BUCKET}/KEY from an in-bench S3 into the in-bench _bulk endpoint (one run each)"
    );
    for key in ["small.log", "big.log", "firehose-small.gz", "firehose-big.gz"] {
        let object = s3.object(key);
        let run = replay_object(&s3, &bulk, key);
        assert_eq!(
            run.summary["indexed"].as_u64(),
            Some(object.events),
            "{}",
            run.summary
        );
        let secs = run.elapsed.as_secs_f64();
        let rss = run.peak_kb as f64 / 1024.0;
        let (gb, decompressed_gb) = (object.len as f64 / 1e9, object.decompressed as f64 / 1e9);
        match object.len == object.decompressed {
            true => println!(
                "  {key}: {gb:.3} GB of text lines ({} MiB), {} lines",
                object.len >> 20,
                object.events
            ),
            false => println!(
                "  {key}: Firehose file, {gb:.3} GB gzip, {decompressed_gb:.3} GB decompressed ({} MiB), {} events",
                object.decompressed >> 20,
                object.events
            ),
        }
        println!(
            "    {secs:.1} s: {:.1} MB/s decompressed, {:.1} MB/s on the wire, {:.0} events/s; peak RSS {rss:.1} MB (under {LAMBDA_MB:.0} MB: {})",
            decompressed_gb * 1e3 / secs,
            gb * 1e3 / secs,
            object.events as f64 / secs,
            if rss < LAMBDA_MB { "yes" } else { "no" }
        );
        println!(
            "    {} _bulk requests, {:.1} s waiting for them summed over the requests in flight",
            run.summary["bulk_requests"],
            run.summary["bulk_ms"].as_f64().unwrap_or_default() / 1e3
        );
    }
}

struct Run {
    elapsed: Duration,
    peak_kb: u64,
    summary: serde_json::Value,
}

/// `sluice-forwarder replay s3://bench/KEY` as a child, with dummy credentials and both
/// endpoints on loopback.
fn replay_object(s3: &S3Server, bulk: &BulkServer, key: &str) -> Run {
    let log: PathBuf = target_dir().join("bench").join("replay-s3.stderr");
    let stderr = File::create(&log).expect("create the child's stderr file");
    let mut command = s3.replay_command(&[&format!("s3://{BUCKET}/{key}")]);
    command
        .env("OPENSEARCH_ENDPOINT", format!("http://{}", bulk.address))
        .env("OPENSEARCH_AUTH", "none");
    let measured = measure(&mut command, Stdio::from(stderr));
    let stderr = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(measured.success, "replay s3://{BUCKET}/{key} failed: {stderr}");
    let summary = stderr
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str(line).ok())
        .expect("replay prints its summary");
    Run {
        elapsed: measured.elapsed,
        peak_kb: measured.peak_kb,
        summary,
    }
}

/// A tiny S3 on loopback for one bucket: `ListObjectsV2` (path-style, `GET /bench?list-type=2`)
/// and `GetObject` (`GET /bench/KEY`), whose body it writes as it goes. Unknown query
/// parameters (`x-id`, …) and headers (checksum mode, …) are ignored.
pub(crate) struct S3Server {
    pub(crate) address: std::net::SocketAddr,
    objects: Arc<Vec<Object>>,
}

impl S3Server {
    /// `sluice-forwarder replay ARGS` with this server as its S3 (static credentials, no
    /// profile, no instance metadata) and warnings only on stderr.
    pub(crate) fn replay_command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(PathBuf::from(env!("CARGO_BIN_EXE_sluice-forwarder")));
        command
            .arg("replay")
            .args(args)
            .env("AWS_ENDPOINT_URL", format!("http://{}", self.address))
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "bench")
            .env("AWS_SECRET_ACCESS_KEY", "bench")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .env("LOG_LEVEL", "warn");
        command
    }

    pub(crate) fn start(objects: Vec<Object>) -> S3Server {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let server = S3Server {
            address: listener.local_addr().expect("address"),
            objects: Arc::new(objects),
        };
        let objects = Arc::clone(&server.objects);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let objects = Arc::clone(&objects);
                std::thread::spawn(move || {
                    let _ = serve_s3(stream, &objects);
                });
            }
        });
        server
    }

    fn object(&self, key: &str) -> &Object {
        self.objects
            .iter()
            .find(|object| object.key == key)
            .expect("an object of the bench bucket")
    }
}

fn serve_s3(stream: std::net::TcpStream, objects: &[Object]) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        let mut length = 0usize;
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
        io::copy(&mut (&mut reader).take(length as u64), &mut io::sink())?;
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
        let (bucket, key) = path
            .trim_start_matches('/')
            .split_once('/')
            .unwrap_or((path.trim_start_matches('/'), ""));
        let key = percent_decode(key);
        match (method, bucket == BUCKET, key.is_empty()) {
            ("GET", true, true) if param("list-type").as_deref() == Some("2") => {
                let prefix = param("prefix").unwrap_or_default();
                let body = list_objects(objects, &prefix);
                write!(
                    writer,
                    "HTTP/1.1 200 OK\r\nx-amz-request-id: BENCH\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )?;
            }
            ("GET", true, false) => match objects.iter().find(|object| object.key == key) {
                Some(object) => get_object(&mut writer, object)?,
                None => not_found(&mut writer, "NoSuchKey", &key)?,
            },
            _ => not_found(&mut writer, "NoSuchBucket", bucket)?,
        }
        writer.flush()?;
    }
}

/// The `ListObjectsV2` answer as S3 writes it
/// (<https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html>, Response Syntax).
fn list_objects(objects: &[Object], prefix: &str) -> String {
    let listed: Vec<&Object> = objects
        .iter()
        .filter(|object| object.key.starts_with(prefix))
        .collect();
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>{BUCKET}</Name><Prefix>{prefix}</Prefix><KeyCount>{}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>",
        listed.len()
    );
    for object in listed {
        xml.push_str(&format!(
            "<Contents><Key>{}</Key><LastModified>{LAST_MODIFIED_XML}</LastModified><ETag>&quot;{}&quot;</ETag><Size>{}</Size><StorageClass>STANDARD</StorageClass></Contents>",
            object.key,
            object.etag(),
            object.len
        ));
    }
    xml.push_str("</ListBucketResult>");
    xml
}

/// The `GetObject` answer: S3's headers
/// (<https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html>), then the body written
/// from the object's unit as the connection takes it.
fn get_object(writer: &mut impl Write, object: &Object) -> io::Result<()> {
    write!(
        writer,
        "HTTP/1.1 200 OK\r\nx-amz-request-id: BENCH\r\nLast-Modified: {LAST_MODIFIED_HTTP}\r\nETag: \"{}\"\r\nAccept-Ranges: bytes\r\nContent-Type: {}\r\nContent-Length: {}\r\nServer: AmazonS3\r\n\r\n",
        object.etag(),
        object.content_type,
        object.len
    )?;
    let unit = &object.unit[..];
    let (mut left, mut offset) = (object.len as usize, 0);
    while left > 0 {
        let n = (unit.len() - offset).min(left).min(1 << 20);
        writer.write_all(&unit[offset..offset + n])?;
        offset = (offset + n) % unit.len();
        left -= n;
    }
    Ok(())
}

fn not_found(writer: &mut impl Write, code: &str, what: &str) -> io::Result<()> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{what} is not in the bench bucket</Message><RequestId>BENCH</RequestId></Error>"
    );
    write!(
        writer,
        "HTTP/1.1 404 Not Found\r\nx-amz-request-id: BENCH\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n{body}",
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
        match bytes[i] {
            b'%' if hex(i + 1).is_some() && hex(i + 2).is_some() => {
                out.push((hex(i + 1).unwrap_or(0) * 16 + hex(i + 2).unwrap_or(0)) as u8);
                i += 2;
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

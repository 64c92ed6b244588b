//! The download: `GetObject`'s body handed, as it arrives, to a blocking thread that reads it
//! ([`super::read_object`]), and the listing of a prefix for a replay.

use std::io::Read;
use std::sync::Arc;

use aws_sdk_s3::error::ProvideErrorMetadata;
use bytes::{Buf, Bytes};

use super::{Chunk, Located, ObjectRead, ParseError, Start, Stopped, read_object_from};
use crate::source::s3::Seek;
use crate::source::s3::{ObjectTask, S3Options};

/// Pieces of the download in flight between the network and the parsing thread.
const BODY_BUFFERS: usize = 4;
/// The size of those pieces. The HTTP client reads up to about 400 KB of a fast download into
/// one buffer, and a piece of it handed on as it is keeps all of it allocated until the piece is
/// parsed, so the client takes a new one for its next read: copied into pieces this size, the
/// client's buffer is free again at once and memory stays flat from the object's first MB on
/// (peak RSS of `replay --dry-run` of a 100 MB GuardDuty export: 21.0 to 21.3 MB before, 19.2
/// to 19.4 MB since; docs/benchmarks.md).
const BODY_PIECE_BYTES: usize = 32 * 1024;

/// Why an object could not be read (whole or in part).
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    /// An S3 call failed: the object or bucket is gone, access is denied, or S3 could not be
    /// reached.
    #[error("{url}: {call} failed ({code}): {message}")]
    Call {
        url: String,
        /// The S3 API call: `GetObject`, `ListObjectsV2`.
        call: &'static str,
        code: String,
        message: String,
    },
    /// The download broke off, or the bytes are not what they claim (corrupt gzip, bad JSON).
    #[error("{url}: {reason}")]
    Corrupt { url: String, reason: String },
    /// The receiver of the chunks went away (the deadline passed).
    #[error("{url}: reading stopped before the end")]
    Stopped { url: String },
    /// A continuation named an object that has been replaced since (its ETag differs): the rest
    /// of the old object is gone, and the new one has its own notification.
    #[error("{url}: the continuation is refused: the object is no longer the one with ETag {etag}")]
    Replaced { url: String, etag: String },
}

impl ObjectError {
    /// The failure of S3 call `call` on `url`: its error code (`unreachable` when S3 sent none)
    /// and the service's message.
    fn call<E>(url: String, call: &'static str, err: &E) -> ObjectError
    where
        E: std::error::Error + ProvideErrorMetadata,
    {
        ObjectError::Call {
            url,
            call,
            code: err.code().unwrap_or("unreachable").to_string(),
            message: sluice_edge::sdk_error::sdk_message(err),
        }
    }
}

/// Reads objects with the S3 API. The client is made on first use, so a forwarder that never
/// reads an object never loads the SDK's settings (which can mean asking the instance metadata
/// service for a region).
#[derive(Debug, Clone)]
pub struct ObjectReader {
    client: Arc<tokio::sync::OnceCell<aws_sdk_s3::Client>>,
    sdk: Option<aws_config::SdkConfig>,
    options: Arc<S3Options>,
}

/// One object of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub key: String,
    pub last_modified_ms: i64,
    pub size: i64,
    /// The ETag without its quotes, as `GetObject` gives it; empty when the listing has none.
    pub etag: String,
}

impl ObjectReader {
    /// A reader with the SDK's settings from the environment, loaded on first use.
    pub fn from_env(options: S3Options) -> ObjectReader {
        ObjectReader {
            client: Arc::default(),
            sdk: None,
            options: Arc::new(options),
        }
    }

    /// A reader with given SDK settings (tests point them at moto).
    pub fn new(sdk: &aws_config::SdkConfig, options: S3Options) -> ObjectReader {
        ObjectReader {
            sdk: Some(sdk.clone()),
            ..ObjectReader::from_env(options)
        }
    }

    /// The S3 client; an `AWS_ENDPOINT_URL` endpoint is addressed by path
    /// (`http://host/bucket/key`), as local emulators need.
    pub async fn client(&self) -> &aws_sdk_s3::Client {
        self.client
            .get_or_init(|| async {
                let sdk = match &self.sdk {
                    Some(sdk) => sdk.clone(),
                    None => aws_config::load_from_env().await,
                };
                let config = aws_sdk_s3::config::Builder::from(&sdk)
                    .force_path_style(sdk.endpoint_url().is_some())
                    .build();
                aws_sdk_s3::Client::from_conf(config)
            })
            .await
    }

    /// Lists the objects under `prefix` whose `LastModified` is within `[since, until)`.
    pub async fn list(
        &self,
        bucket: &str,
        prefix: &str,
        since_ms: Option<i64>,
        until_ms: Option<i64>,
    ) -> Result<Vec<Listed>, ObjectError> {
        let mut pages = self
            .client()
            .await
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        let mut listed = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page
                .map_err(|err| ObjectError::call(format!("s3://{bucket}/{prefix}"), "ListObjectsV2", &err))?;
            for object in page.contents() {
                let (Some(key), Some(modified)) = (object.key(), object.last_modified()) else {
                    continue;
                };
                let modified = modified.to_millis().unwrap_or_default();
                if since_ms.is_some_and(|since| modified < since)
                    || until_ms.is_some_and(|until| modified >= until)
                {
                    continue;
                }
                listed.push(Listed {
                    key: key.to_string(),
                    last_modified_ms: modified,
                    size: object.size().unwrap_or_default(),
                    etag: object.e_tag().unwrap_or_default().trim_matches('"').to_string(),
                });
            }
        }
        Ok(listed)
    }

    /// Downloads one object whole (a GeoIP database, read once per cold start).
    pub async fn get_bytes(&self, bucket: &str, key: &str) -> Result<Bytes, ObjectError> {
        let url = format!("s3://{bucket}/{key}");
        let output = (self
            .client()
            .await
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await)
            .map_err(|err| ObjectError::call(url.clone(), "GetObject", &err))?;
        let body = output.body.collect().await.map_err(|err| ObjectError::Corrupt {
            url,
            reason: format!("the download broke off: {err}"),
        })?;
        Ok(body.into_bytes())
    }

    /// Downloads and parses one object, handing its records to `emit` as they come.
    pub async fn read(
        &self,
        task: &ObjectTask,
        mut emit: impl FnMut(Chunk) -> Result<(), Stopped> + Send + 'static,
    ) -> Result<ObjectRead, ObjectError> {
        self.open(task).await?.read(move |chunk, _| emit(chunk)).await
    }

    /// Starts the download of `task`'s object: `GetObject`, only if the ETag is still the one a
    /// continuation names ([`ObjectError::Replaced`] otherwise), from the continuation's offset
    /// when it has one.
    pub async fn open(&self, task: &ObjectTask) -> Result<Opened, ObjectError> {
        let url = task.url();
        let mut request = self
            .client()
            .await
            .get_object()
            .bucket(&task.bucket)
            .key(&task.key);
        let seek = task.resume.as_ref().and_then(|resume| resume.seek);
        if let Some(resume) = &task.resume {
            request = request.if_match(format!("\"{}\"", resume.etag));
        }
        if let Some(Seek { offset, .. }) = seek {
            request = request.range(format!("bytes={offset}-"));
        }
        let output = request.send().await.map_err(|err| {
            // 412 Precondition Failed: the ETag differs (its body may be empty, or say
            // `PreconditionFailed`).
            let status = err.raw_response().map(|answer| answer.status().as_u16());
            match &task.resume {
                Some(resume) if status == Some(412) || err.code() == Some("PreconditionFailed") => {
                    ObjectError::Replaced {
                        url: url.clone(),
                        etag: resume.etag.clone(),
                    }
                }
                _ => ObjectError::call(url.clone(), "GetObject", &err),
            }
        });
        // 416 Range Not Satisfiable: the continuation's offset is the object's end, nothing is
        // left to read.
        let output = match output {
            Err(ObjectError::Call { code, .. }) if seek.is_some() && code == "InvalidRange" => {
                return Ok(Opened {
                    url,
                    object: Located {
                        bucket: task.bucket.clone(),
                        key: task.key.clone(),
                        etag: task
                            .resume
                            .as_ref()
                            .map(|resume| resume.etag.clone())
                            .unwrap_or_default(),
                        last_modified_ms: 0,
                        key_fields: self.options.key_fields(&task.key),
                    },
                    body: aws_sdk_s3::primitives::ByteStream::from_static(b""),
                    ack: task.ack.clone(),
                    start: Start {
                        after: task.resume.as_ref().map_or(0, |resume| resume.after),
                        seek,
                    },
                    options: Arc::clone(&self.options),
                    client: self.client().await.clone(),
                    size: None,
                });
            }
            output => output?,
        };
        let size = (output.content_length())
            .filter(|_| seek.is_none())
            .and_then(|len| u64::try_from(len).ok());
        let object = Located {
            bucket: task.bucket.clone(),
            key: task.key.clone(),
            etag: output.e_tag().unwrap_or_default().trim_matches('"').to_string(),
            last_modified_ms: output
                .last_modified()
                .and_then(|time| time.to_millis().ok())
                .unwrap_or_default(),
            key_fields: self.options.key_fields(&task.key),
        };
        Ok(Opened {
            url,
            object,
            body: output.body,
            ack: task.ack.clone(),
            start: Start {
                after: task.resume.as_ref().map_or(0, |resume| resume.after),
                seek,
            },
            options: Arc::clone(&self.options),
            client: self.client().await.clone(),
            size,
        })
    }
}

/// An object whose download has started ([`ObjectReader::open`]).
#[derive(Debug)]
pub struct Opened {
    url: String,
    object: Located,
    body: aws_sdk_s3::primitives::ByteStream,
    ack: crate::source::Ack,
    start: Start,
    options: Arc<S3Options>,
    /// The client, for the ranged reads of a Parquet object.
    client: aws_sdk_s3::Client,
    /// The object's size, when the whole object was asked for.
    size: Option<u64>,
}

impl Opened {
    /// The object's ETag, without quotes.
    pub fn etag(&self) -> &str {
        &self.object.etag
    }

    /// Reads the object to the end (from the record after a continuation's), handing its records
    /// to `emit` as they come, each chunk with where reading could start again after it.
    pub async fn read(
        self,
        emit: impl FnMut(Chunk, Option<Seek>) -> Result<(), Stopped> + Send + 'static,
    ) -> Result<ObjectRead, ObjectError> {
        let Opened {
            url,
            object,
            mut body,
            ack,
            start,
            options,
            client,
            size,
        } = self;
        let mut next = body.try_next().await;
        // A Parquet object is read with ranged reads, not as the stream already started.
        let head = next.as_ref().ok().and_then(Option::as_deref).unwrap_or_default();
        if let Some(size) = size
            && start.seek.is_none()
            && super::parquet::parquet_format(&options, &object.key, head).is_some()
        {
            drop(body);
            let ranges = S3Ranges {
                client,
                bucket: object.bucket.clone(),
                key: object.key.clone(),
                etag: object.etag.clone(),
                size,
                runtime: tokio::runtime::Handle::current(),
            };
            let parse = tokio::task::spawn_blocking(move || {
                super::read_object_ranged(ranges, object, ack, &options, start, emit)
            });
            return outcome(url, parse.await);
        }
        let (sender, receiver) = tokio::sync::mpsc::channel(BODY_BUFFERS);
        let parse = tokio::task::spawn_blocking(move || {
            read_object_from(ChannelReader::new(receiver), object, ack, &options, start, emit)
        });
        'download: loop {
            match next {
                Ok(Some(bytes)) => {
                    for piece in bytes.chunks(BODY_PIECE_BYTES) {
                        if sender.send(Ok(Bytes::copy_from_slice(piece))).await.is_err() {
                            break 'download;
                        }
                    }
                }
                Ok(None) => break,
                Err(err) => {
                    let broke = std::io::Error::other(format!("the download broke off: {err}"));
                    let _parser_gone = sender.send(Err(broke)).await;
                    break;
                }
            }
            next = body.try_next().await;
        }
        drop(sender);
        outcome(url, parse.await)
    }
}

/// What the parsing thread's end says of the object at `url`.
fn outcome(
    url: String,
    joined: Result<Result<ObjectRead, ParseError>, tokio::task::JoinError>,
) -> Result<ObjectRead, ObjectError> {
    match joined {
        Ok(Ok(read)) => Ok(read),
        Ok(Err(ParseError::Stopped)) => Err(ObjectError::Stopped { url }),
        Ok(Err(ParseError::Corrupt(reason))) => Err(ObjectError::Corrupt { url, reason }),
        Err(panicked) => Err(ObjectError::Corrupt {
            url,
            reason: format!("the parser failed: {panicked}"),
        }),
    }
}

/// Ranged `GetObject`s of one object, each only if its ETag is still the one first read: the
/// random access a Parquet object is read with. Called from the parsing thread, each waits on
/// the runtime for its answer.
struct S3Ranges {
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    etag: String,
    size: u64,
    runtime: tokio::runtime::Handle,
}

impl super::Ranges for S3Ranges {
    fn size(&self) -> u64 {
        self.size
    }

    fn range(&self, start: u64, len: u64) -> std::io::Result<Bytes> {
        if len == 0 {
            return Ok(Bytes::new());
        }
        let last = start + len - 1;
        let mut request = (self.client.get_object())
            .bucket(&self.bucket)
            .key(&self.key)
            .range(format!("bytes={start}-{last}"));
        if !self.etag.is_empty() {
            request = request.if_match(format!("\"{}\"", self.etag));
        }
        let bytes = self.runtime.block_on(async {
            let output = request.send().await.map_err(|err| {
                std::io::Error::other(format!(
                    "GetObject of bytes {start} to {last} failed ({}): {}",
                    err.code().unwrap_or("unreachable"),
                    sluice_edge::sdk_error::sdk_message(&err)
                ))
            })?;
            let body = (output.body.collect().await)
                .map_err(|err| std::io::Error::other(format!("the download broke off: {err}")))?;
            Ok::<_, std::io::Error>(body.into_bytes())
        })?;
        match bytes.len() as u64 == len {
            true => Ok(bytes),
            false => Err(std::io::Error::other(format!(
                "GetObject of bytes {start} to {last} gave {} bytes",
                bytes.len()
            ))),
        }
    }
}

/// The blocking side of the download: a `Read` over the buffers the network sends.
struct ChannelReader {
    receiver: tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>,
    current: Bytes,
}

impl ChannelReader {
    fn new(receiver: tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>) -> Self {
        ChannelReader {
            receiver,
            current: Bytes::new(),
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.receiver.blocking_recv() {
                Some(Ok(bytes)) => self.current = bytes,
                Some(Err(err)) => return Err(err),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current.advance(n);
        Ok(n)
    }
}

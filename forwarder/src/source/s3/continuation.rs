//! Continuations: an object one invocation could not read to the end before its deadline is
//! handed on to the next. The invocation stops at a record boundary once every record before it
//! is indexed, sends the queue its notification came from a message naming the object (bucket,
//! key, ETag) and the last record done, and acknowledges the notification; the continuation is
//! then read like any notification, from the record after that one. The ids are the records'
//! position-based ids, so records read twice (a continuation sent, then the invocation retried)
//! are duplicates, never copies.
//!
//! The message is Sluice's own, in the body of an SQS message:
//! `{"sluiceContinuation":{"bucket":"…","key":"…","etag":"…","after":1234,"chain":1}}`, with
//! `"offset"` and `"format"` too when reading can start at the next record's first byte (an
//! object stored uncompressed, or a Firehose file of gzip members): a ranged `GetObject` then
//! skips the bytes before it instead of decompressing them again.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_sqs::error::ProvideErrorMetadata;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::{Format, ObjectTask};

/// The key of a continuation in a message body.
const FIELD: &str = "sluiceContinuation";

/// Where to resume reading an object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Continuation {
    pub bucket: String,
    /// The key, decoded.
    pub key: String,
    /// The ETag of the object read so far, without quotes: an object replaced since is refused.
    pub etag: String,
    /// The number of the last record done (a line, a CloudTrail record, a CloudWatch Logs
    /// payload of a Firehose file): reading resumes at the next one.
    pub after: u64,
    /// How many continuations the object has had, this one included.
    pub chain: u32,
    /// Where the record after `after` starts in the object as stored, when reading can start
    /// there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// The object's format, read from its start: needed when reading starts at `offset`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

/// Where reading can start again: a record's first byte in the object as stored, and the
/// object's format (which its first bytes told).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seek {
    pub offset: u64,
    pub format: Format,
}

impl Continuation {
    /// The message body that carries this continuation.
    pub fn body(&self) -> String {
        serde_json::json!({ FIELD: self }).to_string()
    }

    /// The continuation a message body holds: `None` when it holds none, an error naming what
    /// is wrong when it holds a malformed one.
    pub(crate) fn of_message(value: &serde_json::Value) -> Option<Result<Continuation, String>> {
        let inner = value.get(FIELD)?;
        Some(Continuation::deserialize(inner).map_err(|err| format!("{FIELD} is not a continuation: {err}")))
    }
}

/// Where a task resumes: what its continuation said, kept with the task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume {
    pub etag: String,
    pub after: u64,
    pub chain: u32,
    /// Where reading starts, when not at the object's first byte.
    pub seek: Option<Seek>,
}

impl From<Continuation> for (String, String, Resume) {
    fn from(continuation: Continuation) -> Self {
        let Continuation {
            bucket,
            key,
            etag,
            after,
            chain,
            offset,
            format,
        } = continuation;
        // A format this version does not know: read from the start, passing over what was done.
        let format = format.and_then(|name| name.parse::<Format>().ok());
        let seek = offset.zip(format).map(|(offset, format)| Seek { offset, format });
        (
            bucket,
            key,
            Resume {
                etag,
                after,
                chain,
                seek,
            },
        )
    }
}

/// An object left unfinished at a run's deadline: every record up to `after` is indexed (or its
/// acknowledgement failed for another reason), nothing after it was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfinished {
    pub task: ObjectTask,
    /// The object's ETag, once its download started.
    pub etag: Option<String>,
    /// The last record done (where the run started when none was).
    pub after: u64,
    /// Where the record after it starts, when reading can start there.
    pub seek: Option<Seek>,
}

impl Unfinished {
    /// The continuation that resumes this object, or why there is none: its notification came
    /// from no queue, its download never started, nothing was read, or its chain reached `max`.
    pub fn continuation(&self, max: u32) -> Result<(Continuation, &str), &'static str> {
        let task = &self.task;
        let Some(queue) = task.queue.as_deref() else {
            return Err("its notification did not come from an SQS queue");
        };
        let Some(etag) = &self.etag else {
            return Err("its download had not started");
        };
        let (started, chain) = task.resume.as_ref().map_or((0, 0), |r| (r.after, r.chain));
        if self.after <= started {
            return Err("no record was read");
        }
        if chain >= max {
            return Err("it reached MAX_CONTINUATIONS");
        }
        let continuation = Continuation {
            bucket: task.bucket.clone(),
            key: task.key.clone(),
            etag: etag.clone(),
            after: self.after,
            chain: chain + 1,
            offset: self.seek.map(|seek| seek.offset),
            format: self.seek.map(|seek| seek.format.name().to_string()),
        };
        Ok((continuation, queue))
    }
}

/// Why a continuation could not be sent.
#[derive(Debug, thiserror::Error)]
#[error("sending the continuation of s3://{bucket}/{key} to {queue}: {call} failed ({code}): {message}")]
pub struct RequeueError {
    bucket: String,
    key: String,
    queue: String,
    call: &'static str,
    code: String,
    message: String,
}

/// Sends continuations to the queues their notifications came from: the SQS client is made on
/// first use, and each queue's URL asked once (`GetQueueUrl`, by the name and owner in its ARN).
#[derive(Debug, Clone)]
pub struct Requeue {
    client: Arc<tokio::sync::OnceCell<aws_sdk_sqs::Client>>,
    sdk: Option<aws_config::SdkConfig>,
    urls: Arc<Mutex<HashMap<String, String>>>,
}

impl Requeue {
    /// With the SDK's settings from the environment, loaded on first use.
    pub fn from_env() -> Requeue {
        Requeue {
            client: Arc::default(),
            sdk: None,
            urls: Arc::default(),
        }
    }

    /// With given SDK settings (tests point them at moto).
    pub fn new(sdk: &aws_config::SdkConfig) -> Requeue {
        Requeue {
            sdk: Some(sdk.clone()),
            ..Requeue::from_env()
        }
    }

    async fn client(&self) -> &aws_sdk_sqs::Client {
        self.client
            .get_or_init(|| async {
                match &self.sdk {
                    Some(sdk) => aws_sdk_sqs::Client::new(sdk),
                    None => aws_sdk_sqs::Client::new(&aws_config::load_from_env().await),
                }
            })
            .await
    }

    /// Sends `continuation` to the queue of ARN `queue`.
    pub async fn send(&self, continuation: &Continuation, queue: &str) -> Result<(), RequeueError> {
        let error = |call, code: Option<&str>, message: String| RequeueError {
            bucket: continuation.bucket.clone(),
            key: continuation.key.clone(),
            queue: queue.to_string(),
            call,
            code: code.unwrap_or("unreachable").to_string(),
            message,
        };
        let url = self
            .url(queue)
            .await
            .map_err(|(call, code, message)| error(call, code.as_deref(), message))?;
        self.client()
            .await
            .send_message()
            .queue_url(url)
            .message_body(continuation.body())
            .send()
            .await
            .map_err(|err| {
                error(
                    "SendMessage",
                    err.code(),
                    sluice_edge::sdk_error::sdk_message(&err),
                )
            })?;
        Ok(())
    }

    /// The URL of the queue of ARN `arn` (`arn:aws:sqs:REGION:ACCOUNT:NAME`).
    async fn url(&self, arn: &str) -> Result<String, (&'static str, Option<String>, String)> {
        if let Some(url) = self.urls.lock().await.get(arn) {
            return Ok(url.clone());
        }
        let parts: Vec<&str> = arn.split(':').collect();
        let [_, _, "sqs", _, account, name] = parts[..] else {
            return Err((
                "GetQueueUrl",
                Some("InvalidArn".into()),
                format!("{arn:?} is not an SQS queue ARN"),
            ));
        };
        let answer = self
            .client()
            .await
            .get_queue_url()
            .queue_name(name)
            .queue_owner_aws_account_id(account)
            .send()
            .await
            .map_err(|err| {
                (
                    "GetQueueUrl",
                    err.code().map(str::to_string),
                    sluice_edge::sdk_error::sdk_message(&err),
                )
            })?;
        let url = answer.queue_url().unwrap_or_default().to_string();
        self.urls.lock().await.insert(arn.to_string(), url.clone());
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::source::Ack;

    fn task(queue: Option<&str>, resume: Option<Resume>) -> ObjectTask {
        ObjectTask {
            ack: Ack::Item("m1".into()),
            bucket: "logs".into(),
            key: "AWSLogs/x.log".into(),
            queue: queue.map(Arc::from),
            resume,
        }
    }

    #[test]
    fn a_continuation_is_read_back_from_the_body_it_writes() {
        let continuation = Continuation {
            bucket: "logs".into(),
            key: "a b/c.log.gz".into(),
            etag: "9b2cf535f27731c974343645a3985328".into(),
            after: 41_000,
            chain: 3,
            offset: Some(1_234_567),
            format: Some("cloudwatch-firehose".into()),
        };
        let body: serde_json::Value = serde_json::from_str(&continuation.body()).unwrap();
        assert_eq!(Continuation::of_message(&body), Some(Ok(continuation.clone())));
        let (_, _, resume) = continuation.into();
        let seek = resume.seek.expect("a seek");
        assert_eq!(
            (seek.offset, seek.format.name()),
            (1_234_567, "cloudwatch-firehose")
        );
        // A format this version does not know: read from the start.
        let unknown = json!({"sluiceContinuation": {"bucket": "b", "key": "k", "etag": "e", "after": 5,
            "chain": 1, "offset": 10, "format": "parquet-from-the-future"}});
        let (_, _, resume) = Continuation::of_message(&unknown).unwrap().unwrap().into();
        assert_eq!((resume.after, resume.seek), (5, None));
        assert_eq!(Continuation::of_message(&json!({"Records": []})), None);
        let err = Continuation::of_message(&json!({"sluiceContinuation": {"bucket": "b"}}))
            .unwrap()
            .unwrap_err();
        assert!(err.contains("sluiceContinuation") && err.contains("key"), "{err}");
    }

    #[test]
    fn an_unfinished_object_continues_after_its_last_record_done() {
        let queue = "arn:aws:sqs:eu-west-1:123456789012:sluice-objects";
        let unfinished = Unfinished {
            task: task(Some(queue), None),
            etag: Some("e1".into()),
            after: 500,
            seek: Some(Seek {
                offset: 31_000,
                format: "text-lines".parse().unwrap(),
            }),
        };
        let (continuation, to) = unfinished.continuation(10).unwrap();
        assert_eq!(to, queue);
        assert_eq!(
            (continuation.after, continuation.chain, continuation.etag.as_str()),
            (500, 1, "e1")
        );
        assert_eq!(
            (continuation.offset, continuation.format.as_deref()),
            (Some(31_000), Some("text-lines"))
        );

        let resumed = |after, chain| Unfinished {
            task: task(
                Some(queue),
                Some(Resume {
                    etag: "e1".into(),
                    after: 500,
                    chain,
                    seek: None,
                }),
            ),
            etag: Some("e1".into()),
            after,
            seek: None,
        };
        assert_eq!(resumed(900, 1).continuation(10).unwrap().0.chain, 2);
        assert_eq!(
            resumed(500, 1).continuation(10).unwrap_err(),
            "no record was read"
        );
        assert_eq!(
            resumed(900, 10).continuation(10).unwrap_err(),
            "it reached MAX_CONTINUATIONS"
        );
    }

    #[test]
    fn without_a_queue_or_a_download_there_is_no_continuation() {
        let direct = Unfinished {
            task: task(None, None),
            etag: Some("e1".into()),
            after: 5,
            seek: None,
        };
        assert!(direct.continuation(10).unwrap_err().contains("SQS"));
        let unstarted = Unfinished {
            task: task(Some("arn:aws:sqs:eu-west-1:1:q"), None),
            etag: None,
            after: 0,
            seek: None,
        };
        assert!(unstarted.continuation(10).unwrap_err().contains("download"));
    }
}

//! `replay s3://BUCKET/PREFIX`: every object under a prefix, read and run through the pipeline
//! a round at a time, each object acknowledged by its key.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use super::{Replay, ReplayError, ReplaySummary};
use crate::source::s3::ObjectTask;
use crate::source::{Ack, Decoded, Reply};

/// Objects of a bucket replayed per round: one run of the pipeline, with the replay's timeout.
pub const OBJECTS_PER_ROUND: usize = 16;

/// `s3://BUCKET[/PREFIX]`, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketUrl {
    pub bucket: String,
    pub prefix: String,
}

impl BucketUrl {
    /// `None` when `text` is not an `s3://` URL.
    pub fn parse(text: &str) -> Option<BucketUrl> {
        let rest = text.strip_prefix("s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        (!bucket.is_empty()).then(|| BucketUrl {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        })
    }
}

/// Milliseconds since the epoch: objects last modified at or after the first and before the
/// second, each bound optional.
pub(crate) type Window = (Option<i64>, Option<i64>);

impl Replay<'_> {
    /// Replays every object under `url` whose `LastModified` is within `window`, a round of
    /// [`OBJECTS_PER_ROUND`] at a time. On a terminal, `errors` gets a progress line after each
    /// round.
    pub async fn bucket(
        &self,
        url: &BucketUrl,
        window: Window,
        out: &mut dyn Write,
        errors: &mut dyn Write,
    ) -> Result<ReplaySummary, ReplayError> {
        let mut total = self.summary();
        self.bucket_into(url, window, &mut total, out, errors).await?;
        Ok(total)
    }

    /// [`Replay::bucket`], counting into `total` as it goes (see [`Replay::files_into`]).
    pub(crate) async fn bucket_into(
        &self,
        url: &BucketUrl,
        (since_ms, until_ms): Window,
        total: &mut ReplaySummary,
        out: &mut dyn Write,
        errors: &mut dyn Write,
    ) -> Result<(), ReplayError> {
        let Some(reader) = self.forwarder.pipeline().object_reader() else {
            return Ok(());
        };
        let listed = reader
            .list(&url.bucket, &url.prefix, since_ms, until_ms)
            .await
            .map_err(ReplayError::List)?;
        let progress = std::io::stderr().is_terminal();
        let count = listed.len();
        let what = format!("s3://{}/{}", url.bucket, url.prefix);
        for (round, keys) in listed.chunks(OBJECTS_PER_ROUND).enumerate() {
            let objects = keys
                .iter()
                .map(|listed| ObjectTask {
                    ack: Ack::Item(Arc::from(listed.key.as_str())),
                    bucket: url.bucket.clone(),
                    key: listed.key.clone(),
                    queue: None,
                    resume: None,
                })
                .collect();
            let decoded = Decoded {
                objects,
                ..Decoded::new(Reply::BatchItemFailures)
            };
            let first = round * OBJECTS_PER_ROUND + 1;
            let last = round * OBJECTS_PER_ROUND + keys.len();
            let objects = format!("{what} (objects {first} to {last} of {count})");
            total.position = format!("during {objects}");
            self.run(decoded, &what, total, out, errors).await?;
            total.position = format!("after {objects}");
            if progress {
                let s = &total.summary;
                let _ = write!(
                    errors,
                    "\r{last}/{count} objects, {} events, {} indexed, {} duplicates, {} failed ",
                    s.events, s.indexed, s.duplicates, s.failed
                );
            }
        }
        if progress && count > 0 {
            let _ = writeln!(errors);
        }
        super::flush(out)
    }
}

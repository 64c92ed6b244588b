//! The Lambda edge: one [`Forwarder`] per process turns each Lambda event into its answer by
//! running the pipeline: the event is decoded ([`Input`]), its documents prepared and delivered
//! ([`Pipeline`]), then answered from the outcome per acknowledgement, with one JSON line of
//! counts and, inside Lambda, one EMF metrics line.
//!
//! Failure routes:
//! - an `awslogs` event (or an on-failure record wrapping one) that cannot be read, or whose
//!   documents are not all delivered before the deadline, fails the invocation with an error
//!   naming what and where (or the counts); Lambda retries it and, after its retries, its
//!   on-failure destination keeps the payload, which `sluice-forwarder replay` can send again;
//! - a Kinesis event answers `batchItemFailures` with the sequence numbers of the records not
//!   delivered, so only those are retried; a record that cannot be decoded is preserved as a
//!   dead-letter document holding its raw base64 and is then acknowledged.

use std::sync::Arc;
use std::time::Instant;

use aws_lambda_events::streams::KinesisEventResponse;
use serde_json::Value;

use crate::config::{Config, SettingError};
use crate::enrich::Enrichment;
use crate::opensearch::auth::{AuthError, SdkConfig, Signer};
use crate::opensearch::deliver::Delivered;
use crate::pipeline::{OpenSearch, Outcome, Output, OutputError, Pipeline, Retry};
use crate::source::lambda::{Input, InputError};
use crate::source::s3::continuation::Requeue;
use crate::source::s3::read::ObjectReader;
use crate::source::tags::TagCache;
use crate::summary::Summary;

/// Why an invocation failed.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(
        "{} of {} events were not delivered ({} indexed, {} duplicates, {} dead-lettered); last \
         error: {reason}. Lambda retries the invocation and its on-failure destination keeps the payload",
        summary.failed, summary.events, summary.indexed, summary.duplicates, summary.dead_lettered
    )]
    Undelivered { summary: Box<Summary>, reason: String },
    #[error(transparent)]
    NoSink(#[from] NoSink),
    #[error(transparent)]
    Output(#[from] OutputError),
    /// A setting read at cold start was refused: a GeoIP database that cannot be read.
    #[error(transparent)]
    Setting(#[from] SettingError),
}

/// Why a forwarder cannot deliver.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("no OPENSEARCH_ENDPOINT: this forwarder can only prepare documents (dry run)")]
pub struct NoSink;

impl sluice_edge::ErrorType for HandlerError {
    fn error_type(&self) -> &'static str {
        match self {
            HandlerError::Input(_) => "MalformedInput",
            HandlerError::Auth(_) => "AuthFailed",
            HandlerError::Undelivered { .. } => "Undelivered",
            HandlerError::NoSink(_) => "NoEndpoint",
            HandlerError::Output(_) => "OutputFailed",
            HandlerError::Setting(_) => "InvalidSetting",
        }
    }
}

/// The outcome of one event.
#[derive(Debug)]
pub struct Handled {
    pub summary: Summary,
    /// What the Lambda function answers: the summary for `awslogs`, `batchItemFailures` for Kinesis.
    pub response: Value,
}

/// The settings, the pipeline and, unless this is a dry run, the cluster: built once per process.
pub struct Forwarder {
    config: Config,
    pipeline: Pipeline,
    opensearch: Option<OpenSearch>,
    /// Where objects not read to the end before the deadline are handed on.
    requeue: Requeue,
    /// The function name, when EMF metrics lines are printed to stdout (inside Lambda).
    metrics: Option<String>,
}

impl Forwarder {
    /// Builds the forwarder and, when an endpoint is set, its credentials (fetched once here, at
    /// cold start), and loads the GeoIP databases. The S3 client is made when the first object
    /// (or a database in S3) is read, the CloudWatch Logs client when the first tags are looked
    /// up.
    pub async fn new(mut config: Config) -> Result<Forwarder, HandlerError> {
        let signer = match &config.sink {
            Some(sink) => Some(Signer::load(&sink.auth).await?),
            None => None,
        };
        let reader = ObjectReader::from_env(config.s3.clone());
        config.documents.enrichment = Arc::new(Enrichment::load(&config.enrich, &reader).await?);
        let tags = config
            .tags
            .map(|settings| TagCache::from_env(settings, &config.region));
        Ok(Forwarder::with_parts(
            config,
            signer,
            reader,
            tags,
            Requeue::from_env(),
        ))
    }

    /// Like [`Forwarder::new`] with a given AWS SDK configuration (tests point it at moto).
    pub async fn with_sdk(mut config: Config, sdk: &SdkConfig) -> Result<Forwarder, HandlerError> {
        let signer = match &config.sink {
            Some(sink) => Some(Signer::load_with(&sink.auth, sdk).await?),
            None => None,
        };
        let reader = ObjectReader::new(sdk, config.s3.clone());
        config.documents.enrichment = Arc::new(Enrichment::load(&config.enrich, &reader).await?);
        let tags = config
            .tags
            .map(|settings| TagCache::new(sdk, settings, &config.region));
        Ok(Forwarder::with_parts(
            config,
            signer,
            reader,
            tags,
            Requeue::new(sdk),
        ))
    }

    fn with_parts(
        config: Config,
        signer: Option<Signer>,
        reader: ObjectReader,
        tags: Option<TagCache>,
        requeue: Requeue,
    ) -> Forwarder {
        let mut pipeline = Pipeline::new(&config).with_objects(reader);
        if let Some(tags) = tags {
            pipeline = pipeline.with_tags(tags);
        }
        let opensearch = match (&config.sink, signer) {
            (Some(sink), Some(signer)) => Some(OpenSearch::new(
                &config,
                sink,
                signer,
                pipeline.builder().dead_letter_index(),
            )),
            _ => None,
        };
        Forwarder {
            pipeline,
            opensearch,
            requeue,
            config,
            metrics: None,
        }
    }

    /// Prints one EMF metrics line per event to stdout, with the function name as dimension.
    pub fn with_metrics(mut self, function_name: String) -> Forwarder {
        self.metrics = Some(function_name);
        self
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// The output that delivers to the cluster; [`NoSink`] in a dry run.
    pub fn opensearch(&self) -> Result<Output<'_>, NoSink> {
        self.opensearch.as_ref().map(Output::OpenSearch).ok_or(NoSink)
    }

    /// Handles one Lambda event: decode, run, answer.
    pub async fn handle(&self, event: Value, deadline: Instant) -> Result<Handled, HandlerError> {
        let decoded = Input::from_value(event)
            .and_then(|input| input.decode_with(&self.config.cloudfront_realtime, &self.config.limits))
            .map_err(|err| err.at("the event"))?
            .at("the event");
        let mut outcome = self
            .pipeline
            .run(decoded, &mut self.opensearch()?, deadline)
            .await?;
        self.continue_unfinished(&mut outcome).await;
        let delivered = &outcome.delivered;
        log_summary(&delivered.summary);
        if let Some(function) = &self.metrics {
            println!(
                "{}",
                crate::metrics::emf(&delivered.summary, &delivered.latencies_ms, function)
            );
        }
        answer(outcome)
    }
}

impl Forwarder {
    /// Hands each object the run left unfinished on to a later invocation: a continuation sent
    /// to the queue its notification came from, after which its notification is acknowledged.
    /// An object whose acknowledgement failed anyway (a document not delivered), or that cannot
    /// be continued ([`crate::source::s3::Unfinished::continuation`]), or whose continuation could not be sent,
    /// fails its notification, which is retried from where it started.
    async fn continue_unfinished(&self, outcome: &mut Outcome) {
        let mut index = 0;
        while index < outcome.unfinished.len() {
            let object = &outcome.unfinished[index];
            let url = object.task.url();
            if outcome.delivered.failed.contains(&object.task.ack) {
                index += 1;
                continue;
            }
            let sent = match object.continuation(self.config.max_continuations) {
                Ok((continuation, queue)) => self
                    .requeue
                    .send(&continuation, queue)
                    .await
                    .map(|()| continuation)
                    .map_err(|err| err.to_string()),
                Err(why) => Err(format!("{url} cannot be continued: {why}")),
            };
            match sent {
                Ok(continuation) => {
                    tracing::info!(
                        object = %url,
                        after = continuation.after,
                        chain = continuation.chain,
                        "object continued in a later invocation"
                    );
                    outcome.continued(index);
                }
                Err(why) => {
                    tracing::warn!(object = %url, why, "object not continued: its notification is reported failed");
                    outcome.delivered.last_error = Some(why);
                    index += 1;
                }
            }
        }
    }
}

/// The Lambda answer for an outcome: `batchItemFailures` naming the failed items, or the summary;
/// an error when the invocation itself must be retried.
fn answer(outcome: Outcome) -> Result<Handled, HandlerError> {
    let retry = outcome.retry();
    let Delivered {
        summary, last_error, ..
    } = outcome.delivered;
    let response = match retry {
        Retry::Invocation => {
            return Err(HandlerError::Undelivered {
                summary: Box::new(summary),
                reason: last_error.unwrap_or_else(|| "unknown".to_string()),
            });
        }
        Retry::Items(items) => batch_item_failures(items),
        Retry::Nothing if outcome.reply == crate::source::Reply::BatchItemFailures => {
            batch_item_failures(Vec::new())
        }
        Retry::Nothing => serde_json::to_value(summary).unwrap_or(Value::Null),
    };
    Ok(Handled { summary, response })
}

/// `{"batchItemFailures":[{"itemIdentifier":…},…]}`.
fn batch_item_failures(items: Vec<std::sync::Arc<str>>) -> Value {
    let mut response = KinesisEventResponse::default();
    for id in items {
        response.add_failure(id.to_string());
    }
    serde_json::to_value(&response).unwrap_or(Value::Null)
}

/// The structured log line of one invocation's counts (no payloads).
pub(crate) fn log_summary(summary: &Summary) {
    tracing::info!(
        batches = summary.batches,
        events = summary.events,
        indexed = summary.indexed,
        duplicates = summary.duplicates,
        retried = summary.retried,
        dead_lettered = summary.dead_lettered,
        failed = summary.failed,
        skipped = summary.skipped,
        fallbacks = summary.fallbacks,
        bulk_requests = summary.bulk_requests,
        bulk_ms = summary.bulk_ms,
        tag_lookups_failed = summary.tag_lookups_failed,
        "invocation summary"
    );
}

#[cfg(test)]
mod tests;

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

use std::time::{Duration, Instant};

use aws_lambda_events::streams::KinesisEventResponse;
use serde_json::Value;

use crate::config::Config;
use crate::opensearch::auth::{AuthError, SdkConfig, Signer};
use crate::opensearch::deliver::Delivered;
use crate::pipeline::{NoSink, Pipeline, Prepared};
use crate::source::lambda::{Input, InputError};
use crate::source::s3::read::ObjectReader;
use crate::source::tags::TagCache;
use crate::source::{Ack, Reply};
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
}

impl sluice_edge::ErrorType for HandlerError {
    fn error_type(&self) -> &'static str {
        match self {
            HandlerError::Input(_) => "MalformedInput",
            HandlerError::Auth(_) => "AuthFailed",
            HandlerError::Undelivered { .. } => "Undelivered",
            HandlerError::NoSink(_) => "NoEndpoint",
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

/// The settings and the pipeline: built once per process.
pub struct Forwarder {
    config: Config,
    pipeline: Pipeline,
    /// The function name, when EMF metrics lines are printed to stdout (inside Lambda).
    metrics: Option<String>,
    /// How long `replay` keeps retrying one event (the CLI's `--event-timeout`).
    replay_timeout: Option<Duration>,
}

impl Forwarder {
    /// Builds the forwarder and, when an endpoint is set, its credentials (fetched once here, at
    /// cold start). The S3 client is made when the first object is read, the CloudWatch Logs
    /// client when the first tags are looked up.
    pub async fn new(config: Config) -> Result<Forwarder, HandlerError> {
        let signer = match &config.sink {
            Some(sink) => Some(Signer::load(&sink.auth).await?),
            None => None,
        };
        let reader = ObjectReader::from_env(config.s3.clone());
        let tags = config
            .tags
            .map(|settings| TagCache::from_env(settings, &config.region));
        Ok(Forwarder::with_parts(config, signer, reader, tags))
    }

    /// Like [`Forwarder::new`] with a given AWS SDK configuration (tests point it at moto).
    pub async fn with_sdk(config: Config, sdk: &SdkConfig) -> Result<Forwarder, HandlerError> {
        let signer = match &config.sink {
            Some(sink) => Some(Signer::load_with(&sink.auth, sdk).await?),
            None => None,
        };
        let reader = ObjectReader::new(sdk, config.s3.clone());
        let tags = config
            .tags
            .map(|settings| TagCache::new(sdk, settings, &config.region));
        Ok(Forwarder::with_parts(config, signer, reader, tags))
    }

    fn with_parts(
        config: Config,
        signer: Option<Signer>,
        reader: ObjectReader,
        tags: Option<TagCache>,
    ) -> Forwarder {
        let mut pipeline = Pipeline::new(&config, signer).with_objects(reader);
        if let Some(tags) = tags {
            pipeline = pipeline.with_tags(tags);
        }
        Forwarder {
            pipeline,
            config,
            metrics: None,
            replay_timeout: None,
        }
    }

    /// Bounds how long `replay` keeps retrying one event (or one round of a bucket's objects).
    pub fn with_replay_timeout(mut self, timeout: Duration) -> Forwarder {
        self.replay_timeout = Some(timeout);
        self
    }

    /// The bound set by [`Forwarder::with_replay_timeout`], if any.
    pub fn replay_timeout(&self) -> Option<Duration> {
        self.replay_timeout
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

    /// Decodes `input` and builds its documents. `what` names the event in errors.
    pub fn prepare(&self, input: Input, what: &str) -> Result<Prepared, HandlerError> {
        Ok(self.pipeline.prepare(input.decode(what)?))
    }

    /// Like [`Forwarder::prepare`], with the log groups' tags looked up first (when
    /// `LOG_GROUP_TAGS` is on), within a short part of the time left before `deadline`.
    pub async fn prepare_tagged(
        &self,
        input: Input,
        what: &str,
        deadline: Instant,
    ) -> Result<Prepared, HandlerError> {
        let mut decoded = input.decode(what)?;
        let failed = self.pipeline.tag(&mut decoded, deadline).await;
        let mut prepared = self.pipeline.prepare(decoded);
        prepared.summary.tag_lookups_failed += failed;
        Ok(prepared)
    }

    /// Handles one Lambda event: prepare, deliver before `deadline`, answer.
    pub async fn handle(&self, event: Value, deadline: Instant) -> Result<Handled, HandlerError> {
        let input = Input::from_value(event, "the event")?;
        let prepared = self.prepare_tagged(input, "the event", deadline).await?;
        self.deliver(prepared, deadline).await
    }

    /// Delivers prepared documents and answers from the outcome.
    pub async fn deliver(&self, prepared: Prepared, deadline: Instant) -> Result<Handled, HandlerError> {
        let reply = prepared.reply;
        let outcome = self.pipeline.deliver(prepared, deadline).await?;
        log_summary(&outcome.summary);
        if let Some(function) = &self.metrics {
            println!(
                "{}",
                crate::metrics::emf(&outcome.summary, &outcome.latencies_ms, function)
            );
        }
        answer(reply, outcome)
    }
}

/// The Lambda answer for an outcome: `batchItemFailures` naming the failed items, or the summary;
/// an error when the invocation itself must be retried.
fn answer(reply: Reply, outcome: Delivered) -> Result<Handled, HandlerError> {
    let Delivered {
        summary,
        failed,
        last_error,
        ..
    } = outcome;
    let undelivered = || HandlerError::Undelivered {
        summary: Box::new(summary),
        reason: last_error.clone().unwrap_or_else(|| "unknown".to_string()),
    };
    if failed.contains(&Ack::Invocation) {
        return Err(undelivered());
    }
    let response = match reply {
        Reply::BatchItemFailures => {
            let mut response = KinesisEventResponse::default();
            for ack in failed {
                if let Ack::Item(id) = ack {
                    response.add_failure(id.to_string());
                }
            }
            serde_json::to_value(&response)
        }
        Reply::Summary if failed.is_empty() => serde_json::to_value(summary),
        Reply::Summary => return Err(undelivered()),
    };
    Ok(Handled {
        summary,
        response: response.unwrap_or(Value::Null),
    })
}

/// The structured log line of one invocation's counts (no payloads).
pub fn log_summary(summary: &Summary) {
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
mod tests {
    use std::io::Write;
    use std::time::Duration;

    use base64::Engine;
    use serde_json::json;

    use super::*;
    use crate::config::Purpose;
    use crate::document::Stage;
    use crate::source::lambda::{Input, InputError};

    fn forwarder(settings: &[(&str, &str)]) -> Forwarder {
        let map: std::collections::HashMap<&str, &str> = settings.iter().copied().collect();
        let config =
            Config::from_lookup(|name| map.get(name).map(|v| v.to_string()), Purpose::DryRun).unwrap();
        Forwarder {
            pipeline: Pipeline::new(&config, None),
            config,
            metrics: None,
            replay_timeout: None,
        }
    }

    fn gzip(value: &Value) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(value.to_string().as_bytes()).unwrap();
        encoder.finish().unwrap()
    }

    fn batch(message_type: &str, messages: &[&str]) -> Value {
        let events: Vec<Value> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| json!({"id": format!("e{i}"), "timestamp": 1_795_341_600_000i64, "message": m}))
            .collect();
        json!({"messageType": message_type, "owner": "123456789012", "logGroup": "/aws/lambda/a",
               "logStream": "s", "subscriptionFilters": ["f"], "logEvents": events})
    }

    fn awslogs(value: &Value) -> Input {
        Input::Awslogs {
            data: base64::engine::general_purpose::STANDARD.encode(gzip(value)),
        }
    }

    #[test]
    fn control_messages_and_excluded_lines_are_counted_as_skipped() {
        let forwarder = forwarder(&[("EXCLUDE_MESSAGE_PATTERNS", r#"["^START"]"#)]);
        let control = forwarder
            .prepare(
                awslogs(&batch(
                    "CONTROL_MESSAGE",
                    &["CWL CONTROL MESSAGE: Checking health"],
                )),
                "t",
            )
            .unwrap();
        assert_eq!(
            (
                control.summary.events,
                control.summary.skipped,
                control.docs.len()
            ),
            (1, 1, 0)
        );
        let data = forwarder
            .prepare(
                awslogs(&batch("DATA_MESSAGE", &["START RequestId: 1", "hello", "world"])),
                "t",
            )
            .unwrap();
        assert_eq!(
            (data.summary.events, data.summary.skipped, data.docs.len()),
            (3, 1, 2)
        );
        assert_eq!(data.summary.batches, 1);
    }

    #[test]
    fn a_kinesis_event_keeps_one_unit_per_record_and_preserves_bad_ones() {
        let forwarder = forwarder(&[]);
        let fixture = include_str!("../../tests/fixtures/forwarder/kinesis-event.json");
        let mut event: Value = serde_json::from_str(fixture).unwrap();
        let good =
            base64::engine::general_purpose::STANDARD.encode(gzip(&batch("DATA_MESSAGE", &["a", "b"])));
        event["Records"][1]["kinesis"]["data"] = json!(good);
        let prepared = forwarder
            .prepare(Input::from_value(event, "t").unwrap(), "t")
            .unwrap();
        assert_eq!(prepared.reply, Reply::BatchItemFailures);
        let first = Ack::Item("49590338271490256608559692538361571095921575989136588898".into());
        let second = Ack::Item("49590338271490256608559692540925702759324208523137515618".into());
        // The documented record is plain text: preserved as one dead-letter document.
        assert_eq!(prepared.docs[0].stage, Stage::DeadLetter);
        assert_eq!(prepared.docs[0].index, "cwl-dead-letter");
        assert_eq!(prepared.docs[0].ack(), &first);
        assert_eq!(prepared.docs.iter().filter(|d| d.ack() == &second).count(), 2);
        assert_eq!(prepared.summary.events, 3);
        assert_eq!(prepared.summary.batches, 1);
    }

    #[test]
    fn malformed_awslogs_data_names_the_step_and_the_event() {
        let forwarder = forwarder(&[]);
        let err = forwarder
            .prepare(
                Input::Awslogs {
                    data: "aGVsbG8=".into(),
                },
                "stdin event 4",
            )
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("stdin event 4") && text.contains("gzip"), "{text}");
        assert!(matches!(err, HandlerError::Input(InputError::Decode { .. })));
        assert_eq!(sluice_edge::ErrorType::error_type(&err), "MalformedInput");
    }

    #[test]
    fn the_dry_run_writes_one_action_and_one_source_per_document() {
        let forwarder = forwarder(&[]);
        let prepared = forwarder
            .prepare(awslogs(&batch("DATA_MESSAGE", &["one", "two"])), "t")
            .unwrap();
        let mut out = Vec::new();
        crate::pipeline::write_dry_run(&prepared, &mut out).unwrap();
        let lines: Vec<Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 4);
        let id = lines[0]["create"]["_id"].as_str().expect("an _id");
        assert!(id.ends_with("-e0"), "the event id, scoped by its log group: {id}");
        assert_eq!(lines[1]["message"], "one");
        assert_eq!(lines[3]["message"], "two");
    }

    #[test]
    fn a_dry_run_forwarder_refuses_to_deliver() {
        let forwarder = forwarder(&[]);
        let prepared = forwarder
            .prepare(awslogs(&batch("DATA_MESSAGE", &["x"])), "t")
            .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let err = runtime
            .block_on(forwarder.deliver(prepared, Instant::now() + Duration::from_secs(5)))
            .unwrap_err();
        assert!(matches!(err, HandlerError::NoSink(_)));
    }

    fn outcome(failed: &[Ack]) -> Delivered {
        Delivered {
            summary: Summary {
                events: 3,
                indexed: 3 - failed.len() as u64,
                failed: failed.len() as u64,
                ..Summary::default()
            },
            failed: failed.iter().cloned().collect(),
            last_error: Some("HTTP 503: unavailable".into()),
            latencies_ms: Vec::new(),
        }
    }

    #[test]
    fn batch_item_failures_name_exactly_the_failed_items() {
        let item = |id: &str| Ack::Item(id.into());
        let handled = answer(Reply::BatchItemFailures, outcome(&[item("7"), item("3")])).unwrap();
        assert_eq!(
            handled.response,
            json!({"batchItemFailures": [{"itemIdentifier": "3"}, {"itemIdentifier": "7"}]})
        );
        let handled = answer(Reply::BatchItemFailures, outcome(&[])).unwrap();
        assert_eq!(handled.response, json!({"batchItemFailures": []}));
    }

    #[test]
    fn an_undelivered_invocation_fails_with_its_counts_and_reason() {
        let err = answer(Reply::Summary, outcome(&[Ack::Invocation])).unwrap_err();
        let HandlerError::Undelivered { summary, reason } = &err else {
            panic!("{err}");
        };
        assert_eq!((summary.failed, summary.indexed), (1, 2));
        assert_eq!(reason, "HTTP 503: unavailable");
        assert!(
            err.to_string().contains("1 of 3 events were not delivered"),
            "{err}"
        );
        let handled = answer(Reply::Summary, outcome(&[])).unwrap();
        assert_eq!(handled.response["indexed"], 3);
    }
}

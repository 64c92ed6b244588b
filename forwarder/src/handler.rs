//! The forwarder's entry: one [`Forwarder`] per process (settings, document builder, HTTP sink),
//! which turns one Lambda event of any kind into documents ([`Forwarder::prepare`]) and delivers
//! them ([`Forwarder::handle`]), logging one JSON line of counts and one EMF metrics line.
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
use std::time::{Duration, Instant, SystemTime};

use aws_lambda_events::streams::KinesisEventResponse;
use serde_json::Value;

use crate::auth::{AuthError, SdkConfig, Signer};
use crate::batch::LogsData;
use crate::config::Config;
use crate::deliver::{Delivered, Delivery, Stage, Summary, Work};
use crate::document::{DocumentBuilder, JsonMode};
use crate::input::{self, Input, InputError};
use crate::sink::Sink;

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
    Undelivered { summary: Summary, reason: String },
    #[error("no OPENSEARCH_ENDPOINT: this forwarder can only prepare documents (dry run)")]
    NoSink,
}

impl HandlerError {
    /// A stable name for Lambda's `errorType`.
    pub fn error_type(&self) -> &'static str {
        match self {
            HandlerError::Input(_) => "MalformedInput",
            HandlerError::Auth(_) => "AuthFailed",
            HandlerError::Undelivered { .. } => "Undelivered",
            HandlerError::NoSink => "NoEndpoint",
        }
    }
}

/// What Lambda reports for a failed invocation: a stable `errorType` and the message.
impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(err: HandlerError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: err.error_type().to_string(),
            error_message: err.to_string(),
        }
    }
}

/// The documents of one event, ready to deliver.
#[derive(Debug, Default)]
pub struct Prepared {
    /// The decoded batch of each unit: the one batch of an `awslogs` event, or one per Kinesis
    /// record (`None` when the record could not be decoded).
    pub units: Vec<Option<LogsData>>,
    /// The Kinesis sequence number of each unit (empty for `awslogs`).
    pub sequence_numbers: Vec<String>,
    pub work: Vec<Work>,
    /// `batches`, `events` and `skipped` so far.
    pub summary: Summary,
    pub kinesis: bool,
}

/// The outcome of one event.
#[derive(Debug)]
pub struct Handled {
    pub summary: Summary,
    /// What the Lambda function answers: the summary for `awslogs`, `batchItemFailures` for Kinesis.
    pub response: Value,
}

/// Settings, document builder and (unless a dry run) the sink: built once per process.
pub struct Forwarder {
    config: Config,
    builder: DocumentBuilder,
    delivery: Option<Delivery>,
    /// The function name, when EMF metrics lines are printed to stdout (inside Lambda).
    metrics: Option<String>,
}

impl Forwarder {
    /// Builds the forwarder: the document builder and, when an endpoint is set, the sink with
    /// its credentials (fetched once here, at cold start).
    pub async fn new(config: Config) -> Result<Forwarder, HandlerError> {
        let signer = match &config.sink {
            Some(sink) => Some(Signer::load(&sink.auth).await?),
            None => None,
        };
        Ok(Forwarder::with_signer(config, signer))
    }

    /// Like [`Forwarder::new`] with a given AWS SDK configuration (tests point it at moto).
    pub async fn with_sdk(config: Config, sdk: &SdkConfig) -> Result<Forwarder, HandlerError> {
        let signer = match &config.sink {
            Some(sink) => Some(Signer::load_with(&sink.auth, sdk).await?),
            None => None,
        };
        Ok(Forwarder::with_signer(config, signer))
    }

    fn with_signer(config: Config, signer: Option<Signer>) -> Forwarder {
        let builder = DocumentBuilder::new(config.documents.clone(), config.region.clone());
        let delivery = match (&config.sink, signer) {
            (Some(sink), Some(signer)) => Some(Delivery {
                sink: Arc::new(Sink::new(sink.endpoint.clone(), signer, sink.gzip)),
                max_bytes: config.bulk_max_bytes,
                concurrency: sink.concurrency,
                retry: config.retry,
            }),
            _ => None,
        };
        Forwarder {
            config,
            builder,
            delivery,
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

    /// Decodes `input` and builds its documents. `what` names the event in errors.
    pub fn prepare(&self, input: Input, what: &str) -> Result<Prepared, HandlerError> {
        let mut prepared = Prepared::default();
        match input {
            Input::Awslogs { data } => {
                let batch = input::decode_awslogs(&data, what)?;
                self.add_batch(&mut prepared, batch);
            }
            Input::Kinesis(event) => {
                prepared.kinesis = true;
                for (position, record) in event.records.iter().enumerate() {
                    prepared
                        .sequence_numbers
                        .push(record.kinesis.sequence_number.clone());
                    match input::decode_record(record) {
                        Ok(batch) => self.add_batch(&mut prepared, batch),
                        Err(err) => {
                            let reason = format!("{what}: Kinesis record {position}: {err}");
                            tracing::warn!(
                                sequence_number = %record.kinesis.sequence_number,
                                error = %err,
                                "undecodable Kinesis record: preserving it in the dead-letter index"
                            );
                            let doc = input::undecodable_record_document(
                                record,
                                &reason,
                                self.builder.dead_letter_index(),
                            );
                            prepared.summary.events += 1;
                            prepared.work.push(Work {
                                unit: prepared.units.len(),
                                doc,
                                stage: Stage::DeadLetter,
                            });
                            prepared.units.push(None);
                        }
                    }
                }
            }
        }
        Ok(prepared)
    }

    fn add_batch(&self, prepared: &mut Prepared, batch: LogsData) {
        let unit = prepared.units.len();
        prepared.summary.batches += 1;
        prepared.summary.events += batch.log_events.len() as u64;
        if batch.is_control() {
            prepared.summary.skipped += batch.log_events.len() as u64;
        } else {
            let documents = self.builder.documents(&batch);
            prepared.summary.skipped += documents.skipped as u64;
            prepared.work.extend(documents.docs.into_iter().map(|doc| Work {
                unit,
                doc,
                stage: Stage::Primary,
            }));
        }
        prepared.units.push(Some(batch));
    }

    /// Handles one Lambda event: prepare, deliver before `deadline`, answer.
    pub async fn handle(&self, event: Value, deadline: Instant) -> Result<Handled, HandlerError> {
        let input = Input::from_value(event, "the event")?;
        let prepared = self.prepare(input, "the event")?;
        self.deliver(prepared, deadline).await
    }

    /// Delivers prepared documents and builds the answer.
    pub async fn deliver(&self, prepared: Prepared, deadline: Instant) -> Result<Handled, HandlerError> {
        let delivery = self.delivery.as_ref().ok_or(HandlerError::NoSink)?;
        if let Some(sink) = &self.config.sink {
            let json_field = match &self.config.documents.json {
                JsonMode::Field(field) => field.as_str(),
                JsonMode::Root | JsonMode::Off => crate::setup::DEFAULT_JSON_FIELD,
            };
            // Setup may take a tenth of the time left per request (at most 10 s), so that with
            // its three requests the documents keep most of the invocation.
            let remaining = deadline.saturating_duration_since(Instant::now());
            let setup_timeout = (remaining / 10).clamp(Duration::from_millis(100), Duration::from_secs(10));
            delivery
                .sink
                .ensure_setup(
                    &self.config.index_prefix,
                    json_field,
                    sink.retention_days,
                    setup_timeout,
                )
                .await;
        }
        let Prepared {
            units,
            sequence_numbers,
            work,
            summary: prepared_summary,
            kinesis,
        } = prepared;
        let batches: Vec<Option<&LogsData>> = units.iter().map(Option::as_ref).collect();
        let Delivered {
            mut summary,
            failed_units,
            last_error,
            latencies_ms,
            lost_request,
        } = delivery.deliver(&self.builder, &batches, work, deadline).await;
        summary.add(&prepared_summary);
        log_summary(&summary);
        if let Some(function) = &self.metrics {
            println!("{}", metrics_line(&summary, &latencies_ms, function));
        }
        if kinesis && !lost_request {
            let mut response = KinesisEventResponse::default();
            for unit in &failed_units {
                if let Some(sequence) = sequence_numbers.get(*unit) {
                    response.add_failure(sequence.clone());
                }
            }
            let response = serde_json::to_value(&response).unwrap_or(Value::Null);
            return Ok(Handled { summary, response });
        }
        if !failed_units.is_empty() || lost_request {
            return Err(HandlerError::Undelivered {
                summary,
                reason: last_error.unwrap_or_else(|| "unknown".to_string()),
            });
        }
        let response = serde_json::to_value(summary).unwrap_or(Value::Null);
        Ok(Handled { summary, response })
    }
}

/// The structured log line of one invocation's counts (no payloads), then its EMF metrics line.
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
        "invocation summary"
    );
}

/// The one CloudWatch Embedded Metric Format line of an invocation (namespace `Sluice`).
pub fn metrics_line(summary: &Summary, latencies_ms: &[f64], function_name: &str) -> String {
    let counts = crate::metrics::Counts {
        events_received: summary.events,
        indexed: summary.indexed,
        duplicates: summary.duplicates,
        retried: summary.retried,
        dead_lettered: summary.dead_lettered,
        failed: summary.failed,
        skipped: summary.skipped,
    };
    crate::metrics::emf(
        crate::metrics::NAMESPACE,
        &[("FunctionName", function_name)],
        &counts,
        latencies_ms,
    )
}

/// Writes the `_bulk` NDJSON of prepared documents (the dry run's output).
pub fn write_dry_run(prepared: &Prepared, out: &mut (impl std::io::Write + ?Sized)) -> std::io::Result<()> {
    crate::bulk::write_ndjson(prepared.work.iter().map(|work| &work.doc), out)
}

/// The Lambda deadline as an `Instant`.
pub fn deadline_instant(deadline: SystemTime) -> Instant {
    let left = deadline
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    Instant::now() + left
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use base64::Engine;
    use serde_json::json;

    use super::*;
    use crate::config::Purpose;

    fn forwarder(settings: &[(&str, &str)]) -> Forwarder {
        let map: std::collections::HashMap<&str, &str> = settings.iter().copied().collect();
        let config =
            Config::from_lookup(|name| map.get(name).map(|v| v.to_string()), Purpose::DryRun).unwrap();
        let builder = DocumentBuilder::new(config.documents.clone(), config.region.clone());
        Forwarder {
            config,
            builder,
            delivery: None,
            metrics: None,
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
                control.work.len()
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
            (data.summary.events, data.summary.skipped, data.work.len()),
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
        assert!(prepared.kinesis);
        assert_eq!(prepared.units.len(), 2);
        assert!(prepared.units[0].is_none(), "the documented record is plain text");
        assert_eq!(prepared.work[0].stage, Stage::DeadLetter);
        assert_eq!(prepared.work[0].doc.index, "cwl-dead-letter");
        assert_eq!(prepared.work.iter().filter(|w| w.unit == 1).count(), 2);
        assert_eq!(prepared.summary.events, 3);
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
        assert_eq!(err.error_type(), "MalformedInput");
    }

    #[test]
    fn the_dry_run_writes_one_action_and_one_source_per_document() {
        let forwarder = forwarder(&[]);
        let prepared = forwarder
            .prepare(awslogs(&batch("DATA_MESSAGE", &["one", "two"])), "t")
            .unwrap();
        let mut out = Vec::new();
        write_dry_run(&prepared, &mut out).unwrap();
        let lines: Vec<Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0]["create"]["_id"], "e0");
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
        assert!(matches!(err, HandlerError::NoSink));
    }
}

//! The forwarder's pipeline, built once per process: decoded batches ([`crate::source`]) become
//! documents ([`crate::document`]), which are delivered to OpenSearch ([`crate::opensearch`]);
//! what comes back is an outcome per acknowledgement. The edges ([`crate::handler`] for Lambda,
//! [`crate::replay`] for the CLI) turn that into their answer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::document::{Document, DocumentBuilder, JsonMode, mapping};
use crate::opensearch::auth::Signer;
use crate::opensearch::bulk;
use crate::opensearch::deliver::{Delivered, Delivery};
use crate::opensearch::setup::ClusterSetup;
use crate::opensearch::sink::Sink;
use crate::source::{Decoded, Reply};
use crate::summary::Summary;

/// The documents of one event, ready to deliver.
#[derive(Debug)]
pub struct Prepared {
    pub reply: Reply,
    pub docs: Vec<Document>,
    /// `batches`, `events` and `skipped`.
    pub summary: Summary,
}

/// Why a pipeline cannot deliver.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("no OPENSEARCH_ENDPOINT: this forwarder can only prepare documents (dry run)")]
pub struct NoSink;

/// The document builder and, unless this is a dry run, the delivery and the cluster setup.
#[derive(Debug)]
pub struct Pipeline {
    builder: DocumentBuilder,
    delivery: Option<(Delivery, ClusterSetup)>,
}

impl Pipeline {
    /// The pipeline of `config`; `signer` authenticates requests when an endpoint is set.
    pub fn new(config: &Config, signer: Option<Signer>) -> Pipeline {
        let builder = DocumentBuilder::new(config.documents.clone(), config.region.clone());
        let delivery = match (&config.sink, signer) {
            (Some(sink), Some(signer)) => {
                let json_field = match &config.documents.json {
                    JsonMode::Field(field) => field.as_str(),
                    JsonMode::Root | JsonMode::Off => crate::document::DEFAULT_JSON_FIELD,
                };
                let prefix = config.documents.index.prefix();
                let template = mapping::index_template_with_json_field(prefix, json_field);
                Some((
                    Delivery {
                        sink: Arc::new(Sink::new(sink.endpoint.clone(), signer, sink.gzip)),
                        max_bytes: config.bulk_max_bytes,
                        concurrency: sink.concurrency,
                        retry: config.retry,
                    },
                    ClusterSetup::new(prefix, &template, sink.retention_days),
                ))
            }
            _ => None,
        };
        Pipeline { builder, delivery }
    }

    pub fn builder(&self) -> &DocumentBuilder {
        &self.builder
    }

    /// Builds the documents of every batch, and a dead-letter document for each input that could
    /// not be decoded.
    pub fn prepare(&self, decoded: Decoded) -> Prepared {
        let mut prepared = Prepared {
            reply: decoded.reply,
            docs: Vec::new(),
            summary: Summary::default(),
        };
        for input in &decoded.unreadable {
            prepared.summary.events += 1;
            prepared.docs.push(self.builder.unreadable(input));
        }
        for batch in decoded.batches {
            let summary = &mut prepared.summary;
            summary.batches += 1;
            summary.events += batch.data.log_events.len() as u64;
            if batch.data.is_control() {
                summary.skipped += batch.data.log_events.len() as u64;
                continue;
            }
            let documents = self.builder.documents(&Arc::new(batch));
            summary.skipped += documents.skipped as u64;
            prepared.docs.extend(documents.docs);
        }
        prepared
    }

    /// Delivers prepared documents before `deadline`, after installing the cluster setup once.
    /// What comes back counts the whole event: the delivery's outcomes and the prepared
    /// `batches`, `events` and `skipped`.
    pub async fn deliver(&self, prepared: Prepared, deadline: Instant) -> Result<Delivered, NoSink> {
        let (delivery, setup) = self.delivery.as_ref().ok_or(NoSink)?;
        // Setup may take a tenth of the time left per request (at most 10 s), so that with its
        // three requests the documents keep most of the invocation.
        let remaining = deadline.saturating_duration_since(Instant::now());
        let setup_timeout = (remaining / 10).clamp(Duration::from_millis(100), Duration::from_secs(10));
        setup.ensure(&delivery.sink, setup_timeout).await;
        let mut delivered = delivery.deliver(&self.builder, prepared.docs, deadline).await;
        delivered.summary.add(&prepared.summary);
        Ok(delivered)
    }
}

/// Writes the `_bulk` NDJSON of prepared documents (the dry run's output).
pub fn write_dry_run(prepared: &Prepared, out: &mut (impl std::io::Write + ?Sized)) -> std::io::Result<()> {
    bulk::write_ndjson(&prepared.docs, out)
}

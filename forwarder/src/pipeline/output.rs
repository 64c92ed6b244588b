//! Where a run's documents go: the one stage that differs between delivering (the Lambda
//! function, `replay`) and previewing (`replay --dry-run`). Everything before it (decoding,
//! tagging, reading objects, building documents) is the same run.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::document::{Document, JsonMode, Rebuild, mapping};
use crate::opensearch::SinkConfig;
use crate::opensearch::auth::Signer;
use crate::opensearch::bulk;
use crate::opensearch::deliver::{Delivered, Delivery};
use crate::opensearch::setup::{ClusterSetup, Lifecycle};
use crate::opensearch::sink::Sink;

/// Requests' worth of object documents gathered before a delivery: two keeps two requests in
/// flight while memory stays near four times `BULK_MAX_BYTES` (the documents, their request
/// bodies, and the records they are made of), whatever the object's size.
const REQUESTS_PER_FLUSH: usize = 2;

/// The output stage of a run.
pub enum Output<'a> {
    /// `_bulk` requests to the cluster, retried, fallen back and dead-lettered as needed.
    OpenSearch(&'a OpenSearch),
    /// The `_bulk` NDJSON that would be sent, written and not sent (the dry run): it connects to
    /// nothing, whatever endpoint the settings name.
    Ndjson(&'a mut dyn Write),
}

/// Why an output stage could not take documents.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The dry run's NDJSON could not be written.
    #[error("writing the bulk NDJSON: {0}")]
    Write(std::io::Error),
}

impl Output<'_> {
    /// Sends `docs` (or writes them) before `deadline`; `rebuild` makes a rejected document's
    /// fallback or dead-letter form.
    pub async fn send(
        &mut self,
        rebuild: &dyn Rebuild,
        docs: Vec<Document>,
        deadline: Instant,
    ) -> Result<Delivered, OutputError> {
        match self {
            Output::OpenSearch(opensearch) => Ok(opensearch.deliver(rebuild, docs, deadline).await),
            Output::Ndjson(out) => {
                bulk::write_ndjson(&docs, &mut **out).map_err(OutputError::Write)?;
                Ok(Delivered::default())
            }
        }
    }

    /// How many bytes of object documents to gather before [`Output::send`]: enough for a few
    /// requests in flight when delivering; every chunk at once when writing.
    pub(crate) fn flush_bytes(&self) -> usize {
        match self {
            Output::OpenSearch(opensearch) => {
                let delivery = &opensearch.delivery;
                delivery
                    .max_bytes
                    .saturating_mul(delivery.concurrency.min(REQUESTS_PER_FLUSH))
            }
            Output::Ndjson(_) => 0,
        }
    }

    /// How many runs may share this output at once: `BULK_CONCURRENCY` for the cluster, one for
    /// the dry run, whose NDJSON must come out in order.
    pub fn concurrency(&self) -> usize {
        match self {
            Output::OpenSearch(opensearch) => opensearch.delivery.concurrency,
            Output::Ndjson(_) => 1,
        }
    }

    /// When reading objects stops, given that the longest delivery of the run so far took
    /// `longest_send`: early enough that a delivery started then still ends before retries stop
    /// (`DEADLINE_MARGIN_MS` before `deadline`), allowing the longer of that margin and twice
    /// that delivery (a cluster under load slows down as it goes), and that a continuation is
    /// sent after it; never for the dry run, which previews every object however long it takes.
    pub(crate) fn stop_reading(&self, deadline: Instant, longest_send: Duration) -> Option<Instant> {
        match self {
            Output::OpenSearch(opensearch) => {
                let margin = opensearch.delivery.retry.deadline_margin;
                Some(
                    deadline
                        .checked_sub(margin + margin.max(longest_send * 2))
                        .unwrap_or_else(Instant::now),
                )
            }
            Output::Ndjson(_) => None,
        }
    }

    /// Finishes the output: what was written reaches its file.
    pub fn flush(&mut self) -> Result<(), OutputError> {
        match self {
            Output::OpenSearch(_) => Ok(()),
            Output::Ndjson(out) => out.flush().map_err(OutputError::Write),
        }
    }
}

/// The cluster: how documents are delivered, and the index templates and retention policy
/// installed once, before the first delivery of the process.
#[derive(Debug)]
pub struct OpenSearch {
    delivery: Delivery,
    setup: ClusterSetup,
}

impl OpenSearch {
    /// The delivery and cluster setup of `config`, whose endpoint is `sink`, authenticated by
    /// `signer`.
    pub fn new(config: &Config, sink: &SinkConfig, signer: Signer, dead_letter_index: &str) -> OpenSearch {
        let json_field = match &config.documents.json {
            JsonMode::Field(field) => field.as_str(),
            JsonMode::Root | JsonMode::Off => crate::document::DEFAULT_JSON_FIELD,
        };
        let naming = &config.documents.index;
        let routed = naming.prefixes().into_iter().map(|prefix| {
            (
                prefix,
                mapping::index_template_with_json_field(prefix, json_field),
            )
        });
        let objects = config
            .documents
            .objects
            .by_prefix()
            .into_iter()
            .map(|(prefix, formats)| {
                (
                    prefix,
                    mapping::index_template_for_formats(prefix, json_field, &formats),
                )
            });
        let templates = routed.chain(objects).collect::<Vec<_>>();
        let lifecycle = Lifecycle {
            mode: naming.mode(),
            granularity: naming.granularity(),
            retention_days: sink.retention_days,
        };
        OpenSearch {
            delivery: Delivery {
                sink: Arc::new(Sink::new(sink.endpoint.clone(), signer, sink.gzip)),
                max_bytes: config.bulk_max_bytes,
                concurrency: sink.concurrency,
                retry: config.retry,
            },
            setup: ClusterSetup::new(&templates, dead_letter_index, lifecycle),
        }
    }

    /// Delivers `docs` before `deadline`, after installing the cluster setup once.
    async fn deliver(&self, rebuild: &dyn Rebuild, docs: Vec<Document>, deadline: Instant) -> Delivered {
        // Setup may take a tenth of the time left per request (at most 10 s), so that with its
        // three requests the documents keep most of the invocation.
        let remaining = deadline.saturating_duration_since(Instant::now());
        let setup_timeout = (remaining / 10).clamp(Duration::from_millis(100), Duration::from_secs(10));
        self.setup.ensure(&self.delivery.sink, setup_timeout).await;
        self.delivery.deliver(rebuild, docs, deadline).await
    }
}

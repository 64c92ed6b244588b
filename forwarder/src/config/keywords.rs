//! The keyword settings, each declared once as a [`clap::ValueEnum`]: its names are what
//! `--help` lists, what [`choice`](sluice_edge::settings::choice) accepts and what its error
//! names; its doc comments are the help of each name; `#[default]` is what unset means. Each
//! turns into the pipeline's own type.

use clap::ValueEnum;

use crate::document::index;
use crate::document::{self as documents};
use crate::opensearch::auth::SigningService;

/// `INDEX_GRANULARITY`: how much time one dated index holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Granularity {
    /// One index an hour, `cwl-2026.11.22.13`.
    Hour,
    /// One index a day, `cwl-2026.11.22`, the AWS blueprint's naming.
    #[default]
    Day,
    /// One index a month, `cwl-2026.11`.
    Month,
}

impl From<Granularity> for index::Granularity {
    fn from(keyword: Granularity) -> Self {
        match keyword {
            Granularity::Hour => index::Granularity::Hour,
            Granularity::Day => index::Granularity::Day,
            Granularity::Month => index::Granularity::Month,
        }
    }
}

/// `INDEX_MODE`: dated indices or data streams.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum IndexMode {
    /// Dated indices, `<prefix>-2026.11.22`.
    #[default]
    Index,
    /// One data stream per prefix, named by the prefix and rolled over by ISM.
    DataStream,
}

impl From<IndexMode> for index::IndexMode {
    fn from(keyword: IndexMode) -> Self {
        match keyword {
            IndexMode::Index => index::IndexMode::Index,
            IndexMode::DataStream => index::IndexMode::DataStream,
        }
    }
}

/// `DOCUMENT_ID`: what a document's `_id` is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum DocumentId {
    /// The CloudWatch event id: a replayed event is never indexed twice.
    #[default]
    Event,
    /// No `_id`, for OpenSearch Serverless time-series collections.
    None,
}

impl From<DocumentId> for documents::IdMode {
    fn from(keyword: DocumentId) -> Self {
        match keyword {
            DocumentId::Event => documents::IdMode::Event,
            DocumentId::None => documents::IdMode::None,
        }
    }
}

/// `DOCUMENT_FORMAT`: the shape of the documents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum DocumentFormat {
    /// Sluice's fields: `@timestamp`, `message`, `log_group`, … and parsed fields.
    #[default]
    Sluice,
    /// The AWS "LogsToElasticsearch" blueprint's shape (`@message`, `@log_group`, …).
    Blueprint,
}

impl From<DocumentFormat> for documents::DocumentFormat {
    fn from(keyword: DocumentFormat) -> Self {
        match keyword {
            DocumentFormat::Sluice => documents::DocumentFormat::Sluice,
            DocumentFormat::Blueprint => documents::DocumentFormat::Blueprint,
        }
    }
}

/// `JSON_MODE`: where a JSON message's fields go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum JsonMode {
    /// Under one field, `JSON_FIELD`.
    #[default]
    Field,
    /// Merged at the root; Sluice's own fields win.
    Root,
    /// Not parsed.
    Off,
}

impl JsonMode {
    /// The pipeline's mode, `field` naming the field of [`JsonMode::Field`].
    pub(crate) fn with_field(self, field: String) -> documents::JsonMode {
        match self {
            JsonMode::Field => documents::JsonMode::Field(field),
            JsonMode::Root => documents::JsonMode::Root,
            JsonMode::Off => documents::JsonMode::Off,
        }
    }
}

/// `MULTILINE`: whether a stack trace's events make one document.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Multiline {
    /// Trace lines are merged into the document of the event that began the trace.
    #[default]
    Auto,
    /// One document per event.
    Off,
}

impl From<Multiline> for documents::Multiline {
    fn from(keyword: Multiline) -> Self {
        match keyword {
            Multiline::Auto => documents::Multiline::Auto,
            Multiline::Off => documents::Multiline::Off,
        }
    }
}

/// `OPENSEARCH_AUTH`: how requests to OpenSearch are authenticated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum Auth {
    /// AWS Signature V4 with the function's credentials.
    #[default]
    Sigv4,
    /// HTTP basic auth, the credentials from OPENSEARCH_SECRET_ID or OPENSEARCH_SSM_PARAMETER.
    Basic,
    /// No authentication (a local or proxied cluster).
    None,
}

/// `OPENSEARCH_SERVICE`: the service SigV4 signs for; unset, it follows the endpoint's host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Service {
    /// Amazon OpenSearch Service.
    Es,
    /// OpenSearch Serverless.
    Aoss,
}

impl From<Service> for SigningService {
    fn from(keyword: Service) -> Self {
        match keyword {
            Service::Es => SigningService::Es,
            Service::Aoss => SigningService::Aoss,
        }
    }
}

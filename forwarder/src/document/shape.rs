//! The shape of a log event's document: Sluice's ([`super::sluice`]) or the AWS blueprint's
//! ([`super::blueprint`]). [`super::DocumentBuilder`] chooses one from `DOCUMENT_FORMAT` once
//! and asks it for what only the shape knows; filtering, merging, redaction, indices and `_id`s
//! stay with the builder.

use std::fmt::Debug;

use super::parse::Parsed;
use super::window::Placed;
use crate::source::{Batch, LogEvent, LogsData};

/// What the builder has made of one document's events before its shape writes it.
pub(super) struct Written<'a> {
    pub data: &'a LogsData,
    /// The event the document is of: the first of a merged run.
    pub event: &'a LogEvent,
    /// What the shape wrote once for the batch ([`EventShape::header`]).
    pub header: &'a str,
    /// The (redacted) message: one event's, or a merged run's joined by `\n`.
    pub message: &'a str,
    /// How many events the message holds.
    pub lines: usize,
    /// The time the document is stamped with: the event's own, or its read time when the
    /// event's lies outside the window.
    pub time: Placed,
}

/// One shape of log-event documents.
pub(super) trait EventShape: Debug + Send + Sync {
    /// What every document of `batch` shares, written once per batch.
    fn header(&self, batch: &Batch) -> String;

    /// What comes before the event id in the batch's `_id`s.
    fn id_scope(&self, data: &LogsData) -> String;

    /// The document of `written.event`; `parsed` is `None` for a fallback
    /// document.
    fn source(&self, written: &Written<'_>, parsed: Option<&Parsed<'_>>) -> String;
}

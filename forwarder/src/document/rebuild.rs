//! What delivery needs of the documents stage: the other forms of a document the cluster
//! rejected. Delivery ([`crate::opensearch`]) takes a [`Rebuild`], not the whole builder.

use super::{Document, DocumentBuilder};

/// Rebuilds a rejected document as its fallback form (after a mapping conflict) or its
/// dead-letter form (after any other rejection, or a rejected fallback).
pub trait Rebuild: Sync {
    /// The document with its parsed fields dropped and its raw message kept; `None` for a
    /// document that has no such form (it then goes to the dead-letter index).
    fn fallback(&self, doc: &Document) -> Option<Document>;

    /// The document for the dead-letter index, saying `reason`; `None` for a document that has
    /// no such form (it then fails).
    fn dead_letter(&self, doc: &Document, reason: &str) -> Option<Document>;
}

impl Rebuild for DocumentBuilder {
    fn fallback(&self, doc: &Document) -> Option<Document> {
        DocumentBuilder::fallback(self, doc)
    }

    fn dead_letter(&self, doc: &Document, reason: &str) -> Option<Document> {
        DocumentBuilder::dead_letter(self, doc, reason)
    }
}

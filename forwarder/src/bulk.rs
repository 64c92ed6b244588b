//! The `_bulk` request body: NDJSON `create` actions, split under a size limit.
//!
//! Format: <https://opensearch.org/docs/latest/api-reference/document-apis/bulk/>. `create`
//! (not `index`) so a document that already exists answers 409 and is never rewritten: a
//! replayed batch is counted as duplicates.

use std::io::{self, Write};

use crate::document::Document;
use crate::document::write::push_str;

/// One `_bulk` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkRequest {
    /// NDJSON, each line ending in `\n` (the last one too, as `_bulk` requires).
    pub body: Vec<u8>,
    /// Positions in the encoded `docs`, in the order of the body's actions (and so of the
    /// response's `items`).
    pub items: Vec<usize>,
}

/// The action line of a document, without its newline.
fn action(doc: &Document, out: &mut String) {
    out.push_str("{\"create\":{\"_index\":");
    push_str(out, &doc.index);
    if let Some(id) = &doc.id {
        out.push_str(",\"_id\":");
        push_str(out, id);
    }
    out.push_str("}}");
}

/// Splits `docs` into requests whose bodies stay under `max_bytes`; a document larger than
/// that on its own goes alone in its own request.
pub fn encode(docs: &[Document], max_bytes: usize) -> Vec<BulkRequest> {
    let mut requests = Vec::new();
    let mut current = BulkRequest {
        body: Vec::new(),
        items: Vec::new(),
    };
    let mut line = String::with_capacity(256);
    for (position, doc) in docs.iter().enumerate() {
        line.clear();
        action(doc, &mut line);
        let entry = line.len() + 1 + doc.source.len() + 1;
        if !current.items.is_empty() && current.body.len() + entry > max_bytes {
            requests.push(std::mem::replace(
                &mut current,
                BulkRequest {
                    body: Vec::new(),
                    items: Vec::new(),
                },
            ));
        }
        if current.body.is_empty() {
            current.body.reserve(max_bytes.min(entry.max(64 * 1024)));
        }
        current.body.extend_from_slice(line.as_bytes());
        current.body.push(b'\n');
        current.body.extend_from_slice(doc.source.as_bytes());
        current.body.push(b'\n');
        current.items.push(position);
    }
    if !current.items.is_empty() {
        requests.push(current);
    }
    requests
}

/// Writes the `_bulk` NDJSON of `docs` (what `replay --dry-run` prints); `docs` may be a
/// `&[Document]` or any iterator of `&Document`.
pub fn write_ndjson<'a, W: Write>(
    docs: impl IntoIterator<Item = &'a Document>,
    mut out: W,
) -> io::Result<()> {
    let mut line = String::with_capacity(256);
    for doc in docs {
        line.clear();
        action(doc, &mut line);
        line.push('\n');
        out.write_all(line.as_bytes())?;
        out.write_all(doc.source.as_bytes())?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(index: &str, id: Option<&str>, source: &str) -> Document {
        Document {
            index: index.to_owned(),
            id: id.map(str::to_owned),
            source: source.to_owned(),
            event: 0,
        }
    }

    #[test]
    fn create_actions_with_and_without_id() {
        let docs = [
            doc("cwl-2026.11.22", Some("3195"), r#"{"message":"a"}"#),
            doc("cwl-2026.11.22", None, "{}"),
        ];
        let requests = encode(&docs, 5 * 1024 * 1024);
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].items, [0, 1]);
        assert_eq!(
            String::from_utf8(requests[0].body.clone()).expect("utf-8"),
            "{\"create\":{\"_index\":\"cwl-2026.11.22\",\"_id\":\"3195\"}}\n{\"message\":\"a\"}\n\
             {\"create\":{\"_index\":\"cwl-2026.11.22\"}}\n{}\n"
        );
        let mut written = Vec::new();
        write_ndjson(&docs, &mut written).expect("writes to a Vec");
        assert_eq!(written, requests[0].body);
    }

    #[test]
    fn requests_split_under_the_limit_and_big_documents_go_alone() {
        let small = doc("i", Some("1"), &format!("{{\"m\":\"{}\"}}", "x".repeat(50)));
        let big = doc("i", Some("2"), &format!("{{\"m\":\"{}\"}}", "y".repeat(500)));
        let docs = [small.clone(), small.clone(), big, small.clone(), small];
        let requests = encode(&docs, 200);
        let items: Vec<_> = requests.iter().map(|r| r.items.clone()).collect();
        assert_eq!(items, [vec![0, 1], vec![2], vec![3, 4]]);
        for request in &requests {
            assert!(request.body.len() <= 200 || request.items.len() == 1);
            assert!(request.body.ends_with(b"\n"));
        }
        assert!(encode(&[], 200).is_empty());
    }
}

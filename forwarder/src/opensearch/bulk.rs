//! The one `_bulk` encoder: NDJSON `create` actions, each followed by its source line. It writes
//! into a byte buffer and requests are cut on the bytes actually written, so a request never
//! exceeds its limit by a guess.
//!
//! Format: <https://opensearch.org/docs/latest/api-reference/document-apis/bulk/>. `create`
//! (not `index`) so a document that already exists answers 409 and is never rewritten: a
//! replayed batch is counted as duplicates. It is also the one action a data stream accepts
//! (<https://opensearch.org/docs/latest/im-plugin/data-streams/>), `_id` included, so
//! `INDEX_MODE=data-stream` needs nothing else here: the document's index is the stream's name.

use std::collections::VecDeque;
use std::io::{self, Write};

use crate::document::Document;
use crate::json::push_json_str_bytes;

/// One `_bulk` request: its body and its documents, in the order of the body's actions (and so
/// of the response's `items`).
#[derive(Debug)]
pub struct Request {
    /// NDJSON, each line ending in `\n` (the last one too, as `_bulk` requires).
    pub body: Vec<u8>,
    pub docs: Vec<Document>,
}

/// Appends the action line and the source line of `doc` to `body`.
pub fn encode(doc: &Document, body: &mut Vec<u8>) {
    encode_action(doc, body);
    body.extend_from_slice(doc.source.as_bytes());
    body.push(b'\n');
}

/// Appends the action line of `doc` (`{"create":{"_index":…,"_id":…}}` and its newline).
fn encode_action(doc: &Document, body: &mut Vec<u8>) {
    body.extend_from_slice(b"{\"create\":{\"_index\":");
    push_json_str_bytes(body, &doc.index);
    if let Some(id) = &doc.id {
        body.extend_from_slice(b",\"_id\":");
        push_json_str_bytes(body, id);
    }
    body.extend_from_slice(b"}}\n");
}

/// Takes documents from the front of `queue` into one request whose body is at most `max_bytes`;
/// a document larger than that on its own goes alone. `None` when the queue is empty.
/// The bytes of a `create` action line and the source's newline, beyond the index and id:
/// `{"create":{"_index":"","_id":""}}\n` and `\n`, with room for escapes.
const ACTION_BYTES: usize = 48;

pub(crate) fn next_request(queue: &mut VecDeque<Document>, max_bytes: usize) -> Option<Request> {
    // The body's size, known before writing it: a body grown by doubling would hold up to twice
    // `max_bytes` while it is sent.
    let mut estimate = 0;
    let mut count = 0;
    for doc in queue.iter() {
        let size = doc.source.len() + doc.index.len() + doc.id.as_ref().map_or(0, String::len) + ACTION_BYTES;
        if estimate + size > max_bytes && count > 0 {
            break;
        }
        estimate += size;
        count += 1;
    }
    let mut request = Request {
        body: Vec::with_capacity(estimate),
        docs: Vec::with_capacity(count),
    };
    while let Some(doc) = queue.pop_front() {
        let before = request.body.len();
        encode(&doc, &mut request.body);
        if request.body.len() > max_bytes && !request.docs.is_empty() {
            request.body.truncate(before);
            queue.push_front(doc);
            break;
        }
        request.docs.push(doc);
    }
    (!request.docs.is_empty()).then_some(request)
}

/// Writes the `_bulk` NDJSON of `docs` (what `replay --dry-run` prints): the bytes [`encode`]
/// writes, with each source written straight to `out` rather than copied into a body first.
pub fn write_ndjson<'a>(docs: impl IntoIterator<Item = &'a Document>, mut out: impl Write) -> io::Result<()> {
    let mut action = Vec::with_capacity(256);
    for doc in docs {
        action.clear();
        encode_action(doc, &mut action);
        out.write_all(&action)?;
        out.write_all(doc.source.as_bytes())?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{Origin, Stage};
    use crate::source::Ack;

    fn doc(index: &str, id: Option<&str>, source: &str) -> Document {
        Document {
            index: index.to_owned(),
            id: id.map(str::to_owned),
            source: source.to_owned(),
            stage: Stage::Primary,
            origin: Origin::Unreadable { ack: Ack::Invocation },
        }
    }

    fn requests(docs: &[Document], max_bytes: usize) -> Vec<Request> {
        let mut queue: VecDeque<Document> = docs.iter().cloned().collect();
        std::iter::from_fn(|| next_request(&mut queue, max_bytes)).collect()
    }

    fn ids(request: &Request) -> Vec<&str> {
        request.docs.iter().filter_map(|d| d.id.as_deref()).collect()
    }

    #[test]
    fn create_actions_with_and_without_id() {
        let docs = [
            doc("cwl-2026.11.22", Some("3195"), r#"{"message":"a"}"#),
            doc("cwl-2026.11.22", None, "{}"),
        ];
        let requests = requests(&docs, 5 * 1024 * 1024);
        assert_eq!(requests.len(), 1);
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
    fn data_stream_documents_are_created_in_the_stream_with_their_id() {
        use crate::document::index::{IndexMode, IndexNaming};
        let naming = IndexNaming::default().with_mode(IndexMode::DataStream);
        let stream = naming.index_for("/aws/lambda/x", 1_795_355_100_123);
        let mut body = Vec::new();
        encode(&doc(&stream, Some("3195"), "{}"), &mut body);
        assert_eq!(
            String::from_utf8(body).expect("utf-8"),
            "{\"create\":{\"_index\":\"cwl\",\"_id\":\"3195\"}}\n{}\n"
        );
    }

    #[test]
    fn ids_with_quotes_are_escaped() {
        let mut body = Vec::new();
        encode(&doc("i", Some("a\"b"), "{}"), &mut body);
        let action: serde_json::Value =
            serde_json::from_slice(body.split(|b| *b == b'\n').next().unwrap()).unwrap();
        assert_eq!(action["create"]["_id"], "a\"b");
    }

    #[test]
    fn requests_are_cut_on_the_bytes_written_and_big_documents_go_alone() {
        let small = |id: &str| doc("i", Some(id), &format!("{{\"m\":\"{}\"}}", "x".repeat(50)));
        let big = doc("i", Some("2"), &format!("{{\"m\":\"{}\"}}", "y".repeat(500)));
        let docs = [small("0"), small("1"), big, small("3"), small("4")];
        // One small entry is 36 bytes of action and 59 of source: two fit in 200, three do not.
        let mut one = Vec::new();
        encode(&docs[0], &mut one);
        assert_eq!(one.len(), 95);
        let requests = requests(&docs, 200);
        let split: Vec<Vec<&str>> = requests.iter().map(ids).collect();
        assert_eq!(split, [vec!["0", "1"], vec!["2"], vec!["3", "4"]]);
        for request in &requests {
            assert!(request.body.len() <= 200 || request.docs.len() == 1);
            assert!(request.body.ends_with(b"\n"));
        }
        // A limit of exactly two entries keeps two together; one byte less does not.
        assert_eq!(ids(&self::requests(&docs[..2], 190)[0]), ["0", "1"]);
        assert_eq!(self::requests(&docs[..2], 189).len(), 2);
        assert!(self::requests(&[], 200).is_empty());
    }
}

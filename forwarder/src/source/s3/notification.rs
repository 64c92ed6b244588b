//! The messages that say an object was created, in the shapes they reach the forwarder:
//!
//! - an S3 event notification `{"Records":[{"eventSource":"aws:s3",…}]}`, whose keys are
//!   URL-encoded (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html>);
//! - S3's `s3:TestEvent`, sent when a notification configuration is saved: nothing to read;
//! - the same notification wrapped by SNS, as the string `Message` of an SNS envelope
//!   (<https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html>);
//! - an EventBridge "Object Created" event, whose keys are not encoded
//!   (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html>);
//! - Sluice's own continuation of an object an earlier invocation did not finish
//!   ([`super::continuation`]).
//!
//! Each of these arrives in the body of an SQS message, or as the Lambda event itself.

use serde_json::Value;

use super::continuation::Continuation;
use super::decode_key;

/// What one notification names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Notice {
    /// Objects created: `(bucket, decoded key)`, in order.
    Objects(Vec<(String, String)>),
    /// The rest of an object, after the records an earlier invocation did.
    Continue(Continuation),
    /// Nothing to read: a test event, or an event that is not an object creation (a deletion).
    Nothing(&'static str),
}

/// Why a message is not a notification the forwarder understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotANotification(pub String);

/// Reads one notification.
pub(crate) fn notice(value: &Value) -> Result<Notice, NotANotification> {
    notice_nested(value, 0)
}

fn notice_nested(value: &Value, depth: u8) -> Result<Notice, NotANotification> {
    let field = |name: &str| value.get(name).and_then(Value::as_str);
    if let Some(continuation) = Continuation::of_message(value) {
        return continuation.map(Notice::Continue).map_err(NotANotification);
    }
    if let Some(records) = value.get("Records").and_then(Value::as_array) {
        return s3_records(records);
    }
    if field("Event") == Some("s3:TestEvent") {
        return Ok(Notice::Nothing("s3:TestEvent"));
    }
    if field("Type") == Some("Notification")
        && depth == 0
        && let Some(message) = field("Message")
    {
        let inner: Value = serde_json::from_str(message)
            .map_err(|err| NotANotification(format!("the SNS Message is not JSON: {err}")))?;
        return notice_nested(&inner, depth + 1);
    }
    if field("source") == Some("aws.s3") {
        return eventbridge(value);
    }
    let keys = match value {
        Value::Object(map) => map.keys().cloned().collect::<Vec<_>>().join(", "),
        _ => "none, it is not an object".to_string(),
    };
    Err(NotANotification(format!(
        "not an S3 event notification, SNS envelope or EventBridge S3 event (top-level keys: {keys})"
    )))
}

/// The text at `pointer` in `value`, if it is a string that is not empty (an empty bucket name or
/// key names no object: found by the `lambda_event` fuzz target).
fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|text| !text.is_empty())
}

fn s3_records(records: &[Value]) -> Result<Notice, NotANotification> {
    let mut objects = Vec::with_capacity(records.len());
    for (position, record) in records.iter().enumerate() {
        let text = |pointer: &str| text(record, pointer);
        if text("/eventSource") != Some("aws:s3") {
            return Err(NotANotification(format!(
                "Records[{position}] is not an S3 event (eventSource {:?})",
                text("/eventSource").unwrap_or("missing")
            )));
        }
        if !text("/eventName")
            .unwrap_or_default()
            .starts_with("ObjectCreated")
        {
            continue;
        }
        match (text("/s3/bucket/name"), text("/s3/object/key")) {
            (Some(bucket), Some(key)) => objects.push((bucket.to_string(), decode_key(key))),
            _ => {
                return Err(NotANotification(format!(
                    "Records[{position}] has no s3.bucket.name or s3.object.key (or an empty one)"
                )));
            }
        }
    }
    Ok(match objects.is_empty() {
        true => Notice::Nothing("no ObjectCreated record"),
        false => Notice::Objects(objects),
    })
}

fn eventbridge(value: &Value) -> Result<Notice, NotANotification> {
    if value.get("detail-type").and_then(Value::as_str) != Some("Object Created") {
        return Ok(Notice::Nothing(
            "an EventBridge S3 event other than Object Created",
        ));
    }
    let text = |pointer: &str| text(value, pointer);
    match (text("/detail/bucket/name"), text("/detail/object/key")) {
        (Some(bucket), Some(key)) => Ok(Notice::Objects(vec![(bucket.to_string(), key.to_string())])),
        _ => Err(NotANotification(
            "the EventBridge S3 event has no detail.bucket.name or detail.object.key (or an empty one)"
                .to_string(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const S3_EVENT: &str = include_str!("../../../../tests/fixtures/forwarder/s3-notification.json");
    const EVENTBRIDGE: &str =
        include_str!("../../../../tests/fixtures/forwarder/eventbridge-object-created.json");

    #[test]
    fn the_documented_notification_names_its_object_with_the_key_decoded() {
        let value: Value = serde_json::from_str(S3_EVENT).unwrap();
        assert_eq!(
            notice(&value).unwrap(),
            Notice::Objects(vec![(
                "amzn-s3-demo-bucket".to_string(),
                "logs/2026/11/29/red flower.log".to_string()
            )])
        );
    }

    #[test]
    fn sns_wraps_the_notification_as_a_string() {
        let envelope = json!({
            "Type": "Notification",
            "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
            "TopicArn": "arn:aws:sns:us-west-2:123456789012:logs",
            "Message": S3_EVENT,
        });
        assert!(matches!(notice(&envelope).unwrap(), Notice::Objects(objects) if objects.len() == 1));
    }

    #[test]
    fn eventbridge_keys_are_taken_as_they_are() {
        let value: Value = serde_json::from_str(EVENTBRIDGE).unwrap();
        assert_eq!(
            notice(&value).unwrap(),
            Notice::Objects(vec![(
                "amzn-s3-demo-bucket1".to_string(),
                "example-key+with plus".to_string()
            )])
        );
    }

    #[test]
    fn test_events_and_deletions_name_nothing() {
        let test = json!({"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-29T10:00:00.000Z",
            "Bucket":"b","RequestId":"r","HostId":"h"});
        assert_eq!(notice(&test).unwrap(), Notice::Nothing("s3:TestEvent"));
        let mut deleted: Value = serde_json::from_str(S3_EVENT).unwrap();
        deleted["Records"][0]["eventName"] = json!("ObjectRemoved:Delete");
        assert!(matches!(notice(&deleted).unwrap(), Notice::Nothing(_)));
    }

    #[test]
    fn anything_else_is_named() {
        let err = notice(&json!({"hello": 1})).unwrap_err();
        assert!(err.0.contains("hello"), "{err}");
        let kinesis = json!({"Records":[{"eventSource":"aws:kinesis"}]});
        assert!(notice(&kinesis).unwrap_err().0.contains("aws:kinesis"));
        let no_key = json!({"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"}}}]});
        assert!(notice(&no_key).unwrap_err().0.contains("s3.object.key"));
        // An empty bucket name or key names no object (found by the `lambda_event` fuzz target).
        let empty_bucket = json!({"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":""},"object":{"key":"k"}}}]});
        assert!(notice(&empty_bucket).unwrap_err().0.contains("or an empty one"));
        let empty_key = json!({"source":"aws.s3","detail-type":"Object Created","detail":{"bucket":{"name":"b"},"object":{"key":""}}});
        assert!(notice(&empty_key).unwrap_err().0.contains("or an empty one"));
    }
}

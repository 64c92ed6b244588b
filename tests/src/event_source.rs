//! Lambda's event source mapping for an SQS queue, in a loop a test can run: receive a batch,
//! invoke the [`Function`] with the SQS event made of it, delete the messages it finished.
//!
//! As Lambda does with `ReportBatchItemFailures` (<https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html>):
//! a response deletes every message but those its `batchItemFailures` name; an error, or a
//! response naming a message that is not in the batch, deletes none, and those messages come
//! back after the queue's visibility timeout. SQS event format:
//! <https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html>.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName, QueueAttributeName,
};
use serde_json::{Map, Value, json};

use crate::function::Function;
use crate::runtime_api::Answer;
use crate::{HarnessError, REGION};

/// One queue mapped to a function, and how the loop runs.
#[derive(Clone, Debug)]
pub struct SqsMapping {
    pub queue_url: String,
    pub queue_arn: String,
    /// Messages per invocation, 1 to 10 (one `ReceiveMessage`).
    pub batch_size: i32,
    /// Each invocation's deadline, from when it starts.
    pub deadline: Duration,
    /// The loop stops after this many invocations, the queue empty or not.
    pub max_invocations: usize,
    /// The loop stops when the queue has had nothing to receive this long (messages invisible
    /// after a failure, or delayed): a bound against a hung test, not an expectation.
    pub idle_limit: Duration,
}

/// What one invocation of the loop was given and answered.
#[derive(Clone, Debug)]
pub struct Invoked {
    /// The SQS event's records.
    pub records: Vec<Value>,
    pub answer: Answer,
    /// How many of the batch's messages were deleted.
    pub deleted: usize,
}

/// The invocations of a [`SqsMapping::run`], in order, and whether it left the queue empty.
#[derive(Clone, Debug)]
pub struct Drained {
    pub invocations: Vec<Invoked>,
    /// No message was left: none visible, in flight or delayed.
    pub emptied: bool,
}

impl Drained {
    /// Every answer, in order.
    pub fn answers(&self) -> Vec<&Answer> {
        self.invocations.iter().map(|invoked| &invoked.answer).collect()
    }
}

impl SqsMapping {
    /// The mapping of the queue `queue_url` (ARN `queue_arn`) with the stack's batch size, 10,
    /// a deadline of 60 s (the stack's `ForwarderTimeout`), at most 100 invocations, and an
    /// idle limit of 60 s.
    pub fn new(queue_url: &str, queue_arn: &str) -> SqsMapping {
        SqsMapping {
            queue_url: queue_url.to_string(),
            queue_arn: queue_arn.to_string(),
            batch_size: 10,
            deadline: Duration::from_secs(60),
            max_invocations: 100,
            idle_limit: Duration::from_secs(60),
        }
    }

    pub fn deadline(self, deadline: Duration) -> SqsMapping {
        SqsMapping { deadline, ..self }
    }

    pub fn max_invocations(self, max_invocations: usize) -> SqsMapping {
        SqsMapping {
            max_invocations,
            ..self
        }
    }

    pub fn batch_size(self, batch_size: i32) -> SqsMapping {
        SqsMapping { batch_size, ..self }
    }

    /// Feeds `function` the queue's messages until the queue is empty, `max_invocations` were
    /// made, or it stayed without a visible message for `idle_limit`.
    pub async fn run(&self, function: &Function, sqs: &aws_sdk_sqs::Client) -> Result<Drained, HarnessError> {
        let mut invocations = Vec::new();
        let mut idle_since = Instant::now();
        while invocations.len() < self.max_invocations {
            let messages = self.receive(sqs).await?;
            if messages.is_empty() {
                if self.is_empty(sqs).await? {
                    return Ok(Drained {
                        invocations,
                        emptied: true,
                    });
                }
                if idle_since.elapsed() > self.idle_limit {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            let records: Vec<Value> = messages
                .iter()
                .map(|message| sqs_event_record(message, &self.queue_arn))
                .collect();
            let answer = function
                .invoke(json!({ "Records": records }), self.deadline)
                .await;
            let finished = finished_messages(&records, &answer);
            self.delete(sqs, &messages, &finished).await?;
            invocations.push(Invoked {
                records,
                deleted: finished.len(),
                answer,
            });
            idle_since = Instant::now();
        }
        let emptied = self.is_empty(sqs).await?;
        Ok(Drained { invocations, emptied })
    }

    async fn receive(&self, sqs: &aws_sdk_sqs::Client) -> Result<Vec<Message>, HarnessError> {
        let answer = sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(self.batch_size)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|err| api(format!("ReceiveMessage {}: {err:?}", self.queue_url)))?;
        Ok(answer.messages.unwrap_or_default())
    }

    /// No message visible, in flight or delayed.
    async fn is_empty(&self, sqs: &aws_sdk_sqs::Client) -> Result<bool, HarnessError> {
        let counts = [
            QueueAttributeName::ApproximateNumberOfMessages,
            QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
            QueueAttributeName::ApproximateNumberOfMessagesDelayed,
        ];
        let answer = sqs
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .set_attribute_names(Some(counts.to_vec()))
            .send()
            .await
            .map_err(|err| api(format!("GetQueueAttributes {}: {err:?}", self.queue_url)))?;
        let attributes = answer.attributes.unwrap_or_default();
        Ok(counts
            .iter()
            .all(|name| attributes.get(name).is_none_or(|count| count == "0")))
    }

    async fn delete(
        &self,
        sqs: &aws_sdk_sqs::Client,
        messages: &[Message],
        finished: &[usize],
    ) -> Result<(), HarnessError> {
        if finished.is_empty() {
            return Ok(());
        }
        let entries = finished
            .iter()
            .map(|&i| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(messages[i].receipt_handle().unwrap_or_default())
                    .build()
                    .expect("an id and a receipt handle")
            })
            .collect();
        let answer = sqs
            .delete_message_batch()
            .queue_url(&self.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|err| api(format!("DeleteMessageBatch {}: {err:?}", self.queue_url)))?;
        match answer.failed.as_slice() {
            [] => Ok(()),
            failed => Err(api(format!("DeleteMessageBatch {}: {failed:?}", self.queue_url))),
        }
    }
}

/// The indexes of the records whose messages the answer finished: all but those named in
/// `batchItemFailures` (absent or null: none); none after an error, or when an item names no
/// message of the batch (Lambda then fails the whole batch).
pub fn finished_messages(records: &[Value], answer: &Answer) -> Vec<usize> {
    let Ok(response) = answer else {
        return Vec::new();
    };
    let ids: Vec<&str> = records
        .iter()
        .map(|record| record["messageId"].as_str().unwrap_or_default())
        .collect();
    let failures = match &response["batchItemFailures"] {
        Value::Null => Vec::new(),
        Value::Array(items) => items.iter().map(|item| item["itemIdentifier"].as_str()).collect(),
        _ => return Vec::new(),
    };
    let mut failed = Vec::new();
    for failure in failures {
        match failure.and_then(|id| ids.iter().position(|known| *known == id)) {
            Some(i) => failed.push(i),
            None => return Vec::new(),
        }
    }
    (0..records.len()).filter(|i| !failed.contains(i)).collect()
}

/// One record of the SQS event Lambda builds of `message` from the queue `queue_arn`
/// (<https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html>, "Example standard queue
/// message event"): the message's system attributes, and its message attributes with
/// `stringValue`, `binaryValue` (base64) and `dataType`.
pub fn sqs_event_record(message: &Message, queue_arn: &str) -> Value {
    let attributes: Map<String, Value> = message
        .attributes()
        .map(|attributes| {
            attributes
                .iter()
                .map(|(name, value)| (name.as_str().to_string(), Value::from(value.as_str())))
                .collect()
        })
        .unwrap_or_default();
    let message_attributes: Map<String, Value> = message
        .message_attributes()
        .unwrap_or(&HashMap::new())
        .iter()
        .map(|(name, value)| {
            let binary = value.binary_value().map(|blob| {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.encode(blob.as_ref())
            });
            let attribute = json!({
                "stringValue": value.string_value(),
                "binaryValue": binary,
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value.data_type(),
            });
            (name.clone(), attribute)
        })
        .collect();
    json!({
        "messageId": message.message_id(),
        "receiptHandle": message.receipt_handle(),
        "body": message.body(),
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.md5_of_body(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    })
}

fn api(what: String) -> HarnessError {
    HarnessError::Api {
        server: "moto_server",
        what,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(ids: &[&str]) -> Vec<Value> {
        ids.iter().map(|id| json!({"messageId": id})).collect()
    }

    #[test]
    fn a_response_finishes_every_message_but_its_failures_and_an_error_none() {
        let batch = records(&["a", "b", "c"]);
        let failures = |ids: Value| Ok(json!({"batchItemFailures": ids}));
        assert_eq!(finished_messages(&batch, &failures(json!([]))), [0, 1, 2]);
        assert_eq!(finished_messages(&batch, &Ok(json!(null))), [0, 1, 2]);
        assert_eq!(
            finished_messages(&batch, &failures(json!([{"itemIdentifier": "b"}]))),
            [0, 2]
        );
        let none: [usize; 0] = [];
        assert_eq!(finished_messages(&batch, &Err(json!({"errorType": "X"}))), none);
        assert_eq!(
            finished_messages(&batch, &failures(json!([{"itemIdentifier": "z"}]))),
            none,
            "an item that names no message of the batch fails the whole batch"
        );
        assert_eq!(
            finished_messages(&batch, &failures(json!([{"itemIdentifier": null}]))),
            none
        );
    }

    #[test]
    fn a_record_carries_the_message_its_queue_and_its_attributes() {
        let message = Message::builder()
            .message_id("059f36b4-87a3-44ab-83d2-661975830a7d")
            .receipt_handle("AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a")
            .body("Test message.")
            .md5_of_body("e4e68fb7bd0e697a0ae8f1bb342846b3")
            .attributes(MessageSystemAttributeName::ApproximateReceiveCount, "1")
            .attributes(MessageSystemAttributeName::SentTimestamp, "1545082649183")
            .build();
        let arn = "arn:aws:sqs:us-east-1:123456789012:my-queue";
        let record = sqs_event_record(&message, arn);
        assert_eq!(
            record,
            json!({
                "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
                "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
                "body": "Test message.",
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183"},
                "messageAttributes": {},
                "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": "us-east-1",
            })
        );
    }
}

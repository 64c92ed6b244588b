//! S3 and SQS in moto: the clients, a queue, and the SQS events Lambda would build from the
//! messages S3's notifications put on a queue.
//!
//! SQS event format: <https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html>.

use std::time::Duration;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_cloudwatchlogs::config::{BehaviorVersion, Region};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use serde_json::Value;
use sluice_forwarder::opensearch::auth::SdkConfig;

use crate::event_source::sqs_event_record;
use crate::{HarnessError, Moto, REGION};

impl Moto {
    /// The AWS SDK settings that point every client (and the forwarder's S3 reader) at this moto.
    pub fn sdk_config(&self) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(self.url())
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "testing",
                "testing",
                None,
                None,
                "sluice-tests",
            )))
            .build()
    }

    /// An S3 client for this moto, addressing buckets by path.
    pub fn s3_client(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.sdk_config())
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    pub fn sqs_client(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk_config())
    }

    /// Creates a queue; its URL and ARN.
    pub async fn create_queue(&self, name: &str) -> Result<(String, String), HarnessError> {
        let sqs = self.sqs_client();
        let api = |what: String| HarnessError::Api {
            server: "moto_server",
            what,
        };
        let created = sqs
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .map_err(|err| api(format!("CreateQueue {name}: {err:?}")))?;
        let url = created.queue_url.unwrap_or_default();
        let attributes = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|err| api(format!("GetQueueAttributes {name}: {err:?}")))?;
        let arn = attributes
            .attributes()
            .and_then(|attributes| attributes.get(&QueueAttributeName::QueueArn))
            .cloned()
            .ok_or_else(|| api(format!("queue {name} has no QueueArn")))?;
        Ok((url, arn))
    }

    /// Sets how long a received message stays hidden (`VisibilityTimeout`): a message a test's
    /// invocation failed comes back after `seconds`.
    pub async fn set_visibility_timeout(&self, url: &str, seconds: u32) -> Result<(), HarnessError> {
        self.sqs_client()
            .set_queue_attributes()
            .queue_url(url)
            .attributes(QueueAttributeName::VisibilityTimeout, seconds.to_string())
            .send()
            .await
            .map(|_| ())
            .map_err(|err| HarnessError::Api {
                server: "moto_server",
                what: format!("SetQueueAttributes {url}: {err:?}"),
            })
    }

    /// Creates `bucket`, with a notification of its new objects (`s3:ObjectCreated:*`) to the
    /// queue of ARN `queue_arn`; saving it queues an `s3:TestEvent`.
    pub async fn notifying_bucket(&self, bucket: &str, queue_arn: &str) -> Result<(), HarnessError> {
        use aws_sdk_s3::types::{Event, NotificationConfiguration, QueueConfiguration};
        let api = |what: String| HarnessError::Api {
            server: "moto_server",
            what,
        };
        let s3 = self.s3_client();
        s3.create_bucket()
            .bucket(bucket)
            .send()
            .await
            .map_err(|err| api(format!("CreateBucket {bucket}: {err:?}")))?;
        let created = QueueConfiguration::builder()
            .queue_arn(queue_arn)
            .events(Event::from("s3:ObjectCreated:*"))
            .build()
            .map_err(|err| api(format!("a queue configuration: {err:?}")))?;
        s3.put_bucket_notification_configuration()
            .bucket(bucket)
            .notification_configuration(
                NotificationConfiguration::builder()
                    .queue_configurations(created)
                    .build(),
            )
            .send()
            .await
            .map(|_| ())
            .map_err(|err| api(format!("PutBucketNotificationConfiguration {bucket}: {err:?}")))
    }

    /// Takes the messages on a queue (waiting until there are at least `at_least`) and returns
    /// them as the records of the SQS event Lambda would send the function.
    pub async fn sqs_records(
        &self,
        url: &str,
        arn: &str,
        at_least: usize,
    ) -> Result<Vec<Value>, HarnessError> {
        let sqs = self.sqs_client();
        let mut records = Vec::new();
        for _ in 0..50 {
            let answer = sqs
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .send()
                .await
                .map_err(|err| HarnessError::Api {
                    server: "moto_server",
                    what: format!("ReceiveMessage: {err:?}"),
                })?;
            let messages = answer.messages();
            records.extend(messages.iter().map(|message| sqs_event_record(message, arn)));
            if messages.is_empty() {
                if records.len() >= at_least {
                    return Ok(records);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Err(HarnessError::Api {
            server: "moto_server",
            what: format!("only {} of {at_least} messages reached {url}", records.len()),
        })
    }
}

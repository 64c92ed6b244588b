//! `sluice-forwarder s3-notify`: points a bucket's new objects at the forwarder's queue.
//!
//! CloudFormation cannot add a notification to a bucket it did not create, and S3's
//! `PutBucketNotificationConfiguration` replaces the whole configuration: this reads the bucket's
//! configuration, adds one queue configuration for `s3:ObjectCreated:*` (under a key prefix)
//! when the queue has none yet, and writes the whole back, keeping every other configuration.
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/ways-to-add-notification-config-to-bucket.html>

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::operation::get_bucket_notification_configuration::GetBucketNotificationConfigurationOutput;
use aws_sdk_s3::types::{
    Event, FilterRule, FilterRuleName, NotificationConfiguration, NotificationConfigurationFilter,
    QueueConfiguration, S3KeyFilter,
};
use serde_json::{Value, json};

/// The flags of `s3-notify`.
#[derive(Debug, Clone, clap::Args)]
pub struct NotifyArgs {
    /// The bucket whose new objects the forwarder reads.
    #[arg(long)]
    pub bucket: String,
    /// The forwarder's queue (the stack's S3QueueArn output).
    #[arg(long)]
    pub queue_arn: String,
    /// Only objects whose key starts with this.
    #[arg(long, default_value = "")]
    pub prefix: String,
    /// Print the configuration the bucket would get, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// What `s3-notify` did.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The bucket's notification configuration now (or, in a dry run, as it would be).
    pub configuration: Value,
    /// One sentence saying what changed.
    pub said: String,
}

/// Why the bucket's configuration could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("{action} of s3://{bucket} failed ({code}): {message}")]
pub struct NotifyError {
    action: &'static str,
    bucket: String,
    code: String,
    message: String,
}

/// The id of the queue configuration this adds.
pub const CONFIGURATION_ID: &str = "sluice-forwarder";

/// Adds the queue configuration unless the queue already has one.
pub async fn run(sdk: &aws_config::SdkConfig, args: &NotifyArgs) -> Result<Outcome, NotifyError> {
    let config = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(sdk.endpoint_url().is_some())
        .build();
    let client = aws_sdk_s3::Client::from_conf(config);
    let current = match client
        .get_bucket_notification_configuration()
        .bucket(&args.bucket)
        .send()
        .await
    {
        Ok(current) => current,
        Err(err) if answered_empty(&err) => GetBucketNotificationConfigurationOutput::builder().build(),
        Err(err) => {
            return Err(notify_error(
                "GetBucketNotificationConfiguration",
                &args.bucket,
                err,
            ));
        }
    };
    let mut queues = current.queue_configurations().to_vec();
    let present = queues.iter().any(|queue| queue.queue_arn() == args.queue_arn);
    if !present {
        queues.push(queue_configuration(args));
    }
    let wanted = NotificationConfiguration::builder()
        .set_queue_configurations(Some(queues))
        .set_topic_configurations(Some(current.topic_configurations().to_vec()))
        .set_lambda_function_configurations(Some(current.lambda_function_configurations().to_vec()))
        .set_event_bridge_configuration(current.event_bridge_configuration().cloned())
        .build();
    let configuration = describe(&wanted);
    let said = match (present, args.dry_run) {
        (true, _) => format!(
            "s3://{} already notifies {}: nothing to change",
            args.bucket, args.queue_arn
        ),
        (false, true) => format!(
            "dry run: s3://{} would notify {} of new objects",
            args.bucket, args.queue_arn
        ),
        (false, false) => {
            client
                .put_bucket_notification_configuration()
                .bucket(&args.bucket)
                .notification_configuration(wanted)
                .send()
                .await
                .map_err(|err| notify_error("PutBucketNotificationConfiguration", &args.bucket, err))?;
            format!(
                "s3://{} now notifies {} of new objects",
                args.bucket, args.queue_arn
            )
        }
    };
    Ok(Outcome { configuration, said })
}

/// Whether the answer was a 200 with an empty `<GetBucketNotificationResponse/>`, which some
/// S3-compatible servers (moto among them) send for a bucket without configuration where S3 sends
/// an empty `<NotificationConfiguration/>`.
fn answered_empty<E>(err: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> bool {
    let Some(response) = err.raw_response() else {
        return false;
    };
    let body = response
        .body()
        .bytes()
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    response.status().as_u16() == 200
        && body.contains("<GetBucketNotificationResponse")
        && body.trim_end().ends_with("/>")
        && !body.contains("Configuration>")
}

fn notify_error<E, R>(
    action: &'static str,
    bucket: &str,
    err: aws_sdk_s3::error::SdkError<E, R>,
) -> NotifyError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    NotifyError {
        action,
        bucket: bucket.to_string(),
        code: err.code().unwrap_or("unreachable").to_string(),
        message: sluice_edge::sdk_error::sdk_message(&err),
    }
}

fn queue_configuration(args: &NotifyArgs) -> QueueConfiguration {
    let mut queue = QueueConfiguration::builder()
        .id(CONFIGURATION_ID)
        .queue_arn(&args.queue_arn)
        .events(Event::from("s3:ObjectCreated:*"));
    if !args.prefix.is_empty() {
        queue = queue.filter(
            NotificationConfigurationFilter::builder()
                .key(
                    S3KeyFilter::builder()
                        .filter_rules(
                            FilterRule::builder()
                                .name(FilterRuleName::Prefix)
                                .value(&args.prefix)
                                .build(),
                        )
                        .build(),
                )
                .build(),
        );
    }
    queue.build().expect("the queue ARN and events are set")
}

/// The configuration as the S3 API's JSON spells it.
fn describe(configuration: &NotificationConfiguration) -> Value {
    let filter = |filter: Option<&NotificationConfigurationFilter>| -> Value {
        let rules: Vec<Value> = filter
            .and_then(|filter| filter.key())
            .map(|key| key.filter_rules())
            .unwrap_or_default()
            .iter()
            .map(|rule| json!({"Name": rule.name().map(|name| name.as_str()), "Value": rule.value()}))
            .collect();
        json!({"Key": {"FilterRules": rules}})
    };
    let events =
        |events: &[Event]| -> Vec<String> { events.iter().map(|event| event.as_str().to_string()).collect() };
    let queues: Vec<Value> = configuration
        .queue_configurations()
        .iter()
        .map(|queue| {
            json!({"Id": queue.id(), "QueueArn": queue.queue_arn(), "Events": events(queue.events()),
                "Filter": filter(queue.filter())})
        })
        .collect();
    let topics: Vec<Value> = configuration
        .topic_configurations()
        .iter()
        .map(|topic| {
            json!({"Id": topic.id(), "TopicArn": topic.topic_arn(), "Events": events(topic.events()),
                "Filter": filter(topic.filter())})
        })
        .collect();
    let functions: Vec<Value> = configuration
        .lambda_function_configurations()
        .iter()
        .map(|function| {
            json!({"Id": function.id(), "LambdaFunctionArn": function.lambda_function_arn(),
                "Events": events(function.events()), "Filter": filter(function.filter())})
        })
        .collect();
    let mut out = json!({
        "QueueConfigurations": queues,
        "TopicConfigurations": topics,
        "LambdaFunctionConfigurations": functions,
    });
    if configuration.event_bridge_configuration().is_some() {
        out["EventBridgeConfiguration"] = json!({});
    }
    out
}

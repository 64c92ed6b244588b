//! `DESTINATION_ARN`: where log groups send their events.

use serde::Serialize;
use sluice_edge::settings::SettingError;

/// A parsed destination ARN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Destination {
    /// The ARN as given.
    pub arn: String,
    /// What it names.
    pub kind: DestinationKind,
    /// Its region: the command line's region when none is configured, since log groups can
    /// only subscribe to a destination in their own region.
    pub region: String,
}

/// The four kinds of subscription filter destination CloudWatch Logs accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum DestinationKind {
    /// A Lambda function (the forwarder); its own log group is `/aws/lambda/<function>`.
    LambdaFunction {
        /// The function name, without qualifier.
        function: String,
    },
    /// A Kinesis data stream.
    KinesisStream,
    /// A Firehose delivery stream.
    FirehoseDeliveryStream,
    /// A CloudWatch Logs destination, usually in a central account.
    LogsDestination,
}

impl DestinationKind {
    /// Whether CloudWatch Logs needs a role to write to it.
    pub fn needs_role(&self) -> bool {
        matches!(
            self,
            DestinationKind::KinesisStream | DestinationKind::FirehoseDeliveryStream
        )
    }

    pub(super) fn label(&self) -> &'static str {
        match self {
            DestinationKind::LambdaFunction { .. } => "Lambda",
            DestinationKind::KinesisStream => "Kinesis",
            DestinationKind::FirehoseDeliveryStream => "Firehose",
            DestinationKind::LogsDestination => "CloudWatch Logs destination",
        }
    }
}

impl Destination {
    /// Parses `arn:<partition>:<service>:<region>:<account>:<resource>`.
    pub fn parse(arn: &str) -> Result<Destination, SettingError> {
        let fail = |reason: &str| SettingError::invalid("DESTINATION_ARN", arn, reason);
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [prefix, partition, service, region, account, resource] = parts[..] else {
            return Err(fail("expected arn:aws:<service>:<region>:<account>:<resource>"));
        };
        if prefix != "arn" || !partition.starts_with("aws") || region.is_empty() {
            return Err(fail("expected arn:aws:<service>:<region>:<account>:<resource>"));
        }
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(fail("the account must be 12 digits"));
        }
        let named = |kind_prefix: &str, separator: char| {
            resource
                .strip_prefix(kind_prefix)
                .and_then(|rest| rest.strip_prefix(separator))
                .filter(|name| !name.is_empty())
        };
        let kind = match service {
            "lambda" => {
                let function = named("function", ':')
                    .ok_or_else(|| fail("expected function:<name> after the account"))?;
                let function = function.split(':').next().unwrap_or(function).to_string();
                DestinationKind::LambdaFunction { function }
            }
            "kinesis" => named("stream", '/')
                .map(|_| DestinationKind::KinesisStream)
                .ok_or_else(|| fail("expected stream/<name> after the account"))?,
            "firehose" => named("deliverystream", '/')
                .map(|_| DestinationKind::FirehoseDeliveryStream)
                .ok_or_else(|| fail("expected deliverystream/<name> after the account"))?,
            "logs" => named("destination", ':')
                .map(|_| DestinationKind::LogsDestination)
                .ok_or_else(|| fail("expected destination:<name> after the account"))?,
            _ => return Err(fail("the service must be lambda, kinesis, firehose or logs")),
        };
        Ok(Destination {
            arn: arn.to_string(),
            kind,
            region: region.to_string(),
        })
    }
}

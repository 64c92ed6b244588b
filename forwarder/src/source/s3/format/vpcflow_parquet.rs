//! VPC flow logs delivered to S3 as Apache Parquet, as AWS documents them:
//! <https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-path.html> (the Parquet file
//! format, Gzip-compressed, and the key layouts, Hive-compatible or not) and
//! <https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html> (each field's Parquet
//! data type: `INT_32`, `INT_64` or `STRING`).
//!
//! A file's columns are the flow log's fields, in the order its format names them, each column
//! named as Athena's tables name them (`account_id`, `log_status`:
//! <https://docs.aws.amazon.com/athena/latest/ug/vpc-flow-logs-parquet.html>). The reader hands
//! each row on as the line the text format would have held, its values in column order, and the
//! column names, AWS's field names again (`account-id`), as its header line: the records are then
//! parsed by the text format's parser ([`super::vpcflow`]) into the same `aws.vpc_flow.*` and ECS
//! fields, and filed under the same index prefix.

use super::{FormatSpec, KeyLayout, Reading, vpcflow};

/// Parquet flow logs' row of the format table: files named `….parquet` under
/// `…/AWSLogs/[o-ORG/]ACCOUNT/vpcflowlogs/REGION/…` (or the Hive-compatible
/// `…/AWSLogs/aws-account-id=ACCOUNT/aws-service=vpcflowlogs/aws-region=REGION/…`), or any
/// object that starts with Parquet's magic bytes `PAR1`.
pub(crate) static FORMAT: FormatSpec = FormatSpec {
    name: "vpc-flow-parquet",
    key: KeyLayout {
        service: Some("vpcflowlogs"),
        file: Some(|file| file.ends_with(".parquet")),
    },
    content: Some(|text| text.starts_with("PAR1")),
    reading: Reading::Parquet { column: field_name },
    typed: Some(vpcflow::TYPED),
    index_prefix: Some("vpcflow"),
    dashboards: &[],
};

/// The field name of a column: `account_id` is the text format's `account-id`.
fn field_name(column: &str) -> String {
    column.replace('_', "-")
}

#[cfg(test)]
mod tests {
    use super::super::Format;

    #[test]
    fn parquet_columns_are_read_by_the_text_formats_field_names() {
        let Some(Format(spec)) = "vpc-flow-parquet".parse::<Format>().ok() else {
            panic!("the format is in the table");
        };
        let super::Reading::Parquet { column } = spec.reading else {
            panic!("read as Parquet");
        };
        assert_eq!(column("account_id"), "account-id");
        assert_eq!(column("pkt_src_aws_service"), "pkt-src-aws-service");
        assert_eq!(column("srcaddr"), "srcaddr");
    }
}

//! Which format an object is in, from the table: AWS's key layout, else its first bytes. (A
//! rule of `S3_FORMATS` comes before both: [`super::S3Options::format_of_key`].)

use super::{FORMATS, Format};

/// The format whose key layout `key` follows: under `[prefix/]AWSLogs/[o-ORG/]ACCOUNT/SERVICE/…`
/// (or the Hive-compatible `…/AWSLogs/aws-account-id=ACCOUNT/aws-service=SERVICE/…` that VPC flow
/// logs may be written under), the first format of that service whose file test passes; else the
/// first format known by its file name alone (CloudFront's).
pub(crate) fn by_key(key: &str) -> Option<Format> {
    let parts: Vec<&str> = key.split('/').collect();
    let file = parts.last().copied().unwrap_or_default();
    let service = parts.iter().enumerate().find_map(|(i, part)| {
        if *part != "AWSLogs" {
            return None;
        }
        let mut rest = parts[i + 1..].iter();
        let mut account = rest.next()?;
        if account.starts_with("o-") {
            account = rest.next()?;
        }
        let account = account.strip_prefix("aws-account-id=").unwrap_or(account);
        let service = rest
            .next()
            .map(|part| part.strip_prefix("aws-service=").unwrap_or(part));
        is_account(account).then_some(service).flatten()
    });
    let file_matches = |format: &Format| format.key.file.is_none_or(|test| test(file));
    let by_service = service.and_then(|service| {
        FORMATS
            .iter()
            .find(|format| format.key.service == Some(service) && file_matches(format))
    });
    by_service
        .or_else(|| {
            FORMATS.iter().find(|format| {
                format.key.service.is_none() && format.key.file.is_some() && file_matches(format)
            })
        })
        .copied()
}

fn is_account(part: &str) -> bool {
    part.len() == 12 && part.bytes().all(|byte| byte.is_ascii_digit())
}

/// The first format whose content test passes on the first decompressed bytes of an object, JSON
/// lines (which takes any `{`) and text lines (anything) asked after every other.
pub(crate) fn by_content(head: &[u8]) -> Format {
    let text = String::from_utf8_lossy(head);
    let (catch_all, specific): (Vec<Format>, Vec<Format>) =
        (FORMATS.iter()).partition(|format| [Format::JsonLines, Format::TextLines].contains(format));
    (specific.into_iter().chain(catch_all))
        .find(|format| format.content.is_some_and(|test| test(&text)))
        .unwrap_or(Format::TextLines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_key_layouts_name_the_access_log_formats() {
        // Key layouts from the pages each format's file cites.
        let layout = |key: &str| by_key(key);
        let elb = "logs/AWSLogs/123456789012/elasticloadbalancing/us-east-2/2026/11/29";
        assert_eq!(
            layout(&format!(
                "{elb}/123456789012_elasticloadbalancing_us-east-2_app.my-alb.1234567890abcdef_20261129T0005Z_198.51.100.1_1abc.log.gz"
            )),
            Some(Format::Alb)
        );
        assert_eq!(
            layout(&format!(
                "{elb}/conn_log.123456789012_elasticloadbalancing_us-east-2_app.my-alb.1234567890abcdef_20261129T0005Z_198.51.100.1_1abc.log.gz"
            )),
            Some(Format::AlbConnection)
        );
        assert_eq!(
            layout(&format!(
                "{elb}/123456789012_elasticloadbalancing_us-east-2_net.my-nlb.1234567890abcdef_20261129T0005Z_5d2e.log.gz"
            )),
            Some(Format::Nlb)
        );
        assert_eq!(
            layout(&format!(
                "{elb}/123456789012_elasticloadbalancing_us-east-2_my-loadbalancer_20261129T0005Z_172.160.001.192_20sg8hgm.log"
            )),
            Some(Format::Elb)
        );
        assert_eq!(
            layout(
                "AWSLogs/123456789012/WAFLogs/us-east-1/my-acl/2026/11/29/10/05/123456789012_waflogs_us-east-1_my-acl_20261129T1005Z_a1b2.log.gz"
            ),
            Some(Format::Waf)
        );
        assert_eq!(
            layout(
                "AWSLogs/o-abc123/123456789012/vpcflowlogs/us-east-1/2026/11/29/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20261129T1005Z_a1b2.log.gz"
            ),
            Some(Format::VpcFlow)
        );
        assert_eq!(
            layout(
                "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/year=2026/month=11/day=29/hour=10/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20261129T1005Z_a1b2.log.gz"
            ),
            Some(Format::VpcFlow)
        );
        assert_eq!(
            layout("cf/E2EXAMPLE12345.2026-11-29-10.a1b2c3d4.gz"),
            Some(Format::Cloudfront)
        );
        assert_eq!(layout("cf/e2example.2026-11-29-10.a1b2c3d4.gz"), None);
        assert_eq!(layout("access/2026-11-29-10-05-12-ABCDEF0123456789"), None);
    }

    #[test]
    fn alb_connection_logs_are_known_by_either_key_shape() {
        let elb = "AWSLogs/123456789012/elasticloadbalancing/us-east-2/2026/11/29";
        let file = "123456789012_elasticloadbalancing_us-east-2_app.my-alb.1234567890abcdef_20261129T0005Z_198.51.100.1_1abc.log.gz";
        for separator in ['_', '.'] {
            let key = format!("{elb}/conn_log{separator}{file}");
            assert_eq!(by_key(&key), Some(Format::AlbConnection), "{key}");
        }
        assert_eq!(by_key(&format!("{elb}/{file}")), Some(Format::Alb));
    }

    #[test]
    fn resolver_query_logs_and_network_firewall_logs_are_known_by_their_layouts() {
        // Route 53 Resolver query logging's S3 layout (AWS's pages do not spell it out; as
        // delivered, and as Datadog's forwarder recognises it).
        let resolver: Format = "route53-resolver".parse().expect("a format");
        assert_eq!(
            by_key(
                "dns/AWSLogs/111122223333/vpcdnsquerylogs/vpc-7example/2021/02/04/vpc-7example_vpcdnsquerylogs_111122223333_20210204T1750Z_1a2b3c4d.log.gz"
            ),
            Some(resolver)
        );
        // Network Firewall's, one log type a folder
        // (https://docs.aws.amazon.com/network-firewall/latest/developerguide/logging-s3.html).
        let firewall: Format = "network-firewall".parse().expect("a format");
        for kind in ["flow", "alert", "tls"] {
            let key = format!(
                "AWSLogs/o-abc123/111122223333/network-firewall/{kind}/us-east-1/test-firewall/2020/10/13/22/111122223333_network-firewall_{kind}_us-east-1_test-firewall_202010132210_1a2b3c4d.log.gz"
            );
            assert_eq!(by_key(&key), Some(firewall), "{key}");
        }
        assert_eq!(by_key("AWSLogs/111122223333/vpcdnsquery/vpc-1/x.log.gz"), None);
    }

    #[test]
    fn content_tells_the_formats_apart() {
        assert_eq!(
            by_content(br#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"/a","#),
            Format::CloudwatchFirehose
        );
        assert_eq!(
            by_content(b"\n{ \"Records\" : [ {\"eventVersion\""),
            Format::Cloudtrail
        );
        assert_eq!(by_content(b"{\"level\":\"info\"}\n"), Format::JsonLines);
        assert_eq!(by_content(b"2026-11-29 hello\n"), Format::TextLines);
        assert_eq!(by_content(b""), Format::TextLines);
    }

    #[test]
    fn parquet_flow_logs_are_known_by_either_key_layout_or_their_magic_bytes() {
        // Layouts of https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-path.html.
        let file = "123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20261129T1005Z_a1b2c3d4.log.parquet";
        for folder in [
            "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/29",
            "flows/AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/29/10",
            "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/year=2026/month=11/day=29",
            "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/year=2026/month=11/day=29/hour=10",
        ] {
            let key = format!("{folder}/{file}");
            assert_eq!(by_key(&key), Some(Format::VpcFlowParquet), "{key}");
        }
        // Another service's Hive-like folder is not a flow log's.
        assert_eq!(
            by_key(&format!(
                "AWSLogs/aws-account-id=123456789012/aws-service=other/{file}"
            )),
            None
        );
        assert_eq!(by_content(b"PAR1\x15\x04"), Format::VpcFlowParquet);
        assert_eq!(by_content(b"PAR 1 is a text line\n"), Format::TextLines);
    }
}

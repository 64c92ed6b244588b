//! The settings as strings, before validation ([`RawConfig`]): declared once for the
//! environment (Lambda) and the flags (CLI).

use sluice_edge::settings::{keyword, keyword_without_default};

use super::keywords;

/// The settings as strings, before validation: each field is an environment variable (Lambda) and
/// a flag of the same name in lower-kebab-case (CLI, the flag winning), in the order the
/// documentation lists them.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RawConfig {
    #[arg(
        long,
        env = "OPENSEARCH_ENDPOINT",
        help = "OpenSearch URL (required unless --dry-run)"
    )]
    pub opensearch_endpoint: Option<String>,
    #[arg(long, env = "OPENSEARCH_AUTH", help = "how requests are authenticated", value_parser = keyword::<keywords::Auth>())]
    pub opensearch_auth: Option<String>,
    #[arg(
        long,
        env = "OPENSEARCH_SERVICE",
        help = "the service SigV4 signs for (default: aoss for *.aoss.amazonaws.com, else es)",
        value_parser = keyword_without_default::<keywords::Service>()
    )]
    pub opensearch_service: Option<String>,
    #[arg(
        long,
        env = "OPENSEARCH_REGION",
        help = "signing region (default: AWS_REGION)"
    )]
    pub opensearch_region: Option<String>,
    #[arg(
        long,
        env = "OPENSEARCH_SECRET_ID",
        help = "Secrets Manager secret {\"username\",\"password\"} for basic auth"
    )]
    pub opensearch_secret_id: Option<String>,
    #[arg(
        long,
        env = "OPENSEARCH_SSM_PARAMETER",
        help = "SSM SecureString username:password for basic auth"
    )]
    pub opensearch_ssm_parameter: Option<String>,
    #[arg(long, env = "INDEX_PREFIX", help = "index name prefix (default cwl)")]
    pub index_prefix: Option<String>,
    #[arg(long, env = "INDEX_GRANULARITY", help = "how much time one dated index holds", value_parser = keyword::<keywords::Granularity>())]
    pub index_granularity: Option<String>,
    #[arg(
        long,
        env = "INDEX_LOG_GROUP",
        help = "true | false (default): add a log-group segment to index names"
    )]
    pub index_log_group: Option<String>,
    #[arg(
        long,
        env = "INDEX_RULES",
        help = "LOG_GROUP_GLOB=PREFIX,…: the first rule whose glob matches a log group names its \
                index prefix (default: INDEX_PREFIX)"
    )]
    pub index_rules: Option<String>,
    #[arg(
        long,
        env = "INDEX_MODE",
        help = "dated indices or data streams",
        value_parser = keyword::<keywords::IndexMode>()
    )]
    pub index_mode: Option<String>,
    #[arg(
        long,
        env = "DEAD_LETTER_INDEX",
        help = "index for rejected documents (default <prefix>-dead-letter)"
    )]
    pub dead_letter_index: Option<String>,
    #[arg(long, env = "DOCUMENT_ID", help = "what a document's _id is", value_parser = keyword::<keywords::DocumentId>())]
    pub document_id: Option<String>,
    #[arg(long, env = "DOCUMENT_FORMAT", help = "the shape of the documents", value_parser = keyword::<keywords::DocumentFormat>())]
    pub document_format: Option<String>,
    #[arg(long, env = "JSON_MODE", help = "where a JSON message's fields go", value_parser = keyword::<keywords::JsonMode>())]
    pub json_mode: Option<String>,
    #[arg(
        long,
        env = "JSON_FIELD",
        help = "field that holds parsed JSON (default json)"
    )]
    pub json_field: Option<String>,
    #[arg(
        long,
        env = "MULTILINE",
        help = "whether a stack trace's events make one document",
        value_parser = keyword::<keywords::Multiline>()
    )]
    pub multiline: Option<String>,
    #[arg(
        long,
        env = "REDACT_BUILTIN",
        help = "true (default) | false | a list of built-in rules, e.g. all,-aws-access-key-id or \
                cookie,private-key (-name switches one off); rules: json-field, key-value, \
                basic-auth, bearer-token, aws-access-key-id, aws-secret-access-key, jwt, \
                private-key, url-password, slack-webhook, cookie, github-token, gitlab-token, \
                slack-token, stripe-key, google-api-key, npm-token"
    )]
    pub redact_builtin: Option<String>,
    #[arg(long, env = "REDACT_PATTERNS", help = "JSON array of extra regexes to redact")]
    pub redact_patterns: Option<String>,
    #[arg(
        long,
        env = "INCLUDE_MESSAGE_PATTERNS",
        help = "JSON array of regexes: keep only matching messages"
    )]
    pub include_message_patterns: Option<String>,
    #[arg(
        long,
        env = "EXCLUDE_MESSAGE_PATTERNS",
        help = "JSON array of regexes: drop matching messages"
    )]
    pub exclude_message_patterns: Option<String>,
    #[arg(
        long,
        env = "BULK_MAX_BYTES",
        help = "largest _bulk body before compression (default 5242880)"
    )]
    pub bulk_max_bytes: Option<String>,
    #[arg(long, env = "BULK_CONCURRENCY", help = "_bulk requests in flight (default 4)")]
    pub bulk_concurrency: Option<String>,
    #[arg(long, env = "BULK_GZIP", help = "true (default) | false: gzip _bulk bodies")]
    pub bulk_gzip: Option<String>,
    #[arg(long, env = "RETRY_BASE_MS", help = "first retry backoff in ms (default 200)")]
    pub retry_base_ms: Option<String>,
    #[arg(
        long,
        env = "DEADLINE_MARGIN_MS",
        help = "stop retrying this long before the deadline (default 2000)"
    )]
    pub deadline_margin_ms: Option<String>,
    #[arg(long, env = "LOG_LEVEL", help = "tracing filter (default info)")]
    pub log_level: Option<String>,
    #[arg(
        long,
        env = "INDEX_RETENTION_DAYS",
        help = "delete indices older than this (ISM); empty = keep"
    )]
    pub index_retention_days: Option<String>,
    #[arg(
        long,
        env = "INDEX_TIME_WINDOW_DAYS",
        help = "BACK,AHEAD: days before and after its read time a record's time may lie and still \
                name its index; outside, the read time does and the record's own time is kept in \
                original_timestamp_ms (default 3650,1)"
    )]
    pub index_time_window_days: Option<String>,
    #[arg(
        long,
        env = "S3_FORMATS",
        help = "S3 objects: GLOB=FORMAT rules on the key, first match wins (formats: \
                cloudwatch-firehose, cloudtrail, cloudtrail-digest (skipped), config, config-check \
                (skipped), json-lines, text-lines, alb, alb-connection, nlb, elb, cloudfront, \
                cloudfront-realtime, waf, s3-access, vpc-flow-parquet, vpc-flow, route53-resolver, \
                network-firewall, guardduty, securityhub; default: detected)"
    )]
    pub s3_formats: Option<String>,
    #[arg(
        long,
        env = "S3_KEY_REGEX",
        help = "S3 objects: regex on the key whose named captures become document fields"
    )]
    pub s3_key_regex: Option<String>,
    #[arg(
        long,
        env = "S3_TIMESTAMP_FIELDS",
        help = "S3 JSON lines: fields holding the time, first found wins \
                (default @timestamp,timestamp,time; else the object's LastModified)"
    )]
    pub s3_timestamp_fields: Option<String>,
    #[arg(
        long,
        env = "S3_INDEX_PREFIXES",
        help = "S3 objects: FORMAT=PREFIX index prefixes (defaults: cloudtrail=cloudtrail, \
                json-lines=s3, text-lines=s3, and each access log format its own, e.g. alb=alb)"
    )]
    pub s3_index_prefixes: Option<String>,
    #[arg(
        long,
        env = "CLOUDFRONT_REALTIME_FIELDS",
        help = "Kinesis: the fields of the CloudFront real-time log configuration whose records \
                the stream holds, comma-separated, in the order it lists them (default: every \
                documented field, in the documented order)"
    )]
    pub cloudfront_realtime_fields: Option<String>,
    #[arg(
        long,
        env = "MAX_RECORD_BYTES",
        help = "S3 objects: the longest line or record kept whole, in bytes; a longer one is \
                indexed cut to it, marked aws.s3.truncated (default 1048576)"
    )]
    pub max_record_bytes: Option<String>,
    #[arg(
        long,
        env = "MAX_PAYLOAD_BYTES",
        help = "the most bytes one CloudWatch Logs payload may decompress to; a larger one is \
                refused as undecodable (default 16777216)"
    )]
    pub max_payload_bytes: Option<String>,
    #[arg(
        long,
        env = "MAX_OBJECT_EXPANSION",
        help = "S3 objects: how many times its compressed size an object may expand to, judged \
                after its first 64 MiB; past it the object is not read further (default 1000; \
                0: no limit)"
    )]
    pub max_object_expansion: Option<String>,
    #[arg(
        long,
        env = "MAX_JSON_DEPTH",
        help = "the deepest JSON message parsed into fields; deeper stays text (default 16)"
    )]
    pub max_json_depth: Option<String>,
    #[arg(
        long,
        env = "MAX_FIELDS",
        help = "the most fields a JSON message may bring into its document; with more it stays \
                text (default 1000)"
    )]
    pub max_fields: Option<String>,
    #[arg(
        long,
        env = "MAX_CONTINUATIONS",
        help = "S3 objects: how many times one object not read to the end before an invocation's \
                deadline is handed on to the next through its SQS queue (default 1000; 0: never, \
                the notification fails and is retried whole)"
    )]
    pub max_continuations: Option<String>,
    #[arg(
        long,
        env = "LOG_GROUP_TAGS",
        help = "true | false (default; the stack sets true): the log group's tags as document \
                fields under `aws.tags`, read with logs:ListTagsForResource"
    )]
    pub log_group_tags: Option<String>,
    #[arg(
        long,
        env = "LOG_GROUP_TAGS_TTL",
        help = "seconds a log group's tags (or a failed lookup) are kept (default 900)"
    )]
    pub log_group_tags_ttl: Option<String>,
    #[arg(
        long,
        env = "GEOIP_DATABASE",
        help = "a MaxMind City or Country database (e.g. GeoLite2-City.mmdb): a path (memory-mapped, \
                e.g. a layer's /opt/GeoLite2-City.mmdb) or s3://BUCKET/KEY (read once per cold \
                start); public addresses get geo.* fields (default: none)"
    )]
    pub geoip_database: Option<String>,
    #[arg(
        long,
        env = "GEOIP_ASN_DATABASE",
        help = "a MaxMind ASN database (e.g. GeoLite2-ASN.mmdb), a path or s3://BUCKET/KEY; public \
                addresses get as.number and as.organization.name (default: none)"
    )]
    pub geoip_asn_database: Option<String>,
    /// Set by Lambda and the AWS tools; not a setting a deployment gives
    /// ([`sluice_edge::settings::SET_BY_LAMBDA`]).
    #[arg(
        long,
        env = "AWS_REGION",
        help = "the region documents are stamped with, and the signing region when OPENSEARCH_REGION is unset"
    )]
    pub aws_region: Option<String>,
}

impl RawConfig {
    /// Reads every setting through `lookup` (e.g. `std::env::var`), asked for the environment
    /// variable names declared above; an empty value counts as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> RawConfig {
        sluice_edge::settings::from_lookup(lookup)
    }
}

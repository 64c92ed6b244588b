//! What a format's parser gives for one record: its typed fields (written as JSON text), the
//! fields every access log shares, its own time, and, for a record that does not parse, a typed
//! [`RecordError`] whose message the document keeps as `parse_error`.

use std::borrow::Cow;

/// What one access log line says, with its fields in a string of their own (the per-format
/// `parse` functions; the table's parser writes them straight into the document instead).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccessRecord<'a> {
    /// The record's own time, in milliseconds since the epoch.
    pub time_ms: Option<i64>,
    /// The format's fields: the inside of a JSON object (`"a":1,"b":"x"`), no braces.
    pub fields: String,
    pub shared: Shared<'a>,
}

impl AccessRecord<'_> {
    /// The record with nothing borrowed from its line.
    pub fn into_owned(self) -> AccessRecord<'static> {
        AccessRecord {
            time_ms: self.time_ms,
            fields: self.fields,
            shared: self.shared.into_owned(),
        }
    }
}

impl<'a> AccessRecord<'a> {
    /// Appends the fields to `out` and gives what else the record said, for the table's parser.
    pub(super) fn into_parsed(self, out: &mut String) -> Parsed<'a> {
        out.push_str(&self.fields);
        Parsed {
            time_ms: self.time_ms,
            shared: self.shared,
            shared_plain: false,
            quotes_only: false,
        }
    }
}

/// What kind of event a format's records are: ECS's `event.category` and `event.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// An HTTP request (ALB, Classic ELB, CloudFront, S3 server access, WAF): `web`, `access`.
    WebAccess,
    /// A connection or flow (NLB, ALB connection logs, VPC flow logs): `network`, `connection`.
    Connection,
    /// A DNS query (Route 53 Resolver query logs): `network`, `protocol`.
    Dns,
    /// A resource's configuration as recorded (AWS Config): `configuration`, `change`.
    Configuration,
    /// A security finding (GuardDuty, Security Hub): `event.kind` `alert`, `threat`, `indicator`.
    Finding,
    /// An intrusion detection alert on a flow (Network Firewall's alert logs): `event.kind`
    /// `alert`, `network`, `connection`.
    NetworkAlert,
}

impl EventKind {
    /// `event.category`.
    pub fn category(self) -> &'static str {
        match self {
            EventKind::WebAccess => "web",
            EventKind::Connection | EventKind::Dns | EventKind::NetworkAlert => "network",
            EventKind::Configuration => "configuration",
            EventKind::Finding => "threat",
        }
    }

    /// `event.type`.
    pub fn kind_type(self) -> &'static str {
        match self {
            EventKind::WebAccess => "access",
            EventKind::Connection | EventKind::NetworkAlert => "connection",
            EventKind::Dns => "protocol",
            EventKind::Configuration => "change",
            EventKind::Finding => "indicator",
        }
    }

    /// `event.kind`: `alert` for a finding, `event` for the rest.
    pub fn event_kind(self) -> &'static str {
        match self {
            EventKind::Finding | EventKind::NetworkAlert => "alert",
            EventKind::WebAccess | EventKind::Connection | EventKind::Dns | EventKind::Configuration => {
                "event"
            }
        }
    }
}

/// The fields every access log fills where it has them, in ECS's terms: the document writer
/// turns them into `source`, `destination`, `http`, `url`, `user_agent`, `tls`, `trace`,
/// `network` and `event` ([`crate::document`]'s ECS writer); the text ones borrowed from the line
/// where it holds them as they are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shared<'a> {
    /// `event.category` and `event.type`.
    pub kind: Option<EventKind>,
    /// The source of the request or flow (the client): `source.ip`, `source.port`.
    pub client_ip: Option<Cow<'a, str>>,
    pub client_port: Option<u16>,
    /// Where the request or flow went (a load balancer's target): `destination.ip`, `.port`.
    pub target_ip: Option<Cow<'a, str>>,
    pub target_port: Option<u16>,
    pub http_method: Option<Cow<'a, str>>,
    /// The status code the client got: `http.response.status_code`.
    pub http_status_code: Option<u16>,
    /// Bytes the client sent: `http.request.bytes`.
    pub request_bytes: Option<u64>,
    /// Bytes sent to the client (`http.response.bytes`), or transferred, for flow logs
    /// (`network.bytes`).
    pub bytes: Option<u64>,
    pub url_original: Option<Cow<'a, str>>,
    /// The host the request named, when the URL has none (CloudFront's `cs(Host)`).
    pub url_domain: Option<Cow<'a, str>>,
    pub user_agent: Option<Cow<'a, str>>,
    /// As the log writes them: `ECDHE-RSA-AES128-GCM-SHA256`, `TLSv1.2`.
    pub tls_cipher: Option<Cow<'a, str>>,
    pub tls_protocol: Option<Cow<'a, str>>,
    /// `trace.id`: the X-Ray trace id's `Root` (ALB's `trace_id`).
    pub trace_id: Option<Cow<'a, str>>,
    /// `event.duration`, in nanoseconds: the sum of the parts the log gives.
    pub duration: Duration,
    /// A flow's bytes and packets, from its source to its destination (`source.*`, `network.*`).
    pub flow_bytes: Option<u64>,
    pub packets: Option<u64>,
    /// The IANA number of the flow's protocol: `network.iana_number`, `network.transport`.
    pub protocol: Option<u8>,
    /// `event.action`: a flow's `accept`/`reject` and WAF's terminating action (`block`), both
    /// lowercased; CloudTrail's `eventName` as written.
    pub action: Option<Cow<'a, str>>,
    /// Whether the action let the traffic through: `event.type` `allowed` or `denied`.
    pub allowed: Option<bool>,
    /// `event.start` and `event.end`, in milliseconds since the epoch.
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    /// `rule.id`: the rule that decided (WAF's `terminatingRuleId`).
    pub rule_id: Option<Cow<'a, str>>,
    /// `source.geo.country_iso_code`, as the log gives it (WAF's `httpRequest.country`).
    pub country: Option<Cow<'a, str>>,
    /// `user.id`: who made the request (S3's `requester`).
    pub user_id: Option<Cow<'a, str>>,
    /// `error.code` (S3's `error_code`, CloudTrail's `errorCode`) and `error.message`.
    pub error_code: Option<Cow<'a, str>>,
    pub error_message: Option<Cow<'a, str>>,
    /// `event.provider`: the service that logged it (CloudTrail's `eventSource`).
    pub provider: Option<Cow<'a, str>>,
    /// `user.name` (CloudTrail's `userIdentity.userName`).
    pub user_name: Option<Cow<'a, str>>,
    /// `event.outcome` where the record says it (CloudTrail: `failure` with an `errorCode`);
    /// else an HTTP status decides.
    pub succeeded: Option<bool>,
    /// `cloud.account.id` and `cloud.region` where the record says them (CloudTrail's
    /// `recipientAccountId`, `awsRegion`), before the key's.
    pub account_id: Option<Cow<'a, str>>,
    pub region: Option<Cow<'a, str>>,
    /// `rule.name`: the rule or finding type that matched (GuardDuty's `type`, a Network
    /// Firewall alert's `signature`).
    pub rule_name: Option<Cow<'a, str>>,
    /// `event.severity`, as the source numbers it.
    pub severity: Option<i64>,
    /// The document's `message` in place of the raw record: a finding's title.
    pub title: Option<Cow<'a, str>>,
    /// `network.transport` as the log names it (`TCP`, written lowercase), for a log without an
    /// IANA protocol number.
    pub transport: Option<Cow<'a, str>>,
    /// `cloud.instance.id`: the EC2 instance the record is about or came from.
    pub instance_id: Option<Cow<'a, str>>,
    /// `cloud.availability_zone`: the Availability Zone the record's resource is in (AWS
    /// Config's `availabilityZone`, where it names one).
    pub availability_zone: Option<Cow<'a, str>>,
    /// `dns.*`: a DNS query and its answers.
    pub dns: Option<Box<Dns<'a>>>,
    /// The source's own id of the record (a finding's id and update time): the document's `_id`
    /// hashes it in place of the record's position, so the same record read from another object
    /// is the same document.
    pub own_id: Option<Cow<'a, str>>,
    /// `tls.client.server_name`: the SNI the client sent (Network Firewall's `tls.sni`).
    pub tls_server_name: Option<Cow<'a, str>>,
    /// `rule.category` (a Network Firewall alert's `category`).
    pub rule_category: Option<Cow<'a, str>>,
}

/// A DNS query and its answers, as ECS's `dns` fields hold them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dns<'a> {
    /// `dns.question.name`, `dns.question.type` (`A`, `AAAA`).
    pub question_name: Option<Cow<'a, str>>,
    pub question_type: Option<Cow<'a, str>>,
    /// `dns.response_code` (`NOERROR`, `NXDOMAIN`).
    pub response_code: Option<Cow<'a, str>>,
    /// `dns.answers`: each answer's `data`, `type` and `class`.
    pub answers: Vec<DnsAnswer<'a>>,
}

/// One of `dns.answers`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DnsAnswer<'a> {
    pub data: Option<Cow<'a, str>>,
    pub kind: Option<Cow<'a, str>>,
    pub class: Option<Cow<'a, str>>,
}

impl Dns<'_> {
    fn into_owned(self) -> Dns<'static> {
        let owned = |text: Option<Cow<'_, str>>| text.map(|text| Cow::Owned(text.into_owned()));
        Dns {
            question_name: owned(self.question_name),
            question_type: owned(self.question_type),
            response_code: owned(self.response_code),
            answers: (self.answers.into_iter())
                .map(|answer| DnsAnswer {
                    data: owned(answer.data),
                    kind: owned(answer.kind),
                    class: owned(answer.class),
                })
                .collect(),
        }
    }
}

/// A duration summed from parts (a load balancer's three processing times); a part that is not
/// a time (ALB's `-1`, "could not dispatch") makes the whole unknown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Duration {
    nanos: u64,
    parts: u32,
    unknown: bool,
}

impl Duration {
    /// Adds a part of `value` milliseconds, written as a whole number (S3's `total_time`).
    pub fn add_millis(&mut self, value: u64) {
        self.nanos = self.nanos.saturating_add(value.saturating_mul(1_000_000));
        self.parts += 1;
    }

    /// Adds a part of `value` seconds.
    pub fn add_seconds(&mut self, value: f64) {
        if value.is_finite() && value >= 0.0 {
            self.nanos = self.nanos.saturating_add((value * 1e9).round() as u64);
            self.parts += 1;
        } else {
            self.unknown = true;
        }
    }

    /// The duration of `parts`, in seconds, added one by one.
    #[cfg(test)]
    pub fn of_seconds(parts: &[f64]) -> Duration {
        let mut duration = Duration::default();
        for part in parts {
            duration.add_seconds(*part);
        }
        duration
    }

    /// A duration of one part of `millis` milliseconds.
    #[cfg(test)]
    pub fn of_millis(millis: u64) -> Duration {
        let mut duration = Duration::default();
        duration.add_millis(millis);
        duration
    }

    /// The sum, in nanoseconds, when every part was a time.
    pub fn nanos(&self) -> Option<u64> {
        (self.parts > 0 && !self.unknown).then_some(self.nanos)
    }
}

impl Shared<'_> {
    /// The shared fields with nothing borrowed from the line.
    pub fn into_owned(self) -> Shared<'static> {
        let owned = |text: Option<Cow<'_, str>>| text.map(|text| Cow::Owned(text.into_owned()));
        Shared {
            kind: self.kind,
            client_ip: owned(self.client_ip),
            client_port: self.client_port,
            target_ip: owned(self.target_ip),
            target_port: self.target_port,
            http_method: owned(self.http_method),
            http_status_code: self.http_status_code,
            request_bytes: self.request_bytes,
            bytes: self.bytes,
            url_original: owned(self.url_original),
            url_domain: owned(self.url_domain),
            user_agent: owned(self.user_agent),
            tls_cipher: owned(self.tls_cipher),
            tls_protocol: owned(self.tls_protocol),
            trace_id: owned(self.trace_id),
            duration: self.duration,
            flow_bytes: self.flow_bytes,
            packets: self.packets,
            protocol: self.protocol,
            action: owned(self.action),
            allowed: self.allowed,
            start_ms: self.start_ms,
            end_ms: self.end_ms,
            rule_id: owned(self.rule_id),
            country: owned(self.country),
            user_id: owned(self.user_id),
            error_code: owned(self.error_code),
            error_message: owned(self.error_message),
            provider: owned(self.provider),
            user_name: owned(self.user_name),
            succeeded: self.succeeded,
            account_id: owned(self.account_id),
            region: owned(self.region),
            rule_name: owned(self.rule_name),
            severity: self.severity,
            title: owned(self.title),
            transport: owned(self.transport),
            instance_id: owned(self.instance_id),
            availability_zone: owned(self.availability_zone),
            dns: self.dns.map(|dns| Box::new(dns.into_owned())),
            own_id: owned(self.own_id),
            tls_server_name: owned(self.tls_server_name),
            rule_category: owned(self.rule_category),
        }
    }
}

/// The mapping type of a format's field, for its index template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Keyword,
    Text,
    Long,
    Double,
    Ip,
    Date,
    Boolean,
    /// A JSON object kept as it is (WAF's nested structures), its inner fields mapped by the
    /// template's dynamic rules.
    Object,
    /// A JSON value of any shape, indexed as OpenSearch's `flat_object`: its leaves searchable
    /// as keywords, never a mapping conflict (AWS Config's `configuration`, a finding's
    /// `resource`).
    Flat,
}

/// Context a parser may need beyond the line: the field names of the header line that came
/// before it (CloudFront's `#Fields:`, a VPC flow log's first line).
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    pub header: Option<&'a [String]>,
}

/// What the table's parser ([`super::Format::parse`]) gives besides the fields it writes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed<'a> {
    /// The record's own time, in milliseconds since the epoch.
    pub time_ms: Option<i64>,
    pub shared: Shared<'a>,
    /// Whether the shared texts are known to need no JSON escaping.
    pub shared_plain: bool,
    /// Whether the line is known to hold no backslash and no control byte: its quotes are then
    /// all that JSON escaping changes.
    pub quotes_only: bool,
}

/// Why a record did not parse. The message is what the record's document keeps as
/// `parse_error`, so each variant writes the words it always wrote.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The format has no typed fields (CloudTrail, JSON and text lines, Firehose payloads).
    #[error("{format} is not an access log format")]
    NotTyped { format: &'static str },
    /// A line of nothing but whitespace (the positional formats' words).
    #[error("an empty line")]
    Empty,
    /// The same, as the other access logs word it.
    #[error("empty line")]
    Blank,
    /// A positional line shorter than the format as AWS first shipped it.
    #[error("{count} field{s}, {what} has at least {required} ({first} to {last})", s = if *.count == 1 { "" } else { "s" })]
    TooFewFields {
        count: usize,
        what: &'static str,
        required: usize,
        first: &'static str,
        last: &'static str,
    },
    /// A line with fewer values than the layout it is read by (a header line's, or the default
    /// one) names: `layout` says which, as the message words it.
    #[error("{count} {layout}")]
    TooFewValues { count: usize, layout: String },
    /// A `"quoted"` field without its closing quote.
    #[error("the quoted field at byte {at} never ends")]
    QuoteNeverEnds { at: usize },
    /// The same, as S3 server access logs word it.
    #[error("a quoted field that starts at byte {at} never ends")]
    QuotedFieldNeverEnds { at: usize },
    /// A value that is not what its field holds: `field` names it (`elb_status_code`, or
    /// `field 9 (elb_status_code)`), `value` is as the message shows it.
    #[error("{field} is not {expected}: {value}")]
    Value {
        field: String,
        expected: &'static str,
        value: String,
    },
    /// A part of the line that is missing or misplaced (S3 server access logs' `[time]`).
    #[error("{0}")]
    Shape(String),
    /// A line or a part of it that is not the JSON it should be (WAF).
    #[error("{what}: {reason}")]
    Json { what: &'static str, reason: String },
}

impl RecordError {
    /// A value that is not what field `field` holds, shown quoted (`"abc"`).
    pub fn value(field: impl Into<String>, expected: &'static str, value: &str) -> RecordError {
        RecordError::Value {
            field: field.into(),
            expected,
            value: format!("{value:?}"),
        }
    }
}

/// Tests compare an error with the message it gives.
#[cfg(test)]
impl PartialEq<&str> for RecordError {
    fn eq(&self, text: &&str) -> bool {
        let shown = self.to_string();
        shown == *text
    }
}

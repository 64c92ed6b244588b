//! Route 53 Resolver query logs delivered to S3, as AWS documents them:
//! <https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resolver-query-logs-format.html>
//! (values) and <https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resolver-query-logs-example-json.html>
//! (example), written to an S3 bucket
//! (<https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resolver-query-logs-choosing-target-resource.html>)
//! under `…/AWSLogs/ACCOUNT/vpcdnsquerylogs/VPC-ID/YYYY/MM/DD/…` (a layout AWS's pages do not spell
//! out; Datadog's forwarder and others recognise it).
//!
//! A line is one JSON object, one DNS query. What ECS names is written there: the query
//! (`query_name`, `query_type`, `rcode`, `answers`) as `dns.*`, `srcaddr` and `srcport` as
//! `source.*`, `transport` as `network.transport`, `srcids.instance` as `cloud.instance.id`,
//! `account_id` and `region` as `cloud.*`, DNS Firewall's `firewall_rule_action` as `event.action`.
//! A name keeps its trailing dot in `message` only: `dns.question.name` and the answers' `data`
//! drop it, as Elastic's AWS integration does (`example.com.` → `example.com`). The rest goes under
//! `aws.route53_resolver`: `version`, `vpc_id`, `query_class`, the firewall's ids and action, and
//! `srcids` whole (a `flat_object`: AWS adds ids to it). `query_timestamp` is the record's time.
//! A member this module does not know stays in `message`.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::{Deserializer, Visitor};
use serde_json::value::RawValue;

use super::fields::FieldWriter;
use super::time::rfc3339_ms;
use super::{
    Context, Dashboard, Dns, DnsAnswer, EventKind, FieldType, FormatSpec, KeyLayout, Lines, Parsed, Reading,
    RecordError, Shared, Typed,
};

/// Resolver query logs' row of the format table.
pub(crate) static FORMAT: FormatSpec = FormatSpec {
    name: "route53-resolver",
    key: KeyLayout {
        service: Some("vpcdnsquerylogs"),
        file: None,
    },
    content: None,
    reading: Reading::Lines(Lines::PLAIN),
    typed: Some(Typed {
        object: "route53_resolver",
        fields: FIELDS,
        parse: |line, _: Context<'_>, out| parse(line, out),
    }),
    index_prefix: Some("route53resolver"),
    dashboards: &[Dashboard::Security],
};

/// The fields written under `aws.route53_resolver`.
pub(crate) const FIELDS: &[(&str, FieldType)] = &[
    ("version", FieldType::Keyword),
    ("vpc_id", FieldType::Keyword),
    ("query_class", FieldType::Keyword),
    ("srcids", FieldType::Flat),
    ("firewall_rule_group_id", FieldType::Keyword),
    ("firewall_rule_action", FieldType::Keyword),
    ("firewall_domain_list_id", FieldType::Keyword),
];

/// The members of a query log record this module reads; the rest are skipped unread.
#[derive(Deserialize)]
struct Query<'a> {
    #[serde(borrow)]
    version: Option<Text<'a>>,
    #[serde(borrow)]
    account_id: Option<Text<'a>>,
    #[serde(borrow)]
    region: Option<Cow<'a, str>>,
    #[serde(borrow)]
    vpc_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    query_timestamp: Option<Cow<'a, str>>,
    #[serde(borrow)]
    query_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    query_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    query_class: Option<Cow<'a, str>>,
    #[serde(borrow)]
    rcode: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    answers: Option<Vec<Answer<'a>>>,
    #[serde(borrow)]
    srcaddr: Option<Cow<'a, str>>,
    #[serde(borrow)]
    srcport: Option<Text<'a>>,
    #[serde(borrow)]
    transport: Option<Cow<'a, str>>,
    #[serde(borrow)]
    srcids: Option<&'a RawValue>,
    #[serde(borrow)]
    firewall_rule_group_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    firewall_rule_action: Option<Cow<'a, str>>,
    #[serde(borrow)]
    firewall_domain_list_id: Option<Cow<'a, str>>,
}

/// One of `answers`.
#[derive(Deserialize)]
struct Answer<'a> {
    #[serde(borrow, rename = "Rdata")]
    rdata: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "Type")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "Class")]
    class: Option<Cow<'a, str>>,
}

/// The ids of `srcids` that ECS names.
#[derive(Deserialize)]
struct SourceIds<'a> {
    #[serde(borrow)]
    instance: Option<Cow<'a, str>>,
}

/// A value AWS writes as a string (`"srcport": "56067"`, `"version": "1.100000"`) that may as
/// well come as a number: its text either way.
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor<'a>(std::marker::PhantomData<&'a ()>);

        impl<'de: 'a, 'a> Visitor<'de> for TextVisitor<'a> {
            type Value = Text<'a>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or a number")
            }

            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(text)))
            }

            fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(text.to_string())))
            }

            fn visit_u64<E>(self, number: u64) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(number.to_string())))
            }

            fn visit_i64<E>(self, number: i64) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(number.to_string())))
            }

            fn visit_f64<E>(self, number: f64) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(number.to_string())))
            }
        }

        deserializer.deserialize_any(TextVisitor(std::marker::PhantomData))
    }
}

/// Reads one line: its fields written at the end of `out`, the rest in the [`Parsed`].
pub fn parse<'a>(line: &'a str, out: &mut String) -> Result<Parsed<'a>, RecordError> {
    if line.trim().is_empty() {
        return Err(RecordError::Blank);
    }
    let query: Query<'a> = serde_json::from_str(line).map_err(|err| RecordError::Json {
        what: "not a Route 53 Resolver query log record (JSON object)",
        reason: err.to_string(),
    })?;
    let time_ms = match &query.query_timestamp {
        Some(text) => Some(
            rfc3339_ms(text)
                .ok_or_else(|| RecordError::value("query_timestamp", "an ISO 8601 time", text))?,
        ),
        None => None,
    };
    let port = match &query.srcport {
        Some(Text(text)) if !text.is_empty() => Some(
            text.parse::<u16>()
                .map_err(|_| RecordError::value("srcport", "a port number", text))?,
        ),
        _ => None,
    };
    let instance = query
        .srcids
        .and_then(|ids| serde_json::from_str::<SourceIds<'a>>(ids.get()).ok())
        .and_then(|ids| ids.instance);
    write_fields(&query, out);
    let action = query.firewall_rule_action.as_deref().filter(|a| !a.is_empty());
    let dns = Dns {
        question_name: query.query_name.map(without_root_dot),
        question_type: query.query_type,
        response_code: query.rcode.clone(),
        answers: (query.answers.unwrap_or_default().into_iter())
            .map(|answer| DnsAnswer {
                data: answer.rdata.map(without_root_dot),
                kind: answer.kind,
                class: answer.class,
            })
            .collect(),
    };
    let shared = Shared {
        kind: Some(EventKind::Dns),
        client_ip: query.srcaddr.filter(|address| !address.is_empty()),
        client_port: port,
        transport: query.transport.filter(|name| !name.is_empty()),
        instance_id: instance.filter(|id| !id.is_empty()),
        account_id: query.account_id.map(|Text(id)| id),
        region: query.region,
        action: action.map(|action| Cow::Owned(action.to_ascii_lowercase())),
        allowed: match action {
            Some("ALLOW") => Some(true),
            Some("BLOCK") => Some(false),
            _ => None,
        },
        succeeded: query.rcode.as_deref().map(|code| code == "NOERROR"),
        dns: Some(Box::new(dns)),
        ..Shared::default()
    };
    Ok(Parsed {
        time_ms,
        shared,
        shared_plain: false,
        quotes_only: false,
    })
}

/// Writes the fields of `aws.route53_resolver` at the end of `out`.
fn write_fields(query: &Query<'_>, out: &mut String) {
    let mut fields = FieldWriter::after_known_keys(std::mem::take(out));
    if let Some(Text(version)) = &query.version {
        fields.str("version", version);
    }
    for (key, value) in [
        ("vpc_id", &query.vpc_id),
        ("query_class", &query.query_class),
        ("firewall_rule_group_id", &query.firewall_rule_group_id),
        ("firewall_rule_action", &query.firewall_rule_action),
        ("firewall_domain_list_id", &query.firewall_domain_list_id),
    ] {
        if let Some(value) = value {
            fields.str(key, value);
        }
    }
    if let Some(ids) = query
        .srcids
        .filter(|ids| ids.get().starts_with('{') && ids.get() != "{}")
    {
        crate::json::push_raw_json(fields.raw_key("srcids"), ids.get());
    }
    *out = fields.finish();
}

/// A domain name without the dot that ends a fully qualified one (`example.com.` →
/// `example.com`); the root, `.`, as it is.
fn without_root_dot(name: Cow<'_, str>) -> Cow<'_, str> {
    match name {
        Cow::Borrowed(text) if text.len() > 1 => Cow::Borrowed(text.strip_suffix('.').unwrap_or(text)),
        Cow::Owned(mut text) if text.len() > 1 && text.ends_with('.') => {
            text.pop();
            Cow::Owned(text)
        }
        name => name,
    }
}

#[cfg(test)]
#[path = "route53_resolver/tests.rs"]
mod tests;

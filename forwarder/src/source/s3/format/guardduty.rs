//! Amazon GuardDuty findings as GuardDuty exports them to S3
//! (<https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_exportfindings.html>): gzipped
//! JSON lines, one finding a line, under `[prefix/]AWSLogs/ACCOUNT/GuardDuty/REGION/YYYY/MM/DD/`,
//! encrypted with the customer key the export names (SSE-KMS). A finding's fields are those of
//! the finding format (<https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings-format.html>,
//! and the API reference's `Finding`: <https://docs.aws.amazon.com/guardduty/latest/APIReference/API_Finding.html>).
//!
//! One document per finding, under `aws.guardduty`: the scalar members by their names in
//! snake_case, `resource` and `service` whole as `flat_object`s, and the scalars of them that are
//! searched most (the resource type, the action type, the detector, the connection's direction…)
//! as fields of their own. Its time is `updatedAt`, the time of the finding's last occurrence;
//! its `_id` hashes `id` and `updatedAt`, so each update is a document of its own.
//!
//! `source.*` and `destination.*` come from the action: for a network connection, the remote
//! side is the source when `connectionDirection` is `INBOUND` and the destination when it is
//! `OUTBOUND` (the instance, the local side, the other), as Elastic's integration reads it; a
//! port probe's prober is the source and the probed port the destination; an API call's caller
//! is the source. Where the action gives no local address (GuardDuty's own sample findings), the
//! instance's first private address (`resource.instanceDetails.networkInterfaces`) is the local
//! side's.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::finding::{self, Members, boolean, flat, number, others, text};
use super::split::is_ip;
use super::time::rfc3339_ms;
use super::{
    AccessRecord, Dashboard, Dns, EventKind, FieldType, FieldWriter, FormatSpec, KeyLayout, Lines, Reading,
    RecordError, Shared, Typed,
};

/// GuardDuty's row of the format table.
pub(crate) static FORMAT: FormatSpec = FormatSpec {
    name: "guardduty",
    key: KeyLayout {
        service: Some("GuardDuty"),
        file: None,
    },
    content: None,
    reading: Reading::Lines(Lines::PLAIN),
    typed: Some(Typed {
        object: "guardduty",
        fields: FIELDS,
        parse: |line, _, out| parse(line).map(|record| record.into_parsed(out)),
    }),
    index_prefix: Some("guardduty"),
    dashboards: &[Dashboard::Security],
};

pub(crate) const FIELDS: &[(&str, FieldType)] = &[
    ("schema_version", FieldType::Keyword),
    ("account_id", FieldType::Keyword),
    ("region", FieldType::Keyword),
    ("partition", FieldType::Keyword),
    ("id", FieldType::Keyword),
    ("arn", FieldType::Keyword),
    ("type", FieldType::Keyword),
    ("title", FieldType::Keyword),
    ("description", FieldType::Text),
    ("severity", FieldType::Double),
    ("confidence", FieldType::Double),
    ("created_at", FieldType::Date),
    ("updated_at", FieldType::Date),
    ("associated_attack_sequence_arn", FieldType::Keyword),
    ("resource", FieldType::Flat),
    ("service", FieldType::Flat),
    // From `resource` and `service`, to search and aggregate on.
    ("resource_type", FieldType::Keyword),
    ("action_type", FieldType::Keyword),
    ("connection_direction", FieldType::Keyword),
    ("resource_role", FieldType::Keyword),
    ("detector_id", FieldType::Keyword),
    ("feature_name", FieldType::Keyword),
    ("count", FieldType::Long),
    ("archived", FieldType::Boolean),
    ("event_first_seen", FieldType::Date),
    ("event_last_seen", FieldType::Date),
    // Members the finding format did not name when this was written.
    ("other", FieldType::Flat),
];

/// The members written as they are, as strings, and their names.
const TEXTS: &[(&str, &str)] = &[
    ("schemaVersion", "schema_version"),
    ("partition", "partition"),
    ("arn", "arn"),
    ("description", "description"),
    ("createdAt", "created_at"),
    ("associatedAttackSequenceArn", "associated_attack_sequence_arn"),
];

/// Parses one finding.
pub fn parse(line: &str) -> Result<AccessRecord<'_>, RecordError> {
    let Members(members) = finding::members(line, "not a GuardDuty finding (JSON object)")?;
    let mut out = FieldWriter::with_capacity(line.len() + 256);
    let mut shared = Shared {
        kind: Some(EventKind::Finding),
        ..Shared::default()
    };
    let (mut id, mut updated_at, mut action, mut instance_ip) = (None, None, None, None);
    let mut unknown = Vec::new();
    for (name, value) in members {
        if let Some((_, key)) = TEXTS.iter().find(|(member, _)| *member == name) {
            text(&mut out, key, value);
            continue;
        }
        match name.as_ref() {
            "accountId" => shared.account_id = text(&mut out, "account_id", value),
            "region" => shared.region = text(&mut out, "region", value),
            "id" => id = text(&mut out, "id", value),
            "type" => shared.rule_name = text(&mut out, "type", value),
            "title" => shared.title = text(&mut out, "title", value),
            "severity" => {
                let severity = number(&mut out, "severity", value)?;
                shared.severity = severity.map(|severity| severity.round() as i64);
            }
            "confidence" => {
                number(&mut out, "confidence", value)?;
            }
            "updatedAt" => updated_at = text(&mut out, "updated_at", value),
            "resource" => (shared.instance_id, instance_ip) = resource(&mut out, value),
            "service" => {
                flat(&mut out, "service", value);
                action = service(&mut out, value)?;
            }
            _ => unknown.push((name, value)),
        }
    }
    if let Some(action) = action {
        action.write(&mut out, &mut shared, instance_ip);
    }
    others(&mut out, "other", &unknown);
    let (Some(id), Some(_)) = (&id, &shared.rule_name) else {
        return Err(RecordError::Shape(
            "not a GuardDuty finding: it has no id or no type".to_string(),
        ));
    };
    shared.own_id = finding::own_id(id, updated_at.as_deref());
    Ok(AccessRecord {
        time_ms: updated_at.as_deref().and_then(rfc3339_ms),
        fields: out.finish(),
        shared,
    })
}

/// Writes `resource` whole and its type, and gives its instance's id and first private address.
fn resource<'a>(out: &mut FieldWriter, value: &'a RawValue) -> (Option<Cow<'a, str>>, Option<Cow<'a, str>>) {
    flat(out, "resource", value);
    let resource: Resource<'_> = serde_json::from_str(value.get()).unwrap_or_default();
    if let Some(kind) = resource.resource_type {
        out.str("resource_type", &kind);
    }
    let Some(details) = resource.instance_details else {
        return (None, None);
    };
    let address = (details.network_interfaces.into_iter().next())
        .and_then(|interface| interface.private_ip_address)
        .filter(|address| is_ip(address));
    (details.instance_id, address)
}

/// Writes the scalars of `service` that have fields of their own, and gives its action.
fn service<'a>(out: &mut FieldWriter, value: &'a RawValue) -> Result<Option<Action<'a>>, RecordError> {
    let Ok(Members(members)) = serde_json::from_str::<Members<'_>>(value.get()) else {
        return Ok(None);
    };
    let mut action = None;
    for (name, value) in members {
        match name.as_ref() {
            "detectorId" => {
                text(out, "detector_id", value);
            }
            "resourceRole" => {
                text(out, "resource_role", value);
            }
            "featureName" => {
                text(out, "feature_name", value);
            }
            "eventFirstSeen" => {
                text(out, "event_first_seen", value);
            }
            "eventLastSeen" => {
                text(out, "event_last_seen", value);
            }
            "archived" => boolean(out, "archived", value),
            "count" => {
                number(out, "count", value)?;
            }
            "action" => action = serde_json::from_str(value.get()).ok(),
            _ => {}
        }
    }
    Ok(action)
}

/// The members of `resource` read here.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Resource<'a> {
    #[serde(borrow)]
    resource_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    instance_details: Option<InstanceDetails<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InstanceDetails<'a> {
    #[serde(borrow)]
    instance_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    network_interfaces: Vec<NetworkInterface<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NetworkInterface<'a> {
    #[serde(borrow)]
    private_ip_address: Option<Cow<'a, str>>,
}

/// `service.action`: its type and the details of each kind of action that name addresses
/// (<https://docs.aws.amazon.com/guardduty/latest/APIReference/API_Action.html>).
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Action<'a> {
    #[serde(borrow)]
    action_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    network_connection_action: Option<NetworkConnection<'a>>,
    #[serde(borrow)]
    port_probe_action: Option<PortProbe<'a>>,
    #[serde(borrow)]
    aws_api_call_action: Option<ApiCall<'a>>,
    #[serde(borrow)]
    dns_request_action: Option<DnsRequest<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NetworkConnection<'a> {
    #[serde(borrow)]
    connection_direction: Option<Cow<'a, str>>,
    #[serde(borrow)]
    remote_ip_details: Option<IpDetails<'a>>,
    #[serde(borrow)]
    local_ip_details: Option<IpDetails<'a>>,
    remote_port_details: Option<PortDetails>,
    local_port_details: Option<PortDetails>,
    #[serde(borrow)]
    protocol: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PortProbe<'a> {
    #[serde(borrow, default)]
    port_probe_details: Vec<PortProbeDetail<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PortProbeDetail<'a> {
    #[serde(borrow)]
    remote_ip_details: Option<IpDetails<'a>>,
    #[serde(borrow)]
    local_ip_details: Option<IpDetails<'a>>,
    local_port_details: Option<PortDetails>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiCall<'a> {
    #[serde(borrow)]
    api: Option<Cow<'a, str>>,
    #[serde(borrow)]
    service_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    remote_ip_details: Option<IpDetails<'a>>,
    #[serde(borrow)]
    error_code: Option<Cow<'a, str>>,
    #[serde(borrow)]
    user_agent: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DnsRequest<'a> {
    #[serde(borrow)]
    domain: Option<Cow<'a, str>>,
    #[serde(borrow)]
    protocol: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IpDetails<'a> {
    #[serde(borrow, rename = "ipAddressV4")]
    v4: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "ipAddressV6")]
    v6: Option<Cow<'a, str>>,
}

impl<'a> IpDetails<'a> {
    /// The address, when it is one (the IPv4 one first).
    fn ip(self) -> Option<Cow<'a, str>> {
        (self.v4.into_iter().chain(self.v6)).find(|address| is_ip(address))
    }
}

#[derive(Deserialize)]
struct PortDetails {
    port: Option<i64>,
}

fn port(details: Option<PortDetails>) -> Option<u16> {
    details
        .and_then(|details| details.port)
        .and_then(|port| u16::try_from(port).ok())
}

fn ip<'a>(details: Option<IpDetails<'a>>) -> Option<Cow<'a, str>> {
    details.and_then(IpDetails::ip)
}

impl<'a> Action<'a> {
    /// Writes the action's type (and a connection's direction) and fills the endpoints, the
    /// transport and the API call or DNS query of `shared`; the local side's address, when the
    /// action does not give it, is the instance's first private address (`instance_ip`).
    fn write(self, out: &mut FieldWriter, shared: &mut Shared<'a>, instance_ip: Option<Cow<'a, str>>) {
        if let Some(kind) = &self.action_type {
            out.str("action_type", kind);
        }
        if let Some(connection) = self.network_connection_action {
            let remote = (
                ip(connection.remote_ip_details),
                port(connection.remote_port_details),
            );
            let local_ip = ip(connection.local_ip_details).or(instance_ip.clone());
            let local = (local_ip, port(connection.local_port_details));
            let direction = connection.connection_direction;
            if let Some(direction) = &direction {
                out.str("connection_direction", direction);
            }
            let outbound = direction.is_some_and(|direction| direction.eq_ignore_ascii_case("OUTBOUND"));
            let ((source_ip, source_port), (target_ip, target_port)) = match outbound {
                true => (local, remote),
                // INBOUND, and UNKNOWN: the remote side is taken as the one that connected.
                false => (remote, local),
            };
            (shared.client_ip, shared.client_port) = (source_ip, source_port);
            (shared.target_ip, shared.target_port) = (target_ip, target_port);
            shared.transport = connection.protocol.filter(|protocol| protocol != "Unknown");
        }
        if let Some(probe) = self.port_probe_action
            && let Some(detail) = probe.port_probe_details.into_iter().next()
        {
            shared.client_ip = ip(detail.remote_ip_details);
            shared.target_ip = ip(detail.local_ip_details).or(instance_ip);
            shared.target_port = port(detail.local_port_details);
        }
        if let Some(call) = self.aws_api_call_action {
            shared.client_ip = ip(call.remote_ip_details);
            shared.action = call.api;
            shared.provider = call.service_name;
            shared.error_code = call.error_code;
            shared.user_agent = call.user_agent;
        }
        if let Some(request) = self.dns_request_action {
            shared.transport = request.protocol;
            shared.dns = request.domain.map(|domain| {
                Box::new(Dns {
                    question_name: Some(domain),
                    ..Dns::default()
                })
            });
        }
    }
}

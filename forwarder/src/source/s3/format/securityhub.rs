//! AWS Security Hub findings, as EventBridge sends them ("Security Hub Findings - Imported"
//! events: <https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-cwe-event-formats.html>)
//! and a Firehose stream writes them to S3: the events one a line, or back to back with nothing
//! between (`}{`), under keys the stream's prefix chooses, so such an object is known by its
//! first bytes, an event of that `detail-type` from `aws.securityhub`. Each finding of an event's
//! `detail.findings` is a record, in the AWS Security Finding Format (ASFF:
//! <https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings-format.html>).
//!
//! One document per finding, under `aws.securityhub`: the scalar members by their names in
//! snake_case (`product_name` from `ProductFields`' `aws/securityhub/ProductName` in a finding
//! without `ProductName`), `Severity`, `Compliance` and `Workflow`'s members that are searched most as fields
//! of their own, the resources' ids, types, partitions and regions as keyword arrays
//! (`resources.id`), and the nested structures (`ProductFields`, the resources whole, the
//! compliance details, the network, and any member this module does not name) as
//! `flat_object`s. Its time is `UpdatedAt`; its `_id` hashes `Id` and `UpdatedAt`.
//!
//! `rule.id` is the control's id (`Compliance.SecurityControlId`) for a control's finding, else
//! `GeneratorId`; `rule.name` and `message` are `Title`; `event.severity` is
//! `Severity.Normalized` (0 to 100), or, without it, the value the ASFF page gives its `Label`.

use std::borrow::Cow;

use serde::Deserialize;

use super::finding::{self, Members, flat, number, others, strings, text};
use super::split::is_ip;
use super::time::rfc3339_ms;
use super::{
    AccessRecord, Dashboard, EventKind, FieldType, FieldWriter, FormatSpec, KeyLayout, Reading, RecordError,
    Shared, Typed,
};

/// Security Hub's row of the format table.
pub(crate) static FORMAT: FormatSpec = FormatSpec {
    name: "securityhub",
    key: KeyLayout::NONE,
    content: Some(is_findings_event),
    reading: Reading::Values {
        path: &["detail", "findings"],
        what: "Security Hub event",
    },
    typed: Some(Typed {
        object: "securityhub",
        fields: FIELDS,
        parse: |line, _, out| parse(line).map(|record| record.into_parsed(out)),
    }),
    index_prefix: Some("securityhub"),
    dashboards: &[Dashboard::Security],
};

pub(crate) const FIELDS: &[(&str, FieldType)] = &[
    ("schema_version", FieldType::Keyword),
    ("id", FieldType::Keyword),
    ("product_arn", FieldType::Keyword),
    ("product_name", FieldType::Keyword),
    ("company_name", FieldType::Keyword),
    ("region", FieldType::Keyword),
    ("generator_id", FieldType::Keyword),
    ("aws_account_id", FieldType::Keyword),
    ("types", FieldType::Keyword),
    ("first_observed_at", FieldType::Date),
    ("last_observed_at", FieldType::Date),
    ("created_at", FieldType::Date),
    ("updated_at", FieldType::Date),
    ("title", FieldType::Keyword),
    ("description", FieldType::Text),
    ("source_url", FieldType::Keyword),
    ("record_state", FieldType::Keyword),
    ("workflow_state", FieldType::Keyword),
    ("confidence", FieldType::Long),
    ("criticality", FieldType::Long),
    ("severity_label", FieldType::Keyword),
    ("severity_normalized", FieldType::Long),
    ("severity_original", FieldType::Keyword),
    ("severity_product", FieldType::Double),
    ("compliance_status", FieldType::Keyword),
    ("compliance_security_control_id", FieldType::Keyword),
    ("workflow_status", FieldType::Keyword),
    // Each a list of the resources' values, in the resources' order.
    ("resources", FieldType::Object),
    ("resource_details", FieldType::Flat),
    ("product_fields", FieldType::Flat),
    ("user_defined_fields", FieldType::Flat),
    ("compliance", FieldType::Flat),
    ("network", FieldType::Flat),
    ("other", FieldType::Flat),
];

/// Whether the text starts with an EventBridge event of `detail-type` "Security Hub Findings -
/// Imported" (whitespace aside, in either order of its members).
fn is_findings_event(text: &str) -> bool {
    text.trim_start().starts_with('{')
        && member_is(text, "detail-type", "Security Hub Findings - Imported")
        && member_is(text, "source", "aws.securityhub")
}

/// Whether `"key"`, then `:`, then `"value"` (whitespace between them aside) occurs in `text`.
fn member_is(text: &str, key: &str, value: &str) -> bool {
    let key = format!("\"{key}\"");
    let value = format!("\"{value}\"");
    text.match_indices(&key).any(|(at, _)| {
        let rest = text[at + key.len()..].trim_start();
        rest.strip_prefix(':')
            .is_some_and(|rest| rest.trim_start().starts_with(&value))
    })
}

/// The members written as they are, as strings, and their names.
const TEXTS: &[(&str, &str)] = &[
    ("SchemaVersion", "schema_version"),
    ("ProductArn", "product_arn"),
    ("CompanyName", "company_name"),
    ("FirstObservedAt", "first_observed_at"),
    ("LastObservedAt", "last_observed_at"),
    ("CreatedAt", "created_at"),
    ("Description", "description"),
    ("SourceUrl", "source_url"),
    ("RecordState", "record_state"),
    ("WorkflowState", "workflow_state"),
];

/// Parses one finding.
pub fn parse(record: &str) -> Result<AccessRecord<'_>, RecordError> {
    let Members(members) = finding::members(record, "not a Security Hub finding (JSON object)")?;
    let mut out = FieldWriter::with_capacity(record.len() + 256);
    let mut shared = Shared {
        kind: Some(EventKind::Finding),
        ..Shared::default()
    };
    let (mut id, mut updated_at, mut generator, mut control) = (None, None, None, None);
    // `ProductName`, else (in findings from before it was a member) the product field of it.
    let (mut product, mut product_field) = (None, None);
    let mut unknown = Vec::new();
    for (name, value) in members {
        if let Some((_, key)) = TEXTS.iter().find(|(member, _)| *member == name) {
            text(&mut out, key, value);
            continue;
        }
        match name.as_ref() {
            "Id" => id = text(&mut out, "id", value),
            "ProductName" => product = text(&mut out, "product_name", value),
            "Region" => shared.region = text(&mut out, "region", value),
            "GeneratorId" => generator = text(&mut out, "generator_id", value),
            "AwsAccountId" => shared.account_id = text(&mut out, "aws_account_id", value),
            "Types" => {
                let types: Vec<Cow<'_, str>> = serde_json::from_str(value.get()).unwrap_or_default();
                strings(&mut out, "types", &types);
            }
            "UpdatedAt" => updated_at = text(&mut out, "updated_at", value),
            "Title" => shared.title = text(&mut out, "title", value),
            "Confidence" => {
                number(&mut out, "confidence", value)?;
            }
            "Criticality" => {
                number(&mut out, "criticality", value)?;
            }
            "Severity" => shared.severity = severity(&mut out, value),
            "Workflow" => {
                if let Ok(workflow) = serde_json::from_str::<Workflow<'_>>(value.get())
                    && let Some(status) = workflow.status
                {
                    out.str("workflow_status", &status);
                }
            }
            "Compliance" => control = compliance(&mut out, value),
            "Resources" => shared.instance_id = resources(&mut out, value),
            "Network" => {
                flat(&mut out, "network", value);
                network(value.get(), &mut shared);
            }
            "ProductFields" => {
                flat(&mut out, "product_fields", value);
                product_field = serde_json::from_str::<ProductFields<'_>>(value.get())
                    .ok()
                    .and_then(|fields| fields.product_name);
            }
            "UserDefinedFields" => flat(&mut out, "user_defined_fields", value),
            _ => unknown.push((name, value)),
        }
    }
    if let (None, Some(name)) = (product, product_field) {
        out.str("product_name", &name);
    }
    others(&mut out, "other", &unknown);
    let Some(id) = id else {
        return Err(RecordError::Shape(
            "not a Security Hub finding: it has no Id".to_string(),
        ));
    };
    shared.rule_id = control.or(generator);
    shared.rule_name = shared.title.clone();
    shared.own_id = finding::own_id(&id, updated_at.as_deref());
    Ok(AccessRecord {
        time_ms: updated_at.as_deref().and_then(rfc3339_ms),
        fields: out.finish(),
        shared,
    })
}

/// Writes `Compliance` whole and its status and control id, and gives the control id.
fn compliance<'a>(out: &mut FieldWriter, value: &'a serde_json::value::RawValue) -> Option<Cow<'a, str>> {
    flat(out, "compliance", value);
    let compliance: Compliance<'_> = serde_json::from_str(value.get()).unwrap_or_default();
    if let Some(status) = &compliance.status {
        out.str("compliance_status", status);
    }
    if let Some(id) = &compliance.security_control_id {
        out.str("compliance_security_control_id", id);
    }
    compliance.security_control_id
}

/// Writes `Severity`'s members and gives `event.severity`: `Normalized`, else the value the ASFF
/// page says `Normalized` takes for a `Label` given alone.
fn severity(out: &mut FieldWriter, value: &serde_json::value::RawValue) -> Option<i64> {
    let severity: Severity<'_> = serde_json::from_str(value.get()).ok()?;
    if let Some(label) = &severity.label {
        out.str("severity_label", label);
    }
    let normalized = severity.normalized.map(|normalized| normalized.round() as i64);
    if let Some(normalized) = normalized {
        out.raw_key("severity_normalized")
            .push_str(&normalized.to_string());
    }
    if let Some(original) = &severity.original {
        out.str("severity_original", original);
    }
    if let Some(product) = severity.product.filter(|product| product.is_finite()) {
        crate::json::push_f64(out.raw_key("severity_product"), product);
    }
    normalized.or_else(|| {
        Some(match severity.label.as_deref()? {
            "INFORMATIONAL" => 0,
            "LOW" => 1,
            "MEDIUM" => 40,
            "HIGH" => 70,
            "CRITICAL" => 90,
            _ => return None,
        })
    })
}

/// Writes the resources' ids, types, partitions and regions as lists (`resources.id`…), and
/// each resource whole (`resource_details.resources`); gives the instance id of the first EC2
/// instance among them (`arn:…:instance/i-…`).
fn resources<'a>(out: &mut FieldWriter, value: &'a serde_json::value::RawValue) -> Option<Cow<'a, str>> {
    let resources: Vec<Resource<'_>> = serde_json::from_str(value.get()).unwrap_or_default();
    let list = |pick: for<'r> fn(&'r Resource<'a>) -> Option<&'r Cow<'a, str>>| -> Vec<&str> {
        resources
            .iter()
            .filter_map(pick)
            .map(|text| text.as_ref())
            .collect()
    };
    let mut lists = String::new();
    for (key, items) in [
        ("id", list(|resource| resource.id.as_ref())),
        ("type", list(|resource| resource.kind.as_ref())),
        ("partition", list(|resource| resource.partition.as_ref())),
        ("region", list(|resource| resource.region.as_ref())),
    ] {
        if items.is_empty() {
            continue;
        }
        lists.push(if lists.is_empty() { '{' } else { ',' });
        crate::json::push_key(&mut lists, key);
        lists.push('[');
        for (n, item) in items.iter().enumerate() {
            if n > 0 {
                lists.push(',');
            }
            crate::json::push_str(&mut lists, item);
        }
        lists.push(']');
    }
    if !lists.is_empty() {
        lists.push('}');
        out.raw_json("resources", &lists);
    }
    let details = out.raw_key("resource_details");
    details.push_str("{\"resources\":");
    crate::json::push_raw_json(details, value.get());
    details.push('}');
    resources
        .iter()
        .filter(|resource| resource.kind.as_deref() == Some("AwsEc2Instance"))
        .find_map(|resource| {
            let id = resource.id.as_ref()?;
            let at = id.rfind("instance/")?;
            Some(Cow::Owned(id[at + "instance/".len()..].to_string()))
        })
}

/// What `Network` says of the traffic: `source.*`, `destination.*`, `network.transport`.
fn network<'a>(value: &'a str, shared: &mut Shared<'a>) {
    let Ok(network) = serde_json::from_str::<Network<'_>>(value) else {
        return;
    };
    let address = |v4: Option<Cow<'a, str>>, v6: Option<Cow<'a, str>>| {
        v4.into_iter().chain(v6).find(|address| is_ip(address))
    };
    shared.client_ip = address(network.source_ip_v4, network.source_ip_v6);
    shared.client_port = network.source_port.and_then(|port| u16::try_from(port).ok());
    shared.target_ip = address(network.destination_ip_v4, network.destination_ip_v6);
    shared.target_port = network.destination_port.and_then(|port| u16::try_from(port).ok());
    shared.transport = network.protocol;
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Severity<'a> {
    #[serde(borrow)]
    label: Option<Cow<'a, str>>,
    normalized: Option<f64>,
    #[serde(borrow)]
    original: Option<Cow<'a, str>>,
    product: Option<f64>,
}

#[derive(Deserialize)]
struct ProductFields<'a> {
    #[serde(borrow, rename = "aws/securityhub/ProductName")]
    product_name: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Workflow<'a> {
    #[serde(borrow)]
    status: Option<Cow<'a, str>>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Compliance<'a> {
    #[serde(borrow)]
    status: Option<Cow<'a, str>>,
    #[serde(borrow)]
    security_control_id: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Resource<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "Type")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    partition: Option<Cow<'a, str>>,
    #[serde(borrow)]
    region: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Network<'a> {
    #[serde(borrow)]
    source_ip_v4: Option<Cow<'a, str>>,
    #[serde(borrow)]
    source_ip_v6: Option<Cow<'a, str>>,
    source_port: Option<i64>,
    #[serde(borrow)]
    destination_ip_v4: Option<Cow<'a, str>>,
    #[serde(borrow)]
    destination_ip_v6: Option<Cow<'a, str>>,
    destination_port: Option<i64>,
    #[serde(borrow)]
    protocol: Option<Cow<'a, str>>,
}

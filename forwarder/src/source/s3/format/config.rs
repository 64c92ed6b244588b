//! AWS Config configuration history and snapshot files, which the delivery channel writes to S3
//! under `…/AWSLogs/ACCOUNT/Config/REGION/YYYY/M/D/ConfigHistory/
//! ACCOUNT_Config_REGION_ConfigHistory_RESOURCETYPE_START_END_N.json.gz` and
//! `…/ConfigSnapshot/ACCOUNT_Config_REGION_ConfigSnapshot_TIME_SNAPSHOTID.json.gz`
//! (<https://docs.aws.amazon.com/config/latest/developerguide/config-concepts.html>, delivery
//! channel: <https://docs.aws.amazon.com/config/latest/developerguide/manage-delivery-channel.html>).
//! A file is `{"fileVersion":…,"configurationItems":[…]}`, read one item at a time
//! (<https://docs.aws.amazon.com/config/latest/developerguide/deliver-snapshot-cli.html>, example
//! snapshot); an item's members are those of a configuration item
//! (<https://docs.aws.amazon.com/config/latest/developerguide/config-item-table.html>,
//! <https://docs.aws.amazon.com/config/latest/APIReference/API_ConfigurationItem.html>) as the
//! delivered files spell them (`awsAccountId`, `ARN`, `configurationStateId`; see the example
//! change notifications,
//! <https://docs.aws.amazon.com/config/latest/developerguide/example-sns-notification.html>).
//!
//! One document per item, under `aws.config` in snake_case. The item's `configuration`,
//! `supplementaryConfiguration` and `tags`, whose shapes vary per resource type (and may hold
//! strings that look like numbers or dates), are `flat_object` fields: their leaves are
//! searchable and can never cause a mapping conflict. `configurationItemCaptureTime` is the
//! record's time.
//!
//! Beside them Config writes `ConfigWritabilityCheckFile` (empty: it checks that it may write to
//! the bucket) and, when a change notification is too big for SNS, the whole notification under
//! `…/OversizedChangeNotification/…`, whose item is in the history file too
//! (<https://docs.aws.amazon.com/config/latest/developerguide/oversized-notification-example.html>):
//! [`CHECK_FORMAT`] skips both.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::time::rfc3339_ms;
use super::waf::snake_case;
use super::{
    AccessRecord, Dashboard, EventKind, FieldType, FieldWriter, FormatSpec, KeyLayout, Reading, RecordError,
    Shared, Typed,
};
use crate::json::unique_members;

/// The history and snapshot files.
pub(crate) static FORMAT: FormatSpec = FormatSpec {
    name: "config",
    key: KeyLayout {
        service: Some("Config"),
        file: Some(is_items_file),
    },
    content: Some(is_items_text),
    reading: Reading::Records {
        member: "configurationItems",
        what: "AWS Config history or snapshot file",
        time: capture_time,
        // The typed parser says what an item says in ECS's terms.
        ecs: |_| None,
    },
    typed: Some(Typed {
        object: "config",
        fields: FIELDS,
        parse: |item, _, out| parse(item).map(|record| record.into_parsed(out)),
    }),
    index_prefix: Some("config"),
    dashboards: &[Dashboard::Security],
};

/// What else Config writes under its folder, skipped: the writability check file and oversized
/// change notifications. A skipped object is counted (`objects_skipped`) and acknowledged; a rule
/// of `S3_FORMATS` naming `json-lines` for these keys indexes them instead.
pub(crate) static CHECK_FORMAT: FormatSpec = FormatSpec {
    name: "config-check",
    key: KeyLayout {
        service: Some("Config"),
        file: Some(is_check_file),
    },
    content: None,
    reading: Reading::Skip {
        why: "AWS Config's writability check file and oversized change notifications hold no configuration items of their own",
    },
    typed: None,
    index_prefix: None,
    dashboards: &[],
};

/// The fields of an item, under `aws.config`. `relationships` is a list of objects, which a
/// `flat_object` does not take: an object of keywords (its members are always strings).
pub(crate) const FIELDS: &[(&str, FieldType)] = &[
    ("configuration_item_version", FieldType::Keyword),
    ("configuration_item_capture_time", FieldType::Date),
    ("configuration_item_status", FieldType::Keyword),
    ("configuration_state_id", FieldType::Keyword),
    ("resource_type", FieldType::Keyword),
    ("resource_id", FieldType::Keyword),
    ("resource_name", FieldType::Keyword),
    ("arn", FieldType::Keyword),
    ("availability_zone", FieldType::Keyword),
    ("resource_creation_time", FieldType::Date),
    ("configuration_state_md5_hash", FieldType::Keyword),
    ("configuration_item_md5_hash", FieldType::Keyword),
    ("related_events", FieldType::Keyword),
    ("relationships", FieldType::Object),
    ("tags", FieldType::Flat),
    ("configuration", FieldType::Flat),
    ("supplementary_configuration", FieldType::Flat),
];

/// The members written as text, each under its key: the names delivered files use, then those
/// of the documentation's older example snapshot (`configurationStateID`, `arn`, and its
/// `availibilityZone`).
const TEXTS: &[(&[&str], &str)] = &[
    (&["configurationItemVersion"], "configuration_item_version"),
    (
        &["configurationItemCaptureTime"],
        "configuration_item_capture_time",
    ),
    (&["configurationItemStatus"], "configuration_item_status"),
    (
        &["configurationStateId", "configurationStateID"],
        "configuration_state_id",
    ),
    (&["resourceType"], "resource_type"),
    (&["resourceId"], "resource_id"),
    (&["resourceName"], "resource_name"),
    (&["ARN", "arn"], "arn"),
    (&["availabilityZone", "availibilityZone"], "availability_zone"),
    (&["resourceCreationTime"], "resource_creation_time"),
    (&["configurationStateMd5Hash"], "configuration_state_md5_hash"),
    (&["configurationItemMD5Hash"], "configuration_item_md5_hash"),
];

/// The members kept as `flat_object`s.
const FLATS: &[(&str, &str)] = &[
    ("tags", "tags"),
    ("configuration", "configuration"),
    ("supplementaryConfiguration", "supplementary_configuration"),
];

/// `ACCOUNT_Config_REGION_ConfigHistory_…json.gz` or `…_ConfigSnapshot_…json.gz`.
fn is_items_file(file: &str) -> bool {
    (file.contains("_ConfigHistory_") || file.contains("_ConfigSnapshot_")) && file.ends_with(".json.gz")
}

/// `ConfigWritabilityCheckFile`, or `ACCOUNT_Config_REGION_ChangeNotification_…json.gz`.
fn is_check_file(file: &str) -> bool {
    file == "ConfigWritabilityCheckFile"
        || (file.contains("_Config_") && file.contains("_ChangeNotification_"))
}

/// Whether the text starts as a history or snapshot file does: an object whose members before
/// `"configurationItems":[` are plain values (`fileVersion`, `configSnapshotId`, `requestId`).
fn is_items_text(text: &str) -> bool {
    let compact: String = text.chars().take(1024).filter(|c| !c.is_whitespace()).collect();
    let Some(inside) = compact.strip_prefix('{') else {
        return false;
    };
    inside
        .find("\"configurationItems\":[")
        .is_some_and(|at| !inside[..at].contains(['{', '[']))
}

/// An item's `configurationItemCaptureTime`, in milliseconds.
fn capture_time(item: &str) -> Option<i64> {
    #[derive(Deserialize)]
    struct Time<'a> {
        #[serde(rename = "configurationItemCaptureTime", borrow)]
        time: Option<Cow<'a, str>>,
    }
    serde_json::from_str::<Time>(item)
        .ok()
        .and_then(|time| time.time.as_deref().and_then(rfc3339_ms))
}

/// Parses one configuration item.
pub fn parse(item: &str) -> Result<AccessRecord<'static>, RecordError> {
    let mut members: HashMap<String, &RawValue> =
        serde_json::from_str(item).map_err(|err| RecordError::Json {
            what: "not an AWS Config configuration item (JSON object)",
            reason: err.to_string(),
        })?;
    let mut out = FieldWriter::with_capacity(item.len() + 64);
    let mut texts: HashMap<&str, String> = HashMap::new();
    for (names, key) in TEXTS {
        let values: Vec<&RawValue> = names.iter().filter_map(|name| members.remove(*name)).collect();
        if let Some(value) = values.into_iter().find_map(text) {
            let value = value.map_err(|json| RecordError::value(names[0], "a string", &json))?;
            out.str(key, &value);
            texts.insert(key, value.into_owned());
        }
    }
    let time_ms =
        match texts.get("configuration_item_capture_time") {
            Some(time) => Some(rfc3339_ms(time).ok_or_else(|| {
                RecordError::value("configurationItemCaptureTime", "an RFC 3339 time", time)
            })?),
            None => None,
        };
    if let Some(events) = members.remove("relatedEvents") {
        let events: Vec<Value> = serde_json::from_str(events.get()).unwrap_or_default();
        let events: Vec<&str> = events.iter().filter_map(Value::as_str).collect();
        if !events.is_empty() {
            out.string_list("related_events", events.iter());
        }
    }
    if let Some(relationships) = members.remove("relationships")
        && let Some(Value::Array(list)) = without_nulls(relationships)
        && !list.is_empty()
    {
        out.raw_json("relationships", &Value::Array(list).to_string());
    }
    for (name, key) in FLATS {
        if let Some(value) = members.remove(*name)
            && let Some(Value::Object(object)) = without_nulls(value)
            && !object.is_empty()
        {
            out.raw_json(key, &Value::Object(object).to_string());
        }
    }
    let account = take_text(&mut members, &["awsAccountId", "accountId"]);
    let region = take_text(&mut members, &["awsRegion"]);
    write_others(&mut out, members);
    let shared = shared(&texts, account, region);
    Ok(AccessRecord {
        time_ms,
        fields: unique_members(out.finish()),
        shared,
    })
}

/// What an item says in ECS's terms: its status as `event.action`, its account, region and
/// Availability Zone as `cloud.*` (an EC2 instance's id as `cloud.instance.id`), and its own id:
/// account, region, resource type and id, and `configurationStateId` (else the capture time),
/// the same whether the item is read from a history file or again from a snapshot.
fn shared(texts: &HashMap<&str, String>, account: Option<String>, region: Option<String>) -> Shared<'static> {
    let text = |key: &str| texts.get(key).cloned();
    let (kind, id) = (text("resource_type"), text("resource_id"));
    let state = text("configuration_state_id").or(text("configuration_item_capture_time"));
    let own_id = match (&kind, &id, &state) {
        (Some(kind), Some(id), Some(state)) => Some(format!(
            "{}/{}/{kind}/{id}/{state}",
            account.as_deref().unwrap_or_default(),
            region.as_deref().unwrap_or_default()
        )),
        _ => None,
    };
    let instance = id.filter(|_| kind.as_deref() == Some("AWS::EC2::Instance"));
    Shared {
        kind: Some(EventKind::Configuration),
        action: text("configuration_item_status").map(Cow::Owned),
        account_id: account.map(Cow::Owned),
        region: region.map(Cow::Owned),
        instance_id: instance.map(Cow::Owned),
        availability_zone: text("availability_zone")
            .filter(|zone| is_zone(zone))
            .map(Cow::Owned),
        own_id: own_id.map(Cow::Owned),
        ..Shared::default()
    }
}

/// Whether an item's `availabilityZone` names a zone (`us-east-2c`, `use1-az1`), not
/// `Regional`, `Multiple Availability Zones` or `Not Applicable`.
fn is_zone(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_lowercase())
        && text.contains('-')
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The members no table names, by their names in snake_case: strings, numbers and booleans
/// written as they are; objects and lists left to `message`, which holds the whole item, so
/// that a member AWS adds cannot cause a mapping conflict.
fn write_others(out: &mut FieldWriter, members: HashMap<String, &RawValue>) {
    let mut others: Vec<(String, &RawValue)> = members.into_iter().collect();
    others.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, value) in others {
        let key = snake_case(&name);
        match value.get().as_bytes().first() {
            Some(b'"') => {
                if let Some(Ok(text)) = text(value) {
                    out.str(&key, &text);
                }
            }
            Some(b'n' | b'{' | b'[') | None => {}
            Some(_) => out.raw_json(&key, value.get()),
        }
    }
}

/// The first of `names` whose value is a text, removed with the others.
fn take_text(members: &mut HashMap<String, &RawValue>, names: &[&str]) -> Option<String> {
    let values: Vec<&RawValue> = names.iter().filter_map(|name| members.remove(*name)).collect();
    values
        .into_iter()
        .find_map(|value| text(value).and_then(Result::ok))
        .map(Cow::into_owned)
        .filter(|text| !text.is_empty())
}

/// A member's value as text: a string's text, a number or boolean as written; `None` for `null`;
/// the JSON of an object or list as the error.
fn text(value: &RawValue) -> Option<Result<Cow<'_, str>, String>> {
    #[derive(Deserialize)]
    struct Text<'a>(#[serde(borrow)] Cow<'a, str>);
    let json = value.get();
    match json.as_bytes().first()? {
        b'"' => serde_json::from_str::<Text>(json).ok().map(|Text(text)| Ok(text)),
        b'n' => None,
        b'{' | b'[' => Some(Err(json.to_string())),
        _ => Some(Ok(Cow::Borrowed(json))),
    }
}

/// A JSON value without its `null`s, at any depth (members and list items): `null` says there
/// is no value, and `flat_object` fields of OpenSearch 2.12 to 2.15 refused or mis-indexed them.
/// `None` when the value itself is `null`.
fn without_nulls(value: &RawValue) -> Option<Value> {
    fn clean(value: Value) -> Option<Value> {
        match value {
            Value::Null => None,
            Value::Object(object) => Some(Value::Object(
                object
                    .into_iter()
                    .filter_map(|(key, value)| clean(value).map(|value| (key, value)))
                    .collect(),
            )),
            Value::Array(items) => Some(Value::Array(items.into_iter().filter_map(clean).collect())),
            other => Some(other),
        }
    }
    serde_json::from_str(value.get()).ok().and_then(clean)
}

#[cfg(test)]
mod tests;

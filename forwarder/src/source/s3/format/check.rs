//! What every parser's tests check of the fields it writes.

use serde_json::{Map, Value};

use super::FieldType;

/// The fields of a record as a JSON object.
pub fn object(fields: &str) -> Map<String, Value> {
    serde_json::from_str(&format!("{{{fields}}}")).expect("the fields are a JSON object")
}

/// The fields of a record as a JSON object; panics unless every key written is in `table`
/// with a type its value (or each item of its list) fits.
pub fn typed(fields: &str, table: &[(&str, FieldType)]) -> Map<String, Value> {
    let object = object(fields);
    for (key, value) in &object {
        let (_, kind) = table
            .iter()
            .find(|(name, _)| name == key)
            .unwrap_or_else(|| panic!("{key} is written but not in FIELDS"));
        let items = match (kind, value) {
            (FieldType::Object | FieldType::Flat, _) => std::slice::from_ref(value),
            (_, Value::Array(items)) => items.as_slice(),
            (_, value) => std::slice::from_ref(value),
        };
        for item in items {
            assert!(fits(item, *kind), "{key}: {item} does not fit {kind:?}");
        }
    }
    object
}

fn fits(value: &Value, kind: FieldType) -> bool {
    match (kind, value) {
        (FieldType::Keyword | FieldType::Text, Value::String(_)) => true,
        (FieldType::Ip, Value::String(text)) => text.parse::<std::net::IpAddr>().is_ok(),
        (FieldType::Date, Value::String(text)) => {
            chrono::DateTime::parse_from_rfc3339(text).is_ok()
                || chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
                || chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
        }
        (FieldType::Date, Value::Number(number)) => number.is_i64(),
        (FieldType::Long, Value::Number(number)) => number.is_i64() || number.is_u64(),
        (FieldType::Double, Value::Number(_)) => true,
        (FieldType::Boolean, Value::Bool(_)) => true,
        (FieldType::Object, Value::Object(_) | Value::Array(_)) => true,
        (FieldType::Flat, Value::Object(_)) => true,
        _ => false,
    }
}

//! What the two finding formats (GuardDuty's, Security Hub's ASFF) share: a finding's members in
//! their order, each kept as the JSON it was written as, and the ways they are written under
//! `aws.<object>`: a string, a number, a date as written, and a nested structure as a
//! `flat_object` (one line), which no inner type can turn into a mapping conflict.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{FieldWriter, RecordError};
use crate::json::{push_key, push_raw_json, push_str};

pub(super) use super::members::Members;

/// The members of `record`, a JSON object; `what` names the record in the error of one that is
/// not.
pub(super) fn members<'a>(record: &'a str, what: &'static str) -> Result<Members<'a>, RecordError> {
    if record.trim().is_empty() {
        return Err(RecordError::Blank);
    }
    serde_json::from_str(record).map_err(|err| RecordError::Json {
        what,
        reason: err.to_string(),
    })
}

/// A JSON string's text, borrowed where it has no escapes; `None` for any other value.
pub(super) fn string(value: &RawValue) -> Option<Cow<'_, str>> {
    #[derive(Deserialize)]
    struct Text<'a>(#[serde(borrow)] Cow<'a, str>);
    serde_json::from_str::<Text<'_>>(value.get())
        .ok()
        .map(|Text(text)| text)
        .filter(|text| !text.is_empty())
}

/// Writes a string member as a string field (left out when `null` or empty) and gives its text.
pub(super) fn text<'a>(out: &mut FieldWriter, key: &str, value: &'a RawValue) -> Option<Cow<'a, str>> {
    let text = string(value)?;
    out.str(key, &text);
    Some(text)
}

/// Writes a number member as it is and gives its value; `null` is left out, anything else is an
/// error naming the field.
pub(super) fn number(out: &mut FieldWriter, key: &str, value: &RawValue) -> Result<Option<f64>, RecordError> {
    if value.get() == "null" {
        return Ok(None);
    }
    let number: f64 =
        serde_json::from_str(value.get()).map_err(|_| RecordError::value(key, "a number", value.get()))?;
    out.raw_json(key, value.get());
    Ok(Some(number))
}

/// Writes a boolean member; anything else is left out.
pub(super) fn boolean(out: &mut FieldWriter, key: &str, value: &RawValue) {
    if let Ok(value) = serde_json::from_str::<bool>(value.get()) {
        out.bool(key, value);
    }
}

/// Writes a nested structure for a `flat_object` field, on one line; `null` is left out.
pub(super) fn flat(out: &mut FieldWriter, key: &str, value: &RawValue) {
    if value.get() != "null" {
        push_raw_json(out.raw_key(key), value.get());
    }
}

/// Writes the members no field names, as one `flat_object`: `{"name":value,…}` with AWS's own
/// names, so nothing a finding holds is lost and none of it can conflict with a mapping.
pub(super) fn others(out: &mut FieldWriter, key: &str, members: &[(Cow<'_, str>, &RawValue)]) {
    let members: Vec<_> = members
        .iter()
        .filter(|(_, value)| value.get() != "null")
        .collect();
    if members.is_empty() {
        return;
    }
    let json = out.raw_key(key);
    json.push('{');
    for (n, (name, value)) in members.iter().enumerate() {
        if n > 0 {
            json.push(',');
        }
        push_key(json, name);
        push_raw_json(json, value.get());
    }
    json.push('}');
}

/// Writes a list of strings as a keyword array (left out when empty).
pub(super) fn strings<S: AsRef<str>>(out: &mut FieldWriter, key: &str, items: &[S]) {
    if items.is_empty() {
        return;
    }
    let json = out.raw_key(key);
    json.push('[');
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            json.push(',');
        }
        push_str(json, item.as_ref());
    }
    json.push(']');
}

/// A finding's own id, as the document's `_id` hashes it: its id and its update time, so an
/// updated finding is a new document and the same version read again is the same one.
pub(super) fn own_id(id: &str, updated_at: Option<&str>) -> Option<Cow<'static, str>> {
    updated_at.map(|updated_at| Cow::Owned(format!("{id}/{updated_at}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_written_by_their_json_type() {
        let Members(members) =
            members(r#"{"a":"x","b":1.5,"c":{"d":[1,"e"]},"f":null,"g":true}"#, "test").unwrap();
        let mut out = FieldWriter::default();
        assert_eq!(text(&mut out, "a", members[0].1).as_deref(), Some("x"));
        assert_eq!(number(&mut out, "b", members[1].1).unwrap(), Some(1.5));
        flat(&mut out, "c", members[2].1);
        flat(&mut out, "f", members[3].1);
        boolean(&mut out, "g", members[4].1);
        others(&mut out, "other", &members[2..]);
        assert!(number(&mut out, "a", members[0].1).is_err());
        assert_eq!(
            out.finish(),
            r#""a":"x","b":1.5,"c":{"d":[1,"e"]},"g":true,"other":{"c":{"d":[1,"e"]},"g":true}"#
        );
        assert!(super::members("[1]", "a test record").is_err());
        assert_eq!(
            super::members(" ", "a test record").err(),
            Some(RecordError::Blank)
        );
    }
}

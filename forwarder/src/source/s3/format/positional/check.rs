//! Test helpers the ALB, NLB and Classic Load Balancer tests share.

use serde_json::Value;

use super::super::FieldType;
use super::{Kind, Layout};

/// The fields of a record as a JSON object, checked against `table`
/// ([`super::super::check::typed`]).
pub fn typed(fields: &str, table: &[(&str, FieldType)]) -> Value {
    Value::Object(super::super::check::typed(fields, table))
}

/// Panics unless `table` lists exactly the keys `layout` can write, with the types their
/// kinds give them.
pub fn covers(layout: &Layout, table: &[(&str, FieldType)]) {
    let mut writable = vec![("extra_fields", FieldType::Keyword)];
    for column in layout.columns {
        let name = column.name;
        match column.kind {
            Kind::Time | Kind::UserAgent => {}
            Kind::Text | Kind::List(_) => writable.push((name, FieldType::Keyword)),
            Kind::Ip => writable.push((name, FieldType::Ip)),
            Kind::Whole | Kind::WholeList(_) => writable.push((name, FieldType::Long)),
            Kind::Decimal => writable.push((name, FieldType::Double)),
            Kind::Date => writable.push((name, FieldType::Date)),
            Kind::Address { ip, port } => writable.extend([(ip, FieldType::Ip), (port, FieldType::Long)]),
            Kind::Request => writable.extend(
                ["request_method", "request_url", "request_protocol"].map(|key| (key, FieldType::Keyword)),
            ),
            Kind::Validity {
                not_before,
                not_after,
            } => writable.extend([
                (name, FieldType::Keyword),
                (not_before, FieldType::Date),
                (not_after, FieldType::Date),
            ]),
        }
    }
    let mut listed = table.to_vec();
    listed.sort_by_key(|(name, _)| *name);
    writable.sort_by_key(|(name, _)| *name);
    assert_eq!(listed, writable, "FIELDS of {}", layout.what);
}

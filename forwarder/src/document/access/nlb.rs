//! (being written)

use super::{AccessRecord, FieldType};

pub const FIELDS: &[(&str, FieldType)] = &[];

pub fn parse(_line: &str) -> Result<AccessRecord, String> {
    Err("not parsed yet".to_string())
}

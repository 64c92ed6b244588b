//! (being written)

use super::{AccessRecord, Context, FieldType};

pub const FIELDS: &[(&str, FieldType)] = &[];

pub fn parse(_line: &str, _context: Context<'_>) -> Result<AccessRecord, String> {
    Err("not parsed yet".to_string())
}

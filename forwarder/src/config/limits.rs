//! `MAX_RECORD_BYTES`, `MAX_PAYLOAD_BYTES`, `MAX_OBJECT_EXPANSION`, `MAX_JSON_DEPTH` and
//! `MAX_FIELDS`: the limits on input ([`crate::limits`]).

use sluice_edge::settings::number;

use super::{RawConfig, SettingError};
use crate::limits::{
    DEFAULT_MAX_FIELDS, DEFAULT_MAX_JSON_DEPTH, DEFAULT_MAX_OBJECT_EXPANSION, DEFAULT_MAX_PAYLOAD_BYTES,
    DEFAULT_MAX_RECORD_BYTES, Limits,
};

/// Every limit, each within the range it can be set to.
pub(super) fn limits(raw: &RawConfig) -> Result<Limits, SettingError> {
    Ok(Limits {
        max_record_bytes: number(
            &raw.max_record_bytes,
            "MAX_RECORD_BYTES",
            DEFAULT_MAX_RECORD_BYTES,
            1024..=64 << 20,
        )?,
        max_payload_bytes: number(
            &raw.max_payload_bytes,
            "MAX_PAYLOAD_BYTES",
            DEFAULT_MAX_PAYLOAD_BYTES,
            1 << 20..=1 << 30,
        )?,
        max_object_expansion: number(
            &raw.max_object_expansion,
            "MAX_OBJECT_EXPANSION",
            DEFAULT_MAX_OBJECT_EXPANSION,
            0..=1_000_000,
        )?,
        // serde_json reads no deeper than 128.
        max_json_depth: number(
            &raw.max_json_depth,
            "MAX_JSON_DEPTH",
            DEFAULT_MAX_JSON_DEPTH,
            1..=128,
        )?,
        max_fields: number(&raw.max_fields, "MAX_FIELDS", DEFAULT_MAX_FIELDS, 1..=100_000)?,
    })
}

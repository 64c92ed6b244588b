//! OpenSearch Dashboards saved objects for what Sluice writes: an index pattern per index prefix,
//! a "Lambda" dashboard, an "Errors" saved search and an "Access logs" dashboard
//! (docs/dashboards.md describes every panel).
//!
//! The objects are generated from the forwarder's own settings rather than shipped as a static
//! file, so the index patterns always match the indices this configuration writes
//! (`INDEX_PREFIX`, `DEAD_LETTER_INDEX`, `S3_INDEX_PREFIXES`). [`to_ndjson`] gives the file that
//! `_dashboards/api/saved_objects/_import` takes; [`import`] sends it.
//!
//! Saved object formats are those of OpenSearch Dashboards 1.x/2.x (Kibana 7.10's): visualizations
//! hold their `visState` and `searchSourceJSON` as JSON strings, and name their index pattern
//! through `references`, so ids stay stable and an import resolves them.

pub mod import;
mod panels;
mod visual;

use serde::Serialize;
use serde_json::{Value, json};

use crate::document::{DocumentFormat, DocumentOptions};
use crate::source::s3::format::{Dashboard, FORMATS};

pub use self::visual::{Agg, Chart, Query};

/// One saved object, one line of the `.ndjson` file.
#[derive(Debug, Clone, Serialize)]
pub struct SavedObject {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: String,
    pub attributes: Value,
    pub references: Vec<Reference>,
    /// The newest saved-object migration the object is already in (`{"visualization":
    /// "7.10.0"}`), so an import stores it as written instead of running it through older
    /// migrations; the versions are those of OpenSearch Dashboards 1.x and 2.x.
    #[serde(rename = "migrationVersion")]
    pub migration_version: Value,
    /// What a visualization or search selects and aggregates on, kept beside its JSON so tests
    /// can check it against real documents; not part of the file.
    #[serde(skip)]
    pub uses: Option<Uses>,
}

/// A reference from one saved object to another, by type and id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reference {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: String,
}

/// The index pattern, query and fields of a visualization or saved search.
#[derive(Debug, Clone)]
pub struct Uses {
    /// The id of the index pattern it searches.
    pub index_pattern: String,
    pub query: Query,
    /// Every field it aggregates on or shows as a column.
    pub fields: Vec<&'static str>,
}

/// The `references` name of the index pattern of a visualization or search, as Dashboards' own
/// exports spell it.
pub(crate) const INDEX_REF: &str = "kibanaSavedObjectMeta.searchSourceJSON.index";

/// Every saved object for the indices `options` write: index patterns first, then the objects
/// that reference them, so an import never meets a reference before its target.
///
/// With `DOCUMENT_FORMAT=blueprint` log events have none of the fields the Lambda dashboard and
/// the Errors search read, so those are left out; the index patterns and the access logs (whose
/// documents keep Sluice's shape) remain. Public so the end-to-end tests can run each panel's
/// aggregations on indexed documents.
pub fn saved_objects(options: &DocumentOptions) -> Vec<SavedObject> {
    let events = options.index.prefix();
    let mut objects = vec![index_pattern(&pattern_id(events), &format!("{events}-*"))];
    // `<prefix>-*` covers the default dead-letter index too; its own pattern shows it alone.
    let dead_letter = options.dead_letter_index();
    objects.push(index_pattern(&pattern_id(&dead_letter), &dead_letter));
    for (prefix, _) in options.objects.by_prefix() {
        let title = format!("{prefix}-*");
        if objects.iter().all(|object| object.attributes["title"] != title) {
            objects.push(index_pattern(&pattern_id(prefix), &title));
        }
    }
    // The formats whose rows name the "Access logs" dashboard: the ones that log served HTTP
    // requests (WAF logs the same requests as what it guards; NLB, ALB connection and VPC flow
    // logs have no request).
    let access = prefixes_of(options, Dashboard::HttpAccess);
    objects.push(index_pattern(ACCESS_PATTERN_ID, &access.join(",")));
    let security = prefixes_of(options, Dashboard::Security);
    objects.push(index_pattern(SECURITY_PATTERN_ID, &security.join(",")));

    if options.format == DocumentFormat::Sluice {
        objects.extend(panels::lambda(&pattern_id(events), events));
    }
    objects.extend(panels::access_logs(ACCESS_PATTERN_ID));
    objects.extend(panels::security(SECURITY_PATTERN_ID));
    objects
}

/// `<prefix>-*` of each prefix the formats shown by `board` write to, each once.
fn prefixes_of(options: &DocumentOptions, board: Dashboard) -> Vec<String> {
    let mut titles: Vec<String> = Vec::new();
    for format in FORMATS.iter().filter(|format| format.dashboards.contains(&board)) {
        let title = format!("{}-*", options.objects.naming(*format).prefix());
        if !titles.contains(&title) {
            titles.push(title);
        }
    }
    titles
}

/// The id of the index pattern that spans the HTTP access logs' prefixes.
pub(crate) const ACCESS_PATTERN_ID: &str = "sluice-access-logs";

/// The id of the index pattern that spans the security sources' prefixes.
pub(crate) const SECURITY_PATTERN_ID: &str = "sluice-security";

/// The id of the index pattern of a prefix (or of the dead-letter index).
pub(crate) fn pattern_id(prefix: &str) -> String {
    format!("sluice-{prefix}")
}

/// An index pattern whose time field is `@timestamp`, which every Sluice document has. The field
/// list is left out: Dashboards reads it from the cluster's mappings when the pattern is opened.
fn index_pattern(id: &str, title: &str) -> SavedObject {
    SavedObject {
        kind: "index-pattern",
        id: id.to_string(),
        attributes: json!({"title": title, "timeFieldName": "@timestamp"}),
        references: Vec::new(),
        migration_version: json!({"index-pattern": "7.6.0"}),
        uses: None,
    }
}

/// The saved objects as the `.ndjson` import file: one JSON object a line.
pub(crate) fn to_ndjson(objects: &[SavedObject]) -> String {
    let mut out = String::new();
    for object in objects {
        out.push_str(&serde_json::to_string(object).expect("saved objects serialise"));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod import_tests;
#[cfg(test)]
mod samples;
#[cfg(test)]
mod tests;

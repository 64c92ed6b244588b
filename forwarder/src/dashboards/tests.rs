//! The saved objects checked against what the forwarder really writes: documents built by the
//! [`DocumentBuilder`] from a Lambda function's log lines and from AWS's documented access log
//! examples (tests/fixtures/access, and two lines with public clients), enriched with the small
//! GeoIP databases of the enrichment's tests, and the index templates the forwarder installs.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use serde_json::Value;

use super::samples::{Sample, access_samples, lambda_samples};
use super::*;
use crate::config::{Config, Purpose};
use crate::document::{DocumentBuilder, DocumentOptions, mapping};
use crate::enrich::tests::both;

pub(super) fn config(settings: &[(&str, &str)]) -> Config {
    let settings: BTreeMap<String, String> = settings
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    Config::from_lookup(|name| settings.get(name).cloned(), Purpose::DryRun).expect("valid settings")
}

/// The index templates the forwarder installs with `config`, by prefix (as `Pipeline::new`).
fn templates(config: &Config) -> Vec<Value> {
    let documents = &config.documents;
    let mut out = vec![mapping::index_template(documents.index.prefix())];
    for (prefix, formats) in documents.objects.by_prefix() {
        out.push(mapping::index_template_for_formats(prefix, "json", &formats));
    }
    out
}

/// Whether an index pattern title (globs separated by commas) covers `index`.
fn covers(title: &str, index: &str) -> bool {
    title.split(',').any(|glob| match glob.strip_suffix('*') {
        Some(prefix) => index.starts_with(prefix),
        None => index == glob,
    })
}

/// A field of a document by its dotted path.
fn field<'a>(source: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(source, |value, key| value.get(key))
        .filter(|value| !value.is_null())
}

/// What a DQL query of [`Query`] selects, evaluated on a document.
fn selects(query: &Query, source: &Value) -> bool {
    match query {
        Query::All => true,
        // A field that holds a list matches when one of its values does, as in OpenSearch.
        Query::Is(path, values) => field(source, path).is_some_and(|v| match v {
            Value::Array(items) => items.iter().any(|item| values.iter().any(|x| item == x)),
            v => values.iter().any(|x| v == x),
        }),
        Query::Exists(path) => field(source, path).is_some(),
        Query::And(parts) => parts.iter().all(|part| selects(part, source)),
        Query::Or(parts) => parts.iter().any(|part| selects(part, source)),
    }
}

/// The mapping type of `path` in the template covering `index`.
fn mapped_type<'a>(templates: &'a [Value], index: &str, path: &str) -> Option<&'a str> {
    let template = templates.iter().find(|template| {
        template["index_patterns"]
            .as_array()
            .is_some_and(|patterns| patterns.iter().any(|p| covers(p.as_str().unwrap_or(""), index)))
    })?;
    let mut at = &template["template"]["mappings"];
    for key in path.split('.') {
        at = at.get("properties")?.get(key)?;
    }
    at["type"].as_str()
}

/// Checks one visualization or search of `objects` against the sample documents and templates:
/// its index pattern covers documents, its query selects some, every field it reads is in those
/// documents, and every aggregation runs on a field the templates map with a type it accepts.
fn check(
    object: &SavedObject,
    objects: &[SavedObject],
    docs: &[Sample],
    templates: &[Value],
) -> Result<(), String> {
    let uses = object.uses.as_ref().ok_or("no uses")?;
    let pattern = objects
        .iter()
        .find(|o| o.kind == "index-pattern" && o.id == uses.index_pattern)
        .ok_or_else(|| format!("no index pattern {}", uses.index_pattern))?;
    let title = pattern.attributes["title"].as_str().unwrap_or_default();
    let selected: Vec<&Sample> = docs
        .iter()
        .filter(|doc| covers(title, &doc.index) && selects(&uses.query, &doc.source))
        .collect();
    if selected.is_empty() {
        return Err(format!(
            "{title} with query {:?} selects no document",
            uses.query.dql()
        ));
    }
    for path in uses.fields.iter().chain(&uses.query.fields()) {
        if !selected.iter().any(|doc| field(&doc.source, path).is_some()) {
            return Err(format!("no document {title} selects has {path}"));
        }
    }
    let source: Value = serde_json::from_str(
        object.attributes["kibanaSavedObjectMeta"]["searchSourceJSON"]
            .as_str()
            .ok_or("no searchSourceJSON")?,
    )
    .map_err(|err| err.to_string())?;
    if source["query"]["query"] != uses.query.dql() {
        return Err(format!(
            "the file's query {} is not {}",
            source["query"]["query"],
            uses.query.dql()
        ));
    }
    let Some(vis_state) = object.attributes["visState"].as_str() else {
        return Ok(());
    };
    let vis_state: Value = serde_json::from_str(vis_state).map_err(|err| err.to_string())?;
    let mut written = HashSet::new();
    for agg in vis_state["aggs"].as_array().ok_or("no aggs")? {
        let Some(path) = agg["params"]["field"].as_str() else {
            continue;
        };
        written.insert(path);
        let accepted: &[&str] = match agg["type"].as_str() {
            Some("avg" | "max" | "sum" | "percentiles" | "range") => &["long", "double"],
            Some("terms") => &["keyword", "long", "ip", "boolean"],
            Some("date_histogram") => &["date"],
            Some("geohash_grid") => &["geo_point"],
            other => return Err(format!("unexpected aggregation {other:?}")),
        };
        for doc in selected.iter().filter(|doc| field(&doc.source, path).is_some()) {
            let kind = mapped_type(templates, &doc.index, path);
            if !kind.is_some_and(|kind| accepted.contains(&kind)) {
                return Err(format!(
                    "{} on {path}, mapped {kind:?} in {}",
                    agg["type"], doc.index
                ));
            }
        }
    }
    let declared: HashSet<&str> = uses.fields.iter().copied().collect();
    if written != declared {
        return Err(format!("the file aggregates on {written:?}, not {declared:?}"));
    }
    Ok(())
}

/// A document builder with `config`'s settings and both test GeoIP databases, as the forwarder
/// builds documents with `GEOIP_DATABASE` and `GEOIP_ASN_DATABASE` set.
fn enriched(config: &Config) -> DocumentBuilder {
    let options = DocumentOptions {
        enrichment: Arc::new(both()),
        ..config.documents.clone()
    };
    DocumentBuilder::new(options, "eu-west-1".into())
}

fn check_all(config: &Config) {
    let builder = enriched(config);
    let mut docs = lambda_samples(&builder);
    docs.extend(access_samples(&builder));
    let templates = templates(config);
    let objects = saved_objects(&config.documents);
    let checked: Vec<&str> = objects
        .iter()
        .filter(|object| object.uses.is_some())
        .map(|object| {
            check(object, &objects, &docs, &templates).unwrap_or_else(|err| panic!("{}: {err}", object.id));
            object.id.as_str()
        })
        .collect();
    assert_eq!(
        checked.len(),
        28,
        "8 Lambda, 10 access and 9 security visualizations and a search: {checked:?}"
    );
}

#[test]
fn every_panel_reads_fields_the_forwarder_writes() {
    check_all(&config(&[]));
}

#[test]
fn panels_follow_other_prefixes() {
    let config = config(&[
        ("INDEX_PREFIX", "app"),
        ("DEAD_LETTER_INDEX", "failed"),
        (
            "S3_INDEX_PREFIXES",
            "alb=lb,cloudfront=cdn,cloudfront-realtime=cdn",
        ),
    ]);
    check_all(&config);
    let objects = saved_objects(&config.documents);
    let titles: Vec<&str> = objects
        .iter()
        .filter(|o| o.kind == "index-pattern")
        .filter_map(|o| o.attributes["title"].as_str())
        .collect();
    assert_eq!(
        titles,
        [
            "app-*",
            "failed",
            "cloudtrail-*",
            "config-*",
            "s3-*",
            "lb-*",
            "albconn-*",
            "nlb-*",
            "elb-*",
            "cdn-*",
            "waf-*",
            "s3access-*",
            "vpcflow-*",
            "route53resolver-*",
            "networkfirewall-*",
            "guardduty-*",
            "securityhub-*",
            "lb-*,elb-*,cdn-*,s3access-*",
            "config-*,route53resolver-*,networkfirewall-*,guardduty-*,securityhub-*",
        ]
    );
    assert!(objects.iter().any(|o| o.id == "sluice-app-lambda"));
}

#[test]
fn the_check_fails_on_a_field_documents_lack_or_cannot_aggregate() {
    let config = config(&[]);
    let builder = DocumentBuilder::new(config.documents.clone(), "eu-west-1".into());
    let docs = lambda_samples(&builder);
    let templates = templates(&config);
    let objects = saved_objects(&config.documents);
    let pattern = pattern_id("cwl");
    let spec = |query: Query, agg: Agg| visual::Spec {
        id: "bad".into(),
        title: "bad",
        description: "",
        chart: Chart::Table,
        query,
        aggs: vec![(Agg::Count, ""), (agg, "")],
    };
    let report = || Query::Is("aws.lambda.event", &["report"]);
    let bad = [
        // `message` is text: a terms aggregation on it fails in OpenSearch.
        (spec(Query::All, Agg::Top("message", 5)), "mapped Some(\"text\")"),
        (
            spec(report(), Agg::Avg("aws.lambda.duration")),
            "has aws.lambda.duration",
        ),
        (
            spec(Query::Is("aws.lambda.event", &["REPORT"]), Agg::Count),
            "selects no document",
        ),
        (
            spec(report(), Agg::Avg("aws.cloudwatch.log_group")),
            "mapped Some(\"keyword\")",
        ),
        // A map's grid needs a `geo_point`.
        (
            spec(report(), Agg::Grid("aws.cloudwatch.log_group")),
            "mapped Some(\"keyword\")",
        ),
    ];
    for (spec, expected) in bad {
        let object = visual::visualization(spec, &pattern);
        let err = check(&object, &objects, &docs, &templates).expect_err("a bad panel");
        assert!(err.contains(expected), "{err}");
    }
}

/// Without the GeoIP databases no document has a place or a network: the map, the countries and
/// the networks have nothing to show (as docs/dashboards.md says), while browsers still do.
#[test]
fn without_geoip_databases_the_map_countries_and_networks_are_empty() {
    let config = config(&[]);
    let builder = DocumentBuilder::new(config.documents.clone(), "eu-west-1".into());
    let docs = access_samples(&builder);
    let templates = templates(&config);
    let objects = saved_objects(&config.documents);
    let panel = |id: &str| objects.iter().find(|o| o.id == id).expect("a panel");
    for (id, path) in [
        ("sluice-access-origins", "source.geo.location"),
        ("sluice-access-top-countries", "source.geo.country_iso_code"),
        ("sluice-access-top-networks", "source.as.organization.name"),
    ] {
        let err = check(panel(id), &objects, &docs, &templates).expect_err("nothing to show");
        assert!(err.ends_with(&format!("has {path}")), "{id}: {err}");
    }
    check(panel("sluice-access-top-browsers"), &objects, &docs, &templates)
        .expect("user agents are parsed without databases");
}

/// The map is a Coordinate Map as Dashboards saves one: a count and a geohash grid (schema
/// `segment`) on `source.geo.location`, across the dashboard's width.
#[test]
fn the_map_is_a_coordinate_map_of_the_clients_locations() {
    let objects = saved_objects(&config(&[]).documents);
    let map = objects
        .iter()
        .find(|o| o.id == "sluice-access-origins")
        .expect("the map");
    let state: Value = serde_json::from_str(map.attributes["visState"].as_str().unwrap()).unwrap();
    assert_eq!(state["type"], "tile_map");
    assert_eq!(state["params"]["mapType"], "Scaled Circle Markers");
    assert!(
        state["params"].get("wms").is_none(),
        "the cluster's WMS defaults apply"
    );
    let aggs = state["aggs"].as_array().unwrap();
    assert_eq!(aggs.len(), 2);
    assert_eq!([&aggs[0]["type"], &aggs[0]["schema"]], ["count", "metric"]);
    assert_eq!(
        [&aggs[1]["type"], &aggs[1]["schema"]],
        ["geohash_grid", "segment"]
    );
    assert_eq!(aggs[1]["params"]["field"], "source.geo.location");
    assert_eq!(aggs[1]["params"]["autoPrecision"], true);
    let board = objects
        .iter()
        .find(|o| o.id == "sluice-access-logs" && o.kind == "dashboard")
        .expect("the access logs dashboard");
    let name = &board
        .references
        .iter()
        .find(|r| r.id == map.id)
        .expect("the map is on it")
        .name;
    let panels: Value = serde_json::from_str(board.attributes["panelsJSON"].as_str().unwrap()).unwrap();
    let panel = panels
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["panelRefName"] == name.as_str())
        .expect("its panel");
    assert_eq!(panel["gridData"]["w"], 48);
}

#[test]
fn the_file_is_one_object_a_line_and_every_reference_resolves() {
    let objects = saved_objects(&config(&[]).documents);
    let ndjson = to_ndjson(&objects);
    let mut seen: HashSet<(String, String)> = HashSet::new();
    for line in ndjson.lines() {
        let object: Value = serde_json::from_str(line).expect("one JSON object a line");
        let kind = object["type"].as_str().expect("a type").to_string();
        let id = object["id"].as_str().expect("an id").to_string();
        let mut names = HashSet::new();
        for reference in object["references"].as_array().expect("references") {
            let target = (
                reference["type"].as_str().unwrap().to_string(),
                reference["id"].as_str().unwrap().to_string(),
            );
            assert!(
                seen.contains(&target),
                "{id}: {target:?} is not earlier in the file"
            );
            names.insert(reference["name"].as_str().unwrap().to_string());
        }
        let attributes = &object["attributes"];
        assert!(attributes["title"].is_string(), "{id} has a title");
        if let Some(source) = attributes["kibanaSavedObjectMeta"]["searchSourceJSON"].as_str() {
            let source: Value = serde_json::from_str(source).expect("searchSourceJSON");
            if let Some(name) = source["indexRefName"].as_str() {
                assert!(names.contains(name), "{id}: {name} is not a reference");
            }
        }
        match kind.as_str() {
            "index-pattern" => assert_eq!(attributes["timeFieldName"], "@timestamp"),
            "visualization" => {
                let state: Value = serde_json::from_str(attributes["visState"].as_str().unwrap()).unwrap();
                assert_eq!(state["title"], attributes["title"]);
                assert!(names.contains(INDEX_REF), "{id} names its index pattern");
            }
            "dashboard" => {
                let panels: Value = serde_json::from_str(attributes["panelsJSON"].as_str().unwrap()).unwrap();
                let panels = panels.as_array().unwrap();
                assert!(!panels.is_empty());
                for panel in panels {
                    let name = panel["panelRefName"].as_str().unwrap();
                    assert!(names.contains(name), "{id}: {name} is not a reference");
                    assert!(
                        panel["gridData"]["x"].as_u64().unwrap() + panel["gridData"]["w"].as_u64().unwrap()
                            <= 48
                    );
                }
            }
            "search" => assert!(names.contains(INDEX_REF)),
            other => panic!("unexpected type {other}"),
        }
        assert!(seen.insert((kind, id.clone())), "{id} appears twice");
    }
    let dashboards: Vec<&str> = objects
        .iter()
        .filter(|o| o.kind == "dashboard")
        .filter_map(|o| o.attributes["title"].as_str())
        .collect();
    assert_eq!(dashboards, ["Lambda", "Access logs", "Security"]);
    assert!(
        objects
            .iter()
            .any(|o| o.kind == "search" && o.attributes["title"] == "Errors")
    );
}

#[test]
fn blueprint_documents_get_index_patterns_and_access_logs_only() {
    let objects = saved_objects(&config(&[("DOCUMENT_FORMAT", "blueprint")]).documents);
    assert!(
        objects
            .iter()
            .all(|o| !o.id.contains("lambda") && !o.id.ends_with("errors"))
    );
    assert!(
        objects
            .iter()
            .any(|o| o.id == "sluice-access-logs" && o.kind == "dashboard")
    );
    assert!(objects.iter().any(|o| o.attributes["title"] == "cwl-*"));
}

#[test]
fn queries_are_written_as_dql() {
    let query = Query::Or(vec![
        Query::Is("log.level", &["ERROR", "FATAL"]),
        Query::And(vec![
            Query::Is("aws.lambda.event", &["report"]),
            Query::Exists("x"),
        ]),
    ]);
    assert_eq!(
        query.dql(),
        "log.level:(ERROR or FATAL) or (aws.lambda.event:report and x:*)"
    );
    assert_eq!(Query::All.dql(), "");
}

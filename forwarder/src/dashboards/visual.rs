//! The building blocks of the saved objects: queries, aggregations, and the JSON of a
//! visualization, a saved search and a dashboard as OpenSearch Dashboards stores them.

use serde_json::{Value, json};

use super::{INDEX_REF, Reference, SavedObject, Uses};

/// A query in Dashboards Query Language (DQL), kept as a value so that tests can evaluate it on
/// documents; [`Query::dql`] writes it.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// Every document.
    All,
    /// The field holds one of the values (`level:(ERROR or FATAL)`).
    Is(&'static str, &'static [&'static str]),
    /// The field is present (`lambda.init_duration_ms:*`).
    Exists(&'static str),
    And(Vec<Query>),
    Or(Vec<Query>),
}

impl Query {
    /// The query as DQL text.
    pub(crate) fn dql(&self) -> String {
        match self {
            Query::All => String::new(),
            Query::Is(field, [value]) => format!("{field}:{value}"),
            Query::Is(field, values) => format!("{field}:({})", values.join(" or ")),
            Query::Exists(field) => format!("{field}:*"),
            Query::And(parts) => join(parts, " and "),
            Query::Or(parts) => join(parts, " or "),
        }
    }

    /// The fields the query reads.
    pub fn fields(&self) -> Vec<&'static str> {
        match self {
            Query::All => Vec::new(),
            Query::Is(field, _) | Query::Exists(field) => vec![*field],
            Query::And(parts) | Query::Or(parts) => parts.iter().flat_map(Query::fields).collect(),
        }
    }
}

fn join(parts: &[Query], with: &str) -> String {
    parts
        .iter()
        .map(|part| match part {
            Query::And(_) | Query::Or(_) => format!("({})", part.dql()),
            _ => part.dql(),
        })
        .collect::<Vec<_>>()
        .join(with)
}

/// One aggregation of a visualization. Metrics (`Count` … `Percentiles`) give the values; buckets
/// (`OverTime`, `Top`, `Ranges`, `Grid`) the x-axis, the series, the table rows or the map's points.
#[derive(Debug, Clone, PartialEq)]
pub enum Agg {
    Count,
    Avg(&'static str),
    Max(&'static str),
    Sum(&'static str),
    Percentiles(&'static str, &'static [f64]),
    /// A date histogram on `@timestamp`, its interval chosen by Dashboards for the time range.
    OverTime,
    /// The field's most frequent values (a terms aggregation), at most this many.
    Top(&'static str, usize),
    /// Buckets of a numeric field, each `[from, to)`.
    Ranges(&'static str, &'static [(i64, i64)]),
    /// Cells of a `geo_point` field (a geohash grid), finer as the map zooms in.
    Grid(&'static str),
}

impl Agg {
    /// The field aggregated on (`@timestamp` for a histogram).
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Agg::Count => None,
            Agg::OverTime => Some("@timestamp"),
            Agg::Avg(field)
            | Agg::Max(field)
            | Agg::Sum(field)
            | Agg::Percentiles(field, _)
            | Agg::Top(field, _)
            | Agg::Ranges(field, _)
            | Agg::Grid(field) => Some(*field),
        }
    }

    fn is_metric(&self) -> bool {
        !matches!(
            self,
            Agg::OverTime | Agg::Top(..) | Agg::Ranges(..) | Agg::Grid(_)
        )
    }

    /// The aggregation in `visState` form, with its id and schema.
    fn state(&self, id: usize, schema: &str, label: &str) -> Value {
        let (kind, mut params) = match self {
            Agg::Count => ("count", json!({})),
            Agg::Avg(field) => ("avg", json!({"field": field})),
            Agg::Max(field) => ("max", json!({"field": field})),
            Agg::Sum(field) => ("sum", json!({"field": field})),
            Agg::Percentiles(field, percents) => {
                ("percentiles", json!({"field": field, "percents": percents}))
            }
            Agg::OverTime => (
                "date_histogram",
                json!({"field": "@timestamp", "useNormalizedOpenSearchInterval": true,
                       "interval": "auto", "drop_partials": false, "min_doc_count": 1,
                       "extended_bounds": {}}),
            ),
            Agg::Top(field, size) => (
                "terms",
                json!({"field": field, "size": size, "order": "desc", "orderBy": "1",
                       "otherBucket": false, "missingBucket": false}),
            ),
            Agg::Ranges(field, ranges) => {
                let ranges: Vec<Value> = ranges
                    .iter()
                    .map(|(from, to)| json!({"from": from, "to": to}))
                    .collect();
                ("range", json!({"field": field, "ranges": ranges}))
            }
            // Dashboards' own defaults: the precision follows the zoom, each point sits at the
            // centroid of its cell's documents, and only cells near the visible area are asked for.
            Agg::Grid(field) => (
                "geohash_grid",
                json!({"field": field, "autoPrecision": true, "precision": 2,
                       "useGeocentroid": true, "isFilteredByCollar": true}),
            ),
        };
        if !label.is_empty() {
            params["customLabel"] = json!(label);
        }
        json!({"id": id.to_string(), "enabled": true, "type": kind, "schema": schema, "params": params})
    }
}

/// How a visualization draws its aggregations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chart {
    /// Lines over time; the y-axis title says the unit.
    Line(&'static str),
    /// Stacked bars over time.
    Bars(&'static str),
    /// A table: one row per bucket, one column per metric.
    Table,
    /// A coordinate map (`tile_map`): a circle per grid cell, scaled by the metric.
    Map,
}

/// What a visualization shows: its title and description, its query, and its aggregations with
/// their labels (empty: Dashboards' own, e.g. "Average lambda.duration_ms").
pub(crate) struct Spec {
    pub id: String,
    pub title: &'static str,
    pub description: &'static str,
    pub chart: Chart,
    pub query: Query,
    pub aggs: Vec<(Agg, &'static str)>,
}

/// A visualization saved object searching the index pattern `pattern`.
pub(crate) fn visualization(spec: Spec, pattern: &str) -> SavedObject {
    let (kind, params, bucket_schema) = match spec.chart {
        Chart::Line(axis) => ("line", xy_params("line", axis, &spec.aggs), "group"),
        Chart::Bars(axis) => ("histogram", xy_params("histogram", axis, &spec.aggs), "group"),
        Chart::Table => ("table", table_params(), "bucket"),
        Chart::Map => ("tile_map", map_params(), "segment"),
    };
    let aggs: Vec<Value> = spec
        .aggs
        .iter()
        .enumerate()
        .map(|(i, (agg, label))| {
            let schema = match agg {
                _ if agg.is_metric() => "metric",
                Agg::OverTime => "segment",
                _ => bucket_schema,
            };
            agg.state(i + 1, schema, label)
        })
        .collect();
    let vis_state = json!({"title": spec.title, "type": kind, "aggs": aggs, "params": params});
    let mut fields: Vec<&'static str> = spec.aggs.iter().filter_map(|(agg, _)| agg.field()).collect();
    fields.dedup();
    SavedObject {
        kind: "visualization",
        id: spec.id,
        attributes: json!({
            "title": spec.title,
            "description": spec.description,
            "visState": vis_state.to_string(),
            "uiStateJSON": "{}",
            "version": 1,
            "kibanaSavedObjectMeta": {"searchSourceJSON": search_source(&spec.query, Source::Visualization)},
        }),
        references: vec![index_reference(pattern)],
        migration_version: json!({"visualization": "7.10.0"}),
        uses: Some(Uses {
            index_pattern: pattern.to_string(),
            query: spec.query,
            fields,
        }),
    }
}

/// A saved search (Discover) on `pattern`: the documents `query` selects, newest first, with
/// `columns` shown.
pub fn search(
    id: String,
    (title, description): (&'static str, &'static str),
    pattern: &str,
    query: Query,
    columns: &[&'static str],
) -> SavedObject {
    SavedObject {
        kind: "search",
        id,
        attributes: json!({
            "title": title,
            "description": description,
            "hits": 0,
            "columns": columns,
            "sort": [["@timestamp", "desc"]],
            "version": 1,
            "kibanaSavedObjectMeta": {"searchSourceJSON": search_source(&query, Source::Search)},
        }),
        references: vec![index_reference(pattern)],
        migration_version: json!({"search": "7.9.3"}),
        uses: Some(Uses {
            index_pattern: pattern.to_string(),
            query,
            fields: columns.to_vec(),
        }),
    }
}

/// A dashboard of `panels` (visualizations or searches), two to a row, showing the last 24 hours.
pub(crate) fn dashboard(
    id: String,
    (title, description): (&'static str, &'static str),
    panels: &[&SavedObject],
) -> SavedObject {
    const WIDTH: usize = 24;
    const HEIGHT: usize = 15;
    let mut layout = Vec::new();
    let mut references = Vec::new();
    for (i, panel) in panels.iter().enumerate() {
        // A table, a map or a search reads better across the whole width.
        let wide = panel.kind == "search" || panel.attributes["visState"].as_str().is_some_and(is_wide);
        let index = (i + 1).to_string();
        layout.push(json!({
            "panelIndex": index,
            "gridData": {"x": 0, "y": 0, "w": if wide { 2 * WIDTH } else { WIDTH }, "h": HEIGHT, "i": index},
            "version": "7.10.2",
            "embeddableConfig": {},
            "panelRefName": format!("panel_{i}"),
        }));
        references.push(Reference {
            name: format!("panel_{i}"),
            kind: panel.kind,
            id: panel.id.clone(),
        });
    }
    // Row by row: a narrow panel next to the one before it when that one is narrow too.
    let (mut x, mut y) = (0, 0);
    for panel in &mut layout {
        let w = panel["gridData"]["w"].as_u64().unwrap_or(WIDTH as u64) as usize;
        if x + w > 2 * WIDTH {
            (x, y) = (0, y + HEIGHT);
        }
        panel["gridData"]["x"] = json!(x);
        panel["gridData"]["y"] = json!(y);
        x += w;
    }
    SavedObject {
        kind: "dashboard",
        id,
        attributes: json!({
            "title": title,
            "description": description,
            "hits": 0,
            "panelsJSON": Value::Array(layout).to_string(),
            "optionsJSON": json!({"hidePanelTitles": false, "useMargins": true}).to_string(),
            "version": 1,
            "timeRestore": true,
            "timeFrom": "now-24h",
            "timeTo": "now",
            "refreshInterval": {"pause": true, "value": 0},
            "kibanaSavedObjectMeta": {"searchSourceJSON": search_source(&Query::All, Source::Dashboard)},
        }),
        references,
        migration_version: json!({"dashboard": "7.9.3"}),
        uses: None,
    }
}

fn is_wide(vis_state: &str) -> bool {
    serde_json::from_str::<Value>(vis_state)
        .is_ok_and(|state| state["type"] == "table" || state["type"] == "tile_map")
}

/// Which part of the saved object a search source belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    Visualization,
    Search,
    Dashboard,
}

/// `searchSourceJSON`: the query, no filters, and (for a visualization or search) the index
/// pattern named through its reference.
fn search_source(query: &Query, of: Source) -> String {
    let mut source = json!({"query": {"query": query.dql(), "language": "kuery"}, "filter": []});
    if of == Source::Search {
        source["highlightAll"] = json!(true);
    }
    if of != Source::Dashboard {
        source["indexRefName"] = json!(INDEX_REF);
    }
    source.to_string()
}

fn index_reference(pattern: &str) -> Reference {
    Reference {
        name: INDEX_REF.to_string(),
        kind: "index-pattern",
        id: pattern.to_string(),
    }
}

/// `params` of a line or bar chart over time: one value axis titled `axis`, one series setting
/// per metric (bars stacked, lines not).
fn xy_params(kind: &str, axis: &str, aggs: &[(Agg, &'static str)]) -> Value {
    let series: Vec<Value> = aggs
        .iter()
        .enumerate()
        .filter(|(_, (agg, _))| agg.is_metric())
        .map(|(i, (_, label))| {
            json!({
                "show": true, "type": kind,
                "mode": if kind == "histogram" { "stacked" } else { "normal" },
                "data": {"label": label, "id": (i + 1).to_string()},
                "valueAxis": "ValueAxis-1", "drawLinesBetweenPoints": true, "lineWidth": 2,
                "showCircles": true, "interpolate": "linear",
            })
        })
        .collect();
    json!({
        "type": kind,
        "grid": {"categoryLines": false},
        "categoryAxes": [{
            "id": "CategoryAxis-1", "type": "category", "position": "bottom", "show": true,
            "style": {}, "scale": {"type": "linear"},
            "labels": {"show": true, "filter": true, "truncate": 100}, "title": {},
        }],
        "valueAxes": [{
            "id": "ValueAxis-1", "name": "LeftAxis-1", "type": "value", "position": "left",
            "show": true, "style": {}, "scale": {"type": "linear", "mode": "normal"},
            "labels": {"show": true, "rotate": 0, "filter": false, "truncate": 100},
            "title": {"text": axis},
        }],
        "seriesParams": series,
        "addTooltip": true, "addLegend": true, "legendPosition": "right",
        "times": [], "addTimeMarker": false, "labels": {"show": false},
        "thresholdLine": {"show": false, "value": 10, "width": 1, "style": "full", "color": "#E7664C"},
    })
}

fn table_params() -> Value {
    json!({
        "perPage": 20, "showPartialRows": false, "showMetricsAtAllLevels": false,
        "sort": {"columnIndex": null, "direction": null}, "showTotal": false,
        "totalFunc": "sum", "percentageCol": "",
    })
}

/// `params` of a coordinate map: scaled circles on the whole world, as Dashboards' "Coordinate
/// Map" starts. `wms` is left out so that Dashboards fills it from the cluster's own
/// `visualization:tileMap:WMSdefaults` (a visualization's params are merged over its type's
/// defaults), keeping the base map its administrator chose.
fn map_params() -> Value {
    json!({
        "mapType": "Scaled Circle Markers", "colorSchema": "Yellow to Red", "isDesaturated": true,
        "addTooltip": true, "heatClusterSize": 1.5, "legendPosition": "bottomright",
        "mapZoom": 2, "mapCenter": [0, 0],
    })
}

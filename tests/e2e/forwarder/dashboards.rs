//! The Access logs dashboard on documents in osmem-server: an ALB object whose client is in
//! London, forwarded with GeoIP databases in S3 (moto), then every access panel's aggregations
//! sent as Dashboards sends them. Each runs on the types the index template gave its fields
//! (the map's geohash grid on a `geo_point`), and the map, countries, networks and browsers find
//! the London client.

use sluice_forwarder::dashboards::saved_objects;
use sluice_harness::{Moto, OsMem};

use super::access::{BUCKET, ELB, backfill, gzip_bytes};
use super::geoip::{asn_database, city_database};
use super::*;

/// The first line of AWS's ALB access log example
/// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html#access-log-entry-examples>)
/// with a client in London (81.2.69.0/24 in the test databases) and a browser's user agent.
const ALB_LONDON: &str = "http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 \
    81.2.69.160:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 \"GET http://www.example.com:80/ HTTP/1.1\" \
    \"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\" \
    - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 \
    \"Root=1-58337262-36d228ad5d99923122bbe354\" \"-\" \"-\" 0 2018-07-02T22:22:48.364000Z \"forward\" \"-\" \"-\" \
    10.0.0.1:80 200 \"-\" \"-\"\n";

/// A forwarder that indexes into `osmem` with both databases from S3.
async fn enriching_forwarder(moto: &Moto, osmem: &OsMem) -> Forwarder {
    let s3 = moto.s3_client();
    s3.create_bucket()
        .bucket("geoip-data")
        .send()
        .await
        .expect("bucket");
    for (key, body) in [("City.mmdb", city_database()), ("ASN.mmdb", asn_database())] {
        s3.put_object()
            .bucket("geoip-data")
            .key(key)
            .body(body.into())
            .send()
            .await
            .expect("put a database");
    }
    let settings = [
        ("OPENSEARCH_ENDPOINT", osmem.url()),
        ("OPENSEARCH_AUTH", "none"),
        ("AWS_REGION", REGION),
        ("GEOIP_DATABASE", "s3://geoip-data/City.mmdb"),
        ("GEOIP_ASN_DATABASE", "s3://geoip-data/ASN.mmdb"),
    ];
    forwarder_of(&settings, &moto.sdk_config()).await
}

/// One aggregation of a `visState` as the search Dashboards sends for it; `None` for a count,
/// which is the hits' total. A histogram gets a fixed interval where Dashboards picks one.
fn request_agg(agg: &Value) -> Option<Value> {
    let params = &agg["params"];
    let field = &params["field"];
    let kind = agg["type"].as_str().expect("a type");
    Some(match kind {
        "count" => return None,
        "avg" | "max" | "sum" => json!({kind: {"field": field}}),
        "percentiles" => json!({kind: {"field": field, "percents": params["percents"]}}),
        "date_histogram" => json!({kind: {"field": field, "fixed_interval": "1d"}}),
        "terms" => json!({kind: {"field": field, "size": params["size"]}}),
        "range" => json!({kind: {"field": field, "ranges": params["ranges"]}}),
        "geohash_grid" => json!({
            kind: {"field": field, "precision": params["precision"]},
            "aggs": {"centroid": {"geo_centroid": {"field": field}}},
        }),
        other => panic!("an aggregation Dashboards would not send here: {other}"),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_log_panels_aggregate_on_enriched_documents_in_osmem() {
    let moto = Moto::start();
    let osmem = OsMem::start();
    let s3 = moto.s3_client();
    s3.create_bucket().bucket(BUCKET).send().await.expect("bucket");
    let key = format!(
        "{ELB}/123456789012_elasticloadbalancing_us-east-2_app.my-loadbalancer.50dc6c495c0c9188_20261129T1005Z_198.51.100.1_2kfx.log.gz"
    );
    s3.put_object()
        .bucket(BUCKET)
        .key(&key)
        .body(gzip_bytes(ALB_LONDON.as_bytes()).into())
        .send()
        .await
        .expect("put the ALB object");
    let forwarder = enriching_forwarder(&moto, &osmem).await;
    backfill(&forwarder).await;
    osmem.refresh("alb-*").await.expect("refresh");

    let objects = saved_objects(&forwarder.config().documents);
    let mut buckets: HashMap<String, Value> = HashMap::new();
    for object in objects
        .iter()
        .filter(|o| o.kind == "visualization" && o.id.starts_with("sluice-access-"))
    {
        let state: Value = serde_json::from_str(object.attributes["visState"].as_str().unwrap()).unwrap();
        for agg in state["aggs"].as_array().expect("aggs") {
            let Some(request) = request_agg(agg) else {
                continue;
            };
            let answer = osmem
                .search("alb-*", json!({"size": 0, "aggs": {"panel": request}}))
                .await
                .unwrap_or_else(|err| panic!("{} {}: {err}", object.id, agg["type"]));
            if let Some(bucket) = answer["aggregations"]["panel"]["buckets"].get(0) {
                let field = agg["params"]["field"].as_str().unwrap_or_default();
                buckets.insert(format!("{} {field}", object.id), bucket.clone());
            }
        }
    }
    let bucket = |panel: &str, field: &str| {
        let bucket = buckets
            .get(&format!("sluice-access-{panel} {field}"))
            .unwrap_or_else(|| panic!("{panel}: no {field} bucket in {buckets:?}"));
        assert_eq!(bucket["doc_count"], 1, "{panel}: {bucket}");
        bucket.clone()
    };
    // The map draws a cell's point at its centroid (`useGeocentroid`). The cell's own key is
    // not checked: osmem-server 0.1.6 answers `qr` where OpenSearch answers `gc` for London.
    let cell = bucket("origins", "source.geo.location");
    let location = &cell["centroid"]["location"];
    let near = |value: &Value, expected: f64| (value.as_f64().expect("a number") - expected).abs() < 1e-4;
    assert!(
        near(&location["lat"], 51.5142) && near(&location["lon"], -0.0931),
        "{cell}"
    );
    let key = |panel: &str, field: &str| bucket(panel, field)["key"].clone();
    assert_eq!(key("top-countries", "source.geo.country_iso_code"), "GB");
    assert_eq!(
        key("top-networks", "source.as.organization.name"),
        "Andrews & Arnold Ltd"
    );
    assert_eq!(key("top-browsers", "user_agent.name"), "Chrome");
    assert_eq!(key("top-browsers", "user_agent.os.name"), "Windows");
    assert_eq!(key("top-clients", "source.ip"), "81.2.69.160");
}

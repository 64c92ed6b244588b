//! The GeoIP databases: off by default; a database in S3 lets the forwarder read that one object
//! (even beside an `S3KeyPrefix` that narrows the S3 sources); a database in a layer adds the
//! layer and no grant. Checked on the template as deployed for those values ([`super::resolve`]),
//! the grants by what they allow ([`super::iam`]).

use serde_json::{Value, json};

use super::iam::{Request, allows};
use super::s3_sources::{
    BUCKETS, ENDPOINT, PREFIX, allowed_by_pattern, created, deploy, forwarder_environment,
    forwarder_statements,
};

const CITY: &str = "s3://geoip-data/maxmind/GeoLite2-City.mmdb";
const ASN: &str = "s3://geoip-data/maxmind/GeoLite2-ASN.mmdb";
const LAYER: &str = "arn:aws:lambda:eu-west-1:123456789012:layer:geolite2:7";

fn sids(statements: &[Value]) -> Vec<String> {
    statements
        .iter()
        .filter_map(|statement| statement["Sid"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn without_a_database_the_forwarder_gets_no_setting_no_layer_and_no_grant() {
    let stack = deploy(&[ENDPOINT]);
    let environment = forwarder_environment(&stack);
    for name in ["GEOIP_DATABASE", "GEOIP_ASN_DATABASE"] {
        assert_eq!(environment.get(name), None, "{name}");
    }
    assert_eq!(created(&stack, "Forwarder")["Properties"].get("Layers"), None);
    let statements = forwarder_statements(&stack);
    assert!(
        sids(&statements).iter().all(|sid| !sid.starts_with("GeoIp")),
        "{statements:#?}"
    );
}

#[test]
fn databases_in_s3_let_the_forwarder_read_those_objects_and_no_other() {
    let stack = deploy(&[ENDPOINT, ("GeoIpDatabase", CITY), ("GeoIpAsnDatabase", ASN)]);
    let environment = forwarder_environment(&stack);
    assert_eq!(environment["GEOIP_DATABASE"], CITY);
    assert_eq!(environment["GEOIP_ASN_DATABASE"], ASN);
    let statements = forwarder_statements(&stack);
    let may = |action: &str, resource: &str| allows(&statements, &Request::by_role(action, resource));
    for object in [
        "arn:aws:s3:::geoip-data/maxmind/GeoLite2-City.mmdb",
        "arn:aws:s3:::geoip-data/maxmind/GeoLite2-ASN.mmdb",
    ] {
        assert!(may("s3:GetObject", object), "{object}");
        assert!(!may("s3:PutObject", object), "{object}");
    }
    for object in [
        "arn:aws:s3:::geoip-data/maxmind/GeoLite2-Country.mmdb",
        "arn:aws:s3:::geoip-data/maxmind/GeoLite2-City.mmdb.bak",
        "arn:aws:s3:::other-bucket/maxmind/GeoLite2-City.mmdb",
    ] {
        assert!(!may("s3:GetObject", object), "{object}");
    }
    assert!(!may("s3:ListBucket", "arn:aws:s3:::geoip-data"));
    let only_city = deploy(&[ENDPOINT, ("GeoIpDatabase", CITY)]);
    assert_eq!(
        sids(&forwarder_statements(&only_city))
            .into_iter()
            .filter(|sid| sid.starts_with("GeoIp"))
            .collect::<Vec<_>>(),
        ["GeoIpDatabase"]
    );
}

#[test]
fn the_s3_key_prefix_does_not_deny_the_databases() {
    let stack = deploy(&[
        ENDPOINT,
        BUCKETS,
        PREFIX,
        ("GeoIpDatabase", CITY),
        ("GeoIpAsnDatabase", ASN),
    ]);
    let statements = forwarder_statements(&stack);
    let may = |resource: &str| allows(&statements, &Request::by_role("s3:GetObject", resource));
    assert!(may("arn:aws:s3:::geoip-data/maxmind/GeoLite2-City.mmdb"));
    assert!(may("arn:aws:s3:::geoip-data/maxmind/GeoLite2-ASN.mmdb"));
    assert!(may("arn:aws:s3:::firehose-logs/cwl/x.gz"));
    assert!(
        !may("arn:aws:s3:::firehose-logs/errors/x.gz"),
        "the prefix still narrows the sources"
    );
}

#[test]
fn databases_in_a_layer_add_the_layer_and_no_grant() {
    let stack = deploy(&[
        ENDPOINT,
        ("GeoIpLayerArn", LAYER),
        ("GeoIpDatabase", "/opt/GeoLite2-City.mmdb"),
        ("GeoIpAsnDatabase", "/opt/GeoLite2-ASN.mmdb"),
    ]);
    assert_eq!(
        created(&stack, "Forwarder")["Properties"]["Layers"],
        json!([LAYER])
    );
    let environment = forwarder_environment(&stack);
    assert_eq!(environment["GEOIP_DATABASE"], "/opt/GeoLite2-City.mmdb");
    assert_eq!(environment["GEOIP_ASN_DATABASE"], "/opt/GeoLite2-ASN.mmdb");
    assert!(
        sids(&forwarder_statements(&stack))
            .iter()
            .all(|sid| !sid.starts_with("GeoIp"))
    );
}

#[test]
fn a_database_is_one_object_or_one_path_never_a_wildcard() {
    for parameter in ["GeoIpDatabase", "GeoIpAsnDatabase"] {
        for good in [
            "",
            CITY,
            ASN,
            "/opt/GeoLite2-City.mmdb",
            "s3://geo.example.com/a/b/c.mmdb",
        ] {
            assert!(allowed_by_pattern(parameter, good), "{parameter}={good}");
        }
        for bad in [
            "s3://geoip-data",
            "s3://geoip-data/",
            "s3://geoip-data/maxmind/",
            "s3://geoip-data/*",
            "s3://geoip-data/GeoLite2-?ity.mmdb",
            "s3://*/GeoLite2-City.mmdb",
            "GeoLite2-City.mmdb",
        ] {
            assert!(!allowed_by_pattern(parameter, bad), "{parameter}={bad}");
        }
    }
    assert!(allowed_by_pattern("GeoIpLayerArn", LAYER));
    assert!(!allowed_by_pattern(
        "GeoIpLayerArn",
        "arn:aws:lambda:eu-west-1:123456789012:layer:geolite2"
    ));
}

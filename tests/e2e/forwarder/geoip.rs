//! GeoIP databases in S3: the forwarder downloads each once, at cold start, with its S3 client
//! (moto here); an object that cannot be read stops the start with an error naming the setting.
//! The databases are written by the forwarder's own writer (shared with its tests and benchmark).

#[path = "../../../forwarder/benches/forwarder/mmdb_writer.rs"]
mod mmdb_writer;

use mmdb_writer::{Value as Mmdb, Writer};
use sluice_forwarder::HandlerError;
use sluice_harness::Moto;

use super::*;

const BUCKET: &str = "geoip-data";

pub(super) fn city_database() -> Vec<u8> {
    let names = |name| Mmdb::Map(vec![("en", Mmdb::Str(name))]);
    let london = Mmdb::Map(vec![
        ("city", Mmdb::Map(vec![("names", names("London"))])),
        ("continent", Mmdb::Map(vec![("code", Mmdb::Str("EU"))])),
        (
            "country",
            Mmdb::Map(vec![
                ("iso_code", Mmdb::Str("GB")),
                ("names", names("United Kingdom")),
            ]),
        ),
        (
            "location",
            Mmdb::Map(vec![
                ("latitude", Mmdb::F64(51.5142)),
                ("longitude", Mmdb::F64(-0.0931)),
            ]),
        ),
    ]);
    Writer::new("GeoLite2-City")
        .insert("81.2.69.0/24", &london)
        .build()
}

pub(super) fn asn_database() -> Vec<u8> {
    let asn = Mmdb::Map(vec![
        ("autonomous_system_number", Mmdb::U32(20712)),
        (
            "autonomous_system_organization",
            Mmdb::Str("Andrews & Arnold Ltd"),
        ),
    ]);
    Writer::new("GeoLite2-ASN").insert("81.2.69.0/24", &asn).build()
}

/// A forwarder of a dry run whose settings add `geoip` to the region.
async fn forwarder(moto: &Moto, geoip: &[(&str, &str)]) -> Result<Forwarder, HandlerError> {
    let mut settings: HashMap<&str, &str> = geoip.iter().copied().collect();
    settings.insert("AWS_REGION", REGION);
    let config = Config::from_lookup(|name| settings.get(name).map(|v| v.to_string()), Purpose::DryRun)
        .expect("valid settings");
    Forwarder::with_sdk(config, &moto.sdk_config()).await
}

#[tokio::test]
async fn databases_in_s3_are_downloaded_at_cold_start_and_a_missing_one_stops_it() {
    let moto = Moto::start();
    let s3 = moto.s3_client();
    s3.create_bucket().bucket(BUCKET).send().await.expect("bucket");
    for (key, body) in [
        ("maxmind/GeoLite2-City.mmdb", city_database()),
        ("maxmind/GeoLite2-ASN.mmdb", asn_database()),
    ] {
        s3.put_object()
            .bucket(BUCKET)
            .key(key)
            .body(body.into())
            .send()
            .await
            .expect("put");
    }

    let loaded = forwarder(
        &moto,
        &[
            ("GEOIP_DATABASE", "s3://geoip-data/maxmind/GeoLite2-City.mmdb"),
            ("GEOIP_ASN_DATABASE", "s3://geoip-data/maxmind/GeoLite2-ASN.mmdb"),
        ],
    )
    .await
    .expect("both databases load");
    let mut members = String::new();
    let enrichment = &loaded.config().documents.enrichment;
    enrichment.push_ip("81.2.69.142".parse().expect("an address"), &mut members);
    assert_eq!(
        members,
        r#","geo":{"country_iso_code":"GB","country_name":"United Kingdom","city_name":"London","continent_code":"EU","location":{"lat":51.5142,"lon":-0.0931}},"as":{"number":20712,"organization":{"name":"Andrews & Arnold Ltd"}}"#
    );

    let missing = "s3://geoip-data/maxmind/GeoLite2-Country.mmdb";
    let err = match forwarder(&moto, &[("GEOIP_ASN_DATABASE", missing)]).await {
        Err(HandlerError::Setting(err)) => err,
        Err(other) => panic!("another error: {other}"),
        Ok(_) => panic!("a missing object loaded"),
    };
    assert_eq!(err.setting(), "GEOIP_ASN_DATABASE");
    let message = err.to_string();
    assert!(
        message.contains(missing) && message.contains("GetObject"),
        "{message}"
    );

    let wrong = "s3://geoip-data/maxmind/GeoLite2-City.mmdb";
    let err = match forwarder(&moto, &[("GEOIP_ASN_DATABASE", wrong)]).await {
        Err(HandlerError::Setting(err)) => err.to_string(),
        _ => panic!("a City database is not an ASN database"),
    };
    assert!(
        err.contains("GEOIP_ASN_DATABASE") && err.contains("GeoLite2-City"),
        "{err}"
    );
}

//! Enrichment on small City, Country and ASN databases written by [`super::mmdb_writer`], holding
//! public IPv4 and IPv6 networks and, to show that they are never looked up, private and
//! documentation ranges too.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::mmdb_writer::{Value, Writer};
use super::*;
use crate::source::s3::format::S3Options;

/// London: a public IPv4 network (MaxMind's own test data places 81.2.69.0/24 there).
const LONDON: &str = r#","geo":{"country_iso_code":"GB","country_name":"United Kingdom","city_name":"London","continent_code":"EU","location":{"lat":51.5142,"lon":-0.0931}}"#;
const LONDON_AS: &str = r#","as":{"number":20712,"organization":{"name":"Andrews & Arnold Ltd"}}"#;
/// Falkenstein: a public IPv6 network.
const FALKENSTEIN: &str = r#","geo":{"country_iso_code":"DE","country_name":"Germany","city_name":"Falkenstein","continent_code":"EU","location":{"lat":50.4777,"lon":12.3649}}"#;
const FALKENSTEIN_AS: &str = r#","as":{"number":24940,"organization":{"name":"Hetzner Online GmbH"}}"#;

fn city(iso: &'static str, country: &'static str, city: &'static str, at: (f64, f64)) -> Value {
    let names = |name| Value::Map(vec![("en", Value::Str(name)), ("de", Value::Str("…"))]);
    Value::Map(vec![
        (
            "city",
            Value::Map(vec![("geoname_id", Value::U32(1)), ("names", names(city))]),
        ),
        (
            "continent",
            Value::Map(vec![("code", Value::Str("EU")), ("names", names("Europe"))]),
        ),
        (
            "country",
            Value::Map(vec![("iso_code", Value::Str(iso)), ("names", names(country))]),
        ),
        (
            "location",
            Value::Map(vec![
                ("accuracy_radius", Value::U16(100)),
                ("latitude", Value::F64(at.0)),
                ("longitude", Value::F64(at.1)),
            ]),
        ),
    ])
}

fn asn(number: u32, name: &'static str) -> Value {
    Value::Map(vec![
        ("autonomous_system_number", Value::U32(number)),
        ("autonomous_system_organization", Value::Str(name)),
    ])
}

/// A City database: public networks, and private and documentation ones that a lookup must
/// never reach.
fn city_database() -> Vec<u8> {
    let private = city("ZZ", "Private", "Nowhere", (0.0, 0.0));
    Writer::new("GeoLite2-City")
        .insert(
            "81.2.69.0/24",
            &city("GB", "United Kingdom", "London", (51.5142, -0.0931)),
        )
        .insert(
            "2a01:4f8::/32",
            &city("DE", "Germany", "Falkenstein", (50.4777, 12.3649)),
        )
        .insert(
            "185.0.0.0/16",
            &city("CH", "Switzerland", "Z\u{fc}rich \"Nord\"\n", (47.3769, 8.5417)),
        )
        .insert("10.0.0.0/8", &private)
        .insert("192.0.2.0/24", &private)
        .insert("2001:db8::/32", &private)
        .insert("fd00::/8", &private)
        .build()
}

fn asn_database() -> Vec<u8> {
    Writer::new("GeoLite2-ASN")
        .insert("81.2.69.0/24", &asn(20712, "Andrews & Arnold Ltd"))
        .insert("2a01:4f8::/32", &asn(24940, "Hetzner Online GmbH"))
        .insert("185.0.0.0/16", &asn(64496, "Quote \" and backslash \\ Networks"))
        .insert("10.0.0.0/8", &asn(64512, "Private"))
        .build()
}

fn country_database() -> Vec<u8> {
    let germany = Value::Map(vec![
        ("continent", Value::Map(vec![("code", Value::Str("EU"))])),
        ("country", Value::Map(vec![("iso_code", Value::Str("DE"))])),
    ]);
    Writer::new("GeoLite2-Country")
        .insert("2a01:4f8::/32", &germany)
        .build()
}

/// A file of one test's own, removed when dropped (a map of it stays valid).
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl std::ops::Deref for TempFile {
    type Target = PathBuf;
    fn deref(&self) -> &PathBuf {
        &self.0
    }
}

/// Writes `bytes` to a new file: a file mapped by one test is never rewritten by another.
fn file(name: &str, bytes: &[u8]) -> TempFile {
    static FILES: AtomicUsize = AtomicUsize::new(0);
    let n = FILES.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("sluice-enrich-{}-{n}-{name}", std::process::id()));
    std::fs::write(&path, bytes).expect("a temporary file");
    TempFile(path)
}

fn settings(geoip: Option<&PathBuf>, asn: Option<&PathBuf>) -> EnrichSettings {
    EnrichSettings {
        geoip: geoip.map(|path| DatabaseLocation::Path(path.clone())),
        asn: asn.map(|path| DatabaseLocation::Path(path.clone())),
    }
}

/// Both databases, memory-mapped from files: 81.2.69.0/24 is London (AS 20712) and
/// 2a01:4f8::/32 Falkenstein (AS 24940).
pub(crate) fn both() -> Enrichment {
    let geoip = file("both-city.mmdb", &city_database());
    let asn = file("both-asn.mmdb", &asn_database());
    Enrichment::open(&settings(Some(&geoip), Some(&asn))).expect("both databases open")
}

fn members(enrichment: &Enrichment, ip: &str) -> String {
    let mut out = String::new();
    enrichment.push_ip(ip.parse::<IpAddr>().expect("an address"), &mut out);
    out
}

#[test]
fn public_ipv4_and_ipv6_addresses_get_geo_and_as() {
    let enrichment = both();
    assert_eq!(
        members(&enrichment, "81.2.69.142"),
        format!("{LONDON}{LONDON_AS}")
    );
    assert_eq!(
        members(&enrichment, "::ffff:81.2.69.142"),
        format!("{LONDON}{LONDON_AS}")
    );
    assert_eq!(
        members(&enrichment, "2a01:4f8:c17:b8f::2"),
        format!("{FALKENSTEIN}{FALKENSTEIN_AS}")
    );
    let whole = format!(
        "{{\"ip\":\"81.2.69.142\"{}}}",
        members(&enrichment, "81.2.69.142")
    );
    let parsed: serde_json::Value = serde_json::from_str(&whole).expect("valid JSON");
    assert_eq!(parsed["geo"]["location"]["lon"], -0.0931);
    assert_eq!(parsed["as"]["organization"]["name"], "Andrews & Arnold Ltd");
}

#[test]
fn members_kept_for_one_database_are_never_another_databases() {
    // The same layout, so the records lie at the same offsets in both files.
    let lisbon = Writer::new("GeoLite2-City")
        .insert(
            "81.2.69.0/24",
            &city("PT", "Portugal", "Lisbon", (38.7223, -9.1393)),
        )
        .build();
    let london = Writer::new("GeoLite2-City")
        .insert(
            "81.2.69.0/24",
            &city("GB", "Portugal", "London", (38.7223, -9.1393)),
        )
        .build();
    let open = |name, bytes: &[u8]| {
        let path = file(name, bytes);
        Enrichment::open(&settings(Some(&path), None)).expect("opens")
    };
    let (lisbon, london) = (open("lisbon.mmdb", &lisbon), open("london.mmdb", &london));
    for _ in 0..2 {
        assert!(members(&lisbon, "81.2.69.1").contains(r#""city_name":"Lisbon""#));
        assert!(members(&london, "81.2.69.1").contains(r#""city_name":"London""#));
    }
}

#[test]
fn strings_from_the_database_are_escaped() {
    let out = format!("{{\"ip\":\"185.0.1.1\"{}}}", members(&both(), "185.0.1.1"));
    let parsed: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|err| panic!("{out}: {err}"));
    assert_eq!(parsed["geo"]["city_name"], "Z\u{fc}rich \"Nord\"\n");
    assert_eq!(
        parsed["as"]["organization"]["name"],
        "Quote \" and backslash \\ Networks"
    );
}

#[test]
fn private_loopback_link_local_documentation_and_other_reserved_addresses_get_nothing() {
    let enrichment = both();
    for ip in [
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "127.0.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "192.0.2.10",
        "198.51.100.7",
        "203.0.113.9",
        "198.18.0.1",
        "224.0.0.251",
        "255.255.255.255",
        "0.0.0.0",
        "::",
        "::1",
        "::ffff:10.1.2.3",
        "fe80::1",
        "fd00::1",
        "2001:db8::1",
        "3fff::1",
        "ff02::1",
    ] {
        assert_eq!(members(&enrichment, ip), "", "{ip}");
    }
}

#[test]
fn an_address_the_databases_do_not_hold_gets_nothing() {
    assert_eq!(members(&both(), "8.8.8.8"), "");
    assert_eq!(members(&both(), "2606:4700::1111"), "");
}

#[test]
fn the_public_ranges_are_told_apart_from_the_reserved_ones() {
    for ip in [
        "8.8.8.8",
        "1.1.1.1",
        "81.2.69.142",
        "100.128.0.1",
        "172.32.0.1",
        "2a01:4f8::1",
        "2606:4700::1111",
    ] {
        assert!(is_public(ip.parse().expect("an address")), "{ip} is public");
    }
    for ip in [
        "100.127.255.255",
        "172.31.255.255",
        "192.88.99.1",
        "240.0.0.1",
        "64:ff9b::808:808",
        "2001::1",
        "fec0::1",
    ] {
        assert!(!is_public(ip.parse().expect("an address")), "{ip} is not public");
    }
}

#[test]
fn without_a_database_an_address_gets_nothing() {
    assert_eq!(members(&Enrichment::default(), "81.2.69.142"), "");
    assert_eq!(members(&Enrichment::none(), "81.2.69.142"), "");
    let only_asn = Enrichment::open(&settings(None, Some(&file("only-asn.mmdb", &asn_database()))))
        .expect("the ASN database opens");
    assert_eq!(members(&only_asn, "81.2.69.142"), LONDON_AS);
}

#[test]
fn a_country_database_gives_the_country_and_continent() {
    let path = file("country.mmdb", &country_database());
    let enrichment = Enrichment::open(&settings(Some(&path), None)).expect("a Country database opens");
    assert_eq!(
        members(&enrichment, "2a01:4f8::1"),
        r#","geo":{"country_iso_code":"DE","continent_code":"EU"}"#
    );
}

#[tokio::test]
async fn databases_are_loaded_from_local_paths_at_cold_start() {
    let geoip = file("load-city.mmdb", &city_database());
    let reader = ObjectReader::from_env(S3Options::default());
    let enrichment = Enrichment::load(&settings(Some(&geoip), None), &reader)
        .await
        .expect("the City database loads");
    assert_eq!(members(&enrichment, "81.2.69.142"), LONDON);
    let downloaded = geoip::Database::from_bytes(city_database().into(), geoip::Kind::City).expect("bytes");
    assert_eq!(downloaded.database_type(), "GeoLite2-City");
}

/// The error of opening `bytes` (or a missing file, for `None`) as the database of `setting`.
fn refusal(setting: &str, bytes: Option<&[u8]>) -> String {
    let path = match bytes {
        Some(bytes) => file(&format!("refused-{setting}.mmdb"), bytes),
        None => TempFile(std::env::temp_dir().join("sluice-enrich-no-such-database.mmdb")),
    };
    let settings = match setting {
        "GEOIP_DATABASE" => settings(Some(&path), None),
        _ => settings(None, Some(&path)),
    };
    let err = Enrichment::open(&settings).expect_err("refused");
    assert_eq!(err.setting(), setting);
    let message = err.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    message
}

#[test]
fn a_database_that_cannot_be_used_is_an_error_naming_the_setting_and_the_path() {
    let missing = refusal("GEOIP_DATABASE", None);
    assert!(missing.contains("cannot be read"), "{missing}");
    let text = refusal("GEOIP_ASN_DATABASE", Some(b"not a database\n"));
    assert!(text.contains("not a MaxMind DB"), "{text}");
    let asn_as_city = refusal("GEOIP_DATABASE", Some(&asn_database()));
    assert!(
        asn_as_city.contains("a GeoLite2-ASN database, where a City or Country database"),
        "{asn_as_city}"
    );
    let city_as_asn = refusal("GEOIP_ASN_DATABASE", Some(&city_database()));
    assert!(
        city_as_asn.contains("a GeoLite2-City database, where an ASN database"),
        "{city_as_asn}"
    );
}

#[test]
fn the_settings_name_a_path_or_one_s3_object() {
    let config = |pairs: &[(&str, &str)]| {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        crate::config::Config::from_lookup(
            |name| {
                pairs
                    .iter()
                    .find(|(key, _)| key == name)
                    .map(|(_, value)| value.clone())
            },
            crate::config::Purpose::DryRun,
        )
    };
    let unset = config(&[]).expect("no database");
    assert_eq!(unset.enrich, EnrichSettings::default());
    let set = config(&[
        ("GEOIP_DATABASE", "/opt/GeoLite2-City.mmdb"),
        (
            "GEOIP_ASN_DATABASE",
            "s3://geoip-bucket/maxmind/GeoLite2-ASN.mmdb",
        ),
    ])
    .expect("both set");
    assert_eq!(
        set.enrich.geoip,
        Some(DatabaseLocation::Path("/opt/GeoLite2-City.mmdb".into()))
    );
    assert_eq!(
        set.enrich.asn,
        Some(DatabaseLocation::S3 {
            bucket: "geoip-bucket".into(),
            key: "maxmind/GeoLite2-ASN.mmdb".into()
        })
    );
    for bad in [
        "s3://geoip-bucket",
        "s3://geoip-bucket/",
        "s3:///key",
        "s3://bucket/prefix/",
    ] {
        let err = config(&[("GEOIP_ASN_DATABASE", bad)]).expect_err(bad);
        assert_eq!(err.setting(), "GEOIP_ASN_DATABASE", "{bad}");
    }
}

fn user_agent(original: &str) -> String {
    let mut out = String::new();
    Enrichment::default().push_user_agent(original, &mut out);
    out
}

#[test]
fn a_browsers_user_agent_gets_its_name_version_os_and_device() {
    assert_eq!(
        user_agent(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/124.0.0.0 Safari/537.36"
        ),
        r#","name":"Chrome","version":"124.0.0.0","os":{"name":"Windows","version":"10"}"#
    );
    assert_eq!(
        user_agent(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, \
             like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
        ),
        r#","name":"Safari","version":"17.4","os":{"name":"iOS","version":"17.4"},"device":{"name":"iPhone"}"#
    );
    assert_eq!(
        user_agent("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"),
        r#","name":"Firefox","version":"125.0","os":{"name":"Linux"}"#
    );
}

#[test]
fn a_bot_is_a_spider_and_a_library_is_named_by_itself() {
    assert_eq!(
        user_agent("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
        r#","name":"Googlebot","device":{"name":"Spider"}"#
    );
    assert_eq!(user_agent("curl/8.5.0"), r#","name":"curl""#);
}

#[test]
fn a_user_agent_the_parser_does_not_know_gets_nothing() {
    for unknown in ["sluice-test-agent/1.0", "ELB-HealthChecker/2.0", "", "-"] {
        assert_eq!(user_agent(unknown), "", "{unknown:?}");
    }
    let mut out = String::new();
    Enrichment::none().push_user_agent("curl/8.5.0", &mut out);
    assert_eq!(out, "", "Enrichment::none parses nothing");
}

#[test]
fn the_cache_parses_each_distinct_string_once_and_stays_bounded() {
    // Each test runs on a thread of its own, so this thread's cache starts empty.
    let enrichment = Enrichment::default();
    let mut out = String::new();
    for _ in 0..3 {
        enrichment.push_user_agent("curl/8.5.0", &mut out);
    }
    assert_eq!(out, r#","name":"curl","name":"curl","name":"curl""#);
    assert_eq!(cached_agents(), 1);
    for n in 0..3000 {
        enrichment.push_user_agent(&format!("curl/8.{n}"), &mut String::new());
        assert!(cached_agents() <= user_agent::CACHE_ENTRIES);
    }
}

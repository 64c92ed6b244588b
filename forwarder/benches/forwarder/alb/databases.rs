//! A City and an ASN database of GeoLite2's size, built by the benchmark with the project's
//! MaxMind DB writer ([`crate::mmdb_writer`]), seeded, and cached under `target/bench/`.
//!
//! Each database covers public IPv4 space and a stretch of IPv6 from `2400::` in networks of
//! random sizes with a few gaps: the City database about 3.2 million networks (GeoLite2-City:
//! about 3.5 million, 60 MB), the ASN database about half a million (GeoLite2-ASN: about 0.5
//! million, 8 MB). Many networks share a record, as in
//! MaxMind's files: 40,000 places (city, subdivision, country and continent, each named in
//! several languages) and 60,000 autonomous systems, the first ones used far more than the last.
//! The log's clients are drawn from the City database's networks ([`client_networks`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::rng::Rng;
use crate::mmdb_writer::{Value, Writer};
use crate::target_dir;

/// Changes when what the walk or the records produce changes, so a cached file is rebuilt.
const VERSION: u32 = 2;
const PLACES: usize = 40_000;
const SYSTEMS: usize = 60_000;

/// How one database's networks are laid out.
#[derive(Clone, Copy)]
pub(super) struct Layout {
    seed: u64,
    /// IPv4: from each prefix length on, the chance in 1,000 that a public block of that length
    /// is one network rather than split in two (no network is shorter than the first length).
    v4: &'static [(u8, u64)],
    /// IPv6 prefix lengths and their weights.
    v6: &'static [(u64, u8)],
    /// How many IPv6 networks.
    v6_networks: usize,
}

/// About 2.7 million IPv4 networks from /12 to /29, most of them /24 or smaller, and 0.48
/// million IPv6 ones.
pub(super) const CITY: Layout = Layout {
    seed: 0xc17e_5eed,
    v4: &[(12, 100), (16, 200), (20, 300), (24, 600), (29, 1000)],
    v6: &[(10, 32), (10, 36), (20, 40), (20, 44), (40, 48)],
    v6_networks: 500_000,
};

/// About 0.46 million IPv4 networks from /12 to /24 and 0.09 million IPv6 ones.
pub(super) const ASN: Layout = Layout {
    seed: 0xa5_5eed,
    v4: &[(12, 150), (16, 300), (20, 450), (24, 1000)],
    v6: &[(30, 28), (40, 32), (30, 40)],
    v6_networks: 90_000,
};

/// IPv4's reserved networks, as `enrich::address` lists them (which keeps them private): no
/// database network covers any of them.
const RESERVED_V4: [(u32, u8); 15] = [
    (0x0000_0000, 8),
    (0x0a00_0000, 8),
    (0x6440_0000, 10),
    (0x7f00_0000, 8),
    (0xa9fe_0000, 16),
    (0xac10_0000, 12),
    (0xc000_0000, 24),
    (0xc000_0200, 24),
    (0xc058_6300, 24),
    (0xc0a8_0000, 16),
    (0xc612_0000, 15),
    (0xc633_6400, 24),
    (0xcb00_7100, 24),
    (0xe000_0000, 4),
    (0xf000_0000, 4),
];

/// One network of a walk: its first address and its prefix length.
#[derive(Clone, Copy)]
pub(super) struct Network {
    pub(super) address: IpAddr,
    pub(super) length: u8,
}

/// Calls `each` with every network of `layout`, in address order: IPv4 (each public /8 split
/// in two, again and again, until [`Layout::v4`] says a block is a network), then IPv6 (a run
/// of networks of random lengths from `2400::`). One network in thirty is left out, a gap that
/// no lookup finds.
pub(super) fn walk(layout: Layout, mut each: impl FnMut(Network)) {
    let mut rng = Rng(layout.seed);
    for first in 1..224 {
        block(&layout, &mut rng, &mut each, first << 24, 8);
    }
    let mut at: u128 = 0x2400 << 112;
    for _ in 0..layout.v6_networks {
        let length = rng
            .pick_weighted(layout.v6)
            .max(128 - at.trailing_zeros().min(128) as u8);
        if rng.below(30) != 0 {
            let address = IpAddr::V6(Ipv6Addr::from(at));
            each(Network { address, length });
        }
        at += 1 << (128 - length);
    }
}

/// The IPv4 block `at/length`: nothing if reserved, else one network or its two halves.
fn block(layout: &Layout, rng: &mut Rng, each: &mut impl FnMut(Network), at: u32, length: u8) {
    let mask = |length: u8| u32::MAX.checked_shl(32 - u32::from(length)).unwrap_or(0);
    let mut whole = true;
    for (network, reserved) in RESERVED_V4 {
        if reserved <= length && at & mask(reserved) == network {
            return;
        }
        whole &= !(reserved > length && network & mask(length) == at);
    }
    let chance = layout
        .v4
        .iter()
        .rev()
        .find(|(from, _)| *from <= length)
        .map_or(0, |(_, chance)| *chance);
    if whole && (length == 32 || rng.below(1000) < chance) {
        if rng.below(30) != 0 {
            let address = IpAddr::V4(Ipv4Addr::from(at));
            each(Network { address, length });
        }
        return;
    }
    block(layout, rng, each, at, length + 1);
    block(layout, rng, each, at | (1 << (31 - length)), length + 1);
}

/// `count` networks of the City database, drawn evenly from its walk (reservoir sampling) by
/// `rng`: IPv4 ones, and `count / 7` IPv6 ones.
pub(super) fn client_networks(count: usize, rng: &mut Rng) -> Vec<Network> {
    let v6_count = count / 7;
    let mut v4 = Vec::with_capacity(count - v6_count);
    let mut v6 = Vec::with_capacity(v6_count);
    let (mut seen_v4, mut seen_v6) = (0u64, 0u64);
    walk(CITY, |network| {
        let (kept, seen, room) = match network.address {
            IpAddr::V4(_) => (&mut v4, &mut seen_v4, count - v6_count),
            IpAddr::V6(_) => (&mut v6, &mut seen_v6, v6_count),
        };
        *seen += 1;
        if kept.len() < room {
            kept.push(network);
        } else {
            let slot = rng.below(*seen) as usize;
            if slot < room {
                kept[slot] = network;
            }
        }
    });
    v4.extend(v6);
    v4
}

/// The two databases' files, built on first use.
pub(super) struct Databases {
    pub(super) city: PathBuf,
    pub(super) asn: PathBuf,
}

/// The City and ASN databases, from `target/bench/` or built there, with what they hold.
pub(super) fn databases() -> Databases {
    let dir = target_dir().join("bench");
    std::fs::create_dir_all(&dir).expect("create target/bench");
    let city = dir.join(format!("bench-GeoLite2-City-v{VERSION}.mmdb"));
    let asn = dir.join(format!("bench-GeoLite2-ASN-v{VERSION}.mmdb"));
    build(&city, "GeoLite2-City", CITY, PLACES, place);
    build(&asn, "GeoLite2-ASN", ASN, SYSTEMS, system);
    Databases { city, asn }
}

/// Writes the database of `layout` to `file` unless it is there: `records` records made by
/// `record`, each network given one of them, the first ones far more often than the last.
fn build(
    file: &Path,
    database_type: &'static str,
    layout: Layout,
    records: usize,
    record: fn(usize) -> Value,
) {
    if file.exists() {
        let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or_default();
        println!(
            "  {database_type}: {} ({:.1} MB, cached)",
            file.display(),
            size as f64 / 1e6
        );
        return;
    }
    let start = Instant::now();
    let mut writer = Writer::new(database_type);
    let offsets: Vec<u32> = (0..records).map(|index| writer.record(&record(index))).collect();
    let (mut v4, mut v6) = (0, 0);
    let mut rng = Rng(layout.seed ^ 0x7265_636f_7264);
    walk(layout, |network| {
        // u³ for u even in [0, 1): a tenth of the records get more than half of the networks.
        let u = rng.below(1 << 20) as f64 / (1 << 20) as f64;
        let index = ((u * u * u) * records as f64) as usize;
        writer.insert_record(network.address, network.length, offsets[index]);
        match network.address {
            IpAddr::V4(_) => v4 += 1,
            IpAddr::V6(_) => v6 += 1,
        }
    });
    let bytes = writer.build();
    let partial = file.with_extension("partial");
    std::fs::write(&partial, &bytes).expect("write the database");
    std::fs::rename(&partial, file).expect("move the database into place");
    println!(
        "  {database_type}: built {} in {:.1} s: {v4} IPv4 and {v6} IPv6 networks, {records} records, {} nodes, {:.1} MB",
        file.display(),
        start.elapsed().as_secs_f64(),
        writer.node_count(),
        bytes.len() as f64 / 1e6,
    );
}

const LANGUAGES: [&str; 6] = ["de", "en", "es", "fr", "ja", "pt-BR"];
const CONTINENTS: [(&str, &str); 7] = [
    ("AF", "Africa"),
    ("AN", "Antarctica"),
    ("AS", "Asia"),
    ("EU", "Europe"),
    ("NA", "North America"),
    ("OC", "Oceania"),
    ("SA", "South America"),
];

/// A name in each language: the same word, with the language's mark on all but English.
fn names(name: &str) -> Value {
    Value::Map(
        LANGUAGES
            .iter()
            .map(|&language| {
                let text = match language {
                    "en" => name.to_owned(),
                    _ => format!("{name} ({language})"),
                };
                (language, Value::Text(text))
            })
            .collect(),
    )
}

/// A made-up word of two to four syllables, the same for the same `seed`.
fn word(seed: u64) -> String {
    const SYLLABLES: [&str; 16] = [
        "ba", "ren", "to", "mi", "sal", "ka", "dor", "ve", "lin", "qu", "ar", "ost", "ne", "ham", "ri", "zu",
    ];
    let mut rng = Rng(seed);
    let mut word: String = (0..2 + rng.below(3))
        .map(|_| SYLLABLES[rng.below(16) as usize])
        .collect();
    word[..1].make_ascii_uppercase();
    word
}

/// Place `index`: a City record as GeoLite2-City lays it out.
fn place(index: usize) -> Value {
    let country = index % 240;
    let (continent_code, continent) = CONTINENTS[country % 7];
    let iso = format!(
        "{}{}",
        char::from(b'A' + (country / 26) as u8),
        char::from(b'A' + (country % 26) as u8)
    );
    let area = |id: usize, code: Option<String>, name: String| {
        let mut members = vec![("geoname_id", Value::U32(id as u32))];
        members.extend(code.map(|code| ("iso_code", Value::Text(code))));
        members.push(("names", names(&name)));
        Value::Map(members)
    };
    let at = (index as f64 * 0.618_033_988_7).fract();
    Value::Map(vec![
        ("city", area(1_000_000 + index, None, word(index as u64))),
        (
            "continent",
            Value::Map(vec![
                ("code", Value::Str(continent_code)),
                ("geoname_id", Value::U32(6_255_146 + country as u32 % 7)),
                ("names", names(continent)),
            ]),
        ),
        (
            "country",
            area(
                2_000_000 + country,
                Some(iso.clone()),
                word(country as u64 + 7_000_000),
            ),
        ),
        (
            "location",
            Value::Map(vec![
                ("accuracy_radius", Value::U16(20 + (index % 500) as u16)),
                ("latitude", Value::F64(((at * 140.0 - 60.0) * 1e4).round() / 1e4)),
                (
                    "longitude",
                    Value::F64(((at * 7919.0 % 360.0 - 180.0) * 1e4).round() / 1e4),
                ),
                (
                    "time_zone",
                    Value::Text(format!("{continent}/{}", word(country as u64))),
                ),
            ]),
        ),
        (
            "postal",
            Value::Map(vec![("code", Value::Text(format!("{:05}", index * 7 % 100_000)))]),
        ),
        (
            "registered_country",
            area(2_000_000 + country, Some(iso), word(country as u64 + 7_000_000)),
        ),
        (
            "subdivisions",
            Value::Array(vec![area(
                3_000_000 + index / 20,
                Some((index / 20 % 100).to_string()),
                word(index as u64 / 20 + 9_000_000),
            )]),
        ),
    ])
}

/// Autonomous system `index`: an ASN record as GeoLite2-ASN lays it out.
fn system(index: usize) -> Value {
    const KINDS: [&str; 6] = [
        "Telecom",
        "Networks Ltd",
        "Internet Services",
        "Communications Inc.",
        "Broadband",
        "Hosting GmbH",
    ];
    Value::Map(vec![
        ("autonomous_system_number", Value::U32(1000 + index as u32 * 7)),
        (
            "autonomous_system_organization",
            Value::Text(format!("{} {}", word(index as u64 + 5_000_000), KINDS[index % 6])),
        ),
    ])
}

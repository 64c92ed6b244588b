//! One MaxMind DB file (<https://maxmind.github.io/MaxMind-DB/>) and the ECS members its
//! records make: `geo.*` from a City or Country database, `as.*` from an ASN (or ISP) one.
//! Records are decoded into small borrowed structs that name only the fields written, skipping
//! the rest of the record (other languages, subdivisions). Many networks share one record (a
//! city's), and a batch's addresses come from a few places: the members a record makes are kept
//! per thread ([`Rendered`]), so a lookup that finds a record seen before walks the tree and copies
//! text, without decoding (about 0.2 µs, against 1.5 µs for a City record decoded).

use std::cell::RefCell;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use maxminddb::{Mmap, Reader};
use serde::Deserialize;

use crate::json::{push_f64, push_key, push_str, push_u64};

/// Which setting a database answers, and so which types it may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// `GEOIP_DATABASE`: GeoIP2/GeoLite2 City or Country, GeoIP2 Enterprise, DB-IP City or
    /// Country Lite (the same record layout).
    City,
    /// `GEOIP_ASN_DATABASE`: GeoLite2 ASN, GeoIP2 ISP, DB-IP ASN Lite.
    Asn,
}

impl Kind {
    pub(super) fn setting(self) -> &'static str {
        match self {
            Kind::City => "GEOIP_DATABASE",
            Kind::Asn => "GEOIP_ASN_DATABASE",
        }
    }

    /// Whether a database whose metadata says `database_type` holds this kind's records.
    fn accepts(self, database_type: &str) -> bool {
        let words = match self {
            Kind::City => ["City", "Country", "Enterprise"].as_slice(),
            Kind::Asn => ["ASN", "ISP"].as_slice(),
        };
        words.iter().any(|word| database_type.contains(word))
    }

    fn expected(self) -> &'static str {
        match self {
            Kind::City => "a City or Country database (e.g. GeoLite2-City)",
            Kind::Asn => "an ASN database (e.g. GeoLite2-ASN)",
        }
    }
}

/// A database's bytes: a local file mapped into memory, or an object downloaded from S3.
enum Bytes {
    Mapped(Mmap),
    Owned(bytes::Bytes),
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(map) => map,
            Bytes::Owned(bytes) => bytes,
        }
    }
}

/// An open database of one [`Kind`].
pub(super) struct Database {
    reader: Reader<Bytes>,
    /// Tells this database's records apart from another's in [`Rendered`].
    id: u64,
}

/// Slots of [`Rendered`] per thread: with a City and an ASN database, room for the places and
/// networks of a busy object (a log's clients come from thousands of places and networks;
/// decoding a City record again costs about 1.5 µs): 1 MB of slots, and at most about 5 MB of
/// text. With 8,192 slots, the benchmark's enrichment took 14% more time (issue 23).
const RENDERED_SLOTS: usize = 32768;

/// The members recently made from records, per thread, each slot holding the last record whose
/// database and offset hash to it. The text is shared with the addresses that found it
/// (`enrich`'s cache of addresses), so a city's members are held once however many addresses
/// are in it.
#[derive(Default)]
struct Rendered {
    slots: Vec<Option<(u64, usize, Arc<str>)>>,
}

thread_local! {
    static RENDERED: RefCell<Rendered> = RefCell::default();
}

/// The slot of a record: SplitMix64's finalizer of the database and offset, which spreads
/// records of equal sizes (offsets in steps) as well as any.
fn slot(database: u64, offset: usize) -> usize {
    let mut x = (offset as u64) ^ database.rotate_right(16);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (x ^ (x >> 31)) as usize % RENDERED_SLOTS
}

impl Database {
    /// Maps the file at `path` into memory. The error says why, in words a setting's error can
    /// carry.
    pub(super) fn open(path: &Path, kind: Kind) -> Result<Database, String> {
        let file = std::fs::File::open(path).map_err(|err| format!("cannot be read: {err}"))?;
        // SAFETY: the map is read-only and lives as long as the reader. A database file is not
        // rewritten in place while a process reads it: a layer's /opt is read-only, and
        // geoipupdate replaces a file by renaming a new one over it, which leaves this map on
        // the old one.
        let map = unsafe { Mmap::map(&file) }.map_err(|err| format!("cannot be mapped: {err}"))?;
        Database::new(Bytes::Mapped(map), kind)
    }

    /// A database downloaded whole.
    pub(super) fn from_bytes(bytes: bytes::Bytes, kind: Kind) -> Result<Database, String> {
        Database::new(Bytes::Owned(bytes), kind)
    }

    fn new(bytes: Bytes, kind: Kind) -> Result<Database, String> {
        let reader = Reader::from_source(bytes).map_err(|err| format!("not a MaxMind DB file ({err})"))?;
        let database_type = &reader.metadata().database_type;
        if !kind.accepts(database_type) {
            return Err(format!(
                "a {database_type} database, where {} is expected",
                kind.expected()
            ));
        }
        static IDS: AtomicU64 = AtomicU64::new(0);
        Ok(Database {
            reader,
            id: IDS.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// What tells this database apart from any other opened by this process.
    pub(super) fn id(&self) -> u64 {
        self.id
    }

    /// The metadata's type, e.g. `GeoLite2-City`.
    pub(super) fn database_type(&self) -> &str {
        &self.reader.metadata().database_type
    }

    /// When the database was built, in seconds since the epoch.
    pub(super) fn build_epoch(&self) -> u64 {
        self.reader.metadata().build_epoch
    }

    /// The members `render` makes of the record of `ip` (`None` without one), made once per
    /// record and thread while it stays in [`RENDERED`].
    fn record<'a, T: Deserialize<'a>>(&'a self, ip: IpAddr, render: fn(&T, &mut String)) -> Option<Arc<str>> {
        let found = self.reader.lookup(ip).ok()?;
        let offset = found.offset()?;
        RENDERED.with_borrow_mut(|rendered| {
            if rendered.slots.is_empty() {
                rendered.slots.resize_with(RENDERED_SLOTS, || None);
            }
            let slot = &mut rendered.slots[slot(self.id, offset)];
            match slot {
                Some((id, at, members)) if *id == self.id && *at == offset => Some(Arc::clone(members)),
                _ => {
                    let mut members = String::new();
                    if let Ok(Some(record)) = found.decode::<T>() {
                        render(&record, &mut members);
                    }
                    let members: Arc<str> = members.into();
                    *slot = Some((self.id, offset, Arc::clone(&members)));
                    Some(members)
                }
            }
        })
    }

    /// `,"geo":{…}` with the members the record of `ip` has; `None` without one.
    pub(super) fn geo(&self, ip: IpAddr) -> Option<Arc<str>> {
        self.record(ip, GeoRecord::push)
    }

    /// `,"as":{"number":…,"organization":{"name":…}}` with the members the record of `ip`
    /// has; `None` without one.
    pub(super) fn autonomous_system(&self, ip: IpAddr) -> Option<Arc<str>> {
        self.record(ip, AsRecord::push)
    }
}

/// The fields of a City or Country record that `geo` is made of (GeoIP2's layout).
#[derive(Deserialize)]
struct GeoRecord<'a> {
    #[serde(borrow)]
    city: Option<Area<'a>>,
    #[serde(borrow)]
    continent: Option<Area<'a>>,
    #[serde(borrow)]
    country: Option<Area<'a>>,
    location: Option<Location>,
}

/// A city, continent or country: its code (continents) or ISO code (countries), and its names.
#[derive(Deserialize)]
struct Area<'a> {
    code: Option<&'a str>,
    iso_code: Option<&'a str>,
    #[serde(borrow)]
    names: Option<Names<'a>>,
}

impl<'a> Area<'a> {
    fn english(&self) -> Option<&'a str> {
        self.names.as_ref().and_then(|names| names.en)
    }
}

#[derive(Deserialize)]
struct Names<'a> {
    en: Option<&'a str>,
}

#[derive(Deserialize)]
struct Location {
    latitude: Option<f64>,
    longitude: Option<f64>,
}

/// An ASN record (GeoLite2-ASN; GeoIP2-ISP has the same two fields).
#[derive(Deserialize)]
struct AsRecord<'a> {
    autonomous_system_number: Option<u32>,
    autonomous_system_organization: Option<&'a str>,
}

impl AsRecord<'_> {
    fn push(&self, out: &mut String) {
        let mut object = Object::open(out, "as");
        if let Some(number) = self.autonomous_system_number {
            push_u64(object.member("number"), u64::from(number));
        }
        if let Some(name) = self.autonomous_system_organization {
            let out = object.member("organization");
            out.push_str("{\"name\":");
            push_str(out, name);
            out.push('}');
        }
        object.close();
    }
}

impl GeoRecord<'_> {
    fn push(&self, out: &mut String) {
        let mut object = Object::open(out, "geo");
        let country = self.country.as_ref();
        let strings = [
            ("country_iso_code", country.and_then(|country| country.iso_code)),
            ("country_name", country.and_then(Area::english)),
            ("city_name", self.city.as_ref().and_then(Area::english)),
            (
                "continent_code",
                self.continent.as_ref().and_then(|continent| continent.code),
            ),
        ];
        for (name, value) in strings {
            if let Some(value) = value {
                push_str(object.member(name), value);
            }
        }
        let location = self.location.as_ref();
        if let Some((lat, lon)) = location.and_then(|at| at.latitude.zip(at.longitude)) {
            let out = object.member("location");
            out.push_str("{\"lat\":");
            push_f64(out, lat);
            out.push_str(",\"lon\":");
            push_f64(out, lon);
            out.push('}');
        }
        object.close();
    }
}

/// `,"name":{…}` written member by member, taken back whole if no member came.
struct Object<'a> {
    out: &'a mut String,
    start: usize,
    members: usize,
}

impl<'a> Object<'a> {
    fn open(out: &'a mut String, name: &str) -> Object<'a> {
        let start = out.len();
        out.push(',');
        push_key(out, name);
        out.push('{');
        Object {
            out,
            start,
            members: 0,
        }
    }

    /// Writes `"name":` (after a comma unless first) and hands back the text for its value.
    fn member(&mut self, name: &str) -> &mut String {
        if self.members > 0 {
            self.out.push(',');
        }
        self.members += 1;
        push_key(self.out, name);
        self.out
    }

    fn close(self) {
        if self.members == 0 {
            self.out.truncate(self.start);
        } else {
            self.out.push('}');
        }
    }
}

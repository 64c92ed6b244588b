//! What a document learns beyond its line: the country, city, location and autonomous system of
//! a public address (MaxMind DB files: `GEOIP_DATABASE`, `GEOIP_ASN_DATABASE`), and the browser,
//! OS and device of a user agent (woothee).
//!
//! [`Enrichment`] is built once per cold start ([`Enrichment::load`]) and shared by every
//! document; a document writer calls [`Enrichment::push_ip`] inside an address's parent object
//! (`source`, `destination`, `client`) and [`Enrichment::push_user_agent`] inside `user_agent`,
//! each appending ECS members with a leading comma, or nothing.
//!
//! Below `document/`: it uses `json` and, to download a database, `source::s3`'s reader.

mod address;
mod geoip;
mod user_agent;

#[cfg(test)]
#[path = "../../benches/forwarder/mmdb_writer.rs"]
mod mmdb_writer;
#[cfg(test)]
pub(crate) mod tests;

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use sluice_edge::settings::SettingError;

pub use self::address::is_public;
use self::geoip::{Database, Kind};
use self::user_agent::UserAgentCache;
use crate::source::s3::read::ObjectReader;

/// Where a database is read from: a local file (a Lambda layer's `/opt/…`), memory-mapped, or
/// an S3 object, downloaded once per cold start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    Path(PathBuf),
    S3 { bucket: String, key: String },
}

impl DatabaseLocation {
    /// `s3://BUCKET/KEY`, or else a path.
    pub fn parse(value: &str) -> Result<DatabaseLocation, &'static str> {
        let Some(rest) = value.strip_prefix("s3://") else {
            return Ok(DatabaseLocation::Path(PathBuf::from(value)));
        };
        match rest.split_once('/') {
            Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() && !key.ends_with('/') => {
                Ok(DatabaseLocation::S3 {
                    bucket: bucket.to_string(),
                    key: key.to_string(),
                })
            }
            _ => Err("expected s3://BUCKET/KEY (one object, e.g. s3://geoip/GeoLite2-City.mmdb) or a path"),
        }
    }
}

impl std::fmt::Display for DatabaseLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseLocation::Path(path) => write!(f, "{}", path.display()),
            DatabaseLocation::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
        }
    }
}

/// The validated enrichment settings: which databases to load (none by default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnrichSettings {
    /// `GEOIP_DATABASE`: a City or Country database.
    pub geoip: Option<DatabaseLocation>,
    /// `GEOIP_ASN_DATABASE`: an ASN (or ISP) database.
    pub asn: Option<DatabaseLocation>,
}

/// The loaded databases and the user-agent parser, built once per cold start and shared by
/// every document. The default has no database and parses user agents; [`Enrichment::none`]
/// does neither.
pub struct Enrichment {
    geoip: Option<Database>,
    asn: Option<Database>,
    user_agents: Option<woothee::parser::Parser>,
}

impl Default for Enrichment {
    fn default() -> Self {
        Enrichment {
            geoip: None,
            asn: None,
            user_agents: Some(woothee::parser::Parser::new()),
        }
    }
}

impl std::fmt::Debug for Enrichment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrichment")
            .field("geoip", &self.geoip.as_ref().map(Database::database_type))
            .field("asn", &self.asn.as_ref().map(Database::database_type))
            .field("user_agents", &self.user_agents.is_some())
            .finish()
    }
}

impl Enrichment {
    /// No database and no user-agent parsing: documents as they were before enrichment (the
    /// benchmarks' baseline).
    pub fn none() -> Enrichment {
        Enrichment {
            user_agents: None,
            ..Enrichment::default()
        }
    }

    /// Loads the databases `settings` name: a local file memory-mapped, an S3 object downloaded
    /// with `s3`. A database that cannot be read, is not a MaxMind DB or is of the wrong type
    /// is a [`SettingError`] naming its setting and location.
    pub async fn load(settings: &EnrichSettings, s3: &ObjectReader) -> Result<Enrichment, SettingError> {
        let mut enrichment = Enrichment::default();
        if let Some(location) = &settings.geoip {
            enrichment.geoip = Some(load(location, Kind::City, s3).await?);
        }
        if let Some(location) = &settings.asn {
            enrichment.asn = Some(load(location, Kind::Asn, s3).await?);
        }
        Ok(enrichment)
    }

    /// Like [`Enrichment::load`] for local files only (an S3 location is refused): for tools and
    /// benchmarks that have no S3 client.
    pub fn open(settings: &EnrichSettings) -> Result<Enrichment, SettingError> {
        let open = |location: &DatabaseLocation, kind: Kind| match location {
            DatabaseLocation::Path(path) => Database::open(path, kind)
                .map_err(|reason| SettingError::invalid(kind.setting(), &location.to_string(), reason)),
            DatabaseLocation::S3 { .. } => Err(SettingError::invalid(
                kind.setting(),
                &location.to_string(),
                "only a local path can be opened here",
            )),
        };
        Ok(Enrichment {
            geoip: settings
                .geoip
                .as_ref()
                .map(|at| open(at, Kind::City))
                .transpose()?,
            asn: settings.asn.as_ref().map(|at| open(at, Kind::Asn)).transpose()?,
            ..Enrichment::default()
        })
    }

    /// About how many bytes enrichment adds to an access log's document (two addresses' `geo`
    /// and `as`, a user agent's members), so that its writer reserves them at once: a document
    /// that outgrows its first buffer is copied whole into one twice its size, which cost the
    /// enriched ALB benchmark a tenth of its speed (issue 23).
    pub fn members_capacity(&self) -> usize {
        let addresses = if self.has_databases() { 2 * 256 } else { 0 };
        let agent = if self.user_agents.is_some() { 128 } else { 0 };
        addresses + agent
    }

    /// Whether a GeoIP or ASN database is loaded.
    pub fn has_databases(&self) -> bool {
        self.geoip.is_some() || self.asn.is_some()
    }

    /// Appends `,"geo":{…}` and/or `,"as":{…}` (each with a leading comma, ECS names) for a public
    /// address; nothing for private, loopback, link-local, documentation/benchmark/shared/multicast/
    /// unspecified ranges (IPv4 and IPv6), nor when no database is set.
    pub fn push_ip(&self, ip: IpAddr, out: &mut String) {
        if !self.has_databases() {
            return;
        }
        // An IPv4 address written as IPv6 (`::ffff:a.b.c.d`) is looked up as the IPv4 one.
        let ip = ip.to_canonical();
        if !is_public(ip) {
            return;
        }
        let owner = self.owner();
        ADDRESSES.with_borrow_mut(|addresses| {
            if addresses.is_empty() {
                addresses.resize_with(ADDRESS_SLOTS, || None);
            }
            let slot = &mut addresses[address_slot(owner, ip)];
            let members = match slot {
                Some(found) if found.owner == owner && found.ip == ip => &found.members,
                _ => {
                    let members = self.look_up(ip);
                    &slot.insert(LookedUp { owner, ip, members }).members
                }
            };
            for text in members.iter().flatten() {
                out.push_str(text);
            }
        });
    }

    /// What the databases hold for a public `ip`: `geo`'s members and `as`'s.
    fn look_up(&self, ip: IpAddr) -> [Option<Arc<str>>; 2] {
        [
            self.geoip.as_ref().and_then(|geoip| geoip.geo(ip)),
            self.asn.as_ref().and_then(|asn| asn.autonomous_system(ip)),
        ]
    }

    /// Tells this enrichment's databases apart from another's in [`ADDRESSES`].
    fn owner(&self) -> u64 {
        let id = |database: &Option<Database>| database.as_ref().map_or(0, |database| database.id() + 1);
        id(&self.geoip) | (id(&self.asn) << 32)
    }

    /// Appends `,"name":…,"version":…,"os":{"name":…,"version":…},"device":{"name":…}` (leading commas,
    /// only the members known) for a user agent the parser knows; nothing for one it does not.
    /// Each distinct string is parsed once per thread, up to [`user_agent::CACHE_ENTRIES`] kept
    /// (the GeoIP records' cache is per thread too): a batch or object repeats a few agents.
    pub fn push_user_agent(&self, original: &str, out: &mut String) {
        if let Some(parser) = &self.user_agents {
            AGENTS.with_borrow_mut(|cache| out.push_str(cache.members(parser, original)));
        }
    }
}

/// Slots of [`ADDRESSES`] per thread: room for the clients of a busy object (a log's requests
/// come from far fewer addresses than it has lines), 4 MB of slots whose text is the records'
/// (shared, [`geoip`]'s cache). An address not found costs a walk of each database's tree, in
/// memory as large as the databases: the ALB benchmark's 154,366 lines from 27,871 addresses make
/// 59,600 walks with 16,384 slots and 38,000 with 65,536 (a simulation of its generator's
/// clients); see docs/benchmarks.md for what that changed.
const ADDRESS_SLOTS: usize = 65536;

/// A slot of [`ADDRESSES`]: the databases' owner, the address, and the members they gave
/// (`geo`'s, `as`'s), shared with the records' cache.
struct LookedUp {
    owner: u64,
    ip: IpAddr,
    members: [Option<Arc<str>>; 2],
}

/// The slot of an address: SplitMix64's finalizer of the address and the databases.
fn address_slot(owner: u64, ip: IpAddr) -> usize {
    let bits = match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6) ^ (1 << 127),
    };
    let mut x = (bits as u64) ^ ((bits >> 64) as u64).rotate_left(29) ^ owner.rotate_right(17);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (x ^ (x >> 31)) as usize % ADDRESS_SLOTS
}

thread_local! {
    /// The members the databases gave public addresses this thread looked up lately, each slot
    /// holding the last address that hashes to it: a client that comes back costs a copy, not
    /// two walks of the databases' trees.
    static ADDRESSES: std::cell::RefCell<Vec<Option<LookedUp>>> = std::cell::RefCell::default();

    /// The user agents this thread has parsed.
    static AGENTS: std::cell::RefCell<UserAgentCache> = std::cell::RefCell::default();
}

/// How many user agents this thread's cache holds.
#[cfg(test)]
fn cached_agents() -> usize {
    AGENTS.with_borrow(UserAgentCache::len)
}

/// Reads one database from `location` for the setting of `kind`, logging what it holds.
async fn load(location: &DatabaseLocation, kind: Kind, s3: &ObjectReader) -> Result<Database, SettingError> {
    let refused = |reason: String| SettingError::invalid(kind.setting(), &location.to_string(), reason);
    let database = match location {
        DatabaseLocation::Path(path) => Database::open(path, kind).map_err(refused)?,
        DatabaseLocation::S3 { bucket, key } => {
            let bytes = s3
                .get_bytes(bucket, key)
                .await
                .map_err(|err| refused(format!("cannot be read: {err}")))?;
            Database::from_bytes(bytes, kind).map_err(refused)?
        }
    };
    tracing::info!(
        setting = kind.setting(),
        location = %location,
        database_type = database.database_type(),
        built = database.build_epoch(),
        "database loaded"
    );
    Ok(database)
}

//! A small MaxMind DB writer (<https://maxmind.github.io/MaxMind-DB/>): an IPv6 search tree of
//! 32-bit records (IPv4 networks under `::/96`, where readers look IPv4 addresses up), the data
//! section, and the metadata. Networks must not overlap.
//!
//! One file for three users: the library's tests (`enrich/mod.rs`) and the end-to-end tests
//! (`tests/e2e/forwarder/geoip.rs`) include it by path for small databases, and the forwarder
//! benchmark builds databases of GeoLite2's size with it (millions
//! of networks in seconds: a record is encoded once and shared by many networks, and the tree's
//! records are plain `u32`s). Each uses part of it, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::net::IpAddr;

/// A value of the data section.
pub(crate) enum Value {
    Str(&'static str),
    /// A string built at run time (the benchmark's generated names).
    Text(String),
    F64(f64),
    U16(u16),
    U32(u32),
    U64(u64),
    Array(Vec<Value>),
    Map(Vec<(&'static str, Value)>),
}

/// A tree record that points into the data section has this bit set; 0 is an empty record
/// (node 0 is the root, never a child); anything else is the next node.
const DATA: u32 = 1 << 31;

pub(crate) struct Writer {
    database_type: &'static str,
    nodes: Vec<[u32; 2]>,
    /// The node of `::/96`, where IPv4 networks go, once made.
    ipv4_root: Option<usize>,
    data: Vec<u8>,
}

impl Writer {
    pub(crate) fn new(database_type: &'static str) -> Writer {
        Writer {
            database_type,
            nodes: vec![[0; 2]],
            ipv4_root: None,
            data: Vec::new(),
        }
    }

    /// Maps `network` (`81.2.69.0/24`, `2a01:4f8::/32`) to `value`.
    pub(crate) fn insert(&mut self, network: &str, value: &Value) -> &mut Writer {
        let (address, length) = network.split_once('/').expect("ADDRESS/LENGTH");
        let length: u8 = length.parse().expect("a prefix length");
        let address = address.parse::<IpAddr>().expect("an address");
        let record = self.record(value);
        self.insert_record(address, length, record);
        self
    }

    /// Encodes `value` into the data section once, for [`Writer::insert_record`] to map any
    /// number of networks to.
    pub(crate) fn record(&mut self, value: &Value) -> u32 {
        let offset = u32::try_from(self.data.len())
            .ok()
            .filter(|offset| offset & DATA == 0)
            .expect("a data section under 2 GiB");
        encode(&mut self.data, value);
        offset
    }

    /// Maps `address/length` (the length of its own family: `/24` for IPv4) to a record made by
    /// [`Writer::record`].
    pub(crate) fn insert_record(&mut self, address: IpAddr, length: u8, record: u32) {
        let (bits, length, mut node) = match address {
            IpAddr::V4(v4) => (
                u128::from(u32::from(v4)) << 96,
                u32::from(length),
                self.ipv4_root(),
            ),
            IpAddr::V6(v6) => (u128::from(v6), u32::from(length), 0),
        };
        assert!(length > 0, "{address}/{length}: a network of at least one bit");
        for depth in 0..length {
            let bit = ((bits >> (127 - depth)) & 1) as usize;
            if depth + 1 == length {
                assert!(
                    self.nodes[node][bit] == 0,
                    "{address}/{length} overlaps a network inserted before"
                );
                self.nodes[node][bit] = DATA | record;
                break;
            }
            node = self.child(node, bit, address);
        }
    }

    /// The node `bit` of `node` leads to, made if there is none.
    fn child(&mut self, node: usize, bit: usize, address: IpAddr) -> usize {
        match self.nodes[node][bit] {
            0 => {
                self.nodes.push([0; 2]);
                let next = self.nodes.len() - 1;
                self.nodes[node][bit] = u32::try_from(next)
                    .ok()
                    .filter(|n| n & DATA == 0)
                    .expect("a tree under 2^31 nodes");
                next
            }
            next if next & DATA == 0 => next as usize,
            _ => panic!("{address}: inside a network inserted before"),
        }
    }

    /// The node of `::/96`: IPv4 addresses are looked up under it.
    fn ipv4_root(&mut self) -> usize {
        if let Some(node) = self.ipv4_root {
            return node;
        }
        let mut node = 0;
        for _ in 0..96 {
            node = self.child(node, 0, IpAddr::from([0u8; 16]));
        }
        self.ipv4_root = Some(node);
        node
    }

    /// How many nodes the search tree has.
    pub(crate) fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The database file's bytes.
    pub(crate) fn build(&self) -> Vec<u8> {
        let count = u32::try_from(self.nodes.len()).expect("a tree under 2^31 nodes");
        let mut out = Vec::with_capacity(self.nodes.len() * 8 + 16 + self.data.len() + 512);
        for node in &self.nodes {
            for &record in node {
                let value = match record {
                    0 => count,
                    record if record & DATA != 0 => count + 16 + (record & !DATA),
                    next => next,
                };
                out.extend(value.to_be_bytes());
            }
        }
        out.extend([0; 16]);
        out.extend(&self.data);
        out.extend(b"\xab\xcd\xefMaxMind.com");
        let metadata = Value::Map(vec![
            ("binary_format_major_version", Value::U16(2)),
            ("binary_format_minor_version", Value::U16(0)),
            ("build_epoch", Value::U64(1_767_225_600)),
            ("database_type", Value::Str(self.database_type)),
            (
                "description",
                Value::Map(vec![("en", Value::Str("Sluice's test database"))]),
            ),
            ("ip_version", Value::U16(6)),
            ("languages", Value::Array(vec![Value::Str("en")])),
            ("node_count", Value::U32(count)),
            ("record_size", Value::U16(32)),
        ]);
        encode(&mut out, &metadata);
        out
    }
}

/// Appends a field's control byte(s): its type and size (types above 7 are "extended").
fn control(out: &mut Vec<u8>, kind: u8, size: usize) {
    let (first, extra): (u8, Vec<u8>) = match size {
        0..29 => (size as u8, Vec::new()),
        29..285 => (29, vec![(size - 29) as u8]),
        _ => (30, ((size - 285) as u16).to_be_bytes().to_vec()),
    };
    if kind <= 7 {
        out.push((kind << 5) | first);
    } else {
        out.push(first);
        out.push(kind - 7);
    }
    out.extend(extra);
}

fn encode(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Str(text) => string(out, text),
        Value::Text(text) => string(out, text),
        Value::F64(number) => {
            control(out, 3, 8);
            out.extend(number.to_be_bytes());
        }
        Value::U16(number) => unsigned(out, 5, &number.to_be_bytes()),
        Value::U32(number) => unsigned(out, 6, &number.to_be_bytes()),
        Value::U64(number) => unsigned(out, 9, &number.to_be_bytes()),
        Value::Array(items) => {
            control(out, 11, items.len());
            for item in items {
                encode(out, item);
            }
        }
        Value::Map(members) => {
            control(out, 7, members.len());
            for (key, value) in members {
                string(out, key);
                encode(out, value);
            }
        }
    }
}

fn string(out: &mut Vec<u8>, text: &str) {
    control(out, 2, text.len());
    out.extend(text.as_bytes());
}

/// An unsigned integer of type `kind`, in as few big-endian bytes as it needs.
fn unsigned(out: &mut Vec<u8>, kind: u8, bytes: &[u8]) {
    let skip = bytes.iter().take_while(|&&byte| byte == 0).count();
    control(out, kind, bytes.len() - skip);
    out.extend(&bytes[skip..]);
}

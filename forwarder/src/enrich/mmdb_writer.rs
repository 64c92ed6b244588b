//! A small MaxMind DB writer for tests (<https://maxmind.github.io/MaxMind-DB/>): an IPv6 search
//! tree of 32-bit records (IPv4 networks under `::/96`, where readers look IPv4 addresses up),
//! the data section, and the metadata. Networks must not overlap.

use std::net::IpAddr;

/// A value of the data section.
pub(super) enum Value {
    Str(&'static str),
    F64(f64),
    U16(u16),
    U32(u32),
    U64(u64),
    Array(Vec<Value>),
    Map(Vec<(&'static str, Value)>),
}

/// A record of the search tree.
#[derive(Clone, Copy)]
enum Record {
    Empty,
    Node(u32),
    /// An offset in the data section.
    Data(u32),
}

pub(super) struct Writer {
    database_type: &'static str,
    nodes: Vec<[Record; 2]>,
    data: Vec<u8>,
}

impl Writer {
    pub(super) fn new(database_type: &'static str) -> Writer {
        Writer {
            database_type,
            nodes: vec![[Record::Empty; 2]],
            data: Vec::new(),
        }
    }

    /// Maps `network` (`81.2.69.0/24`, `2a01:4f8::/32`) to `value`.
    pub(super) fn insert(&mut self, network: &str, value: &Value) -> &mut Writer {
        let (address, length) = network.split_once('/').expect("ADDRESS/LENGTH");
        let length: u32 = length.parse().expect("a prefix length");
        let (bits, length) = match address.parse::<IpAddr>().expect("an address") {
            IpAddr::V4(v4) => (u128::from(u32::from(v4)), length + 96),
            IpAddr::V6(v6) => (u128::from(v6), length),
        };
        let offset = u32::try_from(self.data.len()).expect("a small database");
        encode(&mut self.data, value);
        let mut node = 0;
        for depth in 0..length {
            let bit = ((bits >> (127 - depth)) & 1) as usize;
            if depth + 1 == length {
                self.nodes[node][bit] = Record::Data(offset);
                break;
            }
            node = match self.nodes[node][bit] {
                Record::Node(next) => next as usize,
                Record::Empty => {
                    self.nodes.push([Record::Empty; 2]);
                    let next = self.nodes.len() - 1;
                    self.nodes[node][bit] = Record::Node(next as u32);
                    next
                }
                Record::Data(_) => panic!("{network} overlaps a network inserted before"),
            };
        }
        self
    }

    /// The database file's bytes.
    pub(super) fn build(&self) -> Vec<u8> {
        let count = u32::try_from(self.nodes.len()).expect("a small tree");
        let mut out = Vec::new();
        for node in &self.nodes {
            for record in node {
                let value = match *record {
                    Record::Empty => count,
                    Record::Node(next) => next,
                    Record::Data(offset) => count + 16 + offset,
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
        Value::Str(text) => {
            control(out, 2, text.len());
            out.extend(text.as_bytes());
        }
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
                encode(out, &Value::Str(key));
                encode(out, value);
            }
        }
    }
}

/// An unsigned integer of type `kind`, in as few big-endian bytes as it needs.
fn unsigned(out: &mut Vec<u8>, kind: u8, bytes: &[u8]) {
    let skip = bytes.iter().take_while(|&&byte| byte == 0).count();
    control(out, kind, bytes.len() - skip);
    out.extend(&bytes[skip..]);
}

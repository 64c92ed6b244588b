//! Which addresses are worth a GeoIP lookup: those the IANA special-purpose registries do not
//! reserve (<https://www.iana.org/assignments/iana-ipv4-special-registry>,
//! <https://www.iana.org/assignments/iana-ipv6-special-registry>). The standard library's
//! `is_global` would say the same but is not stable.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IPv4 networks that are not public: this network and unspecified, private, shared (CGNAT),
/// loopback, link-local, IETF protocol assignments, documentation (TEST-NET-1 to 3), the 6to4
/// relay anycast, benchmarking, multicast, reserved and broadcast.
const IPV4_RESERVED: [(u32, u8); 15] = [
    (0x0000_0000, 8),  // 0.0.0.0/8
    (0x0a00_0000, 8),  // 10.0.0.0/8
    (0x6440_0000, 10), // 100.64.0.0/10
    (0x7f00_0000, 8),  // 127.0.0.0/8
    (0xa9fe_0000, 16), // 169.254.0.0/16
    (0xac10_0000, 12), // 172.16.0.0/12
    (0xc000_0000, 24), // 192.0.0.0/24
    (0xc000_0200, 24), // 192.0.2.0/24
    (0xc058_6300, 24), // 192.88.99.0/24
    (0xc0a8_0000, 16), // 192.168.0.0/16
    (0xc612_0000, 15), // 198.18.0.0/15
    (0xc633_6400, 24), // 198.51.100.0/24
    (0xcb00_7100, 24), // 203.0.113.0/24
    (0xe000_0000, 4),  // 224.0.0.0/4
    (0xf000_0000, 4),  // 240.0.0.0/4, the broadcast address among them
];

/// IPv6 networks that are not public: unspecified, loopback, IPv4-mapped and -translated
/// (looked up as IPv4 when mapped), discard, IETF protocol assignments (Teredo among them),
/// documentation (old and RFC 9637), unique local, site-local, link-local and multicast.
const IPV6_RESERVED: [(u128, u8); 13] = [
    (0, 128),                     // ::/128
    (1, 128),                     // ::1/128
    (0xffff_0000_0000, 96),       // ::ffff:0:0/96
    (0x0064_ff9b << 96, 96),      // 64:ff9b::/96
    (0x0064_ff9b_0001 << 80, 48), // 64:ff9b:1::/48
    (0x0100 << 112, 64),          // 100::/64
    (0x2001 << 112, 23),          // 2001::/23
    (0x2001_0db8 << 96, 32),      // 2001:db8::/32
    (0x3fff << 112, 20),          // 3fff::/20
    (0xfc00 << 112, 7),           // fc00::/7
    (0xfec0 << 112, 10),          // fec0::/10
    (0xfe80 << 112, 10),          // fe80::/10
    (0xff00 << 112, 8),           // ff00::/8
];

/// Whether `ip` is a public (globally routed) address. An IPv4-mapped IPv6 address is judged as
/// its IPv4 address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let bits = u32::from(ip);
    !IPV4_RESERVED
        .iter()
        .any(|&(network, length)| bits & (u32::MAX << (32 - u32::from(length))) == network)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let bits = u128::from(ip);
    !IPV6_RESERVED.iter().any(|&(network, length)| {
        let mask = u128::MAX.checked_shl(128 - u32::from(length)).unwrap_or(0);
        bits & mask == network
    })
}

//! What kind of addresses an address, or an address range minus its
//! exceptions, covers: public, private, shared (CGNAT), loopback,
//! link-local, cloud metadata. One classification for every rule, exact
//! for ranges (interval arithmetic, not sampling).

use std::net::IpAddr;

use ipnet::IpNet;

/// Kinds of address, as bit flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Classes(u8);

impl Classes {
    pub const PUBLIC: Classes = Classes(1);
    pub const PRIVATE: Classes = Classes(1 << 1);
    pub const SHARED: Classes = Classes(1 << 2);
    pub const LOOPBACK: Classes = Classes(1 << 3);
    pub const LINK_LOCAL: Classes = Classes(1 << 4);
    pub const METADATA: Classes = Classes(1 << 5);

    pub fn contains(self, other: Classes) -> bool {
        self.0 & other.0 == other.0
    }

    fn insert(&mut self, other: Classes) {
        self.0 |= other.0;
    }
}

/// An inclusive range of addresses of one family, as integers.
type Span = (u128, u128);

/// The special ranges, per family, most specific first: an address takes
/// the class of the first range holding it, and public is what none holds.
fn special(v6: bool) -> &'static [(&'static str, Classes)] {
    if v6 {
        &[
            ("fd00:ec2::254/128", Classes::METADATA),
            ("::1/128", Classes::LOOPBACK),
            ("fe80::/10", Classes::LINK_LOCAL),
            ("fc00::/7", Classes::PRIVATE),
        ]
    } else {
        &[
            ("169.254.169.254/32", Classes::METADATA),
            ("127.0.0.0/8", Classes::LOOPBACK),
            ("169.254.0.0/16", Classes::LINK_LOCAL),
            ("10.0.0.0/8", Classes::PRIVATE),
            ("172.16.0.0/12", Classes::PRIVATE),
            ("192.168.0.0/16", Classes::PRIVATE),
            ("100.64.0.0/10", Classes::SHARED),
        ]
    }
}

fn span(net: &IpNet) -> Span {
    match net {
        IpNet::V4(n) => (
            u128::from(u32::from(n.network())),
            u128::from(u32::from(n.broadcast())),
        ),
        IpNet::V6(n) => (u128::from(n.network()), u128::from(n.broadcast())),
    }
}

/// `spans` minus `cut`.
fn subtract(spans: Vec<Span>, cut: Span) -> Vec<Span> {
    let mut out = Vec::with_capacity(spans.len() + 1);
    for (lo, hi) in spans {
        if cut.1 < lo || hi < cut.0 {
            out.push((lo, hi));
            continue;
        }
        if lo < cut.0 {
            out.push((lo, cut.0 - 1));
        }
        if cut.1 < hi {
            out.push((cut.1 + 1, hi));
        }
    }
    out
}

/// The classes of addresses in `spans` (all of one family).
fn classify(mut spans: Vec<Span>, v6: bool) -> Classes {
    let mut classes = Classes::default();
    for (range, class) in special(v6) {
        let Ok(net) = range.parse::<IpNet>() else {
            continue;
        };
        let (lo, hi) = span(&net);
        if spans.iter().any(|&(a, b)| a <= hi && lo <= b) {
            classes.insert(*class);
        }
        spans = subtract(spans, (lo, hi));
    }
    if !spans.is_empty() {
        classes.insert(Classes::PUBLIC);
    }
    classes
}

/// The classes a CIDR covers once `except` is taken out, and whether it
/// covers every address of its family (`/0` with no exception). `None`
/// when a CIDR does not parse.
pub fn of_block(cidr: &str, except: &[String]) -> Option<(bool, Classes)> {
    let net: IpNet = cidr.parse().ok()?;
    let v6 = matches!(net, IpNet::V6(_));
    let mut spans = vec![span(&net)];
    for e in except {
        let e: IpNet = e.parse().ok()?;
        if matches!(e, IpNet::V6(_)) == v6 {
            spans = subtract(spans, span(&e));
        }
    }
    Some((
        net.prefix_len() == 0 && except.is_empty(),
        classify(spans, v6),
    ))
}

/// The class of one address (IPv4-mapped IPv6 addresses as IPv4).
pub fn of_address(text: &str) -> Option<Classes> {
    let ip: IpAddr = text.trim_matches(['[', ']']).parse().ok()?;
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    let net = IpNet::from(ip);
    let v6 = matches!(net, IpNet::V6(_));
    Some(classify(vec![span(&net)], v6))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(cidr: &str, except: &[&str]) -> (bool, Classes) {
        let except: Vec<String> = except.iter().map(|s| s.to_string()).collect();
        of_block(cidr, &except).unwrap()
    }

    #[test]
    fn every_address_covers_every_class() {
        let (all, c) = block("0.0.0.0/0", &[]);
        assert!(all);
        for class in [
            Classes::PUBLIC,
            Classes::PRIVATE,
            Classes::SHARED,
            Classes::LOOPBACK,
            Classes::LINK_LOCAL,
            Classes::METADATA,
        ] {
            assert!(c.contains(class));
        }
    }

    #[test]
    fn exceptions_are_taken_out() {
        // The usual "internet but not the cluster" block still reaches the
        // metadata service unless that is excepted too.
        let (all, c) = block(
            "0.0.0.0/0",
            &["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
        );
        assert!(!all);
        assert!(c.contains(Classes::PUBLIC));
        assert!(!c.contains(Classes::PRIVATE));
        assert!(c.contains(Classes::METADATA));
        let (_, c) = block("169.254.0.0/16", &["169.254.169.254/32"]);
        assert_eq!(c, Classes::LINK_LOCAL);
    }

    #[test]
    fn private_ranges_are_not_public() {
        assert_eq!(block("10.1.0.0/16", &[]).1, Classes::PRIVATE);
        assert_eq!(block("100.64.0.0/10", &[]).1, Classes::SHARED);
        assert_eq!(block("fd12::/16", &[]).1, Classes::PRIVATE);
        // fd00::/8 holds the IPv6 metadata address.
        assert!(block("fd00::/8", &[]).1.contains(Classes::METADATA));
        assert_eq!(block("8.8.8.8/32", &[]).1, Classes::PUBLIC);
        // 172.32/16 lies just outside 172.16/12.
        assert_eq!(block("172.32.0.0/16", &[]).1, Classes::PUBLIC);
    }

    #[test]
    fn single_addresses() {
        assert_eq!(of_address("169.254.169.254"), Some(Classes::METADATA));
        assert_eq!(of_address("::ffff:10.0.0.1"), Some(Classes::PRIVATE));
        assert_eq!(of_address("[::1]"), Some(Classes::LOOPBACK));
        assert_eq!(of_address("1.1.1.1"), Some(Classes::PUBLIC));
        assert_eq!(of_address("example.com"), None);
    }
}

//! Address values of `src`, `dst`, `localip` and the other IP ACL types,
//! read as squid reads them (`acl_ip_data::FactoryParse` in
//! `src/acl/Ip.cc`):
//!
//! | written                      | meaning                                        |
//! |------------------------------|------------------------------------------------|
//! | `all`                        | every IPv4 and IPv6 address                    |
//! | `ipv4`, `ipv6`               | every address of that family                   |
//! | `10.1.2.3`, `::1`            | that address                                   |
//! | `10.0.0.0/8`, `fe80::/10`    | a network (prefix length)                      |
//! | `10.0.0.0/255.0.0.0`         | a network (dotted mask)                        |
//! | `0.0.0.1-0.255.255.255`      | an inclusive range                             |
//! | `10.0.0.0-10.9.0.0/16`       | a range of networks: `ip & mask` in the range  |
//!
//! A mask that clears bits of the address (`10.1.2.3/8`) is applied, as
//! squid does after its warning. Host names are resolved by squid when it
//! reads the configuration; Palisade does not resolve them and reports the
//! value (squid itself refuses a name it cannot resolve).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One address value: addresses `ip` with `lo <= ip & mask <= hi`, all of
/// one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AddrRange {
    lo: u128,
    hi: u128,
    mask: u128,
    v6: bool,
}

impl AddrRange {
    fn new(lo: IpAddr, hi: IpAddr, mask: u128) -> AddrRange {
        let v6 = lo.is_ipv6();
        AddrRange {
            lo: bits(lo) & mask,
            hi: bits(hi) & mask,
            mask,
            v6,
        }
    }

    /// Every address of a family.
    fn family(v6: bool) -> AddrRange {
        AddrRange {
            lo: 0,
            hi: 0,
            mask: 0,
            v6,
        }
    }

    pub(crate) fn contains(&self, ip: &IpAddr) -> bool {
        // Squid compares IPv4 addresses as IPv4-mapped IPv6 ones: an
        // `::ffff:a.b.c.d` client is the IPv4 client a.b.c.d.
        let ip = canonical(*ip);
        if ip.is_ipv6() != self.v6 {
            return false;
        }
        let v = bits(ip) & self.mask;
        self.lo <= v && v <= self.hi
    }

    /// A backwards range: no address.
    pub(crate) fn is_empty(&self) -> bool {
        self.lo > self.hi
    }

    /// Whether the two share an address (conservatively: ranges whose
    /// masked bounds overlap).
    pub(crate) fn overlaps(&self, other: &AddrRange) -> bool {
        if self.v6 != other.v6 || self.is_empty() || other.is_empty() {
            return false;
        }
        let mask = self.mask & other.mask;
        self.lo & mask <= other.hi & mask && other.lo & mask <= self.hi & mask
    }
}

impl fmt::Display for AddrRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ip = |b: u128| -> IpAddr {
            if self.v6 {
                IpAddr::V6(Ipv6Addr::from(b))
            } else {
                IpAddr::V4(Ipv4Addr::from(u32::try_from(b).unwrap_or(u32::MAX)))
            }
        };
        let full = if self.v6 {
            u128::MAX
        } else {
            u128::from(u32::MAX)
        };
        if self.mask == 0 {
            return f.write_str(if self.v6 { "ipv6" } else { "ipv4" });
        }
        if self.lo == self.hi {
            write!(f, "{}", ip(self.lo))?;
        } else {
            write!(f, "{}-{}", ip(self.lo), ip(self.hi))?;
        }
        if self.mask != full {
            match prefix_len(self.mask, full) {
                Some(n) => write!(f, "/{n}")?,
                None => write!(f, "/{}", ip(self.mask))?,
            }
        }
        Ok(())
    }
}

fn prefix_len(mask: u128, full: u128) -> Option<u32> {
    let ones = mask.count_ones();
    let width = full.count_ones();
    let expected = if ones == 0 {
        0
    } else {
        (full >> (width - ones)) << (width - ones)
    };
    (mask == expected).then_some(ones)
}

/// An IPv4-mapped IPv6 address as the IPv4 address it maps.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn full_mask(v6: bool) -> u128 {
    if v6 { u128::MAX } else { u128::from(u32::MAX) }
}

/// Parses one address value. `Err` holds squid's complaint.
pub(crate) fn parse(value: &str) -> Result<Vec<AddrRange>, String> {
    match value {
        "all" => return Ok(vec![AddrRange::family(false), AddrRange::family(true)]),
        "ipv4" => return Ok(vec![AddrRange::family(false)]),
        "ipv6" => return Ok(vec![AddrRange::family(true)]),
        _ => {}
    }
    let bad = || format!("invalid address `{value}`");
    let (addrs, mask) = match value.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (value, None),
    };
    let (lo, hi) = match addrs.split_once('-') {
        Some((a, b)) => (
            address(a).ok_or_else(bad)?,
            Some(address(b).ok_or_else(bad)?),
        ),
        None => (address(addrs).ok_or_else(bad)?, None),
    };
    let v6 = lo.is_ipv6();
    if hi.is_some_and(|h| h.is_ipv6() != v6) {
        return Err(bad());
    }
    let mask = match mask {
        None => full_mask(v6),
        Some(m) => mask_bits(m, v6).ok_or_else(bad)?,
    };
    let hi = hi.unwrap_or(lo);
    // A backwards range (`10.0.0.9-10.0.0.1`) is accepted by squid and
    // matches no address (checked against squid 5.7 on loopback).
    Ok(vec![AddrRange::new(lo, hi, mask)])
}

/// An address as squid's numeric parser takes it (no brackets, no zone).
fn address(s: &str) -> Option<IpAddr> {
    if s.contains(':') {
        s.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
    } else {
        s.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
    }
}

/// `/N` or a dotted (or IPv6-form) mask.
fn mask_bits(m: &str, v6: bool) -> Option<u128> {
    let full = full_mask(v6);
    let width = full.count_ones();
    if !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()) {
        let n: u32 = m.parse().ok()?;
        if n > width {
            return None;
        }
        return Some(if n == 0 {
            0
        } else {
            (full >> (width - n)) << (width - n)
        });
    }
    let mask = address(m)?;
    (mask.is_ipv6() == v6).then(|| bits(mask))
}

/// The values of an IP ACL as written, parsed, with problems per value.
pub(crate) fn parse_all(values: &[String]) -> Result<Vec<AddrRange>, String> {
    let mut out = Vec::new();
    for v in values {
        out.extend(parse(v)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(v: &str) -> AddrRange {
        let r = parse(v).unwrap_or_else(|e| panic!("{v}: {e}"));
        assert_eq!(r.len(), 1);
        r[0]
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn every_form_squid_takes() {
        let cases: &[(&str, &[&str], &[&str])] = &[
            ("10.1.2.3", &["10.1.2.3"], &["10.1.2.4", "::1"]),
            ("10.0.0.0/8", &["10.255.0.1"], &["11.0.0.0"]),
            ("10.0.0.0/255.0.0.0", &["10.255.0.1"], &["11.0.0.0"]),
            // Debian's first `localnet` line.
            (
                "0.0.0.1-0.255.255.255",
                &["0.0.0.1", "0.255.255.255", "0.1.2.3"],
                &["0.0.0.0", "1.0.0.0"],
            ),
            (
                "10.0.0.0-10.2.0.0/16",
                &["10.0.7.7", "10.2.255.255"],
                &["10.3.0.0", "9.255.255.255"],
            ),
            (
                "fe80::/10",
                &["fe80::1", "febf::1"],
                &["fec0::1", "10.0.0.1"],
            ),
            ("::1", &["::1"], &["::2", "127.0.0.1"]),
            (
                "2001:db8::1-2001:db8::ff",
                &["2001:db8::80"],
                &["2001:db8::100"],
            ),
            // The mask clears host bits: applied.
            ("10.1.2.3/8", &["10.9.9.9"], &["11.1.2.3"]),
        ];
        for (value, inside, outside) in cases {
            let r = one(value);
            for i in *inside {
                assert!(r.contains(&ip(i)), "{value} must contain {i}");
            }
            for o in *outside {
                assert!(!r.contains(&ip(o)), "{value} must not contain {o}");
            }
        }
    }

    #[test]
    fn all_and_the_families() {
        let all = parse("all").unwrap();
        assert!(all.iter().any(|r| r.contains(&ip("8.8.8.8"))));
        assert!(all.iter().any(|r| r.contains(&ip("2001:db8::1"))));
        let v4 = one("ipv4");
        assert!(v4.contains(&ip("1.2.3.4")) && !v4.contains(&ip("::1")));
        let v6 = one("ipv6");
        assert!(!v6.contains(&ip("1.2.3.4")) && v6.contains(&ip("::1")));
    }

    #[test]
    fn mapped_clients_are_their_ipv4_address() {
        assert!(one("127.0.0.1").contains(&ip("::ffff:127.0.0.1")));
    }

    #[test]
    fn what_is_refused() {
        for bad in [
            "nonsense",
            "10.0.0.0/33",
            "10.0.0.0/255.0.0.0.0",
            "10.0.0.1-::1",
            "[::1]",
            "fe80::/129",
            "10.0.0.0/",
            "",
        ] {
            assert!(parse(bad).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn a_backwards_range_matches_nothing() {
        let r = one("10.0.0.9-10.0.0.1");
        assert!(r.is_empty());
        for i in ["10.0.0.1", "10.0.0.5", "10.0.0.9"] {
            assert!(!r.contains(&ip(i)), "{i}");
        }
        assert!(!r.overlaps(&one("10.0.0.0/8")));
    }

    #[test]
    fn overlapping() {
        assert!(one("10.0.0.0/8").overlaps(&one("10.1.0.0/16")));
        assert!(one("10.1.0.0/16").overlaps(&one("10.0.0.0/8")));
        assert!(one("10.0.0.0/8").overlaps(&one("10.1.2.3")));
        assert!(!one("10.0.0.0/8").overlaps(&one("11.1.2.3")));
        assert!(one("10.0.0.0-10.0.0.9").overlaps(&one("10.0.0.5-10.0.0.20")));
        assert!(!one("10.0.0.0-10.0.0.4").overlaps(&one("10.0.0.5-10.0.0.20")));
        assert!(!one("10.0.0.0/8").overlaps(&one("::/0")));
    }

    #[test]
    fn shown_as_written_in_canonical_form() {
        for (v, shown) in [
            ("10.0.0.0/8", "10.0.0.0/8"),
            ("10.0.0.0/255.0.0.0", "10.0.0.0/8"),
            ("10.0.0.0/255.0.255.0", "10.0.0.0/255.0.255.0"),
            ("0.0.0.1-0.255.255.255", "0.0.0.1-0.255.255.255"),
            ("10.1.2.3/8", "10.0.0.0/8"),
            ("fe80::/10", "fe80::/10"),
            ("ipv6", "ipv6"),
        ] {
            assert_eq!(one(v).to_string(), shown, "{v}");
        }
    }
}

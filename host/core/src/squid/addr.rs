//! Address values of `src`, `dst`, `localip` and the other IP ACL types,
//! read as squid reads them (`acl_ip_data::FactoryParse` in
//! `src/acl/Ip.cc`), and matched as squid matches them: in one IPv6 space,
//! where an IPv4 address is its IPv4-mapped form (`::ffff:a.b.c.d`).
//!
//! | written                      | meaning                                        |
//! |------------------------------|------------------------------------------------|
//! | `all`                        | every address                                  |
//! | `10.1.2.3`, `::1`            | that address (IPv4 in every `inet_aton` form)  |
//! | `10.0.0.0/8`, `fe80::/10`    | a network (prefix length)                      |
//! | `10.0.0.0/255.0.0.0`         | a network (dotted mask)                        |
//! | `0.0.0.1-0.255.255.255`      | an inclusive range                             |
//! | `10.0.0.0-10.9.0.0/16`       | a range of networks: `ip & mask` in the range  |
//!
//! What was checked on squid 5.7 and 6.13, with requests from 127.0.0.1 and
//! ::1 (and is modelled):
//!
//! - a mask that clears bits of the address (`127.0.0.5/8`) is applied
//!   after a warning: the value matches 127.0.0.1;
//! - IPv6 networks that cover the mapped space match IPv4 addresses:
//!   `::/1` and `::ffff:0:0/96` match 127.0.0.1;
//! - `0.0.0.0/0` (and the other spellings of "every IPv4 address") means
//!   `all`, IPv6 included ("SECURITY NOTICE … Using 'all' instead");
//! - `::/0` matches no address at all, neither 127.0.0.1 nor ::1;
//! - a backwards range (`10.0.0.9-10.0.0.1`) is accepted and matches its
//!   first address only.
//!
//! Not modelled: the keywords `ipv4` and `ipv6` (neither matched 127.0.0.1
//! nor ::1 on 5.7: they name unicast subsets Palisade does not reproduce)
//! make the ACL one Palisade does not evaluate; host names are resolved by
//! squid when it loads the configuration, and are resolved here from the
//! names Palisade knows (see `eval`).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The IPv4-mapped prefix `::ffff:0:0/96`.
const MAPPED: u128 = 0xffff_u128 << 32;
/// The mask of the mapped prefix: an IPv4 mask is this plus its own bits.
const MAPPED_MASK: u128 = !0xffff_ffff_u128;

/// The values of an IP ACL (`src`, `dst`): address ranges, and host
/// names squid resolves when it loads the configuration.
#[derive(Debug, Clone, Default)]
pub struct IpAcl {
    pub ranges: Vec<AddrRange>,
    pub names: Vec<String>,
}

/// Parses the values of an IP ACL; `Ok(None)` when one is a keyword
/// Palisade does not evaluate (`ipv4`, `ipv6`).
pub fn parse_acl(values: &[String]) -> Result<Option<IpAcl>, String> {
    let mut acl = IpAcl::default();
    let mut keyword = false;
    for v in values {
        match parse(v)? {
            AddrValue::Range(r) => acl.ranges.push(r),
            AddrValue::Name(n) => acl.names.push(n),
            AddrValue::Keyword(_) => keyword = true,
        }
    }
    Ok((!keyword).then_some(acl))
}

/// One address value: addresses `ip` with `lo <= ip & mask <= hi`, in
/// IPv6 space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrRange {
    lo: u128,
    hi: u128,
    mask: u128,
}

/// What one written value is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddrValue {
    Range(AddrRange),
    /// `ipv4`, `ipv6`: Palisade does not evaluate these.
    Keyword(String),
    /// A host name, resolved by squid when it reads the configuration.
    Name(String),
}

impl AddrRange {
    /// Every address.
    pub const ALL: AddrRange = AddrRange {
        lo: 0,
        hi: 0,
        mask: 0,
    };

    fn new(lo: u128, hi: u128, mask: u128) -> AddrRange {
        AddrRange {
            lo: lo & mask,
            hi: hi & mask,
            mask,
        }
    }

    pub fn contains(&self, ip: &IpAddr) -> bool {
        let v = bits(*ip) & self.mask;
        self.lo <= v && v <= self.hi
    }

    /// Whether the range holds every IPv4 address or every IPv6 address
    /// (`all`, `0.0.0.0/0`, `::/0`), as the evaluator's own test reads it.
    pub fn covers_a_family(&self) -> bool {
        const V4: &[&str] = &["0.0.0.0", "255.255.255.255", "1.2.3.4", "128.0.0.1"];
        const V6: &[&str] = &[
            "::",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "2001:db8::1",
            "8000::1",
        ];
        let all = |probes: &[&str]| {
            probes
                .iter()
                .filter_map(|p| p.parse::<IpAddr>().ok())
                .all(|ip| self.contains(&ip))
        };
        all(V4) || all(V6)
    }

    /// The addresses the range holds, as CIDRs (IPv4 ones for the mapped
    /// space): `all` is `0.0.0.0/0` and `::/0`; `None` when the mask is not
    /// a prefix (`10.0.0.0-10.9.0.0/255.0.255.0` holds no single block).
    pub fn cidrs(&self) -> Option<Vec<String>> {
        if *self == AddrRange::ALL {
            return Some(vec!["0.0.0.0/0".to_string(), "::/0".to_string()]);
        }
        if self.is_empty() {
            return Some(Vec::new());
        }
        let free = self.mask.trailing_zeros();
        if self.mask.leading_ones() + free != 128 {
            return None;
        }
        let low_bits = if free >= 128 {
            u128::MAX
        } else {
            (1u128 << free) - 1
        };
        let (mut a, b) = (self.lo, self.hi | low_bits);
        let mut out = Vec::new();
        loop {
            // The largest aligned block starting at `a` that ends by `b`.
            let mut k = a.trailing_zeros().min(127);
            while k > 0 && a.checked_add((1u128 << k) - 1).is_none_or(|end| end > b) {
                k -= 1;
            }
            let prefix = 128 - k;
            out.push(if a & MAPPED_MASK == MAPPED && prefix >= 96 {
                let v4 = Ipv4Addr::from(u32::try_from(a & 0xffff_ffff).unwrap_or(0));
                format!("{v4}/{}", prefix - 96)
            } else {
                format!("{}/{prefix}", Ipv6Addr::from(a))
            });
            let end = a.saturating_add((1u128 << k) - 1);
            if end >= b {
                break;
            }
            a = end + 1;
        }
        Some(out)
    }

    /// `::/0`: no address.
    pub fn is_empty(&self) -> bool {
        self.lo > self.hi
    }

    /// Whether the two share an address (conservatively: ranges whose
    /// masked bounds overlap), as squid's tree sees a clash.
    pub fn overlaps(&self, other: &AddrRange) -> bool {
        if self.is_empty() || other.is_empty() {
            return false;
        }
        let mask = self.mask & other.mask;
        self.lo & mask <= other.hi & mask && other.lo & mask <= self.hi & mask
    }

    /// Whether the range lies in the IPv4-mapped space (shown as IPv4).
    fn is_v4(&self) -> bool {
        self.mask & MAPPED_MASK == MAPPED_MASK
            && self.lo & MAPPED_MASK == MAPPED
            && self.hi & MAPPED_MASK == MAPPED
    }
}

impl fmt::Display for AddrRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mask == 0 {
            return f.write_str(if self.is_empty() { "::/0" } else { "all" });
        }
        let v4 = self.is_v4();
        let ip = |b: u128| -> IpAddr {
            if v4 {
                IpAddr::V4(Ipv4Addr::from(u32::try_from(b & !MAPPED_MASK).unwrap_or(0)))
            } else {
                IpAddr::V6(Ipv6Addr::from(b))
            }
        };
        if self.lo == self.hi {
            write!(f, "{}", ip(self.lo))?;
        } else {
            write!(f, "{}-{}", ip(self.lo), ip(self.hi))?;
        }
        let mask = if v4 {
            self.mask & !MAPPED_MASK
        } else {
            self.mask
        };
        let full = if v4 { u128::from(u32::MAX) } else { u128::MAX };
        if mask != full {
            match prefix_len(mask, full) {
                Some(n) => write!(f, "/{n}")?,
                None => write!(f, "/{}", ip(mask | if v4 { MAPPED } else { 0 }))?,
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

/// An address in squid's single IPv6 space.
fn bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => MAPPED | u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// Spellings of "every IPv4 address" squid replaces with `all`.
const LEGACY_ALL: &[&str] = &[
    "0/0",
    "0.0.0.0/0",
    "0.0.0.0/0.0.0.0",
    "0.0.0.0-255.255.255.255",
    "0.0.0.0-0.0.0.0/0",
];

/// Parses one address value. `Err` holds squid's complaint.
pub fn parse(value: &str) -> Result<AddrValue, String> {
    if value == "all" || LEGACY_ALL.contains(&value) {
        return Ok(AddrValue::Range(AddrRange::ALL));
    }
    if value == "ipv4" || value == "ipv6" {
        return Ok(AddrValue::Keyword(value.to_string()));
    }
    let bad = || format!("invalid address `{value}`");
    let (addrs, mask) = match value.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (value, None),
    };
    let numeric = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':')
    };
    let (lo, hi) = match addrs.split_once('-') {
        Some((a, b)) => (address(a).ok_or_else(bad)?, address(b).ok_or_else(bad)?),
        None => match address(addrs) {
            Some(a) => (a, a),
            // A host name (squid resolves it when it loads the file).
            None if mask.is_none() && !numeric(addrs) && is_host_name(addrs) => {
                return Ok(AddrValue::Name(addrs.to_ascii_lowercase()));
            }
            None => return Err(bad()),
        },
    };
    let v6 = lo.is_ipv6();
    if hi.is_ipv6() != v6 {
        return Err(bad());
    }
    let mask = match mask {
        None => u128::MAX,
        Some(m) => mask_bits(m, v6).ok_or_else(bad)?,
    };
    if v6 && mask == 0 {
        // `::/0` matched neither IPv4 nor IPv6 clients on squid 5.7 and
        // 6.13: an empty range.
        return Ok(AddrValue::Range(AddrRange {
            lo: 1,
            hi: 0,
            mask: 0,
        }));
    }
    // A backwards range (`10.0.0.9-10.0.0.1`) is accepted by squid and
    // matches its first address only.
    let (lo, hi) = (bits(lo) & mask, bits(hi) & mask);
    let hi = if hi < lo { lo } else { hi };
    Ok(AddrValue::Range(AddrRange::new(lo, hi, mask)))
}

/// A name squid would look up: letters, digits, `-` and dots.
fn is_host_name(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && s.bytes().any(|b| b.is_ascii_alphabetic())
}

/// An address as squid's numeric parser takes it (no brackets, no zone).
pub fn address(s: &str) -> Option<IpAddr> {
    if s.contains(':') {
        s.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
    } else {
        ipv4_aton(s).map(IpAddr::V4)
    }
}

/// An IPv4 address in every form the C library's `inet_aton` takes, as
/// squid (through `getaddrinfo`) does: one to four parts, each decimal,
/// octal (a leading `0`) or hexadecimal (`0x`), the last filling the bytes
/// left. `127.1`, `0177.0.0.1`, `0x7f.0.0.1` and `2130706433` are all
/// 127.0.0.1 to squid 5.7 and 6.13 (checked with requests), and to an
/// attacker writing a URL that dodges `to_localhost`.
pub fn ipv4_aton(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut values = Vec::with_capacity(parts.len());
    for p in &parts {
        let v = if let Some(hex) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
            if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            u64::from_str_radix(hex, 16).ok()?
        } else if p.len() > 1 && p.starts_with('0') {
            if !p.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
                return None;
            }
            u64::from_str_radix(p, 8).ok()?
        } else {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            p.parse::<u64>().ok()?
        };
        values.push(v);
    }
    let (last, leading) = values.split_last()?;
    if leading.iter().any(|v| *v > 0xff) {
        return None;
    }
    let room = 8 * (4 - u32::try_from(leading.len()).ok()?);
    if room < 64 && *last >= 1u64 << room {
        return None;
    }
    let mut n: u32 = 0;
    for (i, v) in leading.iter().enumerate() {
        n |= u32::try_from(*v).ok()? << (24 - 8 * i);
    }
    n |= u32::try_from(*last).ok()?;
    Some(Ipv4Addr::from(n))
}

/// `/N` or a dotted (or IPv6-form) mask, in the single space.
fn mask_bits(m: &str, v6: bool) -> Option<u128> {
    let width = if v6 { 128 } else { 32 };
    let base = if v6 { 0 } else { MAPPED_MASK };
    if !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()) {
        let n: u32 = m.parse().ok()?;
        if n > width {
            return None;
        }
        let own = if n == 0 {
            0
        } else {
            (u128::MAX << (128 - n)) >> (128 - width)
        };
        return Some(base | own);
    }
    let mask = address(m)?;
    if mask.is_ipv6() != v6 {
        return None;
    }
    Some(match mask {
        IpAddr::V4(v4) => base | u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(v: &str) -> AddrRange {
        match parse(v).unwrap_or_else(|e| panic!("{v}: {e}")) {
            AddrValue::Range(r) => r,
            other => panic!("{v}: {other:?}"),
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn every_form_squid_takes() {
        let cases: &[(&str, &[&str], &[&str])] = &[
            (
                "10.1.2.3",
                &["10.1.2.3", "::ffff:10.1.2.3"],
                &["10.1.2.4", "::1"],
            ),
            ("10.0.0.0/8", &["10.255.0.1"], &["11.0.0.0", "::a00:1"]),
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
            // The mask clears host bits: applied (squid 5.7 and 6.13).
            ("10.1.2.3/8", &["10.9.9.9"], &["11.1.2.3"]),
            ("127.0.0.5/8", &["127.0.0.1"], &["::1"]),
            // IPv6 networks over the mapped space match IPv4 addresses.
            ("::/1", &["127.0.0.1", "::1", "8.8.8.8"], &["8000::1"]),
            ("::ffff:0:0/96", &["127.0.0.1", "8.8.8.8"], &["::1"]),
            ("10.0.0.0/0", &["8.8.8.8"], &["::1"]),
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
    fn all_its_old_spellings_and_the_empty_ones() {
        for all in [
            "all",
            "0/0",
            "0.0.0.0/0",
            "0.0.0.0/0.0.0.0",
            "0.0.0.0-255.255.255.255",
        ] {
            let r = one(all);
            assert!(
                r.contains(&ip("8.8.8.8")) && r.contains(&ip("2001:db8::1")),
                "{all}"
            );
            assert_eq!(r.to_string(), "all");
        }
        let r = one("::/0");
        assert!(r.is_empty());
        for i in ["10.0.0.5", "::1", "127.0.0.1"] {
            assert!(!r.contains(&ip(i)), "::/0 {i}");
        }
        assert!(!r.overlaps(&AddrRange::ALL));
        // Backwards: its first address only.
        let r = one("10.0.0.9-10.0.0.1");
        assert!(r.contains(&ip("10.0.0.9")));
        assert!(!r.contains(&ip("10.0.0.5")) && !r.contains(&ip("10.0.0.1")));
        assert_eq!(parse("ipv4").unwrap(), AddrValue::Keyword("ipv4".into()));
        assert_eq!(parse("ipv6").unwrap(), AddrValue::Keyword("ipv6".into()));
    }

    #[test]
    fn every_ipv4_form_inet_aton_reads() {
        for (written, ip) in [
            ("127.1", "127.0.0.1"),
            ("127.0.1", "127.0.0.1"),
            ("0177.0.0.1", "127.0.0.1"),
            ("0x7f.0.0.1", "127.0.0.1"),
            ("0X7F.1", "127.0.0.1"),
            ("2130706433", "127.0.0.1"),
            ("10", "0.0.0.10"),
            ("1.2.3", "1.2.0.3"),
            ("10.1.2.3", "10.1.2.3"),
            ("0", "0.0.0.0"),
        ] {
            assert_eq!(ipv4_aton(written), Some(ip.parse().unwrap()), "{written}");
        }
        for bad in [
            "",
            ".",
            "1..2",
            "256.1",
            "1.2.3.256",
            "1.2.65536",
            "09",
            "0xg",
            "-1",
            "1.2.3.4.5",
            " 1",
        ] {
            assert_eq!(ipv4_aton(bad), None, "{bad}");
        }
    }

    #[test]
    fn names_are_kept_for_resolution() {
        assert_eq!(
            parse("localhost").unwrap(),
            AddrValue::Name("localhost".into())
        );
        assert_eq!(
            parse("Proxy.Example.com").unwrap(),
            AddrValue::Name("proxy.example.com".into())
        );
    }

    #[test]
    fn what_is_refused() {
        for bad in [
            "300.1.1.1",
            "10.0.0.0/33",
            "10.0.0.0/255.0.0.0.0",
            "10.0.0.1-::1",
            "[::1]",
            "fe80::/129",
            "10.0.0.0/",
            "",
            "example.com/24",
            "a_b",
            "1.2.3.256",
            "1.2.3.4.5",
            "08.0.0.1",
            "4294967296",
        ] {
            assert!(parse(bad).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn overlapping() {
        assert!(one("10.0.0.0/8").overlaps(&one("10.1.0.0/16")));
        assert!(one("10.1.0.0/16").overlaps(&one("10.0.0.0/8")));
        assert!(one("10.0.0.0/8").overlaps(&one("10.1.2.3")));
        assert!(!one("10.0.0.0/8").overlaps(&one("11.1.2.3")));
        assert!(one("10.0.0.0-10.0.0.9").overlaps(&one("10.0.0.5-10.0.0.20")));
        assert!(!one("10.0.0.0-10.0.0.4").overlaps(&one("10.0.0.5-10.0.0.20")));
        // One space: an IPv6 network over the mapped prefix clashes with
        // IPv4 values.
        assert!(one("::/1").overlaps(&one("10.0.0.0/8")));
        assert!(!one("fe80::/10").overlaps(&one("10.0.0.0/8")));
    }

    #[test]
    fn shown_in_canonical_form() {
        for (v, shown) in [
            ("10.0.0.0/8", "10.0.0.0/8"),
            ("10.0.0.0/255.0.0.0", "10.0.0.0/8"),
            ("10.0.0.0/255.0.255.0", "10.0.0.0/255.0.255.0"),
            ("0.0.0.1-0.255.255.255", "0.0.0.1-0.255.255.255"),
            ("10.1.2.3/8", "10.0.0.0/8"),
            ("10.1.2.3", "10.1.2.3"),
            ("fe80::/10", "fe80::/10"),
            ("::1", "::1"),
            ("::/0", "::/0"),
        ] {
            assert_eq!(one(v).to_string(), shown, "{v}");
        }
    }

    #[test]
    fn ranges_as_cidrs() {
        let cidrs = |v: &str| match parse(v).unwrap() {
            AddrValue::Range(r) => r.cidrs(),
            other => panic!("{other:?}"),
        };
        assert_eq!(cidrs("all").unwrap(), ["0.0.0.0/0", "::/0"]);
        assert_eq!(cidrs("10.0.0.0/8").unwrap(), ["10.0.0.0/8"]);
        assert_eq!(cidrs("10.0.0.0/255.0.0.0").unwrap(), ["10.0.0.0/8"]);
        assert_eq!(cidrs("10.0.0.5").unwrap(), ["10.0.0.5/32"]);
        assert_eq!(
            cidrs("10.0.0.1-10.0.0.6").unwrap(),
            ["10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"]
        );
        assert_eq!(cidrs("fe80::/10").unwrap(), ["fe80::/10"]);
        // Networks whose masked addresses lie in a range: one block each.
        assert_eq!(cidrs("10.0.0.0-10.1.0.0/16").unwrap(), ["10.0.0.0/15"]);
        assert_eq!(cidrs("::/0").unwrap(), Vec::<String>::new());
        assert_eq!(cidrs("10.0.0.0/255.0.255.0"), None);
    }
}

//! Squid versions and what differs between them for Palisade's model.
//!
//! What was checked between 5.7 (Debian bookworm) and 7, with sources, is
//! listed in the module documentation of [`super`]; each behaviour that
//! depends on the version asks [`SquidVersion`] here, so that one place says
//! which version does what.

use std::fmt;
use std::str::FromStr;

/// A squid release, `major.minor`. Ordered, so `version >= V5_8` reads as
/// "5.8 or later".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SquidVersion {
    major: u16,
    minor: u16,
}

impl SquidVersion {
    /// Squid 6: what users run today (Debian trixie ships 6.13), and the
    /// default.
    pub const DEFAULT: SquidVersion = SquidVersion { major: 6, minor: 0 };
    /// The oldest release Palisade models.
    const OLDEST: SquidVersion = SquidVersion { major: 5, minor: 0 };
    /// The newest major release Palisade models.
    const NEWEST_MAJOR: u16 = 7;
    /// Squid 5.8 predefines `to_linklocal` (Bug 5241: requests to link-local
    /// addresses such as cloud metadata endpoints), and its suggested
    /// configuration denies it.
    pub const V5_8: SquidVersion = SquidVersion { major: 5, minor: 8 };
    /// Squid 7 removed the `cache_object://` scheme for the cache manager:
    /// only `http(s)://<host>/squid-internal-mgr/` reaches it.
    pub const V7: SquidVersion = SquidVersion { major: 7, minor: 0 };

    /// `major.minor`.
    pub fn new(major: u16, minor: u16) -> Result<SquidVersion, String> {
        let v = SquidVersion { major, minor };
        if v < SquidVersion::OLDEST || major > SquidVersion::NEWEST_MAJOR {
            return Err(format!(
                "squid {v} is not modelled: Palisade follows squid 5, 6 and 7"
            ));
        }
        Ok(v)
    }
}

impl Default for SquidVersion {
    fn default() -> SquidVersion {
        SquidVersion::DEFAULT
    }
}

impl fmt::Display for SquidVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.minor == 0 {
            write!(f, "{}", self.major)
        } else {
            write!(f, "{}.{}", self.major, self.minor)
        }
    }
}

impl FromStr for SquidVersion {
    type Err = String;

    /// `6`, `6.13`, `5.7` (a patch level, `6.13.1`, is accepted and does not
    /// matter).
    fn from_str(s: &str) -> Result<SquidVersion, String> {
        let bad =
            || format!("invalid squid version `{s}`: expected MAJOR or MAJOR.MINOR (`6`, `5.7`)");
        let mut parts = s.trim().split('.');
        let major = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let minor = match parts.next() {
            Some(p) => p.parse().map_err(|_| bad())?,
            None => 0,
        };
        if let Some(patch) = parts.next() {
            patch.parse::<u16>().map_err(|_| bad())?;
        }
        if parts.next().is_some() {
            return Err(bad());
        }
        SquidVersion::new(major, minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsed_and_ordered() {
        let v = |s: &str| s.parse::<SquidVersion>().unwrap();
        assert_eq!(v("6"), SquidVersion::DEFAULT);
        assert!(v("5.7") < SquidVersion::V5_8);
        assert!(v("5.8") >= SquidVersion::V5_8);
        assert!(v("6.13") >= SquidVersion::V5_8 && v("6.13") < SquidVersion::V7);
        assert!(v("7.1") >= SquidVersion::V7);
        assert_eq!(v("6.13.1").to_string(), "6.13");
        for bad in ["", "six", "4.17", "8", "6.x", "6.1.2.3", "-6"] {
            assert!(bad.parse::<SquidVersion>().is_err(), "{bad}");
        }
    }
}

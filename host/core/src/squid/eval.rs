//! Evaluating `http_access` for one request, as squid does, with name
//! resolution made explicit.
//!
//! Squid resolves names while it checks ACLs: a `dst` ACL (and
//! `to_localhost`, `to_linklocal`) looks up the request's host name, and
//! `dstdomain` looks up the name of an IP-literal host (unless `-n`).
//! Palisade does not ask DNS. It knows the addresses of a name only from the
//! hosts map (`--resolve`, the policy set's `squid.hosts`, and a
//! `hosts_file` it could read) and from the names with fixed meanings
//! (`localhost`, and `.invalid`, which never resolves: RFC 6761). Any
//! other lookup's result is unknown, so an ACL that needs it neither
//! matches nor misses: it *depends on DNS*. The evaluator then follows both
//! branches and the verdict lists every outcome, each with what it assumes.
//! It never treats an unknown name as missing a `dst` deny, which for an
//! SSRF rule would be the dangerous direction.
//!
//! Reverse lookups of non-public addresses (private, loopback, link-local,
//! shared, unique-local) are assumed to give no name in a `dstdomain` ACL:
//! their PTR records belong to the operator, and treating every internal IP
//! as possibly named into every allow-list would make every verdict on an
//! IP literal "depends on DNS". `--resolve NAME=IP` states such a name.

use std::net::IpAddr;

use serde::Serialize;

use super::{AccessLine, Acl, AclKind, HostsFile, SquidConfig};

/// The request line squid evaluates: a URL for ordinary requests, an
/// authority (`host:port`) for `CONNECT`.
#[derive(Debug, Clone)]
pub struct ProxyRequest {
    pub client: IpAddr,
    /// Upper case.
    pub method: String,
    /// Domain name (lower case) or IP literal (no brackets).
    pub host: String,
    pub port: u16,
    /// Lower case; `http` unless a URL said otherwise. Not used for CONNECT.
    pub scheme: String,
    /// The path with its query (`/` when the URL has none); empty for
    /// CONNECT.
    pub path: String,
    /// The squid port the client connected to.
    pub local_port: Option<u16>,
}

impl ProxyRequest {
    /// A request for `host:port`: `CONNECT host:port`, or `METHOD
    /// http://host:port/`.
    pub fn to_host(
        client: IpAddr,
        method: &str,
        host: &str,
        port: u16,
        local_port: Option<u16>,
    ) -> ProxyRequest {
        let method = method.to_ascii_uppercase();
        let path = if method == "CONNECT" { "" } else { "/" };
        ProxyRequest {
            client,
            method,
            host: host.trim_matches(['[', ']']).to_ascii_lowercase(),
            port,
            scheme: "http".into(),
            path: path.into(),
            local_port,
        }
    }

    /// A request for an absolute URL (`http://host[:port]/path?query`).
    pub fn to_url(
        client: IpAddr,
        method: &str,
        url: &str,
        local_port: Option<u16>,
    ) -> Result<ProxyRequest, String> {
        let bad = |why: &str| format!("invalid URL `{url}`: {why}");
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("expected SCHEME://HOST[:PORT]/PATH"))?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = default_port(&scheme)
            .ok_or_else(|| bad("the scheme must be http, https, ftp or cache_object"))?;
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let path = if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_string()
        };
        if authority.contains('@') {
            return Err(bad("user information is not supported"));
        }
        let (host, port) = split_authority(authority).ok_or_else(|| bad("invalid host or port"))?;
        if host.is_empty() || path.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("no host, or white space in the URL"));
        }
        let method = method.to_ascii_uppercase();
        if method == "CONNECT" {
            return Err(bad("CONNECT takes HOST:PORT (`--to`), not a URL"));
        }
        Ok(ProxyRequest {
            client,
            method,
            host: host.to_ascii_lowercase(),
            port: port.unwrap_or(default_port),
            scheme,
            path,
            local_port,
        })
    }

    fn is_connect(&self) -> bool {
        self.method == "CONNECT"
    }

    /// The host as an address, in every numeric form squid reads
    /// (`127.1` is 127.0.0.1).
    fn host_is_ip(&self) -> Option<IpAddr> {
        super::addr::address(&self.host)
    }

    /// What `url_regex` sees: the absolute URL as squid rebuilds it (the
    /// port only when it is not the scheme's default), or `host:port` for
    /// CONNECT.
    pub fn url(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.is_connect() {
            return format!("{host}:{}", self.port);
        }
        let port = if Some(self.port) == default_port(&self.scheme) {
            String::new()
        } else {
            format!(":{}", self.port)
        };
        format!("{}://{host}{port}{}", self.scheme, self.path)
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        "ftp" => Some(21),
        "cache_object" => Some(3128),
        _ => None,
    }
}

/// `host`, `host:port`, `[v6]`, `[v6]:port`.
fn split_authority(a: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = a.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        host.parse::<std::net::Ipv6Addr>().ok()?;
        return match after.strip_prefix(':') {
            Some(p) => Some((host, Some(p.parse().ok()?))),
            None if after.is_empty() => Some((host, None)),
            None => None,
        };
    }
    match a.rsplit_once(':') {
        Some((h, p)) => Some((h, Some(p.parse().ok()?))),
        None => Some((a, None)),
    }
}

/// Most DNS-dependent outcomes a verdict lists (both verdicts are always
/// among them).
const MAX_OUTCOMES: usize = 8;
/// Most "not (…)" conditions an outcome spells out; the rest are counted.
const MAX_ASSUMPTIONS: usize = 4;

/// Whether an ACL matches: squid's three answers, with the unknown one
/// saying which lookup it waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Match {
    Yes,
    No,
    /// The answer depends on a DNS lookup Palisade cannot make.
    DependsOnDns(String),
}

/// One way squid may decide, and what it assumes about DNS.
#[derive(Debug, Clone, Serialize)]
pub struct ProxyOutcome {
    /// Whether squid lets the request through.
    pub allowed: bool,
    /// The deciding `http_access` line, absent for the implicit rule.
    pub line: Option<AccessLine>,
    /// What must hold for this outcome, about names Palisade cannot
    /// resolve (empty: nothing).
    pub assuming: Vec<String>,
}

/// The verdict and the line that decided it.
#[derive(Debug, Clone, Serialize)]
pub struct ProxyVerdict {
    /// Whether squid may let the request through: true when it does, or
    /// when it does for some answer of DNS (see `depends_on_dns`).
    pub allowed: bool,
    /// The outcomes disagree: squid allows or denies depending on what DNS
    /// answers for a name Palisade cannot resolve.
    pub depends_on_dns: bool,
    /// The deciding `http_access` line, absent for the implicit rule. When
    /// several outcomes give the verdict, the last one's: the one that
    /// assumes the fewest unknown names land in an ACL.
    pub line: Option<AccessLine>,
    /// How it was decided, in one sentence.
    pub reason: String,
    /// Every outcome, in `http_access` order (one when DNS does not
    /// matter).
    pub outcomes: Vec<ProxyOutcome>,
    /// ACL types the verdict depended on that Palisade does not evaluate.
    pub unsupported: Vec<String>,
}

/// Address ranges that are not public: their reverse names belong to the
/// operator (see the module documentation).
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || (o[0] == 100 && (o[1] & 0xc0) == 64))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| !is_public(IpAddr::V4(v4))))
        }
    }
}

/// A request with what every line asks of it worked out once: its host's
/// addresses, and (when a `url_regex` asks) its URL.
struct Prepared<'a> {
    request: &'a ProxyRequest,
    host: Lookup,
    url: std::cell::OnceCell<String>,
}

/// What a name resolves to.
enum Lookup {
    Known(Vec<IpAddr>),
    Unknown,
}

impl SquidConfig {
    /// The addresses of `host` (an IP is itself).
    fn lookup(&self, host: &str) -> Lookup {
        if let Some(ip) = super::addr::address(host) {
            return Lookup::Known(vec![ip]);
        }
        if let Some(ips) = self.known.get(host).or_else(|| self.hosts.get(host)) {
            return Lookup::Known(ips.clone());
        }
        if host == "localhost" && self.hosts_file == HostsFile::Default {
            // Squid's default `hosts_file` is /etc/hosts, which names
            // localhost on every distribution and in every pod.
            return Lookup::Known(vec![
                IpAddr::from([127, 0, 0, 1]),
                IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
            ]);
        }
        if host.ends_with(".invalid") || host == "invalid" {
            return Lookup::Known(Vec::new());
        }
        Lookup::Unknown
    }

    /// The names of an IP-literal host, for `dstdomain` (`None`: unknown).
    fn reverse(&self, ip: IpAddr) -> Option<Vec<String>> {
        let named: Vec<String> = self
            .known
            .iter()
            .filter(|(_, ips)| ips.contains(&ip))
            .map(|(name, _)| name)
            .chain(
                self.hosts_order
                    .iter()
                    .filter(|(a, _)| *a == ip)
                    .map(|(_, name)| name),
            )
            .take(1)
            .cloned()
            .collect();
        if !named.is_empty() {
            return Some(named);
        }
        if ip.is_loopback() && self.hosts_file == HostsFile::Default {
            // The default /etc/hosts names the loopback addresses
            // `localhost`, as the forward lookup assumes.
            return Some(vec!["localhost".to_string()]);
        }
        (!is_public(ip)).then(Vec::new)
    }

    fn acl_matches(
        &self,
        name: &str,
        acl: &Acl,
        req: &Prepared<'_>,
        unsupported: &mut Vec<String>,
    ) -> Match {
        let yes = |b: bool| if b { Match::Yes } else { Match::No };
        let (host, url) = (&req.host, &req.url);
        let req = req.request;
        match &acl.kind {
            AclKind::Src(acl) => self.ip_acl(name, acl, &[req.client], "the client's address"),
            AclKind::Dst(acl) => match host {
                Lookup::Known(ips) => {
                    self.ip_acl(name, acl, ips, &format!("an address of `{}`", req.host))
                }
                Lookup::Unknown => {
                    // Addresses in the ACL itself may still settle it: none
                    // can, for a name whose addresses are unknown.
                    Match::DependsOnDns(format!(
                        "`{}` resolves to an address in acl `{name}`",
                        req.host
                    ))
                }
            },
            AclKind::DstDomain(domains, no_lookup) => {
                let matches = |host: &str| {
                    domains.iter().any(|d| {
                        if let Some(suffix) = d.strip_prefix('.') {
                            host == suffix
                                || host.ends_with(&format!(".{suffix}"))
                                || suffix.is_empty()
                        } else {
                            host == d
                        }
                    })
                };
                self.by_name(name, req, *no_lookup, matches)
            }
            AclKind::DstDomRegex(res, no_lookup) => {
                let matches = |host: &str| res.iter().any(|r| r.is_match(host));
                self.by_name(name, req, *no_lookup, matches)
            }
            AclKind::UrlRegex(res) => {
                let url = url.get_or_init(|| req.url());
                yes(res.iter().any(|r| r.is_match(url)))
            }
            // CONNECT has no path: `urlpath_regex` never matches it (so its
            // negation does), on squid 5.7 and 6.13.
            AclKind::UrlPathRegex(res) => {
                yes(!req.is_connect() && res.iter().any(|r| r.is_match(&req.path)))
            }
            AclKind::Port(ranges) => yes(ranges.iter().any(|(a, b)| (*a..=*b).contains(&req.port))),
            AclKind::LocalPort(ranges) => yes(req
                .local_port
                .is_some_and(|p| ranges.iter().any(|(a, b)| (*a..=*b).contains(&p)))),
            AclKind::Method(methods) => yes(methods.contains(&req.method)),
            AclKind::Proto(protos) => {
                // A CONNECT request's protocol is NONE to `proto` (5.7, 6.13).
                let proto = if req.is_connect() {
                    "NONE".to_string()
                } else {
                    req.scheme.to_ascii_uppercase()
                };
                yes(protos.contains(&proto))
            }
            AclKind::MyPortName(names) => {
                let port_name = self
                    .listeners
                    .iter()
                    .find(|l| Some(l.port) == req.local_port)
                    .map(|l| {
                        l.options
                            .iter()
                            .find_map(|o| o.strip_prefix("name=").map(str::to_string))
                            .unwrap_or_else(|| l.port.to_string())
                    });
                yes(port_name.is_some_and(|n| names.contains(&n)))
            }
            AclKind::Unsupported(t) => {
                if !unsupported.contains(t) {
                    unsupported.push(t.clone());
                }
                Match::No
            }
        }
    }

    /// Whether one of `ips` is in an IP ACL: its ranges, then the names
    /// squid resolved when it loaded the configuration.
    fn ip_acl(&self, name: &str, acl: &super::IpAcl, ips: &[IpAddr], what: &str) -> Match {
        if ips
            .iter()
            .any(|ip| acl.ranges.iter().any(|r| r.contains(ip)))
        {
            return Match::Yes;
        }
        let mut unknown = Vec::new();
        for n in &acl.names {
            match self.lookup(n) {
                Lookup::Known(addrs) => {
                    if addrs.iter().any(|a| ips.contains(a)) {
                        return Match::Yes;
                    }
                }
                Lookup::Unknown => unknown.push(n.as_str()),
            }
        }
        if unknown.is_empty() {
            Match::No
        } else {
            Match::DependsOnDns(format!(
                "{what} is what `{}` (in acl `{name}`) resolves to",
                unknown.join("` or `")
            ))
        }
    }

    /// `dstdomain`-like ACLs: the host as written, then (for an IP literal,
    /// unless `-n`) the name a reverse lookup gives.
    fn by_name(
        &self,
        name: &str,
        req: &ProxyRequest,
        no_lookup: bool,
        matches: impl Fn(&str) -> bool,
    ) -> Match {
        if matches(&req.host) {
            return Match::Yes;
        }
        let Some(ip) = req.host_is_ip() else {
            return Match::No;
        };
        if no_lookup {
            return Match::No;
        }
        match self.reverse(ip) {
            Some(names) => {
                if names.iter().any(|n| matches(n)) {
                    Match::Yes
                } else {
                    Match::No
                }
            }
            None => Match::DependsOnDns(format!(
                "the reverse lookup of `{ip}` gives a name in acl `{name}`"
            )),
        }
    }

    /// Whether every ACL of a line matches.
    fn line_matches(
        &self,
        line: &AccessLine,
        req: &Prepared<'_>,
        unsupported: &mut Vec<String>,
    ) -> Match {
        let mut unknown = Vec::new();
        for (negate, name) in &line.refs {
            let negate = *negate;
            let Some(acl) = self.acls.get(name) else {
                return Match::No;
            };
            match (self.acl_matches(name, acl, req, unsupported), negate) {
                (Match::Yes, false) | (Match::No, true) => {}
                (Match::Yes, true) | (Match::No, false) => return Match::No,
                (Match::DependsOnDns(why), false) => unknown.push(why),
                (Match::DependsOnDns(why), true) => unknown.push(format!("not: {why}")),
            }
        }
        if unknown.is_empty() {
            Match::Yes
        } else {
            Match::DependsOnDns(unknown.join(", and "))
        }
    }

    /// Evaluates `http_access` for a request.
    pub fn evaluate(&self, req: &ProxyRequest) -> ProxyVerdict {
        let mut unsupported = Vec::new();
        let prepared = Prepared {
            request: req,
            host: self.lookup(&req.host),
            url: std::cell::OnceCell::new(),
        };
        let mut outcomes: Vec<ProxyOutcome> = Vec::new();
        // Conditions under which squid got past the lines tried so far: the
        // first few, then a count (a configuration of many DNS-dependent
        // lines must not cost lines² strings per request).
        let mut passed: Vec<String> = Vec::new();
        let mut passed_more = 0usize;
        let assumptions = |passed: &[String], more: usize| {
            let mut a = passed.to_vec();
            if more > 0 {
                a.push(format!("not the conditions of {more} more lines"));
            }
            a
        };
        let mut elided = 0usize;
        let mut decided = false;
        for line in &self.access {
            match self.line_matches(line, &prepared, &mut unsupported) {
                Match::No => {}
                Match::Yes => {
                    outcomes.push(ProxyOutcome {
                        allowed: line.allow,
                        line: Some(line.clone()),
                        assuming: assumptions(&passed, passed_more),
                    });
                    decided = true;
                    break;
                }
                Match::DependsOnDns(why) => {
                    // Both verdicts are always represented; past that, at
                    // most MAX_OUTCOMES are listed.
                    let new_verdict = outcomes.iter().all(|o| o.allowed != line.allow);
                    if outcomes.len() < MAX_OUTCOMES || new_verdict {
                        let mut assuming = assumptions(&passed, passed_more);
                        assuming.push(why.clone());
                        outcomes.push(ProxyOutcome {
                            allowed: line.allow,
                            line: Some(line.clone()),
                            assuming,
                        });
                    } else {
                        elided += 1;
                    }
                    if passed.len() < MAX_ASSUMPTIONS {
                        passed.push(format!("not ({why})"));
                    } else {
                        passed_more += 1;
                    }
                }
            }
        }
        if !decided {
            outcomes.push(ProxyOutcome {
                allowed: self.access.last().is_some_and(|l| !l.allow),
                line: None,
                assuming: assumptions(&passed, passed_more),
            });
        }
        let allowed = outcomes.iter().any(|o| o.allowed);
        let depends_on_dns = outcomes.iter().any(|o| o.allowed != allowed);
        // Of several outcomes with the verdict, the last: the one that
        // assumes the fewest unknown names land in an ACL.
        let first = outcomes
            .iter()
            .rev()
            .find(|o| o.allowed == allowed)
            .cloned()
            .unwrap_or(ProxyOutcome {
                allowed,
                line: None,
                assuming: Vec::new(),
            });
        let mut reason = self.describe(&first);
        if outcomes.len() > 1 {
            let each = outcomes
                .iter()
                .map(|o| {
                    format!(
                        "{} ({}) if {}",
                        if o.allowed { "allowed" } else { "denied" },
                        self.describe(o),
                        o.assuming.join(" and ")
                    )
                })
                .collect::<Vec<_>>()
                .join("; ");
            let each = if elided > 0 {
                format!("{each}; and {elided} more outcomes like these")
            } else {
                each
            };
            reason = if depends_on_dns {
                format!("depends on DNS: {each}")
            } else {
                format!(
                    "{} whatever DNS answers: {each}",
                    if allowed { "allowed" } else { "denied" }
                )
            };
        }
        ProxyVerdict {
            allowed,
            depends_on_dns,
            line: first.line,
            reason,
            outcomes,
            unsupported,
        }
    }

    fn describe(&self, o: &ProxyOutcome) -> String {
        match (&o.line, self.access.last()) {
            (Some(line), _) => format!(
                "{}:{}: `http_access {} {}` matches",
                line.file,
                line.line,
                if line.allow { "allow" } else { "deny" },
                line.acls.join(" ")
            ),
            (None, Some(last)) => format!(
                "no `http_access` line matches: the implicit last rule is the opposite of the last line ({}:{}, {})",
                last.file,
                last.line,
                if last.allow { "allow" } else { "deny" }
            ),
            (None, None) => "there are no `http_access` lines: squid denies every request".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn urls_as_squid_rebuilds_them() {
        let c = ip("10.0.0.1");
        let r = ProxyRequest::to_url(c, "get", "HTTP://Example.COM/a/b?x=1", None).unwrap();
        assert_eq!((r.host.as_str(), r.port), ("example.com", 80));
        assert_eq!(r.url(), "http://example.com/a/b?x=1");
        let r = ProxyRequest::to_url(
            c,
            "GET",
            "http://127.0.0.1:3128/squid-internal-mgr/info",
            None,
        )
        .unwrap();
        assert_eq!(r.url(), "http://127.0.0.1:3128/squid-internal-mgr/info");
        assert_eq!(r.path, "/squid-internal-mgr/info");
        let r = ProxyRequest::to_url(c, "GET", "https://[::1]:8443", None).unwrap();
        assert_eq!(
            (r.host.as_str(), r.port, r.path.as_str()),
            ("::1", 8443, "/")
        );
        assert_eq!(r.url(), "https://[::1]:8443/");
        let r = ProxyRequest::to_host(c, "CONNECT", "Example.com", 443, None);
        assert_eq!(r.url(), "example.com:443");
        for bad in [
            "example.com/x",
            "gopher://a/",
            "http:///x",
            "http://a:99999/",
            "http://u@a/",
            "http://a/b c",
        ] {
            assert!(ProxyRequest::to_url(c, "GET", bad, None).is_err(), "{bad}");
        }
        assert!(ProxyRequest::to_url(c, "CONNECT", "http://a/", None).is_err());
    }

    #[test]
    fn public_addresses() {
        for p in ["8.8.8.8", "2001:4860::1", "::ffff:8.8.8.8"] {
            assert!(is_public(ip(p)), "{p}");
        }
        for n in [
            "10.1.1.1",
            "127.0.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "192.168.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(ip(n)), "{n}");
        }
    }
}

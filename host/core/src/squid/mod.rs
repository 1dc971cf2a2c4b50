//! Squid configurations: a parser that keeps line numbers, the model
//! (listeners, ordered access rules with resolved ACLs, logging), and an
//! evaluator that answers "does this config let client C send METHOD to
//! host:port?" the way squid does (squid.conf `http_access`): lines are
//! tried in order, all ACLs of a line must match (`!` negates), the first
//! matching line decides, and when none matches the verdict is the opposite
//! of the last `http_access` line (deny when there is none).
//!
//! Held against real squids (5.7 and 6.13) by `tests/tests/squid.rs`.
//!
//! # Versions
//!
//! Checked between squid 5.7 (Debian bookworm) and 7 in squid's release
//! notes and `cf.data.pre`, and with `squid -k parse` on 5.7 and 6.13:
//!
//! | what | 5.7 | 5.8 – 6.x | 7 | modelled |
//! |------|-----|-----------|---|----------|
//! | predefined `to_linklocal` (169.254.0.0/16, fe80::/10; Bug 5241) | no | yes | yes | yes |
//! | `manager` matches `cache_object://` URLs | yes | yes | no (scheme removed) | yes |
//! | a value overlapping one already in an address ACL | ignored, with a warning (even the broader one) | same | combined (PR #1632) | yes |
//! | a `.wildcard` after a name it covers, `x` with `.x` | refused | refused | the broader kept, a warning | yes |
//! | a name under a `.wildcard` already there; an exact duplicate | ignored (warning; silently) | same | same | yes |
//! | address forms (ranges, dotted masks, `0.0.0.0/0` as `all`, `::/0` as nothing, one IPv6 space) | same | same | same (not run) | yes |
//! | `include` of a pattern matching nothing: fatal; of a directory: nothing | same | same | same (not run) | yes |
//! | an invalid regex | reported at its line, skipped | fatal | fatal | an error in both |
//! | `http_access` with neither allow nor deny | reported at its line, skipped | same | same | an error |
//! | ACL names | case-insensitive | same | same | yes |
//! | CONNECT: `proto` is `NONE`, `urlpath_regex` never matches | same | same | same (not run) | yes |
//! | unknown directives | "unrecognized", exit 1 | same | same | no: ignored |
//!
//! 5.7 and 6.13 rows are checked by `tests/tests/squid.rs` on Debian's
//! binaries; squid 7 is not packaged by Debian stable, so its column comes
//! from its release notes and source (`src/acl/SplayInserter.h`) and is
//! not run.
//!
//! Directives Palisade does not model are ignored whatever the version
//! (squid rejects unknown ones; Palisade does not try to list them).
//! [`version::SquidVersion`] is where a behaviour asks for the version.

pub mod addr;
pub mod eval;
pub mod files;
pub mod version;

use std::collections::BTreeMap;

pub use crate::input::lines::{LineMap, LineRange, written_literally};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use addr::IpAcl;
pub use eval::ProxyRequest;
pub use eval::{ProxyOutcome, ProxyVerdict};
pub use files::Files;
use files::{MAX_FILE_BYTES, Refusal, Root, parent_dir, read_regular};
pub use version::SquidVersion;

/// Deepest `include` nesting.
const MAX_INCLUDE_DEPTH: u32 = 16;
/// Most `include`s and `hosts_file`s followed for one configuration (each
/// costs file system calls, so a fan-out of empty files is bounded too).
const MAX_INCLUDES: usize = 10_000;
/// Most lines parsed for one configuration, its included files counted.
const MAX_LINES: u64 = 1_000_000;
/// Most bytes of included and `hosts_file` files read for one
/// configuration: 64 MiB.
const MAX_BYTES: u64 = 64 << 20;

/// A problem in a configuration file, with its line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ConfigError {
    pub file: String,
    pub line: u32,
    pub message: String,
}

/// The value of one ACL.
#[derive(Debug, Clone)]
pub enum AclKind {
    Src(IpAcl),
    Dst(IpAcl),
    /// Domains; a leading dot matches the domain and its subdomains. The
    /// flag is `-n`: no reverse lookup for IP-literal requests.
    DstDomain(Vec<String>, bool),
    DstDomRegex(Vec<regex::Regex>, bool),
    /// Matched against the URL squid rebuilds (`host:port` for CONNECT).
    UrlRegex(Vec<regex::Regex>),
    /// Matched against the path and query (empty for CONNECT).
    UrlPathRegex(Vec<regex::Regex>),
    /// Inclusive port ranges.
    Port(Vec<(u16, u16)>),
    LocalPort(Vec<(u16, u16)>),
    Method(Vec<String>),
    Proto(Vec<String>),
    MyPortName(Vec<String>),
    /// A type Palisade does not evaluate: it never matches, and verdicts
    /// that depend on it say so.
    Unsupported(String),
}

impl AclKind {
    /// The same type with no values.
    fn emptied(&self) -> AclKind {
        match self {
            AclKind::Src(_) => AclKind::Src(IpAcl::default()),
            AclKind::Dst(_) => AclKind::Dst(IpAcl::default()),
            AclKind::DstDomain(_, n) => AclKind::DstDomain(Vec::new(), *n),
            AclKind::DstDomRegex(_, n) => AclKind::DstDomRegex(Vec::new(), *n),
            AclKind::UrlRegex(_) => AclKind::UrlRegex(Vec::new()),
            AclKind::UrlPathRegex(_) => AclKind::UrlPathRegex(Vec::new()),
            AclKind::Port(_) => AclKind::Port(Vec::new()),
            AclKind::LocalPort(_) => AclKind::LocalPort(Vec::new()),
            AclKind::Method(_) => AclKind::Method(Vec::new()),
            AclKind::Proto(_) => AclKind::Proto(Vec::new()),
            AclKind::MyPortName(_) => AclKind::MyPortName(Vec::new()),
            AclKind::Unsupported(t) => AclKind::Unsupported(t.clone()),
        }
    }

    /// Adds the values of `new` (same type) as squid adds them to its
    /// trees (`src/acl/Ip.cc`, `src/acl/DomainData.cc`; the outcomes were
    /// checked with `squid -k parse` on 5.7 and 6.13):
    ///
    /// - an address value that overlaps one already in the ACL is ignored,
    ///   with a warning, even when it is the broader one (`10.1.0.0/16`
    ///   then `10.0.0.0/8` leaves only `10.1.0.0/16`);
    /// - a domain already in the ACL is ignored silently; a domain under a
    ///   `.wildcard` already in it is ignored with a warning; a `.wildcard`
    ///   over a domain already in it, and `example.com` with
    ///   `.example.com` in either order, make squid refuse the
    ///   configuration.
    fn merge(
        &mut self,
        new: AclKind,
        version: SquidVersion,
        warnings: &mut Vec<String>,
    ) -> Result<(), String> {
        // Squid 7 (PR #1632) keeps every value: overlapping addresses are
        // combined and a broader domain replaces the names it covers, with a
        // warning, never a refusal.
        let union = version >= SquidVersion::V7;
        match (self, new) {
            (AclKind::Src(a), AclKind::Src(b)) | (AclKind::Dst(a), AclKind::Dst(b)) => {
                a.names.extend(b.names);
                let a = &mut a.ranges;
                for r in b.ranges {
                    if r.is_empty() {
                        warnings.push(format!("`{r}` matches no address in squid"));
                        continue;
                    }
                    match a.iter().find(|e| e.overlaps(&r)) {
                        Some(e) if union => {
                            warnings.push(format!(
                                "`{r}` overlaps `{e}`: squid {version} combines them"
                            ));
                            a.push(r);
                        }
                        Some(e) => warnings.push(format!(
                            "`{r}` overlaps `{e}`: squid ignores `{r}` (remove one of them)"
                        )),
                        None => a.push(r),
                    }
                }
            }
            (AclKind::DstDomain(a, _), AclKind::DstDomain(b, _)) => {
                for d in b {
                    match add_domain(a, d.clone()) {
                        Ok(Some(w)) => warnings.push(w),
                        Ok(None) => {}
                        Err(m) if union => {
                            warnings.push(format!("{m}: squid {version} keeps the broader one"));
                            a.push(d);
                        }
                        Err(m) => return Err(format!("{m}: squid refuses the configuration")),
                    }
                }
            }
            (AclKind::DstDomRegex(a, _), AclKind::DstDomRegex(b, _))
            | (AclKind::UrlRegex(a), AclKind::UrlRegex(b))
            | (AclKind::UrlPathRegex(a), AclKind::UrlPathRegex(b)) => a.extend(b),
            (AclKind::Port(a), AclKind::Port(b))
            | (AclKind::LocalPort(a), AclKind::LocalPort(b)) => a.extend(b),
            (AclKind::Method(a), AclKind::Method(b))
            | (AclKind::Proto(a), AclKind::Proto(b))
            | (AclKind::MyPortName(a), AclKind::MyPortName(b)) => a.extend(b),
            _ => {}
        }
        Ok(())
    }
}

/// Adds one `dstdomain` value (lower case) as [`AclKind::merge`] says.
fn add_domain(domains: &mut Vec<String>, d: String) -> Result<Option<String>, String> {
    let bare = |s: &str| s.strip_prefix('.').unwrap_or(s).to_string();
    // `x` lies strictly under the domain of `.w`.
    let under = |x: &str, w: &str| bare(x).ends_with(&format!(".{}", bare(w)));
    for e in domains.iter() {
        if *e == d {
            return Ok(None);
        }
        if bare(e) == bare(&d) {
            let (wild, plain) = if e.starts_with('.') { (e, &d) } else { (&d, e) };
            return Err(format!(
                "`{wild}` is a subdomain of `{plain}` (keep one of them)"
            ));
        }
        if e.starts_with('.') && under(&d, e) {
            return Ok(Some(format!(
                "`{d}` is a subdomain of `{e}`: squid ignores `{d}` (remove it)"
            )));
        }
        if d.starts_with('.') && under(e, &d) {
            return Err(format!(
                "`{e}` is a subdomain of `{d}`, which comes after it (remove `{e}`)"
            ));
        }
    }
    domains.push(d);
    Ok(None)
}

/// An ACL: its name, type, values and where each line defining it is.
#[derive(Debug, Clone)]
pub struct Acl {
    pub kind: AclKind,
    /// Numbers (see [`LineMap`]) of the lines defining it.
    pub lines: Vec<u32>,
    /// The values as written (for display and plugin facts).
    pub values: Vec<String>,
    /// The line (number) that wrote each of `values`.
    pub value_lines: Vec<u32>,
    pub type_name: String,
}

impl Acl {
    /// For `src` and `dst` ACLs, each value's addresses as CIDRs (see
    /// `AddrRange::cidrs`); empty for other types.
    pub fn value_cidrs(&self) -> Vec<Vec<String>> {
        if !matches!(self.kind, AclKind::Src(_) | AclKind::Dst(_)) {
            return Vec::new();
        }
        self.values
            .iter()
            .map(|v| match addr::parse(v) {
                Ok(addr::AddrValue::Range(r)) => r.cidrs().unwrap_or_default(),
                _ => Vec::new(),
            })
            .collect()
    }

    /// Whether the ACL matches every destination, host names and addresses
    /// alike: a `dst` holding every IPv4 or every IPv6 address, a
    /// `dstdomain` of `.` (the root, whose subdomains are every name), a
    /// `dstdom_regex` matching names of every shape.
    pub fn matches_every_destination(&self) -> bool {
        const NAMES: &[&str] = &[
            "a",
            "example.com",
            "www.example.co.uk",
            "palisade-canary.invalid",
            "A1-B.EXAMPLE.ORG",
            "192.0.2.1",
        ];
        match &self.kind {
            AclKind::Dst(acl) => acl.ranges.iter().any(addr::AddrRange::covers_a_family),
            AclKind::DstDomain(domains, _) => domains.iter().any(|d| d == "."),
            AclKind::DstDomRegex(res, _) => res.iter().any(|r| NAMES.iter().all(|n| r.is_match(n))),
            _ => false,
        }
    }

    /// The lines a plugin sees: the line of each value, in `values` order,
    /// when every line added values; else the lines defining it.
    pub fn fact_lines(&self) -> Vec<u32> {
        if !self.values.is_empty() && self.value_lines.len() == self.values.len() {
            self.value_lines.clone()
        } else {
            self.lines.clone()
        }
    }
}

/// One `http_access` line.
#[derive(Debug, Clone, Serialize)]
pub struct AccessLine {
    /// `allow` or `deny`.
    pub allow: bool,
    /// ACL names, `!`-prefixed when negated.
    pub acls: Vec<String>,
    /// File and line.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// The line's number in the configuration's single numbering (see
    /// [`LineMap`]): what plugins see.
    #[serde(skip)]
    pub number: u32,
    /// The ACLs as the evaluator looks them up: (negated, lower-case name),
    /// computed once here rather than for every request.
    #[serde(skip)]
    pub refs: Vec<(bool, String)>,
}

/// One `http_port`.
#[derive(Debug, Clone, Serialize)]
pub struct Listener {
    /// The address, absent: every interface.
    pub address: Option<String>,
    /// The port.
    pub port: u16,
    /// Options after the port (`intercept`, `name=x`, …).
    pub options: Vec<String>,
    /// File and line.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// The line's number in the configuration's single numbering (see
    /// [`LineMap`]): what plugins see.
    #[serde(skip)]
    pub number: u32,
}

/// A file read through `include`, and where its lines are in the
/// configuration's single numbering.
#[derive(Debug, Clone)]
pub struct IncludedFile {
    /// Its name, relative to the root as named.
    pub name: String,
    pub text: Arc<str>,
    /// The number its line 1 has.
    pub first: u32,
    /// How many lines it has.
    pub lines: u32,
}

/// A parsed squid configuration.
#[derive(Debug, Clone, Default)]
pub struct SquidConfig {
    pub acls: BTreeMap<String, Acl>,
    pub access: Vec<AccessLine>,
    pub listeners: Vec<Listener>,
    /// `access_log` values and line numbers; `none` disables logging.
    pub access_logs: Vec<(String, u32)>,
    /// The format each `access_log` writes (`logformat=NAME`, or the name
    /// after the destination; `squid` when none): (destination, format).
    pub access_log_formats: Vec<(String, String)>,
    /// `logformat NAME DEFINITION` lines: name → (definition, line number).
    pub logformats: BTreeMap<String, (String, u32)>,
    /// Host name → addresses from `hosts_file`.
    pub hosts: BTreeMap<String, Vec<IpAddr>>,
    /// `hosts_file` entries in order: (address, first name), for reverse
    /// lookups.
    pub hosts_order: Vec<(IpAddr, String)>,
    /// Problems, each at its file and (real) line.
    pub errors: Vec<ConfigError>,
    /// What squid warns about but accepts (an ACL value it ignores), each
    /// at its file and line.
    pub warnings: Vec<ConfigError>,
    /// Files read through `include`, in include order.
    pub included: Vec<IncludedFile>,
    /// The release whose behaviour the configuration gets.
    pub version: SquidVersion,
    /// Which hosts file squid reads (see [`eval`]).
    pub hosts_file: HostsFile,
    /// Names and addresses the policy set or `--resolve` gives; they come
    /// first and a later `hosts_file` does not drop them.
    pub known: BTreeMap<String, Vec<IpAddr>>,
}

/// The hosts file squid reads names from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HostsFile {
    /// Squid's default `/etc/hosts` (or a `hosts_file` Palisade may not
    /// read): `localhost` is loopback, other names unknown.
    #[default]
    Default,
    /// `hosts_file none`: none at all, so even `localhost` goes to DNS.
    None,
    /// A `hosts_file` Palisade read: its names replace the default ones.
    Read,
}

/// What a configuration is read and evaluated with, besides its text.
#[derive(Debug, Clone, Default)]
pub struct SquidOptions {
    /// The squid release (default: [`SquidVersion::DEFAULT`]).
    pub version: SquidVersion,
    /// Known addresses of names (`--resolve`, the policy set's
    /// `squid.hosts`), before any `hosts_file` entry.
    pub hosts: BTreeMap<String, Vec<IpAddr>>,
}

impl SquidOptions {
    /// Adds an address of `name` (kept in lower case, as squid matches
    /// names). `Err` when `name` is empty or itself an address.
    pub fn resolve(&mut self, name: &str, ip: IpAddr) -> Result<(), String> {
        if name.is_empty() || addr::address(name.trim_matches(['[', ']'])).is_some() {
            return Err(format!("`{name}` is not a host name"));
        }
        self.hosts
            .entry(name.to_ascii_lowercase())
            .or_default()
            .push(ip);
        Ok(())
    }
}

/// What squid predefines, by version (`cf.data.pre` of each release):
/// name, type and values. Redefining one with the same type adds values, as
/// for any ACL.
fn builtin_acls(
    version: SquidVersion,
) -> Vec<(&'static str, &'static str, &'static [&'static str])> {
    let mut acls: Vec<(&str, &str, &[&str])> = vec![
        // Squid writes it `src all`; its two networks are the same
        // addresses, in the form plugins of contract 0.1 read.
        ("all", "src", &["0.0.0.0/0", "::/0"]),
        ("localhost", "src", &["127.0.0.1/32", "::1/128"]),
        (
            "to_localhost",
            "dst",
            &["127.0.0.0/8", "0.0.0.0/32", "::1/128", "::/128"],
        ),
        ("CONNECT", "method", &["CONNECT"]),
    ];
    if version >= SquidVersion::V5_8 {
        acls.push(("to_linklocal", "dst", &["169.254.0.0/16", "fe80::/10"]));
    }
    if version >= SquidVersion::V7 {
        acls.push((
            "manager",
            "url_regex",
            &["+i", "^[^:]+://[^/]+/squid-internal-mgr/"],
        ));
    } else {
        acls.push((
            "manager",
            "url_regex",
            &[
                "-i",
                "^cache_object://",
                "+i",
                "^[^:]+://[^/]+/squid-internal-mgr/",
            ],
        ));
    }
    acls
}

fn parse_ports(values: &[String]) -> Result<Vec<(u16, u16)>, String> {
    values
        .iter()
        .map(|v| {
            let (a, b) = v.split_once('-').unwrap_or((v, v));
            let a: u16 = a.parse().map_err(|_| format!("invalid port `{v}`"))?;
            let b: u16 = b.parse().map_err(|_| format!("invalid port `{v}`"))?;
            if a > b {
                return Err(format!("invalid port range `{v}`"));
            }
            Ok((a, b))
        })
        .collect()
}

/// Regular expressions with squid's flags: `-i` makes the following ones
/// case-insensitive, `+i` case-sensitive again.
fn parse_regexes(values: &[String]) -> Result<Vec<regex::Regex>, String> {
    let mut insensitive = false;
    let mut out = Vec::new();
    for v in values {
        match v.as_str() {
            "-i" => insensitive = true,
            "+i" => insensitive = false,
            // Squid 6 stops at a bad pattern; 5 reports it at its line and
            // goes on without it. Both complain at the line: an error.
            v => out.push(
                regex::RegexBuilder::new(v)
                    .case_insensitive(insensitive)
                    .build()
                    .map_err(|e| format!("invalid regex `{v}`: {e}"))?,
            ),
        }
    }
    Ok(out)
}

/// `-i` and `+i`, the case switches of regex ACLs.
fn is_flag(v: &str) -> bool {
    v == "-i" || v == "+i"
}

/// The value of an ACL of type `kind` (values with their `-i`/`+i`
/// switches; `no_lookup` is `-n`).
fn acl_kind(kind: &str, values: &[String], no_lookup: bool) -> Result<AclKind, String> {
    let plain: Vec<String> = values.iter().filter(|v| !is_flag(v)).cloned().collect();
    Ok(match kind {
        "src" | "dst" => match addr::parse_acl(&plain)? {
            Some(acl) if kind == "src" => AclKind::Src(acl),
            Some(acl) => AclKind::Dst(acl),
            None => AclKind::Unsupported(format!("{kind} ipv4/ipv6")),
        },
        "dstdomain" => AclKind::DstDomain(
            plain.iter().map(|v| v.to_ascii_lowercase()).collect(),
            no_lookup,
        ),
        "dstdom_regex" => AclKind::DstDomRegex(parse_regexes(values)?, no_lookup),
        "url_regex" => AclKind::UrlRegex(parse_regexes(values)?),
        "urlpath_regex" => AclKind::UrlPathRegex(parse_regexes(values)?),
        "port" => AclKind::Port(parse_ports(&plain)?),
        "localport" => AclKind::LocalPort(parse_ports(&plain)?),
        "method" => AclKind::Method(plain),
        "proto" => AclKind::Proto(plain.iter().map(|v| v.to_ascii_uppercase()).collect()),
        "myportname" => AclKind::MyPortName(plain),
        other => AclKind::Unsupported(other.to_string()),
    })
}

/// What one parse may still read, and the includes being read.
struct Reader<'a> {
    files: &'a Files,
    /// The root of [`Files::Confined`], canonical (or why it cannot be).
    root: Result<Root, String>,
    /// Canonical paths and names of the files being parsed, outermost
    /// first: an include of one of them is a cycle.
    stack: Vec<(PathBuf, String)>,
    includes: usize,
    /// Directory entries `include` patterns looked at.
    glob_entries: usize,
    lines: u64,
    bytes: u64,
    /// The next free line number (see [`SquidConfig::parse`]).
    next: u32,
    /// A limit was reached: nothing more is parsed.
    halted: bool,
}

impl Reader<'_> {
    /// Counts `len` bytes against [`MAX_BYTES`]; false when that exceeds it.
    fn take_bytes(&mut self, len: usize) -> bool {
        self.bytes = self
            .bytes
            .saturating_add(u64::try_from(len).unwrap_or(u64::MAX));
        self.bytes <= MAX_BYTES
    }
}

/// One text being parsed.
struct Text<'a> {
    name: &'a str,
    text: &'a str,
    /// The canonical directory relative paths are resolved from.
    dir: Option<&'a Path>,
    /// Its line n is line `line_offset + n` of its file…
    line_offset: u32,
    /// …and has the number `number_offset + n`.
    number_offset: u32,
}

/// How many lines `str::lines` gives.
fn count_lines(text: &str) -> u32 {
    u32::try_from(text.lines().count()).unwrap_or(u32::MAX)
}

impl SquidConfig {
    fn with_builtins(options: &SquidOptions) -> SquidConfig {
        let mut c = SquidConfig {
            version: options.version,
            ..SquidConfig::default()
        };
        for (name, kind, values) in builtin_acls(options.version) {
            let values: Vec<String> = values.iter().map(|s| s.to_string()).collect();
            let kind_value =
                acl_kind(kind, &values, false).unwrap_or(AclKind::Unsupported(kind.to_string()));
            let shown = values.iter().filter(|v| !is_flag(v)).cloned().collect();
            c.acls.insert(
                name.to_ascii_lowercase(),
                Acl {
                    kind: kind_value,
                    lines: Vec::new(),
                    values: shown,
                    value_lines: Vec::new(),
                    type_name: kind.to_string(),
                },
            );
        }
        c.known = options.hosts.clone();
        c
    }

    /// Parses a configuration named `file`. `files` says which host files
    /// `include` and `hosts_file` may read (relative paths in `file` are
    /// resolved from its directory as named). Lines are numbered from
    /// `line_offset + 1` (a ConfigMap's `squid.conf` is numbered in its
    /// YAML file).
    ///
    /// # Line numbers
    ///
    /// Plugins see one number per line (`line: u32` in `wit/`) and point at
    /// it with `/lines/<n>`, so every line read gets a unique number: lines
    /// of the top-level text keep their own (`line_offset + 1 ..=
    /// line_offset + N`), and each included file, in include order, gets
    /// the next free range above that ([`IncludedFile::first`]). Errors,
    /// [`AccessLine::line`] and [`Listener::line`] carry the real file and
    /// line; [`LineMap`] maps numbers back for findings.
    pub fn parse(file: &str, text: &str, files: &Files, line_offset: u32) -> SquidConfig {
        SquidConfig::parse_with(file, text, files, line_offset, &SquidOptions::default())
    }

    /// [`SquidConfig::parse`] for a given release and known names.
    pub fn parse_with(
        file: &str,
        text: &str,
        files: &Files,
        line_offset: u32,
        options: &SquidOptions,
    ) -> SquidConfig {
        let mut c = SquidConfig::with_builtins(options);
        let top_lines = count_lines(text);
        let (root, dir, canonical) = match files {
            Files::None => (Err(String::new()), None, None),
            Files::Confined { root } => {
                let dir = parent_dir(Path::new(file));
                let dir = if dir.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    dir
                };
                (
                    Root::new(root),
                    std::fs::canonicalize(dir).ok(),
                    std::fs::canonicalize(file).ok(),
                )
            }
        };
        let mut reader = Reader {
            files,
            root,
            stack: Vec::new(),
            includes: 0,
            glob_entries: 0,
            lines: 0,
            bytes: 0,
            next: line_offset.saturating_add(top_lines).saturating_add(1),
            halted: false,
        };
        if let Some(canonical) = canonical {
            reader.stack.push((canonical, file.to_string()));
        }
        let top = Text {
            name: file,
            text,
            dir: dir.as_deref(),
            line_offset,
            number_offset: line_offset,
        };
        c.parse_into(&mut reader, &top, 0);
        c.check_references();
        // A file included several times repeats its problems: each is
        // reported once.
        let mut seen = std::collections::BTreeSet::new();
        c.errors.retain(|e| seen.insert(e.clone()));
        c
    }

    fn error(&mut self, file: &str, line: u32, message: String) {
        self.errors.push(ConfigError {
            file: file.to_string(),
            line,
            message,
        });
    }

    fn parse_into(&mut self, cx: &mut Reader<'_>, src: &Text<'_>, depth: u32) {
        let file = src.name;
        for (n, raw) in src.text.lines().enumerate() {
            let n = u32::try_from(n).unwrap_or(u32::MAX);
            let line = src.line_offset.saturating_add(n).saturating_add(1);
            let number = src.number_offset.saturating_add(n).saturating_add(1);
            if cx.halted {
                return;
            }
            cx.lines += 1;
            if cx.lines > MAX_LINES {
                self.error(
                    file,
                    line,
                    format!(
                        "the configuration is longer than {MAX_LINES} lines with the files it includes: the rest is not read"
                    ),
                );
                cx.halted = true;
                return;
            }
            let content = raw.split('#').next().unwrap_or("").trim();
            if content.is_empty() {
                continue;
            }
            let words: Vec<&str> = content.split_whitespace().collect();
            let Some((&directive, args)) = words.split_first() else {
                continue;
            };
            match directive {
                "acl" => self.parse_acl(file, line, number, args),
                "http_access" => self.parse_access(file, line, number, args),
                "http_port" => self.parse_port(file, line, number, args),
                "access_log" => match args.first() {
                    Some(v) => {
                        self.access_logs.push((v.to_string(), number));
                        // `logformat=NAME`, or (the old form) a format name
                        // right after the destination.
                        let format = args
                            .iter()
                            .skip(1)
                            .find_map(|a| a.strip_prefix("logformat="))
                            .or_else(|| args.get(1).filter(|a| !a.contains('=')).copied())
                            .unwrap_or("squid");
                        self.access_log_formats
                            .push((v.to_string(), format.to_string()));
                    }
                    None => self.error(file, line, "`access_log` needs a value".into()),
                },
                // The definition as written (a `#` in it is a format
                // modifier, not a comment).
                "logformat" => match args.first() {
                    Some(name) => {
                        let definition = raw
                            .trim_start()
                            .strip_prefix("logformat")
                            .map(str::trim_start)
                            .and_then(|r| r.strip_prefix(*name))
                            .map(str::trim)
                            .unwrap_or_default();
                        self.logformats
                            .insert(name.to_string(), (definition.to_string(), number));
                    }
                    None => self.error(file, line, "`logformat` needs a name".into()),
                },
                // Every argument is a file or a pattern, read in order.
                "include" if args.is_empty() => {
                    self.error(file, line, "`include` needs a file".into())
                }
                "include" => {
                    for target in args {
                        if cx.halted {
                            break;
                        }
                        self.include(cx, src, line, target, depth);
                    }
                }
                "hosts_file" => {
                    if let Some(target) = args.first() {
                        self.hosts_file(cx, src, line, target);
                    }
                }
                // Every other directive is kept out of the model and ignored.
                _ => {}
            }
        }
    }

    /// An `http_access` line.
    fn parse_access(&mut self, file: &str, line: u32, number: u32, args: &[&str]) {
        let Some((&action, acls)) = args.split_first() else {
            self.error(file, line, "`http_access` needs allow or deny".into());
            return;
        };
        let allow = match action {
            "allow" => true,
            "deny" => false,
            other => {
                self.error(
                    file,
                    line,
                    format!("`http_access {other}`: expected allow or deny"),
                );
                return;
            }
        };
        self.access.push(AccessLine {
            allow,
            acls: acls.iter().map(|s| s.to_string()).collect(),
            file: file.to_string(),
            line,
            number,
            refs: acls
                .iter()
                .map(|a| match a.strip_prefix('!') {
                    Some(bare) => (true, bare.to_ascii_lowercase()),
                    None => (false, a.to_ascii_lowercase()),
                })
                .collect(),
        });
    }

    /// An `http_port` line: `[address:]port [options]`.
    fn parse_port(&mut self, file: &str, line: u32, number: u32, args: &[&str]) {
        let Some((&spec, options)) = args.split_first() else {
            self.error(file, line, "`http_port` needs a port".into());
            return;
        };
        let (address, port) = match spec.rsplit_once(':') {
            Some((a, p)) => (Some(a.trim_matches(['[', ']']).to_string()), p),
            None => (None, spec),
        };
        match port.parse::<u16>() {
            Ok(port) if port > 0 => self.listeners.push(Listener {
                address,
                port,
                options: options.iter().map(|s| s.to_string()).collect(),
                file: file.to_string(),
                line,
                number,
            }),
            _ => self.error(file, line, format!("`http_port {spec}`: invalid port")),
        }
    }

    /// Follows `include target` on `line` of `src`, when the access rule,
    /// the limits and the include stack allow it.
    fn include(
        &mut self,
        cx: &mut Reader<'_>,
        src: &Text<'_>,
        line: u32,
        target: &str,
        depth: u32,
    ) {
        let file = src.name;
        if depth >= MAX_INCLUDE_DEPTH {
            self.error(file, line, "`include` nests too deeply".into());
            return;
        }
        let root = match (cx.files, &cx.root) {
            (Files::None, _) => {
                self.error(
                    file,
                    line,
                    format!("`include {target}` cannot be followed from an embedded config"),
                );
                return;
            }
            (Files::Confined { .. }, Err(m)) => {
                let m = format!("`include {target}`: {m}");
                self.error(file, line, m);
                return;
            }
            (Files::Confined { .. }, Ok(root)) => root.clone(),
        };
        let Some(dir) = src.dir else {
            let m = format!("`include {target}`: the directory of `{file}` cannot be resolved");
            self.error(file, line, m);
            return;
        };
        // Every `include` counts, read or not, so that failing ones are
        // not free; so does every file read.
        if cx.includes >= MAX_INCLUDES {
            let m = format!(
                "`include {target}`: more than {MAX_INCLUDES} includes: the rest is not read"
            );
            self.error(file, line, m);
            cx.halted = true;
            return;
        }
        cx.includes += 1;
        let paths = if target.contains(['*', '?', '[']) {
            match files::glob(&root, dir, target, &mut cx.glob_entries) {
                Ok(paths) if paths.is_empty() => {
                    let m = format!(
                        "`include {target}`: no file matches the pattern (squid stops: \"Unable to find configuration file\")"
                    );
                    self.error(file, line, m);
                    return;
                }
                Ok(paths) => paths,
                Err(r) => {
                    let m = format!("`include {target}`: {}", r.describe(&root));
                    self.error(file, line, m);
                    return;
                }
            }
        } else {
            match root.resolve(dir, target) {
                Ok(p) => vec![p],
                Err(r) => {
                    let m = format!("`include {target}`: {}", r.describe(&root));
                    self.error(file, line, m);
                    return;
                }
            }
        };
        for path in paths {
            if cx.halted {
                return;
            }
            if cx.includes >= MAX_INCLUDES {
                let m = format!(
                    "`include {target}`: more than {MAX_INCLUDES} includes: the rest is not read"
                );
                self.error(file, line, m);
                cx.halted = true;
                return;
            }
            cx.includes += 1;
            self.include_file(cx, src, line, target, path, &root, depth);
        }
    }

    /// Reads and parses one file `include target` names.
    #[allow(
        clippy::too_many_arguments,
        reason = "one call site; the parse state travels together"
    )]
    fn include_file(
        &mut self,
        cx: &mut Reader<'_>,
        src: &Text<'_>,
        line: u32,
        target: &str,
        path: PathBuf,
        root: &Root,
        depth: u32,
    ) {
        let file = src.name;
        // Squid accepts an `include` of a directory and reads nothing from
        // it (5.7 and 6.13). `path` is canonical and inside the root.
        if path.is_dir() {
            return;
        }
        let name = root.display(&path);
        if let Some(i) = cx.stack.iter().position(|(p, _)| *p == path) {
            let cycle: Vec<&str> = cx
                .stack
                .iter()
                .skip(i)
                .map(|(_, n)| n.as_str())
                .chain([name.as_str()])
                .collect();
            let m = format!(
                "`include {target}` makes a cycle: {}",
                cycle.join(" includes ")
            );
            self.error(file, line, m);
            return;
        }
        let text = match read_regular(&path, MAX_FILE_BYTES) {
            Ok(t) => t,
            Err(r) => {
                let m = format!("`include {target}`: {}", r.describe(root));
                self.error(file, line, m);
                return;
            }
        };
        if !cx.take_bytes(text.len()) {
            let m = format!(
                "`include {target}`: the configuration's files are larger than {} MiB in all: the rest is not read",
                MAX_BYTES >> 20
            );
            self.error(file, line, m);
            cx.halted = true;
            return;
        }
        let lines = count_lines(&text);
        let first = cx.next;
        cx.next = cx.next.saturating_add(lines);
        let text: Arc<str> = text.into();
        self.included.push(IncludedFile {
            name: name.clone(),
            text: text.clone(),
            first,
            lines,
        });
        let sub_dir = path.parent().map(Path::to_path_buf);
        cx.stack.push((path, name.clone()));
        let sub = Text {
            name: &name,
            text: &text,
            dir: sub_dir.as_deref(),
            line_offset: 0,
            number_offset: first.saturating_sub(1),
        };
        self.parse_into(cx, &sub, depth + 1);
        cx.stack.pop();
    }

    /// Reads the names and addresses of `hosts_file target`, when the
    /// access rule allows it.
    fn hosts_file(&mut self, cx: &mut Reader<'_>, src: &Text<'_>, line: u32, target: &str) {
        // One value, the last one written: a later `hosts_file` replaces
        // what an earlier one gave.
        self.hosts.clear();
        self.hosts_order.clear();
        self.hosts_file = if target == "none" {
            HostsFile::None
        } else {
            HostsFile::Default
        };
        if self.hosts_file == HostsFile::None {
            return;
        }
        // An embedded config's `hosts_file` (often `/etc/hosts`) names a
        // file of the proxy's pod, not of the machine running Palisade: it
        // is not read, and not an error either, as such ConfigMaps are
        // common. Names it would give are then unknown: they resolve to no
        // address, so `dst` ACLs do not match them and IP-literal requests
        // get no name for `dstdomain`. The same holds for a file
        // configuration whose `hosts_file` lies outside the root or does
        // not exist (squid too starts without it).
        let (Files::Confined { .. }, Ok(root), Some(dir)) = (cx.files, &cx.root, src.dir) else {
            return;
        };
        let root = root.clone();
        if cx.includes >= MAX_INCLUDES {
            let m = format!(
                "`hosts_file {target}`: more than {MAX_INCLUDES} files read: the rest is not read"
            );
            self.error(src.name, line, m);
            cx.halted = true;
            return;
        }
        cx.includes += 1;
        let Ok(path) = root.resolve(dir, target) else {
            return;
        };
        let text = match read_regular(&path, MAX_FILE_BYTES) {
            Ok(t) => t,
            Err(r @ (Refusal::NotRegular | Refusal::TooLarge)) => {
                let m = format!("`hosts_file {target}`: {}", r.describe(&root));
                self.error(src.name, line, m);
                return;
            }
            Err(_) => return,
        };
        if !cx.take_bytes(text.len()) {
            let m = format!(
                "`hosts_file {target}`: the configuration's files are larger than {} MiB in all: the rest is not read",
                MAX_BYTES >> 20
            );
            self.error(src.name, line, m);
            cx.halted = true;
            return;
        }
        self.hosts_file = HostsFile::Read;
        for l in text.lines() {
            let l = l.split('#').next().unwrap_or("");
            let mut parts = l.split_whitespace();
            if let Some(Ok(ip)) = parts.next().map(str::parse::<IpAddr>) {
                let names: Vec<&str> = parts.collect();
                if let Some(first) = names.first() {
                    self.hosts_order.push((ip, first.to_ascii_lowercase()));
                }
                for name in names {
                    self.hosts
                        .entry(name.to_ascii_lowercase())
                        .or_default()
                        .push(ip);
                }
            }
        }
    }

    fn parse_acl(&mut self, file: &str, line: u32, number: u32, args: &[&str]) {
        let [name, kind, rest @ ..] = args else {
            self.error(file, line, "`acl` needs a name, a type and values".into());
            return;
        };
        let mut no_lookup = false;
        // Values with the `-i`/`+i` switches where they stand (regex types
        // read them in order).
        let mut values: Vec<String> = Vec::new();
        for v in rest {
            match *v {
                "-n" => no_lookup = true,
                v if v.starts_with('"') => {
                    self.error(
                        file,
                        line,
                        format!("acl `{name}`: values from files ({v}) are not supported"),
                    );
                    return;
                }
                v => values.push(v.to_string()),
            }
        }
        if values.iter().all(|v| is_flag(v)) {
            self.error(file, line, format!("acl `{name}` has no values"));
            return;
        }
        let mut warnings = Vec::new();
        let kind_value = match acl_kind(kind, &values, no_lookup) {
            Ok(k) => k,
            Err(m) => {
                self.error(file, line, format!("acl `{name}`: {m}"));
                return;
            }
        };
        let values: Vec<String> = values.into_iter().filter(|v| !is_flag(v)).collect();
        // ACL names are case-insensitive in squid: one ACL, keyed in lower
        // case.
        let key = name.to_ascii_lowercase();
        if let Some(existing) = self.acls.get(&key)
            && existing.type_name != *kind
        {
            let m = format!(
                "acl `{name}` is redefined with type `{kind}` (it was `{}`)",
                existing.type_name
            );
            self.error(file, line, m);
            return;
        }
        let acl = self.acls.entry(key).or_insert_with(|| Acl {
            kind: kind_value.emptied(),
            lines: Vec::new(),
            values: Vec::new(),
            value_lines: Vec::new(),
            type_name: kind.to_string(),
        });
        acl.lines.push(number);
        acl.value_lines
            .extend(std::iter::repeat_n(number, values.len()));
        acl.values.extend(values);
        // Several lines add to one ACL, value by value, as squid adds them.
        let merged = acl.kind.merge(kind_value, self.version, &mut warnings);
        for w in warnings {
            self.warnings.push(ConfigError {
                file: file.to_string(),
                line,
                message: format!("acl `{name}`: {w}"),
            });
        }
        if let Err(m) = merged {
            self.error(file, line, format!("acl `{name}`: {m}"));
        }
    }

    fn check_references(&mut self) {
        let mut missing = Vec::new();
        for a in &self.access {
            for name in &a.acls {
                let bare = name.trim_start_matches('!');
                if !self.acls.contains_key(&bare.to_ascii_lowercase()) {
                    missing.push((a.file.clone(), a.line, bare.to_string()));
                }
            }
        }
        for (file, line, name) in missing {
            self.error(
                &file,
                line,
                format!("`http_access` uses undefined acl `{name}`"),
            );
        }
    }
}

/// A squid configuration loaded for the library API.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    inner: SquidConfig,
}

impl ProxyConfig {
    /// The parsed configuration, for the host's own evaluators (replay).
    #[doc(hidden)]
    pub fn parsed(&self) -> &SquidConfig {
        &self.inner
    }

    /// Reads a squid configuration file. `include` and `hosts_file` are
    /// followed only to regular files inside the file's directory (relative
    /// paths are relative to the including file); the file itself must be a
    /// regular file of at most 16 MiB. It is read as squid
    /// [`SquidVersion::DEFAULT`] reads it.
    pub fn from_file(path: impl AsRef<Path>) -> Result<ProxyConfig, crate::Error> {
        ProxyConfig::from_file_with(path, &SquidOptions::default())
    }

    /// [`ProxyConfig::from_file`] for a given squid release and known names.
    pub fn from_file_with(
        path: impl AsRef<Path>,
        options: &SquidOptions,
    ) -> Result<ProxyConfig, crate::Error> {
        let path = path.as_ref();
        let cannot = |why: String| {
            crate::Error::new(
                crate::ErrorKind::Input,
                format!("cannot read `{}`: {why}", path.display()),
            )
        };
        let canonical = std::fs::canonicalize(path).map_err(|e| cannot(e.to_string()))?;
        let text = read_regular(&canonical, MAX_FILE_BYTES).map_err(|r| {
            cannot(match r {
                Refusal::NotRegular => "not a regular file".into(),
                Refusal::TooLarge => format!("larger than {} MiB", MAX_FILE_BYTES >> 20),
                Refusal::Outside => "outside its directory".into(),
                Refusal::Unresolved(e) | Refusal::Unreadable(e) => e,
            })
        })?;
        let files = Files::Confined {
            root: parent_dir(path),
        };
        Ok(ProxyConfig {
            inner: SquidConfig::parse_with(&path.display().to_string(), &text, &files, 0, options),
        })
    }

    /// Problems in the configuration, as `file:line: message`.
    pub fn errors(&self) -> Vec<String> {
        self.inner
            .errors
            .iter()
            .map(|e| format!("{}:{}: {}", e.file, e.line, e.message))
            .collect()
    }

    /// What squid accepts with a warning that changes what the
    /// configuration means (an ACL value it ignores), as `file:line:
    /// message`.
    pub fn warnings(&self) -> Vec<String> {
        self.inner
            .warnings
            .iter()
            .map(|e| format!("{}:{}: {}", e.file, e.line, e.message))
            .collect()
    }

    /// The lines (in the top-level file or its includes, each in its own
    /// file) with problems.
    pub fn error_lines(&self) -> Vec<u32> {
        self.inner.errors.iter().map(|e| e.line).collect()
    }

    /// The `http_port` listeners.
    pub fn listeners(&self) -> &[Listener] {
        &self.inner.listeners
    }

    /// The squid release the configuration is read as.
    pub fn version(&self) -> SquidVersion {
        self.inner.version
    }

    /// Whether `client` may send `method` to `host:port` (through the squid
    /// port `local_port`, when it matters), and which line decides:
    /// `CONNECT host:port`, or `METHOD http://host:port/`.
    pub fn trace(
        &self,
        client: IpAddr,
        method: &str,
        host: &str,
        port: u16,
        local_port: Option<u16>,
    ) -> ProxyVerdict {
        let local_port = local_port.or_else(|| self.inner.listeners.first().map(|l| l.port));
        self.inner.evaluate(&ProxyRequest::to_host(
            client, method, host, port, local_port,
        ))
    }

    /// Whether `client` may send `method` (not CONNECT) for an absolute
    /// URL, so that URL, path and scheme ACLs are evaluated too.
    pub fn trace_url(
        &self,
        client: IpAddr,
        method: &str,
        url: &str,
        local_port: Option<u16>,
    ) -> Result<ProxyVerdict, crate::Error> {
        let local_port = local_port.or_else(|| self.inner.listeners.first().map(|l| l.port));
        let req = ProxyRequest::to_url(client, method, url, local_port)
            .map_err(|m| crate::Error::new(crate::ErrorKind::Input, m))?;
        Ok(self.inner.evaluate(&req))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> SquidConfig {
        let c = SquidConfig::parse("squid.conf", text, &Files::None, 0);
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        c
    }

    fn req(client: &str, method: &str, host: &str, port: u16) -> ProxyRequest {
        ProxyRequest::to_host(client.parse().unwrap(), method, host, port, Some(3128))
    }

    #[test]
    fn first_match_wins_and_the_implicit_rule_is_the_opposite_of_the_last() {
        let c = config(
            "acl clients src 10.0.0.0/8\nacl good dstdomain .example.com\nacl SSL_ports port 443\nacl CONNECT method CONNECT\nhttp_access deny CONNECT !SSL_ports\nhttp_access allow clients good\n",
        );
        let v = c.evaluate(&req("10.1.1.1", "GET", "www.example.com", 80));
        assert!(v.allowed);
        assert_eq!(v.line.unwrap().line, 6);
        let v = c.evaluate(&req("10.1.1.1", "CONNECT", "example.com", 22));
        assert!(!v.allowed);
        assert_eq!(v.line.unwrap().line, 5);
        // Last line is allow: the implicit rule denies.
        let v = c.evaluate(&req("192.168.1.1", "GET", "example.com", 80));
        assert!(!v.allowed && v.line.is_none());
        // Last line deny: the implicit rule allows.
        let c = config("acl bad dstdomain .evil.test\nhttp_access deny bad\n");
        assert!(
            c.evaluate(&req("192.168.1.1", "GET", "fine.test", 80))
                .allowed
        );
        // No lines: deny.
        assert!(
            !config("http_port 3128\n")
                .evaluate(&req("10.0.0.1", "GET", "a.test", 80))
                .allowed
        );
    }

    #[test]
    fn acl_lines_add_up_and_leading_dots_match_subdomains() {
        let c = config(
            "acl ok dstdomain api.test\nacl ok dstdomain .cdn.test\nhttp_access allow ok\nhttp_access deny all\n",
        );
        assert!(c.evaluate(&req("1.1.1.1", "GET", "api.test", 80)).allowed);
        assert!(c.evaluate(&req("1.1.1.1", "GET", "cdn.test", 80)).allowed);
        assert!(c.evaluate(&req("1.1.1.1", "GET", "x.cdn.test", 80)).allowed);
        assert!(!c.evaluate(&req("1.1.1.1", "GET", "x.api.test", 80)).allowed);
        assert_eq!(c.acls["ok"].lines, [1, 2]);
    }

    #[test]
    fn malformed_lines_and_undefined_acls_are_errors_with_lines() {
        let c = SquidConfig::parse(
            "s.conf",
            "acl a src 300.1.1.1\nhttp_access permit all\nhttp_access allow nobody\nhttp_port abc\n",
            &Files::None,
            0,
        );
        let lines: Vec<u32> = c.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [1, 2, 4, 3], "{:?}", c.errors);
    }

    /// A temporary tree: `root/` (the configuration's directory) and files
    /// beside it, outside the root.
    struct Tree {
        dir: tempfile::TempDir,
    }

    impl Tree {
        fn new() -> Tree {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir(dir.path().join("root")).unwrap();
            Tree { dir }
        }

        fn path(&self, rel: &str) -> PathBuf {
            self.dir.path().join(rel)
        }

        fn write(&self, rel: &str, text: &str) -> PathBuf {
            let p = self.path(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, text).unwrap();
            p
        }

        /// Parses `root/squid.conf` as a file of the inputs.
        fn parse(&self, text: &str) -> SquidConfig {
            let conf = self.write("root/squid.conf", text);
            let name = conf.display().to_string();
            SquidConfig::parse(
                &name,
                text,
                &Files::Confined {
                    root: self.path("root"),
                },
                0,
            )
        }
    }

    fn messages(c: &SquidConfig) -> Vec<String> {
        c.errors
            .iter()
            .map(|e| {
                let base = e.file.rsplit('/').next().unwrap_or("");
                format!("{base}:{}: {}", e.line, e.message)
            })
            .collect()
    }

    #[test]
    fn an_embedded_config_reads_no_hosts_file() {
        let tree = Tree::new();
        let hosts = tree.write("hosts", "127.0.0.9 only-in-the-hosts-file.test\n");
        let text = format!(
            "hosts_file {}\nacl loop dst 127.0.0.9/32\nhttp_access allow loop\nhttp_access deny all\n",
            hosts.display()
        );
        let embedded = config(&text);
        assert!(embedded.hosts.is_empty(), "{:?}", embedded.hosts);
        // Unread, the hosts file gives the name no address: the `dst`
        // allow depends on DNS (never a silent miss).
        let v = embedded.evaluate(&req("10.0.0.1", "GET", "only-in-the-hosts-file.test", 80));
        assert!(v.allowed && v.depends_on_dns, "{}", v.reason);
        assert_eq!(v.outcomes.len(), 2, "{:?}", v.outcomes);
        // The same lines in a file configuration whose hosts file lies
        // inside its root do resolve the name.
        let hosts_in_root = tree.write("root/hosts", "127.0.0.9 only-in-the-hosts-file.test\n");
        let file = tree.parse(&text.replace(
            &hosts.display().to_string(),
            &hosts_in_root.display().to_string(),
        ));
        assert!(file.errors.is_empty(), "{:?}", file.errors);
        let v = file.evaluate(&req("10.0.0.1", "GET", "only-in-the-hosts-file.test", 80));
        assert!(v.allowed && !v.depends_on_dns, "{}", v.reason);
    }

    #[test]
    fn an_embedded_config_follows_no_include_and_no_acl_file() {
        let tree = Tree::new();
        let inc = tree.write("inc.conf", "http_access allow all\n");
        let c = SquidConfig::parse(
            "cm.yaml",
            &format!(
                "include {}\nacl a dstdomain \"{}\"\n",
                inc.display(),
                inc.display()
            ),
            &Files::None,
            10,
        );
        let m = messages(&c);
        assert_eq!(m.len(), 2, "{m:?}");
        assert!(m[0].starts_with("cm.yaml:11: `include ") && m[0].contains("embedded"));
        assert!(m[1].starts_with("cm.yaml:12: acl `a`: values from files"));
        assert!(c.access.is_empty() && c.included.is_empty());
    }

    #[test]
    fn a_file_config_includes_nothing_outside_its_directory() {
        let tree = Tree::new();
        let outside = tree.write("outside.conf", "http_access allow all\n");
        std::os::unix::fs::symlink(&outside, tree.path("root/link.conf")).unwrap();
        std::os::unix::fs::symlink(tree.dir.path(), tree.path("root/up")).unwrap();
        let c = tree.parse(&format!(
            "include ../outside.conf\ninclude {}\ninclude link.conf\ninclude up/outside.conf\ninclude /etc/hostname\ninclude ../no-such-file.conf\nhosts_file ../outside.conf\n",
            outside.display()
        ));
        // The same answer whether the outside file exists or not: errors
        // tell nothing about host paths.
        let m = messages(&c);
        assert_eq!(m.len(), 6, "{m:?}");
        for (i, m) in m.iter().enumerate() {
            assert!(
                m.starts_with(&format!("squid.conf:{}: `include ", i + 1))
                    && m.contains("is outside `")
                    && m.contains("Palisade reads no file outside it"),
                "{m}"
            );
        }
        assert!(c.access.is_empty(), "{:?}", c.access);
        assert!(c.included.is_empty());
    }

    #[test]
    fn includes_inside_the_directory_are_read_relative_to_the_including_file() {
        let tree = Tree::new();
        tree.write(
            "root/conf.d/a.conf",
            "# a\ninclude b.conf\nacl clients src 10.0.0.0/8\n",
        );
        tree.write("root/conf.d/b.conf", "http_port 3128\n");
        let last = tree.write("root/last.conf", "http_access allow clients\n");
        let c = tree.parse(&format!(
            "include conf.d/a.conf\ninclude {}\nhttp_access deny all\n",
            last.display()
        ));
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        // Top-level lines 1-3 keep their numbers; a.conf (3 lines) gets 4-6,
        // b.conf (included from a.conf line 2) 7, last.conf 8.
        let included: Vec<(String, u32, u32)> = c
            .included
            .iter()
            .map(|f| {
                (
                    f.name.rsplit('/').next().unwrap().to_string(),
                    f.first,
                    f.lines,
                )
            })
            .collect();
        assert_eq!(
            included,
            [
                ("a.conf".to_string(), 4, 3),
                ("b.conf".to_string(), 7, 1),
                ("last.conf".to_string(), 8, 1)
            ]
        );
        assert!(c.included[0].name.ends_with("root/conf.d/a.conf"));
        let l = &c.listeners[0];
        assert_eq!((l.line, l.number), (1, 7));
        assert!(l.file.ends_with("root/conf.d/b.conf"), "{}", l.file);
        assert_eq!(c.acls["clients"].lines, [6]);
        let allow = &c.access[0];
        assert_eq!((allow.line, allow.number), (1, 8));
        assert!(allow.file.ends_with("root/last.conf"));
        let deny = &c.access[1];
        assert_eq!((deny.line, deny.number), (3, 3));
        let v = c.evaluate(&req("10.1.1.1", "GET", "a.test", 80));
        assert!(
            v.allowed && v.reason.contains("last.conf:1:"),
            "{}",
            v.reason
        );
    }

    #[test]
    fn a_root_named_through_a_symlink_contains_its_files_by_either_path() {
        let tree = Tree::new();
        std::os::unix::fs::symlink(tree.path("root"), tree.path("alias")).unwrap();
        tree.write("root/a.conf", "http_port 3128\n");
        tree.write("root/b.conf", "http_port 3129\n");
        let text = format!(
            "include {}\ninclude {}\n",
            tree.path("alias/a.conf").display(),
            tree.path("root/b.conf").display()
        );
        let conf = tree.path("alias/squid.conf");
        let c = SquidConfig::parse(
            &conf.display().to_string(),
            &text,
            &Files::Confined {
                root: tree.path("alias"),
            },
            0,
        );
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        let ports: Vec<u16> = c.listeners.iter().map(|l| l.port).collect();
        assert_eq!(ports, [3128, 3129]);
        // Named relative to the root as named.
        assert!(c.listeners[0].file.ends_with("alias/a.conf"));
    }

    #[test]
    fn include_cycles_are_errors_naming_the_cycle() {
        let tree = Tree::new();
        let r = tree.path("root").display().to_string();
        // Four self-includes: 4^16 parses before cycles were detected.
        let c = tree.parse(&"include squid.conf\n".repeat(4));
        let want: Vec<String> = (1..=4)
            .map(|n| {
                format!(
                    "squid.conf:{n}: `include squid.conf` makes a cycle: {r}/squid.conf includes {r}/squid.conf"
                )
            })
            .collect();
        assert_eq!(messages(&c), want);
        tree.write("root/a.conf", &"include b.conf\n".repeat(4));
        tree.write("root/b.conf", &"include a.conf\n".repeat(4));
        let c = tree.parse(&"include a.conf\n".repeat(4));
        // Each cycle is reported once per line, however often the file
        // with the line was included.
        let want: Vec<String> = (1..=4)
            .map(|n| {
                format!(
                    "b.conf:{n}: `include a.conf` makes a cycle: {r}/a.conf includes {r}/b.conf includes {r}/a.conf"
                )
            })
            .collect();
        assert_eq!(messages(&c), want);
    }

    #[test]
    fn a_fifo_is_not_read() {
        let tree = Tree::new();
        let fifo = tree.path("root/pipe.conf");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let c = tree.parse("include pipe.conf\nhosts_file pipe.conf\n");
        let m = messages(&c);
        assert_eq!(m.len(), 2, "{m:?}");
        assert!(m[0].starts_with("squid.conf:1: `include pipe.conf`: not a regular file"));
        assert!(m[1].starts_with("squid.conf:2: `hosts_file pipe.conf`: not a regular file"));
        // A directory adds nothing, as in squid.
        let c = tree.parse("include .\n");
        assert!(
            c.errors.is_empty() && c.included.is_empty(),
            "{:?}",
            c.errors
        );
    }

    #[test]
    fn lines_and_includes_are_budgeted_across_files() {
        let tree = Tree::new();
        // 60 includes of a 20 000-line file: 1.2 million lines.
        tree.write("root/big.conf", &"# comment\n".repeat(20_000));
        let c = tree.parse(&"include big.conf\n".repeat(60));
        let m = messages(&c);
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].starts_with("big.conf:")
                && m[0].contains("longer than 1000000 lines with the files it includes"),
            "{m:?}"
        );
        // Halted: no include after the budget ran out was followed.
        assert!(c.included.len() < 60);
        tree.write("root/empty.conf", "");
        // Each `include` counts, and so does each file it reads.
        let c = tree.parse(&"include empty.conf\n".repeat(MAX_INCLUDES + 5));
        let m = messages(&c);
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].starts_with(&format!(
                "squid.conf:{}: `include empty.conf`: more than {MAX_INCLUDES} includes",
                MAX_INCLUDES / 2 + 1
            )),
            "{m:?}"
        );
        // Includes that fail are not free: a million of them would cost a
        // million resolutions (or pattern walks).
        let c = tree.parse(&"include missing-*.conf\n".repeat(MAX_INCLUDES + 5));
        let m = messages(&c);
        assert_eq!(m.len(), MAX_INCLUDES + 1, "{:?}", m.last());
        assert!(
            m[MAX_INCLUDES].starts_with(&format!(
                "squid.conf:{}: `include missing-*.conf`: more than {MAX_INCLUDES} includes",
                MAX_INCLUDES + 1
            )),
            "{:?}",
            m.last()
        );
        // `hosts_file` reads count too: a million of them cost a million
        // opens otherwise, each silent.
        let c = tree.parse(&"hosts_file empty.conf\n".repeat(MAX_INCLUDES + 5));
        let m = messages(&c);
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].starts_with(&format!(
                "squid.conf:{}: `hosts_file empty.conf`: more than {MAX_INCLUDES} files read",
                MAX_INCLUDES + 1
            )),
            "{m:?}"
        );
    }

    fn config_as(version: &str, text: &str) -> SquidConfig {
        let options = SquidOptions {
            version: version.parse().unwrap(),
            ..SquidOptions::default()
        };
        SquidConfig::parse_with("squid.conf", text, &Files::None, 0, &options)
    }

    #[test]
    fn predefined_acls_follow_the_version() {
        let text = "http_access deny to_linklocal\nhttp_access allow all\n";
        let old = config_as("5.7", text);
        assert_eq!(
            messages(&old),
            ["squid.conf:1: `http_access` uses undefined acl `to_linklocal`"]
        );
        for v in ["5.8", "6", "6.13", "7"] {
            let c = config_as(v, text);
            assert!(c.errors.is_empty(), "{v}: {:?}", c.errors);
            for (host, allowed) in [
                ("169.254.169.254", false),
                ("fe80::1", false),
                ("10.0.0.1", true),
            ] {
                let verdict = c.evaluate(&req("10.0.0.1", "GET", host, 80));
                assert_eq!(verdict.allowed, allowed, "{v} {host}: {}", verdict.reason);
            }
        }
        // Squid 7 has no cache_object:// scheme: `manager` is the
        // squid-internal-mgr URLs only.
        let text = "http_access deny manager\nhttp_access allow all\n";
        let mgr = |v: &str, url: &str| {
            let r = ProxyRequest::to_url("127.0.0.1".parse().unwrap(), "GET", url, None).unwrap();
            config_as(v, text).evaluate(&r).allowed
        };
        assert!(!mgr("6", "cache_object://127.0.0.1/info"));
        assert!(mgr("7", "cache_object://127.0.0.1/info"));
        for v in ["5.7", "6", "7"] {
            assert!(
                !mgr(v, "http://127.0.0.1:3128/squid-internal-mgr/info"),
                "{v}"
            );
            assert!(!mgr(v, "https://proxy.test/squid-internal-mgr/menu"), "{v}");
            assert!(mgr(v, "http://example.com/other"), "{v}");
        }
    }

    #[test]
    fn a_name_without_a_known_address_depends_on_dns() {
        let text = "acl clients src 10.0.0.0/8\nhttp_access deny to_localhost\nhttp_access allow clients\nhttp_access deny all\n";
        let c = config(text);
        // `localhost` resolves as squid's default /etc/hosts says.
        let v = c.evaluate(&req("10.1.1.1", "GET", "localhost", 10249));
        assert!(!v.allowed && !v.depends_on_dns, "{}", v.reason);
        assert_eq!(v.line.unwrap().line, 2);
        // Any other name might resolve to loopback: both outcomes.
        let v = c.evaluate(&req("10.1.1.1", "GET", "example.com", 80));
        assert!(v.allowed && v.depends_on_dns, "{}", v.reason);
        let got: Vec<(bool, Option<u32>)> = v
            .outcomes
            .iter()
            .map(|o| (o.allowed, o.line.as_ref().map(|l| l.line)))
            .collect();
        assert_eq!(got, [(false, Some(2)), (true, Some(3))]);
        assert_eq!(
            v.outcomes[0].assuming,
            ["`example.com` resolves to an address in acl `to_localhost`"]
        );
        // The allowing outcome is the deciding line.
        assert_eq!(v.line.unwrap().line, 3);
        // `.invalid` never resolves (RFC 6761).
        let v = c.evaluate(&req("10.1.1.1", "GET", "canary.invalid", 80));
        assert!(v.allowed && !v.depends_on_dns, "{}", v.reason);
        // A known address makes the answer definite.
        let options = SquidOptions {
            hosts: BTreeMap::from([(
                "example.com".to_string(),
                vec!["127.0.0.2".parse().unwrap()],
            )]),
            ..SquidOptions::default()
        };
        let known = SquidConfig::parse_with("squid.conf", text, &Files::None, 0, &options);
        let v = known.evaluate(&req("10.1.1.1", "GET", "example.com", 80));
        assert!(!v.allowed && !v.depends_on_dns, "{}", v.reason);
        // Outcomes that agree are one verdict, not "depends".
        let c = config(
            "acl clients src 10.0.0.0/8\nhttp_access deny to_localhost\nhttp_access deny all\n",
        );
        let v = c.evaluate(&req("10.1.1.1", "GET", "example.com", 80));
        assert!(!v.allowed && !v.depends_on_dns, "{}", v.reason);
        assert_eq!(v.outcomes.len(), 2);
        assert!(
            v.reason.starts_with("denied whatever DNS answers"),
            "{}",
            v.reason
        );
        // A negated unknown is unknown too.
        let c = config("http_access allow !to_localhost\nhttp_access deny all\n");
        let v = c.evaluate(&req("10.1.1.1", "GET", "example.com", 80));
        assert!(v.allowed && v.depends_on_dns, "{}", v.reason);
        assert!(
            v.outcomes[0].assuming[0].starts_with("not: "),
            "{:?}",
            v.outcomes
        );
    }

    #[test]
    fn many_dns_dependent_lines_give_a_bounded_verdict() {
        let mut text = String::new();
        for i in 0..20_000 {
            text.push_str(&format!("acl d{i} dst 10.{}.{}.0/24\n", i / 256, i % 256));
            text.push_str(&format!("http_access deny d{i}\n"));
        }
        text.push_str("http_access allow all\n");
        let c = config(&text);
        let start = std::time::Instant::now();
        let v = c.evaluate(&req("10.1.1.1", "GET", "example.com", 80));
        assert!(v.allowed && v.depends_on_dns, "{}", &v.reason[..200]);
        assert!(v.outcomes.len() <= 10, "{}", v.outcomes.len());
        assert!(v.outcomes.iter().all(|o| o.assuming.len() <= 6));
        assert!(v.reason.len() < 10_000, "{}", v.reason.len());
        // Both verdicts are listed, the allowing one last.
        assert!(v.outcomes.iter().any(|o| !o.allowed));
        assert!(
            v.outcomes
                .last()
                .is_some_and(|o| o.allowed && o.line.is_some())
        );
        assert!(
            v.reason.contains("more outcomes like these"),
            "{}",
            &v.reason[..200]
        );
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn reverse_lookups_of_public_ip_literals_depend_on_dns() {
        let c = config(
            "acl ok dstdomain .allowed.test\nacl okn dstdomain -n .other.test\nhttp_access allow ok\nhttp_access deny all\n",
        );
        // Its PTR record is whoever owns the address: it may name
        // anything.allowed.test.
        let v = c.evaluate(&req("10.1.1.1", "GET", "203.0.114.7", 80));
        assert!(v.allowed && v.depends_on_dns, "{}", v.reason);
        assert!(
            v.outcomes[0].assuming[0].contains("reverse lookup of `203.0.114.7`"),
            "{:?}",
            v.outcomes
        );
        // Internal addresses' names are the operator's: no name assumed.
        for internal in ["10.0.0.9", "169.254.169.254", "127.0.0.1", "fd00::1"] {
            let v = c.evaluate(&req("10.1.1.1", "GET", internal, 80));
            assert!(!v.allowed && !v.depends_on_dns, "{internal}: {}", v.reason);
        }
        // `-n`: no lookup at all.
        let c = config(
            "acl okn dstdomain -n .other.test\nhttp_access allow okn\nhttp_access deny all\n",
        );
        let v = c.evaluate(&req("10.1.1.1", "GET", "203.0.114.7", 80));
        assert!(!v.allowed && !v.depends_on_dns, "{}", v.reason);
    }

    #[test]
    fn url_path_scheme_and_case_switches() {
        let c = config(
            "acl api urlpath_regex ^/api/\nacl img url_regex -i \\.PNG$ +i /Big/\nacl tls proto HTTPS\nhttp_access allow api\nhttp_access allow img\nhttp_access allow tls\nhttp_access deny all\n",
        );
        let ask = |method: &str, url: &str| {
            let r = ProxyRequest::to_url("10.0.0.1".parse().unwrap(), method, url, None).unwrap();
            c.evaluate(&r).allowed
        };
        assert!(ask("GET", "http://a.test/api/v1?q=1"));
        assert!(!ask("GET", "http://a.test/v1/api/"));
        assert!(ask("GET", "http://a.test/logo.png"));
        assert!(ask("GET", "http://a.test/logo.PnG"));
        // `+i` made the second pattern case-sensitive again.
        assert!(ask("GET", "http://cdn.test/Big/x"));
        assert!(!ask("GET", "http://cdn.test/big/x"));
        assert_eq!(c.acls["img"].values, ["\\.PNG$", "/Big/"]);
        assert!(ask("GET", "https://b.test/"));
        assert!(!ask("GET", "http://b.test/"));
        // CONNECT has no path and the protocol NONE.
        let v = c.evaluate(&req("10.0.0.1", "CONNECT", "a.test", 443));
        assert!(!v.allowed, "{}", v.reason);
        let c = config(
            "acl none proto NONE\nacl any_path urlpath_regex .*\nhttp_access allow none !any_path\nhttp_access deny all\n",
        );
        assert!(
            c.evaluate(&req("10.0.0.1", "CONNECT", "a.test", 443))
                .allowed
        );
        assert!(!c.evaluate(&req("10.0.0.1", "GET", "a.test", 80)).allowed);
    }

    #[test]
    fn address_syntax_squid_accepts() {
        let c = config(
            "acl localnet src 0.0.0.1-0.255.255.255 10.0.0.0/255.0.0.0 fc00::/7\nhttp_access allow localnet\nhttp_access deny all\n",
        );
        for (client, allowed) in [
            ("0.1.2.3", true),
            ("10.200.0.1", true),
            ("fd12::1", true),
            ("0.0.0.0", false),
            ("11.0.0.1", false),
        ] {
            assert_eq!(
                c.evaluate(&req(client, "GET", "a.test", 80)).allowed,
                allowed,
                "{client}"
            );
        }
        // `::/0` is accepted (as squid does) and matches nothing.
        let c = SquidConfig::parse("s.conf", "acl x src ::/0\n", &Files::None, 0);
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        let c = SquidConfig::parse("s.conf", "acl x src [::1]\n", &Files::None, 0);
        assert_eq!(messages(&c), ["s.conf:1: acl `x`: invalid address `[::1]`"]);
    }

    #[test]
    fn acl_values_are_added_as_squid_adds_them() {
        // The broader network written second is ignored: 10.2.0.1 is not
        // in `a`.
        let c = config(
            "acl a src 10.1.0.0/16\nacl a src 10.0.0.0/8 10.1.2.3\nhttp_access allow a\nhttp_access deny all\n",
        );
        assert!(c.evaluate(&req("10.1.9.9", "GET", "x.test", 80)).allowed);
        assert!(!c.evaluate(&req("10.2.0.1", "GET", "x.test", 80)).allowed);
        let w: Vec<String> = c
            .warnings
            .iter()
            .map(|e| format!("{}: {}", e.line, e.message))
            .collect();
        assert_eq!(
            w,
            [
                "2: acl `a`: `10.0.0.0/8` overlaps `10.1.0.0/16`: squid ignores `10.0.0.0/8` (remove one of them)",
                "2: acl `a`: `10.1.2.3` overlaps `10.1.0.0/16`: squid ignores `10.1.2.3` (remove one of them)",
            ]
        );
        // Domains: duplicates are dropped, a name under a wildcard already
        // there is ignored with a warning…
        let c = config(
            "acl d dstdomain .example.com www.example.com .example.com .a.example.com\nhttp_access allow d\n",
        );
        assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
        match &c.acls["d"].kind {
            AclKind::DstDomain(d, _) => assert_eq!(d, &[".example.com"]),
            other => panic!("{other:?}"),
        }
        // …and the orders squid refuses are errors at their line.
        for (text, bad) in [
            (
                "acl d dstdomain www.example.com .example.com\n",
                "`www.example.com` is a subdomain of `.example.com`",
            ),
            (
                "acl d dstdomain example.com\nacl d dstdomain .EXAMPLE.com\n",
                "`.example.com` is a subdomain of `example.com`",
            ),
            (
                "acl d dstdomain .example.com example.com\n",
                "`.example.com` is a subdomain of `example.com`",
            ),
            (
                "acl d dstdomain x.y.example.com .y.example.com\n",
                "`x.y.example.com` is a subdomain of `.y.example.com`",
            ),
        ] {
            let c = SquidConfig::parse("s.conf", text, &Files::None, 0);
            let m = messages(&c);
            let line = text.lines().count();
            assert!(
                m.len() == 1 && m[0].starts_with(&format!("s.conf:{line}: acl `d`: {bad}")),
                "{text}: {m:?}"
            );
        }
    }

    #[test]
    fn squid_7_keeps_every_value() {
        let text = "acl n src 10.1.0.0/16\nacl n src 10.0.0.0/8\nacl d dstdomain www.example.com .example.com\nhttp_access allow n\nhttp_access deny all\n";
        let six = config_as("6", text);
        assert_eq!(six.errors.len(), 1, "{:?}", six.errors);
        assert!(!six.evaluate(&req("10.2.3.4", "GET", "a.test", 80)).allowed);
        let seven = config_as("7", text);
        assert!(seven.errors.is_empty(), "{:?}", seven.errors);
        assert!(
            seven
                .evaluate(&req("10.2.3.4", "GET", "a.test", 80))
                .allowed
        );
        assert_eq!(seven.warnings.len(), 2, "{:?}", seven.warnings);
    }

    #[test]
    fn acl_names_are_case_insensitive() {
        let c = config(
            "acl Clients src 10.0.0.0/8\nacl CLIENTS src 192.168.0.0/16\nhttp_access allow clients\nhttp_access deny ALL\n",
        );
        assert!(c.evaluate(&req("192.168.1.1", "GET", "a.test", 80)).allowed);
        assert_eq!(c.acls["clients"].lines, [1, 2]);
    }

    #[test]
    fn names_hosts_files_and_several_includes() {
        let tree = Tree::new();
        tree.write("root/a.hosts", "127.0.0.1 x.test\n");
        tree.write("root/b.hosts", "10.0.0.1 x.test\n");
        tree.write("root/one.conf", "acl one src 10.1.0.0/16\n");
        tree.write("root/two.conf", "acl two src 10.2.0.0/16\n");
        // The last `hosts_file` is the one squid reads.
        let c = tree.parse("hosts_file a.hosts\nhosts_file b.hosts\nhttp_access deny to_localhost\nhttp_access allow all\n");
        assert!(c.evaluate(&req("10.0.0.1", "GET", "x.test", 80)).allowed);
        // `none`: not even localhost is known.
        let c =
            tree.parse("hosts_file none\nhttp_access deny to_localhost\nhttp_access allow all\n");
        let v = c.evaluate(&req("10.0.0.1", "GET", "localhost", 80));
        assert!(v.depends_on_dns, "{}", v.reason);
        // Every argument of `include` is read.
        let c =
            tree.parse("include one.conf two.conf\nhttp_access allow one\nhttp_access allow two\n");
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        assert_eq!(c.included.len(), 2);
        // Names in address ACLs resolve like request hosts.
        let c = config(
            "acl lh dst localhost\nacl far src build.example.com\nhttp_access deny lh\nhttp_access allow far\nhttp_access deny all\n",
        );
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        assert!(!c.evaluate(&req("10.0.0.1", "GET", "127.0.0.1", 80)).allowed);
        let v = c.evaluate(&req("10.0.0.1", "GET", "10.9.9.9", 80));
        assert!(v.allowed && v.depends_on_dns, "{}", v.reason);
        assert!(
            v.outcomes[0].assuming[0].contains("`build.example.com` (in acl `far`)"),
            "{:?}",
            v.outcomes
        );
        // The reverse name of loopback is localhost, as /etc/hosts says.
        let c = config("acl l dstdomain localhost\nhttp_access deny l\nhttp_access allow all\n");
        assert!(!c.evaluate(&req("10.0.0.1", "GET", "127.0.0.1", 80)).allowed);
    }

    #[test]
    fn include_patterns_share_one_budget_of_directory_entries() {
        let tree = Tree::new();
        for i in 0..40 {
            tree.write(&format!("root/d/f{i:02}.txt"), "");
        }
        for i in 0..8 {
            std::os::unix::fs::symlink(".", tree.path(&format!("root/d/s{i}"))).unwrap();
        }
        // 48 entries per directory, four levels of symlinks back to it:
        // 48^4 entries for one pattern if nothing stopped it.
        let c = tree.parse(&"include d/*/*/*/*/nomatch\n".repeat(50));
        let m = messages(&c);
        assert!(
            m.iter().any(|m| m.contains(&format!(
                "more than {} directory entries",
                files::MAX_GLOB_ENTRIES
            ))),
            "{:?}",
            &m[..m.len().min(3)]
        );
    }

    #[test]
    fn include_patterns_list_no_directory_outside_the_root() {
        let tree = Tree::new();
        tree.write("outside/evil.conf", "http_access allow all\n");
        tree.write("root/d/real/ok.conf", "acl ok src 10.0.0.0/8\n");
        // A directory in the middle of the pattern that leads out.
        std::os::unix::fs::symlink(tree.path("outside"), tree.path("root/d/escape")).unwrap();
        let c = tree.parse("include d/*/*.conf\n");
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        let names: Vec<&str> = c.included.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(names[0].ends_with("root/d/real/ok.conf"), "{names:?}");
        assert!(c.access.is_empty());
        // Many stars in one name would make the matcher backtrack for long.
        tree.write(&format!("root/d/{}.conf", "a".repeat(200)), "");
        let c = tree.parse(&format!("include d/{}b\n", "*a".repeat(30)));
        let m = messages(&c);
        assert!(m.len() == 1 && m[0].contains("more than 8 `*`"), "{m:?}");
    }

    #[test]
    fn include_patterns_read_matches_in_byte_order() {
        let tree = Tree::new();
        tree.write("root/conf.d/b.conf", "acl b src 10.0.0.2\n");
        tree.write("root/conf.d/a-1.conf", "acl a src 10.0.0.1\n");
        tree.write("root/conf.d/A.conf", "acl upper src 10.0.0.3\n");
        tree.write("root/conf.d/.hidden.conf", "http_access allow all\n");
        tree.write("root/conf.d/notes.txt", "http_access allow all\n");
        tree.write("outside.conf", "http_access allow all\n");
        let c = tree.parse("include conf.d/*.conf\nhttp_access deny all\n");
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        let names: Vec<&str> = c
            .included
            .iter()
            .map(|f| f.name.rsplit('/').next().unwrap())
            .collect();
        assert_eq!(names, ["A.conf", "a-1.conf", "b.conf"]);
        assert_eq!(c.access.len(), 1);
        // A pattern matching nothing is an error at its line.
        let c = tree.parse("include none.d/*.conf\n");
        assert_eq!(
            messages(&c),
            [
                "squid.conf:1: `include none.d/*.conf`: no file matches the pattern (squid stops: \"Unable to find configuration file\")"
            ]
        );
        // A match that is a symlink out of the root is refused.
        std::os::unix::fs::symlink(tree.path("outside.conf"), tree.path("root/conf.d/z.conf"))
            .unwrap();
        let c = tree.parse("include conf.d/*.conf\n");
        let m = messages(&c);
        assert!(
            m.len() == 1 && m[0].contains("Palisade reads no file outside it"),
            "{m:?}"
        );
        // A pattern that climbs out is refused before anything is listed.
        let c = tree.parse("include ../*.conf\n");
        let m = messages(&c);
        assert!(m.len() == 1 && m[0].contains("is outside"), "{m:?}");
    }

    #[test]
    fn included_lines_map_back_to_their_file() {
        let mut map = LineMap::default();
        map.insert(
            3,
            vec![
                LineRange {
                    first: 11,
                    lines: 2,
                    file: 7,
                },
                LineRange {
                    first: 13,
                    lines: 0,
                    file: 8,
                },
                LineRange {
                    first: 13,
                    lines: 5,
                    file: 9,
                },
            ],
        );
        assert_eq!(map.origin(3, 10), None);
        assert_eq!(map.origin(3, 11), Some((7, 1)));
        assert_eq!(map.origin(3, 12), Some((7, 2)));
        assert_eq!(map.origin(3, 13), Some((9, 1)));
        assert_eq!(map.origin(3, 17), Some((9, 5)));
        assert_eq!(map.origin(3, 18), None);
        assert_eq!(map.origin(4, 12), None);
    }
}

/// The squid configurations of the inputs, parsed, each with its object
/// (the ConfigMap, or the object standing for the file) and file name.
#[derive(Debug, Default)]
pub struct Proxies {
    pub configs: Vec<(SquidConfig, crate::facts::ObjectId, String)>,
}

impl Proxies {
    /// Finds squid configurations: `squid.conf` files and the `squid.conf`
    /// key of ConfigMaps. Problems are diagnostics with file and line.
    ///
    /// `files` gives the access rule of each squid configuration file
    /// (ConfigMaps always get [`Files::None`]); [`Files::of`] confines
    /// each to the directory the user named. Files read through `include`
    /// are added to `loaded.files` (so reports can show them) and their
    /// line numbers to `loaded.squid_lines` (so `Loaded::locate` finds
    /// them).
    pub fn collect(
        loaded: &mut crate::input::Loaded,
        files: impl Fn(&crate::input::SourceFile) -> Files,
        options: &SquidOptions,
    ) -> (Proxies, Vec<crate::Diagnostic>) {
        let mut out = Proxies::default();
        let mut diags = Vec::new();
        // Files by name, so an included file already loaded (as an input or
        // by another configuration) is found without a scan per include.
        let mut by_name: std::collections::HashMap<String, usize> = loaded
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.clone(), i))
            .collect();
        for i in 0..loaded.objects.len() {
            let Some(obj) = loaded.objects.get(i) else {
                continue;
            };
            let Some(file) = loaded.files.get(obj.file) else {
                continue;
            };
            let file_index = obj.file;
            let parsed = if obj.id.kind == crate::input::SQUID_KIND {
                Some(SquidConfig::parse_with(
                    &file.name,
                    &file.text,
                    &files(file),
                    0,
                    options,
                ))
            } else if obj.id.kind == "ConfigMap" && obj.id.api_version == "v1" {
                obj.value
                    .pointer("/data/squid.conf")
                    .and_then(|v| v.as_str())
                    .map(|text| {
                        let key = loaded
                            .locate(obj, Some("/data/squid.conf"))
                            .map_or(0, |l| l.line);
                        if written_literally(text, &file.text, key) {
                            SquidConfig::parse_with(&file.name, text, &Files::None, key, options)
                        } else {
                            // Not the file's lines (one quoted line with `\n`
                            // escapes, a folded scalar): every problem points at
                            // the key.
                            let mut c =
                                SquidConfig::parse_with(&file.name, text, &Files::None, 0, options);
                            for e in &mut c.errors {
                                e.line = key;
                            }
                            c
                        }
                    })
            } else {
                None
            };
            let Some(config) = parsed else { continue };
            let name = file.name.clone();
            for e in &config.errors {
                diags.push(crate::Diagnostic::input(
                    format!("squid configuration: {}", e.message),
                    Some(crate::Location::new(e.file.clone(), e.line, 1)),
                ));
            }
            let mut ranges = Vec::new();
            for inc in &config.included {
                let known = by_name
                    .get(&inc.name)
                    .copied()
                    .filter(|&i| loaded.files.get(i).is_some_and(|f| f.text == inc.text));
                let index = match known {
                    Some(index) => index,
                    None => {
                        by_name.insert(inc.name.clone(), loaded.files.len());
                        loaded.files.push(crate::input::SourceFile {
                            name: inc.name.clone(),
                            text: inc.text.clone(),
                            documents: Vec::new(),
                            root: None,
                            rendered_from: None,
                        });
                        loaded.files.len() - 1
                    }
                };
                ranges.push(LineRange {
                    first: inc.first,
                    lines: inc.lines,
                    file: index,
                });
            }
            if !ranges.is_empty() {
                loaded.squid_lines.insert(file_index, ranges);
            }
            out.configs
                .push((config, crate::facts::ObjectId::at(i), name));
        }
        (out, diags)
    }

    /// What answering one proxy request costs, in steps: every
    /// `http_access` line of the configuration.
    pub fn query_cost(&self, config: usize) -> u64 {
        self.configs
            .get(config)
            .map_or(1, |(c, _, _)| c.access.len() as u64 + 1)
    }

    /// The verdict of configuration `config` on a request, as (allowed,
    /// deciding line). Plugins get one boolean: "squid may let it through",
    /// so a verdict that depends on DNS counts as allowed (reachable), the
    /// safe reading for SSRF rules. `None`: no such configuration, or a
    /// client that is not an address.
    pub fn verdict(
        &self,
        config: usize,
        client: &str,
        method: &str,
        host: &str,
        port: u16,
    ) -> Option<(bool, Option<u32>)> {
        let (c, _, _) = self.configs.get(config)?;
        let client = client.parse::<IpAddr>().ok()?;
        let v = c.evaluate(&ProxyRequest::to_host(
            client,
            method,
            host,
            port,
            c.listeners.first().map(|l| l.port),
        ));
        Some((v.allowed, v.line.map(|l| l.number)))
    }
}

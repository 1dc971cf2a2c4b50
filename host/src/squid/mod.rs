//! Squid configurations: a parser that keeps line numbers, the model
//! (listeners, ordered access rules with resolved ACLs, logging), and an
//! evaluator that answers "does this config let client C send METHOD to
//! host:port?" the way squid does (squid.conf `http_access`): lines are
//! tried in order, all ACLs of a line must match (`!` negates), the first
//! matching line decides, and when none matches the verdict is the opposite
//! of the last `http_access` line (deny when there is none).
//!
//! Held against a real squid by `tests/tests/squid.rs`.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use serde::Serialize;

/// A problem in a configuration file, with its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConfigError {
    pub(crate) file: String,
    pub(crate) line: u32,
    pub(crate) message: String,
}

/// The value of one ACL.
#[derive(Debug, Clone)]
pub(crate) enum AclKind {
    Src(Vec<IpNet>),
    Dst(Vec<IpNet>),
    /// Domains; a leading dot matches the domain and its subdomains. The
    /// flag is `-n`: no reverse lookup for IP-literal requests.
    DstDomain(Vec<String>, bool),
    DstDomRegex(Vec<regex::Regex>, bool),
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

/// An ACL: its name, type, values and where each line defining it is.
#[derive(Debug, Clone)]
pub(crate) struct Acl {
    pub(crate) kind: AclKind,
    pub(crate) lines: Vec<u32>,
    /// The values as written (for display and plugin facts).
    pub(crate) values: Vec<String>,
    pub(crate) type_name: String,
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
}

/// A parsed squid configuration.
#[derive(Debug, Clone, Default)]
pub(crate) struct SquidConfig {
    pub(crate) acls: BTreeMap<String, Acl>,
    pub(crate) access: Vec<AccessLine>,
    pub(crate) listeners: Vec<Listener>,
    /// `access_log` values; `none` disables logging.
    pub(crate) access_logs: Vec<(String, u32)>,
    /// Host name → addresses from `hosts_file`.
    pub(crate) hosts: BTreeMap<String, Vec<IpAddr>>,
    /// `hosts_file` entries in order: (address, first name), for reverse
    /// lookups.
    pub(crate) hosts_order: Vec<(IpAddr, String)>,
    pub(crate) errors: Vec<ConfigError>,
}

/// A request to evaluate.
#[derive(Debug, Clone)]
pub(crate) struct ProxyRequest {
    pub(crate) client: IpAddr,
    pub(crate) method: String,
    /// Domain name or IP literal.
    pub(crate) host: String,
    pub(crate) port: u16,
    /// The squid port the client connected to.
    pub(crate) local_port: Option<u16>,
}

/// The verdict and the line that decided it.
#[derive(Debug, Clone, Serialize)]
pub struct ProxyVerdict {
    /// Whether squid lets the request through.
    pub allowed: bool,
    /// The deciding `http_access` line, absent for the implicit rule.
    pub line: Option<AccessLine>,
    /// How it was decided, in one sentence.
    pub reason: String,
    /// ACL types the verdict depended on that Palisade does not evaluate.
    pub unsupported: Vec<String>,
}

fn builtin_acls() -> Vec<(&'static str, &'static str, &'static [&'static str])> {
    // Predefined by squid 5.7 (checked with `squid -k parse`: these parse
    // without definitions; `to_linklocal` does not). Redefining one with the
    // same type adds values, as for any ACL.
    vec![
        ("all", "src", &["0.0.0.0/0", "::/0"]),
        ("localhost", "src", &["127.0.0.1/32", "::1/128"]),
        (
            "to_localhost",
            "dst",
            &["127.0.0.0/8", "0.0.0.0/32", "::1/128", "::/128"],
        ),
        ("CONNECT", "method", &["CONNECT"]),
        (
            "manager",
            "url_regex",
            &["^cache_object://", "^https?://[^/]+/squid-internal-mgr/"],
        ),
    ]
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

fn parse_nets(values: &[String]) -> Result<Vec<IpNet>, String> {
    values
        .iter()
        .map(|v| {
            if v == "all" {
                return "0.0.0.0/0".parse().map_err(|_| String::new());
            }
            v.parse::<IpNet>()
                .or_else(|_| v.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("invalid address `{v}`"))
        })
        .collect()
}

/// How deeply `include`s nest (squid's own limit).
const MAX_INCLUDE_DEPTH: usize = 16;
/// How many files one configuration may include in all: a file included
/// several times at every level would otherwise multiply the work (two
/// includes of itself, sixteen deep, are 65 536 parses).
const MAX_INCLUDED_FILES: usize = 64;
/// The largest included or hosts file read: a configuration, not
/// `/dev/zero`.
const MAX_FILE_BYTES: u64 = 4 << 20;

/// Reads a regular file of at most [`MAX_FILE_BYTES`] (devices and FIFOs
/// could block or never end).
fn read_limited(path: &Path) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".to_string());
    }
    let mut text = String::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("larger than {MAX_FILE_BYTES} bytes"));
    }
    Ok(text)
}

/// The files being read (outermost first) and how many were included.
#[derive(Debug, Default)]
struct Includes {
    stack: Vec<PathBuf>,
    count: usize,
}

impl SquidConfig {
    fn with_builtins() -> SquidConfig {
        let mut c = SquidConfig::default();
        for (name, kind, values) in builtin_acls() {
            let values: Vec<String> = values.iter().map(|s| s.to_string()).collect();
            let kind_value = match kind {
                "src" => AclKind::Src(parse_nets(&values).unwrap_or_default()),
                "dst" => AclKind::Dst(parse_nets(&values).unwrap_or_default()),
                "method" => AclKind::Method(values.clone()),
                other => AclKind::Unsupported(other.to_string()),
            };
            c.acls.insert(
                name.to_string(),
                Acl {
                    kind: kind_value,
                    lines: Vec::new(),
                    values,
                    type_name: kind.to_string(),
                },
            );
        }
        c
    }

    /// Parses a configuration; `dir` resolves relative `include` and
    /// `hosts_file` paths (absent for configs embedded in ConfigMaps: then
    /// they cannot be followed and are errors).
    pub(crate) fn parse(
        file: &str,
        text: &str,
        dir: Option<&Path>,
        line_offset: u32,
    ) -> SquidConfig {
        let mut c = SquidConfig::with_builtins();
        let mut includes = Includes::default();
        if let Some(dir) = dir {
            let top = dir.join(Path::new(file).file_name().unwrap_or_default());
            includes.stack.push(top.canonicalize().unwrap_or(top));
        }
        c.parse_into(file, text, dir, line_offset, &mut includes);
        c.check_references();
        c
    }

    fn error(&mut self, file: &str, line: u32, message: String) {
        self.errors.push(ConfigError {
            file: file.to_string(),
            line,
            message,
        });
    }

    fn parse_into(
        &mut self,
        file: &str,
        text: &str,
        dir: Option<&Path>,
        line_offset: u32,
        includes: &mut Includes,
    ) {
        for (n, raw) in text.lines().enumerate() {
            let line = line_offset + u32::try_from(n).unwrap_or(u32::MAX) + 1;
            let content = raw.split('#').next().unwrap_or("").trim();
            if content.is_empty() {
                continue;
            }
            let words: Vec<&str> = content.split_whitespace().collect();
            let Some((&directive, args)) = words.split_first() else {
                continue;
            };
            match directive {
                "acl" => self.parse_acl(file, line, args),
                "http_access" => {
                    let Some((&action, acls)) = args.split_first() else {
                        self.error(file, line, "`http_access` needs allow or deny".into());
                        continue;
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
                            continue;
                        }
                    };
                    self.access.push(AccessLine {
                        allow,
                        acls: acls.iter().map(|s| s.to_string()).collect(),
                        file: file.to_string(),
                        line,
                    });
                }
                "http_port" => {
                    let Some((&spec, options)) = args.split_first() else {
                        self.error(file, line, "`http_port` needs a port".into());
                        continue;
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
                        }),
                        _ => self.error(file, line, format!("`http_port {spec}`: invalid port")),
                    }
                }
                "access_log" => match args.first() {
                    Some(v) => self.access_logs.push((v.to_string(), line)),
                    None => self.error(file, line, "`access_log` needs a value".into()),
                },
                "include" => {
                    let Some(target) = args.first() else {
                        self.error(file, line, "`include` needs a file".into());
                        continue;
                    };
                    if includes.stack.len() > MAX_INCLUDE_DEPTH {
                        self.error(file, line, "`include` nests too deeply".into());
                        continue;
                    }
                    if includes.count >= MAX_INCLUDED_FILES {
                        self.error(
                            file,
                            line,
                            format!(
                                "`include {target}`: more than {MAX_INCLUDED_FILES} included files"
                            ),
                        );
                        continue;
                    }
                    let Some(dir) = dir else {
                        self.error(
                            file,
                            line,
                            format!(
                                "`include {target}` cannot be followed from an embedded config"
                            ),
                        );
                        continue;
                    };
                    let path = dir.join(target);
                    let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
                    if includes.stack.contains(&canonical) {
                        self.error(
                            file,
                            line,
                            format!(
                                "`include {target}` includes a file that is already being read"
                            ),
                        );
                        continue;
                    }
                    includes.count += 1;
                    match read_limited(&path) {
                        Ok(text) => {
                            let name = path.display().to_string();
                            let sub = path.parent().map(Path::to_path_buf);
                            includes.stack.push(canonical);
                            self.parse_into(&name, &text, sub.as_deref(), 0, includes);
                            includes.stack.pop();
                        }
                        Err(e) => self.error(
                            file,
                            line,
                            format!("`include {target}`: cannot read `{}`: {e}", path.display()),
                        ),
                    }
                }
                "hosts_file" => {
                    let Some(target) = args.first() else { continue };
                    let path = match dir {
                        Some(d) => d.join(target),
                        None => PathBuf::from(target),
                    };
                    if let Ok(text) = read_limited(&path) {
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
                }
                // Every other directive is kept out of the model and ignored.
                _ => {}
            }
        }
    }

    fn parse_acl(&mut self, file: &str, line: u32, args: &[&str]) {
        let [name, kind, rest @ ..] = args else {
            self.error(file, line, "`acl` needs a name, a type and values".into());
            return;
        };
        let mut case_insensitive = false;
        let mut no_lookup = false;
        let mut values: Vec<String> = Vec::new();
        for v in rest {
            match *v {
                "-i" => case_insensitive = true,
                "-n" => no_lookup = true,
                "+i" => {}
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
        if values.is_empty() {
            self.error(file, line, format!("acl `{name}` has no values"));
            return;
        }
        let parsed = match *kind {
            "src" => parse_nets(&values).map(AclKind::Src),
            "dst" => parse_nets(&values).map(AclKind::Dst),
            "dstdomain" => Ok(AclKind::DstDomain(
                values.iter().map(|v| v.to_ascii_lowercase()).collect(),
                no_lookup,
            )),
            "dstdom_regex" => values
                .iter()
                .map(|v| {
                    regex::RegexBuilder::new(v)
                        .case_insensitive(case_insensitive)
                        .build()
                        .map_err(|e| format!("invalid regex `{v}`: {e}"))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(|r| AclKind::DstDomRegex(r, no_lookup)),
            "port" => parse_ports(&values).map(AclKind::Port),
            "localport" => parse_ports(&values).map(AclKind::LocalPort),
            "method" => Ok(AclKind::Method(values.clone())),
            "proto" => Ok(AclKind::Proto(
                values.iter().map(|v| v.to_ascii_uppercase()).collect(),
            )),
            "myportname" => Ok(AclKind::MyPortName(values.clone())),
            other => Ok(AclKind::Unsupported(other.to_string())),
        };
        let kind_value = match parsed {
            Ok(k) => k,
            Err(m) => {
                self.error(file, line, format!("acl `{name}`: {m}"));
                return;
            }
        };
        match self.acls.get_mut(*name) {
            Some(existing) => {
                if existing.type_name != *kind {
                    let m = format!(
                        "acl `{name}` is redefined with type `{kind}` (it was `{}`)",
                        existing.type_name
                    );
                    self.error(file, line, m);
                    return;
                }
                existing.lines.push(line);
                existing.values.extend(values);
                // Several lines add to one ACL.
                match (&mut existing.kind, kind_value) {
                    (AclKind::Src(a), AclKind::Src(b)) | (AclKind::Dst(a), AclKind::Dst(b)) => {
                        a.extend(b)
                    }
                    (AclKind::DstDomain(a, _), AclKind::DstDomain(b, _)) => a.extend(b),
                    (AclKind::DstDomRegex(a, _), AclKind::DstDomRegex(b, _)) => a.extend(b),
                    (AclKind::Port(a), AclKind::Port(b))
                    | (AclKind::LocalPort(a), AclKind::LocalPort(b)) => a.extend(b),
                    (AclKind::Method(a), AclKind::Method(b))
                    | (AclKind::Proto(a), AclKind::Proto(b))
                    | (AclKind::MyPortName(a), AclKind::MyPortName(b)) => a.extend(b),
                    _ => {}
                }
            }
            None => {
                self.acls.insert(
                    name.to_string(),
                    Acl {
                        kind: kind_value,
                        lines: vec![line],
                        values,
                        type_name: kind.to_string(),
                    },
                );
            }
        }
    }

    fn check_references(&mut self) {
        let mut missing = Vec::new();
        for a in &self.access {
            for name in &a.acls {
                let bare = name.trim_start_matches('!');
                if !self.acls.contains_key(bare) {
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

    /// The addresses a host resolves to: itself when it is an IP, else the
    /// `hosts_file` entries.
    fn resolve(&self, host: &str) -> Vec<IpAddr> {
        match host.trim_matches(['[', ']']).parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => self
                .hosts
                .get(&host.to_ascii_lowercase())
                .cloned()
                .unwrap_or_default(),
        }
    }

    /// The first host name `hosts_file` gives an IP-literal host.
    fn reverse(&self, host: &str) -> Option<String> {
        let ip: IpAddr = host.trim_matches(['[', ']']).parse().ok()?;
        self.hosts_order
            .iter()
            .find(|(a, _)| *a == ip)
            .map(|(_, name)| name.clone())
    }

    /// Whether one ACL matches the request; unsupported types never match
    /// and are recorded.
    fn acl_matches(&self, acl: &Acl, req: &ProxyRequest, unsupported: &mut Vec<String>) -> bool {
        let host = req.host.to_ascii_lowercase();
        match &acl.kind {
            AclKind::Src(nets) => nets.iter().any(|n| n.contains(&req.client)),
            AclKind::Dst(nets) => self
                .resolve(&host)
                .iter()
                .any(|ip| nets.iter().any(|n| n.contains(ip))),
            AclKind::DstDomain(domains, no_lookup) => {
                let matches = |name: &str| {
                    domains.iter().any(|d| {
                        if let Some(suffix) = d.strip_prefix('.') {
                            name == suffix
                                || name.ends_with(&format!(".{suffix}"))
                                || suffix.is_empty()
                        } else {
                            name == d
                        }
                    })
                };
                // For an IP-literal request squid also tries the name a
                // reverse lookup gives (here: the hosts_file), unless `-n`.
                matches(&host) || (!no_lookup && self.reverse(&host).is_some_and(|n| matches(&n)))
            }
            AclKind::DstDomRegex(res, no_lookup) => {
                res.iter().any(|r| r.is_match(&host))
                    || (!no_lookup
                        && self
                            .reverse(&host)
                            .is_some_and(|n| res.iter().any(|r| r.is_match(&n))))
            }
            AclKind::Port(ranges) => ranges.iter().any(|(a, b)| (*a..=*b).contains(&req.port)),
            AclKind::LocalPort(ranges) => req
                .local_port
                .is_some_and(|p| ranges.iter().any(|(a, b)| (*a..=*b).contains(&p))),
            AclKind::Method(methods) => methods.contains(&req.method),
            AclKind::Proto(protos) => {
                let proto = if req.method == "CONNECT" {
                    "AUTHORITY"
                } else {
                    "HTTP"
                };
                protos.iter().any(|p| p == proto)
            }
            AclKind::MyPortName(names) => {
                let port_name = self
                    .listeners
                    .iter()
                    .find(|l| Some(l.port) == req.local_port)
                    .and_then(|l| {
                        l.options
                            .iter()
                            .find_map(|o| o.strip_prefix("name=").map(str::to_string))
                            .or_else(|| Some(format!("{}", l.port)))
                    });
                port_name.is_some_and(|n| names.contains(&n))
            }
            AclKind::Unsupported(t) => {
                if !unsupported.contains(t) {
                    unsupported.push(t.clone());
                }
                false
            }
        }
    }

    /// Evaluates `http_access` for a request.
    pub(crate) fn evaluate(&self, req: &ProxyRequest) -> ProxyVerdict {
        let mut unsupported = Vec::new();
        for line in &self.access {
            let all = line.acls.iter().all(|name| {
                let (negate, bare) = match name.strip_prefix('!') {
                    Some(b) => (true, b),
                    None => (false, name.as_str()),
                };
                let hit = self
                    .acls
                    .get(bare)
                    .is_some_and(|acl| self.acl_matches(acl, req, &mut unsupported));
                hit != negate
            });
            if all {
                return ProxyVerdict {
                    allowed: line.allow,
                    reason: format!(
                        "{}:{}: `http_access {} {}` matches",
                        line.file,
                        line.line,
                        if line.allow { "allow" } else { "deny" },
                        line.acls.join(" ")
                    ),
                    line: Some(line.clone()),
                    unsupported,
                };
            }
        }
        match self.access.last() {
            Some(last) => ProxyVerdict {
                allowed: !last.allow,
                reason: format!(
                    "no `http_access` line matches: the implicit last rule is the opposite of the last line ({}:{}, {})",
                    last.file,
                    last.line,
                    if last.allow { "allow" } else { "deny" }
                ),
                line: None,
                unsupported,
            },
            None => ProxyVerdict {
                allowed: false,
                reason: "there are no `http_access` lines: squid denies every request".into(),
                line: None,
                unsupported,
            },
        }
    }
}

/// A squid configuration loaded for the library API.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    inner: SquidConfig,
}

impl ProxyConfig {
    /// Reads a squid configuration file (includes and `hosts_file` relative
    /// to its directory).
    pub fn from_file(path: impl AsRef<Path>) -> Result<ProxyConfig, crate::Error> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            crate::Error::new(
                crate::ErrorKind::Input,
                format!("cannot read `{}`: {e}", path.display()),
            )
        })?;
        Ok(ProxyConfig {
            inner: SquidConfig::parse(&path.display().to_string(), &text, path.parent(), 0),
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

    /// The lines (in the top-level file or its includes) with problems.
    pub fn error_lines(&self) -> Vec<u32> {
        self.inner.errors.iter().map(|e| e.line).collect()
    }

    /// The `http_port` listeners.
    pub fn listeners(&self) -> &[Listener] {
        &self.inner.listeners
    }

    /// Whether `client` may send `method` to `host:port` (through the squid
    /// port `local_port`, when it matters), and which line decides.
    pub fn trace(
        &self,
        client: IpAddr,
        method: &str,
        host: &str,
        port: u16,
        local_port: Option<u16>,
    ) -> ProxyVerdict {
        self.inner.evaluate(&ProxyRequest {
            client,
            method: method.to_string(),
            host: host.to_string(),
            port,
            local_port: local_port.or_else(|| self.inner.listeners.first().map(|l| l.port)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> SquidConfig {
        let c = SquidConfig::parse("squid.conf", text, None, 0);
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        c
    }

    fn req(client: &str, method: &str, host: &str, port: u16) -> ProxyRequest {
        ProxyRequest {
            client: client.parse().unwrap(),
            method: method.into(),
            host: host.into(),
            port,
            local_port: Some(3128),
        }
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
            "acl a src nonsense\nhttp_access permit all\nhttp_access allow nobody\nhttp_port abc\n",
            None,
            0,
        );
        let lines: Vec<u32> = c.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [1, 2, 4, 3], "{:?}", c.errors);
    }
}

/// The squid configurations of the inputs, parsed, with their WIT form.
#[derive(Debug, Default)]
pub(crate) struct Proxies {
    configs: Vec<SquidConfig>,
    pub(crate) facts: Vec<crate::runtime::wit::ProxyConfig>,
}

impl Proxies {
    /// Finds squid configurations: `squid.conf` files and the `squid.conf`
    /// key of ConfigMaps. Problems are diagnostics with file and line.
    pub(crate) fn collect(loaded: &crate::input::Loaded) -> (Proxies, Vec<crate::Diagnostic>) {
        let mut out = Proxies::default();
        let mut diags = Vec::new();
        for (i, obj) in loaded.objects.iter().enumerate() {
            let Some(file) = loaded.files.get(obj.file) else {
                continue;
            };
            let parsed = if obj.id.kind == crate::input::SQUID_KIND {
                let dir = Path::new(&file.name).parent().map(Path::to_path_buf);
                Some(SquidConfig::parse(
                    &file.name,
                    &file.text,
                    dir.as_deref(),
                    0,
                ))
            } else if obj.id.kind == "ConfigMap" && obj.id.api_version == "v1" {
                obj.value
                    .pointer("/data/squid.conf")
                    .and_then(|v| v.as_str())
                    .map(|text| {
                        let key = loaded
                            .locate(obj, Some("/data/squid.conf"))
                            .map_or(1, |l| l.line);
                        // In a block scalar the configuration's lines are the
                        // file's lines after the key. Written otherwise (one
                        // quoted line with `\n` escapes, folded), they are not
                        // in the file: everything points at the key.
                        let file_lines: Vec<&str> = file.text.lines().collect();
                        let literal = text.lines().enumerate().all(|(k, l)| {
                            l.trim().is_empty()
                                || file_lines
                                    .get(key as usize + k)
                                    .is_some_and(|f| f.trim() == l.trim())
                        });
                        if literal {
                            SquidConfig::parse(&file.name, text, None, key)
                        } else {
                            let mut c = SquidConfig::parse(&file.name, text, None, 0);
                            c.relocate(key);
                            c
                        }
                    })
            } else {
                None
            };
            let Some(config) = parsed else { continue };
            for e in &config.errors {
                diags.push(crate::Diagnostic::input(
                    format!("squid configuration: {}", e.message),
                    Some(crate::Location {
                        file: e.file.clone(),
                        line: e.line,
                        column: 1,
                    }),
                ));
            }
            out.facts
                .push(config.facts(u32::try_from(i).unwrap_or(u32::MAX), &file.name));
            out.configs.push(config);
        }
        (out, diags)
    }

    /// Evaluates every query against every configuration.
    pub(crate) fn answer(
        &self,
        queries: &[crate::runtime::wit::ProxyQuery],
    ) -> Vec<crate::runtime::wit::ProxyAnswer> {
        let index = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
        let mut out = Vec::new();
        for (ci, c) in self.configs.iter().enumerate() {
            for (qi, q) in queries.iter().enumerate() {
                let Ok(client) = q.client.parse::<IpAddr>() else {
                    continue;
                };
                let v = c.evaluate(&ProxyRequest {
                    client,
                    method: q.method.to_ascii_uppercase(),
                    host: q.host.clone(),
                    port: q.port,
                    local_port: c.listeners.first().map(|l| l.port),
                });
                out.push(crate::runtime::wit::ProxyAnswer {
                    config: index(ci),
                    query: index(qi),
                    allowed: v.allowed,
                    line: v.line.map(|l| l.line),
                });
            }
        }
        out
    }
}

impl SquidConfig {
    /// Puts every line of the configuration on `line` (a configuration whose
    /// lines are not lines of its file).
    fn relocate(&mut self, line: u32) {
        for e in &mut self.errors {
            e.line = line;
        }
        for acl in self.acls.values_mut() {
            for l in &mut acl.lines {
                *l = line;
            }
        }
        for a in &mut self.access {
            a.line = line;
        }
        for l in &mut self.listeners {
            l.line = line;
        }
        for (_, l) in &mut self.access_logs {
            *l = line;
        }
    }

    fn facts(&self, object: u32, file: &str) -> crate::runtime::wit::ProxyConfig {
        use crate::runtime::wit;
        wit::ProxyConfig {
            object,
            file: file.to_string(),
            listeners: self
                .listeners
                .iter()
                .map(|l| wit::SquidListener {
                    address: l.address.clone(),
                    port: l.port,
                    options: l.options.clone(),
                    line: l.line,
                })
                .collect(),
            acls: self
                .acls
                .iter()
                .map(|(name, a)| wit::SquidAcl {
                    name: name.clone(),
                    type_name: a.type_name.clone(),
                    values: a.values.clone(),
                    lines: a.lines.clone(),
                })
                .collect(),
            access: self
                .access
                .iter()
                .map(|a| wit::SquidAccess {
                    allow: a.allow,
                    acls: a.acls.clone(),
                    line: a.line,
                })
                .collect(),
            access_logs: self.access_logs.clone(),
        }
    }
}

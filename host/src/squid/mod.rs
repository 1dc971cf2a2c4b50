//! Squid configurations: a parser that keeps line numbers, the model
//! (listeners, ordered access rules with resolved ACLs, logging), and an
//! evaluator that answers "does this config let client C send METHOD to
//! host:port?" the way squid does (squid.conf `http_access`): lines are
//! tried in order, all ACLs of a line must match (`!` negates), the first
//! matching line decides, and when none matches the verdict is the opposite
//! of the last `http_access` line (deny when there is none).
//!
//! Held against a real squid by `tests/tests/squid.rs`.

mod files;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ipnet::IpNet;
use serde::Serialize;

pub(crate) use files::Files;
use files::{MAX_FILE_BYTES, Refusal, Root, parent_dir, read_regular};

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
    /// Numbers (see [`LineMap`]) of the lines defining it.
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
    /// The line's number in the configuration's single numbering (see
    /// [`LineMap`]): what plugins see.
    #[serde(skip)]
    pub(crate) number: u32,
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
    pub(crate) number: u32,
}

/// A file read through `include`, and where its lines are in the
/// configuration's single numbering.
#[derive(Debug, Clone)]
pub(crate) struct IncludedFile {
    /// Its name, relative to the root as named.
    pub(crate) name: String,
    pub(crate) text: Arc<str>,
    /// The number its line 1 has.
    pub(crate) first: u32,
    /// How many lines it has.
    pub(crate) lines: u32,
}

/// A parsed squid configuration.
#[derive(Debug, Clone, Default)]
pub(crate) struct SquidConfig {
    pub(crate) acls: BTreeMap<String, Acl>,
    pub(crate) access: Vec<AccessLine>,
    pub(crate) listeners: Vec<Listener>,
    /// `access_log` values and line numbers; `none` disables logging.
    pub(crate) access_logs: Vec<(String, u32)>,
    /// Host name → addresses from `hosts_file`.
    pub(crate) hosts: BTreeMap<String, Vec<IpAddr>>,
    /// `hosts_file` entries in order: (address, first name), for reverse
    /// lookups.
    pub(crate) hosts_order: Vec<(IpAddr, String)>,
    /// Problems, each at its file and (real) line.
    pub(crate) errors: Vec<ConfigError>,
    /// Files read through `include`, in include order.
    pub(crate) included: Vec<IncludedFile>,
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

/// What one parse may still read, and the includes being read.
struct Reader<'a> {
    files: &'a Files,
    /// The root of [`Files::Confined`], canonical (or why it cannot be).
    root: Result<Root, String>,
    /// Canonical paths and names of the files being parsed, outermost
    /// first: an include of one of them is a cycle.
    stack: Vec<(PathBuf, String)>,
    includes: usize,
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

/// Where the numbered lines of included squid files are: for each squid
/// configuration file of the inputs (by index in `Loaded::files`), the
/// ranges of numbers (see [`SquidConfig::parse`]) of its included files
/// and the index of each included file in `Loaded::files`.
#[derive(Debug, Default)]
pub(crate) struct LineMap(BTreeMap<usize, Vec<LineRange>>);

#[derive(Debug, Clone, Copy)]
struct LineRange {
    first: u32,
    lines: u32,
    file: usize,
}

impl LineMap {
    /// The file (index in `Loaded::files`) and line that `number` of the
    /// configuration in file `file` stands for; `None` for a line of the
    /// configuration's own file.
    pub(crate) fn origin(&self, file: usize, number: u32) -> Option<(usize, u32)> {
        let ranges = self.0.get(&file)?;
        // Ranges are allocated in increasing order.
        let i = ranges
            .partition_point(|r| r.first <= number)
            .checked_sub(1)?;
        let r = ranges.get(i)?;
        let n = number - r.first;
        (n < r.lines).then_some((r.file, n + 1))
    }
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
    pub(crate) fn parse(file: &str, text: &str, files: &Files, line_offset: u32) -> SquidConfig {
        let mut c = SquidConfig::with_builtins();
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
                        number,
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
                            number,
                        }),
                        _ => self.error(file, line, format!("`http_port {spec}`: invalid port")),
                    }
                }
                "access_log" => match args.first() {
                    Some(v) => self.access_logs.push((v.to_string(), number)),
                    None => self.error(file, line, "`access_log` needs a value".into()),
                },
                "include" => match args.first() {
                    Some(target) => self.include(cx, src, line, target, depth),
                    None => self.error(file, line, "`include` needs a file".into()),
                },
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
        if cx.includes >= MAX_INCLUDES {
            let m = format!(
                "`include {target}`: more than {MAX_INCLUDES} includes: the rest is not read"
            );
            self.error(file, line, m);
            cx.halted = true;
            return;
        }
        cx.includes += 1;
        let path = match root.resolve(dir, target) {
            Ok(p) => p,
            Err(r) => {
                let m = format!("`include {target}`: {}", r.describe(&root));
                self.error(file, line, m);
                return;
            }
        };
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
                let m = format!("`include {target}`: {}", r.describe(&root));
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
                existing.lines.push(number);
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
                        lines: vec![number],
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
    /// Reads a squid configuration file. `include` and `hosts_file` are
    /// followed only to regular files inside the file's directory (relative
    /// paths are relative to the including file); the file itself must be a
    /// regular file of at most 16 MiB.
    pub fn from_file(path: impl AsRef<Path>) -> Result<ProxyConfig, crate::Error> {
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
            inner: SquidConfig::parse(&path.display().to_string(), &text, &files, 0),
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

    /// The lines (in the top-level file or its includes, each in its own
    /// file) with problems.
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
        let c = SquidConfig::parse("squid.conf", text, &Files::None, 0);
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
        let v = embedded.evaluate(&req("10.0.0.1", "GET", "only-in-the-hosts-file.test", 80));
        assert!(!v.allowed, "{}", v.reason);
        // The same lines in a file configuration whose hosts file lies
        // inside its root do resolve the name.
        let hosts_in_root = tree.write("root/hosts", "127.0.0.9 only-in-the-hosts-file.test\n");
        let file = tree.parse(&text.replace(
            &hosts.display().to_string(),
            &hosts_in_root.display().to_string(),
        ));
        assert!(file.errors.is_empty(), "{:?}", file.errors);
        let v = file.evaluate(&req("10.0.0.1", "GET", "only-in-the-hosts-file.test", 80));
        assert!(v.allowed, "{}", v.reason);
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
        // A directory is no file either.
        let c = tree.parse("include .\n");
        assert!(
            messages(&c)[0].contains("not a regular file"),
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
        let c = tree.parse(&"include empty.conf\n".repeat(MAX_INCLUDES + 5));
        let m = messages(&c);
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].starts_with(&format!(
                "squid.conf:{}: `include empty.conf`: more than {MAX_INCLUDES} includes",
                MAX_INCLUDES + 1
            )),
            "{m:?}"
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

    #[test]
    fn included_lines_map_back_to_their_file() {
        let map = LineMap(BTreeMap::from([(
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
        )]));
        assert_eq!(map.origin(3, 10), None);
        assert_eq!(map.origin(3, 11), Some((7, 1)));
        assert_eq!(map.origin(3, 12), Some((7, 2)));
        assert_eq!(map.origin(3, 13), Some((9, 1)));
        assert_eq!(map.origin(3, 17), Some((9, 5)));
        assert_eq!(map.origin(3, 18), None);
        assert_eq!(map.origin(4, 12), None);
    }
}

/// The squid configurations of the inputs, parsed, with their WIT form.
#[derive(Debug, Default)]
pub(crate) struct Proxies {
    configs: Vec<SquidConfig>,
    pub(crate) facts: Vec<crate::runtime::wit::ProxyConfig>,
}

/// Whether an embedded configuration's lines are the file's lines after the
/// key line `key` (a block scalar), so that its line n is line `key + n` of
/// the file.
pub(crate) fn written_literally(text: &str, file_text: &str, key: u32) -> bool {
    let mut file_lines = file_text.lines().skip(key as usize);
    text.lines().all(|l| {
        let f = file_lines.next();
        l.trim().is_empty() || f.is_some_and(|f| f.trim() == l.trim())
    })
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
    pub(crate) fn collect(
        loaded: &mut crate::input::Loaded,
        files: impl Fn(&crate::input::SourceFile) -> Files,
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
                Some(SquidConfig::parse(&file.name, &file.text, &files(file), 0))
            } else if obj.id.kind == "ConfigMap" && obj.id.api_version == "v1" {
                obj.value
                    .pointer("/data/squid.conf")
                    .and_then(|v| v.as_str())
                    .map(|text| {
                        let key = loaded
                            .locate(obj, Some("/data/squid.conf"))
                            .map_or(0, |l| l.line);
                        if written_literally(text, &file.text, key) {
                            SquidConfig::parse(&file.name, text, &Files::None, key)
                        } else {
                            // Not the file's lines (one quoted line with `\n`
                            // escapes, a folded scalar): every problem points at
                            // the key.
                            let mut c = SquidConfig::parse(&file.name, text, &Files::None, 0);
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
                    Some(crate::Location {
                        file: e.file.clone(),
                        line: e.line,
                        column: 1,
                    }),
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
                loaded.squid_lines.0.insert(file_index, ranges);
            }
            out.facts
                .push(config.facts(u32::try_from(i).unwrap_or(u32::MAX), &name));
            out.configs.push(config);
        }
        (out, diags)
    }

    /// What answering one proxy query costs, in steps: every `http_access`
    /// line of every configuration.
    pub(crate) fn query_cost(&self) -> u64 {
        self.configs.iter().map(|c| c.access.len() as u64 + 1).sum()
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
                    line: v.line.map(|l| l.number),
                });
            }
        }
        out
    }
}

impl SquidConfig {
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
                    line: l.number,
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
                    line: a.number,
                })
                .collect(),
            access_logs: self.access_logs.clone(),
        }
    }
}

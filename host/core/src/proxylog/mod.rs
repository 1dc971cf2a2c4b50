//! Proxy access logs: what actually left through the proxy.
//!
//! A log is read as a stream, line by line, in squid's native format, any
//! `logformat` (the built-in `common` and `combined`, or one a squid.conf
//! defines) or JSON lines, gzip-compressed or not. Each request becomes a
//! [`Request`] (client, method, destination, squid's result and status,
//! bytes, time), and requests are folded into [`Observed`]: one entry per
//! client, method, destination and verdict, with counts, bytes and first
//! and last times.
//!
//! INVARIANT: memory does not grow with the log. A line longer than
//! [`MAX_LINE`] is cut (and reported); at most [`MAX_ENTRIES`] distinct
//! entries are kept (what does not fit is counted, and reported); at most
//! [`MAX_PROBLEMS`] malformed lines are reported one by one per log, the
//! rest counted. A malformed line is a located diagnostic and the next line
//! is read.

pub mod attribute;
pub mod format;
pub mod replay;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::net::IpAddr;

use serde::Serialize;

pub use format::LogFormat;

/// The longest line kept, in bytes.
pub const MAX_LINE: usize = 64 * 1024;
/// Distinct entries kept across all logs.
pub const MAX_ENTRIES: usize = 1_000_000;
/// Malformed lines reported one by one, per log.
pub const MAX_PROBLEMS: usize = 20;

/// How squid answered a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Squid let it through (whatever the server answered).
    Allowed,
    /// `http_access` denied it (`TCP_DENIED`, `…_DENIED`).
    Denied,
    /// Squid could not make sense of it (`error:invalid-request`, a
    /// transaction that ended before its headers).
    Error,
}

/// Where a request went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target<'l> {
    /// Host name (lower case) or IP literal (no brackets).
    pub host: std::borrow::Cow<'l, str>,
    pub port: u16,
    /// `http`, `https`, `ftp`…; `None` for CONNECT.
    pub scheme: Option<&'l str>,
}

/// Reads a request URL as squid logs it: `host:port` for CONNECT,
/// `scheme://host[:port]/path` otherwise.
pub fn parse_target<'l>(method: &str, url: &'l str) -> Option<Target<'l>> {
    let (scheme, authority) = match url.split_once("://") {
        Some((scheme, rest)) => (
            Some(scheme),
            rest.split(['/', '?', '#']).next().unwrap_or(rest),
        ),
        None if method.eq_ignore_ascii_case("CONNECT") => (None, url),
        None => return None,
    };
    // userinfo@host
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let default = match scheme.map(str::to_ascii_lowercase).as_deref() {
        None => 443,
        Some("http") => 80,
        Some("https" | "wss") => 443,
        Some("ftp") => 21,
        Some("ws") => 80,
        Some(_) => 0,
    };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, rest) = v6.split_once(']')?;
        let port = match rest.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None => default,
        };
        (h, port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, p.parse().ok()?),
            _ => (authority, default),
        }
    };
    if host.is_empty() || port == 0 {
        return None;
    }
    let host = if host.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(host.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(host)
    };
    Some(Target { host, port, scheme })
}

/// One logged request.
#[derive(Debug, Clone, PartialEq)]
pub struct Request<'l> {
    /// Seconds since the epoch.
    pub time: Option<f64>,
    pub client: Option<IpAddr>,
    pub method: &'l str,
    /// The request URL as logged (`host:port` for CONNECT).
    pub url: Option<&'l str>,
    pub target: Option<Target<'l>>,
    /// Squid's result code (`TCP_TUNNEL`, `TCP_DENIED`).
    pub result: Option<&'l str>,
    /// The HTTP status sent to the client.
    pub status: Option<u16>,
    pub bytes: u64,
    pub user: Option<&'l str>,
    /// The squid port the client connected to.
    pub local_port: Option<u16>,
    /// The server address squid connected to (`%<a`): what the name
    /// resolved to when the request went out.
    pub server: Option<IpAddr>,
    pub verdict: Verdict,
}

/// Squid's verdict: `TCP_DENIED` (and the other `…_DENIED` codes) is
/// `http_access` saying no; a request without a destination squid could
/// read is an error; anything else passed `http_access` (a tunnel that then
/// failed to connect, `NONE_NONE/503`, was still allowed).
fn verdict(result: Option<&str>, target_known: bool) -> Verdict {
    match result {
        Some(r) if r.ends_with("_DENIED") || r.contains("_DENIED_") => Verdict::Denied,
        _ if !target_known => Verdict::Error,
        _ => Verdict::Allowed,
    }
}

impl<'l> Request<'l> {
    /// A request from a line's fields.
    pub fn from_fields(f: &format::Fields<'l>) -> Result<Request<'l>, String> {
        let client = match f.get(&[">a", ">A"]) {
            Some(a) => Some(
                a.parse::<IpAddr>()
                    .map_err(|_| format!("`{a}` is not a client address"))?,
            ),
            None => None,
        };
        let method = f.get(&["rm", ">rm"]).unwrap_or("-");
        let url = f.get(&["ru", ">ru"]);
        let target = url.and_then(|u| parse_target(method, u));
        let time = match (f.get(&["ts"]), f.get(&["tS"]), f.get(&["tl", "tg"])) {
            (Some(s), _, _) => {
                let secs: f64 = s.parse().map_err(|_| format!("`{s}` is not a time"))?;
                let ms: f64 = f
                    .get(&["tu"])
                    .and_then(|m| m.parse::<f64>().ok())
                    .unwrap_or(0.0);
                Some(secs + ms / 1000.0)
            }
            (None, Some(t), _) => Some(t.parse().map_err(|_| format!("`{t}` is not a time"))?),
            (None, None, Some(t)) => {
                Some(format::parse_clf_time(t).ok_or_else(|| format!("`{t}` is not a time"))?)
            }
            _ => None,
        };
        let status = match f.get(&[">Hs", "Hs", "<Hs"]) {
            Some(s) => Some(
                s.parse()
                    .map_err(|_| format!("`{s}` is not an HTTP status"))?,
            ),
            None => None,
        };
        let bytes = match f.get(&["<st", "st"]) {
            Some(b) => b.parse().map_err(|_| format!("`{b}` is not a size"))?,
            None => 0,
        };
        let result = f.get(&["Ss"]);
        let local_port = f.get(&[">lp", "lp"]).and_then(|p| p.parse().ok());
        let user = f.get(&["un", "ul", "ue", "ui", "us"]);
        let server = f.get(&["<a"]).and_then(|a| a.parse().ok());
        Ok(Request {
            server,
            time,
            client,
            method,
            url,
            verdict: verdict(result, target.is_some()),
            target,
            result,
            status,
            bytes,
            user,
            local_port,
        })
    }
}

/// A line of squid's native format read straight into a request (the
/// fast path of the default format: ten whitespace-separated fields,
/// `ts.tu tr >a Ss/Hs <st rm ru un Sh/<a mt`).
fn native_request(line: &str) -> Result<Request<'_>, String> {
    let mut parts = line.split_ascii_whitespace();
    let mut next = |what: &str| {
        parts.next().ok_or_else(|| {
            format!("the line ends before its {what} (squid's native format has 10 fields)")
        })
    };
    let time = next("time")?;
    let time: f64 = time
        .parse()
        .map_err(|_| format!("`{time}` is not a time"))?;
    next("response time")?;
    let client = next("client address")?;
    let client = if client == "-" {
        None
    } else {
        Some(
            client
                .parse::<IpAddr>()
                .map_err(|_| format!("`{client}` is not a client address"))?,
        )
    };
    let status = next("status")?;
    let (result, code) = status
        .split_once('/')
        .ok_or_else(|| format!("`{status}` is not a squid status (RESULT/CODE)"))?;
    let code: u16 = code
        .parse()
        .map_err(|_| format!("`{code}` is not an HTTP status"))?;
    let size = next("size")?;
    let bytes: u64 = size
        .parse()
        .map_err(|_| format!("`{size}` is not a size"))?;
    let method = next("method")?;
    let url = next("URL")?;
    let user = next("user")?;
    let hierarchy = next("hierarchy")?;
    let server = hierarchy
        .split_once('/')
        .and_then(|(_, a)| a.parse::<IpAddr>().ok());
    let target = parse_target(method, url);
    let result = (result != "-").then_some(result);
    Ok(Request {
        time: Some(time),
        client,
        method,
        url: Some(url),
        verdict: verdict(result, target.is_some()),
        target,
        result,
        status: Some(code),
        bytes,
        user: (user != "-").then_some(user),
        local_port: None,
        server,
    })
}

/// How a log is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogKind {
    /// A squid `logformat` (built-in or defined).
    Format(LogFormat),
    /// One JSON object per line.
    JsonLines,
}

impl LogKind {
    /// Guesses from a log's first line: `{` is JSON lines; a first field
    /// that is a time (`1764500000.123`) is squid's native format; a
    /// bracketed date after the client is `common`, or `combined` when two
    /// quoted fields follow the size.
    pub fn detect(first: &str) -> LogKind {
        let first = first.trim_start();
        if first.starts_with('{') {
            return LogKind::JsonLines;
        }
        let builtin = |n: &str| {
            LogKind::Format(LogFormat::builtin(n).unwrap_or_else(|| LogFormat {
                name: n.to_string(),
                definition: String::new(),
                tokens: Vec::new(),
                native: true,
            }))
        };
        let head = first.split_ascii_whitespace().next().unwrap_or("");
        if head.parse::<f64>().is_ok() {
            return builtin("squid");
        }
        if first.contains(" [") && first.matches('"').count() >= 6 {
            return builtin("combined");
        }
        if first.contains(" [") {
            return builtin("common");
        }
        builtin("squid")
    }
}

/// Reads one JSON-lines record: keys as squid's codes name them, or the
/// usual spellings of log shippers.
fn json_request<'l>(
    map: &'l serde_json::Map<String, serde_json::Value>,
) -> Result<Request<'l>, String> {
    let text = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| map.get(*k).and_then(serde_json::Value::as_str))
            .filter(|v| !v.is_empty() && *v != "-")
    };
    let number = |keys: &[&str]| {
        keys.iter().find_map(|k| match map.get(*k) {
            Some(serde_json::Value::Number(n)) => n.as_f64(),
            Some(serde_json::Value::String(s)) => s.parse().ok(),
            _ => None,
        })
    };
    let client = match text(&[
        "client",
        "client_ip",
        "src_ip",
        "remote_addr",
        "clientip",
        ">a",
    ]) {
        Some(a) => Some(
            a.parse::<IpAddr>()
                .map_err(|_| format!("`{a}` is not a client address"))?,
        ),
        None => None,
    };
    let method = text(&["method", "request_method", "rm"]).unwrap_or("-");
    let url = text(&["url", "uri", "request_url", "ru"]);
    let target = url.and_then(|u| parse_target(method, u)).or_else(|| {
        let host = text(&["host", "dest_host", "destination"])?;
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "ports"
        )]
        let port = number(&["port", "dest_port"]).map_or(443, |p| p as u16);
        Some(Target {
            host: std::borrow::Cow::Owned(host.to_ascii_lowercase()),
            port,
            scheme: None,
        })
    });
    let time = number(&["time", "timestamp", "ts", "@timestamp"]);
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "statuses"
    )]
    let status = number(&["status", "http_status", "status_code", ">Hs"]).map(|s| s as u16);
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "sizes"
    )]
    let bytes = number(&["bytes", "size", "bytes_sent", "<st"]).map_or(0, |b| b as u64);
    let result = text(&["result", "squid_status", "result_code", "action", "Ss"]);
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "ports"
    )]
    let local_port = number(&["local_port", ">lp"]).map(|p| p as u16);
    Ok(Request {
        time,
        client,
        method,
        url,
        verdict: verdict(result, target.is_some()),
        target,
        result,
        status,
        bytes,
        server: text(&["server", "server_ip", "dest_ip", "<a"]).and_then(|a| a.parse().ok()),
        user: text(&["user", "un"]),
        local_port,
    })
}

/// One entry of [`Observed`]: a client's requests of one method to one
/// destination with one verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub client: Option<IpAddr>,
    pub method: String,
    pub host: String,
    pub port: u16,
    pub verdict: Verdict,
    pub count: u64,
    pub bytes: u64,
    pub first_seen: Option<f64>,
    pub last_seen: Option<f64>,
    /// Squid's result and status, with counts (`TCP_TUNNEL/200`).
    pub results: BTreeMap<String, u64>,
    /// The server addresses squid connected to (`%<a`; at most 4): what a
    /// name resolved to.
    pub servers: Vec<IpAddr>,
    /// The log (index among those read) and line of the first request.
    pub log: usize,
    pub line: u64,
}

type Key = (Option<IpAddr>, u32, u32, u16, Verdict);

/// Requests folded by client, method, destination and verdict.
#[derive(Debug, Default)]
pub struct Observed {
    strings: rustc_hash::FxHashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
    index: rustc_hash::FxHashMap<Key, usize>,
    /// Per entry: (result code id, status) → count, turned into
    /// `Entry::results` by [`Observed::finish`].
    codes: Vec<Vec<(u32, Option<u16>, u64)>>,
    pub entries: Vec<Entry>,
    /// Requests read, and those that did not fit in [`MAX_ENTRIES`].
    pub requests: u64,
    pub dropped: u64,
    /// Bytes and lines read.
    pub bytes_read: u64,
    pub lines: u64,
    pub malformed: u64,
}

impl Observed {
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.strings.get(s) {
            return i;
        }
        let i = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(s.into());
        self.strings.insert(s.into(), i);
        i
    }

    /// Folds one request in.
    pub fn add(&mut self, r: &Request<'_>, log: usize, line: u64) {
        self.requests += 1;
        let (host, port) = r
            .target
            .as_ref()
            .map_or(("", 0), |t| (t.host.as_ref(), t.port));
        let key = (
            r.client,
            self.intern(r.method),
            self.intern(host),
            port,
            r.verdict,
        );
        let code = (self.intern(r.result.unwrap_or("-")), r.status);
        if let Some(&i) = self.index.get(&key) {
            if let Some(e) = self.entries.get_mut(i) {
                e.count += 1;
                e.bytes += r.bytes;
                if let Some(t) = r.time {
                    e.first_seen = Some(e.first_seen.map_or(t, |f| f.min(t)));
                    e.last_seen = Some(e.last_seen.map_or(t, |l| l.max(t)));
                }
            }
            if let Some(server) = r.server
                && let Some(e) = self.entries.get_mut(i)
                && e.servers.len() < 4
                && !e.servers.contains(&server)
            {
                e.servers.push(server);
            }
            if let Some(codes) = self.codes.get_mut(i) {
                if let Some(slot) = codes.iter_mut().find(|(c, s, _)| (*c, *s) == code) {
                    slot.2 += 1;
                } else if codes.len() < 16 {
                    codes.push((code.0, code.1, 1));
                }
            }
            return;
        }
        if self.entries.len() >= MAX_ENTRIES {
            self.dropped += 1;
            return;
        }
        self.index.insert(key, self.entries.len());
        self.codes.push(vec![(code.0, code.1, 1)]);
        self.entries.push(Entry {
            client: r.client,
            method: r.method.to_string(),
            host: host.to_string(),
            port,
            verdict: r.verdict,
            count: 1,
            bytes: r.bytes,
            first_seen: r.time,
            last_seen: r.time,
            results: BTreeMap::new(),
            servers: r.server.into_iter().collect(),
            log,
            line,
        });
    }

    /// Writes each entry's squid results (`TCP_TUNNEL/200` → count) from
    /// what [`Observed::add`] counted.
    pub fn finish(&mut self) {
        for (e, codes) in self.entries.iter_mut().zip(&self.codes) {
            e.results = codes
                .iter()
                .map(|(c, s, n)| {
                    let code = self.names.get(*c as usize).map_or("-", |b| b.as_ref());
                    let status = s.map_or_else(|| "-".to_string(), |s| format!("{s:03}"));
                    (format!("{code}/{status}"), *n)
                })
                .collect();
        }
    }
}

/// A malformed line: its number and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: u64,
    pub message: String,
}

/// Reads lines of at most [`MAX_LINE`] bytes, whatever the input holds
/// (a file with no newline at all costs no more memory than one line).
struct Lines<R> {
    reader: R,
    buf: Vec<u8>,
    done: bool,
}

impl<R: BufRead> Lines<R> {
    /// The next line (without its newline), and whether it was cut.
    fn next_line(&mut self) -> std::io::Result<Option<(&[u8], bool, usize)>> {
        self.buf.clear();
        if self.done {
            return Ok(None);
        }
        let mut cut = false;
        let mut read = 0usize;
        loop {
            let available = self.reader.fill_buf()?;
            if available.is_empty() {
                self.done = true;
                if read == 0 {
                    return Ok(None);
                }
                break;
            }
            let (chunk, found) = match memchr::memchr(b'\n', available) {
                Some(i) => (available.get(..i).unwrap_or_default(), true),
                None => (available, false),
            };
            let room = MAX_LINE.saturating_sub(self.buf.len());
            if chunk.len() > room {
                cut = true;
            }
            self.buf
                .extend_from_slice(chunk.get(..chunk.len().min(room)).unwrap_or_default());
            let consumed = chunk.len() + usize::from(found);
            read += consumed;
            self.reader.consume(consumed);
            if found {
                break;
            }
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        Ok(Some((&self.buf, cut, read)))
    }
}

/// Whether bytes start a gzip stream.
pub fn is_gzip(head: &[u8]) -> bool {
    head.starts_with(&[0x1f, 0x8b])
}

/// Reads one log (gzip or not) into `observed`, as log number `log`; the
/// format is `kind`, else detected from the first line. Problems with
/// single lines come back (at most [`MAX_PROBLEMS`], with the count of
/// all in `observed.malformed`); an unreadable stream is an `Err`.
pub fn read(
    input: impl Read,
    kind: Option<&LogKind>,
    log: usize,
    observed: &mut Observed,
    progress: impl FnMut(u64),
) -> std::io::Result<Vec<Problem>> {
    let mut counts = Counts::default();
    let problems = each_request(input, kind, &mut counts, progress, |r, line| {
        observed.add(r, log, line);
    });
    observed.lines += counts.lines;
    observed.bytes_read += counts.bytes;
    observed.malformed += counts.malformed;
    observed.finish();
    problems
}

/// Lines, bytes and malformed lines read.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub lines: u64,
    pub bytes: u64,
    pub malformed: u64,
}

/// Streams a log (gzip or not), calling `each` with every request and its
/// line number; malformed lines come back as problems (at most
/// [`MAX_PROBLEMS`]; all are counted in `counts`).
pub fn each_request(
    input: impl Read,
    kind: Option<&LogKind>,
    counts: &mut Counts,
    mut progress: impl FnMut(u64),
    mut each: impl FnMut(&Request<'_>, u64),
) -> std::io::Result<Vec<Problem>> {
    let mut buffered = BufReader::with_capacity(256 * 1024, input);
    let head = buffered.fill_buf()?;
    if is_gzip(head) {
        let decoder = flate2::bufread::MultiGzDecoder::new(buffered);
        read_plain(
            BufReader::with_capacity(256 * 1024, decoder),
            kind,
            counts,
            &mut progress,
            &mut each,
        )
    } else {
        read_plain(buffered, kind, counts, &mut progress, &mut each)
    }
}

fn read_plain(
    reader: impl BufRead,
    kind: Option<&LogKind>,
    observed: &mut Counts,
    progress: &mut impl FnMut(u64),
    each: &mut impl FnMut(&Request<'_>, u64),
) -> std::io::Result<Vec<Problem>> {
    let mut lines = Lines {
        reader,
        buf: Vec::with_capacity(4096),
        done: false,
    };
    let mut problems = Vec::new();
    let mut detected: Option<LogKind> = None;
    let mut number = 0u64;
    let mut since_progress = 0u64;
    while let Some((bytes, cut, read)) = lines.next_line()? {
        number += 1;
        observed.lines += 1;
        observed.bytes += read as u64;
        since_progress += read as u64;
        if since_progress >= 16 * 1024 * 1024 {
            progress(observed.bytes);
            since_progress = 0;
        }
        let mut problem = |message: String, observed: &mut Counts| {
            observed.malformed += 1;
            if problems.len() < MAX_PROBLEMS {
                problems.push(Problem {
                    line: number,
                    message,
                });
            }
        };
        let Ok(text) = std::str::from_utf8(bytes) else {
            problem("the line is not UTF-8 text".to_string(), observed);
            continue;
        };
        if cut {
            problem(
                format!("the line is longer than {MAX_LINE} bytes: not read"),
                observed,
            );
            continue;
        }
        if text.trim().is_empty() {
            continue;
        }
        let kind = match kind {
            Some(k) => k,
            None => detected.get_or_insert_with(|| LogKind::detect(text)),
        };
        let parsed = match kind {
            LogKind::Format(f) if f.native => native_request(text).map(|r| each(&r, number)),
            LogKind::Format(f) => f.fields(text).and_then(|f| {
                let r = Request::from_fields(&f)?;
                each(&r, number);
                Ok(())
            }),
            LogKind::JsonLines => serde_json::from_str::<serde_json::Value>(text)
                .map_err(|e| format!("not a JSON object: {e}"))
                .and_then(|v| match v {
                    serde_json::Value::Object(map) => {
                        let r = json_request(&map)?;
                        each(&r, number);
                        Ok(())
                    }
                    _ => Err("not a JSON object".to_string()),
                }),
        };
        if let Err(message) = parsed {
            problem(message, observed);
        }
    }
    progress(observed.bytes);
    Ok(problems)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;

    fn read_text(text: &str, kind: Option<&LogKind>) -> (Observed, Vec<Problem>) {
        let mut o = Observed::default();
        let p = read(text.as_bytes(), kind, 0, &mut o, |_| {}).unwrap();
        (o, p)
    }

    #[test]
    fn targets_are_read_as_squid_logs_them() {
        let t = parse_target("CONNECT", "github.com:443").unwrap();
        assert_eq!(
            (t.host.as_ref(), t.port, t.scheme),
            ("github.com", 443, None)
        );
        let t = parse_target("GET", "http://Example.COM/a:b").unwrap();
        assert_eq!((t.host.as_ref(), t.port), ("example.com", 80));
        let t = parse_target("GET", "https://u:p@[2001:db8::1]:8443/x").unwrap();
        assert_eq!((t.host.as_ref(), t.port), ("2001:db8::1", 8443));
        let t = parse_target("CONNECT", "[2001:db8::1]:22").unwrap();
        assert_eq!((t.host.as_ref(), t.port), ("2001:db8::1", 22));
        assert!(parse_target("GET", "error:invalid-request").is_none());
        assert!(parse_target("GET", "/relative").is_none());
    }

    #[test]
    fn requests_fold_by_client_destination_and_verdict_with_times() {
        let log = "\
1764500000.100      5 10.0.3.7 TCP_TUNNEL/200 5120 CONNECT github.com:443 - HIER_DIRECT/140.82.112.3 -
1764500010.900      5 10.0.3.7 TCP_TUNNEL/200 100 CONNECT github.com:443 - HIER_DIRECT/140.82.112.3 -
1764500005.000      0 10.0.3.7 TCP_DENIED/403 3900 CONNECT 203.0.113.9:22 - HIER_NONE/- text/html
1764500006.000      0 10.0.3.8 NONE_NONE/400 0 NONE error:invalid-request - HIER_NONE/- -
";
        let (o, problems) = read_text(log, None);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!((o.requests, o.entries.len()), (4, 3));
        let gh = &o.entries[0];
        assert_eq!(
            (gh.count, gh.bytes, gh.verdict),
            (2, 5220, Verdict::Allowed)
        );
        assert_eq!(gh.first_seen, Some(1_764_500_000.1));
        assert_eq!(gh.last_seen, Some(1_764_500_010.9));
        assert_eq!(o.entries[1].verdict, Verdict::Denied);
        assert_eq!(o.entries[2].verdict, Verdict::Error);
    }

    #[test]
    fn malformed_lines_are_located_counted_and_skipped() {
        let mut log = String::from(
            "{\"client\": \"10.0.0.1\", \"method\": \"CONNECT\", \"url\": \"a.example:443\", \"result\": \"TCP_TUNNEL\", \"status\": 200}\n",
        );
        log.push_str("not json\n");
        for _ in 0..30 {
            log.push_str("{\"client\": \"x\"}\n");
        }
        log.push_str("{\"client\": \"10.0.0.1\", \"method\": \"CONNECT\", \"url\": \"a.example:443\", \"result\": \"TCP_TUNNEL\", \"status\": 200}\n");
        let (o, problems) = read_text(&log, None);
        assert_eq!(o.requests, 2);
        assert_eq!(o.malformed, 31);
        assert_eq!(problems.len(), MAX_PROBLEMS);
        assert_eq!(problems[0].line, 2);
        assert!(problems[1].message.contains("`x` is not a client address"));
    }

    #[test]
    fn a_line_without_end_costs_one_line_of_memory() {
        let mut log = "x".repeat(3 * MAX_LINE);
        log.push('\n');
        log.push_str("1764500000.100 5 10.0.3.7 TCP_TUNNEL/200 1 CONNECT a.example:443 - HIER_DIRECT/1.2.3.4 -\n");
        let (o, problems) = read_text(
            &log,
            Some(&LogKind::Format(LogFormat::builtin("squid").unwrap())),
        );
        assert_eq!(o.requests, 1);
        assert!(problems[0].message.contains("longer than"), "{problems:?}");
    }

    #[test]
    fn gzip_is_read_directly() {
        use std::io::Write as _;
        let line = "1764500000.100 5 10.0.3.7 TCP_TUNNEL/200 1 CONNECT a.example:443 - HIER_DIRECT/1.2.3.4 -\n";
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(line.repeat(3).as_bytes()).unwrap();
        let bytes = gz.finish().unwrap();
        let mut o = Observed::default();
        read(bytes.as_slice(), None, 0, &mut o, |_| {}).unwrap();
        assert_eq!((o.requests, o.entries[0].count), (3, 3));
    }

    #[test]
    fn the_access_log_writing_a_file_names_its_format() {
        let conf = "logformat mine %>a %rm %ru %Ss/%03>Hs\naccess_log daemon:/var/log/squid/access.log mine\naccess_log stdio:/var/log/squid/common.log logformat=common\n";
        let c = crate::squid::SquidConfig::parse("squid.conf", conf, &crate::squid::Files::None, 0);
        let pick = |name: &str| match format_for(name, &[&c]).unwrap() {
            Some((LogKind::Format(f), _)) => f.name,
            other => format!("{other:?}"),
        };
        assert_eq!(pick("logs/access.log.2.gz"), "mine");
        assert_eq!(pick("common.log"), "common");
        // A file no access_log writes: the formats differ, so detect.
        assert!(format_for("other.log", &[&c]).unwrap().is_none());
        let undefined = crate::squid::SquidConfig::parse(
            "squid.conf",
            "access_log stdio:/x/access.log nosuch\n",
            &crate::squid::Files::None,
            0,
        );
        assert!(format_for("access.log", &[&undefined]).is_err());
    }

    #[test]
    fn formats_are_detected_from_the_first_line() {
        let common = r#"10.0.0.1 - - [30/Nov/2026:11:00:00 +0000] "CONNECT a.example:443 HTTP/1.1" 200 10 TCP_TUNNEL:HIER_DIRECT"#;
        let LogKind::Format(f) = LogKind::detect(common) else {
            panic!()
        };
        assert_eq!(f.name, "common");
        let combined = r#"10.0.0.1 - - [30/Nov/2026:11:00:00 +0000] "GET http://a.example/ HTTP/1.1" 200 10 "-" "curl" TCP_MISS:HIER_DIRECT"#;
        let LogKind::Format(f) = LogKind::detect(combined) else {
            panic!()
        };
        assert_eq!(f.name, "combined");
        let (o, problems) = read_text(&format!("{common}\n{combined}\n"), None);
        // The second line is read as `common` too (the first decides), and
        // does not fit it.
        assert_eq!((o.requests, problems.len()), (1, 1));
    }
}

/// What was read from one log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogSummary {
    /// The object standing for it.
    pub object: usize,
    /// Its name, as given.
    pub name: String,
    /// The format it was read in (`squid`, `common`, a `logformat` name,
    /// `json`), and how it was chosen.
    pub format: String,
    pub lines: u64,
    pub requests: u64,
    pub malformed: u64,
}

/// Every access log of the inputs, read.
#[derive(Debug, Default)]
pub struct Logs {
    pub observed: Observed,
    pub logs: Vec<LogSummary>,
}

/// A log's name without rotation suffixes (`access.log.2.gz` →
/// `access.log`).
fn unrotated(name: &str) -> &str {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let base = base.strip_suffix(".gz").unwrap_or(base);
    match base.rsplit_once('.') {
        Some((stem, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => stem,
        _ => base,
    }
}

/// The format a log is written in, from the squid configurations of the
/// inputs: the `access_log` whose file has the log's name, else the one
/// format every `access_log` writes; `None` (detect from the first line)
/// when they do not say.
pub fn format_for(
    name: &str,
    configs: &[&crate::squid::SquidConfig],
) -> Result<Option<(LogKind, String)>, String> {
    let wanted = unrotated(name);
    let mut named = Vec::new();
    let mut all = Vec::new();
    for c in configs {
        for (destination, format) in &c.access_log_formats {
            if destination == "none" {
                continue;
            }
            let file = destination.rsplit(':').next().unwrap_or(destination);
            let pick = (format.clone(), *c);
            if unrotated(file) == wanted {
                named.push(pick.clone());
            }
            all.push(pick);
        }
    }
    let chosen = match (named.first(), all.first()) {
        (Some(n), _) => Some((n.clone(), "the access_log writing it")),
        (None, Some(a)) if all.iter().all(|x| x.0 == a.0) => {
            Some((a.clone(), "the one format access_log writes"))
        }
        _ => None,
    };
    let Some(((format, config), why)) = chosen else {
        return Ok(None);
    };
    if let Some((definition, _)) = config.logformats.get(&format) {
        let f = LogFormat::compile(&format, definition)
            .map_err(|e| format!("logformat `{format}`: {e}"))?;
        return Ok(Some((
            LogKind::Format(f),
            format!("`{format}`, from {why}"),
        )));
    }
    match LogFormat::builtin(&format) {
        Some(f) => Ok(Some((
            LogKind::Format(f),
            format!("`{format}`, from {why}"),
        ))),
        None => Err(format!(
            "access_log writes format `{format}`, which no logformat defines"
        )),
    }
}

/// Streams every access log of the inputs from disk, in the format the
/// given squid configurations give it, else the one its first line shows,
/// handing each request to `each` with the log's index and the line. A log
/// that cannot be opened, and each malformed line, is a located diagnostic;
/// the others are still read. `progress` hears the bytes read so far and
/// the total size. The one loop over logs: `collect` folds what it hands
/// out, a replay evaluates it.
pub fn for_each_log(
    loaded: &crate::input::Loaded,
    configs: &[&crate::squid::SquidConfig],
    progress: &mut dyn FnMut(u64, u64),
    mut each: impl FnMut(usize, &Request<'_>, u64),
) -> (Vec<LogSummary>, Vec<crate::Diagnostic>) {
    use crate::report::{Diagnostic, Location};
    let mut summaries = Vec::new();
    let mut diagnostics = Vec::new();
    let total: u64 = loaded
        .logs
        .iter()
        .filter_map(|(_, path, _)| std::fs::metadata(path).ok().map(|m| m.len()))
        .sum();
    let mut done = 0u64;
    for (index, (object, path, follow)) in loaded.logs.iter().enumerate() {
        let name = loaded
            .objects
            .get(*object)
            .and_then(|o| loaded.files.get(o.file))
            .map_or_else(|| path.display().to_string(), |f| f.name.clone());
        let at =
            |line: u64| Location::new(name.clone(), u32::try_from(line).unwrap_or(u32::MAX), 1);
        let (kind, how) = match format_for(&name, configs) {
            Ok(Some((k, how))) => (Some(k), how),
            Ok(None) => (None, "detected from its first line".to_string()),
            Err(e) => {
                diagnostics.push(Diagnostic::input(format!("`{name}`: {e}"), None));
                continue;
            }
        };
        let (file, _) = match crate::fsutil::open_regular(path, *follow) {
            Ok(f) => f,
            Err(e) => {
                diagnostics.push(Diagnostic::input(
                    format!("cannot read `{name}`: {e}"),
                    None,
                ));
                continue;
            }
        };
        let mut counts = Counts::default();
        let mut requests = 0u64;
        let start = done;
        let result = each_request(
            file,
            kind.as_ref(),
            &mut counts,
            |n| progress(start + n, total),
            |r, line| {
                requests += 1;
                each(index, r, line);
            },
        );
        match result {
            Ok(problems) => {
                for p in &problems {
                    diagnostics.push(Diagnostic::input(
                        format!("malformed access-log line: {}", p.message),
                        Some(at(p.line)),
                    ));
                }
                if counts.malformed > problems.len() as u64 {
                    diagnostics.push(Diagnostic::input(
                        format!(
                            "{} more malformed lines in `{name}` (the first {} are listed)",
                            counts.malformed - problems.len() as u64,
                            problems.len()
                        ),
                        None,
                    ));
                }
            }
            Err(e) => diagnostics.push(Diagnostic::input(
                format!("cannot read `{name}`: {e}"),
                None,
            )),
        }
        done += counts.bytes;
        let format = match &kind {
            Some(LogKind::Format(f)) => format!("{} ({how})", f.name),
            Some(LogKind::JsonLines) => format!("json ({how})"),
            None => how,
        };
        summaries.push(LogSummary {
            object: *object,
            name,
            format,
            lines: counts.lines,
            requests,
            malformed: counts.malformed,
        });
    }
    (summaries, diagnostics)
}

/// Reads every access log of the inputs ([`for_each_log`]) and folds the
/// requests into [`Observed`]; too many distinct entries is a diagnostic.
pub fn collect(
    loaded: &crate::input::Loaded,
    configs: &[&crate::squid::SquidConfig],
    progress: &mut dyn FnMut(u64, u64),
) -> (Logs, Vec<crate::Diagnostic>) {
    let mut observed = Observed::default();
    let (logs, mut diagnostics) = for_each_log(loaded, configs, progress, |log, r, line| {
        observed.add(r, log, line);
    });
    for l in &logs {
        observed.lines += l.lines;
        observed.malformed += l.malformed;
    }
    observed.finish();
    if observed.dropped > 0 {
        diagnostics.push(crate::Diagnostic::input(
            format!(
                "{} requests fell beyond the {MAX_ENTRIES} distinct client, method, destination and verdict entries kept: they are not in the audit",
                observed.dropped
            ),
            None,
        ));
    }
    (Logs { observed, logs }, diagnostics)
}

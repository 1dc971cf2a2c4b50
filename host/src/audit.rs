//! `palisade proxy audit` and `replay`: what the proxy's access logs show
//! went out, per client, judged by the access-log rules (`SQ012`-`SQ016`);
//! the smallest allow-list covering it; and what a new configuration would
//! change for the same requests.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde::Serialize;

use crate::proxylog::attribute::{Attributor, Client};
use crate::proxylog::replay::{Change, Replay};
use crate::proxylog::{LogSummary, Verdict};
use crate::report::Report;

/// A client's calls to one destination with one method and verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Call {
    /// The HTTP method.
    pub method: String,
    /// The destination host or IP literal.
    pub host: String,
    /// The destination port.
    pub port: u16,
    /// Squid's verdict.
    pub verdict: Verdict,
    /// How many requests.
    pub count: u64,
    /// Bytes sent to the client, in all.
    pub bytes: u64,
    /// Seconds since the epoch.
    pub first_seen: Option<f64>,
    /// Seconds since the epoch of the last request.
    pub last_seen: Option<f64>,
    /// Squid's results and statuses, with counts.
    pub results: BTreeMap<String, u64>,
}

/// One client (a workload, a namespace's pool, a range, or an address no
/// input places) and its calls.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientCalls {
    /// Where the client belongs.
    pub client: Client,
    /// The addresses seen for it.
    pub addresses: Vec<String>,
    /// Its calls.
    pub calls: Vec<Call>,
}

/// The answer of `palisade proxy audit`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Audit {
    /// Each log read: name, format, lines, requests, malformed lines.
    pub logs: Vec<LogSummary>,
    /// Calls per client, workloads first.
    pub clients: Vec<ClientCalls>,
    /// The check of the same inputs: the access-log rules' findings among
    /// the rest, and every input problem (rendered apart).
    #[serde(skip)]
    pub report: Report,
}

/// Folds the observed entries by client.
pub(crate) fn clients(
    observed: &crate::proxylog::Observed,
    attributor: &Attributor,
) -> Vec<ClientCalls> {
    let mut by: BTreeMap<Client, (BTreeSet<String>, Vec<Call>)> = BTreeMap::new();
    for e in &observed.entries {
        let slot = by.entry(attributor.client(e.client)).or_default();
        if let Some(a) = e.client {
            slot.0.insert(a.to_string());
        }
        slot.1.push(Call {
            method: e.method.clone(),
            host: e.host.clone(),
            port: e.port,
            verdict: e.verdict,
            count: e.count,
            bytes: e.bytes,
            first_seen: e.first_seen,
            last_seen: e.last_seen,
            results: e.results.clone(),
        });
    }
    by.into_iter()
        .map(|(client, (addresses, mut calls))| {
            calls.sort_by(|a, b| {
                (a.verdict, &a.host, a.port, &a.method)
                    .cmp(&(b.verdict, &b.host, b.port, &b.method))
            });
            ClientCalls {
                client,
                addresses: addresses.into_iter().collect(),
                calls,
            }
        })
        .collect()
}

/// The smallest squid allow-list covering the calls squid allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Suggestion {
    /// `dstdomain` entries: `.example.com` where several names under one
    /// registrable domain were called, the name itself otherwise.
    pub domains: Vec<SuggestedDomain>,
    /// Destinations called by address (a `dst` ACL; better replaced by
    /// names).
    pub addresses: Vec<String>,
    /// Internal addresses the logs show squid allowed (metadata, private,
    /// loopback, link-local): never suggested.
    pub left_out: Vec<String>,
    /// Ports of CONNECT calls, and of plain requests.
    pub tls_ports: Vec<u16>,
    /// Ports of plain requests.
    pub http_ports: Vec<u16>,
}

/// One entry of the suggested list, with who needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SuggestedDomain {
    /// As squid writes it (`.github.com`, `pypi.org`).
    pub entry: String,
    /// The names called under it.
    pub hosts: Vec<String>,
    /// The clients that called them.
    pub clients: Vec<String>,
}

/// The registrable domain of a name (eTLD+1, by the Public Suffix List);
/// `None` for a name that is itself a public suffix or has no known one.
fn registrable(host: &str) -> Option<String> {
    psl::domain_str(host).map(str::to_string)
}

/// Suggests the allow-list from an audit's allowed calls. Names under one
/// registrable domain are grouped as `.domain` when more than one was
/// called (never wider: a public suffix is never an entry); a single name
/// stays exact.
pub fn suggest(clients: &[ClientCalls]) -> Suggestion {
    // registrable domain (or the host itself) → hosts → clients
    let mut groups: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    let mut addresses = BTreeSet::new();
    let mut left_out = BTreeSet::new();
    let mut tls = BTreeSet::new();
    let mut http = BTreeSet::new();
    for c in clients {
        for call in c.calls.iter().filter(|x| x.verdict == Verdict::Allowed) {
            if call.method.eq_ignore_ascii_case("CONNECT") {
                tls.insert(call.port);
            } else {
                http.insert(call.port);
            }
            if call.host.parse::<IpAddr>().is_ok() {
                // Internal addresses are never suggested (SQ014 reports
                // them): the list is what should leave, not all that did.
                if crate::address::of_address(&call.host)
                    .is_some_and(|c| c == crate::address::Classes::PUBLIC)
                {
                    addresses.insert(call.host.clone());
                } else {
                    left_out.insert(call.host.clone());
                }
                continue;
            }
            let host = call.host.trim_end_matches('.').to_ascii_lowercase();
            let group = registrable(&host).unwrap_or_else(|| host.clone());
            groups
                .entry(group)
                .or_default()
                .entry(host)
                .or_default()
                .insert(c.client.to_string());
        }
    }
    let domains = groups
        .into_iter()
        .map(|(group, hosts)| {
            let entry = if hosts.len() > 1 {
                format!(".{group}")
            } else {
                hosts.keys().next().cloned().unwrap_or(group)
            };
            let clients: BTreeSet<String> = hosts.values().flatten().cloned().collect();
            SuggestedDomain {
                entry,
                hosts: hosts.into_keys().collect(),
                clients: clients.into_iter().collect(),
            }
        })
        .collect();
    Suggestion {
        domains,
        addresses: addresses.into_iter().collect(),
        left_out: left_out.into_iter().collect(),
        tls_ports: tls.into_iter().collect(),
        http_ports: http.into_iter().collect(),
    }
}

/// The suggestion as squid.conf lines.
pub fn render_suggestion(s: &Suggestion) -> String {
    use std::fmt::Write as _;
    let mut out = String::from(
        "# The smallest allow-list covering the calls the logs show squid allowed\n# (palisade proxy audit --suggest-allowlist).\n",
    );
    for d in &s.domains {
        let _ = writeln!(
            out,
            "#   {}: {} (by {})",
            d.entry,
            d.hosts.join(", "),
            d.clients.join(", ")
        );
    }
    if !s.domains.is_empty() {
        let entries: Vec<&str> = s.domains.iter().map(|d| d.entry.as_str()).collect();
        let _ = writeln!(out, "acl allowed_domains dstdomain {}", entries.join(" "));
    }
    if !s.addresses.is_empty() {
        let _ = writeln!(
            out,
            "# Called by address (name them instead if you can):\nacl allowed_addresses dst {}",
            s.addresses.join(" ")
        );
    }
    if !s.left_out.is_empty() {
        let _ = writeln!(
            out,
            "# Left out: internal addresses squid should not have allowed: {}",
            s.left_out.join(" ")
        );
    }
    let ports = |p: &[u16]| p.iter().map(u16::to_string).collect::<Vec<_>>().join(" ");
    if !s.tls_ports.is_empty() {
        let _ = writeln!(out, "acl allowed_tls_ports port {}", ports(&s.tls_ports));
    }
    if !s.http_ports.is_empty() {
        let _ = writeln!(out, "acl allowed_http_ports port {}", ports(&s.http_ports));
    }
    out
}

/// One change of a replay, with its client placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplayChange {
    /// How the verdict changes.
    pub change: Change,
    /// Where the client belongs.
    pub client: Client,
    /// The client address.
    pub address: Option<String>,
    /// The HTTP method.
    pub method: String,
    /// The destination host or IP literal.
    pub host: String,
    /// The destination port.
    pub port: u16,
    /// How many requests.
    pub count: u64,
    /// Where the first such request is logged (`file:line`).
    pub logged_at: String,
    /// The new configuration's deciding line.
    pub decided_by: String,
}

/// The answer of `palisade proxy replay`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplayReport {
    /// Each log read.
    pub logs: Vec<LogSummary>,
    /// Requests replayed.
    pub requests: u64,
    /// Requests whose verdict stays.
    pub unchanged: u64,
    /// Requests squid could not read (nothing to replay).
    pub skipped: u64,
    /// Newly denied first (what will break), then newly allowed (what
    /// opens), then verdicts that depend on DNS; by client and destination.
    pub changes: Vec<ReplayChange>,
}

pub(crate) fn replay_report(
    replay: Replay,
    logs: Vec<LogSummary>,
    attributor: &Attributor,
) -> ReplayReport {
    let mut changes: Vec<ReplayChange> = replay
        .changed
        .iter()
        .map(|c| ReplayChange {
            change: c.change,
            client: attributor.client(c.client),
            address: c.client.map(|a| a.to_string()),
            method: c.method.clone(),
            host: c.host.clone(),
            port: c.port,
            count: c.count,
            logged_at: logs
                .get(c.log)
                .map_or_else(String::new, |l| format!("{}:{}", l.name, c.line)),
            decided_by: c.decided_by.clone(),
        })
        .collect();
    changes.sort_by(|a, b| {
        (a.change, &a.client, &a.host, a.port, &a.method)
            .cmp(&(b.change, &b.client, &b.host, b.port, &b.method))
    });
    ReplayReport {
        logs,
        requests: replay.requests,
        unchanged: replay.unchanged,
        skipped: replay.skipped,
        changes,
    }
}

fn when(t: Option<f64>) -> String {
    #[allow(clippy::cast_possible_truncation, reason = "seconds since 1970")]
    t.map_or_else(
        || "-".to_string(),
        |t| {
            let secs = t.floor() as i64;
            let days = secs.div_euclid(86_400);
            let rem = secs.rem_euclid(86_400);
            let (y, m, d) = civil(days);
            format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
                rem / 3600,
                rem % 3600 / 60,
                rem % 60
            )
        },
    )
}

/// The date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn target(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else if host.is_empty() {
        "(unreadable request)".to_string()
    } else {
        format!("{host}:{port}")
    }
}

/// The audit for people: the logs, then each client's calls.
pub fn render_audit(a: &Audit) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    for l in &a.logs {
        let _ = writeln!(
            s,
            "{}: {} requests in {} lines, format {}{}",
            l.name,
            l.requests,
            l.lines,
            l.format,
            if l.malformed > 0 {
                format!(", {} malformed", l.malformed)
            } else {
                String::new()
            }
        );
    }
    for c in &a.clients {
        let _ = writeln!(s, "\n{} ({})", c.client, c.addresses.join(", "));
        for call in &c.calls {
            let verdict = match call.verdict {
                Verdict::Allowed => "allowed",
                Verdict::Denied => "DENIED",
                Verdict::Error => "error",
            };
            let results: Vec<String> = call
                .results
                .iter()
                .map(|(r, n)| {
                    if *n == call.count {
                        r.clone()
                    } else {
                        format!("{r}×{n}")
                    }
                })
                .collect();
            let _ = writeln!(
                s,
                "  {verdict:<7} {:<7} {:<40} {:>6}× {:>10} B  {} .. {}  {}",
                call.method,
                target(&call.host, call.port),
                call.count,
                call.bytes,
                when(call.first_seen),
                when(call.last_seen),
                results.join(" ")
            );
        }
    }
    s
}

/// The replay for people.
pub fn render_replay(r: &ReplayReport) -> String {
    use std::fmt::Write as _;
    let mut s = format!(
        "{} requests replayed: {} change, {} stay{}\n",
        r.requests,
        r.requests - r.unchanged,
        r.unchanged,
        if r.skipped > 0 {
            format!(" ({} unreadable requests skipped)", r.skipped)
        } else {
            String::new()
        }
    );
    for (change, title) in [
        (Change::NewlyDenied, "Newly denied (will break)"),
        (Change::NewlyAllowed, "Newly allowed (opens)"),
        (Change::DependsOnDns, "Depends on what DNS answers"),
    ] {
        let list: Vec<&ReplayChange> = r.changes.iter().filter(|c| c.change == change).collect();
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(s, "\n{title}:");
        for c in list {
            let _ = writeln!(
                s,
                "  {} ({}): {} {} ×{}  [{}; {}]",
                c.client,
                c.address.as_deref().unwrap_or("-"),
                c.method,
                target(&c.host, c.port),
                c.count,
                c.logged_at,
                c.decided_by
            );
        }
    }
    s
}

//! Replaying logged requests through a squid configuration: what a config
//! change would break (newly denied) and open (newly allowed).
//!
//! Each logged request is evaluated as logged (client, method, full URL or
//! CONNECT authority, the squid port it came in on) by the same evaluator
//! `palisade proxy trace` uses, against the new configuration and against
//! the old one (or, without it, squid's logged verdict). Requests whose
//! verdict changes are folded by client, method, destination and change.

use std::collections::HashMap;
use std::net::IpAddr;

use serde::Serialize;

use super::{Request, Verdict};
use crate::squid::{ProxyRequest, ProxyVerdict, SquidConfig};

/// The squid request a logged request stands for.
pub fn proxy_request(r: &Request<'_>, config: &SquidConfig) -> Option<ProxyRequest> {
    let client = r.client?;
    let target = r.target.as_ref()?;
    let local = r
        .local_port
        .or_else(|| config.listeners.first().map(|l| l.port));
    if r.method.eq_ignore_ascii_case("CONNECT") {
        return Some(ProxyRequest::to_host(
            client,
            "CONNECT",
            &target.host,
            target.port,
            local,
        ));
    }
    r.url
        .and_then(|u| ProxyRequest::to_url(client, r.method, u, local).ok())
        .or_else(|| {
            Some(ProxyRequest::to_host(
                client,
                r.method,
                &target.host,
                target.port,
                local,
            ))
        })
}

/// How a request's verdict changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    /// Allowed before, denied now: what will break.
    NewlyDenied,
    /// Denied before, allowed now: what opens.
    NewlyAllowed,
    /// The new verdict depends on what DNS answers for a name.
    DependsOnDns,
}

/// Requests of one client, method and destination whose verdict changes
/// the same way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Changed {
    pub change: Change,
    pub client: Option<IpAddr>,
    pub method: String,
    pub host: String,
    pub port: u16,
    pub count: u64,
    /// The log and line of the first such request.
    pub log: usize,
    pub line: u64,
    /// The new configuration's deciding `http_access` line (file:line), or
    /// the implicit rule.
    pub decided_by: String,
}

/// What a replay found.
#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Replay {
    /// The configurations, with each name the logs show squid resolved
    /// (`%<a`) added to what they know.
    #[serde(skip)]
    new: SquidConfig,
    #[serde(skip)]
    old: Option<SquidConfig>,
    pub changed: Vec<Changed>,
    /// Requests replayed, and those with no client or destination to
    /// replay (squid could not read them).
    pub requests: u64,
    pub skipped: u64,
    /// Requests whose verdict stays.
    pub unchanged: u64,
    #[serde(skip)]
    index: HashMap<(Change, Option<IpAddr>, String, String, u16), usize>,
}

fn decided(v: &ProxyVerdict) -> String {
    match &v.line {
        Some(l) => format!(
            "{}:{}: http_access {} {}",
            l.file,
            l.line,
            if l.allow { "allow" } else { "deny" },
            l.acls.join(" ")
        ),
        None => "the implicit rule (the opposite of the last http_access line)".to_string(),
    }
}

impl Replay {
    /// A replay through `new`, against `old` (else the logged verdicts).
    pub fn new(new: &SquidConfig, old: Option<&SquidConfig>) -> Replay {
        Replay {
            new: new.clone(),
            old: old.cloned(),
            ..Replay::default()
        }
    }

    /// Replays one logged request (log `log`, line `line`). A name squid
    /// resolved for it (the logged server address) resolves so for the
    /// evaluator too: the verdict is squid's, not "depends on DNS".
    pub fn add(&mut self, r: &Request<'_>, log: usize, line: u64) {
        let Some(request) = proxy_request(r, &self.new) else {
            self.skipped += 1;
            return;
        };
        self.requests += 1;
        if let (Some(server), Some(t)) = (r.server, r.target.as_ref())
            && t.host.parse::<IpAddr>().is_err()
            && !self.new.known.contains_key(t.host.as_ref())
        {
            self.new.known.insert(t.host.to_string(), vec![server]);
            if let Some(old) = self.old.as_mut() {
                old.known.insert(t.host.to_string(), vec![server]);
            }
        }
        let (new, old) = (&self.new, self.old.as_ref());
        let before = match old {
            Some(old) => {
                let v = old.evaluate(&request);
                v.allowed && !v.depends_on_dns
            }
            None => r.verdict == Verdict::Allowed,
        };
        let after = new.evaluate(&request);
        let change = if after.depends_on_dns {
            Change::DependsOnDns
        } else if before && !after.allowed {
            Change::NewlyDenied
        } else if !before && after.allowed {
            Change::NewlyAllowed
        } else {
            self.unchanged += 1;
            return;
        };
        let (host, port) = r
            .target
            .as_ref()
            .map_or((String::new(), 0), |t| (t.host.to_string(), t.port));
        let key = (change, r.client, r.method.to_string(), host.clone(), port);
        if let Some(&i) = self.index.get(&key) {
            if let Some(c) = self.changed.get_mut(i) {
                c.count += 1;
            }
            return;
        }
        if self.changed.len() >= super::MAX_ENTRIES {
            return;
        }
        self.index.insert(key, self.changed.len());
        self.changed.push(Changed {
            change,
            client: r.client,
            method: r.method.to_string(),
            host,
            port,
            count: 1,
            log,
            line,
            decided_by: decided(&after),
        });
    }
}

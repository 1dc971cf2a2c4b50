//! Built-in plugin `squid`: the proxy is the one controlled exit, so its
//! configuration must admit only the intended clients, reach only the
//! intended destinations (never cloud metadata or internal ranges), tunnel
//! only to TLS ports, end with `deny all`, log, and listen only where it
//! should.
//!
//! The plugin asks the host to evaluate requests (`facts.evaluate-proxy`)
//! against every squid configuration of the inputs; the host's evaluator is
//! the one the tests hold against a real squid. The proxy's pods and its
//! intended clients are the policy set's `roles.proxy`.

use ipnet::IpNet;
use palisade_sdk::{
    Context, Direction, Plugin, ProxyConfig, ProxyRequest as ProxyQuery, Rule, SettingSpec,
    SettingType, Severity, Workload,
};
use serde::Deserialize;

/// Settings of the `squid` plugin.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Settings {
    /// The intended destination allow-list (squid dstdomain syntax); empty:
    /// drift is not checked.
    #[serde(default)]
    pub allowed_destinations: Vec<String>,
    /// An address that is not a client, to probe for an open proxy.
    #[serde(default = "default_outsider")]
    pub outside_client: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            allowed_destinations: Vec::new(),
            outside_client: default_outsider(),
        }
    }
}

fn default_outsider() -> String {
    "203.0.113.10".into()
}

/// Why a query is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Probe {
    /// An outsider reaching a destination.
    Open,
    /// CONNECT to a non-TLS port.
    ConnectPort,
    /// A metadata, loopback, link-local or private address.
    Ssrf(&'static str),
    /// Plain HTTP to a high port.
    HighPort,
    /// An allowed destination: must be allowed.
    Wanted,
    /// A destination outside the allow-list: must be denied.
    Unwanted,
}

const SSRF: &[(&str, &str)] = &[
    ("169.254.169.254", "the cloud metadata service"),
    ("fd00:ec2::254", "the cloud metadata service (IPv6)"),
    ("127.0.0.1", "loopback"),
    ("169.254.10.10", "a link-local address"),
    ("10.0.0.1", "a private address"),
    ("172.16.0.1", "a private address"),
    ("192.168.0.1", "a private address"),
];

fn first_host(cidr: &str) -> Option<String> {
    let net: IpNet = cidr.parse().ok()?;
    Some(net.hosts().next().unwrap_or(net.network()).to_string())
}

fn destinations(s: &Settings) -> Vec<String> {
    let mut d: Vec<String> = s
        .allowed_destinations
        .iter()
        .map(|x| x.trim_start_matches('.').to_string())
        .filter(|x| !x.is_empty())
        .collect();
    if d.is_empty() {
        d.push("example.com".into());
    }
    d
}

fn plan(s: &Settings, client_cidrs: &[String]) -> Vec<(Probe, ProxyQuery)> {
    let q = |client: &str, method: &str, host: &str, port: u16| ProxyQuery {
        client: client.to_string(),
        method: method.to_string(),
        host: host.to_string(),
        port,
    };
    let mut out = Vec::new();
    let dests = destinations(s);
    for d in &dests {
        out.push((Probe::Open, q(&s.outside_client, "GET", d, 80)));
        out.push((Probe::Open, q(&s.outside_client, "CONNECT", d, 443)));
    }
    for client in client_cidrs.iter().filter_map(|c| first_host(c)) {
        for d in &dests {
            for port in [22, 25, 8080, 3306] {
                out.push((Probe::ConnectPort, q(&client, "CONNECT", d, port)));
            }
            for port in [1025, 8080] {
                out.push((Probe::HighPort, q(&client, "GET", d, port)));
            }
        }
        for (ip, what) in SSRF {
            out.push((Probe::Ssrf(what), q(&client, "GET", ip, 80)));
            out.push((Probe::Ssrf(what), q(&client, "CONNECT", ip, 443)));
        }
        if !s.allowed_destinations.is_empty() {
            for d in &dests {
                out.push((Probe::Wanted, q(&client, "CONNECT", d, 443)));
            }
            out.push((
                Probe::Unwanted,
                q(&client, "CONNECT", "palisade-canary.invalid", 443),
            ));
            out.push((
                Probe::Unwanted,
                q(&client, "GET", "palisade-canary.invalid", 80),
            ));
        }
    }
    out
}

/// The plugin.
#[derive(Debug)]
pub struct Squid;

impl Plugin for Squid {
    const ID: &'static str = "squid";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Squid as the one controlled exit: only the intended clients \
        and destinations, no SSRF into metadata or internal ranges, CONNECT only to TLS ports, a \
        final deny, access logs, and a listener only where it should be.";
    type Settings = Settings;
    const SETTINGS: &'static [SettingSpec] = &[
        SettingSpec {
            name: "allowedDestinations",
            kind: SettingType::TextList,
            doc: "The intended destination allow-list, in squid dstdomain syntax; empty: drift is not checked",
        },
        SettingSpec {
            name: "outsideClient",
            kind: SettingType::Text,
            doc: "An address that is not a client, to probe for an open proxy (default: 203.0.113.10)",
        },
    ];
    const RULES: &'static [Rule<Settings>] = &[
        SQ001, SQ002, SQ003, SQ004, SQ005, SQ006, SQ007, SQ008, SQ009, SQ010, SQ011,
    ];

    fn validate(s: &Settings) -> Result<(), String> {
        s.outside_client
            .parse::<std::net::IpAddr>()
            .map_err(|_| format!("`{}` is not an address", s.outside_client))?;
        Ok(())
    }
}

palisade_sdk::export_plugin!(Squid);

/// (config, probe, request, allowed, deciding line) for every probe of the
/// plan against every configuration, as the host's evaluator decides.
fn answers<'a>(
    cx: &Context<'a, Settings>,
) -> Vec<(&'a ProxyConfig, Probe, ProxyQuery, bool, Option<u32>)> {
    let facts = cx.facts();
    let p = plan(cx.settings(), &facts.proxy().client_cidrs);
    let mut out = Vec::new();
    for (i, config) in facts.proxies().iter().enumerate() {
        let index = u32::try_from(i).unwrap_or(u32::MAX);
        for (probe, query) in &p {
            if let Some(v) = facts.evaluate_proxy(index, query) {
                out.push((config, probe.clone(), query.clone(), v.allowed, v.line));
            }
        }
    }
    out
}

fn line_or_last(config: &ProxyConfig, line: Option<u32>) -> u32 {
    line.or_else(|| config.access.last().map(|a| a.line))
        .unwrap_or(1)
}

fn describe(q: &ProxyQuery) -> String {
    let host = if q.host.contains(':') {
        format!("[{}]", q.host)
    } else {
        q.host.clone()
    };
    format!("{} from {} to {host}:{}", q.method, q.client, q.port)
}

fn decided(line: Option<u32>) -> String {
    match line {
        Some(l) => format!("line {l} allows it"),
        None => "the implicit rule allows it (the last http_access line denies)".into(),
    }
}

/// Reports the first answer of each config that matches `want` once.
fn report_once(
    cx: &Context<'_, Settings>,
    out: &mut palisade_sdk::Findings,
    want: impl Fn(&Probe, bool) -> bool,
    message: impl Fn(&ProxyConfig, &Probe, &ProxyQuery, Option<u32>) -> String,
    fix: &str,
) {
    let mut seen: Vec<u32> = Vec::new();
    for (config, probe, query, allowed, line) in answers(cx) {
        if !want(&probe, allowed) || seen.contains(&config.object) {
            continue;
        }
        seen.push(config.object);
        out.report(config.object, message(config, &probe, &query, line))
            .at_line(line_or_last(config, line))
            .fix(fix);
    }
}

const SQ001: Rule<Settings> = Rule {
    id: "SQ001",
    name: "open-proxy",
    default_severity: Severity::Error,
    summary: "The proxy serves clients outside the intended ranges",
    doc: r#"## What it checks

Asks the configuration whether an address outside `clientCidrs` may GET and
CONNECT through it: `http_access allow all`, or allow lines without a `src`
restriction, make an open proxy.

## Why it matters

An open proxy carries anyone's traffic out with your identity, and anyone
inside who can reach it bypasses the egress allow-list.

## Example

```
http_access allow all
```

## How to fix

Restrict every allow line with a `src` ACL of the client ranges, and end with
`http_access deny all`.

## Settings

See the plugin settings.
"#,
    check: |cx, out| {
        report_once(
            cx,
            out,
            |p, allowed| *p == Probe::Open && allowed,
            |_, _, q, line| format!("open proxy: {} is allowed ({})", describe(q), decided(line)),
            "restrict allow lines with `src` ACLs of the client ranges",
        );
    },
};

const SQ002: Rule<Settings> = Rule {
    id: "SQ002",
    name: "no-final-deny-all",
    default_severity: Severity::Error,
    summary: "The http_access list does not end with `http_access deny all`",
    doc: r#"## What it checks

The last `http_access` line must be `deny all`.

## Why it matters

When no line matches, squid applies the opposite of the last line: a list
ending in `deny` silently allows everything it does not name.

## Example

```
http_access deny blocked_sites
```

## How to fix

End the list with `http_access deny all`.

## Settings

None.
"#,
    check: |cx, out| {
        for config in cx.facts().proxies() {
            let last = config.access.last();
            // ACL names are case-insensitive in squid (`deny ALL`).
            let ok = last.is_some_and(|a| {
                !a.allow && matches!(a.acls.as_slice(), [only] if only.eq_ignore_ascii_case("all"))
            });
            if !ok {
                let line = last.map_or(1, |a| a.line);
                out.report(
                    config.object,
                    format!(
                        "{} does not end with `http_access deny all`: unmatched requests get the opposite of the last line",
                        config.file
                    ),
                )
                .at_line(line)
                .fix("add `http_access deny all` as the last http_access line");
            }
        }
    },
};

const SQ003: Rule<Settings> = Rule {
    id: "SQ003",
    name: "connect-to-non-tls-ports",
    default_severity: Severity::Error,
    summary: "Clients can CONNECT (tunnel) to ports other than 443",
    doc: r#"## What it checks

Asks whether a client may CONNECT to ports 22, 25, 8080 and 3306 of the
allowed destinations (or example.com).

## Why it matters

CONNECT opens a raw TCP tunnel: to SSH or SMTP it carries anything, unseen.

## Example

A config without `http_access deny CONNECT !SSL_ports`.

## How to fix

```
acl SSL_ports port 443
http_access deny CONNECT !SSL_ports
```

## Settings

See the plugin settings.
"#,
    check: |cx, out| {
        report_once(
            cx,
            out,
            |p, allowed| *p == Probe::ConnectPort && allowed,
            |_, _, q, line| {
                format!(
                    "tunnels to non-TLS ports are possible: {} is allowed ({})",
                    describe(q),
                    decided(line)
                )
            },
            "deny CONNECT to ports other than the TLS ports",
        );
    },
};

const SQ004: Rule<Settings> = Rule {
    id: "SQ004",
    name: "ssrf-to-internal-addresses",
    default_severity: Severity::Error,
    summary: "Cloud metadata, loopback, link-local or private addresses are reachable through the proxy",
    doc: r#"## What it checks

Asks whether a client may GET or CONNECT to 169.254.169.254,
fd00:ec2::254, 127.0.0.1, link-local and private addresses.

## Why it matters

The proxy sits where workloads cannot: through it, a compromised pod reads
cloud credentials from the metadata service or reaches internal services
(server-side request forgery).

## Example

An allow-list by `dst` of 0.0.0.0/0, or a final `allow` for the clients.

## How to fix

```
acl internal dst 169.254.0.0/16 127.0.0.0/8 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 fc00::/7 fe80::/10
http_access deny internal
```

## Settings

See the plugin settings.
"#,
    check: |cx, out| {
        let mut seen: Vec<(u32, &str)> = Vec::new();
        for (config, probe, query, allowed, line) in answers(cx) {
            let Probe::Ssrf(what) = probe else { continue };
            if !allowed || seen.contains(&(config.object, what)) {
                continue;
            }
            seen.push((config.object, what));
            out.report(
                config.object,
                format!(
                    "{what} is reachable through the proxy: {} is allowed ({})",
                    describe(&query),
                    decided(line)
                ),
            )
            .at_line(line_or_last(config, line))
            .fix("deny metadata, loopback, link-local and private destinations before any allow");
        }
    },
};

const SQ005: Rule<Settings> = Rule {
    id: "SQ005",
    name: "plain-http-to-high-ports",
    default_severity: Severity::Warning,
    summary: "Plain HTTP to arbitrary high ports is allowed (the default Safe_ports)",
    doc: r#"## What it checks

Asks whether a client may GET ports 1025 and 8080 of the allowed
destinations (or example.com).

## Why it matters

Squid's default `Safe_ports` includes 1025-65535: plain-text HTTP to any
high port, a common exfiltration and C2 channel.

## Example

```
acl Safe_ports port 1025-65535
```

## How to fix

Keep `Safe_ports` to 80 and 443 (and what you need).

## Settings

See the plugin settings.
"#,
    check: |cx, out| {
        report_once(
            cx,
            out,
            |p, allowed| *p == Probe::HighPort && allowed,
            |_, _, q, line| {
                format!(
                    "plain HTTP to high ports is allowed: {} ({})",
                    describe(q),
                    decided(line)
                )
            },
            "remove 1025-65535 from Safe_ports",
        );
    },
};

const SQ006: Rule<Settings> = Rule {
    id: "SQ006",
    name: "access-log-disabled",
    default_severity: Severity::Error,
    summary: "`access_log none`: the proxy keeps no audit trail",
    doc: r#"## What it checks

`access_log none`.

## Why it matters

The proxy's access log is the audit trail of everything that left the
private subnet.

## Example

```
access_log none
```

## How to fix

Log to a file or a daemon: `access_log stdio:/var/log/squid/access.log`.

## Settings

None.
"#,
    check: |cx, out| {
        for config in cx.facts().proxies() {
            for (value, line) in &config.access_logs {
                if value == "none" {
                    out.report(
                        config.object,
                        format!("{} disables the access log", config.file),
                    )
                    .at_line(*line)
                    .fix("log to a file or a daemon");
                }
            }
        }
    },
};

const SQ007: Rule<Settings> = Rule {
    id: "SQ007",
    name: "listens-on-all-interfaces",
    default_severity: Severity::Warning,
    summary: "An http_port without an address listens on every interface",
    doc: r#"## What it checks

`http_port` lines without an address (or with 0.0.0.0 / ::).

## Why it matters

The proxy then also answers on interfaces it was not meant for (node or
public addresses), widening who can use it.

## Example

```
http_port 3128
```

## How to fix

Bind the proxy to its service address: `http_port 10.0.100.10:3128`.
Configurations deployed through a ConfigMap are not judged by this rule: in
a pod, the NetworkPolicy in front of the proxy decides who reaches the
listener (`PX004`).

## Settings

None.
"#,
    check: |cx, out| {
        for config in cx.facts().proxies() {
            // In a ConfigMap the config runs in a pod: its NetworkPolicy
            // decides who reaches the listener (PX004), and pod addresses are
            // not known in advance.
            let in_pod = cx
                .object(config.object)
                .is_some_and(|o| o.kind == "ConfigMap");
            if in_pod {
                continue;
            }
            for l in &config.listeners {
                let all = l
                    .address
                    .as_deref()
                    .is_none_or(|a| a == "0.0.0.0" || a == "::");
                if all {
                    out.report(
                        config.object,
                        format!("`http_port {}` listens on every interface", l.port),
                    )
                    .at_line(l.line)
                    .fix("bind http_port to the proxy's address");
                }
            }
        }
    },
};

const SQ008: Rule<Settings> = Rule {
    id: "SQ008",
    name: "allow-list-allows-everything",
    default_severity: Severity::Error,
    summary: "A destination ACL used in an allow line matches everything",
    doc: r#"## What it checks

ACLs used in `http_access allow` lines whose values match every destination:
`dstdomain .`, `dstdom_regex .*` (or `.`), `dst 0.0.0.0/0` or `::/0`.

## Why it matters

The allow-list looks present but allows the whole internet.

## Example

```
acl allowed dstdom_regex .*
http_access allow clients allowed
```

## How to fix

List the domains that are needed.

## Settings

None.
"#,
    check: |cx, out| {
        for config in cx.facts().proxies() {
            // Case-insensitive, as squid compares ACL names.
            let used: Vec<String> = config
                .access
                .iter()
                .filter(|a| a.allow)
                .flat_map(|a| a.acls.iter())
                .filter(|n| !n.starts_with('!'))
                .map(|n| n.to_ascii_lowercase())
                .collect();
            for acl in config
                .acls
                .iter()
                .filter(|a| used.contains(&a.name.to_ascii_lowercase()))
            {
                // The host's evaluator decides what matches everything.
                if acl.matches_every_destination {
                    out.report(
                        config.object,
                        format!(
                            "acl `{}` ({}) matches every destination and an allow line uses it",
                            acl.name, acl.type_name
                        ),
                    )
                    .at_line(acl.lines.first().copied().unwrap_or(1))
                    .fix("list the destinations that are needed");
                }
            }
        }
    },
};

const SQ009: Rule<Settings> = Rule {
    id: "SQ009",
    name: "destination-drift",
    default_severity: Severity::Warning,
    summary: "The proxy's destinations drift from the intended allow-list",
    doc: r#"## What it checks

With `allowedDestinations` set: every listed destination must be reachable by
CONNECT 443 from a client, and a destination outside the list
(`palisade-canary.invalid`) must not be.

## Why it matters

The allow-list in review and the one in the config must be the same list:
drift one way breaks workloads, the other way opens the exit.

## Example

`allowedDestinations: [.github.com]` while the config also allows
everything under `.com`.

## How to fix

Make the config's dstdomain ACLs match the intended list.

## Settings

See the plugin settings.
"#,
    check: |cx, out| {
        for (config, probe, query, allowed, line) in answers(cx) {
            let problem = match (probe, allowed) {
                (Probe::Wanted, false) => {
                    format!("intended destination is denied: {}", describe(&query))
                }
                (Probe::Unwanted, true) => format!(
                    "a destination outside the allow-list is allowed: {} ({})",
                    describe(&query),
                    decided(line)
                ),
                _ => continue,
            };
            out.report(config.object, problem)
                .at_line(line_or_last(config, line))
                .fix("make the dstdomain ACLs match allowedDestinations");
        }
    },
};

/// Whether the workload is the proxy, as the host resolved the policy
/// set's `roles.proxy`.
fn is_proxy(cx: &Context<'_, Settings>, w: &Workload) -> bool {
    cx.facts().proxy().pods.has(w.id)
}

const SQ010: Rule<Settings> = Rule {
    id: "SQ010",
    name: "egress-port-not-served",
    default_severity: Severity::Error,
    summary: "NetworkPolicies send workloads to the proxy on a port squid does not listen on",
    doc: r#"## What it checks

When the inputs hold both a squid configuration and the NetworkPolicies:
egress rules towards the proxy's pods must include a port squid listens on
(`http_port`).

## Why it matters

Workloads then cannot reach the proxy, and someone will "fix" egress with a
wider rule.

## Example

The policy allows 8080, squid listens on 3128.

## How to fix

Align the policy's ports with `http_port`.

## Settings

None; the proxy's pods are the policy set's `roles.proxy`.
"#,
    check: |cx, out| {
        let listening: Vec<u16> = cx
            .facts()
            .proxies()
            .iter()
            .flat_map(|c| c.listeners.iter().map(|l| l.port))
            .collect();
        if listening.is_empty() {
            return;
        }
        for w in cx.workloads() {
            for f in cx.flows(w, true) {
                let Some((_, m)) = f.peer else { continue };
                let to_proxy: Vec<&Workload> = m
                    .workloads
                    .iter()
                    .filter_map(|&i| cx.workload(i))
                    .filter(|d| is_proxy(cx, d))
                    .collect();
                let Some(proxy) = to_proxy.first() else {
                    continue;
                };
                if f.rule.ports.is_empty() {
                    continue; // every port: PX002's concern
                }
                // Named ports resolve on the proxy's containers (the host
                // resolves them).
                let serves = cx
                    .facts()
                    .resolved_ports(f.flow.policy, Direction::Egress, f.flow.rule, proxy.id)
                    .is_none_or(|ranges| {
                        ranges
                            .iter()
                            .any(|r| listening.iter().any(|l| (r.first..=r.last).contains(l)))
                    });
                if !serves {
                    out.report(
                        f.policy.object,
                        format!(
                            "NetworkPolicy `{}/{}` egress rule {} sends {} `{}/{}` to the proxy on ports squid does not listen on (http_port {})",
                            f.policy.namespace,
                            f.policy.name,
                            f.flow.rule,
                            w.kind,
                            w.namespace,
                            w.name,
                            listening.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
                        ),
                    )
                    .at(format!("{}/ports", f.rule.path))
                    .fix("allow the port squid listens on");
                }
            }
        }
    },
};

/// The values of `src` ACLs used (not negated) in allow lines: as written,
/// the line that wrote each, and the addresses it stands for as the host
/// reads it (CIDRs).
fn admitted_sources(config: &ProxyConfig) -> Vec<(String, u32, Vec<IpNet>)> {
    // ACL name (lower case, as squid compares them) -> the first allow line
    // that uses it.
    let mut used: Vec<(String, u32)> = Vec::new();
    for a in config.access.iter().filter(|a| a.allow) {
        for n in a.acls.iter().filter(|n| !n.starts_with('!')) {
            let n = n.to_ascii_lowercase();
            if !used.iter().any(|(u, _)| *u == n) {
                used.push((n, a.line));
            }
        }
    }
    config
        .acls
        .iter()
        .filter(|a| a.type_name == "src")
        .filter_map(|a| {
            let name = a.name.to_ascii_lowercase();
            let (_, allow_line) = used.iter().find(|(u, _)| *u == name)?;
            Some((a, *allow_line))
        })
        .flat_map(|(a, allow_line)| {
            // The line that wrote each value; a predefined ACL (no lines)
            // at the allow line that uses it.
            a.values.iter().enumerate().map(move |(i, v)| {
                // One line per value when the host could align them (not
                // for a predefined ACL extended by the configuration).
                let per_value = a.lines.len() == a.values.len();
                let line = per_value
                    .then(|| a.lines.get(i))
                    .flatten()
                    .or(a.lines.first())
                    .copied()
                    .unwrap_or(allow_line);
                let nets = a
                    .value_cidrs
                    .get(i)
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c.parse().ok())
                    .collect();
                (v.clone(), line, nets)
            })
        })
        .collect()
}

const SQ011: Rule<Settings> = Rule {
    id: "SQ011",
    name: "client-drift",
    default_severity: Severity::Warning,
    summary: "Squid admits clients beyond the intended ranges, or refuses pods NetworkPolicies send to it",
    doc: r#"## What it checks

Both directions of client drift: `src` ACLs used in allow lines must lie
inside `clientCidrs`; and workloads with known pod IPs that NetworkPolicies
send to the proxy's pods must be admitted by some allow-line `src` ACL.

## Why it matters

The NetworkPolicies and the proxy's ACLs describe the same set of clients;
when they disagree, either the proxy serves more than the network design
says, or legitimate clients fail and someone widens a rule.

## Example

```
acl localnet src 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16   # clientCidrs: [10.0.0.0/8]
```

## How to fix

Keep the proxy's client ACLs equal to the pod ranges that use it.

## Settings

None; the intended client ranges and the proxy's pods are the policy set's
`roles.proxy` (`clientCidrs`, `namespace`, `podSelector`).
"#,
    check: |cx, out| {
        let client_cidrs = &cx.facts().proxy().client_cidrs;
        let intended: Vec<IpNet> = client_cidrs.iter().filter_map(|c| c.parse().ok()).collect();
        for config in cx.facts().proxies() {
            let sources = admitted_sources(config);
            for (value, line, nets) in &sources {
                // Host names (resolved when squid loads) have no addresses
                // here.
                if nets
                    .iter()
                    .any(|net| !intended.iter().any(|i| i.contains(net)))
                {
                    out.report(
                        config.object,
                        format!("the proxy admits clients in `{value}`, outside the intended client ranges ({})", client_cidrs.join(", ")),
                    )
                    .at_line(*line)
                    .fix("keep the client ACLs equal to the pod ranges that use the proxy");
                }
            }
            let nets: Vec<IpNet> = sources
                .iter()
                .flat_map(|(_, _, nets)| nets.iter().copied())
                .collect();
            for w in cx.workloads() {
                let sends_to_proxy = cx.flows(w, true).iter().any(|f| {
                    f.peer.is_some_and(|(_, m)| {
                        m.workloads
                            .iter()
                            .filter_map(|&i| cx.workload(i))
                            .any(|d| is_proxy(cx, d))
                    })
                });
                if !sends_to_proxy {
                    continue;
                }
                for ip in w
                    .pod_ips
                    .iter()
                    .filter_map(|ip| ip.parse::<std::net::IpAddr>().ok())
                {
                    if !nets.iter().any(|n| n.contains(&ip)) {
                        out.report(
                            config.object,
                            format!(
                                "NetworkPolicies send {} `{}/{}` ({ip}) to the proxy, but no allow line's src ACL admits it",
                                w.kind, w.namespace, w.name
                            ),
                        )
                        .at_line(config.access.last().map_or(1, |a| a.line))
                        .fix("admit the pod ranges that use the proxy in the client ACL");
                    }
                }
            }
        }
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_is_deterministic_and_covers_every_probe() {
        let s = Settings {
            allowed_destinations: vec![".github.com".into()],
            ..Settings::default()
        };
        let p = plan(&s, &["10.0.0.0/8".to_string()]);
        assert_eq!(p, plan(&s, &["10.0.0.0/8".to_string()]));
        for probe in [
            Probe::Open,
            Probe::ConnectPort,
            Probe::HighPort,
            Probe::Wanted,
            Probe::Unwanted,
        ] {
            assert!(p.iter().any(|(x, _)| *x == probe), "{probe:?}");
        }
        assert!(
            p.iter()
                .any(|(_, q)| q.host == "github.com" && q.client == "10.0.0.1")
        );
    }

    #[test]
    fn the_rule_table_is_well_formed() {
        assert_eq!(
            palisade_sdk::testing::rule_table_problems::<Squid>(),
            Vec::<String>::new()
        );
    }
}

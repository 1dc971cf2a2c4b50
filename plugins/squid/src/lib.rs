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
        SQ001, SQ002, SQ003, SQ004, SQ005, SQ006, SQ007, SQ008, SQ009, SQ010, SQ011, SQ012, SQ013,
        SQ014, SQ015, SQ016,
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

// Rules over what the access logs show (contract 0.2.3: `observed`). Each
// finding points at the log line of the call's first request.

use palisade_sdk::observed::{CallClient, CallVerdict, ObservedCall};

/// Whether `host` is inside a squid `dstdomain` entry: `.example.com`
/// holds the domain and its subdomains, `example.com` only itself.
fn in_dstdomain(host: &str, entry: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let entry = entry.trim_end_matches('.').to_ascii_lowercase();
    match entry.strip_prefix('.') {
        Some(domain) => host == domain || host.ends_with(&entry),
        None => host == entry,
    }
}

/// The intended allow-list: the setting, else the `dstdomain` values the
/// configurations' allow lines use.
fn intended_list(cx: &Context<'_, Settings>) -> Vec<String> {
    let set = &cx.settings().allowed_destinations;
    if !set.is_empty() {
        return set.clone();
    }
    let mut out = Vec::new();
    for p in cx.facts().proxies() {
        for line in p.access.iter().filter(|l| l.allow) {
            for name in line.acls.iter().filter(|a| !a.starts_with('!')) {
                if let Some(acl) = p
                    .acls
                    .iter()
                    .find(|a| a.name.eq_ignore_ascii_case(name) && a.type_name == "dstdomain")
                {
                    out.extend(acl.values.iter().cloned());
                }
            }
        }
    }
    out
}

/// Who sent a call, for messages.
fn who(cx: &Context<'_, Settings>, c: &ObservedCall) -> String {
    let address = c.client_address.as_deref().unwrap_or("an unknown client");
    match &c.client {
        CallClient::Workload(w) => match cx.workload(*w) {
            Some(w) => format!("{} `{}/{}` ({address})", w.kind, w.namespace, w.name),
            None => address.to_string(),
        },
        CallClient::Namespace(ns) => format!("{address} (namespace `{ns}`)"),
        CallClient::ClientRange(r) => format!("{address} (client range {r})"),
        CallClient::Unattributed => format!("{address} (no workload of the inputs)"),
    }
}

fn target(c: &ObservedCall) -> String {
    if c.host.contains(':') {
        format!("[{}]:{}", c.host, c.port)
    } else {
        format!("{}:{}", c.host, c.port)
    }
}

fn times(c: &ObservedCall) -> String {
    if c.count == 1 {
        "once".to_string()
    } else {
        format!("{} times", c.count)
    }
}

/// The calls in scope: clients not in an excluded namespace.
fn calls<'a>(cx: &Context<'a, Settings>) -> impl Iterator<Item = &'a ObservedCall> + 'a {
    let facts = cx.facts();
    let excluded: Vec<String> = facts.excluded_namespaces().to_vec();
    facts
        .observed_calls()
        .iter()
        .filter(move |c| match &c.client {
            CallClient::Workload(w) => facts
                .workloads()
                .get(*w as usize)
                .is_none_or(|w| !excluded.contains(&w.namespace)),
            CallClient::Namespace(ns) => !excluded.contains(ns),
            _ => true,
        })
}

const SQ012: Rule<Settings> = Rule {
    id: "SQ012",
    name: "observed-call-outside-allow-list",
    default_severity: Severity::Error,
    summary: "The access log shows the proxy let a call through to a destination outside the intended allow-list",
    doc: r#"## What it checks

With an access log among the inputs: every call squid let through goes to a
host inside the intended allow-list (squid `dstdomain` syntax: `.example.com`
holds the domain and its subdomains, `example.com` only itself). The list is
the `allowedDestinations` setting; without it, the `dstdomain` ACLs the
configurations' `http_access allow` lines use (then a call outside them went
through another allow line: an `allow all` for some clients, a port rule);
without either, there is no list to hold calls to and the rule is quiet. One finding per client, method and destination, at the log line of
its first request, with the count and who sent it.

## Why it matters

The configuration says what may leave; the log says what did. A call outside
the intended list that squid allowed is the allow-list failing in practice:
a wider ACL than meant, an `allow all` for some clients, drift.

## Example

`allowedDestinations: [.github.com]` and the log line
`… 10.0.3.7 TCP_TUNNEL/200 5120 CONNECT paste.example:443 …`.

## How to fix

Narrow the configuration so squid denies it (`palisade proxy replay` shows
what a new configuration would change), or add the destination to the list
if it is needed.

## Settings

`allowedDestinations`.
"#,
    check: |cx, out| {
        let list = intended_list(cx);
        if list.is_empty() {
            return;
        }
        for c in calls(cx) {
            if c.verdict != CallVerdict::Allowed
                || c.host.is_empty()
                || list.iter().any(|e| in_dstdomain(&c.host, e))
            {
                continue;
            }
            out.report(
                c.log,
                format!(
                    "the proxy let {} {} {} {}: outside the allow-list",
                    who(cx, c),
                    c.method,
                    target(c),
                    times(c)
                ),
            )
            .at_line(c.line)
            .fix("deny it in the squid configuration, or add the destination to allowedDestinations if it is needed");
        }
    },
};

const SQ013: Rule<Settings> = Rule {
    id: "SQ013",
    name: "observed-tunnel-to-address-or-plain-port",
    default_severity: Severity::Error,
    summary: "The access log shows a CONNECT tunnel to an IP address or to a port other than 443",
    doc: r#"## What it checks

Every CONNECT the access log shows squid let through goes to a host name on
port 443. A tunnel to an IP literal skips every `dstdomain` ACL (squid's
reverse lookup decides, if anything), and a tunnel to another port (22, 25,
3306) carries whatever protocol the client likes through the proxy.

## Why it matters

CONNECT is an opaque pipe. Limited to names on 443 it carries TLS to named
services; to `203.0.113.9:22` it is an SSH session out of the cluster.

## Example

`… 10.0.3.7 TCP_TUNNEL/200 4096 CONNECT 203.0.113.9:22 …`

## How to fix

`http_access deny CONNECT !SSL_ports` with `acl SSL_ports port 443`, and deny
CONNECT to IP literals (`acl by_ip dstdom_regex ^[0-9.]+$`, `^\[`).

## Settings

None.
"#,
    check: |cx, out| {
        for c in calls(cx) {
            if c.verdict != CallVerdict::Allowed || !c.method.eq_ignore_ascii_case("CONNECT") {
                continue;
            }
            let literal = c.host.parse::<std::net::IpAddr>().is_ok();
            let why = match (literal, c.port) {
                (true, 443) => "to an IP address",
                (true, _) => "to an IP address and a port other than 443",
                (false, 443) => continue,
                (false, _) => "to a port other than 443",
            };
            out.report(
                c.log,
                format!(
                    "the proxy tunnelled {} to {} {}: CONNECT {why}",
                    who(cx, c),
                    target(c),
                    times(c)
                ),
            )
            .at_line(c.line)
            .fix("deny CONNECT to ports other than 443 and to IP literals");
        }
    },
};

const SQ014: Rule<Settings> = Rule {
    id: "SQ014",
    name: "observed-internal-destination",
    default_severity: Severity::Error,
    summary: "The access log shows requests to cloud metadata, loopback, link-local or private addresses",
    doc: r#"## What it checks

Every call in the access log whose destination is an IP address the host
classifies as cloud metadata (`169.254.169.254`, `fd00:ec2::254`), loopback,
link-local, private or shared (CGNAT) space, or a name squid connected to
such an address for (the log's server address, `%<a`: an internal name, or
DNS pointing a public-looking name inside). Allowed calls are errors;
denied ones are warnings (someone tried).

## Why it matters

Through the proxy, such a request reaches the proxy's own network: the
metadata service hands out the node's cloud credentials, and private
addresses are the VPC's internal services. It is the classic SSRF path, and
a workload trying it is worth knowing about even when squid said no.

## Example

`… 10.0.3.7 TCP_MISS/200 1024 GET http://169.254.169.254/latest/meta-data/ …`

## How to fix

`http_access deny` the internal ranges before any allow (see `SQ004`), and
find out why the workload asked.

## Settings

None.
"#,
    check: |cx, out| {
        for c in calls(cx) {
            // The destination itself, else the address squid reached for
            // a name (a name that resolves inside).
            let address = if c.host.parse::<std::net::IpAddr>().is_ok() {
                c.host.clone()
            } else {
                let internal = c
                    .server_addresses
                    .iter()
                    .find(|a| cx.facts().classify_address(a).is_some_and(|k| !k.public));
                match internal {
                    Some(a) => a.clone(),
                    None => continue,
                }
            };
            let Some(classes) = cx.facts().classify_address(&address) else {
                continue;
            };
            let what = if classes.metadata {
                "the cloud metadata service"
            } else if classes.loopback {
                "loopback"
            } else if classes.link_local {
                "a link-local address"
            } else if classes.private {
                "a private address"
            } else if classes.shared {
                "shared address space"
            } else {
                continue;
            };
            let (verb, severity) = match c.verdict {
                CallVerdict::Allowed => ("the proxy let", Severity::Error),
                _ => ("the proxy denied", Severity::Warning),
            };
            out.report(
                c.log,
                format!(
                    "{verb} {} {} {} ({what}{}) {}",
                    who(cx, c),
                    c.method,
                    target(c),
                    if address == c.host {
                        String::new()
                    } else {
                        format!(": the name went to {address}")
                    },
                    times(c)
                ),
            )
            .at_line(c.line)
            .severity(severity)
            .fix("deny metadata, loopback, link-local and private destinations before any allow");
        }
    },
};

const SQ015: Rule<Settings> = Rule {
    id: "SQ015",
    name: "observed-client-not-meant-to-use-proxy",
    default_severity: Severity::Warning,
    summary: "The access log shows a client that is not meant to use the proxy",
    doc: r#"## What it checks

Every client in the access log is meant to use the proxy: with
`roles.proxy.clientNamespaces` set, its workload (or the namespace whose
address pool holds it) is in one of them; and its address is inside
`roles.proxy.clientCidrs`. One finding per client and destination.

## Why it matters

A client from outside the pod network is someone else using the cluster's
exit (a VPN range, a peered VPC, the internet through an exposed port); a
namespace not meant to use the proxy means a policy let it reach it.

## Example

`roles.proxy.clientNamespaces: [shop]` and calls from `legacy/reports`.

## How to fix

Restrict the proxy's ingress NetworkPolicy and its `src` ACLs to the client
namespaces and ranges, or list the namespace if it is meant to use it.

## Settings

None. The proxy's clients are the policy set's `roles.proxy`.
"#,
    check: |cx, out| {
        let role = cx.facts().proxy();
        for c in calls(cx) {
            let namespace = match &c.client {
                CallClient::Workload(w) => cx.workload(*w).map(|w| w.namespace.clone()),
                CallClient::Namespace(ns) => Some(ns.clone()),
                _ => None,
            };
            let why = match (&c.client, namespace) {
                (CallClient::Unattributed, _) => Some(format!(
                    "its address is outside the proxy's client ranges ({})",
                    role.client_cidrs.join(", ")
                )),
                (_, Some(ns))
                    if !role.client_namespaces.is_empty()
                        && !role.client_namespaces.contains(&ns)
                        && ns != role.pods.namespace =>
                {
                    Some(format!(
                        "namespace `{ns}` is not a client namespace ({})",
                        role.client_namespaces.join(", ")
                    ))
                }
                _ => None,
            };
            if let Some(why) = why {
                out.report(
                    c.log,
                    format!(
                        "{} used the proxy ({} {}): {why}",
                        who(cx, c),
                        c.method,
                        target(c)
                    ),
                )
                .at_line(c.line)
                .fix("limit the proxy's ingress policy and src ACLs to its clients");
            }
        }
    },
};

const SQ016: Rule<Settings> = Rule {
    id: "SQ016",
    name: "observed-denied-calls",
    default_severity: Severity::Info,
    summary: "The access log shows calls the proxy denied: what each workload tried",
    doc: r#"## What it checks

Every call the access log shows squid denied (`TCP_DENIED`), per client and
destination, with the count.

## Why it matters

A denied call is either a workload that needs a destination the allow-list
lacks (it is failing now) or one trying what it should not. Either way the
owners should know; tightening the configuration starts from this list.

## Example

`… 10.0.3.7 TCP_DENIED/403 3900 CONNECT paste.example:443 …`

## How to fix

Add the destination to the allow-list if it is needed; otherwise find out
why the workload asks.

## Settings

None.
"#,
    check: |cx, out| {
        for c in calls(cx) {
            if c.verdict != CallVerdict::Denied {
                continue;
            }
            out.report(
                c.log,
                format!(
                    "the proxy denied {} {} {} {}",
                    who(cx, c),
                    c.method,
                    target(c),
                    times(c)
                ),
            )
            .at_line(c.line);
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

    #[test]
    fn dstdomain_entries_hold_what_squid_s_do() {
        assert!(super::in_dstdomain("github.com", ".github.com"));
        assert!(super::in_dstdomain("api.github.com", ".github.com"));
        assert!(!super::in_dstdomain("notgithub.com", ".github.com"));
        assert!(super::in_dstdomain("pypi.org", "pypi.org"));
        assert!(!super::in_dstdomain("files.pypi.org", "pypi.org"));
        assert!(super::in_dstdomain("GitHub.COM.", ".github.com"));
    }
}

//! Built-in plugin `proxy-egress`: workloads may send traffic only to the
//! proxy (on the ports it serves), to cluster DNS, and to destinations the
//! settings allow; the proxy itself is isolated for ingress and reachable
//! only from its clients; workloads' proxy environment points at the proxy.
//!
//! Judged from the host's flow facts: for each workload, the rules that allow
//! its egress, with each peer resolved to the namespaces and workloads it
//! matches. The plugin does no selector matching of its own.

use std::net::IpAddr;

use ipnet::IpNet;
use palisade_sdk::{
    Context, Direction, FlowView, PeerMatch, Plugin, PortRef, Protocol, Rule, SettingSpec,
    SettingType, Severity, Workload,
};
use serde::Deserialize;

/// Settings of the `proxy-egress` plugin. The proxy, cluster DNS and the
/// allowed destinations are the policy set's `roles`, shared by every
/// plugin.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Settings {
    /// Namespaces out of scope. Default: kube-system, kube-public,
    /// kube-node-lease.
    #[serde(default = "palisade_sdk::system_namespaces")]
    pub excluded_namespaces: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            excluded_namespaces: palisade_sdk::system_namespaces(),
        }
    }
}

fn cidrs(list: &[String]) -> Vec<IpNet> {
    list.iter().filter_map(|c| c.parse().ok()).collect()
}

/// The plugin.
#[derive(Debug)]
pub struct ProxyEgress;

impl Plugin for ProxyEgress {
    const ID: &'static str = "proxy-egress";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Workloads reach the outside only through the proxy: egress \
        only to the proxy's pods or addresses on the ports it serves, to cluster DNS, and to \
        allowed destinations; the proxy is isolated and reachable only from its clients.";
    type Settings = Settings;
    const SETTINGS: &'static [SettingSpec] = &[SettingSpec {
        name: "excludedNamespaces",
        kind: SettingType::TextList,
        doc: "Namespaces out of scope for this plugin, besides the policy set's (default: kube-system, kube-public, kube-node-lease)",
    }];
    const RULES: &'static [Rule<Settings>] = &[PX001, PX002, PX003, PX004, PX005, PX006];
}

palisade_sdk::export_plugin!(ProxyEgress);

fn scoped(cx: &Context<'_, Settings>, ns: &str) -> bool {
    cx.in_scope_unless(ns, &cx.settings().excluded_namespaces)
}

/// What kind of destination a workload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dest {
    Proxy,
    Dns,
    Allowed,
    Other,
}

/// The workload's role, as the host resolved the policy set's roles.
fn classify(cx: &Context<'_, Settings>, w: &Workload) -> Dest {
    let facts = cx.facts();
    if facts.proxy().pods.has(w.id) {
        Dest::Proxy
    } else if facts.cluster_dns().0.has(w.id) {
        Dest::Dns
    } else if facts.allowed_destinations().0.iter().any(|d| d.has(w.id)) {
        Dest::Allowed
    } else {
        Dest::Other
    }
}

/// Namespaces whose pods may be destinations: the proxy's, cluster DNS's
/// and the allowed destinations'.
fn allowed_namespaces<'a>(cx: &Context<'a, Settings>) -> Vec<&'a str> {
    let facts = cx.facts();
    let mut v = vec![
        facts.proxy().pods.namespace.as_str(),
        facts.cluster_dns().0.namespace.as_str(),
    ];
    v.extend(
        facts
            .allowed_destinations()
            .0
            .iter()
            .map(|d| d.namespace.as_str()),
    );
    v
}

/// Why an egress flow reaches beyond the allowed destinations, if it does.
fn beyond(cx: &Context<'_, Settings>, f: &FlowView<'_>) -> Option<String> {
    let facts = cx.facts();
    let Some((peer, m)) = f.peer else {
        return Some("every destination (the rule has no `to`)".into());
    };
    match peer {
        palisade_sdk::Peer::IpBlock(b) => {
            let Ok(block) = b.cidr.parse::<IpNet>() else {
                return None;
            };
            let ok = cidrs(&facts.proxy().cidrs)
                .iter()
                .chain(&cidrs(&facts.cluster_dns().1))
                .chain(&cidrs(&facts.allowed_destinations().1))
                .any(|allowed| allowed.contains(&block));
            (!ok).then(|| {
                if b.every_address {
                    format!("every address (`{}`)", b.cidr)
                } else {
                    format!(
                        "`{}`, which is not the proxy, cluster DNS or an allowed CIDR",
                        b.cidr
                    )
                }
            })
        }
        palisade_sdk::Peer::Pods(pp) => pods_beyond(cx, pp, m),
    }
}

fn pods_beyond(
    cx: &Context<'_, Settings>,
    pp: &palisade_sdk::PodPeer,
    m: &PeerMatch,
) -> Option<String> {
    let ok_ns = allowed_namespaces(cx);
    // Namespaces the inputs show, and those the selector names by
    // kubernetes.io/metadata.name (which may not be in the inputs).
    let mut named: Vec<&str> = m.namespaces.iter().map(String::as_str).collect();
    named.extend(pp.named_namespaces.iter().map(String::as_str));
    named.sort_unstable();
    named.dedup();
    let other_ns: Vec<&str> = named.into_iter().filter(|n| !ok_ns.contains(n)).collect();
    if !other_ns.is_empty() {
        return Some(format!(
            "pods of namespace{} `{}`",
            if other_ns.len() == 1 { "" } else { "s" },
            other_ns.join("`, `")
        ));
    }
    let others: Vec<String> = m
        .workloads
        .iter()
        .filter_map(|&i| cx.workload(i))
        .filter(|w| classify(cx, w) == Dest::Other)
        .map(|w| format!("{}/{}", w.namespace, w.name))
        .collect();
    (!others.is_empty()).then(|| {
        format!(
            "`{}`, which is neither the proxy nor cluster DNS",
            others.join("`, `")
        )
    })
}

fn rule_path(f: &FlowView<'_>) -> String {
    f.path()
}

const PX001: Rule<Settings> = Rule {
    id: "PX001",
    name: "egress-beyond-proxy",
    default_severity: Severity::Error,
    summary: "A workload's egress reaches beyond the proxy, cluster DNS and allowed destinations",
    doc: r#"## What it checks

For every workload isolated for egress, every egress rule of every policy that
isolates it: its peers must be the proxy (pods or CIDRs), cluster DNS, or
destinations the settings allow. Reported: rules without `to` (every
destination), ipBlocks not inside an allowed CIDR (`0.0.0.0/0`, `::/0`, wider
ranges), pod peers that admit other namespaces or match other workloads —
including port-53 rules that reach more than DNS. Each finding names the
policy and rule that opened the path. (A workload not isolated for egress at
all is `NP002`.)

## Why it matters

The proxy is the one controlled exit, with an allow-list and access logs.
Any other egress path bypasses both.

## Example

```yaml
egress:
  - to: [{ipBlock: {cidr: 0.0.0.0/0}}]
    ports: [{port: 443}]
```

## How to fix

Allow egress only to the proxy's pods on its port and to cluster DNS; list
the API server or VPC endpoints in `allowedCidrs` when workloads need them.

## Settings

`excludedNamespaces`. The proxy, cluster DNS, `allowedDestinations` and
`allowedCidrs` are the policy set's `roles`.
"#,
    check: |cx, out| {
        for w in cx.workloads().filter(|w| scoped(cx, &w.namespace)) {
            if classify(cx, w) == Dest::Proxy {
                continue; // The proxy itself must reach the outside.
            }
            for f in cx.flows(w, true) {
                if let Some(why) = beyond(cx, &f) {
                    out.report(
                        f.policy.object,
                        format!(
                            "NetworkPolicy `{}/{}` egress rule {} lets {} `{}/{}` reach {why}",
                            f.policy.namespace,
                            f.policy.name,
                            f.flow.rule,
                            w.kind,
                            w.namespace,
                            w.name
                        ),
                    )
                    .at(rule_path(&f))
                    .fix(
                        "allow egress only to the proxy, cluster DNS and the allowed destinations",
                    );
                }
            }
        }
    },
};

const PX002: Rule<Settings> = Rule {
    id: "PX002",
    name: "proxy-port-mismatch",
    default_severity: Severity::Error,
    summary: "Egress to the proxy on a port the proxy does not serve",
    doc: r#"## What it checks

Egress rules whose peers match the proxy's pods but whose ports (numbers,
ranges, or names resolved on the proxy's containers) include a port or
protocol other than the proxy's TCP ports — or no port list at all.

## Why it matters

Extra ports on the proxy pods reach whatever else listens there (admin,
metrics, a second unfiltered listener); a port list that misses the proxy's
port breaks egress and invites a wider rule.

## Example

```yaml
- to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: egress-proxy}}}]
  # no ports: every port of the proxy pods
```

## How to fix

List exactly the proxy's port: `ports: [{port: 3128, protocol: TCP}]`.

## Settings

None; the proxy's ports are `roles.proxy.ports` of the policy set.
"#,
    check: |cx, out| {
        let served = &cx.facts().proxy().ports;
        for w in cx.workloads().filter(|w| scoped(cx, &w.namespace)) {
            for f in cx.flows(w, true) {
                let Some((_, m)) = f.peer else { continue };
                for &d in &m.workloads {
                    let Some(dest) = cx.workload(d) else {
                        continue;
                    };
                    if classify(cx, dest) != Dest::Proxy {
                        continue;
                    }
                    let admitted = cx.facts().resolved_ports(
                        f.flow.policy,
                        Direction::Egress,
                        f.flow.rule,
                        dest.id,
                    );
                    let bad = match admitted {
                        None => Some("every port".to_string()),
                        Some(ranges) => {
                            let extra: Vec<String> = ranges
                                .iter()
                                .filter(|r| {
                                    r.protocol != Protocol::Tcp
                                        || r.first != r.last
                                        || !served.contains(&r.first)
                                })
                                .map(|r| {
                                    let (a, b, proto) = (r.first, r.last, r.protocol);
                                    if a == b {
                                        format!("{a}/{proto:?}")
                                    } else {
                                        format!("{a}-{b}/{proto:?}")
                                    }
                                })
                                .collect();
                            (!extra.is_empty()).then(|| extra.join(", ").to_uppercase())
                        }
                    };
                    if let Some(bad) = bad {
                        out.report(
                            f.policy.object,
                            format!(
                                "NetworkPolicy `{}/{}` egress rule {} lets {} `{}/{}` reach the proxy `{}/{}` on {bad}; the proxy serves {}",
                                f.policy.namespace,
                                f.policy.name,
                                f.flow.rule,
                                w.kind,
                                w.namespace,
                                w.name,
                                dest.namespace,
                                dest.name,
                                served.iter().map(|p| format!("{p}/TCP")).collect::<Vec<_>>().join(", ")
                            ),
                        )
                        .at(f.rule.path.clone())
                        .fix("list exactly the proxy's ports");
                        break;
                    }
                }
            }
        }
    },
};

const PX003: Rule<Settings> = Rule {
    id: "PX003",
    name: "dns-tcp-only-by-default",
    default_severity: Severity::Warning,
    summary: "A DNS egress rule allows only TCP because its protocol defaulted",
    doc: r#"## What it checks

Egress rules with port 53 whose entries omit `protocol` (so it defaults to
TCP) and that allow no UDP 53.

## Why it matters

DNS is mostly UDP: the rule looks like it allows DNS, but lookups time out,
and someone later "fixes" it with a wider rule.

## Example

```yaml
ports: [{port: 53}]      # TCP only
```

## How to fix

```yaml
ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]
```

## Settings

`excludedNamespaces`.
"#,
    check: |cx, out| {
        for p in cx.network_policies().filter(|p| scoped(cx, &p.namespace)) {
            for (i, r) in p.egress.iter().enumerate() {
                let udp53 = r.ports.iter().any(|s| {
                    s.protocol == Protocol::Udp && matches!(s.port, Some(PortRef::Number(53)))
                });
                if udp53 {
                    continue;
                }
                for (j, s) in r.ports.iter().enumerate() {
                    if matches!(s.port, Some(PortRef::Number(53))) && s.protocol_defaulted {
                        out.report(
                            p.object,
                            format!(
                                "NetworkPolicy `{}/{}` egress rule {i} allows port 53 over TCP only: `protocol` defaults to TCP, and DNS needs UDP",
                                p.namespace, p.name
                            ),
                        )
                        .at(r.port_paths.get(j).cloned().unwrap_or_else(|| r.path.clone()))
                        .fix("list {port: 53, protocol: UDP} and {port: 53, protocol: TCP}");
                    }
                }
            }
        }
    },
};

const PX004: Rule<Settings> = Rule {
    id: "PX004",
    name: "proxy-not-isolated",
    default_severity: Severity::Error,
    summary: "The proxy's pods are not isolated for ingress, or are reachable from outside their clients",
    doc: r#"## What it checks

The proxy's pods must be isolated for ingress, and their ingress rules must
admit only pods of `clientNamespaces` (when set): no rule without `from`, no
ipBlock, no peer admitting other namespaces.

## Why it matters

An open proxy is a pivot: anything that reaches it — another tenant, a
node, the internet through a load balancer — leaves through the one exit
with the proxy's identity.

## Example

```yaml
ingress:
  - {}          # anyone can use the proxy
```

## How to fix

```yaml
ingress:
  - from:
      - namespaceSelector:
          matchExpressions:
            - {key: kubernetes.io/metadata.name, operator: In, values: [shop, billing]}
    ports: [{port: 3128}]
```

## Settings

None; the proxy and its clients are `roles.proxy` (`clientNamespaces`) of
the policy set.
"#,
    check: |cx, out| {
        let clients = &cx.facts().proxy().client_namespaces;
        for w in cx
            .facts()
            .workloads()
            .iter()
            .filter(|w| classify(cx, w) == Dest::Proxy)
        {
            if w.isolation.ingress.is_empty() {
                out.report(
                    w.object,
                    format!("the proxy {} `{}/{}` is not isolated for ingress: anything can connect to it", w.kind, w.namespace, w.name),
                )
                .at("/metadata/name")
                .fix("add a NetworkPolicy selecting the proxy with policyTypes [Ingress] that admits only its clients");
                continue;
            }
            for f in cx.flows(w, false) {
                let why = match f.peer {
                    None => Some("everyone (the rule has no `from`)".to_string()),
                    Some((palisade_sdk::Peer::IpBlock(b), _)) => {
                        Some(format!("addresses in `{}`", b.cidr))
                    }
                    Some((_, m)) if !clients.is_empty() => {
                        let outside: Vec<&str> = m
                            .namespaces
                            .iter()
                            .map(String::as_str)
                            .filter(|n| !clients.iter().any(|c| c == n))
                            .collect();
                        (!outside.is_empty()).then(|| {
                            format!("namespaces outside the clients: `{}`", outside.join("`, `"))
                        })
                    }
                    Some(_) => None,
                };
                if let Some(why) = why {
                    out.report(
                        f.policy.object,
                        format!(
                            "NetworkPolicy `{}/{}` ingress rule {} lets {why} reach the proxy `{}/{}`",
                            f.policy.namespace, f.policy.name, f.flow.rule, w.namespace, w.name
                        ),
                    )
                    .at(f.path())
                    .fix("admit only the client namespaces, by kubernetes.io/metadata.name");
                }
            }
        }
    },
};

/// The host part of a proxy URL (`http://user@host:port/` → `host`).
fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.split(['/', '?']).next().unwrap_or(rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    if let Some(v6) = rest.strip_prefix('[') {
        return v6.split(']').next().unwrap_or(v6);
    }
    rest.rsplit_once(':').map_or(rest, |(h, _)| h)
}

fn proxy_host_ok(proxy: &palisade_sdk::ProxyRole, host: &str) -> bool {
    let ns = &proxy.pods.namespace;
    let h = host.to_ascii_lowercase();
    proxy.hosts.iter().any(|x| x.eq_ignore_ascii_case(&h))
        || h.ends_with(&format!(".{ns}.svc"))
        || h.ends_with(&format!(".{ns}.svc.cluster.local"))
        || h.parse::<IpAddr>()
            .is_ok_and(|ip| cidrs(&proxy.cidrs).iter().any(|c| c.contains(&ip)))
}

/// Whether a NO_PROXY entry names something outside the cluster. The host
/// classifies addresses.
fn external_no_proxy(facts: &palisade_sdk::Facts, entry: &str) -> bool {
    let e = entry.trim().trim_start_matches('.').to_ascii_lowercase();
    if e.is_empty() {
        return false;
    }
    let address = match e.parse::<IpNet>() {
        Ok(net) => Some(net.network().to_string()),
        Err(_) => e.parse::<IpAddr>().ok().map(|ip| ip.to_string()),
    };
    if let Some(address) = address {
        return facts
            .classify_address(&address)
            .is_some_and(|c| !(c.private || c.loopback));
    }
    let internal_suffixes = [".svc", ".cluster.local", ".local", ".internal", "localhost"];
    e.contains('.')
        && !internal_suffixes
            .iter()
            .any(|s| e.ends_with(s) || e == s.trim_start_matches('.'))
}

const PX005: Rule<Settings> = Rule {
    id: "PX005",
    name: "proxy-environment-mismatch",
    default_severity: Severity::Error,
    summary: "HTTP_PROXY/HTTPS_PROXY points elsewhere than the proxy, or NO_PROXY bypasses it for the outside",
    doc: r#"## What it checks

Containers' `HTTP_PROXY`/`HTTPS_PROXY` (any case) must point at the proxy: a
`*.<proxy namespace>.svc` name, a proxy CIDR, or a host in `proxy.hosts`.
`NO_PROXY` must not be `*` nor list external domains or public addresses.

The values are the container's effective environment as the host resolves
it: `env` (with `$(VAR)` references expanded), `valueFrom.configMapKeyRef`,
and ConfigMaps consumed through `envFrom` (the usual way to set these
variables for a whole namespace), with Kubernetes' precedence. A finding on a
value from a ConfigMap points at the ConfigMap's key, with a note naming the
workload that consumes it. Values from Secrets are never read, and values the
inputs do not determine (a ConfigMap missing from them, `fieldRef`) are not
judged.

## Why it matters

Clients send to whatever their environment names: a typo or a third-party
proxy sends traffic (and credentials) elsewhere; a broad `NO_PROXY` makes
clients try direct connections that should never work — and will if a
NetworkPolicy is loosened.

## Example

```yaml
env:
  - {name: HTTPS_PROXY, value: "http://proxy.example.net:8080"}
  - {name: NO_PROXY, value: "*"}
```

## How to fix

Point both variables at the proxy Service, and keep `NO_PROXY` to cluster
names (`.svc`, `.cluster.local`) and private ranges.

## Settings

None; the proxy's namespace, addresses and host names are `roles.proxy`
(`namespace`, `cidrs`, `hosts`) of the policy set.
"#,
    check: |cx, out| {
        let proxy = cx.facts().proxy();
        for w in cx.workloads().filter(|w| scoped(cx, &w.namespace)) {
            if classify(cx, w) == Dest::Proxy {
                continue;
            }
            let containers = w.containers.iter().enumerate();
            for (ci, c) in containers {
                let field = if c.init {
                    "initContainers"
                } else {
                    "containers"
                };
                let index = w
                    .containers
                    .iter()
                    .take(ci)
                    .filter(|x| x.init == c.init)
                    .count();
                for (ei, e) in c.env.iter().enumerate() {
                    let Some(value) = &e.value else { continue };
                    let at = format!("{}/{field}/{index}/env/{ei}/value", w.pod_spec_path);
                    let name = e.name.to_ascii_uppercase();
                    if name == "HTTP_PROXY" || name == "HTTPS_PROXY" {
                        let host = url_host(value);
                        // A `$(NAME)` the host could not resolve (a Service
                        // link, a runtime field) can be anything: the host
                        // cannot be judged. Anywhere else in the value it
                        // does not hide the host.
                        if host.contains("$(") {
                            continue;
                        }
                        if !proxy_host_ok(proxy, host) {
                            out.report(
                                w.object,
                                format!(
                                    "{} `{}/{}` container `{}` sets {} to `{value}`, which is not the proxy",
                                    w.kind, w.namespace, w.name, c.name, e.name
                                ),
                            )
                            .at(at)
                            .fix(format!("point it at the proxy Service, for example http://squid.{}.svc:{}", proxy.pods.namespace, proxy.ports.first().copied().unwrap_or(3128)));
                        }
                    } else if name == "NO_PROXY" {
                        let entries: Vec<&str> = value.split(',').map(str::trim).collect();
                        let bad: Vec<&str> = entries
                            .iter()
                            .copied()
                            .filter(|x| {
                                !x.contains("$(") && (*x == "*" || external_no_proxy(cx.facts(), x))
                            })
                            .collect();
                        if !bad.is_empty() {
                            out.report(
                                w.object,
                                format!(
                                    "{} `{}/{}` container `{}` bypasses the proxy for `{}` (NO_PROXY)",
                                    w.kind,
                                    w.namespace,
                                    w.name,
                                    c.name,
                                    bad.join("`, `")
                                ),
                            )
                            .at(at)
                            .fix("keep NO_PROXY to cluster names (.svc, .cluster.local) and private ranges");
                        }
                    }
                }
            }
        }
    },
};

const PX006: Rule<Settings> = Rule {
    id: "PX006",
    name: "host-network-workload",
    default_severity: Severity::Warning,
    summary: "A workload on the host network: NetworkPolicies may not apply to it",
    doc: r#"## What it checks

Workloads with `hostNetwork: true` (outside the proxy).

## Why it matters

Most network plugins do not apply NetworkPolicies to pods on the node's
network: their egress is the node's, and whatever the node can reach, they
can. (Palisade treats such pods as never isolated.)

## Example

```yaml
spec: {hostNetwork: true}
```

## How to fix

Run on the pod network, or restrict the nodes' own egress (security groups,
node firewall) and exempt the workload explicitly with a reason.

## Settings

`excludedNamespaces`.
"#,
    check: |cx, out| {
        for w in cx
            .workloads()
            .filter(|w| scoped(cx, &w.namespace) && w.host_network)
        {
            out.report(
                w.object,
                format!(
                    "{} `{}/{}` uses the host network: NetworkPolicies may not apply, so its egress bypasses the proxy",
                    w.kind, w.namespace, w.name
                ),
            )
            .at(format!("{}/hostNetwork", w.pod_spec_path))
            .fix("run on the pod network, or restrict node egress and exempt it explicitly");
        }
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls_and_no_proxy_entries() {
        let facts = palisade_sdk::testing::FactsBuilder::new().build();
        let proxy = facts.proxy();
        assert_eq!(
            url_host("http://user:pw@squid.egress-proxy.svc:3128/"),
            "squid.egress-proxy.svc"
        );
        assert_eq!(url_host("http://[fd00::1]:3128"), "fd00::1");
        assert!(proxy_host_ok(proxy, "squid.egress-proxy.svc"));
        assert!(proxy_host_ok(proxy, "squid.egress-proxy.svc.cluster.local"));
        assert!(!proxy_host_ok(proxy, "proxy.example.net"));
        assert!(external_no_proxy(&facts, ".amazonaws.com"));
        assert!(!external_no_proxy(&facts, ".svc"));
        assert!(!external_no_proxy(&facts, "localhost"));
    }

    #[test]
    fn the_rule_table_is_well_formed() {
        assert_eq!(
            palisade_sdk::testing::rule_table_problems::<ProxyEgress>(),
            Vec::<String>::new()
        );
    }
}

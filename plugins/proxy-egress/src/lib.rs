//! Built-in plugin `proxy-egress`: workloads may send traffic only to the
//! proxy (on the ports it serves), to cluster DNS, and to destinations the
//! settings allow; the proxy itself is isolated for ingress and reachable
//! only from its clients; workloads' proxy environment points at the proxy.
//!
//! Judged from the host's flow facts: for each workload, the rules that allow
//! its egress, with each peer resolved to the namespaces and workloads it
//! matches. The plugin does no selector matching of its own.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use palisade_sdk::{
    Context, FlowView, Labels as _, PeerMatch, Plugin, PortRef, PortSpec, Protocol, Rule, Severity,
    Workload,
};
use serde::Deserialize;

/// Pods chosen by namespace and labels.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodsSpec {
    /// Namespace of the pods.
    pub namespace: String,
    /// Labels the pods carry (all must match).
    #[serde(default)]
    pub pod_selector: BTreeMap<String, String>,
}

/// The proxy: pods and/or addresses, and the ports it serves.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProxySpec {
    /// Namespace of the proxy pods. Default: `egress-proxy`.
    #[serde(default = "default_proxy_namespace")]
    pub namespace: String,
    /// Labels of the proxy pods. Default: `app: squid`.
    #[serde(default = "default_proxy_labels")]
    pub pod_selector: BTreeMap<String, String>,
    /// Addresses of the proxy (when it runs outside the cluster, or by IP).
    #[serde(default)]
    pub cidrs: Vec<String>,
    /// Ports the proxy serves. Default: 3128.
    #[serde(default = "default_proxy_ports")]
    pub ports: Vec<u16>,
    /// Host names that reach the proxy, for `HTTP_PROXY`/`HTTPS_PROXY`
    /// (besides `*.{namespace}.svc[.cluster.local]` and the proxy CIDRs).
    #[serde(default)]
    pub hosts: Vec<String>,
}

impl Default for ProxySpec {
    fn default() -> Self {
        ProxySpec {
            namespace: default_proxy_namespace(),
            pod_selector: default_proxy_labels(),
            cidrs: Vec::new(),
            ports: default_proxy_ports(),
            hosts: Vec::new(),
        }
    }
}

fn default_proxy_namespace() -> String {
    "egress-proxy".into()
}

fn default_proxy_labels() -> BTreeMap<String, String> {
    BTreeMap::from([("app".to_string(), "squid".to_string())])
}

fn default_proxy_ports() -> Vec<u16> {
    vec![3128]
}

fn default_dns() -> PodsSpec {
    PodsSpec {
        namespace: "kube-system".into(),
        pod_selector: BTreeMap::from([("k8s-app".to_string(), "kube-dns".to_string())]),
    }
}

/// Settings of the `proxy-egress` plugin.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Settings {
    /// The proxy.
    #[serde(default)]
    pub proxy: ProxySpec,
    /// Cluster DNS pods. Default: kube-system, `k8s-app: kube-dns`.
    #[serde(default = "default_dns")]
    pub dns: PodsSpec,
    /// Cluster DNS addresses (the kube-dns Service IP), if rules use them.
    #[serde(default)]
    pub dns_cidrs: Vec<String>,
    /// In-cluster destinations workloads may reach directly.
    #[serde(default)]
    pub allowed_destinations: Vec<PodsSpec>,
    /// Addresses workloads may reach directly (API server, VPC endpoints).
    #[serde(default)]
    pub allowed_cidrs: Vec<String>,
    /// Namespaces whose workloads may use the proxy; empty: any namespace.
    #[serde(default)]
    pub client_namespaces: Vec<String>,
    /// Namespaces out of scope. Default: kube-system, kube-public,
    /// kube-node-lease.
    #[serde(default = "palisade_sdk::system_namespaces")]
    pub excluded_namespaces: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            proxy: ProxySpec::default(),
            dns: default_dns(),
            dns_cidrs: Vec::new(),
            allowed_destinations: Vec::new(),
            allowed_cidrs: Vec::new(),
            client_namespaces: Vec::new(),
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
    const RULES: &'static [Rule<Settings>] = &[PX001, PX002, PX003, PX004, PX005, PX006];

    fn validate(s: &Settings) -> Result<(), String> {
        for c in s
            .proxy
            .cidrs
            .iter()
            .chain(&s.dns_cidrs)
            .chain(&s.allowed_cidrs)
        {
            c.parse::<IpNet>()
                .map_err(|_| format!("`{c}` is not a CIDR (for one address, write 10.0.0.1/32)"))?;
        }
        if s.proxy.ports.is_empty() {
            return Err("`proxy.ports` must name at least one port".into());
        }
        Ok(())
    }
}

palisade_sdk::export_plugin!(ProxyEgress);

fn scoped(cx: &Context<'_, Settings>, ns: &str) -> bool {
    cx.in_scope_unless(ns, &cx.settings().excluded_namespaces)
}

fn is_pods(w: &Workload, spec: &PodsSpec) -> bool {
    w.namespace == spec.namespace
        && spec
            .pod_selector
            .iter()
            .all(|(k, v)| w.labels.label(k) == Some(v.as_str()))
}

/// What kind of destination a workload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dest {
    Proxy,
    Dns,
    Allowed,
    Other,
}

fn classify(cx: &Context<'_, Settings>, w: &Workload) -> Dest {
    let s = cx.settings();
    let proxy = PodsSpec {
        namespace: s.proxy.namespace.clone(),
        pod_selector: s.proxy.pod_selector.clone(),
    };
    if is_pods(w, &proxy) {
        Dest::Proxy
    } else if is_pods(w, &s.dns) {
        Dest::Dns
    } else if s.allowed_destinations.iter().any(|d| is_pods(w, d)) {
        Dest::Allowed
    } else {
        Dest::Other
    }
}

fn allowed_namespaces(s: &Settings) -> Vec<&str> {
    let mut v = vec![s.proxy.namespace.as_str(), s.dns.namespace.as_str()];
    v.extend(s.allowed_destinations.iter().map(|d| d.namespace.as_str()));
    v
}

/// Why an egress flow reaches beyond the allowed destinations, if it does.
fn beyond(cx: &Context<'_, Settings>, f: &FlowView<'_>) -> Option<String> {
    let s = cx.settings();
    let Some((peer, m)) = f.peer else {
        return Some("every destination (the rule has no `to`)".into());
    };
    match peer {
        palisade_sdk::Peer::IpBlock(b) => {
            let Ok(block) = b.cidr.parse::<IpNet>() else {
                return None;
            };
            let ok = cidrs(&s.proxy.cidrs)
                .iter()
                .chain(&cidrs(&s.dns_cidrs))
                .chain(&cidrs(&s.allowed_cidrs))
                .any(|allowed| allowed.contains(&block));
            (!ok).then(|| {
                if block.prefix_len() == 0 {
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
    let s = cx.settings();
    let ok_ns = allowed_namespaces(s);
    // Namespaces the inputs show, and those the selector names by
    // kubernetes.io/metadata.name (which may not be in the inputs).
    let mut named: Vec<&str> = m.namespaces.iter().map(String::as_str).collect();
    for r in pp.namespace_selector.iter().flat_map(|s| &s.requirements) {
        if r.key == "kubernetes.io/metadata.name"
            && r.operator == palisade_sdk::SelectorOperator::In
        {
            named.extend(r.values.iter().map(String::as_str));
        }
    }
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
        .filter_map(|&i| cx.request().workloads.get(i as usize))
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
    match f.flow.peer {
        Some(p) => format!("/spec/egress/{}/to/{p}", f.flow.rule),
        None => format!("/spec/egress/{}", f.flow.rule),
    }
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

`proxy` (`namespace`, `podSelector`, `cidrs`, `ports`, `hosts`), `dns`
(`namespace`, `podSelector`), `dnsCidrs`, `allowedDestinations`,
`allowedCidrs`, `clientNamespaces`, `excludedNamespaces`.
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

/// Ports a flow's port list admits towards a workload (named ports resolved
/// on it); `None`: every port.
fn admitted_ports(ports: &[PortSpec], dest: &Workload) -> Option<Vec<(u16, u16, Protocol)>> {
    if ports.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for p in ports {
        match &p.port {
            None => out.push((1, u16::MAX, p.protocol)),
            Some(PortRef::Number(n)) => out.push((*n, p.end_port.unwrap_or(*n), p.protocol)),
            Some(PortRef::Name(name)) => {
                for c in &dest.containers {
                    for cp in &c.ports {
                        if cp.name.as_deref() == Some(name.as_str()) && cp.protocol == p.protocol {
                            out.push((cp.port, cp.port, p.protocol));
                        }
                    }
                }
            }
        }
    }
    Some(out)
}

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

`proxy.ports`.
"#,
    check: |cx, out| {
        let served = &cx.settings().proxy.ports;
        for w in cx.workloads().filter(|w| scoped(cx, &w.namespace)) {
            for f in cx.flows(w, true) {
                let Some((_, m)) = f.peer else { continue };
                for &d in &m.workloads {
                    let Some(dest) = cx.request().workloads.get(d as usize) else {
                        continue;
                    };
                    if classify(cx, dest) != Dest::Proxy {
                        continue;
                    }
                    let bad = match admitted_ports(&f.rule.ports, dest) {
                        None => Some("every port".to_string()),
                        Some(ranges) => {
                            let extra: Vec<String> = ranges
                                .iter()
                                .filter(|(a, b, proto)| {
                                    *proto != Protocol::Tcp || a != b || !served.contains(a)
                                })
                                .map(|(a, b, proto)| {
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
                        .at(format!("/spec/egress/{}", f.flow.rule))
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
            let Some(obj) = cx.object(p.object) else {
                continue;
            };
            let Ok(raw) = serde_json::from_str::<serde_json::Value>(&obj.raw_json) else {
                continue;
            };
            for (i, r) in p.egress.iter().enumerate() {
                let udp53 = r.ports.iter().any(|s| {
                    s.protocol == Protocol::Udp && matches!(s.port, Some(PortRef::Number(53)))
                });
                if udp53 {
                    continue;
                }
                for (j, s) in r.ports.iter().enumerate() {
                    let defaulted = raw
                        .pointer(&format!("/spec/egress/{i}/ports/{j}"))
                        .is_some_and(|v| v.get("protocol").is_none());
                    if matches!(s.port, Some(PortRef::Number(53))) && defaulted {
                        out.report(
                            p.object,
                            format!(
                                "NetworkPolicy `{}/{}` egress rule {i} allows port 53 over TCP only: `protocol` defaults to TCP, and DNS needs UDP",
                                p.namespace, p.name
                            ),
                        )
                        .at(format!("/spec/egress/{i}/ports/{j}"))
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

`proxy`, `clientNamespaces`.
"#,
    check: |cx, out| {
        let s = cx.settings();
        for w in cx
            .request()
            .workloads
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
                    Some((_, m)) if !s.client_namespaces.is_empty() => {
                        let outside: Vec<&str> = m
                            .namespaces
                            .iter()
                            .map(String::as_str)
                            .filter(|n| !s.client_namespaces.iter().any(|c| c == n))
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
                    .at(match f.flow.peer {
                        Some(p) => format!("/spec/ingress/{}/from/{p}", f.flow.rule),
                        None => format!("/spec/ingress/{}", f.flow.rule),
                    })
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

fn proxy_host_ok(s: &Settings, host: &str) -> bool {
    let ns = &s.proxy.namespace;
    let h = host.to_ascii_lowercase();
    s.proxy.hosts.iter().any(|x| x.eq_ignore_ascii_case(&h))
        || h.ends_with(&format!(".{ns}.svc"))
        || h.ends_with(&format!(".{ns}.svc.cluster.local"))
        || h.parse::<IpAddr>()
            .is_ok_and(|ip| cidrs(&s.proxy.cidrs).iter().any(|c| c.contains(&ip)))
}

/// Whether a NO_PROXY entry names something outside the cluster.
fn external_no_proxy(entry: &str) -> bool {
    let e = entry.trim().trim_start_matches('.').to_ascii_lowercase();
    if e.is_empty() {
        return false;
    }
    if let Ok(net) = e.parse::<IpNet>() {
        return !is_internal(net.network());
    }
    if let Ok(ip) = e.parse::<IpAddr>() {
        return !is_internal(ip);
    }
    let internal_suffixes = [".svc", ".cluster.local", ".local", ".internal", "localhost"];
    e.contains('.')
        && !internal_suffixes
            .iter()
            .any(|s| e.ends_with(s) || e == s.trim_start_matches('.'))
}

fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_private() || v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
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

`proxy.namespace`, `proxy.cidrs`, `proxy.hosts`.
"#,
    check: |cx, out| {
        let s = cx.settings();
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
                        if !proxy_host_ok(s, host) {
                            out.report(
                                w.object,
                                format!(
                                    "{} `{}/{}` container `{}` sets {} to `{value}`, which is not the proxy",
                                    w.kind, w.namespace, w.name, c.name, e.name
                                ),
                            )
                            .at(at)
                            .fix(format!("point it at the proxy Service, for example http://squid.{}.svc:{}", s.proxy.namespace, s.proxy.ports.first().copied().unwrap_or(3128)));
                        }
                    } else if name == "NO_PROXY" {
                        let entries: Vec<&str> = value.split(',').map(str::trim).collect();
                        let bad: Vec<&str> = entries
                            .iter()
                            .copied()
                            .filter(|x| !x.contains("$(") && (*x == "*" || external_no_proxy(x)))
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
        let s = Settings::default();
        assert_eq!(
            url_host("http://user:pw@squid.egress-proxy.svc:3128/"),
            "squid.egress-proxy.svc"
        );
        assert_eq!(url_host("http://[fd00::1]:3128"), "fd00::1");
        assert!(proxy_host_ok(&s, "squid.egress-proxy.svc"));
        assert!(proxy_host_ok(&s, "squid.egress-proxy.svc.cluster.local"));
        assert!(!proxy_host_ok(&s, "proxy.example.net"));
        assert!(external_no_proxy(".amazonaws.com"));
        assert!(external_no_proxy("8.8.8.8"));
        assert!(!external_no_proxy(".svc"));
        assert!(!external_no_proxy("10.0.0.0/8"));
        assert!(!external_no_proxy("localhost"));
    }

    #[test]
    fn the_rule_table_is_well_formed() {
        assert_eq!(
            palisade_sdk::testing::rule_table_problems::<ProxyEgress>(),
            Vec::<String>::new()
        );
    }
}

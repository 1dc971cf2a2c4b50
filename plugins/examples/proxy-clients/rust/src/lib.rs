//! proxy-clients, in Rust: the same rule as `../python` and `../js`.
//!
//! Every workload that may reach the proxy carries an owner label and an
//! `HTTPS_PROXY` that points at the proxy. Built by the test suite
//! (`tests/tests/languages.rs`), or with
//! `cargo build -p palisade-example-proxy-clients --target wasm32-wasip2 --release`.

use palisade_sdk::{
    Context, Direction, Findings, Labels, Peer, Plugin, PolicyRule, PortRef, PortSpec, Protocol,
    ProxyRole, Rule, SettingSpec, SettingType, Severity, Workload,
};

/// The settings, as a policy set gives them.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Settings {
    /// The label every proxy client carries in its own metadata.
    owner_label: String,
    /// Hosts `HTTPS_PROXY` may name (empty: the policy set's proxy hosts).
    proxy_hosts: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            owner_label: "owner".to_string(),
            proxy_hosts: Vec::new(),
        }
    }
}

/// The plugin.
#[derive(Debug)]
pub struct ProxyClients;

impl Plugin for ProxyClients {
    const ID: &'static str = "proxy-clients";
    const VERSION: &'static str = "0.1.0";
    const DESCRIPTION: &'static str =
        "Proxy clients carry an owner and point HTTPS_PROXY at the proxy";
    type Settings = Settings;
    const SETTINGS: &'static [SettingSpec] = &[
        SettingSpec {
            name: "ownerLabel",
            kind: SettingType::Text,
            doc: "The label every proxy client carries in its own metadata.",
        },
        SettingSpec {
            name: "proxyHosts",
            kind: SettingType::TextList,
            doc: "Hosts HTTPS_PROXY may name (empty: the policy set's proxy hosts).",
        },
    ];
    const RULES: &'static [Rule<Settings>] = &[Rule {
        id: "PC001",
        name: "proxy-client-setup",
        default_severity: Severity::Error,
        summary: "Workloads that may reach the proxy carry an owner label and an HTTPS_PROXY pointing at it",
        doc: include_str!("doc.md"),
        check: proxy_client_setup,
    }];

    fn validate(settings: &Settings) -> Result<(), String> {
        if settings.owner_label.is_empty() {
            return Err("ownerLabel must not be empty".to_string());
        }
        Ok(())
    }
}

palisade_sdk::export_plugin!(ProxyClients);

/// (protocol, first, last) port ranges; `None`: every port.
type Ranges = Option<Vec<(Protocol, u16, u16)>>;

/// Whether `ranges` admit a proxy port over TCP (any TCP port when the
/// policy set names no proxy port).
fn admits(ranges: &Ranges, ports: &[u16]) -> bool {
    let Some(ranges) = ranges else { return true };
    ranges.iter().any(|&(protocol, first, last)| {
        protocol == Protocol::Tcp
            && (ports.is_empty() || ports.iter().any(|p| (first..=last).contains(p)))
    })
}

/// A rule's ports, for an address peer (a named port matches no address).
fn address_ports(rule: &PolicyRule) -> Ranges {
    if rule.ports.is_empty() {
        return None;
    }
    let range = |spec: &PortSpec| match &spec.port {
        None => Some((spec.protocol, 0, 65535)),
        Some(PortRef::Number(n)) => Some((spec.protocol, *n, spec.end_port.unwrap_or(*n))),
        Some(PortRef::Name(_)) => None,
    };
    Some(rule.ports.iter().filter_map(range).collect())
}

/// Whether NetworkPolicies let `w` open a connection to a proxy pod (or
/// proxy CIDR) on a proxy port.
fn may_reach_proxy(cx: &Context<'_, Settings>, w: &Workload, proxy: &ProxyRole) -> bool {
    let pods = &proxy.pods.workloads;
    if pods.is_empty() && proxy.cidrs.is_empty() {
        return false;
    }
    if w.isolation.egress.is_empty() {
        return true;
    }
    for fv in cx.flows(w, true) {
        let (to_cidrs, targets): (bool, Vec<u32>) = match fv.peer {
            Some((Peer::IpBlock(block), _)) => (
                block.every_address || proxy.cidrs.contains(&block.cidr),
                Vec::new(),
            ),
            None => {
                let mut all = pods.clone();
                all.sort_unstable();
                (true, all)
            }
            Some((Peer::Pods(_), matches)) => (
                false,
                matches
                    .workloads
                    .iter()
                    .copied()
                    .filter(|t| pods.contains(t))
                    .collect(),
            ),
        };
        if to_cidrs && !proxy.cidrs.is_empty() && admits(&address_ports(fv.rule), &proxy.ports) {
            return true;
        }
        for t in targets {
            let ranges = cx
                .facts()
                .resolved_ports(fv.flow.policy, Direction::Egress, fv.flow.rule, t)
                .map(|rs| rs.iter().map(|r| (r.protocol, r.first, r.last)).collect());
            if admits(&ranges, &proxy.ports) {
                return true;
            }
        }
    }
    false
}

/// The host and port of an `HTTPS_PROXY` value; the port is `None` when it
/// is not a port number.
fn proxy_url(value: &str) -> (String, Option<u16>) {
    let mut s = value.trim();
    let mut scheme = String::new();
    if let Some((head, rest)) = s.split_once("://") {
        scheme = head.to_lowercase();
        s = rest;
    }
    s = s.split('/').next().unwrap_or("");
    if let Some((_, after)) = s.rsplit_once('@') {
        s = after;
    }
    let (mut host, mut port) = (s, "");
    if let Some(bracketed) = s.strip_prefix('[') {
        if let Some((h, rest)) = bracketed.split_once(']') {
            host = h;
            port = rest.strip_prefix(':').unwrap_or("");
        }
    } else if s.matches(':').count() == 1 {
        (host, port) = s.split_once(':').unwrap_or((s, ""));
    }
    let number = if port.is_empty() {
        Some(if scheme == "https" { 443 } else { 80 })
    } else if port.bytes().all(|b| b.is_ascii_digit()) {
        port.parse().ok()
    } else {
        None
    };
    (host.to_lowercase(), number)
}

fn proxy_client_setup(cx: &Context<'_, Settings>, out: &mut Findings) {
    let proxy = cx.facts().proxy();
    let settings = cx.settings();
    let hosts: Vec<String> = if settings.proxy_hosts.is_empty() {
        &proxy.hosts
    } else {
        &settings.proxy_hosts
    }
    .iter()
    .map(|h| h.to_lowercase())
    .collect();
    let owner = &settings.owner_label;
    for w in cx.workloads() {
        if proxy.pods.has(w.id) || !may_reach_proxy(cx, w, proxy) {
            continue;
        }
        let what = format!("{} `{}/{}`", w.kind, w.namespace, w.name);
        let own_labels = cx.object(w.object).map(|o| o.labels.as_slice());
        if own_labels.unwrap_or_default().label(owner).is_none() {
            out.report(
                w.object,
                format!("{what} may reach the proxy but has no `{owner}` label"),
            )
            .at("/metadata")
            .fix(format!("add `{owner}: <team>` to its metadata.labels"));
        }
        for (k, c) in w.containers.iter().filter(|c| !c.init).enumerate() {
            let at = format!("{}/containers/{k}", w.pod_spec_path);
            let var = |n: &str| c.env.iter().find(|v| v.name == n);
            let Some(var) = var("HTTPS_PROXY").or_else(|| var("https_proxy")) else {
                out.report(
                    w.object,
                    format!(
                        "container `{}` of {what} may reach the proxy but sets no HTTPS_PROXY",
                        c.name
                    ),
                )
                .at(at);
                continue;
            };
            let name = &var.name;
            let Some(value) = var.value.as_deref().filter(|v| !v.contains("$(")) else {
                out.report(
                    w.object,
                    format!(
                        "container `{}` of {what}: {name} is not known from the inputs, so it cannot be checked",
                        c.name
                    ),
                )
                .at(at);
                continue;
            };
            let (host, port) = proxy_url(value);
            let wrong_host = !hosts.is_empty() && !hosts.contains(&host);
            let wrong_port =
                port.is_none_or(|p| !proxy.ports.is_empty() && !proxy.ports.contains(&p));
            if wrong_host || wrong_port {
                let wanted = if hosts.is_empty() {
                    "<any host>".to_string()
                } else {
                    hosts.join("|")
                };
                let ports = if proxy.ports.is_empty() {
                    "<any port>".to_string()
                } else {
                    proxy
                        .ports
                        .iter()
                        .map(u16::to_string)
                        .collect::<Vec<_>>()
                        .join("|")
                };
                out.report(
                    w.object,
                    format!(
                        "container `{}` of {what}: {name} `{value}` does not point at the proxy ({wanted}:{ports})",
                        c.name
                    ),
                )
                .at(at);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::proxy_url;

    #[test]
    fn proxy_urls_are_read_as_curl_reads_them() {
        assert_eq!(
            proxy_url("http://squid.proxy:3128"),
            ("squid.proxy".into(), Some(3128))
        );
        assert_eq!(
            proxy_url("squid.proxy:3128"),
            ("squid.proxy".into(), Some(3128))
        );
        assert_eq!(
            proxy_url("https://u:p@Squid.Proxy/"),
            ("squid.proxy".into(), Some(443))
        );
        assert_eq!(proxy_url("squid.proxy"), ("squid.proxy".into(), Some(80)));
        assert_eq!(
            proxy_url("http://[fd00::1]:3128"),
            ("fd00::1".into(), Some(3128))
        );
        assert_eq!(proxy_url("http://squid:99999"), ("squid".into(), None));
        assert_eq!(proxy_url("http://squid:31x8"), ("squid".into(), None));
    }
}

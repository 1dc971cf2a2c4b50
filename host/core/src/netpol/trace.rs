//! Explaining one connection: which policies isolate each side, which rule
//! allows it, or — when none does — which rules came closest.

use serde::Serialize;

use super::plugin::Corner;
use super::{Cluster, NetworkPlugin, Port, RuleRef, Side, Target};

/// A rule that selected the pod but missed on the peer or the port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NearMiss {
    /// `namespace/name` of the policy.
    pub policy: String,
    /// Index of the rule in the policy's ingress or egress list.
    pub rule: usize,
    /// What did not match: `peer` or `port`.
    pub missed: &'static str,
}

/// A rule that allows the connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AllowingRule {
    /// `namespace/name` of the policy.
    pub policy: String,
    /// Index of the rule in the policy's ingress or egress list.
    pub rule: usize,
}

/// The verdict of one side of a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SideTrace {
    /// `allowed` or `denied`.
    pub verdict: &'static str,
    /// Why in one line.
    pub reason: String,
    /// Policies isolating this side (`namespace/name`).
    pub isolated_by: Vec<String>,
    /// Rules allowing the connection.
    pub allowed_by: Vec<AllowingRule>,
    /// When denied: rules that matched the peer but not the port, or the port
    /// but not the peer.
    pub near_misses: Vec<NearMiss>,
}

/// The explanation of one connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Trace {
    /// The source as given.
    pub from: String,
    /// The destination as given.
    pub to: String,
    /// `port/PROTOCOL`.
    pub port: String,
    /// `allowed` or `denied`.
    pub verdict: &'static str,
    /// The source's egress side.
    pub egress: SideTrace,
    /// The destination's ingress side.
    pub ingress: SideTrace,
    /// The network plugin profile whose readings the verdict relies on.
    pub network_plugin: NetworkPlugin,
    /// Readings of behaviour the API leaves undefined that this verdict
    /// relies on: the corner's ID and the profile's reading of it.
    pub relies_on: Vec<(String, String)>,
    /// Objects of the inputs that change traffic in either pod's namespace
    /// and that the verdict does not model (`location: message`): with any,
    /// the verdict may be wrong in either direction.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unmodelled: Vec<String>,
    /// Hints about the question itself (a Service's port given where the
    /// pods listen on another).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

fn policy_name(cluster: &Cluster<'_>, p: usize) -> String {
    cluster
        .model
        .network_policies
        .get(p)
        .map(|p| format!("{}/{}", p.namespace, p.name))
        .unwrap_or_default()
}

/// Explains the connection `src` → `dst` on `port`.
pub fn trace(
    cluster: &Cluster<'_>,
    src: (Target, String),
    dst: (Target, String),
    port: Port,
) -> Trace {
    let (s, s_name) = src;
    let (d, d_name) = dst;
    let egress = side_trace(cluster, s, d, port, true, &s_name);
    let ingress = side_trace(cluster, d, s, port, false, &d_name);
    let allowed = s == d || (egress.verdict == "allowed" && ingress.verdict == "allowed");
    let plugin = cluster.plugin;
    let endpoint = |t: Target| match t {
        Target::Pod(e) => cluster.endpoints.get(e),
        Target::External(_) => None,
    };
    let host = |t: Target| endpoint(t).is_some_and(|e| e.host_network);
    let pod_network = |t: Target| endpoint(t).is_some_and(|e| !e.host_network);
    // An ipBlock can match a pod only by a known IP: without one, no reading
    // changes the verdict.
    let has_ip = |t: Target, host_network: bool| {
        endpoint(t).is_some_and(|e| e.host_network == host_network && !e.ips.is_empty())
    };
    let external = |t: Target| matches!(t, Target::External(_));
    // A hostNetwork pod facing another pod: that pod's selectors may or may
    // not see it.
    let host_peer = (host(s) && endpoint(d).is_some()) || (host(d) && endpoint(s).is_some());
    let mut relies_on = Vec::new();
    for (corner, applies) in [
        (Corner::HostNetwork, host(s) || host(d)),
        (Corner::HostNetworkSelectors, host_peer),
        (
            Corner::HostNetworkIpBlock,
            (has_ip(s, true) && pod_network(d)) || (has_ip(d, true) && pod_network(s)),
        ),
        (Corner::IpBlockPodIp, has_ip(s, false) || has_ip(d, false)),
        (Corner::NoSnat, external(s) || external(d)),
        (Corner::NamedPortExternal, external(d)),
        (Corner::SelfTraffic, s == d),
    ] {
        if applies {
            relies_on.push((
                corner.id().to_string(),
                plugin.statement(corner).to_string(),
            ));
        }
    }
    Trace {
        network_plugin: plugin,
        relies_on,
        from: s_name,
        to: d_name,
        port: port.to_string(),
        verdict: if allowed { "allowed" } else { "denied" },
        egress,
        ingress,
        unmodelled: Vec::new(),
        notes: Vec::new(),
    }
}

fn side_trace(
    cluster: &Cluster<'_>,
    this: Target,
    other: Target,
    port: Port,
    egress: bool,
    name: &str,
) -> SideTrace {
    let direction = if egress { "egress" } else { "ingress" };
    let side = cluster.side(this, other, port, egress);
    match side {
        Side::NotApplicable => SideTrace {
            verdict: "allowed",
            reason: format!(
                "`{name}` is not a pod of the inputs: no policy governs its {direction}"
            ),
            isolated_by: Vec::new(),
            allowed_by: Vec::new(),
            near_misses: Vec::new(),
        },
        Side::NotIsolated => {
            let host = matches!(this, Target::Pod(e) if cluster.endpoints.get(e).is_some_and(|e| e.host_network));
            SideTrace {
                verdict: "allowed",
                reason: if host {
                    format!(
                        "`{name}` uses the host network: NetworkPolicies do not apply to it (`host-network` under network plugin `{}`)",
                        cluster.plugin
                    )
                } else {
                    format!("no NetworkPolicy isolates `{name}` for {direction}")
                },
                isolated_by: Vec::new(),
                allowed_by: Vec::new(),
                near_misses: Vec::new(),
            }
        }
        Side::Isolated { by, allowed_by } => {
            let isolated_by: Vec<String> = by.iter().map(|p| policy_name(cluster, *p)).collect();
            let allowing: Vec<AllowingRule> = allowed_by
                .iter()
                .map(|RuleRef { policy, rule }| AllowingRule {
                    policy: policy_name(cluster, *policy),
                    rule: *rule,
                })
                .collect();
            if allowing.is_empty() {
                SideTrace {
                    verdict: "denied",
                    reason: format!(
                        "`{name}` is isolated for {direction} and no {direction} rule of {} matches",
                        isolated_by.join(", ")
                    ),
                    near_misses: near_misses(cluster, &by, this, other, port, egress),
                    isolated_by,
                    allowed_by: allowing,
                }
            } else {
                let first = allowing
                    .first()
                    .map(|a| format!("rule {} of {}", a.rule, a.policy))
                    .unwrap_or_default();
                SideTrace {
                    verdict: "allowed",
                    reason: format!("{direction} allowed by {first}"),
                    isolated_by,
                    allowed_by: allowing,
                    near_misses: Vec::new(),
                }
            }
        }
    }
}

fn near_misses(
    cluster: &Cluster<'_>,
    by: &[usize],
    this: Target,
    other: Target,
    port: Port,
    egress: bool,
) -> Vec<NearMiss> {
    let dst = if egress { other } else { this };
    let mut out = Vec::new();
    for &pi in by {
        let Some(p) = cluster.model.network_policies.get(pi) else {
            continue;
        };
        let rules = if egress { &p.egress } else { &p.ingress };
        for (ri, r) in rules.iter().enumerate() {
            let peer_ok = cluster.rule_peers_match(pi, egress, ri, r, other);
            let port_ok = cluster.port_matches(&r.ports, port, dst);
            let missed = match (peer_ok, port_ok) {
                (true, false) => "port",
                (false, true) => "peer",
                _ => continue,
            };
            out.push(NearMiss {
                policy: policy_name(cluster, pi),
                rule: ri,
                missed,
            });
        }
    }
    out
}

/// Renders a trace for people.
pub fn human(t: &Trace) -> String {
    let mut out = format!(
        "{} -> {} on {}: {}\n",
        t.from,
        t.to,
        t.port,
        t.verdict.to_uppercase()
    );
    for (label, side) in [("egress ", &t.egress), ("ingress", &t.ingress)] {
        out.push_str(&format!("  {label} {}: {}\n", side.verdict, side.reason));
        if !side.isolated_by.is_empty() {
            out.push_str(&format!(
                "          isolated by: {}\n",
                side.isolated_by.join(", ")
            ));
        }
        for a in &side.allowed_by {
            out.push_str(&format!(
                "          allowed by: {} rule {}\n",
                a.policy, a.rule
            ));
        }
        for m in &side.near_misses {
            out.push_str(&format!(
                "          closest: {} rule {} (matched the {}, not the {})\n",
                m.policy,
                m.rule,
                if m.missed == "port" { "peer" } else { "port" },
                m.missed
            ));
        }
    }
    for (id, text) in &t.relies_on {
        out.push_str(&format!(
            "  relies on `{id}` under network plugin `{}`: {text}\n",
            t.network_plugin
        ));
    }
    for n in &t.notes {
        out.push_str(&format!("  note: {n}\n"));
    }
    for u in &t.unmodelled {
        out.push_str(&format!("  warning: {u}\n"));
    }
    out
}

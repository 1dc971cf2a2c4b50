//! Network plugins' readings of what the NetworkPolicy API leaves undefined.
//!
//! The API leaves some behaviour to the network plugin (CNI). Each such
//! corner that the engine models is one row of [`CORNERS`]: its ID (traces
//! cite it), what each [`NetworkPlugin`] profile does there, and the source
//! of that reading. Evaluation asks [`NetworkPlugin::reads`] and nothing
//! else, so one row decides each corner everywhere (the matrix, the
//! pair-by-pair evaluator, traces, and the facts handed to plugins).
//!
//! `generic` is the conservative profile: at each corner of the table, it
//! takes the reading that allows more. Outside the table it is no wiser than
//! the others: a pod without known IPs is never matched by an `ipBlock` in
//! any profile, though a plugin that matches pod IPs may match it.

use std::fmt;
use std::str::FromStr;

/// The network plugin (CNI) whose reading of NetworkPolicy's undefined
/// corners the analysis follows.
///
/// `Generic` (the default) over-approximates what is allowed: where the
/// Kubernetes API leaves the answer to the plugin, it takes the reading
/// under which more traffic is allowed. `Calico` and `Cilium` follow those
/// plugins' documented default behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[non_exhaustive]
pub enum NetworkPlugin {
    /// Conservative: allows whatever some conforming plugin may allow.
    #[default]
    Generic,
    /// Calico (Project Calico), default configuration.
    Calico,
    /// Cilium, default configuration (`policy-cidr-match-mode` unset).
    Cilium,
}

impl NetworkPlugin {
    /// Every profile, in the order of the readings in the assumption table.
    pub const ALL: [NetworkPlugin; 3] = [
        NetworkPlugin::Generic,
        NetworkPlugin::Calico,
        NetworkPlugin::Cilium,
    ];

    /// The profile's name as written in policy sets and on the command line:
    /// `generic`, `calico` or `cilium`.
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkPlugin::Generic => "generic",
            NetworkPlugin::Calico => "calico",
            NetworkPlugin::Cilium => "cilium",
        }
    }

    /// The profile named `name` (`generic`, `calico` or `cilium`; exact,
    /// lowercase).
    pub fn parse(name: &str) -> Option<NetworkPlugin> {
        NetworkPlugin::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// How this profile reads `corner`: `true` is the reading under which
    /// the corner's question is answered yes.
    pub fn reads(self, corner: Corner) -> bool {
        corner.row().reading(self).0
    }

    /// The statement of this profile's reading of `corner`.
    pub fn statement(self, corner: Corner) -> &'static str {
        corner.row().reading(self).1
    }
}

impl fmt::Display for NetworkPlugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for NetworkPlugin {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl FromStr for NetworkPlugin {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<NetworkPlugin, crate::Error> {
        NetworkPlugin::parse(s).ok_or_else(|| {
            crate::Error::new(
                crate::ErrorKind::Input,
                format!("unknown network plugin `{s}` (expected generic, calico or cilium)"),
            )
        })
    }
}

/// A corner of NetworkPolicy semantics that the API leaves to the plugin (or
/// that the engine has to choose for lack of information), as a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corner {
    /// Does an ipBlock peer match a pod-network pod by its pod IPs?
    IpBlockPodIp,
    /// Do NetworkPolicies isolate hostNetwork pods?
    HostNetwork,
    /// Do podSelector/namespaceSelector peers match hostNetwork pods?
    HostNetworkSelectors,
    /// Does an ipBlock peer match a hostNetwork pod by its IPs (node IPs)?
    HostNetworkIpBlock,
    /// Is traffic evaluated with its original addresses (no NAT)?
    NoSnat,
    /// Is a pod's traffic to itself always allowed?
    SelfTraffic,
    /// Does a named port never match an external address?
    NamedPortExternal,
}

/// A profile's reading of a corner: the answer to the corner's question, and
/// the statement of it.
pub type Reading = (bool, &'static str);

/// One row of the assumption table.
#[derive(Debug)]
pub struct Row {
    /// The ID traces cite.
    pub id: &'static str,
    /// The corner as a question; a reading answers it yes or no.
    pub question: &'static str,
    pub generic: Reading,
    pub calico: Reading,
    pub cilium: Reading,
    /// Where the readings come from (`generic`, `calico`, `cilium`).
    pub sources: [&'static str; 3],
}

impl Row {
    fn reading(&self, plugin: NetworkPlugin) -> Reading {
        match plugin {
            NetworkPlugin::Generic => self.generic,
            NetworkPlugin::Calico => self.calico,
            NetworkPlugin::Cilium => self.cilium,
        }
    }
}

impl Corner {
    pub fn row(self) -> &'static Row {
        match self {
            Corner::IpBlockPodIp => &IPBLOCK_POD_IP,
            Corner::HostNetwork => &HOST_NETWORK,
            Corner::HostNetworkSelectors => &HOST_NETWORK_SELECTORS,
            Corner::HostNetworkIpBlock => &HOST_NETWORK_IPBLOCK,
            Corner::NoSnat => &NO_SNAT,
            Corner::SelfTraffic => &SELF_TRAFFIC,
            Corner::NamedPortExternal => &NAMED_PORT_EXTERNAL,
        }
    }

    /// The ID traces cite.
    pub fn id(self) -> &'static str {
        self.row().id
    }
}

// The sources, each written once.
const K8S_HOST_NETWORK: &str = "Kubernetes documentation, Network Policies, 'NetworkPolicy and hostNetwork pods' (<https://kubernetes.io/docs/concepts/services-networking/network-policies/#networkpolicy-and-hostnetwork-pods>): behaviour is undefined, limited to two possibilities: the plugin applies NetworkPolicy to hostNetwork pods like to other pods, or it ignores them in podSelector/namespaceSelector and treats their traffic as traffic of the node IP (the most common implementation)";
const K8S_IPBLOCK: &str = "Kubernetes API reference, IPBlock, and the upstream e2e suite test/e2e/network/netpol (the CIDR cases select pods by their pod IPs)";
const K8S_NAT: &str = "Kubernetes documentation, Network Policies, ipBlock: whether NAT (Service VIPs, source NAT) happens before or after policy is undefined; the engine has no Services or NAT rules to apply";
const K8S_SELF: &str = "Kubernetes documentation, Network Policies: policies govern traffic between a pod and other endpoints; a pod's loopback is not network traffic";
const K8S_NAMED_PORT: &str = "Kubernetes API reference, NetworkPolicyPort: a named port is looked up on the destination pods' container ports";
const CALICO_CONVERSION: &str = "Calico source, projectcalico/calico libcalico-go/lib/backend/k8s/conversion/conversion.go: `IsValidCalicoWorkloadEndpoint` makes no workload endpoint for a hostNetwork pod, so Kubernetes NetworkPolicies (converted to Calico policies over workload endpoints) neither select it nor match it with pod or namespace selectors; `k8sPeerToCalicoFields` turns an ipBlock into plain `nets`/`notNets` address matches, which apply to any address, pod or node";
const CILIUM_CIDR: &str = "Cilium documentation, Layer 3 Policies, IP/CIDR based (<https://docs.cilium.io/en/latest/security/policy/layer3/>, the policy language page in older releases): 'CIDR rules do not apply to traffic where both sides of the connection are either managed by Cilium or use an IP belonging to a node in the cluster (including host networking pods)' (node IPs match only with the non-default `policy-cidr-match-mode: nodes`); the Caveats page (<https://docs.cilium.io/en/latest/security/policy/caveats/>) states the difference from Kubernetes NetworkPolicy";
const CILIUM_HOST: &str = "Cilium documentation, Host Policies (<https://docs.cilium.io/en/latest/security/policy/host/>): host policies (a CiliumClusterwideNetworkPolicy with a nodeSelector) apply to the host namespace, including host-networking pods; Kubernetes NetworkPolicies become endpoint (pod) policies, which do not, and a host-networking pod's traffic has the host's identity (`host` or `remote-node`), not its pod labels";

const IPBLOCK_POD_IP: Row = Row {
    question: "does an ipBlock peer match a pod by its pod IPs?",
    id: "ipblock-pod-ip",
    generic: (
        true,
        "ipBlock peers match pods by their pod IPs (status.podIP/podIPs) when the inputs give them, the reading that allows more; pods without known IPs are never matched by ipBlock",
    ),
    calico: (
        true,
        "Calico matches ipBlock peers against every address, pods included: pods are matched by their pod IPs (status.podIP/podIPs) when the inputs give them; pods without known IPs are never matched by ipBlock",
    ),
    cilium: (
        false,
        "Cilium never matches ipBlock peers against the pods it manages: CIDR rules apply to traffic leaving or entering the cluster, so pods are matched by pod or namespace selectors only",
    ),
    sources: [K8S_IPBLOCK, CALICO_CONVERSION, CILIUM_CIDR],
};

const HOST_NETWORK: Row = Row {
    question: "do NetworkPolicies isolate hostNetwork pods?",
    id: "host-network",
    generic: (
        false,
        "NetworkPolicies do not isolate hostNetwork pods: their own ingress and egress are not restricted (the reading that allows more)",
    ),
    calico: (
        false,
        "Calico does not apply Kubernetes NetworkPolicies to hostNetwork pods (only host endpoint policy governs them): their own ingress and egress are not restricted",
    ),
    cilium: (
        false,
        "Cilium does not apply Kubernetes NetworkPolicies to hostNetwork pods (only host policies govern them): their own ingress and egress are not restricted",
    ),
    sources: [K8S_HOST_NETWORK, CALICO_CONVERSION, CILIUM_HOST],
};

const HOST_NETWORK_SELECTORS: Row = Row {
    question: "do pod/namespace selectors match hostNetwork pods as peers?",
    id: "host-network-selectors",
    generic: (
        true,
        "podSelector/namespaceSelector peers match hostNetwork pods by their labels and namespace like any pod, as a plugin that applies NetworkPolicy to hostNetwork pods does (the reading that allows more)",
    ),
    calico: (
        false,
        "Calico's pod and namespace selectors never match hostNetwork pods (they are not workload endpoints): their traffic is node traffic, matched only by ipBlock on their IPs",
    ),
    cilium: (
        false,
        "Cilium's pod and namespace selectors never match hostNetwork pods: their traffic has the host's identity",
    ),
    sources: [K8S_HOST_NETWORK, CALICO_CONVERSION, CILIUM_HOST],
};

const HOST_NETWORK_IPBLOCK: Row = Row {
    question: "does an ipBlock peer match a hostNetwork pod by its (node) IPs?",
    id: "host-network-ipblock",
    generic: (
        true,
        "ipBlock peers match hostNetwork pods by their IPs (the node's) when the inputs give them, as for node traffic in the most common implementation (the reading that allows more)",
    ),
    calico: (
        true,
        "Calico matches ipBlock peers against node addresses too: hostNetwork pods are matched by their IPs when the inputs give them",
    ),
    cilium: (
        false,
        "Cilium's ipBlock peers never match node IPs, hence never hostNetwork pods (unless `policy-cidr-match-mode: nodes` is set, which this profile does not assume)",
    ),
    sources: [K8S_HOST_NETWORK, CALICO_CONVERSION, CILIUM_CIDR],
};

const NO_SNAT_TEXT: &str = "traffic is evaluated with its original source and destination addresses: no Service VIP rewriting or source NAT is modelled";
const NO_SNAT: Row = Row {
    question: "is traffic evaluated with its original addresses (no Service VIPs, no NAT)?",
    id: "no-snat",
    generic: (true, NO_SNAT_TEXT),
    calico: (true, NO_SNAT_TEXT),
    cilium: (true, NO_SNAT_TEXT),
    sources: [K8S_NAT, K8S_NAT, K8S_NAT],
};

const SELF_TEXT: &str = "a pod's traffic to itself is always allowed and is not evaluated (the matrix omits self pairs)";
const SELF_TRAFFIC: Row = Row {
    question: "is a pod's traffic to itself always allowed?",
    id: "self-traffic",
    generic: (true, SELF_TEXT),
    calico: (true, SELF_TEXT),
    cilium: (true, SELF_TEXT),
    sources: [K8S_SELF, K8S_SELF, K8S_SELF],
};

const NAMED_TEXT: &str = "a named port never matches an external destination: names resolve only on the destination pod's container ports";
const NAMED_PORT_EXTERNAL: Row = Row {
    question: "does a named port never match an external address?",
    id: "named-port-external",
    generic: (true, NAMED_TEXT),
    calico: (true, NAMED_TEXT),
    cilium: (true, NAMED_TEXT),
    sources: [K8S_NAMED_PORT, K8S_NAMED_PORT, K8S_NAMED_PORT],
};

/// The assumption table: every corner the engine models, each profile's
/// reading and its source. README.md carries it as [`markdown`] renders it
/// (a test keeps it current).
pub const CORNERS: [&Row; 7] = [
    &IPBLOCK_POD_IP,
    &HOST_NETWORK,
    &HOST_NETWORK_SELECTORS,
    &HOST_NETWORK_IPBLOCK,
    &NO_SNAT,
    &SELF_TRAFFIC,
    &NAMED_PORT_EXTERNAL,
];

/// The assumption table in Markdown: one row per corner, yes/no per
/// profile with a reference to its source, then the sources, each once.
pub fn markdown() -> String {
    let mut sources: Vec<&str> = Vec::new();
    let mut cite = |text: &'static str| -> usize {
        match sources.iter().position(|s| *s == text) {
            Some(i) => i + 1,
            None => {
                sources.push(text);
                sources.len()
            }
        }
    };
    let mut out =
        String::from("| corner | question | generic | calico | cilium |\n|---|---|---|---|---|\n");
    for row in CORNERS {
        let mut cells = Vec::new();
        for (reading, source) in [row.generic, row.calico, row.cilium]
            .into_iter()
            .zip(row.sources)
        {
            let n = cite(source);
            cells.push(format!("{} ({n})", if reading.0 { "yes" } else { "no" }));
        }
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            row.id,
            row.question,
            cells.join(" | ")
        ));
    }
    out.push('\n');
    for (i, s) in sources.iter().enumerate() {
        out.push_str(&format!("{}. {s}\n", i + 1));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Corner; 7] = [
        Corner::IpBlockPodIp,
        Corner::HostNetwork,
        Corner::HostNetworkSelectors,
        Corner::HostNetworkIpBlock,
        Corner::NoSnat,
        Corner::SelfTraffic,
        Corner::NamedPortExternal,
    ];

    #[test]
    fn one_row_per_corner_and_unique_ids() {
        for (corner, row) in ALL.into_iter().zip(CORNERS) {
            assert_eq!(corner.row().id, row.id);
        }
        let mut ids: Vec<_> = CORNERS.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CORNERS.len());
    }

    #[test]
    fn generic_allows_at_least_what_every_plugin_allows() {
        // Every corner is phrased so that `true` allows more, except
        // isolation, where `false` (not isolated) allows more.
        for corner in ALL {
            let row = corner.row();
            let more = |p: NetworkPlugin| p.reads(corner) != (corner == Corner::HostNetwork);
            for p in NetworkPlugin::ALL {
                assert!(
                    more(NetworkPlugin::Generic) || !more(p),
                    "{}: generic is narrower than {p}",
                    row.id
                );
            }
        }
    }

    #[test]
    fn calico_and_cilium_differ_exactly_on_ipblock_corners() {
        let differ: Vec<_> = CORNERS
            .iter()
            .filter(|r| r.calico.0 != r.cilium.0)
            .map(|r| r.id)
            .collect();
        assert_eq!(differ, ["ipblock-pod-ip", "host-network-ipblock"]);
    }

    #[test]
    fn names_round_trip() {
        for p in NetworkPlugin::ALL {
            assert_eq!(NetworkPlugin::parse(p.as_str()), Some(p));
            assert_eq!(p.to_string().parse::<NetworkPlugin>().unwrap(), p);
        }
        assert_eq!(NetworkPlugin::parse("Calico"), None);
        assert!("weave".parse::<NetworkPlugin>().is_err());
        assert_eq!(NetworkPlugin::default(), NetworkPlugin::Generic);
    }
}

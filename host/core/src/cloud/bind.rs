//! Where the cluster sits in the cloud network: the policy set's
//! `spec.cloud` names the subnets and security groups of the nodes, of the
//! pods when they have their own (VPC-native pod networking, security
//! groups for pods), and of the proxy; the host resolves the names against
//! the cloud inputs and places each workload.
//!
//! ```yaml
//! spec:
//!   cloud:
//!     nodes:
//!       subnets: [aws_subnet.private]          # address (every instance), instance, ID or CIDR
//!       securityGroups: [{tags: {palisade.dev/layer: nodes}}]
//!     pods:                                    # optional: pods leave from their own subnets
//!       subnets: [subnet-0abc, 100.64.0.0/16]  # (else from the nodes', SNAT)
//!     proxy:
//!       subnets: [module.egress.aws_subnet.proxy]
//!       securityGroups: [aws_security_group.proxy]
//! ```
//!
//! A selector is a string (a Terraform address, which names every
//! instance of a resource written with `count` or `for_each`; an instance
//! address; a cloud ID; a subnet's `Name` tag or a group's name; a CIDR,
//! which names the subnets inside it) or `{tags: {KEY: VALUE}}`, which
//! names what carries all those tags. Without cloud inputs the binding is
//! not used; with them, a selector that names nothing is a diagnostic at
//! its line, and so is a binding that places neither the nodes nor the
//! pods. A policy set without `spec.cloud` places nothing: the network's
//! VPC-wide facts are still read.

use std::collections::BTreeMap;

use ipnet::IpNet;
use serde::Deserialize;

use super::{Network, SecurityGroup, Subnet, Tags};
use crate::report::{Diagnostic, Location};

/// One name in `spec.cloud`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Selector {
    /// An address, instance address, ID, name or CIDR.
    Name(String),
    /// Everything carrying these tags.
    Tags {
        /// Tag key → value, all required.
        tags: BTreeMap<String, String>,
    },
}

/// Subnets and security groups of one part of the cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PlacementSpec {
    #[serde(default)]
    pub subnets: Vec<Selector>,
    #[serde(default)]
    pub security_groups: Vec<Selector>,
}

/// `spec.cloud`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Binding {
    #[serde(default)]
    pub nodes: PlacementSpec,
    /// Pods with addresses of their own subnets (VPC-native); absent: pods
    /// leave through their node's address (SNAT), from the nodes' subnets.
    #[serde(default)]
    pub pods: Option<PlacementSpec>,
    #[serde(default)]
    pub proxy: PlacementSpec,
    /// Where each selector is written (pointer under `spec.cloud` →
    /// location), filled by the policy-set reader.
    #[serde(skip)]
    pub locations: BTreeMap<String, Location>,
}

impl Binding {
    /// Whether the policy set binds anything.
    pub fn is_empty(&self) -> bool {
        let empty = |p: &PlacementSpec| p.subnets.is_empty() && p.security_groups.is_empty();
        empty(&self.nodes) && self.pods.as_ref().is_none_or(empty) && empty(&self.proxy)
    }

    /// Every selector with its pointer under `spec.cloud`
    /// (`/nodes/subnets/0`).
    fn selectors(&self) -> Vec<(String, &Selector)> {
        let parts = [
            ("nodes", Some(&self.nodes)),
            ("pods", self.pods.as_ref()),
            ("proxy", Some(&self.proxy)),
        ];
        let mut out = Vec::new();
        for (part, spec) in parts {
            let Some(spec) = spec else { continue };
            for (field, list) in [
                ("subnets", &spec.subnets),
                ("securityGroups", &spec.security_groups),
            ] {
                out.extend(
                    list.iter()
                        .enumerate()
                        .map(|(i, s)| (format!("/{part}/{field}/{i}"), s)),
                );
            }
        }
        out
    }

    /// Every selector's pointer under `spec.cloud`.
    pub fn pointers(&self) -> Vec<String> {
        self.selectors().into_iter().map(|(p, _)| p).collect()
    }

    /// Problems beyond types: a CIDR selector that does not parse, an
    /// empty tag selector; as (pointer under `spec.cloud`, message).
    pub fn problems(&self) -> Vec<(String, String)> {
        self.selectors()
            .into_iter()
            .filter_map(|(at, s)| match s {
                Selector::Name(n) if n.trim().is_empty() => {
                    Some((at, "an empty name selects nothing".to_string()))
                }
                Selector::Name(n) if looks_like_cidr(n) && n.parse::<IpNet>().is_err() => {
                    Some((at, format!("`{n}` is not a CIDR")))
                }
                Selector::Tags { tags } if tags.is_empty() => {
                    Some((at, "`tags: {}` would select everything".to_string()))
                }
                _ => None,
            })
            .collect()
    }

    /// The binding resolved against `network`; a selector that names
    /// nothing (when the network has subnets at all) is a diagnostic at
    /// its line in the policy set.
    pub fn resolve(&self, network: &Network) -> (Placements, Vec<Diagnostic>) {
        let mut diagnostics = Vec::new();
        // Without `spec.cloud` the network is still read (its VPC-wide
        // facts stand on their own), and no subnet is the cluster's.
        if self.is_empty() || (network.subnets.is_empty() && network.security_groups.is_empty()) {
            return (Placements::default(), diagnostics);
        }
        let mut resolve = |part: &str, spec: &PlacementSpec| -> Placement {
            let mut placement = Placement::default();
            for (i, s) in spec.subnets.iter().enumerate() {
                let found: Vec<&Subnet> = network
                    .subnets
                    .iter()
                    .filter(|x| subnet_matches(s, x))
                    .collect();
                if found.is_empty() {
                    diagnostics.push(self.unmatched(part, "subnets", i, s, "subnet"));
                }
                for x in found {
                    if !placement.subnets.contains(&x.key) {
                        placement.subnets.push(x.key.clone());
                    }
                }
            }
            for (i, s) in spec.security_groups.iter().enumerate() {
                let found: Vec<&SecurityGroup> = network
                    .security_groups
                    .iter()
                    .filter(|x| group_matches(s, x))
                    .collect();
                if found.is_empty() {
                    diagnostics.push(self.unmatched(
                        part,
                        "securityGroups",
                        i,
                        s,
                        "security group",
                    ));
                }
                for x in found {
                    if !placement.security_groups.contains(&x.key) {
                        placement.security_groups.push(x.key.clone());
                    }
                }
            }
            placement
        };
        let nodes = resolve("nodes", &self.nodes);
        let pods = self.pods.as_ref().map(|p| resolve("pods", p));
        let proxy = resolve("proxy", &self.proxy);
        if nodes.subnets.is_empty() && pods.as_ref().is_none_or(|p| p.subnets.is_empty()) {
            diagnostics.push(Diagnostic::input(
                "the cloud inputs are given, but the policy set places no part of the cluster in them: name the nodes' (or pods') subnets under `spec.cloud`, or tag them `palisade.dev/layer: workloads` for the default policy set".to_string(),
                self.locations.get("").cloned(),
            ));
        }
        (Placements { nodes, pods, proxy }, diagnostics)
    }

    fn unmatched(&self, part: &str, field: &str, i: usize, s: &Selector, what: &str) -> Diagnostic {
        let named = match s {
            Selector::Name(n) => format!("`{n}`"),
            Selector::Tags { tags } => format!(
                "tags {}",
                tags.iter()
                    .map(|(k, v)| format!("`{k}={v}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        Diagnostic::input(
            format!(
                "`spec.cloud.{part}.{field}`: no {what} of the cloud inputs matches {named} (by address, ID, name, CIDR or tags)"
            ),
            self.locations
                .get(&format!("/{part}/{field}/{i}"))
                .or_else(|| self.locations.get(""))
                .cloned(),
        )
    }
}

fn looks_like_cidr(n: &str) -> bool {
    n.split_once('/')
        .is_some_and(|(a, _)| a.parse::<std::net::IpAddr>().is_ok())
}

/// Whether `key` is `name` or one of its instances (`name[0]`, `name["a"]`).
fn address_matches(name: &str, key: &str) -> bool {
    key == name
        || key.strip_prefix(name).is_some_and(|rest| {
            rest.starts_with('[') && rest.ends_with(']') && !rest[1..].contains('[')
        })
}

fn tags_match(want: &BTreeMap<String, String>, have: &Tags) -> bool {
    want.iter().all(|(k, v)| have.get(k) == Some(v))
}

fn subnet_matches(s: &Selector, x: &Subnet) -> bool {
    match s {
        Selector::Tags { tags } => tags_match(tags, &x.tags),
        Selector::Name(n) => {
            if let Ok(cidr) = n.parse::<IpNet>() {
                return !x.cidrs.is_empty()
                    && x.cidrs
                        .iter()
                        .filter(|c| c.addr().is_ipv4() == cidr.addr().is_ipv4())
                        .any(|c| cidr.contains(c));
            }
            address_matches(n, &x.key)
                || x.id.as_deref() == Some(n.as_str())
                || x.tags.get("Name") == Some(n)
        }
    }
}

fn group_matches(s: &Selector, x: &SecurityGroup) -> bool {
    match s {
        Selector::Tags { tags } => tags_match(tags, &x.tags),
        Selector::Name(n) => {
            address_matches(n, &x.key)
                || x.id.as_deref() == Some(n.as_str())
                || x.name == *n
                || x.tags.get("Name") == Some(n)
        }
    }
}

/// Subnets and security groups (keys of the network) of one part of the
/// cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placement {
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
}

/// The binding resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placements {
    pub nodes: Placement,
    /// The pods' own, when VPC-native.
    pub pods: Option<Placement>,
    pub proxy: Placement,
}

/// Which parts of the cluster an element belongs to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Parts {
    pub nodes: bool,
    pub pods: bool,
    pub proxy: bool,
}

impl Placements {
    /// Whether anything is placed.
    pub fn is_empty(&self) -> bool {
        self.nodes.subnets.is_empty()
            && self.pods.as_ref().is_none_or(|p| p.subnets.is_empty())
            && self.proxy.subnets.is_empty()
    }

    /// Where a workload's traffic leaves from: the proxy's placement for
    /// the proxy's pods; else the pods' own (VPC-native), else the nodes'
    /// (SNAT). `None` when nothing is placed.
    pub fn of_workload(&self, is_proxy: bool) -> Option<&Placement> {
        if self.is_empty() {
            return None;
        }
        let placement = if is_proxy && !self.proxy.subnets.is_empty() {
            &self.proxy
        } else {
            self.pods.as_ref().unwrap_or(&self.nodes)
        };
        (!placement.subnets.is_empty()).then_some(placement)
    }

    /// The parts a subnet serves.
    pub fn subnet_parts(&self, key: &str) -> Parts {
        let has = |p: &Placement| p.subnets.iter().any(|s| s == key);
        Parts {
            nodes: has(&self.nodes),
            pods: self.pods.as_ref().is_some_and(has),
            proxy: has(&self.proxy),
        }
    }

    /// The parts a security group is carried by.
    pub fn group_parts(&self, key: &str) -> Parts {
        let has = |p: &Placement| p.security_groups.iter().any(|s| s == key);
        Parts {
            nodes: has(&self.nodes),
            pods: self.pods.as_ref().is_some_and(has),
            proxy: has(&self.proxy),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;
    use crate::cloud::{Known, Origin};

    fn origin(key: &str) -> Origin {
        Origin {
            address: key.to_string(),
            location: Location::new("plan.json", 1, 1),
            object: 0,
            pointer: String::new(),
        }
    }

    fn subnet(key: &str, id: Option<&str>, cidr: &str, tags: &[(&str, &str)]) -> Subnet {
        Subnet {
            key: key.to_string(),
            id: id.map(str::to_string),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            vpc: Known::Yes("aws_vpc.main".to_string()),
            cidrs: vec![cidr.parse().unwrap()],
            map_public_ip_on_launch: false,
            origin: origin(key),
        }
    }

    fn network() -> Network {
        let mut net = Network::default();
        net.subnets.push(subnet(
            "aws_subnet.workloads[0]",
            None,
            "10.0.16.0/20",
            &[("palisade.dev/layer", "workloads")],
        ));
        net.subnets.push(subnet(
            "aws_subnet.workloads[1]",
            None,
            "10.0.32.0/20",
            &[("palisade.dev/layer", "workloads")],
        ));
        net.subnets.push(subnet(
            "module.egress.aws_subnet.proxy[\"a\"]",
            Some("subnet-0abc"),
            "10.0.1.0/24",
            &[("Name", "proxy-a")],
        ));
        net.security_groups.push(SecurityGroup {
            key: "aws_security_group.nodes".to_string(),
            id: Some("sg-0123".to_string()),
            name: "eks-nodes".to_string(),
            tags: Tags::new(),
            vpc: Known::Yes("aws_vpc.main".to_string()),
            rules: Vec::new(),
            default: false,
            origin: origin("aws_security_group.nodes"),
        });
        net
    }

    fn binding(yaml: serde_json::Value) -> Binding {
        let mut b: Binding = serde_json::from_value(yaml).unwrap();
        for p in b.pointers().into_iter().chain([String::new()]) {
            let line = u32::try_from(p.len()).unwrap() + 1;
            b.locations.insert(p, Location::new("policy.yaml", line, 1));
        }
        b
    }

    #[test]
    fn selectors_name_by_address_instance_id_name_cidr_and_tags() {
        let cases = [
            (serde_json::json!("aws_subnet.workloads"), 2),
            (serde_json::json!("aws_subnet.workloads[1]"), 1),
            (serde_json::json!("subnet-0abc"), 1),
            (serde_json::json!("proxy-a"), 1),
            (serde_json::json!("10.0.0.0/18"), 3),
            (serde_json::json!("10.0.16.0/20"), 1),
            (serde_json::json!("10.0.16.0/21"), 0),
            (
                serde_json::json!({"tags": {"palisade.dev/layer": "workloads"}}),
                2,
            ),
            (serde_json::json!("aws_subnet.work"), 0),
            (serde_json::json!("module.egress.aws_subnet.proxy"), 1),
        ];
        for (selector, n) in cases {
            let b = binding(serde_json::json!({"nodes": {"subnets": [selector.clone()]}}));
            let (placed, diagnostics) = b.resolve(&network());
            assert_eq!(placed.nodes.subnets.len(), n, "{selector}: {placed:?}");
            assert_eq!(diagnostics.is_empty(), n > 0, "{selector}: {diagnostics:?}");
        }
        for selector in ["eks-nodes", "sg-0123", "aws_security_group.nodes"] {
            let b = binding(serde_json::json!({
                "nodes": {"subnets": ["aws_subnet.workloads"], "securityGroups": [selector]}
            }));
            let (placed, diagnostics) = b.resolve(&network());
            assert_eq!(placed.nodes.security_groups, ["aws_security_group.nodes"]);
            assert!(diagnostics.is_empty(), "{diagnostics:?}");
        }
    }

    #[test]
    fn a_selector_naming_nothing_is_a_diagnostic_at_its_line() {
        let b = binding(serde_json::json!({
            "nodes": {"subnets": ["aws_subnet.workloads", "aws_subnet.typo"]},
            "proxy": {"securityGroups": ["proxy"]}
        }));
        let (_, diagnostics) = b.resolve(&network());
        let at: Vec<(String, u32)> = diagnostics
            .iter()
            .map(|d| {
                let l = d.location.as_ref().unwrap();
                (d.message.clone(), l.line)
            })
            .collect();
        assert_eq!(at.len(), 2, "{at:?}");
        assert!(at[0].0.contains("`aws_subnet.typo`"), "{at:?}");
        assert_eq!(at[0].1, "/nodes/subnets/1".len() as u32 + 1);
        assert!(at[1].0.contains("no security group"), "{at:?}");
    }

    #[test]
    fn without_spec_cloud_or_cloud_inputs_nothing_is_placed_and_nothing_said() {
        let (placed, diagnostics) = Binding::default().resolve(&network());
        assert!(placed.is_empty() && diagnostics.is_empty());
        let b = binding(serde_json::json!({"nodes": {"subnets": ["anything"]}}));
        let (placed, diagnostics) = b.resolve(&Network::default());
        assert!(placed.is_empty() && diagnostics.is_empty());
        // A binding of the proxy alone leaves the workloads unplaced: said.
        let b = binding(serde_json::json!({"proxy": {"subnets": ["subnet-0abc"]}}));
        let (_, diagnostics) = b.resolve(&network());
        assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
        assert!(
            diagnostics[0]
                .message
                .contains("places no part of the cluster")
        );
    }

    #[test]
    fn workloads_leave_from_the_pods_subnets_when_vpc_native_else_the_nodes() {
        let b = binding(serde_json::json!({
            "nodes": {"subnets": ["aws_subnet.workloads[0]"]},
            "proxy": {"subnets": ["subnet-0abc"]}
        }));
        let (placed, _) = b.resolve(&network());
        assert_eq!(
            placed.of_workload(false).unwrap().subnets,
            ["aws_subnet.workloads[0]"]
        );
        assert_eq!(
            placed.of_workload(true).unwrap().subnets,
            ["module.egress.aws_subnet.proxy[\"a\"]"]
        );
        let b = binding(serde_json::json!({
            "nodes": {"subnets": ["aws_subnet.workloads[0]"]},
            "pods": {"subnets": ["aws_subnet.workloads[1]"]}
        }));
        let (placed, _) = b.resolve(&network());
        assert_eq!(
            placed.of_workload(false).unwrap().subnets,
            ["aws_subnet.workloads[1]"]
        );
        // No proxy placement: the proxy's pods leave like any pod.
        assert_eq!(
            placed.of_workload(true).unwrap().subnets,
            ["aws_subnet.workloads[1]"]
        );
        assert!(placed.subnet_parts("aws_subnet.workloads[1]").pods);
        assert!(!placed.subnet_parts("aws_subnet.workloads[1]").nodes);
    }

    #[test]
    fn cidr_typos_and_empty_selectors_are_refused_where_written() {
        let b: Binding = serde_json::from_value(serde_json::json!({
            "nodes": {"subnets": ["10.0.0.0/33", "", {"tags": {}}]}
        }))
        .unwrap();
        let problems: Vec<String> = b.problems().into_iter().map(|(p, _)| p).collect();
        assert_eq!(
            problems,
            ["/nodes/subnets/0", "/nodes/subnets/1", "/nodes/subnets/2"]
        );
    }
}

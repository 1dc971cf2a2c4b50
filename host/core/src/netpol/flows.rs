//! What plugins receive about NetworkPolicy traffic: every rule's peers
//! resolved to the namespaces and workloads they match (once per rule), and
//! each workload's flows — references (policy, rule, peer) to the rules of
//! the policies isolating it, not copies.

use std::collections::{BTreeMap, HashMap};

use super::{Cluster, Target};
use crate::facts::{self, Flow, PeerMatch};
use crate::model::{Model, selector};

fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// Resolves every rule's peers and gives each workload its flows, reading
/// the corners the API leaves open as `plugin` does.
pub fn resolve(model: &mut Model, plugin: crate::NetworkPlugin) {
    let matches = peer_matches(model, plugin);
    for (p, [ingress, egress]) in model.network_policies.iter_mut().zip(matches) {
        for (r, m) in p.ingress.iter_mut().zip(ingress) {
            r.matches = m;
        }
        for (r, m) in p.egress.iter_mut().zip(egress) {
            r.matches = m;
        }
    }
    let flows: Vec<(Vec<Flow>, Vec<Flow>)> = model
        .workloads
        .iter()
        .map(|w| {
            (
                flows_of(&model.network_policies, &w.isolation.ingress, false),
                flows_of(&model.network_policies, &w.isolation.egress, true),
            )
        })
        .collect();
    for (w, (ingress, egress)) in model.workloads.iter_mut().zip(flows) {
        w.ingress_flows = ingress;
        w.egress_flows = egress;
    }
}

/// Per policy, per direction (ingress, egress), per rule, per peer: what
/// the peer matches.
type Matches = Vec<[Vec<Vec<PeerMatch>>; 2]>;

fn peer_matches(model: &Model, plugin: crate::NetworkPlugin) -> Matches {
    let cluster = Cluster::new(model, plugin);
    let mut by_namespace: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, e) in cluster.endpoints.iter().enumerate() {
        by_namespace
            .entry(e.namespace.as_str())
            .or_default()
            .push(i);
    }
    // Namespaces each distinct namespace selector admits: most peers share
    // a few selectors (the proxy's namespace, cluster DNS's), and matching
    // every namespace for every peer grew with policies × namespaces.
    let mut admitted: HashMap<String, Vec<String>> = HashMap::new();
    let mut out = Vec::new();
    for (pi, p) in model.network_policies.iter().enumerate() {
        let mut per_dir: [Vec<Vec<PeerMatch>>; 2] = [Vec::new(), Vec::new()];
        for (egress, rules) in [(false, &p.ingress), (true, &p.egress)] {
            for (ri, r) in rules.iter().enumerate() {
                let rule_matches = r
                    .peers
                    .iter()
                    .enumerate()
                    .map(|(ei, peer)| {
                        let at = PeerAt {
                            policy: pi,
                            egress,
                            rule: ri,
                            peer: ei,
                        };
                        peer_match(model, &cluster, &by_namespace, &mut admitted, at, peer)
                    })
                    .collect();
                if let Some(slot) = per_dir.get_mut(usize::from(egress)) {
                    slot.push(rule_matches);
                }
            }
        }
        out.push(per_dir);
    }
    out
}

/// Where a peer is: policy, direction, rule and index.
#[derive(Debug, Clone, Copy)]
struct PeerAt {
    policy: usize,
    egress: bool,
    rule: usize,
    peer: usize,
}

/// What one peer matches: the namespaces a pod peer admits, and the
/// workloads the cluster's own decision lets it match.
fn peer_match(
    model: &Model,
    cluster: &Cluster<'_>,
    by_namespace: &BTreeMap<&str, Vec<usize>>,
    admitted: &mut HashMap<String, Vec<String>>,
    at: PeerAt,
    peer: &facts::Peer,
) -> PeerMatch {
    let Some(policy) = model.network_policies.get(at.policy) else {
        return PeerMatch::default();
    };
    let namespaces: Vec<String> = match peer {
        facts::Peer::IpBlock(_) => Vec::new(),
        facts::Peer::Pods(pp) => match &pp.namespace_selector {
            None => model
                .namespaces
                .iter()
                .filter(|n| n.name == policy.namespace)
                .map(|n| n.name.clone())
                .collect(),
            Some(sel) => admitted
                .entry(format!("{sel:?}"))
                .or_insert_with(|| {
                    model
                        .namespaces
                        .iter()
                        .filter(|n| {
                            cluster
                                .namespace_labels(&n.name)
                                .is_some_and(|l| selector::matches(sel, l))
                        })
                        .map(|n| n.name.clone())
                        .collect()
                })
                .clone(),
        },
    };
    let candidates: Vec<usize> = match peer {
        facts::Peer::IpBlock(_) => (0..cluster.endpoints.len())
            .filter(|&e| cluster.endpoints.get(e).is_some_and(|e| !e.ips.is_empty()))
            .collect(),
        facts::Peer::Pods(_) => namespaces
            .iter()
            .filter_map(|ns| by_namespace.get(ns.as_str()))
            .flatten()
            .copied()
            .collect(),
    };
    let mut workloads: Vec<facts::WorkloadId> = candidates
        .into_iter()
        .filter(|&e| {
            cluster.peer_matches(at.policy, at.egress, at.rule, at.peer, peer, Target::Pod(e))
        })
        .filter_map(|e| {
            cluster
                .endpoints
                .get(e)
                .map(|e| facts::WorkloadId::at(e.workload))
        })
        .collect();
    workloads.sort_unstable();
    PeerMatch {
        namespaces,
        workloads,
    }
}

/// The flows of the policies `isolating` a workload in one direction: one
/// per (policy, rule, peer), and one per rule without peers.
fn flows_of(
    policies: &[facts::NetworkPolicy],
    isolating: &[facts::PolicyId],
    egress: bool,
) -> Vec<Flow> {
    let mut out = Vec::new();
    for &pi in isolating {
        let Some(p) = policies.get(pi.index()) else {
            continue;
        };
        let rules = if egress { &p.egress } else { &p.ingress };
        for (ri, r) in rules.iter().enumerate() {
            if r.peers.is_empty() {
                out.push(Flow {
                    policy: pi,
                    rule: index(ri),
                    peer: None,
                });
            }
            for ei in 0..r.peers.len() {
                out.push(Flow {
                    policy: pi,
                    rule: index(ri),
                    peer: Some(index(ei)),
                });
            }
        }
    }
    out
}

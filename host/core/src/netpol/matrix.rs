//! Whole-cluster reachability without O(pods² × policies).
//!
//! Endpoints that no selector can tell apart — same namespace, labels, named
//! ports, IPs and hostNetwork — form one equivalence class. Each rule's peers
//! are evaluated once per class (and only against the classes of the
//! namespaces its namespace selector admits), giving a bitset over targets
//! (classes, then external IPs). A class's egress row is the union of its
//! rules' bitsets, a class's ingress column likewise, and a pair is allowed
//! when the source's row and the destination's column both say so.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use super::plugin::Corner;
use super::{Cluster, Port, Target};
use crate::facts;
use crate::model::selector;

/// A fixed-size set of target indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize, full: bool) -> Bits {
        let mut words = vec![if full { u64::MAX } else { 0 }; n.div_ceil(64)];
        if full
            && !n.is_multiple_of(64)
            && let Some(last) = words.last_mut()
        {
            *last = (1u64 << (n % 64)) - 1;
        }
        Bits(words)
    }

    fn set(&mut self, i: usize) {
        if let Some(w) = self.0.get_mut(i / 64) {
            *w |= 1 << (i % 64);
        }
    }

    pub fn get(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    fn or_and(&mut self, a: &Bits, b: &Bits) {
        for ((d, x), y) in self.0.iter_mut().zip(&a.0).zip(&b.0) {
            *d |= x & y;
        }
    }

    fn and(&mut self, a: &Bits) {
        for (d, x) in self.0.iter_mut().zip(&a.0) {
            *d &= x;
        }
    }

    fn or(&mut self, a: &Bits) {
        for (d, x) in self.0.iter_mut().zip(&a.0) {
            *d |= x;
        }
    }
}

/// The allowed pairs for some ports, by class.
#[derive(Debug)]
pub struct Matrix {
    /// Endpoint indices of each class.
    pub classes: Vec<Vec<usize>>,
    /// Per port: per source target, the destination targets allowed.
    pub allowed: Vec<(Port, Vec<Bits>)>,
}

type ClassKey = (
    String,
    Vec<(String, String)>,
    Vec<(String, super::Protocol, u16)>,
    Vec<IpAddr>,
    bool,
);

impl Matrix {
    /// Computes the class-level matrix for `ports`.
    pub fn compute(cluster: &Cluster<'_>, ports: &[Port], externals: &[IpAddr]) -> Matrix {
        // Equivalence classes.
        let mut by_key: BTreeMap<ClassKey, usize> = BTreeMap::new();
        let mut classes: Vec<Vec<usize>> = Vec::new();
        for (i, e) in cluster.endpoints.iter().enumerate() {
            let mut named = e.named_ports.clone();
            named.sort();
            let mut ips = e.ips.clone();
            ips.sort();
            let key: ClassKey = (
                e.namespace.clone(),
                e.labels
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                named,
                ips,
                e.host_network,
            );
            let next = classes.len();
            let c = *by_key.entry(key).or_insert(next);
            if c == next {
                classes.push(Vec::new());
            }
            if let Some(members) = classes.get_mut(c) {
                members.push(i);
            }
        }
        let n_classes = classes.len();
        let n_targets = n_classes + externals.len();
        // A representative endpoint stands for its class.
        let rep = |c: usize| classes.get(c).and_then(|m| m.first()).copied().unwrap_or(0);
        let target = |t: usize| -> Target {
            if t < n_classes {
                Target::Pod(rep(t))
            } else {
                externals
                    .get(t - n_classes)
                    .map_or(Target::Pod(0), |ip| Target::External(*ip))
            }
        };
        let mut classes_by_ns: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for c in 0..n_classes {
            if let Some(e) = cluster.endpoints.get(rep(c)) {
                classes_by_ns
                    .entry(e.namespace.as_str())
                    .or_default()
                    .push(c);
            }
        }

        // Bitsets over targets per namespace, and for the classes that pod
        // selectors may match (hostNetwork pods only where the profile's
        // reading of `host-network-selectors` says so).
        let model = cluster.model;
        let selectors_see_host_network = cluster.plugin.reads(Corner::HostNetworkSelectors);
        let mut namespace_bits: BTreeMap<&str, Bits> = BTreeMap::new();
        let mut pod_network = Bits::new(n_targets, false);
        for (ns, cs) in &classes_by_ns {
            let mut bits = Bits::new(n_targets, false);
            for &c in cs {
                bits.set(c);
                if cluster
                    .endpoints
                    .get(rep(c))
                    .is_some_and(|e| !e.host_network || selectors_see_host_network)
                {
                    pod_network.set(c);
                }
            }
            namespace_bits.insert(ns, bits);
        }
        // Each distinct selector is evaluated once per class (pod selectors)
        // or once per namespace (namespace selectors).
        let mut pod_selector_cache: HashMap<String, Bits> = HashMap::new();
        let mut ns_selector_cache: HashMap<String, Bits> = HashMap::new();
        let mut pods_matching = |sel: &facts::LabelSelector| -> Bits {
            pod_selector_cache
                .entry(format!("{sel:?}"))
                .or_insert_with(|| {
                    let mut bits = Bits::new(n_targets, false);
                    for c in 0..n_classes {
                        if cluster
                            .endpoints
                            .get(rep(c))
                            .is_some_and(|e| selector::matches(sel, &e.labels))
                        {
                            bits.set(c);
                        }
                    }
                    bits
                })
                .clone()
        };
        let mut namespaces_matching = |sel: &facts::LabelSelector| -> Bits {
            ns_selector_cache
                .entry(format!("{sel:?}"))
                .or_insert_with(|| {
                    let mut bits = Bits::new(n_targets, false);
                    for (ns, b) in &namespace_bits {
                        if cluster
                            .namespace_labels(ns)
                            .is_some_and(|l| selector::matches(sel, l))
                        {
                            bits.or(b);
                        }
                    }
                    bits
                })
                .clone()
        };
        // Targets that can match an ipBlock: classes with known IPs, and the
        // external addresses.
        let ip_targets: Vec<usize> = (0..n_targets)
            .filter(|&t| {
                t >= n_classes
                    || cluster
                        .endpoints
                        .get(rep(t))
                        .is_some_and(|e| !e.ips.is_empty())
            })
            .collect();

        // Peer bitsets per (policy, egress, rule).
        let mut peer_bits: BTreeMap<(usize, bool, usize), Bits> = BTreeMap::new();
        for (pi, p) in model.network_policies.iter().enumerate() {
            if p.selects.is_empty() {
                continue;
            }
            for (egress, rules) in [(false, &p.ingress), (true, &p.egress)] {
                if !(if egress {
                    p.affects_egress
                } else {
                    p.affects_ingress
                }) {
                    continue;
                }
                for (ri, r) in rules.iter().enumerate() {
                    let mut bits = Bits::new(n_targets, r.peers.is_empty());
                    for (ei, peer) in r.peers.iter().enumerate() {
                        match peer {
                            facts::Peer::Pods(pp) => {
                                let namespaces = match &pp.namespace_selector {
                                    None => namespace_bits
                                        .get(p.namespace.as_str())
                                        .cloned()
                                        .unwrap_or_else(|| Bits::new(n_targets, false)),
                                    Some(sel) => namespaces_matching(sel),
                                };
                                let pods = match &pp.pod_selector {
                                    None => pod_network.clone(),
                                    Some(sel) => pods_matching(sel),
                                };
                                let mut both = namespaces;
                                both.and(&pods);
                                both.and(&pod_network);
                                bits.or(&both);
                            }
                            facts::Peer::IpBlock(_) => {
                                for &t in &ip_targets {
                                    if cluster.peer_matches(pi, egress, ri, ei, peer, target(t)) {
                                        bits.set(t);
                                    }
                                }
                            }
                        }
                    }
                    peer_bits.insert((pi, egress, ri), bits);
                }
            }
        }

        let mut allowed = Vec::new();
        for &port in ports {
            // Ingress columns: per destination class, the sources it admits.
            let mut ingress: Vec<Bits> = Vec::with_capacity(n_classes);
            for c in 0..n_classes {
                let isolating = cluster.isolating(rep(c), false);
                if isolating.is_empty() {
                    ingress.push(Bits::new(n_targets, true));
                    continue;
                }
                let mut col = Bits::new(n_targets, false);
                for &pi in isolating {
                    let pi = pi as usize;
                    let Some(p) = model.network_policies.get(pi) else {
                        continue;
                    };
                    for (ri, r) in p.ingress.iter().enumerate() {
                        if cluster.port_matches(&r.ports, port, Target::Pod(rep(c)))
                            && let Some(b) = peer_bits.get(&(pi, false, ri))
                        {
                            col.or(b);
                        }
                    }
                }
                ingress.push(col);
            }
            // Which destinations each egress rule's ports admit this port to.
            let mut egress_ports: BTreeMap<(usize, usize), Bits> = BTreeMap::new();
            for (pi, p) in model.network_policies.iter().enumerate() {
                if p.selects.is_empty() || !p.affects_egress {
                    continue;
                }
                for (ri, r) in p.egress.iter().enumerate() {
                    egress_ports.insert(
                        (pi, ri),
                        port_bits(cluster, &r.ports, port, n_targets, &target),
                    );
                }
            }
            // Egress rows, intersected with the ingress columns.
            let mut rows: Vec<Bits> = Vec::with_capacity(n_targets);
            for s in 0..n_targets {
                let mut row = Bits::new(n_targets, false);
                let egress_row = if s < n_classes {
                    let isolating = cluster.isolating(rep(s), true);
                    if isolating.is_empty() {
                        Bits::new(n_targets, true)
                    } else {
                        let mut acc = Bits::new(n_targets, false);
                        for &pi in isolating {
                            let pi = pi as usize;
                            let Some(p) = model.network_policies.get(pi) else {
                                continue;
                            };
                            for ri in 0..p.egress.len() {
                                let (Some(peers), Some(ports_ok)) =
                                    (peer_bits.get(&(pi, true, ri)), egress_ports.get(&(pi, ri)))
                                else {
                                    continue;
                                };
                                acc.or_and(peers, ports_ok);
                            }
                        }
                        acc
                    }
                } else {
                    Bits::new(n_targets, true)
                };
                for d in 0..n_targets {
                    let both_external = s >= n_classes && d >= n_classes;
                    if both_external || !egress_row.get(d) {
                        continue;
                    }
                    let ingress_ok = d >= n_classes || ingress.get(d).is_some_and(|col| col.get(s));
                    if ingress_ok {
                        row.set(d);
                    }
                }
                rows.push(row);
            }
            allowed.push((port, rows));
        }
        Matrix { classes, allowed }
    }

    /// The allowed ordered pairs for the `k`-th port, as endpoint IDs and
    /// external IPs (as given), sorted; self pairs omitted.
    pub fn pairs(
        &self,
        cluster: &Cluster<'_>,
        k: usize,
        external_names: &[String],
    ) -> Vec<(String, String)> {
        let Some((_, rows)) = self.allowed.get(k) else {
            return Vec::new();
        };
        let n_classes = self.classes.len();
        let names = |t: usize| -> Vec<&str> {
            if t < n_classes {
                self.classes
                    .get(t)
                    .map(|m| {
                        m.iter()
                            .filter_map(|&e| cluster.endpoints.get(e).map(|e| e.id.as_str()))
                            .collect()
                    })
                    .unwrap_or_default()
            } else {
                external_names
                    .get(t - n_classes)
                    .map(|s| vec![s.as_str()])
                    .unwrap_or_default()
            }
        };
        let mut out = Vec::new();
        for (s, row) in rows.iter().enumerate() {
            let from = names(s);
            for d in 0..rows.len() {
                if !row.get(d) {
                    continue;
                }
                let to = names(d);
                for f in &from {
                    for t in &to {
                        if f != t {
                            out.push((f.to_string(), t.to_string()));
                        }
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Number of allowed class-level pairs for the `k`-th port.
    pub fn allowed_class_pairs(&self, k: usize) -> usize {
        self.allowed.get(k).map_or(0, |(_, rows)| {
            rows.iter()
                .map(|r| r.0.iter().map(|w| w.count_ones() as usize).sum::<usize>())
                .sum()
        })
    }
}

/// The targets a rule's `ports` admit `port` to (named ports resolve on the
/// destination class).
fn port_bits(
    cluster: &Cluster<'_>,
    ports: &[facts::PortSpec],
    port: Port,
    n_targets: usize,
    target: &dyn Fn(usize) -> Target,
) -> Bits {
    let named = ports
        .iter()
        .any(|p| matches!(p.port, Some(facts::PortRef::Name(_))));
    if !named {
        // Independent of the destination.
        return Bits::new(n_targets, cluster.port_matches(ports, port, target(0)));
    }
    let mut bits = Bits::new(n_targets, false);
    for t in 0..n_targets {
        if cluster.port_matches(ports, port, target(t)) {
            bits.set(t);
        }
    }
    bits
}

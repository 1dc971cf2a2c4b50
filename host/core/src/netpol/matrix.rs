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
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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

    /// The indices in the set, in order, a word at a time.
    pub fn ones(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(k, &word)| {
            let mut w = word;
            std::iter::from_fn(move || {
                (w != 0).then(|| {
                    let bit = w.trailing_zeros() as usize;
                    w &= w - 1;
                    k * 64 + bit
                })
            })
        })
    }

    /// How many indices are in the set.
    pub fn count(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
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
    pub allowed: Vec<(Port, Rows)>,
}

/// One row per source target, each distinct row stored once. Sources that
/// no policy tells apart (every pod under one default deny, every pod of
/// one team) have equal rows, so memory grows with the distinct rows, not
/// with the square of the classes.
#[derive(Debug, Default)]
pub struct Rows {
    /// Per source, the index of its row in `distinct`.
    of: Vec<u32>,
    distinct: Vec<Bits>,
}

/// Distinct bitsets, each stored once: a bitset is looked up by its hash
/// among those stored, not kept a second time as a map key.
#[derive(Debug, Default)]
struct Interner {
    state: std::hash::RandomState,
    by_hash: HashMap<u64, Vec<u32>>,
}

impl Interner {
    /// The index of `bits` in `distinct`, added when new.
    fn intern(&mut self, distinct: &mut Vec<Bits>, bits: Bits) -> u32 {
        use std::hash::BuildHasher as _;
        let hash = self.state.hash_one(&bits);
        let same = self.by_hash.entry(hash).or_default();
        if let Some(&k) = same
            .iter()
            .find(|&&k| distinct.get(k as usize) == Some(&bits))
        {
            return k;
        }
        let k = u32::try_from(distinct.len()).unwrap_or(u32::MAX);
        distinct.push(bits);
        same.push(k);
        k
    }
}

impl Rows {
    fn push(&mut self, row: Bits, interner: &mut Interner) {
        let k = interner.intern(&mut self.distinct, row);
        self.of.push(k);
    }

    /// Every source's row, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Bits> {
        self.of
            .iter()
            .filter_map(|&k| self.distinct.get(k as usize))
    }
}

type ClassKey = (
    String,
    Vec<(String, String)>,
    Vec<(String, super::Protocol, u16)>,
    Vec<IpAddr>,
    bool,
);

/// The targets of a matrix: equivalence classes of endpoints (each stood
/// for by its first member), then external addresses.
struct Space<'a> {
    classes: Vec<Vec<usize>>,
    externals: &'a [IpAddr],
}

impl Space<'_> {
    fn n_classes(&self) -> usize {
        self.classes.len()
    }

    fn n_targets(&self) -> usize {
        self.classes.len() + self.externals.len()
    }

    /// The endpoint that stands for class `c`.
    fn rep(&self, c: usize) -> usize {
        self.classes
            .get(c)
            .and_then(|m| m.first())
            .copied()
            .unwrap_or(0)
    }

    fn target(&self, t: usize) -> Target {
        if t < self.n_classes() {
            Target::Pod(self.rep(t))
        } else {
            self.externals
                .get(t - self.n_classes())
                .map_or(Target::Pod(0), |ip| Target::External(*ip))
        }
    }

    fn empty(&self) -> Bits {
        Bits::new(self.n_targets(), false)
    }
}

/// Endpoints that no selector can tell apart: same namespace, labels,
/// named ports, IPs and hostNetwork.
fn classes(cluster: &Cluster<'_>) -> Vec<Vec<usize>> {
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
    classes
}

/// Peer bitsets per (policy, egress, rule): the targets each rule's peers
/// admit. Each distinct selector is evaluated once per class (pod
/// selectors) or once per namespace (namespace selectors).
struct Peers<'a, 'c> {
    cluster: &'a Cluster<'c>,
    space: &'a Space<'a>,
    /// Per namespace, its classes.
    namespace_bits: BTreeMap<&'a str, Bits>,
    /// Classes pod selectors may match (hostNetwork pods only where the
    /// profile's reading of `host-network-selectors` says so).
    pod_network: Bits,
    /// Targets that can match an ipBlock: classes with known IPs, and the
    /// external addresses.
    ip_targets: Vec<usize>,
    pod_selectors: HashMap<String, Bits>,
    namespace_selectors: HashMap<String, Bits>,
}

impl<'a, 'c> Peers<'a, 'c> {
    fn new(cluster: &'a Cluster<'c>, space: &'a Space<'a>) -> Peers<'a, 'c> {
        let selectors_see_host_network = cluster.plugin.reads(Corner::HostNetworkSelectors);
        let mut namespace_bits: BTreeMap<&str, Bits> = BTreeMap::new();
        let mut pod_network = space.empty();
        for c in 0..space.n_classes() {
            let Some(e) = cluster.endpoints.get(space.rep(c)) else {
                continue;
            };
            namespace_bits
                .entry(e.namespace.as_str())
                .or_insert_with(|| space.empty())
                .set(c);
            if !e.host_network || selectors_see_host_network {
                pod_network.set(c);
            }
        }
        let ip_targets = (0..space.n_targets())
            .filter(|&t| {
                t >= space.n_classes()
                    || cluster
                        .endpoints
                        .get(space.rep(t))
                        .is_some_and(|e| !e.ips.is_empty())
            })
            .collect();
        Peers {
            cluster,
            space,
            namespace_bits,
            pod_network,
            ip_targets,
            pod_selectors: HashMap::new(),
            namespace_selectors: HashMap::new(),
        }
    }

    fn pods_matching(&mut self, sel: &facts::LabelSelector) -> Bits {
        let (cluster, space) = (self.cluster, self.space);
        self.pod_selectors
            .entry(format!("{sel:?}"))
            .or_insert_with(|| {
                let mut bits = space.empty();
                for c in 0..space.n_classes() {
                    if cluster
                        .endpoints
                        .get(space.rep(c))
                        .is_some_and(|e| selector::matches(sel, &e.labels))
                    {
                        bits.set(c);
                    }
                }
                bits
            })
            .clone()
    }

    fn namespaces_matching(&mut self, sel: &facts::LabelSelector) -> Bits {
        let (cluster, space, namespace_bits) = (self.cluster, self.space, &self.namespace_bits);
        self.namespace_selectors
            .entry(format!("{sel:?}"))
            .or_insert_with(|| {
                let mut bits = space.empty();
                for (ns, b) in namespace_bits {
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
    }

    /// The targets rule `ri` (egress or ingress) of policy `pi` admits.
    fn rule(&mut self, pi: usize, egress: bool, ri: usize, r: &facts::PolicyRule) -> Bits {
        let Some(p) = self.cluster.model.network_policies.get(pi) else {
            return self.space.empty();
        };
        let mut bits = Bits::new(self.space.n_targets(), r.peers.is_empty());
        for (ei, peer) in r.peers.iter().enumerate() {
            match peer {
                facts::Peer::Pods(pp) => {
                    let mut both = match &pp.namespace_selector {
                        None => self
                            .namespace_bits
                            .get(p.namespace.as_str())
                            .cloned()
                            .unwrap_or_else(|| self.space.empty()),
                        Some(sel) => self.namespaces_matching(sel),
                    };
                    let pods = match &pp.pod_selector {
                        None => self.pod_network.clone(),
                        Some(sel) => self.pods_matching(sel),
                    };
                    both.and(&pods);
                    both.and(&self.pod_network);
                    bits.or(&both);
                }
                facts::Peer::IpBlock(_) => {
                    for &t in &self.ip_targets {
                        let target = self.space.target(t);
                        if self.cluster.peer_matches(pi, egress, ri, ei, peer, target) {
                            bits.set(t);
                        }
                    }
                }
            }
        }
        bits
    }

    /// Every rule of every policy that selects something, in the
    /// directions it affects.
    fn all(mut self) -> BTreeMap<(usize, bool, usize), Bits> {
        let model = self.cluster.model;
        let mut out = BTreeMap::new();
        for (pi, p) in model.network_policies.iter().enumerate() {
            if p.selects.is_empty() {
                continue;
            }
            for (egress, affects, rules) in [
                (false, p.affects_ingress, &p.ingress),
                (true, p.affects_egress, &p.egress),
            ] {
                if !affects {
                    continue;
                }
                for (ri, r) in rules.iter().enumerate() {
                    out.insert((pi, egress, ri), self.rule(pi, egress, ri, r));
                }
            }
        }
        out
    }
}

type PeerBits = BTreeMap<(usize, bool, usize), Bits>;

/// The sources each destination class's ingress admits on `port`, as the
/// distinct columns and, for each, the destination classes that have it
/// (classes under the same policies share a column).
fn ingress_columns(
    cluster: &Cluster<'_>,
    space: &Space<'_>,
    peers: &PeerBits,
    port: Port,
) -> Vec<(Bits, Bits)> {
    let model = cluster.model;
    let mut distinct: Vec<Bits> = Vec::new();
    let mut members: Vec<Bits> = Vec::new();
    let mut interner = Interner::default();
    for c in 0..space.n_classes() {
        let isolating = cluster.isolating(space.rep(c), false);
        let col = if isolating.is_empty() {
            Bits::new(space.n_targets(), true)
        } else {
            let mut col = space.empty();
            for &pi in isolating {
                let pi = pi.index();
                let Some(p) = model.network_policies.get(pi) else {
                    continue;
                };
                for (ri, r) in p.ingress.iter().enumerate() {
                    if cluster.port_matches(&r.ports, port, Target::Pod(space.rep(c)))
                        && let Some(b) = peers.get(&(pi, false, ri))
                    {
                        col.or(b);
                    }
                }
            }
            col
        };
        let k = interner.intern(&mut distinct, col) as usize;
        if members.len() <= k {
            members.push(space.empty());
        }
        if let Some(m) = members.get_mut(k) {
            m.set(c);
        }
    }
    distinct.into_iter().zip(members).collect()
}

/// The destinations source target `s` may send to on `port`, as its
/// egress says (`egress_ports`: the destinations each egress rule's ports
/// admit).
fn egress_row(
    cluster: &Cluster<'_>,
    space: &Space<'_>,
    peers: &PeerBits,
    egress_ports: &BTreeMap<(usize, usize), Bits>,
    s: usize,
) -> Bits {
    if s >= space.n_classes() {
        return Bits::new(space.n_targets(), true);
    }
    let isolating = cluster.isolating(space.rep(s), true);
    if isolating.is_empty() {
        return Bits::new(space.n_targets(), true);
    }
    let mut acc = space.empty();
    for &pi in isolating {
        let pi = pi.index();
        let Some(p) = cluster.model.network_policies.get(pi) else {
            continue;
        };
        for ri in 0..p.egress.len() {
            if let (Some(peers), Some(ports_ok)) =
                (peers.get(&(pi, true, ri)), egress_ports.get(&(pi, ri)))
            {
                acc.or_and(peers, ports_ok);
            }
        }
    }
    acc
}

/// Per source target, the destinations allowed on `port`: its egress row
/// intersected with the destinations whose ingress admits it. A source's
/// admitting destinations are the union of the classes of each distinct
/// column that holds it, so a row costs words per distinct column, not a
/// test per destination.
fn rows(cluster: &Cluster<'_>, space: &Space<'_>, peers: &PeerBits, port: Port) -> Rows {
    let ingress = ingress_columns(cluster, space, peers, port);
    let mut egress_ports: BTreeMap<(usize, usize), Bits> = BTreeMap::new();
    for (pi, p) in cluster.model.network_policies.iter().enumerate() {
        if p.selects.is_empty() || !p.affects_egress {
            continue;
        }
        for (ri, r) in p.egress.iter().enumerate() {
            egress_ports.insert((pi, ri), port_bits(cluster, &r.ports, port, space));
        }
    }
    let n_classes = space.n_classes();
    // External addresses take no policy: any source but another external
    // address may reach them, as its egress allows.
    let mut externals = space.empty();
    for t in n_classes..space.n_targets() {
        externals.set(t);
    }
    let mut rows = Rows::default();
    let mut interner = Interner::default();
    for s in 0..space.n_targets() {
        let mut row = if s < n_classes {
            externals.clone()
        } else {
            space.empty()
        };
        for (column, members) in &ingress {
            if column.get(s) {
                row.or(members);
            }
        }
        row.and(&egress_row(cluster, space, peers, &egress_ports, s));
        rows.push(row, &mut interner);
    }
    rows
}

impl Matrix {
    /// Computes the class-level matrix for `ports`.
    pub fn compute(cluster: &Cluster<'_>, ports: &[Port], externals: &[IpAddr]) -> Matrix {
        let space = Space {
            classes: classes(cluster),
            externals,
        };
        let peers = Peers::new(cluster, &space).all();
        let allowed = ports
            .iter()
            .map(|&port| (port, rows(cluster, &space, &peers, port)))
            .collect();
        Matrix {
            classes: space.classes,
            allowed,
        }
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
            for d in row.ones() {
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
            let counts: Vec<usize> = rows.distinct.iter().map(Bits::count).collect();
            rows.of.iter().filter_map(|&r| counts.get(r as usize)).sum()
        })
    }
}

/// The targets a rule's `ports` admit `port` to (named ports resolve on the
/// destination class).
fn port_bits(
    cluster: &Cluster<'_>,
    ports: &[facts::PortSpec],
    port: Port,
    space: &Space<'_>,
) -> Bits {
    let named = ports
        .iter()
        .any(|p| matches!(p.port, Some(facts::PortRef::Name(_))));
    if !named {
        // Independent of the destination.
        return Bits::new(
            space.n_targets(),
            cluster.port_matches(ports, port, space.target(0)),
        );
    }
    let mut bits = space.empty();
    for t in 0..space.n_targets() {
        if cluster.port_matches(ports, port, space.target(t)) {
            bits.set(t);
        }
    }
    bits
}

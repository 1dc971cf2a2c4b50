//! NetworkPolicy semantics: which connections the policies allow, and why.
//!
//! Everything here follows the `networking.k8s.io/v1` API reference and the
//! upstream e2e suite (`test/e2e/network/netpol`). Where the API leaves
//! behaviour undefined (to the network plugin, mostly), the readings are
//! listed in one place, the assumption table [`plugin::CORNERS`], per
//! [`NetworkPlugin`] profile; evaluation asks it through
//! [`NetworkPlugin::reads`], and traces cite its IDs.
//!
//! Two evaluators share the same rule matching:
//! - [`Cluster::allowed`] decides one connection directly (the oracle, and
//!   what `trace` explains);
//! - [`matrix`](matrix::Matrix) groups endpoints into equivalence classes and
//!   evaluates every selector once per class, for whole-cluster matrices.

pub mod matrix;
pub use crate::network_plugin as plugin;
pub mod flows;
pub mod trace;

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::Value;

use crate::facts;
use crate::model::{Model, selector};
use plugin::Corner;
pub use plugin::NetworkPlugin;

/// An L4 protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    pub fn from_wit(p: facts::Protocol) -> Protocol {
        match p {
            facts::Protocol::Tcp => Protocol::Tcp,
            facts::Protocol::Udp => Protocol::Udp,
            facts::Protocol::Sctp => Protocol::Sctp,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }

    pub fn parse(s: &str) -> Option<Protocol> {
        match s.to_ascii_uppercase().as_str() {
            "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            "SCTP" => Some(Protocol::Sctp),
            _ => None,
        }
    }
}

/// A destination port and protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Port {
    pub port: u16,
    pub protocol: Protocol,
}

impl Port {
    /// Parses `80/TCP` (protocol defaults to TCP when omitted).
    pub fn parse(s: &str) -> Option<Port> {
        let (port, proto) = s.split_once('/').unwrap_or((s, "TCP"));
        Some(Port {
            port: port.trim().parse().ok().filter(|p| *p > 0)?,
            protocol: Protocol::parse(proto.trim())?,
        })
    }
}

impl std::fmt::Display for Port {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.port, self.protocol.as_str())
    }
}

/// A pod or a workload's pod template, as traffic sees it.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `namespace/name`.
    pub id: String,
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    /// Named container ports: (name, protocol, port).
    pub named_ports: Vec<(String, Protocol, u16)>,
    pub ips: Vec<IpAddr>,
    pub host_network: bool,
    /// Index of the workload in the model.
    pub workload: usize,
}

/// One side of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// An endpoint (index into `Cluster::endpoints`).
    Pod(usize),
    /// An address outside the cluster's pods.
    External(IpAddr),
}

/// Identifies one peer: (policy, is egress, rule, peer).
type PeerKey = (usize, bool, usize, usize);

/// The facts NetworkPolicy evaluation needs, indexed.
#[derive(Debug)]
pub struct Cluster<'m> {
    pub model: &'m Model,
    pub endpoints: Vec<Endpoint>,
    pub namespace_labels: BTreeMap<String, BTreeMap<String, String>>,
    /// Whose reading of the undefined corners applies.
    pub plugin: NetworkPlugin,
    /// Parsed ipBlocks per (policy, direction is egress, rule, peer).
    blocks: BTreeMap<PeerKey, (IpNet, Vec<IpNet>)>,
}

/// A rule that allowed (or nearly allowed) a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRef {
    pub policy: usize,
    pub rule: usize,
}

/// How one side (the source's egress or the destination's ingress) judged a
/// connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Side {
    /// No policy isolates this side: everything is allowed.
    NotIsolated,
    /// The other side is external, so this side does not apply (egress from,
    /// or ingress into, an address outside the cluster's pods).
    NotApplicable,
    /// Isolated by these policies; allowed by these rules (empty: denied).
    Isolated {
        by: Vec<usize>,
        allowed_by: Vec<RuleRef>,
    },
}

impl Side {
    pub fn allows(&self) -> bool {
        match self {
            Side::NotIsolated | Side::NotApplicable => true,
            Side::Isolated { allowed_by, .. } => !allowed_by.is_empty(),
        }
    }
}

impl<'m> Cluster<'m> {
    /// Indexes the model, read as `plugin` reads the undefined corners.
    /// Every workload is an endpoint named `namespace/name`.
    pub fn new(model: &'m Model, plugin: NetworkPlugin) -> Cluster<'m> {
        let namespace_labels = model
            .namespaces
            .iter()
            .map(|n| {
                (
                    n.name.clone(),
                    n.labels
                        .iter()
                        .map(|l| (l.key.clone(), l.value.clone()))
                        .collect(),
                )
            })
            .collect();
        let endpoints = model
            .workloads
            .iter()
            .enumerate()
            .map(|(i, w)| Endpoint {
                id: format!("{}/{}", w.namespace, w.name),
                namespace: w.namespace.clone(),
                labels: w
                    .labels
                    .iter()
                    .map(|l| (l.key.clone(), l.value.clone()))
                    .collect(),
                named_ports: w
                    .containers
                    .iter()
                    .flat_map(|c| c.ports.iter())
                    .filter_map(|p| {
                        p.name
                            .as_ref()
                            .map(|n| (n.clone(), Protocol::from_wit(p.protocol), p.port))
                    })
                    .collect(),
                ips: w.pod_ips.iter().filter_map(|ip| ip.parse().ok()).collect(),
                host_network: w.host_network,
                workload: i,
            })
            .collect();
        let mut blocks = BTreeMap::new();
        for (pi, p) in model.network_policies.iter().enumerate() {
            for (egress, rules) in [(false, &p.ingress), (true, &p.egress)] {
                for (ri, r) in rules.iter().enumerate() {
                    for (ei, peer) in r.peers.iter().enumerate() {
                        if let facts::Peer::IpBlock(b) = peer
                            && let Ok(cidr) = b.cidr.parse::<IpNet>()
                        {
                            let except = b.except.iter().filter_map(|e| e.parse().ok()).collect();
                            blocks.insert((pi, egress, ri, ei), (cidr, except));
                        }
                    }
                }
            }
        }
        Cluster {
            model,
            endpoints,
            namespace_labels,
            plugin,
            blocks,
        }
    }

    /// The endpoint named `namespace/name`.
    pub fn endpoint(&self, id: &str) -> Option<usize> {
        self.endpoints.iter().position(|e| e.id == id)
    }

    /// The labels of a namespace. The model declares every namespace an
    /// object lives in, so endpoints always find theirs.
    pub fn namespace_labels(&self, ns: &str) -> Option<&BTreeMap<String, String>> {
        self.namespace_labels.get(ns)
    }

    /// Whether `peer` (of rule `rule` of policy `policy`, in direction
    /// `egress`) matches `target`.
    pub fn peer_matches(
        &self,
        policy: usize,
        egress: bool,
        rule: usize,
        peer_index: usize,
        peer: &facts::Peer,
        target: Target,
    ) -> bool {
        match peer {
            facts::Peer::IpBlock(_) => {
                let Some((cidr, except)) = self.blocks.get(&(policy, egress, rule, peer_index))
                else {
                    return false;
                };
                let in_block =
                    |ip: &IpAddr| cidr.contains(ip) && !except.iter().any(|e| e.contains(ip));
                match target {
                    Target::External(ip) => in_block(&ip),
                    Target::Pod(e) => self.endpoints.get(e).is_some_and(|e| {
                        self.plugin.reads(if e.host_network {
                            Corner::HostNetworkIpBlock
                        } else {
                            Corner::IpBlockPodIp
                        }) && e.ips.iter().any(in_block)
                    }),
                }
            }
            facts::Peer::Pods(pp) => {
                let Target::Pod(e) = target else {
                    return false;
                };
                let Some(ep) = self.endpoints.get(e) else {
                    return false;
                };
                if ep.host_network && !self.plugin.reads(Corner::HostNetworkSelectors) {
                    return false;
                }
                let Some(p) = self.model.network_policies.get(policy) else {
                    return false;
                };
                let ns_ok = match &pp.namespace_selector {
                    None => ep.namespace == p.namespace,
                    Some(sel) => self
                        .namespace_labels(&ep.namespace)
                        .is_some_and(|l| selector::matches(sel, l)),
                };
                ns_ok
                    && pp
                        .pod_selector
                        .as_ref()
                        .is_none_or(|sel| selector::matches(sel, &ep.labels))
            }
        }
    }

    /// Whether rule `rule` (index `ri` of policy `policy`) admits `target` as
    /// a peer: no peers means every peer.
    pub fn rule_peers_match(
        &self,
        policy: usize,
        egress: bool,
        ri: usize,
        rule: &facts::PolicyRule,
        target: Target,
    ) -> bool {
        rule.peers.is_empty()
            || rule
                .peers
                .iter()
                .enumerate()
                .any(|(ei, peer)| self.peer_matches(policy, egress, ri, ei, peer, target))
    }

    /// Whether `ports` (a rule's list; empty = every port) admits `port` to
    /// `dst`.
    pub fn port_matches(&self, ports: &[facts::PortSpec], port: Port, dst: Target) -> bool {
        ports.is_empty()
            || ports.iter().any(|spec| {
                Protocol::from_wit(spec.protocol) == port.protocol
                    && match &spec.port {
                        None => true,
                        Some(facts::PortRef::Number(n)) => {
                            let end = spec.end_port.unwrap_or(*n);
                            (*n..=end).contains(&port.port)
                        }
                        Some(facts::PortRef::Name(name)) => match dst {
                            Target::External(_) => false,
                            Target::Pod(e) => self.endpoints.get(e).is_some_and(|ep| {
                                ep.named_ports.iter().any(|(n, proto, p)| {
                                    n == name && *proto == port.protocol && *p == port.port
                                })
                            }),
                        },
                    }
            })
    }

    /// The policies isolating endpoint `e` in a direction.
    pub fn isolating(&self, e: usize, egress: bool) -> &[facts::PolicyId] {
        match self
            .endpoints
            .get(e)
            .and_then(|ep| self.model.workloads.get(ep.workload))
        {
            Some(w) if egress => &w.isolation.egress,
            Some(w) => &w.isolation.ingress,
            None => &[],
        }
    }

    /// Judges one side of a connection: the egress of `this` towards
    /// `other` (when `egress`), or the ingress of `this` from `other`.
    pub fn side(&self, this: Target, other: Target, port: Port, egress: bool) -> Side {
        let Target::Pod(e) = this else {
            return Side::NotApplicable;
        };
        let isolating = self.isolating(e, egress);
        if isolating.is_empty() {
            return Side::NotIsolated;
        }
        let dst = if egress { other } else { this };
        let mut allowed_by = Vec::new();
        for &pi in isolating {
            let pi = pi.index();
            let Some(p) = self.model.network_policies.get(pi) else {
                continue;
            };
            let rules = if egress { &p.egress } else { &p.ingress };
            for (ri, r) in rules.iter().enumerate() {
                if self.rule_peers_match(pi, egress, ri, r, other)
                    && self.port_matches(&r.ports, port, dst)
                {
                    allowed_by.push(RuleRef {
                        policy: pi,
                        rule: ri,
                    });
                }
            }
        }
        Side::Isolated {
            by: isolating.iter().map(|p| p.index()).collect(),
            allowed_by,
        }
    }

    /// Whether a connection from `src` to `dst` on `port` is allowed: the
    /// source's egress and the destination's ingress must both allow it.
    pub fn allowed(&self, src: Target, dst: Target, port: Port) -> bool {
        if src == dst {
            return true;
        }
        self.side(src, dst, port, true).allows() && self.side(dst, src, port, false).allows()
    }
}

/// Reachability by equivalence class: pods that no selector can tell apart
/// (same namespace, labels, named ports, IPs and host network) share one
/// class and one row. `targets` lists each class's members (sorted), then
/// each external address as a target of its own; `allowed` maps each port
/// (`"443/TCP"`) to (from target, to targets) for every target that may
/// send. To expand: a pair (i, j) allows every member of target i to
/// every member of target j, but a member to itself; two external
/// addresses never pair. The expansion is exactly `NetworkAnalysis::matrix`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ClassMatrix {
    /// Each target's members: a class's endpoints, or one external address.
    pub targets: Vec<Vec<String>>,
    /// Per port: (from target, the targets it may send to).
    pub allowed: BTreeMap<String, Vec<(usize, Vec<usize>)>>,
}

impl ClassMatrix {
    /// The pair list this stands for: what `NetworkAnalysis::matrix` gives.
    pub fn expand(&self, externals: usize) -> BTreeMap<String, Vec<(String, String)>> {
        let classes = self.targets.len().saturating_sub(externals);
        self.allowed
            .iter()
            .map(|(port, rows)| {
                let mut pairs = Vec::new();
                for (from, to) in rows {
                    for &t in to {
                        if *from >= classes && t >= classes {
                            continue;
                        }
                        for f in self.targets.get(*from).into_iter().flatten() {
                            for d in self.targets.get(t).into_iter().flatten() {
                                if f != d {
                                    pairs.push((f.clone(), d.clone()));
                                }
                            }
                        }
                    }
                }
                pairs.sort();
                (port.clone(), pairs)
            })
            .collect()
    }
}

/// NetworkPolicy analysis of a set of inputs: the reachability matrix and
/// connection traces. Needs no plugin.
#[derive(Debug)]
pub struct NetworkAnalysis {
    model: Model,
    plugin: NetworkPlugin,
    diagnostics: Vec<crate::Diagnostic>,
    files: usize,
    /// Objects that change traffic beside NetworkPolicies (`PAL004`).
    unmodelled: Vec<crate::traffic::Unmodelled>,
    /// Service ports whose pods listen on another port.
    services: Vec<ServicePort>,
}

/// A Service port that forwards to a different port of its pods: a trace
/// to it is about a port the NetworkPolicies never see.
#[derive(Debug)]
struct ServicePort {
    /// `namespace/name`.
    service: String,
    namespace: String,
    selector: BTreeMap<String, String>,
    port: Port,
    /// The pods' port: a number, or a named container port.
    target: Result<u16, String>,
}

impl ServicePort {
    /// Every port of every Service of the inputs whose `targetPort` is set
    /// and differs from its `port` (by number, or by name).
    fn of(loaded: &crate::input::Loaded) -> Vec<ServicePort> {
        let mut out = Vec::new();
        for o in &loaded.objects {
            if o.id.kind != "Service" || o.id.api_version != "v1" {
                continue;
            }
            let selector = crate::model::labels_at(&o.value, &["spec", "selector"]);
            let ports = o.value.pointer("/spec/ports").and_then(Value::as_array);
            for p in ports.into_iter().flatten() {
                let protocol = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
                let Some(port) = p
                    .get("port")
                    .and_then(Value::as_u64)
                    .and_then(|n| Port::parse(&format!("{n}/{protocol}")))
                else {
                    continue;
                };
                let target = match p.get("targetPort") {
                    Some(Value::Number(n)) => {
                        match n.as_u64().and_then(|n| u16::try_from(n).ok()) {
                            Some(n) if n != port.port => Ok(n),
                            _ => continue,
                        }
                    }
                    Some(Value::String(name)) => Err(name.clone()),
                    _ => continue,
                };
                out.push(ServicePort {
                    service: format!(
                        "{}/{}",
                        o.id.namespace.as_deref().unwrap_or("default"),
                        o.id.name
                    ),
                    namespace: o.id.namespace.clone().unwrap_or_else(|| "default".into()),
                    selector: selector.clone(),
                    port,
                    target,
                });
            }
        }
        out
    }
}

/// A source or destination of [`NetworkAnalysis::trace`].
#[derive(Debug, Clone)]
enum Named {
    Pod(usize),
    Ip(IpAddr),
}

impl NetworkAnalysis {
    /// Loads the inputs and builds the model, reading the corners the API
    /// leaves undefined as [`NetworkPlugin::Generic`] does (the conservative
    /// profile). Problems are in [`diagnostics`](Self::diagnostics);
    /// everything else is analysed.
    pub fn new(inputs: &crate::Inputs) -> NetworkAnalysis {
        NetworkAnalysis::with_network_plugin(inputs, NetworkPlugin::Generic)
    }

    /// Like [`new`](Self::new), reading the undefined corners as `plugin`
    /// does.
    pub fn with_network_plugin(inputs: &crate::Inputs, plugin: NetworkPlugin) -> NetworkAnalysis {
        let loaded = crate::input::load(inputs, &crate::input::LoadOptions::default());
        let (model, model_diags) = crate::model::build(&loaded, plugin);
        let mut diagnostics = loaded.diagnostics.clone();
        diagnostics.extend(model_diags);
        NetworkAnalysis {
            model,
            plugin,
            diagnostics,
            files: loaded.files.len(),
            unmodelled: crate::traffic::unmodelled(&loaded, &[]),
            services: ServicePort::of(&loaded),
        }
    }

    /// Objects of the inputs that change pod traffic in ways this analysis
    /// does not model (a CiliumNetworkPolicy, an AdminNetworkPolicy…), as
    /// `PAL004` findings: where they reach, the matrix and traces may be
    /// wrong in either direction.
    pub fn unmodelled(&self) -> Vec<&crate::Finding> {
        self.unmodelled.iter().map(|u| &u.finding).collect()
    }

    /// The profile whose reading of the undefined corners applies.
    pub fn network_plugin(&self) -> NetworkPlugin {
        self.plugin
    }

    /// Input problems (unparsable files, invalid policies, …).
    pub fn diagnostics(&self) -> &[crate::Diagnostic] {
        &self.diagnostics
    }

    /// Files read.
    pub fn files(&self) -> usize {
        self.files
    }

    /// Endpoints (pods and workloads), as `namespace/name`.
    pub fn endpoints(&self) -> Vec<String> {
        Cluster::new(&self.model, self.plugin)
            .endpoints
            .into_iter()
            .map(|e| e.id)
            .collect()
    }

    /// Parses ports and external IPs and indexes the model.
    fn prepare(
        &self,
        ports: &[String],
        externals: &[String],
    ) -> Result<(Vec<Port>, Vec<IpAddr>, Cluster<'_>), crate::Error> {
        Ok((
            parse_ports(ports)?,
            parse_ips(externals)?,
            Cluster::new(&self.model, self.plugin),
        ))
    }

    /// The allowed ordered pairs per port: key `"<port>/<PROTOCOL>"`, value
    /// the sorted `[from, to]` pairs over every pod/workload and each
    /// external IP (as given), never IP to IP, never a pod to itself.
    pub fn matrix(
        &self,
        ports: &[String],
        externals: &[String],
    ) -> Result<BTreeMap<String, Vec<(String, String)>>, crate::Error> {
        let (ports, ips, cluster) = self.prepare(ports, externals)?;
        let m = matrix::Matrix::compute(&cluster, &ports, &ips);
        Ok(ports
            .iter()
            .enumerate()
            .map(|(k, p)| (p.to_string(), m.pairs(&cluster, k, externals)))
            .collect())
    }

    /// The matrix by equivalence class, for clusters whose pair list would
    /// be too large to print: see [`ClassMatrix`].
    pub fn matrix_by_class(
        &self,
        ports: &[String],
        externals: &[String],
    ) -> Result<ClassMatrix, crate::Error> {
        let (ports, ips, cluster) = self.prepare(ports, externals)?;
        let m = matrix::Matrix::compute(&cluster, &ports, &ips);
        let mut targets: Vec<Vec<String>> = m
            .classes
            .iter()
            .map(|members| {
                let mut ids: Vec<String> = members
                    .iter()
                    .filter_map(|&e| cluster.endpoints.get(e).map(|e| e.id.clone()))
                    .collect();
                ids.sort();
                ids
            })
            .collect();
        targets.extend(externals.iter().map(|e| vec![e.clone()]));
        let allowed = ports
            .iter()
            .enumerate()
            .map(|(k, port)| {
                let list = m
                    .allowed
                    .get(k)
                    .into_iter()
                    .flat_map(|(_, rows)| rows.iter().enumerate())
                    .map(|(from, row)| (from, row.ones().collect::<Vec<usize>>()))
                    .filter(|(_, to)| !to.is_empty())
                    .collect();
                (port.to_string(), list)
            })
            .collect();
        Ok(ClassMatrix { targets, allowed })
    }

    /// Computes the class-level matrix for `ports` without listing pairs,
    /// returning (equivalence classes, allowed class pairs per port). For
    /// benchmarks.
    #[doc(hidden)]
    pub fn matrix_classes(
        &self,
        ports: &[String],
        externals: &[String],
    ) -> Result<(usize, Vec<usize>), crate::Error> {
        let (ports, ips, cluster) = self.prepare(ports, externals)?;
        let m = matrix::Matrix::compute(&cluster, &ports, &ips);
        Ok((
            m.classes.len(),
            (0..ports.len()).map(|k| m.allowed_class_pairs(k)).collect(),
        ))
    }

    /// The same pairs as [`matrix`](Self::matrix), decided pair by pair with
    /// the direct evaluator: the oracle the optimized matrix is tested
    /// against.
    #[doc(hidden)]
    pub fn matrix_naive(
        &self,
        ports: &[String],
        externals: &[String],
    ) -> Result<BTreeMap<String, Vec<(String, String)>>, crate::Error> {
        let (ports, ips, cluster) = self.prepare(ports, externals)?;
        let mut targets: Vec<(Target, &str)> = cluster
            .endpoints
            .iter()
            .enumerate()
            .map(|(i, e)| (Target::Pod(i), e.id.as_str()))
            .collect();
        for (ip, name) in ips.iter().zip(externals) {
            targets.push((Target::External(*ip), name.as_str()));
        }
        let mut out = BTreeMap::new();
        for port in &ports {
            let mut pairs = Vec::new();
            for (s, sn) in &targets {
                for (d, dn) in &targets {
                    let external = |t: &Target| matches!(t, Target::External(_));
                    if sn == dn || (external(s) && external(d)) {
                        continue;
                    }
                    if cluster.allowed(*s, *d, *port) {
                        pairs.push((sn.to_string(), dn.to_string()));
                    }
                }
            }
            pairs.sort();
            pairs.dedup();
            out.insert(port.to_string(), pairs);
        }
        Ok(out)
    }

    fn named(&self, cluster: &Cluster<'_>, s: &str) -> Result<Named, crate::Error> {
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(Named::Ip(ip));
        }
        cluster.endpoint(s).map(Named::Pod).ok_or_else(|| {
            crate::Error::new(
                crate::ErrorKind::Input,
                format!("no pod or workload `{s}` in the inputs (expected NAMESPACE/NAME or an IP address)"),
            )
        })
    }

    /// Explains whether `from` can reach `to` on `port` (`80/TCP`):
    /// `from`/`to` are `namespace/name` or an IP address.
    pub fn trace(&self, from: &str, to: &str, port: &str) -> Result<trace::Trace, crate::Error> {
        let port = parse_ports(&[port.to_string()])?
            .into_iter()
            .next()
            .ok_or_else(|| crate::Error::new(crate::ErrorKind::Input, "missing port"))?;
        let cluster = Cluster::new(&self.model, self.plugin);
        let target = |n: Named| match n {
            Named::Pod(i) => Target::Pod(i),
            Named::Ip(ip) => Target::External(ip),
        };
        let s = target(self.named(&cluster, from)?);
        let d = target(self.named(&cluster, to)?);
        if matches!((s, d), (Target::External(_), Target::External(_))) {
            return Err(crate::Error::new(
                crate::ErrorKind::Input,
                "at least one side of a trace must be a pod of the inputs",
            ));
        }
        let mut t = trace::trace(&cluster, (s, from.to_string()), (d, to.to_string()), port);
        // Objects that may change this connection: those reaching either
        // pod's namespace.
        let namespaces: Vec<&str> = [s, d]
            .iter()
            .filter_map(|t| match t {
                Target::Pod(i) => cluster.endpoints.get(*i),
                Target::External(_) => None,
            })
            .filter_map(|e| e.id.split_once('/').map(|(ns, _)| ns))
            .collect();
        if let Target::Pod(i) = d
            && let Some(e) = cluster.endpoints.get(i)
        {
            t.notes = self.service_port_notes(e, port);
        }
        t.unmodelled = self
            .unmodelled
            .iter()
            .filter(|u| namespaces.iter().any(|ns| u.affects(ns)))
            .map(|u| match &u.finding.location {
                Some(at) => format!("{at}: {}", u.finding.message),
                None => u.finding.message.clone(),
            })
            .collect();
        Ok(t)
    }
}

impl NetworkAnalysis {
    /// When `port` is the port of a Service selecting `e` that forwards
    /// elsewhere: NetworkPolicies see the pod's port, not the Service's.
    fn service_port_notes(&self, e: &Endpoint, port: Port) -> Vec<String> {
        self.services
            .iter()
            .filter(|s| s.port == port && s.namespace == e.namespace && !s.selector.is_empty())
            .filter(|s| s.selector.iter().all(|(k, v)| e.labels.get(k) == Some(v)))
            .map(|s| {
                let target = match &s.target {
                    Ok(n) => format!("{n}/{}", port.protocol.as_str()),
                    Err(name) => match e.named_ports.iter().find(|(n, p, _)| n == name && *p == port.protocol) {
                        Some((_, _, n)) => format!("{n}/{} (`{name}`)", port.protocol.as_str()),
                        None => format!("the container port named `{name}`"),
                    },
                };
                format!(
                    "{port} is a port of Service {}, which forwards to {target} on its pods: NetworkPolicies see the pods' port, so trace that one",
                    s.service
                )
            })
            .collect()
    }
}

fn parse_ports(ports: &[String]) -> Result<Vec<Port>, crate::Error> {
    ports
        .iter()
        .map(|p| {
            Port::parse(p).ok_or_else(|| {
                crate::Error::new(
                    crate::ErrorKind::Input,
                    format!("invalid port `{p}` (expected PORT/PROTOCOL, for example 80/TCP, with TCP, UDP or SCTP)"),
                )
            })
        })
        .collect()
}

fn parse_ips(ips: &[String]) -> Result<Vec<IpAddr>, crate::Error> {
    ips.iter()
        .map(|s| {
            s.parse().map_err(|_| {
                crate::Error::new(
                    crate::ErrorKind::Input,
                    format!("invalid external IP `{s}`"),
                )
            })
        })
        .collect()
}

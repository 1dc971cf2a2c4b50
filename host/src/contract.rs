//! The host side of `palisade:policy`: the facts of one check as WIT
//! values, and the `facts`/`ports` functions plugins call.
//!
//! The semantic modules (`model`, `rbac`, `squid`, `roles`) compute plain
//! Rust data; this module is the one place that maps it to the contract.
//! Each list is converted on first request and shared by every plugin of
//! the check ([`Facts`] sits behind an `Arc`), so a plugin that never asks
//! for RBAC roles costs no conversion of them.
//!
//! INVARIANT: host work a plugin asks for is priced. Answering `who-can`,
//! `proxy-verdict`, `select-workloads` and `resolved-ports` costs
//! deterministic steps, taken from the plugin's fuel before the work is
//! done (`Session::charge`; the runtime's call hook takes it from the
//! store's fuel when the host call returns): a plugin cannot make the host
//! work for free.

use std::sync::{Arc, OnceLock};

use crate::facts;
use crate::model::Model;
use crate::rbac::Rbac;
use crate::roles::Resolved;
use crate::squid::Proxies;
use crate::wit::bindings::palisade::policy::{
    cloud as host_cloud, facts as host_facts, log as host_log, observed as host_observed,
    ports as host_ports, types as host_types,
};
use crate::wit::{self, Level};

/// Fuel charged for one step of host work done for a plugin (one access
/// query against one binding or role rule, one proxy request against one
/// `http_access` line, one workload tested against a selector): about
/// what the plugin would spend doing it itself.
pub(crate) const FUEL_PER_HOST_STEP: u64 = 200;

/// Everything the host knows about one check's inputs, with the WIT form of
/// each list made on first request.
#[derive(Debug)]
pub(crate) struct Facts {
    pub(crate) model: Model,
    pub(crate) rbac: Rbac,
    pub(crate) proxies: Proxies,
    pub(crate) roles: Resolved,
    pub(crate) excluded_namespaces: Vec<String>,
    /// What one `who-can` costs, in steps (every binding and the rules of
    /// its role): computed once, not per question.
    who_can_cost: u64,
    objects: OnceLock<Vec<wit::SourceObject>>,
    namespaces: OnceLock<Vec<wit::Namespace>>,
    workloads: OnceLock<Vec<wit::Workload>>,
    policies: OnceLock<Vec<wit::NetworkPolicy>>,
    rbac_facts: OnceLock<RbacFacts>,
    proxy_facts: OnceLock<Vec<wit::ProxyConfig>>,
    /// The cloud network and where the policy set places the cluster.
    pub(crate) network: crate::cloud::Network,
    pub(crate) placements: crate::cloud::bind::Placements,
    /// What one `reach` costs, in steps (every route, rule and entry).
    reach_cost: u64,
    cloud_facts: OnceLock<CloudFacts>,
    /// What the proxy access logs show, folded into calls.
    pub(crate) observed: Vec<host_observed::ObservedCall>,
}

/// The cloud lists in WIT form.
#[derive(Debug)]
struct CloudFacts {
    vpcs: Vec<host_cloud::Vpc>,
    subnets: Vec<host_cloud::Subnet>,
    groups: Vec<host_cloud::SecurityGroup>,
}

/// Roles and bindings in WIT form, and where each host role landed.
#[derive(Debug)]
struct RbacFacts {
    roles: Vec<wit::RbacRole>,
    bindings: Vec<wit::RbacBinding>,
    /// Entry i: the index in `roles` of the host's role i, if exposed.
    exposed: Vec<Option<u32>>,
}

/// One evaluation: the shared facts, and this plugin's settings and rules.
#[derive(Debug)]
pub(crate) struct Evaluation {
    pub(crate) facts: Arc<Facts>,
    pub(crate) settings: String,
    pub(crate) enabled_rules: Vec<String>,
}

fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

impl Facts {
    pub(crate) fn new(
        model: Model,
        rbac: Rbac,
        proxies: Proxies,
        roles: Resolved,
        excluded_namespaces: Vec<String>,
    ) -> Facts {
        Facts {
            who_can_cost: rbac.query_cost(),
            model,
            rbac,
            proxies,
            roles,
            excluded_namespaces,
            objects: OnceLock::new(),
            namespaces: OnceLock::new(),
            workloads: OnceLock::new(),
            policies: OnceLock::new(),
            rbac_facts: OnceLock::new(),
            proxy_facts: OnceLock::new(),
            network: crate::cloud::Network::default(),
            placements: crate::cloud::bind::Placements::default(),
            reach_cost: 1,
            cloud_facts: OnceLock::new(),
            observed: Vec::new(),
        }
    }

    /// The same facts with what the access logs show: each call with its
    /// client placed (workload, namespace pool, client range).
    pub(crate) fn with_observed(mut self, logs: &crate::proxylog::Logs) -> Facts {
        use crate::proxylog::Verdict;
        use crate::proxylog::attribute::Attributor;
        let attributor = Attributor::new(&self.model, &self.roles);
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "log times: milliseconds since 1970, positive, far below u64::MAX"
        )]
        let millis = |t: Option<f64>| t.filter(|t| *t >= 0.0).map(|t| (t * 1000.0).round() as u64);
        self.observed = logs
            .observed
            .entries
            .iter()
            .map(|e| {
                let client = match attributor.workload(e.client) {
                    Some(w) => host_observed::CallClient::Workload(w.get()),
                    None => match attributor.client(e.client) {
                        crate::proxylog::attribute::Client::Namespace(n) => {
                            host_observed::CallClient::Namespace(n)
                        }
                        crate::proxylog::attribute::Client::Range(r) => {
                            host_observed::CallClient::ClientRange(r)
                        }
                        _ => host_observed::CallClient::Unattributed,
                    },
                };
                host_observed::ObservedCall {
                    log: logs.logs.get(e.log).map_or(u32::MAX, |l| index(l.object)),
                    line: u32::try_from(e.line).unwrap_or(u32::MAX),
                    client_address: e.client.map(|c| c.to_string()),
                    client,
                    method: e.method.clone(),
                    host: e.host.clone(),
                    port: e.port,
                    verdict: match e.verdict {
                        Verdict::Allowed => host_observed::CallVerdict::Allowed,
                        Verdict::Denied => host_observed::CallVerdict::Denied,
                        Verdict::Error => host_observed::CallVerdict::Error,
                    },
                    count: e.count,
                    bytes: e.bytes,
                    first_seen: millis(e.first_seen),
                    last_seen: millis(e.last_seen),
                    results: e.results.iter().map(|(k, v)| (k.clone(), *v)).collect(),
                    server_addresses: e.servers.iter().map(ToString::to_string).collect(),
                }
            })
            .collect();
        self
    }

    /// The same facts with a cloud network and the cluster's placement in it.
    pub(crate) fn with_cloud(
        mut self,
        network: crate::cloud::Network,
        placements: crate::cloud::bind::Placements,
    ) -> Facts {
        let routes: usize = network.route_tables.iter().map(|t| t.routes.len()).sum();
        let rules: usize = network.security_groups.iter().map(|g| g.rules.len()).sum();
        let entries: usize = network.nacls.iter().map(|n| n.entries.len()).sum();
        self.reach_cost = 1 + (routes + rules + entries + network.loose_routes.len()) as u64;
        self.network = network;
        self.placements = placements;
        self
    }

    fn cloud(&self) -> &CloudFacts {
        self.cloud_facts
            .get_or_init(|| cloud_facts(&self.network, &self.placements))
    }

    fn objects(&self) -> &[wit::SourceObject] {
        self.objects.get_or_init(|| {
            self.model
                .objects
                .iter()
                .map(|o| wit::SourceObject {
                    id: o.id.get(),
                    api_version: o.api_version.clone(),
                    kind: o.kind.clone(),
                    namespace: o.namespace.clone(),
                    name: o.name.clone(),
                    labels: labels(&o.labels),
                    annotations: labels(&o.annotations),
                })
                .collect()
        })
    }

    fn namespaces(&self) -> &[wit::Namespace] {
        self.namespaces.get_or_init(|| {
            self.model
                .namespaces
                .iter()
                .map(|n| wit::Namespace {
                    name: n.name.clone(),
                    labels: labels(&n.labels),
                    object: n.object.map(facts::ObjectId::get),
                })
                .collect()
        })
    }

    fn workloads(&self) -> &[wit::Workload] {
        self.workloads.get_or_init(|| {
            self.model
                .workloads
                .iter()
                .enumerate()
                .map(|(i, w)| workload(i, w))
                .collect()
        })
    }

    fn policies(&self) -> &[wit::NetworkPolicy] {
        self.policies.get_or_init(|| {
            self.model
                .network_policies
                .iter()
                .map(network_policy)
                .collect()
        })
    }

    fn rbac(&self) -> &RbacFacts {
        self.rbac_facts.get_or_init(|| rbac_facts(&self.rbac))
    }

    fn proxies(&self) -> &[wit::ProxyConfig] {
        self.proxy_facts.get_or_init(|| {
            self.proxies
                .configs
                .iter()
                .map(|(c, object, file)| proxy_config(c, object.get(), file))
                .collect()
        })
    }
}

/// Typed indices as the numbers the contract carries.
fn ids<T: Copy>(list: &[T], get: fn(T) -> u32) -> Vec<u32> {
    list.iter().map(|&i| get(i)).collect()
}

fn labels(list: &[facts::Label]) -> Vec<wit::Label> {
    list.iter()
        .map(|l| wit::Label {
            key: l.key.clone(),
            value: l.value.clone(),
        })
        .collect()
}

fn protocol(p: facts::Protocol) -> wit::Protocol {
    match p {
        facts::Protocol::Tcp => wit::Protocol::Tcp,
        facts::Protocol::Udp => wit::Protocol::Udp,
        facts::Protocol::Sctp => wit::Protocol::Sctp,
    }
}

fn subject(s: &facts::Identity) -> wit::RbacSubject {
    wit::RbacSubject {
        kind: match s.kind {
            facts::SubjectKind::User => wit::SubjectKind::User,
            facts::SubjectKind::Group => wit::SubjectKind::Group,
            facts::SubjectKind::ServiceAccount => wit::SubjectKind::ServiceAccount,
        },
        name: s.name.clone(),
        namespace: s.namespace.clone(),
    }
}

fn workload(i: usize, w: &facts::Workload) -> wit::Workload {
    use facts::WorkloadKind as K;
    wit::Workload {
        id: facts::WorkloadId::at(i).get(),
        object: w.object.get(),
        kind: match w.kind {
            K::Pod => wit::WorkloadKind::Pod,
            K::Deployment => wit::WorkloadKind::Deployment,
            K::StatefulSet => wit::WorkloadKind::StatefulSet,
            K::DaemonSet => wit::WorkloadKind::DaemonSet,
            K::ReplicaSet => wit::WorkloadKind::ReplicaSet,
            K::ReplicationController => wit::WorkloadKind::ReplicationController,
            K::Job => wit::WorkloadKind::Job,
            K::CronJob => wit::WorkloadKind::CronJob,
        },
        namespace: w.namespace.clone(),
        name: w.name.clone(),
        labels: labels(&w.labels),
        service_account: w.service_account.clone(),
        automount_service_account_token: w.automount_service_account_token,
        token_mounted: w.token_mounted,
        identities: w.identities().iter().map(subject).collect(),
        host_network: w.host_network,
        containers: w
            .containers
            .iter()
            .map(|c| wit::Container {
                name: c.name.clone(),
                image: c.image.clone(),
                init: c.init,
                ports: c
                    .ports
                    .iter()
                    .map(|p| wit::ContainerPort {
                        name: p.name.clone(),
                        port: p.port,
                        protocol: protocol(p.protocol),
                    })
                    .collect(),
                env: c
                    .env
                    .iter()
                    .map(|e| wit::EnvVar {
                        name: e.name.clone(),
                        value: e.value.clone(),
                    })
                    .collect(),
            })
            .collect(),
        pod_spec_path: w.pod_spec_path.clone(),
        pod_ips: w.pod_ips.clone(),
        isolation: wit::Isolation {
            ingress: ids(&w.isolation.ingress, facts::PolicyId::get),
            egress: ids(&w.isolation.egress, facts::PolicyId::get),
        },
    }
}

fn selector(s: &facts::LabelSelector) -> wit::LabelSelector {
    use facts::SelectorOperator as O;
    wit::LabelSelector {
        requirements: s
            .requirements
            .iter()
            .map(|r| wit::SelectorRequirement {
                key: r.key.clone(),
                operator: match r.operator {
                    O::In => wit::SelectorOperator::In,
                    O::NotIn => wit::SelectorOperator::NotIn,
                    O::Exists => wit::SelectorOperator::Exists,
                    O::DoesNotExist => wit::SelectorOperator::DoesNotExist,
                },
                values: r.values.clone(),
            })
            .collect(),
    }
}

fn selector_from_wit(s: &wit::LabelSelector) -> facts::LabelSelector {
    use facts::SelectorOperator as O;
    facts::LabelSelector {
        requirements: s
            .requirements
            .iter()
            .map(|r| facts::SelectorRequirement {
                key: r.key.clone(),
                operator: match r.operator {
                    wit::SelectorOperator::In => O::In,
                    wit::SelectorOperator::NotIn => O::NotIn,
                    wit::SelectorOperator::Exists => O::Exists,
                    wit::SelectorOperator::DoesNotExist => O::DoesNotExist,
                },
                values: r.values.clone(),
            })
            .collect(),
    }
}

fn classes(c: crate::address::Classes) -> wit::AddressClasses {
    use crate::address::Classes as C;
    wit::AddressClasses {
        public: c.contains(C::PUBLIC),
        private: c.contains(C::PRIVATE),
        shared: c.contains(C::SHARED),
        loopback: c.contains(C::LOOPBACK),
        link_local: c.contains(C::LINK_LOCAL),
        metadata: c.contains(C::METADATA),
    }
}

fn peer(p: &facts::Peer) -> wit::Peer {
    match p {
        facts::Peer::Pods(pp) => wit::Peer::Pods(wit::PodPeer {
            namespace_selector: pp.namespace_selector.as_ref().map(selector),
            pod_selector: pp.pod_selector.as_ref().map(selector),
            every_pod: pp.every_pod(),
            named_namespaces: pp.named_namespaces(),
            mutable_namespace_keys: pp.mutable_namespace_keys(),
        }),
        facts::Peer::IpBlock(b) => {
            // The model holds only blocks whose CIDRs parse.
            let (every_address, c) = crate::address::of_block(&b.cidr, &b.except)
                .unwrap_or((false, crate::address::Classes::default()));
            wit::Peer::IpBlock(wit::IpBlock {
                cidr: b.cidr.clone(),
                except: b.except.clone(),
                every_address,
                classes: classes(c),
            })
        }
    }
}

fn rule(r: &facts::PolicyRule) -> wit::PolicyRule {
    wit::PolicyRule {
        path: r.path.clone(),
        peers: r.peers.iter().map(peer).collect(),
        ports: r
            .ports
            .iter()
            .map(|p| wit::PortSpec {
                protocol: protocol(p.protocol),
                protocol_defaulted: p.protocol_defaulted,
                port: p.port.as_ref().map(|p| match p {
                    facts::PortRef::Number(n) => wit::PortRef::Number(*n),
                    facts::PortRef::Name(s) => wit::PortRef::Name(s.clone()),
                }),
                end_port: p.end_port,
            })
            .collect(),
        matches: r
            .matches
            .iter()
            .map(|m| wit::PeerMatch {
                namespaces: m.namespaces.clone(),
                workloads: ids(&m.workloads, facts::WorkloadId::get),
            })
            .collect(),
        peer_paths: r.peer_paths.clone(),
        port_paths: r.port_paths.clone(),
    }
}

fn network_policy(p: &facts::NetworkPolicy) -> wit::NetworkPolicy {
    wit::NetworkPolicy {
        object: p.object.get(),
        namespace: p.namespace.clone(),
        name: p.name.clone(),
        pod_selector: selector(&p.pod_selector),
        selects_all: p.pod_selector.requirements.is_empty(),
        affects_ingress: p.affects_ingress,
        affects_egress: p.affects_egress,
        ingress: p.ingress.iter().map(rule).collect(),
        egress: p.egress.iter().map(rule).collect(),
        selects: ids(&p.selects, facts::WorkloadId::get),
    }
}

fn rbac_subject(s: &crate::rbac::Subject) -> wit::RbacSubject {
    let kind = facts::SubjectKind::of(&s.kind).unwrap_or(facts::SubjectKind::User);
    subject(&facts::Identity {
        kind,
        name: s.name.clone(),
        namespace: s.namespace.clone(),
    })
}

fn role_kind(kind: &str) -> wit::RoleKind {
    if kind == "Role" {
        wit::RoleKind::Role
    } else {
        wit::RoleKind::ClusterRole
    }
}

fn rbac_facts(rbac: &Rbac) -> RbacFacts {
    let exposed = rbac.exposed();
    let roles = rbac
        .roles
        .iter()
        .zip(&exposed)
        .filter(|(_, e)| e.is_some())
        .map(|(r, _)| wit::RbacRole {
            kind: role_kind(r.kind),
            namespace: r.namespace.clone(),
            name: r.name.clone(),
            object: r.object.map(|o| facts::ObjectId::at(o).get()),
            rules: r
                .rules
                .iter()
                .map(|r| wit::RbacRule {
                    verbs: r.verbs.clone(),
                    api_groups: r.api_groups.clone(),
                    resources: r.resources.clone(),
                    resource_names: r.resource_names.clone(),
                    non_resource_urls: r.non_resource_urls.clone(),
                })
                .collect(),
        })
        .collect();
    let bindings = rbac
        .bindings
        .iter()
        .map(|b| wit::RbacBinding {
            object: facts::ObjectId::at(b.object).get(),
            cluster_wide: b.kind == "ClusterRoleBinding",
            namespace: b.namespace.clone(),
            name: b.name.clone(),
            role: rbac
                .role_index(b)
                .and_then(|i| exposed.get(i).copied().flatten()),
            role_kind: role_kind(&b.role_kind),
            role_name: b.role_name.clone(),
            subjects: b.subjects.iter().map(rbac_subject).collect(),
        })
        .collect();
    RbacFacts {
        roles,
        bindings,
        exposed,
    }
}

fn proxy_config(c: &crate::squid::SquidConfig, object: u32, file: &str) -> wit::ProxyConfig {
    wit::ProxyConfig {
        object,
        file: file.to_string(),
        listeners: c
            .listeners
            .iter()
            .map(|l| wit::SquidListener {
                address: l.address.clone(),
                port: l.port,
                options: l.options.clone(),
                line: l.number,
            })
            .collect(),
        acls: c
            .acls
            .iter()
            .map(|(name, a)| wit::SquidAcl {
                name: name.clone(),
                type_name: a.type_name.clone(),
                values: a.values.clone(),
                lines: a.fact_lines(),
                matches_every_destination: a.matches_every_destination(),
                value_cidrs: a.value_cidrs(),
            })
            .collect(),
        access: c
            .access
            .iter()
            .map(|a| wit::SquidAccess {
                allow: a.allow,
                acls: a.acls.clone(),
                line: a.number,
            })
            .collect(),
        access_logs: c.access_logs.clone(),
    }
}

fn workload_role(r: &crate::roles::ResolvedPods) -> wit::WorkloadRole {
    wit::WorkloadRole {
        namespace: r.namespace.clone(),
        labels: r
            .labels
            .iter()
            .map(|(k, v)| wit::Label {
                key: k.clone(),
                value: v.clone(),
            })
            .collect(),
        workloads: ids(&r.workloads, facts::WorkloadId::get),
    }
}

/// At most this much log text is kept per call.
const MAX_LOG_BYTES: usize = 64 * 1024;

/// What a plugin can reach during one call: its log, and, during
/// `evaluate`, the facts, with the host work it asks for priced. The
/// runtime keeps one per store.
pub(crate) struct Session {
    pub(crate) log: Vec<(Level, String)>,
    log_bytes: usize,
    /// The facts and settings of the evaluation under way; `None` for calls
    /// that are not evaluations (metadata, settings).
    evaluation: Option<Arc<Evaluation>>,
    /// Fuel left when the plugin called into the host, and what the host
    /// work of that call costs so far.
    fuel_at_entry: u64,
    host_fuel: u64,
    /// Whether host work ran out of fuel (so the trap reads as that).
    pub(crate) host_out_of_fuel: bool,
    /// Whether fuel is metered at all.
    metering: bool,
}

impl Session {
    pub(crate) fn new(evaluation: Option<Arc<Evaluation>>, metering: bool) -> Session {
        Session {
            log: Vec::new(),
            log_bytes: 0,
            evaluation,
            fuel_at_entry: u64::MAX,
            host_fuel: 0,
            host_out_of_fuel: false,
            metering,
        }
    }

    /// The plugin calls into the host with `fuel_left`.
    pub(crate) fn entering(&mut self, fuel_left: u64) {
        self.fuel_at_entry = fuel_left;
        self.host_fuel = 0;
    }

    /// The cost of the host call that is returning.
    pub(crate) fn take_cost(&mut self) -> u64 {
        std::mem::take(&mut self.host_fuel)
    }

    /// Prices `steps` of host work: taken from the plugin's fuel when the
    /// host call returns, refused (a trap) before any of it is done when the
    /// fuel left cannot pay for it.
    fn charge(&mut self, steps: u64) -> wasmtime::Result<()> {
        let cost = steps.saturating_mul(FUEL_PER_HOST_STEP);
        let total = self.host_fuel.saturating_add(cost);
        if self.metering && total >= self.fuel_at_entry {
            self.host_out_of_fuel = true;
            return Err(wasmtime::Trap::OutOfFuel.into());
        }
        self.host_fuel = total;
        Ok(())
    }
}

impl host_log::Host for Session {
    fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        if self.log_bytes + message.len() <= MAX_LOG_BYTES {
            self.log_bytes += message.len();
            self.log.push((level, message));
        }
        Ok(())
    }
}

impl host_types::Host for Session {}

/// The evaluation a facts call belongs to; a call outside `evaluate`
/// traps.
fn current(session: &Session) -> wasmtime::Result<&Evaluation> {
    session
        .evaluation
        .as_deref()
        .ok_or_else(|| wasmtime::Error::msg("facts are only available during `evaluate`"))
}

impl host_facts::Host for Session {
    fn settings(&mut self) -> wasmtime::Result<String> {
        Ok(current(self)?.settings.clone())
    }

    fn enabled_rules(&mut self) -> wasmtime::Result<Vec<String>> {
        Ok(current(self)?.enabled_rules.clone())
    }

    fn excluded_namespaces(&mut self) -> wasmtime::Result<Vec<String>> {
        Ok(current(self)?.facts.excluded_namespaces.clone())
    }

    fn objects(&mut self) -> wasmtime::Result<Vec<wit::SourceObject>> {
        Ok(current(self)?.facts.objects().to_vec())
    }

    fn namespaces(&mut self) -> wasmtime::Result<Vec<wit::Namespace>> {
        Ok(current(self)?.facts.namespaces().to_vec())
    }

    fn workloads(&mut self) -> wasmtime::Result<Vec<wit::Workload>> {
        Ok(current(self)?.facts.workloads().to_vec())
    }

    fn network_policies(&mut self) -> wasmtime::Result<Vec<wit::NetworkPolicy>> {
        Ok(current(self)?.facts.policies().to_vec())
    }

    fn flows(
        &mut self,
        workload: u32,
        direction: wit::Direction,
    ) -> wasmtime::Result<Vec<wit::Flow>> {
        let facts = &current(self)?.facts;
        let Some(w) = facts
            .model
            .workloads
            .get(facts::WorkloadId::from_contract(workload).index())
        else {
            return Ok(Vec::new());
        };
        let flows = match direction {
            wit::Direction::Ingress => &w.ingress_flows,
            wit::Direction::Egress => &w.egress_flows,
        };
        Ok(flows
            .iter()
            .map(|f| wit::Flow {
                policy: f.policy.get(),
                rule: f.rule,
                peer: f.peer,
            })
            .collect())
    }

    fn select_workloads(
        &mut self,
        namespace: Option<String>,
        selector: wit::LabelSelector,
    ) -> wasmtime::Result<Vec<u32>> {
        let facts = current(self)?.facts.clone();
        // Every workload against every requirement: a selector of a million
        // requirements costs a million times one of one.
        let workloads = facts.model.workloads.len() as u64 + 1;
        let requirements = selector.requirements.len() as u64 + 1;
        self.charge(workloads.saturating_mul(requirements))?;
        let selector = selector_from_wit(&selector);
        let selected = crate::roles::select(&facts.model, namespace.as_deref(), &selector);
        Ok(ids(&selected, facts::WorkloadId::get))
    }

    fn classify_address(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Option<wit::AddressClasses>> {
        current(self)?;
        Ok(crate::address::of_address(&address).map(classes))
    }

    fn rbac_roles(&mut self) -> wasmtime::Result<Vec<wit::RbacRole>> {
        Ok(current(self)?.facts.rbac().roles.clone())
    }

    fn rbac_bindings(&mut self) -> wasmtime::Result<Vec<wit::RbacBinding>> {
        Ok(current(self)?.facts.rbac().bindings.clone())
    }

    fn who_can(&mut self, q: wit::AccessQuery) -> wasmtime::Result<Vec<wit::AccessGrant>> {
        let facts = current(self)?.facts.clone();
        self.charge(facts.who_can_cost)?;
        let (namespace, any) = match &q.scope {
            wit::AccessScope::Cluster => (String::new(), false),
            wit::AccessScope::Namespace(n) => (n.clone(), false),
            wit::AccessScope::AnyNamespace => (String::new(), true),
        };
        let req = crate::rbac::Request {
            verb: q.verb.clone(),
            api_group: q.api_group.clone(),
            resource: q.resource.clone(),
            subresource: q.subresource.clone().filter(|s| !s.is_empty()),
            namespace,
            name: q.name.clone().filter(|s| !s.is_empty()),
            non_resource_url: q.non_resource_url.clone().filter(|s| !s.is_empty()),
            any_name: q.name.as_ref().is_none_or(String::is_empty),
            ..crate::rbac::Request::default()
        };
        let exposed = &facts.rbac().exposed;
        Ok(facts
            .rbac
            .who_can_indexed(&req, any)
            .into_iter()
            .map(|(s, b, r, i)| wit::AccessGrant {
                subject: rbac_subject(&s),
                binding: index(b),
                // A grant comes through a binding, so its role is always
                // exposed.
                role: exposed.get(r).copied().flatten().unwrap_or(u32::MAX),
                rule: index(i),
                namespace: facts.rbac.bindings.get(b).and_then(|b| b.namespace.clone()),
            })
            .collect())
    }

    fn proxies(&mut self) -> wasmtime::Result<Vec<wit::ProxyConfig>> {
        Ok(current(self)?.facts.proxies().to_vec())
    }

    fn evaluate_proxy(
        &mut self,
        proxy: u32,
        request: wit::ProxyRequest,
    ) -> wasmtime::Result<Option<wit::ProxyVerdict>> {
        let facts = current(self)?.facts.clone();
        self.charge(facts.proxies.query_cost(proxy as usize))?;
        Ok(facts
            .proxies
            .verdict(
                proxy as usize,
                &request.client,
                &request.method,
                &request.host,
                request.port,
            )
            .map(|(allowed, line)| wit::ProxyVerdict { allowed, line }))
    }

    fn proxy(&mut self) -> wasmtime::Result<wit::ProxyRole> {
        let roles = &current(self)?.facts.roles;
        Ok(wit::ProxyRole {
            pods: workload_role(&roles.proxy),
            cidrs: roles.proxy_cidrs.clone(),
            ports: roles.proxy_ports.clone(),
            hosts: roles.proxy_hosts.clone(),
            client_namespaces: roles.client_namespaces.clone(),
            client_cidrs: roles.client_cidrs.clone(),
        })
    }

    fn cluster_dns(&mut self) -> wasmtime::Result<(wit::WorkloadRole, Vec<String>)> {
        let roles = &current(self)?.facts.roles;
        Ok((workload_role(&roles.dns), roles.dns_cidrs.clone()))
    }

    fn allowed_destinations(&mut self) -> wasmtime::Result<(Vec<wit::WorkloadRole>, Vec<String>)> {
        let roles = &current(self)?.facts.roles;
        Ok((
            roles
                .allowed_destinations
                .iter()
                .map(workload_role)
                .collect(),
            roles.allowed_cidrs.clone(),
        ))
    }

    fn admins(&mut self) -> wasmtime::Result<Vec<wit::RbacSubject>> {
        Ok(current(self)?
            .facts
            .roles
            .admins
            .iter()
            .map(subject)
            .collect())
    }
}

fn cloud_origin(o: &crate::cloud::Origin) -> host_cloud::CloudOrigin {
    host_cloud::CloudOrigin {
        object: o.object,
        pointer: o.pointer.clone(),
        address: o.address.clone(),
    }
}

fn hop(h: &crate::cloud::eval::Hop) -> host_cloud::Hop {
    host_cloud::Hop {
        what: h.what.clone(),
        origin: h.origin.as_ref().map(cloud_origin),
    }
}

fn route_exit(e: &crate::cloud::eval::Exit) -> host_cloud::RouteExit {
    use crate::cloud::eval::Exit;
    match e {
        Exit::Internet => host_cloud::RouteExit::Internet,
        Exit::Local => host_cloud::RouteExit::Local,
        Exit::Elsewhere => host_cloud::RouteExit::Elsewhere,
        Exit::NoRoute => host_cloud::RouteExit::NoRoute,
        Exit::Unknown(why) => host_cloud::RouteExit::Unknown(why.clone()),
    }
}

fn parts(p: crate::cloud::bind::Parts) -> host_cloud::ClusterParts {
    host_cloud::ClusterParts {
        nodes: p.nodes,
        pods: p.pods,
        proxy: p.proxy,
    }
}

fn known_key(k: &crate::cloud::Known<String>) -> Option<String> {
    k.known().cloned()
}

fn protocol_name(p: crate::cloud::Protocol) -> String {
    use crate::cloud::Protocol;
    match p {
        Protocol::All => "all".to_string(),
        Protocol::Tcp => "tcp".to_string(),
        Protocol::Udp => "udp".to_string(),
        Protocol::Icmp => "icmp".to_string(),
        Protocol::Icmpv6 => "icmpv6".to_string(),
        Protocol::Number(n) => n.to_string(),
    }
}

fn cloud_facts(
    net: &crate::cloud::Network,
    placements: &crate::cloud::bind::Placements,
) -> CloudFacts {
    use crate::cloud::{Known, Peer};
    let vpcs = net
        .vpcs
        .iter()
        .map(|v| host_cloud::Vpc {
            key: v.key.clone(),
            cidrs: v.cidrs.iter().map(ToString::to_string).collect(),
            flow_logs: match &v.flow_logs {
                Known::Yes(b) => Ok(*b),
                Known::Unknown(why) => Err(why.clone()),
            },
            default_group_restricted: match net.default_group_restricted(&v.key) {
                Known::Yes((restricted, h)) => Ok((restricted, hop(&h))),
                Known::Unknown(why) => Err(why),
            },
            origin: cloud_origin(&v.origin),
        })
        .collect();
    let subnets = net
        .subnets
        .iter()
        .map(|s| host_cloud::Subnet {
            key: s.key.clone(),
            id: s.id.clone(),
            vpc: known_key(&s.vpc),
            cidrs: s.cidrs.iter().map(ToString::to_string).collect(),
            map_public_ip_on_launch: s.map_public_ip_on_launch,
            parts: parts(placements.subnet_parts(&s.key)),
            internet_routes: match net.internet_routes(&s.key) {
                Known::Yes(routes) => Ok(routes
                    .iter()
                    .map(|r| host_cloud::InternetRoute {
                        destination: r.destination.to_string(),
                        probe: r.probe.to_string(),
                        exit: route_exit(&r.exit),
                        hops: r.hops.iter().map(hop).collect(),
                    })
                    .collect()),
                Known::Unknown(why) => Err(why),
            },
            origin: cloud_origin(&s.origin),
        })
        .collect();
    let groups = net
        .security_groups
        .iter()
        .map(|g| host_cloud::SecurityGroup {
            key: g.key.clone(),
            id: g.id.clone(),
            name: g.name.clone(),
            vpc: known_key(&g.vpc),
            is_default: g.default,
            parts: parts(placements.group_parts(&g.key)),
            rules: g
                .rules
                .iter()
                .map(|r| host_cloud::GroupRule {
                    egress: r.egress,
                    protocol: protocol_name(r.protocol),
                    first_port: if r.protocol.has_ports() { r.ports.0 } else { 0 },
                    last_port: if r.protocol.has_ports() { r.ports.1 } else { 0 },
                    peer: match &r.peer {
                        Peer::Cidr(c) => host_cloud::GroupPeer::Cidr(c.to_string()),
                        Peer::Group(k) => host_cloud::GroupPeer::Group(k.clone()),
                        Peer::PrefixList(p) => host_cloud::GroupPeer::PrefixList(p.clone()),
                        Peer::Unknown(why) => host_cloud::GroupPeer::Unknown(why.clone()),
                    },
                    origin: cloud_origin(&r.origin),
                })
                .collect(),
            origin: cloud_origin(&g.origin),
        })
        .collect();
    CloudFacts {
        vpcs,
        subnets,
        groups,
    }
}

impl host_observed::Host for Session {
    fn observed_calls(&mut self) -> wasmtime::Result<Vec<host_observed::ObservedCall>> {
        Ok(current(self)?.facts.observed.clone())
    }
}

impl host_cloud::Host for Session {
    fn vpcs(&mut self) -> wasmtime::Result<Vec<host_cloud::Vpc>> {
        Ok(current(self)?.facts.cloud().vpcs.clone())
    }

    fn subnets(&mut self) -> wasmtime::Result<Vec<host_cloud::Subnet>> {
        Ok(current(self)?.facts.cloud().subnets.clone())
    }

    fn security_groups(&mut self) -> wasmtime::Result<Vec<host_cloud::SecurityGroup>> {
        Ok(current(self)?.facts.cloud().groups.clone())
    }

    fn workload_placement(
        &mut self,
        workload: u32,
    ) -> wasmtime::Result<Option<host_cloud::Placement>> {
        let facts = current(self)?.facts.clone();
        let id = facts::WorkloadId::from_contract(workload);
        if facts.model.workloads.get(id.index()).is_none() {
            return Ok(None);
        }
        let is_proxy = facts.roles.proxy.workloads.contains(&id);
        let Some(p) = facts.placements.of_workload(is_proxy) else {
            return Ok(None);
        };
        let proxy = std::ptr::eq(p, &facts.placements.proxy);
        let pods = !proxy
            && facts
                .placements
                .pods
                .as_ref()
                .is_some_and(|x| std::ptr::eq(p, x));
        let part = host_cloud::ClusterParts {
            nodes: !proxy && !pods,
            pods,
            proxy,
        };
        Ok(Some(host_cloud::Placement {
            subnets: p.subnets.clone(),
            security_groups: p.security_groups.clone(),
            part,
        }))
    }

    fn reach(
        &mut self,
        subnet: String,
        security_groups: Vec<String>,
        address: String,
        protocol: wit::Protocol,
        port: u16,
    ) -> wasmtime::Result<host_cloud::ReachVerdict> {
        use crate::cloud::eval::Outcome;
        let facts = current(self)?.facts.clone();
        self.charge(facts.reach_cost)?;
        let unknown = |why: String| host_cloud::ReachVerdict {
            outcome: host_cloud::Outcome::Unknown(why.clone()),
            exit: host_cloud::RouteExit::Unknown(why),
            hops: Vec::new(),
        };
        let Ok(ip) = address.trim().parse::<std::net::IpAddr>() else {
            return Ok(unknown(format!("`{address}` is not an IP address")));
        };
        if !facts.network.subnets.iter().any(|s| s.key == subnet) {
            return Ok(unknown(format!(
                "subnet `{subnet}` is not in the cloud inputs"
            )));
        }
        let protocol = match protocol {
            wit::Protocol::Tcp => crate::cloud::Protocol::Tcp,
            wit::Protocol::Udp => crate::cloud::Protocol::Udp,
            wit::Protocol::Sctp => crate::cloud::Protocol::Number(132),
        };
        let r = facts
            .network
            .reach(&subnet, &security_groups, ip, protocol, port);
        Ok(host_cloud::ReachVerdict {
            outcome: match r.outcome {
                Outcome::Allowed => host_cloud::Outcome::Allowed,
                Outcome::Denied => host_cloud::Outcome::Denied,
                Outcome::Unknown(why) => host_cloud::Outcome::Unknown(why),
            },
            exit: route_exit(&r.exit),
            hops: r.hops.iter().map(hop).collect(),
        })
    }
}

impl host_ports::Host for Session {
    fn resolved_ports(
        &mut self,
        policy: u32,
        direction: wit::Direction,
        rule: u32,
        destination: u32,
    ) -> wasmtime::Result<Option<Vec<wit::PortRange>>> {
        let facts = current(self)?.facts.clone();
        let model = &facts.model;
        let (Some(p), Some(dest)) = (
            model
                .network_policies
                .get(facts::PolicyId::from_contract(policy).index()),
            model
                .workloads
                .get(facts::WorkloadId::from_contract(destination).index()),
        ) else {
            return Ok(Some(Vec::new()));
        };
        let rules = match direction {
            wit::Direction::Ingress => &p.ingress,
            wit::Direction::Egress => &p.egress,
        };
        let Some(r) = rules.get(rule as usize) else {
            return Ok(Some(Vec::new()));
        };
        self.charge(r.ports.len() as u64 + 1)?;
        Ok(crate::model::resolved_ports(&r.ports, dest).map(|ranges| {
            ranges
                .into_iter()
                .map(|(first, last, p)| wit::PortRange {
                    protocol: protocol(p),
                    first,
                    last,
                })
                .collect()
        }))
    }
}

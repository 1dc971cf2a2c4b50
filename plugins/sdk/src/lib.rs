//! Write Palisade policy plugins in Rust.
//!
//! A plugin is a WebAssembly component that implements the
//! `palisade:policy@0.2` contract in `wit/policy.wit`: it asks the host for
//! facts (workloads, NetworkPolicies and their flows, RBAC, proxy
//! configurations, the roles the policy set declares) and judges them. This
//! crate generates the bindings and puts a small, typed layer over them:
//!
//! - [`Rule`]: a rule's stable ID, documentation and check function, declared
//!   side by side, so the docs that `palisade explain` prints live next to the
//!   logic they describe;
//! - [`Plugin`]: the plugin's identity, its settings (type and declared
//!   schema) and its rule table;
//! - [`export_plugin!`]: wires a [`Plugin`] to the component exports;
//! - [`Context`]: the facts, fetched from the host on first use, with the
//!   lookups plugins need often;
//! - [`testing`]: builders for unit-testing rule logic natively with
//!   `cargo test`, without a WebAssembly runtime.
//!
//! ```
//! use palisade_sdk::{Context, Findings, Plugin, Rule, Severity};
//!
//! #[derive(Default, serde::Deserialize)]
//! struct Settings {}
//!
//! struct MyPlugin;
//! impl Plugin for MyPlugin {
//!     const ID: &'static str = "my-plugin";
//!     const VERSION: &'static str = env!("CARGO_PKG_VERSION");
//!     const DESCRIPTION: &'static str = "What my plugin checks";
//!     type Settings = Settings;
//!     const SETTINGS: &'static [palisade_sdk::SettingSpec] = &[];
//!     const RULES: &'static [Rule<Settings>] = &[Rule {
//!         id: "MY001",
//!         name: "host-network-used",
//!         default_severity: Severity::Error,
//!         summary: "Workloads must not use the host network",
//!         doc: "...",
//!         check: |cx, out| {
//!             for w in cx.workloads().filter(|w| w.host_network) {
//!                 out.report(w.object, "uses the host network").at(format!("{}/hostNetwork", w.pod_spec_path));
//!             }
//!         },
//!     }];
//! }
//! palisade_sdk::export_plugin!(MyPlugin);
//! ```

#![deny(missing_docs)]

mod bindings {
    #![allow(missing_docs, unreachable_pub, reason = "generated code")]
    #![allow(clippy::all, reason = "generated code")]
    wit_bindgen::generate!({
        world: "policy-plugin",
        path: "wit",
        pub_export_macro: true,
        export_macro_name: "__export_policy_plugin",
        default_bindings_module: "palisade_sdk::__bindings",
        additional_derives: [PartialEq, Eq, PartialOrd, Ord],
    });
}

pub mod testing;

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The cloud network the cluster runs in (contract 0.2.2): VPCs, subnets,
/// security groups, the cluster's placement and reachability verdicts.
pub mod cloud {
    pub use crate::bindings::palisade::policy::cloud::{
        CloudOrigin, ClusterParts, GroupPeer, GroupRule, Hop, InternetRoute, Outcome, Placement,
        ReachVerdict, RouteExit, SecurityGroup, Subnet, Vpc,
    };
}
/// What proxy access logs show went out (contract 0.2.3).
pub mod observed {
    pub use crate::bindings::palisade::policy::observed::{CallClient, CallVerdict, ObservedCall};
}
pub use bindings::palisade::policy::log::Level as LogLevel;
pub use bindings::palisade::policy::ports::PortRange;
pub use bindings::palisade::policy::types::{
    AccessGrant, AccessQuery, AccessScope, AddressClasses, Container, ContainerPort, Direction,
    EnvVar, Finding, Flow, IpBlock, Isolation, Label, LabelSelector, Location, Namespace,
    NetworkPolicy, Peer, PeerMatch, PluginError, PluginMetadata, PodPeer, PolicyRule, PortRef,
    PortSpec, Protocol, ProxyConfig, ProxyRequest, ProxyRole, ProxyVerdict, RbacBinding, RbacRole,
    RbacRule, RbacSubject, RoleKind, RuleInfo, SelectorOperator, SelectorRequirement, Setting,
    SettingType, Severity, SourceObject, SquidAccess, SquidAcl, SquidListener, SubjectKind,
    Workload, WorkloadKind, WorkloadRole,
};

#[doc(hidden)]
pub mod __bindings {
    pub use crate::bindings::*;
}

/// One rule: identity, documentation and logic, declared together.
///
/// `check` receives the evaluation context and appends findings. It runs only
/// when the policy set enables the rule.
pub struct Rule<S: 'static> {
    /// Stable ID, never reused: upper-case prefix and number (`NP001`).
    pub id: &'static str,
    /// Kebab-case name that reads as the problem (`workload-not-isolated-for-ingress`).
    pub name: &'static str,
    /// Severity unless the policy set overrides it.
    pub default_severity: Severity,
    /// One line, shown by `palisade rules`.
    pub summary: &'static str,
    /// Markdown with the headings `What it checks`, `Why it matters`,
    /// `Example`, `How to fix` and `Settings`; shown by `palisade explain`.
    pub doc: &'static str,
    /// The rule's logic.
    pub check: fn(&Context<'_, S>, &mut Findings),
}

impl<S> std::fmt::Debug for Rule<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rule")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// One setting a plugin accepts, as its metadata declares it: the host
/// rejects any other key, and a value of another type, before the plugin
/// sees the settings.
#[derive(Debug, Clone, Copy)]
pub struct SettingSpec {
    /// The key in the policy set (`allowedDestinations`).
    pub name: &'static str,
    /// The type of its value.
    pub kind: SettingType,
    /// One line on what it does and its default.
    pub doc: &'static str,
}

/// A policy plugin: identity, settings and rules.
pub trait Plugin {
    /// Stable plugin ID (`default-deny`).
    const ID: &'static str;
    /// Plugin version, usually `env!("CARGO_PKG_VERSION")`.
    const VERSION: &'static str;
    /// One paragraph on what the plugin checks.
    const DESCRIPTION: &'static str;
    /// Settings, deserialized from the policy set's JSON. Unknown fields
    /// should be rejected (`#[serde(deny_unknown_fields)]`).
    type Settings: serde::de::DeserializeOwned + Default + 'static;
    /// The settings the plugin accepts, one per field of `Settings`.
    const SETTINGS: &'static [SettingSpec];
    /// Every rule of the plugin.
    const RULES: &'static [Rule<Self::Settings>];

    /// Checks settings beyond what deserialization checks. The default accepts
    /// whatever deserializes.
    fn validate(_settings: &Self::Settings) -> Result<(), String> {
        Ok(())
    }
}

/// Namespaces the platform manages, out of scope by default.
pub const SYSTEM_NAMESPACES: &[&str] = &["kube-system", "kube-public", "kube-node-lease"];

/// [`SYSTEM_NAMESPACES`] as owned strings, for settings defaults.
pub fn system_namespaces() -> Vec<String> {
    SYSTEM_NAMESPACES.iter().map(|s| s.to_string()).collect()
}

/// Where facts come from: the host (in a component), or a test's builder.
#[derive(Debug)]
enum Source {
    /// The host, through the `facts` imports.
    #[cfg(target_family = "wasm")]
    Host,
    /// Facts stated by a test (see [`testing::FactsBuilder`]).
    Fixed(Box<testing::Fixed>),
}

/// The facts of one check. On WebAssembly each list is fetched from the
/// host on first use and kept for the evaluation; in native tests they come
/// from [`testing::FactsBuilder`].
#[derive(Debug)]
pub struct Facts {
    source: Source,
    settings: OnceCell<String>,
    enabled: OnceCell<Vec<String>>,
    excluded: OnceCell<Vec<String>>,
    objects: OnceCell<Vec<SourceObject>>,
    namespaces: OnceCell<Vec<Namespace>>,
    workloads: OnceCell<Vec<Workload>>,
    policies: OnceCell<Vec<NetworkPolicy>>,
    /// Per workload: (ingress, egress) flows.
    flows: OnceCell<Vec<[OnceCell<Vec<Flow>>; 2]>>,
    roles: OnceCell<Vec<RbacRole>>,
    bindings: OnceCell<Vec<RbacBinding>>,
    proxies: OnceCell<Vec<ProxyConfig>>,
    proxy_role: OnceCell<ProxyRole>,
    dns_role: OnceCell<(WorkloadRole, Vec<String>)>,
    allowed: OnceCell<(Vec<WorkloadRole>, Vec<String>)>,
    admins: OnceCell<Vec<RbacSubject>>,
    vpcs: OnceCell<Vec<cloud::Vpc>>,
    subnets: OnceCell<Vec<cloud::Subnet>>,
    groups: OnceCell<Vec<cloud::SecurityGroup>>,
    observed: OnceCell<Vec<observed::ObservedCall>>,
}

#[cfg(target_family = "wasm")]
use bindings::palisade::policy::{
    cloud as host_cloud, facts as host, observed as host_observed, ports as host_ports,
};

/// Asks the host on WebAssembly; natively (where there is no host) takes
/// the test's answer.
macro_rules! ask {
    ($self:ident, $host:expr, |$fixed:ident| $native:expr) => {
        match &$self.source {
            Source::Fixed($fixed) => $native,
            #[cfg(target_family = "wasm")]
            Source::Host => $host,
        }
    };
}

impl Facts {
    fn with_source(source: Source) -> Facts {
        Facts {
            source,
            settings: OnceCell::new(),
            enabled: OnceCell::new(),
            excluded: OnceCell::new(),
            objects: OnceCell::new(),
            namespaces: OnceCell::new(),
            workloads: OnceCell::new(),
            policies: OnceCell::new(),
            flows: OnceCell::new(),
            roles: OnceCell::new(),
            bindings: OnceCell::new(),
            proxies: OnceCell::new(),
            proxy_role: OnceCell::new(),
            dns_role: OnceCell::new(),
            allowed: OnceCell::new(),
            admins: OnceCell::new(),
            vpcs: OnceCell::new(),
            subnets: OnceCell::new(),
            groups: OnceCell::new(),
            observed: OnceCell::new(),
        }
    }

    /// The facts of the evaluation under way, from the host. Natively,
    /// where there is no host, no facts at all.
    pub fn from_host() -> Facts {
        #[cfg(target_family = "wasm")]
        return Facts::with_source(Source::Host);
        #[cfg(not(target_family = "wasm"))]
        return Facts::with_source(Source::Fixed(Box::default()));
    }

    /// The plugin's settings, JSON.
    pub fn settings(&self) -> &str {
        self.settings
            .get_or_init(|| ask!(self, host::settings(), |f| f.settings.clone()))
    }

    /// The rule IDs the policy set enables.
    pub fn enabled_rules(&self) -> &[String] {
        self.enabled
            .get_or_init(|| ask!(self, host::enabled_rules(), |f| f.enabled.clone()))
    }

    /// The namespaces the policy set excludes.
    pub fn excluded_namespaces(&self) -> &[String] {
        self.excluded
            .get_or_init(|| ask!(self, host::excluded_namespaces(), |f| f.excluded.clone()))
    }

    /// Every object of the inputs.
    pub fn objects(&self) -> &[SourceObject] {
        self.objects
            .get_or_init(|| ask!(self, host::objects(), |f| f.objects.clone()))
    }

    /// Every namespace.
    pub fn namespaces(&self) -> &[Namespace] {
        self.namespaces
            .get_or_init(|| ask!(self, host::namespaces(), |f| f.namespaces.clone()))
    }

    /// Every workload.
    pub fn workloads(&self) -> &[Workload] {
        self.workloads
            .get_or_init(|| ask!(self, host::workloads(), |f| f.workloads.clone()))
    }

    /// Every NetworkPolicy.
    pub fn network_policies(&self) -> &[NetworkPolicy] {
        self.policies
            .get_or_init(|| ask!(self, host::network_policies(), |f| f.policies.clone()))
    }

    /// The flows of workload `id` in `direction`.
    pub fn flows(&self, id: u32, direction: Direction) -> &[Flow] {
        let cells = self.flows.get_or_init(|| {
            (0..self.workloads().len())
                .map(|_| [OnceCell::new(), OnceCell::new()])
                .collect()
        });
        let slot = match direction {
            Direction::Ingress => 0,
            Direction::Egress => 1,
        };
        let Some(cell) = cells.get(id as usize).and_then(|c| c.get(slot)) else {
            return &[];
        };
        cell.get_or_init(|| {
            ask!(self, host::flows(id, direction), |f| f
                .flows
                .get(&(id, slot))
                .cloned()
                .unwrap_or_default())
        })
    }

    /// Roles and ClusterRoles, aggregation resolved.
    pub fn rbac_roles(&self) -> &[RbacRole] {
        self.roles
            .get_or_init(|| ask!(self, host::rbac_roles(), |f| f.roles.clone()))
    }

    /// RoleBindings and ClusterRoleBindings.
    pub fn rbac_bindings(&self) -> &[RbacBinding] {
        self.bindings
            .get_or_init(|| ask!(self, host::rbac_bindings(), |f| f.bindings.clone()))
    }

    /// Every subject that can do what `query` asks.
    pub fn who_can(&self, query: &AccessQuery) -> Vec<AccessGrant> {
        ask!(self, host::who_can(query), |f| f
            .grants
            .iter()
            .find(|(q, _)| q == query)
            .map(|(_, g)| g.clone())
            .unwrap_or_default())
    }

    /// Every squid configuration.
    pub fn proxies(&self) -> &[ProxyConfig] {
        self.proxies
            .get_or_init(|| ask!(self, host::proxies(), |f| f.proxies.clone()))
    }

    /// The host evaluator's verdict on `request` under configuration
    /// `proxy`.
    pub fn evaluate_proxy(&self, proxy: u32, request: &ProxyRequest) -> Option<ProxyVerdict> {
        ask!(self, host::evaluate_proxy(proxy, request), |f| f
            .verdicts
            .iter()
            .find(|(p, r, _)| *p == proxy && r == request)
            .map(|(_, _, v)| *v))
    }

    /// The workloads in `namespace` (any when `None`) matching `selector`.
    pub fn select_workloads(&self, namespace: Option<&str>, selector: &LabelSelector) -> Vec<u32> {
        ask!(self, host::select_workloads(namespace, selector), |f| f
            .workloads
            .iter()
            .filter(|w| namespace.is_none_or(|n| w.namespace == n))
            .filter(|w| testing::matches(selector, &w.labels))
            .map(|w| w.id)
            .collect())
    }

    /// The kinds of address `address` is; `None` when it is not one.
    pub fn classify_address(&self, address: &str) -> Option<AddressClasses> {
        ask!(self, host::classify_address(address), |f| f
            .addresses
            .iter()
            .find(|(a, _)| a == address)
            .map(|(_, c)| *c))
    }

    /// The ports rule `rule` of `policy` (in `direction`) admits towards
    /// workload `destination`; `None`: every port and protocol.
    pub fn resolved_ports(
        &self,
        policy: u32,
        direction: Direction,
        rule: u32,
        destination: u32,
    ) -> Option<Vec<PortRange>> {
        ask!(
            self,
            host_ports::resolved_ports(policy, direction, rule, destination),
            |f| testing::resolved_ports(f, policy, direction, rule, destination)
        )
    }

    /// The proxy the policy set declares.
    pub fn proxy(&self) -> &ProxyRole {
        self.proxy_role
            .get_or_init(|| ask!(self, host::proxy(), |f| f.proxy_role.clone()))
    }

    /// Cluster DNS: its pods and its addresses.
    pub fn cluster_dns(&self) -> &(WorkloadRole, Vec<String>) {
        self.dns_role
            .get_or_init(|| ask!(self, host::cluster_dns(), |f| f.dns_role.clone()))
    }

    /// Destinations workloads may reach directly: pods, and addresses.
    pub fn allowed_destinations(&self) -> &(Vec<WorkloadRole>, Vec<String>) {
        self.allowed
            .get_or_init(|| ask!(self, host::allowed_destinations(), |f| f.allowed.clone()))
    }

    /// Subjects allowed to hold control paths, besides `system:masters`.
    pub fn admins(&self) -> &[RbacSubject] {
        self.admins
            .get_or_init(|| ask!(self, host::admins(), |f| f.admins.clone()))
    }

    /// What the proxy access logs among the inputs show, one call per
    /// client, method, destination and verdict (empty without logs).
    pub fn observed_calls(&self) -> &[observed::ObservedCall] {
        self.observed.get_or_init(|| {
            ask!(self, host_observed::observed_calls(), |f| f
                .observed
                .clone())
        })
    }

    /// The VPCs of the cloud inputs (empty without any).
    pub fn vpcs(&self) -> &[cloud::Vpc] {
        self.vpcs
            .get_or_init(|| ask!(self, host_cloud::vpcs(), |f| f.vpcs.clone()))
    }

    /// The subnets of the cloud inputs, with the parts of the cluster
    /// placed in each and the routes that take it to the internet.
    pub fn subnets(&self) -> &[cloud::Subnet] {
        self.subnets
            .get_or_init(|| ask!(self, host_cloud::subnets(), |f| f.subnets.clone()))
    }

    /// The security groups of the cloud inputs.
    pub fn security_groups(&self) -> &[cloud::SecurityGroup] {
        self.groups
            .get_or_init(|| ask!(self, host_cloud::security_groups(), |f| f.groups.clone()))
    }

    /// Where a workload's traffic leaves from; `None` without cloud inputs
    /// or a placement.
    pub fn workload_placement(&self, workload: u32) -> Option<cloud::Placement> {
        ask!(self, host_cloud::workload_placement(workload), |f| f
            .placements
            .iter()
            .find(|(w, _)| *w == workload)
            .map(|(_, p)| p.clone()))
    }

    /// Whether an interface in `subnet` carrying `groups` can open a
    /// connection to `address` on `port`, and through which hops.
    pub fn reach(
        &self,
        subnet: &str,
        groups: &[String],
        address: &str,
        protocol: Protocol,
        port: u16,
    ) -> cloud::ReachVerdict {
        ask!(
            self,
            host_cloud::reach(subnet, groups, address, protocol, port),
            |f| {
                let _ = (groups, protocol);
                testing::reach(f, subnet, address, port)
            }
        )
    }
}

/// What a rule sees: the facts, its parsed settings, and lookups over them.
#[derive(Debug)]
pub struct Context<'a, S> {
    facts: &'a Facts,
    settings: &'a S,
    rule: &'static str,
    severity: Severity,
}

impl<'a, S> Context<'a, S> {
    /// The plugin's settings.
    pub fn settings(&self) -> &'a S {
        self.settings
    }

    /// All the facts, for anything the helpers do not cover.
    pub fn facts(&self) -> &'a Facts {
        self.facts
    }

    /// Whether objects in `namespace` may be reported on (the policy set may
    /// exclude namespaces; their objects still take part in the model, and
    /// the host drops findings about them).
    pub fn in_scope(&self, namespace: &str) -> bool {
        !self
            .facts
            .excluded_namespaces()
            .iter()
            .any(|n| n == namespace)
    }

    /// Whether objects in `namespace` may be reported on, with the plugin's
    /// own `also_excluded` namespaces on top of the policy set's.
    pub fn in_scope_unless(&self, namespace: &str, also_excluded: &[String]) -> bool {
        self.in_scope(namespace) && !also_excluded.iter().any(|n| n == namespace)
    }

    /// Workloads whose namespace is in scope.
    pub fn workloads(&self) -> impl Iterator<Item = &'a Workload> + '_ {
        self.facts
            .workloads()
            .iter()
            .filter(|w| self.in_scope(&w.namespace))
    }

    /// The workload with this index.
    pub fn workload(&self, id: u32) -> Option<&'a Workload> {
        self.facts.workloads().get(id as usize)
    }

    /// NetworkPolicies whose namespace is in scope.
    pub fn network_policies(&self) -> impl Iterator<Item = &'a NetworkPolicy> + '_ {
        self.facts
            .network_policies()
            .iter()
            .filter(|p| self.in_scope(&p.namespace))
    }

    /// The source object with this ID.
    pub fn object(&self, id: u32) -> Option<&'a SourceObject> {
        self.facts.objects().get(id as usize)
    }

    /// The NetworkPolicy with this index.
    pub fn network_policy(&self, index: u32) -> Option<&'a NetworkPolicy> {
        self.facts.network_policies().get(index as usize)
    }

    /// What `workload` may send (`egress`) or receive: each flow with its
    /// policy, rule, and peer with what the peer matches (no peer: every pod
    /// and address). Empty when the workload is not isolated in that
    /// direction — then everything is allowed.
    pub fn flows(&self, workload: &'a Workload, egress: bool) -> Vec<FlowView<'a>> {
        let direction = if egress {
            Direction::Egress
        } else {
            Direction::Ingress
        };
        self.facts
            .flows(workload.id, direction)
            .iter()
            .filter_map(|flow| {
                let policy = self.network_policy(flow.policy)?;
                let rules = if egress {
                    &policy.egress
                } else {
                    &policy.ingress
                };
                let rule = rules.get(flow.rule as usize)?;
                let peer = match flow.peer {
                    None => None,
                    Some(i) => Some((rule.peers.get(i as usize)?, rule.matches.get(i as usize)?)),
                };
                Some(FlowView {
                    flow,
                    policy,
                    rule,
                    peer,
                })
            })
            .collect()
    }

    /// The ID of the rule being checked.
    pub fn rule_id(&self) -> &'static str {
        self.rule
    }

    /// The severity findings of this rule get by default.
    pub fn severity(&self) -> Severity {
        self.severity
    }
}

/// A flow with the policy, rule and peer it refers to.
#[derive(Debug, Clone, Copy)]
pub struct FlowView<'a> {
    /// The flow as the host sent it.
    pub flow: &'a Flow,
    /// The policy that allows it.
    pub policy: &'a NetworkPolicy,
    /// The rule that allows it.
    pub rule: &'a PolicyRule,
    /// The peer and what it matches; `None`: every pod and address.
    pub peer: Option<(&'a Peer, &'a PeerMatch)>,
}

impl FlowView<'_> {
    /// JSON pointer of the flow's peer in its policy (the rule when it has
    /// no peers).
    pub fn path(&self) -> String {
        self.flow
            .peer
            .and_then(|p| self.rule.peer_paths.get(p as usize))
            .unwrap_or(&self.rule.path)
            .clone()
    }
}

/// Findings being collected for one rule.
#[derive(Debug)]
pub struct Findings {
    rule: &'static str,
    severity: Severity,
    out: Vec<Finding>,
}

/// A finding being built; see [`Findings::report`].
#[derive(Debug)]
pub struct FindingBuilder<'a> {
    finding: &'a mut Finding,
}

impl FindingBuilder<'_> {
    /// Points the finding at a field: a JSON pointer inside the object
    /// (`/spec/podSelector`).
    pub fn at(self, path: impl Into<String>) -> Self {
        self.finding.at = Location::Field(path.into());
        self
    }

    /// Points the finding at a line of a proxy configuration's file (for
    /// the object of a [`ProxyConfig`]).
    pub fn at_line(self, line: u32) -> Self {
        self.finding.at = Location::Line(line);
        self
    }

    /// Adds remediation text.
    pub fn fix(self, remediation: impl Into<String>) -> Self {
        self.finding.remediation = Some(remediation.into());
        self
    }

    /// Overrides the rule's default severity for this finding.
    pub fn severity(self, severity: Severity) -> Self {
        self.finding.severity = severity;
        self
    }
}

impl Findings {
    /// Starts collecting findings for `rule`.
    pub fn new(rule: &'static str, severity: Severity) -> Self {
        Findings {
            rule,
            severity,
            out: Vec::new(),
        }
    }

    /// Reports a finding about `object` (a source-object ID).
    pub fn report(&mut self, object: u32, message: impl Into<String>) -> FindingBuilder<'_> {
        self.out.push(Finding {
            rule: self.rule.to_string(),
            severity: self.severity,
            message: message.into(),
            object,
            at: Location::Object,
            remediation: None,
        });
        let last = self.out.len() - 1;
        FindingBuilder {
            finding: &mut self.out[last],
        }
    }

    /// The findings collected so far.
    pub fn into_vec(self) -> Vec<Finding> {
        self.out
    }
}

/// Parses settings JSON (an empty string or `null` means defaults) and runs
/// [`Plugin::validate`].
pub fn parse_settings<P: Plugin>(json: &str) -> Result<P::Settings, String> {
    let trimmed = json.trim();
    let settings: P::Settings = if trimmed.is_empty() || trimmed == "null" {
        P::Settings::default()
    } else {
        serde_json::from_str(trimmed).map_err(|e| format!("invalid settings: {e}"))?
    };
    P::validate(&settings)?;
    Ok(settings)
}

/// The plugin's metadata as the contract describes it.
pub fn metadata<P: Plugin>() -> PluginMetadata {
    PluginMetadata {
        id: P::ID.to_string(),
        version: P::VERSION.to_string(),
        description: P::DESCRIPTION.to_string(),
        rules: P::RULES
            .iter()
            .map(|r| RuleInfo {
                id: r.id.to_string(),
                name: r.name.to_string(),
                default_severity: r.default_severity,
                summary: r.summary.to_string(),
                doc: r.doc.to_string(),
            })
            .collect(),
        settings: P::SETTINGS
            .iter()
            .map(|s| Setting {
                name: s.name.to_string(),
                type_: s.kind,
                doc: s.doc.to_string(),
            })
            .collect(),
    }
}

/// Runs every enabled rule of `P` over `facts`: what the `evaluate` export
/// does, callable natively from tests.
pub fn evaluate<P: Plugin>(facts: &Facts) -> Result<Vec<Finding>, PluginError> {
    let settings =
        parse_settings::<P>(facts.settings()).map_err(|message| PluginError { message })?;
    let mut all = Vec::new();
    for rule in P::RULES {
        if !facts.enabled_rules().iter().any(|r| r == rule.id) {
            continue;
        }
        let cx = Context {
            facts,
            settings: &settings,
            rule: rule.id,
            severity: rule.default_severity,
        };
        let mut out = Findings::new(rule.id, rule.default_severity);
        (rule.check)(&cx, &mut out);
        all.extend(out.into_vec());
    }
    Ok(all)
}

/// Sends a message to the host's log for this evaluation. Off WebAssembly
/// (native tests) messages go to stderr.
pub fn log(level: LogLevel, message: &str) {
    #[cfg(target_family = "wasm")]
    bindings::palisade::policy::log::log(level, message);
    #[cfg(not(target_family = "wasm"))]
    eprintln!("[{level:?}] {message}");
}

/// Installs a panic hook that reports the panic message to the host with the
/// `fatal` log level before the plugin aborts, so the host can say why the
/// plugin failed. Called by the exported functions; idempotent.
pub fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let mut message = String::new();
            if let Some(s) = info.payload().downcast_ref::<&str>() {
                message.push_str(s);
            } else if let Some(s) = info.payload().downcast_ref::<String>() {
                message.push_str(s);
            } else {
                message.push_str("panic with a non-string payload");
            }
            if let Some(loc) = info.location() {
                let _ = write!(message, " (at {}:{})", loc.file(), loc.line());
            }
            log(LogLevel::Fatal, &message);
        }));
    });
}

/// Label lookups on the model's label lists.
pub trait Labels {
    /// The value of `key`, if present.
    fn label(&self, key: &str) -> Option<&str>;
    /// The labels as a map.
    fn to_map(&self) -> BTreeMap<&str, &str>;
}

impl Labels for [Label] {
    fn label(&self, key: &str) -> Option<&str> {
        self.iter().find(|l| l.key == key).map(|l| l.value.as_str())
    }

    fn to_map(&self) -> BTreeMap<&str, &str> {
        self.iter()
            .map(|l| (l.key.as_str(), l.value.as_str()))
            .collect()
    }
}

impl std::fmt::Display for WorkloadKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WorkloadKind::Pod => "Pod",
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
            WorkloadKind::ReplicaSet => "ReplicaSet",
            WorkloadKind::ReplicationController => "ReplicationController",
            WorkloadKind::Job => "Job",
            WorkloadKind::CronJob => "CronJob",
        })
    }
}

impl std::fmt::Display for SubjectKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SubjectKind::User => "User",
            SubjectKind::Group => "Group",
            SubjectKind::ServiceAccount => "ServiceAccount",
        })
    }
}

impl std::fmt::Display for RoleKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RoleKind::Role => "Role",
            RoleKind::ClusterRole => "ClusterRole",
        })
    }
}

impl RbacBinding {
    /// `RoleBinding` or `ClusterRoleBinding`.
    pub fn kind_name(&self) -> &'static str {
        if self.cluster_wide {
            "ClusterRoleBinding"
        } else {
            "RoleBinding"
        }
    }
}

impl WorkloadRole {
    /// Whether workload `id` plays this role.
    pub fn has(&self, id: u32) -> bool {
        self.workloads.contains(&id)
    }
}

/// Implements the component exports for a [`Plugin`].
///
/// Invoke once, at the root of the plugin crate: `palisade_sdk::export_plugin!(MyPlugin);`
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        const _: () = {
            #[cfg_attr(
                not(target_family = "wasm"),
                allow(dead_code, reason = "component exports exist only on wasm")
            )]
            struct __PalisadeExport;
            impl $crate::__bindings::exports::palisade::policy::plugin::Guest for __PalisadeExport {
                fn metadata() -> $crate::PluginMetadata {
                    $crate::install_panic_hook();
                    $crate::metadata::<$plugin>()
                }
                fn validate_settings(settings: ::std::string::String) -> ::std::result::Result<(), ::std::string::String> {
                    $crate::install_panic_hook();
                    $crate::parse_settings::<$plugin>(&settings).map(|_| ())
                }
                fn evaluate() -> ::std::result::Result<::std::vec::Vec<$crate::Finding>, $crate::PluginError> {
                    $crate::install_panic_hook();
                    $crate::evaluate::<$plugin>(&$crate::Facts::from_host())
                }
            }
            // Native builds (unit tests) link no component exports: their
            // names are not valid native symbols.
            #[cfg(target_family = "wasm")]
            $crate::__bindings::__export_policy_plugin!(__PalisadeExport with_types_in $crate::__bindings);
        };
    };
}

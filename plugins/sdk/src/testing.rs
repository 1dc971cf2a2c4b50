//! Builders for unit-testing rule logic natively.
//!
//! The host computes facts (which policies isolate which workload, which
//! workloads play the proxy); rule tests state those facts directly instead
//! of re-deriving them, so a test reads as "given these facts, the rule
//! reports that". End-to-end behaviour (real manifests through the real
//! host) is covered by the fixture suites in `tests/`.

use std::collections::BTreeMap;

use crate::{
    AccessGrant, AccessQuery, AddressClasses, Container, Direction, Facts, Flow, Isolation, Label,
    LabelSelector, Namespace, NetworkPolicy, PortRange, PortRef, ProxyConfig, ProxyRequest,
    ProxyRole, ProxyVerdict, RbacBinding, RbacRole, RbacSubject, SelectorOperator, Source,
    SourceObject, Workload, WorkloadKind, WorkloadRole,
};

/// Facts stated by a test.
#[derive(Debug, Clone)]
pub(crate) struct Fixed {
    pub(crate) settings: String,
    pub(crate) enabled: Vec<String>,
    pub(crate) excluded: Vec<String>,
    pub(crate) objects: Vec<SourceObject>,
    pub(crate) namespaces: Vec<Namespace>,
    pub(crate) workloads: Vec<Workload>,
    pub(crate) policies: Vec<NetworkPolicy>,
    /// (workload, 0 ingress | 1 egress) → flows.
    pub(crate) flows: BTreeMap<(u32, usize), Vec<Flow>>,
    pub(crate) roles: Vec<RbacRole>,
    pub(crate) bindings: Vec<RbacBinding>,
    pub(crate) grants: Vec<(AccessQuery, Vec<AccessGrant>)>,
    pub(crate) proxies: Vec<ProxyConfig>,
    pub(crate) verdicts: Vec<(u32, ProxyRequest, ProxyVerdict)>,
    pub(crate) addresses: Vec<(String, AddressClasses)>,
    pub(crate) proxy_role: ProxyRole,
    pub(crate) dns_role: (WorkloadRole, Vec<String>),
    pub(crate) allowed: (Vec<WorkloadRole>, Vec<String>),
    pub(crate) admins: Vec<RbacSubject>,
    pub(crate) observed: Vec<crate::observed::ObservedCall>,
    pub(crate) vpcs: Vec<crate::cloud::Vpc>,
    pub(crate) subnets: Vec<crate::cloud::Subnet>,
    pub(crate) groups: Vec<crate::cloud::SecurityGroup>,
    pub(crate) placements: Vec<(u32, crate::cloud::Placement)>,
    /// (subnet, address, port) → verdict.
    pub(crate) reaches: Vec<(String, String, u16, crate::cloud::ReachVerdict)>,
}

/// A stated reachability verdict, else `unknown` (the test stated none).
pub(crate) fn reach(
    f: &Fixed,
    subnet: &str,
    address: &str,
    port: u16,
) -> crate::cloud::ReachVerdict {
    f.reaches
        .iter()
        .find(|(s, a, p, _)| s == subnet && a == address && *p == port)
        .map(|(.., v)| v.clone())
        .unwrap_or_else(|| {
            let why = format!("the test states no verdict for {subnet} → {address}:{port}");
            crate::cloud::ReachVerdict {
                outcome: crate::cloud::Outcome::Unknown(why.clone()),
                exit: crate::cloud::RouteExit::Unknown(why),
                hops: Vec::new(),
            }
        })
}

fn to_labels(pairs: &[(&str, &str)]) -> Vec<Label> {
    pairs
        .iter()
        .map(|(k, v)| Label {
            key: k.to_string(),
            value: v.to_string(),
        })
        .collect()
}

fn empty_role(namespace: &str) -> WorkloadRole {
    WorkloadRole {
        namespace: namespace.to_string(),
        labels: Vec::new(),
        workloads: Vec::new(),
    }
}

impl Default for Fixed {
    fn default() -> Self {
        Fixed {
            settings: "{}".to_string(),
            enabled: Vec::new(),
            excluded: Vec::new(),
            objects: Vec::new(),
            namespaces: Vec::new(),
            workloads: Vec::new(),
            policies: Vec::new(),
            flows: BTreeMap::new(),
            roles: Vec::new(),
            bindings: Vec::new(),
            grants: Vec::new(),
            proxies: Vec::new(),
            verdicts: Vec::new(),
            addresses: Vec::new(),
            observed: Vec::new(),
            vpcs: Vec::new(),
            subnets: Vec::new(),
            groups: Vec::new(),
            placements: Vec::new(),
            reaches: Vec::new(),
            proxy_role: ProxyRole {
                pods: empty_role("egress-proxy"),
                cidrs: Vec::new(),
                ports: vec![3128],
                hosts: Vec::new(),
                client_namespaces: Vec::new(),
                client_cidrs: Vec::new(),
            },
            dns_role: (empty_role("kube-system"), Vec::new()),
            allowed: (Vec::new(), Vec::new()),
            admins: Vec::new(),
        }
    }
}

/// Whether labels match a selector (for stated facts only: in a plugin the
/// host answers this).
pub(crate) fn matches(selector: &LabelSelector, labels: &[Label]) -> bool {
    selector.requirements.iter().all(|r| {
        let value = labels.iter().find(|l| l.key == r.key).map(|l| &l.value);
        match r.operator {
            SelectorOperator::In => value.is_some_and(|v| r.values.contains(v)),
            SelectorOperator::NotIn => value.is_none_or(|v| !r.values.contains(v)),
            SelectorOperator::Exists => value.is_some(),
            SelectorOperator::DoesNotExist => value.is_none(),
        }
    })
}

/// Resolved ports for stated facts, as the host resolves them.
pub(crate) fn resolved_ports(
    f: &Fixed,
    policy: u32,
    direction: Direction,
    rule: u32,
    destination: u32,
) -> Option<Vec<PortRange>> {
    let p = f.policies.get(policy as usize)?;
    let rules = match direction {
        Direction::Ingress => &p.ingress,
        Direction::Egress => &p.egress,
    };
    let r = rules.get(rule as usize)?;
    let dest = f.workloads.get(destination as usize)?;
    if r.ports.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for spec in &r.ports {
        match &spec.port {
            None => out.push(PortRange {
                protocol: spec.protocol,
                first: 1,
                last: u16::MAX,
            }),
            Some(PortRef::Number(n)) => out.push(PortRange {
                protocol: spec.protocol,
                first: *n,
                last: spec.end_port.unwrap_or(*n),
            }),
            Some(PortRef::Name(name)) => {
                for cp in dest.containers.iter().flat_map(|c| &c.ports) {
                    if cp.name.as_deref() == Some(name.as_str()) && cp.protocol == spec.protocol {
                        out.push(PortRange {
                            protocol: spec.protocol,
                            first: cp.port,
                            last: cp.port,
                        });
                    }
                }
            }
        }
    }
    Some(out)
}

/// Builds [`Facts`] object by object.
#[derive(Debug, Clone, Default)]
pub struct FactsBuilder {
    facts: Fixed,
}

impl FactsBuilder {
    /// No objects, `{}` settings and no rule enabled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the settings JSON.
    pub fn settings(mut self, json: &str) -> Self {
        self.facts.settings = json.to_string();
        self
    }

    /// Enables rules by ID.
    pub fn enable(mut self, rules: &[&str]) -> Self {
        self.facts
            .enabled
            .extend(rules.iter().map(|r| r.to_string()));
        self
    }

    /// Excludes a namespace from reporting.
    pub fn exclude(mut self, namespace: &str) -> Self {
        self.facts.excluded.push(namespace.to_string());
        self
    }

    fn add_object(&mut self, api_version: &str, kind: &str, ns: &str, name: &str) -> u32 {
        let id = u32::try_from(self.facts.objects.len()).unwrap_or(u32::MAX);
        self.facts.objects.push(SourceObject {
            id,
            api_version: api_version.to_string(),
            kind: kind.to_string(),
            namespace: Some(ns.to_string()),
            name: name.to_string(),
            labels: Vec::new(),
            annotations: Vec::new(),
        });
        id
    }

    /// Adds a Deployment-backed workload; `isolated_by` gives the indices of
    /// the policies that isolate it for (ingress, egress).
    pub fn deployment(
        mut self,
        ns: &str,
        name: &str,
        labels: &[(&str, &str)],
        ingress_isolated_by: &[u32],
        egress_isolated_by: &[u32],
    ) -> Self {
        let object = self.add_object("apps/v1", "Deployment", ns, name);
        let id = u32::try_from(self.facts.workloads.len()).unwrap_or(u32::MAX);
        let identities = vec![RbacSubject {
            kind: crate::SubjectKind::ServiceAccount,
            name: "default".to_string(),
            namespace: Some(ns.to_string()),
        }];
        self.facts.workloads.push(Workload {
            id,
            object,
            kind: WorkloadKind::Deployment,
            namespace: ns.to_string(),
            name: name.to_string(),
            labels: labels
                .iter()
                .map(|(k, v)| Label {
                    key: k.to_string(),
                    value: v.to_string(),
                })
                .collect(),
            service_account: "default".to_string(),
            automount_service_account_token: None,
            token_mounted: true,
            identities,
            host_network: false,
            containers: vec![Container {
                name: "app".to_string(),
                image: "example/app:1".to_string(),
                init: false,
                ports: Vec::new(),
                env: Vec::new(),
            }],
            pod_spec_path: "/spec/template/spec".to_string(),
            pod_ips: Vec::new(),
            isolation: Isolation {
                ingress: ingress_isolated_by.to_vec(),
                egress: egress_isolated_by.to_vec(),
            },
        });
        self
    }

    /// Adds a NetworkPolicy in normalized form (its `object` field is
    /// replaced by the new source object's ID).
    pub fn network_policy(mut self, mut policy: NetworkPolicy) -> Self {
        policy.object = self.add_object(
            "networking.k8s.io/v1",
            "NetworkPolicy",
            &policy.namespace,
            &policy.name,
        );
        self.facts.policies.push(policy);
        self
    }

    /// States the flows of workload `id` in `direction`.
    pub fn flows(mut self, id: u32, direction: Direction, flows: Vec<Flow>) -> Self {
        let slot = match direction {
            Direction::Ingress => 0,
            Direction::Egress => 1,
        };
        self.facts.flows.insert((id, slot), flows);
        self
    }

    /// Adds a source object with its own labels and annotations (not a
    /// workload's pod labels): what `cx.object(id)` gives. Returns the
    /// builder; the object's ID is the number of objects added before it.
    pub fn object(
        mut self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        labels: &[(&str, &str)],
        annotations: &[(&str, &str)],
    ) -> Self {
        let id = self.add_object(api_version, kind, namespace.unwrap_or_default(), name);
        if let Some(o) = self.facts.objects.get_mut(id as usize) {
            o.namespace = namespace.map(str::to_string);
            o.labels = to_labels(labels);
            o.annotations = to_labels(annotations);
        }
        self
    }

    /// Adds a namespace with its labels (the API server's
    /// `kubernetes.io/metadata.name` is not added for you).
    pub fn namespace(mut self, name: &str, labels: &[(&str, &str)]) -> Self {
        self.facts.namespaces.push(Namespace {
            name: name.to_string(),
            labels: to_labels(labels),
            object: None,
        });
        self
    }

    /// Adds a workload of any kind, stated whole (for a Pod, a StatefulSet,
    /// containers with environments, host network…); its `id` and `object`
    /// are set to the next workload and a new source object of its kind.
    pub fn workload(mut self, mut workload: Workload, api_version: &str, kind: &str) -> Self {
        workload.object = self.add_object(api_version, kind, &workload.namespace, &workload.name);
        workload.id = u32::try_from(self.facts.workloads.len()).unwrap_or(u32::MAX);
        self.facts.workloads.push(workload);
        self
    }

    /// Adds an RBAC role (aggregation already resolved, as the host gives it).
    pub fn rbac_role(mut self, role: RbacRole) -> Self {
        self.facts.roles.push(role);
        self
    }

    /// Adds an RBAC binding.
    pub fn rbac_binding(mut self, binding: RbacBinding) -> Self {
        self.facts.bindings.push(binding);
        self
    }

    /// Adds a squid configuration as the host summarises it.
    pub fn proxy_config(mut self, config: ProxyConfig) -> Self {
        self.facts.proxies.push(config);
        self
    }

    /// States squid's verdict on a request to configuration `proxy`.
    pub fn proxy_verdict(
        mut self,
        proxy: u32,
        request: ProxyRequest,
        verdict: ProxyVerdict,
    ) -> Self {
        self.facts.verdicts.push((proxy, request, verdict));
        self
    }

    /// States the classes of an address (what `classify-address` answers).
    pub fn address(mut self, address: &str, classes: AddressClasses) -> Self {
        self.facts.addresses.push((address.to_string(), classes));
        self
    }

    /// States the cluster DNS role: its pods and CIDRs.
    pub fn dns_role(mut self, pods: WorkloadRole, cidrs: &[&str]) -> Self {
        self.facts.dns_role = (pods, cidrs.iter().map(|c| c.to_string()).collect());
        self
    }

    /// States the allowed destinations: workloads and CIDRs.
    pub fn allowed_destinations(mut self, pods: Vec<WorkloadRole>, cidrs: &[&str]) -> Self {
        self.facts.allowed = (pods, cidrs.iter().map(|c| c.to_string()).collect());
        self
    }

    /// States the answer to an access query.
    pub fn who_can(mut self, query: AccessQuery, grants: Vec<AccessGrant>) -> Self {
        self.facts.grants.push((query, grants));
        self
    }

    /// States the proxy role.
    pub fn proxy_role(mut self, role: ProxyRole) -> Self {
        self.facts.proxy_role = role;
        self
    }

    /// States the admins.
    pub fn admins(mut self, admins: Vec<RbacSubject>) -> Self {
        self.facts.admins = admins;
        self
    }

    /// Adds a call the access logs show.
    pub fn observed_call(mut self, call: crate::observed::ObservedCall) -> Self {
        self.facts.observed.push(call);
        self
    }

    /// Adds a VPC of the cloud inputs.
    pub fn vpc(mut self, vpc: crate::cloud::Vpc) -> Self {
        self.facts.vpcs.push(vpc);
        self
    }

    /// Adds a subnet of the cloud inputs.
    pub fn subnet(mut self, subnet: crate::cloud::Subnet) -> Self {
        self.facts.subnets.push(subnet);
        self
    }

    /// Adds a security group of the cloud inputs.
    pub fn security_group(mut self, group: crate::cloud::SecurityGroup) -> Self {
        self.facts.groups.push(group);
        self
    }

    /// States where a workload sits.
    pub fn placement(mut self, workload: u32, placement: crate::cloud::Placement) -> Self {
        self.facts.placements.push((workload, placement));
        self
    }

    /// States the verdict of `reach` from `subnet` to `address:port`
    /// (whatever the groups and protocol).
    pub fn reach(
        mut self,
        subnet: &str,
        address: &str,
        port: u16,
        verdict: crate::cloud::ReachVerdict,
    ) -> Self {
        self.facts
            .reaches
            .push((subnet.to_string(), address.to_string(), port, verdict));
        self
    }

    /// The finished facts.
    pub fn build(self) -> Facts {
        Facts::with_source(Source::Fixed(Box::new(self.facts)))
    }
}

/// The headings every rule's documentation has (what `palisade explain`
/// and the rules reference show).
pub const DOC_HEADINGS: &[&str] = &[
    "## What it checks",
    "## Why it matters",
    "## How to fix",
    "## Settings",
];

/// Checks a plugin's rule table: IDs unique and of the form `ABC123`, names
/// kebab-case, every doc with the [`DOC_HEADINGS`]. Returns the problems.
pub fn rule_table_problems<P: crate::Plugin>() -> Vec<String> {
    let meta = crate::metadata::<P>();
    let mut problems = Vec::new();
    let mut ids: Vec<&str> = Vec::new();
    for r in &meta.rules {
        let (prefix, number) = r.id.split_at(
            r.id.find(|c: char| c.is_ascii_digit())
                .unwrap_or(r.id.len()),
        );
        if prefix.is_empty()
            || !prefix.chars().all(|c| c.is_ascii_uppercase())
            || number.len() != 3
            || !number.chars().all(|c| c.is_ascii_digit())
        {
            problems.push(format!(
                "rule ID `{}` is not an upper-case prefix and three digits",
                r.id
            ));
        }
        if ids.contains(&r.id.as_str()) {
            problems.push(format!("rule ID `{}` is declared twice", r.id));
        }
        ids.push(&r.id);
        if r.name.is_empty()
            || !r
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            problems.push(format!(
                "rule `{}` name `{}` is not kebab-case",
                r.id, r.name
            ));
        }
        for h in DOC_HEADINGS {
            if !r.doc.contains(h) {
                problems.push(format!("rule `{}` documentation lacks `{h}`", r.id));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builder_states_what_the_facts_then_give() {
        let facts = FactsBuilder::new()
            .object(
                "apps/v1",
                "Deployment",
                Some("shop"),
                "web",
                &[("team", "payments")],
                &[("owner", "ops")],
            )
            .object(
                "rbac.authorization.k8s.io/v1",
                "ClusterRole",
                None,
                "view",
                &[],
                &[],
            )
            .namespace("shop", &[("kubernetes.io/metadata.name", "shop")])
            .workload(
                Workload {
                    kind: WorkloadKind::Pod,
                    pod_spec_path: "/spec".to_string(),
                    ..FactsBuilder::new()
                        .deployment("x", "y", &[], &[], &[])
                        .build()
                        .workloads()[0]
                        .clone()
                },
                "v1",
                "Pod",
            )
            .dns_role(empty_role("kube-system"), &["10.96.0.10/32"])
            .allowed_destinations(vec![empty_role("vault")], &["10.0.0.0/24"])
            .build();
        let objects = facts.objects();
        assert_eq!(objects.len(), 3);
        assert_eq!(objects[0].labels[0].value, "payments");
        assert_eq!(objects[0].annotations[0].key, "owner");
        assert_eq!(objects[1].namespace, None);
        assert_eq!(facts.namespaces()[0].name, "shop");
        let pod = &facts.workloads()[0];
        assert_eq!((pod.id, pod.object, pod.kind), (0, 2, WorkloadKind::Pod));
        assert_eq!(objects[2].kind, "Pod");
        assert_eq!(facts.cluster_dns().1, ["10.96.0.10/32"]);
        assert_eq!(facts.allowed_destinations().0[0].namespace, "vault");
    }
}

//! The facts the semantic modules compute, as plain Rust data: the host's
//! own model, independent of the sandbox. `contract.rs` maps them to the
//! WIT types of `palisade:policy`; nothing here knows about wasmtime.
//!
//! Indices (`object`, `selects`, `isolation`, flows) are positions in the
//! lists of one [`crate::model::Model`]; they are what the contract hands to
//! plugins.

/// A `key=value` label or annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Label {
    pub(crate) key: String,
    pub(crate) value: String,
}

/// One object of the inputs, as plugins see it.
#[derive(Debug, Clone)]
pub(crate) struct SourceObject {
    pub(crate) id: u32,
    pub(crate) api_version: String,
    pub(crate) kind: String,
    pub(crate) namespace: Option<String>,
    pub(crate) name: String,
    pub(crate) labels: Vec<Label>,
    /// Annotations, kubectl's last-applied configuration redacted.
    pub(crate) annotations: Vec<Label>,
}

/// A namespace, declared or implied.
#[derive(Debug, Clone)]
pub(crate) struct Namespace {
    pub(crate) name: String,
    pub(crate) labels: Vec<Label>,
    pub(crate) object: Option<u32>,
}

/// An L4 protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

/// A declared container port.
#[derive(Debug, Clone)]
pub(crate) struct ContainerPort {
    pub(crate) name: Option<String>,
    pub(crate) port: u16,
    pub(crate) protocol: Protocol,
}

/// A container variable with its effective value (see `model/env.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EnvVar {
    pub(crate) name: String,
    pub(crate) value: Option<String>,
}

/// A container or init container.
#[derive(Debug, Clone)]
pub(crate) struct Container {
    pub(crate) name: String,
    pub(crate) image: String,
    pub(crate) init: bool,
    pub(crate) ports: Vec<ContainerPort>,
    pub(crate) env: Vec<EnvVar>,
}

/// The kinds of object a workload comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WorkloadKind {
    Pod,
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet,
    ReplicationController,
    Job,
    CronJob,
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

impl WorkloadKind {
    /// The kind of a workload object, by its `kind`.
    pub(crate) fn of(kind: &str) -> Option<WorkloadKind> {
        Some(match kind {
            "Pod" => WorkloadKind::Pod,
            "Deployment" => WorkloadKind::Deployment,
            "StatefulSet" => WorkloadKind::StatefulSet,
            "DaemonSet" => WorkloadKind::DaemonSet,
            "ReplicaSet" => WorkloadKind::ReplicaSet,
            "ReplicationController" => WorkloadKind::ReplicationController,
            "Job" => WorkloadKind::Job,
            "CronJob" => WorkloadKind::CronJob,
            _ => return None,
        })
    }
}

/// The kinds of RBAC subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum SubjectKind {
    User,
    Group,
    ServiceAccount,
}

impl SubjectKind {
    /// The kind as RBAC writes it.
    pub(crate) fn of(kind: &str) -> Option<SubjectKind> {
        match kind {
            "User" => Some(SubjectKind::User),
            "Group" => Some(SubjectKind::Group),
            "ServiceAccount" => Some(SubjectKind::ServiceAccount),
            _ => None,
        }
    }
}

/// A subject, or an identity a workload acts as.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Identity {
    pub(crate) kind: SubjectKind,
    pub(crate) name: String,
    pub(crate) namespace: Option<String>,
}

/// Which policies isolate a workload, per direction.
#[derive(Debug, Clone, Default)]
pub(crate) struct Isolation {
    pub(crate) ingress: Vec<u32>,
    pub(crate) egress: Vec<u32>,
}

/// A Pod, or the pod template of a workload controller.
#[derive(Debug, Clone)]
pub(crate) struct Workload {
    pub(crate) object: u32,
    pub(crate) kind: WorkloadKind,
    pub(crate) namespace: String,
    pub(crate) name: String,
    pub(crate) labels: Vec<Label>,
    pub(crate) service_account: String,
    pub(crate) automount_service_account_token: Option<bool>,
    /// Whether an API token is mounted (the pod spec's setting, else the
    /// ServiceAccount's, else true).
    pub(crate) token_mounted: bool,
    pub(crate) host_network: bool,
    pub(crate) containers: Vec<Container>,
    pub(crate) pod_spec_path: String,
    pub(crate) pod_ips: Vec<String>,
    pub(crate) isolation: Isolation,
    pub(crate) ingress_flows: Vec<Flow>,
    pub(crate) egress_flows: Vec<Flow>,
}

impl Workload {
    /// The identities its pods authenticate as with their token: the
    /// service account and the groups every service account of the
    /// namespace, every service account, and every authenticated user
    /// belong to.
    pub(crate) fn identities(&self) -> Vec<Identity> {
        let group = |name: String| Identity {
            kind: SubjectKind::Group,
            name,
            namespace: None,
        };
        vec![
            Identity {
                kind: SubjectKind::ServiceAccount,
                name: self.service_account.clone(),
                namespace: Some(self.namespace.clone()),
            },
            group("system:serviceaccounts".to_string()),
            group(format!("system:serviceaccounts:{}", self.namespace)),
            group("system:authenticated".to_string()),
        ]
    }
}

/// A reference from a workload to the rule and peer that allow traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Flow {
    pub(crate) policy: u32,
    pub(crate) rule: u32,
    pub(crate) peer: Option<u32>,
}

/// Operator of a selector requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SelectorOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SelectorRequirement {
    pub(crate) key: String,
    pub(crate) operator: SelectorOperator,
    pub(crate) values: Vec<String>,
}

/// A label selector (no requirement: everything).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LabelSelector {
    pub(crate) requirements: Vec<SelectorRequirement>,
}

/// A pod peer of a rule.
#[derive(Debug, Clone)]
pub(crate) struct PodPeer {
    pub(crate) namespace_selector: Option<LabelSelector>,
    pub(crate) pod_selector: Option<LabelSelector>,
}

impl PodPeer {
    /// Every pod of every namespace.
    pub(crate) fn every_pod(&self) -> bool {
        self.namespace_selector
            .as_ref()
            .is_some_and(|s| s.requirements.is_empty())
            && self
                .pod_selector
                .as_ref()
                .is_none_or(|s| s.requirements.is_empty())
    }

    /// The namespace names the namespace selector pins by
    /// `kubernetes.io/metadata.name` (`In` values).
    pub(crate) fn named_namespaces(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .namespace_selector
            .iter()
            .flat_map(|s| &s.requirements)
            .filter(|r| {
                r.key == crate::model::NAMESPACE_NAME_LABEL && r.operator == SelectorOperator::In
            })
            .flat_map(|r| r.values.iter().cloned())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Keys of the namespace selector other than
    /// `kubernetes.io/metadata.name`.
    pub(crate) fn mutable_namespace_keys(&self) -> Vec<String> {
        self.namespace_selector
            .iter()
            .flat_map(|s| &s.requirements)
            .map(|r| r.key.clone())
            .filter(|k| k != crate::model::NAMESPACE_NAME_LABEL)
            .collect()
    }
}

/// An `ipBlock` peer.
#[derive(Debug, Clone)]
pub(crate) struct IpBlock {
    pub(crate) cidr: String,
    pub(crate) except: Vec<String>,
}

/// One peer of a rule.
#[derive(Debug, Clone)]
pub(crate) enum Peer {
    Pods(PodPeer),
    IpBlock(IpBlock),
}

/// A port as written: a number or a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PortRef {
    Number(u16),
    Name(String),
}

/// One entry of a rule's `ports`, defaults applied.
#[derive(Debug, Clone)]
pub(crate) struct PortSpec {
    pub(crate) protocol: Protocol,
    /// `protocol` was not written.
    pub(crate) protocol_defaulted: bool,
    pub(crate) port: Option<PortRef>,
    pub(crate) end_port: Option<u16>,
}

/// What a peer matches among the inputs.
#[derive(Debug, Clone, Default)]
pub(crate) struct PeerMatch {
    pub(crate) namespaces: Vec<String>,
    pub(crate) workloads: Vec<u32>,
}

/// An ingress or egress rule.
#[derive(Debug, Clone)]
pub(crate) struct PolicyRule {
    /// JSON pointer of the rule in its policy.
    pub(crate) path: String,
    pub(crate) peers: Vec<Peer>,
    pub(crate) ports: Vec<PortSpec>,
    pub(crate) matches: Vec<PeerMatch>,
}

/// A NetworkPolicy in normalized form.
#[derive(Debug, Clone)]
pub(crate) struct NetworkPolicy {
    pub(crate) object: u32,
    pub(crate) namespace: String,
    pub(crate) name: String,
    pub(crate) pod_selector: LabelSelector,
    pub(crate) affects_ingress: bool,
    pub(crate) affects_egress: bool,
    pub(crate) ingress: Vec<PolicyRule>,
    pub(crate) egress: Vec<PolicyRule>,
    pub(crate) selects: Vec<u32>,
}

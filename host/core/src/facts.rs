//! The facts the semantic modules compute, as plain Rust data: the host's
//! own model, independent of the sandbox. `contract.rs` maps them to the
//! WIT types of `palisade:policy`; nothing here knows about wasmtime.
//!
//! Indices (`object`, `selects`, `isolation`, flows) are positions in the
//! lists of one [`crate::model::Model`]; they are what the contract hands to
//! plugins.

/// The label the API server sets on every namespace, and the only one its
/// tenants cannot change.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// Typed indices into a model's lists: an object, a workload, a
/// NetworkPolicy. A model holds fewer than 2³² of each (the loader caps the
/// input's size far below), so an index always fits.
macro_rules! index_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(u32);

        impl $name {
            /// The id of the entry at `index` of its list.
            pub fn at(index: usize) -> $name {
                // A list of 2³² entries would need far more memory than the
                // loader's input cap allows: saturating is unreachable.
                $name(u32::try_from(index).unwrap_or(u32::MAX))
            }

            /// The position in its list.
            pub fn index(self) -> usize {
                self.0 as usize
            }

            /// The number the contract carries.
            pub fn get(self) -> u32 {
                self.0
            }

            /// The id the contract's number stands for.
            pub fn from_contract(n: u32) -> $name {
                $name(n)
            }
        }
    };
}

index_type!(
    /// An object of the inputs (its index in `Model::objects`).
    ObjectId
);
index_type!(
    /// A workload (its index in `Model::workloads`).
    WorkloadId
);
index_type!(
    /// A NetworkPolicy (its index in `Model::network_policies`).
    PolicyId
);

/// A `key=value` label or annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub key: String,
    pub value: String,
}

/// One object of the inputs, as plugins see it.
#[derive(Debug, Clone)]
pub struct SourceObject {
    pub id: ObjectId,
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub labels: Vec<Label>,
    /// Annotations, kubectl's last-applied configuration redacted.
    pub annotations: Vec<Label>,
}

/// A namespace, declared or implied.
#[derive(Debug, Clone)]
pub struct Namespace {
    pub name: String,
    pub labels: Vec<Label>,
    pub object: Option<ObjectId>,
}

/// An L4 protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

/// A declared container port.
#[derive(Debug, Clone)]
pub struct ContainerPort {
    pub name: Option<String>,
    pub port: u16,
    pub protocol: Protocol,
}

/// A container variable with its effective value (see `model/env.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub name: String,
    pub value: Option<String>,
}

/// A container or init container.
#[derive(Debug, Clone)]
pub struct Container {
    pub name: String,
    pub image: String,
    pub init: bool,
    pub ports: Vec<ContainerPort>,
    pub env: Vec<EnvVar>,
}

/// The kinds of object a workload comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkloadKind {
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
    pub fn of(kind: &str) -> Option<WorkloadKind> {
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
pub enum SubjectKind {
    User,
    Group,
    ServiceAccount,
}

impl SubjectKind {
    /// The kind as RBAC writes it.
    pub fn of(kind: &str) -> Option<SubjectKind> {
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
pub struct Identity {
    pub kind: SubjectKind,
    pub name: String,
    pub namespace: Option<String>,
}

/// Which policies isolate a workload, per direction.
#[derive(Debug, Clone, Default)]
pub struct Isolation {
    pub ingress: Vec<PolicyId>,
    pub egress: Vec<PolicyId>,
}

/// A Pod, or the pod template of a workload controller.
#[derive(Debug, Clone)]
pub struct Workload {
    pub object: ObjectId,
    pub kind: WorkloadKind,
    pub namespace: String,
    pub name: String,
    pub labels: Vec<Label>,
    pub service_account: String,
    pub automount_service_account_token: Option<bool>,
    /// Whether an API token is mounted (the pod spec's setting, else the
    /// ServiceAccount's, else true).
    pub token_mounted: bool,
    pub host_network: bool,
    pub containers: Vec<Container>,
    pub pod_spec_path: String,
    pub pod_ips: Vec<String>,
    pub isolation: Isolation,
    pub ingress_flows: Vec<Flow>,
    pub egress_flows: Vec<Flow>,
}

impl Workload {
    /// The identities its pods authenticate as with their token: the
    /// service account and the groups every service account of the
    /// namespace, every service account, and every authenticated user
    /// belong to.
    pub fn identities(&self) -> Vec<Identity> {
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
pub struct Flow {
    pub policy: PolicyId,
    pub rule: u32,
    pub peer: Option<u32>,
}

/// Operator of a selector requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectorOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorRequirement {
    pub key: String,
    pub operator: SelectorOperator,
    pub values: Vec<String>,
}

/// A label selector (no requirement: everything).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    pub requirements: Vec<SelectorRequirement>,
}

/// A pod peer of a rule.
#[derive(Debug, Clone)]
pub struct PodPeer {
    pub namespace_selector: Option<LabelSelector>,
    pub pod_selector: Option<LabelSelector>,
}

impl PodPeer {
    /// Every pod of every namespace.
    pub fn every_pod(&self) -> bool {
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
    pub fn named_namespaces(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .namespace_selector
            .iter()
            .flat_map(|s| &s.requirements)
            .filter(|r| r.key == NAMESPACE_NAME_LABEL && r.operator == SelectorOperator::In)
            .flat_map(|r| r.values.iter().cloned())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Keys of the namespace selector other than
    /// `kubernetes.io/metadata.name`.
    pub fn mutable_namespace_keys(&self) -> Vec<String> {
        self.namespace_selector
            .iter()
            .flat_map(|s| &s.requirements)
            .map(|r| r.key.clone())
            .filter(|k| k != NAMESPACE_NAME_LABEL)
            .collect()
    }
}

/// An `ipBlock` peer.
#[derive(Debug, Clone)]
pub struct IpBlock {
    pub cidr: String,
    pub except: Vec<String>,
}

/// One peer of a rule.
#[derive(Debug, Clone)]
pub enum Peer {
    Pods(PodPeer),
    IpBlock(IpBlock),
}

/// A port as written: a number or a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortRef {
    Number(u16),
    Name(String),
}

/// One entry of a rule's `ports`, defaults applied.
#[derive(Debug, Clone)]
pub struct PortSpec {
    pub protocol: Protocol,
    /// `protocol` was not written.
    pub protocol_defaulted: bool,
    pub port: Option<PortRef>,
    pub end_port: Option<u16>,
}

/// What a peer matches among the inputs.
#[derive(Debug, Clone, Default)]
pub struct PeerMatch {
    pub namespaces: Vec<String>,
    pub workloads: Vec<WorkloadId>,
}

/// An ingress or egress rule.
#[derive(Debug, Clone)]
pub struct PolicyRule {
    /// JSON pointer of the rule in its policy.
    pub path: String,
    pub peers: Vec<Peer>,
    pub ports: Vec<PortSpec>,
    pub matches: Vec<PeerMatch>,
    /// JSON pointer of each peer, parallel to `peers`.
    pub peer_paths: Vec<String>,
    /// JSON pointer of each port, parallel to `ports`.
    pub port_paths: Vec<String>,
}

/// A NetworkPolicy in normalized form.
#[derive(Debug, Clone)]
pub struct NetworkPolicy {
    pub object: ObjectId,
    pub namespace: String,
    pub name: String,
    pub pod_selector: LabelSelector,
    pub affects_ingress: bool,
    pub affects_egress: bool,
    pub ingress: Vec<PolicyRule>,
    pub egress: Vec<PolicyRule>,
    pub selects: Vec<WorkloadId>,
}

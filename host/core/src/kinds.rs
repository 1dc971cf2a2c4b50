//! The built-in Kubernetes kinds Palisade recognises, and their scope.

use crate::report::ObjectRef;

/// (API group, kind, namespaced). The core group is `""`.
const KINDS: &[(&str, &str, bool)] = &[
    ("", "Binding", true),
    ("", "ConfigMap", true),
    ("", "Endpoints", true),
    ("", "Event", true),
    ("", "LimitRange", true),
    ("", "Namespace", false),
    ("", "Node", false),
    ("", "PersistentVolume", false),
    ("", "PersistentVolumeClaim", true),
    ("", "Pod", true),
    ("", "PodTemplate", true),
    ("", "ReplicationController", true),
    ("", "ResourceQuota", true),
    ("", "Secret", true),
    ("", "Service", true),
    ("", "ServiceAccount", true),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
        false,
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicy",
        false,
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
        false,
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
        false,
    ),
    ("apiextensions.k8s.io", "CustomResourceDefinition", false),
    ("apiregistration.k8s.io", "APIService", false),
    ("apps", "ControllerRevision", true),
    ("apps", "DaemonSet", true),
    ("apps", "Deployment", true),
    ("apps", "ReplicaSet", true),
    ("apps", "StatefulSet", true),
    ("autoscaling", "HorizontalPodAutoscaler", true),
    ("batch", "CronJob", true),
    ("batch", "Job", true),
    ("certificates.k8s.io", "CertificateSigningRequest", false),
    ("coordination.k8s.io", "Lease", true),
    ("discovery.k8s.io", "EndpointSlice", true),
    ("events.k8s.io", "Event", true),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema", false),
    (
        "flowcontrol.apiserver.k8s.io",
        "PriorityLevelConfiguration",
        false,
    ),
    ("networking.k8s.io", "Ingress", true),
    ("networking.k8s.io", "IngressClass", false),
    ("networking.k8s.io", "NetworkPolicy", true),
    ("node.k8s.io", "RuntimeClass", false),
    ("policy", "PodDisruptionBudget", true),
    ("rbac.authorization.k8s.io", "ClusterRole", false),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding", false),
    ("rbac.authorization.k8s.io", "Role", true),
    ("rbac.authorization.k8s.io", "RoleBinding", true),
    ("scheduling.k8s.io", "PriorityClass", false),
    ("storage.k8s.io", "CSIDriver", false),
    ("storage.k8s.io", "CSINode", false),
    ("storage.k8s.io", "StorageClass", false),
    ("storage.k8s.io", "VolumeAttachment", false),
];

fn group(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

fn lookup(api_version: &str, kind: &str) -> Option<bool> {
    // Asked once or twice per object: a hash lookup, not a scan of the table.
    static INDEX: std::sync::LazyLock<
        std::collections::HashMap<(&'static str, &'static str), bool>,
    > = std::sync::LazyLock::new(|| KINDS.iter().map(|&(g, k, n)| ((g, k), n)).collect());
    INDEX.get(&(group(api_version), kind)).copied()
}

/// Whether `kind` in `apiVersion`'s group is a built-in kind.
pub fn is_known(api_version: &str, kind: &str) -> bool {
    lookup(api_version, kind).is_some()
}

/// Gives namespaced objects without a namespace the `default` namespace (as
/// `kubectl apply` does without `-n`) and drops a namespace written on a
/// cluster-scoped object (the API server ignores it).
pub fn default_namespace(mut id: ObjectRef) -> ObjectRef {
    let scope = lookup(&id.api_version, &id.kind)
        .or_else(|| crate::traffic_kinds::namespaced(&id.api_version, &id.kind));
    match scope {
        Some(true) | None => {
            if id.namespace.is_none() {
                id.namespace = Some("default".to_string());
            }
        }
        Some(false) => id.namespace = None,
    }
    id
}

/// What a CustomResourceDefinition of the inputs says about its kind: the
/// one place that reads a CRD's fields (resource names for `palisade rbac`,
/// versions and scope for the loader).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crd {
    /// The CRD's own name (`widgets.example.com`).
    pub name: String,
    pub group: String,
    pub kind: String,
    /// Lower case, as resource names are matched.
    pub plural: String,
    pub singular: String,
    pub short_names: Vec<String>,
    pub versions: Vec<String>,
    pub cluster_scoped: bool,
}

impl Crd {
    /// The CRD an object is, when it is one with a group, kind and plural.
    pub fn of(api_version: &str, kind: &str, value: &serde_json::Value) -> Option<Crd> {
        use serde_json::Value;
        if kind != "CustomResourceDefinition" || !api_version.starts_with("apiextensions.k8s.io/") {
            return None;
        }
        let s = |p: &str| value.pointer(p).and_then(Value::as_str);
        let strings = |p: &str, field: Option<&str>| -> Vec<String> {
            value
                .pointer(p)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| match field {
                            Some(f) => v.get(f).and_then(Value::as_str),
                            None => v.as_str(),
                        })
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        Some(Crd {
            name: s("/metadata/name")?.to_string(),
            group: s("/spec/group")?.to_string(),
            kind: s("/spec/names/kind")?.to_string(),
            plural: s("/spec/names/plural")?.to_ascii_lowercase(),
            singular: s("/spec/names/singular")
                .unwrap_or_default()
                .to_ascii_lowercase(),
            short_names: strings("/spec/names/shortNames", None)
                .iter()
                .map(|n| n.to_ascii_lowercase())
                .collect(),
            versions: strings("/spec/versions", Some("name")),
            cluster_scoped: s("/spec/scope") == Some("Cluster"),
        })
    }
}

/// Kinds on the control paths (NetworkPolicies, RBAC, service accounts,
/// namespaces, admission webhooks): the annotation is never honoured on them,
/// since whoever can edit them could exempt them.
const CONTROL_PATH_KINDS: &[&str] = &[
    "NetworkPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ServiceAccount",
    "Namespace",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
];

/// Whether objects of this kind are on the control paths.
pub fn is_control_path_kind(api_version: &str, kind: &str) -> bool {
    CONTROL_PATH_KINDS.contains(&kind) || crate::traffic_kinds::changes_traffic(api_version, kind)
}

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
    let g = group(api_version);
    KINDS
        .iter()
        .find(|(kg, k, _)| *kg == g && *k == kind)
        .map(|(_, _, namespaced)| *namespaced)
}

/// Whether `kind` in `apiVersion`'s group is a built-in kind.
pub(crate) fn is_known(api_version: &str, kind: &str) -> bool {
    lookup(api_version, kind).is_some()
}

/// Gives namespaced objects without a namespace the `default` namespace (as
/// `kubectl apply` does without `-n`) and drops a namespace written on a
/// cluster-scoped object (the API server ignores it).
pub(crate) fn default_namespace(mut id: ObjectRef) -> ObjectRef {
    match lookup(&id.api_version, &id.kind) {
        Some(true) | None => {
            if id.namespace.is_none() {
                id.namespace = Some("default".to_string());
            }
        }
        Some(false) => id.namespace = None,
    }
    id
}

//! The semantic model: what the inputs mean, computed once, in the host.
//!
//! From the loaded objects this module derives namespaces (declared, or
//! implied by objects that live in them), workloads (Pods and the pod
//! templates of workload controllers), NetworkPolicies in normalized form
//! (`policyTypes` defaulted as the API server does it), and which policies
//! select and isolate which workload. Plugins receive these facts through
//! WIT and never re-derive them.

pub mod env;
pub mod selector;
pub mod typed;

use std::collections::{BTreeMap, BTreeSet};

use ipnet::IpNet;
use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::api::networking::v1 as netv1;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

use crate::facts;
use crate::input::{Loaded, Object};
use crate::report::Diagnostic;
pub use typed::typed;

pub use crate::facts::NAMESPACE_NAME_LABEL;

/// The model handed to plugins (everything in a request but the per-plugin
/// settings).
#[derive(Debug, Default)]
pub struct Model {
    pub objects: Vec<facts::SourceObject>,
    pub namespaces: Vec<facts::Namespace>,
    pub workloads: Vec<facts::Workload>,
    pub network_policies: Vec<facts::NetworkPolicy>,
    /// Each container's effective environment with its provenance (host
    /// only: plugins get the values through `facts::Container::env`).
    pub env: env::EnvFacts,
}

/// Every namespace of the inputs with its labels (the API server's
/// `kubernetes.io/metadata.name` among them) and the index of its
/// `Namespace` object: declared ones, then every namespace some object
/// lives in (whose other labels are unknown).
pub fn namespaces(
    loaded: &Loaded,
) -> BTreeMap<String, (BTreeMap<String, String>, Option<facts::ObjectId>)> {
    let mut namespaces: BTreeMap<String, (BTreeMap<String, String>, Option<facts::ObjectId>)> =
        BTreeMap::new();
    for (i, obj) in loaded.objects.iter().enumerate() {
        if obj.id.kind == "Namespace" && obj.id.api_version == "v1" {
            let mut labels = labels_at(&obj.value, &["metadata", "labels"]);
            labels.insert(NAMESPACE_NAME_LABEL.to_string(), obj.id.name.clone());
            namespaces.insert(obj.id.name.clone(), (labels, Some(facts::ObjectId::at(i))));
        }
    }
    for obj in &loaded.objects {
        if let Some(ns) = &obj.id.namespace {
            namespaces.entry(ns.clone()).or_insert_with(|| {
                let mut labels = BTreeMap::new();
                labels.insert(NAMESPACE_NAME_LABEL.to_string(), ns.clone());
                (labels, None)
            });
        }
    }
    namespaces
}

/// Pods a controller of the inputs owns (a `kubectl get pods -A -o json`
/// list beside the manifests) are that controller's pods, not workloads of
/// their own: their addresses join the controller's and they are dropped.
/// The owner is the pod's controller reference: a ReplicaSet (or the
/// Deployment whose name and a dash start the ReplicaSet's name), a Job
/// (or such a CronJob), a StatefulSet, DaemonSet or ReplicationController
/// of the same name.
fn fold_owned_pods(
    workloads: &mut Vec<facts::Workload>,
    labels: &mut Vec<BTreeMap<String, String>>,
    loaded: &Loaded,
) {
    use facts::WorkloadKind as K;
    let mut drop = vec![false; workloads.len()];
    for i in 0..workloads.len() {
        let Some(pod) = workloads.get(i) else {
            continue;
        };
        if pod.kind != K::Pod {
            continue;
        }
        let Some(owner) = loaded
            .objects
            .get(pod.object.index())
            .and_then(|o| o.value.pointer("/metadata/ownerReferences"))
            .and_then(Value::as_array)
            .and_then(|refs| {
                refs.iter()
                    .find(|r| r.get("controller") == Some(&Value::Bool(true)))
                    .or_else(|| refs.first())
            })
        else {
            continue;
        };
        let kind = owner.get("kind").and_then(Value::as_str).unwrap_or("");
        let name = owner.get("name").and_then(Value::as_str).unwrap_or("");
        let ns = pod.namespace.clone();
        // A generated name is the controller's, a dash and a suffix; `web`
        // and `web-api` both prefix `web-api-6d4cf`, so the controller is
        // the longest such name whose pod labels the pod carries.
        let prefixed = |w: &facts::Workload| {
            name.strip_prefix(w.name.as_str())
                .is_some_and(|rest| rest.starts_with('-') && rest.len() > 1)
                && w.labels.iter().all(|l| pod.labels.contains(l))
        };
        let target = workloads
            .iter()
            .enumerate()
            .filter(|(_, w)| {
                w.namespace == ns
                    && match (kind, w.kind) {
                        ("ReplicaSet", K::ReplicaSet)
                        | ("Job", K::Job)
                        | ("StatefulSet", K::StatefulSet)
                        | ("DaemonSet", K::DaemonSet)
                        | ("ReplicationController", K::ReplicationController) => w.name == name,
                        ("ReplicaSet", K::Deployment) | ("Job", K::CronJob) => prefixed(w),
                        _ => false,
                    }
            })
            .max_by_key(|(_, w)| w.name.len())
            .map(|(j, _)| j);
        let Some(t) = target else { continue };
        let ips = workloads
            .get(i)
            .map(|p| p.pod_ips.clone())
            .unwrap_or_default();
        if let Some(w) = workloads.get_mut(t) {
            for ip in ips {
                if !w.pod_ips.contains(&ip) {
                    w.pod_ips.push(ip);
                }
            }
        }
        if let Some(d) = drop.get_mut(i) {
            *d = true;
        }
    }
    if !drop.contains(&true) {
        return;
    }
    let mut keep = drop.iter().map(|d| !d);
    workloads.retain(|_| keep.next().unwrap_or(true));
    let mut keep = drop.iter().map(|d| !d);
    labels.retain(|_| keep.next().unwrap_or(true));
}

/// Builds the model; problems with single objects become diagnostics.
/// `plugin` decides the corners the API leaves to the network plugin.
/// Rule peers are not resolved and workloads get no flows here:
/// `netpol::flows::resolve` adds them (what plugins receive; NetworkPolicy
/// analysis does without).
pub fn build(loaded: &Loaded, plugin: crate::NetworkPlugin) -> (Model, Vec<Diagnostic>) {
    let mut model = Model::default();
    let mut diags = Vec::new();
    for (i, obj) in loaded.objects.iter().enumerate() {
        model.objects.push(source_object(i, obj));
    }

    model.namespaces = namespaces(loaded)
        .into_iter()
        .map(|(name, (labels, object))| facts::Namespace {
            name,
            labels: to_labels(&labels),
            object,
        })
        .collect();

    // Workloads and policies.
    let sources = env::Sources::of(loaded);
    let mut workload_labels: Vec<BTreeMap<String, String>> = Vec::new();
    for (i, obj) in loaded.objects.iter().enumerate() {
        match workload(i, obj, loaded, &sources) {
            Ok(Some((w, labels, envs))) => {
                model.workloads.push(w);
                workload_labels.push(labels);
                model.env.insert(i, envs);
            }
            Ok(None) => {}
            Err(d) => diags.extend(d),
        }
        if obj.id.kind == "NetworkPolicy" && obj.id.api_version == "networking.k8s.io/v1" {
            match network_policy(i, obj, loaded) {
                Ok(p) => model.network_policies.push(p),
                Err(d) => diags.extend(d),
            }
        }
    }

    fold_owned_pods(&mut model.workloads, &mut workload_labels, loaded);

    // A pod spec that does not say whether to mount the API token takes
    // its ServiceAccount's `automountServiceAccountToken` (default true).
    let account_disables: BTreeSet<(&str, &str)> = loaded
        .objects
        .iter()
        .filter(|o| o.id.kind == "ServiceAccount" && o.id.api_version == "v1")
        .filter(|o| o.value.get("automountServiceAccountToken") == Some(&Value::Bool(false)))
        .filter_map(|o| Some((o.id.namespace.as_deref()?, o.id.name.as_str())))
        .collect();
    for w in &mut model.workloads {
        if w.automount_service_account_token.is_none()
            && account_disables.contains(&(w.namespace.as_str(), w.service_account.as_str()))
        {
            w.token_mounted = false;
        }
    }

    if sources.exhausted.get() {
        diags.push(crate::Diagnostic::input(
            format!(
                "containers take more than {} variables from ConfigMaps and Secrets through `envFrom`, all counted: the rest are unknown",
                env::MAX_ENV_FROM_ENTRIES
            ),
            None,
        ));
    }

    // Which workloads each policy selects, and so which policies isolate
    // each workload per direction. A policy selects only in its own
    // namespace: workloads are grouped by namespace once (policies ×
    // workloads grew with the square of the input).
    let mut by_namespace: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (wi, w) in model.workloads.iter().enumerate() {
        by_namespace
            .entry(w.namespace.clone())
            .or_default()
            .push(wi);
    }
    let host_network_isolated = plugin.reads(crate::network_plugin::Corner::HostNetwork);
    for (pi, policy) in model.network_policies.iter_mut().enumerate() {
        for &wi in by_namespace.get(&policy.namespace).into_iter().flatten() {
            let (Some(w), Some(labels)) = (model.workloads.get_mut(wi), workload_labels.get(wi))
            else {
                continue;
            };
            // Corner `host-network`: whether policies apply to pods on the
            // node's network.
            if (!w.host_network || host_network_isolated)
                && selector::matches(&policy.pod_selector, labels)
            {
                policy.selects.push(facts::WorkloadId::at(wi));
                if policy.affects_ingress {
                    w.isolation.ingress.push(facts::PolicyId::at(pi));
                }
                if policy.affects_egress {
                    w.isolation.egress.push(facts::PolicyId::at(pi));
                }
            }
        }
    }
    (model, diags)
}

fn source_object(i: usize, obj: &Object) -> facts::SourceObject {
    let value = if obj.id.kind == "Secret" && obj.id.api_version == "v1" {
        std::borrow::Cow::Owned(redacted_secret(&obj.value))
    } else {
        std::borrow::Cow::Borrowed(&obj.value)
    };
    facts::SourceObject {
        id: facts::ObjectId::at(i),
        api_version: obj.id.api_version.clone(),
        kind: obj.id.kind.clone(),
        namespace: obj.id.namespace.clone(),
        name: obj.id.name.clone(),
        labels: to_labels(&labels_at(&value, &["metadata", "labels"])),
        annotations: to_labels(&labels_at(&value, &["metadata", "annotations"])),
    }
}

/// What plugins see of a Secret: its keys, never its values. `data` and
/// `stringData` values become `<redacted>`, and so does kubectl's
/// last-applied annotation, which holds the whole object. A plugin could
/// otherwise print a value in a message or its log.
fn redacted_secret(value: &Value) -> Value {
    const REDACTED: &str = "<redacted>";
    let mut v = value.clone();
    for field in ["data", "stringData"] {
        if let Some(map) = v.get_mut(field).and_then(Value::as_object_mut) {
            for value in map.values_mut() {
                *value = Value::String(REDACTED.into());
            }
        } else if let Some(other) = v.get_mut(field) {
            *other = Value::String(REDACTED.into());
        }
    }
    if let Some(annotations) = v
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        for (key, value) in annotations.iter_mut() {
            if key == "kubectl.kubernetes.io/last-applied-configuration" {
                *value = Value::String(REDACTED.into());
            }
        }
    }
    v
}

/// The string map at `path` (labels, annotations); missing: empty.
pub fn labels_at(value: &Value, path: &[&str]) -> BTreeMap<String, String> {
    let mut v = value;
    for p in path {
        match v.get(p) {
            Some(next) => v = next,
            None => return BTreeMap::new(),
        }
    }
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let value = match v {
                        Value::String(s) => s.clone(),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    (k.clone(), value)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn to_labels(map: &BTreeMap<String, String>) -> Vec<facts::Label> {
    map.iter()
        .map(|(k, v)| facts::Label {
            key: k.clone(),
            value: v.clone(),
        })
        .collect()
}

/// Where the pod template lives for each workload kind: (pod spec pointer,
/// pod labels pointer).
fn pod_paths(api_version: &str, kind: &str) -> Option<(&'static str, &'static str)> {
    match (api_version, kind) {
        ("v1", "Pod") => Some(("/spec", "/metadata/labels")),
        ("v1", "ReplicationController")
        | ("apps/v1", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("batch/v1", "Job") => Some(("/spec/template/spec", "/spec/template/metadata/labels")),
        ("batch/v1", "CronJob") => Some((
            "/spec/jobTemplate/spec/template/spec",
            "/spec/jobTemplate/spec/template/metadata/labels",
        )),
        _ => None,
    }
}

type WorkloadAndLabels = (
    facts::Workload,
    BTreeMap<String, String>,
    Vec<env::ContainerEnv>,
);

fn workload(
    i: usize,
    obj: &Object,
    loaded: &Loaded,
    sources: &env::Sources<'_>,
) -> Result<Option<WorkloadAndLabels>, Vec<Diagnostic>> {
    let Some((spec_path, labels_path)) = pod_paths(&obj.id.api_version, &obj.id.kind) else {
        return Ok(None);
    };
    let diag =
        |path: &str, message: String| Diagnostic::input(message, loaded.locate(obj, Some(path)));
    let spec_value = obj.value.pointer(spec_path).ok_or_else(|| {
        vec![diag(
            spec_path,
            format!(
                "{} `{}` has no pod spec at `{spec_path}`",
                obj.id.kind, obj.id.name
            ),
        )]
    })?;
    // Every wrong type, each at its field.
    let spec: PodSpec = typed(spec_value).map_err(|errors| {
        errors
            .into_iter()
            .map(|(at, e)| {
                diag(
                    &format!("{spec_path}{at}"),
                    format!("invalid pod spec: {e}"),
                )
            })
            .collect::<Vec<_>>()
    })?;
    let labels_segments: Vec<&str> = labels_path.split('/').filter(|s| !s.is_empty()).collect();
    let labels = labels_at(&obj.value, &labels_segments);

    let namespace = obj.id.namespace.as_deref().unwrap_or("default");
    let (containers, envs) = containers(obj, loaded, sources, namespace, spec_path, &spec)?;
    let pod_ips = pod_ips(obj, loaded)?;

    let Some(kind) = facts::WorkloadKind::of(&obj.id.kind) else {
        return Ok(None);
    };
    let w = facts::Workload {
        object: facts::ObjectId::at(i),
        kind,
        namespace: obj.id.namespace.clone().unwrap_or_default(),
        name: obj.id.name.clone(),
        labels: to_labels(&labels),
        service_account: spec
            .service_account_name
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "default".to_string()),
        automount_service_account_token: spec.automount_service_account_token,
        // Settled in `build`, once every ServiceAccount is known.
        token_mounted: spec.automount_service_account_token.unwrap_or(true),
        host_network: spec.host_network.unwrap_or(false),
        containers,
        pod_spec_path: spec_path.to_string(),
        pod_ips,
        isolation: facts::Isolation::default(),
        ingress_flows: Vec::new(),
        egress_flows: Vec::new(),
    };
    Ok(Some((w, labels, envs)))
}

/// The containers of a pod spec (init containers first) with their ports
/// and effective environment, and each one's environment with its
/// provenance.
fn containers(
    obj: &Object,
    loaded: &Loaded,
    sources: &env::Sources<'_>,
    namespace: &str,
    spec_path: &str,
    spec: &PodSpec,
) -> Result<(Vec<facts::Container>, Vec<env::ContainerEnv>), Vec<Diagnostic>> {
    let diag =
        |path: &str, message: String| Diagnostic::input(message, loaded.locate(obj, Some(path)));
    let mut containers = Vec::new();
    let mut envs = Vec::new();
    let all = spec
        .init_containers
        .iter()
        .flatten()
        .enumerate()
        .map(|(n, c)| (c, true, format!("{spec_path}/initContainers/{n}")))
        .chain(
            spec.containers
                .iter()
                .enumerate()
                .map(|(n, c)| (c, false, format!("{spec_path}/containers/{n}"))),
        );
    for (c, init, pointer) in all {
        let mut ports = Vec::new();
        for p in c.ports.iter().flatten() {
            let Ok(port) = u16::try_from(p.container_port) else {
                return Err(vec![diag(
                    spec_path,
                    format!(
                        "container `{}` declares port {} outside 1-65535",
                        c.name, p.container_port
                    ),
                )]);
            };
            let protocol = match protocol(p.protocol.as_deref()) {
                Some(proto) => proto,
                None => {
                    return Err(vec![diag(
                        spec_path,
                        format!(
                            "container `{}` port {port} has unknown protocol `{}`",
                            c.name,
                            p.protocol.as_deref().unwrap_or_default()
                        ),
                    )]);
                }
            };
            ports.push(facts::ContainerPort {
                name: p.name.clone(),
                port,
                protocol,
            });
        }
        let env = env::container_env(loaded, sources, namespace, pointer, c);
        containers.push(facts::Container {
            name: c.name.clone(),
            image: c.image.clone().unwrap_or_default(),
            init,
            ports,
            env: env.entries.iter().map(env::EnvEntry::fact).collect(),
        });
        envs.push(env);
    }

    Ok((containers, envs))
}

/// A Pod's `status.podIPs` (or `status.podIP`); an address that does not
/// parse would match no ipBlock silently, so it is refused where it is
/// written.
fn pod_ips(obj: &Object, loaded: &Loaded) -> Result<Vec<String>, Vec<Diagnostic>> {
    let diag =
        |path: &str, message: String| Diagnostic::input(message, loaded.locate(obj, Some(path)));
    let mut pod_ips: Vec<String> = Vec::new();
    if obj.id.kind == "Pod" {
        // An address that does not parse would match no ipBlock silently:
        // refuse it where it is written.
        let mut bad = Vec::new();
        let mut take = |ip: &str, at: String| match ip.parse::<std::net::IpAddr>() {
            Ok(addr) => Some(addr.to_string()),
            Err(_) => {
                bad.push(diag(&at, format!("`{ip}` is not an IP address")));
                None
            }
        };
        if let Some(ips) = obj
            .value
            .pointer("/status/podIPs")
            .and_then(Value::as_array)
        {
            for (n, ip) in ips.iter().enumerate() {
                if let Some(ip) = ip.get("ip").and_then(Value::as_str)
                    && let Some(ip) = take(ip, format!("/status/podIPs/{n}/ip"))
                {
                    pod_ips.push(ip);
                }
            }
        }
        if let Some(ip) = obj.value.pointer("/status/podIP").and_then(Value::as_str)
            && let Some(ip) = take(ip, "/status/podIP".to_string())
            && !pod_ips.contains(&ip)
        {
            pod_ips.insert(0, ip);
        }
        if !bad.is_empty() {
            return Err(bad);
        }
    }

    Ok(pod_ips)
}

/// The ports a rule's port list admits towards `dest`, named ports
/// resolved on its containers (a name it does not declare admits nothing),
/// as inclusive ranges; `None`: every port and protocol.
pub fn resolved_ports(
    ports: &[facts::PortSpec],
    dest: &facts::Workload,
) -> Option<Vec<(u16, u16, facts::Protocol)>> {
    if ports.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for p in ports {
        match &p.port {
            None => out.push((1, u16::MAX, p.protocol)),
            Some(facts::PortRef::Number(n)) => out.push((*n, p.end_port.unwrap_or(*n), p.protocol)),
            Some(facts::PortRef::Name(name)) => {
                for cp in dest.containers.iter().flat_map(|c| &c.ports) {
                    if cp.name.as_deref() == Some(name.as_str()) && cp.protocol == p.protocol {
                        out.push((cp.port, cp.port, p.protocol));
                    }
                }
            }
        }
    }
    Some(out)
}

fn protocol(p: Option<&str>) -> Option<facts::Protocol> {
    match p {
        None | Some("TCP") => Some(facts::Protocol::Tcp),
        Some("UDP") => Some(facts::Protocol::Udp),
        Some("SCTP") => Some(facts::Protocol::Sctp),
        Some(_) => None,
    }
}

/// Normalizes a NetworkPolicy. A policy the API server would reject is left
/// out of the model (it could not exist in a cluster), with a diagnostic per
/// problem.
fn network_policy(
    i: usize,
    obj: &Object,
    loaded: &Loaded,
) -> Result<facts::NetworkPolicy, Vec<Diagnostic>> {
    let mut problems: Vec<(String, String)> = Vec::new();
    unknown_fields(&obj.value, &mut problems);
    // As many as a reader can act on; the count of the rest at the last.
    if problems.len() > MAX_UNKNOWN_FIELDS {
        let more = problems.len() - MAX_UNKNOWN_FIELDS;
        problems.truncate(MAX_UNKNOWN_FIELDS);
        if let Some((_, message)) = problems.last_mut() {
            message.push_str(&format!(" (and {more} more unknown fields)"));
        }
    }
    let policy: netv1::NetworkPolicy = match typed(&obj.value) {
        Ok(p) => p,
        Err(errors) => {
            return Err(errors
                .into_iter()
                .map(|(at, e)| {
                    Diagnostic::input(
                        format!("invalid NetworkPolicy: {e}"),
                        loaded.locate(obj, Some(&at)),
                    )
                })
                .collect());
        }
    };
    let spec = policy.spec.unwrap_or_default();
    let pod_selector = match selector::normalize(&spec.pod_selector.unwrap_or_default()) {
        Ok(s) => s,
        Err(e) => {
            problems.push(("/spec/podSelector".to_string(), e));
            facts::LabelSelector {
                requirements: Vec::new(),
            }
        }
    };

    // policyTypes defaulting (k8s.io/kubernetes pkg/apis/networking/v1
    // defaults): absent -> [Ingress], plus Egress iff spec.egress is non-empty.
    let (affects_ingress, affects_egress) = match &spec.policy_types {
        Some(types) if !types.is_empty() => {
            for (n, t) in types.iter().enumerate() {
                if t != "Ingress" && t != "Egress" {
                    problems.push((
                        format!("/spec/policyTypes/{n}"),
                        format!("unknown policy type `{t}` (expected Ingress or Egress)"),
                    ));
                }
            }
            (
                types.iter().any(|t| t == "Ingress"),
                types.iter().any(|t| t == "Egress"),
            )
        }
        _ => (true, spec.egress.as_ref().is_some_and(|e| !e.is_empty())),
    };

    let mut ingress = Vec::new();
    for (n, rule) in spec.ingress.iter().flatten().enumerate() {
        let base = format!("/spec/ingress/{n}");
        ingress.push(policy_rule(
            rule.from.as_deref(),
            rule.ports.as_deref(),
            &base,
            "from",
            &mut problems,
        ));
    }
    let mut egress = Vec::new();
    for (n, rule) in spec.egress.iter().flatten().enumerate() {
        let base = format!("/spec/egress/{n}");
        egress.push(policy_rule(
            rule.to.as_deref(),
            rule.ports.as_deref(),
            &base,
            "to",
            &mut problems,
        ));
    }
    if !problems.is_empty() {
        return Err(problems
            .into_iter()
            .map(|(path, message)| {
                Diagnostic::input(
                    format!(
                        "NetworkPolicy `{}/{}` is invalid (the API server would reject it; it is left out of the model): {message}",
                        obj.id.namespace.as_deref().unwrap_or_default(),
                        obj.id.name
                    ),
                    loaded.locate(obj, Some(&path)),
                )
            })
            .collect());
    }
    Ok(facts::NetworkPolicy {
        object: facts::ObjectId::at(i),
        namespace: obj.id.namespace.clone().unwrap_or_default(),
        name: obj.id.name.clone(),
        pod_selector,
        affects_ingress,
        affects_egress,
        ingress,
        egress,
        selects: Vec::new(),
    })
}

/// Unknown fields reported per NetworkPolicy (each is located, and a
/// lookup walks its siblings: a policy of 100 000 unknown keys must not
/// cost 100 000 of them).
const MAX_UNKNOWN_FIELDS: usize = 32;

/// Fields of a NetworkPolicy's spec that its API does not have. Dropping
/// them, as a lenient decoder does, changes what the policy means: the
/// written `podSelector: {app: web}` becomes `{}`, every pod of the
/// namespace. `kubectl apply` refuses them (strict field validation, its
/// default since Kubernetes 1.27), so the policy is treated as one the API
/// server rejects.
fn unknown_fields(policy: &Value, problems: &mut Vec<(String, String)>) {
    fn items(v: Option<&Value>) -> impl Iterator<Item = (usize, &Value)> {
        v.and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
    }
    fn fields(v: Option<&Value>, at: &str, known: &[&str], problems: &mut Vec<(String, String)>) {
        for key in v
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|m| m.keys())
        {
            if !known.contains(&key.as_str()) {
                let mut pointer = format!("{at}/");
                crate::input::yaml::push_escaped(&mut pointer, key);
                problems.push((
                    pointer,
                    format!(
                        "unknown field `{key}` at `{at}` (it takes {}): `kubectl apply` refuses it, and a server that dropped it would enforce something else than what is written",
                        known.join(", ")
                    ),
                ));
            }
        }
    }
    fn selector(v: Option<&Value>, at: &str, problems: &mut Vec<(String, String)>) {
        fields(v, at, &["matchLabels", "matchExpressions"], problems);
        for (n, e) in items(v.and_then(|v| v.get("matchExpressions"))) {
            let at = format!("{at}/matchExpressions/{n}");
            fields(Some(e), &at, &["key", "operator", "values"], problems);
        }
    }
    let spec = policy.get("spec");
    fields(
        spec,
        "/spec",
        &["podSelector", "policyTypes", "ingress", "egress"],
        problems,
    );
    selector(
        spec.and_then(|s| s.get("podSelector")),
        "/spec/podSelector",
        problems,
    );
    for (direction, peers) in [("ingress", "from"), ("egress", "to")] {
        for (n, rule) in items(spec.and_then(|s| s.get(direction))) {
            let at = format!("/spec/{direction}/{n}");
            fields(Some(rule), &at, &[peers, "ports"], problems);
            for (m, peer) in items(rule.get(peers)) {
                let at = format!("{at}/{peers}/{m}");
                fields(
                    Some(peer),
                    &at,
                    &["podSelector", "namespaceSelector", "ipBlock"],
                    problems,
                );
                selector(
                    peer.get("podSelector"),
                    &format!("{at}/podSelector"),
                    problems,
                );
                selector(
                    peer.get("namespaceSelector"),
                    &format!("{at}/namespaceSelector"),
                    problems,
                );
                fields(
                    peer.get("ipBlock"),
                    &format!("{at}/ipBlock"),
                    &["cidr", "except"],
                    problems,
                );
            }
            for (m, port) in items(rule.get("ports")) {
                let at = format!("{at}/ports/{m}");
                fields(Some(port), &at, &["protocol", "port", "endPort"], problems);
            }
        }
    }
}

fn policy_rule(
    peers: Option<&[netv1::NetworkPolicyPeer]>,
    ports: Option<&[netv1::NetworkPolicyPort]>,
    base: &str,
    peers_field: &str,
    problems: &mut Vec<(String, String)>,
) -> facts::PolicyRule {
    let mut out_peers = Vec::new();
    let mut peer_paths = Vec::new();
    for (n, peer) in peers.into_iter().flatten().enumerate() {
        let path = format!("{base}/{peers_field}/{n}");
        if let Some(block) = &peer.ip_block {
            if peer.pod_selector.is_some() || peer.namespace_selector.is_some() {
                problems.push((
                    path.clone(),
                    "a peer may not combine ipBlock with podSelector or namespaceSelector"
                        .to_string(),
                ));
            }
            match check_ip_block(block) {
                Ok(()) => {
                    peer_paths.push(path.clone());
                    out_peers.push(facts::Peer::IpBlock(facts::IpBlock {
                        cidr: block.cidr.clone(),
                        except: block.except.clone().unwrap_or_default(),
                    }));
                }
                Err((field, message)) => problems.push((format!("{path}/ipBlock{field}"), message)),
            }
            continue;
        }
        if peer.pod_selector.is_none() && peer.namespace_selector.is_none() {
            problems.push((
                path.clone(),
                "a peer needs podSelector, namespaceSelector or ipBlock".to_string(),
            ));
            continue;
        }
        let mut normalize =
            |sel: &Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>,
             field: &str| {
                sel.as_ref().and_then(|s| match selector::normalize(s) {
                    Ok(s) => Some(s),
                    Err(e) => {
                        problems.push((format!("{path}/{field}"), e));
                        None
                    }
                })
            };
        let namespace_selector = normalize(&peer.namespace_selector, "namespaceSelector");
        let pod_selector = normalize(&peer.pod_selector, "podSelector");
        peer_paths.push(path);
        out_peers.push(facts::Peer::Pods(facts::PodPeer {
            namespace_selector,
            pod_selector,
        }));
    }
    let mut out_ports = Vec::new();
    let mut port_paths = Vec::new();
    for (n, p) in ports.into_iter().flatten().enumerate() {
        let path = format!("{base}/ports/{n}");
        let Some(protocol) = protocol(p.protocol.as_deref()) else {
            problems.push((
                format!("{path}/protocol"),
                format!(
                    "unknown protocol `{}` (expected TCP, UDP or SCTP)",
                    p.protocol.as_deref().unwrap_or_default()
                ),
            ));
            continue;
        };
        let port = match &p.port {
            None => None,
            Some(IntOrString::Int(n)) => match u16::try_from(*n) {
                Ok(n) if n > 0 => Some(facts::PortRef::Number(n)),
                _ => {
                    problems.push((
                        format!("{path}/port"),
                        format!("port {n} is outside 1-65535"),
                    ));
                    continue;
                }
            },
            Some(IntOrString::String(s)) => Some(facts::PortRef::Name(s.clone())),
        };
        let end_port = match (p.end_port, &port) {
            (None, _) => None,
            (Some(end), Some(facts::PortRef::Number(start))) => match u16::try_from(end) {
                Ok(end) if end >= *start => Some(end),
                _ => {
                    problems.push((
                        format!("{path}/endPort"),
                        format!("endPort {end} must be between port {start} and 65535"),
                    ));
                    continue;
                }
            },
            (Some(_), _) => {
                problems.push((
                    format!("{path}/endPort"),
                    "endPort needs a numeric port".to_string(),
                ));
                continue;
            }
        };
        port_paths.push(path);
        out_ports.push(facts::PortSpec {
            protocol,
            protocol_defaulted: p.protocol.is_none(),
            port,
            end_port,
        });
    }
    facts::PolicyRule {
        path: base.to_string(),
        peers: out_peers,
        ports: out_ports,
        matches: Vec::new(),
        peer_paths,
        port_paths,
    }
}

/// `cidr` must parse; every `except` must parse and lie inside `cidr`.
fn check_ip_block(block: &netv1::IPBlock) -> Result<(), (String, String)> {
    let cidr: IpNet = block.cidr.parse().map_err(|_| {
        (
            "/cidr".to_string(),
            format!("invalid CIDR `{}`", block.cidr),
        )
    })?;
    let mut seen = BTreeSet::new();
    for (n, e) in block.except.iter().flatten().enumerate() {
        let except: IpNet = e.parse().map_err(|_| {
            (
                format!("/except/{n}"),
                format!("invalid CIDR `{e}` in except"),
            )
        })?;
        if !cidr.contains(&except) {
            return Err((
                format!("/except/{n}"),
                format!("except `{e}` is not inside cidr `{}`", block.cidr),
            ));
        }
        seen.insert(except);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{Inputs, LoadOptions, load};

    fn model(text: &str) -> Model {
        let loaded = load(&Inputs::new().text("t.yaml", text), &LoadOptions::default());
        let (mut model, diags) = build(&loaded, crate::NetworkPlugin::Generic);
        assert!(diags.is_empty(), "{diags:?}");
        crate::netpol::flows::resolve(&mut model, crate::NetworkPlugin::Generic);
        model
    }

    #[test]
    fn pods_a_controller_of_the_inputs_owns_fold_into_it() {
        let text = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec: {selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c, image: i}]}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web-api, namespace: shop}
spec: {selector: {matchLabels: {app: api}}, template: {metadata: {labels: {app: api}}, spec: {containers: [{name: c, image: i}]}}}
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Pod, metadata: {name: web-api-6d4cf-x, namespace: shop, labels: {app: api, pod-template-hash: 6d4cf}, ownerReferences: [{kind: ReplicaSet, name: web-api-6d4cf, controller: true}]}, spec: {containers: [{name: c, image: i}]}, status: {podIP: 10.0.0.2}}
- {apiVersion: v1, kind: Pod, metadata: {name: web-7f9b-y, namespace: shop, labels: {app: web, pod-template-hash: 7f9b}, ownerReferences: [{kind: ReplicaSet, name: web-7f9b, controller: true}]}, spec: {containers: [{name: c, image: i}]}, status: {podIP: 10.0.0.3}}
- {apiVersion: v1, kind: Pod, metadata: {name: stray, namespace: shop, labels: {app: stray}}, spec: {containers: [{name: c, image: i}]}, status: {podIP: 10.0.0.4}}
";
        let m = model(text);
        let ips: Vec<(String, Vec<String>)> = m
            .workloads
            .iter()
            .map(|w| (w.name.clone(), w.pod_ips.clone()))
            .collect();
        assert_eq!(
            ips,
            [
                ("web".to_string(), vec!["10.0.0.3".to_string()]),
                ("web-api".to_string(), vec!["10.0.0.2".to_string()]),
                ("stray".to_string(), vec!["10.0.0.4".to_string()]),
            ]
        );
    }

    #[test]
    fn flows_name_policy_rule_and_resolved_peers() {
        let demo = ["namespaces.yaml", "shop.yaml", "egress-proxy.yaml"]
            .iter()
            .map(|f| {
                std::fs::read_to_string(format!(
                    "{}/../../tests/demo/insecure/{f}",
                    env!("CARGO_MANIFEST_DIR")
                ))
                .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("\n---\n");
        let m = model(&demo);
        let web = m.workloads.iter().find(|w| w.name == "web").unwrap();
        let squid = m.workloads.iter().position(|w| w.name == "squid").unwrap();
        let policy = |f: &facts::Flow| m.network_policies[f.policy.index()].name.clone();
        let egress: Vec<(String, u32, Option<u32>)> = web
            .egress_flows
            .iter()
            .map(|f| (policy(f), f.rule, f.peer))
            .collect();
        assert_eq!(
            egress,
            [
                ("egress-via-proxy".to_string(), 0, Some(0)),
                ("egress-via-proxy".to_string(), 1, Some(0))
            ]
        );
        let rules = &m.network_policies[web.egress_flows[0].policy.index()].egress;
        let to_proxy = &rules[0].matches[0];
        assert_eq!(to_proxy.namespaces, ["egress-proxy"]);
        assert_eq!(to_proxy.workloads, [facts::WorkloadId::at(squid)]);
        // kube-dns is not in the inputs: the peer admits the namespace
        // (implied by the selector's metadata.name? no: only namespaces of
        // the inputs are listed) and matches no workload.
        assert!(rules[1].matches[0].workloads.is_empty());
        let squid_w = &m.workloads[squid];
        let squid_rule = &m.network_policies[squid_w.egress_flows[0].policy.index()].egress[0];
        assert!(matches!(squid_rule.peers[0], facts::Peer::IpBlock(_)));
    }

    #[test]
    fn host_network_workloads_are_never_isolated() {
        let m = model(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: agent, namespace: x}\nspec: {hostNetwork: true, containers: [{name: c, image: i}]}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: x}\nspec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n",
        );
        assert!(m.workloads[0].isolation.ingress.is_empty());
        assert!(m.network_policies[0].selects.is_empty());
    }
}

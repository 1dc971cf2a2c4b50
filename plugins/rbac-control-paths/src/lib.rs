//! Built-in plugin `rbac-control-paths`: only the allowed admins can reach
//! the control paths of the private-subnet architecture — who may rewrite
//! NetworkPolicies, the proxy's workloads, config and Services, RBAC itself,
//! namespace labels, admission webhooks, or act as someone else.
//!
//! The plugin asks the host "who can VERB RESOURCE here?" for every control
//! path (`facts.who-can`); the host answers with the RBAC authorizer's
//! semantics, aggregation and built-in roles included. The allowed admins
//! and the proxy's namespace are the policy set's `roles`. The plugin only
//! judges the answers.

use std::collections::BTreeMap;

use palisade_sdk::{
    AccessQuery, AccessScope, Context, Plugin, RbacBinding, RbacSubject, Rule, SettingSpec,
    SettingType, Severity, SubjectKind,
};
use serde::Deserialize;

/// Where a control path's permission counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Granted in any namespace.
    AnyNamespace,
    /// Granted in the proxy namespace.
    ProxyNamespace,
    /// Cluster-scoped resources.
    Cluster,
}

/// A permission that controls the egress path.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ControlPath {
    /// Short name used in findings.
    pub name: String,
    /// Verbs.
    pub verbs: Vec<String>,
    /// API groups (`""`: core).
    pub api_groups: Vec<String>,
    /// Resources, `resource/subresource` allowed.
    pub resources: Vec<String>,
    /// Where it counts.
    pub scope: Scope,
}

/// Settings of the `rbac-control-paths` plugin.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Settings {
    /// The control paths; default: the set in the rule documentation.
    #[serde(default = "default_control_paths")]
    pub control_paths: Vec<ControlPath>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            control_paths: default_control_paths(),
        }
    }
}

fn path(
    name: &str,
    verbs: &[&str],
    groups: &[&str],
    resources: &[&str],
    scope: Scope,
) -> ControlPath {
    let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect();
    ControlPath {
        name: name.to_string(),
        verbs: v(verbs),
        api_groups: v(groups),
        resources: v(resources),
        scope,
    }
}

const WRITE: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];

/// The control paths of the seed architecture (rule catalogue §2.2).
pub fn default_control_paths() -> Vec<ControlPath> {
    use Scope::*;
    vec![
        path(
            "networkpolicy-writes",
            WRITE,
            &["networking.k8s.io", "extensions"],
            &["networkpolicies"],
            AnyNamespace,
        ),
        // The policies beside NetworkPolicy that change pod traffic
        // (Palisade's PAL004 kinds): writing one that allows opens a way
        // around the proxy, and deleting one that restricts does too.
        path(
            "traffic-policy-writes",
            WRITE,
            &["cilium.io"],
            &[
                "ciliumnetworkpolicies",
                "ciliumclusterwidenetworkpolicies",
                "ciliumegressgatewaypolicies",
                "ciliumlocalredirectpolicies",
                "ciliumenvoyconfigs",
                "ciliumclusterwideenvoyconfigs",
            ],
            AnyNamespace,
        ),
        path(
            "traffic-policy-writes",
            WRITE,
            &["projectcalico.org", "crd.projectcalico.org"],
            &["networkpolicies", "globalnetworkpolicies"],
            AnyNamespace,
        ),
        path(
            "traffic-policy-writes",
            WRITE,
            &["policy.networking.k8s.io"],
            &[
                "adminnetworkpolicies",
                "baselineadminnetworkpolicies",
                "clusternetworkpolicies",
            ],
            AnyNamespace,
        ),
        path(
            "traffic-policy-writes",
            WRITE,
            &["networking.istio.io"],
            &["sidecars", "serviceentries", "envoyfilters"],
            AnyNamespace,
        ),
        path(
            "traffic-policy-writes",
            WRITE,
            &["security.istio.io"],
            &["authorizationpolicies", "peerauthentications"],
            AnyNamespace,
        ),
        path(
            "traffic-policy-writes",
            WRITE,
            &["policy.linkerd.io"],
            &[
                "servers",
                "authorizationpolicies",
                "serverauthorizations",
                "egressnetworks",
            ],
            AnyNamespace,
        ),
        path(
            "traffic-policy-writes",
            WRITE,
            &["crd.antrea.io"],
            &["networkpolicies", "clusternetworkpolicies", "egresses"],
            AnyNamespace,
        ),
        path(
            "traffic-policy-writes",
            WRITE,
            &["k8s.ovn.org"],
            &["egressfirewalls", "egressips"],
            AnyNamespace,
        ),
        path(
            "traffic-policy-writes",
            WRITE,
            &["network.openshift.io"],
            &["egressnetworkpolicies"],
            AnyNamespace,
        ),
        path(
            "traffic-policy-writes",
            WRITE,
            &["k8s.cni.cncf.io"],
            &["network-attachment-definitions", "multi-networkpolicies"],
            AnyNamespace,
        ),
        path(
            "traffic-policy-writes",
            WRITE,
            &["networking.gke.io"],
            &["fqdnnetworkpolicies"],
            AnyNamespace,
        ),
        path(
            "traffic-policy-writes",
            WRITE,
            &["vpcresources.k8s.aws"],
            &["securitygrouppolicies"],
            AnyNamespace,
        ),
        path(
            "proxy-pods",
            &["create", "update", "patch", "delete"],
            &[""],
            &["pods"],
            ProxyNamespace,
        ),
        path(
            "proxy-controllers",
            WRITE,
            &["apps"],
            &[
                "deployments",
                "daemonsets",
                "statefulsets",
                "replicasets",
                "deployments/scale",
                "statefulsets/scale",
                "replicasets/scale",
            ],
            ProxyNamespace,
        ),
        path(
            "proxy-config",
            WRITE,
            &[""],
            &["configmaps", "secrets"],
            ProxyNamespace,
        ),
        path(
            "proxy-services",
            WRITE,
            &[""],
            &["services", "endpoints", "serviceaccounts"],
            ProxyNamespace,
        ),
        path(
            "proxy-endpointslices",
            WRITE,
            &["discovery.k8s.io"],
            &["endpointslices"],
            ProxyNamespace,
        ),
        path(
            "proxy-exec",
            &["create", "get"],
            &[""],
            &["pods/exec", "pods/attach", "pods/portforward"],
            ProxyNamespace,
        ),
        path(
            "proxy-ephemeral-containers",
            &["update", "patch"],
            &[""],
            &["pods/ephemeralcontainers"],
            ProxyNamespace,
        ),
        path(
            "serviceaccount-tokens",
            &["create"],
            &[""],
            &["serviceaccounts/token"],
            AnyNamespace,
        ),
        path(
            "escalate-or-bind",
            &["escalate", "bind"],
            &["rbac.authorization.k8s.io"],
            &["roles", "clusterroles"],
            AnyNamespace,
        ),
        path(
            "impersonate",
            &["impersonate"],
            &[""],
            &["users", "groups", "serviceaccounts"],
            AnyNamespace,
        ),
        path(
            "rbac-writes",
            &["create", "update", "patch"],
            &["rbac.authorization.k8s.io"],
            &[
                "roles",
                "rolebindings",
                "clusterroles",
                "clusterrolebindings",
            ],
            AnyNamespace,
        ),
        path(
            "namespace-labels",
            &["update", "patch"],
            &[""],
            &["namespaces"],
            AnyNamespace,
        ),
        path(
            "admission-webhooks",
            WRITE,
            &["admissionregistration.k8s.io"],
            &[
                "validatingwebhookconfigurations",
                "mutatingwebhookconfigurations",
                "validatingadmissionpolicies",
                "validatingadmissionpolicybindings",
            ],
            Cluster,
        ),
        path(
            "node-proxy",
            &["get", "create"],
            &[""],
            &["nodes/proxy"],
            Cluster,
        ),
    ]
}

/// The plugin.
#[derive(Debug)]
pub struct RbacControlPaths;

/// For each query, the control path it belongs to.
fn query_plan(s: &Settings, proxy_namespace: &str) -> Vec<(usize, AccessQuery)> {
    let mut out = Vec::new();
    for (ci, cp) in s.control_paths.iter().enumerate() {
        let scope = match cp.scope {
            Scope::AnyNamespace => AccessScope::AnyNamespace,
            Scope::ProxyNamespace => AccessScope::Namespace(proxy_namespace.to_string()),
            Scope::Cluster => AccessScope::Cluster,
        };
        for group in &cp.api_groups {
            for resource in &cp.resources {
                let (resource, sub) = match resource.split_once('/') {
                    Some((r, sub)) => (r.to_string(), Some(sub.to_string())),
                    None => (resource.clone(), None),
                };
                for verb in &cp.verbs {
                    out.push((
                        ci,
                        AccessQuery {
                            verb: verb.clone(),
                            api_group: group.clone(),
                            resource: resource.clone(),
                            subresource: sub.clone(),
                            name: None,
                            non_resource_url: None,
                            scope: scope.clone(),
                        },
                    ));
                }
            }
        }
    }
    out
}

impl Plugin for RbacControlPaths {
    const ID: &'static str = "rbac-control-paths";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Only the allowed admins can change what guards egress: \
        NetworkPolicies, the proxy's workloads, config and Services, RBAC, namespace labels, \
        admission webhooks, impersonation and tokens.";
    type Settings = Settings;
    const SETTINGS: &'static [SettingSpec] = &[SettingSpec {
        name: "controlPaths",
        kind: SettingType::Structured,
        doc: "The control paths, a list of {name, verbs, apiGroups, resources, scope: any-namespace | proxy-namespace | cluster} (default: the set in RB001's documentation)",
    }];
    const RULES: &'static [Rule<Settings>] = &[RB001, RB002, RB003, RB004, RB005, RB006];
}

palisade_sdk::export_plugin!(RbacControlPaths);

/// `system:masters`, or one of the policy set's admins.
fn allowed(admins: &[RbacSubject], subject: &RbacSubject) -> bool {
    subject.kind == SubjectKind::Group && subject.name == "system:masters"
        || admins.iter().any(|a| {
            a.kind == subject.kind
                && a.name == subject.name
                && (a.kind != SubjectKind::ServiceAccount || a.namespace == subject.namespace)
        })
}

fn describe(subject: &RbacSubject) -> String {
    match &subject.namespace {
        Some(ns) => format!("{} `{ns}/{}`", subject.kind, subject.name),
        None => format!("{} `{}`", subject.kind, subject.name),
    }
}

fn binding_name(b: &RbacBinding) -> String {
    match &b.namespace {
        Some(ns) => format!("{} {ns}/{}", b.kind_name(), b.name),
        None => format!("{} {}", b.kind_name(), b.name),
    }
}

/// Subject → binding → control paths reached, each with the role and rule
/// of its first grant.
type Reach =
    BTreeMap<(SubjectKind, String, Option<String>), BTreeMap<u32, Vec<(String, u32, u32)>>>;

fn reach(cx: &Context<'_, Settings>) -> Reach {
    let s = cx.settings();
    let plan = query_plan(s, &cx.facts().proxy().pods.namespace);
    let mut out: Reach = BTreeMap::new();
    for (ci, query) in &plan {
        let Some(cp) = s.control_paths.get(*ci) else {
            continue;
        };
        for g in &cx.facts().who_can(query) {
            let key = (
                g.subject.kind,
                g.subject.name.clone(),
                g.subject.namespace.clone(),
            );
            let paths = out.entry(key).or_default().entry(g.binding).or_default();
            if !paths.iter().any(|(p, _, _)| *p == cp.name) {
                paths.push((cp.name.clone(), g.role, g.rule));
            }
        }
    }
    out
}

/// `ClusterRole edit rule 11`, and for a rule with resourceNames the
/// objects it is limited to.
fn grant(cx: &Context<'_, Settings>, role: u32, rule: u32) -> String {
    let granting = cx.facts().rbac_roles().get(role as usize);
    let role_name = granting
        .map(|r| format!("{} {}", r.kind, r.name))
        .unwrap_or_default();
    let only = granting
        .and_then(|r| r.rules.get(rule as usize))
        .filter(|r| !r.resource_names.is_empty())
        .map(|r| {
            let names: Vec<String> = r.resource_names.iter().map(|n| format!("`{n}`")).collect();
            format!(" (only the objects named {})", names.join(", "))
        })
        .unwrap_or_default();
    format!("{role_name} rule {rule}{only}")
}

fn subject_index(
    b: &RbacBinding,
    kind: SubjectKind,
    name: &str,
    ns: &Option<String>,
) -> Option<usize> {
    b.subjects
        .iter()
        .position(|x| x.kind == kind && x.name == name && x.namespace == *ns)
}

const RB001: Rule<Settings> = Rule {
    id: "RB001",
    name: "control-path-granted",
    default_severity: Severity::Error,
    summary: "A subject outside the allowed admins can change what guards egress",
    doc: r#"## What it checks

For every control path — NetworkPolicy writes in any namespace; writes in
any namespace to the policies beside it that can open traffic
(`traffic-policy-writes`: the kinds of Palisade's PAL004 — Cilium, Calico,
Antrea and upstream admin policies, Istio and Linkerd policy objects, egress
firewalls and egress IPs, Multus attachments, GKE FQDN and EKS security-group
policies; deleting one that restricts opens traffic too); writes to the proxy namespace's pods, workload controllers, ConfigMaps, Secrets, Services,
Endpoints, EndpointSlices and ServiceAccounts; `pods/exec`, `attach`,
`portforward` and ephemeral containers there; `serviceaccounts/token`
creation; `escalate` and `bind` on roles; impersonation; role and binding
writes; namespace label changes; admission webhook configurations;
`nodes/proxy` — the host answers "who can?" with the RBAC authorizer's
semantics (aggregation and the built-in `admin`/`edit`/`view` roles
included). Every subject outside the policy set's `roles.admins` (and
`system:masters`) that can is reported, once per binding, with the control
paths it reaches.

A rule restricted by `resourceNames` counts only where a request names its
object when it is authorized: never for `create` or `deletecollection` (the
name of an object being created is not known then), for the other verbs as a
path to the named objects only, which the finding lists.

## Why it matters

A team holding the built-in `edit` role in its namespace can rewrite its own
NetworkPolicies and reopen egress; whoever can exec into the proxy or edit its
ConfigMap controls the one exit.

## Example

```yaml
kind: RoleBinding
metadata: {name: shop-devs, namespace: shop}
roleRef: {kind: ClusterRole, name: edit}      # edit can write networkpolicies
subjects: [{kind: Group, name: shop-devs}]
```

## How to fix

Bind teams to a role without the control-path permissions (a copy of `edit`
without `networkpolicies`), or add the subject to the policy set's
`roles.admins` if it is a platform admin.

## Settings

`controlPaths` (list of `{name, verbs, apiGroups, resources, scope:
any-namespace | proxy-namespace | cluster}`). The admins
(`{kind, name, namespace}`) and the proxy's namespace are the policy set's
`roles.admins` and `roles.proxy.namespace`.
"#,
    check: |cx, out| {
        let admins = cx.facts().admins();
        for ((kind, name, ns), bindings) in reach(cx) {
            let subject = RbacSubject {
                kind,
                name: name.clone(),
                namespace: ns.clone(),
            };
            if allowed(admins, &subject) {
                continue;
            }
            for (bi, paths) in bindings {
                let Some(b) = cx.facts().rbac_bindings().get(bi as usize) else {
                    continue;
                };
                // Paths granted by one rule are named together, each group
                // with the role and rule that grant it.
                let mut groups: Vec<((u32, u32), Vec<&str>)> = Vec::new();
                for (path, role, rule) in &paths {
                    match groups.iter_mut().find(|(k, _)| *k == (*role, *rule)) {
                        Some((_, names)) => names.push(path),
                        None => groups.push(((*role, *rule), vec![path])),
                    }
                }
                let grants: Vec<String> = groups
                    .iter()
                    .map(|((role, rule), names)| {
                        format!("{} -> {}", names.join(", "), grant(cx, *role, *rule))
                    })
                    .collect();
                let at = subject_index(b, kind, &name, &ns)
                    .map_or("/subjects".to_string(), |i| format!("/subjects/{i}"));
                out.report(
                    b.object,
                    format!(
                        "{} reaches control path{} through {}: {}",
                        describe(&subject),
                        if paths.len() == 1 { "" } else { "s" },
                        binding_name(b),
                        grants.join("; ")
                    ),
                )
                .at(at)
                .fix("bind a role without these permissions, or list the subject in the policy set's roles.admins if it is a platform admin");
            }
        }
    },
};

const RB002: Rule<Settings> = Rule {
    id: "RB002",
    name: "workload-account-on-control-path",
    default_severity: Severity::Error,
    summary: "A workload runs as a service account that can change what guards egress",
    doc: r#"## What it checks

Workloads whose service account (directly, or through the
`system:serviceaccounts[:namespace]` groups) reaches a control path (see
RB001), unless the account is in the policy set's `roles.admins`.

## Why it matters

A compromised pod holds its service account's token: if that account can
patch NetworkPolicies or the proxy, one exploited workload reopens egress.

## Example

```yaml
kind: Deployment
spec: {template: {spec: {serviceAccountName: deployer}}}   # deployer can update the squid ConfigMap
```

## How to fix

Give the workload its own service account without control-path permissions.

## Settings

As RB001.
"#,
    check: |cx, out| {
        let admins = cx.facts().admins();
        let reached = reach(cx);
        for w in cx.workloads() {
            // The host gives the identities the pods act as: the service
            // account and the groups it belongs to.
            let Some(sa) = w.identities.first() else {
                continue;
            };
            if allowed(admins, sa) {
                continue;
            }
            let keys: Vec<(SubjectKind, String, Option<String>)> = w
                .identities
                .iter()
                .map(|i| (i.kind, i.name.clone(), i.namespace.clone()))
                .collect();
            let mut paths: Vec<String> = Vec::new();
            let mut via: Vec<String> = Vec::new();
            for k in &keys {
                if let Some(bindings) = reached.get(k) {
                    for (bi, ps) in bindings {
                        for (p, _, _) in ps {
                            if !paths.contains(p) {
                                paths.push(p.clone());
                            }
                        }
                        if let Some(b) = cx.facts().rbac_bindings().get(*bi as usize) {
                            via.push(binding_name(b));
                        }
                    }
                }
            }
            if paths.is_empty() {
                continue;
            }
            out.report(
                w.object,
                format!(
                    "{} `{}/{}` runs as service account `{}`, which reaches control path{} {} (via {})",
                    w.kind,
                    w.namespace,
                    w.name,
                    w.service_account,
                    if paths.len() == 1 { "" } else { "s" },
                    paths.join(", "),
                    via.join(", ")
                ),
            )
            .at(format!("{}/serviceAccountName", w.pod_spec_path))
            .fix("run the workload as a dedicated service account without control-path permissions");
        }
    },
};

const RB003: Rule<Settings> = Rule {
    id: "RB003",
    name: "wildcard-rule",
    default_severity: Severity::Warning,
    summary: "A Role or ClusterRole rule with `*` in verbs, resources or apiGroups",
    doc: r#"## What it checks

Every rule of every Role and ClusterRole in the inputs (not only the first)
whose verbs, resources or apiGroups contain `*`.

## Why it matters

Wildcards grant resources and verbs that do not exist yet, including future
CRDs that may control egress (CNI policy CRDs, mesh resources).

## Example

```yaml
rules:
  - {apiGroups: ["*"], resources: ["*"], verbs: ["get"]}
```

## How to fix

Enumerate the groups, resources and verbs needed.

## Settings

None.
"#,
    check: |cx, out| {
        for role in cx.facts().rbac_roles() {
            let Some(object) = role.object else { continue };
            let Some(obj) = cx.object(object) else {
                continue;
            };
            if !cx.in_scope(obj.namespace.as_deref().unwrap_or("")) {
                continue;
            }
            for (i, r) in role.rules.iter().enumerate() {
                let mut fields = Vec::new();
                if r.verbs.iter().any(|v| v == "*") {
                    fields.push("verbs");
                }
                if r.resources.iter().any(|v| v == "*") {
                    fields.push("resources");
                }
                if r.api_groups.iter().any(|v| v == "*") {
                    fields.push("apiGroups");
                }
                if fields.is_empty() {
                    continue;
                }
                out.report(
                    object,
                    format!(
                        "{} `{}` rule {i} uses `*` in {}",
                        role.kind,
                        role.name,
                        fields.join(", ")
                    ),
                )
                .at(format!("/rules/{i}"))
                .fix("enumerate the API groups, resources and verbs needed");
            }
        }
    },
};

const BROAD_GROUPS: &[&str] = &[
    "system:authenticated",
    "system:unauthenticated",
    "system:serviceaccounts",
];

const RB004: Rule<Settings> = Rule {
    id: "RB004",
    name: "binding-to-everyone",
    default_severity: Severity::Error,
    summary: "A binding to system:authenticated, system:unauthenticated or a whole service-account group",
    doc: r#"## What it checks

Bindings whose subjects include the groups `system:authenticated`,
`system:unauthenticated`, `system:serviceaccounts` or
`system:serviceaccounts:<namespace>`.

## Why it matters

These groups are "everyone" (in the cluster, on the network, or every pod of
a namespace): the role is granted to any compromised workload.

## Example

```yaml
subjects:
  - {kind: Group, name: system:serviceaccounts:shop}
```

## How to fix

Bind named users, groups or service accounts.

## Settings

None.
"#,
    check: |cx, out| {
        for b in cx.facts().rbac_bindings() {
            for (i, s) in b.subjects.iter().enumerate() {
                let broad = s.kind == SubjectKind::Group
                    && (BROAD_GROUPS.contains(&s.name.as_str())
                        || s.name.starts_with("system:serviceaccounts:"));
                if broad {
                    out.report(
                        b.object,
                        format!(
                            "{} grants {} to group `{}`: everyone in it holds the role",
                            binding_name(b),
                            b.role_name,
                            s.name
                        ),
                    )
                    .at(format!("/subjects/{i}"))
                    .fix("bind named users, groups or service accounts instead");
                }
            }
        }
    },
};

const RB005: Rule<Settings> = Rule {
    id: "RB005",
    name: "default-service-account-bound",
    default_severity: Severity::Warning,
    summary: "A binding grants a role to a namespace's `default` service account",
    doc: r#"## What it checks

Bindings with a ServiceAccount subject named `default`.

## Why it matters

Every pod that does not name a service account runs as `default`: a role
bound to it is held by all of them.

## Example

```yaml
subjects: [{kind: ServiceAccount, name: default, namespace: shop}]
```

## How to fix

Create a dedicated service account for the workload that needs the role.

## Settings

None.
"#,
    check: |cx, out| {
        for b in cx.facts().rbac_bindings() {
            for (i, s) in b.subjects.iter().enumerate() {
                if s.kind == SubjectKind::ServiceAccount && s.name == "default" {
                    out.report(
                        b.object,
                        format!(
                            "{} grants {} to the `default` service account of namespace `{}`",
                            binding_name(b),
                            b.role_name,
                            s.namespace.as_deref().unwrap_or("?")
                        ),
                    )
                    .at(format!("/subjects/{i}"))
                    .fix("bind a dedicated service account instead");
                }
            }
        }
    },
};

const RB006: Rule<Settings> = Rule {
    id: "RB006",
    name: "token-automounted-with-grants",
    default_severity: Severity::Warning,
    summary: "A workload automounts the token of a service account that holds RBAC grants",
    doc: r#"## What it checks

Workloads whose service account is a subject of some binding while neither the
pod spec nor the ServiceAccount sets `automountServiceAccountToken: false`.

## Why it matters

The token is mounted into every container: code execution in the pod is
enough to use the account's permissions.

## Example

```yaml
spec:
  serviceAccountName: deployer     # bound to a Role
  # automountServiceAccountToken not set
```

## How to fix

Set `automountServiceAccountToken: false` and mount a projected token only
where the application calls the API.

## Settings

None.
"#,
    check: |cx, out| {
        // Service account (namespace, name) -> the bindings naming it, in
        // binding order: one pass over the bindings, not one per workload.
        let mut bound_by_account: BTreeMap<(&str, &str), Vec<String>> = BTreeMap::new();
        for b in cx.facts().rbac_bindings() {
            let mut accounts: Vec<(&str, &str)> = b
                .subjects
                .iter()
                .filter(|s| s.kind == SubjectKind::ServiceAccount)
                .filter_map(|s| Some((s.namespace.as_deref()?, s.name.as_str())))
                .collect();
            accounts.sort_unstable();
            accounts.dedup();
            for account in accounts {
                bound_by_account
                    .entry(account)
                    .or_default()
                    .push(binding_name(b));
            }
        }
        for w in cx.workloads() {
            // Whether a token is mounted: the pod spec's setting, else the
            // ServiceAccount's, as the host reads them.
            if !w.token_mounted {
                continue;
            }
            let Some(bound) =
                bound_by_account.get(&(w.namespace.as_str(), w.service_account.as_str()))
            else {
                continue;
            };
            out.report(
                w.object,
                format!(
                    "{} `{}/{}` automounts the token of service account `{}`, which {} binds",
                    w.kind,
                    w.namespace,
                    w.name,
                    w.service_account,
                    bound.join(", ")
                ),
            )
            .at(w.pod_spec_path.clone())
            .fix("set automountServiceAccountToken: false in the pod spec");
        }
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_query_maps_back_to_a_control_path() {
        let s = Settings::default();
        let plan = query_plan(&s, "egress-proxy");
        assert!(plan.iter().all(|(ci, _)| *ci < s.control_paths.len()));
        assert!(
            plan.iter()
                .any(|(_, q)| q.scope == AccessScope::Namespace("egress-proxy".to_string()))
        );
        // Subresources are split off the resource.
        assert!(
            plan.iter()
                .any(|(_, q)| q.resource == "pods" && q.subresource.as_deref() == Some("exec"))
        );
    }

    #[test]
    fn system_masters_and_listed_subjects_are_allowed() {
        let g = |n: &str| RbacSubject {
            kind: SubjectKind::Group,
            name: n.into(),
            namespace: None,
        };
        let admins = vec![g("platform")];
        assert!(allowed(&admins, &g("system:masters")));
        assert!(allowed(&admins, &g("platform")));
        assert!(!allowed(&admins, &g("shop-devs")));
    }

    #[test]
    fn the_rule_table_is_well_formed() {
        assert_eq!(
            palisade_sdk::testing::rule_table_problems::<RbacControlPaths>(),
            Vec::<String>::new()
        );
    }
}

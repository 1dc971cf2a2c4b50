//! RBAC semantics, exactly as the upstream authorizer evaluates them
//! (`plugin/pkg/auth/authorizer/rbac`, `pkg/registry/rbac/validation`):
//! ClusterRoleBindings first, then RoleBindings of the request's namespace;
//! the first rule that allows wins; otherwise no opinion (never an explicit
//! deny). Verbs are case-sensitive; `*` in resources covers subresources;
//! `*/scale` matches any resource's `scale`; `pods/*` is literal;
//! resourceNames restrict by exact name; nonResourceURLs match exactly or by
//! prefix before a trailing `*`. ClusterRole aggregation is resolved as the
//! controller does it (selectors ORed, matching roles sorted by name, rules
//! de-duplicated), to a fixed point. A RoleBinding to a ClusterRole grants
//! its rules only inside the binding's namespace. ServiceAccount subjects
//! default to the RoleBinding's namespace.

use std::collections::BTreeMap;

use k8s_openapi::api::rbac::v1 as rbacv1;
use serde::Serialize;

use crate::input::{Inputs, LoadOptions, Object, load};

pub mod resources;
use crate::model::selector;
use crate::report::Diagnostic;

/// Built-in ClusterRoles (cluster-admin, admin, edit, view and their
/// aggregation sources).
const BUILTIN_ROLES: &str = include_str!("builtin-clusterroles.yaml");

/// One PolicyRule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RbacRule {
    /// Verbs (case-sensitive; `*` for all).
    pub verbs: Vec<String>,
    /// API groups (`""` is the core group).
    pub api_groups: Vec<String>,
    /// Resources, `resource/subresource`, `*`, `*/sub`.
    pub resources: Vec<String>,
    /// Names the rule is restricted to (empty: any).
    pub resource_names: Vec<String>,
    /// Non-resource URLs (exact, or a prefix ending in `*`).
    #[serde(rename = "nonResourceURLs")]
    pub non_resource_urls: Vec<String>,
}

impl RbacRule {
    fn from_api(r: &rbacv1::PolicyRule) -> RbacRule {
        RbacRule {
            verbs: r.verbs.clone(),
            api_groups: r.api_groups.clone().unwrap_or_default(),
            resources: r.resources.clone().unwrap_or_default(),
            resource_names: r.resource_names.clone().unwrap_or_default(),
            non_resource_urls: r.non_resource_urls.clone().unwrap_or_default(),
        }
    }

    /// `RuleAllows`: for resource requests verb, group, resource and name
    /// must match; for non-resource requests verb and URL.
    pub fn allows(&self, req: &Request) -> bool {
        let verb_ok = self.verbs.iter().any(|v| v == "*" || *v == req.verb);
        if !verb_ok {
            return false;
        }
        if let Some(url) = &req.non_resource_url {
            return self.non_resource_urls.iter().any(|u| {
                u == "*" || u == url || u.strip_suffix('*').is_some_and(|p| url.starts_with(p))
            });
        }
        let group_ok = self
            .api_groups
            .iter()
            .any(|g| g == "*" || *g == req.api_group);
        let combined = match &req.subresource {
            Some(sub) => format!("{}/{sub}", req.resource),
            None => req.resource.clone(),
        };
        let resource_ok = self.resources.iter().any(|r| {
            r == "*"
                || *r == combined
                || (req
                    .subresource
                    .as_ref()
                    .is_some_and(|sub| r.strip_prefix("*/").is_some_and(|s| s == sub)))
        });
        let name_ok = self.resource_names.is_empty()
            || (req.any_name && names_at_authorization(req))
            || req
                .name
                .as_ref()
                .is_some_and(|n| self.resource_names.contains(n));
        group_ok && resource_ok && name_ok
    }
}

/// Whether a request of this verb carries the object's name when it is
/// authorized, so that a `resourceNames` rule can grant it (for "some object
/// of the kind" questions). The RBAC documentation: `create` (of the object
/// itself — a subresource such as `pods/exec` names its parent) and
/// `deletecollection` carry none, so such rules never grant them; `list` and
/// `watch` carry one when the client sends a `metadata.name` field selector,
/// a narrow but real path to the named objects, like `get`, `update`,
/// `patch` and `delete`.
fn names_at_authorization(req: &Request) -> bool {
    match req.verb.as_str() {
        "create" => req.subresource.is_some(),
        "deletecollection" => false,
        _ => true,
    }
}

/// A role after aggregation.
#[derive(Debug, Clone)]
pub struct Role {
    pub kind: &'static str,
    pub namespace: Option<String>,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub rules: Vec<RbacRule>,
    aggregation: Vec<crate::facts::LabelSelector>,
    /// Source object in the inputs; `None` for built-in roles.
    pub object: Option<usize>,
}

/// A subject of a binding, with ServiceAccount namespaces defaulted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Subject {
    /// `User`, `Group` or `ServiceAccount`.
    pub kind: String,
    /// The name.
    pub name: String,
    /// For ServiceAccounts: the namespace (defaulted to the RoleBinding's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// A binding.
#[derive(Debug, Clone)]
pub struct Binding {
    pub kind: &'static str,
    pub namespace: Option<String>,
    pub name: String,
    pub role_kind: String,
    pub role_name: String,
    /// Subjects as they apply (ServiceAccounts without a namespace in a
    /// ClusterRoleBinding are dropped: they never match).
    pub subjects: Vec<Subject>,
    pub object: usize,
}

/// An access request, as the API server authorizes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    pub user: String,
    pub groups: Vec<String>,
    pub verb: String,
    pub api_group: String,
    pub resource: String,
    pub subresource: Option<String>,
    /// Empty: a cluster-scoped request.
    pub namespace: String,
    pub name: Option<String>,
    pub non_resource_url: Option<String>,
    /// Who-can for some object of the kind: rules restricted by
    /// resourceNames count too (they grant those objects).
    pub any_name: bool,
}

/// What grants a request: binding, role and rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    /// `RoleBinding namespace/name` or `ClusterRoleBinding name`.
    pub binding: String,
    /// `Role namespace/name` or `ClusterRole name`.
    pub role: String,
    /// Index of the rule in the role (after aggregation).
    pub rule_index: usize,
    /// The rule.
    pub rule: RbacRule,
    /// Where the grant applies: a namespace, or `None` for everywhere.
    pub namespace: Option<String>,
    #[serde(skip)]
    pub binding_object: usize,
    #[serde(skip)]
    pub role_object: Option<usize>,
}

/// Roles and bindings of the inputs (plus the built-in ClusterRoles).
#[derive(Debug, Default)]
pub struct Rbac {
    pub roles: Vec<Role>,
    pub bindings: Vec<Binding>,
}

/// Problems as (JSON pointer into the object, message).
type Problems = Vec<(String, String)>;

/// `typed` with each message prefixed by what was being read.
fn typed<T: serde::de::DeserializeOwned>(obj: &Object, what: &str) -> Result<T, Problems> {
    crate::model::typed(&obj.value).map_err(|errors| {
        errors
            .into_iter()
            .map(|(at, e)| (at, format!("invalid {what}: {e}")))
            .collect()
    })
}

fn role_from(obj: &Object, index: Option<usize>) -> Result<Option<Role>, Problems> {
    let api = obj.id.api_version == "rbac.authorization.k8s.io/v1";
    match obj.id.kind.as_str() {
        "ClusterRole" if api => {
            let r: rbacv1::ClusterRole = typed(obj, "ClusterRole")?;
            let mut aggregation = Vec::new();
            for sel in r
                .aggregation_rule
                .as_ref()
                .and_then(|a| a.cluster_role_selectors.as_ref())
                .into_iter()
                .flatten()
            {
                aggregation.push(
                    selector::normalize(sel)
                        .map_err(|e| vec![("/aggregationRule".to_string(), e)])?,
                );
            }
            Ok(Some(Role {
                kind: "ClusterRole",
                namespace: None,
                name: obj.id.name.clone(),
                labels: crate::model::labels_at(&obj.value, &["metadata", "labels"]),
                rules: r.rules.iter().flatten().map(RbacRule::from_api).collect(),
                aggregation,
                object: index,
            }))
        }
        "Role" if api => {
            let r: rbacv1::Role = typed(obj, "Role")?;
            Ok(Some(Role {
                kind: "Role",
                namespace: obj.id.namespace.clone(),
                name: obj.id.name.clone(),
                labels: crate::model::labels_at(&obj.value, &["metadata", "labels"]),
                rules: r.rules.iter().flatten().map(RbacRule::from_api).collect(),
                aggregation: Vec::new(),
                object: index,
            }))
        }
        _ => Ok(None),
    }
}

fn subjects(list: &[rbacv1::Subject], binding_ns: Option<&str>) -> Vec<Subject> {
    list.iter()
        .filter_map(|s| match s.kind.as_str() {
            "User" | "Group" => Some(Subject {
                kind: s.kind.clone(),
                name: s.name.clone(),
                namespace: None,
            }),
            "ServiceAccount" => {
                let ns = s
                    .namespace
                    .clone()
                    .filter(|n| !n.is_empty())
                    .or_else(|| binding_ns.map(str::to_string))?;
                Some(Subject {
                    kind: s.kind.clone(),
                    name: s.name.clone(),
                    namespace: Some(ns),
                })
            }
            _ => None,
        })
        .collect()
}

/// The built-in ClusterRoles, parsed once per process.
fn builtin_roles() -> &'static [Role] {
    static ROLES: std::sync::OnceLock<Vec<Role>> = std::sync::OnceLock::new();
    ROLES.get_or_init(|| {
        let loaded = load(
            &Inputs::new().text("<builtin>/clusterroles.yaml", BUILTIN_ROLES),
            &LoadOptions::default(),
        );
        loaded
            .objects
            .iter()
            .filter_map(|obj| role_from(obj, None).ok().flatten())
            .collect()
    })
}

impl Rbac {
    /// Collects roles and bindings; with `builtin`, the built-in
    /// ClusterRoles are known (a ClusterRole of the same name in the inputs
    /// replaces one). Aggregation is resolved.
    pub fn build(
        objects: &[Object],
        builtin: bool,
        loaded: &crate::input::Loaded,
    ) -> (Rbac, Vec<Diagnostic>) {
        let mut rbac = Rbac::default();
        let mut diags = Vec::new();
        for (i, obj) in objects.iter().enumerate() {
            match role_from(obj, Some(i)) {
                Ok(Some(r)) => rbac.roles.push(r),
                Ok(None) => {}
                Err(problems) => diags.extend(
                    problems
                        .into_iter()
                        .map(|(at, m)| Diagnostic::input(m, loaded.locate(obj, Some(&at)))),
                ),
            }
            let api = obj.id.api_version == "rbac.authorization.k8s.io/v1";
            let binding = match obj.id.kind.as_str() {
                "RoleBinding" if api => typed::<rbacv1::RoleBinding>(obj, "RoleBinding")
                    .map(|b| (b.role_ref, b.subjects.unwrap_or_default(), "RoleBinding")),
                "ClusterRoleBinding" if api => {
                    typed::<rbacv1::ClusterRoleBinding>(obj, "ClusterRoleBinding").map(|b| {
                        (
                            b.role_ref,
                            b.subjects.unwrap_or_default(),
                            "ClusterRoleBinding",
                        )
                    })
                }
                _ => continue,
            };
            match binding {
                Ok((role_ref, subs, kind)) => {
                    let ns = if kind == "RoleBinding" {
                        obj.id.namespace.clone()
                    } else {
                        None
                    };
                    rbac.bindings.push(Binding {
                        kind,
                        subjects: subjects(&subs, ns.as_deref()),
                        namespace: ns,
                        name: obj.id.name.clone(),
                        role_kind: role_ref.kind,
                        role_name: role_ref.name,
                        object: i,
                    });
                }
                Err(problems) => diags.extend(
                    problems
                        .into_iter()
                        .map(|(at, m)| Diagnostic::input(m, loaded.locate(obj, Some(&at)))),
                ),
            }
        }
        if builtin {
            for role in builtin_roles() {
                if !rbac
                    .roles
                    .iter()
                    .any(|r| r.kind == "ClusterRole" && r.name == role.name)
                {
                    rbac.roles.push(role.clone());
                }
            }
        }
        rbac.aggregate();
        (rbac, diags)
    }

    /// Resolves ClusterRole aggregation to a fixed point: each aggregated
    /// role gets, per selector, the rules of the matching ClusterRoles
    /// (sorted by name, itself skipped, duplicates dropped).
    fn aggregate(&mut self) {
        for _ in 0..=self.roles.len() {
            let mut changed = false;
            for i in 0..self.roles.len() {
                let Some(role) = self.roles.get(i) else {
                    continue;
                };
                if role.aggregation.is_empty() {
                    continue;
                }
                let mut sources: Vec<&Role> = self
                    .roles
                    .iter()
                    .filter(|r| {
                        r.kind == "ClusterRole"
                            && r.name != role.name
                            && role
                                .aggregation
                                .iter()
                                .any(|s| selector::matches(s, &r.labels))
                    })
                    .collect();
                sources.sort_by(|a, b| a.name.cmp(&b.name));
                let mut rules: Vec<RbacRule> = Vec::new();
                for s in sources {
                    for r in &s.rules {
                        if !rules.contains(r) {
                            rules.push(r.clone());
                        }
                    }
                }
                if rules != role.rules {
                    changed = true;
                    if let Some(role) = self.roles.get_mut(i) {
                        role.rules = rules;
                    }
                }
            }
            if !changed {
                break;
            }
        }
    }

    fn role_of(&self, b: &Binding) -> Option<&Role> {
        self.role_index(b).and_then(|i| self.roles.get(i))
    }

    fn applies(s: &Subject, user: &str, groups: &[String]) -> bool {
        match s.kind.as_str() {
            "User" => s.name == user,
            "Group" => groups.contains(&s.name),
            "ServiceAccount" => s.namespace.as_ref().is_some_and(|ns| {
                user.strip_prefix("system:serviceaccount:")
                    .and_then(|rest| rest.split_once(':'))
                    .is_some_and(|(n, name)| n == ns && name == s.name)
            }),
            _ => false,
        }
    }

    /// Bindings that count for a request in `namespace` (empty: cluster
    /// scope): every ClusterRoleBinding, then the namespace's RoleBindings.
    fn relevant<'a>(&'a self, namespace: &'a str) -> impl Iterator<Item = &'a Binding> + 'a {
        let cluster = self
            .bindings
            .iter()
            .filter(|b| b.kind == "ClusterRoleBinding");
        let local = self.bindings.iter().filter(move |b| {
            b.kind == "RoleBinding"
                && !namespace.is_empty()
                && b.namespace.as_deref() == Some(namespace)
        });
        cluster.chain(local)
    }

    fn grant(&self, b: &Binding, role: &Role, i: usize, rule: &RbacRule) -> Grant {
        Grant {
            binding: match &b.namespace {
                Some(ns) => format!("{} {ns}/{}", b.kind, b.name),
                None => format!("{} {}", b.kind, b.name),
            },
            role: match &role.namespace {
                Some(ns) => format!("{} {ns}/{}", role.kind, role.name),
                None => format!("{} {}", role.kind, role.name),
            },
            rule_index: i,
            rule: rule.clone(),
            namespace: b.namespace.clone(),
            binding_object: b.object,
            role_object: role.object,
        }
    }

    /// Whether the request is allowed, and by what (the first grant in the
    /// authorizer's order). `system:masters` bypasses RBAC.
    pub fn allowed(&self, req: &Request) -> Option<Grant> {
        if req.groups.iter().any(|g| g == "system:masters") {
            return Some(Grant {
                binding: "group system:masters (bypasses RBAC)".into(),
                role: "-".into(),
                rule_index: 0,
                rule: RbacRule {
                    verbs: vec!["*".into()],
                    api_groups: vec!["*".into()],
                    resources: vec!["*".into()],
                    resource_names: Vec::new(),
                    non_resource_urls: vec!["*".into()],
                },
                namespace: None,
                binding_object: usize::MAX,
                role_object: None,
            });
        }
        let ns = if req.non_resource_url.is_some() {
            ""
        } else {
            req.namespace.as_str()
        };
        for b in self.relevant(ns) {
            if !b
                .subjects
                .iter()
                .any(|s| Self::applies(s, &req.user, &req.groups))
            {
                continue;
            }
            let Some(role) = self.role_of(b) else {
                continue;
            };
            if let Some((i, rule)) = role.rules.iter().enumerate().find(|(_, r)| r.allows(req)) {
                return Some(self.grant(b, role, i, rule));
            }
        }
        None
    }

    /// Every subject that can make the request, with every grant. With
    /// `any_namespace`, RoleBindings of every namespace count (each grant
    /// says where it applies); otherwise only those of `req.namespace`.
    pub fn who_can(&self, req: &Request, any_namespace: bool) -> Vec<(Subject, Grant)> {
        self.who_can_indexed(req, any_namespace)
            .into_iter()
            .filter_map(|(s, b, r, i)| {
                let binding = self.bindings.get(b)?;
                let role = self.roles.get(r)?;
                let rule = role.rules.get(i)?;
                Some((s, self.grant(binding, role, i, rule)))
            })
            .collect()
    }

    /// [`who_can`](Self::who_can) as indices: (subject, binding, role, rule).
    pub fn who_can_indexed(
        &self,
        req: &Request,
        any_namespace: bool,
    ) -> Vec<(Subject, usize, usize, usize)> {
        let mut out = Vec::new();
        for (bi, b) in self.bindings.iter().enumerate() {
            let counts = match b.kind {
                "ClusterRoleBinding" => true,
                _ if req.non_resource_url.is_some() => false,
                _ => {
                    any_namespace
                        || (!req.namespace.is_empty()
                            && b.namespace.as_deref() == Some(req.namespace.as_str()))
                }
            };
            if !counts {
                continue;
            }
            let Some(ri) = self.role_index(b) else {
                continue;
            };
            let Some(role) = self.roles.get(ri) else {
                continue;
            };
            let mut scoped = req.clone();
            if any_namespace && b.kind == "RoleBinding" {
                scoped.namespace = b.namespace.clone().unwrap_or_default();
            }
            if let Some(i) = role.rules.iter().position(|rule| rule.allows(&scoped)) {
                for s in &b.subjects {
                    out.push((s.clone(), bi, ri, i));
                }
            }
        }
        out.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        out
    }

    /// Index of the role a binding references.
    pub fn role_index(&self, b: &Binding) -> Option<usize> {
        self.roles.iter().position(|r| {
            r.name == b.role_name
                && match b.role_kind.as_str() {
                    "ClusterRole" => r.kind == "ClusterRole",
                    "Role" => r.kind == "Role" && r.namespace == b.namespace,
                    _ => false,
                }
        })
    }
}

#[cfg(test)]
mod tests;

/// An access request: who, what verb, on what. Empty strings mean "not
/// set", as in `kubectl auth can-i`; a non-empty `nonResourceURL` makes it a
/// non-resource request.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessRequest {
    /// User name (`system:serviceaccount:NS:NAME` for a service account).
    #[serde(default)]
    pub user: String,
    /// The user's groups.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Verb (case-sensitive).
    #[serde(default)]
    pub verb: String,
    /// API group (`""`: core).
    #[serde(default)]
    pub api_group: String,
    /// Resource (plural).
    #[serde(default)]
    pub resource: String,
    /// Subresource.
    #[serde(default)]
    pub subresource: String,
    /// Namespace (`""`: cluster scope).
    #[serde(default)]
    pub namespace: String,
    /// Object name.
    #[serde(default)]
    pub name: String,
    /// Non-resource URL.
    #[serde(default, rename = "nonResourceURL")]
    pub non_resource_url: String,
}

impl AccessRequest {
    fn to_request(&self) -> Request {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let mut namespace = self.namespace.clone();
        // The API server authorizes requests on a namespace object in that
        // namespace.
        if namespace.is_empty() && self.api_group.is_empty() && self.resource == "namespaces" {
            namespace = self.name.clone();
        }
        Request {
            user: self.user.clone(),
            groups: self.groups.clone(),
            verb: self.verb.clone(),
            api_group: self.api_group.clone(),
            resource: self.resource.clone(),
            subresource: some(&self.subresource),
            namespace,
            name: some(&self.name),
            non_resource_url: some(&self.non_resource_url),
            any_name: false,
        }
    }
}

/// RBAC analysis of a set of inputs: `can-i` and `who-can`, offline.
#[derive(Debug)]
pub struct RbacAnalysis {
    rbac: Rbac,
    diagnostics: Vec<Diagnostic>,
    /// Service accounts used by workloads: (namespace, name) → workloads.
    workload_accounts: BTreeMap<(String, String), Vec<String>>,
    /// Resource names as kubectl takes them, with the inputs' CRDs.
    resources: resources::Resources,
}

impl RbacAnalysis {
    /// Loads the inputs; with `builtin_roles`, the built-in ClusterRoles
    /// (cluster-admin, admin, edit, view and their aggregation sources) are
    /// known unless the inputs define a ClusterRole of the same name.
    pub fn new(inputs: &Inputs, builtin_roles: bool) -> RbacAnalysis {
        let loaded = load(inputs, &LoadOptions::default());
        let (rbac, mut diagnostics) = Rbac::build(&loaded.objects, builtin_roles, &loaded);
        let mut all = loaded.diagnostics.clone();
        all.append(&mut diagnostics);
        let (model, _) = crate::model::build(&loaded, crate::NetworkPlugin::Generic);
        let mut workload_accounts: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for w in &model.workloads {
            workload_accounts
                .entry((w.namespace.clone(), w.service_account.clone()))
                .or_default()
                .push(format!("{} {}/{}", w.kind, w.namespace, w.name));
        }
        RbacAnalysis {
            rbac,
            diagnostics: all,
            workload_accounts,
            resources: resources::Resources::of(&loaded.objects),
        }
    }

    /// Input problems.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// Resolves a resource name as kubectl does — `deployments`, `deploy`,
    /// `networkpolicies.networking.k8s.io`, `deployments.v1.apps`, a
    /// custom resource the inputs' CRDs define — to (API group, plural).
    /// A name nothing defines, or several custom resources define, is an
    /// error listing the candidates.
    pub fn resolve_resource(&self, name: &str) -> Result<(String, String), crate::Error> {
        self.resources
            .resolve(name)
            .map_err(|m| crate::Error::new(crate::ErrorKind::Input, m))
    }

    /// Whether the request is allowed, and the binding, role and rule that
    /// allow it.
    pub fn can_i(&self, request: &AccessRequest) -> Option<Grant> {
        self.rbac.allowed(&request.to_request())
    }

    /// Every subject that can make the request (user and groups are
    /// ignored), with the grant. With `any_namespace`, grants in any
    /// namespace count.
    pub fn who_can(&self, request: &AccessRequest, any_namespace: bool) -> Vec<(Subject, Grant)> {
        self.rbac.who_can(&request.to_request(), any_namespace)
    }

    /// The workloads running as a service account subject.
    pub fn workloads_of(&self, subject: &Subject) -> &[String] {
        match (&subject.kind[..], &subject.namespace) {
            ("ServiceAccount", Some(ns)) => self
                .workload_accounts
                .get(&(ns.clone(), subject.name.clone()))
                .map_or(&[], Vec::as_slice),
            _ => &[],
        }
    }
}

impl Rbac {
    /// The roles plugins receive: those of the inputs and the built-in ones
    /// a binding references (the others would only be copied into every
    /// instance). Entry i is the facts index of `self.roles[i]`.
    pub fn exposed(&self) -> Vec<Option<u32>> {
        let referenced: std::collections::BTreeSet<usize> = self
            .bindings
            .iter()
            .filter_map(|b| self.role_index(b))
            .collect();
        let mut next = 0u32;
        self.roles
            .iter()
            .enumerate()
            .map(|(i, r)| {
                (r.object.is_some() || referenced.contains(&i)).then(|| {
                    next += 1;
                    next - 1
                })
            })
            .collect()
    }

    /// What answering one access query costs, in steps: every binding, and
    /// every rule of the role it binds.
    pub fn query_cost(&self) -> u64 {
        let rules: usize = self
            .bindings
            .iter()
            .filter_map(|b| self.role_index(b).and_then(|ri| self.roles.get(ri)))
            .map(|r| r.rules.len())
            .sum();
        (self.bindings.len() + rules + 1) as u64
    }
}

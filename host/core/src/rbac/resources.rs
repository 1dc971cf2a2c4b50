//! Resource names as kubectl takes them: `deployments`, `deploy`,
//! `networkpolicies.networking.k8s.io`, `deployments.v1.apps`, resolved to
//! (API group, plural resource) from the built-in API and the
//! CustomResourceDefinitions of the inputs.
//!
//! RBAC rules name a resource by group and plural, so `can-i create
//! deployments` asked of the core group is a question nobody can say yes
//! to. kubectl resolves names through discovery, preferring the core group
//! and then the built-in groups in the API server's order, before custom
//! resources; Palisade does the same offline. A name nothing defines, or
//! one several custom resources define, is an error listing the
//! candidates — never a silent "no".

use std::collections::BTreeSet;

use crate::input::Object;

/// One resource: its group, plural, singular and short names.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Resource {
    group: String,
    plural: String,
    singular: String,
    short: Vec<String>,
}

/// The built-in API's resources (Kubernetes 1.3x), in kubectl's order of
/// preference: core first, then the groups as the API server lists them.
/// (group, plural, singular, short names)
const BUILTIN: &[(&str, &str, &str, &[&str])] = &[
    ("", "bindings", "binding", &[]),
    ("", "componentstatuses", "componentstatus", &["cs"]),
    ("", "configmaps", "configmap", &["cm"]),
    ("", "endpoints", "endpoints", &["ep"]),
    ("", "events", "event", &["ev"]),
    ("", "limitranges", "limitrange", &["limits"]),
    ("", "namespaces", "namespace", &["ns"]),
    ("", "nodes", "node", &["no"]),
    (
        "",
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        &["pvc"],
    ),
    ("", "persistentvolumes", "persistentvolume", &["pv"]),
    ("", "pods", "pod", &["po"]),
    ("", "podtemplates", "podtemplate", &[]),
    (
        "",
        "replicationcontrollers",
        "replicationcontroller",
        &["rc"],
    ),
    ("", "resourcequotas", "resourcequota", &["quota"]),
    ("", "secrets", "secret", &[]),
    ("", "serviceaccounts", "serviceaccount", &["sa"]),
    ("", "services", "service", &["svc"]),
    ("apiregistration.k8s.io", "apiservices", "apiservice", &[]),
    ("apps", "controllerrevisions", "controllerrevision", &[]),
    ("apps", "daemonsets", "daemonset", &["ds"]),
    ("apps", "deployments", "deployment", &["deploy"]),
    ("apps", "replicasets", "replicaset", &["rs"]),
    ("apps", "statefulsets", "statefulset", &["sts"]),
    ("events.k8s.io", "events", "event", &["ev"]),
    (
        "authentication.k8s.io",
        "selfsubjectreviews",
        "selfsubjectreview",
        &[],
    ),
    ("authentication.k8s.io", "tokenreviews", "tokenreview", &[]),
    (
        "authorization.k8s.io",
        "localsubjectaccessreviews",
        "localsubjectaccessreview",
        &[],
    ),
    (
        "authorization.k8s.io",
        "selfsubjectaccessreviews",
        "selfsubjectaccessreview",
        &[],
    ),
    (
        "authorization.k8s.io",
        "selfsubjectrulesreviews",
        "selfsubjectrulesreview",
        &[],
    ),
    (
        "authorization.k8s.io",
        "subjectaccessreviews",
        "subjectaccessreview",
        &[],
    ),
    (
        "autoscaling",
        "horizontalpodautoscalers",
        "horizontalpodautoscaler",
        &["hpa"],
    ),
    ("batch", "cronjobs", "cronjob", &["cj"]),
    ("batch", "jobs", "job", &[]),
    (
        "certificates.k8s.io",
        "certificatesigningrequests",
        "certificatesigningrequest",
        &["csr"],
    ),
    ("networking.k8s.io", "ingressclasses", "ingressclass", &[]),
    ("networking.k8s.io", "ingresses", "ingress", &["ing"]),
    ("networking.k8s.io", "ipaddresses", "ipaddress", &["ip"]),
    (
        "networking.k8s.io",
        "networkpolicies",
        "networkpolicy",
        &["netpol"],
    ),
    ("networking.k8s.io", "servicecidrs", "servicecidr", &[]),
    (
        "policy",
        "poddisruptionbudgets",
        "poddisruptionbudget",
        &["pdb"],
    ),
    (
        "rbac.authorization.k8s.io",
        "clusterrolebindings",
        "clusterrolebinding",
        &[],
    ),
    (
        "rbac.authorization.k8s.io",
        "clusterroles",
        "clusterrole",
        &[],
    ),
    (
        "rbac.authorization.k8s.io",
        "rolebindings",
        "rolebinding",
        &[],
    ),
    ("rbac.authorization.k8s.io", "roles", "role", &[]),
    ("storage.k8s.io", "csidrivers", "csidriver", &[]),
    ("storage.k8s.io", "csinodes", "csinode", &[]),
    (
        "storage.k8s.io",
        "csistoragecapacities",
        "csistoragecapacity",
        &[],
    ),
    ("storage.k8s.io", "storageclasses", "storageclass", &["sc"]),
    (
        "storage.k8s.io",
        "volumeattachments",
        "volumeattachment",
        &[],
    ),
    (
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
        "mutatingwebhookconfiguration",
        &[],
    ),
    (
        "admissionregistration.k8s.io",
        "validatingadmissionpolicies",
        "validatingadmissionpolicy",
        &[],
    ),
    (
        "admissionregistration.k8s.io",
        "validatingadmissionpolicybindings",
        "validatingadmissionpolicybinding",
        &[],
    ),
    (
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
        "validatingwebhookconfiguration",
        &[],
    ),
    (
        "apiextensions.k8s.io",
        "customresourcedefinitions",
        "customresourcedefinition",
        &["crd", "crds"],
    ),
    (
        "scheduling.k8s.io",
        "priorityclasses",
        "priorityclass",
        &["pc"],
    ),
    ("coordination.k8s.io", "leases", "lease", &[]),
    ("node.k8s.io", "runtimeclasses", "runtimeclass", &[]),
    ("discovery.k8s.io", "endpointslices", "endpointslice", &[]),
    (
        "flowcontrol.apiserver.k8s.io",
        "flowschemas",
        "flowschema",
        &[],
    ),
    (
        "flowcontrol.apiserver.k8s.io",
        "prioritylevelconfigurations",
        "prioritylevelconfiguration",
        &[],
    ),
];

/// The resources a name may be resolved to: the built-in ones, then the
/// custom resources the inputs define.
#[derive(Debug, Clone, Default)]
pub struct Resources {
    custom: Vec<Resource>,
}

impl Resources {
    /// Reads the CustomResourceDefinitions of the inputs.
    pub fn of(objects: &[Object]) -> Resources {
        let custom = objects
            .iter()
            .filter_map(|o| crate::kinds::Crd::of(&o.id.api_version, &o.id.kind, &o.value))
            .map(|c| Resource {
                group: c.group.to_ascii_lowercase(),
                plural: c.plural,
                singular: c.singular,
                short: c.short_names,
            })
            .collect();
        Resources { custom }
    }

    fn all(&self) -> impl Iterator<Item = (Resource, bool)> + '_ {
        BUILTIN
            .iter()
            .map(|(g, p, s, short)| {
                (
                    Resource {
                        group: (*g).to_string(),
                        plural: (*p).to_string(),
                        singular: (*s).to_string(),
                        short: short.iter().map(|x| (*x).to_string()).collect(),
                    },
                    true,
                )
            })
            .chain(self.custom.iter().map(|r| (r.clone(), false)))
    }

    /// Resolves a kubectl-style name to (API group, plural). `Err` lists
    /// the candidates, or says nothing defines the name.
    pub fn resolve(&self, written: &str) -> Result<(String, String), String> {
        let name = written.to_ascii_lowercase();
        let names = |r: &Resource, n: &str| {
            r.plural == n || r.singular == n || r.short.iter().any(|s| s == n)
        };
        // `resource.group` or `resource.version.group`: the longest group
        // suffix that is a known group wins; a group nothing here defines
        // is taken as written (RBAC rules may name any group).
        if let Some((res, rest)) = name.split_once('.') {
            let groups: BTreeSet<String> = self.all().map(|(r, _)| r.group).collect();
            let candidates = [
                rest.to_string(),
                rest.split_once('.')
                    .map(|(_, g)| g.to_string())
                    .unwrap_or_default(),
            ];
            for group in candidates.iter().filter(|g| !g.is_empty()) {
                if let Some((r, _)) = self.all().find(|(r, _)| r.group == *group && names(r, res)) {
                    return Ok((r.group, r.plural));
                }
            }
            if groups.contains(rest) {
                return Err(format!("the API group `{rest}` has no resource `{res}`"));
            }
            return Ok((rest.to_string(), res.to_string()));
        }
        let matches: Vec<(Resource, bool)> = self.all().filter(|(r, _)| names(r, &name)).collect();
        // The first built-in match, as kubectl prefers them.
        if let Some((r, _)) = matches.iter().find(|(_, builtin)| *builtin) {
            return Ok((r.group.clone(), r.plural.clone()));
        }
        match matches.as_slice() {
            [(r, _)] => Ok((r.group.clone(), r.plural.clone())),
            [] => Err(format!(
                "no resource `{written}`: not a resource of the built-in API, nor one a CustomResourceDefinition of the inputs defines (name it RESOURCE.GROUP, or give --api-group)"
            )),
            several => Err(format!(
                "`{written}` is ambiguous: {} (name it RESOURCE.GROUP)",
                several
                    .iter()
                    .map(|(r, _)| format!("{}.{}", r.plural, r.group))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crd(group: &str, plural: &str, singular: &str, short: &[&str]) -> String {
        format!(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {{name: {plural}.{group}}}\nspec:\n  group: {group}\n  scope: Namespaced\n  names: {{plural: {plural}, singular: {singular}, kind: X, shortNames: {short:?}}}\n  versions: []\n---\n"
        )
    }

    fn resources(text: &str) -> Resources {
        let loaded = crate::input::load(
            &crate::Inputs::new().text("crds.yaml", text),
            &crate::input::LoadOptions::default(),
        );
        Resources::of(&loaded.objects)
    }

    #[test]
    fn kubectl_forms_resolve_to_group_and_plural() {
        let r = resources(&format!(
            "{}{}{}",
            crd(
                "cilium.io",
                "ciliumnetworkpolicies",
                "ciliumnetworkpolicy",
                &["cnp"]
            ),
            crd(
                "crd.projectcalico.org",
                "networkpolicies",
                "networkpolicy",
                &[]
            ),
            crd("example.com", "widgets", "widget", &["wd"]),
        ));
        let ok = |w: &str, g: &str, p: &str| {
            assert_eq!(r.resolve(w), Ok((g.to_string(), p.to_string())), "{w}");
        };
        ok("deployments", "apps", "deployments");
        ok("deployment", "apps", "deployments");
        ok("deploy", "apps", "deployments");
        ok("Deployments", "apps", "deployments");
        ok("pods", "", "pods");
        ok("cm", "", "configmaps");
        ok("sa", "", "serviceaccounts");
        // Core before events.k8s.io; built-in before a CRD's same plural.
        ok("events", "", "events");
        ok("networkpolicies", "networking.k8s.io", "networkpolicies");
        ok("netpol", "networking.k8s.io", "networkpolicies");
        ok(
            "networkpolicies.networking.k8s.io",
            "networking.k8s.io",
            "networkpolicies",
        );
        ok(
            "networkpolicies.crd.projectcalico.org",
            "crd.projectcalico.org",
            "networkpolicies",
        );
        ok("deployments.v1.apps", "apps", "deployments");
        ok("cnp", "cilium.io", "ciliumnetworkpolicies");
        ok("widget", "example.com", "widgets");
        // A group nothing here defines is taken as written.
        ok("things.other.example", "other.example", "things");
        assert!(
            r.resolve("nothing")
                .unwrap_err()
                .contains("no resource `nothing`")
        );
        assert!(
            r.resolve("pods.apps")
                .unwrap_err()
                .contains("has no resource `pods`")
        );
    }

    #[test]
    fn custom_resources_sharing_a_name_are_ambiguous() {
        let r = resources(&format!(
            "{}{}",
            crd("a.example", "gateways", "gateway", &["gw"]),
            crd("b.example", "gateways", "gateway", &[]),
        ));
        let err = r.resolve("gateways").unwrap_err();
        assert!(
            err.contains("ambiguous")
                && err.contains("gateways.a.example")
                && err.contains("gateways.b.example"),
            "{err}"
        );
        assert_eq!(r.resolve("gw"), Ok(("a.example".into(), "gateways".into())));
    }
}

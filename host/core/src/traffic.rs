//! Custom resources that change what pods may reach, which Palisade does not
//! model: each one in the inputs makes the traffic verdict possibly
//! incomplete, and the host says so (rule `PAL004`), naming the namespaces
//! whose pods it affects.
//!
//! The table is the one place that knows these kinds: their API groups,
//! scope, what they change and how far they reach. Sources for every row are
//! in ARCHITECTURE.md ("Traffic objects not modelled").

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector as ApiSelector;
use serde_json::Value;

use crate::RuleInfo;
use crate::input::{Loaded, Object};
use crate::model::selector;
use crate::report::{Finding, Severity};
use crate::traffic_kinds::{ISTIO_ROOT, Reach, TABLE, TrafficKind, lookup};
pub use crate::traffic_kinds::{changes_traffic, namespaced};

/// The rule the host reports these objects under.
pub const RULE: &str = "PAL004";

/// Istio's root namespace: the `rootNamespace` of the mesh configuration
/// in an `istio` (or revisioned `istio-REV`) ConfigMap of the inputs, else
/// the installation default.
fn istio_root(loaded: &Loaded) -> String {
    loaded
        .objects
        .iter()
        .filter(|o| o.id.kind == "ConfigMap" && o.id.api_version == "v1")
        .filter(|o| o.id.name == "istio" || o.id.name.starts_with("istio-"))
        .filter_map(|o| o.value.pointer("/data/mesh").and_then(Value::as_str))
        .find_map(|mesh| {
            mesh.lines().find_map(|line| {
                let value = line.trim().strip_prefix("rootNamespace:")?;
                let value = value.trim().trim_matches(['"', '\'']);
                (!value.is_empty() && !value.contains(char::is_whitespace))
                    .then(|| value.to_string())
            })
        })
        .unwrap_or_else(|| ISTIO_ROOT.to_string())
}

/// The host rule these findings are reported under.
pub fn rule() -> RuleInfo {
    let mut kinds: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for t in TABLE {
        kinds.entry(t.groups.join("`, `")).or_default().push(t.kind);
    }
    let list: String = kinds
        .iter()
        .map(|(groups, kinds)| format!("- `{groups}`: {}\n", kinds.join(", ")))
        .collect();
    RuleInfo {
        id: RULE.into(),
        name: "traffic-object-not-modelled".into(),
        default_severity: Severity::Warning,
        summary: "A custom resource changes pod traffic in a way Palisade does not model".into(),
        doc: format!(
            "## What it checks\n\nObjects of kinds that change what pods may reach, beside the Kubernetes NetworkPolicies Palisade evaluates:\n\n{list}\nEach one yields this finding, naming the namespaces whose pods it affects (its own; every namespace for cluster-wide kinds and for mesh configuration in the mesh's root namespace; or the namespaces its namespace selector matches among the inputs).\n\n## Why it matters\n\nPalisade's verdicts on isolation, proxy-only egress and flows are computed from NetworkPolicies alone. A CiliumNetworkPolicy or an AdminNetworkPolicy can allow what they deny; an egress gateway changes the address the proxy and the cloud firewall see; a secondary network bypasses NetworkPolicy entirely. The verdict may be wrong in either direction.\n\n## How to fix\n\nReview the object by hand. When it is intended, exempt it in the exemptions file (for example by `kind` and `namespace`) with a reason and an expiry date; these objects are on the control paths and cannot exempt themselves with an annotation.\n"
        ),
    }
}

/// One finding per object of the table in the inputs, unless every
/// namespace it affects is excluded by the policy set.
pub fn findings(loaded: &Loaded, excluded: &[String]) -> Vec<Finding> {
    unmodelled(loaded, excluded)
        .into_iter()
        .map(|u| u.finding)
        .collect()
}

/// An object Palisade does not model, with the namespaces it affects.
#[derive(Debug)]
pub struct Unmodelled {
    /// Its `PAL004` finding.
    pub finding: Finding,
    affected: Affected,
    /// Namespaces whose labels the inputs give (a `Namespace` object).
    labelled: std::sync::Arc<BTreeSet<String>>,
}

impl Unmodelled {
    /// Whether it may change the traffic of pods in `namespace`: an
    /// expression Palisade does not evaluate may, and so may a selector
    /// when the namespace's labels are unknown.
    pub fn affects(&self, namespace: &str) -> bool {
        match &self.affected {
            Affected::Everywhere | Affected::Described(_) => true,
            Affected::Names(names) => names.contains(namespace),
            Affected::Selected { matched, .. } => {
                matched.contains(namespace) || !self.labelled.contains(namespace)
            }
        }
    }
}

/// Every object of the table in the inputs whose affected namespaces are
/// not all in `excluded`.
pub fn unmodelled(loaded: &Loaded, excluded: &[String]) -> Vec<Unmodelled> {
    let namespaces = crate::model::namespaces(loaded);
    let labelled: std::sync::Arc<BTreeSet<String>> = std::sync::Arc::new(
        namespaces
            .iter()
            .filter(|(_, (_, object))| object.is_some())
            .map(|(name, _)| name.clone())
            .collect(),
    );
    let istio_root = istio_root(loaded);
    let mut out = Vec::new();
    for object in &loaded.objects {
        let Some(t) = lookup(&object.id.api_version, &object.id.kind) else {
            continue;
        };
        let affected = affected(t, object, &namespaces, &istio_root);
        let Some(shown) = affected.shown(excluded) else {
            continue;
        };
        let finding = Finding {
            plugin: "palisade".into(),
            rule: RULE.into(),
            severity: Severity::Warning,
            message: format!(
                "traffic verdict may be incomplete: {} ({}) {} for {shown}, and Palisade does not model it",
                object.id,
                object.id.api_version,
                t.effect.words(),
            ),
            object: object.id.clone(),
            location: loaded.locate(object, None),
            path: None,
            remediation: Some(
                "review it by hand; if it is intended, exempt it in the exemptions file with a reason and an expiry date".into(),
            ),
            related: Vec::new(),
        };
        out.push(Unmodelled {
            finding,
            affected,
            labelled: std::sync::Arc::clone(&labelled),
        });
    }
    out
}

/// The namespaces an object affects.
#[derive(Debug, PartialEq, Eq)]
enum Affected {
    Everywhere,
    /// Named namespaces.
    Names(BTreeSet<String>),
    /// Those a selector picks: its text, and the ones of the inputs it
    /// matches.
    Selected {
        selector: String,
        matched: BTreeSet<String>,
    },
    /// Those picked by an expression Palisade does not evaluate.
    Described(String),
}

/// Most namespace names a message lists.
const MAX_NAMES: usize = 8;

impl Affected {
    /// How a message names them; `None` when every one is excluded.
    fn shown(&self, excluded: &[String]) -> Option<String> {
        let kept = |names: &BTreeSet<String>| -> Vec<String> {
            names
                .iter()
                .filter(|n| !excluded.contains(n))
                .cloned()
                .collect()
        };
        let list = |names: &[String]| -> String {
            let mut shown: Vec<String> = names
                .iter()
                .take(MAX_NAMES)
                .map(|n| format!("`{n}`"))
                .collect();
            if names.len() > MAX_NAMES {
                shown.push(format!("{} more", names.len() - MAX_NAMES));
            }
            shown.join(", ")
        };
        match self {
            Affected::Everywhere => Some("pods in every namespace".into()),
            Affected::Names(names) => {
                let names = kept(names);
                match names.len() {
                    0 => None,
                    1 => Some(format!("pods in namespace {}", list(&names))),
                    _ => Some(format!("pods in namespaces {}", list(&names))),
                }
            }
            Affected::Selected { selector, matched } => {
                let names = kept(matched);
                let of_inputs = if !names.is_empty() {
                    format!("in the inputs: {}", list(&names))
                } else if matched.is_empty() {
                    "none in the inputs".to_string()
                } else {
                    "in the inputs only excluded ones".to_string()
                };
                Some(format!(
                    "pods in namespaces matching {selector} ({of_inputs})"
                ))
            }
            Affected::Described(text) => Some(text.clone()),
        }
    }
}

type Namespaces = BTreeMap<String, (BTreeMap<String, String>, Option<crate::facts::ObjectId>)>;

fn affected(
    t: &TrafficKind,
    object: &Object,
    namespaces: &Namespaces,
    istio_root: &str,
) -> Affected {
    let own = || {
        object
            .id
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into())
    };
    let spec = |pointer: &str| object.value.pointer(pointer);
    match t.reach {
        Reach::Own => Affected::Names(BTreeSet::from([own()])),
        Reach::OwnOrEverywhereFrom(_) | Reach::IstioRoot => {
            let root = match t.reach {
                Reach::OwnOrEverywhereFrom(root) => root,
                _ => istio_root,
            };
            if own() == root {
                Affected::Everywhere
            } else {
                Affected::Names(BTreeSet::from([own()]))
            }
        }
        Reach::ExportTo => {
            let to: Vec<&str> = spec("/spec/exportTo")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if to.is_empty() || to.contains(&"*") {
                Affected::Everywhere
            } else {
                Affected::Names(
                    to.iter()
                        .map(|n| if *n == "." { own() } else { (*n).to_string() })
                        .collect(),
                )
            }
        }
        Reach::Subject => {
            let selector = spec("/spec/subject/namespaces")
                .or_else(|| spec("/spec/subject/pods/namespaceSelector"));
            match selector {
                Some(s) => selected([s], namespaces),
                None => Affected::Everywhere,
            }
        }
        Reach::NamespaceSelector { list, field } => match list {
            Some(list) => {
                let entries = spec(list).and_then(Value::as_array);
                let selectors: Vec<&Value> = entries
                    .into_iter()
                    .flatten()
                    .map(|e| e.pointer(field))
                    .collect::<Option<Vec<_>>>()
                    .unwrap_or_default();
                // An entry without a namespace selector picks pods of every
                // namespace.
                let all_entries_select = entries.is_some_and(|e| selectors.len() == e.len());
                if all_entries_select && !selectors.is_empty() {
                    selected(selectors, namespaces)
                } else {
                    Affected::Everywhere
                }
            }
            None => match spec(field) {
                Some(s) => selected([s], namespaces),
                None => Affected::Everywhere,
            },
        },
        Reach::CiliumEndpoints => {
            // `spec` and every entry of `specs` are rules of their own.
            let rules: Vec<&Value> = spec("/spec")
                .into_iter()
                .chain(
                    spec("/specs")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten(),
                )
                .collect();
            let mut names = BTreeSet::new();
            let mut hosts = false;
            for rule in &rules {
                let pinned = [
                    "k8s:io.kubernetes.pod.namespace",
                    "io.kubernetes.pod.namespace",
                ]
                .iter()
                .find_map(|key| {
                    rule.pointer("/endpointSelector/matchLabels")
                        .and_then(|m| m.get(*key))
                        .and_then(Value::as_str)
                });
                match (pinned, rule.get("nodeSelector")) {
                    (Some(ns), _) => {
                        names.insert(ns.to_string());
                    }
                    (None, Some(_)) => hosts = true,
                    (None, None) => return Affected::Everywhere,
                }
            }
            match (names.is_empty(), hosts) {
                (true, true) => Affected::Described(
                    "host-network pods of the nodes it selects (a host policy)".into(),
                ),
                (true, false) => Affected::Everywhere,
                (false, _) => Affected::Names(names),
            }
        }
        Reach::CalicoExpression => match spec("/spec/namespaceSelector").and_then(Value::as_str) {
            Some(expr) if !expr.trim().is_empty() && expr.trim() != "all()" => {
                Affected::Described(format!(
                    "pods in namespaces matching the Calico selector `{}`",
                    expr.trim()
                ))
            }
            _ => Affected::Everywhere,
        },
        Reach::Everywhere => Affected::Everywhere,
    }
}

/// The namespaces a set of label selectors (ORed) picks among the inputs'.
/// An empty or unreadable selector reaches every namespace.
fn selected<'a>(
    selectors: impl IntoIterator<Item = &'a Value>,
    namespaces: &Namespaces,
) -> Affected {
    let mut texts = Vec::new();
    let mut matched = BTreeSet::new();
    for value in selectors {
        let Ok(api) = serde_json::from_value::<ApiSelector>(value.clone()) else {
            return Affected::Everywhere;
        };
        let Ok(sel) = selector::normalize(&api) else {
            return Affected::Everywhere;
        };
        if sel.requirements.is_empty() {
            return Affected::Everywhere;
        }
        texts.push(format!("`{}`", selector::display(&sel)));
        matched.extend(
            namespaces
                .iter()
                .filter(|(_, (labels, _))| selector::matches(&sel, labels))
                .map(|(name, _)| name.clone()),
        );
    }
    Affected::Selected {
        selector: texts.join(" or "),
        matched,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_listed_once_per_group() {
        let mut seen = BTreeSet::new();
        for t in TABLE {
            for g in t.groups {
                assert!(seen.insert((*g, t.kind)), "{g}/{} twice", t.kind);
                assert!(!g.is_empty() && g.contains('.'), "{g} is not an API group");
            }
        }
    }

    #[test]
    fn kinds_are_found_by_group_and_version() {
        assert!(changes_traffic("cilium.io/v2", "CiliumNetworkPolicy"));
        assert!(changes_traffic("crd.projectcalico.org/v1", "NetworkPolicy"));
        assert!(changes_traffic(
            "projectcalico.org/v3",
            "GlobalNetworkPolicy"
        ));
        assert!(changes_traffic(
            "policy.networking.k8s.io/v1alpha1",
            "AdminNetworkPolicy"
        ));
        // The core NetworkPolicy is modelled, and staged policies enforce nothing.
        assert!(!changes_traffic("networking.k8s.io/v1", "NetworkPolicy"));
        assert!(!changes_traffic(
            "projectcalico.org/v3",
            "StagedNetworkPolicy"
        ));
        assert_eq!(
            namespaced("cilium.io/v2", "CiliumClusterwideNetworkPolicy"),
            Some(false)
        );
    }

    /// Which namespaces an object of `api_version`/`kind` with `spec`, in
    /// `namespace`, affects among `shop` (team=a) and `billing` (team=b).
    fn reach(api_version: &str, kind: &str, namespace: Option<&str>, spec: Value) -> Affected {
        let t = lookup(api_version, kind).unwrap();
        let mut value = serde_json::json!({"apiVersion": api_version, "kind": kind});
        if let Value::Object(extra) = spec {
            value.as_object_mut().unwrap().extend(extra);
        }
        let object = Object {
            file: 0,
            document: 0,
            node: 0,
            value,
            id: crate::ObjectRef {
                api_version: api_version.into(),
                kind: kind.into(),
                namespace: namespace.map(str::to_string),
                name: "x".into(),
            },
        };
        let mut namespaces = Namespaces::new();
        for (name, team) in [("shop", "a"), ("billing", "b")] {
            let labels = BTreeMap::from([
                ("team".to_string(), team.to_string()),
                (
                    crate::model::NAMESPACE_NAME_LABEL.to_string(),
                    name.to_string(),
                ),
            ]);
            namespaces.insert(name.into(), (labels, None));
        }
        affected(t, &object, &namespaces, "istio-system")
    }

    fn names(list: &[&str]) -> Affected {
        Affected::Names(list.iter().map(|n| n.to_string()).collect())
    }

    fn selected(selector: &str, matched: &str) -> Affected {
        Affected::Selected {
            selector: selector.into(),
            matched: BTreeSet::from([matched.to_string()]),
        }
    }

    #[test]
    fn reach_follows_each_kinds_fields() {
        use serde_json::json;
        // Istio: own namespace, or the mesh from the root namespace.
        let sidecar = |ns| reach("networking.istio.io/v1", "Sidecar", Some(ns), json!({}));
        assert_eq!(sidecar("shop"), names(&["shop"]));
        assert_eq!(sidecar("istio-system"), Affected::Everywhere);
        // exportTo: absent or `*` is everywhere, `.` is its own namespace.
        let entry = |spec| reach("networking.istio.io/v1", "ServiceEntry", Some("shop"), spec);
        assert_eq!(entry(json!({})), Affected::Everywhere);
        assert_eq!(
            entry(json!({"spec": {"exportTo": ["*"]}})),
            Affected::Everywhere
        );
        assert_eq!(
            entry(json!({"spec": {"exportTo": [".", "billing"]}})),
            names(&["billing", "shop"])
        );
        // Admin policies: the subject's namespaces, evaluated; a pods
        // subject without a namespace selector reaches every namespace.
        let anp = |spec| {
            reach(
                "policy.networking.k8s.io/v1alpha1",
                "AdminNetworkPolicy",
                None,
                spec,
            )
        };
        assert_eq!(
            anp(json!({"spec": {"subject": {"pods": {
                "namespaceSelector": {"matchLabels": {"team": "b"}}, "podSelector": {}}}}})),
            selected("`team=b`", "billing")
        );
        assert_eq!(
            anp(json!({"spec": {"subject": {"pods": {"podSelector": {}}}}})),
            Affected::Everywhere
        );
        assert_eq!(
            anp(json!({"spec": {"subject": {"namespaces": {}}}})),
            Affected::Everywhere
        );
        // Lists of selectors: an entry without one reaches everywhere.
        let gateway = |spec| reach("cilium.io/v2", "CiliumEgressGatewayPolicy", None, spec);
        let team_a = json!({"namespaceSelector": {"matchLabels": {"team": "a"}}});
        assert_eq!(
            gateway(json!({"spec": {"selectors": [team_a, {"podSelector": {}}]}})),
            Affected::Everywhere
        );
        assert_eq!(
            gateway(json!({"spec": {"selectors": [team_a]}})),
            selected("`team=a`", "shop")
        );
        // Cilium cluster-wide: pinned namespaces, over `spec` and `specs`.
        let ccnp = |spec| reach("cilium.io/v2", "CiliumClusterwideNetworkPolicy", None, spec);
        let pinned = |ns: &str| json!({"endpointSelector": {"matchLabels": {"k8s:io.kubernetes.pod.namespace": ns}}});
        assert_eq!(ccnp(json!({"spec": pinned("shop")})), names(&["shop"]));
        assert_eq!(
            ccnp(json!({"spec": pinned("shop"), "specs": [{"endpointSelector": {}}]})),
            Affected::Everywhere
        );
        assert_eq!(
            ccnp(json!({"specs": [pinned("shop"), pinned("billing")]})),
            names(&["billing", "shop"])
        );
        assert!(matches!(
            ccnp(json!({"spec": {"nodeSelector": {}}})),
            Affected::Described(_)
        ));
        // Calico's selector language is shown, not evaluated.
        let gnp = |spec| reach("projectcalico.org/v3", "GlobalNetworkPolicy", None, spec);
        assert_eq!(
            gnp(json!({"spec": {"namespaceSelector": "all()"}})),
            Affected::Everywhere
        );
        assert_eq!(
            gnp(json!({"spec": {"namespaceSelector": "team == 'a'"}})),
            Affected::Described(
                "pods in namespaces matching the Calico selector `team == 'a'`".into()
            )
        );
    }

    #[test]
    fn affected_namespaces_are_shown_without_the_excluded() {
        let names = Affected::Names(BTreeSet::from(["kube-system".to_string()]));
        assert_eq!(names.shown(&["kube-system".to_string()]), None);
        let many = Affected::Names((0..10).map(|i| format!("n{i}")).collect());
        assert_eq!(
            many.shown(&[]).unwrap(),
            "pods in namespaces `n0`, `n1`, `n2`, `n3`, `n4`, `n5`, `n6`, `n7`, 2 more"
        );
        let none = Affected::Selected {
            selector: "`team=a`".into(),
            matched: BTreeSet::new(),
        };
        assert_eq!(
            none.shown(&[]).unwrap(),
            "pods in namespaces matching `team=a` (none in the inputs)"
        );
        let excluded = Affected::Selected {
            selector: "`team=a`".into(),
            matched: BTreeSet::from(["kube-system".to_string()]),
        };
        assert_eq!(
            excluded.shown(&["kube-system".to_string()]).unwrap(),
            "pods in namespaces matching `team=a` (in the inputs only excluded ones)"
        );
    }
}

//! Built-in plugin `default-deny`: every workload in scope is isolated for
//! ingress and for egress, so that only traffic some NetworkPolicy allows can
//! flow.
//!
//! The plugin does no selector matching of its own: the host hands it, per
//! workload, the NetworkPolicies that isolate it in each direction (with
//! `policyTypes` defaulted as the API server does it) and, per policy, the
//! workloads it selects.

use palisade_sdk::{
    Context, Findings, NetworkPolicy, Peer, Plugin, PolicyRule, Rule, SettingSpec, SettingType,
    Severity, Workload,
};
use serde::Deserialize;

/// Settings of the `default-deny` plugin.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Settings {
    /// Namespaces out of scope for this plugin (in addition to the policy
    /// set's `excludedNamespaces`). Default: kube-system, kube-public,
    /// kube-node-lease.
    #[serde(default = "palisade_sdk::system_namespaces")]
    pub excluded_namespaces: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            excluded_namespaces: palisade_sdk::system_namespaces(),
        }
    }
}

/// Whether objects of `namespace` are reported on.
fn scoped(cx: &Context<'_, Settings>, namespace: &str) -> bool {
    cx.in_scope_unless(namespace, &cx.settings().excluded_namespaces)
}

/// The plugin.
#[derive(Debug)]
pub struct DefaultDeny;

impl Plugin for DefaultDeny {
    const ID: &'static str = "default-deny";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Every workload is isolated for ingress and egress by \
        NetworkPolicies, so that traffic flows only where a policy allows it.";
    type Settings = Settings;
    const SETTINGS: &'static [SettingSpec] = &[SettingSpec {
        name: "excludedNamespaces",
        kind: SettingType::TextList,
        doc: "Namespaces out of scope for this plugin, besides the policy set's (default: kube-system, kube-public, kube-node-lease)",
    }];
    const RULES: &'static [Rule<Settings>] = &[NP001, NP002, NP003, NP004, NP005, NP006];
}

palisade_sdk::export_plugin!(DefaultDeny);

/// Which direction a rule checks.
#[derive(Debug, Clone, Copy)]
enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    fn name(self) -> &'static str {
        match self {
            Direction::Ingress => "Ingress",
            Direction::Egress => "Egress",
        }
    }

    fn isolating(self, w: &Workload) -> &[u32] {
        match self {
            Direction::Ingress => &w.isolation.ingress,
            Direction::Egress => &w.isolation.egress,
        }
    }

    fn affects(self, p: &NetworkPolicy) -> bool {
        match self {
            Direction::Ingress => p.affects_ingress,
            Direction::Egress => p.affects_egress,
        }
    }
}

const NP001: Rule<Settings> = Rule {
    id: "NP001",
    name: "workload-not-isolated-for-ingress",
    default_severity: Severity::Error,
    summary: "A workload that no NetworkPolicy isolates for ingress accepts connections from anywhere",
    doc: r#"## What it checks

Every workload (a Pod, or the pod template of a Deployment, StatefulSet,
DaemonSet, ReplicaSet, ReplicationController, Job or CronJob) in a namespace in
scope must be selected by at least one NetworkPolicy whose effective
`policyTypes` include `Ingress`.

## Why it matters

A pod that no policy isolates for ingress accepts traffic from every pod in the
cluster and from anything that can route to it. Default deny is the base the
rest of the private-subnet design stands on: without it, an allow-list is
decoration.

## Example

```yaml
kind: Deployment
metadata: {name: web, namespace: shop}
# ...and no NetworkPolicy in `shop` selects app=web
```

## How to fix

Add a default-deny policy to the namespace, then allow what is needed:

```yaml
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
```

## Settings

`excludedNamespaces` (default: kube-system, kube-public, kube-node-lease), in
addition to the policy set's.
"#,
    check: |cx, out| check_isolation(cx, out, Direction::Ingress),
};

const NP002: Rule<Settings> = Rule {
    id: "NP002",
    name: "workload-not-isolated-for-egress",
    default_severity: Severity::Error,
    summary: "A workload that no NetworkPolicy isolates for egress can connect anywhere, bypassing the proxy",
    doc: r#"## What it checks

Every workload in a namespace in scope must be selected by at least one
NetworkPolicy whose effective `policyTypes` include `Egress`.

`policyTypes` defaults as the API server does it: when it is absent, a policy
affects `Ingress`, and `Egress` only if `spec.egress` is a non-empty list. A
policy with `egress: []` and no `policyTypes` therefore does **not** isolate
egress; the finding names such policies.

## Why it matters

Egress isolation is what makes the proxy the only exit. A pod that no policy
isolates for egress can open connections to any address its node can route
to: the internet through a NAT gateway, the cloud metadata endpoint, other
tenants.

## Example

```yaml
kind: NetworkPolicy
metadata: {name: deny, namespace: shop}
spec:
  podSelector: {}
  egress: []          # without policyTypes this isolates ingress only
```

## How to fix

List `Egress` explicitly:

```yaml
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
```

## Settings

`excludedNamespaces` (default: kube-system, kube-public, kube-node-lease), in
addition to the policy set's.
"#,
    check: |cx, out| check_isolation(cx, out, Direction::Egress),
};

const NP003: Rule<Settings> = Rule {
    id: "NP003",
    name: "policy-reopens-everything",
    default_severity: Severity::Error,
    summary: "A rule that allows every peer on every port defeats default deny",
    doc: r#"## What it checks

NetworkPolicy rules with no `ports` (every port and protocol) whose peers
cover everything: no `from`/`to` at all (every pod and every address), an
`ipBlock` of `0.0.0.0/0` or `::/0` without exceptions, or a
`namespaceSelector: {}` without a narrowing `podSelector` (every pod of every
namespace).

## Why it matters

Policies are additive: one such rule re-opens, for every pod the policy
selects, the direction that default deny closed. For egress it lets pods
bypass the proxy.

## Example

```yaml
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
    - {}            # every destination, every port
```

## How to fix

Name the peers and ports that are needed: the proxy's pods and port for
egress, the clients and the served port for ingress.

## Settings

`excludedNamespaces`.
"#,
    check: check_reopen,
};

const NP004: Rule<Settings> = Rule {
    id: "NP004",
    name: "policy-selects-no-workload",
    default_severity: Severity::Warning,
    summary: "A NetworkPolicy whose podSelector matches no workload of the inputs",
    doc: r#"## What it checks

NetworkPolicies whose `podSelector` selects no Pod or pod template in the
inputs.

## Why it matters

A policy that selects nothing isolates nothing: usually a label typo, or a
policy left behind after the workload was renamed — and the workload it was
meant for is open.

## Example

```yaml
spec:
  podSelector:
    matchLabels: {app: web-frontend}   # the Deployment labels its pods app: web
```

## How to fix

Match the labels the workload's pod template carries, or delete the policy.

## Settings

`excludedNamespaces`.
"#,
    check: check_selects_nothing,
};

const NP005: Rule<Settings> = Rule {
    id: "NP005",
    name: "peer-selects-nothing",
    default_severity: Severity::Warning,
    summary: "A NetworkPolicy peer that matches no namespace, or no workload in namespaces the inputs declare",
    doc: r#"## What it checks

Pod peers (`podSelector`/`namespaceSelector`) of ingress and egress rules that
select no namespace of the inputs (unless the selector names namespaces by
`kubernetes.io/metadata.name`, which may exist outside the inputs, like
`kube-system` for cluster DNS), or no workload although every namespace they
select is declared in the inputs (so its workloads are known).

## Why it matters

A dangling peer allows nothing. Traffic the rule was written for is denied —
and whoever creates a matching pod or labels a namespace later silently gains
that access.

## Example

```yaml
egress:
  - to:
      - namespaceSelector:
          matchLabels: {kubernetes.io/metadata.name: egress-proxi}   # typo
```

## How to fix

Correct the selector, or remove the peer.

## Settings

`excludedNamespaces`.
"#,
    check: check_dangling_peers,
};

const NP006: Rule<Settings> = Rule {
    id: "NP006",
    name: "namespace-selector-on-mutable-label",
    default_severity: Severity::Warning,
    summary: "A namespaceSelector keyed on a label other than kubernetes.io/metadata.name",
    doc: r#"## What it checks

`namespaceSelector` requirements on any label key other than
`kubernetes.io/metadata.name`.

## Why it matters

Anyone allowed to label a namespace can make it match, and so join the
traffic the rule allows — for example reach the proxy or the database.
`kubernetes.io/metadata.name` is set by the API server and cannot be changed.

## Example

```yaml
- namespaceSelector:
    matchLabels: {team: payments}
```

## How to fix

Select namespaces by `kubernetes.io/metadata.name` (with `In` for several), or
restrict who may label namespaces.

## Settings

`excludedNamespaces`.
"#,
    check: check_mutable_namespace_labels,
};

/// The rules of a policy per direction it affects, with the JSON field name.
fn rules_of(p: &NetworkPolicy) -> Vec<(&'static str, &Vec<PolicyRule>)> {
    let mut out = Vec::new();
    if p.affects_ingress {
        out.push(("ingress", &p.ingress));
    }
    if p.affects_egress {
        out.push(("egress", &p.egress));
    }
    out
}

fn check_reopen(cx: &Context<'_, Settings>, out: &mut Findings) {
    for p in cx.network_policies().filter(|p| scoped(cx, &p.namespace)) {
        if p.selects.is_empty() {
            continue;
        }
        for (dir, rules) in rules_of(p) {
            for (i, r) in rules.iter().enumerate() {
                if !r.ports.is_empty() {
                    continue;
                }
                let what = if r.peers.is_empty() {
                    Some("every peer")
                } else {
                    r.peers.iter().find_map(|peer| match peer {
                        Peer::IpBlock(b) if b.every_address => Some("every address"),
                        Peer::Pods(pp) if pp.every_pod => Some("every pod of every namespace"),
                        _ => None,
                    })
                };
                if let Some(what) = what {
                    out.report(
                        p.object,
                        format!(
                            "NetworkPolicy `{}/{}` {dir} rule {i} allows {what} on every port, re-opening {dir} for the {} workload{} it selects",
                            p.namespace,
                            p.name,
                            p.selects.len(),
                            if p.selects.len() == 1 { "" } else { "s" }
                        ),
                    )
                    .at(r.path.clone())
                    .fix("list the peers and ports that are needed");
                }
            }
        }
    }
}

fn check_selects_nothing(cx: &Context<'_, Settings>, out: &mut Findings) {
    for p in cx.network_policies().filter(|p| scoped(cx, &p.namespace)) {
        if p.selects.is_empty() {
            out.report(
                p.object,
                format!(
                    "NetworkPolicy `{}/{}` selects no workload of the inputs: it isolates nothing",
                    p.namespace, p.name
                ),
            )
            .at("/spec/podSelector")
            .fix("match the labels of the intended workload's pod template, or delete the policy");
        }
    }
}

fn check_dangling_peers(cx: &Context<'_, Settings>, out: &mut Findings) {
    let declared = |ns: &str| {
        cx.facts()
            .namespaces()
            .iter()
            .any(|n| n.name == ns && n.object.is_some())
    };
    for p in cx.network_policies().filter(|p| scoped(cx, &p.namespace)) {
        for (dir, rules) in rules_of(p) {
            for (i, r) in rules.iter().enumerate() {
                for (j, (peer, m)) in r.peers.iter().zip(&r.matches).enumerate() {
                    let Peer::Pods(pp) = peer else { continue };
                    if !m.workloads.is_empty() {
                        continue;
                    }
                    // A selector naming namespaces by name may mean namespaces
                    // the inputs do not show (cluster DNS in kube-system).
                    let pinned = !pp.named_namespaces.is_empty();
                    let why = if m.namespaces.is_empty() && !pinned {
                        "selects no namespace of the inputs"
                    } else if !m.namespaces.is_empty() && m.namespaces.iter().all(|n| declared(n)) {
                        "selects no workload in the namespaces it admits"
                    } else {
                        continue;
                    };
                    out.report(
                        p.object,
                        format!(
                            "NetworkPolicy `{}/{}` {dir} rule {i} peer {j} {why}: it allows nothing",
                            p.namespace, p.name
                        ),
                    )
                    .at(r.peer_paths.get(j).cloned().unwrap_or_else(|| r.path.clone()))
                    .fix("correct the selector, or remove the peer");
                }
            }
        }
    }
}

fn check_mutable_namespace_labels(cx: &Context<'_, Settings>, out: &mut Findings) {
    for p in cx.network_policies().filter(|p| scoped(cx, &p.namespace)) {
        for (dir, rules) in rules_of(p) {
            for (i, r) in rules.iter().enumerate() {
                for (j, peer) in r.peers.iter().enumerate() {
                    let Peer::Pods(pp) = peer else { continue };
                    let keys = &pp.mutable_namespace_keys;
                    if keys.is_empty() {
                        continue;
                    }
                    out.report(
                        p.object,
                        format!(
                            "NetworkPolicy `{}/{}` {dir} rule {i} selects namespaces by `{}`: whoever can label a namespace can join",
                            p.namespace,
                            p.name,
                            keys.join("`, `")
                        ),
                    )
                    .at(format!(
                        "{}/namespaceSelector",
                        r.peer_paths.get(j).unwrap_or(&r.path)
                    ))
                    .fix("select namespaces by `kubernetes.io/metadata.name`");
                }
            }
        }
    }
}

fn check_isolation(cx: &Context<'_, Settings>, out: &mut Findings, dir: Direction) {
    for w in cx.facts().workloads() {
        if !scoped(cx, &w.namespace) || !dir.isolating(w).is_empty() {
            continue;
        }
        if w.host_network {
            out.report(
                w.object,
                format!(
                    "{} `{}/{}` uses the host network: NetworkPolicies do not isolate it for {} (its traffic is node traffic)",
                    w.kind,
                    w.namespace,
                    w.name,
                    dir.name().to_lowercase()
                ),
            )
            .at(format!("{}/hostNetwork", w.pod_spec_path))
            .fix("run the workload on the pod network (remove hostNetwork: true), or restrict it with node-level firewalling and exempt it explicitly");
            continue;
        }
        // Policies that select the workload but do not affect this direction:
        // the usual cause is `policyTypes` left to its default.
        let near: Vec<&str> = cx
            .facts()
            .network_policies()
            .iter()
            .filter(|p| p.selects.contains(&w.id) && !dir.affects(p))
            .map(|p| p.name.as_str())
            .collect();
        let mut message = format!(
            "{} `{}/{}` is not isolated for {}: no NetworkPolicy with policyTypes {} selects its pods",
            w.kind,
            w.namespace,
            w.name,
            dir.name().to_lowercase(),
            dir.name()
        );
        if !near.is_empty() {
            message.push_str(&format!(
                " ({} `{}` select{} it but {} not list {} in effective policyTypes)",
                if near.len() == 1 {
                    "NetworkPolicy"
                } else {
                    "NetworkPolicies"
                },
                near.join("`, `"),
                if near.len() == 1 { "s" } else { "" },
                if near.len() == 1 { "does" } else { "do" },
                dir.name()
            ));
        }
        out.report(w.object, message)
            .at("/metadata/name")
            .fix(format!(
                "add a NetworkPolicy in namespace `{}` that selects these pods with policyTypes [{}] (a default-deny policy: podSelector {{}}, policyTypes [Ingress, Egress])",
                w.namespace,
                dir.name()
            ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_sdk::testing::FactsBuilder as RequestBuilder;
    use palisade_sdk::{LabelSelector, NetworkPolicy};

    fn policy(ns: &str, name: &str, ingress: bool, egress: bool, selects: &[u32]) -> NetworkPolicy {
        NetworkPolicy {
            object: 0,
            namespace: ns.to_string(),
            name: name.to_string(),
            pod_selector: LabelSelector {
                requirements: vec![],
            },
            selects_all: true,
            affects_ingress: ingress,
            affects_egress: egress,
            ingress: vec![],
            egress: vec![],
            selects: selects.to_vec(),
        }
    }

    fn run(req: palisade_sdk::Facts) -> Vec<(String, String)> {
        palisade_sdk::evaluate::<DefaultDeny>(&req)
            .unwrap_or_default()
            .into_iter()
            .map(|f| (f.rule, f.message))
            .collect()
    }

    #[test]
    fn isolated_workload_passes() {
        let req = RequestBuilder::new()
            .enable(&["NP001", "NP002"])
            .deployment("shop", "web", &[("app", "web")], &[0], &[0])
            .network_policy(policy("shop", "deny", true, true, &[0]))
            .build();
        assert_eq!(run(req), vec![]);
    }

    #[test]
    fn unisolated_workload_fails_both_directions() {
        let req = RequestBuilder::new()
            .enable(&["NP001", "NP002"])
            .deployment("shop", "web", &[], &[], &[])
            .build();
        let rules: Vec<String> = run(req).into_iter().map(|(r, _)| r).collect();
        assert_eq!(rules, vec!["NP001", "NP002"]);
    }

    #[test]
    fn egress_message_names_policy_with_defaulted_types() {
        let req = RequestBuilder::new()
            .enable(&["NP002"])
            .deployment("shop", "web", &[], &[0], &[])
            .network_policy(policy("shop", "deny", true, false, &[0]))
            .build();
        let found = run(req);
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .1
                .contains("NetworkPolicy `deny` selects it but does not list Egress"),
            "{}",
            found[0].1
        );
    }

    #[test]
    fn excluded_namespace_and_disabled_rules_are_silent() {
        let req = RequestBuilder::new()
            .enable(&["NP001"])
            .exclude("kube-system")
            .deployment("kube-system", "dns", &[], &[], &[])
            .deployment("shop", "web", &[], &[], &[])
            .build();
        let found = run(req);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "NP001");
        assert!(found[0].1.contains("shop/web"));
    }

    #[test]
    fn the_rule_table_is_well_formed() {
        assert_eq!(
            palisade_sdk::testing::rule_table_problems::<DefaultDeny>(),
            Vec::<String>::new()
        );
    }
}

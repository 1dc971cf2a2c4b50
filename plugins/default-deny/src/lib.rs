//! Built-in plugin `default-deny`: every workload in scope is isolated for
//! ingress and for egress, so that only traffic some NetworkPolicy allows can
//! flow.
//!
//! The plugin does no selector matching of its own: the host hands it, per
//! workload, the NetworkPolicies that isolate it in each direction (with
//! `policyTypes` defaulted as the API server does it) and, per policy, the
//! workloads it selects.

use palisade_sdk::{Context, Findings, NetworkPolicy, Plugin, Rule, Severity, Workload};
use serde::Deserialize;

/// Settings of the `default-deny` plugin.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Settings {}

/// The plugin.
#[derive(Debug)]
pub struct DefaultDeny;

impl Plugin for DefaultDeny {
    const ID: &'static str = "default-deny";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const DESCRIPTION: &'static str = "Every workload is isolated for ingress and egress by \
        NetworkPolicies, so that traffic flows only where a policy allows it.";
    type Settings = Settings;
    const RULES: &'static [Rule<Settings>] = &[NP001, NP002];
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

None. Namespaces are taken out of scope with the policy set's
`excludedNamespaces`.
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

None. Namespaces are taken out of scope with the policy set's
`excludedNamespaces`.
"#,
    check: |cx, out| check_isolation(cx, out, Direction::Egress),
};

fn check_isolation(cx: &Context<'_, Settings>, out: &mut Findings, dir: Direction) {
    for (index, w) in cx.request().workloads.iter().enumerate() {
        if !cx.in_scope(&w.namespace) || !dir.isolating(w).is_empty() {
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
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        // Policies that select the workload but do not affect this direction:
        // the usual cause is `policyTypes` left to its default.
        let near: Vec<&str> = cx
            .request()
            .network_policies
            .iter()
            .filter(|p| p.selects.contains(&index) && !dir.affects(p))
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
    use palisade_sdk::testing::RequestBuilder;
    use palisade_sdk::{LabelSelector, NetworkPolicy};

    fn policy(ns: &str, name: &str, ingress: bool, egress: bool, selects: &[u32]) -> NetworkPolicy {
        NetworkPolicy {
            object: 0,
            namespace: ns.to_string(),
            name: name.to_string(),
            pod_selector: LabelSelector {
                requirements: vec![],
            },
            affects_ingress: ingress,
            affects_egress: egress,
            ingress: vec![],
            egress: vec![],
            selects: selects.to_vec(),
        }
    }

    fn run(req: palisade_sdk::Request) -> Vec<(String, String)> {
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
    fn rule_ids_are_unique_and_documented() {
        let meta = palisade_sdk::metadata::<DefaultDeny>();
        let mut ids: Vec<&str> = meta.rules.iter().map(|r| r.id.as_str()).collect();
        ids.dedup();
        assert_eq!(ids.len(), meta.rules.len());
        for r in &meta.rules {
            for heading in ["## What it checks", "## Why it matters", "## How to fix"] {
                assert!(r.doc.contains(heading), "{} lacks {heading}", r.id);
            }
        }
    }
}

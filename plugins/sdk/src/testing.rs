//! Builders for unit-testing rule logic natively.
//!
//! The host computes facts (which policies isolate which workload); rule tests
//! state those facts directly instead of re-deriving them, so a test reads as
//! "given this model, the rule reports that". End-to-end behaviour (real
//! manifests through the real host) is covered by the fixture suites in
//! `tests/`.

use crate::{
    Container, Isolation, Label, NetworkPolicy, RbacFacts, Request, SourceObject, Workload,
};

/// Builds a [`Request`] object by object.
#[derive(Debug, Clone)]
pub struct RequestBuilder {
    request: Request,
}

impl Default for RequestBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl RequestBuilder {
    /// An empty model with `{}` settings and no rule enabled.
    pub fn new() -> Self {
        RequestBuilder {
            request: Request {
                settings: "{}".to_string(),
                enabled_rules: Vec::new(),
                excluded_namespaces: Vec::new(),
                objects: Vec::new(),
                namespaces: Vec::new(),
                workloads: Vec::new(),
                network_policies: Vec::new(),
                rbac: RbacFacts {
                    roles: Vec::new(),
                    bindings: Vec::new(),
                    answers: Vec::new(),
                },
                proxies: Vec::new(),
                proxy_answers: Vec::new(),
            },
        }
    }

    /// Sets the settings JSON.
    pub fn settings(mut self, json: &str) -> Self {
        self.request.settings = json.to_string();
        self
    }

    /// Enables rules by ID.
    pub fn enable(mut self, rules: &[&str]) -> Self {
        self.request
            .enabled_rules
            .extend(rules.iter().map(|r| r.to_string()));
        self
    }

    /// Excludes a namespace from reporting.
    pub fn exclude(mut self, namespace: &str) -> Self {
        self.request.excluded_namespaces.push(namespace.to_string());
        self
    }

    fn add_object(&mut self, api_version: &str, kind: &str, ns: &str, name: &str) -> u32 {
        let id = u32::try_from(self.request.objects.len()).unwrap_or(u32::MAX);
        self.request.objects.push(SourceObject {
            id,
            api_version: api_version.to_string(),
            kind: kind.to_string(),
            namespace: Some(ns.to_string()),
            name: name.to_string(),
            labels: Vec::new(),
            annotations: Vec::new(),
            raw_json: "{}".to_string(),
        });
        id
    }

    /// Adds a Deployment-backed workload; `isolated_by` gives the indices of
    /// the policies that isolate it for (ingress, egress).
    pub fn deployment(
        mut self,
        ns: &str,
        name: &str,
        labels: &[(&str, &str)],
        ingress_isolated_by: &[u32],
        egress_isolated_by: &[u32],
    ) -> Self {
        let object = self.add_object("apps/v1", "Deployment", ns, name);
        self.request.workloads.push(Workload {
            object,
            kind: "Deployment".to_string(),
            namespace: ns.to_string(),
            name: name.to_string(),
            labels: labels
                .iter()
                .map(|(k, v)| Label {
                    key: k.to_string(),
                    value: v.to_string(),
                })
                .collect(),
            service_account: "default".to_string(),
            automount_service_account_token: None,
            host_network: false,
            containers: vec![Container {
                name: "app".to_string(),
                image: "example/app:1".to_string(),
                init: false,
                ports: Vec::new(),
                env: Vec::new(),
            }],
            pod_spec_path: "/spec/template/spec".to_string(),
            pod_ips: Vec::new(),
            isolation: Isolation {
                ingress: ingress_isolated_by.to_vec(),
                egress: egress_isolated_by.to_vec(),
            },
            ingress_flows: Vec::new(),
            egress_flows: Vec::new(),
        });
        self
    }

    /// Adds a NetworkPolicy in normalized form (its `object` field is
    /// replaced by the new source object's ID).
    pub fn network_policy(mut self, mut policy: NetworkPolicy) -> Self {
        policy.object = self.add_object(
            "networking.k8s.io/v1",
            "NetworkPolicy",
            &policy.namespace,
            &policy.name,
        );
        self.request.network_policies.push(policy);
        self
    }

    /// The finished request.
    pub fn build(self) -> Request {
        self.request
    }
}

/// The headings every rule's documentation has (what `palisade explain`
/// and the rules reference show).
pub const DOC_HEADINGS: &[&str] = &[
    "## What it checks",
    "## Why it matters",
    "## How to fix",
    "## Settings",
];

/// Checks a plugin's rule table: IDs unique and of the form `ABC123`, names
/// kebab-case, every doc with the [`DOC_HEADINGS`]. Returns the problems.
pub fn rule_table_problems<P: crate::Plugin>() -> Vec<String> {
    let meta = crate::metadata::<P>();
    let mut problems = Vec::new();
    let mut ids: Vec<&str> = Vec::new();
    for r in &meta.rules {
        let (prefix, number) = r.id.split_at(
            r.id.find(|c: char| c.is_ascii_digit())
                .unwrap_or(r.id.len()),
        );
        if prefix.is_empty()
            || !prefix.chars().all(|c| c.is_ascii_uppercase())
            || number.len() != 3
            || !number.chars().all(|c| c.is_ascii_digit())
        {
            problems.push(format!(
                "rule ID `{}` is not an upper-case prefix and three digits",
                r.id
            ));
        }
        if ids.contains(&r.id.as_str()) {
            problems.push(format!("rule ID `{}` is declared twice", r.id));
        }
        ids.push(&r.id);
        if r.name.is_empty()
            || !r
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            problems.push(format!(
                "rule `{}` name `{}` is not kebab-case",
                r.id, r.name
            ));
        }
        for h in DOC_HEADINGS {
            if !r.doc.contains(h) {
                problems.push(format!("rule `{}` documentation lacks `{h}`", r.id));
            }
        }
    }
    problems
}

//! Roles: which workloads and addresses play the parts of the intended
//! shape — the proxy, cluster DNS, destinations workloads may reach
//! directly, the admins who may hold control paths. A policy set declares
//! them once (`spec.roles`); the host resolves them against the inputs and
//! every plugin reads the same answer.
//!
//! ```yaml
//! spec:
//!   roles:
//!     proxy:
//!       namespace: egress-proxy        # default
//!       podSelector: {app: squid}      # default
//!       cidrs: []                      # its addresses, when it runs outside the cluster
//!       ports: [3128]                  # default
//!       hosts: []                      # names that reach it, for HTTP(S)_PROXY
//!       clientNamespaces: []           # who may use it; empty: anyone
//!       clientCidrs: [10.0.0.0/8]      # where its clients come from (default)
//!     dns:
//!       namespace: kube-system         # default
//!       podSelector: {k8s-app: kube-dns}
//!       cidrs: []                      # the kube-dns Service address, if rules use it
//!     allowedDestinations: [{namespace: payments, podSelector: {app: gateway}}]
//!     allowedCidrs: [10.96.0.1/32]     # API server, VPC endpoints
//!     admins: [{kind: Group, name: platform-admins}]
//!     namespaceCidrs: {shop: [10.1.0.0/16]}   # pod address pools, for proxy-log clients
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::facts::{self, Identity, SubjectKind};
use crate::model::Model;

/// Pods chosen by namespace and labels.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Pods {
    pub namespace: String,
    #[serde(default)]
    pub pod_selector: BTreeMap<String, String>,
}

/// `roles.proxy`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProxyRole {
    #[serde(default = "default_proxy_namespace")]
    pub namespace: String,
    #[serde(default = "default_proxy_labels")]
    pub pod_selector: BTreeMap<String, String>,
    #[serde(default)]
    pub cidrs: Vec<String>,
    #[serde(default = "default_proxy_ports")]
    pub ports: Vec<u16>,
    #[serde(default)]
    pub hosts: Vec<String>,
    #[serde(default)]
    pub client_namespaces: Vec<String>,
    #[serde(default = "default_client_cidrs")]
    pub client_cidrs: Vec<String>,
}

impl Default for ProxyRole {
    fn default() -> Self {
        ProxyRole {
            namespace: default_proxy_namespace(),
            pod_selector: default_proxy_labels(),
            cidrs: Vec::new(),
            ports: default_proxy_ports(),
            hosts: Vec::new(),
            client_namespaces: Vec::new(),
            client_cidrs: default_client_cidrs(),
        }
    }
}

/// `roles.dns`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DnsRole {
    #[serde(default = "default_dns_namespace")]
    pub namespace: String,
    #[serde(default = "default_dns_labels")]
    pub pod_selector: BTreeMap<String, String>,
    #[serde(default)]
    pub cidrs: Vec<String>,
}

impl Default for DnsRole {
    fn default() -> Self {
        DnsRole {
            namespace: default_dns_namespace(),
            pod_selector: default_dns_labels(),
            cidrs: Vec::new(),
        }
    }
}

/// An admin subject.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Admin {
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub namespace: Option<String>,
}

/// `spec.roles` of a policy set, defaults filled in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Roles {
    #[serde(default)]
    pub proxy: ProxyRole,
    #[serde(default)]
    pub dns: DnsRole,
    #[serde(default)]
    pub allowed_destinations: Vec<Pods>,
    #[serde(default)]
    pub allowed_cidrs: Vec<String>,
    #[serde(default)]
    pub admins: Vec<Admin>,
    /// The addresses each namespace's pods get (per-namespace IP pools):
    /// how a proxy log's client with no pod of the inputs is still placed.
    #[serde(default)]
    pub namespace_cidrs: BTreeMap<String, Vec<String>>,
}

fn default_proxy_namespace() -> String {
    "egress-proxy".into()
}

fn default_proxy_labels() -> BTreeMap<String, String> {
    BTreeMap::from([("app".to_string(), "squid".to_string())])
}

fn default_proxy_ports() -> Vec<u16> {
    vec![3128]
}

fn default_client_cidrs() -> Vec<String> {
    vec!["10.0.0.0/8".to_string()]
}

fn default_dns_namespace() -> String {
    "kube-system".into()
}

fn default_dns_labels() -> BTreeMap<String, String> {
    BTreeMap::from([("k8s-app".to_string(), "kube-dns".to_string())])
}

impl Roles {
    /// Problems as (JSON pointer under `/spec/roles`, message).
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut cidrs = |list: &[String], at: &str| {
            for (i, c) in list.iter().enumerate() {
                if c.parse::<ipnet::IpNet>().is_err() {
                    out.push((format!("{at}/{i}"), format!("`{c}` is not a CIDR")));
                }
            }
        };
        cidrs(&self.proxy.cidrs, "/proxy/cidrs");
        cidrs(&self.proxy.client_cidrs, "/proxy/clientCidrs");
        cidrs(&self.dns.cidrs, "/dns/cidrs");
        cidrs(&self.allowed_cidrs, "/allowedCidrs");
        for (ns, list) in &self.namespace_cidrs {
            cidrs(list, &format!("/namespaceCidrs/{ns}"));
        }
        for (i, p) in self.proxy.ports.iter().enumerate() {
            if *p == 0 {
                out.push((
                    format!("/proxy/ports/{i}"),
                    "port 0 is not a port".to_string(),
                ));
            }
        }
        for (i, a) in self.admins.iter().enumerate() {
            match SubjectKind::of(&a.kind) {
                None => out.push((
                    format!("/admins/{i}/kind"),
                    format!(
                        "`{}` is not a subject kind (User, Group or ServiceAccount)",
                        a.kind
                    ),
                )),
                Some(SubjectKind::ServiceAccount) if a.namespace.is_none() => out.push((
                    format!("/admins/{i}"),
                    "a ServiceAccount needs its namespace".to_string(),
                )),
                Some(_) => {}
            }
        }
        out
    }

    /// The roles resolved against the model.
    pub fn resolve(&self, model: &Model) -> Resolved {
        let pods = |p: &Pods| ResolvedPods {
            namespace: p.namespace.clone(),
            labels: p.pod_selector.clone(),
            workloads: select(model, Some(&p.namespace), &selector(&p.pod_selector)),
        };
        Resolved {
            proxy: pods(&Pods {
                namespace: self.proxy.namespace.clone(),
                pod_selector: self.proxy.pod_selector.clone(),
            }),
            proxy_cidrs: self.proxy.cidrs.clone(),
            proxy_ports: self.proxy.ports.clone(),
            proxy_hosts: self.proxy.hosts.clone(),
            client_namespaces: self.proxy.client_namespaces.clone(),
            client_cidrs: self.proxy.client_cidrs.clone(),
            dns: pods(&Pods {
                namespace: self.dns.namespace.clone(),
                pod_selector: self.dns.pod_selector.clone(),
            }),
            dns_cidrs: self.dns.cidrs.clone(),
            allowed_destinations: self.allowed_destinations.iter().map(pods).collect(),
            allowed_cidrs: self.allowed_cidrs.clone(),
            namespace_cidrs: self.namespace_cidrs.clone(),
            admins: self
                .admins
                .iter()
                .filter_map(|a| {
                    Some(Identity {
                        kind: SubjectKind::of(&a.kind)?,
                        name: a.name.clone(),
                        namespace: a.namespace.clone(),
                    })
                })
                .collect(),
        }
    }
}

/// Pods of a role, and the workloads of the inputs that match.
#[derive(Debug, Clone, Default)]
pub struct ResolvedPods {
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    pub workloads: Vec<facts::WorkloadId>,
}

/// The roles of a policy set, resolved against one check's inputs.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    pub proxy: ResolvedPods,
    pub proxy_cidrs: Vec<String>,
    pub proxy_ports: Vec<u16>,
    pub proxy_hosts: Vec<String>,
    pub client_namespaces: Vec<String>,
    pub client_cidrs: Vec<String>,
    pub dns: ResolvedPods,
    pub dns_cidrs: Vec<String>,
    pub allowed_destinations: Vec<ResolvedPods>,
    pub allowed_cidrs: Vec<String>,
    pub admins: Vec<Identity>,
    pub namespace_cidrs: BTreeMap<String, Vec<String>>,
}

/// `matchLabels` as a selector.
fn selector(labels: &BTreeMap<String, String>) -> facts::LabelSelector {
    facts::LabelSelector {
        requirements: labels
            .iter()
            .map(|(k, v)| facts::SelectorRequirement {
                key: k.clone(),
                operator: facts::SelectorOperator::In,
                values: vec![v.clone()],
            })
            .collect(),
    }
}

/// The workloads in `namespace` (any, when absent) whose pod labels match
/// `selector`.
pub fn select(
    model: &Model,
    namespace: Option<&str>,
    selector: &facts::LabelSelector,
) -> Vec<facts::WorkloadId> {
    model
        .workloads
        .iter()
        .enumerate()
        .filter(|(_, w)| namespace.is_none_or(|ns| w.namespace == ns))
        .filter(|(_, w)| {
            let labels: BTreeMap<String, String> = w
                .labels
                .iter()
                .map(|l| (l.key.clone(), l.value.clone()))
                .collect();
            crate::model::selector::matches(selector, &labels)
        })
        .map(|(i, _)| facts::WorkloadId::at(i))
        .collect()
}

//! Who sent a logged request: the client address placed on a workload of
//! the inputs (its pods' `status.podIP`/`podIPs`, in manifests or in a
//! `kubectl get pods -A -o json` list), else on a namespace whose address
//! pool holds it (`roles.namespaceCidrs`), else on the proxy's client range
//! (`roles.proxy.clientCidrs`), else nothing: unattributed.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;

use crate::facts::{WorkloadId, WorkloadKind};
use crate::model::Model;
use crate::roles::Resolved;

/// Where a client address belongs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "kebab-case")]
pub enum Client {
    /// A workload of the inputs (`namespace/name`; a Pod's controller when
    /// the inputs hold it).
    Workload(String),
    /// A namespace whose address pool holds it.
    Namespace(String),
    /// The proxy's client range that holds it.
    Range(String),
    /// None of these.
    Unattributed,
}

impl std::fmt::Display for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Client::Workload(w) => f.write_str(w),
            Client::Namespace(n) => write!(f, "namespace {n}"),
            Client::Range(r) => write!(f, "client range {r}"),
            Client::Unattributed => f.write_str("unattributed"),
        }
    }
}

/// Places client addresses.
#[derive(Debug, Default)]
pub struct Attributor {
    by_ip: HashMap<IpAddr, WorkloadId>,
    names: Vec<String>,
    namespaces: Vec<(IpNet, String)>,
    ranges: Vec<IpNet>,
}

impl Attributor {
    /// From the model's pod addresses and the roles' ranges.
    pub fn new(model: &Model, roles: &Resolved) -> Attributor {
        let mut a = Attributor {
            names: model
                .workloads
                .iter()
                .map(|w| format!("{}/{}", w.namespace, w.name))
                .collect(),
            ..Attributor::default()
        };
        for (i, w) in model.workloads.iter().enumerate() {
            if w.pod_ips.is_empty() {
                continue;
            }
            // A bare Pod owned by a controller of the inputs counts as that
            // controller: the one in its namespace whose pod labels it
            // carries.
            let id = if w.kind == WorkloadKind::Pod {
                let owners: Vec<usize> = model
                    .workloads
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| {
                        c.kind != WorkloadKind::Pod
                            && c.namespace == w.namespace
                            && !c.labels.is_empty()
                            && c.labels.iter().all(|l| w.labels.contains(l))
                    })
                    .map(|(j, _)| j)
                    .collect();
                match owners.as_slice() {
                    [one] => *one,
                    _ => i,
                }
            } else {
                i
            };
            for ip in &w.pod_ips {
                if let Ok(ip) = ip.parse::<IpAddr>() {
                    a.by_ip.entry(ip).or_insert(WorkloadId::at(id));
                }
            }
        }
        for (ns, cidrs) in &roles.namespace_cidrs {
            for c in cidrs {
                if let Ok(net) = c.parse::<IpNet>() {
                    a.namespaces.push((net.trunc(), ns.clone()));
                }
            }
        }
        // The most specific pool first.
        a.namespaces
            .sort_by_key(|(n, _)| std::cmp::Reverse(n.prefix_len()));
        a.ranges = roles
            .client_cidrs
            .iter()
            .filter_map(|c| c.parse::<IpNet>().ok())
            .map(|n| n.trunc())
            .collect();
        a
    }

    /// The workload an address belongs to, if any.
    pub fn workload(&self, ip: Option<IpAddr>) -> Option<WorkloadId> {
        ip.and_then(|ip| self.by_ip.get(&ip).copied())
    }

    /// Where an address belongs.
    pub fn client(&self, ip: Option<IpAddr>) -> Client {
        let Some(ip) = ip else {
            return Client::Unattributed;
        };
        if let Some(w) = self.by_ip.get(&ip) {
            return Client::Workload(self.names.get(w.index()).cloned().unwrap_or_default());
        }
        if let Some((_, ns)) = self.namespaces.iter().find(|(n, _)| n.contains(&ip)) {
            return Client::Namespace(ns.clone());
        }
        match self.ranges.iter().find(|n| n.contains(&ip)) {
            Some(n) => Client::Range(n.to_string()),
            None => Client::Unattributed,
        }
    }
}

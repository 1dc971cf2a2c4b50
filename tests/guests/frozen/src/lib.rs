//! A plugin built against the frozen `palisade:policy@0.2.0` contract
//! (`tests/wit-0.2.0/`), with its own bindings, as a security team's plugin
//! built against the 0.2.0 release would be.
//!
//! `tests/tests/contract.rs` loads it into the current host (which speaks a
//! later 0.2.x) and checks that it links and that its findings are those of
//! the built-in rule it mirrors: FRZ001 is NP002 (a workload no
//! NetworkPolicy isolates for egress). It also calls every 0.2.0 fact
//! function once and logs what it got, so a type change in any of them
//! breaks the test.

#![cfg_attr(
    not(target_family = "wasm"),
    allow(
        dead_code,
        reason = "a guest does its work only when built as a component"
    )
)]
#![allow(
    unsafe_code,
    reason = "wit-bindgen export glue generated in this crate"
)]

wit_bindgen::generate!({
    world: "policy-plugin",
    path: "../../wit-0.2.0",
});

use exports::palisade::policy::plugin::Guest;
use palisade::policy::facts;
use palisade::policy::log::{Level, log};
use palisade::policy::types::{
    AccessQuery, AccessScope, Direction, Finding, LabelSelector, Location, PluginError,
    PluginMetadata, ProxyRequest, RuleInfo, Severity,
};

struct Frozen;

impl Guest for Frozen {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            id: "frozen".to_string(),
            version: "0.2.0".to_string(),
            description: "Built against palisade:policy@0.2.0".to_string(),
            rules: vec![RuleInfo {
                id: "FRZ001".to_string(),
                name: "workload-not-isolated-for-egress".to_string(),
                default_severity: Severity::Error,
                summary: "NP002, as a 0.2.0 plugin writes it".to_string(),
                doc: "## What it checks\n\nAs NP002.\n".to_string(),
            }],
            settings: Vec::new(),
        }
    }

    fn validate_settings(_settings: String) -> Result<(), String> {
        Ok(())
    }

    fn evaluate() -> Result<Vec<Finding>, PluginError> {
        // Every fact of 0.2.0, once.
        let workloads = facts::workloads();
        let policies = facts::network_policies();
        let flows: usize = workloads
            .iter()
            .map(|w| {
                facts::flows(w.id, Direction::Egress).len()
                    + facts::flows(w.id, Direction::Ingress).len()
            })
            .sum();
        let every = facts::select_workloads(
            None,
            &LabelSelector {
                requirements: Vec::new(),
            },
        );
        let grants = facts::who_can(&AccessQuery {
            verb: "create".to_string(),
            api_group: "networking.k8s.io".to_string(),
            resource: "networkpolicies".to_string(),
            subresource: None,
            name: None,
            non_resource_url: None,
            scope: AccessScope::AnyNamespace,
        });
        let proxies = facts::proxies();
        let verdicts = (0..proxies.len())
            .filter_map(|p| {
                facts::evaluate_proxy(
                    u32::try_from(p).unwrap_or(u32::MAX),
                    &ProxyRequest {
                        client: "10.0.0.1".to_string(),
                        method: "CONNECT".to_string(),
                        host: "example.com".to_string(),
                        port: 443,
                    },
                )
            })
            .count();
        let proxy = facts::proxy();
        let (dns, dns_cidrs) = facts::cluster_dns();
        let (allowed, allowed_cidrs) = facts::allowed_destinations();
        let metadata = facts::classify_address("169.254.169.254").is_some_and(|c| c.metadata);
        log(
            Level::Info,
            &format!(
                "settings {} | rules {} | excluded {} | objects {} | namespaces {} | workloads {} (selected by {{}}: {}) | policies {} | flows {flows} | roles {} | bindings {} | who can create networkpolicies {} | proxies {} (verdicts {verdicts}) | proxy {}/{} pods, ports {:?} | dns {} pods, {} cidrs | allowed {} + {} cidrs | admins {} | metadata address classified {metadata}",
                facts::settings(),
                facts::enabled_rules().join(","),
                facts::excluded_namespaces().len(),
                facts::objects().len(),
                facts::namespaces().len(),
                workloads.len(),
                every.len(),
                policies.len(),
                facts::rbac_roles().len(),
                facts::rbac_bindings().len(),
                grants.len(),
                proxies.len(),
                proxy.pods.namespace,
                proxy.pods.workloads.len(),
                proxy.ports,
                dns.workloads.len(),
                dns_cidrs.len(),
                allowed.len(),
                allowed_cidrs.len(),
                facts::admins().len(),
            ),
        );
        let excluded = facts::excluded_namespaces();
        Ok(workloads
            .iter()
            .filter(|w| !excluded.contains(&w.namespace))
            .filter(|w| !w.host_network && w.isolation.egress.is_empty())
            .map(|w| Finding {
                rule: "FRZ001".to_string(),
                severity: Severity::Error,
                message: format!("`{}/{}` is not isolated for egress", w.namespace, w.name),
                object: w.object,
                at: Location::Field("/metadata/name".to_string()),
                remediation: None,
            })
            .collect())
    }
}

// Component exports exist only on wasm (not valid native symbols).
#[cfg(target_family = "wasm")]
export!(Frozen);

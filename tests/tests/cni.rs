//! Network plugin profiles: the corners the NetworkPolicy API leaves to the
//! plugin, read as `generic`, `calico` and `cilium` (the assumption table in
//! `host/src/netpol/plugin.rs`).
//!
//! On `tests/netpol/cni/cluster.yaml` the matrices of the three profiles
//! differ exactly on the documented corners; on generated clusters with
//! hostNetwork pods, every profile's optimized matrix equals its pair-by-pair
//! evaluation and `generic` allows everything the others allow.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed expectation should abort the test"
)]

use std::collections::{BTreeMap, BTreeSet};

use palisade::{Inputs, NetworkAnalysis, NetworkPlugin};
use palisade_tests::workspace;

type Pairs = BTreeSet<(String, String)>;

fn analysis(plugin: NetworkPlugin) -> NetworkAnalysis {
    let a = NetworkAnalysis::with_network_plugin(
        &Inputs::new().path(workspace().join("tests/netpol/cni/cluster.yaml")),
        plugin,
    );
    assert!(a.diagnostics().is_empty(), "{:#?}", a.diagnostics());
    assert_eq!(a.network_plugin(), plugin);
    a
}

fn external() -> Vec<String> {
    vec!["10.0.1.99".to_string(), "192.168.0.9".to_string()]
}

/// The allowed pairs on 5432/TCP, checked against the pair-by-pair evaluator.
fn matrix(plugin: NetworkPlugin) -> Pairs {
    let a = analysis(plugin);
    let ports = ["5432/TCP".to_string()];
    let fast = a.matrix(&ports, &external()).unwrap();
    let slow = a.matrix_naive(&ports, &external()).unwrap();
    assert_eq!(
        fast, slow,
        "{plugin}: optimized matrix differs from pair by pair"
    );
    fast.into_values().flatten().collect()
}

fn pairs(list: &[(&str, &str)]) -> Pairs {
    list.iter()
        .map(|(f, t)| (f.to_string(), t.to_string()))
        .collect()
}

fn pair(from: &str, to: &str) -> (String, String) {
    (from.to_string(), to.to_string())
}

fn minus(a: &Pairs, b: &Pairs) -> Pairs {
    a.difference(b).cloned().collect()
}

#[test]
fn calico_and_cilium_differ_exactly_on_ipblock_over_pod_and_node_ips() {
    let calico = matrix(NetworkPlugin::Calico);
    let cilium = matrix(NetworkPlugin::Cilium);
    // `ipblock-pod-ip`: db admits the pod CIDR; Calico matches the clients'
    // pod IPs, Cilium does not. `host-network-ipblock`: web may send to the
    // node range; Calico matches the hostNetwork agent's IP, Cilium does not.
    assert_eq!(
        minus(&calico, &cilium),
        pairs(&[
            ("app/api", "app/db"),
            ("app/client", "app/db"),
            ("app/web", "app/agent"),
        ])
    );
    // Cilium allows nothing Calico does not.
    assert_eq!(minus(&cilium, &calico), Pairs::new());
    // Everything else is identical, and includes what the ipBlocks match in
    // both: external addresses.
    for (from, to) in [
        ("10.0.1.99", "app/db"),
        ("app/web", "192.168.0.9"),
        ("app/client", "app/api"),
    ] {
        assert!(calico.contains(&pair(from, to)), "{from} -> {to}");
        assert!(cilium.contains(&pair(from, to)), "{from} -> {to}");
    }
    // Never allowed: the agent's node IP is outside the pod CIDR, and web's
    // egress reaches no pod-network pod.
    for (from, to) in [("app/agent", "app/db"), ("app/web", "app/db")] {
        assert!(!calico.contains(&pair(from, to)), "{from} -> {to}");
        assert!(!cilium.contains(&pair(from, to)), "{from} -> {to}");
    }
}

#[test]
fn generic_adds_exactly_selectors_matching_host_network_pods() {
    let generic = matrix(NetworkPlugin::Generic);
    let calico = matrix(NetworkPlugin::Calico);
    let cilium = matrix(NetworkPlugin::Cilium);
    // `host-network-selectors`: api admits every pod of its namespace; only
    // generic counts the hostNetwork agent as one.
    assert_eq!(minus(&generic, &calico), pairs(&[("app/agent", "app/api")]));
    assert_eq!(minus(&calico, &generic), Pairs::new());
    assert_eq!(minus(&cilium, &generic), Pairs::new());
}

#[test]
fn matrices_per_profile() {
    let mut all = BTreeMap::new();
    for plugin in NetworkPlugin::ALL {
        all.insert(plugin.as_str(), matrix(plugin));
    }
    insta::assert_json_snapshot!("cni_matrices_5432", all);
}

#[test]
fn traces_name_the_profile_and_its_reading() {
    let cilium = analysis(NetworkPlugin::Cilium)
        .trace("app/client", "app/db", "5432/TCP")
        .unwrap();
    assert_eq!(cilium.verdict, "denied");
    assert_eq!(cilium.network_plugin, NetworkPlugin::Cilium);
    let (_, reading) = cilium
        .relies_on
        .iter()
        .find(|(id, _)| id == "ipblock-pod-ip")
        .unwrap();
    assert!(
        reading.starts_with("Cilium never matches ipBlock peers"),
        "{reading}"
    );
    insta::assert_snapshot!(
        "cni_trace_cilium_client_db",
        palisade::render::trace(&cilium)
    );

    let calico = analysis(NetworkPlugin::Calico)
        .trace("app/client", "app/db", "5432/TCP")
        .unwrap();
    assert_eq!(calico.verdict, "allowed");
    assert_eq!(calico.ingress.allowed_by[0].policy, "app/db-from-pod-cidr");
    insta::assert_snapshot!(
        "cni_trace_calico_client_db",
        palisade::render::trace(&calico)
    );

    let generic = analysis(NetworkPlugin::Generic)
        .trace("app/agent", "app/api", "80/TCP")
        .unwrap();
    assert_eq!(generic.verdict, "allowed");
    let ids: Vec<&str> = generic
        .relies_on
        .iter()
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "host-network",
            "host-network-selectors",
            "host-network-ipblock",
            "ipblock-pod-ip"
        ]
    );
    insta::assert_snapshot!(
        "cni_trace_generic_agent_api",
        palisade::render::trace(&generic)
    );
    let json = serde_json::to_value(&generic).unwrap();
    assert_eq!(json["networkPlugin"], "generic");
}

/// Makes every fifth generated pod a hostNetwork pod with a node IP, and
/// gives every other pod without one a pod IP, so that ipBlocks meet both.
fn with_host_network(yaml: &str) -> String {
    let mut out = String::new();
    let mut pod = 0;
    for doc in yaml.split("---\n") {
        if doc.is_empty() {
            continue;
        }
        out.push_str("---\n");
        if !doc.starts_with("apiVersion: v1\nkind: Pod\n") {
            out.push_str(doc);
            continue;
        }
        pod += 1;
        if pod % 5 == 3 {
            let doc = doc.replacen("spec:\n", "spec:\n  hostNetwork: true\n", 1);
            match doc.split_once("status:") {
                Some((spec, _)) => out.push_str(spec),
                None => out.push_str(&doc),
            }
            out.push_str(&format!("status: {{podIP: 192.168.1.{pod}}}\n"));
        } else if pod % 2 == 0 && !doc.contains("status:") {
            out.push_str(doc);
            out.push_str(&format!("status: {{podIP: 10.{}.0.{pod}}}\n", pod % 3));
        } else {
            out.push_str(doc);
        }
    }
    out
}

#[test]
fn every_profile_is_exact_and_generic_is_the_widest_on_generated_clusters() {
    let ports: Vec<String> = ["80/TCP", "8080/TCP", "53/UDP"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let external: Vec<String> = ["10.0.0.5", "10.1.0.9", "8.8.8.8"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut differing = (0, 0);
    for seed in 1..=60 {
        let yaml = with_host_network(&palisade::testing::generate_cluster(3, 14, 8, seed));
        assert!(yaml.contains("hostNetwork: true"));
        let mut per_plugin = BTreeMap::new();
        for plugin in NetworkPlugin::ALL {
            let a = NetworkAnalysis::with_network_plugin(
                &Inputs::new().text("gen.yaml", yaml.clone()),
                plugin,
            );
            assert!(
                a.diagnostics().is_empty(),
                "seed {seed}: {:#?}",
                a.diagnostics()
            );
            let fast = a.matrix(&ports, &external).unwrap();
            let slow = a.matrix_naive(&ports, &external).unwrap();
            assert_eq!(fast, slow, "seed {seed}, {plugin}");
            per_plugin.insert(plugin, fast);
        }
        let generic = &per_plugin[&NetworkPlugin::Generic];
        for plugin in [NetworkPlugin::Calico, NetworkPlugin::Cilium] {
            for (port, allowed) in &per_plugin[&plugin] {
                let wide: BTreeSet<_> = generic[port].iter().collect();
                for pair in allowed {
                    assert!(
                        wide.contains(pair),
                        "seed {seed}: {plugin} allows {pair:?} on {port}, generic does not"
                    );
                }
            }
        }
        if per_plugin[&NetworkPlugin::Calico] != per_plugin[&NetworkPlugin::Cilium] {
            differing.0 += 1;
        }
        if per_plugin[&NetworkPlugin::Calico] != *generic {
            differing.1 += 1;
        }
    }
    // The clusters must reach the corners where the profiles differ.
    assert!(
        differing.0 > 20,
        "only {} clusters tell calico from cilium",
        differing.0
    );
    assert!(
        differing.1 > 10,
        "only {} clusters tell generic from calico",
        differing.1
    );
}

#[test]
fn readme_carries_the_current_assumption_table() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let table = palisade::testing::network_plugin_table();
    assert!(
        readme.contains(&table),
        "README.md must contain the assumption table exactly as generated:\n\n{table}"
    );
}

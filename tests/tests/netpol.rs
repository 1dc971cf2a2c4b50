//! NetworkPolicy semantics, held against cases written from the API
//! documentation (`tests/netpol/cases/*.yaml`), and the optimized matrix held
//! against the pair-by-pair evaluator on generated clusters.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed expectation should abort the test"
)]

use std::collections::BTreeMap;

use palisade::{Inputs, NetworkAnalysis, NetworkPlugin};
use palisade_tests::workspace;
use serde::Deserialize;

/// One case file. Unknown fields are rejected so a typo cannot skip an
/// assertion.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Case {
    note: String,
    /// The network plugin profile (default: generic).
    #[serde(default)]
    network_plugin: Option<String>,
    ports: Vec<String>,
    external: Vec<String>,
    manifests: String,
    allowed: BTreeMap<String, Vec<(String, String)>>,
}

#[test]
fn cases_from_the_api_documentation() {
    let dir = workspace().join("tests/netpol/cases");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 13, "cases are missing");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let case: Case = palisade::testing::from_yaml(&text)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let plugin = case
            .network_plugin
            .as_deref()
            .map_or(NetworkPlugin::Generic, |p| {
                NetworkPlugin::parse(p)
                    .unwrap_or_else(|| panic!("{}: unknown plugin", file.display()))
            });
        let analysis = NetworkAnalysis::with_network_plugin(
            &Inputs::new().text("case.yaml", case.manifests.clone()),
            plugin,
        );
        assert!(
            analysis.diagnostics().is_empty(),
            "{}: {:#?}",
            file.display(),
            analysis.diagnostics()
        );
        let got = analysis.matrix(&case.ports, &case.external).unwrap();
        assert_eq!(got, case.allowed, "{}: {}", file.display(), case.note);
        let classes = analysis
            .matrix_by_class(&case.ports, &case.external)
            .unwrap();
        assert_eq!(
            classes.expand(case.external.len()),
            case.allowed,
            "{} (classes): {}",
            file.display(),
            case.note
        );
        let naive = analysis.matrix_naive(&case.ports, &case.external).unwrap();
        assert_eq!(
            naive,
            case.allowed,
            "{} (naive): {}",
            file.display(),
            case.note
        );
    }
}

#[test]
fn optimized_matrix_equals_pairwise_evaluation_on_generated_clusters() {
    let ports: Vec<String> = ["80/TCP", "81/TCP", "8080/TCP", "53/UDP", "53/TCP", "7/SCTP"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let external: Vec<String> = [
        "10.0.0.5",
        "10.1.0.9",
        "192.168.1.10",
        "8.8.8.8",
        "2001:db8::1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut nonempty = 0;
    for seed in 1..=150 {
        let yaml = palisade::testing::generate_cluster(3, 12, 8, seed);
        let analysis = NetworkAnalysis::new(&Inputs::new().text("gen.yaml", yaml));
        assert!(
            analysis.diagnostics().is_empty(),
            "seed {seed}: {:#?}",
            analysis.diagnostics()
        );
        let fast = analysis.matrix(&ports, &external).unwrap();
        let slow = analysis.matrix_naive(&ports, &external).unwrap();
        assert_eq!(fast, slow, "seed {seed}");
        // The class format expands to exactly the pairs.
        let classes = analysis.matrix_by_class(&ports, &external).unwrap();
        assert!(classes.targets.len() <= 12 + external.len(), "seed {seed}");
        assert_eq!(
            classes.expand(external.len()),
            fast,
            "seed {seed} (classes)"
        );
        let total: usize = fast.values().map(Vec::len).sum();
        let all = ports.len() * (12 * 11 + 2 * 12 * external.len());
        if total > 0 && total < all {
            nonempty += 1;
        }
    }
    // The generator must produce clusters where policy actually decides.
    assert!(nonempty > 100, "only {nonempty} interesting clusters");
}

#[test]
fn trace_names_the_deciding_rule_and_near_misses() {
    let demo = workspace().join("tests/demo/insecure");
    let analysis = NetworkAnalysis::new(&Inputs::new().path(&demo));
    let allowed = analysis
        .trace("shop/web", "egress-proxy/squid", "3128/TCP")
        .unwrap();
    assert_eq!(allowed.verdict, "allowed");
    assert_eq!(allowed.egress.allowed_by[0].policy, "shop/egress-via-proxy");
    assert_eq!(allowed.egress.allowed_by[0].rule, 0);
    assert_eq!(allowed.ingress.allowed_by[0].policy, "egress-proxy/proxy");

    let denied = analysis
        .trace("shop/web", "egress-proxy/squid", "8080/TCP")
        .unwrap();
    assert_eq!(denied.verdict, "denied");
    assert_eq!(denied.egress.verdict, "denied");
    let miss = &denied.egress.near_misses[0];
    assert_eq!(
        (miss.policy.as_str(), miss.rule, miss.missed),
        ("shop/egress-via-proxy", 0, "port")
    );

    let external = analysis
        .trace("legacy/reports", "8.8.8.8", "443/TCP")
        .unwrap();
    assert_eq!(external.verdict, "allowed");
    assert!(external.relies_on.iter().any(|(id, _)| id == "no-snat"));

    assert!(analysis.trace("nope/none", "shop/web", "80/TCP").is_err());
    assert!(analysis.trace("shop/web", "shop/web", "80/ICMP").is_err());
}

#[test]
fn a_trace_to_a_service_port_says_which_port_the_pods_listen_on() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: client, namespace: shop, labels: {app: client}}\nspec: {containers: [{name: c, image: i}]}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: mail, namespace: shop, labels: {app: mail}}\nspec: {containers: [{name: c, image: i, ports: [{name: smtp, containerPort: 2525}]}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: mail, namespace: shop}\nspec:\n  selector: {app: mail}\n  ports:\n  - {name: a, port: 5000, targetPort: 8080}\n  - {name: b, port: 25, targetPort: smtp}\n  - {name: c, port: 9000}\n";
    let analysis = NetworkAnalysis::new(&Inputs::new().text("svc.yaml", text));
    let numbered = analysis
        .trace("shop/client", "shop/mail", "5000/TCP")
        .unwrap();
    assert_eq!(
        numbered.notes,
        [
            "5000/TCP is a port of Service shop/mail, which forwards to 8080/TCP on its pods: NetworkPolicies see the pods' port, so trace that one"
        ]
    );
    let named = analysis
        .trace("shop/client", "shop/mail", "25/TCP")
        .unwrap();
    assert!(
        named.notes[0].contains("forwards to 2525/TCP (`smtp`)"),
        "{:?}",
        named.notes
    );
    // No note where the Service does not translate, or on the pods' port.
    for port in ["9000/TCP", "8080/TCP", "5000/UDP"] {
        let t = analysis.trace("shop/client", "shop/mail", port).unwrap();
        assert!(t.notes.is_empty(), "{port}: {:?}", t.notes);
    }
}

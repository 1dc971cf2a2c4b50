//! `palisade check` on repositories shaped as teams keep them: Kustomize
//! bases and overlays, a Helm-rendered stream, CRDs and custom resources,
//! traffic objects Palisade does not model, and a `kubectl get -o yaml`
//! dump (the fixture is `tests/fixtures/repo`, described in its README).
//!
//! `--kustomize` runs the machine's `kubectl` (`.ci/run` makes sure there
//! is one; these tests ran with kubectl v1.32.4, Kustomize v5.5.0).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed expectation should abort the test"
)]

mod common;

use common::{palisade, run, stderr, stdout};
use serde_json::Value;

const OVERLAY: &str = "tests/fixtures/repo/apps/shop/overlays/prod";

/// (rule, object, file, origin) of every finding of a JSON report.
fn findings(json: &str) -> Vec<(String, String, String, String)> {
    let report: Value = serde_json::from_str(json).unwrap();
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let o = &f["object"];
            let object = match o["namespace"].as_str() {
                Some(ns) => format!("{} {ns}/{}", text(&o["kind"]), text(&o["name"])),
                None => format!("{} {}", text(&o["kind"]), text(&o["name"])),
            };
            (
                text(&f["rule"]),
                object,
                text(&f["location"]["file"]),
                text(&f["location"]["origin"]),
            )
        })
        .collect()
}

fn tuple(rule: &str, object: &str, file: &str, origin: &str) -> (String, String, String, String) {
    (rule.into(), object.into(), file.into(), origin.into())
}

#[test]
fn the_repository_rendered_as_deployed_gives_exactly_the_expected_findings() {
    let args = [
        "check",
        "--kustomize",
        OVERLAY,
        "tests/fixtures/repo/platform",
        "tests/fixtures/repo/cluster",
    ];
    let out = palisade(&[&args[..], &["--format", "json"]].concat());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let stream = format!("<kustomize {OVERLAY}>");
    let helm = "tests/fixtures/repo/platform/monitoring.yaml";
    let deployment = "node-metrics/templates/deployment.yaml";
    assert_eq!(
        findings(&stdout(&out)),
        [
            tuple(
                "PAL004",
                "CiliumNetworkPolicy shop/web-direct-egress",
                &stream,
                &format!("{OVERLAY}/cilium-egress.yaml")
            ),
            tuple(
                "RB001",
                "RoleBinding shop/shop-devs",
                "tests/fixtures/repo/cluster/live.yaml",
                ""
            ),
            tuple(
                "PAL004",
                "Sidecar istio-system/default",
                "tests/fixtures/repo/platform/istio.yaml",
                ""
            ),
            tuple(
                "PAL004",
                "AuthorizationPolicy shop/web-from-gateway",
                "tests/fixtures/repo/platform/istio.yaml",
                ""
            ),
            tuple(
                "NP001",
                "Deployment monitoring/node-metrics",
                helm,
                deployment
            ),
            tuple(
                "NP002",
                "Deployment monitoring/node-metrics",
                helm,
                deployment
            ),
            tuple(
                "RB006",
                "Deployment monitoring/node-metrics",
                helm,
                deployment
            ),
        ]
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["errors"], serde_json::json!([]));
    // The overlay's web Deployment is checked in its namespace, with the
    // base's NetworkPolicies: isolated, egress only through the proxy.
    assert_eq!(report["summary"]["objects"], 25);
    assert_eq!(
        report["summary"]["notEvaluated"],
        serde_json::json!({
            "cert-manager.io/Certificate": 1,
            "cilium.io/CiliumNetworkPolicy": 1,
            "monitoring.coreos.com/ServiceMonitor": 1,
            "networking.istio.io/Sidecar": 1,
            "networking.istio.io/VirtualService": 1,
            "security.istio.io/AuthorizationPolicy": 1,
        })
    );
    // People see the rendered line the finding is on, and where it came from.
    let human = palisade(&args);
    let text = stdout(&human);
    let at = text.find(&format!("--> {stream}:")).unwrap();
    let frame = &text[at..];
    assert!(
        frame
            .lines()
            .next()
            .unwrap()
            .ends_with(&format!("(from {OVERLAY}/cilium-egress.yaml)")),
        "{frame}"
    );
    assert!(
        frame
            .lines()
            .nth(2)
            .unwrap()
            .ends_with("apiVersion: cilium.io/v2"),
        "{frame}"
    );
}

#[test]
fn the_repository_checked_file_by_file_counts_what_is_not_a_manifest() {
    // Without rendering: kustomizations and the overlay's patch are counted
    // and not checked; base and overlay objects land in `default`.
    let out = palisade(&["check", "tests/fixtures/repo"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    insta::assert_snapshot!("repo_files", stdout(&out));
}

#[test]
fn manifests_beside_a_kustomization_pass() {
    let out = palisade(&["check", "tests/fixtures/repo/apps/shop/base"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(
        stdout(&out),
        "no findings: 4 files, 4 objects (1 not evaluated: 1 kustomize.config.k8s.io/Kustomization), 5 plugins\n"
    );
}

#[test]
fn verbose_and_json_list_every_object_not_evaluated() {
    let out = palisade(&["check", "tests/fixtures/repo/apps", "--verbose"]);
    let err = stderr(&out);
    for line in [
        "note: not evaluated: kustomize.config.k8s.io/Kustomization at tests/fixtures/repo/apps/shop/base/kustomization.yaml:1:1",
        "note: not evaluated: kustomize.config.k8s.io/Patch Deployment web at tests/fixtures/repo/apps/shop/overlays/prod/replicas.yaml:1:1",
        "note: not evaluated: cilium.io/CiliumNetworkPolicy default/web-direct-egress at tests/fixtures/repo/apps/shop/overlays/prod/cilium-egress.yaml:3:1",
    ] {
        assert!(err.lines().any(|l| l == line), "missing `{line}` in\n{err}");
    }
    let out = palisade(&["check", "tests/fixtures/repo/apps", "--format", "json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let listed = report["notEvaluated"].as_array().unwrap();
    assert_eq!(listed.len(), 4, "{listed:#?}");
    assert_eq!(
        listed[1]["object"],
        serde_json::json!({"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "namespace": "default", "name": "web-direct-egress"})
    );
}

#[test]
fn a_helm_stream_on_stdin_names_each_template() {
    let stream =
        std::fs::read(common::workspace().join("tests/fixtures/repo/platform/monitoring.yaml"))
            .unwrap();
    let out = run(&["check", "-", "--format", "sarif"], &[], Some(&stream));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let np001 = results.iter().find(|r| r["ruleId"] == "NP001").unwrap();
    let location = &np001["locations"][0];
    // Standard input is no file of the repository: the location is the
    // template, and the stream's line is in the message.
    assert_eq!(
        location["physicalLocation"]["artifactLocation"]["uri"],
        "node-metrics/templates/deployment.yaml"
    );
    assert!(location["physicalLocation"].get("region").is_none());
    assert_eq!(
        location["message"]["text"],
        "rendered from node-metrics/templates/deployment.yaml: line 61 of <stdin>"
    );
    let out = run(&["check", "-", "--format", "github"], &[], Some(&stream));
    let text = stdout(&out);
    assert!(
        text.contains("::error file=node-metrics/templates/deployment.yaml,title=NP001::"),
        "{text}"
    );
    assert!(
        text.contains("(Deployment monitoring/node-metrics, line 61 of <stdin>)"),
        "{text}"
    );
}

#[test]
fn kustomize_without_kubectl_is_a_clear_error() {
    let out = run(
        &["check", "--kustomize", OVERLAY],
        &[("PALISADE_KUBECTL", "/nonexistent/kubectl")],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("`/nonexistent/kubectl` was not found"),
        "{err}"
    );
    assert!(
        err.contains(&format!("kustomize build {OVERLAY} | palisade check -")),
        "{err}"
    );
    assert!(stdout(&out).is_empty());
}

#[test]
fn a_kustomization_that_does_not_build_is_an_error_quoting_kubectl() {
    let out = palisade(&["check", "--kustomize", "tests/fixtures/kustomize-broken"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("`kubectl kustomize tests/fixtures/kustomize-broken` failed"),
        "{err}"
    );
    assert!(err.contains("missing.yaml"), "{err}");
    let out = palisade(&["check", "--kustomize", "tests/fixtures/repo/README.md"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not a directory"), "{}", stderr(&out));
}

#[test]
fn who_can_answers_from_a_live_dump() {
    let out = palisade(&[
        "rbac",
        "who-can",
        "create",
        "networkpolicies",
        "-n",
        "shop",
        "tests/fixtures/repo/cluster",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("Group shop-devs"), "{}", stdout(&out));
}

#[test]
fn netpol_and_rbac_read_standard_input_and_name_what_they_do_not_model() {
    // Deny-all in `shop`, and a CiliumNetworkPolicy there that opens it:
    // the trace answers for the NetworkPolicies and says what it ignores.
    let stream = b"apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: shop, labels: {app: a}}\nspec: {containers: [{name: c, image: i}]}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: shop, labels: {app: b}}\nspec: {containers: [{name: c, image: i}]}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: shop}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: open, namespace: shop}\nspec: {endpointSelector: {}, ingress: [{fromEntities: [cluster]}]}\n---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: elsewhere, namespace: other}\nspec: {endpointSelector: {}}\n---\napiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: by-label}\nspec: {priority: 1, subject: {namespaces: {matchLabels: {team: a}}}}\n";
    let out = run(
        &[
            "netpol", "trace", "-", "--from", "shop/a", "--to", "shop/b", "--port", "80/TCP",
            "--format", "json",
        ],
        &[],
        Some(stream),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let trace: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(trace["verdict"], "denied");
    assert_eq!(trace["networkPlugin"], "generic");
    // The CNP in `shop`, and the admin policy: `shop`'s labels are not in
    // the inputs, so its selector may pick it. Not the CNP in `other`.
    let unmodelled = trace["unmodelled"].as_array().unwrap();
    assert_eq!(unmodelled.len(), 2, "{unmodelled:?}");
    assert!(
        unmodelled[1]
            .as_str()
            .unwrap()
            .contains("AdminNetworkPolicy by-label"),
        "{unmodelled:?}"
    );
    assert!(
        unmodelled[0].as_str().unwrap().starts_with(
            "<stdin>:16:1: traffic verdict may be incomplete: CiliumNetworkPolicy shop/open"
        ),
        "{unmodelled:?}"
    );
    let out = run(
        &["netpol", "matrix", "-", "--ports", "80/TCP"],
        &[],
        Some(stream),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stderr(&out)
            .lines()
            .filter(|l| l.starts_with("warning: <stdin>:"))
            .count(),
        3
    );
    let rbac = b"apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: devs, namespace: shop}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}\nsubjects: [{kind: Group, name: devs, apiGroup: rbac.authorization.k8s.io}]\n";
    let out = run(
        &[
            "rbac",
            "who-can",
            "create",
            "networkpolicies",
            "-n",
            "shop",
            "-",
        ],
        &[],
        Some(rbac),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("Group devs"), "{}", stdout(&out));
}

//! Plugins cannot claim what is not theirs: the host's `PAL` rules, another
//! plugin's rule IDs, a built-in plugin's name, IDs outside the documented
//! pattern, or metadata large enough to flood every report.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation should abort the test"
)]

use palisade::{ErrorKind, PolicySet};
use palisade_tests::{engine, guests};

const MARKER: &[u8] = b"PALISADE-IMPOSTOR-METADATA:";
const END: &[u8] = b"END-OF-IMPOSTOR-METADATA";

fn find(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    haystack
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect()
}

/// The impostor guest with `json` patched in as its metadata.
fn impostor(json: &str) -> Vec<u8> {
    let mut bytes = std::fs::read(guests::IMPOSTOR).expect("impostor guest is built by build.rs");
    let starts = find(&bytes, MARKER);
    let ends = find(&bytes, END);
    assert_eq!((starts.len(), ends.len()), (1, 1), "one metadata buffer");
    let (at, end) = (starts[0] + MARKER.len(), ends[0]);
    assert!(json.len() <= end - at, "metadata too long for the buffer");
    bytes[at..end].fill(b' ');
    bytes[at..at + json.len()].copy_from_slice(json.as_bytes());
    bytes
}

fn rejected(json: &str) -> palisade::Error {
    engine()
        .load_plugin(&impostor(json))
        .expect_err("the impostor must be rejected")
}

#[test]
fn the_unpatched_impostor_loads() {
    let plugin = engine()
        .load_plugin(&impostor(r#"{"id": "acme-rules", "rules": ["ACME-1"]}"#))
        .unwrap();
    assert_eq!(plugin.id(), "acme-rules");
    assert_eq!(plugin.rules()[0].id, "ACME-1");
}

#[test]
fn the_host_rule_prefix_is_reserved() {
    let e = rejected(r#"{"id": "acme", "rules": ["PAL001"]}"#);
    assert_eq!(e.kind(), ErrorKind::Plugin);
    assert!(e.message().contains("`PAL` prefix is reserved"), "{e}");
}

#[test]
fn built_in_plugin_ids_are_reserved() {
    for id in ["default-deny", "squid", "palisade"] {
        let e = rejected(&format!(r#"{{"id": "{id}", "rules": ["ACME001"]}}"#));
        assert!(e.message().contains("is reserved"), "{id}: {e}");
    }
    // The real built-in loads under its name.
    assert_eq!(
        engine().load_builtin("default-deny").unwrap().id(),
        "default-deny"
    );
}

#[test]
fn rule_and_plugin_ids_follow_one_pattern() {
    for (json, needle) in [
        (r#"{"id": "acme", "rules": [""]}"#, "does not match"),
        (r#"{"id": "acme", "rules": ["np001"]}"#, "does not match"),
        (
            r#"{"id": "acme", "rules": ["NP\u001b[2J001"]}"#,
            "does not match",
        ),
        (r#"{"id": "Acme Rules", "rules": ["ACME001"]}"#, "plugin ID"),
        (
            r#"{"id": "acme", "rules": ["ACME001", "ACME001"]}"#,
            "twice",
        ),
    ] {
        let e = rejected(json);
        assert!(e.message().contains(needle), "{json}: {e}");
        assert!(!e.message().contains('\u{1b}'), "escape printed raw: {e:?}");
    }
    let long = format!(r#"{{"id": "acme", "rules": ["{}"]}}"#, "A".repeat(2000));
    let e = rejected(&long);
    assert!(
        e.message().len() < 300,
        "the error repeats the whole ID: {e}"
    );
}

#[test]
fn metadata_holds_no_control_characters() {
    let e = rejected(
        r#"{"id": "acme", "rules": ["ACME001"], "summary": "fine\u001b[2J\r\nerror[NP001]: forged"}"#,
    );
    assert!(e.message().contains("control character U+001B"), "{e}");
    assert!(!e.message().contains('\u{1b}'), "{e:?}");
}

#[test]
fn metadata_is_bounded() {
    let e = rejected(r#"{"id": "acme", "generate": 1001}"#);
    assert!(e.message().contains("1001 rules, more than 1000"), "{e}");
    // A million rules (a 9.7 GiB SARIF run once) never reach a report: the
    // plugin runs out of budget building them, or the host refuses them.
    rejected(r#"{"id": "acme", "generate": 1000000}"#);
    let e = rejected(r#"{"id": "acme", "generate": 100, "doc_bytes": 20000}"#);
    assert!(e.message().contains("bytes of metadata"), "{e}");
    let e = rejected(r#"{"id": "acme", "rules": ["ACME001"], "doc_bytes": 100000}"#);
    assert!(e.message().contains("doc is 100000 bytes"), "{e}");
}

#[test]
fn two_plugins_cannot_declare_one_rule() {
    let bytes = impostor(r#"{"id": "acme", "rules": ["NP001"]}"#);
    let dir = std::env::temp_dir().join(format!("palisade-identity-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("acme.wasm"), &bytes).unwrap();
    let sha = engine().load_plugin(&bytes).unwrap().sha256().to_string();
    let text = format!(
        "apiVersion: palisade.dev/v1alpha1\nkind: PolicySet\nspec:\n  plugins:\n    - builtin: default-deny\n    - path: acme.wasm\n      sha256: \"{sha}\"\n"
    );
    std::fs::write(dir.join("policy.yaml"), &text).unwrap();
    let set = PolicySet::from_file(dir.join("policy.yaml")).unwrap();
    let e = engine().checker(&set, Vec::new()).expect_err("conflict");
    assert_eq!(e.kind(), ErrorKind::Policy);
    assert!(
        e.message()
            .contains("plugins `default-deny` and `acme` both declare rule `NP001`"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn excluded_namespaces_hold_for_plugins_that_ignore_them() {
    // A third-party plugin that reports on every object it is given: the
    // host keeps none about the excluded namespace, the namespace itself
    // included.
    let plugin = engine()
        .load_plugin(&impostor(
            r#"{"id": "careless", "rules": ["CARE001"], "report_all": true}"#,
        ))
        .unwrap();
    let set = PolicySet::parse(
        "policy.yaml",
        "apiVersion: palisade.dev/v1alpha1\nkind: PolicySet\nspec:\n  excludedNamespaces: [kube-system]\n  plugins: []\n",
    )
    .unwrap();
    let checker = engine().checker(&set, vec![plugin]).unwrap();
    let inputs = palisade::Inputs::new().text(
        "cluster.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: kube-system}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: kube-system}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: shop}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: c}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: sneaky, namespace: kube-system}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}\nsubjects: [{kind: Group, name: system:authenticated, apiGroup: rbac.authorization.k8s.io}]\n",
    );
    let report = checker.check(&inputs);
    assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
    let objects: Vec<String> = report
        .findings
        .iter()
        .map(|f| f.object.to_string())
        .collect();
    // RBAC objects stay whatever their namespace: a control path.
    assert_eq!(
        objects,
        [
            "ConfigMap shop/b",
            "ClusterRole c",
            "RoleBinding kube-system/sneaky"
        ]
    );
}

#[test]
fn a_suite_tests_a_plugin_under_development() {
    // `palisade test --plugin FILE`: the plugin joins the suite's policy,
    // so its rule's fixtures are judged; without it they fail.
    let dir = std::env::temp_dir().join(format!("palisade-suite-plugin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("suite.yaml"),
        "apiVersion: palisade.dev/v1alpha1\nkind: TestSuite\nmetadata: {name: careless}\nspec:\n  rule: CARE001\n  plugins: []\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("fail-any.yaml"),
        "# expect: CARE001 ConfigMap shop/b\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: shop}\n",
    )
    .unwrap();
    let suite = palisade::suite::Suite::load(&dir.join("suite.yaml")).unwrap();
    let plugin = engine()
        .load_plugin(&impostor(
            r#"{"id": "careless", "rules": ["CARE001"], "report_all": true}"#,
        ))
        .unwrap();
    let with = suite.checker_with(engine(), vec![plugin]).unwrap();
    let (result, _) = suite.run_case(&with, 0).unwrap();
    assert!(result.passed(), "{result:?}");
    let without = suite.checker(engine()).unwrap();
    let (result, _) = suite.run_case(&without, 0).unwrap();
    assert_eq!(result.missing, ["CARE001 ConfigMap shop/b"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

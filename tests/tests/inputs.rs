//! Bad input is normal input: every problem is a diagnostic with its
//! position, the rest of the input is still evaluated, and nothing panics.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed expectation should abort the test"
)]

use palisade::{DiagnosticKind, Inputs, PolicySet, Report};
use palisade_tests::{engine, workspace};

fn check(inputs: &Inputs) -> Report {
    engine()
        .checker(&PolicySet::builtin_default(), Vec::new())
        .unwrap()
        .check(inputs)
}

fn located(report: &Report) -> Vec<String> {
    report
        .diagnostics
        .iter()
        .map(|d| match &d.location {
            Some(l) => format!("{l}: {}", d.message),
            None => d.message.clone(),
        })
        .collect()
}

#[test]
fn a_broken_file_is_reported_and_the_others_are_still_checked() {
    let dir = workspace().join("tests/fixtures/inputs/broken-dir");
    let report = check(&Inputs::new().path(&dir));
    let diags = located(&report);
    let prefix = dir.display().to_string();
    assert_eq!(diags.len(), 2, "{diags:#?}");
    assert!(
        diags[0].starts_with(&format!("{prefix}/a-broken.yaml:12:"))
            && diags[0].contains("invalid YAML"),
        "{diags:#?}"
    );
    assert!(
        diags[1].starts_with(&format!("{prefix}/c-invalid-cidr.yaml:12:13: "))
            && diags[1].contains("invalid CIDR `10.0.0.0/33`"),
        "{diags:#?}"
    );
    // The valid file's Deployment and the broken file's first document are
    // still evaluated; the invalid policy isolates nothing.
    let about: Vec<String> = report
        .findings
        .iter()
        .map(|f| format!("{} {}", f.rule, f.object))
        .collect();
    assert_eq!(
        about,
        [
            "NP001 Deployment payments/api",
            "NP002 Deployment payments/api"
        ]
    );
    assert_eq!(report.summary.objects, 3);
}

#[test]
fn unknown_fields_of_a_network_policy_are_refused_where_they_are() {
    // `podSelector: {app: web}` is no label selector: a decoder that drops
    // the unknown field reads `{}`, every pod of the namespace. kubectl
    // refuses it, so the policy is left out, with the field located.
    let text = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {app: web}
  policyTypes: [Ingress, Egress]
  egress:
  - to:
    - namespaceSelector: {matchLabels: {team: a}, matchExpresions: []}
      ipblock: {cidr: 10.0.0.0/8}
    ports: [{port: 443, protocol: TCP, endport: 444}]
  ingres: []
";
    let report = check(&Inputs::new().text("np.yaml", text));
    let diags = located(&report);
    let fields: Vec<(&str, &str)> = diags
        .iter()
        .map(|d| {
            let at = d.split(": ").next().unwrap();
            let field = d.split('`').nth(3).unwrap();
            (at, field)
        })
        .collect();
    assert_eq!(
        fields,
        [
            ("np.yaml:5:17", "app"),
            ("np.yaml:9:51", "matchExpresions"),
            ("np.yaml:10:7", "ipblock"),
            ("np.yaml:11:40", "endport"),
            ("np.yaml:12:3", "ingres"),
        ],
        "{diags:#?}"
    );
    assert!(
        diags.iter().all(|d| d.contains("left out of the model")),
        "{diags:#?}"
    );
    assert_eq!(report.diagnostics[0].kind, DiagnosticKind::Input);
}

#[test]
fn missing_paths_are_diagnosed() {
    let report = check(&Inputs::new().path("/nonexistent/palisade-input"));
    assert_eq!(report.diagnostics.len(), 1);
    assert_eq!(report.diagnostics[0].kind, DiagnosticKind::Input);
    assert!(
        report.diagnostics[0]
            .message
            .contains("cannot read `/nonexistent/palisade-input`")
    );
}

#[test]
fn invalid_policies_are_diagnosed_at_the_field() {
    let text = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec:\n  podSelector:\n    matchExpressions:\n      - {key: app, operator: In}\n  ingress:\n    - ports:\n        - {port: 70000}\n        - {port: http, endPort: 90}\n        - {port: 80, protocol: ICMP}\n    - from:\n        - ipBlock: {cidr: 10.0.0.0/8, except: [192.168.0.0/16]}\n";
    let report = check(&Inputs::new().text("p.yaml", text));
    let diags = located(&report);
    let positions: Vec<&str> = diags
        .iter()
        .map(|d| d.split(": ").next().unwrap())
        .collect();
    assert_eq!(
        positions,
        [
            "p.yaml:5:3",
            "p.yaml:10:12",
            "p.yaml:11:24",
            "p.yaml:12:22",
            "p.yaml:14:48"
        ],
        "{diags:#?}"
    );
    assert!(diags[0].contains("needs at least one value"));
    assert!(diags[4].contains("not inside cidr"));
}

#[test]
fn every_truncation_of_a_manifest_is_handled_without_panicking() {
    let text = std::fs::read_to_string(workspace().join("tests/demo/insecure/shop.yaml")).unwrap();
    let mut cut = 0;
    while cut < text.len() {
        if text.is_char_boundary(cut) {
            let report = check(&Inputs::new().text("t.yaml", &text[..cut]));
            for d in &report.diagnostics {
                assert!(d.location.is_some(), "cut at {cut}: unlocated {d:?}");
            }
        }
        cut += 5;
    }
}

#[test]
fn adversarial_documents_are_diagnosed() {
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n",
            p = i - 1
        ));
    }
    for (name, text) in [
        ("deep.yaml", deep.as_str()),
        ("bomb.yaml", bomb.as_str()),
        ("scalar.yaml", "42\n"),
        ("binary.yaml", "\u{0}\u{1}\u{2}kind: [\n"),
        ("list.yaml", "apiVersion: v1\nkind: List\nitems: 3\n"),
        ("nokind.yaml", "apiVersion: v1\nmetadata: {name: x}\n"),
    ] {
        let report = check(&Inputs::new().text(name, text));
        assert!(!report.diagnostics.is_empty(), "{name} must be diagnosed");
        assert!(
            report
                .diagnostics
                .iter()
                .all(|d| d.location.as_ref().is_some_and(|l| l.file == name)),
            "{name}: {:#?}",
            report.diagnostics
        );
    }
}

#[test]
fn unknown_fields_of_a_policy_are_reported_up_to_a_bound() {
    let keys: String = (0..40).map(|i| format!("  typo{i}: 1\n")).collect();
    let text = format!(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p, namespace: a}}\nspec:\n  podSelector: {{}}\n{keys}"
    );
    let report = check(&Inputs::new().text("np.yaml", text.as_str()));
    assert_eq!(report.diagnostics.len(), 32, "{:#?}", report.diagnostics);
    assert_eq!(
        report
            .diagnostics
            .iter()
            .filter(|d| d.message.ends_with("(and 8 more unknown fields)"))
            .count(),
        1
    );
}

#[test]
fn the_items_of_a_list_are_located_each_at_its_own_place() {
    // `kubectl get -o json|yaml` writes Lists: each item's problems point
    // into that item, in YAML and in JSON alike.
    let yaml = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Namespace, metadata: {name: a}}\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: b}\n- apiVersion: v1\n  kind: Namespace\n  metadata: {}\n";
    let json = "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [\n  {\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\"}},\n  {\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"b\"}},\n  {\"apiVersion\": \"v1\",\n   \"kind\": \"Namespace\",\n   \"metadata\": {}}]}\n";
    for (name, text, at) in [
        ("list.yaml", yaml, "list.yaml:10:3"),
        ("list.json", json, "list.json:6:4"),
    ] {
        let report = check(&Inputs::new().text(name, text));
        let diags = located(&report);
        assert_eq!(diags.len(), 1, "{diags:#?}");
        assert!(diags[0].starts_with(&format!("{at}: ")), "{diags:#?}");
        assert_eq!(report.summary.objects, 2, "{name}");
    }
}

#[test]
fn every_wrong_type_is_located_at_its_field() {
    let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      hostNetwork: \"yes\"\n      containers:\n        - name: web\n          image: nginx\n          ports:\n            - containerPort: eighty\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: shop}\nspec:\n  podSelector: {}\n  policyTypes: Ingress\n";
    let report = check(&Inputs::new().text("t.yaml", text));
    let diags = located(&report);
    assert_eq!(diags.len(), 3, "{diags:#?}");
    assert!(
        diags[0].starts_with("t.yaml:9:7: invalid pod spec: invalid type"),
        "{diags:#?}"
    );
    assert!(
        diags[1].starts_with("t.yaml:14:15: invalid pod spec: invalid type"),
        "{diags:#?}"
    );
    assert!(
        diags[2].starts_with("t.yaml:21:3: invalid NetworkPolicy: invalid type"),
        "{diags:#?}"
    );
}

#[test]
fn invalid_pod_ips_are_located() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec: {containers: [{name: c, image: i}]}\nstatus:\n  podIP: 999.1.1.1\n  podIPs:\n    - ip: 10.0.0.1\n    - ip: fe80::zz\n";
    let report = check(&Inputs::new().text("p.yaml", text));
    let diags = located(&report);
    assert_eq!(diags.len(), 2, "{diags:#?}");
    assert!(
        diags[0].starts_with("p.yaml:6:3: `999.1.1.1` is not an IP address"),
        "{diags:#?}"
    );
    assert!(
        diags[1].starts_with("p.yaml:9:7: `fe80::zz` is not an IP address"),
        "{diags:#?}"
    );
}

#[test]
fn wrong_types_in_rbac_objects_are_located_at_their_fields() {
    let text = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, namespace: shop}\nrules:\n  - apiGroups: [\"\"]\n    resources: [pods]\n    verbs: get\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, namespace: shop}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}\nsubjects: {kind: User, name: eve}\n";
    let report = check(&Inputs::new().text("rbac.yaml", text));
    let diags = located(&report);
    assert_eq!(diags.len(), 2, "{diags:#?}");
    assert!(
        diags[0].starts_with("rbac.yaml:7:5: invalid Role: invalid type"),
        "{diags:#?}"
    );
    assert!(
        diags[1].starts_with("rbac.yaml:13:1: invalid RoleBinding: invalid type"),
        "{diags:#?}"
    );
}

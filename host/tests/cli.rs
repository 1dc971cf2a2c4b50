//! End-to-end tests of the `palisade` binary: exit statuses, formats,
//! determinism. Outputs are insta snapshots.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed expectation should abort the test"
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{palisade, stderr, stdout, workspace};

#[test]
fn demo_reports_the_open_namespace_and_exits_1() {
    let out = palisade(&["check", "tests/demo/insecure"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    insta::assert_snapshot!("check_demo_human", stdout(&out));
}

#[test]
fn json_report_is_versioned_and_byte_identical_across_runs() {
    let a = palisade(&["check", "tests/demo/insecure", "--format", "json"]);
    let b = palisade(&["check", "tests/demo/insecure", "--format", "json"]);
    assert_eq!(a.status.code(), Some(1));
    assert_eq!(
        a.stdout, b.stdout,
        "output must be byte-identical across runs"
    );
    let v: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["summary"]["findings"]["error"], 34);
    let first = &v["findings"][0];
    for key in [
        "plugin", "rule", "severity", "message", "object", "location", "path",
    ] {
        assert!(first.get(key).is_some(), "finding lacks `{key}`: {first}");
    }
    insta::assert_snapshot!("check_demo_json", stdout(&a));
}

#[test]
fn the_secure_demo_passes_with_both_policy_sets() {
    for policy in [None, Some("policies/private-subnet.yaml")] {
        let mut args = vec!["check", "tests/demo/secure"];
        if let Some(p) = policy {
            args.extend(["--policy", p]);
        }
        let out = palisade(&args);
        assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
        assert_eq!(
            stdout(&out),
            "no findings: 6 files, 16 objects, 5 plugins\n"
        );
    }
}

#[test]
fn fail_on_sets_the_threshold() {
    let out = palisade(&["check", "tests/demo/insecure", "--fail-on", "never"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_broken_file_exits_2_with_its_position_and_the_other_findings() {
    let out = palisade(&["check", "tests/fixtures/inputs/broken-dir"]);
    assert_eq!(out.status.code(), Some(2));
    let text = stdout(&out);
    assert!(
        text.contains("--> tests/fixtures/inputs/broken-dir/a-broken.yaml:12:"),
        "{text}"
    );
    assert!(
        text.contains("error[NP001]: Deployment `payments/api`"),
        "{text}"
    );
    insta::assert_snapshot!("check_broken_dir", text);
}

#[test]
fn errors_win_over_fail_on_never() {
    let out = palisade(&[
        "check",
        "tests/fixtures/inputs/broken-dir",
        "--fail-on",
        "never",
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a failure never reads as a pass"
    );
}

/// `palisade check -` with `input` on standard input.
fn check_stdin(input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["check", "-", "--no-cache"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn stdin_is_read_with_a_dash() {
    let out = check_stdin(b"apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: x}\nspec: {containers: [{name: c, image: i}]}\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("--> <stdin>:3:"), "{}", stdout(&out));
}

#[test]
fn binary_or_empty_stdin_is_an_error_not_a_pass() {
    // Binary input used to abort the whole check; empty input passed.
    let out = check_stdin(b"apiVersion: v1\nkind: Namespace\nmetadata: {name: \xff\xfe}\n");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stdout(&out).contains("is not UTF-8"), "{}", stdout(&out));
    assert!(stdout(&out).contains("<stdin>:3:18"), "{}", stdout(&out));
    let out = check_stdin(b"");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("no objects found in `<stdin>`"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn rules_and_explain_come_from_plugin_metadata() {
    let rules = palisade(&["rules"]);
    assert_eq!(rules.status.code(), Some(0));
    insta::assert_snapshot!("rules", stdout(&rules));
    let explain = palisade(&["explain", "np002"]);
    assert_eq!(explain.status.code(), Some(0));
    let text = stdout(&explain);
    assert!(
        text.starts_with("# NP002 workload-not-isolated-for-egress\n"),
        "{text}"
    );
    assert!(text.contains("## How to fix"));
    let unknown = palisade(&["explain", "XX999"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("known rules: NP001, NP002"),
        "{}",
        stderr(&unknown)
    );
}

#[test]
fn usage_and_policy_errors_exit_2() {
    assert_eq!(
        palisade(&["check", "--format", "xml"]).status.code(),
        Some(2)
    );
    let out = palisade(&[
        "check",
        "tests/demo/insecure",
        "--policy",
        "tests/fixtures/policies/bad-severity.yaml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("tests/fixtures/policies/bad-severity.yaml:9:9: unknown severity `critical`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_policy_set_disables_rules_and_overrides_severity() {
    let out = palisade(&[
        "check",
        "tests/demo/insecure",
        "--policy",
        "tests/fixtures/policies/ingress-warning.yaml",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("warning[NP001]"), "{text}");
    assert!(!text.contains("NP002"), "{text}");
}

#[test]
fn netpol_matrix_honours_the_json_contract() {
    let out = palisade(&[
        "netpol",
        "matrix",
        "tests/demo/insecure/namespaces.yaml",
        "tests/demo/insecure/shop.yaml",
        "tests/demo/insecure/egress-proxy.yaml",
        "--ports",
        "3128/TCP,53/UDP",
        "--external",
        "192.168.1.10,2001:db8::1",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["3128/TCP", "53/UDP"]);
    insta::assert_snapshot!("netpol_matrix_json", stdout(&out));
    let none = palisade(&[
        "netpol",
        "matrix",
        "tests/demo/insecure/shop.yaml",
        "--ports",
        "80/TCP",
        "--external",
        "",
    ]);
    assert_eq!(none.status.code(), Some(0));
    assert_eq!(stdout(&none), "{\"80/TCP\":[]}\n");
}

/// `--format classes` is the same matrix by equivalence class: expanded,
/// it gives the pairs of `--format json`.
#[test]
fn netpol_matrix_by_class_expands_to_the_pairs() {
    let args = |format: &'static str| {
        palisade(&[
            "netpol",
            "matrix",
            "tests/demo/insecure",
            "--ports",
            "3128/TCP,53/UDP",
            "--external",
            "192.168.1.10",
            "--format",
            format,
        ])
    };
    let pairs = args("json");
    let classes = args("classes");
    assert_eq!(classes.status.code(), Some(0), "{}", stderr(&classes));
    let pairs: serde_json::Value = serde_json::from_slice(&pairs.stdout).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&classes.stdout).unwrap();
    assert_eq!(doc["version"], 1);
    let targets: Vec<Vec<String>> = serde_json::from_value(doc["targets"].clone()).unwrap();
    let externals = 1;
    let classes_end = targets.len() - externals;
    for (port, rows) in doc["allowed"].as_object().unwrap() {
        let rows: Vec<(usize, Vec<usize>)> = serde_json::from_value(rows.clone()).unwrap();
        let mut expanded: Vec<(String, String)> = Vec::new();
        for (from, to) in rows {
            for t in to {
                if from >= classes_end && t >= classes_end {
                    continue;
                }
                for f in &targets[from] {
                    for d in &targets[t] {
                        if f != d {
                            expanded.push((f.clone(), d.clone()));
                        }
                    }
                }
            }
        }
        expanded.sort();
        let want: Vec<(String, String)> = serde_json::from_value(pairs[port].clone()).unwrap();
        assert_eq!(expanded, want, "{port}");
    }
}

#[test]
fn netpol_table_and_trace_for_people() {
    let table = palisade(&[
        "netpol",
        "matrix",
        "tests/demo/insecure",
        "--ports",
        "3128/TCP",
        "--format",
        "table",
    ]);
    assert_eq!(table.status.code(), Some(0));
    insta::assert_snapshot!("netpol_matrix_table", stdout(&table));
    let trace = palisade(&[
        "netpol",
        "trace",
        "tests/demo/insecure",
        "--from",
        "shop/web",
        "--to",
        "egress-proxy/squid",
        "--port",
        "8080/TCP",
    ]);
    assert_eq!(trace.status.code(), Some(0));
    insta::assert_snapshot!("netpol_trace_denied", stdout(&trace));
    let json = palisade(&[
        "netpol",
        "trace",
        "tests/demo/insecure",
        "--from",
        "shop/web",
        "--to",
        "egress-proxy/squid",
        "--port",
        "3128/TCP",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["verdict"], "allowed");
    assert_eq!(
        v["egress"]["allowedBy"][0]["policy"],
        "shop/egress-via-proxy"
    );
    let bad = palisade(&[
        "netpol",
        "trace",
        "tests/demo/insecure",
        "--from",
        "x/y",
        "--to",
        "shop/web",
        "--port",
        "80/TCP",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("no pod or workload `x/y`"),
        "{}",
        stderr(&bad)
    );
}

/// A fresh scratch directory for files a test writes.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("palisade-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn every_format_in_one_run_with_outputs() {
    let dir = scratch("outputs");
    let formats = ["json", "sarif", "junit", "github", "policyreport", "human"];
    let mut args: Vec<String> = vec![
        "check".into(),
        "tests/demo/insecure".into(),
        "--format".into(),
        "github".into(),
    ];
    for f in formats {
        args.push("--output".into());
        args.push(format!("{f}={}", dir.join(format!("report.{f}")).display()));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = palisade(&args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    insta::assert_snapshot!("check_demo_github", stdout(&out));
    for f in formats {
        let text = std::fs::read_to_string(dir.join(format!("report.{f}"))).unwrap();
        insta::assert_snapshot!(format!("check_demo_output_{f}"), text);
    }
    let sarif = std::fs::read_to_string(dir.join("report.sarif")).unwrap();
    assert!(
        sarif.contains("\"uri\": \"tests/demo/insecure/legacy.yaml\""),
        "{sarif}"
    );
    let bad = palisade(&["check", "tests/demo/insecure", "--output", "xml=x.xml"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("unknown format `xml`"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn exemptions_expire_and_unused_ones_are_reported() {
    let run = |now: &str| {
        palisade(&[
            "check",
            "tests/demo/insecure",
            "--exemptions",
            "tests/fixtures/exemptions/demo.yaml",
            "--now",
            now,
            "--show-exempted",
        ])
    };
    let out = run("2026-11-26");
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("exemptions_2026_11_26", stdout(&out));
    // After every expiry date nothing is exempted any more.
    let later = run("2027-06-01");
    let text = stdout(&later);
    assert!(!text.contains("exempted["), "{text}");
    assert_eq!(text.matches("error[PAL001]").count(), 3, "{text}");
    // The date also comes from the environment.
    let env = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args([
            "check",
            "tests/demo/insecure",
            "--no-cache",
            "--exemptions",
            "tests/fixtures/exemptions/demo.yaml",
            "--format",
            "json",
        ])
        .current_dir(workspace())
        .env("PALISADE_NOW", "2026-11-26")
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&env.stdout).unwrap();
    assert_eq!(v["summary"]["exempted"], 2);
    assert!(
        v.get("exempted").is_none(),
        "listed only with --show-exempted"
    );
    let bad = run("yesterday");
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn a_policy_set_can_name_the_exemptions_file() {
    let out = palisade(&[
        "check",
        "tests/demo/insecure",
        "--policy",
        "tests/fixtures/policies/with-exemptions.yaml",
        "--now",
        "2026-11-26",
    ]);
    let text = stdout(&out);
    assert!(text.contains(", 2 exempted"), "{text}");
    assert!(
        text.contains("--> tests/fixtures/policies/../exemptions/demo.yaml:10:5"),
        "{text}"
    );
}

#[test]
fn annotations_exempt_unless_disabled_and_never_on_control_paths() {
    let out = palisade(&[
        "check",
        "tests/fixtures/exemptions/annotated.yaml",
        "--show-exempted",
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("exempted[NP001]: Deployment `jobs/batch`"),
        "{text}"
    );
    assert!(text.contains("warning[PAL003]: the `palisade.dev/exempt` annotation of Deployment jobs/sloppy is ignored: it is malformed"), "{text}");
    assert!(
        text.contains("annotation of NetworkPolicy jobs/allow-all is ignored: `NetworkPolicy` objects are on the control paths"),
        "{text}"
    );
    insta::assert_snapshot!("annotations", text);
    let off = palisade(&[
        "check",
        "tests/fixtures/exemptions/annotated.yaml",
        "--policy",
        "tests/fixtures/policies/no-annotations.yaml",
    ]);
    let text = stdout(&off);
    assert!(
        text.contains("error[NP001]: Deployment `jobs/batch`"),
        "{text}"
    );
    assert!(
        text.contains("the policy set disables annotation exemptions"),
        "{text}"
    );
}

#[test]
fn a_baseline_accepts_todays_findings_and_catches_new_ones() {
    let dir = scratch("baseline");
    let baseline = dir.join("baseline.json");
    let baseline = baseline.to_str().unwrap();
    let write = palisade(&["check", "tests/demo/insecure", "--write-baseline", baseline]);
    assert_eq!(write.status.code(), Some(0), "{}", stderr(&write));
    let again = palisade(&["check", "tests/demo/insecure", "--baseline", baseline]);
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
    assert!(
        stdout(&again)
            .contains("no findings, 44 in the baseline (0 baseline entries no longer occur)"),
        "{}",
        stdout(&again)
    );
    let new = palisade(&[
        "check",
        "tests/demo/insecure",
        "tests/fixtures/inputs/new-workload.yaml",
        "--baseline",
        baseline,
    ]);
    assert_eq!(new.status.code(), Some(1));
    let text = stdout(&new);
    assert!(text.contains("Deployment `legacy/newcomer`"), "{text}");
    assert!(!text.contains("legacy/reports"), "{text}");
    // Fixed findings show up as stale entries.
    let fixed = palisade(&[
        "check",
        "tests/demo/insecure/shop.yaml",
        "--baseline",
        baseline,
    ]);
    assert!(
        stdout(&fixed).contains("36 baseline entries no longer occur"),
        "{}",
        stdout(&fixed)
    );
    // A baseline never hides an error.
    let broken = palisade(&[
        "check",
        "tests/fixtures/inputs/broken-dir",
        "--baseline",
        baseline,
    ]);
    assert_eq!(broken.status.code(), Some(2));
}

#[test]
fn palisade_test_runs_suites_and_shows_differences() {
    let ok = palisade(&["test", "tests/fixtures/rules"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stdout(&ok));
    assert!(
        stdout(&ok).ends_with(" passed, 0 failed\n"),
        "{}",
        stdout(&ok)
    );
    let wrong = palisade(&["test", "tests/fixtures/suites/wrong-expectation"]);
    assert_eq!(wrong.status.code(), Some(1));
    insta::assert_snapshot!("test_wrong_expectation", stdout(&wrong));
    let junit = palisade(&[
        "test",
        "tests/fixtures/suites/wrong-expectation",
        "--format",
        "junit",
    ]);
    assert!(
        stdout(&junit).contains("<failure message=\"findings differ\">- NP001 Deployment shop/api"),
        "{}",
        stdout(&junit)
    );
    let none = palisade(&["test", "tests/demo/insecure"]);
    assert_eq!(none.status.code(), Some(2));
    // Suites name their own policy: `--policy` is refused, not ignored.
    let policy = palisade(&[
        "test",
        "tests/fixtures/rules/default-deny/NP001",
        "--policy",
        "policies/default.yaml",
    ]);
    assert_eq!(policy.status.code(), Some(2));
    assert!(
        stderr(&policy).contains("takes no --policy"),
        "{}",
        stderr(&policy)
    );
}

#[test]
fn rbac_can_i_honours_the_batch_contract() {
    let out = palisade(&[
        "rbac",
        "can-i",
        "--manifests",
        "tests/fixtures/rbac/cluster.yaml",
        "--queries",
        "tests/fixtures/rbac/queries.json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "[true,false,true,true,false]\n");
    let without = palisade(&[
        "rbac",
        "can-i",
        "--manifests",
        "tests/fixtures/rbac/cluster.yaml",
        "--queries",
        "tests/fixtures/rbac/queries.json",
        "--no-builtin-roles",
    ]);
    assert_eq!(stdout(&without), "[false,false,true,false,false]\n");
}

#[test]
fn rbac_can_i_for_people() {
    let yes = palisade(&[
        "rbac",
        "can-i",
        "create",
        "networkpolicies",
        "--api-group",
        "networking.k8s.io",
        "--namespace",
        "shop",
        "--as",
        "jo",
        "--as-group",
        "shop-devs",
        "tests/fixtures/rbac/cluster.yaml",
        "--explain",
    ]);
    assert_eq!(yes.status.code(), Some(0));
    insta::assert_snapshot!("rbac_can_i_explain", stdout(&yes));
    let no = palisade(&[
        "rbac",
        "can-i",
        "update",
        "configmaps",
        "other",
        "--namespace",
        "egress-proxy",
        "--as-serviceaccount",
        "ci:deployer",
        "tests/fixtures/rbac/cluster.yaml",
        "--explain",
    ]);
    assert_eq!(no.status.code(), Some(1));
    assert_eq!(
        stdout(&no),
        "no\n  no binding grants it to this user or its groups\n"
    );
    let named = palisade(&[
        "rbac",
        "can-i",
        "update",
        "configmaps",
        "squid",
        "--namespace",
        "egress-proxy",
        "--as-serviceaccount",
        "ci:deployer",
        "tests/fixtures/rbac/cluster.yaml",
    ]);
    assert_eq!(named.status.code(), Some(0));
}

#[test]
fn rbac_who_can_lists_subjects_with_binding_role_and_rule() {
    let out = palisade(&[
        "rbac",
        "who-can",
        "create",
        "pods/exec",
        "tests/fixtures/rbac/cluster.yaml",
        "--namespace",
        "egress-proxy",
    ]);
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!("rbac_who_can_exec_proxy", stdout(&out));
    let json = palisade(&[
        "rbac",
        "who-can",
        "update",
        "networkpolicies",
        "--api-group",
        "networking.k8s.io",
        "tests/fixtures/rbac/cluster.yaml",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let subjects: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["subject"]["kind"].as_str().unwrap(),
                r["subject"]["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(subjects, ["Group platform-admins", "Group shop-devs"]);
}

/// The subjects `who-can` names for a control-path question, as `Kind name`.
fn who_can(args: &[&str]) -> Vec<String> {
    let mut full = vec!["rbac", "who-can"];
    full.extend_from_slice(args);
    full.extend(["--format", "json"]);
    let out = palisade(&full);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut subjects: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let s = &r["subject"];
            match s["namespace"].as_str() {
                Some(ns) => format!(
                    "{} {ns}/{}",
                    s["kind"].as_str().unwrap(),
                    s["name"].as_str().unwrap()
                ),
                None => format!(
                    "{} {}",
                    s["kind"].as_str().unwrap(),
                    s["name"].as_str().unwrap()
                ),
            }
        })
        .collect();
    subjects.dedup();
    subjects
}

#[test]
fn who_can_names_the_subjects_the_control_path_rule_reports() {
    let netpol = [
        "update",
        "networkpolicies",
        "--api-group",
        "networking.k8s.io",
    ];
    let exec = ["create", "pods/exec", "-n", "egress-proxy"];
    let config = ["update", "configmaps", "squid", "-n", "egress-proxy"];
    let ask = |q: &[&str], demo: &str| {
        let mut a = q.to_vec();
        a.push(demo);
        who_can(&a)
    };
    let insecure = "tests/demo/insecure";
    assert_eq!(ask(&netpol, insecure), ["Group shop-devs"]);
    assert_eq!(
        ask(&exec, insecure),
        ["Group support", "ServiceAccount legacy/deployer"]
    );
    assert_eq!(
        ask(&config, insecure),
        ["Group support", "ServiceAccount legacy/deployer"]
    );
    // The rbac-control-paths plugin reports exactly those subjects.
    let check = palisade(&["check", insecure, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    let mut reported: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "RB001")
        .map(|f| {
            let m = f["message"].as_str().unwrap();
            m.split(" reaches").next().unwrap().replace('`', "")
        })
        .collect();
    reported.sort();
    assert_eq!(
        reported,
        [
            "Group shop-devs",
            "Group support",
            "ServiceAccount legacy/deployer"
        ]
    );
    // On the secure demo nobody holds a control path through the manifests
    // (platform admins act as system:masters).
    let secure = "tests/demo/secure";
    for q in [&netpol[..], &exec[..], &config[..]] {
        assert!(ask(q, secure).is_empty(), "{q:?}");
    }
}

#[test]
fn rbac_can_i_batch_agrees_with_every_engine_case() {
    // The engine's data-driven cases (tests/rbac/cases), run through the
    // command-line contract: manifests file + queries JSON -> booleans.
    let dir = scratch("rbac-cases");
    let cases = workspace().join("tests/rbac/cases");
    let mut files: Vec<_> = std::fs::read_dir(&cases)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 10);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let case: serde_json::Value = palisade::testing::from_yaml(&text).unwrap();
        let manifests = dir.join("manifests.yaml");
        std::fs::write(&manifests, case["manifests"].as_str().unwrap()).unwrap();
        let mut want = Vec::new();
        let queries: Vec<serde_json::Value> = case["queries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| {
                want.push(q["allowed"].as_bool().unwrap());
                let field = |k: &str| q.get(k).cloned().unwrap_or(serde_json::json!(""));
                serde_json::json!({
                    "user": field("user"),
                    "groups": q.get("groups").cloned().unwrap_or(serde_json::json!([])),
                    "verb": field("verb"),
                    "apiGroup": field("apiGroup"),
                    "resource": field("resource"),
                    "subresource": field("subresource"),
                    "namespace": field("namespace"),
                    "name": field("name"),
                    "nonResourceURL": field("nonResourceURL"),
                })
            })
            .collect();
        let queries_file = dir.join("queries.json");
        std::fs::write(&queries_file, serde_json::to_string(&queries).unwrap()).unwrap();
        let mut args = vec![
            "rbac",
            "can-i",
            "--manifests",
            manifests.to_str().unwrap(),
            "--queries",
            queries_file.to_str().unwrap(),
        ];
        if case["builtinRoles"] == false {
            args.push("--no-builtin-roles");
        }
        let out = palisade(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            file.display(),
            stderr(&out)
        );
        let got: Vec<bool> = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(got, want, "{}", file.display());
    }
}

#[test]
fn proxy_trace_names_the_deciding_line() {
    let conf = "tests/squid/configs/ok-allow-list.conf";
    let allowed = palisade(&[
        "proxy",
        "trace",
        conf,
        "--client",
        "10.244.1.7",
        "--to",
        "api.github.com:443",
        "--method",
        "CONNECT",
    ]);
    assert_eq!(allowed.status.code(), Some(0), "{}", stderr(&allowed));
    let denied = palisade(&[
        "proxy",
        "trace",
        conf,
        "--client",
        "10.244.1.7",
        "--to",
        "169.254.169.254:80",
    ]);
    let implicit = palisade(&[
        "proxy",
        "trace",
        "tests/squid/configs/ok-regex-and-methods.conf",
        "--client",
        "10.0.0.1",
        "--to",
        "example.com:80",
    ]);
    insta::assert_snapshot!(
        "proxy_trace",
        format!(
            "{}{}{}",
            stdout(&allowed),
            stdout(&denied),
            stdout(&implicit)
        )
    );
    let json = palisade(&[
        "proxy",
        "trace",
        conf,
        "--client",
        "192.168.1.1",
        "--to",
        "pypi.org:443",
        "--method",
        "connect",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["allowed"], false);
    assert_eq!(v["line"]["line"], 15);
    let broken = palisade(&[
        "proxy",
        "trace",
        "tests/squid/configs/bad-undefined-acl.conf",
        "--client",
        "10.0.0.1",
        "--to",
        "a.test:80",
    ]);
    assert_eq!(broken.status.code(), Some(2));
    assert!(
        stderr(&broken)
            .contains("bad-undefined-acl.conf:2: `http_access` uses undefined acl `clients`"),
        "{}",
        stderr(&broken)
    );
}

#[test]
fn a_policy_set_names_squid_configurations_to_check() {
    let out = palisade(&[
        "check",
        "tests/demo/secure/shop.yaml",
        "--policy",
        "tests/fixtures/policies/with-proxy-config.yaml",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("error[SQ004]: the cloud metadata service is reachable through the proxy")
            && text.contains(
                "--> tests/fixtures/policies/../../squid/configs/ok-default-like.conf:11:1"
            ),
        "{text}"
    );
}

#[test]
fn proxy_trace_follows_includes_only_inside_the_configuration_directory() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    std::fs::write(
        repo.join("squid.conf"),
        "acl clients src 10.0.0.0/8\ninclude rules.conf\nhttp_access deny all\n",
    )
    .unwrap();
    std::fs::write(
        repo.join("rules.conf"),
        "# rules\nhttp_access allow clients\n",
    )
    .unwrap();
    let conf = repo.join("squid.conf");
    let conf = conf.to_str().unwrap();
    let trace = |conf: &str| {
        palisade(&[
            "proxy",
            "trace",
            conf,
            "--client",
            "10.1.2.3",
            "--to",
            "a.test:80",
            "--format",
            "json",
        ])
    };
    let out = trace(conf);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["allowed"], true);
    // The deciding line is named in its own file; the internal number
    // plugins see is not part of the output.
    assert_eq!(
        v["line"],
        serde_json::json!({
            "allow": true,
            "acls": ["clients"],
            "file": format!("{}/rules.conf", repo.display()),
            "line": 2,
        })
    );
    // An include that leaves the directory is an error, and the file is
    // not read (it would allow everything).
    std::fs::write(dir.path().join("outside.conf"), "http_access allow all\n").unwrap();
    std::fs::write(
        repo.join("escape.conf"),
        "include ../outside.conf\nhttp_access deny all\n",
    )
    .unwrap();
    let escape = repo.join("escape.conf");
    let out = trace(escape.to_str().unwrap());
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains(&format!(
            "escape.conf:1: `include ../outside.conf`: the file is outside `{}`",
            repo.display()
        )),
        "{}",
        stderr(&out)
    );
}

#[test]
fn reports_and_baselines_replace_files_whole_or_not_at_all() {
    let dir = scratch("atomic");
    let report = dir.join("report.json");
    let baseline = dir.join("baseline.json");
    // A second name for each old file: a file rewritten in place (truncated,
    // then written) changes under both names; a replaced one only under the
    // first.
    for f in [&report, &baseline] {
        std::fs::write(f, "old\n").unwrap();
        std::fs::hard_link(f, f.with_extension("old")).unwrap();
    }
    let report_arg = format!("json={}", report.display());
    let out = palisade(&[
        "check",
        "tests/demo/insecure",
        "--output",
        &report_arg,
        "--write-baseline",
        baseline.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(v["version"], 1);
    assert!(
        std::fs::read_to_string(&baseline)
            .unwrap()
            .contains("fingerprint")
    );
    for f in [&report, &baseline] {
        assert_eq!(
            std::fs::read_to_string(f.with_extension("old")).unwrap(),
            "old\n",
            "{} was rewritten in place",
            f.display()
        );
    }
    let names = |dir: &Path| {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let before = ["baseline.json", "baseline.old", "report.json", "report.old"];
    assert_eq!(names(&dir), before, "no temporary file is left");

    // A report that cannot be written (a directory is in the way) and a
    // baseline in a missing directory: exit 2, a clear error, nothing left.
    std::fs::create_dir(dir.join("blocked")).unwrap();
    std::fs::write(dir.join("blocked/keep"), "kept").unwrap();
    let blocked = format!("json={}", dir.join("blocked").display());
    let out = palisade(&["check", "tests/demo/insecure", "--output", &blocked]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot write report `"),
        "{}",
        stderr(&out)
    );
    assert_eq!(names(&dir.join("blocked")), ["keep"]);
    let missing = dir.join("missing/baseline.json");
    let out = palisade(&[
        "check",
        "tests/demo/insecure",
        "--write-baseline",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot write baseline `"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        names(&dir),
        [
            "baseline.json",
            "baseline.old",
            "blocked",
            "report.json",
            "report.old"
        ]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn machine_formats_carry_any_name_verbatim_and_stay_parseable() {
    // A right-to-left override in a name is legal in a manifest; in JSON it
    // must stay the character itself, not a terminal escape that no JSON
    // parser accepts.
    let dir = scratch("bidi");
    let name = "web\u{202e}gnp";
    std::fs::write(
        dir.join("d.yaml"),
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: \"{name}\", namespace: shop}}\nspec:\n  selector: {{matchLabels: {{app: w}}}}\n  template:\n    metadata: {{labels: {{app: w}}}}\n    spec: {{containers: [{{name: c, image: i}}]}}\n"
        ),
    )
    .unwrap();
    let file = dir.join("d.yaml");
    let out = palisade(&[
        "check",
        file.to_str().unwrap(),
        "--format",
        "json",
        "--no-cache",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["object"]["name"] == name),
        "{v}"
    );
    // For people, the same name is shown escaped.
    let out = palisade(&["check", file.to_str().unwrap(), "--no-cache"]);
    assert!(!stdout(&out).contains('\u{202e}'), "{}", stdout(&out));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn included_squid_files_are_shown_under_the_path_the_user_named() {
    // Through a symlinked directory: the annotation names the path given on
    // the command line, not the resolved one (CI tools match it to files).
    let dir = scratch("named-root");
    std::fs::create_dir_all(dir.join("real/proxy/conf.d")).unwrap();
    std::fs::write(
        dir.join("real/proxy/squid.conf"),
        "http_port 3128\ninclude conf.d/a.conf\nhttp_access deny all\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("real/proxy/conf.d/a.conf"),
        "http_access allow all\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(dir.join("real"), dir.join("link")).unwrap();
    let named = dir.join("link/proxy");
    let out = palisade(&[
        "check",
        named.to_str().unwrap(),
        "--format",
        "github",
        "--no-cache",
    ]);
    let text = stdout(&out);
    let want = format!("file={}/conf.d/a.conf,line=1,", named.display());
    assert!(text.contains(&want), "{want}\n{text}");
    assert!(!text.contains("/real/"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `palisade netpol matrix FIXTURE --ports 5432/TCP ARGS` as a set of pairs.
fn cni_matrix(args: &[&str]) -> std::collections::BTreeSet<(String, String)> {
    let mut all = vec![
        "netpol",
        "matrix",
        "tests/netpol/cni/cluster.yaml",
        "--ports",
        "5432/TCP",
        "--external",
        "10.0.1.99,192.168.0.9",
    ];
    all.extend_from_slice(args);
    let out = palisade(&all);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: std::collections::BTreeMap<String, Vec<(String, String)>> =
        serde_json::from_slice(&out.stdout).unwrap();
    v.into_values().flatten().collect()
}

#[test]
fn netpol_network_plugin_flag_and_policy_set_setting() {
    let calico = cni_matrix(&["--network-plugin", "calico"]);
    let cilium = cni_matrix(&["--network-plugin", "cilium"]);
    let generic = cni_matrix(&[]);
    let pair = |f: &str, t: &str| (f.to_string(), t.to_string());
    // Calico matches ipBlocks against pod IPs and node (hostNetwork) IPs;
    // Cilium against neither. Nothing else differs.
    let only_calico: Vec<_> = calico.difference(&cilium).cloned().collect();
    assert_eq!(
        only_calico,
        [
            pair("app/api", "app/db"),
            pair("app/client", "app/db"),
            pair("app/web", "app/agent"),
        ]
    );
    assert!(cilium.is_subset(&calico));
    // The default, generic, also lets selectors match the hostNetwork agent.
    let only_generic: Vec<_> = generic.difference(&calico).cloned().collect();
    assert_eq!(only_generic, [pair("app/agent", "app/api")]);
    assert!(calico.is_subset(&generic));

    // A policy set chooses the profile; the flag overrides it.
    let dir = std::env::temp_dir().join(format!("palisade-cni-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let policy = dir.join("policy.yaml");
    std::fs::write(
        &policy,
        "apiVersion: palisade.dev/v1alpha1\nkind: PolicySet\nspec:\n  networkPlugin: cilium\n",
    )
    .unwrap();
    let policy = policy.to_str().unwrap();
    assert_eq!(cni_matrix(&["--policy", policy]), cilium);
    assert_eq!(
        cni_matrix(&["--policy", policy, "--network-plugin", "calico"]),
        calico
    );
    let trace = palisade(&[
        "netpol",
        "trace",
        "tests/netpol/cni/cluster.yaml",
        "--from",
        "app/web",
        "--to",
        "app/agent",
        "--port",
        "5432/TCP",
        "--policy",
        policy,
        "--format",
        "json",
    ]);
    assert_eq!(trace.status.code(), Some(0), "{}", stderr(&trace));
    let v: serde_json::Value = serde_json::from_slice(&trace.stdout).unwrap();
    assert_eq!(v["verdict"], "denied");
    assert_eq!(v["networkPlugin"], "cilium");
    let relies: Vec<&str> = v["reliesOn"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[0].as_str().unwrap())
        .collect();
    assert!(relies.contains(&"host-network-ipblock"), "{relies:?}");

    // An unknown plugin in the policy set is located; on the command line it
    // is a usage error.
    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: palisade.dev/v1alpha1\nkind: PolicySet\nspec:\n  networkPlugin: weave\n",
    )
    .unwrap();
    let out = palisade(&[
        "netpol",
        "matrix",
        "tests/netpol/cni/cluster.yaml",
        "--ports",
        "80/TCP",
        "--policy",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains(":4:3: unknown network plugin `weave` (expected generic, calico or cilium)"),
        "{}",
        stderr(&out)
    );
    let out = palisade(&[
        "netpol",
        "matrix",
        "tests/netpol/cni/cluster.yaml",
        "--ports",
        "80/TCP",
        "--network-plugin",
        "weave",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("generic, calico, cilium"),
        "{}",
        stderr(&out)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `palisade rbac` takes resource names as kubectl does: the natural
/// question finds who can, and a name nothing defines is an error, never a
/// silent "no" or "no subject can".
#[test]
fn rbac_resource_names_resolve_as_kubectl_resolves_them() {
    let demo = "tests/demo/insecure";
    for resource in [
        "networkpolicies",
        "netpol",
        "networkpolicy",
        "networkpolicies.networking.k8s.io",
        "networkpolicies.v1.networking.k8s.io",
    ] {
        let out = palisade(&["rbac", "who-can", "create", resource, "-n", "shop", demo]);
        assert_eq!(out.status.code(), Some(0), "{resource}: {}", stderr(&out));
        assert!(
            stdout(&out)
                .contains("Group shop-devs\n  via RoleBinding shop/shop-devs -> ClusterRole edit"),
            "{resource}: {}",
            stdout(&out)
        );
    }
    for resource in ["deployments", "deploy", "deployments.apps"] {
        let out = palisade(&[
            "rbac",
            "can-i",
            "create",
            resource,
            "-n",
            "shop",
            "--as-group",
            "shop-devs",
            demo,
        ]);
        assert_eq!(stdout(&out), "yes\n", "{resource}: {}", stderr(&out));
    }
    // `--api-group` is taken as given: the core group has no deployments.
    let out = palisade(&[
        "rbac",
        "can-i",
        "create",
        "deployments",
        "--api-group",
        "",
        "-n",
        "shop",
        "--as-group",
        "shop-devs",
        demo,
    ]);
    assert_eq!(stdout(&out), "no\n");
    for (resource, says) in [
        ("nothings", "no resource `nothings`"),
        ("pods.apps", "the API group `apps` has no resource `pods`"),
    ] {
        for command in ["who-can", "can-i"] {
            let out = palisade(&["rbac", command, "get", resource, demo]);
            assert_eq!(out.status.code(), Some(2), "{command} {resource}");
            assert!(
                stderr(&out).contains(says),
                "{command} {resource}: {}",
                stderr(&out)
            );
            assert!(stdout(&out).is_empty(), "{}", stdout(&out));
        }
    }
    // The batch contract keeps `apiGroup` as written; the kubectl form
    // `resource.group` is split when no apiGroup is given.
    let dir = tempfile::tempdir().unwrap();
    let queries = dir.path().join("q.json");
    std::fs::write(
        &queries,
        r#"[{"groups":["shop-devs"],"verb":"create","resource":"networkpolicies.networking.k8s.io","namespace":"shop"},
            {"groups":["shop-devs"],"verb":"create","resource":"networkpolicies","namespace":"shop"},
            {"groups":["shop-devs"],"verb":"create","apiGroup":"networking.k8s.io","resource":"networkpolicies","namespace":"shop"}]"#,
    )
    .unwrap();
    let out = palisade(&[
        "rbac",
        "can-i",
        "--manifests",
        "tests/demo/insecure/rbac.yaml",
        "--queries",
        queries.to_str().unwrap(),
    ]);
    assert_eq!(stdout(&out), "[true,false,true]\n", "{}", stderr(&out));
}

/// Custom resources are kept and counted; `--strict-kinds` and the policy
/// set's `strictKinds` make them errors.
#[test]
fn custom_resources_are_counted_unless_kinds_are_strict() {
    let dir = tempfile::tempdir().unwrap();
    let manifests = dir.path().join("all.yaml");
    std::fs::write(
        &manifests,
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: web, namespace: shop}\nspec: {}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n",
    )
    .unwrap();
    let m = manifests.to_str().unwrap();
    let out = palisade(&["check", m]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("2 objects (1 not evaluated: 1 networking.istio.io/VirtualService)"),
        "{}",
        stdout(&out)
    );
    let json = palisade(&["check", m, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        v["summary"]["notEvaluated"]["networking.istio.io/VirtualService"],
        1
    );
    let strict = palisade(&["check", m, "--strict-kinds"]);
    assert_eq!(strict.status.code(), Some(2));
    assert!(
        stdout(&strict).contains("unknown kind `VirtualService`"),
        "{}",
        stdout(&strict)
    );
    let policy = dir.path().join("policy.yaml");
    std::fs::write(
        &policy,
        "apiVersion: palisade.dev/v1alpha1\nkind: PolicySet\nmetadata: {name: strict}\nspec:\n  strictKinds: true\n  plugins:\n    - builtin: default-deny\n",
    )
    .unwrap();
    let out = palisade(&["check", m, "--policy", policy.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
}

#[test]
fn a_stale_pin_is_located_at_its_sha256_line_in_suites_and_policy_sets() {
    // Every rebuild of a plugin under development changes its hash: the
    // error must point at the line to update, in a suite as in a policy set.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.wasm"), b"not yet a component").unwrap();
    let pin = "0".repeat(64);
    let plugins = format!("  plugins:\n    - path: p.wasm\n      sha256: \"{pin}\"\n");
    std::fs::write(
        dir.path().join("suite.yaml"),
        format!(
            "apiVersion: palisade.dev/v1alpha1\nkind: TestSuite\nmetadata: {{name: pin}}\nspec:\n{plugins}  cases: []\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("policy.yaml"),
        format!(
            "apiVersion: palisade.dev/v1alpha1\nkind: PolicySet\nmetadata: {{name: p}}\nspec:\n{plugins}"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("a.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
    )
    .unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    let suite = palisade(&["test", &path("suite.yaml")]);
    let policy = palisade(&["check", &path("a.yaml"), "--policy", &path("policy.yaml")]);
    for (out, file) in [(suite, "suite.yaml"), (policy, "policy.yaml")] {
        assert_eq!(out.status.code(), Some(2), "a stale pin is an error");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let at = format!("error: {}:7:7: plugin `", path(file));
        assert!(
            stderr.lines().any(|l| l.starts_with(&at)),
            "expected `{at}…`:\n{stderr}"
        );
        assert!(
            stderr.contains(&format!("but its pin is {pin}")),
            "{stderr}"
        );
    }
}

#[test]
fn palisade_new_rule_writes_a_project_that_carries_the_sdk() {
    // Building and testing the project is `.ci/new-rule`'s job (it needs
    // crates.io); here: what is written, and what is refused.
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("team-label");
    let project_arg = project.display().to_string();
    let out = palisade(&["new", "rule", "team-label", &project_arg]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    for file in [
        "Cargo.toml",
        "src/lib.rs",
        "suite.yaml",
        "pass-labelled.yaml",
        "fail-unlabelled.yaml",
        "build.sh",
        "README.md",
        ".gitignore",
    ] {
        assert!(project.join(file).is_file(), "{file} missing");
    }
    let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for (vendored, source) in [
        ("vendor/palisade-sdk/src/lib.rs", "plugins/sdk/src/lib.rs"),
        (
            "vendor/palisade-sdk/src/testing.rs",
            "plugins/sdk/src/testing.rs",
        ),
        ("vendor/palisade-sdk/wit/policy.wit", "wit/policy.wit"),
    ] {
        assert!(
            read(&project.join(vendored)) == read(&root.join(source)),
            "{vendored} is not {source}"
        );
    }
    let lib = read(&project.join("src/lib.rs"));
    assert!(
        lib.contains("id: \"TL001\"") && lib.contains("const ID: &'static str = \"team-label\""),
        "{lib}"
    );
    assert!(read(&project.join("suite.yaml")).contains("release/team_label.wasm"));
    assert!(
        read(&project.join("fail-unlabelled.yaml"))
            .starts_with("# expect: TL001 Deployment shop/web")
    );
    assert!(
        !read(&project.join("Cargo.toml")).contains("{{"),
        "a placeholder left"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(project.join("build.sh"))
            .unwrap()
            .permissions()
            .mode();
        assert!(mode & 0o111 != 0, "build.sh must be executable");
    }
    // A second time into the same directory: refused, nothing overwritten.
    let again = palisade(&["new", "rule", "team-label", &project_arg]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not empty"));
    let bad = |args: &[&str], says: &str| {
        let out = palisade(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    };
    let elsewhere = dir.path().join("other").display().to_string();
    bad(
        &["new", "rule", "Team_Label", &elsewhere],
        "is not a plugin name",
    );
    bad(
        &["new", "rule", "owners", &elsewhere, "--id", "lower"],
        "is not a rule ID",
    );
    bad(
        &["new", "rule", "owners", &elsewhere, "--lang", "cobol"],
        "invalid value 'cobol'",
    );
    assert!(
        !dir.path().join("other").exists(),
        "nothing written on a refusal"
    );
    // Python and JavaScript projects carry their SDK and the contract.
    for (lang, files, vendored) in [
        (
            "python",
            &[
                "app.py",
                "build.sh",
                "README.md",
                ".gitignore",
                "suite.yaml",
            ][..],
            &[
                (
                    "sdk/palisade_sdk/__init__.py",
                    "plugins/sdk-python/palisade_sdk/__init__.py",
                ),
                ("wit/policy.wit", "wit/policy.wit"),
            ][..],
        ),
        (
            "js",
            &[
                "app.js",
                "build.sh",
                "package.json",
                "jsconfig.json",
                "README.md",
                "suite.yaml",
            ][..],
            &[
                ("sdk/palisade.js", "plugins/sdk-js/palisade.js"),
                ("sdk/palisade.d.ts", "plugins/sdk-js/palisade.d.ts"),
                (
                    "sdk/types/interfaces/palisade-policy-types.d.ts",
                    "plugins/sdk-js/types/interfaces/palisade-policy-types.d.ts",
                ),
                ("wit/policy.wit", "wit/policy.wit"),
            ][..],
        ),
    ] {
        let project = dir.path().join(lang);
        let arg = project.display().to_string();
        let out = palisade(&["new", "rule", "team-label", &arg, "--lang", lang]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        for file in files {
            let text = read(&project.join(file));
            assert!(!text.contains("{{"), "{lang}: a placeholder left in {file}");
        }
        for (copy, source) in vendored {
            assert!(
                read(&project.join(copy)) == read(&root.join(source)),
                "{lang}: {copy} is not {source}"
            );
        }
        let suite = read(&project.join("suite.yaml"));
        assert!(suite.contains("path: team-label.wasm"), "{suite}");
        assert!(read(&project.join("fail-unlabelled.yaml")).starts_with("# expect: TL001"));
    }
    // An ID YAML would read as a keyword is written quoted.
    let keyword = dir.path().join("keyword");
    let keyword_arg = keyword.display().to_string();
    let out = palisade(&["new", "rule", "owners", &keyword_arg, "--id", "NULL"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(read(&keyword.join("suite.yaml")).contains("rule: \"NULL\""));
}

#[test]
fn palisade_path_exits_by_verdict_and_speaks_json() {
    // The insecure demo: a NetworkPolicy allows 0.0.0.0/0:443 and the
    // workload subnets route to a NAT.
    let bypass = palisade(&[
        "path",
        "tests/demo/insecure",
        "--from",
        "legacy/mailer",
        "--to",
        "api.partner.example:443",
        "--format",
        "json",
    ]);
    assert_eq!(bypass.status.code(), Some(1), "{}", stderr(&bypass));
    let v: serde_json::Value = serde_json::from_slice(&bypass.stdout).unwrap();
    assert_eq!(v["verdict"], "reachable-directly", "{v}");
    assert_eq!(v["direct"]["outcome"], "allowed");
    let first = &v["direct"]["hops"][0];
    assert_eq!(first["layer"], "networkpolicy");
    assert_eq!(first["location"]["file"], "tests/demo/insecure/legacy.yaml");
    // The secure demo: only through the proxy.
    let proxied = palisade(&[
        "path",
        "tests/demo/secure",
        "--from",
        "shop/web",
        "--to",
        "github.com:443",
    ]);
    assert_eq!(proxied.status.code(), Some(0), "{}", stderr(&proxied));
    assert!(
        stdout(&proxied).starts_with(
            "shop/web -> github.com:443 (CONNECT): reachable only through the proxy\n"
        ),
        "{}",
        stdout(&proxied)
    );
    // Without the network: unknown, exit 2.
    let unknown = palisade(&[
        "path",
        "tests/demo/insecure/legacy.yaml",
        "--from",
        "legacy/mailer",
        "--to",
        "203.0.113.9:443",
    ]);
    assert_eq!(unknown.status.code(), Some(2), "{}", stdout(&unknown));
    assert!(
        stdout(&unknown).contains("unknown because"),
        "{}",
        stdout(&unknown)
    );
    // A workload that is not there is an error that says so.
    let missing = palisade(&[
        "path",
        "tests/demo/secure",
        "--from",
        "shop/nope",
        "--to",
        "github.com:443",
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("no workload `shop/nope`"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn proxy_audit_reports_the_demo_log_per_workload() {
    let out = palisade(&[
        "proxy",
        "audit",
        "tests/demo/insecure/access.log",
        "tests/demo/insecure",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let clients: Vec<String> = v["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("{}:{}", c["client"]["kind"], c["client"]["name"]))
        .collect();
    assert_eq!(
        clients,
        [
            r#""workload":"legacy/mailer""#,
            r#""workload":"legacy/reports""#,
            r#""workload":"shop/web""#,
            r#""unattributed":null"#
        ]
    );
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    for rule in ["SQ013", "SQ014", "SQ015", "SQ016"] {
        assert!(rules.contains(&rule), "{rule} not in {rules:?}");
    }
    assert_eq!(v["logs"][0]["requests"], 8);
    // The human table, and every finding at its log line.
    let human = palisade(&[
        "proxy",
        "audit",
        "tests/demo/insecure/access.log",
        "tests/demo/insecure",
    ]);
    let text = stdout(&human);
    assert!(text.contains("legacy/reports (10.244.2.20)"), "{text}");
    assert!(
        text.contains("tests/demo/insecure/access.log:4:1"),
        "{text}"
    );
}

#[test]
fn suggest_allowlist_groups_by_registrable_domain_and_never_widens_to_a_suffix() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let line = |host: &str| {
        format!(
            "1796032801.114 5 10.0.0.5 TCP_TUNNEL/200 100 CONNECT {host}:443 - HIER_DIRECT/192.0.2.1 -\n"
        )
    };
    let text: String = [
        "api.github.com",
        "github.com",
        "a.co.uk",
        "b.co.uk",
        "pypi.org",
        "169.254.169.254",
    ]
    .iter()
    .map(|h| line(h))
    .collect();
    std::fs::write(&log, text).unwrap();
    let out = palisade(&[
        "proxy",
        "audit",
        log.to_str().unwrap(),
        "--suggest-allowlist",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let entries: Vec<&str> = v["domains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["entry"].as_str().unwrap())
        .collect();
    assert_eq!(entries, ["a.co.uk", "b.co.uk", ".github.com", "pypi.org"]);
    assert_eq!(v["leftOut"], serde_json::json!(["169.254.169.254"]));
    assert_eq!(v["tlsPorts"], serde_json::json!([443]));
}

#[test]
fn proxy_replay_lists_what_a_new_config_breaks() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("squid.conf");
    std::fs::write(
        &conf,
        "http_port 3128\nacl clients src 10.0.0.0/8\nacl allowed dstdomain .github.com pypi.org\nacl SSL_ports port 443\nhttp_access deny CONNECT !SSL_ports\nhttp_access allow clients allowed\nhttp_access deny all\n",
    )
    .unwrap();
    let out = palisade(&[
        "proxy",
        "replay",
        "tests/demo/insecure/access.log",
        "tests/demo/insecure",
        "--config",
        conf.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let changes: Vec<String> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {} {}:{}",
                c["change"].as_str().unwrap(),
                c["client"]["name"],
                c["host"].as_str().unwrap(),
                c["port"]
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            r#"newly-denied "legacy/mailer" 169.254.169.254:80"#,
            r#"newly-denied "legacy/reports" 203.0.113.50:22"#,
            r#"newly-denied "legacy/reports" paste.example.net:443"#,
            "newly-denied null ifconfig.example:80",
        ]
    );
    // The same configuration against itself changes nothing.
    let same = palisade(&[
        "proxy",
        "replay",
        "tests/demo/insecure/access.log",
        "--config",
        conf.to_str().unwrap(),
        "--against",
        conf.to_str().unwrap(),
    ]);
    assert_eq!(same.status.code(), Some(0), "{}", stdout(&same));
}

#[test]
fn json_lines_and_gzip_logs_are_read_and_malformed_lines_located() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("proxy.jsonl");
    std::fs::write(
        &jsonl,
        "{\"time\": 1796032801.1, \"client\": \"10.0.0.5\", \"method\": \"CONNECT\", \"url\": \"github.com:443\", \"result\": \"TCP_TUNNEL\", \"status\": 200, \"bytes\": 10}\nnot json\n",
    )
    .unwrap();
    let gz = dir.path().join("access.log.1.gz");
    let mut enc = flate2_writer(&gz);
    enc.write_all(
        b"1796032801.114 5 10.0.0.6 TCP_DENIED/403 100 CONNECT evil.example:443 - HIER_NONE/- -\n",
    )
    .unwrap();
    drop(enc);
    let out = palisade(&[
        "proxy",
        "audit",
        jsonl.to_str().unwrap(),
        gz.to_str().unwrap(),
        "--format",
        "json",
    ]);
    // The malformed line is a located problem: exit 2, the rest still read.
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["logs"][0]["requests"], 1);
    assert_eq!(v["logs"][1]["requests"], 1);
    let d = &v["errors"][0];
    assert_eq!(d["location"]["line"], 2, "{d}");
    assert!(
        d["location"]["file"]
            .as_str()
            .unwrap()
            .ends_with("proxy.jsonl")
    );
}

/// A gzip writer (the gzip format by hand is not the point here: the
/// `gzip` program writes the file).
fn flate2_writer(path: &std::path::Path) -> impl std::io::Write {
    struct Gz {
        path: std::path::PathBuf,
        buf: Vec<u8>,
    }
    impl std::io::Write for Gz {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.buf.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl Drop for Gz {
        fn drop(&mut self) {
            let plain = self.path.with_extension("plain");
            std::fs::write(&plain, &self.buf).unwrap();
            let out = std::process::Command::new("gzip")
                .args(["-c", "-n"])
                .arg(&plain)
                .output()
                .unwrap();
            std::fs::write(&self.path, out.stdout).unwrap();
            std::fs::remove_file(&plain).unwrap();
        }
    }
    Gz {
        path: path.to_path_buf(),
        buf: Vec::new(),
    }
}

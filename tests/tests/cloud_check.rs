//! Cloud inputs through `palisade check`: recognised among manifests,
//! bound by the policy set, judged by `private-subnet`, every finding and
//! problem located in its file, and nothing else lost when one is broken.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed expectation should abort the test"
)]

use palisade::{Inputs, PolicySet, Report};
use palisade_tests::{engine, workspace};

fn policy(cloud: &str) -> PolicySet {
    let text = format!(
        "apiVersion: palisade.dev/v1alpha1\nkind: PolicySet\nmetadata: {{name: t}}\nspec:\n  plugins:\n    - builtin: private-subnet\n  cloud:\n{cloud}"
    );
    PolicySet::parse("policy.yaml", &text).unwrap()
}

fn check(policy: &PolicySet, inputs: Inputs) -> Report {
    engine().checker(policy, Vec::new()).unwrap().check(&inputs)
}

/// (rule, file name, line) of every finding.
fn located(report: &Report) -> Vec<(String, String, u32)> {
    let mut out: Vec<(String, String, u32)> = report
        .findings
        .iter()
        .map(|f| {
            let at = f.location.as_ref().expect("located");
            let file = at.file.rsplit('/').next().unwrap().to_string();
            (f.rule.clone(), file, at.line)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn aws_cli_output_is_bound_by_id_and_findings_point_at_its_lines() {
    let set = policy(
        "    nodes:\n      subnets: [subnet-0bb1c79de3EXAMPLE, subnet-0a7d7e6c4aEXAMPLE]\n      securityGroups: [nodes]\n",
    );
    let report = check(
        &set,
        Inputs::new().path(workspace().join("tests/cloud/aws-cli/account.json")),
    );
    assert!(report.diagnostics.is_empty(), "{:#?}", report.diagnostics);
    let found = located(&report);
    // The NAT and egress-only routes of the private table (lines 124 and
    // 130), the public subnet's IGW route (88) and its public addresses
    // (46).
    for expected in [("PS001", 88), ("PS001", 124), ("PS001", 130), ("PS002", 46)] {
        assert!(
            found
                .iter()
                .any(|(r, f, l)| r == expected.0 && f == "account.json" && *l == expected.1),
            "{expected:?} not in {found:#?}"
        );
    }
}

#[test]
fn a_broken_plan_is_a_located_diagnostic_and_the_rest_is_still_checked() {
    let set = PolicySet::builtin_default();
    let broken =
        "{\n  \"format_version\": \"2.0\",\n  \"planned_values\": {\"root_module\": {}}\n}\n";
    let report = check(
        &set,
        Inputs::new()
            .path(workspace().join("tests/demo/insecure"))
            .text("other/plan.json", broken),
    );
    let d = report
        .diagnostics
        .iter()
        .find(|d| d.message.contains("format_version `2.0`"))
        .expect("the unknown format is said");
    let at = d.location.as_ref().unwrap();
    assert_eq!((at.file.as_str(), at.line), ("other/plan.json", 2));
    // The demo's own plan and manifests are still judged.
    assert!(report.findings.iter().any(|f| f.rule == "PS001"));
    assert!(report.findings.iter().any(|f| f.rule == "NP002"));
}

#[test]
fn a_binding_that_names_nothing_fails_at_its_line_in_the_policy_set() {
    let set = policy("    nodes:\n      subnets: [aws_subnet.workload]\n");
    let report = check(
        &set,
        Inputs::new().path(workspace().join("tests/demo/insecure/network/plan.json")),
    );
    let d = report
        .diagnostics
        .iter()
        .find(|d| d.message.contains("`aws_subnet.workload`"))
        .expect("the selector is named");
    let at = d.location.as_ref().unwrap();
    assert_eq!((at.file.as_str(), at.line), ("policy.yaml", 9));
    // The VPC-wide rules still run.
    assert!(report.findings.iter().any(|f| f.rule == "PS007"));
}

#[test]
fn a_cluster_without_cloud_inputs_is_checked_as_before() {
    let report = check(
        &PolicySet::builtin_default(),
        Inputs::new().path(workspace().join("tests/demo/secure/shop.yaml")),
    );
    assert!(report.diagnostics.is_empty(), "{:#?}", report.diagnostics);
    assert!(!report.findings.iter().any(|f| f.rule.starts_with("PS")));
}

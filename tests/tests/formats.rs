//! Report formats over the demo: SARIF validates against the official 2.1.0
//! schema and points at fields; every format is deterministic.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed expectation should abort the test"
)]

use palisade::{Inputs, PolicySet, Report, render};
use palisade_tests::{engine, schema, workspace};

fn demo() -> Report {
    let checker = engine()
        .checker(&PolicySet::builtin_default(), Vec::new())
        .unwrap();
    // Relative names, as a user running in the workspace root would see.
    let mut inputs = Inputs::new();
    for f in [
        "egress-proxy.yaml",
        "legacy.yaml",
        "namespaces.yaml",
        "rbac.yaml",
        "shop.yaml",
    ] {
        let text =
            std::fs::read_to_string(workspace().join("tests/demo/insecure").join(f)).unwrap();
        inputs = inputs.text(format!("tests/demo/insecure/{f}"), text);
    }
    checker.check(&inputs)
}

#[test]
fn sarif_validates_against_the_official_schema_and_points_at_fields() {
    let path = workspace().join("../shared/data/sarif-schema-2.1.0.json");
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("the SARIF schema is expected at {}: {e}", path.display())),
    )
    .unwrap();
    let report = demo();
    assert!(!report.findings.is_empty());
    let sarif: serde_json::Value = serde_json::from_str(&render::sarif(&report)).unwrap();
    let errors = schema::validate(&schema, &sarif);
    assert!(errors.is_empty(), "{errors:#?}");

    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.iter().any(|r| {
        r["id"] == "NP001"
            && r["help"]["markdown"]
                .as_str()
                .unwrap()
                .contains("## How to fix")
    }));
    for (result, finding) in run["results"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&report.findings)
    {
        let region = &result["locations"][0]["physicalLocation"]["region"];
        let loc = finding.location.as_ref().unwrap();
        assert_eq!(region["startLine"], loc.line);
        assert_eq!(region["startColumn"], loc.column);
        assert!(
            loc.line > 1,
            "a region must point at the field, not the document"
        );
        let uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(uri.starts_with("tests/demo/"), "{uri}");
        let rule_index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[rule_index]["id"], result["ruleId"]);
    }
}

#[test]
fn a_failed_check_is_not_a_successful_sarif_run() {
    let checker = engine()
        .checker(&PolicySet::builtin_default(), Vec::new())
        .unwrap();
    let report = checker.check(&Inputs::new().text("bad.yaml", "kind: [\n"));
    let sarif: serde_json::Value = serde_json::from_str(&render::sarif(&report)).unwrap();
    let invocation = &sarif["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    assert_eq!(
        invocation["toolExecutionNotifications"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let junit = render::junit(&report);
    assert!(junit.contains("<error type=\"input\""), "{junit}");
}

#[test]
fn every_format_is_snapshotted_and_deterministic() {
    let a = demo();
    let b = demo();
    for (name, render) in [
        ("human", render::human as fn(&Report) -> String),
        ("json", render::json),
        ("sarif", render::sarif),
        ("junit", render::junit),
        ("github", render::github),
        ("policyreport", render::policyreport),
    ] {
        let text = render(&a);
        assert_eq!(
            text,
            render(&b),
            "{name} output must be byte-identical across runs"
        );
        insta::assert_snapshot!(format!("demo_{name}"), text);
    }
}

#[test]
fn policyreport_is_valid_yaml_with_one_report_per_namespace() {
    let text = render::policyreport(&demo());
    let docs: Vec<serde_json::Value> = text
        .split("---\n")
        .filter(|d| !d.trim().is_empty())
        .map(|d| palisade::testing::from_yaml(d).unwrap())
        .collect();
    let reports: Vec<(String, String)> = docs
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().unwrap().to_string(),
                d["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    assert_eq!(
        reports,
        [
            ("ClusterPolicyReport".to_string(), String::new()),
            ("PolicyReport".to_string(), "egress-proxy".to_string()),
            ("PolicyReport".to_string(), "legacy".to_string()),
            ("PolicyReport".to_string(), "shop".to_string()),
        ],
        "one report per namespace with findings, and one for cluster-scoped objects"
    );
    let legacy = &docs[2];
    let fails = legacy["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["result"] == "fail")
        .count();
    assert_eq!(legacy["summary"]["fail"], fails);
    assert_eq!(
        docs[0]["results"][0]["resources"][0]["kind"],
        "ClusterRoleBinding"
    );
}

//! Every built-in rule has pass and fail fixtures under
//! `tests/fixtures/rules/<plugin>/<RULE-ID>/`: `pass-*.yaml` must produce no finding
//! of that rule, `fail-*.yaml` at least one, and the whole rendered report of
//! each file (all rules) is an insta snapshot. Adding a case means adding a file.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed expectation should abort the test"
)]

use std::path::{Path, PathBuf};

use palisade::suite::Suite;
use palisade::{Inputs, PolicySet, render};
use palisade_tests::{engine, portable, workspace};

fn fixture_dirs() -> Vec<(String, String, PathBuf)> {
    let root = workspace().join("tests/fixtures/rules");
    let mut out = Vec::new();
    for plugin in sorted(&root) {
        for rule in sorted(&plugin) {
            let name = |p: &Path| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
                    .to_string()
            };
            out.push((name(&plugin), name(&rule), rule));
        }
    }
    out
}

fn sorted(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    entries
}

#[test]
fn every_fixture_behaves_as_its_name_says() {
    let mut cases = 0;
    for (plugin, rule, dir) in fixture_dirs() {
        // Each rule's suite names the policy its fixtures are judged with.
        let checker = Suite::load(&dir.join("suite.yaml"))
            .and_then(|s| s.checker(engine()))
            .unwrap_or_else(|e| panic!("{e}"));
        for file in sorted(&dir) {
            let name = file.file_name().unwrap().to_str().unwrap().to_string();
            if name == "suite.yaml" {
                continue;
            }
            let expect_fail = if name.starts_with("fail-") {
                true
            } else if name.starts_with("pass-") {
                false
            } else {
                panic!(
                    "{}: fixture names start with pass- or fail-",
                    file.display()
                );
            };
            // By path, so that squid configurations are recognised as such;
            // `portable` strips the workspace from rendered paths.
            let report = checker.check(&Inputs::new().path(&file));
            assert!(
                report.diagnostics.is_empty(),
                "{}: fixtures must load cleanly: {:#?}",
                file.display(),
                report.diagnostics
            );
            let found = report
                .findings
                .iter()
                .any(|f| f.rule == rule && f.plugin == plugin);
            assert_eq!(
                found,
                expect_fail,
                "{}: expected {} finding of {rule}\n{}",
                file.display(),
                if expect_fail { "a" } else { "no" },
                render::human(&report)
            );
            let snapshot = format!("{plugin}__{rule}__{}", name.trim_end_matches(".yaml"));
            insta::assert_snapshot!(snapshot, portable(&render::human(&report)));
            cases += 1;
        }
    }
    assert!(cases > 0, "no fixtures found");
}

#[test]
fn every_rule_suite_passes_through_palisade_test() {
    let suites = Suite::discover(&[workspace().join("tests/fixtures/rules")]);
    assert_eq!(
        suites.len(),
        fixture_dirs().len(),
        "every rule directory has a suite.yaml"
    );
    let mut cases = 0;
    for file in suites {
        let results = Suite::load(&file)
            .and_then(|s| s.run(engine()))
            .unwrap_or_else(|e| panic!("{e}"));
        for r in &results {
            assert!(r.passed(), "{}", palisade::suite::render_human(&results));
        }
        cases += results.len();
    }
    assert!(cases >= 13);
}

#[test]
fn every_builtin_rule_has_pass_and_fail_fixtures() {
    let checker = engine()
        .checker(&PolicySet::builtin_default(), Vec::new())
        .unwrap();
    let dirs = fixture_dirs();
    let rules = checker.rules();
    // The host's rules about exemptions (PAL001-PAL003) are covered by the
    // CLI tests of exemptions instead; its rules about inputs have fixtures.
    let about_exemptions = ["PAL001", "PAL002", "PAL003"];
    for (plugin, rule) in rules
        .iter()
        .filter(|(p, r)| p != "palisade" || !about_exemptions.contains(&r.id.as_str()))
    {
        let Some((_, _, dir)) = dirs.iter().find(|(p, r, _)| p == plugin && *r == rule.id) else {
            panic!(
                "rule {} of {plugin} has no fixture directory tests/fixtures/rules/{plugin}/{}",
                rule.id, rule.id
            );
        };
        let names: Vec<String> = sorted(dir)
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap().to_string())
            .collect();
        assert!(
            names.iter().any(|n| n.starts_with("pass-")),
            "{} lacks a pass fixture",
            rule.id
        );
        assert!(
            names.iter().any(|n| n.starts_with("fail-")),
            "{} lacks a fail fixture",
            rule.id
        );
    }
    for (plugin, rule, _) in &dirs {
        assert!(
            rules.iter().any(|(p, r)| p == plugin && r.id == *rule),
            "tests/fixtures/rules/{plugin}/{rule} names no loaded rule"
        );
    }
}

#[test]
fn the_rules_reference_is_current() {
    let checker = engine()
        .checker(&PolicySet::builtin_default(), Vec::new())
        .unwrap();
    let generated = render::rules_reference(&checker.rules());
    let path = workspace().join("policies/RULES.md");
    if std::env::var_os("PALISADE_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "policies/RULES.md is stale: run `PALISADE_BLESS=1 cargo test -p palisade-tests --test fixtures` (or `palisade rules --format markdown > policies/RULES.md`)"
    );
}

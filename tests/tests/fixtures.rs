//! Every built-in rule has pass and fail fixtures under
//! `tests/fixtures/rules/<plugin>/<RULE-ID>/`, with the `suite.yaml` that
//! names the policy they are judged with. Each fixture is a test of its own
//! (so every failure shows), judged by the engine `palisade test` uses
//! (`Suite::run_case`): a `pass-*.yaml` must produce no finding of the rule,
//! a `fail-*.yaml` exactly the findings its `# expect:` lines state. The
//! whole rendered report of each fixture (all rules) is an insta snapshot.
//! Adding a case means adding a file.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed expectation should abort the test"
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use palisade::suite::{self, Suite};
use palisade::{Checker, PolicySet, render};
use palisade_tests::{engine, portable, workspace};

fn main() {
    let args = Arguments::from_args();
    let mut trials = fixture_trials();
    trials.extend([
        Trial::test("every_builtin_rule_has_pass_and_fail_fixtures", || {
            every_builtin_rule_has_pass_and_fail_fixtures();
            Ok(())
        }),
        Trial::test("the_rules_reference_is_current", || {
            the_rules_reference_is_current();
            Ok(())
        }),
    ]);
    libtest_mimic::run(&args, trials).exit();
}

/// (plugin, rule, directory) of every fixture directory.
fn fixture_dirs() -> Vec<(String, String, PathBuf)> {
    let root = workspace().join("tests/fixtures/rules");
    let mut out = Vec::new();
    for plugin in sorted(&root) {
        for rule in sorted(&plugin) {
            out.push((file_name(&plugin), file_name(&rule), rule));
        }
    }
    out
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string()
}

fn sorted(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    entries
}

/// One test per fixture file, named `plugin/RULE/file`. A suite that does
/// not load is one failing test.
fn fixture_trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    for (plugin, rule, dir) in fixture_dirs() {
        let loaded = Suite::load(&dir.join("suite.yaml"))
            .and_then(|suite| Ok((suite.checker(engine())?, suite)));
        let (checker, suite) = match loaded {
            Ok(pair) => pair,
            Err(e) => {
                let message = e.to_string();
                trials.push(Trial::test(
                    format!("{plugin}/{rule}/suite.yaml"),
                    move || Err(message.into()),
                ));
                continue;
            }
        };
        let shared: Arc<(Suite, Checker)> = Arc::new((suite, checker));
        let names: Vec<String> = shared
            .0
            .case_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        for (index, name) in names.into_iter().enumerate() {
            let shared = Arc::clone(&shared);
            let (plugin, rule) = (plugin.clone(), rule.clone());
            trials.push(Trial::test(format!("{plugin}/{rule}/{name}"), move || {
                run_fixture(&shared.0, &shared.1, index, &plugin, &rule, &name)
            }));
        }
    }
    assert!(!trials.is_empty(), "no fixtures found");
    trials
}

fn run_fixture(
    suite: &Suite,
    checker: &Checker,
    index: usize,
    plugin: &str,
    rule: &str,
    name: &str,
) -> Result<(), Failed> {
    let (result, report) = suite
        .run_case(checker, index)
        .ok_or_else(|| Failed::from("no such case"))?;
    if !result.passed() {
        return Err(format!(
            "{}\n{}",
            suite::render_human(&[result]),
            render::human(&report)
        )
        .into());
    }
    // A fail- fixture's findings must come from the plugin under test.
    if name.starts_with("fail-")
        && !report
            .findings
            .iter()
            .any(|f| f.rule == rule && f.plugin == plugin)
    {
        return Err(format!("{name}: no finding of {rule} from plugin {plugin}").into());
    }
    let snapshot = format!("{plugin}__{rule}__{}", name.trim_end_matches(".yaml"));
    insta::assert_snapshot!(snapshot, portable(&render::human(&report)));
    Ok(())
}

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
        let names: Vec<String> = sorted(dir).iter().map(|p| file_name(p)).collect();
        // `palisade test` skips other files; here they are mistakes.
        for name in names.iter().filter(|n| *n != "suite.yaml") {
            assert!(
                name.starts_with("pass-") || name.starts_with("fail-"),
                "{}: fixture names start with pass- or fail-",
                dir.join(name).display()
            );
            assert!(
                [".yaml", ".yml", ".json", ".conf"]
                    .iter()
                    .any(|ext| name.ends_with(ext)),
                "{}: fixtures end in .yaml, .yml, .json or .conf (others are never run)",
                dir.join(name).display()
            );
        }
        // Cases are the files, and the suite's explicit cases (inputs
        // shared with other suites: a Terraform plan beside manifests),
        // named the same way.
        let suite = Suite::load(&dir.join("suite.yaml")).unwrap();
        let cases = suite.case_names();
        for name in &cases {
            assert!(
                name.starts_with("pass-") || name.starts_with("fail-"),
                "{}: case `{name}` is named neither pass-… nor fail-…",
                dir.display()
            );
        }
        assert!(
            cases.iter().any(|n| n.starts_with("pass-")),
            "{} lacks a pass fixture",
            rule.id
        );
        assert!(
            cases.iter().any(|n| n.starts_with("fail-")),
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

//! The plugin contract's compatibility rule, held against real components:
//! a plugin built against the frozen `palisade:policy@0.2.0` still loads
//! into this host (which speaks a later 0.2.x) and judges the same facts;
//! a plugin of another contract version is refused with both versions
//! named; 0.2.0's types never changed; and no built-in plugin parses JSON.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail by panicking"
)]

use palisade::{ErrorKind, Inputs, PolicySet};
use palisade_tests::{engine, guests, portable, workspace};

fn demo() -> Inputs {
    Inputs::new().path(workspace().join("tests/demo/insecure"))
}

#[test]
fn a_plugin_built_against_0_2_0_runs_on_this_host_and_agrees_with_the_built_in_rule() {
    let bytes = std::fs::read(guests::FROZEN).unwrap();
    let frozen = engine().load_plugin(&bytes).unwrap();
    assert_eq!(frozen.id(), "frozen");
    let checker = engine()
        .checker(&PolicySet::builtin_default(), vec![frozen])
        .unwrap();
    let report = checker.check(&demo());
    assert!(report.diagnostics.is_empty(), "{:#?}", report.diagnostics);
    let objects = |rule: &str| {
        let mut v: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.rule == rule)
            .filter(|f| f.path.as_deref() == Some("/metadata/name"))
            .map(|f| f.object.to_string())
            .collect();
        v.sort();
        v
    };
    let frz = objects("FRZ001");
    assert!(!frz.is_empty());
    assert_eq!(frz, objects("NP002"));
    // Every 0.2.0 fact function answered, with the demo's facts.
    let log: Vec<&str> = report
        .plugin_log
        .iter()
        .filter(|(p, _)| p == "frozen")
        .map(|(_, l)| l.as_str())
        .collect();
    insta::assert_snapshot!("frozen_0_2_0_facts", portable(&log.join("\n")));
}

#[test]
fn a_plugin_of_another_contract_version_is_refused_naming_both_versions() {
    let bytes = std::fs::read(guests::OLD_CONTRACT).unwrap();
    let e = engine().load_plugin(&bytes).expect_err("must be refused");
    assert_eq!(e.kind(), ErrorKind::ContractVersion);
    assert!(
        e.message()
            .contains("built for palisade:policy@0.1.0, this host speaks palisade:policy@0.2.3"),
        "{e}"
    );
}

/// `--only-plugins`: a plugin under development runs alone, with the
/// policy set's roles and settings but none of its plugins.
#[test]
fn a_policy_set_without_its_plugins_runs_only_the_extra_ones() {
    let bytes = std::fs::read(guests::FROZEN).unwrap();
    let frozen = engine().load_plugin(&bytes).unwrap();
    let set = PolicySet::builtin_default().without_plugins();
    assert_eq!(
        set.excluded_namespaces(),
        PolicySet::builtin_default().excluded_namespaces()
    );
    let report = engine().checker(&set, vec![frozen]).unwrap().check(&demo());
    assert!(report.diagnostics.is_empty(), "{:#?}", report.diagnostics);
    assert_eq!(report.summary.plugins, 1);
    assert!(!report.findings.is_empty());
    // The host's own findings (`PAL…`) stay; no built-in plugin's.
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.rule == "FRZ001" || f.rule.starts_with("PAL")),
        "{:?}",
        report.findings.iter().map(|f| &f.rule).collect::<Vec<_>>()
    );
}

/// `--plugin FILE` during development: it takes the place of the entry
/// that names its ID (`plugin: ID`) or its file (pin not checked), with that
/// entry's settings; a policy set without it still refuses to run.
#[test]
fn a_plugin_given_on_the_command_line_takes_its_entry_s_place() {
    let zeros = "0".repeat(64);
    let entries = [
        "- plugin: frozen".to_string(),
        format!("- path: {}\n      sha256: \"{zeros}\"", guests::FROZEN),
    ];
    for entry in entries {
        let text = format!(
            "apiVersion: palisade.dev/v1alpha1\nkind: PolicySet\nspec:\n  plugins:\n    {entry}\n"
        );
        let set = PolicySet::parse("dev.yaml", &text).unwrap();
        // Without the file: refused, at the entry (or its pin).
        let e = engine().checker(&set, Vec::new()).expect_err(&entry);
        let line = e.location().map(|l| l.line);
        if entry.contains("plugin:") {
            assert!(
                e.message().contains("give its file with `--plugin FILE`"),
                "{e}"
            );
            assert_eq!(line, Some(5), "{e}");
        } else {
            assert_eq!(e.kind(), ErrorKind::Checksum, "{e}");
            assert_eq!(line, Some(6), "the pin's line: {e}");
        }
        // With it: one plugin, the one given, unpinned.
        let dev = engine()
            .load_plugin_file(std::path::Path::new(guests::FROZEN))
            .unwrap();
        let report = engine().checker(&set, vec![dev]).unwrap().check(&demo());
        assert!(report.diagnostics.is_empty(), "{:#?}", report.diagnostics);
        assert_eq!(report.summary.plugins, 1, "{entry}");
        assert!(report.findings.iter().any(|f| f.rule == "FRZ001"));
    }
    // An entry must say what it is, one way.
    let both = "apiVersion: palisade.dev/v1alpha1\nkind: PolicySet\nspec:\n  plugins:\n    - plugin: frozen\n      builtin: squid\n";
    let e = PolicySet::parse("both.yaml", both).unwrap_err();
    assert!(e.message().contains("`plugin: ID`"), "{e}");
}

/// The SDK builds against its own copy of the contract (so that it can be
/// packaged and used outside this workspace); the copy is the contract.
#[test]
fn the_sdk_carries_the_contract_unchanged() {
    let root = workspace();
    let contract = std::fs::read_to_string(root.join("wit/policy.wit")).unwrap();
    for sdk in [
        "plugins/sdk",
        "plugins/sdk-python/palisade_sdk",
        "plugins/sdk-js",
    ] {
        let carried = std::fs::read_to_string(root.join(sdk).join("wit/policy.wit")).unwrap();
        assert!(
            carried == contract,
            "{sdk}/wit/policy.wit differs from wit/policy.wit: copy the contract into the SDK"
        );
    }
    // The JavaScript SDK imports the contract's interfaces by versioned name.
    let version = contract
        .lines()
        .find_map(|l| l.strip_prefix("package palisade:policy@"))
        .and_then(|v| v.strip_suffix(';'))
        .unwrap();
    let js = std::fs::read_to_string(root.join("plugins/sdk-js/palisade.js")).unwrap();
    let imports: Vec<&str> = js
        .lines()
        .filter_map(|l| l.split("from 'palisade:policy/").nth(1))
        .collect();
    assert_eq!(imports.len(), 5, "{imports:?}");
    for import in imports {
        assert!(
            import.contains(&format!("@{version}'")),
            "plugins/sdk-js/palisade.js imports `{import}`, not version {version}"
        );
    }
}

/// Within 0.2, types never change and functions are never removed: the
/// current contract, without what 0.2.1 added, is the frozen 0.2.0 text.
#[test]
fn the_current_contract_holds_0_2_0_unchanged() {
    let root = workspace();
    let current = std::fs::read_to_string(root.join("wit/policy.wit")).unwrap();
    let frozen = std::fs::read_to_string(root.join("tests/wit-0.2.0/policy.wit")).unwrap();
    let frozen: String = frozen
        .lines()
        .filter(|l| !l.starts_with("//") || l.starts_with("///"))
        .map(|l| format!("{l}\n"))
        .collect();
    // 0.2.1 added `ports`, 0.2.2 `cloud`, 0.2.3 `observed`: consecutive interfaces before
    // `log`, and their imports.
    let start = current.find("/// Facts added in 0.2.1.").unwrap();
    let end = current.find("/// Logging.").unwrap();
    let without_0_2_1 = format!("{}{}", &current[..start], &current[end..])
        .replace(
            "package palisade:policy@0.2.3;",
            "package palisade:policy@0.2.0;",
        )
        .replace("    import ports;\n", "")
        .replace("    import cloud;\n", "")
        .replace("    import observed;\n", "");
    assert_eq!(without_0_2_1, frozen);
}

/// Plugins judge; the host computes meaning. A built-in plugin that
/// depends on `serde_json` would be parsing object text again.
#[test]
fn no_built_in_plugin_parses_json() {
    let root = workspace().join("plugins");
    for plugin in [
        "default-deny",
        "proxy-egress",
        "rbac-control-paths",
        "squid",
    ] {
        let dir = root.join(plugin);
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert!(
            !manifest.contains("serde_json"),
            "plugins/{plugin}/Cargo.toml depends on serde_json"
        );
        let source = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
        for forbidden in ["serde_json", "raw_json", ".label(", "Labels as"] {
            assert!(
                !source.contains(forbidden),
                "plugins/{plugin}/src/lib.rs uses `{forbidden}`: plugins read facts, not object text or labels"
            );
        }
    }
}

/// Suppression is one stage: a baseline given to the checker takes out the
/// findings it holds after exemptions, keeps them in `Report::baselined`,
/// and counts what no longer occurs.
#[test]
fn a_baseline_suppresses_in_the_same_stage_as_exemptions() {
    let checker = engine()
        .checker(&PolicySet::builtin_default(), Vec::new())
        .unwrap();
    let first = checker.check(&demo());
    assert!(!first.findings.is_empty());
    let text = palisade::Baseline::render(&first.findings);
    let baseline = palisade::Baseline::parse("baseline.json", &text).unwrap();
    let again = checker.with_baseline(baseline).check(&demo());
    assert!(again.findings.is_empty(), "{:#?}", again.findings);
    assert_eq!(again.baselined, first.findings);
    assert_eq!(again.summary.baselined, first.findings.len());
    assert_eq!(again.summary.baseline_stale, 0);
}

/// Settings are checked by the host against what the plugin declares,
/// before the plugin runs, and the error is at the offending field.
#[test]
fn settings_a_plugin_does_not_declare_are_refused_at_their_field() {
    let policy = PolicySet::parse(
        "policy.yaml",
        "apiVersion: palisade.dev/v1alpha1\nkind: PolicySet\nmetadata: {name: p}\nspec:\n  plugins:\n    - builtin: squid\n      settings:\n        allowedDestinations: [.github.com]\n        clientCidrs: [10.0.0.0/8]\n",
    )
    .unwrap();
    let e = engine().checker(&policy, Vec::new()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidSettings);
    assert!(
        e.message().contains("unknown setting `clientCidrs`")
            && e.message().contains("allowedDestinations, outsideClient"),
        "{e}"
    );
    let at = e.location().expect("located");
    assert_eq!((at.file.as_str(), at.line), ("policy.yaml", 9), "{e}");

    let policy = PolicySet::parse(
        "policy.yaml",
        "apiVersion: palisade.dev/v1alpha1\nkind: PolicySet\nmetadata: {name: p}\nspec:\n  plugins:\n    - builtin: squid\n      settings:\n        allowedDestinations: [.github.com, 7]\n",
    )
    .unwrap();
    let e = engine().checker(&policy, Vec::new()).unwrap_err();
    assert!(e.message().contains("must be a list of strings"), "{e}");
    assert_eq!(e.location().map(|l| l.line), Some(8), "{e}");
}

/// Roles are checked where they are written.
#[test]
fn roles_are_checked_where_they_are_written() {
    let e = PolicySet::parse(
        "policy.yaml",
        "apiVersion: palisade.dev/v1alpha1\nkind: PolicySet\nmetadata: {name: p}\nspec:\n  roles:\n    proxy:\n      clientCidrs: [10.0.0.0/8, ten]\n",
    )
    .unwrap_err();
    assert!(e.message().contains("`ten` is not a CIDR"), "{e}");
    assert_eq!(e.location().map(|l| l.line), Some(7), "{e}");
    let e = PolicySet::parse(
        "policy.yaml",
        "apiVersion: palisade.dev/v1alpha1\nkind: PolicySet\nmetadata: {name: p}\nspec:\n  roles:\n    admins: [{kind: ServiceAccount, name: deployer}]\n",
    )
    .unwrap_err();
    assert!(e.message().contains("needs its namespace"), "{e}");
}

/// Files parsed and plugins evaluated on several threads give the report
/// one thread gives, byte for byte (the demo's five files, and the
/// repository fixture's many, diagnostics included).
#[test]
fn the_report_is_the_same_whatever_the_number_of_threads() {
    let checker = engine()
        .checker(&PolicySet::builtin_default(), Vec::new())
        .unwrap();
    for inputs in [
        demo(),
        Inputs::new().path(workspace().join("tests/fixtures/repo")),
    ] {
        let one = palisade::render::json(&checker.clone().with_jobs(1).check(&inputs));
        for jobs in [2, 3, 8] {
            let many = palisade::render::json(&checker.clone().with_jobs(jobs).check(&inputs));
            assert_eq!(one, many, "{jobs} threads");
        }
    }
}

//! Hostile plugins end within their limits with the right typed error, the
//! other plugins' results survive, and the next evaluation in the same
//! process works.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed expectation should abort the test"
)]

use palisade::{DiagnosticKind, ErrorKind, Inputs, PluginFailure, PolicySet, Report};
use palisade_tests::{engine, guests};

const INPUT: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n";

/// A policy set running the hostile guest (pinned by hash) with `behaviour`,
/// next to the built-in default-deny plugin.
fn policy(behaviour: &str) -> PolicySet {
    let bytes = std::fs::read(guests::HOSTILE).expect("hostile guest is built by build.rs");
    let engine = engine();
    let sha = engine
        .load_plugin(&bytes)
        .expect("hostile guest loads")
        .sha256()
        .to_string();
    let text = format!(
        "apiVersion: palisade.dev/v1alpha1\nkind: PolicySet\nmetadata: {{name: hostile}}\nspec:\n  plugins:\n    - builtin: default-deny\n    - path: {}\n      sha256: {sha}\n      settings: {{behaviour: {behaviour}}}\n",
        guests::HOSTILE
    );
    PolicySet::parse("hostile.yaml", &text).expect("policy parses")
}

fn run(behaviour: &str) -> Report {
    let checker = engine()
        .checker(&policy(behaviour), Vec::new())
        .expect("checker");
    checker.check(&Inputs::new().text("ns.yaml", INPUT))
}

/// The hostile plugin's single diagnostic: (cause, message).
fn failure(report: &Report) -> (PluginFailure, String) {
    let plugin: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.kind == DiagnosticKind::Plugin)
        .collect();
    assert_eq!(plugin.len(), 1, "{:#?}", report.diagnostics);
    let d = plugin[0];
    assert_eq!(d.plugin.as_deref(), Some("hostile"));
    (
        d.cause.expect("plugin diagnostics have a cause"),
        d.message.clone(),
    )
}

/// After any failure, a well-behaved evaluation in the same process works.
fn still_works() {
    let report = run("ok");
    assert!(report.diagnostics.is_empty(), "{:#?}", report.diagnostics);
    assert_eq!(palisade_tests::rules(&report), ["HOSTILE001"]);
    assert_eq!(
        report.plugin_log,
        [("hostile".to_string(), "info: saw 1 objects".to_string())]
    );
}

macro_rules! hostile {
    ($($name:ident: $behaviour:literal => $cause:expr, $needle:literal;)*) => {$(
        #[test]
        fn $name() {
            let started = std::time::Instant::now();
            let report = run($behaviour);
            let (cause, message) = failure(&report);
            assert_eq!(cause, $cause, "{message}");
            assert!(message.contains($needle), "`{message}` lacks `{}`", $needle);
            assert!(message.starts_with("plugin `hostile` "), "{message}");
            // Generous bound: fuel ends a loop in well under a second; this
            // only catches a limit that is not enforced at all.
            assert!(started.elapsed().as_secs() < 30);
            still_works();
        }
    )*};
}

hostile! {
    infinite_loop_runs_out_of_fuel: "loop" => PluginFailure::OutOfFuel, "more than 400000000 + 2000000 × 1 objects = 402000000 instructions";
    unbounded_allocation_hits_memory_cap: "alloc" => PluginFailure::MemoryLimit, "memory limit of 64 MiB";
    deep_recursion_overflows_the_stack: "recurse" => PluginFailure::StackOverflow, "stack";
    panic_is_reported_with_its_message: "panic" => PluginFailure::Panic, "plugin bug: deliberate panic";
    too_many_findings: "many-findings" => PluginFailure::OutputLimit, "20000 findings";
    oversized_message: "huge-message" => PluginFailure::OutputLimit, "bytes of findings";
    undeclared_rule_is_malformed: "undeclared-rule" => PluginFailure::MalformedOutput, "undeclared rule `NOPE001`";
    unknown_object_is_malformed: "unknown-object" => PluginFailure::MalformedOutput, "object 1000000";
    bad_path_is_malformed: "bad-path" => PluginFailure::MalformedOutput, "not a JSON pointer";
    plugin_error_is_reported: "error" => PluginFailure::PluginError, "cannot evaluate this";
    wasi_call_traps: "wasi-call" => PluginFailure::Trap, "wasi:cli/environment";
}

/// The wall clock is only a backstop: with fuel to spare, a deadline still
/// ends a loop.
#[test]
fn the_deadline_backstops_fuel() {
    let engine = palisade::Engine::builder()
        .fuel(u64::MAX)
        .timeout(std::time::Duration::from_millis(200))
        .build()
        .unwrap();
    let report = engine
        .checker(&policy("loop"), Vec::new())
        .unwrap()
        .check(&Inputs::new().text("ns.yaml", INPUT));
    let (cause, message) = failure(&report);
    assert_eq!(cause, PluginFailure::Timeout, "{message}");
    assert!(
        message.contains("wall-clock deadline of 200 ms"),
        "{message}"
    );
}

/// Host work a plugin causes is the plugin's: proxy verdicts over a long
/// squid configuration are priced against its fuel, and the call that
/// cannot pay is refused before the host does its work (such questions
/// used to run outside every budget, for minutes).
#[test]
fn host_work_for_queries_counts_against_the_plugin() {
    let mut squid = String::from("acl clients src 10.0.0.0/8\n");
    for i in 0..20_000 {
        squid.push_str(&format!(
            "acl d{i} dstdomain .d{i}.example\nhttp_access deny d{i}\n"
        ));
    }
    squid.push_str("http_access allow clients\nhttp_access deny all\n");
    let started = std::time::Instant::now();
    let checker = engine()
        .checker(&policy("many-queries"), Vec::new())
        .unwrap();
    let report = checker.check(
        &Inputs::new()
            .text("ns.yaml", INPUT)
            .text("squid.conf", squid.as_str()),
    );
    let (cause, message) = failure(&report);
    assert_eq!(cause, PluginFailure::OutOfFuel, "{message}");
    assert!(message.contains("host work"), "{message}");
    assert!(started.elapsed().as_secs() < 30);
    still_works();
}

/// Selector matching the host does for a plugin is priced by the selector's
/// size too: a huge selector asked about a thousand times runs out of fuel
/// instead of costing the host seconds.
#[test]
fn host_work_for_a_huge_selector_counts_against_the_plugin() {
    // Each call costs the guest instructions (lowering the selector) and
    // then host work; which of the two the budget ends in depends on where
    // it ends. Fuel is deterministic, so a budget that ends in host work
    // does so every time: 400 200 000 in all, as before the per-object
    // allowance grew.
    let engine = palisade::Engine::builder()
        .fuel(400_200_000 - 2_000_000)
        .timeout(std::time::Duration::from_secs(60))
        .memory_limit(64 << 20)
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let report = engine
        .checker(&policy("big-selector"), Vec::new())
        .expect("checker")
        .check(&Inputs::new().text("ns.yaml", INPUT));
    let (cause, message) = failure(&report);
    assert_eq!(cause, PluginFailure::OutOfFuel, "{message}");
    assert!(message.contains("host work"), "{message}");
    assert!(started.elapsed().as_secs() < 30);
    still_works();
}

#[test]
fn other_plugins_still_report_when_one_fails() {
    let report = run("loop");
    // default-deny ran: the namespace has no workloads, so no findings, but
    // the report counts both plugins and only one failure.
    assert_eq!(report.summary.plugins, 2);
    assert_eq!(report.diagnostics.len(), 1);
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx}]}\n";
    let checker = engine().checker(&policy("panic"), Vec::new()).unwrap();
    let report = checker.check(&Inputs::new().text("web.yaml", deployment));
    assert_eq!(palisade_tests::rules(&report), ["NP001", "NP002"]);
    assert_eq!(report.diagnostics.len(), 1);
}

fn load_error(path: &str) -> palisade::Error {
    let bytes = std::fs::read(path).expect("guest is built by build.rs");
    engine().load_plugin(&bytes).expect_err("must be rejected")
}

#[test]
fn filesystem_import_is_rejected_at_load() {
    let e = load_error(guests::ESCAPE_FS);
    assert_eq!(e.kind(), ErrorKind::ForbiddenImport);
    assert!(e.message().contains("`wasi:filesystem/"), "{e}");
    still_works();
}

#[test]
fn socket_import_is_rejected_at_load() {
    let e = load_error(guests::ESCAPE_NET);
    assert_eq!(e.kind(), ErrorKind::ForbiddenImport);
    assert!(e.message().contains("`wasi:sockets/"), "{e}");
    still_works();
}

#[test]
fn component_of_another_world_is_rejected() {
    let e = load_error(guests::WRONG_WORLD);
    assert_eq!(e.kind(), ErrorKind::WrongWorld);
    assert!(
        e.message()
            .contains("`palisade:policy/policy-plugin` world"),
        "{e}"
    );
    still_works();
}

#[test]
fn bytes_that_are_not_a_component_are_rejected() {
    let e = engine()
        .load_plugin(b"\0asm not really")
        .expect_err("garbage");
    assert_eq!(e.kind(), ErrorKind::Plugin);
    still_works();
}

#[test]
fn a_pinned_hash_mismatch_is_an_error() {
    let text = format!(
        "apiVersion: palisade.dev/v1alpha1\nkind: PolicySet\nspec:\n  plugins:\n    - path: {}\n      sha256: \"{}\"\n",
        guests::HOSTILE,
        "0".repeat(64)
    );
    let set = PolicySet::parse("pin.yaml", &text).unwrap();
    let e = engine().checker(&set, Vec::new()).expect_err("mismatch");
    assert_eq!(e.kind(), ErrorKind::Checksum);
    // At the pin: the line to update after a rebuild.
    assert_eq!(e.location().map(|l| l.line), Some(6));
}

#[test]
fn invalid_settings_point_into_the_policy_set() {
    let set = policy("teleport");
    let e = engine().checker(&set, Vec::new()).expect_err("rejected");
    assert_eq!(e.kind(), ErrorKind::InvalidSettings);
    assert!(e.message().contains("unknown behaviour `teleport`"), "{e}");
    assert_eq!(e.location().map(|l| l.line), Some(9), "{e}");
}

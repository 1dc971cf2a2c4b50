//! ARCHITECTURE.md's layering, held against the source: in each crate,
//! every top-level module imports only modules below it (so there is no
//! import circle), and the semantics crate imports nothing of the sandbox.
//! Test modules may reach anywhere.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail by panicking"
)]

use std::path::{Path, PathBuf};

use palisade_tests::workspace;

/// palisade-core's modules, lowest first.
const CORE: &[&str] = &[
    "parallel",
    "report",
    "address",
    "error",
    "fsutil",
    "facts",
    "network_plugin",
    "traffic_kinds",
    "kinds",
    "input",
    "squid",
    "cloud",
    "model",
    "traffic",
    "netpol",
    "rbac",
    "roles",
    "proxylog",
];

/// The crate-root re-exports of palisade-core, by module.
const CORE_ROOT: &[(&str, &str)] = &[
    ("Error", "error"),
    ("ErrorKind", "error"),
    ("Inputs", "input"),
    ("NetworkPlugin", "network_plugin"),
    ("Diagnostic", "report"),
    ("Finding", "report"),
    ("Location", "report"),
    ("ObjectRef", "report"),
    ("RuleInfo", "report"),
    ("Severity", "report"),
    ("SquidOptions", "squid"),
];

/// The palisade crate's modules, lowest first; `core` stands for every
/// module of palisade-core the crate re-exports (below all of its own).
const HOST: &[&str] = &[
    "core", "wit", "fsutil", "exempt", "report", "render", "identity", "settings", "policy",
    "cache", "contract", "path", "audit", "runtime", "engine", "suite", "testing", "fuzzing",
];

/// The palisade crate's root re-exports, by module.
const HOST_ROOT: &[(&str, &str)] = &[
    ("Baseline", "exempt"),
    ("Date", "exempt"),
    ("EXEMPT_ANNOTATION", "exempt"),
    ("Exemptions", "exempt"),
    ("Exempted", "exempt"),
    ("RULE_ID_PATTERN", "identity"),
    ("Plugin", "engine"),
    ("Engine", "engine"),
    ("Checker", "engine"),
    ("PolicySet", "policy"),
    ("Report", "report"),
    ("Summary", "report"),
    ("RuleInfo", "report"),
    ("Finding", "report"),
    ("Diagnostic", "report"),
    ("Location", "report"),
    ("ObjectRef", "report"),
    ("Severity", "report"),
    ("PluginFailure", "report"),
];

/// Re-exported palisade-core modules, which count as `core` in the host.
const CORE_IN_HOST: &[&str] = &[
    "address",
    "cloud",
    "error",
    "proxylog",
    "facts",
    "input",
    "parallel",
    "kinds",
    "model",
    "netpol",
    "rbac",
    "roles",
    "squid",
    "traffic",
    "Inputs",
    "NetworkAnalysis",
    "NetworkPlugin",
    "ProxyConfig",
    "SquidOptions",
    "Trace",
    "Error",
    "ErrorKind",
];

/// The source files of a top-level module (`name.rs`, or `name/`).
fn files(src: &Path, module: &str) -> Vec<PathBuf> {
    let file = src.join(format!("{module}.rs"));
    if file.exists() {
        return vec![file];
    }
    let mut out = Vec::new();
    let mut stack = vec![src.join(module)];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs")
                // `#[cfg(test)] mod tests;` files.
                && path.file_stem().is_some_and(|s| s != "tests")
            {
                out.push(path);
            }
        }
    }
    assert!(
        !out.is_empty(),
        "no module `{module}` under {}",
        src.display()
    );
    out
}

/// The code of a file without comments and without its `mod tests` block.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The first path segments after `crate::`, groups (`crate::{a, b::c}`)
/// included.
fn crate_references(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = group.split('}').next().unwrap_or("");
            for item in inner.split(',') {
                let first = item.trim().split("::").next().unwrap_or("").trim();
                if !first.is_empty() {
                    out.push(first.to_string());
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.push(name);
        }
    }
    out
}

fn check_layers(
    src: &Path,
    layers: &[&str],
    root: &[(&str, &str)],
    lowest: &[&str],
) -> Vec<String> {
    let rank = |name: &str| -> Option<usize> {
        if lowest.contains(&name) {
            return Some(0);
        }
        let module = root
            .iter()
            .find(|(item, _)| *item == name)
            .map_or(name, |(_, m)| m);
        layers.iter().position(|l| *l == module)
    };
    let mut problems = Vec::new();
    for (level, module) in layers.iter().enumerate() {
        if *module == "core" {
            continue;
        }
        for file in files(src, module) {
            let text = std::fs::read_to_string(&file).unwrap();
            for name in crate_references(&code(&text)) {
                match rank(&name) {
                    Some(r) if r < level || layers.get(r) == Some(module) => {}
                    Some(_) => problems.push(format!(
                        "{} (module `{module}`) imports `crate::{name}`, which is not below it",
                        file.display()
                    )),
                    None => problems.push(format!(
                        "{} (module `{module}`) imports `crate::{name}`, which no layer lists",
                        file.display()
                    )),
                }
            }
        }
    }
    problems
}

#[test]
fn the_semantics_crate_is_layered() {
    let src = workspace().join("host/core/src");
    let problems = check_layers(&src, CORE, CORE_ROOT, &[]);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Every module of the crate has its layer.
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    for line in lib.lines() {
        if let Some(m) = line.strip_prefix("pub mod ") {
            let m = m.trim_end_matches(';');
            assert!(CORE.contains(&m), "module `{m}` has no layer in this test");
        }
    }
}

#[test]
fn the_library_crate_is_layered() {
    let src = workspace().join("host/src");
    let problems = check_layers(&src, HOST, HOST_ROOT, CORE_IN_HOST);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The semantics can be reused without the sandbox: palisade-core depends
/// on no WebAssembly runtime and nothing of the palisade crate.
#[test]
fn the_semantics_crate_has_no_sandbox() {
    let manifest = std::fs::read_to_string(workspace().join("host/core/Cargo.toml")).unwrap();
    for forbidden in ["wasmtime", "palisade =", "palisade = ", "path = \"..\""] {
        assert!(
            !manifest.contains(forbidden),
            "host/core/Cargo.toml mentions `{forbidden}`"
        );
    }
}

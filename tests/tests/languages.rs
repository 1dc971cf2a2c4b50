//! Plugins in Python and JavaScript: the SDKs build them with the registries'
//! toolchains, the sandbox runs them with no ambient authority (a hostile
//! guest fails contained, and the next evaluation works), and one rule
//! written in Rust, Python and JavaScript gives the same findings.
//!
//! The toolchains (componentize-py from PyPI, componentize-js and jco from
//! npm) are installed by `.ci/guest-tools/install` into
//! `/opt/palisade-guest-tools` (or `PALISADE_GUEST_TOOLS`); `.ci/run` does it
//! first, and on a machine without them the first test does it
//! (`PALISADE_NO_INSTALL=1` makes that a clear failure instead).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed expectation should abort the test"
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use palisade::suite::Suite;
use palisade::{DiagnosticKind, ErrorKind, Inputs, PluginFailure, PolicySet, Report};
use palisade_tests::{engine, guests, workspace};

/// Where the toolchains are.
struct Tools {
    componentize_py: PathBuf,
    componentize_js: PathBuf,
    js_dir: PathBuf,
}

fn tools() -> &'static Tools {
    static TOOLS: OnceLock<Tools> = OnceLock::new();
    TOOLS.get_or_init(|| {
        let dir = std::env::var_os("PALISADE_GUEST_TOOLS")
            .map_or_else(|| PathBuf::from("/opt/palisade-guest-tools"), PathBuf::from);
        // A no-op when the pinned versions are there.
        let script = workspace().join(".ci/guest-tools/install");
        let out = Command::new("bash")
            .arg(&script)
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "installing the plugin toolchains failed (`bash {} {}`):\n{}{}",
            script.display(),
            dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Tools {
            componentize_py: dir.join("py/bin/componentize-py"),
            componentize_js: dir.join("js/node_modules/.bin/componentize-js"),
            js_dir: dir.join("js"),
        }
    })
}

/// A private scratch directory for this test binary's builds.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("languages")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Builds the Python app in `dir` (module `app`) with the repository's SDK.
fn build_python(dir: &Path, out: &Path, stub_wasi: bool) {
    let root = workspace();
    let mut cmd = Command::new(&tools().componentize_py);
    cmd.current_dir(out.parent().unwrap_or(&root))
        .arg("-d")
        .arg(root.join("wit"))
        .args(["-w", "policy-plugin", "componentize", "-p"])
        .arg(dir)
        .arg("-p")
        .arg(root.join("plugins/sdk-python"))
        .arg("app")
        .arg("-o")
        .arg(out);
    if stub_wasi {
        cmd.arg("--stub-wasi");
    }
    // Nothing of this process's environment goes into the component.
    cmd.env("PYTHONDONTWRITEBYTECODE", "1");
    run(&mut cmd, &format!("componentize-py on {}", dir.display()));
}

/// Builds the JavaScript app `app.js` of `dir` with the repository's SDK:
/// copied, with the SDK beside it, into a scratch directory
/// (componentize-js reads modules below the source's directory only).
fn build_js(dir: &Path, out: &Path) {
    let src = scratch(&format!(
        "{}-src",
        out.file_stem().unwrap().to_string_lossy()
    ));
    std::fs::create_dir_all(src.join("sdk")).unwrap();
    std::fs::copy(dir.join("app.js"), src.join("app.js")).unwrap();
    std::fs::copy(
        workspace().join("plugins/sdk-js/palisade.js"),
        src.join("sdk/palisade.js"),
    )
    .unwrap();
    let mut cmd = Command::new(&tools().componentize_js);
    cmd.current_dir(&src)
        .arg("app.js")
        .arg("-w")
        .arg(workspace().join("wit"))
        .args([
            "-n",
            "policy-plugin",
            "-d",
            "stdio",
            "random",
            "clocks",
            "http",
        ])
        .args(["fetch-event", "-o"])
        .arg(out);
    run(&mut cmd, &format!("componentize-js on {}", dir.display()));
}

/// Each component is built once per test run.
fn built(name: &'static str, build: impl FnOnce(&Path)) -> PathBuf {
    static BUILT: OnceLock<std::sync::Mutex<Vec<(&'static str, PathBuf)>>> = OnceLock::new();
    let lock = BUILT.get_or_init(Default::default);
    let mut done = lock.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, p)) = done.iter().find(|(n, _)| *n == name) {
        return p.clone();
    }
    let out = scratch(name).join(format!("{name}.wasm"));
    build(&out);
    done.push((name, out.clone()));
    out
}

fn example(lang: &str) -> PathBuf {
    workspace()
        .join("plugins/examples/proxy-clients")
        .join(lang)
}

/// The three builds of proxy-clients: Rust (built by build.rs with the
/// other guests), Python and JavaScript (by their `build.sh`).
fn proxy_clients() -> [(&'static str, PathBuf); 3] {
    let python = built("proxy-clients-python", |out| {
        let mut cmd = Command::new("sh");
        cmd.arg(example("python").join("build.sh"))
            .arg(out)
            .env("COMPONENTIZE_PY", &tools().componentize_py)
            .env("PYTHONDONTWRITEBYTECODE", "1");
        run(&mut cmd, "plugins/examples/proxy-clients/python/build.sh");
    });
    let js = built("proxy-clients-js", |out| {
        let mut cmd = Command::new("sh");
        cmd.arg(example("js").join("build.sh"))
            .arg(out)
            .env("COMPONENTIZE_JS", &tools().componentize_js);
        run(&mut cmd, "plugins/examples/proxy-clients/js/build.sh");
    });
    [
        ("rust", PathBuf::from(guests::PROXY_CLIENTS_RUST)),
        ("python", python),
        ("js", js),
    ]
}

fn load(path: &Path) -> palisade::Plugin {
    engine()
        .load_plugin_file(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every finding of every case of the shared suite, as JSON lines.
fn suite_findings(plugin: palisade::Plugin) -> Vec<String> {
    let suite = Suite::load(&example("suite").join("suite.yaml")).unwrap();
    let checker = suite.checker_with(engine(), vec![plugin]).unwrap();
    let mut lines = Vec::new();
    for (i, name) in suite.case_names().iter().enumerate() {
        let (result, report) = suite.run_case(&checker, i).unwrap();
        assert!(
            result.passed() && result.errors.is_empty(),
            "case {name}: {result:#?}"
        );
        for f in &report.findings {
            let mut json = serde_json::to_value(f).unwrap();
            if let Some(location) = json.get_mut("location").and_then(|l| l.get_mut("file")) {
                let file = location.as_str().unwrap_or_default().to_string();
                *location = palisade_tests::portable(&file).into();
            }
            lines.push(json.to_string());
        }
    }
    lines
}

#[test]
fn one_rule_in_three_languages_passes_one_suite_with_the_same_findings() {
    let [(_, rust), (_, python), (_, js)] = proxy_clients();
    let expected = suite_findings(load(&rust));
    assert_eq!(expected.len(), 4, "{expected:#?}");
    for (lang, path) in [("python", python), ("js", js)] {
        let found = suite_findings(load(&path));
        assert_eq!(found, expected, "{lang} differs from rust");
    }
    insta::assert_snapshot!(expected.join("\n"));
}

#[test]
fn settings_are_checked_alike_in_three_languages() {
    for (lang, path) in proxy_clients() {
        let policy = |settings: &str| {
            let text = format!(
                "apiVersion: palisade.dev/v1alpha1\nkind: PolicySet\nspec:\n  plugins:\n    - plugin: proxy-clients\n      settings: {settings}\n"
            );
            let policy = PolicySet::parse("p.yaml", &text).unwrap();
            engine().checker(&policy, vec![load(&path)])
        };
        // The plugin's own check (`validate`), located at the settings.
        let e = policy("{ownerLabel: ''}").expect_err(lang);
        assert_eq!(e.kind(), ErrorKind::InvalidSettings, "{lang}: {e}");
        assert!(
            e.message().contains("ownerLabel must not be empty"),
            "{lang}: {e}"
        );
        assert_eq!(e.location().map(|l| l.line), Some(6), "{lang}: {e}");
        // The host's, from the declared types, before the plugin sees them.
        let e = policy("{proxyHosts: squid}").expect_err(lang);
        assert!(e.message().contains("proxyHosts"), "{lang}: {e}");
        let e = policy("{ownerLabels: x}").expect_err(lang);
        assert!(
            e.message().contains("unknown setting `ownerLabels`"),
            "{lang}: {e}"
        );
        // Accepted settings change what the rule asks.
        let checker = policy("{ownerLabel: team}").unwrap();
        let input = example("suite").join("fail-unconfigured.yaml");
        let report = checker.check(&Inputs::new().path(&input));
        assert!(
            report
                .findings
                .iter()
                .all(|f| !f.message.contains("no `team` label")),
            "{lang}: the object's own `team` label is there: {:#?}",
            report.findings
        );
    }
}

const NS: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n";

/// Runs a hostile guest (`id`, built at `path`) with `behaviour`.
fn hostile(id: &str, path: &Path, behaviour: &str) -> Report {
    let text = format!(
        "apiVersion: palisade.dev/v1alpha1\nkind: PolicySet\nspec:\n  plugins:\n    - plugin: {id}\n      settings: {{behaviour: {behaviour}}}\n"
    );
    let policy = PolicySet::parse("hostile.yaml", &text).unwrap();
    let checker = engine().checker(&policy, vec![load(path)]).unwrap();
    checker.check(&Inputs::new().text("ns.yaml", NS))
}

/// The guest's one finding's message, or its failure.
fn outcome(report: &Report) -> Result<String, (PluginFailure, String)> {
    let failures: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.kind == DiagnosticKind::Plugin)
        .collect();
    match (failures.as_slice(), report.findings.as_slice()) {
        ([], [f]) => Ok(f.message.clone()),
        ([d], []) => Err((d.cause.unwrap(), d.message.clone())),
        _ => panic!("{:#?} {:#?}", report.diagnostics, report.findings),
    }
}

/// After any failure, a well-behaved evaluation in the same process works,
/// and `print`/`console.log` reach the plugin's log.
fn still_works(id: &str, path: &Path) {
    let report = hostile(id, path, "ok");
    assert_eq!(outcome(&report), Ok("ok".to_string()));
    assert_eq!(
        report.plugin_log,
        [(id.to_string(), "info: saw 1 objects".to_string())]
    );
}

fn hostile_python() -> PathBuf {
    built("hostile-python", |out| {
        build_python(&workspace().join("tests/foreign-guests/python"), out, true);
    })
}

fn hostile_js() -> PathBuf {
    built("hostile-js", |out| {
        build_js(&workspace().join("tests/foreign-guests/js"), out);
    })
}

/// Contracts 0.2.2 and 0.2.3 from Python and JavaScript: the cloud network,
/// a placement, a reach verdict and the access-log calls of the insecure
/// demo, seen alike by both guests.
#[test]
fn python_and_javascript_guests_read_cloud_and_access_log_facts() {
    let text = "apiVersion: palisade.dev/v1alpha1\nkind: PolicySet\nspec:\n  cloud:\n    nodes:\n      subnets: [{tags: {palisade.dev/layer: workloads}}]\n      securityGroups: [{tags: {palisade.dev/layer: workloads}}]\n  plugins:\n    - plugin: ID\n      settings: {behaviour: facts}\n";
    let demo = Inputs::new().path(workspace().join("tests/demo/insecure"));
    for (id, path) in [
        ("hostile-py", hostile_python()),
        ("hostile-js", hostile_js()),
    ] {
        let policy = PolicySet::parse("facts.yaml", &text.replace("ID", id)).unwrap();
        let report = engine()
            .checker(&policy, vec![load(&path)])
            .unwrap()
            .check(&demo);
        assert!(
            report.diagnostics.is_empty(),
            "{id}: {:#?}",
            report.diagnostics
        );
        assert_eq!(
            outcome(&report),
            Ok(
                "1 vpcs, 4 subnets, 2 groups, 7 calls (6 allowed), 5 placed, reach allowed"
                    .to_string()
            ),
            "{id}"
        );
    }
}

#[test]
fn a_hostile_python_guest_is_contained() {
    let path = hostile_python();
    still_works("hostile-py", &path);
    // Files, sockets, the clock and randomness: stubbed WASI traps.
    for behaviour in ["file", "socket", "clock", "random"] {
        let (cause, message) = outcome(&hostile("hostile-py", &path, behaviour)).unwrap_err();
        assert_eq!(cause, PluginFailure::Trap, "{behaviour}: {message}");
        still_works("hostile-py", &path);
    }
    // The environment is empty: nothing of the host's (nor of the build's).
    assert_eq!(
        outcome(&hostile("hostile-py", &path, "env")),
        Ok(String::new())
    );
    still_works("hostile-py", &path);
}

#[test]
fn a_hostile_javascript_guest_is_contained() {
    let path = hostile_js();
    still_works("hostile-js", &path);
    for behaviour in ["file", "socket", "clock"] {
        let (cause, message) = outcome(&hostile("hostile-js", &path, behaviour)).unwrap_err();
        assert_eq!(cause, PluginFailure::Trap, "{behaviour}: {message}");
        still_works("hostile-js", &path);
    }
    // No `process`, so no environment.
    assert_eq!(
        outcome(&hostile("hostile-js", &path, "env")),
        Ok("null".to_string())
    );
    // StarlingMonkey's randomness is seeded at build time: every evaluation
    // draws the same numbers, so findings stay a function of the inputs.
    let first = outcome(&hostile("hostile-js", &path, "random")).unwrap();
    let second = outcome(&hostile("hostile-js", &path, "random")).unwrap();
    assert_eq!(first, second);
    still_works("hostile-js", &path);
}

#[test]
fn a_plugin_built_with_wasi_is_refused_before_it_is_compiled() {
    let path = built("hostile-python-wasi", |out| {
        build_python(&workspace().join("tests/foreign-guests/python"), out, false);
    });
    let cache = scratch("wasi-cache");
    let engine = palisade::Engine::builder()
        .cache_dir(Some(cache.clone()))
        .build()
        .unwrap();
    let e = engine.load_plugin_file(&path).expect_err("must be refused");
    assert_eq!(e.kind(), ErrorKind::ForbiddenImport, "{e}");
    for needle in [
        "`wasi:sockets/tcp@",
        "`wasi:filesystem/preopens@",
        "--stub-wasi",
    ] {
        assert!(e.message().contains(needle), "{needle}: {e}");
    }
    // Refused before compiling: nothing was compiled into the cache.
    let entries: Vec<String> = std::fs::read_dir(&cache)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n != "cache.key")
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(entries, Vec::<String>::new());
}

/// `plugins/sdk-js/types` is what `jco guest-types` makes of the WIT.
#[test]
fn the_typescript_types_are_generated_from_the_wit() {
    let out = scratch("types");
    let tools = tools();
    let mut cmd = Command::new("node");
    cmd.current_dir(&tools.js_dir)
        .args(["--import", "./preopen.mjs"])
        .arg("node_modules/@bytecodealliance/jco/dist/jco.js")
        .arg("guest-types")
        .arg(workspace().join("wit"))
        .args(["--world-name", "policy-plugin", "-q", "-o"])
        .arg(&out);
    run(&mut cmd, "jco guest-types");
    let committed = workspace().join("plugins/sdk-js/types");
    let files = |dir: &Path| {
        let mut all = Vec::new();
        for sub in ["", "interfaces"] {
            for e in std::fs::read_dir(dir.join(sub)).unwrap() {
                let p = e.unwrap().path();
                if p.is_file() {
                    let text = std::fs::read_to_string(&p).unwrap();
                    all.push((p.strip_prefix(dir).unwrap().to_path_buf(), text));
                }
            }
        }
        all.sort();
        all
    };
    assert!(
        files(&out) == files(&committed),
        "plugins/sdk-js/types is stale: regenerate it with `jco guest-types wit --world-name policy-plugin -o plugins/sdk-js/types` (see .ci/guest-tools/preopen.mjs)"
    );
}

/// The SDK's declarations (`palisade.d.ts`) describe what the example uses:
/// `tsc` type-checks the JavaScript example against them.
#[test]
fn the_javascript_example_type_checks_against_the_sdk() {
    let dir = scratch("tsc");
    std::fs::create_dir_all(dir.join("sdk/types/interfaces")).unwrap();
    let sdk = workspace().join("plugins/sdk-js");
    for file in [
        "palisade.js",
        "palisade.d.ts",
        "types/policy-plugin.d.ts",
        "types/interfaces/palisade-policy-cloud.d.ts",
        "types/interfaces/palisade-policy-facts.d.ts",
        "types/interfaces/palisade-policy-log.d.ts",
        "types/interfaces/palisade-policy-observed.d.ts",
        "types/interfaces/palisade-policy-plugin.d.ts",
        "types/interfaces/palisade-policy-ports.d.ts",
        "types/interfaces/palisade-policy-types.d.ts",
    ] {
        std::fs::copy(sdk.join(file), dir.join("sdk").join(file)).unwrap();
    }
    std::fs::copy(example("js").join("app.js"), dir.join("app.js")).unwrap();
    let mut cmd = Command::new(tools().js_dir.join("node_modules/.bin/tsc"));
    cmd.current_dir(&dir).args([
        "--noEmit",
        "--allowJs",
        "--checkJs",
        "--strict",
        "--noImplicitAny",
        "false",
        "--target",
        "es2022",
        "--module",
        "es2022",
        "--moduleResolution",
        "bundler",
        "app.js",
    ]);
    run(&mut cmd, "tsc on the JavaScript example");
}
